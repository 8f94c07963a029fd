/*
 * The store's statement domain (store/sqlite/statements.c,
 * store/pg/statements.c): rebate statements frozen at a period's close and
 * the disputes dealers open on their lines, called through
 * hub_store_ops.statements.
 *
 *   statements (id PK; dealer, period YYYY-MM, created_at, content, sig, cert)
 *              unique (dealer, period)
 *   disputes   (id PK; statement, line, text, opened_by, opened_at,
 *               answer, answered_by, answered_at); index (statement, id)
 *
 * content is the statement as the hub signed it (canonical JSON text: its
 * lines are inside), sig the hub's signature of those exact bytes (base64)
 * and cert the hub's certificate (PEM). A statement never changes once
 * added: statement_add keeps the first one of a (dealer, period). A
 * dispute's answer is set the first time only (answered_at 0: open).
 * It also reads a statement's sources: the payments table and the applied
 * movements (store/alerts.h's history keeps them).
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM, or what their
 * comment adds. Row pointers are valid during the callback only; a
 * non-zero return from a callback stops the walk.
 */
#ifndef HUB_STORE_STATEMENTS_H
#define HUB_STORE_STATEMENTS_H

#include <stdbool.h>

#include "depot/msg.h"
#include "store/store.h"

#define HUB_STATEMENT_PERIOD_LEN 7 /* YYYY-MM */
#define HUB_DISPUTE_LINE_MAX 64
#define HUB_DISPUTE_TEXT_MAX 1000

struct hub_statement {
    long long id;
    const char *dealer, *period;
    long long created_at;             /* ms */
    const char *content, *sig, *cert; /* content "" in lists */
};

struct hub_dispute {
    long long id, statement;
    const char *line, *text, *opened_by;
    long long opened_at;
    const char *answer, *answered_by;
    long long answered_at; /* 0: open */
};

struct hub_payment_row {
    long long id, at, amount;
    const char *order, *ref;
    const char *dealer;
};

/* One applied movement of up/movements as its gateway sent it. */
struct hub_move_row {
    const char *ledger;
    long long mid, ts; /* ts: ms */
    const char *node, *sku, *kind;
    long long delta, qty;
    const char *dealer;
};

/* Where a page of movements starts: after this (dealer, ledger, mid); "" "" 0 at the start. */
struct hub_move_key {
    const char *dealer, *ledger;
    long long mid;
};

typedef int (*hub_statement_cb)(void *arg, const struct hub_statement *st);
typedef int (*hub_dispute_cb)(void *arg, const struct hub_dispute *d);
typedef int (*hub_payment_cb)(void *arg, const struct hub_payment_row *p);
typedef int (*hub_move_cb)(void *arg, const struct hub_move_row *mv);

struct hub_store_statement_ops {
    depot_err (*add)(hub_store *s, const struct hub_statement *st, long long *id, bool *created);
    depot_err (*get)(hub_store *s, long long id, hub_statement_cb cb, void *arg);
    depot_err (*list)(hub_store *s, const char *dealer, const char *period, hub_statement_cb cb,
                      void *arg);
    depot_err (*payments)(hub_store *s, const char *dealer, long long from, long long to,
                          hub_payment_cb cb, void *arg);
    depot_err (*moves)(hub_store *s, const char *dealer, const char *sku, const char *kind,
                       long long from, long long to, hub_move_cb cb, void *arg);
    depot_err (*payments_page)(hub_store *s, const char *dealer, long long from, long long to,
                               long long after, long long limit, hub_payment_cb cb, void *arg);
    depot_err (*moves_page)(hub_store *s, const char *dealer, long long from, long long to,
                            const struct hub_move_key *after, long long limit, hub_move_cb cb,
                            void *arg);
    depot_err (*dispute_add)(hub_store *s, const struct hub_dispute *d, long long *id);
    depot_err (*dispute_answer)(hub_store *s, long long statement, long long id, const char *text,
                                const char *by, long long at, bool *changed);
    depot_err (*disputes)(hub_store *s, long long statement, hub_dispute_cb cb, void *arg);
};

/* Adds st (its id ignored) unless (dealer, period) has one: *id is the statement that is there
 * afterwards, *created whether it is st. */
depot_err hub_store_statement_add(hub_store *s, const struct hub_statement *st, long long *id,
                                  bool *created);
/* DEPOT_ERR_NOTFOUND if there is none. */
depot_err hub_store_statement_get(hub_store *s, long long id, hub_statement_cb cb, void *arg);
/* Without content: newest period first, then dealer; dealer, period NULL: any. */
depot_err hub_store_statements_list(hub_store *s, const char *dealer, const char *period,
                                    hub_statement_cb cb, void *arg);
/* dealer's payments with from <= at < to (ms), oldest first. */
depot_err hub_store_payments_between(hub_store *s, const char *dealer, long long from, long long to,
                                     hub_payment_cb cb, void *arg);
/* A page of the payments of dealer (NULL: every dealer) with from <= at < to and id > after,
 * by id, at most limit (an export's page). */
depot_err hub_store_payments_page(hub_store *s, const char *dealer, long long from, long long to,
                                  long long after, long long limit, hub_payment_cb cb, void *arg);
/* A page of the applied movements of dealer (NULL: every dealer) with from <= ts < to, after
 * the key *after, by (dealer, ledger, mid), at most limit. */
depot_err hub_store_moves_page(hub_store *s, const char *dealer, long long from, long long to,
                               const struct hub_move_key *after, long long limit, hub_move_cb cb,
                               void *arg);
/* The applied movements of kind (e.g. "pick") of (dealer, sku) with from <= ts < to (ms), in
 * (ts, ledger, mid) order. */
depot_err hub_store_moves_between(hub_store *s, const char *dealer, const char *sku,
                                  const char *kind, long long from, long long to, hub_move_cb cb,
                                  void *arg);
/* A new open dispute (d->id, answer fields ignored). */
depot_err hub_store_dispute_add(hub_store *s, const struct hub_dispute *d, long long *id);
/* Answers dispute id of statement the first time only (*changed tells; may be NULL).
 * DEPOT_ERR_NOTFOUND if statement has no dispute id. */
depot_err hub_store_dispute_answer(hub_store *s, long long statement, long long id,
                                   const char *text, const char *by, long long at, bool *changed);
/* The disputes of statement, oldest first. */
depot_err hub_store_disputes(hub_store *s, long long statement, hub_dispute_cb cb, void *arg);

#endif
