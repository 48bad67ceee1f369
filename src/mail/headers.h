/*
 * headers.h - parsers for the trace and authentication header fields:
 * Received (RFC 5321 4.4), Authentication-Results (RFC 8601),
 * Received-SPF (RFC 7208 9.1) and DKIM-Signature tags (RFC 6376 3.5).
 *
 * Pure string functions: input is an unfolded header value (UTF-8 or
 * ASCII, not necessarily valid); output strings live in the arena. They
 * never fail: what cannot be parsed is left NULL. Linear in the input.
 */
#ifndef SHIELD_HEADERS_H
#define SHIELD_HEADERS_H
#include <stddef.h>

#include "common/arena.h"
#include "extract/result.h"

/* received_parse - split a Received value into from/by/with/date and the
 * connecting IP (from the "[1.2.3.4]" or "(host [ip])" comment, or a bare
 * IP as the from name). Returns 1 if anything was recognised. */
int received_parse(struct arena *a, const char *v, struct hop *out);

/* authres_parse - the spf=, dkim=, dmarc= results of one
 * Authentication-Results value; each out pointer is set only if found and
 * still NULL (so the first header, the receiver's, wins). For dkim, a pass
 * anywhere in the value wins over other results (a message may carry
 * several signatures). */
void authres_parse(struct arena *a, const char *v, char **spf, char **dkim, char **dmarc);

/* received_spf_parse - the result word of a Received-SPF value. */
char *received_spf_parse(struct arena *a, const char *v);

/* dkim_sig_parse - d=, s= and a= of a DKIM-Signature value. Returns 1 if d=
 * was found. */
int dkim_sig_parse(struct arena *a, const char *v, struct dkim_sig *out);

/* ip_parse - if s[0..n) is an IPv4 or IPv6 literal, write its canonical
 * text form to out (INET6_ADDRSTRLEN bytes) and return 4 or 6; else 0. */
int ip_parse(const char *s, size_t n, char out[46]);

/* ip_is_public - 0 for private, loopback, link-local, CGNAT, documentation,
 * multicast and reserved ranges (RFC 6890); 1 otherwise. */
int ip_is_public(const char *canonical_ip);

#endif
