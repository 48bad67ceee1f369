/*
 * send.h - build and deliver notification batches.
 *
 * Delivery state machine per batch (store_notify.h): a batch is created
 * and its message frozen in one transaction (ticket, Message-ID, bytes);
 * then pending -> sending (committed before the SMTP dialogue) -> sent on
 * 2xx, retry on 4xx/connection errors (next_attempt with exponential
 * back-off), failed on 5xx (and the address goes to the bounce table).
 * A batch found in "sending" at start was interrupted by a crash: whether
 * the server accepted it cannot be known, so it is sent again with the
 * same Message-ID (receivers and ticket systems de-duplicate on it).
 * Ownership: the caller owns the store and contacts.
 */
#ifndef SHIELD_SEND_H
#define SHIELD_SEND_H
#include <stddef.h>
#include <stdint.h>

struct store;
struct contacts;
struct buf;
struct asn_table;

struct send_opts {
	const char *smtp_url;	 /* NULL: $SHIELD_SMTP_URL or smtp://127.0.0.1:25 */
	const char *from;	 /* NULL: $SHIELD_NOTIFY_FROM or abuse-notify@localhost */
	const char *org;	 /* NULL: "Shield CERT" */
	const char *templates;	 /* NULL: $SHIELD_TEMPLATES or the shipped ones */
	const char *dry_run_dir; /* write TICKET.eml files instead of SMTP */
	int retry_now;		 /* batches in "retry" are due now, back-off or not */
	int xarf;		 /* XARF for every batch, not only csv+xarf contacts */
	int tls;		 /* require STARTTLS */
	int max_tries;		 /* attempts per run */
	int backoff;		 /* first wait in seconds, doubling */
	int json;
	const struct asn_table *names; /* AS names for {{as_name}}; NULL: "-" */
};

typedef void (*send_warn_fn)(void *ctx, const char *msg);

/* notify_send - freeze every due batch, then deliver every pending one.
 * Returns a SHIELD_EXIT_* status. */
int notify_send(struct store *st, const struct contacts *c, const struct send_opts *o,
		send_warn_fn warn, void *ctx);

/* Building blocks, exposed for the unit tests. */

/* mime_encode_header - value as RFC 2047 encoded words when it is not
 * plain printable ASCII; name is the header name (for folding). */
void mime_encode_header(struct buf *out, const char *name, const char *value);
/* xarf_type_of - the XARF v4 category/type for a feed event type. */
void xarf_type_of(const char *event_type, const char **category, const char **type);
/* template_render - replace {{name}} from the vars (names[i] -> vals[i]);
 * unknown names are left as they are. */
void template_render(struct buf *out, const char *tpl, const char *const *names,
		     const char *const *vals, int n);

#endif
