/*
 * arena.h - one bump allocator per message.
 *
 * Everything a parse produces (strings, indicator arrays, hops) lives in the
 * message's arena and is freed at once by arena_release(). What must outlive
 * the message is copied out at a named boundary (the store, the JSON
 * writer). Allocation never fails (it aborts on real OOM, see xalloc.h);
 * callers that loop on attacker input check arena_over_budget() and record
 * a limit finding instead of allocating further.
 *
 * Invariants: all returned memory is zeroed and 16-byte aligned.
 */
#ifndef SHIELD_ARENA_H
#define SHIELD_ARENA_H
#include <stdarg.h>
#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* newest chunk first */
	size_t used;		  /* bytes handed out, for the budget */
	size_t budget;		  /* SHIELD_MAX_ARENA_BYTES unless set */
};

/* arena_init - set up an empty arena with the given budget (0: default). */
void arena_init(struct arena *a, size_t budget);
/* arena_release - free every chunk; the arena can be reused after. */
void arena_release(struct arena *a);
/* arena_alloc - n zeroed bytes owned by the arena. */
void *arena_alloc(struct arena *a, size_t n);
/* arena_grow - array growth helper: returns a copy of old (old_n items of
 * size sz) with room for new_n items. The old block is simply abandoned. */
void *arena_grow(struct arena *a, void *old, size_t old_n, size_t new_n, size_t sz);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* arena_over_budget - nonzero once more than the budget was handed out. */
int arena_over_budget(const struct arena *a);

/* Growable array of pointers or structs in an arena. */
#define ARENA_PUSH(a, arr, n, cap)                                                                 \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			size_t nc_ = (cap) ? (cap)*2 : 8;                                          \
			(arr) = arena_grow((a), (arr), (n), nc_, sizeof(*(arr)));                  \
			(cap) = nc_;                                                               \
		}                                                                                  \
	} while (0)

#endif
