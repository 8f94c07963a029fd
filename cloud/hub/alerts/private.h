/*
 * The alert engine, private to cloud/hub/alerts/: its state, its types and
 * the functions its files share (prefixed alerts_); the public side is alerts.h.
 *
 * State in memory, loaded from the store at the first use and again after
 * any rollback (so it never believes what a rolled-back transaction wrote):
 *
 *   dealers  id -> place (lat/lon), contract end, stated online, last heard,
 *                  the live gateway_offline and contract_expiring alerts, and
 *                  its nodes with their live node_fault alert
 *   skus     id -> reorder point, lead time (catalog), and the list of cells
 *   cells    (dealer, sku) -> stock, sales velocity, the live low_stock,
 *                  stockout_forecast, sales_spike and shrinkage alerts
 *
 * Each alert slot (struct slot) remembers the live alert's id and a hash of
 * its severity and text. An evaluation computes a verdict (holds, severity,
 * text); then:
 *   holds, no live alert             -> open one (count 1)
 *   holds, live, other severity/text -> a new trigger: update it (count + 1)
 *   holds, live, same                -> nothing (the hot path: no SQL)
 *   does not hold, live              -> resolve it ("auto")
 * The text carries the figures that make a trigger (the stock, the cover,
 * today's picks, the shrinkage total), so a new stock value at or below the
 * reorder point is a new trigger, a snapshot repeating it is not.
 *
 * Invariants:
 *   1. A slot is live only if the store had a live alert with its id when
 *      the slot was set in a committed transaction. An alert resolved by
 *      hand stays "live" in its slot until the next trigger (then the
 *      store's upsert opens a new alert: the hand-resolved one is never
 *      reopened) or until the condition clears (the resolve changes nothing).
 *   2. Every alert row change is written with its encoded message to the
 *      alert outbox in the same transaction; only the outbox is published.
 *   3. Counters (raised, resolved) move after the commit only.
 *   4. Suggestions (replenish, transfers) are computed when an alert is
 *      opened or updated, from the cells of the same SKU: the transfer
 *      candidates are the dealers whose stock exceeds both ceil(velocity x
 *      target_cover_days) and the reorder point. They are recomputed when
 *      what they rest on changes: any stock of the SKU (a source dealer's
 *      surplus), a dealer's place (distances) or a dealer going offline or
 *      coming back (freshness). The live alert's action and suggestion are
 *      then rewritten in place (count unchanged) when the suggestion differs
 *      in anything but the ages (struct slot's sg_hash).
 *   5. The catalog and the dealer profiles are the store's: their versions
 *      (meta catalog_version, profiles_version) are compared at the first
 *      message of every transaction (a batch of ingest) and, with no traffic,
 *      every SETTINGS_POLL_MS, so a change made through
 *      any hub instance takes effect at once, not at the next periodic
 *      evaluation.
 *   6. Several engines (hub instances) may share one database; each write
 *      transaction of an engine names, in the engine log (store/alerts.h),
 *      the dealers whose state it changed (a message applied, an alert
 *      written: "D", "D/SKU", or D, "/" and "*" for all its cells), and every engine,
 *      before the first thing it does in a
 *      transaction, reloads from the database the dealers that other
 *      engines named since its last transaction: their heard state, stock,
 *      velocities, live alerts and what it remembers of them beside the row
 *      (the slot: the alert it holds, even one resolved by hand meanwhile
 *      (invariant 1), the suggestion's hash, the shrinkage tally; kept in
 *      the store's alert_memo whenever it changes). Writers take
 *      turns on the database, so every engine decides on the same state as
 *      one engine alone would. An engine that fell behind what the log keeps
 *      (LOG_KEEP_MS) reloads everything.
 */
#ifndef HUB_ALERTS_PRIVATE_H
#define HUB_ALERTS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/alerts.h"
#include "depot/hash.h"
#include "depot/log.h"
#include "stale.h"

#define OUTBOX_BATCH 256
#define LOG_KEEP_MS (10 * 60 * 1000LL) /* engine log entries kept this long (invariant 6) */
#define PUBLISH_POLL_MS 500
#define DAYS_KEPT 400 /* daily figures are kept this long (ranking reads 90 days) */
#define SETTINGS_POLL_MS                                                                           \
    250 /* with no traffic, catalog and profile versions checked this often                        \
         */

/* Every item of a uthash table, in insertion order. */
#define EACH(head, var) for ((var) = (head); (var); (var) = (var)->hh.next)

/* ---- the engine's state ---- */

struct slot {
    long long id;
    uint64_t hash,
        sg_hash; /* digests (depot/digest.h); sg_hash: the suggestion it shows (0: unknown) */
    bool live;
};

struct sku_ent {
    UT_hash_handle hh;
    char id[DEPOT_SKU_MAX + 1];
    bool in_catalog;
    long long reorder_point, lead_time_days;
    struct cell *cells;
};

struct node_ent {
    struct node_ent *next;
    char name[DEPOT_NODE_MAX + 1];
    struct slot fault;
};

/* A task of a dealer that is or was overdue (its alert's subject: the task id). */
struct task_ent {
    struct task_ent *next;
    char subject[24];
    struct slot overdue;
    bool seen; /* overdue in the current evaluation */
};

struct dealer_ent {
    UT_hash_handle hh;
    char id[DEPOT_DEALER_MAX + 1];
    bool has_loc, stated_online;
    double lat, lon;
    char contract_end[HUB_DATE_MAX + 1];
    long long last_seen;
    struct slot offline, contract, outbox;
    struct node_ent *nodes;
    struct task_ent *tasks;
    struct cell *cells;        /* its cells, through cell.dealer_next */
    bool dirty, stale;         /* invariant 6: changed here / by another engine */
    bool all_cells, stale_all; /* ... and every one of its cells with it */
    struct dealer_ent *dirty_next, *stale_next;
};

enum { CS_LOW, CS_STOCKOUT, CS_SPIKE, CS_SHRINK, CS__COUNT };

struct cell {
    UT_hash_handle hh;
    struct dealer_ent *d; /* d and k, side by side, are the key */
    struct sku_ent *k;
    struct cell *sku_next, *touch_next, *dealer_next;
    long long qty, shrink_total, shrink_back, shrink_new;
    double velocity;
    bool has_qty, touched, stock_taken, was_source;
    bool came_back;     /* shrink_back moved in this transaction */
    bool logged, stale; /* invariant 6: changed here / by another engine */
    struct cell *log_next, *stale_next;
    bool moved; /* on a->moved: became or stopped being a transfer source */
    struct cell *moved_next;
    struct suggestion *shown; /* what its live stock alerts show (NULL: unknown) */
    struct slot st[CS__COUNT];
};

struct hub_alerts {
    const struct hub_config *cfg;
    hub_metrics *metrics;
    struct dealer_ent *dealers; /* uthash by id */
    struct dealer_ent *last;    /* the dealer last looked up: messages come in runs per dealer */
    struct sku_ent *skus;       /* uthash by id */
    struct cell *cells;         /* uthash by (d, k) */
    struct cell *touched;
    struct cell *moved;          /* sources whose change may move others' suggestions */
    bool loaded, changed, fresh; /* fresh: loaded, every cell not yet evaluated */
    bool resuggest_all;          /* every SKU's suggestions to be recomputed */
    bool settings_read;          /* the versions were compared in this transaction */
    bool synced;                 /* the engine log was read in this transaction (invariant 6) */
    char writer[40];             /* this engine's name in the engine log */
    long long log_seq;           /* the last engine log entry read */
    struct dealer_ent *dirty;    /* dealers this transaction changed (invariant 6) */
    struct cell *dirty_cells;    /* cells this transaction changed (invariant 6) */
    long long catalog_version, profiles_version, day, next_eval_ms, next_publish_ms;
    long long next_settings_ms;
    unsigned long long raised, resolved; /* pending until the commit (invariant 3) */
};

/* What an evaluation found. */
struct verdict {
    bool holds;
    const char *severity;
    char text[DEPOT_TEXT_MAX + 1];
};

struct transfer {
    const struct dealer_ent *d;
    long long qty, age_s;
    double km;
    bool has_km, stale;
};

struct suggestion {
    long long replenish;
    int n;
    struct transfer t[HUB_TRANSFERS_MAX];
};

enum need { NEED_NOTHING, NEED_RESOLVE, NEED_PUT };

#define CELL_KEY_LEN (sizeof(struct dealer_ent *) + sizeof(struct sku_ent *))
_Static_assert(offsetof(struct cell, k) == offsetof(struct cell, d) + sizeof(struct dealer_ent *),
               "a cell's key is d and k side by side");

struct load_ctx {
    hub_alerts *a;
    long long now;
    bool nomem;
};

struct row_out {
    long long id, count, now;
    char *payload;
    struct cJSON *event; /* the row as a webhook event's data (webhooks.h) */
    depot_err err;
};

struct alert_key {
    const char *dealer, *sku, *subject;
    enum hub_alert_kind kind;
    const struct cell *c; /* shrinkage: the cell whose tally the slot keeps (else NULL) */
};

struct snap_walk {
    hub_alerts *a;
    bool nomem;
};

/* state.c */
/* The hub_store callbacks that load a dealer's place and its heard state (arg: struct load_ctx). */
int alerts_load_place(void *arg, const struct hub_dealer_place *p);
int alerts_load_dealer(void *arg, const struct hub_dealer_row *r);
/* ... and what the reload of sync.c reads (arg: struct load_ctx). */
int alerts_load_stock(void *arg, const struct hub_stock_row *r);
int alerts_load_velocity(void *arg, const char *dealer, const char *sku, long long sum);
int alerts_load_alert(void *arg, const struct hub_alert_row *r);
int alerts_load_memo(void *arg, const struct hub_alert_memo *m);
struct cell *alerts_cell_get(hub_alerts *a, const char *dealer, const char *sku);
struct dealer_ent *alerts_dealer_get(hub_alerts *a, const char *id, bool create);
bool alerts_dealer_online(const hub_alerts *a, const struct dealer_ent *d, long long now);
depot_err alerts_load(hub_alerts *a, hub_store *s, long long now);
depot_err alerts_load_catalog(hub_alerts *a, hub_store *s);
depot_err alerts_load_velocities(hub_alerts *a, hub_store *s, long long now);
struct node_ent *alerts_node_get(struct dealer_ent *d, const char *name);
/* The dealer's entry of a task (by its alert subject), made if new; NULL when out of memory. */
struct task_ent *alerts_task_get(struct dealer_ent *d, const char *subject);
void alerts_reset(hub_alerts *a);
void alerts_resuggest(hub_alerts *a, struct cell *c);
void alerts_touch(hub_alerts *a, struct cell *c);
/* Notes that this transaction changed dealer's state (invariant 6). */
void alerts_mark(hub_alerts *a, struct dealer_ent *d);
void alerts_mark_id(hub_alerts *a, const char *dealer);
void alerts_mark_cell(hub_alerts *a, struct cell *c);
/* Loads the state if it is not, else reloads what other engines changed (invariant 6). */
depot_err alerts_sync(hub_alerts *a, hub_store *s, long long now);
/* The engine log entry of this transaction (invariant 6). */
depot_err alerts_log_changes(hub_alerts *a, hub_store *s, long long now);
void alerts_unmark_all(hub_alerts *a);
/* Writes the slot st of key k as the store keeps it (invariant 6). */
depot_err alerts_memo(hub_store *s, const struct slot *st, const struct alert_key *k);

/* write.c */
/* A hub_alert_row_cb: keeps the row's id, count, encoded message and webhook data in a struct
 * row_out. */
int alerts_capture_row(void *arg, const struct hub_alert_row *r);
depot_err alerts_alert_clear(hub_alerts *a, hub_store *s, struct slot *st,
                             const struct alert_key *k, long long now);
depot_err alerts_alert_put(hub_alerts *a, hub_store *s, struct slot *st, const struct alert_key *k,
                           const struct verdict *v, const char *action, const char *suggestion,
                           long long now);
enum need alerts_needs(const struct slot *st, const struct verdict *v);
/* Frees what o holds (its payload and webhook data). */
void alerts_row_out_clear(struct row_out *o);
/* Queues the captured change of o in the alert outbox and, if event, the webhook event of that
 * type (alert.opened, alert.updated, ...); frees what o holds whatever happens. */
depot_err alerts_queue_change(hub_store *s, const char *dealer, const char *kind, struct row_out *o,
                              const char *event);
depot_err alerts_settle(hub_alerts *a, hub_store *s, struct slot *st, const struct alert_key *k,
                        const struct verdict *v, long long now);
uint64_t alerts_verdict_hash(const struct verdict *v);

/* suggest.c */
void alerts_action_text(const struct suggestion *sg, char *buf, size_t len);
bool alerts_is_source(const hub_alerts *a, const struct cell *c);
bool alerts_moved_source_matters(const hub_alerts *a, const struct cell *r, const struct cell *o,
                                 long long now);
depot_err alerts_remember(struct cell *c, const struct suggestion *sg);
void alerts_set_qty(hub_alerts *a, struct cell *c, long long qty);
void alerts_suggest(const hub_alerts *a, const struct cell *c, long long now,
                    struct suggestion *sg);
uint64_t alerts_suggestion_hash(const struct suggestion *sg);
void alerts_suggestion_json(const struct suggestion *sg, char *buf, size_t len);

/* evaluate.c */
depot_err alerts_settle_touched(hub_alerts *a, hub_store *s, bool sales, long long now);
/* A catalog or places change made through any hub instance, taken at once (invariant 5). */
depot_err alerts_sync_settings(hub_alerts *a, hub_store *s, long long now);
/* Every cell again: after a load, a new catalog or (new_day) a new day, velocities first. */
depot_err alerts_eval_all_cells(hub_alerts *a, hub_store *s, bool new_day, long long now);
depot_err alerts_eval_nodes(hub_alerts *a, hub_store *s, struct dealer_ent *d, const char *node,
                            long long now);
depot_err alerts_eval_offline(hub_alerts *a, hub_store *s, struct dealer_ent *d, long long now);
/* A gateway's up/outbox report: outbox_filling opened at [alerts] outbox_percent of its bound,
 * held until it is back under 10 points below (hysteresis). */
depot_err alerts_eval_outbox(hub_alerts *a, hub_store *s, struct dealer_ent *d,
                             const struct depot_outbox_body *b, long long now);
depot_err alerts_eval_sales(hub_alerts *a, hub_store *s, struct cell *c, long long now);
depot_err alerts_eval_shrink(hub_alerts *a, hub_store *s, struct cell *c, long long now);
depot_err alerts_eval_stock(hub_alerts *a, hub_store *s, struct cell *c, long long now);
depot_err alerts_refresh_suggestions(hub_alerts *a, hub_store *s, long long now);
depot_err alerts_reload_settings(hub_alerts *a, hub_store *s, long long now);

#endif
