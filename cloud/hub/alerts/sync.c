/*
 * Several engines on one database (invariant 6 of private.h): the engine
 * log entry of a transaction, and the reload of what other engines named.
 */
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "alerts/private.h"

/* A growing text of space-separated words. */
struct words {
    char *text;
    size_t len, cap;
    bool nomem;
};

static void words_add(struct words *w, const char *a, const char *b)
{
    size_t n = strlen(a) + (b ? strlen(b) + 1 : 0) + 2;
    char *grown;
    if (w->nomem)
        return;
    if (w->len + n > w->cap) {
        size_t cap = (w->len + n) * 2;
        if (!(grown = depot_realloc(w->text, cap))) {
            w->nomem = true;
            return;
        }
        w->text = grown;
        w->cap = cap;
    }
    w->len += (size_t)snprintf(w->text + w->len, w->cap - w->len, "%s%s%s%s", w->len ? " " : "", a,
                               b ? "/" : "", b ? b : "");
}

depot_err alerts_log_changes(hub_alerts *a, hub_store *s, long long now)
{
    struct words w = {0};
    depot_err err;
    for (struct dealer_ent *d = a->dirty; d; d = d->dirty_next)
        words_add(&w, d->id, d->all_cells ? "*" : NULL);
    for (struct cell *c = a->dirty_cells; c; c = c->log_next)
        if (!c->d->all_cells)
            words_add(&w, c->d->id, c->k->id);
    if (w.nomem) {
        depot_free(w.text);
        return DEPOT_ERR_NOMEM;
    }
    if (!w.text)
        return DEPOT_OK;
    err = hub_store_log_add(s, HUB_LOG_ALERTS, a->writer, w.text, now);
    depot_free(w.text);
    return err;
}

struct log_walk {
    hub_alerts *a;
    struct dealer_ent *stale;
    struct cell *cells;
    bool nomem;
};

/* One word of an entry: "D", "D/SKU", or D, "/" and "*" (all its cells). */
static bool log_word(struct log_walk *w, const char *p, size_t n)
{
    char id[DEPOT_DEALER_MAX + 1], sku[DEPOT_SKU_MAX + 1];
    size_t cut = 0;
    struct dealer_ent *d;
    struct cell *c;
    while (cut < n && p[cut] != '/')
        cut++;
    if (cut == 0 || cut >= sizeof(id) ||
        (cut < n && (n - cut - 1 == 0 || n - cut - 1 >= sizeof(sku))))
        return true; /* not a word this engine wrote: skipped */
    memcpy(id, p, cut);
    id[cut] = '\0';
    if (!(d = alerts_dealer_get(w->a, id, true)))
        return false;
    if (!d->stale) {
        d->stale = true;
        d->stale_next = w->stale;
        w->stale = d;
    }
    if (cut == n)
        return true;
    memcpy(sku, p + cut + 1, n - cut - 1);
    sku[n - cut - 1] = '\0';
    if (!strcmp(sku, "*")) {
        d->stale_all = true;
        return true;
    }
    if (!depot_id_valid(sku, DEPOT_SKU_MAX))
        return true;
    if (!(c = alerts_cell_get(w->a, id, sku)))
        return false;
    if (!c->stale) {
        c->stale = true;
        c->stale_next = w->cells;
        w->cells = c;
    }
    return true;
}

static int log_entry(void *arg, long long seq, const char *writer, const char *dealers)
{
    struct log_walk *w = arg;
    w->a->log_seq = seq;
    if (!strcmp(writer, w->a->writer))
        return 0; /* this engine's own: its state is the database's */
    for (const char *p = dealers; *p && !w->nomem;) {
        size_t n = strcspn(p, " ");
        if (n && !log_word(w, p, n))
            w->nomem = true;
        p += n + (p[n] == ' ');
    }
    return w->nomem;
}

/* Forgets what the engine holds of a cell before it is read again. */
static void cell_forget(hub_alerts *a, struct cell *c)
{
    c->was_source = alerts_is_source(a, c);
    memset(c->st, 0, sizeof(c->st));
    depot_free(c->shown);
    c->shown = NULL;
    c->has_qty = false;
    c->qty = c->shrink_total = c->shrink_back = 0;
    c->velocity = 0;
}

/* Reads again, in one read of each kind, the dealers and cells the walk found stale. */
static depot_err reload_stale(hub_alerts *a, hub_store *s, struct log_walk *lw, long long now)
{
    struct load_ctx l = {a, now, false};
    struct words dealers = {0}, cells = {0}, all = {0};
    long long today = now / HUB_DAY_MS;
    struct hub_alert_reload r = {.from_day = today - a->cfg->alert_velocity_days + 1,
                                 .to_day = today,
                                 .dealer = alerts_load_dealer,
                                 .stock = alerts_load_stock,
                                 .sum = alerts_load_velocity,
                                 .alert = alerts_load_alert,
                                 .memo = alerts_load_memo};
    depot_err err = DEPOT_OK;
    for (struct dealer_ent *d = lw->stale; d; d = d->stale_next) {
        words_add(&dealers, d->id, NULL);
        if (d->stale_all)
            words_add(&all, d->id, NULL);
        memset(&d->offline, 0, sizeof(d->offline));
        memset(&d->contract, 0, sizeof(d->contract));
        memset(&d->outbox, 0, sizeof(d->outbox));
        for (struct node_ent *n = d->nodes; n; n = n->next)
            memset(&n->fault, 0, sizeof(n->fault));
        for (struct cell *c = d->cells; d->stale_all && c; c = c->dealer_next)
            cell_forget(a, c);
    }
    for (struct cell *c = lw->cells; c; c = c->stale_next)
        if (!c->d->stale_all) {
            words_add(&cells, c->d->id, c->k->id);
            cell_forget(a, c);
        }
    if (dealers.nomem || cells.nomem || all.nomem)
        err = DEPOT_ERR_NOMEM;
    r.dealers = dealers.text ? dealers.text : "";
    r.cells = cells.text ? cells.text : "";
    r.all = all.text ? all.text : "";
    if (err == DEPOT_OK)
        err = hub_store_alert_reload(s, &r, &l);
    if (err == DEPOT_OK && l.nomem)
        err = DEPOT_ERR_NOMEM;
    for (struct dealer_ent *d = lw->stale; d; d = d->stale_next)
        for (struct cell *c = d->cells; err == DEPOT_OK && d->stale_all && c; c = c->dealer_next)
            if (c->was_source != alerts_is_source(a, c))
                alerts_resuggest(a, c);
    for (struct cell *c = lw->cells; err == DEPOT_OK && c; c = c->stale_next)
        if (!c->d->stale_all && c->was_source != alerts_is_source(a, c))
            alerts_resuggest(a, c);
    depot_free(dealers.text);
    depot_free(cells.text);
    depot_free(all.text);
    return err;
}

depot_err alerts_sync(hub_alerts *a, hub_store *s, long long now)
{
    struct log_walk w = {a, NULL, NULL, false};
    long long head, pruned, from = a->log_seq;
    struct dealer_ent *d;
    struct cell *c;
    depot_err err;
    if (!a->loaded) { /* what changed while it was not loaded counts now, as it would have */
        err = alerts_load(a, s, now);
        err = err == DEPOT_OK ? alerts_eval_all_cells(a, s, false, now) : err;
        a->fresh = err != DEPOT_OK;
        return err;
    }
    if (a->synced)
        return DEPOT_OK;
    err = hub_store_log_read(s, HUB_LOG_ALERTS, a->log_seq, log_entry, &w, &head, &pruned);
    if (err == DEPOT_OK && w.nomem)
        err = DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK && from < pruned) {
        LOG_INFO("alerts: the engine log moved past this engine (read up to %lld, kept from "
                 "%lld): reloading everything",
                 from, pruned);
        a->loaded = false; /* everything again, the stale marks too */
        return alerts_sync(a, s, now);
    }
    if (err == DEPOT_OK && (w.stale || w.cells))
        err = reload_stale(a, s, &w, now);
    while ((d = w.stale)) {
        w.stale = d->stale_next;
        d->stale = d->stale_all = false;
    }
    while ((c = w.cells)) {
        w.cells = c->stale_next;
        c->stale = false;
    }
    a->synced = err == DEPOT_OK;
    return err;
}
