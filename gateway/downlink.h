/*
 * The hub's down/alert and down/ranking, kept in the ledger (downlink.c) so
 * a local tool can read them offline (tables alerts, ranking; view
 * open_alerts).
 */
#ifndef GW_DOWNLINK_H
#define GW_DOWNLINK_H

#include <stdbool.h>

#include "depot/error.h"
#include "depot/msg.h"
#include "ledger.h"

/*
 * Keep alert a (sent at ts ms) as the latest state of its alert id, unless a
 * newer one (larger ts) is stored already (*stored false then). Logs it at
 * info (severity info) or warn (warning, critical). DEPOT_ERR_INVAL (reason
 * set: unknown severity, kind not an id), DEPOT_ERR_DB.
 */
depot_err gw_alert_store(gw_ledger *l, const struct depot_alert_body *a, long long ts, bool *stored,
                         char *reason, size_t reason_len);

/*
 * Keep r (sent at ts) as this dealer's ranking unless the stored one is of a
 * later period (*stored false then); logs rank, score and rebate.
 * DEPOT_ERR_INVAL (reason set: period not YYYY-MM), DEPOT_ERR_DB, DEPOT_ERR_NOMEM.
 */
depot_err gw_ranking_store(gw_ledger *l, const struct depot_ranking_body *r, long long ts,
                           bool *stored, char *reason, size_t reason_len);

/*
 * The hub's down/policy (retained: the dealer's whole list of valid
 * policies) replaces the ledger's policies, in one transaction that also
 * queues a stream event policy_delivered for each policy not reported yet
 * (while the outbox has room; else at the next list). A policy the hub says
 * is acknowledged is kept acknowledged here. *fresh: policies new and not
 * acknowledged (their notice is to be shown). DEPOT_ERR_DB, DEPOT_ERR_NOMEM.
 */
depot_err gw_policies_store(gw_ledger *l, const struct depot_policy_body *b, long long now,
                            int *fresh);

/*
 * The notice a terminal shows: the oldest policy not acknowledged, into id
 * and notice; false when there is none.
 */
bool gw_policy_pending(gw_ledger *l, long long *id, char notice[DEPOT_POLICY_NOTICE_MAX + 1]);

/*
 * The hub's down/contract (retained: the dealer's contracts, newest first)
 * replaces the ledger's contracts in one transaction; a contract signed here
 * stays signed (with when and at which terminal). *fresh: contracts new and
 * not signed (their sign notice is to be shown). DEPOT_ERR_DB, DEPOT_ERR_NOMEM.
 */
depot_err gw_contracts_store(gw_ledger *l, const struct depot_contract_body *b, long long now,
                             int *fresh);

/* The oldest contract not signed, into id and title; false when there is none. */
bool gw_contract_pending(gw_ledger *l, long long *id, char title[DEPOT_POLICY_TITLE_MAX + 1]);

/* Alerts not resolved. */
long long gw_alerts_open(gw_ledger *l);

#endif
