/*
 * Depot's clocks, one place for all of them: the wall clock (what a message
 * or a row records) and one monotonic clock (what every period, timeout and
 * latency is measured with), and the absolute deadline a condition variable
 * made on CLOCK_MONOTONIC waits until.
 */
#ifndef DEPOT_CLOCK_H
#define DEPOT_CLOCK_H

#include <time.h>

/* Milliseconds since the Unix epoch (wall clock). */
long long depot_now_ms(void);
/* The monotonic clock in milliseconds and in microseconds. */
long long depot_mono_ms(void);
long long depot_mono_us(void);
/* CLOCK_MONOTONIC now + ms, for pthread_cond_timedwait on a condition made on that clock. */
struct timespec depot_deadline_ms(long long ms);

#endif
