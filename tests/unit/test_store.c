/* test_store.c - the SQLite store: migrations, raw round trip, duplicates,
 * shared messages, indicator counts, clear errors. */
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract/attach.h"
#include "extract/result.h"
#include "store/store.h"
#include "test.h"

static char path[] = "/tmp/shield-test-store-XXXXXX";

static struct result *mk(const char *sha, const char *url)
{
	struct result *r = result_new("t.eml", -1);
	snprintf(r->msg_sha256, sizeof r->msg_sha256, "%s", sha);
	r->forward = "none";
	r->from = arena_strdup(&r->arena, "a@evil.example");
	ARENA_PUSH(&r->arena, r->urls.v, r->urls.n, r->urls.cap);
	r->urls.v[r->urls.n].url = arena_strdup(&r->arena, url);
	r->urls.v[r->urls.n++].found_in = arena_strdup(&r->arena, "text");
	result_add_ind(r, IND_DOMAIN, "evil.example", 12, "url");
	return r;
}

static int count_cb(void *ctx, const struct report_row *row)
{
	(*(int *)ctx)++;
	return 0;
}

static int ind_cb(void *ctx, const struct indicator_row *row)
{
	if (!strcmp(row->type, "domain"))
		*(long *)ctx = row->reports;
	return 0;
}

static int int_query(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* totals_exact - store_counts() says what counting the tables says. */
static int totals_exact(struct store *st)
{
	struct store_counts c;
	sqlite3 *h = store_sqlite(st);
	return store_counts(st, &c) == 0 &&
	       int_query(h, "SELECT count(*) FROM submission") == c.submissions &&
	       int_query(h, "SELECT count(*) FROM report") == c.reports &&
	       int_query(h, "SELECT count(*) FROM indicator") == c.indicators &&
	       int_query(h, "SELECT count(*) FROM raw") == c.raw_blobs &&
	       int_query(h, "SELECT sum(size) FROM raw") == c.raw_bytes &&
	       int_query(h, "SELECT sum(stored_size) FROM raw") == c.raw_stored_bytes;
}

static void roundtrip(struct test_state *t)
{
	char *err = NULL;
	struct store *st = store_open(path, &err);
	CHECK(t, st != NULL);
	if (!st)
		return;
	const char raw[] = "Subject: x\n\nhello hello hello hello\n";
	char sha[65];
	sha256_hex(raw, sizeof raw - 1, sha);
	int64_t sid, sid2, rid;
	CHECK(t, store_begin(st) == 0);
	CHECK(t, store_add_submission(st, sha, raw, sizeof raw - 1, "t.eml", -1, &sid) == STORE_OK);
	CHECK(t,
	      store_add_submission(st, sha, raw, sizeof raw - 1, "t.eml", -1, &sid2) == STORE_DUP);
	CHECK(t, sid == sid2);
	struct result *r = mk("aaaa", "http://evil.example/1");
	CHECK(t, store_add_report(st, sid, r, "{\"source\":\"t.eml\"}", &rid) == STORE_OK);
	result_free(r);
	/* a second submission of the same phishing message */
	char sha2[65];
	sha256_hex("other", 5, sha2);
	CHECK(t, store_add_submission(st, sha2, "other", 5, "u.eml", 3, &sid2) == STORE_OK);
	r = mk("aaaa", "http://evil.example/2");
	int64_t rid2;
	CHECK(t, store_add_report(st, sid2, r, "{\"source\":\"u.eml\"}", &rid2) == STORE_OK);
	result_free(r);
	CHECK(t, store_commit(st) == 0);

	void *data;
	size_t len;
	CHECK(t, store_get_raw(st, sha, &data, &len) == STORE_OK);
	CHECK(t, len == sizeof raw - 1 && memcmp(data, raw, len) == 0);
	free(data);
	int n = 0;
	store_list_reports(st, count_cb, &n);
	CHECK(t, n == 2);
	n = 0;
	store_reports_sharing(st, rid, count_cb, &n);
	CHECK(t, n == 1);
	long domain_reports = 0;
	store_list_indicators(st, "domain", 0, ind_cb, &domain_reports);
	CHECK(t, domain_reports == 2);
	CHECK(t, store_get_report(st, 999, count_cb, &n) == STORE_ERR);
	CHECK(t, strstr(store_errmsg(st), "no report 999") != NULL);
	struct store_counts c;
	store_counts(st, &c);
	CHECK(t, c.submissions == 2 && c.reports == 2 && c.raw_blobs == 2);
	CHECK(t, c.raw_bytes == (int64_t)(sizeof raw - 1) + 5);
	/* the totals (core step 7) count an open transaction's rows and roll back with them */
	char sha3[65];
	sha256_hex("undone", 6, sha3);
	CHECK(t, store_begin(st) == 0);
	CHECK(t, store_add_submission(st, sha3, "undone", 6, "v.eml", -1, &sid2) == STORE_OK);
	r = mk("cccc", "http://undone.example/");
	CHECK(t, store_add_report(st, sid2, r, "{}", &rid2) == STORE_OK);
	result_free(r);
	struct store_counts c2;
	CHECK(t, store_counts(st, &c2) == 0 && c2.submissions == 3 && c2.reports == 3 &&
		     c2.indicators == c.indicators + 1 && c2.raw_bytes == c.raw_bytes + 6);
	CHECK(t, totals_exact(st));
	CHECK(t, store_rollback(st) == 0);
	CHECK(t, store_counts(st, &c2) == 0 && !memcmp(&c, &c2, sizeof c));
	CHECK(t, totals_exact(st));
	/* outside a transaction an insert commits itself, and so does its count */
	CHECK(t, store_add_submission(st, sha3, "undone", 6, "v.eml", -1, &sid2) == STORE_OK);
	CHECK(t, store_counts(st, &c) == 0 && c.submissions == 3 && c.raw_blobs == 3);
	CHECK(t, totals_exact(st));
	sqlite3 *h = store_sqlite(st);
	CHECK(t, int_query(h, "SELECT n FROM store_total WHERE name='submission'") == 3);
	store_close(st);

	/* reopening migrates nothing and keeps everything */
	st = store_open(path, &err);
	CHECK(t, st != NULL);
	if (st) {
		n = 0;
		store_list_reports(st, count_cb, &n);
		CHECK(t, n == 2);
		store_close(st);
	}
}

/* The raw bytes live in PATH-raw: they come back after reopening, a
 * rolled-back message is not there, and a pack that was changed or lost is
 * an error naming it, never wrong bytes. */
static void raw_pack(struct test_state *t)
{
	char *err = NULL;
	struct store *st = store_open(path, &err);
	CHECK(t, st != NULL);
	if (!st)
		return;
	const char raw[] = "Subject: pack\n\npacked body, packed body, packed body\n";
	const char gone[] = "Subject: rolled back\n\nnever committed\n";
	char sha[65], sha_gone[65];
	sha256_hex(raw, sizeof raw - 1, sha);
	sha256_hex(gone, sizeof gone - 1, sha_gone);
	int64_t sid;
	CHECK(t, store_begin(st) == 0);
	CHECK(t, store_add_submission(st, sha, raw, sizeof raw - 1, "p.eml", -1, &sid) == STORE_OK);
	CHECK(t, store_commit(st) == 0);
	CHECK(t, store_begin(st) == 0);
	CHECK(t, store_add_submission(st, sha_gone, gone, sizeof gone - 1, "g.eml", -1, &sid) ==
		     STORE_OK);
	CHECK(t, store_rollback(st) == 0);
	store_close(st);

	char pack[80];
	snprintf(pack, sizeof pack, "%s-raw", path);
	struct stat sb;
	CHECK(t, stat(pack, &sb) == 0 && sb.st_size > 0);
	st = store_open(path, &err);
	CHECK(t, st != NULL);
	if (!st)
		return;
	void *data = NULL;
	size_t len = 0;
	CHECK(t, store_get_raw(st, sha, &data, &len) == STORE_OK);
	CHECK(t, len == sizeof raw - 1 && data && memcmp(data, raw, len) == 0);
	free(data);
	CHECK(t, store_get_raw(st, sha_gone, &data, &len) == STORE_ERR);
	/* flip every byte after the header: the read must fail, naming the pack */
	FILE *f = fopen(pack, "r+b");
	CHECK(t, f != NULL);
	if (f) {
		long n = (long)sb.st_size;
		for (long i = 19; i < n; i++) {
			fseek(f, i, SEEK_SET);
			int c = fgetc(f);
			fseek(f, i, SEEK_SET);
			fputc(c ^ 0x5a, f);
		}
		fclose(f);
	}
	store_close(st);
	st = store_open(path, &err);
	CHECK(t, st != NULL);
	if (!st)
		return;
	CHECK(t, store_get_raw(st, sha, &data, &len) == STORE_ERR);
	CHECK(t, strstr(store_errmsg(st), sha) != NULL);
	store_close(st);
	unlink(pack);
	st = store_open(path, &err);
	CHECK(t, st != NULL);
	if (!st)
		return;
	CHECK(t, store_get_raw(st, sha, &data, &len) == STORE_ERR);
	CHECK(t, strstr(store_errmsg(st), "-raw") != NULL);
	store_close(st);
	unlink(pack);
}

static void bad_path(struct test_state *t)
{
	char *err = NULL;
	struct store *st = store_open("/nonexistent-dir/x/shield.db", &err);
	CHECK(t, st == NULL);
	CHECK(t, err && strstr(err, "/nonexistent-dir/x/shield.db"));
	free(err);
}

static void newer_schema_refused(struct test_state *t)
{
	char *err = NULL;
	struct store *st = store_open(path, &err);
	if (!st)
		return;
	static const char *const two[] = {"CREATE TABLE t1(x)", "CREATE TABLE t2(x)"};
	CHECK(t, store_migrate(st, "unit", two, 2) == 0);
	CHECK(t, store_migrate(st, "unit", two, 2) == 0); /* idempotent */
	CHECK(t, store_migrate(st, "unit", two, 1) == STORE_ERR);
	CHECK(t, strstr(store_errmsg(st), "newer") != NULL);
	static const char *const bad[] = {"CREATE TABLE t1(x)", "CREATE TABLE t2(x)",
					  "SYNTAX ERROR"};
	CHECK(t, store_migrate(st, "unit", bad, 3) == STORE_ERR);
	CHECK(t, strstr(store_errmsg(st), "version 3") != NULL);
	/* the pending steps are one transaction: a failing step takes the
	 * ones before it back, and the version stays where it was */
	static const char *const up[] = {"CREATE TABLE t1(x)", "CREATE TABLE t2(x)",
					 "CREATE TABLE t3(x)", "SYNTAX ERROR"};
	CHECK(t, store_migrate(st, "unit", up, 4) == STORE_ERR);
	sqlite3_stmt *q = NULL;
	sqlite3_prepare_v2(store_sqlite(st),
			   "SELECT (SELECT count(*) FROM sqlite_master WHERE name='t3'),"
			   " (SELECT version FROM schema_version WHERE component='unit')",
			   -1, &q, NULL);
	CHECK(t, q && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 0 &&
		     sqlite3_column_int(q, 1) == 2);
	sqlite3_finalize(q);
	static const char *const three[] = {"CREATE TABLE t1(x)", "CREATE TABLE t2(x)",
					    "CREATE TABLE t3(x)"};
	CHECK(t, store_migrate(st, "unit", three, 3) == 0);
	store_close(st);
}

/* A store as versions 1-3 of the core schema made it (the steps' SQL as
 * they were applied; a fixture of the old format, not to be kept in step
 * with store_sqlite.c), holding one submission, its report and two
 * indicators; dangling adds a link to an indicator that is not there. */
static sqlite3 *old_store(const char *file, const char *raw, const char *sha, int dangling)
{
	sqlite3 *db = NULL;
	unlink(file);
	if (sqlite3_open(file, &db) != SQLITE_OK)
		return NULL;
	const char *schema =
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
	    "CREATE TABLE indicator (id INTEGER PRIMARY KEY, type TEXT NOT NULL, value TEXT NOT "
	    "NULL,"
	    " first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, reports INTEGER NOT NULL DEFAULT "
	    "0,"
	    " UNIQUE(type, value));"
	    "CREATE TABLE report_indicator (report_id INTEGER NOT NULL REFERENCES report(id),"
	    " indicator_id INTEGER NOT NULL REFERENCES indicator(id), found_in TEXT,"
	    " PRIMARY KEY(report_id, indicator_id)) WITHOUT ROWID;"
	    "CREATE INDEX report_indicator_ind ON report_indicator(indicator_id);"
	    "ALTER TABLE report ADD COLUMN verdict TEXT;"
	    "ALTER TABLE report ADD COLUMN score INTEGER;"
	    "ALTER TABLE report ADD COLUMN brand TEXT;"
	    "ALTER TABLE report ADD COLUMN campaign_id INTEGER;"
	    "CREATE INDEX report_campaign ON report(campaign_id);"
	    "CREATE INDEX report_verdict ON report(verdict);"
	    "ALTER TABLE raw ADD COLUMN pack_offset INTEGER;"
	    "CREATE TABLE schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL);"
	    "INSERT INTO schema_version VALUES ('core', 3);"
	    "INSERT INTO indicator VALUES (7, 'url', 'http://evil.example/1', 't0', 't0', 1),"
	    " (8, 'domain', 'evil.example', 't0', 't0', 1);";
	char sql[512];
	sqlite3_stmt *q = NULL;
	int ok = sqlite3_exec(db, schema, NULL, NULL, NULL) == SQLITE_OK &&
		 sqlite3_prepare_v2(db, "INSERT INTO raw VALUES (?1, ?2, ?2, 'none', ?3, NULL)", -1,
				    &q, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(q, 1, sha, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 2, (int)strlen(raw));
		sqlite3_bind_blob(q, 3, raw, (int)strlen(raw), SQLITE_STATIC);
		ok = sqlite3_step(q) == SQLITE_DONE;
	}
	sqlite3_finalize(q);
	snprintf(sql, sizeof sql,
		 "INSERT INTO submission VALUES (5, '%s', 'old.eml', -1, %d, 't0');"
		 "INSERT INTO report(id, submission_id, suspect_index, message_sha, forward,"
		 " created_at, result) VALUES (1, 5, 0, 'bbbb', 'none', 't0', '{}');"
		 "INSERT INTO report_indicator VALUES (1, 7, 'text'), (1, 8, 'url');%s",
		 sha, (int)strlen(raw),
		 dangling ? "INSERT INTO report_indicator VALUES (1, 99, 'text');" : "");
	if (!ok || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* upgrade_from_v3 - core step 4 rebuilds raw, submission and indicator:
 * everything stored before is still found by the new keys, duplicates are
 * still caught, foreign keys are on again after; a store whose links are
 * already broken is refused and left as it was. */
static void upgrade_from_v3(struct test_state *t)
{
	char file[] = "/tmp/shield-test-upgrade-XXXXXX";
	int fd = mkstemp(file);
	if (fd < 0)
		return;
	close(fd);
	const char raw[] = "Subject: old\n\nstored by version 3\n";
	char sha[65];
	sha256_hex(raw, sizeof raw - 1, sha);
	sqlite3 *db = old_store(file, raw, sha, 0);
	CHECK(t, db != NULL);
	sqlite3_close(db);
	char *err = NULL;
	struct store *st = store_open(file, &err);
	CHECK(t, st != NULL);
	if (st) {
		sqlite3 *h = store_sqlite(st);
		CHECK(t, int_query(
			     h, "SELECT version FROM schema_version WHERE component='core'") == 7);
		/* step 7 counted the old rows into the totals */
		CHECK(t, int_query(h, "SELECT n FROM store_total WHERE name='indicator'") == 2);
		CHECK(t, int_query(h, "SELECT bytes FROM store_total WHERE name='raw'") ==
			     (int)(sizeof raw - 1));
		/* step 6 filled the maps from the old rows */
		CHECK(t, int_query(h, "SELECT count(*) FROM submission_key WHERE id=5") == 1);
		CHECK(t, int_query(h, "SELECT count(*) FROM report_key WHERE id=1") == 1);
		CHECK(t, int_query(h, "SELECT count(*) FROM indicator_key") == 2);
		CHECK(t, int_query(h, "SELECT count(*) FROM indicator_report WHERE id=1") == 2);
		CHECK(t, int_query(h, "SELECT count(*) FROM sqlite_master WHERE type='index'"
				      " AND name IN ('report_message', 'submission_sha',"
				      " 'report_indicator_ind')") == 0);
		CHECK(t, int_query(h, "SELECT count(*) FROM sqlite_master"
				      " WHERE name='report_campaign'") == 0);
		CHECK(t, int_query(h, "PRAGMA foreign_keys") == 1);
		CHECK(t, int_query(h, "SELECT count(*) FROM raw WHERE id=5") == 1);
		void *data = NULL;
		size_t len = 0;
		CHECK(t, store_get_raw(st, sha, &data, &len) == STORE_OK && len == sizeof raw - 1 &&
			     memcmp(data, raw, len) == 0);
		free(data);
		int64_t sid = 0, rid = 0;
		CHECK(t, store_begin(st) == 0);
		CHECK(t, store_add_submission(st, sha, raw, sizeof raw - 1, "again.eml", -1,
					      &sid) == STORE_DUP);
		CHECK(t, sid == 5);
		char sha_new[65];
		sha256_hex("new", 3, sha_new);
		CHECK(t,
		      store_add_submission(st, sha_new, "new", 3, "new.eml", -1, &sid) == STORE_OK);
		/* the same message and indicators as the old report */
		struct result *r = mk("bbbb", "http://evil.example/1");
		CHECK(t, store_add_report(st, sid, r, "{}", &rid) == STORE_OK);
		result_free(r);
		CHECK(t, store_commit(st) == 0);
		long domain_reports = 0;
		store_list_indicators(st, "domain", 0, ind_cb, &domain_reports);
		CHECK(t, domain_reports == 2);
		struct store_counts c;
		CHECK(t, store_counts(st, &c) == 0 && c.indicators == 2 && c.submissions == 2);
		CHECK(t, c.reports == 2 && c.raw_blobs == 2 &&
			     c.raw_bytes == (int64_t)(sizeof raw - 1) + 3);
		CHECK(t, totals_exact(st));
		int n = 0;
		store_reports_sharing(st, rid, count_cb, &n);
		CHECK(t, n == 1);
		store_close(st);
	}
	free(err);
	err = NULL;
	/* broken links: refused, named, and the old version left whole */
	db = old_store(file, raw, sha, 1);
	CHECK(t, db != NULL);
	sqlite3_close(db);
	st = store_open(file, &err);
	CHECK(t, st == NULL);
	CHECK(t, err && strstr(err, "report_indicator") && strstr(err, "version 3"));
	free(err);
	if (sqlite3_open(file, &db) == SQLITE_OK) {
		CHECK(t, int_query(
			     db, "SELECT version FROM schema_version WHERE component='core'") == 3);
		CHECK(t, int_query(db, "SELECT count(*) FROM indicator") == 2);
		CHECK(t,
		      int_query(db, "SELECT count(*) FROM sqlite_master WHERE name='indicator4'") ==
			  0);
	}
	sqlite3_close(db);
	test_remove_store(file);
}

static int map_rows(struct store *st, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	return int_query(store_sqlite(st), sql);
}

/* add_one - a submission (bytes "m<i>") and its report, with message
 * hash msg and the URL http://evil.example/<url>, in a transaction of its
 * own; the submission's id in *sid. */
static int add_one(struct store *st, int i, const char *msg, int url, int64_t *sid)
{
	char raw[32], sha[65], u[64];
	snprintf(raw, sizeof raw, "m%d", i);
	sha256_hex(raw, strlen(raw), sha);
	snprintf(u, sizeof u, "http://evil.example/%d", url);
	struct result *r = mk(msg, u);
	int64_t rid = 0;
	int ok = store_begin(st) == 0 &&
		 store_add_submission(st, sha, raw, strlen(raw), "t.eml", i, sid) == STORE_OK &&
		 store_add_report(st, *sid, r, "{}", &rid) == STORE_OK && store_commit(st) == 0;
	result_free(r);
	return ok;
}

static int url_reports(void *ctx, const struct indicator_row *row)
{
	if (!strcmp(row->type, "url") && !strcmp(row->value, "http://evil.example/0"))
		*(long *)ctx = row->reports;
	return 0;
}

/* open_maps - open the store at file with the maps' move every reports
 * reports in slices commits; NULL (the file removed) if it cannot. */
static struct store *open_maps(struct test_state *t, const char *file, long reports, int slices)
{
	char *err = NULL;
	struct store *st = store_open(file, &err);
	CHECK(t, st != NULL);
	if (!st) {
		free(err);
		test_remove_store(file);
		return NULL;
	}
	store_set_map_merge(st, reports, slices);
	return st;
}

/* map_levels - the look-up maps of core step 6: new pairs go to the
 * recent level, a commit moves them once enough reports came in, and
 * every look-up (duplicates, shared messages, indicator counts) finds
 * what is in either level, and a pair in both once. */
static void map_levels(struct test_state *t)
{
	char file[] = "/tmp/shield-test-maps-XXXXXX";
	int fd = mkstemp(file);
	if (fd < 0)
		return;
	close(fd);
	struct store *st = open_maps(t, file, 4, 1);
	if (!st)
		return;
	char a[65], b[65];
	memset(a, 'a', 64);
	memset(b, 'b', 64);
	a[64] = b[64] = '\0';
	int64_t first = 0, sid = 0;
	/* reports 0-5: message a on 0 and 5, URL 0 on 0, 3 and 5 */
	for (int i = 0; i < 6; i++)
		CHECK(t, add_one(st, i, i == 0 || i == 5 ? a : b, i % 3 == 0 || i == 5 ? 0 : i,
				 i ? &sid : &first));
	/* the fourth report's commit moved four reports' pairs; two wait */
	CHECK(t, map_rows(st, "report_key") == 4);
	CHECK(t, map_rows(st, "report_key_recent") == 2);
	CHECK(t, map_rows(st, "submission_key_recent") == 2);
	CHECK(t, map_rows(st, "indicator_report") + map_rows(st, "indicator_report_recent") == 12);
	/* a duplicate of a moved submission and of a recent one */
	char sha[65];
	int64_t id = 0;
	sha256_hex("m0", 2, sha);
	CHECK(t, store_begin(st) == 0);
	CHECK(t, store_add_submission(st, sha, "m0", 2, "again.eml", -1, &id) == STORE_DUP);
	CHECK(t, id == first);
	sha256_hex("m5", 2, sha);
	CHECK(t, store_add_submission(st, sha, "m5", 2, "again.eml", -1, &id) == STORE_DUP);
	CHECK(t, id == sid);
	CHECK(t, store_rollback(st) == 0);
	/* message a: report 1 (moved) and report 6 (recent) share it */
	int n = 0;
	CHECK(t, store_reports_sharing(st, 1, count_cb, &n) == STORE_OK);
	CHECK(t, n == 1);
	n = 0;
	CHECK(t, store_reports_sharing(st, 6, count_cb, &n) == STORE_OK);
	CHECK(t, n == 1);
	/* URL 0: reports 1 and 4 moved, 6 recent; one indicator row */
	long reports = 0;
	CHECK(t, store_list_indicators(st, "url", 0, url_reports, &reports) == STORE_OK);
	CHECK(t, reports == 3);
	reports = 0;
	CHECK(t, store_list_indicators(st, "url", 6, url_reports, &reports) == STORE_OK);
	CHECK(t, reports == 3);
	CHECK(t, int_query(store_sqlite(st), "SELECT count(*) FROM indicator"
					     " WHERE value='http://evil.example/0'") == 1);
	/* a pair already moved and written again is found once */
	CHECK(t, sqlite3_exec(store_sqlite(st),
			      "INSERT INTO report_key_recent SELECT k, id FROM report_key"
			      " WHERE id=1",
			      NULL, NULL, NULL) == SQLITE_OK);
	n = 0;
	CHECK(t, store_reports_sharing(st, 6, count_cb, &n) == STORE_OK);
	CHECK(t, n == 1);
	/* a new connection counts what waits (two reports' pairs and the
	 * pair written again): one more report reaches 4, and the move keeps
	 * the twice-written pair once */
	store_close(st);
	if (!(st = open_maps(t, file, 4, 1)))
		return;
	CHECK(t, add_one(st, 6, b, 6, &sid));
	CHECK(t, map_rows(st, "report_key_recent") == 0);
	CHECK(t, map_rows(st, "report_key") == 7);
	store_close(st);
	/* a move in two slices: the commit that reaches the count moves the
	 * low keys (message a), the next the high ones (message b), and a key
	 * added meanwhile below the moved range waits for the next move */
	test_remove_store(file);
	if (!(st = open_maps(t, file, 2, 2)))
		return;
	CHECK(t, add_one(st, 0, a, 0, &first));
	CHECK(t, map_rows(st, "report_key") == 0);
	CHECK(t, add_one(st, 1, b, 1, &sid));
	CHECK(t, map_rows(st, "report_key") == 1 && map_rows(st, "report_key_recent") == 1);
	CHECK(t, add_one(st, 2, a, 2, &sid));
	CHECK(t, map_rows(st, "report_key") == 2 && map_rows(st, "report_key_recent") == 1);
	n = 0;
	CHECK(t, store_reports_sharing(st, 1, count_cb, &n) == STORE_OK);
	CHECK(t, n == 1);
	CHECK(t, store_hex_key("ff") == (int64_t)0xff00000000000000ULL);
	CHECK(t, store_hex_key("0000000000000001ffff") == 1);
	CHECK(t, store_hex_key(NULL) == 0);
	store_close(st);
	test_remove_store(file);
}

/* data_version - another connection's commit changes the number, this
 * connection's own does not (ingest --watch relies on both: its caches
 * are dropped for an analyst's merge, and kept across its own cycles). */
static void data_version(struct test_state *t)
{
	char *err = NULL;
	struct store *a = store_open(path, &err), *b = store_open(path, &err);
	CHECK(t, a && b);
	if (!a || !b) {
		free(err);
		store_close(a);
		store_close(b);
		return;
	}
	int64_t v0 = store_data_version(a);
	CHECK(t, v0 >= 0);
	int64_t sid;
	char sha[65];
	memset(sha, 'd', 64);
	sha[64] = 0;
	CHECK(t, store_begin(a) == 0);
	CHECK(t, store_add_submission(a, sha, "dv", 2, "dv.eml", -1, &sid) == STORE_OK);
	CHECK(t, store_commit(a) == 0);
	CHECK(t, store_data_version(a) == v0); /* its own commit */
	int64_t vb = store_data_version(b);
	memset(sha, 'e', 64);
	CHECK(t, store_begin(b) == 0);
	CHECK(t, store_add_submission(b, sha, "dv", 2, "dv2.eml", -1, &sid) == STORE_OK);
	CHECK(t, store_commit(b) == 0);
	CHECK(t, store_data_version(b) == vb);
	int64_t v1 = store_data_version(a);
	CHECK(t, v1 >= 0 && v1 != v0);	       /* the other's commit */
	CHECK(t, store_data_version(a) == v1); /* and no change without one */
	store_close(a);
	store_close(b);
}

/* key_filters - with the filters read at the first look-up, a key stored
 * before they were read, one this connection stored since, and one
 * another connection stored and committed after they were read are all
 * found: a duplicate is a duplicate and a known URL is not stored twice.
 * The last needs store_begin's check (a filter lacking the key would
 * answer "certainly absent"); a commit by another connection that adds no
 * key leaves them as they are. */
static void key_filters(struct test_state *t)
{
	char *err = NULL;
	char file[] = "/tmp/shield-test-kf-XXXXXX";
	int fd = mkstemp(file);
	CHECK(t, fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	struct store *a = store_open(file, &err), *b = store_open(file, &err);
	CHECK(t, a && b);
	if (!a || !b) {
		free(err);
		store_close(a);
		store_close(b);
		test_remove_store(file);
		return;
	}
	char sha[4][65];
	for (int i = 0; i < 4; i++) {
		memset(sha[i], "0a5f"[i], 64);
		sha[i][64] = 0;
	}
	int64_t sid = 0, rid = 0, first = 0;
	struct store_counts c;
	/* stored before a's filters are read */
	CHECK(t, store_begin(b) == 0 &&
		     store_add_submission(b, sha[0], "k0", 2, "k0.eml", -1, &first) == STORE_OK);
	struct result *r = mk(sha[0], "http://evil.example/a");
	CHECK(t, store_add_report(b, first, r, "{}", &rid) == STORE_OK && store_commit(b) == 0);
	result_free(r);
	store_set_filter_after(a, 1);
	store_set_map_merge(a, 2, 1); /* keys move to the large level at a's commits */
	CHECK(t, store_begin(a) == 0);
	CHECK(t, store_add_submission(a, sha[0], "k0", 2, "k0.eml", -1, &sid) == STORE_DUP &&
		     sid == first);
	/* one of a's own, then its duplicate in the next transaction */
	CHECK(t, store_add_submission(a, sha[1], "k1", 2, "k1.eml", -1, &first) == STORE_OK);
	r = mk(sha[1], "http://evil.example/a"); /* the same URL: no new indicator */
	CHECK(t, store_add_report(a, first, r, "{}", &rid) == STORE_OK);
	result_free(r);
	CHECK(t, store_commit(a) == 0 && store_counts(a, &c) == 0 && c.indicators == 2);
	CHECK(t, store_begin(a) == 0);
	CHECK(t, store_add_submission(a, sha[1], "k1", 2, "k1.eml", -1, &sid) == STORE_DUP &&
		     sid == first);
	CHECK(t, store_commit(a) == 0);
	CHECK(t, store_filter_reads(a) == 1);
	/* another connection's commit that adds no key keeps them */
	CHECK(t, sqlite3_exec(store_sqlite(b),
			      "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS other(x);"
			      " INSERT INTO other VALUES(1); COMMIT;",
			      NULL, NULL, NULL) == SQLITE_OK);
	CHECK(t, store_begin(a) == 0);
	CHECK(t, store_add_submission(a, sha[1], "k1", 2, "k1.eml", -1, &sid) == STORE_DUP);
	CHECK(t, store_commit(a) == 0);
	CHECK(t, store_filter_reads(a) == 1);
	/* another connection's, after a's filters were read */
	CHECK(t, store_begin(b) == 0 &&
		     store_add_submission(b, sha[2], "k2", 2, "k2.eml", -1, &first) == STORE_OK);
	r = mk(sha[2], "http://evil.example/b");
	CHECK(t, store_add_report(b, first, r, "{}", &rid) == STORE_OK && store_commit(b) == 0);
	result_free(r);
	CHECK(t, store_begin(a) == 0);
	CHECK(t, store_add_submission(a, sha[2], "k2", 2, "k2.eml", -1, &sid) == STORE_DUP &&
		     sid == first);
	CHECK(t, store_filter_reads(a) == 2); /* read again: b added keys */
	CHECK(t, store_add_submission(a, sha[3], "k3", 2, "k3.eml", -1, &sid) == STORE_OK);
	r = mk(sha[3], "http://evil.example/b");
	CHECK(t, store_add_report(a, sid, r, "{}", &rid) == STORE_OK);
	result_free(r);
	CHECK(t, store_commit(a) == 0);
	CHECK(t, store_counts(a, &c) == 0 && c.submissions == 4 && c.indicators == 3);
	CHECK(t, totals_exact(a));
	sqlite3 *h = store_sqlite(a);
	CHECK(t, int_query(h, "SELECT count(*) FROM submission_key") > 0 &&
		     int_query(h, "SELECT count(*) FROM submission_key_recent") > 0);
	/* a look-up connection's filter: what was stored when it was read is
	 * found, and a message never stored is not */
	struct store *l = store_open(file, &err);
	CHECK(t, l != NULL);
	if (l) {
		store_set_filter_after(l, 1);
		char none[65];
		memset(none, '7', 64);
		none[64] = 0;
		for (int i = 0; i < 4; i++)
			CHECK(t, store_has_submission(l, sha[i]) == 1);
		CHECK(t, store_has_submission(l, none) == 0);
		store_close(l);
	}
	free(err);
	store_close(a);
	store_close(b);
	test_remove_store(file);
}

int main(void)
{
	struct test_state t = {0};
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	RUN(&t, roundtrip);
	RUN(&t, raw_pack);
	RUN(&t, bad_path);
	RUN(&t, newer_schema_refused);
	RUN(&t, upgrade_from_v3);
	RUN(&t, map_levels);
	RUN(&t, data_version);
	RUN(&t, key_filters);
	test_remove_store(path);
	return TEST_SUMMARY(&t);
}
