/*
 * Suggestions for a stock alert: how much to replenish and which dealers
 * nearby have a surplus to transfer (invariant 4 of private.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/digest.h"
#include "alerts/private.h"

/* ---- suggestions (invariant 4) ---- */

double hub_alerts_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0088, rad = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

/* Whether transfer x ranks before y: live before stale, then nearer (a known distance before
 * an unknown one), then fresher, then by dealer id. */
static bool ranks_before(const struct transfer *x, const struct transfer *y)
{
    if (x->stale != y->stale)
        return !x->stale;
    if (x->has_km != y->has_km)
        return x->has_km;
    if (x->has_km && x->km != y->km)
        return x->km < y->km;
    if (x->age_s != y->age_s)
        return x->age_s < y->age_s;
    return strcmp(x->d->id, y->d->id) < 0;
}

static void rank_in(struct suggestion *sg, const struct transfer *t)
{
    int i = sg->n < HUB_TRANSFERS_MAX ? sg->n++ : HUB_TRANSFERS_MAX;
    if (i == HUB_TRANSFERS_MAX && !ranks_before(t, &sg->t[HUB_TRANSFERS_MAX - 1]))
        return;
    if (i == HUB_TRANSFERS_MAX)
        i--;
    while (i > 0 && ranks_before(t, &sg->t[i - 1])) {
        sg->t[i] = sg->t[i - 1];
        i--;
    }
    sg->t[i] = *t;
}

static long long keep_level(const hub_alerts *a, const struct cell *c)
{
    long long by_sales = (long long)ceil(c->velocity * (double)a->cfg->alert_target_cover_days);
    return by_sales > c->k->reorder_point ? by_sales : c->k->reorder_point;
}

/* The transfer of up to need units from o to dealer d; false when o has no surplus. */
static bool transfer_from(const hub_alerts *a, const struct cell *o, const struct dealer_ent *d,
                          long long need, long long now, struct transfer *t)
{
    long long surplus = o->qty - keep_level(a, o);
    if (!o->has_qty || surplus <= 0)
        return false;
    memset(t, 0, sizeof(*t));
    t->d = o->d;
    t->qty = surplus < need ? surplus : need;
    t->has_km = d->has_loc && o->d->has_loc;
    t->km = t->has_km ? hub_alerts_distance_km(d->lat, d->lon, o->d->lat, o->d->lon) : 0;
    t->age_s = now > o->d->last_seen ? (now - o->d->last_seen) / 1000 : 0;
    t->stale = !alerts_dealer_online(a, o->d, now);
    return true;
}

void alerts_suggest(const hub_alerts *a, const struct cell *c, long long now, struct suggestion *sg)
{
    const struct dealer_ent *d = c->d;
    memset(sg, 0, sizeof(*sg));
    if (c->velocity > 0) {
        sg->replenish =
            (long long)ceil(c->velocity * (double)a->cfg->alert_target_cover_days) - c->qty;
        sg->replenish = sg->replenish > 0 ? sg->replenish : 0;
    } else {
        sg->replenish = c->k->reorder_point + 1 - c->qty;
        sg->replenish = sg->replenish > 1 ? sg->replenish : 1;
    }
    for (const struct cell *o = c->k->cells; sg->replenish > 0 && o; o = o->sku_next) {
        struct transfer t;
        if (o != c && transfer_from(a, o, d, sg->replenish, now, &t))
            rank_in(sg, &t);
    }
}

/* Whether c can be named as the source of a transfer (invariant 4). */
bool alerts_is_source(const hub_alerts *a, const struct cell *c)
{
    return c->has_qty && c->qty > keep_level(a, c);
}

/* A new stock value of c; the suggestions of its SKU are recomputed when c starts or stops
 * being a possible source (invariant 4). */
void alerts_set_qty(hub_alerts *a, struct cell *c, long long qty)
{
    bool was = alerts_is_source(a, c);
    c->qty = qty;
    c->has_qty = true;
    if (was != alerts_is_source(a, c))
        alerts_resuggest(a, c);
}

/* What a suggestion names: the dealers in their order, with their distance and staleness;
 * not the quantities and ages, which move with every count (never 0). */
uint64_t alerts_suggestion_hash(const struct suggestion *sg)
{
    char buf[96];
    uint64_t h = DEPOT_DIGEST_INIT;
    for (int i = 0; i < sg->n; i++) {
        const struct transfer *t = &sg->t[i];
        snprintf(buf, sizeof(buf), "%d/%.1f/%d", t->has_km, t->has_km ? t->km : 0.0, t->stale);
        h = depot_digest_str(t->d->id, depot_digest_str(buf, h));
    }
    return h | 1;
}

/* Keeps what c's live stock alerts now show, for alerts_moved_source_matters(). */
depot_err alerts_remember(struct cell *c, const struct suggestion *sg)
{
    if (!c->shown && !(c->shown = depot_malloc(sizeof(*c->shown))))
        return DEPOT_ERR_NOMEM;
    *c->shown = *sg;
    return DEPOT_OK;
}

/* Whether o, which became or stopped being a source, can change what r's live stock alerts
 * show: it is named there, or it now ranks among the transfers named. */
bool alerts_moved_source_matters(const hub_alerts *a, const struct cell *r, const struct cell *o,
                                 long long now)
{
    const struct suggestion *sg = r->shown;
    struct transfer t;
    if (!sg)
        return true;
    for (int i = 0; i < sg->n; i++)
        if (sg->t[i].d == o->d)
            return true;
    if (sg->replenish <= 0 || !transfer_from(a, o, r->d, sg->replenish, now, &t))
        return false;
    return sg->n < HUB_TRANSFERS_MAX || ranks_before(&t, &sg->t[sg->n - 1]);
}

void alerts_suggestion_json(const struct suggestion *sg, char *buf, size_t len)
{
    size_t at =
        (size_t)snprintf(buf, len, "{\"replenish_qty\":%lld,\"transfers\":[", sg->replenish);
    for (int i = 0; i < sg->n && at < len; i++) {
        const struct transfer *t = &sg->t[i];
        char km[32];
        if (t->has_km)
            snprintf(km, sizeof(km), "%.1f", t->km);
        else
            snprintf(km, sizeof(km), "null");
        at +=
            (size_t)snprintf(buf + at, len - at,
                             "%s{\"dealer\":\"%s\",\"qty\":%lld,\"distance_km\":%s,\"age_s\":%lld}",
                             i ? "," : "", t->d->id, t->qty, km, t->age_s);
    }
    if (at < len)
        snprintf(buf + at, len - at, "]}");
}

void alerts_action_text(const struct suggestion *sg, char *buf, size_t len)
{
    const struct transfer *t = sg->n ? &sg->t[0] : NULL;
    if (sg->replenish <= 0)
        snprintf(buf, len, "no replenishment needed at the current sales rate");
    else if (t && t->has_km)
        snprintf(buf, len, "replenish %lld; or transfer %lld from %s (%.1f km)", sg->replenish,
                 t->qty, t->d->id, t->km);
    else if (t)
        snprintf(buf, len, "replenish %lld; or transfer %lld from %s", sg->replenish, t->qty,
                 t->d->id);
    else
        snprintf(buf, len, "replenish %lld", sg->replenish);
}
