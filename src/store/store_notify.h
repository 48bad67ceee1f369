/*
 * store_notify.h - the tables of network notifications (issue 6): contacts,
 * bounces, loaded feed files, incidents and notification batches. All SQL
 * of the notify component lives in store_notify.c, with bound parameters.
 *
 * Model:
 *   contact   - (key_type, key, origin) -> address, language, format,
 *               interval. origin "operator" rows are overrides; imports
 *               replace only rows of their own origin.
 *   feed_file - one loaded feed file by SHA-256, so a re-run is a no-op.
 *   incident  - events of one IP and type inside the window, counted.
 *               Written since schema step 2 as packed blocks
 *               (incident_block: BLOBs of a feed run's incidents sorted by
 *               AS, a few thousand (at most INCIDENT_BLOCK_MAX) each,
 *               varint-encoded records with the batch id of each); rows of the older
 * one-row-per-incident table are still read, merged and batched. batch     - one notification: its
 * incidents (incident.batch_id), the frozen message bytes, and the delivery state machine pending
 * -> sending -> sent | retry | failed. bounce    - addresses with a permanent delivery failure.
 * Times are Unix seconds (UTC).
 * Ownership: strings handed to callbacks are valid only during the call.
 */
#ifndef SHIELD_STORE_NOTIFY_H
#define SHIELD_STORE_NOTIFY_H
#include <stddef.h>
#include <stdint.h>

#include "enrich/asn.h"

struct store;

/* store_notify_migrate - create/upgrade the notify tables. */
int store_notify_migrate(struct store *st);

struct contact_row {
	int64_t id;
	const char *key_type, *key, *address, *language, *format, *origin;
	long interval;
	int64_t updated_at;
};
typedef int (*contact_row_cb)(void *ctx, const struct contact_row *r);
int store_contacts_each(struct store *st, contact_row_cb cb, void *ctx);
/* store_contact_put - insert or replace the row (key_type, key, origin). */
int store_contact_put(struct store *st, const struct contact_row *r);
/* store_contact_delete - remove one row; STORE_DUP when there was none. */
int store_contact_delete(struct store *st, const char *key_type, const char *key,
			 const char *origin);
/* store_contacts_clear_origin - delete every row of origin (re-import). */
int store_contacts_clear_origin(struct store *st, const char *origin, long *deleted);

/* Bounces. */
int store_bounce_add(struct store *st, const char *address, const char *reason);
typedef int (*bounce_cb)(void *ctx, const char *address, int64_t last_at, long count,
			 const char *reason);
int store_bounces_each(struct store *st, bounce_cb cb, void *ctx);

/* Feed files: STORE_DUP (and *loaded_at) when sha256 was loaded before. */
int store_feed_file_seen(struct store *st, const char *sha256, int64_t *loaded_at);
/* first_incident: the lowest incident id written by the run (0 if none),
 * max_time: its newest event; store_incidents_since uses them. */
int store_feed_file_add(struct store *st, const char *sha256, const char *path, const char *source,
			long lines, long events, long bad, int64_t first_incident,
			int64_t max_time);
/* store_feed_mark - inputs that are not files are recorded in feed_file
 * under a name "<prefix>FROM-TO" ("reports:1-250": report ids); the
 * highest TO of the rows with this prefix, 0 when there is none. */
int store_feed_mark(struct store *st, const char *prefix, int64_t *to);

/* Reports as a source of events (feed/reports.h): those with id > after,
 * in id order, with what the feed needs of them. */
struct report_event_row {
	int64_t id;
	const char *created_at; /* ISO 8601 UTC */
	const char *origin_ip;	/* NULL when none was found */
	const char *verdict;	/* NULL when not judged */
	const char *json;	/* the stored result object (urls) */
};
typedef int (*report_event_cb)(void *ctx, const struct report_event_row *r);
int store_reports_after(struct store *st, int64_t after, report_event_cb cb, void *ctx);
/* store_reports_by_origin - the newest reports (at most limit) whose
 * origin IP is ip (canonical text), newest first: the mails an ARF report
 * about that IP describes. */
int store_reports_by_origin(struct store *st, const char *ip, int limit, report_event_cb cb,
			    void *ctx);

struct incident_row {
	int64_t id;
	const char *type, *ip, *source, *tlp;
	uint32_t asn;
	int64_t first_time, last_time;
	long events;
	int port; /* 0 = none */
	int64_t batch_id;
};
typedef int (*incident_cb)(void *ctx, const struct incident_row *r);
/* store_incidents_since - incidents whose last_time >= t (feed merging). */
int store_incidents_since(struct store *st, int64_t t, incident_cb cb, void *ctx);
/* store_incidents_unbatched - every incident not yet in a batch. */
int store_incidents_unbatched(struct store *st, incident_cb cb, void *ctx);
/* store_incidents_of_batch - the incidents of one batch, by ip, type. */
int store_incidents_of_batch(struct store *st, int64_t batch_id, incident_cb cb, void *ctx);
/* The incident writer keeps its statements prepared for bulk writes
 * (a feed of a million events); use it inside store_begin/commit. */
struct incident_writer;
struct incident_writer *store_incident_writer(struct store *st);
void store_incident_writer_free(struct incident_writer *w);
int store_incident_insert(struct incident_writer *w, const struct incident_row *r, int64_t *id);
int store_incident_update(struct incident_writer *w, int64_t id, int64_t first_time,
			  int64_t last_time, long events);
int store_incident_set_batch(struct incident_writer *w, int64_t id, int64_t batch_id);
/* store_notify_errmsg - SQLite's message for the last failed call here. */
const char *store_notify_errmsg(struct store *st);

/* ---- packed incident blocks ----
 * An incident in a block has the id INCIDENT_BLOCK_ID(block, index), far
 * above any row id of the incident table, so both kinds share one id space
 * (plan ids, batch assignment). */
#define INCIDENT_BLOCK_MAX 65536u
#define INCIDENT_BLOCK_BASE ((int64_t)1 << 40)
#define INCIDENT_BLOCK_ID(block, i) (INCIDENT_BLOCK_BASE + (block) * (int64_t)(1 << 20) + (i))

/* incident_rec - one incident of a block; labels index the block's labels. */
struct incident_rec {
	struct asn_ip ip;
	uint32_t asn;
	uint32_t type, source, tlp;
	uint32_t events;
	int port; /* 0 = none */
	int64_t first, last;
	int64_t batch_id; /* 0 = not yet in a batch */
};

/* incident_block - n incidents sorted by AS; labels[] are the type, source
 * and TLP strings the records refer to. In callbacks everything is owned
 * by the store and valid during the call; v may be modified there. */
struct incident_block {
	int64_t id;
	const char *const *labels;
	size_t nlabels;
	struct incident_rec *v;
	size_t n;
};

/* store_block_add - encode and insert a block (n <= INCIDENT_BLOCK_MAX). */
int store_block_add(struct store *st, const struct incident_block *b, int64_t *id);
/* store_block_replace - rewrite block b->id with b's content. */
int store_block_replace(struct store *st, const struct incident_block *b);

struct block_filter {
	int64_t since;	  /* only blocks with an incident ending at or after */
	int64_t asn;	  /* -1: any AS, else blocks that may hold this AS */
	int unbatched;	  /* only blocks with an incident not in a batch */
	int64_t block_id; /* 0: any block */
};
typedef int (*block_cb)(void *ctx, struct incident_block *b);
/* store_blocks_each - decoded blocks matching f, in id order; a block that
 * does not decode is an error (STORE_ERR, message from the store). */
int store_blocks_each(struct store *st, const struct block_filter *f, block_cb cb, void *ctx);
/* store_blocks_unbatched - how many block incidents are in no batch. */
int store_blocks_unbatched(struct store *st, int64_t *n);
/* store_incidents_set_batch - put the incidents ids[0..n) (row or block
 * ids, in any order) into batch_id; ids is reordered. */
int store_incidents_set_batch(struct store *st, int64_t *ids, size_t n, int64_t batch_id);

struct batch_row {
	int64_t id;
	const char *ticket, *address, *language, *format, *state, *message_id, *last_error;
	uint32_t asn;
	int64_t contact_id;
	int64_t created_at, next_attempt, sent_at;
	long attempts, events, distinct_ips;
	const unsigned char *message; /* frozen RFC 5322 bytes */
	size_t message_len;
};
typedef int (*batch_cb)(void *ctx, const struct batch_row *r);
/* store_batch_create - a new batch (state "pending" with no message yet);
 * its ticket and message_id are derived from the id. */
int store_batch_create(struct store *st, const struct batch_row *r, const char *from_domain,
		       int64_t *id, char *ticket, size_t ticketlen, char *msgid, size_t msgidlen);
int store_batch_set_message(struct store *st, int64_t id, const void *msg, size_t len);
/* store_batch_state - move a batch to state; attempts_inc adds to attempts. */
int store_batch_state(struct store *st, int64_t id, const char *state, int attempts_inc,
		      int64_t next_attempt, const char *error, int64_t sent_at);
/* store_batches_each - batches in id order; state NULL for all. */
int store_batches_each(struct store *st, const char *state, batch_cb cb, void *ctx);
/* store_batch_last_for - created_at of the newest batch for address+asn, 0 if none. */
int store_batch_last_for(struct store *st, const char *address, uint32_t asn, int64_t *at);

#endif
