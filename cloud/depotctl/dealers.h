/*
 * depotctl dealers set: the PATCH body built from the options given, apart
 * from the request so it can be checked without a hub.
 */
#ifndef CTL_DEALERS_H
#define CTL_DEALERS_H

#include <cjson/cJSON.h>

/* The options of dealers set as given (NULL: not given). */
struct ctl_dealer_set {
    const char *name, *region, *tier, *credit, *auto_limit, *lat, *lon, *start, *end, *sku_max;
};

/* The JSON body with only the fields given (money as decimals, sku_max as
 * {"SKU":N}), or NULL after printing why an option is bad. */
cJSON *ctl_dealers_set_body(const struct ctl_dealer_set *a);

#endif
