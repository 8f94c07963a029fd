/*
 * Anti-diversion with one code per item: the codes a dealer's terminals
 * received or picked, checked against the shipments that registered them
 * (store/shipments.h) as each movements batch is applied. See diversion.c.
 */
#ifndef HUB_DIVERSION_H
#define HUB_DIVERSION_H

#include <stdbool.h>

#include "alerts/alerts.h"
#include "store/store.h"

struct hub_code_counts {
    long long scanned, diverted, unknown, picked_twice;
    long long incidents; /* items first found at a dealer not theirs (the ranking's) */
};

typedef struct hub_ranking hub_ranking;

/*
 * In the transaction that applied the movements batch m (after hub_store_apply said
 * HUB_APPLY_DONE): diversion and double_pick alerts through a (NULL: none raised, counted
 * only), incidents to the ranking rk (NULL: none), *n what was found. DEPOT_ERR_DB,
 * DEPOT_ERR_NOMEM.
 */
depot_err hub_diversion_check(hub_alerts *a, hub_ranking *rk, hub_store *s, const depot_msg *m,
                              struct hub_code_counts *n, long long now);

/* Whether (lat, lon) lies inside the polygon "lat,lon;lat,lon;..." (3 points or more). */
bool hub_territory_contains(const char *polygon, double lat, double lon);

#endif
