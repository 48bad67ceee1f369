/*
 * store_notify.c - SQLite tables of network notifications (see
 * store_notify.h). Owned by the notify component (issue 6).
 *
 * Every statement uses bound parameters; none is built from input.
 * Statements are prepared per call except in the incident writer, which
 * keeps its two statements for the bulk path of `shield feed`.
 * Limits: strings are bound with their length; nothing here trusts a
 * value read back beyond SQLite's own typing.
 */
#include "store/store_notify.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xalloc.h"
#include "store/store.h"

/* Schema of the "notify" component: append steps, never edit one. */
static const char *const notify_steps[] = {
    /* 1 */
    "CREATE TABLE contact (id INTEGER PRIMARY KEY, key_type TEXT NOT NULL,"
    " key TEXT NOT NULL, address TEXT NOT NULL, language TEXT NOT NULL,"
    " format TEXT NOT NULL, interval_s INTEGER NOT NULL, origin TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL, UNIQUE(key_type, key, origin));"
    "CREATE TABLE bounce (address TEXT PRIMARY KEY, first_at INTEGER NOT NULL,"
    " last_at INTEGER NOT NULL, count INTEGER NOT NULL, reason TEXT);"
    "CREATE TABLE feed_file (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE,"
    " path TEXT NOT NULL, source TEXT NOT NULL, loaded_at INTEGER NOT NULL,"
    " lines INTEGER NOT NULL, events INTEGER NOT NULL, bad INTEGER NOT NULL,"
    " first_incident INTEGER NOT NULL DEFAULT 0, max_time INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE batch (id INTEGER PRIMARY KEY, ticket TEXT UNIQUE,"
    " asn INTEGER NOT NULL, contact_id INTEGER, address TEXT NOT NULL,"
    " language TEXT NOT NULL, format TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt INTEGER NOT NULL DEFAULT 0, last_error TEXT, message_id TEXT,"
    " message BLOB, events INTEGER NOT NULL, distinct_ips INTEGER NOT NULL,"
    " sent_at INTEGER);"
    "CREATE INDEX batch_state ON batch(state);"
    "CREATE INDEX batch_addr ON batch(address, asn, created_at);"
    "CREATE TABLE incident (id INTEGER PRIMARY KEY, type TEXT NOT NULL,"
    " ip TEXT NOT NULL, asn INTEGER NOT NULL, first_time INTEGER NOT NULL,"
    " last_time INTEGER NOT NULL, events INTEGER NOT NULL, port INTEGER,"
    " source TEXT NOT NULL, tlp TEXT NOT NULL, batch_id INTEGER REFERENCES batch(id));"
    "CREATE INDEX incident_unbatched ON incident(id) WHERE batch_id IS NULL;"
    "CREATE INDEX incident_batch ON incident(batch_id) WHERE batch_id IS NOT NULL;",
};

static int fail(struct store *st, const char *what)
{
	/* store_errmsg belongs to the core; report through stderr-free path:
	 * keep SQLite's message where callers look for it. */
	(void)what;
	(void)st;
	return STORE_ERR;
}

int store_notify_migrate(struct store *st)
{
	return store_migrate(st, "notify", notify_steps,
			     (int)(sizeof notify_steps / sizeof *notify_steps));
}

static sqlite3_stmt *prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(store_sqlite(st), sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	return s;
}

static int done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : fail(st, "step");
}

static const char *col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? (const char *)t : "";
}

static int64_t now(void)
{
	return (int64_t)time(NULL);
}

/* ---- contacts ---- */

int store_contacts_each(struct store *st, contact_row_cb cb, void *ctx)
{
	sqlite3_stmt *s = prep(st, "SELECT id,key_type,key,address,language,format,interval_s,"
				   "origin,updated_at FROM contact ORDER BY id");
	if (!s)
		return fail(st, "contacts");
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct contact_row r = {
		    sqlite3_column_int64(s, 0),
		    col(s, 1),
		    col(s, 2),
		    col(s, 3),
		    col(s, 4),
		    col(s, 5),
		    col(s, 7),
		    sqlite3_column_int(s, 6),
		    sqlite3_column_int64(s, 8),
		};
		if (cb(ctx, &r))
			break;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : fail(st, "contacts");
}

int store_contact_put(struct store *st, const struct contact_row *r)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO contact(key_type,key,address,language,format,"
				   "interval_s,origin,updated_at) VALUES(?,?,?,?,?,?,?,?)"
				   " ON CONFLICT(key_type,key,origin) DO UPDATE SET"
				   " address=excluded.address, language=excluded.language,"
				   " format=excluded.format, interval_s=excluded.interval_s,"
				   " updated_at=excluded.updated_at");
	if (!s)
		return fail(st, "contact");
	sqlite3_bind_text(s, 1, r->key_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->language, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->format, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->interval);
	sqlite3_bind_text(s, 7, r->origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, r->updated_at ? r->updated_at : now());
	return done(st, s);
}

int store_contact_delete(struct store *st, const char *key_type, const char *key,
			 const char *origin)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM contact WHERE key_type=? AND key=? AND origin=?");
	if (!s)
		return fail(st, "contact");
	sqlite3_bind_text(s, 1, key_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, origin, -1, SQLITE_STATIC);
	int rc = done(st, s);
	if (rc == STORE_OK && sqlite3_changes(store_sqlite(st)) == 0)
		return STORE_DUP;
	return rc;
}

int store_contacts_clear_origin(struct store *st, const char *origin, long *deleted)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM contact WHERE origin=?");
	if (!s)
		return fail(st, "contact");
	sqlite3_bind_text(s, 1, origin, -1, SQLITE_STATIC);
	int rc = done(st, s);
	if (deleted)
		*deleted = sqlite3_changes(store_sqlite(st));
	return rc;
}

/* ---- bounces ---- */

int store_bounce_add(struct store *st, const char *address, const char *reason)
{
	sqlite3_stmt *s =
	    prep(st, "INSERT INTO bounce(address,first_at,last_at,count,reason)"
		     " VALUES(?,?,?,1,?) ON CONFLICT(address) DO UPDATE SET"
		     " last_at=excluded.last_at, count=count+1, reason=excluded.reason");
	if (!s)
		return fail(st, "bounce");
	int64_t t = now();
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, t);
	sqlite3_bind_int64(s, 3, t);
	sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
	return done(st, s);
}

int store_bounces_each(struct store *st, bounce_cb cb, void *ctx)
{
	sqlite3_stmt *s =
	    prep(st, "SELECT address,last_at,count,reason FROM bounce ORDER BY address");
	if (!s)
		return fail(st, "bounce");
	while (sqlite3_step(s) == SQLITE_ROW)
		if (cb(ctx, col(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int(s, 2),
		       col(s, 3)))
			break;
	sqlite3_finalize(s);
	return STORE_OK;
}

/* ---- feed files ---- */

int store_feed_file_seen(struct store *st, const char *sha256, int64_t *loaded_at)
{
	sqlite3_stmt *s = prep(st, "SELECT loaded_at FROM feed_file WHERE sha256=?");
	if (!s)
		return fail(st, "feed_file");
	sqlite3_bind_text(s, 1, sha256, -1, SQLITE_STATIC);
	int rc = STORE_OK;
	if (sqlite3_step(s) == SQLITE_ROW) {
		if (loaded_at)
			*loaded_at = sqlite3_column_int64(s, 0);
		rc = STORE_DUP;
	}
	sqlite3_finalize(s);
	return rc;
}

int store_feed_file_add(struct store *st, const char *sha256, const char *path, const char *source,
			long lines, long events, long bad, int64_t first_incident, int64_t max_time)
{
	sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO feed_file(sha256,path,source,loaded_at,"
				   "lines,events,bad,first_incident,max_time)"
				   " VALUES(?,?,?,?,?,?,?,?,?)");
	if (!s)
		return fail(st, "feed_file");
	sqlite3_bind_text(s, 1, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now());
	sqlite3_bind_int64(s, 5, lines);
	sqlite3_bind_int64(s, 6, events);
	sqlite3_bind_int64(s, 7, bad);
	sqlite3_bind_int64(s, 8, first_incident);
	sqlite3_bind_int64(s, 9, max_time);
	return done(st, s);
}

/* ---- incidents ---- */

#define INCIDENT_COLS "id,type,ip,source,tlp,asn,first_time,last_time,events,port,batch_id"

static int each_incident(struct store *st, sqlite3_stmt *s, incident_cb cb, void *ctx)
{
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct incident_row r = {
		    sqlite3_column_int64(s, 0),
		    col(s, 1),
		    col(s, 2),
		    col(s, 3),
		    col(s, 4),
		    (uint32_t)sqlite3_column_int64(s, 5),
		    sqlite3_column_int64(s, 6),
		    sqlite3_column_int64(s, 7),
		    sqlite3_column_int(s, 8),
		    sqlite3_column_int(s, 9),
		    sqlite3_column_int64(s, 10),
		};
		if (cb(ctx, &r))
			break;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : fail(st, "incidents");
}

int store_incidents_since(struct store *st, int64_t t, incident_cb cb, void *ctx)
{
	/* Incidents are written per feed run with increasing ids: only runs
	 * whose newest event is at or after t can hold such incidents, so the
	 * scan starts at the first incident of the oldest such run (a rowid
	 * range, no time index to maintain on the bulk insert path). */
	sqlite3_stmt *s =
	    prep(st, "SELECT " INCIDENT_COLS " FROM incident WHERE id >="
		     " (SELECT coalesce(min(first_incident), 1 << 62) FROM feed_file"
		     " WHERE max_time >= ?1 AND first_incident > 0) AND last_time >= ?1");
	if (!s)
		return fail(st, "incidents");
	sqlite3_bind_int64(s, 1, t);
	return each_incident(st, s, cb, ctx);
}

int store_incidents_unbatched(struct store *st, incident_cb cb, void *ctx)
{
	sqlite3_stmt *s = prep(st, "SELECT " INCIDENT_COLS " FROM incident WHERE batch_id IS NULL"
				   " ORDER BY id");
	if (!s)
		return fail(st, "incidents");
	return each_incident(st, s, cb, ctx);
}

int store_incidents_of_batch(struct store *st, int64_t batch_id, incident_cb cb, void *ctx)
{
	sqlite3_stmt *s = prep(st, "SELECT " INCIDENT_COLS " FROM incident WHERE batch_id=?"
				   " ORDER BY ip, type, first_time");
	if (!s)
		return fail(st, "incidents");
	sqlite3_bind_int64(s, 1, batch_id);
	return each_incident(st, s, cb, ctx);
}

struct incident_writer {
	struct store *st;
	sqlite3_stmt *ins, *upd, *setb;
};

struct incident_writer *store_incident_writer(struct store *st)
{
	struct incident_writer *w = xcalloc(1, sizeof *w);
	w->st = st;
	/* bulk path: a bigger page cache for this connection keeps the B-tree
	 * pages of a million-row transaction in memory (64 MiB) */
	sqlite3_exec(store_sqlite(st), "PRAGMA cache_size=-65536", NULL, NULL, NULL);
	w->ins = prep(st, "INSERT INTO incident(type,ip,asn,first_time,last_time,events,port,"
			  "source,tlp) VALUES(?,?,?,?,?,?,?,?,?)");
	w->upd = prep(st, "UPDATE incident SET first_time=?, last_time=?, events=? WHERE id=?");
	w->setb = prep(st, "UPDATE incident SET batch_id=? WHERE id=?");
	if (!w->ins || !w->upd || !w->setb) {
		store_incident_writer_free(w);
		return NULL;
	}
	return w;
}

void store_incident_writer_free(struct incident_writer *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->upd);
	sqlite3_finalize(w->setb);
	free(w);
}

int store_incident_insert(struct incident_writer *w, const struct incident_row *r, int64_t *id)
{
	sqlite3_stmt *s = w->ins;
	sqlite3_bind_text(s, 1, r->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->ip, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, r->asn);
	sqlite3_bind_int64(s, 4, r->first_time);
	sqlite3_bind_int64(s, 5, r->last_time);
	sqlite3_bind_int64(s, 6, r->events);
	if (r->port > 0)
		sqlite3_bind_int(s, 7, r->port);
	else
		sqlite3_bind_null(s, 7);
	sqlite3_bind_text(s, 8, r->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, r->tlp, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return fail(w->st, "incident");
	if (id)
		*id = sqlite3_last_insert_rowid(store_sqlite(w->st));
	return STORE_OK;
}

int store_incident_update(struct incident_writer *w, int64_t id, int64_t first_time,
			  int64_t last_time, long events)
{
	sqlite3_stmt *s = w->upd;
	sqlite3_bind_int64(s, 1, first_time);
	sqlite3_bind_int64(s, 2, last_time);
	sqlite3_bind_int64(s, 3, events);
	sqlite3_bind_int64(s, 4, id);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? STORE_OK : fail(w->st, "incident");
}

int store_incident_set_batch(struct incident_writer *w, int64_t id, int64_t batch_id)
{
	sqlite3_stmt *s = w->setb;
	sqlite3_bind_int64(s, 1, batch_id);
	sqlite3_bind_int64(s, 2, id);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? STORE_OK : fail(w->st, "incident");
}

const char *store_notify_errmsg(struct store *st)
{
	return sqlite3_errmsg(store_sqlite(st));
}

/* ---- batches ---- */

int store_batch_create(struct store *st, const struct batch_row *r, const char *from_domain,
		       int64_t *id, char *ticket, size_t ticketlen, char *msgid, size_t msgidlen)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO batch(asn,contact_id,address,language,format,"
				   "created_at,state,events,distinct_ips) VALUES(?,?,?,?,?,?,"
				   "'pending',?,?)");
	if (!s)
		return fail(st, "batch");
	sqlite3_bind_int64(s, 1, r->asn);
	if (r->contact_id)
		sqlite3_bind_int64(s, 2, r->contact_id);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_text(s, 3, r->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->language, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->format, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->created_at);
	sqlite3_bind_int64(s, 7, r->events);
	sqlite3_bind_int64(s, 8, r->distinct_ips);
	if (done(st, s) != STORE_OK)
		return STORE_ERR;
	*id = sqlite3_last_insert_rowid(store_sqlite(st));
	/* The ticket and Message-ID derive from the row id and creation day:
	 * stable across retries, unique per store. */
	time_t ct = (time_t)r->created_at;
	struct tm tm;
	gmtime_r(&ct, &tm);
	snprintf(ticket, ticketlen, "SHIELD-%04d%02d%02d-%06lld", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, (long long)*id);
	snprintf(msgid, msgidlen, "<%s.%lld@%s>", ticket, (long long)r->created_at,
		 from_domain && *from_domain ? from_domain : "shield.invalid");
	s = prep(st, "UPDATE batch SET ticket=?, message_id=? WHERE id=?");
	if (!s)
		return fail(st, "batch");
	sqlite3_bind_text(s, 1, ticket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, *id);
	return done(st, s);
}

int store_batch_set_message(struct store *st, int64_t id, const void *msg, size_t len)
{
	sqlite3_stmt *s = prep(st, "UPDATE batch SET message=? WHERE id=?");
	if (!s)
		return fail(st, "batch");
	sqlite3_bind_blob64(s, 1, msg, len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	return done(st, s);
}

int store_batch_state(struct store *st, int64_t id, const char *state, int attempts_inc,
		      int64_t next_attempt, const char *error, int64_t sent_at)
{
	sqlite3_stmt *s = prep(st, "UPDATE batch SET state=?, attempts=attempts+?,"
				   " next_attempt=?, last_error=?, sent_at=? WHERE id=?");
	if (!s)
		return fail(st, "batch");
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, attempts_inc);
	sqlite3_bind_int64(s, 3, next_attempt);
	if (error)
		sqlite3_bind_text(s, 4, error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 4);
	if (sent_at)
		sqlite3_bind_int64(s, 5, sent_at);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int64(s, 6, id);
	return done(st, s);
}

int store_batches_each(struct store *st, const char *state, batch_cb cb, void *ctx)
{
	sqlite3_stmt *s = prep(st, "SELECT id,ticket,address,language,format,state,message_id,"
				   "last_error,asn,contact_id,created_at,next_attempt,sent_at,"
				   "attempts,events,distinct_ips,message FROM batch"
				   " WHERE ?1 IS NULL OR state=?1 ORDER BY id");
	if (!s)
		return fail(st, "batch");
	if (state)
		sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct batch_row r = {
		    .id = sqlite3_column_int64(s, 0),
		    .ticket = col(s, 1),
		    .address = col(s, 2),
		    .language = col(s, 3),
		    .format = col(s, 4),
		    .state = col(s, 5),
		    .message_id = col(s, 6),
		    .last_error = col(s, 7),
		    .asn = (uint32_t)sqlite3_column_int64(s, 8),
		    .contact_id = sqlite3_column_int64(s, 9),
		    .created_at = sqlite3_column_int64(s, 10),
		    .next_attempt = sqlite3_column_int64(s, 11),
		    .sent_at = sqlite3_column_int64(s, 12),
		    .attempts = sqlite3_column_int(s, 13),
		    .events = sqlite3_column_int(s, 14),
		    .distinct_ips = sqlite3_column_int(s, 15),
		    .message = sqlite3_column_blob(s, 16),
		    .message_len = (size_t)sqlite3_column_bytes(s, 16),
		};
		if (cb(ctx, &r))
			break;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : fail(st, "batch");
}

int store_batch_last_for(struct store *st, const char *address, uint32_t asn, int64_t *at)
{
	sqlite3_stmt *s = prep(st, "SELECT max(created_at) FROM batch WHERE address=? AND asn=?");
	if (!s)
		return fail(st, "batch");
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, asn);
	*at = 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		*at = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return STORE_OK;
}
