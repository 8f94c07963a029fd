/*
 * The gateway's side of the movement chain (depot/ledger_chain.h): each row
 * of the ledger's movements table holds its hash (ledger version 7), written
 * with the movement (ledger.c); a ledger from before version 7 gets the
 * hashes of its movements at its migration. `depot-gateway ledger verify`
 * walks a ledger file and names every movement whose stored hash is not the
 * one its fields and the stored hash before it make. chain.c walks a chain
 * (ledger.c writes with it), chain_verify.c verifies a file and is the CLI.
 */
#ifndef GW_CHAIN_H
#define GW_CHAIN_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "depot/error.h"
#include "depot/ledger_chain.h"

#define GW_CHAIN_BAD_MAX 16 /* breaks a report names one by one */

/* One movement as the walk read it and what its hash should be. */
struct gw_chain_row {
    long long id, ts, delta, qty;
    const char *node, *sku, *kind, *stored;
    const char *code; /* "" when the movement carries no item code */
    char computed[DEPOT_CHAIN_HEX + 1];
};

/*
 * Walks db's movements in id order. prev is DEPOT_CHAIN_GENESIS for the
 * first; for the next it is the row's stored hash when from_stored (a
 * verify: each row is judged on its own) or its computed one (a migration
 * filling hashes in). cb's non-zero return stops the walk. DEPOT_ERR_DB with
 * why on an SQLite failure, DEPOT_ERR_INVAL for a row whose text cannot be
 * hashed (reported as a break by gw_chain_verify).
 */
depot_err gw_chain_walk(sqlite3 *db, const char *dealer, const char *ledger, bool from_stored,
                        int (*cb)(void *arg, const struct gw_chain_row *row), void *arg);

/* ---- chain_verify.c ---- */

/* What gw_chain_verify found. */
struct gw_chain_report {
    long long movements; /* rows read */
    long long breaks;    /* rows whose stored hash is wrong, ids missing */
    long long bad_id[GW_CHAIN_BAD_MAX];
    char bad_why[GW_CHAIN_BAD_MAX][160];
    char head[DEPOT_CHAIN_HEX + 1]; /* the last row's stored hash (genesis if none) */
    char dealer[33], ledger[33];
};

/* Verifies the chain of the ledger file at path (read-only). DEPOT_OK when it holds, the
 * report filled either way; DEPOT_ERR_SIGNATURE when it breaks; a gw_ledger_verify error
 * (why says it) when the file is not a sound ledger. */
depot_err gw_chain_verify(const char *path, struct gw_chain_report *r, char *why, size_t why_len);

/* depot-gateway ledger verify [-c CONFIG | FILE]: prints the report; 0 holds, 1 breaks,
 * 2 usage or not a ledger. */
int gw_ledger_cli_main(int argc, char **argv);

#endif
