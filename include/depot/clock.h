/*
 * Depot's clocks, one place for all of them: the wall clock (what a message
 * or a row records) and one monotonic clock (what every period, timeout and
 * latency is measured with), and the absolute deadline a condition variable
 * made on CLOCK_MONOTONIC waits until.
 */
#ifndef DEPOT_CLOCK_H
#define DEPOT_CLOCK_H

#include <stdbool.h>
#include <time.h>

/* Milliseconds since the Unix epoch (wall clock). */
long long depot_now_ms(void);
/* The monotonic clock in milliseconds and in microseconds. */
long long depot_mono_ms(void);
long long depot_mono_us(void);
/* CLOCK_MONOTONIC now + ms, for pthread_cond_timedwait on a condition made on that clock. */
struct timespec depot_deadline_ms(long long ms);

/* A calendar date YYYY-MM-DD: digits and dashes in their places, a year 1970..9999, a month
 * 1..12 and a day that month has (29 February in leap years only). The one check of every
 * date Depot reads: policies' and tasks' days, contract dates, down/policy's valid_to. */
bool depot_date_valid(const char *s);
/* The UTC day of ms since the Unix epoch, YYYY-MM-DD. */
void depot_date_utc(long long ms, char out[11]);

#endif
