/*
 * keyfilter.h - a Bloom filter of 64-bit keys: "certainly absent" or
 * "may be present".
 *
 * The look-up indexes Shield keeps per report (the campaign keys, the
 * stored messages, the core's submission and indicator keys) are keyed by
 * hashes, so each look-up of a key that is not there (the common case: a
 * new message, a new URL) descends to a random leaf of a large B-tree,
 * which is seldom in SQLite's page cache once the store outgrows it. A
 * filter read once from the index answers most of those in memory. It
 * must hold every key of its index (a key it lacks is taken as absent):
 * whoever owns a filter adds each key it writes to the index, and drops
 * the filter when someone else may have written (store_data_version()).
 *
 * Sizing: 16 bits per key, 4 probes: under 0.3% false positives for the
 * keys it was filled with plus `room` more (a false positive only costs
 * the look-up the filter would have saved). Adding more keys than that
 * only raises the rate; keyfilter_full() tells the owner to read it again.
 *
 * Memory: bits is owned by the filter (keyfilter_free). A zeroed struct is
 * "not built": it may hold every key.
 */
#ifndef SHIELD_KEYFILTER_H
#define SHIELD_KEYFILTER_H
#include <stddef.h>
#include <stdint.h>

#define KEYFILTER_BITS_PER_KEY 16
#define KEYFILTER_PROBES 4

struct keyfilter {
	uint64_t *bits; /* NULL: not built, every key may be present */
	uint64_t mask;	/* bit count - 1 (a power of two) */
	uint64_t room;	/* keys it still takes before its false-positive rate rises */
};

/* keyfilter_fill - build kf (freeing what it held) from n keys, with
 * room for `room` more. */
void keyfilter_fill(struct keyfilter *kf, const uint64_t *keys, size_t n, size_t room);
/* keyfilter_add - add key (nothing when kf is not built). */
void keyfilter_add(struct keyfilter *kf, uint64_t key);
/* keyfilter_may_hold - 0 when key is certainly not among the keys added;
 * 1 when it may be, and always when kf is not built. */
int keyfilter_may_hold(const struct keyfilter *kf, uint64_t key);
/* keyfilter_built - kf answers (keyfilter_fill was called since the last free). */
static inline int keyfilter_built(const struct keyfilter *kf)
{
	return kf->bits != NULL;
}
/* keyfilter_full - kf is built and has taken all the keys it was sized for. */
static inline int keyfilter_full(const struct keyfilter *kf)
{
	return kf->bits && !kf->room;
}
/* keyfilter_free - back to "not built". */
void keyfilter_free(struct keyfilter *kf);

#endif
