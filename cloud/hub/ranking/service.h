/*
 * The ranking at the hub: the engine (ranking/engine.h) behind a lock, fed by
 * what the hub applies, rebuilt from the store at start, kept equal across
 * hub instances through the engine log, and published.
 *
 *   start      hub_ranking_load: catalog prices, payments, orders, forged
 *              orders, presence log, last_seen, and daily sales summed per
 *              month (hub_store_picked_sums) -> the engine, under the write lock
 *   ingest     in the transaction that applies a batch: hub_ranking_begin
 *              (what other hubs and the API fed since, from the engine log),
 *              hub_ranking_apply for each message (picks of a new movements
 *              batch, order outcomes, presence: a transition is appended to
 *              the presence log in the same transaction), hub_ranking_precommit
 *              (the batch's facts into the engine log); then committed or
 *              rolled_back (a rollback rebuilds it before its next use)
 *   API        hub_ranking_note_payment / hub_ranking_note_invoice in the
 *              transaction that recorded a payment or approved an order, and
 *              hub_ranking_note_task for a task given or done in time (the
 *              ranking learns it from the log at its next transaction or tick);
 *              hub_ranking_compute for GET /api/v1/ranking and .../kpis
 *   tick       hub_ranking_tick (ingest worker): the log read; catalog prices
 *              when the catalog's version changed; every [ranking]
 *              publish_period_s each dealer's own entry on
 *              depot/v1/<dealer>/down/ranking (retained, QoS 1), only when its
 *              payload changed
 *
 * Thread-safe: every call that touches the aggregates takes the lock; begin,
 * apply, precommit, committed, rolled_back and tick are the ingest worker's.
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

/* The ingest transaction's part (see above); DEPOT_ERR_DB, DEPOT_ERR_NOMEM roll it back. */
depot_err hub_ranking_begin(hub_ranking *rk, hub_store *s, long long now);
depot_err hub_ranking_apply(hub_ranking *rk, hub_store *s, const depot_msg *m, long long seen_ms,
                            enum hub_apply_result res, const struct hub_order_result *order);
depot_err hub_ranking_precommit(hub_ranking *rk, hub_store *s, long long now);
void hub_ranking_committed(hub_ranking *rk);
void hub_ranking_rolled_back(hub_ranking *rk);
/* In the caller's transaction that records the payment or approves the order (rk may be
 * NULL: nothing). */
depot_err hub_ranking_note_payment(hub_ranking *rk, hub_store *s, const char *dealer, long long at,
                                   long long cents);
depot_err hub_ranking_note_invoice(hub_ranking *rk, hub_store *s, const char *dealer, long long at,
                                   long long cents);
/* A task given to dealer, due on the day of `due` (ms), or done by then: the deltas of
 * hub_rank_task, in the caller's transaction (read back from the engine log by every hub). */
depot_err hub_ranking_note_task(hub_ranking *rk, hub_store *s, const char *dealer, long long due,
                                int due_delta, int done_delta);
/* An item shipped to dealer first found at another dealer at time at (diversion.h): in the
 * ingest transaction that applied its scan (rk NULL: nothing). */
depot_err hub_ranking_note_diversion(hub_ranking *rk, const char *dealer, long long at);
/* Periodic work on the ingest worker (store s is its own). */
void hub_ranking_tick(hub_ranking *rk, hub_store *s, hub_publish_fn publish, void *publish_ctx,
                      long long now);

/* The board of period as of now (hub_rank_compute under the lock). */
depot_err hub_ranking_compute(hub_ranking *rk, int period, long long now,
                              struct hub_rank_board *out);

/* The board of period as of now computed from every fact s holds, in the caller's transaction,
 * by an engine of its own (not kept): what a period's close freezes is what the store has,
 * whatever this hub has replayed from the engine log yet. DEPOT_ERR_DB, DEPOT_ERR_NOMEM. */
depot_err hub_ranking_compute_from_store(hub_ranking *rk, hub_store *s, int period, long long now,
                                         struct hub_rank_board *out);
/* The down/ranking message of entry e of board b (for publishing and tests). */
void hub_ranking_message(const struct hub_rank_board *b, const struct hub_rank_entry *e,
                         depot_msg *m);

#endif
