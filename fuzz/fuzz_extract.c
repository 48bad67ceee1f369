/*
 * fuzz_extract.c - the whole per-report pipeline (GMime parse, suspects,
 * headers, body walk, attachments, JSON output) on arbitrary bytes.
 * Invariants: at least one result per report; every result serialises to
 * JSON; URL and indicator counts stay within limits.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "extract/extract.h"
#include "out/json.h"

static int check(void *ctx, struct result *r)
{
	(*(int *)ctx)++;
	if (r->urls.n > SHIELD_MAX_URLS || r->attachments.n > SHIELD_MAX_ATTACHMENTS ||
	    r->received.n > SHIELD_MAX_RECEIVED)
		abort();
	char *s = result_to_json_string(r);
	if (!s)
		abort();
	free(s);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct extractor *x;
	if (!x) {
		char *err = NULL;
		x = extractor_new(NULL, &err);
		if (!x)
			abort();
	}
	char sha[65] = "";
	int n = 0;
	int got = extract_report(x, (const char *)data, size, "fuzz", -1, sha, check, &n);
	if (got < 1 || n != got)
		abort();
	return 0;
}
