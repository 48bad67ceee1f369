/*
 * test_content.c - the content signals of the verdict stage with made
 * messages: tokens (folding, dropped addresses/URLs/digits, obfuscation),
 * wording tables in EN/NL/FR/DE, language detection, risky attachments,
 * off-site forms, shorteners, free hosting, data:/javascript: links; and
 * the known lists (lists.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract/extract.h"
#include "verdict/content.h"
#include "verdict/lists.h"
#include "test.h"

struct seen {
	unsigned flags;
	char lang[8];
	char reasons[2048];
};

struct ctx {
	const struct content_checker *cc;
	struct seen *s;
};

static int on_result(void *p, struct result *r)
{
	struct ctx *c = p;
	struct tokens t;
	tokens_make(&t, r->subject, r->body_text);
	c->s->flags = content_judge(c->cc, &t, r);
	const char *l = content_language(c->cc, &t);
	snprintf(c->s->lang, sizeof(c->s->lang), "%s", l ? l : "-");
	for (size_t i = 0; i < r->reasons.n; i++) {
		size_t o = strlen(c->s->reasons);
		snprintf(c->s->reasons + o, sizeof(c->s->reasons) - o, "%s ", r->reasons.v[i].code);
	}
	tokens_release(&t);
	return 1;
}

static struct extractor *X;
static struct content_checker *CC;

static struct seen judge(const char *msg)
{
	struct seen s = {0};
	struct ctx c = {CC, &s};
	char sha[65] = "";
	extract_report(X, msg, strlen(msg), "test", -1, sha, on_result, &c);
	return s;
}

/* plain - a text/plain message with subject and body. */
static struct seen plain(const char *subject, const char *body)
{
	char msg[8192];
	snprintf(msg, sizeof(msg),
		 "From: Sender <info@sender.example>\r\nTo: someone@example.be\r\n"
		 "Subject: %s\r\nDate: Mon, 2 Sep 2024 10:00:00 +0000\r\n"
		 "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		 subject, body);
	return judge(msg);
}

static struct seen html(const char *body)
{
	char msg[8192];
	snprintf(msg, sizeof(msg),
		 "From: Sender <info@sender.example>\r\nTo: someone@example.be\r\n"
		 "Subject: hello\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
		 "<html><body>%s</body></html>\r\n",
		 body);
	return judge(msg);
}

static struct seen attached(const char *name, const char *type, const char *b64)
{
	char msg[8192];
	snprintf(msg, sizeof(msg),
		 "From: Sender <info@sender.example>\r\nTo: someone@example.be\r\n"
		 "Subject: the document\r\nMIME-Version: 1.0\r\n"
		 "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
		 "--b1\r\nContent-Type: text/plain\r\n\r\nsee the attached file\r\n"
		 "--b1\r\nContent-Type: %s; name=\"%s\"\r\n"
		 "Content-Disposition: attachment; filename=\"%s\"\r\n"
		 "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n",
		 type, name, name, b64);
	return judge(msg);
}

static int has_word(const struct tokens *t, const char *w)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->buf + t->v[i].off, w))
			return 1;
	return 0;
}

static void test_tokens(struct test_state *ts)
{
	struct tokens t;
	tokens_make(&t, "URGENT Notice 2024",
		    "Dear phishing@pot, visit https://evil.example/login or www.evil.example "
		    "now! ÉTÉ Straße pass\xe2\x80\x8bword ab12cd x");
	CHECK(ts, has_word(&t, "urgent"));
	CHECK(ts, has_word(&t, "notice"));
	CHECK(ts, !has_word(&t, "2024"));     /* digits: dates, not intent */
	CHECK(ts, !has_word(&t, "phishing")); /* e-mail addresses dropped */
	CHECK(ts, !has_word(&t, "pot"));
	CHECK(ts, !has_word(&t, "evil")); /* URLs dropped */
	CHECK(ts, !has_word(&t, "login"));
	CHECK(ts, has_word(&t, "été")); /* Latin-1 upper case folded */
	CHECK(ts, has_word(&t, "straße"));
	CHECK(ts, has_word(&t, "password")); /* zero-width space removed */
	CHECK(ts, !has_word(&t, "ab12cd"));
	CHECK(ts, !has_word(&t, "x")); /* too short */
	CHECK(ts, t.v[0].subject && !t.v[t.n - 1].subject);
	tokens_release(&t);
	/* mathematical bold "Verify" and fullwidth "ｌｏｇｉｎ" */
	tokens_make(
	    &t, NULL,
	    "\xf0\x9d\x90\x95\xf0\x9d\x90\x9e\xf0\x9d\x90\xab\xf0\x9d\x90\xa2\xf0\x9d\x90"
	    "\x9f\xf0\x9d\x90\xb2 \xef\xbd\x8c\xef\xbd\x8f\xef\xbd\x87\xef\xbd\x89\xef\xbd\x8e");
	CHECK(ts, has_word(&t, "verify"));
	CHECK(ts, has_word(&t, "login"));
	CHECK(ts, t.styled == 11);
	tokens_release(&t);
	tokens_make(&t, NULL, NULL);
	CHECK(ts, t.n == 0);
	tokens_release(&t);
}

static void test_wording(struct test_state *ts)
{
	struct seen s = plain("Action required", "Please verify your account within 24 hours or it "
						 "will be suspended.");
	CHECK(ts, s.flags & CF_CREDENTIAL);
	CHECK(ts, s.flags & CF_URGENCY);
	CHECK(ts, strstr(s.reasons, "content.credential"));
	s = plain("Uw rekening", "Beste klant, bevestig uw gegevens via de link. Uw account is "
				 "geblokkeerd.");
	CHECK(ts, s.flags & CF_CREDENTIAL);
	s = plain("Votre compte", "Bonjour, votre compte a été suspendu. Veuillez vérifier votre "
				  "compte.");
	CHECK(ts, s.flags & CF_CREDENTIAL);
	s = plain("Ihr Konto",
		  "Sehr geehrter Kunde, Ihr Konto wurde gesperrt. Bitte bestätigen Sie "
		  "Ihre Identität.");
	CHECK(ts, s.flags & CF_CREDENTIAL);
	s = plain("Congratulations", "You have won the lottery! Claim your prize today.");
	CHECK(ts, s.flags & CF_PRIZE);
	CHECK(ts, !(s.flags & CF_CREDENTIAL));
	s = plain("Business proposal", "I am a barrister. My late client left an inheritance; you "
				       "are next of kin.");
	CHECK(ts, s.flags & CF_ADVFEE);
	s = plain("Your device", "I recorded you through your webcam. Pay to my bitcoin wallet.");
	CHECK(ts, s.flags & CF_EXTORTION);
	s = plain("Douane", "Betaal de douanekosten voor uw pakket.");
	CHECK(ts, s.flags & CF_PAYMENT);
	/* one weak word alone is not a signal */
	s = plain("Mailing list", "To change your password visit the list page.");
	CHECK(ts, !(s.flags & CF_CREDENTIAL));
	s = plain("Meeting", "Lunch on Friday at noon? The invoice is attached.");
	CHECK(ts, s.flags == 0);
	/* phrases do not run across sentences */
	s = plain("x", "Please verify. Your account is fine.");
	CHECK(ts, !(s.flags & CF_CREDENTIAL));
}

static void test_language(struct test_state *ts)
{
	CHECK_STR(ts,
		  plain("Hello", "We will send you the report for the meeting, and it is "
				 "not ready yet.")
		      .lang,
		  "en");
	CHECK_STR(ts,
		  plain("Hallo", "Wij sturen u het verslag van de vergadering, maar het is nog "
				 "niet klaar.")
		      .lang,
		  "nl");
	CHECK_STR(ts,
		  plain("Bonjour", "Nous vous envoyons le rapport de la réunion, mais il est pas "
				   "encore prêt pour vous.")
		      .lang,
		  "fr");
	CHECK_STR(ts,
		  plain("Hallo", "Wir senden Ihnen den Bericht über die Sitzung, aber er ist "
				 "nicht fertig und die Zahlen sind auf dem Weg.")
		      .lang,
		  "de");
	CHECK_STR(ts, plain("Hi", "ok").lang, "-");
}

static void test_attachments(struct test_state *ts)
{
	/* "MZ" header: an executable by name and by libmagic */
	struct seen s =
	    attached("invoice.pdf.exe", "application/octet-stream",
		     "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	CHECK(ts, s.flags & CF_ATTACH_EXEC);
	CHECK(ts, strstr(s.reasons, "attach.executable"));
	s = attached("Scan.lnk", "application/octet-stream", "TAAAAAEUAgAAAAAAwAAAAAAAAEY=");
	CHECK(ts, s.flags & CF_ATTACH_EXEC);
	s = attached("disk.iso", "application/octet-stream", "AAAA");
	CHECK(ts, s.flags & CF_ATTACH_EXEC);
	s = attached("Factuur.docm", "application/octet-stream", "UEsDBA==");
	CHECK(ts, s.flags & CF_ATTACH_MACRO);
	s = attached("login.html", "text/html", "PGZvcm0+PC9mb3JtPg==");
	CHECK(ts, s.flags & CF_ATTACH_HTML);
	s = attached("run.vbs", "text/plain", "TXNnQm94ICJoaSI=");
	CHECK(ts, s.flags & CF_ATTACH_EXEC);
	s = attached("photo.jpg", "image/jpeg", "/9j/4AAQSkZJRgABAQ==");
	CHECK(ts, !(s.flags & (CF_ATTACH_EXEC | CF_ATTACH_MACRO | CF_ATTACH_HTML)));
}

/* judge_attachment - an encrypted archive and a zip listing an .exe,
 * built by hand (making real encrypted zips is the extract tests' job). */
static void test_archive_flags(struct test_state *ts)
{
	struct result *r = result_new("t", -1);
	r->attachments.v = arena_alloc(&r->arena, 2 * sizeof(struct attachment));
	r->attachments.n = 2;
	r->attachments.cap = 2;
	r->attachments.v[0].name = "docs.zip";
	r->attachments.v[0].true_type = "application/zip";
	r->attachments.v[0].encrypted = 1;
	char **entries = arena_alloc(&r->arena, 2 * sizeof(char *));
	entries[0] = "readme.txt";
	entries[1] = "payload.js";
	r->attachments.v[1].name = "parcel.zip";
	r->attachments.v[1].true_type = "application/zip";
	r->attachments.v[1].entries = entries;
	r->attachments.v[1].n_entries = 2;
	struct tokens t;
	tokens_make(&t, NULL, NULL);
	unsigned f = content_judge(CC, &t, r);
	CHECK(ts, f & CF_ATTACH_ENCRYPTED);
	CHECK(ts, f & CF_ATTACH_EXEC);
	int found = 0;
	for (size_t i = 0; i < r->reasons.n; i++)
		found |= !strcmp(r->reasons.v[i].code, "attach.executable") &&
			 strstr(r->reasons.v[i].detail, "payload.js") != NULL;
	CHECK(ts, found);
	tokens_release(&t);
	result_free(r);
}

static void test_links(struct test_state *ts)
{
	struct seen s = html("<form action=\"https://collect.evil.example/post.php\" method=post>"
			     "<input name=pw></form>");
	CHECK(ts, s.flags & CF_FORM_OFFSITE);
	s = html("<form action=\"https://www.sender.example/search\"></form>");
	CHECK(ts, !(s.flags & CF_FORM_OFFSITE));
	s = html("<a href=\"https://bit.ly/3abcde\">track</a> <a "
		 "href=\"https://my-bank-login.weebly.com/\">log in</a>");
	CHECK(ts, s.flags & CF_SHORTENER);
	CHECK(ts, s.flags & CF_FREE_HOSTING);
	CHECK(ts, strstr(s.reasons, "url.free_hosting"));
	s = html("<a href=\"data:text/html;base64,PGgxPmhpPC9oMT4=\">open</a>");
	CHECK(ts, s.flags & CF_DATA_URI);
	s = html("<a href=\"javascript:alert(1)\">open</a>");
	CHECK(ts, s.flags & CF_JS_URI);
	s = html("<a href=\"https://www.example.org/\">news</a>");
	CHECK(ts, !(s.flags & (CF_SHORTENER | CF_FREE_HOSTING | CF_DATA_URI | CF_JS_URI)));
}

static void test_lists(struct test_state *ts)
{
	char dir[] = "/tmp/shield-test-lists-XXXXXX";
	CHECK(ts, mkdtemp(dir) != NULL);
	char bad[256], good[256];
	snprintf(bad, sizeof(bad), "%s/openphish_urls.tsv", dir);
	snprintf(good, sizeof(good), "%s/list.json", dir);
	FILE *f = fopen(bad, "w");
	fprintf(f, "first_seen_utc\turl\n# comment\n2025-01-01T00:00:00Z\thttps://Evil.Example/"
		   "login.php\n2025-01-01T00:00:00Z\tphish.example.net\n0.0.0.0 hosts.example\n");
	fclose(f);
	f = fopen(good, "w");
	fprintf(f, "{\"name\": \"Test top sites\", \"type\": \"hostname\", \"list\": "
		   "[\"example.org\", \"cdn.example.com\"]}\n");
	fclose(f);
	struct lists *l = lists_new();
	char *err = NULL;
	CHECK(ts, lists_add_bad(l, bad, &err) == 0);
	CHECK(ts, lists_add_good(l, good, &err) == 0);
	char spec[300];
	snprintf(spec, sizeof(spec), "sicert=%s", bad);
	CHECK(ts, lists_add_bad(l, spec, &err) == 0);
	const char *what = NULL;
	CHECK_STR(ts, lists_bad_url(l, "https://evil.example/login.php", "evil.example", &what),
		  "openphish");
	CHECK_STR(ts, what, "url");
	CHECK(ts, !lists_bad_url(l, "https://evil.example/other", "evil.example", &what));
	CHECK_STR(ts,
		  lists_bad_url(l, "http://a.phish.example.net/x", "a.phish.example.net", &what),
		  "openphish");
	CHECK_STR(ts, what, "host");
	CHECK_STR(ts, lists_bad_host(l, "hosts.example"), "openphish");
	CHECK(ts, !lists_bad_host(l, "example.net")); /* a parent is not listed */
	CHECK_STR(ts, lists_good_host(l, "www.example.org"), "Test top sites");
	CHECK_STR(ts, lists_good_host(l, "cdn.example.com"), "Test top sites");
	CHECK(ts, !lists_good_host(l, "example.com"));
	CHECK(ts, !lists_good_host(l, "org"));
	CHECK(ts, lists_add_good(l, "/nonexistent/list.json", &err) < 0 && err &&
		      strstr(err, "/nonexistent/list.json"));
	free(err);
	lists_free(l);
	unlink(bad);
	unlink(good);
	rmdir(dir);
}

int main(void)
{
	struct test_state ts = {0};
	char *err = NULL;
	X = extractor_new(NULL, &err);
	CC = content_checker_new(NULL, &err);
	if (!X || !CC) {
		fprintf(stderr, "setup: %s\n", err ? err : "?");
		return 1;
	}
	RUN(&ts, test_tokens);
	RUN(&ts, test_wording);
	RUN(&ts, test_language);
	RUN(&ts, test_attachments);
	RUN(&ts, test_archive_flags);
	RUN(&ts, test_links);
	RUN(&ts, test_lists);
	content_checker_free(CC);
	extractor_free(X);
	return TEST_SUMMARY(&ts);
}
