/*
 * keyfilter.c - see keyfilter.h.
 */
#include "common/keyfilter.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/* probe - the i-th bit of key (double hashing over a mixed key: keys are
 * hashes already, the mixing keeps weak ones from clustering). */
static uint64_t probe(const struct keyfilter *kf, uint64_t key, int i)
{
	uint64_t h = (key ^ (key >> 31)) * 0x9e3779b97f4a7c15u;
	uint64_t step = ((h >> 29) ^ h) * 0xbf58476d1ce4e5b9u | 1;
	return (h + (uint64_t)i * step) & kf->mask;
}

void keyfilter_add(struct keyfilter *kf, uint64_t key)
{
	if (!kf->bits)
		return;
	if (kf->room)
		kf->room--;
	for (int i = 0; i < KEYFILTER_PROBES; i++) {
		uint64_t b = probe(kf, key, i);
		kf->bits[b >> 6] |= (uint64_t)1 << (b & 63);
	}
}

int keyfilter_may_hold(const struct keyfilter *kf, uint64_t key)
{
	if (!kf->bits)
		return 1;
	for (int i = 0; i < KEYFILTER_PROBES; i++) {
		uint64_t b = probe(kf, key, i);
		if (!(kf->bits[b >> 6] & ((uint64_t)1 << (b & 63))))
			return 0;
	}
	return 1;
}

void keyfilter_fill(struct keyfilter *kf, const uint64_t *keys, size_t n, size_t room)
{
	keyfilter_free(kf);
	uint64_t want = ((uint64_t)n + room) * KEYFILTER_BITS_PER_KEY, nbits = 64;
	while (nbits < want)
		nbits <<= 1;
	kf->bits = xcalloc((size_t)(nbits / 64), sizeof *kf->bits);
	kf->mask = nbits - 1;
	for (size_t i = 0; i < n; i++)
		keyfilter_add(kf, keys[i]);
	kf->room = room;
}

void keyfilter_free(struct keyfilter *kf)
{
	free(kf->bits);
	memset(kf, 0, sizeof *kf);
}
