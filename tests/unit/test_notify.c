/*
 * test_notify.c - contact keys and resolution (prefix beats AS, operator
 * beats import, overrides survive re-import), RFC 2047 headers, template
 * rendering and the XARF type mapping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "notify/contacts.h"
#include "notify/send.h"
#include "store/store.h"
#include "store/store_notify.h"
#include "test.h"

static void test_keys(struct test_state *t)
{
	char ty[16], k[256];
	CHECK(t, contact_key_normalise("as64500", ty, sizeof ty, k, sizeof k) == 0);
	CHECK_STR(t, k, "AS64500");
	CHECK_STR(t, ty, "asn");
	CHECK(t, contact_key_normalise("64500", ty, sizeof ty, k, sizeof k) == 0);
	CHECK_STR(t, k, "AS64500");
	CHECK(t, contact_key_normalise("192.0.2.77/24", ty, sizeof ty, k, sizeof k) == 0);
	CHECK_STR(t, k, "192.0.2.0/24");
	CHECK_STR(t, ty, "prefix");
	CHECK(t, contact_key_normalise("203.0.113.0 - 203.0.113.127", ty, sizeof ty, k, sizeof k) ==
		     0);
	CHECK_STR(t, k, "203.0.113.0-203.0.113.127");
	CHECK(t, contact_key_normalise("Example.BE.", ty, sizeof ty, k, sizeof k) == 0);
	CHECK_STR(t, k, "example.be");
	CHECK_STR(t, ty, "domain");
	CHECK(t, contact_key_normalise("bad key!", ty, sizeof ty, k, sizeof k) < 0);
	CHECK(t, contact_parse_interval("24h") == 86400 && contact_parse_interval("30m") == 1800);
	CHECK(t, contact_parse_interval("1w") < 0 && contact_parse_interval("-5") < 0);
}

static void test_resolve(struct test_state *t)
{
	char dir[] = "/tmp/shield-test-notify-XXXXXX";
	if (!mkdtemp(dir))
		return;
	char db[64], csv[64];
	snprintf(db, sizeof db, "%s/t.db", dir);
	snprintf(csv, sizeof csv, "%s/c.csv", dir);
	FILE *f = fopen(csv, "w");
	fputs("AS64500,as@example.net,nl\n198.51.100.0/25,pfx@example.net,fr\n"
	      "AS64501,x@example.net,xx\n",
	      f);
	fclose(f);
	char *err = NULL, why[256];
	struct store *st = store_open(db, &err);
	CHECK(t, st != NULL);
	if (!st)
		return;
	const char *paths[1] = {csv};
	CHECK(t, contacts_import_csv(st, "csv", paths, 1, NULL, NULL, why, sizeof why) == 2);
	struct contact_row op = {0,	     "asn", "AS64500", "op@example.net", "de", "csv",
				 "operator", 3600,  0};
	CHECK(t, store_contact_put(st, &op) == STORE_OK);
	CHECK(t, contacts_import_csv(st, "csv", paths, 1, NULL, NULL, why, sizeof why) == 2);
	struct contacts *c = contacts_load(st, why, sizeof why);
	CHECK(t, c != NULL);
	if (c) {
		struct asn_ip ip;
		asn_parse_ip("198.51.100.7", 12, &ip);
		const struct contact *x = contacts_resolve(c, &ip, 64500);
		CHECK(t, x && !strcmp(x->address, "pfx@example.net"));
		asn_parse_ip("198.51.100.200", 14, &ip);
		x = contacts_resolve(c, &ip, 64500);
		CHECK(t, x && !strcmp(x->address, "op@example.net") && !strcmp(x->language, "de"));
		CHECK(t, contacts_resolve(c, &ip, 64999) == NULL);
		contacts_free(c);
	}
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void test_headers(struct test_state *t)
{
	struct buf b = BUF_INIT(1 << 16);
	mime_encode_header(&b, "Subject", "plain ascii");
	CHECK_STR(t, b.data, "Subject: plain ascii\r\n");
	buf_reset(&b);
	mime_encode_header(&b, "Subject", "Hame\xc3\xa7onnage");
	CHECK_STR(t, b.data, "Subject: =?utf-8?B?SGFtZcOnb25uYWdl?=\r\n");
	buf_reset(&b);
	mime_encode_header(&b, "Subject", "evil\r\nBcc: x@y");
	CHECK(t, strstr(b.data, "\r\nBcc") == NULL);
	buf_reset(&b);
	const char *n[] = {"ticket", "asn"};
	const char *v[] = {"T-1", "64500"};
	template_render(&b, "[{{ticket}}] AS{{asn}} {{unknown}}", n, v, 2);
	CHECK_STR(t, b.data, "[T-1] AS64500 {{unknown}}");
	buf_release(&b);
	const char *cat, *typ;
	xarf_type_of("scan_smb", &cat, &typ);
	CHECK(t, !strcmp(cat, "vulnerability") && !strcmp(typ, "open_service"));
	xarf_type_of("infected-system", &cat, &typ);
	CHECK(t, !strcmp(cat, "infrastructure") && !strcmp(typ, "botnet"));
	xarf_type_of("whatever", &cat, &typ);
	CHECK(t, !strcmp(cat, "reputation"));
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, test_keys);
	RUN(&t, test_resolve);
	RUN(&t, test_headers);
	return TEST_SUMMARY(&t);
}
