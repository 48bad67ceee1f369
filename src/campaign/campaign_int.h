/*
 * campaign_int.h - private contract between the files of the campaign
 * stage: feature extraction (features.c), the ignore list of shared
 * infrastructure (features.c), alerts (alert.c) and the engine
 * (campaign.c). Nothing outside src/campaign/ includes this header.
 *
 * A report is reduced to a struct cfeat: a bounded set of 64-bit lookup
 * keys (each with a kind and a strength), a one-permutation MinHash
 * signature of its visible-text shingles, and a few display values
 * (landing domains, sender domain, subject) borrowed from the result.
 * Limits (all bounded, whatever the report contains):
 *   CF_MAX_KEYS keys, CF_MAX_WORDS words of visible text shingled,
 *   CF_MAX_LAND landing keys, CF_MAX_ATTACH attachment hashes.
 */
#ifndef SHIELD_CAMPAIGN_INT_H
#define SHIELD_CAMPAIGN_INT_H
#include <stddef.h>
#include <stdint.h>

#include "extract/result.h"

#define CF_MH 32	   /* MinHash bins (one-permutation hashing) */
#define CF_BANDS 8	   /* LSH bands of CF_MH / CF_BANDS rows each */
#define CF_MAX_KEYS 32	   /* lookup keys per report */
#define CF_MAX_WORDS 3000  /* visible-text words shingled (cost bound) */
#define CF_MAX_LAND 4	   /* landing URL keys (and display domains) per report */
#define CF_MAX_LINKDOMS 16 /* distinct link domains weighed per report */
#define CF_MAX_URLS 256	   /* links looked at per report (cost bound) */
#define CF_MAX_ATTACH 4	   /* attachment hashes per report */
#define CF_MIN_SHINGLES 4  /* fewer: the text says too little to compare */

/* Key kinds. Strong keys can join a report to a campaign on their own
 * (with some agreement of the text); medium ones add evidence; weak ones
 * (shared infrastructure from the ignore list) only break ties. */
enum ckind {
	CK_MSG = 1, /* same message bytes (message_sha256) */
	CK_ATTACH,  /* attachment SHA-256 */
	CK_LAND,    /* landing URL: registrable domain + path shape */
	CK_HOST,    /* landing registrable domain alone */
	CK_SENDER,  /* From registrable domain */
	CK_SUBJ,    /* subject template */
	CK_BAND,    /* LSH band of the text MinHash */
	CK_WEAK,    /* any key on shared infrastructure or a verified organisation */
	CK_LINK,    /* a link domain other than the landing one */
	CK_NKINDS
};

struct ckey {
	uint64_t h;
	uint8_t kind;
};

struct cfeat {
	struct ckey keys[CF_MAX_KEYS];
	int nkeys;
	uint32_t mh[CF_MH];
	int shingles; /* distinct shingles seen (0: no usable text) */
	/* display values, borrowed from the result's arena or static */
	const char *land[CF_MAX_LAND];
	int nland;
	const char *sender_domain; /* NULL when absent */
	const char *lang;	   /* r->language or a stop-word guess */
	char subj_tmpl[160];	   /* folded subject */
	int subj_words;		   /* words of two or more letters in subj_tmpl */
};

struct ignore_list; /* hosts and registrable domains of shared infrastructure */

/* ignore_list_load - read path (one domain a line, '#' comments); NULL
 * path: the bundled data/campaign-ignore.txt. NULL on error with *err. */
struct ignore_list *ignore_list_load(const char *path, char **err);
struct ignore_list *ignore_list_free(struct ignore_list *il);
/* ignore_list_has - host or one of its parent domains is listed. */
int ignore_list_has(const struct ignore_list *il, const char *host);

struct registry;
/* cfeat_extract - reduce r to features. Links to shared infrastructure
 * (il) or to verified organisations (reg, may be NULL) are decoration and
 * only give weak keys. Never fails; bounded work. */
void cfeat_extract(struct cfeat *f, const struct result *r, const struct ignore_list *il,
		   const struct registry *reg);
/* cfeat_jaccard - estimated Jaccard similarity of two text signatures. */
double cfeat_jaccard(const uint32_t *a, const uint32_t *b);
/* subject_template - fold numbers, addresses, random tokens and reply
 * prefixes of s into out (lower-case). */
void subject_template(const char *s, char *out, size_t outsz);
/* path_shape - "/track/<star>" for "/track/8f3a9c": segments that look random
 * or carry digits become a star; the query and fragment are dropped. */
void path_shape(const char *url, char *out, size_t outsz);
/* chash - 64-bit hash of (kind, bytes). */
uint64_t chash(int kind, const void *p, size_t n);

/* An alert, as raised by the engine. Strings are borrowed for the call. */
struct calert {
	int64_t campaign_id;
	const char *brand;   /* NULL when unknown */
	const char *verdict; /* NULL when unknown */
	long reports;	     /* size when the threshold was crossed */
	int window_reports;  /* N */
	int window_minutes;  /* T */
	double per_hour;     /* growth: reports per hour over the window */
	int64_t first_seen, at;
	const char *const *indicators; /* to block: landing domains, hashes, senders */
	int nindicators;
	const char *const *subjects;
	int nsubjects;
};

struct alerter;
struct alerter *alerter_new(const char *webhook_url, const char *email);
struct alerter *alerter_free(struct alerter *a);
/* alerter_queue - keep the alert (copied: al and what it points to may
 * change afterwards) until alerter_deliver(). */
void alerter_queue(struct alerter *a, const struct calert *al);
/* alerter_deliver - each queued alert, in order: log line on stderr, then
 * webhook (with retry) and e-mail as configured; empties the queue.
 * Returns how many alerts some configured channel did not take. */
int alerter_deliver(struct alerter *a);
/* alerter_discard - drop the queued alerts (their reports were not stored). */
void alerter_discard(struct alerter *a);
/* alert_json - the alert as a JSON object string (malloc'd). */
char *alert_json(const struct calert *al);

#endif
