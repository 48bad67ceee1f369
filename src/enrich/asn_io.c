/*
 * asn_io.c - decompressing reader, bounded line splitter and CSV fields
 * (see asn_io.h).
 *
 * Plain files are read with read(2) into a 1 MiB buffer: a 1,000,000-line
 * feed is on the hot path of `shield feed`, and libarchive's raw format
 * would add a copy per block. Compressed input (recognised by its magic
 * bytes, never by the file name) goes through libarchive's filters;
 * libarchive is loaded then (lazylib.h), not for plain input.
 * Security: the line buffer never grows past max_line + one block.
 */
#include "enrich/asn_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/lazylib.h"
#include "common/xalloc.h"

#define ZR_BLOCK (1u << 20)

struct zreader {
	int fd;
	int own_fd;
	struct archive_api api; /* loaded for compressed input only */
	struct archive *ar;
	unsigned char *buf; /* pending bytes are buf[pos..end) */
	size_t pos, end, cap;
	size_t max_line;
	int eof, failed;
	char err[256];
};

/* is_compressed - magic numbers of the filters we hand to libarchive. */
static int is_compressed(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return 1; /* gzip */
	if (n >= 3 && !memcmp(p, "BZh", 3))
		return 1;
	if (n >= 6 && !memcmp(p,
			      "\xfd"
			      "7zXZ\0",
			      6))
		return 1;
	if (n >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))
		return 1; /* zstd */
	if (n >= 4 && !memcmp(p, "\x04\x22\x4d\x18", 4))
		return 1; /* lz4 */
	return 0;
}

struct zreader *zr_open(const char *path, size_t max_line, char *err, size_t errlen)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	struct zreader *z = xcalloc(1, sizeof *z);
	z->fd = fd;
	z->own_fd = fd != 0;
	z->max_line = max_line;
	z->cap = ZR_BLOCK + max_line + 1;
	z->buf = xmalloc(z->cap);
	/* Read the first block ourselves; if it is compressed, hand libarchive
	 * a callback-free path: reopen by name (stdin cannot be compressed). */
	ssize_t r;
	do
		r = read(fd, z->buf, ZR_BLOCK);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		zr_close(z);
		return NULL;
	}
	z->end = (size_t)r;
	if (z->own_fd && is_compressed(z->buf, z->end)) {
		z->end = 0;
		char why[300];
		if (archive_api_open(&z->api, why, sizeof why)) {
			snprintf(err, errlen, "cannot decompress '%s': %s", path, why);
			zr_close(z);
			return NULL;
		}
		const struct archive_api *A = &z->api;
		z->ar = A->read_new();
		A->read_support_filter_all(z->ar);
		A->read_support_format_raw(z->ar);
		struct archive_entry *e;
		if (lseek(fd, 0, SEEK_SET) < 0 || A->read_open_fd(z->ar, fd, 65536) != ARCHIVE_OK ||
		    A->read_next_header(z->ar, &e) != ARCHIVE_OK) {
			snprintf(err, errlen, "cannot decompress '%s': %s", path,
				 A->error_string(z->ar) ? A->error_string(z->ar) : strerror(errno));
			zr_close(z);
			return NULL;
		}
	}
	return z;
}

void zr_close(struct zreader *z)
{
	if (!z)
		return;
	if (z->ar)
		z->api.read_free(z->ar);
	archive_api_close(&z->api);
	if (z->own_fd)
		close(z->fd);
	free(z->buf);
	free(z);
}

const char *zr_error(struct zreader *z)
{
	return z->err;
}

int zr_compressed(struct zreader *z)
{
	return z->ar != NULL;
}

/* fill - read one more block after the pending bytes (moved to the front
 * first). Returns bytes added, 0 at the end, -1 on error. */
static ssize_t fill(struct zreader *z)
{
	if (z->eof || z->failed)
		return z->failed ? -1 : 0;
	if (z->pos > 0) {
		memmove(z->buf, z->buf + z->pos, z->end - z->pos);
		z->end -= z->pos;
		z->pos = 0;
	}
	size_t room = z->cap - z->end - 1;
	if (room > ZR_BLOCK)
		room = ZR_BLOCK;
	if (room == 0)
		return 0;
	ssize_t r;
	if (z->ar) {
		r = z->api.read_data(z->ar, z->buf + z->end, room);
		if (r < 0) {
			/* Truncated archives (RIB "firstMB" samples) end here:
			 * what was decoded before stays usable. */
			snprintf(z->err, sizeof z->err, "%s", z->api.error_string(z->ar));
			z->failed = 1;
			return -1;
		}
	} else {
		do
			r = read(z->fd, z->buf + z->end, room);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			snprintf(z->err, sizeof z->err, "%s", strerror(errno));
			z->failed = 1;
			return -1;
		}
	}
	if (r == 0)
		z->eof = 1;
	z->end += (size_t)r;
	return r;
}

int zr_getline(struct zreader *z, char **line, size_t *len, int *toolong)
{
	*toolong = 0;
	size_t scanned = 0;
	for (;;) {
		unsigned char *start = z->buf + z->pos;
		size_t avail = z->end - z->pos;
		unsigned char *nl =
		    avail > scanned ? memchr(start + scanned, '\n', avail - scanned) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - start);
			z->pos += n + 1;
			if (n > z->max_line) {
				*toolong = 1;
				n = z->max_line;
			}
			if (n && start[n - 1] == '\r')
				n--;
			start[n] = '\0';
			*line = (char *)start;
			*len = n;
			return 1;
		}
		scanned = avail;
		if (avail >= z->max_line) {
			/* Too long: drop bytes up to the next newline, keep the
			 * first max_line bytes aside by returning them at once. */
			*toolong = 1;
			for (;;) {
				z->pos = z->end; /* discard */
				ssize_t r = fill(z);
				if (r <= 0)
					break;
				unsigned char *p = memchr(z->buf, '\n', z->end);
				if (p) {
					z->pos = (size_t)(p - z->buf) + 1;
					break;
				}
			}
			*line = (char *)"";
			*len = 0;
			return 1;
		}
		ssize_t r = fill(z);
		if (r < 0 && z->end == z->pos)
			return -1;
		if (r <= 0) {
			if (z->end == z->pos)
				return 0;
			/* last line without a newline */
			size_t n = z->end - z->pos;
			unsigned char *s = z->buf + z->pos;
			z->pos = z->end;
			if (n && s[n - 1] == '\r')
				n--;
			s[n] = '\0';
			*line = (char *)s;
			*len = n;
			return 1;
		}
		scanned = 0;
	}
}

ssize_t zr_read(struct zreader *z, void *dst, size_t n)
{
	size_t got = 0;
	while (got < n) {
		if (z->pos == z->end) {
			ssize_t r = fill(z);
			if (r < 0)
				return got ? (ssize_t)got : -1;
			if (r == 0)
				break;
		}
		size_t take = z->end - z->pos;
		if (take > n - got)
			take = n - got;
		memcpy((char *)dst + got, z->buf + z->pos, take);
		z->pos += take;
		got += take;
	}
	return (ssize_t)got;
}

size_t zr_peek(struct zreader *z, const unsigned char **p, size_t n)
{
	while (z->end - z->pos < n) {
		if (fill(z) <= 0)
			break;
	}
	*p = z->buf + z->pos;
	return z->end - z->pos < n ? z->end - z->pos : n;
}

int csv_split(char *line, size_t len, char sep, char **fields, size_t *lens, int max)
{
	int nf = 0;
	size_t i = 0;
	for (;;) {
		if (nf == max)
			return nf;
		if (i < len && line[i] == '"') {
			/* quoted: unescape "" into the same storage */
			size_t w = i + 1, r = i + 1;
			fields[nf] = line + w;
			for (;;) {
				if (r >= len)
					return -1;
				if (line[r] == '"') {
					if (r + 1 < len && line[r + 1] == '"') {
						line[w++] = '"';
						r += 2;
						continue;
					}
					r++;
					break;
				}
				line[w++] = line[r++];
			}
			lens[nf] = w - (size_t)(fields[nf] - line);
			nf++;
			/* skip anything up to the separator */
			while (r < len && line[r] != sep)
				r++;
			if (r >= len)
				return nf;
			i = r + 1;
			continue;
		}
		const char *p = i < len ? memchr(line + i, sep, len - i) : NULL;
		size_t e = p ? (size_t)(p - line) : len;
		fields[nf] = line + i;
		lens[nf++] = e - i;
		if (!p)
			return nf;
		i = e + 1;
	}
}
