/*
 * stix.c - a STIX 2.1 bundle of the groups (see share.h): the sharing
 * identity, the TLP 2.0 marking definition, one campaign per group,
 * indicators with STIX patterns, the observables they are based on
 * (url, domain-name, ipv4-addr, email-addr, file, email-message) and the
 * relationships (indicator indicates campaign, indicator based-on
 * observable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/act.h"
#include "act/redact.h"
#include "act/share.h"
#include "act/strmap.h"
#include "common/buf.h"
#include "common/xalloc.h"

#define SHIELD_NS "6f1b2a3c-5d4e-5f60-8a7b-9c0d1e2f3a4b"
/* STIX 2.1 section 2.9: namespace of deterministic observable ids. */
#define STIX_SCO_NS "00abedb4-aa42-466c-9c01-fed23315a9b7"
/* TLP 2.0 marking definitions (OASIS TLP 2.0 extension). */
#define TLP_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define TLP_IDENTITY "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01"

static const struct {
	const char *level, *name, *id;
} tlp2[] = {
    {"clear", "TLP:CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
    {"green", "TLP:GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
    {"amber", "TLP:AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"},
    {"amber+strict", "TLP:AMBER+STRICT",
     "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
    {"red", "TLP:RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
};

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

struct bundle {
	json_t *objs;
	struct strmap seen;
	const char *marking;
	const char *identity;
	char created[32];
};

static void stix_time(int64_t t, char out[32])
{
	char iso[32];
	act_iso(t ? t : 1, iso);
	/* RFC 3339 with millisecond precision */
	snprintf(out, 32, "%.19s.000Z", iso);
}

/* sdo_id - type--uuid5(Shield ns, what). */
static void sdo_id(const char *type, const char *what, char out[128])
{
	char u[37];
	share_uuid5(SHIELD_NS, what, strlen(what), u);
	snprintf(out, 128, "%s--%s", type, u);
}

/* sco_id - type--uuid5(STIX ns, canonical JSON of the contributing
 * properties); props is an object whose keys jansson sorts. */
static void sco_id(const char *type, json_t *props, char out[128])
{
	char *c = json_dumps(props, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	char u[37];
	share_uuid5(STIX_SCO_NS, c, strlen(c), u);
	free(c);
	snprintf(out, 128, "%s--%s", type, u);
}

static void marks(struct bundle *b, json_t *o)
{
	json_object_set_new(o, "object_marking_refs", json_pack("[s]", b->marking));
}

static int add_once(struct bundle *b, const char *id, json_t *o)
{
	if (strmap_get(&b->seen, id)) {
		json_decref(o);
		return 0;
	}
	strmap_put(&b->seen, id, b, NULL);
	json_array_append_new(b->objs, o);
	return 1;
}

/* pattern_str - s quoted for a STIX pattern ('...' with \\ and \'). */
static void pattern_str(struct buf *p, const char *s)
{
	buf_addc(p, '\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			buf_addc(p, '\\');
		buf_addc(p, *s);
	}
	buf_addc(p, '\'');
}

static void relate(struct bundle *b, const char *type, const char *src, const char *dst)
{
	char what[400], id[128];
	snprintf(what, sizeof what, "relationship|%s|%s|%s", type, src, dst);
	sdo_id("relationship", what, id);
	json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
			      "relationship", "spec_version", "2.1", "id", id, "created",
			      b->created, "modified", b->created, "relationship_type", type,
			      "source_ref", src, "target_ref", dst, "created_by_ref", b->identity);
	marks(b, r);
	add_once(b, id, r);
}

/* observable - the SCO and its indicator; returns the SCO id in out. */
static void observable(struct bundle *b, const char *campaign, const char *type, const char *prop,
		       const char *value, const char *name, char sco[128])
{
	json_t *props;
	if (strcmp(type, "file") == 0)
		props = json_pack("{s:{s:s}}", "hashes", "SHA-256", value);
	else
		props = json_pack("{s:s}", "value", value);
	if (!props) /* not valid UTF-8 */
		return;
	sco_id(type, props, sco);
	json_t *o = json_deep_copy(props);
	json_decref(props);
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "spec_version", json_string("2.1"));
	json_object_set_new(o, "id", json_string(sco));
	marks(b, o);
	add_once(b, sco, o);

	struct buf p = BUF_INIT(1 << 20);
	buf_printf(&p, "[%s:%s = ", type, prop);
	pattern_str(&p, value);
	buf_addc(&p, ']');
	char what[300], ind[128];
	snprintf(what, sizeof what, "indicator|%s", sco);
	sdo_id("indicator", what, ind);
	json_t *i = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s}", "type",
			      "indicator", "spec_version", "2.1", "id", ind, "created", b->created,
			      "modified", b->created, "name", name, "pattern", p.data,
			      "pattern_type", "stix", "valid_from", b->created, "indicator_types",
			      "malicious-activity", "created_by_ref", b->identity);
	buf_release(&p);
	if (!i)
		return;
	marks(b, i);
	add_once(b, ind, i);
	relate(b, "indicates", ind, campaign);
	relate(b, "based-on", ind, sco);
}

static void group(struct bundle *b, const struct share_group *g)
{
	int64_t first = 0, last = 0;
	size_t i;
	json_t *r;
	json_array_foreach(g->reports, i, r)
	{
		int64_t t = act_parse_iso(jstr(r, "stored_at"));
		if (t && (!first || t < first))
			first = t;
		if (t > last)
			last = t;
	}
	char fs[32], ls[32], cid[128], what[300];
	stix_time(first, fs);
	stix_time(last, ls);
	snprintf(what, sizeof what, "campaign|%s", g->key);
	sdo_id("campaign", what, cid);
	json_t *c = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "campaign",
	    "spec_version", "2.1", "id", cid, "created", b->created, "modified", b->created, "name",
	    g->title, "first_seen", fs, "last_seen", ls, "objective",
	    "credential theft and fraud by phishing e-mail", "created_by_ref", b->identity);
	marks(b, c);
	add_once(b, cid, c);
	json_array_foreach(g->reports, i, r)
	{
		struct redactor v;
		redact_init(&v);
		redact_add_victim(&v, jstr(r, "reporter"));
		redact_add_victim(&v, jstr(r, "to"));
		char sco[128];
		size_t k;
		json_t *x;
		json_array_foreach(json_object_get(r, "urls"), k, x)
		{
			const char *fi = jstr(x, "found_in");
			if (fi && (!strcmp(fi, "html:src") || !strcmp(fi, "html:srcset") ||
				   !strcmp(fi, "html:css")))
				continue;
			char *u = redact_url_share(&v, jstr(x, "url"));
			if (u)
				observable(b, cid, "url", "value", u, "phishing URL", sco);
			free(u);
			const char *host = jstr(x, "host");
			if (host && jstr(x, "registrable_domain")) {
				char *h = redact_text(&v, host);
				if (!strstr(h, "[REDACTED]"))
					observable(b, cid, "domain-name", "value", h,
						   "phishing host", sco);
				free(h);
			}
		}
		json_array_foreach(json_object_get(r, "ips"), k, x)
		{
			const char *fi = jstr(x, "found_in"), *ip = jstr(x, "value");
			if (fi && !strcmp(fi, "url") && ip && !strchr(ip, ':'))
				observable(b, cid, "ipv4-addr", "value", ip, "phishing link IP",
					   sco);
		}
		const char *from = jstr(r, "from");
		char from_ref[128] = "";
		if (from && !redact_is_victim(&v, from)) {
			observable(b, cid, "email-addr", "value", from, "phishing sender", sco);
			snprintf(from_ref, sizeof from_ref, "%s", sco);
		}
		const char *rt = jstr(r, "reply_to");
		if (rt && !redact_is_victim(&v, rt))
			observable(b, cid, "email-addr", "value", rt, "phishing reply-to", sco);
		json_array_foreach(json_object_get(r, "attachments"), k, x)
		{
			const char *sha = jstr(x, "sha256");
			if (sha)
				observable(b, cid, "file", "hashes.'SHA-256'", sha,
					   "phishing attachment", sco);
		}
		/* the sample itself, without body or recipients */
		char *subject = redact_text(&v, jstr(r, "subject"));
		json_t *props = json_object();
		if (from_ref[0])
			json_object_set_new(props, "from_ref", json_string(from_ref));
		if (subject)
			json_object_set_new(props, "subject", json_string(subject));
		char mid[128];
		sco_id("email-message", props, mid);
		json_object_set_new(props, "type", json_string("email-message"));
		json_object_set_new(props, "spec_version", json_string("2.1"));
		json_object_set_new(props, "id", json_string(mid));
		json_object_set_new(props, "is_multipart", json_false());
		marks(b, props);
		add_once(b, mid, props);
		free(subject);
		redact_release(&v);
	}
}

json_t *share_stix_bundle(const struct share_opts *o, const struct share_group *g, size_t n)
{
	struct bundle b = {.objs = json_array()};
	strmap_init(&b.seen);
	size_t t = 0;
	for (size_t i = 0; i < sizeof tlp2 / sizeof *tlp2; i++)
		if (strcmp(o->tlp, tlp2[i].level) == 0)
			t = i;
	b.marking = tlp2[t].id;
	int64_t first = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k;
		json_t *r;
		json_array_foreach(g[i].reports, k, r)
		{
			int64_t x = act_parse_iso(jstr(r, "stored_at"));
			if (x && (!first || x < first))
				first = x;
		}
	}
	stix_time(first, b.created);
	char ident[128], what[300];
	snprintf(what, sizeof what, "identity|%s", o->org_name);
	sdo_id("identity", what, ident);
	b.identity = ident;
	json_t *md = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:{s:s, s:s}}}", "type",
			       "marking-definition", "spec_version", "2.1", "id", tlp2[t].id,
			       "created", "2022-10-01T00:00:00.000Z", "name", tlp2[t].name,
			       "created_by_ref", TLP_IDENTITY, "extensions", TLP_EXT,
			       "extension_type", "property-extension", "tlp_2_0", tlp2[t].level);
	add_once(&b, tlp2[t].id, md);
	json_t *id = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type", "identity",
			       "spec_version", "2.1", "id", ident, "created", b.created, "modified",
			       b.created, "name", o->org_name, "identity_class", "organization",
			       "sectors", "government");
	marks(&b, id);
	add_once(&b, ident, id);
	struct buf keys = BUF_INIT(1 << 24);
	for (size_t i = 0; i < n; i++) {
		group(&b, &g[i]);
		buf_adds(&keys, g[i].key);
		buf_addc(&keys, '|');
	}
	char bid[128];
	snprintf(what, sizeof what, "bundle|%s", keys.data ? keys.data : "");
	sdo_id("bundle", what, bid);
	buf_release(&keys);
	strmap_release(&b.seen);
	return json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", bid, "objects", b.objs);
}
