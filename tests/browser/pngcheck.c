/*
 * pngcheck.c - is a screenshot a rendered page or a blank one? Decode a
 * PNG (8-bit grey, RGB, palette, grey+alpha or RGBA, not interlaced:
 * what Chromium writes), count its distinct colours (up to 4096) and the
 * pixels that differ from the most common one ("ink"), print
 *   WIDTHxHEIGHT, N colours, I ink pixels (P%)
 * and exit 0 when it has at least --min-colours colours (default 2) and
 * at least --min-ink per mille of ink (default 1), 1 when it does not
 * (blank), 2 when the file is not a PNG this reads.
 *
 * usage: pngcheck [--min-colours N] [--min-ink PERMILLE] FILE.png
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_BYTES (64u << 20)   /* largest file read */
#define MAX_PIXELS (64u << 20)  /* largest image decoded */
#define SET_SIZE 8192           /* colour set: power of two, > 2 * 4096 */
#define MAX_COLOURS 4096

static const char *file_name;

static int fail(const char *what)
{
	fprintf(stderr, "pngcheck: %s: %s\n", file_name, what);
	return 2;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static unsigned char paeth(unsigned char a, unsigned char b, unsigned char c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	if (pa <= pb && pa <= pc)
		return a;
	return pb <= pc ? b : c;
}

/* Undo the per-row filters in place; raw holds (1 + stride) * h bytes. */
static int unfilter(unsigned char *raw, size_t stride, size_t h, size_t bpp)
{
	size_t y, x;

	for (y = 0; y < h; y++) {
		unsigned char *row = raw + y * (stride + 1);
		unsigned char *cur = row + 1;
		unsigned char *up = y ? raw + (y - 1) * stride : NULL;

		for (x = 0; x < stride; x++) {
			unsigned char a = x >= bpp ? cur[x - bpp] : 0;
			unsigned char b = up ? up[x] : 0;
			unsigned char c = up && x >= bpp ? up[x - bpp] : 0;

			switch (row[0]) {
			case 0: break;
			case 1: cur[x] = (unsigned char)(cur[x] + a); break;
			case 2: cur[x] = (unsigned char)(cur[x] + b); break;
			case 3: cur[x] = (unsigned char)(cur[x] +
							 ((a + b) >> 1));
				break;
			case 4: cur[x] = (unsigned char)(cur[x] +
							 paeth(a, b, c));
				break;
			default: return -1;
			}
		}
		/* Shift the row left over its filter byte, so that rows
		 * end up contiguous (stride apart) for the next row's up. */
		memmove(raw + y * stride, cur, stride);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint32_t set[SET_SIZE];
	static uint64_t counts[SET_SIZE];
	static unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
					0x1a, '\n' };
	unsigned char *data = NULL, *idat = NULL, *raw = NULL;
	unsigned char pal[256 * 3];
	size_t len = 0, cap = 0, nidat = 0, pos = 8, stride, bpp, i;
	uint32_t w = 0, h = 0, ncolours = 0;
	uint64_t ink, best = 0;
	int depth = 0, ctype = -1, min_colours = 2, min_ink = 1, argi = 1;
	int channels;
	FILE *f;
	uLongf rawlen;

	while (argi + 1 < argc && argv[argi][0] == '-') {
		if (strcmp(argv[argi], "--min-colours") == 0)
			min_colours = atoi(argv[argi + 1]);
		else if (strcmp(argv[argi], "--min-ink") == 0)
			min_ink = atoi(argv[argi + 1]);
		else
			break;
		argi += 2;
	}
	if (argi + 1 != argc) {
		fprintf(stderr, "usage: pngcheck [--min-colours N] "
			"[--min-ink PERMILLE] FILE.png\n");
		return 2;
	}
	file_name = argv[argi];
	f = fopen(file_name, "rb");
	if (f == NULL)
		return fail(strerror(errno));
	for (;;) {
		size_t n;

		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > MAX_BYTES)
				return fail("file too large");
			data = realloc(data, cap);
			if (data == NULL)
				return fail("out of memory");
		}
		n = fread(data + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	if (len < 8 || memcmp(data, sig, 8) != 0)
		return fail("not a PNG file");
	memset(pal, 0, sizeof(pal));
	while (pos + 12 <= len) {
		uint32_t n = be32(data + pos);
		const unsigned char *type = data + pos + 4;
		const unsigned char *body = data + pos + 8;

		if (n > len - pos - 12)
			return fail("truncated chunk");
		if (crc32(crc32(0, type, 4), body, n) != be32(body + n))
			return fail("bad chunk CRC");
		if (memcmp(type, "IHDR", 4) == 0 && n >= 13) {
			w = be32(body);
			h = be32(body + 4);
			depth = body[8];
			ctype = body[9];
			if (body[12] != 0)
				return fail("interlaced PNG not supported");
		} else if (memcmp(type, "PLTE", 4) == 0 && n <= sizeof(pal)) {
			memcpy(pal, body, n);
		} else if (memcmp(type, "IDAT", 4) == 0) {
			idat = realloc(idat, nidat + n + 1);
			if (idat == NULL)
				return fail("out of memory");
			memcpy(idat + nidat, body, n);
			nidat += n;
		} else if (memcmp(type, "IEND", 4) == 0) {
			break;
		}
		pos += 12 + n;
	}
	channels = ctype == 0 ? 1 : ctype == 2 ? 3 : ctype == 3 ? 1 :
		   ctype == 4 ? 2 : ctype == 6 ? 4 : 0;
	if (w == 0 || h == 0 || channels == 0 || depth != 8)
		return fail("only 8-bit PNG images are read");
	if ((uint64_t)w * h > MAX_PIXELS)
		return fail("image too large");
	bpp = (size_t)channels;
	stride = (size_t)w * bpp;
	rawlen = (uLongf)((stride + 1) * h);
	raw = malloc(rawlen);
	if (raw == NULL || idat == NULL)
		return fail(raw ? "no image data" : "out of memory");
	if (uncompress(raw, &rawlen, idat, (uLong)nidat) != Z_OK ||
	    rawlen != (stride + 1) * h)
		return fail("corrupt image data");
	if (unfilter(raw, stride, h, bpp) < 0)
		return fail("bad row filter");
	for (i = 0; i < (size_t)w * h; i++) {
		const unsigned char *px = raw + i * bpp;
		uint32_t rgba, slot;

		switch (ctype) {
		case 0: rgba = (uint32_t)px[0] * 0x010101u << 8 | 0xff; break;
		case 2: rgba = be32((unsigned char[]){ px[0], px[1], px[2],
						       0xff }); break;
		case 3: rgba = be32((unsigned char[]){ pal[px[0] * 3],
						       pal[px[0] * 3 + 1],
						       pal[px[0] * 3 + 2],
						       0xff }); break;
		case 4: rgba = (uint32_t)px[0] * 0x010101u << 8 | px[1]; break;
		default: rgba = be32(px);
		}
		/* Open addressing; colour 0 (transparent black) is stored
		 * as itself too: the count tells a used slot. */
		slot = (rgba * 2654435761u) & (SET_SIZE - 1);
		while (counts[slot] && set[slot] != rgba)
			slot = (slot + 1) & (SET_SIZE - 1);
		if (counts[slot] == 0) {
			if (ncolours == MAX_COLOURS)
				continue;
			ncolours++;
			set[slot] = rgba;
		}
		if (++counts[slot] > best)
			best = counts[slot];
	}
	ink = (uint64_t)w * h - best;
	printf("%ux%u, %u%s colours, %llu ink pixels (%.1f%%)\n", w, h,
	       ncolours, ncolours == MAX_COLOURS ? "+" : "",
	       (unsigned long long)ink, 100.0 * (double)ink / ((double)w * h));
	free(data);
	free(idat);
	free(raw);
	if ((int)ncolours < min_colours ||
	    ink * 1000 < (uint64_t)min_ink * w * h)
		return 1;
	return 0;
}
