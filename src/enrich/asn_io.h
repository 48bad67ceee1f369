/*
 * asn_io.h - reading routing tables and feeds: transparent decompression
 * and bounded line splitting, plus a small RFC 4180 CSV field splitter.
 *
 * Ownership: a zreader owns its buffer; a line returned by zr_getline is
 * valid until the next call. CSV fields point into the caller's line
 * (quoted fields are unescaped in place, so the line must be writable).
 * Limits: a line longer than max_line is returned truncated with
 * *toolong set, and the rest of it is skipped, never buffered.
 * Security: all inputs are untrusted; nothing here allocates per line.
 */
#ifndef SHIELD_ASN_IO_H
#define SHIELD_ASN_IO_H
#include <stddef.h>
#include <sys/types.h>

struct zreader;

/* zr_open - open path ("-" is stdin) for reading, decompressing gzip,
 * bzip2, xz, zstd and lz4 as needed. NULL and err set on failure. */
struct zreader *zr_open(const char *path, size_t max_line, char *err, size_t errlen);
void zr_close(struct zreader *z);
/* zr_getline - next line without its "\n" or "\r\n"; 1 on success, 0 at
 * the end, -1 on a read error (zr_error says why, lines before it stand). */
int zr_getline(struct zreader *z, char **line, size_t *len, int *toolong);
/* zr_read - up to n bytes; returns the count (0 at the end) or -1. */
ssize_t zr_read(struct zreader *z, void *dst, size_t n);
/* zr_peek - the first bytes of the (decompressed) stream without
 * consuming them; returns how many are available (<= n). */
size_t zr_peek(struct zreader *z, const unsigned char **p, size_t n);
const char *zr_error(struct zreader *z);
/* zr_compressed - nonzero when a decompression filter is active. */
int zr_compressed(struct zreader *z);

/* csv_split - split line (len bytes, writable) on sep into at most max
 * fields; quoted fields ("a,""b""") are unquoted in place. Returns the
 * number of fields, or -1 for an unterminated quote. */
int csv_split(char *line, size_t len, char sep, char **fields, size_t *lens, int max);

#endif
