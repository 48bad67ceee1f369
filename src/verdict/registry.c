/*
 * registry.c - load the registry of verified organisations (see registry.h,
 * format in docs/registry.md).
 *
 * Ownership: every string and array of an entry is malloc'd here and freed
 * by registry_free(); nothing points into the file buffer after loading.
 * Limits: REGISTRY_MAX_* in registry.h (file size, entries, list length).
 * Security: registry files come from the operator, not from reports, but are
 * still parsed defensively: every malformed line is an error naming
 * file:line, never a crash; domains are validated and converted to
 * lower-case punycode (IDNA 2008, non-transitional) so lookups compare
 * like with like.
 */
#include "verdict/registry.h"

#include <errno.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"

#ifndef SHIELD_DATADIR
#define SHIELD_DATADIR "data"
#endif

/* Everything one entry owns, next to the public view of it. */
struct entry_store {
	char *id, *name, *sector, *country;
	char **names, **domains, **keywords;
	unsigned char *flags;
	size_t n_names, n_domains, n_keywords;
	int signs_mail;
};

struct dom_ix {
	const char *domain;
	size_t entry;
};

struct registry {
	struct registry_entry *e; /* public views, rebuilt after loading */
	struct entry_store *st;
	size_t n, cap;
	struct dom_ix *ix; /* sorted by domain for registry_by_domain() */
	size_t n_ix;
};

/* store_release - free what one entry owns. */
static void store_release(struct entry_store *s)
{
	free(s->id);
	free(s->name);
	free(s->sector);
	free(s->country);
	for (size_t i = 0; i < s->n_names; i++)
		free(s->names[i]);
	for (size_t i = 0; i < s->n_domains; i++)
		free(s->domains[i]);
	for (size_t i = 0; i < s->n_keywords; i++)
		free(s->keywords[i]);
	free(s->names);
	free(s->domains);
	free(s->keywords);
	free(s->flags);
	memset(s, 0, sizeof(*s));
}

struct registry *registry_free(struct registry *reg)
{
	if (!reg)
		return NULL;
	for (size_t i = 0; i < reg->n; i++)
		store_release(&reg->st[i]);
	free(reg->st);
	free(reg->e);
	free(reg->ix);
	free(reg);
	return NULL;
}

/* set_err - *err = "file:line: message" (malloc'd). */
static void set_err(char **err, const char *file, size_t line, const char *msg, const char *what)
{
	char tmp[512];
	if (line)
		snprintf(tmp, sizeof tmp, "%s:%zu: %s%s%.80s%s", file, line, msg, what ? " '" : "",
			 what ? what : "", what ? "'" : "");
	else
		snprintf(tmp, sizeof tmp, "%s: %s%s%.80s%s", file, msg, what ? " '" : "",
			 what ? what : "", what ? "'" : "");
	if (err)
		*err = xstrdup(tmp);
}

/* trim - strip ASCII spaces around [s, s+n); returns the new start, *n updated. */
static const char *trim(const char *s, size_t *n)
{
	while (*n && (*s == ' ' || *s == '\t'))
		s++, (*n)--;
	while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

/* split_list - split a '|'-separated field into trimmed, non-empty copies.
 * Returns the count or (size_t)-1 when over REGISTRY_MAX_LIST. */
static size_t split_list(const char *f, char ***out)
{
	size_t n = 0, cap = 0;
	char **v = NULL;
	const char *p = f;
	for (;;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		const char *s = trim(p, &len);
		if (len) {
			if (n == REGISTRY_MAX_LIST) {
				for (size_t i = 0; i < n; i++)
					free(v[i]);
				free(v);
				*out = NULL;
				return (size_t)-1;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 4;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n++] = xstrndup(s, len);
		}
		if (!bar)
			break;
		p = bar + 1;
	}
	*out = v;
	return n;
}

/* canon_domain - lower-case punycode form of an official domain, or NULL
 * when it is not a plausible registrable domain. Caller frees. */
static char *canon_domain(const char *d)
{
	int ascii = 1;
	for (const unsigned char *p = (const unsigned char *)d; *p; p++)
		if (*p >= 0x80)
			ascii = 0;
	char *out;
	if (ascii) {
		out = xstrdup(d);
	} else {
		char *tmp = NULL;
		if (idn2_lookup_u8((const uint8_t *)d, (uint8_t **)&tmp,
				   IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK)
			return NULL;
		out = xstrdup(tmp);
		idn2_free(tmp);
	}
	size_t len = strlen(out), dots = 0;
	for (char *p = out; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		if (*p == '.')
			dots++;
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			dots = 0, len = 0; /* invalid character */
		if (!len)
			break;
	}
	if (!len || len > 253 || !dots || out[0] == '.' || out[len - 1] == '.' ||
	    strstr(out, "..")) {
		free(out);
		return NULL;
	}
	return out;
}

/* valid_id - ids are printable ASCII without spaces or '|'. */
static int valid_id(const char *id)
{
	if (!*id || strlen(id) > 128)
		return 0;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '|')
			return 0;
	return 1;
}

/* find_id - index of the entry with this id, or (size_t)-1. */
static size_t find_id(const struct registry *reg, const char *id)
{
	for (size_t i = 0; i < reg->n; i++)
		if (strcmp(reg->st[i].id, id) == 0)
			return i;
	return (size_t)-1;
}

/* parse_line - one data line (NUL-terminated, no newline) into reg.
 * Returns 0 or -1 with *err set. */
static int parse_line(struct registry *reg, char *line, const char *file, size_t ln, char **err)
{
	char *f[8];
	size_t nf = 0;
	for (char *p = line;;) {
		char *tab = strchr(p, '\t');
		if (nf == 8) {
			set_err(err, file, ln, "too many fields (expected 8, tab-separated)", NULL);
			return -1;
		}
		f[nf++] = p;
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	for (size_t i = 0; i < nf; i++) {
		size_t len = strlen(f[i]);
		const char *s = trim(f[i], &len);
		memmove(f[i], s, len);
		f[i][len] = '\0';
	}
	if (nf == 1 && f[0][0] == '-') { /* "-id": remove an entry */
		size_t i = find_id(reg, f[0] + 1);
		if (i == (size_t)-1) {
			set_err(err, file, ln, "no entry to remove with id", f[0] + 1);
			return -1;
		}
		store_release(&reg->st[i]);
		memmove(&reg->st[i], &reg->st[i + 1], (reg->n - i - 1) * sizeof(*reg->st));
		reg->n--;
		return 0;
	}
	if (nf != 8) {
		set_err(err, file, ln, "expected 8 tab-separated fields", NULL);
		return -1;
	}
	if (!valid_id(f[0])) {
		set_err(err, file, ln, "bad id", f[0]);
		return -1;
	}
	if (!f[1][0]) {
		set_err(err, file, ln, "empty name", NULL);
		return -1;
	}
	int signs;
	if (!strcmp(f[7], "yes") || !strcmp(f[7], "true") || !strcmp(f[7], "1"))
		signs = 1;
	else if (!strcmp(f[7], "no") || !strcmp(f[7], "false") || !strcmp(f[7], "0") || !f[7][0])
		signs = 0;
	else {
		set_err(err, file, ln, "signs_mail must be yes or no, not", f[7]);
		return -1;
	}
	struct entry_store s = {0};
	s.n_names = split_list(f[4], &s.names);
	s.n_domains = split_list(f[5], &s.domains);
	s.n_keywords = split_list(f[6], &s.keywords);
	if (s.n_names == (size_t)-1 || s.n_domains == (size_t)-1 || s.n_keywords == (size_t)-1) {
		if (s.n_names == (size_t)-1)
			s.n_names = 0;
		if (s.n_domains == (size_t)-1)
			s.n_domains = 0;
		if (s.n_keywords == (size_t)-1)
			s.n_keywords = 0;
		store_release(&s);
		set_err(err, file, ln, "list too long", NULL);
		return -1;
	}
	if (!s.n_domains) {
		store_release(&s);
		set_err(err, file, ln, "no official domain for", f[0]);
		return -1;
	}
	s.flags = xcalloc(s.n_domains, 1);
	for (size_t i = 0; i < s.n_domains; i++) {
		const char *d = s.domains[i];
		unsigned char fl = 0;
		for (;; d++) {
			if (*d == '=')
				fl |= REG_DOMAIN_GENERIC;
			else if (*d == '@')
				fl |= REG_DOMAIN_SHARED;
			else if (*d == '~')
				fl |= REG_DOMAIN_NOTOKEN;
			else
				break;
		}
		char *c = canon_domain(d);
		if (!c) {
			set_err(err, file, ln, "bad domain", s.domains[i]);
			store_release(&s);
			return -1;
		}
		free(s.domains[i]);
		s.domains[i] = c;
		s.flags[i] = fl;
	}
	if (!s.n_names) { /* the display name is always a name */
		s.names = xmalloc(sizeof(*s.names));
		s.names[0] = xstrdup(f[1]);
		s.n_names = 1;
	}
	s.signs_mail = signs;
	s.id = xstrdup(f[0]);
	s.name = xstrdup(f[1]);
	s.sector = xstrdup(f[2][0] ? f[2] : "other");
	s.country = xstrdup(f[3]);
	size_t at = find_id(reg, s.id);
	if (at != (size_t)-1) { /* same id: the later file overrides */
		store_release(&reg->st[at]);
		reg->st[at] = s;
		return 0;
	}
	if (reg->n == REGISTRY_MAX_ENTRIES) {
		store_release(&s);
		set_err(err, file, ln, "too many entries", NULL);
		return -1;
	}
	if (reg->n == reg->cap) {
		reg->cap = reg->cap ? reg->cap * 2 : 64;
		reg->st = xrealloc(reg->st, reg->cap * sizeof(*reg->st));
	}
	reg->st[reg->n++] = s;
	return 0;
}

/* load_file - parse one registry file into reg; 0 or -1 with *err. */
static int load_file(struct registry *reg, const char *file, char **err)
{
	FILE *fp = fopen(file, "rb");
	if (!fp) {
		set_err(err, file, 0, strerror(errno), NULL);
		return -1;
	}
	char *data = xmalloc(REGISTRY_MAX_FILE_BYTES + 1);
	size_t len = fread(data, 1, REGISTRY_MAX_FILE_BYTES + 1, fp);
	int rerr = ferror(fp);
	fclose(fp);
	if (rerr || len > REGISTRY_MAX_FILE_BYTES) {
		set_err(err, file, 0, rerr ? "read error" : "file too large", NULL);
		free(data);
		return -1;
	}
	data[len] = '\0';
	if (memchr(data, '\0', len)) {
		set_err(err, file, 0, "NUL byte in file", NULL);
		free(data);
		return -1;
	}
	size_t ln = 0;
	int rc = 0;
	for (char *p = data; *p && rc == 0;) {
		char *nl = strchr(p, '\n');
		char *next = nl ? nl + 1 : p + strlen(p);
		if (nl)
			*nl = '\0';
		ln++;
		size_t n = strlen(p);
		if (n && p[n - 1] == '\r')
			p[--n] = '\0';
		size_t tn = n;
		const char *t = trim(p, &tn);
		if (tn && *t != '#')
			rc = parse_line(reg, p, file, ln, err);
		p = next;
	}
	free(data);
	return rc;
}

/* ix_cmp - order the domain index by domain, then entry (stable). */
static int ix_cmp(const void *a, const void *b)
{
	const struct dom_ix *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);
	if (c)
		return c;
	return (x->entry > y->entry) - (x->entry < y->entry);
}

/* build_views - public entries and the domain index from the stores. */
static void build_views(struct registry *reg)
{
	reg->e = xcalloc(reg->n ? reg->n : 1, sizeof(*reg->e));
	size_t nd = 0;
	for (size_t i = 0; i < reg->n; i++)
		nd += reg->st[i].n_domains;
	reg->ix = xcalloc(nd ? nd : 1, sizeof(*reg->ix));
	for (size_t i = 0; i < reg->n; i++) {
		struct entry_store *s = &reg->st[i];
		struct registry_entry *e = &reg->e[i];
		e->id = s->id;
		e->name = s->name;
		e->sector = s->sector;
		e->country = s->country;
		e->names = (const char *const *)s->names;
		e->n_names = s->n_names;
		e->domains = (const char *const *)s->domains;
		e->n_domains = s->n_domains;
		e->keywords = (const char *const *)s->keywords;
		e->n_keywords = s->n_keywords;
		e->domain_flags = s->flags;
		e->signs_mail = s->signs_mail;
		for (size_t j = 0; j < s->n_domains; j++) {
			reg->ix[reg->n_ix].domain = s->domains[j];
			reg->ix[reg->n_ix++].entry = i;
		}
	}
	if (reg->n_ix > 1)
		qsort(reg->ix, reg->n_ix, sizeof(*reg->ix), ix_cmp);
}

struct registry *registry_load_from(const char *bundled_file, const char *extra_file, char **err)
{
	static const char *const paths[] = {
	    SHIELD_DATADIR "/registry.tsv",
	    "data/registry.tsv",
	};
	struct registry *reg = xcalloc(1, sizeof(*reg));
	const char *bundled = bundled_file;
	if (!bundled) {
		for (size_t i = 0; i < sizeof paths / sizeof *paths && !bundled; i++) {
			FILE *fp = fopen(paths[i], "rb");
			if (fp) {
				fclose(fp);
				bundled = paths[i];
			}
		}
		if (!bundled) {
			set_err(err, paths[0], 0, "cannot find the bundled registry", NULL);
			return registry_free(reg);
		}
	}
	if (load_file(reg, bundled, err) != 0)
		return registry_free(reg);
	if (extra_file && load_file(reg, extra_file, err) != 0)
		return registry_free(reg);
	build_views(reg);
	return reg;
}

struct registry *registry_load(const char *extra_file, char **err)
{
	return registry_load_from(NULL, extra_file, err);
}

size_t registry_count(const struct registry *reg)
{
	return reg ? reg->n : 0;
}

const struct registry_entry *registry_at(const struct registry *reg, size_t i)
{
	return reg && i < reg->n ? &reg->e[i] : NULL;
}

const struct registry_entry *registry_by_domain(const struct registry *reg, const char *reg_domain)
{
	if (!reg || !reg_domain || !reg->n_ix)
		return NULL;
	size_t lo = 0, hi = reg->n_ix;
	while (lo < hi) { /* first index with domain >= reg_domain */
		size_t mid = lo + (hi - lo) / 2;
		if (strcasecmp(reg->ix[mid].domain, reg_domain) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < reg->n_ix && strcasecmp(reg->ix[lo].domain, reg_domain) == 0)
		return &reg->e[reg->ix[lo].entry];
	return NULL;
}

const struct registry_entry *registry_by_id(const struct registry *reg, const char *id)
{
	if (!reg || !id)
		return NULL;
	size_t i = find_id(reg, id);
	return i == (size_t)-1 ? NULL : &reg->e[i];
}

size_t registry_entry_owns(const struct registry_entry *e, const char *reg_domain)
{
	if (!e || !reg_domain)
		return 0;
	for (size_t i = 0; i < e->n_domains; i++)
		if (strcasecmp(e->domains[i], reg_domain) == 0)
			return i + 1;
	return 0;
}
