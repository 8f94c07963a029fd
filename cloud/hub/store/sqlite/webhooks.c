/*
 * Webhook subscriptions and their deliveries in SQLite (store/webhooks.h):
 * migration 12.
 *
 * The due query keeps invariant 2 of store/webhooks.h: a row is due only if
 * no pending row of its subscription has a smaller seq. It walks the
 * subscriptions and seeks each one's oldest pending row in the index
 * (sub, status, seq), so a backlog of any depth costs one seek per
 * subscription, not a scan of every pending row. A lease is one
 * UPDATE guarded by lease_until <= now, so of two workers in their write
 * transactions (SQLite serialises them) only the first leases a row.
 */
#include <string.h>

#include "store/sqlite/sqlite.h"
#include "store/webhooks.h"

enum webhook_stmt {
    W_SUB_ADD,
    W_SUBS,
    W_SUB_DISABLE,
    W_SUB_THERE,
    W_ENQUEUE,
    W_DUE,
    W_LEASE,
    W_FINISH,
    W_DELIVERIES,
    W_RETRY,
    W_DELIVERY_THERE,
    W_CURSOR,
    W_CURSOR_SET,
    W_STOCK_CHANGED,
    W_PRUNE,
    W__COUNT
};
_Static_assert(W__COUNT <= SQ_WEBHOOK_STMTS, "raise SQ_WEBHOOK_STMTS");

#define DELIVERY_COLS                                                                              \
    "d.seq, d.sub, d.event_id, d.type, d.body, d.created_at, d.attempts, d.next_at, d.status, "    \
    "d.last_error, d.delivered_at"

static const char *const sql[W__COUNT] = {
    [W_SUB_ADD] = "INSERT INTO webhook_subs(url, secret, types, created_at, disabled_at) "
                  "VALUES(?1, ?2, ?3, ?4, 0)",
    [W_SUBS] = "SELECT id, url, secret, types, created_at, disabled_at FROM webhook_subs "
               "WHERE ?1 = 0 OR id = ?1 ORDER BY id",
    [W_SUB_DISABLE] = "UPDATE webhook_subs SET disabled_at = ?2 WHERE id = ?1 AND disabled_at = 0",
    [W_SUB_THERE] = "SELECT id FROM webhook_subs WHERE id = ?1",
    [W_ENQUEUE] = "INSERT INTO webhook_deliveries(sub, event_id, type, body, created_at, attempts, "
                  "next_at, lease_until, status, last_error, delivered_at) "
                  "SELECT id, ?2, ?1, ?3, ?4, 0, ?4, 0, 'pending', '', 0 FROM webhook_subs "
                  "WHERE disabled_at = 0 AND (instr(types, ',' || ?1 || ',') > 0 "
                  "OR instr(types, ',*,') > 0) ORDER BY id",
    [W_DUE] = "SELECT " DELIVERY_COLS " FROM webhook_subs s JOIN webhook_deliveries d "
              "ON d.seq = (SELECT e.seq FROM webhook_deliveries e WHERE e.sub = s.id "
              "AND e.status = 'pending' ORDER BY e.seq LIMIT 1) "
              "WHERE s.disabled_at = 0 AND d.next_at <= ?1 AND d.lease_until <= ?1 "
              "ORDER BY d.seq LIMIT ?2",
    [W_LEASE] = "UPDATE webhook_deliveries SET lease_until = ?3 "
                "WHERE seq = ?1 AND status = 'pending' AND lease_until <= ?2",
    [W_FINISH] = "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, next_at = ?4, "
                 "last_error = ?5, delivered_at = ?6, lease_until = 0 WHERE seq = ?1",
    [W_DELIVERIES] = "SELECT " DELIVERY_COLS " FROM webhook_deliveries d WHERE d.sub = ?1 "
                     "AND (?2 IS NULL OR d.status = ?2) AND d.seq > ?3 ORDER BY d.seq LIMIT ?4",
    [W_RETRY] = "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_at = ?3, "
                "lease_until = 0 WHERE seq = ?2 AND sub = ?1 AND status = 'dead'",
    [W_DELIVERY_THERE] = "SELECT seq FROM webhook_deliveries WHERE seq = ?2 AND sub = ?1",
    [W_CURSOR] = "SELECT value FROM meta WHERE key = 'webhooks_stock_cursor'",
    [W_CURSOR_SET] = "INSERT INTO meta(key, value) VALUES('webhooks_stock_cursor', ?1) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [W_STOCK_CHANGED] = "SELECT dealer, sku, node, qty, updated_at, received_at FROM stock "
                        "WHERE received_at > ?1 AND received_at <= ?2 ORDER BY dealer, sku",
    [W_PRUNE] = "DELETE FROM webhook_deliveries WHERE status = 'delivered' AND delivered_at < ?1",
};

/* Migration 12 and the setup of every file since (idempotent). */
const char hub_sqlite_webhooks_schema[] =
    "CREATE TABLE IF NOT EXISTS webhook_subs(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    " url TEXT NOT NULL, secret TEXT NOT NULL, types TEXT NOT NULL, "
    " created_at INTEGER NOT NULL, disabled_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS webhook_deliveries(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    " sub INTEGER NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, "
    " created_at INTEGER NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, "
    " lease_until INTEGER NOT NULL, status TEXT NOT NULL, last_error TEXT NOT NULL, "
    " delivered_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_by_sub "
    " ON webhook_deliveries(sub, status, seq);";

static sqlite3_stmt *prep(struct sqlite_store *q, enum webhook_stmt id)
{
    return hub_sqlite_ready(q->webhook_st[id]);
}

static depot_err w_sub_add(hub_store *s, const struct hub_webhook_sub *in, long long *id)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_SUB_ADD);
    depot_err err;
    hub_sqlite_bind_text(st, 1, in->url);
    hub_sqlite_bind_text(st, 2, in->secret);
    hub_sqlite_bind_text(st, 3, in->types);
    sqlite3_bind_int64(st, 4, in->created_at);
    err = hub_sqlite_run(q, st, "webhook subscription add");
    if (err == DEPOT_OK)
        *id = sqlite3_last_insert_rowid(q->db);
    return err;
}

static depot_err w_subs(hub_store *s, long long id, hub_webhook_sub_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_SUBS);
    struct hub_webhook_sub row;
    int rc;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row.id = sqlite3_column_int64(st, 0);
        row.url = hub_sqlite_col(st, 1);
        row.secret = hub_sqlite_col(st, 2);
        row.types = hub_sqlite_col(st, 3);
        row.created_at = sqlite3_column_int64(st, 4);
        row.disabled_at = sqlite3_column_int64(st, 5);
        if (cb(arg, &row))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "webhook subscriptions");
}

/* Whether statement id (?1, ?2 bound to a, b) finds a row: DEPOT_OK or DEPOT_ERR_NOTFOUND. */
static depot_err there(struct sqlite_store *q, enum webhook_stmt id, long long a, long long b)
{
    sqlite3_stmt *st = prep(q, id);
    depot_err err;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    err = hub_sqlite_one_row(q, st, "webhook row");
    if (err == DEPOT_OK)
        sqlite3_reset(st);
    return err;
}

static depot_err w_sub_disable(hub_store *s, long long id, long long at, bool *changed)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_SUB_DISABLE);
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    err = hub_sqlite_run(q, st, "webhook subscription disable");
    if (err != DEPOT_OK)
        return err;
    *changed = sqlite3_changes(q->db) > 0;
    return *changed ? DEPOT_OK : there(q, W_SUB_THERE, id, 0);
}

static depot_err w_enqueue(hub_store *s, const char *type, const char *event_id, const char *body,
                           long long at, long long *n)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_ENQUEUE);
    depot_err err;
    hub_sqlite_bind_text(st, 1, type);
    hub_sqlite_bind_text(st, 2, event_id);
    hub_sqlite_bind_text(st, 3, body);
    sqlite3_bind_int64(st, 4, at);
    err = hub_sqlite_run(q, st, "webhook enqueue");
    if (err == DEPOT_OK && n)
        *n = sqlite3_changes(q->db);
    return err;
}

static void read_delivery(sqlite3_stmt *st, struct hub_webhook_delivery *d)
{
    d->seq = sqlite3_column_int64(st, 0);
    d->sub = sqlite3_column_int64(st, 1);
    d->event_id = hub_sqlite_col(st, 2);
    d->type = hub_sqlite_col(st, 3);
    d->body = hub_sqlite_col(st, 4);
    d->created_at = sqlite3_column_int64(st, 5);
    d->attempts = sqlite3_column_int64(st, 6);
    d->next_at = sqlite3_column_int64(st, 7);
    d->status = hub_sqlite_col(st, 8);
    d->last_error = hub_sqlite_col(st, 9);
    d->delivered_at = sqlite3_column_int64(st, 10);
}

static depot_err walk(struct sqlite_store *q, sqlite3_stmt *st, hub_webhook_delivery_cb cb,
                      void *arg)
{
    struct hub_webhook_delivery d;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_delivery(st, &d);
        if (cb(arg, &d))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "webhook deliveries");
}

static depot_err w_due(hub_store *s, long long now, long long limit, hub_webhook_delivery_cb cb,
                       void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_DUE);
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, limit);
    return walk(q, st, cb, arg);
}

static depot_err w_lease(hub_store *s, long long seq, long long now, long long until, bool *leased)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_LEASE);
    depot_err err;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, until);
    err = hub_sqlite_run(q, st, "webhook lease");
    *leased = err == DEPOT_OK && sqlite3_changes(q->db) > 0;
    return err;
}

static depot_err w_finish(hub_store *s, long long seq, const char *status, long long attempts,
                          long long next_at, const char *last_error, long long delivered_at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_FINISH);
    sqlite3_bind_int64(st, 1, seq);
    hub_sqlite_bind_text(st, 2, status);
    sqlite3_bind_int64(st, 3, attempts);
    sqlite3_bind_int64(st, 4, next_at);
    hub_sqlite_bind_text(st, 5, last_error ? last_error : "");
    sqlite3_bind_int64(st, 6, delivered_at);
    return hub_sqlite_run(q, st, "webhook finish");
}

static depot_err w_deliveries(hub_store *s, long long sub, const char *status, long long after,
                              long long limit, hub_webhook_delivery_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_DELIVERIES);
    sqlite3_bind_int64(st, 1, sub);
    hub_sqlite_bind_text(st, 2, status);
    sqlite3_bind_int64(st, 3, after);
    sqlite3_bind_int64(st, 4, limit);
    return walk(q, st, cb, arg);
}

static depot_err w_retry(hub_store *s, long long sub, long long seq, long long now, bool *changed)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_RETRY);
    depot_err err;
    sqlite3_bind_int64(st, 1, sub);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, now);
    err = hub_sqlite_run(q, st, "webhook retry");
    if (err != DEPOT_OK)
        return err;
    *changed = sqlite3_changes(q->db) > 0;
    return *changed ? DEPOT_OK : there(q, W_DELIVERY_THERE, sub, seq);
}

depot_err hub_sqlite_webhooks_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, hub_sqlite_webhooks_schema, "webhooks schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, W__COUNT, q->webhook_st);
}

void hub_sqlite_webhooks_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->webhook_st, W__COUNT);
}

static depot_err w_cursor(hub_store *s, long long *value)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_CURSOR);
    int rc = sqlite3_step(st);
    *value = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : hub_sqlite_fail(q, "stock cursor");
}

static depot_err w_cursor_set(hub_store *s, long long value)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_CURSOR_SET);
    sqlite3_bind_int64(st, 1, value);
    return hub_sqlite_run(q, st, "stock cursor");
}

static depot_err w_stock_changed(hub_store *s, long long from, long long to,
                                 hub_webhook_stock_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_STOCK_CHANGED);
    struct hub_webhook_stock row;
    int rc;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row.dealer = hub_sqlite_col(st, 0);
        row.sku = hub_sqlite_col(st, 1);
        row.node = hub_sqlite_col(st, 2);
        row.qty = sqlite3_column_int64(st, 3);
        row.updated_at = sqlite3_column_int64(st, 4);
        row.received_at = sqlite3_column_int64(st, 5);
        if (cb(arg, &row))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "stock changed");
}

static depot_err w_prune(hub_store *s, long long delivered_before, long long *n)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, W_PRUNE);
    depot_err err;
    sqlite3_bind_int64(st, 1, delivered_before);
    err = hub_sqlite_run(q, st, "prune webhook deliveries");
    *n = err == DEPOT_OK ? sqlite3_changes(q->db) : 0;
    return err;
}

const struct hub_store_webhook_ops hub_sqlite_webhook_ops = {
    .sub_add = w_sub_add,
    .subs = w_subs,
    .sub_disable = w_sub_disable,
    .enqueue = w_enqueue,
    .due = w_due,
    .lease = w_lease,
    .finish = w_finish,
    .deliveries = w_deliveries,
    .retry = w_retry,
    .cursor = w_cursor,
    .cursor_set = w_cursor_set,
    .stock_changed = w_stock_changed,
    .prune = w_prune,
};
