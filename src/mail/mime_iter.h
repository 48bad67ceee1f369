/*
 * mime_iter.h - pre-order walk of a GMime tree without recursion.
 *
 * Memory is one frame per open container, so a flat multipart with
 * thousands of parts costs one frame, and depth is bounded by
 * SHIELD_MAX_MIME_DEPTH: a container deeper than that is returned but not
 * entered, and too_deep is set so the caller records limit.mime_depth.
 * The iterator borrows the tree; it allocates nothing.
 */
#ifndef SHIELD_MIME_ITER_H
#define SHIELD_MIME_ITER_H
#include <gmime/gmime.h>

#include "common/limits.h"

struct mime_frame {
	GMimeObject *o;
	int next, n;
	unsigned depth;
};

struct mime_iter {
	struct mime_frame fr[SHIELD_MAX_MIME_DEPTH];
	int top;
	GMimeObject *pending; /* to return next (the root, or a message's body) */
	unsigned pending_depth;
	GMimeObject *last; /* returned by the previous call, not yet entered */
	unsigned last_depth;
	int enter_messages; /* descend into message/rfc822 parts */
	int too_deep;
};

/* mime_iter_init - start at root (depth 0). */
void mime_iter_init(struct mime_iter *it, GMimeObject *root, int enter_messages);
/* mime_iter_next - the next object in pre-order, or NULL at the end. */
GMimeObject *mime_iter_next(struct mime_iter *it, unsigned *depth);
/* mime_iter_skip - do not enter the object just returned. */
void mime_iter_skip(struct mime_iter *it);

#endif
