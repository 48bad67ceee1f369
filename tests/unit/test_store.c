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
	unlink(path);
	char wal[64];
	snprintf(wal, sizeof wal, "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof wal, "%s-shm", path);
	unlink(wal);
	snprintf(wal, sizeof wal, "%s-raw", path);
	unlink(wal);
	return TEST_SUMMARY(&t);
}
