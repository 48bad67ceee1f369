/*
 * verdict.c - the verdict engine: loads the registry, the brand checker,
 * the DKIM/S-MIME verifier, the known lists, the content tables and the
 * model once; judges each message by running brand_judge, auth_judge, the
 * list, content and model signals, then sums the reason weights into a
 * score and decides the class from the strongest evidence.
 *
 * Score: S = sum of reason weights (points towards malicious, negative
 * towards legitimate); score = round(100 / (1 + exp(-(S - 30) / 12))), so
 * no evidence is ~8, S = 30 is 50, S = 60 is ~92. Class rules and weights
 * are in docs/verdicts.md.
 */
#include "verdict/verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "verdict/auth.h"
#include "verdict/brand.h"
#include "verdict/content.h"
#include "verdict/lists.h"
#include "verdict/model.h"
#include "verdict/registry.h"

#ifndef SHIELD_DATADIR
#define SHIELD_DATADIR "data"
#endif

/* Decision thresholds (points), see docs/verdicts.md. */
#define MALICIOUS_AT 30	 /* S from which the message is judged malicious */
#define LEGIT_BELOW 5	 /* S below which it may be judged legitimate */
#define MODEL_SCALE 10.0 /* points per unit of log(p_malicious / p_legitimate) */
#define MODEL_CAP 40
#define RULE_EVIDENCE 8	    /* a rule reason this strong names the class */
#define SPAM_BELOW_HAM 0.35 /* model p(legitimate) under which unproven mail is spam */
#define MAX_LIST_REASONS 3

struct verdict_engine {
	struct registry *reg;
	struct brand_checker *brand;
	struct auth_verifier *auth;
	struct lists *lists;
	struct content_checker *content;
	struct model *model;
	int borrowed; /* reg, lists and model belong to another engine */
};

struct verdict_engine *verdict_engine_free(struct verdict_engine *ve)
{
	if (!ve)
		return NULL;
	brand_checker_free(ve->brand);
	auth_verifier_free(ve->auth);
	content_checker_free(ve->content);
	if (!ve->borrowed) {
		registry_free(ve->reg);
		lists_free(ve->lists);
		model_free(ve->model);
	}
	free(ve);
	return NULL;
}

struct verdict_engine *verdict_engine_new(const struct verdict_config *cfg, const void *psl,
					  char **err)
{
	static const struct verdict_config none = {0};
	if (!cfg)
		cfg = &none;
	struct verdict_engine *ve = xcalloc(1, sizeof(*ve));
	ve->reg = registry_load(cfg->registry_file, err);
	if (!ve->reg)
		return verdict_engine_free(ve);
	ve->brand = brand_checker_new(ve->reg, psl, err);
	if (!ve->brand)
		return verdict_engine_free(ve);
	ve->auth = auth_verifier_new(cfg, psl, err);
	if (!ve->auth)
		return verdict_engine_free(ve);
	ve->lists = lists_new();
	for (size_t i = 0; cfg->good_lists && cfg->good_lists[i]; i++)
		if (lists_add_good(ve->lists, cfg->good_lists[i], err) < 0)
			return verdict_engine_free(ve);
	for (size_t i = 0; cfg->bad_lists && cfg->bad_lists[i]; i++)
		if (lists_add_bad(ve->lists, cfg->bad_lists[i], err) < 0)
			return verdict_engine_free(ve);
	ve->content = content_checker_new(NULL, err);
	if (!ve->content)
		return verdict_engine_free(ve);
	if (cfg->model_file) {
		ve->model = model_load(cfg->model_file, err);
		if (!ve->model)
			return verdict_engine_free(ve);
	} else {
		/* the bundled model: without it the rules still judge */
		char *e = NULL;
		ve->model = model_load(SHIELD_DATADIR "/model.txt", &e);
		free(e);
	}
	return ve;
}

struct verdict_engine *verdict_engine_new_shared(const struct verdict_engine *base,
						 const struct verdict_config *cfg, const void *psl,
						 char **err)
{
	static const struct verdict_config none = {0};
	if (!cfg)
		cfg = &none;
	struct verdict_engine *ve = xcalloc(1, sizeof(*ve));
	ve->borrowed = 1;
	ve->reg = base->reg;
	ve->lists = base->lists;
	ve->model = base->model;
	/* the parts with handles or scratch state of their own: the ICU spoof
	 * checker, the DKIM libraries, the compiled patterns (glibc's regexec
	 * locks a shared pattern) */
	ve->brand = brand_checker_new(ve->reg, psl, err);
	if (ve->brand)
		ve->auth = auth_verifier_new(cfg, psl, err);
	if (ve->auth)
		ve->content = content_checker_new(NULL, err);
	if (!ve->content)
		return verdict_engine_free(ve);
	return ve;
}

static int is_link(const struct ind_url *u)
{
	return u->found_in &&
	       (!strcmp(u->found_in, "html:href") || !strcmp(u->found_in, "text") ||
		!strcmp(u->found_in, "html:text") || !strcmp(u->found_in, "html:action"));
}

/* judge_lists - known-bad links and sender domain; known-good links. */
static int judge_lists(const struct verdict_engine *ve, struct result *r)
{
	int bad = 0;
	if (lists_bad_count(ve->lists)) {
		for (size_t i = 0; i < r->urls.n && bad < MAX_LIST_REASONS; i++) {
			const struct ind_url *u = &r->urls.v[i];
			const char *what = NULL;
			const char *src = lists_bad_url(ve->lists, u->url, u->host, &what);
			if (src) {
				bad++;
				result_reason(r, "list.bad", 60, "%s: %s%s", src,
					      !strcmp(what, "url") ? u->url : u->host,
					      !strcmp(what, "url") ? "" : " (host listed)");
			}
		}
		const char *at = r->from ? strrchr(r->from, '@') : NULL;
		const char *src = at ? lists_bad_host(ve->lists, at + 1) : NULL;
		if (src && bad < MAX_LIST_REASONS) {
			bad++;
			result_reason(r, "list.bad", 40, "%s: sender domain %s", src, at + 1);
		}
	}
	if (bad || !lists_good_count(ve->lists))
		return bad;
	/* every link known-good (and none a shortener or free hosting) */
	size_t links = 0, good = 0;
	const char *src = NULL, *first = NULL;
	for (size_t i = 0; i < r->urls.n; i++) {
		const struct ind_url *u = &r->urls.v[i];
		if (!is_link(u) || !u->host)
			continue;
		links++;
		const char *s = content_host_kind(ve->content, u->host)
				    ? NULL
				    : lists_good_host(ve->lists, u->host);
		if (!s)
			break;
		good++;
		if (!src) {
			src = s;
			first = u->host;
		}
	}
	if (links && good == links)
		result_reason(r, "list.good", -10,
			      "%s: every link (%zu) goes to known sites, e.g. %s", src, links,
			      first);
	return 0;
}

static void judge_model(const struct verdict_engine *ve, const struct tokens *t, struct result *r,
			unsigned flags, double p[MODEL_NCLASS])
{
	p[MODEL_HAM] = p[MODEL_SPAM] = p[MODEL_MAL] = 0;
	if (!ve->model || !t->n)
		return;
	struct model_feats fs;
	model_features(&fs, t, r, flags);
	struct model_out out;
	model_predict(ve->model, &fs, &out);
	memcpy(p, out.p, sizeof(out.p));
	double lo = log((out.p[MODEL_MAL] + 1e-6) / (out.p[MODEL_HAM] + 1e-6));
	long w = lround(lo * MODEL_SCALE);
	if (w > MODEL_CAP)
		w = MODEL_CAP;
	if (w < -MODEL_CAP)
		w = -MODEL_CAP;
	char top[512];
	size_t o = 0;
	top[0] = 0;
	for (size_t i = 0; i < out.n_top && o < sizeof(top); i++) {
		const struct model_feat *f = out.top[i].f;
		const char *kind = f->kind == 's'   ? "subject "
				   : f->kind == 'd' ? "link domain "
				   : f->kind == 't' ? "TLD "
				   : f->kind == 'a' ? "file type "
				   : f->kind == 'x' ? "file extension "
				   : f->kind == 'f' ? "signal "
						    : "";
		int n = snprintf(top + o, sizeof(top) - o, "%s%s\"%.*s\" %+.1f", i ? ", " : "",
				 kind, (int)(f->len > 40 ? 40 : f->len), f->name, out.top[i].w);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	result_reason(r, "model", (int)w, "p(malicious)=%.2f p(spam)=%.2f p(legitimate)=%.2f%s%s",
		      out.p[MODEL_MAL], out.p[MODEL_SPAM], out.p[MODEL_HAM],
		      out.n_top ? "; strongest: " : "", top);
	model_feats_release(&fs);
}

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* phishing evidence among the brand, auth and list reasons */
static int phish_reason(const struct reason *x)
{
	if (x->weight <= 0)
		return 0;
	return has_prefix(x->code, "brand.") || has_prefix(x->code, "lookalike.") ||
	       !strcmp(x->code, "link.text_mismatch") || !strcmp(x->code, "list.bad") ||
	       !strcmp(x->code, "auth.unsigned_brand") || !strcmp(x->code, "auth.signed_by_other");
}

static int has_links(const struct result *r)
{
	for (size_t i = 0; i < r->urls.n; i++)
		if (is_link(&r->urls.v[i]))
			return 1;
	return 0;
}

/* strong_phish - evidence that is phishing on its own (not a marketing
 * newsletter's habit like a tracking link whose text names another site). */
static int strong_phish(const struct reason *x)
{
	return phish_reason(x) && (x->weight >= 35 || !strcmp(x->code, "list.bad"));
}

/* decide - the class from the summed points and the kinds of evidence. */
static const char *decide(const struct result *r, int sum, unsigned flags,
			  const double p[MODEL_NCLASS], int have_model)
{
	int phish = 0, strong = 0, good = 0;
	for (size_t i = 0; i < r->reasons.n; i++) {
		phish |= phish_reason(&r->reasons.v[i]);
		strong |= strong_phish(&r->reasons.v[i]);
		good |= r->reasons.v[i].weight < 0 &&
			(!strcmp(r->reasons.v[i].code, "list.good") ||
			 !strcmp(r->reasons.v[i].code, "auth.verified_sender"));
	}
	int malware = (flags & (CF_ATTACH_EXEC | CF_ATTACH_MACRO | CF_ATTACH_ENCRYPTED)) != 0;
	int content_phish = (flags & (CF_CREDENTIAL | CF_FORM_OFFSITE | CF_ATTACH_HTML |
				      CF_DATA_URI | CF_JS_URI)) != 0;
	strong |= (flags & (CF_CREDENTIAL | CF_FORM_OFFSITE | CF_ATTACH_HTML)) != 0;
	phish |= content_phish;
	int scam = (flags & (CF_PRIZE | CF_ADVFEE | CF_EXTORTION)) != 0;
	int model_spam = have_model && p[MODEL_SPAM] >= 0.5 && p[MODEL_SPAM] > p[MODEL_MAL];
	/* the model alone never names a fraud: its words were learnt from
	 * collections of different eras, so without a rule's evidence a
	 * message it dislikes is at most spam */
	int evidence = 0;
	for (size_t i = 0; i < r->reasons.n; i++)
		evidence |= r->reasons.v[i].weight >= RULE_EVIDENCE &&
			    strcmp(r->reasons.v[i].code, "model");
	if (sum >= MALICIOUS_AT && !evidence)
		return have_model && p[MODEL_HAM] < 0.5 ? "spam" : "unknown";
	if (sum >= MALICIOUS_AT) {
		if (malware)
			return "malware";
		if (scam && !(flags & (CF_CREDENTIAL | CF_FORM_OFFSITE)) &&
		    (!strong || (flags & CF_EXTORTION)))
			return "scam";
		if (strong || (phish && !model_spam))
			return "phishing";
		if (model_spam || (have_model && p[MODEL_SPAM] > p[MODEL_MAL]))
			return "spam";
		return has_links(r) ? "phishing" : "scam";
	}
	/* not enough for malicious: spam when the model does not believe it
	 * is legitimate mail */
	if (have_model && (model_spam || p[MODEL_HAM] < SPAM_BELOW_HAM))
		return "spam";
	if (sum < LEGIT_BELOW && (good || (have_model && p[MODEL_HAM] >= 0.8)))
		return "legitimate";
	return "unknown";
}

/* sum_reasons - S: per reason code only the strongest positive and the
 * strongest negative weight count, so ten look-alike links are one piece
 * of evidence, not ten. */
static long sum_reasons(const struct result *r)
{
	long sum = 0;
	for (size_t i = 0; i < r->reasons.n; i++) {
		const struct reason *x = &r->reasons.v[i];
		int dominated = 0;
		for (size_t j = 0; j < r->reasons.n && !dominated; j++) {
			const struct reason *y = &r->reasons.v[j];
			if (j == i || strcmp(x->code, y->code) ||
			    (x->weight < 0) != (y->weight < 0))
				continue;
			/* y beats x: larger magnitude, or equal and earlier */
			if (abs(y->weight) > abs(x->weight) ||
			    (abs(y->weight) == abs(x->weight) && j < i))
				dominated = 1;
		}
		if (!dominated)
			sum += x->weight;
	}
	return sum;
}

void verdict_judge(struct verdict_engine *ve, struct result *r)
{
	if (!ve || !r)
		return;
#ifdef SHIELD_BENCH_NO_VERDICT
	return; /* bench build: extraction alone, to measure the verdict's cost */
#endif
	brand_judge(ve->brand, r);
	auth_judge(ve->auth, ve->reg, r);
	judge_lists(ve, r);
	struct tokens t;
	tokens_make(&t, r->subject, r->body_text);
	const char *lang = content_language(ve->content, &t);
	if (lang) {
		size_t n = strlen(lang) + 1;
		r->language = arena_alloc(&r->arena, n);
		memcpy(r->language, lang, n);
	}
	unsigned flags = content_judge(ve->content, &t, r);
	double p[MODEL_NCLASS];
	judge_model(ve, &t, r, flags, p);
	tokens_release(&t);
	long sum = sum_reasons(r);
	if (sum > 100000)
		sum = 100000;
	if (sum < -100000)
		sum = -100000;
	r->score = (int)lround(100.0 / (1.0 + exp(-((double)sum - 30.0) / 12.0)));
	r->verdict = decide(r, (int)sum, flags, p, ve->model != NULL);
}
