/*
 * test_html.c - unit tests for extract/html.c: link extraction from every
 * attribute kind, <base>, meta refresh, CSS, srcset, link text, entity
 * decoding, malformed input, and html_to_text.
 */
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/xalloc.h"
#include "extract/html.h"
#include "extract/url.h"
#include "test.h"

static struct result *links(const char *html)
{
	struct result *r = result_new("t", -1);
	struct url_sink s;
	url_sink_init(&s, r, NULL);
	url_extract_html(&s, html, strlen(html));
	return r;
}

static const struct ind_url *find(const struct result *r, const char *url)
{
	for (size_t i = 0; i < r->urls.n; i++)
		if (strcmp(r->urls.v[i].url, url) == 0)
			return &r->urls.v[i];
	return NULL;
}

/* found_in of url in r, or NULL if absent. */
static const char *where(const struct result *r, const char *url)
{
	const struct ind_url *u = find(r, url);
	return u ? u->found_in : NULL;
}

/* text - html_to_text of s, copied into buf. */
static const char *text(const char *s, char *buf, size_t n)
{
	struct arena a;
	arena_init(&a, 0);
	size_t ol = 0;
	char *o = html_to_text(&a, s, strlen(s), &ol);
	snprintf(buf, n, "%s", o);
	arena_release(&a);
	return buf;
}

static void test_attrs(struct test_state *t)
{
	struct result *r = links(
	    "<a href=\"http://a.example.com/\">http://a.example.com/</a>"
	    "<AREA HREF='http://area.example.com/'>"
	    "<link rel=stylesheet href=http://css.example.com/s.css>"
	    "<img src=\"http://img.example.com/i.png\" alt=x>"
	    "<script src=http://js.example.com/x.js></script>"
	    "<iframe src=\"http://frame.example.com/\"></iframe>"
	    "<form action=\"https://phish.example.com/post.php\"><input type=image "
	    "src=http://input.example.com/b.png><button formaction=http://fa.example.com/>"
	    "</button></form>"
	    "<video poster=http://poster.example.com/p.jpg><source src=http://v.example.com/v.mp4>"
	    "</video><table background=\"http://bg.example.com/b.gif\"></table>"
	    "<div data-href=\"http://dh.example.com/\" data-url=http://du.example.com/ "
	    "data-src=http://ds.example.com/></div>"
	    "<v:roundrect xmlns:v=\"urn:schemas-microsoft-com:vml\" "
	    "href=\"http://vml.example.com/\">");
	CHECK_STR(t, where(r, "http://a.example.com/"), "html:href");
	CHECK(t, find(r, "http://a.example.com/")->text == NULL); /* text equals target */
	CHECK_STR(t, where(r, "http://area.example.com/"), "html:href");
	CHECK_STR(t, where(r, "http://css.example.com/s.css"), "html:href");
	CHECK_STR(t, where(r, "http://img.example.com/i.png"), "html:src");
	CHECK_STR(t, where(r, "http://js.example.com/x.js"), "html:src");
	CHECK_STR(t, where(r, "http://frame.example.com/"), "html:src");
	CHECK_STR(t, where(r, "https://phish.example.com/post.php"), "html:action");
	CHECK_STR(t, where(r, "http://input.example.com/b.png"), "html:src");
	CHECK_STR(t, where(r, "http://fa.example.com/"), "html:action");
	CHECK_STR(t, where(r, "http://poster.example.com/p.jpg"), "html:src");
	CHECK_STR(t, where(r, "http://v.example.com/v.mp4"), "html:src");
	CHECK_STR(t, where(r, "http://bg.example.com/b.gif"), "html:background");
	CHECK_STR(t, where(r, "http://dh.example.com/"), "html:data");
	CHECK_STR(t, where(r, "http://du.example.com/"), "html:data");
	CHECK_STR(t, where(r, "http://ds.example.com/"), "html:data");
	CHECK_STR(t, where(r, "http://vml.example.com/"), "html:href");
	CHECK(t, r->urls.n == 16);
	result_free(r);
}

static void test_srcset_css_meta(struct test_state *t)
{
	struct result *r =
	    links("<img srcset=\"http://s1.example.com/a.jpg 1x, http://s2.example.com/b.jpg 2x,"
		  "http://s3.example.com/c.jpg\">"
		  "<div style=\"background:url('http://css1.example.com/x.png')\"></div>"
		  "<style>body{background:URL(http://css2.example.com/y.png)} "
		  "p{background:url( \"http://css3.example.com/z.png\" )}</style>"
		  "<meta http-equiv=\"Refresh\" content=\"0; URL='http://refresh.example.com/go'\">"
		  "<meta http-equiv=refresh content=\"5;url=http://refresh2.example.com/\">");
	CHECK_STR(t, where(r, "http://s1.example.com/a.jpg"), "html:srcset");
	CHECK_STR(t, where(r, "http://s2.example.com/b.jpg"), "html:srcset");
	CHECK_STR(t, where(r, "http://s3.example.com/c.jpg"), "html:srcset");
	CHECK_STR(t, where(r, "http://css1.example.com/x.png"), "html:css");
	CHECK_STR(t, where(r, "http://css2.example.com/y.png"), "html:css");
	CHECK_STR(t, where(r, "http://css3.example.com/z.png"), "html:css");
	CHECK_STR(t, where(r, "http://refresh.example.com/go"), "html:meta-refresh");
	CHECK_STR(t, where(r, "http://refresh2.example.com/"), "html:meta-refresh");
	CHECK(t, r->urls.n == 8);
	result_free(r);
}

static void test_base(struct test_state *t)
{
	struct result *r =
	    links("<a href=/early>x</a><base href=\"https://b.example.com/dir/page\">"
		  "<a href=\"login.php?u=1\">x</a><a href=/abs>y</a>"
		  "<a href=\"//other.example.net/p\">z</a><a href=\"#frag\">w</a>");
	CHECK(t, find(r, "https://b.example.com/dir/login.php?u=1") != NULL);
	CHECK(t, find(r, "https://b.example.com/abs") != NULL);
	CHECK(t, find(r, "https://other.example.net/p") != NULL);
	CHECK(t, find(r, "https://b.example.com/dir/page#frag") != NULL);
	CHECK(t, find(r, "https://b.example.com/early") == NULL); /* before <base> */
	result_free(r);
	/* No base: relative links are dropped, protocol-relative kept. */
	r = links("<a href=\"login.php\">x</a><a href=\"/x\">y</a><img src=//cdn.example.com/i>");
	CHECK(t, r->urls.n == 1);
	CHECK(t, find(r, "http://cdn.example.com/i") != NULL);
	result_free(r);
}

static void test_link_text(struct test_state *t)
{
	struct result *r = links(
	    "<a href=\"http://evil.example.ru/x\"> <b>www.paypal.com</b>\n  /signin </a>"
	    "<a href=\"https://www.paypal.com/\">www.PayPal.com</a>"
	    "<a href=\"https://bank.example.com/\"><img src=http://i.example.com/logo.png></a>"
	    "<a href=\"http://long.example.com/\">");
	const struct ind_url *u = find(r, "http://evil.example.ru/x");
	CHECK_STR(t, u ? u->text : NULL, "www.paypal.com /signin");
	u = find(r, "https://www.paypal.com/");
	CHECK(t, u && u->text == NULL);
	u = find(r, "https://bank.example.com/");
	CHECK(t, u && u->text == NULL);
	/* The visible text is scanned too (found_in html:text). */
	CHECK_STR(t, where(r, "http://www.paypal.com/signin"), NULL);
	CHECK_STR(t, where(r, "http://www.paypal.com/"), "html:text");
	result_free(r);
	/* Capped at 256 bytes. */
	char *big = xmalloc(2000);
	size_t n = (size_t)snprintf(big, 2000, "<a href=http://x.example.com/>");
	memset(big + n, 'A', 1000);
	memcpy(big + n + 1000, "</a>", 5);
	r = links(big);
	CHECK(t, r->urls.n == 1 && r->urls.v[0].text && strlen(r->urls.v[0].text) == 256);
	result_free(r);
	free(big);
}

static void test_entities(struct test_state *t)
{
	struct result *r =
	    links("<a href=\"http://e.example.com/?a=1&amp;b=2&copy=3\">x</a>"
		  "<a href=\"http&#x3A;&#x2F;&#47;ent.example.com&sol;p\">y</a>"
		  "<a href=\"http&colon;//colon.example.com/\">z</a>"
		  "<p>text link h&#116;tp://text.example.org/&#x61;b &lt;tag&gt;</p>");
	CHECK(t, find(r, "http://e.example.com/?a=1&b=2&copy=3") != NULL);
	CHECK(t, find(r, "http://ent.example.com/p") != NULL);
	CHECK(t, find(r, "http://colon.example.com/") != NULL);
	CHECK_STR(t, where(r, "http://text.example.org/ab"), "html:text");
	result_free(r);
	char b[256];
	CHECK_STR(t,
		  text("a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos; f&nbsp;g &#233; &#xE9; "
		       "&eacute; &euro; &#128; &#0; &bogus; &amp",
		       b, sizeof b),
		  "a&b <c> \"d\" 'e' f g \xc3\xa9 \xc3\xa9 \xc3\xa9 \xe2\x82\xac \xe2\x82\xac "
		  "\xef\xbf\xbd &bogus; &");
}

static void test_schemes_dropped(struct test_state *t)
{
	struct result *r =
	    links("<a href=\"mailto:a@example.com\">m</a><img src=\"cid:part1\">"
		  "<a href=\"tel:+1555\">t</a><a href=\"JaVa&#x09;script:alert(1)\">j</a>"
		  "<img src=\"data:image/png;base64,AAAA\">");
	CHECK(t, r->urls.n == 0);
	CHECK(t, result_has_finding(r, "url.javascript"));
	CHECK(t, result_has_finding(r, "url.data_uri"));
	result_free(r);
}

static void test_malformed(struct test_state *t)
{
	struct result *r = links("<a href=http://eof.example.com/x");
	CHECK(t, find(r, "http://eof.example.com/x") != NULL);
	result_free(r);
	r = links("<a href=\"http://q.example.com/ unterminated <b>bold");
	CHECK(t, r->urls.n <= 1);
	result_free(r);
	r = links(
	    "<div><p><a href=http://u.example.com/>unclosed <a disabled href=http://v.example.com/"
	    ">second<<<>>> </ > <!-- http://comment.example.com/ --> <!--> "
	    "<!---> <a href>novalue</a> <a =x href='http://w.example.com/'>");
	CHECK(t, find(r, "http://u.example.com/") != NULL);
	CHECK(t, find(r, "http://v.example.com/") != NULL);
	CHECK(t, find(r, "http://w.example.com/") != NULL);
	CHECK(t, find(r, "http://comment.example.com/") == NULL);
	CHECK_STR(t, find(r, "http://u.example.com/") ? find(r, "http://u.example.com/")->text : 0,
		  "unclosed");
	result_free(r);
	/* Script content is not text; unclosed comment runs to EOF. */
	r = links("<script>var u='http://js.example.com/';</script><!-- http://c.example.com/");
	CHECK(t, r->urls.n == 0);
	result_free(r);
	/* Outlook conditional comments hold real markup. */
	r = links("<!--[if mso]><v:roundrect href=\"http://mso.example.com/\"></v:roundrect>"
		  "<![endif]-->");
	CHECK(t, find(r, "http://mso.example.com/") != NULL);
	result_free(r);
	/* Attributes after 100 junk ones are still seen. */
	char *b = xmalloc(4096);
	size_t n = (size_t)snprintf(b, 4096, "<a ");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(b + n, 4096 - n, "x%d=1 ", i);
	snprintf(b + n, 4096 - n, "href=http://late.example.com/>t</a>");
	r = links(b);
	CHECK(t, find(r, "http://late.example.com/") != NULL);
	result_free(r);
	free(b);
}

static void test_to_text(struct test_state *t)
{
	char b[512];
	CHECK_STR(t,
		  text("<html><head><title>T</title><style>p{}</style></head><body>"
		       "<p>Hello   <b>world</b></p><p>second\n line</p><br><br><br><br>"
		       "<div>end</div><script>x()</script></body></html>",
		       b, sizeof b),
		  "Hello world\n\nsecond line\n\nend");
	CHECK_STR(t, text("a<br>b<br/>c", b, sizeof b), "a\nb\nc");
	CHECK_STR(t, text("<ul><li>one<li>two</ul>", b, sizeof b), "one\ntwo");
	CHECK_STR(t, text("x < y and <<b>z</b>", b, sizeof b), "x < y and <z");
	CHECK_STR(t, text("bad \xff utf8", b, sizeof b), "bad \xef\xbf\xbd utf8");
	CHECK_STR(t, text("<!-- hidden -->shown<!--[if mso]>mso<![endif]-->", b, sizeof b),
		  "shown");
	CHECK_STR(t, text("<head>no body end", b, sizeof b), "");
	CHECK_STR(t, text("<head><title>x</title></head>seen", b, sizeof b), "seen");
	CHECK_STR(t, text("<head><meta charset=utf-8><p>implied body", b, sizeof b),
		  "implied body");
	CHECK_STR(t, text("", b, sizeof b), "");
	CHECK_STR(t, text("<td>a</td><td>b</td>", b, sizeof b), "a b");
}

static void test_hostile_linear(struct test_state *t)
{
	size_t n = 2u * 1024u * 1024u;
	char *buf = xmalloc(n + 1);
	const char *pats[] = {"<a ",	 "<!--",    "<a href='", "&#",	    "<script>",
			      "</scrip", "<a b=c ", "url(",	 "<!--[if", "&amp"};
	for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
		size_t pl = strlen(pats[k]);
		for (size_t i = 0; i < n; i++)
			buf[i] = pats[k][i % pl];
		buf[n] = '\0';
		struct result *r = links(buf);
		CHECK(t, r->urls.n <= SHIELD_MAX_URLS);
		result_free(r);
		struct arena a;
		arena_init(&a, 0);
		size_t ol = 0;
		html_to_text(&a, buf, n, &ol);
		CHECK(t, ol <= 3 * n);
		arena_release(&a);
	}
	free(buf);
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, test_attrs);
	RUN(&t, test_srcset_css_meta);
	RUN(&t, test_base);
	RUN(&t, test_link_text);
	RUN(&t, test_entities);
	RUN(&t, test_schemes_dropped);
	RUN(&t, test_malformed);
	RUN(&t, test_to_text);
	RUN(&t, test_hostile_linear);
	return TEST_SUMMARY(&t);
}
