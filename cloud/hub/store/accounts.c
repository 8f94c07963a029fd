/* The account domain's calls, dispatched to the store's implementation (store/accounts.h). */
#include "store/accounts.h"

depot_err hub_store_user_add(hub_store *s, const struct hub_user *u)
{
    return s->ops->accounts->user_add(s, u);
}

depot_err hub_store_user_get(hub_store *s, const char *name, struct hub_user *out)
{
    return s->ops->accounts->user_get(s, name, out);
}

depot_err hub_store_user_put(hub_store *s, const struct hub_user *u)
{
    return s->ops->accounts->user_put(s, u);
}

depot_err hub_store_users_list(hub_store *s, hub_user_cb cb, void *arg)
{
    return s->ops->accounts->users_list(s, cb, arg);
}

depot_err hub_store_cred_add(hub_store *s, const struct hub_cred *c)
{
    return s->ops->accounts->cred_add(s, c);
}

depot_err hub_store_cred_find(hub_store *s, const char *hash, struct hub_cred *out)
{
    return s->ops->accounts->cred_find(s, hash, out);
}

depot_err hub_store_cred_revoke(hub_store *s, enum hub_cred_kind kind, const char *name,
                                const char *hash, long long at, long long *n)
{
    long long dummy;
    return s->ops->accounts->cred_revoke(s, kind, name, hash, at, n ? n : &dummy);
}

depot_err hub_store_creds_list(hub_store *s, enum hub_cred_kind kind, hub_cred_cb cb, void *arg)
{
    return s->ops->accounts->creds_list(s, kind, cb, arg);
}

depot_err hub_store_creds_purge(hub_store *s, long long before)
{
    return s->ops->accounts->creds_purge(s, before);
}
