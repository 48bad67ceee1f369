/* test_extract.c - the pipeline driver on made-up messages: forward cases,
 * headers, attachments, limits and hostile structure. */
#include <stdlib.h>

#include "common/buf.h"
#include "common/limits.h"
#include "extract/extract.h"
#include "test.h"

struct collected {
	int n;
	char forward[4][16];
	char from[4][128];
	char subject[4][128];
	char reporter[4][128];
	int urls[4], atts[4];
	char first_url[4][256];
	char origin[4][64];
	char att_type[4][64];
	int archive_entries[4];
	int has_limit;
	int smime;
	int dkim_sigs;
	char findings[1024];
};

static void cp(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

static int collect(void *ctx, struct result *r)
{
	struct collected *c = ctx;
	int i = c->n++;
	if (i >= 4)
		return 0;
	cp(c->forward[i], 16, r->forward);
	cp(c->from[i], 128, r->from);
	cp(c->subject[i], 128, r->subject);
	cp(c->reporter[i], 128, r->reporter);
	cp(c->origin[i], 64, r->origin_ip);
	c->urls[i] = (int)r->urls.n;
	c->atts[i] = (int)r->attachments.n;
	if (r->urls.n)
		cp(c->first_url[i], 256, r->urls.v[0].url);
	if (r->attachments.n) {
		cp(c->att_type[i], 64, r->attachments.v[0].true_type);
		c->archive_entries[i] = (int)r->attachments.v[0].n_entries;
	}
	c->smime |= r->smime_signed;
	c->dkim_sigs += (int)r->dkim_sigs.n;
	for (size_t k = 0; k < r->findings.n; k++) {
		size_t l = strlen(c->findings);
		snprintf(c->findings + l, sizeof c->findings - l, "%s ", r->findings.v[k].code);
		if (!strncmp(r->findings.v[k].code, "limit.", 6))
			c->has_limit = 1;
	}
	return 0;
}

static struct extractor *x;

static int run(const char *msg, size_t len, struct collected *c)
{
	char sha[65] = "";
	memset(c, 0, sizeof *c);
	return extract_report(x, msg, len, "test", -1, sha, collect, c);
}

static void not_forwarded(struct test_state *t)
{
	const char *m = "Received: from mx.example.be by trap.example.org; Mon, 1 Jan 2024 10:00:00 +0000\n"
			"Received: from evil.example (evil.example [203.0.114.9]) by mx.example.be;"
			" Mon, 1 Jan 2024 09:59:00 +0000\n"
			"DKIM-Signature: v=1; a=rsa-sha256; d=evil.example; s=k1; b=x\n"
			"From: \"KBC Bank\" <alert@kbc-secure.example>\n"
			"Reply-To: collect@evil.example\n"
			"To: trap@example.org\nSubject: =?UTF-8?Q?Uw_rekening_is_geblokkeerd?=\n"
			"Date: Mon, 1 Jan 2024 10:00:00 +0100\nMessage-ID: <1@evil.example>\n"
			"\nLog in op https://kbc-secure.example/login?id=1 vandaag.\n";
	struct collected c;
	CHECK(t, run(m, strlen(m), &c) == 1);
	CHECK_STR(t, c.forward[0], "none");
	CHECK_STR(t, c.from[0], "alert@kbc-secure.example");
	CHECK_STR(t, c.subject[0], "Uw rekening is geblokkeerd");
	CHECK_STR(t, c.reporter[0], "");
	CHECK_STR(t, c.origin[0], "203.0.114.9");
	CHECK(t, c.urls[0] == 1);
	CHECK_STR(t, c.first_url[0], "https://kbc-secure.example/login?id=1");
	CHECK(t, c.dkim_sigs == 1);
}

static void attached_two(struct test_state *t)
{
	const char *m = "From: Jan <jan@example.be>\nTo: suspicious@shield.example\n"
			"Subject: Fwd: two\nMIME-Version: 1.0\n"
			"Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
			"--b1\nContent-Type: text/plain\n\nSee attached, https://my-own-signature.example/\n"
			"--b1\nContent-Type: message/rfc822\n\n"
			"From: a@phish-one.example\nSubject: first\n\nhttp://phish-one.example/x\n"
			"--b1\nContent-Type: message/rfc822\n\n"
			"From: b@phish-two.example\nSubject: second\nContent-Type: text/html\n\n"
			"<a href=\"http://phish-two.example/y\">click</a>\n"
			"--b1--\n";
	struct collected c;
	CHECK(t, run(m, strlen(m), &c) == 2);
	CHECK_STR(t, c.forward[0], "attached");
	CHECK_STR(t, c.forward[1], "attached");
	CHECK_STR(t, c.reporter[0], "jan@example.be");
	CHECK_STR(t, c.from[0], "a@phish-one.example");
	CHECK_STR(t, c.from[1], "b@phish-two.example");
	CHECK_STR(t, c.first_url[0], "http://phish-one.example/x");
	CHECK_STR(t, c.first_url[1], "http://phish-two.example/y");
	/* the reporter's own text is not part of the suspicious message */
	CHECK(t, c.urls[0] == 1);
}

static void attachment_zip(struct test_state *t)
{
	/* a tiny zip with one entry "invoice.js", base64-encoded */
	const char *m = "From: a@b.example\nSubject: zip\nMIME-Version: 1.0\n"
			"Content-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: text/plain\n\nhi\n"
			"--z\nContent-Type: application/octet-stream; name=\"doc.pdf\"\n"
			"Content-Disposition: attachment; filename=\"doc.pdf\"\n"
			"Content-Transfer-Encoding: base64\n\n"
			"UEsDBAoAAAAAAAAAIQAAAAAAAAAAAAAAAAAKAAAAaW52b2ljZS5qc1BLAQIUAAoAAAAAAAAAIQAAAAAA\n"
			"AAAAAAAAAAAKAAAAAAAAAAAAAAAAAAAAAABpbnZvaWNlLmpzUEsFBgAAAAABAAEAOAAAACgAAAAAAA==\n"
			"--z--\n";
	struct collected c;
	run(m, strlen(m), &c);
	CHECK(t, c.atts[0] == 1);
	CHECK_STR(t, c.att_type[0], "application/zip");
	CHECK(t, c.archive_entries[0] == 1);
}

static void smime_signed(struct test_state *t)
{
	const char *m = "From: a@bank.example\nSubject: s\nMIME-Version: 1.0\n"
			"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
			" micalg=sha-256; boundary=s\n\n--s\nContent-Type: text/plain\n\nsigned\n"
			"--s\nContent-Type: application/pkcs7-signature; name=smime.p7s\n"
			"Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\n--s--\n";
	struct collected c;
	run(m, strlen(m), &c);
	CHECK(t, c.smime == 1);
}

static void empty_and_garbage(struct test_state *t)
{
	struct collected c;
	CHECK(t, run("", 0, &c) == 1);
	CHECK(t, strstr(c.findings, "input.empty") != NULL);
	const char bin[] = "\x00\x01\x02\xff\xfe\n\n\x00";
	CHECK(t, run(bin, sizeof bin - 1, &c) == 1);
	CHECK_STR(t, c.forward[0], "none");
}

static void deep_nesting(struct test_state *t)
{
	/* 200 nested multiparts: over SHIELD_MAX_MIME_DEPTH, never a crash */
	struct buf b = BUF_INIT(1u << 24);
	buf_adds(&b, "From: a@b.example\nSubject: deep\nMIME-Version: 1.0\n");
	for (int i = 0; i < 200; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
	buf_adds(&b, "Content-Type: text/plain\n\nhttp://deep.example/\n");
	struct collected c;
	CHECK(t, run(b.data, b.len, &c) == 1);
	CHECK(t, c.has_limit);
	buf_release(&b);
}

static void many_parts(struct test_state *t)
{
	struct buf b = BUF_INIT(1u << 24);
	buf_adds(&b, "From: a@b.example\nSubject: parts\nMIME-Version: 1.0\n"
		     "Content-Type: multipart/mixed; boundary=p\n\n");
	for (unsigned i = 0; i < SHIELD_MAX_MIME_PARTS + 10; i++)
		buf_printf(&b, "--p\nContent-Type: text/plain\n\nhttp://p%u.example/\n", i);
	buf_adds(&b, "--p--\n");
	struct collected c;
	CHECK(t, run(b.data, b.len, &c) == 1);
	CHECK(t, strstr(c.findings, "limit.mime_parts") != NULL);
	buf_release(&b);
}

/* parts_message - a multipart with n leaf parts: n + 1 MIME objects. */
static void parts_message(struct buf *b, unsigned n)
{
	buf_adds(b, "From: a@b.example\nSubject: parts\nMIME-Version: 1.0\n"
		    "Content-Type: multipart/mixed; boundary=p\n\n");
	for (unsigned i = 0; i < n; i++)
		buf_printf(b, "--p\nContent-Type: text/plain\n\nx%u\n", i);
	buf_adds(b, "--p--\n");
}

/* The Dovecot CVE-2020-25275 lesson: test at limit-1, limit and limit+1. */
static void parts_at_the_limit(struct test_state *t)
{
	for (unsigned objects = SHIELD_MAX_MIME_PARTS - 1; objects <= SHIELD_MAX_MIME_PARTS + 1;
	     objects++) {
		struct buf b = BUF_INIT(1u << 24);
		parts_message(&b, objects - 1);
		struct collected c;
		CHECK(t, run(b.data, b.len, &c) == 1);
		int hit = strstr(c.findings, "limit.mime_parts") != NULL;
		CHECK(t, hit == (objects > SHIELD_MAX_MIME_PARTS));
		buf_release(&b);
	}
}

static void size_at_the_limit(struct test_state *t)
{
	size_t n = (size_t)SHIELD_MAX_MESSAGE_BYTES;
	char *m = malloc(n);
	const char *hdr = "Subject: big\n\n";
	memset(m, 'a', n);
	memcpy(m, hdr, strlen(hdr));
	struct collected c;
	CHECK(t, run(m, n, &c) == 1);
	CHECK(t, strstr(c.findings, "limit.message_size") == NULL);
	CHECK_STR(t, c.subject[0], "big");
	free(m);
}

/* Dovecot CVE-2024-23184 class: many distinct addresses must be cut at
 * the limit, recorded, and (with hashed de-duplication) stay cheap. */
static void many_addresses(struct test_state *t)
{
	struct buf b = BUF_INIT(1u << 24);
	buf_adds(&b, "From: a@b.example\nSubject: many\n\n");
	for (unsigned i = 0; i < SHIELD_MAX_INDICATORS + 500; i++)
		buf_printf(&b, "u%u@h%u.example.com\n", i, i);
	struct collected c;
	CHECK(t, run(b.data, b.len, &c) == 1);
	CHECK(t, strstr(c.findings, "limit.indicators") != NULL);
	buf_release(&b);
}

static void oversized(struct test_state *t)
{
	size_t n = (size_t)SHIELD_MAX_MESSAGE_BYTES + 1;
	char *m = malloc(n);
	memset(m, 'a', n);
	struct collected c;
	CHECK(t, run(m, n, &c) == 1);
	CHECK(t, strstr(c.findings, "limit.message_size") != NULL);
	free(m);
}

int main(void)
{
	struct test_state t = {0};
	char *err = NULL;
	x = extractor_new(NULL, &err);
	if (!x) {
		fprintf(stderr, "extractor: %s\n", err);
		return 1;
	}
	RUN(&t, not_forwarded);
	RUN(&t, attached_two);
	RUN(&t, attachment_zip);
	RUN(&t, smime_signed);
	RUN(&t, empty_and_garbage);
	RUN(&t, deep_nesting);
	RUN(&t, many_parts);
	RUN(&t, parts_at_the_limit);
	RUN(&t, size_at_the_limit);
	RUN(&t, many_addresses);
	RUN(&t, oversized);
	extractor_free(x);
	return TEST_SUMMARY(&t);
}
