/*
 * store_act.c - SQLite tables of blocklists, allowlist and audit trail
 * (see store_act.h). Owned by the act component (issue 5).
 *
 * Every statement uses bound parameters; none is built from input. The
 * listing writer keeps its statements prepared for the bulk refresh path.
 * Errors: STORE_ERR with SQLite's message in store_act_errmsg().
 */
#include "store/store_act.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "store/store.h"

/* Schema of the "act" component: append steps, never edit one. */
static const char *const act_steps[] = {
    /* 1 */
    "CREATE TABLE act_listing (id INTEGER PRIMARY KEY, level TEXT NOT NULL,"
    " value TEXT NOT NULL, reason TEXT NOT NULL, guard TEXT,"
    " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " listed_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " delisted_at INTEGER NOT NULL DEFAULT 0, delist_reason TEXT,"
    " reports INTEGER NOT NULL DEFAULT 0, first_report INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE(level, value));"
    "CREATE TABLE act_allow (id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
    " value TEXT NOT NULL UNIQUE, reason TEXT NOT NULL, added_at INTEGER NOT NULL);"
    "CREATE TABLE act_audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
    " action TEXT NOT NULL, value TEXT NOT NULL, reason TEXT, actor TEXT);"
    "CREATE INDEX act_audit_value ON act_audit(value);"
    "CREATE TABLE act_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
};

int store_act_migrate(struct store *st)
{
	return store_migrate(st, "act", act_steps, (int)(sizeof act_steps / sizeof *act_steps));
}

const char *store_act_errmsg(struct store *st)
{
	return sqlite3_errmsg(store_sqlite(st));
}

static sqlite3_stmt *prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(store_sqlite(st), sql, -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

static int done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* ---- listings ---- */

#define LISTING_COLS                                                                               \
	"SELECT id, level, value, reason, guard, first_seen, last_seen, listed_at, expires_at,"    \
	" delisted_at, delist_reason, reports, first_report FROM act_listing "

static int each_listing(sqlite3_stmt *s, listing_cb cb, void *ctx)
{
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct listing_row r = {
		    .id = sqlite3_column_int64(s, 0),
		    .level = col(s, 1),
		    .value = col(s, 2),
		    .reason = col(s, 3),
		    .guard = col(s, 4),
		    .first_seen = sqlite3_column_int64(s, 5),
		    .last_seen = sqlite3_column_int64(s, 6),
		    .listed_at = sqlite3_column_int64(s, 7),
		    .expires_at = sqlite3_column_int64(s, 8),
		    .delisted_at = sqlite3_column_int64(s, 9),
		    .delist_reason = col(s, 10),
		    .reports = (long)sqlite3_column_int64(s, 11),
		    .first_report = sqlite3_column_int64(s, 12),
		};
		if (cb(ctx, &r)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_act_listings_each(struct store *st, int active_only, listing_cb cb, void *ctx)
{
	sqlite3_stmt *s =
	    prep(st, active_only ? LISTING_COLS "WHERE delisted_at=0 ORDER BY level, value"
				 : LISTING_COLS "ORDER BY level, value");
	if (!s)
		return STORE_ERR;
	return each_listing(s, cb, ctx);
}

int store_act_listings_of(struct store *st, const char *v, listing_cb cb, void *ctx)
{
	/* URLs on the host: "scheme://v/...", "scheme://v:port/..." or a
	 * subdomain of v. instr() keeps LIKE wildcards in v harmless. */
	sqlite3_stmt *s =
	    prep(st, LISTING_COLS
		 "WHERE value=?1 OR (level='url' AND (instr(value, '://' || ?1 || '/') > 0"
		 " OR instr(value, '://' || ?1 || ':') > 0"
		 " OR instr(value, '.' || ?1 || '/') > 0)) ORDER BY level, value");
	if (!s)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, v, -1, SQLITE_STATIC);
	return each_listing(s, cb, ctx);
}

struct listing_writer {
	struct store *st;
	sqlite3_stmt *ins, *upd, *aud;
};

struct listing_writer *store_act_listing_writer(struct store *st)
{
	struct listing_writer *w = xcalloc(1, sizeof *w);
	w->st = st;
	w->ins = prep(st, "INSERT INTO act_listing(level, value, reason, guard, first_seen,"
			  " last_seen, listed_at, expires_at, delisted_at, delist_reason, reports,"
			  " first_report) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
	w->upd = prep(st, "UPDATE act_listing SET level=?1, value=?2, reason=?3, guard=?4,"
			  " first_seen=?5, last_seen=?6, listed_at=?7, expires_at=?8,"
			  " delisted_at=?9, delist_reason=?10, reports=?11, first_report=?12"
			  " WHERE id=?13");
	w->aud = prep(st, "INSERT INTO act_audit(at, action, value, reason, actor)"
			  " VALUES(?,?,?,?,'refresh')");
	if (!w->ins || !w->upd || !w->aud) {
		store_act_listing_writer_free(w);
		return NULL;
	}
	return w;
}

void store_act_listing_writer_free(struct listing_writer *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->upd);
	sqlite3_finalize(w->aud);
	free(w);
}

int store_act_listing_put(struct listing_writer *w, const struct listing_row *r, int64_t *id)
{
	sqlite3_stmt *s = r->id ? w->upd : w->ins;
	sqlite3_bind_text(s, 1, r->level, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->value, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->reason ? r->reason : "", -1, SQLITE_STATIC);
	bind_opt(s, 4, r->guard);
	sqlite3_bind_int64(s, 5, r->first_seen);
	sqlite3_bind_int64(s, 6, r->last_seen);
	sqlite3_bind_int64(s, 7, r->listed_at);
	sqlite3_bind_int64(s, 8, r->expires_at);
	sqlite3_bind_int64(s, 9, r->delisted_at);
	bind_opt(s, 10, r->delist_reason);
	sqlite3_bind_int64(s, 11, r->reports);
	sqlite3_bind_int64(s, 12, r->first_report);
	if (r->id)
		sqlite3_bind_int64(s, 13, r->id);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return STORE_ERR;
	if (id)
		*id = r->id ? r->id : sqlite3_last_insert_rowid(store_sqlite(w->st));
	return STORE_OK;
}

int store_act_listing_audit(struct listing_writer *w, int64_t at, const char *action,
			    const char *value, const char *reason)
{
	sqlite3_stmt *s = w->aud;
	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_text(s, 2, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
	bind_opt(s, 4, reason);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_act_delist(struct store *st, const char *level, const char *value, const char *reason,
		     int64_t at, long *n)
{
	sqlite3_stmt *s =
	    prep(st, "UPDATE act_listing SET delisted_at=?1, delist_reason=?2"
		     " WHERE value=?3 AND (?4 IS NULL OR level=?4) AND delisted_at=0");
	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
	bind_opt(s, 4, level);
	int rc = done(s);
	if (n)
		*n = rc == STORE_OK ? sqlite3_changes(store_sqlite(st)) : 0;
	return rc;
}

/* ---- allowlist ---- */

int store_act_allow_add(struct store *st, const char *kind, const char *value, const char *reason,
			int64_t at)
{
	sqlite3_stmt *s = prep(st, "INSERT OR IGNORE INTO act_allow(kind, value, reason, added_at)"
				   " VALUES(?,?,?,?)");
	if (!s)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, at);
	if (done(s) < 0)
		return STORE_ERR;
	return sqlite3_changes(store_sqlite(st)) ? STORE_OK : STORE_DUP;
}

int store_act_allow_remove(struct store *st, const char *value)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM act_allow WHERE value=?");
	if (!s)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, value, -1, SQLITE_STATIC);
	if (done(s) < 0)
		return STORE_ERR;
	return sqlite3_changes(store_sqlite(st)) ? STORE_OK : STORE_DUP;
}

int store_act_allow_each(struct store *st, allow_cb cb, void *ctx)
{
	sqlite3_stmt *s = prep(st, "SELECT kind, value, reason, added_at FROM act_allow"
				   " ORDER BY kind, value");
	if (!s)
		return STORE_ERR;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct allow_row r = {col(s, 0), col(s, 1), col(s, 2), sqlite3_column_int64(s, 3)};
		if (cb(ctx, &r)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/* ---- audit ---- */

int store_act_audit(struct store *st, int64_t at, const char *action, const char *value,
		    const char *reason, const char *actor)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO act_audit(at, action, value, reason, actor)"
				   " VALUES(?,?,?,?,?)");
	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_text(s, 2, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
	bind_opt(s, 4, reason);
	bind_opt(s, 5, actor);
	return done(s);
}

int store_act_audit_each(struct store *st, const char *value, audit_cb cb, void *ctx)
{
	sqlite3_stmt *s = prep(st, "SELECT at, action, value, reason, actor FROM act_audit"
				   " WHERE ?1 IS NULL OR value=?1 ORDER BY id");
	if (!s)
		return STORE_ERR;
	bind_opt(s, 1, value);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct audit_row r = {sqlite3_column_int64(s, 0), col(s, 1), col(s, 2), col(s, 3),
				      col(s, 4)};
		if (cb(ctx, &r)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/* ---- state ---- */

int store_act_state_get(struct store *st, const char *key, int64_t *v)
{
	sqlite3_stmt *s = prep(st, "SELECT value FROM act_state WHERE key=?");
	if (!s)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_DUP : STORE_ERR;
}

int store_act_state_set(struct store *st, const char *key, int64_t v)
{
	sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO act_state(key, value) VALUES(?,?)");
	if (!s)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, v);
	return done(s);
}
