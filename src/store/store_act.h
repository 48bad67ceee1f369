/*
 * store_act.h - the tables of acting on reports (issue 5): blocklist
 * listings with their lifecycle, the operator's allowlist, the audit trail
 * of every change, and small state (the RPZ serial). All SQL of the "act"
 * component lives in store_act.c, with bound parameters.
 *
 * Model:
 *   act_listing - one blocklist entry: level "domain" (a rogue registrable
 *                 domain, listed with its subdomains) or "url" (one page),
 *                 the reason of the decision, the guard that demoted it to
 *                 URL level (NULL if none), and the lifecycle: first seen,
 *                 last seen (report times), listed at, expires, delisted
 *                 at with the reason. Active = delisted_at is 0.
 *   act_allow   - operator allowlist: kind "domain" or "url", a reason.
 *   act_audit   - append-only: who changed what, when and why.
 *   act_state   - key -> integer (rpz serial, content hash prefix).
 * Times are Unix seconds (UTC); 0 means "none".
 * Ownership: strings handed to callbacks are valid only during the call.
 */
#ifndef SHIELD_STORE_ACT_H
#define SHIELD_STORE_ACT_H
#include <stdint.h>

struct store;

/* store_act_migrate - create/upgrade the act tables (component "act"). */
int store_act_migrate(struct store *st);
/* store_act_errmsg - SQLite's message for the last failed call here. */
const char *store_act_errmsg(struct store *st);

struct listing_row {
	int64_t id;
	const char *level; /* "domain" or "url" */
	const char *value; /* registrable domain or URL (as published) */
	const char *reason;
	const char *guard; /* why domain level was refused, or NULL */
	int64_t first_seen, last_seen, listed_at, expires_at, delisted_at;
	const char *delist_reason;
	long reports;
	int64_t first_report; /* id of the earliest report naming it */
};
typedef int (*listing_cb)(void *ctx, const struct listing_row *r);

/* store_act_listings_each - listings ordered by level, value; active_only
 * skips delisted ones. cb returning nonzero stops. */
int store_act_listings_each(struct store *st, int active_only, listing_cb cb, void *ctx);
/* store_act_listings_of - listings whose value is v, or which are URLs on
 * host/domain v (for a timeline). */
int store_act_listings_of(struct store *st, const char *v, listing_cb cb, void *ctx);

/* Bulk writer for refreshes (use inside store_begin/commit). */
struct listing_writer;
struct listing_writer *store_act_listing_writer(struct store *st);
void store_act_listing_writer_free(struct listing_writer *w);
/* store_act_listing_put - insert (r->id 0) or update row r->id entirely. */
int store_act_listing_put(struct listing_writer *w, const struct listing_row *r, int64_t *id);

/* store_act_listing_audit - an audit row through the writer's prepared
 * statement (bulk refreshes log every change). */
int store_act_listing_audit(struct listing_writer *w, int64_t at, const char *action,
			    const char *value, const char *reason);

/* store_act_delist - mark active listings delisted: the listing with this
 * exact value (level NULL: any level); *n gets how many. */
int store_act_delist(struct store *st, const char *level, const char *value, const char *reason,
		     int64_t at, long *n);

/* Allowlist. store_act_allow_add returns STORE_DUP when already there. */
struct allow_row {
	const char *kind; /* "domain" or "url" */
	const char *value, *reason;
	int64_t added_at;
};
typedef int (*allow_cb)(void *ctx, const struct allow_row *r);
int store_act_allow_add(struct store *st, const char *kind, const char *value, const char *reason,
			int64_t at);
/* store_act_allow_remove - STORE_DUP when there was no such entry. */
int store_act_allow_remove(struct store *st, const char *value);
int store_act_allow_each(struct store *st, allow_cb cb, void *ctx);

/* Audit trail. value may be NULL in store_act_audit_each for all. */
struct audit_row {
	int64_t at;
	const char *action, *value, *reason, *actor;
};
typedef int (*audit_cb)(void *ctx, const struct audit_row *r);
int store_act_audit(struct store *st, int64_t at, const char *action, const char *value,
		    const char *reason, const char *actor);
int store_act_audit_each(struct store *st, const char *value, audit_cb cb, void *ctx);

/* State: missing keys read as 0 (STORE_DUP). */
int store_act_state_get(struct store *st, const char *key, int64_t *v);
int store_act_state_set(struct store *st, const char *key, int64_t v);

#endif
