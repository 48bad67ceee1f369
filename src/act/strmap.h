/*
 * strmap.h - a string-keyed hash map for the act stage's aggregations
 * (open addressing, FNV-1a). Keys are copied; values are the caller's
 * pointers. Iteration order is insertion order (entries kept in an array),
 * so outputs are deterministic.
 */
#ifndef SHIELD_ACT_STRMAP_H
#define SHIELD_ACT_STRMAP_H
#include <stddef.h>

struct strmap {
	size_t *slots; /* index+1 into keys/vals, 0 = empty */
	size_t cap;
	char **keys;
	void **vals;
	size_t n, vcap;
};

void strmap_init(struct strmap *m);
/* strmap_release - frees keys and the table (not the values). */
void strmap_release(struct strmap *m);
/* strmap_get - the value of key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* strmap_put - set key's value; returns the index of the entry and sets
 * *added when the key was new. */
size_t strmap_put(struct strmap *m, const char *key, void *val, int *added);

#endif
