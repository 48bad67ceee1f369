/*
 * workers.c - the ordered thread pool of workers.h.
 *
 * One mutex guards the queue, the in-flight accounting and the turn
 * counter; the work itself runs outside it. Jobs leave the queue in
 * submission order, so every job before a waiting one is already running
 * or done and the turn always advances (no deadlock with any thread count).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/limits.h"
#include "common/workers.h"
#include "common/xalloc.h"

struct wk_thread {
	struct workers *w;
	int index;
	pthread_t tid;
	int started;
};

struct workers {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full, turn, ready;
	struct wk_ops ops;
	struct wk_job **q; /* ring of queued jobs */
	size_t qcap, qhead, qn;
	size_t max_jobs, inflight_jobs, inflight_bytes;
	uint64_t next_seq, turn_seq;
	int64_t next_big, big_turn; /* the big-message token, in submission order */
	int closing, stop;
	int n, nready;
	char *err; /* first init error */
	struct wk_thread *th;
};

static void job_free(struct wk_job *j)
{
	free(j->data);
	free(j->source);
	free(j);
}

static void big_enter(struct wk_job *job)
{
	struct workers *w = job->pool;
	if (job->big_seq < 0)
		return;
	pthread_mutex_lock(&w->mu);
	while (w->big_turn != job->big_seq)
		pthread_cond_wait(&w->turn, &w->mu);
	pthread_mutex_unlock(&w->mu);
	job->big_held = 1;
}

static void big_leave(struct wk_job *job)
{
	struct workers *w = job->pool;
	if (!job->big_held)
		return;
	pthread_mutex_lock(&w->mu);
	w->big_turn++;
	pthread_cond_broadcast(&w->turn);
	pthread_mutex_unlock(&w->mu);
	job->big_held = 0;
	job->big_seq = -1;
}

int workers_turn_enter(struct wk_job *job)
{
	struct workers *w = job->pool;
	big_leave(job); /* never wait for the turn holding the token */
	pthread_mutex_lock(&w->mu);
	while (!job->entered && w->turn_seq != job->seq)
		pthread_cond_wait(&w->turn, &w->mu);
	int stopped = w->stop;
	pthread_mutex_unlock(&w->mu);
	job->entered = 1;
	return stopped;
}

void workers_turn_leave(struct wk_job *job)
{
	struct workers *w = job->pool;
	if (job->left)
		return;
	workers_turn_enter(job);
	pthread_mutex_lock(&w->mu);
	w->turn_seq++;
	pthread_cond_broadcast(&w->turn);
	pthread_mutex_unlock(&w->mu);
	job->left = 1;
}

static void *thread_main(void *arg)
{
	struct wk_thread *t = arg;
	struct workers *w = t->w;
	char *err = NULL;
	void *ctx = w->ops.init(w->ops.shared, t->index, &err);
	pthread_mutex_lock(&w->mu);
	if (!ctx) {
		if (!w->err)
			w->err = err ? err : xstrdup("cannot start a worker thread");
		else
			free(err);
	}
	w->nready++;
	pthread_cond_broadcast(&w->ready);
	pthread_mutex_unlock(&w->mu);
	if (!ctx)
		return NULL;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->qn == 0 && !w->closing)
			pthread_cond_wait(&w->not_empty, &w->mu);
		if (w->qn == 0) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		struct wk_job *j = w->q[w->qhead];
		w->qhead = (w->qhead + 1) % w->qcap;
		w->qn--;
		int stop = w->stop;
		pthread_mutex_unlock(&w->mu);
		if (!stop) {
			big_enter(j);
			w->ops.run(ctx, j);
		} else if (j->big_seq >= 0) {
			big_enter(j); /* keep the big-message order for the jobs after */
		}
		workers_turn_leave(j); /* enters first if the job did not */
		pthread_mutex_lock(&w->mu);
		w->inflight_jobs--;
		w->inflight_bytes -= j->len;
		pthread_cond_signal(&w->not_full);
		pthread_mutex_unlock(&w->mu);
		job_free(j);
	}
	w->ops.fini(ctx);
	return NULL;
}

static void join_all(struct workers *w)
{
	pthread_mutex_lock(&w->mu);
	w->closing = 1;
	pthread_cond_broadcast(&w->not_empty);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->n; i++)
		if (w->th[i].started)
			pthread_join(w->th[i].tid, NULL);
}

static void pool_free(struct workers *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->not_empty);
	pthread_cond_destroy(&w->not_full);
	pthread_cond_destroy(&w->turn);
	pthread_cond_destroy(&w->ready);
	free(w->q);
	free(w->th);
	free(w->err);
	free(w);
}

struct workers *workers_new(int n, const struct wk_ops *ops, char **err)
{
	if (n < 1 || n > SHIELD_MAX_JOBS) {
		char tmp[96];
		snprintf(tmp, sizeof tmp, "thread count %d is out of range (1 to %d)", n,
			 SHIELD_MAX_JOBS);
		*err = xstrdup(tmp);
		return NULL;
	}
	struct workers *w = xcalloc(1, sizeof *w);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->not_empty, NULL);
	pthread_cond_init(&w->not_full, NULL);
	pthread_cond_init(&w->turn, NULL);
	pthread_cond_init(&w->ready, NULL);
	w->ops = *ops;
	w->n = n;
	w->max_jobs = (size_t)n * SHIELD_PIPELINE_JOBS_PER_THREAD;
	w->qcap = w->max_jobs + 1;
	w->q = xcalloc(w->qcap, sizeof *w->q);
	w->th = xcalloc((size_t)n, sizeof *w->th);
	int started = 0;
	for (int i = 0; i < n; i++) {
		w->th[i].w = w;
		w->th[i].index = i;
		if (pthread_create(&w->th[i].tid, NULL, thread_main, &w->th[i]) != 0)
			break;
		w->th[i].started = 1;
		started++;
	}
	pthread_mutex_lock(&w->mu);
	while (w->nready < started)
		pthread_cond_wait(&w->ready, &w->mu);
	int failed = w->err != NULL || started < n;
	pthread_mutex_unlock(&w->mu);
	if (failed) {
		*err = w->err ? w->err : xstrdup("cannot start worker threads");
		w->err = NULL;
		join_all(w);
		pool_free(w);
		return NULL;
	}
	return w;
}

int workers_submit(struct workers *w, const char *data, size_t len, const char *source, long index,
		   int truncated, int64_t clock)
{
	/* copy before taking the lock: the threads keep working meanwhile */
	struct wk_job *j = xcalloc(1, sizeof *j);
	j->submitted = clock_now();
	j->data = xmalloc(len + 1);
	memcpy(j->data, data, len);
	j->data[len] = 0;
	j->len = len;
	j->source = xstrdup(source);
	j->index = index;
	j->truncated = truncated;
	j->clock = clock;
	j->pool = w;
	pthread_mutex_lock(&w->mu);
	while (!w->stop && w->inflight_jobs > 0 &&
	       (w->inflight_jobs >= w->max_jobs ||
		w->inflight_bytes + len > SHIELD_PIPELINE_MAX_BYTES))
		pthread_cond_wait(&w->not_full, &w->mu);
	if (w->stop) {
		pthread_mutex_unlock(&w->mu);
		job_free(j);
		return 1;
	}
	j->seq = w->next_seq++;
	j->big_seq = len >= SHIELD_PIPELINE_BIG_BYTES ? w->next_big++ : -1;
	w->inflight_jobs++;
	w->inflight_bytes += len;
	w->q[(w->qhead + w->qn) % w->qcap] = j;
	w->qn++;
	pthread_cond_signal(&w->not_empty);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void workers_stop(struct workers *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->not_full);
	pthread_mutex_unlock(&w->mu);
}

int workers_stopped(struct workers *w)
{
	pthread_mutex_lock(&w->mu);
	int s = w->stop;
	pthread_mutex_unlock(&w->mu);
	return s;
}

void workers_drain(struct workers *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->inflight_jobs > 0)
		pthread_cond_wait(&w->not_full, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

struct workers *workers_finish(struct workers *w)
{
	if (!w)
		return NULL;
	join_all(w);
	pool_free(w);
	return NULL;
}

int workers_default(void)
{
	cpu_set_t set;
	int n = 1;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	if (n < 1)
		n = 1;
	return n > SHIELD_MAX_JOBS ? SHIELD_MAX_JOBS : n;
}
