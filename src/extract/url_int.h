/*
 * url_int.h - private interface between extract/url.c (normaliser, index,
 * text scanner) and extract/html.c (HTML tokenizer). Not for other modules:
 * the public contract is url.h.
 *
 * Owner: URL/HTML extraction. Everything returned lives in the sink's
 * result arena, like url.h.
 */
#ifndef SHIELD_URL_INT_H
#define SHIELD_URL_INT_H
#include <stddef.h>

#include "extract/url.h"

/* url_add_ex - url_add with two extras: implicit_scheme (e.g. "http") is
 * used when raw starts directly with a host (bare "www." and domain forms
 * found in text); *idx (may be NULL) receives the index in r->urls of the
 * added or already present URL. Same return values as url_add. */
int url_add_ex(struct url_sink *s, const char *raw, size_t len, const char *found_in,
	       const char *base, const char *implicit_scheme, size_t *idx);

/* url_set_text - attach visible link text to r->urls.v[idx] unless it
 * already has text or the text names the same target (compared without
 * scheme, trailing slash and case, and after normalising the text if it
 * is itself a URL). text is whitespace-collapsed by the caller. */
void url_set_text(struct url_sink *s, size_t idx, const char *text, size_t len);

/* URL_TEXT_MAX - visible link text kept per URL, in bytes. */
#define URL_TEXT_MAX 256u

#endif
