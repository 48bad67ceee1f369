/*
 * test_campaign.c - unit tests of the campaign stage: subject templates,
 * path shapes, the ignore list, text signatures, and the engine end to end
 * on an in-memory store (same template joins, unrelated stays apart,
 * shared infrastructure does not glue, alerts once, merge and split),
 * decoration links (verified organisations) and the landing-domain choice,
 * links to the sender's own domain (not a landing site),
 * lures that only share infrastructure or a kit placeholder text, and a
 * report that bridges two halves of one campaign (unless an analyst
 * decided about one of them), and another report of a message clustered
 * in an earlier run.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"
#include "campaign/campaign_int.h"
#include "store/store.h"
#include "store/store_campaign.h"
#include "verdict/registry.h"
#include "test.h"

static void t_subject(struct test_state *t)
{
	char a[160], b[160];
	subject_template("RE: Fwd: Your parcel 12345 is waiting, anna@x.be", a, sizeof a);
	subject_template("Your parcel 98765 is waiting, bob@y.com", b, sizeof b);
	CHECK_STR(t, a, b);
	subject_template("Invoice A7X9Q2 overdue", a, sizeof a);
	CHECK_STR(t, a, "invoice * overdue");
}

static void t_path(struct test_state *t)
{
	char a[128];
	path_shape("https://evil.example/track/8f3a9c?id=1", a, sizeof a);
	CHECK_STR(t, a, "/track/*");
	path_shape("https://evil.example/login/verify", a, sizeof a);
	CHECK_STR(t, a, "/login/verify");
}

static void t_ignore(struct test_state *t)
{
	char *err = NULL;
	struct ignore_list *il = ignore_list_load(NULL, &err);
	CHECK(t, il != NULL);
	CHECK(t, ignore_list_has(il, "bit.ly"));
	CHECK(t, ignore_list_has(il, "firebasestorage.googleapis.com"));
	CHECK(t, ignore_list_has(il, "mail.GMAIL.com"));
	CHECK(t, !ignore_list_has(il, "belfius-secure.top"));
	ignore_list_free(il);
	free(err);
}

static struct result *mk(const char *sha, const char *from, const char *subj, const char *body,
			 const char *url, const char *dom)
{
	struct result *r = result_new("test", -1);
	snprintf(r->msg_sha256, sizeof r->msg_sha256, "%s", sha);
	r->from = arena_strdup(&r->arena, from);
	r->subject = arena_strdup(&r->arena, subj);
	r->body_text = arena_strdup(&r->arena, body);
	if (url) {
		r->urls.v = arena_alloc(&r->arena, sizeof *r->urls.v);
		r->urls.n = r->urls.cap = 1;
		r->urls.v[0].url = arena_strdup(&r->arena, url);
		r->urls.v[0].host = arena_strdup(&r->arena, dom);
		r->urls.v[0].reg_domain = arena_strdup(&r->arena, dom);
		r->urls.v[0].found_in = "html:href";
	}
	return r;
}

#define LURE                                                                                       \
	"Dear %s, we noticed unusual activity on your account and limited "                        \
	"access. Please confirm your identity within 48 hours or your account "                    \
	"will be suspended. Reference %d. Thank you, the security team."
#define OTHER                                                                                      \
	"Huge discounts on garden furniture this weekend only: chairs, "                           \
	"tables and parasols at half price in every shop near %s, order %d."

/* add_url - append a clickable link to r (at most 8 per result). */
static void add_url(struct result *r, const char *url, const char *dom)
{
	if (!r->urls.v) {
		r->urls.v = arena_alloc(&r->arena, 8 * sizeof *r->urls.v);
		memset(r->urls.v, 0, 8 * sizeof *r->urls.v);
		r->urls.cap = 8;
	}
	if (r->urls.n >= r->urls.cap)
		return;
	struct ind_url *u = &r->urls.v[r->urls.n++];
	u->url = arena_strdup(&r->arena, url);
	u->host = arena_strdup(&r->arena, dom);
	u->reg_domain = arena_strdup(&r->arena, dom);
	u->found_in = "html:href";
}

static int has_key(const struct cfeat *f, int kind, const char *s)
{
	uint64_t h = chash(kind, s, strlen(s));
	for (int i = 0; i < f->nkeys; i++)
		if (f->keys[i].h == h && f->keys[i].kind == kind)
			return 1;
	return 0;
}

static void t_decoration(struct test_state *t)
{
	char *err = NULL;
	struct ignore_list *il = ignore_list_load(NULL, &err);
	struct registry *reg = registry_load(NULL, &err);
	CHECK(t, il != NULL && reg != NULL);
	struct result *r = mk("ab", "x@rot1.top", "Account limited", "text", NULL, NULL);
	add_url(r, "https://www.microsoft.com/privacy", "microsoft.com");
	add_url(r, "https://other-shop.top/img", "other-shop.top");
	add_url(r, "https://evil.top/login/a8f9z1", "evil.top");
	add_url(r, "https://evil.top/login/b7x2k9", "evil.top");
	add_url(r, "https://bit.ly/x", "bit.ly");
	struct cfeat f;
	cfeat_extract(&f, r, il, reg);
	CHECK(t, f.nland == 2 && !strcmp(f.land[0], "evil.top"));
	CHECK(t, has_key(&f, CK_HOST, "evil.top"));
	CHECK(t, has_key(&f, CK_LAND, "evil.top/login/*"));
	CHECK(t, has_key(&f, CK_LINK, "other-shop.top"));
	CHECK(t, !has_key(&f, CK_HOST, "microsoft.com") && !has_key(&f, CK_LINK, "microsoft.com"));
	CHECK(t, has_key(&f, CK_WEAK, "microsoft.com/privacy"));
	result_free(r);
	registry_free(reg);
	ignore_list_free(il);
	free(err);
}

/* t_self_links - links to the sender's own domain name the sender, not a
 * landing site: a newsletter's links to its own site give no landing key
 * (the other domain it links to is the landing), while the same links in
 * a message sent from another domain still do. */
static void t_self_links(struct test_state *t)
{
	char *err = NULL;
	struct ignore_list *il = ignore_list_load(NULL, &err);
	CHECK(t, il != NULL);
	struct result *r =
	    mk("cd", "news@email.coin-site.example", "Coin up 12% this week", "text", NULL, NULL);
	add_url(r, "https://coin-site.example/prices", "coin-site.example");
	add_url(r, "https://coin-site.example/app", "coin-site.example");
	add_url(r, "https://kit-host.top/claim/x8f2a1", "kit-host.top");
	/* the From domain as extraction reports it (registrable domain) */
	r->domains.v = arena_alloc(&r->arena, sizeof *r->domains.v);
	memset(r->domains.v, 0, sizeof *r->domains.v);
	r->domains.n = r->domains.cap = 1;
	r->domains.v[0].value = arena_strdup(&r->arena, "email.coin-site.example");
	r->domains.v[0].reg_domain = arena_strdup(&r->arena, "coin-site.example");
	r->domains.v[0].found_in = arena_strdup(&r->arena, "header:from");
	struct cfeat f;
	cfeat_extract(&f, r, il, NULL);
	CHECK(t, f.nland == 1 && !strcmp(f.land[0], "kit-host.top"));
	CHECK(t, has_key(&f, CK_HOST, "kit-host.top"));
	CHECK(t, !has_key(&f, CK_HOST, "coin-site.example"));
	CHECK(t, !has_key(&f, CK_LINK, "coin-site.example"));
	CHECK(t, has_key(&f, CK_WEAK, "coin-site.example/prices"));
	CHECK(t, has_key(&f, CK_SENDER, "coin-site.example"));
	result_free(r);
	r = mk("ce", "alerts@crypto-mailer.top", "Coin up 12% this week", "text", NULL, NULL);
	add_url(r, "https://coin-site.example/prices", "coin-site.example");
	add_url(r, "https://coin-site.example/app", "coin-site.example");
	cfeat_extract(&f, r, il, NULL);
	CHECK(t, f.nland == 1 && has_key(&f, CK_HOST, "coin-site.example"));
	result_free(r);
	ignore_list_free(il);
	free(err);
}

#define PLACEHOLDER "Put an optional message here in case the HTML cannot be loaded"
#define LURE_B                                                                                     \
	"Your parcel is held at the depot because customs duties of 2.99 euro "                    \
	"were not paid. Pay within 24 hours or the parcel returns to the sender. "                 \
	"Tracking number %d. Kind regards, the delivery service."
#define LURE_C                                                                                     \
	"Congratulations %s, you were selected to receive a brand new cordless "                   \
	"drill set from our loyalty programme. Answer three questions and pay "                    \
	"only the shipping to claim it today, reference %d."

/* new_engine - a campaign engine on *st (alerts at 3 reports within 10
 * minutes; filter_after and preload as in campaign_config), checked; NULL,
 * with *st closed, when it cannot be made. */
static struct campaign_engine *new_engine(struct test_state *t, struct store **st, int filter_after,
					  int preload)
{
	char *err = NULL;
	struct campaign_config cfg = {.alert_reports = 3,
				      .alert_minutes = 10,
				      .filter_after = filter_after,
				      .preload = preload};
	struct campaign_engine *ce = *st ? campaign_engine_new(*st, &cfg, &err) : NULL;
	CHECK(t, ce != NULL);
	if (!ce)
		*st = store_close(*st);
	free(err);
	return ce;
}

/* open_engine - the same on a new empty in-memory store. */
static struct campaign_engine *open_engine(struct test_state *t, struct store **st)
{
	char *err = NULL;
	*st = store_open(":memory:", &err);
	free(err);
	return new_engine(t, st, 0, 0);
}

/* t_lures - what alone must not glue reports: a kit's one-line
 * placeholder text with a verified organisation's link, or a shared
 * landing domain when text and subject both differ. */
static void t_lures(struct test_state *t)
{
	struct store *st;
	struct campaign_engine *ce = open_engine(t, &st);
	if (!ce)
		return;
	const char *subj[] = {"Your driving licence is suspended", "Tax ID irregularity detected",
			      "Bank points about to expire"};
	const char *land[] = {"licence-fee.top", "tax-fix.top", "points-now.top"};
	const char *from[] = {"notice1@licence.top", "notice2@tax.top", "notice3@points.top"};
	long long ph[3];
	char sha[65], url[128], body[512];
	for (int i = 0; i < 3; i++) {
		snprintf(sha, sizeof sha, "%064d", 200 + i);
		snprintf(url, sizeof url, "https://%s/pay/%dq%d", land[i], i * 13, i);
		struct result *r = mk(sha, from[i], subj[i], PLACEHOLDER, url, land[i]);
		add_url(r, "https://www.microsoft.com/", "microsoft.com");
		CHECK(t, campaign_assign(ce, r) == 0);
		ph[i] = r->campaign_id;
		result_free(r);
	}
	CHECK(t, ph[0] != ph[1] && ph[1] != ph[2] && ph[0] != ph[2]);
	long long ids[4];
	for (int i = 0; i < 4; i++) {
		snprintf(sha, sizeof sha, "%064d", 300 + i);
		if (i < 2)
			snprintf(body, sizeof body, LURE_B, 4000 + i);
		else
			snprintf(body, sizeof body, LURE_C, i == 2 ? "Anna" : "Bram", 9000 + i);
		struct result *r = mk(sha, i < 2 ? "depot@a1.top" : "prize@b2.top",
				      i < 2 ? "Parcel on hold" : "You were selected", body,
				      i < 2 ? "https://shared-op.top/pay/x1y2z3"
					    : "https://shared-op.top/claim/k9j8h7",
				      "shared-op.top");
		CHECK(t, campaign_assign(ce, r) == 0);
		ids[i] = r->campaign_id;
		result_free(r);
	}
	CHECK(t, ids[0] == ids[1] && ids[2] == ids[3]);
	CHECK(t, ids[0] != ids[2]);
	campaign_engine_free(ce);
	store_close(st);
}

#define LURE_AV                                                                                    \
	"Dear customer, your antivirus licence expired today and your computer "                   \
	"is no longer protected against viruses and identity theft. Renew now "                    \
	"with a discount of 70 percent before midnight, customer number 48213."
#define LURE_AV2                                                                                   \
	"Weekly garden tips: prune the roses after flowering, water the lawn early "               \
	"in the morning and cover the young plants when frost is announced."

/* bridge_run - two campaigns of one operation that started apart (the
 * same sender domain; one with the lure's text and no link, the other
 * with another text, the lure's later subject and a landing site), then
 * a report with the text of the first and the subject and landing of the
 * second. pin_first: an analyst merged another campaign into the first
 * beforehand. Sets the campaign ids of the first, second and bridging
 * report. */
static void bridge_run(struct test_state *t, int pin_first, long long out[3])
{
	struct store *st;
	struct campaign_engine *ce = open_engine(t, &st);
	if (!ce)
		return;
	char sha[65];
	struct result *r;
	for (int i = 0; i < 2; i++) {
		snprintf(sha, sizeof sha, "%064d", 400 + i);
		r = mk(sha, "renew@av-notice.top", "Your antivirus licence expired today", LURE_AV,
		       NULL, NULL);
		CHECK(t, campaign_assign(ce, r) == 0);
		out[0] = r->campaign_id;
		result_free(r);
	}
	if (pin_first) {
		snprintf(sha, sizeof sha, "%064d", 410);
		char body[512];
		snprintf(body, sizeof body, OTHER, "Eva", 5);
		r = mk(sha, "shop@garden.top", "Garden sale", body, NULL, NULL);
		CHECK(t, campaign_assign(ce, r) == 0);
		char why[256];
		CHECK(t, campaign_merge(ce, out[0], r->campaign_id, why, sizeof why) == 0);
		result_free(r);
	}
	snprintf(sha, sizeof sha, "%064d", 420);
	r = mk(sha, "keep@av-notice.top", "Last call to keep your protection", LURE_AV2,
	       "https://renew-av.top/pay/k3j9x1", "renew-av.top");
	CHECK(t, campaign_assign(ce, r) == 0);
	out[1] = r->campaign_id;
	result_free(r);
	snprintf(sha, sizeof sha, "%064d", 430);
	r = mk(sha, "last@av-notice.top", "Last call to keep your protection", LURE_AV,
	       "https://renew-av.top/pay/p8q2w7", "renew-av.top");
	CHECK(t, campaign_assign(ce, r) == 0);
	out[2] = r->campaign_id;
	result_free(r);
	campaign_engine_free(ce);
	store_close(st);
}

/* t_bridge - a report that clearly matches two live campaigns of one
 * operation merges them (the smaller into the larger); an analyst's
 * decision about one of them stops that. */
static void t_bridge(struct test_state *t)
{
	long long id[3] = {0, 0, 0};
	bridge_run(t, 0, id);
	CHECK(t, id[0] > 0 && id[1] > 0 && id[0] != id[1]); /* they started apart */
	CHECK(t, id[2] == id[0]); /* bridged: the one-report campaign joined the larger */
	bridge_run(t, 1, id);
	CHECK(t, id[0] != id[1]);
	CHECK(t, id[2] == id[1]); /* the pinned campaign is left alone: best match only */
}

/* store_report - store r as the report of a submission of its own, as
 * ingest does after clustering it; returns the report id. */
static int64_t store_report(struct store *st, const struct result *r, int i)
{
	char sub[65];
	snprintf(sub, sizeof sub, "%064d", 7000 + i);
	int64_t sid = 0, rid = 0;
	store_add_submission(st, sub, sub, 64, "t.eml", i, &sid);
	store_add_report(st, sid, r, "{\"source\":\"t.eml\"}", &rid);
	return rid;
}

static int count_live(void *ctx, const struct campaign_rec *c)
{
	if (c->reports > 0)
		++*(int *)ctx;
	return 0;
}

/* t_same_message - another report of a message already clustered joins
 * that campaign on the message alone: in a later run too, whose engine
 * starts with empty caches and finds the message through the stored
 * reports (exact-message keys are not in the store's index), and after
 * re-clustering. */
static void t_same_message(struct test_state *t)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct campaign_config cfg = {.alert_reports = 3, .alert_minutes = 10, .filter_after = 1};
	struct campaign_engine *ce = NULL;
	const char *sha = "0000000000000000000000000000000000000000000000000000000000000500";
	/* nothing in common but the message hash (a test shortcut: the same
	 * bytes would give the same features) */
	const char *from[] = {"x@rot1.top", "shop@garden.top", "tips@weekly.top"};
	const char *subj[] = {"Account limited", "Garden sale", "Weekly tips"};
	char body[512];
	int64_t rid[3] = {0, 0, 0};
	long long cid[3] = {0, 0, 0};
	for (int i = 0; i < 3 && st; i++) {
		if (ce) /* as an ingest does before it commits */
			CHECK(t, campaign_flush(ce) == 0);
		ce = campaign_engine_free(ce);
		ce = campaign_engine_new(st, &cfg, &err); /* a new run each time */
		CHECK(t, ce != NULL);
		if (!ce)
			break;
		snprintf(body, sizeof body, i ? OTHER : LURE, "Anna", 10 + i);
		struct result *r = mk(sha, from[i], subj[i], body, NULL, NULL);
		CHECK(t, campaign_assign(ce, r) == 0);
		cid[i] = r->campaign_id;
		rid[i] = store_report(st, r, i);
		result_free(r);
		if (i == 1) {
			long n = 0;
			char why[256];
			CHECK(t, campaign_recluster(ce, &n, why, sizeof why) == 0);
			CHECK(t, n == 2);
		}
	}
	CHECK(t, cid[0] > 0 && cid[1] == cid[0]);
	struct store_campaign *sc = ce ? store_campaign_open(st) : NULL;
	CHECK(t, sc != NULL);
	for (int i = 0; sc && i < 3; i++) {
		char msg[65];
		int64_t c = 0;
		CHECK(t, store_campaign_report_sha(sc, rid[i], msg, &c) == STORE_OK);
		CHECK(t, c > 0 && c == cid[2]);
	}
	int live = 0; /* re-clustered together, then joined: one campaign */
	CHECK(t, sc && store_campaign_each(sc, count_live, &live) == STORE_OK && live == 1);
	store_campaign_close(sc);
	campaign_engine_free(ce);
	store_close(st);
	free(err);
}

/* t_same_message_run - the same within one run whose key cache was
 * emptied (here by an analyst's split; also when it fills up): the message of
 * a report placed in this run must still be found in the store, so the
 * engine's filter of stored messages has to learn each one it places. */
static void t_same_message_run(struct test_state *t)
{
	struct store *st;
	struct campaign_engine *ce = open_engine(t, &st);
	if (!ce)
		return;
	char body[512];
	/* an earlier run stored another campaign, so this run's look-ups go
	 * to the store and read the filters before its first report is
	 * placed: that report reaches the filter only through place() */
	snprintf(body, sizeof body, OTHER, "Bob", 11);
	struct result *r = mk("6010000000000000000000000000000000000000000000000000000000000000",
			      "shop@garden.top", "Garden sale", body, NULL, NULL);
	CHECK(t, campaign_assign(ce, r) == 0 && r->campaign_id > 0);
	store_report(st, r, 1);
	result_free(r);
	CHECK(t, campaign_flush(ce) == 0);
	campaign_engine_free(ce);
	ce = new_engine(t, &st, 1, 0);
	if (!ce)
		return;
	/* hashes differ in their first 16 digits, which the filter reads */
	const char *sha = "6000000000000000000000000000000000000000000000000000000000000000";
	snprintf(body, sizeof body, LURE, "Anna", 10);
	r = mk(sha, "x@rot1.top", "Account limited", body, NULL, NULL);
	CHECK(t, campaign_assign(ce, r) == 0 && r->campaign_id > 0);
	int64_t rid = store_report(st, r, 0);
	result_free(r);
	struct store_campaign *sc = store_campaign_open(st);
	char msg[65], why[256];
	int64_t c = 0, other = 0, nid = 0;
	CHECK(t, sc && store_campaign_report_sha(sc, rid - 1, msg, &other) == STORE_OK);
	/* an analyst decision on the other campaign empties the key cache
	 * (re-clustering would place this run's report again) */
	CHECK(t, campaign_split(ce, other, NULL, 0, &nid, why, sizeof why) == 0);
	r = mk(sha, "tips@weekly.top", "Weekly tips", LURE_AV2, NULL, NULL);
	CHECK(t, campaign_assign(ce, r) == 0);
	CHECK(t, sc && store_campaign_report_sha(sc, rid, msg, &c) == STORE_OK);
	CHECK(t, c > 0 && r->campaign_id == c && r->campaign_id != other);
	result_free(r);
	store_campaign_close(sc);
	campaign_engine_free(ce);
	store_close(st);
}

/* t_tally - a campaign's indicator counts come out the same whether
 * counted report by report in the cache (with its side array for the
 * rarest value) or rebuilt from the stored members' texts (jansson only):
 * 70 reports, 50 senders, several per sender, more values than are kept. */
static void t_tally(struct test_state *t)
{
	struct store *st;
	struct campaign_engine *ce = open_engine(t, &st);
	if (!ce)
		return;
	long long cid = 0;
	int same = 1;
	for (int i = 0; i < 70; i++) {
		char sha[65], from[64], body[512];
		snprintf(sha, sizeof sha, "%064d", 900 + i);
		/* senders 0-19 twice or more, then new ones (ties and misses) */
		int who = i < 40 ? i % 20 : i - 20;
		snprintf(from, sizeof from, "%c%02d@bank-%02d.top", 'a' + who % 26, who, who % 7);
		snprintf(body, sizeof body, LURE, "Anna", 10 + i);
		struct result *r = mk(sha, from, "Account limited", body,
				      "https://login.bank-alert.top/x", "bank-alert.top");
		CHECK(t, campaign_assign(ce, r) == 0);
		if (!cid)
			cid = r->campaign_id;
		same &= r->campaign_id == cid;
		store_report(st, r, 900 + i);
		result_free(r);
	}
	CHECK(t, cid > 0 && same);
	CHECK(t, campaign_flush(ce) == 0);
	struct store_campaign *sc = store_campaign_open(st);
	struct campaign_rec a = {0}, b = {0};
	CHECK(t, sc && store_campaign_get(sc, cid, &a) == STORE_OK && a.agg);
	json_error_t je;
	json_t *agg = a.agg ? json_loads(a.agg, 0, &je) : NULL;
	/* more values than kept: the rarest were replaced */
	CHECK(t, json_object_size(json_object_get(agg, "indicators")) == 32);
	json_decref(agg);
	int64_t nid = 0;
	char why[256];
	/* a split of no report rebuilds the campaign from its members */
	CHECK(t, campaign_split(ce, cid, NULL, 0, &nid, why, sizeof why) == 0);
	CHECK(t, sc && store_campaign_get(sc, cid, &b) == STORE_OK && b.agg);
	CHECK(t, a.agg && b.agg && !strcmp(a.agg, b.agg));
	campaign_rec_release(&a);
	campaign_rec_release(&b);
	store_campaign_close(sc);
	campaign_engine_free(ce);
	store_close(st);
}

/* t_filter_after - the filters are read after at least
 * CAMPAIGN_FILTER_AFTER store look-ups, and after more the larger the store:
 * their pass grows with it (campaign.h). */
static void t_filter_after(struct test_state *t)
{
	CHECK(t, campaign_filter_after(0) == CAMPAIGN_FILTER_AFTER);
	CHECK(t, campaign_filter_after(10000) == CAMPAIGN_FILTER_AFTER);
	CHECK(t, campaign_filter_after(110000) == 22000);
	CHECK(t, campaign_filter_after(2000000) == 400000);
}

static void t_engine(struct test_state *t)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	CHECK(t, st != NULL);
	if (!st)
		return;
	struct campaign_config cfg = {.alert_reports = 3, .alert_minutes = 10};
	struct campaign_engine *ce = campaign_engine_new(st, &cfg, &err);
	CHECK(t, ce != NULL);
	if (!ce) {
		store_close(st);
		return;
	}
	const char *names[] = {"Anna", "Bram", "Chloe", "Daan"};
	long long ids[8];
	char body[512], sha[65], url[128];
	for (int i = 0; i < 4; i++) {
		snprintf(body, sizeof body, LURE, names[i], 1000 + i * 7);
		snprintf(sha, sizeof sha, "%064d", i + 1);
		snprintf(url, sizeof url, "https://secure-bank.top/login/%dab%d", i * 31, i);
		struct result *r =
		    mk(sha, "x@rot1.top", "Account limited", body, url, "secure-bank.top");
		CHECK(t, campaign_assign(ce, r) == 0);
		ids[i] = r->campaign_id;
		result_free(r);
	}
	CHECK(t, ids[0] > 0);
	CHECK(t, ids[1] == ids[0] && ids[2] == ids[0] && ids[3] == ids[0]);
	/* unrelated, but sharing a shortener and webmail sender */
	for (int i = 0; i < 2; i++) {
		snprintf(body, sizeof body, OTHER, names[i], 77 + i);
		snprintf(sha, sizeof sha, "%064d", 50 + i);
		struct result *r = mk(sha, i ? "x@rot1.top" : "a@gmail.com", "Garden sale", body,
				      "https://bit.ly/abc", "bit.ly");
		CHECK(t, campaign_assign(ce, r) == 0);
		ids[4 + i] = r->campaign_id;
		result_free(r);
	}
	CHECK(t, ids[4] != ids[0]);
	CHECK(t, ids[5] == ids[4]);
	char why[256];
	CHECK(t, campaign_merge(ce, ids[0], ids[4], why, sizeof why) == 0);
	long n = 0;
	CHECK(t, campaign_recluster(ce, &n, why, sizeof why) == 0);
	CHECK(t, n == 6);
	campaign_engine_free(ce);
	store_close(st);
	free(err);
}

/* open_tables - an empty in-memory store and its campaign tables,
 * checked; NULL, with nothing left open, when either cannot be made. */
static struct store_campaign *open_tables(struct test_state *t, struct store **st)
{
	char *err = NULL;
	*st = store_open(":memory:", &err);
	free(err);
	struct store_campaign *sc = *st ? store_campaign_open(*st) : NULL;
	CHECK(t, sc != NULL);
	if (!sc)
		*st = store_close(*st);
	return sc;
}

/* t_msg_lookup - the campaigns of a message's stored reports come back
 * distinct, highest id first, at most max (what the key look-up gives). */
static void t_msg_lookup(struct test_state *t)
{
	struct store *st;
	struct store_campaign *sc = open_tables(t, &st);
	if (!sc)
		return;
	const char *sha = "0000000000000000000000000000000000000000000000000000000000000700";
	const long long cid[] = {5, 3, 5, 9, 0, 1};
	for (int i = 0; i < 6; i++) {
		struct result *r = mk(sha, "a@b.top", "s", "body", NULL, NULL);
		r->campaign_id = cid[i];
		store_report(st, r, 100 + i);
		result_free(r);
	}
	int64_t ids[8];
	int n = -1;
	CHECK(t, store_campaign_msg_lookup(sc, sha, ids, 2, &n) == STORE_OK);
	CHECK(t, n == 2 && ids[0] == 9 && ids[1] == 5);
	CHECK(t, store_campaign_msg_lookup(sc, sha, ids, 8, &n) == STORE_OK);
	CHECK(t, n == 4 && ids[0] == 9 && ids[1] == 5 && ids[2] == 3 && ids[3] == 1);
	CHECK(t, store_campaign_msg_lookup(sc, "00ff", ids, 8, &n) == STORE_OK && n == 0);
	store_campaign_close(sc);
	store_close(st);
}

/* key_rows - rows of one level of the key index. */
static long key_rows(struct store *st, const char *table)
{
	char q[96];
	snprintf(q, sizeof q, "SELECT count(*) FROM %s", table);
	sqlite3_stmt *s;
	long n = -1;
	if (sqlite3_prepare_v2(store_sqlite(st), q, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* t_key_levels - keys added go to the recent level, and move into
 * campaign_key once it fills; a look-up answers from both, newest
 * campaign first, each campaign once, before and after the move. */
static void t_key_levels(struct test_state *t)
{
	struct store *st;
	struct store_campaign *sc = open_tables(t, &st);
	if (!sc)
		return;
	int64_t ids[STORE_CAMPAIGN_KEY_MAX];
	int n = -1, ok = 1;
	/* key 7 names campaigns 2 and 9 before the move, 4 and 9 after it
	 * (9 in both levels: it must come back once) */
	CHECK(t, store_campaign_key_add(sc, 7, 7, 2) == STORE_OK);
	CHECK(t, store_campaign_key_add(sc, 7, 7, 9) == STORE_OK);
	CHECK(t, key_rows(st, "campaign_key_recent") == 2 && key_rows(st, "campaign_key") == 0);
	/* more keys than the recent level holds (40,000 > 32,768): one move */
	for (int64_t k = 1000; k < 41000; k++)
		ok &=
		    store_campaign_key_add(sc, (uint64_t)k * 0x9e3779b97f4a7c15u, 7, k) == STORE_OK;
	CHECK(t, ok);
	long moved = key_rows(st, "campaign_key"), recent = key_rows(st, "campaign_key_recent");
	CHECK(t, moved > 2 && recent >= 0 && moved + recent == 40002);
	CHECK(t, store_campaign_key_add(sc, 7, 7, 4) == STORE_OK);
	CHECK(t, store_campaign_key_add(sc, 7, 7, 9) == STORE_OK);
	CHECK(t, key_rows(st, "campaign_key_recent") == recent + 2);
	CHECK(t, store_campaign_key_lookup(sc, 7, ids, 8, &n) == STORE_OK);
	CHECK(t, n == 3 && ids[0] == 9 && ids[1] == 4 && ids[2] == 2);
	CHECK(t, store_campaign_key_lookup(sc, 7, ids, 2, &n) == STORE_OK);
	CHECK(t, n == 2 && ids[0] == 9 && ids[1] == 4);
	CHECK(t,
	      store_campaign_key_lookup(sc, 1000 * 0x9e3779b97f4a7c15u, ids, 8, &n) == STORE_OK &&
		  n == 1 && ids[0] == 1000);
	CHECK(t, store_campaign_key_lookup(sc, 8, ids, 8, &n) == STORE_OK && n == 0);
	/* the filter's read of all keys sees both levels */
	uint64_t *keys = NULL;
	size_t nk = 0;
	CHECK(t, store_campaign_keys(sc, &keys, &nk) == STORE_OK && nk == 40004);
	free(keys);
	store_campaign_close(sc);
	store_close(st);
}

/* t_preload - a resident ingest holds the whole key index in its cache
 * (campaign_config.preload): it answers as the store does (the 9 most
 * recent campaigns of a key in 12, from both levels, a pair in both
 * counted once; a key's list of two; one; none) without asking it, and
 * keys this run adds are found too. Without preload the same answers come
 * from the store. */
static void t_preload(struct test_state *t)
{
	struct store *st;
	struct store_campaign *sc = open_tables(t, &st);
	if (!sc)
		return;
	const int64_t many[] = {3, 12, 1, 7, 9, 2, 11, 5, 4, 10, 6, 8};
	int ok = 1;
	for (int i = 0; i < 12; i++)
		ok &= store_campaign_key_add(sc, 77, CK_SENDER, many[i]) == STORE_OK;
	ok &= store_campaign_key_add(sc, 78, CK_SENDER, 5) == STORE_OK;
	ok &= store_campaign_key_add(sc, 78, CK_SENDER, 2) == STORE_OK;
	ok &= store_campaign_key_add(sc, 79, CK_SENDER, 4) == STORE_OK;
	for (int64_t k = 1000; k < 34000; k++) /* fills the recent level: a move */
		ok &= store_campaign_key_add(sc, (uint64_t)k * 0x9e3779b97f4a7c15u, CK_BAND,
					     1 + k % 20) == STORE_OK;
	ok &= store_campaign_key_add(sc, 77, CK_SENDER, 13) == STORE_OK;
	ok &= store_campaign_key_add(sc, 78, CK_SENDER, 5) == STORE_OK; /* in both levels */
	CHECK(t, ok);
	CHECK(t, key_rows(st, "campaign_key") > 15 && key_rows(st, "campaign_key_recent") > 0);
	store_campaign_close(sc);
	const int64_t want77[] = {13, 12, 11, 10, 9, 8, 7, 6, 5};
	for (int preload = 0; preload <= 1; preload++) {
		struct campaign_engine *ce = new_engine(t, &st, 1, preload);
		if (!ce)
			break;
		int64_t ids[16];
		long lookups = -1;
		int pre = -1;
		CHECK(t, campaign_index_key(ce, 77, ids, 16) == 9);
		CHECK(t, !memcmp(ids, want77, sizeof want77));
		CHECK(t, campaign_index_key(ce, 78, ids, 16) == 2 && ids[0] == 5 && ids[1] == 2);
		CHECK(t, campaign_index_key(ce, 79, ids, 16) == 1 && ids[0] == 4);
		CHECK(t, campaign_index_key(ce, 1000 * 0x9e3779b97f4a7c15u, ids, 16) == 1 &&
			     ids[0] == 1);
		CHECK(t, campaign_index_key(ce, 80, ids, 16) == 0);
		campaign_key_stats(ce, &lookups, &pre);
		CHECK(t, pre == preload);
		/* 77, 78 and 79 asked the store without preload (the filter
		 * holds them; it may also let 80 through); none with it */
		CHECK(t, preload ? lookups == 0 : lookups >= 3);
		/* a report placed in this run: its keys are found by the next
		 * one, which joins it, either way (nothing in common with the
		 * other pass's campaign) */
		char body[512], from[64], url[64], dom[64];
		long long cid[2] = {0, 0};
		snprintf(from, sizeof from, "x@rot9%d.top", preload);
		snprintf(dom, sizeof dom, "secure-pre%d.top", preload);
		snprintf(url, sizeof url, "https://%s/login/1ab", dom);
		for (int i = 0; i < 2; i++) {
			char sha[65];
			/* differing in the first 16 digits, which the message
			 * filter reads */
			snprintf(sha, sizeof sha, "9%d%d%061d", preload, i, 0);
			snprintf(body, sizeof body, preload ? LURE_C : LURE, i ? "Bram" : "Anna",
				 500 + i);
			struct result *r =
			    mk(sha, from, preload ? "Prize waiting" : "Account limited", body, url,
			       dom);
			CHECK(t, campaign_assign(ce, r) == 0);
			cid[i] = r->campaign_id;
			result_free(r);
		}
		CHECK(t, cid[0] > 0 && cid[1] == cid[0]);
		campaign_key_stats(ce, &lookups, &pre);
		CHECK(t, !preload || (pre == 1 && lookups == 0));
		CHECK(t, campaign_flush(ce) == 0);
		campaign_engine_free(ce);
	}
	store_close(st);
}

/* t_write_back - the engine writes a campaign's row at campaign_flush()
 * (an ingest's commit), not per report: after it the store holds every
 * report's count, the alert and the aggregates, and a later run goes on
 * from there. */
static void t_write_back(struct test_state *t)
{
	struct store *st;
	struct campaign_engine *ce = open_engine(t, &st);
	if (!ce)
		return;
	char sha[65], body[512];
	long long cid = 0;
	for (int i = 0; i < 4 && ce; i++) {
		if (i == 3) { /* a new run after a flush */
			CHECK(t, campaign_flush(ce) == 0);
			campaign_engine_free(ce);
			char *err = NULL;
			struct campaign_config cfg = {.alert_reports = 3, .alert_minutes = 10};
			ce = campaign_engine_new(st, &cfg, &err);
			free(err);
			CHECK(t, ce != NULL);
			if (!ce)
				break;
		}
		snprintf(sha, sizeof sha, "%064d", 600 + i);
		snprintf(body, sizeof body, LURE_B, 7000 + i);
		struct result *r = mk(sha, "depot@a1.top", "Parcel on hold", body,
				      "https://shared-op.top/pay/x1y2z3", "shared-op.top");
		CHECK(t, campaign_assign(ce, r) == 0);
		if (i == 0)
			cid = r->campaign_id;
		CHECK(t, cid > 0 && r->campaign_id == cid);
		result_free(r);
	}
	CHECK(t, campaign_flush(ce) == 0);
	struct store_campaign *sc = store_campaign_open(st);
	struct campaign_rec c = {0};
	CHECK(t, sc && store_campaign_get(sc, cid, &c) == STORE_OK);
	CHECK(t, c.reports == 4 && c.alerted_at > 0);
	CHECK(t, c.agg && strstr(c.agg, "\"domain:shared-op.top\":4"));
	campaign_rec_release(&c);
	store_campaign_close(sc);
	campaign_engine_free(ce);
	store_close(st);
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, t_subject);
	RUN(&t, t_path);
	RUN(&t, t_ignore);
	RUN(&t, t_engine);
	RUN(&t, t_decoration);
	RUN(&t, t_self_links);
	RUN(&t, t_lures);
	RUN(&t, t_bridge);
	RUN(&t, t_same_message);
	RUN(&t, t_same_message_run);
	RUN(&t, t_filter_after);
	RUN(&t, t_tally);
	RUN(&t, t_write_back);
	RUN(&t, t_msg_lookup);
	RUN(&t, t_key_levels);
	RUN(&t, t_preload);
	return TEST_SUMMARY(&t);
}
