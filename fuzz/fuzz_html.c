/*
 * fuzz_html.c - libFuzzer target for the HTML tokenizer (extract/html.c):
 * url_extract_html() and html_to_text().
 *
 * Purpose: feed arbitrary bytes and abort() on any broken invariant of
 * url.h / html.h: at most SHIELD_MAX_URLS URLs of at most
 * SHIELD_MAX_URL_BYTES each, all valid UTF-8 (link text included);
 * html_to_text output NUL-terminated at *out_len, valid UTF-8, and no
 * longer than 3 * len (invalid bytes become U+FFFD; nothing else grows).
 * Ownership: the URL/HTML extraction owner. Built by `make fuzz-build`.
 * Limits: the input is copied into an exact-size buffer (no terminator)
 * so ASan reports any read past len.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "extract/html.h"
#include "extract/url.h"

/* utf8_ok - s[0..n) is well-formed UTF-8 (shape check only). */
static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t k = s[i] < 0x80	  ? 0
			   : s[i] >= 0xF0 ? 3
			   : s[i] >= 0xE0 ? 2
			   : s[i] >= 0xC2 ? 1
					  : 9;
		if (k == 9 || i + k >= n + (k ? 0 : 1))
			return 0;
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	memcpy(in, data, size);

	struct result *r = result_new("fuzz", -1);
	struct url_sink s;
	url_sink_init(&s, r, NULL);
	url_extract_html(&s, in, size);
	if (r->urls.n > SHIELD_MAX_URLS)
		abort();
	for (size_t i = 0; i < r->urls.n; i++) {
		const struct ind_url *u = &r->urls.v[i];
		size_t n = strlen(u->url);
		if (n > SHIELD_MAX_URL_BYTES || !utf8_ok((const unsigned char *)u->url, n))
			abort();
		if (u->text && (strlen(u->text) > 256 ||
				!utf8_ok((const unsigned char *)u->text, strlen(u->text))))
			abort();
	}

	size_t ol = 0;
	char *t = html_to_text(&r->arena, in, size, &ol);
	if (!t || ol > 3 * size || strlen(t) != ol || !utf8_ok((const unsigned char *)t, ol))
		abort();
	result_free(r);
	free(in);
	return 0;
}
