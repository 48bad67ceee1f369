/*
 * blocklist.h - publish the active listings: DNS RPZ, plain domain and
 * URL lists, hosts file, CSV and JSON (formats.c, rpz.c).
 *
 * RPZ (draft-vixie-dnsop-dns-rpz): SOA + NS, then for each domain-level
 * entry the apex and the wildcard ("evil.example CNAME ." and
 * "*.evil.example CNAME ."), and "rpz-passthru." exceptions (apex and
 * wildcard) for the operator's allowlisted names, which beat the
 * wildcard of a listed parent. Owner names are relative to the zone's
 * origin; a name that is not a valid DNS name is skipped and counted.
 * The serial is the caller's (cmd_blocklist keeps it increasing on every
 * change of content).
 *
 * Every output says its TLP (TLP:CLEAR by default for published lists).
 * blocklist_write_file writes atomically: a temporary file in the same
 * directory, fsync, rename over the target.
 */
#ifndef SHIELD_ACT_BLOCKLIST_H
#define SHIELD_ACT_BLOCKLIST_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bl_entry {
	const char *level; /* "domain" or "url" */
	const char *value, *reason, *guard;
	int64_t first_seen, last_seen, listed_at, expires_at;
	long reports;
};

struct bl_meta {
	int64_t serial;		     /* RPZ SOA serial */
	int64_t generated_at;	     /* Unix seconds */
	const char *tlp;	     /* "clear", "green", ... */
	const char *contact;	     /* SOA RNAME, e.g. "hostmaster.cert.example." */
	const char *const *passthru; /* allowlisted names */
	size_t npassthru;
	long skipped; /* out: entries not representable in this format */
};

/* blocklist_formats - NULL-terminated names: rpz domains urls hosts csv json. */
extern const char *const blocklist_formats[];
int blocklist_format_ok(const char *format);
/* blocklist_file_name - default file name of a format in a directory. */
const char *blocklist_file_name(const char *format);
/* blocklist_dns_name_ok - a host name usable as an RPZ owner name. */
int blocklist_dns_name_ok(const char *name);
/* blocklist_digest - 64-bit hash of what the RPZ would contain (levels,
 * values and passthru names), to detect a change of content. */
uint64_t blocklist_digest(const struct bl_entry *e, size_t n, const char *const *passthru,
			  size_t npassthru);

/* blocklist_write - one format to f. 0, or -1 on a write error. */
int blocklist_write(FILE *f, const char *format, const struct bl_entry *e, size_t n,
		    struct bl_meta *m);
/* blocklist_write_file - the same, atomically to path ("-" = stdout).
 * -1 and *err (malloc'd) on failure; the old file is then untouched. */
int blocklist_write_file(const char *path, const char *format, const struct bl_entry *e, size_t n,
			 struct bl_meta *m, char **err);

#endif
