/*
 * contacts.c - contact resolution and importers (see contacts.h).
 *
 * Resolution structures are built once per run: AS contacts in a sorted
 * array, prefix contacts in an asn_table whose "AS number" is the contact
 * index + 1 (so the same flattening gives most-specific-wins), domains in
 * a sorted array matched by suffix. Rows of one key are layered: imports
 * by update time, operator rows last, so an override wins its key.
 * Importers run in one transaction each: a failed import changes nothing.
 * Security: imported addresses are checked to be one plain mailbox
 * (no spaces, quotes, commas, CR/LF) before they can reach an SMTP
 * envelope or header.
 */
#include "notify/contacts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "enrich/asn_io.h"
#include "store/store.h"
#include "store/store_notify.h"

struct asnmap {
	uint32_t asn;
	uint32_t idx;
};

struct contacts {
	struct contact *v;
	size_t n, cap;
	struct asnmap *as;
	size_t nas;
	struct asnmap *dom; /* asn field unused; idx sorted by key */
	size_t ndom;
	struct asn_table *pfx;
};

static int collect(void *ctx, const struct contact_row *r)
{
	struct contacts *c = ctx;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	struct contact *x = &c->v[c->n++];
	x->id = r->id;
	x->key_type = xstrdup(r->key_type);
	x->key = xstrdup(r->key);
	x->address = xstrdup(r->address);
	x->language = xstrdup(r->language);
	x->format = xstrdup(r->format);
	x->interval = r->interval;
	x->origin = xstrdup(r->origin);
	/* updated_at rides in interval's neighbour: keep ordering by id,
	 * which follows insertion and so re-import time */
	return 0;
}

/* layer_rank - later rank wins a tie on the same key. */
static int layer_rank(const struct contact *x)
{
	return strcmp(x->origin, "operator") == 0;
}

static const struct contacts *sort_ctx_unused;

static int cmp_asnmap(const void *a, const void *b)
{
	const struct asnmap *x = a, *y = b;
	if (x->asn != y->asn)
		return x->asn < y->asn ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* parse_range - a prefix/range key into an inclusive range. */
static int parse_range(const char *key, struct asn_ip *lo, struct asn_ip *hi)
{
	const char *slash = strchr(key, '/');
	const char *dash = strchr(key, '-');
	if (slash) {
		if (asn_parse_ip(key, (size_t)(slash - key), lo))
			return -1;
		char *end;
		long plen = strtol(slash + 1, &end, 10);
		if (*end || plen < 0 || plen > (lo->v6 ? 128 : 32))
			return -1;
		*hi = *lo;
		if (!lo->v6) {
			uint32_t m =
			    plen == 0 ? 0 : (plen == 32 ? UINT32_MAX : ~(UINT32_MAX >> plen));
			lo->v4 &= m;
			hi->v4 = lo->v4 | ~m;
		} else {
			int host = 128 - (int)plen;
			if (host >= 64) {
				lo->a6.lo = 0;
				hi->a6.lo = UINT64_MAX;
				uint64_t m = host >= 128 ? UINT64_MAX : ((1ull << (host - 64)) - 1);
				lo->a6.hi &= ~m;
				hi->a6.hi = lo->a6.hi | m;
			} else if (host > 0) {
				uint64_t m = (1ull << host) - 1;
				lo->a6.lo &= ~m;
				hi->a6.lo = lo->a6.lo | m;
				hi->a6.hi = lo->a6.hi;
			}
		}
		return 0;
	}
	if (dash) {
		const char *a = key, *ae = dash, *b = dash + 1;
		while (ae > a && ae[-1] == ' ')
			ae--;
		while (*b == ' ')
			b++;
		size_t bl = strlen(b);
		while (bl && b[bl - 1] == ' ')
			bl--;
		if (asn_parse_ip(a, (size_t)(ae - a), lo) || asn_parse_ip(b, bl, hi) ||
		    lo->v6 != hi->v6)
			return -1;
		return 0;
	}
	if (asn_parse_ip(key, strlen(key), lo))
		return -1;
	*hi = *lo;
	return 0;
}

static int cmp_dom(const void *a, const void *b, void *ctx);

struct contacts *contacts_load(struct store *st, char *why, size_t whylen)
{
	if (store_notify_migrate(st) != STORE_OK) {
		snprintf(why, whylen, "%s", store_errmsg(st));
		return NULL;
	}
	struct contacts *c = xcalloc(1, sizeof *c);
	if (store_contacts_each(st, collect, c) != STORE_OK) {
		snprintf(why, whylen, "%s", store_notify_errmsg(st));
		contacts_free(c);
		return NULL;
	}
	(void)sort_ctx_unused;
	/* AS: pick per AS the row with the highest (rank, id) */
	c->as = xmalloc((c->n + 1) * sizeof *c->as);
	c->dom = xmalloc((c->n + 1) * sizeof *c->dom);
	struct asn_builder *b = asn_builder_new(NULL, NULL);
	/* two passes so operator rows are added last to the prefix table */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->n; i++) {
			const struct contact *x = &c->v[i];
			if (layer_rank(x) != pass)
				continue;
			if (!strcmp(x->key_type, "asn")) {
				uint32_t asn = (uint32_t)strtoul(x->key + 2, NULL, 10);
				c->as[c->nas].asn = asn;
				c->as[c->nas++].idx = (uint32_t)i;
			} else if (!strcmp(x->key_type, "prefix")) {
				struct asn_ip lo, hi;
				if (parse_range(x->key, &lo, &hi))
					continue;
				if (lo.v6)
					asn_builder_add6(b, lo.a6, hi.a6, (uint32_t)i + 1);
				else
					asn_builder_add4(b, lo.v4, hi.v4, (uint32_t)i + 1);
			} else if (!strcmp(x->key_type, "domain")) {
				c->dom[c->ndom].asn = 0;
				c->dom[c->ndom++].idx = (uint32_t)i;
			}
		}
	}
	c->pfx = asn_builder_finish(b);
	/* For each AS keep the last layered row: sort by asn, then keep the
	 * entry with the best rank (operator) and newest id. */
	if (c->nas) /* qsort on an empty (NULL) array is undefined */
		qsort(c->as, c->nas, sizeof *c->as, cmp_asnmap);
	size_t k = 0;
	for (size_t i = 0; i < c->nas; i++) {
		if (k && c->as[k - 1].asn == c->as[i].asn) {
			const struct contact *prev = &c->v[c->as[k - 1].idx],
					     *cur = &c->v[c->as[i].idx];
			if (layer_rank(cur) > layer_rank(prev) ||
			    (layer_rank(cur) == layer_rank(prev) && cur->id > prev->id))
				c->as[k - 1] = c->as[i];
			continue;
		}
		c->as[k++] = c->as[i];
	}
	c->nas = k;
	qsort_r(c->dom, c->ndom, sizeof *c->dom, cmp_dom, c);
	return c;
}

static int cmp_dom(const void *a, const void *b, void *ctx)
{
	const struct contacts *c = ctx;
	const struct asnmap *x = a, *y = b;
	int r = strcmp(c->v[x->idx].key, c->v[y->idx].key);
	if (r)
		return r;
	return layer_rank(&c->v[x->idx]) - layer_rank(&c->v[y->idx]);
}

void contacts_free(struct contacts *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free((char *)c->v[i].key_type);
		free((char *)c->v[i].key);
		free((char *)c->v[i].address);
		free((char *)c->v[i].language);
		free((char *)c->v[i].format);
		free((char *)c->v[i].origin);
	}
	free(c->v);
	free(c->as);
	free(c->dom);
	asn_table_free(c->pfx);
	free(c);
}

const struct contact *contacts_for_asn(const struct contacts *c, uint32_t asn)
{
	if (!c || !asn)
		return NULL;
	size_t lo = 0, hi = c->nas;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->as[mid].asn < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nas && c->as[lo].asn == asn ? &c->v[c->as[lo].idx] : NULL;
}

const struct contact *contacts_resolve(const struct contacts *c, const struct asn_ip *ip,
				       uint32_t asn)
{
	if (!c)
		return NULL;
	uint32_t r = asn_table_find(c->pfx, ip);
	if (r)
		return &c->v[r - 1];
	return contacts_for_asn(c, asn);
}

const struct contact *contacts_for_domain(const struct contacts *c, const char *domain)
{
	if (!c || !domain)
		return NULL;
	/* the longest matching suffix wins: try the name, then each parent */
	for (const char *d = domain; d && *d;) {
		const struct contact *best = NULL;
		for (size_t i = 0; i < c->ndom; i++) {
			const struct contact *x = &c->v[c->dom[i].idx];
			if (!strcasecmp(x->key, d))
				best = x; /* sorted so the operator row comes last */
		}
		if (best)
			return best;
		d = strchr(d, '.');
		if (d)
			d++;
	}
	return NULL;
}

size_t contacts_count(const struct contacts *c)
{
	return c ? c->n : 0;
}

const struct contact *contacts_at(const struct contacts *c, size_t i)
{
	return c && i < c->n ? &c->v[i] : NULL;
}

/* ---- key and value checks ---- */

int contact_key_normalise(const char *in, char *type, size_t typelen, char *key, size_t keylen)
{
	while (*in == ' ')
		in++;
	size_t n = strlen(in);
	while (n && (in[n - 1] == ' ' || in[n - 1] == '.'))
		n--;
	if (n == 0 || n > 255)
		return -1;
	const char *d = in;
	if (n > 2 && (in[0] == 'A' || in[0] == 'a') && (in[1] == 'S' || in[1] == 's'))
		d = in + 2;
	size_t digits = 0;
	while (d + digits < in + n && isdigit((unsigned char)d[digits]))
		digits++;
	if (digits && d + digits == in + n && digits <= 10) {
		unsigned long long v = strtoull(d, NULL, 10);
		if (v == 0 || v > UINT32_MAX)
			return -1;
		snprintf(type, typelen, "asn");
		snprintf(key, keylen, "AS%llu", v);
		return 0;
	}
	char tmp[256];
	memcpy(tmp, in, n);
	tmp[n] = '\0';
	struct asn_ip lo, hi;
	if (strchr(tmp, ':') || strchr(tmp, '/') ||
	    (isdigit((unsigned char)tmp[0]) && parse_range(tmp, &lo, &hi) == 0)) {
		if (parse_range(tmp, &lo, &hi))
			return -1;
		char a[64], z[64];
		asn_format_ip(&lo, a, sizeof a);
		asn_format_ip(&hi, z, sizeof z);
		snprintf(type, typelen, "prefix");
		const char *slash = strchr(tmp, '/');
		if (slash)
			snprintf(key, keylen, "%s%s", a, slash);
		else if (!strcmp(a, z))
			snprintf(key, keylen, "%s/%d", a, lo.v6 ? 128 : 32);
		else
			snprintf(key, keylen, "%s-%s", a, z);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)tmp[i];
		if (!(isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch >= 0x80))
			return -1;
		tmp[i] = (char)tolower(ch);
	}
	snprintf(type, typelen, "domain");
	snprintf(key, keylen, "%s", tmp);
	return 0;
}

int contact_language_ok(const char *lang)
{
	return !strcmp(lang, "nl") || !strcmp(lang, "fr") || !strcmp(lang, "de") ||
	       !strcmp(lang, "en");
}

int contact_format_ok(const char *fmt)
{
	return !strcmp(fmt, "csv") || !strcmp(fmt, "csv+xarf");
}

long contact_parse_interval(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || v <= 0)
		return -1;
	long mult = 1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		mult = 1;
	else if (!strcmp(end, "m"))
		mult = 60;
	else if (!strcmp(end, "h"))
		mult = 3600;
	else if (!strcmp(end, "d"))
		mult = 86400;
	else
		return -1;
	if (v > 366L * 86400 / mult)
		return -1;
	return v * mult;
}

/* mailbox_ok - one bare addr-spec; anything that could break an SMTP
 * command or header line is refused. */
static int mailbox_ok(const char *a)
{
	const char *at = strchr(a, '@');
	if (!at || at == a || !at[1] || strchr(at + 1, '@') || strlen(a) > 254)
		return 0;
	for (const char *p = a; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch <= ' ' || ch == '"' || ch == ',' || ch == '<' || ch == '>' || ch == '(' ||
		    ch == ')' || ch == ';' || ch == '\\' || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* ---- CSV import ---- */

struct import {
	struct store *st;
	const char *origin;
	contact_warn_fn warn;
	void *ctx;
	long added, bad;
};

static void iwarn(struct import *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void iwarn(struct import *im, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	im->bad++;
	if (im->warn)
		im->warn(im->ctx, msg);
}

static int put(struct import *im, const char *where, const char *rawkey, const char *addr,
	       const char *lang, const char *fmt, long interval)
{
	char type[16], key[256];
	if (contact_key_normalise(rawkey, type, sizeof type, key, sizeof key)) {
		iwarn(im, "%s: not an AS, prefix or domain: '%.80s'", where, rawkey);
		return -1;
	}
	if (!mailbox_ok(addr)) {
		iwarn(im, "%s: not a plain e-mail address: '%.80s'", where, addr);
		return -1;
	}
	if (!contact_language_ok(lang)) {
		iwarn(im, "%s: language '%.8s' is not nl, fr, de or en", where, lang);
		return -1;
	}
	if (!contact_format_ok(fmt)) {
		iwarn(im, "%s: format '%.16s' is not csv or csv+xarf", where, fmt);
		return -1;
	}
	struct contact_row r = {0, type, key, addr, lang, fmt, im->origin, interval, 0};
	if (store_contact_put(im->st, &r) != STORE_OK) {
		iwarn(im, "%s: cannot store contact: %s", where, store_notify_errmsg(im->st));
		return -1;
	}
	im->added++;
	return 0;
}

static int begin_import(struct store *st, const char *origin, char *err, size_t errlen)
{
	if (store_notify_migrate(st) != STORE_OK || store_begin(st) != STORE_OK) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	if (store_contacts_clear_origin(st, origin, NULL) != STORE_OK) {
		snprintf(err, errlen, "%s", store_notify_errmsg(st));
		store_rollback(st);
		return -1;
	}
	return 0;
}

static long end_import(struct store *st, struct import *im, int ok, char *err, size_t errlen)
{
	if (!ok) {
		store_rollback(st);
		return -1;
	}
	if (store_commit(st) != STORE_OK) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		store_rollback(st);
		return -1;
	}
	return im->added;
}

static char *trim(char *s, size_t *n)
{
	while (*n && (*s == ' ' || *s == '\t')) {
		s++;
		(*n)--;
	}
	while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	s[*n] = '\0';
	return s;
}

long contacts_import_csv(struct store *st, const char *source, const char *const *paths, int n,
			 contact_warn_fn warn, void *ctx, char *err, size_t errlen)
{
	struct import im = {st, source, warn, ctx, 0, 0};
	if (begin_import(st, source, err, errlen))
		return -1;
	int ok = 1;
	for (int p = 0; p < n && ok; p++) {
		struct zreader *z = zr_open(paths[p], 64 * 1024, err, errlen);
		if (!z) {
			ok = 0;
			break;
		}
		/* column order: key,address,language,format,interval unless a
		 * header says otherwise */
		int col_key = 0, col_addr = 1, col_lang = 2, col_fmt = 3, col_int = 4;
		char *line;
		size_t len;
		int toolong, r;
		unsigned long lineno = 0;
		while ((r = zr_getline(z, &line, &len, &toolong)) > 0) {
			lineno++;
			char where[600];
			snprintf(where, sizeof where, "%s:%lu", paths[p], lineno);
			if (toolong) {
				iwarn(&im, "%s: line too long", where);
				continue;
			}
			if (!len || line[0] == '#')
				continue;
			char *f[16];
			size_t fl[16];
			int nf = csv_split(line, len, ',', f, fl, 16);
			if (nf < 0) {
				iwarn(&im, "%s: unterminated quote", where);
				continue;
			}
			for (int i = 0; i < nf; i++)
				f[i] = trim(f[i], &fl[i]);
			if (lineno == 1) {
				int hdr = 0;
				for (int i = 0; i < nf; i++) {
					const char *h = f[i];
					if (!strcasecmp(h, "address") || !strcasecmp(h, "email") ||
					    !strcasecmp(h, "abuse-mailbox"))
						col_addr = i, hdr = 1;
					else if (!strcasecmp(h, "key") || !strcasecmp(h, "asn") ||
						 !strcasecmp(h, "network") ||
						 !strcasecmp(h, "prefix"))
						col_key = i, hdr = 1;
					else if (!strcasecmp(h, "language") ||
						 !strcasecmp(h, "lang"))
						col_lang = i;
					else if (!strcasecmp(h, "format"))
						col_fmt = i;
					else if (!strcasecmp(h, "interval"))
						col_int = i;
				}
				if (hdr)
					continue;
			}
			if (nf <= col_key || nf <= col_addr) {
				iwarn(&im, "%s: needs at least key and address", where);
				continue;
			}
			const char *lang = nf > col_lang && fl[col_lang] ? f[col_lang] : "en";
			const char *fmt = nf > col_fmt && fl[col_fmt] ? f[col_fmt] : "csv";
			long interval = 86400;
			if (nf > col_int && fl[col_int]) {
				interval = contact_parse_interval(f[col_int]);
				if (interval < 0) {
					iwarn(&im, "%s: bad interval '%.20s'", where, f[col_int]);
					continue;
				}
			}
			char lower[8];
			snprintf(lower, sizeof lower, "%s", lang);
			for (char *q = lower; *q; q++)
				*q = (char)tolower((unsigned char)*q);
			put(&im, where, f[col_key], f[col_addr], lower, fmt, interval);
		}
		if (r < 0) {
			snprintf(err, errlen, "%s: read error: %s", paths[p], zr_error(z));
			ok = 0;
		}
		zr_close(z);
	}
	return end_import(st, &im, ok, err, errlen);
}

/* ---- RIPE split dumps ---- */

struct robj {
	char cls[16];  /* role, irt, organisation, aut-num, inetnum, inet6num */
	char key[128]; /* primary key value (nic-hdl for role) */
	char abuse_c[64], org[64], mailbox[256], country[8];
};

struct robjs {
	struct robj *v;
	size_t n, cap;
};

static void rpsl_value(char *dst, size_t dstlen, const char *v, size_t n)
{
	/* strip end-of-line comments and surrounding space */
	const char *hash = memchr(v, '#', n);
	if (hash)
		n = (size_t)(hash - v);
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static void upcase(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

static const char *lang_of_country(const char *cc)
{
	if (!strcasecmp(cc, "NL"))
		return "nl";
	if (!strcasecmp(cc, "FR") || !strcasecmp(cc, "LU") || !strcasecmp(cc, "MC"))
		return "fr";
	if (!strcasecmp(cc, "DE") || !strcasecmp(cc, "AT") || !strcasecmp(cc, "LI"))
		return "de";
	/* BE and CH are multilingual: English until an operator override */
	return "en";
}

static int read_ripe(struct import *im, const char *path, struct robjs *os, char *err,
		     size_t errlen)
{
	struct zreader *z = zr_open(path, 64 * 1024, err, errlen);
	if (!z)
		return -1;
	char *line;
	size_t len;
	int toolong, r;
	struct robj cur;
	int have = 0;
	char last_attr[32] = "";
	memset(&cur, 0, sizeof cur);
	for (;;) {
		r = zr_getline(z, &line, &len, &toolong);
		int end_obj = r <= 0 || len == 0;
		if (end_obj) {
			if (have && cur.cls[0]) {
				if (os->n == os->cap) {
					os->cap = os->cap ? os->cap * 2 : 256;
					os->v = xrealloc(os->v, os->cap * sizeof *os->v);
				}
				os->v[os->n++] = cur;
			}
			memset(&cur, 0, sizeof cur);
			have = 0;
			if (r <= 0)
				break;
			continue;
		}
		if (toolong || line[0] == '%' || line[0] == '#')
			continue;
		if (line[0] == ' ' || line[0] == '\t' || line[0] == '+')
			continue; /* continuation: no attribute we read spans lines */
		char *colon = memchr(line, ':', len);
		if (!colon)
			continue;
		size_t an = (size_t)(colon - line);
		const char *v = colon + 1;
		size_t vn = len - an - 1;
		char attr[32];
		if (an >= sizeof attr)
			continue;
		memcpy(attr, line, an);
		attr[an] = '\0';
		for (char *q = attr; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		if (!have) {
			/* the first attribute names the class */
			have = 1;
			snprintf(cur.cls, sizeof cur.cls, "%s", attr);
			rpsl_value(cur.key, sizeof cur.key, v, vn);
		}
		if (!strcmp(attr, "nic-hdl") && !strcmp(cur.cls, "role")) {
			rpsl_value(cur.key, sizeof cur.key, v, vn);
			upcase(cur.key);
		} else if (!strcmp(attr, "abuse-c")) {
			rpsl_value(cur.abuse_c, sizeof cur.abuse_c, v, vn);
			upcase(cur.abuse_c);
		} else if (!strcmp(attr, "org")) {
			rpsl_value(cur.org, sizeof cur.org, v, vn);
			upcase(cur.org);
		} else if (!strcmp(attr, "abuse-mailbox") && !cur.mailbox[0]) {
			rpsl_value(cur.mailbox, sizeof cur.mailbox, v, vn);
		} else if (!strcmp(attr, "country") && !cur.country[0]) {
			rpsl_value(cur.country, sizeof cur.country, v, vn);
		}
		snprintf(last_attr, sizeof last_attr, "%s", attr);
	}
	if (r < 0)
		iwarn(im, "%s: read error: %s (objects before it are used)", path, zr_error(z));
	zr_close(z);
	return 0;
}

static int cmp_robj_key(const void *a, const void *b)
{
	const struct robj *x = a, *y = b;
	int c = strcmp(x->cls, y->cls);
	return c ? c : strcmp(x->key, y->key);
}

static const struct robj *robj_find(const struct robjs *os, const char *cls, const char *key)
{
	struct robj k;
	memset(&k, 0, sizeof k);
	snprintf(k.cls, sizeof k.cls, "%s", cls);
	snprintf(k.key, sizeof k.key, "%s", key);
	return bsearch(&k, os->v, os->n, sizeof *os->v, cmp_robj_key);
}

long contacts_import_ripe(struct store *st, const char *source, const char *const *paths, int n,
			  contact_warn_fn warn, void *ctx, char *err, size_t errlen)
{
	struct import im = {st, source, warn, ctx, 0, 0};
	struct robjs os = {0};
	for (int p = 0; p < n; p++)
		if (read_ripe(&im, paths[p], &os, err, errlen)) {
			free(os.v);
			return -1;
		}
	/* organisation keys are upper-cased handles too */
	for (size_t i = 0; i < os.n; i++)
		if (!strcmp(os.v[i].cls, "organisation") || !strcmp(os.v[i].cls, "irt"))
			upcase(os.v[i].key);
	if (os.n) /* qsort on an empty (NULL) array is undefined */
		qsort(os.v, os.n, sizeof *os.v, cmp_robj_key);
	if (begin_import(st, source, err, errlen)) {
		free(os.v);
		return -1;
	}
	for (size_t i = 0; i < os.n; i++) {
		const struct robj *o = &os.v[i];
		int is_res = !strcmp(o->cls, "aut-num") || !strcmp(o->cls, "inetnum") ||
			     !strcmp(o->cls, "inet6num");
		if (!is_res)
			continue;
		const char *abuse = o->abuse_c, *cc = o->country;
		const struct robj *org = o->org[0] ? robj_find(&os, "organisation", o->org) : NULL;
		if (!abuse[0] && org)
			abuse = org->abuse_c;
		if (!cc[0] && org)
			cc = org->country;
		char where[600];
		snprintf(where, sizeof where, "%s %s", o->cls, o->key);
		if (!abuse[0])
			continue; /* inherits from a covering object, if any */
		const struct robj *role = robj_find(&os, "role", abuse);
		if (!role)
			role = robj_find(&os, "irt", abuse);
		if (!role || !role->mailbox[0]) {
			iwarn(&im, "%s: abuse-c %s has no abuse-mailbox in the dump", where, abuse);
			continue;
		}
		put(&im, where, o->key, role->mailbox, lang_of_country(cc), "csv", 86400);
	}
	free(os.v);
	return end_import(st, &im, 1, err, errlen);
}
