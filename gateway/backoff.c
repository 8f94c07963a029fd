/*
 * backoff.c - the retry schedule of a node that does not answer. Doubling
 * from the poll period keeps a flaky node close to its normal rate while a
 * dead one costs the line (or a TCP worker) at most one timeout per cap_ms.
 * A poll period longer than the cap is kept as is: back-off never polls a
 * node more often than it is configured for.
 */
#include "backoff.h"

int gw_backoff_delay_ms(int base_ms, int failures, int cap_ms)
{
    long long d = base_ms;
    if (base_ms >= cap_ms)
        return base_ms;
    for (int i = 1; i < failures && d < cap_ms; i++)
        d *= 2;
    return d > cap_ms ? cap_ms : (int)d;
}
