/*
 * Anti-diversion with one code per item (diversion.h).
 *
 * For every applied movement that carried an item code (a receive or a pick
 * of one item by its own code at a terminal), in the transaction that
 * applied it:
 *
 *   the code's shipment (item_codes)       another dealer's -> a diversion
 *                                          alert at the dealer where it
 *                                          turned up; none -> counted as
 *                                          unknown (logged)
 *   a pick, and the code's last scan       -> a double_pick alert (the same
 *   before it a pick (code_scans, any         item cannot leave twice; one
 *   dealer)                                   received again, a return, may)
 *
 * An item's first scan at a dealer other than the one it was shipped to is
 * one diversion incident of the dealer it was shipped to (its goods left its
 * territory): the ranking's diversion KPI (ranking/engine.h), fed here in
 * the same transaction and rebuilt from code_scans and item_codes.
 *
 * A territory is the dealer's profile region and, when set, its polygon
 * (dealer_territories). When the dealer it turned up at has a place and the
 * dealer it was shipped to a polygon, the alert says whether that place lies
 * inside it (ray casting: points on the edge count as inside either way).
 */
#include "diversion.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot/log.h"
#include "ranking/service.h"
#include "store/shipments.h"

static void cut(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The text, cut to len (an alert's text is bounded; what does not fit is not needed). */
static void cut(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, len, fmt, ap);
    va_end(ap);
}

struct shipped {
    bool found;
    char dealer[DEPOT_DEALER_MAX + 1], shipment[HUB_SHIPMENT_ID_MAX + 1];
};

static int shipped_row(void *arg, const struct hub_item_code *c)
{
    struct shipped *sh = arg;
    sh->found = true;
    snprintf(sh->dealer, sizeof(sh->dealer), "%s", c->dealer);
    snprintf(sh->shipment, sizeof(sh->shipment), "%s", c->shipment);
    return 0;
}

struct earlier {
    const depot_msg *m;
    const struct depot_movement_item *it;
    bool found, picked; /* a scan before this one; the last of them a pick */
    bool here;          /* one of them at this dealer */
    char dealer[DEPOT_DEALER_MAX + 1], node[DEPOT_NODE_MAX + 1];
};

/* The code's last scan before this movement (in time): an item received again after a pick
 * (a return) may leave again. */
static int last_row(void *arg, const struct hub_code_scan *sc)
{
    struct earlier *e = arg;
    if (sc->ts > e->it->ts || (!strcmp(sc->dealer, e->m->dealer) &&
                               !strcmp(sc->ledger, e->m->ledger) && sc->mid == e->it->mid))
        return 0;
    e->found = true;
    e->picked = !strcmp(sc->kind, "pick");
    e->here = e->here || !strcmp(sc->dealer, e->m->dealer);
    snprintf(e->dealer, sizeof(e->dealer), "%s", sc->dealer);
    snprintf(e->node, sizeof(e->node), "%s", sc->node);
    return 0;
}

bool hub_territory_contains(const char *polygon, double lat, double lon)
{
    double y[HUB_TERRITORY_POINTS_MAX], x[HUB_TERRITORY_POINTS_MAX];
    size_t n = 0;
    bool in = false;
    const char *p = polygon;
    while (p && *p && n < HUB_TERRITORY_POINTS_MAX) {
        char *end;
        y[n] = strtod(p, &end);
        if (*end != ',')
            return false;
        x[n] = strtod(end + 1, &end);
        n++;
        p = *end == ';' ? end + 1 : NULL;
    }
    for (size_t i = 0, j = n - 1; n >= 3 && i < n; j = i++)
        if ((y[i] > lat) != (y[j] > lat) &&
            lon < (x[j] - x[i]) * (lat - y[i]) / (y[j] - y[i]) + x[i])
            in = !in;
    return in;
}

/* "region R", "region R + area" or "no territory", into out. */
static depot_err territory(hub_store *s, const char *dealer, struct hub_dealer_profile *prof,
                           char *polygon, size_t len, char *out, size_t out_len)
{
    depot_err err = hub_store_profile_get(s, dealer, prof);
    if (err == DEPOT_ERR_NOTFOUND) {
        memset(prof, 0, sizeof(*prof));
        err = DEPOT_OK;
    }
    if (err == DEPOT_OK)
        err = hub_store_territory_get(s, dealer, polygon, len);
    if (err != DEPOT_OK)
        return err;
    cut(out, out_len, "%s%s%s%s", prof->region[0] ? "region " : "", prof->region,
        prof->region[0] && polygon[0] ? " + " : "", polygon[0] ? "area" : "");
    if (!prof->region[0] && !polygon[0])
        snprintf(out, out_len, "no territory");
    return DEPOT_OK;
}

static depot_err diverted(hub_alerts *a, hub_store *s, const depot_msg *m,
                          const struct depot_movement_item *it, const struct shipped *sh,
                          long long now)
{
    struct hub_dealer_profile from, at;
    char poly_from[HUB_TERRITORY_TEXT_MAX + 1], poly_at[HUB_TERRITORY_TEXT_MAX + 1];
    char t_from[48], t_at[48], text[DEPOT_TEXT_MAX + 1], where[48] = "";
    depot_err err =
        territory(s, sh->dealer, &from, poly_from, sizeof(poly_from), t_from, sizeof(t_from));
    if (err == DEPOT_OK)
        err = territory(s, m->dealer, &at, poly_at, sizeof(poly_at), t_at, sizeof(t_at));
    if (err != DEPOT_OK)
        return err;
    if (poly_from[0] && at.has_location)
        cut(where, sizeof(where), "; %s's place is %s %s's area", m->dealer,
            hub_territory_contains(poly_from, at.lat, at.lon) ? "inside" : "outside", sh->dealer);
    cut(text, sizeof(text), "%s %s shipped to %s (%s) turned up at %s (%s): %s at %s%s", it->sku,
        it->code, sh->dealer, t_from, m->dealer, t_at, it->kind, it->node, where);
    LOG_WARN("diversion: item %s (%s) of shipment %s to %s %s at %s/%s", it->code, it->sku,
             sh->shipment, sh->dealer, it->kind, m->dealer, it->node);
    return a ? hub_alerts_event(a, s, m->dealer, HUB_AK_DIVERSION, it->code, "critical", text, now)
             : DEPOT_OK;
}

static depot_err check_item(hub_alerts *a, hub_ranking *rk, hub_store *s, const depot_msg *m,
                            const struct depot_movement_item *it, struct hub_code_counts *n,
                            long long now)
{
    struct shipped sh = {0};
    struct earlier e = {.m = m, .it = it};
    char text[DEPOT_TEXT_MAX + 1];
    depot_err err = hub_store_item_code(s, it->code, shipped_row, &sh);
    if (err != DEPOT_OK && err != DEPOT_ERR_NOTFOUND)
        return err;
    err = hub_store_code_scans(s, it->code, last_row, &e);
    if (err != DEPOT_OK)
        return err;
    n->scanned++;
    if (!sh.found) {
        n->unknown++;
        LOG_WARN("item code %s (%s) %s at %s/%s: no shipment registered it", it->code, it->sku,
                 it->kind, m->dealer, it->node);
    } else if (strcmp(sh.dealer, m->dealer) != 0) {
        n->diverted++;
        err = diverted(a, s, m, it, &sh, now);
        if (err == DEPOT_OK && !e.here) { /* its first scan here: one incident of sh.dealer's */
            n->incidents++;
            err = hub_ranking_note_diversion(rk, sh.dealer, it->ts);
        }
    }
    if (err != DEPOT_OK || strcmp(it->kind, "pick") != 0 || !e.found || !e.picked)
        return err;
    n->picked_twice++;
    cut(text, sizeof(text), "%s %s picked out again at %s (%s), after a pick at %s (%s)", it->sku,
        it->code, m->dealer, it->node, e.dealer, e.node);
    LOG_WARN("item code %s picked again at %s/%s (before at %s/%s)", it->code, m->dealer, it->node,
             e.dealer, e.node);
    return a ? hub_alerts_event(a, s, m->dealer, HUB_AK_DOUBLE_PICK, it->code, "critical", text,
                                now)
             : DEPOT_OK;
}

depot_err hub_diversion_check(hub_alerts *a, hub_ranking *rk, hub_store *s, const depot_msg *m,
                              struct hub_code_counts *n, long long now)
{
    const struct depot_movements_body *b = &m->body.movements;
    depot_err err = DEPOT_OK;
    memset(n, 0, sizeof(*n));
    if (m->type != DEPOT_MSG_MOVEMENTS)
        return DEPOT_OK;
    for (size_t i = 0; err == DEPOT_OK && i < b->n_items; i++)
        if (b->items[i].code[0] &&
            (!strcmp(b->items[i].kind, "receive") || !strcmp(b->items[i].kind, "pick")))
            err = check_item(a, rk, s, m, &b->items[i], n, now);
    return err;
}
