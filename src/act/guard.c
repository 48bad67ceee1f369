/*
 * guard.c - the known-good guard (see guard.h): an open-addressing hash set
 * of names, each marked as a listed name itself (exact) and/or as a parent
 * of listed names (below). Warning lists are read with jansson.
 */
#include "act/guard.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "verdict/lists.h"

enum { G_EXACT = 1, G_BELOW = 2 };

struct gentry {
	char *name;	     /* owned; NULL = empty slot */
	int src;	     /* source index of the exact entry */
	int below_src;	     /* source of one name below */
	const char *below;   /* that name (owned by its own entry) */
	unsigned char flags; /* G_EXACT, G_BELOW */
};

struct guard {
	struct gentry *t;
	size_t cap, used, exact;
	char **srcs;
	size_t nsrc, srccap;
	const struct lists *lists; /* borrowed: MISP warning lists */
	char lists_why[300];
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct guard *guard_new(void)
{
	struct guard *g = xcalloc(1, sizeof *g);
	g->cap = 1024;
	g->t = xcalloc(g->cap, sizeof *g->t);
	return g;
}

struct guard *guard_free(struct guard *g)
{
	if (!g)
		return NULL;
	for (size_t i = 0; i < g->cap; i++)
		free(g->t[i].name);
	free(g->t);
	for (size_t i = 0; i < g->nsrc; i++)
		free(g->srcs[i]);
	free(g->srcs);
	free(g);
	return NULL;
}

static struct gentry *slot(const struct guard *g, const char *name)
{
	size_t i = (size_t)hash(name) & (g->cap - 1);
	while (g->t[i].name && strcmp(g->t[i].name, name) != 0)
		i = (i + 1) & (g->cap - 1);
	return &g->t[i];
}

static void grow(struct guard *g)
{
	struct gentry *old = g->t;
	size_t oldcap = g->cap;
	g->cap *= 2;
	g->t = xcalloc(g->cap, sizeof *g->t);
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].name)
			*slot(g, old[i].name) = old[i];
	free(old);
}

static struct gentry *get_or_add(struct guard *g, const char *name)
{
	if ((g->used + 1) * 10 > g->cap * 7)
		grow(g);
	struct gentry *e = slot(g, name);
	if (!e->name) {
		e->name = xstrdup(name);
		e->src = -1;
		e->below_src = -1;
		g->used++;
	}
	return e;
}

static int source_index(struct guard *g, const char *source)
{
	/* lists add many names in a row: the last source is the likely one */
	for (size_t i = g->nsrc; i-- > 0;)
		if (strcmp(g->srcs[i], source) == 0)
			return (int)i;
	if (g->nsrc == g->srccap) {
		g->srccap = g->srccap ? g->srccap * 2 : 16;
		g->srcs = xrealloc(g->srcs, g->srccap * sizeof *g->srcs);
	}
	g->srcs[g->nsrc] = xstrdup(source);
	return (int)g->nsrc++;
}

/* normalise - lower-case host name into out; 0 if it is one. A host name
 * here has at least two labels of [a-z0-9_-], each 1..63 octets. */
static int normalise(const char *in, char *out, size_t outsz)
{
	while (*in == ' ' || *in == '\t')
		in++;
	if (in[0] == '*' && in[1] == '.')
		in += 2;
	if (*in == '.')
		in++;
	size_t n = 0, label = 0, dots = 0;
	for (; *in && *in != ' ' && *in != '\t' && *in != '\r' && *in != '\n'; in++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*in);
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
			dots++;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return -1;
		} else {
			return -1;
		}
		if (n + 1 >= outsz)
			return -1;
		out[n++] = (char)c;
	}
	if (n && out[n - 1] == '.') {
		n--;
		dots--;
		if (label != 0 || n == 0)
			return -1;
		label = 1;
	}
	out[n] = '\0';
	if (label == 0 || dots == 0)
		return -1;
	/* all-numeric last label: an IPv4 address, not a name */
	const char *last = strrchr(out, '.') + 1;
	if (strspn(last, "0123456789") == strlen(last))
		return -1;
	return 0;
}

int guard_add(struct guard *g, const char *name, const char *source, int upward_only)
{
	char n[GUARD_MAX_NAME + 2];
	if (normalise(name, n, sizeof n) < 0)
		return 1;
	int src = source_index(g, source);
	struct gentry *e = get_or_add(g, n);
	if (!(e->flags & G_EXACT)) {
		e->flags |= G_EXACT;
		e->src = src;
		g->exact++;
	}
	if (upward_only)
		return 0;
	const char *child = e->name;
	for (const char *p = strchr(n, '.'); p && strchr(p + 1, '.'); p = strchr(p + 1, '.')) {
		struct gentry *pe = get_or_add(g, p + 1);
		if (!(pe->flags & G_BELOW)) {
			pe->flags |= G_BELOW;
			pe->below_src = src;
			/* get_or_add may have moved entries, never names */
			pe->below = child;
		}
	}
	return 0;
}

size_t guard_count(const struct guard *g)
{
	return g->exact;
}

void guard_set_lists(struct guard *g, const struct lists *l)
{
	g->lists = l;
}

int guard_has_lists(const struct guard *g)
{
	return g->lists && lists_good_count(g->lists) > 0;
}

/* Lists of public suffixes: a registrable domain is never one of them,
 * so a "parent" match there says nothing about the domain. */
static int suffix_list(const char *source)
{
	return strncmp(source, "TLDs as known", 13) == 0 ||
	       strncmp(source, "Second level TLDs", 17) == 0;
}

/* public_sector - a suffix such as gov.br, gouv.fr, ac.uk, edu.au: every
 * registrable domain under it belongs to a public body. */
static int public_sector(const char *suffix)
{
	static const char *const labels[] = {"gov", "gouv", "gob",    "govt", "go",   "edu",
					     "ac",  "mil",  "police", "nhs",  "fgov", "admin"};
	size_t n = strcspn(suffix, ".");
	for (size_t i = 0; i < sizeof labels / sizeof *labels; i++)
		if (strlen(labels[i]) == n && strncmp(suffix, labels[i], n) == 0)
			return 1;
	return 0;
}

static const char *check_lists(const struct guard *g, const char *name, char *why, size_t whylen)
{
	const char *src = lists_good_host(g->lists, name);
	if (!src)
		return NULL;
	if (suffix_list(src)) {
		/* lists_good_host names one list per name, and the suffix lists
		 * hold public suffixes (github.io, gov.br) that top lists may
		 * hold too. The name itself a suffix: a shared platform. */
		const char *dot = strchr(name, '.');
		const char *psrc = dot ? lists_good_host(g->lists, dot + 1) : NULL;
		if (!psrc) {
			snprintf(why, whylen, "public suffix (%s): %s", src, name);
			return why;
		}
		if (dot && public_sector(dot + 1)) {
			snprintf(why, whylen, "public-sector suffix %s: %s", dot + 1, name);
			return why;
		}
		return NULL;
	}
	snprintf(why, whylen, "warninglist:%s: %s", src, name);
	return why;
}

const char *guard_lookup(const struct guard *g, const char *name)
{
	struct gentry *e = slot(g, name);
	return e->name && (e->flags & G_EXACT) ? g->srcs[e->src] : NULL;
}

const char *guard_check(const struct guard *g, const char *domain, const char *const *hosts,
			size_t nhosts, char *why, size_t whylen)
{
	if (!guard_has_lists(g)) {
		snprintf(why, whylen, "guard:no-known-good-lists");
		return why;
	}
	char n[GUARD_MAX_NAME + 2];
	if (normalise(domain, n, sizeof n) < 0) {
		snprintf(why, whylen, "guard:not-a-host-name");
		return why;
	}
	struct gentry *e = slot(g, n);
	if (e->name && (e->flags & G_EXACT)) {
		snprintf(why, whylen, "%s: %s", g->srcs[e->src], n);
		return why;
	}
	if (e->name && (e->flags & G_BELOW)) {
		snprintf(why, whylen, "%s: %s lies below", g->srcs[e->below_src], e->below);
		return why;
	}
	for (const char *p = strchr(n, '.'); p && strchr(p + 1, '.'); p = strchr(p + 1, '.')) {
		struct gentry *pe = slot(g, p + 1);
		if (pe->name && (pe->flags & G_EXACT)) {
			snprintf(why, whylen, "%s: parent %s", g->srcs[pe->src], p + 1);
			return why;
		}
	}
	if (check_lists(g, n, why, whylen))
		return why;
	for (size_t i = 0; i < nhosts; i++)
		if (hosts[i] && check_lists(g, hosts[i], why, whylen))
			return why;
	return NULL;
}
