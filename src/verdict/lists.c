/*
 * lists.c - known-good (MISP warning lists) and known-bad (URL/domain
 * feeds) sets: one open-addressing hash set of strings per kind, each entry
 * remembering which list it came from. See lists.h.
 */
#include "verdict/lists.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/limits.h"
#include "common/xalloc.h"

/* One string set: keys live in pool (NUL-terminated), slots hold entry
 * index + 1 (0 is empty). */
struct strset {
	char *pool;
	size_t pool_len, pool_cap;
	uint32_t *key_off; /* per entry: offset of its key in pool */
	uint16_t *src;	   /* per entry: index into lists->sources */
	size_t n, cap;
	uint32_t *slot;
	size_t nslot; /* power of two */
};

struct substr_list {
	uint16_t src;
	char **v;
	size_t n;
};

struct lists {
	struct strset good, bad;
	char **sources; /* list names, owned */
	size_t n_sources;
	struct substr_list *subs; /* non-host substrings of good lists */
	size_t n_subs;
	size_t skipped;
};

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static void strset_release(struct strset *s)
{
	free(s->pool);
	free(s->key_off);
	free(s->src);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

static const char *strset_key(const struct strset *s, uint32_t e)
{
	return s->pool + s->key_off[e];
}

/* strset_find - entry index or -1. */
static long strset_find(const struct strset *s, const char *k, size_t n)
{
	if (!s->nslot)
		return -1;
	size_t mask = s->nslot - 1;
	for (size_t i = hash_str(k, n) & mask;; i = (i + 1) & mask) {
		uint32_t e = s->slot[i];
		if (!e)
			return -1;
		const char *key = strset_key(s, e - 1);
		if (!strncmp(key, k, n) && key[n] == 0)
			return (long)(e - 1);
	}
}

static void strset_grow(struct strset *s)
{
	size_t nslot = s->nslot ? s->nslot * 2 : 1024;
	uint32_t *slot = xcalloc(nslot, sizeof(*slot));
	for (size_t e = 0; e < s->n; e++) {
		const char *k = strset_key(s, (uint32_t)e);
		size_t i = hash_str(k, strlen(k)) & (nslot - 1);
		while (slot[i])
			i = (i + 1) & (nslot - 1);
		slot[i] = (uint32_t)e + 1;
	}
	free(s->slot);
	s->slot = slot;
	s->nslot = nslot;
}

/* strset_add - add key (first source wins for duplicates). */
static void strset_add(struct strset *s, const char *k, size_t n, uint16_t src)
{
	if (strset_find(s, k, n) >= 0)
		return;
	if ((s->n + 1) * 2 > s->nslot)
		strset_grow(s);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->key_off = xrealloc(s->key_off, s->cap * sizeof(*s->key_off));
		s->src = xrealloc(s->src, s->cap * sizeof(*s->src));
	}
	if (s->pool_len + n + 1 > s->pool_cap) {
		while (s->pool_len + n + 1 > s->pool_cap)
			s->pool_cap = s->pool_cap ? s->pool_cap * 2 : 65536;
		s->pool = xrealloc(s->pool, s->pool_cap);
	}
	memcpy(s->pool + s->pool_len, k, n);
	s->pool[s->pool_len + n] = 0;
	s->key_off[s->n] = (uint32_t)s->pool_len;
	s->src[s->n] = src;
	s->pool_len += n + 1;
	size_t mask = s->nslot - 1;
	size_t i = hash_str(k, n) & mask;
	while (s->slot[i])
		i = (i + 1) & mask;
	s->slot[i] = (uint32_t)s->n + 1;
	s->n++;
}

struct lists *lists_new(void)
{
	return xcalloc(1, sizeof(struct lists));
}

struct lists *lists_free(struct lists *l)
{
	if (!l)
		return NULL;
	strset_release(&l->good);
	strset_release(&l->bad);
	for (size_t i = 0; i < l->n_sources; i++)
		free(l->sources[i]);
	free(l->sources);
	for (size_t i = 0; i < l->n_subs; i++) {
		for (size_t j = 0; j < l->subs[i].n; j++)
			free(l->subs[i].v[j]);
		free(l->subs[i].v);
	}
	free(l->subs);
	free(l);
	return NULL;
}

static int add_source(struct lists *l, const char *name, char **err)
{
	if (l->n_sources >= UINT16_MAX) {
		*err = xstrdup("too many lists");
		return -1;
	}
	l->sources = xrealloc(l->sources, (l->n_sources + 1) * sizeof(*l->sources));
	l->sources[l->n_sources] = xstrdup(name);
	return (int)l->n_sources++;
}

static int set_err(char **err, const char *what, const char *path)
{
	size_t n = strlen(what) + strlen(path) + 8;
	*err = xmalloc(n);
	snprintf(*err, n, "%s '%s'", what, path);
	return -1;
}

/* norm_host - lower-case host key "h:HOST" into out (no trailing dot);
 * 0 or -1 when it does not fit or is empty. */
static int norm_host(const char *h, size_t n, char *out, size_t cap)
{
	while (n && h[n - 1] == '.')
		n--;
	if (!n || n + 3 > cap)
		return -1;
	out[0] = 'h';
	out[1] = ':';
	for (size_t i = 0; i < n; i++)
		out[2 + i] = (char)tolower((unsigned char)h[i]);
	out[n + 2] = 0;
	return 0;
}

/* norm_url - "u:host/path?query" (scheme dropped, host lower-case,
 * fragment dropped, a lone trailing "/" dropped). */
static int norm_url(const char *u, char *out, size_t cap)
{
	const char *p = strstr(u, "://");
	if (!p)
		return -1;
	p += 3;
	size_t hl = strcspn(p, "/?#");
	size_t rest = strcspn(p + hl, "#");
	size_t at = 0;
	for (size_t i = 0; i < hl; i++)
		if (p[i] == '@')
			at = i + 1; /* userinfo is not part of the key */
	if (hl - at + rest + 3 > cap)
		return -1;
	size_t o = 0;
	out[o++] = 'u';
	out[o++] = ':';
	for (size_t i = at; i < hl; i++)
		out[o++] = (char)tolower((unsigned char)p[i]);
	memcpy(out + o, p + hl, rest);
	o += rest;
	if (o > 2 && out[o - 1] == '/' && rest == 1)
		o--;
	out[o] = 0;
	return 0;
}

static int looks_like_host(const char *s)
{
	if (!strchr(s, '.') || *s == '.')
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return 0;
	return 1;
}

static int load_misp(struct lists *l, const char *path, char **err)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (!root) {
		size_t n = strlen(path) + strlen(je.text) + 64;
		*err = xmalloc(n);
		snprintf(*err, n, "cannot read warning list '%s': line %d: %s", path, je.line,
			 je.text);
		return -1;
	}
	const char *type = json_string_value(json_object_get(root, "type"));
	const char *name = json_string_value(json_object_get(root, "name"));
	json_t *list = json_object_get(root, "list");
	if (!type || !json_is_array(list)) {
		json_decref(root);
		return set_err(err, "not a MISP warning list (no type or list)", path);
	}
	int is_sub = !strcmp(type, "substring");
	if (strcmp(type, "string") && strcmp(type, "hostname") && !is_sub) {
		l->skipped++;
		json_decref(root);
		return 0;
	}
	int src = add_source(l, name ? name : path, err);
	if (src < 0) {
		json_decref(root);
		return -1;
	}
	struct substr_list sl = {(uint16_t)src, NULL, 0};
	size_t i;
	json_t *v;
	char key[SHIELD_MAX_LIST_ENTRY_BYTES + 4];
	json_array_foreach(list, i, v)
	{
		const char *e = json_string_value(v);
		if (!e || l->good.n >= SHIELD_MAX_LIST_ENTRIES)
			continue;
		if (looks_like_host(e)) {
			if (!norm_host(e, strlen(e), key, sizeof(key)))
				strset_add(&l->good, key, strlen(key), (uint16_t)src);
		} else if (is_sub && sl.n < LISTS_MAX_SUBSTRINGS && *e) {
			sl.v = xrealloc(sl.v, (sl.n + 1) * sizeof(*sl.v));
			sl.v[sl.n++] = xstrdup(e);
		}
	}
	if (sl.n) {
		l->subs = xrealloc(l->subs, (l->n_subs + 1) * sizeof(*l->subs));
		l->subs[l->n_subs++] = sl;
	}
	json_decref(root);
	return 0;
}

static int load_misp_dir(struct lists *l, const char *dir, char **err)
{
	DIR *d = opendir(dir);
	if (!d)
		return set_err(err, "cannot open warning-list directory", dir);
	int rc = 0;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 16;
		char *p = xmalloc(len);
		snprintf(p, len, "%s/%s/list.json", dir, names[i]);
		struct stat st;
		if (!rc && !stat(p, &st) && S_ISREG(st.st_mode))
			rc = load_misp(l, p, err);
		free(p);
		free(names[i]);
	}
	free(names);
	return rc;
}

int lists_add_good(struct lists *l, const char *path, char **err)
{
	struct stat st;
	if (stat(path, &st))
		return set_err(err, "cannot read warning list", path);
	if (S_ISDIR(st.st_mode)) {
		size_t len = strlen(path) + 8;
		char *sub = xmalloc(len);
		snprintf(sub, len, "%s/lists", path);
		struct stat st2;
		int rc;
		if (!stat(sub, &st2) && S_ISDIR(st2.st_mode))
			rc = load_misp_dir(l, sub, err); /* the repository's top folder */
		else
			rc = load_misp_dir(l, path, err);
		free(sub);
		return rc;
	}
	return load_misp(l, path, err);
}

/* feed_name - "openphish" from ".../openphish_urls_first_seen.tsv"; a
 * generic file name (blocklist_domains.txt) takes its folder's name. */
static void feed_name(const char *path, char *out, size_t cap)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strcspn(base, "_-.");
	static const char *const generic[] = {"blocklist", "list", "domains", "urls",
					      "hosts",	   "feed", "bad",     NULL};
	int gen = n == 0;
	for (size_t i = 0; generic[i] && !gen; i++)
		if (strlen(generic[i]) == n && !strncmp(base, generic[i], n))
			gen = 1;
	if (gen && base != path) {
		const char *end = base - 1;
		const char *start = end;
		while (start > path && start[-1] != '/')
			start--;
		if (end > start) {
			base = start;
			n = (size_t)(end - start);
		}
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, base, n);
	out[n] = 0;
}

int lists_add_bad(struct lists *l, const char *spec, char **err)
{
	char name[128];
	const char *path = spec;
	const char *eq = strchr(spec, '=');
	if (eq && eq > spec && (size_t)(eq - spec) < sizeof(name) &&
	    !memchr(spec, '/', eq - spec)) {
		memcpy(name, spec, (size_t)(eq - spec));
		name[eq - spec] = 0;
		path = eq + 1;
	} else {
		feed_name(spec, name, sizeof(name));
	}
	FILE *f = fopen(path, "r");
	if (!f)
		return set_err(err, "cannot open bad list", path);
	int src = add_source(l, name, err);
	if (src < 0) {
		fclose(f);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	char key[SHIELD_MAX_LIST_ENTRY_BYTES + 4];
	while ((len = getline(&line, &cap, f)) >= 0) {
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
			       line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = 0;
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#' || (size_t)len > SHIELD_MAX_LIST_ENTRY_BYTES)
			continue;
		char *last = strrchr(s, '\t');
		if (!last)
			last = strrchr(s, ' ');
		if (last)
			s = last + 1;
		if (!strcmp(s, "entry") || !strcmp(s, "url") || !strcmp(s, "domain"))
			continue; /* TSV header */
		if (l->bad.n >= SHIELD_MAX_LIST_ENTRIES)
			break;
		int ok = strstr(s, "://") ? norm_url(s, key, sizeof(key))
					  : norm_host(s, strlen(s), key, sizeof(key));
		if (!ok)
			strset_add(&l->bad, key, strlen(key), (uint16_t)src);
	}
	free(line);
	int rerr = ferror(f);
	fclose(f);
	if (rerr)
		return set_err(err, "cannot read bad list", path);
	return 0;
}

/* host_lookup - the entry for host or its closest listed parent (never a
 * bare TLD). */
static long host_lookup(const struct strset *s, const char *host)
{
	char key[SHIELD_MAX_LIST_ENTRY_BYTES + 4];
	if (!host || !s->n || norm_host(host, strlen(host), key, sizeof(key)))
		return -1;
	const char *h = key + 2;
	while (h && strchr(h, '.')) {
		char probe[SHIELD_MAX_LIST_ENTRY_BYTES + 4];
		size_t n = strlen(h);
		probe[0] = 'h';
		probe[1] = ':';
		memcpy(probe + 2, h, n + 1);
		long e = strset_find(s, probe, n + 2);
		if (e >= 0)
			return e;
		h = strchr(h, '.');
		if (h)
			h++;
	}
	return -1;
}

const char *lists_good_host(const struct lists *l, const char *host)
{
	if (!host)
		return NULL;
	long e = host_lookup(&l->good, host);
	if (e >= 0)
		return l->sources[l->good.src[e]];
	for (size_t i = 0; i < l->n_subs; i++)
		for (size_t j = 0; j < l->subs[i].n; j++)
			if (strstr(host, l->subs[i].v[j]))
				return l->sources[l->subs[i].src];
	return NULL;
}

const char *lists_bad_url(const struct lists *l, const char *url, const char *host,
			  const char **what)
{
	char key[SHIELD_MAX_LIST_ENTRY_BYTES + 4];
	if (!l->bad.n)
		return NULL;
	if (url && !norm_url(url, key, sizeof(key))) {
		long e = strset_find(&l->bad, key, strlen(key));
		if (e >= 0) {
			*what = "url";
			return l->sources[l->bad.src[e]];
		}
	}
	long e = host_lookup(&l->bad, host);
	if (e >= 0) {
		*what = "host";
		return l->sources[l->bad.src[e]];
	}
	return NULL;
}

const char *lists_bad_host(const struct lists *l, const char *host)
{
	long e = host_lookup(&l->bad, host);
	return e >= 0 ? l->sources[l->bad.src[e]] : NULL;
}

size_t lists_good_count(const struct lists *l)
{
	return l->good.n;
}

size_t lists_bad_count(const struct lists *l)
{
	return l->bad.n;
}

size_t lists_skipped(const struct lists *l)
{
	return l->skipped;
}
