/*
 * The store's contract domain (store/contracts.h) on a real database (a
 * SQLite file, or a fresh PostgreSQL database in
 * unit.hub_contracts_store_test.pg), every operation on its own: contracts
 * added and read back with every field (a certificate of the longest PEM,
 * a signed document of several lines), listed newest first, all or one
 * dealer's; signed the first time only and only for their own dealer; due
 * once signed, started and not applied, oldest first; applied the first
 * time only; and migration 8 on a store made before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/contracts.h"
#include "store/store.h"
#include "store/training.h"
#include "hub_test_util.h"


#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DOC "{\"contract\":1}"
#define SIG "MEUCIQDsig=="
#define CERT "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

/* A contract of dealer titled title, starting on start, created at `at`; id 0 until added. */
static struct hub_contract *contract(const char *dealer, const char *title, const char *start,
                                     long long at)
{
    static struct hub_contract c; /* some 10 KB: kept off the stack, copied by the caller */
    memset(&c, 0, sizeof(c));
    snprintf(c.dealer, sizeof(c.dealer), "%s", dealer);
    snprintf(c.title, sizeof(c.title), "%s", title);
    snprintf(c.file_sha, sizeof(c.file_sha), SHA_A);
    snprintf(c.file_type, sizeof(c.file_type), "application/pdf");
    c.file_size = 48213;
    snprintf(c.start_day, sizeof(c.start_day), "%s", start);
    snprintf(c.end_day, sizeof(c.end_day), "2027-12-31");
    c.credit_limit = -1;
    snprintf(c.created_by, sizeof(c.created_by), "admin");
    c.created_at = at;
    return &c;
}

/* Adds a contract as contract() makes it; its id. */
static long long add(hub_store *s, const char *dealer, const char *title, const char *start)
{
    struct hub_contract *c = contract(dealer, title, start, 1000);
    assert_int_equal(hub_store_contract_add(s, c), DEPOT_OK);
    assert_true(c->id > 0);
    return c->id;
}

static depot_err sign(hub_store *s, long long id, const char *dealer, long long at, bool *changed)
{
    return hub_store_contract_sign(s, id, dealer, at, DOC, SIG, CERT, "MEQCIHub==", CERT, changed);
}

/* Contract id as the store has it (one buffer, valid until the next call). */
static const struct hub_contract *get(hub_store *s, long long id)
{
    static struct hub_contract c;
    assert_int_equal(hub_store_contract_get(s, id, &c), DEPOT_OK);
    assert_int_equal(c.id, id);
    return &c;
}

/* A PEM of exactly len characters: lines of 64 base64 characters between its two labels. */
static void pem(char *buf, size_t len, int seed)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *head = "-----BEGIN CERTIFICATE-----\n", *foot = "-----END CERTIFICATE-----\n";
    size_t h = strlen(head), n = len - h - strlen(foot);
    memcpy(buf, head, h);
    for (size_t i = 0; i < n; i++)
        buf[h + i] = i % 65 == 64 || i == n - 1 ? '\n' : b64[(i * 7 + (size_t)seed) % 64];
    memcpy(buf + h + n, foot, strlen(foot) + 1);
}

/* A document of several lines of exactly len bytes, quotes, a tab and UTF-8 in it. */
static void doc(char *buf, size_t len)
{
    const char *head = "{\n  \"contract\": 17,\n  \"dealer\": \"D1\",\n  \"title\": \"Distribución "
                       "'2027'\",\n\t\"terms\": \"";
    const char *foot = "\"\n}";
    size_t h = strlen(head), n = len - h - strlen(foot);
    memcpy(buf, head, h);
    for (size_t i = 0; i < n; i++)
        buf[h + i] = i % 50 == 49 ? ' ' : (char)('a' + i % 26);
    memcpy(buf + h + n, foot, strlen(foot) + 1);
}

#define LIST_MAX 16

/* What a walk saw: each contract's id and dealer. */
struct seen {
    int n, stop_after; /* stop_after 0: every one */
    long long id[LIST_MAX];
    char dealer[LIST_MAX][DEPOT_DEALER_MAX + 1];
};

static int on_contract(void *arg, const struct hub_contract *c)
{
    struct seen *l = arg;
    assert_true(l->n < LIST_MAX);
    l->id[l->n] = c->id;
    snprintf(l->dealer[l->n], sizeof(l->dealer[0]), "%s", c->dealer);
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static struct seen list(hub_store *s, const char *dealer)
{
    struct seen l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_contracts_list(s, dealer, on_contract, &l), DEPOT_OK);
    return l;
}

static struct seen due(hub_store *s, const char *today)
{
    struct seen l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_contracts_due(s, today, on_contract, &l), DEPOT_OK);
    return l;
}

/* ---- add, get ---- */

static void test_contract_AddGetEveryFieldAtItsLongest(void **state)
{
    struct test_store_fixture *f = *state;
    struct hub_contract *c = contract("D1", "", "2027-01-01", 1234);
    struct hub_contract *got = calloc(1, sizeof(*got));
    static char d[HUB_CONTRACT_DOC_MAX + 1], cert[HUB_CONTRACT_CERT_MAX + 1],
        counter[HUB_CONTRACT_CERT_MAX + 1];
    char sig[HUB_CONTRACT_SIG_MAX + 1], csig[HUB_CONTRACT_SIG_MAX + 1];
    bool changed = false;

    memset(c->dealer, 'd', DEPOT_DEALER_MAX);
    c->dealer[DEPOT_DEALER_MAX] = '\0';
    memset(c->title, 't', HUB_CONTRACT_TITLE_MAX);
    c->title[HUB_CONTRACT_TITLE_MAX] = '\0';
    memset(c->file_type, 'y', HUB_CONTRACT_TYPE_MAX);
    c->file_type[HUB_CONTRACT_TYPE_MAX] = '\0';
    memset(c->tier, 'g', HUB_TIER_MAX);
    c->tier[HUB_TIER_MAX] = '\0';
    memset(c->created_by, 'a', HUB_ACTOR_MAX);
    c->created_by[HUB_ACTOR_MAX] = '\0';
    c->file_size = 123456789012LL; /* past 32 bits */
    c->credit_limit = 250000000000LL;
    c->id = 777;      /* not the caller's to choose */
    c->signed_at = 5; /* nor these: a new contract is neither signed nor applied */
    c->applied_at = 6;
    snprintf(c->sign_sig, sizeof(c->sign_sig), "forged");
    assert_int_equal(hub_store_contract_add(f->s, c), DEPOT_OK);
    assert_true(c->id > 0);

    *got = *get(f->s, c->id);
    assert_string_equal(got->dealer, c->dealer);
    assert_string_equal(got->title, c->title);
    assert_string_equal(got->file_sha, SHA_A);
    assert_string_equal(got->file_type, c->file_type);
    assert_int_equal(got->file_size, 123456789012LL);
    assert_string_equal(got->start_day, "2027-01-01");
    assert_string_equal(got->end_day, "2027-12-31");
    assert_int_equal(got->credit_limit, 250000000000LL);
    assert_string_equal(got->tier, c->tier);
    assert_string_equal(got->created_by, c->created_by);
    assert_int_equal(got->created_at, 1234);
    assert_int_equal(got->signed_at, 0);
    assert_string_equal(got->sign_doc, "");
    assert_string_equal(got->sign_sig, "");
    assert_string_equal(got->sign_cert, "");
    assert_string_equal(got->counter_sig, "");
    assert_string_equal(got->counter_cert, "");
    assert_int_equal(got->applied_at, 0);

    /* the signature columns at their longest: a document of lines, 4 KB certificates */
    doc(d, HUB_CONTRACT_DOC_MAX);
    pem(cert, HUB_CONTRACT_CERT_MAX, 1);
    pem(counter, HUB_CONTRACT_CERT_MAX, 2);
    memset(sig, 's', HUB_CONTRACT_SIG_MAX);
    sig[HUB_CONTRACT_SIG_MAX] = '\0';
    memset(csig, 'c', HUB_CONTRACT_SIG_MAX);
    csig[HUB_CONTRACT_SIG_MAX] = '\0';
    assert_int_equal(strlen(d), HUB_CONTRACT_DOC_MAX);
    assert_int_equal(strlen(cert), HUB_CONTRACT_CERT_MAX);
    assert_int_equal(hub_store_contract_sign(f->s, c->id, c->dealer, 2000, d, sig, cert, csig,
                                             counter, &changed),
                     DEPOT_OK);
    assert_true(changed);
    assert_int_equal(hub_store_contract_applied(f->s, c->id, 3000), DEPOT_OK);

    *got = *get(f->s, c->id);
    assert_int_equal(got->signed_at, 2000);
    assert_memory_equal(got->sign_doc, d, HUB_CONTRACT_DOC_MAX + 1);
    assert_string_equal(got->sign_sig, sig);
    assert_memory_equal(got->sign_cert, cert, HUB_CONTRACT_CERT_MAX + 1);
    assert_string_equal(got->counter_sig, csig);
    assert_memory_equal(got->counter_cert, counter, HUB_CONTRACT_CERT_MAX + 1);
    assert_int_equal(got->applied_at, 3000);
    assert_string_equal(got->title, c->title); /* the rest as it was */
    assert_int_equal(got->credit_limit, 250000000000LL);
    free(got);
}

static void test_contract_AddGetNoTermsAndUnknownNotFound(void **state)
{
    struct test_store_fixture *f = *state;
    struct hub_contract *got = calloc(1, sizeof(*got));
    long long a = add(f->s, "D1", "Distribution 2027", "2027-01-01");
    long long b = add(f->s, "D2", "Service", "2027-02-01");

    assert_true(b > a); /* ids grow */
    *got = *get(f->s, a);
    assert_string_equal(got->dealer, "D1");
    assert_string_equal(got->title, "Distribution 2027");
    assert_int_equal(got->credit_limit, -1); /* the contract sets none */
    assert_string_equal(got->tier, "");
    assert_string_equal(got->file_type, "application/pdf");
    assert_int_equal(got->file_size, 48213);
    assert_int_equal(got->created_at, 1000);
    assert_string_equal(get(f->s, b)->dealer, "D2");

    assert_int_equal(hub_store_contract_get(f->s, b + 100, got), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_contract_get(f->s, 0, got), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_contract_get(f->s, -1, got), DEPOT_ERR_NOTFOUND);
    free(got);
}

/* ---- list ---- */

static void test_contracts_list_AllOrTheDealersNewestFirst(void **state)
{
    struct test_store_fixture *f = *state;
    long long a, b, c, d;
    struct seen l;

    assert_int_equal(list(f->s, NULL).n, 0);
    assert_int_equal(list(f->s, "D1").n, 0);
    a = add(f->s, "D1", "A", "2027-01-01");
    b = add(f->s, "D2", "B", "2027-01-01");
    c = add(f->s, "D1", "C", "2026-01-01"); /* an earlier start: the order is still by id */
    d = add(f->s, "D3", "D", "2027-01-01");

    l = list(f->s, NULL);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.id[0], d);
    assert_int_equal(l.id[1], c);
    assert_int_equal(l.id[2], b);
    assert_int_equal(l.id[3], a);
    assert_string_equal(l.dealer[0], "D3");
    assert_string_equal(l.dealer[2], "D2");

    l = list(f->s, "D1");
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], c);
    assert_int_equal(l.id[1], a);
    assert_string_equal(l.dealer[1], "D1");
    l = list(f->s, "D2");
    assert_int_equal(l.n, 1);
    assert_int_equal(l.id[0], b);
    assert_int_equal(list(f->s, "D9").n, 0);
    assert_int_equal(list(f->s, "d1").n, 0); /* dealer ids are compared exactly */
    assert_int_equal(list(f->s, "").n, 0);

    memset(&l, 0, sizeof(l));
    l.stop_after = 2; /* the callback stops the walk */
    assert_int_equal(hub_store_contracts_list(f->s, NULL, on_contract, &l), DEPOT_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[1], c);
    memset(&l, 0, sizeof(l));
    l.stop_after = 1;
    assert_int_equal(hub_store_contracts_list(f->s, "D1", on_contract, &l), DEPOT_OK);
    assert_int_equal(l.n, 1);
}

/* ---- sign ---- */

static void test_contract_sign_FirstTimeOnly(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "D1", "A", "2027-01-01");
    long long b = add(f->s, "D1", "B", "2027-01-01");
    const struct hub_contract *c;
    bool changed = false;

    assert_int_equal(hub_store_contract_sign(f->s, a, "D1", 2000, "{\"a\":1}", "sig-1", "cert-1",
                                             "hub-sig-1", "hub-cert-1", &changed),
                     DEPOT_OK);
    assert_true(changed);
    c = get(f->s, a);
    assert_int_equal(c->signed_at, 2000);
    assert_string_equal(c->sign_doc, "{\"a\":1}");
    assert_string_equal(c->sign_sig, "sig-1");
    assert_string_equal(c->sign_cert, "cert-1");
    assert_string_equal(c->counter_sig, "hub-sig-1");
    assert_string_equal(c->counter_cert, "hub-cert-1");
    assert_int_equal(c->applied_at, 0);
    assert_int_equal(get(f->s, b)->signed_at, 0); /* its own row only */

    /* again: nothing changes, changed false */
    changed = true;
    assert_int_equal(hub_store_contract_sign(f->s, a, "D1", 3000, "{\"a\":2}", "sig-2", "cert-2",
                                             "hub-sig-2", "hub-cert-2", &changed),
                     DEPOT_OK);
    assert_false(changed);
    c = get(f->s, a);
    assert_int_equal(c->signed_at, 2000);
    assert_string_equal(c->sign_doc, "{\"a\":1}");
    assert_string_equal(c->sign_sig, "sig-1");
    assert_string_equal(c->sign_cert, "cert-1");
    assert_string_equal(c->counter_sig, "hub-sig-1");
    assert_string_equal(c->counter_cert, "hub-cert-1");
    /* changed may be NULL */
    assert_int_equal(sign(f->s, a, "D1", 4000, NULL), DEPOT_OK);
    assert_int_equal(get(f->s, a)->signed_at, 2000);
    assert_int_equal(sign(f->s, b, "D1", 4500, NULL), DEPOT_OK);
    assert_int_equal(get(f->s, b)->signed_at, 4500);
    assert_string_equal(get(f->s, b)->sign_doc, DOC);
}

static void test_contract_sign_AnotherDealersOrUnknownNotFound(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "D1", "A", "2027-01-01");
    bool changed = true;

    assert_int_equal(sign(f->s, a, "D2", 2000, &changed), DEPOT_ERR_NOTFOUND);
    assert_false(changed);
    assert_int_equal(sign(f->s, a, "d1", 2000, NULL), DEPOT_ERR_NOTFOUND); /* exactly */
    assert_int_equal(sign(f->s, a, "", 2000, NULL), DEPOT_ERR_NOTFOUND);
    assert_int_equal(get(f->s, a)->signed_at, 0); /* still unsigned */
    assert_string_equal(get(f->s, a)->sign_sig, "");

    changed = true;
    assert_int_equal(sign(f->s, a + 100, "D1", 2000, &changed), DEPOT_ERR_NOTFOUND);
    assert_false(changed);
    assert_int_equal(sign(f->s, 0, "D1", 2000, NULL), DEPOT_ERR_NOTFOUND);

    /* once signed by its dealer, another dealer still finds nothing */
    assert_int_equal(sign(f->s, a, "D1", 2000, &changed), DEPOT_OK);
    assert_true(changed);
    changed = true;
    assert_int_equal(sign(f->s, a, "D2", 3000, &changed), DEPOT_ERR_NOTFOUND);
    assert_false(changed);
    assert_int_equal(get(f->s, a)->signed_at, 2000);
}

/* ---- due, applied ---- */

static void test_contracts_due_SignedStartedNotAppliedOldestFirst(void **state)
{
    struct test_store_fixture *f = *state;
    long long unsigned_ = add(f->s, "D1", "Unsigned", "2027-01-01");
    long long later = add(f->s, "D1", "Later", "2027-03-02");
    long long today = add(f->s, "D2", "Today", "2027-03-01");
    long long before = add(f->s, "D3", "Before", "2026-12-31");
    struct seen l;

    assert_int_equal(due(f->s, "2027-03-01").n, 0); /* unsigned: never */
    assert_int_equal(due(f->s, "9999-12-31").n, 0);
    assert_int_equal(sign(f->s, later, "D1", 2000, NULL), DEPOT_OK);
    assert_int_equal(sign(f->s, before, "D3", 2100, NULL), DEPOT_OK);
    assert_int_equal(sign(f->s, today, "D2", 2200, NULL), DEPOT_OK);

    l = due(f->s, "2027-03-01"); /* start on the day: due; the day after: not yet */
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], today); /* oldest first, by id */
    assert_int_equal(l.id[1], before);
    assert_string_equal(l.dealer[0], "D2");
    l = due(f->s, "2027-02-28");
    assert_int_equal(l.n, 1);
    assert_int_equal(l.id[0], before);
    assert_int_equal(due(f->s, "2026-12-30").n, 0);
    l = due(f->s, "2027-03-02");
    assert_int_equal(l.n, 3);
    assert_int_equal(l.id[0], later);
    assert_int_equal(l.id[1], today);
    assert_int_equal(l.id[2], before);

    /* applied: not any more */
    assert_int_equal(hub_store_contract_applied(f->s, today, 3000), DEPOT_OK);
    l = due(f->s, "2027-03-02");
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], later);
    assert_int_equal(l.id[1], before);
    assert_int_equal(due(f->s, "2027-03-01").n, 1);

    memset(&l, 0, sizeof(l));
    l.stop_after = 1;
    assert_int_equal(hub_store_contracts_due(f->s, "2027-03-02", on_contract, &l), DEPOT_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(get(f->s, unsigned_)->signed_at, 0);
}

static void test_contract_applied_FirstTimeOnly(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "D1", "A", "2027-01-01");
    long long b = add(f->s, "D1", "B", "2027-01-01");

    assert_int_equal(sign(f->s, a, "D1", 2000, NULL), DEPOT_OK);
    assert_int_equal(hub_store_contract_applied(f->s, a, 3000), DEPOT_OK);
    assert_int_equal(get(f->s, a)->applied_at, 3000);
    assert_int_equal(get(f->s, b)->applied_at, 0); /* its own row only */
    assert_int_equal(hub_store_contract_applied(f->s, a, 4000), DEPOT_OK);
    assert_int_equal(get(f->s, a)->applied_at, 3000); /* the first time kept */
    assert_int_equal(get(f->s, a)->signed_at, 2000);

    assert_int_equal(hub_store_contract_applied(f->s, b + 100, 3000), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_contract_applied(f->s, 0, 3000), DEPOT_ERR_NOTFOUND);
}

/* ---- migration 8 ---- */

/* Runs sql on the test's store from a connection of its own. */
static void store_exec(const struct test_store_fixture *f, const char *sql)
{
    assert_true(test_store_exec(f->location, sql));
}

static void test_migration8_AppliesToAStoreMadeBefore(void **state)
{
    struct test_store_fixture *f = *state;
    struct hub_training *t = calloc(1, sizeof(*t)), *got = calloc(1, sizeof(*got));
    struct seen l;
    long long id;

    /* a training item, as a hub at version 7 left it (without the tables of version 8) */
    snprintf(t->title, sizeof(t->title), "Before contracts");
    snprintf(t->kind, sizeof(t->kind), "video");
    snprintf(t->target_kind, sizeof(t->target_kind), "all");
    assert_int_equal(hub_store_training_add(f->s, t), DEPOT_OK);
    hub_store_free(f->s);
    f->s = NULL;
    store_exec(f,
               "ALTER TABLE catalog DROP COLUMN serial_prefix; DROP TABLE dealer_territories; DROP "
               "TABLE code_scans; DROP TABLE item_codes; "
               "DROP TABLE shipment_lines; DROP TABLE shipments; "
               "DROP TABLE ledger_heads; DROP TABLE ledger_certs; DROP TABLE ledger_batches; "
               "DROP TABLE ledger_hashes; DROP TABLE webhook_deliveries; DROP TABLE webhook_subs; "
               "DROP TABLE idempotency; "
               "DROP TABLE movements; DROP TABLE disputes; DROP TABLE "
               "statements; DROP TABLE contracts; "
               "DELETE FROM schema_migrations WHERE version >= 8;");

    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    id = add(f->s, "D1", "After", "2027-01-01");
    assert_int_equal(sign(f->s, id, "D1", 2000, NULL), DEPOT_OK);
    assert_int_equal(due(f->s, "2027-01-01").n, 1);
    assert_int_equal(list(f->s, "D1").n, 1);
    assert_int_equal(hub_store_training_get(f->s, t->id, got), DEPOT_OK);
    assert_string_equal(got->title, "Before contracts"); /* what was there stays */
    hub_store_free(f->s);
    f->s = NULL;

    /* version 8 is recorded under its name (the row below goes in only then), and the next
     * open has nothing to do (PostgreSQL would fail to create the table again) */
    store_exec(f, "INSERT INTO contracts(dealer, title, file_sha, file_type, file_size, "
                  "start_day, end_day, credit_limit, tier, created_by, created_at, signed_at, "
                  "sign_doc, sign_sig, sign_cert, counter_sig, counter_cert, applied_at) "
                  "SELECT 'D1', 'check', '', '', 0, '', '', -1, '', '', 0, 0, '', '', '', '', "
                  "'', 0 FROM schema_migrations WHERE version = 8 AND name = "
                  "'e-contracts, their signatures and terms'");
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    l = list(f->s, "D1");
    assert_int_equal(l.n, 2); /* the row version 8's record let in */
    assert_true(l.id[0] > id);
    assert_int_equal(get(f->s, id)->signed_at, 2000);
    free(got);
    free(t);
}

#define T(name) cmocka_unit_test_setup_teardown(name, test_store_setup, test_store_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_contract_AddGetEveryFieldAtItsLongest),
        T(test_contract_AddGetNoTermsAndUnknownNotFound),
        T(test_contracts_list_AllOrTheDealersNewestFirst),
        T(test_contract_sign_FirstTimeOnly),
        T(test_contract_sign_AnotherDealersOrUnknownNotFound),
        T(test_contracts_due_SignedStartedNotAppliedOldestFirst),
        T(test_contract_applied_FirstTimeOnly),
        T(test_migration8_AppliesToAStoreMadeBefore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
