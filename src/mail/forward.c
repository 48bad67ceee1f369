/*
 * forward.c - find the suspicious message inside a citizen's inline forward.
 *
 * Purpose: implements forward_find_inline() (contract in forward.h). A
 * citizen who forwards a phishing mail "inline" leaves us the visible text
 * of their own message: an optional comment, then a marker line written by
 * their mail client ("---------- Forwarded message ---------", "-----Original
 * Message-----", "Begin forwarded message:", a "____" rule, or nothing),
 * then a header block (From:/Sent:/To:/Subject: or a localised variant),
 * then the original body. We find that block, copy its header values and
 * body into the arena, and for forwards of forwards return the innermost
 * one. docs/internals/forward-detection.md describes the rules and gaps.
 *
 * Ownership: owned by the mail-parsing stage. Every string handed back
 * lives in the caller's arena; this file keeps no state between calls (all
 * tables are static const).
 *
 * Limits: at most SHIELD_MAX_FWD_SCAN_BYTES of the input are looked at, and
 * a header block may span at most SHIELD_MAX_FWD_HEADER_LINES lines. Label
 * and marker recognition read a bounded prefix of a line, every line is
 * examined a small constant number of times, so the cost is linear in the
 * input whatever it contains. Allocation is bounded by a small multiple of
 * the scanned bytes (each value and the body are at most as long as the
 * input they were copied from).
 *
 * Security: the text is attacker-controlled and is not NUL-terminated:
 * every read is bounded by an explicit end offset, never by a terminator.
 * NUL bytes are copied out as spaces so that every returned string is a
 * proper C string whose strlen() matches what was extracted (a NUL inside a
 * From: value must not hide the real address from later stages).
 */
#include "mail/forward.h"

#include <string.h>

#include "common/limits.h"

/* Header kinds a label can name. K_OTHER labels (Importance:, Attachments:)
 * belong to a block but carry nothing we report. */
enum kind { K_NONE, K_FROM, K_DATE, K_SUBJECT, K_TO, K_CC, K_BCC, K_REPLY_TO, K_OTHER, K_COUNT };

enum lang { L_EN, L_NL, L_FR, L_DE, L_ANY };

enum style { S_GMAIL, S_OUTLOOK, S_APPLE, S_THUNDERBIRD, S_GENERIC, S_FWD_DASHES };

static const char *const lang_names[] = {"en", "nl", "fr", "de"};
static const char *const style_names[] = {"gmail", "outlook", "apple", "thunderbird", "generic"};

/* A label as the clients write it, lower case, UTF-8. A space matches any
 * run of whitespace (NBSP included); an accented letter also matches its
 * bare ASCII letter, because some converters and users drop accents. */
struct label {
	const char *text;
	unsigned char kind;
	unsigned char lang;
	unsigned char sent; /* Outlook's "Sent:" family: marks the outlook style */
};

static const struct label labels[] = {
    {"from", K_FROM, L_EN, 0},
    {"van", K_FROM, L_NL, 0},
    {"de", K_FROM, L_FR, 0},
    {"von", K_FROM, L_DE, 0},
    {"afzender", K_FROM, L_NL, 0},
    {"exp\303\251diteur", K_FROM, L_FR, 0},
    {"absender", K_FROM, L_DE, 0},
    {"sent", K_DATE, L_EN, 1},
    {"verzonden", K_DATE, L_NL, 1},
    {"envoy\xc3\xa9", K_DATE, L_FR, 1},
    {"gesendet", K_DATE, L_DE, 1},
    {"date", K_DATE, L_ANY, 0},
    {"datum", K_DATE, L_ANY, 0},
    {"subject", K_SUBJECT, L_EN, 0},
    {"onderwerp", K_SUBJECT, L_NL, 0},
    {"objet", K_SUBJECT, L_FR, 0},
    {"sujet", K_SUBJECT, L_FR, 0},
    {"betreff", K_SUBJECT, L_DE, 0},
    {"to", K_TO, L_EN, 0},
    {"aan", K_TO, L_NL, 0},
    {"\xc3\xa0", K_TO, L_FR, 0},
    {"pour", K_TO, L_FR, 0},
    {"an", K_TO, L_DE, 0},
    {"cc", K_CC, L_ANY, 0},
    {"bcc", K_BCC, L_ANY, 0},
    {"cci", K_BCC, L_FR, 0},
    {"reply-to", K_REPLY_TO, L_EN, 0},
    {"reply to", K_REPLY_TO, L_EN, 0},
    {"antwoord aan", K_REPLY_TO, L_NL, 0},
    {"r\xc3\xa9pondre \xc3\xa0", K_REPLY_TO, L_FR, 0},
    {"antwort an", K_REPLY_TO, L_DE, 0},
    {"importance", K_OTHER, L_ANY, 0},
    {"urgentie", K_OTHER, L_NL, 0},
    {"wichtigkeit", K_OTHER, L_DE, 0},
    {"attachments", K_OTHER, L_EN, 0},
    {"bijlagen", K_OTHER, L_NL, 0},
    {"pi\303\250ces jointes", K_OTHER, L_FR, 0},
    {"anlagen", K_OTHER, L_DE, 0},
};

/* Marker phrases. Gmail and Thunderbird share the "forwarded message"
 * wording and differ only in their dashes (10/9 against 8/8). */
struct phrase {
	const char *text;
	unsigned char style; /* S_FWD_DASHES, S_OUTLOOK or S_APPLE */
	unsigned char lang;
};

static const struct phrase dash_phrases[] = {
    {"forwarded message", S_FWD_DASHES, L_EN},
    {"doorgestuurd bericht", S_FWD_DASHES, L_NL},
    {"message transf\xc3\xa9r\xc3\xa9", S_FWD_DASHES, L_FR},
    {"weitergeleitete nachricht", S_FWD_DASHES, L_DE},
    {"original message", S_OUTLOOK, L_EN},
    {"oorspronkelijk bericht", S_OUTLOOK, L_NL},
    {"message d'origine", S_OUTLOOK, L_FR},
    {"urspr\xc3\xbcngliche nachricht", S_OUTLOOK, L_DE},
};

static const struct phrase apple_phrases[] = {
    {"begin forwarded message", S_APPLE, L_EN},
    {"begin doorgestuurd bericht", S_APPLE, L_NL},
    {"d\303\251but du message r\303\251exp\303\251di\303\251", S_APPLE, L_FR},
    {"anfang der weitergeleiteten nachricht", S_APPLE, L_DE},
};

/* Subject prefixes: a block whose subject starts with one of these was
 * itself forwarded, so a block below it is the deeper original. Reply
 * prefixes are skipped over ("Re: Fwd:"); anything else stops the walk. */
static const char *const fwd_prefixes[] = {"fwd", "fw", "tr", "wg", "doorst", "forward", "fwrd"};
static const char *const reply_prefixes[] = {"re", "aw", "antw", "sv", "ref"};

#define MAX_LABEL_WS 16	    /* whitespace chars tolerated inside/after a label */
#define MAX_MARKER_LINE 200 /* a longer line is prose, not a client marker */
#define MAX_LEAD_BLANKS 3   /* blank lines allowed between marker and headers */
#define MAX_GAP_BLANKS 2    /* blank lines allowed between two header lines */
#define MAX_CONT_PEEK 3	    /* lines looked ahead to confirm a wrapped value */
#define MAX_QUOTE_DEPTH 64  /* deeper ">" runs are read as text */
#define MIN_RULE 8	    /* underscores in an Outlook separator rule */

/* One line of the input, located by offsets (never copied). */
struct tline {
	size_t off;  /* first byte of the line */
	size_t end;  /* end of content, before "\r\n" */
	size_t next; /* first byte of the following line */
	size_t cs;   /* content start, after quote marks and whitespace */
	int depth;   /* number of '>' quote marks */
	int indent;  /* content was indented beyond the quote separator */
};

struct span {
	size_t off, end;
};

struct marker {
	int style;  /* enum style; S_FWD_DASHES resolved later */
	int lang;   /* language of the marker phrase, or L_ANY */
	int dashes; /* leading dashes, to tell Gmail from Thunderbird */
	int strong; /* a client marker (not just a rule): fewer labels needed */
};

/* A header block found in the text. */
struct block {
	size_t start;	   /* marker line (or first header line) offset */
	size_t body_start; /* first line after the header lines */
	int depth;	   /* quote depth of the header lines */
	int style;
	int lang;
	int fwd_marker; /* the marker says "forwarded" (not reply-or-forward) */
	int nlabels;
	int first_kind;
	int has_sent;
	int sender_lang;
	int seen[K_COUNT];
	struct span val[K_COUNT];
};

/* is_ascii_ws - the ASCII whitespace bytes (newline excluded: lines are
 * split before anything looks at whitespace). */
static int is_ascii_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* ws_at - byte length of the whitespace character starting at p, 0 if
 * none. NBSP and the Unicode spaces count: HTML-to-text leaves them where
 * the sender had &nbsp;, and French typography puts one before a colon.
 * Zero-width space and BOM count too since they are invisible padding. */
static size_t ws_at(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t n = (size_t)(end - p);

	if (n == 0)
		return 0;
	if (is_ascii_ws(u[0]))
		return 1;
	if (n >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
		return 2;
	if (n >= 3 && u[0] == 0xE2 && u[1] == 0x80 &&
	    ((u[2] >= 0x80 && u[2] <= 0x8B) || u[2] == 0xAF))
		return 3;
	if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		return 3;
	if (n >= 3 && u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80)
		return 3;
	return 0;
}

/* ws_before - byte length of the whitespace character ending at end, 0 if
 * none; the mirror of ws_at for trimming from the right. */
static size_t ws_before(const char *start, const char *end)
{
	size_t n = (size_t)(end - start);

	if (n >= 1 && is_ascii_ws((unsigned char)end[-1]))
		return 1;
	if (n >= 2 && (unsigned char)end[-2] == 0xC2 && (unsigned char)end[-1] == 0xA0)
		return 2;
	if (n >= 3 && ws_at(end - 3, end) == 3)
		return 3;
	return 0;
}

/* skip_ws - advance over at most max whitespace characters. */
static const char *skip_ws(const char *p, const char *end, size_t max)
{
	size_t w;

	while (max-- > 0 && (w = ws_at(p, end)) > 0)
		p += w;
	return p;
}

/* trim - shrink [*s, *e) by whitespace on both sides. */
static void trim(const char **s, const char **e)
{
	size_t w;

	while (*s < *e && (w = ws_at(*s, *e)) > 0)
		*s += w;
	while (*e > *s && (w = ws_before(*s, *e)) > 0)
		*e -= w;
}

/* lower - ASCII tolower without locale, so "I" never becomes a Turkish i. */
static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* latin_base - the bare ASCII letter under a lower-case Latin-1 letter
 * (second byte of its UTF-8 form), or 0. */
static unsigned char latin_base(unsigned char b)
{
	if (b >= 0xA0 && b <= 0xA5)
		return 'a';
	if (b == 0xA7)
		return 'c';
	if (b >= 0xA8 && b <= 0xAB)
		return 'e';
	if (b >= 0xAC && b <= 0xAF)
		return 'i';
	if (b >= 0xB2 && b <= 0xB6)
		return 'o';
	if (b >= 0xB9 && b <= 0xBC)
		return 'u';
	return 0;
}

/* match_phrase - length of the input at p that matches a lower-case phrase,
 * or 0. Case-insensitive for ASCII and for Latin-1 capitals (À, É, Ü),
 * a space matches a run of whitespace, an apostrophe matches ' or U+2019,
 * and an accented letter also matches its bare letter. Reads at most a
 * bounded number of bytes past p, never past end. */
static size_t match_phrase(const char *p, const char *end, const char *phrase)
{
	const char *s = p;
	const unsigned char *f = (const unsigned char *)phrase;

	while (*f) {
		size_t left = (size_t)(end - s);
		unsigned char c = left ? (unsigned char)s[0] : 0;

		if (*f == ' ') {
			const char *q = skip_ws(s, end, MAX_LABEL_WS);
			if (q == s)
				return 0;
			s = q;
			f++;
		} else if (*f == '\'') {
			if (left >= 1 && (c == '\'' || c == '`'))
				s += 1;
			else if (left >= 3 && c == 0xE2 && (unsigned char)s[1] == 0x80 &&
				 (unsigned char)s[2] == 0x99)
				s += 3;
			else
				return 0;
			f++;
		} else if (*f == 0xC3 && f[1]) {
			unsigned char want = f[1];
			if (left >= 2 && c == 0xC3) {
				unsigned char got = (unsigned char)s[1];
				/* U+00C0..U+00DE (not U+00D7) fold to +0x20 */
				if (got >= 0x80 && got <= 0x9E && got != 0x97)
					got = (unsigned char)(got + 0x20);
				if (got != want)
					return 0;
				s += 2;
			} else if (left >= 1 && latin_base(want) && lower(c) == latin_base(want)) {
				s += 1;
			} else {
				return 0;
			}
			f += 2;
		} else {
			if (!left || lower(c) != *f)
				return 0;
			s++;
			f++;
		}
	}
	return (size_t)(s - p);
}

/* line_at - locate the line starting at offset p (p < n) and measure its
 * quote prefix. Quote marks may be separated by spaces ("> > ") and, as
 * HTML-to-text renders blockquotes, preceded by indentation. */
static void line_at(const char *t, size_t n, size_t p, struct tline *L)
{
	const char *nl = memchr(t + p, '\n', n - p);
	size_t e = nl ? (size_t)(nl - t) : n;
	size_t q = p, ind = 0, w;
	int d = 0;

	L->off = p;
	L->next = nl ? e + 1 : n;
	while (e > p && t[e - 1] == '\r')
		e--;
	L->end = e;
	for (;;) {
		ind = 0;
		while (q < e && (w = ws_at(t + q, t + e)) > 0) {
			q += w;
			ind++;
		}
		if (q < e && t[q] == '>' && d < MAX_QUOTE_DEPTH) {
			d++;
			q++;
		} else {
			break;
		}
	}
	L->depth = d;
	L->cs = q;
	/* "> text" has one separator space; more than that is indentation */
	L->indent = d ? ind > 1 : ind > 0;
}

/* is_blank - the line holds nothing but quote marks and whitespace. */
static int is_blank(const struct tline *L)
{
	return L->cs >= L->end;
}

/* label_at - if the line starts with a header label ("From:", "*Van:*",
 * "Envoyé\u00a0:"), return its index in labels[] and set *val to the offset
 * just past the colon; -1 otherwise. Only a bounded prefix is read. */
static int label_at(const char *t, const struct tline *L, size_t *val)
{
	const char *p = t + L->cs, *e = t + L->end;
	size_t i, stars = 0;

	/* Gmail's text/plain bolds labels as "*From:*" */
	while (p < e && *p == '*' && stars++ < 4)
		p++;
	p = skip_ws(p, e, MAX_LABEL_WS);
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		size_t m = match_phrase(p, e, labels[i].text);
		const char *q;

		if (!m)
			continue;
		q = p + m;
		stars = 0;
		while (q < e && stars++ < MAX_LABEL_WS) {
			size_t w = ws_at(q, e);
			if (w)
				q += w;
			else if (*q == '*')
				q++;
			else
				break;
		}
		if (q < e && *q == ':') {
			/* closing bold after the colon: "*From:*", "*Von: *" */
			const char *r = q + 1, *best = q + 1;

			for (stars = 0; r < e && stars < MAX_LABEL_WS; stars++) {
				size_t w = ws_at(r, e);
				if (w) {
					r += w;
				} else if (*r == '*') {
					best = ++r;
				} else {
					break;
				}
			}
			*val = (size_t)(best - t);
			return (int)i;
		}
	}
	return -1;
}

/* content_bounds - the line's content with bold stars and whitespace
 * trimmed from both ends, for whole-line markers. */
static void content_bounds(const char *t, const struct tline *L, const char **s, const char **e)
{
	*s = t + L->cs;
	*e = t + L->end;
	for (;;) {
		const char *s0 = *s, *e0 = *e;
		trim(s, e);
		while (*s < *e && **s == '*')
			(*s)++;
		while (*e > *s && (*e)[-1] == '*')
			(*e)--;
		if (*s == s0 && *e == e0)
			break;
	}
}

/* marker_at - recognise a client's forward marker line: a dashed phrase
 * ("-----Original Message-----") or Apple's "Begin forwarded message:".
 * The whole line must be the marker, so prose that mentions "original
 * message" never counts. */
static int marker_at(const char *t, const struct tline *L, struct marker *m)
{
	const char *s, *e, *p;
	size_t i, k;

	if (L->end - L->cs > MAX_MARKER_LINE)
		return 0;
	content_bounds(t, L, &s, &e);
	if (s >= e)
		return 0;
	if (*s == '-') {
		int d1 = 0, d2 = 0;

		p = s;
		while (p < e && *p == '-') {
			p++;
			d1++;
		}
		p = skip_ws(p, e, MAX_LABEL_WS);
		for (i = 0; i < sizeof(dash_phrases) / sizeof(dash_phrases[0]); i++) {
			const char *q;

			k = match_phrase(p, e, dash_phrases[i].text);
			if (!k)
				continue;
			q = skip_ws(p + k, e, MAX_LABEL_WS);
			d2 = 0;
			while (q < e && *q == '-') {
				q++;
				d2++;
			}
			if (q != e || d1 < 2 || d2 < 2)
				continue;
			m->style = dash_phrases[i].style;
			m->lang = dash_phrases[i].lang;
			m->dashes = d1;
			m->strong = 1;
			return 1;
		}
		return 0;
	}
	for (i = 0; i < sizeof(apple_phrases) / sizeof(apple_phrases[0]); i++) {
		const char *q;

		k = match_phrase(s, e, apple_phrases[i].text);
		if (!k)
			continue;
		q = skip_ws(s + k, e, MAX_LABEL_WS);
		if (q < e && *q == ':')
			q++;
		if (q != e)
			continue;
		m->style = S_APPLE;
		m->lang = apple_phrases[i].lang;
		m->dashes = 0;
		m->strong = 1;
		return 1;
	}
	return 0;
}

/* rule_at - Outlook's "________________________________" separator, the
 * only sign newer Outlook and Outlook on the web leave above a forward. */
static int rule_at(const char *t, const struct tline *L, struct marker *m)
{
	const char *s, *e, *p;

	if (L->end - L->cs > MAX_MARKER_LINE)
		return 0;
	content_bounds(t, L, &s, &e);
	if (e - s < MIN_RULE)
		return 0;
	for (p = s; p < e; p++)
		if (*p != '_')
			return 0;
	m->style = S_OUTLOOK;
	m->lang = L_ANY;
	m->dashes = 0;
	m->strong = 0;
	return 1;
}

/* add_label - record one header line in the block. */
static void add_label(struct block *b, int li, size_t val, size_t end)
{
	const struct label *lb = &labels[li];

	b->seen[lb->kind] = 1;
	b->val[lb->kind].off = val;
	b->val[lb->kind].end = end;
	b->nlabels++;
	if (lb->sent)
		b->has_sent = 1;
	if (lb->kind == K_FROM)
		b->sender_lang = lb->lang;
}

/* label_opens - the line is a same-depth label of a kind the block has
 * not had yet, i.e. it plausibly continues the header block. */
static int label_opens(const char *t, const struct tline *M, const struct block *b)
{
	size_t v;
	int lj;

	if (is_blank(M) || M->depth != b->depth)
		return 0;
	lj = label_at(t, M, &v);
	return lj >= 0 && (labels[lj].kind == K_OTHER || !b->seen[labels[lj].kind]);
}

/* is_continuation - does line L continue the value of header kind last?
 * Outlook and Gmail wrap long To: lists and subjects onto lines of their
 * own; a wrapped line is indented, follows an empty value or a trailing
 * separator, holds more addresses, or is followed by more headers. */
static int is_continuation(const char *t, size_t n, const struct tline *L, const struct block *b,
			   int last)
{
	const char *vs = t + b->val[last].off, *ve = t + b->val[last].end;
	struct tline M;
	size_t q;
	int k;

	/* right side only: the left was trimmed when the label was read, and
	 * re-trimming a long value per continuation line would not be linear */
	while (ve > vs) {
		size_t w = ws_before(vs, ve);
		if (!w)
			break;
		ve -= w;
	}
	if (vs == ve || L->indent)
		return 1;
	if (ve[-1] == ',' || ve[-1] == ';')
		return 1;
	if ((last == K_TO || last == K_CC || last == K_BCC || last == K_REPLY_TO) &&
	    memchr(t + L->cs, '@', L->end - L->cs))
		return 1;
	/* Sandwiched between header lines: a wrapped subject or date. */
	q = L->next;
	for (k = 0; k < MAX_CONT_PEEK && q < n; k++) {
		size_t v;

		line_at(t, n, q, &M);
		if (is_blank(&M) || M.depth != b->depth)
			return 0;
		if (label_at(t, &M, &v) >= 0)
			return label_opens(t, &M, b);
		q = M.next;
	}
	return 0;
}

/* parse_block - read a header block whose first line (or, after a marker,
 * first non-blank line) starts at pos. Returns 1 and fills *b if the block
 * has a sender and a subject or date (and, without a client marker, at
 * least three labels); else 0 with *resume set to where scanning should
 * go on, always past the block's first line so the caller progresses. */
static int parse_block(const char *t, size_t n, size_t pos, const struct marker *mk,
		       struct block *b, size_t *resume)
{
	struct tline L;
	size_t p = pos, v, nlines;
	int li, last, blanks = 0;

	memset(b, 0, sizeof(*b));
	*resume = pos;
	if (mk) {
		while (p < n) {
			line_at(t, n, p, &L);
			if (!is_blank(&L))
				break;
			if (++blanks > MAX_LEAD_BLANKS)
				return 0;
			p = L.next;
		}
	}
	if (p >= n)
		return 0;
	line_at(t, n, p, &L);
	li = label_at(t, &L, &v);
	if (li < 0)
		return 0;
	b->depth = L.depth;
	b->first_kind = labels[li].kind;
	add_label(b, li, v, L.end);
	last = labels[li].kind;
	p = L.next;
	nlines = 1;
	for (;;) {
		struct marker m2;

		if (p >= n) {
			b->body_start = n;
			break;
		}
		if (nlines >= SHIELD_MAX_FWD_HEADER_LINES) {
			/* a header block this long is not a client's */
			if (!mk)
				*resume = p;
			return 0;
		}
		line_at(t, n, p, &L);
		if (is_blank(&L)) {
			/* Some HTML converters put a blank line between header
			 * lines; go on only if a new kind of label follows. */
			struct tline M;
			size_t q = L.next;
			int k = 1;

			while (q < n && k <= MAX_GAP_BLANKS) {
				line_at(t, n, q, &M);
				if (!is_blank(&M))
					break;
				q = M.next;
				k++;
			}
			if (q < n && k <= MAX_GAP_BLANKS && label_opens(t, &M, b)) {
				nlines += (size_t)k;
				p = q;
				continue;
			}
			b->body_start = p;
			break;
		}
		if (L.depth != b->depth || marker_at(t, &L, &m2) || rule_at(t, &L, &m2)) {
			b->body_start = p;
			break;
		}
		li = label_at(t, &L, &v);
		if (li >= 0) {
			int kind = labels[li].kind;

			/* a repeated label starts the next block */
			if (kind != K_OTHER && b->seen[kind]) {
				b->body_start = p;
				break;
			}
			add_label(b, li, v, L.end);
			last = kind;
			p = L.next;
			nlines++;
			continue;
		}
		if (is_continuation(t, n, &L, b, last)) {
			b->val[last].end = L.end;
			p = L.next;
			nlines++;
			continue;
		}
		b->body_start = p;
		break;
	}
	if (!b->seen[K_FROM] || !(b->seen[K_SUBJECT] || b->seen[K_DATE]) ||
	    !((mk && mk->strong) || b->nlabels >= 3)) {
		if (!mk)
			*resume = b->body_start;
		return 0;
	}
	return 1;
}

/* resolve_style - name the client from the marker and the labels. */
static void resolve_style(struct block *b, const struct marker *mk)
{
	b->fwd_marker = 0;
	b->lang = b->sender_lang;
	if (!mk) {
		b->style = b->has_sent ? S_OUTLOOK : S_GENERIC;
		return;
	}
	if (b->lang == L_ANY && mk->lang != L_ANY)
		b->lang = mk->lang;
	switch (mk->style) {
	case S_FWD_DASHES:
		/* Gmail writes 10 dashes, Thunderbird 8; if a converter
		 * mangled them, Thunderbird is the one that starts with
		 * Subject: */
		if (mk->dashes >= 9)
			b->style = S_GMAIL;
		else if (mk->dashes == 8)
			b->style = S_THUNDERBIRD;
		else
			b->style = b->first_kind == K_SUBJECT ? S_THUNDERBIRD : S_GMAIL;
		b->fwd_marker = 1;
		break;
	case S_APPLE:
		b->style = S_APPLE;
		b->fwd_marker = 1;
		break;
	default:
		b->style = S_OUTLOOK;
		break;
	}
}

/* word_in - the ASCII word [s, s+n) is one of the listed lower-case words. */
static int word_in(const char *s, size_t n, const char *const *list, size_t count)
{
	size_t i, j;

	for (i = 0; i < count; i++) {
		if (strlen(list[i]) != n)
			continue;
		for (j = 0; j < n && lower((unsigned char)s[j]) == (unsigned char)list[i][j]; j++)
			;
		if (j == n)
			return 1;
	}
	return 0;
}

/* subject_is_forward - the subject starts with a forward prefix ("Fwd:",
 * "TR :", "WG:", "Doorst:"), possibly after reply prefixes. */
static int subject_is_forward(const char *t, struct span v)
{
	const char *p = t + v.off, *e = t + v.end;
	int round;

	for (round = 0; round < 8; round++) {
		const char *w;
		size_t n;

		p = skip_ws(p, e, MAX_LABEL_WS);
		while (p < e && (*p == '*' || *p == '['))
			p++;
		w = p;
		while (p < e && p - w < 10 && lower((unsigned char)*p) >= 'a' &&
		       lower((unsigned char)*p) <= 'z')
			p++;
		n = (size_t)(p - w);
		if (p < e && *p == '.')
			p++;
		p = skip_ws(p, e, MAX_LABEL_WS);
		if (n == 0 || p >= e || *p != ':')
			return 0;
		p++;
		if (word_in(w, n, fwd_prefixes, sizeof(fwd_prefixes) / sizeof(fwd_prefixes[0])))
			return 1;
		if (!word_in(w, n, reply_prefixes,
			     sizeof(reply_prefixes) / sizeof(reply_prefixes[0])))
			return 0;
	}
	return 0;
}

/* descends - should block b (found below sel) replace it as the answer?
 * Yes if b is unambiguously a forward, or sel's own subject says it was
 * forwarded. Outlook's "Original Message" and bare blocks also introduce
 * quoted replies, and a fake reply thread inside a phishing mail must not
 * replace the phishing mail itself. */
static int descends(const char *t, const struct block *sel, const struct block *b)
{
	if (b->depth < sel->depth)
		return 0;
	if (b->fwd_marker || !sel->seen[K_SUBJECT])
		return 1;
	return subject_is_forward(t, sel->val[K_SUBJECT]);
}

/* copy_clean - copy n bytes, turning NUL into a space (see file header). */
static void copy_clean(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[i] ? src[i] : ' ';
}

/* build_value - a header value: the rest of its label line plus any
 * continuation lines (quote marks and indentation dropped), joined by single
 * spaces and trimmed. The result is never longer than the span. */
static char *build_value(struct arena *a, const char *t, size_t n, struct span v)
{
	char *out = arena_alloc(a, v.end - v.off + 1);
	size_t o = 0, p = v.off;
	int first = 1;

	while (p < v.end) {
		const char *s, *e;
		size_t next;

		if (first) {
			const char *nl = memchr(t + p, '\n', v.end - p);
			s = t + p;
			e = nl ? nl : t + v.end;
			next = nl ? (size_t)(nl - t) + 1 : v.end;
		} else {
			struct tline L;

			line_at(t, n, p, &L);
			s = t + L.cs;
			e = t + (L.end < v.end ? L.end : v.end);
			next = L.next;
		}
		trim(&s, &e);
		if (s < e) {
			if (o)
				out[o++] = ' ';
			copy_clean(out + o, s, (size_t)(e - s));
			o += (size_t)(e - s);
		}
		first = 0;
		p = next;
	}
	out[o] = '\0';
	return out;
}

/* strip_quotes - skip up to levels quote marks, each with the one space
 * that separates it from the text. */
static const char *strip_quotes(const char *s, const char *e, int levels)
{
	int i;

	for (i = 0; i < levels; i++) {
		const char *q = skip_ws(s, e, MAX_LABEL_WS);

		if (q >= e || *q != '>')
			break;
		s = q + 1;
		if (s < e && *s == ' ')
			s++;
	}
	return s;
}

/* build_body - the forwarded message's body: from the first non-blank line
 * after the header block until the quoting that held it ends (a non-blank
 * line quoted less deeply than the headers), with the block's quote level
 * removed and trailing blank lines dropped. */
static void build_body(struct arena *a, const char *t, size_t n, const struct block *b,
		       struct inline_forward *out)
{
	struct tline L;
	size_t p = b->body_start, o = 0, keep = 0;
	char *buf;

	while (p < n) {
		line_at(t, n, p, &L);
		if (!is_blank(&L))
			break;
		p = L.next;
	}
	/* each output line is at most its input line plus '\n' */
	buf = arena_alloc(a, n - p + 2);
	while (p < n) {
		const char *s;

		line_at(t, n, p, &L);
		if (!is_blank(&L) && L.depth < b->depth)
			break;
		s = b->depth ? strip_quotes(t + L.off, t + L.end, b->depth) : t + L.off;
		copy_clean(buf + o, s, (size_t)(t + L.end - s));
		o += (size_t)(t + L.end - s);
		if (!is_blank(&L))
			keep = o;
		buf[o++] = '\n';
		p = L.next;
	}
	buf[keep] = '\0';
	out->body = buf;
	out->body_len = keep;
}

/* split_from - split a From: value into display name and address. Handles
 * `Name <addr>`, `"Name" <addr>`, `Name <mailto:addr>`, Outlook's
 * `Name [mailto:addr]`, a bare `addr` and `addr (Name)`. An address inside
 * the quoted display name ("support@bank" <evil@x>) is ignored: the
 * bracketed one is where the mail came from. */
static void split_from(struct arena *a, const char *v, struct inline_forward *out)
{
	size_t n = strlen(v), i, as = 0, ae = 0, ns = 0, ne = 0, at;
	int inq = 0, found = 0;
	const char *s, *e;

	for (i = 0; i < n && !found; i++) {
		if (v[i] == '"') {
			inq = !inq;
		} else if (!inq && (v[i] == '<' || v[i] == '[')) {
			char close = v[i] == '<' ? '>' : ']';
			const char *c = memchr(v + i + 1, close, n - i - 1);
			size_t ce = c ? (size_t)(c - v) : n;

			if (memchr(v + i + 1, '@', ce - i - 1)) {
				as = i + 1;
				ae = ce;
				ns = 0;
				ne = i;
				found = 1;
			}
		}
	}
	if (!found) {
		const char *atp = memchr(v, '@', n);

		if (!atp) {
			s = v;
			e = v + n;
			trim(&s, &e);
			out->from_name = s < e ? arena_strndup(a, s, (size_t)(e - s)) : NULL;
			return;
		}
		as = 0;
		ae = n;
		ns = ne = 0;
	}
	/* the address is the token around the first '@' of the segment */
	at = (size_t)((const char *)memchr(v + as, '@', ae - as) - v);
	{
		size_t l = at, r = at + 1;
		static const char stop[] = " \t<>[]()\",;:'";

		while (l > as && !strchr(stop, v[l - 1]) && !((unsigned char)v[l - 1] == 0xA0))
			l--;
		while (r < ae && !strchr(stop, v[r]) && !((unsigned char)v[r] == 0xC2))
			r++;
		while (r > at + 1 && v[r - 1] == '.')
			r--;
		if (l < at && r > at + 1)
			out->from_addr = arena_strndup(a, v + l, r - l);
		if (!found) {
			/* bare address: a name may precede it or follow in () */
			ns = 0;
			ne = l;
			s = v + ns;
			e = v + ne;
			trim(&s, &e);
			if (s == e) {
				const char *op = memchr(v + r, '(', n - r);
				const char *cp = op ? memchr(op, ')', (size_t)(v + n - op)) : NULL;
				if (op && cp) {
					ns = (size_t)(op + 1 - v);
					ne = (size_t)(cp - v);
				}
			}
		}
	}
	s = v + ns;
	e = v + ne;
	for (;;) {
		const char *s0 = s, *e0 = e;

		trim(&s, &e);
		while (s < e && *s == '*')
			s++;
		while (e > s && e[-1] == '*')
			e--;
		if (e - s >= 2 && ((*s == '"' && e[-1] == '"') || (*s == '\'' && e[-1] == '\''))) {
			s++;
			e--;
		}
		if (s == s0 && e == e0)
			break;
	}
	out->from_name = s < e ? arena_strndup(a, s, (size_t)(e - s)) : NULL;
}

/* trimmed_copy - [s, e) with blank lines and whitespace trimmed from both
 * ends, in the arena, NUL bytes as spaces. */
static char *trimmed_copy(struct arena *a, const char *s, const char *e)
{
	char *out;

	for (;;) {
		const char *s0 = s, *e0 = e;

		trim(&s, &e);
		while (s < e && *s == '\n')
			s++;
		while (e > s && e[-1] == '\n')
			e--;
		if (s == s0 && e == e0)
			break;
	}
	out = arena_alloc(a, (size_t)(e - s) + 1);
	copy_clean(out, s, (size_t)(e - s));
	return out;
}

int forward_find_inline(struct arena *a, const char *text, size_t len, struct inline_forward *out)
{
	size_t n, p = 0, first_start = 0;
	struct block cur, sel;
	int have = 0;

	if (!out)
		return 0;
	memset(out, 0, sizeof(*out));
	if (!a || !text || len == 0)
		return 0;
	n = len < SHIELD_MAX_FWD_SCAN_BYTES ? len : SHIELD_MAX_FWD_SCAN_BYTES;
	memset(&sel, 0, sizeof(sel));
	while (p < n) {
		struct tline L;
		struct marker m;
		size_t resume, v;
		int ok;

		line_at(text, n, p, &L);
		if (marker_at(text, &L, &m) || rule_at(text, &L, &m)) {
			ok = parse_block(text, n, L.next, &m, &cur, &resume);
			if (!ok) {
				p = L.next;
				continue;
			}
			resolve_style(&cur, &m);
		} else if (label_at(text, &L, &v) >= 0) {
			ok = parse_block(text, n, L.off, NULL, &cur, &resume);
			if (!ok) {
				p = resume > L.off ? resume : L.next;
				continue;
			}
			resolve_style(&cur, NULL);
		} else {
			p = L.next;
			continue;
		}
		cur.start = L.off;
		if (!have) {
			sel = cur;
			first_start = cur.start;
			have = 1;
		} else if (descends(text, &sel, &cur)) {
			sel = cur;
		} else {
			/* a reply quoted inside the original: stop here */
			break;
		}
		p = cur.body_start;
	}
	if (!have)
		return 0;

	out->style = style_names[sel.style];
	out->language = lang_names[sel.lang < L_ANY ? sel.lang : L_EN];
	if (sel.seen[K_FROM]) {
		out->from = build_value(a, text, n, sel.val[K_FROM]);
		split_from(a, out->from, out);
	}
	if (sel.seen[K_DATE])
		out->date = build_value(a, text, n, sel.val[K_DATE]);
	if (sel.seen[K_SUBJECT])
		out->subject = build_value(a, text, n, sel.val[K_SUBJECT]);
	if (sel.seen[K_TO])
		out->to = build_value(a, text, n, sel.val[K_TO]);
	if (sel.seen[K_REPLY_TO])
		out->reply_to = build_value(a, text, n, sel.val[K_REPLY_TO]);
	if (sel.seen[K_CC])
		out->cc = build_value(a, text, n, sel.val[K_CC]);
	build_body(a, text, n, &sel, out);
	out->marker_offset = sel.start;
	out->before = trimmed_copy(a, text, text + first_start);
	return 1;
}
