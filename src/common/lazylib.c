/*
 * lazylib.c - dlopen libcurl and libarchive on first use (lazylib.h).
 */
#include "common/lazylib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

struct sym {
	const char *name;
	size_t off; /* of the member in the api struct */
};

/* load - open soname and fill every member named in syms; -1 and why on
 * the first failure (the library stays closed). */
static int load(void *api, size_t apisz, const char *soname, const struct sym *syms, size_t n,
		char *why, size_t whylen)
{
	memset(api, 0, apisz);
	/* RTLD_NODELETE: once loaded, a library stays for the process. ICU and
	 * libcurl keep process-wide caches and state that are meant to live
	 * as long as it (unloading left them unreachable: leaks under ASan),
	 * and a library opened again later costs nothing then. */
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!h) {
		const char *e = dlerror();
		snprintf(why, whylen, "cannot load %s: %s", soname, e ? e : "unknown error");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		void *f = dlsym(h, syms[i].name);
		if (!f) {
			snprintf(why, whylen, "%s has no %s", soname, syms[i].name);
			dlclose(h);
			memset(api, 0, apisz);
			return -1;
		}
		/* POSIX guarantees a data pointer from dlsym converts to a
		 * function pointer; memcpy says so without a cast warning */
		memcpy((char *)api + syms[i].off, &f, sizeof f);
	}
	memcpy(api, &h, sizeof h); /* every api struct starts with its handle */
	return 0;
}

/* unload - close the handle at the start of api (RTLD_NODELETE keeps the
 * library itself) and empty the struct */
static void unload(void *api, size_t apisz)
{
	void *h;
	memcpy(&h, api, sizeof h);
	if (h)
		dlclose(h);
	memset(api, 0, apisz);
}

_Static_assert(offsetof(struct curl_api, dl) == 0 && offsetof(struct archive_api, dl) == 0 &&
		   offsetof(struct icu_api, dl) == 0,
	       "load() and unload() find the handle first");
#define NSYMS(a) (sizeof(a) / sizeof *(a))

#define CURL_SYM(m, fn)                                                                            \
	{                                                                                          \
#fn, offsetof(struct curl_api, m)                                                  \
	}
static const struct sym curl_syms[] = {
    CURL_SYM(global_init, curl_global_init),   CURL_SYM(global_cleanup, curl_global_cleanup),
    CURL_SYM(easy_init, curl_easy_init),       CURL_SYM(easy_setopt, curl_easy_setopt),
    CURL_SYM(easy_perform, curl_easy_perform), CURL_SYM(easy_getinfo, curl_easy_getinfo),
    CURL_SYM(easy_cleanup, curl_easy_cleanup), CURL_SYM(easy_strerror, curl_easy_strerror),
    CURL_SYM(slist_append, curl_slist_append), CURL_SYM(slist_free_all, curl_slist_free_all),
};

int curl_api_open(struct curl_api *a, char *why, size_t whylen)
{
	return load(a, sizeof *a, SHIELD_LIBCURL_SONAME, curl_syms, NSYMS(curl_syms), why, whylen);
}

void curl_api_close(struct curl_api *a)
{
	unload(a, sizeof *a);
}

#define AR_SYM(m, fn)                                                                              \
	{                                                                                          \
#fn, offsetof(struct archive_api, m)                                               \
	}
static const struct sym archive_syms[] = {
    AR_SYM(read_new, archive_read_new),
    AR_SYM(read_free, archive_read_free),
    AR_SYM(read_support_filter_all, archive_read_support_filter_all),
    AR_SYM(read_support_format_all, archive_read_support_format_all),
    AR_SYM(read_support_format_raw, archive_read_support_format_raw),
    AR_SYM(read_open_fd, archive_read_open_fd),
    AR_SYM(read_open_memory, archive_read_open_memory),
    AR_SYM(read_next_header, archive_read_next_header),
    AR_SYM(read_data, archive_read_data),
    AR_SYM(read_data_skip, archive_read_data_skip),
    AR_SYM(error_string, archive_error_string),
    AR_SYM(entry_pathname, archive_entry_pathname),
    AR_SYM(entry_pathname_utf8, archive_entry_pathname_utf8),
    AR_SYM(entry_is_encrypted, archive_entry_is_encrypted),
};

int archive_api_open_from(struct archive_api *a, const char *soname, char *why, size_t whylen)
{
	return load(a, sizeof *a, soname, archive_syms, NSYMS(archive_syms), why, whylen);
}

int archive_api_open(struct archive_api *a, char *why, size_t whylen)
{
	return archive_api_open_from(a, SHIELD_LIBARCHIVE_SONAME, why, whylen);
}

void archive_api_close(struct archive_api *a)
{
	unload(a, sizeof *a);
}

const struct archive_api *archive_lazy_get(struct archive_lazy *l)
{
	if (l->state == 0)
		l->state = archive_api_open(&l->api, l->err, sizeof l->err) ? -1 : 1;
	return l->state > 0 ? &l->api : NULL;
}

void archive_lazy_close(struct archive_lazy *l)
{
	archive_api_close(&l->api);
	l->state = 0;
}

/* the names after ICU's renaming macros (uspoof_open_72) */
#define ICU_SYM(m, fn)                                                                             \
	{                                                                                          \
		LAZY_XSTR(fn), offsetof(struct icu_api, m)                                         \
	}
static const struct sym icu_syms[] = {
    ICU_SYM(spoof_open, uspoof_open),
    ICU_SYM(spoof_close, uspoof_close),
    ICU_SYM(spoof_set_checks, uspoof_setChecks),
    ICU_SYM(spoof_set_restriction_level, uspoof_setRestrictionLevel),
    ICU_SYM(spoof_check_utf8, uspoof_checkUTF8),
    ICU_SYM(spoof_get_skeleton_utf8, uspoof_getSkeletonUTF8),
    ICU_SYM(error_name, u_errorName),
};

int icu_api_open(struct icu_api *a, char *why, size_t whylen)
{
	return load(a, sizeof *a, SHIELD_LIBICU_SONAME, icu_syms, NSYMS(icu_syms), why, whylen);
}

void icu_api_close(struct icu_api *a)
{
	unload(a, sizeof *a);
}
