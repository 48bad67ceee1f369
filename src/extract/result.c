/* result.c - the per-message result object (see result.h). */
#include "extract/result.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/xalloc.h"

struct result *result_new(const char *source, long source_index)
{
	struct result *r = xcalloc(1, sizeof(*r));
	arena_init(&r->arena, 0);
	r->source = source;
	r->source_index = source_index;
	r->forward = "none";
	return r;
}

void result_free(struct result *r)
{
	if (!r)
		return;
	arena_release(&r->arena);
	free(r);
}

int result_has_finding(const struct result *r, const char *code)
{
	for (size_t i = 0; i < r->findings.n; i++)
		if (strcmp(r->findings.v[i].code, code) == 0)
			return 1;
	return 0;
}

void result_finding(struct result *r, const char *code, const char *fmt, ...)
{
	/* Each kind once with its first detail, as Postfix reports each
	 * MIME_ERR_* once: a hostile message must not grow this list without
	 * bound. */
	if (result_has_finding(r, code))
		return;
	ARENA_PUSH(&r->arena, r->findings.v, r->findings.n, r->findings.cap);
	struct finding *f = &r->findings.v[r->findings.n++];
	f->code = arena_strdup(&r->arena, code);
	f->detail = NULL;
	if (fmt) {
		char tmp[512];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(tmp, sizeof tmp, fmt, ap);
		va_end(ap);
		f->detail = arena_strdup(&r->arena, tmp);
	}
}

/* Open-addressing set of indexes into one indicator vector, keyed by the
 * case-folded value: de-duplication stays O(1) per indicator, so a hostile
 * message with 10,000 distinct addresses costs milliseconds, not seconds. */
struct ind_index {
	unsigned *slot; /* index + 1; 0 is empty */
	size_t cap;	/* power of two */
};

static unsigned long fold_hash(const char *s, size_t n)
{
	unsigned long h = 1469598103934665603UL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 1099511628211UL;
	}
	return h;
}

/* index_find - slot for value: holding it, or the empty slot to use. */
static unsigned *index_find(struct ind_index *ix, const struct ind *v, const char *value, size_t n)
{
	size_t i = fold_hash(value, n) & (ix->cap - 1);
	for (;;) {
		unsigned *sl = &ix->slot[i];
		if (*sl == 0)
			return sl;
		const char *have = v[*sl - 1].value;
		if (strncasecmp(have, value, n) == 0 && have[n] == '\0')
			return sl;
		i = (i + 1) & (ix->cap - 1);
	}
}

static void index_grow(struct result *r, struct ind_index *ix, const struct ind *v, size_t count)
{
	size_t ncap = ix->cap ? ix->cap * 2 : 64;
	ix->slot = arena_alloc(&r->arena, ncap * sizeof *ix->slot);
	ix->cap = ncap;
	for (size_t k = 0; k < count; k++) {
		unsigned *sl = index_find(ix, v, v[k].value, strlen(v[k].value));
		*sl = (unsigned)k + 1;
	}
}

int result_add_ind(struct result *r, int kind, const char *value, size_t n, const char *found_in)
{
	struct ind **v;
	size_t *cnt, *cap;
	switch (kind) {
	case IND_DOMAIN:
		v = &r->domains.v, cnt = &r->domains.n, cap = &r->domains.cap;
		break;
	case IND_IP:
		v = &r->ips.v, cnt = &r->ips.n, cap = &r->ips.cap;
		break;
	default:
		kind = IND_EMAIL;
		v = &r->emails.v, cnt = &r->emails.n, cap = &r->emails.cap;
		break;
	}
	struct ind_index *ix = r->ind_index[kind];
	if (!ix)
		ix = r->ind_index[kind] = arena_alloc(&r->arena, sizeof *ix);
	/* keep the load factor under one half */
	if ((*cnt + 1) * 2 > ix->cap)
		index_grow(r, ix, *v, *cnt);
	unsigned *sl = index_find(ix, *v, value, n);
	if (*sl)
		return 1;
	if (*cnt >= SHIELD_MAX_INDICATORS) {
		result_finding(r, "limit.indicators", "more than %u indicators of one kind",
			       SHIELD_MAX_INDICATORS);
		return -1;
	}
	ARENA_PUSH(&r->arena, *v, *cnt, *cap);
	struct ind *d = &(*v)[(*cnt)++];
	d->value = arena_strndup(&r->arena, value, n);
	for (char *p = d->value; *p; p++)
		if (*p >= 'A' && *p <= 'Z' && kind != IND_EMAIL)
			*p = (char)(*p - 'A' + 'a');
	d->found_in = arena_strdup(&r->arena, found_in);
	*sl = (unsigned)*cnt;
	return 0;
}

void result_reason(struct result *r, const char *code, int weight, const char *fmt, ...)
{
	ARENA_PUSH(&r->arena, r->reasons.v, r->reasons.n, r->reasons.cap);
	struct reason *x = &r->reasons.v[r->reasons.n++];
	x->code = arena_strdup(&r->arena, code);
	x->weight = weight;
	x->detail = NULL;
	if (fmt) {
		char tmp[512];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(tmp, sizeof tmp, fmt, ap);
		va_end(ap);
		x->detail = arena_strdup(&r->arena, tmp);
	}
}
