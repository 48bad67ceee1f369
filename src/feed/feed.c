/*
 * feed.c - feed parsing and incident folding (see feed.h).
 *
 * Hot path (a million-line Shadowserver CSV): plain files are read from a
 * read-only mapping (compressed ones and pipes through zreader), lines
 * are never written to (a line with quoted fields is copied first), CSV
 * splitting stops at the last column we use, a timestamp of the same day
 * as the one before parses only its clock, labels are interned once per
 * distinct raw value, and events fold into an open-addressing hash keyed
 * by (IP, type) in memory. The store is touched once per run: one query
 * for incidents still open inside the window, then one transaction of
 * inserts and updates. A run that fails before the commit writes nothing.
 * Threads (pthreads, only when the process may use a second CPU): the
 * SHA-256 of a mapped file of 1 MiB or more is computed on a helper
 * thread while the file is parsed, and a file of 4 MiB or more is parsed
 * on a second helper thread while this one looks up and folds, batch by
 * batch in file order; a duplicate found by the late hash is taken back
 * out (undo log). The helpers touch only the mapping and their own
 * structs; the run, the table of incidents and the store stay on the
 * calling thread.
 * Incident rule: an event joins an incident of the same IP and type if
 * the incident would still span at most the window; otherwise it opens
 * a new incident. Events joining an incident already notified are
 * counted on it and do not cause a new notification.
 * No global state; every limit is in common/limits.h.
 */
#include "feed/feed.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "enrich/asn_io.h"
#include "store/store.h"
#include "store/store_notify.h"

#define MAX_COLS 256

enum col { C_IP, C_TIME, C_PORT, C_TYPE, C_TAG, C_HOST, C_ASN, C_TLP, C_SOURCE, C_N };

struct feed_parser {
	enum feed_format fmt;
	char sep;
	int col[C_N]; /* -1 = absent */
	int maxcol;
	char default_type[FEED_MAX_LABEL + 1];
	int64_t default_time;
	char last_ts[40];
	size_t last_ts_len;
	int64_t last_ts_val;
	/* the day of the last "YYYY-MM-DD hh:mm:ss" time: a feed of one day
	 * then parses only the clock part of each line */
	char day[10];
	int64_t day_val; /* INT64_MIN: none yet */
	/* lines are read-only (mapped files); a line that must be changed
	 * (quoted CSV fields, the header) is copied here first */
	char *scratch;
	size_t scratch_cap;
	/* JSON Lines labels, reduced, valid until the next line */
	char jtype[FEED_MAX_LABEL + 1], jtlp[FEED_MAX_LABEL + 1], jsrc[FEED_MAX_LABEL + 1];
};

/* raw_event - one parsed line before its labels are reduced: type, tlp and
 * source point into the line (or the parser) and are valid until the next
 * line; length 0 means absent or empty. */
struct raw_event {
	int64_t time;
	struct asn_ip ip;
	int port;
	uint32_t feed_asn;
	const char *type, *tlp, *source;
	size_t type_len, tlp_len, source_len;
};

void feed_label(char *dst, const char *s, size_t n)
{
	size_t w = 0;
	while (n && (*s == ' ' || *s == '"')) {
		s++;
		n--;
	}
	for (size_t i = 0; i < n && w < FEED_MAX_LABEL; i++) {
		unsigned char c = (unsigned char)tolower((unsigned char)s[i]);
		if (isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':')
			dst[w++] = (char)c;
		else if (c == ' ' || c == '/')
			dst[w++] = '_';
		else if (c == ';' || c == ',')
			break; /* first of a list ("tag1;tag2") */
	}
	while (w && dst[w - 1] == '_')
		w--;
	dst[w] = '\0';
}

/* type_from_name - "2019-09-04-scan_smb-be-geo.csv" -> "scan_smb",
 * "test_smb.csv" -> "test_smb": Shadowserver names its files by report. */
static void type_from_name(char *dst, const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	if (strlen(b) > 11 && isdigit((unsigned char)b[0]) && b[4] == '-' && b[7] == '-' &&
	    b[10] == '-')
		b += 11;
	size_t n = 0;
	while (b[n] && b[n] != '.' && !(b[n] == '-' && n > 0))
		n++;
	feed_label(dst, b, n);
	if (!dst[0])
		snprintf(dst, FEED_MAX_LABEL + 1, "unknown");
}

struct feed_parser *feed_parser_new(const char *path, const char *default_type,
				    int64_t default_time)
{
	struct feed_parser *p = xcalloc(1, sizeof *p);
	for (int i = 0; i < C_N; i++)
		p->col[i] = -1;
	if (default_type && *default_type)
		feed_label(p->default_type, default_type, strlen(default_type));
	else
		type_from_name(p->default_type, path ? path : "feed");
	p->default_time = default_time;
	p->day_val = INT64_MIN;
	return p;
}

void feed_parser_free(struct feed_parser *p)
{
	if (!p)
		return;
	free(p->scratch);
	free(p);
}

/* writable_copy - the line in the parser's scratch buffer, NUL-terminated. */
static char *writable_copy(struct feed_parser *p, const char *line, size_t len)
{
	if (p->scratch_cap < len + 1) {
		p->scratch_cap = len + 1 > 4096 ? len + 1 : 4096;
		free(p->scratch);
		p->scratch = xmalloc(p->scratch_cap);
	}
	memcpy(p->scratch, line, len);
	p->scratch[len] = '\0';
	return p->scratch;
}

enum feed_format feed_parser_format(const struct feed_parser *p)
{
	return p->fmt;
}

/* days_from_civil - Howard Hinnant's algorithm: no timegm() and no TZ. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int feed_parse_time(const char *s, size_t n, int64_t *out)
{
	while (n && (*s == ' ' || *s == '"')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '"'))
		n--;
	if (n == 0)
		return -1;
	size_t i = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == n && n <= 11) { /* Unix seconds */
		int64_t v = 0;
		for (size_t k = 0; k < n; k++)
			v = v * 10 + (s[k] - '0');
		*out = v;
		return 0;
	}
	int Y, M, D, h = 0, mi = 0, sec = 0;
	if (n < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &Y) || digits(s + 5, 2, &M) ||
	    digits(s + 8, 2, &D) || M < 1 || M > 12 || D < 1 || D > 31)
		return -1;
	i = 10;
	if (i < n && (s[i] == ' ' || s[i] == 'T' || s[i] == 't')) {
		i++;
		if (i + 5 > n || s[i + 2] != ':' || digits(s + i, 2, &h) ||
		    digits(s + i + 3, 2, &mi))
			return -1;
		i += 5;
		if (i < n && s[i] == ':') {
			if (i + 3 > n || digits(s + i + 1, 2, &sec))
				return -1;
			i += 3;
		}
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			i++;
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
	}
	int64_t off = 0;
	while (i < n && s[i] == ' ')
		i++;
	if (i < n) {
		if (s[i] == 'Z' || s[i] == 'z') {
			i++;
		} else if (n - i >= 3 && !strncasecmp(s + i, "UTC", 3)) {
			i += 3;
		} else if (s[i] == '+' || s[i] == '-') {
			int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
			i++;
			if (i + 2 > n || digits(s + i, 2, &oh))
				return -1;
			i += 2;
			if (i < n && s[i] == ':')
				i++;
			if (i + 2 <= n && digits(s + i, 2, &om) == 0)
				i += 2;
			off = sign * (oh * 3600 + om * 60);
		}
	}
	if (i != n)
		return -1;
	*out =
	    days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
}

static int col_of(const char *h)
{
	static const struct {
		const char *name;
		int col;
	} map[] = {
	    {"ip", C_IP},
	    {"src_ip", C_IP},
	    {"source.ip", C_IP},
	    {"source_ip", C_IP},
	    {"ip_address", C_IP},
	    {"ipaddress", C_IP},
	    {"timestamp", C_TIME},
	    {"time", C_TIME},
	    {"time.source", C_TIME},
	    {"datetime", C_TIME},
	    {"date", C_TIME},
	    {"event_time", C_TIME},
	    {"first_seen", C_TIME},
	    {"port", C_PORT},
	    {"src_port", C_PORT},
	    {"source.port", C_PORT},
	    {"source_port", C_PORT},
	    {"type", C_TYPE},
	    {"classification.type", C_TYPE},
	    {"report_type", C_TYPE},
	    {"infection", C_TYPE},
	    {"event_type", C_TYPE},
	    {"category", C_TYPE},
	    {"tag", C_TAG},
	    {"hostname", C_HOST},
	    {"source.fqdn", C_HOST},
	    {"fqdn", C_HOST},
	    {"asn", C_ASN},
	    {"source.asn", C_ASN},
	    {"src_asn", C_ASN},
	    {"tlp", C_TLP},
	    {"feed.name", C_SOURCE},
	    {"feed", C_SOURCE},
	    {"source", C_SOURCE},
	};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (!strcasecmp(h, map[i].name))
			return map[i].col;
	return -1;
}

static int is_ip_token(const char *s, size_t n)
{
	struct asn_ip ip;
	size_t k = 0;
	while (k < n && s[k] != ' ' && s[k] != '\t' && s[k] != ',' && s[k] != ';' && s[k] != '#')
		k++;
	return asn_parse_ip(s, k, &ip) == 0;
}

/* detect - decide the format from the first line that is not blank or a
 * comment; a CSV header is consumed here. Returns 0 if the line was a
 * header (no event), 1 if it is data to parse, -1 if unrecognised. */
static int detect(struct feed_parser *p, const char *cline, size_t len, char *why, size_t whylen)
{
	if (cline[0] == '{') {
		p->fmt = FEED_JSONL;
		return 1;
	}
	if (is_ip_token(cline, len)) {
		p->fmt = FEED_IPLIST;
		return 1;
	}
	char *line = writable_copy(p, cline, len);
	p->sep = (memchr(line, '\t', len) && !memchr(line, ',', len)) ? '\t' : ',';
	char *f[MAX_COLS];
	size_t fl[MAX_COLS];
	int nf = csv_split(line, len, p->sep, f, fl, MAX_COLS);
	for (int i = 0; i < nf; i++) {
		char h[64];
		size_t n = fl[i] < sizeof h - 1 ? fl[i] : sizeof h - 1;
		memcpy(h, f[i], n);
		h[n] = '\0';
		int c = col_of(h);
		if (c >= 0 && p->col[c] < 0) {
			p->col[c] = i;
			if (i > p->maxcol)
				p->maxcol = i;
		}
	}
	if (p->col[C_IP] < 0) {
		snprintf(why, whylen,
			 "no IP column in the header (expected one of ip, src_ip, "
			 "source.ip) and not an IP list or JSON Lines");
		return -1;
	}
	p->fmt = FEED_CSV;
	return 0;
}

/* clock_of - h:m:s of "YYYY-MM-DD?hh:mm:ss" (19 bytes, ? = ' ' or 'T'),
 * checked as feed_parse_time checks it. 0 or -1. */
static int clock_of(const char *s, int *sec_of_day)
{
	int h, mi, sec;
	if ((s[10] != ' ' && s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec) || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	*sec_of_day = h * 3600 + mi * 60 + sec;
	return 0;
}

static int get_time(struct feed_parser *p, const char *s, size_t n, int64_t *t)
{
	if (n == p->last_ts_len && n < sizeof p->last_ts && !memcmp(s, p->last_ts, n)) {
		*t = p->last_ts_val;
		return 0;
	}
	/* Shadowserver's "2024-06-01 13:26:50": same day as the last one, so
	 * only the clock differs (the same checks as feed_parse_time) */
	int sod;
	if (n == 19 && p->day_val != INT64_MIN && !memcmp(s, p->day, 10) &&
	    clock_of(s, &sod) == 0) {
		*t = p->day_val + sod;
		return 0;
	}
	if (feed_parse_time(s, n, t))
		return -1;
	if (n == 19 && s[0] >= '0' && s[0] <= '9' && s[18] >= '0' && s[18] <= '9' &&
	    clock_of(s, &sod) == 0) {
		memcpy(p->day, s, 10);
		p->day_val = *t - sod;
	}
	if (n < sizeof p->last_ts) {
		memcpy(p->last_ts, s, n);
		p->last_ts_len = n;
		p->last_ts_val = *t;
	}
	return 0;
}

static int parse_port(const char *s, size_t n, int *port)
{
	int v;
	if (n == 0) {
		*port = 0;
		return 0;
	}
	if (n > 5 || digits(s, n, &v) || v > 65535)
		return -1;
	*port = v;
	return 0;
}

static void clean_raw(struct feed_parser *p, struct raw_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->time = p->default_time;
}

/* find_sep - the first sep in line[i..len), or len. Fields are short, so
 * eight bytes at a time in a register (the zero-byte trick) beat a memchr
 * call per field; never reads past len. */
static size_t find_sep(const char *line, size_t i, size_t len, char sep)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	const uint64_t pat = ones * (unsigned char)sep;
	while (i + 8 <= len) {
		uint64_t w;
		memcpy(&w, line + i, 8);
		w ^= pat; /* a zero byte where sep is */
		uint64_t t = (w - ones) & ~w & highs;
		if (t) /* the lowest flagged byte is the first match, exactly */
			return i + (size_t)(__builtin_ctzll(t) >> 3);
		i += 8;
	}
#endif
	while (i < len && line[i] != sep)
		i++;
	return i;
}

/* split_plain - csv_split without writing: the first max fields of a
 * line none of which starts with a quote. Returns the field count, or -2
 * when a field is quoted (the caller then splits a writable copy). */
static int split_plain(const char *line, size_t len, char sep, const char **fields, size_t *lens,
		       int max)
{
	int nf = 0;
	size_t i = 0;
	for (;;) {
		if (nf == max)
			return nf;
		if (i < len && line[i] == '"')
			return -2;
		size_t e = find_sep(line, i, len, sep);
		fields[nf] = line + i;
		lens[nf++] = e - i;
		if (e == len)
			return nf;
		i = e + 1;
	}
}

static int parse_csv(struct feed_parser *p, const char *line, size_t len, struct raw_event *ev,
		     char *why, size_t whylen)
{
	const char *f[MAX_COLS];
	size_t fl[MAX_COLS];
	int nf = split_plain(line, len, p->sep, f, fl, p->maxcol + 1);
	if (nf == -2) {
		char *w = writable_copy(p, line, len);
		nf = csv_split(w, len, p->sep, (char **)f, fl, p->maxcol + 1);
	}
	if (nf < 0) {
		snprintf(why, whylen, "unterminated quote");
		return -1;
	}
	int ci = p->col[C_IP];
	if (ci >= nf) {
		snprintf(why, whylen, "%d fields, the IP is field %d", nf, ci + 1);
		return -1;
	}
	const char *ip = f[ci];
	size_t ipl = fl[ci];
	while (ipl && ip[ipl - 1] == ' ')
		ipl--;
	while (ipl && *ip == ' ') {
		ip++;
		ipl--;
	}
	if (asn_parse_ip(ip, ipl, &ev->ip)) {
		snprintf(why, whylen, "not an IP address: '%.*s'", (int)(ipl > 60 ? 60 : ipl), ip);
		return -1;
	}
	int c = p->col[C_TIME];
	if (c >= 0 && c < nf && fl[c]) {
		if (get_time(p, f[c], fl[c], &ev->time)) {
			snprintf(why, whylen, "bad time '%.*s'", (int)(fl[c] > 40 ? 40 : fl[c]),
				 f[c]);
			return -1;
		}
	}
	c = p->col[C_PORT];
	if (c >= 0 && c < nf && parse_port(f[c], fl[c], &ev->port)) {
		snprintf(why, whylen, "bad port '%.*s'", (int)(fl[c] > 10 ? 10 : fl[c]), f[c]);
		return -1;
	}
	c = p->col[C_TYPE] >= 0 ? p->col[C_TYPE] : p->col[C_TAG];
	if (c >= 0 && c < nf) {
		ev->type = f[c];
		ev->type_len = fl[c];
	}
	c = p->col[C_ASN];
	if (c >= 0 && c < nf && fl[c]) {
		int v;
		if (fl[c] <= 9 && digits(f[c], fl[c], &v) == 0)
			ev->feed_asn = (uint32_t)v;
	}
	c = p->col[C_TLP];
	if (c >= 0 && c < nf) {
		ev->tlp = f[c];
		ev->tlp_len = fl[c];
	}
	c = p->col[C_SOURCE];
	if (c >= 0 && c < nf) {
		ev->source = f[c];
		ev->source_len = fl[c];
	}
	return 1;
}

static const char *jstr(json_t *o, const char *const *keys, size_t *n)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(o, *keys);
		if (json_is_string(v)) {
			*n = json_string_length(v);
			return json_string_value(v);
		}
	}
	return NULL;
}

static json_int_t jint(json_t *o, const char *const *keys, int *found)
{
	*found = 0;
	for (; *keys; keys++) {
		json_t *v = json_object_get(o, *keys);
		if (json_is_integer(v)) {
			*found = 1;
			return json_integer_value(v);
		}
		if (json_is_string(v)) {
			int x;
			if (json_string_length(v) <= 9 &&
			    digits(json_string_value(v), json_string_length(v), &x) == 0) {
				*found = 1;
				return x;
			}
		}
	}
	return 0;
}

/* jlabel - a JSON label reduced into the parser's buffer dst (the JSON
 * object is freed before the event is used; reducing twice changes
 * nothing). */
static void jlabel(char *dst, const char *s, size_t n, const char **out, size_t *outlen)
{
	feed_label(dst, s, n);
	*out = dst;
	*outlen = strlen(dst);
}

static int parse_json(struct feed_parser *p, const char *line, size_t len, struct raw_event *ev,
		      char *why, size_t whylen)
{
	json_error_t je;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		snprintf(why, whylen, "not a JSON object: %s", o ? "other value" : je.text);
		json_decref(o);
		return -1;
	}
	static const char *const kip[] = {"ip", "source.ip", "src_ip", "source_ip", NULL};
	static const char *const ktime[] = {"time", "timestamp", "time.source", "datetime", NULL};
	static const char *const ktype[] = {"type", "classification.type", "report_type",
					    "infection", NULL};
	static const char *const kport[] = {"port", "source.port", "src_port", NULL};
	static const char *const kasn[] = {"asn", "source.asn", NULL};
	static const char *const ktlp[] = {"tlp", NULL};
	static const char *const ksrc[] = {"feed.name", "feed", "source", NULL};
	size_t n;
	int rc = 1, found;
	const char *s = jstr(o, kip, &n);
	if (!s || asn_parse_ip(s, n, &ev->ip)) {
		snprintf(why, whylen, "no valid \"ip\" / \"source.ip\"");
		rc = -1;
		goto out;
	}
	s = jstr(o, ktime, &n);
	if (s && feed_parse_time(s, n, &ev->time)) {
		snprintf(why, whylen, "bad time '%.*s'", (int)(n > 40 ? 40 : n), s);
		rc = -1;
		goto out;
	}
	json_int_t t = jint(o, ktime, &found);
	if (found)
		ev->time = t;
	json_int_t port = jint(o, kport, &found);
	if (found) {
		if (port < 0 || port > 65535) {
			snprintf(why, whylen, "bad port");
			rc = -1;
			goto out;
		}
		ev->port = (int)port;
	}
	json_int_t asn = jint(o, kasn, &found);
	if (found && asn > 0 && asn <= (json_int_t)UINT32_MAX)
		ev->feed_asn = (uint32_t)asn;
	if ((s = jstr(o, ktype, &n)) != NULL && n)
		jlabel(p->jtype, s, n, &ev->type, &ev->type_len);
	if ((s = jstr(o, ktlp, &n)) != NULL)
		jlabel(p->jtlp, s, n, &ev->tlp, &ev->tlp_len);
	if ((s = jstr(o, ksrc, &n)) != NULL)
		jlabel(p->jsrc, s, n, &ev->source, &ev->source_len);
out:
	json_decref(o);
	return rc;
}

/* parse_line - feed_parser_line on a read-only line, labels left raw. */
static int parse_line(struct feed_parser *p, const char *line, size_t len, struct raw_event *ev,
		      char *why, size_t whylen)
{
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	size_t lead = 0;
	while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
		lead++;
	line += lead;
	len -= lead;
	if (len == 0 || line[0] == '#' || line[0] == ';')
		return 0;
	if (p->fmt == FEED_UNKNOWN) {
		int r = detect(p, line, len, why, whylen);
		if (r <= 0)
			return r;
	}
	clean_raw(p, ev);
	int k;
	switch (p->fmt) {
	case FEED_CSV:
		k = parse_csv(p, line, len, ev, why, whylen);
		break;
	case FEED_JSONL:
		k = parse_json(p, line, len, ev, why, whylen);
		break;
	case FEED_IPLIST: {
		size_t e = 0;
		while (e < len && line[e] != ' ' && line[e] != '\t' && line[e] != ',' &&
		       line[e] != ';' && line[e] != '#')
			e++;
		if (asn_parse_ip(line, e, &ev->ip)) {
			snprintf(why, whylen, "not an IP address: '%.*s'", (int)(e > 60 ? 60 : e),
				 line);
			return -1;
		}
		k = 1;
		break;
	}
	default:
		snprintf(why, whylen, "unknown format");
		return -1;
	}
	if (k > 0 && (ev->time < FEED_MIN_TIME || ev->time > FEED_MAX_TIME)) {
		snprintf(why, whylen, "time out of range (1970 to 2106): %lld",
			 (long long)ev->time);
		return -1;
	}
	return k;
}

int feed_parser_line(struct feed_parser *p, char *line, size_t len, struct feed_event *ev,
		     char *why, size_t whylen)
{
	struct raw_event r;
	int k = parse_line(p, line, len, &r, why, whylen);
	if (k <= 0)
		return k;
	ev->time = r.time;
	ev->ip = r.ip;
	ev->port = r.port;
	ev->feed_asn = r.feed_asn;
	memcpy(ev->type, p->default_type, sizeof ev->type);
	ev->source[0] = ev->tlp[0] = '\0';
	if (r.type_len) {
		char t[FEED_MAX_LABEL + 1];
		feed_label(t, r.type, r.type_len);
		if (t[0])
			memcpy(ev->type, t, sizeof t);
	}
	if (r.tlp_len)
		feed_label(ev->tlp, r.tlp, r.tlp_len);
	if (r.source_len)
		feed_label(ev->source, r.source, r.source_len);
	return 1;
}

/* ---- incidents in memory ---- */

/* inc - one incident in memory, 32 bytes (two to a cache line): a
 * million-event feed makes ~630,000 of them, touched at random by folding
 * and again by the block sort, and fresh pages are what costs most here
 * (zeroing and faults were a fifth of a feed run at 64 bytes; perf). So:
 * an IPv4 address in place, an IPv6 one (a few percent) as an index into
 * feed_run.v6; times as unsigned seconds (parse_line keeps 1970-2106);
 * label ids in 16 and 13 bits (FEED_MAX_LABELS). The store id of a merged
 * incident lives in feed_run.db_id, allocated only when merging. */
struct inc {
	uint32_t ip;	      /* IPv4 address, or index into feed_run.v6 */
	uint32_t first, last; /* Unix seconds */
	uint32_t asn;
	uint32_t events;       /* saturating */
	int32_t next;	       /* next incident with the same key, -1 */
	uint16_t type, source; /* interned label ids */
	uint16_t port;	       /* 0 = none */
	uint16_t tlp : 13;     /* interned label id */
	uint16_t v6 : 1;       /* ip is an index into feed_run.v6 */
	uint16_t dirty : 1;    /* needs writing */
	uint16_t logged : 1;   /* saved in the undo log of the file being read */
};

_Static_assert(sizeof(struct inc) == 32, "struct inc is half a cache line");

struct v6addr {
	uint64_t hi, lo;
};

/* undo - what feed_run_file needs to take a file back out of the run when
 * its hash, computed while it was parsed, shows a duplicate: the counts
 * before it and a copy of every older incident it changed (each once). */
struct undo {
	size_t ninc, nlab, nv6;
	long lost;
	int64_t min_time, max_time;
	long unrouted;
	struct undo_rec {
		size_t idx;
		struct inc old;
	} * v;
	size_t n, cap;
};

struct labels {
	char (*v)[FEED_MAX_LABEL + 1];
	size_t n, cap;
	long lost; /* labels counted as "other": the table was full */
};

struct feed_run {
	struct store *st;
	const struct asn_table *t;
	struct feed_opts o;
	feed_warn_fn warn;
	void *ctx;
	struct inc *inc;
	size_t ninc, capinc;
	struct v6addr *v6; /* addresses of IPv6 incidents (inc.ip) */
	size_t nv6, capv6;
	struct slot {
		int32_t idx;  /* head incident of the key, -1 empty */
		uint32_t tag; /* high hash bits: most probes end without touching inc[] */
	} * slots;
	size_t nslots;
	struct labels lab;
	int64_t min_time, max_time;
	double t_parse, t_store;
	struct {
		char sha[65];
		char *path;
		char source[FEED_MAX_LABEL + 1];
		long lines, events, bad;
	} * files;
	size_t nfiles;
	long unrouted;
	struct undo undo;
	int64_t *db_id; /* per incident: 0 new, else the stored row or block
			 * incident it was merged into; NULL until a merge */
};

static uint32_t intern(struct labels *l, const char *s)
{
	/* few distinct labels per run (types, sources, TLP): linear is fine,
	 * and the last hit is checked first */
	for (size_t i = l->n; i-- > 0;)
		if (!strcmp(l->v[i], s))
			return (uint32_t)i;
	if (l->n >= FEED_MAX_LABELS - 1 && strcmp(s, "other")) {
		/* a hostile feed can make a label of every line: the last id
		 * is kept for "other" */
		l->lost++;
		return intern(l, "other");
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	snprintf(l->v[l->n], sizeof l->v[l->n], "%s", s);
	return (uint32_t)l->n++;
}

static void inc_set_ip(struct feed_run *r, struct inc *x, const struct asn_ip *ip)
{
	x->v6 = ip->v6 != 0;
	if (!ip->v6) {
		x->ip = ip->v4;
		return;
	}
	if (r->nv6 == r->capv6) {
		r->capv6 = r->capv6 ? r->capv6 * 2 : 1024;
		r->v6 = xrealloc(r->v6, r->capv6 * sizeof *r->v6);
	}
	r->v6[r->nv6].hi = ip->a6.hi;
	r->v6[r->nv6].lo = ip->a6.lo;
	x->ip = (uint32_t)r->nv6++;
}

static void inc_ip(const struct feed_run *r, const struct inc *x, struct asn_ip *ip)
{
	memset(ip, 0, sizeof *ip);
	ip->v6 = x->v6;
	if (x->v6) {
		ip->a6.hi = r->v6[x->ip].hi;
		ip->a6.lo = r->v6[x->ip].lo;
	} else {
		ip->v4 = x->ip;
	}
}

static uint64_t key_hash_raw(int v6, uint64_t hi, uint64_t lo, uint32_t type)
{
	uint64_t h = v6 ? hi * 0x9e3779b97f4a7c15ull ^ lo : lo;
	h ^= (uint64_t)type << 40 ^ (uint64_t)(v6 != 0) << 63;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return h;
}

static uint64_t key_hash(const struct asn_ip *ip, uint32_t type)
{
	return ip->v6 ? key_hash_raw(1, ip->a6.hi, ip->a6.lo, type)
		      : key_hash_raw(0, 0, ip->v4, type);
}

static uint64_t inc_hash(const struct feed_run *r, const struct inc *x)
{
	return x->v6 ? key_hash_raw(1, r->v6[x->ip].hi, r->v6[x->ip].lo, x->type)
		     : key_hash_raw(0, 0, x->ip, x->type);
}

static int same_key(const struct feed_run *r, const struct inc *a, const struct asn_ip *ip,
		    uint32_t type)
{
	if (a->type != type || a->v6 != (ip->v6 != 0))
		return 0;
	return ip->v6 ? (r->v6[a->ip].hi == ip->a6.hi && r->v6[a->ip].lo == ip->a6.lo)
		      : a->ip == ip->v4;
}

/* same_inc_key - x and y (both in r) have one key: IPv6 incidents of one
 * address have their own entries in r->v6 */
static int same_inc_key(const struct feed_run *r, const struct inc *x, const struct inc *y)
{
	if (x->type != y->type || x->v6 != y->v6)
		return 0;
	return x->v6 ? (r->v6[x->ip].hi == r->v6[y->ip].hi && r->v6[x->ip].lo == r->v6[y->ip].lo)
		     : x->ip == y->ip;
}

/* huge_alloc - n bytes, 2 MiB-aligned and marked for transparent huge
 * pages when large: the incident array and hash of a million-event feed
 * are 60 MB touched at random, and 4 KiB page faults and TLB misses cost
 * more than the hashing (measured). Released with free(). */
static void *huge_alloc(size_t n)
{
	const size_t huge = (size_t)2 << 20;
	if (n < huge)
		return xmalloc(n ? n : 1);
	void *p = NULL;
	size_t rounded = (n + huge - 1) & ~(huge - 1);
	if (posix_memalign(&p, huge, rounded))
		return xmalloc(n);
	madvise(p, rounded, MADV_HUGEPAGE);
	return p;
}

/* rehash - grow the slot array to at least want slots (a power of two,
 * doubling when want is 0). Chains stay linked through next; the head of
 * a key's chain is its newest incident, so walking from the top index
 * down and taking the first incident of each key rebuilds it. */
static void rehash_to(struct feed_run *r, size_t ns)
{
	struct slot *s = huge_alloc(ns * sizeof *s);
	for (size_t i = 0; i < ns; i++)
		s[i].idx = -1;
	free(r->slots);
	r->slots = s;
	r->nslots = ns;
	for (size_t i = r->ninc; i-- > 0;) {
		struct inc *x = &r->inc[i];
		uint64_t hv = inc_hash(r, x);
		size_t m = ns - 1, h = hv & m;
		for (;;) {
			int32_t k = s[h].idx;
			if (k < 0) {
				s[h].idx = (int32_t)i;
				s[h].tag = (uint32_t)(hv >> 32);
				break;
			}
			const struct inc *y = &r->inc[k];
			if (s[h].tag == (uint32_t)(hv >> 32) && same_inc_key(r, x, y))
				break;
			h = (h + 1) & m;
		}
	}
}

static void rehash(struct feed_run *r, size_t want)
{
	size_t ns = r->nslots ? r->nslots * 2 : 1 << 16;
	while (ns < want)
		ns *= 2;
	rehash_to(r, ns);
}

/* reserve - room for more incidents without rehashing on the way. */
static void grow_inc(struct feed_run *r, size_t need)
{
	if (need <= r->capinc)
		return;
	struct inc *n = huge_alloc(need * sizeof *n);
	if (r->ninc)
		memcpy(n, r->inc, r->ninc * sizeof *n);
	free(r->inc);
	r->inc = n;
	r->capinc = need;
}

static void reserve(struct feed_run *r, size_t more)
{
	size_t need = r->ninc + more;
	if (need * 2 > r->nslots && need < INT32_MAX / 4)
		rehash(r, need * 2);
	grow_inc(r, need);
}

/* find_slot_h - the slot of key (its head, or the empty slot to fill),
 * hv being key_hash(ip, type). */
static size_t find_slot_h(struct feed_run *r, const struct asn_ip *ip, uint32_t type, uint64_t hv,
			  uint32_t *tag)
{
	size_t m = r->nslots - 1, h = hv & m;
	*tag = (uint32_t)(hv >> 32);
	for (;;) {
		int32_t k = r->slots[h].idx;
		if (k < 0 || (r->slots[h].tag == *tag && same_key(r, &r->inc[k], ip, type)))
			return h;
		h = (h + 1) & m;
	}
}

static size_t find_slot(struct feed_run *r, const struct asn_ip *ip, uint32_t type, uint32_t *tag)
{
	return find_slot_h(r, ip, type, key_hash(ip, type), tag);
}

/* new_inc - one more incident. Only the array grows here: fold has found
 * the key's slot already and made room in the slots before (a rehash
 * here used to move the slots under it, and the new incident went into
 * the slot of the old table: a compressed feed, or one of lines shorter
 * than reserve()'s estimate, lost incidents that way and split later
 * events of their key into a second incident). */
static struct inc *new_inc(struct feed_run *r)
{
	if (r->ninc == r->capinc)
		grow_inc(r, r->ninc + (r->capinc ? r->capinc : 1 << 15));
	struct inc *x = &r->inc[r->ninc++];
	memset(x, 0, sizeof *x);
	x->next = -1;
	return x;
}

static void undo_save(struct undo *u, size_t idx, struct inc *x)
{
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 1024;
		u->v = xrealloc(u->v, u->cap * sizeof *u->v);
	}
	u->v[u->n].idx = idx;
	u->v[u->n++].old = *x;
	x->logged = 1;
}

/* fold - add one event of key (ip, type), hv = key_hash(ip, type); proto
 * gives the AS, labels and port of a new incident. */
static void fold(struct feed_run *r, const struct asn_ip *ip, uint32_t type, uint64_t hv, int64_t t,
		 const struct inc *proto)
{
	if ((r->ninc + 1) * 2 > r->nslots)
		rehash(r, 0);
	uint32_t tag;
	size_t s = find_slot_h(r, ip, type, hv, &tag);
	int32_t k = r->slots[s].idx;
	long w = r->o.window;
	for (int32_t i = k; i >= 0; i = r->inc[i].next) {
		struct inc *x = &r->inc[i];
		int64_t nf = t < x->first ? t : x->first;
		int64_t nl = t > x->last ? t : x->last;
		if (nl - nf > w)
			continue;
		if ((size_t)i < r->undo.ninc && !x->logged)
			undo_save(&r->undo, (size_t)i, x);
		x->first = (uint32_t)nf; /* t is in range (parse_line) */
		x->last = (uint32_t)nl;
		x->events += x->events < UINT32_MAX;
		x->dirty = 1;
		if (!x->port && proto->port)
			x->port = proto->port;
		return;
	}
	struct inc *x = new_inc(r);
	*x = *proto;
	inc_set_ip(r, x, ip);
	x->type = (uint16_t)type;
	x->first = (uint32_t)t;
	x->last = (uint32_t)t;
	x->events = 1;
	x->dirty = 1;
	x->next = k;
	r->slots[s].idx = (int32_t)(r->ninc - 1);
	r->slots[s].tag = tag;
}

struct feed_run *feed_run_new(struct store *st, const struct asn_table *t,
			      const struct feed_opts *o, feed_warn_fn warn, void *ctx)
{
	struct feed_run *r = xcalloc(1, sizeof *r);
	r->st = st;
	r->t = t;
	r->o = *o;
	if (r->o.window <= 0)
		r->o.window = FEED_DEFAULT_WINDOW;
	if (!r->o.now)
		r->o.now = (int64_t)time(NULL);
	if (!r->o.tlp || !*r->o.tlp)
		r->o.tlp = "amber";
	r->warn = warn;
	r->ctx = ctx;
	r->min_time = INT64_MAX;
	rehash(r, 0);
	return r;
}

void feed_run_free(struct feed_run *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i].path);
	free(r->files);
	free(r->inc);
	free(r->slots);
	free(r->lab.v);
	free(r->v6);
	free(r->undo.v);
	free(r->db_id);
	free(r);
}

/* ---- reading one file ---- */

/* warnings of the file being read are held back until its hash has been
 * checked: a duplicate file is reported as such, not line by line */
struct held {
	char *buf;
	size_t n, cap;
};

static void hold(struct held *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void hold(struct held *h, const char *fmt, ...)
{
	char msg[700];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t n = k < 0 ? 0 : (size_t)k >= sizeof msg ? sizeof msg - 1 : (size_t)k;
	if (h->n + n + 1 > h->cap) {
		h->cap = (h->n + n + 1) * 2;
		h->buf = xrealloc(h->buf, h->cap);
	}
	memcpy(h->buf + h->n, msg, n + 1);
	h->n += n + 1;
}

static void held_flush(struct feed_run *r, struct held *h)
{
	for (size_t i = 0; i < h->n; i += strlen(h->buf + i) + 1)
		if (r->warn)
			r->warn(r->ctx, h->buf + i);
	free(h->buf);
	memset(h, 0, sizeof *h);
}

static void hex32(const unsigned char md[32], char out[65])
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = '\0';
}

/* sha256_file - hex SHA-256 of the file's bytes as stored on disk (the
 * path for files that cannot be mapped: pipes, stdin). */
static int sha256_file(const char *path, char out[65], char *why, size_t whylen)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0) {
		snprintf(why, whylen, "cannot open '%s': %s", path,
			 strcmp(path, "-") ? strerror(errno) : "stdin cannot be hashed twice");
		return -1;
	}
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	size_t bs = 1 << 20;
	unsigned char *buf = xmalloc(bs);
	ssize_t n;
	while ((n = read(fd, buf, bs)) > 0)
		EVP_DigestUpdate(c, buf, (size_t)n);
	int rc = n < 0 ? -1 : 0;
	if (rc)
		snprintf(why, whylen, "cannot read '%s': %s", path, strerror(errno));
	unsigned char md[32];
	unsigned mdl = 0;
	EVP_DigestFinal_ex(c, md, &mdl);
	EVP_MD_CTX_free(c);
	free(buf);
	close(fd);
	hex32(md, out);
	return rc;
}

/* hasher - SHA-256 of a plain file on a second thread while the first
 * one parses it: the hash of a 60 MB feed (~50 ms with SHA-NI) is then
 * off the critical path when a second CPU is free. It reads the file with
 * pread into a small buffer of its own, not through the mapping, so the
 * parser alone decides which pages are resident (peak RSS stays bounded
 * however large the file). The thread writes md and failed/err, then sets
 * done (release); the parser reads them after seeing done (acquire) or
 * after pthread_join. */
struct hasher {
	int fd; /* owned: closed by hasher_finish */
	size_t n;
	unsigned char md[32];
	int failed, err; /* a read error, its errno */
	atomic_int done;
	pthread_t th;
	int running; /* a thread was started and not yet joined */
};

static void hash_fd(struct hasher *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c)
		abort(); /* out of memory, as xalloc */
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	const size_t bs = (size_t)256 << 10;
	unsigned char *buf = xmalloc(bs);
	size_t off = 0;
	while (off < h->n) {
		size_t want = h->n - off < bs ? h->n - off : bs;
		ssize_t k = pread(h->fd, buf, want, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			h->failed = 1;
			h->err = k < 0 ? errno : EIO; /* 0: the file shrank */
			break;
		}
		EVP_DigestUpdate(c, buf, (size_t)k);
		off += (size_t)k;
	}
	unsigned mdl = 0;
	EVP_DigestFinal_ex(c, h->md, &mdl);
	EVP_MD_CTX_free(c);
	free(buf);
}

static void *hasher_main(void *arg)
{
	struct hasher *h = arg;
	hash_fd(h);
	atomic_store_explicit(&h->done, 1, memory_order_release);
	return NULL;
}

/* cpus - how many CPUs this process may run on. */
static int cpus(void)
{
	cpu_set_t set;
	return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

/* hasher_start - hash the n bytes of fd (taken over) on a thread when the
 * file is big enough to matter and a second CPU is allowed (on one CPU
 * the thread only adds switches); else at once here. */
static void hasher_start(struct hasher *h, int fd, size_t n)
{
	h->fd = fd;
	h->n = n;
	h->failed = h->err = 0;
	atomic_init(&h->done, 0);
	h->running = 0;
	if (n >= ((size_t)1 << 20) && cpus() > 1 &&
	    pthread_create(&h->th, NULL, hasher_main, h) == 0) {
		h->running = 1;
		return;
	}
	hash_fd(h);
	atomic_store_explicit(&h->done, 1, memory_order_relaxed);
}

static void hasher_finish(struct hasher *h)
{
	if (h->running) {
		pthread_join(h->th, NULL);
		h->running = 0;
	}
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

/* lines - the lines of a plain file straight from its read-only mapping
 * (no copy through a buffer; the parser never writes into a line), or
 * through zreader for compressed files and pipes. */
struct lines {
	struct zreader *z;
	const char *map;
	size_t size, pos;
	size_t dropped;	  /* pages before this offset were given back */
	size_t populated; /* pages before this offset were mapped in */
};

/* The mapping is made resident LINES_WINDOW bytes at a time, ahead of the
 * parser, with one MADV_POPULATE_READ each (faulting the file in 64 KiB
 * steps cost ~1,000 page faults per 60 MB, and faults are dear on a
 * virtual machine), and given back behind it (lines_drop): the file's
 * share of the RSS stays about two windows, whatever its size. */
#define LINES_WINDOW ((size_t)8 << 20)

/* lines_drop - give back the mapped pages already parsed (they are
 * clean page-cache pages; the file stays cached). */
static void lines_drop(struct lines *s)
{
	const size_t step = (size_t)8 << 20;
	if (!s->map || s->pos < s->dropped + step)
		return;
	size_t upto = s->pos & ~(step - 1);
	madvise((char *)s->map + s->dropped, upto - s->dropped, MADV_DONTNEED);
	s->dropped = upto;
}

static int lines_next(struct lines *s, const char **line, size_t *len, int *toolong)
{
	if (s->z) {
		char *l;
		int rc = zr_getline(s->z, &l, len, toolong);
		*line = l;
		return rc;
	}
	if (s->pos >= s->size)
		return 0;
	if (s->pos + LINES_WINDOW / 2 > s->populated && s->populated < s->size) {
		size_t k =
		    s->size - s->populated < LINES_WINDOW ? s->size - s->populated : LINES_WINDOW;
		madvise((char *)s->map + s->populated, k, MADV_POPULATE_READ);
		s->populated += k; /* an error only means faults later */
	}
	const char *b = s->map + s->pos;
	size_t avail = s->size - s->pos;
	const char *nl = memchr(b, '\n', avail);
	size_t n = nl ? (size_t)(nl - b) : avail;
	s->pos += nl ? n + 1 : n;
	*toolong = n > FEED_MAX_LINE;
	if (*toolong)
		n = FEED_MAX_LINE;
	else if (n && b[n - 1] == '\r')
		n--;
	*line = b;
	*len = n;
	return 1;
}

/* is_compressed - the magic numbers zreader hands to libarchive. */
static int is_compressed(const unsigned char *p, size_t n)
{
	return (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) || (n >= 3 && !memcmp(p, "BZh", 3)) ||
	       (n >= 6 && !memcmp(p,
				  "\xfd"
				  "7zXZ\0",
				  6)) ||
	       (n >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4)) ||
	       (n >= 4 && !memcmp(p, "\x04\x22\x4d\x18", 4));
}

/* file_dup - 1 when the file's hash was loaded before (in this run, or in
 * the store unless --force). */
static int file_dup(struct feed_run *r, struct feed_file_result *res)
{
	for (size_t i = 0; i < r->nfiles; i++)
		if (!strcmp(r->files[i].sha, res->sha256))
			return 1;
	return !r->o.force &&
	       store_feed_file_seen(r->st, res->sha256, &res->loaded_before) == STORE_DUP;
}

static void undo_begin(struct feed_run *r)
{
	struct undo *u = &r->undo;
	u->ninc = r->ninc;
	u->nlab = r->lab.n;
	u->lost = r->lab.lost;
	u->nv6 = r->nv6;
	u->min_time = r->min_time;
	u->max_time = r->max_time;
	u->unrouted = r->unrouted;
	u->n = 0;
}

/* undo_end - keep the file's changes (forget the log) or take them back:
 * older incidents restored, new ones and labels dropped, slots rebuilt. */
static void undo_end(struct feed_run *r, int take_back)
{
	struct undo *u = &r->undo;
	for (size_t i = 0; i < u->n; i++) {
		if (take_back)
			r->inc[u->v[i].idx] = u->v[i].old; /* logged was 0 in the copy */
		else
			r->inc[u->v[i].idx].logged = 0;
	}
	size_t ninc = u->ninc;
	u->n = 0;
	u->ninc = 0; /* nothing is logged between files */
	if (!take_back)
		return;
	r->ninc = ninc;
	r->lab.n = u->nlab;
	r->lab.lost = u->lost;
	r->nv6 = u->nv6;
	r->min_time = u->min_time;
	r->max_time = u->max_time;
	r->unrouted = u->unrouted;
	rehash_to(r, r->nslots ? r->nslots : 1 << 16);
}

/* label cache - raw label bytes to interned id: a feed has a handful of
 * types, sources and TLP values, so feed_label and intern run once per
 * distinct value instead of once per line. */
#define LC_N 8
#define LC_RAW 48
struct lcache {
	struct {
		char raw[LC_RAW];
		size_t len;
		uint32_t id;
	} e[LC_N];
	unsigned n, next;
};

/* label_id - the id of the label reduced from s (n > 0); *dflt (interned
 * from dflt_name when still UINT32_MAX) when it reduces to nothing. */
static uint32_t label_id(struct feed_run *r, struct lcache *c, const char *s, size_t n,
			 uint32_t *dflt, const char *dflt_name)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->e[i].len == n && !memcmp(c->e[i].raw, s, n))
			return c->e[i].id;
	char l[FEED_MAX_LABEL + 1];
	feed_label(l, s, n);
	uint32_t id;
	if (l[0]) {
		id = intern(&r->lab, l);
	} else {
		if (*dflt == UINT32_MAX)
			*dflt = intern(&r->lab, dflt_name);
		id = *dflt;
	}
	if (n <= LC_RAW) {
		unsigned k = c->n < LC_N ? c->n++ : c->next++ % LC_N;
		memcpy(c->e[k].raw, s, n);
		c->e[k].len = n;
		c->e[k].id = id;
	}
	return id;
}

/* fev - one event ready to fold: labels interned. */
struct fev {
	struct asn_ip ip;
	int64_t time;
	uint32_t type, source, tlp, feed_asn;
	uint16_t port;
};

/* evbatch - events parsed, to be looked up and folded in file order. */
enum { BATCH = 512, RING = 8 };
struct evbatch {
	struct fev ev[BATCH];
	uint32_t asn[BATCH];
	size_t n;
};

/* parse_job - the reading side of feed_run_file: lines to events with
 * their AS, batch by batch. It alone touches the parser, the lines, the
 * file's counters and held warnings, and interns labels into r->lab;
 * the folding side uses only the label ids it hands over. */
struct parse_job {
	struct feed_run *r;
	const char *path;
	struct feed_parser *p;
	struct lines *src;
	struct feed_file_result *res;
	struct held *held;
	struct hasher *h; /* parsed pages are given back once it is done */
	char srcname[FEED_MAX_LABEL + 1], deftlp[FEED_MAX_LABEL + 1];
	uint32_t src_id, tlp_id, type_id;
	struct lcache ct, cs, cl;
	long warned;
	int rc;	 /* the last lines_next result */
	int end; /* nothing more to read */
};

/* produce - fill b with up to BATCH events; j->end at the end of the
 * input (b may still hold events). */
static void produce(struct parse_job *j, struct evbatch *b)
{
	struct feed_run *r = j->r;
	struct feed_file_result *res = j->res;
	const char *line;
	char why[300];
	size_t len;
	int toolong;
	b->n = 0;
	while (b->n < BATCH) {
		j->rc = lines_next(j->src, &line, &len, &toolong);
		if (j->rc <= 0) {
			j->end = 1;
			break;
		}
		res->lines++;
		if ((res->lines & 8191) == 0)
			lines_drop(j->src);
		int k;
		struct raw_event raw;
		if (toolong) {
			snprintf(why, sizeof why, "line longer than %u bytes", FEED_MAX_LINE);
			k = -1;
		} else {
			k = parse_line(j->p, line, len, &raw, why, sizeof why);
		}
		if (k < 0) {
			res->bad++;
			if (j->warned++ < 50)
				hold(j->held, "%s:%ld: %s; line skipped", j->path, res->lines, why);
			if (feed_parser_format(j->p) == FEED_UNKNOWN &&
			    strstr(why, "no IP column")) {
				j->end = 1; /* without a usable header nothing can be read */
				break;
			}
			continue;
		}
		if (k == 0)
			continue;
		res->events++;
		struct fev *e = &b->ev[b->n++];
		e->ip = raw.ip;
		e->time = raw.time;
		e->port = (uint16_t)raw.port;
		e->feed_asn = raw.feed_asn;
		if (raw.type_len) {
			e->type = label_id(r, &j->ct, raw.type, raw.type_len, &j->type_id,
					   j->p->default_type);
		} else {
			if (j->type_id == UINT32_MAX)
				j->type_id = intern(&r->lab, j->p->default_type);
			e->type = j->type_id;
		}
		e->source = raw.source_len ? label_id(r, &j->cs, raw.source, raw.source_len,
						      &j->src_id, j->srcname)
					   : j->src_id;
		e->tlp = raw.tlp_len
			     ? label_id(r, &j->cl, raw.tlp, raw.tlp_len, &j->tlp_id, j->deftlp)
			     : j->tlp_id;
	}
}

/* fold_events - look up, hash and fold a batch: the lookups run in
 * prefetching stages (asn_table_find4_batch), keys are hashed and their
 * slots prefetched, then each key's newest incident, then folded:
 * independent cache misses overlap instead of queueing one by one
 * (measured several times faster than one event at a time). The reading
 * thread, the slower of the two, only parses. */
static void fold_events(struct feed_run *r, struct evbatch *b)
{
	uint64_t hvs[BATCH];
	size_t n = b->n;
	const struct fev *evs = b->ev;
	uint32_t v4[BATCH], a4[BATCH];
	size_t n4 = 0;
	for (size_t i = 0; i < n; i++)
		if (!evs[i].ip.v6)
			v4[n4++] = evs[i].ip.v4;
	if (n4)
		asn_table_find4_batch(r->t, v4, a4, n4);
	for (size_t i = 0, k = 0; i < n; i++)
		b->asn[i] = evs[i].ip.v6 ? asn_table_find6(r->t, evs[i].ip.a6) : a4[k++];
	if ((r->ninc + n) * 2 > r->nslots)
		rehash(r, (r->ninc + n) * 2);
	for (size_t i = 0; i < n; i++) {
		hvs[i] = key_hash(&evs[i].ip, evs[i].type);
		__builtin_prefetch(&r->slots[hvs[i] & (r->nslots - 1)]);
	}
	for (size_t i = 0; i < n; i++) {
		int32_t k = r->slots[hvs[i] & (r->nslots - 1)].idx;
		if (k >= 0)
			__builtin_prefetch(&r->inc[k]);
	}
	for (size_t i = 0; i < n; i++) {
		const struct fev *ev = &evs[i];
		struct inc proto;
		memset(&proto, 0, sizeof proto);
		proto.asn = b->asn[i];
		if (!proto.asn) {
			proto.asn = ev->feed_asn; /* the feed's own opinion beats nothing */
			r->unrouted += !ev->feed_asn;
		}
		proto.port = ev->port;
		proto.source = ev->source;
		proto.tlp = ev->tlp;
		if (ev->time < r->min_time)
			r->min_time = ev->time;
		if (ev->time > r->max_time)
			r->max_time = ev->time;
		fold(r, &ev->ip, ev->type, hvs[i], ev->time, &proto);
	}
}

/* ring - batches handed from the reading thread to the folding one, in
 * order, through RING slots (no allocation per batch). head: batches
 * produced, tail: folded; stop: the folding side wants no more. */
struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct evbatch *slot;
	size_t head, tail;
	int done, stop;
	struct parse_job *job;
};

static void *producer_main(void *arg)
{
	struct ring *g = arg;
	for (;;) {
		pthread_mutex_lock(&g->mu);
		while (g->head - g->tail == RING && !g->stop)
			pthread_cond_wait(&g->cv, &g->mu);
		int stop = g->stop;
		pthread_mutex_unlock(&g->mu);
		if (stop)
			break;
		/* slot head % RING is free: the folding side is past it */
		produce(g->job, &g->slot[g->head % RING]);
		pthread_mutex_lock(&g->mu);
		g->head++;
		g->done = g->job->end;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
		if (g->job->end)
			break;
	}
	pthread_mutex_lock(&g->mu);
	g->done = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/* dup_poll - once the hash thread is done: the duplicate check, so a
 * duplicate stops early. 1 when the file is a duplicate. */
static int dup_poll(struct feed_run *r, struct hasher *h, int *checked,
		    struct feed_file_result *res)
{
	if (*checked || !atomic_load_explicit(&h->done, memory_order_acquire))
		return 0;
	hasher_finish(h);
	if (h->failed)
		return 0; /* reported when the file is done */
	hex32(h->md, res->sha256);
	*checked = 1;
	return file_dup(r, res);
}

/* read_and_fold - all batches of the job folded into r, in order. With a
 * second CPU and a file worth it, reading (parse + lookup) runs on its own
 * thread and folding here: the two halves of the work overlap (pthreads;
 * the thread touches only what parse_job names). 1 when the file turned
 * out a duplicate (folding stopped early). */
static int read_and_fold(struct feed_run *r, struct parse_job *j, struct hasher *h, int *checked,
			 size_t size)
{
	int dup = 0;
	long nb = 0;
	if (size >= ((size_t)4 << 20) && cpus() > 1) {
		struct ring g;
		memset(&g, 0, sizeof g);
		g.slot = xmalloc(RING * sizeof *g.slot);
		g.job = j;
		pthread_t th;
		if (pthread_mutex_init(&g.mu, NULL) == 0) {
			if (pthread_cond_init(&g.cv, NULL) == 0) {
				if (pthread_create(&th, NULL, producer_main, &g) == 0) {
					for (;;) {
						pthread_mutex_lock(&g.mu);
						while (g.tail == g.head && !g.done)
							pthread_cond_wait(&g.cv, &g.mu);
						int empty = g.tail == g.head;
						pthread_mutex_unlock(&g.mu);
						if (empty)
							break;
						fold_events(r, &g.slot[g.tail % RING]);
						pthread_mutex_lock(&g.mu);
						g.tail++;
						pthread_cond_broadcast(&g.cv);
						pthread_mutex_unlock(&g.mu);
						if ((++nb & 15) == 0 &&
						    (dup = dup_poll(r, h, checked, j->res)) != 0)
							break;
					}
					pthread_mutex_lock(&g.mu);
					g.stop = 1;
					pthread_cond_broadcast(&g.cv);
					pthread_mutex_unlock(&g.mu);
					pthread_join(th, NULL);
					pthread_cond_destroy(&g.cv);
					pthread_mutex_destroy(&g.mu);
					free(g.slot);
					return dup;
				}
				pthread_cond_destroy(&g.cv);
			}
			pthread_mutex_destroy(&g.mu);
		}
		free(g.slot);
	}
	/* one thread: read a batch, fold it */
	struct evbatch *b = xmalloc(sizeof *b);
	while (!j->end) {
		produce(j, b);
		fold_events(r, b);
		if ((++nb & 15) == 0 && (dup = dup_poll(r, h, checked, j->res)) != 0)
			break;
	}
	free(b);
	return dup;
}

/* add_file - remember an input the run loaded (a feed_file row at the
 * commit); source is its reduced source label */
static void add_file(struct feed_run *r, const struct feed_file_result *res, const char *path,
		     const char source[FEED_MAX_LABEL + 1])
{
	r->files = xrealloc(r->files, (r->nfiles + 1) * sizeof *r->files);
	memcpy(r->files[r->nfiles].sha, res->sha256, 65);
	r->files[r->nfiles].path = xstrdup(path);
	memcpy(r->files[r->nfiles].source, source, FEED_MAX_LABEL + 1);
	r->files[r->nfiles].lines = res->lines;
	r->files[r->nfiles].events = res->events;
	r->files[r->nfiles].bad = res->bad;
	r->nfiles++;
}

int feed_run_file(struct feed_run *r, const char *path, struct feed_file_result *res)
{
	memset(res, 0, sizeof *res);
	res->path = path;
	/* Plain files are mapped and hashed on a second thread while they are
	 * parsed; the duplicate check then comes after (or during) the parse
	 * and a duplicate is taken back out (undo). Pipes and stdin are
	 * hashed first, as before. A mapped file truncated by another process
	 * while it is read stops the process (SIGBUS) before anything of the
	 * run is stored. */
	struct hasher h;
	memset(&h, 0, sizeof h);
	void *map = NULL;
	size_t size = 0;
	int mapped = 0;
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct stat sb;
	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		size = (size_t)sb.st_size;
		if (size == 0) {
			mapped = 1;
		} else {
			map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (map == MAP_FAILED)
				map = NULL;
			else
				mapped = 1;
		}
	}
	h.fd = -1;
	int checked = 0;
	if (mapped) {
		hasher_start(&h, fd, size); /* the hasher owns fd from here */
		fd = -1;
		if (!h.running) {
			hasher_finish(&h);
			if (h.failed) {
				snprintf(res->error, sizeof res->error, "cannot read '%s': %s",
					 path, strerror(h.err));
				if (map)
					munmap(map, size);
				res->failed = 1;
				return -1;
			}
			hex32(h.md, res->sha256);
			checked = 1;
		}
	} else {
		if (fd >= 0)
			close(fd);
		if (sha256_file(path, res->sha256, res->error, sizeof res->error)) {
			res->failed = 1;
			return -1;
		}
		checked = 1;
	}
	if (checked && file_dup(r, res)) {
		if (map)
			munmap(map, size);
		res->duplicate = 1;
		return 0;
	}
	struct lines src;
	memset(&src, 0, sizeof src);
	int compressed = map && is_compressed(map, size);
	if (!mapped || compressed) {
		src.z = zr_open(path, FEED_MAX_LINE, res->error, sizeof res->error);
		if (!src.z) {
			hasher_finish(&h);
			if (map)
				munmap(map, size);
			res->failed = 1;
			return -1;
		}
	} else {
		src.map = map;
		src.size = size;
	}
	struct parse_job *j = xcalloc(1, sizeof *j);
	struct feed_parser *p = feed_parser_new(path, r->o.type, r->o.now);
	struct held held = {NULL, 0, 0};
	j->r = r;
	j->path = path;
	j->p = p;
	j->src = &src;
	j->res = res;
	j->held = &held;
	j->h = &h;
	if (r->o.source && *r->o.source) {
		feed_label(j->srcname, r->o.source, strlen(r->o.source));
	} else {
		const char *b = strrchr(path, '/');
		b = b ? b + 1 : path;
		feed_label(j->srcname, b, strcspn(b, "."));
	}
	if (!j->srcname[0])
		snprintf(j->srcname, sizeof j->srcname, "feed");
	feed_label(j->deftlp, r->o.tlp, strlen(r->o.tlp));
	undo_begin(r);
	j->src_id = intern(&r->lab, j->srcname);
	j->tlp_id = intern(&r->lab, j->deftlp);
	j->type_id = UINT32_MAX; /* the file's default type, interned when used */
	/* size the incident hash and array for this file once: about one
	 * incident per 64 bytes of input at most in Shadowserver-style CSV
	 * (a smaller estimate only means a rehash later) */
	if (mapped && size > 0)
		reserve(r, size / 64);
	int dup = read_and_fold(r, j, &h, &checked, size);
	int rc = j->rc;
	long warned = j->warned;
	char srcname[FEED_MAX_LABEL + 1];
	memcpy(srcname, j->srcname, sizeof srcname);
	free(j);
	if (rc < 0 && !dup) {
		hold(&held, "%s: read error after line %ld: %s (lines before it are kept)", path,
		     res->lines, zr_error(src.z));
		res->bad++;
	}
	if (warned > 50)
		hold(&held, "%s: %ld malformed lines in all", path, res->bad);
	if (r->lab.lost > r->undo.lost)
		hold(&held,
		     "%s: more than %u distinct types, sources and TLP values in this run; "
		     "%ld labels of its events counted as 'other'",
		     path, FEED_MAX_LABELS - 1, r->lab.lost - r->undo.lost);
	res->format = feed_parser_format(p);
	feed_parser_free(p);
	zr_close(src.z);
	if (!checked) {
		hasher_finish(&h);
		if (h.failed) { /* nothing of the file is kept */
			free(held.buf);
			if (map)
				munmap(map, size);
			undo_end(r, 1);
			memset(res, 0, sizeof *res);
			res->path = path;
			snprintf(res->error, sizeof res->error, "cannot read '%s': %s", path,
				 strerror(h.err));
			res->failed = 1;
			return -1;
		}
		hex32(h.md, res->sha256);
		dup = file_dup(r, res);
	}
	if (map)
		munmap(map, size);
	undo_end(r, dup);
	if (dup) {
		free(held.buf);
		int64_t before = res->loaded_before;
		char sha[65];
		memcpy(sha, res->sha256, sizeof sha);
		memset(res, 0, sizeof *res);
		res->path = path;
		memcpy(res->sha256, sha, sizeof sha);
		res->loaded_before = before;
		res->duplicate = 1;
		return 0;
	}
	held_flush(r, &held);
	add_file(r, res, path, srcname);
	return 0;
}

int feed_run_events(struct feed_run *r, const char *name, const char *source,
		    const struct feed_event *ev, size_t n, struct feed_file_result *res)
{
	memset(res, 0, sizeof *res);
	res->path = name;
	res->format = FEED_EVENTS;
	unsigned char md[32];
	unsigned int mdl = 0;
	EVP_Digest(name, strlen(name), md, &mdl, EVP_sha256(), NULL);
	hex32(md, res->sha256);
	if (file_dup(r, res)) {
		res->duplicate = 1;
		return 0;
	}
	char src[FEED_MAX_LABEL + 1], tlp[FEED_MAX_LABEL + 1];
	feed_label(src, source, strlen(source));
	if (!src[0])
		snprintf(src, sizeof src, "feed");
	feed_label(tlp, r->o.tlp, strlen(r->o.tlp));
	/* no undo log: the duplicate check is done, nothing is taken back */
	uint32_t src_id = intern(&r->lab, src);
	uint32_t tlp_id = intern(&r->lab, tlp);
	reserve(r, n);
	struct evbatch *b = xmalloc(sizeof *b);
	b->n = 0;
	for (size_t i = 0; i < n; i++) {
		res->lines++;
		char ty[FEED_MAX_LABEL + 1], so[FEED_MAX_LABEL + 1], tl[FEED_MAX_LABEL + 1];
		feed_label(ty, ev[i].type, strnlen(ev[i].type, FEED_MAX_LABEL));
		feed_label(so, ev[i].source, strnlen(ev[i].source, FEED_MAX_LABEL));
		feed_label(tl, ev[i].tlp, strnlen(ev[i].tlp, FEED_MAX_LABEL));
		if (ev[i].time < FEED_MIN_TIME || ev[i].time > FEED_MAX_TIME || !ty[0]) {
			res->bad++;
			continue;
		}
		res->events++;
		struct fev *e = &b->ev[b->n++];
		e->ip = ev[i].ip;
		e->time = ev[i].time;
		e->port = (uint16_t)(ev[i].port > 0 && ev[i].port < 65536 ? ev[i].port : 0);
		e->feed_asn = ev[i].feed_asn;
		e->type = intern(&r->lab, ty);
		e->source = so[0] ? intern(&r->lab, so) : src_id;
		e->tlp = tl[0] ? intern(&r->lab, tl) : tlp_id;
		if (b->n == BATCH) {
			fold_events(r, b);
			b->n = 0;
		}
	}
	if (b->n)
		fold_events(r, b);
	free(b);
	add_file(r, res, name, src);
	return 0;
}

struct merge_ctx {
	struct feed_run *r;
	int failed;
};

/* merge_stored - fold an incident from the store into the run: if a new
 * in-memory incident of the same key fits its window, they become one
 * (the stored row is updated); otherwise it only takes part as a chain
 * member so later events can still join it. */
static int merge_stored(void *ctx, const struct incident_row *row)
{
	struct merge_ctx *m = ctx;
	struct feed_run *r = m->r;
	if (!r->db_id)
		r->db_id = xcalloc(r->ninc + 1, sizeof *r->db_id);
	struct asn_ip ip;
	if (asn_parse_ip(row->ip, strlen(row->ip), &ip) || row->first_time < FEED_MIN_TIME ||
	    row->last_time > FEED_MAX_TIME)
		return 0; /* a time no feed line may have now cannot join */
	uint32_t type = intern(&r->lab, row->type);
	uint32_t tag;
	size_t s = find_slot(r, &ip, type, &tag);
	for (int32_t i = r->slots[s].idx; i >= 0; i = r->inc[i].next) {
		struct inc *x = &r->inc[i];
		if (r->db_id[i])
			continue;
		int64_t nf = row->first_time < x->first ? row->first_time : x->first;
		int64_t nl = row->last_time > x->last ? row->last_time : x->last;
		if (nl - nf > r->o.window)
			continue;
		x->first = (uint32_t)nf;
		x->last = (uint32_t)nl;
		uint64_t ev = (uint64_t)x->events + (uint64_t)(row->events > 0 ? row->events : 0);
		x->events = ev > UINT32_MAX ? UINT32_MAX : (uint32_t)ev;
		r->db_id[i] = row->id;
		x->dirty = 1;
		return 0;
	}
	return 0;
}

struct bmerge_ctx {
	struct feed_run *r;
	int64_t since;
	struct incident_block *dirty; /* copies of the blocks to rewrite */
	size_t ndirty, capdirty;
	long merged;
};

static void block_copy(struct incident_block *dst, const struct incident_block *b)
{
	*dst = *b;
	char **lab = xmalloc((b->nlabels + 1) * sizeof *lab);
	for (size_t i = 0; i < b->nlabels; i++)
		lab[i] = xstrdup(b->labels[i]);
	dst->labels = (const char *const *)lab;
	dst->v = xmalloc((b->n + 1) * sizeof *b->v);
	memcpy(dst->v, b->v, b->n * sizeof *b->v);
}

static void block_release(struct incident_block *b)
{
	for (size_t i = 0; i < b->nlabels; i++)
		free((char *)b->labels[i]);
	free((void *)b->labels);
	free(b->v);
}

/* merge_block - stored incidents of a packed block that are still open
 * take the new events of their key that fit their window (same rule as
 * merge_stored); the changed block is rewritten in the run's transaction. */
static int merge_block(void *ctx, struct incident_block *b)
{
	struct bmerge_ctx *m = ctx;
	struct feed_run *r = m->r;
	if (!r->db_id)
		r->db_id = xcalloc(r->ninc + 1, sizeof *r->db_id);
	uint32_t map[256];
	size_t nmap = b->nlabels < 256 ? b->nlabels : 256;
	for (size_t i = 0; i < nmap; i++)
		map[i] = UINT32_MAX;
	int changed = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct incident_rec *c = &b->v[i];
		if (c->last < m->since)
			continue;
		uint32_t type;
		if (c->type < nmap) {
			if (map[c->type] == UINT32_MAX)
				map[c->type] = intern(&r->lab, b->labels[c->type]);
			type = map[c->type];
		} else {
			type = intern(&r->lab, b->labels[c->type]);
		}
		uint32_t tag;
		size_t s = find_slot(r, &c->ip, type, &tag);
		for (int32_t k = r->slots[s].idx; k >= 0; k = r->inc[k].next) {
			struct inc *x = &r->inc[k];
			if (r->db_id[k])
				continue;
			int64_t nf = c->first < x->first ? c->first : x->first;
			int64_t nl = c->last > x->last ? c->last : x->last;
			if (nl - nf > r->o.window)
				continue;
			c->first = nf;
			c->last = nl;
			uint64_t ev = (uint64_t)c->events + (uint64_t)x->events;
			c->events = ev > UINT32_MAX ? UINT32_MAX : (uint32_t)ev;
			r->db_id[k] = INCIDENT_BLOCK_ID(b->id, (int64_t)i);
			x->dirty = 0;
			m->merged++;
			changed = 1;
			break;
		}
	}
	if (changed) {
		if (m->ndirty == m->capdirty) {
			m->capdirty = m->capdirty ? m->capdirty * 2 : 16;
			m->dirty = xrealloc(m->dirty, m->capdirty * sizeof *m->dirty);
		}
		block_copy(&m->dirty[m->ndirty++], b);
	}
	return 0;
}

/* write_blocks - the run's new incidents as packed blocks sorted by AS;
 * order inside an AS is fold order. */
#define BLOCK_TARGET 4096u
static int write_blocks(struct feed_run *r, long *written)
{
	*written = 0;
	if (!r->ninc)
		return STORE_OK;
	/* keys (AS << 32 | index) gathered in one sequential pass, then a
	 * stable LSD radix sort on the AS, 16 bits a pass: the sort touches
	 * only the keys, not the incidents at random (that cost ~50 ms for
	 * 630,000 incidents). The slot array is not used after the merge
	 * (feed_run_commit), and its pages are already there: fresh pages
	 * cost more than this sort on a virtual machine (perf), so the keys
	 * go there when they fit (room for every incident: counted as
	 * gathered). */
	size_t cap = r->ninc;
	uint64_t *a, *b, *own = NULL;
	if (r->nslots * sizeof *r->slots >= 2 * cap * sizeof *a) {
		a = (uint64_t *)(void *)r->slots;
	} else {
		own = xmalloc(2 * cap * sizeof *a);
		a = own;
	}
	size_t n = 0;
	for (size_t i = 0; i < r->ninc; i++)
		if (r->inc[i].dirty && !(r->db_id && r->db_id[i]))
			a[n++] = (uint64_t)r->inc[i].asn << 32 | i;
	*written = (long)n;
	if (!n) { /* nothing was written into the slots */
		free(own);
		return STORE_OK;
	}
	b = a + n;
	size_t *cnt = xmalloc(65537 * sizeof *cnt);
	for (int sh = 32; sh < 64; sh += 16) {
		memset(cnt, 0, 65537 * sizeof *cnt);
		for (size_t i = 0; i < n; i++)
			cnt[((a[i] >> sh) & 0xffff) + 1]++;
		if (cnt[1] == n)
			continue; /* all zero in these bits */
		for (size_t i = 1; i < 65537; i++)
			cnt[i] += cnt[i - 1];
		for (size_t i = 0; i < n; i++)
			b[cnt[(a[i] >> sh) & 0xffff]++] = a[i];
		uint64_t *t = a;
		a = b;
		b = t;
	}
	free(cnt);
	for (size_t i = 0; i < n; i++)
		a[i] &= 0xffffffffu; /* the index alone from here on */
	const char **labels = xmalloc((r->lab.n + 1) * sizeof *labels);
	for (size_t i = 0; i < r->lab.n; i++)
		labels[i] = r->lab.v[i];
	struct incident_rec *v =
	    xmalloc((n < INCIDENT_BLOCK_MAX ? n : INCIDENT_BLOCK_MAX) * sizeof *v);
	int rc = STORE_OK;
	for (size_t i = 0; i < n && rc == STORE_OK;) {
		/* whole ASes up to BLOCK_TARGET incidents a block (an AS above
		 * that is cut at INCIDENT_BLOCK_MAX): few rows to write, and a
		 * batch touches only the blocks holding its AS */
		size_t m = 0;
		while (i < n && m < INCIDENT_BLOCK_MAX &&
		       (m < BLOCK_TARGET || r->inc[a[i]].asn == v[m - 1].asn)) {
			if (i + 16 < n) { /* read in AS order, at random: 2 lines each */
				__builtin_prefetch(&r->inc[a[i + 16]]);
				__builtin_prefetch((const char *)&r->inc[a[i + 16]] + 64);
			}
			struct inc *x = &r->inc[a[i++]];
			x->dirty = 0;
			struct incident_rec *c = &v[m++];
			inc_ip(r, x, &c->ip);
			c->asn = x->asn;
			c->type = x->type;
			c->source = x->source;
			c->tlp = x->tlp;
			c->events = x->events;
			c->port = x->port;
			c->first = x->first;
			c->last = x->last;
			c->batch_id = 0;
		}
		struct incident_block blk = {0, labels, r->lab.n, v, m};
		int64_t id;
		rc = store_block_add(r->st, &blk, &id);
	}
	free(v);
	free(labels);
	free(own);
	if (!own) { /* the slots held the keys: rebuilt if the run goes on */
		free(r->slots);
		r->slots = NULL;
		r->nslots = 0;
	}
	return rc;
}

int feed_run_commit(struct feed_run *r, struct feed_totals *tot, char *why, size_t whylen)
{
	memset(tot, 0, sizeof *tot);
	struct store *st = r->st;
	if (store_begin(st) != STORE_OK) {
		snprintf(why, whylen, "%s", store_errmsg(st));
		return -1;
	}
	/* Only keys seen in this run can merge; stored incidents that end
	 * before the earliest new event minus the window cannot. Rows of the
	 * older one-row-per-incident table first, then packed blocks. */
	struct bmerge_ctx bm = {r, 0, NULL, 0, 0, 0};
	if (r->ninc && r->min_time != INT64_MAX) {
		struct merge_ctx m = {r, 0};
		bm.since = r->min_time - r->o.window;
		struct block_filter f = {bm.since, -1, 0, 0};
		if (store_incidents_since(st, bm.since, merge_stored, &m) != STORE_OK ||
		    store_blocks_each(st, &f, merge_block, &bm) != STORE_OK) {
			snprintf(why, whylen, "reading open incidents: %s",
				 store_notify_errmsg(st));
			goto fail;
		}
	}
	tot->incidents_merged = bm.merged;
	for (size_t i = 0; i < bm.ndirty; i++) {
		if (store_block_replace(st, &bm.dirty[i]) != STORE_OK) {
			snprintf(why, whylen, "writing incidents: %s", store_notify_errmsg(st));
			goto fail;
		}
	}
	struct incident_writer *w = NULL;
	/* merged into older row-table incidents: only when anything merged */
	for (size_t i = 0; r->db_id && i < r->ninc; i++) {
		struct inc *x = &r->inc[i];
		int64_t id = r->db_id[i];
		if (!x->dirty || id <= 0 || id >= INCIDENT_BLOCK_BASE)
			continue;
		if (!w && !(w = store_incident_writer(st))) {
			snprintf(why, whylen, "%s", store_notify_errmsg(st));
			goto fail;
		}
		if (store_incident_update(w, id, x->first, x->last, x->events) != STORE_OK) {
			snprintf(why, whylen, "writing incidents: %s", store_notify_errmsg(st));
			store_incident_writer_free(w);
			goto fail;
		}
		tot->incidents_merged++;
		x->dirty = 0;
	}
	store_incident_writer_free(w);
	if (write_blocks(r, &tot->incidents_new) != STORE_OK) {
		snprintf(why, whylen, "writing incidents: %s", store_notify_errmsg(st));
		goto fail;
	}
	for (size_t i = 0; i < r->nfiles; i++) {
		if (store_feed_file_add(st, r->files[i].sha, r->files[i].path, r->files[i].source,
					r->files[i].lines, r->files[i].events, r->files[i].bad, 0,
					r->max_time) != STORE_OK) {
			snprintf(why, whylen, "recording feed file: %s", store_notify_errmsg(st));
			goto fail;
		}
		tot->files++;
		tot->events += r->files[i].events;
		tot->bad += r->files[i].bad;
	}
	if (store_commit(st) != STORE_OK) {
		snprintf(why, whylen, "%s", store_errmsg(st));
		goto fail;
	}
	for (size_t i = 0; i < bm.ndirty; i++)
		block_release(&bm.dirty[i]);
	free(bm.dirty);
	free(r->db_id); /* merges are done (and written) */
	r->db_id = NULL;
	tot->unrouted = r->unrouted;
	return 0;
fail:
	for (size_t i = 0; i < bm.ndirty; i++)
		block_release(&bm.dirty[i]);
	free(bm.dirty);
	free(r->db_id);
	r->db_id = NULL;
	store_rollback(st);
	return -1;
}
