/* test_brand.c - brand impersonation and look-alike signals on made-up
 * results: IDN and mixed script, rn/m, 0/o, 1/l, vv/w, edit distance, TLD
 * swap, combosquat, brand in subdomain and path, display-name and link-text
 * mismatches, verified links, and negatives (official domains, unrelated
 * domains, short brand names). */
#include <idn2.h>
#include <libpsl.h>
#include <stdlib.h>

#include "extract/result.h"
#include "test.h"
#include "verdict/brand.h"
#include "verdict/registry.h"

struct fx {
	struct registry *reg;
	psl_ctx_t *psl;
	struct brand_checker *bc;
};

static int fx_open(struct test_state *t, struct fx *f)
{
	char *err = NULL;
	memset(f, 0, sizeof(*f));
	f->reg = registry_load(NULL, &err);
	f->psl = psl_load_file(SHIELD_DATADIR "/public_suffix_list.dat");
	if (f->reg)
		f->bc = brand_checker_new(f->reg, f->psl, &err);
	CHECK(t, f->reg && f->psl && f->bc);
	if (err)
		fprintf(stderr, "  %s\n", err);
	free(err);
	return f->bc != NULL;
}

static void fx_close(struct fx *f)
{
	brand_checker_free(f->bc);
	registry_free(f->reg);
	psl_free(f->psl);
}

/* msg - a result with From display name, address and subject (any NULL). */
static struct result *msg(const char *name, const char *from, const char *subject)
{
	struct result *r = result_new("t.eml", -1);
	r->from_name = name ? arena_strdup(&r->arena, name) : NULL;
	r->from = from ? arena_strdup(&r->arena, from) : NULL;
	r->subject = subject ? arena_strdup(&r->arena, subject) : NULL;
	return r;
}

/* link - push a URL the way extraction records it: punycode host, Unicode
 * host, registrable domain per the PSL, visible text when it differs. */
static void link(struct fx *f, struct result *r, const char *url, const char *text)
{
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	size_t hl = strcspn(h, "/?#:");
	char *uni = arena_strndup(&r->arena, h, hl);
	char *ascii = NULL;
	if (idn2_lookup_u8((const uint8_t *)uni, (uint8_t **)&ascii,
			   IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK)
		ascii = strdup(uni);
	ARENA_PUSH(&r->arena, r->urls.v, r->urls.n, r->urls.cap);
	struct ind_url *u = &r->urls.v[r->urls.n++];
	u->host = arena_strdup(&r->arena, ascii);
	u->host_unicode = uni;
	u->url = arena_printf(&r->arena, "https://%s%s", ascii, h + hl);
	const char *reg = psl_registrable_domain(f->psl, ascii);
	u->reg_domain = reg ? arena_strdup(&r->arena, reg) : NULL;
	u->found_in = arena_strdup(&r->arena, "html:href");
	u->text = text ? arena_strdup(&r->arena, text) : NULL;
	free(ascii);
}

/* reason - the reason with this code, or NULL. */
static const struct reason *reason(const struct result *r, const char *code)
{
	for (size_t i = 0; i < r->reasons.n; i++)
		if (!strcmp(r->reasons.v[i].code, code))
			return &r->reasons.v[i];
	return NULL;
}

/* positive - sum of positive weights (what the engine would add). */
static int positive(const struct result *r)
{
	int s = 0;
	for (size_t i = 0; i < r->reasons.n; i++)
		if (r->reasons.v[i].weight > 0)
			s += r->reasons.v[i].weight;
	return s;
}

static void dump(const struct result *r)
{
	for (size_t i = 0; i < r->reasons.n; i++)
		fprintf(stderr, "    [%s %d] %s\n", r->reasons.v[i].code, r->reasons.v[i].weight,
			r->reasons.v[i].detail);
}

/* one_link - judge a message with one link; returns it (caller frees). */
static struct result *one_link(struct fx *f, const char *url)
{
	struct result *r = msg("Service client", "noreply@mailer.example.org", "Info");
	link(f, r, url, NULL);
	brand_judge(f->bc, r);
	return r;
}

/* expect - the link's look-alike code and brand. */
static void expect(struct test_state *t, struct fx *f, const char *url, const char *code,
		   const char *brand)
{
	struct result *r = one_link(f, url);
	const struct reason *x = reason(r, code);
	if (!x || !r->brand || strcmp(r->brand, brand)) {
		fprintf(stderr, "  %s: want %s for %s, got brand %s\n", url, code, brand,
			r->brand ? r->brand : "(null)");
		dump(r);
		t->failed_checks++;
	} else {
		CHECK(t, x->weight >= 15);
		CHECK(t, strstr(x->detail, r->urls.v[0].reg_domain) != NULL);
	}
	result_free(r);
}

/* clean - the link adds no positive reason and no brand. */
static void clean(struct test_state *t, struct fx *f, const char *url)
{
	struct result *r = one_link(f, url);
	if (positive(r) || r->brand) {
		fprintf(stderr, "  %s: want no signal, got brand %s\n", url,
			r->brand ? r->brand : "(null)");
		dump(r);
		t->failed_checks++;
	}
	result_free(r);
}

static void idn_homoglyphs(struct test_state *t)
{
	struct fx f;
	if (!fx_open(t, &f))
		return;
	/* Cyrillic a in paypal: skeleton equal, mixed script */
	expect(t, &f, "https://p\xd0\xb0ypal.com/login", "lookalike.homoglyph", "paypal");
	expect(t, &f, "https://p\xd0\xb0ypal.com/login", "lookalike.mixed_script", "paypal");
	/* all-Cyrillic "раураl": one script, still a skeleton match */
	expect(t, &f, "https://\xd1\x80\xd0\xb0\xd1\x83\xd1\x80\xd0\xb0l.com/",
	       "lookalike.homoglyph", "paypal");
	/* accented Latin: bélfius */
	expect(t, &f, "https://b\xc3\xa9lfius.be/", "lookalike.homoglyph", "BE0403.201.185");
	/* a legitimate-looking IDN not imitating anything: no signal */
	clean(t, &f, "https://b\xc3\xa9lgique-tourisme.be/");
	struct result *r = one_link(&f, "https://b\xc3\xa9lgique-tourisme.be/");
	CHECK(t, reason(r, "lookalike.mixed_script") == NULL);
	result_free(r);
	fx_close(&f);
}

static void ascii_homoglyphs(struct test_state *t)
{
	struct fx f;
	if (!fx_open(t, &f))
		return;
	expect(t, &f, "https://rnicrosoft.com/", "lookalike.homoglyph", "microsoft");
	expect(t, &f, "https://login.rnicrosoftonline.com/", "lookalike.homoglyph", "microsoft");
	expect(t, &f, "https://g00gle.com/", "lookalike.homoglyph", "google");
	expect(t, &f, "https://be1fius.be/", "lookalike.homoglyph", "BE0403.201.185");
	expect(t, &f, "https://bp0st.be/track", "lookalike.homoglyph", "BE0214.596.464");
	expect(t, &f, "https://lng.be/", "lookalike.homoglyph", "BE0403.200.393");
	expect(t, &f, "https://vvhatsapp.com/", "lookalike.homoglyph", "whatsapp");
	expect(t, &f, "https://paypa1.com/", "lookalike.homoglyph", "paypal");
	expect(t, &f, "https://arnazon.de/", "lookalike.homoglyph", "amazon");
	fx_close(&f);
}

static void edit_distance(struct test_state *t)
{
	struct fx f;
	if (!fx_open(t, &f))
		return;
	expect(t, &f, "https://belfuis.be/", "lookalike.edit_distance", "BE0403.201.185");
	expect(t, &f, "https://belfiuss.com/", "lookalike.edit_distance", "BE0403.201.185");
	expect(t, &f, "https://paypall.com/", "lookalike.edit_distance", "paypal");
	expect(t, &f, "https://netflx.com/", "lookalike.edit_distance", "netflix");
	/* two edits only for long labels */
	expect(t, &f, "https://mircosfot.com/", "lookalike.edit_distance", "microsoft");
	clean(t, &f, "https://beltius-x.be/"); /* hyphen + tokens: nothing */
	/* short names tolerate no edits */
	clean(t, &f, "https://kbd.be/");
	clean(t, &f, "https://ops.com/");
	clean(t, &f, "https://dph.de/");
	fx_close(&f);
}

static void tld_swap(struct test_state *t)
{
	struct fx f;
	if (!fx_open(t, &f))
		return;
	expect(t, &f, "https://belfius.xyz/", "lookalike.tld_swap", "BE0403.201.185");
	expect(t, &f, "https://proximus.net/", "lookalike.tld_swap", "BE0202.239.951");
	expect(t, &f, "https://bpost.com/", "lookalike.tld_swap", "BE0214.596.464");
	/* brand.com under a country code: weak, often an affiliate */
	struct result *r = one_link(&f, "https://netflix.ca/");
	const struct reason *x = reason(r, "lookalike.tld_swap");
	CHECK(t, x && x->weight < 20);
	result_free(r);
	/* short labels live under many TLDs */
	clean(t, &f, "https://dpd.co.uk/");
	clean(t, &f, "https://ing.de/");
	fx_close(&f);
}

static void combosquat(struct test_state *t)
{
	struct fx f;
	if (!fx_open(t, &f))
		return;
	expect(t, &f, "https://belfius-secure-login.com/", "lookalike.combosquat",
	       "BE0403.201.185");
	expect(t, &f, "https://kbc-veilig.be/", "lookalike.combosquat", "BE0462.920.226");
	expect(t, &f, "https://itsme-verificatie.eu/", "lookalike.combosquat", "itsme");
	expect(t, &f, "https://secure-paypal-account.net/", "lookalike.combosquat", "paypal");
	expect(t, &f, "https://paypalsecure.info/", "lookalike.combosquat", "paypal");
	/* short token without a lure or a claim: noise */
	clean(t, &f, "https://start-ups.be/");
	clean(t, &f, "https://ups-and-downs.com/");
	clean(t, &f, "https://data-base.org/");
	clean(t, &f, "https://pineapple.com/");
	fx_close(&f);
}

static void subdomain_and_path(struct test_state *t)
{
	struct fx f;
	if (!fx_open(t, &f))
		return;
	expect(t, &f, "https://belfius.be.evil.com/", "lookalike.subdomain", "BE0403.201.185");
	expect(t, &f, "https://www.paypal.com.account-check.ru/x", "lookalike.subdomain", "paypal");
	expect(t, &f, "https://belfius.login-secure.top/", "lookalike.subdomain", "BE0403.201.185");
	expect(t, &f, "https://secure-update.evil.com/belfius/index.php", "lookalike.path",
	       "BE0403.201.185");
	/* a brand word in an unrelated site without lure or claim: nothing */
	clean(t, &f, "https://apple.slashdot.org/article.pl?sid=02/08/01");
	clean(t, &f, "https://www.zdnet.com/microsoft/news.html");
	/* the official domain and its subdomains */
	clean(t, &f, "https://www.belfius.be/");
	clean(t, &f, "https://login.microsoftonline.com/common/oauth2");
	clean(t, &f, "https://www.bpost.be/belfius/");
	fx_close(&f);
}

static void display_name(struct test_state *t)
{
	struct fx f;
	if (!fx_open(t, &f))
		return;
	struct result *r = msg("Belfius Bank", "info@belfius-klant.top", "Uw kaart vervalt");
	brand_judge(f.bc, r);
	const struct reason *x = reason(r, "brand.display_name_mismatch");
	CHECK(t, x && x->weight >= 20 && strstr(x->detail, "belfius-klant.top"));
	CHECK_STR(t, r->brand, "BE0403.201.185");
	result_free(r);
	/* the real sender */
	r = msg("Belfius", "noreply@mail.belfius.be", "Uw rekeninguittreksel");
	brand_judge(f.bc, r);
	CHECK(t, reason(r, "brand.display_name_mismatch") == NULL);
	CHECK(t, positive(r) == 0);
	CHECK_STR(t, r->brand, "BE0403.201.185");
	result_free(r);
	/* shared mailbox domain does not prove the brand */
	r = msg("PayPal Service", "paypal.service2024@gmail.com", NULL);
	brand_judge(f.bc, r);
	CHECK(t, reason(r, "brand.display_name_mismatch") != NULL);
	CHECK_STR(t, r->brand, "paypal");
	result_free(r);
	/* a name two entries share: ING from ing.nl */
	r = msg("ING", "info@ing.nl", NULL);
	brand_judge(f.bc, r);
	CHECK(t, reason(r, "brand.display_name_mismatch") == NULL);
	result_free(r);
	/* short names are case-sensitive: "Ing. Jan Peeters" is an engineer */
	r = msg("Ing. Jan Peeters", "jan@peeters.example.be", NULL);
	brand_judge(f.bc, r);
	CHECK(t, r->reasons.n == 0 && r->brand == NULL);
	result_free(r);
	/* subject names the brand: a weaker signal */
	r = msg("Klantendienst", "dienst@pakjes-info.xyz", "bpost: uw pakje wacht");
	brand_judge(f.bc, r);
	x = reason(r, "brand.display_name_mismatch");
	CHECK(t, x && x->weight > 0 && x->weight < 20);
	CHECK(t, r->brand == NULL); /* mentioned, not claimed: no DKIM expectation */
	result_free(r);
	fx_close(&f);
}

static void link_text(struct test_state *t)
{
	struct fx f;
	if (!fx_open(t, &f))
		return;
	struct result *r = msg("KBC", "kbc@kbc-online.example", "Actie vereist");
	link(&f, r, "https://evil.example.com/kbc/", "https://www.kbc.be/aanmelden");
	brand_judge(f.bc, r);
	const struct reason *x = reason(r, "link.text_mismatch");
	CHECK(t, x && x->weight >= 30 && strstr(x->detail, "kbc.be") &&
		     strstr(x->detail, "example.com"));
	CHECK_STR(t, r->brand, "BE0462.920.226");
	result_free(r);
	/* text naming an unregistered domain: weaker */
	r = msg(NULL, "a@b.example.org", NULL);
	link(&f, r, "https://tracker.example.net/c?id=1", "www.shop-example.com");
	brand_judge(f.bc, r);
	x = reason(r, "link.text_mismatch");
	CHECK(t, x && x->weight > 0 && x->weight < 30);
	result_free(r);
	/* same registrable domain, or plain words: nothing */
	r = msg(NULL, "a@b.example.org", NULL);
	link(&f, r, "https://www.belfius.be/nl/", "belfius.be");
	link(&f, r, "https://www.example.org/report.pdf", "report.pdf");
	link(&f, r, "https://www.example.org/", "Click here");
	link(&f, r, "https://www.paypal.de/", "paypal.com");
	brand_judge(f.bc, r);
	CHECK(t, reason(r, "link.text_mismatch") == NULL);
	result_free(r);
	fx_close(&f);
}

static void verified(struct test_state *t)
{
	struct fx f;
	if (!fx_open(t, &f))
		return;
	struct result *r = msg("Belfius", "noreply@belfius.be", "Nieuws");
	link(&f, r, "https://www.belfius.be/nl/particulieren", NULL);
	link(&f, r, "https://belfius.com/en", NULL);
	brand_judge(f.bc, r);
	const struct reason *x = reason(r, "link.verified");
	CHECK(t, x && x->weight < 0 && strstr(x->detail, "2 of 2"));
	CHECK(t, positive(r) == 0);
	result_free(r);
	/* a phish with one real link and one look-alike */
	r = msg("Belfius", "alert@belfius-alert.top", "Blokkering");
	link(&f, r, "https://www.belfius.be/logo.png", NULL);
	link(&f, r, "https://belfius-secure-login.com/", NULL);
	brand_judge(f.bc, r);
	x = reason(r, "link.verified");
	CHECK(t, x && x->weight < 0 && x->weight > -10);
	CHECK(t, positive(r) >= 60);
	CHECK_STR(t, r->brand, "BE0403.201.185");
	result_free(r);
	fx_close(&f);
}

static void negatives(struct test_state *t)
{
	struct fx f;
	if (!fx_open(t, &f))
		return;
	static const char *const urls[] = {
	    "https://www.belfius.be/",
	    "https://www.kbc.be/",
	    "https://www.ing.be/",
	    "https://www.spamassassin.org/",
	    "https://lists.sourceforge.net/lists/listinfo",
	    "https://www.python.org/",
	    "https://news.bbc.co.uk/",
	    "https://www.nytimes.com/",
	    "https://www.example.com/",
	    "https://github.com/",
	    "https://www.linux.org/",
	    "https://www.debian.org/",
	    "https://www.kernel.org/",
	    "https://www.theregister.co.uk/",
	    "https://www.jobs.be/",
	    "https://www.ups.com/track",
	    "https://www.ipsos.com/",
	    "https://www.bol.com/",
	    "https://www.telenet.be/",
	    "https://www.cnet.com/",
	    "https://slashdot.org/",
	    "https://www.yahoo.com/",
	    "https://www.apache.org/",
	    "https://www.gnome.org/",
	    "https://www.mozilla.org/",
	    "https://www.openssl.org/",
	};
	for (size_t i = 0; i < sizeof urls / sizeof *urls; i++)
		clean(t, &f, urls[i]);
	/* a message with no brand at all */
	struct result *r = msg("Jan Peeters", "jan@example.be", "Vergadering morgen");
	r->body_text = arena_strdup(&r->arena, "Tot morgen in het bureau.");
	brand_judge(f.bc, r);
	CHECK(t, r->reasons.n == 0 && r->brand == NULL);
	result_free(r);
	/* empty results and NULL arguments */
	r = result_new("t.eml", -1);
	brand_judge(f.bc, r);
	brand_judge(NULL, r);
	brand_judge(f.bc, NULL);
	CHECK(t, r->reasons.n == 0);
	result_free(r);
	fx_close(&f);
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, idn_homoglyphs);
	RUN(&t, ascii_homoglyphs);
	RUN(&t, edit_distance);
	RUN(&t, tld_swap);
	RUN(&t, combosquat);
	RUN(&t, subdomain_and_path);
	RUN(&t, display_name);
	RUN(&t, link_text);
	RUN(&t, verified);
	RUN(&t, negatives);
	return TEST_SUMMARY(&t);
}
