/*
 * The store's training domain (store/sqlite/training.c, store/pg/training.c):
 * documents and videos the manufacturer assigns to dealers, and who of each
 * dealer viewed and completed them, called through hub_store_ops.training.
 *
 *   training          (id PK; title, description, kind, sha, size, type, target_kind, target,
 *                      created_by, created_at)
 *   training_targets  (item, dealer PK; assigned_at)
 *   training_views    (item, dealer, user PK; first_viewed, last_viewed, progress, completed_at)
 *
 * An item's file is under [hub] files, named by sha (files.h). Its targets are
 * resolved when it is created (as a policy's) and each gets a targets row.
 * A views row is one user's: made by the first progress or completion it
 * reports, first_viewed never changes after, progress only grows (the
 * furthest second of a video or page of a document), completed_at is 0 until
 * the user completed the item and never changes after. A dealer's state is
 * derived, never stored: viewed when any of its users viewed, completed when
 * any of its users completed (the earliest of their times).
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM, or what their
 * comment adds.
 */
#ifndef HUB_STORE_TRAINING_H
#define HUB_STORE_TRAINING_H

#include <stdbool.h>

#include "store/policies.h"
#include "store/store.h"

#define HUB_TRAINING_TITLE_MAX 120
#define HUB_TRAINING_DESC_MAX 4000
#define HUB_TRAINING_KIND_MAX 8  /* document, video */
#define HUB_TRAINING_SHA_HEX 64  /* the file's SHA-256 in hex */
#define HUB_TRAINING_TYPE_MAX 31 /* application/pdf, video/mp4, video/webm, text/plain */

struct hub_training {
    long long id; /* assigned by training_add */
    char title[HUB_TRAINING_TITLE_MAX + 1];
    char description[HUB_TRAINING_DESC_MAX + 1];
    char kind[HUB_TRAINING_KIND_MAX + 1];
    char sha[HUB_TRAINING_SHA_HEX + 1];
    long long size; /* bytes */
    char type[HUB_TRAINING_TYPE_MAX + 1];
    char target_kind[HUB_POLICY_KIND_MAX + 1];
    char target[HUB_POLICY_TARGET_MAX + 1];
    char created_by[HUB_ACTOR_MAX + 1];
    long long created_at; /* ms */
};

/* A target dealer of an item with its derived state. */
struct hub_training_target {
    long long item;
    char dealer[DEPOT_DEALER_MAX + 1];
    long long assigned_at;
    long long viewed_at;    /* the earliest first_viewed of its users; 0: none viewed */
    long long completed_at; /* the earliest completed_at of its users; 0: none completed */
};

/* One user's record of an item. */
struct hub_training_view {
    long long item;
    char dealer[DEPOT_DEALER_MAX + 1];
    char user[HUB_ACTOR_MAX + 1];
    long long first_viewed, last_viewed; /* ms */
    long long progress;                  /* the furthest second (video) or page (document) */
    long long completed_at;              /* ms; 0: not completed */
};

typedef int (*hub_training_cb)(void *arg, const struct hub_training *t);
typedef int (*hub_training_target_cb)(void *arg, const struct hub_training_target *g);
typedef int (*hub_training_view_cb)(void *arg, const struct hub_training_view *v);
/* An item as one dealer holds it (its target row beside it). */
typedef int (*hub_dealer_training_cb)(void *arg, const struct hub_training *t,
                                      const struct hub_training_target *g);

struct hub_store_training_ops {
    depot_err (*add)(hub_store *s, struct hub_training *t);
    depot_err (*get)(hub_store *s, long long id, struct hub_training *out);
    depot_err (*list)(hub_store *s, hub_training_cb cb, void *arg);
    depot_err (*dealer_items)(hub_store *s, const char *dealer, hub_dealer_training_cb cb,
                              void *arg);
    depot_err (*target_add)(hub_store *s, long long item, const char *dealer, long long at);
    depot_err (*target_get)(hub_store *s, long long item, const char *dealer,
                            struct hub_training_target *out);
    depot_err (*targets)(hub_store *s, long long item, hub_training_target_cb cb, void *arg);
    depot_err (*view)(hub_store *s, long long item, const char *dealer, const char *user,
                      long long at, long long progress);
    depot_err (*complete)(hub_store *s, long long item, const char *dealer, const char *user,
                          long long at, bool *changed);
    depot_err (*view_get)(hub_store *s, long long item, const char *dealer, const char *user,
                          struct hub_training_view *out);
    depot_err (*views)(hub_store *s, long long item, hub_training_view_cb cb, void *arg);
};

/* A new item (t->id set to its id). */
depot_err hub_store_training_add(hub_store *s, struct hub_training *t);
/* DEPOT_ERR_NOTFOUND if there is none. */
depot_err hub_store_training_get(hub_store *s, long long id, struct hub_training *out);
/* Every item, newest first. */
depot_err hub_store_training_list(hub_store *s, hub_training_cb cb, void *arg);
/* The items dealer is a target of, newest first, each with its target row. */
depot_err hub_store_training_dealer_items(hub_store *s, const char *dealer,
                                          hub_dealer_training_cb cb, void *arg);
/* A target of item, assigned at `at`: DEPOT_ERR_DUPLICATE if it has its row already. */
depot_err hub_store_training_target_add(hub_store *s, long long item, const char *dealer,
                                        long long at);
/* DEPOT_ERR_NOTFOUND if dealer is not a target of item. */
depot_err hub_store_training_target_get(hub_store *s, long long item, const char *dealer,
                                        struct hub_training_target *out);
/* Every target of item with its state, by dealer. */
depot_err hub_store_training_targets(hub_store *s, long long item, hub_training_target_cb cb,
                                     void *arg);
/*
 * user (of dealer) viewed item at `at`, up to progress: makes its row the first time,
 * then moves last_viewed to `at` (if later) and progress up to progress (if further).
 * The caller checked that dealer is a target.
 */
depot_err hub_store_training_view(hub_store *s, long long item, const char *dealer,
                                  const char *user, long long at, long long progress);
/*
 * user (of dealer) completed item at `at` (viewing it then, as hub_store_training_view
 * with progress 0): the first time only; *changed (not NULL) tells whether it was the first.
 */
depot_err hub_store_training_complete(hub_store *s, long long item, const char *dealer,
                                      const char *user, long long at, bool *changed);
/* DEPOT_ERR_NOTFOUND if user (of dealer) has no row for item. */
depot_err hub_store_training_view_get(hub_store *s, long long item, const char *dealer,
                                      const char *user, struct hub_training_view *out);
/* Every user's row of item, by dealer then user. */
depot_err hub_store_training_views(hub_store *s, long long item, hub_training_view_cb cb,
                                   void *arg);

#endif
