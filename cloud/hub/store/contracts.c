/* The contract domain's calls, dispatched to the store's implementation (store/contracts.h). */
#include "store/contracts.h"

depot_err hub_store_contract_add(hub_store *s, struct hub_contract *c)
{
    return s->ops->contracts->add(s, c);
}

depot_err hub_store_contract_get(hub_store *s, long long id, struct hub_contract *out)
{
    return s->ops->contracts->get(s, id, out);
}

depot_err hub_store_contracts_list(hub_store *s, const char *dealer, hub_contract_cb cb, void *arg)
{
    return s->ops->contracts->list(s, dealer, cb, arg);
}

depot_err hub_store_contract_sign(hub_store *s, long long id, const char *dealer, long long at,
                                  const char *doc, const char *sig, const char *cert,
                                  const char *counter_sig, const char *counter_cert, bool *changed)
{
    return s->ops->contracts->sign(s, id, dealer, at, doc, sig, cert, counter_sig, counter_cert,
                                   changed);
}

depot_err hub_store_contracts_due(hub_store *s, const char *today, hub_contract_cb cb, void *arg)
{
    return s->ops->contracts->due(s, today, cb, arg);
}

depot_err hub_store_contract_applied(hub_store *s, long long id, long long at)
{
    return s->ops->contracts->applied(s, id, at);
}
