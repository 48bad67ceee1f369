/*
 * strmap.c - string-keyed hash map (see strmap.h).
 */
#include "act/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof *m);
}

void strmap_release(struct strmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	free(m->slots);
	strmap_init(m);
}

static size_t *find(const struct strmap *m, const char *key)
{
	size_t i = (size_t)hash(key) & (m->cap - 1);
	while (m->slots[i] && strcmp(m->keys[m->slots[i] - 1], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

void *strmap_get(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	size_t *s = find(m, key);
	return *s ? m->vals[*s - 1] : NULL;
}

size_t strmap_put(struct strmap *m, const char *key, void *val, int *added)
{
	if ((m->n + 1) * 10 > m->cap * 7) {
		size_t ncap = m->cap ? m->cap * 2 : 256;
		free(m->slots);
		m->slots = xcalloc(ncap, sizeof *m->slots);
		m->cap = ncap;
		for (size_t i = 0; i < m->n; i++)
			*find(m, m->keys[i]) = i + 1;
	}
	size_t *s = find(m, key);
	if (*s) {
		m->vals[*s - 1] = val;
		if (added)
			*added = 0;
		return *s - 1;
	}
	if (m->n == m->vcap) {
		m->vcap = m->vcap ? m->vcap * 2 : 256;
		m->keys = xrealloc(m->keys, m->vcap * sizeof *m->keys);
		m->vals = xrealloc(m->vals, m->vcap * sizeof *m->vals);
	}
	m->keys[m->n] = xstrdup(key);
	m->vals[m->n] = val;
	*s = ++m->n;
	if (added)
		*added = 1;
	return m->n - 1;
}
