/*
 * html.c - a fast, forgiving, single-pass HTML tokenizer, and the two
 * things Shield builds on it: url_extract_html() (url.h) and
 * html_to_text() (html.h). Design notes: docs/internals/url-extraction.md.
 *
 * Owner: URL/HTML extraction. The tokenizer keeps no tree, no stack and no
 * recursion: it walks the input once, left to right, and each byte is
 * looked at a bounded number of times (memchr/memmem for the long jumps),
 * so any input - unclosed tags, quotes to EOF, comment bombs - costs
 * linear time. Where HTML5 would drop something at EOF (a tag cut off
 * mid-attribute), we keep it: a phishing link is still an indicator.
 *
 * Limits: url_extract_html scans at most SHIELD_MAX_SCAN_BYTES (finding
 * limit.scan_bytes); per-URL limits are url.c's. No global mutable state.
 */
#include "extract/html.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/xalloc.h"
#include "extract/url_int.h"

/* ---- growable output -------------------------------------------------- */

struct out {
	char *d;
	size_t n, cap;
};

/* out_reserve - make room for k more bytes (heap; freed by out_free). */
static void out_reserve(struct out *o, size_t k)
{
	if (o->n + k + 1 <= o->cap)
		return;
	size_t nc = o->cap ? o->cap : 256;
	while (nc < o->n + k + 1)
		nc *= 2;
	o->d = xrealloc(o->d, nc);
	o->cap = nc;
}

static void out_put(struct out *o, const char *p, size_t k)
{
	out_reserve(o, k);
	memcpy(o->d + o->n, p, k);
	o->n += k;
}

static void out_free(struct out *o)
{
	free(o->d);
	o->d = NULL;
	o->n = o->cap = 0;
}

/* ---- character references -------------------------------------------- */

static int is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int is_alnum(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* put_utf8 - encode code point cp into b (4 bytes room); returns length. */
static size_t put_utf8(uint32_t cp, char *b)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (char)(0xF0 | (cp >> 18));
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	b[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* HTML5 maps numeric references 0x80-0x9F through windows-1252. */
static const uint16_t cp1252[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

/* Named references we decode: the ones seen in mail, and the ones used to
 * hide URL syntax ("http&colon;&sol;&sol;"). legacy: also valid without
 * the ';' (HTML5 legacy list). Names are case-sensitive. */
static const struct {
	const char *name;
	unsigned char len;
	uint32_t cp;
	int legacy;
} entities[] = {
    {"amp", 3, '&', 1},	      {"lt", 2, '<', 1},	{"gt", 2, '>', 1},
    {"quot", 4, '"', 1},      {"apos", 4, '\'', 0},	{"nbsp", 4, 0xA0, 1},
    {"copy", 4, 0xA9, 1},     {"reg", 3, 0xAE, 1},	{"trade", 5, 0x2122, 0},
    {"hellip", 6, 0x2026, 0}, {"mdash", 5, 0x2014, 0},	{"ndash", 5, 0x2013, 0},
    {"lsquo", 5, 0x2018, 0},  {"rsquo", 5, 0x2019, 0},	{"ldquo", 5, 0x201C, 0},
    {"rdquo", 5, 0x201D, 0},  {"sbquo", 5, 0x201A, 0},	{"bdquo", 5, 0x201E, 0},
    {"bull", 4, 0x2022, 0},   {"middot", 6, 0xB7, 1},	{"euro", 4, 0x20AC, 0},
    {"pound", 5, 0xA3, 1},    {"yen", 3, 0xA5, 1},	{"cent", 4, 0xA2, 1},
    {"sect", 4, 0xA7, 1},     {"deg", 3, 0xB0, 1},	{"laquo", 5, 0xAB, 1},
    {"raquo", 5, 0xBB, 1},    {"shy", 3, 0xAD, 1},	{"zwnj", 4, 0x200C, 0},
    {"zwj", 3, 0x200D, 0},    {"lrm", 3, 0x200E, 0},	{"rlm", 3, 0x200F, 0},
    {"ensp", 4, 0x2002, 0},   {"emsp", 4, 0x2003, 0},	{"thinsp", 6, 0x2009, 0},
    {"times", 5, 0xD7, 1},    {"divide", 6, 0xF7, 1},	{"para", 4, 0xB6, 1},
    {"iexcl", 5, 0xA1, 1},    {"iquest", 6, 0xBF, 1},	{"dagger", 6, 0x2020, 0},
    {"permil", 6, 0x2030, 0}, {"lsaquo", 6, 0x2039, 0}, {"rsaquo", 6, 0x203A, 0},
    {"colon", 5, ':', 0},     {"sol", 3, '/', 0},	{"period", 6, '.', 0},
    {"comma", 5, ',', 0},     {"lpar", 4, '(', 0},	{"rpar", 4, ')', 0},
    {"lowbar", 6, '_', 0},    {"commat", 6, '@', 0},	{"num", 3, '#', 0},
    {"percnt", 6, '%', 0},    {"quest", 5, '?', 0},	{"equals", 6, '=', 0},
    {"plus", 4, '+', 0},      {"excl", 4, '!', 0},	{"dollar", 6, '$', 0},
    {"semi", 4, ';', 0},      {"Tab", 3, '\t', 0},	{"NewLine", 7, '\n', 0},
    {"ast", 3, '*', 0},	      {"eacute", 6, 0xE9, 1},	{"egrave", 6, 0xE8, 1},
    {"ecirc", 5, 0xEA, 1},    {"agrave", 6, 0xE0, 1},	{"aacute", 6, 0xE1, 1},
    {"acirc", 5, 0xE2, 1},    {"ccedil", 6, 0xE7, 1},	{"ouml", 4, 0xF6, 1},
    {"uuml", 4, 0xFC, 1},     {"auml", 4, 0xE4, 1},	{"szlig", 5, 0xDF, 1},
    {"ntilde", 6, 0xF1, 1},   {"oacute", 6, 0xF3, 1},	{"iacute", 6, 0xED, 1},
    {"uacute", 6, 0xFA, 1},   {"ocirc", 5, 0xF4, 1},	{"Eacute", 6, 0xC9, 1},
    {"Auml", 4, 0xC4, 1},     {"Ouml", 4, 0xD6, 1},	{"Uuml", 4, 0xDC, 1},
};

/* entity - decode the character reference at p (p[0] == '&') into b
 * (4 bytes room). Returns the decoded length and sets *used to the input
 * consumed, or 0 when p does not start a reference we know (the '&' is
 * then literal). in_attr applies HTML5's rule that "&copy=2" in an
 * attribute value is not a reference. Output is never longer than the
 * input consumed. */
static size_t entity(const char *p, const char *end, int in_attr, char *b, size_t *used)
{
	const char *q = p + 1;
	if (q < end && *q == '#') {
		q++;
		int hex = q < end && (*q | 0x20) == 'x';
		if (hex)
			q++;
		const char *ds = q;
		uint32_t cp = 0;
		for (; q < end; q++) {
			unsigned char c = (unsigned char)*q;
			uint32_t d;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				d = (c | 0x20) - 'a' + 10;
			else
				break;
			cp = cp * (hex ? 16 : 10) + d;
			if (cp > 0x10FFFF)
				cp = 0x110000; /* saturate: any longer run stays invalid */
		}
		if (q == ds)
			return 0;
		if (q < end && *q == ';')
			q++;
		if (cp >= 0x80 && cp <= 0x9F)
			cp = cp1252[cp - 0x80];
		else if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			cp = 0xFFFD;
		*used = (size_t)(q - p);
		return put_utf8(cp, b);
	}
	const char *ns = q;
	while (q < end && q - ns < 12 && is_alnum((unsigned char)*q))
		q++;
	size_t nl = (size_t)(q - ns);
	if (nl == 0)
		return 0;
	int semi = q < end && *q == ';';
	for (size_t i = 0; i < sizeof entities / sizeof entities[0]; i++) {
		size_t el = entities[i].len;
		if (semi && el == nl && memcmp(ns, entities[i].name, nl) == 0) {
			*used = nl + 2;
			return put_utf8(entities[i].cp, b);
		}
		if (!semi && entities[i].legacy && el <= nl &&
		    memcmp(ns, entities[i].name, el) == 0) {
			/* Legacy form without ';': in attributes only when not
			 * followed by an alphanumeric or '=' (so "?a=1&copy=2"
			 * keeps its query); in text the longest-known prefix. */
			if (in_attr && (el < nl || (q < end && *q == '=')))
				continue;
			*used = el + 1;
			return put_utf8(entities[i].cp, b);
		}
	}
	return 0;
}

/* decode_attr - entity-decode an attribute value into o (reset first). */
static void decode_attr(struct out *o, const char *v, size_t n)
{
	o->n = 0;
	out_reserve(o, n);
	const char *p = v, *end = v + n;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		if (!amp) {
			memcpy(o->d + o->n, p, (size_t)(end - p));
			o->n += (size_t)(end - p);
			break;
		}
		memcpy(o->d + o->n, p, (size_t)(amp - p));
		o->n += (size_t)(amp - p);
		size_t used = 0, k = entity(amp, end, 1, o->d + o->n, &used);
		if (k) {
			o->n += k;
			p = amp + used;
		} else {
			o->d[o->n++] = '&';
			p = amp + 1;
		}
	}
	o->d[o->n] = '\0';
}

/* ---- tokenizer -------------------------------------------------------- */

/* The attributes anyone here cares about; the tokenizer keeps the first
 * occurrence of each (as browsers do), so no count of junk attributes
 * can push a real one out of view. */
enum attr_id {
	A_HREF,
	A_XLINK_HREF,
	A_SRC,
	A_LOWSRC,
	A_DYNSRC,
	A_POSTER,
	A_ACTION,
	A_FORMACTION,
	A_BACKGROUND,
	A_DATA_HREF,
	A_DATA_URL,
	A_DATA_SRC,
	A_SRCSET,
	A_STYLE,
	A_HTTP_EQUIV,
	A_CONTENT,
	A_N
};

static const char *const attr_names[A_N] = {
    "href",   "xlink:href", "src",	  "lowsrc",    "dynsrc",   "poster",
    "action", "formaction", "background", "data-href", "data-url", "data-src",
    "srcset", "style",	    "http-equiv", "content",
};

static const unsigned char attr_len[A_N] = {4, 10, 3, 6, 6, 6, 6, 10, 10, 9, 8, 8, 6, 5, 10, 7};

enum tok_type { T_EOF, T_TEXT, T_TAG, T_RAW };

struct tok {
	const char *p, *end;
	int want_attrs; /* fill attrs (link extraction) */
	int cond_html;	/* treat <!--[if ...]> content as markup (Outlook VML) */
	char raw[12];	/* open raw-text element ("script", "style", ...) */
	size_t raw_len;

	int type;
	const char *text; /* T_TEXT / T_RAW */
	size_t tlen;
	char name[12];	/* lower-cased tag name, "" if longer than fits */
	unsigned flags; /* TF_* of name */
	int is_end;
	const char *av[A_N]; /* attribute values (raw, not decoded), NULL absent */
	size_t al[A_N];
};

/* What the tokenizer's users need to know about a tag, looked up once per
 * tag: block (a line break in text), head (may sit in <head>), raw (text
 * up to the matching end tag), space (a word break in text). */
enum {
	TF_BLOCK = 1,
	TF_HEAD = 2,
	TF_RAW = 4,
	TF_SPACE = 8,
};

#define TAG(n, f)                                                                                  \
	{                                                                                          \
		n, sizeof(n) - 1, f                                                                \
	}
static const struct {
	const char *name;
	unsigned char len;
	unsigned char flags;
} tags[] = {
    TAG("a", 0),
    TAG("br", TF_BLOCK),
    TAG("p", TF_BLOCK),
    TAG("div", TF_BLOCK),
    TAG("tr", TF_BLOCK),
    TAG("li", TF_BLOCK),
    TAG("td", TF_SPACE),
    TAG("th", TF_SPACE),
    TAG("img", TF_SPACE),
    TAG("h1", TF_BLOCK),
    TAG("h2", TF_BLOCK),
    TAG("h3", TF_BLOCK),
    TAG("h4", TF_BLOCK),
    TAG("h5", TF_BLOCK),
    TAG("h6", TF_BLOCK),
    TAG("blockquote", TF_BLOCK),
    TAG("table", TF_BLOCK),
    TAG("ul", TF_BLOCK),
    TAG("ol", TF_BLOCK),
    TAG("hr", TF_BLOCK),
    TAG("dl", TF_BLOCK),
    TAG("dt", TF_BLOCK),
    TAG("dd", TF_BLOCK),
    TAG("pre", TF_BLOCK),
    TAG("center", TF_BLOCK),
    TAG("section", TF_BLOCK),
    TAG("article", TF_BLOCK),
    TAG("header", TF_BLOCK),
    TAG("footer", TF_BLOCK),
    TAG("form", TF_BLOCK),
    TAG("address", TF_BLOCK),
    TAG("tbody", TF_BLOCK),
    TAG("thead", TF_BLOCK),
    TAG("tfoot", TF_BLOCK),
    TAG("body", TF_BLOCK),
    TAG("html", TF_BLOCK | TF_HEAD),
    TAG("nav", TF_BLOCK),
    TAG("aside", TF_BLOCK),
    TAG("main", TF_BLOCK),
    TAG("fieldset", TF_BLOCK),
    TAG("figure", TF_BLOCK),
    TAG("figcaption", TF_BLOCK),
    TAG("head", TF_HEAD),
    TAG("meta", TF_HEAD),
    TAG("link", TF_HEAD),
    TAG("base", TF_HEAD),
    TAG("noscript", TF_HEAD),
    TAG("template", TF_HEAD),
    TAG("title", TF_HEAD | TF_RAW),
    TAG("style", TF_HEAD | TF_RAW),
    TAG("script", TF_HEAD | TF_RAW),
    TAG("xmp", TF_RAW),
    TAG("noembed", TF_RAW),
    TAG("noframes", TF_RAW),
    TAG("iframe", TF_RAW),
    TAG("textarea", TF_RAW),
};
#undef TAG

/* tag_flags - TF_* flags of the lower-cased tag name n[0..len). Unknown
 * names (custom, namespaced, over-long) get none, except that they end
 * <head> like any other body element. */
static unsigned tag_flags(const char *n, size_t len)
{
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
		if (tags[i].len == len && memcmp(tags[i].name, n, len) == 0)
			return tags[i].flags;
	return 0;
}

/* attr_lookup - id of attribute name p[0..n), or A_N. */
static int attr_lookup(const char *p, size_t n)
{
	if (n < 3 || n > 10)
		return A_N;
	for (int i = 0; i < A_N; i++)
		if (attr_len[i] == n && strncasecmp(attr_names[i], p, n) == 0)
			return i;
	return A_N;
}

/* skip_to - position after the first c at or after p, or end. */
static const char *skip_to(const char *p, const char *end, char c)
{
	const char *q = memchr(p, c, (size_t)(end - p));
	return q ? q + 1 : end;
}

/* parse_tag - p points after "<" or "</" at the tag name. Fills the tag
 * fields and returns the position after the tag (end at EOF). */
static const char *parse_tag(struct tok *t, const char *p)
{
	const char *end = t->end, *ns = p;
	while (p < end && !is_space((unsigned char)*p) && *p != '/' && *p != '>')
		p++;
	size_t nl = (size_t)(p - ns);
	if (nl < sizeof t->name) {
		for (size_t i = 0; i < nl; i++)
			t->name[i] = (char)((ns[i] >= 'A' && ns[i] <= 'Z') ? ns[i] + 32 : ns[i]);
		t->name[nl] = '\0';
		t->flags = tag_flags(t->name, nl);
	} else {
		t->name[0] = '\0';
		t->flags = 0;
	}
	for (int i = 0; i < A_N; i++)
		t->av[i] = NULL;
	for (;;) {
		while (p < end && (is_space((unsigned char)*p) || *p == '/'))
			p++;
		if (p >= end)
			return end;
		if (*p == '>')
			return p + 1;
		const char *an = p++;
		while (p < end && !is_space((unsigned char)*p) && *p != '/' && *p != '>' &&
		       *p != '=')
			p++;
		size_t anl = (size_t)(p - an);
		while (p < end && is_space((unsigned char)*p))
			p++;
		const char *v = NULL;
		size_t vl = 0;
		if (p < end && *p == '=') {
			p++;
			while (p < end && is_space((unsigned char)*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
				v = p + 1;
				vl = (size_t)((q ? q : end) - v);
				p = q ? q + 1 : end;
			} else {
				v = p;
				while (p < end && !is_space((unsigned char)*p) && *p != '>')
					p++;
				vl = (size_t)(p - v);
			}
		}
		if (t->want_attrs && !t->is_end) {
			int id = attr_lookup(an, anl);
			if (id < A_N && !t->av[id]) {
				t->av[id] = v ? v : "";
				t->al[id] = vl;
			}
		}
	}
}

/* tok_next - the next token; T_EOF at the end. */
static int tok_next(struct tok *t)
{
	const char *end = t->end;
	for (;;) {
		const char *p = t->p;
		if (p >= end)
			return t->type = T_EOF;
		if (t->raw_len) {
			/* Raw text runs to "</name" followed by space, / or >. */
			const char *q = p;
			for (;;) {
				q = memchr(q, '<', (size_t)(end - q));
				if (!q || (end - q > (ptrdiff_t)t->raw_len + 1 && q[1] == '/' &&
					   strncasecmp(q + 2, t->raw, t->raw_len) == 0 &&
					   (is_space((unsigned char)q[2 + t->raw_len]) ||
					    q[2 + t->raw_len] == '/' || q[2 + t->raw_len] == '>')))
					break;
				q++;
			}
			if (!q)
				q = end;
			t->raw_len = 0;
			t->p = q;
			t->text = p;
			t->tlen = (size_t)(q - p);
			if (t->tlen)
				return t->type = T_RAW;
			continue;
		}
		if (*p != '<') {
			const char *q = memchr(p, '<', (size_t)(end - p));
			q = q ? q : end;
			t->text = p;
			t->tlen = (size_t)(q - p);
			t->p = q;
			return t->type = T_TEXT;
		}
		size_t avail = (size_t)(end - p);
		if (avail >= 2 && p[1] == '!') {
			if (avail >= 4 && p[2] == '-' && p[3] == '-') {
				if (t->cond_html && avail >= 7 &&
				    strncasecmp(p + 4, "[if", 3) == 0) {
					t->p = skip_to(p + 4, end, '>'); /* content is markup */
					continue;
				}
				const char *q = p + 4;
				if (q < end && *q == '>') {
					t->p = q + 1; /* "<!-->" */
				} else if (end - q >= 2 && q[0] == '-' && q[1] == '>') {
					t->p = q + 2; /* "<!--->" */
				} else {
					const char *c = memmem(q, (size_t)(end - q), "-->", 3);
					t->p = c ? c + 3 : end;
				}
				continue;
			}
			t->p = skip_to(p + 2, end, '>'); /* doctype, <![endif]>, CDATA */
			continue;
		}
		if (avail >= 2 && p[1] == '?') {
			t->p = skip_to(p + 2, end, '>');
			continue;
		}
		if (avail >= 3 && p[1] == '/' && is_alpha((unsigned char)p[2])) {
			t->is_end = 1;
			t->p = parse_tag(t, p + 2);
			return t->type = T_TAG;
		}
		if (avail >= 2 && p[1] == '/') {
			t->p = skip_to(p + 2, end, '>'); /* "</>" or "</ junk>" */
			continue;
		}
		if (avail >= 2 && is_alpha((unsigned char)p[1])) {
			t->is_end = 0;
			t->p = parse_tag(t, p + 1);
			if (t->flags & TF_RAW) {
				t->raw_len = strlen(t->name);
				memcpy(t->raw, t->name, t->raw_len + 1);
			}
			return t->type = T_TAG;
		}
		/* A lone '<' is text: emit it with what follows. */
		const char *q = memchr(p + 1, '<', avail - 1);
		q = q ? q : end;
		t->text = p;
		t->tlen = (size_t)(q - p);
		t->p = q;
		return t->type = T_TEXT;
	}
}

static void tok_init(struct tok *t, const char *html, size_t len, int want_attrs, int cond_html)
{
	memset(t, 0, sizeof(*t));
	t->p = html;
	t->end = html + len;
	t->want_attrs = want_attrs;
	t->cond_html = cond_html;
}

/* ---- visible text ----------------------------------------------------- */

/* Visible-text writer: collapses white space like a browser, turns block
 * boundaries into at most one blank line, decodes references and replaces
 * invalid UTF-8 with U+FFFD (so output <= 3x input, usually < input). */
struct vtext {
	struct out o;
	int space; /* a space is pending */
	int nl;	   /* newlines at the end of o */
	int in_head;
};

/* utf8_len - length of the valid UTF-8 sequence at p, or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t k;
	uint32_t lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		k = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		k = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
	else if (c >= 0xF0 && c <= 0xF4)
		k = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
	else
		return 0;
	if ((size_t)(end - p) < k || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < k; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return k;
}

/* vt_text - append a text segment (entities decoded). Room for the worst
 * case (every byte an invalid one becoming 3-byte U+FFFD, plus one
 * pending space) is reserved once, so the loop writes directly. */
static void vt_text(struct vtext *v, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	out_reserve(&v->o, 3 * n + 2);
	char *d = v->o.d;
	size_t o = v->o.n;
	int space = v->space, nl = v->nl;
	while (p < end) {
		unsigned char c = *p;
		const char *src;
		size_t k;
		char b[4];
		if (is_space(c)) {
			space = 1;
			p++;
			continue;
		}
		if (c == 0) {
			p++; /* NUL is dropped, as HTML tree builders do */
			continue;
		}
		if (c == '&') {
			size_t used = 0;
			k = entity((const char *)p, (const char *)end, 0, b, &used);
			if (!k) {
				src = "&", k = 1, p++;
			} else if (k == 2 && (unsigned char)b[0] == 0xC2 &&
				   (unsigned char)b[1] == 0xA0) {
				space = 1; /* &nbsp; spaces like a space */
				p += used;
				continue;
			} else {
				src = b, p += used;
			}
		} else if (c < 0x80) {
			/* A run of plain ASCII at once. */
			const unsigned char *q = p + 1;
			while (q < end && *q < 0x80 && *q > 0x20 && *q != '&')
				q++;
			src = (const char *)p, k = (size_t)(q - p), p = q;
		} else {
			k = utf8_len(p, end);
			if (k == 2 && p[0] == 0xC2 && p[1] == 0xA0) {
				space = 1;
				p += 2;
				continue;
			}
			if (k) {
				src = (const char *)p, p += k;
			} else {
				src = "\xEF\xBF\xBD", k = 3, p++;
			}
		}
		if (space && o && !nl)
			d[o++] = ' ';
		space = nl = 0;
		memcpy(d + o, src, k);
		o += k;
	}
	v->o.n = o;
	v->space = space;
	v->nl = nl;
}

/* vt_block - a block boundary: end the line; at most one blank line. */
static void vt_block(struct vtext *v)
{
	v->space = 0;
	if (v->o.n && v->nl < 2) {
		out_put(&v->o, "\n", 1);
		v->nl++;
	}
}

/* vt_token - feed one token to the visible-text writer. <script>,
 * <style> and <title> content (T_RAW) is dropped, except <textarea>;
 * text is dropped while in <head>. */
static void vt_token(struct vtext *v, const struct tok *t)
{
	if (t->type == T_TEXT) {
		if (!v->in_head)
			vt_text(v, t->text, t->tlen);
	} else if (t->type == T_RAW) {
		if (!v->in_head && t->name[0] && !strcmp(t->name, "textarea"))
			vt_text(v, t->text, t->tlen);
	} else if (t->type == T_TAG) {
		if (!strcmp(t->name, "head")) {
			v->in_head = !t->is_end;
			return;
		}
		if (v->in_head && !(t->flags & TF_HEAD))
			v->in_head = 0;
		if (t->flags & TF_BLOCK)
			vt_block(v);
		else if (t->flags & TF_SPACE)
			v->space = 1;
	}
}

/* vt_finish - trim trailing white space; NUL-terminate. */
static void vt_finish(struct vtext *v)
{
	while (v->o.n && (v->o.d[v->o.n - 1] == '\n' || v->o.d[v->o.n - 1] == ' '))
		v->o.n--;
	out_reserve(&v->o, 0);
	v->o.d[v->o.n] = '\0';
}

/* html_to_text - see html.h. */
char *html_to_text(struct arena *a, const char *html, size_t len, size_t *out_len)
{
	struct tok t;
	struct vtext v;
	memset(&v, 0, sizeof v);
	tok_init(&t, html ? html : "", html ? len : 0, 0, 0);
	while (tok_next(&t) != T_EOF)
		vt_token(&v, &t);
	vt_finish(&v);
	char *res = arena_strndup(a, v.o.d, v.o.n);
	if (out_len)
		*out_len = v.o.n;
	out_free(&v.o);
	return res;
}

/* ---- links ------------------------------------------------------------ */

struct hx {
	struct url_sink *s;
	struct out dec; /* decoded attribute value */
	const char *base;
};

/* bad_scheme - record javascript:/data: links (kept as findings for
 * verdicts; never as URLs). Tabs and newlines inside are ignored as a
 * browser would ("java\tscript:"). Returns nonzero if one matched. */
static int bad_scheme(struct hx *h, const char *v, size_t n)
{
	char b[12];
	size_t k = 0;
	for (size_t i = 0; i < n && k < sizeof b; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '\t' || c == '\n' || c == '\r' || (k == 0 && c <= 0x20))
			continue;
		b[k++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	if (k >= 11 && memcmp(b, "javascript:", 11) == 0) {
		result_finding(h->s->r, "url.javascript", "javascript: link in HTML");
		return 1;
	}
	if (k >= 5 && memcmp(b, "data:", 5) == 0) {
		result_finding(h->s->r, "url.data_uri", "data: URI in HTML");
		return 1;
	}
	return 0;
}

/* add_link - one decoded link value. */
static int add_link(struct hx *h, const char *v, size_t n, const char *found_in, size_t *idx)
{
	if (bad_scheme(h, v, n))
		return -1;
	return url_add_ex(h->s, v, n, found_in, h->base, NULL, idx);
}

/* css_urls - every url(...) in CSS text. */
static void css_urls(struct hx *h, const char *css, size_t n)
{
	const char *p = css, *end = css + n;
	while (p < end) {
		const char *q = memchr(p, '(', (size_t)(end - p));
		if (!q)
			break;
		p = q + 1;
		if (q - css < 3 || strncasecmp(q - 3, "url", 3) != 0)
			continue;
		while (p < end && is_space((unsigned char)*p))
			p++;
		const char *vs = p, *ve;
		if (p < end && (*p == '"' || *p == '\'')) {
			vs = p + 1;
			ve = memchr(vs, *p, (size_t)(end - vs));
			ve = ve ? ve : end;
			p = ve < end ? ve + 1 : end;
		} else {
			ve = memchr(vs, ')', (size_t)(end - vs));
			ve = ve ? ve : end;
			p = ve;
		}
		add_link(h, vs, (size_t)(ve - vs), "html:css", NULL);
	}
}

/* srcset_urls - each candidate URL of a srcset ("a.jpg 1x, b.jpg 2x"). */
static void srcset_urls(struct hx *h, const char *v, size_t n)
{
	const char *p = v, *end = v + n;
	while (p < end) {
		while (p < end && (is_space((unsigned char)*p) || *p == ','))
			p++;
		const char *us = p;
		while (p < end && !is_space((unsigned char)*p))
			p++;
		const char *ue = p;
		while (ue > us && ue[-1] == ',')
			ue--;
		if (ue > us)
			add_link(h, us, (size_t)(ue - us), "html:srcset", NULL);
		if (ue < p)
			continue; /* "a.jpg," ends the candidate */
		while (p < end && *p != ',')
			p++; /* descriptor */
	}
}

/* meta_refresh - the URL in content="5; url='http://...'". */
static void meta_refresh(struct hx *h, const char *c, size_t n)
{
	const char *p = c, *end = c + n;
	while (p < end && (is_space((unsigned char)*p) || (*p >= '0' && *p <= '9') || *p == '.'))
		p++;
	if (p < end && (*p == ';' || *p == ','))
		p++;
	while (p < end && is_space((unsigned char)*p))
		p++;
	if (end - p >= 3 && strncasecmp(p, "url", 3) == 0) {
		const char *q = p + 3;
		while (q < end && is_space((unsigned char)*q))
			q++;
		if (q < end && *q == '=') {
			p = q + 1;
			while (p < end && is_space((unsigned char)*p))
				p++;
		}
	}
	const char *e = end;
	if (p < end && (*p == '"' || *p == '\'')) {
		const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
		e = q ? q : end;
		p++;
	}
	if (e > p)
		add_link(h, p, (size_t)(e - p), "html:meta-refresh", NULL);
}

/* Link attributes and the found_in they produce. */
static const struct {
	int id;
	const char *found_in;
} link_attrs[] = {
    {A_HREF, "html:href"},	{A_XLINK_HREF, "html:href"},   {A_SRC, "html:src"},
    {A_LOWSRC, "html:src"},	{A_DYNSRC, "html:src"},	       {A_POSTER, "html:src"},
    {A_ACTION, "html:action"},	{A_FORMACTION, "html:action"}, {A_BACKGROUND, "html:background"},
    {A_DATA_HREF, "html:data"}, {A_DATA_URL, "html:data"},     {A_DATA_SRC, "html:data"},
};

/* tag_links - every link in one start tag; returns the r->urls index of
 * an <a>'s href in *a_idx (or leaves it). */
static void tag_links(struct hx *h, const struct tok *t, size_t *a_idx, int *a_has)
{
	int is_a = !strcmp(t->name, "a");
	if (!strcmp(t->name, "base") && t->av[A_HREF] && !h->base) {
		/* HTML5: the first <base href> sets the document base. */
		decode_attr(&h->dec, t->av[A_HREF], t->al[A_HREF]);
		struct result *r = h->s->r;
		h->base = url_normalize(&r->arena, h->dec.d, h->dec.n, NULL, NULL);
		if (h->base)
			url_add_ex(h->s, h->dec.d, h->dec.n, "html:base", NULL, NULL, NULL);
		return;
	}
	for (size_t i = 0; i < sizeof link_attrs / sizeof link_attrs[0]; i++) {
		int id = link_attrs[i].id;
		if (!t->av[id])
			continue;
		decode_attr(&h->dec, t->av[id], t->al[id]);
		size_t idx;
		int rc = add_link(h, h->dec.d, h->dec.n, link_attrs[i].found_in, &idx);
		if (is_a && id == A_HREF && rc >= 0) {
			*a_idx = idx;
			*a_has = 1;
		}
	}
	if (t->av[A_SRCSET]) {
		decode_attr(&h->dec, t->av[A_SRCSET], t->al[A_SRCSET]);
		srcset_urls(h, h->dec.d, h->dec.n);
	}
	if (t->av[A_STYLE]) {
		decode_attr(&h->dec, t->av[A_STYLE], t->al[A_STYLE]);
		css_urls(h, h->dec.d, h->dec.n);
	}
	if (!strcmp(t->name, "meta") && t->av[A_HTTP_EQUIV] && t->av[A_CONTENT]) {
		decode_attr(&h->dec, t->av[A_HTTP_EQUIV], t->al[A_HTTP_EQUIV]);
		if (h->dec.n == 7 && strncasecmp(h->dec.d, "refresh", 7) == 0) {
			decode_attr(&h->dec, t->av[A_CONTENT], t->al[A_CONTENT]);
			meta_refresh(h, h->dec.d, h->dec.n);
		}
	}
}

/* close_a - attach the visible text collected since the <a> started. */
static void close_a(struct hx *h, struct vtext *v, size_t start, size_t a_idx, int *a_has)
{
	if (!*a_has)
		return;
	*a_has = 0;
	if (start >= v->o.n)
		return;
	char b[URL_TEXT_MAX * 2];
	size_t k = 0;
	for (size_t i = start; i < v->o.n && k < sizeof b; i++) {
		char c = v->o.d[i] == '\n' ? ' ' : v->o.d[i];
		if (c == ' ' && (k == 0 || b[k - 1] == ' '))
			continue;
		b[k++] = c;
	}
	url_set_text(h->s, a_idx, b, k);
}

/* url_extract_html - see url.h. */
void url_extract_html(struct url_sink *s, const char *html, size_t len)
{
	if (!html || !len)
		return;
	if (len > SHIELD_MAX_SCAN_BYTES) {
		result_finding(s->r, "limit.scan_bytes", "HTML of %zu bytes scanned only to %u",
			       len, SHIELD_MAX_SCAN_BYTES);
		len = SHIELD_MAX_SCAN_BYTES;
	}
	struct hx h;
	memset(&h, 0, sizeof h);
	h.s = s;
	struct vtext v;
	memset(&v, 0, sizeof v);
	struct tok t;
	tok_init(&t, html, len, 1, 1);
	size_t a_idx = 0, a_start = 0;
	int a_has = 0;
	while (tok_next(&t) != T_EOF) {
		vt_token(&v, &t);
		if (t.type == T_RAW) {
			if (!strcmp(t.name, "style"))
				css_urls(&h, t.text, t.tlen);
			continue;
		}
		if (t.type != T_TAG)
			continue;
		if (!strcmp(t.name, "a"))
			close_a(&h, &v, a_start, a_idx, &a_has);
		if (!t.is_end) {
			tag_links(&h, &t, &a_idx, &a_has);
			if (a_has && !strcmp(t.name, "a"))
				a_start = v.o.n;
		}
	}
	close_a(&h, &v, a_start, a_idx, &a_has);
	vt_finish(&v);
	url_extract_text(s, v.o.d, v.o.n, "html:text");
	out_free(&v.o);
	out_free(&h.dec);
}
