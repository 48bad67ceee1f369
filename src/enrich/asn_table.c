/*
 * asn_table.c - the longest-prefix-match table: builder, flattening,
 * lookup, and the compiled (mmap'd) file format. See asn.h.
 *
 * Why flattened segments and not a radix trie: a trie walk is up to 32
 * (v4) dependent pointer loads; measured on the 2014 pyasn table (512k
 * prefixes) and ip-location-db (412k v4 ranges), the disjoint segments
 * number about 1.3 per input range, so the lookup structure is two uint32
 * arrays (start, record) plus a 2^18-entry bucket index on the top bits:
 * 8 bytes per segment, and a lookup touches the bucket and 1-3 cache lines.
 * Non-CIDR ranges (ip-location-db) need no splitting into prefixes.
 *
 * Compiled file layout (little-endian host order, checked by magic and
 * an endianness word): header, then the arrays in header order, each
 * 8-byte aligned. Everything is validated before the table is used.
 * No global state: a table owns its arrays (or its mapping).
 */
#include "enrich/asn.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"

#define IDX4_BITS 18
#define IDX6_BITS 16

/* One input range before flattening. prio breaks ties between ranges of
 * the same size: the higher wins. */
struct range {
	struct u128 lo, hi;
	uint32_t asn;
	uint64_t prio;
};

struct rangevec {
	struct range *v;
	size_t n, cap;
};

struct namerec {
	uint32_t asn;
	uint32_t off;
};

struct asn_builder {
	struct rangevec r4, r6;
	struct namerec *names;
	size_t nnames, capnames;
	char *pool;
	size_t poollen, poolcap;
	uint64_t load_no; /* sources loaded so far: the high half of prio */
	uint64_t in_load; /* ranges added in the current source */
	int first_wins;	  /* current source: earlier duplicates win */
	asn_warn_fn warn;
	void *warn_ctx;
};

/* Records that survive flattening. */
struct rec4 {
	uint32_t lo, hi, asn, pad;
};
struct rec6 {
	uint64_t lo_hi, lo_lo, hi_hi, hi_lo;
	uint32_t asn, pad;
};

struct asn_table {
	const uint32_t *start4, *seg4; /* seg: record index + 1, 0 = none */
	const uint64_t *start6_hi, *start6_lo;
	const uint32_t *seg6;
	const struct rec4 *rec4;
	const struct rec6 *rec6;
	const struct namerec *names;
	const char *pool;
	size_t nseg4, nseg6, nrec4, nrec6, nnames, poollen;
	uint32_t *idx4, *idx6; /* owned, built at load */
	/* sa4[j] = {start4[j], AS of segment j}, built at load: the lookup's
	 * last probe and its answer share a cache line, where seg4 -> rec4
	 * cost two more cache misses per lookup (~80% of lookup time inside
	 * `shield feed`, perf). asn6[j] likewise saves one miss for IPv6. */
	struct seg_asn {
		uint32_t start, asn;
	} * sa4;
	uint32_t *asn6;
	void *map; /* mmap'd compiled file, or NULL */
	size_t maplen;
	void *owned[8]; /* heap arrays when built in memory */
};

#define FILE_MAGIC "SHIELDASNTABLE1"
struct file_header {
	char magic[16];
	uint32_t endian; /* 0x01020304 */
	uint32_t version;
	uint64_t nseg4, nseg6, nrec4, nrec6, nnames, poollen;
};

/* ---- 128-bit helpers ---- */

static int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

static struct u128 u128_inc(struct u128 a)
{
	a.lo++;
	if (a.lo == 0)
		a.hi++;
	return a;
}

static struct u128 u128_sub(struct u128 a, struct u128 b)
{
	struct u128 r = {a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo};
	return r;
}

static int u128_ismax(struct u128 a)
{
	return a.hi == UINT64_MAX && a.lo == UINT64_MAX;
}

/* ---- builder ---- */

struct asn_builder *asn_builder_new(asn_warn_fn warn, void *ctx)
{
	struct asn_builder *b = xcalloc(1, sizeof *b);
	b->warn = warn;
	b->warn_ctx = ctx;
	return b;
}

void asn_builder_free(struct asn_builder *b)
{
	if (!b)
		return;
	free(b->r4.v);
	free(b->r6.v);
	free(b->names);
	free(b->pool);
	free(b);
}

/* builder internals shared with the loaders (asn_load.c) */
void asn_builder_begin_source(struct asn_builder *b, int first_wins);
void asn_builder_warn(struct asn_builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void asn_builder_begin_source(struct asn_builder *b, int first_wins)
{
	b->load_no++;
	b->in_load = 0;
	b->first_wins = first_wins;
}

void asn_builder_warn(struct asn_builder *b, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (b->warn)
		b->warn(b->warn_ctx, msg);
}

static void push_range(struct asn_builder *b, struct rangevec *rv, struct u128 lo, struct u128 hi,
		       uint32_t asn)
{
	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? rv->cap * 2 : 4096;
		rv->v = xrealloc(rv->v, rv->cap * sizeof *rv->v);
	}
	uint64_t k = b->in_load++ & 0xffffffffu;
	struct range *r = &rv->v[rv->n++];
	r->lo = lo;
	r->hi = hi;
	r->asn = asn;
	r->prio = (b->load_no << 32) | (b->first_wins ? 0xffffffffu - k : k);
}

void asn_builder_add4(struct asn_builder *b, uint32_t lo, uint32_t hi, uint32_t asn)
{
	if (hi < lo)
		return;
	struct u128 l = {0, lo}, h = {0, hi};
	push_range(b, &b->r4, l, h, asn);
}

void asn_builder_add6(struct asn_builder *b, struct u128 lo, struct u128 hi, uint32_t asn)
{
	if (u128_cmp(hi, lo) < 0)
		return;
	push_range(b, &b->r6, lo, hi, asn);
}

void asn_builder_name(struct asn_builder *b, uint32_t asn, const char *name, size_t n)
{
	if (n > ASN_MAX_NAME)
		n = ASN_MAX_NAME;
	/* Names repeat per range in ip-location-db: skip a repeat of the
	 * last name for the same AS cheaply; duplicates are resolved (last
	 * wins) when the table is finished. */
	if (b->nnames && b->names[b->nnames - 1].asn == asn) {
		const char *last = b->pool + b->names[b->nnames - 1].off;
		if (strlen(last) == n && !memcmp(last, name, n))
			return;
	}
	if (b->nnames == b->capnames) {
		b->capnames = b->capnames ? b->capnames * 2 : 1024;
		b->names = xrealloc(b->names, b->capnames * sizeof *b->names);
	}
	while (b->poollen + n + 1 > b->poolcap) {
		b->poolcap = b->poolcap ? b->poolcap * 2 : 65536;
		b->pool = xrealloc(b->pool, b->poolcap);
	}
	b->names[b->nnames].asn = asn;
	b->names[b->nnames].off = (uint32_t)b->poollen;
	b->nnames++;
	memcpy(b->pool + b->poollen, name, n);
	/* control characters in a holder name would corrupt tables/mail */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)b->pool[b->poollen + i] < 0x20)
			b->pool[b->poollen + i] = ' ';
	b->pool[b->poollen + n] = '\0';
	b->poollen += n + 1;
}

/* ---- flattening ---- */

static int cmp_range_lo(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return u128_cmp(x->lo, y->lo);
}

static int cmp_u128(const void *a, const void *b)
{
	return u128_cmp(*(const struct u128 *)a, *(const struct u128 *)b);
}

/* better - nonzero when range x is more specific than y (smaller, or the
 * same size and higher priority). */
static int better(const struct range *x, const struct range *y)
{
	int c = u128_cmp(u128_sub(x->hi, x->lo), u128_sub(y->hi, y->lo));
	if (c)
		return c < 0;
	return x->prio > y->prio;
}

struct heap {
	const struct range **v;
	size_t n, cap;
};

static void heap_push(struct heap *h, const struct range *r)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!better(r, h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = r;
}

static void heap_pop(struct heap *h)
{
	const struct range *last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct range *best = last;
		if (l < h->n && better(h->v[l], best)) {
			m = l;
			best = h->v[l];
		}
		if (r < h->n && better(h->v[r], best))
			m = r;
		if (m == i)
			break;
		h->v[i] = h->v[m];
		i = m;
	}
	if (h->n)
		h->v[i] = last;
}

struct segvec {
	struct u128 *start;
	uint32_t *rec; /* index into ranges + 1, 0 = none */
	size_t n, cap;
};

static void seg_push(struct segvec *s, struct u128 start, uint32_t rec)
{
	if (s->n && s->rec[s->n - 1] == rec)
		return; /* same winner continues */
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->start = xrealloc(s->start, s->cap * sizeof *s->start);
		s->rec = xrealloc(s->rec, s->cap * sizeof *s->rec);
	}
	s->start[s->n] = start;
	s->rec[s->n] = rec;
	s->n++;
}

/* flatten - sweep the sorted boundaries (every lo and hi+1); at each, add
 * the ranges starting there, drop expired ranges from the top of a heap
 * ordered by specificity (lazily: an expired range below the top does not
 * matter until it surfaces), and the top is the winner up to the next
 * boundary. O(n log n) for any mix of nesting and partial overlap. */
static void flatten(struct rangevec *rv, struct segvec *out)
{
	if (rv->n) /* qsort on an empty (NULL) array is undefined */
		qsort(rv->v, rv->n, sizeof *rv->v, cmp_range_lo);
	struct u128 *bounds = xmalloc((2 * rv->n + 1) * sizeof *bounds);
	size_t nb = 0;
	struct u128 zero = {0, 0};
	bounds[nb++] = zero;
	for (size_t i = 0; i < rv->n; i++) {
		bounds[nb++] = rv->v[i].lo;
		if (!u128_ismax(rv->v[i].hi))
			bounds[nb++] = u128_inc(rv->v[i].hi);
	}
	if (nb) /* qsort on an empty (NULL) array is undefined */
		qsort(bounds, nb, sizeof *bounds, cmp_u128);
	struct heap h = {0};
	size_t next = 0;
	for (size_t bi = 0; bi < nb; bi++) {
		struct u128 b = bounds[bi];
		if (bi && !u128_cmp(b, bounds[bi - 1]))
			continue;
		while (next < rv->n && !u128_cmp(rv->v[next].lo, b))
			heap_push(&h, &rv->v[next++]);
		while (h.n && u128_cmp(h.v[0]->hi, b) < 0)
			heap_pop(&h);
		uint32_t rec = h.n ? (uint32_t)(h.v[0] - rv->v) + 1 : 0;
		seg_push(out, b, rec);
	}
	free(h.v);
	free(bounds);
}

static int cmp_name(const void *a, const void *b)
{
	const struct namerec *x = a, *y = b;
	if (x->asn != y->asn)
		return x->asn < y->asn ? -1 : 1;
	/* later (higher offset) first so dedup keeps the last given */
	return x->off < y->off ? 1 : (x->off > y->off ? -1 : 0);
}

/* big_alloc - n bytes on transparent huge pages from 1 MiB (fewer TLB
 * misses for lookups at random, one fault instead of 256 or more);
 * released with free(). */
static void *big_alloc(size_t n)
{
	const size_t huge = (size_t)2 << 20;
	void *p = NULL;
	if (n < huge / 2 || posix_memalign(&p, huge, (n + huge - 1) & ~(huge - 1)))
		return xmalloc(n ? n : 1);
	madvise(p, (n + huge - 1) & ~(huge - 1), MADV_HUGEPAGE);
	return p;
}

static uint32_t rec_asn4(const struct asn_table *t, size_t j)
{
	uint32_t r = t->seg4[j];
	return r ? t->rec4[r - 1].asn : 0;
}

static void build_index4(struct asn_table *t)
{
	t->sa4 = big_alloc(t->nseg4 * sizeof *t->sa4);
	for (size_t j = 0; j < t->nseg4; j++) {
		t->sa4[j].start = t->start4[j];
		t->sa4[j].asn = rec_asn4(t, j);
	}
	size_t nb = (size_t)1 << IDX4_BITS;
	t->idx4 = big_alloc((nb + 1) * sizeof *t->idx4);
	size_t j = 0;
	for (size_t k = 0; k <= nb; k++) {
		uint64_t key = (uint64_t)k << (32 - IDX4_BITS);
		while (j < t->nseg4 && t->start4[j] < key)
			j++;
		t->idx4[k] = (uint32_t)j;
	}
}

static void build_index6(struct asn_table *t)
{
	t->asn6 = xmalloc((t->nseg6 + 1) * sizeof *t->asn6);
	for (size_t j = 0; j < t->nseg6; j++)
		t->asn6[j] = t->seg6[j] ? t->rec6[t->seg6[j] - 1].asn : 0;
	size_t nb = (size_t)1 << IDX6_BITS;
	t->idx6 = xmalloc((nb + 1) * sizeof *t->idx6);
	size_t j = 0;
	for (size_t k = 0; k <= nb; k++) {
		uint64_t key = (uint64_t)k << (64 - IDX6_BITS);
		while (j < t->nseg6 && (k == nb || t->start6_hi[j] < key))
			j++;
		t->idx6[k] = (uint32_t)j;
	}
}

struct asn_table *asn_builder_finish(struct asn_builder *b)
{
	struct asn_table *t = xcalloc(1, sizeof *t);
	struct segvec s4 = {0}, s6 = {0};
	flatten(&b->r4, &s4);
	flatten(&b->r6, &s6);

	/* Keep only records that won a segment, renumbered densely. */
	uint32_t *map4 = xcalloc(b->r4.n + 1, sizeof *map4);
	uint32_t *map6 = xcalloc(b->r6.n + 1, sizeof *map6);
	size_t nr4 = 0, nr6 = 0;
	for (size_t i = 0; i < s4.n; i++)
		if (s4.rec[i] && !map4[s4.rec[i]])
			map4[s4.rec[i]] = (uint32_t)++nr4;
	for (size_t i = 0; i < s6.n; i++)
		if (s6.rec[i] && !map6[s6.rec[i]])
			map6[s6.rec[i]] = (uint32_t)++nr6;
	struct rec4 *r4 = xcalloc(nr4 + 1, sizeof *r4);
	struct rec6 *r6 = xcalloc(nr6 + 1, sizeof *r6);
	for (size_t i = 1; i <= b->r4.n; i++)
		if (map4[i]) {
			const struct range *r = &b->r4.v[i - 1];
			struct rec4 *o = &r4[map4[i] - 1];
			o->lo = (uint32_t)r->lo.lo;
			o->hi = (uint32_t)r->hi.lo;
			o->asn = r->asn;
		}
	for (size_t i = 1; i <= b->r6.n; i++)
		if (map6[i]) {
			const struct range *r = &b->r6.v[i - 1];
			struct rec6 *o = &r6[map6[i] - 1];
			o->lo_hi = r->lo.hi;
			o->lo_lo = r->lo.lo;
			o->hi_hi = r->hi.hi;
			o->hi_lo = r->hi.lo;
			o->asn = r->asn;
		}
	uint32_t *st4 = xmalloc((s4.n + 1) * sizeof *st4), *sg4 = xmalloc((s4.n + 1) * sizeof *sg4);
	for (size_t i = 0; i < s4.n; i++) {
		st4[i] = (uint32_t)s4.start[i].lo;
		sg4[i] = s4.rec[i] ? map4[s4.rec[i]] : 0;
	}
	uint64_t *st6h = xmalloc((s6.n + 1) * sizeof *st6h),
		 *st6l = xmalloc((s6.n + 1) * sizeof *st6l);
	uint32_t *sg6 = xmalloc((s6.n + 1) * sizeof *sg6);
	for (size_t i = 0; i < s6.n; i++) {
		st6h[i] = s6.start[i].hi;
		st6l[i] = s6.start[i].lo;
		sg6[i] = s6.rec[i] ? map6[s6.rec[i]] : 0;
	}
	free(map4);
	free(map6);
	free(s4.start);
	free(s4.rec);
	free(s6.start);
	free(s6.rec);

	/* Names: sort by AS, keep the last one given per AS. */
	if (b->nnames) /* qsort on an empty (NULL) array is undefined */
		qsort(b->names, b->nnames, sizeof *b->names, cmp_name);
	size_t nn = 0;
	for (size_t i = 0; i < b->nnames; i++)
		if (!nn || b->names[nn - 1].asn != b->names[i].asn)
			b->names[nn++] = b->names[i];

	t->start4 = st4;
	t->seg4 = sg4;
	t->nseg4 = s4.n;
	t->start6_hi = st6h;
	t->start6_lo = st6l;
	t->seg6 = sg6;
	t->nseg6 = s6.n;
	t->rec4 = r4;
	t->nrec4 = nr4;
	t->rec6 = r6;
	t->nrec6 = nr6;
	t->names = b->names;
	t->nnames = nn;
	t->pool = b->pool ? b->pool : xcalloc(1, 1);
	t->poollen = b->pool ? b->poollen : 1;
	void *owned[8] = {st4, sg4, st6h, st6l, sg6, r4, r6, (void *)t->pool};
	memcpy(t->owned, owned, sizeof owned);
	t->owned[7] = (void *)t->pool;
	/* names array is handed over too */
	b->pool = NULL;
	struct namerec *names_owned = b->names;
	b->names = NULL;
	asn_builder_free(b);
	t->names = names_owned;
	build_index4(t);
	build_index6(t);
	return t;
}

void asn_table_free(struct asn_table *t)
{
	if (!t)
		return;
	free(t->idx4);
	free(t->idx6);
	free(t->sa4);
	free(t->asn6);
	if (t->map) {
		munmap(t->map, t->maplen);
	} else {
		for (int i = 0; i < 8; i++)
			free(t->owned[i]);
		free((void *)t->names);
	}
	free(t);
}

/* ---- lookup ---- */

uint32_t asn_table_find4(const struct asn_table *t, uint32_t ip)
{
	uint32_t k = ip >> (32 - IDX4_BITS);
	uint32_t lo = t->idx4[k], n = t->idx4[k + 1] - lo;
	const struct seg_asn *s = t->sa4;
	if (n == 0) /* no segment starts in this bucket: the one before covers it */
		return lo ? s[lo - 1].asn : 0;
	/* branch-free upper_bound(ip) in [lo, lo + n): the comparisons become
	 * conditional moves, so a batch of lookups overlaps its cache misses
	 * instead of flushing the pipeline on each mispredicted branch */
	const struct seg_asn *b = s + lo;
	while (n > 1) {
		uint32_t half = n / 2;
		b = b[half].start <= ip ? b + half : b;
		n -= half;
	}
	size_t ub = (size_t)(b - s) + (b->start <= ip);
	return ub ? s[ub - 1].asn : 0;
}

void asn_table_find4_batch(const struct asn_table *t, const uint32_t *ip, uint32_t *out, size_t n)
{
	enum { MAXB = 4096 };
	uint32_t lo[MAXB], cnt[MAXB];
	if (n > MAXB) {
		for (size_t i = 0; i < n; i++)
			out[i] = asn_table_find4(t, ip[i]);
		return;
	}
	for (size_t i = 0; i < n; i++)
		__builtin_prefetch(&t->idx4[ip[i] >> (32 - IDX4_BITS)]);
	for (size_t i = 0; i < n; i++) {
		uint32_t k = ip[i] >> (32 - IDX4_BITS);
		lo[i] = t->idx4[k];
		cnt[i] = t->idx4[k + 1] - lo[i];
		/* the segment before the bucket and the middle of the bucket:
		 * usually one line holds the whole search */
		__builtin_prefetch(&t->sa4[lo[i] ? lo[i] - 1 : 0]);
		__builtin_prefetch(&t->sa4[lo[i] + cnt[i] / 2]);
	}
	const struct seg_asn *s = t->sa4;
	for (size_t i = 0; i < n; i++) {
		uint32_t m = cnt[i];
		if (m == 0) {
			out[i] = lo[i] ? s[lo[i] - 1].asn : 0;
			continue;
		}
		const struct seg_asn *b = s + lo[i];
		while (m > 1) {
			uint32_t half = m / 2;
			b = b[half].start <= ip[i] ? b + half : b;
			m -= half;
		}
		size_t ub = (size_t)(b - s) + (b->start <= ip[i]);
		out[i] = ub ? s[ub - 1].asn : 0;
	}
}

static uint32_t seg_index6(const struct asn_table *t, struct u128 ip)
{
	uint32_t k = (uint32_t)(ip.hi >> (64 - IDX6_BITS));
	uint32_t lo = t->idx6[k], hi = t->idx6[k + 1];
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct u128 s = {t->start6_hi[mid], t->start6_lo[mid]};
		if (u128_cmp(s, ip) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? t->seg6[lo - 1] : 0;
}

uint32_t asn_table_find6(const struct asn_table *t, struct u128 ip)
{
	uint32_t k = (uint32_t)(ip.hi >> (64 - IDX6_BITS));
	uint32_t lo = t->idx6[k], n = t->idx6[k + 1] - lo;
	if (n == 0)
		return lo ? t->asn6[lo - 1] : 0;
	/* branch-free upper_bound, as in asn_table_find4: IPv6 buckets hold
	 * more segments, and mispredicted compares cost more than the loads */
	const uint64_t *sh = t->start6_hi, *sl = t->start6_lo;
	size_t b = lo;
	while (n > 1) {
		uint32_t half = n / 2;
		size_t m = b + half;
		int le = (sh[m] < ip.hi) | ((sh[m] == ip.hi) & (sl[m] <= ip.lo));
		b = le ? m : b;
		n -= half;
	}
	size_t ub = b + ((sh[b] < ip.hi) | ((sh[b] == ip.hi) & (sl[b] <= ip.lo)));
	return ub ? t->asn6[ub - 1] : 0;
}

uint32_t asn_table_find(const struct asn_table *t, const struct asn_ip *ip)
{
	/* a table of one segment (nothing loaded, e.g. no prefix contacts:
	 * `notify plan` asks it once per incident) answers without the index */
	if (ip->v6)
		return t->nseg6 == 1 ? t->asn6[0] : asn_table_find6(t, ip->a6);
	return t->nseg4 == 1 ? t->sa4[0].asn : asn_table_find4(t, ip->v4);
}

static uint32_t seg_index4(const struct asn_table *t, uint32_t ip)
{
	uint32_t k = ip >> (32 - IDX4_BITS);
	uint32_t lo = t->idx4[k], hi = t->idx4[k + 1];
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (t->start4[mid] <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? t->seg4[lo - 1] : 0;
}

const char *asn_table_name(const struct asn_table *t, uint32_t asn)
{
	size_t lo = 0, hi = t->nnames;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->names[mid].asn < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->nnames && t->names[lo].asn == asn)
		return t->pool + t->names[lo].off;
	return "";
}

/* prefix_len - the CIDR length if lo..hi is exactly one prefix, else -1. */
static int prefix_len(struct u128 lo, struct u128 hi, int bits)
{
	struct u128 size = u128_sub(hi, lo); /* size - 1: must be 2^k - 1 */
	int k = 0;
	if (size.hi) {
		if (size.lo != UINT64_MAX || (size.hi & (size.hi + 1)))
			return -1;
		k = 64 + __builtin_popcountll(size.hi);
	} else {
		if (size.lo & (size.lo + 1))
			return -1;
		k = __builtin_popcountll(size.lo);
	}
	/* lo must be aligned to the block */
	if (k >= 64 ? (lo.lo || (k < 128 && (lo.hi & ((1ull << (k - 64)) - 1))))
		    : (k && (lo.lo & ((1ull << k) - 1))))
		return -1;
	return bits - k;
}

void asn_table_lookup(const struct asn_table *t, const struct asn_ip *ip, struct asn_hit *hit)
{
	memset(hit, 0, sizeof *hit);
	hit->name = "";
	struct asn_ip a = {0}, z = {0};
	struct u128 lo, hi;
	int bits;
	if (!ip->v6) {
		uint32_t r = seg_index4(t, ip->v4);
		if (!r)
			return;
		const struct rec4 *x = &t->rec4[r - 1];
		hit->asn = x->asn;
		a.v4 = x->lo;
		z.v4 = x->hi;
		lo.hi = hi.hi = 0;
		lo.lo = x->lo;
		hi.lo = x->hi;
		bits = 32;
	} else {
		uint32_t r = seg_index6(t, ip->a6);
		if (!r)
			return;
		const struct rec6 *x = &t->rec6[r - 1];
		hit->asn = x->asn;
		a.v6 = z.v6 = 1;
		a.a6.hi = lo.hi = x->lo_hi;
		a.a6.lo = lo.lo = x->lo_lo;
		z.a6.hi = hi.hi = x->hi_hi;
		z.a6.lo = hi.lo = x->hi_lo;
		bits = 128;
	}
	hit->found = 1;
	hit->name = asn_table_name(t, hit->asn);
	char s1[46], s2[46];
	asn_format_ip(&a, s1, sizeof s1);
	int pl = prefix_len(lo, hi, bits);
	if (pl >= 0) {
		snprintf(hit->prefix, sizeof hit->prefix, "%s/%d", s1, pl);
	} else {
		asn_format_ip(&z, s2, sizeof s2);
		snprintf(hit->prefix, sizeof hit->prefix, "%s-%s", s1, s2);
	}
}

void asn_table_stats(const struct asn_table *t, struct asn_stats *s)
{
	s->ranges4 = t->nrec4;
	s->ranges6 = t->nrec6;
	s->segments4 = t->nseg4;
	s->segments6 = t->nseg6;
	s->names = t->nnames;
	s->mapped = t->map != NULL;
	s->bytes = t->nseg4 * 8 + t->nseg6 * 20 + t->nrec4 * sizeof(struct rec4) +
		   t->nrec6 * sizeof(struct rec6) + t->nnames * sizeof(struct namerec) +
		   t->poollen + (((size_t)1 << IDX4_BITS) + ((size_t)1 << IDX6_BITS) + 2) * 4;
}

/* ---- compiled file ---- */

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static int write_all(FILE *f, const void *p, size_t n)
{
	static const char zeros[8];
	if (n && fwrite(p, 1, n, f) != n)
		return -1;
	size_t pad = pad8(n) - n;
	if (pad && fwrite(zeros, 1, pad, f) != pad)
		return -1;
	return 0;
}

int asn_table_save(const struct asn_table *t, const char *path, char **err)
{
	size_t tl = strlen(path) + 16;
	char *tmp = xmalloc(tl);
	snprintf(tmp, tl, "%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		size_t el = strlen(tmp) + 256;
		*err = xmalloc(el);
		snprintf(*err, el, "cannot create '%s': %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	struct file_header h;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, FILE_MAGIC, sizeof FILE_MAGIC);
	h.endian = 0x01020304;
	h.version = 1;
	h.nseg4 = t->nseg4;
	h.nseg6 = t->nseg6;
	h.nrec4 = t->nrec4;
	h.nrec6 = t->nrec6;
	h.nnames = t->nnames;
	h.poollen = t->poollen;
	int bad = write_all(f, &h, sizeof h) || write_all(f, t->start4, t->nseg4 * 4) ||
		  write_all(f, t->seg4, t->nseg4 * 4) || write_all(f, t->start6_hi, t->nseg6 * 8) ||
		  write_all(f, t->start6_lo, t->nseg6 * 8) || write_all(f, t->seg6, t->nseg6 * 4) ||
		  write_all(f, t->rec4, t->nrec4 * sizeof *t->rec4) ||
		  write_all(f, t->rec6, t->nrec6 * sizeof *t->rec6) ||
		  write_all(f, t->names, t->nnames * sizeof *t->names) ||
		  write_all(f, t->pool, t->poollen);
	if (fflush(f) || fsync(fileno(f)))
		bad = 1;
	if (fclose(f))
		bad = 1;
	if (bad || rename(tmp, path)) {
		size_t el = strlen(path) + 256;
		*err = xmalloc(el);
		snprintf(*err, el, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* asn_table_map - map a compiled file; NULL with *why set when the file is
 * not one or fails validation. *is_compiled is 1 for a (bad) compiled
 * file, -1 when the file cannot be opened, 0 for another format. */
struct asn_table *asn_table_map(const char *path, int *is_compiled, char *why, size_t whylen);

struct asn_table *asn_table_map(const char *path, int *is_compiled, char *why, size_t whylen)
{
	*is_compiled = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open '%s': %s", path, strerror(errno));
		*is_compiled = -1;
		return NULL;
	}
	struct stat sb;
	struct file_header h;
	if (fstat(fd, &sb) || pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
	    memcmp(h.magic, FILE_MAGIC, sizeof FILE_MAGIC)) {
		close(fd);
		snprintf(why, whylen, "'%s' is not a compiled table", path);
		return NULL;
	}
	*is_compiled = 1;
	if (h.endian != 0x01020304 || h.version != 1) {
		close(fd);
		snprintf(why, whylen, "'%s': compiled table of another version or byte order",
			 path);
		return NULL;
	}
	/* bound every count by the file size before multiplying */
	uint64_t fsz = (uint64_t)sb.st_size;
	if (h.nseg4 > fsz || h.nseg6 > fsz || h.nrec4 > fsz || h.nrec6 > fsz || h.nnames > fsz ||
	    h.poollen > fsz || h.nseg4 > UINT32_MAX || h.nseg6 > UINT32_MAX) {
		close(fd);
		snprintf(why, whylen, "'%s': corrupt compiled table (counts)", path);
		return NULL;
	}
	size_t off[10], sz[10] = {
			    h.nseg4 * 4,
			    h.nseg4 * 4,
			    h.nseg6 * 8,
			    h.nseg6 * 8,
			    h.nseg6 * 4,
			    h.nrec4 * sizeof(struct rec4),
			    h.nrec6 * sizeof(struct rec6),
			    h.nnames * sizeof(struct namerec),
			    h.poollen,
			    0,
			};
	size_t pos = pad8(sizeof h);
	for (int i = 0; i < 9; i++) {
		off[i] = pos;
		pos += pad8(sz[i]);
	}
	if (pos != fsz) {
		close(fd);
		snprintf(why, whylen, "'%s': corrupt compiled table (size %llu, expected %zu)",
			 path, (unsigned long long)fsz, pos);
		return NULL;
	}
	/* Map the file: lookups no longer touch its big arrays at random
	 * (IPv4 goes through sa4/idx4, built at load into anonymous huge
	 * pages, IPv6 through idx6/asn6 and the sorted starts), so the TLB
	 * misses that once made a huge-page copy of the whole file worth it
	 * are gone, and so are its 30 MiB of copying and fresh pages.
	 * asn_table_save replaces a table by rename, never in place, so a
	 * running process keeps reading the file it mapped. */
	void *m = mmap(NULL, fsz, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(why, whylen, "cannot map '%s': %s", path, strerror(errno));
		return NULL;
	}
	size_t maplen = fsz;
	/* its pages are read at once by the checks below: map them in one
	 * call instead of ~500 faults (errors only mean faults later) */
	madvise(m, fsz, MADV_POPULATE_READ);
	const char *base = m;
	struct asn_table *t = xcalloc(1, sizeof *t);
	t->map = m;
	t->maplen = maplen;
	t->start4 = (const uint32_t *)(base + off[0]);
	t->seg4 = (const uint32_t *)(base + off[1]);
	t->start6_hi = (const uint64_t *)(base + off[2]);
	t->start6_lo = (const uint64_t *)(base + off[3]);
	t->seg6 = (const uint32_t *)(base + off[4]);
	t->rec4 = (const struct rec4 *)(base + off[5]);
	t->rec6 = (const struct rec6 *)(base + off[6]);
	t->names = (const struct namerec *)(base + off[7]);
	t->pool = base + off[8];
	t->nseg4 = h.nseg4;
	t->nseg6 = h.nseg6;
	t->nrec4 = h.nrec4;
	t->nrec6 = h.nrec6;
	t->nnames = h.nnames;
	t->poollen = h.poollen;
	/* Validate: sorted starts from 0, record indices in range, names in
	 * the pool, pool NUL-terminated. */
	int ok = t->nseg4 >= 1 && t->nseg6 >= 1 && t->start4[0] == 0 && t->start6_hi[0] == 0 &&
		 t->start6_lo[0] == 0 && t->poollen >= 1 && t->pool[t->poollen - 1] == '\0';
	for (size_t i = 0; ok && i < t->nseg4; i++)
		ok = t->seg4[i] <= t->nrec4 && (i == 0 || t->start4[i] > t->start4[i - 1]);
	for (size_t i = 0; ok && i < t->nseg6; i++) {
		ok = t->seg6[i] <= t->nrec6;
		if (ok && i) {
			struct u128 a = {t->start6_hi[i - 1], t->start6_lo[i - 1]};
			struct u128 b = {t->start6_hi[i], t->start6_lo[i]};
			ok = u128_cmp(a, b) < 0;
		}
	}
	for (size_t i = 0; ok && i < t->nnames; i++)
		ok = t->names[i].off < t->poollen &&
		     (i == 0 || t->names[i].asn > t->names[i - 1].asn);
	if (!ok) {
		asn_table_free(t);
		snprintf(why, whylen, "'%s': corrupt compiled table (contents)", path);
		return NULL;
	}
	build_index4(t);
	build_index6(t);
	return t;
}
