/*
 * test_url.c - unit tests for extract/url.c: the text scanner, the
 * normaliser (defang, userinfo, IDN, ports, IP forms, dot segments), the
 * per-message de-duplication and the limits.
 */
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/xalloc.h"
#include "extract/url.h"
#include "test.h"

/* scan - extract URLs from s into a fresh result (caller frees). */
static struct result *scan(const char *s)
{
	struct result *r = result_new("t", -1);
	struct url_sink sk;
	url_sink_init(&sk, r, NULL);
	url_extract_text(&sk, s, strlen(s), "text");
	return r;
}

/* find - the URL entry with this normalised url, or NULL. */
static const struct ind_url *find(const struct result *r, const char *url)
{
	for (size_t i = 0; i < r->urls.n; i++)
		if (strcmp(r->urls.v[i].url, url) == 0)
			return &r->urls.v[i];
	return NULL;
}

/* first - normalised first URL found in s ("" if none); copied to buf. */
static const char *first(const char *s, char *buf, size_t n)
{
	struct result *r = scan(s);
	snprintf(buf, n, "%s", r->urls.n ? r->urls.v[0].url : "");
	result_free(r);
	return buf;
}

/* count - number of URLs found in s. */
static size_t count(const char *s)
{
	struct result *r = scan(s);
	size_t n = r->urls.n;
	result_free(r);
	return n;
}

static void test_scheme_urls(struct test_state *t)
{
	char b[256];
	CHECK_STR(t, first("see http://example.com/a?b=1#c now", b, sizeof b),
		  "http://example.com/a?b=1#c");
	CHECK_STR(t, first("HTTPS://EXAMPLE.COM", b, sizeof b), "https://example.com/");
	CHECK_STR(t, first("ftp://files.example.org/pub/x.zip", b, sizeof b),
		  "ftp://files.example.org/pub/x.zip");
	CHECK_STR(t, first("text:http://a.example.com/x", b, sizeof b), "http://a.example.com/x");
	CHECK(t, count("nothing to see here, e.g. file.txt and readme.pdf") == 0);
}

static void test_defang(struct test_state *t)
{
	char b[256];
	CHECK_STR(t, first("hxxp://evil.example.com/x", b, sizeof b), "http://evil.example.com/x");
	CHECK_STR(t, first("hXXps://evil.example.com/", b, sizeof b), "https://evil.example.com/");
	CHECK_STR(t, first("h**p://evil.example.com/", b, sizeof b), "http://evil.example.com/");
	CHECK_STR(t, first("fxp://evil.example.com/", b, sizeof b), "ftp://evil.example.com/");
	CHECK_STR(t, first("http[:]//evil.example.com/", b, sizeof b), "http://evil.example.com/");
	CHECK_STR(t, first("hxxp[://]evil.example.com/", b, sizeof b), "http://evil.example.com/");
	CHECK_STR(t, first("hxxps://evil[.]example[.]com/login", b, sizeof b),
		  "https://evil.example.com/login");
	CHECK_STR(t, first("http://evil(.)example(.)com", b, sizeof b), "http://evil.example.com/");
	CHECK_STR(t, first("http://evil{.}example{.}com", b, sizeof b), "http://evil.example.com/");
	CHECK_STR(t, first("http://evil[dot]example[DOT]com", b, sizeof b),
		  "http://evil.example.com/");
	CHECK_STR(t, first("visit paypal-secure[.]com/login today", b, sizeof b),
		  "http://paypal-secure.com/login");
	CHECK_STR(t, first("domain: paypal-secure[.]com", b, sizeof b),
		  "http://paypal-secure.com/");
}

static void test_www_and_bare(struct test_state *t)
{
	char b[256];
	CHECK_STR(t, first("go to www.example.com.", b, sizeof b), "http://www.example.com/");
	CHECK_STR(t, first("WWW.Example.COM/Path", b, sizeof b), "http://www.example.com/Path");
	CHECK_STR(t, first("www[.]evil[.]ru", b, sizeof b), "http://www.evil.ru/");
	CHECK_STR(t, first("log in at example.com/login now", b, sizeof b),
		  "http://example.com/login");
	CHECK_STR(t, first("host example.com:8080/x", b, sizeof b), "http://example.com:8080/x");
	CHECK_STR(t, first("visit example.com today", b, sizeof b), "http://example.com/");
	/* Not URLs: file names, abbreviations, e-mail, sentence run-ons. */
	CHECK(t, count("attached invoice.zip and setup.py and notes.md") == 0);
	CHECK(t, count("e.g. i.e. U.S. a.m. etc. v1.2.3 3.14") == 0);
	CHECK(t, count("mail john.doe@example.com now") == 0);
	CHECK(t, count("your account is suspended.Click here") == 0);
	CHECK(t, count("src/extract/url.c path/to/file.com") == 0);
	CHECK(t, count("awwwards is not www") == 0);
	CHECK(t, count("o rem\xc3\xa9"
		       "dio.no sabe, a.mobile thing") == 0);
	CHECK(t, count("x.com/abc") == 1); /* with a path, short labels are fine */
}

static void test_trailing_punct(struct test_state *t)
{
	char b[256];
	CHECK_STR(t, first("(see http://example.com/a)", b, sizeof b), "http://example.com/a");
	CHECK_STR(t, first("http://example.com/a.", b, sizeof b), "http://example.com/a");
	CHECK_STR(t, first("\"http://example.com/a\",", b, sizeof b), "http://example.com/a");
	CHECK_STR(t, first("'http://example.com/a';", b, sizeof b), "http://example.com/a");
	CHECK_STR(t, first("<http://example.com/a>", b, sizeof b), "http://example.com/a");
	CHECK_STR(t, first("http://example.com/a!?", b, sizeof b), "http://example.com/a");
	CHECK_STR(t, first("http://en.wikipedia.org/wiki/Foo_(bar)", b, sizeof b),
		  "http://en.wikipedia.org/wiki/Foo_(bar)");
	CHECK_STR(t, first("[link](http://example.com/x)", b, sizeof b), "http://example.com/x");
	CHECK_STR(t, first("\xe2\x80\x9chttp://example.com/q\xe2\x80\x9d", b, sizeof b),
		  "http://example.com/q");
	CHECK_STR(t, first("http://example.com/a\xc2\xa0next", b, sizeof b),
		  "http://example.com/a");
}

static void test_userinfo(struct test_state *t)
{
	struct result *r = scan("http://paypal.com@evil.com/ and https://user:pw@x.example.net/");
	CHECK(t, r->urls.n == 2);
	CHECK_STR(t, r->urls.n > 0 ? r->urls.v[0].host : NULL, "evil.com");
	/* the userinfo is the deception: it stays in the URL, never in host */
	CHECK_STR(t, r->urls.n > 0 ? r->urls.v[0].url : NULL, "http://paypal.com@evil.com/");
	CHECK_STR(t, r->urls.n > 0 ? r->urls.v[0].reg_domain : NULL, "evil.com");
	CHECK_STR(t, r->urls.n > 1 ? r->urls.v[1].host : NULL, "x.example.net");
	result_free(r);
	/* The last '@' wins, as in browsers. */
	r = scan("http://a@paypal.com@evil.com/x");
	CHECK_STR(t, r->urls.n ? r->urls.v[0].host : NULL, "evil.com");
	result_free(r);
}

static void test_idn(struct test_state *t)
{
	struct result *r =
	    scan("http://b\xc3\xa9lgique-banque.be/ and http://xn--blgique-banque-bkb.be/");
	CHECK(t, r->urls.n == 1); /* same after normalisation */
	CHECK_STR(t, r->urls.n ? r->urls.v[0].host : NULL, "xn--blgique-banque-bkb.be");
	CHECK_STR(t, r->urls.n ? r->urls.v[0].host_unicode : NULL, "b\xc3\xa9lgique-banque.be");
	CHECK_STR(t, r->urls.n ? r->urls.v[0].url : NULL, "http://xn--blgique-banque-bkb.be/");
	CHECK_STR(t, r->urls.n ? r->urls.v[0].reg_domain : NULL, "xn--blgique-banque-bkb.be");
	result_free(r);
	/* Cyrillic homoglyph: "аpple.com" with U+0430. */
	r = scan("http://\xd0\xb0pple.com/login");
	CHECK(t, r->urls.n == 1);
	CHECK_STR(t, r->urls.n ? r->urls.v[0].host : NULL, "xn--pple-43d.com");
	CHECK_STR(t, r->urls.n ? r->urls.v[0].host_unicode : NULL, "\xd0\xb0pple.com");
	result_free(r);
	/* Upper-case Unicode is folded by UTS#46. */
	r = scan("http://B\xc3\x89LGIQUE-BANQUE.BE/");
	CHECK_STR(t, r->urls.n ? r->urls.v[0].host : NULL, "xn--blgique-banque-bkb.be");
	result_free(r);
	/* ASCII hosts: host_unicode equals host. */
	r = scan("http://example.com/");
	CHECK(t, r->urls.n == 1 && strcmp(r->urls.v[0].host_unicode, "example.com") == 0);
	result_free(r);
	/* url_normalize directly */
	struct arena a;
	arena_init(&a, 0);
	char *h = NULL, *hu = NULL;
	const char *in = "HTTP://M\xc3\xbcnchen.DE:80/a/../b";
	char *u = url_normalize(&a, in, strlen(in), &h, &hu);
	CHECK_STR(t, u, "http://xn--mnchen-3ya.de/b");
	CHECK_STR(t, h, "xn--mnchen-3ya.de");
	CHECK_STR(t, hu, "m\xc3\xbcnchen.de");
	CHECK(t, url_normalize(&a, "mailto:x@y.com", 14, &h, &hu) == NULL);
	CHECK(t, url_normalize(&a, "/relative", 9, &h, &hu) == NULL);
	arena_release(&a);
}

static void test_ports(struct test_state *t)
{
	char b[256];
	CHECK_STR(t, first("http://example.com:80/x", b, sizeof b), "http://example.com/x");
	CHECK_STR(t, first("https://example.com:443/x", b, sizeof b), "https://example.com/x");
	CHECK_STR(t, first("ftp://example.com:21/x", b, sizeof b), "ftp://example.com/x");
	CHECK_STR(t, first("http://example.com:443/x", b, sizeof b), "http://example.com:443/x");
	CHECK_STR(t, first("https://example.com:08443", b, sizeof b), "https://example.com:8443/");
	CHECK(t, count("http://example.com:99999/") == 0);
	CHECK(t, count("http://example.com:abc/") == 0);
}

static void test_ip_hosts(struct test_state *t)
{
	struct result *r = scan("http://192.168.0.1/a http://3232235521/b http://0xC0A80001/c "
				"http://0300.0250.0.1/d http://[2001:DB8::1]:8080/e http://[::1]/");
	CHECK(t, r->urls.n == 6);
	CHECK(t, find(r, "http://192.168.0.1/a") != NULL);
	CHECK(t, find(r, "http://192.168.0.1/b") != NULL);
	CHECK(t, find(r, "http://192.168.0.1/c") != NULL);
	CHECK(t, find(r, "http://192.168.0.1/d") != NULL);
	const struct ind_url *u = find(r, "http://[2001:db8::1]:8080/e");
	CHECK(t, u != NULL);
	CHECK_STR(t, u ? u->host : NULL, "2001:db8::1");
	CHECK(t, u && u->reg_domain == NULL);
	u = find(r, "http://192.168.0.1/b");
	CHECK_STR(t, u ? u->host : NULL, "192.168.0.1");
	CHECK(t, u && u->reg_domain == NULL);
	result_free(r);
	CHECK(t, count("http://1.2.3.999/") == 0); /* invalid IPv4 */
	CHECK(t, count("http://[not-an-ip]/") == 0);
}

static void test_paths(struct test_state *t)
{
	char b[256];
	CHECK_STR(t, first("http://example.com", b, sizeof b), "http://example.com/");
	CHECK_STR(t, first("http://example.com?q=1", b, sizeof b), "http://example.com/?q=1");
	CHECK_STR(t, first("http://example.com/a/./b/../c", b, sizeof b), "http://example.com/a/c");
	CHECK_STR(t, first("http://ex%41mple.com/%41", b, sizeof b), "http://example.com/%41");
	CHECK_STR(t, first("http://example.com/caf\xc3\xa9", b, sizeof b),
		  "http://example.com/caf%C3%A9");
	CHECK_STR(t, first("http://example.com./", b, sizeof b), "http://example.com/");
	CHECK_STR(t, first("http:\\\\example.com\\a\\b", b, sizeof b), "http://example.com/a/b");
}

static void test_dedup(struct test_state *t)
{
	struct result *r = result_new("t", -1);
	struct url_sink s;
	url_sink_init(&s, r, NULL);
	CHECK(t, url_add(&s, "http://Example.com", 18, NULL, 0, "text", NULL) == 0);
	CHECK(t, url_add(&s, "HTTP://example.COM:80/", 22, "Click", 5, "html:href", NULL) == 1);
	CHECK(t, r->urls.n == 1);
	CHECK_STR(t, r->urls.v[0].found_in, "text"); /* first wins */
	CHECK_STR(t, r->urls.v[0].text, "Click");    /* filled by later one */
	CHECK(t, url_add(&s, "mailto:a@b.com", 14, NULL, 0, "text", NULL) == -1);
	CHECK(t, url_add(&s, "cid:part1", 9, NULL, 0, "text", NULL) == -1);
	CHECK(t, url_add(&s, "tel:+123", 8, NULL, 0, "text", NULL) == -1);
	CHECK(t, url_add(&s, "javascript:alert(1)", 19, NULL, 0, "text", NULL) == -1);
	/* A second sink on the same result still de-duplicates. */
	struct url_sink s2;
	url_sink_init(&s2, r, NULL);
	CHECK(t, url_add(&s2, "http://example.com/", 19, NULL, 0, "text", NULL) == 1);
	/* Relative with base. */
	CHECK(t,
	      url_add(&s, "../x?y", 6, NULL, 0, "html:href", "https://b.example.org/p/q/r") == 0);
	CHECK(t, find(r, "https://b.example.org/p/x?y") != NULL);
	CHECK(t, url_add(&s, "rel/only", 8, NULL, 0, "html:href", NULL) == -1);
	result_free(r);
}

static void test_link_text(struct test_state *t)
{
	struct result *r = result_new("t", -1);
	struct url_sink s;
	url_sink_init(&s, r, NULL);
	url_add(&s, "https://evil.example/", 21, "www.paypal.com", 14, "html:href", NULL);
	CHECK_STR(t, r->urls.v[0].text, "www.paypal.com");
	url_add(&s, "https://paypal.com/", 19, "HTTPS://PAYPAL.COM", 18, "html:href", NULL);
	CHECK(t, r->urls.v[1].text == NULL); /* same target */
	url_add(&s, "http://xn--blgique-banque-bkb.be/", 33, "b\xc3\xa9lgique-banque.be", 19,
		"html:href", NULL);
	CHECK(t, r->urls.v[2].text == NULL); /* same after IDN */
	result_free(r);
}

static void test_limits(struct test_state *t)
{
	/* 10001 distinct URLs -> 10000 and limit.urls */
	size_t n = SHIELD_MAX_URLS + 1, cap = n * 40, len = 0;
	char *buf = xmalloc(cap);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "http://h%zu.example.com/ ", i);
	struct result *r = result_new("t", -1);
	struct url_sink s;
	url_sink_init(&s, r, NULL);
	url_extract_text(&s, buf, len, "text");
	CHECK(t, r->urls.n == SHIELD_MAX_URLS);
	CHECK(t, result_has_finding(r, "limit.urls"));
	result_free(r);
	free(buf);

	/* Over-long URL: truncated and flagged. */
	size_t ul = SHIELD_MAX_URL_BYTES * 2;
	buf = xmalloc(ul + 1);
	memcpy(buf, "http://long.example.com/", 24);
	memset(buf + 24, 'a', ul - 24);
	buf[ul] = '\0';
	r = scan(buf);
	CHECK(t, r->urls.n == 1);
	CHECK(t, r->urls.n && strlen(r->urls.v[0].url) <= SHIELD_MAX_URL_BYTES);
	CHECK(t, result_has_finding(r, "limit.url_length"));
	result_free(r);
	free(buf);

	/* Over-long text: scanned up to the limit and flagged. */
	size_t tl = SHIELD_MAX_SCAN_BYTES + 100;
	buf = xmalloc(tl);
	memset(buf, ' ', tl);
	memcpy(buf + tl - 30, "http://late.example.com/", 24);
	r = result_new("t", -1);
	url_sink_init(&s, r, NULL);
	url_extract_text(&s, buf, tl, "text");
	CHECK(t, r->urls.n == 0);
	CHECK(t, result_has_finding(r, "limit.scan_bytes"));
	result_free(r);
	free(buf);
}

static void test_hostile_linear(struct test_state *t)
{
	/* Patterns that would be quadratic for a naive scanner. */
	size_t n = 2u * 1024u * 1024u;
	char *buf = xmalloc(n);
	const char *pats[] = {"a.", "http:", "www.", ")", "[.]", "a@", "h**p:/"};
	for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
		size_t pl = strlen(pats[k]);
		for (size_t i = 0; i < n; i++)
			buf[i] = pats[k][i % pl];
		struct result *r = result_new("t", -1);
		struct url_sink s;
		url_sink_init(&s, r, NULL);
		url_extract_text(&s, buf, n, "text");
		CHECK(t, r->urls.n <= SHIELD_MAX_URLS);
		result_free(r);
	}
	free(buf);
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, test_scheme_urls);
	RUN(&t, test_defang);
	RUN(&t, test_www_and_bare);
	RUN(&t, test_trailing_punct);
	RUN(&t, test_userinfo);
	RUN(&t, test_idn);
	RUN(&t, test_ports);
	RUN(&t, test_ip_hosts);
	RUN(&t, test_paths);
	RUN(&t, test_dedup);
	RUN(&t, test_link_text);
	RUN(&t, test_limits);
	RUN(&t, test_hostile_linear);
	return TEST_SUMMARY(&t);
}
