/*
 * registry.h - verified organisations: who owns which domains.
 *
 * The bundled registry (data/registry.tsv, format in docs/registry.md)
 * lists the organisations most imitated towards Belgian and European
 * citizens, from public facts; an operator file adds or overrides entries
 * by id. Loaded once, read-only after: safe to share between threads.
 * Strings belong to the registry and live until registry_free().
 */
#ifndef SHIELD_REGISTRY_H
#define SHIELD_REGISTRY_H
#include <stddef.h>

#include "common/limits.h"

struct registry_entry {
	const char *id;	    /* e.g. "BE0403.201.185" (enterprise number) or a slug */
	const char *name;   /* display name, e.g. "Belfius Bank" */
	const char *sector; /* bank, government, post, parcel, telecom, platform, ... */
	const char *country;
	const char *const *names; /* brand names and short forms matched in text */
	size_t n_names;
	const char *const *domains; /* official registrable domains (punycode, lower-case) */
	size_t n_domains;
	const char *const
	    *keywords; /* words that suggest the brand (e.g. "itsme", "Belfius Direct") */
	size_t n_keywords;
	int signs_mail; /* its mail is DKIM-signed with d= one of its domains */
	/* Per-domain flags, parallel to domains (REG_DOMAIN_*): how far a
	 * domain proves the organisation and whether it is a look-alike pattern. */
	const unsigned char *domain_flags;
};

enum {
	REG_DOMAIN_GENERIC = 1, /* '=': official, but too generic to be a look-alike pattern */
	REG_DOMAIN_SHARED = 2,	/* '@': anyone can get an address or page there (gmail.com,
				 * sharepoint.com): not proof of the organisation */
	REG_DOMAIN_NOTOKEN = 4, /* '~': homoglyph/edit/TLD pattern only, no combosquat token */
};

/* Limits on registry files: REGISTRY_MAX_* in common/limits.h. */

struct registry;

/* registry_load - the bundled registry plus extra_file (may be NULL).
 * NULL and *err (malloc'd, naming file and line) on a malformed file. */
struct registry *registry_load(const char *extra_file, char **err);
/* registry_load_from - like registry_load() with an explicit bundled file
 * (NULL: the default search, SHIELD_DATADIR then ./data). */
struct registry *registry_load_from(const char *bundled_file, const char *extra_file, char **err);
struct registry *registry_free(struct registry *reg);

size_t registry_count(const struct registry *reg);
const struct registry_entry *registry_at(const struct registry *reg, size_t i);
/* registry_by_domain - the entry owning a registrable domain, or NULL. */
const struct registry_entry *registry_by_domain(const struct registry *reg, const char *reg_domain);
const struct registry_entry *registry_by_id(const struct registry *reg, const char *id);
/* registry_entry_owns - index+1 of reg_domain in e->domains, 0 if not its. */
size_t registry_entry_owns(const struct registry_entry *e, const char *reg_domain);

#endif
