/*
 * reports.c - reports and blocklist hosts as IP events (see reports.h).
 */
#include "feed/reports.h"

#include <jansson.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/xalloc.h"
#include "enrich/asn.h"
#include "mail/headers.h"
#include "store/store.h"
#include "store/store_act.h"
#include "store/store_notify.h"

static struct feed_event *push(struct feed_event **v, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	struct feed_event *e = &(*v)[(*n)++];
	memset(e, 0, sizeof *e);
	return e;
}

/* public_ip - text (maybe "[v6]") to an address when it is a public one */
static int public_ip(const char *s, size_t n, struct asn_ip *ip)
{
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	char canon[46];
	memset(ip, 0, sizeof *ip); /* compared with memcmp */
	if (!ip_parse(s, n, canon) || !ip_is_public(canon))
		return 0;
	return asn_parse_ip(canon, strlen(canon), ip) == 0;
}

static int malicious(const char *verdict)
{
	static const char *const bad[] = {"phishing", "malware", "scam", "spam"};
	for (size_t i = 0; verdict && i < sizeof bad / sizeof *bad; i++)
		if (!strcmp(verdict, bad[i]))
			return 1;
	return 0;
}

struct rctx {
	struct feed_report_events *out;
};

static int one_report(void *ctx, const struct report_event_row *r)
{
	struct feed_report_events *o = ((struct rctx *)ctx)->out;
	if (!o->from)
		o->from = r->id;
	o->to = r->id;
	o->reports++;
	if (!malicious(r->verdict))
		return 0;
	o->malicious++;
	int64_t t;
	if (feed_parse_time(r->created_at, strlen(r->created_at), &t))
		return 0; /* written by the store: cannot happen */
	int used = 0;
	struct asn_ip ip;
	if (r->origin_ip && public_ip(r->origin_ip, strlen(r->origin_ip), &ip)) {
		struct feed_event *e = push(&o->v, &o->n, &o->cap);
		e->time = t;
		e->ip = ip;
		snprintf(e->type, sizeof e->type, "%s-origin", r->verdict);
		used++;
	}
	json_t *j = json_loads(r->json, 0, NULL);
	json_t *urls = json_object_get(j, "urls");
	size_t i;
	json_t *u;
	json_array_foreach(urls, i, u)
	{
		const char *host = json_string_value(json_object_get(u, "host"));
		if (!host || !public_ip(host, strlen(host), &ip))
			continue;
		if (used >= FEED_REPORT_MAX_IPS) {
			o->capped++;
			continue;
		}
		/* one event per distinct address of the report */
		int seen = 0;
		for (size_t k = o->n - (size_t)used; k < o->n && !seen; k++)
			seen = !memcmp(&o->v[k].ip, &ip, sizeof ip) &&
			       strstr(o->v[k].type, "-url") != NULL;
		if (seen)
			continue;
		struct feed_event *e = push(&o->v, &o->n, &o->cap);
		e->time = t;
		e->ip = ip;
		snprintf(e->type, sizeof e->type, "%s-url", r->verdict);
		used++;
	}
	json_decref(j);
	return 0;
}

int feed_reports_read(struct store *st, int64_t after, struct feed_report_events *out, char *why,
		      size_t whylen)
{
	memset(out, 0, sizeof *out);
	struct rctx c = {out};
	if (store_reports_after(st, after, one_report, &c) != STORE_OK) {
		snprintf(why, whylen, "reading reports: %s", store_notify_errmsg(st));
		return -1;
	}
	return 0;
}

void feed_report_events_free(struct feed_report_events *e)
{
	free(e->v);
	memset(e, 0, sizeof *e);
}

/* ---- blocklist host names, resolved ---- */

struct lctx {
	struct feed_listing_events *out;
	int64_t since;
	char **seen; /* host names looked up in this run */
	size_t nseen;
};

/* url_host - the host of an http(s) URL into out; 0 when there is none */
static int url_host(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://");
	if (!p)
		return 0;
	p += 3;
	size_t n = strcspn(p, "/?#");
	const char *at = memchr(p, '@', n); /* userinfo */
	if (at) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	if (n && p[0] != '[') { /* a port, not an IPv6 literal's colons */
		const char *colon = memchr(p, ':', n);
		if (colon)
			n = (size_t)(colon - p);
	}
	if (n == 0 || n >= cap)
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

static void resolve_host(struct lctx *c, const char *host, int64_t t)
{
	struct feed_listing_events *o = c->out;
	for (size_t i = 0; i < c->nseen; i++)
		if (!strcasecmp(c->seen[i], host))
			return;
	if (o->hosts >= FEED_MAX_RESOLVE) {
		o->capped++;
		return;
	}
	c->seen = xrealloc(c->seen, (c->nseen + 1) * sizeof *c->seen);
	c->seen[c->nseen++] = xstrdup(host);
	o->hosts++;
	struct asn_ip ip;
	int got = 0;
	if (public_ip(host, strlen(host), &ip)) { /* a listed URL on an IP */
		struct feed_event *e = push(&o->v, &o->n, &o->cap);
		e->time = t;
		e->ip = ip;
		snprintf(e->type, sizeof e->type, "phishing-site");
		return;
	}
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) == 0) {
		for (struct addrinfo *a = res; a && got < FEED_RESOLVE_ADDRS; a = a->ai_next) {
			char txt[NI_MAXHOST];
			if (getnameinfo(a->ai_addr, a->ai_addrlen, txt, sizeof txt, NULL, 0,
					NI_NUMERICHOST) ||
			    !public_ip(txt, strlen(txt), &ip))
				continue;
			int dup = 0;
			for (size_t k = o->n - (size_t)got; k < o->n && !dup; k++)
				dup = !memcmp(&o->v[k].ip, &ip, sizeof ip);
			if (dup)
				continue;
			struct feed_event *e = push(&o->v, &o->n, &o->cap);
			e->time = t;
			e->ip = ip;
			snprintf(e->type, sizeof e->type, "phishing-site");
			got++;
		}
		freeaddrinfo(res);
	}
	if (!got)
		o->unresolved++;
}

static int one_listing(void *ctx, const struct listing_row *r)
{
	struct lctx *c = ctx;
	if (r->delisted_at || r->last_seen <= c->since)
		return 0;
	struct feed_listing_events *o = c->out;
	if (!o->from || r->last_seen < o->from)
		o->from = r->last_seen;
	if (r->last_seen > o->to)
		o->to = r->last_seen;
	char host[256];
	if (!strcmp(r->level, "url")) {
		if (!url_host(r->value, host, sizeof host))
			return 0;
	} else {
		snprintf(host, sizeof host, "%s", r->value);
	}
	resolve_host(c, host, r->last_seen);
	return 0;
}

int feed_listings_resolve(struct store *st, int64_t since, struct feed_listing_events *out,
			  char *why, size_t whylen)
{
	memset(out, 0, sizeof *out);
	if (store_act_migrate(st) < 0) {
		snprintf(why, whylen, "%s", store_errmsg(st));
		return -1;
	}
	struct lctx c = {out, since, NULL, 0};
	int rc = store_act_listings_each(st, 1, one_listing, &c);
	for (size_t i = 0; i < c.nseen; i++)
		free(c.seen[i]);
	free(c.seen);
	if (rc < 0) {
		snprintf(why, whylen, "reading the blocklist: %s", store_act_errmsg(st));
		return -1;
	}
	return 0;
}

void feed_listing_events_free(struct feed_listing_events *e)
{
	free(e->v);
	memset(e, 0, sizeof *e);
}
