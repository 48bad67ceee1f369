/*
 * watch.h - a Maildir as a queue, for a resident ingest (`shield ingest
 * --watch MAILDIR`): the mail server delivers each report into new/ (via
 * tmp/, as every Maildir writer does: a file appears in new/ whole), the
 * watcher hands the messages of new/ to the pipeline in name order (the
 * name starts with the delivery time), and once the store has committed
 * them it moves each to cur/ with the "seen" flag (NAME:2,S). What is in
 * new/ is what is not yet stored: a crash or a kill between the commit and
 * the move leaves a message there, and the next run finds it stored (a
 * duplicate, skipped cheaply), so nothing is lost and nothing is stored
 * twice.
 *
 * Waiting: inotify on new/ (a delivery wakes the watcher at once), and a
 * rescan every SHIELD_WATCH_RESCAN_MS anyway (a file system without
 * inotify, an overflowed event queue). Stopping: SIGINT, SIGTERM and
 * SIGHUP are blocked in the calling thread and read from a signalfd, so a
 * signal never interrupts a transaction; the caller finishes the cycle in
 * hand and asks intake_watch_stopping() between cycles. Threads started
 * after intake_watch_open() inherit the blocked mask, which is why it must
 * come first.
 *
 * A message that cannot be read (permissions, vanished) stays in new/ and
 * is named once through on_error; it is not offered again by this watcher
 * (at most SHIELD_WATCH_MAX_SKIPPED names are remembered: past that, such
 * a message is named again on later scans). A message that cannot be moved
 * to cur/ is handled the same way: it is stored, so leaving it is safe.
 *
 * Ownership: the watcher owns the names of the current cycle; messages
 * are borrowed by on_message for the call, as in intake.h.
 */
#ifndef SHIELD_INTAKE_WATCH_H
#define SHIELD_INTAKE_WATCH_H
#include <stddef.h>

#include "intake/intake.h"

struct intake_watch;

/* intake_watch_open - watch the Maildir at path (it must hold new/ and
 * cur/). Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (call it
 * before starting threads). NULL and *err (malloc'd) when path is not a
 * Maildir or the signals cannot be taken. */
struct intake_watch *intake_watch_open(const char *path, char **err);
/* intake_watch_close - restore the signal mask and free; NULL is fine.
 * A signal received meanwhile is left pending, so it acts after the
 * mask is restored (the caller has finished by then). Returns NULL. */
struct intake_watch *intake_watch_close(struct intake_watch *w);

/* intake_watch_scan - deliver up to max messages of new/, oldest name
 * first, through ops (source: the path in new/). Returns how many were
 * delivered, or -1 if new/ cannot be read (named through on_error); *stop
 * is set when on_message asked to stop. */
long intake_watch_scan(struct intake_watch *w, size_t max, const struct intake_ops *ops,
		       struct intake_stats *st, int *stop);
/* intake_watch_ack - move the messages of the last scan to cur/ (call it
 * after the commit that stored them). Returns how many could not be moved
 * (each named through on_error). */
long intake_watch_ack(struct intake_watch *w, const struct intake_ops *ops);

/* intake_watch_wait - sleep until new/ may have changed, a stop signal
 * arrives, or timeout_ms pass. Returns 1 when a stop was asked, else 0. */
int intake_watch_wait(struct intake_watch *w, int timeout_ms);
/* intake_watch_stopping - a stop signal has arrived (does not wait). */
int intake_watch_stopping(struct intake_watch *w);
/* intake_watch_signal - the stop signal's number, 0 before one came. */
int intake_watch_signal(const struct intake_watch *w);
/* intake_watch_notify - 1 when inotify wakes the watcher, 0 when it only
 * rescans every SHIELD_WATCH_RESCAN_MS. */
int intake_watch_notify(const struct intake_watch *w);

#endif
