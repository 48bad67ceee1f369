/* test_workers.c - the ordered thread pool: order of the ordered sections
 * whatever the thread count and job durations, every job run once, stop,
 * and a bounded number of jobs in flight. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common/limits.h"
#include "common/workers.h"
#include "test.h"

struct shared {
	pthread_mutex_t mu;
	long order[4000]; /* seq of each job, in ordered-section order */
	int n;
	int ran;	    /* jobs whose run() was called */
	int inflight, peak; /* run() calls active at once */
	int stop_at;	    /* stop the pool in this job's section (-1: never) */
	int fail_init;
	int big_now, big_peak; /* big messages being worked on at once */
};

static void *init(void *sh, int i, char **err)
{
	struct shared *s = sh;
	if (s->fail_init && i == 1) {
		*err = strdup("thread 1 cannot start");
		return NULL;
	}
	return s;
}

static void fini(void *ctx)
{
	(void)ctx;
}

static void run(void *ctx, struct wk_job *j)
{
	struct shared *s = ctx;
	int big = j->len >= SHIELD_PIPELINE_BIG_BYTES;
	pthread_mutex_lock(&s->mu);
	if (big && ++s->big_now > s->big_peak)
		s->big_peak = s->big_now;
	s->ran++;
	if (++s->inflight > s->peak)
		s->peak = s->inflight;
	pthread_mutex_unlock(&s->mu);
	/* unequal work: later jobs often finish first */
	struct timespec ts = {0, (long)(j->data[0] % 7) * 20000L};
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&s->mu);
	s->inflight--;
	if (big)
		s->big_now--;
	pthread_mutex_unlock(&s->mu);
	if (workers_turn_enter(j))
		return; /* an earlier job stopped the pool */
	/* inside the section: no lock needed for s->order */
	s->order[s->n++] = (long)j->seq;
	if ((long)j->seq == s->stop_at)
		workers_stop(j->pool);
	if (j->seq % 3 == 0)
		workers_turn_leave(j); /* the others are left by the pool */
}

static void order_kept(struct test_state *t)
{
	for (int threads = 1; threads <= 4; threads++) {
		struct shared s = {.stop_at = -1};
		pthread_mutex_init(&s.mu, NULL);
		struct wk_ops ops = {init, fini, run, &s};
		char *err = NULL;
		struct workers *w = workers_new(threads, &ops, &err);
		CHECK(t, w != NULL);
		if (!w)
			return;
		for (int i = 0; i < 3000; i++) {
			char msg[2] = {(char)('a' + i % 26), 0};
			CHECK(t, workers_submit(w, msg, 1, "x", i, 0, 0) == 0);
		}
		workers_finish(w);
		CHECK(t, s.n == 3000);
		CHECK(t, s.ran == 3000);
		int sorted = 1;
		for (int i = 0; i < s.n; i++)
			if (s.order[i] != i)
				sorted = 0;
		CHECK(t, sorted);
		/* never more jobs running than threads */
		CHECK(t, s.peak <= threads);
		pthread_mutex_destroy(&s.mu);
	}
}

static void stop_drops_the_rest(struct test_state *t)
{
	struct shared s = {.stop_at = 10};
	pthread_mutex_init(&s.mu, NULL);
	struct wk_ops ops = {init, fini, run, &s};
	char *err = NULL;
	struct workers *w = workers_new(2, &ops, &err);
	CHECK(t, w != NULL);
	int refused = 0;
	for (int i = 0; i < 1000 && !refused; i++)
		refused = workers_submit(w, "a", 1, "x", i, 0, 0);
	CHECK(t, refused == 1);
	CHECK(t, workers_stopped(w));
	workers_finish(w);
	/* job 10 stopped the pool: no job after it ran its section */
	CHECK(t, s.n == 11);
	CHECK(t, s.order[s.n - 1] == 10);
	pthread_mutex_destroy(&s.mu);
}

static void init_failure_named(struct test_state *t)
{
	struct shared s = {.stop_at = -1, .fail_init = 1};
	pthread_mutex_init(&s.mu, NULL);
	struct wk_ops ops = {init, fini, run, &s};
	char *err = NULL;
	CHECK(t, workers_new(3, &ops, &err) == NULL);
	CHECK_STR(t, err, "thread 1 cannot start");
	free(err);
	err = NULL;
	CHECK(t, workers_new(0, &ops, &err) == NULL);
	CHECK(t, err && strstr(err, "out of range"));
	free(err);
	err = NULL;
	CHECK(t, workers_new(SHIELD_MAX_JOBS + 1, &ops, &err) == NULL);
	free(err);
	pthread_mutex_destroy(&s.mu);
}

/* Big messages are worked on one at a time, in order, with small ones
 * running beside them; the ordered sections stay in order. */
static void big_one_at_a_time(struct test_state *t)
{
	struct shared s = {.stop_at = -1};
	pthread_mutex_init(&s.mu, NULL);
	struct wk_ops ops = {init, fini, run, &s};
	char *err = NULL;
	struct workers *w = workers_new(4, &ops, &err);
	CHECK(t, w != NULL);
	if (!w)
		return;
	size_t bn = SHIELD_PIPELINE_BIG_BYTES;
	char *big = malloc(bn);
	CHECK(t, big != NULL);
	if (!big)
		return;
	memset(big, 'b', bn);
	for (int i = 0; i < 200; i++) {
		int isbig = i % 3 != 2;
		CHECK(t, workers_submit(w, isbig ? big : "s", isbig ? bn : 1, "x", i, 0, 0) == 0);
	}
	workers_finish(w);
	free(big);
	CHECK(t, s.n == 200);
	CHECK(t, s.big_peak == 1);
	int sorted = 1;
	for (int i = 0; i < s.n; i++)
		if (s.order[i] != i)
			sorted = 0;
	CHECK(t, sorted);
	pthread_mutex_destroy(&s.mu);
}

static void default_count(struct test_state *t)
{
	int n = workers_default();
	CHECK(t, n >= 1 && n <= SHIELD_MAX_JOBS);
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, order_kept);
	RUN(&t, stop_drops_the_rest);
	RUN(&t, init_failure_named);
	RUN(&t, big_one_at_a_time);
	RUN(&t, default_count);
	printf("%d passed, %d failed\n", t.passed, t.failed);
	return t.failed != 0;
}
