/*
 * The store's shipment domain (store/sqlite/shipments.c, store/pg/shipments.c):
 * what the manufacturer's ERP says it shipped to which dealer, and the item
 * codes (one per item, depot/item_code.h) each shipment carried. Migration 14.
 *
 *   shipments      (id PK; dealer, order_id, shipped_at, recorded_at,
 *                   recorded_by, digest, units, n_codes); index (dealer, shipped_at)
 *   shipment_lines (shipment, sku PK; qty, codes)
 *   item_codes     (code PK; sku, dealer, shipment, shipped_at); index (shipment)
 *   code_scans     (dealer, ledger, mid PK; ts, code, sku, kind, node); index (code, ts):
 *                  every applied movement that carried an item code (a terminal's
 *                  receive or pick of one item by its own code)
 *   dealer_territories (dealer PK; polygon): a dealer's territory beside its
 *                  profile's region, "lat,lon;lat,lon;..." ("" none)
 *
 * Invariants:
 * 1. A shipment is written whole in one transaction (its lines and codes
 *    with it) and never changed: its id is the ERP's, and the same id again
 *    is the same shipment (digest: the SHA-256 of its canonical text, so a
 *    resend is recognised and a different one under the id refused).
 * 2. An item code belongs to one shipment, ever (its primary key).
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM, or what their
 * comment adds. Row pointers are valid during the callback only; a non-zero
 * return stops the walk.
 */
#ifndef HUB_STORE_SHIPMENTS_H
#define HUB_STORE_SHIPMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "depot/item_code.h"
#include "depot/msg.h"
#include "store/store.h"

#define HUB_SHIPMENT_ID_MAX 64

struct hub_shipment {
    const char *id, *dealer, *order;   /* order "" if none */
    long long shipped_at, recorded_at; /* ms */
    const char *recorded_by;
    const char *digest; /* 64 hex */
    long long units, n_codes;
};

struct hub_shipment_line {
    const char *sku;
    long long qty, codes;
};

struct hub_item_code {
    const char *code, *sku, *dealer, *shipment;
    long long shipped_at;
};

/* An applied movement that carried an item code. */
struct hub_code_scan {
    const char *dealer, *ledger;
    uint64_t mid;
    long long ts;
    const char *code, *sku, *kind, *node;
};

#define HUB_TERRITORY_POINTS_MAX 64
#define HUB_TERRITORY_TEXT_MAX (HUB_TERRITORY_POINTS_MAX * 48)

typedef int (*hub_code_scan_cb)(void *arg, const struct hub_code_scan *sc);
typedef int (*hub_shipment_cb)(void *arg, const struct hub_shipment *sh);
typedef int (*hub_shipment_line_cb)(void *arg, const struct hub_shipment_line *l);
typedef int (*hub_item_code_cb)(void *arg, const struct hub_item_code *c);

struct hub_store_shipment_ops {
    depot_err (*add)(hub_store *s, const struct hub_shipment *sh,
                     const struct hub_shipment_line *lines, size_t n_lines,
                     const struct hub_item_code *codes, size_t n_codes);
    depot_err (*get)(hub_store *s, const char *id, hub_shipment_cb cb, void *arg);
    depot_err (*lines)(hub_store *s, const char *id, hub_shipment_line_cb cb, void *arg);
    depot_err (*codes)(hub_store *s, const char *shipment, hub_item_code_cb cb, void *arg);
    depot_err (*list)(hub_store *s, const char *dealer, long long from, long long to,
                      const char *after, long long limit, hub_shipment_cb cb, void *arg);
    depot_err (*code)(hub_store *s, const char *code, hub_item_code_cb cb, void *arg);
    depot_err (*scan_add)(hub_store *s, const struct hub_code_scan *sc);
    depot_err (*scans)(hub_store *s, const char *code, hub_code_scan_cb cb, void *arg);
    depot_err (*territory_get)(hub_store *s, const char *dealer, char *polygon, size_t len);
    depot_err (*territory_put)(hub_store *s, const char *dealer, const char *polygon);
};

/* Adds a shipment with its lines and codes (sh->id must be new, every code too). */
depot_err hub_store_shipment_add(hub_store *s, const struct hub_shipment *sh,
                                 const struct hub_shipment_line *lines, size_t n_lines,
                                 const struct hub_item_code *codes, size_t n_codes);
/* DEPOT_ERR_NOTFOUND if there is none. */
depot_err hub_store_shipment_get(hub_store *s, const char *id, hub_shipment_cb cb, void *arg);
/* Its lines by SKU. */
depot_err hub_store_shipment_lines(hub_store *s, const char *id, hub_shipment_line_cb cb,
                                   void *arg);
/* Its item codes by code. */
depot_err hub_store_shipment_codes(hub_store *s, const char *shipment, hub_item_code_cb cb,
                                   void *arg);
/* Shipments of dealer (NULL: any) with from <= shipped_at < to, in (shipped_at, id) order after
 * the shipment whose id is after ("" or NULL: from the start), at most limit (<= 0: all). */
depot_err hub_store_shipments_list(hub_store *s, const char *dealer, long long from, long long to,
                                   const char *after, long long limit, hub_shipment_cb cb,
                                   void *arg);
/* The shipment of one item code (normal form); DEPOT_ERR_NOTFOUND if it was never shipped. */
depot_err hub_store_item_code(hub_store *s, const char *code, hub_item_code_cb cb, void *arg);

/* For the backends' apply: the code scans of an applied movements batch (store/ledger.h's
 * transaction). */
depot_err hub_store_code_scans_keep(hub_store *s, const depot_msg *m);
/* The applied movements that carried code, oldest first. */
depot_err hub_store_code_scans(hub_store *s, const char *code, hub_code_scan_cb cb, void *arg);
/* A dealer's territory polygon text ("" if none; a dealer without a row has none). */
depot_err hub_store_territory_get(hub_store *s, const char *dealer, char *polygon, size_t len);
/* Sets it ("" clears it). */
depot_err hub_store_territory_put(hub_store *s, const char *dealer, const char *polygon);

#endif
