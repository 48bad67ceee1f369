/*
 * lazylib.h - libcurl, libarchive and ICU's spoof checker, loaded when
 * first needed (dlopen).
 *
 * Why: between them libcurl and libarchive pull 39 shared libraries into
 * the process (GnuTLS, Kerberos, LDAP, SSH, nghttp2, libxml2, ...), and
 * ICU brings libstdc++ and its locale set-up; mapping, relocating and
 * initialising those was over half of the start-up of every command
 * (bench/README.md, "Start-up"), while only sending mail (`notify send`,
 * alert e-mail), webhooks, compressed or archived input and the brand
 * checker of the verdict stage use them. `shield feed`, `shield notify
 * plan`, `shield asn` and the other short commands no longer pay for them.
 *
 * Ownership: each user keeps its own handle, filled by *_api_open and
 * released by *_api_close; nothing here is global. A library, once
 * loaded, stays for the process (RTLD_NODELETE: ICU and libcurl keep
 * process-wide state), so a second open is cheap.
 * Threads: a handle belongs to its owner; open and close may run on any
 * thread (dlopen is thread-safe).
 * Errors: *_api_open returns -1 and says in why which library or which
 * of its functions is missing; the handle is then empty (close is safe).
 * The headers (curl/curl.h, archive.h) still give the types, so a call
 * through a handle is checked by the compiler like a direct one.
 */
#ifndef SHIELD_LAZYLIB_H
#define SHIELD_LAZYLIB_H
#include <stddef.h>

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <unicode/uspoof.h>
#include <unicode/uversion.h>

/* the sonames of Debian's libcurl4-openssl-dev and libarchive-dev (stable
 * for over ten years; tests/unit/test_lazylib.c loads both) */
#define SHIELD_LIBCURL_SONAME "libcurl.so.4"
#define SHIELD_LIBARCHIVE_SONAME "libarchive.so.13"
/* ICU's soname and its function names carry its major version (the
 * headers rename uspoof_open to uspoof_open_72): both are taken from the
 * headers the build used */
#define LAZY_STR(x) #x
#define LAZY_XSTR(x) LAZY_STR(x)
#define SHIELD_LIBICU_SONAME "libicui18n.so." LAZY_XSTR(U_ICU_VERSION_MAJOR_NUM)

/* LAZY_FN - a member with the type of the library's own function:
 * __typeof__ names the type without referring to the symbol, so calls
 * through the handle are type-checked and nothing is linked */
#define LAZY_FN(name, fn) __typeof__(fn) *name

struct curl_api {
	void *dl;
	LAZY_FN(global_init, curl_global_init);
	LAZY_FN(global_cleanup, curl_global_cleanup);
	LAZY_FN(easy_init, curl_easy_init);
	LAZY_FN(easy_setopt, curl_easy_setopt);
	LAZY_FN(easy_perform, curl_easy_perform);
	LAZY_FN(easy_getinfo, curl_easy_getinfo);
	LAZY_FN(easy_cleanup, curl_easy_cleanup);
	LAZY_FN(easy_strerror, curl_easy_strerror);
	LAZY_FN(slist_append, curl_slist_append);
	LAZY_FN(slist_free_all, curl_slist_free_all);
};

int curl_api_open(struct curl_api *a, char *why, size_t whylen);
void curl_api_close(struct curl_api *a);

struct archive_api {
	void *dl;
	LAZY_FN(read_new, archive_read_new);
	LAZY_FN(read_free, archive_read_free);
	LAZY_FN(read_support_filter_all, archive_read_support_filter_all);
	LAZY_FN(read_support_format_all, archive_read_support_format_all);
	LAZY_FN(read_support_format_raw, archive_read_support_format_raw);
	LAZY_FN(read_open_fd, archive_read_open_fd);
	LAZY_FN(read_open_memory, archive_read_open_memory);
	LAZY_FN(read_next_header, archive_read_next_header);
	LAZY_FN(read_data, archive_read_data);
	LAZY_FN(read_data_skip, archive_read_data_skip);
	LAZY_FN(error_string, archive_error_string);
	LAZY_FN(entry_pathname, archive_entry_pathname);
	LAZY_FN(entry_pathname_utf8, archive_entry_pathname_utf8);
	LAZY_FN(entry_is_encrypted, archive_entry_is_encrypted);
};

int archive_api_open(struct archive_api *a, char *why, size_t whylen);
/* archive_api_open_from - the same from another soname or path (tests;
 * a libarchive built elsewhere) */
int archive_api_open_from(struct archive_api *a, const char *soname, char *why, size_t whylen);
void archive_api_close(struct archive_api *a);

/* archive_lazy - for an owner that may never need libarchive (an extractor
 * meets an archive attachment in few reports): zero it to start;
 * archive_lazy_get opens the library on the first call and returns NULL
 * (and keeps the reason in err) when it cannot be loaded. */
struct archive_lazy {
	struct archive_api api;
	int state; /* 0 not tried, 1 open, -1 failed */
	char err[200];
};

const struct archive_api *archive_lazy_get(struct archive_lazy *l);
void archive_lazy_close(struct archive_lazy *l);

/* icu_api - the spoof checker (libicui18n; u_errorName is found through
 * its dependency libicuuc) */
struct icu_api {
	void *dl;
	LAZY_FN(spoof_open, uspoof_open);
	LAZY_FN(spoof_close, uspoof_close);
	LAZY_FN(spoof_set_checks, uspoof_setChecks);
	LAZY_FN(spoof_set_restriction_level, uspoof_setRestrictionLevel);
	LAZY_FN(spoof_check_utf8, uspoof_checkUTF8);
	LAZY_FN(spoof_get_skeleton_utf8, uspoof_getSkeletonUTF8);
	LAZY_FN(error_name, u_errorName);
};

int icu_api_open(struct icu_api *a, char *why, size_t whylen);
void icu_api_close(struct icu_api *a);

#endif
