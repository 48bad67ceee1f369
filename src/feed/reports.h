/*
 * reports.h - the store's own reports as a source of IP events, so that
 * what citizens report reaches network owners through the same path as
 * partner feeds (feed.h, notify/): `shield feed --reports`.
 *
 * From every report judged malicious (phishing, malware, scam, spam) that
 * was not read before:
 *   - its origin IP (the host that handed the mail to the recipient's side,
 *     see mail/headers.h): type "<verdict>-origin", e.g. phishing-origin;
 *   - the IP hosts of its links (http://203.0.113.7/login): type
 *     "<verdict>-url".
 * Only public addresses (ip_is_public) become events; the time of an event
 * is when the report was stored. Reports are read once: the run records
 * "reports:FROM-TO" (report ids) in feed_file and the next run starts after
 * TO.
 * With resolve, an operator's choice since it sends DNS queries (nothing
 * in a report opens a connection otherwise): the host names on the current
 * blocklist (`shield blocklist`; they passed its known-good guard, so the
 * brand's own site linked from a phish is never one) are resolved, at most
 * FEED_MAX_RESOLVE a run, and each address becomes a "phishing-site" event
 * at the listing's last sighting; listings are read once per sighting
 * ("blocklist:FROM-TO", last_seen times).
 * Ownership: the events are the caller's (feed_report_events_free).
 * Limits (common/limits.h): FEED_REPORT_MAX_IPS addresses per report and
 * FEED_MAX_RESOLVE host names per run; what is left out is counted, not
 * dropped silently.
 */
#ifndef SHIELD_FEED_REPORTS_H
#define SHIELD_FEED_REPORTS_H
#include <stddef.h>
#include <stdint.h>

#include "feed/feed.h"

struct store;

struct feed_report_events {
	struct feed_event *v;
	size_t n, cap;
	int64_t from, to; /* report ids read (to = 0: none) */
	long reports;	  /* reports read */
	long malicious;	  /* of which judged malicious */
	long capped;	  /* addresses left out by FEED_REPORT_MAX_IPS */
};

struct feed_listing_events {
	struct feed_event *v;
	size_t n, cap;
	int64_t from, to; /* last_seen times read (to = 0: none) */
	long hosts;	  /* host names looked up */
	long unresolved;  /* ... that gave no public address */
	long capped;	  /* host names left out by FEED_MAX_RESOLVE */
};

/* feed_reports_read - events of the reports with id > after. 0, or -1 with
 * why set (a store error). */
int feed_reports_read(struct store *st, int64_t after, struct feed_report_events *out, char *why,
		      size_t whylen);
void feed_report_events_free(struct feed_report_events *e);

/* feed_listings_resolve - events of the active blocklist entries seen
 * after since (a last_seen time), through the system resolver. */
int feed_listings_resolve(struct store *st, int64_t since, struct feed_listing_events *out,
			  char *why, size_t whylen);
void feed_listing_events_free(struct feed_listing_events *e);

#endif
