/* test_intake.c - mbox splitting, Maildir, directories, errors. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/limits.h"
#include "intake/intake.h"
#include "test.h"

struct got {
	int n, errors, truncated;
	char bodies[8][256];
	size_t lens[8];
	long idx[8];
};

static int on_msg(void *ctx, const struct intake_msg *m)
{
	struct got *g = ctx;
	if (g->n < 8) {
		size_t l = m->len < 255 ? m->len : 255;
		memcpy(g->bodies[g->n], m->data, l);
		g->bodies[g->n][l] = '\0';
		g->lens[g->n] = m->len;
		g->idx[g->n] = m->index;
	}
	g->truncated += m->truncated;
	g->n++;
	return 0;
}

static void on_err(void *ctx, const char *path, const char *why)
{
	((struct got *)ctx)->errors++;
}

static char tmpdir[] = "/tmp/shield-test-intake-XXXXXX";

static void write_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, data, n) != (ssize_t)n)
			abort();
		close(fd);
	}
}

static void mbox_split(struct test_state *t)
{
	char p[256];
	snprintf(p, sizeof p, "%s/box.mbox", tmpdir);
	const char *mb = "From a@b Mon Jan  1 00:00:00 2024\n"
			 "Subject: one\n\nbody one\n>From here quoted\n\n"
			 "From c@d Mon Jan  1 00:00:00 2024\r\n"
			 "Subject: two\r\n\r\n>>From deeper\r\n\r\n"
			 "From e@f Mon Jan  1 00:00:00 2024\n"
			 "Subject: three\n\nno final newline";
	write_file(p, mb, strlen(mb));
	struct got g = {0};
	struct intake_ops ops = {on_msg, on_err, NULL, &g};
	struct intake_stats st = {0};
	CHECK(t, intake_path(p, &ops, &st) == 0);
	CHECK(t, g.n == 3);
	CHECK_STR(t, g.bodies[0], "Subject: one\n\nbody one\nFrom here quoted\n");
	CHECK_STR(t, g.bodies[1], "Subject: two\r\n\r\n>From deeper\r\n");
	CHECK_STR(t, g.bodies[2], "Subject: three\n\nno final newline");
	CHECK(t, g.idx[0] == 0 && g.idx[2] == 2);
	CHECK(t, st.messages == 3 && st.errors == 0);
}

static void mbox_long_line_and_cap(struct test_state *t)
{
	char p[256];
	snprintf(p, sizeof p, "%s/big.mbox", tmpdir);
	/* one message larger than the limit, with a line longer than the
	 * read chunk, then a small one: the big one is truncated, flagged,
	 * and the next one still arrives intact */
	size_t big = (size_t)SHIELD_MAX_MESSAGE_BYTES + 3u * 1024u * 1024u;
	char *data = malloc(big + 200);
	size_t n = 0;
	n += (size_t)snprintf(data, 200, "From x Mon Jan  1 00:00:00 2024\nSubject: big\n\n");
	memset(data + n, 'A', big);
	n += big;
	const char *tail = "\nFrom y Mon Jan  1 00:00:00 2024\nSubject: small\n\nok\n";
	memcpy(data + n, tail, strlen(tail));
	n += strlen(tail);
	write_file(p, data, n);
	free(data);
	struct got g = {0};
	struct intake_ops ops = {on_msg, on_err, NULL, &g};
	struct intake_stats st = {0};
	intake_path(p, &ops, &st);
	CHECK(t, g.n == 2);
	CHECK(t, g.truncated == 1);
	CHECK(t, g.lens[0] == (size_t)SHIELD_MAX_MESSAGE_BYTES + 1);
	CHECK_STR(t, g.bodies[1], "Subject: small\n\nok\n");
	unlink(p);
}

static void maildir_and_dirs(struct test_state *t)
{
	char p[512];
	snprintf(p, sizeof p, "%s/md", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/md/cur", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/md/new", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/md/tmp", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/md/cur/1.host:2,S", tmpdir);
	write_file(p, "Subject: a\n\nx\n", 14);
	snprintf(p, sizeof p, "%s/md/new/2.host", tmpdir);
	write_file(p, "Subject: b\n\ny\n", 14);
	snprintf(p, sizeof p, "%s/md/tmp/3.host", tmpdir);
	write_file(p, "Subject: c\n\nz\n", 14); /* unfinished: not read */
	snprintf(p, sizeof p, "%s/md/dovecot.index.log", tmpdir);
	write_file(p, "binary", 6);
	snprintf(p, sizeof p, "%s/md/dovecot-uidlist", tmpdir);
	write_file(p, "3 V1 N2", 7);
	struct got g = {0};
	struct intake_ops ops = {on_msg, on_err, NULL, &g};
	struct intake_stats st = {0};
	snprintf(p, sizeof p, "%s/md", tmpdir);
	CHECK(t, intake_path(p, &ops, &st) == 0);
	CHECK(t, g.n == 2);
	CHECK(t, g.errors == 0);
	/* the parent directory walks recursively and finds the Maildir */
	struct got g2 = {0};
	struct intake_ops ops2 = {on_msg, on_err, NULL, &g2};
	struct intake_stats st2 = {0};
	intake_path(tmpdir, &ops2, &st2);
	CHECK(t, g2.n >= 2);
}

static void errors_named(struct test_state *t)
{
	struct got g = {0};
	struct intake_ops ops = {on_msg, on_err, NULL, &g};
	struct intake_stats st = {0};
	CHECK(t, intake_path("/nonexistent/shield/path", &ops, &st) < 0);
	CHECK(t, g.errors == 1 && st.errors == 1 && g.n == 0);
	CHECK(t, intake_path("/dev/null", &ops, &st) < 0); /* not a regular file */
}

static void empty_file(struct test_state *t)
{
	char p[256];
	snprintf(p, sizeof p, "%s/empty.eml", tmpdir);
	write_file(p, "", 0);
	struct got g = {0};
	struct intake_ops ops = {on_msg, on_err, NULL, &g};
	struct intake_stats st = {0};
	CHECK(t, intake_path(p, &ops, &st) == 0);
	CHECK(t, g.n == 1 && g.lens[0] == 0);
	unlink(p);
}

int main(void)
{
	struct test_state t = {0};
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(&t, mbox_split);
	RUN(&t, mbox_long_line_and_cap);
	RUN(&t, maildir_and_dirs);
	RUN(&t, errors_named);
	RUN(&t, empty_file);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return TEST_SUMMARY(&t);
}
