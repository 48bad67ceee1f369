/*
 * progress.h - a one-line progress bar on stderr (count, rate, ETA), drawn
 * only when stderr is a terminal and at most ten times a second.
 */
#ifndef SHIELD_PROGRESS_H
#define SHIELD_PROGRESS_H
#include <stdint.h>

struct progress {
	int enabled;
	uint64_t total_bytes, done_bytes;
	long count;
	double start, last_draw;
	const char *what;
};

void progress_init(struct progress *p, const char *what, uint64_t total_bytes);
void progress_update(struct progress *p, long count, uint64_t done_bytes);
void progress_done(struct progress *p);

#endif
