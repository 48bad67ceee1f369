/*
 * formats.c - plain lists, hosts file, CSV and JSON of the listings, the
 * format table, and the atomic file writer (see blocklist.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "act/blocklist.h"
#include "common/xalloc.h"

int blocklist_write_rpz(FILE *f, const struct bl_entry *e, size_t n, struct bl_meta *m);

const char *const blocklist_formats[] = {"rpz", "domains", "urls", "hosts", "csv", "json", NULL};

int blocklist_format_ok(const char *format)
{
	for (size_t i = 0; blocklist_formats[i]; i++)
		if (strcmp(format, blocklist_formats[i]) == 0)
			return 1;
	return 0;
}

const char *blocklist_file_name(const char *format)
{
	static const char *const names[][2] = {
	    {"rpz", "blocklist.rpz"}, {"domains", "domains.txt"}, {"urls", "urls.txt"},
	    {"hosts", "hosts"},	      {"csv", "blocklist.csv"},	  {"json", "blocklist.json"},
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(format, names[i][0]) == 0)
			return names[i][1];
	return "blocklist";
}

uint64_t blocklist_digest(const struct bl_entry *e, size_t n, const char *const *passthru,
			  size_t npassthru)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e[i].level, "domain") != 0)
			continue;
		for (const char *p = e[i].value; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ '\n') * 1099511628211ull;
	}
	h = (h ^ 0xff) * 1099511628211ull;
	for (size_t i = 0; i < npassthru; i++) {
		for (const char *p = passthru[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ '\n') * 1099511628211ull;
	}
	return h;
}

static const char *iso(int64_t t, char out[32])
{
	if (!t) {
		out[0] = '\0';
		return out;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

static void csv_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p, f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
		} else {
			fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void header(FILE *f, const char *c, const struct bl_meta *m, const char *what)
{
	char when[32];
	fprintf(f, "%s Shield %s - TLP:%s - generated %s\n", c, what, m->tlp ? m->tlp : "CLEAR",
		iso(m->generated_at, when));
}

int blocklist_write(FILE *f, const char *format, const struct bl_entry *e, size_t n,
		    struct bl_meta *m)
{
	char a[32], b[32], c[32], d[32];
	if (strcmp(format, "rpz") == 0)
		return blocklist_write_rpz(f, e, n, m);
	if (strcmp(format, "domains") == 0 || strcmp(format, "hosts") == 0) {
		int hosts = format[0] == 'h';
		header(f, "#", m,
		       hosts ? "hosts file (rogue domains; no wildcards in this format)"
			     : "rogue domains (each with its subdomains)");
		for (size_t i = 0; i < n; i++)
			if (strcmp(e[i].level, "domain") == 0)
				fprintf(f, "%s%s\n", hosts ? "0.0.0.0 " : "", e[i].value);
	} else if (strcmp(format, "urls") == 0) {
		header(f, "#", m, "phishing URLs (pages on shared or compromised sites)");
		for (size_t i = 0; i < n; i++)
			if (strcmp(e[i].level, "url") == 0)
				fprintf(f, "%s\n", e[i].value);
	} else if (strcmp(format, "csv") == 0) {
		fputs("level,value,reason,guard,first_seen,last_seen,listed_at,expires_at,reports,"
		      "tlp\n",
		      f);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "%s,", e[i].level);
			csv_field(f, e[i].value);
			fputc(',', f);
			csv_field(f, e[i].reason);
			fputc(',', f);
			csv_field(f, e[i].guard);
			fprintf(f, ",%s,%s,%s,%s,%ld,%s\n", iso(e[i].first_seen, a),
				iso(e[i].last_seen, b), iso(e[i].listed_at, c),
				iso(e[i].expires_at, d), e[i].reports, m->tlp ? m->tlp : "clear");
		}
	} else if (strcmp(format, "json") == 0) {
		fprintf(f, "{\"generator\":\"shield\",\"tlp\":");
		json_str(f, m->tlp ? m->tlp : "clear");
		fprintf(f, ",\"generated_at\":\"%s\",\"serial\":%" PRId64 ",\"entries\":[",
			iso(m->generated_at, a), m->serial);
		for (size_t i = 0; i < n; i++) {
			fputs(i ? ",\n{\"level\":" : "\n{\"level\":", f);
			json_str(f, e[i].level);
			fputs(",\"value\":", f);
			json_str(f, e[i].value);
			fputs(",\"reason\":", f);
			json_str(f, e[i].reason);
			fputs(",\"guard\":", f);
			json_str(f, e[i].guard);
			fprintf(f,
				",\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"listed_at\":\"%s\","
				"\"expires_at\":\"%s\",\"reports\":%ld}",
				iso(e[i].first_seen, a), iso(e[i].last_seen, b),
				iso(e[i].listed_at, c), iso(e[i].expires_at, d), e[i].reports);
		}
		fputs("\n]}\n", f);
	} else {
		errno = EINVAL;
		return -1;
	}
	return ferror(f) ? -1 : 0;
}

int blocklist_write_file(const char *path, const char *format, const struct bl_entry *e, size_t n,
			 struct bl_meta *m, char **err)
{
	char tmp[600];
	if (strcmp(path, "-") == 0) {
		if (blocklist_write(stdout, format, e, n, m) < 0 || fflush(stdout) != 0) {
			*err = xstrdup("cannot write to standard output");
			return -1;
		}
		return 0;
	}
	size_t pl = strlen(path);
	if (pl + 16 > sizeof tmp) {
		*err = xstrdup("output path too long");
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(tmp, sizeof tmp, "cannot create a temporary file next to '%s': %s", path,
			 strerror(errno));
		*err = xstrdup(tmp);
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		*err = xstrdup("cannot open temporary file");
		return -1;
	}
	char *vb = xmalloc(1 << 16);
	setvbuf(f, vb, _IOFBF, 1 << 16);
	int rc = blocklist_write(f, format, e, n, m);
	if (fflush(f) != 0 || fchmod(fileno(f), 0644) != 0 || fsync(fileno(f)) != 0)
		rc = -1;
	int saved = errno;
	if (fclose(f) != 0)
		rc = -1;
	free(vb);
	if (rc == 0 && rename(tmp, path) != 0) {
		saved = errno;
		rc = -1;
	}
	if (rc < 0) {
		unlink(tmp);
		char msg[700];
		snprintf(msg, sizeof msg, "cannot write '%s': %s", path, strerror(saved));
		*err = xstrdup(msg);
		return -1;
	}
	return 0;
}
