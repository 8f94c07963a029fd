/*
 * bench_ranking: the ranking engine (cloud/hub/ranking/engine.c) at 10,000 dealers.
 *
 *   bench_ranking [--dealers 10000] [--days 90] [--skus 50]
 *
 * Data: every dealer has, every day, a figure of units picked for every SKU
 * (dealers x days x skus daily figures, 45 million at full size, one byte
 * each in a raw array, from a fixed pseudo-random generator), plus per
 * dealer and day one payment, one invoiced order, one order (every 7th
 * defective) and an online interval (presence marks). The days end on the
 * 20th of a month, so the board covers that month and movement compares
 * with the month before.
 *
 *   1. load       the aggregates are fed days 1..D-1 (what a running hub
 *                 would have accumulated), then the board is computed once
 *   2. update     the last day's figures arrive (dealers x skus sales, and
 *                 that day's payments, orders, presence): applied as deltas,
 *                 then the board (normalisation, scores, ranks, movement)
 *                 is recomputed over the aggregates: the time to bring the
 *                 leaderboard up to date (target under 1 s)
 *   3. baseline   a fresh engine fed every raw figure of all D days, then
 *                 the board: a full recompute from the raw figures
 *
 * The two boards must be identical (checked: exit 1 if not). Memory: the
 * engine's own bytes (hub_rank_memory), the raw figures, and VmHWM.
 * Nothing is stored in SQLite here: the hub keeps the aggregates in memory
 * and rebuilds them at start from the store's monthly sums.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "depot/alloc.h"
#include "ranking/engine.h"

#define DAY_MS 86400000LL
#define END_MS 1773964800000LL /* 2026-03-20T00:00:00Z: the last day starts here */

struct size {
    int dealers, days, skus;
};

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static void dealer_id(int d, char out[16])
{
    snprintf(out, 16, "D%05d", d);
}

static void sku_id(int s, char out[16])
{
    snprintf(out, 16, "SKU%03d", s);
}

static long long day_start(const struct size *z, int day)
{
    return END_MS - (long long)(z->days - 1 - day) * DAY_MS;
}

/* The raw figures: units[(d * days + day) * skus + s], 0..9 (a third of them 0). */
static uint8_t *make_raw(const struct size *z)
{
    size_t n = (size_t)z->dealers * (size_t)z->days * (size_t)z->skus;
    uint8_t *raw = malloc(n);
    for (size_t i = 0; raw && i < n; i++) {
        uint32_t h = mix((uint32_t)i * 2654435761U + 17);
        raw[i] = h % 3 == 0 ? 0 : (uint8_t)(h >> 8) % 10;
    }
    return raw;
}

static void setup_catalog(hub_rank *r, const struct size *z)
{
    char sku[16];
    hub_rank_catalog_begin(r);
    for (int s = 0; s < z->skus; s++) {
        sku_id(s, sku);
        hub_rank_catalog_item(r, sku, 100 + 37 * s);
    }
}

/* Ids made once, so that the figures do not include printing them. */
static char (*dealer_ids)[16], (*sku_ids)[16];

static void make_ids(const struct size *z)
{
    dealer_ids = calloc((size_t)z->dealers, sizeof(*dealer_ids));
    sku_ids = calloc((size_t)z->skus, sizeof(*sku_ids));
    for (int d = 0; dealer_ids && d < z->dealers; d++)
        dealer_id(d, dealer_ids[d]);
    for (int s = 0; sku_ids && s < z->skus; s++)
        sku_id(s, sku_ids[s]);
}

/* Everything of one day: sales from raw, and the day's payment, order, invoice, presence. */
static long long feed_day(hub_rank *r, const struct size *z, const uint8_t *raw, int day)
{
    long long at = day_start(z, day), n = 0;
    for (int d = 0; d < z->dealers; d++) {
        const uint8_t *u = raw + ((size_t)d * (size_t)z->days + (size_t)day) * (size_t)z->skus;
        uint32_t h = mix((uint32_t)(d * 1000 + day));
        const char *dealer = dealer_ids[d];
        for (int s = 0; s < z->skus; s++, n++)
            if (u[s])
                hub_rank_sale(r, dealer, sku_ids[s], at + 3600000, u[s]);
        hub_rank_invoice(r, dealer, at + 7200000, 1000 + h % 5000);
        hub_rank_payment(r, dealer, at + 7200000, 500 + (h >> 4) % 5000);
        hub_rank_order(r, dealer, at + 7200000, (d + day) % 7 == 0);
        hub_rank_mark(r, dealer, at + (long long)(h % 600) * 60000, true);
        hub_rank_mark(r, dealer, at + DAY_MS - (long long)((h >> 12) % 600) * 60000, false);
    }
    return n;
}

static long long vm_hwm_kib(void)
{
    char line[256];
    long long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmHWM:", 6))
            kib = atoll(line + 6);
    if (f)
        fclose(f);
    return kib;
}

static bool boards_equal(const struct hub_rank_board *a, const struct hub_rank_board *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->e[i].dealer, b->e[i].dealer) || a->e[i].score != b->e[i].score ||
            a->e[i].rebate != b->e[i].rebate || a->e[i].movement != b->e[i].movement)
            return false;
    return true;
}

static void parse_args(int argc, char **argv, struct size *z)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--dealers"))
            z->dealers = v;
        else if (!strcmp(argv[i], "--days"))
            z->days = v;
        else if (!strcmp(argv[i], "--skus"))
            z->skus = v;
    }
    if (z->dealers < 1 || z->days < 2 || z->days > 400 || z->skus < 1 || z->skus > 1000 ||
        z->dealers > 100000) {
        fprintf(stderr, "usage: bench_ranking [--dealers 1..100000] [--days 2..400] "
                        "[--skus 1..1000]\n");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    struct size z = {10000, 90, 50};
    struct hub_rank_params p = {.weights = {0.35, 0.25, 0.15, 0.15, 0.10},
                                .offline_after_ms = 120000};
    struct hub_rank_board inc, full;
    double t0, t_load, t_apply, t_board, t_full, t_fullboard;
    long long figures = 0, day_figures;
    int period;
    uint8_t *raw;
    hub_rank *r, *f;

    parse_args(argc, argv, &z);
    hub_rank_parse_tiers("0.8:3,0.6:2,0.4:1", &p);
    period = hub_period_of(day_start(&z, z.days - 1));
    printf("bench_ranking: %d dealers x %d days x %d SKUs = %lld daily figures\n", z.dealers,
           z.days, z.skus, (long long)z.dealers * z.days * z.skus);
    t0 = bench_mono_s();
    raw = make_raw(&z);
    make_ids(&z);
    if (!raw || !dealer_ids || !sku_ids)
        return 1;
    printf("  raw figures generated in %.2f s (%.1f MiB, not counted below)\n", bench_mono_s() - t0,
           (double)z.dealers * z.days * z.skus / 1048576.0);

    if (hub_rank_new(&p, &r) != DEPOT_OK)
        return 1;
    setup_catalog(r, &z);
    t0 = bench_mono_s();
    for (int day = 0; day < z.days - 1; day++)
        figures += feed_day(r, &z, raw, day);
    hub_rank_compute(r, period, day_start(&z, z.days - 1), &inc);
    hub_rank_board_clear(&inc);
    t_load = bench_mono_s() - t0;

    t0 = bench_mono_s();
    day_figures = feed_day(r, &z, raw, z.days - 1);
    t_apply = bench_mono_s() - t0;
    hub_rank_compute(r, period, day_start(&z, z.days) - 1, &inc);
    t_board = bench_mono_s() - t0 - t_apply;

    if (hub_rank_new(&p, &f) != DEPOT_OK)
        return 1;
    setup_catalog(f, &z);
    t0 = bench_mono_s();
    for (int day = 0; day < z.days; day++)
        feed_day(f, &z, raw, day);
    t_full = bench_mono_s() - t0;
    hub_rank_compute(f, period, day_start(&z, z.days) - 1, &full);
    t_fullboard = bench_mono_s() - t0 - t_full;

    printf("  %-58s %10.3f s\n", "load: aggregates fed days 1..D-1, one board", t_load);
    printf("  %-58s %10.3f s\n", "update: last day's deltas applied", t_apply);
    printf("  %-58s %10.3f s\n", "update: board recomputed over the aggregates", t_board);
    printf("  %-58s %10.3f s   (%lld figures + %d dealers' other facts)\n",
           "update total: leaderboard up to date after one day", t_apply + t_board, day_figures,
           z.dealers);
    printf("  %-58s %10.3f s   (%lld figures)\n", "baseline: full recompute from the raw figures",
           t_full + t_fullboard, figures + day_figures);
    printf("  %-58s %10.1f x\n", "ratio baseline / update",
           (t_full + t_fullboard) / (t_apply + t_board));
    printf("  %-58s %10.1f MiB\n", "memory: engine aggregates (incremental engine)",
           (double)hub_rank_memory(r) / 1048576.0);
    printf("  %-58s %10.1f MiB\n", "memory: one board", (double)inc.n * sizeof(*inc.e) / 1048576.0);
    printf("  %-58s %10.1f MiB\n", "VmHWM (both engines + raw figures)",
           (double)vm_hwm_kib() / 1024.0);
    printf("  boards identical: %s; leader %s score %.4f rebate %.2f\n",
           boards_equal(&inc, &full) ? "yes" : "NO", inc.n ? inc.e[0].dealer : "-",
           inc.n ? inc.e[0].score : 0, inc.n ? (double)inc.e[0].rebate / 100 : 0);
    int rc = boards_equal(&inc, &full) ? 0 : 1;
    hub_rank_board_clear(&inc);
    hub_rank_board_clear(&full);
    hub_rank_free(r);
    hub_rank_free(f);
    free(raw);
    free(dealer_ids);
    free(sku_ids);
    return rc;
}
