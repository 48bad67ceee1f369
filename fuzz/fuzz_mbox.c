/*
 * fuzz_mbox.c - the mbox splitter on arbitrary bytes (through a pipe, as
 * ingest reads files). Invariant: the bytes handed out never exceed the
 * input (quoting only removes '>'), and every message is within the cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/limits.h"
#include "intake/intake.h"

struct tally {
	size_t bytes;
};

static int on_msg(void *ctx, const struct intake_msg *m)
{
	struct tally *t = ctx;
	if (m->len > (size_t)SHIELD_MAX_MESSAGE_BYTES + 1)
		abort();
	t->bytes += m->len;
	return 0;
}

static void on_err(void *ctx, const char *path, const char *why)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz-mbox-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	struct tally t = {0};
	struct intake_ops ops = {on_msg, on_err, NULL, &t};
	struct intake_stats st = {0};
	intake_mbox_fd(fd, path, &ops, &st);
	close(fd);
	unlink(path);
	if (t.bytes > size)
		abort();
	return 0;
}
