/*
 * The ranking at the hub: the engine (ranking/engine.h) behind a lock, fed by
 * what the hub applies, rebuilt from the store at start, and published.
 *
 *   start      hub_ranking_load: catalog prices, payments, orders, forged
 *              orders, presence log, last_seen, and daily sales summed per
 *              month (hub_store_picked_sums) -> the engine
 *   ingest     hub_ranking_on_applied after each committed message: picks of
 *              a new movements batch, order outcomes, presence (a message,
 *              a state; transitions appended to the presence log)
 *   API        hub_ranking_on_payment / hub_ranking_on_invoice after the
 *              transaction that recorded a payment or approved an order;
 *              hub_ranking_compute for GET /api/v1/ranking and .../kpis
 *   tick       hub_ranking_tick (ingest worker): catalog prices when the
 *              catalog's version changed; every [ranking] publish_period_s
 *              each dealer's own entry on depot/v1/<dealer>/down/ranking
 *              (retained, QoS 1), only when its payload changed
 *
 * Thread-safe: every call takes the lock. Facts seen only by another hub
 * instance sharing the database reach this one's aggregates at its next
 * start (cloud/README.md, "Ranking").
 */
#ifndef HUB_RANKING_H
#define HUB_RANKING_H

#include "config.h"
#include "ingest.h"
#include "orders.h"
#include "ranking/engine.h"
#include "store/store.h"

typedef struct hub_ranking hub_ranking;

/* cfg must outlive the ranking. DEPOT_ERR_NOMEM. */
depot_err hub_ranking_new(const struct hub_config *cfg, hub_ranking **out);
void hub_ranking_free(hub_ranking *rk);

/* Rebuilds the aggregates from s (as of now, ms); logs how long it took. DEPOT_ERR_DB. */
depot_err hub_ranking_load(hub_ranking *rk, hub_store *s, long long now);

/* After the commit that applied m (res as hub_store_apply said; order may be NULL). */
void hub_ranking_on_applied(hub_ranking *rk, hub_store *s, const depot_msg *m, long long seen_ms,
                            enum hub_apply_result res, const struct hub_order_result *order);
void hub_ranking_on_payment(hub_ranking *rk, const char *dealer, long long at, long long cents);
void hub_ranking_on_invoice(hub_ranking *rk, const char *dealer, long long at, long long cents);

/* Periodic work on the ingest worker (store s is its own). */
void hub_ranking_tick(hub_ranking *rk, hub_store *s, hub_publish_fn publish, void *publish_ctx,
                      long long now);

/* The board of period as of now (hub_rank_compute under the lock). */
depot_err hub_ranking_compute(hub_ranking *rk, int period, long long now,
                              struct hub_rank_board *out);

/* The down/ranking message of entry e of board b (for publishing and tests). */
void hub_ranking_message(const struct hub_rank_board *b, const struct hub_rank_entry *e,
                         depot_msg *m);

#endif
