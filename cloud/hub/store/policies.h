/*
 * The store's policy domain (store/sqlite/policies.c, store/pg/policies.c):
 * policies and promotions the manufacturer publishes to dealers, and their
 * reach, called through hub_store_ops.policies.
 *
 *   policies      (id PK; title, body, notice, valid_from, valid_to, target_kind, target,
 *                  created_by, created_at, withdrawn_at)
 *   policy_reach  (policy, dealer PK; pushed_at, delivered_at, seen_at, acked_at, acked_by,
 *                  acked_via)
 *   policy_due    (dealer PK; due_at)   dealers whose down/policy must be published again
 *
 * A policy's targets are resolved when it is published (every dealer known,
 * a region's, a tier's, or a list) and each gets a reach row: when it was
 * pushed to the dealer's gateway (again at each re-push), delivered (the
 * gateway's policy_delivered event), first seen in the portal, acknowledged
 * (at a terminal or in the portal, by whom). A time is 0 until it happens
 * and never changes after (reach_mark sets it the first time only).
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM, or what their
 * comment adds.
 */
#ifndef HUB_STORE_POLICIES_H
#define HUB_STORE_POLICIES_H

#include <stdbool.h>

#include "store/store.h"

#define HUB_POLICY_BODY_MAX 4000
#define HUB_POLICY_TARGET_MAX 2000 /* a region, a tier, or dealer ids separated by commas */
#define HUB_POLICY_KIND_MAX 7      /* all, region, tier, list */
#define HUB_POLICY_VIA_MAX 15      /* terminal, portal */

struct hub_policy {
    long long id; /* assigned by policy_add */
    char title[DEPOT_POLICY_TITLE_MAX + 1];
    char body[HUB_POLICY_BODY_MAX + 1];
    char notice[DEPOT_POLICY_NOTICE_MAX + 1];
    char valid_from[DEPOT_DATE_LEN + 1], valid_to[DEPOT_DATE_LEN + 1];
    char target_kind[HUB_POLICY_KIND_MAX + 1];
    char target[HUB_POLICY_TARGET_MAX + 1];
    char created_by[HUB_ACTOR_MAX + 1];
    long long created_at, withdrawn_at; /* ms; withdrawn_at 0: not withdrawn */
};

struct hub_policy_reach {
    long long policy;
    char dealer[DEPOT_DEALER_MAX + 1];
    long long pushed_at, delivered_at, seen_at, acked_at; /* ms; 0: not yet */
    char acked_by[HUB_ACTOR_MAX + 1];
    char acked_via[HUB_POLICY_VIA_MAX + 1];
};

enum hub_reach_mark { HUB_REACH_DELIVERED, HUB_REACH_SEEN, HUB_REACH_ACKED };

typedef int (*hub_policy_cb)(void *arg, const struct hub_policy *p);
typedef int (*hub_reach_cb)(void *arg, const struct hub_policy_reach *r);
/* A policy as its dealer holds it: acked when the dealer acknowledged it. */
typedef int (*hub_dealer_policy_cb)(void *arg, const struct hub_policy *p, bool acked);

struct hub_store_policy_ops {
    depot_err (*policy_add)(hub_store *s, struct hub_policy *p);
    depot_err (*policy_get)(hub_store *s, long long id, struct hub_policy *out);
    depot_err (*policies_list)(hub_store *s, const char *dealer, hub_policy_cb cb, void *arg);
    depot_err (*reach_add)(hub_store *s, long long policy, const char *dealer, long long at);
    depot_err (*reach_get)(hub_store *s, long long policy, const char *dealer,
                           struct hub_policy_reach *out);
    depot_err (*reach_list)(hub_store *s, long long policy, hub_reach_cb cb, void *arg);
    depot_err (*reach_pushed)(hub_store *s, long long policy, const char *dealer, long long at);
    depot_err (*reach_mark)(hub_store *s, long long policy, const char *dealer,
                            enum hub_reach_mark what, long long at, const char *by, const char *via,
                            bool *changed);
    depot_err (*dealer_policies)(hub_store *s, const char *dealer, const char *today,
                                 long long limit, hub_dealer_policy_cb cb, void *arg);
    depot_err (*due_mark)(hub_store *s, const char *dealer, long long at);
    depot_err (*due_list)(hub_store *s, long long limit, hub_name_cb cb, void *arg);
    depot_err (*due_done)(hub_store *s, const char *dealer, long long at);
};

/* A new policy (p->id set to its id). */
depot_err hub_store_policy_add(hub_store *s, struct hub_policy *p);
/* DEPOT_ERR_NOTFOUND if there is none. */
depot_err hub_store_policy_get(hub_store *s, long long id, struct hub_policy *out);
/* Newest first: every policy (dealer NULL) or those that reach dealer. */
depot_err hub_store_policies_list(hub_store *s, const char *dealer, hub_policy_cb cb, void *arg);
/* A target of policy, pushed at `at`: DEPOT_ERR_DUPLICATE if it has its row already. */
depot_err hub_store_reach_add(hub_store *s, long long policy, const char *dealer, long long at);
/* DEPOT_ERR_NOTFOUND if dealer is not a target of policy. */
depot_err hub_store_reach_get(hub_store *s, long long policy, const char *dealer,
                              struct hub_policy_reach *out);
/* Every target of policy, by dealer. */
depot_err hub_store_reach_list(hub_store *s, long long policy, hub_reach_cb cb, void *arg);
/* Pushed again at `at` (a re-push). DEPOT_ERR_NOTFOUND if not a target. */
depot_err hub_store_reach_pushed(hub_store *s, long long policy, const char *dealer, long long at);
/*
 * Records that what happened at `at` (by and via for an acknowledgement,
 * else ignored): the first time only; *changed (not NULL) tells whether it
 * was the first. DEPOT_ERR_NOTFOUND if dealer is not a target of policy.
 */
depot_err hub_store_reach_mark(hub_store *s, long long policy, const char *dealer,
                               enum hub_reach_mark what, long long at, const char *by,
                               const char *via, bool *changed);
/* The policies of dealer valid on today (YYYY-MM-DD) and not withdrawn, newest first, at most
 * limit: what its gateway holds (down/policy). */
depot_err hub_store_dealer_policies(hub_store *s, const char *dealer, const char *today,
                                    long long limit, hub_dealer_policy_cb cb, void *arg);

/* The dealer's down/policy is due (again) since at (the later of two marks stays). */
depot_err hub_store_policy_due_mark(hub_store *s, const char *dealer, long long at);
/* At most limit due dealers, the longest due first. */
depot_err hub_store_policy_due_list(hub_store *s, long long limit, hub_name_cb cb, void *arg);
/* The dealer's list was published with what was due up to at: no longer due (a mark after at
 * stays). */
depot_err hub_store_policy_due_done(hub_store *s, const char *dealer, long long at);

#endif
