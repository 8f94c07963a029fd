/* Helpers shared by the hub's unit tests: temp folders and message builders. */
#ifndef HUB_TEST_UTIL_H
#define HUB_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "depot/msg.h"

#define LEDGER_A "0123456789abcdef0123456789abcdef"
#define LEDGER_B "fedcba9876543210fedcba9876543210"

/* A fresh folder under $TMPDIR (or /tmp); path into buf. */
static inline void test_tmpdir(char *buf, size_t len)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, len, "%s/hubtest-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(buf))
        abort();
}

static inline void test_rmdir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* A token "<name>-token-000" of role in c, acting for stage (NULL: none listed). */
static inline void test_add_token(struct hub_config *c, const char *name, enum hub_role role,
                                  const char *stage)
{
    struct hub_token *t = &c->tokens[c->n_tokens++];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    snprintf(t->token, sizeof(t->token), "%s-token-000", name);
    t->role = role;
    if (stage) {
        snprintf(t->stages[0], sizeof(t->stages[0]), "%s", stage);
        t->n_stages = 1;
    }
}

static inline depot_msg test_stock(const char *dealer, const char *ledger, uint64_t id,
                                   uint64_t base, long long ts, const char *sku, long long qty)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_STOCK;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", ledger);
    m.id = id;
    m.base = base;
    m.ts = ts;
    snprintf(m.body.stock.sku, sizeof(m.body.stock.sku), "%s", sku);
    m.body.stock.qty = qty;
    m.body.stock.delta = 1;
    snprintf(m.body.stock.node, sizeof(m.body.stock.node), "scale-a");
    return m;
}

static inline depot_msg test_event(const char *dealer, uint64_t id, long long ts, const char *node,
                                   const char *event, const char *reason)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_EVENT;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", LEDGER_A);
    m.id = id;
    m.base = 1;
    m.ts = ts;
    snprintf(m.body.event.node, sizeof(m.body.event.node), "%s", node);
    snprintf(m.body.event.event, sizeof(m.body.event.event), "%s", event);
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "%s", reason);
    return m;
}

static inline depot_msg test_state(const char *dealer, bool online, long long session, long long ts)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_STATE;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    m.ts = ts;
    m.body.state.online = online;
    m.body.state.session = session;
    return m;
}

#endif
