/*
 * html.h - a fast, forgiving HTML tokenizer for what Shield needs from HTML:
 * links (see url_extract_html in url.h) and the visible text.
 *
 * Why our own tokenizer: gumbo builds a full tree and, on the phishing_pot
 * corpus, costs 1.9x the time of parsing the MIME itself and 12.7x our
 * url_extract_html (bench/html_bench.sh, docs/internals/url-extraction.md);
 * Shield needs only tags, attributes and text, in one linear pass with no
 * recursion.
 */
#ifndef SHIELD_HTML_H
#define SHIELD_HTML_H
#include <stddef.h>

#include "common/arena.h"

/* html_to_text - the visible text of an HTML document: tags dropped,
 * <script>/<style>/<head> content dropped, block elements (br, p, div, tr,
 * li, h1-6, blockquote) become newlines, character references decoded
 * to UTF-8. Result lives in arena a; *out_len receives its length.
 * White space runs collapse to one space, at most one blank line in a row;
 * NUL bytes are dropped and invalid UTF-8 becomes U+FFFD, so the output is
 * valid UTF-8 of at most 3 * len bytes (in practice well under len).
 * Linear time. The input is not capped here: callers bound it. */
char *html_to_text(struct arena *a, const char *html, size_t len, size_t *out_len);

#endif
