/*
 * watch.c - a Maildir's new/ as a queue (see watch.h).
 *
 * Each scan lists new/ afresh and sorts it: Maildir names begin with the
 * delivery time, so name order is arrival order, and a listing costs far
 * less than the messages it finds. The messages themselves are read by
 * intake_path(), so a file here is read exactly as `shield ingest` reads it
 * (size limit, an mbox-looking file split into its messages).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/xalloc.h"
#include "intake/intake_int.h"
#include "intake/watch.h"

struct intake_watch {
	char *new_dir, *cur_dir;
	int ino_fd; /* -1: no inotify, rescan on the timer only */
	int sig_fd;
	sigset_t old_mask;
	int signo; /* the stop signal received, 0: none */
	/* the names delivered by the last scan, to move at ack */
	char **names;
	size_t nnames, capnames;
	/* names that could not be read or moved, sorted (see watch.h) */
	char **skipped;
	size_t nskipped;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

struct intake_watch *intake_watch_open(const char *path, char **err)
{
	struct intake_watch *w = xcalloc(1, sizeof *w);
	w->ino_fd = w->sig_fd = -1;
	if (!intake_is_maildir(path)) {
		if (asprintf(err, "'%s' is not a Maildir (it needs new/ and cur/ folders)", path) <
		    0)
			abort();
		free(w);
		return NULL;
	}
	w->new_dir = join(path, "new");
	w->cur_dir = join(path, "cur");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &w->old_mask);
	w->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (w->sig_fd < 0) {
		if (asprintf(err, "cannot receive stop signals: %s", strerror(errno)) < 0)
			abort();
		return intake_watch_close(w);
	}
	/* without inotify (its limit reached, a file system without it) the
	 * watcher still works, on the rescan timer */
	w->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ino_fd >= 0 && inotify_add_watch(w->ino_fd, w->new_dir,
						IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
		close(w->ino_fd);
		w->ino_fd = -1;
	}
	return w;
}

static void names_clear(struct intake_watch *w)
{
	for (size_t i = 0; i < w->nnames; i++)
		free(w->names[i]);
	w->nnames = 0;
}

struct intake_watch *intake_watch_close(struct intake_watch *w)
{
	if (!w)
		return NULL;
	if (w->ino_fd >= 0)
		close(w->ino_fd);
	if (w->sig_fd >= 0)
		close(w->sig_fd);
	pthread_sigmask(SIG_SETMASK, &w->old_mask, NULL);
	names_clear(w);
	free(w->names);
	for (size_t i = 0; i < w->nskipped; i++)
		free(w->skipped[i]);
	free(w->skipped);
	free(w->new_dir);
	free(w->cur_dir);
	free(w);
	return NULL;
}

static int is_skipped(const struct intake_watch *w, const char *name)
{
	return w->nskipped &&
	       bsearch(&name, w->skipped, w->nskipped, sizeof *w->skipped, cmp_str) != NULL;
}

/* skip - remember name as one not to offer again (bounded). */
static void skip(struct intake_watch *w, const char *name)
{
	if (w->nskipped >= SHIELD_WATCH_MAX_SKIPPED || is_skipped(w, name))
		return;
	if (!w->skipped)
		w->skipped = xcalloc(SHIELD_WATCH_MAX_SKIPPED, sizeof *w->skipped);
	size_t i = 0;
	while (i < w->nskipped && strcmp(w->skipped[i], name) < 0)
		i++;
	memmove(w->skipped + i + 1, w->skipped + i, (w->nskipped - i) * sizeof *w->skipped);
	w->skipped[i] = xstrdup(name);
	w->nskipped++;
}

long intake_watch_scan(struct intake_watch *w, size_t max, const struct intake_ops *ops,
		       struct intake_stats *st, int *stop)
{
	*stop = 0;
	names_clear(w);
	size_t n;
	int err = 0;
	/* listed as `shield ingest MAILDIR` lists it */
	char **v = intake_sorted_entries(w->new_dir, &n, &err);
	if (!v) {
		st->errors++;
		ops->on_error(ops->ctx, w->new_dir, strerror(err));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!*stop && w->nnames < max && !is_skipped(w, v[i])) {
			char *p = join(w->new_dir, v[i]);
			struct stat sb;
			if (lstat(p, &sb) < 0) {
				/* gone since the listing: another reader took it */
			} else if (!S_ISREG(sb.st_mode)) {
				/* a folder or link someone put here: never a delivery */
				ops->on_error(ops->ctx, p, "not a regular file (left in new/)");
				skip(w, v[i]);
			} else {
				int rc = intake_path(p, ops, st);
				if (rc < 0) { /* named by intake_path through on_error */
					skip(w, v[i]);
				} else {
					if (w->nnames == w->capnames) {
						w->capnames = w->capnames ? w->capnames * 2 : 64;
						w->names = xrealloc(w->names,
								    w->capnames * sizeof *w->names);
					}
					/* delivered even when on_message asked to stop:
					 * the caller decides (it acks only after a commit) */
					w->names[w->nnames++] = v[i];
					v[i] = NULL;
					if (rc == 1)
						*stop = 1;
				}
			}
			free(p);
		}
		free(v[i]);
	}
	free(v);
	return (long)w->nnames;
}

long intake_watch_ack(struct intake_watch *w, const struct intake_ops *ops)
{
	long failed = 0;
	for (size_t i = 0; i < w->nnames; i++) {
		const char *name = w->names[i];
		char *from = join(w->new_dir, name);
		char *to = NULL;
		/* cur/ names carry the info part ":2,FLAGS"; S: seen (stored) */
		if (asprintf(&to, "%s/%s%s", w->cur_dir, name, strchr(name, ':') ? "" : ":2,S") < 0)
			abort();
		if (rename(from, to) < 0 && errno != ENOENT) {
			/* ENOENT: another reader moved it; it is stored either way */
			char why[300];
			snprintf(why, sizeof why, "stored, but cannot be moved to cur/: %s",
				 strerror(errno));
			ops->on_error(ops->ctx, from, why);
			skip(w, name);
			failed++;
		}
		free(from);
		free(to);
	}
	names_clear(w);
	return failed;
}

/* drain_signals - read the pending stop signals (the first one counts). */
static void drain_signals(struct intake_watch *w)
{
	struct signalfd_siginfo si;
	while (read(w->sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
		if (!w->signo)
			w->signo = (int)si.ssi_signo;
}

int intake_watch_wait(struct intake_watch *w, int timeout_ms)
{
	drain_signals(w);
	if (w->signo)
		return 1;
	struct pollfd p[2] = {{w->sig_fd, POLLIN, 0}, {w->ino_fd, POLLIN, 0}};
	int np = w->ino_fd >= 0 ? 2 : 1;
	if (poll(p, (nfds_t)np, timeout_ms) > 0 && np == 2 && (p[1].revents & POLLIN)) {
		/* the events themselves do not matter: any of them means rescan */
		char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		while (read(w->ino_fd, ev, sizeof ev) > 0)
			;
	}
	drain_signals(w);
	return w->signo != 0;
}

int intake_watch_stopping(struct intake_watch *w)
{
	drain_signals(w);
	return w->signo != 0;
}

int intake_watch_signal(const struct intake_watch *w)
{
	return w->signo;
}

int intake_watch_notify(const struct intake_watch *w)
{
	return w->ino_fd >= 0;
}
