/*
 * brand.h - brand impersonation and look-alike signals.
 *
 * Finds the organisation a message claims or imitates (display name,
 * subject, text, link hosts) and adds reasons: look-alike domains (ICU
 * UTS #39 skeletons plus Shield's own layer for rn/m, 0/o, 1/l, vv/w, edit
 * distance, TLD swaps, combosquats, brand in subdomain or path, mixed-script
 * IDN), a display name claiming a brand whose address does not belong to
 * it, links whose visible text names one domain while the target is another,
 * and links to the organisation's own domains (marked verified).
 *
 * Weights are points towards malicious (docs/registry.md has the scale);
 * the engine sums and clamps. The checker is read-only after
 * brand_checker_new(): one checker serves any number of threads.
 * Cost: skeletons and normalised labels of every registry domain are
 * precomputed; per message each distinct registrable domain costs a few
 * hash lookups, a bounded edit-distance scan of one length bucket, and at
 * most one ICU call (only for non-ASCII labels).
 * Security: every string judged is attacker-controlled; the work per
 * message is bounded by the limits below (excess is skipped, not judged).
 */
#ifndef SHIELD_BRAND_H
#define SHIELD_BRAND_H

#include "common/limits.h"
#include "extract/result.h"
#include "verdict/registry.h"

struct brand_checker;

/* limits: BRAND_MAX_* in common/limits.h */

/* brand_checker_new - precompute skeletons of every registry domain. */
struct brand_checker *brand_checker_new(const struct registry *reg, const void *psl, char **err);
struct brand_checker *brand_checker_free(struct brand_checker *bc);

/* brand_judge - set r->brand (registry id) when a brand is claimed or
 * imitated, and append reasons (codes "brand.*", "lookalike.*",
 * "link.text_mismatch", "link.verified"). */
void brand_judge(const struct brand_checker *bc, struct result *r);

#endif
