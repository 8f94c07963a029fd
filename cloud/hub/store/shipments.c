/* The shipment domain's calls, dispatched to the store's implementation (store/shipments.h). */
#include "store/shipments.h"

depot_err hub_store_shipment_add(hub_store *s, const struct hub_shipment *sh,
                                 const struct hub_shipment_line *lines, size_t n_lines,
                                 const struct hub_item_code *codes, size_t n_codes)
{
    return s->ops->shipments->add(s, sh, lines, n_lines, codes, n_codes);
}

depot_err hub_store_shipment_get(hub_store *s, const char *id, hub_shipment_cb cb, void *arg)
{
    return s->ops->shipments->get(s, id, cb, arg);
}

depot_err hub_store_shipment_lines(hub_store *s, const char *id, hub_shipment_line_cb cb, void *arg)
{
    return s->ops->shipments->lines(s, id, cb, arg);
}

depot_err hub_store_shipment_codes(hub_store *s, const char *shipment, hub_item_code_cb cb,
                                   void *arg)
{
    return s->ops->shipments->codes(s, shipment, cb, arg);
}

depot_err hub_store_shipments_list(hub_store *s, const char *dealer, long long from, long long to,
                                   const char *after, long long limit, hub_shipment_cb cb,
                                   void *arg)
{
    return s->ops->shipments->list(s, dealer, from, to, after ? after : "", limit, cb, arg);
}

depot_err hub_store_item_code(hub_store *s, const char *code, hub_item_code_cb cb, void *arg)
{
    return s->ops->shipments->code(s, code, cb, arg);
}

depot_err hub_store_code_scans_keep(hub_store *s, const depot_msg *m)
{
    const struct depot_movements_body *b = &m->body.movements;
    depot_err err = DEPOT_OK;
    for (size_t i = 0; err == DEPOT_OK && i < b->n_items; i++) {
        const struct depot_movement_item *it = &b->items[i];
        struct hub_code_scan sc = {m->dealer, m->ledger, it->mid,  it->ts,
                                   it->code,  it->sku,   it->kind, it->node};
        if (it->code[0])
            err = s->ops->shipments->scan_add(s, &sc);
    }
    return err;
}

depot_err hub_store_code_scans(hub_store *s, const char *code, hub_code_scan_cb cb, void *arg)
{
    return s->ops->shipments->scans(s, code, cb, arg);
}

depot_err hub_store_territory_get(hub_store *s, const char *dealer, char *polygon, size_t len)
{
    return s->ops->shipments->territory_get(s, dealer, polygon, len);
}

depot_err hub_store_territory_put(hub_store *s, const char *dealer, const char *polygon)
{
    return s->ops->shipments->territory_put(s, dealer, polygon);
}
