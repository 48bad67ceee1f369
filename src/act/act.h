/*
 * act.h - acting on stored reports (issue 5): which reports count as
 * malicious, and the blocklist lifecycle (lifecycle.c).
 *
 * Selection: a report is malicious when its verdict is one of
 * sel->verdicts (default phishing, malware, scam) and its score is at
 * least sel->min_score. Reports not judged yet (verdict NULL) count as
 * malicious candidates while sel->unjudged is set (the default until the
 * verdict stage runs at ingest; --unjudged exclude turns it off). Judged
 * reports with another verdict (legitimate, spam, unknown) are "other":
 * a domain they link to is never listed at domain level.
 *
 * Lifecycle (act_refresh): from the selected reports' link URLs, one
 * decision per registrable domain (decide.h, guarded by guard.h); then
 * every listing is created or updated in act_listing:
 *   new          listed_at = now, expires_at = max(now, last_seen) + ttl
 *   re-reported  last_seen moves, expires_at extended to last_seen + ttl
 *   expired      delisted ("expired") when expires_at <= now
 *   delisted     re-listed only when reported again after delisting
 *   superseded   an active entry no longer produced (level changed,
 *                allowlisted) is delisted with that reason
 * Each change is written to the audit trail (actor "refresh").
 * URLs are stored as published: redact_url_block() of each report's
 * victims (a URL that cannot be published without victim data, or whose
 * publishable prefix would only name a shared site, is withheld).
 * Only link URLs count (found in text, href, form action, meta refresh);
 * images and style sheets do not.
 */
#ifndef SHIELD_ACT_H
#define SHIELD_ACT_H
#include <stddef.h>
#include <stdint.h>

#include "act/decide.h"

struct store;
struct guard;

/* The blocklist never lists more than this many entries (a runaway
 * refresh must not publish a resolver-breaking zone). */
#define ACT_MAX_LISTINGS 5000000L
/* Default lifetime of a listing after the last report, in days. */
#define ACT_DEFAULT_TTL_DAYS 30

enum { ACT_NOT_SELECTED = 0, ACT_MALICIOUS = 1, ACT_OTHER = -1 };

struct act_select {
	const char *verdicts; /* comma-separated; NULL = "phishing,malware,scam" */
	int min_score;	      /* 0 = any */
	int unjudged;	      /* reports without verdict count as malicious */
};

/* act_classify - ACT_MALICIOUS, ACT_OTHER (judged, not malicious) or
 * ACT_NOT_SELECTED (unjudged and excluded, or under min_score). */
int act_classify(const struct act_select *s, const char *verdict, int score);

struct act_refresh_opts {
	struct act_select sel;
	struct act_policy policy;
	long ttl_days;
	int64_t now;
	const struct guard *guard;
	const void *psl;	       /* psl_ctx_t * for private suffixes; NULL: built-in */
	const char *const *allow_urls; /* allowlisted URLs (never listed) */
	size_t n_allow_urls;
};

struct act_refresh_stats {
	long reports, selected, other, urls;
	long domain_level, url_level, guarded_domains, withheld;
	long listed, relisted, extended, delisted, expired;
};

/* act_refresh - recompute decisions and update the listings in one
 * transaction. 0, or -1 and *err (malloc'd). */
int act_refresh(struct store *st, const struct act_refresh_opts *o, struct act_refresh_stats *s,
		char **err);

/* act_iso - Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" ("" for 0). */
const char *act_iso(int64_t t, char out[32]);
/* act_parse_iso - "YYYY-MM-DDTHH:MM:SSZ" (or a date) to Unix seconds, 0 if not. */
int64_t act_parse_iso(const char *s);

#endif
