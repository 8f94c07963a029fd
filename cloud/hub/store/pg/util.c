/*
 * The PostgreSQL store's connection and statement helpers (store/pg/pg.h):
 * connect and reset with back-off, prepare on first use, run, query, walk
 * row by row, read columns. Every failure is logged here as
 * "postgresql: <what>: <the server's message>" and returned as DEPOT_ERR_DB.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg/pg.h"

#include "depot/log.h"
#include "depot/clock.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

/* ---- parameters ---- */

static const char **slot(struct pg_params *p)
{
    if (p->n >= PG_MAX_PARAMS)
        abort(); /* a statement with more parameters than PG_MAX_PARAMS: a programming error */
    return &p->v[p->n++];
}

void pgp_text(struct pg_params *p, const char *v)
{
    *slot(p) = v;
}

void pgp_int(struct pg_params *p, long long v)
{
    const char **s = slot(p);
    snprintf(p->num[p->n - 1], sizeof(p->num[0]), "%lld", v);
    *s = p->num[p->n - 1];
}

void pgp_bool(struct pg_params *p, bool v)
{
    *slot(p) = v ? "1" : "0";
}

void pgp_double(struct pg_params *p, double v)
{
    const char **s = slot(p);
    snprintf(p->num[p->n - 1], sizeof(p->num[0]), "%.17g", v);
    *s = p->num[p->n - 1];
}

/* ---- failures ---- */

depot_err hub_pg_fail(struct pg_store *q, const PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!msg || !*msg)
        msg = q->conn ? PQerrorMessage(q->conn) : "no connection";
    snprintf(q->sqlstate, sizeof(q->sqlstate), "%s", state ? state : "");
    /* the server's message ends with a newline */
    LOG_ERROR("postgresql: %s: %.*s", what, (int)strcspn(msg, "\n"), msg);
    return DEPOT_ERR_DB;
}

bool hub_pg_unique_violation(const struct pg_store *q)
{
    return strcmp(q->sqlstate, "23505") == 0;
}

/* ---- connection ---- */

static depot_err session_setup(struct pg_store *q)
{
    memset(q->prepared, 0, sizeof(q->prepared));
    /* warnings of the server (e.g. NOTICE of IF NOT EXISTS) are not the hub's business */
    return hub_pg_exec(q, "SET client_min_messages = warning", "session");
}

depot_err hub_pg_connect(struct pg_store *q, const char *conninfo)
{
    q->conninfo = strdup(conninfo);
    if (!q->conninfo)
        return DEPOT_ERR_NOMEM;
    q->conn = PQconnectdb(conninfo);
    if (!q->conn)
        return DEPOT_ERR_NOMEM;
    if (PQstatus(q->conn) != CONNECTION_OK) {
        LOG_ERROR("postgresql: connect: %.*s", (int)strcspn(PQerrorMessage(q->conn), "\n"),
                  PQerrorMessage(q->conn));
        return DEPOT_ERR_DB;
    }
    return session_setup(q);
}

depot_err hub_pg_ensure(struct pg_store *q)
{
    long long now;
    if (PQstatus(q->conn) == CONNECTION_OK)
        return DEPOT_OK;
    if (q->in_tx)
        return DEPOT_ERR_DB; /* the transaction is lost: the caller rolls back */
    now = depot_mono_ms();
    if (now < q->retry_at_ms)
        return DEPOT_ERR_DB;
    PQreset(q->conn);
    if (PQstatus(q->conn) == CONNECTION_OK && session_setup(q) == DEPOT_OK) {
        LOG_INFO("postgresql: connection restored");
        q->backoff_ms = 0;
        return DEPOT_OK;
    }
    q->backoff_ms = q->backoff_ms ? q->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (q->backoff_ms > BACKOFF_MAX_MS)
        q->backoff_ms = BACKOFF_MAX_MS;
    q->retry_at_ms = now + q->backoff_ms;
    LOG_WARN("postgresql: connection lost (%.*s); next try in %lld ms",
             (int)strcspn(PQerrorMessage(q->conn), "\n"), PQerrorMessage(q->conn), q->backoff_ms);
    return DEPOT_ERR_DB;
}

/* ---- statements ---- */

static depot_err prepared(struct pg_store *q, const struct hub_pg_stmts *t, int idx, char *name,
                          size_t name_len)
{
    PGresult *res;
    depot_err err = hub_pg_ensure(q);
    if (err != DEPOT_OK)
        return err;
    if (idx < 0 || idx >= t->n || idx >= PG_TABLE_MAX || t->id >= PG_T__COUNT)
        abort(); /* a programming error */
    snprintf(name, name_len, "s%d_%d", (int)t->id, idx);
    if (q->prepared[t->id] & (1ULL << idx))
        return DEPOT_OK;
    res = PQprepare(q->conn, name, t->sql[idx], 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        err = hub_pg_fail(q, res, t->sql[idx]);
        PQclear(res);
        return err;
    }
    PQclear(res);
    q->prepared[t->id] |= 1ULL << idx;
    return DEPOT_OK;
}

static PGresult *exec_prepared(struct pg_store *q, const char *name, const struct pg_params *p)
{
    return PQexecPrepared(q->conn, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0);
}

depot_err hub_pg_run(struct pg_store *q, const struct hub_pg_stmts *t, int idx,
                     const struct pg_params *p, const char *what, long long *changed)
{
    char name[32];
    PGresult *res;
    ExecStatusType st;
    depot_err err = prepared(q, t, idx, name, sizeof(name));
    if (changed)
        *changed = 0;
    if (err != DEPOT_OK)
        return err;
    res = exec_prepared(q, name, p);
    st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        err = hub_pg_fail(q, res, what);
    } else if (changed) {
        const char *n = PQcmdTuples(res);
        *changed = n && *n ? strtoll(n, NULL, 10) : 0;
    }
    PQclear(res);
    return err;
}

depot_err hub_pg_query(struct pg_store *q, const struct hub_pg_stmts *t, int idx,
                       const struct pg_params *p, const char *what, PGresult **out)
{
    char name[32];
    PGresult *res;
    depot_err err = prepared(q, t, idx, name, sizeof(name));
    *out = NULL;
    if (err != DEPOT_OK)
        return err;
    res = exec_prepared(q, name, p);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        err = hub_pg_fail(q, res, what);
        PQclear(res);
        return err;
    }
    *out = res;
    return DEPOT_OK;
}

depot_err hub_pg_one_row(struct pg_store *q, const struct hub_pg_stmts *t, int idx,
                         const struct pg_params *p, const char *what, PGresult **out)
{
    depot_err err = hub_pg_query(q, t, idx, p, what, out);
    if (err == DEPOT_OK && PQntuples(*out) == 0) {
        PQclear(*out);
        *out = NULL;
        return DEPOT_ERR_NOTFOUND;
    }
    return err;
}

/* Reads the results of a query sent in single-row mode, one row per call of row() (r = 0). */
static depot_err walk_results(struct pg_store *q, const char *what, hub_pg_row_fn row, void *arg)
{
    depot_err err = DEPOT_OK;
    bool stop = false;
    PGresult *res;
    while ((res = PQgetResult(q->conn))) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE) {
            if (!stop && err == DEPOT_OK)
                stop = row(arg, res, 0) != 0; /* after a stop the rest is read and dropped */
        } else if (st != PGRES_TUPLES_OK && err == DEPOT_OK) {
            err = hub_pg_fail(q, res, what);
        }
        PQclear(res);
    }
    return err;
}

static depot_err single_row_mode(struct pg_store *q, int sent, const char *what)
{
    if (!sent || !PQsetSingleRowMode(q->conn)) {
        depot_err err = hub_pg_fail(q, NULL, what);
        PGresult *res;
        while ((res = PQgetResult(q->conn)))
            PQclear(res);
        return err;
    }
    return DEPOT_OK;
}

depot_err hub_pg_walk(struct pg_store *q, const struct hub_pg_stmts *t, int idx,
                      const struct pg_params *p, const char *what, hub_pg_row_fn row, void *arg)
{
    PGresult *res;
    depot_err err = hub_pg_query(q, t, idx, p, what, &res);
    if (err != DEPOT_OK)
        return err;
    for (int r = 0, n = PQntuples(res); r < n; r++)
        if (row(arg, res, r))
            break;
    PQclear(res);
    return DEPOT_OK;
}

depot_err hub_pg_walk_sql(struct pg_store *q, const char *sql, const struct pg_params *p,
                          const char *what, hub_pg_row_fn row, void *arg)
{
    depot_err err = hub_pg_ensure(q);
    if (err != DEPOT_OK)
        return err;
    err = single_row_mode(
        q,
        PQsendQueryParams(q->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL, NULL, NULL, 0),
        what);
    return err != DEPOT_OK ? err : walk_results(q, what, row, arg);
}

depot_err hub_pg_exec(struct pg_store *q, const char *sql, const char *what)
{
    PGresult *res = PQexec(q->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    depot_err err = DEPOT_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        err = hub_pg_fail(q, res, what);
    PQclear(res);
    return err;
}

/* ---- columns ---- */

const char *hub_pg_col(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
}

long long hub_pg_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

bool hub_pg_bool(const PGresult *res, int row, int col)
{
    const char *v = hub_pg_col(res, row, col);
    return *v == 't' || (*v && strcmp(v, "0") != 0 && *v != 'f');
}

void hub_pg_dealer_row(const PGresult *res, int row, struct hub_dealer_row *r)
{
    r->dealer = hub_pg_col(res, row, 0);
    r->online = hub_pg_bool(res, row, 1);
    r->session = hub_pg_int(res, row, 2);
    r->last_seen = hub_pg_int(res, row, 3);
    r->first_seen = hub_pg_int(res, row, 4);
}

double hub_pg_double(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0.0 : strtod(PQgetvalue(res, row, col), NULL);
}

bool hub_pg_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) != 0;
}

void hub_pg_col_copy(const PGresult *res, int row, int col, char *dst, size_t size)
{
    snprintf(dst, size, "%s", hub_pg_col(res, row, col));
}
