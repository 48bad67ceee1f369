/* test_headers.c - Received, Authentication-Results, DKIM-Signature, IPs. */
#include "mail/headers.h"
#include "test.h"

static void received_microsoft(struct test_state *t)
{
	struct arena a;
	arena_init(&a, 0);
	struct hop h;
	CHECK(t, received_parse(&a,
				"from ubuntu-s-1 (137.184.34.4) by BN8NAM11FT066.mail.protection.outlook.com "
				"(10.13.177.138) with Microsoft SMTP Server id 15.20.6792.20; Tue, 19 Sep "
				"2023 18:36:44 +0000",
				&h));
	CHECK_STR(t, h.from, "ubuntu-s-1");
	CHECK_STR(t, h.ip, "137.184.34.4");
	CHECK_STR(t, h.by, "BN8NAM11FT066.mail.protection.outlook.com");
	CHECK_STR(t, h.with, "Microsoft");
	CHECK_STR(t, h.date, "Tue, 19 Sep 2023 18:36:44 +0000");
	arena_release(&a);
}

static void received_postfix_brackets(struct test_state *t)
{
	struct arena a;
	arena_init(&a, 0);
	struct hop h;
	CHECK(t, received_parse(&a,
				"from mail.example.net (mail.example.net [IPv6:2001:db8::25]) by "
				"mx.example.be (Postfix) with ESMTPS id 4Q; Mon, 1 Jan 2024 10:00:00 +0100",
				&h));
	CHECK_STR(t, h.ip, "2001:db8::25");
	CHECK_STR(t, h.by, "mx.example.be");
	CHECK_STR(t, h.with, "ESMTPS");
	struct hop h2;
	received_parse(&a, "from [192.0.2.7] (helo=x) by y; date", &h2);
	CHECK_STR(t, h2.ip, "192.0.2.7");
	struct hop h3;
	CHECK(t, received_parse(&a, "by localhost (Postfix, from userid 0) id 1; Tue, 1 Jan 2030", &h3));
	CHECK(t, h3.from == NULL);
	CHECK(t, h3.ip == NULL);
	/* garbage never crashes and finds nothing */
	struct hop h4;
	received_parse(&a, "(((((((((((", &h4);
	received_parse(&a, "from", &h4);
	received_parse(&a, ";;;", &h4);
	arena_release(&a);
}

static void authres(struct test_state *t)
{
	struct arena a;
	arena_init(&a, 0);
	char *spf = NULL, *dkim = NULL, *dmarc = NULL;
	authres_parse(&a,
		      "mx.example.be; spf=pass smtp.mailfrom=x.example; dkim=fail header.d=a.example;"
		      " dkim=pass header.d=b.example; dmarc=FAIL (p=reject) header.from=b.example",
		      &spf, &dkim, &dmarc);
	CHECK_STR(t, spf, "pass");
	CHECK_STR(t, dkim, "pass"); /* one passing signature is enough */
	CHECK_STR(t, dmarc, "fail");
	/* the first header wins: later ones do not overwrite */
	authres_parse(&a, "other; spf=fail", &spf, &dkim, &dmarc);
	CHECK_STR(t, spf, "pass");
	char *s2 = NULL, *d2 = NULL, *m2 = NULL;
	authres_parse(&a, "mx; none", &s2, &d2, &m2);
	CHECK(t, s2 == NULL && d2 == NULL && m2 == NULL);
	CHECK_STR(t, received_spf_parse(&a, " SoftFail (domain of x) client-ip=1.2.3.4"), "softfail");
	arena_release(&a);
}

static void dkim_sig(struct test_state *t)
{
	struct arena a;
	arena_init(&a, 0);
	struct dkim_sig s;
	CHECK(t, dkim_sig_parse(&a, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=Bank.Example;\r\n s=sel1;"
				    " h=from:to; bh=abc=; b=xyz",
				&s));
	CHECK_STR(t, s.d, "bank.example");
	CHECK_STR(t, s.s, "sel1");
	CHECK_STR(t, s.a, "rsa-sha256");
	CHECK(t, !dkim_sig_parse(&a, "v=1; s=x", &s));
	arena_release(&a);
}

static void ips(struct test_state *t)
{
	char out[46];
	CHECK(t, ip_parse("10.0.0.1", 8, out) == 4);
	CHECK(t, ip_parse("::ffff:192.0.2.1", 16, out) == 4);
	CHECK_STR(t, out, "192.0.2.1");
	CHECK(t, ip_parse("2001:DB8::1", 11, out) == 6);
	CHECK_STR(t, out, "2001:db8::1");
	CHECK(t, ip_parse("999.1.1.1", 9, out) == 0);
	CHECK(t, ip_parse("", 0, out) == 0);
	CHECK(t, !ip_is_public("10.1.2.3"));
	CHECK(t, !ip_is_public("192.168.1.1"));
	CHECK(t, !ip_is_public("172.20.0.1"));
	CHECK(t, ip_is_public("172.32.0.1"));
	CHECK(t, !ip_is_public("100.64.0.1"));
	CHECK(t, !ip_is_public("127.0.0.1"));
	CHECK(t, !ip_is_public("::1"));
	CHECK(t, !ip_is_public("fe80::1"));
	CHECK(t, !ip_is_public("fd00::1"));
	CHECK(t, ip_is_public("137.184.34.4"));
	CHECK(t, ip_is_public("2a00:1450::1"));
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, received_microsoft);
	RUN(&t, received_postfix_brackets);
	RUN(&t, authres);
	RUN(&t, dkim_sig);
	RUN(&t, ips);
	return TEST_SUMMARY(&t);
}
