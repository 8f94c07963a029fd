/*
 * Weight to count: the number of items on a scale from its net weight, with
 * hysteresis so noise at a boundary makes no movements.
 */
#ifndef GW_COUNT_H
#define GW_COUNT_H

#include <stdbool.h>

typedef struct gw_count {
    double unit_weight_g; /* > 0 */
    double hysteresis;    /* 0 .. 0.45, fraction of one unit */
    bool known;           /* false until the first count is committed */
    long long count;      /* the committed count */
} gw_count;

void gw_count_init(gw_count *c, double unit_weight_g, double hysteresis);

/* Start from a count known elsewhere (the ledger's stock after a restart). */
void gw_count_set(gw_count *c, long long count);

/*
 * Given a reading, decide whether the count moves. Unstable readings never
 * move it. Returns true and *next if the count should become *next; the
 * caller commits it with gw_count_set once the movement is durably stored.
 */
bool gw_count_eval(const gw_count *c, long long net_g, bool stable, long long *next);

#endif
