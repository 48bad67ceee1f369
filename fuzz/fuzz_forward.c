/*
 * fuzz_forward.c - libFuzzer target for forward_find_inline().
 *
 * Purpose: feed arbitrary bytes to the inline-forward detector and abort()
 * on any broken invariant of forward.h: body inside the arena copy and no
 * longer than the input, marker_offset within the input, every returned
 * string NUL-terminated and no longer than the input, style and language
 * from the documented sets, at least a sender and a subject or date.
 * Ownership: the mail-parsing stage's owner. Built by `make fuzz-build`.
 * Limits: the input is copied into an exact-size buffer (no terminator) so
 * ASan reports any read past len; one arena per input, released after.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "mail/forward.h"

/* check_str - s is NULL or a C string of at most max bytes. strnlen never
 * reads past max + 1 bytes, so a missing terminator shows as length. */
static void check_str(const char *s, size_t max, int may_be_null)
{
	if (!s) {
		if (!may_be_null)
			abort();
		return;
	}
	if (strnlen(s, max + 1) > max)
		abort();
}

/* check_one_of - s is one of the NULL-terminated list. */
static void check_one_of(const char *s, const char *const *list)
{
	if (!s)
		abort();
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return;
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const styles[] = {"gmail",	    "outlook", "apple",
					     "thunderbird", "generic", NULL};
	static const char *const langs[] = {"en", "nl", "fr", "de", NULL};
	struct arena a;
	struct inline_forward f;
	char *copy = malloc(size ? size : 1);
	int r;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	arena_init(&a, 0);
	r = forward_find_inline(&a, copy, size, &f);
	if (r != 0 && r != 1)
		abort();
	if (r == 1) {
		check_one_of(f.style, styles);
		check_one_of(f.language, langs);
		if (!f.from || !(f.subject || f.date))
			abort();
		if (f.marker_offset > size)
			abort();
		if (!f.body || f.body_len > size || f.body[f.body_len] != '\0' ||
		    strlen(f.body) != f.body_len)
			abort();
		check_str(f.from, size, 0);
		check_str(f.from_addr, size, 1);
		check_str(f.from_name, size, 1);
		check_str(f.date, size, 1);
		check_str(f.subject, size, 1);
		check_str(f.to, size, 1);
		check_str(f.reply_to, size, 1);
		check_str(f.cc, size, 1);
		check_str(f.before, size, 0);
		if (f.from_addr && !strchr(f.from_addr, '@'))
			abort();
		/* the comment precedes the block, so it cannot be longer */
		if (strlen(f.before) > f.marker_offset)
			abort();
	} else if (f.from || f.body || f.style) {
		/* a miss leaves *out cleared */
		abort();
	}
	arena_release(&a);
	free(copy);
	return 0;
}
