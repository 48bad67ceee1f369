/*
 * extract.h - the pipeline from one reported e-mail's bytes to results:
 * parse (GMime), find the suspicious message(s) inside the report
 * (mail/unwrap), extract indicators (urls, domains, ips, emails,
 * attachments, trace and authentication headers).
 *
 * One extractor per thread: it holds the PSL and libmagic handles and the
 * GMime parser options; it has no other state between reports.
 * Nothing here opens a network connection.
 */
#ifndef SHIELD_EXTRACT_H
#define SHIELD_EXTRACT_H
#include <stddef.h>

#include "extract/result.h"

struct extractor;

/* extractor_new - load the PSL (psl_file, or the bundled/system list when
 * NULL) and libmagic. Returns NULL and sets *err (malloc'd) on failure. */
struct extractor *extractor_new(const char *psl_file, char **err);
struct extractor *extractor_free(struct extractor *x);

/* Read-only data the extractors of one process can share (threads): the
 * PSL and the libmagic database, mapped once. The shared object must
 * outlive every extractor made from it. */
struct extract_shared;
struct extract_shared *extract_shared_new(const char *psl_file, char **err);
struct extract_shared *extract_shared_free(struct extract_shared *sh);
/* extract_shared_psl - its psl_ctx_t *, for other stages. */
const void *extract_shared_psl(const struct extract_shared *sh);
/* extractor_new_shared - an extractor (one per thread) using sh. */
struct extractor *extractor_new_shared(const struct extract_shared *sh, char **err);

/* Called once per suspicious message found in a report. The result is
 * borrowed: it is freed after the callback returns. A nonzero return stops
 * the report's remaining messages. */
typedef int (*extract_cb)(void *ctx, struct result *r);

/* extract_report - run the pipeline over one report. source is the input
 * path as given, source_index its position inside an mbox (-1 otherwise).
 * report_sha (65 bytes) receives the SHA-256 of data; if it already holds a
 * 64-character string on entry, that is trusted as the SHA-256 of data (the
 * caller hashed it already, e.g. to skip duplicates) and not recomputed.
 * Pass an empty string ("" / sha[0] = 0) otherwise. Always produces at
 * least one result, even for empty or oversized input (with findings).
 * Returns the number of results produced. */
int extract_report(struct extractor *x, const char *data, size_t len, const char *source,
		   long source_index, char report_sha[65], extract_cb cb, void *ctx);

/* extractor_psl - the loaded PSL context (psl_ctx_t *), for other stages. */
const void *extractor_psl(const struct extractor *x);

#endif
