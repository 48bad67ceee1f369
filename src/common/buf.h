/*
 * buf.h - length-counted, binary-safe, always NUL-terminated byte buffer
 * with a maximum size (the curl dynbuf / Git strbuf idea).
 *
 * Invariants: data[len] == '\0' whenever data != NULL; len <= max.
 * An append that would pass max appends nothing and returns -1, and the
 * buffer remembers it (toobig) so a caller may check once at the end.
 * The buffer owns data; buf_release() frees it, buf_detach() hands it over.
 */
#ifndef SHIELD_BUF_H
#define SHIELD_BUF_H
#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len, cap, max;
	int toobig;
};

#define BUF_INIT(maxbytes)                                                                         \
	{                                                                                          \
		NULL, 0, 0, (maxbytes), 0                                                          \
	}

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* buf_detach - return data (caller frees) and reset the buffer. */
char *buf_detach(struct buf *b, size_t *len);

#endif
