/*
 * attach.c - attachment description (see attach.h).
 */
#include "extract/attach.h"

#include <magic.h>
#include <openssl/evp.h>
#include <string.h>

#include "common/lazylib.h"
#include "common/limits.h"

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = '\0';
}

/* is_archive_type - the true types worth listing with libarchive. */
static int is_archive_type(const char *t)
{
	static const char *const types[] = {
	    "application/zip",
	    "application/x-rar",
	    "application/vnd.rar",
	    "application/x-7z-compressed",
	    "application/x-tar",
	    "application/gzip",
	    "application/x-bzip2",
	    "application/x-xz",
	    "application/x-iso9660-image",
	    "application/x-cpio",
	    "application/vnd.ms-cab-compressed",
	    "application/x-lzh-compressed",
	    "application/x-gtar",
	    "application/zstd",
	};
	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (strcmp(t, types[i]) == 0)
			return 1;
	return 0;
}

/* list_archive - entry names of an archive in memory, data skipped. */
static void list_archive(struct result *r, const struct archive_api *A, const unsigned char *data,
			 size_t len, struct attachment *a)
{
	struct archive *ar = A->read_new();
	A->read_support_format_all(ar);
	A->read_support_filter_all(ar);
	if (A->read_open_memory(ar, data, len) != ARCHIVE_OK) {
		result_finding(r, "archive.unreadable", "%s", A->error_string(ar));
		A->read_free(ar);
		return;
	}
	size_t cap = 0;
	struct archive_entry *e;
	int rc;
	while ((rc = A->read_next_header(ar, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		if (a->n_entries >= SHIELD_MAX_ARCHIVE_ENTRIES) {
			a->entries_truncated = 1;
			result_finding(r, "limit.archive_entries", "more than %u entries",
				       SHIELD_MAX_ARCHIVE_ENTRIES);
			break;
		}
		const char *name = A->entry_pathname_utf8(e);
		if (!name)
			name = A->entry_pathname(e);
		ARENA_PUSH(&r->arena, a->entries, a->n_entries, cap);
		a->entries[a->n_entries++] = arena_strdup(&r->arena, name ? name : "");
		if (A->entry_is_encrypted(e))
			a->encrypted = 1;
		if (A->read_data_skip(ar) != ARCHIVE_OK)
			break;
	}
	if (rc == ARCHIVE_FATAL)
		result_finding(r, "archive.corrupt", "%s", A->error_string(ar));
	if (a->encrypted)
		result_finding(r, "archive.encrypted", "%s", a->name ? a->name : "(unnamed)");
	A->read_free(ar);
}

void attach_describe(struct result *r, struct magic_set *magic, struct archive_lazy *ar,
		     const unsigned char *data, size_t len, struct attachment *a)
{
	a->size = len;
	sha256_hex(data, len, a->sha256);
	if (magic) {
		const char *t = magic_buffer(magic, data, len);
		if (t) {
			a->true_type = arena_strdup(&r->arena, t);
			const struct archive_api *A;
			if (is_archive_type(t) && (A = archive_lazy_get(ar)) != NULL)
				list_archive(r, A, data, len, a);
			else if (is_archive_type(t))
				result_finding(r, "archive.unlisted", "%s", ar->err);
		}
	}
}
