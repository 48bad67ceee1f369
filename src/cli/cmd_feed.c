/*
 * cmd_feed.c - `shield feed`: load IP-event feeds (Shadowserver-style CSV,
 * IP lists, JSON Lines) into incidents in the store, each event mapped to
 * its AS through the routing table.
 *
 * All files of a run are committed in one transaction after parsing, so a
 * failure part-way stores nothing of the run and a re-run is safe; files
 * already loaded (same SHA-256) are skipped unless --force.
 * Security: feed content only reaches the store through bound parameters
 * (store_notify.c) and the terminal through %s with sanitised labels.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "enrich/asn.h"
#include "feed/feed.h"
#include "feed/reports.h"
#include "notify/contacts.h"
#include "store/store.h"
#include "store/store_notify.h"

#define MAX_TABLES 16

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shield feed [--db FILE] [--asn-table FILE]... [options] FILE...\n"
		"   or: shield feed [--db FILE] [--asn-table FILE]... --reports [--resolve] "
		"[FILE...]\n\n"
		"Load IP-event feeds into the store as incidents: events of the same IP and type\n"
		"within the window are one incident. Each IP is mapped to its AS (longest prefix\n"
		"match). Formats are detected per file (gzip/bzip2/xz/zstd accepted; - is stdin):\n"
		"  CSV with a header (Shadowserver style): columns found by name: ip/src_ip/\n"
		"      source.ip, timestamp/time, port, type/classification.type/infection,\n"
		"      tag, hostname, asn (used when the table has no route), tlp, feed.name\n"
		"  IP lists: one address per line, '#' comments\n"
		"  JSON Lines: one object per line with ip or source.ip, time, type, port...\n"
		"  --reports: the store's own reports not read before: the origin IP of each\n"
		"      report judged malicious (type phishing-origin, spam-origin, ...) and\n"
		"      the IP hosts of its links (phishing-url, ...), so citizens' reports\n"
		"      reach network owners like partner feeds do\n\n"
		"  --db FILE          store (default $SHIELD_DB, else ./shield.db)\n"
		"  --asn-table FILE   routing table, repeatable (see 'shield asn --help');\n"
		"                     default $SHIELD_ASN_TABLE\n"
		"  --names FILE       AS names (pyasn asnames.json)\n"
		"  --source NAME      source label for the events (default: file base name)\n"
		"  --tlp LABEL        TLP of events without a tlp column (default amber)\n"
		"  --type TYPE        event type for every line (default: the type or tag\n"
		"                     column, else the file name, e.g. scan_smb)\n"
		"  --window DURATION  incident window: 3600, 30m, 24h, 1d (default 24h)\n"
		"  --force            load files even if the same content was loaded before\n"
		"  --reports          also load events from the store's reports (above)\n"
		"  --resolve          with --reports: also resolve the host names on the\n"
		"                     blocklist ('shield blocklist') through DNS, at most\n"
		"                     5000 a run, each address a phishing-site event; off\n"
		"                     by default: nothing in a report makes Shield query DNS\n"
		"  --json             JSON Lines: one object per file and a final totals object\n"
		"  -h, --help         this help\n\n"
		"A malformed line is reported as FILE:LINE and skipped; the rest is loaded.\n"
		"Exit status: 0 ok, 1 some lines or files failed, 2 usage, 3 nothing done.\n");
}

static void warn_cb(void *ctx, const char *msg)
{
	(void)ctx;
	cli_warn("%s", msg);
}

static const char *fmt_name(enum feed_format f)
{
	switch (f) {
	case FEED_CSV:
		return "csv";
	case FEED_IPLIST:
		return "iplist";
	case FEED_JSONL:
		return "jsonl";
	case FEED_EVENTS:
		return "store";
	default:
		return "-";
	}
}

/* store_input - fold events read from the store itself (source "reports"
 * or "blocklist") as one more input named "SOURCE:FROM-TO", where the next
 * run's input_mark finds its start; name must outlive the run. 1 when
 * added. */
static int store_input(struct feed_run *run, const char *source, int64_t from, int64_t to,
		       const struct feed_event *v, size_t n, char *name, size_t namesz,
		       struct feed_file_result *res)
{
	if (!to)
		return 0;
	snprintf(name, namesz, "%s:%lld-%lld", source, (long long)from, (long long)to);
	feed_run_events(run, name, source, v, n, res);
	return 1;
}

/* input_mark - where the last run's input of this source ended (0: none);
 * -1 after saying why */
static int input_mark(struct store *st, const char *source, int64_t *mark)
{
	char prefix[32];
	snprintf(prefix, sizeof prefix, "%s:", source);
	if (store_feed_mark(st, prefix, mark) == STORE_OK)
		return 0;
	cli_error("reading feed_file: %s", store_notify_errmsg(st));
	return -1;
}

int cmd_feed(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"asn-table", required_argument, NULL, 't'},
	    {"names", required_argument, NULL, 'n'},
	    {"source", required_argument, NULL, 's'},
	    {"tlp", required_argument, NULL, 'l'},
	    {"type", required_argument, NULL, 'y'},
	    {"window", required_argument, NULL, 'w'},
	    {"force", no_argument, NULL, 'f'},
	    {"reports", no_argument, NULL, 'r'},
	    {"resolve", no_argument, NULL, 'R'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *tables[MAX_TABLES];
	int ntables = 0, json = 0, reports = 0, resolve = 0;
	const char *db = NULL, *names = NULL;
	struct feed_opts o;
	memset(&o, 0, sizeof o);
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 't':
			if (ntables == MAX_TABLES) {
				cli_error("at most %d --asn-table files", MAX_TABLES);
				return SHIELD_EXIT_USAGE;
			}
			tables[ntables++] = optarg;
			break;
		case 'n':
			names = optarg;
			break;
		case 's':
			o.source = optarg;
			break;
		case 'l':
			o.tlp = optarg;
			break;
		case 'y':
			o.type = optarg;
			break;
		case 'w':
			o.window = contact_parse_interval(optarg);
			if (o.window <= 0) {
				cli_error("bad --window '%s' (use e.g. 3600, 30m, 24h, 1d)",
					  optarg);
				return SHIELD_EXIT_USAGE;
			}
			break;
		case 'f':
			o.force = 1;
			break;
		case 'r':
			reports = 1;
			break;
		case 'R':
			resolve = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return SHIELD_EXIT_OK;
		default:
			usage(stderr);
			return SHIELD_EXIT_USAGE;
		}
	}
	if (resolve && !reports) {
		cli_error("--resolve goes with --reports; see 'shield feed --help'");
		return SHIELD_EXIT_USAGE;
	}
	if (optind >= argc && !reports) {
		cli_error("no feed file given (or --reports); see 'shield feed --help'");
		return SHIELD_EXIT_USAGE;
	}
	if (ntables == 0) {
		const char *e = getenv("SHIELD_ASN_TABLE");
		if (e && *e)
			tables[ntables++] = e;
	}
	char *err = NULL;
	struct asn_table *t = asn_table_open(tables, ntables, names, warn_cb, NULL, &err);
	if (!t) {
		cli_error("cannot load routing table: %s", err);
		free(err);
		return SHIELD_EXIT_FAIL;
	}
	const char *path = cli_db_path(db);
	struct store *st = store_open(path, &err);
	if (!st || store_notify_migrate(st) != STORE_OK) {
		cli_error("cannot open store '%s': %s", path, st ? store_errmsg(st) : err);
		free(err);
		store_close(st);
		asn_table_free(t);
		return SHIELD_EXIT_FAIL;
	}
	double t0 = clock_now();
	struct feed_run *run = feed_run_new(st, t, &o, warn_cb, NULL);
	int partial = 0, loaded = 0;
	/* the files, then the reports and the blocklist as two more inputs */
	int nin = argc - optind;
	struct feed_file_result *res = calloc((size_t)nin + 2, sizeof *res);
	if (!res)
		abort();
	for (int i = optind; i < argc; i++) {
		struct feed_file_result *r = &res[i - optind];
		if (feed_run_file(run, argv[i], r) < 0) {
			cli_error("%s", r->error);
			partial = 1;
			continue;
		}
		if (r->bad)
			partial = 1;
		if (!r->duplicate)
			loaded++;
	}
	char why[512];
	char rname[64], lname[64];
	struct feed_report_events re;
	struct feed_listing_events le;
	memset(&re, 0, sizeof re);
	memset(&le, 0, sizeof le);
	if (reports) {
		int64_t upto = 0;
		if (input_mark(st, "reports", &upto) < 0) {
			partial = 1;
		} else if (feed_reports_read(st, upto, &re, why, sizeof why) < 0) {
			cli_error("%s", why);
			partial = 1;
		} else if (store_input(run, "reports", re.from, re.to, re.v, re.n, rname,
				       sizeof rname, &res[nin])) {
			nin++;
			loaded++;
		}
		if (re.capped)
			cli_warn("reports: %ld link addresses left out (more than %d in a report)",
				 re.capped, FEED_REPORT_MAX_IPS);
	}
	if (resolve) {
		int64_t since = 0;
		if (input_mark(st, "blocklist", &since) < 0) {
			partial = 1;
		} else if (feed_listings_resolve(st, since, &le, why, sizeof why) < 0) {
			cli_error("%s", why);
			partial = 1;
		} else if (store_input(run, "blocklist", le.from, le.to, le.v, le.n, lname,
				       sizeof lname, &res[nin])) {
			nin++;
			loaded++;
		}
		if (le.capped)
			cli_warn("blocklist: %ld host names not resolved in this run (at most %d)",
				 le.capped, FEED_MAX_RESOLVE);
		if (le.unresolved)
			cli_warn("blocklist: %ld of %ld host names gave no public address",
				 le.unresolved, le.hosts);
	}
	struct feed_totals tot;
	int rc = SHIELD_EXIT_OK;
	double t1 = clock_now();
	if (feed_run_commit(run, &tot, why, sizeof why)) {
		cli_error("nothing stored: %s", why);
		rc = SHIELD_EXIT_FAIL;
	}
	for (int i = 0; rc != SHIELD_EXIT_FAIL && i < nin; i++) {
		struct feed_file_result *r = &res[i];
		const char *status = r->failed ? "failed" : r->duplicate ? "duplicate" : "loaded";
		if (json) {
			json_t *j = json_pack(
			    "{s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "file", r->path, "status", status,
			    "format", fmt_name(r->format), "lines", (json_int_t)r->lines, "events",
			    (json_int_t)r->events, "bad", (json_int_t)r->bad, "sha256", r->sha256);
			char *s = json_dumps(j, JSON_COMPACT);
			if (s)
				puts(s);
			free(s);
			json_decref(j);
		} else {
			printf("%-10s %-7s %9ld lines %9ld events %7ld bad  %s\n", status,
			       fmt_name(r->format), r->lines, r->events, r->bad, r->path);
			if (r->duplicate)
				printf("           (same content loaded before; --force loads it "
				       "again)\n");
		}
	}
	double t2 = clock_now();
	if (rc != SHIELD_EXIT_FAIL) {
		if (json) {
			json_t *j = json_pack(
			    "{s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I}", "parse_seconds", t1 - t0,
			    "store_seconds", t2 - t1, "files", (json_int_t)tot.files, "events",
			    (json_int_t)tot.events, "bad", (json_int_t)tot.bad, "incidents_new",
			    (json_int_t)tot.incidents_new, "incidents_merged",
			    (json_int_t)tot.incidents_merged, "unrouted", (json_int_t)tot.unrouted);
			char *s = json_dumps(j, JSON_COMPACT);
			if (s)
				puts(s);
			free(s);
			json_decref(j);
		} else {
			printf(
			    "total: %ld files, %ld events, %ld bad lines, %ld new incidents, %ld "
			    "merged, %ld events without a route (parse %.2f s, store %.2f s)\n",
			    tot.files, tot.events, tot.bad, tot.incidents_new, tot.incidents_merged,
			    tot.unrouted, t1 - t0, t2 - t1);
		}
		if (partial)
			rc = loaded || tot.files ? SHIELD_EXIT_PARTIAL : SHIELD_EXIT_FAIL;
	}
	if (reports && !re.to && rc != SHIELD_EXIT_FAIL && !json)
		printf("reports:   no report stored since the last run\n");
	feed_report_events_free(&re);
	feed_listing_events_free(&le);
	free(res);
	feed_run_free(run);
	store_close(st);
	asn_table_free(t);
	return rc;
}
