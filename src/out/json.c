/*
 * json.c - serialise a result (see json.h and docs/json-schema.md).
 * Absent values are JSON null, so every key is always present and
 * consumers need not test for missing keys.
 */
#include "out/json.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* json_string rejects invalid UTF-8; attacker text may be anything, so fall
 * back to a lossy copy rather than dropping the field. */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	size_t n = strlen(s);
	char *c = malloc(n + 1);
	if (!c)
		return json_null();
	for (size_t i = 0; i <= n; i++)
		c[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
	j = json_string(c);
	free(c);
	return j ? j : json_null();
}

static json_t *inds(const struct ind *v, size_t n, int with_reg)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, with_reg ? "domain" : "value", jstr(v[i].value));
		if (with_reg)
			json_object_set_new(o, "registrable_domain", str_or_null(v[i].reg_domain));
		json_object_set_new(o, "found_in", jstr(v[i].found_in));
		json_array_append_new(a, o);
	}
	return a;
}

json_t *result_to_json(const struct result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "source", jstr(r->source));
	if (r->source_index >= 0)
		json_object_set_new(o, "source_index", json_integer(r->source_index));
	json_object_set_new(o, "suspect_index", json_integer(r->suspect_index));
	json_object_set_new(o, "forward", json_string(r->forward));
	json_object_set_new(o, "forward_style", str_or_null(r->forward_style));
	json_object_set_new(o, "reporter", jstr(r->reporter));
	json_object_set_new(o, "from", jstr(r->from));
	json_object_set_new(o, "from_name", jstr(r->from_name));
	json_object_set_new(o, "reply_to", jstr(r->reply_to));
	json_object_set_new(o, "return_path", jstr(r->return_path));
	json_object_set_new(o, "sender", jstr(r->sender));
	json_object_set_new(o, "to", jstr(r->to));
	json_object_set_new(o, "subject", jstr(r->subject));
	json_object_set_new(o, "date", jstr(r->date));
	json_object_set_new(o, "message_id", jstr(r->message_id));
	json_object_set_new(o, "message_sha256", json_string(r->msg_sha256));
	json_object_set_new(o, "message_size", json_integer((json_int_t)r->msg_size));

	json_t *urls = json_array();
	for (size_t i = 0; i < r->urls.n; i++) {
		const struct ind_url *u = &r->urls.v[i];
		json_t *j = json_object();
		json_object_set_new(j, "url", jstr(u->url));
		json_object_set_new(j, "host", jstr(u->host));
		json_object_set_new(j, "host_unicode", jstr(u->host_unicode));
		json_object_set_new(j, "registrable_domain", str_or_null(u->reg_domain));
		json_object_set_new(j, "found_in", jstr(u->found_in));
		json_object_set_new(j, "text", jstr(u->text));
		json_array_append_new(urls, j);
	}
	json_object_set_new(o, "urls", urls);
	json_object_set_new(o, "domains", inds(r->domains.v, r->domains.n, 1));
	json_object_set_new(o, "ips", inds(r->ips.v, r->ips.n, 0));
	json_object_set_new(o, "emails", inds(r->emails.v, r->emails.n, 0));

	json_t *atts = json_array();
	for (size_t i = 0; i < r->attachments.n; i++) {
		const struct attachment *a = &r->attachments.v[i];
		json_t *j = json_object();
		json_object_set_new(j, "name", jstr(a->name));
		json_object_set_new(j, "declared_type", jstr(a->declared_type));
		json_object_set_new(j, "true_type", jstr(a->true_type));
		json_object_set_new(j, "size", json_integer((json_int_t)a->size));
		json_object_set_new(j, "sha256", json_string(a->sha256));
		if (a->entries) {
			json_t *e = json_array();
			for (size_t k = 0; k < a->n_entries; k++)
				json_array_append_new(e, jstr(a->entries[k]));
			json_object_set_new(j, "archive_entries", e);
			json_object_set_new(j, "archive_truncated",
					    json_boolean(a->entries_truncated));
			json_object_set_new(j, "archive_encrypted", json_boolean(a->encrypted));
		}
		json_array_append_new(atts, j);
	}
	json_object_set_new(o, "attachments", atts);

	json_t *hops = json_array();
	for (size_t i = 0; i < r->received.n; i++) {
		const struct hop *h = &r->received.v[i];
		json_t *j = json_object();
		json_object_set_new(j, "from", jstr(h->from));
		json_object_set_new(j, "by", jstr(h->by));
		json_object_set_new(j, "ip", jstr(h->ip));
		json_object_set_new(j, "with", jstr(h->with));
		json_object_set_new(j, "date", jstr(h->date));
		json_array_append_new(hops, j);
	}
	json_object_set_new(o, "received", hops);
	json_object_set_new(o, "origin_ip", jstr(r->origin_ip));

	json_t *auth = json_object();
	json_object_set_new(auth, "spf", jstr(r->auth_spf));
	json_object_set_new(auth, "dkim", jstr(r->auth_dkim));
	json_object_set_new(auth, "dmarc", jstr(r->auth_dmarc));
	json_t *sigs = json_array();
	for (size_t i = 0; i < r->dkim_sigs.n; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "d", jstr(r->dkim_sigs.v[i].d));
		json_object_set_new(j, "s", jstr(r->dkim_sigs.v[i].s));
		json_object_set_new(j, "a", jstr(r->dkim_sigs.v[i].a));
		json_array_append_new(sigs, j);
	}
	json_object_set_new(auth, "dkim_signatures", sigs);
	json_object_set_new(auth, "smime", json_boolean(r->smime_signed));
	json_object_set_new(auth, "pgp", json_boolean(r->pgp_signed));
	json_object_set_new(o, "auth", auth);

	json_t *fs = json_array();
	for (size_t i = 0; i < r->findings.n; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "code", jstr(r->findings.v[i].code));
		json_object_set_new(j, "detail", jstr(r->findings.v[i].detail));
		json_array_append_new(fs, j);
	}
	json_object_set_new(o, "findings", fs);
	json_object_set_new(o, "mime_parts", json_integer(r->parts));

	json_object_set_new(o, "verdict", str_or_null(r->verdict));
	json_object_set_new(o, "score", r->verdict ? json_integer(r->score) : json_null());
	json_t *rs = json_array();
	for (size_t i = 0; i < r->reasons.n; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "code", jstr(r->reasons.v[i].code));
		json_object_set_new(j, "weight", json_integer(r->reasons.v[i].weight));
		json_object_set_new(j, "detail", jstr(r->reasons.v[i].detail));
		json_array_append_new(rs, j);
	}
	json_object_set_new(o, "reasons", rs);
	json_object_set_new(o, "brand", jstr(r->brand));
	json_object_set_new(o, "language", str_or_null(r->language));
	json_object_set_new(o, "verified_sender", json_boolean(r->verified_sender));
	json_t *ver = json_object();
	json_object_set_new(ver, "dkim", str_or_null(r->dkim_verified));
	json_object_set_new(ver, "dkim_domain", jstr(r->dkim_domain));
	json_object_set_new(ver, "dkim_aligned", json_boolean(r->dkim_aligned));
	json_object_set_new(ver, "smime", str_or_null(r->smime_verified));
	json_object_set_new(ver, "smime_signer", jstr(r->smime_signer));
	json_object_set_new(o, "verification", ver);
	json_object_set_new(o, "campaign_id",
			    r->campaign_id ? json_integer(r->campaign_id) : json_null());
	return o;
}

char *result_to_json_string(const struct result *r)
{
	json_t *o = result_to_json(r);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

char *json_set_campaign_id(char *json, int64_t id)
{
	/* result_to_json() writes this key last, so the compact text ends
	 * with it and the value is rewritten in place at the end. A strstr()
	 * over the whole report plus a copy into a new buffer was 1.5% of an
	 * ingest's samples (bench/README-campaigns.md, "sixth pass"). The
	 * search remains for text that does not end so; a string value
	 * cannot contain the sequence (its quotes would be escaped) and no
	 * nested object has this key, so the first match is the one. */
	static const char key[] = "\"campaign_id\":null";
	const size_t klen = sizeof key - 1;
	size_t len = strlen(json);
	char num[32];
	int n = snprintf(num, sizeof num, "\"campaign_id\":%lld", (long long)id);
	if (len > klen && json[len - 1] == '}' && !memcmp(json + len - 1 - klen, key, klen)) {
		size_t head = len - 1 - klen;
		json = xrealloc(json, head + (size_t)n + 2);
		memcpy(json + head, num, (size_t)n);
		memcpy(json + head + (size_t)n, "}", 2);
		return json;
	}
	char *at = strstr(json, key);
	if (!at)
		return json;
	size_t head = (size_t)(at - json), tail = strlen(at + klen);
	char *out = xmalloc(head + (size_t)n + tail + 1);
	memcpy(out, json, head);
	memcpy(out + head, num, (size_t)n);
	memcpy(out + head + (size_t)n, at + klen, tail + 1);
	free(json);
	return out;
}
