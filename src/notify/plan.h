/*
 * plan.h - what would be sent: incidents not yet notified, grouped into
 * batches of one contact and one AS. A contact gets at most one batch
 * per AS per its interval (a batch is "due" when its last one for the
 * same address and AS is older than the interval). ASes without a known
 * contact appear as batches with contact NULL (never sendable).
 *
 * Ownership: a plan holds the contacts it was built with (not owned) and
 * its own arrays; plan_free releases them.
 */
#ifndef SHIELD_PLAN_H
#define SHIELD_PLAN_H
#include <stddef.h>
#include <stdint.h>

struct store;
struct contacts;
struct contact;

struct plan_batch {
	uint32_t asn;
	const struct contact *contact; /* NULL: nobody known */
	long events, incidents, distinct_ips;
	int64_t first, last; /* event time span */
	int due;
	int64_t due_at; /* when not due: the earliest time it may be sent */
	int64_t *ids;	/* incident ids (only with keep_ids) */
	size_t nids, capids;
};

struct plan {
	struct plan_batch *v;
	size_t n, cap;
	long incidents, events;
};

/* plan_build - group every unbatched incident; keep_ids records the ids
 * per batch (for sending). 0 or -1 with why set. */
int plan_build(struct store *st, const struct contacts *c, int64_t now, int keep_ids,
	       struct plan *p, char *why, size_t whylen);
void plan_free(struct plan *p);

#endif
