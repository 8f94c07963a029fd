/*
 * The audit trail and the forged orders in the SQLite store, both append-only
 * (triggers abort any UPDATE or DELETE, so not even a bug in the hub can
 * rewrite history).
 *
 *   audit           (seq PK; at, order_id, dealer, actor, action, stage, reason)
 *   forged_orders   (seq PK; at, dealer, ledger, msg_id, order_id, reason, detail)
 *
 * The audit trail of an order lists its own dealer's lines only.
 */
#include <stdio.h>
#include <string.h>

#include "depot/log.h"
#include "store/sqlite/sqlite.h"

enum audit_stmt { A_AUDIT_ADD, A_AUDIT_LIST, A_FORGED_ADD, A_FORGED_LIST, A_COUNT };
_Static_assert(A_COUNT <= SQ_AUDIT_STMTS, "raise SQ_AUDIT_STMTS");

static const char *const sql[A_COUNT] = {
    [A_AUDIT_ADD] = "INSERT INTO audit(at, order_id, dealer, actor, action, stage, reason) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [A_AUDIT_LIST] =
        "SELECT seq, at, order_id, dealer, actor, action, stage, reason FROM audit "
        "WHERE order_id = ?1 AND dealer = COALESCE((SELECT dealer FROM orders WHERE id = ?1), "
        "dealer) ORDER BY seq",
    [A_FORGED_ADD] = "INSERT INTO forged_orders(at, dealer, ledger, msg_id, order_id, reason, "
                     "detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [A_FORGED_LIST] =
        "SELECT at, dealer, ledger, msg_id, order_id, reason, detail FROM "
        "forged_orders WHERE (?1 IS NULL OR dealer = ?1) ORDER BY seq DESC LIMIT 1000",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    " at INTEGER NOT NULL, order_id TEXT NOT NULL, dealer TEXT NOT NULL, actor TEXT NOT NULL, "
    " action TEXT NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS audit_by_order ON audit(order_id, seq);" HUB_SQLITE_APPEND_ONLY(
        "audit") "CREATE TABLE IF NOT EXISTS forged_orders(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                 " at INTEGER NOT NULL, dealer TEXT NOT NULL, ledger TEXT NOT NULL, "
                 " msg_id INTEGER NOT NULL, order_id TEXT NOT NULL, reason TEXT NOT NULL, "
                 " detail TEXT NOT NULL);" HUB_SQLITE_APPEND_ONLY("forged_orders");

static sqlite3_stmt *prep(struct sqlite_store *q, enum audit_stmt id)
{
    return hub_sqlite_ready(q->audit_st[id]);
}

depot_err hub_sqlite_audit_add(hub_store *s, const struct hub_audit_entry *e)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_AUDIT_ADD);
    sqlite3_bind_int64(st, 1, e->at);
    hub_sqlite_bind_text(st, 2, e->order ? e->order : "");
    hub_sqlite_bind_text(st, 3, e->dealer ? e->dealer : "");
    hub_sqlite_bind_text(st, 4, e->actor ? e->actor : "");
    hub_sqlite_bind_text(st, 5, e->action);
    hub_sqlite_bind_text(st, 6, e->stage ? e->stage : "");
    hub_sqlite_bind_text(st, 7, e->reason ? e->reason : "");
    return hub_sqlite_run(q, st, "audit");
}

depot_err hub_sqlite_audit_list(hub_store *s, const char *order, hub_audit_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_AUDIT_LIST);
    struct hub_audit_entry e;
    int rc;
    hub_sqlite_bind_text(st, 1, order);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        e.seq = sqlite3_column_int64(st, 0);
        e.at = sqlite3_column_int64(st, 1);
        e.order = hub_sqlite_col(st, 2);
        e.dealer = hub_sqlite_col(st, 3);
        e.actor = hub_sqlite_col(st, 4);
        e.action = hub_sqlite_col(st, 5);
        e.stage = hub_sqlite_col(st, 6);
        e.reason = hub_sqlite_col(st, 7);
        if (cb(arg, &e))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "audit list");
}

depot_err hub_sqlite_forged_add(hub_store *s, const struct hub_forged_entry *e)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_FORGED_ADD);
    sqlite3_bind_int64(st, 1, e->at);
    hub_sqlite_bind_text(st, 2, e->dealer);
    hub_sqlite_bind_text(st, 3, e->ledger);
    sqlite3_bind_int64(st, 4, (long long)e->msg_id);
    hub_sqlite_bind_text(st, 5, e->order ? e->order : "");
    hub_sqlite_bind_text(st, 6, e->reason);
    hub_sqlite_bind_text(st, 7, e->detail ? e->detail : "");
    return hub_sqlite_run(q, st, "forged order");
}

depot_err hub_sqlite_forged_list(hub_store *s, const char *dealer, hub_forged_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_FORGED_LIST);
    struct hub_forged_entry e;
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        e.at = sqlite3_column_int64(st, 0);
        e.dealer = hub_sqlite_col(st, 1);
        e.ledger = hub_sqlite_col(st, 2);
        e.msg_id = (uint64_t)sqlite3_column_int64(st, 3);
        e.order = hub_sqlite_col(st, 4);
        e.reason = hub_sqlite_col(st, 5);
        e.detail = hub_sqlite_col(st, 6);
        if (cb(arg, &e))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "forged list");
}

depot_err hub_sqlite_audit_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, schema, "audit schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, A_COUNT, q->audit_st);
}

void hub_sqlite_audit_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->audit_st, A_COUNT);
}
