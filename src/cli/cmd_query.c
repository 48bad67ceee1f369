/*
 * cmd_query.c - read the store: `shield reports`, `shield show ID`,
 * `shield indicators`. Tables by default, JSON Lines with --json.
 * Stored text is attacker-controlled: tables print it through printable()
 * so control characters cannot move the cursor or forge lines.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

/* printable - copy s with control bytes replaced, cut at max columns
 * (counting UTF-8 sequences as one). */
static const char *printable(const char *s, char *out, size_t outsz, int max)
{
	size_t n = 0;
	int cols = 0;
	if (!s)
		s = "-";
	for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < outsz; p++) {
		if ((*p & 0xc0) != 0x80) {
			if (cols == max) {
				if (n >= 3) {
					out[n - 1] = '.';
				}
				break;
			}
			cols++;
		}
		out[n++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
	}
	out[n] = '\0';
	return out;
}

static const char *jget(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int open_db(const char *db, struct store **st)
{
	char *err = NULL;
	*st = store_open(cli_db_path(db), &err);
	if (!*st) {
		cli_error("%s", err);
		free(err);
		return -1;
	}
	return 0;
}

/* with_id - the stored result object with the store's own fields first. */
static json_t *with_id(const struct report_row *row)
{
	json_error_t e;
	json_t *res = json_loads(row->json, 0, &e);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(row->id));
	json_object_set_new(o, "submission_id", json_integer(row->submission_id));
	json_object_set_new(o, "stored_at", json_string(row->created_at));
	json_object_set_new(o, "submission_sha256", json_string(row->submission_sha));
	if (res) {
		json_object_update(o, res); /* source, source_index, ... */
		json_decref(res);
	}
	/* analysts merge and split campaigns after storing: the column wins */
	json_object_set_new(o, "campaign_id",
			    row->campaign_id ? json_integer(row->campaign_id) : json_null());
	return o;
}

struct list_ctx {
	int json;
	long n;
};

static int report_line(void *ctx, const struct report_row *row)
{
	struct list_ctx *lc = ctx;
	json_t *o = with_id(row);
	lc->n++;
	if (lc->json) {
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
	} else {
		char a[128], b[128], c[256], d[128];
		printf("%6lld  %-10s  %-8s  %-28s  %-40s  %3zu  %s\n", (long long)row->id,
		       row->verdict ? row->verdict : "-",
		       jget(o, "forward") ? jget(o, "forward") : "-",
		       printable(jget(o, "from"), a, sizeof a, 28),
		       printable(jget(o, "subject"), c, sizeof c, 40),
		       json_array_size(json_object_get(o, "urls")),
		       printable(row->source, b, sizeof b, 40));
		(void)d;
	}
	json_decref(o);
	return 0;
}

static void usage_reports(FILE *f)
{
	fprintf(f, "usage: shield reports [--db FILE] [--json]\n\n"
		   "List stored reports (one per suspicious message), oldest first.\n"
		   "  --db FILE   the store (default $SHIELD_DB, else ./shield.db)\n"
		   "  --json      one JSON object per report: id, submission_id, stored_at,\n"
		   "              submission_sha256 and every field of 'shield extract --json'\n"
		   "  -h, --help  this help\n");
}

static int parse_db_json(int argc, char **argv, const char **db, int *json, const char **type,
			 void (*usage)(FILE *))
{
	static const struct option lo[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"type", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "d:jt:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			*db = optarg;
			break;
		case 'j':
			*json = 1;
			break;
		case 't':
			if (!type) {
				usage(stderr);
				return -1;
			}
			*type = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return -1;
		}
	}
	/* reports and indicators take no positional arguments */
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 1;
}

int cmd_reports(int argc, char **argv)
{
	const char *db = NULL;
	int json = 0;
	int rc = parse_db_json(argc, argv, &db, &json, NULL, usage_reports);
	if (rc <= 0)
		return rc < 0 ? SHIELD_EXIT_USAGE : SHIELD_EXIT_OK;
	struct store *st;
	if (open_db(db, &st) < 0)
		return SHIELD_EXIT_FAIL;
	struct list_ctx lc = {json, 0};
	if (!json)
		printf("%6s  %-10s  %-8s  %-28s  %-40s  %3s  %s\n", "ID", "VERDICT", "FORWARD",
		       "FROM", "SUBJECT", "URL", "SOURCE");
	rc = store_list_reports(st, report_line, &lc);
	if (rc < 0)
		cli_error("%s", store_errmsg(st));
	else if (!json)
		printf("%ld reports\n", lc.n);
	store_close(st);
	return rc < 0 ? SHIELD_EXIT_FAIL : SHIELD_EXIT_OK;
}

/* ---- show ---- */

static void print_kv(const char *k, const char *v)
{
	char buf[1024];
	printf("%-14s %s\n", k, printable(v, buf, sizeof buf, 200));
}

static int share_line(void *ctx, const struct report_row *row)
{
	printf("  report %lld from %s\n", (long long)row->id, row->source);
	return 0;
}

static int show_one(void *ctx, const struct report_row *row)
{
	int json = *(int *)ctx;
	json_t *o = with_id(row);
	if (json) {
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
		json_decref(o);
		return 0;
	}
	char num[64];
	snprintf(num, sizeof num, "%lld", (long long)row->id);
	print_kv("report", num);
	print_kv("source", row->source);
	if (row->source_index >= 0) {
		snprintf(num, sizeof num, "%ld", row->source_index);
		print_kv("mbox index", num);
	}
	print_kv("stored at", row->created_at);
	print_kv("submission", row->submission_sha);
	print_kv("message", row->message_sha);
	static const char *const keys[] = {
	    "forward",	 "forward_style", "reporter",	 "from",
	    "from_name", "reply_to",	  "return_path", "to",
	    "subject",	 "date",	  "message_id",	 "origin_ip"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (jget(o, keys[i]))
			print_kv(keys[i], jget(o, keys[i]));
	json_t *auth = json_object_get(o, "auth");
	if (auth) {
		char a[256];
		json_t *sigs = json_object_get(auth, "dkim_signatures");
		size_t ns = json_array_size(sigs);
		int off = snprintf(a, sizeof a, "spf=%s dkim=%s dmarc=%s smime=%s",
				   jget(auth, "spf") ? jget(auth, "spf") : "-",
				   jget(auth, "dkim") ? jget(auth, "dkim") : "-",
				   jget(auth, "dmarc") ? jget(auth, "dmarc") : "-",
				   json_is_true(json_object_get(auth, "smime")) ? "yes" : "no");
		for (size_t i = 0; i < ns && off < (int)sizeof a; i++)
			off += snprintf(a + off, sizeof a - (size_t)off, " dkim-sig d=%s s=%s",
					jget(json_array_get(sigs, i), "d"),
					jget(json_array_get(sigs, i), "s")
					    ? jget(json_array_get(sigs, i), "s")
					    : "-");
		print_kv("auth", a);
	}
	json_t *v;
	size_t i;
	if (jget(o, "verdict")) {
		char a[256];
		snprintf(a, sizeof a, "%s, score %lld%s%s%s%s", jget(o, "verdict"),
			 (long long)json_integer_value(json_object_get(o, "score")),
			 jget(o, "language") ? ", language " : "",
			 jget(o, "language") ? jget(o, "language") : "",
			 jget(o, "brand") ? ", brand " : "",
			 jget(o, "brand") ? jget(o, "brand") : "");
		print_kv("verdict", a);
		json_t *rs = json_object_get(o, "reasons");
		printf("reasons (%zu)\n", json_array_size(rs));
		json_array_foreach(rs, i, v)
		{
			char d[512];
			printf("  %+4lld  %s  %s\n",
			       (long long)json_integer_value(json_object_get(v, "weight")),
			       jget(v, "code"),
			       jget(v, "detail") ? printable(jget(v, "detail"), d, sizeof d, 200)
						 : "");
		}
	}
	json_t *urls = json_object_get(o, "urls");
	printf("urls (%zu)\n", json_array_size(urls));
	json_array_foreach(urls, i, v)
	{
		char a[1024], b[256];
		printf("  %s  [%s]%s%s\n", printable(jget(v, "url"), a, sizeof a, 160),
		       jget(v, "found_in") ? jget(v, "found_in") : "",
		       jget(v, "text") ? "  text: " : "",
		       jget(v, "text") ? printable(jget(v, "text"), b, sizeof b, 60) : "");
	}
	static const char *const lists[] = {"domains", "ips", "emails"};
	for (size_t l = 0; l < 3; l++) {
		json_t *arr = json_object_get(o, lists[l]);
		printf("%s (%zu)\n", lists[l], json_array_size(arr));
		json_array_foreach(arr, i, v)
		{
			char a[512];
			const char *val = jget(v, l == 0 ? "domain" : "value");
			printf("  %s  [%s]\n", printable(val, a, sizeof a, 120),
			       jget(v, "found_in") ? jget(v, "found_in") : "");
		}
	}
	json_t *atts = json_object_get(o, "attachments");
	printf("attachments (%zu)\n", json_array_size(atts));
	json_array_foreach(atts, i, v)
	{
		char a[256];
		printf("  %s  declared %s, is %s, %lld bytes\n    sha256 %s\n",
		       printable(jget(v, "name"), a, sizeof a, 80),
		       jget(v, "declared_type") ? jget(v, "declared_type") : "-",
		       jget(v, "true_type") ? jget(v, "true_type") : "-",
		       (long long)json_integer_value(json_object_get(v, "size")),
		       jget(v, "sha256"));
		json_t *ents = json_object_get(v, "archive_entries"), *e;
		size_t k;
		json_array_foreach(ents, k, e)
		{
			printf("    entry %s\n", printable(json_string_value(e), a, sizeof a, 100));
		}
	}
	json_t *hops = json_object_get(o, "received");
	printf("received (%zu hops, newest first)\n", json_array_size(hops));
	json_array_foreach(hops, i, v)
	{
		char a[256], b[256];
		printf("  from %s [%s] by %s  %s\n", printable(jget(v, "from"), a, sizeof a, 50),
		       jget(v, "ip") ? jget(v, "ip") : "-",
		       printable(jget(v, "by"), b, sizeof b, 50),
		       jget(v, "date") ? jget(v, "date") : "");
	}
	json_t *fs = json_object_get(o, "findings");
	printf("findings (%zu)\n", json_array_size(fs));
	json_array_foreach(fs, i, v)
	{
		char a[256];
		printf("  %s  %s\n", jget(v, "code"),
		       printable(jget(v, "detail"), a, sizeof a, 100));
	}
	json_decref(o);
	return 0;
}

static void usage_show(FILE *f)
{
	fprintf(f, "usage: shield show [--db FILE] [--json] [--raw] REPORT_ID\n\n"
		   "Everything known about one stored report: addressing, authentication,\n"
		   "URLs with where they were found, domains, IPs, addresses, attachments,\n"
		   "the Received path, findings, and other reports of the same message.\n"
		   "  --db FILE   the store (default $SHIELD_DB, else ./shield.db)\n"
		   "  --json      the report as one JSON object\n"
		   "  --raw       print the report's raw bytes exactly as received\n"
		   "  -h, --help  this help\n");
}

struct raw_ctx {
	struct store *st;
	int rc;
};

static int print_raw(void *ctx, const struct report_row *row)
{
	struct raw_ctx *rc = ctx;
	void *data;
	size_t len;
	if (store_get_raw(rc->st, row->submission_sha, &data, &len) < 0) {
		rc->rc = -1;
		return 1;
	}
	fwrite(data, 1, len, stdout);
	free(data);
	return 0;
}

/* Distinct registrable domains of a report's URLs, for their blocklist
 * timeline (at most 16: a report's story, not a dump). */
struct tl_ctx {
	struct store *st;
	const char *seen[16];
	int n;
};

static int timeline_domains(void *ctx, const struct report_row *row)
{
	struct tl_ctx *tc = ctx;
	json_error_t e;
	json_t *o = json_loads(row->json, 0, &e), *v;
	size_t i;
	json_array_foreach(json_object_get(o, "urls"), i, v)
	{
		const char *d = jget(v, "registrable_domain");
		if (!d || tc->n >= 16)
			continue;
		int dup = 0;
		for (int k = 0; k < tc->n && !dup; k++)
			dup = strcmp(tc->seen[k], d) == 0;
		if (dup)
			continue;
		tc->seen[tc->n++] = d;
		cli_print_timeline(tc->st, d, 0);
	}
	json_decref(o);
	return 0;
}

int cmd_show(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"raw", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	int json = 0, raw = 0, c;
	while ((c = getopt_long(argc, argv, "d:jrh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'r':
			raw = 1;
			break;
		case 'h':
			usage_show(stdout);
			return SHIELD_EXIT_OK;
		default:
			usage_show(stderr);
			return SHIELD_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage_show(stderr);
		return SHIELD_EXIT_USAGE;
	}
	char *end;
	long long id = strtoll(argv[optind], &end, 10);
	if (*end || id <= 0) {
		cli_error("'%s' is not a report id (a positive number)", argv[optind]);
		return SHIELD_EXIT_USAGE;
	}
	struct store *st;
	if (open_db(db, &st) < 0)
		return SHIELD_EXIT_FAIL;
	int rc;
	if (raw) {
		struct raw_ctx rctx = {st, 0};
		rc = store_get_report(st, id, print_raw, &rctx);
		if (rctx.rc < 0)
			rc = -1;
	} else {
		rc = store_get_report(st, id, show_one, &json);
		if (rc == 0 && !json) {
			printf("same message also reported in:\n");
			store_reports_sharing(st, id, share_line, NULL);
			printf("blocklist timeline of its domains:\n");
			struct tl_ctx tc = {st, {0}, 0};
			store_get_report(st, id, timeline_domains, &tc);
		}
	}
	if (rc < 0)
		cli_error("%s", store_errmsg(st));
	store_close(st);
	return rc < 0 ? SHIELD_EXIT_FAIL : SHIELD_EXIT_OK;
}

/* ---- indicators ---- */

static int ind_line(void *ctx, const struct indicator_row *row)
{
	struct list_ctx *lc = ctx;
	lc->n++;
	if (lc->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "type", row->type, "value",
				      row->value, "first_seen", row->first_seen, "last_seen",
				      row->last_seen, "reports", (json_int_t)row->reports);
		if (!o) /* invalid UTF-8 in a stored value */
			o = json_pack("{s:s, s:s}", "type", row->type, "value", "(invalid UTF-8)");
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
		json_decref(o);
	} else {
		char a[1024];
		printf("%-7s %7ld  %-20s  %s\n", row->type, row->reports, row->last_seen,
		       printable(row->value, a, sizeof a, 200));
	}
	return 0;
}

static void usage_indicators(FILE *f)
{
	fprintf(f, "usage: shield indicators [--db FILE] [--type TYPE] [--json]\n\n"
		   "List stored indicators with how many reports carry each.\n"
		   "  --db FILE    the store (default $SHIELD_DB, else ./shield.db)\n"
		   "  --type TYPE  only url, domain, ip, email or sha256\n"
		   "  --json       one JSON object per indicator: type, value, first_seen,\n"
		   "               last_seen, reports\n"
		   "  -h, --help   this help\n");
}

int cmd_indicators(int argc, char **argv)
{
	const char *db = NULL, *type = NULL;
	int json = 0;
	int rc = parse_db_json(argc, argv, &db, &json, &type, usage_indicators);
	if (rc <= 0)
		return rc < 0 ? SHIELD_EXIT_USAGE : SHIELD_EXIT_OK;
	if (type && strcmp(type, "url") && strcmp(type, "domain") && strcmp(type, "ip") &&
	    strcmp(type, "email") && strcmp(type, "sha256")) {
		cli_error("unknown indicator type '%s' (url, domain, ip, email, sha256)", type);
		return SHIELD_EXIT_USAGE;
	}
	struct store *st;
	if (open_db(db, &st) < 0)
		return SHIELD_EXIT_FAIL;
	struct list_ctx lc = {json, 0};
	if (!json)
		printf("%-7s %7s  %-20s  %s\n", "TYPE", "REPORTS", "LAST SEEN", "VALUE");
	rc = store_list_indicators(st, type, 0, ind_line, &lc);
	if (rc < 0)
		cli_error("%s", store_errmsg(st));
	else if (!json)
		printf("%ld indicators\n", lc.n);
	store_close(st);
	return rc < 0 ? SHIELD_EXIT_FAIL : SHIELD_EXIT_OK;
}
