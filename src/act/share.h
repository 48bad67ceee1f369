/*
 * share.h - sharing campaigns with partners: MISP events and a MISP feed
 * directory (misp.c), a STIX 2.1 bundle (stix.c).
 *
 * Input: groups of stored reports (the objects `shield show --json`
 * prints), one group per campaign, or per message when campaigns are not
 * assigned. Every value is redacted (redact.h) with the report's victims
 * (reporter, recipient) before it is written: URLs in share form, subjects,
 * names and message ids through redact_text, and sender addresses equal to
 * a victim are dropped. Recipient addresses, the reporter and the message
 * body are never shared.
 *
 * Ids are deterministic: MISP uuids and STIX ids of SDOs/SROs are UUIDv5
 * under Shield's namespace from what they describe; STIX cyber-observable
 * ids are UUIDv5 under the STIX namespace from their ID-contributing
 * properties (STIX 2.1 section 2.9). The same store gives the same output.
 * TLP 2.0 on every object: MISP tags tlp:<level> on the event and each
 * attribute; STIX object_marking_refs to the TLP 2.0 marking definitions.
 * Ownership: returned json_t are the caller's (json_decref).
 */
#ifndef SHIELD_ACT_SHARE_H
#define SHIELD_ACT_SHARE_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct share_group {
	const char *key;   /* "campaign-12" or "message-<sha256>" */
	const char *title; /* MISP info / STIX campaign name */
	json_t *reports;   /* array of stored report objects (borrowed) */
};

struct share_opts {
	const char *tlp;      /* clear, green, amber, amber+strict, red */
	const char *org_name; /* the sharing organisation */
};

/* share_tlp_ok - a TLP 2.0 level name. */
int share_tlp_ok(const char *tlp);
/* share_uuid5 - RFC 4122 version-5 UUID of name under namespace ns. */
void share_uuid5(const char *ns, const char *name, size_t n, char out[37]);
/* share_md5_hex - MD5 of s as 32 hex digits (MISP feed hashes.csv). */
void share_md5_hex(const char *s, char out[33]);

/* share_misp_event - {"Event": {...}} for one group. */
json_t *share_misp_event(const struct share_opts *o, const struct share_group *g);
/* share_misp_feed - write manifest.json, <uuid>.json per event and
 * hashes.csv into dir (created if needed). -1 and *err on failure. */
int share_misp_feed(const struct share_opts *o, const struct share_group *g, size_t n,
		    const char *dir, char **err);
/* share_stix_bundle - one bundle with every group. */
json_t *share_stix_bundle(const struct share_opts *o, const struct share_group *g, size_t n);

#endif
