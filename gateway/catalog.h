/*
 * The hub's catalog as the gateway keeps it: barcode -> SKU and order limits,
 * in the ledger so that scans resolve offline.
 */
#ifndef GW_CATALOG_H
#define GW_CATALOG_H

#include <stdbool.h>

#include "depot/error.h"
#include "depot/msg.h"
#include "ledger.h"

/*
 * Replace the stored catalog with c when c->version is newer than the stored
 * one (one transaction: the old items go, the new ones come, the version
 * moves). *applied tells whether it did. DEPOT_ERR_INVAL (two items with one
 * barcode, min_qty > max_qty: nothing changes), DEPOT_ERR_DB.
 */
depot_err gw_catalog_replace(gw_ledger *l, const struct depot_catalog_body *c, bool *applied);

/* The version stored (0: never received). */
long long gw_catalog_version(gw_ledger *l);

/*
 * The item behind barcode. Inside a ledger transaction (lock held).
 * DEPOT_OK, DEPOT_ERR_NOTFOUND, DEPOT_ERR_DB.
 */
depot_err gw_catalog_lookup_locked(gw_ledger *l, const char *barcode,
                                   struct depot_catalog_item *out);

/*
 * The item whose serial_prefix starts code (a plain serial code, longer than the prefix).
 * Inside a ledger transaction (lock held). DEPOT_OK, DEPOT_ERR_NOTFOUND, DEPOT_ERR_DB.
 */
depot_err gw_catalog_serial_locked(gw_ledger *l, const char *code, struct depot_catalog_item *out);

#endif
