/*
 * features.c - reduce a report to what campaign clustering compares:
 * lookup keys (message hash, attachment hashes, landing URL shape, landing
 * domain, sender domain, subject template, LSH bands of the visible text)
 * and a one-permutation MinHash of the visible text's word 3-shingles.
 *
 * Personalisation is folded before hashing: numbers become '#', tokens
 * mixing letters and digits (tracking ids, per-recipient tokens) and very
 * long tokens become '*', so two copies of one template that differ only
 * in such tokens hash alike. Names cannot be recognised reliably; they
 * change a few shingles only, which the MinHash similarity tolerates.
 *
 * Shared infrastructure (data/campaign-ignore.txt: shorteners, webmail,
 * big hosting and CDN platforms) never yields a strong or medium key: a
 * URL or sender there only gives a CK_WEAK key.
 * Work per report is bounded by CF_MAX_WORDS and CF_MAX_KEYS.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign_int.h"
#include "common/xalloc.h"
#include "verdict/registry.h"

#ifndef SHIELD_DATADIR
#define SHIELD_DATADIR "data"
#endif

/* ---- hashing ---------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t chash(int kind, const void *p, size_t n)
{
	uint64_t h = fnv(0xcbf29ce484222325ULL ^ (uint64_t)kind * 0x9e3779b97f4a7c15ULL, p, n);
	h = mix64(h);
	return h ? h : 1; /* 0 is never a key */
}

/* ---- ignore list ------------------------------------------------------ */

struct ignore_list {
	char **v; /* sorted, lower-case */
	size_t n;
};

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct ignore_list *ignore_list_load(const char *path, char **err)
{
	char def[1024];
	if (!path) {
		snprintf(def, sizeof def, "%s/campaign-ignore.txt", SHIELD_DATADIR);
		path = def;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		char tmp[1200];
		snprintf(tmp, sizeof tmp, "cannot read the campaign ignore list '%s': %s", path,
			 strerror(errno));
		*err = xstrdup(tmp);
		return NULL;
	}
	struct ignore_list *il = xcalloc(1, sizeof *il);
	size_t cap = 0;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		size_t n = strcspn(s, " \t\r\n#");
		if (!n)
			continue;
		for (size_t i = 0; i < n; i++)
			s[i] = (char)tolower((unsigned char)s[i]);
		if (il->n == cap) {
			cap = cap ? cap * 2 : 128;
			il->v = xrealloc(il->v, cap * sizeof *il->v);
		}
		il->v[il->n++] = xstrndup(s, n);
	}
	fclose(f);
	if (il->n)
		qsort(il->v, il->n, sizeof *il->v, cmpstr);
	return il;
}

struct ignore_list *ignore_list_free(struct ignore_list *il)
{
	if (!il)
		return NULL;
	for (size_t i = 0; i < il->n; i++)
		free(il->v[i]);
	free(il->v);
	free(il);
	return NULL;
}

int ignore_list_has(const struct ignore_list *il, const char *host)
{
	if (!il || !host || !il->n)
		return 0;
	char low[256];
	size_t n = strlen(host);
	if (n >= sizeof low)
		return 0;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)host[i]);
	/* host, then each parent domain: a.b.example.com, b.example.com, ... */
	for (const char *p = low; p && *p;) {
		const char *k = p;
		if (bsearch(&k, il->v, il->n, sizeof *il->v, cmpstr))
			return 1;
		p = strchr(p, '.');
		if (p)
			p++;
	}
	return 0;
}

/* ---- tokens ----------------------------------------------------------- */

/* fold_token - the class of a token for templates: 0 keep, '#' number,
 * '*' random-looking (letters and digits mixed, or very long). */
static int fold_token(const char *s, size_t n)
{
	int dig = 0, alpha = 0, upper_inner = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= '0' && c <= '9')
			dig++;
		else if (c >= 0x80 || isalpha(c))
			alpha++;
		if (i > 0 && c >= 'A' && c <= 'Z' && s[i - 1] >= 'a' && s[i - 1] <= 'z')
			upper_inner++;
	}
	if (dig && !alpha)
		return '#';
	if (dig || n > 24 || upper_inner > 1)
		return '*';
	return 0;
}

static int is_word_byte(unsigned char c)
{
	return c >= 0x80 || isalnum(c);
}

void subject_template(const char *s, char *out, size_t outsz)
{
	size_t o = 0;
	out[0] = '\0';
	if (!s)
		return;
	/* reply/forward prefixes, repeated: "Re: Fwd: AW: ..." */
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		static const char *const pre[] = {
		    "re:", "fw:", "fwd:", "aw:",   "wg:",   "tr:",  "sv:",
		    "rv:", "r:",  "enc:", "antw:", "[ext]", "ext:", "wtr:"};
		int hit = 0;
		for (size_t i = 0; i < sizeof pre / sizeof *pre; i++) {
			size_t n = strlen(pre[i]);
			if (!strncasecmp(s, pre[i], n)) {
				s += n;
				hit = 1;
				break;
			}
		}
		if (!hit)
			break;
	}
	const char *p = s;
	while (*p && o + 8 < outsz) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *t = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		size_t n = (size_t)(p - t);
		if (memchr(t, '@', n)) {
			if (o)
				out[o++] = ' ';
			out[o++] = '@';
			continue;
		}
		/* split off leading/trailing punctuation, fold the core */
		size_t a = 0, b = n;
		while (a < b && !is_word_byte((unsigned char)t[a]))
			a++;
		while (b > a && !is_word_byte((unsigned char)t[b - 1]))
			b--;
		int cls = a < b ? fold_token(t + a, b - a) : 0;
		if (o)
			out[o++] = ' ';
		if (cls) {
			if (o >= 2 && out[o - 2] == cls) {
				o--; /* "# #" -> "#" */
				continue;
			}
			out[o++] = (char)cls;
			continue;
		}
		for (size_t i = a; i < b && o + 2 < outsz; i++)
			out[o++] = (char)tolower((unsigned char)t[i]);
	}
	out[o] = '\0';
}

void path_shape(const char *url, char *out, size_t outsz)
{
	size_t o = 0;
	out[0] = '\0';
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	p = p + strcspn(p, "/?#");
	int segs = 0;
	while (*p == '/' && o + 4 < outsz && segs < 6) {
		p++;
		size_t n = strcspn(p, "/?#");
		out[o++] = '/';
		segs++;
		if (n) {
			int cls = fold_token(p, n);
			int lowerword = 1;
			for (size_t i = 0; i < n; i++) {
				unsigned char c = (unsigned char)p[i];
				if (!(islower(c) || c == '-' || c == '_' || c == '.'))
					lowerword = 0;
			}
			if (cls || !lowerword || n > 32) {
				out[o++] = '*';
			} else {
				for (size_t i = 0; i < n && o + 2 < outsz; i++)
					out[o++] = p[i];
			}
		}
		p += n;
	}
	out[o] = '\0';
}

/* ---- text signature --------------------------------------------------- */

/* Stop words of the languages citizens report in, for a language guess
 * when the verdict stage left r->language NULL. */
static const char *const stop[][12] = {
    {"en", "the", "and", "your", "you", "to", "of", "is", "for", "please", "account", NULL},
    {"nl", "de", "het", "een", "uw", "je", "van", "en", "niet", "voor", "is", "wij"},
    {"de", "der", "die", "und", "sie", "ihr", "ihre", "nicht", "mit", "wir", "ist", "das"},
    {"fr", "le", "la", "les", "vous", "votre", "est", "et", "des", "pour", "une", "nous"},
    {"pt", "o", "os", "você", "seu", "sua", "não", "para", "uma", "com", "do", "da"},
    {"es", "el", "los", "usted", "su", "para", "una", "con", "del", "por", "es", "las"},
    {"it", "il", "di", "che", "per", "una", "non", "sono", "gli", "della", "tuo", "vostro"},
};
#define NLANG (sizeof stop / sizeof *stop)

static void lang_vote(int *votes, const char *w, size_t n)
{
	if (n > 7) /* no stop word is longer ("account"): skip the table */
		return;
	for (size_t l = 0; l < NLANG; l++)
		for (int i = 1; i < 12 && stop[l][i]; i++)
			if (stop[l][i][0] == w[0] && !strncmp(stop[l][i], w, n) && !stop[l][i][n])
				votes[l]++;
}

/* text_signature - MinHash (one permutation, CF_MH bins, densified) of
 * word 3-shingles of the folded text. */
static void text_signature(struct cfeat *f, const char *text, int *votes)
{
	/* votes NULL: the language is known, no guess needed */
	uint64_t w[3] = {0, 0, 0};
	int nw = 0, words = 0;
	char low[64];
	for (int i = 0; i < CF_MH; i++)
		f->mh[i] = UINT32_MAX;
	f->shingles = 0;
	if (!text)
		return;
	const unsigned char *p = (const unsigned char *)text;
	while (*p && words < CF_MAX_WORDS) {
		while (*p && !is_word_byte(*p))
			p++;
		if (!*p)
			break;
		const unsigned char *t = p;
		while (*p && is_word_byte(*p))
			p++;
		size_t n = (size_t)(p - t);
		int cls = fold_token((const char *)t, n);
		uint64_t h;
		if (cls) {
			h = chash(cls, "", 0);
		} else {
			size_t m = n < sizeof low ? n : sizeof low;
			for (size_t i = 0; i < m; i++)
				low[i] = (char)tolower(t[i]);
			h = chash(0, low, m);
			if (votes && words < 400)
				lang_vote(votes, low, m);
		}
		words++;
		w[0] = w[1];
		w[1] = w[2];
		w[2] = h;
		if (++nw < 3)
			continue;
		uint64_t s = mix64(w[0] * 3 + w[1] * 0x9e3779b97f4a7c15ULL + (w[2] ^ (w[2] >> 17)));
		unsigned bin = (unsigned)(s % CF_MH);
		uint32_t v = (uint32_t)(s >> 32);
		if (v < f->mh[bin])
			f->mh[bin] = v;
		f->shingles++;
	}
	if (nw > 0 && nw < 3) { /* very short text: one shingle of what there is */
		uint64_t s = mix64(w[0] * 3 + w[1] * 0x9e3779b97f4a7c15ULL + w[2]);
		f->mh[s % CF_MH] = (uint32_t)(s >> 32);
		f->shingles = 1;
	}
	if (!f->shingles)
		return;
	/* densify: an empty bin borrows the next originally filled bin's
	 * value, salted by the distance (deterministic per text) */
	uint32_t orig[CF_MH];
	memcpy(orig, f->mh, sizeof orig);
	for (int i = 0; i < CF_MH; i++) {
		if (orig[i] != UINT32_MAX)
			continue;
		for (int d = 1; d < CF_MH; d++) {
			uint32_t v = orig[(i + d) % CF_MH];
			if (v != UINT32_MAX) {
				f->mh[i] = (uint32_t)mix64((uint64_t)v * 31 + (uint64_t)d);
				break;
			}
		}
	}
}

double cfeat_jaccard(const uint32_t *a, const uint32_t *b)
{
	int eq = 0;
	for (int i = 0; i < CF_MH; i++)
		eq += a[i] == b[i];
	return (double)eq / CF_MH;
}

/* ---- features --------------------------------------------------------- */

static void add_key(struct cfeat *f, int kind, uint64_t h)
{
	if (f->nkeys >= CF_MAX_KEYS)
		return;
	for (int i = 0; i < f->nkeys; i++)
		if (f->keys[i].h == h)
			return;
	f->keys[f->nkeys].h = h;
	f->keys[f->nkeys].kind = (uint8_t)kind;
	f->nkeys++;
}

static int is_landing(const char *found_in)
{
	return found_in && (!strcmp(found_in, "html:href") || !strcmp(found_in, "text") ||
			    !strcmp(found_in, "html:text") || !strcmp(found_in, "html:action"));
}

/* decoration - a link to shared infrastructure (ignore list) or to a
 * verified organisation's own site (registry): phishers embed those (the
 * real bank's homepage, gov.br, social icons, app stores) to look genuine,
 * so they say nothing about who sent the message. */
static int decoration(const struct ignore_list *il, const struct registry *reg, const char *host,
		      const char *dom)
{
	return ignore_list_has(il, host) || ignore_list_has(il, dom) ||
	       (reg && registry_by_domain(reg, dom));
}

/* add_links - landing keys. The landing domain is the registrable domain
 * most clickable links point to once decoration is set aside (ties: the
 * first); it gives CK_LAND (domain + path shape, per distinct shape) and
 * CK_HOST keys. Other non-decoration domains give CK_LINK keys (medium
 * evidence), decoration only CK_WEAK keys.
 * Links to the From domain itself (f->sender_domain, set before) are
 * decoration too: they name the sender, not a landing site. A newsletter
 * or notification links to its own sender's site in every issue, whatever
 * the lure (blockchain.com's newsletters, a mass mailer's own pages); a
 * phish that copies such a mail keeps all those links and adds one to its
 * kit. Counted as the landing, that domain glued every issue of the sender
 * and every copy of them into one campaign, and counted the sender twice
 * (CK_SENDER already carries it). Set aside, the landing is the domain the
 * message sends readers to on someone else's behalf, if any. */
static void add_links(struct cfeat *f, const struct result *r, const struct ignore_list *il,
		      const struct registry *reg)
{
	const char *doms[CF_MAX_LINKDOMS];
	int counts[CF_MAX_LINKDOMS], nd = 0;
	char shape[256], buf[512];
	for (size_t i = 0; i < r->urls.n && i < CF_MAX_URLS; i++) {
		const struct ind_url *u = &r->urls.v[i];
		if (!is_landing(u->found_in) || !u->host || strncmp(u->url, "http", 4))
			continue;
		const char *dom = u->reg_domain ? u->reg_domain : u->host;
		if (decoration(il, reg, u->host, dom) ||
		    (f->sender_domain && !strcasecmp(dom, f->sender_domain))) {
			path_shape(u->url, shape, sizeof shape);
			int n = snprintf(buf, sizeof buf, "%s%s", u->host, shape);
			add_key(f, CK_WEAK,
				chash(CK_WEAK, buf,
				      (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1));
			continue;
		}
		int j;
		for (j = 0; j < nd && strcmp(doms[j], dom); j++)
			;
		if (j == nd) {
			if (nd == CF_MAX_LINKDOMS)
				continue;
			doms[nd] = dom;
			counts[nd++] = 0;
		}
		counts[j]++;
	}
	if (!nd)
		return;
	int best = 0;
	for (int j = 1; j < nd; j++)
		if (counts[j] > counts[best])
			best = j;
	const char *land = doms[best];
	f->land[f->nland++] = land;
	add_key(f, CK_HOST, chash(CK_HOST, land, strlen(land)));
	int shapes = 0;
	for (size_t i = 0; i < r->urls.n && i < CF_MAX_URLS && shapes < CF_MAX_LAND; i++) {
		const struct ind_url *u = &r->urls.v[i];
		if (!is_landing(u->found_in) || !u->host || strncmp(u->url, "http", 4) ||
		    strcmp(u->reg_domain ? u->reg_domain : u->host, land))
			continue;
		path_shape(u->url, shape, sizeof shape);
		int n = snprintf(buf, sizeof buf, "%s%s", land, shape);
		int before = f->nkeys;
		add_key(f, CK_LAND,
			chash(CK_LAND, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1));
		shapes += f->nkeys > before;
	}
	for (int j = 0; j < nd; j++) {
		if (j == best)
			continue;
		add_key(f, CK_LINK, chash(CK_LINK, doms[j], strlen(doms[j])));
		if (f->nland < CF_MAX_LAND)
			f->land[f->nland++] = doms[j];
	}
}

void cfeat_extract(struct cfeat *f, const struct result *r, const struct ignore_list *il,
		   const struct registry *reg)
{
	memset(f, 0, sizeof *f);
	int votes[NLANG] = {0};
	if (r->msg_sha256[0])
		add_key(f, CK_MSG, chash(CK_MSG, r->msg_sha256, strlen(r->msg_sha256)));
	int na = 0;
	for (size_t i = 0; i < r->attachments.n && na < CF_MAX_ATTACH; i++) {
		const struct attachment *a = &r->attachments.v[i];
		if (!a->sha256[0] || a->size < 64) /* empty files say nothing */
			continue;
		add_key(f, CK_ATTACH, chash(CK_ATTACH, a->sha256, 64));
		na++;
	}
	/* the sender domain first: add_links() sets its links aside */
	if (r->from) {
		const char *at = strrchr(r->from, '@');
		const char *dom = NULL;
		for (size_t i = 0; i < r->domains.n && !dom; i++)
			if (r->domains.v[i].found_in &&
			    !strcmp(r->domains.v[i].found_in, "header:from"))
				dom = r->domains.v[i].reg_domain ? r->domains.v[i].reg_domain
								 : r->domains.v[i].value;
		if (!dom && at)
			dom = at + 1;
		if (dom && *dom)
			f->sender_domain = dom;
	}
	add_links(f, r, il, reg);
	if (f->sender_domain) {
		const char *dom = f->sender_domain;
		if (ignore_list_has(il, dom)) {
			/* webmail: the whole address may still be the actor's */
			add_key(f, CK_WEAK, chash(CK_WEAK, r->from, strlen(r->from)));
		} else {
			add_key(f, CK_SENDER, chash(CK_SENDER, dom, strlen(dom)));
		}
	}
	subject_template(r->subject, f->subj_tmpl, sizeof f->subj_tmpl);
	size_t letters = 0, run = 0;
	for (const char *p = f->subj_tmpl;; p++) {
		int l = *p && (isalpha((unsigned char)*p) || (unsigned char)*p >= 0x80);
		letters += l;
		if (l) {
			run++;
			continue;
		}
		f->subj_words += run >= 2;
		run = 0;
		if (!*p)
			break;
	}
	if (letters >= 6)
		add_key(f, CK_SUBJ, chash(CK_SUBJ, f->subj_tmpl, strlen(f->subj_tmpl)));
	text_signature(f, r->body_text, r->language ? NULL : votes);
	if (f->shingles >= CF_MIN_SHINGLES) {
		for (int b = 0; b < CF_BANDS; b++) {
			uint32_t row[1 + CF_MH / CF_BANDS];
			row[0] = (uint32_t)b;
			memcpy(row + 1, f->mh + b * (CF_MH / CF_BANDS), sizeof row - sizeof row[0]);
			add_key(f, CK_BAND, chash(CK_BAND, row, sizeof row));
		}
	}
	f->lang = r->language;
	if (!f->lang) {
		int best = -1, bv = 2;
		for (size_t l = 0; l < NLANG; l++)
			if (votes[l] > bv) {
				bv = votes[l];
				best = (int)l;
			}
		f->lang = best >= 0 ? stop[best][0] : NULL;
	}
}
