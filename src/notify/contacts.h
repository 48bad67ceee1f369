/*
 * contacts.h - who to notify for an address: the contact table loaded
 * from the store into an in-memory resolver, and the importers (CSV, RIPE
 * database split dumps).
 *
 * Keys: an AS ("AS64500"), a prefix or range ("192.0.2.0/24",
 * "192.0.2.0 - 192.0.2.255", IPv6 too) or a domain ("example.be").
 * Resolution for an IP event: the most specific prefix contact, else the
 * AS contact. For one key, an operator entry (origin "operator") beats
 * imported ones, and imports never touch operator entries, so overrides
 * survive re-imports.
 * Ownership: struct contact strings live as long as the struct contacts.
 */
#ifndef SHIELD_CONTACTS_H
#define SHIELD_CONTACTS_H
#include <stddef.h>
#include <stdint.h>

#include "enrich/asn.h"

struct store;

struct contact {
	int64_t id;
	const char *key_type; /* "asn", "prefix", "domain" */
	const char *key;
	const char *address;
	const char *language; /* nl, fr, de, en */
	const char *format;   /* "csv" or "csv+xarf" */
	long interval;	      /* seconds between batches */
	const char *origin;   /* "operator" or the import source */
};

struct contacts;

/* contacts_load - every contact of the store; NULL + why on error. */
struct contacts *contacts_load(struct store *st, char *why, size_t whylen);
void contacts_free(struct contacts *c);
/* contacts_resolve - the contact for ip in AS asn (0 = unknown), or NULL. */
const struct contact *contacts_resolve(const struct contacts *c, const struct asn_ip *ip,
				       uint32_t asn);
const struct contact *contacts_for_asn(const struct contacts *c, uint32_t asn);
const struct contact *contacts_for_domain(const struct contacts *c, const char *domain);
size_t contacts_count(const struct contacts *c);
const struct contact *contacts_at(const struct contacts *c, size_t i);

/* contact_key_normalise - canonical key text and its type for user input
 * ("as64500", "64500", "192.0.2.0/24", "Example.BE."). 0 or -1. */
int contact_key_normalise(const char *in, char *type, size_t typelen, char *key, size_t keylen);
/* contact_language_ok / contact_format_ok - accepted values. */
int contact_language_ok(const char *lang);
int contact_format_ok(const char *fmt);
/* contact_parse_interval - "3600", "1h", "24h", "1d", "30m" -> seconds. */
long contact_parse_interval(const char *s);

typedef void (*contact_warn_fn)(void *ctx, const char *msg);

/* contacts_import_csv - rows "key,address[,language[,format[,interval]]]"
 * (a header line naming the columns is recognised and may reorder them).
 * Replaces every contact of origin source; operator entries are kept. */
long contacts_import_csv(struct store *st, const char *source, const char *const *paths, int n,
			 contact_warn_fn warn, void *ctx, char *err, size_t errlen);
/* contacts_import_ripe - RIPE database split dumps (ripe.db.role,
 * .aut-num, .inetnum, .inet6num, .organisation; gz fine; several files
 * or one concatenated file): aut-num/inetnum/inet6num abuse-c (directly
 * or via org:) -> role/irt abuse-mailbox. Replaces origin source. */
long contacts_import_ripe(struct store *st, const char *source, const char *const *paths, int n,
			  contact_warn_fn warn, void *ctx, char *err, size_t errlen);

#endif
