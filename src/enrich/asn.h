/*
 * asn.h - IP address to Autonomous System: a longest-prefix-match table.
 *
 * Purpose: map every IPv4/IPv6 address of an IP-event feed to the AS that
 * originates it, so notifications go to the network owner (issue 6).
 *
 * Sources (asn_builder_load detects the format from the content, and reads
 * gzip/bzip2/xz/zstd transparently through libarchive):
 *   - ip-location-db range CSV: start,end,asn,name (text or -num variant)
 *   - pyasn ipasn .dat (prefix/len<TAB>asn) and CAIDA pfx2as
 *     (prefix<TAB>len<TAB>asn, multi-origin "A_B" / set "A,B": first AS)
 *   - MRT RIB dumps, TABLE_DUMP_V2 (RFC 6396) and legacy TABLE_DUMP
 *   - MaxMind mmdb (GeoLite2-ASN layout), walked with libmaxminddb
 *   - a compiled table written by asn_table_save (mmap'd, loads in ms)
 *
 * Structure (see docs/notifications.md for the measurements): all input
 * ranges, nested or overlapping, are flattened once into disjoint segments
 * where each address maps to the most specific (smallest) covering range;
 * ties go to the range loaded last, so a local override file loaded after
 * the base table wins. A lookup is a direct index on the top bits of the
 * address followed by a binary search over a few sorted uint32 starts.
 *
 * Ownership: a table is immutable once built and safe to share between
 * threads; strings in struct asn_hit point into the table.
 * Limits/security: compiled files are untrusted input too: every count,
 * offset and index is checked before use (asn_table_open). Text lines
 * longer than ASN_MAX_LINE and MRT records above ASN_MAX_MRT_RECORD are
 * reported and skipped.
 */
#ifndef SHIELD_ASN_H
#define SHIELD_ASN_H
#include <stddef.h>
#include <stdint.h>

#define ASN_MAX_LINE (64u * 1024u)
#define ASN_MAX_MRT_RECORD (16u * 1024u * 1024u)
/* Names of AS holders are cut at this many bytes. */
#define ASN_MAX_NAME 255u

struct u128 {
	uint64_t hi, lo;
};

/* One parsed address: v4 addresses use v4, v6 ones hi/lo. */
struct asn_ip {
	int v6;
	uint32_t v4;
	struct u128 a6;
};

struct asn_hit {
	int found;	  /* 0: no covering prefix (unrouted) */
	uint32_t asn;	  /* 0 when not found */
	const char *name; /* AS holder, "" when unknown; points into the table */
	char prefix[96];  /* covering CIDR, or "first-last" for a non-CIDR range */
};

typedef void (*asn_warn_fn)(void *ctx, const char *msg);

struct asn_builder;
struct asn_table;

struct asn_builder *asn_builder_new(asn_warn_fn warn, void *ctx);
void asn_builder_free(struct asn_builder *b);
/* asn_builder_add4/6 - add an inclusive range lo..hi originated by asn. */
void asn_builder_add4(struct asn_builder *b, uint32_t lo, uint32_t hi, uint32_t asn);
void asn_builder_add6(struct asn_builder *b, struct u128 lo, struct u128 hi, uint32_t asn);
/* asn_builder_name - the holder's name for asn (a later call replaces). */
void asn_builder_name(struct asn_builder *b, uint32_t asn, const char *name, size_t n);
/* asn_builder_load - add every range of one source file, format detected.
 * Malformed lines are passed to warn as "path:line: why" and skipped.
 * Returns the number of ranges added, or -1 (err set) if the file could
 * not be read at all. A compiled table cannot be merged: -1. */
long asn_builder_load(struct asn_builder *b, const char *path, char *err, size_t errlen);
/* asn_builder_load_names - AS names from pyasn's asnames.json
 * ({"asn": "name", ...}) or "asn<TAB>name" / "asn,name" lines. */
long asn_builder_load_names(struct asn_builder *b, const char *path, char *err, size_t errlen);
/* asn_builder_finish - flatten into a table; frees the builder. */
struct asn_table *asn_builder_finish(struct asn_builder *b);

/* asn_table_open - load paths (several sources are layered in order). A
 * single compiled file is mmap'd. names may be NULL. NULL + *err (malloc'd)
 * on failure; warnings about skipped lines go to warn. */
struct asn_table *asn_table_open(const char *const *paths, int n, const char *names,
				 asn_warn_fn warn, void *ctx, char **err);
/* asn_table_save - write the compiled form (atomically: temp + rename). */
int asn_table_save(const struct asn_table *t, const char *path, char **err);
void asn_table_free(struct asn_table *t);

/* asn_table_find4 - the fast path: the AS of an IPv4 address, 0 if none. */
uint32_t asn_table_find4(const struct asn_table *t, uint32_t ip);
uint32_t asn_table_find6(const struct asn_table *t, struct u128 ip);
/* asn_table_find4_batch - out[i] = asn_table_find4(t, ip[i]) for n
 * addresses (n <= 4096), in stages that prefetch each level for all of
 * them first: inside a busy loop (shield feed) the index and segment
 * misses then overlap instead of costing one memory latency each. out
 * may be ip. */
void asn_table_find4_batch(const struct asn_table *t, const uint32_t *ip, uint32_t *out, size_t n);
/* asn_table_find - either family. */
uint32_t asn_table_find(const struct asn_table *t, const struct asn_ip *ip);
/* asn_table_lookup - AS, name and covering prefix of ip. */
void asn_table_lookup(const struct asn_table *t, const struct asn_ip *ip, struct asn_hit *hit);
/* asn_table_name - the holder's name for asn, "" when unknown. */
const char *asn_table_name(const struct asn_table *t, uint32_t asn);

struct asn_stats {
	size_t ranges4, ranges6;     /* distinct covering ranges kept */
	size_t segments4, segments6; /* disjoint segments after flattening */
	size_t names;
	size_t bytes; /* memory held by the lookup structure */
	int mapped;   /* loaded from a compiled file */
};
void asn_table_stats(const struct asn_table *t, struct asn_stats *s);

/* asn_parse_ip - parse a textual IPv4/IPv6 address of n bytes (no
 * surrounding space). IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4.
 * Returns 0 or -1. */
int asn_parse_ip(const char *s, size_t n, struct asn_ip *ip);
/* asn_format_ip - the canonical text of ip into out (>= 46 bytes). */
void asn_format_ip(const struct asn_ip *ip, char *out, size_t outlen);

#endif
