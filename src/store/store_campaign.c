/*
 * store_campaign.c - SQLite tables of the campaign stage (see
 * store_campaign.h). Owned by the campaign component (issue 4).
 *
 * The statements run per clustered report are prepared once in
 * store_campaign_open(); the rarer ones (listing, analyst merges and
 * splits, re-clustering) are prepared per call. Every value is bound;
 * no statement is built from input. Keys are 64-bit hashes stored as
 * signed INTEGER (the bits are kept as they are).
 */
#include "store/store_campaign.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xalloc.h"
#include "store/store.h"

/* Schema of the "campaign" component: append steps, never edit one. */
static const char *const campaign_steps[] = {
    /* 1 */
    "CREATE TABLE campaign (id INTEGER PRIMARY KEY, first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL, reports INTEGER NOT NULL, alerted_at INTEGER,"
    " merged_into INTEGER, pin INTEGER, exemplars BLOB, agg TEXT,"
    " state TEXT NOT NULL DEFAULT 'new');"
    "CREATE INDEX campaign_by_pin ON campaign(pin) WHERE pin IS NOT NULL;"
    "CREATE TABLE campaign_key (key INTEGER NOT NULL, campaign_id INTEGER NOT NULL,"
    " kind INTEGER NOT NULL, PRIMARY KEY(key, campaign_id)) WITHOUT ROWID;"
    "CREATE TABLE campaign_member (seq INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL,"
    " message_sha TEXT NOT NULL, t INTEGER NOT NULL, feat BLOB NOT NULL, info TEXT NOT NULL);"
    "CREATE INDEX campaign_member_c ON campaign_member(campaign_id, t);"
    "CREATE INDEX campaign_member_sha ON campaign_member(message_sha);"
    "CREATE TABLE campaign_hour (campaign_id INTEGER NOT NULL, hour INTEGER NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY(campaign_id, hour)) WITHOUT ROWID;"
    "CREATE TABLE campaign_pin (message_sha TEXT PRIMARY KEY, grp INTEGER NOT NULL,"
    " decided_at INTEGER NOT NULL);"
    "CREATE TABLE campaign_decision (id INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
    " action TEXT NOT NULL, detail TEXT NOT NULL);",
    /* 2: the message_sha index of members was written at a random position
     * per report (about a sixth of the pages each ingest commit wrote) and
     * only served re-clustering, which now joins through report_message */
    "DROP INDEX IF EXISTS campaign_member_sha;",
    /* 3: exact-message keys (kind 1, CK_MSG) are answered by the reports
     * (store_campaign_msg_lookup) and no longer read from the index */
    "DELETE FROM campaign_key WHERE kind=1;",
    /* 4: new keys go to a small second index first (see KEY_MERGE_ROWS) */
    /* (parenthesised: one statement in two literals, which clang's
     * -Wstring-concatenation takes for a missing comma) */
    ("CREATE TABLE campaign_key_recent (key INTEGER NOT NULL, campaign_id INTEGER NOT NULL,"
     " kind INTEGER NOT NULL, PRIMARY KEY(key, campaign_id)) WITHOUT ROWID;"),
};

/* The key index has two levels, as a log-structured merge tree has. Keys
 * are hashes, so each one lands on a random leaf: written straight into
 * campaign_key, the keys of one commit (a second of reports) dirtied
 * nearly every leaf of it, and each commit wrote them all again, more of
 * them the larger the store: campaign_key was half of the pages the
 * clustering added to a commit (bench/README-campaigns.md, "seventh
 * pass"). New keys go to campaign_key_recent, whose few leaves stay in
 * the page cache; once it holds KEY_MERGE_ROWS keys they are moved into
 * campaign_key in one statement, in key order, so each leaf of the large
 * index is written once per merge instead of once per commit. Look-ups
 * read both. */
#define KEY_MERGE_ROWS 32768

enum {
	Q_KEY_GET,
	Q_KEY_GET_RECENT,
	Q_KEY_ADD,
	Q_MSG_GET,
	Q_GET,
	Q_INS,
	Q_UPD,
	Q_MEM_ADD,
	Q_HOUR_ADD,
	Q_NTH,
	Q_PIN_GET,
	Q_BY_PIN,
	Q_N
};

static const char *const sql[Q_N] = {
    [Q_KEY_GET] = "SELECT campaign_id FROM campaign_key WHERE key=? ORDER BY campaign_id DESC"
		  " LIMIT ?",
    [Q_KEY_GET_RECENT] = "SELECT campaign_id FROM campaign_key_recent WHERE key=?"
			 " ORDER BY campaign_id DESC LIMIT ?",
    [Q_KEY_ADD] = "INSERT OR IGNORE INTO campaign_key_recent(key,campaign_id,kind) VALUES(?,?,?)",
    /* exact-message keys: a random B-tree insert per report in
     * campaign_key, while the core's report_key map already holds them
     * (STORE_KEYED, store.h). No DISTINCT and no ORDER BY:
     * SQLite opened two temporary B-trees for them in every execution,
     * each with its own pager: a third of the clustering's samples in a
     * profile (10,000 reports into 50,000); store_campaign_msg_lookup
     * keeps the newest distinct ids itself. */
    [Q_MSG_GET] = "SELECT r.campaign_id FROM " STORE_KEYED(
	"report_key", "shield_hex_key(?1)") " AS x"
					    " JOIN report r ON r.id=x.id WHERE r.message_sha=?1 "
					    "AND r.campaign_id IS NOT NULL",
    [Q_GET] = "SELECT id,first_seen,last_seen,reports,alerted_at,merged_into,pin,exemplars,"
	      "agg,state FROM campaign WHERE id=?",
    [Q_INS] = "INSERT INTO campaign(first_seen,last_seen,reports,alerted_at,merged_into,pin,"
	      "exemplars,agg,state) VALUES(?,?,?,?,?,?,?,?,?)",
    [Q_UPD] = "UPDATE campaign SET first_seen=?,last_seen=?,reports=?,alerted_at=?,"
	      "merged_into=?,pin=?,exemplars=?,agg=?,state=? WHERE id=?",
    [Q_MEM_ADD] = "INSERT INTO campaign_member(campaign_id,message_sha,t,feat,info)"
		  " VALUES(?,?,?,?,?)",
    [Q_HOUR_ADD] = "INSERT INTO campaign_hour(campaign_id,hour,n) VALUES(?,?,?)"
		   " ON CONFLICT(campaign_id,hour) DO UPDATE SET n=n+excluded.n",
    [Q_NTH] = "SELECT t FROM campaign_member WHERE campaign_id=? ORDER BY t DESC LIMIT 1"
	      " OFFSET ?",
    [Q_PIN_GET] = "SELECT grp FROM campaign_pin WHERE message_sha=?",
    [Q_BY_PIN] = "SELECT id FROM campaign WHERE pin=? AND merged_into IS NULL"
		 " ORDER BY id LIMIT 1",
};

struct store_campaign {
	struct store *st;
	sqlite3 *db;
	sqlite3_stmt *q[Q_N];
	long nrecent; /* rows in campaign_key_recent (as this connection counts;
		       * -1: not counted yet) */
};

static int done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : STORE_ERR;
}

void campaign_rec_release(struct campaign_rec *c)
{
	free(c->agg);
	c->agg = NULL;
}

struct store_campaign *store_campaign_open(struct store *st)
{
	if (store_migrate(st, "campaign", campaign_steps,
			  (int)(sizeof campaign_steps / sizeof *campaign_steps)) < 0)
		return NULL;
	struct store_campaign *sc = xcalloc(1, sizeof *sc);
	sc->st = st;
	sc->db = store_sqlite(st);
	for (int i = 0; i < Q_N; i++)
		if (sqlite3_prepare_v3(sc->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &sc->q[i],
				       NULL) != SQLITE_OK)
			return store_campaign_close(sc);
	sc->nrecent = -1; /* counted by the first key_add: readers never need it */
	return sc;
}

struct store_campaign *store_campaign_close(struct store_campaign *sc)
{
	if (!sc)
		return NULL;
	for (int i = 0; i < Q_N; i++)
		sqlite3_finalize(sc->q[i]);
	free(sc);
	return NULL;
}

struct store *store_campaign_store(struct store_campaign *sc)
{
	return sc->st;
}

/* key_ids - up to max campaign ids of key from one level, newest first. */
static int key_ids(sqlite3_stmt *s, uint64_t key, int64_t *ids, int max, int *n)
{
	sqlite3_bind_int64(s, 1, (sqlite3_int64)key);
	sqlite3_bind_int(s, 2, max);
	int rc, k = 0;
	while (k < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ids[k++] = sqlite3_column_int64(s, 0);
	if (k == max)
		rc = SQLITE_ROW;
	sqlite3_reset(s);
	*n = k;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : STORE_ERR;
}

int store_campaign_key_lookup(struct store_campaign *sc, uint64_t key, int64_t *ids, int max,
			      int *n)
{
	if (max > STORE_CAMPAIGN_KEY_MAX)
		max = STORE_CAMPAIGN_KEY_MAX;
	int64_t a[STORE_CAMPAIGN_KEY_MAX], b[STORE_CAMPAIGN_KEY_MAX];
	int na, nb;
	if (key_ids(sc->q[Q_KEY_GET], key, a, max, &na) < 0 ||
	    key_ids(sc->q[Q_KEY_GET_RECENT], key, b, max, &nb) < 0)
		return STORE_ERR;
	/* merge the two descending lists; a pair may be in both levels
	 * (added again before a merge), so equal ids are taken once */
	int i = 0, j = 0, k = 0;
	while (k < max && (i < na || j < nb)) {
		int64_t v = j >= nb || (i < na && a[i] >= b[j]) ? a[i] : b[j];
		while (i < na && a[i] == v)
			i++;
		while (j < nb && b[j] == v)
			j++;
		ids[k++] = v;
	}
	*n = k;
	return STORE_OK;
}

/* key_merge - move the recent level into campaign_key (see KEY_MERGE_ROWS).
 * It runs inside the caller's transaction (an ingest batch, a re-cluster);
 * outside one, a crash between the two statements leaves rows in both
 * levels, which look-ups count once and the next move ignores. */
static int key_merge(struct store_campaign *sc)
{
	if (sqlite3_exec(
		sc->db,
		"INSERT OR IGNORE INTO campaign_key(key,campaign_id,kind)"
		" SELECT key,campaign_id,kind FROM campaign_key_recent ORDER BY key,campaign_id;"
		"DELETE FROM campaign_key_recent;",
		NULL, NULL, NULL) != SQLITE_OK)
		return STORE_ERR;
	sc->nrecent = 0;
	return STORE_OK;
}

int store_campaign_key_add(struct store_campaign *sc, uint64_t key, int kind, int64_t cid)
{
	if (sc->nrecent < 0) {
		sqlite3_stmt *c;
		if (sqlite3_prepare_v2(sc->db, "SELECT count(*) FROM campaign_key_recent", -1, &c,
				       NULL) != SQLITE_OK)
			return STORE_ERR;
		if (sqlite3_step(c) == SQLITE_ROW)
			sc->nrecent = (long)sqlite3_column_int64(c, 0);
		sqlite3_finalize(c);
		if (sc->nrecent < 0)
			return STORE_ERR;
	}
	sqlite3_stmt *s = sc->q[Q_KEY_ADD];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)key);
	sqlite3_bind_int64(s, 2, cid);
	sqlite3_bind_int(s, 3, kind);
	if (done(s) < 0)
		return STORE_ERR;
	sc->nrecent += sqlite3_changes(sc->db);
	return sc->nrecent >= KEY_MERGE_ROWS ? key_merge(sc) : STORE_OK;
}

int store_campaign_keys(struct store_campaign *sc, uint64_t **keys, size_t *n)
{
	return store_read_keys(
	    sc->db, "SELECT key FROM campaign_key UNION ALL SELECT key FROM campaign_key_recent",
	    keys, n);
}

int store_campaign_key_pairs(struct store_campaign *sc,
			     int (*each)(void *ctx, uint64_t key, int64_t cid), void *ctx)
{
	static const char *const q[] = {"SELECT key, campaign_id FROM campaign_key",
					"SELECT key, campaign_id FROM campaign_key_recent"};
	for (size_t l = 0; l < sizeof q / sizeof *q; l++) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(sc->db, q[l], -1, &s, NULL) != SQLITE_OK)
			return STORE_ERR;
		int rc, stop = 0;
		while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
			stop = each(ctx, (uint64_t)sqlite3_column_int64(s, 0),
				    sqlite3_column_int64(s, 1));
		sqlite3_finalize(s);
		if (stop)
			return stop;
		if (rc != SQLITE_DONE)
			return STORE_ERR;
	}
	return 0;
}

int store_campaign_msg_keys(struct store_campaign *sc, uint64_t **keys, size_t *n)
{
	return store_read_keys(sc->db, "SELECT k FROM " STORE_MAP_ROWS("report_key"), keys, n);
}

int store_campaign_msg_lookup(struct store_campaign *sc, const char *message_sha, int64_t *ids,
			      int max, int *n)
{
	sqlite3_stmt *s = sc->q[Q_MSG_GET];
	sqlite3_bind_text(s, 1, message_sha, -1, SQLITE_STATIC);
	int rc, k = 0;
	/* the max highest distinct ids, highest first (as key_lookup's
	 * ORDER BY campaign_id DESC LIMIT gives them) */
	while (max > 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		int at = 0;
		while (at < k && ids[at] > id)
			at++;
		if ((at < k && ids[at] == id) || at == max)
			continue;
		if (k < max)
			k++;
		memmove(ids + at + 1, ids + at, (size_t)(k - 1 - at) * sizeof *ids);
		ids[at] = id;
	}
	if (max <= 0)
		rc = SQLITE_DONE;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	*n = k;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : STORE_ERR;
}

static void read_rec(sqlite3_stmt *s, struct campaign_rec *c)
{
	memset(c, 0, sizeof *c);
	c->id = sqlite3_column_int64(s, 0);
	c->first_seen = sqlite3_column_int64(s, 1);
	c->last_seen = sqlite3_column_int64(s, 2);
	c->reports = (long)sqlite3_column_int64(s, 3);
	c->alerted_at = sqlite3_column_int64(s, 4);
	c->merged_into = sqlite3_column_int64(s, 5);
	c->pin = sqlite3_column_int64(s, 6);
	size_t n = (size_t)sqlite3_column_bytes(s, 7);
	const void *b = sqlite3_column_blob(s, 7);
	if (b && n <= sizeof c->ex) {
		memcpy(c->ex, b, n);
		c->exlen = n;
	}
	const char *agg = (const char *)sqlite3_column_text(s, 8);
	c->agg = agg ? xstrdup(agg) : NULL;
	const char *state = (const char *)sqlite3_column_text(s, 9);
	snprintf(c->state, sizeof c->state, "%s", state ? state : "new");
}

int store_campaign_get(struct store_campaign *sc, int64_t id, struct campaign_rec *c)
{
	sqlite3_stmt *s = sc->q[Q_GET];
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_rec(s, c);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : STORE_ERR;
}

static void bind_rec(sqlite3_stmt *s, const struct campaign_rec *c)
{
	sqlite3_bind_int64(s, 1, c->first_seen);
	sqlite3_bind_int64(s, 2, c->last_seen);
	sqlite3_bind_int64(s, 3, c->reports);
	if (c->alerted_at)
		sqlite3_bind_int64(s, 4, c->alerted_at);
	else
		sqlite3_bind_null(s, 4);
	if (c->merged_into)
		sqlite3_bind_int64(s, 5, c->merged_into);
	else
		sqlite3_bind_null(s, 5);
	if (c->pin)
		sqlite3_bind_int64(s, 6, c->pin);
	else
		sqlite3_bind_null(s, 6);
	sqlite3_bind_blob(s, 7, c->ex, (int)c->exlen, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, c->agg, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, c->state, -1, SQLITE_STATIC);
}

int store_campaign_insert(struct store_campaign *sc, struct campaign_rec *c)
{
	sqlite3_stmt *s = sc->q[Q_INS];
	bind_rec(s, c);
	if (done(s) < 0)
		return STORE_ERR;
	c->id = sqlite3_last_insert_rowid(sc->db);
	return STORE_OK;
}

int store_campaign_update(struct store_campaign *sc, const struct campaign_rec *c)
{
	sqlite3_stmt *s = sc->q[Q_UPD];
	bind_rec(s, c);
	sqlite3_bind_int64(s, 10, c->id);
	return done(s);
}

int store_campaign_member_add(struct store_campaign *sc, int64_t cid, const char *message_sha,
			      int64_t t, const void *feat, size_t featlen, const char *info)
{
	sqlite3_stmt *s = sc->q[Q_MEM_ADD];
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_text(s, 2, message_sha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, t);
	sqlite3_bind_blob(s, 4, feat, (int)featlen, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, info, -1, SQLITE_STATIC);
	return done(s);
}

int store_campaign_hour_add(struct store_campaign *sc, int64_t cid, int64_t hour, long n)
{
	sqlite3_stmt *s = sc->q[Q_HOUR_ADD];
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_int64(s, 2, hour);
	sqlite3_bind_int64(s, 3, n);
	return done(s);
}

int store_campaign_nth_recent(struct store_campaign *sc, int64_t cid, int n, int64_t *t)
{
	sqlite3_stmt *s = sc->q[Q_NTH];
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_int(s, 2, n - 1);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*t = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_DUP : STORE_ERR;
}

int store_campaign_pin_get(struct store_campaign *sc, const char *message_sha, int64_t *grp)
{
	sqlite3_stmt *s = sc->q[Q_PIN_GET];
	sqlite3_bind_text(s, 1, message_sha, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*grp = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_DUP : STORE_ERR;
}

int store_campaign_by_pin(struct store_campaign *sc, int64_t grp, int64_t *cid)
{
	sqlite3_stmt *s = sc->q[Q_BY_PIN];
	sqlite3_bind_int64(s, 1, grp);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*cid = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_DUP : STORE_ERR;
}

/* run - one-off statement with up to three int64 and one text binding
 * (NULL text: not bound). */
static int run(struct store_campaign *sc, const char *q, int nint, const int64_t *v,
	       const char *text)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(sc->db, q, -1, &s, NULL) != SQLITE_OK)
		return STORE_ERR;
	for (int i = 0; i < nint; i++)
		sqlite3_bind_int64(s, i + 1, v[i]);
	if (text)
		sqlite3_bind_text(s, nint + 1, text, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : STORE_ERR;
}

int store_campaign_pin_set(struct store_campaign *sc, const char *message_sha, int64_t grp)
{
	int64_t v[2] = {grp, (int64_t)time(NULL)};
	return run(sc,
		   "INSERT INTO campaign_pin(grp,decided_at,message_sha) VALUES(?1,?2,?3)"
		   " ON CONFLICT(message_sha) DO UPDATE SET grp=excluded.grp,"
		   " decided_at=excluded.decided_at",
		   2, v, message_sha);
}

int store_campaign_new_pin_group(struct store_campaign *sc, int64_t *grp)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(sc->db, "SELECT coalesce(max(grp),0)+1 FROM campaign_pin", -1, &s,
			       NULL) != SQLITE_OK)
		return STORE_ERR;
	int rc = sqlite3_step(s);
	*grp = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? STORE_OK : STORE_ERR;
}

int store_campaign_decision(struct store_campaign *sc, const char *action, const char *detail)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(sc->db,
			       "INSERT INTO campaign_decision(at,action,detail) VALUES(?,?,?)", -1,
			       &s, NULL) != SQLITE_OK)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(s, 2, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, detail, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_campaign_members_each(struct store_campaign *sc, int64_t cid, campaign_member_cb cb,
				void *ctx)
{
	sqlite3_stmt *s;
	const char *q = cid ? "SELECT seq,campaign_id,t,message_sha,feat,info FROM campaign_member"
			      " WHERE campaign_id=? ORDER BY t, seq"
			    : "SELECT seq,campaign_id,t,message_sha,feat,info FROM campaign_member"
			      " ORDER BY t, seq";
	if (sqlite3_prepare_v2(sc->db, q, -1, &s, NULL) != SQLITE_OK)
		return STORE_ERR;
	if (cid)
		sqlite3_bind_int64(s, 1, cid);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct campaign_member_row m = {
		    .seq = sqlite3_column_int64(s, 0),
		    .campaign_id = sqlite3_column_int64(s, 1),
		    .t = sqlite3_column_int64(s, 2),
		    .message_sha = (const char *)sqlite3_column_text(s, 3),
		    .feat = sqlite3_column_blob(s, 4),
		    .featlen = (size_t)sqlite3_column_bytes(s, 4),
		    .info = (const char *)sqlite3_column_text(s, 5),
		};
		if (cb(ctx, &m))
			break;
	}
	int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	sqlite3_finalize(s);
	return ok ? STORE_OK : STORE_ERR;
}

/* A campaign's reports, through its members: reports have no index on
 * campaign_id (core step 5). Each report of a campaign has a member of it
 * with its message (ingest, moves and re-clustering keep the two
 * together); `+campaign_id` keeps the reports of that message placed
 * elsewhere out. */
#define REPORTS_OF(cid)                                                                            \
	"id IN " STORE_KEYED_IDS("report_key", "(SELECT shield_hex_key(message_sha) FROM"          \
					       " campaign_member WHERE campaign_id=" cid           \
					       ")") " AND +campaign_id=" cid

int store_campaign_member_move(struct store_campaign *sc, int64_t from, int64_t to,
			       const char *message_sha)
{
	int64_t v[2] = {to, from};
	/* reports first: they are found through the members still in from */
	if (message_sha)
		return run(sc,
			   "UPDATE report SET campaign_id=?1 WHERE id IN " STORE_KEYED_IDS(
			       "report_key",
			       "(shield_hex_key(?3))") " AND message_sha=?3 AND +campaign_id=?2",
			   2, v, message_sha) < 0 ||
			       run(sc,
				   "UPDATE campaign_member SET campaign_id=?1 WHERE campaign_id=?2"
				   " AND message_sha=?3",
				   2, v, message_sha) < 0
			   ? STORE_ERR
			   : STORE_OK;
	return run(sc, "UPDATE report SET campaign_id=?1 WHERE " REPORTS_OF("?2"), 2, v, NULL) <
			   0 ||
		       run(sc, "UPDATE campaign_member SET campaign_id=?1 WHERE campaign_id=?2", 2,
			   v, NULL) < 0
		   ? STORE_ERR
		   : STORE_OK;
}

int store_campaign_reset_derived(struct store_campaign *sc, int64_t cid)
{
	if (cid)
		return run(sc, "DELETE FROM campaign_hour WHERE campaign_id=?", 1, &cid, NULL);
	sc->nrecent = 0;
	if (run(sc, "DELETE FROM campaign_key", 0, NULL, NULL) < 0 ||
	    run(sc, "DELETE FROM campaign_key_recent", 0, NULL, NULL) < 0 ||
	    run(sc, "DELETE FROM campaign_hour", 0, NULL, NULL) < 0 ||
	    run(sc, "DELETE FROM campaign", 0, NULL, NULL) < 0)
		return STORE_ERR;
	return STORE_OK;
}

int store_campaign_report_set(struct store_campaign *sc, const char *message_sha, int64_t cid)
{
	return run(
	    sc,
	    "UPDATE report SET campaign_id=?1 WHERE id IN " STORE_KEYED_IDS(
		"report_key", "(shield_hex_key(?2))") " AND message_sha=?2 AND campaign_id IS NULL",
	    1, &cid, message_sha);
}

int store_campaign_report_clear(struct store_campaign *sc)
{
	return run(sc, "UPDATE report SET campaign_id=NULL WHERE campaign_id IS NOT NULL", 0, NULL,
		   NULL);
}

int store_campaign_member_set(struct store_campaign *sc, int64_t seq, int64_t cid)
{
	int64_t v[2] = {cid, seq};
	return run(sc, "UPDATE campaign_member SET campaign_id=?1 WHERE seq=?2", 2, v, NULL);
}

int store_campaign_member_drop_all(struct store_campaign *sc)
{
	return run(sc, "DELETE FROM campaign_member", 0, NULL, NULL);
}

const char *store_campaign_errmsg(struct store_campaign *sc)
{
	return sqlite3_errmsg(sc->db);
}

int store_campaign_sync_reports(struct store_campaign *sc)
{
	/* each message's first member (min(seq) picks the row's campaign_id,
	 * a documented SQLite rule for bare columns), joined to reports
	 * through both levels of the report_key map (store.h) */
	return run(sc,
		   "UPDATE report SET campaign_id=m.cid FROM (SELECT message_sha AS sha,"
		   " campaign_id AS cid, min(seq) FROM campaign_member GROUP BY message_sha) AS m,"
		   " " STORE_MAP_ROWS(
		       "report_key") " AS x WHERE x.k=shield_hex_key(m.sha) AND report.id=x.id"
				     " AND report.message_sha=m.sha",
		   0, NULL, NULL);
}

int store_campaign_each(struct store_campaign *sc, campaign_rec_cb cb, void *ctx)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(sc->db,
			       "SELECT id,first_seen,last_seen,reports,alerted_at,merged_into,pin,"
			       "exemplars,agg,state FROM campaign WHERE merged_into IS NULL"
			       " ORDER BY reports DESC, id",
			       -1, &s, NULL) != SQLITE_OK)
		return STORE_ERR;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct campaign_rec c;
		read_rec(s, &c);
		int stop = cb(ctx, &c);
		campaign_rec_release(&c);
		if (stop)
			break;
	}
	int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	sqlite3_finalize(s);
	return ok ? STORE_OK : STORE_ERR;
}

int store_campaign_hours(struct store_campaign *sc, int64_t cid, int64_t from_hour, long *counts,
			 int nhours)
{
	sqlite3_stmt *s;
	memset(counts, 0, sizeof *counts * (size_t)nhours);
	if (sqlite3_prepare_v2(sc->db,
			       "SELECT hour,n FROM campaign_hour WHERE campaign_id=? AND hour>=?"
			       " AND hour<?",
			       -1, &s, NULL) != SQLITE_OK)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_int64(s, 2, from_hour);
	sqlite3_bind_int64(s, 3, from_hour + nhours);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(s, 0) - from_hour;
		if (h >= 0 && h < nhours)
			counts[h] += (long)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_campaign_reports(struct store_campaign *sc, int64_t cid, campaign_report_cb cb, void *ctx)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(sc->db,
			       "SELECT id,message_sha,from_addr,subject,msg_date FROM report"
			       " WHERE " REPORTS_OF("?1") " ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, cid);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(ctx, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
		       (const char *)sqlite3_column_text(s, 2),
		       (const char *)sqlite3_column_text(s, 3),
		       (const char *)sqlite3_column_text(s, 4)))
			break;
	int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	sqlite3_finalize(s);
	return ok ? STORE_OK : STORE_ERR;
}

int store_campaign_report_sha(struct store_campaign *sc, int64_t report_id, char sha[65],
			      int64_t *cid)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(sc->db, "SELECT message_sha, campaign_id FROM report WHERE id=?", -1,
			       &s, NULL) != SQLITE_OK)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, report_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);
		snprintf(sha, 65, "%s", m ? m : "");
		*cid = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? STORE_OK : STORE_DUP;
}

int store_campaign_index_state(struct store_campaign *sc, int *has_keys, int *has_pins)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(sc->db,
			       "SELECT EXISTS(SELECT 1 FROM campaign_key)"
			       " OR EXISTS(SELECT 1 FROM campaign_key_recent)"
			       " OR EXISTS(SELECT 1 FROM campaign),"
			       " EXISTS(SELECT 1 FROM campaign_pin)",
			       -1, &s, NULL) != SQLITE_OK)
		return STORE_ERR;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*has_keys = sqlite3_column_int(s, 0);
		*has_pins = sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? STORE_OK : STORE_ERR;
}
