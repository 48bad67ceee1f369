/*
 * cmd_blocklist.c - `shield blocklist`: refresh the listings from the
 * stored reports (act/act.h) and publish them (act/blocklist.h);
 * `shield timeline VALUE`: one indicator's story from first report to
 * listing and delisting.
 * The RPZ serial lives in act_state and increases whenever the zone's
 * content changes (and only then).
 */
#include <getopt.h>
#include <inttypes.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "act/act.h"
#include "act/blocklist.h"
#include "act/guard.h"
#include "cli/cli.h"
#include "common/xalloc.h"
#include "store/store.h"
#include "store/store_act.h"
#include "verdict/lists.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: shield blocklist [--db FILE] [--format FMT] [-o FILE|DIR] [options]\n\n"
	    "Decide per stored malicious report which URLs and rogue domains to list, update\n"
	    "the listings (first seen, last seen, listed, expires, delisted) and publish them.\n"
	    "  --format FMT          rpz, domains, urls, hosts, csv, json, or all (needs -o DIR)\n"
	    "  -o, --output PATH     file written atomically (default: standard output)\n"
	    "  --verdict LIST        verdicts that count as malicious (default\n"
	    "                        phishing,malware,scam)\n"
	    "  --min-score N         only judged reports scoring at least N (excludes unjudged)\n"
	    "  --unjudged include|exclude\n"
	    "                        reports without a verdict yet (default include)\n"
	    "  --domain-min-reports N  also list at domain level a domain linked (href, form,\n"
	    "                        plain-text link) from N distinct malicious messages and\n"
	    "                        nothing else (default 0: off; look-alikes only)\n"
	    "  --ttl DAYS            lifetime after the last report (default %d)\n"
	    "  --warninglists PATH   MISP warning lists (dir or list.json; repeatable; default\n"
	    "                        $SHIELD_WARNINGLISTS). Without any, nothing is listed at\n"
	    "                        domain level.\n"
	    "  --registry FILE       extra verified organisations (the bundled ones always count)\n"
	    "  --no-refresh          publish the current listings without recomputing\n"
	    "  --tlp LEVEL           marking written into the output (default clear)\n"
	    "  --rpz-contact NAME    SOA mailbox (default hostmaster.invalid.)\n"
	    "  -v, --verbose         list the domains the guard kept at URL level\n"
	    "  --db FILE             the store (default $SHIELD_DB, else ./shield.db)\n"
	    "  -h, --help            this help\n",
	    ACT_DEFAULT_TTL_DAYS);
}

struct entries {
	struct bl_entry *v;
	size_t n, cap;
	char **strs;
	size_t ns, nscap;
};

static const char *keep(struct entries *e, const char *s)
{
	if (!s)
		return NULL;
	if (e->ns == e->nscap) {
		e->nscap = e->nscap ? e->nscap * 2 : 1024;
		e->strs = xrealloc(e->strs, e->nscap * sizeof *e->strs);
	}
	return e->strs[e->ns++] = xstrdup(s);
}

static int collect(void *ctx, const struct listing_row *r)
{
	struct entries *e = ctx;
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 1024;
		e->v = xrealloc(e->v, e->cap * sizeof *e->v);
	}
	struct bl_entry *b = &e->v[e->n++];
	b->level = r->level[0] == 'd' ? "domain" : "url";
	b->value = keep(e, r->value);
	b->reason = keep(e, r->reason);
	b->guard = keep(e, r->guard);
	b->first_seen = r->first_seen;
	b->last_seen = r->last_seen;
	b->listed_at = r->listed_at;
	b->expires_at = r->expires_at;
	b->reports = r->reports;
	return 0;
}

static void entries_release(struct entries *e)
{
	for (size_t i = 0; i < e->ns; i++)
		free(e->strs[i]);
	free(e->strs);
	free(e->v);
}

struct allows {
	char **dom, **url;
	size_t nd, nu;
};

static int collect_allow(void *ctx, const struct allow_row *r)
{
	struct allows *a = ctx;
	if (strcmp(r->kind, "domain") == 0) {
		a->dom = xrealloc(a->dom, (a->nd + 1) * sizeof *a->dom);
		a->dom[a->nd++] = xstrdup(r->value);
	} else {
		a->url = xrealloc(a->url, (a->nu + 1) * sizeof *a->url);
		a->url[a->nu++] = xstrdup(r->value);
	}
	return 0;
}

static void allows_release(struct allows *a)
{
	for (size_t i = 0; i < a->nd; i++)
		free(a->dom[i]);
	for (size_t i = 0; i < a->nu; i++)
		free(a->url[i]);
	free(a->dom);
	free(a->url);
}

struct verbose_ctx {
	long n;
};

static int print_guarded(void *ctx, const struct listing_row *r)
{
	struct verbose_ctx *v = ctx;
	if (r->guard && r->level[0] == 'u') {
		v->n++;
		fprintf(stderr, "  guard: %s kept at URL level (%s)\n", r->value, r->guard);
	}
	return 0;
}

static int is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int cmd_blocklist(int argc, char **argv)
{
	enum {
		O_VERDICT = 256,
		O_MINSCORE,
		O_UNJUDGED,
		O_DMIN,
		O_TTL,
		O_WL,
		O_REG,
		O_NOREF,
		O_TLP,
		O_CONTACT
	};
	static const struct option lo[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"verdict", required_argument, NULL, O_VERDICT},
	    {"min-score", required_argument, NULL, O_MINSCORE},
	    {"unjudged", required_argument, NULL, O_UNJUDGED},
	    {"domain-min-reports", required_argument, NULL, O_DMIN},
	    {"ttl", required_argument, NULL, O_TTL},
	    {"warninglists", required_argument, NULL, O_WL},
	    {"registry", required_argument, NULL, O_REG},
	    {"no-refresh", no_argument, NULL, O_NOREF},
	    {"tlp", required_argument, NULL, O_TLP},
	    {"rpz-contact", required_argument, NULL, O_CONTACT},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *format = "rpz", *out = "-", *registry = NULL, *tlp = "clear";
	const char *contact = NULL;
	const char *wl[16];
	size_t nwl = 0;
	int refresh = 1, verbose = 0, c;
	struct act_refresh_opts o = {.sel = {NULL, 0, 1}, .policy = {0}, .ttl_days = 0};
	while ((c = getopt_long(argc, argv, "d:f:o:vh", lo, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case O_VERDICT:
			o.sel.verdicts = optarg;
			break;
		case O_MINSCORE:
			o.sel.min_score = (int)strtol(optarg, &end, 10);
			break;
		case O_UNJUDGED:
			if (strcmp(optarg, "include") && strcmp(optarg, "exclude")) {
				cli_error("--unjudged takes include or exclude, not '%s'", optarg);
				return SHIELD_EXIT_USAGE;
			}
			o.sel.unjudged = optarg[0] == 'i';
			break;
		case O_DMIN:
			o.policy.min_reports = strtol(optarg, &end, 10);
			break;
		case O_TTL:
			o.ttl_days = strtol(optarg, &end, 10);
			if (o.ttl_days <= 0)
				end = optarg;
			break;
		case O_WL:
			if (nwl == sizeof wl / sizeof *wl) {
				cli_error("too many --warninglists");
				return SHIELD_EXIT_USAGE;
			}
			wl[nwl++] = optarg;
			break;
		case O_REG:
			registry = optarg;
			break;
		case O_NOREF:
			refresh = 0;
			break;
		case O_TLP:
			tlp = optarg;
			break;
		case O_CONTACT:
			contact = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return SHIELD_EXIT_OK;
		default:
			usage(stderr);
			return SHIELD_EXIT_USAGE;
		}
		if (end && *end) {
			cli_error("'%s' is not a number", optarg);
			return SHIELD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return SHIELD_EXIT_USAGE;
	}
	int all = strcmp(format, "all") == 0;
	if (!all && !blocklist_format_ok(format)) {
		cli_error("unknown format '%s' (rpz, domains, urls, hosts, csv, json, all)",
			  format);
		return SHIELD_EXIT_USAGE;
	}
	if (all && !is_dir(out)) {
		cli_error("--format all writes into a directory: '%s' is not one", out);
		return SHIELD_EXIT_USAGE;
	}
	if (!nwl && getenv("SHIELD_WARNINGLISTS") && *getenv("SHIELD_WARNINGLISTS"))
		wl[nwl++] = getenv("SHIELD_WARNINGLISTS");

	char *err = NULL;
	struct store *st = store_open(cli_db_path(db), &err);
	if (!st) {
		cli_error("%s", err);
		free(err);
		return SHIELD_EXIT_FAIL;
	}
	int rc = SHIELD_EXIT_FAIL;
	struct lists *lists = lists_new();
	struct guard *g = guard_new();
	struct allows al = {0};
	struct entries ents = {0};
	psl_ctx_t *psl = NULL;
	if (store_act_migrate(st) < 0) {
		cli_error("%s", store_errmsg(st));
		goto out;
	}
	if (store_act_allow_each(st, collect_allow, &al) < 0) {
		cli_error("reading the allowlist: %s", store_act_errmsg(st));
		goto out;
	}
	for (size_t i = 0; i < al.nd; i++)
		guard_add(g, al.dom[i], "allowlist", 1);
	if (refresh) {
		for (size_t i = 0; i < nwl; i++) {
			if (lists_add_good(lists, wl[i], &err) < 0) {
				cli_error("%s", err);
				free(err);
				goto out;
			}
		}
		guard_set_lists(g, lists);
		if (!guard_has_lists(g))
			cli_warn(
			    "no known-good lists loaded (--warninglists): every entry stays at "
			    "URL level");
		if (guard_load_registry(g, registry, &err) < 0) {
			cli_error("%s", err);
			free(err);
			goto out;
		}
		psl = psl_load_file(SHIELD_DATADIR "/public_suffix_list.dat");
		o.psl = psl;
		o.guard = g;
		o.now = (int64_t)time(NULL);
		o.allow_urls = (const char *const *)al.url;
		o.n_allow_urls = al.nu;
		struct act_refresh_stats s;
		if (act_refresh(st, &o, &s, &err) < 0) {
			cli_error("refreshing the listings: %s", err);
			free(err);
			goto out;
		}
		fprintf(
		    stderr,
		    "shield: %ld reports, %ld malicious, %ld judged otherwise; %ld domain-level, "
		    "%ld URL-level (%ld domains kept at URL level by the guard, %ld URLs withheld "
		    "for victim data); %ld listed, %ld re-listed, %ld delisted, %ld expired\n",
		    s.reports, s.selected, s.other, s.domain_level, s.url_level, s.guarded_domains,
		    s.withheld, s.listed, s.relisted, s.delisted, s.expired);
	}
	if (verbose) {
		struct verbose_ctx v = {0};
		store_act_listings_each(st, 1, print_guarded, &v);
	}
	if (store_act_listings_each(st, 1, collect, &ents) < 0) {
		cli_error("reading listings: %s", store_act_errmsg(st));
		goto out;
	}
	/* RPZ serial: increase on every change of content */
	int64_t serial = 0, last = 0;
	uint64_t dig = blocklist_digest(ents.v, ents.n, (const char *const *)al.dom, al.nd);
	store_act_state_get(st, "rpz.serial", &serial);
	store_act_state_get(st, "rpz.digest", &last);
	if (serial == 0 || (uint64_t)last != dig) {
		int64_t now = (int64_t)time(NULL);
		serial = serial + 1 > now ? serial + 1 : now;
		if (serial > 4294967295LL)
			serial = 1; /* RFC 1982 wrap; consumers use serial arithmetic */
		if (store_act_state_set(st, "rpz.serial", serial) < 0 ||
		    store_act_state_set(st, "rpz.digest", (int64_t)dig) < 0) {
			cli_error("saving the RPZ serial: %s", store_act_errmsg(st));
			goto out;
		}
	}
	struct bl_meta m = {
	    .serial = serial,
	    .generated_at = (int64_t)time(NULL),
	    .tlp = tlp,
	    .contact = contact,
	    .passthru = (const char *const *)al.dom,
	    .npassthru = al.nd,
	};
	rc = SHIELD_EXIT_OK;
	for (size_t i = 0; blocklist_formats[i]; i++) {
		const char *fmt = all ? blocklist_formats[i] : format;
		char path[4096];
		if (all)
			snprintf(path, sizeof path, "%s/%s", out, blocklist_file_name(fmt));
		else
			snprintf(path, sizeof path, "%s", out);
		if (blocklist_write_file(path, fmt, ents.v, ents.n, &m, &err) < 0) {
			cli_error("%s", err);
			free(err);
			rc = SHIELD_EXIT_FAIL;
		}
		if (!all)
			break;
	}
	if (m.skipped)
		cli_warn("%ld names are not valid DNS names and were left out of the RPZ",
			 m.skipped);
out:
	entries_release(&ents);
	allows_release(&al);
	guard_free(g);
	lists_free(lists);
	if (psl)
		psl_free(psl);
	store_close(st);
	return rc;
}

/* ---- timeline ---- */

static int tl_listing(void *ctx, const struct listing_row *r)
{
	char a[32], b[32], c2[32], d[32], e[32];
	int *n = ctx;
	(*n)++;
	printf("%s %s\n", r->level, r->value);
	printf("  first report   %s (report %lld)\n", act_iso(r->first_seen, a),
	       (long long)r->first_report);
	printf("  last report    %s (%ld reports)\n", act_iso(r->last_seen, b), r->reports);
	printf("  listed at      %s\n", act_iso(r->listed_at, c2));
	printf("  expires        %s\n", act_iso(r->expires_at, d));
	if (r->delisted_at)
		printf("  delisted at    %s: %s\n", act_iso(r->delisted_at, e),
		       r->delist_reason ? r->delist_reason : "");
	printf("  decision       %s\n", r->reason);
	if (r->guard)
		printf("  guard          %s\n", r->guard);
	return 0;
}

static int tl_audit(void *ctx, const struct audit_row *r)
{
	char a[32];
	printf("  %s  %-9s %s  %s%s%s\n", act_iso(r->at, a), r->action, r->value,
	       r->reason ? r->reason : "", r->actor ? "  by " : "", r->actor ? r->actor : "");
	return 0;
}

int cli_print_timeline(struct store *st, const char *value, int with_audit)
{
	int n = 0;
	if (store_act_migrate(st) < 0 || store_act_listings_of(st, value, tl_listing, &n) < 0) {
		cli_error("%s", store_act_errmsg(st));
		return -1;
	}
	if (n == 0)
		printf("%s: never listed\n", value);
	if (with_audit) {
		printf("audit trail\n");
		store_act_audit_each(st, value, tl_audit, NULL);
	}
	return 0;
}

int cmd_timeline(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
		if (c == 'd') {
			db = optarg;
		} else if (c == 'h') {
			printf(
			    "usage: shield timeline [--db FILE] DOMAIN|URL\n\n"
			    "The blocklist story of an indicator: first and last report, listing,\n"
			    "expiry, delisting, the decision and guard, and the audit trail.\n");
			return SHIELD_EXIT_OK;
		} else {
			return SHIELD_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		cli_error("timeline takes one DOMAIN or URL");
		return SHIELD_EXIT_USAGE;
	}
	char *err = NULL;
	struct store *st = store_open(cli_db_path(db), &err);
	if (!st) {
		cli_error("%s", err);
		free(err);
		return SHIELD_EXIT_FAIL;
	}
	int rc = cli_print_timeline(st, argv[optind], 1) < 0 ? SHIELD_EXIT_FAIL : SHIELD_EXIT_OK;
	store_close(st);
	return rc;
}
