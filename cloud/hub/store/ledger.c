/*
 * The ledger domain's calls and the chain step of an applied batch
 * (store/ledger.h), the same for every store implementation.
 */
#include "store/ledger.h"

#include <stdio.h>
#include <string.h>

#include "depot/log.h"

#define L(s) ((s)->ops->ledger)

const char *hub_chain_out_name(enum hub_chain_out o)
{
    static const char *const names[] = {
        [HUB_CHAIN_NONE] = "none",           [HUB_CHAIN_LINKED] = "linked",
        [HUB_CHAIN_STARTED] = "started",     [HUB_CHAIN_PLAIN] = "unchained",
        [HUB_CHAIN_FORK] = "fork",           [HUB_CHAIN_GAP] = "gap",
        [HUB_CHAIN_DOWNGRADE] = "downgrade", [HUB_CHAIN_REFUSED] = "forged",
    };
    return (size_t)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

bool hub_chain_out_break(enum hub_chain_out o)
{
    return o == HUB_CHAIN_FORK || o == HUB_CHAIN_GAP || o == HUB_CHAIN_DOWNGRADE ||
           o == HUB_CHAIN_REFUSED;
}


static bool chained(const depot_msg *m)
{
    return m->body.movements.sig != NULL && m->body.movements.n_items > 0;
}

depot_err hub_store_chain_check(hub_store *s, const depot_msg *m, bool *refuse)
{
    const struct depot_movements_body *b = &m->body.movements;
    struct hub_chain local = {.in = HUB_CHAIN_AS_SENT}, *c = s->chain ? s->chain : &local;
    enum hub_chain_in in = c->in;
    uint64_t first = b->n_items ? b->items[0].mid : 0,
             last = b->n_items ? b->items[b->n_items - 1].mid : 0;
    depot_err err;

    *refuse = false;
    if (in == HUB_CHAIN_AS_SENT)
        in = chained(m) ? HUB_CHAIN_VERIFIED : HUB_CHAIN_UNCHAINED;
    if (in == HUB_CHAIN_FORGED) {
        c->out = HUB_CHAIN_REFUSED;
        *refuse = true;
        LOG_WARN("movements %s/%s/%llu (movements %llu..%llu) refused: %s", m->dealer, m->ledger,
                 (unsigned long long)m->id, (unsigned long long)first, (unsigned long long)last,
                 c->why);
        return DEPOT_OK;
    }
    err = L(s)->head(s, m->dealer, m->ledger, &c->head_mid, c->head_hash, &c->had_head);
    if (err != DEPOT_OK)
        return err;
    if (in == HUB_CHAIN_UNCHAINED) {
        c->out = c->had_head ? HUB_CHAIN_DOWNGRADE : HUB_CHAIN_PLAIN;
        *refuse = c->had_head;
        if (*refuse)
            LOG_WARN("movements %s/%s/%llu (movements %llu..%llu) refused: sent without their "
                     "chain after chained ones (the head is movement %llu)",
                     m->dealer, m->ledger, (unsigned long long)m->id, (unsigned long long)first,
                     (unsigned long long)last, (unsigned long long)c->head_mid);
        return DEPOT_OK;
    }
    if (!c->had_head)
        c->out = HUB_CHAIN_STARTED;
    else if (c->head_mid + 1 == first)
        c->out = strcmp(c->head_hash, b->prev) == 0 ? HUB_CHAIN_LINKED : HUB_CHAIN_FORK;
    else
        c->out = c->head_mid + 1 < first ? HUB_CHAIN_GAP : HUB_CHAIN_FORK;
    if (hub_chain_out_break(c->out))
        LOG_WARN("movements %s/%s/%llu (movements %llu..%llu, after %.12s): a %s of the chain, "
                 "whose head at the hub is movement %llu (%.12s)",
                 m->dealer, m->ledger, (unsigned long long)m->id, (unsigned long long)first,
                 (unsigned long long)last, b->prev, hub_chain_out_name(c->out),
                 (unsigned long long)c->head_mid, c->head_hash);
    return DEPOT_OK;
}

depot_err hub_store_chain_keep(hub_store *s, const depot_msg *m, bool applied)
{
    const struct depot_movements_body *b = &m->body.movements;
    const struct depot_movement_item *lastm;
    char fpr[DEPOT_CHAIN_HEX + 1];
    struct hub_ledger_batch kb;
    depot_err err = DEPOT_OK;

    if (!chained(m))
        return DEPOT_OK;
    lastm = &b->items[b->n_items - 1];
    if (applied) {
        for (size_t i = 0; err == DEPOT_OK && i < b->n_items; i++)
            err = L(s)->hash_add(s, m->dealer, m->ledger, b->items[i].mid, b->items[i].ts,
                                 b->items[i].hash);
        if (err == DEPOT_OK)
            err = depot_sha256_text(b->cert, strlen(b->cert), fpr);
        if (err == DEPOT_OK)
            err = L(s)->cert_add(s, fpr, b->cert);
        kb = (struct hub_ledger_batch){.first = b->items[0].mid,
                                       .last = lastm->mid,
                                       .ts = lastm->ts,
                                       .prev = b->prev,
                                       .hash = lastm->hash,
                                       .sig = b->sig,
                                       .cert = fpr};
        if (err == DEPOT_OK)
            err = L(s)->batch_add(s, m->dealer, m->ledger, &kb);
    }
    return err == DEPOT_OK ? L(s)->head_put(s, m->dealer, m->ledger, lastm->mid, lastm->hash) : err;
}

depot_err hub_store_ledger_spans(hub_store *s, const char *dealer, long long from, long long to,
                                 hub_ledger_span_cb cb, void *arg)
{
    return L(s)->spans(s, dealer, from, to, cb, arg);
}

depot_err hub_store_ledger_moves(hub_store *s, const char *dealer, const char *ledger, uint64_t lo,
                                 uint64_t hi, hub_ledger_move_cb cb, void *arg)
{
    return L(s)->moves(s, dealer, ledger, lo, hi, cb, arg);
}

depot_err hub_store_ledger_batches(hub_store *s, const char *dealer, const char *ledger,
                                   uint64_t lo, uint64_t hi, hub_ledger_batch_cb cb, void *arg)
{
    return L(s)->batches(s, dealer, ledger, lo, hi, cb, arg);
}

depot_err hub_store_ledger_hash_at(hub_store *s, const char *dealer, const char *ledger,
                                   uint64_t mid, char hash[DEPOT_CHAIN_HEX + 1], bool *found)
{
    return L(s)->hash_at(s, dealer, ledger, mid, hash, found);
}

depot_err hub_store_ledger_cert(hub_store *s, const char *fpr, char **pem)
{
    return L(s)->cert(s, fpr, pem);
}

depot_err hub_store_ledger_head(hub_store *s, const char *dealer, const char *ledger, uint64_t *mid,
                                char hash[DEPOT_CHAIN_HEX + 1], bool *found)
{
    return L(s)->head(s, dealer, ledger, mid, hash, found);
}
