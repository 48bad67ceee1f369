/*
 * lifecycle.c - report selection and the blocklist refresh (see act.h).
 */
#include <jansson.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "act/act.h"
#include "act/guard.h"
#include "act/redact.h"
#include "act/strmap.h"
#include "common/xalloc.h"
#include "store/store.h"
#include "store/store_act.h"

/* Host names remembered per domain for the guard's check below it. */
#define ACT_MAX_HOSTS_PER_DOMAIN 32

const char *act_iso(int64_t t, char out[32])
{
	out[0] = '\0';
	if (!t)
		return out;
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

int64_t act_parse_iso(const char *s)
{
	struct tm tm;
	if (!s)
		return 0;
	memset(&tm, 0, sizeof tm);
	const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!e) {
		memset(&tm, 0, sizeof tm);
		e = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!e)
		return 0;
	return (int64_t)timegm(&tm);
}

int act_classify(const struct act_select *s, const char *verdict, int score)
{
	if (!verdict)
		return s->unjudged && s->min_score <= 0 ? ACT_MALICIOUS : ACT_NOT_SELECTED;
	const char *list = s->verdicts ? s->verdicts : "phishing,malware,scam";
	size_t vn = strlen(verdict);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		if (n == vn && strncasecmp(p, verdict, n) == 0)
			return score >= s->min_score ? ACT_MALICIOUS : ACT_NOT_SELECTED;
		p += n;
		if (*p)
			p++;
	}
	return ACT_OTHER;
}

struct dagg {
	char *reg; /* registrable domain, or the IP host */
	int is_ip;
	long mal, other;
	int64_t last_other_report, last_mal_report;
	int64_t first_seen, last_seen, first_report;
	char *hosts[ACT_MAX_HOSTS_PER_DOMAIN];
	size_t nhosts;
	const char *compromised; /* static string from decide.c */
	char *lookalike;
	enum act_level level;
	char reason[400];
	char guard[400];
	int guarded;
};

struct uagg {
	char *value; /* as published */
	struct dagg *dom;
	int64_t first_seen, last_seen, first_report;
	long reports;
	int64_t last_report;
	int cut;
};

struct refresh {
	const struct act_refresh_opts *o;
	struct act_refresh_stats *s;
	const psl_ctx_t *psl;
	struct strmap doms, urls, msgs;
	int failed;
	char err[300];
};

static int link_url(const char *found_in)
{
	if (!found_in)
		return 1;
	return strcmp(found_in, "html:src") != 0 && strcmp(found_in, "html:srcset") != 0 &&
	       strcmp(found_in, "html:css") != 0;
}

/* landing_url - a link the reader is meant to follow: only these count as
 * evidence that a whole domain exists for abuse. Names merely written in
 * the visible HTML text (a signature, "visit unilever.at") or pulled in as
 * images are on phishing pages all the time without being rogue. */
static int landing_url(const char *found_in)
{
	static const char *const kinds[] = {
	    "text",	 "html:href", "html:action", "html:formaction", "html:meta-refresh",
	    "attachment"};
	if (!found_in)
		return 0;
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strcmp(found_in, kinds[i]) == 0)
			return 1;
	return 0;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static struct dagg *domain_of(struct refresh *rf, const char *reg, const char *host)
{
	const char *key = reg ? reg : host;
	struct dagg *d = strmap_get(&rf->doms, key);
	if (!d) {
		d = xcalloc(1, sizeof *d);
		d->reg = xstrdup(key);
		d->is_ip = reg == NULL;
		strmap_put(&rf->doms, key, d, NULL);
	}
	return d;
}

static void add_host(struct dagg *d, const char *host)
{
	if (!host)
		return;
	for (size_t i = 0; i < d->nhosts; i++)
		if (strcmp(d->hosts[i], host) == 0)
			return;
	if (d->nhosts < ACT_MAX_HOSTS_PER_DOMAIN)
		d->hosts[d->nhosts++] = xstrdup(host);
}

/* lookalike_of - a verdict reason naming reg as a look-alike. */
static const char *lookalike_of(json_t *reasons, const char *reg)
{
	size_t i;
	json_t *v;
	json_array_foreach(reasons, i, v)
	{
		const char *code = jstr(v, "code"), *detail = jstr(v, "detail");
		/* Only a registrable domain whose own label imitates the brand
		 * (combosquat, homoglyph, edit distance, mixed script) exists for
		 * abuse. A brand in a subdomain or path of another domain is most
		 * often a compromised site (a hijacked DNS zone, a hacked CMS), and
		 * a brand's name under another country's TLD is often the brand's
		 * own national site (americanexpress.com.br): those list URLs. */
		if (code && detail && strncmp(code, "lookalike", 9) == 0 &&
		    strcmp(code, "lookalike.tld_swap") != 0 &&
		    strcmp(code, "lookalike.path") != 0 &&
		    strcmp(code, "lookalike.subdomain") != 0 && strstr(detail, reg))
			return detail;
	}
	return NULL;
}

static int allowed_url(const struct act_refresh_opts *o, const char *url, const char *pub)
{
	for (size_t i = 0; i < o->n_allow_urls; i++)
		if (strcmp(o->allow_urls[i], url) == 0 ||
		    (pub && strcmp(o->allow_urls[i], pub) == 0))
			return 1;
	return 0;
}

static int on_report(void *ctx, const struct report_row *row)
{
	struct refresh *rf = ctx;
	rf->s->reports++;
	int cls = act_classify(&rf->o->sel, row->verdict, row->score);
	if (cls == ACT_NOT_SELECTED)
		return 0;
	json_error_t je;
	json_t *j = json_loads(row->json, 0, &je);
	if (!j)
		return 0;
	if (cls == ACT_MALICIOUS)
		rf->s->selected++;
	else
		rf->s->other++;
	int64_t t = act_parse_iso(row->created_at);
	struct redactor vic;
	redact_init(&vic);
	redact_add_victim(&vic, jstr(j, "reporter"));
	redact_add_victim(&vic, jstr(j, "to"));
	json_t *reasons = json_object_get(j, "reasons");
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(j, "urls"), i, u)
	{
		const char *url = jstr(u, "url"), *host = jstr(u, "host");
		const char *reg = jstr(u, "registrable_domain");
		if (!url || !host || !link_url(jstr(u, "found_in")))
			continue;
		struct dagg *d = domain_of(rf, reg, host);
		if (cls == ACT_OTHER) {
			if (d->last_other_report != row->id)
				d->other++;
			d->last_other_report = row->id;
			continue;
		}
		rf->s->urls++;
		add_host(d, host);
		if (!d->first_seen || t < d->first_seen) {
			d->first_seen = t;
			d->first_report = row->id;
		}
		if (t > d->last_seen)
			d->last_seen = t;
		if (d->last_mal_report != row->id && landing_url(jstr(u, "found_in"))) {
			/* distinct messages: the same message reported twice counts once */
			char key[600];
			snprintf(key, sizeof key, "%s\x01%s", d->reg,
				 row->message_sha ? row->message_sha : "");
			int added = 0;
			if (!strmap_get(&rf->msgs, key))
				strmap_put(&rf->msgs, key, d, &added);
			if (added)
				d->mal++;
			d->last_mal_report = row->id;
		}
		const char *sign = act_compromised_sign(url);
		if (sign && !d->compromised)
			d->compromised = sign;
		const char *la = reg ? lookalike_of(reasons, reg) : NULL;
		if (la && !d->lookalike)
			d->lookalike = xstrdup(la);
		int cut = 0;
		char *pub = redact_url_block(&vic, url, &cut);
		if (!pub || allowed_url(rf->o, url, pub)) {
			if (!pub)
				rf->s->withheld++;
			free(pub);
			continue;
		}
		struct uagg *ua = strmap_get(&rf->urls, pub);
		if (!ua) {
			ua = xcalloc(1, sizeof *ua);
			ua->value = pub;
			ua->dom = d;
			ua->first_seen = t;
			ua->first_report = row->id;
			strmap_put(&rf->urls, pub, ua, NULL);
		} else {
			free(pub);
		}
		ua->cut |= cut;
		if (t < ua->first_seen) {
			ua->first_seen = t;
			ua->first_report = row->id;
		}
		if (t > ua->last_seen)
			ua->last_seen = t;
		if (ua->last_report != row->id)
			ua->reports++;
		ua->last_report = row->id;
	}
	redact_release(&vic);
	json_decref(j);
	return 0;
}

static int private_suffix(const psl_ctx_t *psl, const char *reg)
{
	const char *dot = strchr(reg, '.');
	if (!dot)
		return 0;
	return psl_is_public_suffix2(psl, dot + 1, PSL_TYPE_PRIVATE | PSL_TYPE_NO_STAR_RULE) &&
	       !psl_is_public_suffix2(psl, dot + 1, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE);
}

/* The listing we want after this refresh. */
struct want {
	const char *level, *value, *reason, *guard;
	int64_t first_seen, last_seen, first_report;
	long reports;
};

struct have {
	struct listing_row r;
	char *level, *value, *reason, *guard, *delist_reason;
	int seen;
};

static int load_have(void *ctx, const struct listing_row *r)
{
	struct strmap *m = ctx;
	struct have *h = xcalloc(1, sizeof *h);
	h->r = *r;
	h->level = xstrdup(r->level);
	h->value = xstrdup(r->value);
	h->reason = xstrdup(r->reason ? r->reason : "");
	h->guard = r->guard ? xstrdup(r->guard) : NULL;
	h->delist_reason = r->delist_reason ? xstrdup(r->delist_reason) : NULL;
	h->r.level = h->level;
	h->r.value = h->value;
	h->r.reason = h->reason;
	h->r.guard = h->guard;
	h->r.delist_reason = h->delist_reason;
	char key[8192];
	snprintf(key, sizeof key, "%s\x01%s", r->level, r->value);
	strmap_put(m, key, h, NULL);
	return 0;
}

static void free_have(struct have *h)
{
	free(h->level);
	free(h->value);
	free(h->reason);
	free(h->guard);
	free(h->delist_reason);
	free(h);
}

/* apply - create or update one listing from w; returns -1 on store error. */
static int apply(struct refresh *rf, struct listing_writer *lw, struct strmap *have,
		 const struct want *w)
{
	const struct act_refresh_opts *o = rf->o;
	int64_t ttl = (int64_t)(o->ttl_days > 0 ? o->ttl_days : ACT_DEFAULT_TTL_DAYS) * 86400;
	char key[8192];
	snprintf(key, sizeof key, "%s\x01%s", w->level, w->value);
	struct have *h = strmap_get(have, key);
	int64_t expires = w->last_seen + ttl;
	if (!h) {
		if (expires <= o->now)
			return 0; /* reported long ago: never listed */
		struct listing_row r = {
		    .level = w->level,
		    .value = w->value,
		    .reason = w->reason,
		    .guard = w->guard,
		    .first_seen = w->first_seen,
		    .last_seen = w->last_seen,
		    .listed_at = o->now,
		    .expires_at = expires,
		    .reports = w->reports,
		    .first_report = w->first_report,
		};
		rf->s->listed++;
		if (store_act_listing_put(lw, &r, NULL) < 0 ||
		    store_act_listing_audit(lw, o->now, "listed", w->value, w->reason) < 0)
			return -1;
		if (w->guard &&
		    store_act_listing_audit(lw, o->now, "guard", w->value, w->guard) < 0)
			return -1;
		return 0;
	}
	h->seen = 1;
	struct listing_row r = h->r;
	int changed = 0;
	const char *action = NULL, *why = NULL;
	if (r.delisted_at) {
		if (w->last_seen > r.delisted_at && expires > o->now) {
			r.delisted_at = 0;
			r.delist_reason = NULL;
			r.listed_at = o->now;
			r.expires_at = expires;
			action = "relisted";
			why = "reported again after delisting";
			rf->s->relisted++;
			changed = 1;
		}
	} else if (expires > r.expires_at) {
		r.expires_at = expires;
		rf->s->extended++;
		changed = 1;
	}
	if (!r.delisted_at && r.expires_at <= o->now) {
		r.delisted_at = o->now;
		r.delist_reason = "expired";
		action = "expired";
		why = "no report within the listing lifetime";
		rf->s->expired++;
		changed = 1;
	}
	if (w->last_seen != r.last_seen || w->first_seen != r.first_seen ||
	    w->reports != r.reports || strcmp(w->reason, r.reason) != 0 ||
	    (w->guard == NULL) != (r.guard == NULL) || (w->guard && strcmp(w->guard, r.guard))) {
		r.last_seen = w->last_seen;
		r.first_seen = w->first_seen;
		r.reports = w->reports;
		r.reason = w->reason;
		r.guard = w->guard;
		r.first_report = w->first_report;
		changed = 1;
	}
	if (!changed)
		return 0;
	if (store_act_listing_put(lw, &r, NULL) < 0)
		return -1;
	if (action && store_act_listing_audit(lw, o->now, action, r.value, why) < 0)
		return -1;
	return 0;
}

static int finish(struct refresh *rf, struct store *st)
{
	const struct act_refresh_opts *o = rf->o;
	struct strmap have;
	strmap_init(&have);
	int rc = -1;
	struct listing_writer *lw = NULL;
	if (store_act_listings_each(st, 0, load_have, &have) < 0) {
		snprintf(rf->err, sizeof rf->err, "reading listings: %s", store_act_errmsg(st));
		goto out;
	}
	/* decisions */
	for (size_t i = 0; i < rf->doms.n; i++) {
		struct dagg *d = rf->doms.vals[i];
		if (d->mal == 0)
			continue;
		struct act_facts f = {
		    .reg_domain = d->is_ip ? NULL : d->reg,
		    .mal_reports = d->mal,
		    .other_reports = d->other,
		    .lookalike = d->lookalike,
		    .compromised = d->compromised,
		};
		if (!d->is_ip) {
			f.private_suffix = private_suffix(rf->psl, d->reg);
			if (guard_check(o->guard, d->reg, (const char *const *)d->hosts, d->nhosts,
					d->guard, sizeof d->guard)) {
				f.guard = d->guard;
				d->guarded = 1;
				rf->s->guarded_domains++;
			}
		}
		d->level = act_decide(&f, &o->policy, d->reason, sizeof d->reason);
	}
	if (store_begin(st) < 0) {
		snprintf(rf->err, sizeof rf->err, "%s", store_errmsg(st));
		goto out;
	}
	lw = store_act_listing_writer(st);
	if (!lw)
		goto fail;
	long produced = 0;
	for (size_t i = 0; i < rf->doms.n; i++) {
		struct dagg *d = rf->doms.vals[i];
		if (d->mal == 0 || d->level != ACT_DOMAIN)
			continue;
		/* the domain's times are those of its URLs */
		struct want w = {"domain",	d->reg,	      d->reason,       NULL,
				 d->first_seen, d->last_seen, d->first_report, d->mal};
		if (!w.first_seen)
			continue;
		if (++produced > ACT_MAX_LISTINGS)
			break;
		rf->s->domain_level++;
		if (apply(rf, lw, &have, &w) < 0)
			goto fail;
	}
	for (size_t k = 0; k < rf->urls.n; k++) {
		struct uagg *u = rf->urls.vals[k];
		struct dagg *d = u->dom;
		if (d->mal == 0 || d->level == ACT_DOMAIN)
			continue;
		if (u->cut) {
			/* a cut prefix must still point at the attacker's page:
			 * not a bare host, not a shared or guarded site */
			const char *path = strstr(u->value, "://");
			path = path ? strchr(path + 3, '/') : NULL;
			if (!path || strcmp(path, "/") == 0 || d->guarded ||
			    act_shared_platform(d->reg) ||
			    (!d->is_ip && private_suffix(rf->psl, d->reg))) {
				rf->s->withheld++;
				continue;
			}
		}
		if (++produced > ACT_MAX_LISTINGS)
			break;
		struct want w = {
		    "url",	   u->value,	 d->reason,	  d->guarded ? d->guard : NULL,
		    u->first_seen, u->last_seen, u->first_report, u->reports};
		rf->s->url_level++;
		if (apply(rf, lw, &have, &w) < 0)
			goto fail;
	}
	/* active listings no longer produced */
	for (size_t i = 0; i < have.n; i++) {
		struct have *h = have.vals[i];
		if (h->seen || h->r.delisted_at)
			continue;
		struct listing_row r = h->r;
		r.delisted_at = o->now;
		if (r.expires_at <= o->now) {
			r.delist_reason = "expired";
			rf->s->expired++;
		} else {
			r.delist_reason = "superseded: no longer produced by the current decisions "
					  "(allowlisted, re-judged or level changed)";
			rf->s->delisted++;
		}
		if (store_act_listing_put(lw, &r, NULL) < 0 ||
		    store_act_listing_audit(lw, o->now, "delisted", r.value, r.delist_reason) < 0)
			goto fail;
	}
	store_act_listing_writer_free(lw);
	lw = NULL;
	if (store_commit(st) < 0) {
		snprintf(rf->err, sizeof rf->err, "%s", store_errmsg(st));
		store_rollback(st);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	snprintf(rf->err, sizeof rf->err, "writing listings: %s", store_act_errmsg(st));
	store_act_listing_writer_free(lw);
	store_rollback(st);
out:
	for (size_t i = 0; i < have.n; i++)
		free_have(have.vals[i]);
	strmap_release(&have);
	return rc;
}

int act_refresh(struct store *st, const struct act_refresh_opts *o, struct act_refresh_stats *s,
		char **err)
{
	struct refresh rf = {.o = o, .s = s};
	memset(s, 0, sizeof *s);
	rf.psl = o->psl ? (const psl_ctx_t *)o->psl : psl_builtin();
	strmap_init(&rf.doms);
	strmap_init(&rf.urls);
	strmap_init(&rf.msgs);
	int rc = 0;
	if (store_act_migrate(st) < 0 || store_list_reports(st, on_report, &rf) < 0) {
		snprintf(rf.err, sizeof rf.err, "%s", store_errmsg(st));
		rc = -1;
	} else if (finish(&rf, st) < 0) {
		rc = -1;
	}
	if (rc < 0)
		*err = xstrdup(rf.err);
	for (size_t i = 0; i < rf.doms.n; i++) {
		struct dagg *d = rf.doms.vals[i];
		for (size_t k = 0; k < d->nhosts; k++)
			free(d->hosts[k]);
		free(d->lookalike);
		free(d->reg);
		free(d);
	}
	for (size_t i = 0; i < rf.urls.n; i++) {
		struct uagg *u = rf.urls.vals[i];
		free(u->value);
		free(u);
	}
	strmap_release(&rf.doms);
	strmap_release(&rf.urls);
	strmap_release(&rf.msgs);
	return rc;
}
