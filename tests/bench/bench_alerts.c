/*
 * bench_alerts: the alert engine fed stock updates in-process, on a real
 * SQLite file, beside a baseline measured in the same run.
 *
 *   bench_alerts [--dealers 1000] [--skus 100] [--updates 200000] [--dir DIR]
 *
 * Setup: a catalog of --skus SKUs (reorder point 10, lead time 7 days), one
 * profile per dealer at a random place, a stock row per (dealer, sku) at a
 * random level, and 7 days of picks per (dealer, sku) (so every cell has a
 * velocity). Then the same sequence of updates (each cell's stock walks by
 * -3..+3 within 0..200, so a few per cent sit at or below the reorder point
 * and keep triggering) runs three ways, 512 per transaction like ingest:
 *
 *   baseline  hub_store_apply of the stock message alone (the stock row, the
 *             exactly-once key, the stock point)
 *   engine    hub_alerts_on_message alone (what the engine adds per update)
 *   both      apply + engine (what ingest does per stock message)
 *
 * It prints updates per second of each, the ratio engine/baseline, and how
 * many alert writes the run made. Figures only, never pass/fail.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "alerts/alerts.h"

#define BATCH 512
#define LEDGER "0123456789abcdef0123456789abcdef"
#define MOVES "fedcba9876543210fedcba9876543210"

struct bench {
    long dealers, skus, updates;
    char dir[256];
    hub_store *store;
    hub_metrics *metrics;
    hub_alerts *alerts;
    struct hub_config cfg;
    long long *qty; /* per cell */
    uint64_t next_id, next_moves;
    long long now;
};

static void die(const char *what, depot_err err)
{
    fprintf(stderr, "bench_alerts: %s: %s\n", what, depot_strerror(err));
    exit(1);
}

static void check(const char *what, depot_err err)
{
    if (err != DEPOT_OK)
        die(what, err);
}

static void stock_msg(struct bench *b, depot_msg *m, long cell, long long qty)
{
    memset(m, 0, sizeof(*m));
    m->v = DEPOT_MSG_VERSION;
    m->type = DEPOT_MSG_STOCK;
    snprintf(m->dealer, sizeof(m->dealer), "D%05ld", cell / b->skus);
    snprintf(m->ledger, sizeof(m->ledger), LEDGER);
    m->id = b->next_id++;
    m->base = 1;
    m->ts = b->now;
    snprintf(m->body.stock.sku, sizeof(m->body.stock.sku), "S%04ld", cell % b->skus);
    snprintf(m->body.stock.node, sizeof(m->body.stock.node), "scale-1");
    m->body.stock.qty = qty;
}

static void setup_catalog(struct bench *b)
{
    struct hub_catalog_item *it = depot_calloc((size_t)b->skus, sizeof(*it));
    long long version;
    for (long k = 0; k < b->skus; k++) {
        snprintf(it[k].sku, sizeof(it[k].sku), "S%04ld", k);
        snprintf(it[k].barcode, sizeof(it[k].barcode), "40000%08ld", k);
        it[k].price = 1000;
        it[k].unit_weight_g = 100;
        it[k].min_qty = 1;
        it[k].max_qty = 1000;
        it[k].reorder_point = 10;
        it[k].lead_time_days = 7;
        it[k].max_stock = 500;
    }
    check("begin", hub_store_begin(b->store));
    check("catalog", hub_store_catalog_replace(b->store, it, (size_t)b->skus, b->now, &version));
    for (long d = 0; d < b->dealers; d++) {
        struct hub_dealer_profile p;
        memset(&p, 0, sizeof(p));
        snprintf(p.dealer, sizeof(p.dealer), "D%05ld", d);
        snprintf(p.region, sizeof(p.region), "r%ld", d % 10);
        p.has_location = true;
        p.lat = 45.0 + (double)(rand() % 1000) / 100.0;
        p.lon = 5.0 + (double)(rand() % 1000) / 100.0;
        check("profile", hub_store_profile_put(b->store, &p));
    }
    check("commit", hub_store_commit(b->store));
    depot_free(it);
}

/* One movements message per dealer: a pick per SKU on each of 7 days. */
static void setup_sales(struct bench *b)
{
    size_t n = (size_t)b->skus * 7 > DEPOT_MOVEMENTS_MAX_ITEMS ? DEPOT_MOVEMENTS_MAX_ITEMS
                                                               : (size_t)b->skus * 7;
    struct depot_movement_item *items = depot_calloc(n, sizeof(*items));
    depot_msg m;
    check("begin", hub_store_begin(b->store));
    for (long d = 0; d < b->dealers; d++) {
        memset(&m, 0, sizeof(m));
        m.v = DEPOT_MSG_VERSION;
        m.type = DEPOT_MSG_MOVEMENTS;
        snprintf(m.dealer, sizeof(m.dealer), "D%05ld", d);
        snprintf(m.ledger, sizeof(m.ledger), MOVES);
        m.id = b->next_moves++;
        m.base = 1;
        m.ts = b->now;
        long long level = 0;
        for (size_t i = 0; i < n; i++) {
            if (i % 7 == 0)
                level = 128; /* each SKU's picks form one chain (the hub refuses gaps) */
            items[i].mid = i + 1;
            items[i].ts = b->now - (long long)(i % 7) * HUB_DAY_MS - 1000;
            snprintf(items[i].node, sizeof(items[i].node), "scan-1");
            snprintf(items[i].sku, sizeof(items[i].sku), "S%04ld", (long)(i / 7) % b->skus);
            snprintf(items[i].kind, sizeof(items[i].kind), "pick");
            items[i].delta = -(1 + rand() % 4);
            level += items[i].delta;
            items[i].qty = level;
        }
        m.body.movements.items = items;
        m.body.movements.n_items = n;
        check("movements", hub_store_apply(b->store, &m, b->now, NULL, NULL));
    }
    check("commit", hub_store_commit(b->store));
    depot_free(items);
}

static void setup_stock(struct bench *b)
{
    long cells = b->dealers * b->skus;
    depot_msg m;
    b->qty = depot_calloc((size_t)cells, sizeof(*b->qty));
    for (long c = 0; c < cells; c += BATCH) {
        check("begin", hub_store_begin(b->store));
        for (long i = c; i < c + BATCH && i < cells; i++) {
            b->qty[i] = 5 + rand() % 196;
            stock_msg(b, &m, i, b->qty[i]);
            check("stock", hub_store_apply(b->store, &m, b->now, NULL, NULL));
        }
        check("commit", hub_store_commit(b->store));
    }
}

/* The next update of the walk: a cell and its new stock. */
static long next_update(struct bench *b, long long *qty)
{
    long cell = (long)(((unsigned long)rand() << 16 ^ (unsigned long)rand()) %
                       (unsigned long)(b->dealers * b->skus));
    long long q = b->qty[cell] + rand() % 7 - 3;
    b->qty[cell] = q < 0 ? 0 : q > 200 ? 200 : q;
    *qty = b->qty[cell];
    return cell;
}

enum mode { MODE_BASELINE, MODE_ENGINE, MODE_BOTH };

static double run(struct bench *b, enum mode mode, unsigned seed)
{
    depot_msg m;
    long long qty;
    double t0;
    srand(seed);
    t0 = bench_mono_s();
    for (long u = 0; u < b->updates; u += BATCH) {
        check("begin", hub_store_begin(b->store));
        for (long i = u; i < u + BATCH && i < b->updates; i++) {
            enum hub_apply_result res = HUB_APPLY_DONE;
            long cell = next_update(b, &qty);
            stock_msg(b, &m, cell, qty);
            if (mode != MODE_ENGINE)
                check("apply", hub_store_apply(b->store, &m, b->now, &res, NULL));
            if (mode != MODE_BASELINE)
                check("engine",
                      hub_alerts_on_message(b->alerts, b->store, &m, res, b->now, b->now));
        }
        check("commit", hub_store_commit(b->store));
        hub_alerts_committed(b->alerts);
    }
    return (double)b->updates / (bench_mono_s() - t0);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_alerts [--dealers N] [--skus N] [--updates N] [--dir DIR]\n");
    exit(2);
}

static void parse(struct bench *b, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (!strcmp(argv[i], "--dealers"))
            b->dealers = atol(argv[++i]);
        else if (!strcmp(argv[i], "--skus"))
            b->skus = atol(argv[++i]);
        else if (!strcmp(argv[i], "--updates"))
            b->updates = atol(argv[++i]);
        else if (!strcmp(argv[i], "--dir"))
            snprintf(b->dir, sizeof(b->dir), "%s", argv[++i]);
        else
            usage();
    }
    if (b->dealers < 2 || b->skus < 1 || b->updates < 1 || b->skus > 9999 || b->dealers > 99999)
        usage();
}

int main(int argc, char **argv)
{
    struct bench b = {.dealers = 1000, .skus = 100, .updates = 200000};
    char db[300], cmd[1000];
    double t0, base, engine, both;
    long long raised;
    bool made_dir;

    parse(&b, argc, argv);
    made_dir = !b.dir[0];
    depot_log_init("bench_alerts", DEPOT_LOG_WARN);
    if (made_dir) {
        snprintf(b.dir, sizeof(b.dir), "%s/bench-alerts-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(b.dir))
            die("mkdtemp", DEPOT_ERR_IO);
    }
    snprintf(db, sizeof(db), "%s/hub.db", b.dir);
    hub_config_defaults(&b.cfg);
    b.cfg.offline_after_s = 86400;
    b.now = (long long)time(NULL) * 1000;
    b.next_id = b.next_moves = 1;
    srand(42);
    check("open", hub_store_open(db, &b.store));
    check("metrics", hub_metrics_new(&b.metrics));
    check("engine", hub_alerts_new(&b.cfg, b.metrics, &b.alerts));
    t0 = bench_mono_s();
    setup_catalog(&b);
    setup_sales(&b);
    setup_stock(&b);
    printf("setup: %ld dealers x %ld SKUs = %ld stock rows, 7 days of picks each, in %.1f s "
           "(%s)\n",
           b.dealers, b.skus, b.dealers * b.skus, bench_mono_s() - t0, db);
    t0 = bench_mono_s();
    check("begin", hub_store_begin(b.store));
    check("load", hub_alerts_evaluate(b.alerts, b.store, b.now)); /* loads the engine's state */
    check("commit", hub_store_commit(b.store));
    hub_alerts_committed(b.alerts);
    printf("engine state loaded and first evaluation in %.2f s; alerts raised %llu\n",
           bench_mono_s() - t0, hub_metrics_get(b.metrics, HUB_C_ALERTS_RAISED));
    raised = (long long)hub_metrics_get(b.metrics, HUB_C_ALERTS_RAISED);
    base = run(&b, MODE_BASELINE, 7);
    engine = run(&b, MODE_ENGINE, 7);
    both = run(&b, MODE_BOTH, 8);
    printf("%-58s %12s\n", "stock updates, 512 per transaction", "updates/s");
    printf("%-58s %12.0f\n", "baseline: stock row update alone (hub_store_apply)", base);
    printf("%-58s %12.0f\n", "alert engine alone (hub_alerts_on_message)", engine);
    printf("%-58s %12.0f\n", "both (what ingest does per stock message)", both);
    printf("engine / baseline ratio: %.1fx (target >= 50,000 updates/s evaluated)\n",
           engine / base);
    printf("alerts raised during the runs %lld, resolved %llu\n",
           (long long)hub_metrics_get(b.metrics, HUB_C_ALERTS_RAISED) - raised,
           hub_metrics_get(b.metrics, HUB_C_ALERTS_RESOLVED));
    hub_alerts_free(b.alerts);
    hub_metrics_free(b.metrics);
    hub_store_free(b.store);
    depot_free(b.qty);
    if (made_dir)
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b.dir);
    else
        snprintf(cmd, sizeof(cmd), "rm -f '%s' '%s-wal' '%s-shm'", db, db, db);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_alerts: could not remove %s\n", b.dir);
    return 0;
}
