/*
 * clock.h - elapsed time. Durations, rates, commit deadlines and alert
 * rests are measured on the monotonic clock, which a change of the wall
 * clock does not move.
 */
#ifndef SHIELD_CLOCK_H
#define SHIELD_CLOCK_H

/* clock_now - seconds on CLOCK_MONOTONIC (an arbitrary origin: only
 * differences mean anything). */
double clock_now(void);

#endif
