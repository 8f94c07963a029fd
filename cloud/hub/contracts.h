/*
 * E-contracts signed with the dealer's own key (store/contracts.h keeps them).
 *
 *   issue     the manufacturer gives one dealer a contract: its exact bytes (a PDF or
 *             UTF-8 text, checked by their bytes) go under [hub] files by SHA-256, its
 *             terms (start and end day, credit limit, tier) into the store, and the
 *             dealer's down/contract is due (through the policies' due marks).
 *   sign      the dealer reviews it in the portal and scans its sign code "C<id>" at a
 *             terminal: the gateway signs {contract, dealer, sha256, signed_at, terminal}
 *             with its key (the stream message signature). Here, in the ingest
 *             transaction that records the message: the certificate is checked as an
 *             order's (CA, CRL, CN = the topic's dealer), the signature over exactly the
 *             document, the document's dealer and contract (that dealer's), and its SHA-256
 *             (the stored file's). Then the hub countersigns with its own key ([mqtt] key):
 *             ECDSA over SHA-256 of doc "\n" sig. A signature that fails any check is
 *             refused, logged and counted (rejects "contract_signature"), and changes
 *             nothing; a second signature of a signed contract changes nothing.
 *   terms     a signed contract's terms are applied to the dealer's profile on its start
 *             day (hub_contracts_apply_due, from the ingest worker's tick).
 *   verify    anyone holding the file and GET /contracts/<id>/signature checks both
 *             signatures offline (depotctl contracts verify; hub_contracts_verify_pair).
 */
#ifndef HUB_CONTRACTS_H
#define HUB_CONTRACTS_H

#include <stddef.h>

#include "config.h"
#include "ingest.h"
#include "metrics.h"
#include "orders.h"
#include "store/contracts.h"
#include "store/store.h"

#define HUB_CONTRACT_FILE_MAX (6u * 1024 * 1024) /* the bytes of one contract */

typedef struct hub_contracts hub_contracts;

/* Opens the hub's countersigning key and certificate ([mqtt] key and cert); without them
 * signatures are still verified and recorded, not countersigned (logged). */
depot_err hub_contracts_new(const struct hub_config *cfg, hub_orders *orders, hub_metrics *metrics,
                            hub_contracts **out);
void hub_contracts_free(hub_contracts *k);

/* "application/pdf" for %PDF-, "text/plain; charset=utf-8" for valid UTF-8 text without
 * control characters but tab, CR and LF; NULL for anything else. */
const char *hub_contract_type_of(const void *data, size_t len);

/*
 * Checks c (dealer, title, days, terms) and the bytes, stores the file under files_dir,
 * adds the contract (c->id, file fields and created_at set) and marks the dealer's
 * downlinks due, inside the caller's transaction. DEPOT_ERR_INVAL (a field) / DEPOT_ERR_SCHEMA
 * (type) with why; DEPOT_ERR_IO, DEPOT_ERR_DB.
 */
depot_err hub_contracts_issue(hub_store *s, const char *files_dir, struct hub_contract *c,
                              const void *data, size_t len, long long now, char *why,
                              size_t why_len);

/* A signature message (others: nothing), inside the ingest transaction. */
depot_err hub_contracts_on_message(hub_contracts *k, hub_store *s, const depot_msg *m,
                                   long long now);

/* The dealer's down/contract (retained), if it has any contract. */
depot_err hub_contracts_publish_dealer(hub_store *s, const char *dealer, long long now,
                                       hub_publish_fn publish, void *ctx);

/* The terms of every signed contract whose start day has come (UTC), applied to its dealer's
 * profile, each in its own transaction; *n how many. */
depot_err hub_contracts_apply_due(hub_store *s, long long now, int *n);

#endif
