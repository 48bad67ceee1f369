/*
 * cmd_asn.c - `shield asn`: IP address to AS number, holder, covering
 * prefix and abuse contact; compile a routing table into the fast binary
 * form; print table statistics.
 *
 * Ownership: the table is loaded once per run and freed at exit paths.
 * Security: addresses come from the command line or stdin and are parsed
 * strictly (asn_parse_ip); nothing from them reaches a format string.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "enrich/asn.h"
#include "enrich/asn_io.h"
#include "notify/contacts.h"
#include "store/store.h"

#define MAX_TABLES 16

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: shield asn [--asn-table FILE]... [--names FILE] [--db FILE] [--json] IP...\n"
	       "   or: shield asn [--asn-table FILE]... [--names FILE] --compile OUT\n"
	       "   or: shield asn [--asn-table FILE]... --stats\n\n"
	       "Map IPv4/IPv6 addresses to the AS that originates them (longest-prefix match;\n"
	       "overlapping ranges resolve to the most specific) and show the abuse contact.\n\n"
	       "  --asn-table FILE  routing table; repeat to layer several (a later file wins\n"
	       "                    ties). Default: $SHIELD_ASN_TABLE. Formats, detected from\n"
	       "                    the content, gzip/bzip2/xz/zstd accepted:\n"
	       "                      ip-location-db CSV (start,end,asn,name; -num too),\n"
	       "                      pyasn ipasn .dat, CAIDA pfx2as, iptoasn TSV,\n"
	       "                      MRT RIB dumps (TABLE_DUMP_V2, TABLE_DUMP),\n"
	       "                      MaxMind mmdb (GeoLite2-ASN layout),\n"
	       "                      a compiled table from --compile (loads in milliseconds)\n"
	       "  --names FILE      AS holder names: pyasn asnames.json or asn<TAB>name lines\n"
	       "  --db FILE         store with the contact table (default $SHIELD_DB, else\n"
	       "                    ./shield.db if it exists); without one, no contact is shown\n"
	       "  --compile OUT     write the loaded table(s) as a compiled table to OUT\n"
	       "  --stats           print table size and load time\n"
	       "  --json            one JSON object per address (JSON Lines)\n"
	       "  -                 read addresses from stdin, one per line\n"
	       "  -h, --help        this help\n\n"
	       "Output columns: IP, AS (\"-\" when unrouted), PREFIX (CIDR, or first-last for a\n"
	       "range that is not one prefix), CONTACT, NAME.\n"
	       "Exit status: 0 all found, 1 some address invalid, 2 usage, 3 table unreadable.\n");
}

static void warn_cb(void *ctx, const char *msg)
{
	(void)ctx;
	cli_warn("%s", msg);
}

struct asn_out {
	const struct asn_table *t;
	struct contacts *c;
	int json;
	int bad;
};

static void one(struct asn_out *o, const char *s, size_t n)
{
	struct asn_ip ip;
	if (asn_parse_ip(s, n, &ip)) {
		cli_error("not an IP address: '%.*s'", (int)(n > 64 ? 64 : n), s);
		o->bad = 1;
		return;
	}
	struct asn_hit h;
	asn_table_lookup(o->t, &ip, &h);
	char txt[64];
	asn_format_ip(&ip, txt, sizeof txt);
	const struct contact *ct = o->c ? contacts_resolve(o->c, &ip, h.asn) : NULL;
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "ip", json_string(txt));
		json_object_set_new(j, "asn", h.found ? json_integer(h.asn) : json_null());
		json_object_set_new(j, "name",
				    h.found && *h.name ? json_string(h.name) : json_null());
		json_object_set_new(j, "prefix", h.found ? json_string(h.prefix) : json_null());
		json_object_set_new(j, "contact", ct ? json_string(ct->address) : json_null());
		if (ct) {
			json_object_set_new(j, "language", json_string(ct->language));
			json_object_set_new(j, "contact_key", json_string(ct->key));
		}
		char *out = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (out)
			puts(out);
		free(out);
		json_decref(j);
		return;
	}
	char as[16] = "-";
	if (h.found)
		snprintf(as, sizeof as, "%u", h.asn);
	printf("%-39s %-10s %-32s %-28s %s\n", txt, as, h.found ? h.prefix : "-",
	       ct ? ct->address : "-", h.found ? h.name : "");
}

int cmd_asn(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"asn-table", required_argument, NULL, 't'},
	    {"names", required_argument, NULL, 'n'},
	    {"db", required_argument, NULL, 'd'},
	    {"compile", required_argument, NULL, 'c'},
	    {"stats", no_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *tables[MAX_TABLES];
	int ntables = 0, json = 0, stats = 0;
	const char *names = NULL, *compile = NULL, *db = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
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
		case 'd':
			db = optarg;
			break;
		case 'c':
			compile = optarg;
			break;
		case 's':
			stats = 1;
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
	if (ntables == 0) {
		const char *e = getenv("SHIELD_ASN_TABLE");
		if (e && *e)
			tables[ntables++] = e;
	}
	if (!compile && !stats && optind >= argc) {
		cli_error("no address given; see 'shield asn --help'");
		return SHIELD_EXIT_USAGE;
	}
	double t0 = clock_now();
	char *err = NULL;
	struct asn_table *t = asn_table_open(tables, ntables, names, warn_cb, NULL, &err);
	if (!t) {
		cli_error("cannot load routing table: %s", err);
		free(err);
		return SHIELD_EXIT_FAIL;
	}
	double t1 = clock_now();
	int rc = SHIELD_EXIT_OK;
	if (stats || compile) {
		struct asn_stats s;
		asn_table_stats(t, &s);
		fprintf(
		    stats ? stdout : stderr,
		    "loaded in %.3f s%s: %zu IPv4 + %zu IPv6 ranges, %zu + %zu segments, %zu AS "
		    "names, %.1f MiB\n",
		    t1 - t0, s.mapped ? " (compiled)" : "", s.ranges4, s.ranges6, s.segments4,
		    s.segments6, s.names, (double)s.bytes / (1024.0 * 1024.0));
	}
	if (compile) {
		if (asn_table_save(t, compile, &err)) {
			cli_error("%s", err);
			free(err);
			asn_table_free(t);
			return SHIELD_EXIT_FAIL;
		}
		fprintf(stderr, "wrote %s\n", compile);
	}
	if (optind < argc) {
		struct asn_out o = {t, NULL, json, 0};
		const char *path = db ? db : getenv("SHIELD_DB");
		if (!path && access("shield.db", F_OK) == 0)
			path = "shield.db";
		struct store *st = NULL;
		if (path && *path) {
			st = store_open(path, &err);
			if (!st) {
				cli_error("cannot open store '%s': %s", path, err ? err : "?");
				free(err);
				asn_table_free(t);
				return SHIELD_EXIT_FAIL;
			}
			char why[256];
			o.c = contacts_load(st, why, sizeof why);
			if (!o.c)
				cli_warn("no contacts from '%s': %s", path, why);
		}
		if (!json)
			printf("%-39s %-10s %-32s %-28s %s\n", "IP", "AS", "PREFIX", "CONTACT",
			       "NAME");
		for (int i = optind; i < argc; i++) {
			if (strcmp(argv[i], "-") == 0) {
				char ebuf[256];
				struct zreader *z = zr_open("-", 4096, ebuf, sizeof ebuf);
				char *line;
				size_t len;
				int toolong;
				while (z && zr_getline(z, &line, &len, &toolong) > 0) {
					while (len &&
					       (line[len - 1] == ' ' || line[len - 1] == '\t'))
						len--;
					if (len && line[0] != '#')
						one(&o, line, len);
				}
				zr_close(z);
				continue;
			}
			one(&o, argv[i], strlen(argv[i]));
		}
		contacts_free(o.c);
		store_close(st);
		if (o.bad)
			rc = SHIELD_EXIT_PARTIAL;
	}
	asn_table_free(t);
	return rc;
}
