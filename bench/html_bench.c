/*
 * html_bench.c - why Shield has its own HTML tokenizer: time
 * url_extract_html() (extract/html.c) against gumbo_parse() plus a tree
 * walk collecting href/src, on the text/html parts of real messages.
 *
 * Owner: URL/HTML extraction. Not part of the main build: bench/html_bench.sh
 * compiles it with gcc, pkg-config gumbo and build/libshield.a.
 * Usage: html_bench FILE.eml... (MIME parsing with GMime, timed too, so
 * the HTML numbers can be read against the cost of the parse itself).
 * Limits: each HTML part is capped at SHIELD_MAX_SCAN_BYTES, as in Shield.
 */
#include <gmime/gmime.h>
#include <gumbo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/limits.h"
#include "extract/html.h"
#include "extract/url.h"

struct doc {
	char *html;
	size_t len;
};

struct docs {
	struct doc *v;
	size_t n, cap;
};

/* now - process CPU seconds (robust to a busy shared machine). */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* collect - GMime callback: keep every text/html part's UTF-8 text. */
static void collect(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct docs *d = data;
	(void)parent;
	if (!GMIME_IS_TEXT_PART(part))
		return;
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	if (!g_mime_content_type_is_type(ct, "text", "html"))
		return;
	char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	if (!t)
		return;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->v = realloc(d->v, d->cap * sizeof(*d->v));
		if (!d->v)
			abort();
	}
	size_t len = strlen(t);
	if (len > SHIELD_MAX_SCAN_BYTES)
		len = SHIELD_MAX_SCAN_BYTES;
	d->v[d->n].html = t;
	d->v[d->n].len = len;
	d->n++;
}

/* walk - iterative gumbo tree walk counting href/src attributes (an
 * explicit stack, as Shield would have to use on hostile depth). */
static size_t walk(GumboNode *root)
{
	size_t found = 0, n = 0, cap = 1024;
	GumboNode **st = malloc(cap * sizeof(*st));
	st[n++] = root;
	while (n) {
		GumboNode *x = st[--n];
		if (x->type != GUMBO_NODE_ELEMENT && x->type != GUMBO_NODE_DOCUMENT)
			continue;
		GumboVector *kids;
		if (x->type == GUMBO_NODE_ELEMENT) {
			GumboVector *at = &x->v.element.attributes;
			for (unsigned i = 0; i < at->length; i++) {
				GumboAttribute *a = at->data[i];
				if (!strcmp(a->name, "href") || !strcmp(a->name, "src") ||
				    !strcmp(a->name, "action") || !strcmp(a->name, "background"))
					found++;
			}
			kids = &x->v.element.children;
		} else {
			kids = &x->v.document.children;
		}
		for (unsigned i = 0; i < kids->length; i++) {
			if (n == cap) {
				cap *= 2;
				st = realloc(st, cap * sizeof(*st));
				if (!st)
					abort();
			}
			st[n++] = kids->data[i];
		}
	}
	free(st);
	return found;
}

int main(int argc, char **argv)
{
	struct docs d = {0};
	size_t bytes_eml = 0, bytes_html = 0, urls = 0, gumbo_links = 0, text_bytes = 0;
	g_mime_init();
	double t0 = now();
	for (int i = 1; i < argc; i++) {
		GMimeStream *s = g_mime_stream_file_open(argv[i], "rb", NULL);
		if (!s)
			continue;
		bytes_eml += (size_t)g_mime_stream_length(s);
		GMimeParser *p = g_mime_parser_new_with_stream(s);
		GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
		if (m) {
			g_mime_message_foreach(m, collect, &d);
			g_object_unref(m);
		}
		g_object_unref(p);
		g_object_unref(s);
	}
	double t_mime = now() - t0;
	for (size_t i = 0; i < d.n; i++)
		bytes_html += d.v[i].len;

	t0 = now();
	for (size_t i = 0; i < d.n; i++) {
		struct result *r = result_new("bench", -1);
		struct url_sink sk;
		url_sink_init(&sk, r, NULL);
		url_extract_html(&sk, d.v[i].html, d.v[i].len);
		urls += r->urls.n;
		result_free(r);
	}
	double t_ours = now() - t0;

	t0 = now();
	for (size_t i = 0; i < d.n; i++) {
		struct arena a;
		arena_init(&a, 0);
		size_t ol = 0;
		html_to_text(&a, d.v[i].html, d.v[i].len, &ol);
		text_bytes += ol;
		arena_release(&a);
	}
	double t_text = now() - t0;

	t0 = now();
	for (size_t i = 0; i < d.n; i++) {
		GumboOutput *o =
		    gumbo_parse_with_options(&kGumboDefaultOptions, d.v[i].html, d.v[i].len);
		gumbo_links += walk(o->root);
		gumbo_destroy_output(&kGumboDefaultOptions, o);
	}
	double t_gumbo = now() - t0;

	printf("messages %d (%.1f MB), html parts %zu (%.1f MB)\n", argc - 1, bytes_eml / 1e6, d.n,
	       bytes_html / 1e6);
	printf("gmime parse+decode      %8.3f s\n", t_mime);
	printf("shield url_extract_html %8.3f s  (%zu unique URLs, %.0f MB/s)\n", t_ours, urls,
	       bytes_html / 1e6 / t_ours);
	printf("shield html_to_text     %8.3f s  (%.1f MB text)\n", t_text, text_bytes / 1e6);
	printf("gumbo parse+walk        %8.3f s  (%zu href/src attributes, %.0f MB/s)\n", t_gumbo,
	       gumbo_links, bytes_html / 1e6 / t_gumbo);
	printf("gumbo / shield          %8.1fx\n", t_gumbo / t_ours);
	printf("gumbo / gmime parse     %8.2fx, shield / gmime parse %.2fx\n", t_gumbo / t_mime,
	       t_ours / t_mime);
	for (size_t i = 0; i < d.n; i++)
		g_free(d.v[i].html);
	free(d.v);
	return 0;
}
