/*
 * smtp.h - hand one ready-made message to an SMTP server with libcurl
 * (loaded through lazylib.h). Used by `notify send` (the abuse-contact
 * batches) and by the campaign alerts' e-mail; each sets its own timeouts.
 *
 * Ownership: nothing is kept; the caller owns the message, the handle and
 * every string. Threads: a call uses only its arguments.
 * Credentials: $SHIELD_SMTP_USER and $SHIELD_SMTP_PASS when set (the
 * operator's relay), read at each call.
 */
#ifndef SHIELD_SMTP_H
#define SHIELD_SMTP_H
#include <stddef.h>

#include "common/lazylib.h"

enum smtp_result {
	SMTP_OK,
	SMTP_TEMP, /* 4xx, or no answer (connection, timeout): try again later */
	SMTP_PERM  /* 5xx: this recipient or message will not be taken */
};

struct smtp_opts {
	const char *url;	 /* smtp:// or smtps:// of the operator's relay */
	const char *from;	 /* envelope sender, a plain address */
	long connect_timeout_ms; /* 0: libcurl's default */
	long timeout_ms;	 /* whole transaction; 0: none */
	int tls;		 /* require STARTTLS on smtp:// */
};

/* smtp_send - MAIL FROM o->from, RCPT TO rcpt, DATA msg (len bytes, CRLF
 * lines, headers included). On failure why says what the server or
 * libcurl answered ("550 ..." or the libcurl error). */
enum smtp_result smtp_send(const struct curl_api *cu, const struct smtp_opts *o, const char *rcpt,
			   const void *msg, size_t len, char *why, size_t whysz);

#endif
