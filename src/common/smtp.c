/*
 * smtp.c - see smtp.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/smtp.h"

struct upload {
	const unsigned char *p;
	size_t len, pos;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ctx)
{
	struct upload *u = ctx;
	size_t room = size * nmemb, left = u->len - u->pos;
	size_t n = left < room ? left : room;
	memcpy(dst, u->p + u->pos, n);
	u->pos += n;
	return n;
}

enum smtp_result smtp_send(const struct curl_api *cu, const struct smtp_opts *o, const char *rcpt,
			   const void *msg, size_t len, char *why, size_t whysz)
{
	CURL *c = cu->easy_init();
	if (!c) {
		snprintf(why, whysz, "cannot start libcurl");
		return SMTP_TEMP;
	}
	struct upload u = {msg, len, 0};
	char ebuf[CURL_ERROR_SIZE] = "";
	char fromarg[300], rcptarg[300];
	snprintf(fromarg, sizeof fromarg, "<%s>", o->from);
	snprintf(rcptarg, sizeof rcptarg, "<%s>", rcpt);
	struct curl_slist *rcpts = cu->slist_append(NULL, rcptarg);
	cu->easy_setopt(c, CURLOPT_URL, o->url);
	cu->easy_setopt(c, CURLOPT_MAIL_FROM, fromarg);
	cu->easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	cu->easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	cu->easy_setopt(c, CURLOPT_READDATA, &u);
	cu->easy_setopt(c, CURLOPT_UPLOAD, 1L);
	cu->easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	if (o->connect_timeout_ms)
		cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	if (o->timeout_ms)
		cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (o->tls)
		cu->easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	const char *user = getenv("SHIELD_SMTP_USER"), *pass = getenv("SHIELD_SMTP_PASS");
	if (user && *user) {
		cu->easy_setopt(c, CURLOPT_USERNAME, user);
		cu->easy_setopt(c, CURLOPT_PASSWORD, pass ? pass : "");
	}
	CURLcode rc = cu->easy_perform(c);
	long code = 0;
	cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	cu->slist_free_all(rcpts);
	cu->easy_cleanup(c);
	if (rc == CURLE_OK)
		return SMTP_OK;
	snprintf(why, whysz, "%ld %s", code, ebuf[0] ? ebuf : cu->easy_strerror(rc));
	if (code >= 500 && code < 600)
		return SMTP_PERM;
	return SMTP_TEMP;
}
