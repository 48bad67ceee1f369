/*
 * attach.h - describe one attachment: size, SHA-256, true type (libmagic)
 * and, for archives, the entry listing (libarchive), read from memory.
 *
 * Security: archives are listed, never extracted, to disk or memory; entry
 * data is skipped. At most SHIELD_MAX_ARCHIVE_ENTRIES names are kept.
 */
#ifndef SHIELD_ATTACH_H
#define SHIELD_ATTACH_H
#include <stddef.h>

#include "extract/result.h"

struct magic_set;
struct archive_lazy;

/* attach_describe - fill a's size, sha256, true_type and archive listing
 * from the decoded bytes; findings (archive.encrypted, limit.archive_entries,
 * archive.corrupt, archive.unlisted when libarchive cannot be loaded) go to
 * r. magic may be NULL (true_type left NULL); ar is the caller's libarchive
 * handle, opened here at the first archive (common/lazylib.h). */
void attach_describe(struct result *r, struct magic_set *magic, struct archive_lazy *ar,
		     const unsigned char *data, size_t len, struct attachment *a);

/* sha256_hex - hex SHA-256 of data into out (65 bytes, NUL-terminated). */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
