/*
 * The store's contract domain (store/sqlite/contracts.c, store/pg/contracts.c):
 * e-contracts the manufacturer issues to one dealer, signed at the dealer's
 * gateway with its key and countersigned by the hub, called through
 * hub_store_ops.contracts.
 *
 *   contracts (id PK AUTOINCREMENT; dealer, title, file_sha, file_type, file_size, start_day,
 *              end_day, credit_limit, tier, created_by, created_at, signed_at, sign_doc,
 *              sign_sig, sign_cert, counter_sig, counter_cert, applied_at)
 *   index     (dealer, id): a dealer's contracts
 *
 * A contract's file is under [hub] files, named by file_sha (files.h).
 * signed_at 0: not signed; contract_sign sets the signature columns the first
 * time only, and only for the contract's own dealer. applied_at 0: its terms
 * (credit limit, tier, dates) not yet applied to the dealer's profile;
 * contract_applied sets it the first time only. So each of the two steps
 * happens once whatever the retries, and neither ever changes after.
 * The times are ms and never 0 once set (the caller passes a clock's time).
 *
 * A struct hub_contract is some 10 KB: the implementations read rows into
 * one heap buffer per walk, and callers keep theirs off small stacks.
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM, or what their
 * comment adds.
 */
#ifndef HUB_STORE_CONTRACTS_H
#define HUB_STORE_CONTRACTS_H

#include <stdbool.h>

#include "depot/id.h"
#include "depot/msg.h"
#include "store/store.h"

#define HUB_CONTRACT_TITLE_MAX 80
#define HUB_CONTRACT_SHA_HEX 64
#define HUB_CONTRACT_TYPE_MAX 31   /* application/pdf, text/plain; charset=utf-8 */
#define HUB_CONTRACT_DOC_MAX 1024  /* the signed document (JSON) */
#define HUB_CONTRACT_SIG_MAX 128   /* base64 of a DER ECDSA signature */
#define HUB_CONTRACT_CERT_MAX 4096 /* PEM */

struct hub_contract {
    long long id; /* assigned by contract_add */
    char dealer[DEPOT_DEALER_MAX + 1];
    char title[HUB_CONTRACT_TITLE_MAX + 1];
    char file_sha[HUB_CONTRACT_SHA_HEX + 1]; /* the exact bytes' SHA-256, hex */
    char file_type[HUB_CONTRACT_TYPE_MAX + 1];
    long long file_size;
    char start_day[DEPOT_DATE_LEN + 1], end_day[DEPOT_DATE_LEN + 1]; /* YYYY-MM-DD */
    long long credit_limit;      /* cents; -1: the contract sets none */
    char tier[HUB_TIER_MAX + 1]; /* "": the contract sets none */
    char created_by[HUB_ACTOR_MAX + 1];
    long long created_at;                    /* ms */
    long long signed_at;                     /* ms; 0: not signed */
    char sign_doc[HUB_CONTRACT_DOC_MAX + 1]; /* what the gateway signed, exactly */
    char sign_sig[HUB_CONTRACT_SIG_MAX + 1];
    char sign_cert[HUB_CONTRACT_CERT_MAX + 1];    /* the gateway's certificate */
    char counter_sig[HUB_CONTRACT_SIG_MAX + 1];   /* the hub's signature */
    char counter_cert[HUB_CONTRACT_CERT_MAX + 1]; /* the hub's certificate */
    long long applied_at;                         /* ms; 0: terms not applied */
};
typedef int (*hub_contract_cb)(void *arg, const struct hub_contract *c); /* non-zero stops */

struct hub_store_contract_ops {
    depot_err (*add)(hub_store *s, struct hub_contract *c);
    depot_err (*get)(hub_store *s, long long id, struct hub_contract *out);
    depot_err (*list)(hub_store *s, const char *dealer, hub_contract_cb cb, void *arg);
    depot_err (*sign)(hub_store *s, long long id, const char *dealer, long long at, const char *doc,
                      const char *sig, const char *cert, const char *counter_sig,
                      const char *counter_cert, bool *changed);
    depot_err (*due)(hub_store *s, const char *today, hub_contract_cb cb, void *arg);
    depot_err (*applied)(hub_store *s, long long id, long long at);
};

/* A new contract (c->id set), neither signed nor applied: its signed_at, signature columns and
 * applied_at are stored as 0 and "" whatever c holds. */
depot_err hub_store_contract_add(hub_store *s, struct hub_contract *c);
/* DEPOT_ERR_NOTFOUND if there is none. */
depot_err hub_store_contract_get(hub_store *s, long long id, struct hub_contract *out);
/* Newest first: every contract (dealer NULL) or dealer's. */
depot_err hub_store_contracts_list(hub_store *s, const char *dealer, hub_contract_cb cb, void *arg);
/* Records the signature and countersignature of contract id, which must be dealer's:
 * the first time only (*changed tells; a second call changes nothing and is DEPOT_OK with
 * *changed false; changed may be NULL). DEPOT_ERR_NOTFOUND if id is not a contract of dealer. */
depot_err hub_store_contract_sign(hub_store *s, long long id, const char *dealer, long long at,
                                  const char *doc, const char *sig, const char *cert,
                                  const char *counter_sig, const char *counter_cert, bool *changed);
/* Signed contracts whose terms are not applied and whose start_day <= today, oldest first. */
depot_err hub_store_contracts_due(hub_store *s, const char *today, hub_contract_cb cb, void *arg);
/* Terms applied at `at` (first time only). DEPOT_ERR_NOTFOUND if there is none. */
depot_err hub_store_contract_applied(hub_store *s, long long id, long long at);

#endif
