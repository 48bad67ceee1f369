/*
 * campaign.h - group reports into campaigns as they arrive.
 *
 * campaign_assign() runs once per report after the verdict and before the
 * report is stored, inside the ingest transaction: it finds the campaign
 * the report belongs to (or starts one) in roughly constant time, updates
 * the campaign's record in the store, sets r->campaign_id, and raises an
 * alert when the campaign crosses the configured threshold.
 */
#ifndef SHIELD_CAMPAIGN_H
#define SHIELD_CAMPAIGN_H

#include <stdint.h>
#include <stdio.h>

#include "extract/result.h"

struct store;

struct campaign_config {
	int alert_reports;	 /* N reports ... (default 3) */
	int alert_minutes;	 /* ... within T minutes (default 10) */
	const char *webhook_url; /* NULL: no webhook (operator-enabled only) */
	const char *alert_email; /* NULL: no e-mail alert */
	int replay;		 /* time comes from the message Date (ingest --replay) */
	int filter_after;	 /* store look-ups before the key filters are read
				  * (0: campaign_filter_after() of the store's
				  * reports; tests use 1) */
	int preload;		 /* when the filters are read, also read the whole
				  * key index into memory if it fits (a resident
				  * ingest: ingest --watch) */
};

/* Reading the key filters costs a pass over every key in the store, so a
 * run reads them only once it has asked the store as often as
 * campaign_filter_after() says: a run of one message (`shield ingest -`
 * per delivered mail), or a batch small beside the store, never pays for a
 * pass that only a long run earns back. The pass grows with the store and
 * a run's look-ups do not, so the count scales with the store: a store
 * look-up that misses costs about 10,000 instructions, reading one key
 * for the filters about 700, and a store holds about three keys per
 * report (its message and ~2 campaign keys); the pass costs as much as
 * reports / 5 look-ups. Reading it once that many have been made (the
 * ski-rental rule) spends at most twice what the better choice would
 * have, whatever the run's length (bench/README-campaigns.md, "tenth
 * pass"). */
#define CAMPAIGN_FILTER_AFTER 2048
#define CAMPAIGN_FILTER_REPORTS_PER_LOOKUP 5
/* campaign_filter_after - look-ups before the filters of a store of
 * `reports` reports are read: at least CAMPAIGN_FILTER_AFTER. */
long campaign_filter_after(long reports);

struct campaign_engine;

/* campaign_key_stats - for tests and benchmarks: how many key look-ups
 * this engine has sent to the store, and whether its key cache holds the
 * whole index now (campaign_config.preload). */
void campaign_key_stats(const struct campaign_engine *ce, long *lookups, int *preloaded);
/* campaign_index_key - for tests: the ids of the campaigns that share
 * index key `key` as placement sees them (the engine's cache, else the
 * store), most recent first, at most max into ids; returns how many, or
 * -1 on a store error. */
int campaign_index_key(struct campaign_engine *ce, uint64_t key, int64_t *ids, int max);

/* campaign_engine_new - load the clustering index from the store. */
struct campaign_engine *campaign_engine_new(struct store *st, const struct campaign_config *cfg,
					    char **err);
struct campaign_engine *campaign_engine_free(struct campaign_engine *ce);

/* campaign_engine_sync - call it at the start of each of the engine's
 * transactions, after BEGIN IMMEDIATE (so nobody else can commit before
 * this transaction does): the engine's caches assume it is the only writer
 * of the campaign tables, so if another connection has committed to the
 * store since the engine last looked (an analyst's merge during a long
 * ingest or between the cycles of ingest --watch, another ingest...;
 * store_data_version() tells) they are all forgotten, and the key filters
 * with them (read again as campaign_filter_after() says). The
 * filters are also read again once the keys added since they were read
 * fill the room they were sized for. Returns 1 if something was forgotten,
 * 0 if not, -1 on a store error. NULL is fine. */
int campaign_engine_sync(struct campaign_engine *ce);

/* campaign_assign - set r->campaign_id (creating the campaign if needed).
 * Returns 0, or -1 on a store failure (store_errmsg says why). */
int campaign_assign(struct campaign_engine *ce, struct result *r);
/* Placing a report is in two parts. campaign_prepare() reduces it to its
 * features (keys, text signature, subject template) and what its campaign
 * keeps of it: that depends on the report alone and reads only what the
 * engine never changes after campaign_engine_new() (the ignore list, the
 * registry), so ingest runs it on its parsing threads, in parallel, while
 * another thread is inside campaign_assign_prepared(). The rest (look-ups,
 * scoring, store writes, alerts) must run in arrival order on the store's
 * connection. Splitting them took a third of the clustering's
 * instructions out of the ordered section (bench/README-campaigns.md,
 * "eleventh pass").
 * Ownership: a prep belongs to one thread at a time; it borrows strings
 * from the result it was prepared for, so it must be assigned (or
 * prepared again) before that result is freed. */
struct campaign_prep;
struct campaign_prep *campaign_prep_new(void);
struct campaign_prep *campaign_prep_free(struct campaign_prep *p);
void campaign_prepare(const struct campaign_engine *ce, const struct result *r,
		      struct campaign_prep *p);
/* campaign_assign_prepared - campaign_assign() with p made by
 * campaign_prepare() for r (if it was made for another result, r is
 * prepared here). Empties p. */
int campaign_assign_prepared(struct campaign_engine *ce, struct result *r, struct campaign_prep *p);

/* campaign_flush - write the campaign rows that campaign_assign() changed
 * only in the engine's cache (it writes them back, not per report). Call
 * it in the transaction, right before committing it; until then another
 * reader of the store sees the campaigns as of the last flush. Returns -1
 * on a store error (roll back). NULL is fine. */
int campaign_flush(struct campaign_engine *ce);
/* campaign_alerted - the last campaign_assign() raised its campaign's
 * alert (also in a replay, where nothing is sent). The alert is only
 * queued: an ingest that sees this set commits soon and then calls
 * campaign_deliver_alerts(). 0 for a NULL engine. */
int campaign_alerted(const struct campaign_engine *ce);
/* campaign_deliver_alerts - send the alerts raised since the last call, in
 * order (log line on stderr, webhook and e-mail as configured). Call it
 * right after the commit that stored their reports, so that whoever is
 * alerted finds the campaign in the store. Returns how many alerts some
 * configured channel did not take (each is named on stderr). */
int campaign_deliver_alerts(struct campaign_engine *ce);
/* campaign_discard_alerts - drop the queued alerts: their transaction was
 * rolled back or failed to commit, so their campaigns do not exist (a
 * later ingest of the same reports raises them again). Freeing the engine
 * discards them too. */
void campaign_discard_alerts(struct campaign_engine *ce);

/* campaign_set_clock - with cfg->replay, the campaign time (Unix seconds)
 * of the reports that follow (the report's Date); 0: use the message's
 * own Date. */
void campaign_set_clock(struct campaign_engine *ce, int64_t t);
/* campaign_message_date - the Date header of a raw message as Unix
 * seconds, 0 when absent or unreadable (bounded scan of the header). */
int64_t campaign_message_date(const char *raw, size_t len);
/* campaign_replay_summary - per campaign touched in this run: its first
 * report and how long after it the alert would have been raised. */
void campaign_replay_summary(struct campaign_engine *ce, FILE *out);

/* Analyst decisions (shield campaign merge/split). They pin the reports'
 * message hashes to groups, so re-clustering keeps them; the caller holds
 * a transaction. err receives the reason on failure. */
int campaign_merge(struct campaign_engine *ce, int64_t into, int64_t from, char *err, size_t errsz);
/* campaign_split - move the reports (ids, at most 64) to a new campaign. */
int campaign_split(struct campaign_engine *ce, int64_t id, const int64_t *report_ids, int n,
		   int64_t *new_id, char *err, size_t errsz);
/* campaign_recluster - cluster every stored member again, in time order. */
int campaign_recluster(struct campaign_engine *ce, long *members, char *err, size_t errsz);

#endif
