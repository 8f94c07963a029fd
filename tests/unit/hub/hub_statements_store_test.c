/*
 * The store's statement domain (store/statements.h) on a real database (a
 * SQLite file, or a fresh PostgreSQL database in
 * unit.hub_statements_store_test.pg), every operation on its own: a
 * statement added and read back byte for byte (a large content with UTF-8,
 * quotes and new lines); a second add of the same (dealer, period) keeps the
 * first; lists filtered by dealer and period, newest period first and
 * without content; a dealer's payments of a time range, oldest first;
 * disputes opened, answered the first time only and only on their own
 * statement, listed oldest first; the applied movements a statement lists
 * (each kept once, in the transaction that applies its batch, none of a
 * duplicate or refused batch); and migrations 9 and 10 on stores made
 * before them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/contracts.h"
#include "store/statements.h"
#include "store/store.h"
#include "hub_test_util.h"

struct fixture {
    char dir[256];
    char location[300];
    hub_store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    test_store_location(f->location, sizeof(f->location), f->dir, "hub.db");
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    hub_store_free(f->s);
    test_store_drop(f->location);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

#define CERT "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static long long add(hub_store *s, const char *dealer, const char *period, const char *content,
                     bool *created)
{
    struct hub_statement st = {0, dealer, period, 5000, content, "MEUCIQ==", CERT};
    long long id = 0;
    bool c = false;
    assert_int_equal(hub_store_statement_add(s, &st, &id, &c), DEPOT_OK);
    assert_true(id > 0);
    if (created)
        *created = c;
    return id;
}

/* What a statement walk saw. */
struct seen {
    int n;
    long long id[8], created_at[8];
    char dealer[8][DEPOT_DEALER_MAX + 1], period[8][8];
    char *content[8];
    char sig[8][32];
};

static int on_statement(void *arg, const struct hub_statement *st)
{
    struct seen *l = arg;
    assert_true(l->n < 8);
    l->id[l->n] = st->id;
    l->created_at[l->n] = st->created_at;
    snprintf(l->dealer[l->n], sizeof(l->dealer[0]), "%s", st->dealer);
    snprintf(l->period[l->n], sizeof(l->period[0]), "%s", st->period);
    snprintf(l->sig[l->n], sizeof(l->sig[0]), "%s", st->sig);
    l->content[l->n] = strdup(st->content);
    l->n++;
    return 0;
}

static void seen_free(struct seen *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->content[i]);
}

static void test_statement_AddGetContentByteForByte(void **state)
{
    struct fixture *f = *state;
    size_t len = 300000;
    char *content = malloc(len + 1);
    struct seen l = {0};
    const char *head = "{\"dealer\":\"D1\",\"note\":\"Distribución \\\"x\\\"\\n\",\"lines\":\"";
    memcpy(content, head, strlen(head));
    for (size_t i = strlen(head); i < len - 2; i++)
        content[i] = (char)('a' + i % 26);
    memcpy(content + len - 2, "\"}", 3);
    long long id = add(f->s, "D1", "2026-11", content, NULL);

    assert_int_equal(hub_store_statement_get(f->s, id, on_statement, &l), DEPOT_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.id[0], id);
    assert_string_equal(l.dealer[0], "D1");
    assert_string_equal(l.period[0], "2026-11");
    assert_int_equal(l.created_at[0], 5000);
    assert_string_equal(l.sig[0], "MEUCIQ==");
    assert_string_equal(l.content[0], content);
    seen_free(&l);
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_statement_get(f->s, id + 1, on_statement, &l), DEPOT_ERR_NOTFOUND);
    assert_int_equal(l.n, 0);
    free(content);
}

static void test_statement_add_SecondOfAPeriodKeepsTheFirst(void **state)
{
    struct fixture *f = *state;
    struct seen l = {0};
    bool created = false;
    long long a = add(f->s, "D1", "2026-11", "{\"v\":1}", &created);
    assert_true(created);
    long long b = add(f->s, "D1", "2026-11", "{\"v\":2}", &created);
    assert_false(created);
    assert_int_equal(b, a);
    assert_int_equal(hub_store_statement_get(f->s, a, on_statement, &l), DEPOT_OK);
    assert_string_equal(l.content[0], "{\"v\":1}");
    seen_free(&l);
    assert_true(add(f->s, "D2", "2026-11", "{}", &created) != a); /* another dealer */
    assert_true(created);
    assert_true(add(f->s, "D1", "2026-10", "{}", &created) != a); /* another period */
    assert_true(created);
}

static struct seen list(hub_store *s, const char *dealer, const char *period)
{
    struct seen l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_statements_list(s, dealer, period, on_statement, &l), DEPOT_OK);
    return l;
}

static void test_statements_list_FilteredNewestPeriodFirstWithoutContent(void **state)
{
    struct fixture *f = *state;
    struct seen l;
    add(f->s, "D2", "2026-10", "{\"a\":1}", NULL);
    add(f->s, "D1", "2026-11", "{\"a\":2}", NULL);
    add(f->s, "D1", "2026-10", "{\"a\":3}", NULL);

    l = list(f->s, NULL, NULL);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.period[0], "2026-11");
    assert_string_equal(l.dealer[1], "D1");
    assert_string_equal(l.period[1], "2026-10");
    assert_string_equal(l.dealer[2], "D2");
    assert_string_equal(l.content[0], "");
    seen_free(&l);
    l = list(f->s, "D1", NULL);
    assert_int_equal(l.n, 2);
    seen_free(&l);
    l = list(f->s, NULL, "2026-10");
    assert_int_equal(l.n, 2);
    seen_free(&l);
    l = list(f->s, "D2", "2026-11");
    assert_int_equal(l.n, 0);
}

struct pays {
    int n;
    long long at[8], amount[8];
    char ref[8][16];
};

static int on_payment(void *arg, const struct hub_payment_row *p)
{
    struct pays *l = arg;
    assert_true(l->n < 8);
    l->at[l->n] = p->at;
    l->amount[l->n] = p->amount;
    snprintf(l->ref[l->n], sizeof(l->ref[0]), "%s", p->ref);
    l->n++;
    return 0;
}

static void test_payments_between_TheDealersInRangeOldestFirst(void **state)
{
    struct fixture *f = *state;
    struct pays l = {0};
    long long id;
    assert_int_equal(hub_store_payment_add(f->s, "D1", 700, "", "late", "admin", 3000, &id),
                     DEPOT_OK);
    assert_int_equal(hub_store_payment_add(f->s, "D1", 500, "", "first", "admin", 1000, &id),
                     DEPOT_OK);
    assert_int_equal(hub_store_payment_add(f->s, "D1", 900, "", "out", "admin", 4000, &id),
                     DEPOT_OK);
    assert_int_equal(hub_store_payment_add(f->s, "D2", 800, "", "other", "admin", 2000, &id),
                     DEPOT_OK);
    assert_int_equal(hub_store_payments_between(f->s, "D1", 1000, 4000, on_payment, &l), DEPOT_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.at[0], 1000);
    assert_int_equal(l.amount[0], 500);
    assert_string_equal(l.ref[0], "first");
    assert_int_equal(l.at[1], 3000);
    assert_string_equal(l.ref[1], "late");
}

/* ---- applied movements ---- */

struct moves {
    int n;
    long long mid[8], ts[8], delta[8], qty[8];
    char ledger[8][DEPOT_LEDGER_HEX + 1], node[8][16], kind[8][16];
};

static int on_move(void *arg, const struct hub_move_row *mv)
{
    struct moves *l = arg;
    assert_true(l->n < 8);
    l->mid[l->n] = mv->mid;
    l->ts[l->n] = mv->ts;
    l->delta[l->n] = mv->delta;
    l->qty[l->n] = mv->qty;
    snprintf(l->ledger[l->n], sizeof(l->ledger[0]), "%s", mv->ledger);
    snprintf(l->node[l->n], sizeof(l->node[0]), "%s", mv->node);
    snprintf(l->kind[l->n], sizeof(l->kind[0]), "%s", mv->kind);
    l->n++;
    return 0;
}

static struct depot_movement_item item(uint64_t mid, long long ts, const char *kind,
                                       long long delta, long long qty)
{
    struct depot_movement_item it = {.mid = mid, .ts = ts, .delta = delta, .qty = qty};
    snprintf(it.node, sizeof(it.node), "term-1");
    snprintf(it.sku, sizeof(it.sku), "S1");
    snprintf(it.kind, sizeof(it.kind), "%s", kind);
    return it;
}

/* Applies a movements batch of dealer D1 on ledger in one transaction; what the store said. */
static enum hub_apply_result apply_batch(hub_store *s, const char *ledger, uint64_t id,
                                         struct depot_movement_item *items, size_t n)
{
    enum hub_apply_result res = HUB_APPLY_DONE;
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_MOVEMENTS;
    snprintf(m.dealer, sizeof(m.dealer), "D1");
    snprintf(m.ledger, sizeof(m.ledger), "%s", ledger);
    m.id = m.base = id;
    m.ts = items[0].ts;
    m.body.movements.items = items;
    m.body.movements.n_items = n;
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_store_apply(s, &m, m.ts, &res, NULL), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
    return res;
}

static void test_moves_between_EachAppliedMovementOnceInTimeOrder(void **state)
{
    struct fixture *f = *state;
    struct depot_movement_item b1[3] = {item(1, 1000, "receive", 10, 10),
                                        item(2, 2000, "pick", -3, 7), item(3, 5000, "pick", -1, 6)};
    struct depot_movement_item b2[1] = {item(1, 1500, "pick", -2, 8)};
    struct depot_movement_item bad[1] = {item(4, 2500, "pick", -1, 40)}; /* the chain is at 6 */
    struct moves l = {0};
    assert_int_equal(apply_batch(f->s, LEDGER_A, 1, b1, 3), HUB_APPLY_DONE);
    assert_int_equal(apply_batch(f->s, LEDGER_B, 1, b2, 1), HUB_APPLY_DONE);
    assert_int_equal(apply_batch(f->s, LEDGER_A, 1, b1, 3), HUB_APPLY_DUPLICATE);
    apply_batch(f->s, LEDGER_A, 2, bad, 1); /* its chain does not fit: not applied */

    assert_int_equal(hub_store_moves_between(f->s, "D1", "S1", "pick", 0, 5000, on_move, &l),
                     DEPOT_OK);
    assert_int_equal(l.n, 2); /* the receive is another kind, mid 3 at 5000 is past the range */
    assert_int_equal(l.mid[0], 1);
    assert_string_equal(l.ledger[0], LEDGER_B);
    assert_int_equal(l.ts[0], 1500);
    assert_int_equal(l.delta[0], -2);
    assert_int_equal(l.qty[0], 8);
    assert_string_equal(l.node[0], "term-1");
    assert_string_equal(l.kind[0], "pick");
    assert_int_equal(l.mid[1], 2);
    assert_string_equal(l.ledger[1], LEDGER_A);
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_moves_between(f->s, "D1", "S1", "receive", 0, 9000, on_move, &l),
                     DEPOT_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.delta[0], 10);
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_moves_between(f->s, "D2", "S1", "pick", 0, 9000, on_move, &l),
                     DEPOT_OK);
    assert_int_equal(l.n, 0);
}

struct disputes {
    int n;
    long long id[8], answered_at[8];
    char line[8][HUB_DISPUTE_LINE_MAX + 1], text[8][64], answer[8][64], by[8][16];
};

static int on_dispute(void *arg, const struct hub_dispute *d)
{
    struct disputes *l = arg;
    assert_true(l->n < 8);
    l->id[l->n] = d->id;
    l->answered_at[l->n] = d->answered_at;
    snprintf(l->line[l->n], sizeof(l->line[0]), "%s", d->line);
    snprintf(l->text[l->n], sizeof(l->text[0]), "%s", d->text);
    snprintf(l->answer[l->n], sizeof(l->answer[0]), "%s", d->answer);
    snprintf(l->by[l->n], sizeof(l->by[0]), "%s", d->answered_by);
    l->n++;
    return 0;
}

static long long open_dispute(hub_store *s, long long statement, const char *line)
{
    struct hub_dispute d = {.statement = statement,
                            .line = line,
                            .text = "missing payment",
                            .opened_by = "dealer-a",
                            .opened_at = 6000};
    long long id = 0;
    assert_int_equal(hub_store_dispute_add(s, &d, &id), DEPOT_OK);
    assert_true(id > 0);
    return id;
}

static void test_dispute_OpenAnswerOnceOldestFirst(void **state)
{
    struct fixture *f = *state;
    long long st = add(f->s, "D1", "2026-11", "{}", NULL),
              other = add(f->s, "D2", "2026-11", "{}", NULL);
    long long a = open_dispute(f->s, st, "collection.payment.1");
    long long b = open_dispute(f->s, st, "sales");
    struct disputes l = {0};
    bool changed = false;

    assert_int_equal(hub_store_dispute_answer(f->s, st, a, "found it", "admin", 7000, &changed),
                     DEPOT_OK);
    assert_true(changed);
    assert_int_equal(hub_store_dispute_answer(f->s, st, a, "again", "admin2", 8000, &changed),
                     DEPOT_OK);
    assert_false(changed);
    assert_int_equal(hub_store_dispute_answer(f->s, other, b, "wrong", "admin", 7000, &changed),
                     DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_dispute_answer(f->s, st, b + 100, "x", "admin", 7000, NULL),
                     DEPOT_ERR_NOTFOUND);

    assert_int_equal(hub_store_disputes(f->s, st, on_dispute, &l), DEPOT_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], a);
    assert_string_equal(l.line[0], "collection.payment.1");
    assert_string_equal(l.text[0], "missing payment");
    assert_string_equal(l.answer[0], "found it");
    assert_string_equal(l.by[0], "admin");
    assert_int_equal(l.answered_at[0], 7000);
    assert_int_equal(l.id[1], b);
    assert_int_equal(l.answered_at[1], 0);
    assert_string_equal(l.answer[1], "");
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_disputes(f->s, other, on_dispute, &l), DEPOT_OK);
    assert_int_equal(l.n, 0);
}

/* ---- migration 9 ---- */

/* Runs sql on the test's store from a connection of its own. */
static void store_exec(const struct fixture *f, const char *sql)
{
    assert_true(test_store_exec(f->location, sql));
}

static void test_migration9_AppliesToAStoreMadeBefore(void **state)
{
    struct fixture *f = *state;
    struct hub_contract *c = calloc(1, sizeof(*c)), *got = calloc(1, sizeof(*got));
    struct seen l;
    long long id;

    /* a contract, as a hub at version 8 left it (without the tables of version 9) */
    snprintf(c->dealer, sizeof(c->dealer), "D1");
    snprintf(c->title, sizeof(c->title), "Before statements");
    c->credit_limit = -1;
    assert_int_equal(hub_store_contract_add(f->s, c), DEPOT_OK);
    hub_store_free(f->s);
    f->s = NULL;
    store_exec(f,
               "ALTER TABLE catalog DROP COLUMN serial_prefix; DROP TABLE dealer_territories; DROP "
               "TABLE code_scans; DROP TABLE item_codes; "
               "DROP TABLE shipment_lines; DROP TABLE shipments; "
               "DROP TABLE ledger_heads; DROP TABLE ledger_certs; DROP TABLE ledger_batches; "
               "DROP TABLE ledger_hashes; DROP TABLE webhook_deliveries; DROP TABLE webhook_subs; "
               "DROP TABLE idempotency; "
               "DROP TABLE movements; DROP TABLE disputes; DROP TABLE statements; "
               "DELETE FROM schema_migrations WHERE version >= 9;");

    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    id = add(f->s, "D1", "2026-11", "{}", NULL);
    open_dispute(f->s, id, "sales");
    assert_int_equal(hub_store_contract_get(f->s, c->id, got), DEPOT_OK);
    assert_string_equal(got->title, "Before statements");
    hub_store_free(f->s);
    f->s = NULL;

    /* version 9 is recorded under its name, and the next open has nothing to do */
    store_exec(f, "INSERT INTO statements(dealer, period, created_at, content, sig, cert) "
                  "SELECT 'D1', '2026-12', 0, '{}', '', '' FROM schema_migrations "
                  "WHERE version = 9 AND name = 'rebate statements and their disputes'");
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    l = list(f->s, "D1", NULL);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.period[0], "2026-12");
    seen_free(&l);
    free(got);
    free(c);
}

static void test_migration10_AppliesToAStoreMadeBefore(void **state)
{
    struct fixture *f = *state;
    struct depot_movement_item b1[1] = {item(1, 1000, "pick", -1, 9)};
    struct moves l = {0};
    long long id = add(f->s, "D1", "2026-11", "{}", NULL);
    hub_store_free(f->s);
    f->s = NULL;
    /* as a hub at version 9 left it: statements, no movements kept */
    store_exec(f,
               "ALTER TABLE catalog DROP COLUMN serial_prefix; DROP TABLE dealer_territories; DROP "
               "TABLE code_scans; DROP TABLE item_codes; "
               "DROP TABLE shipment_lines; DROP TABLE shipments; "
               "DROP TABLE ledger_heads; DROP TABLE ledger_certs; DROP TABLE ledger_batches; "
               "DROP TABLE ledger_hashes; DROP TABLE webhook_deliveries; DROP TABLE webhook_subs; "
               "DROP TABLE idempotency; "
               "DROP TABLE movements; DELETE FROM schema_migrations "
               "WHERE version >= 10;");

    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    assert_int_equal(apply_batch(f->s, LEDGER_A, 1, b1, 1), HUB_APPLY_DONE);
    assert_int_equal(hub_store_moves_between(f->s, "D1", "S1", "pick", 0, 9000, on_move, &l),
                     DEPOT_OK);
    assert_int_equal(l.n, 1);
    open_dispute(f->s, id, "sales"); /* the statements of version 9 are still there */
    hub_store_free(f->s);
    f->s = NULL;
    /* version 10 is recorded under its name, and the next open has nothing to do */
    store_exec(f, "INSERT INTO movements(dealer, ledger, mid, ts, node, sku, kind, delta, qty) "
                  "SELECT 'D1', 'x', 9, 2000, 'n', 'S1', 'pick', -1, 0 FROM schema_migrations "
                  "WHERE version = 10 AND name = 'each applied movement (a statement''s sources)'");
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_moves_between(f->s, "D1", "S1", "pick", 0, 9000, on_move, &l),
                     DEPOT_OK);
    assert_int_equal(l.n, 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_statement_AddGetContentByteForByte),
        T(test_statement_add_SecondOfAPeriodKeepsTheFirst),
        T(test_statements_list_FilteredNewestPeriodFirstWithoutContent),
        T(test_payments_between_TheDealersInRangeOldestFirst),
        T(test_dispute_OpenAnswerOnceOldestFirst),
        T(test_moves_between_EachAppliedMovementOnceInTimeOrder),
        T(test_migration9_AppliesToAStoreMadeBefore),
        T(test_migration10_AppliesToAStoreMadeBefore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
