/*
 * test_forward.c - unit tests for forward_find_inline() (src/mail/forward.c).
 *
 * Purpose: one test per client style and language (Gmail, Outlook desktop,
 * Outlook web, Apple Mail, Thunderbird x EN/NL/FR/DE), then the variants
 * HTML-to-text produces (quoting, NBSP, bold labels, wrapped values), the
 * From: forms, nested forwards and the negative cases.
 * Ownership: the mail-parsing stage's owner. The messages are made up.
 * Limits/security: every input is copied into an exact-size malloc buffer
 * without a terminator, so an ASan build catches any read past len.
 */
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/limits.h"
#include "mail/forward.h"
#include "test.h"

/* find - run the detector on a copy of s that has no NUL terminator. */
static int find(struct arena *a, const char *s, struct inline_forward *f)
{
	size_t n = strlen(s);
	char *copy = malloc(n ? n : 1);
	int r;

	if (!copy)
		abort();
	memcpy(copy, s, n);
	r = forward_find_inline(a, copy, n, f);
	free(copy);
	return r;
}

/* body_has - the extracted body contains needle. */
static int body_has(const struct inline_forward *f, const char *needle)
{
	return f->body && strstr(f->body, needle) != NULL;
}

/* ---- Gmail ---------------------------------------------------------- */

static void test_gmail_en(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "Is this real?\n\n"
			"---------- Forwarded message ---------\n"
			"From: KBC Online <security@kbc-secure-login.example>\n"
			"Date: Mon, 3 Mar 2025 at 09:12\n"
			"Subject: Your account has been blocked\n"
			"To: <jan.peeters@example.be>\n"
			"\n"
			"\n"
			"Dear customer,\n"
			"Please verify at https://kbc-secure-login.example/verify\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "gmail");
	CHECK_STR(t, f.language, "en");
	CHECK_STR(t, f.from, "KBC Online <security@kbc-secure-login.example>");
	CHECK_STR(t, f.from_name, "KBC Online");
	CHECK_STR(t, f.from_addr, "security@kbc-secure-login.example");
	CHECK_STR(t, f.date, "Mon, 3 Mar 2025 at 09:12");
	CHECK_STR(t, f.subject, "Your account has been blocked");
	CHECK_STR(t, f.to, "<jan.peeters@example.be>");
	CHECK_STR(t, f.before, "Is this real?");
	CHECK_STR(t, f.body,
		  "Dear customer,\nPlease verify at "
		  "https://kbc-secure-login.example/verify");
	CHECK(t, f.body_len == strlen(f.body));
	CHECK(t, f.marker_offset == strlen("Is this real?\n\n"));
	arena_release(&a);
}

static void test_gmail_nl(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "Verdacht?\n"
			"---------- Doorgestuurd bericht ---------\n"
			"Van: Belfius <noreply@belfius-beveiliging.example>\n"
			"Date: ma 3 mrt 2025 om 10:01\n"
			"Onderwerp: Uw kaart vervalt\n"
			"Aan: <jan.peeters@example.be>\n"
			"\n"
			"Beste klant, ga naar hxxps://belfius-beveiliging[.]example/kaart\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "gmail");
	CHECK_STR(t, f.language, "nl");
	CHECK_STR(t, f.from_addr, "noreply@belfius-beveiliging.example");
	CHECK_STR(t, f.subject, "Uw kaart vervalt");
	CHECK_STR(t, f.date, "ma 3 mrt 2025 om 10:01");
	CHECK(t, body_has(&f, "hxxps://belfius-beveiliging[.]example/kaart"));
	arena_release(&a);
}

static void test_gmail_fr(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	/* Gmail FR: "De :" with NBSP before the colon, English-ish labels */
	const char *s = "---------- Message transf\xc3\xa9r\xc3\xa9 ---------\n"
			"De\xc2\xa0: bpost <info@bpost-colis.example>\n"
			"Date\xc2\xa0: lun. 3 mars 2025 \xc3\xa0 11:20\n"
			"Subject: Votre colis est en attente\n"
			"To: <marie.dubois@example.be>\n"
			"\n"
			"Payez 1,99 EUR: https://bpost-colis.example/pay\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "gmail");
	CHECK_STR(t, f.language, "fr");
	CHECK_STR(t, f.from_name, "bpost");
	CHECK_STR(t, f.from_addr, "info@bpost-colis.example");
	CHECK_STR(t, f.subject, "Votre colis est en attente");
	CHECK_STR(t, f.before, "");
	CHECK(t, f.marker_offset == 0);
	arena_release(&a);
}

static void test_gmail_de(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "Hallo CERT,\nbitte pr\xc3\xbc"
			"fen.\n\n"
			"---------- Weitergeleitete Nachricht ---------\n"
			"Von: Sparkasse <service@sparkasse-sicherheit.example>\n"
			"Date: Mo., 3. M\xc3\xa4rz 2025 um 12:00 Uhr\n"
			"Subject: Wichtige Mitteilung\n"
			"To: <hans.mueller@example.de>\n"
			"\n"
			"Bitte best\xc3\xa4tigen: https://sparkasse-sicherheit.example/login\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "gmail");
	CHECK_STR(t, f.language, "de");
	CHECK_STR(t, f.from_addr, "service@sparkasse-sicherheit.example");
	CHECK_STR(t, f.subject, "Wichtige Mitteilung");
	CHECK_STR(t, f.before,
		  "Hallo CERT,\nbitte pr\xc3\xbc"
		  "fen.");
	arena_release(&a);
}

/* ---- Outlook desktop ------------------------------------------------ */

static void test_outlook_en(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "Please check.\r\n\r\n"
			"-----Original Message-----\r\n"
			"From: ING Bank [mailto:alerts@ing-verify.example] \r\n"
			"Sent: Monday, March 3, 2025 9:15 AM\r\n"
			"To: Jan Peeters <jan.peeters@example.be>\r\n"
			"Subject: Security alert\r\n"
			"\r\n"
			"Log in at https://ing-verify.example/secure now.\r\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "outlook");
	CHECK_STR(t, f.language, "en");
	CHECK_STR(t, f.from, "ING Bank [mailto:alerts@ing-verify.example]");
	CHECK_STR(t, f.from_name, "ING Bank");
	CHECK_STR(t, f.from_addr, "alerts@ing-verify.example");
	CHECK_STR(t, f.date, "Monday, March 3, 2025 9:15 AM");
	CHECK_STR(t, f.subject, "Security alert");
	CHECK_STR(t, f.body, "Log in at https://ing-verify.example/secure now.");
	arena_release(&a);
}

static void test_outlook_nl(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "-----Oorspronkelijk bericht-----\n"
			"Van: Argenta <info@argenta-klant.example>\n"
			"Verzonden: maandag 3 maart 2025 9:15\n"
			"Aan: jan.peeters@example.be\n"
			"Onderwerp: Bevestig uw gegevens\n"
			"\n"
			"Klik hier: https://argenta-klant.example/bevestig\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "outlook");
	CHECK_STR(t, f.language, "nl");
	CHECK_STR(t, f.from_addr, "info@argenta-klant.example");
	CHECK_STR(t, f.date, "maandag 3 maart 2025 9:15");
	CHECK_STR(t, f.to, "jan.peeters@example.be");
	CHECK_STR(t, f.subject, "Bevestig uw gegevens");
	arena_release(&a);
}

static void test_outlook_fr(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "-----Message d'origine-----\n"
			"De\xc2\xa0: Itsme <support@itsme-renouvellement.example>\n"
			"Envoy\xc3\xa9\xc2\xa0: lundi 3 mars 2025 09:15\n"
			"\xc3\x80\xc2\xa0: marie.dubois@example.be\n"
			"Objet\xc2\xa0: Renouvelez votre identit\xc3\xa9\n"
			"\n"
			"https://itsme-renouvellement.example/fr\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "outlook");
	CHECK_STR(t, f.language, "fr");
	CHECK_STR(t, f.from_addr, "support@itsme-renouvellement.example");
	CHECK_STR(t, f.date, "lundi 3 mars 2025 09:15");
	CHECK_STR(t, f.to, "marie.dubois@example.be");
	CHECK_STR(t, f.subject, "Renouvelez votre identit\xc3\xa9");
	arena_release(&a);
}

static void test_outlook_de(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "-----Urspr\xc3\xbcngliche Nachricht-----\n"
			"Von: DHL Paket <paket@dhl-zustellung.example>\n"
			"Gesendet: Montag, 3. M\xc3\xa4rz 2025 09:15\n"
			"An: hans.mueller@example.de\n"
			"Betreff: Ihre Sendung\n"
			"\n"
			"Zollgeb\xc3\xbchr: https://dhl-zustellung.example/zahlen\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "outlook");
	CHECK_STR(t, f.language, "de");
	CHECK_STR(t, f.from_name, "DHL Paket");
	CHECK_STR(t, f.subject, "Ihre Sendung");
	CHECK_STR(t, f.to, "hans.mueller@example.de");
	arena_release(&a);
}

/* ---- Outlook web / new Outlook: a rule, no marker ------------------- */

static void test_outlookweb_en(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "FYI\n\n"
			"________________________________\n"
			"From: Microsoft 365 <no-reply@m365-quota.example>\n"
			"Sent: Monday, March 3, 2025 10:00\n"
			"To: jan.peeters@example.be <jan.peeters@example.be>\n"
			"Subject: Mailbox full\n"
			"\n"
			"Upgrade: https://m365-quota.example/upgrade\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "outlook");
	CHECK_STR(t, f.language, "en");
	CHECK_STR(t, f.from_addr, "no-reply@m365-quota.example");
	CHECK_STR(t, f.subject, "Mailbox full");
	CHECK_STR(t, f.before, "FYI");
	CHECK(t, f.marker_offset == 5);
	arena_release(&a);
}

static void test_outlookweb_nl(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	/* Outlook on the web writes "Datum:" instead of "Verzonden:" */
	const char *s = "________________________________\n"
			"Van: itsme <noreply@itsme-update.example>\n"
			"Datum: maandag 3 maart 2025 10:00\n"
			"Aan: jan.peeters@example.be\n"
			"Onderwerp: Uw itsme verloopt\n"
			"\n"
			"https://itsme-update.example/nl\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "outlook");
	CHECK_STR(t, f.language, "nl");
	CHECK_STR(t, f.date, "maandag 3 maart 2025 10:00");
	CHECK_STR(t, f.subject, "Uw itsme verloopt");
	arena_release(&a);
}

static void test_outlookweb_fr(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "\xc3\x80 v\xc3\xa9rifier svp\n"
			"________________________________\n"
			"De : SPF Finances <myminfin@minfin-remboursement.example>\n"
			"Envoy\xc3\xa9 : lundi 3 mars 2025 10:00\n"
			"\xc3\x80 : marie.dubois@example.be <marie.dubois@example.be>\n"
			"Objet : Remboursement d'imp\xc3\xb4t\n"
			"\n"
			"Cliquez: https://minfin-remboursement.example/rembourse\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "outlook");
	CHECK_STR(t, f.language, "fr");
	CHECK_STR(t, f.from_name, "SPF Finances");
	CHECK_STR(t, f.subject, "Remboursement d'imp\xc3\xb4t");
	CHECK_STR(t, f.before, "\xc3\x80 v\xc3\xa9rifier svp");
	arena_release(&a);
}

static void test_outlookweb_de(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "________________________________\n"
			"Von: Amazon <konto@amazon-kontopruefung.example>\n"
			"Gesendet: Montag, 3. M\xc3\xa4rz 2025 10:00\n"
			"An: hans.mueller@example.de <hans.mueller@example.de>\n"
			"Betreff: Ihr Konto wurde gesperrt\n"
			"\n"
			"https://amazon-kontopruefung.example/de\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "outlook");
	CHECK_STR(t, f.language, "de");
	CHECK_STR(t, f.from_addr, "konto@amazon-kontopruefung.example");
	CHECK(t, body_has(&f, "https://amazon-kontopruefung.example/de"));
	arena_release(&a);
}

/* ---- Apple Mail ----------------------------------------------------- */

static void test_apple_en(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "Sent from my iPhone\n\n"
			"Begin forwarded message:\n\n"
			"From: Netflix <billing@netflix-payment.example>\n"
			"Subject: Payment declined\n"
			"Date: 3 March 2025 at 10:15:00 CET\n"
			"To: jan.peeters@example.be\n"
			"\n"
			"Update: https://netflix-payment.example/update\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "apple");
	CHECK_STR(t, f.language, "en");
	CHECK_STR(t, f.from_addr, "billing@netflix-payment.example");
	CHECK_STR(t, f.subject, "Payment declined");
	CHECK_STR(t, f.date, "3 March 2025 at 10:15:00 CET");
	CHECK_STR(t, f.body, "Update: https://netflix-payment.example/update");
	arena_release(&a);
}

static void test_apple_nl(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "Begin doorgestuurd bericht:\n\n"
			"Van: \"bpost\" <info@bpost-pakket.example>\n"
			"Onderwerp: Uw pakket\n"
			"Datum: 3 maart 2025 om 10:15:00 CET\n"
			"Aan: jan.peeters@example.be\n"
			"\n"
			"https://bpost-pakket.example/nl\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "apple");
	CHECK_STR(t, f.language, "nl");
	CHECK_STR(t, f.from_name, "bpost");
	CHECK_STR(t, f.from_addr, "info@bpost-pakket.example");
	CHECK_STR(t, f.date, "3 maart 2025 om 10:15:00 CET");
	arena_release(&a);
}

static void test_apple_fr(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "D\xc3\xa9"
			"but du message r\xc3\xa9"
			"exp\xc3\xa9"
			"di\xc3\xa9\xc2\xa0:\n\n"
			"De\xc2\xa0: Proximus <factures@proximus-paiement.example>\n"
			"Objet\xc2\xa0: Facture impay\xc3\xa9"
			"e\n"
			"Date\xc2\xa0: 3 mars 2025 \xc3\xa0 10:15:00 UTC+1\n"
			"\xc3\x80\xc2\xa0: marie.dubois@example.be\n"
			"\n"
			"https://proximus-paiement.example/fr\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "apple");
	CHECK_STR(t, f.language, "fr");
	CHECK_STR(t, f.from_addr, "factures@proximus-paiement.example");
	CHECK_STR(t, f.subject,
		  "Facture impay\xc3\xa9"
		  "e");
	CHECK_STR(t, f.to, "marie.dubois@example.be");
	arena_release(&a);
}

static void test_apple_de(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	/* Apple's HTML puts the forward in a blockquote: marker unquoted,
	 * headers and body quoted once after HTML-to-text */
	const char *s = "Anfang der weitergeleiteten Nachricht:\n\n"
			"> Von: Volksbank <info@volksbank-tan.example>\n"
			"> Betreff: TAN-Verfahren\n"
			"> Datum: 3. M\xc3\xa4rz 2025 um 10:15:00 MEZ\n"
			"> An: hans.mueller@example.de\n"
			">\n"
			"> Bitte aktualisieren: https://volksbank-tan.example/de\n"
			"> Ihre Volksbank\n"
			"\n"
			"Gesendet von meinem iPad\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "apple");
	CHECK_STR(t, f.language, "de");
	CHECK_STR(t, f.subject, "TAN-Verfahren");
	CHECK_STR(t, f.body,
		  "Bitte aktualisieren: https://volksbank-tan.example/de\n"
		  "Ihre Volksbank");
	arena_release(&a);
}

/* ---- Thunderbird ---------------------------------------------------- */

static void test_thunderbird_en(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "\n\n\n-------- Forwarded Message --------\n"
			"Subject: \tInvoice overdue\n"
			"Date: \tMon, 3 Mar 2025 10:15:00 +0100\n"
			"From: \tAccounts <accounts@invoice-portal.example>\n"
			"To: \tjan.peeters@example.be\n"
			"\n"
			"\n"
			"See https://invoice-portal.example/inv/123\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "thunderbird");
	CHECK_STR(t, f.language, "en");
	CHECK_STR(t, f.subject, "Invoice overdue");
	CHECK_STR(t, f.date, "Mon, 3 Mar 2025 10:15:00 +0100");
	CHECK_STR(t, f.from_addr, "accounts@invoice-portal.example");
	arena_release(&a);
}

static void test_thunderbird_nl(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "-------- Doorgestuurd bericht --------\n"
			"Onderwerp: \tBetaling mislukt\n"
			"Datum: \tMon, 3 Mar 2025 10:15:00 +0100\n"
			"Van: \tKBC <kbc@kbc-secure-login.example>\n"
			"Aan: \tjan.peeters@example.be\n"
			"\n"
			"https://kbc-secure-login.example/nl\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "thunderbird");
	CHECK_STR(t, f.language, "nl");
	CHECK_STR(t, f.from_name, "KBC");
	CHECK_STR(t, f.subject, "Betaling mislukt");
	arena_release(&a);
}

static void test_thunderbird_fr(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "-------- Message transf\xc3\xa9r\xc3\xa9 --------\n"
			"Sujet\xc2\xa0: \tAmende impay\xc3\xa9"
			"e\n"
			"Date\xc2\xa0: \tMon, 3 Mar 2025 10:15:00 +0100\n"
			"De\xc2\xa0: \tPolice <amendes@police-paiement.example>\n"
			"Pour\xc2\xa0: \tmarie.dubois@example.be\n"
			"\n"
			"https://police-paiement.example/fr\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "thunderbird");
	CHECK_STR(t, f.language, "fr");
	CHECK_STR(t, f.to, "marie.dubois@example.be");
	CHECK_STR(t, f.subject,
		  "Amende impay\xc3\xa9"
		  "e");
	arena_release(&a);
}

static void test_thunderbird_de(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "-------- Weitergeleitete Nachricht --------\n"
			"Betreff: \tPaket wartet\n"
			"Datum: \tMon, 3 Mar 2025 10:15:00 +0100\n"
			"Von: \tHermes <info@hermes-paket.example>\n"
			"An: \thans.mueller@example.de\n"
			"\n"
			"https://hermes-paket.example/de\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "thunderbird");
	CHECK_STR(t, f.language, "de");
	CHECK_STR(t, f.from_addr, "info@hermes-paket.example");
	arena_release(&a);
}

/* ---- variants ------------------------------------------------------- */

static void test_generic_block(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "I got this, phishing?\n\n"
			"From: Bank <x@bank-login.example>\n"
			"Subject: Verify\n"
			"To: me@example.be\n"
			"\n"
			"https://bank-login.example/\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "generic");
	CHECK_STR(t, f.from_addr, "x@bank-login.example");
	CHECK_STR(t, f.before, "I got this, phishing?");
	arena_release(&a);
}

static void test_quoted_gmail(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "Look at this\n\n"
			"> ---------- Forwarded message ---------\n"
			"> From: PayPal <service@paypal-resolve.example>\n"
			"> Date: Mon, 3 Mar 2025\n"
			"> Subject: Unusual activity\n"
			"> To: <jan.peeters@example.be>\n"
			">\n"
			"> Click https://paypal-resolve.example/x\n"
			">> an old quote\n"
			"\n"
			"Jan\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "gmail");
	CHECK_STR(t, f.subject, "Unusual activity");
	CHECK_STR(t, f.body, "Click https://paypal-resolve.example/x\n> an old quote");
	CHECK(t, f.marker_offset == strlen("Look at this\n\n"));
	arena_release(&a);
}

static void test_double_quoted(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = ">> -----Original Message-----\n"
			">> From: Fake <fake@evil.example>\n"
			">> Sent: today\n"
			">> To: you@example.be\n"
			">> Subject: Hi\n"
			">>\n"
			">> body https://evil.example/\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.from_addr, "fake@evil.example");
	CHECK_STR(t, f.body, "body https://evil.example/");
	arena_release(&a);
}

static void test_wrapped_to(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "-----Original Message-----\n"
			"From: HR <hr@payroll-update.example>\n"
			"Sent: Monday, March 3, 2025 9:15 AM\n"
			"To: Jan Peeters <jan.peeters@example.be>; Marie Dubois\n"
			"<marie.dubois@example.be>; Hans <hans@example.de>;\n"
			"Piet <piet@example.be>\n"
			"Cc: Boss <boss@example.be>\n"
			"Subject: Salary update: action\n"
			"  required today\n"
			"\n"
			"https://payroll-update.example/\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.to,
		  "Jan Peeters <jan.peeters@example.be>; Marie Dubois "
		  "<marie.dubois@example.be>; Hans <hans@example.de>; "
		  "Piet <piet@example.be>");
	CHECK_STR(t, f.cc, "Boss <boss@example.be>");
	CHECK_STR(t, f.subject, "Salary update: action required today");
	CHECK_STR(t, f.body, "https://payroll-update.example/");
	arena_release(&a);
}

static void test_wrapped_subject_sandwiched(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	/* Gmail text/plain wraps a long subject; the next line is a label */
	const char *s = "---------- Forwarded message ---------\n"
			"From: Bank <a@bank.example>\n"
			"Date: Mon, 3 Mar 2025\n"
			"Subject: Your account will be closed unless you confirm your\n"
			"identity within 24 hours\n"
			"To: <jan@example.be>\n"
			"\n"
			"body\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.subject,
		  "Your account will be closed unless you confirm your "
		  "identity within 24 hours");
	CHECK_STR(t, f.to, "<jan@example.be>");
	CHECK_STR(t, f.body, "body");
	arena_release(&a);
}

static void test_nbsp_and_bold(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "---------- Forwarded message ---------\n"
			"*From:*\xc2\xa0"
			"Card Stop <alert@cardstop-block.example>\n"
			"*Date:*\xc2\xa0Mon, 3 Mar 2025\n"
			"*Subject:*\xc2\xa0"
			"Card blocked\xc2\xa0\n"
			"*To:*\xc2\xa0jan@example.be\n"
			"\n"
			"https://cardstop-block.example/\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.from, "Card Stop <alert@cardstop-block.example>");
	CHECK_STR(t, f.from_name, "Card Stop");
	CHECK_STR(t, f.subject, "Card blocked");
	CHECK_STR(t, f.to, "jan@example.be");
	arena_release(&a);
}

static void test_from_forms(struct test_state *t)
{
	static const struct {
		const char *from, *name, *addr;
	} cases[] = {
	    {"Name <a@b.example>", "Name", "a@b.example"},
	    {"\"Bank, Support\" <a@b.example>", "Bank, Support", "a@b.example"},
	    {"a@b.example", NULL, "a@b.example"},
	    {"Name [mailto:a@b.example]", "Name", "a@b.example"},
	    {"Name <mailto:a@b.example>", "Name", "a@b.example"},
	    {"\"support@realbank.example\" <evil@b.example>", "support@realbank.example",
	     "evil@b.example"},
	    {"a@b.example (Bank)", "Bank", "a@b.example"},
	    {"'Bank' <a@b.example>", "Bank", "a@b.example"},
	    {"Just A Name", "Just A Name", NULL},
	    {"<a@b.example>", NULL, "a@b.example"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct arena a;
		struct inline_forward f;
		char msg[512];

		snprintf(msg, sizeof(msg),
			 "-----Original Message-----\nFrom: %s\nSent: x\nSubject: y\n\nbody\n",
			 cases[i].from);
		arena_init(&a, 0);
		CHECK(t, find(&a, msg, &f) == 1);
		CHECK_STR(t, f.from, cases[i].from);
		CHECK_STR(t, f.from_name, cases[i].name);
		CHECK_STR(t, f.from_addr, cases[i].addr);
		arena_release(&a);
	}
}

static void test_reply_to_and_blank_gaps(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	/* some converters render each header as its own paragraph */
	const char *s = "-------- Forwarded Message --------\n"
			"Subject: Prize\n"
			"\n"
			"Date: Mon, 3 Mar 2025\n"
			"\n"
			"From: Lotto <win@lotto-prize.example>\n"
			"\n"
			"Reply-To: claims@lotto-claims.example\n"
			"\n"
			"To: jan@example.be\n"
			"\n"
			"To: claim, reply now\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.reply_to, "claims@lotto-claims.example");
	CHECK_STR(t, f.to, "jan@example.be");
	CHECK_STR(t, f.body, "To: claim, reply now");
	arena_release(&a);
}

static void test_value_on_next_line(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	/* Thunderbird's header table, th and td on separate lines */
	const char *s = "-------- Forwarded Message --------\n"
			"Subject:\n"
			"Refund\n"
			"Date:\n"
			"Mon, 3 Mar 2025\n"
			"From:\n"
			"Tax <tax@refund-tax.example>\n"
			"\n"
			"body\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.subject, "Refund");
	CHECK_STR(t, f.from_addr, "tax@refund-tax.example");
	CHECK_STR(t, f.body, "body");
	arena_release(&a);
}

static void test_case_insensitive(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "-----ORIGINAL MESSAGE-----\n"
			"FROM: x@y.example\n"
			"SENT: now\n"
			"SUBJECT: s\n"
			"\n"
			"b\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.style, "outlook");
	CHECK_STR(t, f.from_addr, "x@y.example");
	arena_release(&a);
}

/* ---- nesting -------------------------------------------------------- */

static void test_nested_innermost(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "My mother got this\n\n"
			"---------- Forwarded message ---------\n"
			"From: Mother <mother@example.be>\n"
			"Date: Mon, 3 Mar 2025\n"
			"Subject: Fwd: Your parcel\n"
			"To: <jan@example.be>\n"
			"\n"
			"is this ok?\n"
			"\n"
			"---------- Forwarded message ---------\n"
			"From: bpost <info@bpost-track.example>\n"
			"Date: Sun, 2 Mar 2025\n"
			"Subject: Your parcel\n"
			"To: <mother@example.be>\n"
			"\n"
			"https://bpost-track.example/\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.from_addr, "info@bpost-track.example");
	CHECK_STR(t, f.subject, "Your parcel");
	CHECK_STR(t, f.before, "My mother got this");
	CHECK_STR(t, f.body, "https://bpost-track.example/");
	CHECK(t, f.marker_offset == (size_t)(strstr(s, "---------- Forwarded message ---------\n"
						       "From: bpost") -
					     s));
	arena_release(&a);
}

static void test_nested_outlook_fw(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "-----Original Message-----\n"
			"From: Colleague <col@example.be>\n"
			"Sent: Monday\n"
			"To: me@example.be\n"
			"Subject: FW: Invoice\n"
			"\n"
			"-----Original Message-----\n"
			"From: Supplier <billing@supplier-pay.example>\n"
			"Sent: Sunday\n"
			"To: col@example.be\n"
			"Subject: Invoice\n"
			"\n"
			"pay at https://supplier-pay.example/\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.from_addr, "billing@supplier-pay.example");
	arena_release(&a);
}

static void test_fake_reply_thread_not_descended(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	/* a CEO-fraud mail carries a fake earlier thread; the forwarded mail
	 * itself (subject "RE: ...") is what the citizen received */
	const char *s = "-----Original Message-----\n"
			"From: CEO <ceo@ceo-fraud.example>\n"
			"Sent: Monday\n"
			"To: me@example.be\n"
			"Subject: RE: Urgent transfer\n"
			"\n"
			"Please do it now.\n"
			"\n"
			"-----Original Message-----\n"
			"From: Me <me@example.be>\n"
			"Sent: Sunday\n"
			"Subject: Urgent transfer\n"
			"\n"
			"ok\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.from_addr, "ceo@ceo-fraud.example");
	CHECK(t, body_has(&f, "Please do it now."));
	arena_release(&a);
}

/* ---- negative and hostile ------------------------------------------- */

static void test_plain_phishing_body(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "Dear customer,\n"
			"From: your bank\n"
			"We noticed unusual activity. Subject: your account.\n"
			"Visit https://bank-login.example/ now.\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 0);
	CHECK(t, f.from == NULL && f.body == NULL);
	arena_release(&a);
}

static void test_two_labels_not_enough(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "From: your bank\nSubject: urgent\n\ntext\n"
			"To: Tomorrow we close\nDate: soon\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 0);
	arena_release(&a);
}

static void test_marker_without_headers(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *s = "Begin forwarded message:\n\nHello, this is the body.\n"
			"---------- Forwarded message ---------\nFrom: x@y.example\n\nbody\n";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 0);
	arena_release(&a);
}

static void test_empty_and_null(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;

	arena_init(&a, 0);
	CHECK(t, find(&a, "", &f) == 0);
	CHECK(t, forward_find_inline(&a, NULL, 0, &f) == 0);
	CHECK(t, forward_find_inline(&a, "From:", 0, &f) == 0);
	CHECK(t, find(&a, "\n\n\n", &f) == 0);
	CHECK(t, find(&a, "From:", &f) == 0);
	CHECK(t, find(&a, "-----Original Message-----", &f) == 0);
	arena_release(&a);
}

static void test_no_nul_terminator(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	/* ends mid-header, no newline, no terminator: every scan must stop at
	 * len (ASan flags a one-byte overread of the exact-size copy) */
	const char *s = "---------- Forwarded message ---------\n"
			"From: A <a@b.example>\n"
			"Date: d\n"
			"Subject: s\n"
			"To: x@y.example;";

	arena_init(&a, 0);
	CHECK(t, find(&a, s, &f) == 1);
	CHECK_STR(t, f.to, "x@y.example;");
	CHECK_STR(t, f.body, "");
	CHECK(t, f.body_len == 0);
	arena_release(&a);
}

static void test_nul_bytes_become_spaces(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	static const char s[] = "-----Original Message-----\nFrom: Bank\0<evil@x.example>\n"
				"Sent: d\nSubject: s\n\nbo\0dy\n";
	char *copy = malloc(sizeof(s) - 1);

	if (!copy)
		abort();
	memcpy(copy, s, sizeof(s) - 1);
	arena_init(&a, 0);
	CHECK(t, forward_find_inline(&a, copy, sizeof(s) - 1, &f) == 1);
	CHECK_STR(t, f.from, "Bank <evil@x.example>");
	CHECK_STR(t, f.from_addr, "evil@x.example");
	CHECK_STR(t, f.body, "bo dy");
	CHECK(t, f.body_len == 5);
	arena_release(&a);
	free(copy);
}

static void test_hostile_repeated_from(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	const char *unit = "From: x\n";
	size_t ul = strlen(unit), n = 1024u * 1024u, i;
	char *s = malloc(n);

	if (!s)
		abort();
	for (i = 0; i + ul <= n; i += ul)
		memcpy(s + i, unit, ul);
	memset(s + i, 'x', n - i);
	arena_init(&a, 0);
	CHECK(t, forward_find_inline(&a, s, n, &f) == 0);
	CHECK(t, a.used < 4 * n);
	arena_release(&a);

	/* repeated valid, forwarded blocks: descends to the last one in the
	 * scan window, still linear */
	{
		const char *blk = "From: a@b.example\nSubject: Fwd: x\nDate: d\n";
		size_t bl = strlen(blk);

		for (i = 0; i + bl <= n; i += bl)
			memcpy(s + i, blk, bl);
		memset(s + i, '\n', n - i);
		arena_init(&a, 0);
		CHECK(t, forward_find_inline(&a, s, n, &f) == 1);
		CHECK(t, f.marker_offset < SHIELD_MAX_FWD_SCAN_BYTES);
		CHECK(t, f.marker_offset + bl >= SHIELD_MAX_FWD_SCAN_BYTES - bl);
		arena_release(&a);
	}
	free(s);
}

static void test_hostile_long_lines(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	size_t n = 1024u * 1024u;
	char *s = malloc(n);

	if (!s)
		abort();
	/* one huge line of whitespace and quote marks, then of dashes */
	memset(s, '>', n / 2);
	memset(s + n / 2, ' ', n / 2);
	arena_init(&a, 0);
	CHECK(t, forward_find_inline(&a, s, n, &f) == 0);
	memset(s, '-', n);
	CHECK(t, forward_find_inline(&a, s, n, &f) == 0);
	memset(s, '\n', n);
	CHECK(t, forward_find_inline(&a, s, n, &f) == 0);
	arena_release(&a);
	free(s);
}

static void test_header_line_limit(struct test_state *t)
{
	struct arena a;
	struct inline_forward f;
	char msg[4096];
	size_t o = 0, i;

	o +=
	    (size_t)snprintf(msg + o, sizeof(msg) - o,
			     "---------- Forwarded message ---------\nFrom: a@b.example\nTo: x,\n");
	for (i = 0; i < SHIELD_MAX_FWD_HEADER_LINES + 5; i++)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, " more%zu@example.be,\n", i);
	snprintf(msg + o, sizeof(msg) - o, "Subject: s\n\nbody\n");
	arena_init(&a, 0);
	CHECK(t, find(&a, msg, &f) == 0);
	arena_release(&a);
}

int main(void)
{
	struct test_state t = {0, 0, 0};

	RUN(&t, test_gmail_en);
	RUN(&t, test_gmail_nl);
	RUN(&t, test_gmail_fr);
	RUN(&t, test_gmail_de);
	RUN(&t, test_outlook_en);
	RUN(&t, test_outlook_nl);
	RUN(&t, test_outlook_fr);
	RUN(&t, test_outlook_de);
	RUN(&t, test_outlookweb_en);
	RUN(&t, test_outlookweb_nl);
	RUN(&t, test_outlookweb_fr);
	RUN(&t, test_outlookweb_de);
	RUN(&t, test_apple_en);
	RUN(&t, test_apple_nl);
	RUN(&t, test_apple_fr);
	RUN(&t, test_apple_de);
	RUN(&t, test_thunderbird_en);
	RUN(&t, test_thunderbird_nl);
	RUN(&t, test_thunderbird_fr);
	RUN(&t, test_thunderbird_de);
	RUN(&t, test_generic_block);
	RUN(&t, test_quoted_gmail);
	RUN(&t, test_double_quoted);
	RUN(&t, test_wrapped_to);
	RUN(&t, test_wrapped_subject_sandwiched);
	RUN(&t, test_nbsp_and_bold);
	RUN(&t, test_from_forms);
	RUN(&t, test_reply_to_and_blank_gaps);
	RUN(&t, test_value_on_next_line);
	RUN(&t, test_case_insensitive);
	RUN(&t, test_nested_innermost);
	RUN(&t, test_nested_outlook_fw);
	RUN(&t, test_fake_reply_thread_not_descended);
	RUN(&t, test_plain_phishing_body);
	RUN(&t, test_two_labels_not_enough);
	RUN(&t, test_marker_without_headers);
	RUN(&t, test_empty_and_null);
	RUN(&t, test_no_nul_terminator);
	RUN(&t, test_nul_bytes_become_spaces);
	RUN(&t, test_hostile_repeated_from);
	RUN(&t, test_hostile_long_lines);
	RUN(&t, test_header_line_limit);
	return TEST_SUMMARY(&t);
}
