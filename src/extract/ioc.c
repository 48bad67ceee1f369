/*
 * ioc.c - domains and e-mail addresses (see ioc.h).
 */
#include "extract/ioc.h"

#include <idn2.h>
#include <libpsl.h>
#include <string.h>

/* host_char - characters allowed in a host name (ASCII or UTF-8 bytes). */
static int host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c >= 0x80;
}

int ioc_add_domain(struct result *r, const void *psl, const char *host, size_t n,
		   const char *found_in)
{
	while (n && host[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	int ascii = 1, dots = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host[i];
		if (!host_char(c))
			return -1;
		if (c >= 0x80)
			ascii = 0;
		if (c == '.')
			dots++;
	}
	if (!dots)
		return -1; /* "localhost", single labels: not an indicator */
	char *name = arena_strndup(&r->arena, host, n);
	if (!ascii) {
		char *out = NULL;
		if (idn2_lookup_u8((const uint8_t *)name, (uint8_t **)&out,
				   IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK &&
		    idn2_lookup_u8((const uint8_t *)name, (uint8_t **)&out,
				   IDN2_TRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK)
			return -1;
		name = arena_strdup(&r->arena, out);
		idn2_free(out);
	}
	for (char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	size_t before = r->domains.n;
	int rc = result_add_ind(r, IND_DOMAIN, name, strlen(name), found_in);
	if (rc == 0 && r->domains.n > before) {
		const char *reg = psl_registrable_domain((const psl_ctx_t *)psl, name);
		if (reg)
			r->domains.v[r->domains.n - 1].reg_domain = arena_strdup(&r->arena, reg);
	}
	return rc;
}

/* local_char - characters of an unquoted local part (RFC 5322 atext). */
static int local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

void ioc_emails_in_text(struct result *r, const void *psl, const char *text, size_t n,
			const char *found_in)
{
	const char *end = text + n;
	const char *p = text;
	while (p < end && (p = memchr(p, '@', (size_t)(end - p))) != NULL) {
		/* local part: at most 64 bytes back (RFC 5321 4.5.3.1.1) */
		const char *s = p;
		while (s > text && p - s < 64 && local_char((unsigned char)s[-1]))
			s--;
		while (s < p && *s == '.')
			s++;
		const char *e = p + 1;
		while (e < end && e - p < 254 && host_char((unsigned char)*e) && *e != '_')
			e++;
		while (e > p + 1 && (e[-1] == '.' || e[-1] == '-'))
			e--;
		const char *dot = memchr(p + 1, '.', (size_t)(e - p - 1));
		if (s < p && dot && dot > p + 1) {
			char addr[320];
			size_t al = (size_t)(e - s);
			if (al < sizeof addr) {
				memcpy(addr, s, al);
				addr[al] = '\0';
				if (result_add_ind(r, IND_EMAIL, addr, al, found_in) == 0)
					ioc_add_domain(r, psl, p + 1, (size_t)(e - p - 1),
						       found_in);
			}
		}
		p = e > p ? e : p + 1;
	}
}
