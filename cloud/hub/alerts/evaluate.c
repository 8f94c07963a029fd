/*
 * Evaluation of every kind: low stock and forecast stock-out per cell, sales
 * spikes from the daily figures, shrinkage, a gateway offline, node faults,
 * contracts expiring; and the periodic pass (a new day, settings changed).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "alerts/private.h"
#include "store/tasks.h"

/* ---- stock kinds ---- */

static void verdict_low(const struct cell *c, struct verdict *v)
{
    v->holds = c->k->in_catalog && c->has_qty && c->qty <= c->k->reorder_point;
    if (!v->holds)
        return;
    v->severity = c->qty <= 0 ? "critical" : "warning";
    snprintf(v->text, sizeof(v->text), "%s at %s: %lld in stock, reorder point %lld", c->k->id,
             c->d->id, c->qty, c->k->reorder_point);
}

static void verdict_stockout(const struct cell *c, struct verdict *v)
{
    double cover;
    v->holds = c->k->in_catalog && c->has_qty && c->velocity > 0 &&
               (double)c->qty / c->velocity < (double)c->k->lead_time_days;
    if (!v->holds)
        return;
    cover = (double)(c->qty > 0 ? c->qty : 0) / c->velocity;
    v->severity = cover < (double)c->k->lead_time_days / 2 ? "critical" : "warning";
    snprintf(v->text, sizeof(v->text),
             "%s at %s: %.1f days of cover at %.2f/day, lead time %lld days", c->k->id, c->d->id,
             cover, c->velocity, c->k->lead_time_days);
}

/* Evaluates low_stock and stockout_forecast of a cell; SQL only when a slot changes. */
depot_err alerts_eval_stock(hub_alerts *a, hub_store *s, struct cell *c, long long now)
{
    struct verdict v[2] = {{0}, {0}};
    enum need n[2];
    struct suggestion sg;
    char json[512], action[DEPOT_TEXT_MAX + 1];
    depot_err err = DEPOT_OK;

    verdict_low(c, &v[0]);
    verdict_stockout(c, &v[1]);
    n[0] = alerts_needs(&c->st[CS_LOW], &v[0]);
    n[1] = alerts_needs(&c->st[CS_STOCKOUT], &v[1]);
    if (n[0] == NEED_NOTHING && n[1] == NEED_NOTHING)
        return DEPOT_OK; /* the hot path */
    if (n[0] == NEED_PUT || n[1] == NEED_PUT) {
        alerts_suggest(a, c, now, &sg);
        alerts_suggestion_json(&sg, json, sizeof(json));
        alerts_action_text(&sg, action, sizeof(action));
    }
    for (int i = 0; err == DEPOT_OK && i < 2; i++) {
        struct alert_key k = {c->d->id, c->k->id, "",
                              i ? HUB_AK_STOCKOUT_FORECAST : HUB_AK_LOW_STOCK, NULL};
        struct slot *st = &c->st[i ? CS_STOCKOUT : CS_LOW];
        if (n[i] == NEED_PUT) {
            st->sg_hash = alerts_suggestion_hash(&sg); /* kept with the slot by the put */
            err = alerts_alert_put(a, s, st, &k, &v[i], action, json, now);
            err = err == DEPOT_OK ? alerts_remember(c, &sg) : err;
        } else if (n[i] == NEED_RESOLVE)
            err = alerts_alert_clear(a, s, st, &k, now);
    }
    return err;
}

/* Rewrites the suggestion of c's live stock alerts when it no longer says the same
 * (invariant 4). An alert resolved by hand meanwhile is left alone (invariant 1). */
static depot_err refresh_cell(hub_alerts *a, hub_store *s, struct cell *c, long long now)
{
    struct suggestion sg;
    char json[512], action[DEPOT_TEXT_MAX + 1];
    uint64_t h;
    depot_err err = DEPOT_OK;
    if (!c->st[CS_LOW].live && !c->st[CS_STOCKOUT].live)
        return DEPOT_OK;
    alerts_suggest(a, c, now, &sg);
    h = alerts_suggestion_hash(&sg);
    err = alerts_remember(c, &sg);
    if (err != DEPOT_OK)
        return err;
    if ((!c->st[CS_LOW].live || c->st[CS_LOW].sg_hash == h) &&
        (!c->st[CS_STOCKOUT].live || c->st[CS_STOCKOUT].sg_hash == h))
        return DEPOT_OK;
    alerts_suggestion_json(&sg, json, sizeof(json));
    alerts_action_text(&sg, action, sizeof(action));
    for (int i = 0; err == DEPOT_OK && i < 2; i++) {
        struct slot *st = &c->st[i ? CS_STOCKOUT : CS_LOW];
        struct row_out o = {.now = now};
        if (!st->live || st->sg_hash == h)
            continue;
        err = hub_store_alert_refresh(s, st->id, action, json, now, alerts_capture_row, &o);
        if (err == DEPOT_OK) {
            err = alerts_queue_change(
                s, c->d->id, hub_alert_kind_name(i ? HUB_AK_STOCKOUT_FORECAST : HUB_AK_LOW_STOCK),
                &o, NULL); /* a new suggestion only: no webhook event */
            a->changed = true;
        } else {
            alerts_row_out_clear(&o);
            err = err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
        }
        if (err == DEPOT_OK && st->sg_hash != h) {
            struct alert_key k = {c->d->id, c->k->id, "",
                                  i ? HUB_AK_STOCKOUT_FORECAST : HUB_AK_LOW_STOCK, NULL};
            st->sg_hash = h;
            err = alerts_memo(s, st, &k);
            alerts_mark_cell(a, c);
        }
    }
    return err;
}

/* Recomputes the suggestions that the sources marked by alerts_resuggest() may change, or all of
 * them after a change of places, catalog, velocities or a dealer's freshness. */
depot_err alerts_refresh_suggestions(hub_alerts *a, hub_store *s, long long now)
{
    struct cell *o, *c;
    depot_err err = DEPOT_OK;
    if (a->resuggest_all) {
        a->resuggest_all = false;
        EACH(a->cells, c)
        {
            if (err == DEPOT_OK)
                err = refresh_cell(a, s, c, now);
        }
    }
    while ((o = a->moved)) {
        a->moved = o->moved_next;
        o->moved = false;
        for (struct cell *r = o->k->cells; err == DEPOT_OK && r; r = r->sku_next)
            if (r != o && (r->st[CS_LOW].live || r->st[CS_STOCKOUT].live) &&
                alerts_moved_source_matters(a, r, o, now))
                err = refresh_cell(a, s, r, now);
    }
    return err;
}

/* ---- sales: velocity and spike from the daily figures ---- */

struct day_sums {
    long long today, v_from, t_from;
    long long v_sum, t_sum, today_picks;
};

static int add_day(void *arg, const struct hub_day_row *d)
{
    struct day_sums *w = arg;
    if (d->day >= w->v_from && d->day <= w->today)
        w->v_sum += d->picked;
    if (d->day >= w->t_from && d->day < w->today)
        w->t_sum += d->picked;
    if (d->day == w->today)
        w->today_picks += d->picked;
    return 0;
}

/* Reads the cell's daily figures: its velocity, and the sales_spike verdict into v. */
static depot_err read_sales(hub_alerts *a, hub_store *s, struct cell *c, long long now,
                            struct verdict *v)
{
    const struct hub_config *cfg = a->cfg;
    struct day_sums w = {.today = now / HUB_DAY_MS};
    double avg;
    depot_err err;
    w.v_from = w.today - cfg->alert_velocity_days + 1;
    w.t_from = w.today - cfg->alert_spike_trailing_days;
    err = hub_store_history_days(s, c->d->id, c->k->id, w.v_from < w.t_from ? w.v_from : w.t_from,
                                 add_day, &w);
    if (err != DEPOT_OK)
        return err;
    c->velocity = (double)w.v_sum / (double)cfg->alert_velocity_days;
    avg = (double)w.t_sum / (double)cfg->alert_spike_trailing_days;
    v->holds = w.today_picks >= cfg->alert_spike_min_units &&
               (double)w.today_picks > cfg->alert_spike_factor * avg;
    v->severity = "info";
    if (v->holds)
        snprintf(v->text, sizeof(v->text),
                 "%s at %s: %lld picked today, over %.1fx the %ld-day average of %.2f/day",
                 c->k->id, c->d->id, w.today_picks, cfg->alert_spike_factor,
                 cfg->alert_spike_trailing_days, avg);
    return DEPOT_OK;
}

depot_err alerts_eval_sales(hub_alerts *a, hub_store *s, struct cell *c, long long now)
{
    struct verdict v = {0};
    struct alert_key k = {c->d->id, c->k->id, "", HUB_AK_SALES_SPIKE, NULL};
    bool was = alerts_is_source(a, c);
    depot_err err = read_sales(a, s, c, now, &v);
    if (was != alerts_is_source(a, c)) /* a new velocity moved its keep level (invariant 4) */
        alerts_resuggest(a, c);
    return err == DEPOT_OK ? alerts_settle(a, s, &c->st[CS_SPIKE], &k, &v, now) : err;
}

/* ---- shrinkage ---- */

/* New unmatched units (shrink_new) make a trigger; a stock take or the units coming back on
 * the scale clear it. */
depot_err alerts_eval_shrink(hub_alerts *a, hub_store *s, struct cell *c, long long now)
{
    struct slot *st = &c->st[CS_SHRINK];
    struct alert_key k = {c->d->id, c->k->id, "", HUB_AK_SHRINKAGE, c};
    struct verdict v = {.holds = true, .severity = "warning"};
    bool back = c->came_back; /* the memo's back is behind */
    depot_err err = DEPOT_OK;

    c->came_back = false;
    if (st->live && (c->stock_taken || (c->shrink_total > 0 && c->shrink_back >= c->shrink_total)))
        err = alerts_alert_clear(a, s, st, &k, now);
    if (err == DEPOT_OK && !st->live)
        c->shrink_total = c->shrink_back = 0;
    c->stock_taken = false;
    if (err != DEPOT_OK || c->shrink_new <= 0)
        return err == DEPOT_OK && st->live && back ? alerts_memo(s, st, &k) : err;
    c->shrink_total += c->shrink_new;
    snprintf(v.text, sizeof(v.text),
             "%s at %s: %lld units left a scale with no matching pick "
             "(%lld in all)",
             c->k->id, c->d->id, c->shrink_new, c->shrink_total);
    c->shrink_new = 0;
    return alerts_alert_put(a, s, st, &k, &v, "count the stock and check the scale", "", now);
}

/* ---- dealers: gateway offline, node faults, contracts ---- */

static void iso_time(char *out, size_t len, long long ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

depot_err alerts_eval_offline(hub_alerts *a, hub_store *s, struct dealer_ent *d, long long now)
{
    struct verdict v = {.holds = !alerts_dealer_online(a, d, now), .severity = "critical"};
    struct alert_key k = {d->id, "", "", HUB_AK_GATEWAY_OFFLINE, NULL};
    char seen[32];
    depot_err err;
    bool was;
    if (v.holds) {
        iso_time(seen, sizeof(seen), d->last_seen);
        snprintf(v.text, sizeof(v.text), "gateway of %s offline (%s), last heard %s", d->id,
                 d->stated_online ? "nothing heard" : "it said so or its last will", seen);
    }
    was = d->offline.live;
    err = alerts_settle(a, s, &d->offline, &k, &v, now);
    if (err == DEPOT_OK && was != d->offline.live)
        a->resuggest_all = true; /* its surplus is fresh or stale now (invariant 4) */
    return err;
}

/*
 * The outbox level a gateway reports (up/outbox, at each connect before its backlog, with every
 * heartbeat and at each tenth of its bound). Raised at outbox_percent (default 50 %) of the
 * bound, long before it is full and before orders are refused (refuse_at, the gateway's
 * warn_percent: 80 % by default), critical from refuse_at; resolved once back 10 points under
 * outbox_percent (at empty when outbox_percent <= 10), so a level hovering at the threshold
 * does not open and resolve it over and over. The text names the tenth reached, so each
 * further tenth is a new trigger and a report repeating it is not.
 */
depot_err alerts_eval_outbox(hub_alerts *a, hub_store *s, struct dealer_ent *d,
                             const struct depot_outbox_body *b, long long now)
{
    long long pct = a->cfg->alert_outbox_percent;
    long long clear = pct > 10 ? pct - 10 : 0;
    long long q = b->queued, max = b->max > 0 ? b->max : 1;
    long long tenth = q >= max ? 100 : q * 10 / max * 10;
    struct verdict v = {.severity = q >= b->refuse_at ? "critical" : "warning"};
    struct alert_key k = {d->id, "", "", HUB_AK_OUTBOX_FILLING, NULL};
    if (d->outbox.live)
        v.holds = clear ? q * 100 >= clear * max : q > 0;
    else
        v.holds = q * 100 >= pct * max;
    if (v.holds)
        snprintf(v.text, sizeof(v.text),
                 "outbox of the gateway of %s %s%lld %% full (bound %lld): orders %srefused from "
                 "%lld queued",
                 d->id, q >= max ? "" : "over ", tenth, max, q >= b->refuse_at ? "now " : "",
                 b->refuse_at);
    return alerts_settle(a, s, &d->outbox, &k, &v, now);
}

struct node_walk {
    hub_alerts *a;
    hub_store *s;
    struct dealer_ent *d;
    long long now;
    depot_err err;
};

static int eval_node(void *arg, const struct hub_node_row *r)
{
    struct node_walk *w = arg;
    struct node_ent *n = alerts_node_get(w->d, r->node);
    struct verdict v = {.holds = r->fault, .severity = "warning"};
    struct alert_key k = {w->d->id, "", r->node, HUB_AK_NODE_FAULT, NULL};
    char since[32];
    if (!n) {
        w->err = DEPOT_ERR_NOMEM;
        return 1;
    }
    if (v.holds) {
        iso_time(since, sizeof(since), r->since);
        snprintf(v.text, sizeof(v.text), "node %s at %s faulted since %s: %s", r->node, w->d->id,
                 since, r->reason[0] ? r->reason : "fault");
    }
    w->err = alerts_settle(w->a, w->s, &n->fault, &k, &v, w->now);
    return w->err != DEPOT_OK;
}

depot_err alerts_eval_nodes(hub_alerts *a, hub_store *s, struct dealer_ent *d, const char *node,
                            long long now)
{
    struct node_walk w = {a, s, d, now, DEPOT_OK};
    depot_err err = hub_store_dealer_nodes(s, d->id, node, eval_node, &w);
    return err != DEPOT_OK ? err : w.err;
}

/* Days since the epoch of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static bool parse_date(const char *s, long long *day)
{
    int y, m, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    *day = days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

/*
 * Reminders of a contract's end at contract_days (60 by default), 30 and 7 days before it:
 * one alert, opened at the first, raised to warning at 30 days and to critical at 7 (each a
 * change, published to the dealer's gateway and portal and to the manufacturer's side).
 */
static long contract_step(long long left, long first)
{
    static const long steps[] = {30, 7};
    long step = first;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (steps[i] < first && left <= steps[i])
            step = steps[i];
    return step;
}

static depot_err eval_contract(hub_alerts *a, hub_store *s, struct dealer_ent *d, long long now)
{
    struct verdict v = {0};
    struct alert_key k = {d->id, "", "", HUB_AK_CONTRACT_EXPIRING, NULL};
    long long end, left;
    long step;
    if (d->contract_end[0] && parse_date(d->contract_end, &end)) {
        left = end - now / HUB_DAY_MS;
        step = contract_step(left, a->cfg->alert_contract_days);
        v.holds = left <= a->cfg->alert_contract_days;
        v.severity = left <= 7 ? "critical" : step <= 30 ? "warning" : "info";
        if (left < 0)
            snprintf(v.text, sizeof(v.text), "contract of %s ended on %s", d->id, d->contract_end);
        else
            snprintf(v.text, sizeof(v.text), "contract of %s ends on %s (reminder: %ld days)",
                     d->id, d->contract_end, step);
    }
    return alerts_settle(a, s, &d->contract, &k, &v, now);
}

/* ---- periodic evaluation ---- */

static int due_shrink(void *arg, const char *dealer, const char *sku, long long units)
{
    struct snap_walk *w = arg;
    struct cell *c = alerts_cell_get(w->a, dealer, sku);
    if (!c)
        return w->nomem = true;
    c->shrink_new += units;
    alerts_touch(w->a, c);
    return 0;
}

static depot_err eval_shrink_due(hub_alerts *a, hub_store *s, long long now)
{
    struct snap_walk w = {a, false};
    long long window = a->cfg->alert_shrinkage_window_s * 1000LL;
    long long grace = a->cfg->alert_shrinkage_grace_s * 1000LL;
    depot_err err = hub_store_shrink_due(s, now - window - grace, now - grace, due_shrink, &w);
    if (err == DEPOT_OK && w.nomem)
        err = DEPOT_ERR_NOMEM;
    return err == DEPOT_OK ? alerts_settle_touched(a, s, false, now) : err;
}

/* Tasks whose due day has ended and that a target has not done: one task_overdue alert per
 * (dealer, task), resolved when it is done (store/tasks.h). */
struct overdue_walk {
    hub_alerts *a;
    hub_store *s;
    long long now;
    depot_err err;
};

static int overdue_row(void *arg, const struct hub_task *t, const struct hub_task_reach *r)
{
    struct overdue_walk *w = arg;
    struct dealer_ent *d = alerts_dealer_get(w->a, r->dealer, true);
    struct verdict v = {.holds = true, .severity = "warning"};
    char subject[24];
    struct task_ent *te;
    struct alert_key k = {r->dealer, "", subject, HUB_AK_TASK_OVERDUE, NULL};
    snprintf(subject, sizeof(subject), "%lld", t->id);
    te = d ? alerts_task_get(d, subject) : NULL;
    if (!te) {
        w->err = DEPOT_ERR_NOMEM;
        return 1;
    }
    te->seen = true;
    snprintf(v.text, sizeof(v.text), "task %lld \"%.80s\" of %s was due %s and is not done", t->id,
             t->title, r->dealer, t->due);
    w->err = alerts_settle(w->a, w->s, &te->overdue, &k, &v, w->now);
    return w->err != DEPOT_OK;
}

static depot_err eval_tasks_overdue(hub_alerts *a, hub_store *s, long long now)
{
    struct overdue_walk w = {a, s, now, DEPOT_OK};
    char today[16];
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    struct dealer_ent *d;
    depot_err err;
    gmtime_r(&secs, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    EACH(a->dealers, d)
    {
        for (struct task_ent *t = d->tasks; t; t = t->next)
            t->seen = false;
    }
    err = hub_store_tasks_overdue(s, today, overdue_row, &w);
    if (err == DEPOT_OK)
        err = w.err;
    EACH(a->dealers, d)
    {
        for (struct task_ent *t = d->tasks; err == DEPOT_OK && t; t = t->next) {
            struct verdict v = {0};
            struct alert_key k = {d->id, "", t->subject, HUB_AK_TASK_OVERDUE, NULL};
            if (!t->seen && t->overdue.live) /* done (or no longer a task): resolved */
                err = alerts_settle(a, s, &t->overdue, &k, &v, now);
        }
    }
    return err;
}

/* A new catalog or a new day: every cell again (velocities first on a new day). */
depot_err alerts_eval_all_cells(hub_alerts *a, hub_store *s, bool new_day, long long now)
{
    depot_err err = new_day ? alerts_load_velocities(a, s, now) : DEPOT_OK;
    a->resuggest_all = a->resuggest_all || new_day; /* new velocities, new keep levels */
    struct cell *c;
    EACH(a->cells, c)
    {
        if (err == DEPOT_OK && new_day && c->st[CS_SPIKE].live)
            err = alerts_eval_sales(a, s, c, now);
        if (err == DEPOT_OK)
            err = alerts_eval_stock(a, s, c, now);
    }
    return err;
}

static depot_err eval_dealers(hub_alerts *a, hub_store *s, long long now)
{
    struct load_ctx l = {a, now, false};
    struct dealer_ent *d;
    depot_err err = hub_store_dealer_places(s, alerts_load_place, &l);
    if (err == DEPOT_OK)
        err = hub_store_dealers(s, alerts_load_dealer, &l);
    if (err == DEPOT_OK && l.nomem)
        err = DEPOT_ERR_NOMEM;
    EACH(a->dealers, d)
    {
        if (err == DEPOT_OK && d->last_seen > 0)
            err = alerts_eval_offline(a, s, d, now);
        if (err == DEPOT_OK)
            err = eval_contract(a, s, d, now);
    }
    return err;
}

/* Reloads the catalog and the dealers' places when the store's versions moved (invariant 5),
 * re-evaluating every cell for a new catalog and every suggestion for either. */
depot_err alerts_reload_settings(hub_alerts *a, hub_store *s, long long now)
{
    struct load_ctx l = {a, now, false};
    long long catalog = 0, profiles = 0;
    depot_err err = hub_store_catalog_version(s, &catalog);
    if (err == DEPOT_OK)
        err = hub_store_profiles_version(s, &profiles);
    a->settings_read = err == DEPOT_OK;
    if (err == DEPOT_OK && catalog != a->catalog_version) {
        err = alerts_load_catalog(a, s);
        err = err == DEPOT_OK ? alerts_eval_all_cells(a, s, false, now) : err;
        a->resuggest_all = true;
    }
    if (err == DEPOT_OK && profiles != a->profiles_version) {
        struct dealer_ent *d;
        EACH(a->dealers, d)
        {
            d->has_loc = false;
        }
        err = hub_store_dealer_places(s, alerts_load_place, &l);
        err = err == DEPOT_OK && l.nomem ? DEPOT_ERR_NOMEM : err;
        EACH(a->dealers, d)
        {
            if (err == DEPOT_OK)
                err = eval_contract(a, s, d, now);
        }
        a->profiles_version = profiles;
        a->resuggest_all = true;
    }
    return err == DEPOT_OK ? alerts_refresh_suggestions(a, s, now) : err;
}

/* reload_settings at most every SETTINGS_POLL_MS (two indexed reads of meta). */
depot_err alerts_sync_settings(hub_alerts *a, hub_store *s, long long now)
{
    long long mono = depot_mono_ms();
    if (mono < a->next_settings_ms)
        return DEPOT_OK;
    a->next_settings_ms = mono + SETTINGS_POLL_MS;
    return alerts_reload_settings(a, s, now);
}

depot_err hub_alerts_evaluate(hub_alerts *a, hub_store *s, long long now)
{
    long long today = now / HUB_DAY_MS;
    bool new_day;
    depot_err err = a->loaded ? DEPOT_OK : alerts_load(a, s, now); /* synced by the caller */
    if (err == DEPOT_OK)
        err = alerts_reload_settings(a, s, now);
    if (err == DEPOT_OK) /* invariant 6: entries every engine has read by now */
        err = hub_store_log_prune(s, now - LOG_KEEP_MS);
    new_day = today != a->day;
    if (err == DEPOT_OK && (new_day || a->fresh))
        err = alerts_eval_all_cells(a, s, new_day, now);
    a->fresh = a->fresh && err != DEPOT_OK;
    if (err == DEPOT_OK && new_day)
        err = hub_store_history_prune(s, now - a->cfg->alert_history_days * HUB_DAY_MS,
                                      today - DAYS_KEPT,
                                      now - a->cfg->alert_resolved_days * HUB_DAY_MS);
    if (err == DEPOT_OK)
        a->day = today;
    if (err == DEPOT_OK)
        err = eval_dealers(a, s, now);
    if (err == DEPOT_OK)
        err = eval_shrink_due(a, s, now);
    if (err == DEPOT_OK)
        err = eval_tasks_overdue(a, s, now);
    return err == DEPOT_OK ? alerts_refresh_suggestions(a, s, now) : err;
}

/* Evaluates what the touched cells need (stock kinds, sales when asked, shrinkage). */
depot_err alerts_settle_touched(hub_alerts *a, hub_store *s, bool sales, long long now)
{
    depot_err err = DEPOT_OK;
    struct cell *c;
    while ((c = a->touched)) {
        a->touched = c->touch_next;
        c->touched = false;
        if (err == DEPOT_OK && sales)
            err = alerts_eval_sales(a, s, c, now);
        if (err == DEPOT_OK)
            err = alerts_eval_stock(a, s, c, now);
        if (err == DEPOT_OK)
            err = alerts_eval_shrink(a, s, c, now);
    }
    return err;
}
