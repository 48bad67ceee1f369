/* arena.c - chunked bump allocator (see arena.h). */
#include "common/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/xalloc.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, off;
	/* data follows, 16-byte aligned */
	_Alignas(16) unsigned char data[];
};

#define CHUNK_MIN (64u * 1024u)

void arena_init(struct arena *a, size_t budget)
{
	a->head = NULL;
	a->used = 0;
	a->budget = budget ? budget : SHIELD_MAX_ARENA_BYTES;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
	a->used = 0;
}

/* alloc_raw - n uninitialised bytes: for copies that overwrite them all. */
static void *alloc_raw(struct arena *a, size_t n)
{
	size_t need = (n + 15u) & ~(size_t)15u;
	struct arena_chunk *c = a->head;
	if (!c || c->size - c->off < need) {
		size_t sz = need > CHUNK_MIN ? need : CHUNK_MIN;
		c = xmalloc(sizeof(*c) + sz);
		c->size = sz;
		c->off = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
}

void *arena_alloc(struct arena *a, size_t n)
{
	void *p = alloc_raw(a, n);
	memset(p, 0, n);
	return p;
}

void *arena_grow(struct arena *a, void *old, size_t old_n, size_t new_n, size_t sz)
{
	unsigned char *p = alloc_raw(a, new_n * sz);
	if (old && old_n)
		memcpy(p, old, old_n * sz);
	memset(p + old_n * sz, 0, (new_n - old_n) * sz);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = alloc_raw(a, n + 1);
	if (n) /* s may be NULL for an empty source (an empty GByteArray) */
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		return arena_strdup(a, "");
	}
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

int arena_over_budget(const struct arena *a)
{
	return a->used > a->budget;
}
