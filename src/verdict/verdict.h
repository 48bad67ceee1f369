/*
 * verdict.h - judge one suspicious message: phishing, malware, scam, spam,
 * legitimate or unknown, a score 0-100 and the reasons, each naming its
 * evidence. Runs after extraction, on the result (and its raw bytes while
 * they are lent, see result.h), before the store.
 *
 * The engine holds read-only data loaded once: the registry of verified
 * organisations, known-good and known-bad lists, the learned model, DKIM
 * keys for offline verification. It has no per-message state, so one engine
 * serves any number of messages (one per thread).
 *
 * Security: judging never opens a network connection unless cfg->dns is
 * set by the operator (DKIM key lookups, with cfg->dns_timeout_ms).
 */
#ifndef SHIELD_VERDICT_H
#define SHIELD_VERDICT_H

#include "extract/result.h"

struct verdict_config {
	const char *registry_file;     /* extra registry entries (NULL: bundled only) */
	const char *model_file;	       /* NULL: the bundled model */
	const char *const *good_lists; /* NULL-terminated MISP warning-list files/dirs */
	const char *const *bad_lists;  /* NULL-terminated URL/domain feed files */
	const char *dkim_keys_file;    /* offline "selector._domainkey.domain TXT" lines */
	int dns;		       /* operator allows DNS lookups for DKIM keys */
	int dns_timeout_ms;
};

struct verdict_engine;

/* verdict_engine_new - load everything cfg names (NULL cfg: defaults).
 * psl is the psl_ctx_t * the extractor uses. NULL and *err (malloc'd) on
 * failure, naming the file that could not be loaded. */
struct verdict_engine *verdict_engine_new(const struct verdict_config *cfg, const void *psl,
					  char **err);
struct verdict_engine *verdict_engine_free(struct verdict_engine *ve);
/* verdict_engine_new_shared - an engine for another thread that reads the
 * registry, the known lists and the model of base (read-only lookups; a
 * list of 400k hosts is then held once, not once per thread) and has its
 * own checkers. base must outlive it. cfg as given to base. */
struct verdict_engine *verdict_engine_new_shared(const struct verdict_engine *base,
						 const struct verdict_config *cfg, const void *psl,
						 char **err);

/* verdict_judge - set r->verdict, r->score, r->reasons, r->brand,
 * r->language, r->verified_sender and the verification fields. */
void verdict_judge(struct verdict_engine *ve, struct result *r);

#endif
