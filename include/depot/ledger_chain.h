/*
 * The movement chain both sides can verify (issue: a tamper-evident ledger).
 *
 * Every movement a gateway's ledger records carries the SHA-256 of its
 * canonical encoding, which ends with the hash of the movement before it in
 * the same ledger (DEPOT_CHAIN_GENESIS for the first): changing, removing
 * or inserting any movement changes the hash of every one after it. The
 * canonical encoding (version 1) is these fields as text, each followed by
 * one '\n', nothing else:
 *
 *   depot movement v1
 *   <dealer>            the dealer id
 *   <ledger>            the ledger id, 32 hex
 *   <mid>               the movement id, decimal
 *   <ts>                ms since the epoch, decimal
 *   <node>              the node id
 *   <sku>
 *   <kind>              scale | receive | pick | count
 *   <delta>             decimal, with '-' when negative
 *   <qty>               the stock after it, decimal
 *   <prev>              the previous movement's hash, 64 lowercase hex
 *
 * A movement that carries an item code (one item received or picked by its
 * own code, depot/item_code.h) is hashed as version 2: "depot movement v2"
 * and the same fields with the code on a line of its own before <prev>; a
 * movement without one stays version 1, so chains from before still verify.
 *
 * Ids, SKUs, kinds and codes hold no '\n', so the text reads back one way
 * only. The hash is written as 64 lowercase hex.
 */
#ifndef DEPOT_LEDGER_CHAIN_H
#define DEPOT_LEDGER_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "depot/error.h"

#define DEPOT_CHAIN_HEX 64
#define DEPOT_CHAIN_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

struct depot_chain_link {
    const char *dealer, *ledger;
    uint64_t mid;
    long long ts;
    const char *node, *sku, *kind;
    long long delta, qty;
    const char *code; /* NULL or "": none (version 1) */
};

/*
 * What a gateway signs for one up/movements batch of the chain (its items
 * first..last, every one's hash in the chain after prev): these fields as
 * text, each followed by one '\n':
 *   depot movements v1
 *   <dealer>
 *   <ledger>
 *   <first mid>
 *   <last mid>
 *   <prev>              the hash before the first item
 *   <last hash>         the last item's hash (it covers every item before it)
 * Into out (len bytes); DEPOT_ERR_INVAL if it does not fit or a hash is not 64 hex.
 */
depot_err depot_movements_signed(const char *dealer, const char *ledger, uint64_t first,
                                 uint64_t last, const char *prev, const char *last_hash, char *out,
                                 size_t len);

/* The hash of l after prev (64 hex) into out. DEPOT_ERR_INVAL when prev is not 64 lowercase hex
 * or a text field holds a '\n'; DEPOT_ERR_IO if mbedTLS fails. */
depot_err depot_chain_hash(const struct depot_chain_link *l, const char *prev,
                           char out[DEPOT_CHAIN_HEX + 1]);

/* The SHA-256 of data as 64 lowercase hex (a certificate's fingerprint). DEPOT_ERR_IO if mbedTLS
 * fails. */
depot_err depot_sha256_text(const void *data, size_t len, char out[DEPOT_CHAIN_HEX + 1]);

#endif
