/*
 * Policies and promotions pushed to dealers (store/policies.h keeps them):
 * publishing one (its targets resolved, a reach row and a due mark each),
 * re-pushing to the dealers who have not acknowledged it, the reach events
 * (delivered and acknowledged at a terminal, from the gateway's stream;
 * seen and acknowledged in the portal), and the retained down/policy
 * message of each due dealer: its valid policies, newest first, at most
 * DEPOT_POLICIES_MAX, each with whether the dealer acknowledged it (the
 * gateway then stops showing its notice).
 */
#ifndef HUB_POLICIES_H
#define HUB_POLICIES_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest.h"
#include "store/policies.h"

/* The dealers a policy or a task is sent to, resolved when it is published (see below). */
struct hub_targets {
    char (*ids)[DEPOT_DEALER_MAX + 1];
    size_t n, cap;
    bool nomem;
};

/* A target's kind (all, region, tier, list) and value (a region, a tier, ids separated by
 * commas; "" for all); false with why. */
bool hub_target_ok(const char *kind, const char *value, char *why, size_t len);
/* The target's dealers into t (empty at the call, freed with hub_targets_free), in the caller's
 * transaction. DEPOT_ERR_INVAL with why for a list naming something that is not a dealer id. */
depot_err hub_targets_resolve(hub_store *s, const char *kind, const char *value,
                              struct hub_targets *t, char *why, size_t len);
void hub_targets_free(struct hub_targets *t);

/*
 * Checks p (title, notice, dates, target) and writes it, a reach row and a
 * due mark for every target dealer, in one transaction of its own. Targets:
 * target_kind "all" every dealer the hub knows (heard of or with a profile),
 * "region" and "tier" those whose profile says target, "list" the ids of
 * target separated by commas. DEPOT_ERR_INVAL with why (nothing written),
 * DEPOT_ERR_NOTFOUND when no dealer is a target; *n_targets the dealers
 * reached.
 */
depot_err hub_policies_publish(hub_store *s, struct hub_policy *p, long long now, size_t *n_targets,
                               char *why, size_t why_len);

/* Pushes policy again to each target that has not acknowledged it (pushed_at now, due);
 * *n how many. DEPOT_ERR_NOTFOUND for no such policy. Its own transaction. */
depot_err hub_policies_repush(hub_store *s, long long id, long long now, size_t *n);

/*
 * A reach event of dealer for policy, in the caller's transaction: the first
 * of each kind is kept (*changed); an acknowledgement makes the dealer due,
 * so its gateway learns it. DEPOT_ERR_NOTFOUND if dealer is not a target.
 */
depot_err hub_policies_mark(hub_store *s, long long id, const char *dealer,
                            enum hub_reach_mark what, long long now, const char *by,
                            const char *via, bool *changed);

/*
 * A message applied by ingest, in its transaction: the stream events
 * policy_delivered (node "gateway") and policy_ack (node: the terminal)
 * mark the reach of the message's own dealer (so a gateway marks only its
 * dealer's). An id that is not a number, or a policy the dealer is not a
 * target of, is logged and changes nothing.
 */
depot_err hub_policies_on_message(hub_store *s, const depot_msg *m, long long now);

/* Publishes the due dealers' down/policy (retained), one batch of at most HUB_POLICIES_DUE_BATCH
 * dealers in one transaction; *n sent (a full batch: more may be due, call again). */
#define HUB_POLICIES_DUE_BATCH 256
depot_err hub_policies_publish_due(hub_store *s, hub_publish_fn publish, void *publish_ctx,
                                   long long now, int *n);

/* The UTC date of ms as YYYY-MM-DD. */
void hub_policies_date(long long ms, char out[DEPOT_DATE_LEN + 1]);

#endif
