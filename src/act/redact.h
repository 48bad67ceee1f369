/*
 * redact.h - remove victim identifiers before anything leaves the centre.
 *
 * Victims of a report are the reporter (the citizen who forwarded it) and
 * the recipients of the suspicious message. From each address the
 * redactor derives the identifiers to look for: the address, its local
 * part, the name tokens of the local part ("jan.peeters" -> "jan",
 * "peeters"; tokens under 3 letters and generic mailbox names such as
 * "info" are not used), and the address percent-encoded and in base64.
 *
 *   redact_text     - subjects, display names, file names: every victim
 *                     identifier and every e-mail address becomes
 *                     "[REDACTED]".
 *   redact_url_share - URLs for MISP/STIX: query values and the fragment
 *                     become "REDACTED" (per-recipient tokens live there),
 *                     path segments or userinfo holding a victim identifier,
 *                     an e-mail address or base64 of one become "REDACTED",
 *                     host labels naming the victim become "redacted".
 *   redact_url_block - URLs for published blocklists: no query, no
 *                     fragment, no userinfo, and the path cut before the
 *                     first segment that holds a victim identifier (a
 *                     prefix that still matches the phishing page).
 *                     *cut is set when the path was cut.
 *   redact_is_victim - a value (address) that must not be shared at all.
 *
 * All returned strings are malloc'd (caller frees). Inputs are hostile:
 * every scan is linear in the input times the (small) number of tokens.
 */
#ifndef SHIELD_ACT_REDACT_H
#define SHIELD_ACT_REDACT_H
#include <stddef.h>

struct redactor {
	char **tok; /* lower-case identifiers (addresses, local parts, names) */
	size_t n, cap;
	char **b64; /* base64 of each address (case-sensitive match) */
	size_t nb, capb;
	char **addr; /* full addresses, lower-case */
	size_t na, capa;
};

void redact_init(struct redactor *r);
void redact_release(struct redactor *r);
/* redact_add_victim - an e-mail address (or a bare name) of a victim. */
void redact_add_victim(struct redactor *r, const char *addr);
int redact_is_victim(const struct redactor *r, const char *value);
char *redact_text(const struct redactor *r, const char *s);
char *redact_url_share(const struct redactor *r, const char *url);
char *redact_url_block(const struct redactor *r, const char *url, int *cut);

#endif
