/*
 * cmd_campaign.c - `shield campaigns` (list campaigns) and `shield campaign
 * show|merge|split|recluster` (one campaign; analysts' decisions).
 *
 * State of a campaign, relative to a reference time (now; or, when every
 * campaign is older than 30 days - replayed history - the newest report):
 *   closed   no report for 72 hours
 *   new      first report less than 6 hours ago
 *   growing  more reports in the last 6 hours than in the 6 before
 *   waning   otherwise
 * Stored text is attacker-controlled: tables print it through printable().
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign/campaign.h"
#include "cli/cli.h"
#include "store/store.h"
#include "store/store_campaign.h"

#define SPARK_HOURS 24

static const char *printable(const char *s, char *out, size_t outsz, int max)
{
	size_t n = 0;
	int cols = 0;
	if (!s)
		s = "-";
	for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < outsz; p++) {
		if ((*p & 0xc0) != 0x80) {
			if (cols == max)
				break;
			cols++;
		}
		out[n++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
	}
	out[n] = '\0';
	return out;
}

static void iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct list_ctx {
	struct store_campaign *sc;
	int json, min_reports;
	long limit, shown;
	int64_t ref;
	int failed;
};

static const char *state_of(struct list_ctx *lc, const struct campaign_rec *c)
{
	if (lc->ref - c->last_seen > 72 * 3600)
		return "closed";
	if (lc->ref - c->first_seen < 6 * 3600)
		return "new";
	long h[12];
	if (store_campaign_hours(lc->sc, c->id, lc->ref / 3600 - 11, h, 12) < 0)
		return c->state;
	long prev = 0, cur = 0;
	for (int i = 0; i < 6; i++) {
		prev += h[i];
		cur += h[i + 6];
	}
	return cur > prev ? "growing" : "waning";
}

static void sparkline(const long *h, int n, char *out, size_t outsz)
{
	static const char *const bars[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	long max = 0;
	for (int i = 0; i < n; i++)
		if (h[i] > max)
			max = h[i];
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		int lvl = !h[i] ? 0 : (int)(1 + (h[i] - 1) * 7 / (max > 1 ? max - 1 : 1));
		if (lvl > 8)
			lvl = 8;
		size_t bl = strlen(bars[lvl]);
		if (o + bl + 1 > outsz)
			break;
		memcpy(out + o, bars[lvl], bl);
		o += bl;
	}
	out[o] = '\0';
}

/* major - the most frequent key of agg[field]. */
static const char *major(json_t *agg, const char *field)
{
	const char *k, *best = NULL;
	json_t *v;
	long long bv = 0;
	json_object_foreach(json_object_get(agg, field), k, v)
	{
		if (json_integer_value(v) > bv) {
			bv = json_integer_value(v);
			best = k;
		}
	}
	return best;
}

/* top_indicators - [{type, value, reports}] sorted by count, at most max. */
static json_t *top_indicators(json_t *agg, int max)
{
	json_t *m = json_object_get(agg, "indicators");
	const char *sel[64];
	long long cnt[64];
	int n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(m, k, v)
	{
		long long c = json_integer_value(v);
		int pos = n;
		while (pos > 0 && cnt[pos - 1] < c)
			pos--;
		if (pos >= max)
			continue;
		int last = n < max ? n : max - 1;
		for (int i = last; i > pos; i--) {
			sel[i] = sel[i - 1];
			cnt[i] = cnt[i - 1];
		}
		sel[pos] = k;
		cnt[pos] = c;
		if (n < max)
			n++;
	}
	json_t *a = json_array();
	for (int i = 0; i < n; i++) {
		const char *c = strchr(sel[i], ':');
		json_t *x = json_object();
		json_object_set_new(
		    x, "type", c ? json_stringn(sel[i], (size_t)(c - sel[i])) : json_string("?"));
		json_object_set_new(x, "value", json_string(c ? c + 1 : sel[i]));
		json_object_set_new(x, "reports", json_integer(cnt[i]));
		json_array_append_new(a, x);
	}
	return a;
}

static json_t *campaign_json(struct list_ctx *lc, const struct campaign_rec *c, const long *h)
{
	json_error_t e;
	json_t *agg = c->agg ? json_loads(c->agg, 0, &e) : NULL;
	char a[32], b[32];
	iso(c->first_seen, a);
	iso(c->last_seen, b);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "reports", json_integer(c->reports));
	json_object_set_new(o, "first_seen", json_string(a));
	json_object_set_new(o, "last_seen", json_string(b));
	double span_h = (double)(c->last_seen - c->first_seen) / 3600.0;
	json_object_set_new(
	    o, "rate_per_hour",
	    json_real((double)(long)(10.0 * c->reports / (span_h > 1 ? span_h : 1)) / 10));
	json_t *rph = json_array();
	for (int i = 0; i < SPARK_HOURS; i++)
		json_array_append_new(rph, json_integer(h[i]));
	json_object_set_new(o, "reports_per_hour", rph);
	const char *brand = major(agg, "brands"), *verdict = major(agg, "verdicts");
	json_object_set_new(o, "brand", brand ? json_string(brand) : json_null());
	json_object_set_new(o, "verdict", verdict ? json_string(verdict) : json_null());
	json_object_set_new(o, "state", json_string(state_of(lc, c)));
	if (c->alerted_at) {
		iso(c->alerted_at, a);
		json_object_set_new(o, "alerted_at", json_string(a));
	} else {
		json_object_set_new(o, "alerted_at", json_null());
	}
	json_t *langs = json_object_get(agg, "languages");
	json_object_set(o, "languages", langs ? langs : json_object());
	if (!langs)
		json_decref(json_object_get(o, "languages"));
	json_object_set_new(o, "top_indicators", top_indicators(agg, 10));
	json_t *subj = json_object_get(agg, "subjects");
	json_object_set_new(o, "sample_subjects", subj ? json_incref(subj) : json_array());
	json_object_set_new(o, "pinned", json_boolean(c->pin != 0));
	json_decref(agg);
	return o;
}

static int list_one(void *ctx, const struct campaign_rec *c)
{
	struct list_ctx *lc = ctx;
	if (c->reports < lc->min_reports)
		return 0;
	if (lc->limit && lc->shown >= lc->limit)
		return 1;
	lc->shown++;
	long h[SPARK_HOURS];
	if (store_campaign_hours(lc->sc, c->id, c->last_seen / 3600 - SPARK_HOURS + 1, h,
				 SPARK_HOURS) < 0)
		lc->failed = 1;
	json_t *o = campaign_json(lc, c, h);
	if (lc->json) {
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
	} else {
		char spark[SPARK_HOURS * 4 + 1], a[64], b[64], d[96], f[32];
		sparkline(h, SPARK_HOURS, spark, sizeof spark);
		iso(c->first_seen, f);
		json_t *ti = json_array_get(json_object_get(o, "top_indicators"), 0);
		json_t *ss = json_array_get(json_object_get(o, "sample_subjects"), 0);
		printf("%6lld %6ld  %-16.16s  %-7s  %-12s  %s  %-28s  %s\n", (long long)c->id,
		       c->reports, f, json_string_value(json_object_get(o, "state")),
		       printable(json_string_value(json_object_get(o, "brand")), a, sizeof a, 12),
		       spark,
		       printable(ti ? json_string_value(json_object_get(ti, "value")) : NULL, b,
				 sizeof b, 28),
		       printable(json_string_value(ss), d, sizeof d, 40));
	}
	json_decref(o);
	return 0;
}

static int newest(void *ctx, const struct campaign_rec *c)
{
	int64_t *t = ctx;
	if (c->last_seen > *t)
		*t = c->last_seen;
	return 0;
}

static int64_t reference_time(struct store_campaign *sc)
{
	int64_t now = (int64_t)time(NULL), last = 0;
	store_campaign_each(sc, newest, &last);
	return last && now - last > 30 * 86400 ? last : now;
}

static int open_sc(const char *db, struct store **st, struct store_campaign **sc)
{
	char *err = NULL;
	*st = store_open(cli_db_path(db), &err);
	if (!*st) {
		cli_error("%s", err);
		free(err);
		return -1;
	}
	*sc = store_campaign_open(*st);
	if (!*sc) {
		cli_error("cannot open the campaign tables: %s", store_errmsg(*st));
		*st = store_close(*st);
		return -1;
	}
	return 0;
}

static void usage_campaigns(FILE *f)
{
	fprintf(f,
		"usage: shield campaigns [--db FILE] [--json] [--min-reports N] [--limit N]\n\n"
		"List campaigns, biggest first: id, reports, first report, state (new, growing,\n"
		"waning, closed), brand, a sparkline of reports per hour over the campaign's last\n"
		"24 hours, its top indicator and a sample subject.\n"
		"  --db FILE         the store (default $SHIELD_DB, else ./shield.db)\n"
		"  --json            one JSON object per campaign (docs/campaigns.md)\n"
		"  --min-reports N   only campaigns with at least N reports (table: 2, JSON: 1)\n"
		"  --limit N         at most N campaigns\n"
		"  -h, --help        this help\n");
}

int cmd_campaigns(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"min-reports", required_argument, NULL, 'm'},
	    {"limit", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	struct list_ctx lc = {0};
	lc.min_reports = -1;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "d:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'j':
			lc.json = 1;
			break;
		case 'm':
			lc.min_reports = (int)strtol(optarg, &end, 10);
			if (*end || lc.min_reports < 0) {
				cli_error("--min-reports wants a number, not '%s'", optarg);
				return SHIELD_EXIT_USAGE;
			}
			break;
		case 'n':
			lc.limit = strtol(optarg, &end, 10);
			if (*end || lc.limit < 0) {
				cli_error("--limit wants a number, not '%s'", optarg);
				return SHIELD_EXIT_USAGE;
			}
			break;
		case 'h':
			usage_campaigns(stdout);
			return SHIELD_EXIT_OK;
		default:
			usage_campaigns(stderr);
			return SHIELD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage_campaigns(stderr);
		return SHIELD_EXIT_USAGE;
	}
	if (lc.min_reports < 0)
		lc.min_reports = lc.json ? 1 : 2;
	struct store *st;
	if (open_sc(db, &st, &lc.sc) < 0)
		return SHIELD_EXIT_FAIL;
	lc.ref = reference_time(lc.sc);
	if (!lc.json)
		printf("%6s %6s  %-16s  %-7s  %-12s  %-24s  %-28s  %s\n", "id", "reports",
		       "first seen", "state", "brand", "reports/hour (24h)", "top indicator",
		       "sample subject");
	int rc = store_campaign_each(lc.sc, list_one, &lc);
	if (rc < 0 || lc.failed)
		cli_error("cannot list campaigns: %s", store_campaign_errmsg(lc.sc));
	store_campaign_close(lc.sc);
	store_close(st);
	return rc < 0 || lc.failed ? SHIELD_EXIT_FAIL : SHIELD_EXIT_OK;
}

static void usage_campaign(FILE *f)
{
	fprintf(f,
		"usage: shield campaign [--db FILE] show [--json] ID\n"
		"       shield campaign [--db FILE] merge ID OTHER_ID\n"
		"       shield campaign [--db FILE] split ID REPORT_ID...\n"
		"       shield campaign [--db FILE] recluster\n\n"
		"show       the campaign's record and its reports\n"
		"merge      move every report of OTHER_ID into ID\n"
		"split      move the named reports (ids from 'shield reports') out of ID into a\n"
		"           new campaign\n"
		"recluster  group every stored report again, oldest first\n"
		"Merges and splits are recorded as pins on the reports' message hashes:\n"
		"re-clustering and later reports of the same message keep them.\n"
		"  --db FILE   the store (default $SHIELD_DB, else ./shield.db)\n"
		"  -h, --help  this help\n");
}

static int show_report(void *ctx, int64_t id, const char *sha, const char *from,
		       const char *subject, const char *date)
{
	int *json = ctx;
	if (*json) {
		json_t *o = json_object();
		json_object_set_new(o, "report_id", json_integer(id));
		json_object_set_new(o, "message_sha256", json_string(sha ? sha : ""));
		json_object_set_new(o, "from", from ? json_string(from) : json_null());
		json_object_set_new(o, "subject", subject ? json_string(subject) : json_null());
		json_object_set_new(o, "date", date ? json_string(date) : json_null());
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("  %s\n", s ? s : "{}");
		free(s);
		json_decref(o);
		return 0;
	}
	char a[128], b[256];
	printf("  %6lld  %-20.20s  %-32s  %s\n", (long long)id, date ? date : "-",
	       printable(from, a, sizeof a, 32), printable(subject, b, sizeof b, 60));
	return 0;
}

static int parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end || v <= 0) {
		cli_error("not a campaign or report id: '%s'", s);
		return -1;
	}
	*id = v;
	return 0;
}

static int campaign_show(struct store_campaign *sc, int64_t id, int json)
{
	struct campaign_rec c;
	if (store_campaign_get(sc, id, &c) < 0) {
		cli_error("no campaign %lld", (long long)id);
		return SHIELD_EXIT_FAIL;
	}
	if (c.merged_into) {
		printf("campaign %lld was merged into %lld\n", (long long)id,
		       (long long)c.merged_into);
		id = c.merged_into;
		campaign_rec_release(&c);
		if (store_campaign_get(sc, id, &c) < 0) {
			cli_error("no campaign %lld", (long long)id);
			return SHIELD_EXIT_FAIL;
		}
	}
	struct list_ctx lc = {.sc = sc, .json = json};
	lc.ref = reference_time(sc);
	long h[SPARK_HOURS];
	store_campaign_hours(sc, c.id, c.last_seen / 3600 - SPARK_HOURS + 1, h, SPARK_HOURS);
	json_t *o = campaign_json(&lc, &c, h);
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (json) {
		puts(s);
		printf("reports:\n");
	} else {
		char spark[SPARK_HOURS * 4 + 1];
		sparkline(h, SPARK_HOURS, spark, sizeof spark);
		char a[128];
		printf("campaign %lld: %ld reports, %s, brand %s, verdict %s\n", (long long)c.id,
		       c.reports, json_string_value(json_object_get(o, "state")),
		       printable(json_string_value(json_object_get(o, "brand")), a, sizeof a, 40),
		       json_string_value(json_object_get(o, "verdict"))
			   ? json_string_value(json_object_get(o, "verdict"))
			   : "-");
		printf("first seen %s, last seen %s, alerted %s\n",
		       json_string_value(json_object_get(o, "first_seen")),
		       json_string_value(json_object_get(o, "last_seen")),
		       json_string_value(json_object_get(o, "alerted_at"))
			   ? json_string_value(json_object_get(o, "alerted_at"))
			   : "no");
		printf("reports per hour (last 24h of the campaign): |%s|\n", spark);
		size_t i;
		json_t *x;
		printf("top indicators:\n");
		json_array_foreach(json_object_get(o, "top_indicators"), i, x)
		{
			printf("  %-7s %-60s %lld\n", json_string_value(json_object_get(x, "type")),
			       printable(json_string_value(json_object_get(x, "value")), a,
					 sizeof a, 60),
			       json_integer_value(json_object_get(x, "reports")));
		}
		printf("sample subjects:\n");
		json_array_foreach(json_object_get(o, "sample_subjects"), i, x)
		{
			printf("  %s\n", printable(json_string_value(x), a, sizeof a, 90));
		}
		printf("reports:\n");
	}
	free(s);
	json_decref(o);
	campaign_rec_release(&c);
	if (store_campaign_reports(sc, id, show_report, &json) < 0) {
		cli_error("cannot list the reports of campaign %lld: %s", (long long)id,
			  store_campaign_errmsg(sc));
		return SHIELD_EXIT_FAIL;
	}
	return SHIELD_EXIT_OK;
}

int cmd_campaign(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	int json = 0, c;
	while ((c = getopt_long(argc, argv, "+d:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage_campaign(stdout);
			return SHIELD_EXIT_OK;
		default:
			usage_campaign(stderr);
			return SHIELD_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage_campaign(stderr);
		return SHIELD_EXIT_USAGE;
	}
	const char *sub = argv[optind++];
	/* options may also follow the subcommand */
	while (optind < argc && argv[optind][0] == '-') {
		if (!strcmp(argv[optind], "--json")) {
			json = 1;
			optind++;
		} else if (!strcmp(argv[optind], "--db") && optind + 1 < argc) {
			db = argv[optind + 1];
			optind += 2;
		} else {
			usage_campaign(stderr);
			return SHIELD_EXIT_USAGE;
		}
	}
	int nargs = argc - optind;
	char **args = argv + optind;
	int want_ok = (!strcmp(sub, "show") && nargs == 1) ||
		      (!strcmp(sub, "merge") && nargs == 2) ||
		      (!strcmp(sub, "split") && nargs >= 2 && nargs <= 65) ||
		      (!strcmp(sub, "recluster") && nargs == 0);
	if (!want_ok) {
		usage_campaign(stderr);
		return SHIELD_EXIT_USAGE;
	}
	int64_t ids[65];
	for (int i = 0; i < nargs; i++)
		if (parse_id(args[i], &ids[i]) < 0)
			return SHIELD_EXIT_USAGE;
	struct store *st;
	struct store_campaign *sc;
	if (open_sc(db, &st, &sc) < 0)
		return SHIELD_EXIT_FAIL;
	int rc = SHIELD_EXIT_OK;
	if (!strcmp(sub, "show")) {
		rc = campaign_show(sc, ids[0], json);
		store_campaign_close(sc);
		store_close(st);
		return rc;
	}
	store_campaign_close(sc);
	char *err = NULL;
	struct campaign_config cfg = {.alert_reports = 3, .alert_minutes = 10, .replay = 1};
	struct campaign_engine *ce = campaign_engine_new(st, &cfg, &err);
	if (!ce) {
		cli_error("%s", err ? err : "cannot start the campaign engine");
		free(err);
		store_close(st);
		return SHIELD_EXIT_FAIL;
	}
	char why[512] = "";
	if (store_begin(st) < 0) {
		cli_error("cannot write to the store: %s", store_errmsg(st));
		rc = SHIELD_EXIT_FAIL;
	} else {
		int r = -1;
		if (!strcmp(sub, "merge")) {
			r = campaign_merge(ce, ids[0], ids[1], why, sizeof why);
			if (!r)
				printf("merged campaign %lld into %lld\n", (long long)ids[1],
				       (long long)ids[0]);
		} else if (!strcmp(sub, "split")) {
			int64_t nid = 0;
			r = campaign_split(ce, ids[0], ids + 1, nargs - 1, &nid, why, sizeof why);
			if (!r)
				printf("moved %d reports of campaign %lld into new campaign %lld\n",
				       nargs - 1, (long long)ids[0], (long long)nid);
		} else {
			long n = 0;
			r = campaign_recluster(ce, &n, why, sizeof why);
			if (!r)
				printf("re-clustered %ld reports\n", n);
		}
		if (r < 0) {
			store_rollback(st);
			cli_error("%s", why);
			rc = SHIELD_EXIT_FAIL;
		} else if (store_commit(st) < 0) {
			cli_error("cannot commit to the store: %s", store_errmsg(st));
			rc = SHIELD_EXIT_FAIL;
		}
	}
	campaign_engine_free(ce);
	store_close(st);
	return rc;
}
