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
    /* 2: packed incident blocks (store_notify.h) */
    "CREATE TABLE incident_block (id INTEGER PRIMARY KEY, asn_lo INTEGER NOT NULL,"
    " asn_hi INTEGER NOT NULL, n INTEGER NOT NULL, unbatched INTEGER NOT NULL, min_first INTEGER "
    "NOT NULL,"
    " max_last INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE INDEX incident_block_asn ON incident_block(asn_hi);"
    "CREATE INDEX incident_block_last ON incident_block(max_last);",
    /* 3: a block's bytes in the store's pack (pack_off NOT NULL; data is
     * then empty) instead of in the row (block_write) */
    "ALTER TABLE incident_block ADD COLUMN pack_off INTEGER;"
    "ALTER TABLE incident_block ADD COLUMN pack_len INTEGER;"
    "ALTER TABLE incident_block ADD COLUMN pack_sum INTEGER;",
    /* 4: ARF reports find the mails of an origin IP (store_reports_by_origin);
     * the core's report table, indexed for this component's query */
    "CREATE INDEX IF NOT EXISTS report_origin ON report(origin_ip) WHERE origin_ip IS NOT NULL;",
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

int store_feed_mark(struct store *st, const char *prefix, int64_t *to)
{
	*to = 0;
	sqlite3_stmt *s = prep(st, "SELECT path FROM feed_file WHERE substr(path, 1, ?2) = ?1");
	if (!s)
		return fail(st, "feed_file");
	size_t pl = strlen(prefix);
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)pl);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *p = col(s, 0), *dash = strrchr(p + pl, '-');
		long long v = dash ? strtoll(dash + 1, NULL, 10) : 0;
		if (v > *to)
			*to = v;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : fail(st, "feed_file");
}

/* each_report_event - the rows of s (id, created_at, origin_ip, verdict,
 * result) to cb; finalizes s */
static int each_report_event(struct store *st, sqlite3_stmt *s, report_event_cb cb, void *ctx)
{
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct report_event_row r = {
		    sqlite3_column_int64(s, 0),
		    col(s, 1),
		    sqlite3_column_type(s, 2) == SQLITE_NULL ? NULL : col(s, 2),
		    sqlite3_column_type(s, 3) == SQLITE_NULL ? NULL : col(s, 3),
		    col(s, 4),
		};
		if (cb(ctx, &r))
			break;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : fail(st, "reports");
}

int store_reports_after(struct store *st, int64_t after, report_event_cb cb, void *ctx)
{
	sqlite3_stmt *s = prep(st, "SELECT id, created_at, origin_ip, verdict, result FROM report"
				   " WHERE id > ?1 ORDER BY id");
	if (!s)
		return fail(st, "reports");
	sqlite3_bind_int64(s, 1, after);
	return each_report_event(st, s, cb, ctx);
}

int store_reports_by_origin(struct store *st, const char *ip, int limit, report_event_cb cb,
			    void *ctx)
{
	sqlite3_stmt *s = prep(st, "SELECT id, created_at, origin_ip, verdict, result FROM report"
				   " WHERE origin_ip = ?1 ORDER BY id DESC LIMIT ?2");
	if (!s)
		return fail(st, "reports");
	sqlite3_bind_text(s, 1, ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit);
	return each_report_event(st, s, cb, ctx);
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

/* A batch's incidents of both kinds, sorted as the row query sorted them
 * (ip text, type, first_time) so attachments do not change. */
struct ob_row {
	struct incident_row r;
	char ip[48];
	char *type, *source, *tlp;
};
struct ob_ctx {
	struct ob_row *v;
	size_t n, cap;
	int64_t batch;
};

static struct ob_row *ob_push(struct ob_ctx *x)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->v = xrealloc(x->v, x->cap * sizeof *x->v);
	}
	struct ob_row *o = &x->v[x->n++];
	memset(o, 0, sizeof *o);
	return o;
}

static int ob_legacy(void *ctx, const struct incident_row *r)
{
	struct ob_row *o = ob_push(ctx);
	o->r = *r;
	snprintf(o->ip, sizeof o->ip, "%s", r->ip);
	o->type = xstrdup(r->type);
	o->source = xstrdup(r->source);
	o->tlp = xstrdup(r->tlp);
	return 0;
}

static int ob_block(void *ctx, struct incident_block *b)
{
	struct ob_ctx *x = ctx;
	for (size_t i = 0; i < b->n; i++) {
		const struct incident_rec *c = &b->v[i];
		if (c->batch_id != x->batch)
			continue;
		struct ob_row *o = ob_push(x);
		asn_format_ip(&c->ip, o->ip, sizeof o->ip);
		o->type = xstrdup(b->labels[c->type]);
		o->source = xstrdup(b->labels[c->source]);
		o->tlp = xstrdup(b->labels[c->tlp]);
		o->r.id = INCIDENT_BLOCK_ID(b->id, (int64_t)i);
		o->r.asn = c->asn;
		o->r.first_time = c->first;
		o->r.last_time = c->last;
		o->r.events = (long)c->events;
		o->r.port = c->port;
		o->r.batch_id = c->batch_id;
	}
	return 0;
}

static int ob_cmp(const void *a, const void *b)
{
	const struct ob_row *x = a, *y = b;
	int c = strcmp(x->ip, y->ip);
	if (!c)
		c = strcmp(x->type, y->type);
	if (!c && x->r.first_time != y->r.first_time)
		c = x->r.first_time < y->r.first_time ? -1 : 1;
	return c;
}

int store_incidents_of_batch(struct store *st, int64_t batch_id, incident_cb cb, void *ctx)
{
	struct ob_ctx x = {NULL, 0, 0, batch_id};
	sqlite3_stmt *s = prep(st, "SELECT " INCIDENT_COLS " FROM incident WHERE batch_id=?");
	if (!s)
		return fail(st, "incidents");
	sqlite3_bind_int64(s, 1, batch_id);
	int rc = each_incident(st, s, ob_legacy, &x);
	int64_t asn = -1;
	if (rc == STORE_OK) {
		s = prep(st, "SELECT asn FROM batch WHERE id=?");
		if (!s)
			rc = fail(st, "batch");
		else {
			sqlite3_bind_int64(s, 1, batch_id);
			if (sqlite3_step(s) == SQLITE_ROW)
				asn = sqlite3_column_int64(s, 0);
			sqlite3_finalize(s);
		}
	}
	if (rc == STORE_OK && asn >= 0) {
		struct block_filter f = {INT64_MIN, asn, 0, 0};
		rc = store_blocks_each(st, &f, ob_block, &x);
	}
	if (rc == STORE_OK && x.n) {
		qsort(x.v, x.n, sizeof *x.v, ob_cmp);
		for (size_t i = 0; i < x.n; i++) {
			struct ob_row *o = &x.v[i];
			o->r.ip = o->ip;
			o->r.type = o->type;
			o->r.source = o->source;
			o->r.tlp = o->tlp;
			if (cb(ctx, &o->r))
				break;
		}
	}
	for (size_t i = 0; i < x.n; i++) {
		free(x.v[i].type);
		free(x.v[i].source);
		free(x.v[i].tlp);
	}
	free(x.v);
	return rc;
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
	const char *own = store_own_error(st); /* the pack (blocks) */
	return own ? own : sqlite3_errmsg(store_sqlite(st));
}

/* ---- packed incident blocks ----
 * Blob layout (all integers LEB128 varints, signed ones zigzag):
 *   "SIB2" nlabels {len bytes}... n base
 *   n x { flags ip(4 or 16 bytes, big-endian) [asn] type [source tlp]
 *         zz(first - base) [zz(last - first) events] [port] [batch_id] }
 *   flags: 1 v6, 2 port, 4 batch, 8 asn as in the record before (absent),
 *   16 source and tlp as before (absent), 32 one event (last = first,
 *   events = 1: both absent); "before" is 0/0/0 for the first record.
 * About 12 bytes per IPv4 incident (records are sorted by AS and most
 * incidents are one event), a third less to write, log and checkpoint.
 * "SIB1" blobs (every field present, flags 1/2/4 only, ~18 bytes) are
 * still read. Decoding checks every length and label index: a damaged
 * blob is an error, never a wild read. */

struct wbuf {
	unsigned char *p;
	size_t n, cap;
};

static void wb_need(struct wbuf *b, size_t k)
{
	if (b->n + k <= b->cap)
		return;
	size_t nc = b->cap ? b->cap * 2 : 4096;
	while (nc < b->n + k)
		nc *= 2;
	b->p = xrealloc(b->p, nc);
	b->cap = nc;
}

static inline void wb_var(struct wbuf *b, uint64_t v)
{
	while (v >= 0x80) {
		b->p[b->n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	b->p[b->n++] = (unsigned char)v;
}

static inline uint64_t zz(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzz(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

struct block_meta {
	int64_t min_first, max_last;
	uint32_t asn_lo, asn_hi;
	long unbatched;
};

static void block_encode(const struct incident_block *b, struct wbuf *w, struct block_meta *m)
{
	w->n = 0;
	size_t lab = 0;
	for (size_t i = 0; i < b->nlabels; i++)
		lab += strlen(b->labels[i]) + 10;
	wb_need(w, 4 + 30 + lab);
	memcpy(w->p, "SIB2", 4);
	w->n = 4;
	wb_var(w, b->nlabels);
	for (size_t i = 0; i < b->nlabels; i++) {
		size_t l = strlen(b->labels[i]);
		wb_var(w, l);
		memcpy(w->p + w->n, b->labels[i], l);
		w->n += l;
	}
	m->min_first = INT64_MAX;
	m->max_last = INT64_MIN;
	m->unbatched = 0;
	m->asn_lo = UINT32_MAX;
	m->asn_hi = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (b->v[i].asn < m->asn_lo)
			m->asn_lo = b->v[i].asn;
		if (b->v[i].asn > m->asn_hi)
			m->asn_hi = b->v[i].asn;
		if (b->v[i].first < m->min_first)
			m->min_first = b->v[i].first;
		if (b->v[i].last > m->max_last)
			m->max_last = b->v[i].last;
	}
	if (!b->n) {
		m->min_first = m->max_last = 0;
		m->asn_lo = 0;
	}
	wb_var(w, b->n);
	wb_var(w, zz(m->min_first));
	uint32_t pasn = 0, psrc = 0, ptlp = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct incident_rec *c = &b->v[i];
		wb_need(w, 1 + 16 + 9 * 10);
		int same_asn = c->asn == pasn, same_st = c->source == psrc && c->tlp == ptlp;
		int one = c->events == 1 && c->last == c->first;
		unsigned char fl = (unsigned char)((c->ip.v6 ? 1 : 0) | (c->port > 0 ? 2 : 0) |
						   (c->batch_id ? 4 : 0) | (same_asn ? 8 : 0) |
						   (same_st ? 16 : 0) | (one ? 32 : 0));
		w->p[w->n++] = fl;
		if (c->ip.v6) {
			put_be64(w->p + w->n, c->ip.a6.hi);
			put_be64(w->p + w->n + 8, c->ip.a6.lo);
			w->n += 16;
		} else {
			w->p[w->n++] = (unsigned char)(c->ip.v4 >> 24);
			w->p[w->n++] = (unsigned char)(c->ip.v4 >> 16);
			w->p[w->n++] = (unsigned char)(c->ip.v4 >> 8);
			w->p[w->n++] = (unsigned char)c->ip.v4;
		}
		if (!same_asn)
			wb_var(w, c->asn);
		wb_var(w, c->type);
		if (!same_st) {
			wb_var(w, c->source);
			wb_var(w, c->tlp);
		}
		wb_var(w, zz(c->first - m->min_first));
		if (!one) {
			wb_var(w, zz(c->last - c->first));
			wb_var(w, c->events);
		}
		if (c->port > 0)
			wb_var(w, (uint64_t)c->port);
		if (c->batch_id)
			wb_var(w, (uint64_t)c->batch_id);
		else
			m->unbatched++;
		pasn = c->asn;
		psrc = c->source;
		ptlp = c->tlp;
	}
}

struct rbuf {
	const unsigned char *p;
	size_t n, i;
	int bad;
};

static inline uint64_t rb_var(struct rbuf *r)
{
	uint64_t v = 0;
	for (int sh = 0; sh < 64; sh += 7) {
		if (r->i >= r->n) {
			r->bad = 1;
			return 0;
		}
		unsigned char c = r->p[r->i++];
		v |= (uint64_t)(c & 0x7f) << sh;
		if (!(c & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

/* block_decode - into reusable storage: labels (pointers into lab),
 * records in *recs. 0 or -1 for a damaged blob. */
struct dec {
	char *lab;
	size_t labcap;
	const char **labels;
	size_t labelcap;
	struct incident_rec *recs;
	size_t reccap;
};

static int block_decode(const void *data, size_t len, struct dec *d, struct incident_block *b)
{
	struct rbuf r = {data, len, 0, 0};
	if (len < 4 || (memcmp(data, "SIB1", 4) && memcmp(data, "SIB2", 4)))
		return -1;
	int v2 = ((const unsigned char *)data)[3] == '2';
	r.i = 4;
	uint64_t nl = rb_var(&r);
	if (r.bad || nl > len)
		return -1;
	if (d->labcap < len + nl + 1) {
		d->labcap = len + nl + 1;
		d->lab = xrealloc(d->lab, d->labcap);
	}
	if (d->labelcap < nl + 1) {
		d->labelcap = nl + 1;
		d->labels = xrealloc(d->labels, d->labelcap * sizeof *d->labels);
	}
	size_t lw = 0;
	for (uint64_t i = 0; i < nl; i++) {
		uint64_t l = rb_var(&r);
		if (r.bad || l > r.n - r.i)
			return -1;
		memcpy(d->lab + lw, r.p + r.i, l);
		d->labels[i] = d->lab + lw;
		lw += l;
		d->lab[lw++] = '\0';
		r.i += l;
	}
	uint64_t n = rb_var(&r);
	int64_t base = unzz(rb_var(&r));
	if (r.bad || n > INCIDENT_BLOCK_MAX || n > len)
		return -1;
	if (d->reccap < n + 1) {
		d->reccap = n + 1;
		d->recs = xrealloc(d->recs, d->reccap * sizeof *d->recs);
	}
	uint64_t pasn = 0, pso = 0, ptl = 0;
	for (uint64_t i = 0; i < n; i++) {
		struct incident_rec *c = &d->recs[i];
		if (r.i >= r.n)
			return -1;
		unsigned char fl = r.p[r.i++];
		if (!v2)
			fl &= 7; /* SIB1: every field present */
		memset(&c->ip, 0, sizeof c->ip);
		if (fl & 1) {
			if (r.n - r.i < 16)
				return -1;
			c->ip.v6 = 1;
			c->ip.a6.hi = get_be64(r.p + r.i);
			c->ip.a6.lo = get_be64(r.p + r.i + 8);
			r.i += 16;
		} else {
			if (r.n - r.i < 4)
				return -1;
			c->ip.v4 = (uint32_t)r.p[r.i] << 24 | (uint32_t)r.p[r.i + 1] << 16 |
				   (uint32_t)r.p[r.i + 2] << 8 | r.p[r.i + 3];
			r.i += 4;
		}
		uint64_t asn = fl & 8 ? pasn : rb_var(&r);
		c->asn = asn > UINT32_MAX ? 0 : (uint32_t)asn;
		uint64_t ty = rb_var(&r);
		uint64_t so = fl & 16 ? pso : rb_var(&r);
		uint64_t tl = fl & 16 ? ptl : rb_var(&r);
		if (ty >= nl || so >= nl || tl >= nl)
			return -1;
		c->type = (uint32_t)ty;
		c->source = (uint32_t)so;
		c->tlp = (uint32_t)tl;
		c->first = base + unzz(rb_var(&r));
		if (fl & 32) {
			c->last = c->first;
			c->events = 1;
		} else {
			c->last = c->first + unzz(rb_var(&r));
			uint64_t ev = rb_var(&r);
			c->events = ev > UINT32_MAX ? UINT32_MAX : (uint32_t)ev;
		}
		uint64_t port = fl & 2 ? rb_var(&r) : 0;
		c->port = port > 65535 ? 0 : (int)port;
		c->batch_id = fl & 4 ? (int64_t)(rb_var(&r) & INT64_MAX) : 0;
		if (r.bad)
			return -1;
		pasn = asn;
		pso = so;
		ptl = tl;
	}
	if (r.i != r.n)
		return -1;
	b->labels = d->labels;
	b->nlabels = (size_t)nl;
	b->v = d->recs;
	b->n = (size_t)n;
	return 0;
}

static void dec_free(struct dec *d)
{
	free(d->lab);
	free(d->labels);
	free(d->recs);
}

/* block_sum - a 64-bit check of a block's bytes in the pack: it catches a
 * pack that was truncated, swapped or written over (the pack is the
 * store's own file, not input, so a fast mix is enough; ~1 ms for the
 * 8 MB of a million-event feed) */
static uint64_t block_sum(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ h >> 32;
}

/* block_write - insert (id set) or rewrite a block. Its bytes go to the
 * store's pack when it has one: written once, sequentially, and fsync'd
 * at the commit, where a blob in the row was written twice (WAL, then
 * checkpoint) through SQLite's page cache - 15% of a million-event feed
 * run (bench). A rewrite appends the new bytes and points the row at
 * them; the old bytes stay in the pack unused. */
static int block_write(struct store *st, const struct incident_block *b, int64_t *id)
{
	if (b->n > INCIDENT_BLOCK_MAX)
		return fail(st, "block");
	struct wbuf w = {NULL, 0, 0};
	struct block_meta m;
	block_encode(b, &w, &m);
	int64_t off = -1;
	int pk = store_pack_put(st, w.p, w.n, &off);
	if (pk == STORE_ERR) {
		free(w.p);
		return STORE_ERR;
	}
	sqlite3_stmt *s =
	    id ? prep(st, "INSERT INTO incident_block(asn_lo,asn_hi,n,unbatched,min_first,"
			  "max_last,data,pack_off,pack_len,pack_sum)"
			  " VALUES(?1,?8,?2,?3,?4,?5,?6,?9,?10,?11)")
	       : prep(st, "UPDATE incident_block SET asn_lo=?1, asn_hi=?8, n=?2, unbatched=?3,"
			  " min_first=?4, max_last=?5, data=?6, pack_off=?9, pack_len=?10,"
			  " pack_sum=?11 WHERE id=?7");
	if (!s) {
		free(w.p);
		return fail(st, "block");
	}
	sqlite3_bind_int64(s, 1, m.asn_lo);
	sqlite3_bind_int64(s, 8, m.asn_hi);
	sqlite3_bind_int64(s, 2, (int64_t)b->n);
	sqlite3_bind_int64(s, 3, m.unbatched);
	sqlite3_bind_int64(s, 4, m.min_first);
	sqlite3_bind_int64(s, 5, m.max_last);
	if (pk == STORE_OK) {
		sqlite3_bind_zeroblob(s, 6, 0);
		sqlite3_bind_int64(s, 9, off);
		sqlite3_bind_int64(s, 10, (int64_t)w.n);
		sqlite3_bind_int64(s, 11, (int64_t)block_sum(w.p, w.n));
	} else { /* no pack: the row keeps the bytes, pack_* stay NULL */
		sqlite3_bind_blob64(s, 6, w.p, w.n, SQLITE_STATIC);
	}
	if (!id)
		sqlite3_bind_int64(s, 7, b->id);
	int rc = done(st, s);
	free(w.p);
	if (rc == STORE_OK && id)
		*id = sqlite3_last_insert_rowid(store_sqlite(st));
	return rc;
}

int store_block_add(struct store *st, const struct incident_block *b, int64_t *id)
{
	return block_write(st, b, id);
}

int store_block_replace(struct store *st, const struct incident_block *b)
{
	return block_write(st, b, NULL);
}

int store_blocks_each(struct store *st, const struct block_filter *f, block_cb cb, void *ctx)
{
	/* one statement per access path, so each uses its index */
#define BLOCK_COLS "SELECT id,data,pack_off,pack_len,pack_sum FROM incident_block"
	const char *sql = f->block_id	? BLOCK_COLS " WHERE id = ?4"
			  : f->asn >= 0 ? BLOCK_COLS
			      " WHERE asn_hi >= ?2 AND asn_lo <= ?2"
			      " AND max_last >= ?1 AND (?3 = 0 OR unbatched > 0) ORDER BY id"
			  : f->since > INT64_MIN ? BLOCK_COLS
			      " WHERE max_last >= ?1 AND (?3 = 0 OR unbatched > 0) ORDER BY id"
						 : BLOCK_COLS
			      " WHERE ?3 = 0 OR unbatched > 0 ORDER BY id";
#undef BLOCK_COLS
	sqlite3_stmt *s = prep(st, sql);
	if (!s)
		return fail(st, "blocks");
	sqlite3_bind_int64(s, 1, f->since);
	sqlite3_bind_int64(s, 2, f->asn);
	sqlite3_bind_int(s, 3, f->unbatched);
	sqlite3_bind_int64(s, 4, f->block_id);
	struct dec d;
	memset(&d, 0, sizeof d);
	int rc, ret = STORE_OK;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct incident_block b;
		memset(&b, 0, sizeof b);
		b.id = sqlite3_column_int64(s, 0);
		const void *data = sqlite3_column_blob(s, 1);
		size_t len = (size_t)sqlite3_column_bytes(s, 1);
		void *packed = NULL;
		if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
			char what[64];
			snprintf(what, sizeof what, "incident block %lld", (long long)b.id);
			len = (size_t)sqlite3_column_int64(s, 3);
			data = packed = store_pack_get(st, sqlite3_column_int64(s, 2), len, what);
			if (packed &&
			    (uint64_t)sqlite3_column_int64(s, 4) != block_sum(packed, len)) {
				char msg[200];
				snprintf(msg, sizeof msg, "%s: its bytes in the pack are damaged",
					 what);
				store_error(st, msg);
				free(packed);
				data = packed = NULL;
			}
		}
		int bad = !data || block_decode(data, len, &d, &b);
		free(packed); /* decoded into d */
		if (bad) {
			if (data) { /* read, but not a block */
				char msg[100];
				snprintf(msg, sizeof msg, "incident block %lld is damaged",
					 (long long)b.id);
				store_error(st, msg);
			}
			ret = STORE_ERR;
			break;
		}
		if (cb(ctx, &b))
			break;
	}
	sqlite3_finalize(s);
	dec_free(&d);
	if (ret == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = STORE_ERR;
	if (ret == STORE_OK)
		return STORE_OK;
	return store_own_error(st) ? STORE_ERR : fail(st, "blocks");
}

int store_blocks_unbatched(struct store *st, int64_t *n)
{
	sqlite3_stmt *s = prep(st, "SELECT coalesce(sum(unbatched), 0) FROM incident_block");
	if (!s)
		return fail(st, "blocks");
	*n = 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return STORE_OK;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

struct setb_ctx {
	struct store *st;
	const int64_t *ids;
	size_t n;
	int64_t batch;
	int rc;
};

static int setb_block(void *ctx, struct incident_block *b)
{
	struct setb_ctx *x = ctx;
	for (size_t i = 0; i < x->n; i++) {
		int64_t k = x->ids[i] - INCIDENT_BLOCK_ID(b->id, 0);
		if (k >= 0 && (uint64_t)k < b->n)
			b->v[k].batch_id = x->batch;
	}
	x->rc = store_block_replace(x->st, b);
	return 0;
}

int store_incidents_set_batch(struct store *st, int64_t *ids, size_t n, int64_t batch_id)
{
	if (!n)
		return STORE_OK;
	qsort(ids, n, sizeof *ids, cmp_i64);
	size_t i = 0;
	sqlite3_stmt *s = prep(st, "UPDATE incident SET batch_id=? WHERE id=?");
	if (!s)
		return fail(st, "incident");
	for (; i < n && ids[i] < INCIDENT_BLOCK_BASE; i++) {
		sqlite3_bind_int64(s, 1, batch_id);
		sqlite3_bind_int64(s, 2, ids[i]);
		int rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(s);
			return fail(st, "incident");
		}
	}
	sqlite3_finalize(s);
	while (i < n) {
		int64_t blk = (ids[i] - INCIDENT_BLOCK_BASE) >> 20;
		size_t j = i;
		while (j < n && (ids[j] - INCIDENT_BLOCK_BASE) >> 20 == blk)
			j++;
		/* the block is rewritten after its statement ended: decode into
		 * the callback, replace from there (a by-id SELECT, one row) */
		struct setb_ctx x = {st, ids + i, j - i, batch_id, STORE_ERR};
		struct block_filter f = {INT64_MIN, -1, 0, blk};
		if (store_blocks_each(st, &f, setb_block, &x) != STORE_OK || x.rc != STORE_OK)
			return STORE_ERR;
		i = j;
	}
	return STORE_OK;
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
