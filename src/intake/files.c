/*
 * files.c - walk intake paths: files, directories, Maildir (see intake.h).
 *
 * Directories are read in name order so runs are reproducible; depth is
 * bounded by SHIELD_MAX_DIR_DEPTH (symlink loops), and symlinked
 * directories are not followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/limits.h"
#include "common/xalloc.h"
#include "intake/intake.h"
#include "intake/intake_int.h"

/* skip_name - names that are never messages: dot files, Dovecot and
 * Maildir bookkeeping. */
static int skip_name(const char *n)
{
	return n[0] == '.' || strncmp(n, "dovecot", 7) == 0 || strcmp(n, "subscriptions") == 0 ||
	       strcmp(n, "maildirfolder") == 0 || strcmp(n, "courierimapuiddb") == 0 ||
	       strcmp(n, "courierimapkeywords") == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **intake_sorted_entries(const char *dir, size_t *n, int *err)
{
	DIR *d = opendir(dir);
	*n = 0;
	if (!d) {
		*err = errno;
		return NULL;
	}
	size_t cap = 64;
	char **v = xmalloc(cap * sizeof *v);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (skip_name(e->d_name))
			continue;
		if (*n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof *v);
		v[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

/* read_file - whole file, at most limit + 1 bytes (so "too big" shows). */
static int read_file(int fd, struct buf *b, int *truncated)
{
	char chunk[65536];
	ssize_t r;
	*truncated = 0;
	while ((r = read(fd, chunk, sizeof chunk)) > 0) {
		if (b->len + (size_t)r > (size_t)SHIELD_MAX_MESSAGE_BYTES + 1) {
			size_t room = (size_t)SHIELD_MAX_MESSAGE_BYTES + 1 - b->len;
			buf_add(b, chunk, room);
			*truncated = 1;
			return 0;
		}
		buf_add(b, chunk, (size_t)r);
	}
	return r < 0 ? -1 : 0;
}

/* is_mbox_start - an mbox begins with a "From " separator line. */
static int is_mbox_start(const char *p, size_t n)
{
	return n >= 5 && memcmp(p, "From ", 5) == 0;
}

static int walk(const char *path, unsigned depth, const struct intake_ops *ops,
		struct intake_stats *st);

/* one_file - a regular file: an mbox or a single message. */
static int one_file(const char *path, const struct intake_ops *ops, struct intake_stats *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st->errors++;
		ops->on_error(ops->ctx, path, strerror(errno));
		return -1;
	}
	char head[5];
	ssize_t h = pread(fd, head, sizeof head, 0);
	st->files++;
	if (h == 5 && is_mbox_start(head, 5)) {
		int rc = intake_mbox_fd(fd, path, ops, st);
		close(fd);
		return rc;
	}
	struct buf b = BUF_INIT((size_t)SHIELD_MAX_MESSAGE_BYTES + 1);
	int truncated;
	int rc = read_file(fd, &b, &truncated);
	close(fd);
	if (rc < 0) {
		st->errors++;
		ops->on_error(ops->ctx, path, strerror(errno));
		buf_release(&b);
		return -1;
	}
	struct intake_msg m = {path, -1, b.data ? b.data : "", b.len, truncated};
	st->messages++;
	st->bytes += b.len;
	int stop = ops->on_message(ops->ctx, &m);
	if (ops->on_progress)
		ops->on_progress(ops->ctx, st->bytes);
	buf_release(&b);
	return stop ? 1 : 0;
}

/* maildir - the messages in cur/ and new/ (tmp/ holds unfinished ones). */
static int maildir(const char *path, unsigned depth, const struct intake_ops *ops,
		   struct intake_stats *st)
{
	static const char *const subs[] = {"cur", "new"};
	int rc = 0;
	for (size_t i = 0; i < 2; i++) {
		char *sub = NULL;
		if (asprintf(&sub, "%s/%s", path, subs[i]) < 0)
			abort();
		int r = walk(sub, depth + 1, ops, st);
		free(sub);
		if (r == 1)
			return 1;
		if (r < 0)
			rc = -1;
	}
	/* Maildir++ sub-folders (".Folder") hold their own cur/new */
	size_t n;
	int err = 0;
	DIR *d = opendir(path);
	if (!d)
		return rc;
	struct dirent *e;
	char **names = NULL;
	size_t cap = 0;
	n = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap)
			names = xrealloc(names, (cap = cap ? cap * 2 : 8) * sizeof *names);
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	(void)err;
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *sub = NULL;
		if (asprintf(&sub, "%s/%s", path, names[i]) < 0)
			abort();
		struct stat sb;
		char *cur = NULL;
		if (asprintf(&cur, "%s/cur", sub) < 0)
			abort();
		if (rc != 1 && stat(cur, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			int r = maildir(sub, depth + 1, ops, st);
			if (r)
				rc = r;
		}
		free(cur);
		free(sub);
		free(names[i]);
	}
	free(names);
	return rc;
}

int intake_is_maildir(const char *path)
{
	struct stat sb;
	char p1[4096], p2[4096];
	snprintf(p1, sizeof p1, "%s/cur", path);
	snprintf(p2, sizeof p2, "%s/new", path);
	return stat(p1, &sb) == 0 && S_ISDIR(sb.st_mode) && stat(p2, &sb) == 0 &&
	       S_ISDIR(sb.st_mode);
}

static int walk(const char *path, unsigned depth, const struct intake_ops *ops,
		struct intake_stats *st)
{
	struct stat sb;
	if (stat(path, &sb) < 0) {
		st->errors++;
		ops->on_error(ops->ctx, path, strerror(errno));
		return -1;
	}
	if (S_ISREG(sb.st_mode))
		return one_file(path, ops, st);
	if (!S_ISDIR(sb.st_mode)) {
		st->errors++;
		ops->on_error(ops->ctx, path, "not a regular file or directory");
		return -1;
	}
	if (depth > SHIELD_MAX_DIR_DEPTH) {
		st->errors++;
		ops->on_error(ops->ctx, path, "directories nested too deep");
		return -1;
	}
	if (intake_is_maildir(path))
		return maildir(path, depth, ops, st);
	size_t n;
	int err = 0;
	char **names = intake_sorted_entries(path, &n, &err);
	if (!names) {
		st->errors++;
		ops->on_error(ops->ctx, path, strerror(err));
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc != 1) {
			char *sub = NULL;
			if (asprintf(&sub, "%s/%s", path, names[i]) < 0)
				abort();
			struct stat lb;
			/* do not follow symlinked directories (loops) */
			if (lstat(sub, &lb) == 0 && S_ISLNK(lb.st_mode) && stat(sub, &lb) == 0 &&
			    S_ISDIR(lb.st_mode)) {
				free(sub);
				free(names[i]);
				continue;
			}
			int r = walk(sub, depth + 1, ops, st);
			if (r == 1 || (r < 0 && rc == 0))
				rc = r;
			free(sub);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int intake_path(const char *path, const struct intake_ops *ops, struct intake_stats *st)
{
	return walk(path, 0, ops, st);
}

/* size_walk - sum of regular file sizes, bounded like walk(). */
static uint64_t size_walk(const char *path, unsigned depth)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return 0;
	if (S_ISREG(sb.st_mode))
		return (uint64_t)sb.st_size;
	if (!S_ISDIR(sb.st_mode) || depth > SHIELD_MAX_DIR_DEPTH)
		return 0;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	uint64_t total = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_name[0] != '.' && skip_name(e->d_name))
			continue;
		char *sub = NULL;
		if (asprintf(&sub, "%s/%s", path, e->d_name) < 0)
			abort();
		struct stat lb;
		if (!(lstat(sub, &lb) == 0 && S_ISLNK(lb.st_mode)))
			total += size_walk(sub, depth + 1);
		free(sub);
	}
	closedir(d);
	return total;
}

uint64_t intake_size(const char *path)
{
	return size_walk(path, 0);
}
