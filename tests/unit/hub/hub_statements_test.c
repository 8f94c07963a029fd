/*
 * Rebate statements (statements.h) on a real store and ranking, signed with
 * a real key: a close freezes every dealer on the period's board with the
 * board's figures (computed from the store, with what this hub's ranking has
 * not replayed yet), its sales lines (one per pick movement; one per day
 * where the hub lacks a day's movements) sum to the sales KPI and its
 * payment lines to what was paid, and the hub's signature verifies over the exact
 * text; a second close keeps what is there, and a payment recorded later
 * changes nothing; an open period and a hub without a key are refused; the
 * source lines stop at the bound while the totals stay exact; and the CSV
 * and PDF say what the statement says (the PDF's cross-reference offsets
 * point at its objects).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "depot/alloc.h"
#include "depot/money.h"
#include "depot/pki.h"
#include "ranking/service.h"
#include "statements.h"
#include "store/statements.h"
#include "store/store.h"
#include "hub_test_util.h"

#define NOW 1764230000000LL /* 2025-11-27: October 2025 has ended */
#define DAY 86400000LL

static struct {
    char dir[256], key[300], crt[300];
} P;

struct fixture {
    char dir[256], location[300];
    struct hub_config cfg;
    hub_store *s;
    hub_statements *st;
    hub_ranking *rk;
    uint64_t next_id;
    long long level[2];
    int period; /* 2025-10 */
};

static int group_setup(void **state)
{
    char ca_key[300], ca_crt[300];
    pki_ca *ca;
    (void)state;
    test_tmpdir(P.dir, sizeof(P.dir));
    snprintf(ca_key, sizeof(ca_key), "%s/ca.key", P.dir);
    snprintf(ca_crt, sizeof(ca_crt), "%s/ca.crt", P.dir);
    snprintf(P.key, sizeof(P.key), "%s/hub.key", P.dir);
    snprintf(P.crt, sizeof(P.crt), "%s/hub.crt", P.dir);
    assert_int_equal(pki_key_generate(ca_key), DEPOT_OK);
    assert_int_equal(pki_ca_create(ca_key, ca_crt, NULL, 0), DEPOT_OK);
    assert_int_equal(pki_ca_open(&ca, ca_key, ca_crt), DEPOT_OK);
    assert_int_equal(pki_key_generate(P.key), DEPOT_OK);
    assert_int_equal(pki_ca_issue_client(ca, P.key, "hub", P.crt, 0), DEPOT_OK);
    pki_ca_free(ca);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    test_rmdir(P.dir);
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct hub_catalog_item items[2] = {{.sku = "S1", .barcode = "4006381333931", .price = 250},
                                        {.sku = "S2", .barcode = "4006381333948", .price = 10000}};
    long long version;
    test_tmpdir(f->dir, sizeof(f->dir));
    test_store_location(f->location, sizeof(f->location), f->dir, "hub.db");
    hub_config_defaults(&f->cfg);
    snprintf(f->cfg.mqtt_key, sizeof(f->cfg.mqtt_key), "%.200s", P.key);
    snprintf(f->cfg.mqtt_cert, sizeof(f->cfg.mqtt_cert), "%.200s", P.crt);
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    assert_int_equal(hub_statements_new(&f->cfg, &f->st), DEPOT_OK);
    assert_int_equal(hub_ranking_new(&f->cfg, &f->rk), DEPOT_OK);
    assert_int_equal(hub_store_catalog_replace(f->s, items, 2, NOW, &version), DEPOT_OK);
    assert_true(hub_period_parse("2025-10", &f->period));
    f->next_id = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    hub_ranking_free(f->rk);
    hub_statements_free(f->st);
    hub_store_free(f->s);
    test_store_drop(f->location);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

/* units of sku picked by dealer on day d of the period (0: its first day). */
static void pick(struct fixture *f, const char *dealer, const char *sku, long long units, int d)
{
    struct depot_movement_item item = {0};
    long long ts = hub_period_start(f->period) + d * DAY + 3600000;
    long long *level = &f->level[sku[1] - '1'];
    enum hub_apply_result res;
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_MOVEMENTS;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    snprintf(m.ledger, sizeof(m.ledger), dealer[0] == 'A' ? LEDGER_A : LEDGER_B);
    m.id = m.base = ++f->next_id;
    m.ts = ts;
    item.mid = m.id;
    item.ts = ts;
    snprintf(item.node, sizeof(item.node), "n1");
    snprintf(item.sku, sizeof(item.sku), "%s", sku);
    snprintf(item.kind, sizeof(item.kind), "pick");
    item.delta = -units;
    *level = (*level ? *level : 100000) - units;
    item.qty = *level;
    m.body.movements.items = &item;
    m.body.movements.n_items = 1;
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->s, &m, ts, &res, NULL), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    assert_int_equal(res, HUB_APPLY_DONE);
}

static void pay(struct fixture *f, const char *dealer, long long cents, long long at)
{
    long long id;
    assert_int_equal(hub_store_payment_add(f->s, dealer, cents, "", "bank 7", "ann", at, &id),
                     DEPOT_OK);
}

/* A: 3 + 2 S1 (12.50) and 1 S2 (100.00) = 112.50, paid 40.00 + 2.50 in October and 9.00 in
 * November; B: 4 S1 = 10.00, nothing paid. */
static void story(struct fixture *f)
{
    long long oct = hub_period_start(f->period);
    pick(f, "A", "S1", 3, 1);
    pick(f, "A", "S1", 2, 4);
    pick(f, "A", "S2", 1, 4);
    pick(f, "B", "S1", 4, 2);
    pay(f, "A", 4000, oct + 5 * DAY);
    pay(f, "A", 250, oct + 30 * DAY);
    pay(f, "A", 900, hub_period_start(f->period + 1) + DAY);
    assert_int_equal(hub_ranking_load(f->rk, f->s, NOW), DEPOT_OK);
}

/* Statement id's JSON text, parsed (the caller deletes it); its signature checked. */
struct got {
    char *content, *sig, *cert;
};

static int on_statement(void *arg, const struct hub_statement *st)
{
    struct got *g = arg;
    g->content = strdup(st->content);
    g->sig = strdup(st->sig);
    g->cert = strdup(st->cert);
    return 0;
}

static cJSON *statement_of(struct fixture *f, const char *dealer, char **text)
{
    struct got g = {0};
    unsigned char sig[PKI_SIG_MAX];
    size_t sig_len;
    long long id = 0;
    bool created = true;
    char period[HUB_PERIOD_TEXT];
    struct hub_statement probe = {0, dealer, period, 0, "", "", ""};
    cJSON *doc;
    hub_period_text(f->period, period);
    /* the id of (dealer, period): an add of the same pair keeps the one there */
    assert_int_equal(hub_store_statement_add(f->s, &probe, &id, &created), DEPOT_OK);
    assert_false(created);
    assert_int_equal(hub_store_statement_get(f->s, id, on_statement, &g), DEPOT_OK);
    assert_int_equal(pki_base64_decode(g.sig, sig, sizeof(sig), &sig_len), DEPOT_OK);
    assert_int_equal(pki_verify(g.cert, g.content, strlen(g.content), sig, sig_len), DEPOT_OK);
    doc = cJSON_Parse(g.content);
    assert_non_null(doc);
    if (text)
        *text = strdup(g.content);
    free(g.content);
    free(g.sig);
    free(g.cert);
    return doc;
}

static long long cents_of(const cJSON *o, const char *name)
{
    long long c = 0;
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
    assert_non_null(v);
    assert_true(depot_money_parse(v, &c));
    return c;
}

/* The sum of the amounts of section's lines other than its total and invoiced lines. */
static long long lines_sum(const cJSON *doc, const char *section, int *n)
{
    const cJSON *l;
    long long sum = 0;
    *n = 0;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(doc, "lines"))
    {
        const char *key = cJSON_GetObjectItemCaseSensitive(l, "key")->valuestring;
        if (strcmp(cJSON_GetObjectItemCaseSensitive(l, "section")->valuestring, section) ||
            strstr(key, ".total") || strstr(key, ".invoiced"))
            continue;
        sum += cents_of(l, "amount");
        (*n)++;
    }
    return sum;
}

static const cJSON *line_of(const cJSON *doc, const char *key)
{
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(doc, "lines"))
    {
        if (!strcmp(cJSON_GetObjectItemCaseSensitive(l, "key")->valuestring, key))
            return l;
    }
    fail_msg("no line %s", key);
    return NULL;
}

static void test_close_FreezesTheBoardsFiguresWithTheirSourcesSigned(void **state)
{
    struct fixture *f = *state;
    struct hub_close_result res;
    struct hub_rank_board b;
    const struct hub_rank_entry *a;
    cJSON *doc;
    int n;
    story(f);
    /* recorded by another hub, not yet replayed by this one: the close reads the store */
    pay(f, "A", 1000, hub_period_start(f->period) + 6 * DAY);
    assert_int_equal(hub_statements_close(f->st, f->rk, f->s, f->period, NOW, &res), DEPOT_OK);
    assert_int_equal(res.created, 2);
    assert_int_equal(res.existing, 0);
    assert_int_equal(hub_ranking_load(f->rk, f->s, NOW), DEPOT_OK);
    assert_int_equal(hub_ranking_compute(f->rk, f->period, NOW, &b), DEPOT_OK);
    a = hub_rank_board_find(&b, "A");
    assert_non_null(a);
    assert_int_equal(a->sales, 11250);
    assert_int_equal(a->paid, 5250);

    doc = statement_of(f, "A", NULL);
    assert_string_equal(cJSON_GetObjectItem(doc, "dealer")->valuestring, "A");
    assert_string_equal(cJSON_GetObjectItem(doc, "period")->valuestring, "2025-10");
    assert_int_equal(cJSON_GetObjectItem(doc, "rank")->valuedouble, a->rank);
    assert_int_equal(cJSON_GetObjectItem(doc, "of")->valuedouble, 2);
    assert_true(fabs(cJSON_GetObjectItem(doc, "score")->valuedouble - a->score) < 1e-6);
    assert_int_equal(cents_of(doc, "rebate"), a->rebate);
    assert_int_equal(cents_of(doc, "sales"), a->sales);
    assert_int_equal(
        cents_of(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "kpis"), "sales"), "value"),
        a->sales);
    /* sales: A's three pick movements, summing to the KPI and the total */
    assert_int_equal(lines_sum(doc, "sales", &n), a->sales);
    assert_int_equal(n, 3);
    assert_int_equal(cents_of(line_of(doc, "sales.total"), "amount"), a->sales);
    assert_int_equal(cJSON_GetObjectItem(line_of(doc, "sales.total"), "units")->valuedouble, 6);
    assert_int_equal(cents_of(line_of(doc, "sales." LEDGER_A ".3"), "amount"), 10000);
    assert_string_equal(
        cJSON_GetObjectItem(line_of(doc, "sales." LEDGER_A ".3"), "item")->valuestring,
        "2025-10-05 01:00:00 S2 picked at n1 (movement 3)");
    assert_int_equal(
        cJSON_GetObjectItem(line_of(doc, "sales." LEDGER_A ".1"), "units")->valuedouble, 3);
    /* collection: October's three payments, not November's */
    assert_int_equal(lines_sum(doc, "collection", &n), 5250);
    assert_int_equal(n, 3);
    assert_int_equal(cents_of(line_of(doc, "collection.total"), "amount"), a->paid);
    assert_int_equal(cents_of(cJSON_GetObjectItem(doc, "figures"), "paid"), a->paid);
    assert_int_equal(cJSON_GetObjectItem(doc, "lines_cut")->valuedouble, 0);
    line_of(doc, "kpi.penetration");
    line_of(doc, "tasks.due");
    cJSON_Delete(doc);
    hub_rank_board_clear(&b);
}

static void test_close_AgainKeepsTheFirstAndALaterPaymentChangesNothing(void **state)
{
    struct fixture *f = *state;
    struct hub_close_result res;
    char *before, *after;
    story(f);
    assert_int_equal(hub_statements_close(f->st, f->rk, f->s, f->period, NOW, &res), DEPOT_OK);
    cJSON_Delete(statement_of(f, "A", &before));
    pay(f, "A", 5000, hub_period_start(f->period) + 10 * DAY); /* recorded late, dated October */
    assert_int_equal(hub_ranking_load(f->rk, f->s, NOW + 1000), DEPOT_OK);
    assert_int_equal(hub_statements_close(f->st, f->rk, f->s, f->period, NOW + 1000, &res),
                     DEPOT_OK);
    assert_int_equal(res.created, 0);
    assert_int_equal(res.existing, 2);
    cJSON_Delete(statement_of(f, "A", &after));
    assert_string_equal(after, before);
    free(before);
    free(after);
}

static int count_row(void *arg, const struct hub_statement *st)
{
    (void)st;
    (*(int *)arg)++;
    return 0;
}

static void test_close_OpenPeriodOrNoKeyRefusedAndNothingAdded(void **state)
{
    struct fixture *f = *state;
    struct hub_close_result res;
    struct hub_config bare;
    hub_statements *keyless;
    int n = 0;
    story(f);
    assert_int_equal(hub_statements_close(f->st, f->rk, f->s, hub_period_of(NOW), NOW, &res),
                     DEPOT_ERR_INVAL);
    hub_config_defaults(&bare);
    assert_int_equal(hub_statements_new(&bare, &keyless), DEPOT_OK);
    assert_int_equal(hub_statements_close(keyless, f->rk, f->s, f->period, NOW, &res),
                     DEPOT_ERR_CONFIG);
    hub_statements_free(keyless);
    assert_int_equal(hub_store_statements_list(f->s, NULL, NULL, count_row, &n), DEPOT_OK);
    assert_int_equal(n, 0);
}

/* A day the hub has not kept every pick movement of (days applied before it kept them) is one
 * line of the day's figure; the days it has are their movements. */
static void test_close_DayWithoutItsMovementsIsOneLineOfTheDay(void **state)
{
    struct fixture *f = *state;
    struct hub_close_result res;
    cJSON *doc;
    int n;
    story(f);
    pick(f, "B", "S1", 5, 2); /* mid 5: B's day 2 has two picks of S1 (4 + 5) */
    /* as a hub before store migration 10 left them: A's S1 of day 4, B's first pick of day 2 */
    assert_true(test_store_exec(f->location, "DELETE FROM movements WHERE mid IN (2, 4)"));
    assert_int_equal(hub_ranking_load(f->rk, f->s, NOW), DEPOT_OK);
    assert_int_equal(hub_statements_close(f->st, f->rk, f->s, f->period, NOW, &res), DEPOT_OK);
    doc = statement_of(f, "A", NULL);
    assert_int_equal(lines_sum(doc, "sales", &n), 750 + 500 + 10000);
    assert_int_equal(n, 3);
    assert_int_equal(cJSON_GetObjectItem(line_of(doc, "sales.2025-10-05.S1"), "units")->valuedouble,
                     2);
    assert_int_equal(cents_of(line_of(doc, "sales." LEDGER_A ".1"), "amount"), 750);
    assert_int_equal(cents_of(line_of(doc, "sales." LEDGER_A ".3"), "amount"), 10000);
    cJSON_Delete(doc);
    doc = statement_of(f, "B", NULL);
    assert_int_equal(lines_sum(doc, "sales", &n), 9 * 250);
    assert_int_equal(n, 1); /* not the one movement kept of the day's two */
    assert_int_equal(cJSON_GetObjectItem(line_of(doc, "sales.2025-10-03.S1"), "units")->valuedouble,
                     9);
    cJSON_Delete(doc);
}

static void test_close_SourceLinesBoundedTotalsExact(void **state)
{
    struct fixture *f = *state;
    struct hub_close_result res;
    long long oct = hub_period_start(f->period), id;
    const long long extra = 5;
    cJSON *doc;
    int n = 0, rows = 0;
    story(f);
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    for (long long i = 0; i < HUB_STATEMENT_LINES_MAX + extra; i++)
        assert_int_equal(hub_store_payment_add(f->s, "B", 1, "", "", "ann", oct + 6 * DAY + i, &id),
                         DEPOT_OK);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    assert_int_equal(hub_ranking_load(f->rk, f->s, NOW), DEPOT_OK);
    assert_int_equal(hub_statements_close(f->st, f->rk, f->s, f->period, NOW, &res), DEPOT_OK);
    doc = statement_of(f, "B", NULL);
    /* B's one sales line and the first payments up to the bound */
    assert_int_equal(lines_sum(doc, "collection", &n), HUB_STATEMENT_LINES_MAX - 1);
    assert_int_equal(n, HUB_STATEMENT_LINES_MAX - 1);
    assert_int_equal(cJSON_GetObjectItem(doc, "lines_cut")->valuedouble, extra + 1);
    assert_int_equal(cents_of(line_of(doc, "collection.total"), "amount"),
                     HUB_STATEMENT_LINES_MAX + extra);
    cJSON_Delete(doc);
    assert_int_equal(hub_store_statements_list(f->s, NULL, NULL, count_row, &rows), DEPOT_OK);
    assert_int_equal(rows, 2);
}

/* ---- CSV and PDF ---- */

#define DOC                                                                                        \
    "{\"dealer\":\"A\",\"period\":\"2025-10\",\"lines\":[{\"key\":\"rebate\",\"section\":"         \
    "\"summary\",\"item\":\"rebate 3 % of sales (net), \\\"all\\\"\",\"amount\":\"6.30\"},"        \
    "{\"key\":\"sales.2025-10-02.S1\",\"section\":\"sales\",\"item\":\"2025-10-02 S1\","           \
    "\"units\":3,\"price\":\"2.50\",\"amount\":\"7.50\"}]}"

static void test_statement_csv_OneRowPerLineQuotedWhereNeeded(void **state)
{
    char *out = NULL;
    size_t len = 0;
    (void)state;
    assert_int_equal(hub_statement_csv(DOC, &out, &len), DEPOT_OK);
    assert_string_equal(out, "key,section,item,units,price,amount,value\r\n"
                             "rebate,summary,\"rebate 3 % of sales (net), \"\"all\"\"\",,,6.30,\r\n"
                             "sales.2025-10-02.S1,sales,2025-10-02 S1,3,2.50,7.50,\r\n");
    assert_int_equal(len, strlen(out));
    depot_free(out);
    assert_int_equal(hub_statement_csv("not json", &out, &len), DEPOT_ERR_PARSE);
    assert_true(hub_statement_has_line(DOC, "sales.2025-10-02.S1"));
    assert_false(hub_statement_has_line(DOC, "sales.2025-10-02"));
}

static void test_statement_pdf_XrefPointsAtEveryObjectAndTheLinesAreInIt(void **state)
{
    char *out = NULL, *p, *xref;
    size_t len = 0;
    long off, start;
    int n, count = 0;
    (void)state;
    assert_int_equal(hub_statement_pdf(DOC, &out, &len), DEPOT_OK);
    assert_memory_equal(out, "%PDF-1.4\n", 9);
    assert_memory_equal(out + len - 6, "%%EOF\n", 6);
    p = strstr(out, "startxref\n");
    assert_non_null(p);
    start = strtol(p + 10, NULL, 10);
    xref = out + start;
    assert_memory_equal(xref, "xref\n0 ", 7);
    n = (int)strtol(xref + 7, &p, 10);
    assert_int_equal(n, 6);       /* free entry, catalog, pages, font, one page and its content */
    p = strchr(p, '\n') + 1 + 20; /* past the free entry */
    for (int i = 1; i < n; i++, p += 20) {
        char want[24];
        off = strtol(p, NULL, 10);
        snprintf(want, sizeof(want), "%d 0 obj", i);
        assert_memory_equal(out + off, want, strlen(want));
        count++;
    }
    assert_int_equal(count, 5);
    assert_non_null(strstr(out, "/BaseFont /Helvetica"));
    assert_non_null(strstr(out, "(summary     rebate 3 % of sales \\(net\\), \"all\"  = 6.30) Tj"));
    assert_non_null(strstr(out, "(sales       2025-10-02 S1  units 3  x 2.50  = 7.50) Tj"));
    depot_free(out);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_close_FreezesTheBoardsFiguresWithTheirSourcesSigned),
        T(test_close_AgainKeepsTheFirstAndALaterPaymentChangesNothing),
        T(test_close_OpenPeriodOrNoKeyRefusedAndNothingAdded),
        T(test_close_DayWithoutItsMovementsIsOneLineOfTheDay),
        T(test_close_SourceLinesBoundedTotalsExact),
        cmocka_unit_test(test_statement_csv_OneRowPerLineQuotedWhereNeeded),
        cmocka_unit_test(test_statement_pdf_XrefPointsAtEveryObjectAndTheLinesAreInIt),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
