/*
 * extract.c - the per-report pipeline driver (see extract.h).
 *
 * Flow: bytes -> GMime message (mail/ parse options record every parser
 * warning as a finding) -> suspects (attached message/rfc822 parts, an
 * inline forward, or the message itself) -> for each suspect a result:
 * headers, trace, authentication, body links, addresses, attachments.
 *
 * The MIME tree is walked with an explicit stack bounded by
 * SHIELD_MAX_MIME_DEPTH and SHIELD_MAX_MIME_PARTS, never by recursion on
 * input depth. Decoded bytes are budgeted (SHIELD_MAX_DECODED_RATIO).
 */
#include "extract/extract.h"

#include <ctype.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <libpsl.h>
#include <magic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/lazylib.h"
#include "common/limits.h"
#include "common/xalloc.h"
#include "extract/attach.h"
#include "extract/html.h"
#include "extract/ioc.h"
#include "extract/url.h"
#include "mail/forward.h"
#include "mail/headers.h"
#include "mail/mime_iter.h"

struct extractor {
	psl_ctx_t *psl;
	int psl_owned;
	magic_t magic;
	struct archive_lazy ar; /* libarchive, opened at the first archive */
	GMimeParserOptions *opts;
	struct result *cur; /* target of parser warnings during one parse */
};

const void *extractor_psl(const struct extractor *x)
{
	return x->psl;
}

/* parser_warning - GMime reports malformed input here; keep it. */
static void parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer user)
{
	struct extractor *x = user;
	if (!x->cur)
		return;
	static const char *const names[] = {
	    [GMIME_WARN_DUPLICATED_HEADER] = "mime.duplicated_header",
	    [GMIME_WARN_DUPLICATED_PARAMETER] = "mime.duplicated_parameter",
	    [GMIME_WARN_UNENCODED_8BIT_HEADER] = "mime.unencoded_8bit_header",
	    [GMIME_WARN_INVALID_CONTENT_TYPE] = "mime.invalid_content_type",
	    [GMIME_WARN_INVALID_RFC2047_HEADER_VALUE] = "mime.invalid_rfc2047",
	    [GMIME_WARN_MALFORMED_MULTIPART] = "mime.malformed_multipart",
	    [GMIME_WARN_TRUNCATED_MESSAGE] = "mime.truncated",
	    [GMIME_WARN_MALFORMED_MESSAGE] = "mime.malformed",
	    [GMIME_CRIT_INVALID_HEADER_NAME] = "mime.invalid_header_name",
	    [GMIME_CRIT_CONFLICTING_HEADER] = "mime.conflicting_header",
	    [GMIME_CRIT_CONFLICTING_PARAMETER] = "mime.conflicting_parameter",
	    [GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY] = "mime.multipart_without_boundary",
	    [GMIME_WARN_INVALID_PARAMETER] = "mime.invalid_parameter",
	    [GMIME_WARN_INVALID_ADDRESS_LIST] = "mime.invalid_address_list",
	    [GMIME_CRIT_NESTING_OVERFLOW] = "limit.mime_depth",
	    [GMIME_WARN_PART_WITHOUT_CONTENT] = "mime.part_without_content",
	    [GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT] = "mime.part_without_headers",
	};
	const char *name = (unsigned)code < sizeof names / sizeof *names && names[code]
			       ? names[code]
			       : "mime.warning";
	/* printable detail: items are attacker bytes, keep them short */
	char det[96];
	size_t n = 0;
	for (const char *p = item; p && *p && n < sizeof det - 1; p++)
		det[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	det[n] = '\0';
	result_finding(x->cur, name, "at byte %lld%s%s", (long long)offset, n ? ": " : "", det);
}

/* psl_load - the PSL file named, else the bundled or the system one, else
 * libpsl's built-in list (*owned = 0). NULL and *err if psl_file fails. */
static psl_ctx_t *psl_load(const char *psl_file, int *owned, char **err)
{
	static const char *const psl_paths[] = {
	    SHIELD_DATADIR "/public_suffix_list.dat",
	    "data/public_suffix_list.dat",
	    "/usr/share/publicsuffix/public_suffix_list.dat",
	};
	psl_ctx_t *psl = NULL;
	*owned = 1;
	if (psl_file) {
		psl = psl_load_file(psl_file);
		if (!psl) {
			char tmp[512];
			snprintf(tmp, sizeof tmp, "cannot load Public Suffix List '%s'", psl_file);
			*err = xstrdup(tmp);
		}
		return psl;
	}
	for (size_t i = 0; i < sizeof psl_paths / sizeof *psl_paths && !psl; i++)
		psl = psl_load_file(psl_paths[i]);
	if (!psl) {
		*owned = 0;
		psl = (psl_ctx_t *)psl_builtin();
	}
	return psl;
}

/* The compiled libmagic database, mapped once per process when it can be
 * found (every libmagic handle then reads the same pages; loading it per
 * handle cost each parsing thread ~8 MB). */
struct extract_shared {
	psl_ctx_t *psl;
	int psl_owned;
	void *mgc;
	size_t mgc_len;
};

/* warm_gmime - parse one small message of every common kind on the
 * calling thread, so GMime's and GObject's lazily made classes and charset
 * tables exist before parsing threads start (they would be made under
 * GLib's own locks anyway; made here, no thread ever races to make them). */
static void warm_gmime(void)
{
	static const char msg[] =
	    "From: =?iso-8859-1?q?J=E9r=F4me?= <a@example.org>, b@example.org\r\n"
	    "To: c@example.org\r\nDate: Tue, 2 Jan 2024 09:00:00 +0100\r\n"
	    "Subject: =?utf-8?b?w6l0w6k=?=\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
	    "--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n"
	    "--b2\r\nContent-Type: text/plain; charset=windows-1252\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n"
	    "--b2\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nPGI+eDwvYj4=\r\n--b2--\r\n"
	    "--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: d@example.org\r\n"
	    "Subject: inner\r\n\r\nbody\r\n--b1--\r\n";
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, sizeof msg - 1);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	if (m) {
		GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(m));
		do {
			GMimeObject *o = g_mime_part_iter_get_current(it);
			if (GMIME_IS_PART(o)) {
				GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(o));
				GMimeStream *out = g_mime_stream_mem_new();
				if (dw)
					g_mime_data_wrapper_write_to_stream(dw, out);
				g_object_unref(out);
			}
		} while (g_mime_part_iter_next(it));
		g_mime_part_iter_free(it);
		g_object_unref(m);
	}
	g_object_unref(p);
	g_object_unref(st);
}

struct extract_shared *extract_shared_new(const char *psl_file, char **err)
{
	struct extract_shared *sh = xcalloc(1, sizeof *sh);
	g_mime_init();
	warm_gmime();
	sh->psl = psl_load(psl_file, &sh->psl_owned, err);
	if (!sh->psl)
		return extract_shared_free(sh);
	static const char *const mgc_paths[] = {"/usr/lib/file/magic.mgc",
						"/usr/share/misc/magic.mgc"};
	/* $MAGIC names another database: leave loading to libmagic */
	for (size_t i = 0; i < sizeof mgc_paths / sizeof *mgc_paths && !getenv("MAGIC"); i++) {
		int fd = open(mgc_paths[i], O_RDONLY | O_CLOEXEC);
		struct stat sb;
		if (fd < 0)
			continue;
		if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
			void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (p != MAP_FAILED) {
				sh->mgc = p;
				sh->mgc_len = (size_t)sb.st_size;
			}
		}
		close(fd);
		if (sh->mgc)
			break;
	}
	return sh;
}

const void *extract_shared_psl(const struct extract_shared *sh)
{
	return sh->psl;
}

struct extract_shared *extract_shared_free(struct extract_shared *sh)
{
	if (sh) {
		if (sh->psl && sh->psl_owned)
			psl_free(sh->psl);
		if (sh->mgc)
			munmap(sh->mgc, sh->mgc_len);
		free(sh);
	}
	return NULL;
}

static struct extractor *extractor_make(psl_ctx_t *psl, int psl_owned,
					const struct extract_shared *sh, char **err)
{
	struct extractor *x = xcalloc(1, sizeof(*x));
	x->psl = psl;
	x->psl_owned = psl_owned;
	x->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
	int loaded = 0;
	if (x->magic && sh && sh->mgc) {
		void *bufs[1] = {sh->mgc};
		size_t sizes[1] = {sh->mgc_len};
		loaded = magic_load_buffers(x->magic, bufs, sizes, 1) == 0;
	}
	if (x->magic && !loaded)
		loaded = magic_load(x->magic, NULL) == 0;
	if (!loaded) {
		*err = xstrdup("cannot load the libmagic database");
		return extractor_free(x);
	}
	g_mime_init();
	x->opts = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(x->opts, parser_warning, x);
	return x;
}

struct extractor *extractor_new(const char *psl_file, char **err)
{
	int owned;
	psl_ctx_t *psl = psl_load(psl_file, &owned, err);
	if (!psl)
		return NULL;
	return extractor_make(psl, owned, NULL, err);
}

struct extractor *extractor_new_shared(const struct extract_shared *sh, char **err)
{
	return extractor_make(sh->psl, 0, sh, err);
}

struct extractor *extractor_free(struct extractor *x)
{
	if (!x)
		return NULL;
	if (x->psl && x->psl_owned)
		psl_free(x->psl);
	if (x->magic)
		magic_close(x->magic);
	if (x->opts)
		g_mime_parser_options_free(x->opts);
	archive_lazy_close(&x->ar);
	free(x);
	return NULL;
}

/* Decoded text of the parts of one report, shared by forward detection and
 * the body walk so no part is decoded twice. Texts live in the arena of the
 * result they were decoded for; the cache is per suspect. */
#define TEXT_CACHE 8
struct text_cache {
	GMimeObject *part[TEXT_CACHE];
	char *text[TEXT_CACHE];
	size_t len[TEXT_CACHE];
	int n;
};

/* Per-suspect working state. */
struct walk {
	struct text_cache *tc;
	struct extractor *x;
	struct result *r;
	struct url_sink sink;
	size_t decoded, budget;
	int have_text;		 /* body_text came from a text/plain part */
	const char *html_anchor; /* inline forward: links only after this text */
};

/* ---- headers ---------------------------------------------------------- */

/* first_mailbox - address and name of the first mailbox in a list. */
static void first_mailbox(struct result *r, InternetAddressList *l, char **addr, char **name)
{
	if (!l)
		return;
	int n = internet_address_list_length(l);
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a =
			    internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			const char *nm = internet_address_get_name(ia);
			if (a && *a && addr)
				*addr = arena_strdup(&r->arena, a);
			if (nm && *nm && name)
				*name = arena_strdup(&r->arena, nm);
			return;
		}
	}
}

/* add_email - record an address and its domain as indicators. */
static void add_email(struct walk *w, const char *addr, const char *found_in)
{
	if (!addr || !*addr)
		return;
	const char *at = strrchr(addr, '@');
	if (!at || at == addr || !at[1])
		return;
	result_add_ind(w->r, IND_EMAIL, addr, strlen(addr), found_in);
	ioc_add_domain(w->r, w->x->psl, at + 1, strlen(at + 1), found_in);
}

/* add_all_mailboxes - every mailbox of a list (groups flattened one level
 * only: nested groups are invalid and a known attack shape). */
static void add_all_mailboxes(struct walk *w, InternetAddressList *l, const char *found_in)
{
	if (!l)
		return;
	int n = internet_address_list_length(l);
	if (n > 1000)
		n = 1000;
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			add_email(w,
				  internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)),
				  found_in);
	}
}

/* parse_addr_value - parse a header value into an address list. */
static InternetAddressList *parse_addr_value(struct walk *w, const char *v)
{
	return v ? internet_address_list_parse(w->x->opts, v) : NULL;
}

/* iso_date - RFC 5322 date to ISO 8601 UTC, or NULL if unparseable. */
static char *iso_date(struct result *r, const char *v)
{
	if (!v)
		return NULL;
	GDateTime *dt = g_mime_utils_header_decode_date(v);
	if (!dt)
		return NULL;
	GDateTime *u = g_date_time_to_utc(dt);
	g_date_time_unref(dt);
	char *s = g_date_time_format(u, "%Y-%m-%dT%H:%M:%SZ");
	g_date_time_unref(u);
	char *out = arena_strdup(&r->arena, s);
	g_free(s);
	return out;
}

/* reg_of - registrable domain of a host name from a Received clause. */
static const char *reg_of(struct walk *w, const char *host)
{
	if (!host || !strchr(host, '.'))
		return NULL;
	char low[256];
	size_t n = 0;
	for (; host[n] && n < sizeof low - 1; n++)
		low[n] = (char)tolower((unsigned char)host[n]);
	low[n] = '\0';
	const char *reg = psl_registrable_domain(w->x->psl, low);
	return reg ? arena_strdup(&w->r->arena, reg) : NULL;
}

/* trace_headers - Received chain, origin IP, authentication results. */
static void trace_headers(struct walk *w, GMimeObject *obj)
{
	struct result *r = w->r;
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int n = g_mime_header_list_get_count(hl);
	int received_seen = 0;
	if ((unsigned)n > SHIELD_MAX_HEADERS) {
		result_finding(r, "limit.headers", "%d header fields", n);
		n = SHIELD_MAX_HEADERS;
	}
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *val = g_mime_header_get_value(h);
		if (!name || !val)
			continue;
		if (strlen(val) > SHIELD_MAX_HEADER_BYTES) {
			result_finding(r, "limit.header_size", "%s", name);
			continue;
		}
		if (!strcasecmp(name, "Received")) {
			if (++received_seen > (int)SHIELD_MAX_RECEIVED) {
				result_finding(r, "limit.received", "more than %u Received headers",
					       SHIELD_MAX_RECEIVED);
				continue;
			}
			struct hop hop;
			if (received_parse(&r->arena, val, &hop)) {
				ARENA_PUSH(&r->arena, r->received.v, r->received.n,
					   r->received.cap);
				r->received.v[r->received.n++] = hop;
				if (hop.ip)
					result_add_ind(r, IND_IP, hop.ip, strlen(hop.ip),
						       "received");
			}
		} else if (!strcasecmp(name, "Authentication-Results")) {
			authres_parse(&r->arena, val, &r->auth_spf, &r->auth_dkim, &r->auth_dmarc);
		} else if (!strcasecmp(name, "Received-SPF")) {
			if (!r->auth_spf)
				r->auth_spf = received_spf_parse(&r->arena, val);
		} else if (!strcasecmp(name, "DKIM-Signature")) {
			struct dkim_sig sig;
			if (dkim_sig_parse(&r->arena, val, &sig)) {
				ARENA_PUSH(&r->arena, r->dkim_sigs.v, r->dkim_sigs.n,
					   r->dkim_sigs.cap);
				r->dkim_sigs.v[r->dkim_sigs.n++] = sig;
			}
		}
	}
	/* Origin: walking from the newest hop, the receiving side is every
	 * organisation (registrable domain) seen in a "by" clause so far; a
	 * hop "from" one of them is an internal relay, and private addresses
	 * are internal too. The first public IP left handed the message to
	 * the receiving side. Lower hops could be forged by the sender, so we
	 * never trust the bottom-most one. */
	const char *recv[SHIELD_MAX_RECEIVED];
	size_t nrecv = 0;
	for (size_t i = 0; i < r->received.n; i++) {
		struct hop *h = &r->received.v[i];
		const char *by = reg_of(w, h->by);
		if (by && nrecv < SHIELD_MAX_RECEIVED)
			recv[nrecv++] = by;
		if (!h->ip || !ip_is_public(h->ip))
			continue;
		const char *from = reg_of(w, h->from);
		int internal = 0;
		for (size_t k = 0; from && k < nrecv && !internal; k++)
			internal = strcmp(from, recv[k]) == 0;
		if (internal && i + 1 < r->received.n)
			continue;
		r->origin_ip = h->ip;
		break;
	}
}

/* message_headers - addressing fields of a real (parsed) message. */
static void message_headers(struct walk *w, GMimeMessage *m)
{
	struct result *r = w->r;
	GMimeObject *obj = GMIME_OBJECT(m);
	first_mailbox(r, g_mime_message_get_from(m), &r->from, &r->from_name);
	first_mailbox(r, g_mime_message_get_reply_to(m), &r->reply_to, NULL);
	first_mailbox(r, g_mime_message_get_sender(m), &r->sender, NULL);
	first_mailbox(r, g_mime_message_get_to(m), &r->to, NULL);
	add_all_mailboxes(w, g_mime_message_get_from(m), "header:from");
	add_all_mailboxes(w, g_mime_message_get_reply_to(m), "header:reply-to");
	add_all_mailboxes(w, g_mime_message_get_sender(m), "header:sender");
	const char *rp = g_mime_object_get_header(obj, "Return-Path");
	if (rp) {
		InternetAddressList *l = parse_addr_value(w, rp);
		first_mailbox(r, l, &r->return_path, NULL);
		add_all_mailboxes(w, l, "header:return-path");
		if (l)
			g_object_unref(l);
	}
	const char *subj = g_mime_message_get_subject(m);
	if (subj)
		r->subject = arena_strdup(&r->arena, subj);
	const char *mid = g_mime_message_get_message_id(m);
	if (mid)
		r->message_id = arena_strdup(&r->arena, mid);
	const char *date = g_mime_object_get_header(obj, "Date");
	r->date = iso_date(r, date);
	if (date && !r->date)
		result_finding(r, "header.bad_date", "%.80s", date);
	trace_headers(w, obj);
}

/* ---- body ------------------------------------------------------------- */

/* decoded_bytes - a part's decoded content; NULL if the budget is spent. */
static GByteArray *decoded_bytes(struct walk *w, GMimePart *part, GMimeStream **keep)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	if (!dw)
		return NULL;
	GMimeStream *ms = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(dw, ms);
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	w->decoded += ba->len;
	if (w->decoded > w->budget) {
		result_finding(w->r, "limit.decoded_bytes", "more than %zu decoded bytes",
			       w->budget);
		g_object_unref(ms);
		return NULL;
	}
	*keep = ms;
	return ba;
}

/* utf8_charset - charsets whose bytes need no conversion to UTF-8. */
static int utf8_charset(const char *cs)
{
	return !cs || !strcasecmp(cs, "utf-8") || !strcasecmp(cs, "utf8") ||
	       !strcasecmp(cs, "us-ascii") || !strcasecmp(cs, "ascii");
}

/* part_text - a text part decoded to UTF-8, in r's arena. UTF-8 and ASCII
 * parts are only transfer-decoded (most mail; iconv would cost a copy and
 * a conversion for nothing, and invalid bytes are handled at output); other
 * charsets go through GMime's converter. NULL if the budget is spent. */
static char *part_text(struct walk *w, GMimePart *part, size_t *len)
{
	struct text_cache *tc = w->tc;
	GMimeObject *o = GMIME_OBJECT(part);
	for (int i = 0; tc && i < tc->n; i++)
		if (tc->part[i] == o) {
			*len = tc->len[i];
			return tc->text[i];
		}
	char *out = NULL;
	const char *cs = g_mime_object_get_content_type_parameter(o, "charset");
	if (utf8_charset(cs)) {
		GMimeStream *ms = NULL;
		GByteArray *ba = decoded_bytes(w, part, &ms);
		if (!ba)
			return NULL;
		out = arena_strndup(&w->r->arena, (const char *)ba->data, ba->len);
		*len = ba->len;
		g_object_unref(ms);
	} else {
		char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
		if (!t)
			return NULL;
		*len = strlen(t);
		w->decoded += *len;
		if (w->decoded > w->budget) {
			result_finding(w->r, "limit.decoded_bytes", "more than %zu decoded bytes",
				       w->budget);
			g_free(t);
			return NULL;
		}
		out = arena_strndup(&w->r->arena, t, *len);
		g_free(t);
	}
	if (tc && tc->n < TEXT_CACHE) {
		tc->part[tc->n] = o;
		tc->text[tc->n] = out;
		tc->len[tc->n++] = *len;
	}
	return out;
}

/* anchor_offset - where the forwarded message starts inside an HTML body
 * of an inline forward: links before it belong to the reporter. */
static size_t anchor_offset(const char *html, size_t len, const char *anchor)
{
	if (!anchor || !*anchor)
		return 0;
	const char *p = memmem(html, len, anchor, strlen(anchor));
	return p ? (size_t)(p - html) : 0;
}

/* text_part - a text/plain or text/html body part. */
static void text_part(struct walk *w, GMimePart *part, int is_html, int is_attachment)
{
	struct result *r = w->r;
	size_t len;
	char *text = part_text(w, part, &len);
	if (!text)
		return;
	/* embedded NULs end the text: what follows is not readable text */
	len = strnlen(text, len);
	if (len > SHIELD_MAX_SCAN_BYTES) {
		result_finding(r, "limit.scan_bytes", "text part of %zu bytes", len);
		len = SHIELD_MAX_SCAN_BYTES;
	}
	if (is_html) {
		size_t off = is_attachment ? 0 : anchor_offset(text, len, w->html_anchor);
		url_extract_html(&w->sink, text + off, len - off);
		if (!w->have_text && !r->body_text && !is_attachment) {
			size_t tl;
			r->body_text = html_to_text(&r->arena, text + off, len - off, &tl);
		}
	} else if (!w->html_anchor) {
		/* inline forwards take their text from the forward block */
		url_extract_text(&w->sink, text, len, is_attachment ? "attachment" : "text");
		ioc_emails_in_text(r, w->x->psl, text, len, "body");
		if (!w->have_text && !is_attachment) {
			r->body_text = text;
			w->have_text = 1;
		}
	}
}

/* leaf_attachment - describe an attachment (or inline non-text part). */
static void leaf_attachment(struct walk *w, GMimePart *part, const char *ctype)
{
	struct result *r = w->r;
	if (r->attachments.n >= SHIELD_MAX_ATTACHMENTS) {
		result_finding(r, "limit.attachments", "more than %u attachments",
			       SHIELD_MAX_ATTACHMENTS);
		return;
	}
	GMimeStream *ms = NULL;
	GByteArray *ba = decoded_bytes(w, part, &ms);
	if (!ba)
		return;
	ARENA_PUSH(&r->arena, r->attachments.v, r->attachments.n, r->attachments.cap);
	struct attachment *a = &r->attachments.v[r->attachments.n++];
	memset(a, 0, sizeof *a);
	const char *fn = g_mime_part_get_filename(part);
	if (fn)
		a->name = arena_strdup(&r->arena, fn);
	a->declared_type = arena_strdup(&r->arena, ctype);
	attach_describe(r, w->x->magic, &w->x->ar, ba->data, ba->len, a);
	/* HTML and text attachments carry links too (HTML-attachment phishing) */
	if (a->true_type && (!strcmp(a->true_type, "text/html") || !strcmp(ctype, "text/html"))) {
		size_t n = ba->len > SHIELD_MAX_SCAN_BYTES ? SHIELD_MAX_SCAN_BYTES : ba->len;
		url_extract_html(&w->sink, (const char *)ba->data, n);
	}
	g_object_unref(ms);
}

/* walk_body - every part under root, iteratively. */
static void walk_body(struct walk *w, GMimeObject *root)
{
	struct result *r = w->r;
	struct mime_iter it;
	GMimeObject *o;
	mime_iter_init(&it, root, 1);
	while ((o = mime_iter_next(&it, NULL)) != NULL) {
		if (++r->parts > (int)SHIELD_MAX_MIME_PARTS) {
			result_finding(r, "limit.mime_parts", "more than %u parts",
				       SHIELD_MAX_MIME_PARTS);
			break;
		}
		GMimeContentType *ct = g_mime_object_get_content_type(o);
		char *ctype = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
		for (char *c = ctype; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (GMIME_IS_MULTIPART(o)) {
			if (!strcmp(ctype, "multipart/signed")) {
				const char *proto =
				    g_mime_content_type_get_parameter(ct, "protocol");
				if (proto && strcasestr(proto, "pkcs7-signature"))
					r->smime_signed = 1;
				else if (proto && strcasestr(proto, "pgp-signature"))
					r->pgp_signed = 1;
			}
		} else if (GMIME_IS_PART(o)) {
			GMimePart *part = GMIME_PART(o);
			const char *disp = g_mime_object_get_disposition(o);
			int is_attachment = (disp && !strcasecmp(disp, "attachment")) ||
					    g_mime_part_get_filename(part) != NULL;
			if (!strcmp(ctype, "application/pkcs7-signature") ||
			    !strcmp(ctype, "application/x-pkcs7-signature"))
				r->smime_signed = 1;
			else if (!strcmp(ctype, "application/pkcs7-mime") ||
				 !strcmp(ctype, "application/x-pkcs7-mime")) {
				const char *st =
				    g_mime_content_type_get_parameter(ct, "smime-type");
				if (st && !strcasecmp(st, "signed-data"))
					r->smime_signed = 1;
			} else if (!strcmp(ctype, "application/pgp-signature"))
				r->pgp_signed = 1;
			if (GMIME_IS_TEXT_PART(o) &&
			    (!strcmp(ctype, "text/plain") || !strcmp(ctype, "text/html")) &&
			    !is_attachment)
				text_part(w, part, ctype[5] == 'h', 0);
			else
				leaf_attachment(w, part, ctype);
		}
		g_free(ctype);
	}
	if (it.too_deep)
		result_finding(r, "limit.mime_depth", "deeper than %u", SHIELD_MAX_MIME_DEPTH);
}

/* ---- suspects --------------------------------------------------------- */

/* finish - derived indicators: URL hosts as domains/IPs, message hash. */
static void finish(struct walk *w, const char *raw, size_t raw_len, const char *known_sha)
{
	struct result *r = w->r;
	for (size_t i = 0; i < r->urls.n; i++) {
		struct ind_url *u = &r->urls.v[i];
		char ipbuf[46];
		const char *h = u->host;
		if (!h || !*h)
			continue;
		size_t hl = strlen(h);
		if (h[0] == '[' && hl > 2 && ip_parse(h + 1, hl - 2, ipbuf))
			result_add_ind(r, IND_IP, ipbuf, strlen(ipbuf), "url");
		else if (ip_parse(h, hl, ipbuf))
			result_add_ind(r, IND_IP, ipbuf, strlen(ipbuf), "url");
		else
			ioc_add_domain(r, w->x->psl, h, hl, "url");
	}
	if (raw && known_sha) {
		memcpy(r->msg_sha256, known_sha, 65);
		r->msg_size = raw_len;
	} else if (raw) {
		sha256_hex(raw, raw_len, r->msg_sha256);
		r->msg_size = raw_len;
	} else {
		/* Reconstructed (inline) message: identity is what the citizen
		 * saw, so two forwards of one phish share it. */
		struct buf b = BUF_INIT(SHIELD_MAX_MESSAGE_BYTES);
		buf_adds(&b, r->from ? r->from : "");
		buf_addc(&b, '\n');
		buf_adds(&b, r->subject ? r->subject : "");
		buf_addc(&b, '\n');
		buf_adds(&b, r->body_text ? r->body_text : "");
		sha256_hex(b.data, b.len, r->msg_sha256);
		r->msg_size = b.len;
		buf_release(&b);
	}
}

static void walk_init(struct walk *w, struct extractor *x, struct result *r, size_t raw_len)
{
	memset(w, 0, sizeof *w);
	w->x = x;
	w->r = r;
	url_sink_init(&w->sink, r, (const struct psl_ctx_st *)x->psl);
	size_t b = raw_len * SHIELD_MAX_DECODED_RATIO + 65536;
	w->budget = b > SHIELD_MAX_DECODED_BYTES ? SHIELD_MAX_DECODED_BYTES : b;
}

/* plain_text_of - the first text/plain (else HTML as text) of a message,
 * not descending into attached messages; in r's arena. */
static char *plain_text_of(struct walk *w, GMimeObject *root, size_t *len)
{
	char *html_text = NULL;
	size_t html_len = 0;
	unsigned visited = 0;
	struct mime_iter it;
	GMimeObject *o;
	mime_iter_init(&it, root, 0);
	while ((o = mime_iter_next(&it, NULL)) != NULL && visited++ < SHIELD_MAX_MIME_PARTS) {
		if (!GMIME_IS_TEXT_PART(o))
			continue;
		const char *disp = g_mime_object_get_disposition(o);
		if (disp && !strcasecmp(disp, "attachment"))
			continue;
		GMimeContentType *ct = g_mime_object_get_content_type(o);
		int plain = g_mime_content_type_is_type(ct, "text", "plain");
		int html = g_mime_content_type_is_type(ct, "text", "html");
		if (!plain && !(html && !html_text))
			continue;
		size_t tl;
		char *t = part_text(w, GMIME_PART(o), &tl);
		if (!t)
			continue;
		tl = strnlen(t, tl);
		if (tl > SHIELD_MAX_FWD_SCAN_BYTES)
			tl = SHIELD_MAX_FWD_SCAN_BYTES;
		if (plain) {
			*len = tl;
			return t;
		}
		html_text = html_to_text(&w->r->arena, t, tl, &html_len);
	}
	*len = html_len;
	return html_text;
}

/* parse_encoded_message - a message/rfc822 part sent with a transfer
 * encoding (base64 or quoted-printable: not allowed by RFC 2046, but mail
 * clients do it, and GMime then leaves it an opaque part): decode it and
 * parse it as a message. Returns a new reference, or NULL. */
static GMimeMessage *parse_encoded_message(struct extractor *x, GMimePart *part)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	if (!dw)
		return NULL;
	GMimeStream *ms = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(dw, ms);
	g_mime_stream_reset(ms);
	GMimeParser *p = g_mime_parser_new_with_stream(ms);
	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	GMimeMessage *m = g_mime_parser_construct_message(p, x->opts);
	g_object_unref(p);
	g_object_unref(ms);
	return m;
}

/* collect_attached - top-level message/rfc822 parts of the reporter's
 * message (not inside multipart/report: a bounce's original is not a
 * citizen's forward). out receives new references (caller unrefs). */
static int collect_attached(struct extractor *x, GMimeObject *root, GMimeMessage **out, int max)
{
	int n = 0;
	unsigned visited = 0;
	struct mime_iter it;
	GMimeObject *o;
	mime_iter_init(&it, root, 0);
	while (n < max && (o = mime_iter_next(&it, NULL)) != NULL &&
	       visited++ < SHIELD_MAX_MIME_PARTS) {
		if (GMIME_IS_MULTIPART(o)) {
			GMimeContentType *ct = g_mime_object_get_content_type(o);
			if (g_mime_content_type_is_type(ct, "multipart", "report"))
				mime_iter_skip(&it);
		} else if (GMIME_IS_MESSAGE_PART(o)) {
			GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
			if (m)
				out[n++] = g_object_ref(m);
		} else if (GMIME_IS_PART(o)) {
			GMimeContentType *ct = g_mime_object_get_content_type(o);
			if (g_mime_content_type_is_type(ct, "message", "rfc822")) {
				GMimeMessage *m = parse_encoded_message(x, GMIME_PART(o));
				if (m)
					out[n++] = m;
			}
		}
	}
	return n;
}

/* raw_of - serialised bytes of an attached message (g_free'd by caller). */
static GByteArray *raw_of(GMimeMessage *m, GMimeStream **keep)
{
	GMimeStream *ms = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, ms);
	*keep = ms;
	return g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
}

/* oversized - a report too large to parse: one result, raw kept. */
static int oversized(const char *report_sha, size_t len, const char *source, long idx,
		     extract_cb cb, void *ctx)
{
	struct result *r = result_new(source, idx);
	result_finding(r, "limit.message_size", "%zu bytes (limit %u); stored unparsed", len,
		       SHIELD_MAX_MESSAGE_BYTES);
	memcpy(r->msg_sha256, report_sha, 65);
	r->msg_size = len;
	cb(ctx, r);
	result_free(r);
	return 1;
}

int extract_report(struct extractor *x, const char *data, size_t len, const char *source,
		   long source_index, char report_sha[65], extract_cb cb, void *ctx)
{
	/* ingest hashes first to skip duplicates; do not hash twice */
	if (strlen(report_sha) != 64)
		sha256_hex(data, len, report_sha);
	if (len > SHIELD_MAX_MESSAGE_BYTES)
		return oversized(report_sha, len, source, source_index, cb, ctx);

	/* Parser warnings for the outer message go to a scratch result and
	 * are copied to every suspect, so no finding is lost. */
	struct result *outer = result_new(source, source_index);
	x->cur = outer;
	/* Parse the caller's bytes in place: g_mime_stream_mem_new_with_buffer()
	 * would copy every report (and a big one twice over while its array
	 * grows). The stream does not own the array, nothing writes to it, and
	 * it is let go below, after the last GMime object that reads it. */
	GByteArray *in = g_byte_array_new_take((guint8 *)(uintptr_t)data, len);
	GMimeStream *st = g_mime_stream_mem_new_with_byte_array(in);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	GMimeMessage *msg = g_mime_parser_construct_message(p, x->opts);
	g_object_unref(p);
	g_object_unref(st);
	x->cur = NULL;
	if (len == 0)
		result_finding(outer, "input.empty", "the report is empty");

	int produced = 0;
	GMimeMessage *att[SHIELD_MAX_SUSPECTS];
	int natt = 0;
	if (msg) {
		GMimeObject *root = g_mime_message_get_mime_part(msg);
		if (root)
			natt = collect_attached(x, root, att, (int)SHIELD_MAX_SUSPECTS);
	} else {
		result_finding(outer, "mime.unparseable", "GMime could not parse the message");
	}

	char *reporter = NULL;
	if (msg)
		first_mailbox(outer, g_mime_message_get_from(msg), &reporter, NULL);

	if (natt > 0) {
		for (int i = 0; i < natt; i++) {
			GMimeMessage *inner = att[i];
			struct result *r = result_new(source, source_index);
			struct walk w;
			struct text_cache tc = {0};
			walk_init(&w, x, r, len);
			w.tc = &tc;
			r->forward = "attached";
			r->suspect_index = i;
			r->reporter = arena_strdup(&r->arena, reporter);
			for (size_t f = 0; f < outer->findings.n; f++)
				result_finding(
				    r, outer->findings.v[f].code, "%s",
				    outer->findings.v[f].detail ? outer->findings.v[f].detail : "");
			message_headers(&w, inner);
			walk_body(&w, g_mime_message_get_mime_part(inner));
			GMimeStream *keep = NULL;
			GByteArray *ba = raw_of(inner, &keep);
			finish(&w, (const char *)ba->data, ba->len, NULL);
			r->raw = (const char *)ba->data;
			r->raw_len = ba->len;
			produced++;
			int stop = cb(ctx, r);
			g_object_unref(keep); /* after the callback: r->raw points into it */
			result_free(r);
			if (stop)
				break;
		}
	} else {
		struct result *r = result_new(source, source_index);
		struct walk w;
		struct text_cache tc = {0};
		walk_init(&w, x, r, len);
		w.tc = &tc;
		for (size_t f = 0; f < outer->findings.n; f++)
			result_finding(r, outer->findings.v[f].code, "%s",
				       outer->findings.v[f].detail ? outer->findings.v[f].detail
								   : "");
		struct inline_forward fwd;
		int inl = 0;
		if (msg) {
			GMimeObject *root = g_mime_message_get_mime_part(msg);
			size_t tl = 0;
			char *text = root ? plain_text_of(&w, root, &tl) : NULL;
			memset(&fwd, 0, sizeof fwd);
			inl = text && forward_find_inline(&r->arena, text, tl, &fwd);
			if (inl) {
				r->forward = "inline";
				r->forward_style = arena_strdup(&r->arena, fwd.style);
				r->reporter = arena_strdup(&r->arena, reporter);
				r->from = fwd.from_addr;
				r->from_name = fwd.from_name;
				r->subject = fwd.subject;
				r->date = iso_date(r, fwd.date);
				if (!r->date && fwd.date)
					r->date = fwd.date; /* localised dates stay as written */
				if (fwd.reply_to) {
					InternetAddressList *l = parse_addr_value(&w, fwd.reply_to);
					first_mailbox(r, l, &r->reply_to, NULL);
					if (l)
						g_object_unref(l);
				}
				if (fwd.to) {
					InternetAddressList *l = parse_addr_value(&w, fwd.to);
					first_mailbox(r, l, &r->to, NULL);
					if (l)
						g_object_unref(l);
				}
				add_email(&w, r->from, "forward:from");
				add_email(&w, r->reply_to, "forward:reply-to");
				r->body_text = fwd.body;
				w.have_text = 1;
				url_extract_text(&w.sink, fwd.body, fwd.body_len, "text");
				ioc_emails_in_text(r, x->psl, fwd.body, fwd.body_len, "body");
				/* links in HTML parts: only after the forwarded
				 * sender appears (the reporter's signature is not
				 * evidence) */
				w.html_anchor = fwd.from_addr ? fwd.from_addr : fwd.subject;
				if (!w.html_anchor)
					w.html_anchor = "";
				walk_body(&w, root);
			}
		}
		if (!inl) {
			r->forward = "none";
			if (msg) {
				message_headers(&w, msg);
				GMimeObject *root = g_mime_message_get_mime_part(msg);
				if (root)
					walk_body(&w, root);
			}
		}
		finish(&w, inl ? NULL : data, inl ? 0 : len, report_sha);
		if (!inl) {
			r->raw = data;
			r->raw_len = len;
		}
		produced++;
		cb(ctx, r);
		result_free(r);
	}
	for (int i = 0; i < natt; i++)
		g_object_unref(att[i]);
	if (msg)
		g_object_unref(msg);
	g_byte_array_free(in, FALSE); /* the bytes stay the caller's */
	result_free(outer);
	return produced;
}
