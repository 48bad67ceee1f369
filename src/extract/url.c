/*
 * url.c - find, normalise and de-duplicate URLs (contract: url.h; design
 * and rules: docs/internals/url-extraction.md).
 *
 * Owner: URL/HTML extraction. Three parts:
 *   - normalize(): one hand-written pass over a raw URL (defanged or not)
 *     producing scheme://host[:port]/path?query#fragment with a lower-case
 *     scheme, an IDNA (punycode) host, IPv4 integer forms as dotted quads,
 *     default ports dropped and the path percent-encoded so the result is
 *     ASCII (except for hosts libidn2 refuses, kept raw) and JSON-safe.
 *   - an open-addressing hash index in the message arena for per-message
 *     de-duplication on the normalised URL.
 *   - url_extract_text(): a single forward scan of plain text with
 *     constant-size look-back, so hostile input costs linear time.
 *
 * Limits (limits.h): SHIELD_MAX_URLS, SHIELD_MAX_URL_BYTES,
 * SHIELD_MAX_SCAN_BYTES, plus the arena budget; each records a finding.
 * No global mutable state: scratch space lives in the sink's index.
 */
#include "extract/url_int.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/xalloc.h"

#define HOST_RAW_MAX 1024u /* decoded host bytes we are willing to look at */
#define HOST_MAX 253u	   /* DNS limit on an ASCII host name */
#define UHOST_MAX 1024u	   /* Unicode form of a host */
#define SCHEME_SCAN 10u	   /* look-back over a scheme token in text */

/* One normalised URL, built in place (no allocation on the hot path). */
struct norm {
	char out[SHIELD_MAX_URL_BYTES + 1];
	size_t len;
	char host[HOST_RAW_MAX + 1]; /* ASCII host, or raw lower-cased UTF-8 */
	char uhost[UHOST_MAX + 1];   /* Unicode form; "" when equal to host */
	int is_ip;
	int truncated;
};

struct slot {
	uint32_t hash;
	uint32_t idx1; /* index in r->urls plus one; 0 = empty */
};

struct url_index {
	struct slot *slots;
	size_t cap; /* power of two */
	struct norm nb;
};

/* ---- character helpers ------------------------------------------------ */

static int is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static int hexval(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* defang_dot - length of a defanged dot ("[.]", "(.)", "{.}", "[dot]",
 * "(dot)", "{dot}") at p, or 0. Analysts write these to stop mail clients
 * from linking a hostile domain; we re-fang them. */
static size_t defang_dot(const char *p, const char *end)
{
	char open = p[0], close;
	if (open == '[')
		close = ']';
	else if (open == '(')
		close = ')';
	else if (open == '{')
		close = '}';
	else
		return 0;
	size_t avail = (size_t)(end - p);
	if (avail >= 3 && p[1] == '.' && p[2] == close)
		return 3;
	if (avail >= 5 && strncasecmp(p + 1, "dot", 3) == 0 && p[4] == close)
		return 5;
	return 0;
}

/* uni_delim - length of a UTF-8 sequence at p that ends a URL in text
 * (no-break and other Unicode spaces, typographic quotes, guillemets,
 * ellipsis, ideographic space and full stop), or 0. Checked only for the
 * lead bytes 0xC2, 0xE2, 0xE3 so plain ASCII text never pays for it. */
static size_t uni_delim(const unsigned char *p, const unsigned char *end)
{
	size_t avail = (size_t)(end - p);
	if (p[0] == 0xC2 && avail >= 2)
		return (p[1] == 0xA0 || p[1] == 0xAB || p[1] == 0xBB) ? 2 : 0;
	if (p[0] == 0xE2 && avail >= 3 && p[1] == 0x80) {
		unsigned char c = p[2];
		if (c <= 0x8F || c == 0x98 || c == 0x99 || c == 0x9C || c == 0x9D || c == 0xA6 ||
		    c == 0xA8 || c == 0xA9 || c == 0xAF)
			return 3;
		return 0;
	}
	if (p[0] == 0xE3 && avail >= 3 && p[1] == 0x80 && p[2] <= 0x82)
		return 3;
	return 0;
}

/* utf8_valid - nonzero if s[0..n) is well-formed UTF-8 (no overlongs,
 * surrogates or code points past U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			k = 1, cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			k = 2, cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3, cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* ---- scheme ----------------------------------------------------------- */

/* Schemes we keep, with their defanged spellings (matched ignoring case). */
static const struct {
	const char *in, *out;
} schemes[] = {
    {"http", "http"},	{"https", "https"},  {"ftp", "ftp"},	 {"hxxp", "http"},
    {"hxxps", "https"}, {"h**p", "http"},    {"h**ps", "https"}, {"hxtp", "http"},
    {"hxtps", "https"}, {"htxp", "http"},    {"htxps", "https"}, {"fxp", "ftp"},
    {"hxxxp", "http"},	{"hxxxps", "https"},
};

/* scheme_lookup - canonical scheme for the token p[0..n), or NULL. */
static const char *scheme_lookup(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		if (strlen(schemes[i].in) == n && strncasecmp(p, schemes[i].in, n) == 0)
			return schemes[i].out;
	return NULL;
}

/* sep_len - length of the separator after a scheme at p: ":" or a
 * defanged "[:]", "(:)", "{:}", followed by at least one '/' or '\'
 * (browsers accept both and any count for http/ftp), or "[://]". 0 if
 * none. */
static size_t sep_len(const char *p, const char *end)
{
	size_t avail = (size_t)(end - p), k;
	if (avail >= 5 && p[0] == '[' && p[1] == ':' && p[2] == '/' && p[3] == '/' && p[4] == ']')
		return 5;
	if (avail >= 1 && p[0] == ':')
		k = 1;
	else if (avail >= 3 && p[1] == ':' &&
		 ((p[0] == '[' && p[2] == ']') || (p[0] == '(' && p[2] == ')') ||
		  (p[0] == '{' && p[2] == '}')))
		k = 3;
	else
		return 0;
	size_t s = k;
	while (s < avail && (p[s] == '/' || p[s] == '\\'))
		s++;
	return s > k ? s : 0;
}

static unsigned default_port(const char *scheme)
{
	if (strcmp(scheme, "http") == 0)
		return 80;
	if (strcmp(scheme, "https") == 0)
		return 443;
	return 21;
}

/* ---- host ------------------------------------------------------------- */

/* parse_ipv4_part - one WHATWG IPv4 number (decimal, 0x hex, 0 octal). */
static int parse_ipv4_part(const char *p, size_t n, uint64_t *v)
{
	unsigned base = 10;
	if (n >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
		base = 16, p += 2, n -= 2;
	} else if (n >= 2 && p[0] == '0') {
		base = 8, p++, n--;
	} else if (n == 0) {
		return -1;
	}
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		int d = hexval((unsigned char)p[i]);
		if (d < 0 || (unsigned)d >= base)
			return -1;
		x = x * base + (unsigned)d;
		if (x > 0xFFFFFFFFull)
			return -1;
	}
	*v = x;
	return 0;
}

/* ends_in_number - WHATWG: the last label is all digits or 0x-hex, which
 * makes the host an IPv4 address (or invalid). */
static int ends_in_number(const char *h, size_t n)
{
	size_t s = n;
	while (s > 0 && h[s - 1] != '.')
		s--;
	const char *l = h + s;
	size_t ln = n - s;
	if (ln == 0)
		return 0;
	size_t i = 0;
	if (ln >= 2 && l[0] == '0' && (l[1] | 0x20) == 'x') {
		for (i = 2; i < ln; i++)
			if (hexval((unsigned char)l[i]) < 0)
				return 0;
		return 1;
	}
	for (i = 0; i < ln; i++)
		if (!is_digit((unsigned char)l[i]))
			return 0;
	return 1;
}

/* parse_ipv4 - WHATWG IPv4 parser over host h (1-4 parts, the last part
 * filling the remaining bytes), so "3232235521", "0xC0A80001" and
 * "0300.0250.0.1" all become 192.168.0.1, as a browser would connect. */
static int parse_ipv4(const char *h, size_t n, char *out, size_t outsz)
{
	uint64_t parts[4];
	size_t np = 0, s = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || h[i] == '.') {
			if (np == 4 || parse_ipv4_part(h + s, i - s, &parts[np]) != 0)
				return -1;
			np++;
			s = i + 1;
		}
	}
	uint64_t ip = 0;
	for (size_t i = 0; i + 1 < np; i++) {
		if (parts[i] > 255)
			return -1;
		ip |= parts[i] << (8 * (3 - i));
	}
	uint64_t last = parts[np - 1];
	if (last >= (1ull << (8 * (5 - np))))
		return -1;
	ip |= last;
	int w = snprintf(out, outsz, "%u.%u.%u.%u", (unsigned)(ip >> 24) & 255,
			 (unsigned)(ip >> 16) & 255, (unsigned)(ip >> 8) & 255, (unsigned)ip & 255);
	return (w > 0 && (size_t)w < outsz) ? 0 : -1;
}

/* host_char_ok - ASCII characters we accept in a registered-name host.
 * Stricter than WHATWG on purpose: anything else in a host is text that
 * ran into a URL, not a name a resolver would accept. */
static int host_char_ok(unsigned char c)
{
	return c >= 0x80 || is_alnum(c) || c == '-' || c == '.' || c == '_';
}

/* finish_host - turn the decoded, lower-cased host in n->host into its
 * final form: IDNA ASCII plus Unicode form, or an IPv4 dotted quad (also
 * after IDNA, which maps full-width digits and dots). */
static int finish_host(struct norm *n, size_t hl)
{
	int ascii = 1;
	for (size_t i = 0; i < hl; i++) {
		unsigned char c = (unsigned char)n->host[i];
		if (!host_char_ok(c))
			return -1;
		if (c >= 0x80)
			ascii = 0;
	}
	n->uhost[0] = '\0';
	if (!ascii) {
		if (!utf8_valid((const unsigned char *)n->host, hl))
			return -1;
		/* UTS#46 non-transitional is what current browsers do (ß
		 * stays ß); transitional is the fallback for names IDNA2008
		 * refuses; when both fail we keep the lower-cased name rather
		 * than lose the indicator. */
		uint8_t *a = NULL;
		int rc = idn2_lookup_u8((const uint8_t *)n->host, &a,
					IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
		if (rc != IDN2_OK) {
			idn2_free(a);
			a = NULL;
			rc = idn2_lookup_u8((const uint8_t *)n->host, &a,
					    IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
		}
		size_t al = (rc == IDN2_OK && a) ? strlen((char *)a) : 0;
		int ok = al > 0 && al <= HOST_MAX;
		for (size_t i = 0; ok && i < al; i++)
			ok = host_char_ok(a[i]) && a[i] < 0x80;
		if (!ok) {
			idn2_free(a);
			return 0; /* keep the raw lower-cased host */
		}
		memcpy(n->host, a, al + 1);
		idn2_free(a);
		hl = al;
	}
	if (hl > HOST_MAX)
		return -1;
	if (ends_in_number(n->host, hl)) {
		char ip[16];
		if (parse_ipv4(n->host, hl, ip, sizeof ip) != 0)
			return -1;
		memcpy(n->host, ip, strlen(ip) + 1);
		n->is_ip = 1;
		return 0;
	}
	if (strstr(n->host, "xn--")) {
		char *u = NULL;
		if (idn2_to_unicode_8z8z(n->host, &u, 0) == IDN2_OK && u &&
		    strlen(u) <= UHOST_MAX && strcmp(u, n->host) != 0)
			memcpy(n->uhost, u, strlen(u) + 1);
		idn2_free(u);
	}
	return 0;
}

/* ---- path ------------------------------------------------------------- */

/* remove_dot_segments - RFC 3986 5.2.4 in place on a path starting with
 * '/'; returns the new length. Each byte is written and popped at most
 * once, so this is linear. */
static size_t remove_dot_segments(char *p, size_t n)
{
	size_t r = 0, w = 0;
	while (r < n) {
		size_t s = r + 1, e = s;
		while (e < n && p[e] != '/')
			e++;
		size_t sl = e - s;
		int last = e >= n;
		if (sl == 1 && p[s] == '.') {
			if (last)
				p[w++] = '/';
		} else if (sl == 2 && p[s] == '.' && p[s + 1] == '.') {
			while (w > 0 && p[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
			if (last)
				p[w++] = '/';
		} else {
			memmove(p + w, p + r, e - r);
			w += e - r;
		}
		r = e;
	}
	if (w == 0)
		p[w++] = '/';
	return w;
}

/* needs_escape - bytes the WHATWG URL serialiser percent-encodes in paths
 * and queries, plus all non-ASCII so the stored URL is plain ASCII. */
static int needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' || c == '`';
}

/* ---- normaliser ------------------------------------------------------- */

static int normalize_in(struct norm *n, const char *raw, size_t len, const char *base,
			const char *implicit_scheme, int depth);

/* resolve - join a relative reference to an absolute, normalised base
 * (RFC 3986 section 5.2, simplified: base is already normalised) and
 * normalise the result. */
static int resolve(struct norm *n, const char *rel, size_t rl, const char *base, int depth)
{
	size_t bl = strlen(base), keep;
	const char *auth = strstr(base, "://");
	if (!auth)
		return -1;
	size_t ae = (size_t)(auth - base) + 3;
	while (ae < bl && base[ae] != '/')
		ae++;
	size_t qe = ae;
	while (qe < bl && base[qe] != '?' && base[qe] != '#')
		qe++;
	if (rl >= 2 && (rel[0] == '/' || rel[0] == '\\') && (rel[1] == '/' || rel[1] == '\\')) {
		keep = (size_t)(auth - base) + 1; /* "scheme:" */
	} else if (rl > 0 && (rel[0] == '/' || rel[0] == '\\')) {
		keep = ae;
	} else if (rl > 0 && rel[0] == '?') {
		keep = qe;
	} else if (rl > 0 && rel[0] == '#') {
		keep = (size_t)(strchr(base, '#') ? strchr(base, '#') - base : (ptrdiff_t)bl);
	} else if (rl == 0) {
		keep = (size_t)(strchr(base, '#') ? strchr(base, '#') - base : (ptrdiff_t)bl);
	} else {
		keep = qe;
		while (keep > ae && base[keep - 1] != '/')
			keep--;
	}
	/* Anything past 2 URL lengths would be truncated anyway. */
	int capped = 0;
	if (rl > 2 * SHIELD_MAX_URL_BYTES)
		rl = 2 * SHIELD_MAX_URL_BYTES, capped = 1;
	char *tmp = xmalloc(keep + rl + 1);
	memcpy(tmp, base, keep);
	memcpy(tmp + keep, rel, rl);
	int rc = normalize_in(n, tmp, keep + rl, NULL, NULL, depth + 1);
	free(tmp);
	if (rc == 0 && capped)
		n->truncated = 1;
	return rc;
}

/* normalize_in - the whole normaliser; see the file header. Returns 0 and
 * fills n, or -1 if raw is not an absolute http(s)/ftp URL (after
 * resolving against base and applying implicit_scheme). */
static int normalize_in(struct norm *n, const char *raw, size_t len, const char *base,
			const char *implicit_scheme, int depth)
{
	n->len = 0;
	n->is_ip = 0;
	n->truncated = 0;
	n->host[0] = n->uhost[0] = '\0';

	/* Browsers delete tabs and newlines anywhere in a URL (WHATWG); a
	 * wrapped href must not hide its host from us. */
	char *clean = NULL;
	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
			clean = xmalloc(len);
			size_t w = 0;
			for (size_t j = 0; j < len; j++)
				if (raw[j] != '\t' && raw[j] != '\n' && raw[j] != '\r')
					clean[w++] = raw[j];
			int rc = normalize_in(n, clean, w, base, implicit_scheme, depth);
			free(clean);
			return rc;
		}
	}

	const char *p = raw, *end = raw + len;
	while (p < end && (unsigned char)*p <= 0x20)
		p++;
	while (end > p && (unsigned char)end[-1] <= 0x20)
		end--;
	if (end - p >= 2 && *p == '<' && end[-1] == '>')
		p++, end--;
	if (end - p >= 4 && strncasecmp(p, "URL:", 4) == 0)
		p += 4;
	if (p >= end)
		return -1;

	const char *scheme = implicit_scheme;
	if (!scheme) {
		const char *q = p;
		while (q < end && (size_t)(q - p) < 16 &&
		       (is_alnum((unsigned char)*q) || *q == '*' || *q == '+' || *q == '-' ||
			*q == '.'))
			q++;
		int colon = q < end && (*q == ':' || (q + 1 < end && q[1] == ':' &&
						      (*q == '[' || *q == '(' || *q == '{')));
		if (q > p && is_alpha((unsigned char)*p) && colon) {
			size_t k = sep_len(q, end);
			scheme = scheme_lookup(p, (size_t)(q - p));
			if (!scheme || !k)
				return -1; /* mailto:, cid:, javascript:, http:foo ... */
			p = q + k;
		} else if (base && depth == 0) {
			return resolve(n, p, (size_t)(end - p), base, depth);
		} else if (end - p >= 2 && (p[0] == '/' || p[0] == '\\') &&
			   (p[1] == '/' || p[1] == '\\')) {
			/* Protocol-relative without a base still names a host;
			 * mail clients open it as http. */
			scheme = "http";
			while (p < end && (*p == '/' || *p == '\\'))
				p++;
		} else {
			return -1;
		}
	}

	/* Authority: up to the first / \ ? #; the host follows the LAST '@'
	 * ("http://paypal.com@evil.com/" goes to evil.com). */
	const char *ae = p, *at = NULL;
	while (ae < end && *ae != '/' && *ae != '\\' && *ae != '?' && *ae != '#') {
		if (*ae == '@')
			at = ae;
		ae++;
	}
	const char *hs = at ? at + 1 : p, *he = ae, *port = NULL;
	char ip6[INET6_ADDRSTRLEN + 1];
	int v6 = 0;
	if (hs < he && *hs == '[' && !defang_dot(hs, he)) {
		const char *rb = memchr(hs, ']', (size_t)(he - hs));
		if (!rb || rb - hs - 1 >= (ptrdiff_t)sizeof ip6)
			return -1;
		char tmp[INET6_ADDRSTRLEN + 1];
		size_t tl = (size_t)(rb - hs - 1);
		for (size_t i = 0; i < tl; i++)
			tmp[i] = (char)lower((unsigned char)hs[1 + i]);
		tmp[tl] = '\0';
		struct in6_addr a6;
		if (inet_pton(AF_INET6, tmp, &a6) != 1 ||
		    !inet_ntop(AF_INET6, &a6, ip6, sizeof ip6))
			return -1;
		if (rb + 1 < he) {
			if (rb[1] != ':')
				return -1;
			port = rb + 2;
		}
		v6 = 1;
		memcpy(n->host, ip6, strlen(ip6) + 1);
		n->is_ip = 1;
	} else {
		const char *c = memchr(hs, ':', (size_t)(he - hs));
		if (c) {
			port = c + 1;
			he = c;
		}
		/* Re-fang, percent-decode and lower-case the host. */
		size_t hl = 0;
		for (const char *h = hs; h < he;) {
			size_t k = defang_dot(h, he);
			unsigned char ch;
			if (k) {
				ch = '.', h += k;
			} else if (*h == '%' && he - h >= 3 && hexval((unsigned char)h[1]) >= 0 &&
				   hexval((unsigned char)h[2]) >= 0) {
				ch = (unsigned char)(hexval((unsigned char)h[1]) * 16 +
						     hexval((unsigned char)h[2]));
				h += 3;
			} else {
				ch = (unsigned char)*h++;
			}
			if (hl >= HOST_RAW_MAX)
				return -1;
			n->host[hl++] = (char)lower(ch);
		}
		while (hl > 0 && n->host[hl - 1] == '.')
			hl--; /* "paypal.com." is paypal.com */
		n->host[hl] = '\0';
		if (hl == 0 || n->host[0] == '.' || memchr(n->host, '\0', hl))
			return -1;
		if (finish_host(n, hl) != 0)
			return -1;
	}

	unsigned long portv = 0;
	int has_port = 0;
	if (port) {
		for (const char *q = port; q < ae; q++) {
			if (!is_digit((unsigned char)*q))
				return -1;
			portv = portv * 10 + (unsigned)(*q - '0');
			if (portv > 65535)
				return -1;
			has_port = 1;
		}
		if (has_port && portv == default_port(scheme))
			has_port = 0;
	}

	/* Serialise scheme://host[:port]; the host is at most HOST_RAW_MAX,
	 * so this always fits in out. */
	/* Userinfo stays in the URL: "https://www.bank.example@evil.example/"
	 * is the deception itself, and blocklists must list what was sent.
	 * It is kept as written, bytes >= 0x80 percent-encoded (as in paths,
	 * so the URL stays ASCII and normalising it again changes nothing);
	 * with control bytes or spaces, or too long, it is dropped (never the
	 * URL). */
	char ui[512];
	int ui_len = 0;
	for (const char *q = at ? p : at; q && q < at; q++) {
		unsigned char c = (unsigned char)*q;
		if (c <= 0x20 || c == 0x7f || ui_len + 3 >= (int)sizeof ui) {
			ui_len = 0;
			break;
		}
		if (c >= 0x80) {
			static const char hx[] = "0123456789ABCDEF";
			ui[ui_len++] = '%';
			ui[ui_len++] = hx[c >> 4];
			ui[ui_len++] = hx[c & 15];
		} else {
			ui[ui_len++] = (char)c;
		}
	}
	int w;
	if (has_port)
		w = snprintf(n->out, sizeof n->out,
			     v6 ? "%s://%.*s%s[%s]:%lu" : "%s://%.*s%s%s:%lu", scheme, ui_len, ui,
			     ui_len ? "@" : "", n->host, portv);
	else
		w = snprintf(n->out, sizeof n->out, v6 ? "%s://%.*s%s[%s]" : "%s://%.*s%s%s",
			     scheme, ui_len, ui, ui_len ? "@" : "", n->host);
	if (w < 0 || (size_t)w >= sizeof n->out)
		return -1;
	size_t o = (size_t)w, cap = SHIELD_MAX_URL_BYTES;
	size_t path_start = o;
	int in_path = 1;
	if (ae == end || *ae == '?' || *ae == '#')
		n->out[o++] = '/';
	for (const char *q = ae; q < end;) {
		unsigned char c = (unsigned char)*q;
		size_t k;
		if (in_path && (c == '?' || c == '#')) {
			o = path_start + remove_dot_segments(n->out + path_start, o - path_start);
			in_path = 0;
		}
		if (in_path && c == '\\')
			c = '/';
		if ((c == '[' || c == '(' || c == '{') && (k = defang_dot(q, end)) != 0) {
			c = '.';
			q += k;
		} else {
			q++;
		}
		if (needs_escape(c)) {
			if (o + 3 > cap) {
				n->truncated = 1;
				break;
			}
			static const char hx[] = "0123456789ABCDEF";
			n->out[o++] = '%';
			n->out[o++] = hx[c >> 4];
			n->out[o++] = hx[c & 15];
		} else {
			if (o + 1 > cap) {
				n->truncated = 1;
				break;
			}
			n->out[o++] = (char)c;
		}
	}
	if (in_path)
		o = path_start + remove_dot_segments(n->out + path_start, o - path_start);
	n->out[o] = '\0';
	n->len = o;
	return 0;
}

/* ---- index ------------------------------------------------------------ */

/* hash - FNV-1a over the normalised URL. */
static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* index_put - insert url index i (hash h) into the table; the caller
 * keeps the load factor under one half. */
static void index_put(struct url_index *ix, uint32_t h, size_t i)
{
	size_t m = ix->cap - 1, j = h & m;
	while (ix->slots[j].idx1)
		j = (j + 1) & m;
	ix->slots[j].hash = h;
	ix->slots[j].idx1 = (uint32_t)(i + 1);
}

/* index_grow - double the table (old one is abandoned in the arena; the
 * sum of all tables is under twice the last). */
static void index_grow(struct url_sink *s, size_t need)
{
	struct url_index *ix = s->index;
	size_t nc = ix->cap ? ix->cap : 64;
	while (nc < need * 2)
		nc *= 2;
	if (nc == ix->cap)
		return;
	struct slot *old = ix->slots;
	size_t oc = ix->cap;
	ix->slots = arena_alloc(&s->r->arena, nc * sizeof(*ix->slots));
	ix->cap = nc;
	for (size_t j = 0; j < oc; j++)
		if (old[j].idx1)
			index_put(ix, old[j].hash, old[j].idx1 - 1);
}

/* get_index - the sink's index, created on first use and seeded with any
 * URLs already in the result so de-duplication is per message even when
 * several sinks feed one result. */
static struct url_index *get_index(struct url_sink *s)
{
	if (s->index)
		return s->index;
	s->index = arena_alloc(&s->r->arena, sizeof(*s->index));
	index_grow(s, s->r->urls.n + 1);
	for (size_t i = 0; i < s->r->urls.n; i++) {
		const char *u = s->r->urls.v[i].url;
		index_put(s->index, hash(u, strlen(u)), i);
	}
	return s->index;
}

static const psl_ctx_t *sink_psl(const struct url_sink *s)
{
	return s->psl ? (const psl_ctx_t *)s->psl : psl_builtin();
}

/* ---- public and package API ------------------------------------------ */

/* url_sink_init - bind a sink to a result; the index is made lazily. */
void url_sink_init(struct url_sink *s, struct result *r, const struct psl_ctx_st *psl)
{
	s->r = r;
	s->psl = psl;
	s->index = NULL;
}

/* url_add_ex - normalise, de-duplicate and append (see url_int.h). */
int url_add_ex(struct url_sink *s, const char *raw, size_t len, const char *found_in,
	       const char *base, const char *implicit_scheme, size_t *idx)
{
	struct result *r = s->r;
	if (!raw)
		return -1;
	if (arena_over_budget(&r->arena)) {
		result_finding(r, "limit.memory", "arena budget exhausted during URL extraction");
		return -1;
	}
	struct url_index *ix = get_index(s);
	struct norm *n = &ix->nb;
	if (normalize_in(n, raw, len, base, implicit_scheme, 0) != 0)
		return -1;
	if (n->truncated)
		result_finding(r, "limit.url_length", "URL longer than %u bytes truncated",
			       SHIELD_MAX_URL_BYTES);
	uint32_t h = hash(n->out, n->len);
	for (size_t m = ix->cap - 1, j = h & m; ix->slots[j].idx1; j = (j + 1) & m) {
		if (ix->slots[j].hash != h)
			continue;
		size_t i = ix->slots[j].idx1 - 1;
		if (strcmp(r->urls.v[i].url, n->out) == 0) {
			if (idx)
				*idx = i;
			return 1;
		}
	}
	if (r->urls.n >= SHIELD_MAX_URLS) {
		result_finding(r, "limit.urls", "more than %u URLs in one message",
			       SHIELD_MAX_URLS);
		return -1;
	}
	ARENA_PUSH(&r->arena, r->urls.v, r->urls.n, r->urls.cap);
	size_t i = r->urls.n++;
	struct ind_url *u = &r->urls.v[i];
	u->url = arena_strndup(&r->arena, n->out, n->len);
	u->host = arena_strdup(&r->arena, n->host);
	u->host_unicode = n->uhost[0] ? arena_strdup(&r->arena, n->uhost) : u->host;
	u->reg_domain = NULL;
	if (!n->is_ip) {
		const char *rd = psl_registrable_domain(sink_psl(s), u->host);
		if (rd)
			u->reg_domain = arena_strdup(&r->arena, rd);
	}
	u->found_in = arena_strdup(&r->arena, found_in ? found_in : "text");
	u->text = NULL;
	index_grow(s, r->urls.n + 1);
	index_put(s->index, h, i);
	if (idx)
		*idx = i;
	return 0;
}

/* url_add - see url.h. */
int url_add(struct url_sink *s, const char *raw, size_t len, const char *text, size_t text_len,
	    const char *found_in, const char *base)
{
	size_t i;
	int rc = url_add_ex(s, raw, len, found_in, base, NULL, &i);
	if (rc >= 0 && text)
		url_set_text(s, i, text, text_len);
	return rc;
}

/* bare_cmp - compare two URL-ish strings ignoring a leading "scheme://",
 * one trailing '/', and ASCII case. Returns nonzero when equal. */
static int bare_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	const char *sa = an > 3 ? memmem(a, an < 12 ? an : 12, "://", 3) : NULL;
	if (sa)
		an -= (size_t)(sa + 3 - a), a = sa + 3;
	const char *sb = bn > 3 ? memmem(b, bn < 12 ? bn : 12, "://", 3) : NULL;
	if (sb)
		bn -= (size_t)(sb + 3 - b), b = sb + 3;
	if (an && a[an - 1] == '/')
		an--;
	if (bn && b[bn - 1] == '/')
		bn--;
	return an == bn && strncasecmp(a, b, an) == 0;
}

/* url_set_text - see url_int.h. */
void url_set_text(struct url_sink *s, size_t idx, const char *text, size_t len)
{
	struct result *r = s->r;
	if (idx >= r->urls.n || r->urls.v[idx].text || !text)
		return;
	while (len && (unsigned char)*text <= 0x20)
		text++, len--;
	while (len && (unsigned char)text[len - 1] <= 0x20)
		len--;
	if (len == 0)
		return;
	if (len > URL_TEXT_MAX) {
		len = URL_TEXT_MAX;
		while (len && ((unsigned char)text[len] & 0xC0) == 0x80)
			len--; /* do not split a UTF-8 sequence */
	}
	struct ind_url *u = &r->urls.v[idx];
	if (bare_cmp(text, len, u->url, strlen(u->url)))
		return;
	/* The text may itself be a URL written differently (Unicode host,
	 * upper case, default port): compare normalised forms too. */
	struct norm *n = &get_index(s)->nb;
	if ((normalize_in(n, text, len, NULL, NULL, 0) == 0 ||
	     normalize_in(n, text, len, NULL, "http", 0) == 0) &&
	    bare_cmp(n->out, n->len, u->url, strlen(u->url)))
		return;
	u->text = arena_strndup(&r->arena, text, len);
}

/* url_normalize - see url.h. */
char *url_normalize(struct arena *a, const char *raw, size_t len, char **host, char **host_unicode)
{
	struct norm *n = xmalloc(sizeof(*n));
	char *res = NULL;
	if (raw && normalize_in(n, raw, len, NULL, NULL, 0) == 0) {
		res = arena_strndup(a, n->out, n->len);
		char *h = arena_strdup(a, n->host);
		if (host)
			*host = h;
		if (host_unicode)
			*host_unicode = n->uhost[0] ? arena_strdup(a, n->uhost) : h;
	}
	free(n);
	return res;
}

/* ---- text scanner ----------------------------------------------------- */

/* Byte classes for the scanner's inner loops: H = host character (ASCII
 * alphanumeric, '-', '_', any non-ASCII byte except the lead bytes that
 * may start a Unicode delimiter), U = such a lead byte (0xC2, 0xE2, 0xE3:
 * host character unless uni_delim() says otherwise). */
enum { C_H = 1, C_U = 2 };
static const unsigned char cls[256] = {
    ['0' ... '9'] = C_H,   ['A' ... 'Z'] = C_H,	  ['a' ... 'z'] = C_H, ['-'] = C_H,
    ['_'] = C_H,	   [0x80 ... 0xC1] = C_H, [0xC2] = C_U,	       [0xC3 ... 0xE1] = C_H,
    [0xE2 ... 0xE3] = C_U, [0xE4 ... 0xFF] = C_H,
};

/* url_end - end of the URL starting at p in text: the first ASCII space or
 * control, < > " `, or Unicode space/quote. */
static const unsigned char *url_end(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		unsigned char c = *p;
		if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '`')
			break;
		if ((c == 0xC2 || c == 0xE2 || c == 0xE3) && uni_delim(p, end))
			break;
		p++;
	}
	return p;
}

/* trim_end - drop trailing punctuation that belongs to the sentence, and
 * closing brackets that have no opening one inside the URL (Wikipedia
 * style "Foo_(bar)" keeps its ')'). Counts are computed once so trimming
 * a run of ')' is linear. */
static const unsigned char *trim_end(const unsigned char *s, const unsigned char *e)
{
	long paren = 0, brack = 0, brace = 0;
	for (const unsigned char *p = s; p < e; p++) {
		if (*p == '(')
			paren++;
		else if (*p == ')')
			paren--;
		else if (*p == '[')
			brack++;
		else if (*p == ']')
			brack--;
		else if (*p == '{')
			brace++;
		else if (*p == '}')
			brace--;
	}
	while (e > s) {
		unsigned char c = e[-1];
		if (memchr(".,;:!?'\"*", c, 9)) {
			e--;
		} else if (c == ')' && paren < 0) {
			paren++, e--;
		} else if (c == ']' && brack < 0) {
			brack++, e--;
		} else if (c == '}' && brace < 0) {
			brace++, e--;
		} else {
			break;
		}
	}
	return e;
}

/* File extensions that are also TLDs: a bare "invoice.zip" or "setup.py"
 * in text is a file name, not a link (used only without a path). */
static const char *const file_tlds[] = {
    "zip", "mov", "md", "py", "sh", "pl",  "rs", "ps",	"cc",  "ml",  "mk",   "in",  "am",  "ac",
    "pm",  "mo",  "so", "la", "ai", "cat", "bz", "one", "app", "inc", "java", "doc", "cpp",
};

/* tld_ok - the last label t[0..n) is a real top-level domain per the PSL
 * (exact rule, not the implicit "*" rule). */
static int tld_ok(const struct url_sink *s, const unsigned char *t, size_t n)
{
	char buf[64];
	if (n < 2 || n >= sizeof buf)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_alpha(t[i]) && !(i >= 4 && (is_alnum(t[i]) || t[i] == '-')))
			return 0;
		buf[i] = (char)lower(t[i]);
	}
	buf[n] = '\0';
	if (n > 4 && strncmp(buf, "xn--", 4) != 0) {
		for (size_t i = 0; i < n; i++)
			if (!is_alpha(t[i]))
				return 0;
	}
	return psl_is_public_suffix2(sink_psl(s), buf, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE);
}

/* try_bare - a run of host characters and dots [s, e) ended at e without
 * being claimed by a scheme or "www." anchor. Accept it as http://...
 * when (1) every label is non-empty, (2) the last label is a PSL TLD, and
 * (3) it is followed by a path, query or port, or it was defanged, or the
 * conservative no-path rule holds: the TLD is written all lower-case (or
 * the whole host upper-case), is not a common file extension, the host is
 * ASCII and the label before the TLD has at least two characters.
 * Returns the end of what was consumed, or NULL. */
static const unsigned char *try_bare(struct url_sink *s, const unsigned char *text,
				     const unsigned char *st, const unsigned char *e,
				     const unsigned char *end, int defanged, const char *found_in)
{
	while (st < e && (*st == '-' || *st == '_'))
		st++;
	const unsigned char *he = e;
	while (he > st && he[-1] == '.')
		he--;
	if (he <= st)
		return NULL;
	/* An e-mail address or a path segment is not a host. */
	if (st > text && (st[-1] == '@' || st[-1] == '/' || st[-1] == '\\' || st[-1] == '.' ||
			  st[-1] == '=' || st[-1] == '%' || st[-1] == '&'))
		return NULL;
	if (e < end && *e == '@')
		return NULL;
	/* Labels must be non-empty; the last one is the TLD. */
	for (const unsigned char *q = st; q + 1 < he; q++)
		if (q[0] == '.' && q[1] == '.')
			return NULL;
	const unsigned char *ls = he;
	while (ls > st && (is_alnum(ls[-1]) || ls[-1] == '-' || ls[-1] == '_' || ls[-1] >= 0x80))
		ls--;
	if (ls == st || (ls[-1] != '.' && ls[-1] != ']' && ls[-1] != ')' && ls[-1] != '}'))
		return NULL;
	if (!tld_ok(s, ls, (size_t)(he - ls)))
		return NULL;
	int path = 0;
	const unsigned char *ue = he;
	if (e < end && (*e == '/' || *e == '?')) {
		path = 1;
	} else if (e < end && *e == ':' && he == e) {
		const unsigned char *q = e + 1;
		while (q < end && q - e <= 5 && is_digit(*q))
			q++;
		if (q > e + 1 && (q == end || !is_alnum(*q)))
			path = 1;
	}
	if (path) {
		ue = trim_end(st, url_end(e, end));
	} else if (!defanged) {
		int lc = 1, uc = 1;
		for (const unsigned char *q = ls; q < he; q++)
			lc &= !(*q >= 'A' && *q <= 'Z'), uc &= !(*q >= 'a' && *q <= 'z');
		for (const unsigned char *q = st; uc && q < he; q++)
			uc &= !(*q >= 'a' && *q <= 'z');
		if (!lc && !uc)
			return NULL;
		/* Run-together words ("remédio.no", "a.mobile") look like
		 * hosts; a lone bare host must be ASCII with a second-level
		 * label of two or more characters. */
		const unsigned char *sl = ls - 1;
		while (sl > st && sl[-1] != '.' && sl[-1] != ']' && sl[-1] != ')' && sl[-1] != '}')
			sl--;
		if (ls - 1 - sl < 2)
			return NULL;
		for (const unsigned char *q = st; q < he; q++)
			if (*q >= 0x80)
				return NULL;
		for (size_t i = 0; i < sizeof file_tlds / sizeof file_tlds[0]; i++)
			if (strlen(file_tlds[i]) == (size_t)(he - ls) &&
			    strncasecmp(file_tlds[i], (const char *)ls, (size_t)(he - ls)) == 0)
				return NULL;
	}
	if (url_add_ex(s, (const char *)st, (size_t)(ue - st), found_in, NULL, "http", NULL) < 0)
		return NULL;
	return ue > e ? ue : e;
}

/* www_len - length of "www." (or "www[.]" ...) at p, 0 if absent. */
static size_t www_len(const unsigned char *p, const unsigned char *end)
{
	if (end - p < 5 || (p[0] | 0x20) != 'w' || (p[1] | 0x20) != 'w' || (p[2] | 0x20) != 'w')
		return 0;
	if (p[3] == '.')
		return 4;
	size_t k = defang_dot((const char *)p + 3, (const char *)end);
	return k ? 3 + k : 0;
}

/* url_extract_text - see url.h. One forward pass: a scheme separator
 * (":" + slashes, or a defanged one) looks back at most SCHEME_SCAN bytes
 * for the scheme; "www." is an anchor at a word start; other dotted runs
 * are tried as bare domains when they end. After a URL the scan resumes
 * at its end, so every byte is examined a bounded number of times. */
void url_extract_text(struct url_sink *s, const char *text, size_t len, const char *found_in)
{
	if (!text || !len)
		return;
	if (len > SHIELD_MAX_SCAN_BYTES) {
		result_finding(s->r, "limit.scan_bytes", "text of %zu bytes scanned only to %u",
			       len, SHIELD_MAX_SCAN_BYTES);
		len = SHIELD_MAX_SCAN_BYTES;
	}
	if (!found_in)
		found_in = "text";
	const unsigned char *t = (const unsigned char *)text, *end = t + len, *p = t;
	const unsigned char *run = NULL; /* start of the current host-ish run */
	int run_dot = 0, run_defang = 0;
	while (p < end) {
		unsigned char c = *p;
		if ((cls[c] & C_H) || ((cls[c] & C_U) && !uni_delim(p, end))) {
			if (!run && (c | 0x20) == 'w') {
				size_t k = www_len(p, end);
				if (k && (p == t || (!is_alnum(p[-1]) &&
						     !memchr("./@\\=&?%#-_", p[-1], 11)))) {
					const unsigned char *e = trim_end(p, url_end(p, end));
					url_add_ex(s, (const char *)p, (size_t)(e - p), found_in,
						   NULL, "http", NULL);
					p = e > p ? e : p + 1;
					continue;
				}
			}
			if (!run) {
				run = p;
				run_dot = run_defang = 0;
			}
			/* Hot loop: most text is letters and spaces. */
			p++;
			while (p < end && (cls[*p] & C_H))
				p++;
			continue;
		}
		if (c == ' ' || c == '\n') {
			if (!run) {
				p++;
				continue;
			}
		}
		if (c == '.' && run) {
			run_dot = 1;
			p++;
			continue;
		}
		if ((c == '[' || c == '(' || c == '{') && run) {
			size_t k = defang_dot((const char *)p, (const char *)end);
			if (k) {
				run_dot = run_defang = 1;
				p += k;
				continue;
			}
		}
		if (c == ':' || c == '[' || c == '(' || c == '{') {
			size_t k = sep_len((const char *)p, (const char *)end);
			if (k) {
				/* Look back over the scheme token; take the longest
				 * known scheme that ends here ("xhttp" -> "http"). */
				const unsigned char *b = p;
				while (b > t && (size_t)(p - b) < SCHEME_SCAN &&
				       (is_alpha(b[-1]) || b[-1] == '*'))
					b--;
				const unsigned char *sc = NULL;
				for (const unsigned char *q = b; q < p && !sc; q++)
					if (scheme_lookup((const char *)q, (size_t)(p - q)))
						sc = q;
				if (sc) {
					const unsigned char *e = trim_end(sc, url_end(p, end));
					url_add_ex(s, (const char *)sc, (size_t)(e - sc), found_in,
						   NULL, NULL, NULL);
					run = NULL;
					p = e > p ? e : p + 1;
					continue;
				}
			}
		}
		/* The run ended here: try it as a bare domain. */
		if (run && run_dot) {
			const unsigned char *e = try_bare(s, t, run, p, end, run_defang, found_in);
			run = NULL;
			if (e) {
				p = e > p ? e : p + 1;
				continue;
			}
		}
		run = NULL;
		p++;
	}
	if (run && run_dot)
		try_bare(s, t, run, end, end, run_defang, found_in);
}
