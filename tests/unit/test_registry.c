/* test_registry.c - the registry of verified organisations: the bundled
 * file loads, lookups by domain and id, operator files override and
 * remove entries, malformed files fail with file:line. */
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "verdict/registry.h"

/* write_tmp - a temporary file with this content; caller unlinks. */
static void write_tmp(char *path, const char *content)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return;
	size_t n = strlen(content);
	if (write(fd, content, n) != (ssize_t)n)
		perror("write");
	close(fd);
}

static void bundled(struct test_state *t)
{
	char *err = NULL;
	struct registry *reg = registry_load(NULL, &err);
	CHECK(t, reg != NULL);
	CHECK(t, err == NULL);
	if (!reg) {
		fprintf(stderr, "  %s\n", err ? err : "?");
		free(err);
		return;
	}
	CHECK(t, registry_count(reg) >= 40);
	const struct registry_entry *e = registry_by_domain(reg, "belfius.be");
	CHECK(t, e != NULL);
	if (e) {
		CHECK_STR(t, e->id, "BE0403.201.185");
		CHECK_STR(t, e->sector, "bank");
		CHECK(t, e->signs_mail == 1);
		CHECK(t, registry_entry_owns(e, "belfius.com") > 0);
		CHECK(t, registry_entry_owns(e, "kbc.be") == 0);
	}
	CHECK(t, registry_by_domain(reg, "BELFIUS.BE") == e);
	CHECK(t, registry_by_domain(reg, "www.belfius.be") == NULL); /* registrable only */
	CHECK(t, registry_by_domain(reg, "belfius-secure.com") == NULL);
	CHECK(t, registry_by_domain(reg, NULL) == NULL);
	const struct registry_entry *p = registry_by_id(reg, "paypal");
	CHECK(t, p != NULL);
	if (p) {
		CHECK(t, p->n_names >= 1);
		CHECK(t, registry_by_domain(reg, "paypal.com") == p);
	}
	const struct registry_entry *g = registry_by_domain(reg, "gmail.com");
	CHECK(t, g != NULL);
	if (g) {
		size_t k = registry_entry_owns(g, "gmail.com");
		CHECK(t, k > 0 && (g->domain_flags[k - 1] & REG_DOMAIN_SHARED));
	}
	/* every entry has a name, a domain, and lower-case punycode domains */
	for (size_t i = 0; i < registry_count(reg); i++) {
		const struct registry_entry *x = registry_at(reg, i);
		CHECK(t, x->name && *x->name && x->n_domains > 0 && x->n_names > 0);
		for (size_t d = 0; d < x->n_domains; d++)
			for (const char *c = x->domains[d]; *c; c++)
				CHECK(t, !(*c >= 'A' && *c <= 'Z') && (unsigned char)*c < 0x80);
	}
	CHECK(t, registry_at(reg, registry_count(reg)) == NULL);
	registry_free(reg);
}

static void operator_file(struct test_state *t)
{
	char path[] = "/tmp/shield-test-registry-XXXXXX";
	write_tmp(path, "# local additions\n"
			"\n"
			"acme-bank\tAcme Bank\tbank\tBE\tAcme|Acme "
			"Bank\tacme-bank.example|=acme.example|Bélbank.example\tAcme Touch\tyes\r\n"
			"paypal\tPayPal (local)\tpayment\tUS\tPayPal\tpaypal.com\t\tno\n"
			"-netflix\n");
	char *err = NULL;
	struct registry *reg = registry_load(path, &err);
	CHECK(t, reg != NULL);
	if (reg) {
		const struct registry_entry *a = registry_by_id(reg, "acme-bank");
		CHECK(t, a != NULL);
		if (a) {
			CHECK(t, a->n_domains == 3);
			CHECK_STR(t, a->domains[1], "acme.example");
			CHECK(t, a->domain_flags[1] == REG_DOMAIN_GENERIC);
			CHECK_STR(t, a->domains[2], "xn--blbank-bva.example");
			CHECK(t, a->signs_mail == 1);
			CHECK_STR(t, a->keywords[0], "Acme Touch");
		}
		const struct registry_entry *p = registry_by_id(reg, "paypal");
		CHECK(t, p && !strcmp(p->name, "PayPal (local)") && p->signs_mail == 0);
		CHECK(t, registry_by_domain(reg, "paypal.de") == NULL); /* replaced entry */
		CHECK(t, registry_by_id(reg, "netflix") == NULL);
		CHECK(t, registry_by_domain(reg, "netflix.com") == NULL);
	} else {
		fprintf(stderr, "  %s\n", err);
	}
	free(err);
	registry_free(reg);
	unlink(path);
}

/* load_err - the error message for a one-file registry with this content. */
static char *load_err(const char *content)
{
	char path[] = "/tmp/shield-test-registry-XXXXXX";
	write_tmp(path, content);
	char *err = NULL;
	struct registry *reg = registry_load_from(path, NULL, &err);
	registry_free(reg);
	unlink(path);
	if (reg && !err)
		return NULL;
	return err;
}

static void errors(struct test_state *t)
{
	char *e;
	e = load_err("# c\nok\tOk\tbank\tBE\tOk\tok.example\t\tno\nbad\tBad\tbank\tBE\tBad\n");
	CHECK(t, e && strstr(e, ":3: expected 8 tab-separated fields"));
	free(e);
	e = load_err("x\tX\tbank\tBE\tX\tnot a domain\t\tno\n");
	CHECK(t, e && strstr(e, ":1: bad domain 'not a domain'"));
	free(e);
	e = load_err("x\tX\tbank\tBE\tX\tx.example\t\tmaybe\n");
	CHECK(t, e && strstr(e, ":1: signs_mail"));
	free(e);
	e = load_err("x\tX\tbank\tBE\tX\t\t\tno\n");
	CHECK(t, e && strstr(e, ":1: no official domain"));
	free(e);
	e = load_err("x y\tX\tbank\tBE\tX\tx.example\t\tno\n");
	CHECK(t, e && strstr(e, ":1: bad id"));
	free(e);
	e = load_err("-nothing\n");
	CHECK(t, e && strstr(e, ":1: no entry to remove"));
	free(e);
	e = load_err("x\tX\tbank\tBE\tX\tx.example\t\tno\t9\n");
	CHECK(t, e && strstr(e, ":1: too many fields"));
	free(e);
	e = load_err("x\tX\tbank\tBE\tX\tlocalhost\t\tno\n");
	CHECK(t, e != NULL);
	free(e);
	char *err = NULL;
	struct registry *reg = registry_load_from("/nonexistent/registry.tsv", NULL, &err);
	CHECK(t, reg == NULL && err && strstr(err, "/nonexistent/registry.tsv"));
	free(err);
	/* an empty file is a valid, empty registry */
	e = load_err("# nothing\n");
	CHECK(t, e == NULL);
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, bundled);
	RUN(&t, operator_file);
	RUN(&t, errors);
	return TEST_SUMMARY(&t);
}
