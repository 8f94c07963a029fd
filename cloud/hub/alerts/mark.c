/*
 * What a transaction changed, for the engine log (invariant 6 of private.h):
 * the dealers and cells it marks, and the slots it keeps in the store.
 */
#include "alerts/private.h"

void alerts_mark(hub_alerts *a, struct dealer_ent *d)
{
    if (d && !d->dirty) {
        d->dirty = true;
        d->dirty_next = a->dirty;
        a->dirty = d;
    }
}

void alerts_mark_id(hub_alerts *a, const char *dealer)
{
    alerts_mark(a, alerts_dealer_get(a, dealer, false));
}

void alerts_mark_cell(hub_alerts *a, struct cell *c)
{
    if (c && !c->logged) {
        c->logged = true;
        c->log_next = a->dirty_cells;
        a->dirty_cells = c;
    }
}

void alerts_unmark_all(hub_alerts *a)
{
    struct dealer_ent *d;
    struct cell *c;
    while ((d = a->dirty)) {
        a->dirty = d->dirty_next;
        d->dirty = d->all_cells = false;
    }
    while ((c = a->dirty_cells)) {
        a->dirty_cells = c->log_next;
        c->logged = false;
    }
}

depot_err alerts_memo(hub_store *s, const struct slot *st, const struct alert_key *k)
{
    struct hub_alert_memo m = {.dealer = k->dealer,
                               .sku = k->sku,
                               .kind = hub_alert_kind_name(k->kind),
                               .subject = k->subject,
                               .id = st->id,
                               .sg_hash = st->sg_hash,
                               .tally = k->c ? k->c->shrink_total : 0,
                               .back = k->c ? k->c->shrink_back : 0};
    return st->live ? hub_store_alert_memo_set(s, &m) : DEPOT_OK;
}
