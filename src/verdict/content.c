/*
 * content.c - tokens, wording tables, risky attachments, off-site forms,
 * shorteners and free hosting, data:/javascript: links, language. One pass
 * over the words with hash lookups; no regular expressions. See content.h.
 */
#include "verdict/content.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/xalloc.h"
#include "verdict/lists.h"

#ifndef SHIELD_DATADIR
#define SHIELD_DATADIR "data"
#endif

#define MIN_WORD 2
#define MAX_WORD 30
#define MAX_PHRASE_WORDS 4
#define MAX_PHRASES 1024

enum { CAT_CRED, CAT_URGENT, CAT_PAY, CAT_PRIZE, CAT_ADVFEE, CAT_EXTORT, N_CAT };

struct phrase {
	const char *text;
	unsigned char cat, pts;
};

/* Wording tables, lower case. pts: 2 = enough alone, 1 = needs another
 * word of the same kind. A category fires at 2 points. */
static const struct phrase phrases[] = {
    /* credential requests and account threats */
    {"verify your account", CAT_CRED, 2},
    {"confirm your account", CAT_CRED, 2},
    {"validate your account", CAT_CRED, 2},
    {"update your account", CAT_CRED, 2},
    {"verify your identity", CAT_CRED, 2},
    {"confirm your identity", CAT_CRED, 2},
    {"confirm your password", CAT_CRED, 2},
    {"enter your password", CAT_CRED, 2},
    {"verify your email", CAT_CRED, 2},
    {"verify your information", CAT_CRED, 2},
    {"confirm your information", CAT_CRED, 2},
    {"update your information", CAT_CRED, 2},
    {"update your details", CAT_CRED, 2},
    {"confirm your details", CAT_CRED, 2},
    {"sign in to your account", CAT_CRED, 2},
    {"log in to your account", CAT_CRED, 2},
    {"login to your account", CAT_CRED, 2},
    {"account has been suspended", CAT_CRED, 2},
    {"account will be suspended", CAT_CRED, 2},
    {"account has been locked", CAT_CRED, 2},
    {"account has been limited", CAT_CRED, 2},
    {"account will be closed", CAT_CRED, 2},
    {"account will be deactivated", CAT_CRED, 2},
    {"account has been disabled", CAT_CRED, 2},
    {"account is suspended", CAT_CRED, 2},
    {"restore access", CAT_CRED, 2},
    {"mailbox is full", CAT_CRED, 2},
    {"mailbox quota", CAT_CRED, 2},
    {"storage is full", CAT_CRED, 1},
    {"update your payment", CAT_CRED, 2},
    {"update your billing", CAT_CRED, 2},
    {"billing information", CAT_CRED, 1},
    {"unusual activity", CAT_CRED, 1},
    {"unusual sign", CAT_CRED, 1},
    {"suspicious activity", CAT_CRED, 1},
    {"your password", CAT_CRED, 1},
    {"password expires", CAT_CRED, 2},
    {"password will expire", CAT_CRED, 2},
    {"login details", CAT_CRED, 1},
    {"credentials", CAT_CRED, 1},
    {"webmail", CAT_CRED, 1},
    {"verify now", CAT_CRED, 2},
    {"click here to verify", CAT_CRED, 2},
    {"card details", CAT_CRED, 1},
    {"security reasons", CAT_CRED, 1},
    {"verifieer uw account", CAT_CRED, 2},
    {"bevestig uw account", CAT_CRED, 2},
    {"bevestig uw gegevens", CAT_CRED, 2},
    {"werk uw gegevens bij", CAT_CRED, 2},
    {"uw gegevens bijwerken", CAT_CRED, 2},
    {"account is geblokkeerd", CAT_CRED, 2},
    {"rekening is geblokkeerd", CAT_CRED, 2},
    {"wordt geblokkeerd", CAT_CRED, 1},
    {"inloggegevens", CAT_CRED, 1},
    {"wachtwoord", CAT_CRED, 1},
    {"kaartlezer", CAT_CRED, 1},
    {"identiteit bevestigen", CAT_CRED, 2},
    {"verifiëren", CAT_CRED, 1},
    {"vérifier votre compte", CAT_CRED, 2},
    {"vérifiez votre compte", CAT_CRED, 2},
    {"confirmer votre compte", CAT_CRED, 2},
    {"confirmez votre identité", CAT_CRED, 2},
    {"vérifiez votre identité", CAT_CRED, 2},
    {"mettre jour vos informations", CAT_CRED, 2},
    {"compte a été suspendu", CAT_CRED, 2},
    {"compte sera suspendu", CAT_CRED, 2},
    {"compte bloqué", CAT_CRED, 2},
    {"compte est bloqué", CAT_CRED, 2},
    {"mot de passe", CAT_CRED, 1},
    {"identifiants", CAT_CRED, 1},
    {"coordonnées bancaires", CAT_CRED, 1},
    {"activité inhabituelle", CAT_CRED, 1},
    {"activité suspecte", CAT_CRED, 1},
    {"konto verifizieren", CAT_CRED, 2},
    {"bestätigen sie ihr konto", CAT_CRED, 2},
    {"bestätigen sie ihre identität", CAT_CRED, 2},
    {"konto wurde gesperrt", CAT_CRED, 2},
    {"konto wird gesperrt", CAT_CRED, 2},
    {"konto wurde eingeschränkt", CAT_CRED, 2},
    {"aktualisieren sie ihre daten", CAT_CRED, 2},
    {"daten zu aktualisieren", CAT_CRED, 2},
    {"zugangsdaten", CAT_CRED, 1},
    {"passwort", CAT_CRED, 1},
    {"kennwort", CAT_CRED, 1},
    {"anmeldedaten", CAT_CRED, 1},
    {"ungewöhnliche aktivität", CAT_CRED, 1},
    {"verdächtige aktivität", CAT_CRED, 1},
    {"update now", CAT_CRED, 2},
    {"will be locked", CAT_CRED, 2},
    {"will be blocked", CAT_CRED, 2},
    {"online banking", CAT_CRED, 1},
    {"jetzt aktualisieren", CAT_CRED, 2},
    {"wird gesperrt", CAT_CRED, 1},
    {"gesperrt", CAT_CRED, 1},
    {"aktualisieren", CAT_CRED, 1},
    {"sicherheitsrichtlinien", CAT_CRED, 1},
    {"nu bijwerken", CAT_CRED, 2},
    {"bijwerken", CAT_CRED, 1},
    {"geblokkeerd", CAT_CRED, 1},
    {"sera bloqué", CAT_CRED, 2},
    {"sera suspendu", CAT_CRED, 2},
    {"mettre jour", CAT_CRED, 1},
    {"connectez vous", CAT_CRED, 1},
    {"storage quota", CAT_CRED, 2},
    {"upgrade your storage", CAT_CRED, 2},
    {"almost full", CAT_CRED, 1},
    {"will be rejected", CAT_CRED, 1},
    /* urgency */
    {"urgent", CAT_URGENT, 1},
    {"immediately", CAT_URGENT, 1},
    {"within hours", CAT_URGENT, 2},
    {"act now", CAT_URGENT, 2},
    {"final notice", CAT_URGENT, 2},
    {"last warning", CAT_URGENT, 2},
    {"final warning", CAT_URGENT, 2},
    {"expires today", CAT_URGENT, 2},
    {"expire today", CAT_URGENT, 2},
    {"action required", CAT_URGENT, 2},
    {"immediate action", CAT_URGENT, 2},
    {"failure to", CAT_URGENT, 1},
    {"permanently deleted", CAT_URGENT, 2},
    {"permanently disabled", CAT_URGENT, 2},
    {"as soon as possible", CAT_URGENT, 1},
    {"dringend", CAT_URGENT, 1},
    {"onmiddellijk", CAT_URGENT, 1},
    {"binnen uur", CAT_URGENT, 2},
    {"laatste herinnering", CAT_URGENT, 2},
    {"laatste waarschuwing", CAT_URGENT, 2},
    {"actie vereist", CAT_URGENT, 2},
    {"zo snel mogelijk", CAT_URGENT, 1},
    {"immédiatement", CAT_URGENT, 1},
    {"dans les heures", CAT_URGENT, 2},
    {"sous heures", CAT_URGENT, 2},
    {"dernier rappel", CAT_URGENT, 2},
    {"dernier avertissement", CAT_URGENT, 2},
    {"action requise", CAT_URGENT, 2},
    {"sans délai", CAT_URGENT, 1},
    {"sofort", CAT_URGENT, 1},
    {"umgehend", CAT_URGENT, 1},
    {"innerhalb von stunden", CAT_URGENT, 2},
    {"letzte mahnung", CAT_URGENT, 2},
    {"letzte warnung", CAT_URGENT, 2},
    {"handlung erforderlich", CAT_URGENT, 2},
    {"maßnahme erforderlich", CAT_URGENT, 2},
    {"unverzüglich", CAT_URGENT, 1},
    /* payment */
    {"payment", CAT_PAY, 1},
    {"invoice", CAT_PAY, 1},
    {"outstanding balance", CAT_PAY, 2},
    {"unpaid", CAT_PAY, 1},
    {"overdue", CAT_PAY, 1},
    {"wire transfer", CAT_PAY, 2},
    {"bank transfer", CAT_PAY, 1},
    {"credit card", CAT_PAY, 1},
    {"refund", CAT_PAY, 1},
    {"customs fee", CAT_PAY, 2},
    {"delivery fee", CAT_PAY, 2},
    {"shipping fee", CAT_PAY, 2},
    {"gift card", CAT_PAY, 2},
    {"tax refund", CAT_PAY, 2},
    {"betaling", CAT_PAY, 1},
    {"factuur", CAT_PAY, 1},
    {"openstaand bedrag", CAT_PAY, 2},
    {"onbetaald", CAT_PAY, 1},
    {"overschrijving", CAT_PAY, 1},
    {"terugbetaling", CAT_PAY, 1},
    {"douanekosten", CAT_PAY, 2},
    {"invoerrechten", CAT_PAY, 2},
    {"verzendkosten", CAT_PAY, 1},
    {"achterstallig", CAT_PAY, 1},
    {"paiement", CAT_PAY, 1},
    {"facture", CAT_PAY, 1},
    {"impayé", CAT_PAY, 1},
    {"virement", CAT_PAY, 1},
    {"remboursement", CAT_PAY, 1},
    {"frais de douane", CAT_PAY, 2},
    {"frais de livraison", CAT_PAY, 2},
    {"carte bancaire", CAT_PAY, 1},
    {"zahlung", CAT_PAY, 1},
    {"rechnung", CAT_PAY, 1},
    {"überweisung", CAT_PAY, 1},
    {"rückerstattung", CAT_PAY, 1},
    {"zollgebühren", CAT_PAY, 2},
    {"zollgebühr", CAT_PAY, 2},
    {"offener betrag", CAT_PAY, 2},
    {"kreditkarte", CAT_PAY, 1},
    {"impayés", CAT_PAY, 1},
    {"frais de port", CAT_PAY, 2},
    {"réglez les frais", CAT_PAY, 2},
    /* prizes and lotteries */
    {"you have won", CAT_PRIZE, 2},
    {"you won", CAT_PRIZE, 2},
    {"lottery", CAT_PRIZE, 2},
    {"sweepstakes", CAT_PRIZE, 2},
    {"lucky winner", CAT_PRIZE, 2},
    {"claim your prize", CAT_PRIZE, 2},
    {"claim your reward", CAT_PRIZE, 2},
    {"selected to receive", CAT_PRIZE, 2},
    {"winner", CAT_PRIZE, 1},
    {"prize", CAT_PRIZE, 1},
    {"jackpot", CAT_PRIZE, 1},
    {"congratulations", CAT_PRIZE, 1},
    {"reward", CAT_PRIZE, 1},
    {"free gift", CAT_PRIZE, 1},
    {"u heeft gewonnen", CAT_PRIZE, 2},
    {"je hebt gewonnen", CAT_PRIZE, 2},
    {"loterij", CAT_PRIZE, 2},
    {"gewonnen", CAT_PRIZE, 1},
    {"gefeliciteerd", CAT_PRIZE, 1},
    {"winnaar", CAT_PRIZE, 1},
    {"beloning", CAT_PRIZE, 1},
    {"vous avez gagné", CAT_PRIZE, 2},
    {"loterie", CAT_PRIZE, 2},
    {"tirage au sort", CAT_PRIZE, 2},
    {"gagnant", CAT_PRIZE, 1},
    {"félicitations", CAT_PRIZE, 1},
    {"récompense", CAT_PRIZE, 1},
    {"sie haben gewonnen", CAT_PRIZE, 2},
    {"gewinnspiel", CAT_PRIZE, 2},
    {"lotterie", CAT_PRIZE, 2},
    {"gewinner", CAT_PRIZE, 1},
    {"herzlichen glückwunsch", CAT_PRIZE, 1},
    {"belohnung", CAT_PRIZE, 1},
    /* advance fee */
    {"inheritance", CAT_ADVFEE, 2},
    {"next of kin", CAT_ADVFEE, 2},
    {"million dollars", CAT_ADVFEE, 2},
    {"million usd", CAT_ADVFEE, 2},
    {"barrister", CAT_ADVFEE, 2},
    {"late client", CAT_ADVFEE, 2},
    {"transfer the funds", CAT_ADVFEE, 2},
    {"business proposal", CAT_ADVFEE, 2},
    {"compensation fund", CAT_ADVFEE, 2},
    {"atm card", CAT_ADVFEE, 2},
    {"western union", CAT_ADVFEE, 2},
    {"moneygram", CAT_ADVFEE, 2},
    {"my late husband", CAT_ADVFEE, 2},
    {"beneficiary", CAT_ADVFEE, 1},
    {"deceased", CAT_ADVFEE, 1},
    {"consignment", CAT_ADVFEE, 1},
    {"diplomat", CAT_ADVFEE, 1},
    {"strictly confidential", CAT_ADVFEE, 1},
    {"donation", CAT_ADVFEE, 1},
    {"erfenis", CAT_ADVFEE, 2},
    {"nalatenschap", CAT_ADVFEE, 2},
    {"begunstigde", CAT_ADVFEE, 1},
    {"héritage", CAT_ADVFEE, 2},
    {"millions de dollars", CAT_ADVFEE, 2},
    {"bénéficiaire", CAT_ADVFEE, 1},
    {"erbschaft", CAT_ADVFEE, 2},
    {"nachlass", CAT_ADVFEE, 2},
    {"millionen dollar", CAT_ADVFEE, 2},
    {"begünstigter", CAT_ADVFEE, 1},
    /* extortion */
    {"recorded you", CAT_EXTORT, 2},
    {"hacked your", CAT_EXTORT, 2},
    {"access to your device", CAT_EXTORT, 2},
    {"bitcoin wallet", CAT_EXTORT, 2},
    {"btc wallet", CAT_EXTORT, 2},
    {"bitcoin address", CAT_EXTORT, 2},
    {"pornographic", CAT_EXTORT, 2},
    {"adult website", CAT_EXTORT, 2},
    {"adult websites", CAT_EXTORT, 2},
    {"masturbating", CAT_EXTORT, 2},
    {"your webcam", CAT_EXTORT, 1},
    {"your contacts", CAT_EXTORT, 1},
    {"bitcoin", CAT_EXTORT, 1},
    {"spyware", CAT_EXTORT, 1},
    {"trojan", CAT_EXTORT, 1},
    {"uw webcam", CAT_EXTORT, 1},
    {"bitcoin portemonnee", CAT_EXTORT, 2},
    {"pornografische", CAT_EXTORT, 2},
    {"votre webcam", CAT_EXTORT, 1},
    {"portefeuille bitcoin", CAT_EXTORT, 2},
    {"pornographiques", CAT_EXTORT, 2},
    {"ihre webcam", CAT_EXTORT, 1},
    {"pornografischen", CAT_EXTORT, 2},
};

static const struct {
	const char *code;
	int weight;
	unsigned flag;
} cats[N_CAT] = {
    [CAT_CRED] = {"content.credential", 20, CF_CREDENTIAL},
    [CAT_URGENT] = {"content.urgency", 8, CF_URGENCY},
    [CAT_PAY] = {"content.payment", 6, CF_PAYMENT},
    [CAT_PRIZE] = {"content.prize", 15, CF_PRIZE},
    [CAT_ADVFEE] = {"content.advance_fee", 20, CF_ADVFEE},
    [CAT_EXTORT] = {"content.extortion", 30, CF_EXTORTION},
};

static const char *const flag_names[CF_NFLAGS] = {
    "credential",   "urgency",	   "payment",	   "prize",	  "advance_fee",
    "extortion",    "attach_exec", "attach_macro", "attach_html", "attach_encrypted",
    "form_offsite", "shortener",   "free_hosting", "data_uri",	  "javascript_uri",
    "attach_ole",   "styled_text",
};

/* Stop words per language, for detection only. */
enum { L_EN, L_NL, L_FR, L_DE, L_ES, L_PT, N_LANG };
static const char *const lang_names[N_LANG] = {"en", "nl", "fr", "de", "es", "pt"};
static const char *const stopwords[N_LANG] = {
    "the and you your for with this that have are is from our will not be it on can if",
    "de het een en van je uw niet met voor zijn dat wij ons op naar ik wordt bij te",
    "le la les et des vous votre pour avec est une pas nous sur dans du au qui ce",
    "der die das und ist sie ihr nicht mit für ein eine wir auf zu ihre den dem sich",
    "el la los las y de que en por para su usted es con del al se una lo",
    "o a os as e de que em para com seu sua você não do da no na um uma",
};

/* One hash table for phrases (value: phrase index) and stop words (value:
 * language mask, marked by a high bit). */
struct slot {
	uint64_t key;
	uint32_t phrase; /* index + 1, 0: none */
	uint32_t langs;	 /* bit per language */
};

struct content_checker {
	struct slot *tab;
	size_t nslot;	     /* power of two */
	struct lists *hosts; /* shorteners and free hosting (lists.c feeds) */
};

uint64_t tokens_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 31);
}

/* phrase_mix - combine the hash so far with the next word's. */
static uint64_t phrase_mix(uint64_t acc, uint64_t h)
{
	acc = (acc ^ 0x5bd1e995u) * 0x9e3779b97f4a7c15ull;
	return acc ^ h ^ (acc >> 27);
}

/* ---- tokens ---- */

static void tok_push(struct tokens *t, const char *w, size_t n, int subject, int seg_start)
{
	if (t->n >= SHIELD_MAX_VERDICT_TOKENS)
		return;
	if (t->len + n + 1 > t->cap) {
		while (t->len + n + 1 > t->cap)
			t->cap = t->cap ? t->cap * 2 : 4096;
		t->buf = xrealloc(t->buf, t->cap);
	}
	if (t->n == t->vcap) {
		t->vcap = t->vcap ? t->vcap * 2 : 256;
		t->v = xrealloc(t->v, t->vcap * sizeof(*t->v));
	}
	memcpy(t->buf + t->len, w, n);
	t->buf[t->len + n] = 0;
	t->v[t->n] = (struct text_tok){(uint32_t)t->len, (uint16_t)n, (uint8_t)subject,
				       (uint8_t)seg_start, tokens_hash(w, n)};
	t->len += n + 1;
	t->n++;
}

/* chunk_skipped - whitespace-delimited chunks that are addresses or URLs. */
static int chunk_skipped(const char *s, size_t n)
{
	if (memchr(s, '@', n))
		return 1;
	for (size_t i = 0; i + 3 <= n; i++)
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
			return 1;
	return n >= 4 && !strncasecmp(s, "www.", 4);
}

/* styled_letter - the ASCII letter or digit behind a 4-byte UTF-8
 * Mathematical Alphanumeric Symbol (U+1D400-U+1D7FF: bold, italic, script,
 * ... letters spammers use to dodge word filters); 0 if not one. */
static size_t styled_letter(const unsigned char *u, char *out)
{
	uint32_t cp = ((uint32_t)(u[0] & 7) << 18) | ((uint32_t)(u[1] & 0x3f) << 12) |
		      ((uint32_t)(u[2] & 0x3f) << 6) | (uint32_t)(u[3] & 0x3f);
	if (cp >= 0x1d400 && cp <= 0x1d6a3) {
		uint32_t l = (cp - 0x1d400) % 52;
		out[0] = (char)('a' + (l < 26 ? l : l - 26));
		return 1;
	}
	if (cp >= 0x1d7ce && cp <= 0x1d7ff) {
		out[0] = (char)('0' + (cp - 0x1d7ce) % 10);
		return 1;
	}
	return 0;
}

/* split - words of s[0..n) into t. A word is a run of letters (ASCII,
 * any UTF-8 sequence that is not punctuation/space) and digits; words with
 * digits are dropped. Zero-width characters and soft hyphens are skipped
 * inside words (obfuscation), other general punctuation separates. */
static void split(struct tokens *t, const char *s, size_t n, int subject)
{
	char w[MAX_WORD + 8];
	size_t wl = 0;
	int digit = 0, too_long = 0, seg = 1;
	size_t i = 0;
	size_t chunk_end = 0;
	while (i <= n) {
		if (i < n && i >= chunk_end) {
			/* at a chunk start: skip chunks that are addresses or URLs */
			size_t j = i;
			while (j < n && s[j] != ' ' && s[j] != '\n' && s[j] != '\t' && s[j] != '\r')
				j++;
			chunk_end = j > i ? j : i + 1;
			if (j > i && chunk_skipped(s + i, j - i)) {
				i = j;
				continue;
			}
		}
		unsigned char c = i < n ? (unsigned char)s[i] : 0;
		size_t clen = 1;
		int letter = 0, skip = 0;
		char out[4];
		size_t olen = 0;
		if (c >= 'A' && c <= 'Z') {
			letter = 1;
			out[0] = (char)(c + 32);
			olen = 1;
		} else if ((c >= 'a' && c <= 'z')) {
			letter = 1;
			out[0] = (char)c;
			olen = 1;
		} else if (c >= '0' && c <= '9') {
			letter = 1;
			digit = 1;
			out[0] = (char)c;
			olen = 1;
		} else if (c >= 0xc0 && i < n) {
			clen = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			if (i + clen > n)
				clen = n - i;
			const unsigned char *u = (const unsigned char *)s + i;
			if (clen == 2 && c == 0xc2 && u[1] == 0xad) {
				skip = 1; /* soft hyphen */
			} else if (clen == 2 && c == 0xc2) {
				letter = 0; /* Latin-1 punctuation and NBSP */
			} else if (clen == 3 && c == 0xe2 && u[1] == 0x80 &&
				   (u[2] >= 0x8b && u[2] <= 0x8d)) {
				skip = 1; /* zero-width space/joiners */
			} else if (clen == 3 && c == 0xe2 && u[1] == 0x81 && u[2] == 0xa0) {
				skip = 1; /* word joiner */
			} else if (clen == 3 &&
				   ((c == 0xe2 && u[1] >= 0x80 && u[1] <= 0xbf) ||
				    (c == 0xef && u[1] == 0xbb) || (c == 0xe3 && u[1] == 0x80))) {
				letter = 0; /* punctuation, symbols, BOM, CJK punctuation */
			} else if (clen == 4 && (olen = styled_letter(u, out))) {
				letter = 1; /* mathematical bold/italic/... letters */
				if (out[0] >= '0' && out[0] <= '9')
					digit = 1;
				t->styled++;
			} else if (clen == 3 && c == 0xef &&
				   ((u[1] == 0xbc && u[2] >= 0xa1 && u[2] <= 0xba) ||
				    (u[1] == 0xbd && u[2] >= 0x81 && u[2] <= 0x9a))) {
				letter = 1; /* fullwidth Latin letters */
				out[0] = (char)('a' + (u[1] == 0xbc ? u[2] - 0xa1 : u[2] - 0x81));
				olen = 1;
				t->styled++;
			} else if (clen == 4) {
				letter = 0; /* emoji and other astral symbols */
			} else {
				letter = 1;
				memcpy(out, u, clen);
				olen = clen;
				if (clen == 2 && c == 0xc3 && u[1] >= 0x80 && u[1] <= 0x9e &&
				    u[1] != 0x97)
					out[1] = (char)(u[1] + 0x20); /* Latin-1 upper case */
			}
		} else if (c >= 0x80 && i < n) {
			letter = 0; /* stray continuation byte */
		}
		if (skip) {
			i += clen;
			continue;
		}
		if (letter) {
			if (wl + olen <= MAX_WORD)
				memcpy(w + wl, out, olen);
			else
				too_long = 1;
			wl += olen;
		} else {
			if (wl >= MIN_WORD && !digit && !too_long) {
				tok_push(t, w, wl, subject, seg);
				seg = 0;
			}
			wl = 0;
			digit = too_long = 0;
			if (i >= n)
				break;
			if (c == '.' || c == '!' || c == '?')
				seg = 1; /* phrases do not run across sentences (they
					  * do across the line breaks of wrapped text) */
		}
		i += clen;
	}
}

void tokens_make(struct tokens *t, const char *subject, const char *body)
{
	memset(t, 0, sizeof(*t));
	if (subject)
		split(t, subject, strnlen(subject, SHIELD_MAX_VERDICT_TEXT), 1);
	if (body)
		split(t, body, strnlen(body, SHIELD_MAX_VERDICT_TEXT), 0);
}

void tokens_release(struct tokens *t)
{
	free(t->buf);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- checker ---- */

static struct slot *tab_slot(const struct content_checker *cc, uint64_t key, int insert)
{
	size_t mask = cc->nslot - 1;
	for (size_t i = key & mask;; i = (i + 1) & mask) {
		if (cc->tab[i].key == key && (cc->tab[i].phrase || cc->tab[i].langs))
			return &cc->tab[i];
		if (!cc->tab[i].phrase && !cc->tab[i].langs)
			return insert ? &cc->tab[i] : NULL;
	}
}

static uint64_t phrase_key(const struct tokens *t, size_t from, size_t n)
{
	uint64_t k = t->v[from].h;
	for (size_t j = 1; j < n; j++)
		k = phrase_mix(k, t->v[from + j].h);
	return k;
}

struct content_checker *content_checker_new(const char *datadir, char **err)
{
	struct content_checker *cc = xcalloc(1, sizeof(*cc));
	size_t np = sizeof(phrases) / sizeof(phrases[0]);
	cc->nslot = 4096;
	cc->tab = xcalloc(cc->nslot, sizeof(*cc->tab));
	for (size_t i = 0; i < np && i < MAX_PHRASES; i++) {
		struct tokens t;
		tokens_make(&t, NULL, phrases[i].text);
		if (t.n && t.n <= MAX_PHRASE_WORDS) {
			uint64_t k = phrase_key(&t, 0, t.n) ^ t.n;
			struct slot *s = tab_slot(cc, k, 1);
			s->key = k;
			if (!s->phrase)
				s->phrase = (uint32_t)i + 1;
		}
		tokens_release(&t);
	}
	for (unsigned l = 0; l < N_LANG; l++) {
		struct tokens t;
		tokens_make(&t, NULL, stopwords[l]);
		for (size_t j = 0; j < t.n; j++) {
			uint64_t k = t.v[j].h ^ 0xa5a5a5a5a5a5ull;
			struct slot *s = tab_slot(cc, k, 1);
			s->key = k;
			s->langs |= 1u << l;
		}
		tokens_release(&t);
	}
	cc->hosts = lists_new();
	const char *dir = datadir ? datadir : SHIELD_DATADIR;
	static const char *const files[][2] = {{"shortener", "shorteners.txt"},
					       {"free hosting", "freehosting.txt"}};
	for (size_t i = 0; i < 2; i++) {
		size_t len = strlen(dir) + strlen(files[i][0]) + strlen(files[i][1]) + 4;
		char *spec = xmalloc(len);
		snprintf(spec, len, "%s=%s/%s", files[i][0], dir, files[i][1]);
		int rc = lists_add_bad(cc->hosts, spec, err);
		free(spec);
		if (rc < 0)
			return content_checker_free(cc);
	}
	return cc;
}

struct content_checker *content_checker_free(struct content_checker *cc)
{
	if (!cc)
		return NULL;
	free(cc->tab);
	lists_free(cc->hosts);
	free(cc);
	return NULL;
}

const char *content_flag_name(unsigned i)
{
	return i < CF_NFLAGS ? flag_names[i] : "?";
}

const char *content_host_kind(const struct content_checker *cc, const char *host)
{
	return lists_bad_host(cc->hosts, host);
}

const char *content_language(const struct content_checker *cc, const struct tokens *t)
{
	unsigned count[N_LANG] = {0};
	size_t n = t->n < 3000 ? t->n : 3000;
	for (size_t i = 0; i < n; i++) {
		struct slot *s = tab_slot(cc, t->v[i].h ^ 0xa5a5a5a5a5a5ull, 0);
		if (!s)
			continue;
		for (unsigned l = 0; l < N_LANG; l++)
			if (s->langs & (1u << l))
				count[l]++;
	}
	unsigned best = 0, second = 0;
	for (unsigned l = 1; l < N_LANG; l++)
		if (count[l] > count[best])
			best = l;
	for (unsigned l = 0; l < N_LANG; l++)
		if (l != best && count[l] > second)
			second = count[l];
	if (count[best] < 3 || count[best] * 4 < second * 5)
		return NULL; /* too few stop words, or no clear winner */
	return lang_names[best];
}

/* ---- signals ---- */

static const char *ext_of(const char *name)
{
	if (!name)
		return NULL;
	const char *slash = strrchr(name, '/');
	if (slash)
		name = slash + 1;
	const char *dot = strrchr(name, '.');
	return dot && dot[1] ? dot + 1 : NULL;
}

static int in_words(const char *w, const char *list)
{
	if (!w)
		return 0;
	size_t n = strlen(w);
	if (!n || n > 16)
		return 0;
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, " ");
		if (k == n && !strncasecmp(p, w, n))
			return 1;
		p += k;
		while (*p == ' ')
			p++;
	}
	return 0;
}

static const char EXT_EXEC[] = "exe scr com bat cmd ps1 psm1 msi msix appx pif cpl jar js jse vbs "
			       "vbe wsf wsh hta lnk iso img vhd vhdx reg dll chm url "
			       "mobileconfig application xll";
static const char EXT_MACRO[] = "docm xlsm pptm dotm xltm xlam ppam potm sldm xlsb";
static const char EXT_HTML[] = "html htm shtml xhtml mht mhtml";
static const char EXT_OLE[] = "doc xls ppt dot xlt pps";

/* name_kind - CF_* flag for a file name (0: not risky). */
static unsigned name_kind(const char *name)
{
	const char *e = ext_of(name);
	if (in_words(e, EXT_EXEC))
		return CF_ATTACH_EXEC;
	if (in_words(e, EXT_MACRO))
		return CF_ATTACH_MACRO;
	if (in_words(e, EXT_HTML))
		return CF_ATTACH_HTML;
	if (in_words(e, EXT_OLE))
		return CF_ATTACH_OLE;
	return 0;
}

static unsigned type_kind(const char *t)
{
	if (!t)
		return 0;
	static const char *const exec[] = {"application/x-dosexec",
					   "application/x-msdownload",
					   "application/x-ms-shortcut",
					   "application/x-iso9660-image",
					   "application/x-executable",
					   "application/x-msi",
					   "application/vnd.microsoft.portable-executable",
					   "application/x-ms-installer",
					   "application/hta",
					   "text/x-msdos-batch",
					   "application/vnd.ms-htmlhelp",
					   NULL};
	for (size_t i = 0; exec[i]; i++)
		if (!strcasecmp(t, exec[i]))
			return CF_ATTACH_EXEC;
	if (!strcasecmp(t, "application/vnd.ms-word.document.macroenabled.12") ||
	    !strcasecmp(t, "application/vnd.ms-excel.sheet.macroenabled.12"))
		return CF_ATTACH_MACRO;
	if (!strcasecmp(t, "text/html"))
		return CF_ATTACH_HTML;
	if (!strcasecmp(t, "application/msword") || !strcasecmp(t, "application/vnd.ms-excel") ||
	    !strcasecmp(t, "application/vnd.ms-powerpoint") ||
	    !strcasecmp(t, "application/cdfv2") || !strcasecmp(t, "application/x-ole-storage"))
		return CF_ATTACH_OLE;
	return 0;
}

/* rank - exec > macro > html > ole, for choosing one kind per file. */
static unsigned stronger(unsigned a, unsigned b)
{
	static const unsigned order[] = {CF_ATTACH_EXEC, CF_ATTACH_MACRO, CF_ATTACH_HTML,
					 CF_ATTACH_OLE};
	for (size_t i = 0; i < 4; i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return 0;
}

static unsigned judge_attachments(struct result *r)
{
	unsigned flags = 0;
	for (size_t i = 0; i < r->attachments.n; i++) {
		const struct attachment *a = &r->attachments.v[i];
		const char *nm = a->name ? a->name : "(unnamed)";
		unsigned k = stronger(name_kind(a->name), type_kind(a->true_type));
		const char *inner = NULL;
		for (size_t j = 0; j < a->n_entries && !k; j++) {
			unsigned ek = name_kind(a->entries[j]);
			if (ek == CF_ATTACH_EXEC || ek == CF_ATTACH_MACRO || ek == CF_ATTACH_HTML) {
				k = ek;
				inner = a->entries[j];
			}
		}
		if (a->encrypted && !(flags & CF_ATTACH_ENCRYPTED)) {
			flags |= CF_ATTACH_ENCRYPTED;
			result_reason(r, "attach.encrypted_archive", 35,
				      "%s is a password-protected archive", nm);
		}
		if (!k || (flags & k))
			continue;
		flags |= k;
		const char *tt = a->true_type ? a->true_type : "?";
		if (k == CF_ATTACH_EXEC)
			result_reason(r, "attach.executable", 50,
				      inner ? "%s contains %s"
					    : "%s (%s): executable, script, "
					      "shortcut or disk image",
				      nm, inner ? inner : tt);
		else if (k == CF_ATTACH_MACRO)
			result_reason(r, "attach.macro", 40,
				      inner ? "%s contains %s" : "%s (%s): macro-enabled document",
				      nm, inner ? inner : tt);
		else if (k == CF_ATTACH_HTML)
			result_reason(r, "attach.html", 25,
				      inner ? "%s contains %s"
					    : "%s (%s): HTML file, opens a local page (often a "
					      "fake login form)",
				      nm, inner ? inner : tt);
		else
			result_reason(r, "attach.office_legacy", 8,
				      "%s (%s): legacy Office document, may carry macros", nm, tt);
	}
	if (!(flags & CF_ATTACH_ENCRYPTED) && result_has_finding(r, "archive.encrypted")) {
		flags |= CF_ATTACH_ENCRYPTED;
		result_reason(r, "attach.encrypted_archive", 35,
			      "an attached archive is password-protected");
	}
	return flags;
}

/* sender_domain - the registrable domain of the From address, or NULL. */
static const char *sender_domain(const struct result *r)
{
	for (size_t i = 0; i < r->domains.n; i++)
		if (r->domains.v[i].found_in && !strcmp(r->domains.v[i].found_in, "header:from"))
			return r->domains.v[i].reg_domain ? r->domains.v[i].reg_domain
							  : r->domains.v[i].value;
	const char *at = r->from ? strrchr(r->from, '@') : NULL;
	return at ? at + 1 : NULL;
}

static int is_link(const struct ind_url *u)
{
	return u->found_in &&
	       (!strcmp(u->found_in, "html:href") || !strcmp(u->found_in, "text") ||
		!strcmp(u->found_in, "html:text") || !strcmp(u->found_in, "html:action"));
}

static unsigned judge_urls(const struct content_checker *cc, struct result *r)
{
	unsigned flags = 0;
	const char *from = sender_domain(r);
	size_t n_short = 0, n_free = 0;
	const char *first_short = NULL, *first_free = NULL;
	for (size_t i = 0; i < r->urls.n; i++) {
		const struct ind_url *u = &r->urls.v[i];
		if (u->found_in && !strcmp(u->found_in, "html:action") &&
		    !(flags & CF_FORM_OFFSITE)) {
			const char *d = u->reg_domain ? u->reg_domain : u->host;
			if (!from || !d || strcasecmp(from, d)) {
				flags |= CF_FORM_OFFSITE;
				result_reason(
				    r, "form.offsite", 25,
				    "a form in the message posts to %s, not to the sender's "
				    "domain %s",
				    d ? d : "?", from ? from : "(none)");
			}
		}
		if (!is_link(u) || !u->host)
			continue;
		const char *kind = content_host_kind(cc, u->host);
		if (!kind)
			continue;
		if (!strcmp(kind, "shortener")) {
			if (!n_short++)
				first_short = u->host;
		} else if (!n_free++) {
			first_free = u->host;
		}
	}
	if (n_short) {
		flags |= CF_SHORTENER;
		result_reason(r, "url.shortener", 8, "%zu link%s through URL shorteners, e.g. %s",
			      n_short, n_short > 1 ? "s" : "", first_short);
	}
	if (n_free) {
		flags |= CF_FREE_HOSTING;
		result_reason(r, "url.free_hosting", 12, "%zu link%s to free web hosting, e.g. %s",
			      n_free, n_free > 1 ? "s" : "", first_free);
	}
	if (result_has_finding(r, "url.data_uri")) {
		flags |= CF_DATA_URI;
		result_reason(r, "url.data_uri", 10,
			      "a data: URI in the HTML (content that bypasses link checks)");
	}
	if (result_has_finding(r, "url.javascript")) {
		flags |= CF_JS_URI;
		result_reason(r, "url.javascript", 15, "a javascript: link in the HTML");
	}
	return flags;
}

unsigned content_judge(const struct content_checker *cc, const struct tokens *t, struct result *r)
{
	unsigned pts[N_CAT] = {0};
	uint64_t seen[MAX_PHRASES / 64] = {0};
	const char *first[N_CAT][3] = {{0}};
	unsigned nfirst[N_CAT] = {0};
	for (size_t i = 0; i < t->n; i++) {
		uint64_t k = t->v[i].h;
		for (size_t n = 1; n <= MAX_PHRASE_WORDS && i + n <= t->n; n++) {
			if (n > 1) {
				if (t->v[i + n - 1].seg_start ||
				    t->v[i + n - 1].subject != t->v[i].subject)
					break;
				k = phrase_mix(k, t->v[i + n - 1].h);
			}
			struct slot *s = tab_slot(cc, k ^ n, 0);
			if (!s || !s->phrase)
				continue;
			uint32_t p = s->phrase - 1;
			if (seen[p / 64] & (1ull << (p % 64)))
				continue;
			seen[p / 64] |= 1ull << (p % 64);
			unsigned c = phrases[p].cat;
			pts[c] += phrases[p].pts;
			if (nfirst[c] < 3)
				first[c][nfirst[c]++] = phrases[p].text;
		}
	}
	unsigned flags = 0;
	for (unsigned c = 0; c < N_CAT; c++) {
		if (pts[c] < 2)
			continue;
		flags |= cats[c].flag;
		char d[256];
		size_t o = 0;
		for (unsigned j = 0; j < nfirst[c] && o < sizeof(d); j++) {
			int w =
			    snprintf(d + o, sizeof(d) - o, "%s\"%s\"", j ? ", " : "", first[c][j]);
			if (w < 0)
				break;
			o += (size_t)w;
		}
		result_reason(r, cats[c].code, cats[c].weight, "wording: %s", d);
	}
	if (t->styled >= 3) {
		flags |= CF_STYLED;
		result_reason(r, "content.styled_text", 10,
			      "%zu letters written as mathematical or fullwidth symbols (dodges "
			      "word filters)",
			      t->styled);
	}
	flags |= judge_attachments(r);
	flags |= judge_urls(cc, r);
	return flags;
}
