/*
 * The contract domain of the PostgreSQL store (store/contracts.h; the
 * PostgreSQL version of store/sqlite/contracts.c). The table is created by
 * migration 8 (store/pg/schema.c). Differences of form only: a contract's id
 * comes from an identity column (ids may have gaps).
 */
#include <string.h>

#include "depot/alloc.h"
#include "store/contracts.h"
#include "store/pg/pg.h"

enum contract_stmt {
    C_ADD,
    C_GET,
    C_LIST,
    C_LIST_DEALER,
    C_SIGN,
    C_DUE,
    C_APPLIED,
    C_DEALER,
    C_COUNT
};
_Static_assert(C_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

#define CONTRACT_COLS                                                                              \
    "id, dealer, title, file_sha, file_type, file_size, start_day, end_day, credit_limit, tier, "  \
    "created_by, created_at, signed_at, sign_doc, sign_sig, sign_cert, counter_sig, "              \
    "counter_cert, applied_at"

static const char *const sql[C_COUNT] = {
    [C_ADD] = "INSERT INTO contracts(dealer, title, file_sha, file_type, file_size, start_day, "
              "end_day, credit_limit, tier, created_by, created_at, signed_at, sign_doc, "
              "sign_sig, sign_cert, counter_sig, counter_cert, applied_at) "
              "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, '', '', '', '', '', 0) "
              "RETURNING id",
    [C_GET] = "SELECT " CONTRACT_COLS " FROM contracts WHERE id = $1",
    [C_LIST] = "SELECT " CONTRACT_COLS " FROM contracts ORDER BY id DESC",
    [C_LIST_DEALER] = "SELECT " CONTRACT_COLS " FROM contracts WHERE dealer = $1 "
                      "ORDER BY id DESC",
    [C_SIGN] = "UPDATE contracts SET signed_at = $3, sign_doc = $4, sign_sig = $5, "
               "sign_cert = $6, counter_sig = $7, counter_cert = $8 "
               "WHERE id = $1 AND dealer = $2 AND signed_at = 0",
    [C_DUE] = "SELECT " CONTRACT_COLS " FROM contracts WHERE signed_at <> 0 AND applied_at = 0 "
              "AND start_day <= $1 ORDER BY id",
    [C_APPLIED] = "UPDATE contracts SET applied_at = $2 WHERE id = $1 AND applied_at = 0",
    [C_DEALER] = "SELECT dealer FROM contracts WHERE id = $1",
};

static const struct hub_pg_stmts stmts = {PG_T_CONTRACTS, C_COUNT, sql};

/* Migration 8. */
const char hub_pg_schema_contracts[] =
    "CREATE TABLE contracts(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " dealer " PG_TEXT " NOT NULL, title " PG_TEXT " NOT NULL, file_sha " PG_TEXT " NOT NULL, "
    " file_type " PG_TEXT " NOT NULL, file_size BIGINT NOT NULL, "
    " start_day " PG_TEXT " NOT NULL, end_day " PG_TEXT " NOT NULL, "
    " credit_limit BIGINT NOT NULL, tier " PG_TEXT " NOT NULL, created_by " PG_TEXT " NOT NULL, "
    " created_at BIGINT NOT NULL, signed_at BIGINT NOT NULL, sign_doc " PG_TEXT " NOT NULL, "
    " sign_sig " PG_TEXT " NOT NULL, sign_cert " PG_TEXT " NOT NULL, "
    " counter_sig " PG_TEXT " NOT NULL, counter_cert " PG_TEXT " NOT NULL, "
    " applied_at BIGINT NOT NULL);"
    "CREATE INDEX contracts_by_dealer ON contracts(dealer, id);";

static void read_contract(const PGresult *res, int r, struct hub_contract *c)
{
    memset(c, 0, sizeof(*c));
    c->id = hub_pg_int(res, r, 0);
    hub_pg_col_copy(res, r, 1, c->dealer, sizeof(c->dealer));
    hub_pg_col_copy(res, r, 2, c->title, sizeof(c->title));
    hub_pg_col_copy(res, r, 3, c->file_sha, sizeof(c->file_sha));
    hub_pg_col_copy(res, r, 4, c->file_type, sizeof(c->file_type));
    c->file_size = hub_pg_int(res, r, 5);
    hub_pg_col_copy(res, r, 6, c->start_day, sizeof(c->start_day));
    hub_pg_col_copy(res, r, 7, c->end_day, sizeof(c->end_day));
    c->credit_limit = hub_pg_int(res, r, 8);
    hub_pg_col_copy(res, r, 9, c->tier, sizeof(c->tier));
    hub_pg_col_copy(res, r, 10, c->created_by, sizeof(c->created_by));
    c->created_at = hub_pg_int(res, r, 11);
    c->signed_at = hub_pg_int(res, r, 12);
    hub_pg_col_copy(res, r, 13, c->sign_doc, sizeof(c->sign_doc));
    hub_pg_col_copy(res, r, 14, c->sign_sig, sizeof(c->sign_sig));
    hub_pg_col_copy(res, r, 15, c->sign_cert, sizeof(c->sign_cert));
    hub_pg_col_copy(res, r, 16, c->counter_sig, sizeof(c->counter_sig));
    hub_pg_col_copy(res, r, 17, c->counter_cert, sizeof(c->counter_cert));
    c->applied_at = hub_pg_int(res, r, 18);
}

static depot_err c_add(hub_store *s, struct hub_contract *c)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, c->dealer);
    pgp_text(&p, c->title);
    pgp_text(&p, c->file_sha);
    pgp_text(&p, c->file_type);
    pgp_int(&p, c->file_size);
    pgp_text(&p, c->start_day);
    pgp_text(&p, c->end_day);
    pgp_int(&p, c->credit_limit);
    pgp_text(&p, c->tier);
    pgp_text(&p, c->created_by);
    pgp_int(&p, c->created_at);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, C_ADD, &p, "contract add", &res);
    if (err != DEPOT_OK)
        return err == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_DB : err; /* RETURNING gives one row */
    c->id = hub_pg_int(res, 0, 0);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err c_get(hub_store *s, long long id, struct hub_contract *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, id);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, C_GET, &p, "contract", &res);
    if (err != DEPOT_OK)
        return err;
    read_contract(res, 0, out);
    PQclear(res);
    return DEPOT_OK;
}

struct contract_walk {
    hub_contract_cb cb;
    void *arg;
    struct hub_contract *c; /* one buffer for every row (a contract is some 10 KB) */
};

static int contract_row(void *arg, const PGresult *res, int r)
{
    struct contract_walk *w = arg;
    read_contract(res, r, w->c);
    return w->cb(w->arg, w->c);
}

static depot_err walk(hub_store *s, int idx, const struct pg_params *p, hub_contract_cb cb,
                      void *arg, const char *what)
{
    struct contract_walk w = {cb, arg, depot_malloc(sizeof(*w.c))};
    depot_err err;
    if (!w.c)
        return DEPOT_ERR_NOMEM;
    err = hub_pg_walk(hub_pg_impl(s), &stmts, idx, p, what, contract_row, &w);
    depot_free(w.c);
    return err;
}

static depot_err c_list(hub_store *s, const char *dealer, hub_contract_cb cb, void *arg)
{
    struct pg_params p;
    pgp_reset(&p);
    if (!dealer)
        return walk(s, C_LIST, &p, cb, arg, "contracts");
    pgp_text(&p, dealer);
    return walk(s, C_LIST_DEALER, &p, cb, arg, "dealer contracts");
}

/* After an UPDATE of contract id that changed nothing: DEPOT_OK if the contract is there (and
 * dealer's, unless dealer is NULL), else DEPOT_ERR_NOTFOUND. */
static depot_err contract_there(hub_store *s, long long id, const char *dealer)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, id);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, C_DEALER, &p, "contract dealer", &res);
    if (err != DEPOT_OK)
        return err;
    if (dealer && strcmp(hub_pg_col(res, 0, 0), dealer) != 0)
        err = DEPOT_ERR_NOTFOUND;
    PQclear(res);
    return err;
}

static depot_err c_sign(hub_store *s, long long id, const char *dealer, long long at,
                        const char *doc, const char *sig, const char *cert, const char *counter_sig,
                        const char *counter_cert, bool *changed)
{
    struct pg_params p;
    long long n = 0;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, id);
    pgp_text(&p, dealer);
    pgp_int(&p, at);
    pgp_text(&p, doc);
    pgp_text(&p, sig);
    pgp_text(&p, cert);
    pgp_text(&p, counter_sig);
    pgp_text(&p, counter_cert);
    err = hub_pg_run(hub_pg_impl(s), &stmts, C_SIGN, &p, "contract sign", &n);
    if (changed)
        *changed = err == DEPOT_OK && n > 0;
    return err != DEPOT_OK || n > 0 ? err : contract_there(s, id, dealer);
}

static depot_err c_due(hub_store *s, const char *today, hub_contract_cb cb, void *arg)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, today);
    return walk(s, C_DUE, &p, cb, arg, "contracts due");
}

static depot_err c_applied(hub_store *s, long long id, long long at)
{
    struct pg_params p;
    long long n = 0;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, id);
    pgp_int(&p, at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, C_APPLIED, &p, "contract applied", &n);
    return err != DEPOT_OK || n > 0 ? err : contract_there(s, id, NULL);
}

const struct hub_store_contract_ops hub_pg_contract_ops = {
    .add = c_add,
    .get = c_get,
    .list = c_list,
    .sign = c_sign,
    .due = c_due,
    .applied = c_applied,
};
