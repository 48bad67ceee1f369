/*
 * plan.c - group unbatched incidents into notification batches (plan.h).
 *
 * One pass over the unbatched incidents (rows of the older incident table,
 * then the packed blocks, decoded without text addresses): each is resolved to its contact
 * (prefix contact, else AS contact) and counted into the group (contact,
 * AS) found through a small open-addressing hash. Distinct IPv6
 * addresses per group are counted with a hash set of (group, address);
 * IPv4 addresses arrive in runs of one group (blocks are sorted by AS), so
 * each run is sorted and de-duplicated on its own, in cache, and only a
 * group met in several runs (several feed runs, prefix contacts) is
 * counted again over all its run-distinct keys at the end. Everything is
 * sized to the data and freed at the end: no global state.
 */
#include "notify/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/xalloc.h"
#include "enrich/asn.h"
#include "notify/contacts.h"
#include "store/store.h"
#include "store/store_notify.h"

struct ipkey {
	uint64_t hi, lo; /* v4 in lo with hi = 1<<63 marker */
	uint32_t group;
	uint32_t used;
};

struct pctx {
	struct plan *p;
	const struct contacts *c;
	int keep_ids;
	int64_t *gkeys; /* group hash: (contact index+1)<<32 | asn, -1 empty */
	uint32_t *gidx;
	size_t gslots;
	struct ipkey *ips; /* distinct (group, IPv6 address) */
	size_t islots, nips;
	const struct contact *last_ct;
	uint64_t *k4; /* group << 32 | IPv4 address, distinct within its run */
	size_t nk4, capk4;
	uint32_t *run, *tmp; /* the current run's IPv4 addresses, sort scratch */
	size_t nrun, caprun;
	uint32_t run_group;   /* UINT32_MAX: no run open */
	unsigned char *gruns; /* per group: runs seen (saturating at 2) */
	long *d4;	      /* per group: distinct IPv4 addresses */
	size_t capg;
};

/* thp_alloc - n bytes (released with free, grown with realloc) on
 * transparent huge pages when large: the plan of a million-event feed
 * fills ~10 MB of arrays, and 4 KiB page faults (each dear on a virtual
 * machine) cost more than the counting. Pages are touched on use only;
 * from 1 MiB up, as one zeroed huge page is cheaper than 256 faults. */
static void *thp_alloc(size_t n)
{
	const size_t huge = (size_t)2 << 20;
	void *p = NULL;
	if (n < huge / 2 || posix_memalign(&p, huge, (n + huge - 1) & ~(huge - 1)))
		return xmalloc(n ? n : 1);
	madvise(p, (n + huge - 1) & ~(huge - 1), MADV_HUGEPAGE);
	return p;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static void ips_grow(struct pctx *x)
{
	size_t ns = x->islots ? x->islots * 2 : 1 << 16;
	struct ipkey *n = thp_alloc(ns * sizeof *n);
	memset(n, 0, ns * sizeof *n);
	for (size_t i = 0; i < x->islots; i++) {
		struct ipkey *k = &x->ips[i];
		if (!k->used)
			continue;
		size_t h = mix(k->hi * 31 ^ k->lo ^ (uint64_t)k->group << 17) & (ns - 1);
		while (n[h].used)
			h = (h + 1) & (ns - 1);
		n[h] = *k;
	}
	free(x->ips);
	x->ips = n;
	x->islots = ns;
}

/* sort_u32 - ascending; insertion sort for short runs, else LSD radix
 * 8 bits a pass through tmp (n entries). */
static void sort_u32(uint32_t *a, uint32_t *tmp, size_t n)
{
	if (n <= 32) {
		for (size_t i = 1; i < n; i++) {
			uint32_t v = a[i];
			size_t j = i;
			while (j && a[j - 1] > v) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = v;
		}
		return;
	}
	size_t cnt[256];
	uint32_t *src = a, *dst = tmp;
	for (int sh = 0; sh < 32; sh += 8) {
		memset(cnt, 0, sizeof cnt);
		for (size_t i = 0; i < n; i++)
			cnt[(src[i] >> sh) & 255]++;
		size_t sum = 0;
		for (int i = 0; i < 256; i++) {
			size_t c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[(src[i] >> sh) & 255]++] = src[i];
		uint32_t *t = src;
		src = dst;
		dst = t;
	}
	/* four passes: the result is back in a */
}

/* run_flush - count the open run's distinct addresses for its group and
 * keep them (run-distinct) in case the group comes back. */
static void run_flush(struct pctx *x)
{
	if (!x->nrun)
		return;
	uint32_t g = x->run_group;
	sort_u32(x->run, x->tmp, x->nrun);
	if (x->nk4 + x->nrun > x->capk4) {
		x->capk4 = (x->nk4 + x->nrun) * 2;
		x->k4 = xrealloc(x->k4, x->capk4 * sizeof *x->k4);
	}
	long d = 0;
	for (size_t i = 0; i < x->nrun; i++)
		if (i == 0 || x->run[i] != x->run[i - 1]) {
			x->k4[x->nk4++] = (uint64_t)g << 32 | x->run[i];
			d++;
		}
	x->d4[g] += d;
	x->gruns[g] += x->gruns[g] < 2;
	x->nrun = 0;
}

/* ip_add - 1 when (group, ip) is new; IPv4 addresses only join the open
 * run (0 here) and are counted by run_flush and count_v4: a million
 * random hash inserts cost more in cache and page misses than sorting. */
static int ip_add(struct pctx *x, uint32_t group, const struct asn_ip *ip)
{
	if (!ip->v6) {
		if (group != x->run_group) {
			run_flush(x);
			x->run_group = group;
		}
		if (x->nrun == x->caprun) {
			x->caprun = x->caprun ? x->caprun * 2 : 4096;
			x->run = xrealloc(x->run, x->caprun * sizeof *x->run);
			free(x->tmp);
			x->tmp = xmalloc(x->caprun * sizeof *x->tmp);
		}
		x->run[x->nrun++] = ip->v4;
		return 0;
	}
	if ((x->nips + 1) * 2 > x->islots)
		ips_grow(x);
	uint64_t hi = ip->v6 ? ip->a6.hi : 1ull << 63, lo = ip->v6 ? ip->a6.lo : ip->v4;
	size_t h = mix(hi * 31 ^ lo ^ (uint64_t)group << 17) & (x->islots - 1);
	for (;;) {
		struct ipkey *k = &x->ips[h];
		if (!k->used) {
			k->hi = hi;
			k->lo = lo;
			k->group = group;
			k->used = 1;
			x->nips++;
			return 1;
		}
		if (k->hi == hi && k->lo == lo && k->group == group)
			return 0;
		h = (h + 1) & (x->islots - 1);
	}
}

static uint32_t group_of(struct pctx *x, const struct contact *ct, uint32_t asn)
{
	struct plan *p = x->p;
	int64_t key =
	    (int64_t)((uint64_t)(ct ? (uint32_t)(ct - contacts_at(x->c, 0)) + 1 : 0) << 32 | asn);
	if ((p->n + 1) * 2 > x->gslots) {
		size_t ns = x->gslots ? x->gslots * 2 : 1024;
		int64_t *nk = thp_alloc(ns * sizeof *nk);
		uint32_t *ni = thp_alloc(ns * sizeof *ni);
		memset(nk, 0xff, ns * sizeof *nk);
		for (size_t i = 0; i < x->gslots; i++) {
			if (x->gkeys[i] < 0)
				continue;
			size_t h = mix((uint64_t)x->gkeys[i]) & (ns - 1);
			while (nk[h] >= 0)
				h = (h + 1) & (ns - 1);
			nk[h] = x->gkeys[i];
			ni[h] = x->gidx[i];
		}
		free(x->gkeys);
		free(x->gidx);
		x->gkeys = nk;
		x->gidx = ni;
		x->gslots = ns;
	}
	size_t h = mix((uint64_t)key) & (x->gslots - 1);
	while (x->gkeys[h] >= 0) {
		if (x->gkeys[h] == key)
			return x->gidx[h];
		h = (h + 1) & (x->gslots - 1);
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		p->v = xrealloc(p->v, p->cap * sizeof *p->v);
	}
	if (p->n == x->capg) {
		size_t nc = x->capg ? x->capg * 2 : p->cap;
		x->gruns = xrealloc(x->gruns, nc);
		x->d4 = xrealloc(x->d4, nc * sizeof *x->d4);
		x->capg = nc;
	}
	x->gruns[p->n] = 0;
	x->d4[p->n] = 0;
	struct plan_batch *b = &p->v[p->n];
	memset(b, 0, sizeof *b);
	b->asn = asn;
	b->contact = ct;
	b->first = INT64_MAX;
	x->gkeys[h] = key;
	x->gidx[h] = (uint32_t)p->n;
	return (uint32_t)p->n++;
}

static int each(void *ctx, const struct incident_row *r)
{
	struct pctx *x = ctx;
	struct asn_ip ip;
	if (asn_parse_ip(r->ip, strlen(r->ip), &ip))
		return 0; /* written by feed.c from a parsed address: cannot happen */
	const struct contact *ct = contacts_resolve(x->c, &ip, r->asn);
	uint32_t g = group_of(x, ct, r->asn);
	struct plan_batch *b = &x->p->v[g];
	b->events += r->events;
	b->incidents++;
	b->distinct_ips += ip_add(x, g, &ip);
	if (r->first_time < b->first)
		b->first = r->first_time;
	if (r->last_time > b->last)
		b->last = r->last_time;
	x->p->incidents++;
	x->p->events += r->events;
	if (x->keep_ids) {
		if (b->nids == b->capids) {
			b->capids = b->capids ? b->capids * 2 : 16;
			b->ids = xrealloc(b->ids, b->capids * sizeof *b->ids);
		}
		b->ids[b->nids++] = r->id;
	}
	return 0;
}

/* each_block - the unbatched incidents of one packed block: the same
 * counting as each() without going through text addresses. */
static int each_block(void *ctx, struct incident_block *blk)
{
	struct pctx *x = ctx;
	const struct contact *last_ct = NULL;
	uint32_t g = UINT32_MAX, last_asn = 0;
	for (size_t i = 0; i < blk->n; i++) {
		const struct incident_rec *r = &blk->v[i];
		if (r->batch_id)
			continue;
		const struct contact *ct = contacts_resolve(x->c, &r->ip, r->asn);
		if (g == UINT32_MAX || ct != last_ct || r->asn != last_asn) {
			g = group_of(x, ct, r->asn);
			last_ct = ct;
			last_asn = r->asn;
		}
		struct plan_batch *b = &x->p->v[g];
		b->events += r->events;
		b->incidents++;
		b->distinct_ips += ip_add(x, g, &r->ip);
		if (r->first < b->first)
			b->first = r->first;
		if (r->last > b->last)
			b->last = r->last;
		x->p->incidents++;
		x->p->events += r->events;
		if (x->keep_ids) {
			if (b->nids == b->capids) {
				b->capids = b->capids ? b->capids * 2 : 16;
				b->ids = xrealloc(b->ids, b->capids * sizeof *b->ids);
			}
			b->ids[b->nids++] = INCIDENT_BLOCK_ID(blk->id, (int64_t)i);
		}
	}
	return 0;
}

/* count_v4 - close the last run; groups met in several runs are counted
 * again over their run-distinct keys (radix-sorted); then the IPv4 counts
 * join the IPv6 ones. */
static void count_v4(struct pctx *x)
{
	run_flush(x);
	size_t n = 0;
	for (size_t i = 0; i < x->nk4; i++)
		if (x->gruns[x->k4[i] >> 32] > 1)
			x->k4[n++] = x->k4[i];
	if (n) {
		uint64_t *a = x->k4, *b = xmalloc(n * sizeof *b);
		size_t *cnt = xmalloc(65537 * sizeof *cnt);
		for (int sh = 0; sh < 64; sh += 16) {
			memset(cnt, 0, 65537 * sizeof *cnt);
			for (size_t i = 0; i < n; i++)
				cnt[((a[i] >> sh) & 0xffff) + 1]++;
			if (cnt[1] == n)
				continue; /* all zero in these bits (few groups) */
			for (size_t i = 1; i < 65537; i++)
				cnt[i] += cnt[i - 1];
			for (size_t i = 0; i < n; i++)
				b[cnt[(a[i] >> sh) & 0xffff]++] = a[i];
			uint64_t *t = a;
			a = b;
			b = t;
		}
		for (size_t i = 0; i < n; i++)
			x->d4[a[i] >> 32] = 0;
		for (size_t i = 0; i < n; i++)
			if (i == 0 || a[i] != a[i - 1])
				x->d4[a[i] >> 32]++;
		free(cnt);
		free(a == x->k4 ? b : x->k4);
		x->k4 = a;
	}
	for (size_t g = 0; g < x->p->n; g++)
		x->p->v[g].distinct_ips += x->d4[g];
}

static int cmp_batch(const void *a, const void *b)
{
	const struct plan_batch *x = a, *y = b;
	if (x->asn != y->asn)
		return x->asn < y->asn ? -1 : 1;
	const char *ax = x->contact ? x->contact->address : "";
	const char *ay = y->contact ? y->contact->address : "";
	return strcmp(ax, ay);
}

int plan_build(struct store *st, const struct contacts *c, int64_t now, int keep_ids,
	       struct plan *p, char *why, size_t whylen)
{
	memset(p, 0, sizeof *p);
	struct pctx x;
	memset(&x, 0, sizeof x);
	x.p = p;
	x.c = c;
	x.keep_ids = keep_ids;
	x.run_group = UINT32_MAX;
	struct block_filter f = {INT64_MIN, -1, 1, 0};
	int64_t expect = 0;
	if (store_blocks_unbatched(st, &expect) == STORE_OK && expect > 0 &&
	    expect < ((int64_t)1 << 30)) {
		x.capk4 = (size_t)expect / 2 + 1024; /* run-distinct keys: fewer */
		x.k4 = thp_alloc(x.capk4 * sizeof *x.k4);
		/* room for as many batches as incidents, up to 2^20: only the
		 * pages used are touched (at most one batch per incident) */
		p->cap = (size_t)expect < ((size_t)1 << 20) ? (size_t)expect + 16 : (size_t)1 << 20;
		p->v = thp_alloc(p->cap * sizeof *p->v);
		x.capg = p->cap;
		x.gruns = thp_alloc(x.capg);
		x.d4 = thp_alloc(x.capg * sizeof *x.d4);
		/* the group hash sized for about one batch per 8 incidents
		 * (one AS per ~12 incidents on the benchmark): no regrowth */
		size_t gs = 1024;
		while (gs < (size_t)expect / 4 && gs < ((size_t)1 << 21))
			gs *= 2;
		x.gslots = gs;
		x.gkeys = thp_alloc(gs * sizeof *x.gkeys);
		x.gidx = thp_alloc(gs * sizeof *x.gidx);
		memset(x.gkeys, 0xff, gs * sizeof *x.gkeys);
	}
	int rc = store_incidents_unbatched(st, each, &x);
	if (rc == STORE_OK)
		rc = store_blocks_each(st, &f, each_block, &x);
	if (rc == STORE_OK)
		count_v4(&x);
	free(x.k4);
	free(x.run);
	free(x.tmp);
	free(x.gruns);
	free(x.d4);
	free(x.gkeys);
	free(x.gidx);
	free(x.ips);
	if (rc != STORE_OK) {
		snprintf(why, whylen, "reading incidents: %s", store_notify_errmsg(st));
		plan_free(p);
		return -1;
	}
	/* batches are made in block order, which is AS order within a feed
	 * run: often sorted already, and then left as they are (the same
	 * order glibc's merge-sorting qsort gives, equal batches included);
	 * qsort on an empty (NULL) array is undefined */
	int sorted = 1;
	for (size_t i = 1; i < p->n && sorted; i++)
		sorted = cmp_batch(&p->v[i - 1], &p->v[i]) <= 0;
	if (p->n && !sorted)
		qsort(p->v, p->n, sizeof *p->v, cmp_batch);
	for (size_t i = 0; i < p->n; i++) {
		struct plan_batch *b = &p->v[i];
		if (!b->contact)
			continue;
		int64_t last = 0;
		store_batch_last_for(st, b->contact->address, b->asn, &last);
		b->due_at = last ? last + b->contact->interval : now;
		b->due = b->due_at <= now;
	}
	return 0;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].ids);
	free(p->v);
	memset(p, 0, sizeof *p);
}
