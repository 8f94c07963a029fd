/* The task domain's calls, dispatched to the store's implementation (store/tasks.h). */
#include "store/tasks.h"

depot_err hub_store_task_add(hub_store *s, struct hub_task *t)
{
    return s->ops->tasks->task_add(s, t);
}

depot_err hub_store_task_get(hub_store *s, long long id, struct hub_task *out)
{
    return s->ops->tasks->task_get(s, id, out);
}

depot_err hub_store_tasks_list(hub_store *s, hub_task_cb cb, void *arg)
{
    return s->ops->tasks->tasks_list(s, cb, arg);
}

depot_err hub_store_dealer_tasks(hub_store *s, const char *dealer, hub_dealer_task_cb cb, void *arg)
{
    return s->ops->tasks->dealer_tasks(s, dealer, cb, arg);
}

depot_err hub_store_task_reach_add(hub_store *s, long long task, const char *dealer, long long at)
{
    return s->ops->tasks->reach_add(s, task, dealer, at);
}

depot_err hub_store_task_reach_get(hub_store *s, long long task, const char *dealer,
                                   struct hub_task_reach *out)
{
    return s->ops->tasks->reach_get(s, task, dealer, out);
}

depot_err hub_store_task_reach_list(hub_store *s, long long task, hub_task_reach_cb cb, void *arg)
{
    return s->ops->tasks->reach_list(s, task, cb, arg);
}

depot_err hub_store_task_reach_counted(hub_store *s, long long task, const char *dealer,
                                       const char *counted)
{
    return s->ops->tasks->reach_counted(s, task, dealer, counted);
}

depot_err hub_store_task_reach_done(hub_store *s, long long task, const char *dealer, long long at,
                                    const char *by, const char *via, const char *photo_sha,
                                    const char *photo_type, bool *changed)
{
    return s->ops->tasks->reach_done(s, task, dealer, at, by, via, photo_sha, photo_type, changed);
}

depot_err hub_store_task_open_data(hub_store *s, const char *dealer, const char *sku,
                                   hub_dealer_task_cb cb, void *arg)
{
    return s->ops->tasks->open_data(s, dealer, sku, cb, arg);
}

depot_err hub_store_tasks_overdue(hub_store *s, const char *before, hub_dealer_task_cb cb,
                                  void *arg)
{
    return s->ops->tasks->overdue(s, before, cb, arg);
}

depot_err hub_store_task_last_id(hub_store *s, long long *id)
{
    return s->ops->tasks->last_id(s, id);
}
