/*
 * test_asn.c - the IP -> AS table: parsing, longest-prefix match over
 * nested and overlapping ranges, every text format, MRT records built
 * byte by byte, the compiled file round trip and its validation.
 * Fixtures are written to a private temp directory by the tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enrich/asn.h"
#include "enrich/asn_io.h"
#include "test.h"

static char tmpdir[64];

static const char *fixture(const char *name, const void *data, size_t len)
{
	static char path[8][128];
	static int k;
	char *p = path[k++ % 8];
	snprintf(p, 128, "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "wb");
	if (!f)
		return p;
	fwrite(data, 1, len, f);
	fclose(f);
	return p;
}

static struct asn_table *open1(const char *path)
{
	char *err = NULL;
	const char *paths[1] = {path};
	struct asn_table *t = asn_table_open(paths, 1, NULL, NULL, NULL, &err);
	if (!t) {
		fprintf(stderr, "  open %s: %s\n", path, err);
		free(err);
	}
	return t;
}

static uint32_t look(const struct asn_table *t, const char *ip, char *prefix, size_t plen)
{
	struct asn_ip a;
	if (asn_parse_ip(ip, strlen(ip), &a))
		return UINT32_MAX;
	struct asn_hit h;
	asn_table_lookup(t, &a, &h);
	if (prefix)
		snprintf(prefix, plen, "%s", h.found ? h.prefix : "-");
	return h.asn;
}

static void test_parse_ip(struct test_state *t)
{
	struct asn_ip a;
	CHECK(t, asn_parse_ip("192.0.2.1", 9, &a) == 0 && !a.v6 && a.v4 == 0xc0000201u);
	CHECK(t, asn_parse_ip("192.0.2.256", 11, &a) < 0);
	CHECK(t, asn_parse_ip("192.0.2", 7, &a) < 0);
	CHECK(t, asn_parse_ip("192.0.2.1 ", 10, &a) < 0);
	CHECK(t, asn_parse_ip("1.2.3.4.5", 9, &a) < 0);
	CHECK(t, asn_parse_ip("", 0, &a) < 0);
	CHECK(t, asn_parse_ip("::ffff:198.51.100.7", 19, &a) == 0 && !a.v6 && a.v4 == 0xc6336407u);
	CHECK(t, asn_parse_ip("2001:db8::1", 11, &a) == 0 && a.v6 &&
		     a.a6.hi == 0x20010db800000000ull && a.a6.lo == 1);
	CHECK(t, asn_parse_ip("2001:db8::g", 11, &a) < 0);
	char out[64];
	asn_parse_ip("2001:db8::1", 11, &a);
	asn_format_ip(&a, out, sizeof out);
	CHECK_STR(t, out, "2001:db8::1");
}

static void test_csv_split(struct test_state *t)
{
	char line[] = "1.0.0.0,1.0.0.255,13335,\"Cloudflare, \"\"Inc.\"\"\"";
	char *f[8];
	size_t fl[8];
	int n = csv_split(line, strlen(line), ',', f, fl, 8);
	CHECK(t, n == 4);
	if (n == 4) {
		f[3][fl[3]] = '\0';
		CHECK_STR(t, f[3], "Cloudflare, \"Inc.\"");
		CHECK(t, fl[0] == 7);
	}
	char bad[] = "a,\"b";
	CHECK(t, csv_split(bad, strlen(bad), ',', f, fl, 8) == -1);
	char empty[] = "a,,c,";
	CHECK(t, csv_split(empty, strlen(empty), ',', f, fl, 8) == 4 && fl[1] == 0 && fl[3] == 0);
}

/* pyasn's own nested fixture (ipasn.fake) plus IPv6 and pfx2as lines */
static const char nested[] = "; IP-ASN32-DAT file\n"
			     "1.0.0.0/30\t1\n"
			     "1.0.0.0/24\t2\n"
			     "2.0.0.0/24\t3\n"
			     "3.0.0.0/8\t4\n"
			     "3.0.0.0/9\t5\n"
			     "2001:db8::/32\t64500\n"
			     "2001:db8:1::/48\t64501\n"
			     "10.9.0.0\t16\t64502_64503\n"
			     "10.8.0.0\t16\t64504,64505\n";

static void test_nested(struct test_state *t)
{
	struct asn_table *tb = open1(fixture("nested.dat", nested, sizeof nested - 1));
	CHECK(t, tb != NULL);
	if (!tb)
		return;
	char p[96];
	CHECK(t, look(tb, "1.0.0.1", p, sizeof p) == 1);
	CHECK_STR(t, p, "1.0.0.0/30");
	CHECK(t, look(tb, "1.0.0.4", p, sizeof p) == 2);
	CHECK_STR(t, p, "1.0.0.0/24");
	CHECK(t, look(tb, "1.0.0.255", NULL, 0) == 2);
	CHECK(t, look(tb, "1.0.1.0", p, sizeof p) == 0);
	CHECK_STR(t, p, "-");
	CHECK(t, look(tb, "3.1.1.1", NULL, 0) == 5);
	CHECK(t, look(tb, "3.200.0.1", NULL, 0) == 4);
	CHECK(t, look(tb, "0.0.0.0", NULL, 0) == 0);
	CHECK(t, look(tb, "255.255.255.255", NULL, 0) == 0);
	CHECK(t, look(tb, "2001:db8::5", p, sizeof p) == 64500);
	CHECK_STR(t, p, "2001:db8::/32");
	CHECK(t, look(tb, "2001:db8:1:ffff::1", p, sizeof p) == 64501);
	CHECK_STR(t, p, "2001:db8:1::/48");
	CHECK(t, look(tb, "2001:db9::1", NULL, 0) == 0);
	CHECK(t, look(tb, "10.9.1.1", NULL, 0) == 64502); /* multi-origin: first */
	CHECK(t, look(tb, "10.8.1.1", NULL, 0) == 64504); /* AS set: first */
	struct asn_stats s;
	asn_table_stats(tb, &s);
	CHECK(t, s.ranges4 == 7 && s.ranges6 == 2);
	asn_table_free(tb);
}

/* ip-location-db rows: non-CIDR ranges, a partial overlap, -num form */
static const char ranges[] = "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
			     "1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd\n"
			     "5.0.0.0,5.0.0.99,100,Hundred\n"
			     "5.0.0.50,5.0.0.199,200,Two hundred\n"
			     "83886336,83886591,300,From a num file\n"
			     "2001:4:112::,2001:4:112:ffff:ffff:ffff:ffff:ffff,112,DNS-OARC\n"
			     "not,a,row\n"
			     "# comment\n";

static void warn_count(void *ctx, const char *msg)
{
	(void)msg;
	(*(int *)ctx)++;
}

static void test_ranges(struct test_state *t)
{
	int warns = 0;
	char *err = NULL;
	const char *paths[1] = {fixture("ranges.csv", ranges, sizeof ranges - 1)};
	struct asn_table *tb = asn_table_open(paths, 1, NULL, warn_count, &warns, &err);
	CHECK(t, tb != NULL);
	if (!tb)
		return;
	CHECK(t, warns == 1); /* "not,a,row" reported with its line */
	char p[96];
	CHECK(t, look(tb, "1.0.5.9", p, sizeof p) == 38803);
	CHECK_STR(t, p, "1.0.4.0/22");
	CHECK(t, look(tb, "5.0.0.10", p, sizeof p) == 100);
	CHECK_STR(t, p, "5.0.0.0-5.0.0.99");
	/* overlap 50..99: the smaller range (100 addresses) beats 150 */
	CHECK(t, look(tb, "5.0.0.60", NULL, 0) == 100);
	CHECK(t, look(tb, "5.0.0.150", NULL, 0) == 200);
	CHECK(t, look(tb, "5.0.1.10", NULL, 0) == 300); /* 83886592 = 5.0.1.0 */
	CHECK(t, look(tb, "2001:4:112::53", NULL, 0) == 112);
	struct asn_ip a;
	asn_parse_ip("1.0.0.1", 7, &a);
	struct asn_hit h;
	asn_table_lookup(tb, &a, &h);
	CHECK_STR(t, h.name, "Cloudflare, Inc.");
	asn_table_free(tb);
}

/* layered sources: the same prefix in a later file wins */
static void test_layers(struct test_state *t)
{
	static const char base[] = "192.0.2.0/24\t64500\n198.51.100.0/24\t64501\n";
	static const char over[] = "192.0.2.0/24\t64999\n";
	const char *paths[2] = {fixture("base.dat", base, sizeof base - 1),
				fixture("over.dat", over, sizeof over - 1)};
	char *err = NULL;
	struct asn_table *tb = asn_table_open(paths, 2, NULL, NULL, NULL, &err);
	CHECK(t, tb != NULL);
	if (!tb)
		return;
	CHECK(t, look(tb, "192.0.2.7", NULL, 0) == 64999);
	CHECK(t, look(tb, "198.51.100.7", NULL, 0) == 64501);
	asn_table_free(tb);
}

/* MRT: put a big-endian integer */
static size_t be(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
	return (size_t)n;
}

/* rib - one TABLE_DUMP_V2 RIB record with a single entry whose AS_PATH is
 * the given segments (already encoded). */
static size_t rib(unsigned char *out, int v6, const unsigned char *prefix, int plen,
		  const unsigned char *path, size_t pathlen)
{
	unsigned char body[256];
	size_t n = 0;
	n += be(body + n, 1, 4); /* sequence */
	body[n++] = (unsigned char)plen;
	memcpy(body + n, prefix, (size_t)(plen + 7) / 8);
	n += (size_t)(plen + 7) / 8;
	n += be(body + n, 1, 2); /* entry count */
	n += be(body + n, 0, 2); /* peer index */
	n += be(body + n, 0, 4); /* originated time */
	size_t attrs = 4 + 3 + pathlen;
	n += be(body + n, attrs, 2);
	body[n++] = 0x40; /* ORIGIN */
	body[n++] = 1;
	body[n++] = 1;
	body[n++] = 0;
	body[n++] = 0x40; /* AS_PATH */
	body[n++] = 2;
	body[n++] = (unsigned char)pathlen;
	memcpy(body + n, path, pathlen);
	n += pathlen;
	size_t o = 0;
	o += be(out + o, 1717200000, 4);
	o += be(out + o, 13, 2);
	o += be(out + o, v6 ? 4 : 2, 2);
	o += be(out + o, n, 4);
	memcpy(out + o, body, n);
	return o + n;
}

static void test_mrt(struct test_state *t)
{
	unsigned char buf[2048];
	size_t n = 0;
	/* a PEER_INDEX_TABLE record first (skipped by the loader) */
	unsigned char pit[] = {0, 0, 0, 0, 0, 13, 0, 1, 0, 0, 0, 8, 192, 0, 2, 1, 0, 0, 0, 0};
	memcpy(buf, pit, sizeof pit);
	n += sizeof pit;
	/* 198.51.100.0/24 path 64500 6848 5432 (sequence) -> 5432 */
	unsigned char p1[2 + 12];
	p1[0] = 2;
	p1[1] = 3;
	be(p1 + 2, 64500, 4);
	be(p1 + 6, 6848, 4);
	be(p1 + 10, 5432, 4);
	unsigned char a1[] = {198, 51, 100};
	n += rib(buf + n, 0, a1, 24, p1, sizeof p1);
	/* 192.0.2.0/24 path 64500 {12392,6848} -> the set's smallest, 6848 */
	unsigned char p2[2 + 4 + 2 + 8];
	p2[0] = 2;
	p2[1] = 1;
	be(p2 + 2, 64500, 4);
	p2[6] = 1;
	p2[7] = 2;
	be(p2 + 8, 12392, 4);
	be(p2 + 12, 6848, 4);
	unsigned char a2[] = {192, 0, 2};
	n += rib(buf + n, 0, a2, 24, p2, sizeof p2);
	/* 203.0.113.0/25 path 3356 4200000001 (private last: use 3356) */
	unsigned char p3[2 + 8];
	p3[0] = 2;
	p3[1] = 2;
	be(p3 + 2, 3356, 4);
	be(p3 + 6, 4200000001u, 4);
	unsigned char a3[] = {203, 0, 113, 0};
	n += rib(buf + n, 0, a3, 25, p3, sizeof p3);
	/* 2001:db8::/32 path 6939 196615 (4-byte AS) */
	unsigned char p4[2 + 8];
	p4[0] = 2;
	p4[1] = 2;
	be(p4 + 2, 6939, 4);
	be(p4 + 6, 196615, 4);
	unsigned char a4[] = {0x20, 0x01, 0x0d, 0xb8};
	n += rib(buf + n, 1, a4, 32, p4, sizeof p4);
	/* a truncated record at the end must not lose the ones before */
	buf[n++] = 0;
	buf[n++] = 0;
	struct asn_table *tb = open1(fixture("rib.mrt", buf, n));
	CHECK(t, tb != NULL);
	if (!tb)
		return;
	char p[96];
	CHECK(t, look(tb, "198.51.100.7", p, sizeof p) == 5432);
	CHECK_STR(t, p, "198.51.100.0/24");
	CHECK(t, look(tb, "192.0.2.1", NULL, 0) == 6848);
	CHECK(t, look(tb, "203.0.113.1", p, sizeof p) == 3356);
	CHECK_STR(t, p, "203.0.113.0/25");
	CHECK(t, look(tb, "203.0.113.200", NULL, 0) == 0);
	CHECK(t, look(tb, "2001:db8:ff::1", NULL, 0) == 196615);
	asn_table_free(tb);
}

static void test_compiled(struct test_state *t)
{
	struct asn_table *tb = open1(fixture("nested2.dat", nested, sizeof nested - 1));
	CHECK(t, tb != NULL);
	if (!tb)
		return;
	char path[128], *err = NULL;
	snprintf(path, sizeof path, "%s/table.asnt", tmpdir);
	CHECK(t, asn_table_save(tb, path, &err) == 0);
	struct asn_table *m = open1(path);
	CHECK(t, m != NULL);
	if (m) {
		struct asn_stats s;
		asn_table_stats(m, &s);
		CHECK(t, s.mapped == 1);
		const char *ips[] = {"1.0.0.1", "1.0.0.4",	 "3.1.1.1",	  "3.200.0.1",
				     "9.9.9.9", "2001:db8:1::1", "2001:db8:2::1", "10.9.0.1"};
		for (size_t i = 0; i < sizeof ips / sizeof *ips; i++)
			CHECK(t, look(tb, ips[i], NULL, 0) == look(m, ips[i], NULL, 0));
		/* the batched lookup of shield feed answers as the single one,
		 * on the built and on the mapped table, with out == in */
		uint32_t in[3000], out[3000], x = 12345;
		static const uint32_t near[] = {0x01000000u, 0x02000000u, 0x03000000u, 0x037f0000u,
						0x0a080000u, 0x0a090000u, 0x09090900u};
		for (size_t i = 0; i < 3000; i++) {
			x = x * 1103515245u + 12345u;
			/* around the fixture's ranges, and anywhere */
			in[i] = i % 4 ? near[(x >> 8) % 7] + ((x >> 16) & 0x1ff) - 0x80 : x;
		}
		int hits = 0;
		for (size_t i = 0; i < 3000; i++)
			hits += asn_table_find4(m, in[i]) != 0;
		CHECK(t, hits > 1000);
		const struct asn_table *tabs[2] = {tb, m};
		for (int k = 0; k < 2; k++) {
			asn_table_find4_batch(tabs[k], in, out, 3000);
			int same = 1;
			for (size_t i = 0; i < 3000; i++)
				same &= out[i] == asn_table_find4(tabs[k], in[i]);
			CHECK(t, same);
		}
		/* IPv6: the branch-free search answers as asn_table_lookup */
		int same6 = 1;
		for (size_t i = 0; i < 3000; i++) {
			x = x * 1103515245u + 12345u;
			struct asn_ip a;
			memset(&a, 0, sizeof a);
			a.v6 = 1;
			a.a6.hi = i % 3 ? 0x20010db800000000ull | (uint64_t)(x & 3) << 16
					: (uint64_t)x << 32 | x;
			a.a6.lo = (uint64_t)x * 0x9e3779b97f4a7c15ull;
			struct asn_hit hit;
			asn_table_lookup(m, &a, &hit);
			same6 &=
			    asn_table_find6(m, a.a6) == hit.asn && asn_table_find(m, &a) == hit.asn;
		}
		CHECK(t, same6);
		memcpy(out, in, sizeof in);
		asn_table_find4_batch(m, out, out, 3000);
		CHECK(t, out[7] == asn_table_find4(m, in[7]) &&
			     out[2999] == asn_table_find4(m, in[2999]));
		asn_table_free(m);
	}
	asn_table_free(tb);
	/* a compiled file cannot be layered with another source */
	const char *two[2] = {path, path};
	CHECK(t, asn_table_open(two, 2, NULL, NULL, NULL, &err) == NULL);
	free(err);
	/* corruption: truncated, and a record index out of range */
	FILE *f = fopen(path, "r+b");
	CHECK(t, f != NULL);
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	unsigned char *all = malloc((size_t)size);
	fseek(f, 0, SEEK_SET);
	CHECK(t, fread(all, 1, (size_t)size, f) == (size_t)size);
	fclose(f);
	const char *cut = fixture("cut.asnt", all, (size_t)size - 8);
	err = NULL;
	const char *p1[1] = {cut};
	CHECK(t, asn_table_open(p1, 1, NULL, NULL, NULL, &err) == NULL);
	CHECK(t, err && strstr(err, "corrupt"));
	free(err);
	/* header is 72 bytes; then start4[nseg4], seg4[nseg4]: poison seg4[1] */
	uint64_t nseg4;
	memcpy(&nseg4, all + 24, 8);
	uint32_t evil = 0x7fffffff;
	memcpy(all + 72 + nseg4 * 4 + 4, &evil, 4);
	const char *bad = fixture("bad.asnt", all, (size_t)size);
	const char *p2[1] = {bad};
	err = NULL;
	CHECK(t, asn_table_open(p2, 1, NULL, NULL, NULL, &err) == NULL);
	free(err);
	free(all);
}

static void test_names(struct test_state *t)
{
	static const char json[] =
	    "{\"15169\": \"GOOGLE - Google Inc., US\", \"1\": \"LVLT-1 \\\"x\\\"\"}";
	static const char dat[] = "8.8.8.0/24\t15169\n";
	const char *paths[1] = {fixture("g.dat", dat, sizeof dat - 1)};
	const char *names = fixture("names.json", json, sizeof json - 1);
	char *err = NULL;
	struct asn_table *tb = asn_table_open(paths, 1, names, NULL, NULL, &err);
	CHECK(t, tb != NULL);
	if (!tb)
		return;
	CHECK_STR(t, asn_table_name(tb, 15169), "GOOGLE - Google Inc., US");
	CHECK_STR(t, asn_table_name(tb, 1), "LVLT-1 \"x\"");
	CHECK_STR(t, asn_table_name(tb, 2), "");
	asn_table_free(tb);
}

int main(void)
{
	struct test_state t = {0};
	snprintf(tmpdir, sizeof tmpdir, "/tmp/shield-test-asn-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(&t, test_parse_ip);
	RUN(&t, test_csv_split);
	RUN(&t, test_nested);
	RUN(&t, test_ranges);
	RUN(&t, test_layers);
	RUN(&t, test_mrt);
	RUN(&t, test_compiled);
	RUN(&t, test_names);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return TEST_SUMMARY(&t);
}
