/* The training domain's calls, dispatched to the store's implementation (store/training.h). */
#include "store/training.h"

depot_err hub_store_training_add(hub_store *s, struct hub_training *t)
{
    return s->ops->training->add(s, t);
}

depot_err hub_store_training_get(hub_store *s, long long id, struct hub_training *out)
{
    return s->ops->training->get(s, id, out);
}

depot_err hub_store_training_list(hub_store *s, hub_training_cb cb, void *arg)
{
    return s->ops->training->list(s, cb, arg);
}

depot_err hub_store_training_dealer_items(hub_store *s, const char *dealer,
                                          hub_dealer_training_cb cb, void *arg)
{
    return s->ops->training->dealer_items(s, dealer, cb, arg);
}

depot_err hub_store_training_target_add(hub_store *s, long long item, const char *dealer,
                                        long long at)
{
    return s->ops->training->target_add(s, item, dealer, at);
}

depot_err hub_store_training_target_get(hub_store *s, long long item, const char *dealer,
                                        struct hub_training_target *out)
{
    return s->ops->training->target_get(s, item, dealer, out);
}

depot_err hub_store_training_targets(hub_store *s, long long item, hub_training_target_cb cb,
                                     void *arg)
{
    return s->ops->training->targets(s, item, cb, arg);
}

depot_err hub_store_training_view(hub_store *s, long long item, const char *dealer,
                                  const char *user, long long at, long long progress)
{
    return s->ops->training->view(s, item, dealer, user, at, progress);
}

depot_err hub_store_training_complete(hub_store *s, long long item, const char *dealer,
                                      const char *user, long long at, bool *changed)
{
    bool ch;
    return s->ops->training->complete(s, item, dealer, user, at, changed ? changed : &ch);
}

depot_err hub_store_training_view_get(hub_store *s, long long item, const char *dealer,
                                      const char *user, struct hub_training_view *out)
{
    return s->ops->training->view_get(s, item, dealer, user, out);
}

depot_err hub_store_training_views(hub_store *s, long long item, hub_training_view_cb cb, void *arg)
{
    return s->ops->training->views(s, item, cb, arg);
}
