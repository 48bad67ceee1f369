/*
 * auth.c - signed versus unsigned: Shield's own DKIM (libopendkim) and
 * S/MIME (OpenSSL CMS) verification of the suspicious message's raw bytes,
 * and the "auth.*" reasons built on it.
 *
 * Ownership: the verifier owns its DKIM_LIB handles (one for the offline key
 * file, one for DNS when the operator allows it) and its X509_STORE; both
 * are read-only after auth_verifier_new(), so one verifier serves many
 * threads (key-file and S/MIME checks; the DNS resolver state of libopendkim
 * is per library handle, so with cfg->dns give each thread its own
 * verifier). Everything set on the result lives in its arena.
 *
 * Limits: at most AUTH_MAX_DKIM_SIGS signatures per message are verified
 * (the others are ignored by libopendkim's prescreen), each a key lookup and
 * an RSA/Ed25519 operation; DNS lookups wait at most cfg->dns_timeout_ms
 * (rounded up to whole seconds, libopendkim's unit). Signer names are cut
 * at AUTH_MAX_SIGNER bytes and control characters replaced.
 *
 * Security: the message is hostile. Without cfg->dns, libopendkim runs in
 * key-file mode (an empty file when no key file is configured) and its DNS
 * hooks are replaced by a stub that refuses and counts every query, so no
 * lookup can leave the host whatever the signature says. Verdicts rest only
 * on this verification, never on Authentication-Results, ARC or
 * Received-SPF headers added by receiving servers (r->auth_* is not read).
 */
#include "verdict/auth.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>
#include <libpsl.h>
#include <opendkim/dkim.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/arena.h"
#include "common/limits.h"
#include "common/xalloc.h"
#include "mail/headers.h"

/* Trusted CA certificates for S/MIME chains: the system store. */
#define AUTH_SYSTEM_CA_DIR "/etc/ssl/certs"

/* Reason weights: points towards malicious (negative: legitimate). */
enum {
	W_DKIM_PASS_ALIGNED = -25,
	W_SIGNED_BY_OTHER = 15,
	W_DKIM_FAIL = 10,
	W_DKIM_PERMERROR = 5,
	W_DKIM_UNVERIFIED = 0,
	W_UNSIGNED_BRAND = 30,
	W_SMIME_PASS = -20,
	W_SMIME_UNTRUSTED = 0,
	W_SMIME_FAIL = 10,
	W_VERIFIED_SENDER = -40,
};

struct auth_verifier {
	DKIM_LIB *lib;	   /* key file (or empty file): never touches DNS */
	DKIM_LIB *lib_dns; /* only when the operator set cfg->dns */
	int have_keys;
	char *keys_path; /* the key file, or /dev/null */
	int timeout_ms;
	const psl_ctx_t *psl;
	X509_STORE *store;
	atomic_long dns_refused; /* queries the no-network stub refused */
};

/* ---- the no-network DNS stub -------------------------------------------- */

/* dns_refuse - libopendkim query start hook: count and refuse. */
static int dns_refuse(void *srv, int type, unsigned char *query, unsigned char *buf, size_t buflen,
		      void **qh)
{
	struct auth_verifier *av = srv;
	if (av)
		atomic_fetch_add(&av->dns_refused, 1);
	return DKIM_DNS_ERROR;
}

static int dns_cancel(void *srv, void *qh)
{
	return 0;
}

static int dns_wait(void *srv, void *qh, struct timeval *to, size_t *bytes, int *error, int *dnssec)
{
	return DKIM_DNS_ERROR;
}

static int dns_init(void **srv)
{
	return 0;
}

static void dns_close(void *srv)
{
}

/* prescreen - verify only the first AUTH_MAX_DKIM_SIGS signatures. */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	for (int i = AUTH_MAX_DKIM_SIGS; i < nsigs; i++)
		dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

/* dkim_lib_new - a library handle; keyfile NULL means DNS (cfg->dns);
 * drift nonzero is a clock drift allowance in seconds (libopendkim adds it
 * to x= when it checks expiry). */
static DKIM_LIB *dkim_lib_new(struct auth_verifier *av, const char *keyfile, int timeout_ms,
			      uint64_t drift, char **err)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	if (!lib) {
		*err = xstrdup("cannot initialise libopendkim");
		return NULL;
	}
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
	int rc = dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
	if (keyfile) {
		/* key-file mode: libopendkim reads the file, never the
		 * resolver; the stub below makes sure of it anyway */
		dkim_query_t qm = DKIM_QUERY_FILE;
		dkim_dns_set_query_service(lib, av);
		dkim_dns_set_init(lib, dns_init);
		dkim_dns_set_close(lib, dns_close);
		dkim_dns_set_query_start(lib, dns_refuse);
		dkim_dns_set_query_cancel(lib, dns_cancel);
		dkim_dns_set_query_waitreply(lib, dns_wait);
		if (rc == DKIM_STAT_OK)
			rc = dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &qm,
					  sizeof qm);
		if (rc == DKIM_STAT_OK)
			rc = dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, (void *)keyfile,
					  strlen(keyfile));
	} else {
		unsigned int secs = timeout_ms > 0 ? ((unsigned int)timeout_ms + 999u) / 1000u : 5u;
		if (rc == DKIM_STAT_OK)
			rc = dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT, &secs,
					  sizeof secs);
	}
	if (rc == DKIM_STAT_OK && drift)
		rc = dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_CLOCKDRIFT, &drift, sizeof drift);
	if (rc == DKIM_STAT_OK)
		rc = dkim_set_prescreen(lib, prescreen);
	if (rc != DKIM_STAT_OK) {
		*err = xstrdup("cannot configure libopendkim");
		dkim_close(lib);
		return NULL;
	}
	return lib;
}

struct auth_verifier *auth_verifier_new(const struct verdict_config *cfg, const void *psl,
					char **err)
{
	struct auth_verifier *av = xcalloc(1, sizeof *av);
	char *e = NULL;
	atomic_init(&av->dns_refused, 0);
	/* idempotent; like the extractor, never shut down: GMime cannot be
	 * initialised again after g_mime_shutdown() */
	g_mime_init();
	av->psl = psl;
	const char *keys = cfg ? cfg->dkim_keys_file : NULL;
	if (keys) {
		FILE *f = fopen(keys, "r");
		if (!f) {
			size_t n = strlen(keys) + 64;
			e = xmalloc(n);
			snprintf(e, n, "cannot read DKIM key file '%s'", keys);
			goto fail;
		}
		fclose(f);
		av->have_keys = 1;
	}
	av->keys_path = xstrdup(keys ? keys : "/dev/null");
	av->timeout_ms = cfg ? cfg->dns_timeout_ms : 0;
	av->lib = dkim_lib_new(av, av->keys_path, 0, 0, &e);
	if (!av->lib)
		goto fail;
	if (cfg && cfg->dns) {
		av->lib_dns = dkim_lib_new(av, NULL, cfg->dns_timeout_ms, 0, &e);
		if (!av->lib_dns)
			goto fail;
	}
	av->store = X509_STORE_new();
	if (!av->store) {
		e = xstrdup("cannot create an X.509 store");
		goto fail;
	}
	/* a missing system store only means no chain is trusted */
	if (!X509_STORE_load_path(av->store, AUTH_SYSTEM_CA_DIR))
		ERR_clear_error();
	return av;
fail:
	if (err)
		*err = e;
	else
		free(e);
	return auth_verifier_free(av);
}

struct auth_verifier *auth_verifier_free(struct auth_verifier *av)
{
	if (!av)
		return NULL;
	if (av->lib)
		dkim_close(av->lib);
	if (av->lib_dns)
		dkim_close(av->lib_dns);
	X509_STORE_free(av->store);
	free(av->keys_path);
	free(av);
	return NULL;
}

int auth_verifier_add_ca(struct auth_verifier *av, const char *ca_file, char **err)
{
	if (X509_STORE_load_file(av->store, ca_file) == 1)
		return 0;
	ERR_clear_error();
	if (err) {
		size_t n = strlen(ca_file) + 64;
		*err = xmalloc(n);
		snprintf(*err, n, "cannot load CA certificates from '%s'", ca_file);
	}
	return -1;
}

long auth_verifier_dns_refused(const struct auth_verifier *av)
{
	return atomic_load(&((struct auth_verifier *)av)->dns_refused);
}

/* ---- helpers -------------------------------------------------------------- */

/* clean_copy - arena copy of hostile text: control bytes become '?', cut
 * at AUTH_MAX_SIGNER bytes; lower-cased when lower is set. */
static char *clean_copy(struct arena *a, const char *s, size_t n, int lower)
{
	if (n > AUTH_MAX_SIGNER)
		n = AUTH_MAX_SIGNER;
	char *o = arena_strndup(a, s, n);
	for (char *p = o; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			*p = '?';
		else if (lower && c < 0x80)
			*p = (char)tolower(c);
	}
	return o;
}

/* reg_domain - registrable domain of a lower-case host (PSL), or the host
 * itself when the PSL has no answer (no PSL, or a public suffix). */
static const char *reg_domain(const struct auth_verifier *av, const char *host)
{
	if (!host || !*host)
		return NULL;
	const char *rd = av->psl ? psl_registrable_domain(av->psl, host) : NULL;
	return rd ? rd : host;
}

/* addr_domain - lower-case domain of an address ("a@b.c", "<a@b.c>"). */
static char *addr_domain(struct arena *a, const char *addr)
{
	if (!addr)
		return NULL;
	const char *at = strrchr(addr, '@');
	if (!at || !at[1])
		return NULL;
	const char *s = at + 1;
	size_t n = strcspn(s, "> \t\r\n");
	while (n && s[n - 1] == '.')
		n--;
	return n ? clean_copy(a, s, n, 1) : NULL;
}

/* same_reg - relaxed alignment: both hosts share a registrable domain. */
static int same_reg(const struct auth_verifier *av, const char *h1, const char *h2)
{
	const char *r1 = reg_domain(av, h1), *r2 = reg_domain(av, h2);
	return r1 && r2 && strcasecmp(r1, r2) == 0;
}

/* entry_owns - whether host's registrable domain is one of e's domains
 * that proves the organisation (not REG_DOMAIN_SHARED: anyone can get an
 * address or a signature there). */
static int entry_owns(const struct auth_verifier *av, const struct registry_entry *e,
		      const char *host)
{
	const char *rd = reg_domain(av, host);
	if (!e || !rd)
		return 0;
	for (size_t i = 0; i < e->n_domains; i++)
		if (e->domains[i] && strcasecmp(e->domains[i], rd) == 0)
			return !(e->domain_flags && (e->domain_flags[i] & REG_DOMAIN_SHARED));
	return 0;
}

/* ---- DKIM ----------------------------------------------------------------- */

enum sigstate { SIG_PASS, SIG_FAIL, SIG_NOKEY, SIG_TEMP, SIG_PERM };

struct dsig {
	char *d, *s; /* lower-case d=, selector as given (cleaned) */
	enum sigstate st;
	const char *why; /* libopendkim's error text (static) */
	int aligned;
	int expired;	   /* x= passed (or t= ahead): not checked by libopendkim */
	int at_signtime;   /* checked as of its t= (an expired signature) */
	uint64_t signtime; /* t=, 0 if absent */
};

struct dkim_out {
	struct dsig sig[AUTH_MAX_DKIM_SIGS];
	int n;
	int dns_used;
};

/* has_dkim_header - whether the header block has a DKIM-Signature field. */
static int has_dkim_header(const char *raw, size_t len)
{
	static const char name[] = "dkim-signature:";
	const char *p = raw, *end = raw + len;
	while (p < end && *p != '\r' && *p != '\n') {
		if ((size_t)(end - p) >= sizeof name - 1 && !strncasecmp(p, name, sizeof name - 1))
			return 1;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* header_block_len - bytes up to and including the blank line that ends
 * the header block (LF or CRLF), or len when there is none. */
static size_t header_block_len(const char *raw, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (raw[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && raw[i + 1] == '\r' && raw[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* all_signatures_settled - after the header block, true when every
 * signature already failed for a reason the body cannot change (no key,
 * key error, malformed): hashing the body could not make one pass. */
static int all_signatures_settled(DKIM *dk)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	if (dkim_getsiglist(dk, &sigs, &nsigs) != DKIM_STAT_OK || nsigs == 0)
		return 0;
	for (int i = 0; i < nsigs; i++) {
		if (dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE)
			continue;
		int e = dkim_sig_geterror(sigs[i]);
		if (e == DKIM_SIGERROR_UNKNOWN || e == DKIM_SIGERROR_OK ||
		    e == DKIM_SIGERROR_EXPIRED || e == DKIM_SIGERROR_FUTURE)
			return 0; /* may still pass (expired ones are retried) */
	}
	return 1;
}

/* dkim_run - verify r->raw with one library handle into out. */
/* dkim_run - keyless: no key file and no DNS, so no signature can pass and
 * only their form matters; the body is not hashed and nothing is retried. */
static void dkim_run(DKIM_LIB *lib, struct result *r, struct dkim_out *out, int keyless)
{
	DKIM_STAT st;
	out->n = 0;
	/* most reported mail carries no signature at all: nothing to do */
	if (!r->dkim_sigs.n && !has_dkim_header(r->raw, r->raw_len))
		return;
	DKIM *dk = dkim_verify(lib, (const unsigned char *)"shield", NULL, &st);
	if (!dk)
		return;
	/* Headers first: keys are fetched at the end of the header block, and
	 * when no signature has a usable key (the default: no key file, no
	 * DNS) the answer is already known, so the body is not hashed. That
	 * was most of the verdict stage's cost on signed mail. */
	size_t hdr = header_block_len(r->raw, r->raw_len);
	int body_needed = 1;
	st = dkim_chunk(dk, (unsigned char *)r->raw, hdr);
	if (st == DKIM_STAT_OK && hdr < r->raw_len)
		body_needed = !keyless && !all_signatures_settled(dk);
	if (st == DKIM_STAT_OK && body_needed && hdr < r->raw_len)
		st = dkim_chunk(dk, (unsigned char *)r->raw + hdr, r->raw_len - hdr);
	if (body_needed) {
		if (st == DKIM_STAT_OK)
			st = dkim_chunk(dk, NULL, 0);
		if (st == DKIM_STAT_OK)
			st = dkim_eom(dk, NULL);
	}
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	if (dkim_getsiglist(dk, &sigs, &nsigs) != DKIM_STAT_OK)
		nsigs = 0;
	for (int i = 0; i < nsigs && out->n < AUTH_MAX_DKIM_SIGS; i++) {
		DKIM_SIGINFO *sig = sigs[i];
		unsigned int flags = dkim_sig_getflags(sig);
		if (flags & DKIM_SIGFLAG_IGNORE)
			continue;
		struct dsig *o = &out->sig[out->n++];
		const char *d = (const char *)dkim_sig_getdomain(sig);
		const char *s = (const char *)dkim_sig_getselector(sig);
		o->d = d ? clean_copy(&r->arena, d, strlen(d), 1) : NULL;
		o->s = s ? clean_copy(&r->arena, s, strlen(s), 0) : NULL;
		int e = dkim_sig_geterror(sig);
		o->expired = e == DKIM_SIGERROR_EXPIRED || e == DKIM_SIGERROR_FUTURE;
		if (dkim_sig_getsigntime(sig, &o->signtime) != DKIM_STAT_OK || !o->signtime) {
			/* libopendkim leaves it unset on expired signatures */
			const char *tv = (const char *)dkim_sig_gettagvalue(sig, 0, (u_char *)"t");
			char *endp = NULL;
			unsigned long long v = tv ? strtoull(tv, &endp, 10) : 0;
			o->signtime = endp && endp != tv ? (uint64_t)v : 0;
		}
		o->why = dkim_sig_geterrorstr(e);
		if (!o->why)
			o->why = "unknown error";
		if (keyless && (e == DKIM_SIGERROR_UNKNOWN || e == DKIM_SIGERROR_OK || o->expired ||
				e == DKIM_SIGERROR_NOKEY)) {
			o->st = SIG_NOKEY;
			o->expired = 0;
			o->why = "no key source (no key file, DNS off)";
		} else if (DKIM_SIG_CHECK(sig)) {
			o->st = SIG_PASS;
			o->why = "ok";
		} else if (e == DKIM_SIGERROR_NOKEY) {
			o->st = SIG_NOKEY;
		} else if (e == DKIM_SIGERROR_KEYFAIL || e == DKIM_SIGERROR_MULTIREPLY) {
			o->st = SIG_TEMP;
		} else if (e == DKIM_SIGERROR_BADSIG ||
			   (e == DKIM_SIGERROR_OK && dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)) {
			o->st = SIG_FAIL;
			if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
				o->why = "body hash mismatch (body changed)";
		} else {
			o->st = SIG_PERM;
		}
	}
	if (out->n == 0 && st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG &&
	    has_dkim_header(r->raw, r->raw_len)) {
		/* signatures libopendkim could not even parse */
		struct dsig *o = &out->sig[out->n++];
		const struct dkim_sig *ex = r->dkim_sigs.n ? &r->dkim_sigs.v[0] : NULL;
		o->d = ex && ex->d ? clean_copy(&r->arena, ex->d, strlen(ex->d), 1) : NULL;
		o->s = ex && ex->s ? clean_copy(&r->arena, ex->s, strlen(ex->s), 0) : NULL;
		o->st = SIG_PERM;
		o->why = dkim_getresultstr(st);
		if (!o->why)
			o->why = "malformed signature";
	}
	dkim_free(dk);
}

static int dkim_any(const struct dkim_out *o, enum sigstate st)
{
	for (int i = 0; i < o->n; i++)
		if (o->sig[i].st == st)
			return 1;
	return 0;
}

/* dkim_expired_retry - a reported message arrives after delivery, often
 * after a short x= (24 h is common): check an expired signature as of its
 * own signing time, so that it still proves (or disproves) who sent it:
 * a library handle of its own whose clock-drift allowance reaches back to
 * t= (libopendkim's DKIM_OPTS_FIXEDTIME does not apply to x=). */
static void dkim_expired_retry(const struct auth_verifier *av, DKIM_LIB *used, struct result *r,
			       struct dkim_out *out)
{
	uint64_t when = 0, now = (uint64_t)time(NULL);
	for (int i = 0; i < out->n && !when; i++)
		if (out->sig[i].expired && out->sig[i].signtime)
			when = out->sig[i].signtime;
	if (!when || when > now || dkim_any(out, SIG_PASS))
		return;
	when = now - when + 86400; /* the drift back to t=, and a day */
	char *e = NULL;
	struct auth_verifier *mav = (struct auth_verifier *)av; /* the stub's counter */
	DKIM_LIB *lib = used == av->lib_dns ? dkim_lib_new(mav, NULL, av->timeout_ms, when, &e)
					    : dkim_lib_new(mav, av->keys_path, 0, when, &e);
	free(e);
	if (!lib)
		return;
	struct dkim_out again;
	memset(&again, 0, sizeof again);
	dkim_run(lib, r, &again, 0);
	dkim_close(lib);
	if (again.n != out->n)
		return;
	for (int i = 0; i < out->n; i++)
		if (out->sig[i].expired && !again.sig[i].expired) {
			out->sig[i] = again.sig[i];
			out->sig[i].at_signtime = 1;
		}
}

/* sigs_from_raw - the DKIM-Signature headers of raw's header block,
 * unfolded and parsed like the extractor does (at most max). */
static size_t sigs_from_raw(struct arena *a, const char *raw, size_t len, struct dkim_sig *out,
			    size_t max)
{
	size_t n = 0, hdr = header_block_len(raw, len);
	static const char name[] = "DKIM-Signature:";
	const char *p = raw, *end = raw + hdr;
	while (p < end && n < max) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl + 1 : end;
		if ((size_t)(end - p) >= sizeof name - 1 &&
		    !strncasecmp(p, name, sizeof name - 1)) {
			/* the field runs on while the next line starts with WSP */
			const char *fe = le;
			while (fe < end && (*fe == ' ' || *fe == '\t')) {
				const char *n2 = memchr(fe, '\n', (size_t)(end - fe));
				fe = n2 ? n2 + 1 : end;
			}
			char *v = arena_strndup(a, p + sizeof name - 1,
						(size_t)(fe - p) - (sizeof name - 1));
			for (char *c = v; *c; c++)
				if (*c == '\r' || *c == '\n')
					*c = ' ';
			if (dkim_sig_parse(a, v, &out[n]))
				n++;
			le = fe;
		}
		p = le;
	}
	return n;
}

/* dkim_keyless - results without a key source: every signature the
 * extractor parsed is "nokey"; a DKIM-Signature header it could not parse
 * (no d=) is a permerror. */
static void dkim_keyless(struct result *r, struct dkim_out *out)
{
	out->n = 0;
	struct dkim_sig local[AUTH_MAX_DKIM_SIGS];
	const struct dkim_sig *sigs = r->dkim_sigs.v;
	size_t nsigs = r->dkim_sigs.n;
	if (!nsigs) {
		/* a caller that did not run the extractor: parse them here */
		nsigs = sigs_from_raw(&r->arena, r->raw, r->raw_len, local, AUTH_MAX_DKIM_SIGS);
		sigs = local;
	}
	for (size_t i = 0; i < nsigs && out->n < AUTH_MAX_DKIM_SIGS; i++) {
		const struct dkim_sig *ex = &sigs[i];
		struct dsig *o = &out->sig[out->n++];
		memset(o, 0, sizeof *o);
		o->d = ex->d ? clean_copy(&r->arena, ex->d, strlen(ex->d), 1) : NULL;
		o->s = ex->s ? clean_copy(&r->arena, ex->s, strlen(ex->s), 0) : NULL;
		o->st = o->s ? SIG_NOKEY : SIG_PERM;
		o->why = o->s ? "no key source (no key file, DNS off)" : "signature without s=";
	}
	if (out->n == 0 && has_dkim_header(r->raw, r->raw_len)) {
		struct dsig *o = &out->sig[out->n++];
		memset(o, 0, sizeof *o);
		o->st = SIG_PERM;
		o->why = "malformed signature (no d=)";
	}
}

/* dkim_check - verify with the key file, then DNS for what it lacked. */
static void dkim_check(const struct auth_verifier *av, struct result *r, struct dkim_out *out)
{
	DKIM_LIB *used = av->lib;
	if (!av->have_keys && !av->lib_dns) {
		/* Keyless (the default): no signature can be verified, so only
		 * their presence and form matter; the extractor's own parse of
		 * the DKIM-Signature headers says that without libopendkim
		 * canonicalising every header (a tenth of the pipeline's time). */
		dkim_keyless(r, out);
		return;
	}
	dkim_run(av->lib, r, out, 0);
	if (av->lib_dns && out->n && !dkim_any(out, SIG_PASS) &&
	    (dkim_any(out, SIG_NOKEY) || !av->have_keys)) {
		struct dkim_out dns;
		memset(&dns, 0, sizeof dns);
		dkim_run(av->lib_dns, r, &dns, 0);
		if (dns.n) {
			*out = dns;
			out->dns_used = 1;
			used = av->lib_dns;
		}
	}
	dkim_expired_retry(av, used, r, out);
}

/* state_name - the per-message dkim_verified word for a deciding state. */
static const char *state_name(enum sigstate st, int have_key_source)
{
	switch (st) {
	case SIG_PASS:
		return "pass";
	case SIG_FAIL:
		return "fail";
	case SIG_NOKEY:
		return "nokey";
	case SIG_TEMP:
		return have_key_source ? "temperror" : "nokey";
	case SIG_PERM:
		break;
	}
	return "permerror";
}

/* dkim_decide - the deciding signature: an aligned pass, any pass, then a
 * failure, a missing key, a DNS failure, a malformed signature. */
static const struct dsig *dkim_decide(const struct dkim_out *o)
{
	static const enum sigstate order[] = {SIG_FAIL, SIG_NOKEY, SIG_TEMP, SIG_PERM};
	for (int i = 0; i < o->n; i++)
		if (o->sig[i].st == SIG_PASS && o->sig[i].aligned)
			return &o->sig[i];
	for (int i = 0; i < o->n; i++)
		if (o->sig[i].st == SIG_PASS)
			return &o->sig[i];
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
		for (int i = 0; i < o->n; i++)
			if (o->sig[i].st == order[k])
				return &o->sig[i];
	return NULL;
}

/* ---- S/MIME --------------------------------------------------------------- */

struct smime_out {
	const char *verdict; /* NULL (none), "pass", "pass-untrusted", "fail" */
	char *signer;	     /* e-mail address or CN (arena) */
	char *signer_domain; /* lower-case domain of the e-mail address */
	char why[160];
};

struct find_ctx {
	GMimeObject *found;
	int opaque;
};

static int is_pkcs7(GMimeContentType *ct, const char *sub)
{
	const char *t = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *s = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	if (!t || !s || g_ascii_strcasecmp(t, "application"))
		return 0;
	return !g_ascii_strcasecmp(s, sub) ||
	       (!g_ascii_strncasecmp(s, "x-", 2) && !g_ascii_strcasecmp(s + 2, sub));
}

/* find_signed - foreach callback: the first S/MIME signed entity. */
static void find_signed(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct find_ctx *fc = data;
	if (fc->found)
		return;
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	if (GMIME_IS_MULTIPART_SIGNED(part)) {
		const char *proto = g_mime_content_type_get_parameter(ct, "protocol");
		GMimeContentType *pt = proto ? g_mime_content_type_parse(NULL, proto) : NULL;
		if (pt && is_pkcs7(pt, "pkcs7-signature"))
			fc->found = part;
		if (pt)
			g_object_unref(pt);
	} else if (GMIME_IS_PART(part) && is_pkcs7(ct, "pkcs7-mime")) {
		const char *st = g_mime_content_type_get_parameter(ct, "smime-type");
		if (!st || !g_ascii_strcasecmp(st, "signed-data")) {
			fc->found = part;
			fc->opaque = 1;
		}
	}
}

/* part_bytes - a leaf part's content, transfer-decoded, into a byte array. */
static GByteArray *part_bytes(GMimeObject *part)
{
	if (!GMIME_IS_PART(part))
		return NULL;
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
	if (!w)
		return NULL;
	GMimeStream *ms = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, ms);
	GByteArray *src = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	GByteArray *ba = g_byte_array_sized_new(src->len);
	g_byte_array_append(ba, src->data, src->len);
	g_object_unref(ms);
	return ba;
}

/* line_at_boundary - whether p (at a line start) is "--b" then optional
 * blanks and a line end; *next is set past that line. */
static int line_at_boundary(const char *p, const char *end, const char *b, size_t bl,
			    const char **next)
{
	if ((size_t)(end - p) < bl + 2 || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, bl))
		return 0;
	const char *q = p + 2 + bl;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q < end && *q == '\r')
		q++;
	if (q < end && *q != '\n')
		return 0;
	*next = q < end ? q + 1 : q;
	return 1;
}

/* signed_content - the exact bytes of the first body part of the
 * multipart/signed whose boundary is b, with bare LFs made CRLF when crlf
 * is set (the canonical form that was signed). NULL when the boundary
 * lines are not found. */
static GByteArray *signed_content(const char *raw, size_t len, const char *b, int crlf)
{
	const char *end = raw + len, *p = raw, *start = NULL, *stop = NULL, *next;
	size_t bl = strlen(b);
	while (p < end) {
		if (line_at_boundary(p, end, b, bl, &next)) {
			if (!start) {
				start = next;
			} else {
				stop = p;
				break;
			}
		}
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	if (!start || !stop || stop < start)
		return NULL;
	/* the line end before the next boundary belongs to the boundary */
	if (stop > start && stop[-1] == '\n')
		stop--;
	if (stop > start && stop[-1] == '\r')
		stop--;
	GByteArray *ba = g_byte_array_sized_new((guint)(stop - start) + 64);
	for (const char *q = start; q < stop; q++) {
		if (crlf && *q == '\n' && (q == start || q[-1] != '\r'))
			g_byte_array_append(ba, (const guint8 *)"\r", 1);
		g_byte_array_append(ba, (const guint8 *)q, 1);
	}
	return ba;
}

/* signer_name - SAN rfc822Name, else subject CN, of the first signer. */
static void signer_name(CMS_ContentInfo *cms, struct result *r, struct smime_out *o)
{
	STACK_OF(X509) *signers = CMS_get0_signers(cms);
	X509 *x = signers && sk_X509_num(signers) > 0 ? sk_X509_value(signers, 0) : NULL;
	if (!x) {
		sk_X509_free(signers);
		return;
	}
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !o->signer; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_EMAIL)
			continue;
		const unsigned char *s = ASN1_STRING_get0_data(g->d.rfc822Name);
		int n = ASN1_STRING_length(g->d.rfc822Name);
		if (s && n > 0) {
			o->signer = clean_copy(&r->arena, (const char *)s, (size_t)n, 1);
			o->signer_domain = addr_domain(&r->arena, o->signer);
		}
	}
	GENERAL_NAMES_free(gens);
	if (!o->signer) {
		X509_NAME *nm = X509_get_subject_name(x);
		int idx = nm ? X509_NAME_get_index_by_NID(nm, NID_commonName, -1) : -1;
		unsigned char *u = NULL;
		int n = idx >= 0 ? ASN1_STRING_to_UTF8(
				       &u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, idx)))
				 : -1;
		if (n > 0)
			o->signer = clean_copy(&r->arena, (const char *)u, (size_t)n, 0);
		OPENSSL_free(u);
	}
	sk_X509_free(signers);
}

/* cms_verify - one CMS_verify; content NULL for opaque signed-data. */
static int cms_verify(CMS_ContentInfo *cms, X509_STORE *store, const GByteArray *content,
		      unsigned int flags)
{
	BIO *in = content ? BIO_new_mem_buf(content->data, (int)content->len) : NULL;
	BIO *out = BIO_new(BIO_s_null());
	int ok = CMS_verify(cms, NULL, store, in, out, flags | CMS_BINARY) == 1;
	BIO_free(in);
	BIO_free(out);
	return ok;
}

/* openssl_why - the first queued OpenSSL error as text, queue cleared. */
static void openssl_why(char *buf, size_t n)
{
	unsigned long e = ERR_peek_error();
	const char *rs = e ? ERR_reason_error_string(e) : NULL;
	snprintf(buf, n, "%s", rs ? rs : "signature does not verify");
	ERR_clear_error();
}

/* smime_cms - verify one CMS signed-data against content (NULL: opaque). */
static void smime_cms(const struct auth_verifier *av, struct result *r, const GByteArray *der,
		      const GByteArray *content, const GByteArray *alt, struct smime_out *o)
{
	const unsigned char *p = der->data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der->len);
	if (!cms || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		o->verdict = "fail";
		snprintf(o->why, sizeof o->why, "not a CMS signed-data structure");
		CMS_ContentInfo_free(cms);
		ERR_clear_error();
		return;
	}
	unsigned int det = content ? CMS_DETACHED : 0;
	int sig_ok = cms_verify(cms, NULL, content, det | CMS_NO_SIGNER_CERT_VERIFY);
	if (!sig_ok && alt) {
		ERR_clear_error();
		content = alt;
		sig_ok = cms_verify(cms, NULL, content, det | CMS_NO_SIGNER_CERT_VERIFY);
	}
	if (!sig_ok) {
		openssl_why(o->why, sizeof o->why);
		o->verdict = "fail";
	} else {
		int chain_ok = cms_verify(cms, av->store, content, det);
		if (chain_ok) {
			o->verdict = "pass";
			snprintf(o->why, sizeof o->why, "certificate chain trusted");
		} else {
			o->verdict = "pass-untrusted";
			openssl_why(o->why, sizeof o->why);
		}
	}
	signer_name(cms, r, o);
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
}

/* has_bare_lf - whether the bytes hold a LF not preceded by CR. */
static int has_bare_lf(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return 1;
	return 0;
}

/* smime_check - find and verify the first S/MIME signature of r->raw. */
static void smime_check(const struct auth_verifier *av, struct result *r, struct smime_out *o)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(r->raw, r->raw_len);
	GMimeParser *ps = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(ps, NULL);
	g_object_unref(ps);
	g_object_unref(st);
	if (!m)
		return;
	struct find_ctx fc = {NULL, 0};
	GMimeObject *top = g_mime_message_get_mime_part(m);
	if (top)
		find_signed(NULL, top, &fc);
	if (!fc.found)
		g_mime_message_foreach(m, find_signed, &fc);
	if (!fc.found) {
		g_object_unref(m);
		return;
	}
	GByteArray *der = NULL, *content = NULL, *alt = NULL;
	if (fc.opaque) {
		der = part_bytes(fc.found);
	} else {
		GMimeMultipart *mp = GMIME_MULTIPART(fc.found);
		const char *b = g_mime_multipart_get_boundary(mp);
		if (g_mime_multipart_get_count(mp) >= 2)
			der = part_bytes(
			    g_mime_multipart_get_part(mp, GMIME_MULTIPART_SIGNED_SIGNATURE));
		content = b ? signed_content(r->raw, r->raw_len, b, 1) : NULL;
		/* some signers sign bare-LF text: try the bytes as they are too */
		if (content && has_bare_lf(r->raw, r->raw_len))
			alt = signed_content(r->raw, r->raw_len, b, 0);
	}
	if (!der || !der->len || (!fc.opaque && !content)) {
		o->verdict = "fail";
		snprintf(o->why, sizeof o->why, "signed part or signature not found");
	} else {
		smime_cms(av, r, der, content, alt, o);
	}
	if (der)
		g_byte_array_unref(der);
	if (content)
		g_byte_array_unref(content);
	if (alt)
		g_byte_array_unref(alt);
	g_object_unref(m);
}

/* mentions_pkcs7 - cheap pre-check before parsing: "pkcs7" in any case,
 * found by jumping between '7's with memchr (vectorised) and looking back;
 * glibc's memmem is not vectorised and a byte loop cost more than the rest
 * of the verdict stage. */
static int mentions_pkcs7(const char *s, size_t n)
{
	const char *p = s + 4, *end = s + n;
	while (p < end && (p = memchr(p, '7', (size_t)(end - p))) != NULL) {
		if (!strncasecmp(p - 4, "pkcs", 4))
			return 1;
		p++;
	}
	return 0;
}

/* ---- the judgement -------------------------------------------------------- */

void auth_judge(const struct auth_verifier *av, const struct registry *reg, struct result *r)
{
	if (!av || !r || !r->raw || !r->raw_len)
		return;
	struct arena *a = &r->arena;
	char *from_dom = addr_domain(a, r->from);
	const char *from_reg = from_dom ? reg_domain(av, from_dom) : NULL;
	const struct registry_entry *brand = reg && r->brand ? registry_by_id(reg, r->brand) : NULL;
	const struct registry_entry *owner =
	    reg && from_reg ? registry_by_domain(reg, from_reg) : NULL;
	if (owner && !entry_owns(av, owner, from_dom))
		owner = NULL; /* a shared domain (webmail, hosting) proves nobody */
	int other_said = 0, verified = 0;

	/* DKIM */
	struct dkim_out dk;
	memset(&dk, 0, sizeof dk);
	dkim_check(av, r, &dk);
	for (int i = 0; i < dk.n; i++)
		dk.sig[i].aligned = from_dom && dk.sig[i].d && same_reg(av, dk.sig[i].d, from_dom);
	const struct dsig *ds = dkim_decide(&dk);
	const char *fd = from_dom ? from_dom : "(no From address)";
	if (!ds) {
		r->dkim_verified = arena_strdup(a, "none");
	} else {
		int key_source = av->have_keys || av->lib_dns;
		r->dkim_verified = arena_strdup(a, state_name(ds->st, key_source));
		r->dkim_domain = ds->d;
		r->dkim_aligned = ds->aligned;
		const char *d = ds->d ? ds->d : "?", *s = ds->s ? ds->s : "?";
		const char *late =
		    ds->at_signtime ? " (checked as of its signing time: expired since)" : "";
		if (ds->st == SIG_PASS && ds->aligned) {
			result_reason(
			    r, "auth.dkim_pass_aligned", W_DKIM_PASS_ALIGNED,
			    "valid DKIM signature d=%s s=%s aligned with the From domain %s%s", d,
			    s, fd, late);
		} else if (ds->st == SIG_PASS) {
			result_reason(r, "auth.signed_by_other", W_SIGNED_BY_OTHER,
				      "valid DKIM signature d=%s s=%s, but the From domain is %s%s",
				      d, s, fd, late);
			other_said = 1;
		} else if (ds->st == SIG_FAIL) {
			result_reason(r, "auth.dkim_fail", W_DKIM_FAIL,
				      "DKIM signature d=%s s=%s does not verify: %s%s", d, s,
				      ds->why, late);
		} else if (ds->st == SIG_PERM) {
			result_reason(r, "auth.dkim_permerror", W_DKIM_PERMERROR,
				      "DKIM signature d=%s s=%s is unusable: %s", d, s, ds->why);
		} else {
			result_reason(r, "auth.dkim_unverified", W_DKIM_UNVERIFIED,
				      "DKIM signature d=%s s=%s not checked: %s", d, s,
				      !key_source	    ? "no key file and DNS lookups are off"
				      : ds->st == SIG_NOKEY ? "no key for this selector"
							    : "key lookup failed");
		}
		if (ds->st == SIG_PASS && ds->aligned && owner) {
			r->verified_sender = 1;
			verified = 1;
			result_reason(r, "auth.verified_sender", W_VERIFIED_SENDER,
				      "verified sender: %s (%s), DKIM d=%s s=%s", owner->name,
				      owner->id, d, s);
		}
	}

	/* S/MIME */
	struct smime_out sm;
	memset(&sm, 0, sizeof sm);
	if (r->smime_signed || mentions_pkcs7(r->raw, r->raw_len))
		smime_check(av, r, &sm);
	r->smime_verified = arena_strdup(a, sm.verdict ? sm.verdict : "none");
	r->smime_signer = sm.signer;
	const char *who = sm.signer ? sm.signer : "(unnamed signer)";
	int smime_aligned =
	    sm.signer_domain && from_dom && same_reg(av, sm.signer_domain, from_dom);
	if (sm.verdict && !strcmp(sm.verdict, "pass")) {
		if (smime_aligned) {
			result_reason(r, "auth.smime_pass", W_SMIME_PASS,
				      "valid S/MIME signature by %s, %s", who, sm.why);
			if (owner && !verified) {
				r->verified_sender = 1;
				verified = 1;
				result_reason(r, "auth.verified_sender", W_VERIFIED_SENDER,
					      "verified sender: %s (%s), S/MIME signer %s",
					      owner->name, owner->id, who);
			}
		} else if (!other_said) {
			result_reason(r, "auth.signed_by_other", W_SIGNED_BY_OTHER,
				      "valid S/MIME signature by %s, but the From domain is %s",
				      who, fd);
		}
	} else if (sm.verdict && !strcmp(sm.verdict, "pass-untrusted")) {
		result_reason(
		    r, "auth.smime_untrusted", W_SMIME_UNTRUSTED,
		    "S/MIME signature by %s verifies, but its certificate is not trusted: %s", who,
		    sm.why);
	} else if (sm.verdict) {
		result_reason(r, "auth.smime_fail", W_SMIME_FAIL,
			      "S/MIME signature (signer %s) does not verify: %s", who, sm.why);
	}

	/* a registered organisation that signs its mail, claimed by a message
	 * that is not signed by it */
	if (brand && brand->signs_mail) {
		int by_brand = 0, unknown = 0;
		const struct dsig *other = NULL, *broken = NULL;
		for (int i = 0; i < dk.n; i++) {
			const struct dsig *g = &dk.sig[i];
			int own = g->d && entry_owns(av, brand, g->d);
			if (own && g->st == SIG_PASS)
				by_brand = 1;
			else if (own && (g->st == SIG_NOKEY || g->st == SIG_TEMP))
				unknown = 1;
			else if (own && !broken)
				broken = g;
			else if (!own && g->st == SIG_PASS && !other)
				other = g;
		}
		if (sm.verdict && !strcmp(sm.verdict, "pass") && sm.signer_domain &&
		    entry_owns(av, brand, sm.signer_domain))
			by_brand = 1;
		if (!by_brand && !unknown) {
			const char *dom = brand->n_domains ? brand->domains[0] : "?";
			if (broken)
				result_reason(
				    r, "auth.unsigned_brand", W_UNSIGNED_BRAND,
				    "claims %s (%s), whose mail is DKIM-signed by %s, but "
				    "its signature d=%s s=%s does not verify",
				    brand->name, brand->id, dom, broken->d,
				    broken->s ? broken->s : "?");
			else if (other)
				result_reason(
				    r, "auth.unsigned_brand", W_UNSIGNED_BRAND,
				    "claims %s (%s), whose mail is DKIM-signed by %s, but "
				    "is signed by d=%s s=%s instead",
				    brand->name, brand->id, dom, other->d,
				    other->s ? other->s : "?");
			else
				result_reason(
				    r, "auth.unsigned_brand", W_UNSIGNED_BRAND,
				    "claims %s (%s), whose mail is DKIM-signed by %s, but "
				    "arrives without a valid signature from it",
				    brand->name, brand->id, dom);
		}
	}
}
