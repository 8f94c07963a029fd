/* The ranking domain's calls, dispatched to the store's implementation (store/ranking.h). */
#include "store/ranking.h"

depot_err hub_store_ranking_facts(hub_store *s, hub_fact_cb cb, void *arg)
{
    return s->ops->ranking->facts(s, cb, arg);
}

depot_err hub_store_presence_add(hub_store *s, const char *dealer, long long at, bool online)
{
    return s->ops->ranking->presence_add(s, dealer, at, online);
}
