/*
 * E-contracts, their signatures and terms in SQLite (store/contracts.h): migration 8.
 *
 *   contracts  (id INTEGER PK AUTOINCREMENT, ...; index (dealer, id))
 *
 * Each of the two later steps is one UPDATE guarded by its column still
 * being 0 (signed_at, applied_at), so it happens once however often it is
 * asked for; when the UPDATE changes nothing, C_DEALER tells a repeat (the
 * contract is there, and the dealer's) from a contract that is not.
 */
#include <string.h>

#include "depot/alloc.h"
#include "store/contracts.h"
#include "store/sqlite/sqlite.h"

enum contract_stmt {
    C_ADD,
    C_GET,
    C_LIST,
    C_LIST_DEALER,
    C_SIGN,
    C_DUE,
    C_APPLIED,
    C_DEALER,
    C__COUNT
};
_Static_assert(C__COUNT <= SQ_CONTRACT_STMTS, "raise SQ_CONTRACT_STMTS");

#define CONTRACT_COLS                                                                              \
    "id, dealer, title, file_sha, file_type, file_size, start_day, end_day, credit_limit, tier, "  \
    "created_by, created_at, signed_at, sign_doc, sign_sig, sign_cert, counter_sig, "              \
    "counter_cert, applied_at"

static const char *const sql[C__COUNT] = {
    [C_ADD] = "INSERT INTO contracts(dealer, title, file_sha, file_type, file_size, start_day, "
              "end_day, credit_limit, tier, created_by, created_at, signed_at, sign_doc, "
              "sign_sig, sign_cert, counter_sig, counter_cert, applied_at) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, '', '', '', '', '', 0)",
    [C_GET] = "SELECT " CONTRACT_COLS " FROM contracts WHERE id = ?1",
    [C_LIST] = "SELECT " CONTRACT_COLS " FROM contracts ORDER BY id DESC",
    [C_LIST_DEALER] = "SELECT " CONTRACT_COLS " FROM contracts WHERE dealer = ?1 "
                      "ORDER BY id DESC",
    [C_SIGN] = "UPDATE contracts SET signed_at = ?3, sign_doc = ?4, sign_sig = ?5, "
               "sign_cert = ?6, counter_sig = ?7, counter_cert = ?8 "
               "WHERE id = ?1 AND dealer = ?2 AND signed_at = 0",
    [C_DUE] = "SELECT " CONTRACT_COLS " FROM contracts WHERE signed_at <> 0 AND applied_at = 0 "
              "AND start_day <= ?1 ORDER BY id",
    [C_APPLIED] = "UPDATE contracts SET applied_at = ?2 WHERE id = ?1 AND applied_at = 0",
    [C_DEALER] = "SELECT dealer FROM contracts WHERE id = ?1",
};

/* Migration 8 and the setup of every file since (idempotent). */
const char hub_sqlite_contracts_schema[] =
    "CREATE TABLE IF NOT EXISTS contracts(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    " dealer TEXT NOT NULL, title TEXT NOT NULL, file_sha TEXT NOT NULL, "
    " file_type TEXT NOT NULL, file_size INTEGER NOT NULL, start_day TEXT NOT NULL, "
    " end_day TEXT NOT NULL, credit_limit INTEGER NOT NULL, tier TEXT NOT NULL, "
    " created_by TEXT NOT NULL, created_at INTEGER NOT NULL, signed_at INTEGER NOT NULL, "
    " sign_doc TEXT NOT NULL, sign_sig TEXT NOT NULL, sign_cert TEXT NOT NULL, "
    " counter_sig TEXT NOT NULL, counter_cert TEXT NOT NULL, applied_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS contracts_by_dealer ON contracts(dealer, id);";

static sqlite3_stmt *prep(struct sqlite_store *q, enum contract_stmt id)
{
    return hub_sqlite_ready(q->contract_st[id]);
}

static void read_contract(sqlite3_stmt *st, struct hub_contract *c)
{
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(st, 0);
    hub_sqlite_col_copy(st, 1, c->dealer, sizeof(c->dealer));
    hub_sqlite_col_copy(st, 2, c->title, sizeof(c->title));
    hub_sqlite_col_copy(st, 3, c->file_sha, sizeof(c->file_sha));
    hub_sqlite_col_copy(st, 4, c->file_type, sizeof(c->file_type));
    c->file_size = sqlite3_column_int64(st, 5);
    hub_sqlite_col_copy(st, 6, c->start_day, sizeof(c->start_day));
    hub_sqlite_col_copy(st, 7, c->end_day, sizeof(c->end_day));
    c->credit_limit = sqlite3_column_int64(st, 8);
    hub_sqlite_col_copy(st, 9, c->tier, sizeof(c->tier));
    hub_sqlite_col_copy(st, 10, c->created_by, sizeof(c->created_by));
    c->created_at = sqlite3_column_int64(st, 11);
    c->signed_at = sqlite3_column_int64(st, 12);
    hub_sqlite_col_copy(st, 13, c->sign_doc, sizeof(c->sign_doc));
    hub_sqlite_col_copy(st, 14, c->sign_sig, sizeof(c->sign_sig));
    hub_sqlite_col_copy(st, 15, c->sign_cert, sizeof(c->sign_cert));
    hub_sqlite_col_copy(st, 16, c->counter_sig, sizeof(c->counter_sig));
    hub_sqlite_col_copy(st, 17, c->counter_cert, sizeof(c->counter_cert));
    c->applied_at = sqlite3_column_int64(st, 18);
}

static depot_err c_add(hub_store *s, struct hub_contract *c)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_ADD);
    depot_err err;
    hub_sqlite_bind_text(st, 1, c->dealer);
    hub_sqlite_bind_text(st, 2, c->title);
    hub_sqlite_bind_text(st, 3, c->file_sha);
    hub_sqlite_bind_text(st, 4, c->file_type);
    sqlite3_bind_int64(st, 5, c->file_size);
    hub_sqlite_bind_text(st, 6, c->start_day);
    hub_sqlite_bind_text(st, 7, c->end_day);
    sqlite3_bind_int64(st, 8, c->credit_limit);
    hub_sqlite_bind_text(st, 9, c->tier);
    hub_sqlite_bind_text(st, 10, c->created_by);
    sqlite3_bind_int64(st, 11, c->created_at);
    err = hub_sqlite_run(q, st, "contract add");
    if (err == DEPOT_OK)
        c->id = sqlite3_last_insert_rowid(q->db);
    return err;
}

static depot_err c_get(hub_store *s, long long id, struct hub_contract *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_GET);
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    err = hub_sqlite_one_row(q, st, "contract");
    if (err != DEPOT_OK)
        return err;
    read_contract(st, out);
    sqlite3_reset(st);
    return DEPOT_OK;
}

/* Walks st (bound) into cb, every row read into one heap buffer. */
static depot_err walk(struct sqlite_store *q, sqlite3_stmt *st, hub_contract_cb cb, void *arg,
                      const char *what)
{
    struct hub_contract *c = depot_malloc(sizeof(*c));
    int rc;
    if (!c) {
        sqlite3_reset(st);
        return DEPOT_ERR_NOMEM;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_contract(st, c);
        if (cb(arg, c))
            break;
    }
    depot_free(c);
    return hub_sqlite_walk_end(q, st, rc, what);
}

static depot_err c_list(hub_store *s, const char *dealer, hub_contract_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st;
    if (!dealer)
        return walk(q, prep(q, C_LIST), cb, arg, "contracts");
    st = prep(q, C_LIST_DEALER);
    hub_sqlite_bind_text(st, 1, dealer);
    return walk(q, st, cb, arg, "dealer contracts");
}

/* After an UPDATE of contract id that changed nothing: DEPOT_OK if the contract is there (and
 * dealer's, unless dealer is NULL), else DEPOT_ERR_NOTFOUND. */
static depot_err contract_there(struct sqlite_store *q, long long id, const char *dealer)
{
    sqlite3_stmt *st = prep(q, C_DEALER);
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    err = hub_sqlite_one_row(q, st, "contract dealer");
    if (err != DEPOT_OK)
        return err;
    if (dealer && strcmp(hub_sqlite_col(st, 0), dealer) != 0)
        err = DEPOT_ERR_NOTFOUND;
    sqlite3_reset(st);
    return err;
}

static depot_err c_sign(hub_store *s, long long id, const char *dealer, long long at,
                        const char *doc, const char *sig, const char *cert, const char *counter_sig,
                        const char *counter_cert, bool *changed)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_SIGN);
    bool ch = false;
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    hub_sqlite_bind_text(st, 2, dealer);
    sqlite3_bind_int64(st, 3, at);
    hub_sqlite_bind_text(st, 4, doc);
    hub_sqlite_bind_text(st, 5, sig);
    hub_sqlite_bind_text(st, 6, cert);
    hub_sqlite_bind_text(st, 7, counter_sig);
    hub_sqlite_bind_text(st, 8, counter_cert);
    err = hub_sqlite_run(q, st, "contract sign");
    if (err == DEPOT_OK)
        ch = sqlite3_changes(q->db) > 0;
    if (changed)
        *changed = ch;
    return err != DEPOT_OK || ch ? err : contract_there(q, id, dealer);
}

static depot_err c_due(hub_store *s, const char *today, hub_contract_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_DUE);
    hub_sqlite_bind_text(st, 1, today);
    return walk(q, st, cb, arg, "contracts due");
}

static depot_err c_applied(hub_store *s, long long id, long long at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_APPLIED);
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    err = hub_sqlite_run(q, st, "contract applied");
    if (err != DEPOT_OK || sqlite3_changes(q->db) > 0)
        return err;
    return contract_there(q, id, NULL);
}

const struct hub_store_contract_ops hub_sqlite_contract_ops = {
    .add = c_add,
    .get = c_get,
    .list = c_list,
    .sign = c_sign,
    .due = c_due,
    .applied = c_applied,
};

depot_err hub_sqlite_contracts_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, hub_sqlite_contracts_schema, "contracts schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, C__COUNT, q->contract_st);
}

void hub_sqlite_contracts_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->contract_st, C__COUNT);
}
