/*
 * store_sqlite.c - the embedded SQLite backend of store.h.
 *
 * WAL journal with synchronous=FULL: a report acknowledged by ingest must
 * survive power loss (RELIABILITY.md 4.0; NORMAL may lose the last
 * commits). Raw messages are zstd-compressed and content-addressed by
 * SHA-256, so every result can be recomputed from what is kept.
 *
 * The compressed raw bytes live in an append-only pack next to the
 * database (PATH-raw, like SQLite's PATH-wal): inside the B-tree they were
 * written twice (WAL, then checkpoint) and cost a third of ingest time
 * (bench/README.md). The `raw` row keeps the offset. The pack is fsync'd
 * before the transaction that points into it commits, so a committed row
 * never names bytes that are not on disk; bytes of a rolled-back or
 * crashed transaction stay unreferenced in the pack (they cost only space).
 * Appends happen only inside a write transaction, which SQLite grants to
 * one process at a time. Reads check the SHA-256 of what they return.
 * In-memory stores (":memory:") keep the bytes in the table.
 * All SQL uses bound parameters; no statement is built from input.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "common/keyfilter.h"
#include "common/limits.h"
#include "common/xalloc.h"
#include "extract/attach.h"
#include "extract/result.h"
#include "store/store.h"

/* the two-level maps of core step 6 (see MAP_MERGE_REPORTS) */
enum { MAP_SUB, MAP_REP, MAP_IND, MAP_LINK, MAP_N };

struct store {
	sqlite3 *db;
	char err[512];
	int own_err; /* err says more than SQLite's last message (the pack) */
	sqlite3_stmt *ins_raw, *ins_sub, *find_sub, *ins_rep, *ins_ind, *find_ind, *ins_link;
	struct store_packer *packer; /* for store_add_submission */
	char *pack_path;	     /* PATH-raw; NULL keeps raw bytes in the table */
	int pack_fd;		     /* -1 until first used */
	int pack_dirty;		     /* appended in this transaction: fsync first */
	int64_t pack_end;	     /* where the next append goes; -1: ask the file */
	int lookup_sized;	     /* store_has_submission() set a small cache */
	struct keyfilter pre;	     /* store_has_submission's filter (see there) */
	long pre_lookups, pre_due;   /* its look-ups since it was read; read again at */
	sqlite3_stmt *map_add[MAP_N];
	int64_t map_recent; /* reports added since the last move began (at first, the
			     * reports in report_key_recent); -1: not counted yet */
	int64_t map_merge;  /* begin a move at this many */
	int map_slices;	    /* a move takes this many commits */
	int map_slice;	    /* the next slice of the move under way; -1: none */
	int64_t map_lo[MAP_N], map_hi[MAP_N]; /* recent keys when the move began */
	/* Filters of the submission and indicator keys (filt[MAP_SUB] and
	 * filt[MAP_IND]; see key_absent): used only inside store_begin ..
	 * store_commit/store_rollback, where store_begin has checked that
	 * nobody else wrote since they were read. */
	struct keyfilter filt[MAP_N];
	long filter_after;    /* store_set_filter_after() (0: from the store's size) */
	long filter_due;      /* look-ups before they are read (0: not worked out yet) */
	long lookups;	      /* look-ups since they were last dropped */
	int64_t filt_version; /* data_version when they were last known complete */
	long filt_keys;	      /* committed submissions + indicators then (store_total) */
	long filter_reads;    /* times they were read (store_filter_reads) */
	int in_write;	      /* between store_begin and store_commit/store_rollback */
	/* SHA-256 fetched once: EVP_sha256() made OpenSSL 3 fetch the
	 * implementation again for every indicator key, half the cost of
	 * hashing a short value (perf, bench/README-campaigns.md, "twelfth
	 * pass") */
	EVP_MD *sha256;
	EVP_MD_CTX *md_ctx;
	struct store_counts added; /* rows this transaction added; see core step 7 */
	sqlite3_stmt *add_total;   /* made on first use */
};

/* The pack starts with this line, so a stray file is recognised. */
#define PACK_MAGIC "shield-raw-pack v1\n"

/* Core schema, one entry per version; never edit an applied step, append. */
static const char *const core_steps[] = {
    /* 1 */
    "CREATE TABLE raw (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL,"
    " stored_size INTEGER NOT NULL, codec TEXT NOT NULL, data BLOB NOT NULL);"
    "CREATE TABLE submission (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE"
    " REFERENCES raw(sha256), source TEXT NOT NULL, source_index INTEGER NOT NULL,"
    " size INTEGER NOT NULL, received_at TEXT NOT NULL);"
    "CREATE TABLE report (id INTEGER PRIMARY KEY, submission_id INTEGER NOT NULL"
    " REFERENCES submission(id), suspect_index INTEGER NOT NULL, message_sha TEXT NOT NULL,"
    " forward TEXT NOT NULL, reporter TEXT, from_addr TEXT, subject TEXT, msg_date TEXT,"
    " origin_ip TEXT, created_at TEXT NOT NULL, result TEXT NOT NULL,"
    " UNIQUE(submission_id, suspect_index));"
    "CREATE INDEX report_message ON report(message_sha);"
    "CREATE TABLE indicator (id INTEGER PRIMARY KEY, type TEXT NOT NULL, value TEXT NOT NULL,"
    " first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, reports INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE(type, value));"
    "CREATE TABLE report_indicator (report_id INTEGER NOT NULL REFERENCES report(id),"
    " indicator_id INTEGER NOT NULL REFERENCES indicator(id), found_in TEXT,"
    " PRIMARY KEY(report_id, indicator_id)) WITHOUT ROWID;"
    "CREATE INDEX report_indicator_ind ON report_indicator(indicator_id);",
    /* 2: verdicts and campaigns (issues 3 and 4) */
    "ALTER TABLE report ADD COLUMN verdict TEXT;"
    "ALTER TABLE report ADD COLUMN score INTEGER;"
    "ALTER TABLE report ADD COLUMN brand TEXT;"
    "ALTER TABLE report ADD COLUMN campaign_id INTEGER;"
    "CREATE INDEX report_campaign ON report(campaign_id);"
    "CREATE INDEX report_verdict ON report(verdict);",
    /* 3: raw bytes in the pack file (NULL: in `data`, as before) */
    "ALTER TABLE raw ADD COLUMN pack_offset INTEGER;",
    /* 4: small keys for the look-ups made per report. Random inserts into
     * the B-trees keyed by 64 hex digits (raw, submission, report_message)
     * or by a whole URL (indicator) dirtied one leaf per key in every
     * commit, and the leaves multiplied as the store grew: 60% of the
     * pages written per report at 50,000 reports (bench/README-campaigns.md,
     * "fifth pass"). Now:
     * - submission is found by the first 16 hex digits of its SHA-256 (an
     *   index on substr(), a quarter of the size); the query compares the
     *   whole hash too, written `+sha256=?1`: SQLite's constant
     *   propagation turns `sha256=?1` into a rewrite of substr(sha256, ..)
     *   as substr(?1, ..), which no longer matches the index, and it
     *   scanned the table. Its UNIQUE constraint is kept by the one writer
     *   that looks before inserting (store_add_submission, in a BEGIN
     *   IMMEDIATE transaction);
     * - raw shares its submission's id, so it needs no index of its own
     *   (rows no submission names, which no version wrote, keep minus their
     *   old rowid);
     * - report_message indexes the same 16-digit prefix;
     * - indicator is found by `key`, 64 bits of SHA-256(type NUL value)
     *   (shield_indicator_key(), registered by store_open), compared in
     *   full after; a cryptographic hash, so reported values cannot be
     *   made to collide cheaply (one B-tree entry per value either way);
     * - indicator no longer keeps last_seen and reports: each new link
     *   updated them in place, a random page of a growing table per
     *   indicator per report (a fifth of the pages written). Both follow
     *   from report_indicator (its index on indicator_id holds the report
     *   ids in order) and are worked out when indicators are listed.
     * raw is rebuilt first, while the old submission's UNIQUE index can
     * still join the two. Rebuilding a table needs foreign keys off:
     * store_migrate does so and runs foreign_key_check before it commits. */
    "CREATE TABLE raw4 (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
    " stored_size INTEGER NOT NULL, codec TEXT NOT NULL, data BLOB NOT NULL,"
    " pack_offset INTEGER);"
    "INSERT INTO raw4 SELECT coalesce(s.id, -r.rowid), r.sha256, r.size, r.stored_size,"
    " r.codec, r.data, r.pack_offset FROM raw r LEFT JOIN submission s ON s.sha256 = r.sha256;"
    "DROP TABLE raw;"
    "ALTER TABLE raw4 RENAME TO raw;"
    "CREATE TABLE submission4 (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL,"
    " source TEXT NOT NULL, source_index INTEGER NOT NULL, size INTEGER NOT NULL,"
    " received_at TEXT NOT NULL);"
    "INSERT INTO submission4 SELECT id, sha256, source, source_index, size, received_at"
    " FROM submission;"
    "DROP TABLE submission;"
    "ALTER TABLE submission4 RENAME TO submission;"
    "CREATE INDEX submission_sha ON submission(substr(sha256, 1, 16));"
    "DROP INDEX report_message;"
    "CREATE INDEX report_message ON report(substr(message_sha, 1, 16));"
    "CREATE TABLE indicator4 (id INTEGER PRIMARY KEY, key INTEGER NOT NULL,"
    " type TEXT NOT NULL, value TEXT NOT NULL, first_seen TEXT NOT NULL);"
    "INSERT INTO indicator4 SELECT id, shield_indicator_key(type, value), type, value,"
    " first_seen FROM indicator;"
    "DROP TABLE indicator;"
    "ALTER TABLE indicator4 RENAME TO indicator;"
    "CREATE INDEX indicator_key ON indicator(key);",
    /* 5: report_campaign was written at a random position per report
     * (the report's campaign among all of them): about a ninth of the
     * pages clustering added to a commit. A campaign's reports are found
     * through its members instead (campaign_member_c, then
     * report_message; store_campaign.c), and the rare analyst moves go
     * the same way. */
    "DROP INDEX IF EXISTS report_campaign;",
    /* 6: the four look-ups still keyed at random (a hash or an indicator
     * id) become two-level maps, (k, id) pairs in a WITHOUT ROWID table
     * and a small `_recent` twin that takes every new pair; see
     * MAP_MERGE_REPORTS. Their indexes wrote 48% of the pages of adding
     * 10,000 reports to 50,000, and the share grew with the store
     * (bench/README-campaigns.md, "eighth pass"):
     * - submission_key: first 16 hex digits of submission.sha256 -> id;
     * - report_key: the same of report.message_sha -> report id;
     * - indicator_key: indicator.key -> indicator id;
     * - indicator_report: indicator id -> report id (report_indicator's
     *   index on indicator_id). */
    "DROP INDEX submission_sha;"
    "DROP INDEX report_message;"
    "DROP INDEX indicator_key;"
    "DROP INDEX report_indicator_ind;"
    "CREATE TABLE submission_key (k INTEGER NOT NULL, id INTEGER NOT NULL,"
    " PRIMARY KEY(k, id)) WITHOUT ROWID;"
    "CREATE TABLE submission_key_recent (k INTEGER NOT NULL, id INTEGER NOT NULL,"
    " PRIMARY KEY(k, id)) WITHOUT ROWID;"
    "CREATE TABLE report_key (k INTEGER NOT NULL, id INTEGER NOT NULL,"
    " PRIMARY KEY(k, id)) WITHOUT ROWID;"
    "CREATE TABLE report_key_recent (k INTEGER NOT NULL, id INTEGER NOT NULL,"
    " PRIMARY KEY(k, id)) WITHOUT ROWID;"
    "CREATE TABLE indicator_key (k INTEGER NOT NULL, id INTEGER NOT NULL,"
    " PRIMARY KEY(k, id)) WITHOUT ROWID;"
    "CREATE TABLE indicator_key_recent (k INTEGER NOT NULL, id INTEGER NOT NULL,"
    " PRIMARY KEY(k, id)) WITHOUT ROWID;"
    "CREATE TABLE indicator_report (k INTEGER NOT NULL, id INTEGER NOT NULL,"
    " PRIMARY KEY(k, id)) WITHOUT ROWID;"
    "CREATE TABLE indicator_report_recent (k INTEGER NOT NULL, id INTEGER NOT NULL,"
    " PRIMARY KEY(k, id)) WITHOUT ROWID;"
    "INSERT INTO submission_key SELECT shield_hex_key(sha256), id FROM submission ORDER BY 1, 2;"
    "INSERT INTO report_key SELECT shield_hex_key(message_sha), id FROM report ORDER BY 1, 2;"
    "INSERT INTO indicator_key SELECT key, id FROM indicator ORDER BY 1, 2;"
    "INSERT INTO indicator_report SELECT indicator_id, report_id FROM report_indicator"
    " ORDER BY 1, 2;",
    /* 7: the totals `shield ingest` prints after every run. Counted with
     * count(*) and sum(size), they were a pass over four tables per run:
     * 122 M of the 290 M instructions of ingesting one message into a
     * 110,000-report store (a pipe from Postfix runs one message per
     * run), and growing with the store (bench/README-campaigns.md, "tenth
     * pass"). The four inserts of this file are the only writers of those
     * tables; they count what they add (struct store, `added`) and
     * store_commit adds it here in the same transaction. Triggers would
     * keep the totals whoever writes, but cost 5.7% of the instructions of
     * an ingest (77,000 a report), for tables nothing else writes. */
    "CREATE TABLE store_total (name TEXT PRIMARY KEY, n INTEGER NOT NULL,"
    " bytes INTEGER NOT NULL, stored_bytes INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO store_total SELECT 'submission', count(*), 0, 0 FROM submission;"
    "INSERT INTO store_total SELECT 'report', count(*), 0, 0 FROM report;"
    "INSERT INTO store_total SELECT 'indicator', count(*), 0, 0 FROM indicator;"
    "INSERT INTO store_total SELECT 'raw', count(*), coalesce(sum(size), 0),"
    " coalesce(sum(stored_size), 0) FROM raw;",
};

/* The maps of core step 6 have two levels, as a log-structured merge tree
 * has (campaign_key does the same, store_campaign.c). Their keys are
 * hashes or ids of old indicators, so the pairs of one commit (a second
 * of reports) land on random leaves: written into one B-tree, each commit
 * rewrote nearly every leaf of it, more leaves the larger the store, and
 * the cost per report grew with the store. New pairs go to the `_recent`
 * tables, whose leaves are few and stay in the page cache; once
 * MAP_MERGE_REPORTS reports have been added since the last move began,
 * the next MAP_MERGE_SLICES commits move all four into the large maps,
 * one range of keys each, in key order, writing each of their leaves
 * once. Moved in one commit, the maps of a 150,000-report store (about
 * 10,000 leaves) made that commit 0.6 s longer, and every report of that
 * second waited for it (bench/README-campaigns.md, "eighth pass").
 * Look-ups read both levels (STORE_KEYED, store.h). */
#define MAP_MERGE_REPORTS 32768
#define MAP_MERGE_SLICES 8

static const char *const map_add_sql[MAP_N] = {
    [MAP_SUB] = "INSERT OR IGNORE INTO submission_key_recent(k,id) VALUES(?,?)",
    [MAP_REP] = "INSERT OR IGNORE INTO report_key_recent(k,id) VALUES(?,?)",
    [MAP_IND] = "INSERT OR IGNORE INTO indicator_key_recent(k,id) VALUES(?,?)",
    [MAP_LINK] = "INSERT OR IGNORE INTO indicator_report_recent(k,id) VALUES(?,?)",
};

static int fail(struct store *st, const char *what)
{
	snprintf(st->err, sizeof st->err, "%s: %s", what, sqlite3_errmsg(st->db));
	st->own_err = 0;
	return STORE_ERR;
}

int store_error(struct store *st, const char *msg)
{
	snprintf(st->err, sizeof st->err, "%s", msg);
	st->own_err = 1;
	return STORE_ERR;
}

const char *store_own_error(struct store *st)
{
	return st->own_err ? st->err : NULL;
}

const char *store_errmsg(struct store *st)
{
	return st->err;
}

struct sqlite3 *store_sqlite(struct store *st)
{
	return st->db;
}

static int exec(struct store *st, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(st->err, sizeof st->err, "%s", msg ? msg : "sqlite error");
		sqlite3_free(msg);
		return STORE_ERR;
	}
	return STORE_OK;
}

static void filters_drop(struct store *st)
{
	for (int m = 0; m < MAP_N; m++)
		keyfilter_free(&st->filt[m]);
	st->lookups = 0;
	st->filter_due = 0; /* the store may have grown: worked out again */
}

/* filters_sync - inside BEGIN IMMEDIATE, so nobody can commit before this
 * transaction does: drop the filters if another connection has added keys
 * since they were read (they would lack them; this connection's own
 * commits do not change data_version), or if they are full. */
static int filters_sync(struct store *st)
{
	if (!keyfilter_built(&st->filt[MAP_SUB]) && !keyfilter_built(&st->filt[MAP_IND]))
		return STORE_OK;
	if (keyfilter_full(&st->filt[MAP_SUB]) || keyfilter_full(&st->filt[MAP_IND])) {
		filters_drop(st);
		return STORE_OK;
	}
	int64_t v = store_data_version(st);
	if (v < 0)
		return STORE_ERR;
	if (v == st->filt_version)
		return STORE_OK;
	/* Another connection committed. Keys are only added, and only with a
	 * submission or an indicator row, which store_total counts (nothing
	 * deletes either): if neither count moved, the other writer added no
	 * key (an analyst's merge, a blocklist run, a contact import) and the
	 * filters stay, so a resident ingest does not read every key again
	 * for each of an analyst's commands. */
	struct store_counts c;
	if (store_counts(st, &c) < 0)
		return STORE_ERR;
	if (c.submissions + c.indicators == st->filt_keys)
		st->filt_version = v;
	else
		filters_drop(st);
	return STORE_OK;
}

int store_begin(struct store *st)
{
	st->pack_end = -1; /* another process may have appended since */
	st->pack_dirty = 0;
	st->own_err = 0;
	memset(&st->added, 0, sizeof st->added);
	st->in_write = 0;
	if (exec(st, "BEGIN IMMEDIATE") < 0)
		return STORE_ERR;
	if (filters_sync(st) < 0) {
		exec(st, "ROLLBACK");
		return STORE_ERR;
	}
	st->in_write = 1;
	return STORE_OK;
}

/* pack_sync - make this transaction's appends durable before it commits. */
static int pack_sync(struct store *st)
{
	if (!st->pack_dirty)
		return STORE_OK;
	if (fdatasync(st->pack_fd) != 0) {
		snprintf(st->err, sizeof st->err, "cannot sync '%s': %s", st->pack_path,
			 strerror(errno));
		return STORE_ERR;
	}
	st->pack_dirty = 0;
	return STORE_OK;
}

static int map_merge(struct store *st);

static int step_done(struct store *st, sqlite3_stmt *s, const char *what);

/* add_totals - add the rows counted in st->added to store_total (core step
 * 7), in the open transaction or, outside one, as a transaction of its
 * own right after the insert that committed itself. */
static int add_totals(struct store *st)
{
	const struct store_counts *a = &st->added;
	const struct {
		const char *name;
		int64_t n, bytes, stored;
	} row[] = {{"submission", a->submissions, 0, 0},
		   {"report", a->reports, 0, 0},
		   {"indicator", a->indicators, 0, 0},
		   {"raw", a->raw_blobs, a->raw_bytes, a->raw_stored_bytes}};
	if (!st->add_total &&
	    sqlite3_prepare_v2(st->db,
			       "UPDATE store_total SET n = n + ?2, bytes = bytes + ?3,"
			       " stored_bytes = stored_bytes + ?4 WHERE name = ?1",
			       -1, &st->add_total, NULL) != SQLITE_OK)
		return fail(st, "counting the store");
	for (size_t i = 0; i < sizeof row / sizeof *row; i++) {
		if (!row[i].n && !row[i].bytes)
			continue;
		sqlite3_stmt *s = st->add_total;
		sqlite3_bind_text(s, 1, row[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, row[i].n);
		sqlite3_bind_int64(s, 3, row[i].bytes);
		sqlite3_bind_int64(s, 4, row[i].stored);
		if (step_done(st, s, "counting the store") < 0)
			return STORE_ERR;
	}
	memset(&st->added, 0, sizeof st->added);
	return STORE_OK;
}

/* added - after an insert: outside a transaction, it has committed, and
 * so must its count. */
static int added(struct store *st)
{
	return sqlite3_get_autocommit(st->db) ? add_totals(st) : STORE_OK;
}

int store_commit(struct store *st)
{
	st->in_write = 0;
	if ((st->map_slice >= 0 || st->map_recent >= st->map_merge) && map_merge(st) < 0)
		return STORE_ERR;
	long keys = st->added.submissions + st->added.indicators; /* add_totals zeroes them */
	if (add_totals(st) < 0)
		return STORE_ERR;
	if (pack_sync(st) < 0)
		return STORE_ERR;
	if (exec(st, "COMMIT") < 0)
		return STORE_ERR;
	st->filt_keys += keys; /* what filters_sync will find in store_total */
	return STORE_OK;
}

int store_rollback(struct store *st)
{
	st->in_write = 0;
	st->pack_dirty = 0;
	st->pack_end = -1;
	st->map_recent = -1; /* count again: the rolled-back pairs are gone */
	st->map_slice = -1;  /* and the slice moved in it is back */
	memset(&st->added, 0, sizeof st->added);
	return exec(st, "ROLLBACK");
}

/* migrate_steps - store_migrate's transaction: steps have..n-1, the check,
 * the new version number. Rolls back and says why on failure. */
static int migrate_steps(struct store *st, const char *component, const char *const *steps,
			 int have, int n)
{
	if (store_begin(st) < 0)
		return STORE_ERR;
	for (int v = have; v < n; v++) {
		if (exec(st, steps[v]) < 0) {
			char keep[512];
			snprintf(keep, sizeof keep, "%s", st->err);
			store_rollback(st);
			snprintf(st->err, sizeof st->err, "migrating '%s' to version %d: %s",
				 component, v + 1, keep);
			return STORE_ERR;
		}
	}
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, "PRAGMA foreign_key_check", -1, &q, NULL) != SQLITE_OK) {
		store_rollback(st);
		return fail(st, "migrate");
	}
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		char table[128];
		snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(q, 0));
		long long row = sqlite3_column_int64(q, 1);
		sqlite3_finalize(q);
		store_rollback(st);
		snprintf(st->err, sizeof st->err,
			 "migrating '%s' to version %d: row %lld of %s names a row that is gone; "
			 "the store is left at version %d",
			 component, n, row, table, have);
		return STORE_ERR;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		store_rollback(st);
		return fail(st, "migrate");
	}
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO schema_version VALUES (?, ?)", -1,
			       &q, NULL) != SQLITE_OK) {
		store_rollback(st);
		return fail(st, "migrate");
	}
	sqlite3_bind_text(q, 1, component, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, n);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		store_rollback(st);
		return fail(st, "migrate");
	}
	return store_commit(st);
}

int store_migrate(struct store *st, const char *component, const char *const *steps, int n)
{
	sqlite3_stmt *q = NULL;
	int have = 0;
	if (exec(st, "CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY,"
		     " version INTEGER NOT NULL)") < 0)
		return STORE_ERR;
	if (sqlite3_prepare_v2(st->db, "SELECT version FROM schema_version WHERE component=?", -1,
			       &q, NULL) != SQLITE_OK)
		return fail(st, "migrate");
	sqlite3_bind_text(q, 1, component, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		have = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (have > n) {
		snprintf(st->err, sizeof st->err,
			 "store schema '%s' is version %d, newer than this shield (%d)", component,
			 have, n);
		return STORE_ERR;
	}
	if (have == n)
		return STORE_OK;
	/* Every pending step of the component in one transaction: a new
	 * store is made with one commit (a sync) per component instead of one
	 * per step (`notify plan` on a new store: 28 -> 24 ms), and an
	 * upgrade that fails part-way leaves the old version whole.
	 * Foreign keys are off meanwhile, as SQLite's way to change a table
	 * asks (a step may rebuild one: DROP TABLE of a parent would delete
	 * its children's rows' parents); the pragma is a no-op inside a
	 * transaction, so it is set before BEGIN, and foreign_key_check must
	 * find nothing before the commit. */
	if (exec(st, "PRAGMA foreign_keys=OFF") < 0)
		return STORE_ERR;
	int rc = migrate_steps(st, component, steps, have, n);
	if (exec(st, "PRAGMA foreign_keys=ON") < 0)
		return STORE_ERR;
	return rc;
}

/* indicator_key - 64 bits of SHA-256(type NUL value): the indicator
 * table's look-up key (core step 4). Stored in every row, so it must never
 * change. */
static int64_t indicator_key(struct store *st, const char *type, const char *value)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!EVP_DigestInit_ex(st->md_ctx, st->sha256, NULL) ||
	    !EVP_DigestUpdate(st->md_ctx, type, strlen(type) + 1) ||
	    !EVP_DigestUpdate(st->md_ctx, value, strlen(value)) ||
	    !EVP_DigestFinal_ex(st->md_ctx, md, &n) || n < 8)
		abort(); /* SHA-256 in memory cannot fail but for a broken library */
	uint64_t k = 0;
	for (int i = 0; i < 8; i++)
		k = k << 8 | md[i]; /* the first 16 hex digits, as before */
	return (int64_t)k;
}

/* shield_indicator_key(type, value) in SQL, for the migration that fills
 * the key of indicators stored before it. */
static void sql_indicator_key(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *type = (const char *)sqlite3_value_text(argv[0]);
	const char *value = (const char *)sqlite3_value_text(argv[1]);
	if (!type || !value) {
		sqlite3_result_null(cx);
		return;
	}
	sqlite3_result_int64(cx, indicator_key(sqlite3_user_data(cx), type, value));
}

int64_t store_hex_key(const char *hex)
{
	uint64_t v = 0;
	int end = !hex;
	for (int i = 0; i < 16; i++) {
		int c = end ? 0 : (unsigned char)hex[i], d = 0;
		if (!c)
			end = 1;
		else if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		v = v << 4 | (uint64_t)d;
	}
	return (int64_t)v;
}

/* shield_hex_key(text) in SQL: store_hex_key(), for the maps of core
 * step 6 and the queries that read them (STORE_KEYED, store.h). */
static void sql_hex_key(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *hex = (const char *)sqlite3_value_text(argv[0]);
	if (!hex)
		sqlite3_result_null(cx);
	else
		sqlite3_result_int64(cx, store_hex_key(hex));
}

void store_set_map_merge(struct store *st, long reports, int slices)
{
	st->map_merge = reports > 0 ? reports : MAP_MERGE_REPORTS;
	st->map_slices = slices > 0 ? slices : MAP_MERGE_SLICES;
}

static int prep(struct store *st, sqlite3_stmt **s, const char *sql)
{
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL) != SQLITE_OK)
		return fail(st, "prepare");
	return STORE_OK;
}

struct store *store_open(const char *path, char **err)
{
	struct store *st = xcalloc(1, sizeof(*st));
	st->pack_fd = -1;
	st->pack_end = -1;
	st->map_recent = -1;
	st->map_merge = MAP_MERGE_REPORTS;
	st->map_slices = MAP_MERGE_SLICES;
	st->map_slice = -1;
	st->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	st->md_ctx = EVP_MD_CTX_new();
	if (!st->sha256 || !st->md_ctx) {
		*err = xstrdup("cannot open store: OpenSSL has no SHA-256");
		store_close(st);
		return NULL;
	}
	if (*path && strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0) {
		size_t n = strlen(path) + 5;
		st->pack_path = xmalloc(n);
		snprintf(st->pack_path, n, "%s-raw", path);
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		char tmp[600];
		snprintf(tmp, sizeof tmp, "cannot open store '%s': %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		*err = xstrdup(tmp);
		store_close(st);
		return NULL;
	}
	sqlite3_busy_timeout(st->db, 10000);
	/* wal_autocheckpoint: SQLite's default (1,000 pages, 4 MB) is about
	 * what one ingest commit writes, so nearly every commit was followed
	 * by a checkpoint copying the same hot pages (index interior and
	 * random-insert leaves, campaign rows) into the database again, plus
	 * an fsync of it. At 10,000 pages (a WAL of about 40 MB; more only
	 * while one transaction is larger or a reader holds an old snapshot;
	 * removed when the last connection closes) they are copied once per
	 * several commits: about half the database-file I/O on 10,000
	 * generated reports (bench/README-campaigns.md, 2026-11-23).
	 * cache_size 8 MiB (SQLite's default is 2 MiB): the look-up indexes
	 * written at random positions per report (core step 4, campaign_key)
	 * are read back at random too, and with 2 MiB most of those reads were
	 * pread() calls. 32 MiB took another 8% off adding 10,000 reports to
	 * 50,000, but an ingest of the 1 GiB mbox then peaked at 113 MiB, over
	 * its 100 MB budget (16 MiB: 97 MiB with two threads; 8 MiB: 90 MiB;
	 * bench/README-campaigns.md, "fifth pass"). Pages are allocated as
	 * read, so a short command stays small. */
	if (exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
		     " PRAGMA wal_autocheckpoint=10000; PRAGMA cache_size=-8192;") < 0 ||
	    (sqlite3_create_function(st->db, "shield_indicator_key", 2,
				     SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, st,
				     sql_indicator_key, NULL, NULL) != SQLITE_OK &&
	     fail(st, "shield_indicator_key") < 0) ||
	    (sqlite3_create_function(st->db, "shield_hex_key", 1,
				     SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
				     sql_hex_key, NULL, NULL) != SQLITE_OK &&
	     fail(st, "shield_hex_key") < 0) ||
	    store_migrate(st, "core", core_steps, (int)(sizeof core_steps / sizeof *core_steps)) <
		0 ||
	    prep(st, &st->ins_raw,
		 "INSERT INTO raw(id,sha256,size,stored_size,codec,data,pack_offset)"
		 " VALUES(?7,?1,?2,?3,?4,?5,?6)") < 0 ||
	    prep(st, &st->ins_sub,
		 "INSERT INTO submission(sha256,source,source_index,size,received_at)"
		 " VALUES(?,?,?,?,?)") < 0 ||
	    prep(st, &st->find_sub,
		 "SELECT s.id FROM " STORE_KEYED(
		     "submission_key",
		     "shield_hex_key(?1)") " AS x"
					   " JOIN submission s ON s.id=x.id WHERE s.sha256=?1") <
		0 ||
	    prep(st, &st->ins_rep,
		 "INSERT INTO report(submission_id,suspect_index,message_sha,forward,reporter,"
		 "from_addr,subject,msg_date,origin_ip,created_at,result,verdict,score,brand,"
		 "campaign_id) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)") < 0 ||
	    prep(st, &st->find_ind,
		 "SELECT i.id FROM " STORE_KEYED(
		     "indicator_key", "?3") " AS x"
					    " JOIN indicator i ON i.id=x.id WHERE i.key=?3 AND "
					    "i.type=?1 AND i.value=?2") < 0 ||
	    prep(st, &st->ins_ind,
		 "INSERT INTO indicator(type,value,first_seen,key) VALUES(?,?,?,?)") < 0 ||
	    prep(st, &st->ins_link,
		 "INSERT OR IGNORE INTO report_indicator(report_id,indicator_id,found_in)"
		 " VALUES(?,?,?)") < 0 ||
	    prep(st, &st->map_add[MAP_SUB], map_add_sql[MAP_SUB]) < 0 ||
	    prep(st, &st->map_add[MAP_REP], map_add_sql[MAP_REP]) < 0 ||
	    prep(st, &st->map_add[MAP_IND], map_add_sql[MAP_IND]) < 0 ||
	    prep(st, &st->map_add[MAP_LINK], map_add_sql[MAP_LINK]) < 0) {
		char tmp[800];
		snprintf(tmp, sizeof tmp, "cannot open store '%s': %s", path, st->err);
		*err = xstrdup(tmp);
		store_close(st);
		return NULL;
	}
	return st;
}

struct store *store_close(struct store *st)
{
	if (!st)
		return NULL;
	sqlite3_stmt *all[] = {st->ins_raw, st->ins_sub,  st->find_sub, st->ins_rep,
			       st->ins_ind, st->find_ind, st->ins_link, st->add_total};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		sqlite3_finalize(all[i]);
	for (int m = 0; m < MAP_N; m++) {
		sqlite3_finalize(st->map_add[m]);
		keyfilter_free(&st->filt[m]);
	}
	keyfilter_free(&st->pre);
	sqlite3_close_v2(st->db);
	EVP_MD_CTX_free(st->md_ctx);
	EVP_MD_free(st->sha256);
	store_packer_free(st->packer);
	if (st->pack_fd >= 0)
		close(st->pack_fd);
	free(st->pack_path);
	free(st);
	return NULL;
}

static void now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(st, what);
	return STORE_OK;
}

/* map_add - a new (k, id) pair into the recent level of map m. */
static int map_add(struct store *st, int m, int64_t k, int64_t id)
{
	keyfilter_add(&st->filt[m], (uint64_t)k); /* every writer of the maps comes here */
	sqlite3_stmt *s = st->map_add[m];
	sqlite3_bind_int64(s, 1, k);
	sqlite3_bind_int64(s, 2, id);
	return step_done(st, s, "storing a look-up key");
}

static const char *const map_names[MAP_N] = {"submission_key", "report_key", "indicator_key",
					     "indicator_report"};

/* map_move - move the pairs of map m with keys lo..hi from its recent
 * level into its large level, in key order. */
static int map_move(struct store *st, int m, int64_t lo, int64_t hi)
{
	for (int del = 0; del < 2; del++) {
		char sql[256];
		if (del)
			snprintf(sql, sizeof sql, "DELETE FROM %s_recent WHERE k BETWEEN ?1 AND ?2",
				 map_names[m]);
		else
			snprintf(sql, sizeof sql,
				 "INSERT OR IGNORE INTO %s(k,id) SELECT k, id FROM %s_recent"
				 " WHERE k BETWEEN ?1 AND ?2 ORDER BY k, id",
				 map_names[m], map_names[m]);
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
			return fail(st, "moving look-up keys");
		sqlite3_bind_int64(q, 1, lo);
		sqlite3_bind_int64(q, 2, hi);
		int rc = sqlite3_step(q);
		sqlite3_finalize(q);
		if (rc != SQLITE_DONE)
			return fail(st, "moving look-up keys");
	}
	return STORE_OK;
}

/* slice_start - the first key of slice j when [lo, hi] is cut in n */
static int64_t slice_start(int64_t lo, int64_t hi, int j, int n)
{
	uint64_t span = (uint64_t)hi - (uint64_t)lo, uj = (uint64_t)j, un = (uint64_t)n;
	return (int64_t)((uint64_t)lo + span / un * uj + span % un * uj / un);
}

/* map_merge - inside the caller's transaction, move the next slice of
 * every map's recent level into its large level, in key order; the first
 * slice of a move notes the range of keys to cut. Keys added meanwhile
 * move with their slice or wait for the next move. */
static int map_merge(struct store *st)
{
	if (st->map_slice < 0) {
		for (int m = 0; m < MAP_N; m++) {
			char sql[128];
			snprintf(sql, sizeof sql, "SELECT min(k), max(k) FROM %s_recent",
				 map_names[m]);
			sqlite3_stmt *q;
			if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
				return fail(st, "moving look-up keys");
			st->map_lo[m] = 0;
			st->map_hi[m] = 0;
			if (sqlite3_step(q) == SQLITE_ROW &&
			    sqlite3_column_type(q, 0) == SQLITE_INTEGER) {
				st->map_lo[m] = sqlite3_column_int64(q, 0);
				st->map_hi[m] = sqlite3_column_int64(q, 1);
			}
			sqlite3_finalize(q);
		}
		st->map_slice = 0;
		st->map_recent = 0;
	}
	int j = st->map_slice, n = st->map_slices;
	for (int m = 0; m < MAP_N; m++) {
		/* the first and last slices are open-ended */
		int64_t lo = j == 0 ? INT64_MIN : slice_start(st->map_lo[m], st->map_hi[m], j, n);
		int64_t hi =
		    j == n - 1
			? INT64_MAX
			: (int64_t)((uint64_t)slice_start(st->map_lo[m], st->map_hi[m], j + 1, n) -
				    1);
		if (lo > hi)
			continue;
		if (map_move(st, m, lo, hi) < 0)
			return STORE_ERR;
	}
	st->map_slice = j + 1 < n ? j + 1 : -1;
	return STORE_OK;
}

struct store_packer {
	ZSTD_CCtx *cctx;
	void *buf;
	size_t cap;
};

struct store_packer *store_packer_new(void)
{
	struct store_packer *p = xcalloc(1, sizeof *p);
	p->cctx = ZSTD_createCCtx(); /* NULL only when out of memory: packs as "none" */
	return p;
}

struct store_packer *store_packer_free(struct store_packer *p)
{
	if (p) {
		ZSTD_freeCCtx(p->cctx);
		free(p->buf);
		free(p);
	}
	return NULL;
}

void store_pack(struct store_packer *p, const void *raw, size_t len, struct store_packed *out)
{
	/* Level 1: mail is mostly base64 and text; level 1 keeps ~2x on the
	 * phishing corpus at several hundred MB/s, where level 3 cost 15% of
	 * ingest time for a few percent of space (bench/README.md). The
	 * context is reused: ZSTD_compress() would allocate and clear its
	 * tables for every message. */
	size_t cap = ZSTD_compressBound(len);
	if (!p->cctx || ZSTD_isError(cap)) {
		out->codec = "none";
		out->data = raw;
		out->len = len;
		return;
	}
	/* keep the buffer between messages, but not one sized for a rare big
	 * message: one per thread would stay allocated for the whole run */
	if (cap > p->cap || (p->cap > SHIELD_PACK_KEEP_BYTES && cap <= SHIELD_PACK_KEEP_BYTES)) {
		free(p->buf);
		p->buf = xmalloc(cap);
		p->cap = cap;
	}
	size_t zn = ZSTD_compressCCtx(p->cctx, p->buf, cap, raw, len, 1);
	if (ZSTD_isError(zn)) {
		out->codec = "none";
		out->data = raw;
		out->len = len;
	} else {
		out->codec = "zstd";
		out->data = p->buf;
		out->len = zn;
	}
}

static int pack_error(struct store *st, const char *what)
{
	snprintf(st->err, sizeof st->err, "cannot %s '%s': %s", what, st->pack_path,
		 strerror(errno));
	st->own_err = 1;
	return STORE_ERR;
}

static int pack_open(struct store *st)
{
	if (st->pack_fd >= 0)
		return STORE_OK;
	st->pack_fd = open(st->pack_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (st->pack_fd < 0)
		return pack_error(st, "open the pack");
	return STORE_OK;
}

static int write_all(int fd, const void *p, size_t n, int64_t off)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = pwrite(fd, c, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* pack_append - append bytes to the pack; *off receives where they are. */
static int pack_append(struct store *st, const void *data, size_t len, int64_t *off)
{
	if (pack_open(st) < 0)
		return STORE_ERR;
	if (st->pack_end < 0) {
		struct stat sb;
		if (fstat(st->pack_fd, &sb) != 0)
			return pack_error(st, "read the size of");
		st->pack_end = sb.st_size;
		if (st->pack_end == 0) {
			if (write_all(st->pack_fd, PACK_MAGIC, sizeof PACK_MAGIC - 1, 0) < 0)
				return pack_error(st, "write to");
			st->pack_end = sizeof PACK_MAGIC - 1;
		}
	}
	if (write_all(st->pack_fd, data, len, st->pack_end) < 0)
		return pack_error(st, "write to");
	*off = st->pack_end;
	st->pack_end += (int64_t)len;
	st->pack_dirty = 1;
	/* outside an explicit transaction the INSERT commits by itself */
	if (sqlite3_get_autocommit(st->db) && pack_sync(st) < 0)
		return STORE_ERR;
	return STORE_OK;
}

/* put_packed - the raw row of submission id (they share the id). */
static int put_packed(struct store *st, int64_t id, const char sha256[65], size_t len,
		      const struct store_packed *pk)
{
	int64_t off = -1;
	if (st->pack_path && pack_append(st, pk->data, pk->len, &off) < 0)
		return STORE_ERR;
	sqlite3_stmt *s = st->ins_raw;
	sqlite3_bind_text(s, 1, sha256, 64, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)len);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)pk->len);
	sqlite3_bind_text(s, 4, pk->codec, -1, SQLITE_STATIC);
	if (off >= 0) {
		sqlite3_bind_zeroblob(s, 5, 0);
		sqlite3_bind_int64(s, 6, off);
	} else {
		sqlite3_bind_blob64(s, 5, pk->data, pk->len, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 7, id);
	if (step_done(st, s, "storing raw message") < 0)
		return STORE_ERR;
	st->added.raw_blobs++;
	st->added.raw_bytes += (int64_t)len;
	st->added.raw_stored_bytes += (int64_t)pk->len;
	return added(st);
}

/* own_pack - pack with the store's own packer (made on first use), for
 * callers that did not pack ahead. */
static void own_pack(struct store *st, const void *raw, size_t len, struct store_packed *out)
{
	if (!st->packer)
		st->packer = store_packer_new();
	store_pack(st->packer, raw, len, out);
}

/* pack_read - len bytes of the pack at off; malloc'd. what names the
 * value in errors ("raw message <sha256>", "incident block 7"). */
static void *pack_read(struct store *st, int64_t off, size_t n, const char *what)
{
	if (!st->pack_path || pack_open(st) < 0) {
		snprintf(st->err, sizeof st->err, "%s is in a pack this store has not", what);
		st->own_err = 1;
		return NULL;
	}
	char *buf = xmalloc(n ? n : 1);
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(st->pack_fd, buf + got, n - got, (off_t)(off + (int64_t)got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < n) {
		snprintf(st->err, sizeof st->err,
			 "%s: '%s' is shorter than recorded (a store is two files: the "
			 "database and this pack beside it; copy and back up both)",
			 what, st->pack_path);
		st->own_err = 1;
		free(buf);
		return NULL;
	}
	return buf;
}

int store_pack_put(struct store *st, const void *data, size_t len, int64_t *off)
{
	if (!st->pack_path)
		return STORE_DUP;
	return pack_append(st, data, len, off);
}

void *store_pack_get(struct store *st, int64_t off, size_t len, const char *what)
{
	return pack_read(st, off, len, what);
}

int store_get_raw(struct store *st, const char *sha256, void **data, size_t *len)
{
	sqlite3_stmt *q;
	*data = NULL;
	*len = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT r.size, r.codec, r.data, r.stored_size, r.pack_offset"
			       " FROM submission s JOIN raw r ON r.id = s.id"
			       " WHERE substr(s.sha256, 1, 16)=substr(?1, 1, 16) AND +s.sha256=?1",
			       -1, &q, NULL) != SQLITE_OK)
		return fail(st, "reading raw message");
	sqlite3_bind_text(q, 1, sha256, -1, SQLITE_STATIC);
	int rc = STORE_ERR;
	if (sqlite3_step(q) == SQLITE_ROW) {
		size_t size = (size_t)sqlite3_column_int64(q, 0);
		const char *codec = (const char *)sqlite3_column_text(q, 1);
		const void *blob = sqlite3_column_blob(q, 2);
		size_t bn = (size_t)sqlite3_column_bytes(q, 2);
		void *packed = NULL;
		if (sqlite3_column_type(q, 4) != SQLITE_NULL) {
			bn = (size_t)sqlite3_column_int64(q, 3);
			char what[96];
			snprintf(what, sizeof what, "raw message %s", sha256);
			blob = packed = pack_read(st, sqlite3_column_int64(q, 4), bn, what);
		}
		void *out = blob || bn == 0 ? xmalloc(size + 1) : NULL;
		if (!out) {
			/* pack_read said why */
		} else if (codec && strcmp(codec, "zstd") == 0) {
			size_t got = ZSTD_decompress(out, size + 1, blob, bn);
			if (ZSTD_isError(got) || got != size) {
				snprintf(st->err, sizeof st->err, "raw message %s is corrupt",
					 sha256);
				free(out);
				out = NULL;
			}
		} else if (bn == size) {
			memcpy(out, blob, bn);
		} else {
			snprintf(st->err, sizeof st->err, "raw message %s is corrupt", sha256);
			free(out);
			out = NULL;
		}
		int from_pack = packed != NULL;
		free(packed);
		if (out && from_pack) {
			/* the pack is a plain file: check it still holds what was stored */
			char check[65];
			sha256_hex(out, size, check);
			if (strcmp(check, sha256) != 0) {
				snprintf(st->err, sizeof st->err,
					 "raw message %s does not match its hash in '%s'", sha256,
					 st->pack_path);
				free(out);
				out = NULL;
			}
		}
		if (out) {
			*data = out;
			*len = size;
			rc = STORE_OK;
		}
	} else {
		snprintf(st->err, sizeof st->err, "no raw message %s", sha256);
	}
	sqlite3_finalize(q);
	return rc;
}

static int fill_filter(struct store *st, const char *sql, struct keyfilter *kf);
/* every stored submission key, both levels */
static const char sub_keys_sql[] = "SELECT k FROM " STORE_MAP_ROWS("submission_key");

/* due_after - look-ups worth a pass over this many keys (the rule of
 * store.h, "Filters of the stored submission and indicator keys"). */
static long due_after(long keys)
{
	long n = keys / STORE_FILTER_KEYS_PER_LOOKUP;
	return n > STORE_FILTER_AFTER ? n : STORE_FILTER_AFTER;
}

/* pre_due - look-ups until store_has_submission reads its filter again:
 * that rule over the submissions only. */
static long pre_due(struct store *st)
{
	struct store_counts c;
	return due_after(store_counts(st, &c) == STORE_OK ? c.submissions : 0);
}

int store_has_submission(struct store *st, const char sha256[65])
{
	if (!st->lookup_sized) {
		/* a look-up connection reads one index: a small page cache */
		sqlite3_exec(st->db, "PRAGMA cache_size=-512", NULL, NULL, NULL);
		st->lookup_sized = 1;
		st->pre_due = st->filter_after ? st->filter_after : pre_due(st);
	}
	/* This answer is only advice (the ordered store_add_submission is the
	 * authority), so its filter may lag behind the store: a message stored
	 * since it was read is taken for new and parsed, then found a
	 * duplicate by store_add_submission. So it is never dropped for other
	 * writers (the ingest's own writer commits every second), only read
	 * again every pre_due() look-ups, which costs as much as that many
	 * look-ups save. Without it each new message's look-up read a random
	 * leaf of submission_key, whose leaves a 512 KB cache cannot hold: 1.5
	 * pread() calls per report at 200,000 reports (bench/README-campaigns.md,
	 * "twelfth pass"). */
	if (++st->pre_lookups >= st->pre_due) {
		if (fill_filter(st, sub_keys_sql, &st->pre) < 0)
			keyfilter_free(&st->pre);
		st->pre_lookups = 0;
		st->pre_due = pre_due(st);
	}
	if (!keyfilter_may_hold(&st->pre, (uint64_t)store_hex_key(sha256)))
		return 0;
	sqlite3_stmt *s = st->find_sub;
	sqlite3_bind_text(s, 1, sha256, 64, SQLITE_STATIC);
	int found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return found;
}

int store_read_keys(sqlite3 *db, const char *sql, uint64_t **keys, size_t *n)
{
	*keys = NULL;
	*n = 0;
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return STORE_ERR;
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 65536;
			*keys = xrealloc(*keys, cap * sizeof **keys);
		}
		(*keys)[(*n)++] = (uint64_t)sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		free(*keys);
		*keys = NULL;
		*n = 0;
		return STORE_ERR;
	}
	return STORE_OK;
}

/* fill_filter - fill kf with the keys the query sql returns, with room
 * for as many again (at least STORE_FILTER_ROOM): refilled once full, so
 * reading is paid once per doubling. */
static int fill_filter(struct store *st, const char *sql, struct keyfilter *kf)
{
	uint64_t *keys;
	size_t n;
	if (store_read_keys(st->db, sql, &keys, &n) < 0)
		return STORE_ERR;
	keyfilter_fill(kf, keys, n, n > STORE_FILTER_ROOM ? n : STORE_FILTER_ROOM);
	free(keys);
	return STORE_OK;
}

/* filters_read - the filters of every submission and indicator key stored
 * (this transaction's writes included: the same connection reads them).
 * On an error the look-ups go on without them and they are tried again
 * filter_due look-ups later. */
static void filters_read(struct store *st)
{
	struct store_counts c;
	int64_t v = store_data_version(st);
	if (v < 0 || store_counts(st, &c) < 0)
		return;
	if (fill_filter(st, sub_keys_sql, &st->filt[MAP_SUB]) < 0 ||
	    fill_filter(st, "SELECT k FROM " STORE_MAP_ROWS("indicator_key"), &st->filt[MAP_IND]) <
		0) {
		filters_drop(st);
		return;
	}
	st->filt_version = v;
	/* the committed keys: store_commit adds this transaction's */
	st->filt_keys = c.submissions + c.indicators - st->added.submissions - st->added.indicators;
	st->filter_reads++;
}

/* key_absent - 1 if key is certainly not in map m (MAP_SUB or MAP_IND), so
 * its look-up can be skipped: the common case, a new message or URL, whose
 * look-up descends to a random leaf of a large index (seldom in the page
 * cache once the store outgrows it; bench/README-campaigns.md, "twelfth
 * pass"). The filters are read at the filter_after-th look-up of a write
 * transaction (store_set_filter_after: reading them is a pass over every
 * key, which only a run long beside the store earns back). 0 outside
 * store_begin .. commit: nothing checked there that they are current. */
static int key_absent(struct store *st, int m, int64_t key)
{
	if (!st->in_write)
		return 0;
	if (!keyfilter_built(&st->filt[m])) {
		if (!st->filter_due) {
			struct store_counts c;
			long keys =
			    store_counts(st, &c) == STORE_OK ? c.submissions + c.indicators : 0;
			st->filter_due = st->filter_after ? st->filter_after : due_after(keys);
		}
		if (++st->lookups < st->filter_due)
			return 0;
		filters_read(st);
		st->lookups = 0;
	}
	return !keyfilter_may_hold(&st->filt[m], (uint64_t)key);
}

long store_filter_reads(const struct store *st)
{
	return st->filter_reads;
}

void store_set_filter_after(struct store *st, long lookups)
{
	st->filter_after = lookups > 0 ? lookups : 0;
	st->filter_due = 0;
}

int store_add_submission_packed(struct store *st, const char sha256[65], size_t len,
				const struct store_packed *pk, const char *source,
				long source_index, int64_t *id)
{
	int64_t key = store_hex_key(sha256);
	sqlite3_stmt *s = st->find_sub;
	if (!key_absent(st, MAP_SUB, key)) {
		sqlite3_bind_text(s, 1, sha256, 64, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			*id = sqlite3_column_int64(s, 0);
			sqlite3_reset(s);
			return STORE_DUP;
		}
		sqlite3_reset(s);
	}
	char now[32];
	now_iso(now);
	s = st->ins_sub;
	sqlite3_bind_text(s, 1, sha256, 64, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, source_index);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)len);
	sqlite3_bind_text(s, 5, now, -1, SQLITE_STATIC);
	if (step_done(st, s, "storing submission") < 0)
		return STORE_ERR;
	*id = sqlite3_last_insert_rowid(st->db);
	st->added.submissions++;
	if (added(st) < 0)
		return STORE_ERR;
	if (map_add(st, MAP_SUB, key, *id) < 0)
		return STORE_ERR;
	return put_packed(st, *id, sha256, len, pk);
}

int store_add_submission(struct store *st, const char sha256[65], const void *raw, size_t len,
			 const char *source, long source_index, int64_t *id)
{
	struct store_packed pk;
	own_pack(st, raw, len, &pk);
	return store_add_submission_packed(st, sha256, len, &pk, source, source_index, id);
}

/* link_indicator - find or add (type, value) and link it to the report
 * (once: the same indicator twice in one report counts once). */
static int link_indicator(struct store *st, int64_t rid, const char *type, const char *value,
			  const char *found_in, const char *now)
{
	if (!value || !*value)
		return STORE_OK;
	int64_t iid, key = indicator_key(st, type, value);
	sqlite3_stmt *s = st->find_ind;
	int absent = key_absent(st, MAP_IND, key);
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, key);
	if (!absent && sqlite3_step(s) == SQLITE_ROW) {
		iid = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	} else {
		sqlite3_reset(s);
		s = st->ins_ind;
		sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, key);
		if (step_done(st, s, "storing indicator") < 0)
			return STORE_ERR;
		iid = sqlite3_last_insert_rowid(st->db);
		st->added.indicators++;
		if (added(st) < 0)
			return STORE_ERR;
		if (map_add(st, MAP_IND, key, iid) < 0)
			return STORE_ERR;
	}
	s = st->ins_link;
	sqlite3_bind_int64(s, 1, rid);
	sqlite3_bind_int64(s, 2, iid);
	sqlite3_bind_text(s, 3, found_in, -1, SQLITE_STATIC);
	if (step_done(st, s, "linking indicator") < 0)
		return STORE_ERR;
	/* once per pair: the same indicator twice in a report is ignored */
	return sqlite3_changes(st->db) ? map_add(st, MAP_LINK, iid, rid) : STORE_OK;
}

int store_add_report(struct store *st, int64_t submission_id, const struct result *r,
		     const char *json, int64_t *report_id)
{
	char now[32];
	now_iso(now);
	sqlite3_stmt *s = st->ins_rep;
	sqlite3_bind_int64(s, 1, submission_id);
	sqlite3_bind_int(s, 2, r->suspect_index);
	sqlite3_bind_text(s, 3, r->msg_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->forward, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->reporter, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, r->date, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, r->origin_ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 12, r->verdict, -1, SQLITE_STATIC);
	if (r->verdict)
		sqlite3_bind_int(s, 13, r->score);
	sqlite3_bind_text(s, 14, r->brand, -1, SQLITE_STATIC);
	if (r->campaign_id)
		sqlite3_bind_int64(s, 15, r->campaign_id);
	if (step_done(st, s, "storing report") < 0)
		return STORE_ERR;
	int64_t rid = sqlite3_last_insert_rowid(st->db);
	st->added.reports++;
	if (added(st) < 0)
		return STORE_ERR;
	*report_id = rid;
	if (st->map_recent < 0) {
		/* counted once per connection, at its first report */
		sqlite3_stmt *c;
		if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM report_key_recent", -1, &c,
				       NULL) != SQLITE_OK)
			return fail(st, "counting look-up keys");
		st->map_recent = sqlite3_step(c) == SQLITE_ROW ? sqlite3_column_int64(c, 0) : 0;
		sqlite3_finalize(c);
	}
	if (map_add(st, MAP_REP, store_hex_key(r->msg_sha256), rid) < 0)
		return STORE_ERR;
	st->map_recent++;
	for (size_t i = 0; i < r->urls.n; i++)
		if (link_indicator(st, rid, "url", r->urls.v[i].url, r->urls.v[i].found_in, now) <
		    0)
			return STORE_ERR;
	for (size_t i = 0; i < r->domains.n; i++)
		if (link_indicator(st, rid, "domain", r->domains.v[i].value,
				   r->domains.v[i].found_in, now) < 0)
			return STORE_ERR;
	for (size_t i = 0; i < r->ips.n; i++)
		if (link_indicator(st, rid, "ip", r->ips.v[i].value, r->ips.v[i].found_in, now) < 0)
			return STORE_ERR;
	for (size_t i = 0; i < r->emails.n; i++)
		if (link_indicator(st, rid, "email", r->emails.v[i].value, r->emails.v[i].found_in,
				   now) < 0)
			return STORE_ERR;
	for (size_t i = 0; i < r->attachments.n; i++)
		if (link_indicator(st, rid, "sha256", r->attachments.v[i].sha256, "attachment",
				   now) < 0)
			return STORE_ERR;
	return STORE_OK;
}

#define REPORT_COLS                                                                                \
	"SELECT r.id, r.submission_id, s.source, s.source_index, r.created_at, s.sha256,"          \
	" r.message_sha, r.result, r.verdict, r.score, r.campaign_id"                              \
	" FROM report r JOIN submission s ON s.id = r.submission_id "

static int each_report(struct store *st, sqlite3_stmt *q, store_report_cb cb, void *ctx, int *count)
{
	int rc, n = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct report_row row = {
		    .id = sqlite3_column_int64(q, 0),
		    .submission_id = sqlite3_column_int64(q, 1),
		    .source = (const char *)sqlite3_column_text(q, 2),
		    .source_index = (long)sqlite3_column_int64(q, 3),
		    .created_at = (const char *)sqlite3_column_text(q, 4),
		    .submission_sha = (const char *)sqlite3_column_text(q, 5),
		    .message_sha = (const char *)sqlite3_column_text(q, 6),
		    .json = (const char *)sqlite3_column_text(q, 7),
		    .verdict = (const char *)sqlite3_column_text(q, 8),
		    .score =
			sqlite3_column_type(q, 9) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 9),
		    .campaign_id = sqlite3_column_int64(q, 10),
		};
		n++;
		if (cb(ctx, &row))
			break;
	}
	if (count)
		*count = n;
	int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	if (!ok)
		fail(st, "reading reports");
	sqlite3_finalize(q);
	return ok ? STORE_OK : STORE_ERR;
}

int store_list_reports(struct store *st, store_report_cb cb, void *ctx)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, REPORT_COLS "ORDER BY r.id", -1, &q, NULL) != SQLITE_OK)
		return fail(st, "listing reports");
	return each_report(st, q, cb, ctx, NULL);
}

int store_get_report(struct store *st, int64_t id, store_report_cb cb, void *ctx)
{
	sqlite3_stmt *q;
	int n = 0;
	if (sqlite3_prepare_v2(st->db, REPORT_COLS "WHERE r.id=?", -1, &q, NULL) != SQLITE_OK)
		return fail(st, "reading report");
	sqlite3_bind_int64(q, 1, id);
	if (each_report(st, q, cb, ctx, &n) < 0)
		return STORE_ERR;
	if (n == 0) {
		snprintf(st->err, sizeof st->err, "no report %lld", (long long)id);
		return STORE_ERR;
	}
	return STORE_OK;
}

int store_reports_sharing(struct store *st, int64_t id, store_report_cb cb, void *ctx)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db,
			       REPORT_COLS "WHERE r.id IN " STORE_KEYED_IDS(
				   "report_key", "(SELECT shield_hex_key(message_sha) FROM report"
						 " WHERE id=?1)") " AND r.message_sha ="
								  " (SELECT message_sha FROM report"
								  " WHERE id=?1) AND r.id<>?1"
								  " ORDER BY r.id",
			       -1, &q, NULL) != SQLITE_OK)
		return fail(st, "reading reports");
	sqlite3_bind_int64(q, 1, id);
	return each_report(st, q, cb, ctx, NULL);
}

int store_list_indicators(struct store *st, const char *type, int64_t report_id,
			  store_indicator_cb cb, void *ctx)
{
	sqlite3_stmt *q;
	/* last seen: when its latest report (the highest id linked; ids
	 * grow with time) was stored; reports: its links. Both read the
	 * indicator_report map (indicator id, report id), see core step 6;
	 * the whole list groups report_indicator once instead. */
#define LINKS_OF_I STORE_KEYED("indicator_report", "i.id")
	const char *sql =
	    report_id
		? "SELECT i.type, i.value, i.first_seen,"
		  " coalesce((SELECT r.created_at FROM report r WHERE r.id ="
		  " (SELECT max(id) FROM " LINKS_OF_I ")), i.first_seen),"
		  " (SELECT count(*) FROM " LINKS_OF_I ")"
		  " FROM indicator i JOIN report_indicator ri ON ri.indicator_id=i.id"
		  " WHERE ri.report_id=?2 AND (?1 IS NULL OR i.type=?1) ORDER BY i.type, i.id"
		: "SELECT i.type, i.value, i.first_seen, coalesce(r.created_at, i.first_seen),"
		  " coalesce(l.n, 0) AS n FROM indicator i"
		  " LEFT JOIN (SELECT indicator_id AS id, count(*) AS n, max(report_id) AS last"
		  " FROM report_indicator GROUP BY indicator_id) l ON l.id=i.id"
		  " LEFT JOIN report r ON r.id=l.last"
		  " WHERE (?1 IS NULL OR i.type=?1) ORDER BY i.type, n DESC, i.id";
#undef LINKS_OF_I
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return fail(st, "listing indicators");
	if (type)
		sqlite3_bind_text(q, 1, type, -1, SQLITE_STATIC);
	if (report_id)
		sqlite3_bind_int64(q, 2, report_id);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct indicator_row row = {
		    .type = (const char *)sqlite3_column_text(q, 0),
		    .value = (const char *)sqlite3_column_text(q, 1),
		    .first_seen = (const char *)sqlite3_column_text(q, 2),
		    .last_seen = (const char *)sqlite3_column_text(q, 3),
		    .reports = (long)sqlite3_column_int64(q, 4),
		};
		if (cb(ctx, &row))
			break;
	}
	int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	sqlite3_finalize(q);
	return ok ? STORE_OK : fail(st, "listing indicators");
}

int64_t store_data_version(struct store *st)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1, &q, NULL) != SQLITE_OK) {
		fail(st, "reading the data version");
		return -1;
	}
	int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
	sqlite3_finalize(q);
	if (v < 0)
		fail(st, "reading the data version");
	return v;
}

int store_counts(struct store *st, struct store_counts *c)
{
	sqlite3_stmt *q;
	memset(c, 0, sizeof *c);
	if (sqlite3_prepare_v2(st->db,
			       "SELECT (SELECT n FROM store_total WHERE name='submission'),"
			       " (SELECT n FROM store_total WHERE name='report'),"
			       " (SELECT n FROM store_total WHERE name='indicator'),"
			       " n, bytes, stored_bytes FROM store_total WHERE name='raw'",
			       -1, &q, NULL) != SQLITE_OK)
		return fail(st, "counting");
	if (sqlite3_step(q) == SQLITE_ROW) {
		c->submissions = sqlite3_column_int64(q, 0);
		c->reports = sqlite3_column_int64(q, 1);
		c->indicators = sqlite3_column_int64(q, 2);
		c->raw_blobs = sqlite3_column_int64(q, 3);
		c->raw_bytes = sqlite3_column_int64(q, 4);
		c->raw_stored_bytes = sqlite3_column_int64(q, 5);
	}
	sqlite3_finalize(q);
	/* and what this connection's open transaction added, as count(*) would */
	c->submissions += st->added.submissions;
	c->reports += st->added.reports;
	c->indicators += st->added.indicators;
	c->raw_blobs += st->added.raw_blobs;
	c->raw_bytes += st->added.raw_bytes;
	c->raw_stored_bytes += st->added.raw_stored_bytes;
	return STORE_OK;
}
