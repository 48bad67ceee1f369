/*
 * guard.h - the known-good guard: what must never be listed at domain
 * level. A domain-level RPZ entry cuts a whole country off from a site, so
 * before a registrable domain is listed it is checked against
 *   - known-good lists: the MISP warning lists (top domains, cloud and CDN
 *     domains, shorteners, dynamic DNS, ...) as loaded by the verdict
 *     stage's verdict/lists.h (guard_set_lists); a match from a public
 *     suffix list counts only when the domain is itself a public suffix or
 *     lies under a public-sector suffix (gov.br, ac.uk);
 *   - the verified-organisation registry (their official domains);
 *   - the operator's allowlist (act_allow).
 * A domain is refused when it, or any parent of it, is on a list, or when a
 * host seen under it in reports is (the wildcard entry would block it);
 * registry names also refuse every parent of theirs.
 * Names on the operator's allowlist refuse their parents only upward
 * (an allowlisted host below a rogue domain is an rpz-passthru instead).
 *
 * The guard fails safe: with no known-good list loaded, guard_check refuses
 * every domain ("guard:no-known-good-lists"), so everything stays URL-level.
 * Ownership: the guard copies every name; guard_free releases it all.
 * Not thread-safe while loading; read-only lookups afterwards.
 */
#ifndef SHIELD_ACT_GUARD_H
#define SHIELD_ACT_GUARD_H
#include <stddef.h>

struct guard;
struct lists;

/* Longest host name kept (RFC 1035: 253 octets in text form). */
#define GUARD_MAX_NAME 253

struct guard *guard_new(void);
struct guard *guard_free(struct guard *g);

/* guard_add - one known-good name under source (e.g. "warninglist:tranco10k",
 * "registry:BE0403.201.185", "allowlist"); upward_only: see above.
 * Names are lower-cased; a leading "*." or "." is dropped. Returns 0 when
 * added, 1 when the name is not a host name (skipped). */
int guard_add(struct guard *g, const char *name, const char *source, int upward_only);
/* guard_load_registry - official domains of every verified organisation;
 * returns the number of domains added, -1 (and *err) on failure. */
int guard_load_registry(struct guard *g, const char *extra_file, char **err);
/* guard_count - names held (exact entries, not their parents). */
size_t guard_count(const struct guard *g);
/* guard_has_lists - nonzero once a known-good list has been loaded. */
int guard_has_lists(const struct guard *g);
/* guard_set_lists - use the verdict stage's MISP warning lists
 * (verdict/lists.h; borrowed, must outlive the guard). */
void guard_set_lists(struct guard *g, const struct lists *l);

/* guard_check - may domain (a registrable domain, lower-case ASCII) be
 * listed at domain level? hosts are the host names seen under it in
 * reports (each is checked against the warning lists too, since the
 * wildcard entry would block them). Returns NULL if yes, else the reason
 * ("warninglist:<list name>: google.com", "allowlist: ...") in why. */
const char *guard_check(const struct guard *g, const char *domain, const char *const *hosts,
			size_t nhosts, char *why, size_t whylen);
/* guard_lookup - the source of name if name itself is a known-good entry
 * (no parent/child logic), else NULL. */
const char *guard_lookup(const struct guard *g, const char *name);

#endif
