/*
 * Private to the PostgreSQL store: the connection object that all of its
 * files work on (store/pg/pg.c: ingest, stock, dealers; catalog.c,
 * dealers.c, payments.c, orders.c, audit.c: the order domain; alerts.c:
 * history and alerts; ranking.c: the presence log and the ranking's facts;
 * accounts.c: users and credentials; policies.c: policies and their reach;
 * tasks.c: tasks and their completion, training.c: training material and its viewing,
 * contracts.c: e-contracts, their signatures and terms),
 * the statement helpers they share (store/pg/util.c) and the schema
 * migrations (store/pg/schema.c).
 *
 * Statements: each file keeps a table of SQL texts (struct hub_pg_stmts);
 * a statement is prepared on a connection the first time it runs there
 * (named "s<table>_<index>") and kept for the connection's life. Every
 * value is a bound parameter, sent as text ($1, $2, ...: see struct
 * pg_params); results are read as text.
 *
 * Writes: hub_store_begin opens a transaction and takes one transaction
 * advisory lock (HUB_PG_WRITE_LOCK), so write transactions of every
 * connection and every hub instance run one after the other, as they do on
 * SQLite (BEGIN IMMEDIATE): what a transaction reads stays true until it
 * commits. Reads outside a transaction are single statements (READ
 * COMMITTED) and never wait for a writer.
 *
 * A connection that breaks is reset on the next call outside a transaction,
 * at most once per back-off (100 ms doubling to 5 s); until then calls fail
 * with DEPOT_ERR_DB. A call inside a transaction fails and the caller rolls
 * back: the database applies the whole transaction or nothing of it.
 */
#ifndef HUB_STORE_PG_H
#define HUB_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "store/store.h"

/* Text columns compare and sort byte-wise, as on SQLite, whatever the database's locale. */
#define PG_TEXT "TEXT COLLATE \"C\""

/* The key of the transaction advisory lock every write transaction takes. */
#define HUB_PG_WRITE_LOCK                                                                          \
    293759643508 /* 0x4465706f74, "Depot" (decimal: it is pasted into SQL)                         \
                  */
/* The key of the session advisory lock held while migrating the schema. */
#define HUB_PG_MIGRATE_LOCK 293759643509

/* Each file's statement table; its id selects the prepared-statement bitmap. */
enum hub_pg_table {
    PG_T_MAIN,
    PG_T_CATALOG,
    PG_T_DEALERS,
    PG_T_PAYMENTS,
    PG_T_ORDERS,
    PG_T_AUDIT,
    PG_T_ALERTS,
    PG_T_RANKING,
    PG_T_ACCOUNTS,
    PG_T_POLICIES,
    PG_T_TASKS,
    PG_T_TRAINING,
    PG_T_CONTRACTS,
    PG_T_STATEMENTS,
    PG_T_WEBHOOKS,
    PG_T_LEDGER,
    PG_T_SHIPMENTS,
    PG_T__COUNT
};

#define PG_TABLE_MAX 64 /* statements per table (one bit each in the prepared bitmap) */

struct hub_pg_stmts {
    enum hub_pg_table id;
    int n;
    const char *const *sql;
};

#define PG_MAX_PARAMS 24

/* Parameters $1..$n of one statement, as text (NULL is SQL NULL). */
struct pg_params {
    int n;
    const char *v[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][32]; /* the text of numeric parameters */
};

struct pg_tx; /* pg.c: what the open write transaction did to streams and dealers */

struct pg_store {
    struct hub_store base; /* first: a hub_store * is a pg_store * */
    PGconn *conn;
    char *conninfo;
    bool in_tx;
    unsigned long long prepared[PG_T__COUNT]; /* bit i: statement i prepared on conn */
    long long retry_at_ms, backoff_ms;        /* reconnection back-off (monotonic ms) */
    char sqlstate[6];                         /* of the last failure, "" if none */
    struct pg_tx *tx;
};

static inline struct pg_store *hub_pg_impl(hub_store *s)
{
    return (struct pg_store *)s;
}

/* ---- parameters ---- */

static inline void pgp_reset(struct pg_params *p)
{
    p->n = 0;
}
void pgp_text(struct pg_params *p, const char *v); /* v must live until the call; NULL: NULL */
void pgp_int(struct pg_params *p, long long v);
void pgp_bool(struct pg_params *p, bool v); /* "1" or "0": an integer or a boolean */
void pgp_double(struct pg_params *p, double v);

/* ---- statements (store/pg/util.c) ---- */

/* Logs "postgresql: <what>: <message>", keeps the SQLSTATE; returns DEPOT_ERR_DB. */
depot_err hub_pg_fail(struct pg_store *q, const PGresult *res, const char *what);
/* Whether the last failure was a unique violation (SQLSTATE 23505). */
bool hub_pg_unique_violation(const struct pg_store *q);

/* Runs statement idx of t: DEPOT_OK (rows it changed in *changed if not NULL) or DEPOT_ERR_DB. */
depot_err hub_pg_run(struct pg_store *q, const struct hub_pg_stmts *t, int idx,
                     const struct pg_params *p, const char *what, long long *changed);
/* Runs a query: DEPOT_OK with every row in *res (the caller PQclears it) or DEPOT_ERR_DB. */
depot_err hub_pg_query(struct pg_store *q, const struct hub_pg_stmts *t, int idx,
                       const struct pg_params *p, const char *what, PGresult **res);
/* A query of at most one row: DEPOT_OK with row 0 in *res (caller PQclears),
 * DEPOT_ERR_NOTFOUND (nothing to clear) or DEPOT_ERR_DB. */
depot_err hub_pg_one_row(struct pg_store *q, const struct hub_pg_stmts *t, int idx,
                         const struct pg_params *p, const char *what, PGresult **res);
/* Walks the rows of a query: row(arg, res, r) reads row r of res; non-zero stops the walk.
 * The whole result is read first, so the callback may use the store (run other statements);
 * a walk over a table that grows without bound goes page by page (pg.c: pg_stock). */
typedef int (*hub_pg_row_fn)(void *arg, const PGresult *res, int r);
depot_err hub_pg_walk(struct pg_store *q, const struct hub_pg_stmts *t, int idx,
                      const struct pg_params *p, const char *what, hub_pg_row_fn row, void *arg);
/* A walk of an SQL text not kept prepared (queries run once in a long while), row by row in
 * libpq's single-row mode (r is always 0): memory stays one row whatever the query returns,
 * and the callback must not use the store while it runs. */
depot_err hub_pg_walk_sql(struct pg_store *q, const char *sql, const struct pg_params *p,
                          const char *what, hub_pg_row_fn row, void *arg);
/* Runs SQL text without parameters or results (BEGIN, a schema): DEPOT_OK or DEPOT_ERR_DB. */
depot_err hub_pg_exec(struct pg_store *q, const char *sql, const char *what);

/* Column col of row: text ("" for NULL), integer (0 for NULL), boolean ("t", "1": true). */
const char *hub_pg_col(const PGresult *res, int row, int col);
long long hub_pg_int(const PGresult *res, int row, int col);
bool hub_pg_bool(const PGresult *res, int row, int col);
/* A dealers row of columns id, online, session, last_seen, first_seen (from column 0). */
void hub_pg_dealer_row(const PGresult *res, int row, struct hub_dealer_row *r);
double hub_pg_double(const PGresult *res, int row, int col);
bool hub_pg_null(const PGresult *res, int row, int col);
void hub_pg_col_copy(const PGresult *res, int row, int col, char *dst, size_t size);

/* ---- connection (store/pg/util.c) ---- */

/* Connects (conninfo: a postgresql:// URL or key=value pairs). DEPOT_OK or DEPOT_ERR_DB. */
depot_err hub_pg_connect(struct pg_store *q, const char *conninfo);
/* Outside a transaction: a broken connection is reset, within the back-off. */
depot_err hub_pg_ensure(struct pg_store *q);

/* ---- schema (store/pg/schema.c) ---- */

/* Applies the migrations the database has not had, under HUB_PG_MIGRATE_LOCK, each in its own
 * transaction with its row in schema_migrations; an instance that starts while another
 * migrates waits and then finds nothing to do. */
depot_err hub_pg_migrate(struct pg_store *q);

/* A table that only grows: UPDATE and DELETE of its rows raise an error
 * (the function depot_append_only is created by the first migration). */
#define HUB_PG_APPEND_ONLY(t)                                                                      \
    "CREATE TRIGGER " t "_append_only BEFORE UPDATE OR DELETE ON " t                               \
    " FOR EACH ROW EXECUTE FUNCTION depot_append_only();"

/* Each file's part of the first migration (version 1, the schema of the SQLite store). */
extern const char hub_pg_schema_main[], hub_pg_schema_catalog[], hub_pg_schema_dealers[],
    hub_pg_schema_payments[], hub_pg_schema_orders[], hub_pg_schema_audit[], hub_pg_schema_alerts[],
    hub_pg_schema_ranking[], hub_pg_schema_engine[];

/* ---- the order domain (struct hub_store_order_ops), one file per group of tables ---- */

/* catalog.c */
depot_err hub_pg_catalog_replace(hub_store *s, const struct hub_catalog_item *items, size_t n,
                                 long long at, long long *version);
depot_err hub_pg_catalog_list(hub_store *s, long long *version, hub_catalog_cb cb, void *arg);
depot_err hub_pg_catalog_find(hub_store *s, const char *barcode, struct hub_catalog_item *out);
depot_err hub_pg_catalog_due(hub_store *s, long long version, hub_name_cb cb, void *arg);
depot_err hub_pg_catalog_sent(hub_store *s, const char *dealer, long long version);

/* dealers.c */
depot_err hub_pg_profile_get(hub_store *s, const char *dealer, struct hub_dealer_profile *p);
depot_err hub_pg_profile_put(hub_store *s, const struct hub_dealer_profile *p);
depot_err hub_pg_sku_max_set(hub_store *s, const char *dealer, const char *sku, long long max);
depot_err hub_pg_sku_max_clear(hub_store *s, const char *dealer);
depot_err hub_pg_sku_max_list(hub_store *s, const char *dealer, hub_sku_max_cb cb, void *arg);
depot_err hub_pg_dealer_get(hub_store *s, const char *dealer, hub_dealer_cb cb, void *arg);
depot_err hub_pg_stock_qty(hub_store *s, const char *dealer, const char *sku, long long *qty);

/* payments.c */
depot_err hub_pg_payment_add(hub_store *s, const char *dealer, long long amount, const char *order,
                             const char *ref, const char *actor, long long at, long long *id);
depot_err hub_pg_exposure(hub_store *s, const char *dealer, struct hub_exposure *out);
/* The API's idempotency keys (payments.c); their table is migration 11. */
extern const char hub_pg_schema_idempotency[];
depot_err hub_pg_idem_get(hub_store *s, const char *actor, const char *key, hub_idem_cb cb,
                          void *arg);
depot_err hub_pg_idem_put(hub_store *s, const struct hub_idem_row *row, long long prune_before);

/* orders.c */
depot_err hub_pg_order_insert(hub_store *s, const struct hub_order *o,
                              const struct hub_order_line *lines, size_t n, const char *doc,
                              const char *sig);
depot_err hub_pg_order_get(hub_store *s, const char *id, struct hub_order *out);
depot_err hub_pg_order_lines(hub_store *s, const char *id, hub_line_cb cb, void *arg);
depot_err hub_pg_orders_list(hub_store *s, const struct hub_order_filter *f, hub_order_cb cb,
                             void *arg);
depot_err hub_pg_order_set_state(hub_store *s, const char *id, const char *status,
                                 const char *stage, const char *reason, long long at);
depot_err hub_pg_order_escalate(hub_store *s, const char *id);
depot_err hub_pg_orders_overdue(hub_store *s, long long since_before, hub_order_cb cb, void *arg);
depot_err hub_pg_decisions_due(hub_store *s, long long now, hub_order_cb cb, void *arg);
depot_err hub_pg_decision_sent(hub_store *s, const char *id, long long seq, long long next_send);
depot_err hub_pg_decision_confirm(hub_store *s, const char *dealer, const char *id,
                                  bool *confirmed);
depot_err hub_pg_decisions_wake(hub_store *s, const char *dealer);
depot_err hub_pg_ledger_owner(hub_store *s, const char *dealer, const char *ledger, char *other,
                              size_t other_len);

/* audit.c */
depot_err hub_pg_audit_add(hub_store *s, const struct hub_audit_entry *e);
depot_err hub_pg_audit_list(hub_store *s, const char *order, hub_audit_cb cb, void *arg);
depot_err hub_pg_forged_add(hub_store *s, const struct hub_forged_entry *e);
depot_err hub_pg_forged_list(hub_store *s, const char *dealer, hub_forged_cb cb, void *arg);

extern const struct hub_store_order_ops hub_pg_order_ops; /* orders.c */

/* History and alerts (alerts.c): the history effect of a new movements batch or stock value,
 * called in the applying transaction. */
extern const struct hub_store_alert_ops hub_pg_alert_ops;
depot_err hub_pg_history_apply(struct pg_store *q, const depot_msg *m);
depot_err hub_pg_history_point(struct pg_store *q, const char *dealer, const char *sku,
                               long long ts, long long qty);

/* The ranking's presence log and facts (ranking.c). */
extern const struct hub_store_ranking_ops hub_pg_ranking_ops;

/* Users and credentials (accounts.c: store/accounts.h); its schema is migration 4. */
extern const struct hub_store_account_ops hub_pg_account_ops;
extern const char hub_pg_schema_accounts[];

/* Policies and their reach (policies.c: store/policies.h); its schema is migration 5. */
extern const struct hub_store_policy_ops hub_pg_policy_ops;
extern const char hub_pg_schema_policies[];

/* Tasks and their completion (tasks.c: store/tasks.h); its schema is migration 6. */
extern const struct hub_store_task_ops hub_pg_task_ops;
extern const char hub_pg_schema_tasks[];
/* Training material and its viewing (training.c: store/training.h); its schema is migration 7. */
extern const struct hub_store_training_ops hub_pg_training_ops;
extern const char hub_pg_schema_training[];
/* E-contracts, their signatures and terms (contracts.c: store/contracts.h); its schema is
 * migration 8. */
extern const struct hub_store_contract_ops hub_pg_contract_ops;
extern const char hub_pg_schema_contracts[];
/* Rebate statements and their disputes (statements.c: store/statements.h); its schema is
 * migration 9. */
extern const struct hub_store_statement_ops hub_pg_statement_ops;
extern const char hub_pg_schema_statements[];
/* Each applied movement (alerts.c, the history): migration 10. */
extern const char hub_pg_schema_movements[];
/* Webhook subscriptions and their deliveries (webhooks.c: store/webhooks.h): migration 12. */
extern const struct hub_store_webhook_ops hub_pg_webhook_ops;
extern const char hub_pg_schema_webhooks[];
/* The movement chains as applied (ledger.c: store/ledger.h): migration 13. */
extern const struct hub_store_ledger_ops hub_pg_ledger_ops;
extern const char hub_pg_schema_ledger[];
/* Shipments and their item codes (shipments.c: store/shipments.h): migration 14. */
extern const struct hub_store_shipment_ops hub_pg_shipment_ops;
extern const char hub_pg_schema_shipments[];
extern const char hub_pg_schema_serials[];

#endif
