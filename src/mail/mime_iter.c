/* mime_iter.c - non-recursive MIME tree walk (see mime_iter.h). */
#include "mail/mime_iter.h"

void mime_iter_init(struct mime_iter *it, GMimeObject *root, int enter_messages)
{
	it->top = 0;
	it->pending = root;
	it->pending_depth = 0;
	it->last = NULL;
	it->last_depth = 0;
	it->enter_messages = enter_messages;
	it->too_deep = 0;
}

void mime_iter_skip(struct mime_iter *it)
{
	it->last = NULL;
}

/* enter - open the container returned last, if it is one. */
static void enter(struct mime_iter *it)
{
	GMimeObject *o = it->last;
	unsigned d = it->last_depth;
	it->last = NULL;
	if (!o)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		if (it->top >= (int)SHIELD_MAX_MIME_DEPTH || d + 1 > SHIELD_MAX_MIME_DEPTH) {
			it->too_deep = 1;
			return;
		}
		it->fr[it->top].o = o;
		it->fr[it->top].next = 0;
		it->fr[it->top].n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		it->fr[it->top].depth = d;
		it->top++;
	} else if (GMIME_IS_MESSAGE_PART(o) && it->enter_messages) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		GMimeObject *body = m ? g_mime_message_get_mime_part(m) : NULL;
		if (!body)
			return;
		if (d + 1 > SHIELD_MAX_MIME_DEPTH) {
			it->too_deep = 1;
			return;
		}
		it->pending = body;
		it->pending_depth = d + 1;
	}
}

GMimeObject *mime_iter_next(struct mime_iter *it, unsigned *depth)
{
	enter(it);
	GMimeObject *o = NULL;
	unsigned d = 0;
	if (it->pending) {
		o = it->pending;
		d = it->pending_depth;
		it->pending = NULL;
	} else {
		while (it->top > 0 && !o) {
			struct mime_frame *f = &it->fr[it->top - 1];
			if (f->next < f->n) {
				o = g_mime_multipart_get_part(GMIME_MULTIPART(f->o), f->next++);
				d = f->depth + 1;
			} else {
				it->top--;
			}
		}
	}
	if (o) {
		it->last = o;
		it->last_depth = d;
	}
	if (depth)
		*depth = d;
	return o;
}
