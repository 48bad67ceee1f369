/*
 * result.h - what Shield knows about one suspicious message: the contract
 * between the mail/ and extract/ stages and everything after them (store/,
 * out/, later verdict/ and campaign/).
 *
 * Ownership: every pointer in these structs points into result->arena and is
 * freed by result_free(). Strings are UTF-8 and NUL-terminated; NULL means
 * "absent" (distinct from the empty string).
 */
#ifndef SHIELD_RESULT_H
#define SHIELD_RESULT_H
#include <stddef.h>

#include "common/arena.h"

struct ind_url {
	char *url;	    /* normalised: scheme/host lower-case, punycode host */
	char *host;	    /* ASCII (punycode) host, no port */
	char *host_unicode; /* Unicode form of host (== host when ASCII) */
	char *reg_domain;   /* registrable domain per the PSL; NULL for IPs */
	char *found_in;	    /* "text", "html:href", "html:src", ... */
	char *text;	    /* visible link text when it differs, else NULL */
};

/* A plain indicator: a domain, an IP address or an e-mail address. */
struct ind {
	char *value;
	char *found_in;	  /* "header:from", "body", "url", "received", ... */
	char *reg_domain; /* domains only: registrable domain per the PSL */
};

struct attachment {
	char *name;	     /* decoded file name, NULL if none */
	char *declared_type; /* Content-Type as declared, lower-case */
	char *true_type;     /* MIME type from libmagic */
	char *description;   /* libmagic's description */
	size_t size;	     /* decoded size in bytes */
	char sha256[65];
	char **entries; /* archive listing (libarchive), NULL if not an archive */
	size_t n_entries;
	int entries_truncated;
	int encrypted; /* archive with encrypted entries */
};

struct hop {
	char *from, *by, *ip, *date, *with;
};

struct dkim_sig {
	char *d, *s, *a;
};

/* A limit hit or malformed input: never an error, always kept. */
struct finding {
	char *code;   /* "limit.mime_depth", "mime.malformed", ... */
	char *detail; /* human detail, may be NULL */
};

/* One reason behind a verdict: a stable code, the points it adds (or
 * subtracts), and the evidence in words (names the domain, brand, list...). */
struct reason {
	char *code;   /* "lookalike.domain", "auth.dkim_unsigned_brand", "list.bad:openphish" */
	int weight;   /* points towards malicious (negative: towards legitimate) */
	char *detail; /* the evidence, e.g. "belfius-secure-login.com imitates belfius.be" */
};

/* Growable arena-backed vector. */
#define RVEC(type)                                                                                 \
	struct {                                                                                   \
		type *v;                                                                           \
		size_t n, cap;                                                                     \
	}

struct ind_index;

struct result {
	struct arena arena;

	const char *source;  /* input path as given (borrowed from caller) */
	long source_index;   /* index inside an mbox, -1 when not applicable */
	int suspect_index;   /* which suspicious message of the report (0..) */
	const char *forward; /* "attached", "inline" or "none" */
	char *forward_style; /* for inline: "gmail", "outlook", ... */

	char *reporter; /* the forwarder's address (NULL when forward=none) */
	char *from, *from_name, *reply_to, *return_path, *sender, *to;
	char *subject, *date, *message_id;
	char *body_text; /* visible text of the suspicious message (for later stages) */

	RVEC(struct ind_url) urls;
	RVEC(struct ind) domains;
	RVEC(struct ind) ips;
	RVEC(struct ind) emails;
	RVEC(struct attachment) attachments;
	RVEC(struct hop) received;
	RVEC(struct dkim_sig) dkim_sigs;
	RVEC(struct finding) findings;

	char *origin_ip;
	char *auth_spf, *auth_dkim, *auth_dmarc; /* as recorded by receivers */
	int smime_signed;			 /* an S/MIME signature is present */
	int pgp_signed;

	/* verdict stage (src/verdict/): NULL/0 until judged */
	const char *verdict; /* phishing, malware, scam, spam, legitimate, unknown */
	int score;	     /* 0-100, likelihood of malicious intent */
	RVEC(struct reason) reasons;
	char *brand;	      /* registry id of the organisation claimed or imitated */
	char *language;	      /* en, nl, fr, de, ... of the visible text, NULL if unsure */
	int verified_sender;  /* valid aligned signature from a registered organisation */
	char *dkim_verified;  /* Shield's own DKIM check: pass, fail, none, nokey, ... */
	char *dkim_domain;    /* d= of the signature that decided dkim_verified */
	int dkim_aligned;     /* that d= aligns (relaxed) with the From domain */
	char *smime_verified; /* pass, fail, none */
	char *smime_signer;   /* signer's e-mail address or subject */

	/* campaign stage (src/campaign/): 0 until assigned */
	long long campaign_id;

	/* The suspicious message's bytes (NULL for an inline forward, which
	 * has no bytes of its own): borrowed, valid only while the result is
	 * being handed to an extract_cb, for stages that verify signatures. */
	const char *raw;
	size_t raw_len;

	struct ind_index *ind_index[3]; /* private to result.c: de-duplication */

	char msg_sha256[65]; /* SHA-256 of the suspicious message's bytes */
	size_t msg_size;
	int parts; /* MIME parts seen */
};

/* result_new - an empty result; source is borrowed and must outlive it. */
struct result *result_new(const char *source, long source_index);
/* result_free - release the result and everything in its arena; NULL ok. */
void result_free(struct result *r);
/* result_finding - record a finding (code copied; detail printf-style). */
void result_finding(struct result *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* result_has_finding - nonzero if a finding with this code exists. */
int result_has_finding(const struct result *r, const char *code);
/* result_add_ind - append to domains/ips/emails, de-duplicated by value
 * (case-insensitive); returns 0 on add, 1 if present, -1 if over limit. */
int result_add_ind(struct result *r, int kind, const char *value, size_t n, const char *found_in);
enum { IND_DOMAIN, IND_IP, IND_EMAIL };
/* result_reason - append a verdict reason (code copied, detail printf). */
void result_reason(struct result *r, const char *code, int weight, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
