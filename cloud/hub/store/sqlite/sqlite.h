/*
 * Private to the SQLite store: the connection object that all of its files
 * (store/sqlite/sqlite.c: ingest, stock, dealers; store/sqlite/orders.c:
 * catalog, profiles, payments, orders, audit; store/sqlite/alerts.c;
 * store/sqlite/ranking.c) work on, and the statement helpers they share
 * (store/sqlite/util.c).
 */
#ifndef HUB_STORE_SQLITE_H
#define HUB_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/store.h"

#define SQ_MAIN_STMTS 32
#define SQ_CATALOG_STMTS 8
#define SQ_DEALERS_STMTS 8
#define SQ_PAYMENTS_STMTS 8
#define SQ_ORDERS_STMTS 16
#define SQ_AUDIT_STMTS 4
#define SQ_ALERT_STMTS 48
#define SQ_ACCOUNT_STMTS 12
#define SQ_POLICY_STMTS 16
#define SQ_TASK_STMTS 12
#define SQ_TRAINING_STMTS 12
#define SQ_CONTRACT_STMTS 8
#define SQ_STATEMENT_STMTS 14
#define SQ_WEBHOOK_STMTS 16
#define SQ_LEDGER_STMTS 12
#define SQ_SHIPMENT_STMTS 12

struct sqlite_store {
    struct hub_store base; /* first: a hub_store * is a sqlite_store * */
    sqlite3 *db;
    sqlite3_stmt *st[SQ_MAIN_STMTS];
    sqlite3_stmt *catalog_st[SQ_CATALOG_STMTS];  /* catalog.c */
    sqlite3_stmt *dealer_st[SQ_DEALERS_STMTS];   /* dealers.c */
    sqlite3_stmt *payment_st[SQ_PAYMENTS_STMTS]; /* payments.c */
    sqlite3_stmt *order_st[SQ_ORDERS_STMTS];     /* orders.c */
    sqlite3_stmt *audit_st[SQ_AUDIT_STMTS];      /* audit.c */
    sqlite3_stmt *ast[SQ_ALERT_STMTS];           /* store/sqlite/alerts.c */
    sqlite3_stmt *account_st[SQ_ACCOUNT_STMTS];  /* store/sqlite/accounts.c */
    sqlite3_stmt *policy_st[SQ_POLICY_STMTS];    /* store/sqlite/policies.c */
    sqlite3_stmt *task_st[SQ_TASK_STMTS];        /* store/sqlite/tasks.c */
    sqlite3_stmt *training_st[SQ_TRAINING_STMTS]; /* store/sqlite/training.c */
    sqlite3_stmt *contract_st[SQ_CONTRACT_STMTS]; /* store/sqlite/contracts.c */
    sqlite3_stmt *statement_st[SQ_STATEMENT_STMTS]; /* store/sqlite/statements.c */
    sqlite3_stmt *webhook_st[SQ_WEBHOOK_STMTS];     /* store/sqlite/webhooks.c */
    sqlite3_stmt *ledger_st[SQ_LEDGER_STMTS];       /* store/sqlite/ledger.c */
    sqlite3_stmt *shipment_st[SQ_SHIPMENT_STMTS];   /* store/sqlite/shipments.c */
    struct sq_tx *tx; /* sqlite.c: what the open write transaction did to streams and dealers */
};

/* The store behind a hub_store * (base is the first member). */
static inline struct sqlite_store *hub_sqlite_impl(hub_store *s)
{
    return (struct sqlite_store *)s;
}

/* ---- statement helpers (store/sqlite/util.c) ---- */

/* Logs "sqlite: <what>: <errmsg>"; returns DEPOT_ERR_DB. */
depot_err hub_sqlite_fail(struct sqlite_store *q, const char *what);
/* Resets and clears a statement, returns it ready to bind. */
sqlite3_stmt *hub_sqlite_ready(sqlite3_stmt *st);
/* Binds text (SQLITE_STATIC: v must live until the step), or NULL for a NULL pointer. */
void hub_sqlite_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Column i as text, "" for NULL; valid until the next step or reset. */
const char *hub_sqlite_col(sqlite3_stmt *st, int i);
/* A dealers row of columns id, online, session, last_seen, first_seen (from column 0). */
void hub_sqlite_dealer_row(sqlite3_stmt *st, struct hub_dealer_row *r);
/* Copies column i (as hub_sqlite_col) into dst, truncated to size. */
void hub_sqlite_col_copy(sqlite3_stmt *st, int i, char *dst, size_t size);
/* Runs a statement that returns no rows, then resets it: DEPOT_OK or DEPOT_ERR_DB. */
depot_err hub_sqlite_run(struct sqlite_store *q, sqlite3_stmt *st, const char *what);
/* Steps a one-row query: DEPOT_OK with the row current (caller resets),
 * DEPOT_ERR_NOTFOUND or DEPOT_ERR_DB (reset). */
depot_err hub_sqlite_one_row(struct sqlite_store *q, sqlite3_stmt *st, const char *what);
/* Finishes a walk: resets; rc is the last sqlite3_step result. DEPOT_OK or DEPOT_ERR_DB. */
depot_err hub_sqlite_walk_end(struct sqlite_store *q, sqlite3_stmt *st, int rc, const char *what);
/* Runs SQL without results (a schema): DEPOT_OK or DEPOT_ERR_DB, logged as "sqlite: <what>: ...".
 */
depot_err hub_sqlite_exec(struct sqlite_store *q, const char *sql, const char *what);
/* Prepares sql[0..n) as persistent statements into out[]: DEPOT_OK or DEPOT_ERR_DB
 * (what was prepared stays in out[] for hub_sqlite_finalize_all). */
depot_err hub_sqlite_prepare_all(struct sqlite_store *q, const char *const *sql, int n,
                                 sqlite3_stmt **out);
/* Finalizes st[0..n) and sets them NULL (safe after a partial prepare). */
void hub_sqlite_finalize_all(sqlite3_stmt **st, int n);

/* A table that only grows: triggers abort any UPDATE or DELETE of its rows. */
#define HUB_SQLITE_APPEND_ONLY(t)                                                                  \
    "CREATE TRIGGER IF NOT EXISTS " t "_no_update BEFORE UPDATE ON " t                             \
    " BEGIN SELECT RAISE(ABORT, '" t " is append-only'); END;"                                     \
    "CREATE TRIGGER IF NOT EXISTS " t "_no_delete BEFORE DELETE ON " t                             \
    " BEGIN SELECT RAISE(ABORT, '" t " is append-only'); END;"

/*
 * The order domain (struct hub_store_order_ops), one file per group of
 * tables; each file's setup creates its tables and prepares its statements,
 * its free finalizes them (safe after a partial setup).
 */

/* catalog.c */
depot_err hub_sqlite_catalog_setup(struct sqlite_store *q);
void hub_sqlite_catalog_free(struct sqlite_store *q);
depot_err hub_sqlite_catalog_replace(hub_store *s, const struct hub_catalog_item *items, size_t n,
                                     long long at, long long *version);
depot_err hub_sqlite_catalog_list(hub_store *s, long long *version, hub_catalog_cb cb, void *arg);
depot_err hub_sqlite_catalog_find(hub_store *s, const char *barcode, struct hub_catalog_item *out);
depot_err hub_sqlite_catalog_due(hub_store *s, long long version, hub_name_cb cb, void *arg);
depot_err hub_sqlite_catalog_sent(hub_store *s, const char *dealer, long long version);

/* dealers.c */
depot_err hub_sqlite_dealers_setup(struct sqlite_store *q);
void hub_sqlite_dealers_free(struct sqlite_store *q);
depot_err hub_sqlite_profile_get(hub_store *s, const char *dealer, struct hub_dealer_profile *p);
depot_err hub_sqlite_profile_put(hub_store *s, const struct hub_dealer_profile *p);
depot_err hub_sqlite_sku_max_set(hub_store *s, const char *dealer, const char *sku, long long max);
depot_err hub_sqlite_sku_max_clear(hub_store *s, const char *dealer);
depot_err hub_sqlite_sku_max_list(hub_store *s, const char *dealer, hub_sku_max_cb cb, void *arg);
depot_err hub_sqlite_dealer_get(hub_store *s, const char *dealer, hub_dealer_cb cb, void *arg);
depot_err hub_sqlite_stock_qty(hub_store *s, const char *dealer, const char *sku, long long *qty);

/* payments.c */
depot_err hub_sqlite_payments_setup(struct sqlite_store *q);
void hub_sqlite_payments_free(struct sqlite_store *q);
depot_err hub_sqlite_payment_add(hub_store *s, const char *dealer, long long amount,
                                 const char *order, const char *ref, const char *actor,
                                 long long at, long long *id);
depot_err hub_sqlite_exposure(hub_store *s, const char *dealer, struct hub_exposure *out);
/* The API's idempotency keys (payments.c); their table is migration 11. */
extern const char hub_sqlite_idempotency_schema[];
depot_err hub_sqlite_idem_get(hub_store *s, const char *actor, const char *key, hub_idem_cb cb,
                              void *arg);
depot_err hub_sqlite_idem_put(hub_store *s, const struct hub_idem_row *row, long long prune_before);

/* orders.c */
depot_err hub_sqlite_order_table_setup(struct sqlite_store *q);
void hub_sqlite_order_table_free(struct sqlite_store *q);
depot_err hub_sqlite_order_insert(hub_store *s, const struct hub_order *o,
                                  const struct hub_order_line *lines, size_t n, const char *doc,
                                  const char *sig);
depot_err hub_sqlite_order_get(hub_store *s, const char *id, struct hub_order *out);
depot_err hub_sqlite_order_lines(hub_store *s, const char *id, hub_line_cb cb, void *arg);
depot_err hub_sqlite_orders_list(hub_store *s, const struct hub_order_filter *f, hub_order_cb cb,
                                 void *arg);
depot_err hub_sqlite_order_set_state(hub_store *s, const char *id, const char *status,
                                     const char *stage, const char *reason, long long at);
depot_err hub_sqlite_order_escalate(hub_store *s, const char *id);
depot_err hub_sqlite_orders_overdue(hub_store *s, long long since_before, hub_order_cb cb,
                                    void *arg);
depot_err hub_sqlite_decisions_due(hub_store *s, long long now, hub_order_cb cb, void *arg);
depot_err hub_sqlite_decision_sent(hub_store *s, const char *id, long long seq,
                                   long long next_send);
depot_err hub_sqlite_decision_confirm(hub_store *s, const char *dealer, const char *id,
                                      bool *confirmed);
depot_err hub_sqlite_decisions_wake(hub_store *s, const char *dealer);
depot_err hub_sqlite_ledger_owner(hub_store *s, const char *dealer, const char *ledger, char *other,
                                  size_t other_len);

/* audit.c */
depot_err hub_sqlite_audit_setup(struct sqlite_store *q);
void hub_sqlite_audit_free(struct sqlite_store *q);
depot_err hub_sqlite_audit_add(hub_store *s, const struct hub_audit_entry *e);
depot_err hub_sqlite_audit_list(hub_store *s, const char *order, hub_audit_cb cb, void *arg);
depot_err hub_sqlite_forged_add(hub_store *s, const struct hub_forged_entry *e);
depot_err hub_sqlite_forged_list(hub_store *s, const char *dealer, hub_forged_cb cb, void *arg);

extern const struct hub_store_order_ops hub_sqlite_order_ops;

/* Creates the order domain's tables and triggers and prepares its statements. */
depot_err hub_sqlite_orders_setup(struct sqlite_store *q);
/* Finalizes what hub_sqlite_orders_setup prepared (safe after a partial setup). */
void hub_sqlite_orders_free(struct sqlite_store *q);

/* History and alerts (store/sqlite/alerts.c): schema, statements, and the history effect
 * of a new movements batch or stock value (called in the applying transaction). */
extern const struct hub_store_alert_ops hub_sqlite_alert_ops;
/* Migration 3: the engine log and the alerts' memos (store/sqlite/alerts.c). */
extern const char hub_sqlite_engine_schema[];
/* Migration 10: each applied movement (store/sqlite/alerts.c). */
extern const char hub_sqlite_movements_schema[];
depot_err hub_sqlite_alerts_setup(struct sqlite_store *q);
void hub_sqlite_alerts_free(struct sqlite_store *q);
depot_err hub_sqlite_history_apply(struct sqlite_store *q, const depot_msg *m);
depot_err hub_sqlite_history_point(struct sqlite_store *q, const char *dealer, const char *sku,
                                   long long ts, long long qty);

/* The ranking's presence log (store/sqlite/ranking.c). */
extern const struct hub_store_ranking_ops hub_sqlite_ranking_ops;
depot_err hub_sqlite_ranking_setup(struct sqlite_store *q);

/* accounts.c: users and credentials (store/accounts.h); its schema is migration 4. */
extern const struct hub_store_account_ops hub_sqlite_account_ops;
extern const char hub_sqlite_accounts_schema[];
depot_err hub_sqlite_accounts_setup(struct sqlite_store *q);
void hub_sqlite_accounts_free(struct sqlite_store *q);

/* policies.c: policies and their reach (store/policies.h); its schema is migration 5. */
extern const struct hub_store_policy_ops hub_sqlite_policy_ops;
extern const char hub_sqlite_policies_schema[];
depot_err hub_sqlite_policies_setup(struct sqlite_store *q);
void hub_sqlite_policies_free(struct sqlite_store *q);

/* tasks.c: tasks and their completion (store/tasks.h); its schema is migration 6. */
extern const struct hub_store_task_ops hub_sqlite_task_ops;
extern const char hub_sqlite_tasks_schema[];
depot_err hub_sqlite_tasks_setup(struct sqlite_store *q);
void hub_sqlite_tasks_free(struct sqlite_store *q);

/* training.c: training material and its viewing (store/training.h); its schema is migration 7. */
extern const struct hub_store_training_ops hub_sqlite_training_ops;
extern const char hub_sqlite_training_schema[];
depot_err hub_sqlite_training_setup(struct sqlite_store *q);
void hub_sqlite_training_free(struct sqlite_store *q);

/* contracts.c: e-contracts, their signatures and terms (store/contracts.h); its schema is
 * migration 8. */
extern const struct hub_store_contract_ops hub_sqlite_contract_ops;
extern const char hub_sqlite_contracts_schema[];
depot_err hub_sqlite_contracts_setup(struct sqlite_store *q);
void hub_sqlite_contracts_free(struct sqlite_store *q);
/* statements.c: rebate statements and their disputes (store/statements.h); its schema is
 * migration 9. */
extern const struct hub_store_statement_ops hub_sqlite_statement_ops;
extern const char hub_sqlite_statements_schema[];
depot_err hub_sqlite_statements_setup(struct sqlite_store *q);
void hub_sqlite_statements_free(struct sqlite_store *q);
/* webhooks.c: webhook subscriptions and their deliveries (store/webhooks.h); its schema is
 * migration 12. */
extern const struct hub_store_webhook_ops hub_sqlite_webhook_ops;
extern const char hub_sqlite_webhooks_schema[];
depot_err hub_sqlite_webhooks_setup(struct sqlite_store *q);
void hub_sqlite_webhooks_free(struct sqlite_store *q);
/* ledger.c: the movement chains as applied (store/ledger.h); its schema is migration 13. */
extern const struct hub_store_ledger_ops hub_sqlite_ledger_ops;
extern const char hub_sqlite_ledger_schema[];
depot_err hub_sqlite_ledger_setup(struct sqlite_store *q);
void hub_sqlite_ledger_free(struct sqlite_store *q);
/* shipments.c: shipments and their item codes (store/shipments.h); its schema is migration 14. */
extern const struct hub_store_shipment_ops hub_sqlite_shipment_ops;
extern const char hub_sqlite_shipments_schema[];
depot_err hub_sqlite_shipments_setup(struct sqlite_store *q);
void hub_sqlite_shipments_free(struct sqlite_store *q);

#endif
