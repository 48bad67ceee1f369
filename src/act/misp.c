/*
 * misp.c - one MISP event per group and the MISP feed directory
 * (misp-core-format; see share.h). Attribute categories and types follow
 * PyMISP describeTypes.json; numbers are JSON strings as the format asks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act/act.h"
#include "act/redact.h"
#include "act/share.h"
#include "act/strmap.h"
#include "common/xalloc.h"

/* Shield's namespace for UUIDv5 of MISP and STIX objects. */
#define SHIELD_NS "6f1b2a3c-5d4e-5f60-8a7b-9c0d1e2f3a4b"
/* MISP object template "email" (misp-objects/objects/email). */
#define EMAIL_TEMPLATE "a0c666e0-fc65-4be8-b48f-3423d788b552"

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_t *tags(const char *tlp, int phishing)
{
	char t[64];
	snprintf(t, sizeof t, "tlp:%s", tlp);
	json_t *a = json_array();
	json_array_append_new(a, json_pack("{s:s}", "name", t));
	if (phishing)
		json_array_append_new(a, json_pack("{s:s}", "name", "rsit:fraud=\"phishing\""));
	return a;
}

struct ev {
	const struct share_opts *o;
	char uuid[37];
	json_t *attrs;
	struct strmap seen;
	const char *ts;
};

static void attr(struct ev *e, const char *type, const char *category, const char *value,
		 int to_ids, const char *comment)
{
	if (!value || !*value)
		return;
	char key[4096];
	snprintf(key, sizeof key, "%s|%s", type, value);
	if (strmap_get(&e->seen, key))
		return;
	strmap_put(&e->seen, key, e, NULL);
	char id[37], name[4200];
	int n = snprintf(name, sizeof name, "%s|attribute|%s", e->uuid, key);
	share_uuid5(SHIELD_NS, name, (size_t)n, id);
	json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:o}", "uuid", id, "type", type,
			      "category", category, "value", value, "to_ids", to_ids, "timestamp",
			      e->ts, "distribution", "5", "Tag", tags(e->o->tlp, 0));
	if (a && comment)
		json_object_set_new(a, "comment", json_string(comment));
	if (a)
		json_array_append_new(e->attrs, a);
}

static void obj_attr(json_t *arr, const char *evuuid, const char *rel, const char *type,
		     const char *category, const char *value, const char *ts, const char *tlp,
		     int to_ids)
{
	if (!value || !*value)
		return;
	char id[37], name[4200];
	int n = snprintf(name, sizeof name, "%s|%s|%s", evuuid, rel, value);
	share_uuid5(SHIELD_NS, name, (size_t)n, id);
	json_t *a =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:o}", "uuid", id,
		      "object_relation", rel, "type", type, "category", category, "value", value,
		      "to_ids", to_ids, "timestamp", ts, "distribution", "5", "Tag", tags(tlp, 0));
	if (a)
		json_array_append_new(arr, a);
}

/* sample - the attributes and the email object of one report. */
static json_t *sample(struct ev *e, json_t *rep, size_t idx)
{
	struct redactor v;
	redact_init(&v);
	redact_add_victim(&v, jstr(rep, "reporter"));
	redact_add_victim(&v, jstr(rep, "to"));
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(rep, "urls"), i, x)
	{
		const char *fi = jstr(x, "found_in");
		if (fi && (!strcmp(fi, "html:src") || !strcmp(fi, "html:srcset") ||
			   !strcmp(fi, "html:css")))
			continue;
		char *u = redact_url_share(&v, jstr(x, "url"));
		attr(e, "url", "Network activity", u, 1, "link in the phishing message");
		free(u);
		const char *host = jstr(x, "host"), *reg = jstr(x, "registrable_domain");
		if (host && reg) {
			char *h = redact_text(&v, host);
			if (!strstr(h, "[REDACTED]"))
				attr(e, strcmp(host, reg) ? "hostname" : "domain",
				     "Network activity", h, 1, NULL);
			free(h);
		}
	}
	json_array_foreach(json_object_get(rep, "ips"), i, x)
	{
		const char *fi = jstr(x, "found_in");
		if (fi && !strcmp(fi, "url"))
			attr(e, "ip-dst", "Network activity", jstr(x, "value"), 1, "link target");
	}
	attr(e, "ip-src", "Network activity", jstr(rep, "origin_ip"), 0,
	     "first sending hop outside the recipient's provider");
	const char *senders[][2] = {{"from", "email-src"},
				    {"sender", "email-src"},
				    {"return_path", "email-src"},
				    {"reply_to", "email-reply-to"}};
	for (size_t k = 0; k < sizeof senders / sizeof *senders; k++) {
		const char *s = jstr(rep, senders[k][0]);
		if (s && !redact_is_victim(&v, s))
			attr(e, senders[k][1], "Payload delivery", s, 1, NULL);
	}
	char *subject = redact_text(&v, jstr(rep, "subject"));
	attr(e, "email-subject", "Payload delivery", subject, 0, NULL);
	json_t *oattrs = json_array();
	char id[37], name[600];
	int n = snprintf(name, sizeof name, "%s|email|%s", e->uuid,
			 jstr(rep, "message_sha256") ? jstr(rep, "message_sha256") : "");
	share_uuid5(SHIELD_NS, name, (size_t)n, id);
	const char *from = jstr(rep, "from");
	if (from && !redact_is_victim(&v, from))
		obj_attr(oattrs, id, "from", "email-src", "Payload delivery", from, e->ts,
			 e->o->tlp, 1);
	const char *rt = jstr(rep, "reply_to");
	if (rt && !redact_is_victim(&v, rt))
		obj_attr(oattrs, id, "reply-to", "email-reply-to", "Payload delivery", rt, e->ts,
			 e->o->tlp, 1);
	obj_attr(oattrs, id, "subject", "email-subject", "Payload delivery", subject, e->ts,
		 e->o->tlp, 0);
	char *mid = redact_text(&v, jstr(rep, "message_id"));
	obj_attr(oattrs, id, "message-id", "email-message-id", "Payload delivery", mid, e->ts,
		 e->o->tlp, 0);
	free(mid);
	free(subject);
	json_array_foreach(json_object_get(rep, "attachments"), i, x)
	{
		const char *sha = jstr(x, "sha256");
		char *fname = redact_text(&v, jstr(x, "name"));
		attr(e, "sha256", "Payload delivery", sha, 1, fname ? fname : "attachment");
		obj_attr(oattrs, id, "attachment", "email-attachment", "Payload delivery", fname,
			 e->ts, e->o->tlp, 0);
		free(fname);
	}
	redact_release(&v);
	(void)idx;
	if (json_array_size(oattrs) == 0) {
		json_decref(oattrs);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "uuid", id, "name", "email",
			 "meta-category", "network", "description",
			 "Email object describing an email with meta-information", "template_uuid",
			 EMAIL_TEMPLATE, "template_version", "17", "timestamp", e->ts, "Attribute",
			 oattrs);
}

/* group_times - earliest and latest stored_at of the group's reports. */
static void group_times(const struct share_group *g, int64_t *first, int64_t *last)
{
	size_t i;
	json_t *r;
	*first = *last = 0;
	json_array_foreach(g->reports, i, r)
	{
		int64_t t = act_parse_iso(jstr(r, "stored_at"));
		if (t && (!*first || t < *first))
			*first = t;
		if (t > *last)
			*last = t;
	}
}

static void org_uuid(const struct share_opts *o, char out[37])
{
	char name[300];
	int n = snprintf(name, sizeof name, "organisation|%s", o->org_name);
	share_uuid5(SHIELD_NS, name, (size_t)n, out);
}

json_t *share_misp_event(const struct share_opts *o, const struct share_group *g)
{
	struct ev e = {.o = o};
	char name[300], ts[32], date[16], org[37], iso[32];
	int n = snprintf(name, sizeof name, "misp-event|%s", g->key);
	share_uuid5(SHIELD_NS, name, (size_t)n, e.uuid);
	int64_t first, last;
	group_times(g, &first, &last);
	snprintf(ts, sizeof ts, "%lld", (long long)last);
	act_iso(first, iso);
	snprintf(date, sizeof date, "%.10s", iso[0] ? iso : "1970-01-01");
	e.ts = ts;
	e.attrs = json_array();
	strmap_init(&e.seen);
	json_t *objs = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(g->reports, i, r)
	{
		json_t *ob = sample(&e, r, i);
		if (ob)
			json_array_append_new(objs, ob);
	}
	strmap_release(&e.seen);
	org_uuid(o, org);
	json_t *ev =
	    json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:o, s:o}",
		      "uuid", e.uuid, "info", g->title, "published", 0, "date", date, "timestamp",
		      ts, "publish_timestamp", ts, "distribution", "1", "threat_level_id", "2",
		      "analysis", "2", "Orgc", "name", o->org_name, "uuid", org, "Tag",
		      tags(o->tlp, 1), "Attribute", e.attrs, "Object", objs);
	return json_pack("{s:o}", "Event", ev);
}

static int write_json(const char *path, json_t *j, char **err)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (json_dump_file(j, tmp, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 ||
	    rename(tmp, path) != 0) {
		char m[4300];
		snprintf(m, sizeof m, "cannot write '%s'", path);
		*err = xstrdup(m);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int share_misp_feed(const struct share_opts *o, const struct share_group *g, size_t n,
		    const char *dir, char **err)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		char m[4300];
		snprintf(m, sizeof m, "cannot create feed directory '%s': %s", dir,
			 strerror(errno));
		*err = xstrdup(m);
		return -1;
	}
	json_t *manifest = json_object();
	char path[4096];
	snprintf(path, sizeof path, "%s/hashes.csv", dir);
	char tmpcsv[4200];
	snprintf(tmpcsv, sizeof tmpcsv, "%s.tmp", path);
	FILE *csv = fopen(tmpcsv, "w");
	if (!csv) {
		json_decref(manifest);
		*err = xstrdup("cannot write hashes.csv");
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *doc = share_misp_event(o, &g[i]);
		json_t *ev = json_object_get(doc, "Event");
		const char *uuid = jstr(ev, "uuid");
		snprintf(path, sizeof path, "%s/%s.json", dir, uuid);
		rc = write_json(path, doc, err);
		json_object_set_new(
		    manifest, uuid,
		    json_pack("{s:O, s:O, s:s, s:s, s:s, s:s, s:O}", "Orgc",
			      json_object_get(ev, "Orgc"), "Tag", json_object_get(ev, "Tag"),
			      "info", jstr(ev, "info"), "date", jstr(ev, "date"), "analysis",
			      jstr(ev, "analysis"), "threat_level_id", jstr(ev, "threat_level_id"),
			      "timestamp", json_object_get(ev, "timestamp")));
		size_t k;
		json_t *a;
		json_array_foreach(json_object_get(ev, "Attribute"), k, a)
		{
			char md5[33];
			share_md5_hex(jstr(a, "value"), md5);
			fprintf(csv, "%s,%s\n", md5, uuid);
		}
		json_decref(doc);
	}
	snprintf(path, sizeof path, "%s/hashes.csv", dir);
	if (fclose(csv) != 0 || (rc == 0 && rename(tmpcsv, path) != 0)) {
		if (rc == 0)
			*err = xstrdup("cannot write hashes.csv");
		rc = -1;
	}
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	if (rc == 0)
		rc = write_json(path, manifest, err);
	json_decref(manifest);
	return rc;
}
