/*
 * campaign.c - the online campaign engine: each report joins the most
 * similar live campaign or starts one, in bounded time per report.
 *
 * Per report: features (features.c) give at most CF_MAX_KEYS lookup keys.
 * Each key is looked up in the store's campaign_key index, which returns at
 * most KEY_FANOUT campaigns; a key shared by that many campaigns is
 * "common" (shared infrastructure the ignore list does not know yet, a
 * boilerplate footer...) and is neither used nor extended. The candidates
 * found are ranked by the kinds of keys they share and the best
 * MAX_CANDIDATES are scored against their text exemplars (MinHash) and the
 * shared keys (score()). The report joins the best candidate scoring at
 * least JOIN_SCORE; when it also clearly matches a second one, the two
 * are merged (bridge_pick(), bridge_merge()). Analyst pins (campaign_pin)
 * override all of this.
 *
 * Cost per report is therefore bounded by CF_MAX_KEYS * KEY_FANOUT index
 * rows, MAX_CANDIDATES campaign rows and a constant number of writes
 * (a bridge: BRIDGE_MAX members), whatever the store holds (B-tree
 * lookups aside).
 *
 * Time: wall clock at ingest; with --replay, the Date of each report as set
 * by campaign_set_clock() (else the message's own Date).
 */
#include "campaign/campaign.h"

#include <gmime/gmime.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign/campaign_int.h"
#include "common/keyfilter.h"
#include "common/xalloc.h"
#include "store/store.h"
#include "store/store_campaign.h"
#include "verdict/registry.h"

#define KEY_FANOUT 9	    /* campaigns per key before the key is common */
#define MAX_CAND 64	    /* candidates gathered from the index */
#define MAX_CANDIDATES 8    /* candidates scored */
#define MAX_EXEMPLARS 4	    /* text signatures kept per campaign */
#define JOIN_SCORE 0.55	    /* see score() */
#define DF_WEAK 3	    /* a domain/subject key in this many campaigns is weak */
#define SUBJ_SPECIFIC 4	    /* words: a subject this long is rarely shared by chance */
#define SUBJ_SPECIFIC_W 0.5 /* its weight (a short one: 0.3) */
#define CONTENT_MIN 0.15    /* text agreement below this, and no subject: penalty */
#define LURE_PENALTY 0.2    /* ... of this much (another lure on the same infrastructure) */
/* A report that clears this against two campaigns bridges them (see
 * bridge_pick()): it would still join each of them if it were another
 * lure on the same infrastructure, so both joins are clear of the margin
 * in which one lure is told from another. */
#define BRIDGE_SCORE (JOIN_SCORE + LURE_PENALTY)
#define BRIDGE_MAX 64	  /* reports: a bridge moves at most this many (the smaller side) */
#define TEXT_FULL 24	  /* shingles for full confidence in a text match */
#define MAX_TOP_IND 32	  /* indicator counters kept per campaign */
#define MAX_SUBJECTS 5	  /* sample subjects kept per campaign */
#define MAX_MERGE_HOPS 16 /* merged_into chain followed */
/* Cache sizes bound ingest memory (the 1 GB mbox must stay under 100 MB
 * peak RSS): 2^20 key slots of 16 bytes are 16 MB (24 MB while the table
 * doubles into them), and a full cache (half the slots used) is emptied,
 * not grown: later lookups go to the store's index. */
#define KC_MAX_KEYS (1u << 20) /* cached index key slots */
/* kc_preload reads the whole index into the cache only if it leaves at
 * least a quarter of the cache's room for the keys the run adds. */
#define KC_PRELOAD_MAX (KC_MAX_KEYS / 2 / 4 * 3)
#define CC_SLOTS 4096 /* cached campaign records (~3 MB) */
/* The key filters (common/keyfilter.h) take the keys stored at start plus
 * KF_ROOM more that a run may add (2 MB for a 200,000-report store)
 * before their false-positive rate rises; campaign_engine_sync reads them
 * again then. */
#define KF_ROOM (1u << 18)
#define RECENT_TIMES 64 /* member times kept per cached campaign */
/* packed features (feat_pack): keys, text signature, and since this
 * version two bytes the score needs on re-clustering (FEAT_TAIL) */
#define FEAT_TAIL 2
#define FEAT_BYTES (1 + 4 + 4 * CF_MH + 9 * CF_MAX_KEYS + FEAT_TAIL)

/* ---- caches -------------------------------------------------------------
 * Within one run the engine is the only writer of the campaign tables, so
 * it keeps what it reads and writes in memory and most reports need no
 * SELECT at all:
 *   - kcache: key -> campaign ids (most recent first, at most KEY_FANOUT),
 *     negative answers included. When the index was empty at start (a new
 *     store) the cache is authoritative: a key it does not hold is absent.
 *     Otherwise a miss asks the store once and remembers the answer,
 *     except in a resident ingest (cfg.preload), which reads the whole
 *     index into it when it reads the filters, if it fits (kc_preload):
 *     it is then authoritative for the index's kinds. Bounded by
 *     KC_MAX_KEYS; when full it is emptied and stops being authoritative.
 *   - ccache: campaign records, direct-mapped by id (CC_SLOTS), with the
 *     newest member times of campaigns started in this run (alert
 *     windows). Written back: a report updates its campaign's entry and
 *     marks it dirty; the row is written when the entry leaves the cache
 *     or at campaign_flush(), which the caller runs before it commits. A
 *     big campaign gets many reports per commit, and serialising its
 *     aggregates and rewriting its row for each was up to 14% of the
 *     clustering's cost (skipping those writes altogether saved that
 *     much; writing back saved 1-3% of the ingest: bench/README-campaigns.md,
 *     "fifth pass").
 *   - kfilter: a Bloom filter of every key in the store's index, read
 *     once per run and added to as keys are written. A key it does not
 *     hold is absent, so a cache miss asks the store only for keys that
 *     may exist. Most misses are for new keys (the text bands of each new
 *     report), and each cost a B-tree descent to a leaf that was seldom in
 *     SQLite's page cache once the store outgrew it. A second filter holds
 *     the stored reports' messages, so the exact-message look-up (a join
 *     of the report_key map and the reports) runs only for a message that
 *     may have been reported before: it was a third of the clustering's
 *     cost adding 40,000 generated reports to 110,000 (the first report of
 *     a message is the common case). Both are read only after
 *     cfg.filter_after look-ups have gone to the store (see
 *     campaign_filter_after()): reading them is a pass over the store's
 *     keys, worth it only for a run long beside the store.
 *   - pins: looked up only when the store holds any.
 * Analyst decisions (merge, split, re-cluster) write what is pending, then
 * empty the caches. */

static const char *agg_major(const json_t *agg, const char *field, char *out, size_t outsz);
static char *agg_dump(const json_t *agg);

/* A slot holds campaign ids in 32 bits (an id that does not fit is not
 * cached: key_lookup, key_add), and only the first in place: 92% of the
 * keys of a 200,000-report store name one campaign, so the others' lists
 * go to a side pool. 16 bytes a slot instead of 48 let the whole index of
 * such a store (250,000 keys) be held for a resident ingest (kc_preload)
 * in 16 MB (bench/README-campaigns.md, "thirteenth pass"). */
struct kslot {
	uint64_t key;  /* 0: empty */
	uint32_t id;   /* the key's one campaign (more == 0); 0: none */
	uint32_t more; /* 0, or 1 + the index of its list in kcache.pool */
};

struct klist {
	uint32_t ids[KEY_FANOUT]; /* most recent (highest) first */
	uint8_t n;
};

struct kcache {
	struct kslot *v;
	size_t cap, n;
	struct klist *pool; /* lists of keys with two or more campaigns */
	size_t npool, cappool;
	int authoritative; /* every key is cached: one it does not hold is absent */
	int preloaded;	   /* the same for the index's kinds (not CK_MSG) */
};

/* The indicator counts of a cached campaign side by side (see count_in):
 * finding the rarest of MAX_TOP_IND values, which each report with a new
 * sender or landing domain does once its campaign holds that many, read
 * every jansson value and key scattered over the heap (memory misses,
 * a strcmp per tie): a fifth of the clustering's CPU on 40,000 generated
 * reports added to 110,000 (bench/README-campaigns.md, "ninth pass").
 * jansson's object stays the record; this mirrors it. */
struct tally {
	int n;
	struct tally_ent {
		uint64_t pre[2]; /* the key's first 16 bytes, big-endian: strcmp order */
		const char *k;	 /* the key, as the object holds it */
		long long n;	 /* its count */
	} e[MAX_TOP_IND];
};

struct ccache_ent {
	struct campaign_rec rec; /* rec.id 0: empty; rec.agg always NULL (see aggj) */
	json_t *aggj;		 /* the aggregates, parsed once and updated in place (owned):
				  * re-parsing the stored text per report cost more than the
				  * rest of the placement */
	int complete;		 /* every member of this run is in recent[] */
	int nrecent;
	int64_t recent[RECENT_TIMES]; /* newest member times, newest first */
	char brand[128];	      /* majority brand of rec.agg ("" none) */
	int has_land;		      /* some member had a landing domain */
	int dirty;		      /* changed since its row was written */
	struct tally *ind;	      /* mirror of aggj's "indicators" (owned; NULL: not built) */
};

struct campaign_engine {
	struct store *st;
	struct store_campaign *sc;
	struct ignore_list *il;
	struct registry *reg; /* verified organisations (NULL: none) */
	struct alerter *al;
	struct campaign_config cfg;
	int disabled;	      /* $SHIELD_CAMPAIGN_DISABLE: benchmark baseline only */
	int64_t clock;	      /* replay: campaign time of the current report (0: none) */
	int64_t data_version; /* store_data_version() when the caches were last
			       * known to match the store (campaign_engine_sync) */
	int alerted;	      /* the last campaign_assign() raised an alert */
	/* in-memory caches of this run (see "caches" below) */
	struct kcache kc;
	struct keyfilter kf;
	struct keyfilter mf;   /* store_hex_key() of every stored report's message */
	long misses;	       /* key cache misses (until the filters are read, each one
				* asks the store; they are read at the cfg.filter_after-th,
				* see campaign_filter_after()) */
	long lookups;	       /* key look-ups that went to the store (campaign_key_stats) */
	struct ccache_ent *cc; /* CC_SLOTS entries, direct-mapped by id */
	int has_pins;	       /* the store holds analyst pins */
	/* campaigns touched in this run, for the replay summary */
	int64_t *touched;
	size_t ntouched, captouched;
};

static void kcache_clear(struct kcache *kc, int authoritative)
{
	free(kc->v);
	free(kc->pool);
	kc->v = NULL;
	kc->pool = NULL;
	kc->cap = kc->n = kc->npool = kc->cappool = 0;
	kc->authoritative = authoritative;
	kc->preloaded = 0;
}

/* kslot_get - the campaign ids of a slot into ids (KEY_FANOUT room),
 * most recent first; returns how many. */
static int kslot_get(const struct kcache *kc, const struct kslot *s, uint32_t *ids)
{
	if (!s->more) {
		ids[0] = s->id;
		return s->id != 0;
	}
	const struct klist *l = &kc->pool[s->more - 1];
	memcpy(ids, l->ids, l->n * sizeof *ids);
	return l->n;
}

/* kslot_put - set a slot's ids (n <= KEY_FANOUT). A slot that has a list
 * keeps it (lists only grow: key_add, kc_preload). */
static void kslot_put(struct kcache *kc, struct kslot *s, const uint32_t *ids, int n)
{
	if (!s->more && n <= 1) {
		s->id = n ? ids[0] : 0;
		return;
	}
	if (!s->more) {
		if (kc->npool == kc->cappool) {
			kc->cappool = kc->cappool ? kc->cappool * 2 : 256;
			kc->pool = xrealloc(kc->pool, kc->cappool * sizeof *kc->pool);
		}
		s->more = (uint32_t)++kc->npool;
		s->id = 0;
	}
	struct klist *l = &kc->pool[s->more - 1];
	memcpy(l->ids, ids, (size_t)n * sizeof *ids);
	l->n = (uint8_t)n;
}

static struct kslot *kcache_find(struct kcache *kc, uint64_t key, int insert)
{
	if (insert && (kc->n + 1) * 2 > kc->cap) {
		if (kc->cap >= KC_MAX_KEYS) {
			kcache_clear(kc, 0);
		}
		size_t ncap = kc->cap ? kc->cap * 2 : 4096;
		struct kslot *nv = xcalloc(ncap, sizeof *nv);
		for (size_t i = 0; i < kc->cap; i++)
			if (kc->v[i].key) {
				size_t j = kc->v[i].key & (ncap - 1);
				while (nv[j].key)
					j = (j + 1) & (ncap - 1);
				nv[j] = kc->v[i];
			}
		free(kc->v);
		kc->v = nv;
		kc->cap = ncap;
	}
	if (!kc->cap)
		return NULL;
	size_t j = key & (kc->cap - 1);
	while (kc->v[j].key && kc->v[j].key != key)
		j = (j + 1) & (kc->cap - 1);
	if (kc->v[j].key == key)
		return &kc->v[j];
	if (!insert)
		return NULL;
	kc->v[j].key = key;
	kc->v[j].id = kc->v[j].more = 0;
	kc->n++;
	return &kc->v[j];
}

/* kf_build - the filters of the store's keys and of its reports'
 * messages, as they are now (this run's uncommitted writes included: the
 * same connection reads them); without one (the keys could not be read)
 * every key may be present, as before the filters. */
static void kf_build(struct campaign_engine *ce)
{
	uint64_t *keys = NULL;
	size_t n = 0;
	if (store_campaign_keys(ce->sc, &keys, &n) == STORE_OK)
		keyfilter_fill(&ce->kf, keys, n, KF_ROOM);
	free(keys);
	if (store_campaign_msg_keys(ce->sc, &keys, &n) == STORE_OK)
		keyfilter_fill(&ce->mf, keys, n, KF_ROOM);
	free(keys);
}

/* ids_insert - put cid into ids (n of them, most recent = highest first,
 * room for KEY_FANOUT), keeping the KEY_FANOUT highest; returns the new
 * count, or 0 when ids is unchanged (cid there already, or lower than
 * all of a full list). */
static int ids_insert(uint32_t *ids, int n, uint32_t cid)
{
	int pos = 0;
	while (pos < n && ids[pos] > cid)
		pos++;
	if ((pos < n && ids[pos] == cid) || pos == KEY_FANOUT)
		return 0;
	int keep = n < KEY_FANOUT ? n : KEY_FANOUT - 1;
	memmove(ids + pos + 1, ids + pos, (size_t)(keep - pos) * sizeof *ids);
	ids[pos] = cid;
	return keep + 1;
}

/* preload_pair - store_campaign_key_pairs callback: add cid to key's
 * cached ids, keeping the KEY_FANOUT most recent (highest), as the
 * store's look-up answers whatever order the pairs come in. 1 (stop) when
 * the pair cannot be cached or the index outgrows KC_PRELOAD_MAX keys. */
static int preload_pair(void *ctx, uint64_t key, int64_t cid)
{
	struct kcache *kc = ctx;
	if (cid <= 0 || cid > UINT32_MAX || !key)
		return 1;
	struct kslot *ks = kcache_find(kc, key, 0);
	if (!ks) {
		if (kc->n >= KC_PRELOAD_MAX)
			return 1;
		ks = kcache_find(kc, key, 1);
	}
	uint32_t ids[KEY_FANOUT];
	int n = ids_insert(ids, kslot_get(kc, ks, ids), (uint32_t)cid);
	if (n)
		kslot_put(kc, ks, ids, n);
	return 0;
}

/* kc_preload - hold the whole index in the key cache, which then answers
 * for the index's kinds without the store (kc.preloaded). For a resident
 * ingest (cfg.preload): a look-up of a key that is stored but not yet
 * cached is a B-tree descent whose pages the rest of the ingest has pushed
 * out of SQLite's cache, and at 200,000 reports these were 1 to 2.4 per
 * report (bench/README-campaigns.md, "twelfth pass"). Not done when the
 * index does not fit (KC_PRELOAD_MAX): the pass stops there, what it read
 * is dropped, and the cache is filled by look-ups as before (on such a
 * store each re-read after another writer's commit pays that part-pass
 * again, up to 24 MB while it lasts). Exact-message keys are not in the index; they still go
 * through the message filter. */
static void kc_preload(struct campaign_engine *ce)
{
	kcache_clear(&ce->kc, 0);
	if (store_campaign_key_pairs(ce->sc, preload_pair, &ce->kc) != 0) {
		kcache_clear(&ce->kc, 0);
		return;
	}
	ce->kc.preloaded = 1;
}

/* key_store - write key -> cid to the store's index, and to the filter:
 * every writer of the index goes through here, so the filter holds every
 * stored key. */
static int key_store(struct campaign_engine *ce, uint64_t key, int kind, int64_t cid)
{
	keyfilter_add(&ce->kf, key);
	return store_campaign_key_add(ce->sc, key, kind, cid);
}

/* key_lookup - campaigns sharing key (of kind; message_sha names the
 * report's message), through the cache. */
static int key_lookup(struct campaign_engine *ce, uint64_t key, int kind, const char *message_sha,
		      int64_t *ids, int *n)
{
	struct kslot *ks = kcache_find(&ce->kc, key, 0);
	if (!ks && (ce->kc.authoritative || (ce->kc.preloaded && kind != CK_MSG))) {
		*n = 0;
		return 0;
	}
	if (!ks && ++ce->misses == ce->cfg.filter_after) {
		kf_build(ce); /* once: the count only grows */
		if (ce->cfg.preload) {
			kc_preload(ce);
			ks = kcache_find(&ce->kc, key, 0);
			if (!ks && ce->kc.preloaded && kind != CK_MSG) {
				*n = 0;
				return 0;
			}
		}
	}
	if (!ks &&
	    !(kind == CK_MSG ? keyfilter_may_hold(&ce->mf, (uint64_t)store_hex_key(message_sha))
			     : keyfilter_may_hold(&ce->kf, key))) {
		*n = 0;
		return 0;
	}
	if (!ks) {
		/* exact-message keys are not in the store's index (see key_add) */
		int rc = kind == CK_MSG
			     ? store_campaign_msg_lookup(ce->sc, message_sha, ids, KEY_FANOUT, n)
			     : store_campaign_key_lookup(ce->sc, key, ids, KEY_FANOUT, n);
		ce->lookups++;
		if (rc < 0)
			return -1;
		uint32_t small[KEY_FANOUT];
		for (int i = 0; i < *n; i++) {
			if (ids[i] <= 0 || ids[i] > UINT32_MAX)
				return 0; /* not cached: asked again next time */
			small[i] = (uint32_t)ids[i];
		}
		ks = kcache_find(&ce->kc, key, 1);
		kslot_put(&ce->kc, ks, small, *n);
		return 0;
	}
	uint32_t small[KEY_FANOUT];
	*n = kslot_get(&ce->kc, ks, small);
	for (int i = 0; i < *n; i++)
		ids[i] = small[i];
	return 0;
}

/* key_add - index key -> cid in the store and the cache. An exact-message
 * key goes to the cache only: each report has its own (a random B-tree
 * insert per report, about a sixth of the clustering's store writes),
 * and the report row stored next holds the same answer (message_sha,
 * campaign_id; re-clustering sets it as it goes). */
static int key_add(struct campaign_engine *ce, uint64_t key, int kind, int64_t cid)
{
	uint32_t ids[KEY_FANOUT];
	struct kslot *ks = kcache_find(&ce->kc, key, 0);
	int n = ks ? kslot_get(&ce->kc, ks, ids) : 0;
	for (int i = 0; i < n; i++)
		if (ids[i] == cid)
			return 0; /* indexed already: no write */
	if (kind != CK_MSG && key_store(ce, key, kind, cid) < 0)
		return -1;
	if (cid > UINT32_MAX) {
		/* cannot be cached: the cache stops being complete */
		kcache_clear(&ce->kc, 0);
		return 0;
	}
	ks = kcache_find(&ce->kc, key, 0);
	if (!ks) {
		if (!ce->kc.authoritative && !(ce->kc.preloaded && kind != CK_MSG))
			return 0; /* not cached: the next lookup asks the store */
		ks = kcache_find(&ce->kc, key, 1);
		if (!ks)
			return 0;
	}
	n = kslot_get(&ce->kc, ks, ids); /* again: the slot may be new */
	if (n >= KEY_FANOUT)
		return 0; /* a full list is not changed (it is a common key) */
	n = ids_insert(ids, n, (uint32_t)cid);
	if (n)
		kslot_put(&ce->kc, ks, ids, n);
	return 0;
}

/* ccache_write - write a dirty entry's row. */
static int ccache_write(struct campaign_engine *ce, struct ccache_ent *e)
{
	if (!e->dirty || !e->rec.id)
		return 0;
	struct campaign_rec c = e->rec;
	c.agg = agg_dump(e->aggj);
	int rc = store_campaign_update(ce->sc, &c);
	free(c.agg);
	if (rc < 0)
		return -1;
	e->dirty = 0;
	return 0;
}

int campaign_flush(struct campaign_engine *ce)
{
	if (!ce || !ce->cc)
		return 0;
	for (size_t i = 0; i < CC_SLOTS; i++)
		if (ccache_write(ce, &ce->cc[i]) < 0)
			return -1;
	return 0;
}

/* ccache_clear - forget every entry, dirty ones included (caches_drop;
 * caches_reset writes them first). */
static void ccache_clear(struct campaign_engine *ce)
{
	if (!ce->cc)
		return;
	for (size_t i = 0; i < CC_SLOTS; i++) {
		json_decref(ce->cc[i].aggj);
		free(ce->cc[i].ind);
	}
	memset(ce->cc, 0, CC_SLOTS * sizeof *ce->cc);
}

/* ccache_put - remember c (a copy; its agg text is parsed into the entry,
 * not kept); complete: c started in this run. The campaign it evicts is
 * written first if dirty; NULL when that fails. Never called for an id
 * that is cached (its entry is newer than any row). */
static struct ccache_ent *ccache_put(struct campaign_engine *ce, const struct campaign_rec *c,
				     int complete)
{
	struct ccache_ent *e = &ce->cc[(uint64_t)c->id % CC_SLOTS];
	if (ccache_write(ce, e) < 0)
		return NULL;
	json_decref(e->aggj);
	free(e->ind);
	e->ind = NULL;
	if (e->rec.id != c->id) {
		memset(e, 0, sizeof *e);
		e->complete = complete;
	}
	e->rec = *c;
	e->rec.agg = NULL;
	json_error_t je;
	e->aggj = c->agg ? json_loads(c->agg, 0, &je) : NULL;
	if (!json_is_object(e->aggj)) {
		json_decref(e->aggj);
		e->aggj = json_object();
	}
	if (!agg_major(e->aggj, "brands", e->brand, sizeof e->brand))
		e->brand[0] = '\0';
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(e->aggj, "indicators"), k, v)
	{
		if (!strncmp(k, "domain:", 7))
			e->has_land = 1;
	}
	return e;
}

static struct ccache_ent *ccache_get(struct campaign_engine *ce, int64_t id)
{
	struct ccache_ent *e = &ce->cc[(uint64_t)id % CC_SLOTS];
	return e->rec.id == id && id ? e : NULL;
}

/* ccache_load - the cache entry of campaign id, read from the store on a
 * miss; NULL on a store failure. */
static struct ccache_ent *ccache_load(struct campaign_engine *ce, int64_t id)
{
	struct ccache_ent *e = ccache_get(ce, id);
	if (e)
		return e;
	struct campaign_rec c;
	if (store_campaign_get(ce->sc, id, &c) < 0)
		return NULL;
	e = ccache_put(ce, &c, 0);
	campaign_rec_release(&c);
	return e;
}

/* get_rec - one campaign row, through the cache. c->agg is left NULL: the
 * aggregates stay in the cache entry (ccache_load). */
static int get_rec(struct campaign_engine *ce, int64_t id, struct campaign_rec *c)
{
	struct ccache_ent *e = ccache_load(ce, id);
	if (!e)
		return -1;
	*c = e->rec;
	return 0;
}

/* caches_drop - forget everything cached, changes not yet written
 * included (an engine whose transaction rolls back). */
static void caches_drop(struct campaign_engine *ce)
{
	kcache_clear(&ce->kc, 0);
	ccache_clear(ce);
	ce->has_pins = 1;
}

/* caches_reset - write what is dirty, then forget everything cached:
 * before analyst decisions, which read and write campaign rows directly,
 * and after a failure in place(). An ingest does not roll back then: it
 * stops and commits what it stored, so the campaigns of the reports before
 * the failure are written as they were when each row was written per
 * report (the failing report may be counted in its campaign's row without
 * its member row; `shield campaign recluster` recounts). */
static int caches_reset(struct campaign_engine *ce)
{
	int rc = campaign_flush(ce);
	caches_drop(ce);
	return rc;
}

/* note_member - a member at time t joined cached campaign id. */
static void note_member(struct campaign_engine *ce, int64_t id, int64_t t)
{
	struct ccache_ent *e = ccache_get(ce, id);
	if (!e)
		return;
	int pos = 0;
	while (pos < e->nrecent && e->recent[pos] >= t)
		pos++;
	if (pos >= RECENT_TIMES)
		return;
	int keep = e->nrecent < RECENT_TIMES ? e->nrecent : RECENT_TIMES - 1;
	memmove(e->recent + pos + 1, e->recent + pos, (size_t)(keep - pos) * sizeof *e->recent);
	e->recent[pos] = t;
	if (e->nrecent < RECENT_TIMES)
		e->nrecent++;
}

/* nth_recent - time of the n-th newest member of c, from memory when the
 * campaign started in this run, else from the store. */
static int nth_recent(struct campaign_engine *ce, int64_t id, int n, int64_t *t)
{
	struct ccache_ent *e = ccache_get(ce, id);
	if (e && e->complete && n <= RECENT_TIMES) {
		if (e->nrecent < n)
			return STORE_DUP;
		*t = e->recent[n - 1];
		return STORE_OK;
	}
	return store_campaign_nth_recent(ce->sc, id, n, t);
}

void campaign_key_stats(const struct campaign_engine *ce, long *lookups, int *preloaded)
{
	*lookups = ce->lookups;
	*preloaded = ce->kc.preloaded;
}

int campaign_index_key(struct campaign_engine *ce, uint64_t key, int64_t *ids, int max)
{
	int64_t all[KEY_FANOUT];
	int n = 0;
	if (key_lookup(ce, key, CK_SENDER, NULL, all, &n) < 0)
		return -1;
	if (n > max)
		n = max;
	memcpy(ids, all, (size_t)n * sizeof *ids);
	return n;
}

long campaign_filter_after(long reports)
{
	long n = reports / CAMPAIGN_FILTER_REPORTS_PER_LOOKUP;
	return n > CAMPAIGN_FILTER_AFTER ? n : CAMPAIGN_FILTER_AFTER;
}

struct campaign_engine *campaign_engine_new(struct store *st, const struct campaign_config *cfg,
					    char **err)
{
	struct campaign_engine *ce = xcalloc(1, sizeof *ce);
	ce->st = st;
	if (cfg)
		ce->cfg = *cfg;
	if (ce->cfg.alert_reports < 1)
		ce->cfg.alert_reports = 3;
	if (ce->cfg.alert_minutes < 1)
		ce->cfg.alert_minutes = 10;
	if (ce->cfg.filter_after < 1) {
		struct store_counts c;
		long n = store_counts(st, &c) == STORE_OK ? c.reports : 0;
		long after = campaign_filter_after(n);
		ce->cfg.filter_after = after > INT_MAX ? INT_MAX : (int)after;
	}
	const char *dis = getenv("SHIELD_CAMPAIGN_DISABLE");
	ce->disabled = dis && *dis == '1';
	const char *ign = getenv("SHIELD_CAMPAIGN_IGNORE");
	ce->il = ignore_list_load(ign && *ign ? ign : NULL, err);
	if (!ce->il)
		return campaign_engine_free(ce);
	char *rerr = NULL;
	ce->reg = registry_load(NULL, &rerr); /* optional: without it, only the ignore list */
	free(rerr);
	ce->sc = store_campaign_open(st);
	if (!ce->sc) {
		char tmp[700];
		snprintf(tmp, sizeof tmp, "cannot open the campaign tables: %s", store_errmsg(st));
		*err = xstrdup(tmp);
		return campaign_engine_free(ce);
	}
	int has_keys = 1;
	ce->has_pins = 1;
	if (store_campaign_index_state(ce->sc, &has_keys, &ce->has_pins) < 0) {
		has_keys = 1;
		ce->has_pins = 1;
	}
	ce->kc.authoritative = !has_keys;
	ce->cc = xcalloc(CC_SLOTS, sizeof *ce->cc);
	ce->data_version = store_data_version(st);
	ce->al = alerter_new(ce->cfg.webhook_url, ce->cfg.alert_email);
	return ce;
}

struct campaign_engine *campaign_engine_free(struct campaign_engine *ce)
{
	if (!ce)
		return NULL;
	ccache_clear(ce);
	free(ce->cc);
	kcache_clear(&ce->kc, 0);
	keyfilter_free(&ce->kf);
	keyfilter_free(&ce->mf);
	store_campaign_close(ce->sc);
	ignore_list_free(ce->il);
	registry_free(ce->reg);
	alerter_free(ce->al);
	free(ce->touched);
	free(ce);
	return NULL;
}

/* filters_drop - forget the key filters; they are read again after
 * cfg.filter_after more store look-ups (key_lookup). */
static void filters_drop(struct campaign_engine *ce)
{
	keyfilter_free(&ce->kf);
	keyfilter_free(&ce->mf);
	ce->misses = 0;
}

int campaign_engine_sync(struct campaign_engine *ce)
{
	if (!ce)
		return 0;
	int64_t v = store_data_version(ce->st);
	if (v < 0)
		return -1;
	int forgot = 0;
	if (v != ce->data_version) {
		/* Another connection committed: an analyst's merge, split or
		 * re-cluster, another ingest, or any other command. The caches
		 * trust that this engine is the only writer of the campaign
		 * tables, so all of them go. Nothing in them is unwritten: the
		 * caller flushed before its last commit (and writing a row now
		 * would overwrite what the other writer changed). */
		caches_drop(ce);
		filters_drop(ce);
		int has_keys = 1, has_pins = 1;
		if (store_campaign_index_state(ce->sc, &has_keys, &has_pins) == 0)
			ce->has_pins = has_pins;
		ce->data_version = v;
		forgot = 1;
	} else if (keyfilter_full(&ce->kf) || keyfilter_full(&ce->mf)) {
		/* a long run outgrew the room the filters were sized for */
		filters_drop(ce);
		forgot = 1;
	}
	return forgot;
}

void campaign_set_clock(struct campaign_engine *ce, int64_t t)
{
	ce->clock = t;
}

/* ---- serialisation of features ---------------------------------------- */

static size_t feat_pack(const struct cfeat *f, unsigned char *out)
{
	size_t o = 0;
	out[o++] = (unsigned char)f->nkeys;
	uint32_t sh = (uint32_t)f->shingles;
	memcpy(out + o, &sh, 4);
	o += 4;
	memcpy(out + o, f->mh, 4 * CF_MH);
	o += 4 * CF_MH;
	for (int i = 0; i < f->nkeys; i++) {
		memcpy(out + o, &f->keys[i].h, 8);
		out[o + 8] = f->keys[i].kind;
		o += 9;
	}
	/* the landing count and the subject's word count: score() weighs a
	 * long subject and a landing conflict with them, and re-clustering
	 * has only these bytes (without them it fell to 0.957 / 0.824 on the
	 * labelled sample) */
	out[o++] = (unsigned char)f->nland;
	out[o++] = (unsigned char)(f->subj_words > 255 ? 255 : f->subj_words);
	return o;
}

static int feat_unpack(struct cfeat *f, const unsigned char *in, size_t n)
{
	memset(f, 0, sizeof *f);
	if (n < 5 + 4 * CF_MH || in[0] > CF_MAX_KEYS)
		return -1;
	size_t base = 5 + 4 * CF_MH + 9u * in[0];
	if (n != base && n != base + FEAT_TAIL) /* written before the tail: none */
		return -1;
	f->nkeys = in[0];
	uint32_t sh;
	memcpy(&sh, in + 1, 4);
	f->shingles = (int)sh;
	memcpy(f->mh, in + 5, 4 * CF_MH);
	const unsigned char *p = in + 5 + 4 * CF_MH;
	for (int i = 0; i < f->nkeys; i++, p += 9) {
		memcpy(&f->keys[i].h, p, 8);
		f->keys[i].kind = p[8];
	}
	if (n == base + FEAT_TAIL) {
		/* a count only: the landing names are not kept (member_info,
		 * which prints them, runs on fresh features alone) */
		f->nland = p[0] > CF_MAX_LAND ? CF_MAX_LAND : p[0];
		f->subj_words = p[1];
	}
	return 0;
}

/* ---- aggregates (JSON) ------------------------------------------------ */

/* The aggregates are written with every report; jansson's generic dumper
 * (sorted keys) was the largest single cost of placing a report, so the
 * two levels they have (an object of counters or of a string array) are
 * written here, byte for byte as json_dumps(JSON_COMPACT | JSON_SORT_KEYS)
 * would; any other shape falls back to jansson. */
struct sbuf {
	char *p;
	size_t n, cap;
};

/* sb_reserve - room for n more bytes and the terminating NUL. */
static void sb_reserve(struct sbuf *b, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		while (b->n + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 1024;
		b->p = xrealloc(b->p, b->cap);
	}
}

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	sb_reserve(b, n);
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* sb_str - s as a JSON string, escaped as jansson does (control
 * characters as \u00XX in upper case, nothing else but '"' and '\\').
 * Room for the worst case is made once: the aggregates are written with
 * every report, and a call per byte run was most of their cost. */
static void sb_str(struct sbuf *b, const char *s, size_t n)
{
	sb_reserve(b, 6 * n + 2);
	char *o = b->p + b->n;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (char)c;
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = "0123456789ABCDEF"[c >> 4];
			*o++ = "0123456789ABCDEF"[c & 15];
		}
	}
	*o++ = '"';
	b->n = (size_t)(o - b->p);
	b->p[b->n] = '\0';
}

/* sb_int - v in decimal, as JSON_INTEGER_FORMAT prints it (snprintf was
 * a third of the cost of writing the aggregates). */
static void sb_int(struct sbuf *b, json_int_t v)
{
	char tmp[24];
	int i = (int)sizeof tmp;
	/* through the unsigned magnitude: -v overflows for the minimum */
	unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do {
		tmp[--i] = (char)('0' + m % 10);
		m /= 10;
	} while (m);
	if (v < 0)
		tmp[--i] = '-';
	sb_put(b, tmp + i, sizeof tmp - (size_t)i);
}

struct kv {
	const char *k;
	size_t klen;
	json_t *v;
};

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

#define DUMP_MAX_KEYS 64 /* more in one object: not ours, use jansson */

/* sorted_kv - the members of object o in strcmp order of their keys
 * (values taken while iterating: no lookup per key); -1 when too many. */
static int sorted_kv(const json_t *o, struct kv *kv)
{
	const char *k;
	json_t *v;
	int n = 0;
	json_object_foreach((json_t *)o, k, v)
	{
		if (n == DUMP_MAX_KEYS)
			return -1;
		kv[n].k = k;
		kv[n].klen = strlen(k);
		kv[n].v = v;
		n++;
	}
	qsort(kv, (size_t)n, sizeof *kv, cmp_kv);
	return n;
}

/* dump_value - one value of the aggregates; 0, or -1 for a shape this
 * writer does not handle. */
static int dump_value(struct sbuf *b, const json_t *v)
{
	if (json_is_integer(v)) {
		sb_int(b, json_integer_value(v));
		return 0;
	}
	if (json_is_string(v)) {
		sb_str(b, json_string_value(v), json_string_length(v));
		return 0;
	}
	if (json_is_array(v)) {
		sb_put(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *x = json_array_get(v, i);
			if (!json_is_string(x))
				return -1;
			if (i)
				sb_put(b, ",", 1);
			sb_str(b, json_string_value(x), json_string_length(x));
		}
		sb_put(b, "]", 1);
		return 0;
	}
	if (json_is_object(v)) {
		struct kv kv[DUMP_MAX_KEYS];
		int n = sorted_kv(v, kv);
		if (n < 0)
			return -1;
		sb_put(b, "{", 1);
		for (int i = 0; i < n; i++) {
			if (!json_is_integer(kv[i].v))
				return -1;
			if (i)
				sb_put(b, ",", 1);
			sb_str(b, kv[i].k, kv[i].klen);
			sb_put(b, ":", 1);
			sb_int(b, json_integer_value(kv[i].v));
		}
		sb_put(b, "}", 1);
		return 0;
	}
	return -1;
}

/* agg_dump - the stored text of the aggregates (malloc'd); keys sorted so
 * the text is the same whatever order the values arrived in. */
static char *agg_dump(const json_t *agg)
{
	struct kv kv[DUMP_MAX_KEYS];
	int n = json_is_object(agg) ? sorted_kv(agg, kv) : -1;
	struct sbuf b = {NULL, 0, 0};
	if (n >= 0) {
		sb_put(&b, "{", 1);
		for (int i = 0; i < n && n >= 0; i++) {
			if (i)
				sb_put(&b, ",", 1);
			sb_str(&b, kv[i].k, kv[i].klen);
			sb_put(&b, ":", 1);
			if (dump_value(&b, kv[i].v) < 0)
				n = -1;
		}
		sb_put(&b, "}", 1);
	}
	if (n < 0) {
		free(b.p);
		return json_dumps(agg, JSON_COMPACT | JSON_SORT_KEYS);
	}
	return b.p;
}

/* info_dump - a member's info as json_dumps(JSON_COMPACT) writes it (keys
 * in insertion order, which jansson keeps), through the writer above. */
static char *info_dump(const json_t *info)
{
	struct sbuf b = {NULL, 0, 0};
	const char *k;
	json_t *v;
	int i = 0, ok = json_is_object(info);
	sb_put(&b, "{", 1);
	json_object_foreach((json_t *)info, k, v)
	{
		if (!ok)
			break;
		if (i++)
			sb_put(&b, ",", 1);
		sb_str(&b, k, strlen(k));
		sb_put(&b, ":", 1);
		ok = dump_value(&b, v) == 0;
	}
	sb_put(&b, "}", 1);
	if (!ok) {
		free(b.p);
		return json_dumps(info, JSON_COMPACT);
	}
	return b.p;
}

/* member_info - what a campaign keeps of one report (the caller owns the
 * object). Every string in it went through json_string(), so it is valid
 * UTF-8 (a value that is not is left out). */
static json_t *member_info(const struct result *r, const struct cfeat *f)
{
	json_t *o = json_object();
	json_t *ind = json_array();
	char buf[300];
	for (int i = 0; i < f->nland; i++) {
		snprintf(buf, sizeof buf, "domain:%s", f->land[i]);
		json_array_append_new(ind, json_string(buf));
	}
	for (size_t i = 0; i < r->attachments.n && i < CF_MAX_ATTACH; i++)
		if (r->attachments.v[i].sha256[0] && r->attachments.v[i].size >= 64) {
			snprintf(buf, sizeof buf, "sha256:%s", r->attachments.v[i].sha256);
			json_array_append_new(ind, json_string(buf));
		}
	if (r->from) {
		snprintf(buf, sizeof buf, "sender:%s", r->from);
		json_array_append_new(ind, json_string(buf));
	}
	if (r->subject)
		json_object_set_new(o, "s", json_string(r->subject));
	if (f->lang)
		json_object_set_new(o, "l", json_string(f->lang));
	if (r->brand)
		json_object_set_new(o, "b", json_string(r->brand));
	if (r->verdict)
		json_object_set_new(o, "v", json_string(r->verdict));
	json_object_set_new(o, "i", ind);
	return o;
}

/* tally_pre - the first 16 bytes of k (zero-padded) as two big-endian
 * numbers: ordered as strcmp orders the keys, up to those bytes. */
static void tally_pre(const char *k, uint64_t pre[2])
{
	pre[0] = pre[1] = 0;
	int end = 0;
	for (int i = 0; i < 16; i++) {
		unsigned char c = end ? 0 : (unsigned char)k[i];
		end = !c;
		pre[i / 8] = pre[i / 8] << 8 | c;
	}
}

/* tally_cmp - strcmp order of two entries' keys. */
static int tally_cmp(const struct tally_ent *a, const struct tally_ent *b)
{
	for (int i = 0; i < 2; i++)
		if (a->pre[i] != b->pre[i])
			return a->pre[i] < b->pre[i] ? -1 : 1;
	return strcmp(a->k, b->k);
}

/* tally_find - the entry of key k, or -1. */
static int tally_find(const struct tally *t, const char *k)
{
	uint64_t pre[2];
	tally_pre(k, pre);
	for (int i = 0; i < t->n; i++)
		if (t->e[i].pre[0] == pre[0] && t->e[i].pre[1] == pre[1] && !strcmp(t->e[i].k, k))
			return i;
	return -1;
}

/* tally_set - entry i holds key k (a key of the object) with count n. */
static void tally_set(struct tally *t, int i, const char *k, long long n)
{
	tally_pre(k, t->e[i].pre);
	t->e[i].k = k;
	t->e[i].n = n;
}

/* tally_build - the mirror of counter object m; NULL when m holds more
 * than a tally does (a row written by some other version). */
static struct tally *tally_build(const json_t *m)
{
	if (json_object_size(m) > MAX_TOP_IND)
		return NULL;
	struct tally *t = xcalloc(1, sizeof *t);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)m, k, v)
	{
		tally_set(t, t->n++, k, json_integer_value(v));
	}
	return t;
}

/* count_in - count value (valid UTF-8: it comes from a JSON string) in
 * agg[field], keeping at most cap values (space-saving: a new value
 * replaces the rarest one, ties broken by the smallest key so the result
 * does not depend on the objects' iteration order). *tp, when given, is
 * the mirror of agg[field] (built here when NULL, kept in step). */
static void count_in(json_t *agg, const char *field, const char *value, size_t cap,
		     struct tally **tp)
{
	json_t *m = json_object_get(agg, field);
	if (!m) {
		m = json_object();
		json_object_set_new(agg, field, m);
	}
	struct tally *t = NULL;
	if (tp && cap <= MAX_TOP_IND) {
		if (*tp && (size_t)(*tp)->n != json_object_size(m)) {
			free(*tp); /* out of step: built again */
			*tp = NULL;
		}
		if (!*tp)
			*tp = tally_build(m);
		t = *tp;
	}
	json_t *v = json_object_get(m, value);
	if (v) {
		json_integer_set(v, json_integer_value(v) + 1);
		int i = t ? tally_find(t, value) : -1;
		if (i >= 0)
			t->e[i].n++;
		else if (t) { /* out of step: built again next time */
			free(t);
			*tp = NULL;
		}
		return;
	}
	long long base = 0;
	int slot = t ? t->n : -1;
	if (json_object_size(m) >= cap) {
		const char *mink = NULL;
		long long minv = -1;
		if (t && t->n) {
			int mi = 0;
			for (int i = 1; i < t->n; i++)
				if (t->e[i].n < t->e[mi].n ||
				    (t->e[i].n == t->e[mi].n && tally_cmp(&t->e[i], &t->e[mi]) < 0))
					mi = i;
			mink = t->e[mi].k;
			minv = t->e[mi].n;
			slot = mi;
		} else {
			const char *k;
			json_t *x;
			json_object_foreach(m, k, x)
			{
				long long xv = json_integer_value(x);
				if (minv < 0 || xv < minv || (xv == minv && strcmp(k, mink) < 0)) {
					minv = xv;
					mink = k;
				}
			}
		}
		if (mink) {
			base = minv;
			json_object_del(m, mink);
		}
	}
	int set = json_object_set_new(m, value, json_integer(base + 1));
	if (!t)
		return;
	/* the object's own copy of the key, which lives as long as it */
	const char *k = set == 0 ? json_object_iter_key(json_object_iter_at(m, value)) : NULL;
	if (!k || slot >= MAX_TOP_IND) { /* not stored, or cap larger than a tally */
		free(t);
		*tp = NULL;
		return;
	}
	tally_set(t, slot, k, base + 1);
	if (slot == t->n)
		t->n++;
}

/* agg_fold - fold one member's info into the campaign's aggregates (ind:
 * the mirror of its indicator counts, or NULL). */
static void agg_fold(json_t *agg, const json_t *info, struct tally **ind)
{
	if (!json_is_object(info))
		return;
	json_t *v;
	if ((v = json_object_get(info, "l")) && json_is_string(v))
		count_in(agg, "languages", json_string_value(v), 16, NULL);
	if ((v = json_object_get(info, "b")) && json_is_string(v))
		count_in(agg, "brands", json_string_value(v), 16, NULL);
	if ((v = json_object_get(info, "v")) && json_is_string(v))
		count_in(agg, "verdicts", json_string_value(v), 8, NULL);
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(info, "i"), i, x)
	{
		if (json_is_string(x))
			count_in(agg, "indicators", json_string_value(x), MAX_TOP_IND, ind);
	}
	if ((v = json_object_get(info, "s")) && json_is_string(v)) {
		json_t *subj = json_object_get(agg, "subjects");
		if (!subj) {
			subj = json_array();
			json_object_set_new(agg, "subjects", subj);
		}
		if (json_array_size(subj) >= MAX_SUBJECTS)
			return;
		json_array_foreach(subj, i, x)
		{
			if (json_equal(x, v))
				return;
		}
		json_array_append(subj, v);
	}
}

/* agg_add - agg_fold() on stored texts (re-building a campaign). */
static char *agg_add(const char *agg_text, const char *info_text)
{
	json_error_t e;
	json_t *agg = agg_text ? json_loads(agg_text, 0, &e) : NULL;
	if (!json_is_object(agg)) {
		json_decref(agg);
		agg = json_object();
	}
	json_t *info = info_text ? json_loads(info_text, 0, &e) : NULL;
	agg_fold(agg, info, NULL);
	json_decref(info);
	char *s = agg_dump(agg);
	json_decref(agg);
	return s;
}

/* agg_major - the most frequent value of agg[field] copied into out, NULL
 * if none; ties go to the smallest value (independent of key order). */
static const char *agg_major(const json_t *agg, const char *field, char *out, size_t outsz)
{
	const char *k, *best = NULL;
	json_t *v;
	long long bv = 0;
	json_object_foreach(json_object_get(agg, field), k, v)
	{
		long long x = json_integer_value(v);
		if (x > bv || (x == bv && best && strcmp(k, best) < 0)) {
			bv = x;
			best = k;
		}
	}
	if (best)
		snprintf(out, outsz, "%s", best);
	return best ? out : NULL;
}

/* ---- scoring ------------------------------------------------------------ */

struct cand {
	int64_t id;
	unsigned kinds; /* 1 << CK_* of the keys shared */
	double rank;
};

static const double kind_weight[CK_NKINDS] = {
    [CK_MSG] = 10, [CK_ATTACH] = 5, [CK_LAND] = 3,   [CK_HOST] = 1,   [CK_SENDER] = 1,
    [CK_SUBJ] = 2, [CK_BAND] = 1,   [CK_WEAK] = 0.2, [CK_LINK] = 0.5,
};

/* score - how well a report fits a campaign (>= JOIN_SCORE: joins).
 *   same message or attachment: joins outright;
 *   text similarity (estimated Jaccard of shingles, best exemplar) counts
 *   in proportion to how much text there is (full from TEXT_FULL
 *   shingles: a one-line placeholder of a phishing kit proves little);
 *   the landing URL shape adds 0.4 (0.55 when either side has no text to
 *   compare), the landing domain 0.3, the subject template 0.3, the sender
 *   domain 0.15, another shared link domain 0.1, shared decoration or
 *   widespread keys (see choose()) 0.05; the same brand adds 0.1 and a
 *   different one takes 0.3 off; when both texts and subjects disagree
 *   (another lure on the same infrastructure) 0.2 more. */
static double score(const struct cfeat *f, const struct campaign_rec *c, unsigned kinds,
		    const char *brand, const char *cbrand, int c_has_land)
{
	if (kinds & ((1u << CK_MSG) | (1u << CK_ATTACH)))
		return 2.0;
	double text = -1;
	size_t nex = c->exlen / (4 * CF_MH);
	if (f->shingles >= CF_MIN_SHINGLES)
		for (size_t i = 0; i < nex; i++) {
			uint32_t ex[CF_MH];
			memcpy(ex, c->ex + i * 4 * CF_MH, sizeof ex);
			double j = cfeat_jaccard(f->mh, ex);
			if (j > text)
				text = j;
		}
	double conf = f->shingles >= TEXT_FULL ? 1.0 : (double)f->shingles / TEXT_FULL;
	double s = text > 0 ? text * conf : 0;
	if (kinds & (1u << CK_LAND))
		s += text < 0 ? 0.55 : 0.4;
	if (kinds & (1u << CK_HOST))
		s += 0.3;
	/* a long subject is rarely shared by chance, and spam operations keep
	 * it while they rotate bodies and senders; but a kit's subject is
	 * also reused by other operators, who bring their own landing site:
	 * when both sides have one and it differs, the subject counts as a
	 * short one */
	int land_conflict = f->nland && c_has_land && !(kinds & (1u << CK_HOST));
	if (kinds & (1u << CK_SUBJ))
		s += f->subj_words >= SUBJ_SPECIFIC && !land_conflict ? SUBJ_SPECIFIC_W : 0.3;
	if (kinds & (1u << CK_SENDER))
		s += 0.15;
	if (kinds & (1u << CK_LINK))
		s += 0.1;
	if (kinds & (1u << CK_WEAK))
		s += 0.05;
	/* shared infrastructure with a different message (text and subject
	 * both disagree): another lure of the same operator, not this one */
	if (text >= 0 && text * conf < CONTENT_MIN && !(kinds & (1u << CK_SUBJ)))
		s -= LURE_PENALTY;
	if (brand && cbrand)
		s += strcmp(brand, cbrand) ? -0.3 : 0.1;
	return s;
}

/* live - follow merged_into to the live campaign; loads it into c. */
static int load_live(struct campaign_engine *ce, int64_t id, struct campaign_rec *c)
{
	for (int hop = 0; hop < MAX_MERGE_HOPS; hop++) {
		if (get_rec(ce, id, c) < 0)
			return -1;
		if (!c->merged_into)
			return 0;
		id = c->merged_into;
		campaign_rec_release(c);
	}
	return -1;
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->rank < y->rank ? 1 : x->rank > y->rank ? -1 : (x->id < y->id) - (x->id > y->id);
}

/* A scored candidate, kept for bridge_pick(). */
struct scored {
	int64_t id; /* live campaign */
	unsigned kinds;
	double s;
	long reports;
	int64_t pin;
	uint64_t brand; /* chash of the majority brand, 0: none */
	int land_conflict;
};

#define INFRA_KINDS ((1u << CK_LAND) | (1u << CK_HOST) | (1u << CK_SENDER))
#define LURE_KINDS ((1u << CK_MSG) | (1u << CK_ATTACH) | (1u << CK_SUBJ) | (1u << CK_BAND))

/* land_hashes - hashes of the campaign's landing domains (its "domain:"
 * indicators) into out (at most MAX_TOP_IND). */
static int land_hashes(const json_t *agg, uint64_t *out)
{
	const char *k;
	json_t *v;
	int n = 0;
	json_object_foreach(json_object_get(agg, "indicators"), k, v)
	{
		if (n < MAX_TOP_IND && !strncmp(k, "domain:", 7))
			out[n++] = chash(CK_HOST, k + 7, strlen(k + 7));
	}
	return n;
}

/* lands_agree - the two campaigns do not send readers to different sites:
 * one of them has no landing domain, or they share one. */
static int lands_agree(struct campaign_engine *ce, int64_t a, int64_t b)
{
	uint64_t ha[MAX_TOP_IND], hb[MAX_TOP_IND];
	/* one at a time: both may map to the same cache slot */
	struct ccache_ent *e = ccache_load(ce, a);
	if (!e)
		return 0; /* unreadable: no merge on a guess */
	int na = land_hashes(e->aggj, ha);
	e = ccache_load(ce, b);
	if (!e)
		return 0;
	int nb = land_hashes(e->aggj, hb);
	if (!na || !nb)
		return 1;
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			if (ha[i] == hb[j])
				return 1;
	return 0;
}

/* bridge_pick - a second campaign that the report shows to be the same
 * operation as the chosen one (sc[best]), 0 if none. An online clusterer
 * that only ever joins the better of two matches keeps two halves of one
 * campaign apart for good once they started separately (the first
 * reports of a rotation looked different). A bridge needs, against both:
 * a score of BRIDGE_SCORE; a match on the message itself (a text band or
 * the subject template, or the same message or attachment), since shared
 * infrastructure alone is what an operator's other lures have too; an
 * infrastructure key of the report's own (landing URL or domain, sender
 * domain; not a widespread one, see DF_WEAK) that both campaigns hold,
 * since similar text alone is what copycats have too; no brand
 * disagreement among the
 * report and the two campaigns, and no landing conflict (report vs each
 * campaign, and between the campaigns); neither campaign carries an
 * analyst's pin (their merges and splits stand), and the smaller one has
 * at most BRIDGE_MAX reports (bounded work; see bridge_merge()). */
static int64_t bridge_pick(struct campaign_engine *ce, const struct scored *sc, int n, int best,
			   uint64_t brand)
{
	const struct scored *c = &sc[best];
	if (c->s < BRIDGE_SCORE || c->pin || c->land_conflict || !(c->kinds & LURE_KINDS) ||
	    (brand && c->brand && brand != c->brand))
		return 0;
	int pick = -1;
	for (int i = 0; i < n; i++) {
		const struct scored *o = &sc[i];
		if (i == best || o->id == c->id || o->s < BRIDGE_SCORE || o->pin ||
		    o->land_conflict || !(o->kinds & LURE_KINDS) ||
		    !(c->kinds & o->kinds & INFRA_KINDS))
			continue;
		if ((brand && o->brand && brand != o->brand) ||
		    (c->brand && o->brand && c->brand != o->brand))
			continue;
		if ((c->reports < o->reports ? c->reports : o->reports) > BRIDGE_MAX)
			continue;
		if (pick < 0 || o->s > sc[pick].s)
			pick = i;
	}
	if (pick < 0 || !lands_agree(ce, c->id, sc[pick].id))
		return 0;
	return sc[pick].id;
}

/* choose - the campaign for f (0: a new one) and, in *bridge, another
 * live campaign the report shows to be the same one (0: none; see
 * bridge_pick()); *common marks keys not to index. */
static int choose(struct campaign_engine *ce, const struct cfeat *f, const char *message_sha,
		  const char *brand, int64_t pin, int *common, int64_t *chosen, int64_t *bridge)
{
	struct cand cand[MAX_CAND];
	int nc = 0;
	*chosen = 0;
	*bridge = 0;
	for (int k = 0; k < f->nkeys; k++) {
		int64_t ids[KEY_FANOUT];
		int n = 0;
		if (key_lookup(ce, f->keys[k].h, f->keys[k].kind, message_sha, ids, &n) < 0)
			return -1;
		common[k] = n >= KEY_FANOUT && f->keys[k].kind != CK_MSG;
		if (common[k])
			continue;
		int kind = f->keys[k].kind;
		if (n >= DF_WEAK && kind != CK_MSG && kind != CK_ATTACH && kind != CK_BAND)
			kind = CK_WEAK; /* seen across campaigns: decoration, not evidence */
		for (int i = 0; i < n; i++) {
			int j;
			for (j = 0; j < nc && cand[j].id != ids[i]; j++)
				;
			if (j == nc) {
				if (nc == MAX_CAND)
					continue;
				cand[nc].id = ids[i];
				cand[nc].kinds = 0;
				cand[nc].rank = 0;
				nc++;
			}
			if (!(cand[j].kinds & (1u << kind)))
				cand[j].rank += kind_weight[kind];
			else
				cand[j].rank += 0.25 * kind_weight[kind];
			cand[j].kinds |= 1u << kind;
		}
	}
	if (nc > 1)
		qsort(cand, (size_t)nc, sizeof *cand, cmp_cand);
	struct scored sc[MAX_CANDIDATES];
	int ns = 0, best = -1;
	uint64_t bh = brand ? chash(0, brand, strlen(brand)) : 0;
	for (int i = 0; i < nc && i < MAX_CANDIDATES; i++) {
		struct campaign_rec r;
		if (load_live(ce, cand[i].id, &r) < 0)
			continue;		    /* dangling key: its campaign was dropped */
		if (r.pin && pin && r.pin != pin) { /* analysts said apart */
			campaign_rec_release(&r);
			continue;
		}
		/* keys indexed before a merge name the campaign merged away:
		 * the live campaign is scored once, on all its shared keys */
		int j;
		for (j = 0; j < ns && sc[j].id != r.id; j++)
			;
		if (j == ns)
			sc[ns++] = (struct scored){.id = r.id, .kinds = 0};
		sc[j].kinds |= cand[i].kinds;
		/* load_live() just cached r: its entry holds the majority brand */
		const struct ccache_ent *e = ccache_get(ce, r.id);
		const char *cbrand = e && e->brand[0] ? e->brand : NULL;
		sc[j].s = score(f, &r, sc[j].kinds, brand, cbrand, e && e->has_land);
		sc[j].reports = r.reports;
		sc[j].pin = r.pin;
		sc[j].brand = cbrand ? chash(0, cbrand, strlen(cbrand)) : 0;
		sc[j].land_conflict =
		    f->nland && e && e->has_land && !(sc[j].kinds & (1u << CK_HOST));
		if (sc[j].s >= JOIN_SCORE && (best < 0 || sc[j].s > sc[best].s))
			best = j;
		campaign_rec_release(&r);
	}
	if (best < 0)
		return 0;
	*chosen = sc[best].id;
	*bridge = bridge_pick(ce, sc, ns, best, bh);
	return 0;
}

static void add_exemplar(struct campaign_rec *c, const struct cfeat *f)
{
	if (f->shingles < CF_MIN_SHINGLES)
		return;
	size_t nex = c->exlen / (4 * CF_MH);
	for (size_t i = 0; i < nex; i++) {
		uint32_t ex[CF_MH];
		memcpy(ex, c->ex + i * 4 * CF_MH, sizeof ex);
		if (cfeat_jaccard(f->mh, ex) >= 0.85)
			return; /* nothing new */
	}
	/* keep the first exemplars; the last slot follows the newest variant */
	size_t slot = nex < MAX_EXEMPLARS ? nex : MAX_EXEMPLARS - 1;
	memcpy(c->ex + slot * 4 * CF_MH, f->mh, 4 * CF_MH);
	if (slot == nex)
		c->exlen += 4 * CF_MH;
}

static void touch(struct campaign_engine *ce, int64_t id)
{
	for (size_t i = ce->ntouched; i > 0 && i + 8 > ce->ntouched; i--)
		if (ce->touched[i - 1] == id)
			return;
	if (ce->ntouched == ce->captouched) {
		ce->captouched = ce->captouched ? ce->captouched * 2 : 256;
		ce->touched = xrealloc(ce->touched, ce->captouched * sizeof *ce->touched);
	}
	ce->touched[ce->ntouched++] = id;
}

/* top_indicators - up to max "type:value" strings by count, into out[]
 * (pointers into agg). */
static int top_indicators(const json_t *agg, const char **out, int max)
{
	json_t *m = json_object_get(agg, "indicators");
	int n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(m, k, v)
	{
		/* insertion sort by count, bounded by max */
		long long c = json_integer_value(v);
		int pos = n;
		while (pos > 0) {
			long long p = json_integer_value(json_object_get(m, out[pos - 1]));
			if (p > c || (p == c && strcmp(out[pos - 1], k) < 0))
				break; /* ties: smallest first, whatever the key order */
			pos--;
		}
		if (pos >= max)
			continue;
		int last = n < max ? n : max - 1;
		for (int i = last; i > pos; i--)
			out[i] = out[i - 1];
		out[pos] = k;
		if (n < max)
			n++;
	}
	return n;
}

/* maybe_alert - raise the alert of campaign e when the report at time t
 * made it cross N reports within T minutes; returns 1 when it did. */
static int maybe_alert(struct campaign_engine *ce, struct ccache_ent *e, int64_t t,
		       const char *brand, const char *verdict)
{
	struct campaign_rec *c = &e->rec;
	int N = ce->cfg.alert_reports;
	if (c->alerted_at || c->reports < N)
		return 0;
	int64_t tn;
	if (nth_recent(ce, c->id, N, &tn) != STORE_OK)
		return 0;
	int64_t window = t - tn;
	if (window > (int64_t)ce->cfg.alert_minutes * 60)
		return 0;
	c->alerted_at = t;
	const char *ind[10];
	int nind = top_indicators(e->aggj, ind, 10);
	const char *subj[MAX_SUBJECTS];
	int nsubj = 0;
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(e->aggj, "subjects"), i, x)
	{
		if (nsubj < MAX_SUBJECTS && json_is_string(x))
			subj[nsubj++] = json_string_value(x);
	}
	struct calert al = {
	    .campaign_id = c->id,
	    .brand = brand,
	    .verdict = verdict,
	    .reports = c->reports,
	    .window_reports = N,
	    .window_minutes = ce->cfg.alert_minutes,
	    .per_hour = 3600.0 * N / (double)(window > 60 ? window : 60),
	    .first_seen = c->first_seen,
	    .at = t,
	    .indicators = ind,
	    .nindicators = nind,
	    .subjects = subj,
	    .nsubjects = nsubj,
	};
	if (!ce->cfg.replay) /* a replay measures; it does not page anyone */
		alerter_queue(ce->al, &al);
	return 1;
}

/* report_time - campaign time of r. */
static int64_t report_time(struct campaign_engine *ce, const struct result *r)
{
	if (ce->cfg.replay) {
		if (ce->clock)
			return ce->clock;
		struct tm tm = {0};
		if (r->date && strptime(r->date, "%Y-%m-%dT%H:%M:%SZ", &tm))
			return (int64_t)timegm(&tm);
	}
	return (int64_t)time(NULL);
}

/* merge_exemplars - add the text exemplars of b to a: into free slots,
 * unless a near copy is there; when a is full, b's first one takes the last
 * slot (the one that follows the newest variant), so both halves of the
 * merged campaign keep a text to be matched against. */
static void merge_exemplars(struct campaign_rec *a, const struct campaign_rec *b)
{
	size_t nb = b->exlen / (4 * CF_MH);
	for (size_t i = 0; i < nb; i++) {
		uint32_t x[CF_MH];
		memcpy(x, b->ex + i * 4 * CF_MH, sizeof x);
		size_t na = a->exlen / (4 * CF_MH);
		int dup = 0;
		for (size_t k = 0; k < na && !dup; k++) {
			uint32_t y[CF_MH];
			memcpy(y, a->ex + k * 4 * CF_MH, sizeof y);
			dup = cfeat_jaccard(x, y) >= 0.85;
		}
		if (dup)
			continue;
		if (na < MAX_EXEMPLARS) {
			memcpy(a->ex + na * 4 * CF_MH, x, sizeof x);
			a->exlen += 4 * CF_MH;
		} else if (i == 0) {
			memcpy(a->ex + (MAX_EXEMPLARS - 1) * 4 * CF_MH, x, sizeof x);
		}
	}
}

struct fold_ctx {
	struct campaign_engine *ce;
	struct ccache_ent *into;
	int failed;
};

/* fold_member - one member of a campaign merged away: its hour and its
 * display info now count for the campaign it joined. */
static int fold_member(void *ctx, const struct campaign_member_row *m)
{
	struct fold_ctx *fc = ctx;
	json_error_t je;
	json_t *info = m->info ? json_loads(m->info, 0, &je) : NULL;
	agg_fold(fc->into->aggj, info, &fc->into->ind);
	json_decref(info);
	if (store_campaign_hour_add(fc->ce->sc, fc->into->rec.id, m->t / 3600, 1) < 0)
		fc->failed = 1;
	return fc->failed;
}

/* bridge_merge - campaigns a and b are one (bridge_pick()): the smaller
 * joins the larger (ties: the older one stays, so the id analysts have
 * seen survives), which is returned in *into. Unlike an analyst's merge
 * nothing is pinned (a later analyst decision may still split them) and
 * nothing is re-indexed: b's keys lead to the merged campaign through
 * merged_into, as they do after campaign_merge(). Work is bounded by the
 * smaller side (at most BRIDGE_MAX members read and moved). Logged in the
 * decision log, so an analyst can see why a campaign went away. */
static int bridge_merge(struct campaign_engine *ce, int64_t a, int64_t b, const char *message_sha,
			int64_t *into)
{
	struct ccache_ent *ea = ccache_load(ce, a);
	long na = ea ? ea->rec.reports : 0;
	struct ccache_ent *eb = ccache_load(ce, b);
	if (!ea || !eb)
		return -1;
	if (eb->rec.reports > na || (eb->rec.reports == na && b < a)) {
		int64_t tmp = a;
		a = b;
		b = tmp;
		eb = ccache_load(ce, b);
		if (!eb)
			return -1;
	}
	/* b first, by value: a and b may share a cache slot */
	struct campaign_rec from = eb->rec;
	int from_land = eb->has_land;
	eb->rec.merged_into = a;
	eb->dirty = 1;
	if (ccache_write(ce, eb) < 0)
		return -1;
	from.merged_into = a;
	ea = ccache_load(ce, a);
	if (!ea)
		return -1;
	struct fold_ctx fc = {ce, ea, 0};
	if (store_campaign_members_each(ce->sc, b, fold_member, &fc) < 0 || fc.failed ||
	    store_campaign_reset_derived(ce->sc, b) < 0 ||
	    store_campaign_member_move(ce->sc, b, a, NULL) < 0)
		return -1;
	struct campaign_rec *cr = &ea->rec;
	cr->reports += from.reports;
	if (from.first_seen < cr->first_seen)
		cr->first_seen = from.first_seen;
	if (from.last_seen > cr->last_seen)
		cr->last_seen = from.last_seen;
	/* one operation is alerted once */
	if (from.alerted_at && (!cr->alerted_at || from.alerted_at < cr->alerted_at))
		cr->alerted_at = from.alerted_at;
	merge_exemplars(cr, &from);
	ea->complete = 0; /* b's member times are not in recent[]: ask the store */
	ea->has_land |= from_land;
	if (!agg_major(ea->aggj, "brands", ea->brand, sizeof ea->brand))
		ea->brand[0] = '\0';
	char detail[160];
	snprintf(detail, sizeof detail, "bridge: merge %lld into %lld (report %.16s matched both)",
		 (long long)b, (long long)a, message_sha ? message_sha : "");
	if (store_campaign_decision(ce->sc, "bridge", detail) < 0)
		return -1;
	*into = a;
	return 0;
}

/* place - cluster one report given its features; shared by ingest and
 * re-clustering. info is the member's record (info_text its JSON text, as
 * stored); sets *cid, and *alerted when this report raised its campaign's
 * alert. */
static int place(struct campaign_engine *ce, const struct cfeat *f, const char *message_sha,
		 const char *brand, const char *verdict, int64_t t, const json_t *info,
		 const char *info_text, int64_t *cid, int *alerted)
{
	struct campaign_rec c;
	struct ccache_ent *e = NULL;
	int common[CF_MAX_KEYS] = {0};
	int64_t pin = 0, chosen = 0, bridge = 0;
	*alerted = 0;
	int prc = ce->has_pins ? store_campaign_pin_get(ce->sc, message_sha, &pin) : STORE_DUP;
	if (prc < 0)
		return -1;
	if (prc == STORE_OK) {
		int64_t id;
		int rc = store_campaign_by_pin(ce->sc, pin, &id);
		if (rc < 0)
			return -1;
		if (rc == STORE_OK && load_live(ce, id, &c) == 0)
			chosen = c.id;
	} else {
		pin = 0;
		if (choose(ce, f, message_sha, brand, 0, common, &chosen, &bridge) < 0)
			return -1;
		if (bridge && bridge_merge(ce, chosen, bridge, message_sha, &chosen) < 0) {
			caches_reset(ce);
			return -1;
		}
	}
	if (!chosen) {
		memset(&c, 0, sizeof c);
		c.first_seen = c.last_seen = t;
		c.pin = pin;
		snprintf(c.state, sizeof c.state, "new");
		if (store_campaign_insert(ce->sc, &c) < 0)
			return -1;
		e = ccache_put(ce, &c, 1); /* every member of it is seen in this run */
		if (!e) {
			caches_reset(ce);
			return -1;
		}
	} else {
		/* the chosen record may have left the cache while later
		 * candidates were loaded */
		e = ccache_load(ce, chosen);
		if (!e)
			return -1;
	}
	/* from here on the cache entry is the record: it is updated in place
	 * and written back later (nothing below loads another campaign) */
	struct campaign_rec *cr = &e->rec;
	cr->reports++;
	if (t < cr->first_seen)
		cr->first_seen = t;
	if (t > cr->last_seen)
		cr->last_seen = t;
	add_exemplar(cr, f);
	agg_fold(e->aggj, info, &e->ind);
	if (f->nland)
		e->has_land = 1;
	if (!agg_major(e->aggj, "brands", e->brand, sizeof e->brand))
		e->brand[0] = '\0';
	snprintf(cr->state, sizeof cr->state, "%s",
		 cr->reports >= ce->cfg.alert_reports ? "growing" : "new");
	for (int k = 0; k < f->nkeys; k++)
		if (!common[k] && key_add(ce, f->keys[k].h, f->keys[k].kind, cr->id) < 0)
			goto fail;
	unsigned char fb[FEAT_BYTES];
	size_t fl = feat_pack(f, fb);
	if (store_campaign_member_add(ce->sc, cr->id, message_sha, t, fb, fl, info_text) < 0 ||
	    store_campaign_hour_add(ce->sc, cr->id, t / 3600, 1) < 0)
		goto fail;
	note_member(ce, cr->id, t);
	keyfilter_add(&ce->mf, (uint64_t)store_hex_key(message_sha));
	*alerted = maybe_alert(ce, e, t, brand ? brand : e->brand[0] ? e->brand : NULL, verdict);
	e->dirty = 1;
	*cid = cr->id;
	if (ce->cfg.replay) /* only the replay summary reads it: a resident
			     * ingest would grow it without bound */
		touch(ce, cr->id);
	return 0;
fail:
	caches_reset(ce);
	return -1;
}

/* campaign_prep - what campaign_prepare() computes from the report alone. */
struct campaign_prep {
	struct cfeat f;		/* display values borrowed from the result */
	json_t *info;		/* member_info() (owned) */
	char *info_text;	/* info_dump() of it (owned) */
	const struct result *r; /* the result it was made for (NULL: empty) */
};

struct campaign_prep *campaign_prep_new(void)
{
	return xcalloc(1, sizeof(struct campaign_prep));
}

static void prep_clear(struct campaign_prep *p)
{
	json_decref(p->info);
	free(p->info_text);
	p->info = NULL;
	p->info_text = NULL;
	p->r = NULL;
}

struct campaign_prep *campaign_prep_free(struct campaign_prep *p)
{
	if (p) {
		prep_clear(p);
		free(p);
	}
	return NULL;
}

void campaign_prepare(const struct campaign_engine *ce, const struct result *r,
		      struct campaign_prep *p)
{
	prep_clear(p);
	if (ce->disabled)
		return;
	cfeat_extract(&p->f, r, ce->il, ce->reg);
	p->info = member_info(r, &p->f);
	p->info_text = info_dump(p->info);
	p->r = r;
}

int campaign_assign_prepared(struct campaign_engine *ce, struct result *r, struct campaign_prep *p)
{
	ce->alerted = 0;
	if (ce->disabled)
		return 0;
	if (p->r != r) /* not prepared for this result: do it here */
		campaign_prepare(ce, r, p);
	int64_t cid = 0;
	int rc = place(ce, &p->f, r->msg_sha256, r->brand, r->verdict, report_time(ce, r), p->info,
		       p->info_text, &cid, &ce->alerted);
	prep_clear(p);
	if (rc < 0)
		return -1;
	r->campaign_id = cid;
	return 0;
}

int campaign_assign(struct campaign_engine *ce, struct result *r)
{
	struct campaign_prep p = {0};
	return campaign_assign_prepared(ce, r, &p); /* it empties p */
}

int campaign_deliver_alerts(struct campaign_engine *ce)
{
	return ce ? alerter_deliver(ce->al) : 0;
}

void campaign_discard_alerts(struct campaign_engine *ce)
{
	if (ce)
		alerter_discard(ce->al);
}

int campaign_alerted(const struct campaign_engine *ce)
{
	return ce && ce->alerted;
}

/* ---- replay summary ------------------------------------------------------ */

static void iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void campaign_replay_summary(struct campaign_engine *ce, FILE *out)
{
	long alerted = 0, seen = 0;
	int64_t *delays = xcalloc(ce->ntouched + 1, sizeof *delays);
	fprintf(out, "replay: alert when %d reports arrive within %d minutes\n",
		ce->cfg.alert_reports, ce->cfg.alert_minutes);
	fprintf(out, "%8s  %7s  %-20s  %s\n", "campaign", "reports", "first report",
		"alerted after");
	for (size_t i = 0; i < ce->ntouched; i++) {
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = ce->touched[j] == ce->touched[i];
		struct campaign_rec c;
		if (dup || load_live(ce, ce->touched[i], &c) < 0 || c.id != ce->touched[i])
			continue;
		seen++;
		char a[32];
		iso(c.first_seen, a);
		if (c.alerted_at) {
			int64_t d = c.alerted_at - c.first_seen;
			delays[alerted++] = d;
			fprintf(out, "%8lld  %7ld  %-20s  %lldh%02lldm%02llds\n", (long long)c.id,
				c.reports, a, (long long)(d / 3600), (long long)(d / 60 % 60),
				(long long)(d % 60));
		} else if (c.reports >= ce->cfg.alert_reports) {
			fprintf(out, "%8lld  %7ld  %-20s  never\n", (long long)c.id, c.reports, a);
		}
		campaign_rec_release(&c);
	}
	/* median delay */
	for (long i = 1; i < alerted; i++)
		for (long j = i; j > 0 && delays[j - 1] > delays[j]; j--) {
			int64_t tmp = delays[j];
			delays[j] = delays[j - 1];
			delays[j - 1] = tmp;
		}
	fprintf(out, "replay: %ld campaigns, %ld alerted", seen, alerted);
	if (alerted)
		fprintf(out, ", median delay after the first report %llds",
			(long long)delays[alerted / 2]);
	fputc('\n', out);
	free(delays);
}

int64_t campaign_message_date(const char *raw, size_t len)
{
	/* the Date field of the top header block, unfolded, bounded */
	const char *p = raw, *end = raw + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '\r'))
			break;
		if (n > 5 && !strncasecmp(p, "Date:", 5)) {
			char v[256];
			size_t m = n - 5 < sizeof v - 1 ? n - 5 : sizeof v - 1;
			memcpy(v, p + 5, m);
			v[m] = '\0';
			GDateTime *dt = g_mime_utils_header_decode_date(v);
			if (!dt)
				return 0;
			int64_t t = g_date_time_to_unix(dt);
			g_date_time_unref(dt);
			return t;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return 0;
}

/* ---- analyst decisions and re-clustering --------------------------------- */

struct rebuild_ctx {
	struct campaign_engine *ce;
	struct campaign_rec *c;
	int failed;
};

static int rebuild_member(void *ctx, const struct campaign_member_row *m)
{
	struct rebuild_ctx *rb = ctx;
	struct cfeat f;
	if (feat_unpack(&f, m->feat, m->featlen) < 0)
		return 0;
	struct campaign_rec *c = rb->c;
	if (!c->reports || m->t < c->first_seen)
		c->first_seen = m->t;
	if (!c->reports || m->t > c->last_seen)
		c->last_seen = m->t;
	c->reports++;
	add_exemplar(c, &f);
	char *agg = agg_add(c->agg, m->info);
	free(c->agg);
	c->agg = agg;
	for (int k = 0; k < f.nkeys; k++)
		if (f.keys[k].kind != CK_MSG && /* answered by the reports (key_add) */
		    key_store(rb->ce, f.keys[k].h, f.keys[k].kind, c->id) < 0)
			rb->failed = 1;
	if (store_campaign_hour_add(rb->ce->sc, c->id, m->t / 3600, 1) < 0)
		rb->failed = 1;
	return rb->failed;
}

/* rebuild - recompute a campaign's record from its members. */
static int rebuild(struct campaign_engine *ce, int64_t id)
{
	struct campaign_rec c;
	if (store_campaign_get(ce->sc, id, &c) < 0)
		return -1;
	free(c.agg);
	c.agg = NULL;
	c.reports = 0;
	c.exlen = 0;
	struct rebuild_ctx rb = {ce, &c, 0};
	if (store_campaign_reset_derived(ce->sc, id) < 0 ||
	    store_campaign_members_each(ce->sc, id, rebuild_member, &rb) < 0 || rb.failed) {
		campaign_rec_release(&c);
		return -1;
	}
	if (!c.reports)
		c.merged_into = c.merged_into ? c.merged_into : 0;
	int rc = store_campaign_update(ce->sc, &c);
	campaign_rec_release(&c);
	return rc;
}

static int pin_members(void *ctx, const struct campaign_member_row *m)
{
	struct rebuild_ctx *rb = ctx;
	return store_campaign_pin_set(rb->ce->sc, m->message_sha, rb->c->pin) < 0;
}

/* pin_all - pin every member of campaign c to its pin group. */
static int pin_all(struct campaign_engine *ce, struct campaign_rec *c)
{
	struct rebuild_ctx rb = {ce, c, 0};
	return store_campaign_members_each(ce->sc, c->id, pin_members, &rb);
}

int campaign_merge(struct campaign_engine *ce, int64_t into, int64_t from, char *err, size_t errsz)
{
	struct campaign_rec a, b;
	if (caches_reset(ce) < 0) {
		snprintf(err, errsz, "cannot record the merge: %s", store_campaign_errmsg(ce->sc));
		return -1;
	}
	if (into == from) {
		snprintf(err, errsz, "cannot merge campaign %lld into itself", (long long)into);
		return -1;
	}
	if (store_campaign_get(ce->sc, into, &a) < 0) {
		snprintf(err, errsz, "no campaign %lld", (long long)into);
		return -1;
	}
	if (store_campaign_get(ce->sc, from, &b) < 0) {
		snprintf(err, errsz, "no campaign %lld", (long long)from);
		campaign_rec_release(&a);
		return -1;
	}
	int rc = -1;
	if (a.merged_into || b.merged_into) {
		snprintf(err, errsz, "campaign %lld was already merged into another",
			 (long long)(a.merged_into ? into : from));
		goto out;
	}
	if (!a.pin && store_campaign_new_pin_group(ce->sc, &a.pin) < 0)
		goto store_fail;
	b.merged_into = into;
	b.pin = a.pin;
	char detail[128];
	snprintf(detail, sizeof detail, "merge %lld into %lld", (long long)from, (long long)into);
	if (store_campaign_update(ce->sc, &a) < 0 || store_campaign_update(ce->sc, &b) < 0 ||
	    store_campaign_member_move(ce->sc, from, into, NULL) < 0 || pin_all(ce, &a) < 0 ||
	    store_campaign_reset_derived(ce->sc, from) < 0 || rebuild(ce, into) < 0 ||
	    store_campaign_decision(ce->sc, "merge", detail) < 0)
		goto store_fail;
	rc = 0;
	goto out;
store_fail:
	snprintf(err, errsz, "cannot record the merge: %s", store_campaign_errmsg(ce->sc));
out:
	campaign_rec_release(&a);
	campaign_rec_release(&b);
	return rc;
}

int campaign_split(struct campaign_engine *ce, int64_t id, const int64_t *report_ids, int n,
		   int64_t *new_id, char *err, size_t errsz)
{
	struct campaign_rec c, d;
	if (caches_reset(ce) < 0) {
		snprintf(err, errsz, "cannot record the split: %s", store_campaign_errmsg(ce->sc));
		return -1;
	}
	if (store_campaign_get(ce->sc, id, &c) < 0) {
		snprintf(err, errsz, "no campaign %lld", (long long)id);
		return -1;
	}
	if (c.merged_into) {
		snprintf(err, errsz, "campaign %lld was merged into %lld", (long long)id,
			 (long long)c.merged_into);
		campaign_rec_release(&c);
		return -1;
	}
	char shas[64][65];
	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		int64_t rc_id = 0;
		if (store_campaign_report_sha(ce->sc, report_ids[i], shas[i], &rc_id) != STORE_OK ||
		    rc_id != id) {
			snprintf(err, errsz, "report %lld is not in campaign %lld",
				 (long long)report_ids[i], (long long)id);
			campaign_rec_release(&c);
			return -1;
		}
	}
	memset(&d, 0, sizeof d);
	d.first_seen = c.first_seen;
	d.last_seen = c.last_seen;
	snprintf(d.state, sizeof d.state, "%s", c.state);
	int rc = -1;
	/* the rest stays together, the named reports go together, apart */
	if ((!c.pin && store_campaign_new_pin_group(ce->sc, &c.pin) < 0) ||
	    store_campaign_update(ce->sc, &c) < 0 || pin_all(ce, &c) < 0 ||
	    store_campaign_new_pin_group(ce->sc, &d.pin) < 0 ||
	    store_campaign_insert(ce->sc, &d) < 0)
		goto store_fail;
	for (int i = 0; i < n; i++)
		if (store_campaign_member_move(ce->sc, id, d.id, shas[i]) < 0 ||
		    store_campaign_pin_set(ce->sc, shas[i], d.pin) < 0)
			goto store_fail;
	char detail[128];
	snprintf(detail, sizeof detail, "split %d reports of %lld into %lld", n, (long long)id,
		 (long long)d.id);
	if (rebuild(ce, id) < 0 || rebuild(ce, d.id) < 0 ||
	    store_campaign_decision(ce->sc, "split", detail) < 0)
		goto store_fail;
	*new_id = d.id;
	rc = 0;
	goto out;
store_fail:
	snprintf(err, errsz, "cannot record the split: %s", store_campaign_errmsg(ce->sc));
out:
	campaign_rec_release(&c);
	campaign_rec_release(&d);
	return rc;
}

struct held_member {
	int64_t t;
	char *sha, *info;
	unsigned char feat[FEAT_BYTES];
	size_t featlen;
};

struct hold_ctx {
	struct held_member *v;
	size_t n, cap;
};

static int hold_member(void *ctx, const struct campaign_member_row *m)
{
	struct hold_ctx *h = ctx;
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
	struct held_member *x = &h->v[h->n++];
	x->t = m->t;
	x->sha = xstrdup(m->message_sha ? m->message_sha : "");
	x->info = xstrdup(m->info ? m->info : "{}");
	x->featlen = m->featlen <= sizeof x->feat ? m->featlen : 0;
	memcpy(x->feat, m->feat, x->featlen);
	return 0;
}

int campaign_recluster(struct campaign_engine *ce, long *members, char *err, size_t errsz)
{
	/* every member is read first, the derived tables, members and the
	 * reports' campaign ids (new campaigns reuse the old ids) are
	 * dropped, and the members are placed again in time order; pins keep
	 * the analysts' decisions. The caller holds a transaction. */
	struct hold_ctx h = {NULL, 0, 0};
	int saved_replay = ce->cfg.replay;
	int ok =
	    caches_reset(ce) == 0 && store_campaign_members_each(ce->sc, 0, hold_member, &h) == 0 &&
	    store_campaign_reset_derived(ce->sc, 0) == 0 &&
	    store_campaign_member_drop_all(ce->sc) == 0 && store_campaign_report_clear(ce->sc) == 0;
	ce->cfg.replay = 1; /* no alerts while re-clustering */
	for (size_t i = 0; ok && i < h.n; i++) {
		struct cfeat f;
		if (feat_unpack(&f, h.v[i].feat, h.v[i].featlen) < 0)
			continue;
		json_error_t e;
		json_t *info = json_loads(h.v[i].info, 0, &e);
		int64_t cid;
		int alerted;
		ok = place(ce, &f, h.v[i].sha, json_string_value(json_object_get(info, "b")),
			   json_string_value(json_object_get(info, "v")), h.v[i].t, info,
			   h.v[i].info, &cid, &alerted) == 0;
		/* the reports answer exact-message lookups (key_lookup): the
		 * first member of a message gives its reports their campaign,
		 * as store_campaign_sync_reports() does at the end */
		if (ok && h.v[i].sha[0])
			ok = store_campaign_report_set(ce->sc, h.v[i].sha, cid) == 0;
		json_decref(info);
	}
	ce->cfg.replay = saved_replay;
	if (ok)
		ok = campaign_flush(ce) == 0 && store_campaign_sync_reports(ce->sc) == 0;
	if (!ok)
		snprintf(err, errsz, "cannot re-cluster: %s", store_campaign_errmsg(ce->sc));
	*members = (long)h.n;
	for (size_t i = 0; i < h.n; i++) {
		free(h.v[i].sha);
		free(h.v[i].info);
	}
	free(h.v);
	return ok ? 0 : -1;
}
