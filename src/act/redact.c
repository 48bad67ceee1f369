/*
 * redact.c - victim identifiers out of shared data (see redact.h).
 */
#include "act/redact.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/xalloc.h"

/* Longest value redacted; longer input is cut (URLs are capped well below
 * this by the extractor). */
#define REDACT_MAX (64u * 1024u)

static const char *const generic_names[] = {
    "info",  "mail",	"email",   "admin", "contact", "support",   "office",
    "hello", "sales",	"user",	   "test",  "noreply", "webmaster", "postmaster",
    "abuse", "service", "billing", "help",  "account", "team",	    "the",
    "and",   "www",	"http",	   "https", "com",     "net",	    "org",
};

void redact_init(struct redactor *r)
{
	memset(r, 0, sizeof *r);
}

static void push(char ***v, size_t *n, size_t *cap, char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0) {
			free(s);
			return;
		}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = s;
}

void redact_release(struct redactor *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->tok[i]);
	for (size_t i = 0; i < r->nb; i++)
		free(r->b64[i]);
	for (size_t i = 0; i < r->na; i++)
		free(r->addr[i]);
	free(r->tok);
	free(r->b64);
	free(r->addr);
	redact_init(r);
}

static char *lower_dup(const char *s, size_t n)
{
	char *d = xstrndup(s, n);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static int generic(const char *t)
{
	for (size_t i = 0; i < sizeof generic_names / sizeof *generic_names; i++)
		if (strcmp(t, generic_names[i]) == 0)
			return 1;
	return 0;
}

static char *base64(const char *s)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s);
	char *o = xmalloc(n / 3 * 4 + 8);
	size_t k = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 |
			     (unsigned char)s[i + 2];
		o[k++] = tab[v >> 18];
		o[k++] = tab[(v >> 12) & 63];
		o[k++] = tab[(v >> 6) & 63];
		o[k++] = tab[v & 63];
	}
	/* the last, partial group is left out: its characters depend on what
	 * follows the address, and the full groups identify it already */
	o[k] = '\0';
	return o;
}

void redact_add_victim(struct redactor *r, const char *addr)
{
	if (!addr)
		return;
	while (*addr == ' ' || *addr == '<')
		addr++;
	size_t n = strcspn(addr, "> \t\r\n");
	if (n < 3 || n > 512)
		return;
	char *a = lower_dup(addr, n);
	char *at = strchr(a, '@');
	if (at) {
		push(&r->addr, &r->na, &r->capa, xstrdup(a));
		push(&r->tok, &r->n, &r->cap, xstrdup(a));
		push(&r->b64, &r->nb, &r->capb, base64(a));
		if (at - a >= 3) {
			char *local = xstrndup(a, (size_t)(at - a));
			if (!generic(local))
				push(&r->tok, &r->n, &r->cap, local);
			else
				free(local);
		}
		*at = '\0';
	}
	/* name tokens of the local part (or of a bare name) */
	for (char *p = a; *p;) {
		size_t len = strcspn(p, "._-+ 0123456789");
		if (len >= 3) {
			char *t = xstrndup(p, len);
			if (!generic(t))
				push(&r->tok, &r->n, &r->cap, t);
			else
				free(t);
		}
		p += len;
		if (*p)
			p++;
	}
	free(a);
}

int redact_is_victim(const struct redactor *r, const char *value)
{
	if (!value)
		return 0;
	for (size_t i = 0; i < r->na; i++)
		if (strcasecmp(value, r->addr[i]) == 0)
			return 1;
	return 0;
}

/* find_victim - first victim identifier in s[0..n) (case-insensitive for
 * tokens, exact for base64); *len its length. */
static const char *find_victim(const struct redactor *r, const char *s, size_t n, size_t *len)
{
	const char *best = NULL;
	size_t bl = 0;
	for (size_t i = 0; i < r->n; i++) {
		size_t tl = strlen(r->tok[i]);
		for (size_t k = 0; k + tl <= n; k++)
			if (strncasecmp(s + k, r->tok[i], tl) == 0) {
				if (!best || s + k < best || (s + k == best && tl > bl)) {
					best = s + k;
					bl = tl;
				}
				break;
			}
	}
	for (size_t i = 0; i < r->nb; i++) {
		size_t tl = strlen(r->b64[i]);
		if (tl < 4)
			continue;
		for (size_t k = 0; k + tl <= n; k++)
			if (memcmp(s + k, r->b64[i], tl) == 0) {
				if (!best || s + k < best) {
					best = s + k;
					bl = tl;
				}
				break;
			}
	}
	*len = bl;
	return best;
}

/* email_at - an e-mail address in s[0..n) around an '@': start and length. */
static const char *find_email(const char *s, size_t n, size_t *len)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '@')
			continue;
		size_t a = i, b = i + 1;
		while (a > 0 && (isalnum((unsigned char)s[a - 1]) || strchr("._%+-'", s[a - 1])))
			a--;
		while (b < n && (isalnum((unsigned char)s[b]) || s[b] == '.' || s[b] == '-'))
			b++;
		if (a < i && b > i + 1 && memchr(s + i + 1, '.', b - i - 1)) {
			*len = b - a;
			return s + a;
		}
	}
	return NULL;
}

char *redact_text(const struct redactor *r, const char *s)
{
	if (!s)
		return NULL;
	struct buf b = BUF_INIT(REDACT_MAX + 32);
	size_t n = strnlen(s, REDACT_MAX);
	size_t i = 0;
	while (i < n) {
		size_t vl = 0, el = 0;
		const char *v = find_victim(r, s + i, n - i, &vl);
		const char *e = find_email(s + i, n - i, &el);
		const char *hit = v;
		size_t hl = vl;
		if (e && (!hit || e < hit || (e == hit && el > hl))) {
			hit = e;
			hl = el;
		}
		if (!hit) {
			buf_add(&b, s + i, n - i);
			break;
		}
		buf_add(&b, s + i, (size_t)(hit - (s + i)));
		buf_adds(&b, "[REDACTED]");
		i = (size_t)(hit - s) + hl;
	}
	if (!b.data)
		return xstrdup("");
	return buf_detach(&b, NULL);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* pct_decode - percent-decode s[0..n) ('+' as space) into a new string. */
static char *pct_decode(const char *s, size_t n)
{
	char *o = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			o[k++] = (char)(hexval((unsigned char)s[i + 1]) * 16 +
					hexval((unsigned char)s[i + 2]));
			i += 2;
		} else {
			o[k++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	o[k] = '\0';
	return o;
}

/* b64_decode - decode standard or URL-safe base64 (no padding needed);
 * NULL if s is not base64 or too short to hide an address. */
static char *b64_decode(const char *s, size_t n)
{
	while (n && s[n - 1] == '=')
		n--;
	if (n < 8)
		return NULL;
	char *o = xmalloc(n * 3 / 4 + 4);
	size_t k = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i], v;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else {
			free(o);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (char)((acc >> bits) & 0xff);
		}
	}
	o[k] = '\0';
	return o;
}

/* sensitive - does s[0..n) (a URL component) hold a victim identifier or
 * an e-mail address, plainly, percent-encoded or in base64? */
static int sensitive(const struct redactor *r, const char *s, size_t n)
{
	size_t l;
	if (find_victim(r, s, n, &l) || find_email(s, n, &l))
		return 1;
	char *d = pct_decode(s, n);
	size_t dn = strlen(d);
	int hit = find_victim(r, d, dn, &l) || find_email(d, dn, &l);
	if (!hit) {
		char *b = b64_decode(d, dn);
		if (b) {
			size_t bn = strlen(b);
			hit = find_victim(r, b, bn, &l) || find_email(b, bn, &l);
			free(b);
		}
	}
	free(d);
	return hit;
}

struct url_parts {
	const char *scheme, *user, *host, *port, *path, *query, *frag;
	size_t scheme_n, user_n, host_n, port_n, path_n, query_n, frag_n;
};

static int split_url(const char *u, struct url_parts *p)
{
	memset(p, 0, sizeof *p);
	const char *s = strstr(u, "://");
	if (!s)
		return -1;
	p->scheme = u;
	p->scheme_n = (size_t)(s - u);
	const char *a = s + 3;
	size_t an = strcspn(a, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < an; i++)
		if (a[i] == '@')
			at = a + i;
	if (at) {
		p->user = a;
		p->user_n = (size_t)(at - a);
		an -= p->user_n + 1;
		a = at + 1;
	}
	p->host = a;
	p->host_n = an;
	if (an && a[0] != '[') {
		const char *c = memchr(a, ':', an);
		if (c) {
			p->host_n = (size_t)(c - a);
			p->port = c;
			p->port_n = an - p->host_n;
		}
	} else if (an) {
		const char *c = memchr(a, ']', an);
		if (c && (size_t)(c - a) + 1 < an) {
			p->host_n = (size_t)(c - a) + 1;
			p->port = c + 1;
			p->port_n = an - p->host_n;
		}
	}
	const char *rest = a + an;
	p->path = rest;
	p->path_n = strcspn(rest, "?#");
	rest += p->path_n;
	if (*rest == '?') {
		p->query = rest + 1;
		p->query_n = strcspn(p->query, "#");
		rest = p->query + p->query_n;
	}
	if (*rest == '#') {
		p->frag = rest + 1;
		p->frag_n = strlen(p->frag);
	}
	return 0;
}

/* add_host - host with labels naming a victim replaced. */
static void add_host(struct buf *b, const struct redactor *r, const struct url_parts *p)
{
	const char *h = p->host, *end = p->host + p->host_n;
	while (h < end) {
		const char *dot = memchr(h, '.', (size_t)(end - h));
		size_t ln = dot ? (size_t)(dot - h) : (size_t)(end - h);
		int hit = 0;
		for (size_t i = 0; i < r->n && !hit; i++)
			hit = strlen(r->tok[i]) == ln && strncasecmp(h, r->tok[i], ln) == 0;
		for (size_t i = 0; i < r->na && !hit; i++) {
			/* the full local part inside a label */
			const char *at = strchr(r->addr[i], '@');
			size_t ll = at ? (size_t)(at - r->addr[i]) : 0;
			for (size_t k = 0; ll >= 3 && k + ll <= ln && !hit; k++)
				hit = strncasecmp(h + k, r->addr[i], ll) == 0;
		}
		if (hit)
			buf_adds(b, "redacted");
		else
			buf_add(b, h, ln);
		if (!dot)
			break;
		buf_addc(b, '.');
		h = dot + 1;
	}
}

char *redact_url_share(const struct redactor *r, const char *url)
{
	struct url_parts p;
	if (!url)
		return NULL;
	if (split_url(url, &p) < 0)
		return redact_text(r, url);
	struct buf b = BUF_INIT(REDACT_MAX + 64);
	buf_add(&b, p.scheme, p.scheme_n);
	buf_adds(&b, "://");
	if (p.user) {
		if (sensitive(r, p.user, p.user_n))
			buf_adds(&b, "REDACTED");
		else
			buf_add(&b, p.user, p.user_n);
		buf_addc(&b, '@');
	}
	add_host(&b, r, &p);
	buf_add(&b, p.port, p.port_n);
	const char *s = p.path, *end = p.path + p.path_n;
	while (s < end) {
		/* s points at '/' */
		const char *next = memchr(s + 1, '/', (size_t)(end - s - 1));
		size_t sn = next ? (size_t)(next - s - 1) : (size_t)(end - s - 1);
		buf_addc(&b, '/');
		if (sn && sensitive(r, s + 1, sn))
			buf_adds(&b, "REDACTED");
		else
			buf_add(&b, s + 1, sn);
		s = next ? next : end;
	}
	if (p.query) {
		buf_addc(&b, '?');
		const char *q = p.query, *qend = p.query + p.query_n;
		while (q < qend) {
			const char *amp = memchr(q, '&', (size_t)(qend - q));
			size_t pn = amp ? (size_t)(amp - q) : (size_t)(qend - q);
			const char *eq = memchr(q, '=', pn);
			size_t kn = eq ? (size_t)(eq - q) : pn;
			if (kn && sensitive(r, q, kn))
				buf_adds(&b, "REDACTED");
			else
				buf_add(&b, q, kn);
			if (eq || pn > kn)
				buf_adds(&b, "=REDACTED");
			if (!amp)
				break;
			buf_addc(&b, '&');
			q = amp + 1;
		}
	}
	if (p.frag && p.frag_n)
		buf_adds(&b, "#REDACTED");
	return buf_detach(&b, NULL);
}

char *redact_url_block(const struct redactor *r, const char *url, int *cut)
{
	struct url_parts p;
	*cut = 0;
	if (!url)
		return NULL;
	if (split_url(url, &p) < 0)
		return NULL;
	struct buf b = BUF_INIT(REDACT_MAX + 64);
	buf_add(&b, p.scheme, p.scheme_n);
	buf_adds(&b, "://");
	size_t hostpos = b.len;
	add_host(&b, r, &p);
	if (strstr(b.data + hostpos, "redacted")) {
		/* the host itself names the victim: nothing publishable */
		buf_release(&b);
		*cut = 1;
		return NULL;
	}
	buf_add(&b, p.port, p.port_n);
	const char *s = p.path, *end = p.path + p.path_n;
	if (s == end)
		buf_addc(&b, '/');
	while (s < end) {
		const char *next = memchr(s + 1, '/', (size_t)(end - s - 1));
		size_t sn = next ? (size_t)(next - s - 1) : (size_t)(end - s - 1);
		buf_addc(&b, '/');
		if (sn && sensitive(r, s + 1, sn)) {
			*cut = 1;
			break;
		}
		buf_add(&b, s + 1, sn);
		s = next ? next : end;
	}
	return buf_detach(&b, NULL);
}
