/*
 * test.h - the unit-test harness: one binary per module (tests/unit/test_X.c),
 * each test a function registered in main() with RUN(). A failed CHECK
 * prints file:line and the expression and marks the test failed; the binary
 * prints one "ok"/"FAIL" line per test and "N passed, N failed" at the end,
 * and exits non-zero on any failure. tests/run.sh sums these lines.
 */
#ifndef SHIELD_TEST_H
#define SHIELD_TEST_H
#include <stdio.h>
#include <string.h>

struct test_state {
	int failed_checks;
	int passed, failed;
};

#define CHECK(t, cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			(t)->failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_STR(t, got, want)                                                                    \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if ((g_ == NULL) != (w_ == NULL) || (g_ && strcmp(g_, w_) != 0)) {                 \
			fprintf(stderr, "  %s:%d: %s: got \"%s\", want \"%s\"\n", __FILE__,        \
				__LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");           \
			(t)->failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define RUN(t, fn)                                                                                 \
	do {                                                                                       \
		int before_ = (t)->failed_checks;                                                  \
		fn(t);                                                                             \
		if ((t)->failed_checks == before_) {                                               \
			(t)->passed++;                                                             \
			printf("ok   %s\n", #fn);                                                  \
		} else {                                                                           \
			(t)->failed++;                                                             \
			printf("FAIL %s\n", #fn);                                                  \
		}                                                                                  \
	} while (0)

/* test_remove_store - delete a file store: the database, its WAL and
 * shared-memory files and its raw pack (PATH-raw). */
static inline void test_remove_store(const char *path)
{
	const char *sfx[] = {"", "-wal", "-shm", "-raw"};
	for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
		char f[256];
		snprintf(f, sizeof f, "%s%s", path, sfx[i]);
		remove(f);
	}
}

#define TEST_SUMMARY(t)                                                                            \
	(printf("%d passed, %d failed\n", (t)->passed, (t)->failed), (t)->failed ? 1 : 0)

#endif
