/*
 * Staleness of shown stock. The gateway being offline outranks a node fault:
 * with the gateway gone, nothing about its nodes is current either.
 */
#include "stale.h"

#include <stdio.h>

bool hub_dealer_online(bool stated_online, long long last_seen_ms, long long now_ms,
                       long long offline_after_ms)
{
    return stated_online && now_ms - last_seen_ms <= offline_after_ms;
}

void hub_stale_compute(const struct hub_stock_row *r, long long now_ms, long long offline_after_ms,
                       struct hub_staleness *out)
{
    long long age = now_ms - r->updated_at;
    out->age_s = age > 0 ? age / 1000 : 0;
    out->stale = true;
    if (!hub_dealer_online(r->dealer_online, r->last_seen, now_ms, offline_after_ms))
        snprintf(out->reason, sizeof(out->reason), "gateway offline");
    else if (r->node_fault)
        snprintf(out->reason, sizeof(out->reason), "node fault: %s",
                 r->fault_reason && r->fault_reason[0] ? r->fault_reason : "unknown");
    else {
        out->stale = false;
        out->reason[0] = '\0';
    }
}
