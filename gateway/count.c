/*
 * count.c - the items on a scale, from its net weight.
 *
 *   x = net_g / unit_weight_g        (items, real)
 *
 * With no count yet, the count is round(x). After that, the count c moves
 * only when x leaves the band  c - (0.5 + h) .. c + (0.5 + h),  and then to
 * round(x). A reading jittering around a boundary c + 0.5 stays inside the
 * band as long as the noise is below h units, so it makes no movements; a
 * real change of one item moves x by 1.0 > 0.5 + h (h < 0.5), so it always
 * moves the count.
 *
 * Negative weights (a tare taken with goods on the scale) count as 0: a
 * shelf never holds fewer than zero items.
 *
 * The state is the committed count only: gw_count_eval is pure, so a
 * movement the ledger refuses (disk full) is simply evaluated again at the
 * next reading.
 */
#include "count.h"

#include <math.h>

void gw_count_init(gw_count *c, double unit_weight_g, double hysteresis)
{
    c->unit_weight_g = unit_weight_g;
    c->hysteresis = hysteresis;
    c->known = false;
    c->count = 0;
}

void gw_count_set(gw_count *c, long long count)
{
    c->count = count;
    c->known = true;
}

bool gw_count_eval(const gw_count *c, long long net_g, bool stable, long long *next)
{
    double x;
    long long r;

    if (!stable)
        return false;
    x = (double)net_g / c->unit_weight_g;
    if (x < 0)
        x = 0;
    r = llround(x);
    if (!c->known) {
        *next = r;
        return true;
    }
    if (fabs(x - (double)c->count) <= 0.5 + c->hysteresis)
        return false;
    if (r == c->count)
        return false;
    *next = r;
    return true;
}
