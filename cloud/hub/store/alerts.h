/*
 * The store's history and alert domain (store/sqlite/alerts.c on
 * SQLite), called through hub_store_ops.alerts like the order domain.
 *
 * History: hub_store_apply records every new up/movements batch (same
 * transaction as its exactly-once key) as daily figures per (dealer, sku,
 * UTC day) and as stock points (dealer, sku, ts, qty); an up/stock value
 * adds a stock point too. Days are counted since the Unix epoch (UTC).
 *
 * Alerts: one row per alert; at most one row per (dealer, sku, kind,
 * subject) is not resolved (a unique index says so). Every change of an
 * alert is also written as its encoded message into the alert outbox in
 * the same transaction; the ingest worker publishes the outbox after the
 * commit and deletes what the broker took.
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM, or what their
 * comment adds. Row pointers are valid during the callback only; a
 * non-zero return from a callback stops the walk.
 */
#ifndef HUB_STORE_ALERTS_H
#define HUB_STORE_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define HUB_DAY_MS 86400000LL

/* One day of one (dealer, sku): units picked (sales), their value in cents at the catalog
 * price when applied, units received, units that left a scale (scale decreases). */
struct hub_day_row {
    long long day, picked, value, received, scale_out;
};

struct hub_alert_row {
    long long id;
    const char *dealer, *sku, *kind, *subject, *severity, *status, *text, *action;
    const char *suggestion; /* JSON text, or "" for none */
    long long opened_at, updated_at, acked_at, resolved_at, count;
    const char *acked_by, *resolved_by;
};

/* What a trigger writes: a new alert, or an update of the live one with the same key. */
struct hub_alert_put {
    const char *dealer, *sku, *kind, *subject, *severity, *text, *action, *suggestion;
    long long at;
};

struct hub_alert_filter {
    const char *status, *dealer, *kind, *sku; /* NULL: any */
    long long limit;                          /* <= 0: no limit */
    long long before;                         /* > 0: only ids below it (the next page) */
};

/* A dealer's profile fields the alert engine needs. */
struct hub_dealer_place {
    const char *dealer, *region, *contract_end; /* contract_end "" or YYYY-MM-DD */
    bool has_location;
    double lat, lon;
};

struct hub_node_row {
    const char *node, *reason;
    bool fault;
    long long since;
};

typedef int (*hub_point_cb)(void *arg, long long ts, long long qty);
typedef int (*hub_day_cb)(void *arg, const struct hub_day_row *d);
typedef int (*hub_sum_cb)(void *arg, const char *dealer, const char *sku, long long sum);
typedef int (*hub_alert_cb)(void *arg, const struct hub_alert_row *a);
typedef int (*hub_count_cb)(void *arg, const char *kind, long long n);
typedef int (*hub_outbox_cb)(void *arg, long long seq, const char *dealer, const char *kind,
                             const char *payload);
typedef int (*hub_place_cb)(void *arg, const struct hub_dealer_place *p);
typedef int (*hub_node_cb)(void *arg, const struct hub_node_row *n);
/* One entry of the engine log: what a transaction of writer changed (space-separated words). */
typedef int (*hub_log_cb)(void *arg, long long seq, const char *writer, const char *text);
/* An alert engine's slot (cloud/hub/alerts/private.h): the alert it holds live for a key
 * (dealer, sku, kind, subject), and what it remembers of it beside the row. */
struct hub_alert_memo {
    const char *dealer, *sku, *kind, *subject;
    long long id;
    uint64_t sg_hash;            /* the suggestion it shows (0: unknown) */
    long long tally, back;       /* shrinkage: units in all, units back on the scale */
    const char *severity, *text; /* the alert row's (read only) */
};
typedef int (*hub_memo_cb)(void *arg, const struct hub_alert_memo *m);

/*
 * What an alert engine reads again of the dealers and cells other engines
 * changed (invariant 6 of alerts/private.h). Lists are space-separated;
 * cells are "dealer/sku". Callbacks get, for
 *   dealer  each dealer of dealers: its heard state
 *   stock   each cell of cells and every cell of each dealer of all: dealer, sku and qty only
 *   sum     the same cells' units picked over days from_day..to_day (none: no call)
 *   alert   the live alerts of those cells, and those without a SKU of dealers
 *   memo    the slots of the same alerts' keys
 * A non-zero return from a callback stops that walk only.
 */
struct hub_alert_reload {
    const char *dealers, *cells, *all;
    long long from_day, to_day;
    hub_dealer_cb dealer;
    hub_stock_cb stock;
    hub_sum_cb sum;
    hub_alert_cb alert;
    hub_memo_cb memo;
};

struct hub_store_alert_ops {
    depot_err (*points)(hub_store *s, const char *dealer, const char *sku, long long since,
                        hub_point_cb cb, void *arg);
    depot_err (*days)(hub_store *s, const char *dealer, const char *sku, long long from_day,
                      hub_day_cb cb, void *arg);
    depot_err (*picked_sums)(hub_store *s, long long from_day, long long to_day, hub_sum_cb cb,
                             void *arg);
    depot_err (*picked_range)(hub_store *s, long long from_day, long long to_day,
                              const char *dealer_from, const char *sku_from, const char *dealer_to,
                              const char *sku_to, hub_sum_cb cb, void *arg);
    depot_err (*prune)(hub_store *s, long long points_before, long long days_before,
                       long long resolved_before);
    depot_err (*shrink_add)(hub_store *s, const char *dealer, const char *sku, bool decrease,
                            long long ts, long long units, long long window_ms, long long now);
    depot_err (*shrink_due)(hub_store *s, long long ts_before, long long received_before,
                            hub_sum_cb cb, void *arg);
    depot_err (*alert_put)(hub_store *s, const struct hub_alert_put *p, hub_alert_cb cb, void *arg);
    depot_err (*alert_ack)(hub_store *s, long long id, const char *by, long long at, bool *changed);
    depot_err (*alert_resolve)(hub_store *s, long long id, const char *by, long long at,
                               bool *changed);
    depot_err (*alert_get)(hub_store *s, long long id, hub_alert_cb cb, void *arg);
    depot_err (*alerts_list)(hub_store *s, const struct hub_alert_filter *f, hub_alert_cb cb,
                             void *arg);
    depot_err (*alerts_live_counts)(hub_store *s, hub_count_cb cb, void *arg);
    depot_err (*outbox_add)(hub_store *s, const char *dealer, const char *kind,
                            const char *payload);
    depot_err (*outbox_list)(hub_store *s, long long limit, hub_outbox_cb cb, void *arg);
    depot_err (*outbox_del)(hub_store *s, long long seq);
    depot_err (*places)(hub_store *s, hub_place_cb cb, void *arg);
    depot_err (*nodes)(hub_store *s, const char *dealer, const char *node, hub_node_cb cb,
                       void *arg);
    depot_err (*catalog_version)(hub_store *s, long long *version);
    depot_err (*profiles_version)(hub_store *s, long long *version);
    depot_err (*alert_refresh)(hub_store *s, long long id, const char *action,
                               const char *suggestion, long long at, hub_alert_cb cb, void *arg);
    depot_err (*log_add)(hub_store *s, int stream, const char *writer, const char *text,
                         long long at);
    depot_err (*log_read)(hub_store *s, int stream, long long after, hub_log_cb cb, void *arg,
                          long long *head, long long *pruned);
    depot_err (*log_prune)(hub_store *s, long long before);
    depot_err (*memo_set)(hub_store *s, const struct hub_alert_memo *m);
    depot_err (*memo_del)(hub_store *s, long long id);
    depot_err (*memos)(hub_store *s, const char *dealer, hub_memo_cb cb, void *arg);
    depot_err (*reload)(hub_store *s, const struct hub_alert_reload *r, void *arg);
};

/* Stock points of (dealer, sku) at or after since (ms), oldest first. */
depot_err hub_store_history_points(hub_store *s, const char *dealer, const char *sku,
                                   long long since, hub_point_cb cb, void *arg);
/* Daily figures of (dealer, sku) from from_day on, oldest first (days without any: no row). */
depot_err hub_store_history_days(hub_store *s, const char *dealer, const char *sku,
                                 long long from_day, hub_day_cb cb, void *arg);
/* Units picked per (dealer, sku) over days from_day..to_day (pairs with none: no call). */
depot_err hub_store_picked_sums(hub_store *s, long long from_day, long long to_day, hub_sum_cb cb,
                                void *arg);
/* picked_sums of the pairs from (dealer_from, sku_from) to (dealer_to, sku_to), both included,
 * in (dealer, sku) order: one page of the stock listing's figures. */
depot_err hub_store_picked_range(hub_store *s, long long from_day, long long to_day,
                                 const char *dealer_from, const char *sku_from,
                                 const char *dealer_to, const char *sku_to, hub_sum_cb cb,
                                 void *arg);
/* Deletes stock points older than points_before (ms), daily rows before days_before, and
 * alerts resolved before resolved_before (ms) with their slots. */
depot_err hub_store_history_prune(hub_store *s, long long points_before, long long days_before,
                                  long long resolved_before);

/*
 * Shrinkage matching: a scale decrease (decrease true) or a pick of units at
 * ts first consumes the opposite kind's unmatched units of the same (dealer,
 * sku) within [ts - window_ms, ts + window_ms], oldest first; what is left
 * is kept as unmatched (received at now).
 */
depot_err hub_store_shrink_add(hub_store *s, const char *dealer, const char *sku, bool decrease,
                               long long ts, long long units, long long window_ms, long long now);
/*
 * Unmatched scale decreases with ts <= ts_before and received at or before
 * received_before are due: cb gets their units summed per (dealer, sku),
 * then they are deleted (with unmatched picks too old to match anything).
 */
depot_err hub_store_shrink_due(hub_store *s, long long ts_before, long long received_before,
                               hub_sum_cb cb, void *arg);

/*
 * Opens an alert for p's key, or, when one is live (open or acknowledged),
 * updates its severity, text, action, suggestion and updated_at and adds
 * one to its count. cb (may be NULL) gets the row as it is afterwards.
 */
depot_err hub_store_alert_put(hub_store *s, const struct hub_alert_put *p, hub_alert_cb cb,
                              void *arg);
/* open -> acknowledged; *changed false when it was not open (see hub_store_alert_get). */
depot_err hub_store_alert_ack(hub_store *s, long long id, const char *by, long long at,
                              bool *changed);
/* open or acknowledged -> resolved; *changed false when it was resolved already or is unknown. */
depot_err hub_store_alert_resolve(hub_store *s, long long id, const char *by, long long at,
                                  bool *changed);
/* DEPOT_ERR_NOTFOUND for an unknown id. */
depot_err hub_store_alert_get(hub_store *s, long long id, hub_alert_cb cb, void *arg);
/* Newest first. */
depot_err hub_store_alerts_list(hub_store *s, const struct hub_alert_filter *f, hub_alert_cb cb,
                                void *arg);
/* Live (open or acknowledged) alerts counted per kind (kinds with none: no call). */
depot_err hub_store_alerts_live_counts(hub_store *s, hub_count_cb cb, void *arg);

depot_err hub_store_alert_outbox_add(hub_store *s, const char *dealer, const char *kind,
                                     const char *payload);
/* The oldest limit entries of the alert outbox, in order. */
depot_err hub_store_alert_outbox_list(hub_store *s, long long limit, hub_outbox_cb cb, void *arg);
depot_err hub_store_alert_outbox_del(hub_store *s, long long seq);

/* Every dealer profile's place, region and contract end. */
depot_err hub_store_dealer_places(hub_store *s, hub_place_cb cb, void *arg);
/* The nodes of dealer with their fault state; node filters when not NULL. */
depot_err hub_store_dealer_nodes(hub_store *s, const char *dealer, const char *node, hub_node_cb cb,
                                 void *arg);
/* The catalog's version (0: never set). */
depot_err hub_store_catalog_version(hub_store *s, long long *version);
/* Moves whenever any dealer profile is written (0: never). */
depot_err hub_store_profiles_version(hub_store *s, long long *version);
/*
 * Rewrites the action and suggestion of the live alert id (what it rests on changed; the
 * trigger and its count stay). cb (may be NULL) gets the row afterwards. DEPOT_ERR_NOTFOUND
 * when it is not live.
 */
depot_err hub_store_alert_refresh(hub_store *s, long long id, const char *action,
                                  const char *suggestion, long long at, hub_alert_cb cb, void *arg);

/*
 * The engine log: what keeps the engines of several hub instances on one
 * database exact. Each write transaction appends at most one entry per
 * stream: HUB_LOG_ALERTS names the dealers and cells whose alert state it
 * changed (cloud/hub/alerts/private.h, invariant 6), HUB_LOG_RANKING lists
 * the facts it fed the ranking (cloud/hub/ranking/service.c). Every engine
 * reads the entries of other writers (writers take turns, so entries come
 * in commit order) and catches up from them.
 */
enum { HUB_LOG_ALERTS, HUB_LOG_RANKING };
depot_err hub_store_log_add(hub_store *s, int stream, const char *writer, const char *text,
                            long long at);
/* A writer's name for the engine log, unique to this process and call: "PREFIX-PID-RANDOM". */
void hub_store_log_writer(char *out, size_t len, const char *prefix);
/*
 * Entries of stream with seq > after, in order (after < 0: none, only the figures).
 * *head: the last seq ever given (0: none); *pruned: entries up to it are gone
 * (an engine that read only up to below it must reload everything).
 */
depot_err hub_store_log_read(hub_store *s, int stream, long long after, hub_log_cb cb, void *arg,
                             long long *head, long long *pruned);
/* Drops entries written before `before` (ms), moving pruned. */
depot_err hub_store_log_prune(hub_store *s, long long before);
/*
 * The engines' slots: a row for every alert an engine holds live, written
 * when it opens or updates one and deleted when it lets it go (an alert
 * resolved by hand stays held until its condition clears or a new trigger
 * comes, as one engine would hold it).
 */
/* Sets the slot of m's key (severity and text unused). */
depot_err hub_store_alert_memo_set(hub_store *s, const struct hub_alert_memo *m);
/* Deletes the slot holding alert id (none: nothing). */
depot_err hub_store_alert_memo_del(hub_store *s, long long id);
/* The slots of one dealer or of all (dealer NULL), with their alert's severity and text. */
depot_err hub_store_alert_memos(hub_store *s, const char *dealer, hub_memo_cb cb, void *arg);
/* Reads what r names, in one statement per callback. */
depot_err hub_store_alert_reload(hub_store *s, const struct hub_alert_reload *r, void *arg);

#endif
