/*
 * send.c - render notification mails and deliver them over SMTP with
 * libcurl (see send.h for the state machine).
 *
 * The message: multipart/mixed with the human text (template of the
 * contact's language, quoted-printable UTF-8), a CSV attachment with one
 * row per incident, optionally one XARF v4 JSON attachment per incident,
 * and one ARF report (RFC 5965: multipart/report, as a message/rfc822
 * part) per reported mail behind the batch's "-origin" incidents (`shield
 * feed --reports`), with the recipient's address redacted; the reporting
 * citizen is never named. Headers: RFC 2047 for anything non-ASCII (an
 * unencoded UTF-8 Subject makes Postfix demand SMTPUTF8 and bounce,
 * REAL-COMPONENTS 5), Auto-Submitted: auto-generated, the ticket in the
 * Subject, and a Message-ID derived from the batch so every retry is the
 * same message.
 * Lines end in CRLF; libcurl dot-stuffs the body.
 * Security: header values come from the store (addresses checked at
 * import) and templates (the operator's); CR and LF are removed from
 * every header value before it is written.
 */
#include "notify/send.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/lazylib.h"
#include "common/limits.h"
#include "common/smtp.h"
#include "common/xalloc.h"
#include "notify/contacts.h"
#include "notify/plan.h"
#include "store/store.h"
#include "enrich/asn.h"
#include "feed/feed.h"
#include "store/store_notify.h"

#ifndef SHIELD_DATADIR
#define SHIELD_DATADIR "data"
#endif

/* limits: common/limits.h */
#define MAX_MESSAGE NOTIFY_MAX_MESSAGE
#define MAX_XARF_PARTS NOTIFY_MAX_XARF_PARTS
#define MAX_ARF_PARTS NOTIFY_MAX_ARF_PARTS
#define MAX_ARF_URIS NOTIFY_MAX_ARF_URIS

/* ---- encoding helpers ---- */

static void add_crlf_clean(struct buf *b, const char *s)
{
	for (; *s; s++)
		if (*s != '\r' && *s != '\n')
			buf_addc(b, *s);
}

void mime_encode_header(struct buf *out, const char *name, const char *value)
{
	int plain = 1;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p >= 0x80 || *p < 0x20)
			plain = 0;
	buf_printf(out, "%s: ", name);
	if (plain) {
		add_crlf_clean(out, value);
		buf_adds(out, "\r\n");
		return;
	}
	/* the leading words that are plain ASCII stay as they are, so the
	 * ticket ("[SHIELD-...] AS64500: ...") is visible to ticket systems and
	 * filters that match the raw header; the rest (from the first word
	 * with a non-ASCII or control byte) becomes encoded words, which the
	 * space before them keeps apart (RFC 2047, 5). Text that looks like an
	 * encoded word itself ("=?") is never left plain. */
	size_t n = strlen(value), i = 0, raw = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)value[k];
		if (c < 0x20 || c >= 0x7f || (c == '=' && value[k + 1] == '?'))
			break;
		if (c == ' ')
			raw = k + 1;
	}
	if (raw) {
		buf_add(out, value, raw);
		i = raw;
	}
	/* encoded words of at most 45 input bytes (60 base64 chars), split on
	 * UTF-8 character boundaries, folded onto continuation lines */
	int first = 1;
	while (i < n) {
		size_t take = n - i > 45 ? 45 : n - i;
		while (take < n - i && take > 0 && ((unsigned char)value[i + take] & 0xc0) == 0x80)
			take--;
		unsigned char enc[64];
		EVP_EncodeBlock(enc, (const unsigned char *)value + i, (int)take);
		if (!first)
			buf_adds(out, "\r\n ");
		buf_printf(out, "=?utf-8?B?%s?=", (const char *)enc);
		first = 0;
		i += take;
	}
	buf_adds(out, "\r\n");
}

static void add_base64(struct buf *b, const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned char enc[80];
	for (size_t i = 0; i < len; i += 57) {
		size_t n = len - i > 57 ? 57 : len - i;
		EVP_EncodeBlock(enc, p + i, (int)n);
		buf_adds(b, (const char *)enc);
		buf_adds(b, "\r\n");
	}
}

/* add_qp - quoted-printable (RFC 2045) of UTF-8 text with LF or CRLF
 * line ends; soft breaks keep lines under 76 characters. */
static void add_qp(struct buf *b, const char *s)
{
	int col = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n') {
			buf_adds(b, "\r\n");
			col = 0;
			continue;
		}
		int enc = *p == '=' || *p >= 0x7f || (*p < 0x20 && *p != '\t') ||
			  ((*p == ' ' || *p == '\t') && (p[1] == '\n' || p[1] == '\r' || !p[1])) ||
			  (col == 0 && *p == '.');
		int w = enc ? 3 : 1;
		if (col + w > 75) {
			buf_adds(b, "=\r\n");
			col = 0;
		}
		if (enc)
			buf_printf(b, "=%02X", *p);
		else
			buf_addc(b, (char)*p);
		col += w;
	}
	buf_adds(b, "\r\n");
}

void template_render(struct buf *out, const char *tpl, const char *const *names,
		     const char *const *vals, int n)
{
	const char *p = tpl;
	while (*p) {
		const char *o = strstr(p, "{{");
		if (!o) {
			buf_adds(out, p);
			return;
		}
		buf_add(out, p, (size_t)(o - p));
		const char *c = strstr(o + 2, "}}");
		if (!c) {
			buf_adds(out, o);
			return;
		}
		size_t kl = (size_t)(c - o - 2);
		int hit = 0;
		for (int i = 0; i < n; i++)
			if (strlen(names[i]) == kl && !memcmp(names[i], o + 2, kl)) {
				buf_adds(out, vals[i]);
				hit = 1;
				break;
			}
		if (!hit)
			buf_add(out, o, (size_t)(c + 2 - o));
		p = c + 2;
	}
}

void xarf_type_of(const char *t, const char **category, const char **type)
{
	if (strstr(t, "scanner") || strstr(t, "port_scan") || strstr(t, "portscan")) {
		*category = "connection";
		*type = "port_scan";
	} else if (!strncmp(t, "scan_", 5) || strstr(t, "open") || strstr(t, "accessible") ||
		   strstr(t, "vulnerable") || strstr(t, "exposed")) {
		*category = "vulnerability";
		*type = "open_service";
	} else if (strstr(t, "bot") || strstr(t, "infect") || strstr(t, "drone") ||
		   strstr(t, "sinkhole") || strstr(t, "malware") || strstr(t, "compromis")) {
		*category = "infrastructure";
		*type = "botnet";
	} else if (strstr(t, "brute") || strstr(t, "login")) {
		*category = "connection";
		*type = "login_attack";
	} else if (strstr(t, "ddos")) {
		*category = "connection";
		*type = "ddos";
	} else {
		*category = "reputation";
		*type = "threat_intelligence";
	}
}

static void iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* uuid_for - a UUIDv4-shaped id derived from text, so the XARF report_id
 * of an incident is the same in every retry of its batch. */
static void uuid_for(const char *text, char out[37])
{
	unsigned char md[32];
	unsigned mdl = 0;
	EVP_Digest(text, strlen(text), md, &mdl, EVP_sha256(), NULL);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x40);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10],
		 md[11], md[12], md[13], md[14], md[15]);
}

/* ---- rendering ---- */

struct render {
	const struct send_opts *o;
	const char *from, *org, *from_domain, *ticket;
	struct buf csv;
	struct buf xarf; /* MIME parts, appended as they are made */
	int want_xarf;
	long nxarf;
	char types[256];
	int64_t first, last;
	/* origin IPs of reported mail in this batch, for ARF */
	char arf_ip[MAX_ARF_PARTS][46];
	int narf_ip;
};

static void csv_field(struct buf *b, const char *s)
{
	int q = strpbrk(s, ",\"\r\n") != NULL;
	if (!q) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

static int incident_row(void *ctx, const struct incident_row *r)
{
	struct render *x = ctx;
	char f[32], l[32], port[8] = "";
	iso(r->first_time, f);
	iso(r->last_time, l);
	if (r->port > 0)
		snprintf(port, sizeof port, "%d", r->port);
	buf_printf(&x->csv, "%s,%s,%s,%u,%s,%s,%ld,%s,", x->ticket, r->type, r->ip, r->asn, f, l,
		   r->events, port);
	csv_field(&x->csv, r->source);
	buf_addc(&x->csv, ',');
	csv_field(&x->csv, r->tlp);
	buf_adds(&x->csv, "\r\n");
	if (r->first_time < x->first)
		x->first = r->first_time;
	if (r->last_time > x->last)
		x->last = r->last_time;
	size_t tyl = strlen(r->type);
	if (tyl > 7 && !strcmp(r->type + tyl - 7, "-origin") && x->narf_ip < MAX_ARF_PARTS &&
	    strlen(r->ip) < sizeof x->arf_ip[0]) {
		int dup = 0;
		for (int i = 0; i < x->narf_ip && !dup; i++)
			dup = !strcmp(x->arf_ip[i], r->ip);
		if (!dup)
			snprintf(x->arf_ip[x->narf_ip++], sizeof x->arf_ip[0], "%s", r->ip);
	}
	/* the distinct types, comma-separated, for the text */
	if (!strstr(x->types, r->type) &&
	    strlen(x->types) + strlen(r->type) + 3 < sizeof x->types) {
		size_t tl = strlen(x->types);
		snprintf(x->types + tl, sizeof x->types - tl, "%s%s", tl ? ", " : "", r->type);
	}
	if (!x->want_xarf || x->nxarf >= MAX_XARF_PARTS)
		return 0;
	const char *cat, *typ;
	xarf_type_of(r->type, &cat, &typ);
	char idtext[200], uuid[37];
	snprintf(idtext, sizeof idtext, "%s:%lld", x->ticket, (long long)r->id);
	uuid_for(idtext, uuid);
	json_t *j = json_object();
	json_object_set_new(j, "xarf_version", json_string("4.0.0"));
	json_object_set_new(j, "report_id", json_string(uuid));
	json_object_set_new(j, "timestamp", json_string(l));
	json_t *who =
	    json_pack("{s:s,s:s,s:s}", "org", x->org, "contact", x->from, "domain", x->from_domain);
	json_object_set(j, "reporter", who);
	json_object_set_new(j, "sender", who);
	json_object_set_new(j, "source_identifier", json_string(r->ip));
	if (r->port > 0)
		json_object_set_new(j, "source_port", json_integer(r->port));
	json_object_set_new(j, "category", json_string(cat));
	json_object_set_new(j, "type", json_string(typ));
	json_object_set_new(j, "evidence_source", json_string("automated_scan"));
	json_object_set_new(j, "first_seen", json_string(f));
	json_object_set_new(j, "last_seen", json_string(l));
	json_object_set_new(j, "description",
			    json_sprintf("%ld event(s) of type %s reported by %s (ticket %s)",
					 r->events, r->type, r->source, x->ticket));
	if (!strcmp(typ, "open_service")) {
		const char *svc = !strncmp(r->type, "scan_", 5) ? r->type + 5 : r->type;
		json_object_set_new(j, "service", json_string(*svc ? svc : "unknown"));
		if (r->port > 0)
			json_object_set_new(j, "service_port", json_integer(r->port));
	} else if (!strcmp(typ, "botnet")) {
		json_object_set_new(
		    j, "compromise_evidence",
		    json_sprintf("%s observed %ld time(s) by %s", r->type, r->events, r->source));
	} else if (!strcmp(typ, "port_scan") || !strcmp(typ, "login_attack") ||
		   !strcmp(typ, "ddos")) {
		json_object_set_new(j, "protocol", json_string("tcp"));
	} else {
		json_object_set_new(j, "threat_type", json_string(r->type));
	}
	char tlp[32];
	snprintf(tlp, sizeof tlp, "tlp:%s", r->tlp);
	for (char *q = tlp; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == ':' ||
		      *q == '-' || *q == '_'))
			*q = '-';
	json_object_set_new(j, "tags", json_pack("[s]", tlp));
	char *js = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if (!js)
		return 0;
	x->nxarf++;
	buf_printf(&x->xarf,
		   "Content-Type: application/json; name=\"%s-xarf-%ld.json\"\r\n"
		   "Content-Disposition: attachment; filename=\"%s-xarf-%ld.json\"\r\n"
		   "Content-Transfer-Encoding: base64\r\n\r\n",
		   x->ticket, x->nxarf, x->ticket, x->nxarf);
	add_base64(&x->xarf, js, strlen(js));
	buf_adds(&x->xarf, "\r\n--");
	buf_adds(&x->xarf, "{{BOUNDARY}}"); /* replaced below */
	buf_adds(&x->xarf, "\r\n");
	free(js);
	return 0;
}

/* ---- ARF (RFC 5965) for reports about received mail ---- */

struct arf {
	const struct render *x;
	const struct batch_row *b;
	struct buf *out; /* the batch message, after a boundary line */
	const char *boundary;
	int n;
};

static const char *jstr_of(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
}

/* arf_header - one header of the reported mail as Shield extracted it,
 * never a raw line: the values are the sender's, so CR and LF go and
 * anything non-ASCII is encoded (mime_encode_header) */
static void arf_header(struct buf *b, const char *name, const char *value)
{
	if (value && *value)
		mime_encode_header(b, name, value);
}

/* arf_report - one ARF message about report r, as a message/rfc822 part
 * of the batch: a human part, the machine-readable message/feedback-report
 * and the reported mail's headers (text/rfc822-headers) with the
 * recipient's address redacted (RFC 6590); the citizen who reported it is
 * never named. */
static int arf_report(void *ctx, const struct report_event_row *r)
{
	struct arf *a = ctx;
	if (a->n >= MAX_ARF_PARTS)
		return 1;
	json_t *j = json_loads(r->json, 0, NULL);
	if (!j)
		return 0;
	const char *verdict = r->verdict ? r->verdict : "suspicious";
	const char *ftype = !strcmp(verdict, "spam")	  ? "abuse"
			    : !strcmp(verdict, "malware") ? "virus"
							  : "fraud";
	const char *from = jstr_of(j, "from");
	const char *at = strrchr(from, '@');
	char dom[256] = "";
	if (at)
		snprintf(dom, sizeof dom, "%s", at + 1);
	dom[strcspn(dom, "> \r\n")] = '\0';
	a->n++;
	char inner[120];
	snprintf(inner, sizeof inner, "=_shield_arf_%s_%d", a->b->ticket, a->n);
	struct buf m = BUF_INIT(MAX_MESSAGE);
	char hdr[600];
	snprintf(hdr, sizeof hdr, "%s", a->x->org);
	mime_encode_header(&m, "From", hdr);
	m.len -= 2; /* the display name was encoded alone: append the address */
	m.data[m.len] = '\0';
	buf_adds(&m, " <");
	add_crlf_clean(&m, a->x->from);
	buf_adds(&m, ">\r\nTo: ");
	add_crlf_clean(&m, a->b->address);
	buf_adds(&m, "\r\n");
	snprintf(hdr, sizeof hdr, "[%s] Abuse report: %s mail from %s", a->b->ticket, verdict,
		 r->origin_ip);
	mime_encode_header(&m, "Subject", hdr);
	time_t ct = (time_t)a->b->created_at;
	struct tm tm;
	gmtime_r(&ct, &tm);
	char date[64];
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_printf(&m, "Date: %s\r\n", date);
	buf_printf(&m, "Message-ID: <arf-%lld.%s@%s>\r\n", (long long)r->id, a->b->ticket,
		   a->x->from_domain);
	buf_adds(&m, "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n");
	buf_printf(&m,
		   "Content-Type: multipart/report; report-type=feedback-report;\r\n"
		   " boundary=\"%s\"\r\n\r\n",
		   inner);
	buf_printf(&m, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", inner);
	buf_printf(&m,
		   "This is an abuse report (RFC 5965) about a mail judged %s. Your network\r\n"
		   "handed it to its recipient's mail system from %s; the recipient reported\r\n"
		   "it to us (report %lld, ticket %s). The headers below are as we read them,\r\n"
		   "with the recipient's address redacted.\r\n\r\n",
		   verdict, r->origin_ip, (long long)r->id, a->b->ticket);
	buf_printf(&m, "--%s\r\nContent-Type: message/feedback-report\r\n\r\n", inner);
	buf_printf(&m, "Feedback-Type: %s\r\nUser-Agent: Shield/0.1\r\nVersion: 1\r\n", ftype);
	const char *rp = jstr_of(j, "return_path");
	if (*rp) {
		buf_adds(&m, "Original-Mail-From: <");
		add_crlf_clean(&m, rp);
		buf_adds(&m, ">\r\n");
	}
	/* the mail's Date as RFC 5322 wants it (the result keeps ISO 8601) */
	const char *iso_date = jstr_of(j, "date");
	char mdate[64] = "";
	int64_t mt;
	if (*iso_date && feed_parse_time(iso_date, strlen(iso_date), &mt) == 0) {
		time_t tt = (time_t)mt;
		struct tm mtm;
		if (gmtime_r(&tt, &mtm))
			strftime(mdate, sizeof mdate, "%a, %d %b %Y %H:%M:%S +0000", &mtm);
	}
	if (*mdate)
		buf_printf(&m, "Arrival-Date: %s\r\n", mdate);
	buf_printf(&m, "Source-IP: %s\r\nIncidents: 1\r\n", r->origin_ip);
	if (dom[0]) {
		buf_adds(&m, "Reported-Domain: ");
		add_crlf_clean(&m, dom);
		buf_adds(&m, "\r\n");
	}
	size_t i;
	json_t *u;
	int nu = 0;
	json_array_foreach(json_object_get(j, "urls"), i, u)
	{
		const char *url = jstr_of(u, "url");
		int ascii = *url != '\0';
		for (const unsigned char *q = (const unsigned char *)url; *q && ascii; q++)
			ascii = *q > 0x20 && *q < 0x7f;
		if (!ascii || nu >= MAX_ARF_URIS)
			continue;
		buf_adds(&m, "Reported-URI: ");
		buf_adds(&m, url);
		buf_adds(&m, "\r\n");
		nu++;
	}
	buf_printf(&m, "\r\n--%s\r\nContent-Type: text/rfc822-headers; charset=us-ascii\r\n\r\n",
		   inner);
	json_t *hop;
	json_array_foreach(json_object_get(j, "received"), i, hop)
	{
		char line[900];
		snprintf(line, sizeof line, "from %s ([%s]) by %s with %s; %s",
			 jstr_of(hop, "from"), jstr_of(hop, "ip"), jstr_of(hop, "by"),
			 jstr_of(hop, "with"), jstr_of(hop, "date"));
		arf_header(&m, "Received", line);
	}
	if (*rp) {
		snprintf(hdr, sizeof hdr, "<%s>", rp);
		arf_header(&m, "Return-Path", hdr);
	}
	arf_header(&m, "From", from);
	buf_adds(&m, "To: redacted@redacted.invalid\r\n");
	arf_header(&m, "Subject", jstr_of(j, "subject"));
	arf_header(&m, "Date", mdate);
	const char *mid = jstr_of(j, "message_id");
	if (*mid && !strchr(mid, '<')) {
		snprintf(hdr, sizeof hdr, "<%s>", mid);
		mid = hdr;
	}
	arf_header(&m, "Message-ID", mid);
	buf_printf(&m, "\r\n--%s--\r\n", inner);
	json_decref(j);
	/* the ARF message as one more part of the batch */
	buf_printf(a->out,
		   "\r\nContent-Type: message/rfc822; name=\"%s-arf-%d.eml\"\r\n"
		   "Content-Disposition: attachment; filename=\"%s-arf-%d.eml\"\r\n\r\n",
		   a->b->ticket, a->n, a->b->ticket, a->n);
	buf_add(a->out, m.data, m.len);
	buf_printf(a->out, "\r\n--%s", a->boundary);
	buf_release(&m);
	return 0;
}

static char *read_template(const struct send_opts *o, const char *lang, char *why, size_t wl)
{
	char path[1024];
	const char *dirs[4];
	int nd = 0;
	if (o->templates)
		dirs[nd++] = o->templates;
	else {
		const char *e = getenv("SHIELD_TEMPLATES");
		if (e && *e)
			dirs[nd++] = e;
		dirs[nd++] = SHIELD_DATADIR "/templates";
		dirs[nd++] = "data/templates";
	}
	for (int i = 0; i < nd; i++) {
		snprintf(path, sizeof path, "%s/notify-%s.txt", dirs[i], lang);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		struct buf b = BUF_INIT(1u << 20);
		char tmp[4096];
		size_t n;
		while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
			buf_add(&b, tmp, n);
		fclose(f);
		if (b.toobig) {
			snprintf(why, wl, "template '%s' is larger than 1 MiB", path);
			buf_release(&b);
			return NULL;
		}
		return buf_detach(&b, NULL);
	}
	snprintf(why, wl, "no template notify-%s.txt in %s", lang, dirs[0]);
	return NULL;
}

/* render_batch - the whole RFC 5322 message of a frozen batch. */
static int render_batch(struct store *st, const struct send_opts *o, const char *from,
			const char *org, const struct batch_row *b, const char *as_name,
			int want_xarf, struct buf *msg, char *why, size_t wl)
{
	const char *at = strrchr(from, '@');
	struct render x;
	memset(&x, 0, sizeof x);
	x.o = o;
	x.from = from;
	x.org = org;
	x.from_domain = at ? at + 1 : "localhost";
	x.ticket = b->ticket;
	x.want_xarf = want_xarf;
	x.first = INT64_MAX;
	buf_init(&x.csv, MAX_MESSAGE);
	buf_init(&x.xarf, MAX_MESSAGE);
	buf_adds(&x.csv, "ticket,type,ip,asn,first_seen,last_seen,events,port,source,tlp\r\n");
	if (store_incidents_of_batch(st, b->id, incident_row, &x) != STORE_OK) {
		snprintf(why, wl, "reading incidents: %s", store_notify_errmsg(st));
		buf_release(&x.csv);
		buf_release(&x.xarf);
		return -1;
	}
	char *tpl = read_template(o, b->language, why, wl);
	if (!tpl && strcmp(b->language, "en"))
		tpl = read_template(o, "en", why, wl);
	if (!tpl) {
		buf_release(&x.csv);
		buf_release(&x.xarf);
		return -1;
	}
	char asn[16], ev[24], ips[24], first[32], last[32];
	snprintf(asn, sizeof asn, "%u", b->asn);
	snprintf(ev, sizeof ev, "%ld", b->events);
	snprintf(ips, sizeof ips, "%ld", b->distinct_ips);
	iso(x.first == INT64_MAX ? b->created_at : x.first, first);
	iso(x.last ? x.last : b->created_at, last);
	const char *names[] = {"ticket", "asn",	  "as_name", "events", "distinct_ips", "first",
			       "last",	 "types", "org",     "from",   "contact"};
	const char *vals[] = {b->ticket, asn,	    as_name && *as_name ? as_name : "-",
			      ev,	 ips,	    first,
			      last,	 x.types,   org,
			      from,	 b->address};
	struct buf text = BUF_INIT(MAX_MESSAGE);
	template_render(&text, tpl, names, vals, 11);
	free(tpl);
	/* the template's first line is "Subject: ..." */
	char *body = text.data ? text.data : (char *)"";
	char subject[512] = "";
	if (!strncmp(body, "Subject:", 8)) {
		char *nl = strchr(body, '\n');
		size_t sl = nl ? (size_t)(nl - body) - 8 : strlen(body) - 8;
		snprintf(subject, sizeof subject, "%.*s", (int)sl, body + 8);
		body = nl ? nl + 1 : body + strlen(body);
		while (*body == '\n' || *body == '\r')
			body++;
	}
	char *s = subject;
	while (*s == ' ')
		s++;
	char subj2[600];
	if (!strstr(s, b->ticket))
		snprintf(subj2, sizeof subj2, "[%s] %s", b->ticket,
			 *s ? s : "Network notification");
	else
		snprintf(subj2, sizeof subj2, "%s", s);
	char boundary[80];
	snprintf(boundary, sizeof boundary, "=_shield_%s", b->ticket);
	char date[64];
	time_t ct = (time_t)b->created_at;
	struct tm tm;
	gmtime_r(&ct, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_init(msg, MAX_MESSAGE);
	char fromhdr[600];
	snprintf(fromhdr, sizeof fromhdr, "%s", org);
	mime_encode_header(msg, "From", fromhdr);
	/* the display name was encoded alone: append the address */
	msg->len -= 2; /* drop CRLF */
	msg->data[msg->len] = '\0';
	buf_adds(msg, " <");
	add_crlf_clean(msg, from);
	buf_adds(msg, ">\r\n");
	buf_adds(msg, "To: ");
	add_crlf_clean(msg, b->address);
	buf_adds(msg, "\r\n");
	mime_encode_header(msg, "Subject", subj2);
	buf_printf(msg, "Date: %s\r\n", date);
	buf_adds(msg, "Message-ID: ");
	add_crlf_clean(msg, b->message_id);
	buf_adds(msg, "\r\n");
	buf_adds(msg, "Auto-Submitted: auto-generated\r\n");
	buf_adds(msg, "Precedence: bulk\r\n");
	buf_printf(msg, "X-Shield-Ticket: %s\r\n", b->ticket);
	buf_printf(msg, "X-Shield-AS: %u\r\n", b->asn);
	buf_adds(msg, "MIME-Version: 1.0\r\n");
	buf_printf(msg, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary);
	buf_adds(msg, "This is a MIME message.\r\n\r\n");
	buf_printf(msg, "--%s\r\n", boundary);
	buf_adds(msg, "Content-Type: text/plain; charset=utf-8\r\n"
		      "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	add_qp(msg, body);
	buf_printf(msg, "\r\n--%s\r\n", boundary);
	buf_printf(msg,
		   "Content-Type: text/csv; charset=utf-8; name=\"%s.csv\"\r\n"
		   "Content-Disposition: attachment; filename=\"%s.csv\"\r\n"
		   "Content-Transfer-Encoding: base64\r\n\r\n",
		   b->ticket, b->ticket);
	add_base64(msg, x.csv.data, x.csv.len);
	buf_printf(msg, "\r\n--%s", boundary);
	/* ARF for the reported mails behind the batch's origin incidents */
	struct arf arf = {&x, b, msg, boundary, 0};
	for (int i = 0; i < x.narf_ip && arf.n < MAX_ARF_PARTS; i++) {
		if (store_reports_by_origin(st, x.arf_ip[i], MAX_ARF_PARTS - arf.n, arf_report,
					    &arf) != STORE_OK) {
			snprintf(why, wl, "reading reports: %s", store_notify_errmsg(st));
			buf_release(&text);
			buf_release(&x.csv);
			buf_release(&x.xarf);
			buf_release(msg);
			return -1;
		}
	}
	if (x.nxarf) {
		buf_adds(msg, "\r\n");
		struct buf xr = BUF_INIT(MAX_MESSAGE);
		const char *bn[] = {"BOUNDARY"};
		const char *bv[] = {boundary};
		template_render(&xr, x.xarf.data, bn, bv, 1);
		/* the last part ends with "--boundary\r\n": make it the close */
		if (xr.len >= 2)
			xr.len -= 2;
		buf_add(msg, xr.data, xr.len);
		buf_release(&xr);
	}
	buf_adds(msg, "--\r\n");
	buf_release(&text);
	buf_release(&x.csv);
	buf_release(&x.xarf);
	if (msg->toobig) {
		snprintf(why, wl, "message larger than %u bytes", MAX_MESSAGE);
		buf_release(msg);
		return -1;
	}
	return 0;
}

/* ---- the run ---- */

struct bvec {
	struct batch_row *v;
	size_t n, cap;
};

static int collect_batch(void *ctx, const struct batch_row *r)
{
	struct bvec *bv = ctx;
	if (bv->n == bv->cap) {
		bv->cap = bv->cap ? bv->cap * 2 : 32;
		bv->v = xrealloc(bv->v, bv->cap * sizeof *bv->v);
	}
	struct batch_row *x = &bv->v[bv->n++];
	*x = *r;
	x->ticket = xstrdup(r->ticket);
	x->address = xstrdup(r->address);
	x->language = xstrdup(r->language);
	x->format = xstrdup(r->format);
	x->state = xstrdup(r->state);
	x->message_id = xstrdup(r->message_id);
	x->last_error = xstrdup(r->last_error);
	unsigned char *m = xmalloc(r->message_len + 1);
	if (r->message_len)
		memcpy(m, r->message, r->message_len);
	x->message = m;
	return 0;
}

static void free_bvec(struct bvec *bv)
{
	for (size_t i = 0; i < bv->n; i++) {
		struct batch_row *x = &bv->v[i];
		free((char *)x->ticket);
		free((char *)x->address);
		free((char *)x->language);
		free((char *)x->format);
		free((char *)x->state);
		free((char *)x->message_id);
		free((char *)x->last_error);
		free((void *)x->message);
	}
	free(bv->v);
	memset(bv, 0, sizeof *bv);
}

/* crash_hook - tests simulate a crash at a named point (SHIELD_NOTIFY_CRASH
 * = frozen | sent1): the process dies as if killed, without cleanup. */
static void crash_hook(const char *point)
{
	const char *e = getenv("SHIELD_NOTIFY_CRASH");
	if (e && !strcmp(e, point)) {
		fprintf(stderr, "shield: simulated crash at '%s'\n", point);
		_exit(70);
	}
}

/* freeze - create and render every due batch; one transaction each, so a
 * crash leaves either nothing or a complete pending batch. */
static int freeze(struct store *st, const struct contacts *c, const struct send_opts *o,
		  const char *from, const char *org, const struct asn_table *names,
		  send_warn_fn warn, void *ctx, long *frozen)
{
	struct plan p;
	char why[512];
	int64_t now = (int64_t)time(NULL);
	if (plan_build(st, c, now, 1, &p, why, sizeof why)) {
		warn(ctx, why);
		return -1;
	}
	const char *at = strrchr(from, '@');
	int rc = 0;
	for (size_t i = 0; i < p.n; i++) {
		struct plan_batch *pb = &p.v[i];
		if (!pb->contact || !pb->due)
			continue;
		struct batch_row br;
		memset(&br, 0, sizeof br);
		br.asn = pb->asn;
		br.contact_id = pb->contact->id;
		br.address = pb->contact->address;
		br.language = pb->contact->language;
		br.format = pb->contact->format;
		br.created_at = now;
		br.events = pb->events;
		br.distinct_ips = pb->distinct_ips;
		char ticket[64], msgid[300];
		int64_t id;
		if (store_begin(st) != STORE_OK) {
			rc = -1;
			break;
		}
		int ok = store_batch_create(st, &br, at ? at + 1 : "localhost", &id, ticket,
					    sizeof ticket, msgid, sizeof msgid) == STORE_OK;
		if (ok)
			ok = store_incidents_set_batch(st, pb->ids, pb->nids, id) == STORE_OK;
		struct buf msg = BUF_INIT(MAX_MESSAGE);
		if (ok) {
			br.id = id;
			br.ticket = ticket;
			br.message_id = msgid;
			int xarf = o->xarf || !strcmp(br.format, "csv+xarf");
			const char *as_name = names ? asn_table_name(names, br.asn) : "";
			ok = render_batch(st, o, from, org, &br, as_name, xarf, &msg, why,
					  sizeof why) == 0;
			if (!ok)
				warn(ctx, why);
		}
		if (ok)
			ok = store_batch_set_message(st, id, msg.data, msg.len) == STORE_OK;
		buf_release(&msg);
		if (!ok || store_commit(st) != STORE_OK) {
			snprintf(why, sizeof why, "cannot freeze batch for AS%u <%s>: %s", br.asn,
				 br.address, store_notify_errmsg(st));
			warn(ctx, why);
			store_rollback(st);
			rc = -1;
			continue;
		}
		(*frozen)++;
	}
	plan_free(&p);
	return rc;
}

static int write_eml(const char *dir, const struct batch_row *b, char *why, size_t wl)
{
	char path[1024], tmp[1100];
	snprintf(path, sizeof path, "%s/%s.eml", dir, b->ticket);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f || fwrite(b->message, 1, b->message_len, f) != b->message_len || fclose(f)) {
		snprintf(why, wl, "cannot write '%s': %s", tmp, strerror(errno));
		return -1;
	}
	if (rename(tmp, path)) {
		snprintf(why, wl, "cannot rename '%s': %s", tmp, strerror(errno));
		return -1;
	}
	return 0;
}

int notify_send(struct store *st, const struct contacts *c, const struct send_opts *o,
		send_warn_fn warn, void *ctx)
{
	const char *from = o->from ? o->from : getenv("SHIELD_NOTIFY_FROM");
	if (!from || !*from)
		from = "abuse-notify@localhost";
	const char *org = o->org ? o->org : "Shield CERT";
	const char *url = o->smtp_url ? o->smtp_url : getenv("SHIELD_SMTP_URL");
	if (!url || !*url)
		url = "smtp://127.0.0.1:25";
	if (strpbrk(from, " \r\n<>\",;") || !strchr(from, '@')) {
		char msg[400];
		snprintf(msg, sizeof msg, "--from must be a plain address: '%.300s'", from);
		warn(ctx, msg);
		return SHIELD_EXIT_USAGE;
	}
	/* the operator's relay: 30 s to connect, 5 minutes for a batch */
	struct smtp_opts so = {url, from, 30000, 300000, o->tls};
	long frozen = 0;
	int partial = freeze(st, c, o, from, org, o->names, warn, ctx, &frozen) != 0;
	crash_hook("frozen");
	/* Deliver every batch that is pending, due for retry, or was left in
	 * "sending" by a crash. */
	struct bvec bv = {0};
	store_batches_each(st, NULL, collect_batch, &bv);
	int64_t now = (int64_t)time(NULL);
	long sent = 0, failed = 0, retry = 0;
	/* libcurl is loaded only to send (lazylib.h); without it the frozen
	 * batches stay pending for the next run */
	struct curl_api cu;
	memset(&cu, 0, sizeof cu);
	if (!o->dry_run_dir) {
		char why[300];
		if (curl_api_open(&cu, why, sizeof why)) {
			char msg[400];
			snprintf(msg, sizeof msg, "cannot send: %s; batches stay pending", why);
			warn(ctx, msg);
			free_bvec(&bv);
			return SHIELD_EXIT_FAIL;
		}
		cu.global_init(CURL_GLOBAL_DEFAULT);
	}
	for (size_t i = 0; i < bv.n; i++) {
		struct batch_row *b = &bv.v[i];
		int sendable =
		    !strcmp(b->state, "pending") || !strcmp(b->state, "sending") ||
		    (!strcmp(b->state, "retry") && (b->next_attempt <= now || o->retry_now));
		if (!sendable)
			continue;
		if (!strcmp(b->state, "sending"))
			warn(ctx, "a batch was interrupted by a crash while sending; sending it "
				  "again with the same Message-ID");
		char why[512] = "";
		enum smtp_result r = SMTP_TEMP;
		int tries = 0;
		for (;;) {
			tries++;
			if (store_batch_state(st, b->id, "sending", 1, 0, NULL, 0) != STORE_OK) {
				snprintf(why, sizeof why, "store: %s", store_notify_errmsg(st));
				break;
			}
			if (o->dry_run_dir)
				r = write_eml(o->dry_run_dir, b, why, sizeof why) ? SMTP_TEMP
										  : SMTP_OK;
			else
				r = smtp_send(&cu, &so, b->address, b->message, b->message_len, why,
					      sizeof why);
			if (r != SMTP_TEMP || tries >= o->max_tries)
				break;
			int wait = o->backoff << (tries - 1);
			char msg[700];
			snprintf(msg, sizeof msg, "%s to <%s>: %s; retrying in %d s", b->ticket,
				 b->address, why, wait);
			warn(ctx, msg);
			if (wait > 0)
				sleep((unsigned)wait);
		}
		const char *state;
		if (r == SMTP_OK) {
			state = "sent";
			store_batch_state(st, b->id, "sent", 0, 0, NULL, (int64_t)time(NULL));
			sent++;
			if (sent == 1)
				crash_hook("sent1");
		} else if (r == SMTP_PERM) {
			state = "failed";
			store_batch_state(st, b->id, "failed", 0, 0, why, 0);
			store_bounce_add(st, b->address, why);
			failed++;
		} else {
			state = "retry";
			/* later runs: 15 min, doubling per attempt, at most a day */
			long att = b->attempts + tries;
			int64_t delay = 900;
			for (long k = 1; k < att && delay < 86400; k++)
				delay *= 2;
			if (delay > 86400)
				delay = 86400;
			store_batch_state(st, b->id, "retry", 0, (int64_t)time(NULL) + delay, why,
					  0);
			retry++;
		}
		if (o->json) {
			json_t *j = json_pack(
			    "{s:s,s:s,s:I,s:s,s:s,s:I,s:I,s:s}", "ticket", b->ticket, "state",
			    state, "asn", (json_int_t)b->asn, "contact", b->address, "language",
			    b->language, "events", (json_int_t)b->events, "distinct_ips",
			    (json_int_t)b->distinct_ips, "message_id", b->message_id);
			if (r != SMTP_OK)
				json_object_set_new(j, "error", json_string(why));
			char *s = json_dumps(j, JSON_COMPACT);
			if (s)
				puts(s);
			free(s);
			json_decref(j);
		} else {
			printf("%-7s %-24s AS%-8u %-32s %-2s %7ld events %6ld IPs%s%s\n", state,
			       b->ticket, b->asn, b->address, b->language, b->events,
			       b->distinct_ips, r == SMTP_OK ? "" : "  ", r == SMTP_OK ? "" : why);
		}
		fflush(stdout);
	}
	if (cu.dl) {
		cu.global_cleanup();
		curl_api_close(&cu);
	}
	free_bvec(&bv);
	if (!o->json)
		printf("%ld batches frozen, %ld sent, %ld to retry, %ld failed permanently\n",
		       frozen, sent, retry, failed);
	if (failed || retry || partial)
		return SHIELD_EXIT_PARTIAL;
	return SHIELD_EXIT_OK;
}
