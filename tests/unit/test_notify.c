/*
 * test_notify.c - contact keys and resolution (prefix beats AS, operator
 * beats import, overrides survive re-import), RFC 2047 headers, template
 * rendering, the XARF type mapping, and packed incident blocks (the SIB2
 * encoding round trip, and SIB1 blobs of older databases still read).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	/* the ticket stays readable in the raw header; the non-ASCII rest is
	 * encoded, control bytes included */
	mime_encode_header(&b, "Subject", "[SHIELD-1] AS64500: Hame\xc3\xa7onnage");
	CHECK_STR(t, b.data, "Subject: [SHIELD-1] AS64500: =?utf-8?B?SGFtZcOnb25uYWdl?=\r\n");
	buf_reset(&b);
	mime_encode_header(&b, "Subject", "a b\r\nBcc: x@y");
	CHECK(t, !strncmp(b.data, "Subject: a =?utf-8?B?", 21) && !strstr(b.data, "\r\nBcc"));
	buf_reset(&b);
	mime_encode_header(&b, "Subject", "=?utf-8?B?eA==?= \xc3\xa7");
	CHECK(t, !strncmp(b.data, "Subject: =?utf-8?B?PT91", 23)); /* all encoded */
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

struct blocks_got {
	struct incident_rec v[8];
	const char *lab[8];
	char labs[8][16];
	size_t n, nlabels;
};

static int grab_block(void *ctx, struct incident_block *b)
{
	struct blocks_got *g = ctx;
	g->n = b->n < 8 ? b->n : 8;
	memcpy(g->v, b->v, g->n * sizeof *g->v);
	g->nlabels = b->nlabels < 8 ? b->nlabels : 8;
	for (size_t i = 0; i < g->nlabels; i++)
		snprintf(g->labs[i], sizeof g->labs[i], "%s", b->labels[i]);
	return 0;
}

static int same_rec(const struct incident_rec *a, const struct incident_rec *b)
{
	return a->ip.v6 == b->ip.v6 && a->ip.v4 == b->ip.v4 && a->ip.a6.hi == b->ip.a6.hi &&
	       a->ip.a6.lo == b->ip.a6.lo && a->asn == b->asn && a->type == b->type &&
	       a->source == b->source && a->tlp == b->tlp && a->events == b->events &&
	       a->port == b->port && a->first == b->first && a->last == b->last &&
	       a->batch_id == b->batch_id;
}

static void test_blocks(struct test_state *t)
{
	char db[] = "/tmp/shield-test-blocks-XXXXXX";
	int fd = mkstemp(db);
	if (fd < 0)
		return;
	close(fd);
	char *err = NULL;
	struct store *st = store_open(db, &err);
	CHECK(t, st && store_notify_migrate(st) == STORE_OK);
	if (!st)
		return;
	/* SIB2: fields left out when equal to the record before (0/0/0 before
	 * the first) or implied by a single event; none of that may leak */
	const char *labels[] = {"scan", "feed", "amber"};
	struct incident_rec v[5];
	memset(v, 0, sizeof v);
	v[0].ip.v4 = 0xc0000201; /* asn 0, labels 0/0/0, one event */
	v[0].first = v[0].last = 1000;
	v[0].events = 1;
	v[1].ip.v4 = 0xc0000202; /* same AS, other source/tlp, span */
	v[1].source = 1;
	v[1].tlp = 2;
	v[1].first = 900;
	v[1].last = 1900;
	v[1].events = 3;
	v[2].ip.v6 = 1; /* IPv6, port, batch */
	v[2].ip.a6.hi = 0x20010db800000000ull;
	v[2].ip.a6.lo = 7;
	v[2].asn = 64500;
	v[2].type = 2;
	v[2].source = 1;
	v[2].tlp = 2;
	v[2].port = 443;
	v[2].batch_id = 12;
	v[2].first = v[2].last = 5000;
	v[2].events = 1;
	v[3] = v[2]; /* one event counted but a span: both kept */
	v[3].ip.a6.lo = 8;
	v[3].batch_id = 0;
	v[3].last = 5001;
	v[4] = v[3]; /* many events at one second */
	v[4].last = v[4].first;
	v[4].events = 5;
	struct incident_block b = {0, labels, 3, v, 5};
	int64_t id = 0;
	CHECK(t, store_block_add(st, &b, &id) == STORE_OK && id > 0);
	struct blocks_got g;
	memset(&g, 0, sizeof g);
	struct block_filter f = {INT64_MIN, -1, 0, id};
	CHECK(t, store_blocks_each(st, &f, grab_block, &g) == STORE_OK && g.n == 5);
	for (size_t i = 0; i < 5 && i < g.n; i++)
		CHECK(t, same_rec(&g.v[i], &v[i]));
	CHECK(t, g.nlabels == 3 && !strcmp(g.labs[2], "amber"));
	/* the bytes went to the store's pack (DB-raw), not the row */
	sqlite3_stmt *pq = NULL;
	sqlite3_prepare_v2(store_sqlite(st),
			   "SELECT length(data), pack_off, pack_len FROM incident_block WHERE id=?",
			   -1, &pq, NULL);
	sqlite3_bind_int64(pq, 1, id);
	CHECK(t, sqlite3_step(pq) == SQLITE_ROW && sqlite3_column_int(pq, 0) == 0 &&
		     sqlite3_column_type(pq, 1) != SQLITE_NULL && sqlite3_column_int(pq, 2) > 20);
	int64_t poff = sqlite3_column_int64(pq, 1), plen = sqlite3_column_int64(pq, 2);
	sqlite3_finalize(pq);
	/* a rewrite appends and points the row at the new bytes */
	v[0].events = 9;
	v[0].last = 1100;
	b.id = id;
	CHECK(t, store_block_replace(st, &b) == STORE_OK);
	memset(&g, 0, sizeof g);
	CHECK(t, store_blocks_each(st, &f, grab_block, &g) == STORE_OK && g.n == 5 &&
		     g.v[0].events == 9 && g.v[0].last == 1100 && same_rec(&g.v[4], &v[4]));
	/* damaged bytes in the pack are named, not decoded */
	char pack[80];
	snprintf(pack, sizeof pack, "%s-raw", db);
	FILE *pf = fopen(pack, "r+b");
	CHECK(t, pf != NULL);
	if (pf) {
		struct stat sb;
		CHECK(t, fstat(fileno(pf), &sb) == 0 && sb.st_size >= poff + 2 * plen);
		fseek(pf, (long)(sb.st_size - plen / 2), SEEK_SET); /* inside the rewrite */
		fputc('#', pf);
		fclose(pf);
		memset(&g, 0, sizeof g);
		CHECK(t, store_blocks_each(st, &f, grab_block, &g) == STORE_ERR);
		CHECK(t,
		      strstr(store_notify_errmsg(st), "its bytes in the pack are damaged") != NULL);
		CHECK(t, truncate(pack, (off_t)(sb.st_size - plen / 2)) == 0);
		CHECK(t, store_blocks_each(st, &f, grab_block, &g) == STORE_ERR);
		CHECK(t, strstr(store_notify_errmsg(st), "is shorter than recorded") != NULL);
	}
	/* SIB1, as databases written before SIB2 hold it: 2 labels, base 1000;
	 * 192.0.2.1 AS64500 x/y/y +0 span 10, 3 events, port 80; then
	 * 2001:db8::1 AS64501 y/x/x +0 span 0, 1 event */
	static const unsigned char sib1[] = {
	    'S',  'I',	'B', '1', 2, 1, 'x', 1, 'y',  2,    0xd0, 0x0f, 2,    192,  0, 2, 1, 0xf4,
	    0xf7, 0x03, 0,   1,	  1, 0, 20,  3, 80,   1,    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	    0,	  0,	0,   0,	  0, 0, 0,   1, 0xf5, 0xf7, 0x03, 1,	0,    0,    0, 0, 1};
	sqlite3_stmt *q = NULL;
	sqlite3_prepare_v2(
	    store_sqlite(st),
	    "INSERT INTO incident_block(asn_lo,asn_hi,n,unbatched,min_first,max_last,"
	    "data) VALUES(64500,64501,2,2,1000,1010,?)",
	    -1, &q, NULL);
	sqlite3_bind_blob(q, 1, sib1, sizeof sib1, SQLITE_STATIC);
	CHECK(t, sqlite3_step(q) == SQLITE_DONE);
	sqlite3_finalize(q);
	memset(&g, 0, sizeof g);
	f.block_id = sqlite3_last_insert_rowid(store_sqlite(st));
	CHECK(t, store_blocks_each(st, &f, grab_block, &g) == STORE_OK && g.n == 2);
	if (g.n == 2) {
		CHECK(t, g.v[0].ip.v4 == 0xc0000201 && g.v[0].asn == 64500 && g.v[0].type == 0 &&
			     g.v[0].source == 1 && g.v[0].tlp == 1 && g.v[0].first == 1000 &&
			     g.v[0].last == 1010 && g.v[0].events == 3 && g.v[0].port == 80);
		CHECK(t, g.v[1].ip.v6 && g.v[1].ip.a6.hi == 0x20010db800000000ull &&
			     g.v[1].ip.a6.lo == 1 && g.v[1].asn == 64501 && g.v[1].type == 1 &&
			     g.v[1].source == 0 && g.v[1].events == 1 && g.v[1].last == 1000 &&
			     g.v[1].port == 0 && g.v[1].batch_id == 0);
	}
	/* a damaged blob is an error, not a wild read */
	q = NULL;
	sqlite3_prepare_v2(
	    store_sqlite(st),
	    "INSERT INTO incident_block(asn_lo,asn_hi,n,unbatched,min_first,max_last,"
	    "data) VALUES(1,1,2,2,0,0,?)",
	    -1, &q, NULL);
	sqlite3_bind_blob(q, 1, sib1, sizeof sib1 - 3, SQLITE_STATIC);
	CHECK(t, sqlite3_step(q) == SQLITE_DONE);
	sqlite3_finalize(q);
	f.block_id = sqlite3_last_insert_rowid(store_sqlite(st));
	CHECK(t, store_blocks_each(st, &f, grab_block, &g) != STORE_OK);
	store_close(st);
	test_remove_store(db); /* pack is its -raw */
	/* a store without a pack (in memory) keeps the bytes in the row */
	st = store_open(":memory:", &err);
	CHECK(t, st && store_notify_migrate(st) == STORE_OK);
	if (!st)
		return;
	b.id = 0;
	CHECK(t, store_block_add(st, &b, &id) == STORE_OK && id > 0);
	memset(&g, 0, sizeof g);
	f.block_id = id;
	CHECK(t, store_blocks_each(st, &f, grab_block, &g) == STORE_OK && g.n == 5 &&
		     same_rec(&g.v[2], &v[2]));
	store_close(st);
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, test_keys);
	RUN(&t, test_resolve);
	RUN(&t, test_headers);
	RUN(&t, test_blocks);
	return TEST_SUMMARY(&t);
}
