/*
 * test_feed.c - feed line parsing (CSV by header name, IP lists, JSON
 * Lines), timestamps, labels, and incident folding through a real store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enrich/asn.h"
#include "feed/feed.h"
#include "store/store.h"
#include "store/store_notify.h"
#include "test.h"

static int line(struct feed_parser *p, const char *text, struct feed_event *ev)
{
	char buf[512], why[200];
	snprintf(buf, sizeof buf, "%s", text);
	return feed_parser_line(p, buf, strlen(buf), ev, why, sizeof why);
}

static void test_time(struct test_state *t)
{
	int64_t v;
	CHECK(t, feed_parse_time("2010-02-10 00:00:00", 19, &v) == 0 && v == 1265760000);
	CHECK(t, feed_parse_time("2024-06-01T10:00:00Z", 20, &v) == 0 && v == 1717236000);
	CHECK(t, feed_parse_time("2024-06-01T12:00:00+02:00", 25, &v) == 0 && v == 1717236000);
	CHECK(t, feed_parse_time("2024-06-01T10:00:00.123Z", 24, &v) == 0 && v == 1717236000);
	CHECK(t, feed_parse_time("1717236000", 10, &v) == 0 && v == 1717236000);
	CHECK(t, feed_parse_time("2024-13-01 00:00:00", 19, &v) < 0);
	CHECK(t, feed_parse_time("yesterday", 9, &v) < 0);
	char l[FEED_MAX_LABEL + 1];
	feed_label(l, "Infected System;other", 21);
	CHECK_STR(t, l, "infected_system");
	feed_label(l, "a\r\nb<c>", 7);
	CHECK_STR(t, l, "abc");
}

static void test_csv(struct test_state *t)
{
	struct feed_parser *p = feed_parser_new("/x/2019-09-04-scan_telnet-be.csv", NULL, 5);
	struct feed_event ev;
	CHECK(t,
	      line(p, "\"timestamp\",\"ip\",\"protocol\",\"port\",\"hostname\",\"asn\"", &ev) == 0);
	CHECK(t, feed_parser_format(p) == FEED_CSV);
	CHECK(t, line(p, "\"2019-09-04 12:27:34\",\"198.51.100.5\",\"tcp\",5678,\"h\",20255",
		      &ev) == 1);
	CHECK(t, ev.port == 5678 && ev.feed_asn == 20255 && ev.time == 1567600054);
	CHECK_STR(t, ev.type, "scan_telnet");
	CHECK(t, line(p, "\"2019-09-04 12:27:34\",\"nope\",\"tcp\",5678", &ev) == -1);
	CHECK(t, line(p, "\"2019-09-04 12:27:34\",\"198.51.100.5\",\"tcp\",99999", &ev) == -1);
	CHECK(t, line(p, "\"2019-09-04 12:27:34", &ev) == -1);
	feed_parser_free(p);
	p = feed_parser_new("feed.csv", NULL, 5);
	CHECK(t, line(p, "when,what", &ev) == -1); /* no IP column */
	feed_parser_free(p);
}

static void test_other_formats(struct test_state *t)
{
	struct feed_parser *p = feed_parser_new("list.txt", "blocklist", 7);
	struct feed_event ev;
	CHECK(t, line(p, "# comment", &ev) == 0);
	CHECK(t, line(p, "192.0.2.1  trailing words", &ev) == 1 && ev.time == 7);
	CHECK_STR(t, ev.type, "blocklist");
	CHECK(t, line(p, "2001:db8::1", &ev) == 1 && ev.ip.v6);
	CHECK(t, line(p, "300.1.1.1", &ev) == -1);
	feed_parser_free(p);
	p = feed_parser_new("x.jsonl", NULL, 7);
	CHECK(t, line(p,
		      "{\"source.ip\":\"192.0.2.9\",\"classification.type\":\"Botnet Drone\","
		      "\"time\":\"2024-06-01T10:00:00Z\",\"source.port\":80,\"tlp\":\"GREEN\"}",
		      &ev) == 1);
	CHECK_STR(t, ev.type, "botnet_drone");
	CHECK_STR(t, ev.tlp, "green");
	CHECK(t, ev.port == 80 && ev.time == 1717236000);
	CHECK(t, line(p, "{\"ip\":1}", &ev) == -1);
	CHECK(t, line(p, "{broken", &ev) == -1);
	feed_parser_free(p);
}

static int count_cb(void *ctx, const struct incident_row *r)
{
	long *n = ctx;
	n[0]++;
	n[1] += r->events;
	return 0;
}

static int count_block_cb(void *ctx, struct incident_block *b)
{
	long *n = ctx;
	for (size_t i = 0; i < b->n; i++) {
		n[0]++;
		n[1] += b->v[i].events;
	}
	return 0;
}

/* open_fixture - a table of one prefix (192.0.2.0/24, AS64500) at tbl and
 * a migrated store at db; nonzero (a failed check) when either fails */
static int open_fixture(struct test_state *t, const char *tbl, const char *db,
			struct asn_table **tb, struct store **st)
{
	FILE *f = fopen(tbl, "w");
	if (f) {
		fputs("192.0.2.0/24\t64500\n", f);
		fclose(f);
	}
	char *err = NULL;
	const char *paths[1] = {tbl};
	*tb = asn_table_open(paths, 1, NULL, NULL, NULL, &err);
	*st = store_open(db, &err);
	CHECK(t, *tb && *st && store_notify_migrate(*st) == STORE_OK);
	return !*tb || !*st;
}

static void rm_dir(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void test_fold(struct test_state *t)
{
	char dir[] = "/tmp/shield-test-feed-XXXXXX";
	if (!mkdtemp(dir))
		return;
	char db[64], f1[64], f2[64], tbl[64];
	snprintf(db, sizeof db, "%s/t.db", dir);
	snprintf(f1, sizeof f1, "%s/a.txt", dir);
	snprintf(f2, sizeof f2, "%s/b.jsonl", dir);
	snprintf(tbl, sizeof tbl, "%s/t.dat", dir);
	FILE *f = fopen(f1, "w");
	fputs("{\"ip\":\"192.0.2.1\",\"type\":\"x\",\"time\":1000}\n"
	      "{\"ip\":\"192.0.2.1\",\"type\":\"x\",\"time\":5000}\n"
	      "{\"ip\":\"192.0.2.1\",\"type\":\"x\",\"time\":200000}\n"
	      "{\"ip\":\"192.0.2.1\",\"type\":\"y\",\"time\":1000}\n",
	      f);
	fclose(f);
	f = fopen(f2, "w");
	fputs("{\"ip\":\"192.0.2.1\",\"type\":\"x\",\"time\":9000}\n", f);
	fclose(f);
	struct asn_table *tb;
	struct store *st;
	if (open_fixture(t, tbl, db, &tb, &st))
		return;
	struct feed_opts o = {0};
	struct feed_run *r = feed_run_new(st, tb, &o, NULL, NULL);
	struct feed_file_result res;
	struct feed_totals tot;
	char why[200];
	CHECK(t, feed_run_file(r, f1, &res) == 0 && res.events == 4);
	CHECK(t, feed_run_commit(r, &tot, why, sizeof why) == 0);
	CHECK(t, tot.incidents_new == 3); /* x@1000+5000, x@200000, y@1000 */
	feed_run_free(r);
	/* a later run: its event falls in the first incident's window */
	r = feed_run_new(st, tb, &o, NULL, NULL);
	CHECK(t, feed_run_file(r, f2, &res) == 0);
	CHECK(t, feed_run_commit(r, &tot, why, sizeof why) == 0);
	CHECK(t, tot.incidents_new == 0 && tot.incidents_merged == 1);
	feed_run_free(r);
	/* the same file again is a duplicate */
	r = feed_run_new(st, tb, &o, NULL, NULL);
	CHECK(t, feed_run_file(r, f2, &res) == 0 && res.duplicate);
	feed_run_free(r);
	long n[2] = {0, 0};
	store_incidents_unbatched(st, count_cb, n);
	struct block_filter bf = {INT64_MIN, -1, 1, 0};
	CHECK(t, store_blocks_each(st, &bf, count_block_cb, n) == STORE_OK);
	CHECK(t, n[0] == 3 && n[1] == 5);
	store_close(st);
	asn_table_free(tb);
	rm_dir(dir);
}

/* write_list - JSON Lines of n events of ip at times t0, t0+1, ...,
 * padded with comments past 4 MiB so feed_run_file, given two CPUs,
 * hashes it on a second thread and reads it on a third while folding
 * (and must take a duplicate back out, possibly half-way). */
static void write_list(const char *path, const char *ip, int t0, int n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	for (int i = 0; i < n; i++)
		fprintf(f, "{\"ip\":\"%s\",\"type\":\"x\",\"time\":%d}\n", ip, t0 + i);
	char pad[200];
	memset(pad, 'p', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	for (int i = 0; i < 21000; i++)
		fprintf(f, "# %s\n", pad);
	fclose(f);
}

static void test_dup_undo(struct test_state *t)
{
	char dir[] = "/tmp/shield-test-feed-XXXXXX";
	if (!mkdtemp(dir))
		return;
	char db[64], a[64], a2[64], b[64], c[64], tbl[64];
	snprintf(db, sizeof db, "%s/t.db", dir);
	snprintf(a, sizeof a, "%s/a.jsonl", dir);
	snprintf(a2, sizeof a2, "%s/a-copy.jsonl", dir);
	snprintf(b, sizeof b, "%s/b.jsonl", dir);
	snprintf(c, sizeof c, "%s/c.jsonl", dir);
	snprintf(tbl, sizeof tbl, "%s/t.dat", dir);
	write_list(a, "192.0.2.1", 1000, 30000);  /* x@192.0.2.1: 30000 events */
	write_list(a2, "192.0.2.1", 1000, 30000); /* same bytes */
	write_list(b, "192.0.2.2", 2000, 10);
	write_list(c, "192.0.2.1", 50000, 20000); /* joins a's incident */
	struct asn_table *tb;
	struct store *st;
	if (open_fixture(t, tbl, db, &tb, &st))
		return;
	struct feed_opts o = {0};
	struct feed_file_result res;
	struct feed_totals tot;
	char why[200];
	/* run 1: b only */
	struct feed_run *r = feed_run_new(st, tb, &o, NULL, NULL);
	CHECK(t, feed_run_file(r, b, &res) == 0 && !res.duplicate && res.events == 10);
	CHECK(t, feed_run_commit(r, &tot, why, sizeof why) == 0 && tot.incidents_new == 1);
	feed_run_free(r);
	/* run 2: a, its copy (duplicate in the run), b again (duplicate in the
	 * store; its events would have joined nothing new) and c */
	r = feed_run_new(st, tb, &o, NULL, NULL);
	CHECK(t, feed_run_file(r, a, &res) == 0 && !res.duplicate && res.events == 30000);
	CHECK(t, feed_run_file(r, a2, &res) == 0 && res.duplicate && res.events == 0 &&
		     res.lines == 0);
	CHECK(t, feed_run_file(r, b, &res) == 0 && res.duplicate && res.loaded_before > 0);
	CHECK(t, feed_run_file(r, a2, &res) == 0 && res.duplicate);
	CHECK(t, feed_run_file(r, c, &res) == 0 && !res.duplicate && res.events == 20000);
	CHECK(t, feed_run_file(r, c, &res) == 0 && res.duplicate);
	CHECK(t, feed_run_commit(r, &tot, why, sizeof why) == 0);
	CHECK(t, tot.files == 2 && tot.events == 50000);
	/* b's stored incident was not merged by b's duplicate: no merge at all */
	CHECK(t, tot.incidents_new == 1 && tot.incidents_merged == 0);
	feed_run_free(r);
	long n[2] = {0, 0};
	struct block_filter bf = {INT64_MIN, -1, 1, 0};
	CHECK(t, store_blocks_each(st, &bf, count_block_cb, n) == STORE_OK);
	CHECK(t, n[0] == 2 && n[1] == 50010);
	store_close(st);
	asn_table_free(tb);
	rm_dir(dir);
}

/* test_growth - incidents made while the incident array grows stay
 * findable: a compressed feed (nothing reserved up front) and an IP list
 * of lines shorter than the reserve estimate used to lose the incidents
 * made at a growth that rehashed, and split their keys' later events
 * into a second incident. */
static long growth_run(struct test_state *t, const char *db, struct asn_table *tb, const char *path)
{
	char *err = NULL;
	struct store *st = store_open(db, &err);
	CHECK(t, st && store_notify_migrate(st) == STORE_OK);
	if (!st)
		return -1;
	struct feed_opts o = {0};
	o.now = 1000000;
	struct feed_file_result res;
	struct feed_totals tot;
	char why[200];
	struct feed_run *r = feed_run_new(st, tb, &o, NULL, NULL);
	CHECK(t, feed_run_file(r, path, &res) == 0 && res.events == 140000);
	CHECK(t, feed_run_commit(r, &tot, why, sizeof why) == 0);
	feed_run_free(r);
	store_close(st);
	return tot.incidents_new;
}

static void test_growth(struct test_state *t)
{
	char dir[] = "/tmp/shield-test-feed-XXXXXX";
	if (!mkdtemp(dir))
		return;
	char db1[64], db2[64], gz[64], list[64], tbl[64], cmd[256];
	snprintf(db1, sizeof db1, "%s/1.db", dir);
	snprintf(db2, sizeof db2, "%s/2.db", dir);
	snprintf(list, sizeof list, "%s/l.txt", dir);
	snprintf(gz, sizeof gz, "%s/l.txt.gz", dir);
	snprintf(tbl, sizeof tbl, "%s/t.dat", dir);
	FILE *f = fopen(tbl, "w");
	fputs("10.0.0.0/8\t64500\n", f);
	fclose(f);
	f = fopen(list, "w"); /* 70,000 addresses twice, ~12 bytes a line */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 70000; i++)
			fprintf(f, "10.%d.%d.%d\n", i >> 16, (i >> 8) & 255, i & 255);
	fclose(f);
	snprintf(cmd, sizeof cmd, "gzip -n -c '%s' > '%s'", list, gz);
	int have_gzip = system(cmd) == 0;
	char *err = NULL;
	const char *paths[1] = {tbl};
	struct asn_table *tb = asn_table_open(paths, 1, NULL, NULL, NULL, &err);
	CHECK(t, tb != NULL);
	if (!tb)
		return;
	CHECK(t, growth_run(t, db1, tb, list) == 70000);
	if (have_gzip)
		CHECK(t, growth_run(t, db2, tb, gz) == 70000);
	asn_table_free(tb);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void count_warn(void *ctx, const char *msg)
{
	if (strstr(msg, "counted as 'other'"))
		++*(int *)ctx;
}

/* test_limits - times outside 1970-2106 are bad lines (an incident keeps
 * 32-bit times); past FEED_MAX_LABELS distinct labels in a run the rest
 * is counted as "other", with a warning, and no event is lost */
static void test_limits(struct test_state *t)
{
	char dir[] = "/tmp/shield-test-feed-XXXXXX";
	if (!mkdtemp(dir))
		return;
	char db[64], f1[64], tbl[64];
	snprintf(db, sizeof db, "%s/t.db", dir);
	snprintf(f1, sizeof f1, "%s/l.jsonl", dir);
	snprintf(tbl, sizeof tbl, "%s/t.dat", dir);
	FILE *f = fopen(f1, "w");
	fputs("{\"ip\":\"192.0.2.1\",\"type\":\"x\",\"time\":\"1969-12-31 23:59:59\"}\n"
	      "{\"ip\":\"192.0.2.1\",\"type\":\"x\",\"time\":4294967296}\n"
	      "{\"ip\":\"192.0.2.1\",\"type\":\"x\",\"time\":4294967295}\n",
	      f);
	for (int i = 0; i < 9000; i++)
		fprintf(f, "{\"ip\":\"192.0.2.2\",\"type\":\"t%d\",\"time\":1000}\n", i);
	fclose(f);
	struct asn_table *tb;
	struct store *st;
	if (open_fixture(t, tbl, db, &tb, &st))
		return;
	struct feed_opts o = {0};
	int warned = 0;
	struct feed_run *r = feed_run_new(st, tb, &o, count_warn, &warned);
	struct feed_file_result res;
	struct feed_totals tot;
	char why[200];
	CHECK(t, feed_run_file(r, f1, &res) == 0);
	CHECK(t, res.bad == 2 && res.events == 9001);
	CHECK(t, feed_run_commit(r, &tot, why, sizeof why) == 0);
	/* labels: the source, the TLP, "x", then 8187 types; the last id
	 * is "other", which takes the other 813 types of 192.0.2.2 */
	CHECK(t, tot.incidents_new == 1 + 8187 + 1);
	CHECK(t, warned == 1);
	feed_run_free(r);
	long n[2] = {0, 0};
	struct block_filter bf = {INT64_MIN, -1, 1, 0};
	CHECK(t, store_blocks_each(st, &bf, count_block_cb, n) == STORE_OK);
	CHECK(t, n[0] == 8189 && n[1] == 9001);
	store_close(st);
	asn_table_free(tb);
	rm_dir(dir);
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, test_time);
	RUN(&t, test_csv);
	RUN(&t, test_other_formats);
	RUN(&t, test_fold);
	RUN(&t, test_dup_undo);
	RUN(&t, test_growth);
	RUN(&t, test_limits);
	return TEST_SUMMARY(&t);
}
