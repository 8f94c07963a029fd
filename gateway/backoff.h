/* Exponential retry back-off of a faulted node. */
#ifndef GW_BACKOFF_H
#define GW_BACKOFF_H

#define GW_BACKOFF_CAP_MS 10000

/*
 * Delay before the next attempt after `failures` failures in a row (>= 1):
 * base_ms, 2 base_ms, 4 base_ms, ... capped at cap_ms. failures <= 0 gives
 * base_ms (the normal poll period).
 */
int gw_backoff_delay_ms(int base_ms, int failures, int cap_ms);

#endif
