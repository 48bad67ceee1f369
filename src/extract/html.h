/*
 * html.h - a fast, forgiving HTML tokenizer for what Shield needs from HTML:
 * links (see url_extract_html in url.h) and the visible text.
 *
 * Why our own tokenizer: gumbo builds a full tree and costs about 3.5x the
 * time of parsing the MIME itself (bench/README.md); Shield needs only tags,
 * attributes and text, in one linear pass with no recursion.
 */
#ifndef SHIELD_HTML_H
#define SHIELD_HTML_H
#include <stddef.h>

#include "common/arena.h"

/* html_to_text - the visible text of an HTML document: tags dropped,
 * <script>/<style>/<head> content dropped, block elements (br, p, div, tr,
 * li, h1-6, blockquote) become newlines, character references decoded
 * to UTF-8. Result lives in arena a; *out_len receives its length.
 * Linear time; output is at most about the input size. */
char *html_to_text(struct arena *a, const char *html, size_t len, size_t *out_len);

#endif
