/*
 * fuzz_url.c - libFuzzer target for the URL text scanner and normaliser
 * (extract/url.c).
 *
 * Purpose: feed arbitrary bytes to url_extract_text(), url_add() (with and
 * without a base) and url_normalize(), and abort() on any broken
 * invariant of url.h: at most SHIELD_MAX_URLS URLs, each at most
 * SHIELD_MAX_URL_BYTES, starting with http://, https:// or ftp://,
 * without spaces or control bytes, valid UTF-8 in every string, a
 * non-empty host, and normalisation idempotent (normalising a stored URL
 * gives it back unchanged).
 * Ownership: the URL/HTML extraction owner. Built by `make fuzz-build`.
 * Limits: the input is copied into an exact-size buffer (no terminator)
 * so ASan reports any read past len.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "extract/url.h"

/* utf8_ok - s is well-formed UTF-8 (shape check only). */
static int utf8_ok(const unsigned char *s)
{
	while (*s) {
		size_t k = *s < 0x80 ? 0 : *s >= 0xF0 ? 3 : *s >= 0xE0 ? 2 : *s >= 0xC2 ? 1 : 9;
		if (k == 9)
			return 0;
		for (size_t i = 1; i <= k; i++)
			if ((s[i] & 0xC0) != 0x80)
				return 0;
		s += k + 1;
	}
	return 1;
}

/* check_result - the invariants above for every URL in r. */
static void check_result(struct result *r)
{
	if (r->urls.n > SHIELD_MAX_URLS)
		abort();
	for (size_t i = 0; i < r->urls.n; i++) {
		const struct ind_url *u = &r->urls.v[i];
		size_t n = strlen(u->url);
		if (n > SHIELD_MAX_URL_BYTES)
			abort();
		if (strncmp(u->url, "http://", 7) && strncmp(u->url, "https://", 8) &&
		    strncmp(u->url, "ftp://", 6))
			abort();
		for (size_t j = 0; j < n; j++)
			if ((unsigned char)u->url[j] <= 0x20 || u->url[j] == 0x7F)
				abort();
		if (!u->host || !u->host[0] || !u->host_unicode || !u->found_in)
			abort();
		if (!utf8_ok((const unsigned char *)u->url) ||
		    !utf8_ok((const unsigned char *)u->host_unicode) ||
		    (u->text && !utf8_ok((const unsigned char *)u->text)))
			abort();
		/* Idempotence: unless truncated, the stored URL is a fixed
		 * point of the normaliser. */
		if (n < SHIELD_MAX_URL_BYTES - 16) {
			char *h = NULL;
			char *again = url_normalize(&r->arena, u->url, n, &h, NULL);
			if (!again || strcmp(again, u->url) != 0 || strcmp(h, u->host) != 0)
				abort();
		}
	}
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
	url_extract_text(&s, in, size, "text");
	url_add(&s, in, size, NULL, 0, "html:href", NULL);
	url_add(&s, in, size, NULL, 0, "html:href", "https://base.example.com/d/p?q#f");
	check_result(r);
	char *h = NULL, *hu = NULL;
	char *u = url_normalize(&r->arena, in, size, &h, &hu);
	if (u && (strlen(u) > SHIELD_MAX_URL_BYTES || !h || !hu))
		abort();
	result_free(r);
	free(in);
	return 0;
}
