/*
 * buf.h - a growable byte buffer, always NUL-terminated, with a hard cap.
 *
 * Used by every stage for text that must outlive a record (redacted
 * messages, JSON fields, report text). The buffer owns its memory.
 */
#ifndef LOGTRIAGE_BUF_H
#define LOGTRIAGE_BUF_H

#include "common.h"

struct buf {
	char *p;     /* owned; NUL-terminated; never NULL after buf_init */
	size_t len;  /* bytes used, not counting the NUL */
	size_t cap;  /* bytes allocated */
};

/* An empty buffer that owns no memory yet; p points at a static "". */
void buf_init(struct buf *b);
/* Free the memory and return to the state of buf_init. NULL is fine. */
void buf_release(struct buf *b);
/* Empty the buffer, keeping its memory. */
static inline void buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->cap)
		b->p[0] = '\0';
}
/* Make room for n more bytes. */
void buf_grow(struct buf *b, size_t n);
void buf_add(struct buf *b, const void *p, size_t n);
static inline void buf_addch(struct buf *b, char c)
{
	if (b->len + 1 >= b->cap)
		buf_grow(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}
void buf_adds(struct buf *b, const char *s);
/* printf-style append. */
__attribute__((format(printf, 2, 3)))
void buf_addf(struct buf *b, const char *fmt, ...);
/* Append n bytes, escaping them for a JSON string body (no quotes). */
void buf_add_json_escaped(struct buf *b, const char *p, size_t n);
/*
 * Append n bytes as valid UTF-8: each invalid byte and each NUL becomes
 * U+FFFD, so that SQLite TEXT and JSON output always hold valid text.
 */
void buf_add_utf8(struct buf *b, const char *p, size_t n);
/* FNV-1a, 64 bits: a fast non-cryptographic hash of n bytes. */
uint64_t fnv1a64(const void *p, size_t n);

/* Hand the memory over to the caller (free() it); b becomes empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
