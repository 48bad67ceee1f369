/*
 * brand.c - brand impersonation and look-alike signals (see brand.h; the
 * registry format, signals and weights are in docs/registry.md).
 *
 * At load, every registry domain that is a look-alike pattern gets its
 * first label ("belfius" of belfius.be), Shield's own normalisation of it
 * (o/0, l/1/i, s/5, rn->m, vv->w, cl->d, ... folded both ways) and the
 * normalised ICU UTS #39 skeleton; both go into a hash multimap. Brand
 * names and labels also go into a token map (combosquats, subdomains,
 * paths) and a phrase map (display names, subjects, body context).
 *
 * Per message, each distinct registrable domain the message shows (link
 * hosts, From/Reply-To/Sender, domains named in link text) is judged once:
 * official -> nothing; else one hash lookup for homoglyphs and TLD swaps,
 * an edit-distance scan of the patterns within +-2 of its length (bitmask
 * prefilter), token lookups for combosquats. ICU is called only for
 * non-ASCII labels (skeleton + restriction level).
 *
 * Ownership: the checker owns its tables; it borrows the registry and the
 * PSL, which must outlive it. brand_judge() allocates only in r's arena
 * and on its stack. No global state; USpoofChecker is used read-only,
 * which ICU documents as thread-safe.
 */
#include "verdict/brand.h"

#include <idn2.h>
#include <libpsl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/lazylib.h"
#include "common/xalloc.h"

#define LABEL_MAX 64u /* DNS label limit 63 + NUL; longer keys are not compared */

/* Weights: points towards malicious (docs/registry.md). */
enum {
	W_HOMOGLYPH = 45,
	W_MIXED_SCRIPT = 30,
	W_EDIT1 = 35,
	W_EDIT2 = 30,
	W_TLD_SWAP = 35,
	W_TLD_SWAP_CC = 15, /* brand.com seen as brand.<ccTLD>: often a real affiliate */
	W_COMBO = 35,
	W_COMBO_EMBED = 25,
	W_SUB_DOMAIN = 35,
	W_SUB_TOKEN = 20,
	W_PATH = 15,
	W_DISPLAY = 30,
	W_SUBJECT = 5,
	W_TEXT_BRAND = 40,
	W_TEXT = 8, /* newsletters link news.com text through trackers: weak */
	W_VERIFIED_ALL = -10,
	W_VERIFIED_SOME = -3,
	W_SENDER_OFFICIAL = 25, /* not a reason: ranks the From owner as the brand */
};

/* ---- hash multimap: string key -> list of values --------------------- */

struct mm_item {
	char *key;
	size_t klen;
	uint32_t val;
	uint32_t next; /* index+1 of the next item with the same key */
};

struct mmap {
	struct mm_item *it;
	size_t n, cap;
	uint32_t *slot; /* index+1 of a key's first item */
	size_t mask;
};

/* hash_bytes - FNV-1a, 64 bits. */
static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* mm_add - queue key -> val (before mm_build); duplicates are dropped. */
static void mm_add(struct mmap *m, const char *key, size_t klen, uint32_t val)
{
	if (!klen || klen >= LABEL_MAX)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (m->it[i].val == val && m->it[i].klen == klen &&
		    !memcmp(m->it[i].key, key, klen))
			return;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->it = xrealloc(m->it, m->cap * sizeof(*m->it));
	}
	struct mm_item *it = &m->it[m->n++];
	it->key = xstrndup(key, klen);
	it->klen = klen;
	it->val = val;
	it->next = 0;
}

/* mm_find - index+1 of the first item with this key, 0 if none. */
static uint32_t mm_find(const struct mmap *m, const char *key, size_t klen)
{
	if (!m->slot)
		return 0;
	for (size_t i = hash_bytes(key, klen) & m->mask;; i = (i + 1) & m->mask) {
		uint32_t s = m->slot[i];
		if (!s)
			return 0;
		const struct mm_item *it = &m->it[s - 1];
		if (it->klen == klen && !memcmp(it->key, key, klen))
			return s;
	}
}

/* mm_build - the open-addressing table over the queued items. */
static void mm_build(struct mmap *m)
{
	size_t ns = 16;
	while (ns < m->n * 2 + 1)
		ns *= 2;
	m->slot = xcalloc(ns, sizeof(*m->slot));
	m->mask = ns - 1;
	for (size_t k = 0; k < m->n; k++) {
		struct mm_item *it = &m->it[k];
		uint32_t head = mm_find(m, it->key, it->klen);
		if (head) {
			struct mm_item *t = &m->it[head - 1];
			while (t->next)
				t = &m->it[t->next - 1];
			t->next = (uint32_t)k + 1;
			continue;
		}
		size_t i = hash_bytes(it->key, it->klen) & m->mask;
		while (m->slot[i])
			i = (i + 1) & m->mask;
		m->slot[i] = (uint32_t)k + 1;
	}
}

/* mm_release - free keys, items and slots. */
static void mm_release(struct mmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->it[i].key);
	free(m->it);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

/* ---- the checker ------------------------------------------------------ */

struct pattern {
	size_t entry;	    /* registry index */
	const char *domain; /* official domain (registry's string) */
	char *label;	    /* its first label */
	const char *suffix; /* what follows the first label (points into domain) */
	char *norm;	    /* own normalisation of label */
	size_t norm_len;
	uint64_t mask; /* characters present in norm */
	size_t label_len;
	unsigned char flags; /* REG_DOMAIN_* of the official domain */
};

/* A brand name or keyword matched in display names, subjects and text. */
struct phrase {
	size_t entry;
	const char *text; /* registry string */
	size_t len;
	int exact_case; /* short names (KBC, ING, DHL) match case-sensitively */
	int is_name;	/* a name (claims the brand) rather than a keyword */
};

struct brand_checker {
	const struct registry *reg;
	const psl_ctx_t *psl;
	struct icu_api icu; /* ICU, loaded here (common/lazylib.h) */
	USpoofChecker *spoof;
	struct pattern *pat;
	size_t n_pat;
	struct mmap norm;   /* norm(label), norm(skeleton(label)) -> pattern */
	struct mmap token;  /* norm(label or one-word name) -> entry */
	struct mmap phrase; /* lower-case first word -> phrase */
	struct phrase *ph;
	size_t n_ph;
	uint32_t *by_len[LABEL_MAX]; /* patterns by norm length, for edit distance */
	size_t n_by_len[LABEL_MAX];
	size_t *tok_lens; /* distinct token lengths >= 6, for embedded brands */
	size_t n_tok_lens;
	size_t *tok_len; /* per entry: length of its longest token (0: none) */
};

/* is_word - ASCII letters/digits and UTF-8 bytes are word characters. */
static int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* own_norm - Shield's homoglyph folding, applied alike to registry labels
 * and to what a message shows: lower-case; 0->o; 1 i ! | ->l; 5 $ ->s; 3->e;
 * 4 @ ->a; 8 6 ->b; 9->g; 7->t; 2->z; hyphens, dots and underscores dropped;
 * then rn->m, vv->w, cl->d. Bytes >= 0x80 (left by skeletons) pass through.
 * Returns the length written to out (NUL-terminated), 0 if it did not fit. */
static size_t own_norm(const char *s, size_t n, char *out, size_t cap)
{
	char tmp[LABEL_MAX * 4];
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		char c = lower(s[i]);
		switch (c) {
		case '0':
			c = 'o';
			break;
		case '1':
		case 'i':
		case '!':
		case '|':
			c = 'l';
			break;
		case '5':
		case '$':
			c = 's';
			break;
		case '3':
			c = 'e';
			break;
		case '4':
		case '@':
			c = 'a';
			break;
		case '8':
		case '6':
			c = 'b';
			break;
		case '9':
			c = 'g';
			break;
		case '7':
			c = 't';
			break;
		case '2':
			c = 'z';
			break;
		case '-':
		case '.':
		case '_':
			continue;
		default:
			break;
		}
		if (m + 1 >= sizeof tmp)
			return 0;
		tmp[m++] = c;
	}
	size_t o = 0;
	for (size_t i = 0; i < m; i++) {
		char c = tmp[i];
		if (i + 1 < m) {
			char d = tmp[i + 1];
			if ((c == 'r' && d == 'n') || (c == 'v' && d == 'v') ||
			    (c == 'c' && d == 'l')) {
				c = c == 'r' ? 'm' : c == 'v' ? 'w' : 'd';
				i++;
			}
		}
		if (o + 1 >= cap)
			return 0;
		out[o++] = c;
	}
	out[o] = '\0';
	return o;
}

/* skel_norm - own_norm of the UTS #39 skeleton of a UTF-8 label, with
 * combining marks (U+0300-U+036F, kept by the NFD skeleton) removed so
 * bélfius folds like belfius. 0 on failure. */
static size_t skel_norm(const struct brand_checker *bc, const char *s, size_t n, char *out,
			size_t cap)
{
	char sk[LABEL_MAX * 4];
	UErrorCode st = U_ZERO_ERROR;
	int32_t len = bc->icu.spoof_get_skeleton_utf8(bc->spoof, 0, s, (int32_t)n, sk,
						      (int32_t)sizeof sk, &st);
	if (U_FAILURE(st) || len <= 0 || (size_t)len >= sizeof sk)
		return 0;
	size_t m = 0;
	for (int32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)sk[i], d = (unsigned char)sk[i + 1];
		if (i + 1 < len && ((c == 0xCC && d >= 0x80 && d <= 0xBF) ||
				    (c == 0xCD && d >= 0x80 && d <= 0xAF))) {
			i++;
			continue;
		}
		sk[m++] = (char)c;
	}
	return own_norm(sk, m, out, cap);
}

/* char_mask - which of a-z, 0-9 (and "other") occur: each edit changes at
 * most two bits, so popcount(a ^ b) > 2k rules out distance <= k. */
static uint64_t char_mask(const char *s, size_t n)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'a' && c <= 'z')
			m |= 1ull << (c - 'a');
		else if (c >= '0' && c <= '9')
			m |= 1ull << (26 + c - '0');
		else
			m |= 1ull << 63;
	}
	return m;
}

/* osa_distance - Damerau-Levenshtein (optimal string alignment) distance
 * of a and b, or k+1 as soon as it must exceed k. Both at most 63 bytes. */
static int osa_distance(const char *a, size_t n, const char *b, size_t m, int k)
{
	if (n >= LABEL_MAX || m >= LABEL_MAX)
		return k + 1;
	if ((n > m ? n - m : m - n) > (size_t)k)
		return k + 1;
	int r0[LABEL_MAX + 1], r1[LABEL_MAX + 1], r2[LABEL_MAX + 1];
	int *pp = r0, *p = r1, *c = r2;
	for (size_t j = 0; j <= m; j++)
		p[j] = (int)j;
	for (size_t i = 1; i <= n; i++) {
		c[0] = (int)i;
		int rmin = c[0];
		for (size_t j = 1; j <= m; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = p[j] + 1;
			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (p[j - 1] + cost < v)
				v = p[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
			if (v < rmin)
				rmin = v;
		}
		if (rmin > k)
			return k + 1;
		int *t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[m];
}

/* edit_budget - edits tolerated for a folded brand label of this length:
 * none below 5 characters (kbc/kbd, ups/ops are noise), for 5 only when the
 * message names the brand (bpost/boost, engie/engine, helan/helwan), 1 up to
 * 8, 2 from 9. */
static int edit_budget(size_t norm_len, int named)
{
	return norm_len >= 9 ? 2 : norm_len >= 6 ? 1 : (norm_len == 5 && named) ? 1 : 0;
}

struct brand_checker *brand_checker_free(struct brand_checker *bc)
{
	if (!bc)
		return NULL;
	if (bc->spoof)
		bc->icu.spoof_close(bc->spoof);
	icu_api_close(&bc->icu);
	for (size_t i = 0; i < bc->n_pat; i++) {
		free(bc->pat[i].label);
		free(bc->pat[i].norm);
	}
	free(bc->pat);
	mm_release(&bc->norm);
	mm_release(&bc->token);
	mm_release(&bc->phrase);
	free(bc->ph);
	for (size_t i = 0; i < LABEL_MAX; i++)
		free(bc->by_len[i]);
	free(bc->tok_lens);
	free(bc->tok_len);
	free(bc);
	return NULL;
}

/* add_token - a brand token (label or one-word name) for entry e. */
static void add_token(struct brand_checker *bc, size_t e, const char *s, size_t n)
{
	char nb[LABEL_MAX];
	size_t nn = own_norm(s, n, nb, sizeof nb);
	if (nn < 3)
		return;
	mm_add(&bc->token, nb, nn, (uint32_t)e);
	if (nn > bc->tok_len[e])
		bc->tok_len[e] = nn;
	if (nn >= 6) {
		for (size_t i = 0; i < bc->n_tok_lens; i++)
			if (bc->tok_lens[i] == nn)
				return;
		bc->tok_lens = xrealloc(bc->tok_lens, (bc->n_tok_lens + 1) * sizeof(size_t));
		bc->tok_lens[bc->n_tok_lens++] = nn;
	}
}

/* add_phrase - a name or keyword of entry e for text matching. */
static void add_phrase(struct brand_checker *bc, size_t e, const char *text, int is_name,
		       size_t *cap)
{
	size_t len = strlen(text), w = 0;
	while (w < len && is_word((unsigned char)text[w]))
		w++;
	if (!w || w >= LABEL_MAX || len > 200)
		return;
	if (bc->n_ph == *cap) {
		*cap = *cap ? *cap * 2 : 128;
		bc->ph = xrealloc(bc->ph, *cap * sizeof(*bc->ph));
	}
	struct phrase *p = &bc->ph[bc->n_ph];
	p->entry = e;
	p->text = text;
	p->len = len;
	p->exact_case = len <= 4;
	p->is_name = is_name;
	char key[LABEL_MAX];
	for (size_t i = 0; i < w; i++)
		key[i] = lower(text[i]);
	mm_add(&bc->phrase, key, w, (uint32_t)bc->n_ph);
	bc->n_ph++;
}

struct brand_checker *brand_checker_new(const struct registry *reg, const void *psl, char **err)
{
	struct brand_checker *bc = xcalloc(1, sizeof(*bc));
	bc->reg = reg;
	bc->psl = psl ? (const psl_ctx_t *)psl : psl_builtin();
	char why[300];
	if (icu_api_open(&bc->icu, why, sizeof why)) {
		if (err) {
			char tmp[400];
			snprintf(tmp, sizeof tmp, "cannot open the ICU spoof checker: %s", why);
			*err = xstrdup(tmp);
		}
		return brand_checker_free(bc);
	}
	UErrorCode st = U_ZERO_ERROR;
	bc->spoof = bc->icu.spoof_open(&st);
	if (U_SUCCESS(st))
		bc->icu.spoof_set_checks(
		    bc->spoof, USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS,
		    &st);
	if (U_SUCCESS(st))
		bc->icu.spoof_set_restriction_level(bc->spoof, USPOOF_HIGHLY_RESTRICTIVE);
	if (U_FAILURE(st)) {
		if (err) {
			char tmp[160];
			snprintf(tmp, sizeof tmp, "cannot open the ICU spoof checker: %s",
				 bc->icu.error_name(st));
			*err = xstrdup(tmp);
		}
		return brand_checker_free(bc);
	}
	size_t ne = registry_count(reg), cap_pat = 0, cap_ph = 0;
	bc->tok_len = xcalloc(ne ? ne : 1, sizeof(size_t));
	size_t cap_len[LABEL_MAX] = {0};
	for (size_t e = 0; e < ne; e++) {
		const struct registry_entry *en = registry_at(reg, e);
		for (size_t d = 0; d < en->n_domains; d++) {
			unsigned char fl = en->domain_flags ? en->domain_flags[d] : 0;
			if (fl & REG_DOMAIN_GENERIC)
				continue;
			const char *dom = en->domains[d];
			const char *dot = strchr(dom, '.');
			if (!dot || dot == dom || (size_t)(dot - dom) >= LABEL_MAX)
				continue;
			if (bc->n_pat == cap_pat) {
				cap_pat = cap_pat ? cap_pat * 2 : 128;
				bc->pat = xrealloc(bc->pat, cap_pat * sizeof(*bc->pat));
			}
			struct pattern *p = &bc->pat[bc->n_pat];
			memset(p, 0, sizeof(*p));
			p->entry = e;
			p->domain = dom;
			p->label_len = (size_t)(dot - dom);
			p->label = xstrndup(dom, p->label_len);
			p->suffix = dot + 1;
			p->flags = fl;
			char nb[LABEL_MAX];
			p->norm_len = own_norm(p->label, p->label_len, nb, sizeof nb);
			if (!p->norm_len) {
				free(p->label);
				continue;
			}
			p->norm = xstrdup(nb);
			p->mask = char_mask(nb, p->norm_len);
			uint32_t pi = (uint32_t)bc->n_pat++;
			mm_add(&bc->norm, nb, p->norm_len, pi);
			size_t sn = skel_norm(bc, p->label, p->label_len, nb, sizeof nb);
			if (sn)
				mm_add(&bc->norm, nb, sn, pi);
			size_t L = p->norm_len;
			if (bc->n_by_len[L] == cap_len[L]) {
				cap_len[L] = cap_len[L] ? cap_len[L] * 2 : 8;
				bc->by_len[L] =
				    xrealloc(bc->by_len[L], cap_len[L] * sizeof(uint32_t));
			}
			bc->by_len[L][bc->n_by_len[L]++] = pi;
			if (!(fl & REG_DOMAIN_NOTOKEN) && !memchr(p->label, '-', p->label_len))
				add_token(bc, e, p->label, p->label_len);
		}
		int notoken = 0;
		for (size_t d = 0; d < en->n_domains; d++)
			if (en->domain_flags && (en->domain_flags[d] & REG_DOMAIN_NOTOKEN))
				notoken = 1;
		for (size_t i = 0; i < en->n_names; i++) {
			const char *nm = en->names[i];
			size_t nl = strlen(nm), k = 0;
			while (k < nl &&
			       ((nm[k] >= 'a' && nm[k] <= 'z') || (nm[k] >= 'A' && nm[k] <= 'Z') ||
				(nm[k] >= '0' && nm[k] <= '9')))
				k++;
			if (k == nl && !notoken)
				add_token(bc, e, nm, nl);
			add_phrase(bc, e, nm, 1, &cap_ph);
		}
		for (size_t i = 0; i < en->n_keywords; i++)
			add_phrase(bc, e, en->keywords[i], 0, &cap_ph);
	}
	mm_build(&bc->norm);
	mm_build(&bc->token);
	mm_build(&bc->phrase);
	return bc;
}

/* ---- per-message state ------------------------------------------------ */

enum where { AT_LINK = 1, AT_FROM = 2, AT_REPLY = 4, AT_SENDER = 8, AT_TEXT = 16 };

struct seen {
	const char *dom; /* registrable domain, ASCII, lower-case */
	unsigned where;
	const struct registry_entry *owner; /* registry entry owning it, if any */
	unsigned char owner_flags;
};

struct judge {
	const struct brand_checker *bc;
	struct result *r;
	struct seen dom[BRAND_MAX_DOMAINS];
	size_t n_dom;
	size_t ctx[16]; /* entries named in display name, subject or text */
	size_t n_ctx;
	size_t claim;	  /* entry claimed by the display name, (size_t)-1 */
	size_t claim_len; /* length of the name that claimed it */
	size_t best;	  /* entry with the strongest evidence, (size_t)-1 */
	int best_w;
	size_t n_reasons;
};

/* note_brand - evidence of weight w for entry e. */
static void note_brand(struct judge *j, size_t e, int w)
{
	if (j->best == (size_t)-1 || w > j->best_w) {
		j->best = e;
		j->best_w = w;
	}
}

/* in_ctx - nonzero if entry e is named somewhere in the message. */
static int in_ctx(const struct judge *j, size_t e)
{
	for (size_t i = 0; i < j->n_ctx; i++)
		if (j->ctx[i] == e)
			return 1;
	return 0;
}

static size_t entry_index(const struct brand_checker *bc, const struct registry_entry *e)
{
	return (size_t)(e - registry_at(bc->reg, 0));
}

/* where_str - "link", "From", ... for reason details. */
static const char *where_str(unsigned w)
{
	if (w & AT_FROM)
		return "From address";
	if (w & AT_REPLY)
		return "Reply-To address";
	if (w & AT_SENDER)
		return "Sender address";
	if (w & AT_LINK)
		return "link";
	return "link text";
}

/* add_reason - result_reason() within BRAND_MAX_REASONS. */
#define add_reason(j, code, w, ...)                                                                \
	do {                                                                                       \
		if ((j)->n_reasons < BRAND_MAX_REASONS) {                                          \
			(j)->n_reasons++;                                                          \
			result_reason((j)->r, code, w, __VA_ARGS__);                               \
		}                                                                                  \
	} while (0)

/* see_domain - record a registrable domain the message shows. */
static struct seen *see_domain(struct judge *j, const char *dom, unsigned where)
{
	if (!dom || !*dom)
		return NULL;
	for (size_t i = 0; i < j->n_dom; i++)
		if (!strcasecmp(j->dom[i].dom, dom)) {
			j->dom[i].where |= where;
			return &j->dom[i];
		}
	if (j->n_dom == BRAND_MAX_DOMAINS)
		return NULL;
	struct seen *s = &j->dom[j->n_dom++];
	s->dom = dom;
	s->where = where;
	s->owner = registry_by_domain(j->bc->reg, dom);
	s->owner_flags = 0;
	if (s->owner) {
		size_t k = registry_entry_owns(s->owner, dom);
		if (k && s->owner->domain_flags)
			s->owner_flags = s->owner->domain_flags[k - 1];
	}
	return s;
}

/* to_ascii_domain - lower-case ASCII (punycode) form of a host in the
 * arena, or NULL when it is not a valid host name. */
static char *to_ascii_domain(struct result *r, const char *s, size_t n)
{
	while (n && s[n - 1] == '.')
		n--;
	if (!n || n > 253)
		return NULL;
	char *h = arena_strndup(&r->arena, s, n);
	int ascii = 1;
	for (char *p = h; *p; p++) {
		if ((unsigned char)*p >= 0x80)
			ascii = 0;
		*p = lower(*p);
	}
	if (ascii)
		return h;
	char *out = NULL;
	if (idn2_lookup_u8((const uint8_t *)h, (uint8_t **)&out,
			   IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK)
		return NULL;
	h = arena_strdup(&r->arena, out);
	idn2_free(out);
	return h;
}

/* registrable - registrable domain of an ASCII host, in the arena, only
 * when its suffix is a real public suffix (not the PSL's default rule, so
 * "invoice.pdf" is not a domain). */
static char *registrable(const struct judge *j, const char *host)
{
	const char *reg = psl_registrable_domain(j->bc->psl, host);
	if (!reg)
		return NULL;
	const char *dot = strchr(reg, '.');
	if (!dot ||
	    !psl_is_public_suffix2(j->bc->psl, dot + 1, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
		return NULL;
	return arena_strdup(&j->r->arena, reg);
}

/* addr_domain - registrable domain of an address "x@dom" (or "<x@dom>"). */
static char *addr_domain(const struct judge *j, const char *addr)
{
	if (!addr)
		return NULL;
	const char *at = strrchr(addr, '@');
	if (!at)
		return NULL;
	const char *s = at + 1;
	size_t n = 0;
	while (s[n] && (is_word((unsigned char)s[n]) || s[n] == '-' || s[n] == '.'))
		n++;
	char *h = to_ascii_domain(j->r, s, n);
	if (!h)
		return NULL;
	const char *reg = psl_registrable_domain(j->bc->psl, h);
	return reg ? arena_strdup(&j->r->arena, reg) : NULL;
}

/* ---- phrases: names and keywords in text ------------------------------ */

/* phrase_at - does phrase p occur at s (bounded by end), ending on a word
 * boundary? */
static int phrase_at(const struct phrase *p, const char *s, const char *end)
{
	if ((size_t)(end - s) < p->len)
		return 0;
	if (p->exact_case ? memcmp(s, p->text, p->len) : strncasecmp(s, p->text, p->len))
		return 0;
	return s + p->len == end || !is_word((unsigned char)s[p->len]) ||
	       !is_word((unsigned char)p->text[p->len - 1]);
}

/* scan_phrases - call fn for every registry phrase in text[0..n). */
static void scan_phrases(const struct brand_checker *bc, const char *text, size_t n,
			 void (*fn)(void *, const struct phrase *), void *arg)
{
	const char *end = text + n;
	for (const char *s = text; s < end;) {
		if (!is_word((unsigned char)*s)) {
			s++;
			continue;
		}
		const char *w = s;
		while (w < end && is_word((unsigned char)*w))
			w++;
		size_t wl = (size_t)(w - s);
		if (wl < LABEL_MAX) {
			char key[LABEL_MAX];
			for (size_t i = 0; i < wl; i++)
				key[i] = lower(s[i]);
			for (uint32_t k = mm_find(&bc->phrase, key, wl); k;
			     k = bc->phrase.it[k - 1].next) {
				const struct phrase *p = &bc->ph[bc->phrase.it[k - 1].val];
				if (phrase_at(p, s, end))
					fn(arg, p);
			}
		}
		s = w;
	}
}

struct claim_scan {
	struct judge *j;
	size_t entry, len;
	int names_only;
};

/* ctx_add - remember an entry named in the message. */
static void ctx_add(struct judge *j, size_t e)
{
	if (!in_ctx(j, e) && j->n_ctx < sizeof j->ctx / sizeof *j->ctx)
		j->ctx[j->n_ctx++] = e;
}

/* on_claim - a name in a display name or subject: longest one wins. */
static void on_claim(void *arg, const struct phrase *p)
{
	struct claim_scan *c = arg;
	if (c->names_only && !p->is_name)
		return;
	ctx_add(c->j, p->entry);
	if (c->entry == (size_t)-1 || p->len > c->len) {
		c->entry = p->entry;
		c->len = p->len;
	}
}

/* on_context - a name or keyword in the body: context only. */
static void on_context(void *arg, const struct phrase *p)
{
	ctx_add(arg, p->entry);
}

/* ---- look-alike matching ---------------------------------------------- */

struct match {
	size_t entry;
	const struct pattern *pat;
	const char *code;
	int weight;
	const char *how;
};

static const char *const lures[] = {
    "secure",	  "security",	  "login",	 "signin",	"logon",
    "verify",	  "verification", "account",	 "update",	"support",
    "service",	  "services",	  "online",	 "web",		"app",
    "mobile",	  "help",	  "auth",	 "id",		"confirm",
    "bank",	  "banking",	  "pay",	 "payment",	"track",
    "tracking",	  "delivery",	  "parcel",	 "package",	"customs",
    "refund",	  "veilig",	  "beveiliging", "verificatie", "klant",
    "klanten",	  "inloggen",	  "aanmelden",	 "betaling",	"levering",
    "pakket",	  "securite",	  "connexion",	 "client",	"clients",
    "compte",	  "paiement",	  "livraison",	 "colis",	"remboursement",
    "sicherheit", "konto",	  "anmelden",	 "zahlung",	"sendung",
    "paket",	  "portal",	  "check",	 "alert",	"notice",
    "direct",	  "my",		  "mijn",	 "mon",		"mein",
    "be",	  "belgium",	  "belgie",	 "belgique",	"net",
    "info",	  "24",		  "365",	 "id",		"card",
    "cards",	  "wallet",	  "reset",	 "unlock",	"recovery",
    "billing",	  "invoice",
};

/* is_lure - a token phishers put next to a brand (secure, login, veilig). */
static int is_lure(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof lures / sizeof *lures; i++)
		if (strlen(lures[i]) == n && !strncasecmp(lures[i], s, n))
			return 1;
	return 0;
}

/* has_lure - any '-'/'.'-separated token of s other than [skip, skip+sn) is a lure. */
static int has_lure(const char *s, size_t n, const char *skip)
{
	for (size_t i = 0; i < n;) {
		size_t k = i;
		while (k < n && s[k] != '-' && s[k] != '.')
			k++;
		if (s + i != skip && is_lure(s + i, k - i))
			return 1;
		i = k + 1;
	}
	return 0;
}

/* token_entry - entry whose brand token is norm(s[0..n)), or (size_t)-1. */
static size_t token_entry(const struct brand_checker *bc, const char *s, size_t n, size_t *tlen)
{
	char nb[LABEL_MAX];
	size_t nn = own_norm(s, n, nb, sizeof nb);
	if (nn < 3)
		return (size_t)-1;
	uint32_t k = mm_find(&bc->token, nb, nn);
	if (!k)
		return (size_t)-1;
	*tlen = nn;
	return bc->token.it[k - 1].val;
}

/* is_cc_suffix - a two-letter country code suffix, possibly under a
 * second level ("ca", "co.uk", "com.be"). */
static int is_cc_suffix(const char *suf)
{
	const char *last = strrchr(suf, '.');
	last = last ? last + 1 : suf;
	return strlen(last) == 2;
}

/* owns_gtld - does entry e own label under a generic TLD (amazon.com)?
 * Then label.<ccTLD> is as likely a national affiliate as an imitation. */
static int owns_gtld(const struct brand_checker *bc, size_t e, const char *label)
{
	const struct registry_entry *en = registry_at(bc->reg, e);
	size_t ll = strlen(label);
	for (size_t i = 0; i < en->n_domains; i++) {
		const char *d = en->domains[i];
		if (!strncmp(d, label, ll) && d[ll] == '.' && !is_cc_suffix(d + ll + 1))
			return 1;
	}
	return 0;
}

/* match_label - the strongest look-alike of registry patterns for the
 * label of a non-official registrable domain. */
static int match_label(struct judge *j, const char *dom, struct match *m, int *mixed)
{
	const struct brand_checker *bc = j->bc;
	const char *dot = strchr(dom, '.');
	if (!dot)
		return 0;
	size_t ll = (size_t)(dot - dom);
	const char *suffix = dot + 1;
	if (ll < 3 || ll >= LABEL_MAX)
		return 0;
	char label[LABEL_MAX], uni[LABEL_MAX * 4];
	memcpy(label, dom, ll);
	label[ll] = '\0';
	const char *form = label;
	size_t flen = ll;
	int nonascii = 0;
	if (!strncmp(label, "xn--", 4)) {
		char *u = NULL;
		if (idn2_to_unicode_8z8z(label, &u, 0) == IDN2_OK && u && strlen(u) < sizeof uni) {
			flen = strlen(u);
			memcpy(uni, u, flen + 1);
			form = uni;
			nonascii = 1;
		}
		idn2_free(u);
	}
	char key[LABEL_MAX];
	size_t kl;
	*mixed = 0;
	if (nonascii) {
		UErrorCode st = U_ZERO_ERROR;
		int32_t chk = bc->icu.spoof_check_utf8(bc->spoof, form, (int32_t)flen, NULL, &st);
		if (U_SUCCESS(st) && chk)
			*mixed = 1;
		kl = skel_norm(bc, form, flen, key, sizeof key);
	} else {
		kl = own_norm(label, ll, key, sizeof key);
	}
	if (!kl)
		return 0;
	memset(m, 0, sizeof(*m));
	/* exact folded match: homoglyph or TLD swap */
	for (uint32_t k = mm_find(&bc->norm, key, kl); k; k = bc->norm.it[k - 1].next) {
		const struct pattern *p = &bc->pat[bc->norm.it[k - 1].val];
		if (!strcmp(p->label, label)) {
			if (p->flags & REG_DOMAIN_NOTOKEN)
				continue; /* dictionary words: orange.net is not Orange */
			if (p->label_len < 5 && !in_ctx(j, p->entry))
				continue; /* dpd.co.uk, ing.de: short labels live under many TLDs */
			int w = is_cc_suffix(suffix) && owns_gtld(bc, p->entry, p->label)
				    ? W_TLD_SWAP_CC
				    : W_TLD_SWAP;
			if (!m->weight || (!strcmp(m->code, "lookalike.tld_swap") && w < m->weight))
				*m = (struct match){p->entry, p, "lookalike.tld_swap", w,
						    "same name under another suffix"};
		} else if (!m->weight || strcmp(m->code, "lookalike.homoglyph")) {
			*m = (struct match){p->entry, p, "lookalike.homoglyph", W_HOMOGLYPH,
					    nonascii ? "confusable characters (UTS #39 skeleton)"
						     : "look-alike characters"};
		}
	}
	if (m->weight)
		return 1;
	/* edit distance within a length bucket, bitmask prefilter */
	uint64_t km = char_mask(key, kl);
	int best_d = 3;
	for (size_t L = kl > 2 ? kl - 2 : 1; L <= kl + 2 && L < LABEL_MAX; L++) {
		for (size_t i = 0; i < bc->n_by_len[L]; i++) {
			const struct pattern *p = &bc->pat[bc->by_len[L][i]];
			if (p->flags & REG_DOMAIN_SHARED)
				continue; /* mail.com is not an imitation of gmail.com */
			int budget = edit_budget(p->norm_len, in_ctx(j, p->entry));
			if (!budget ||
			    (size_t)__builtin_popcountll(km ^ p->mask) > 2u * (unsigned)budget)
				continue;
			int d = osa_distance(key, kl, p->norm, p->norm_len, budget);
			if (d >= 1 && d <= budget && d < best_d) {
				best_d = d;
				int w = d == 1 ? W_EDIT1 : W_EDIT2;
				if (w > m->weight)
					*m = (struct match){
					    p->entry, p, "lookalike.edit_distance", w,
					    d == 1 ? "one edit away" : "two edits away"};
			}
		}
	}
	if (m->weight >= W_COMBO)
		return 1;
	/* combosquat: a brand token among the hyphenated tokens */
	if (!nonascii && memchr(label, '-', ll)) {
		for (size_t i = 0; i < ll;) {
			size_t k = i;
			while (k < ll && label[k] != '-')
				k++;
			size_t tl = 0;
			size_t e = token_entry(bc, label + i, k - i, &tl);
			if (e != (size_t)-1 &&
			    (tl >= 5 || in_ctx(j, e) || has_lure(label, ll, label + i))) {
				*m = (struct match){e, NULL, "lookalike.combosquat", W_COMBO,
						    "brand name combined with other words"};
				return 1;
			}
			i = k + 1;
		}
	}
	if (m->weight)
		return 1;
	/* embedded brand: "paypalsecure", "securebelfiuslogin" (tokens >= 6) */
	if (!nonascii && kl > 6) {
		for (size_t t = 0; t < bc->n_tok_lens; t++) {
			size_t tl = bc->tok_lens[t];
			for (size_t i = 0; i + tl <= kl && tl < kl; i++) {
				uint32_t k = mm_find(&bc->token, key + i, tl);
				if (k) {
					*m = (struct match){bc->token.it[k - 1].val, NULL,
							    "lookalike.combosquat", W_COMBO_EMBED,
							    "brand name inside a longer name"};
					return 1;
				}
			}
		}
	}
	return 0;
}

/* judge_domain - look-alike reasons for one registrable domain shown. */
static void judge_domain(struct judge *j, struct seen *s)
{
	if (s->owner)
		return;
	struct match m;
	int mixed = 0;
	int hit = match_label(j, s->dom, &m, &mixed);
	const char *where = where_str(s->where);
	if (mixed)
		add_reason(j, "lookalike.mixed_script", W_MIXED_SCRIPT,
			   "%s (%s) mixes scripts in one label (UTS #39 restriction level)", s->dom,
			   where);
	if (!hit)
		return;
	const struct registry_entry *e = registry_at(j->bc->reg, m.entry);
	const char *imitated = m.pat ? m.pat->domain : e->domains[0];
	add_reason(j, m.code, m.weight, "%s (%s) imitates %s (%s): %s", s->dom, where, imitated,
		   e->name, m.how);
	note_brand(j, m.entry, m.weight + (mixed ? W_MIXED_SCRIPT : 0));
}

/* no_suffix - length of host without its public suffix (reg is its
 * registrable domain), so a TLD (.net, .be) never counts as a lure. */
static size_t no_suffix(const char *host, const char *reg)
{
	size_t hl = strlen(host);
	const char *dot = strchr(reg, '.');
	size_t sl = dot ? strlen(dot) : 0;
	return hl > sl ? hl - sl : hl;
}

/* clickable - a link the reader follows (not an image or a stylesheet). */
static int clickable(const struct ind_url *u)
{
	return !u->found_in || !strcmp(u->found_in, "text") ||
	       !strncmp(u->found_in, "html:href", 9);
}

/* judge_host - brand in the subdomain part of an unrelated host. */
static void judge_host(struct judge *j, const char *host, const char *reg, int *done)
{
	size_t hl = strlen(host), rl = strlen(reg);
	if (hl <= rl + 1 || strcasecmp(host + hl - rl, reg) || host[hl - rl - 1] != '.')
		return;
	size_t sl = hl - rl - 1; /* subdomain part: host[0..sl) */
	if (sl > 200)
		sl = 200;
	char sub[256];
	memcpy(sub, host, sl);
	sub[sl] = '\0';
	/* an official domain as a label sequence: belfius.be.evil.com */
	for (size_t i = 0; i < sl; i++) {
		if (i && sub[i - 1] != '.')
			continue;
		const struct registry_entry *o = registry_by_domain(j->bc->reg, sub + i);
		if (!o) {
			/* also sequences ending before the last label: paypal.com.x.evil.com */
			for (size_t k = i + 1; k < sl; k++) {
				if (sub[k] != '.')
					continue;
				sub[k] = '\0';
				o = registry_by_domain(j->bc->reg, sub + i);
				sub[k] = '.';
				if (o)
					break;
			}
		}
		if (o && strchr(sub + i, '.')) {
			add_reason(j, "lookalike.subdomain", W_SUB_DOMAIN,
				   "%s puts %s's domain in front of %s", host, o->name, reg);
			note_brand(j, entry_index(j->bc, o), W_SUB_DOMAIN);
			*done = 1;
			return;
		}
	}
	/* a brand token, with a lure or a brand named in the message */
	for (size_t i = 0; i < sl;) {
		size_t k = i;
		while (k < sl && sub[k] != '.' && sub[k] != '-')
			k++;
		size_t tl = 0;
		size_t e = token_entry(j->bc, sub + i, k - i, &tl);
		if (e != (size_t)-1 && tl >= 4 &&
		    (in_ctx(j, e) || has_lure(host, no_suffix(host, reg), host + i))) {
			const struct registry_entry *o = registry_at(j->bc->reg, e);
			add_reason(j, "lookalike.subdomain", W_SUB_TOKEN,
				   "%s names %s in a subdomain of %s", host, o->name, reg);
			note_brand(j, e, W_SUB_TOKEN);
			*done = 1;
			return;
		}
		i = k + 1;
	}
}

/* judge_path - brand as a path segment of an unrelated domain's URL. */
static int judge_path(struct judge *j, const struct ind_url *u)
{
	const char *p = strstr(u->url, "://");
	p = p ? p + 3 : u->url;
	p = strchr(p, '/');
	if (!p)
		return 0;
	size_t n = strcspn(p, "?#");
	if (n > 256)
		n = 256;
	for (size_t i = 0; i < n;) {
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9'))) {
			i++;
			continue;
		}
		size_t k = i;
		while (k < n && ((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') ||
				 (p[k] >= '0' && p[k] <= '9')))
			k++;
		size_t tl = 0;
		size_t e = (k - i >= 4) ? token_entry(j->bc, p + i, k - i, &tl) : (size_t)-1;
		if (e != (size_t)-1 && tl >= 4 &&
		    (in_ctx(j, e) || has_lure(u->host, no_suffix(u->host, u->reg_domain), NULL))) {
			const struct registry_entry *o = registry_at(j->bc->reg, e);
			add_reason(j, "lookalike.path", W_PATH, "link to %s names %s in its path",
				   u->reg_domain, o->name);
			note_brand(j, e, W_PATH);
			return 1;
		}
		i = k;
	}
	return 0;
}

/* text_domain - the first domain named in link text, registrable form. */
static char *text_domain(struct judge *j, const char *text)
{
	size_t n = strnlen(text, 1024);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)text[i];
		if (!is_word(c)) {
			i++;
			continue;
		}
		size_t k = i, dots = 0;
		while (k < n &&
		       (is_word((unsigned char)text[k]) || text[k] == '-' || text[k] == '.')) {
			if (text[k] == '.')
				dots++;
			k++;
		}
		int after_at = i > 0 && text[i - 1] == '@';
		if (dots && !after_at) {
			char *h = to_ascii_domain(j->r, text + i, k - i);
			char *reg = h ? registrable(j, h) : NULL;
			if (reg)
				return reg;
		}
		i = k;
	}
	return NULL;
}

/* ---- brand_judge ------------------------------------------------------ */

void brand_judge(const struct brand_checker *bc, struct result *r)
{
	if (!bc || !r)
		return;
	struct judge *j = xcalloc(1, sizeof(*j)); /* ~4 KB: keep it off small stacks */
	j->bc = bc;
	j->r = r;
	j->claim = j->best = (size_t)-1;

	/* 1. names claimed and named: display name, subject, body */
	struct claim_scan cs = {j, (size_t)-1, 0, 1};
	if (r->from_name)
		scan_phrases(bc, r->from_name, strnlen(r->from_name, 256), on_claim, &cs);
	j->claim = cs.entry;
	j->claim_len = cs.len;
	struct claim_scan ss = {j, (size_t)-1, 0, 1};
	if (r->subject)
		scan_phrases(bc, r->subject, strnlen(r->subject, 512), on_claim, &ss);
	if (r->body_text)
		scan_phrases(bc, r->body_text, strnlen(r->body_text, BRAND_MAX_SCAN_BYTES),
			     on_context, j);

	/* 2. every registrable domain shown */
	struct seen *from = see_domain(j, addr_domain(j, r->from), AT_FROM);
	see_domain(j, addr_domain(j, r->reply_to), AT_REPLY);
	see_domain(j, addr_domain(j, r->sender), AT_SENDER);
	size_t nu = r->urls.n < BRAND_MAX_URLS ? r->urls.n : BRAND_MAX_URLS;
	size_t n_links = 0;
	for (size_t i = 0; i < nu; i++)
		if (r->urls.v[i].reg_domain) {
			see_domain(j, r->urls.v[i].reg_domain, AT_LINK);
			n_links++;
		}
	char *tdom[64]; /* link-text domains of the first 64 links */
	size_t n_text = nu < 64 ? nu : 64;
	for (size_t i = 0; i < n_text; i++) {
		const struct ind_url *u = &r->urls.v[i];
		tdom[i] = u->text ? text_domain(j, u->text) : NULL;
		if (tdom[i])
			see_domain(j, tdom[i], AT_TEXT);
	}

	/* 3. look-alikes of each domain, then hosts and paths */
	for (size_t i = 0; i < j->n_dom; i++)
		judge_domain(j, &j->dom[i]);
	int sub_done = 0, n_path = 0;
	for (size_t i = 0; i < nu; i++) {
		const struct ind_url *u = &r->urls.v[i];
		if (!u->reg_domain || !u->host || !clickable(u) ||
		    registry_by_domain(bc->reg, u->reg_domain))
			continue;
		if (!sub_done)
			judge_host(j, u->host, u->reg_domain, &sub_done);
		if (n_path < 2 && judge_path(j, u))
			n_path++;
	}

	/* 4. the display name claims a brand the address does not belong to */
	if (from && from->owner && !(from->owner_flags & REG_DOMAIN_SHARED))
		note_brand(j, entry_index(bc, from->owner), W_SENDER_OFFICIAL);
	size_t claimed = j->claim;
	int claim_is_subject = 0;
	if (claimed == (size_t)-1 && ss.entry != (size_t)-1) {
		claimed = ss.entry;
		claim_is_subject = 1;
	}
	if (claimed != (size_t)-1 && r->from) {
		const struct registry_entry *ce = registry_at(bc->reg, claimed);
		size_t k = from ? registry_entry_owns(ce, from->dom) : 0;
		int owned =
		    k && !(ce->domain_flags && (ce->domain_flags[k - 1] & REG_DOMAIN_SHARED));
		if (!owned && from && from->owner && !(from->owner_flags & REG_DOMAIN_SHARED)) {
			/* a name several entries share: ING Belgium / ING Nederland */
			const struct registry_entry *o = from->owner;
			for (size_t i = 0; i < o->n_names && !owned; i++)
				for (size_t q = 0; q < ce->n_names && !owned; q++)
					if (!strcasecmp(o->names[i], ce->names[q]))
						owned = 1;
			if (owned)
				claimed = entry_index(bc, o);
		}
		if (!owned) {
			int w = claim_is_subject ? W_SUBJECT : W_DISPLAY;
			add_reason(
			    j, "brand.display_name_mismatch", w,
			    "%s names %s but the sender's domain %s is not one of its domains",
			    claim_is_subject ? "the subject" : "the From display name", ce->name,
			    from ? from->dom : "(none)");
			if (!claim_is_subject) /* a subject mention is no claim to be the brand */
				note_brand(j, claimed, w);
		} else {
			note_brand(j, claimed, W_SENDER_OFFICIAL);
		}
	}

	/* 5. link text naming one domain while the link goes to another */
	int n_mis = 0, n_weak = 0;
	for (size_t i = 0; i < n_text && n_mis < 3; i++) {
		const struct ind_url *u = &r->urls.v[i];
		if (!tdom[i])
			continue;
		if (u->reg_domain && !strcasecmp(tdom[i], u->reg_domain))
			continue;
		const struct registry_entry *te = registry_by_domain(bc->reg, tdom[i]);
		const struct registry_entry *ue =
		    u->reg_domain ? registry_by_domain(bc->reg, u->reg_domain) : NULL;
		if (te && te == ue)
			continue; /* paypal.com shown, paypal.de linked */
		int dup = 0;	  /* one reason per shown domain */
		for (size_t q = 0; q < i && !dup; q++)
			dup = tdom[q] && !strcasecmp(tdom[q], tdom[i]);
		if (dup)
			continue;
		if (!te && ((from && !strcasecmp(from->dom, tdom[i])) || n_weak++))
			continue; /* the sender's own site behind its tracker; or not the first */
		int w = te ? W_TEXT_BRAND : W_TEXT;
		add_reason(j, "link.text_mismatch", w, "link text names %s%s%s%s but goes to %s",
			   tdom[i], te ? " (" : "", te ? te->name : "", te ? ")" : "",
			   u->reg_domain ? u->reg_domain
			   : u->host	 ? u->host
					 : "(unknown)");
		if (te)
			note_brand(j, entry_index(bc, te), w);
		n_mis++;
	}

	/* 6. links to the claimed organisation's own domains */
	size_t org = claimed;
	if (org == (size_t)-1 && from && from->owner && !(from->owner_flags & REG_DOMAIN_SHARED))
		org = entry_index(bc, from->owner);
	if (org != (size_t)-1 && n_links) {
		const struct registry_entry *oe = registry_at(bc->reg, org);
		size_t n_ok = 0;
		const char *first = NULL;
		for (size_t i = 0; i < nu; i++) {
			const struct ind_url *u = &r->urls.v[i];
			size_t k = u->reg_domain ? registry_entry_owns(oe, u->reg_domain) : 0;
			if (k &&
			    !(oe->domain_flags && (oe->domain_flags[k - 1] & REG_DOMAIN_SHARED))) {
				n_ok++;
				if (!first)
					first = u->reg_domain;
			}
		}
		if (n_ok)
			add_reason(j, "link.verified",
				   n_ok == n_links ? W_VERIFIED_ALL : W_VERIFIED_SOME,
				   "%zu of %zu links go to %s's own domains (%s)", n_ok, n_links,
				   oe->name, first);
	}

	if (j->best != (size_t)-1)
		r->brand = arena_strdup(&r->arena, registry_at(bc->reg, j->best)->id);
	free(j);
}
