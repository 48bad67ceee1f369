/*
 * workers.h - a pool of threads that runs jobs in parallel and gives each
 * job an ordered section: jobs are numbered as they are submitted, and the
 * part of a job between workers_turn_enter() and workers_turn_leave() runs
 * in submission order, one job at a time.
 *
 * Why: parsing and judging a report is independent of every other report,
 * but storing it, deduplicating it and placing it in a campaign must happen
 * in arrival order on one store connection. The ordered section gives both
 * without handing results between threads (results are borrowed inside the
 * extraction callback; see extract.h).
 *
 * Each thread owns a context made by ops->init in that thread (e.g. its
 * extractor and verdict engine) and freed by ops->fini. Memory is bounded:
 * at most SHIELD_PIPELINE_MAX_JOBS jobs and SHIELD_PIPELINE_MAX_BYTES of
 * message bytes are in flight; workers_submit() blocks beyond that (one job
 * is always admitted, whatever its size).
 *
 * Big messages (SHIELD_PIPELINE_BIG_BYTES and more) are parsed one at a
 * time: parsing one takes several times its size, so two at once on two
 * threads would double the peak. A big job takes the big-message token in
 * submission order and gives it back when it enters its ordered section,
 * so a job never holds the token while waiting for its turn (no deadlock).
 *
 * Ownership: workers_submit() copies the message; the copy is freed when
 * the job is done. A job's run function must not keep pointers into it.
 */
#ifndef SHIELD_WORKERS_H
#define SHIELD_WORKERS_H
#include <stddef.h>
#include <stdint.h>

struct workers;

struct wk_job {
	uint64_t seq; /* submission order, from 0 */
	char *data;   /* owned by the pool: the message bytes (NUL-terminated) */
	size_t len;
	char *source;	   /* owned by the pool */
	long index;	   /* position in an mbox, -1 otherwise */
	int truncated;	   /* the message was cut at the size limit */
	int64_t clock;	   /* caller's value (replay: the message's Date) */
	double submitted;  /* clock_now() when handed to the pool */
	int entered, left; /* ordered-section bookkeeping (the pool's) */
	int64_t big_seq;   /* order among big jobs; -1: not big */
	int big_held;	   /* holds the big-message token */
	struct workers *pool;
};

struct wk_ops {
	/* init - make thread i's context, in that thread; NULL and *err
	 * (malloc'd) on failure. */
	void *(*init)(void *shared, int i, char **err);
	void (*fini)(void *tctx);
	/* run - one job. It may call workers_turn_enter/leave once each; the
	 * pool enters and leaves the section for it if it did not. */
	void (*run)(void *tctx, struct wk_job *job);
	void *shared;
};

/* workers_new - start n threads (1 <= n <= SHIELD_MAX_JOBS) and wait until
 * each has its context. NULL and *err (malloc'd) if a thread or a context
 * could not be made. */
struct workers *workers_new(int n, const struct wk_ops *ops, char **err);

/* workers_submit - queue one message (copied). Blocks while the pool is
 * full. Returns 0, or 1 if workers_stop() was called (nothing queued). */
int workers_submit(struct workers *w, const char *data, size_t len, const char *source, long index,
		   int truncated, int64_t clock);

/* workers_turn_enter - wait until every job submitted before this one has
 * left its ordered section. Returns 1 if the pool was stopped meanwhile
 * (the job should skip its ordered work), else 0. */
int workers_turn_enter(struct wk_job *job);
/* workers_turn_leave - let the next job in. */
void workers_turn_leave(struct wk_job *job);

/* workers_stop - ask the pool to run no further jobs (a fatal store error);
 * queued jobs are dropped and submit returns 1. Callable from a job. */
void workers_stop(struct workers *w);
int workers_stopped(struct workers *w);

/* workers_drain - wait until every job submitted so far is done (its
 * ordered section left, its copy freed); the threads stay up for more.
 * A resident ingest (ingest --watch) commits and acknowledges a cycle's
 * messages only after this. Called by the thread that submits, like
 * workers_submit (one waiter: the pool signals it per finished job). */
void workers_drain(struct workers *w);

/* workers_finish - run every queued job, join the threads, free their
 * contexts and the pool. Returns NULL. */
struct workers *workers_finish(struct workers *w);

/* workers_default - the number of threads to use by default: the CPUs this
 * process may run on, at most SHIELD_MAX_JOBS. */
int workers_default(void);

#endif
