/*
 * The webhook domain of the PostgreSQL store (store/webhooks.h; the
 * PostgreSQL version of store/sqlite/webhooks.c). The tables are created by
 * migration 12 (store/pg/schema.c).
 *
 * Several hubs on one database: due and lease run in a write transaction,
 * which takes the store's write lock (HUB_PG_WRITE_LOCK), and a lease is
 * an UPDATE guarded by lease_until <= now, re-checked on the locked row;
 * so one row is leased by one hub at a time (store/webhooks.h, 3).
 */
#include <string.h>

#include "store/pg/pg.h"
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
    W_COUNT
};
_Static_assert(W_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

#define DELIVERY_COLS                                                                              \
    "d.seq, d.sub, d.event_id, d.type, d.body, d.created_at, d.attempts, d.next_at, d.status, "    \
    "d.last_error, d.delivered_at"

static const char *const sql[W_COUNT] = {
    [W_SUB_ADD] = "INSERT INTO webhook_subs(url, secret, types, created_at, disabled_at) "
                  "VALUES($1, $2, $3, $4, 0) RETURNING id",
    [W_SUBS] = "SELECT id, url, secret, types, created_at, disabled_at FROM webhook_subs "
               "WHERE $1::bigint = 0 OR id = $1 ORDER BY id",
    [W_SUB_DISABLE] = "UPDATE webhook_subs SET disabled_at = $2 WHERE id = $1 AND disabled_at = 0",
    [W_SUB_THERE] = "SELECT id FROM webhook_subs WHERE id = $1",
    [W_ENQUEUE] = "INSERT INTO webhook_deliveries(sub, event_id, type, body, created_at, attempts, "
                  "next_at, lease_until, status, last_error, delivered_at) "
                  "SELECT id, $2, $1, $3, $4, 0, $4, 0, 'pending', '', 0 FROM webhook_subs "
                  "WHERE disabled_at = 0 AND (strpos(types, ',' || $1::text || ',') > 0 "
                  "OR strpos(types, ',*,') > 0) ORDER BY id",
    [W_DUE] = "SELECT " DELIVERY_COLS " FROM webhook_subs s CROSS JOIN LATERAL "
              "(SELECT * FROM webhook_deliveries e WHERE e.sub = s.id AND e.status = 'pending' "
              "ORDER BY e.seq LIMIT 1) d "
              "WHERE s.disabled_at = 0 AND d.next_at <= $1 AND d.lease_until <= $1 "
              "ORDER BY d.seq LIMIT $2",
    [W_LEASE] = "UPDATE webhook_deliveries SET lease_until = $3 "
                "WHERE seq = $1 AND status = 'pending' AND lease_until <= $2",
    [W_FINISH] = "UPDATE webhook_deliveries SET status = $2, attempts = $3, next_at = $4, "
                 "last_error = $5, delivered_at = $6, lease_until = 0 WHERE seq = $1",
    [W_DELIVERIES] = "SELECT " DELIVERY_COLS " FROM webhook_deliveries d WHERE d.sub = $1 "
                     "AND ($2::text IS NULL OR d.status = $2) AND d.seq > $3 "
                     "ORDER BY d.seq LIMIT $4",
    [W_RETRY] = "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_at = $3, "
                "lease_until = 0 WHERE seq = $2 AND sub = $1 AND status = 'dead'",
    [W_DELIVERY_THERE] = "SELECT seq FROM webhook_deliveries WHERE seq = $2 AND sub = $1",
    [W_CURSOR] = "SELECT value FROM meta WHERE key = 'webhooks_stock_cursor'",
    [W_CURSOR_SET] = "INSERT INTO meta(key, value) VALUES('webhooks_stock_cursor', $1) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [W_STOCK_CHANGED] = "SELECT dealer, sku, node, qty, updated_at, received_at FROM stock "
                        "WHERE received_at > $1 AND received_at <= $2 ORDER BY dealer, sku",
    [W_PRUNE] = "DELETE FROM webhook_deliveries WHERE status = 'delivered' AND delivered_at < $1",
};

static const struct hub_pg_stmts stmts = {PG_T_WEBHOOKS, W_COUNT, sql};

/* Migration 12. */
const char hub_pg_schema_webhooks[] =
    "CREATE TABLE webhook_subs(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " url " PG_TEXT " NOT NULL, secret " PG_TEXT " NOT NULL, types " PG_TEXT " NOT NULL, "
    " created_at BIGINT NOT NULL, disabled_at BIGINT NOT NULL);"
    "CREATE TABLE webhook_deliveries(seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " sub BIGINT NOT NULL, event_id " PG_TEXT " NOT NULL, type " PG_TEXT " NOT NULL, "
    " body " PG_TEXT " NOT NULL, created_at BIGINT NOT NULL, attempts BIGINT NOT NULL, "
    " next_at BIGINT NOT NULL, lease_until BIGINT NOT NULL, status " PG_TEXT " NOT NULL, "
    " last_error " PG_TEXT " NOT NULL, delivered_at BIGINT NOT NULL);"
    "CREATE INDEX webhook_deliveries_by_sub ON webhook_deliveries(sub, status, seq);";

static depot_err w_sub_add(hub_store *s, const struct hub_webhook_sub *in, long long *id)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, in->url);
    pgp_text(&p, in->secret);
    pgp_text(&p, in->types);
    pgp_int(&p, in->created_at);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, W_SUB_ADD, &p, "webhook subscription add", &res);
    if (err != DEPOT_OK)
        return err == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_DB : err;
    *id = hub_pg_int(res, 0, 0);
    PQclear(res);
    return DEPOT_OK;
}

struct walk {
    hub_webhook_sub_cb sub;
    hub_webhook_delivery_cb delivery;
    void *arg;
};

static int sub_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_webhook_sub row = {
        .id = hub_pg_int(res, r, 0),
        .url = hub_pg_col(res, r, 1),
        .secret = hub_pg_col(res, r, 2),
        .types = hub_pg_col(res, r, 3),
        .created_at = hub_pg_int(res, r, 4),
        .disabled_at = hub_pg_int(res, r, 5),
    };
    return w->sub(w->arg, &row);
}

static depot_err w_subs(hub_store *s, long long id, hub_webhook_sub_cb cb, void *arg)
{
    struct walk w = {.sub = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, id);
    return hub_pg_walk(hub_pg_impl(s), &stmts, W_SUBS, &p, "webhook subscriptions", sub_row, &w);
}

/* Whether statement id ($1, $2 bound to a, b) finds a row: DEPOT_OK or DEPOT_ERR_NOTFOUND. */
static depot_err there(hub_store *s, enum webhook_stmt id, int n, long long a, long long b)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, a);
    if (n > 1)
        pgp_int(&p, b);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, id, &p, "webhook row", &res);
    if (err == DEPOT_OK)
        PQclear(res);
    return err;
}

static depot_err w_sub_disable(hub_store *s, long long id, long long at, bool *changed)
{
    struct pg_params p;
    long long n = 0;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, id);
    pgp_int(&p, at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, W_SUB_DISABLE, &p, "webhook disable", &n);
    if (err != DEPOT_OK)
        return err;
    *changed = n > 0;
    return *changed ? DEPOT_OK : there(s, W_SUB_THERE, 1, id, 0);
}

static depot_err w_enqueue(hub_store *s, const char *type, const char *event_id, const char *body,
                           long long at, long long *n)
{
    struct pg_params p;
    long long changed = 0;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, type);
    pgp_text(&p, event_id);
    pgp_text(&p, body);
    pgp_int(&p, at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, W_ENQUEUE, &p, "webhook enqueue", &changed);
    if (err == DEPOT_OK && n)
        *n = changed;
    return err;
}

static int delivery_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_webhook_delivery d = {
        .seq = hub_pg_int(res, r, 0),
        .sub = hub_pg_int(res, r, 1),
        .event_id = hub_pg_col(res, r, 2),
        .type = hub_pg_col(res, r, 3),
        .body = hub_pg_col(res, r, 4),
        .created_at = hub_pg_int(res, r, 5),
        .attempts = hub_pg_int(res, r, 6),
        .next_at = hub_pg_int(res, r, 7),
        .status = hub_pg_col(res, r, 8),
        .last_error = hub_pg_col(res, r, 9),
        .delivered_at = hub_pg_int(res, r, 10),
    };
    return w->delivery(w->arg, &d);
}

static depot_err w_due(hub_store *s, long long now, long long limit, hub_webhook_delivery_cb cb,
                       void *arg)
{
    struct walk w = {.delivery = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, now);
    pgp_int(&p, limit);
    return hub_pg_walk(hub_pg_impl(s), &stmts, W_DUE, &p, "webhook due", delivery_row, &w);
}

static depot_err w_lease(hub_store *s, long long seq, long long now, long long until, bool *leased)
{
    struct pg_params p;
    long long n = 0;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, seq);
    pgp_int(&p, now);
    pgp_int(&p, until);
    err = hub_pg_run(hub_pg_impl(s), &stmts, W_LEASE, &p, "webhook lease", &n);
    *leased = err == DEPOT_OK && n > 0;
    return err;
}

static depot_err w_finish(hub_store *s, long long seq, const char *status, long long attempts,
                          long long next_at, const char *last_error, long long delivered_at)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, seq);
    pgp_text(&p, status);
    pgp_int(&p, attempts);
    pgp_int(&p, next_at);
    pgp_text(&p, last_error ? last_error : "");
    pgp_int(&p, delivered_at);
    return hub_pg_run(hub_pg_impl(s), &stmts, W_FINISH, &p, "webhook finish", NULL);
}

static depot_err w_deliveries(hub_store *s, long long sub, const char *status, long long after,
                              long long limit, hub_webhook_delivery_cb cb, void *arg)
{
    struct walk w = {.delivery = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, sub);
    pgp_text(&p, status);
    pgp_int(&p, after);
    pgp_int(&p, limit);
    return hub_pg_walk(hub_pg_impl(s), &stmts, W_DELIVERIES, &p, "webhook deliveries", delivery_row,
                       &w);
}

static depot_err w_retry(hub_store *s, long long sub, long long seq, long long now, bool *changed)
{
    struct pg_params p;
    long long n = 0;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, sub);
    pgp_int(&p, seq);
    pgp_int(&p, now);
    err = hub_pg_run(hub_pg_impl(s), &stmts, W_RETRY, &p, "webhook retry", &n);
    if (err != DEPOT_OK)
        return err;
    *changed = n > 0;
    return *changed ? DEPOT_OK : there(s, W_DELIVERY_THERE, 2, sub, seq);
}

static depot_err w_cursor(hub_store *s, long long *value)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, W_CURSOR, &p, "stock cursor", &res);
    *value = 0;
    if (err == DEPOT_ERR_NOTFOUND)
        return DEPOT_OK;
    if (err != DEPOT_OK)
        return err;
    *value = hub_pg_int(res, 0, 0);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err w_cursor_set(hub_store *s, long long value)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, value);
    return hub_pg_run(hub_pg_impl(s), &stmts, W_CURSOR_SET, &p, "stock cursor", NULL);
}

struct stock_walk {
    hub_webhook_stock_cb cb;
    void *arg;
};

static int stock_row(void *arg, const PGresult *res, int r)
{
    struct stock_walk *w = arg;
    struct hub_webhook_stock row = {.dealer = hub_pg_col(res, r, 0),
                                    .sku = hub_pg_col(res, r, 1),
                                    .node = hub_pg_col(res, r, 2),
                                    .qty = hub_pg_int(res, r, 3),
                                    .updated_at = hub_pg_int(res, r, 4),
                                    .received_at = hub_pg_int(res, r, 5)};
    return w->cb(w->arg, &row);
}

static depot_err w_stock_changed(hub_store *s, long long from, long long to,
                                 hub_webhook_stock_cb cb, void *arg)
{
    struct stock_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, from);
    pgp_int(&p, to);
    return hub_pg_walk(hub_pg_impl(s), &stmts, W_STOCK_CHANGED, &p, "stock changed", stock_row, &w);
}

static depot_err w_prune(hub_store *s, long long delivered_before, long long *n)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, delivered_before);
    return hub_pg_run(hub_pg_impl(s), &stmts, W_PRUNE, &p, "prune webhook deliveries", n);
}

const struct hub_store_webhook_ops hub_pg_webhook_ops = {
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
