/*
 * content.h - what a message says and carries: the content signals of the
 * verdict stage, and the tokens the model reads.
 *
 * Tokens: the subject and the first SHIELD_MAX_VERDICT_TEXT bytes of the
 * visible body, split into words once (letters only, ASCII and Latin-1
 * upper case folded, 2-30 bytes). Words with digits, e-mail addresses and
 * URLs are dropped: they carry dates, recipients and collection artefacts
 * (the honeypot's anonymised "phishing@pot"), not intent. Nothing from the
 * headers but the subject is ever read.
 *
 * Signals (reasons appended to the result): wording tables in EN/NL/FR/DE
 * for credential requests, urgency, payment, prizes/lottery, advance fee
 * and extortion (phrases of 1-4 words matched by hash, one pass); risky
 * attachments by name and libmagic type (HTML, disk images, shortcuts,
 * scripts, executables, macro documents, encrypted archives, risky names
 * inside archives); forms posting off-site; URL shorteners and free hosting
 * (data/shorteners.txt, data/freehosting.txt); data: and javascript: links
 * (findings of the extract stage). Language: en/nl/fr/de/es/pt from
 * stop-word counts, NULL when unsure.
 *
 * The checker is read-only after content_checker_new(): share it between
 * threads. Tokens are per message, owned by struct tokens.
 */
#ifndef SHIELD_CONTENT_H
#define SHIELD_CONTENT_H
#include <stddef.h>
#include <stdint.h>

#include "extract/result.h"

struct text_tok {
	uint32_t off; /* into tokens.buf */
	uint16_t len;
	uint8_t subject;   /* from the subject */
	uint8_t seg_start; /* first word of a segment: phrases never span it */
	uint64_t h;	   /* hash of the word */
};

struct tokens {
	char *buf; /* lower-cased words, each NUL-terminated */
	size_t len, cap;
	struct text_tok *v;
	size_t n, vcap;
	size_t styled; /* letters written as math/fullwidth symbols, folded */
};

/* tokens_make - split subject and body (either may be NULL) into words;
 * t is initialised here. Release with tokens_release(). */
void tokens_make(struct tokens *t, const char *subject, const char *body);
void tokens_release(struct tokens *t);
/* tokens_hash - the word hash tokens_make uses. */
uint64_t tokens_hash(const char *s, size_t n);

/* Signals found, for the engine's class decision and the model. */
enum {
	CF_CREDENTIAL = 1u << 0,
	CF_URGENCY = 1u << 1,
	CF_PAYMENT = 1u << 2,
	CF_PRIZE = 1u << 3,
	CF_ADVFEE = 1u << 4,
	CF_EXTORTION = 1u << 5,
	CF_ATTACH_EXEC = 1u << 6,  /* executable, script, shortcut, disk image */
	CF_ATTACH_MACRO = 1u << 7, /* macro-enabled or legacy OLE document */
	CF_ATTACH_HTML = 1u << 8,
	CF_ATTACH_ENCRYPTED = 1u << 9,
	CF_FORM_OFFSITE = 1u << 10,
	CF_SHORTENER = 1u << 11,
	CF_FREE_HOSTING = 1u << 12,
	CF_DATA_URI = 1u << 13,
	CF_JS_URI = 1u << 14,
	CF_ATTACH_OLE = 1u << 15,
	CF_STYLED = 1u << 16, /* mathematical/fullwidth letters */
	CF_NFLAGS = 17,
};
/* content_flag_name - "credential", "urgency", ... for bit i. */
const char *content_flag_name(unsigned i);

struct content_checker;

/* content_checker_new - build the wording tables and load the host lists
 * from datadir (NULL: the bundled data folder). NULL and *err on failure. */
struct content_checker *content_checker_new(const char *datadir, char **err);
struct content_checker *content_checker_free(struct content_checker *cc);

/* content_judge - append the content reasons to r; returns CF_* flags. */
unsigned content_judge(const struct content_checker *cc, const struct tokens *t, struct result *r);

/* content_language - "en", "nl", "fr", "de", "es", "pt" or NULL. */
const char *content_language(const struct content_checker *cc, const struct tokens *t);

/* content_host_kind - "shortener", "free hosting" or NULL for a host. */
const char *content_host_kind(const struct content_checker *cc, const char *host);

#endif
