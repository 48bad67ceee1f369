/*
 * xalloc.h - allocation that aborts on out-of-memory.
 *
 * Shield's defence against memory exhaustion is limits.h, not recovery from
 * a failed malloc; like Postfix's mymalloc, these never return NULL.
 * Callers own what they get and release it with free().
 */
#ifndef SHIELD_XALLOC_H
#define SHIELD_XALLOC_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
