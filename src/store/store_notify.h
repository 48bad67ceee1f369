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
 *   batch     - one notification: its incidents (incident.batch_id), the
 *               frozen message bytes, and the delivery state machine
 *               pending -> sending -> sent | retry | failed.
 *   bounce    - addresses with a permanent delivery failure.
 * Times are Unix seconds (UTC).
 * Ownership: strings handed to callbacks are valid only during the call.
 */
#ifndef SHIELD_STORE_NOTIFY_H
#define SHIELD_STORE_NOTIFY_H
#include <stddef.h>
#include <stdint.h>

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
