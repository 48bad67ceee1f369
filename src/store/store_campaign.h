/*
 * store_campaign.h - the tables of the campaign stage (issue 4). All SQL of
 * the "campaign" component lives in store_campaign.c, with bound
 * parameters only.
 *
 * Model:
 *   campaign        - one campaign: first/last seen (Unix seconds, campaign
 *                     time: arrival, or the Date with ingest --replay),
 *                     report count, when it was alerted, the analyst pin
 *                     group it carries, the text exemplars (MinHash
 *                     signatures) and its aggregates as JSON (languages,
 *                     brands, verdicts, top indicators, sample subjects).
 *                     merged_into is set when an analyst merged it away.
 *   campaign_key    - lookup key -> campaign (the clustering index); one
 *                     row per (key, campaign), so a key is as costly to
 *                     look up as the number of campaigns sharing it,
 *                     which lookups cap. Exact-message keys are not in it
 *                     at ingest: the reports' own message_sha and
 *                     campaign_id answer them (store_campaign_msg_lookup).
 *                     New keys go to campaign_key_recent first, a small
 *                     index of the same shape moved into campaign_key in
 *                     key order when it fills (store_campaign.c says why);
 *                     the functions below read and clear both.
 *   campaign_member - one row per clustered report: its campaign, time,
 *                     message hash, features (blob) and display info
 *                     (JSON), so campaigns can be rebuilt and re-clustered
 *                     without parsing the messages again.
 *   campaign_hour   - reports per campaign per hour (sparklines, growth).
 *   campaign_pin    - analyst decisions: message hash -> pin group. Reports
 *                     in one group always share a campaign; reports of two
 *                     groups never do. Survives re-clustering.
 *   campaign_decision - the log of merges and splits, for audit.
 * Ownership: strings handed to callbacks are valid only during the call;
 * struct campaign_rec.agg is malloc'd and freed by campaign_rec_release().
 */
#ifndef SHIELD_STORE_CAMPAIGN_H
#define SHIELD_STORE_CAMPAIGN_H
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_campaign;

#define CAMPAIGN_EX_BYTES 1024 /* exemplar signatures kept per campaign */

struct campaign_rec {
	int64_t id;
	int64_t first_seen, last_seen;
	int64_t alerted_at;  /* 0: not alerted */
	int64_t merged_into; /* 0: live */
	int64_t pin;	     /* analyst pin group, 0: none */
	long reports;
	unsigned char ex[CAMPAIGN_EX_BYTES];
	size_t exlen;
	char *agg; /* JSON object text (malloc'd) or NULL */
	char state[12];
};
void campaign_rec_release(struct campaign_rec *c);

/* store_campaign_open - migrate the campaign tables and prepare the
 * statements the engine uses per report. NULL on failure (store_errmsg). */
struct store_campaign *store_campaign_open(struct store *st);
struct store_campaign *store_campaign_close(struct store_campaign *sc);
struct store *store_campaign_store(struct store_campaign *sc);

/* Index. store_campaign_key_lookup fills up to max (at most
 * STORE_CAMPAIGN_KEY_MAX) campaign ids sharing key (most recent first) and
 * sets *n; *n == max means "at least max". */
#define STORE_CAMPAIGN_KEY_MAX 64
int store_campaign_key_lookup(struct store_campaign *sc, uint64_t key, int64_t *ids, int max,
			      int *n);
int store_campaign_key_add(struct store_campaign *sc, uint64_t key, int kind, int64_t cid);
/* store_campaign_keys - every key of the index (both levels), in no
 * particular order, a key at least once per campaign it names (*keys
 * malloc'd, the caller frees it; NULL and 0 when the index is empty). */
int store_campaign_keys(struct store_campaign *sc, uint64_t **keys, size_t *n);
/* store_campaign_key_pairs - every (key, campaign id) of the index, both
 * levels, to each(ctx, key, cid); a pair in both levels (added again
 * before a move) comes twice. each returns 0 to go on, or a positive value
 * that stops the pass and is returned; STORE_ERR on a store error, else 0. For the engine's
 * key cache of a resident ingest (campaign.c, kc_preload). */
int store_campaign_key_pairs(struct store_campaign *sc,
			     int (*each)(void *ctx, uint64_t key, int64_t cid), void *ctx);
/* store_campaign_msg_keys - the same for the stored reports' messages:
 * store_hex_key(message_sha) of every report, with or without a campaign. */
int store_campaign_msg_keys(struct store_campaign *sc, uint64_t **keys, size_t *n);
/* store_campaign_msg_lookup - the campaigns of the stored reports of
 * message_sha (report.campaign_id through the report_key map), as
 * store_campaign_key_lookup answers for a key. Those columns follow
 * member_move, so they name live campaigns. */
int store_campaign_msg_lookup(struct store_campaign *sc, const char *message_sha, int64_t *ids,
			      int max, int *n);
/* store_campaign_report_set - reports of message_sha without a campaign
 * get cid (re-clustering places them again one by one). */
int store_campaign_report_set(struct store_campaign *sc, const char *message_sha, int64_t cid);
/* store_campaign_report_clear - every report loses its campaign (the start
 * of re-clustering: campaign ids are reused). */
int store_campaign_report_clear(struct store_campaign *sc);

/* Campaign rows. get: STORE_ERR with "no campaign N" when missing. */
int store_campaign_get(struct store_campaign *sc, int64_t id, struct campaign_rec *c);
int store_campaign_insert(struct store_campaign *sc, struct campaign_rec *c);
int store_campaign_update(struct store_campaign *sc, const struct campaign_rec *c);

/* Members and hours. */
int store_campaign_member_add(struct store_campaign *sc, int64_t cid, const char *message_sha,
			      int64_t t, const void *feat, size_t featlen, const char *info);
int store_campaign_hour_add(struct store_campaign *sc, int64_t cid, int64_t hour, long n);
/* store_campaign_nth_recent - time of the n-th most recent member (1 =
 * newest) of cid; STORE_DUP when the campaign has fewer members. */
int store_campaign_nth_recent(struct store_campaign *sc, int64_t cid, int n, int64_t *t);

/* Pins. store_campaign_pin_get: STORE_DUP when the hash is not pinned. */
int store_campaign_pin_get(struct store_campaign *sc, const char *message_sha, int64_t *grp);
/* store_campaign_by_pin - the live campaign of a pin group; STORE_DUP if none. */
int store_campaign_by_pin(struct store_campaign *sc, int64_t grp, int64_t *cid);
int store_campaign_pin_set(struct store_campaign *sc, const char *message_sha, int64_t grp);
/* store_campaign_new_pin_group - a fresh pin group number. */
int store_campaign_new_pin_group(struct store_campaign *sc, int64_t *grp);
int store_campaign_decision(struct store_campaign *sc, const char *action, const char *detail);

/* Reading members: ordered by time then arrival. cid 0: all members. */
struct campaign_member_row {
	int64_t seq, campaign_id, t;
	const char *message_sha;
	const void *feat;
	size_t featlen;
	const char *info;
};
typedef int (*campaign_member_cb)(void *ctx, const struct campaign_member_row *m);
int store_campaign_members_each(struct store_campaign *sc, int64_t cid, campaign_member_cb cb,
				void *ctx);
/* store_campaign_member_move - members with message_sha (or all of
 * campaign from, when message_sha is NULL) move to campaign to; the
 * reports' campaign_id columns follow. */
int store_campaign_member_move(struct store_campaign *sc, int64_t from, int64_t to,
			       const char *message_sha);
/* store_campaign_reset_derived - drop the keys and hours of cid (0: of
 * every campaign, and the campaigns themselves: re-clustering). */
int store_campaign_reset_derived(struct store_campaign *sc, int64_t cid);
int store_campaign_member_set(struct store_campaign *sc, int64_t seq, int64_t cid);
/* store_campaign_member_drop_all - forget every member (re-clustering
 * re-adds them). */
int store_campaign_member_drop_all(struct store_campaign *sc);
/* store_campaign_index_state - whether the clustering index (or any
 * campaign: exact-message keys are answered by the reports) and the pin
 * table hold any row (the engine's in-memory caches start from this). */
int store_campaign_index_state(struct store_campaign *sc, int *has_keys, int *has_pins);
/* store_campaign_errmsg - SQLite's message for the last failure. */
const char *store_campaign_errmsg(struct store_campaign *sc);
/* store_campaign_sync_reports - report.campaign_id from the members. */
int store_campaign_sync_reports(struct store_campaign *sc);

/* Listing (CLI). each: live campaigns, most reports first. */
typedef int (*campaign_rec_cb)(void *ctx, const struct campaign_rec *c);
int store_campaign_each(struct store_campaign *sc, campaign_rec_cb cb, void *ctx);
/* store_campaign_hours - counts[i] = reports in hour (from_hour + i). */
int store_campaign_hours(struct store_campaign *sc, int64_t cid, int64_t from_hour, long *counts,
			 int nhours);
/* store_campaign_report_ids - stored reports of cid (id, message_sha,
 * from, subject, date), oldest first. */
typedef int (*campaign_report_cb)(void *ctx, int64_t id, const char *message_sha, const char *from,
				  const char *subject, const char *date);
int store_campaign_reports(struct store_campaign *sc, int64_t cid, campaign_report_cb cb,
			   void *ctx);
/* store_campaign_report_sha - message_sha and campaign of a report id. */
int store_campaign_report_sha(struct store_campaign *sc, int64_t report_id, char sha[65],
			      int64_t *cid);

#endif
