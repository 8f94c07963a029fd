/*
 * The store's ranking domain (store/sqlite/ranking.c on SQLite), called
 * through hub_store_ops.ranking like the order domain.
 *
 * The ranking keeps its aggregates in memory (ranking/engine.c) and rebuilds them
 * at start from what the store already holds: payments, orders, forged
 * orders, daily sales (hub_store_picked_sums of the history domain) and the
 * one thing only the ranking writes, the presence log: each time a dealer
 * went online or offline by the ranking's rule, appended, never changed.
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM.
 */
#ifndef HUB_STORE_RANKING_H
#define HUB_STORE_RANKING_H

#include <stdbool.h>

#include "store/store.h"

enum hub_fact_kind {
    HUB_FACT_PAYMENT,   /* amount cents at at */
    HUB_FACT_ORDER,     /* an order (or forged order message) that arrived at at; flag: defective */
    HUB_FACT_INVOICE,   /* an order approved at at for amount cents */
    HUB_FACT_PRESENCE,  /* the dealer went online (flag) or offline at at */
    HUB_FACT_SEEN,      /* the dealer's last message was at at */
    HUB_FACT_TASK,      /* a task given to the dealer, due on the day at; flag: done by then */
    HUB_FACT_DIVERSION, /* an item shipped to the dealer first scanned at another dealer at at */
};

struct hub_fact {
    enum hub_fact_kind kind;
    const char *dealer;
    long long at, amount;
    bool flag;
};

typedef int (*hub_fact_cb)(void *arg, const struct hub_fact *f);

struct hub_store_ranking_ops {
    depot_err (*facts)(hub_store *s, hub_fact_cb cb, void *arg);
    depot_err (*presence_add)(hub_store *s, const char *dealer, long long at, bool online);
};

/*
 * Every fact the store holds, in this order: payments, orders (an ORDER for
 * each, an INVOICE for each approved), forged orders, the presence log in
 * the order it was written, each dealer's last_seen. An order is defective
 * when the hub rejected it on arrival for an unknown barcode or a qty out of
 * range (its reason text, as orders.c writes it), or when it was forged.
 */
depot_err hub_store_ranking_facts(hub_store *s, hub_fact_cb cb, void *arg);
/* Appends to the presence log (own statement; the caller's transaction or autocommit). */
depot_err hub_store_presence_add(hub_store *s, const char *dealer, long long at, bool online);

#endif
