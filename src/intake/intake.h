/*
 * intake.h - reported messages from files: single .eml files, directories
 * of them (recursive), mbox files (mboxo and mboxrd ">From " quoting) and
 * Maildir folders (cur/ and new/; Dovecot's index files ignored).
 *
 * Streaming: an mbox is read in fixed chunks and at most one message
 * (bounded by SHIELD_MAX_MESSAGE_BYTES + 1) is held in memory at a time,
 * whatever the mailbox size. A message larger than the limit is passed on
 * truncated to limit + 1 bytes with `truncated` set, so the caller records
 * the limit finding instead of dropping it.
 *
 * Errors (unreadable path, not a regular file...) are reported through
 * on_error with the path named; the walk goes on with the rest.
 */
#ifndef SHIELD_INTAKE_H
#define SHIELD_INTAKE_H
#include <stddef.h>
#include <stdint.h>

struct intake_msg {
	const char *source; /* the path as given, or the file inside a directory */
	long index;	    /* position in an mbox (0-based), -1 otherwise */
	const char *data;   /* borrowed: valid during the callback only */
	size_t len;
	int truncated; /* the message was larger than the limit */
};

struct intake_ops {
	/* on_message - one message; nonzero return stops the walk. */
	int (*on_message)(void *ctx, const struct intake_msg *m);
	/* on_error - a path or entry that could not be read. */
	void (*on_error)(void *ctx, const char *path, const char *why);
	/* on_progress - bytes of input consumed so far (may be NULL). */
	void (*on_progress)(void *ctx, uint64_t bytes_done);
	void *ctx;
};

struct intake_stats {
	long files, messages, errors;
	uint64_t bytes;
};

/* intake_path - deliver every message under path. Returns 0 if everything
 * was read, -1 if something failed (already reported via on_error), 1 if
 * on_message asked to stop. */
int intake_path(const char *path, const struct intake_ops *ops, struct intake_stats *st);

/* intake_size - total bytes of the regular files under path (for a
 * progress ETA); 0 on error. */
uint64_t intake_size(const char *path);

/* intake_mbox_stream - split an open mbox stream into messages (exposed
 * for tests and the fuzzer). */
int intake_mbox_fd(int fd, const char *source, const struct intake_ops *ops,
		   struct intake_stats *st);

#endif
