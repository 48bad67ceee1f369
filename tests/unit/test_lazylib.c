/* test_lazylib.c - libcurl, libarchive and ICU loaded on demand: all load
 * on this system under the sonames lazylib.h names, calls through the
 * handles work (an archive listed from memory, a curl handle and its
 * error text, an ICU skeleton), a second handle is independent, a missing
 * library or function is named, and the process did not have them mapped
 * before (the point of loading them late). */
#include <dlfcn.h>
#include <string.h>

#include "common/lazylib.h"
#include "test.h"

static void not_linked(struct test_state *t)
{
	/* RTLD_NOLOAD: a handle only when the library is already mapped */
	void *c = dlopen(SHIELD_LIBCURL_SONAME, RTLD_NOW | RTLD_NOLOAD);
	void *a = dlopen(SHIELD_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_NOLOAD);
	void *i = dlopen(SHIELD_LIBICU_SONAME, RTLD_NOW | RTLD_NOLOAD);
	CHECK(t, c == NULL);
	CHECK(t, a == NULL);
	CHECK(t, i == NULL);
	if (i)
		dlclose(i);
	if (c)
		dlclose(c);
	if (a)
		dlclose(a);
}

static void curl_loads(struct test_state *t)
{
	struct curl_api a, b;
	char why[300] = "";
	CHECK(t, curl_api_open(&a, why, sizeof why) == 0);
	CHECK_STR(t, why, "");
	CHECK(t, curl_api_open(&b, why, sizeof why) == 0);
	if (!a.dl || !b.dl)
		return;
	CHECK(t, a.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
	CURL *c = a.easy_init();
	CHECK(t, c != NULL);
	CHECK(t, a.easy_setopt(c, CURLOPT_URL, "smtp://127.0.0.1:1") == CURLE_OK);
	CHECK_STR(t, a.easy_strerror(CURLE_UNSUPPORTED_PROTOCOL), "Unsupported protocol");
	a.easy_cleanup(c);
	curl_api_close(&a);
	CHECK(t, a.dl == NULL && a.easy_init == NULL);
	/* b still works after a is closed (reference counted) */
	struct curl_slist *l = b.slist_append(NULL, "x");
	CHECK(t, l != NULL && !strcmp(l->data, "x"));
	b.slist_free_all(l);
	b.global_cleanup();
	curl_api_close(&b);
}

/* a tar with one empty file "hello.txt", made with `tar cf` and cut to
 * the header and the two end blocks */
static void archive_lists(struct test_state *t)
{
	static unsigned char tar[3 * 512];
	memset(tar, 0, sizeof tar);
	memcpy(tar, "hello.txt", 9);
	memcpy(tar + 100, "0000644", 7);
	memcpy(tar + 108, "0000000", 7);
	memcpy(tar + 116, "0000000", 7);
	memcpy(tar + 124, "00000000000", 11);
	memcpy(tar + 136, "00000000000", 11);
	tar[156] = '0';
	memcpy(tar + 257, "ustar", 6);
	memcpy(tar + 263, "00", 2);
	unsigned sum = 0;
	memset(tar + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += tar[i];
	snprintf((char *)tar + 148, 8, "%06o", sum);
	tar[155] = ' ';
	struct archive_lazy lz;
	memset(&lz, 0, sizeof lz);
	const struct archive_api *A = archive_lazy_get(&lz);
	CHECK(t, A != NULL);
	if (!A)
		return;
	CHECK(t, archive_lazy_get(&lz) == A); /* opened once */
	struct archive *ar = A->read_new();
	A->read_support_format_all(ar);
	CHECK(t, A->read_open_memory(ar, tar, sizeof tar) == ARCHIVE_OK);
	struct archive_entry *e;
	CHECK(t, A->read_next_header(ar, &e) == ARCHIVE_OK);
	CHECK_STR(t, A->entry_pathname(e), "hello.txt");
	CHECK(t, A->read_next_header(ar, &e) == ARCHIVE_EOF);
	A->read_free(ar);
	archive_lazy_close(&lz);
	CHECK(t, lz.state == 0 && lz.api.dl == NULL);
}

/* the versioned ICU names resolve, and a Cyrillic look-alike folds to
 * the Latin word's skeleton */
static void icu_skeleton(struct test_state *t)
{
	struct icu_api a;
	char why[300] = "";
	CHECK(t, icu_api_open(&a, why, sizeof why) == 0);
	CHECK_STR(t, why, "");
	if (!a.dl)
		return;
	UErrorCode st = U_ZERO_ERROR;
	USpoofChecker *sc = a.spoof_open(&st);
	CHECK(t, U_SUCCESS(st) && sc);
	char k1[64], k2[64];
	int32_t n1 = a.spoof_get_skeleton_utf8(sc, 0, "paypal", -1, k1, sizeof k1, &st);
	int32_t n2 = a.spoof_get_skeleton_utf8(sc, 0, "p\xd0\xb0ypal", -1, k2, sizeof k2, &st);
	CHECK(t, U_SUCCESS(st) && n1 > 0 && n1 == n2 && !memcmp(k1, k2, (size_t)n1));
	CHECK_STR(t, a.error_name(U_ILLEGAL_ARGUMENT_ERROR), "U_ILLEGAL_ARGUMENT_ERROR");
	a.spoof_close(sc);
	icu_api_close(&a);
	CHECK(t, a.dl == NULL);
}

static void missing_library_named(struct test_state *t)
{
	struct archive_api a;
	char why[300] = "";
	CHECK(t, archive_api_open_from(&a, "libshield-no-such-library.so.0", why, sizeof why) < 0);
	CHECK(t, strstr(why, "cannot load libshield-no-such-library.so.0") != NULL);
	CHECK(t, a.dl == NULL && a.read_new == NULL);
	archive_api_close(&a); /* safe on an empty handle */
	/* a library that loads but lacks the functions */
	CHECK(t, archive_api_open_from(&a, "libz.so.1", why, sizeof why) < 0);
	CHECK_STR(t, why, "libz.so.1 has no archive_read_new");
	CHECK(t, a.dl == NULL);
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, not_linked);
	RUN(&t, curl_loads);
	RUN(&t, archive_lists);
	RUN(&t, icu_skeleton);
	RUN(&t, missing_library_named);
	printf("%d passed, %d failed\n", t.passed, t.failed);
	return t.failed != 0;
}
