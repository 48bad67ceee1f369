/*
 * main.c - `shield`: dispatch to a subcommand (like git).
 *
 * Only main() decides the exit status; subcommands return it.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#ifndef SHIELD_VERSION
#define SHIELD_VERSION "0.1.0"
#endif

struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
};

static const struct command commands[] = {
    {"extract", cmd_extract, "parse reported messages and print their indicators (no store)"},
    {"ingest", cmd_ingest, "store reports from .eml files, directories, mbox and Maildir"},
    {"reports", cmd_reports, "list stored reports"},
    {"show", cmd_show, "everything known about one stored report"},
    {"indicators", cmd_indicators, "list stored indicators (urls, domains, ips, emails, hashes)"},
    {"psl", cmd_psl, "registrable domain of names; refresh the Public Suffix List"},
    {"asn", cmd_asn, "IP address to AS number, holder, prefix and abuse contact"},
    {"feed", cmd_feed, "load IP-event feeds (Shadowserver CSV, IP lists, JSON) as incidents"},
    {"notify", cmd_notify, "notify network owners: contacts, plan, send, unreachable"},
    {"train", cmd_train, "fit the verdict model from labelled folders of messages"},
    {"campaigns", cmd_campaigns, "list campaigns: size, state, brand, reports per hour"},
    {"campaign", cmd_campaign, "one campaign: show, merge, split, recluster"},
    {"blocklist", cmd_blocklist, "publish URL and rogue-domain blocklists (RPZ, lists, CSV, JSON)"},
    {"timeline", cmd_timeline, "an indicator's story: first report, listing, expiry, delisting"},
    {"allow", cmd_allow, "operator allowlist: never list a domain or URL"},
    {"unblock", cmd_unblock, "delist a domain or URL now, with a reason"},
    {"share", cmd_share, "share campaigns with partners: MISP events and feed, STIX 2.1"},
    /* issue-6 commands: keep this line, add entries above it */
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shield [--version] [--help] COMMAND [ARGS]\n\n"
		"Shield turns reported suspicious e-mails into indicators, verdicts and action.\n\n"
		"Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fprintf(f,
		"\n'shield COMMAND --help' describes one command; 'man shield' the whole tool.\n"
		"The store is --db FILE, else $SHIELD_DB, else ./shield.db.\n"
		"Exit status: 0 ok, 1 some input failed (the rest was processed), 2 usage error,\n"
		"3 nothing could be done.\n");
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("shield: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("shield: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

const char *cli_db_path(const char *opt)
{
	if (opt && *opt)
		return opt;
	const char *e = getenv("SHIELD_DB");
	if (e && *e)
		return e;
	return "shield.db";
}

int cli_is_tty(int fd)
{
	return isatty(fd);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return SHIELD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			char *hv[] = {argv[2], "--help", NULL};
			for (const struct command *c = commands; c->name; c++)
				if (!strcmp(c->name, argv[2]))
					return c->fn(2, hv);
		}
		usage(stdout);
		return SHIELD_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("shield %s\n", SHIELD_VERSION);
		return SHIELD_EXIT_OK;
	}
	for (const struct command *c = commands; c->name; c++) {
		if (!strcmp(c->name, argv[1])) {
			optind = 1;
			return c->fn(argc - 1, argv + 1);
		}
	}
	cli_error("unknown command '%s'; see 'shield --help'", argv[1]);
	return SHIELD_EXIT_USAGE;
}
