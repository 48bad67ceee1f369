/*
 * cmd_ingest.c - `shield extract` (stateless) and `shield ingest` (into the
 * store): both walk the intake paths and run the extraction pipeline.
 *
 * Ingest stores each report's raw bytes and results in one transaction,
 * batched (BATCH reports per commit, or sooner: see commit_due) so the
 * SQLite fsync cost is shared; a crash loses at most the uncommitted batch,
 * which was never reported as stored.
 */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "common/clock.h"
#include "common/limits.h"
#include "extract/attach.h"
#include "extract/extract.h"
#include "intake/intake.h"
#include "intake/watch.h"
#include "out/json.h"
#include "store/store.h"
#include "verdict/verdict.h"
#include "campaign/campaign.h"
#include "common/workers.h"
#include "common/xalloc.h"
#include <gmime/gmime.h>

#define BATCH 2000

struct stage_opts;

/* run - one extract or ingest command. The fields below "ordered" are
 * touched only inside a job's ordered section (common/workers.h) or after
 * the pool has finished, so they need no lock. */
struct run {
	const struct stage_opts *so;
	struct extract_shared *shared; /* PSL and libmagic data of all threads */
	struct verdict_engine *ve0;    /* registry, lists, model of all threads */
	struct workers *pool;
	int jobs;	  /* threads parsing and judging */
	struct store *st; /* NULL for extract */
	const char *db_path;
	struct campaign_engine *ce; /* ingest only */
	int json, quiet;
	struct progress prog;
	long reports; /* submitted (reading thread only) */
	/* --replay: messages are buffered, then ingested in Date order */
	int replay;
	struct replay_msg *held;
	size_t nheld, capheld;
	/* ordered */
	long suspects, duplicates, failures, findings_msgs, limit_msgs, urls;
	int in_txn, pending;
	double last_commit; /* clock_now() of the last commit (or the start) */
	long alert_commits; /* commits made early because of an alert */
	long alerts;	    /* alerts raised (in a replay: that would be) */
	double alert_since; /* submission time of the oldest report of this batch
			       that raised an alert (waiting for the commit);
			       0: none did */
	double alert_delay; /* longest submission-to-delivery time of an alert */
};

/* worker - one thread's stages and the state of the job it is running. */
struct worker {
	struct run *run;
	struct extractor *x;
	struct verdict_engine *ve;
	struct store_packer *pk;    /* ingest only */
	struct store *lookup;	    /* ingest: this thread's read connection */
	struct campaign_prep *prep; /* ingest: the report's features, made in parallel */
	struct wk_job *job;
	char sha[65];
	struct store_packed packed;
	int64_t submission_id;
	int skip; /* duplicate or store error: the job's results are dropped */
	/* extract: the job's output and counts, written out in order */
	FILE *out;
	long suspects, urls, findings_msgs, limit_msgs;
};

struct replay_msg {
	int64_t date; /* Unix seconds, 0 when absent */
	size_t order; /* arrival order, the tie-break and the fallback */
	struct intake_msg m;
};

static void on_error(void *ctx, const char *path, const char *why)
{
	struct run *run = ctx;
	if (run->prog.enabled)
		fputc('\n', stderr);
	cli_error("cannot read '%s': %s", path, why);
}

static void on_progress(void *ctx, uint64_t done)
{
	struct run *run = ctx;
	progress_update(&run->prog, run->reports, done);
}

/* print_text - the human one-liner of `shield extract` without --json. */
static void print_text(FILE *f, const struct result *r)
{
	fprintf(f, "%s", r->source);
	if (r->source_index >= 0)
		fprintf(f, "#%ld", r->source_index);
	fprintf(f, "  forward=%s  from=%s  subject=%.60s\n", r->forward, r->from ? r->from : "-",
		r->subject ? r->subject : "-");
	for (size_t i = 0; i < r->urls.n; i++)
		fprintf(f, "    url  %s%s%s\n", r->urls.v[i].url,
			r->urls.v[i].text ? "  text: " : "",
			r->urls.v[i].text ? r->urls.v[i].text : "");
	for (size_t i = 0; i < r->attachments.n; i++)
		fprintf(f, "    file %s  %s  %zu bytes  sha256 %s\n",
			r->attachments.v[i].name ? r->attachments.v[i].name : "(unnamed)",
			r->attachments.v[i].true_type ? r->attachments.v[i].true_type : "?",
			r->attachments.v[i].size, r->attachments.v[i].sha256);
	if (r->origin_ip)
		fprintf(f, "    origin %s\n", r->origin_ip);
	for (size_t i = 0; i < r->findings.n; i++)
		fprintf(f, "    finding %s%s%s\n", r->findings.v[i].code,
			r->findings.v[i].detail ? ": " : "",
			r->findings.v[i].detail ? r->findings.v[i].detail : "");
}

/* count - add one result to the counts (the worker's own, for extract). */
static void count(long *suspects, long *urls, long *findings_msgs, long *limit_msgs,
		  const struct result *r)
{
	(*suspects)++;
	*urls += (long)r->urls.n;
	if (r->findings.n)
		(*findings_msgs)++;
	for (size_t i = 0; i < r->findings.n; i++)
		if (!strncmp(r->findings.v[i].code, "limit.", 6)) {
			(*limit_msgs)++;
			break;
		}
}

/* judge - what extract and ingest do to every result before output: note a
 * message cut at the size limit while reading, then the verdict. Runs in
 * parallel, outside the ordered section. */
static void judge(struct worker *w, struct result *r)
{
	if (w->job->truncated)
		result_finding(r, "limit.message_size",
			       "message truncated at %u bytes while reading",
			       SHIELD_MAX_MESSAGE_BYTES);
	verdict_judge(w->ve, r);
}

static int on_result_extract(void *ctx, struct result *r)
{
	struct worker *w = ctx;
	judge(w, r);
	count(&w->suspects, &w->urls, &w->findings_msgs, &w->limit_msgs, r);
	if (w->run->json) {
		char *s = result_to_json_string(r);
		fputs(s, w->out);
		fputc('\n', w->out);
		free(s);
	} else {
		print_text(w->out, r);
	}
	return 0;
}

/* run_extract - one report: parse and judge in parallel, then print in
 * input order. */
static void run_extract(void *tctx, struct wk_job *j)
{
	struct worker *w = tctx;
	struct run *run = w->run;
	char *buf = NULL;
	size_t len = 0;
	char sha[65] = "";
	w->job = j;
	w->suspects = w->urls = w->findings_msgs = w->limit_msgs = 0;
	w->out = open_memstream(&buf, &len);
	if (!w->out) {
		workers_turn_enter(j);
		cli_error("out of memory for the output of '%s'", j->source);
		run->failures++;
		return;
	}
	extract_report(w->x, j->data, j->len, j->source, j->index, sha, on_result_extract, w);
	fclose(w->out);
	w->out = NULL;
	workers_turn_enter(j);
	fwrite(buf, 1, len, stdout);
	run->suspects += w->suspects;
	run->urls += w->urls;
	run->findings_msgs += w->findings_msgs;
	run->limit_msgs += w->limit_msgs;
	workers_turn_leave(j);
	free(buf);
}

/* stop - a store error: nothing more can be stored in this run. */
static void stop(struct worker *w)
{
	w->skip = 1;
	workers_stop(w->run->pool);
}

/* store_submission - the first result of a job enters the ordered section
 * and records the submission (or finds it is a duplicate). */
static void store_submission(struct worker *w)
{
	struct run *run = w->run;
	struct wk_job *j = w->job;
	if (workers_turn_enter(j)) { /* an earlier report stopped the run */
		w->skip = 1;
		return;
	}
	if (run->replay)
		campaign_set_clock(run->ce, j->clock);
	if (!run->in_txn) {
		if (store_begin(run->st) < 0) {
			cli_error("cannot write to the store: %s", store_errmsg(run->st));
			run->failures++;
			stop(w);
			return;
		}
		run->in_txn = 1;
		/* Another process may have written the store since our last
		 * commit (an analyst's merge during a long ingest or between
		 * the cycles of --watch): checked under the write lock, so
		 * nobody can commit between the check and our commit. */
		if (campaign_engine_sync(run->ce) < 0) {
			cli_error("cannot read the store: %s", store_errmsg(run->st));
			run->failures++;
			stop(w);
			return;
		}
	}
	int rc = store_add_submission_packed(run->st, w->sha, j->len, &w->packed, j->source,
					     j->index, &w->submission_id);
	if (rc == STORE_DUP) {
		run->duplicates++;
		w->skip = 1;
	} else if (rc < 0) {
		cli_error("cannot store '%s': %s", j->source, store_errmsg(run->st));
		run->failures++;
		stop(w);
	}
}

static int on_result_store(void *ctx, struct result *r)
{
	struct worker *w = ctx;
	struct run *run = w->run;
	judge(w, r);
	/* Serialised before the ordered section, which is the part that does
	 * not run in parallel; only the campaign id is not known yet. */
	r->campaign_id = 0;
	char *s = result_to_json_string(r);
	campaign_prepare(run->ce, r, w->prep);
	if (!w->job->entered)
		store_submission(w);
	if (w->skip) {
		free(s);
		return 1;
	}
	if (campaign_assign_prepared(run->ce, r, w->prep) < 0) {
		cli_error("cannot group a report from '%s' into a campaign: %s", r->source,
			  store_errmsg(run->st));
		run->failures++;
		stop(w);
		free(s);
		return 1;
	}
	if (r->campaign_id)
		s = json_set_campaign_id(s, r->campaign_id);
	count(&run->suspects, &run->urls, &run->findings_msgs, &run->limit_msgs, r);
	int64_t rid;
	int rc = store_add_report(run->st, w->submission_id, r, s, &rid);
	free(s);
	if (rc < 0) {
		cli_error("cannot store a report from '%s': %s", r->source, store_errmsg(run->st));
		run->failures++;
		stop(w);
		return 1;
	}
	/* an alert is delivered after the commit that stores its campaign:
	 * that commit comes soon (commit_due), not at the batch end */
	if (campaign_alerted(run->ce)) {
		run->alerts++;
		if (!run->alert_since || w->job->submitted < run->alert_since)
			run->alert_since = w->job->submitted;
	}
	return 0;
}

static int flush(struct run *run)
{
	if (!run->in_txn)
		return 0;
	run->in_txn = 0;
	run->pending = 0;
	run->last_commit = clock_now();
	if (campaign_flush(run->ce) < 0 || store_commit(run->st) < 0) {
		cli_error("cannot commit to the store: %s", store_errmsg(run->st));
		campaign_discard_alerts(run->ce);
		run->alert_since = 0;
		return -1;
	}
	if (run->alert_since) {
		/* now that their campaigns are visible */
		campaign_deliver_alerts(run->ce);
		double d = clock_now() - run->alert_since;
		if (d > run->alert_delay)
			run->alert_delay = d;
		run->alert_since = 0;
	}
	return 0;
}

/* commit_due - end the batch now? After BATCH reports (the fsync cost is
 * shared); when a campaign alert waits for its commit (see flush), at
 * once, but not more often than every ALERT_COMMIT_GAP seconds; and
 * whenever the batch is older than VISIBLE_WITHIN seconds, so every report
 * is visible within a second of its arrival. Every input is read to its
 * end without waiting on a sender (files, mbox, Maildir, one message on
 * stdin), so a batch never waits for a report that may not come; its last
 * commit is at the end of the input.
 *
 * The gap: ingesting a backlog raises alerts all the time (new campaigns
 * keep crossing the threshold) and each commit costs two fsyncs and a
 * rewrite of every index page the batch touched: a 50 ms gap made
 * clustering cost +45% on the phishing corpus, 250 ms +18%, and at 250 ms
 * alert commits were a third of the clustering cost at 50,000 generated
 * reports; 500 ms keeps an alert within a second of its report's arrival
 * (`alert_delay_max` in `ingest --json`; bench/README-campaigns.md). */
#define ALERT_COMMIT_GAP 0.5
#define VISIBLE_WITHIN 1.0
static int commit_due(struct run *run)
{
	if (run->pending >= BATCH)
		return 1;
	double since = clock_now() - run->last_commit;
	if (run->alert_since && since >= ALERT_COMMIT_GAP) {
		run->alert_commits++;
		return 1;
	}
	return since >= VISIBLE_WITHIN;
}

/* run_ingest - one report: hash, compress, parse and judge in parallel;
 * deduplicate, cluster and store in input order (the ordered section starts
 * at the first result, see on_result_store). Duplicates are found only in
 * order, so one is parsed for nothing: the price of not storing out of
 * order. */
static void run_ingest(void *tctx, struct wk_job *j)
{
	struct worker *w = tctx;
	struct run *run = w->run;
	w->job = j;
	w->skip = 0;
	/* The report hash is needed before parsing: extract_report trusts it. */
	sha256_hex(j->data, j->len, w->sha);
	if (store_has_submission(w->lookup, w->sha)) {
		/* stored by an earlier run: no need to parse it again */
		if (!workers_turn_enter(j))
			run->duplicates++;
		workers_turn_leave(j);
		return;
	}
	store_pack(w->pk, j->data, j->len, &w->packed);
	extract_report(w->x, j->data, j->len, j->source, j->index, w->sha, on_result_store, w);
	if (!j->entered) /* no result at all: still record the submission */
		store_submission(w);
	if (!w->skip && ++run->pending && commit_due(run) && flush(run) < 0) {
		run->failures++;
		stop(w);
	}
	workers_turn_leave(j);
}

static void *worker_init(void *shared, int i, char **err);
static void worker_fini(void *tctx);

static int on_message(void *ctx, const struct intake_msg *m);

/* hold_message - --replay: keep a copy of m for replay_run(). */
static int hold_message(void *ctx, const struct intake_msg *m)
{
	struct run *run = ctx;
	if (run->nheld == run->capheld) {
		run->capheld = run->capheld ? run->capheld * 2 : 256;
		run->held = realloc(run->held, run->capheld * sizeof *run->held);
		if (!run->held)
			return 1;
	}
	struct replay_msg *h = &run->held[run->nheld];
	h->m = *m;
	char *data = malloc(m->len + 1);
	char *src = strdup(m->source);
	if (!data || !src) {
		free(data);
		free(src);
		return 1;
	}
	memcpy(data, m->data, m->len);
	h->m.data = data;
	h->m.source = src;
	h->date = campaign_message_date(m->data, m->len);
	h->order = run->nheld++;
	return 0;
}

static int cmp_replay(const void *a, const void *b)
{
	const struct replay_msg *x = a, *y = b;
	/* undated messages keep their arrival position relative to dated ones
	 * by taking the date of the message before them (set in replay_run) */
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* replay_run - submit the held messages in Date order, each with its Date
 * as the campaign clock (set in its ordered section). */
static int replay_run(struct run *run)
{
	int64_t last = 0;
	for (size_t i = 0; i < run->nheld; i++) {
		if (!run->held[i].date)
			run->held[i].date = last;
		last = run->held[i].date;
	}
	if (run->nheld > 1)
		qsort(run->held, run->nheld, sizeof *run->held, cmp_replay);
	int rc = 0;
	for (size_t i = 0; i < run->nheld; i++) {
		const struct intake_msg *m = &run->held[i].m;
		run->reports++;
		if (!rc && workers_submit(run->pool, m->data, m->len, m->source, m->index,
					  m->truncated, run->held[i].date))
			rc = 1;
		free((char *)m->data);
		free((char *)m->source);
	}
	free(run->held);
	run->held = NULL;
	return rc;
}

static int on_message(void *ctx, const struct intake_msg *m)
{
	struct run *run = ctx;
	run->reports++;
	return workers_submit(run->pool, m->data, m->len, m->source, m->index, m->truncated, 0);
}

/* The options of the verdict stage, shared by extract and ingest. */
#define JUDGING_HELP                                                                               \
	"\nJudging (verdicts):\n"                                                                  \
	"  --registry FILE   more verified organisations (docs/registry.md)\n"                     \
	"  --model FILE      the learned model (default: the bundled one)\n"                       \
	"  --good-list PATH  a MISP warning list (file or directory); repeatable\n"                \
	"  --bad-list PATH   a known-bad URL or domain feed; repeatable\n"                         \
	"  --dkim-keys FILE  DKIM keys for offline verification (selector._domainkey.d TXT)\n"     \
	"  --dns             allow DNS lookups of DKIM keys (off by default)\n"

static void usage_extract(FILE *f)
{
	fprintf(f,
		"usage: shield extract [--json] [--jobs N] [--psl FILE] PATH...\n\n"
		"Parse reported e-mails and print what each suspicious message contains, without\n"
		"storing anything. PATH may be an .eml file, a directory (recursive), an mbox\n"
		"file or a Maildir folder; '-' reads one message from standard input.\n\n"
		"  --json        one JSON object per suspicious message (JSON Lines); the fields\n"
		"                are described in docs/json-schema.md\n"
		"  --psl FILE    Public Suffix List to use (default: the bundled copy)\n"
		"  --jobs N      threads that parse and judge (default: the CPUs this process\n"
		"                may use); output keeps the input order\n"
		"  -h, --help    this help\n" JUDGING_HELP "\n"
		"A report that forwards several messages as attachments gives one object per\n"
		"attached message. Exit status 1 if some path could not be read.\n");
}

static void usage_ingest(FILE *f)
{
	fprintf(
	    f,
	    "usage: shield ingest [--db FILE] [--json] [--quiet] [--jobs N] [--psl FILE] "
	    "PATH...\n"
	    "       shield ingest --watch MAILDIR [--db FILE] [--json] [--quiet] [...]\n\n"
	    "Store reported e-mails: each report's raw bytes (zstd-compressed, addressed by\n"
	    "SHA-256) and the indicators of every suspicious message in it. PATH may be an\n"
	    ".eml file, a directory (recursive), an mbox file or a Maildir folder ('-' reads\n"
	    "standard input). Ingesting the same bytes again is reported as a duplicate and\n"
	    "stores nothing new. A progress bar is shown when stderr is a terminal.\n\n"
	    "  --db FILE     the store (default $SHIELD_DB, else ./shield.db)\n"
	    "  --json        print the summary as one JSON object\n"
	    "  --quiet       no summary\n"
	    "  --psl FILE    Public Suffix List to use (default: the bundled copy)\n"
	    "  --jobs N      threads that parse, judge and compress (default: the CPUs this\n"
	    "                process may use); storing and clustering keep the input order\n"
	    "  -h, --help    this help\n" JUDGING_HELP "\nCampaigns:\n"
	    "  --alert N/T       alert when a campaign reaches N reports within T minutes (3/10)\n"
	    "  --webhook URL     POST each alert as JSON to URL (retried; off by default)\n"
	    "  --alert-mail ADDR also e-mail each alert to ADDR\n"
	    "                    (a webhook or address that fails is skipped for 60 s,\n"
	    "                    doubling per failure in a row, at most 15 min)\n"
	    "  --replay          order messages by their Date and report, per campaign, when it\n"
	    "                    would have been alerted relative to its first report\n\n"
	    "Resident:\n"
	    "  --watch MAILDIR   keep running: store what the mail server delivers into\n"
	    "                    MAILDIR/new (oldest first, up to %u a cycle), then move each\n"
	    "                    stored message to MAILDIR/cur (NAME:2,S). Woken by inotify, and\n"
	    "                    rescans every %d s. One line per cycle (JSON with --json).\n"
	    "                    SIGTERM, SIGINT or SIGHUP: the cycle in hand is finished,\n"
	    "                    committed and moved, the summary printed, exit status 0.\n"
	    "                    Caches stay warm between cycles; a write by another command\n"
	    "                    (e.g. shield campaign merge) makes it re-read them.\n\n"
	    "Exit status 1 if some path could not be read or stored (the rest is stored); with\n"
	    "--watch, 1 if the store failed (what is not stored stays in new/).\n",
	    SHIELD_WATCH_CYCLE_MESSAGES, SHIELD_WATCH_RESCAN_MS / 1000);
}

/* read_stdin - '-' as a path: one message from standard input. */
static int stdin_message(struct run *run, struct intake_stats *st)
{
	size_t cap = 65536, len = 0;
	char *b = malloc(cap);
	size_t r;
	int truncated = 0;
	if (!b)
		return -1;
	while ((r = fread(b + len, 1, cap - len, stdin)) > 0) {
		len += r;
		if (len > (size_t)SHIELD_MAX_MESSAGE_BYTES) {
			truncated = 1;
			len = (size_t)SHIELD_MAX_MESSAGE_BYTES + 1;
			break;
		}
		if (len == cap) {
			char *nb = realloc(b, cap * 2);
			if (!nb) {
				free(b);
				return -1;
			}
			b = nb;
			cap *= 2;
		}
	}
	struct intake_msg m = {"-", -1, b, len, truncated};
	st->messages++;
	int rc = on_message(run, &m);
	free(b);
	return rc ? 1 : 0;
}

static int run_paths(struct run *run, int argc, char **argv)
{
	struct intake_ops ops = {run->replay ? hold_message : on_message, on_error, on_progress,
				 run};
	struct intake_stats st = {0};
	uint64_t total = 0;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "-"))
			total += intake_size(argv[i]);
	progress_init(&run->prog, run->st ? "ingest" : "extract", total);
	if (!run->st || run->json)
		run->prog.enabled = run->prog.enabled && run->st; /* extract prints to stdout */
	int failed = 0;
	for (int i = 0; i < argc; i++) {
		int rc = !strcmp(argv[i], "-") ? stdin_message(run, &st)
					       : intake_path(argv[i], &ops, &st);
		if (rc < 0)
			failed = 1;
		if (rc == 1)
			break;
	}
	if (run->replay && replay_run(run))
		failed = 1;
	run->pool = workers_finish(run->pool); /* every queued job runs first */
	if (run->st && flush(run) < 0)
		failed = 1;
	progress_done(&run->prog);
	if (run->replay)
		campaign_replay_summary(run->ce, stdout);
	return failed || st.errors || run->failures;
}

/* cpu_seconds - user + system time of the whole process (all threads). */
static double cpu_seconds(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* print_cycle - one line per cycle of --watch: what it took from new/. */
static void print_cycle(struct run *run, long cycle, const long *before, double secs, double cpu)
{
	struct store_counts c;
	store_counts(run->st, &c);
	long reports = run->reports - before[0], dups = run->duplicates - before[1],
	     stored = run->suspects - before[2], fails = run->failures - before[3],
	     alerts = run->alerts - before[4];
	if (run->json)
		printf("{\"cycle\":%ld,\"reports\":%ld,\"duplicates\":%ld,\"messages_stored\":%ld,"
		       "\"failures\":%ld,\"alerts\":%ld,\"seconds\":%.3f,\"cpu_seconds\":%.3f,"
		       "\"store\":{\"submissions\":%ld,\"reports\":%ld}}\n",
		       cycle, reports, dups, stored, fails, alerts, secs, cpu, c.submissions,
		       c.reports);
	else if (!run->quiet)
		printf("cycle %ld: %ld reports (%ld duplicates), %ld messages stored, %ld alerts, "
		       "%.2fs; store now %ld reports\n",
		       cycle, reports, dups, stored, alerts, secs, c.reports);
	fflush(stdout); /* a log read as it is written (a pipe, a file, journald) */
}

/* run_watch - ingest --watch: cycles of scan, store, commit, move to cur/,
 * until a stop signal (see intake/watch.h). The pool, the store's
 * connections, the verdict data and the campaign engine live across
 * cycles: a delivered message is stored in about 5 ms instead of the
 * ~100 ms of a process started for it (bench/README-campaigns.md,
 * "eleventh pass"). The first cycle is the first file seen, not a batch
 * gathered: a lone report is visible at once; a burst is taken by the
 * next cycles, up to SHIELD_WATCH_CYCLE_MESSAGES each. */
static int run_watch(struct run *run, struct intake_watch *iw, const char *maildir, long *cycles)
{
	struct intake_ops ops = {on_message, on_error, NULL, run};
	struct intake_stats st = {0};
	if (!run->quiet && !run->json) {
		printf("watching %s for new reports%s; stop with Ctrl-C or SIGTERM\n", maildir,
		       intake_watch_notify(iw) ? ""
					       : " (no inotify: rescanning every few seconds)");
		fflush(stdout);
	}
	for (;;) {
		long before[5] = {run->reports, run->duplicates, run->suspects, run->failures,
				  run->alerts};
		double t0 = clock_now(), c0 = cpu_seconds();
		int stop = 0;
		long n = intake_watch_scan(iw, SHIELD_WATCH_CYCLE_MESSAGES, &ops, &st, &stop);
		if (n < 0)
			return 1; /* new/ is gone or unreadable: named by on_error */
		if (n > 0) {
			workers_drain(run->pool);
			int ok = flush(run) == 0 && !workers_stopped(run->pool);
			/* a store failure: what was committed is in new/ still and
			 * will be a duplicate next time; nothing is moved unstored */
			if (ok)
				intake_watch_ack(iw, &ops);
			print_cycle(run, ++*cycles, before, clock_now() - t0, cpu_seconds() - c0);
			if (!ok)
				return 1;
		}
		if (stop)
			return 1;
		if (intake_watch_stopping(iw))
			return 0;
		if ((size_t)n >= SHIELD_WATCH_CYCLE_MESSAGES)
			continue; /* a backlog: the next step at once */
		if (intake_watch_wait(iw, SHIELD_WATCH_RESCAN_MS))
			return 0;
	}
}

/* Options of the later stages, shared by extract and ingest. */
#define MAX_LISTS 32
struct stage_opts {
	struct verdict_config vc;
	const char *good[MAX_LISTS + 1], *bad[MAX_LISTS + 1];
	int ngood, nbad;
	struct campaign_config cc;
	int jobs;	   /* 0: workers_default() */
	const char *watch; /* ingest --watch MAILDIR */
};

static int add_list(const char **v, int *n, const char *path)
{
	if (*n >= MAX_LISTS) {
		cli_error("too many lists (at most %d): '%s'", MAX_LISTS, path);
		return -1;
	}
	v[(*n)++] = path;
	v[*n] = NULL;
	return 0;
}

/* parse_alert - "N/T": N reports within T minutes. */
static int parse_alert(const char *s, struct campaign_config *cc)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (*end != '/' || n < 1 || n > 100000)
		return -1;
	long t = strtol(end + 1, &end, 10);
	if (*end || t < 1 || t > 100000)
		return -1;
	cc->alert_reports = (int)n;
	cc->alert_minutes = (int)t;
	return 0;
}

static int parse_common(int argc, char **argv, int *json, int *quiet, const char **db,
			const char **psl, struct stage_opts *so, void (*usage)(FILE *))
{
	enum {
		O_REGISTRY = 1000,
		O_MODEL,
		O_GOOD,
		O_BAD,
		O_DKIM,
		O_DNS,
		O_ALERT,
		O_WEBHOOK,
		O_ALERT_MAIL,
		O_REPLAY,
		O_JOBS,
		O_WATCH
	};
	static const struct option lo[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"psl", required_argument, NULL, 'p'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"registry", required_argument, NULL, O_REGISTRY},
	    {"model", required_argument, NULL, O_MODEL},
	    {"good-list", required_argument, NULL, O_GOOD},
	    {"bad-list", required_argument, NULL, O_BAD},
	    {"dkim-keys", required_argument, NULL, O_DKIM},
	    {"dns", no_argument, NULL, O_DNS},
	    {"alert", required_argument, NULL, O_ALERT},
	    {"webhook", required_argument, NULL, O_WEBHOOK},
	    {"alert-mail", required_argument, NULL, O_ALERT_MAIL},
	    {"replay", no_argument, NULL, O_REPLAY},
	    {"jobs", required_argument, NULL, O_JOBS},
	    {"watch", required_argument, NULL, O_WATCH},
	    {NULL, 0, NULL, 0},
	};
	so->vc.good_lists = so->good;
	so->vc.bad_lists = so->bad;
	so->vc.dns_timeout_ms = 3000;
	so->cc.alert_reports = 3;
	so->cc.alert_minutes = 10;
	int c;
	while ((c = getopt_long(argc, argv, "jd:p:qh", lo, NULL)) != -1) {
		switch (c) {
		case O_REGISTRY:
			so->vc.registry_file = optarg;
			break;
		case O_MODEL:
			so->vc.model_file = optarg;
			break;
		case O_GOOD:
			if (add_list(so->good, &so->ngood, optarg) < 0)
				return -1;
			break;
		case O_BAD:
			if (add_list(so->bad, &so->nbad, optarg) < 0)
				return -1;
			break;
		case O_DKIM:
			so->vc.dkim_keys_file = optarg;
			break;
		case O_DNS:
			so->vc.dns = 1;
			break;
		case O_ALERT:
			if (parse_alert(optarg, &so->cc) < 0) {
				cli_error(
				    "--alert wants N/T (N reports within T minutes), not '%s'",
				    optarg);
				return -1;
			}
			break;
		case O_WEBHOOK:
			so->cc.webhook_url = optarg;
			break;
		case O_ALERT_MAIL:
			so->cc.alert_email = optarg;
			break;
		case O_REPLAY:
			so->cc.replay = 1;
			break;
		case O_WATCH:
			so->watch = optarg;
			break;
		case O_JOBS: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 1 || n > SHIELD_MAX_JOBS) {
				cli_error("--jobs wants a number of threads from 1 to %d, not '%s'",
					  SHIELD_MAX_JOBS, optarg);
				return -1;
			}
			so->jobs = (int)n;
			break;
		}
		case 'j':
			*json = 1;
			break;
		case 'd':
			*db = optarg;
			break;
		case 'p':
			*psl = optarg;
			break;
		case 'q':
			*quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (so->watch) {
		/* the Maildir is the input: a path beside it would be read once
		 * and never again, and a replay needs every message up front */
		if (usage != usage_ingest || optind < argc || so->cc.replay) {
			cli_error("--watch MAILDIR %s",
				  usage != usage_ingest ? "is an option of 'shield ingest'"
				  : so->cc.replay	? "and --replay cannot be combined"
							: "takes no other PATH");
			return -1;
		}
		return 1;
	}
	/* extract and ingest need at least one path */
	if (optind >= argc) {
		usage(stderr);
		return -1;
	}
	return 1;
}

static void *worker_init(void *shared, int i, char **err)
{
	struct run *run = shared;
	struct worker *w = xcalloc(1, sizeof *w);
	w->run = run;
	w->x = extractor_new_shared(run->shared, err);
	if (w->x)
		w->ve = verdict_engine_new_shared(run->ve0, &run->so->vc, extractor_psl(w->x), err);
	if (!w->x || !w->ve) {
		worker_fini(w);
		return NULL;
	}
	if (run->st) {
		w->pk = store_packer_new();
		w->prep = campaign_prep_new();
		w->lookup = store_open(run->db_path, err);
		if (!w->lookup) {
			worker_fini(w);
			return NULL;
		}
		if (run->so->watch) /* a resident run reads its filter at once, as below */
			store_set_filter_after(w->lookup, 1);
	}
	return w;
}

static void worker_fini(void *tctx)
{
	struct worker *w = tctx;
	store_packer_free(w->pk);
	campaign_prep_free(w->prep);
	store_close(w->lookup);
	verdict_engine_free(w->ve);
	extractor_free(w->x);
	free(w);
}

/* open_stages - the campaign engine (with a store) and the pool of threads,
 * each with its own extractor and verdict engine; errors are printed,
 * naming what failed. */
static int open_stages(struct run *run, const char *psl, const struct stage_opts *so)
{
	char *err = NULL;
	run->so = so;
	run->replay = so->cc.replay;
	run->last_commit = clock_now();
	if (run->st) {
		/* Ingest keeps to a memory budget (100 MB for a 1 GB mbox). glibc
		 * raises its mmap threshold after each big free, so the buffers of
		 * big messages end up in the threads' heaps and stay there (112
		 * instead of 100 MB with two threads). A fixed threshold returns
		 * buffers of 1 MiB and more at once; fixing it also fixes the trim
		 * threshold at 128 KiB, which made every message fault its heap
		 * back in (+25% time), hence a trim threshold of 512 KiB. Measured in
		 * bench/README.md; extract, which stores nothing, keeps glibc's
		 * defaults. */
		mallopt(M_MMAP_THRESHOLD, SHIELD_MALLOC_MMAP_BYTES);
		mallopt(M_TRIM_THRESHOLD, SHIELD_MALLOC_TRIM_BYTES);
	}
	/* GMime's first initialisation is not thread-safe: do it here, once */
	g_mime_init();
	run->shared = extract_shared_new(psl, &err);
	if (run->shared)
		run->ve0 = verdict_engine_new(&so->vc, extract_shared_psl(run->shared), &err);
	if (run->ve0 && run->st)
		run->ce = campaign_engine_new(run->st, &so->cc, &err);
	if (run->ve0 && (!run->st || run->ce)) {
		struct wk_ops ops = {worker_init, worker_fini, run->st ? run_ingest : run_extract,
				     run};
		run->pool = workers_new(run->jobs, &ops, &err);
	}
	if (!run->pool) {
		cli_error("%s", err ? err : "cannot start the pipeline");
		free(err);
		return -1;
	}
	return 0;
}

static void close_stages(struct run *run)
{
	run->pool = workers_finish(run->pool);
	run->ce = campaign_engine_free(run->ce);
	run->ve0 = verdict_engine_free(run->ve0);
	run->shared = extract_shared_free(run->shared);
}

int cmd_extract(int argc, char **argv)
{
	int json = 0, quiet = 0;
	const char *db = NULL, *psl = NULL;
	struct stage_opts so = {0};
	int rc = parse_common(argc, argv, &json, &quiet, &db, &psl, &so, usage_extract);
	if (rc <= 0)
		return rc < 0 ? SHIELD_EXIT_USAGE : SHIELD_EXIT_OK;
	struct run run = {0};
	run.json = json;
	run.jobs = so.jobs ? so.jobs : workers_default();
	if (open_stages(&run, psl, &so) < 0) {
		close_stages(&run);
		return SHIELD_EXIT_FAIL;
	}
	int failed = run_paths(&run, argc - optind, argv + optind);
	close_stages(&run);
	return failed ? SHIELD_EXIT_PARTIAL : SHIELD_EXIT_OK;
}

int cmd_ingest(int argc, char **argv)
{
	int json = 0, quiet = 0;
	const char *db = NULL, *psl = NULL;
	struct stage_opts so = {0};
	int rc = parse_common(argc, argv, &json, &quiet, &db, &psl, &so, usage_ingest);
	if (rc <= 0)
		return rc < 0 ? SHIELD_EXIT_USAGE : SHIELD_EXIT_OK;
	char *err = NULL;
	struct run run = {0};
	run.json = json;
	run.quiet = quiet;
	run.jobs = so.jobs ? so.jobs : workers_default();
	/* before any thread starts, so that every thread blocks the stop
	 * signals (see intake/watch.h) */
	struct intake_watch *iw = NULL;
	/* The campaign key filters cost a pass over the store's keys and save
	 * a look-up per key that is not stored; a run reads them once it has
	 * made enough look-ups to have paid for that (campaign_filter_after()),
	 * since it cannot know how many more it will make. A resident ingest
	 * lives for days: it reads them at its first look-up, and again at the
	 * first after another process wrote the store. The same holds for the
	 * store's own filters of submission and indicator keys
	 * (store_set_filter_after, below). It also holds the whole campaign key
	 * index in memory when that fits (campaign_config.preload): its
	 * look-ups of stored keys would otherwise each descend a B-tree whose
	 * pages the rest of the ingest keeps pushing out of SQLite's cache. */
	if (so.watch) {
		so.cc.filter_after = 1;
		so.cc.preload = 1;
	}
	if (so.watch && !(iw = intake_watch_open(so.watch, &err))) {
		cli_error("%s", err);
		free(err);
		return SHIELD_EXIT_FAIL;
	}
	const char *path = cli_db_path(db);
	run.st = store_open(path, &err);
	run.db_path = path;
	if (!run.st) {
		cli_error("%s", err);
		free(err);
		intake_watch_close(iw);
		return SHIELD_EXIT_FAIL;
	}
	if (so.watch)
		store_set_filter_after(run.st, 1);
	if (open_stages(&run, psl, &so) < 0) {
		close_stages(&run);
		store_close(run.st);
		intake_watch_close(iw);
		return SHIELD_EXIT_FAIL;
	}
	double t0 = clock_now();
	long cycles = 0;
	int failed = iw ? run_watch(&run, iw, so.watch, &cycles)
			: run_paths(&run, argc - optind, argv + optind);
	if (iw) {
		run.pool = workers_finish(run.pool);
		if (flush(&run) < 0) /* nothing is pending after a cycle; to be sure */
			failed = 1;
	}
	double el = clock_now() - t0;
	struct store_counts c;
	store_counts(run.st, &c);
	if (json) {
		printf("{\"db\":\"%s\",\"reports_read\":%ld,\"duplicates\":%ld,\"messages_stored\":"
		       "%ld,"
		       "\"urls\":%ld,\"with_findings\":%ld,\"limits_hit\":%ld,\"failures\":%ld,"
		       "\"seconds\":%.3f,\"alerts\":%ld,\"alert_commits\":%ld,"
		       "\"alert_delay_max\":%.3f,\"store\":{\"submissions\":%ld,"
		       "\"reports\":%ld,"
		       "\"indicators\":%ld,\"raw_bytes\":%lld,\"raw_stored_bytes\":%lld}",
		       path, run.reports, run.duplicates, run.suspects, run.urls, run.findings_msgs,
		       run.limit_msgs, run.failures, el, run.alerts, run.alert_commits,
		       run.alert_delay, c.submissions, c.reports, c.indicators,
		       (long long)c.raw_bytes, (long long)c.raw_stored_bytes);
		if (run.ce) {
			long lookups = 0;
			int preloaded = 0;
			campaign_key_stats(run.ce, &lookups, &preloaded);
			printf(",\"campaign_keys\":{\"store_lookups\":%ld,\"preloaded\":%s}",
			       lookups, preloaded ? "true" : "false");
		}
		if (iw)
			printf(",\"watch\":{\"cycles\":%ld,\"stopped_by\":\"%s\"}", cycles,
			       intake_watch_signal(iw) ? sigabbrev_np(intake_watch_signal(iw))
						       : "failure");
		printf("}\n");
	} else if (!quiet) {
		printf("ingested %ld reports (%ld duplicates skipped) into %s in %.2fs:\n"
		       "  %ld suspicious messages stored, %ld URLs, %ld with findings, %ld hit a "
		       "limit\n"
		       "  store now: %ld submissions, %ld reports, %ld distinct indicators,\n"
		       "  raw %.1f MB kept in %.1f MB (zstd)\n",
		       run.reports, run.duplicates, path, el, run.suspects, run.urls,
		       run.findings_msgs, run.limit_msgs, c.submissions, c.reports, c.indicators,
		       c.raw_bytes / 1e6, c.raw_stored_bytes / 1e6);
		if (iw && intake_watch_signal(iw))
			printf("  stopped by SIG%s after %ld cycles\n",
			       sigabbrev_np(intake_watch_signal(iw)), cycles);
	}
	close_stages(&run);
	store_close(run.st);
	intake_watch_close(iw);
	return failed ? SHIELD_EXIT_PARTIAL : SHIELD_EXIT_OK;
}
