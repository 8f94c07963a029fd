/*
 * Whether a stock value the hub shows is live: it is stale when its gateway
 * is offline (it said so, or nothing was heard for offline_after) or its node
 * is in fault. Stale stock is shown with its age, never as live.
 */
#ifndef HUB_STALE_H
#define HUB_STALE_H

#include <stdbool.h>

#include "store/store.h"

#define HUB_STALE_REASON_MAX 96

struct hub_staleness {
    bool stale;
    long long age_s;                   /* seconds since the gateway's timestamp of the value */
    char reason[HUB_STALE_REASON_MAX]; /* "" when live */
};

/* A dealer is online when its last state said so and it was heard within offline_after_ms. */
bool hub_dealer_online(bool stated_online, long long last_seen_ms, long long now_ms,
                       long long offline_after_ms);

void hub_stale_compute(const struct hub_stock_row *r, long long now_ms, long long offline_after_ms,
                       struct hub_staleness *out);

#endif
