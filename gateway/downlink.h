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

/* Alerts not resolved. */
long long gw_alerts_open(gw_ledger *l);

#endif
