/*
 * feed.h - IP-event feeds: parse Shadowserver-style CSV (columns found by
 * header name), plain IP lists and JSON Lines into events, and fold
 * events into incidents (same IP and type inside a window) in the store.
 *
 * Ownership: a struct feed_event's strings point into the line being
 * parsed and are valid only during the callback / until the next line.
 * Limits (common/limits.h): lines above FEED_MAX_LINE are reported and
 * skipped; types, sources and TLP labels are cut to FEED_MAX_LABEL bytes
 * and reduced to [a-z0-9._:-] so they are safe in mail, CSV and file
 * names; a run keeps
 * at most FEED_MAX_LABELS distinct labels (types, sources and TLP values
 * together) and counts the rest as "other" (reported). Event times must
 * fall in FEED_MIN_TIME..FEED_MAX_TIME (1970-2106): a line outside is
 * reported and skipped.
 * Security: every line is untrusted; a malformed line is reported with
 * file:line and skipped, and never stops the rest of the file.
 * Threads: feed_run_file may run up to two helper threads of its own
 * (hashing, parsing; joined before it returns); a feed_run itself belongs
 * to one calling thread. A plain file is mapped while it is read: one
 * truncated by another process meanwhile ends the process (SIGBUS)
 * before anything of the run is stored.
 */
#ifndef SHIELD_FEED_H
#define SHIELD_FEED_H
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"
#include "enrich/asn.h"

#define FEED_DEFAULT_WINDOW 86400L

/* FEED_EVENTS: events handed over by feed_run_events, not parsed */
enum feed_format { FEED_UNKNOWN = 0, FEED_CSV, FEED_IPLIST, FEED_JSONL, FEED_EVENTS };

struct feed_event {
	int64_t time; /* Unix seconds, UTC */
	struct asn_ip ip;
	int port;	   /* 0 when unknown */
	uint32_t feed_asn; /* AS named by the feed itself, 0 if none */
	char type[FEED_MAX_LABEL + 1];
	char source[FEED_MAX_LABEL + 1]; /* "" = the file's default */
	char tlp[FEED_MAX_LABEL + 1];	 /* "" = the run's default */
};

struct feed_parser;

/* feed_parser_new - parser for one file; default_type (may be NULL) is
 * used when the file has no type column (else the file name stem). */
struct feed_parser *feed_parser_new(const char *path, const char *default_type,
				    int64_t default_time);
void feed_parser_free(struct feed_parser *p);
/* feed_parser_line - parse one line (writable, len bytes, no newline).
 * Returns 1 with *ev filled, 0 for a line that holds no event (header,
 * comment, blank), -1 for a malformed line with why set. */
int feed_parser_line(struct feed_parser *p, char *line, size_t len, struct feed_event *ev,
		     char *why, size_t whylen);
enum feed_format feed_parser_format(const struct feed_parser *p);

/* feed_parse_time - "2010-02-10 00:00:00", ISO 8601 with T, fraction,
 * Z or an offset, or Unix seconds. 0 or -1. */
int feed_parse_time(const char *s, size_t n, int64_t *out);
/* feed_label - reduce s to a safe lower-case label (see above). */
void feed_label(char *dst, const char *s, size_t n);

struct store;
struct feed_run;

typedef void (*feed_warn_fn)(void *ctx, const char *msg);

struct feed_opts {
	const char *source; /* default source name; NULL: the file's base name */
	const char *tlp;    /* default TLP label, e.g. "amber" */
	const char *type;   /* forced type; NULL: from the file */
	long window;	    /* seconds, FEED_DEFAULT_WINDOW if 0 */
	int force;	    /* load a file again even if its SHA-256 was seen */
	int64_t now;	    /* time for events without one (0: time(NULL)) */
};

struct feed_file_result {
	const char *path;
	char sha256[65];
	enum feed_format format;
	long lines, events, bad;
	int duplicate; /* skipped: loaded before */
	int64_t loaded_before;
	int failed; /* could not be read */
	char error[256];
};

struct feed_totals {
	long files, events, bad, incidents_new, incidents_merged, unrouted;
};

/* feed_run_new - a run folding every given file into the store. */
struct feed_run *feed_run_new(struct store *st, const struct asn_table *t,
			      const struct feed_opts *o, feed_warn_fn warn, void *ctx);
/* feed_run_events - fold events that do not come from a file (the store's
 * own reports: feed/reports.h) as one more input of the run, recorded in
 * feed_file under name: the same name twice is a duplicate (res->duplicate),
 * as the same file is. source labels events whose source is empty; labels
 * are reduced as a file's are; an event without a type or with a time
 * outside FEED_MIN_TIME..FEED_MAX_TIME is counted bad. */
int feed_run_events(struct feed_run *r, const char *name, const char *source,
		    const struct feed_event *ev, size_t n, struct feed_file_result *res);
/* feed_run_file - parse one file into the run's in-memory incidents. */
int feed_run_file(struct feed_run *r, const char *path, struct feed_file_result *res);
/* feed_run_commit - merge with open incidents in the store and write all
 * in one transaction. 0 or -1 (why set; nothing was written). */
int feed_run_commit(struct feed_run *r, struct feed_totals *tot, char *why, size_t whylen);
void feed_run_free(struct feed_run *r);

#endif
