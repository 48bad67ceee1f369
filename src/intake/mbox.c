/*
 * mbox.c - split an mbox stream into messages (see intake.h).
 *
 * A message starts at a line beginning "From " (at the start of the file
 * or after a newline). Lines ">From ", ">>From "... lose one '>' (mboxrd;
 * for mboxo this is also the conventional reading). The separator line is
 * not part of the message. Memory: a 1 MiB read buffer plus one message
 * capped at SHIELD_MAX_MESSAGE_BYTES + 1; bytes past the cap are counted
 * but not kept, and the message is flagged truncated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/limits.h"
#include "intake/intake.h"

struct mbox_state {
	struct buf msg;
	int in_msg, truncated;
	long index;
	const char *source;
	const struct intake_ops *ops;
	struct intake_stats *st;
	uint64_t consumed;
};

/* emit - hand the current message on; returns nonzero to stop. */
static int emit(struct mbox_state *s)
{
	if (!s->in_msg)
		return 0;
	/* the blank line before the next separator belongs to the format */
	size_t len = s->msg.len;
	if (len >= 2 && s->msg.data[len - 1] == '\n' && s->msg.data[len - 2] == '\n')
		len--;
	else if (len >= 4 && !memcmp(s->msg.data + len - 4, "\r\n\r\n", 4))
		len -= 2;
	struct intake_msg m = {s->source, s->index, s->msg.data ? s->msg.data : "", len,
			       s->truncated};
	s->st->messages++;
	s->st->bytes += len;
	int stop = s->ops->on_message(s->ops->ctx, &m);
	if (s->ops->on_progress)
		s->ops->on_progress(s->ops->ctx, s->consumed);
	s->index++;
	buf_reset(&s->msg);
	s->truncated = 0;
	s->in_msg = 0;
	return stop;
}

/* add - append to the current message, respecting the cap. */
static void add(struct mbox_state *s, const char *p, size_t n)
{
	size_t cap = (size_t)SHIELD_MAX_MESSAGE_BYTES + 1;
	if (s->msg.len + n > cap) {
		buf_add(&s->msg, p, cap - s->msg.len);
		s->truncated = 1;
		return;
	}
	buf_add(&s->msg, p, n);
}

/* line - one complete line (with its newline, if any). at_start is true
 * when the line begins at a line boundary of the file. */
static int line(struct mbox_state *s, const char *p, size_t n, int at_start)
{
	if (at_start && n >= 5 && memcmp(p, "From ", 5) == 0) {
		if (emit(s))
			return 1;
		s->in_msg = 1;
		return 0;
	}
	if (!s->in_msg) {
		/* garbage before the first separator: keep it as a message */
		s->in_msg = 1;
	}
	if (at_start && n >= 6 && p[0] == '>') {
		size_t q = 0;
		while (q < n && p[q] == '>')
			q++;
		if (n - q >= 5 && memcmp(p + q, "From ", 5) == 0) {
			p++;
			n--;
		}
	}
	add(s, p, n);
	return 0;
}

int intake_mbox_fd(int fd, const char *source, const struct intake_ops *ops,
		   struct intake_stats *st)
{
	struct mbox_state s = {.index = 0, .source = source, .ops = ops, .st = st};
	buf_init(&s.msg, (size_t)SHIELD_MAX_MESSAGE_BYTES + 1);
	/* carry: a partial line kept between reads, capped at one chunk; a
	 * longer line is passed through in pieces (only its first piece can
	 * be a separator). */
	struct buf carry = BUF_INIT(SHIELD_MBOX_CHUNK);
	int carry_at_start = 1;
	static const size_t RD = 1u << 20;
	char *rd = malloc(RD);
	if (!rd) {
		buf_release(&s.msg);
		return -1;
	}
	ssize_t r;
	int rc = 0;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		/* pipes cannot seek; the caller has not consumed anything */
	}
	while ((r = read(fd, rd, RD)) > 0) {
		s.consumed += (uint64_t)r;
		const char *p = rd, *end = rd + r;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl) {
				size_t n = (size_t)(end - p);
				if (carry.len + n > SHIELD_MBOX_CHUNK) {
					/* flush the long line's head as a piece */
					if (carry.len &&
					    line(&s, carry.data, carry.len, carry_at_start)) {
						rc = 1;
						goto out;
					}
					if (carry.len)
						carry_at_start = 0;
					buf_reset(&carry);
					if (n > SHIELD_MBOX_CHUNK) {
						if (line(&s, p, n, carry_at_start)) {
							rc = 1;
							goto out;
						}
						carry_at_start = 0;
						break;
					}
				}
				buf_add(&carry, p, n);
				break;
			}
			size_t n = (size_t)(nl + 1 - p);
			int stop;
			if (carry.len) {
				if (carry.len + n <= SHIELD_MBOX_CHUNK) {
					buf_add(&carry, p, n);
					stop = line(&s, carry.data, carry.len, carry_at_start);
				} else {
					stop = line(&s, carry.data, carry.len, carry_at_start) ||
					       line(&s, p, n, 0);
				}
				buf_reset(&carry);
			} else {
				stop = line(&s, p, n, carry_at_start);
			}
			carry_at_start = 1;
			if (stop) {
				rc = 1;
				goto out;
			}
			p = nl + 1;
		}
	}
	if (r < 0) {
		st->errors++;
		ops->on_error(ops->ctx, source, strerror(errno));
		rc = -1;
	}
	if (carry.len && line(&s, carry.data, carry.len, carry_at_start))
		rc = 1;
	if (rc != 1 && emit(&s))
		rc = 1;
out:
	free(rd);
	buf_release(&carry);
	buf_release(&s.msg);
	return rc;
}
