/*
 * catalog.c - the hub's retained down/catalog, kept in the ledger.
 *
 * Owns: the ledger tables `catalog` (barcode PRIMARY KEY -> sku, min_qty,
 * max_qty, version, serial_prefix) and meta.catalog_version.
 *
 * The hub publishes the whole catalog, retained, with a version that grows.
 * The broker hands the retained copy again at every (re)subscription, so an
 * equal or older version is ignored; a newer one replaces the table whole in
 * one transaction. Scans read it inside their own transaction, so a scan sees
 * either the old catalog or the new one, never a mix, and works offline.
 */
#include "catalog.h"

#include <stdio.h>
#include <string.h>

#include "depot/log.h"
#include "ledger_tx.h"

static long long version_locked(gw_ledger *l)
{
    sqlite3_stmt *st = gw_ledger_prepare(l, "SELECT catalog_version FROM meta");
    long long v = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

long long gw_catalog_version(gw_ledger *l)
{
    long long v;
    gw_ledger_lock(l);
    v = version_locked(l);
    gw_ledger_unlock(l);
    return v;
}

static depot_err insert_items(gw_ledger *l, const struct depot_catalog_body *c)
{
    sqlite3_stmt *st =
        gw_ledger_prepare(l, "INSERT INTO catalog (barcode, sku, min_qty, max_qty,"
                             " version, serial_prefix) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    depot_err e = st ? DEPOT_OK : DEPOT_ERR_DB;
    for (size_t i = 0; e == DEPOT_OK && i < c->n_items; i++) {
        const struct depot_catalog_item *it = &c->items[i];
        if (it->min_qty > it->max_qty) {
            LOG_WARN("catalog %lld: %s has min_qty %lld > max_qty %lld", c->version, it->barcode,
                     it->min_qty, it->max_qty);
            e = DEPOT_ERR_INVAL;
            break;
        }
        sqlite3_bind_text(st, 1, it->barcode, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, it->sku, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, it->min_qty);
        sqlite3_bind_int64(st, 4, it->max_qty);
        sqlite3_bind_int64(st, 5, c->version);
        sqlite3_bind_text(st, 6, it->serial_prefix, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_CONSTRAINT) {
            LOG_WARN("catalog %lld: barcode %s appears twice", c->version, it->barcode);
            e = DEPOT_ERR_INVAL;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return e;
}

static depot_err replace_locked(gw_ledger *l, const struct depot_catalog_body *c)
{
    struct ledger_tx tx;
    sqlite3_stmt *st;
    depot_err e = gw_ledger_tx_begin(l, &tx);
    if (e != DEPOT_OK)
        return e;
    st = gw_ledger_prepare(l, "DELETE FROM catalog");
    e = st ? gw_ledger_step_done(l, st, "clearing the catalog") : DEPOT_ERR_DB;
    sqlite3_finalize(st);
    if (e == DEPOT_OK)
        e = insert_items(l, c);
    st = e == DEPOT_OK ? gw_ledger_prepare(l, "UPDATE meta SET catalog_version = ?1") : NULL;
    if (st) {
        sqlite3_bind_int64(st, 1, c->version);
        e = gw_ledger_step_done(l, st, "storing the catalog version");
        sqlite3_finalize(st);
    } else if (e == DEPOT_OK) {
        e = DEPOT_ERR_DB;
    }
    return gw_ledger_tx_finish(l, &tx, e);
}

depot_err gw_catalog_replace(gw_ledger *l, const struct depot_catalog_body *c, bool *applied)
{
    depot_err e = DEPOT_OK;
    long long have;
    *applied = false;
    gw_ledger_lock(l);
    have = version_locked(l);
    if (c->version > have) {
        e = replace_locked(l, c);
        *applied = e == DEPOT_OK;
    }
    gw_ledger_unlock(l);
    if (*applied)
        LOG_INFO("catalog: version %lld stored (%zu items, was version %lld)", c->version,
                 c->n_items, have);
    else if (e == DEPOT_OK)
        LOG_DEBUG("catalog: version %lld ignored (have %lld)", c->version, have);
    else
        LOG_WARN("catalog: version %lld refused: %s", c->version, depot_strerror(e));
    return e;
}

#define ITEM_COLS "sku, min_qty, max_qty, barcode, serial_prefix"

/* Steps st (bound, selecting ITEM_COLS) into out: DEPOT_OK, DEPOT_ERR_NOTFOUND, DEPOT_ERR_DB.
 * st is the ledger's (gw_ledger_stmt): reset, never finalized here. */
static depot_err read_item(gw_ledger *l, sqlite3_stmt *st, struct depot_catalog_item *out)
{
    depot_err e = DEPOT_ERR_NOTFOUND;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        snprintf(out->sku, sizeof(out->sku), "%s", (const char *)sqlite3_column_text(st, 0));
        out->min_qty = sqlite3_column_int64(st, 1);
        out->max_qty = sqlite3_column_int64(st, 2);
        snprintf(out->barcode, sizeof(out->barcode), "%s",
                 (const char *)sqlite3_column_text(st, 3));
        snprintf(out->serial_prefix, sizeof(out->serial_prefix), "%s",
                 (const char *)sqlite3_column_text(st, 4));
        e = DEPOT_OK;
    } else if (rc != SQLITE_DONE) {
        e = gw_ledger_db_error(l, rc, "reading the catalog");
    }
    sqlite3_reset(st);
    return e;
}

depot_err gw_catalog_lookup_locked(gw_ledger *l, const char *barcode,
                                   struct depot_catalog_item *out)
{
    /* run on every scan: kept prepared by the ledger */
    static const char sql[] = "SELECT " ITEM_COLS " FROM catalog WHERE barcode = ?1";
    sqlite3_stmt *st = gw_ledger_stmt(l, sql);
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_text(st, 1, barcode, -1, SQLITE_STATIC);
    return read_item(l, st, out);
}

depot_err gw_catalog_serial_locked(gw_ledger *l, const char *code, struct depot_catalog_item *out)
{
    /* the longest prefix wins (the hub keeps them from overlapping: at most one fits) */
    static const char sql[] = "SELECT " ITEM_COLS " FROM catalog "
                              "WHERE serial_prefix <> '' AND length(?1) > length(serial_prefix) "
                              "AND substr(?1, 1, length(serial_prefix)) = serial_prefix "
                              "ORDER BY length(serial_prefix) DESC LIMIT 1";
    sqlite3_stmt *st = gw_ledger_stmt(l, sql);
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    return read_item(l, st, out);
}
