/* The statement domain's calls, dispatched to the store's implementation (store/statements.h). */
#include "store/statements.h"

depot_err hub_store_statement_add(hub_store *s, const struct hub_statement *st, long long *id,
                                  bool *created)
{
    return s->ops->statements->add(s, st, id, created);
}

depot_err hub_store_statement_get(hub_store *s, long long id, hub_statement_cb cb, void *arg)
{
    return s->ops->statements->get(s, id, cb, arg);
}

depot_err hub_store_statements_list(hub_store *s, const char *dealer, const char *period,
                                    hub_statement_cb cb, void *arg)
{
    return s->ops->statements->list(s, dealer, period, cb, arg);
}

depot_err hub_store_payments_between(hub_store *s, const char *dealer, long long from, long long to,
                                     hub_payment_cb cb, void *arg)
{
    return s->ops->statements->payments(s, dealer, from, to, cb, arg);
}

depot_err hub_store_moves_between(hub_store *s, const char *dealer, const char *sku,
                                  const char *kind, long long from, long long to, hub_move_cb cb,
                                  void *arg)
{
    return s->ops->statements->moves(s, dealer, sku, kind, from, to, cb, arg);
}

depot_err hub_store_dispute_add(hub_store *s, const struct hub_dispute *d, long long *id)
{
    return s->ops->statements->dispute_add(s, d, id);
}

depot_err hub_store_dispute_answer(hub_store *s, long long statement, long long id,
                                   const char *text, const char *by, long long at, bool *changed)
{
    return s->ops->statements->dispute_answer(s, statement, id, text, by, at, changed);
}

depot_err hub_store_disputes(hub_store *s, long long statement, hub_dispute_cb cb, void *arg)
{
    return s->ops->statements->disputes(s, statement, cb, arg);
}

depot_err hub_store_payments_page(hub_store *s, const char *dealer, long long from, long long to,
                                  long long after, long long limit, hub_payment_cb cb, void *arg)
{
    return s->ops->statements->payments_page(s, dealer, from, to, after, limit, cb, arg);
}

depot_err hub_store_moves_page(hub_store *s, const char *dealer, long long from, long long to,
                               const struct hub_move_key *after, long long limit, hub_move_cb cb,
                               void *arg)
{
    return s->ops->statements->moves_page(s, dealer, from, to, after, limit, cb, arg);
}
