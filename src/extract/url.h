/*
 * url.h - find, normalise and de-duplicate URLs in text and HTML.
 *
 * Contract for extract/url.c (text scanner, normaliser) and extract/html.c
 * (HTML link tokenizer). Both append to a url_sink: the sink owns nothing;
 * every string it adds lives in sink->r->arena (the message's arena).
 *
 * Normalisation: scheme and host lower-cased; host converted to punycode
 * (libidn2) with the Unicode form kept in host_unicode; default port
 * dropped; trailing punctuation trimmed; defanged forms (hxxp://,
 * example[.]com, [:]//) re-fanged. De-duplication is per message on the
 * normalised URL; the first occurrence's found_in wins, but visible text is
 * filled in by a later occurrence if the first had none.
 *
 * Limits: SHIELD_MAX_URLS per message (then limit.urls finding),
 * SHIELD_MAX_URL_BYTES per URL (truncated, limit.url_length finding),
 * SHIELD_MAX_SCAN_BYTES scanned per call (limit.scan_bytes finding).
 * No function here opens a network connection or recurses on input depth.
 */
#ifndef SHIELD_URL_H
#define SHIELD_URL_H
#include <stddef.h>

#include "extract/result.h"

struct psl_ctx_st; /* libpsl's psl_ctx_t */

struct url_index; /* private hash index for de-duplication */

struct url_sink {
	struct result *r;	      /* urls are appended to r->urls */
	const struct psl_ctx_st *psl; /* for reg_domain; NULL: built-in list */
	struct url_index *index;      /* allocated in r->arena on first use */
};

/* url_sink_init - bind a sink to a result; psl may be NULL. */
void url_sink_init(struct url_sink *s, struct result *r, const struct psl_ctx_st *psl);

/* url_extract_text - find URLs in plain text: scheme URLs (http, https,
 * ftp, hxxp and other defanged schemes), bare www. hosts, and bare
 * domain/path forms with a known TLD ("example[.]com/login"). found_in is
 * copied (e.g. "text", "header:subject"). */
void url_extract_text(struct url_sink *s, const char *text, size_t len, const char *found_in);

/* url_extract_html - find links in HTML: href, src, action, srcset,
 * background, formaction, data attributes holding URLs, CSS url(), meta
 * refresh; <base href> resolves relative links; the visible text of <a> is
 * recorded when it differs from the target. Also scans the HTML's visible
 * text for URLs written as text. Tolerates any malformed HTML in linear
 * time. found_in values are "html:href", "html:src", "html:action",
 * "html:srcset", "html:css", "html:meta-refresh", "html:text",
 * "html:background", "html:data" (data-href/-url/-src) and "html:base".
 * Relative links without a <base> are dropped, except protocol-relative
 * "//host/..." which is kept as http. javascript: and data: links are not
 * kept but record the findings url.javascript / url.data_uri.
 * Rules and benchmark: docs/internals/url-extraction.md. */
void url_extract_html(struct url_sink *s, const char *html, size_t len);

/* url_add - normalise one raw URL and add it; text (may be NULL) is the
 * visible link text; base (may be NULL) resolves relative references.
 * Returns 0 if added, 1 if a duplicate, -1 if rejected (not a URL, or a
 * scheme we do not keep such as mailto: or cid:, or over a limit). */
int url_add(struct url_sink *s, const char *raw, size_t len, const char *text, size_t text_len,
	    const char *found_in, const char *base);

/* url_normalize - normalise raw into arena memory; fills *host (ASCII),
 * *host_unicode; returns NULL if raw is not an absolute http(s)/ftp URL. */
char *url_normalize(struct arena *a, const char *raw, size_t len, char **host, char **host_unicode);

#endif
