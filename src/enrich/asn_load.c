/*
 * asn_load.c - read routing tables into an asn_builder: text tables
 * (ip-location-db CSV, pyasn .dat, CAIDA pfx2as, iptoasn TSV), MRT RIB
 * dumps and MaxMind mmdb; plus address parsing and formatting.
 *
 * Text lines are classified one by one (tab-separated first, because the
 * pfx2as AS-set "A,B" holds a comma), so one file may even mix formats.
 * MRT origin selection follows pyasn (the oracle): the first RIB entry of
 * the first record for a prefix; the origin is the last non-reserved AS
 * of the last AS_SEQUENCE, and for a trailing AS_SET the smallest member
 * (pyasn takes an arbitrary one; smallest is deterministic). Default
 * routes are dropped.
 * Security: every length read from an MRT or mmdb file is checked
 * against the record it sits in; malformed records are reported and
 * skipped, never trusted.
 */
#include "enrich/asn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "enrich/asn_io.h"

void asn_builder_begin_source(struct asn_builder *b, int first_wins);
void asn_builder_warn(struct asn_builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct asn_table *asn_table_map(const char *path, int *is_compiled, char *why, size_t whylen);

/* Warnings per source beyond which we only count (a wrong file would
 * otherwise print a million lines). */
#define MAX_WARN 20

/* ---- addresses ---- */

/* parse_v4 - strict dotted quad: 4 decimal parts 0..255, no leading '+'. */
static int parse_v4(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (i >= n || s[i] < '0' || s[i] > '9')
			return -1;
		unsigned x = 0;
		size_t digits = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			x = x * 10 + (unsigned)(s[i++] - '0');
			if (++digits > 3 || x > 255)
				return -1;
		}
		v = (v << 8) | x;
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return -1;
			i++;
		}
	}
	if (i != n)
		return -1;
	*out = v;
	return 0;
}

int asn_parse_ip(const char *s, size_t n, struct asn_ip *ip)
{
	memset(ip, 0, sizeof *ip);
	if (n == 0 || n > 45)
		return -1;
	/* dotted quads first: parse_v4 accepts only digits and dots, so a
	 * success means no ':' (one scan instead of two per feed line) */
	if (parse_v4(s, n, &ip->v4) == 0)
		return 0;
	ip->v4 = 0;
	if (!memchr(s, ':', n))
		return -1;
	char tmp[46];
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	unsigned char b[16];
	if (inet_pton(AF_INET6, tmp, b) != 1)
		return -1;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (!memcmp(b, mapped, 12)) {
		ip->v4 =
		    (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
		return 0;
	}
	ip->v6 = 1;
	for (int i = 0; i < 8; i++) {
		ip->a6.hi = ip->a6.hi << 8 | b[i];
		ip->a6.lo = ip->a6.lo << 8 | b[8 + i];
	}
	return 0;
}

void asn_format_ip(const struct asn_ip *ip, char *out, size_t outlen)
{
	if (!ip->v6) {
		snprintf(out, outlen, "%u.%u.%u.%u", ip->v4 >> 24, (ip->v4 >> 16) & 255,
			 (ip->v4 >> 8) & 255, ip->v4 & 255);
		return;
	}
	unsigned char b[16];
	for (int i = 0; i < 8; i++) {
		b[i] = (unsigned char)(ip->a6.hi >> (56 - 8 * i));
		b[8 + i] = (unsigned char)(ip->a6.lo >> (56 - 8 * i));
	}
	char tmp[INET6_ADDRSTRLEN];
	if (!inet_ntop(AF_INET6, b, tmp, sizeof tmp))
		tmp[0] = '\0';
	snprintf(out, outlen, "%s", tmp);
}

/* ---- small parsers ---- */

static int parse_u32(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* parse_asn - "AS123", "as123" or "123"; for pfx2as multi-origin "A_B" and
 * AS-set "A,B" the first AS (the most frequent origin since 2010). */
static int parse_asn(const char *s, size_t n, uint32_t *out)
{
	if (n >= 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) {
		s += 2;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] == '_' || s[i] == ',') {
			n = i;
			break;
		}
	return parse_u32(s, n, out);
}

/* parse_dec128 - a decimal 128-bit number (ip-location-db -num files). */
static int parse_dec128(const char *s, size_t n, struct u128 *out)
{
	if (n == 0 || n > 39)
		return -1;
	struct u128 v = {0, 0};
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		/* v = v * 10 + d, watching for overflow of the high half */
		unsigned __int128 lo = (unsigned __int128)v.lo * 10 + (unsigned)(s[i] - '0');
		unsigned __int128 hi = (unsigned __int128)v.hi * 10 + (uint64_t)(lo >> 64);
		if (hi >> 64)
			return -1;
		v.hi = (uint64_t)hi;
		v.lo = (uint64_t)lo;
	}
	*out = v;
	return 0;
}

/* parse_addr_or_num - an address, or a decimal number (the -num CSVs);
 * *v6 tells which family a number belongs to: numbers above 2^32-1 are
 * IPv6, and so is any number in a file already seen to be IPv6. */
static int parse_addr_or_num(const char *s, size_t n, struct asn_ip *ip)
{
	if (asn_parse_ip(s, n, ip) == 0)
		return 0;
	struct u128 v;
	if (parse_dec128(s, n, &v))
		return -1;
	memset(ip, 0, sizeof *ip);
	if (v.hi == 0 && v.lo <= UINT32_MAX) {
		ip->v4 = (uint32_t)v.lo;
	} else {
		ip->v6 = 1;
		ip->a6 = v;
	}
	return 0;
}

static struct u128 mask_hi(struct u128 lo, int plen)
{
	/* all host bits set */
	struct u128 h = lo;
	int host = 128 - plen;
	if (host >= 64) {
		h.lo = UINT64_MAX;
		h.hi |= host >= 128 ? UINT64_MAX : ((1ull << (host - 64)) - 1);
	} else if (host > 0) {
		h.lo |= (1ull << host) - 1;
	}
	return h;
}

/* add_prefix - prefix/plen of ip; host bits set in the address are
 * cleared (pfx2as never has them, hand-made files sometimes do). */
static int add_prefix(struct asn_builder *b, const struct asn_ip *ip, int plen, uint32_t asn)
{
	if (!ip->v6) {
		if (plen < 0 || plen > 32)
			return -1;
		if (plen == 0)
			return 0; /* default route: says nothing about the owner */
		uint32_t m = plen == 32 ? UINT32_MAX : ~(UINT32_MAX >> plen);
		uint32_t lo = ip->v4 & m;
		asn_builder_add4(b, lo, lo | ~m, asn);
		return 1;
	}
	if (plen < 0 || plen > 128)
		return -1;
	if (plen == 0)
		return 0;
	struct u128 lo = ip->a6;
	if (plen <= 64) {
		lo.lo = 0;
		lo.hi &= plen == 64 ? UINT64_MAX : ~(UINT64_MAX >> plen);
	} else if (plen < 128) {
		lo.lo &= ~(UINT64_MAX >> (plen - 64));
	}
	asn_builder_add6(b, lo, mask_hi(lo, plen), asn);
	return 1;
}

/* ---- text tables ---- */

struct textctx {
	struct asn_builder *b;
	const char *path;
	unsigned long lineno;
	long warned, bad, added;
};

#define TEXT_BAD(c, ...)                                                                           \
	do {                                                                                       \
		(c)->bad++;                                                                        \
		if ((c)->warned++ < MAX_WARN)                                                      \
			asn_builder_warn((c)->b, __VA_ARGS__);                                     \
	} while (0)

static void text_line(struct textctx *c, char *line, size_t len)
{
	char *f[8];
	size_t fl[8];
	int nf;
	if (len == 0 || line[0] == ';' || line[0] == '#')
		return;
	if (memchr(line, '\t', len)) {
		nf = csv_split(line, len, '\t', f, fl, 8);
		if (nf < 0) {
			TEXT_BAD(c, "%s:%lu: unterminated quote", c->path, c->lineno);
			return;
		}
		const char *slash = nf >= 1 ? memchr(f[0], '/', fl[0]) : NULL;
		struct asn_ip ip, ip2;
		uint32_t asn, plen;
		if (nf == 2 && slash) {
			/* pyasn: prefix/len<TAB>asn */
			if (asn_parse_ip(f[0], (size_t)(slash - f[0]), &ip) ||
			    parse_u32(slash + 1, fl[0] - (size_t)(slash - f[0]) - 1, &plen) ||
			    parse_asn(f[1], fl[1], &asn) ||
			    add_prefix(c->b, &ip, (int)plen, asn) < 0)
				TEXT_BAD(c, "%s:%lu: not 'prefix/len<TAB>asn'", c->path, c->lineno);
			else
				c->added++;
			return;
		}
		if (nf == 3 && !slash && parse_u32(f[1], fl[1], &plen) == 0) {
			/* CAIDA pfx2as: prefix<TAB>len<TAB>asn */
			if (asn_parse_ip(f[0], fl[0], &ip) || parse_asn(f[2], fl[2], &asn) ||
			    add_prefix(c->b, &ip, (int)plen, asn) < 0)
				TEXT_BAD(c, "%s:%lu: not 'prefix<TAB>len<TAB>asn'", c->path,
					 c->lineno);
			else
				c->added++;
			return;
		}
		if (nf >= 3 && asn_parse_ip(f[0], fl[0], &ip) == 0 &&
		    asn_parse_ip(f[1], fl[1], &ip2) == 0) {
			/* iptoasn: start<TAB>end<TAB>asn<TAB>cc<TAB>name; AS 0 = not routed */
			if (parse_asn(f[2], fl[2], &asn) || ip.v6 != ip2.v6) {
				TEXT_BAD(c, "%s:%lu: bad AS or mixed families", c->path, c->lineno);
				return;
			}
			if (asn == 0)
				return;
			if (ip.v6)
				asn_builder_add6(c->b, ip.a6, ip2.a6, asn);
			else
				asn_builder_add4(c->b, ip.v4, ip2.v4, asn);
			if (nf >= 5 && fl[4])
				asn_builder_name(c->b, asn, f[4], fl[4]);
			c->added++;
			return;
		}
		TEXT_BAD(c, "%s:%lu: unrecognised table line", c->path, c->lineno);
		return;
	}
	/* ip-location-db: start,end,asn[,name] (addresses or numbers) */
	nf = csv_split(line, len, ',', f, fl, 8);
	struct asn_ip a, z;
	uint32_t asn;
	if (nf < 3 || parse_addr_or_num(f[0], fl[0], &a) || parse_addr_or_num(f[1], fl[1], &z) ||
	    parse_asn(f[2], fl[2], &asn)) {
		TEXT_BAD(c, "%s:%lu: not 'start,end,asn,name'", c->path, c->lineno);
		return;
	}
	/* a -num IPv6 file has small numbers too (::/96 space): trust the
	 * end address's family for both */
	if (a.v6 != z.v6 && !a.v6) {
		a.v6 = 1;
		a.a6.hi = 0;
		a.a6.lo = a.v4;
	}
	if (a.v6 != z.v6) {
		TEXT_BAD(c, "%s:%lu: start and end of different families", c->path, c->lineno);
		return;
	}
	if (a.v6)
		asn_builder_add6(c->b, a.a6, z.a6, asn);
	else
		asn_builder_add4(c->b, a.v4, z.v4, asn);
	if (nf >= 4 && fl[3])
		asn_builder_name(c->b, asn, f[3], fl[3]);
	c->added++;
}

static long load_text(struct asn_builder *b, struct zreader *z, const char *path)
{
	struct textctx c = {b, path, 0, 0, 0, 0};
	char *line;
	size_t len;
	int toolong, r;
	asn_builder_begin_source(b, 0);
	while ((r = zr_getline(z, &line, &len, &toolong)) > 0) {
		c.lineno++;
		if (toolong) {
			TEXT_BAD(&c, "%s:%lu: line longer than %u bytes", path, c.lineno,
				 ASN_MAX_LINE);
			continue;
		}
		text_line(&c, line, len);
	}
	if (r < 0)
		asn_builder_warn(b, "%s: read error after line %lu: %s (using what was read)", path,
				 c.lineno, zr_error(z));
	if (c.bad > MAX_WARN)
		asn_builder_warn(b, "%s: %ld malformed lines skipped in all", path, c.bad);
	return c.added;
}

/* ---- MRT ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* asn_bogus - private-use, reserved and AS_TRANS numbers that never mean
 * a network owner (RFC 6996, 7300, 5398, 6793). */
static int asn_bogus(uint32_t a)
{
	return a == 0 || a == 23456 || (a >= 64496 && a <= 131071) || a >= 4200000000u;
}

/* path_origin - origin AS of an AS_PATH attribute value (asz = 2 or 4
 * bytes per AS). 0 when none can be chosen. */
static uint32_t path_origin(const unsigned char *p, size_t n, int asz)
{
	/* collect segment offsets first: we need the last ones */
	size_t offs[256];
	int nseg = 0;
	size_t i = 0;
	while (i + 2 <= n) {
		size_t cnt = p[i + 1];
		if (i + 2 + cnt * (size_t)asz > n)
			return 0;
		if (nseg < 256)
			offs[nseg++] = i;
		i += 2 + cnt * (size_t)asz;
	}
	for (int s = nseg - 1; s >= 0; s--) {
		const unsigned char *seg = p + offs[s];
		int type = seg[0], cnt = seg[1];
		uint32_t best = 0;
		if (type == 2) { /* AS_SEQUENCE: last non-bogus AS */
			for (int k = cnt - 1; k >= 0 && !best; k--) {
				uint32_t a =
				    asz == 4 ? be32(seg + 2 + 4 * k) : be16(seg + 2 + 2 * k);
				if (!asn_bogus(a))
					best = a;
			}
		} else if (type == 1) { /* AS_SET: smallest non-bogus member */
			for (int k = 0; k < cnt; k++) {
				uint32_t a =
				    asz == 4 ? be32(seg + 2 + 4 * k) : be16(seg + 2 + 2 * k);
				if (!asn_bogus(a) && (!best || a < best))
					best = a;
			}
		} /* confederation segments say nothing about the origin */
		if (best)
			return best;
	}
	return 0;
}

/* attrs_origin - walk BGP path attributes; prefer AS4_PATH (17) over a
 * 2-byte AS_PATH in legacy TABLE_DUMP records. */
static uint32_t attrs_origin(const unsigned char *p, size_t n, int td2)
{
	size_t i = 0;
	uint32_t o2 = 0, o4 = 0;
	while (i + 3 <= n) {
		int flags = p[i], type = p[i + 1];
		size_t hl = (flags & 0x10) ? 4 : 3;
		if (i + hl > n)
			return 0;
		size_t al = (flags & 0x10) ? be16(p + i + 2) : p[i + 2];
		if (i + hl + al > n)
			return 0;
		if (type == 2)
			o2 = path_origin(p + i + hl, al, td2 ? 4 : 2);
		else if (type == 17)
			o4 = path_origin(p + i + hl, al, 4);
		i += hl + al;
	}
	return o4 ? o4 : o2;
}

static long load_mrt(struct asn_builder *b, struct zreader *z, const char *path)
{
	unsigned char hdr[12];
	unsigned char *body = NULL;
	size_t cap = 0;
	long added = 0, bad = 0, nrec = 0;
	asn_builder_begin_source(b, 1);
	for (;;) {
		ssize_t r = zr_read(z, hdr, sizeof hdr);
		if (r == 0)
			break;
		if (r != (ssize_t)sizeof hdr) {
			asn_builder_warn(b,
					 "%s: record %ld: truncated header%s%s (using the %ld "
					 "records before)",
					 path, nrec + 1, r < 0 ? ": " : "",
					 r < 0 ? zr_error(z) : "", nrec);
			break;
		}
		uint16_t type = be16(hdr + 4), sub = be16(hdr + 6);
		uint32_t len = be32(hdr + 8);
		if (len > ASN_MAX_MRT_RECORD) {
			asn_builder_warn(b, "%s: record %ld: length %u too large; stopping", path,
					 nrec + 1, len);
			break;
		}
		if (len > cap) {
			cap = len;
			body = xrealloc(body, cap);
		}
		r = zr_read(z, body, len);
		if (r != (ssize_t)len) {
			asn_builder_warn(b,
					 "%s: record %ld: truncated (using the %ld records before)",
					 path, nrec + 1, nrec);
			break;
		}
		nrec++;
		struct asn_ip ip;
		memset(&ip, 0, sizeof ip);
		int plen = -1;
		uint32_t origin = 0;
		if (type == 13 && (sub == 2 || sub == 4 || sub == 8 || sub == 10)) {
			/* RIB_IPV4/6_UNICAST (and their ADD-PATH forms, RFC 8050) */
			int v6 = sub == 4 || sub == 10, addpath = sub >= 8;
			if (len < 5)
				goto bad;
			plen = body[4];
			size_t pb = ((size_t)plen + 7) / 8;
			if (plen > (v6 ? 128 : 32) || 5 + pb + 2 > len)
				goto bad;
			unsigned char a[16] = {0};
			memcpy(a, body + 5, pb);
			size_t off = 5 + pb;
			unsigned nent = be16(body + off);
			off += 2;
			if (nent == 0)
				continue;
			size_t eh = addpath ? 12 : 8;
			if (off + eh > len)
				goto bad;
			size_t al = be16(body + off + eh - 2);
			if (off + eh + al > len)
				goto bad;
			origin = attrs_origin(body + off + eh, al, 1);
			ip.v6 = v6;
			if (v6) {
				for (int k = 0; k < 8; k++) {
					ip.a6.hi = ip.a6.hi << 8 | a[k];
					ip.a6.lo = ip.a6.lo << 8 | a[8 + k];
				}
			} else {
				ip.v4 = be32(a);
			}
		} else if (type == 12 && (sub == 1 || sub == 2)) {
			/* legacy TABLE_DUMP: view, seq, prefix, plen, status,
			 * time, peer ip, peer AS, attr len, attrs */
			int v6 = sub == 2;
			size_t alen = v6 ? 16 : 4;
			size_t fixed = 4 + alen + 1 + 1 + 4 + alen + 2 + 2;
			if (len < fixed)
				goto bad;
			plen = body[4 + alen];
			size_t al = be16(body + fixed - 2);
			if (fixed + al > len || plen > (v6 ? 128 : 32))
				goto bad;
			origin = attrs_origin(body + fixed, al, 0);
			ip.v6 = v6;
			if (v6) {
				for (int k = 0; k < 8; k++) {
					ip.a6.hi = ip.a6.hi << 8 | body[4 + k];
					ip.a6.lo = ip.a6.lo << 8 | body[12 + k];
				}
			} else {
				ip.v4 = be32(body + 4);
			}
		} else {
			continue; /* peer index tables, BGP4MP updates, ... */
		}
		if (!origin)
			continue; /* no usable origin: pyasn skips these too */
		if (add_prefix(b, &ip, plen, origin) > 0)
			added++;
		continue;
	bad:
		if (bad++ < MAX_WARN)
			asn_builder_warn(b, "%s: record %ld: malformed MRT record (type %u/%u)",
					 path, nrec, type, sub);
	}
	free(body);
	return added;
}

/* ---- MaxMind mmdb ---- */

struct mmwalk {
	struct asn_builder *b;
	MMDB_s *db;
	uint32_t v4node; /* node at ::/96 in an IPv6 tree, 0 if none */
	long added, bad;
	const char *path;
};

static void mm_emit(struct mmwalk *w, MMDB_entry_s *e, struct u128 path, int depth, int bits)
{
	MMDB_entry_data_s d;
	uint32_t asn = 0;
	if (MMDB_get_value(e, &d, "autonomous_system_number", NULL) == MMDB_SUCCESS && d.has_data) {
		if (d.type == MMDB_DATA_TYPE_UINT32)
			asn = d.uint32;
		else if (d.type == MMDB_DATA_TYPE_UINT16)
			asn = d.uint16;
		else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX)
			asn = (uint32_t)d.uint64;
	}
	if (!asn)
		return;
	struct asn_ip ip;
	memset(&ip, 0, sizeof ip);
	int plen;
	if (bits == 32 ||
	    (bits == 128 && depth >= 96 && path.hi == 0 && (path.lo >> 32) == 0 && w->v4node)) {
		/* IPv4 tree, or the IPv4 subtree of an IPv6 tree (netmask +96) */
		ip.v4 = (uint32_t)path.lo;
		plen = bits == 32 ? depth : depth - 96;
	} else {
		ip.v6 = 1;
		ip.a6 = path;
		plen = depth;
	}
	if (add_prefix(w->b, &ip, plen, asn) > 0)
		w->added++;
	if (MMDB_get_value(e, &d, "autonomous_system_organization", NULL) == MMDB_SUCCESS &&
	    d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING)
		asn_builder_name(w->b, asn, d.utf8_string, d.data_size);
}

/* mm_walk - depth-first over the search tree; depth is bounded by the
 * address size (checked), so recursion is bounded too. */
static void mm_walk(struct mmwalk *w, uint32_t node, struct u128 path, int depth, int bits)
{
	if (depth >= bits)
		return;
	/* The IPv4 subtree is aliased at ::ffff:0:0/96 and 2002::/16: walk it
	 * only at ::/96. */
	if (w->v4node && node == w->v4node && !(depth == 96 && path.hi == 0 && path.lo == 0))
		return;
	MMDB_search_node_s n;
	if (MMDB_read_node(w->db, node, &n) != MMDB_SUCCESS) {
		if (w->bad++ < MAX_WARN)
			asn_builder_warn(w->b, "%s: unreadable search node %u", w->path, node);
		return;
	}
	for (int side = 0; side < 2; side++) {
		struct u128 p = path;
		int bit = bits - 1 - depth; /* bit position within the address */
		if (side) {
			int pos = bit + (bits == 32 ? 0 : 0);
			if (pos >= 64)
				p.hi |= 1ull << (pos - 64);
			else
				p.lo |= 1ull << pos;
		}
		uint8_t t = side ? n.right_record_type : n.left_record_type;
		uint64_t rec = side ? n.right_record : n.left_record;
		MMDB_entry_s e = side ? n.right_record_entry : n.left_record_entry;
		if (t == MMDB_RECORD_TYPE_SEARCH_NODE)
			mm_walk(w, (uint32_t)rec, p, depth + 1, bits);
		else if (t == MMDB_RECORD_TYPE_DATA)
			mm_emit(w, &e, p, depth + 1, bits);
	}
}

static long load_mmdb(struct asn_builder *b, MMDB_s *db, const char *path)
{
	struct mmwalk w = {b, db, 0, 0, 0, path};
	int bits = db->metadata.ip_version == 6 ? 128 : 32;
	asn_builder_begin_source(b, 0);
	if (bits == 128) {
		/* find the ::/96 node (IPv4 subtree) by following 96 left edges */
		uint32_t node = 0;
		int d;
		for (d = 0; d < 96; d++) {
			MMDB_search_node_s n;
			if (MMDB_read_node(db, node, &n) != MMDB_SUCCESS ||
			    n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE)
				break;
			node = (uint32_t)n.left_record;
		}
		if (d == 96)
			w.v4node = node;
	}
	struct u128 zero = {0, 0};
	mm_walk(&w, 0, zero, 0, bits);
	return w.added;
}

/* ---- names ---- */

long asn_builder_load_names(struct asn_builder *b, const char *path, char *err, size_t errlen)
{
	struct zreader *z = zr_open(path, 64u * 1024u * 1024u, err, errlen);
	if (!z)
		return -1;
	long n = 0;
	const unsigned char *peek;
	size_t got = zr_peek(z, &peek, 1);
	char *line;
	size_t len;
	int toolong, r;
	unsigned long lineno = 0;
	if (got && peek[0] == '{') {
		/* pyasn asnames.json: one object, read as a whole (<= 64 MiB) and
		 * scanned for "key": "value" pairs without a full JSON DOM. */
		struct {
			char *p;
			size_t n, cap;
		} all = {0};
		char tmp[65536];
		ssize_t k;
		while ((k = zr_read(z, tmp, sizeof tmp)) > 0) {
			if (all.n + (size_t)k + 1 > 64u * 1024u * 1024u)
				break;
			if (all.n + (size_t)k + 1 > all.cap) {
				all.cap = (all.n + (size_t)k + 1) * 2;
				all.p = xrealloc(all.p, all.cap);
			}
			memcpy(all.p + all.n, tmp, (size_t)k);
			all.n += (size_t)k;
		}
		/* tiny tokenizer: "digits" : "string with \" escapes" */
		size_t i = 0;
		while (i < all.n) {
			if (all.p[i] != '"') {
				i++;
				continue;
			}
			size_t ks = ++i;
			while (i < all.n && all.p[i] != '"')
				i++;
			size_t ke = i++;
			while (i < all.n && (all.p[i] == ' ' || all.p[i] == ':'))
				i++;
			uint32_t asn;
			if (i >= all.n || all.p[i] != '"' || parse_u32(all.p + ks, ke - ks, &asn))
				continue;
			size_t vs = ++i, w = i;
			while (i < all.n && all.p[i] != '"') {
				if (all.p[i] == '\\' && i + 1 < all.n) {
					i++;
					all.p[w++] =
					    all.p[i] == 'n' || all.p[i] == 't' ? ' ' : all.p[i];
					i++;
					continue;
				}
				all.p[w++] = all.p[i++];
			}
			i++;
			asn_builder_name(b, asn, all.p + vs, w - vs);
			n++;
		}
		free(all.p);
		zr_close(z);
		return n;
	}
	while ((r = zr_getline(z, &line, &len, &toolong)) > 0) {
		lineno++;
		if (!len || line[0] == '#' || toolong)
			continue;
		char *f[2];
		size_t fl[2];
		int nf = csv_split(line, len, memchr(line, '\t', len) ? '\t' : ',', f, fl, 2);
		uint32_t asn;
		if (nf == 2 && parse_asn(f[0], fl[0], &asn) == 0) {
			asn_builder_name(b, asn, f[1], fl[1]);
			n++;
		} else {
			asn_builder_warn(b, "%s:%lu: not 'asn<TAB>name'", path, lineno);
		}
	}
	zr_close(z);
	return n;
}

/* ---- dispatch ---- */

long asn_builder_load(struct asn_builder *b, const char *path, char *err, size_t errlen)
{
	struct zreader *z = zr_open(path, ASN_MAX_LINE, err, errlen);
	if (!z)
		return -1;
	const unsigned char *p;
	size_t n = zr_peek(z, &p, 16);
	if (n >= 15 && !memcmp(p, "SHIELDASNTABLE1", 15)) {
		zr_close(z);
		snprintf(err, errlen, "'%s' is a compiled table: it can only be used alone", path);
		return -1;
	}
	/* MRT: a 12-byte header whose type is TABLE_DUMP(12) or _V2(13). */
	if (n >= 12 && p[4] == 0 && (p[5] == 12 || p[5] == 13) && p[6] == 0 && p[7] <= 10) {
		long r = load_mrt(b, z, path);
		zr_close(z);
		return r;
	}
	int compressed = zr_compressed(z);
	if (!compressed) {
		/* mmdb: libmaxminddb finds its metadata marker at the end */
		MMDB_s db;
		if (MMDB_open(path, MMDB_MODE_MMAP, &db) == MMDB_SUCCESS) {
			zr_close(z);
			long r = load_mmdb(b, &db, path);
			MMDB_close(&db);
			return r;
		}
	}
	/* text: refuse obvious binaries instead of reporting every line */
	for (size_t i = 0; i < n; i++)
		if (p[i] == 0) {
			zr_close(z);
			snprintf(err, errlen, "'%s': unrecognised binary format", path);
			return -1;
		}
	long r = load_text(b, z, path);
	zr_close(z);
	return r;
}

struct asn_table *asn_table_open(const char *const *paths, int n, const char *names,
				 asn_warn_fn warn, void *ctx, char **err)
{
	char why[512];
	*err = NULL;
	if (n <= 0) {
		*err = xstrdup("no routing table given (--asn-table FILE or $SHIELD_ASN_TABLE)");
		return NULL;
	}
	if (n == 1 && !names) {
		int compiled;
		struct asn_table *t = asn_table_map(paths[0], &compiled, why, sizeof why);
		if (t)
			return t;
		if (compiled) {
			*err = xstrdup(why);
			return NULL;
		}
	}
	struct asn_builder *b = asn_builder_new(warn, ctx);
	for (int i = 0; i < n; i++) {
		if (asn_builder_load(b, paths[i], why, sizeof why) < 0) {
			*err = xstrdup(why);
			asn_builder_free(b);
			return NULL;
		}
	}
	if (names && asn_builder_load_names(b, names, why, sizeof why) < 0) {
		*err = xstrdup(why);
		asn_builder_free(b);
		return NULL;
	}
	return asn_builder_finish(b);
}
