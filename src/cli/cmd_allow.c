/*
 * cmd_allow.c - `shield allow DOMAIN|URL --reason TEXT` (the operator's
 * allowlist: never listed at domain level, published as rpz-passthru) and
 * `shield unblock DOMAIN|URL --reason TEXT` (delist now; listed again only
 * when reported again). Both leave an audit row with the operator ($USER).
 * `shield allow --list` shows the allowlist, `--remove VALUE` drops one.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/xalloc.h"
#include "store/store.h"
#include "store/store_act.h"

static int show_allow(void *ctx, const struct allow_row *r)
{
	char when[32];
	time_t t = (time_t)r->added_at;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%-6s  %-40s  %s  %s\n", r->kind, r->value, when, r->reason);
	return 0;
}

/* normalise - a domain lower-cased without a trailing dot; a URL as given
 * with the scheme and host lower-cased. */
static char *normalise(const char *v, const char **kind)
{
	char *s = xstrdup(v);
	char *sep = strstr(s, "://");
	*kind = sep ? "url" : "domain";
	char *end = sep ? s + (sep - s) + 3 + strcspn(sep + 3, "/?#") : s + strlen(s);
	for (char *p = s; p < end; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!sep) {
		size_t n = strlen(s);
		while (n && s[n - 1] == '.')
			s[--n] = '\0';
	}
	return s;
}

static int run(int argc, char **argv, int unblock)
{
	static const struct option lo[] = {
	    {"db", required_argument, NULL, 'd'}, {"reason", required_argument, NULL, 'r'},
	    {"list", no_argument, NULL, 'l'},	  {"remove", no_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *reason = NULL;
	int list = 0, remove = 0, c;
	while ((c = getopt_long(argc, argv, "d:r:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'l':
			list = 1;
			break;
		case 'x':
			remove = 1;
			break;
		case 'h':
			if (unblock)
				printf(
				    "usage: shield unblock [--db FILE] DOMAIN|URL --reason TEXT\n\n"
				    "Delist a domain or URL now (audit trail keeps who and why). "
				    "It is\n"
				    "listed again only if reported again; 'shield allow' keeps it "
				    "off.\n");
			else
				printf(
				    "usage: shield allow [--db FILE] DOMAIN|URL --reason TEXT\n"
				    "       shield allow [--db FILE] --list\n"
				    "       shield allow [--db FILE] --remove DOMAIN|URL --reason "
				    "TEXT\n\n"
				    "The operator's allowlist: an allowlisted domain (and its "
				    "subdomains)\n"
				    "is never listed at domain level and is published as "
				    "rpz-passthru;\n"
				    "an allowlisted URL is never listed. Takes effect at the next\n"
				    "'shield blocklist'; active listings of the value are delisted "
				    "now.\n");
			return SHIELD_EXIT_OK;
		default:
			return SHIELD_EXIT_USAGE;
		}
	}
	char *err = NULL;
	struct store *st = store_open(cli_db_path(db), &err);
	if (!st) {
		cli_error("%s", err);
		free(err);
		return SHIELD_EXIT_FAIL;
	}
	int rc = SHIELD_EXIT_OK;
	if (store_act_migrate(st) < 0) {
		cli_error("%s", store_errmsg(st));
		store_close(st);
		return SHIELD_EXIT_FAIL;
	}
	if (list && !unblock) {
		if (store_act_allow_each(st, show_allow, NULL) < 0) {
			cli_error("%s", store_act_errmsg(st));
			rc = SHIELD_EXIT_FAIL;
		}
		store_close(st);
		return rc;
	}
	if (optind != argc - 1 || !reason || !*reason) {
		cli_error("%s takes one DOMAIN or URL and --reason TEXT",
			  unblock ? "unblock" : "allow");
		store_close(st);
		return SHIELD_EXIT_USAGE;
	}
	const char *kind;
	char *v = normalise(argv[optind], &kind);
	const char *actor = getenv("USER") ? getenv("USER") : "operator";
	int64_t now = (int64_t)time(NULL);
	long n = 0;
	if (store_begin(st) < 0) {
		cli_error("%s", store_errmsg(st));
		rc = SHIELD_EXIT_FAIL;
		goto out;
	}
	int src = 0;
	if (unblock) {
		src = store_act_delist(st, NULL, v, reason, now, &n);
		if (src == 0)
			src = store_act_audit(st, now, "unblock", v, reason, actor);
		if (src == 0)
			printf("%s: %ld listing(s) delisted\n", v, n);
	} else if (remove) {
		src = store_act_allow_remove(st, v);
		if (src == STORE_DUP)
			printf("%s was not on the allowlist\n", v);
		if (src >= 0)
			src = store_act_audit(st, now, "disallow", v, reason, actor);
	} else {
		src = store_act_allow_add(st, kind, v, reason, now);
		if (src == STORE_DUP)
			printf("%s is already on the allowlist\n", v);
		if (src >= 0)
			src = store_act_audit(st, now, "allow", v, reason, actor);
		char why[600];
		snprintf(why, sizeof why, "allowlisted: %s", reason);
		if (src >= 0)
			src = store_act_delist(st, strcmp(kind, "url") ? "domain" : "url", v, why,
					       now, &n);
		if (src >= 0)
			printf("%s allowlisted (%s)%s\n", v, kind,
			       n ? "; its active listing was delisted" : "");
	}
	if (src < 0) {
		cli_error("%s", store_act_errmsg(st));
		store_rollback(st);
		rc = SHIELD_EXIT_FAIL;
	} else if (store_commit(st) < 0) {
		cli_error("%s", store_errmsg(st));
		rc = SHIELD_EXIT_FAIL;
	}
out:
	free(v);
	store_close(st);
	return rc;
}

int cmd_allow(int argc, char **argv)
{
	return run(argc, argv, 0);
}

int cmd_unblock(int argc, char **argv)
{
	return run(argc, argv, 1);
}
