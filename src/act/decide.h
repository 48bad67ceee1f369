/*
 * decide.h - list a URL or its rogue domain? One decision per registrable
 * domain seen in a malicious report, with the reason in words.
 *
 * Domain level (an RPZ entry for the domain and all its subdomains) only
 * with positive evidence that the registrable domain exists for abuse, and
 * nothing against it:
 *   against (-> URL level): an IP host; a registrable domain under a
 *     private public suffix (github.io, 000webhostapp.com: one customer's
 *     site on a shared platform); a shared platform (free hosting, cloud
 *     storage, form builders, URL shorteners, big platforms; built-in
 *     list); the guard (guard.h: known-good lists, registry, allowlist);
 *     a report judged not malicious linking to it; signs of a compromised
 *     site (a CMS path such as /wp-content/).
 *   for: its own label imitates a verified organisation (a look-alike
 *     named by the verdict stage, not a TLD swap and not a brand in a
 *     subdomain or path: those are often the brand's own national site or
 *     a compromised one); or, when the operator sets policy->min_reports
 *     (0: off), it was linked only from malicious reports, in at least
 *     that many distinct ones.
 * Pure functions, no state: safe from any thread.
 */
#ifndef SHIELD_ACT_DECIDE_H
#define SHIELD_ACT_DECIDE_H
#include <stddef.h>

enum act_level { ACT_URL = 0, ACT_DOMAIN = 1 };

struct act_facts {
	const char *reg_domain;	 /* NULL for an IP host */
	long mal_reports;	 /* distinct malicious messages linking to it */
	long other_reports;	 /* reports judged not malicious linking to it */
	const char *lookalike;	 /* brand it imitates (verdict stage or name), or NULL */
	int private_suffix;	 /* under a PSL private-section suffix */
	const char *compromised; /* a path sign such as "/wp-content/", or NULL */
	const char *guard;	 /* guard_check's reason, or NULL */
};

struct act_policy {
	long min_reports; /* distinct malicious messages for "seen only in abuse"; 0: off */
};

/* act_shared_platform - the built-in shared-platform suffix reg_domain
 * falls under (e.g. "dropbox.com"), or NULL. */
const char *act_shared_platform(const char *reg_domain);
/* act_compromised_sign - a path fragment of a compromised CMS in url
 * ("/wp-content/", "/wp-includes/", ...), or NULL. */
const char *act_compromised_sign(const char *url);
/* act_decide - the level, with the reason written to why. */
enum act_level act_decide(const struct act_facts *f, const struct act_policy *p, char *why,
			  size_t whylen);

#endif
