/*
 * fuzz_feed.c - the feed line parser (feed_parser_line) on arbitrary bytes:
 * the input is split into lines and fed to one parser, so the first line
 * chooses the format (CSV header, IP list or JSON Lines) as in a real file.
 * Invariants: the result is -1, 0 or 1; -1 always says why; an event has
 * a non-empty type, labels of at most FEED_MAX_LABEL bytes from
 * [a-z0-9._:-], a port in 0..65535, and an address that formats and
 * parses back to itself. feed_parse_time never reads past n.
 * No state survives between inputs (the parser is freed each time).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/asn.h"
#include "feed/feed.h"

static void check_label(const char *s, int may_be_empty)
{
	size_t n = strnlen(s, FEED_MAX_LABEL + 1);
	if (n > FEED_MAX_LABEL || (!may_be_empty && n == 0))
		abort();
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == ':'))
			abort();
	}
}

static void check_event(const struct feed_event *ev)
{
	check_label(ev->type, 0);
	check_label(ev->source, 1);
	check_label(ev->tlp, 1);
	if (ev->port < 0 || ev->port > 65535)
		abort();
	char ip[64];
	struct asn_ip back;
	asn_format_ip(&ev->ip, ip, sizeof ip);
	if (asn_parse_ip(ip, strlen(ip), &back) || back.v6 != ev->ip.v6)
		abort();
	if (back.v6 ? (back.a6.hi != ev->ip.a6.hi || back.a6.lo != ev->ip.a6.lo)
		    : back.v4 != ev->ip.v4)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FEED_MAX_LINE)
		return 0;
	/* a private, writable copy: the parser unquotes fields in place */
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	int64_t t;
	(void)feed_parse_time(buf, size, &t);
	struct feed_parser *p = feed_parser_new("2024-06-01-scan_smb-fuzz.csv", NULL, 1);
	size_t i = 0;
	while (i <= size) {
		char *nl = memchr(buf + i, '\n', size - i);
		size_t len = nl ? (size_t)(nl - (buf + i)) : size - i;
		char *line = buf + i;
		line[len] = '\0';
		struct feed_event ev;
		char why[300] = "";
		int k = feed_parser_line(p, line, len, &ev, why, sizeof why);
		if (k < -1 || k > 1)
			abort();
		if (k < 0 && !why[0])
			abort();
		if (k == 1)
			check_event(&ev);
		i += len + 1;
	}
	feed_parser_free(p);
	free(buf);
	return 0;
}
