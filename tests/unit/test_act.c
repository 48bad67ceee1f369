/*
 * test_act.c - the act stage: URL-or-domain decisions, the known-good
 * guard, redaction (planted reporter and recipient identities must not
 * leak into any blocklist or sharing format), the listing lifecycle and
 * deterministic ids.
 *
 * `test_act --bench-db FILE N` instead fills a store with N synthetic URL
 * indicators (N/10 reports of 10 links) for tests/act/bench_blocklist.sh.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "act/act.h"
#include "act/blocklist.h"
#include "act/decide.h"
#include "act/guard.h"
#include "act/redact.h"
#include "act/share.h"
#include "extract/result.h"
#include "out/json.h"
#include "store/store.h"
#include "store/store_act.h"
#include "test.h"
#include "verdict/lists.h"

static void test_decide(struct test_state *t)
{
	struct act_policy p = {2};
	char why[400];
	struct act_facts f = {.reg_domain = NULL, .mal_reports = 5};
	CHECK(t, act_decide(&f, &p, why, sizeof why) == ACT_URL);
	CHECK(t, strstr(why, "IP") != NULL);
	f = (struct act_facts){.reg_domain = "belfius-login.example",
			       .mal_reports = 1,
			       .lookalike = "belfius-login.example imitates belfius.be"};
	CHECK(t, act_decide(&f, &p, why, sizeof why) == ACT_DOMAIN);
	CHECK(t, strstr(why, "imitates") != NULL);
	f = (struct act_facts){.reg_domain = "rogue.example", .mal_reports = 2};
	CHECK(t, act_decide(&f, &p, why, sizeof why) == ACT_DOMAIN);
	f.mal_reports = 1;
	CHECK(t, act_decide(&f, &p, why, sizeof why) == ACT_URL);
	f = (struct act_facts){.reg_domain = "rogue.example", .mal_reports = 9, .other_reports = 1};
	CHECK(t, act_decide(&f, &p, why, sizeof why) == ACT_URL);
	f = (struct act_facts){.reg_domain = "rogue.example", .mal_reports = 9, .guard = "x"};
	CHECK(t, act_decide(&f, &p, why, sizeof why) == ACT_URL);
	CHECK(t, strstr(why, "guard") != NULL);
	f = (struct act_facts){
	    .reg_domain = "evil.github.io", .mal_reports = 9, .private_suffix = 1};
	CHECK(t, act_decide(&f, &p, why, sizeof why) == ACT_URL);
	f = (struct act_facts){
	    .reg_domain = "dl.dropbox.com", .mal_reports = 9, .lookalike = "x imitates y"};
	CHECK(t, act_decide(&f, &p, why, sizeof why) == ACT_URL);
	CHECK(t, strstr(why, "shared platform dropbox.com") != NULL);
	f = (struct act_facts){.reg_domain = "bakery.example",
			       .mal_reports = 9,
			       .compromised = act_compromised_sign(
				   "https://bakery.example/wp-content/uploads/x/login.php")};
	CHECK(t, act_decide(&f, &p, why, sizeof why) == ACT_URL);
	CHECK_STR(t, act_shared_platform("notdropbox.com"), NULL);
	/* the default policy: "seen only in malicious reports" alone never
	 * lists a domain; a look-alike still does */
	struct act_policy def = {0};
	f = (struct act_facts){.reg_domain = "rogue.example", .mal_reports = 50};
	CHECK(t, act_decide(&f, &def, why, sizeof why) == ACT_URL);
	CHECK(t, strstr(why, "--domain-min-reports is off") != NULL);
	f = (struct act_facts){.reg_domain = "belfius-login.example",
			       .mal_reports = 1,
			       .lookalike = "belfius-login.example imitates belfius.be"};
	CHECK(t, act_decide(&f, &def, why, sizeof why) == ACT_DOMAIN);
}

static char *write_list(const char *dir, const char *name, const char *json)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/%s/list.json", dir, name);
	FILE *f = fopen(path, "w");
	fputs(json, f);
	fclose(f);
	return NULL;
}

static void test_guard(struct test_state *t)
{
	char dir[] = "/tmp/shield-act-XXXXXX", why[400];
	CHECK(t, mkdtemp(dir) != NULL);
	write_list(dir, "top",
		   "{\"name\":\"Top test\",\"type\":\"string\","
		   "\"list\":[\"popular.example\",\"cdn.shared-infra.example\"]}");
	write_list(dir, "sfx",
		   "{\"name\":\"Second level TLDs as known by Mozilla Foundation\","
		   "\"type\":\"string\",\"list\":[\"gov.zz\",\"platform.zz\"]}");
	struct guard *g = guard_new();
	/* no lists: fail safe */
	CHECK(t, guard_check(g, "rogue.example", NULL, 0, why, sizeof why) != NULL);
	struct lists *l = lists_new();
	char *err = NULL;
	CHECK(t, lists_add_good(l, dir, &err) == 0);
	guard_set_lists(g, l);
	CHECK(t, guard_has_lists(g));
	CHECK(t, guard_check(g, "rogue.example", NULL, 0, why, sizeof why) == NULL);
	CHECK(t, guard_check(g, "popular.example", NULL, 0, why, sizeof why) != NULL);
	CHECK(t, strstr(why, "Top test") != NULL);
	/* a listed name below the domain: its wildcard would block it */
	const char *hosts[] = {"cdn.shared-infra.example"};
	CHECK(t, guard_check(g, "shared-infra.example", hosts, 1, why, sizeof why) != NULL);
	/* a public suffix itself, and a public-sector suffix's domains */
	CHECK(t, guard_check(g, "platform.zz", NULL, 0, why, sizeof why) != NULL);
	CHECK(t, guard_check(g, "ministry.gov.zz", NULL, 0, why, sizeof why) != NULL);
	/* registry and allowlist */
	guard_add(g, "bank.example", "registry:test-bank", 0);
	CHECK(t, guard_check(g, "bank.example", NULL, 0, why, sizeof why) != NULL);
	CHECK(t, strstr(why, "registry:test-bank") != NULL);
	guard_add(g, "ok.rogue2.example", "allowlist", 1);
	CHECK(t, guard_check(g, "rogue2.example", NULL, 0, why, sizeof why) == NULL);
	guard_add(g, "kept.example", "allowlist", 1);
	CHECK(t, guard_check(g, "kept.example", NULL, 0, why, sizeof why) != NULL);
	CHECK(t, guard_add(g, "not a name", "x", 0) == 1);
	CHECK(t, guard_add(g, "192.0.2.1", "x", 0) == 1);
	guard_free(g);
	lists_free(l);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK(t, system(cmd) == 0);
}

/* Victim identities planted in a report. */
#define REPORTER "jan.peeters@telenet.example"
#define RECIPIENT "marie.dubois@skynet.example"
static const char *const planted[] = {
    "jan.peeters", "peeters",	     "marie.dubois", "dubois",		"Dubois",
    "marie%40",	   "bWFyaWUuZHVib2", "tok3n-SECRET", "telenet.example", "skynet.example",
};

static void check_clean(struct test_state *t, const char *what, const char *s)
{
	for (size_t i = 0; s && i < sizeof planted / sizeof *planted; i++) {
		if (strstr(s, planted[i])) {
			fprintf(stderr, "  %s leaks '%s'\n", what, planted[i]);
			t->failed_checks++;
		}
	}
}

static void test_redact(struct test_state *t)
{
	struct redactor r;
	redact_init(&r);
	redact_add_victim(&r, REPORTER);
	redact_add_victim(&r, RECIPIENT);
	CHECK(t, redact_is_victim(&r, "Marie.Dubois@skynet.example"));
	CHECK(t, !redact_is_victim(&r, "phisher@evil.example"));
	char *s =
	    redact_text(&r, "Marie Dubois, your account marie.dubois@skynet.example is locked");
	check_clean(t, "subject", s);
	CHECK(t, strstr(s, "your account") != NULL);
	free(s);
	const char *url = "https://REDACTME:x@login.rogue.example/marie.dubois/"
			  "bWFyaWUuZHVib2lzQHNreW5ldC5leGFtcGxl/index.php?"
			  "email=marie.dubois%40skynet.example&t=tok3n-SECRET#marie";
	s = redact_url_share(&r, url);
	check_clean(t, "shared URL", s);
	CHECK(t, strncmp(s, "https://", 8) == 0 && strstr(s, "login.rogue.example") != NULL);
	CHECK(t, strstr(s, "email=REDACTED") != NULL);
	free(s);
	int cut = 0;
	s = redact_url_block(&r, "https://login.rogue.example/kit/marie.dubois/index.php?x=1",
			     &cut);
	CHECK_STR(t, s, "https://login.rogue.example/kit/");
	CHECK(t, cut == 1);
	free(s);
	s = redact_url_block(&r, "https://login.rogue.example/kit/index.php?id=tok3n-SECRET", &cut);
	CHECK_STR(t, s, "https://login.rogue.example/kit/index.php");
	CHECK(t, cut == 0);
	free(s);
	/* a victim's name as a host label makes the URL unpublishable */
	s = redact_url_block(&r, "https://dubois.rogue.example/", &cut);
	CHECK(t, s == NULL);
	redact_release(&r);
}

static void test_uuid5(struct test_state *t)
{
	char u[37];
	/* RFC 4122 appendix / Python uuid.uuid5(NAMESPACE_DNS, "python.org") */
	share_uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", 10, u);
	CHECK_STR(t, u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	char m[33];
	share_md5_hex("abc", m);
	CHECK_STR(t, m, "900150983cd24fb0d6963f7d28e17f72");
}

/* add_report - one synthetic report with n link URLs, stored. */
static int64_t add_report(struct store *st, int idx, const char *const *urls,
			  const char *const *hosts, const char *const *regs, size_t n,
			  const char *subject)
{
	struct result *r = result_new("synthetic", -1);
	struct ind_url u[16];
	memset(u, 0, sizeof u);
	for (size_t i = 0; i < n && i < 16; i++) {
		u[i].url = (char *)urls[i];
		u[i].host = (char *)hosts[i];
		u[i].host_unicode = (char *)hosts[i];
		u[i].reg_domain = (char *)regs[i];
		u[i].found_in = "html:href";
	}
	r->urls.v = u;
	r->urls.n = r->urls.cap = n;
	r->forward = "attached";
	r->reporter = REPORTER;
	r->to = RECIPIENT;
	r->from = "security@rogue.example";
	r->subject = (char *)subject;
	r->message_id = "x1." RECIPIENT;
	char sha[65];
	snprintf(sha, sizeof sha, "%064d", idx);
	memcpy(r->msg_sha256, sha, 65);
	char *json = result_to_json_string(r);
	int64_t sid = 0, rid = 0;
	store_add_submission(st, sha, sha, 64, "synthetic", idx, &sid);
	store_add_report(st, sid, r, json, &rid);
	free(json);
	r->urls.v = NULL;
	r->urls.n = r->urls.cap = 0;
	r->reporter = r->to = r->from = r->subject = r->message_id = NULL;
	result_free(r);
	return rid;
}

static int collect_report(void *ctx, const struct report_row *row)
{
	json_error_t je;
	json_t *o = json_loads(row->json, 0, &je);
	if (!o)
		return 1;
	json_object_set_new(o, "stored_at", json_string(row->created_at));
	json_array_append_new(ctx, o);
	return 0;
}

struct collect {
	struct bl_entry v[64];
	char *s[256];
	size_t n, ns;
};

static int collect(void *ctx, const struct listing_row *r)
{
	struct collect *c = ctx;
	if (c->n == 64)
		return 1;
	struct bl_entry *e = &c->v[c->n++];
	e->level = r->level[0] == 'd' ? "domain" : "url";
	e->value = c->s[c->ns++] = strdup(r->value);
	e->reason = c->s[c->ns++] = strdup(r->reason);
	e->guard = r->guard ? (c->s[c->ns++] = strdup(r->guard)) : NULL;
	e->first_seen = r->first_seen;
	e->last_seen = r->last_seen;
	e->listed_at = r->listed_at;
	e->expires_at = r->expires_at;
	e->reports = r->reports;
	return 0;
}

static char *slurp(FILE *f)
{
	fflush(f);
	long n = ftell(f);
	rewind(f);
	char *s = calloc(1, (size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		s[0] = '\0';
	return s;
}

static void test_lifecycle_and_leaks(struct test_state *t)
{
	char path[] = "/tmp/shield-act-db-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	char *err = NULL;
	struct store *st = store_open(path, &err);
	CHECK(t, st != NULL);
	if (!st)
		return;
	const char *urls[] = {
	    "https://login.rogue.example/marie.dubois/verify.php?u=marie.dubois%40skynet.example",
	    "https://login.rogue.example/kit/b.php?t=tok3n-SECRET",
	    "https://popular.example/help",
	    "http://192.0.2.9/x",
	};
	const char *hosts[] = {"login.rogue.example", "login.rogue.example", "popular.example",
			       "192.0.2.9"};
	const char *regs[] = {"rogue.example", "rogue.example", "popular.example", NULL};
	add_report(st, 1, urls, hosts, regs, 4, "Marie, your Dubois account is locked");
	add_report(st, 2, urls, hosts, regs, 4, "Jan Peeters: verify marie.dubois@skynet.example");
	struct guard *g = guard_new();
	struct lists *l = lists_new();
	char dir[] = "/tmp/shield-act-wl-XXXXXX";
	CHECK(t, mkdtemp(dir) != NULL);
	write_list(dir, "top",
		   "{\"name\":\"Top test\",\"type\":\"string\","
		   "\"list\":[\"popular.example\"]}");
	CHECK(t, lists_add_good(l, dir, &err) == 0);
	guard_set_lists(g, l);
	struct act_refresh_opts o = {.sel = {NULL, 0, 1}, .policy = {2}, .guard = g};
	o.now = (int64_t)time(NULL); /* the store stamps reports with the current time */
	struct act_refresh_stats s;
	CHECK(t, act_refresh(st, &o, &s, &err) == 0);
	CHECK(t, s.selected == 2);
	CHECK(t, s.domain_level == 1); /* rogue.example: 2 messages */
	CHECK(t, s.guarded_domains == 1);
	struct collect c = {0};
	CHECK(t, store_act_listings_each(st, 1, collect, &c) == 0);
	int have_dom = 0, have_guarded_url = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (!strcmp(c.v[i].level, "domain") && !strcmp(c.v[i].value, "rogue.example"))
			have_dom = 1;
		if (!strcmp(c.v[i].level, "url") && strstr(c.v[i].value, "popular.example") &&
		    c.v[i].guard)
			have_guarded_url = 1;
		CHECK(t, strcmp(c.v[i].value, "popular.example") != 0);
	}
	CHECK(t, have_dom && have_guarded_url);
	/* every blocklist format is free of victim data */
	for (size_t i = 0; blocklist_formats[i]; i++) {
		FILE *f = tmpfile();
		struct bl_meta m = {.serial = 1, .generated_at = o.now, .tlp = "clear"};
		CHECK(t, blocklist_write(f, blocklist_formats[i], c.v, c.n, &m) == 0);
		char *out = slurp(f);
		check_clean(t, blocklist_formats[i], out);
		free(out);
		fclose(f);
	}
	/* re-running changes nothing; re-reporting extends */
	CHECK(t, act_refresh(st, &o, &s, &err) == 0);
	CHECK(t, s.listed == 0 && s.delisted == 0);
	/* unblock and allow */
	long n = 0;
	char cmd0[700];
	CHECK(t, store_act_delist(st, NULL, "rogue.example", "test", o.now, &n) == 0 && n == 1);
	CHECK(t, act_refresh(st, &o, &s, &err) == 0);
	CHECK(t, s.relisted == 0); /* not reported again after the delisting */
	/* sharing: MISP event and STIX bundle from the stored reports */
	json_t *reps = json_array();
	CHECK(t, store_list_reports(st, collect_report, reps) == 0);
	struct share_group grp = {"message-test", "Phishing message test", reps};
	struct share_opts so = {"amber", "Test CERT"};
	json_t *ev = share_misp_event(&so, &grp);
	char *js = json_dumps(ev, JSON_COMPACT);
	check_clean(t, "MISP event", js);
	CHECK(t, strstr(js, "tlp:amber") && strstr(js, "rsit:fraud"));
	CHECK(t, strstr(js, "login.rogue.example") != NULL);
	free(js);
	json_t *ev2 = share_misp_event(&so, &grp);
	CHECK(t, json_equal(ev, ev2)); /* deterministic */
	json_decref(ev);
	json_decref(ev2);
	json_t *b = share_stix_bundle(&so, &grp, 1);
	js = json_dumps(b, JSON_COMPACT);
	check_clean(t, "STIX bundle", js);
	CHECK(t, strstr(js, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421") != NULL);
	free(js);
	json_decref(b);
	char fdir[] = "/tmp/shield-act-feed-XXXXXX";
	CHECK(t, mkdtemp(fdir) != NULL);
	CHECK(t, share_misp_feed(&so, &grp, 1, fdir, &err) == 0);
	snprintf(cmd0, sizeof cmd0, "cat '%s'/* | grep -q -i -e dubois -e peeters -e tok3n", fdir);
	CHECK(t, system(cmd0) != 0);
	snprintf(cmd0, sizeof cmd0, "rm -rf '%s'", fdir);
	CHECK(t, system(cmd0) == 0);
	json_decref(reps);
	for (size_t i = 0; i < c.ns; i++)
		free(c.s[i]);
	guard_free(g);
	lists_free(l);
	store_close(st);
	unlink(path);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s-wal' '%s-shm' '%s-raw'", dir, path, path, path);
	CHECK(t, system(cmd) == 0);
}

/* bench_db - n synthetic URL indicators through the store: n/10 reports
 * of 10 links; one domain in 20 is a rogue domain shared by many reports,
 * the rest are pages on distinct sites. */
static int bench_db(const char *path, long n)
{
	char *err = NULL;
	struct store *st = store_open(path, &err);
	if (!st) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	static char ub[10][200], hb[10][100], rb[10][100];
	const char *urls[10], *hosts[10], *regs[10];
	store_begin(st);
	for (long r = 0; r < n / 10; r++) {
		for (int k = 0; k < 10; k++) {
			long i = r * 10 + k;
			if (i % 20 == 0)
				snprintf(rb[k], sizeof rb[k], "rogue%ld.example", i / 200);
			else
				snprintf(rb[k], sizeof rb[k], "site%ld.example", i);
			snprintf(hb[k], sizeof hb[k], "www.%s", rb[k]);
			snprintf(ub[k], sizeof ub[k], "https://%s/p/%ld/login.php", hb[k], i);
			urls[k] = ub[k];
			hosts[k] = hb[k];
			regs[k] = rb[k];
		}
		add_report(st, (int)r + 1, urls, hosts, regs, 10, "Your parcel is waiting");
	}
	store_commit(st);
	store_close(st);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--bench-db") == 0)
		return bench_db(argv[2], strtol(argv[3], NULL, 10));
	struct test_state t = {0};
	RUN(&t, test_decide);
	RUN(&t, test_guard);
	RUN(&t, test_redact);
	RUN(&t, test_uuid5);
	RUN(&t, test_lifecycle_and_leaks);
	return TEST_SUMMARY(&t);
}
