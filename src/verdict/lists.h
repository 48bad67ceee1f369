/*
 * lists.h - known-good and known-bad lists for the verdict stage.
 *
 * Known-good lists are MISP warning lists (misp-warninglists list.json:
 * {"name", "type", "list": [...]}); types "string" and "hostname" match a
 * host exactly or as a parent domain, "substring" entries that look like
 * host names are matched the same way and other substrings (at most
 * LISTS_MAX_SUBSTRINGS per list) by memmem(); "cidr" and "regex" lists are
 * skipped (counted in lists_skipped()). A directory is searched for
 * "NAME/list.json" files.
 *
 * Known-bad lists are feeds, one entry a line, '#' comments: a URL
 * ("scheme://..."), a host or domain (matching itself and its subdomains),
 * or an IP. TSV feeds (first_seen<TAB>entry) and hosts files ("0.0.0.0
 * name") are read by taking the last field of the line. The source name is
 * "NAME" when the path is given as NAME=PATH, else derived from the file
 * name (openphish_urls.tsv -> "openphish").
 *
 * Every reason names the list: "list.bad" detail "openphish: https://...",
 * "list.good" detail "Top 10K most-used sites from Tranco: example.com".
 *
 * Loaded once, read-only after: safe to share between threads. Limits:
 * SHIELD_MAX_LIST_ENTRIES entries, SHIELD_MAX_LIST_ENTRY_BYTES per entry.
 */
#ifndef SHIELD_LISTS_H
#define SHIELD_LISTS_H
#include <stddef.h>

#define LISTS_MAX_SUBSTRINGS 256

struct lists;

/* lists_new - an empty set of lists (matches nothing). */
struct lists *lists_new(void);
struct lists *lists_free(struct lists *l);

/* lists_add_good - load a MISP warning-list file, or every NAME/list.json
 * under a directory. 0, or -1 and *err (malloc'd, naming the file). */
int lists_add_good(struct lists *l, const char *path, char **err);
/* lists_add_bad - load a URL/host/domain feed (path or NAME=PATH). */
int lists_add_bad(struct lists *l, const char *spec, char **err);

/* lists_good_host - the name of a known-good list holding host (or a
 * parent domain of it), or NULL. host is lower-case ASCII. */
const char *lists_good_host(const struct lists *l, const char *host);
/* lists_bad_url - the source of a known-bad feed naming this URL, its host
 * or a parent domain of the host, or NULL; *what is set to the matched
 * entry kind ("url", "host"). */
const char *lists_bad_url(const struct lists *l, const char *url, const char *host,
			  const char **what);
/* lists_bad_host - like lists_bad_url for a bare host or domain. */
const char *lists_bad_host(const struct lists *l, const char *host);

size_t lists_good_count(const struct lists *l);
size_t lists_bad_count(const struct lists *l);
size_t lists_skipped(const struct lists *l);

#endif
