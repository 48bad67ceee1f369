/*
 * alert.c - raise a campaign alert: one log line on stderr, then (only
 * when the operator configured them) an HTTP webhook and an e-mail.
 *
 * Webhook: JSON body (alert_json()) POSTed with libcurl to the operator's
 * URL only (never to anything a report contains); http and https only, no
 * redirects, connect timeout 2 s and total 5 s per attempt, up to
 * WEBHOOK_TRIES attempts with doubling back-off from 250 ms; any 2xx is
 * success. E-mail: the same JSON through SMTP (common/smtp.h) to
 * $SHIELD_SMTP_URL (default smtp://127.0.0.1:25) from $SHIELD_NOTIFY_FROM,
 * with $SHIELD_SMTP_USER/PASS when set, as `shield notify send` does.
 * Alerts are queued when raised and delivered by alerter_deliver(), which
 * the ingest calls after the commit that stored their reports: a receiver
 * that looks the campaign up on being alerted always finds it. Delivery is
 * synchronous, so a channel that fails is rested: after a failure (every
 * attempt of a webhook post, or an e-mail) the alerts of the next
 * DOWN_FIRST_S seconds skip that channel, doubling per failure in a row up
 * to DOWN_MAX_S, and the first alert after the rest tries it again. A dead
 * receiver used to hold the ingest up to WEBHOOK_TRIES * 5 s plus back-off
 * for every alert: hours for a backlog that raises hundreds. A skipped
 * alert is named on stderr (its log line is written as always, and the
 * campaign's alerted_at is in the store for whoever catches up).
 * libcurl is loaded (lazylib.h) only when a webhook or e-mail is set.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign/campaign_int.h"
#include "common/clock.h"
#include "common/lazylib.h"
#include "common/smtp.h"
#include "common/xalloc.h"

#define WEBHOOK_TRIES 4
#define WEBHOOK_BACKOFF_MS 250
#define DOWN_FIRST_S 60.0 /* a failed channel rests this long first */
#define DOWN_MAX_S 900.0  /* and at most this long */

/* rest - when a channel may be tried again (0: now) and how long its last
 * rest was (0: it worked last time). */
struct rest {
	double until, last;
};

/* pending - one alert raised, not yet delivered. Everything is copied out
 * of the campaign at raise time: the campaign keeps changing until the
 * commit. */
struct pending {
	char *line; /* the log line, with its newline */
	size_t len;
	char *body; /* alert_json(); NULL when no webhook or e-mail is set */
	int64_t campaign_id;
	long reports;
	char *brand; /* NULL when unknown */
};

struct alerter {
	char *webhook;
	char *email;
	struct curl_api curl; /* loaded when webhook or email is set */
	char curl_err[200];   /* why it could not be, else "" */
	struct pending *q;    /* raised since the last delivery, in order */
	size_t nq, capq;
	struct rest web_rest, mail_rest;
};

struct alerter *alerter_new(const char *webhook_url, const char *email)
{
	struct alerter *a = xcalloc(1, sizeof *a);
	a->webhook = webhook_url ? xstrdup(webhook_url) : NULL;
	a->email = email ? xstrdup(email) : NULL;
	if ((a->webhook || a->email) &&
	    curl_api_open(&a->curl, a->curl_err, sizeof a->curl_err) == 0)
		a->curl.global_init(CURL_GLOBAL_DEFAULT);
	return a;
}

static void pending_free(struct pending *p)
{
	free(p->line);
	free(p->body);
	free(p->brand);
}

void alerter_discard(struct alerter *a)
{
	for (size_t i = 0; a && i < a->nq; i++)
		pending_free(&a->q[i]);
	if (a)
		a->nq = 0;
}

struct alerter *alerter_free(struct alerter *a)
{
	if (!a)
		return NULL;
	alerter_discard(a);
	free(a->q);
	free(a->webhook);
	free(a->email);
	curl_api_close(&a->curl);
	free(a);
	return NULL;
}

static void iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *alert_json(const struct calert *al)
{
	char a[32], b[32];
	iso(al->first_seen, a);
	iso(al->at, b);
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string("shield.campaign.alert"));
	json_object_set_new(o, "campaign_id", json_integer(al->campaign_id));
	json_object_set_new(o, "brand", al->brand ? json_string(al->brand) : json_null());
	json_object_set_new(o, "verdict", al->verdict ? json_string(al->verdict) : json_null());
	json_object_set_new(o, "size", json_integer(al->reports));
	json_t *g = json_object();
	json_object_set_new(g, "reports", json_integer(al->window_reports));
	json_object_set_new(g, "within_minutes", json_integer(al->window_minutes));
	json_object_set_new(g, "reports_per_hour",
			    json_real((double)(long)(al->per_hour * 10) / 10));
	json_object_set_new(o, "growth", g);
	json_object_set_new(o, "first_seen", json_string(a));
	json_object_set_new(o, "alerted_at", json_string(b));
	json_t *ind = json_array();
	for (int i = 0; i < al->nindicators; i++) {
		const char *s = al->indicators[i];
		const char *c = strchr(s, ':');
		json_t *x = json_object();
		json_object_set_new(x, "type",
				    c ? json_stringn(s, (size_t)(c - s)) : json_string("?"));
		json_object_set_new(x, "value", json_string(c ? c + 1 : s));
		json_array_append_new(ind, x);
	}
	json_object_set_new(o, "indicators", ind);
	json_t *subj = json_array();
	for (int i = 0; i < al->nsubjects; i++)
		json_array_append_new(subj, json_string(al->subjects[i]));
	json_object_set_new(o, "sample_subjects", subj);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static size_t discard(char *p, size_t sz, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return sz * n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int post_webhook(const struct curl_api *cu, const char *url, const char *body, char *why,
			size_t whysz)
{
	CURL *c = cu->easy_init();
	if (!c) {
		snprintf(why, whysz, "cannot start libcurl");
		return -1;
	}
	struct curl_slist *h = cu->slist_append(NULL, "Content-Type: application/json");
	h = cu->slist_append(h, "User-Agent: shield-campaign-alert");
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cu->easy_setopt(c, CURLOPT_POSTFIELDS, body);
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	int rc = -1;
	long wait = WEBHOOK_BACKOFF_MS;
	for (int attempt = 1; attempt <= WEBHOOK_TRIES; attempt++) {
		CURLcode cc = cu->easy_perform(c);
		long code = 0;
		cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (cc == CURLE_OK && code >= 200 && code < 300) {
			rc = 0;
			break;
		}
		if (cc != CURLE_OK)
			snprintf(why, whysz, "%s (after %d attempts)", cu->easy_strerror(cc),
				 attempt);
		else
			snprintf(why, whysz, "HTTP %ld (after %d attempts)", code, attempt);
		if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT ||
		    (code >= 400 && code < 500 && code != 408 && code != 429))
			break; /* retrying cannot help */
		if (attempt < WEBHOOK_TRIES) {
			sleep_ms(wait);
			wait *= 2;
		}
	}
	cu->slist_free_all(h);
	cu->easy_cleanup(c);
	return rc;
}

static int send_mail(const struct curl_api *cu, const char *to, const struct pending *al, char *why,
		     size_t whysz)
{
	if (strpbrk(to, "\r\n<>,; ")) {
		snprintf(why, whysz, "not a plain address '%s'", to);
		return -1;
	}
	const char *url = getenv("SHIELD_SMTP_URL");
	const char *from = getenv("SHIELD_NOTIFY_FROM");
	if (!url || !*url)
		url = "smtp://127.0.0.1:25";
	if (!from || !*from || strpbrk(from, "\r\n<>,; "))
		from = "shield-alerts@localhost";
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	const char *body = al->body;
	size_t cap = strlen(body) + 1024;
	char *msg = xmalloc(cap);
	/* Auto-Submitted (RFC 3834): no auto-reply to an alert; the
	 * Message-ID is unique per campaign, time and process */
	const char *at = strchr(from, '@');
	const char *host = at ? at + 1 : "localhost";
	int n = snprintf(msg, cap,
			 "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n"
			 "Message-ID: <alert-%lld-%lld-%ld@%s>\r\n"
			 "Auto-Submitted: auto-generated\r\n"
			 "Subject: [shield] campaign %lld: %ld reports%s%s\r\n"
			 "MIME-Version: 1.0\r\nContent-Type: application/json; charset=utf-8\r\n"
			 "\r\n%s\r\n",
			 from, to, date, (long long)al->campaign_id, (long long)now, (long)getpid(),
			 host, (long long)al->campaign_id, al->reports, al->brand ? ", brand " : "",
			 al->brand && !strpbrk(al->brand, "\r\n") ? al->brand : "", body);
	/* an alert is worth little late: 2 s to connect, 10 s in all */
	struct smtp_opts so = {url, from, 2000, 10000, 0};
	int rc = smtp_send(cu, &so, to, msg, n > 0 ? (size_t)n : 0, why, whysz) == SMTP_OK ? 0 : -1;
	free(msg);
	return rc;
}

void alerter_queue(struct alerter *a, const struct calert *al)
{
	char first[32];
	iso(al->first_seen, first);
	/* one write of the whole line: stderr is unbuffered, and a character
	 * at a time cost more than the clustering of the report */
	char line[1200];
	size_t o = (size_t)snprintf(
	    line, sizeof line,
	    "shield: alert: campaign %lld reached %ld reports (%d within %d minutes, %.1f/h),"
	    " brand %.128s, first seen %s",
	    (long long)al->campaign_id, al->reports, al->window_reports, al->window_minutes,
	    al->per_hour, al->brand ? al->brand : "unknown", first);
	if (o >= sizeof line)
		o = sizeof line - 1;
	for (int i = 0; i < al->nindicators && i < 3; i++) {
		const char *sep = i ? ", " : "; block ";
		for (; *sep && o + 1 < sizeof line; sep++)
			line[o++] = *sep;
		/* indicators come from reports: no control bytes on the log */
		for (const char *p = al->indicators[i];
		     *p && p - al->indicators[i] < 200 && o + 1 < sizeof line; p++)
			line[o++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
	}
	line[o++] = '\n';
	if (a->nq == a->capq) {
		a->capq = a->capq ? 2 * a->capq : 8;
		a->q = xrealloc(a->q, a->capq * sizeof *a->q);
	}
	struct pending *p = &a->q[a->nq++];
	p->line = xmalloc(o);
	memcpy(p->line, line, o);
	p->len = o;
	p->body = a->webhook || a->email ? alert_json(al) : NULL;
	p->campaign_id = al->campaign_id;
	p->reports = al->reports;
	p->brand = al->brand ? xstrdup(al->brand) : NULL;
}

/* resting - 1 (and a warning naming the alert) when channel what is
 * resting after a failure. */
static int resting(const struct rest *r, const char *what, int64_t campaign_id)
{
	double left = r->until - clock_now();
	if (left <= 0)
		return 0;
	fprintf(stderr,
		"shield: warning: not sending the alert of campaign %lld to the %s: it failed"
		" %.0f s ago, tried again in %.0f s\n",
		(long long)campaign_id, what, r->last - left, left);
	return 1;
}

/* rest_after - record one delivery's outcome on its channel; the message
 * suffix says how long it now rests. */
static const char *rest_after(struct rest *r, int failed, char *buf, size_t bufsz)
{
	if (!failed) {
		r->until = r->last = 0;
		return "";
	}
	r->last = r->last > 0 ? r->last * 2 : DOWN_FIRST_S;
	if (r->last > DOWN_MAX_S)
		r->last = DOWN_MAX_S;
	r->until = clock_now() + r->last;
	snprintf(buf, bufsz, " (alerts of the next %.0f s skip it)", r->last);
	return buf;
}

/* deliver - the log line, then the configured channels that are not
 * resting. 0 when every configured channel took the alert. */
static int deliver(struct alerter *a, const struct pending *p)
{
	fwrite(p->line, 1, p->len, stderr);
	if (!p->body)
		return 0;
	int rc = 0;
	char why[256];
	if (!a->curl.dl) {
		fprintf(stderr, "shield: warning: cannot send the alert of campaign %lld: %s\n",
			(long long)p->campaign_id, a->curl_err);
		return -1;
	}
	char rested[64];
	if (a->webhook && resting(&a->web_rest, "webhook", p->campaign_id)) {
		rc = -1;
	} else if (a->webhook) {
		int bad = post_webhook(&a->curl, a->webhook, p->body, why, sizeof why) < 0;
		const char *note = rest_after(&a->web_rest, bad, rested, sizeof rested);
		if (bad) {
			fprintf(stderr,
				"shield: warning: cannot deliver the alert of campaign %lld to the"
				" webhook: %s%s\n",
				(long long)p->campaign_id, why, note);
			rc = -1;
		}
	}
	if (a->email && resting(&a->mail_rest, "e-mail address", p->campaign_id)) {
		rc = -1;
	} else if (a->email) {
		int bad = send_mail(&a->curl, a->email, p, why, sizeof why) < 0;
		const char *note = rest_after(&a->mail_rest, bad, rested, sizeof rested);
		if (bad) {
			fprintf(stderr,
				"shield: warning: cannot e-mail the alert of campaign %lld to '%s':"
				" %s%s\n",
				(long long)p->campaign_id, a->email, why, note);
			rc = -1;
		}
	}
	return rc;
}

int alerter_deliver(struct alerter *a)
{
	int failed = 0;
	for (size_t i = 0; a && i < a->nq; i++) {
		failed += deliver(a, &a->q[i]) < 0;
		pending_free(&a->q[i]);
	}
	if (a)
		a->nq = 0;
	return failed;
}
