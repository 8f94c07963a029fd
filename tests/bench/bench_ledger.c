/*
 * bench_ledger: durable scan events per second through the gateway's ledger,
 * beside SQLite's raw batched insert of the same rows, on the same file
 * system in the same run.
 *
 *   bench_ledger [--events 10000] [--batch 8] [--runs 3] [--skus 100]
 *                [--dir /var/tmp] [--log-level info]
 *
 * Depot: a real ledger file (gw_ledger_open: WAL, synchronous=FULL) in a
 * fresh folder under --dir, a catalog of --skus items, and --batch scanner
 * terminals, each served by its own thread as a poller thread serves its
 * terminals. Events arrive in bursts: all --batch terminals get one event at
 * once, each thread applies its event with gw_terminal_scan (what the
 * poller calls for the head of a terminal's FIFO before it acknowledges it:
 * the scans row, the stock movement, the stock row and the up/stock message
 * in one ledger transaction, committed before it returns), and the next
 * burst comes when every event of this one is committed. Three in four
 * events are goods in (receive, 1..9 items), one in four goods out (pick of
 * one item of the terminal's previous SKU). Latency of an event: from the
 * moment its thread submits it to the return of gw_terminal_scan (its commit
 * is durable). Commits are counted with an SQLite commit hook on the
 * ledger's connection, so events per commit shows how many events shared
 * one. Afterwards the file is read back: one scans row, one movement and one
 * outbox message per event, message ids 1..N, every stock the sum of its
 * movements (else exit 1).
 *
 * Raw: a second file with the same schema (made by gw_ledger_open, so the
 * same tables, indexes and triggers), closed and opened again with plain
 * SQLite, journal_mode=WAL, synchronous=FULL. The rows the Depot run left
 * (its scans, movements and outbox rows, in commit order) are inserted again
 * with prepared statements, one per table, in batches of --batch events
 * (the same bursts), BEGIN ... COMMIT per batch: per event its scans row,
 * its movements row, its stock upsert and its outbox row. No reads, no
 * message encoding, no checks: SQLite's own cost of making those rows
 * durable. Latency: one batch's BEGIN to its COMMIT's return.
 *
 * --runs alternates the two (Depot then raw, raw then Depot, ...); the
 * rows come from the first Depot run. Figures: events/s, latency p50/p99/max,
 * commits, CPU per event (getrusage of the whole process), and the ratio
 * Depot/raw per run, then medians and spread. Figures only, never pass/fail;
 * exit 1 only when a run could not be made (an event not recorded, a row
 * count that is not what the events made).
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "bench_util.h"
#include "catalog.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/modbus_map.h"
#include "ledger.h"
#include "ledger_tx.h"
#include "terminal.h"

#define MAX_RUNS 15
#define OUTBOX_MAX 100000 /* the gateway's default [outbox] max_entries */

struct opts {
    long events, batch, runs, skus;
    const char *dir;
    const char *log_level;
};

/* The rows one event left in the ledger, inserted again by the raw run. */
struct row {
    /* scans */
    char *node, *barcode, *outcome, *display, *reason;
    long long epoch, seq, type, qty, display_code, ts;
    /* movements (and the stock upsert) */
    char *m_node, *m_sku, *m_kind;
    long long m_ts, m_delta, m_qty_after, m_msg_id;
    /* outbox */
    char *o_topic, *o_sku, *o_payload;
    long long o_id, o_ts;
};

/* One run of either side. */
struct result {
    double seconds, events_per_s, cpu_us_per_event;
    double p50_ms, p99_ms, max_ms; /* Depot: per event; raw: per batch */
    long commits;
};

struct depot_run {
    const struct opts *o;
    gw_ledger *l;
    gw_terminal *t;
    pthread_barrier_t start, done;
    long burst;
    bool stop;
    long long *lat_ns; /* per event */
    int failures;      /* events not recorded as applied, under mu */
    pthread_mutex_t mu;
    long commits;
};

struct worker {
    struct depot_run *r;
    int j;
    char node[16];
    int last_sku;
    pthread_t th;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: bench_ledger [--events 10000] [--batch 8] [--runs 3] [--skus 100]\n"
                 "                    [--dir /var/tmp] [--log-level info]\n");
}

static void fail(const char *fmt, const char *what)
{
    fprintf(stderr, "bench_ledger: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n");
    exit(1);
}

static char *dup_text(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    char *d = strdup(s ? (const char *)s : "");
    if (!d)
        fail("%s", "out of memory");
    return d;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..100) of v[0..n), sorted in place; milliseconds. */
static double pct_ms(long long *v, long n, double p)
{
    long k;
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof(*v), cmp_ll);
    k = (long)((p / 100.0) * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (double)v[k - 1] / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[MAX_RUNS];
    memcpy(s, v, (size_t)n * sizeof(*s));
    qsort(s, (size_t)n, sizeof(*s), cmp_d);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[1024];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static const char *fs_name(const char *dir)
{
    struct statfs s;
    if (statfs(dir, &s) != 0)
        return "unknown";
    switch ((unsigned long)s.f_type) {
    case 0xEF53UL:
        return "ext4";
    case 0x58465342UL:
        return "xfs";
    case 0x9123683EUL:
        return "btrfs";
    case 0x01021994UL:
        return "tmpfs (no real fsync: figures mean little)";
    case 0x794C7630UL:
        return "overlayfs";
    default:
        return "other";
    }
}

static gw_ledger *open_ledger(const char *path)
{
    struct gw_ledger_opts lo = {path, "D001", OUTBOX_MAX, 80};
    gw_ledger *l = NULL;
    if (gw_ledger_open(&lo, &l) != DEPOT_OK)
        fail("cannot open the ledger %s", path);
    return l;
}

/* ---- Depot: gw_terminal_scan from one thread per terminal, bursts of --batch ---- */

static int count_commit(void *ctx)
{
    ((struct depot_run *)ctx)->commits++; /* called under the connection's mutex */
    return 0;
}

static void make_scan(struct worker *w, long i, struct gw_scan *s)
{
    long skus = w->r->o->skus;
    memset(s, 0, sizeof(*s));
    s->epoch = 1;
    s->seq = (uint32_t)(i + 1);
    if (i % 4 == 3) { /* goods out: one item of what this terminal received last */
        s->type = DEPOT_SCAN_PICK;
        s->qty = 1;
    } else {
        w->last_sku = (int)(((long)w->j * 7919L + i * 104729L) % skus);
        s->type = DEPOT_SCAN_RECEIVE;
        s->qty = 1 + (i * 7 + w->j) % 9;
    }
    snprintf(s->barcode, sizeof(s->barcode), "200%010d", w->last_sku);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct depot_run *r = w->r;
    for (;;) {
        long k;
        pthread_barrier_wait(&r->start);
        if (r->stop)
            break;
        k = r->burst * r->o->batch + w->j;
        if (k < r->o->events) {
            struct gw_scan s;
            struct gw_display d;
            bool dup = false;
            long long t0, t1;
            depot_err e;
            make_scan(w, r->burst, &s);
            t0 = bench_mono_ns();
            e = gw_terminal_scan(r->t, w->node, &s, depot_now_ms(), &d, &dup);
            t1 = bench_mono_ns();
            r->lat_ns[k] = t1 - t0;
            if (e != DEPOT_OK || dup || d.code != DEPOT_DISPLAY_OK) {
                pthread_mutex_lock(&r->mu);
                r->failures++;
                pthread_mutex_unlock(&r->mu);
            }
        }
        pthread_barrier_wait(&r->done);
    }
    return NULL;
}

static void put_catalog(gw_ledger *l, long skus)
{
    struct depot_catalog_item *items = calloc((size_t)skus, sizeof(*items));
    struct depot_catalog_body c;
    bool applied = false;
    if (!items)
        fail("%s", "out of memory");
    for (long i = 0; i < skus; i++) {
        snprintf(items[i].sku, sizeof(items[i].sku), "SKU-%04ld", i);
        snprintf(items[i].barcode, sizeof(items[i].barcode), "200%010ld", i);
        items[i].min_qty = 1;
        items[i].max_qty = 1000;
    }
    c.version = 1;
    c.n_items = (size_t)skus;
    c.items = items;
    if (gw_catalog_replace(l, &c, &applied) != DEPOT_OK || !applied)
        fail("%s", "cannot store the catalog");
    free(items);
}

static long long sql_count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/*
 * What the events must have left, read back on a connection of its own: one
 * applied scans row, one movement and one outbox message per event, message
 * ids 1..n with meta.next_id n + 1, and every SKU's stock the sum of its
 * movements. Nothing lost, nothing doubled, whatever shared a commit.
 */
static void check_ledger(const char *path, long n)
{
    static const char *const checks[] = {
        "SELECT count(*) FROM scans WHERE outcome = 'applied'",
        "SELECT count(*) FROM movements",
        "SELECT count(*) FROM outbox",
        "SELECT count(DISTINCT id) FROM outbox WHERE id BETWEEN 1 AND ?1",
        "SELECT next_id - 1 FROM meta",
        "SELECT ?1 - count(*) FROM stock s WHERE qty <> (SELECT sum(delta) FROM movements m"
        " WHERE m.sku = s.sku)",
    };
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail("cannot read %s", path);
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        sqlite3_stmt *st;
        long long v = -1;
        if (sqlite3_prepare_v2(db, checks[i], -1, &st, NULL) != SQLITE_OK)
            fail("cannot check the ledger: %s", sqlite3_errmsg(db));
        sqlite3_bind_int64(st, 1, n);
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (v != n) {
            fprintf(stderr, "bench_ledger: %s: %lld, not %ld\n", checks[i], v, n);
            fail("%s", "the ledger does not hold exactly what the events made");
        }
    }
    sqlite3_close(db);
}

static void depot_run(const struct opts *o, const char *path, struct result *res)
{
    struct depot_run r;
    struct worker *w = calloc((size_t)o->batch, sizeof(*w));
    long bursts = (o->events + o->batch - 1) / o->batch;
    double c0, c1;
    long long t0, t1;

    memset(&r, 0, sizeof(r));
    r.o = o;
    r.lat_ns = calloc((size_t)o->events, sizeof(*r.lat_ns));
    if (!w || !r.lat_ns)
        fail("%s", "out of memory");
    pthread_mutex_init(&r.mu, NULL);
    r.l = open_ledger(path);
    put_catalog(r.l, o->skus);
    if (gw_terminal_new(r.l, NULL, NULL, &r.t) != DEPOT_OK)
        fail("%s", "cannot make the terminal side");
    pthread_barrier_init(&r.start, NULL, (unsigned)o->batch + 1);
    pthread_barrier_init(&r.done, NULL, (unsigned)o->batch + 1);
    for (long j = 0; j < o->batch; j++) {
        w[j].r = &r;
        w[j].j = (int)j;
        snprintf(w[j].node, sizeof(w[j].node), "term-%03d", (int)j);
        if (pthread_create(&w[j].th, NULL, worker_main, &w[j]) != 0)
            fail("%s", "cannot start a terminal thread");
    }
    gw_ledger_lock(r.l);
    sqlite3_commit_hook(gw_ledger_sqlite(r.l), count_commit, &r);
    gw_ledger_unlock(r.l);

    c0 = cpu_seconds();
    t0 = bench_mono_ns();
    for (long b = 0; b < bursts; b++) {
        r.burst = b;
        pthread_barrier_wait(&r.start);
        pthread_barrier_wait(&r.done);
    }
    t1 = bench_mono_ns();
    c1 = cpu_seconds();

    r.stop = true;
    pthread_barrier_wait(&r.start);
    for (long j = 0; j < o->batch; j++)
        pthread_join(w[j].th, NULL);
    gw_ledger_lock(r.l);
    sqlite3_commit_hook(gw_ledger_sqlite(r.l), NULL, NULL);
    gw_ledger_unlock(r.l);
    gw_terminal_free(r.t);
    gw_ledger_free(r.l);
    if (r.failures)
        fail("%s", "events were not recorded as applied (see the log on stderr)");
    check_ledger(path, o->events);

    res->seconds = (double)(t1 - t0) / 1e9;
    res->events_per_s = (double)o->events / res->seconds;
    res->cpu_us_per_event = (c1 - c0) * 1e6 / (double)o->events;
    res->commits = r.commits;
    res->max_ms = pct_ms(r.lat_ns, o->events, 100);
    res->p50_ms = pct_ms(r.lat_ns, o->events, 50);
    res->p99_ms = pct_ms(r.lat_ns, o->events, 99);
    pthread_barrier_destroy(&r.start);
    pthread_barrier_destroy(&r.done);
    pthread_mutex_destroy(&r.mu);
    free(r.lat_ns);
    free(w);
}

/* The rows the Depot run left, in commit order; checks there is one of each per event. */
static struct row *load_rows(const char *path, long n)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    struct row *rows = calloc((size_t)n, sizeof(*rows));
    long i;
    if (!rows)
        fail("%s", "out of memory");
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail("cannot read %s", path);
    if (sql_count(db, "SELECT count(*) FROM scans WHERE outcome = 'applied'") != n ||
        sql_count(db, "SELECT count(*) FROM movements") != n ||
        sql_count(db, "SELECT count(*) FROM outbox") != n)
        fail("%s: not one scans, movements and outbox row per event", path);
    sqlite3_prepare_v2(db,
                       "SELECT node, epoch, seq, type, barcode, qty, outcome, display_code,"
                       " display, ts, reason FROM scans ORDER BY id",
                       -1, &st, NULL);
    for (i = 0; i < n && sqlite3_step(st) == SQLITE_ROW; i++) {
        struct row *r = &rows[i];
        r->node = dup_text(st, 0);
        r->epoch = sqlite3_column_int64(st, 1);
        r->seq = sqlite3_column_int64(st, 2);
        r->type = sqlite3_column_int64(st, 3);
        r->barcode = dup_text(st, 4);
        r->qty = sqlite3_column_int64(st, 5);
        r->outcome = dup_text(st, 6);
        r->display_code = sqlite3_column_int64(st, 7);
        r->display = dup_text(st, 8);
        r->ts = sqlite3_column_int64(st, 9);
        r->reason = dup_text(st, 10);
    }
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db,
                       "SELECT ts, node, sku, delta, qty_after, kind, msg_id FROM movements"
                       " ORDER BY id",
                       -1, &st, NULL);
    for (i = 0; i < n && sqlite3_step(st) == SQLITE_ROW; i++) {
        struct row *r = &rows[i];
        r->m_ts = sqlite3_column_int64(st, 0);
        r->m_node = dup_text(st, 1);
        r->m_sku = dup_text(st, 2);
        r->m_delta = sqlite3_column_int64(st, 3);
        r->m_qty_after = sqlite3_column_int64(st, 4);
        r->m_kind = dup_text(st, 5);
        r->m_msg_id = sqlite3_column_int64(st, 6);
    }
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "SELECT id, ts, topic, sku, payload FROM outbox ORDER BY id", -1, &st,
                       NULL);
    for (i = 0; i < n && sqlite3_step(st) == SQLITE_ROW; i++) {
        struct row *r = &rows[i];
        r->o_id = sqlite3_column_int64(st, 0);
        r->o_ts = sqlite3_column_int64(st, 1);
        r->o_topic = dup_text(st, 2);
        r->o_sku = dup_text(st, 3);
        r->o_payload = dup_text(st, 4);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rows;
}

static void free_rows(struct row *rows, long n)
{
    for (long i = 0; i < n; i++) {
        struct row *r = &rows[i];
        char *s[] = {r->node,   r->barcode, r->outcome, r->display, r->reason,   r->m_node,
                     r->m_sku,  r->m_kind,  r->o_topic, r->o_sku,   r->o_payload};
        for (size_t k = 0; k < sizeof(s) / sizeof(s[0]); k++)
            free(s[k]);
    }
    free(rows);
}

/* ---- raw: the same rows, prepared INSERTs, BEGIN ... COMMIT per batch ---- */

static void exec_or_fail(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail("raw: %s", sqlite3_errmsg(db));
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        fail("raw: %s", sqlite3_errmsg(db));
    return st;
}

static void step_or_fail(sqlite3 *db, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        fail("raw: %s", sqlite3_errmsg(db));
    sqlite3_reset(st);
}

static void raw_run(const struct opts *o, const char *path, const struct row *rows,
                    struct result *res)
{
    sqlite3 *db;
    sqlite3_stmt *sc, *mv, *sk, *ob;
    long bursts = (o->events + o->batch - 1) / o->batch;
    long long *lat = calloc((size_t)bursts, sizeof(*lat));
    long long t0, t1;
    double c0, c1;

    if (!lat)
        fail("%s", "out of memory");
    gw_ledger_free(open_ledger(path)); /* the ledger's schema, tables, indexes and triggers */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail("cannot open %s", path);
    exec_or_fail(db, "PRAGMA journal_mode = WAL");
    exec_or_fail(db, "PRAGMA synchronous = FULL");
    sc = prep(db, "INSERT INTO scans (node, epoch, seq, type, barcode, qty, outcome,"
                  " display_code, display, ts, reason)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    mv = prep(db, "INSERT INTO movements (ts, node, sku, delta, qty_after, kind, msg_id)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    sk = prep(db, "INSERT INTO stock (sku, qty, node, updated_at) VALUES (?1, ?2, ?3, ?4)"
                  " ON CONFLICT (sku) DO UPDATE SET qty = ?2, node = ?3, updated_at = ?4");
    ob = prep(db, "INSERT INTO outbox (id, ts, topic, sku, payload) VALUES (?1, ?2, ?3, ?4, ?5)");

    c0 = cpu_seconds();
    t0 = bench_mono_ns();
    for (long b = 0; b < bursts; b++) {
        long long b0 = bench_mono_ns();
        exec_or_fail(db, "BEGIN");
        for (long k = b * o->batch; k < (b + 1) * o->batch && k < o->events; k++) {
            const struct row *r = &rows[k];
            sqlite3_bind_text(sc, 1, r->node, -1, SQLITE_STATIC);
            sqlite3_bind_int64(sc, 2, r->epoch);
            sqlite3_bind_int64(sc, 3, r->seq);
            sqlite3_bind_int64(sc, 4, r->type);
            sqlite3_bind_text(sc, 5, r->barcode, -1, SQLITE_STATIC);
            sqlite3_bind_int64(sc, 6, r->qty);
            sqlite3_bind_text(sc, 7, r->outcome, -1, SQLITE_STATIC);
            sqlite3_bind_int64(sc, 8, r->display_code);
            sqlite3_bind_text(sc, 9, r->display, -1, SQLITE_STATIC);
            sqlite3_bind_int64(sc, 10, r->ts);
            sqlite3_bind_text(sc, 11, r->reason, -1, SQLITE_STATIC);
            step_or_fail(db, sc);
            sqlite3_bind_int64(mv, 1, r->m_ts);
            sqlite3_bind_text(mv, 2, r->m_node, -1, SQLITE_STATIC);
            sqlite3_bind_text(mv, 3, r->m_sku, -1, SQLITE_STATIC);
            sqlite3_bind_int64(mv, 4, r->m_delta);
            sqlite3_bind_int64(mv, 5, r->m_qty_after);
            sqlite3_bind_text(mv, 6, r->m_kind, -1, SQLITE_STATIC);
            sqlite3_bind_int64(mv, 7, r->m_msg_id);
            step_or_fail(db, mv);
            sqlite3_bind_text(sk, 1, r->m_sku, -1, SQLITE_STATIC);
            sqlite3_bind_int64(sk, 2, r->m_qty_after);
            sqlite3_bind_text(sk, 3, r->m_node, -1, SQLITE_STATIC);
            sqlite3_bind_int64(sk, 4, r->m_ts);
            step_or_fail(db, sk);
            sqlite3_bind_int64(ob, 1, r->o_id);
            sqlite3_bind_int64(ob, 2, r->o_ts);
            sqlite3_bind_text(ob, 3, r->o_topic, -1, SQLITE_STATIC);
            sqlite3_bind_text(ob, 4, r->o_sku, -1, SQLITE_STATIC);
            sqlite3_bind_text(ob, 5, r->o_payload, -1, SQLITE_STATIC);
            step_or_fail(db, ob);
        }
        exec_or_fail(db, "COMMIT");
        lat[b] = bench_mono_ns() - b0;
    }
    t1 = bench_mono_ns();
    c1 = cpu_seconds();

    if (sql_count(db, "SELECT count(*) FROM outbox") != o->events ||
        sql_count(db, "SELECT count(*) FROM scans") != o->events)
        fail("%s", "raw: not one row per event");
    sqlite3_finalize(sc);
    sqlite3_finalize(mv);
    sqlite3_finalize(sk);
    sqlite3_finalize(ob);
    sqlite3_close(db);
    res->seconds = (double)(t1 - t0) / 1e9;
    res->events_per_s = (double)o->events / res->seconds;
    res->cpu_us_per_event = (c1 - c0) * 1e6 / (double)o->events;
    res->commits = bursts;
    res->max_ms = pct_ms(lat, bursts, 100);
    res->p50_ms = pct_ms(lat, bursts, 50);
    res->p99_ms = pct_ms(lat, bursts, 99);
    free(lat);
}

/* ---- main ---- */

static void print_depot(int run, const struct opts *o, const struct result *r)
{
    printf("run %d depot: events=%ld seconds=%.3f events_per_s=%.1f p50_ms=%.3f p99_ms=%.3f"
           " max_ms=%.3f commits=%ld events_per_commit=%.2f cpu_us_per_event=%.1f\n",
           run, o->events, r->seconds, r->events_per_s, r->p50_ms, r->p99_ms, r->max_ms,
           r->commits, r->commits ? (double)o->events / (double)r->commits : 0.0,
           r->cpu_us_per_event);
}

static void print_raw(int run, const struct opts *o, const struct result *r)
{
    printf("run %d raw: events=%ld seconds=%.3f events_per_s=%.1f commit_p50_ms=%.3f"
           " commit_p99_ms=%.3f commit_max_ms=%.3f commits=%ld events_per_commit=%.2f"
           " cpu_us_per_event=%.1f\n",
           run, o->events, r->seconds, r->events_per_s, r->p50_ms, r->p99_ms, r->max_ms,
           r->commits, (double)o->events / (double)r->commits, r->cpu_us_per_event);
}

static void print_summary(const char *name, const char *key, const double *v, int n)
{
    double lo = v[0], hi = v[0];
    for (int i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    printf("%-44s median=%.3f min=%.3f max=%.3f key=%s\n", name, median(v, n), lo, hi, key);
}

int main(int argc, char **argv)
{
    struct opts o = {10000, 8, 3, 100, "/var/tmp", "info"};
    const struct bench_opt table[] = {
        {"--events", NULL, &o.events, 1, 50000},
        {"--batch", NULL, &o.batch, 1, 256},
        {"--runs", NULL, &o.runs, 1, MAX_RUNS},
        {"--skus", NULL, &o.skus, 1, 100000},
        {"--dir", &o.dir, NULL, 0, 0},
        {"--log-level", &o.log_level, NULL, 0, 0},
        {NULL, NULL, NULL, 0, 0},
    };
    struct result dep[MAX_RUNS], raw[MAX_RUNS];
    double v[MAX_RUNS];
    struct row *rows = NULL;
    enum depot_log_level lvl = DEPOT_LOG_INFO;

    if (bench_parse_opts("bench_ledger", argc, argv, table, usage) != 0) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(o.log_level, "debug"))
        lvl = DEPOT_LOG_DEBUG;
    else if (!strcmp(o.log_level, "warn"))
        lvl = DEPOT_LOG_WARN;
    else if (!strcmp(o.log_level, "error"))
        lvl = DEPOT_LOG_ERROR;
    depot_log_init("bench_ledger", lvl);

    printf("bench_ledger: %ld events in bursts of %ld (one thread per terminal), %ld SKUs, %ld "
           "run(s); files under %s (%s); SQLite %s; WAL, synchronous=FULL\n",
           o.events, o.batch, o.skus, o.runs, o.dir, fs_name(o.dir), sqlite3_libversion());
    fflush(stdout);
    for (int run = 1; run <= o.runs; run++) {
        char dir[400], dpath[512], rpath[512];
        snprintf(dir, sizeof(dir), "%s/bench_ledger.XXXXXX", o.dir);
        if (!mkdtemp(dir))
            fail("cannot make a folder under %s", o.dir);
        snprintf(dpath, sizeof(dpath), "%s/ledger.db", dir);
        snprintf(rpath, sizeof(rpath), "%s/raw.db", dir);
        if (run % 2 == 1 || !rows) {
            depot_run(&o, dpath, &dep[run - 1]);
            if (!rows)
                rows = load_rows(dpath, o.events);
            raw_run(&o, rpath, rows, &raw[run - 1]);
        } else {
            raw_run(&o, rpath, rows, &raw[run - 1]);
            depot_run(&o, dpath, &dep[run - 1]);
        }
        print_depot(run, &o, &dep[run - 1]);
        print_raw(run, &o, &raw[run - 1]);
        printf("run %d ratio=%.3f\n", run, dep[run - 1].events_per_s / raw[run - 1].events_per_s);
        fflush(stdout);
        rm_tree(dir);
    }

    printf("summary over %ld run(s):\n", o.runs);
#define SUMMARY(name, key, expr)                                                                   \
    do {                                                                                           \
        for (int i = 0; i < o.runs; i++)                                                           \
            v[i] = (expr);                                                                         \
        print_summary(name, key, v, (int)o.runs);                                                  \
    } while (0)
    SUMMARY("depot: durable events/s", "depot_events_per_s", dep[i].events_per_s);
    SUMMARY("raw: durable events/s", "raw_events_per_s", raw[i].events_per_s);
    SUMMARY("ratio depot/raw", "ratio", dep[i].events_per_s / raw[i].events_per_s);
    SUMMARY("depot: event latency p50, ms", "depot_p50_ms", dep[i].p50_ms);
    SUMMARY("depot: event latency p99, ms", "depot_p99_ms", dep[i].p99_ms);
    SUMMARY("depot: event latency max, ms", "depot_max_ms", dep[i].max_ms);
    SUMMARY("raw: batch commit latency p50, ms", "raw_p50_ms", raw[i].p50_ms);
    SUMMARY("raw: batch commit latency p99, ms", "raw_p99_ms", raw[i].p99_ms);
    SUMMARY("depot: events per commit", "depot_events_per_commit",
            (double)o.events / (double)dep[i].commits);
    SUMMARY("depot: CPU per event, us", "depot_cpu_us", dep[i].cpu_us_per_event);
    SUMMARY("raw: CPU per event, us", "raw_cpu_us", raw[i].cpu_us_per_event);
    free_rows(rows, o.events);
    return 0;
}
