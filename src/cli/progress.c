/* progress.c - terminal progress bar (see progress.h). */
#include "cli/progress.h"
#include "common/clock.h"

#include <stdio.h>
#include <unistd.h>

void progress_init(struct progress *p, const char *what, uint64_t total_bytes)
{
	p->enabled = isatty(2);
	p->total_bytes = total_bytes;
	p->done_bytes = 0;
	p->count = 0;
	p->start = clock_now();
	p->last_draw = 0;
	p->what = what;
}

static void draw(struct progress *p, double now)
{
	double el = now - p->start;
	double rate = el > 0 ? (double)p->count / el : 0;
	double frac = p->total_bytes ? (double)p->done_bytes / (double)p->total_bytes : 0;
	if (frac > 1)
		frac = 1;
	int width = 30, fill = (int)(frac * width);
	char bar[32];
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	double eta = frac > 0.001 ? el / frac - el : 0;
	fprintf(stderr, "\r%s [%s] %3.0f%% %ld msgs %.0f/s ETA %02d:%02d ", p->what, bar,
		frac * 100, p->count, rate, (int)eta / 60, (int)eta % 60);
	fflush(stderr);
	p->last_draw = now;
}

void progress_update(struct progress *p, long count, uint64_t done_bytes)
{
	p->count = count;
	p->done_bytes = done_bytes;
	if (!p->enabled)
		return;
	double now = clock_now();
	if (now - p->last_draw >= 0.1)
		draw(p, now);
}

void progress_done(struct progress *p)
{
	if (!p->enabled)
		return;
	p->done_bytes = p->total_bytes;
	draw(p, clock_now());
	fputc('\n', stderr);
}
