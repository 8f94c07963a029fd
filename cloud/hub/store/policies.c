/* The policy domain's calls, dispatched to the store's implementation (store/policies.h). */
#include "store/policies.h"

depot_err hub_store_policy_add(hub_store *s, struct hub_policy *p)
{
    return s->ops->policies->policy_add(s, p);
}

depot_err hub_store_policy_get(hub_store *s, long long id, struct hub_policy *out)
{
    return s->ops->policies->policy_get(s, id, out);
}

depot_err hub_store_policies_list(hub_store *s, const char *dealer, hub_policy_cb cb, void *arg)
{
    return s->ops->policies->policies_list(s, dealer, cb, arg);
}

depot_err hub_store_reach_add(hub_store *s, long long policy, const char *dealer, long long at)
{
    return s->ops->policies->reach_add(s, policy, dealer, at);
}

depot_err hub_store_reach_get(hub_store *s, long long policy, const char *dealer,
                              struct hub_policy_reach *out)
{
    return s->ops->policies->reach_get(s, policy, dealer, out);
}

depot_err hub_store_reach_list(hub_store *s, long long policy, hub_reach_cb cb, void *arg)
{
    return s->ops->policies->reach_list(s, policy, cb, arg);
}

depot_err hub_store_reach_pushed(hub_store *s, long long policy, const char *dealer, long long at)
{
    return s->ops->policies->reach_pushed(s, policy, dealer, at);
}

depot_err hub_store_reach_mark(hub_store *s, long long policy, const char *dealer,
                               enum hub_reach_mark what, long long at, const char *by,
                               const char *via, bool *changed)
{
    bool dummy;
    return s->ops->policies->reach_mark(s, policy, dealer, what, at, by ? by : "", via ? via : "",
                                        changed ? changed : &dummy);
}

depot_err hub_store_dealer_policies(hub_store *s, const char *dealer, const char *today,
                                    long long limit, hub_dealer_policy_cb cb, void *arg)
{
    return s->ops->policies->dealer_policies(s, dealer, today, limit, cb, arg);
}

depot_err hub_store_policy_due_mark(hub_store *s, const char *dealer, long long at)
{
    return s->ops->policies->due_mark(s, dealer, at);
}

depot_err hub_store_policy_due_list(hub_store *s, long long limit, hub_name_cb cb, void *arg)
{
    return s->ops->policies->due_list(s, limit, cb, arg);
}

depot_err hub_store_policy_due_done(hub_store *s, const char *dealer, long long at)
{
    return s->ops->policies->due_done(s, dealer, at);
}
