/*
 * ioc.h - plain indicators: domains (with their registrable domain from the
 * Public Suffix List) and e-mail addresses found in text.
 * Results are appended to the result (arena-owned, de-duplicated).
 */
#ifndef SHIELD_IOC_H
#define SHIELD_IOC_H
#include <stddef.h>

#include "extract/result.h"

/* ioc_add_domain - validate, lower-case (punycode for IDN) and add a host
 * name as a domain indicator with its registrable domain. psl is a
 * psl_ctx_t *. Returns 0 added, 1 duplicate, -1 rejected. */
int ioc_add_domain(struct result *r, const void *psl, const char *host, size_t n,
		   const char *found_in);

/* ioc_emails_in_text - add every e-mail address written in text (and its
 * domain). Linear: scans for '@' and expands around it, bounded. */
void ioc_emails_in_text(struct result *r, const void *psl, const char *text, size_t n,
			const char *found_in);

#endif
