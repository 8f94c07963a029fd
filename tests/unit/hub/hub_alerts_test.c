/*
 * The alert engine (hub_alerts) and its store part on a real store (a SQLite
 * file in a temp folder, or a fresh PostgreSQL database in
 * unit.hub_alerts_test.pg): each kind's condition, dedupe (one live alert per key, a new
 * trigger counts), automatic resolution, the suggestion's arithmetic and the
 * ranking of transfers, and the ack/resolve lifecycle; plus the history that
 * up/movements leave (exactly once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "alerts/alerts.h"
#include "store/webhooks.h"
#include "hub_test_util.h"

#define DAY HUB_DAY_MS
#define NOW (20000LL * DAY + 12 * 3600000LL) /* noon UTC, day 20000 (2024-10-04) */

#define HUBS 3 /* the "three hubs" run of every test */

struct fixture {
    char dir[256];
    char location[300]; /* the store's SQLite file or PostgreSQL URL */
    hub_store *store;   /* the first hub's, also the one the tests read through */
    hub_metrics *metrics;
    hub_alerts *alerts;
    struct hub_config cfg;
    uint64_t next_id;
    /* the other hubs: each its own store connection and engine on the same database */
    int hubs, turn;
    hub_store *other_store[HUBS - 1];
    hub_alerts *other_alerts[HUBS - 1];
};

static int setup_hubs(void **state, int hubs)
{
    struct fixture *f = depot_calloc(1, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    test_store_location(f->location, sizeof(f->location), f->dir, "hub.db");
    hub_config_defaults(&f->cfg);
    f->cfg.offline_after_s = 60;
    assert_int_equal(hub_store_open(f->location, &f->store), DEPOT_OK);
    assert_int_equal(hub_metrics_new(&f->metrics), DEPOT_OK);
    assert_int_equal(hub_alerts_new(&f->cfg, f->metrics, &f->alerts), DEPOT_OK);
    f->hubs = hubs;
    for (int i = 0; i < hubs - 1; i++) {
        assert_int_equal(hub_store_open(f->location, &f->other_store[i]), DEPOT_OK);
        assert_int_equal(hub_alerts_new(&f->cfg, f->metrics, &f->other_alerts[i]), DEPOT_OK);
    }
    f->next_id = 1;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_hubs(state, 1);
}

/* Every message and evaluation goes to the next of three engines in turn, as the shared
 * subscription spreads them over three hub instances: every test must pass unchanged. */
static int setup3(void **state)
{
    return setup_hubs(state, HUBS);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < f->hubs - 1; i++) {
        hub_alerts_free(f->other_alerts[i]);
        hub_store_free(f->other_store[i]);
    }
    hub_alerts_free(f->alerts);
    hub_metrics_free(f->metrics);
    hub_store_free(f->store);
    test_store_drop(f->location);
    test_rmdir(f->dir);
    depot_free(f);
    return 0;
}

/* The hub whose turn it is. */
static void next_hub(struct fixture *f, hub_store **s, hub_alerts **a)
{
    int i = f->turn;
    f->turn = (f->turn + 1) % f->hubs;
    *s = i ? f->other_store[i - 1] : f->store;
    *a = i ? f->other_alerts[i - 1] : f->alerts;
}

/* Applies m as ingest does: store and engine in one transaction. */
static void apply_at(struct fixture *f, const depot_msg *m, long long now)
{
    enum hub_apply_result res;
    hub_store *s;
    hub_alerts *a;
    next_hub(f, &s, &a);
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_alerts_begin(a, s, now), DEPOT_OK);
    assert_int_equal(hub_store_apply(s, m, now, &res, NULL), DEPOT_OK);
    assert_int_equal(hub_alerts_on_message(a, s, m, res, now, now), DEPOT_OK);
    assert_int_equal(hub_alerts_precommit(a, s, now), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
    hub_alerts_committed(a);
}

static void evaluate(struct fixture *f, long long now)
{
    hub_store *s;
    hub_alerts *a;
    next_hub(f, &s, &a);
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_alerts_begin(a, s, now), DEPOT_OK);
    assert_int_equal(hub_alerts_evaluate(a, s, now), DEPOT_OK);
    assert_int_equal(hub_alerts_precommit(a, s, now), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
    hub_alerts_committed(a);
}

static void stock(struct fixture *f, const char *dealer, const char *sku, long long qty)
{
    depot_msg m = test_stock(dealer, LEDGER_A, f->next_id, 1, NOW, sku, qty);
    f->next_id++;
    apply_at(f, &m, NOW);
}

/* The stock of a (dealer, sku) chain as the movements below leave it (the hub refuses a
 * movement that does not start where its chain ended); a new chain starts at first. */
static long long *chain_level(const struct fixture *f, const char *dealer, const char *sku,
                              long long first)
{
    static struct {
        char key[300];
        long long level;
    } chains[64];
    static size_t n;
    char key[300];
    snprintf(key, sizeof(key), "%s/%s/%s", f->dir, dealer, sku); /* a test's own database */
    for (size_t i = 0; i < n; i++)
        if (!strcmp(chains[i].key, key))
            return &chains[i].level;
    assert_true(n < 64);
    snprintf(chains[n].key, sizeof(chains[n].key), "%s", key);
    chains[n].level = first;
    return &chains[n++].level;
}

/* One up/movements message of n items (kind, delta, ts) for dealer/sku, qty chained. */
static void movements(struct fixture *f, const char *dealer, const char *sku, const char *kind,
                      const long long *deltas, size_t n, long long ts0, long long now)
{
    struct depot_movement_item items[16];
    depot_msg m;
    memset(&m, 0, sizeof(m));
    memset(items, 0, sizeof(items));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_MOVEMENTS;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    snprintf(m.ledger, sizeof(m.ledger), LEDGER_B);
    m.id = f->next_id++;
    m.base = m.id; /* the ids this ledger skipped went to other ledgers: none is missing */
    m.ts = now;
    for (size_t i = 0; i < n; i++) {
        items[i].mid = m.id * 100 + i;
        items[i].ts = ts0 + (long long)i;
        snprintf(items[i].node, sizeof(items[i].node), "n1");
        snprintf(items[i].sku, sizeof(items[i].sku), "%s", sku);
        snprintf(items[i].kind, sizeof(items[i].kind), "%s", kind);
        items[i].delta = deltas[i];
        items[i].qty = (*chain_level(f, dealer, sku, 10 - deltas[0]) += deltas[i]);
    }
    m.body.movements.items = items;
    m.body.movements.n_items = n;
    apply_at(f, &m, now);
}

static void pick(struct fixture *f, const char *dealer, const char *sku, long long units,
                 long long ts)
{
    long long d = -units;
    movements(f, dealer, sku, "pick", &d, 1, ts, ts > NOW ? ts : NOW);
}

static void catalog(struct fixture *f, long long reorder_point, long long lead_time_days)
{
    struct hub_catalog_item it[2] = {
        {"S1", "4006381333931", 250, 100, 1, 100, reorder_point, lead_time_days, 500, ""},
        {"S2", "4006381333932", 100, 100, 1, 100, 0, 1, 500, ""}};
    long long version;
    assert_int_equal(hub_store_begin(f->store), DEPOT_OK);
    assert_int_equal(hub_store_catalog_replace(f->store, it, 2, NOW, &version), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->store), DEPOT_OK);
}

static void place(struct fixture *f, const char *dealer, bool loc, double lat, double lon,
                  const char *contract_end)
{
    struct hub_dealer_profile p;
    memset(&p, 0, sizeof(p));
    snprintf(p.dealer, sizeof(p.dealer), "%s", dealer);
    snprintf(p.region, sizeof(p.region), "north");
    p.has_location = loc;
    p.lat = lat;
    p.lon = lon;
    snprintf(p.contract_end, sizeof(p.contract_end), "%s", contract_end ? contract_end : "");
    assert_int_equal(hub_store_begin(f->store), DEPOT_OK);
    assert_int_equal(hub_store_profile_put(f->store, &p), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->store), DEPOT_OK);
}

/* The alerts of one kind, newest first, copied out. */
struct seen {
    int n;
    long long id[8], count[8];
    char status[8][16], severity[8][16], text[8][200], suggestion[8][600], sku[8][40];
};

static int see(void *arg, const struct hub_alert_row *a)
{
    struct seen *s = arg;
    if (s->n < 8) {
        s->id[s->n] = a->id;
        s->count[s->n] = a->count;
        snprintf(s->status[s->n], 16, "%s", a->status);
        snprintf(s->severity[s->n], 16, "%s", a->severity);
        snprintf(s->text[s->n], 200, "%s", a->text);
        snprintf(s->suggestion[s->n], 600, "%s", a->suggestion);
        snprintf(s->sku[s->n], 40, "%s", a->sku);
        s->n++;
    }
    return 0;
}

static struct seen alerts_of(struct fixture *f, const char *kind, const char *dealer)
{
    struct seen s;
    struct hub_alert_filter flt = {NULL, dealer, kind, NULL, 0, 0};
    memset(&s, 0, sizeof(s));
    assert_int_equal(hub_store_alerts_list(f->store, &flt, see, &s), DEPOT_OK);
    return s;
}

static int count_outbox(void *arg, long long seq, const char *dealer, const char *kind,
                        const char *payload)
{
    (void)seq;
    (void)dealer;
    (void)kind;
    assert_non_null(strstr(payload, "\"type\":\"alert\""));
    (*(int *)arg)++;
    return 0;
}

static int outbox_len(struct fixture *f)
{
    int n = 0;
    assert_int_equal(hub_store_alert_outbox_list(f->store, 1000, count_outbox, &n), DEPOT_OK);
    return n;
}

/* ---- low_stock ---- */

static void test_LowStock_RaisedDedupedAndResolved(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    catalog(f, 5, 7);
    stock(f, "A", "S1", 10);
    assert_int_equal(alerts_of(f, "low_stock", "A").n, 0);
    stock(f, "A", "S1", 5); /* at the reorder point */
    s = alerts_of(f, "low_stock", "A");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.status[0], "open");
    assert_int_equal(s.count[0], 1);
    assert_string_equal(s.severity[0], "warning");
    stock(f, "A", "S1", 3); /* a new trigger: the same alert, count 2 */
    stock(f, "A", "S1", 3); /* the same figures again (a repeated value): nothing */
    s = alerts_of(f, "low_stock", "A");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.count[0], 2);
    assert_non_null(strstr(s.text[0], "3 in stock"));
    stock(f, "A", "S1", 0);
    assert_string_equal(alerts_of(f, "low_stock", "A").severity[0], "critical");
    stock(f, "A", "S1", 9); /* above: resolved */
    s = alerts_of(f, "low_stock", "A");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.status[0], "resolved");
    assert_int_equal(outbox_len(f), 4); /* open, update, update, resolve */
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_ALERTS_RAISED), 1);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_ALERTS_RESOLVED), 1);
}

static int on_webhook(void *arg, const struct hub_webhook_delivery *d)
{
    int *n = arg;
    assert_string_equal(d->type, "alert.opened");
    assert_non_null(strstr(d->body, "\"kind\":\"low_stock\""));
    (*n)++;
    return 0;
}

static void test_LowStock_OpenedOnceAsAWebhookEvent(void **state)
{
    struct fixture *f = *state;
    struct hub_webhook_sub sub = {
        0, "http://erp/a", "secret-of-the-erp-0001", ",alert.opened,", NOW, 0};
    long long id = 0;
    int n = 0;
    assert_int_equal(hub_store_webhook_sub_add(f->store, &sub, &id), DEPOT_OK);
    catalog(f, 5, 7);
    stock(f, "A", "S1", 5); /* opened */
    stock(f, "A", "S1", 3); /* updated: no new event */
    stock(f, "A", "S1", 9); /* resolved */
    assert_int_equal(hub_store_webhook_deliveries(f->store, id, "pending", 0, 100, on_webhook, &n),
                     DEPOT_OK);
    assert_int_equal(n, 1);
}

struct events_seen {
    int n;
    char type[8][32];
    char body[8][600];
};

static int on_event(void *arg, const struct hub_webhook_delivery *d)
{
    struct events_seen *e = arg;
    assert_true(e->n < 8);
    snprintf(e->type[e->n], sizeof(e->type[0]), "%s", d->type);
    snprintf(e->body[e->n], sizeof(e->body[0]), "%s", d->body);
    e->n++;
    return 0;
}

/* Every change of an alert's life is an event, in order, with the alert as it stands. */
static void test_Alert_LifeAsWebhookEvents(void **state)
{
    struct fixture *f = *state;
    struct hub_webhook_sub sub = {0, "http://erp/a", "secret-of-the-erp-0001", ",*,", NOW, 0};
    struct events_seen e = {.n = 0};
    long long id = 0, alert;
    static const char *const want[] = {"alert.opened",   "alert.updated", "alert.acknowledged",
                                       "alert.resolved", "alert.opened",  "alert.resolved"};
    assert_int_equal(hub_store_webhook_sub_add(f->store, &sub, &id), DEPOT_OK);
    catalog(f, 5, 7);
    stock(f, "A", "S1", 5); /* opened */
    stock(f, "A", "S1", 0); /* updated: critical now */
    alert = alerts_of(f, "low_stock", "A").id[0];
    assert_int_equal(hub_alerts_act(f->store, f->metrics, alert, false, "ann", NOW), DEPOT_OK);
    assert_int_equal(hub_alerts_act(f->store, f->metrics, alert, true, "bob", NOW), DEPOT_OK);
    stock(f, "A", "S1", 9);
    stock(f, "A", "S1", 2); /* a new one */
    stock(f, "A", "S1", 9); /* resolved by the engine */
    assert_int_equal(hub_store_webhook_deliveries(f->store, id, "pending", 0, 100, on_event, &e),
                     DEPOT_OK);
    assert_int_equal(e.n, 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal(e.type[i], want[i]);
    assert_non_null(strstr(e.body[1], "\"severity\":\"critical\""));
    assert_non_null(strstr(e.body[1], "\"count\":2"));
    assert_non_null(strstr(e.body[2], "\"acked_by\":\"ann\""));
    assert_non_null(strstr(e.body[3], "\"status\":\"resolved\""));
    assert_non_null(strstr(e.body[3], "\"resolved_by\":\"bob\""));
    assert_null(strstr(e.body[4], "\"resolved_by\":\"bob\""));
    assert_non_null(strstr(e.body[5], "\"resolved_by\":\"auto\""));
}

static void test_LowStock_SkuNotInCatalogNeverAlerts(void **state)
{
    struct fixture *f = *state;
    stock(f, "A", "S9", 0);
    assert_int_equal(alerts_of(f, "low_stock", NULL).n, 0);
}

/* ---- history and velocity ---- */

struct days_seen {
    int n;
    struct hub_day_row d[8];
};

static int day_seen(void *arg, const struct hub_day_row *d)
{
    struct days_seen *s = arg;
    if (s->n < 8)
        s->d[s->n++] = *d;
    return 0;
}

static void test_Movements_HistoryExactlyOnce(void **state)
{
    struct fixture *f = *state;
    long long deltas[3] = {-2, -1, 5};
    struct days_seen ds = {0};
    depot_msg m;
    enum hub_apply_result res;
    catalog(f, 0, 1);
    movements(f, "A", "S1", "pick", deltas, 2, NOW - 1000, NOW);
    /* the same message again: a duplicate, nothing added */
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_MOVEMENTS;
    snprintf(m.dealer, sizeof(m.dealer), "A");
    snprintf(m.ledger, sizeof(m.ledger), LEDGER_B);
    m.id = f->next_id - 1;
    m.base = 1;
    struct depot_movement_item it = {.mid = 1, .ts = NOW, .delta = -7, .qty = 1};
    snprintf(it.node, sizeof(it.node), "n1");
    snprintf(it.sku, sizeof(it.sku), "S1");
    snprintf(it.kind, sizeof(it.kind), "pick");
    m.body.movements.items = &it;
    m.body.movements.n_items = 1;
    assert_int_equal(hub_store_begin(f->store), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->store, &m, NOW, &res, NULL), DEPOT_OK);
    assert_int_equal(res, HUB_APPLY_DUPLICATE);
    assert_int_equal(hub_store_commit(f->store), DEPOT_OK);
    movements(f, "A", "S1", "receive", deltas + 2, 1, NOW, NOW);
    assert_int_equal(hub_store_history_days(f->store, "A", "S1", 0, day_seen, &ds), DEPOT_OK);
    assert_int_equal(ds.n, 1);
    assert_int_equal(ds.d[0].day, NOW / DAY);
    assert_int_equal(ds.d[0].picked, 3);
    assert_int_equal(ds.d[0].value, 3 * 250); /* at the catalog price, cents */
    assert_int_equal(ds.d[0].received, 5);
}

static void test_StockoutForecast_FromVelocity(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    catalog(f, 0, 7); /* lead time 7 days */
    stock(f, "A", "S1", 10);
    pick(f, "A", "S1", 14, NOW - 1000); /* velocity 14 / 7 days = 2/day: cover 5 days */
    s = alerts_of(f, "stockout_forecast", "A");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.status[0], "open");
    assert_non_null(strstr(s.text[0], "5.0 days of cover at 2.00/day"));
    /* replenish = ceil(2 * 14) - 10 = 18 */
    assert_non_null(strstr(s.suggestion[0], "\"replenish_qty\":18"));
    stock(f, "A", "S1", 20); /* cover 10 >= 7: resolved */
    s = alerts_of(f, "stockout_forecast", "A");
    assert_string_equal(s.status[0], "resolved");
}

/* ---- suggestions ---- */

static void test_Suggestion_NearestDealerWithRealSurplus(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    const char *j;
    catalog(f, 5, 7); /* reorder point 5; velocity 0 everywhere */
    place(f, "A", true, 48.0, 11.0, NULL);
    place(f, "B", true, 48.0, 11.1, NULL);  /* nearest, stock 5: no surplus over the point */
    place(f, "C", true, 48.0, 11.2, NULL);  /* second nearest, stock 9: surplus 4 */
    place(f, "D", true, 48.0, 11.05, NULL); /* nearer, surplus, but silent: stale */
    place(f, "E", false, 0, 0, NULL);       /* no location, surplus 20 */
    stock(f, "B", "S1", 5);
    stock(f, "C", "S1", 9);
    stock(f, "D", "S1", 50);
    stock(f, "E", "S1", 25);
    {
        depot_msg st = test_state("D", false, 5, NOW);
        apply_at(f, &st, NOW);
    }
    stock(f, "A", "S1", 2);
    s = alerts_of(f, "low_stock", "A");
    assert_int_equal(s.n, 1);
    j = s.suggestion[0];
    /* velocity 0: replenish = reorder point + 1 - stock = 4 */
    assert_non_null(strstr(j, "\"replenish_qty\":4"));
    assert_null(strstr(j, "\"dealer\":\"B\""));
    assert_non_null(strstr(j, "\"transfers\":[{\"dealer\":\"C\",\"qty\":4,\"distance_km\":14.9"));
    assert_true(strstr(j, "\"dealer\":\"E\"") < strstr(j, "\"dealer\":\"D\"")); /* stale last */
    assert_non_null(strstr(j, "\"dealer\":\"E\",\"qty\":4,\"distance_km\":null"));
}

static void test_Suggestion_FresherFirstAtEqualDistance(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    catalog(f, 5, 7);
    place(f, "A", true, 48.0, 11.0, NULL);
    place(f, "B", true, 48.0, 11.1, NULL);
    place(f, "C", true, 48.0, 11.1, NULL);
    {
        depot_msg m = test_stock("B", LEDGER_A, 100, 1, NOW, "S1", 30);
        apply_at(f, &m, NOW - 30000); /* heard 30 s ago */
    }
    {
        depot_msg m = test_stock("C", LEDGER_A, 101, 1, NOW, "S1", 30);
        apply_at(f, &m, NOW - 1000); /* heard 1 s ago: fresher */
    }
    stock(f, "A", "S1", 1);
    s = alerts_of(f, "low_stock", "A");
    assert_true(strstr(s.suggestion[0], "\"dealer\":\"C\"") <
                strstr(s.suggestion[0], "\"dealer\":\"B\""));
}

static void test_Distance_Haversine(void **state)
{
    (void)state;
    assert_true(fabs(hub_alerts_distance_km(0, 0, 0, 1) - 111.195) < 0.01);
    assert_true(fabs(hub_alerts_distance_km(48.1374, 11.5755, 52.5200, 13.4050) - 504.4) < 1.0);
}

/* ---- sales_spike ---- */

static void test_SalesSpike_AgainstTrailingAverage(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    catalog(f, 0, 1);
    for (int d = 1; d <= 14; d++)
        pick(f, "A", "S1", 1, NOW - d * DAY); /* trailing average 1/day */
    pick(f, "A", "S1", 3, NOW - 5000);
    assert_int_equal(alerts_of(f, "sales_spike", "A").n, 0); /* 3 is not over 3 x 1 */
    pick(f, "A", "S1", 4, NOW - 4000);                       /* 7 today */
    s = alerts_of(f, "sales_spike", "A");
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.text[0], "7 picked today"));
    pick(f, "A", "S1", 1, NOW - 3000);
    assert_int_equal(alerts_of(f, "sales_spike", "A").count[0], 2);
    /* B: no history, 1 pick today: 1 vs 0 is no spike (spike_min_units) */
    pick(f, "B", "S1", 1, NOW - 3000);
    assert_int_equal(alerts_of(f, "sales_spike", "B").n, 0);
    /* the next day without picks: resolved */
    evaluate(f, NOW + DAY);
    assert_string_equal(alerts_of(f, "sales_spike", "A").status[0], "resolved");
}

/* ---- shrinkage ---- */

static void test_Shrinkage_ScaleDecreaseWithoutPick(void **state)
{
    struct fixture *f = *state;
    long long w = f->cfg.alert_shrinkage_window_s * 1000LL, dec = -3, back = 2, count = 0;
    long long g = f->cfg.alert_shrinkage_grace_s * 1000LL;
    long long judge = NOW + w + g + 1;
    struct seen s;
    catalog(f, 0, 1);
    movements(f, "A", "S1", "scale", &dec, 1, NOW, NOW);
    pick(f, "A", "S1", 1, NOW + 1000); /* matches 1 of the 3 */
    evaluate(f, NOW + 1000);           /* too early to judge */
    assert_int_equal(alerts_of(f, "shrinkage", "A").n, 0);
    evaluate(f, judge);
    s = alerts_of(f, "shrinkage", "A");
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.text[0], "2 units left a scale"));
    /* a pick then a decrease within the window: matched, no shrinkage */
    pick(f, "A", "S1", 2, judge);
    movements(f, "A", "S1", "scale", &dec, 1, judge + 10, judge + 10);
    evaluate(f, judge + w + g + 20);
    s = alerts_of(f, "shrinkage", "A");
    assert_int_equal(s.count[0], 2); /* 1 left unmatched: a second trigger */
    assert_non_null(strstr(s.text[0], "(3 in all)"));
    movements(f, "A", "S1", "scale", &back, 1, judge + 30, judge + 30);
    assert_string_equal(alerts_of(f, "shrinkage", "A").status[0], "open");
    movements(f, "A", "S1", "count", &count, 1, judge + 40, judge + 40); /* a stock take */
    assert_string_equal(alerts_of(f, "shrinkage", "A").status[0], "resolved");
}

/* ---- node_fault, gateway_offline, contract_expiring ---- */

static void test_NodeFault_EventsAndSnapshot(void **state)
{
    struct fixture *f = *state;
    depot_msg fault = test_event("A", 1, NOW, "scale-a", "fault", "timeout");
    depot_msg ok = test_event("A", 2, NOW + 1, "scale-a", "recovered", "");
    struct seen s;
    apply_at(f, &fault, NOW);
    s = alerts_of(f, "node_fault", "A");
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.text[0], "node scale-a at A faulted"));
    assert_non_null(strstr(s.text[0], "timeout"));
    apply_at(f, &ok, NOW + 1);
    assert_string_equal(alerts_of(f, "node_fault", "A").status[0], "resolved");
}

static void test_GatewayOffline_LastWillAndSilence(void **state)
{
    struct fixture *f = *state;
    depot_msg on = test_state("A", true, 10, NOW), off = test_state("A", false, 10, NOW + 5);
    depot_msg back = test_state("A", true, 20, NOW + 10);
    apply_at(f, &on, NOW);
    apply_at(f, &off, NOW + 5); /* the last will */
    assert_string_equal(alerts_of(f, "gateway_offline", "A").status[0], "open");
    evaluate(f, NOW + 6); /* the periodic evaluation agrees: no new trigger */
    assert_int_equal(alerts_of(f, "gateway_offline", "A").count[0], 1);
    apply_at(f, &back, NOW + 10);
    assert_string_equal(alerts_of(f, "gateway_offline", "A").status[0], "resolved");
    /* silence: nothing heard for offline_after_s */
    evaluate(f, NOW + 10 + 61000);
    assert_int_equal(alerts_of(f, "gateway_offline", "A").n, 2);
    assert_string_equal(alerts_of(f, "gateway_offline", "A").status[0], "open");
    stock(f, "A", "S1", 3); /* heard again: resolved at once */
    assert_string_equal(alerts_of(f, "gateway_offline", "A").status[0], "resolved");
}

static void outbox_report(struct fixture *f, const char *dealer, long long queued, long long now)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_OUTBOX;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    memset(m.ledger, 'a', DEPOT_LEDGER_HEX);
    m.ts = now;
    m.body.outbox.queued = queued;
    m.body.outbox.max = 200;
    m.body.outbox.refuse_at = 160;
    apply_at(f, &m, now);
}

static void test_OutboxFilling_RaisedAtHalfResolvedWithHysteresis(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    outbox_report(f, "A", 99, NOW); /* under 50 % of 200 */
    assert_int_equal(alerts_of(f, "outbox_filling", "A").n, 0);
    outbox_report(f, "A", 100, NOW + 1);
    s = alerts_of(f, "outbox_filling", "A");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.status[0], "open");
    assert_string_equal(s.severity[0], "warning");
    assert_string_equal(s.sku[0], "");
    assert_string_equal(s.text[0], "outbox of the gateway of A over 50 % full (bound 200): orders "
                                   "refused from 160 queued");
    outbox_report(f, "A", 110, NOW + 2); /* the same tenth: no new trigger */
    assert_int_equal(alerts_of(f, "outbox_filling", "A").count[0], 1);
    outbox_report(f, "A", 160, NOW + 3); /* orders refused from here: critical */
    s = alerts_of(f, "outbox_filling", "A");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.count[0], 2);
    assert_string_equal(s.severity[0], "critical");
    assert_non_null(strstr(s.text[0], "orders now refused"));
    outbox_report(f, "A", 200, NOW + 4);
    assert_non_null(strstr(alerts_of(f, "outbox_filling", "A").text[0], "A 100 % full"));
    assert_int_equal(alerts_of(f, "outbox_filling", "B").n, 0); /* one dealer's */
    outbox_report(f, "A", 80, NOW + 5); /* 40 %: under the threshold, not under 10 points less */
    s = alerts_of(f, "outbox_filling", "A");
    assert_string_equal(s.status[0], "open");
    assert_string_equal(s.severity[0], "warning");
    outbox_report(f, "A", 79, NOW + 6); /* drained: resolved */
    assert_string_equal(alerts_of(f, "outbox_filling", "A").status[0], "resolved");
    outbox_report(f, "A", 90, NOW + 7); /* 45 %: not raised again under the threshold */
    assert_int_equal(alerts_of(f, "outbox_filling", "A").n, 1);
    outbox_report(f, "A", 120, NOW + 8); /* filling again: a new alert */
    s = alerts_of(f, "outbox_filling", "A");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.status[0], "open");
}

static void test_ContractExpiring_WithinDays(void **state)
{
    struct fixture *f = *state;
    place(f, "A", false, 0, 0, "2024-10-14"); /* NOW is 2024-10-04: 10 days */
    place(f, "B", false, 0, 0, "2025-10-14");
    evaluate(f, NOW);
    assert_int_equal(alerts_of(f, "contract_expiring", "A").n, 1);
    assert_string_equal(alerts_of(f, "contract_expiring", "A").severity[0], "warning");
    assert_int_equal(alerts_of(f, "contract_expiring", "B").n, 0);
    place(f, "A", false, 0, 0, "2026-01-01"); /* renewed */
    evaluate(f, NOW);
    assert_string_equal(alerts_of(f, "contract_expiring", "A").status[0], "resolved");
}

/* ---- lifecycle by hand ---- */

static void test_Act_AckResolveAndConflict(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    long long id;
    catalog(f, 5, 7);
    stock(f, "A", "S1", 2);
    id = alerts_of(f, "low_stock", "A").id[0];
    assert_int_equal(hub_alerts_act(f->store, f->metrics, id, false, "ann", NOW), DEPOT_OK);
    assert_string_equal(alerts_of(f, "low_stock", "A").status[0], "acknowledged");
    assert_int_equal(hub_alerts_act(f->store, f->metrics, id, false, "ann", NOW), DEPOT_OK);
    stock(f, "A", "S1", 1); /* a new trigger keeps it acknowledged, count 2 */
    s = alerts_of(f, "low_stock", "A");
    assert_string_equal(s.status[0], "acknowledged");
    assert_int_equal(s.count[0], 2);
    assert_int_equal(hub_alerts_act(f->store, f->metrics, id, true, "bob", NOW), DEPOT_OK);
    assert_string_equal(alerts_of(f, "low_stock", "A").status[0], "resolved");
    assert_int_equal(hub_alerts_act(f->store, f->metrics, id, true, "bob", NOW), DEPOT_ERR_STALE);
    assert_int_equal(hub_alerts_act(f->store, f->metrics, id, false, "bob", NOW), DEPOT_ERR_STALE);
    assert_int_equal(hub_alerts_act(f->store, f->metrics, 9999, true, "bob", NOW),
                     DEPOT_ERR_NOTFOUND);
    /* resolved by hand: the same figures do not reopen it; a new trigger opens a new one */
    stock(f, "A", "S1", 1);
    assert_int_equal(alerts_of(f, "low_stock", "A").n, 1);
    stock(f, "A", "S1", 0);
    s = alerts_of(f, "low_stock", "A");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.status[0], "open");
    assert_int_equal(s.count[0], 1);
}

static void test_Load_LiveAlertsSurviveRestart(void **state)
{
    struct fixture *f = *state;
    catalog(f, 5, 7);
    stock(f, "A", "S1", 2);
    hub_alerts_free(f->alerts); /* a restart: the engine reloads from the store */
    assert_int_equal(hub_alerts_new(&f->cfg, f->metrics, &f->alerts), DEPOT_OK);
    stock(f, "A", "S1", 8);
    assert_int_equal(alerts_of(f, "low_stock", "A").n, 1);
    assert_string_equal(alerts_of(f, "low_stock", "A").status[0], "resolved");
}

/* ---- what alerts rest on changes: at once, not at the next periodic evaluation ---- */

static void test_Catalog_ReorderPointRaisedTakesEffectAtTheNextMessage(void **state)
{
    struct fixture *f = *state;
    catalog(f, 1, 7);
    stock(f, "A", "S1", 3);
    assert_int_equal(alerts_of(f, "low_stock", "A").n, 0);
    catalog(f, 5, 7);        /* imported through the API: 3 is now at or below the point */
    stock(f, "B", "S2", 50); /* any message, no periodic evaluation */
    assert_int_equal(alerts_of(f, "low_stock", "A").n, 1);
    assert_string_equal(alerts_of(f, "low_stock", "A").status[0], "open");
}

static void test_Suggestion_DistancesFilledAndReorderedWhenPlacesArrive(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    catalog(f, 5, 7);
    stock(f, "B", "S1", 20); /* surplus 15 */
    stock(f, "C", "S1", 20);
    stock(f, "A", "S1", 2);
    s = alerts_of(f, "low_stock", "A");
    assert_non_null(strstr(s.suggestion[0], "\"distance_km\":null"));
    place(f, "A", true, 48.0, 11.0, NULL);
    place(f, "B", true, 48.0, 11.3, NULL);
    place(f, "C", true, 48.0, 11.1, NULL); /* nearer than B */
    stock(f, "D", "S2", 50);               /* any message */
    s = alerts_of(f, "low_stock", "A");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.count[0], 1); /* the same trigger: rewritten in place */
    assert_null(strstr(s.suggestion[0], "null"));
    assert_non_null(strstr(s.suggestion[0], "\"transfers\":[{\"dealer\":\"C\""));
    assert_true(strstr(s.suggestion[0], "\"dealer\":\"C\"") <
                strstr(s.suggestion[0], "\"dealer\":\"B\""));
}

static void test_Suggestion_RecomputedWhenTheSourceStockChanges(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    int before;
    catalog(f, 5, 7);
    stock(f, "C", "S1", 9); /* surplus 4 */
    stock(f, "A", "S1", 2);
    s = alerts_of(f, "low_stock", "A");
    assert_non_null(strstr(s.suggestion[0], "\"dealer\":\"C\",\"qty\":4"));
    before = outbox_len(f);
    stock(f, "C", "S1", 5); /* C has no surplus any more */
    s = alerts_of(f, "low_stock", "A");
    assert_int_equal(s.count[0], 1);
    assert_null(strstr(s.suggestion[0], "\"dealer\":\"C\""));
    assert_int_equal(outbox_len(f), before + 2); /* C's own low_stock, A's new suggestion */
    stock(f, "C", "S1", 5);                      /* the same again: nothing rewritten */
    assert_int_equal(outbox_len(f), before + 2);
}

static void test_Retention_ResolvedAlertsPrunedAfterResolvedDays(void **state)
{
    struct fixture *f = *state;
    catalog(f, 5, 7);
    stock(f, "A", "S1", 2); /* low: open */
    stock(f, "A", "S1", 9); /* resolved at NOW */
    stock(f, "B", "S1", 1); /* low: stays open */
    evaluate(f, NOW + (f->cfg.alert_resolved_days - 1) * DAY);
    assert_int_equal(alerts_of(f, "low_stock", "A").n, 1); /* kept within resolved_days */
    evaluate(f, NOW + (f->cfg.alert_resolved_days + 1) * DAY);
    assert_int_equal(alerts_of(f, "low_stock", "A").n, 0);
    assert_int_equal(alerts_of(f, "low_stock", "B").n, 1); /* a live one is never pruned */
    assert_string_equal(alerts_of(f, "low_stock", "B").status[0], "open");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T3(fn)                                                                                     \
    {                                                                                              \
        "three_hubs/" #fn, fn, setup3, teardown, NULL                                              \
    }
    const struct CMUnitTest tests[] = {
        T(test_LowStock_OpenedOnceAsAWebhookEvent),
        T(test_Alert_LifeAsWebhookEvents),
        T(test_LowStock_RaisedDedupedAndResolved),
        T(test_LowStock_SkuNotInCatalogNeverAlerts),
        T(test_Retention_ResolvedAlertsPrunedAfterResolvedDays),
        T(test_Movements_HistoryExactlyOnce),
        T(test_StockoutForecast_FromVelocity),
        T(test_Suggestion_NearestDealerWithRealSurplus),
        T(test_Suggestion_FresherFirstAtEqualDistance),
        cmocka_unit_test(test_Distance_Haversine),
        T(test_SalesSpike_AgainstTrailingAverage),
        T(test_Shrinkage_ScaleDecreaseWithoutPick),
        T(test_NodeFault_EventsAndSnapshot),
        T(test_GatewayOffline_LastWillAndSilence),
        T(test_OutboxFilling_RaisedAtHalfResolvedWithHysteresis),
        T(test_ContractExpiring_WithinDays),
        T(test_Act_AckResolveAndConflict),
        T(test_Load_LiveAlertsSurviveRestart),
        T(test_Catalog_ReorderPointRaisedTakesEffectAtTheNextMessage),
        T(test_Suggestion_DistancesFilledAndReorderedWhenPlacesArrive),
        T(test_Suggestion_RecomputedWhenTheSourceStockChanges),
        T3(test_LowStock_RaisedDedupedAndResolved),
        T3(test_LowStock_SkuNotInCatalogNeverAlerts),
        T3(test_Retention_ResolvedAlertsPrunedAfterResolvedDays),
        T3(test_Movements_HistoryExactlyOnce),
        T3(test_StockoutForecast_FromVelocity),
        T3(test_Suggestion_NearestDealerWithRealSurplus),
        T3(test_Suggestion_FresherFirstAtEqualDistance),
        T3(test_SalesSpike_AgainstTrailingAverage),
        T3(test_Shrinkage_ScaleDecreaseWithoutPick),
        T3(test_NodeFault_EventsAndSnapshot),
        T3(test_GatewayOffline_LastWillAndSilence),
        T3(test_OutboxFilling_RaisedAtHalfResolvedWithHysteresis),
        T3(test_ContractExpiring_WithinDays),
        T3(test_Act_AckResolveAndConflict),
        T3(test_Load_LiveAlertsSurviveRestart),
        T3(test_Catalog_ReorderPointRaisedTakesEffectAtTheNextMessage),
        T3(test_Suggestion_DistancesFilledAndReorderedWhenPlacesArrive),
        T3(test_Suggestion_RecomputedWhenTheSourceStockChanges),
    };
    depot_log_init("test", DEPOT_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
