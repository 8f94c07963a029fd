/*
 * The hub's storage, behind one interface.
 *
 * A store is an opaque connection whose first member is a pointer to a const
 * table of operations (struct hub_store_ops); hub_store_open() picks the
 * implementation from the location: a file path is SQLite (sqlite/), a
 * postgresql:// URL is PostgreSQL (pg/). Another database plugs in as
 * another table without touching a caller.
 *
 * One store is one connection and is used by one thread at a time; threads
 * that work in parallel open one store each. Several stores (in this process
 * or in other hub instances) may share one database: every write happens in
 * a transaction that the database serialises.
 *
 * Exactly-once: for a stream message (stock, event), hub_store_apply records
 * (dealer, ledger, id) under a unique key and applies the effect in the
 * caller's transaction; a message already recorded (or at or below the
 * stream's applied_upto mark) is a duplicate and changes nothing but the
 * duplicate counter. A stock value or node state older than what is stored
 * (same ledger: smaller id; another ledger: older timestamp) is recorded as
 * applied but its effect is skipped (HUB_APPLY_STALE).
 *
 * Every function returns DEPOT_OK, DEPOT_ERR_DB (the database failed or was
 * busy for longer than its timeout; the transaction must be rolled back),
 * DEPOT_ERR_NOMEM, or what its comment adds.
 */
#ifndef HUB_STORE_H
#define HUB_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "depot/error.h"
#include "depot/msg.h"

typedef struct hub_store hub_store;
struct hub_store_alert_ops;
struct hub_store_ranking_ops;
struct hub_store_account_ops;
struct hub_store_policy_ops;
struct hub_store_task_ops;
struct hub_store_training_ops;
struct hub_store_contract_ops;
struct hub_store_statement_ops;
struct hub_store_webhook_ops;
struct hub_store_ledger_ops;
struct hub_store_shipment_ops;
struct hub_chain;

enum hub_apply_result {
    HUB_APPLY_DONE,      /* new message, its effect applied (or nothing to apply) */
    HUB_APPLY_DUPLICATE, /* stream message seen before: nothing changed */
    HUB_APPLY_STALE,     /* stream message recorded, its effect older than what is stored */
    HUB_APPLY_REFUSED,   /* movements recorded, not applied: they do not fit the stock they
                            change (hub_store_apply) */
    HUB_APPLY_DEFERRED,  /* movements not recorded: earlier ids of the stream are missing, the
                            gateway resends it (hub_store_apply) */
};

/* One stock row joined with its dealer's and node's state (times in ms). */
struct hub_stock_row {
    const char *dealer, *sku, *node;
    long long qty;
    long long updated_at;  /* gateway time of the last real measurement (faults do not move it) */
    long long received_at; /* when the hub stored it */
    bool dealer_online;    /* as last stated by the gateway (true until a state says otherwise) */
    long long last_seen;   /* last message from the dealer */
    bool node_fault;
    const char *fault_reason;
};

struct hub_dealer_row {
    const char *dealer;
    bool online;
    long long session;
    long long last_seen, first_seen;
};

struct hub_stream_row {
    const char *ledger;
    uint64_t applied_upto, applied, duplicates, stale_ignored;
};

/* ---- catalog, dealers' profiles, payments, orders, audit (store/sqlite/orders.c) ---- */

#define HUB_NAME_MAX 128
#define HUB_REGION_MAX 64
#define HUB_TIER_MAX 32
#define HUB_DATE_MAX 10 /* YYYY-MM-DD */
#define HUB_ORDER_REASON_MAX 200
#define HUB_ACTOR_MAX 64
#define HUB_REF_MAX 128

/* One SKU of the catalog; money in cents. */
struct hub_catalog_item {
    char sku[DEPOT_SKU_MAX + 1];
    char barcode[DEPOT_BARCODE_LEN + 1];
    long long price, unit_weight_g, min_qty, max_qty, reorder_point, lead_time_days, max_stock;
    char serial_prefix[DEPOT_SERIAL_PREFIX_MAX + 1]; /* "": no serial codes (migration 15) */
};

/* A dealer's commercial profile; money in cents; dates "" or YYYY-MM-DD. */
struct hub_dealer_profile {
    char dealer[DEPOT_DEALER_MAX + 1];
    char name[HUB_NAME_MAX + 1];
    char region[HUB_REGION_MAX + 1];
    bool has_location;
    double lat, lon;
    char tier[HUB_TIER_MAX + 1];
    long long credit_limit, auto_approve_limit;
    char contract_start[HUB_DATE_MAX + 1], contract_end[HUB_DATE_MAX + 1];
};

/* Which orders a list gives: status and dealer filter when not NULL; after_id (not NULL)
 * starts after the order (after_at, after_id) in the list's order; limit <= 0: every one. */
struct hub_order_filter {
    const char *status, *dealer;
    long long after_at;
    const char *after_id;
    long long limit;
};

/*
 * An order as stored. decision_seq counts the decisions made for it (a new
 * stage, approved, rejected); sent_seq is the last one published to the
 * gateway and delivered_seq the last one the gateway confirmed.
 */
struct hub_order {
    char id[DEPOT_ORDER_ID_MAX + 1];
    char dealer[DEPOT_DEALER_MAX + 1];
    char ledger[DEPOT_LEDGER_HEX + 1];
    long long number;
    char terminal[DEPOT_NODE_MAX + 1];
    long long created, received_at, stage_since, decided_at; /* ms; decided_at 0 while pending */
    char status[DEPOT_STATUS_MAX + 1];                       /* pending, approved, rejected */
    char stage[DEPOT_STAGE_MAX + 1];                         /* the stage waited for, or "" */
    char reason[HUB_ORDER_REASON_MAX + 1];
    long long total; /* cents, from the hub's catalog prices */
    bool escalated;
    long long decision_seq, sent_seq, delivered_seq;
};

struct hub_order_line {
    char barcode[DEPOT_BARCODE_LEN + 1];
    char sku[DEPOT_SKU_MAX + 1]; /* "" when the barcode is not in the catalog */
    long long qty, unit_price;   /* unit_price in cents */
};

/* One line of the append-only audit trail. */
struct hub_audit_entry {
    long long seq, at; /* seq: assigned by the store */
    const char *order, *dealer, *actor, *action, *stage, *reason;
};

/* An order message that never became an order (forged or undecodable). */
struct hub_forged_entry {
    long long at;
    const char *dealer, *ledger, *order, *reason, *detail;
    uint64_t msg_id;
};

struct hub_exposure {
    long long approved, paid, open; /* cents; open = max(0, approved - paid) */
};

/* The answer kept for an API write made with an Idempotency-Key (migration 11):
 * idempotency (actor, key PK; request, status, body, at), index (at). request is the SHA-256
 * (hex) of the method, path and body the key was first used with. */
struct hub_idem_row {
    const char *actor, *key, *request;
    long long status;
    const char *body;
    long long at; /* ms */
};

typedef int (*hub_idem_cb)(void *arg, const struct hub_idem_row *row);

typedef int (*hub_catalog_cb)(void *arg, const struct hub_catalog_item *item);
typedef int (*hub_order_cb)(void *arg, const struct hub_order *o);
typedef int (*hub_line_cb)(void *arg, const struct hub_order_line *l);
typedef int (*hub_audit_cb)(void *arg, const struct hub_audit_entry *e);
typedef int (*hub_forged_cb)(void *arg, const struct hub_forged_entry *e);
typedef int (*hub_sku_max_cb)(void *arg, const char *sku, long long max);
typedef int (*hub_name_cb)(void *arg, const char *name);
typedef int (*hub_dealer_cb)(void *arg, const struct hub_dealer_row *row);

struct hub_store_order_ops {
    depot_err (*catalog_replace)(hub_store *s, const struct hub_catalog_item *items, size_t n,
                                 long long at, long long *version);
    depot_err (*catalog_list)(hub_store *s, long long *version, hub_catalog_cb cb, void *arg);
    depot_err (*catalog_find)(hub_store *s, const char *barcode, struct hub_catalog_item *out);
    depot_err (*catalog_due)(hub_store *s, long long version, hub_name_cb cb, void *arg);
    depot_err (*catalog_sent)(hub_store *s, const char *dealer, long long version);
    depot_err (*profile_get)(hub_store *s, const char *dealer, struct hub_dealer_profile *out);
    depot_err (*profile_put)(hub_store *s, const struct hub_dealer_profile *p);
    depot_err (*sku_max_set)(hub_store *s, const char *dealer, const char *sku, long long max);
    depot_err (*sku_max_clear)(hub_store *s, const char *dealer);
    depot_err (*sku_max_list)(hub_store *s, const char *dealer, hub_sku_max_cb cb, void *arg);
    depot_err (*dealer_get)(hub_store *s, const char *dealer, hub_dealer_cb cb, void *arg);
    depot_err (*stock_qty)(hub_store *s, const char *dealer, const char *sku, long long *qty);
    depot_err (*payment_add)(hub_store *s, const char *dealer, long long amount, const char *order,
                             const char *ref, const char *actor, long long at, long long *id);
    depot_err (*exposure)(hub_store *s, const char *dealer, struct hub_exposure *out);
    depot_err (*idem_get)(hub_store *s, const char *actor, const char *key, hub_idem_cb cb,
                          void *arg);
    depot_err (*idem_put)(hub_store *s, const struct hub_idem_row *row, long long prune_before);
    depot_err (*order_insert)(hub_store *s, const struct hub_order *o,
                              const struct hub_order_line *lines, size_t n, const char *doc,
                              const char *sig);
    depot_err (*order_get)(hub_store *s, const char *id, struct hub_order *out);
    depot_err (*order_lines)(hub_store *s, const char *id, hub_line_cb cb, void *arg);
    depot_err (*orders_list)(hub_store *s, const struct hub_order_filter *f, hub_order_cb cb,
                             void *arg);
    depot_err (*order_set_state)(hub_store *s, const char *id, const char *status,
                                 const char *stage, const char *reason, long long at);
    depot_err (*order_escalate)(hub_store *s, const char *id);
    depot_err (*orders_overdue)(hub_store *s, long long since_before, hub_order_cb cb, void *arg);
    depot_err (*decisions_due)(hub_store *s, long long now, hub_order_cb cb, void *arg);
    depot_err (*decision_sent)(hub_store *s, const char *id, long long seq, long long next_send);
    depot_err (*decision_confirm)(hub_store *s, const char *dealer, const char *id,
                                  bool *confirmed);
    depot_err (*decisions_wake)(hub_store *s, const char *dealer);
    depot_err (*ledger_owner)(hub_store *s, const char *dealer, const char *ledger, char *other,
                              size_t other_len);
    depot_err (*audit_add)(hub_store *s, const struct hub_audit_entry *e);
    depot_err (*audit_list)(hub_store *s, const char *order, hub_audit_cb cb, void *arg);
    depot_err (*forged_add)(hub_store *s, const struct hub_forged_entry *e);
    depot_err (*forged_list)(hub_store *s, const char *dealer, hub_forged_cb cb, void *arg);
};

/* Row callbacks: the row is valid during the call only; non-zero stops the walk. */
typedef int (*hub_stock_cb)(void *arg, const struct hub_stock_row *row);
typedef int (*hub_stream_cb)(void *arg, const struct hub_stream_row *row);

struct hub_store_ops {
    const char *name;
    depot_err (*begin)(hub_store *s);
    depot_err (*commit)(hub_store *s);
    void (*rollback)(hub_store *s);
    depot_err (*apply)(hub_store *s, const depot_msg *m, long long seen_ms,
                       enum hub_apply_result *res, uint64_t *upto);
    depot_err (*count_reject)(hub_store *s, const char *reason, uint64_t n);
    depot_err (*stock)(hub_store *s, const char *dealer, const char *sku, hub_stock_cb cb,
                       void *arg);
    depot_err (*stock_page)(hub_store *s, const char *dealer, const char *sku,
                            const char *after_dealer, const char *after_sku, long long limit,
                            hub_stock_cb cb, void *arg);
    depot_err (*dealers)(hub_store *s, hub_dealer_cb cb, void *arg);
    depot_err (*dealers_known)(hub_store *s, const char *after, long long limit, hub_dealer_cb cb,
                               void *arg);
    depot_err (*streams)(hub_store *s, const char *dealer, hub_stream_cb cb, void *arg);
    void (*free)(hub_store *s);
    const struct hub_store_order_ops *orders;
    const struct hub_store_alert_ops *alerts;    /* history and alerts: store/alerts.h */
    const struct hub_store_ranking_ops *ranking; /* presence log, rebuild: store/ranking.h */
    const struct hub_store_account_ops *accounts; /* users, credentials: store/accounts.h */
    const struct hub_store_policy_ops *policies;  /* policies, reach: store/policies.h */
    const struct hub_store_task_ops *tasks;       /* tasks, completion: store/tasks.h */
    const struct hub_store_training_ops *training;  /* training material: store/training.h */
    const struct hub_store_contract_ops *contracts; /* e-contracts: store/contracts.h */
    const struct hub_store_statement_ops *statements; /* rebate statements: store/statements.h */
    const struct hub_store_webhook_ops *webhooks;     /* webhooks' outbox: store/webhooks.h */
    const struct hub_store_ledger_ops *ledger;        /* movement chains: store/ledger.h */
    const struct hub_store_shipment_ops *shipments;   /* shipments, item codes: store/shipments.h */
};

struct hub_store {
    const struct hub_store_ops *ops;
    struct hub_chain *chain; /* during hub_store_apply_chain only (store/ledger.h) */
    bool enqueued;           /* the open transaction queued webhook deliveries */
};

/*
 * Opens (and creates or upgrades the schema of) the database at location.
 * DEPOT_ERR_INVAL for a location no implementation takes.
 */
depot_err hub_store_open(const char *location, hub_store **out);
depot_err hub_store_sqlite_open(const char *path, hub_store **out);
/* A postgresql:// (or postgres://) URL: PostgreSQL (store/pg/). */
depot_err hub_store_pg_open(const char *url, hub_store **out);
void hub_store_free(hub_store *s);

/* Transactions: begin takes the write lock at once (waiting up to the busy timeout). A commit
 * of a transaction that queued webhook deliveries calls the doorbell set below. */
depot_err hub_store_begin(hub_store *s);
depot_err hub_store_commit(hub_store *s);
void hub_store_rollback(hub_store *s);

/* The process's webhook doorbell (webhooks.c sets it; NULL: none): called, from the
 * committing thread, after each commit that queued deliveries. */
void hub_store_set_doorbell(void (*ring)(void));

/*
 * Applies one decoded, validated message inside a transaction: any type
 * updates the dealer's last_seen (to seen_ms, created if new); stock and
 * event are exactly-once stream messages (*res, and *upto = the stream's
 * applied_upto afterwards); snapshot updates the items it is newer for and
 * node fault flags; state sets online/offline ordered by session (offline
 * wins a tie). *upto is 0 for non-stream messages. res and upto may be NULL.
 *
 * Movements must fit the stock they change: in each (dealer, ledger, sku)
 * chain, a movement's stock before it (qty - delta) is the qty after the
 * previous movement of that SKU (a chain the hub has not seen yet starts
 * where its first movement says). A batch with one movement that does not fit is
 * recorded but none of it is applied (HUB_APPLY_REFUSED, logged; its SKUs'
 * chains go on from its values, so one refusal never stalls the next
 * genuine batch). To know the chain, a batch is applied only in stream
 * order: one whose earlier ids (above the gateway's base) are not all
 * applied yet is left unrecorded (HUB_APPLY_DEFERRED) for the gateway to
 * resend.
 */
depot_err hub_store_apply(hub_store *s, const depot_msg *m, long long seen_ms,
                          enum hub_apply_result *res, uint64_t *upto);

/* Adds n to the durable counter of rejected messages for reason. */
depot_err hub_store_count_reject(hub_store *s, const char *reason, uint64_t n);

/* Stock rows ordered by dealer, sku; dealer and sku filter when not NULL. */
depot_err hub_store_stock(hub_store *s, const char *dealer, const char *sku, hub_stock_cb cb,
                          void *arg);
/*
 * One page of hub_store_stock: at most limit rows after (after_dealer,
 * after_sku) in (dealer, sku) order ("", "": from the first). The last row's
 * (dealer, sku) is the cursor of the next page; each page is one indexed
 * range read, however far into the table it starts.
 */
depot_err hub_store_stock_page(hub_store *s, const char *dealer, const char *sku,
                               const char *after_dealer, const char *after_sku, long long limit,
                               hub_stock_cb cb, void *arg);
/* Dealers heard of (a message arrived), ordered by id. */
depot_err hub_store_dealers(hub_store *s, hub_dealer_cb cb, void *arg);
/*
 * A page of every dealer the hub knows, ordered by id: those heard of, and
 * those with a profile whose gateway was never heard (offline, session -1,
 * last_seen and first_seen 0); at most limit of them with an id above after
 * ("" from the first).
 */
depot_err hub_store_dealers_known(hub_store *s, const char *after, long long limit,
                                  hub_dealer_cb cb, void *arg);
/* DEPOT_ERR_NOTFOUND if the dealer was never heard of. */
depot_err hub_store_streams(hub_store *s, const char *dealer, hub_stream_cb cb, void *arg);

/*
 * The order domain. Writes go inside the caller's transaction. Lookups return
 * DEPOT_ERR_NOTFOUND for what does not exist; order_insert DEPOT_ERR_DUPLICATE
 * for an order id already stored (a replay).
 */

/* Replaces the whole catalog and bumps its version (*version gets the new one). */
depot_err hub_store_catalog_replace(hub_store *s, const struct hub_catalog_item *items, size_t n,
                                    long long at, long long *version);
/* Items ordered by sku; *version the catalog's version (0: never set). */
depot_err hub_store_catalog_list(hub_store *s, long long *version, hub_catalog_cb cb, void *arg);
depot_err hub_store_catalog_find(hub_store *s, const char *barcode, struct hub_catalog_item *out);
/* Every known dealer (heard of or with a profile) not yet sent catalog version. */
depot_err hub_store_catalog_due(hub_store *s, long long version, hub_name_cb cb, void *arg);
depot_err hub_store_catalog_sent(hub_store *s, const char *dealer, long long version);

depot_err hub_store_profile_get(hub_store *s, const char *dealer, struct hub_dealer_profile *out);
/* Creates or replaces the profile (a dealer may have one before its gateway is heard). */
depot_err hub_store_profile_put(hub_store *s, const struct hub_dealer_profile *p);
/* A per-dealer maximum stock of sku, overriding the catalog's max_stock. */
depot_err hub_store_sku_max_set(hub_store *s, const char *dealer, const char *sku, long long max);
depot_err hub_store_sku_max_clear(hub_store *s, const char *dealer);
depot_err hub_store_sku_max_list(hub_store *s, const char *dealer, hub_sku_max_cb cb, void *arg);
/* The heard state of one dealer (NOTFOUND if never heard of). */
depot_err hub_store_dealer_get(hub_store *s, const char *dealer, hub_dealer_cb cb, void *arg);
/* The dealer's measured stock of sku (0 if none reported). */
depot_err hub_store_stock_qty(hub_store *s, const char *dealer, const char *sku, long long *qty);

/* The answer kept for (actor, key): cb once; DEPOT_ERR_NOTFOUND if there is none. */
depot_err hub_store_idem_get(hub_store *s, const char *actor, const char *key, hub_idem_cb cb,
                             void *arg);
/* Keeps row (in the caller's transaction, with the write it answers) and drops the answers
 * kept before prune_before (ms). A second row of (actor, key) fails (DEPOT_ERR_DB). */
depot_err hub_store_idem_put(hub_store *s, const struct hub_idem_row *row, long long prune_before);
/* Appends a payment (the table refuses UPDATE and DELETE); order may be "". */
depot_err hub_store_payment_add(hub_store *s, const char *dealer, long long amount,
                                const char *order, const char *ref, const char *actor, long long at,
                                long long *id);
depot_err hub_store_exposure(hub_store *s, const char *dealer, struct hub_exposure *out);

/* Stores a new order with its lines, the signed document and its signature;
 * its first decision (o->status, o->stage) is due for publishing now. */
depot_err hub_store_order_insert(hub_store *s, const struct hub_order *o,
                                 const struct hub_order_line *lines, size_t n, const char *doc,
                                 const char *sig);
depot_err hub_store_order_get(hub_store *s, const char *id, struct hub_order *out);
depot_err hub_store_order_lines(hub_store *s, const char *id, hub_line_cb cb, void *arg);
/* Orders newest first (received_at descending, then id). */
depot_err hub_store_orders_list(hub_store *s, const struct hub_order_filter *f, hub_order_cb cb,
                                void *arg);
/* A new decision: sets status, stage, reason, stage_since = at (decided_at = at unless
 * pending), clears escalated and makes the decision due for publishing now. */
depot_err hub_store_order_set_state(hub_store *s, const char *id, const char *status,
                                    const char *stage, const char *reason, long long at);
depot_err hub_store_order_escalate(hub_store *s, const char *id);
/* Pending, not yet escalated orders waiting at their stage since before since_before. */
depot_err hub_store_orders_overdue(hub_store *s, long long since_before, hub_order_cb cb,
                                   void *arg);
/* Orders whose last decision is not confirmed and whose next send time has come. */
depot_err hub_store_decisions_due(hub_store *s, long long now, hub_order_cb cb, void *arg);
depot_err hub_store_decision_sent(hub_store *s, const char *id, long long seq, long long next_send);
/* The gateway confirmed the decision of order id: delivered_seq = sent_seq.
 * *confirmed: whether that confirmed something new. */
depot_err hub_store_decision_confirm(hub_store *s, const char *dealer, const char *id,
                                     bool *confirmed);
/* The dealer came online: its unconfirmed decisions are due now. */
depot_err hub_store_decisions_wake(hub_store *s, const char *dealer);
/*
 * Whether ledger belongs to a dealer other than dealer: DEPOT_OK with other
 * set to that dealer if another dealer's stream used it first, or (an older
 * database) if no dealer owns it and another dealer used it too;
 * DEPOT_ERR_NOTFOUND if not (a ledger id is random, so it is one gateway's).
 */
depot_err hub_store_ledger_owner(hub_store *s, const char *dealer, const char *ledger, char *other,
                                 size_t other_len);

/* Appends to the audit trail (the table refuses UPDATE and DELETE). */
depot_err hub_store_audit_add(hub_store *s, const struct hub_audit_entry *e);
depot_err hub_store_audit_list(hub_store *s, const char *order, hub_audit_cb cb, void *arg);
depot_err hub_store_forged_add(hub_store *s, const struct hub_forged_entry *e);
/* Newest first; dealer filters when not NULL. */
depot_err hub_store_forged_list(hub_store *s, const char *dealer, hub_forged_cb cb, void *arg);

#endif
