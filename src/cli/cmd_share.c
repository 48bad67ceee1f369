/*
 * cmd_share.c - `shield share`: campaigns for partners as MISP events (one
 * per campaign; a MISP feed directory with -o DIR) or one STIX 2.1 bundle.
 * Reports are grouped by campaign_id; reports without a campaign are
 * grouped by message (the same phishing message reported several times).
 * Everything shared is redacted (act/redact.h) and marked with TLP 2.0.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "act/act.h"
#include "act/share.h"
#include "act/strmap.h"
#include "cli/cli.h"
#include "common/xalloc.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: shield share [--db FILE] --format misp|stix [--campaign ID] [--tlp LEVEL]\n"
	       "                    [-o FILE|DIR] [--verdict LIST] [--min-score N]\n"
	       "                    [--unjudged include|exclude] [--org NAME]\n\n"
	       "Share malicious reports with partners, one MISP event per campaign (reports\n"
	       "without a campaign: one per message) or one STIX 2.1 bundle. Reporter and\n"
	       "recipient identities are removed; URLs, subjects and names are redacted.\n"
	       "  --format misp|stix  MISP core format, or STIX 2.1\n"
	       "  -o PATH             file (default standard output); for misp, a directory\n"
	       "                      (existing, or ending in '/') receives a MISP feed:\n"
	       "                      manifest.json, <uuid>.json per event, hashes.csv\n"
	       "  --campaign ID       only this campaign\n"
	       "  --tlp LEVEL         clear, green, amber (default), amber+strict, red\n"
	       "  --verdict LIST      verdicts shared (default phishing,malware,scam)\n"
	       "  --min-score N       only judged reports scoring at least N\n"
	       "  --unjudged include|exclude  reports not judged yet (default include)\n"
	       "  --org NAME          sharing organisation (default $SHIELD_ORG, else \"Shield\")\n"
	       "  --db FILE           the store (default $SHIELD_DB, else ./shield.db)\n");
}

struct grp {
	char *key, *title;
	json_t *reports;
};

struct collect {
	struct act_select sel;
	long long campaign;
	struct strmap groups;
};

static int on_report(void *ctx, const struct report_row *row)
{
	struct collect *c = ctx;
	if (act_classify(&c->sel, row->verdict, row->score) != ACT_MALICIOUS)
		return 0;
	if (c->campaign && row->campaign_id != c->campaign)
		return 0;
	json_error_t je;
	json_t *o = json_loads(row->json, 0, &je);
	if (!o)
		return 0;
	json_object_set_new(o, "id", json_integer(row->id));
	json_object_set_new(o, "stored_at", json_string(row->created_at));
	char key[128], title[200];
	if (row->campaign_id) {
		snprintf(key, sizeof key, "campaign-%lld", (long long)row->campaign_id);
		snprintf(title, sizeof title, "Phishing campaign %lld (Shield)",
			 (long long)row->campaign_id);
	} else {
		snprintf(key, sizeof key, "message-%s", row->message_sha ? row->message_sha : "");
		snprintf(title, sizeof title, "Phishing message %.12s (Shield)",
			 row->message_sha ? row->message_sha : "");
	}
	struct grp *g = strmap_get(&c->groups, key);
	if (!g) {
		g = xcalloc(1, sizeof *g);
		g->key = xstrdup(key);
		g->title = xstrdup(title);
		g->reports = json_array();
		strmap_put(&c->groups, key, g, NULL);
	}
	json_array_append_new(g->reports, o);
	return 0;
}

static int write_doc(const char *out, json_t *doc)
{
	if (strcmp(out, "-") == 0) {
		int rc = json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		return rc;
	}
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", out);
	if (json_dump_file(doc, tmp, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0)
		return -1;
	return rename(tmp, out);
}

int cmd_share(int argc, char **argv)
{
	enum { O_CAMPAIGN = 256, O_TLP, O_VERDICT, O_MINSCORE, O_UNJUDGED, O_ORG };
	static const struct option lo[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"campaign", required_argument, NULL, O_CAMPAIGN},
	    {"tlp", required_argument, NULL, O_TLP},
	    {"verdict", required_argument, NULL, O_VERDICT},
	    {"min-score", required_argument, NULL, O_MINSCORE},
	    {"unjudged", required_argument, NULL, O_UNJUDGED},
	    {"org", required_argument, NULL, O_ORG},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *format = NULL, *out = "-";
	struct share_opts so = {"amber", getenv("SHIELD_ORG") ? getenv("SHIELD_ORG") : "Shield"};
	struct collect c = {.sel = {NULL, 0, 1}};
	int ch;
	while ((ch = getopt_long(argc, argv, "d:f:o:h", lo, NULL)) != -1) {
		char *end = NULL;
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case O_CAMPAIGN:
			c.campaign = strtoll(optarg, &end, 10);
			break;
		case O_TLP:
			so.tlp = optarg;
			break;
		case O_VERDICT:
			c.sel.verdicts = optarg;
			break;
		case O_MINSCORE:
			c.sel.min_score = (int)strtol(optarg, &end, 10);
			break;
		case O_UNJUDGED:
			c.sel.unjudged = strcmp(optarg, "exclude") != 0;
			break;
		case O_ORG:
			so.org_name = optarg;
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
	if (!format || (strcmp(format, "misp") && strcmp(format, "stix"))) {
		cli_error("--format misp or --format stix is required");
		return SHIELD_EXIT_USAGE;
	}
	if (!share_tlp_ok(so.tlp)) {
		cli_error("unknown TLP '%s' (clear, green, amber, amber+strict, red)", so.tlp);
		return SHIELD_EXIT_USAGE;
	}
	char *err = NULL;
	struct store *st = store_open(cli_db_path(db), &err);
	if (!st) {
		cli_error("%s", err);
		free(err);
		return SHIELD_EXIT_FAIL;
	}
	strmap_init(&c.groups);
	int rc = SHIELD_EXIT_OK;
	if (store_list_reports(st, on_report, &c) < 0) {
		cli_error("%s", store_errmsg(st));
		rc = SHIELD_EXIT_FAIL;
		goto out;
	}
	size_t n = c.groups.n;
	struct share_group *gs = xcalloc(n ? n : 1, sizeof *gs);
	for (size_t i = 0; i < n; i++) {
		struct grp *g = c.groups.vals[i];
		gs[i] = (struct share_group){g->key, g->title, g->reports};
	}
	if (n == 0)
		cli_warn("no malicious reports to share");
	struct stat sb;
	size_t ol = strlen(out);
	int dir = strcmp(out, "-") != 0 &&
		  ((stat(out, &sb) == 0 && S_ISDIR(sb.st_mode)) || (ol && out[ol - 1] == '/'));
	if (strcmp(format, "misp") == 0 && dir) {
		if (share_misp_feed(&so, gs, n, out, &err) < 0) {
			cli_error("%s", err);
			free(err);
			rc = SHIELD_EXIT_FAIL;
		}
	} else if (dir) {
		cli_error("'%s' is a directory; STIX is one bundle file", out);
		rc = SHIELD_EXIT_USAGE;
	} else {
		json_t *doc;
		if (strcmp(format, "stix") == 0) {
			doc = share_stix_bundle(&so, gs, n);
		} else if (n == 1) {
			doc = share_misp_event(&so, &gs[0]);
		} else {
			json_t *arr = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(arr, share_misp_event(&so, &gs[i]));
			doc = json_pack("{s:o}", "response", arr);
		}
		if (!doc || write_doc(out, doc) != 0) {
			cli_error("cannot write '%s'", out);
			rc = SHIELD_EXIT_FAIL;
		}
		json_decref(doc);
	}
	fprintf(stderr, "shield: shared %zu %s\n", n,
		n == 1 ? "group of reports" : "groups of reports (campaigns or messages)");
	free(gs);
out:
	for (size_t i = 0; i < c.groups.n; i++) {
		struct grp *g = c.groups.vals[i];
		free(g->key);
		free(g->title);
		json_decref(g->reports);
		free(g);
	}
	strmap_release(&c.groups);
	store_close(st);
	return rc;
}
