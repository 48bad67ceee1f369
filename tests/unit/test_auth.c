/* test_auth.c - Shield's own DKIM and S/MIME verification (verdict/auth.c)
 * on fixtures made with dkimpy and openssl cms (tests/data/auth/README):
 * DKIM pass aligned, pass from a subdomain, fail, absent, misaligned, no
 * key (and no DNS), malformed; S/MIME pass, pass-untrusted, tampered,
 * opaque; the unsigned-brand signal; receiver-added headers ignored.
 *
 * The registry is a test double defined here (auth.c only calls
 * registry_by_id and registry_by_domain), so these tests do not depend on
 * the bundled registry's contents.
 *
 * "test_auth --verify KEYS FILE..." prints "FILE dkim=... d=..." per file:
 * used by tests/corpus/auth_vectors.sh on the shared DKIM test suites. */
#include <libpsl.h>
#include <stdlib.h>

#include "common/arena.h"
#include "verdict/auth.h"
#include "test.h"

#define AUTH_DIR "tests/data/auth/"

/* ---- registry test double ------------------------------------------------ */

static const char *const bank_names[] = {"Bank"};
static const char *const bank_domains[] = {"bank.example"};
static const struct registry_entry entries[] = {
    {.id = "BE0000.000.001",
     .name = "Example Bank",
     .sector = "bank",
     .country = "BE",
     .names = bank_names,
     .n_names = 1,
     .domains = bank_domains,
     .n_domains = 1,
     .signs_mail = 1},
};

struct registry {
	int unused;
};

const struct registry_entry *registry_by_id(const struct registry *reg, const char *id)
{
	for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
		if (!strcmp(entries[i].id, id))
			return &entries[i];
	return NULL;
}

const struct registry_entry *registry_by_domain(const struct registry *reg, const char *d)
{
	for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
		for (size_t k = 0; k < entries[i].n_domains; k++)
			if (!strcmp(entries[i].domains[k], d))
				return &entries[i];
	return NULL;
}

static struct registry the_registry;

/* ---- helpers ------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	size_t got;
	while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			b = realloc(b, cap);
		}
	}
	fclose(f);
	*len = n;
	return b;
}

struct fixture {
	struct auth_verifier *av;
	struct result *r;
	char *buf;
};

static struct auth_verifier *verifier(const char *keys, const char *ca)
{
	struct verdict_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.dkim_keys_file = keys;
	char *err = NULL;
	struct auth_verifier *av = auth_verifier_new(&cfg, psl_builtin(), &err);
	if (!av) {
		fprintf(stderr, "  auth_verifier_new: %s\n", err ? err : "?");
		free(err);
		return NULL;
	}
	if (ca && auth_verifier_add_ca(av, ca, &err)) {
		fprintf(stderr, "  auth_verifier_add_ca: %s\n", err ? err : "?");
		free(err);
	}
	return av;
}

/* judge - run auth_judge on a fixture (prefix prepended when set). */
static int judge(struct fixture *fx, const char *file, const char *from, const char *brand,
		 const char *keys, const char *ca, const char *prefix)
{
	memset(fx, 0, sizeof *fx);
	size_t n = 0;
	char path[256];
	snprintf(path, sizeof path, AUTH_DIR "%s", file);
	char *body = slurp(path, &n);
	if (!body) {
		fprintf(stderr, "  cannot read %s\n", path);
		return -1;
	}
	size_t pl = prefix ? strlen(prefix) : 0;
	fx->buf = malloc(pl + n + 1);
	if (pl)
		memcpy(fx->buf, prefix, pl);
	memcpy(fx->buf + pl, body, n);
	free(body);
	fx->av = verifier(keys, ca);
	if (!fx->av)
		return -1;
	fx->r = result_new(path, -1);
	fx->r->raw = fx->buf;
	fx->r->raw_len = pl + n;
	fx->r->from = from ? arena_strdup(&fx->r->arena, from) : NULL;
	fx->r->brand = brand ? arena_strdup(&fx->r->arena, brand) : NULL;
	auth_judge(fx->av, &the_registry, fx->r);
	return 0;
}

static void done(struct fixture *fx)
{
	result_free(fx->r);
	auth_verifier_free(fx->av);
	free(fx->buf);
}

static const struct reason *reason(const struct result *r, const char *code)
{
	for (size_t i = 0; i < r->reasons.n; i++)
		if (!strcmp(r->reasons.v[i].code, code))
			return &r->reasons.v[i];
	return NULL;
}

static int has_auth_reason(const struct result *r)
{
	for (size_t i = 0; i < r->reasons.n; i++)
		if (!strncmp(r->reasons.v[i].code, "auth.", 5))
			return 1;
	return 0;
}

#define KEYS AUTH_DIR "keys.txt"
#define BANK "BE0000.000.001"

/* ---- DKIM ---------------------------------------------------------------- */

static void test_dkim_pass_aligned(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "pass-aligned.eml", "info@bank.example", BANK, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->dkim_verified, "pass");
	CHECK_STR(t, fx.r->dkim_domain, "bank.example");
	CHECK(t, fx.r->dkim_aligned == 1);
	CHECK(t, fx.r->verified_sender == 1);
	const struct reason *rs = reason(fx.r, "auth.dkim_pass_aligned");
	CHECK(t, rs && rs->weight < 0 && strstr(rs->detail, "d=bank.example") &&
		     strstr(rs->detail, "s=sel1"));
	rs = reason(fx.r, "auth.verified_sender");
	CHECK(t, rs && rs->weight == -40 && strstr(rs->detail, "Example Bank"));
	CHECK(t, reason(fx.r, "auth.unsigned_brand") == NULL);
	CHECK_STR(t, fx.r->smime_verified, "none");
	CHECK(t, auth_verifier_dns_refused(fx.av) == 0);
	done(&fx);
}

static void test_dkim_pass_crlf(struct test_state *t)
{
	/* the same message with CRLF line ends, as it travels */
	size_t n = 0;
	char *lf = slurp(AUTH_DIR "pass-aligned.eml", &n);
	CHECK(t, lf != NULL);
	if (!lf)
		return;
	char *crlf = malloc(2 * n + 1);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (lf[i] == '\n')
			crlf[m++] = '\r';
		crlf[m++] = lf[i];
	}
	struct auth_verifier *av = verifier(KEYS, NULL);
	struct result *r = result_new("crlf", -1);
	r->raw = crlf;
	r->raw_len = m;
	r->from = arena_strdup(&r->arena, "info@bank.example");
	auth_judge(av, &the_registry, r);
	CHECK_STR(t, r->dkim_verified, "pass");
	CHECK(t, r->dkim_aligned == 1);
	result_free(r);
	auth_verifier_free(av);
	free(crlf);
	free(lf);
}

static void test_dkim_pass_subdomain(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "pass-subdomain.eml", "news@mail.bank.example", NULL, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->dkim_verified, "pass");
	CHECK_STR(t, fx.r->dkim_domain, "bank.example");
	CHECK(t, fx.r->dkim_aligned == 1); /* relaxed: same registrable domain */
	CHECK(t, reason(fx.r, "auth.dkim_pass_aligned") != NULL);
	CHECK(t, fx.r->verified_sender == 1);
	done(&fx);
}

static void test_dkim_fail_body_changed(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "fail-body.eml", "info@bank.example", BANK, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->dkim_verified, "fail");
	CHECK_STR(t, fx.r->dkim_domain, "bank.example");
	CHECK(t, fx.r->verified_sender == 0);
	const struct reason *rs = reason(fx.r, "auth.dkim_fail");
	CHECK(t, rs && rs->weight == 10 && strstr(rs->detail, "d=bank.example"));
	CHECK(t, reason(fx.r, "auth.dkim_pass_aligned") == NULL);
	rs = reason(fx.r, "auth.unsigned_brand");
	CHECK(t, rs && rs->weight == 30 && strstr(rs->detail, "does not verify"));
	done(&fx);
}

static void test_dkim_absent(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "unsigned.eml", "info@bank.example", NULL, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->dkim_verified, "none");
	CHECK(t, fx.r->dkim_domain == NULL);
	CHECK(t, fx.r->verified_sender == 0);
	CHECK(t, !has_auth_reason(fx.r)); /* no brand claimed: unsigned is neutral */
	done(&fx);
}

static void test_dkim_misaligned(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "misaligned.eml", "info@bank.example", NULL, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->dkim_verified, "pass");
	CHECK_STR(t, fx.r->dkim_domain, "mailer.example");
	CHECK(t, fx.r->dkim_aligned == 0);
	CHECK(t, fx.r->verified_sender == 0);
	const struct reason *rs = reason(fx.r, "auth.signed_by_other");
	CHECK(t, rs && rs->weight == 15 && strstr(rs->detail, "d=mailer.example") &&
		     strstr(rs->detail, "bank.example"));
	CHECK(t, reason(fx.r, "auth.dkim_pass_aligned") == NULL);
	done(&fx);
}

static void test_dkim_nokey_no_dns(struct test_state *t)
{
	/* no key file, DNS off: "nokey", and libopendkim never asked DNS */
	struct fixture fx;
	if (judge(&fx, "pass-aligned.eml", "info@bank.example", BANK, NULL, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->dkim_verified, "nokey");
	CHECK_STR(t, fx.r->dkim_domain, "bank.example");
	CHECK(t, fx.r->verified_sender == 0);
	CHECK(t, auth_verifier_dns_refused(fx.av) == 0);
	const struct reason *rs = reason(fx.r, "auth.dkim_unverified");
	CHECK(t, rs && rs->weight == 0 && strstr(rs->detail, "DNS lookups are off"));
	/* a signature from the brand that cannot be checked is not "unsigned" */
	CHECK(t, reason(fx.r, "auth.unsigned_brand") == NULL);
	done(&fx);
}

static void test_dkim_nokey_selector_missing(struct test_state *t)
{
	/* a key file without this selector */
	const char *tmp = "build/tests/auth-keys-partial.txt";
	FILE *f = fopen(tmp, "w");
	CHECK(t, f != NULL);
	if (!f)
		return;
	fputs("other._domainkey.bank.example v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADC"
	      "BiQKBgQDV58kqlYDtZWSPMXXXEpQ+jiiHHq4TsVIGhrWEWLnDTuQ4hc2gil6CCmV34d+ELrQTFinf"
	      "hAmAicTk1bHKjdCbaCy06KTwoQvlBE+2V6JonAB/+zjC8biCfeQR9rL11qzafkLMHbF8HfctTfzDB"
	      "dLO1Ss4yIHc+EfNRV7q/FXqcQIDAQAB\n",
	      f);
	fclose(f);
	struct fixture fx;
	if (judge(&fx, "misaligned.eml", "info@bank.example", NULL, tmp, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->dkim_verified, "nokey");
	CHECK_STR(t, fx.r->dkim_domain, "mailer.example");
	const struct reason *rs = reason(fx.r, "auth.dkim_unverified");
	CHECK(t, rs && strstr(rs->detail, "s=m1"));
	done(&fx);
	remove(tmp);
}

static void test_dkim_permerror(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "permerror.eml", "info@bank.example", NULL, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->dkim_verified, "permerror");
	const struct reason *rs = reason(fx.r, "auth.dkim_permerror");
	CHECK(t, rs && rs->weight == 5);
	done(&fx);
}

static void test_dkim_missing_key_file(struct test_state *t)
{
	struct verdict_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.dkim_keys_file = AUTH_DIR "no-such-keys.txt";
	char *err = NULL;
	struct auth_verifier *av = auth_verifier_new(&cfg, NULL, &err);
	CHECK(t, av == NULL);
	CHECK(t, err && strstr(err, "no-such-keys.txt"));
	free(err);
	auth_verifier_free(av);
}

static void test_dkim_many_signatures(struct test_state *t)
{
	/* 200 copies of a bad signature before the good one: bounded work,
	 * no crash; beyond the cap signatures are ignored */
	size_t n = 0;
	char *msg = slurp(AUTH_DIR "pass-aligned.eml", &n);
	CHECK(t, msg != NULL);
	if (!msg)
		return;
	const char *bad = "DKIM-Signature: v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AA==; "
			  "b=AA==\n";
	size_t bl = strlen(bad), total = 200 * bl + n;
	char *buf = malloc(total);
	for (int i = 0; i < 200; i++)
		memcpy(buf + (size_t)i * bl, bad, bl);
	memcpy(buf + 200 * bl, msg, n);
	struct auth_verifier *av = verifier(KEYS, NULL);
	struct result *r = result_new("many", -1);
	r->raw = buf;
	r->raw_len = total;
	r->from = arena_strdup(&r->arena, "info@bank.example");
	auth_judge(av, &the_registry, r);
	CHECK(t, r->dkim_verified != NULL);
	CHECK(t, r->verified_sender == 0); /* the good one is past the cap */
	result_free(r);
	auth_verifier_free(av);
	free(buf);
	free(msg);
}

/* ---- S/MIME -------------------------------------------------------------- */

static void test_smime_pass_untrusted(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "smime-signed.eml", "info@bank.example", NULL, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->smime_verified, "pass-untrusted");
	CHECK_STR(t, fx.r->smime_signer, "info@bank.example");
	CHECK(t, fx.r->verified_sender == 0);
	const struct reason *rs = reason(fx.r, "auth.smime_untrusted");
	CHECK(t, rs && rs->weight == 0 && strstr(rs->detail, "info@bank.example"));
	CHECK(t, reason(fx.r, "auth.smime_pass") == NULL);
	CHECK_STR(t, fx.r->dkim_verified, "none");
	done(&fx);
}

static void test_smime_pass_trusted(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "smime-signed.eml", "info@bank.example", BANK, KEYS, AUTH_DIR "ca.pem",
		  NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->smime_verified, "pass");
	CHECK_STR(t, fx.r->smime_signer, "info@bank.example");
	const struct reason *rs = reason(fx.r, "auth.smime_pass");
	CHECK(t, rs && rs->weight == -20 && strstr(rs->detail, "info@bank.example"));
	CHECK(t, fx.r->verified_sender == 1);
	CHECK(t, reason(fx.r, "auth.verified_sender") != NULL);
	CHECK(t, reason(fx.r, "auth.unsigned_brand") == NULL);
	done(&fx);
}

static void test_smime_tampered(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "smime-tampered.eml", "info@bank.example", NULL, KEYS, AUTH_DIR "ca.pem",
		  NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->smime_verified, "fail");
	CHECK(t, fx.r->verified_sender == 0);
	const struct reason *rs = reason(fx.r, "auth.smime_fail");
	CHECK(t, rs && rs->weight == 10);
	CHECK(t, reason(fx.r, "auth.smime_pass") == NULL);
	done(&fx);
}

static void test_smime_opaque(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "smime-opaque.eml", "info@bank.example", NULL, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->smime_verified, "pass-untrusted");
	CHECK_STR(t, fx.r->smime_signer, "info@bank.example");
	done(&fx);
}

static void test_smime_other_signer(struct test_state *t)
{
	/* a trusted signature whose signer is not the From domain */
	struct fixture fx;
	if (judge(&fx, "smime-signed.eml", "ceo@other.example", NULL, KEYS, AUTH_DIR "ca.pem",
		  NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK_STR(t, fx.r->smime_verified, "pass");
	CHECK(t, reason(fx.r, "auth.smime_pass") == NULL);
	CHECK(t, reason(fx.r, "auth.signed_by_other") != NULL);
	CHECK(t, fx.r->verified_sender == 0);
	done(&fx);
}

/* ---- brand --------------------------------------------------------------- */

static void test_unsigned_brand(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "unsigned.eml", "info@bank.example", BANK, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	const struct reason *rs = reason(fx.r, "auth.unsigned_brand");
	CHECK(t, rs && rs->weight == 30 && strstr(rs->detail, "Example Bank") &&
		     strstr(rs->detail, "bank.example"));
	CHECK(t, fx.r->verified_sender == 0);
	done(&fx);
	/* even with no key source at all: unsigned is unsigned */
	if (judge(&fx, "unsigned.eml", "info@bank.example", BANK, NULL, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK(t, reason(fx.r, "auth.unsigned_brand") != NULL);
	done(&fx);
}

static void test_brand_signed_by_other(struct test_state *t)
{
	struct fixture fx;
	if (judge(&fx, "misaligned.eml", "info@bank.example", BANK, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	const struct reason *rs = reason(fx.r, "auth.unsigned_brand");
	CHECK(t, rs && strstr(rs->detail, "d=mailer.example"));
	CHECK(t, reason(fx.r, "auth.signed_by_other") != NULL);
	done(&fx);
}

static void test_brand_lookalike_signed(struct test_state *t)
{
	/* a look-alike domain with its own valid aligned signature still
	 * claims the brand without the brand's signature */
	struct fixture fx;
	if (judge(&fx, "misaligned.eml", "info@mailer.example", BANK, KEYS, NULL, NULL)) {
		t->failed_checks++;
		return;
	}
	CHECK(t, reason(fx.r, "auth.dkim_pass_aligned") != NULL);
	CHECK(t, fx.r->verified_sender == 0); /* mailer.example is not registered */
	CHECK(t, reason(fx.r, "auth.unsigned_brand") != NULL);
	done(&fx);
}

/* ---- independence from receivers ---------------------------------------- */

#define RECEIVER_HEADERS                                                                           \
	"Authentication-Results: mx.pot; dkim=pass header.d=bank.example; spf=pass; "              \
	"dmarc=pass\n"                                                                             \
	"ARC-Authentication-Results: i=1; mx.pot; dkim=pass header.d=bank.example\n"               \
	"Received-SPF: pass (mx.pot: domain of bank.example designates 192.0.2.1)\n"

static int same_reasons(const struct result *a, const struct result *b)
{
	if (a->reasons.n != b->reasons.n)
		return 0;
	for (size_t i = 0; i < a->reasons.n; i++)
		if (strcmp(a->reasons.v[i].code, b->reasons.v[i].code) ||
		    a->reasons.v[i].weight != b->reasons.v[i].weight)
			return 0;
	return 1;
}

static void test_receiver_headers_ignored(struct test_state *t)
{
	static const char *files[] = {"unsigned.eml", "pass-aligned.eml", "fail-body.eml",
				      "misaligned.eml"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct fixture plain, added;
		if (judge(&plain, files[i], "info@bank.example", BANK, KEYS, NULL, NULL) ||
		    judge(&added, files[i], "info@bank.example", BANK, KEYS, NULL,
			  RECEIVER_HEADERS)) {
			t->failed_checks++;
			return;
		}
		CHECK_STR(t, added.r->dkim_verified, plain.r->dkim_verified);
		CHECK(t, added.r->verified_sender == plain.r->verified_sender);
		CHECK(t, same_reasons(plain.r, added.r));
		done(&plain);
		done(&added);
	}
}

static void test_inline_forward_untouched(struct test_state *t)
{
	struct auth_verifier *av = verifier(KEYS, NULL);
	struct result *r = result_new("inline", -1);
	r->from = arena_strdup(&r->arena, "info@bank.example");
	r->brand = arena_strdup(&r->arena, BANK);
	auth_judge(av, &the_registry, r); /* raw NULL: an inline forward */
	CHECK(t, r->dkim_verified == NULL);
	CHECK(t, r->smime_verified == NULL);
	CHECK(t, r->reasons.n == 0);
	result_free(r);
	auth_verifier_free(av);
}

/* verify_files - the --verify mode for tests/corpus/auth_vectors.sh. */
static int verify_files(const char *keys, int n, char **files)
{
	struct auth_verifier *av = verifier(keys, NULL);
	if (!av)
		return 3;
	for (int i = 0; i < n; i++) {
		size_t len = 0;
		char *buf = slurp(files[i], &len);
		if (!buf) {
			printf("%s unreadable\n", files[i]);
			continue;
		}
		struct result *r = result_new(files[i], -1);
		r->raw = buf;
		r->raw_len = len;
		auth_judge(av, NULL, r);
		printf("%s dkim=%s d=%s%s%s\n", files[i], r->dkim_verified ? r->dkim_verified : "-",
		       r->dkim_domain ? r->dkim_domain : "-", r->reasons.n ? " # " : "",
		       r->reasons.n ? r->reasons.v[0].detail : "");
		result_free(r);
		free(buf);
	}
	auth_verifier_free(av);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--verify"))
		return verify_files(argv[2], argc - 3, argv + 3);
	struct test_state t = {0};
	RUN(&t, test_dkim_pass_aligned);
	RUN(&t, test_dkim_pass_crlf);
	RUN(&t, test_dkim_pass_subdomain);
	RUN(&t, test_dkim_fail_body_changed);
	RUN(&t, test_dkim_absent);
	RUN(&t, test_dkim_misaligned);
	RUN(&t, test_dkim_nokey_no_dns);
	RUN(&t, test_dkim_nokey_selector_missing);
	RUN(&t, test_dkim_permerror);
	RUN(&t, test_dkim_missing_key_file);
	RUN(&t, test_dkim_many_signatures);
	RUN(&t, test_smime_pass_untrusted);
	RUN(&t, test_smime_pass_trusted);
	RUN(&t, test_smime_tampered);
	RUN(&t, test_smime_opaque);
	RUN(&t, test_smime_other_signer);
	RUN(&t, test_unsigned_brand);
	RUN(&t, test_brand_signed_by_other);
	RUN(&t, test_brand_lookalike_signed);
	RUN(&t, test_receiver_headers_ignored);
	RUN(&t, test_inline_forward_untouched);
	return TEST_SUMMARY(&t);
}
