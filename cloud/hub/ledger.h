/*
 * The hub's half of the tamper-evident ledger (include/depot/ledger_chain.h):
 *
 *   ingest worker, before a movements batch is applied:
 *     hub_ledger_check   recomputes every item's hash from the batch's prev,
 *                        checks the gateway's signature over what it signs
 *                        (the certificate issued by [hub] ca, not revoked,
 *                        valid now, its CN the dealer of the topic) -> the
 *                        verdict the store's chain step takes (store/ledger.h)
 *   API thread (GET /api/v1/ledger/verify, depotctl ledger verify):
 *     hub_ledger_verify  re-verifies a period from the hub's own records:
 *                        each movement's hash from its stored fields and the
 *                        hash before it, each batch's link to the one before,
 *                        and each batch's signature with the certificate kept
 *                        for it; every break is named by movement id
 *
 * A movement changed in the hub's database no longer gives its hash; a hash
 * changed with it breaks the next movement's link or its batch's signed last
 * hash; a batch record changed breaks its signature. Gaps (movements never
 * applied, or deleted) are named with their ids.
 */
#ifndef HUB_LEDGER_H
#define HUB_LEDGER_H

#include <cjson/cJSON.h>

#include "orders.h"
#include "store/ledger.h"
#include "store/store.h"

/* Sets c->in (and c->why when forged) for the movements batch m. */
void hub_ledger_check(hub_orders *o, const depot_msg *m, struct hub_chain *c);

/* The most problems listed per ledger (the rest are counted). */
#define HUB_LEDGER_PROBLEMS_MAX 100

/*
 * Re-verifies dealer's movements with from <= ts < to (ms) from the store
 * (the batches that hold them whole), certificates checked against the CA in
 * ca_path (issued by it, valid or not now: a record signed while it was).
 * *out: {"dealer", "from", "to", "ok", "ledgers": [{"ledger", "first", "last",
 * "movements", "verified", "batches", "signatures_ok", "unchained", "ok",
 * "problems": [{"mid", "kind", "text"}], "more_problems"}]}; kind is one of
 * changed, link, gap, signed_hash, signature, unsigned. DEPOT_ERR_DB,
 * DEPOT_ERR_NOMEM.
 */
depot_err hub_ledger_verify(hub_store *s, const char *ca_path, const char *dealer, long long from,
                            long long to, cJSON **out);

#endif
