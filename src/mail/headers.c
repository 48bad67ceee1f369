/*
 * headers.c - trace and authentication header parsers (see headers.h).
 *
 * Security: every value is attacker-controlled, including Received lines
 * below the receiver's own, which spammers forge. Parsers scan once with
 * bounded lookahead and never recurse; comments nest at most a few levels
 * in practice and are skipped with a depth counter capped at 8.
 */
#include "mail/headers.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

int ip_parse(const char *s, size_t n, char out[46])
{
	char tmp[64];
	if (n == 0 || n >= sizeof tmp)
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	const char *p = tmp;
	if (strncasecmp(p, "IPv6:", 5) == 0)
		p += 5;
	unsigned char bin[16];
	if (inet_pton(AF_INET, p, bin) == 1) {
		inet_ntop(AF_INET, bin, out, 46);
		return 4;
	}
	if (inet_pton(AF_INET6, p, bin) == 1) {
		/* An IPv4-mapped IPv6 address is the IPv4 address. */
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(bin, mapped, 12) == 0) {
			inet_ntop(AF_INET, bin + 12, out, 46);
			return 4;
		}
		inet_ntop(AF_INET6, bin, out, 46);
		return 6;
	}
	return 0;
}

int ip_is_public(const char *ip)
{
	unsigned char b[16];
	if (inet_pton(AF_INET, ip, b) == 1) {
		if (b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224)
			return 0;
		if (b[0] == 100 && (b[1] & 0xc0) == 64) /* 100.64/10 CGNAT */
			return 0;
		if (b[0] == 169 && b[1] == 254)
			return 0;
		if (b[0] == 172 && (b[1] & 0xf0) == 16)
			return 0;
		if (b[0] == 192 && b[1] == 168)
			return 0;
		if (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2))
			return 0;
		if (b[0] == 198 && (b[1] & 0xfe) == 18) /* benchmarking */
			return 0;
		if ((b[0] == 198 && b[1] == 51 && b[2] == 100) ||
		    (b[0] == 203 && b[1] == 0 && b[2] == 113))
			return 0;
		return 1;
	}
	if (inet_pton(AF_INET6, ip, b) == 1) {
		static const unsigned char zero[16];
		if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
			return 0;
		if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
			return 0;
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 */
			return 0;
		if (b[0] == 0xff) /* multicast */
			return 0;
		if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d &&
		    b[3] == 0xb8) /* 2001:db8::/32 */
			return 0;
		return 1;
	}
	return 0;
}

/* skip_cfws - skip spaces and (nested) comments, bounded. */
static const char *skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* word_end - end of an atom-like token. */
static const char *word_end(const char *p)
{
	while (*p && !isspace((unsigned char)*p) && *p != '(' && *p != ';' && *p != ')')
		p++;
	return p;
}

/* find_ip_in - the first IP literal in [s, e): inside [...] or bare. */
static int find_ip_in(const char *s, const char *e, char out[46])
{
	for (const char *p = s; p < e; p++) {
		if (*p == '[') {
			const char *q = memchr(p, ']', (size_t)(e - p));
			if (q && ip_parse(p + 1, (size_t)(q - p - 1), out))
				return 1;
		}
	}
	/* bare addresses: try each token made of hex digits, dots and colons */
	const char *p = s;
	while (p < e) {
		while (p < e && !isxdigit((unsigned char)*p) && *p != ':')
			p++;
		const char *q = p;
		while (q < e && (isxdigit((unsigned char)*q) || *q == '.' || *q == ':'))
			q++;
		if (q - p >= 7 && ip_parse(p, (size_t)(q - p), out))
			return 1;
		p = q > p ? q : p + 1;
	}
	return 0;
}

int received_parse(struct arena *a, const char *v, struct hop *out)
{
	memset(out, 0, sizeof *out);
	const char *semi = strrchr(v, ';');
	const char *end = semi ? semi : v + strlen(v);
	int got = 0;
	const char *p = skip_ws(v);
	while (p < end) {
		const char *w = word_end(p);
		size_t wl = (size_t)(w - p);
		const char *val = skip_ws(w);
		if (val >= end)
			break;
		const char *ve = word_end(val);
		if (ve > end)
			ve = end;
		if (wl == 4 && strncasecmp(p, "from", 4) == 0 && !out->from) {
			out->from = arena_strndup(a, val, (size_t)(ve - val));
			/* the comment after the from name holds the connecting IP */
			const char *c = skip_ws(ve);
			const char *ce = c;
			if (*c == '(') {
				int depth = 0;
				for (ce = c; ce < end; ce++) {
					if (*ce == '(' && depth < 8)
						depth++;
					else if (*ce == ')' && --depth == 0) {
						ce++;
						break;
					}
				}
			}
			char ip[46];
			if ((ce > c && find_ip_in(c, ce, ip)) ||
			    ip_parse(val, (size_t)(ve - val), ip) ||
			    (val[0] == '[' && find_ip_in(val, ve, ip)))
				out->ip = arena_strdup(a, ip);
			got = 1;
			p = ce > ve ? ce : ve;
			continue;
		} else if (wl == 2 && strncasecmp(p, "by", 2) == 0 && !out->by) {
			out->by = arena_strndup(a, val, (size_t)(ve - val));
			got = 1;
			p = ve;
			continue;
		} else if (wl == 4 && strncasecmp(p, "with", 4) == 0 && !out->with) {
			out->with = arena_strndup(a, val, (size_t)(ve - val));
			got = 1;
			p = ve;
			continue;
		}
		if (*w == '(') { /* skip a comment we do not use */
			int depth = 0;
			const char *q = w;
			for (; q < end; q++) {
				if (*q == '(' && depth < 8)
					depth++;
				else if (*q == ')' && --depth == 0)
					break;
			}
			p = q < end ? skip_ws(q + 1) : end;
			continue;
		}
		p = skip_ws(w > p ? w : p + 1);
	}
	if (semi) {
		const char *d = skip_ws(semi + 1);
		size_t dl = strlen(d);
		while (dl && isspace((unsigned char)d[dl - 1]))
			dl--;
		if (dl) {
			out->date = arena_strndup(a, d, dl);
			got = 1;
		}
	}
	return got;
}

/* method_result - find "method=result" in v; returns the result token. */
static char *method_result(struct arena *a, const char *v, const char *method, int prefer_pass)
{
	size_t ml = strlen(method);
	char *found = NULL;
	for (const char *p = v; (p = strcasestr(p, method)) != NULL; p += ml) {
		/* must start a token: start, space, ';' or '(' before it */
		if (p != v && !(isspace((unsigned char)p[-1]) || p[-1] == ';'))
			continue;
		const char *q = skip_ws(p + ml);
		if (*q != '=')
			continue;
		q = skip_ws(q + 1);
		const char *e = q;
		while (*e && (isalnum((unsigned char)*e) || *e == '_' || *e == '-'))
			e++;
		if (e == q)
			continue;
		if (!found)
			found = arena_strndup(a, q, (size_t)(e - q));
		if (!prefer_pass)
			break;
		if (e - q == 4 && strncasecmp(q, "pass", 4) == 0)
			return arena_strndup(a, q, 4);
	}
	if (found)
		for (char *c = found; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	return found;
}

void authres_parse(struct arena *a, const char *v, char **spf, char **dkim, char **dmarc)
{
	if (!*spf)
		*spf = method_result(a, v, "spf", 0);
	if (!*dkim)
		*dkim = method_result(a, v, "dkim", 1);
	if (!*dmarc)
		*dmarc = method_result(a, v, "dmarc", 0);
}

char *received_spf_parse(struct arena *a, const char *v)
{
	const char *p = skip_ws(v);
	const char *e = p;
	while (*e && isalpha((unsigned char)*e))
		e++;
	if (e == p)
		return NULL;
	char *r = arena_strndup(a, p, (size_t)(e - p));
	for (char *c = r; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return r;
}

/* tag_value - value of tag t= in a DKIM tag list (RFC 6376 3.2). */
static char *tag_value(struct arena *a, const char *v, const char *tag)
{
	size_t tl = strlen(tag);
	const char *p = v;
	while (*p) {
		p = skip_ws(p);
		const char *name = p;
		while (*p && *p != '=' && *p != ';')
			p++;
		const char *ne = p;
		while (ne > name && isspace((unsigned char)ne[-1]))
			ne--;
		if (*p != '=') {
			if (*p)
				p++;
			continue;
		}
		p++;
		const char *val = skip_ws(p);
		const char *ve = strchr(val, ';');
		if (!ve)
			ve = val + strlen(val);
		p = *ve ? ve + 1 : ve;
		if ((size_t)(ne - name) == tl && strncasecmp(name, tag, tl) == 0) {
			while (ve > val && isspace((unsigned char)ve[-1]))
				ve--;
			/* FWS may sit inside values; drop it */
			char *out = arena_alloc(a, (size_t)(ve - val) + 1);
			size_t n = 0;
			for (const char *c = val; c < ve; c++)
				if (!isspace((unsigned char)*c))
					out[n++] = *c;
			return out;
		}
	}
	return NULL;
}

int dkim_sig_parse(struct arena *a, const char *v, struct dkim_sig *out)
{
	out->d = tag_value(a, v, "d");
	out->s = tag_value(a, v, "s");
	out->a = tag_value(a, v, "a");
	if (out->d)
		for (char *c = out->d; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	return out->d != NULL;
}
