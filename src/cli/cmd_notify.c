/*
 * cmd_notify.c - `shield notify`: the contact table, the plan of what
 * would be sent, sending, and who cannot be reached.
 *
 *   shield notify contacts list|import|import-ripe|set|unset
 *   shield notify plan [--json]
 *   shield notify send [--smtp URL] [--from ADDR] ...
 *   shield notify unreachable [--json]
 *
 * Security: contact values are checked by notify/contacts.c before they
 * are stored; nothing here builds SQL or mail headers itself.
 */
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "notify/contacts.h"
#include "enrich/asn.h"
#include "notify/plan.h"
#include "notify/send.h"
#include "store/store.h"
#include "store/store_notify.h"

/* atoi_safe - a non-negative decimal int, or -1 (atoi is banned: it
 * cannot report garbage). */
static int atoi_safe(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 1000000)
		return -1;
	return (int)v;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: shield notify plan [--db FILE] [--json]\n"
	    "   or: shield notify send [--db FILE] [--smtp URL] [--from ADDR] [--org NAME]\n"
	    "                          [--templates DIR] [--xarf] [--max-tries N] [--backoff S]\n"
	    "                          [--dry-run DIR] [--retry-now] [--json]\n"
	    "   or: shield notify unreachable [--db FILE] [--json]\n"
	    "   or: shield notify contacts list [--db FILE] [--json]\n"
	    "   or: shield notify contacts import [--db FILE] [--source NAME] FILE.csv...\n"
	    "   or: shield notify contacts import-ripe [--db FILE] [--source NAME] DUMP...\n"
	    "   or: shield notify contacts set [--db FILE] KEY ADDRESS [--language L]\n"
	    "                          [--format F] [--interval D]\n"
	    "   or: shield notify contacts unset [--db FILE] KEY\n\n"
	    "Notify the owner of every network about the incidents loaded by 'shield feed'.\n\n"
	    "plan         what would be sent: one batch per contact and AS per interval,\n"
	    "             with its AS, event count and distinct IPs. Every AS with events\n"
	    "             appears; without a known contact, contact is null / '-'.\n"
	    "             --json: one object per batch: asn, events, distinct_ips,\n"
	    "             incidents, contact, language, due, first, last.\n"
	    "send         send the due batches: text in the contact's language (nl, fr, de,\n"
	    "             en; templates notify-LANG.txt in --templates DIR, default\n"
	    "             $SHIELD_TEMPLATES or the shipped data/templates), a CSV\n"
	    "             attachment (one row per incident) and, for contacts with format\n"
	    "             csv+xarf or with --xarf, one XARF v4 JSON per incident.\n"
	    "             Each batch is frozen (ticket, Message-ID, bytes) before the first\n"
	    "             attempt, so a crash never loses one and a batch the server\n"
	    "             accepted is never sent again. 4xx: retried with back-off (and\n"
	    "             by later runs); 5xx: recorded as a permanent failure (bounce).\n"
	    "  --smtp URL      smtp://host:port (default $SHIELD_SMTP_URL, else\n"
	    "                  smtp://127.0.0.1:25); smtps:// or STARTTLS via --tls\n"
	    "  --from ADDR     envelope and From address (default $SHIELD_NOTIFY_FROM,\n"
	    "                  else abuse-notify@localhost)\n"
	    "  --org NAME      sender organisation for texts and XARF (default 'Shield CERT')\n"
	    "  --max-tries N   attempts per batch in this run on 4xx/connection errors (3)\n"
	    "  --backoff S     first wait between attempts in seconds, doubling (2)\n"
	    "  --dry-run DIR   write the messages as DIR/TICKET.eml instead of sending\n"
	    "  --retry-now     send the batches waiting for a later retry now, without\n"
	    "                  waiting out their back-off (after fixing the relay)\n"
	    "  --asn-table FILE  routing table whose AS names fill {{as_name}}\n"
	    "                  (default $SHIELD_ASN_TABLE)\n"
	    "  --names FILE    AS names (pyasn asnames.json or asn,name lines)\n"
	    "unreachable  ASes and addresses with events but no contact, and contacts\n"
	    "             whose mail bounced permanently\n"
	    "contacts     the contact table: keys are ASes (AS64500), prefixes or ranges\n"
	    "             (192.0.2.0/24, 2001:db8::/32, 192.0.2.0-192.0.2.127) or domains.\n"
	    "             import: CSV key,address[,language[,format[,interval]]] (a header\n"
	    "             row may name and reorder the columns); import-ripe: RIPE database\n"
	    "             split dumps (abuse-c -> role abuse-mailbox). An import replaces\n"
	    "             the earlier import of the same --source (default csv / ripe);\n"
	    "             'set' writes an operator override that wins over imports and\n"
	    "             survives re-imports; 'unset' removes it.\n"
	    "  --language L    nl, fr, de or en (default en)\n"
	    "  --format F      csv or csv+xarf (default csv)\n"
	    "  --interval D    minimum time between batches: 3600, 12h, 1d (default 1d)\n\n"
	    "Exit status: 0 ok, 1 some batches or lines failed, 2 usage, 3 nothing done.\n");
}

static void warn_cb(void *ctx, const char *msg)
{
	(void)ctx;
	cli_warn("%s", msg);
}

static void put_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (s)
		puts(s);
	free(s);
	json_decref(j);
}

/* iso_fast - iso() for years 1000..9999 without gmtime_r/strftime (two
 * per plan line, a tenth of `plan --json`): Howard Hinnant's
 * civil_from_days. 0 when the year is outside, then iso() is used. */
static int iso_fast(int64_t t, char out[32])
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t sod = t - days * 86400;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 1000 || y > 9999)
		return 0;
	int v[6] = {(int)y,	    (int)m, (int)d, (int)(sod / 3600), (int)(sod / 60 % 60),
		    (int)(sod % 60)};
	static const char sep[6] = {'-', '-', 'T', ':', ':', 'Z'};
	char *o = out;
	o[0] = (char)('0' + v[0] / 1000);
	o[1] = (char)('0' + v[0] / 100 % 10);
	o[2] = (char)('0' + v[0] / 10 % 10);
	o[3] = (char)('0' + v[0] % 10);
	o[4] = sep[0];
	o += 5;
	for (int i = 1; i < 6; i++) {
		o[0] = (char)('0' + v[i] / 10);
		o[1] = (char)('0' + v[i] % 10);
		o[2] = sep[i];
		o += 3;
	}
	*o = '\0';
	return 1;
}

static void iso(int64_t t, char out[32])
{
	if (iso_fast(t, out))
		return;
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* plain_json - s needs no escaping in compact, ASCII-only JSON. */
static int plain_json(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

/* out_s, out_l - appends to the plan's output buffer, written out in
 * 64 KiB pieces (out_flush): printf's format parsing and 4 KiB writes were
 * a fifth of `plan --json` on 50,000 batches. */
static void out_s(struct buf *o, const char *s)
{
	buf_adds(o, s);
}

static void out_l(struct buf *o, long v)
{
	char b[24];
	size_t i = sizeof b;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
	do
		b[--i] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		b[--i] = '-';
	buf_add(o, b + i, sizeof b - i);
}

static void out_flush(struct buf *o)
{
	if (o->len)
		fwrite(o->data, 1, o->len, stdout);
	buf_reset(o);
}

/* jstr_or_null - "s" (already known plain) or null. */
static void jstr_or_null(struct buf *o, const char *key, const char *s)
{
	out_s(o, ",\"");
	out_s(o, key);
	if (s) {
		out_s(o, "\":\"");
		out_s(o, s);
		out_s(o, "\"");
	} else {
		out_s(o, "\":null");
	}
}

/* plan_line_fast - the plan line exactly as json_dumps(JSON_COMPACT |
 * JSON_ENSURE_ASCII) writes it, without building a json_t per batch
 * (a tenth of `plan --json` on 50,000 batches). 0 when a string needs
 * escaping: the caller then uses jansson. */
static int plan_line_fast(struct buf *o, const struct plan_batch *b, const char *due, const char *f,
			  const char *l)
{
	const struct contact *ct = b->contact;
	if (ct && (!plain_json(ct->address) || !plain_json(ct->language) || !plain_json(ct->key) ||
		   !plain_json(due)))
		return 0;
	out_s(o, "{\"asn\":");
	out_l(o, (long)b->asn);
	out_s(o, ",\"events\":");
	out_l(o, b->events);
	out_s(o, ",\"distinct_ips\":");
	out_l(o, b->distinct_ips);
	out_s(o, ",\"incidents\":");
	out_l(o, b->incidents);
	jstr_or_null(o, "contact", ct ? ct->address : NULL);
	jstr_or_null(o, "language", ct ? ct->language : NULL);
	jstr_or_null(o, "contact_key", ct ? ct->key : NULL);
	out_s(o, ct && b->due ? ",\"due\":true" : ",\"due\":false");
	jstr_or_null(o, "due_at", ct ? due : NULL);
	out_s(o, ",\"first\":\"");
	out_s(o, f);
	out_s(o, "\",\"last\":\"");
	out_s(o, l);
	out_s(o, "\"}\n");
	if (o->len >= 60000)
		out_flush(o);
	return 1;
}

/* load_names - AS names for {{as_name}}: from the routing table (--asn-table,
 * default $SHIELD_ASN_TABLE) and/or a names file (--names). Nothing given:
 * *t stays NULL and the field prints "-". -1 when a given file fails. */
static int load_names(const char *table, const char *names, struct asn_table **t)
{
	*t = NULL;
	int from_env = 0;
	if (!table) {
		const char *e = getenv("SHIELD_ASN_TABLE");
		if (e && *e) {
			table = e;
			from_env = 1;
		}
	}
	char *err = NULL;
	if (table) {
		*t = asn_table_open(&table, 1, names, warn_cb, NULL, &err);
		if (*t)
			return 0;
		if (!from_env || names) {
			cli_error("cannot load AS names from '%s': %s", table, err);
			free(err);
			return -1;
		}
		cli_warn("$SHIELD_ASN_TABLE: %s; AS names print as -", err);
		free(err);
		return 0;
	}
	if (!names)
		return 0;
	char why[512];
	struct asn_builder *b = asn_builder_new(warn_cb, NULL);
	if (asn_builder_load_names(b, names, why, sizeof why) < 0) {
		cli_error("cannot load AS names from '%s': %s", names, why);
		asn_builder_free(b);
		return -1;
	}
	*t = asn_builder_finish(b);
	return 0;
}

static struct store *open_store(const char *db, struct contacts **c)
{
	char *err = NULL;
	const char *path = cli_db_path(db);
	struct store *st = store_open(path, &err);
	if (!st) {
		cli_error("%s", err ? err : "cannot open store");
		free(err);
		return NULL;
	}
	if (store_notify_migrate(st) != STORE_OK) {
		cli_error("cannot prepare store '%s': %s", path, store_errmsg(st));
		store_close(st);
		return NULL;
	}
	if (c) {
		char why[256];
		*c = contacts_load(st, why, sizeof why);
		if (!*c) {
			cli_error("cannot read contacts from '%s': %s", path, why);
			store_close(st);
			return NULL;
		}
	}
	return st;
}

static int do_plan(const char *db, int json)
{
	/* SQLite copies each ~50 KB block into a fresh allocation and frees
	 * it; with glibc's default trimming the heap top is given back and
	 * faulted in again for every block. Keep freed memory for reuse. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	struct contacts *c;
	struct store *st = open_store(db, &c);
	if (!st)
		return SHIELD_EXIT_FAIL;
	struct plan p;
	char why[300];
	int64_t now = (int64_t)time(NULL);
	if (plan_build(st, c, now, 0, &p, why, sizeof why)) {
		cli_error("%s", why);
		contacts_free(c);
		store_close(st);
		return SHIELD_EXIT_FAIL;
	}
	struct buf out = BUF_INIT((size_t)1 << 30); /* lines are flushed at 60,000 bytes */
	if (!json)
		printf("%-10s %-32s %-4s %9s %9s %9s  %s\n", "AS", "CONTACT", "LANG", "EVENTS",
		       "IPS", "INCIDENTS", "DUE");
	long nocontact = 0;
	for (size_t i = 0; i < p.n; i++) {
		struct plan_batch *b = &p.v[i];
		char due[32] = "now";
		if (!b->contact)
			snprintf(due, sizeof due, "never (no contact)");
		else if (!b->due)
			iso(b->due_at, due);
		nocontact += !b->contact;
		if (json) {
			char f[32], l[32];
			iso(b->first, f);
			iso(b->last, l);
			if (plan_line_fast(&out, b, due, f, l))
				continue;
			out_flush(&out);
			json_t *j = json_object();
			json_object_set_new(j, "asn", json_integer(b->asn));
			json_object_set_new(j, "events", json_integer(b->events));
			json_object_set_new(j, "distinct_ips", json_integer(b->distinct_ips));
			json_object_set_new(j, "incidents", json_integer(b->incidents));
			json_object_set_new(j, "contact",
					    b->contact ? json_string(b->contact->address)
						       : json_null());
			json_object_set_new(j, "language",
					    b->contact ? json_string(b->contact->language)
						       : json_null());
			json_object_set_new(j, "contact_key",
					    b->contact ? json_string(b->contact->key)
						       : json_null());
			json_object_set_new(j, "due", json_boolean(b->contact && b->due));
			json_object_set_new(j, "due_at",
					    b->contact ? json_string(due) : json_null());
			json_object_set_new(j, "first", json_string(f));
			json_object_set_new(j, "last", json_string(l));
			put_json(j);
		} else {
			char as[16];
			snprintf(as, sizeof as, "%u", b->asn);
			printf("%-10s %-32s %-4s %9ld %9ld %9ld  %s\n", b->asn ? as : "unrouted",
			       b->contact ? b->contact->address : "-",
			       b->contact ? b->contact->language : "-", b->events, b->distinct_ips,
			       b->incidents, due);
		}
	}
	out_flush(&out);
	buf_release(&out);
	if (!json)
		printf("%zu batches, %ld incidents, %ld events; %ld ASes without a contact\n", p.n,
		       p.incidents, p.events, nocontact);
	plan_free(&p);
	contacts_free(c);
	store_close(st);
	return SHIELD_EXIT_OK;
}

struct unreach {
	int json;
	long n;
};

static int bounce_row(void *ctx, const char *address, int64_t last_at, long count,
		      const char *reason)
{
	struct unreach *u = ctx;
	char t[32];
	iso(last_at, t);
	u->n++;
	if (u->json) {
		json_t *j =
		    json_pack("{s:s,s:s,s:s,s:I,s:s}", "kind", "bounced", "address", address,
			      "last", t, "count", (json_int_t)count, "reason", reason);
		put_json(j);
	} else {
		printf("%-10s %-32s %s (%ld times, last %s)\n", "bounced", address, reason, count,
		       t);
	}
	return 0;
}

static int do_unreachable(const char *db, int json)
{
	struct contacts *c;
	struct store *st = open_store(db, &c);
	if (!st)
		return SHIELD_EXIT_FAIL;
	struct plan p;
	char why[300];
	if (plan_build(st, c, (int64_t)time(NULL), 0, &p, why, sizeof why)) {
		cli_error("%s", why);
		contacts_free(c);
		store_close(st);
		return SHIELD_EXIT_FAIL;
	}
	struct unreach u = {json, 0};
	if (!json)
		printf("%-10s %-32s %s\n", "KIND", "AS / ADDRESS", "DETAIL");
	for (size_t i = 0; i < p.n; i++) {
		struct plan_batch *b = &p.v[i];
		if (b->contact)
			continue;
		u.n++;
		if (json) {
			json_t *j = json_pack("{s:s,s:I,s:I,s:I}", "kind", "no_contact", "asn",
					      (json_int_t)b->asn, "events", (json_int_t)b->events,
					      "distinct_ips", (json_int_t)b->distinct_ips);
			put_json(j);
		} else {
			char as[16];
			snprintf(as, sizeof as, "AS%u", b->asn);
			printf("%-10s %-32s %ld events, %ld IPs\n", "no-contact",
			       b->asn ? as : "unrouted", b->events, b->distinct_ips);
		}
	}
	store_bounces_each(st, bounce_row, &u);
	if (!json)
		printf("%ld unreachable\n", u.n);
	plan_free(&p);
	contacts_free(c);
	store_close(st);
	return SHIELD_EXIT_OK;
}

static int do_contacts(int argc, char **argv, const char *db, int json, const char *source,
		       const char *lang, const char *fmt, const char *interval)
{
	if (argc < 1) {
		cli_error("contacts needs list, import, import-ripe, set or unset");
		return SHIELD_EXIT_USAGE;
	}
	const char *op = argv[0];
	char err[512] = "";
	if (!strcmp(op, "list")) {
		struct contacts *c;
		struct store *st = open_store(db, &c);
		if (!st)
			return SHIELD_EXIT_FAIL;
		if (!json)
			printf("%-7s %-34s %-32s %-4s %-8s %8s  %s\n", "TYPE", "KEY", "ADDRESS",
			       "LANG", "FORMAT", "INTERVAL", "ORIGIN");
		for (size_t i = 0; i < contacts_count(c); i++) {
			const struct contact *x = contacts_at(c, i);
			if (json) {
				put_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "type",
						   x->key_type, "key", x->key, "address",
						   x->address, "language", x->language, "format",
						   x->format, "interval", (json_int_t)x->interval,
						   "origin", x->origin));
			} else {
				printf("%-7s %-34s %-32s %-4s %-8s %8ld  %s\n", x->key_type, x->key,
				       x->address, x->language, x->format, x->interval, x->origin);
			}
		}
		contacts_free(c);
		store_close(st);
		return SHIELD_EXIT_OK;
	}
	if (!strcmp(op, "import") || !strcmp(op, "import-ripe")) {
		if (argc < 2) {
			cli_error("%s needs at least one file", op);
			return SHIELD_EXIT_USAGE;
		}
		int ripe = !strcmp(op, "import-ripe");
		const char *src = source ? source : ripe ? "ripe" : "csv";
		if (!strcmp(src, "operator")) {
			cli_error("the source name 'operator' is reserved for overrides");
			return SHIELD_EXIT_USAGE;
		}
		struct store *st = open_store(db, NULL);
		if (!st)
			return SHIELD_EXIT_FAIL;
		long warned = 0;
		long n = ripe ? contacts_import_ripe(st, src, (const char *const *)argv + 1,
						     argc - 1, warn_cb, &warned, err, sizeof err)
			      : contacts_import_csv(st, src, (const char *const *)argv + 1,
						    argc - 1, warn_cb, &warned, err, sizeof err);
		store_close(st);
		if (n < 0) {
			cli_error("import failed, nothing changed: %s", err);
			return SHIELD_EXIT_FAIL;
		}
		printf("imported %ld contacts from source '%s' (operator overrides kept)\n", n,
		       src);
		return SHIELD_EXIT_OK;
	}
	if (!strcmp(op, "set") || !strcmp(op, "unset")) {
		int set = !strcmp(op, "set");
		if (argc != (set ? 3 : 2)) {
			cli_error(set ? "usage: contacts set KEY ADDRESS [options]"
				      : "usage: contacts unset KEY");
			return SHIELD_EXIT_USAGE;
		}
		char type[16], key[256];
		if (contact_key_normalise(argv[1], type, sizeof type, key, sizeof key)) {
			cli_error("not an AS, prefix or domain: '%s'", argv[1]);
			return SHIELD_EXIT_USAGE;
		}
		struct store *st = open_store(db, NULL);
		if (!st)
			return SHIELD_EXIT_FAIL;
		int rc = SHIELD_EXIT_OK;
		if (set) {
			long iv = interval ? contact_parse_interval(interval) : 86400;
			const char *l = lang ? lang : "en", *f = fmt ? fmt : "csv";
			if (iv <= 0 || !contact_language_ok(l) || !contact_format_ok(f) ||
			    !strchr(argv[2], '@') || strpbrk(argv[2], " \r\n\t<>\",;")) {
				cli_error(
				    "bad value: address must be a plain mailbox, --language "
				    "nl|fr|de|en, --format csv|csv+xarf, --interval e.g. 24h");
				store_close(st);
				return SHIELD_EXIT_USAGE;
			}
			struct contact_row r = {0, type, key, argv[2], l, f, "operator", iv, 0};
			if (store_contact_put(st, &r) != STORE_OK) {
				cli_error("cannot store: %s", store_notify_errmsg(st));
				rc = SHIELD_EXIT_FAIL;
			} else {
				printf("override %s %s -> %s\n", type, key, argv[2]);
			}
		} else {
			int r = store_contact_delete(st, type, key, "operator");
			if (r == STORE_DUP) {
				cli_error("no operator override for '%s'", key);
				rc = SHIELD_EXIT_PARTIAL;
			} else if (r != STORE_OK) {
				cli_error("cannot delete: %s", store_notify_errmsg(st));
				rc = SHIELD_EXIT_FAIL;
			}
		}
		store_close(st);
		return rc;
	}
	cli_error("unknown contacts operation '%s'", op);
	return SHIELD_EXIT_USAGE;
}

int cmd_notify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"source", required_argument, NULL, 's'},
	    {"language", required_argument, NULL, 'L'},
	    {"format", required_argument, NULL, 'F'},
	    {"interval", required_argument, NULL, 'I'},
	    {"smtp", required_argument, NULL, 'u'},
	    {"from", required_argument, NULL, 'f'},
	    {"org", required_argument, NULL, 'o'},
	    {"templates", required_argument, NULL, 'T'},
	    {"xarf", no_argument, NULL, 'x'},
	    {"tls", no_argument, NULL, 'S'},
	    {"max-tries", required_argument, NULL, 'm'},
	    {"backoff", required_argument, NULL, 'b'},
	    {"dry-run", required_argument, NULL, 'D'},
	    {"retry-now", no_argument, NULL, 'R'},
	    {"asn-table", required_argument, NULL, 'A'},
	    {"names", required_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *source = NULL, *lang = NULL, *fmt = NULL, *interval = NULL;
	const char *asn_path = NULL, *names_path = NULL;
	struct send_opts so;
	memset(&so, 0, sizeof so);
	so.max_tries = 3;
	so.backoff = 2;
	int json = 0, c;
	/* "+" would stop at the first non-option; subcommands take options
	 * anywhere, so permute (the GNU default) */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			source = optarg;
			break;
		case 'L':
			lang = optarg;
			break;
		case 'F':
			fmt = optarg;
			break;
		case 'I':
			interval = optarg;
			break;
		case 'u':
			so.smtp_url = optarg;
			break;
		case 'f':
			so.from = optarg;
			break;
		case 'o':
			so.org = optarg;
			break;
		case 'T':
			so.templates = optarg;
			break;
		case 'x':
			so.xarf = 1;
			break;
		case 'S':
			so.tls = 1;
			break;
		case 'm':
			so.max_tries = atoi_safe(optarg);
			if (so.max_tries < 1 || so.max_tries > 100) {
				cli_error("bad --max-tries '%s'", optarg);
				return SHIELD_EXIT_USAGE;
			}
			break;
		case 'b':
			so.backoff = atoi_safe(optarg);
			if (so.backoff < 0 || so.backoff > 3600) {
				cli_error("bad --backoff '%s'", optarg);
				return SHIELD_EXIT_USAGE;
			}
			break;
		case 'D':
			so.dry_run_dir = optarg;
			break;
		case 'R':
			so.retry_now = 1;
			break;
		case 'A':
			asn_path = optarg;
			break;
		case 'N':
			names_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return SHIELD_EXIT_OK;
		default:
			usage(stderr);
			return SHIELD_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("notify needs plan, send, unreachable or contacts; see "
			  "'shield notify --help'");
		return SHIELD_EXIT_USAGE;
	}
	const char *sub = argv[optind];
	if (!strcmp(sub, "plan"))
		return do_plan(db, json);
	if (!strcmp(sub, "unreachable"))
		return do_unreachable(db, json);
	if (!strcmp(sub, "contacts"))
		return do_contacts(argc - optind - 1, argv + optind + 1, db, json, source, lang,
				   fmt, interval);
	if (!strcmp(sub, "send")) {
		struct contacts *ct;
		struct store *st = open_store(db, &ct);
		if (!st)
			return SHIELD_EXIT_FAIL;
		so.json = json;
		struct asn_table *names = NULL;
		if (load_names(asn_path, names_path, &names)) {
			contacts_free(ct);
			store_close(st);
			return SHIELD_EXIT_FAIL;
		}
		so.names = names;
		int rc = notify_send(st, ct, &so, warn_cb, NULL);
		asn_table_free(names);
		contacts_free(ct);
		store_close(st);
		return rc;
	}
	cli_error("unknown notify command '%s'; see 'shield notify --help'", sub);
	return SHIELD_EXIT_USAGE;
}
