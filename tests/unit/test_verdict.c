/*
 * test_verdict.c - the verdict engine with made messages: classes and
 * scores from the combined signals, known lists named in reasons, a
 * mixed-script look-alike, the model file (train, save, load, reject), and
 * invariance: receiving-server headers, the recipient and the date never
 * change a verdict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract/extract.h"
#include "verdict/content.h"
#include "verdict/model.h"
#include "verdict/verdict.h"
#include "test.h"

struct out {
	char verdict[16];
	int score;
	char lang[8];
	char reasons[4096]; /* "code:weight " ... */
	char details[4096];
};

static struct extractor *X;

static int on_result(void *p, struct result *r)
{
	void **c = p;
	struct verdict_engine *ve = c[0];
	struct out *o = c[1];
	verdict_judge(ve, r);
	snprintf(o->verdict, sizeof(o->verdict), "%s", r->verdict ? r->verdict : "null");
	o->score = r->score;
	snprintf(o->lang, sizeof(o->lang), "%s", r->language ? r->language : "-");
	for (size_t i = 0; i < r->reasons.n; i++) {
		size_t n = strlen(o->reasons);
		snprintf(o->reasons + n, sizeof(o->reasons) - n, "%s:%d ", r->reasons.v[i].code,
			 r->reasons.v[i].weight);
		n = strlen(o->details);
		snprintf(o->details + n, sizeof(o->details) - n, "%s | ",
			 r->reasons.v[i].detail ? r->reasons.v[i].detail : "");
	}
	return 1;
}

static struct out judge(struct verdict_engine *ve, const char *msg)
{
	struct out o = {0};
	void *c[2] = {ve, &o};
	char sha[65] = "";
	extract_report(X, msg, strlen(msg), "test", -1, sha, on_result, c);
	return o;
}

#define HDR_RECEIVER                                                                               \
	"Delivered-To: phishing@pot\r\n"                                                           \
	"Received: from mx1.example.net (mx1.example.net [203.0.113.5]) by mx.pot with "           \
	"ESMTPS id 4Q1; Mon, 15 Jan 2024 10:00:00 +0000\r\n"                                       \
	"Authentication-Results: mx.pot; spf=softfail smtp.mailfrom=example.net; "                 \
	"dkim=none; dmarc=fail header.from=example.net\r\n"                                        \
	"ARC-Seal: i=1; a=rsa-sha256; d=pot; s=arc; cv=none; b=AAAA\r\n"                           \
	"ARC-Message-Signature: i=1; a=rsa-sha256; d=pot; s=arc; h=from:to; bh=AAAA; "             \
	"b=AAAA\r\n"                                                                               \
	"ARC-Authentication-Results: i=1; mx.pot; spf=softfail\r\n"                                \
	"Received-SPF: SoftFail (mx.pot: domain of example.net discourages use of "                \
	"203.0.113.5)\r\n"                                                                         \
	"X-Spam-Status: Yes, score=9.9\r\nX-Spam-Flag: YES\r\n"

static const char *const PHISH_BODY =
    "Content-Type: text/html; charset=utf-8\r\n\r\n"
    "<html><body><p>Dear customer,</p><p>Unusual activity was detected. Your account has "
    "been suspended. Please verify your account within 24 hours or it will be permanently "
    "disabled.</p><form action=\"https://secure-check.example.top/collect.php\" "
    "method=\"post\"><input name=\"user\"><input type=\"password\" name=\"pw\"></form>"
    "<p><a href=\"https://secure-check.example.top/login\">Verify now</a></p></body></html>\r\n";

static const char *const HAM_BODY =
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Hi Jan,\r\n\r\nThanks for the notes from yesterday's meeting. I have added my comments "
    "to the draft and moved the review to Thursday afternoon, if that works for you. Could "
    "you also bring the figures for the second quarter? The team would like to compare them "
    "with the plan before we send anything out.\r\n\r\nCheers,\r\nPeter\r\n";

static char *make_msg(const char *extra, const char *to, const char *date, const char *from,
		      const char *subject, const char *body)
{
	size_t n = strlen(extra) + strlen(body) + 1024;
	char *m = malloc(n);
	snprintf(m, n,
		 "%sFrom: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <1@x>\r\n"
		 "MIME-Version: 1.0\r\n%s",
		 extra, from, to, subject, date, body);
	return m;
}

static struct verdict_engine *VE;

static void test_phishing(struct test_state *ts)
{
	char *m = make_msg("", "klant@example.be", "Mon, 2 Sep 2024 10:00:00 +0000",
			   "Service <noreply@mailer.example.com>",
			   "Action required: account "
			   "suspended",
			   PHISH_BODY);
	struct out o = judge(VE, m);
	CHECK_STR(ts, o.verdict, "phishing");
	CHECK(ts, o.score >= 80);
	CHECK(ts, strstr(o.reasons, "content.credential:") != NULL);
	CHECK(ts, strstr(o.reasons, "form.offsite:") != NULL);
	CHECK(ts, strstr(o.details, "posts to example.top") != NULL);
	CHECK_STR(ts, o.lang, "en");
	free(m);
}

static void test_malware(struct test_state *ts)
{
	const char *body =
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: "
	    "text/plain\r\n\r\nPlease find the invoice attached.\r\n--b\r\nContent-Type: "
	    "application/octet-stream; name=\"invoice.pdf.exe\"\r\nContent-Disposition: "
	    "attachment; filename=\"invoice.pdf.exe\"\r\nContent-Transfer-Encoding: "
	    "base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
	    "--b--\r\n";
	char *m = make_msg("", "a@example.be", "Mon, 2 Sep 2024 10:00:00 +0000",
			   "Accounts <billing@supplier.example>", "Invoice", body);
	struct out o = judge(VE, m);
	CHECK_STR(ts, o.verdict, "malware");
	CHECK(ts, strstr(o.reasons, "attach.executable:") != NULL);
	free(m);
}

static void test_scam(struct test_state *ts)
{
	const char *body =
	    "Content-Type: text/plain\r\n\r\nDear friend, I am barrister James, the attorney "
	    "of a late client who left an inheritance of 8.5 million dollars. You are the next "
	    "of kin. Reply with your full name so we can transfer the funds. Strictly "
	    "confidential.\r\n";
	char *m = make_msg("", "a@example.be", "Mon, 2 Sep 2024 10:00:00 +0000",
			   "Barrister James <james@mail.example>", "Business proposal", body);
	struct out o = judge(VE, m);
	CHECK_STR(ts, o.verdict, "scam");
	CHECK(ts, strstr(o.reasons, "content.advance_fee:") != NULL);
	free(m);
}

static void test_ham(struct test_state *ts)
{
	char *m = make_msg("", "jan@example.be", "Mon, 2 Sep 2024 10:00:00 +0000",
			   "Peter <peter@colleague.example>", "Re: meeting notes", HAM_BODY);
	struct out o = judge(VE, m);
	CHECK(ts, strcmp(o.verdict, "phishing") && strcmp(o.verdict, "malware") &&
		      strcmp(o.verdict, "scam"));
	CHECK(ts, o.score < 50);
	CHECK(ts, strstr(o.reasons, "model:") != NULL);
	free(m);
}

/* Receiving-server headers, the recipient and the date: never features. */
static void test_invariance(struct test_state *ts)
{
	const char *bodies[] = {PHISH_BODY, HAM_BODY};
	for (size_t i = 0; i < 2; i++) {
		char *a = make_msg("", "jan@example.be", "Tue, 3 Sep 2002 09:15:00 +0200",
				   "Sender <info@sender.example>", "Your account", bodies[i]);
		char *b = make_msg(HDR_RECEIVER, "phishing@pot", "Mon, 15 Jan 2024 10:00:00 +0000",
				   "Sender <info@sender.example>", "Your account", bodies[i]);
		struct out oa = judge(VE, a), ob = judge(VE, b);
		CHECK_STR(ts, oa.verdict, ob.verdict);
		CHECK(ts, oa.score == ob.score);
		CHECK_STR(ts, oa.reasons, ob.reasons);
		free(a);
		free(b);
	}
	/* the recipient's address quoted in the body is not a feature either */
	char *a = make_msg("", "jan@example.be", "Mon, 2 Sep 2024 10:00:00 +0000",
			   "Peter <peter@colleague.example>", "Re: notes",
			   "Content-Type: text/plain\r\n\r\nHello jan@example.be, the notes are "
			   "ready for the meeting and the team will send them to you.\r\n");
	char *b = make_msg("", "phishing@pot", "Mon, 2 Sep 2024 10:00:00 +0000",
			   "Peter <peter@colleague.example>", "Re: notes",
			   "Content-Type: text/plain\r\n\r\nHello phishing@pot, the notes are "
			   "ready for the meeting and the team will send them to you.\r\n");
	struct out oa = judge(VE, a), ob = judge(VE, b);
	CHECK_STR(ts, oa.verdict, ob.verdict);
	CHECK(ts, oa.score == ob.score);
	free(a);
	free(b);
}

static void test_mixed_script(struct test_state *ts)
{
	/* "bеlfius.be" with a Cyrillic e (U+0435) */
	const char *body = "Content-Type: text/html; charset=utf-8\r\n\r\n<p>Beste klant, log in "
			   "via <a href=\"https://b\xd0\xb5lfius.be/login\">Belfius Direct Net</a>"
			   " om uw kaartlezer te bevestigen.</p>\r\n";
	char *m =
	    make_msg("", "a@example.be", "Mon, 2 Sep 2024 10:00:00 +0000",
		     "Belfius <info@belfius-klant.example>", "Belfius: bevestig uw gegevens", body);
	struct out o = judge(VE, m);
	CHECK_STR(ts, o.verdict, "phishing");
	CHECK(ts, strstr(o.reasons, "lookalike.") != NULL || strstr(o.reasons, "brand.") != NULL);
	CHECK_STR(ts, o.lang, "nl");
	free(m);
}

static void test_lists(struct test_state *ts)
{
	char dir[] = "/tmp/shield-test-verdict-XXXXXX";
	CHECK(ts, mkdtemp(dir) != NULL);
	char bad[256], good[256];
	snprintf(bad, sizeof(bad), "%s/feed.txt", dir);
	snprintf(good, sizeof(good), "%s/list.json", dir);
	FILE *f = fopen(bad, "w");
	fprintf(f, "# test feed\nhttps://secure-check.example.top/login\n");
	fclose(f);
	f = fopen(good, "w");
	fprintf(f, "{\"name\": \"Known sites\", \"type\": \"string\", \"list\": "
		   "[\"colleague.example\", \"example.org\"]}\n");
	fclose(f);
	char spec[300];
	snprintf(spec, sizeof(spec), "testfeed=%s", bad);
	const char *bads[] = {spec, NULL}, *goods[] = {good, NULL};
	struct verdict_config cfg = {0};
	cfg.bad_lists = bads;
	cfg.good_lists = goods;
	char *err = NULL;
	struct verdict_engine *ve = verdict_engine_new(&cfg, extractor_psl(X), &err);
	CHECK(ts, ve != NULL);
	if (ve) {
		char *m = make_msg("", "a@example.be", "Mon, 2 Sep 2024 10:00:00 +0000",
				   "S <s@mailer.example>", "hello", PHISH_BODY);
		struct out o = judge(ve, m);
		CHECK(ts, strstr(o.reasons, "list.bad:") != NULL);
		CHECK(ts, strstr(o.details, "testfeed: https://secure-check.example.top/login") !=
			      NULL);
		free(m);
		m = make_msg("", "a@example.be", "Mon, 2 Sep 2024 10:00:00 +0000",
			     "Peter <peter@colleague.example>", "notes",
			     "Content-Type: text/html\r\n\r\n<p>The agenda is on <a "
			     "href=\"https://www.example.org/agenda\">the site</a>.</p>\r\n");
		o = judge(ve, m);
		CHECK(ts, strstr(o.reasons, "list.good:-") != NULL);
		CHECK(ts, strstr(o.details, "Known sites") != NULL);
		free(m);
		verdict_engine_free(ve);
	}
	/* a list that cannot be read is an error naming it */
	const char *missing[] = {"/nonexistent/feed.txt", NULL};
	cfg.bad_lists = missing;
	ve = verdict_engine_new(&cfg, extractor_psl(X), &err);
	CHECK(ts, ve == NULL && err && strstr(err, "/nonexistent/feed.txt"));
	free(err);
	unlink(bad);
	unlink(good);
	rmdir(dir);
}

static void add_text(struct model_trainer *tr, int cls, const char *text)
{
	struct tokens t;
	tokens_make(&t, NULL, text);
	struct result *r = result_new("t", -1);
	struct model_feats fs;
	model_features(&fs, &t, r, 0);
	model_trainer_add(tr, cls, &fs);
	model_feats_release(&fs);
	result_free(r);
	tokens_release(&t);
}

static double predict(const struct model *m, const char *text, int cls, char *top, size_t n)
{
	struct tokens t;
	tokens_make(&t, NULL, text);
	struct result *r = result_new("t", -1);
	struct model_feats fs;
	model_features(&fs, &t, r, 0);
	struct model_out o;
	model_predict(m, &fs, &o);
	if (top)
		snprintf(top, n, "%.*s", o.n_top ? (int)o.top[0].f->len : 0,
			 o.n_top ? o.top[0].f->name : "");
	model_feats_release(&fs);
	result_free(r);
	tokens_release(&t);
	return o.p[cls];
}

static void test_model_file(struct test_state *ts)
{
	struct model_trainer *tr = model_trainer_new();
	for (int i = 0; i < 20; i++) {
		add_text(tr, MODEL_MAL, "verify your password now account suspended");
		add_text(tr, MODEL_HAM, "lunch meeting agenda thursday notes");
		add_text(tr, MODEL_SPAM, "cheap watches discount offer unsubscribe");
	}
	struct model *m = model_trainer_fit(tr, 10, 1);
	char path[] = "/tmp/shield-test-model-XXXXXX";
	int fd = mkstemp(path);
	CHECK(ts, fd >= 0);
	close(fd);
	char *err = NULL;
	CHECK(ts, model_save(m, path, "unit test", &err) == 0);
	struct model *l = model_load(path, &err);
	CHECK(ts, l != NULL);
	if (l) {
		char top[64];
		CHECK(ts,
		      predict(l, "please verify your password", MODEL_MAL, top, sizeof(top)) > 0.6);
		CHECK(ts, !strcmp(top, "verify") || !strcmp(top, "password"));
		CHECK(ts, predict(l, "agenda for the meeting", MODEL_HAM, NULL, 0) > 0.6);
		CHECK(ts, predict(l, "discount watches", MODEL_SPAM, NULL, 0) > 0.6);
		/* same data, same seed: same model */
		struct model *m2 = model_trainer_fit(tr, 10, 1);
		CHECK(ts, predict(m2, "verify", MODEL_MAL, NULL, 0) ==
			      predict(m, "verify", MODEL_MAL, NULL, 0));
		model_free(m2);
	}
	model_free(l);
	/* wrong magic, truncated file */
	FILE *f = fopen(path, "w");
	fprintf(f, "shield-model v9\nend\n");
	fclose(f);
	CHECK(ts, model_load(path, &err) == NULL && strstr(err, path));
	free(err);
	err = NULL;
	f = fopen(path, "w");
	fprintf(f, "shield-model v1\nbuckets 262144\n12 0.1 0.2 0.3\n");
	fclose(f);
	CHECK(ts, model_load(path, &err) == NULL && strstr(err, "truncated"));
	free(err);
	unlink(path);
	model_free(m);
	model_trainer_free(tr);
}

static void test_bundled_model(struct test_state *ts)
{
	char *err = NULL;
	struct model *m = model_load(SHIELD_DATADIR "/model.txt", &err);
	CHECK(ts, m != NULL);
	free(err);
	model_free(m);
	struct verdict_config cfg = {0};
	cfg.model_file = "/nonexistent/model.txt";
	err = NULL;
	struct verdict_engine *ve = verdict_engine_new(&cfg, extractor_psl(X), &err);
	CHECK(ts, ve == NULL && err && strstr(err, "/nonexistent/model.txt"));
	free(err);
}

int main(void)
{
	struct test_state ts = {0};
	char *err = NULL;
	X = extractor_new(NULL, &err);
	if (X)
		VE = verdict_engine_new(NULL, extractor_psl(X), &err);
	if (!X || !VE) {
		fprintf(stderr, "setup: %s\n", err ? err : "?");
		return 1;
	}
	RUN(&ts, test_phishing);
	RUN(&ts, test_malware);
	RUN(&ts, test_scam);
	RUN(&ts, test_ham);
	RUN(&ts, test_invariance);
	RUN(&ts, test_mixed_script);
	RUN(&ts, test_lists);
	RUN(&ts, test_model_file);
	RUN(&ts, test_bundled_model);
	verdict_engine_free(VE);
	extractor_free(X);
	return TEST_SUMMARY(&ts);
}
