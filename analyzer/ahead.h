/*
 * ahead.h - pipeline stages 2 and 4 on the second core: a thread frames
 * the records of an input and scans each for the rules' literals, in
 * batches, ahead of the thread that parses, evaluates and stores them.
 *
 * Framing and the literal scan need nothing the later stages compute:
 * the scan looks at the whole raw record, which holds the text the rules
 * read (the message inside its envelopes) whenever that text is a part
 * of it. The evaluating thread checks that for each record and scans
 * again itself where it is not (ANSI codes stripped, enveloped lines
 * joined, a JSON guess that was wrong), so results never depend on the
 * split, only speed. Records are copied into the batch (the reader's
 * buffer moves on); diagnostics the reader prints on the framing thread
 * are captured and handed over with the record whose framing printed
 * them, so stderr keeps its order.
 */
#ifndef LOGTRIAGE_AHEAD_H
#define LOGTRIAGE_AHEAD_H
#include "common.h"
#include "record.h"
#include "rules.h"

struct ahead;

/* A framed record and what the scan found in it; valid until the next
 * ahead_next(). */
struct ahead_item {
	struct record rec;      /* text in the batch */
	const unsigned *ids;    /* pattern ids found (rules_select()) */
	size_t nids;
	bool json;              /* scanned as a JSON line */
	bool scanned;           /* scanned ahead (else ids is empty) */
	const char *diag;       /* what framing it printed: whole lines */
	size_t diag_len;
	uint64_t raw_bytes;     /* input bytes read when its batch closed */
};

/*
 * Start framing rr (initialised, primed, resumed) on a thread of its own,
 * scanning with sc (rules_scanner_new(): one for all the inputs of a run,
 * used by one thread at a time). Until ahead_stop(), rr and sc belong to
 * that thread. NULL when no thread can be started (or LOGTRIAGE_THREADS=1
 * is set): the caller frames and scans by itself.
 */
struct ahead *ahead_start(struct record_reader *rr, struct rules_scanner *sc);

/*
 * The next record, in input order: 1, or 0 at the end of the input (then
 * (*it)->diag holds what the last framing call printed, and nothing
 * else). *it points into the batch, valid until the next call.
 */
int ahead_next(struct ahead *ah, const struct ahead_item **it);

/* Stop the thread (at the end, or early) and free; NULL is fine. */
void ahead_stop(struct ahead *ah);

/*
 * May the evaluating thread use the scan of it for the text the rules read,
 * raw[0..len) as JSON or not? Only when the scan saw all of it, the same
 * way.
 */
bool ahead_covers(const struct ahead_item *it, const char *raw, size_t len,
		  bool json);

#endif
