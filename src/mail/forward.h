/*
 * forward.h - find a message forwarded inline inside a citizen's report.
 *
 * Mail clients forward inline in their own style and language: Gmail
 * ("---------- Forwarded message ---------" then From:/Date:/Subject:/To:),
 * Outlook desktop and web ("-----Original Message-----" or a bare
 * "From: ... Sent: ... To: ... Subject:" block, often after a "____" rule),
 * Apple Mail ("Begin forwarded message:"), Thunderbird ("-------- Forwarded
 * Message --------" then "Subject:/Date:/From:/To:"), in English, Dutch,
 * French and German ("Doorgestuurd bericht", "Message transféré",
 * "Weitergeleitete Nachricht", "Oorspronkelijk bericht", "Message d'origine",
 * "Ursprüngliche Nachricht"; "Van:/De:/Von:", "Verzonden:/Envoyé :/Gesendet:",
 * "Onderwerp:/Objet :/Betreff:", "Aan:/À :/An:", "Datum:/Date :"...).
 *
 * The input is the visible text of the reporter's message (UTF-8; HTML
 * already turned to text by html_to_text). Lines may be quoted with "> ".
 * Everything returned lives in the given arena.
 */
#ifndef SHIELD_FORWARD_H
#define SHIELD_FORWARD_H
#include <stddef.h>

#include "common/arena.h"

struct inline_forward {
	const char *style;    /* "gmail", "outlook", "apple", "thunderbird", "generic" */
	const char *language; /* "en", "nl", "fr", "de" as detected from the labels */
	char *from;	      /* header values as written, trimmed; NULL if absent */
	char *from_addr;      /* the address inside from (no display name), or NULL */
	char *from_name;      /* display name inside from, or NULL */
	char *date;
	char *subject;
	char *to;
	char *reply_to;
	char *cc;
	char *body; /* the original message's body text (quote marks removed) */
	size_t body_len;
	size_t marker_offset; /* byte offset of the marker/header block in the input */
	const char *before;   /* the reporter's own comment before the forward, in arena */
};

/* forward_find_inline - detect an inline-forwarded message in text.
 * Returns 1 and fills *out if a forward header block with at least a sender
 * (From/Van/De/Von) and one of subject or date was found; 0 otherwise.
 * Scans at most SHIELD_MAX_FWD_SCAN_BYTES; linear in the input; never
 * allocates more than a small multiple of the input. Nested forwards: the
 * innermost (deepest) forwarded block is returned, since that is the
 * original suspicious message. */
int forward_find_inline(struct arena *a, const char *text, size_t len, struct inline_forward *out);

#endif
