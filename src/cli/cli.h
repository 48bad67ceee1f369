/*
 * cli.h - the contract every `shield` subcommand implements.
 *
 * A subcommand is `int cmd_NAME(int argc, char **argv)`, registered in the
 * table in cli/main.c. argv[0] is the subcommand name; parse options with
 * getopt_long (reset optind = 1 first... main does that). Exit status:
 * SHIELD_EXIT_OK, SHIELD_EXIT_PARTIAL when some input failed but the rest
 * was processed, SHIELD_EXIT_USAGE for bad options, SHIELD_EXIT_FAIL when
 * nothing could be done (store unreadable, ...). Errors go to stderr through
 * cli_error() in Git's style: say what failed first, quote the subject, no
 * full stop. Every subcommand answers --help with complete usage on stdout.
 */
#ifndef SHIELD_CLI_H
#define SHIELD_CLI_H
#include <stdio.h>

enum {
	SHIELD_EXIT_OK = 0,
	SHIELD_EXIT_PARTIAL = 1,
	SHIELD_EXIT_USAGE = 2,
	SHIELD_EXIT_FAIL = 3,
};

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_db_path - the store path: the --db value if given, else $SHIELD_DB,
 * else "shield.db" in the current directory. */
const char *cli_db_path(const char *opt);

/* cli_is_tty - nonzero when fd is a terminal (progress bars, colours). */
int cli_is_tty(int fd);

struct store;
/* cli_print_timeline - an indicator's blocklist story (first report,
 * listing, expiry, delisting, decision, guard; the audit trail if asked)
 * on stdout; -1 on a store error (printed). In cmd_blocklist.c. */
int cli_print_timeline(struct store *st, const char *value, int with_audit);

int cmd_extract(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_reports(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_indicators(int argc, char **argv);
int cmd_psl(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_campaigns(int argc, char **argv);
int cmd_campaign(int argc, char **argv);
/* blocklists and sharing (issue 5) */
int cmd_blocklist(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_allow(int argc, char **argv);
int cmd_unblock(int argc, char **argv);
int cmd_share(int argc, char **argv);
/* network notifications (issue 6) add their commands here */
int cmd_asn(int argc, char **argv);
int cmd_feed(int argc, char **argv);
int cmd_notify(int argc, char **argv);

#endif
