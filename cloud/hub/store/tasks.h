/*
 * The store's task domain (store/sqlite/tasks.c, store/pg/tasks.c): tasks the
 * manufacturer gives dealers ("set up the spring display by the 31st",
 * "count SKU-PUMP by Friday") and their completion per dealer, called
 * through hub_store_ops.tasks.
 *
 *   tasks       (id PK; title, body, due, rule, skus, level, photo, target_kind, target,
 *                created_by, created_at)
 *   task_reach  (task, dealer PK; issued_at, done_at, done_by, done_via, counted, photo_sha,
 *                photo_type)
 *
 * A task's targets are resolved when it is issued (as a policy's) and each
 * gets a reach row. Its rule says how a target completes it:
 *   confirm  a dealer user confirms it in the portal (with a photo when photo is set)
 *   count    a stock count (a `count` movement from a terminal) of each SKU of skus at
 *            that dealer after the task was issued; counted keeps those seen so far
 *   stock    the dealer's stock of the one SKU in skus at level or above
 * done_at is 0 until the target completed it and never changes after
 * (task_done sets it the first time only). A task is overdue for a target
 * not done when the UTC day `due` has ended.
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM, or what their
 * comment adds.
 */
#ifndef HUB_STORE_TASKS_H
#define HUB_STORE_TASKS_H

#include <stdbool.h>

#include "store/policies.h"
#include "store/store.h"

#define HUB_TASK_TITLE_MAX 80
#define HUB_TASK_BODY_MAX 4000
#define HUB_TASK_RULE_MAX 7        /* confirm, count, stock */
#define HUB_TASK_SKUS_N 8          /* SKUs a count rule may name */
#define HUB_TASK_SKUS_MAX 263      /* HUB_TASK_SKUS_N ids of DEPOT_SKU_MAX and commas */
#define HUB_TASK_VIA_MAX 15        /* portal, data */
#define HUB_TASK_SHA_HEX 64        /* a photo's SHA-256 in hex */
#define HUB_TASK_PHOTO_TYPE_MAX 15 /* image/jpeg, image/png */

struct hub_task {
    long long id; /* assigned by task_add */
    char title[HUB_TASK_TITLE_MAX + 1];
    char body[HUB_TASK_BODY_MAX + 1];
    char due[DEPOT_DATE_LEN + 1]; /* YYYY-MM-DD: done by the end of that UTC day */
    char rule[HUB_TASK_RULE_MAX + 1];
    char skus[HUB_TASK_SKUS_MAX + 1]; /* count: SKUs, comma-separated; stock: one SKU; else "" */
    long long level;                  /* stock: at least this many; else 0 */
    bool photo;                       /* confirm: a photo is required */
    char target_kind[HUB_POLICY_KIND_MAX + 1];
    char target[HUB_POLICY_TARGET_MAX + 1];
    char created_by[HUB_ACTOR_MAX + 1];
    long long created_at; /* ms */
};

struct hub_task_reach {
    long long task;
    char dealer[DEPOT_DEALER_MAX + 1];
    long long issued_at, done_at; /* ms; done_at 0: not done */
    char done_by[HUB_ACTOR_MAX + 1];
    char done_via[HUB_TASK_VIA_MAX + 1];
    char counted[HUB_TASK_SKUS_MAX + 1];  /* count: the SKUs counted so far, comma-separated */
    char photo_sha[HUB_TASK_SHA_HEX + 1]; /* "" without a photo */
    char photo_type[HUB_TASK_PHOTO_TYPE_MAX + 1];
};

typedef int (*hub_task_cb)(void *arg, const struct hub_task *t);
typedef int (*hub_task_reach_cb)(void *arg, const struct hub_task_reach *r);
/* A task as one dealer holds it (its reach row beside it). */
typedef int (*hub_dealer_task_cb)(void *arg, const struct hub_task *t,
                                  const struct hub_task_reach *r);

struct hub_store_task_ops {
    depot_err (*task_add)(hub_store *s, struct hub_task *t);
    depot_err (*task_get)(hub_store *s, long long id, struct hub_task *out);
    depot_err (*tasks_list)(hub_store *s, hub_task_cb cb, void *arg);
    depot_err (*dealer_tasks)(hub_store *s, const char *dealer, hub_dealer_task_cb cb, void *arg);
    depot_err (*reach_add)(hub_store *s, long long task, const char *dealer, long long at);
    depot_err (*reach_get)(hub_store *s, long long task, const char *dealer,
                           struct hub_task_reach *out);
    depot_err (*reach_list)(hub_store *s, long long task, hub_task_reach_cb cb, void *arg);
    depot_err (*reach_counted)(hub_store *s, long long task, const char *dealer,
                               const char *counted);
    depot_err (*reach_done)(hub_store *s, long long task, const char *dealer, long long at,
                            const char *by, const char *via, const char *photo_sha,
                            const char *photo_type, bool *changed);
    depot_err (*open_data)(hub_store *s, const char *dealer, const char *sku, hub_dealer_task_cb cb,
                           void *arg);
    depot_err (*overdue)(hub_store *s, const char *before, hub_dealer_task_cb cb, void *arg);
    depot_err (*last_id)(hub_store *s, long long *id);
};

/* A new task (t->id set to its id). */
depot_err hub_store_task_add(hub_store *s, struct hub_task *t);
/* DEPOT_ERR_NOTFOUND if there is none. */
depot_err hub_store_task_get(hub_store *s, long long id, struct hub_task *out);
/* Every task, newest first. */
depot_err hub_store_tasks_list(hub_store *s, hub_task_cb cb, void *arg);
/* The tasks dealer is a target of, newest first, each with its reach row. */
depot_err hub_store_dealer_tasks(hub_store *s, const char *dealer, hub_dealer_task_cb cb,
                                 void *arg);
/* A target of task, issued at `at`: DEPOT_ERR_DUPLICATE if it has its row already. */
depot_err hub_store_task_reach_add(hub_store *s, long long task, const char *dealer, long long at);
/* DEPOT_ERR_NOTFOUND if dealer is not a target of task. */
depot_err hub_store_task_reach_get(hub_store *s, long long task, const char *dealer,
                                   struct hub_task_reach *out);
/* Every target of task, by dealer. */
depot_err hub_store_task_reach_list(hub_store *s, long long task, hub_task_reach_cb cb, void *arg);
/* The SKUs counted so far (count rule) while not done. DEPOT_ERR_NOTFOUND if not a target. */
depot_err hub_store_task_reach_counted(hub_store *s, long long task, const char *dealer,
                                       const char *counted);
/*
 * Done at `at` by whom, how (portal, data), with the photo's SHA-256 and type ("" for none):
 * the first time only; *changed (not NULL) tells whether it was the first. DEPOT_ERR_NOTFOUND
 * if dealer is not a target of task.
 */
depot_err hub_store_task_reach_done(hub_store *s, long long task, const char *dealer, long long at,
                                    const char *by, const char *via, const char *photo_sha,
                                    const char *photo_type, bool *changed);
/* The tasks with a data rule (count, stock) that name sku and that dealer has not done, oldest
 * first, each with its reach row. */
depot_err hub_store_task_open_data(hub_store *s, const char *dealer, const char *sku,
                                   hub_dealer_task_cb cb, void *arg);
/* Every (task, target) not done whose due day is before `before` (YYYY-MM-DD), by dealer then
 * task. */
depot_err hub_store_tasks_overdue(hub_store *s, const char *before, hub_dealer_task_cb cb,
                                  void *arg);
/* The newest task's id, 0 without any (the data rules' cache knows a task was issued). */
depot_err hub_store_task_last_id(hub_store *s, long long *id);

#endif
