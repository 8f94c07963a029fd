/*
 * The hub's storage, behind one interface.
 *
 * A store is an opaque connection whose first member is a pointer to a const
 * table of operations; hub_store_open() picks the implementation from the
 * location (a file path means SQLite, hub_store_sqlite.c; a PostgreSQL
 * implementation plugs in as another table without touching a caller).
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

enum hub_apply_result {
    HUB_APPLY_DONE,      /* new message, its effect applied (or nothing to apply) */
    HUB_APPLY_DUPLICATE, /* stream message seen before: nothing changed */
    HUB_APPLY_STALE,     /* stream message recorded, its effect older than what is stored */
};

/* One stock row joined with its dealer's and node's state (times in ms). */
struct hub_stock_row {
    const char *dealer, *sku, *node;
    long long qty;
    long long updated_at;  /* the gateway's ts of the value */
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

/* Row callbacks: the row is valid during the call only; non-zero stops the walk. */
typedef int (*hub_stock_cb)(void *arg, const struct hub_stock_row *row);
typedef int (*hub_dealer_cb)(void *arg, const struct hub_dealer_row *row);
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
    depot_err (*dealers)(hub_store *s, hub_dealer_cb cb, void *arg);
    depot_err (*streams)(hub_store *s, const char *dealer, hub_stream_cb cb, void *arg);
    void (*free)(hub_store *s);
};

struct hub_store {
    const struct hub_store_ops *ops;
};

/*
 * Opens (and creates or upgrades the schema of) the database at location.
 * DEPOT_ERR_INVAL for a location no implementation takes.
 */
depot_err hub_store_open(const char *location, hub_store **out);
depot_err hub_store_sqlite_open(const char *path, hub_store **out);
void hub_store_free(hub_store *s);

/* Transactions: begin takes the write lock at once (waiting up to the busy timeout). */
depot_err hub_store_begin(hub_store *s);
depot_err hub_store_commit(hub_store *s);
void hub_store_rollback(hub_store *s);

/*
 * Applies one decoded, validated message inside a transaction: any type
 * updates the dealer's last_seen (to seen_ms, created if new); stock and
 * event are exactly-once stream messages (*res, and *upto = the stream's
 * applied_upto afterwards); snapshot updates the items it is newer for and
 * node fault flags; state sets online/offline ordered by session (offline
 * wins a tie). *upto is 0 for non-stream messages. res and upto may be NULL.
 */
depot_err hub_store_apply(hub_store *s, const depot_msg *m, long long seen_ms,
                          enum hub_apply_result *res, uint64_t *upto);

/* Adds n to the durable counter of rejected messages for reason. */
depot_err hub_store_count_reject(hub_store *s, const char *reason, uint64_t n);

/* Stock rows ordered by dealer, sku; dealer and sku filter when not NULL. */
depot_err hub_store_stock(hub_store *s, const char *dealer, const char *sku, hub_stock_cb cb,
                          void *arg);
depot_err hub_store_dealers(hub_store *s, hub_dealer_cb cb, void *arg);
/* DEPOT_ERR_NOTFOUND if the dealer was never heard of. */
depot_err hub_store_streams(hub_store *s, const char *dealer, hub_stream_cb cb, void *arg);

#endif
