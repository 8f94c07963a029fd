/*
 * unit.hub_ledger_test (+ unit.hub_ledger_test.pg): the hub's half of the
 * tamper-evident ledger (ledger.h, store/ledger.h) with real keys and
 * certificates made by the project's own CA code:
 *   - hub_ledger_check: a batch as a gateway signs it verifies; a changed
 *     movement, another dealer's key, a key of another CA, a signature of
 *     other bytes and ids that skip are forged; no chain is unchained;
 *   - the store's chain step: started, linked, a gap and a fork applied and
 *     flagged, a batch without its chain after chained ones and a forged one
 *     refused with nothing of them applied, the head where it was;
 *   - hub_ledger_verify: a clean period verifies whole; a movement changed in
 *     the store, a hash changed, a batch's signature changed and a movement
 *     deleted are each named by their movement id;
 *   - through hub_ingest (the worker the hub runs): a gap raises one critical
 *     ledger_break alert in the applying transaction, a forged batch is
 *     refused and counted by reason in /metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alerts/alerts.h"
#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/ledger_chain.h"
#include "depot/pki.h"
#include "ingest.h"
#include "diversion.h"
#include "ledger.h"
#include "store/shipments.h"
#include "store/ledger.h"
#include "hub_test_util.h"

#define DEALER "D1"
#define LEDGER "0123456789abcdef0123456789abcdef"
#define T0 1764230000000LL /* 2025-11-27 */
#define MAXN 8

static struct {
    char dir[256];
    char ca[300], key_a[300], crt_a[300], key_b[300], crt_b[300], key_x[300], crt_x[300];
    char *pem_a, *pem_b, *pem_x;
} P;

struct fixture {
    char dir[256], location[300];
    hub_store *s;
    hub_metrics *metrics;
    hub_orders *orders;
    struct hub_config cfg;
};

/* A batch being built: its items, its chain. */
struct batch {
    depot_msg m;
    struct depot_movement_item items[MAXN];
    char sig[PKI_SIG_B64_SIZE];
};

static void path(char *out, const char *dir, const char *name)
{
    snprintf(out, 300, "%s/%s", dir, name);
}

static char *read_pem(const char *file)
{
    char *pem = NULL;
    size_t len = 0;
    assert_int_equal(pki_read_file(file, 16384, &pem, &len), DEPOT_OK);
    return pem;
}

static void issue_cert(pki_ca *ca, const char *key, const char *crt, const char *cn)
{
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(pki_ca_issue_client(ca, key, cn, crt, 0), DEPOT_OK);
}

static int group_setup(void **state)
{
    char ca_key[300], other_key[300], other_crt[300];
    pki_ca *ca, *other;
    (void)state;
    test_tmpdir(P.dir, sizeof(P.dir));
    path(P.ca, P.dir, "ca.crt");
    path(ca_key, P.dir, "ca.key");
    path(other_key, P.dir, "other.key");
    path(other_crt, P.dir, "other.crt");
    path(P.key_a, P.dir, "a.key");
    path(P.crt_a, P.dir, "a.crt");
    path(P.key_b, P.dir, "b.key");
    path(P.crt_b, P.dir, "b.crt");
    path(P.key_x, P.dir, "x.key");
    path(P.crt_x, P.dir, "x.crt");
    assert_int_equal(pki_key_generate(ca_key), DEPOT_OK);
    assert_int_equal(pki_ca_create(ca_key, P.ca, NULL, 0), DEPOT_OK);
    assert_int_equal(pki_key_generate(other_key), DEPOT_OK);
    assert_int_equal(pki_ca_create(other_key, other_crt, NULL, 0), DEPOT_OK);
    assert_int_equal(pki_ca_open(&ca, ca_key, P.ca), DEPOT_OK);
    assert_int_equal(pki_ca_open(&other, other_key, other_crt), DEPOT_OK);
    issue_cert(ca, P.key_a, P.crt_a, DEALER);
    issue_cert(ca, P.key_b, P.crt_b, "D2");
    issue_cert(other, P.key_x, P.crt_x, DEALER); /* the right name from the wrong CA */
    pki_ca_free(ca);
    pki_ca_free(other);
    P.pem_a = read_pem(P.crt_a);
    P.pem_b = read_pem(P.crt_b);
    P.pem_x = read_pem(P.crt_x);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    depot_free(P.pem_a);
    depot_free(P.pem_b);
    depot_free(P.pem_x);
    test_rmdir(P.dir);
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    test_store_location(f->location, sizeof(f->location), f->dir, "hub.db");
    hub_config_defaults(&f->cfg);
    snprintf(f->cfg.order_ca, sizeof(f->cfg.order_ca), "%.200s", P.ca);
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    assert_int_equal(hub_metrics_new(&f->metrics), DEPOT_OK);
    assert_int_equal(hub_orders_new(&f->cfg, f->metrics, &f->orders), DEPOT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    hub_orders_free(f->orders);
    hub_store_free(f->s);
    hub_metrics_free(f->metrics);
    test_store_drop(f->location);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

/*
 * Message id `id` of the stream: movements first..first+n-1 after prev, each a receive of one
 * unit of a SKU of its own (so every batch fits the stock whatever the chain does), hashed and
 * signed with key as a gateway does; *last_hash gets the last item's hash.
 */
static void make(struct batch *b, uint64_t id, uint64_t first, size_t n, const char *prev,
                 const char *key, const char *pem)
{
    char doc[512];
    const char *p = prev;
    pki_signer *signer;
    memset(b, 0, sizeof(*b));
    b->m.v = DEPOT_MSG_VERSION;
    b->m.type = DEPOT_MSG_MOVEMENTS;
    snprintf(b->m.dealer, sizeof(b->m.dealer), DEALER);
    snprintf(b->m.ledger, sizeof(b->m.ledger), LEDGER);
    b->m.id = id;
    b->m.base = 1;
    b->m.ts = T0 + (long long)first * 1000;
    for (size_t i = 0; i < n; i++) {
        struct depot_movement_item *it = &b->items[i];
        it->mid = first + i;
        it->ts = T0 + (long long)it->mid * 1000;
        snprintf(it->node, sizeof(it->node), "scan-1");
        snprintf(it->sku, sizeof(it->sku), "S%" PRIu64, it->mid);
        snprintf(it->kind, sizeof(it->kind), "receive");
        it->delta = 1;
        it->qty = 1;
        struct depot_chain_link l = {DEALER,  LEDGER,   it->mid,   it->ts,  it->node,
                                     it->sku, it->kind, it->delta, it->qty, it->code};
        assert_int_equal(depot_chain_hash(&l, p, it->hash), DEPOT_OK);
        p = it->hash;
    }
    b->m.body.movements.items = b->items;
    b->m.body.movements.n_items = n;
    if (!key)
        return; /* a batch without its chain */
    snprintf(b->m.body.movements.prev, sizeof(b->m.body.movements.prev), "%s", prev);
    assert_int_equal(
        depot_movements_signed(DEALER, LEDGER, first, first + n - 1, prev, p, doc, sizeof(doc)),
        DEPOT_OK);
    assert_int_equal(pki_signer_open(&signer, key), DEPOT_OK);
    assert_int_equal(pki_signer_sign_b64(signer, doc, strlen(doc), b->sig, sizeof(b->sig)),
                     DEPOT_OK);
    pki_signer_free(signer);
    b->m.body.movements.sig = b->sig;
    b->m.body.movements.cert = (char *)pem;
}

static const char *last_hash(const struct batch *b)
{
    return b->items[b->m.body.movements.n_items - 1].hash;
}

/* Checks b as the ingest does and applies it in a transaction of its own. */
static enum hub_apply_result apply(struct fixture *f, struct batch *b, struct hub_chain *c)
{
    enum hub_apply_result res = HUB_APPLY_DONE;
    hub_ledger_check(f->orders, &b->m, c);
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_store_apply_chain(f->s, &b->m, b->m.ts, c, &res, NULL), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    return res;
}

static void store_exec(struct fixture *f, const char *sql)
{
    assert_true(test_store_exec(f->location, sql));
}

/* ---- hub_ledger_check ---- */

static void test_check_SignedBatchVerifiesEveryForgeryDoesNot(void **state)
{
    struct fixture *f = *state;
    struct hub_chain c;
    struct batch b, other;

    make(&b, 1, 1, 3, DEPOT_CHAIN_GENESIS, P.key_a, P.pem_a);
    hub_ledger_check(f->orders, &b.m, &c);
    assert_int_equal(c.in, HUB_CHAIN_VERIFIED);

    b.items[1].delta = 7; /* changed after it was hashed and signed */
    hub_ledger_check(f->orders, &b.m, &c);
    assert_int_equal(c.in, HUB_CHAIN_FORGED);
    assert_string_equal(c.why, "movement 2 does not give the hash it was sent with");

    make(&b, 1, 1, 3, DEPOT_CHAIN_GENESIS, P.key_b, P.pem_b); /* another dealer's key */
    hub_ledger_check(f->orders, &b.m, &c);
    assert_int_equal(c.in, HUB_CHAIN_FORGED);
    assert_non_null(strstr(c.why, "certificate of dealer D2 on the topic of D1"));

    make(&b, 1, 1, 3, DEPOT_CHAIN_GENESIS, P.key_x, P.pem_x); /* D1's name, another CA */
    hub_ledger_check(f->orders, &b.m, &c);
    assert_int_equal(c.in, HUB_CHAIN_FORGED);
    assert_non_null(strstr(c.why, "certificate not issued by the CA"));

    make(&b, 1, 1, 3, DEPOT_CHAIN_GENESIS, P.key_a, P.pem_a);
    make(&other, 1, 1, 2, DEPOT_CHAIN_GENESIS, P.key_a, P.pem_a);
    b.m.body.movements.sig = other.sig; /* D1's signature, of other movements */
    hub_ledger_check(f->orders, &b.m, &c);
    assert_int_equal(c.in, HUB_CHAIN_FORGED);
    assert_string_equal(c.why, "signature: signature does not verify");

    make(&b, 1, 1, 3, DEPOT_CHAIN_GENESIS, P.key_a, P.pem_a);
    b.items[2].mid = 9; /* ids that skip: not the gateway's consecutive movements */
    hub_ledger_check(f->orders, &b.m, &c);
    assert_int_equal(c.in, HUB_CHAIN_FORGED);
    assert_string_equal(c.why, "movement 9 follows movement 2");

    make(&b, 1, 1, 3, DEPOT_CHAIN_GENESIS, NULL, NULL);
    hub_ledger_check(f->orders, &b.m, &c);
    assert_int_equal(c.in, HUB_CHAIN_UNCHAINED);
}

/* ---- the store's chain step ---- */

static bool moved(struct fixture *f, uint64_t mid)
{
    char h[DEPOT_CHAIN_HEX + 1];
    bool found = false;
    assert_int_equal(hub_store_ledger_hash_at(f->s, DEALER, LEDGER, mid, h, &found), DEPOT_OK);
    return found;
}

static void test_apply_ChainStepsAndEveryBreakFlagged(void **state)
{
    struct fixture *f = *state;
    struct batch b1, b2, gap, fork, plain, forged, after;
    struct hub_chain c;
    char head_hash[DEPOT_CHAIN_HEX + 1];
    uint64_t head = 0;
    bool found = false;

    make(&b1, 1, 1, 3, DEPOT_CHAIN_GENESIS, P.key_a, P.pem_a);
    assert_int_equal(apply(f, &b1, &c), HUB_APPLY_DONE);
    assert_int_equal(c.out, HUB_CHAIN_STARTED);
    make(&b2, 2, 4, 2, last_hash(&b1), P.key_a, P.pem_a);
    assert_int_equal(apply(f, &b2, &c), HUB_APPLY_DONE);
    assert_int_equal(c.out, HUB_CHAIN_LINKED);
    assert_int_equal(apply(f, &b2, &c), HUB_APPLY_DUPLICATE); /* a resend: no chain step */
    assert_int_equal(c.out, HUB_CHAIN_NONE);

    /* movements 6 and 7 never came: the batch of 8..9 is applied and flagged */
    make(&gap, 3, 8, 2, b2.items[1].hash, P.key_a, P.pem_a);
    assert_int_equal(apply(f, &gap, &c), HUB_APPLY_DONE);
    assert_int_equal(c.out, HUB_CHAIN_GAP);
    assert_int_equal(c.head_mid, 5);
    assert_true(moved(f, 9));

    /* movement 10 signed after a hash that is not movement 9's */
    make(&fork, 4, 10, 1, last_hash(&b1), P.key_a, P.pem_a);
    assert_int_equal(apply(f, &fork, &c), HUB_APPLY_DONE);
    assert_int_equal(c.out, HUB_CHAIN_FORK);
    assert_string_equal(c.head_hash, last_hash(&gap));

    /* without its chain after chained batches: refused, nothing of it applied */
    make(&plain, 5, 11, 1, last_hash(&fork), NULL, NULL);
    assert_int_equal(apply(f, &plain, &c), HUB_APPLY_REFUSED);
    assert_int_equal(c.out, HUB_CHAIN_DOWNGRADE);
    make(&forged, 6, 11, 1, last_hash(&fork), P.key_a, P.pem_a);
    forged.items[0].delta = 40;
    assert_int_equal(apply(f, &forged, &c), HUB_APPLY_REFUSED);
    assert_int_equal(c.out, HUB_CHAIN_REFUSED);
    assert_false(moved(f, 11));
    assert_int_equal(hub_store_ledger_head(f->s, DEALER, LEDGER, &head, head_hash, &found),
                     DEPOT_OK);
    assert_true(found);
    assert_int_equal(head, 10);
    assert_string_equal(head_hash, last_hash(&fork));

    /* the genuine movement 11 still links to the head */
    make(&after, 7, 11, 1, last_hash(&fork), P.key_a, P.pem_a);
    assert_int_equal(apply(f, &after, &c), HUB_APPLY_DONE);
    assert_int_equal(c.out, HUB_CHAIN_LINKED);
    assert_true(moved(f, 11));
}

static void test_apply_UnchainedLedgerAppliedAsBefore(void **state)
{
    struct fixture *f = *state;
    struct batch b1, b2;
    struct hub_chain c;
    make(&b1, 1, 1, 2, DEPOT_CHAIN_GENESIS, NULL, NULL);
    assert_int_equal(apply(f, &b1, &c), HUB_APPLY_DONE);
    assert_int_equal(c.out, HUB_CHAIN_PLAIN);
    /* the gateway upgraded: its first chained batch starts the chain at the hub */
    make(&b2, 2, 3, 2, last_hash(&b1), P.key_a, P.pem_a);
    assert_int_equal(apply(f, &b2, &c), HUB_APPLY_DONE);
    assert_int_equal(c.out, HUB_CHAIN_STARTED);
}

/* ---- hub_ledger_verify ---- */

/* Movements 1..3 and 4..6 in two signed batches. */
static void two_batches(struct fixture *f)
{
    struct batch b1, b2;
    struct hub_chain c;
    make(&b1, 1, 1, 3, DEPOT_CHAIN_GENESIS, P.key_a, P.pem_a);
    assert_int_equal(apply(f, &b1, &c), HUB_APPLY_DONE);
    make(&b2, 2, 4, 3, last_hash(&b1), P.key_a, P.pem_a);
    assert_int_equal(apply(f, &b2, &c), HUB_APPLY_DONE);
}

/* The verification of the whole period: its one ledger's report (asserted ok or not). */
static cJSON *verify(struct fixture *f, bool ok)
{
    cJSON *out = NULL, *l;
    assert_int_equal(hub_ledger_verify(f->s, P.ca, DEALER, T0, T0 + 86400000LL, &out), DEPOT_OK);
    assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(out, "ok")), ok);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "ledgers")), 1);
    l = cJSON_DetachItemFromArray(cJSON_GetObjectItem(out, "ledgers"), 0);
    cJSON_Delete(out);
    assert_string_equal(cJSON_GetObjectItem(l, "ledger")->valuestring, LEDGER);
    return l;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* Problem i of report l: its kind and text. */
static const char *problem(const cJSON *l, int i, const char *what)
{
    const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "problems"), i);
    assert_non_null(p);
    return cJSON_GetObjectItem(p, what)->valuestring;
}

/* The only problem of report l: its movement and kind. */
static void only_problem(cJSON *l, uint64_t mid, const char *kind)
{
    const cJSON *p = cJSON_GetObjectItem(l, "problems");
    assert_int_equal(cJSON_GetArraySize(p), 1);
    p = cJSON_GetArrayItem(p, 0);
    assert_int_equal((uint64_t)num(p, "mid"), mid);
    assert_string_equal(cJSON_GetObjectItem(p, "kind")->valuestring, kind);
}

static void test_verify_CleanPeriodVerifiesWhole(void **state)
{
    struct fixture *f = *state;
    cJSON *l, *out = NULL;
    two_batches(f);
    l = verify(f, true);
    assert_int_equal(num(l, "first"), 1);
    assert_int_equal(num(l, "last"), 6);
    assert_int_equal(num(l, "movements"), 6);
    assert_int_equal(num(l, "verified"), 6);
    assert_int_equal(num(l, "batches"), 2);
    assert_int_equal(num(l, "signatures_ok"), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(l, "problems")), 0);
    cJSON_Delete(l);
    /* a period holding only movement 5 still verifies its batch whole (4..6) */
    assert_int_equal(hub_ledger_verify(f->s, P.ca, DEALER, T0 + 5000, T0 + 5001, &out), DEPOT_OK);
    l = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "ledgers"), 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "ok")));
    assert_int_equal(num(l, "movements"), 1);
    assert_int_equal(num(l, "first"), 4);
    assert_int_equal(num(l, "last"), 6);
    assert_int_equal(num(l, "verified"), 3);
    cJSON_Delete(out);
    /* another dealer, or a period without movements: nothing to verify, nothing wrong */
    assert_int_equal(hub_ledger_verify(f->s, P.ca, "D2", 0, T0 * 2, &out), DEPOT_OK);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "ok")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "ledgers")), 0);
    cJSON_Delete(out);
}

static void test_verify_NamesTheMovementChangedInTheStore(void **state)
{
    struct fixture *f = *state;
    cJSON *l;
    two_batches(f);
    store_exec(f, "UPDATE movements SET delta = 5, qty = 5 WHERE mid = 5");
    l = verify(f, false);
    only_problem(l, 5, "changed");
    assert_non_null(strstr(problem(l, 0, "text"), "movement 5 (receive S5 +5 -> 5 at scan-1)"));
    assert_int_equal(num(l, "verified"), 5);
    cJSON_Delete(l);
}

static void test_verify_NamesAHashRewrittenAndABatchRecordChanged(void **state)
{
    struct fixture *f = *state;
    cJSON *l;
    two_batches(f);
    /* the last movement's hash rewritten (its content too): the signed last hash differs */
    store_exec(f, "UPDATE ledger_hashes SET hash = "
                  "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' "
                  "WHERE mid = 6");
    l = verify(f, false);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(l, "problems")), 2);
    assert_string_equal(problem(l, 0, "kind"), "changed");
    assert_string_equal(problem(l, 1, "kind"), "signed_hash");
    cJSON_Delete(l);
}

static void test_verify_NamesABatchWhoseSignatureWasChanged(void **state)
{
    struct fixture *f = *state;
    cJSON *l;
    two_batches(f);
    /* the record of movements 1..3 now says they were signed after another hash */
    store_exec(f, "UPDATE ledger_batches SET prev = "
                  "'1111111111111111111111111111111111111111111111111111111111111111' "
                  "WHERE last = 3");
    l = verify(f, false);
    /* movement 1 no longer gives its hash after that prev, and the signature fails */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(l, "problems")), 2);
    assert_string_equal(problem(l, 0, "kind"), "changed");
    assert_string_equal(problem(l, 1, "kind"), "signature");
    assert_int_equal(num(l, "signatures_ok"), 1);
    cJSON_Delete(l);
}

static void test_verify_NamesAMovementDeleted(void **state)
{
    struct fixture *f = *state;
    cJSON *l;
    two_batches(f);
    store_exec(f, "DELETE FROM movements WHERE mid = 2");
    l = verify(f, false);
    only_problem(l, 2, "gap");
    cJSON_Delete(l);
}

/* ---- through hub_ingest ---- */

static depot_err publish_any(void *ctx, const char *topic, const char *payload, size_t len,
                             bool retain)
{
    (void)ctx, (void)topic, (void)payload, (void)len, (void)retain;
    return DEPOT_OK;
}

static void submit(hub_ingest *ing, const depot_msg *m)
{
    char *text, topic[128];
    size_t len;
    assert_int_equal(depot_msg_encode(m, &text, &len), DEPOT_OK);
    depot_topic_build(topic, sizeof(topic), m->dealer, depot_msg_topic_leaf(m->type));
    assert_int_equal(hub_ingest_submit(ing, topic, text, len, false, depot_now_ms()),
                     HUB_REJECT_NONE);
    depot_free(text);
}

struct alert_seen {
    int n;
    char severity[16], subject[64], text[DEPOT_TEXT_MAX + 1];
};

static int on_alert(void *arg, const struct hub_alert_row *r)
{
    struct alert_seen *a = arg;
    a->n++;
    snprintf(a->severity, sizeof(a->severity), "%s", r->severity);
    snprintf(a->subject, sizeof(a->subject), "%s", r->subject);
    snprintf(a->text, sizeof(a->text), "%s", r->text);
    return 0;
}

static void test_ingest_GapAlertedForgedRefusedAndCounted(void **state)
{
    struct fixture *f = *state;
    struct hub_alert_filter flt = {.dealer = DEALER, .kind = "ledger_break"};
    struct alert_seen seen = {0};
    struct batch b1, gap, forged;
    hub_alerts *alerts;
    hub_ingest *ing;
    char *text = NULL;
    size_t len = 0;

    assert_int_equal(hub_alerts_new(&f->cfg, f->metrics, &alerts), DEPOT_OK);
    assert_int_equal(hub_ingest_new(f->s, f->metrics, f->orders, publish_any, NULL, &ing),
                     DEPOT_OK);
    hub_ingest_set_alerts(ing, alerts);
    make(&b1, 1, 1, 2, DEPOT_CHAIN_GENESIS, P.key_a, P.pem_a);
    make(&gap, 2, 5, 1, last_hash(&b1), P.key_a, P.pem_a);
    make(&forged, 3, 6, 1, last_hash(&gap), P.key_a, P.pem_a);
    forged.items[0].qty = 99;
    submit(ing, &b1.m);
    submit(ing, &gap.m);
    submit(ing, &forged.m);
    hub_ingest_sync(ing);
    hub_ingest_free(ing);
    hub_alerts_free(alerts);

    assert_int_equal(hub_metrics_chain_get(f->metrics, HUB_CHAIN_STARTED), 1);
    assert_int_equal(hub_metrics_chain_get(f->metrics, HUB_CHAIN_GAP), 1);
    assert_int_equal(hub_metrics_chain_get(f->metrics, HUB_CHAIN_REFUSED), 1);
    assert_int_equal(hub_metrics_movements_refused_get(f->metrics, HUB_MR_FORGED), 1);
    assert_int_equal(hub_store_alerts_list(f->s, &flt, on_alert, &seen), DEPOT_OK);
    assert_int_equal(seen.n, 1); /* one open alert per ledger, the forgery a second trigger */
    assert_string_equal(seen.severity, "critical");
    assert_string_equal(seen.subject, LEDGER);
    assert_string_equal(seen.text, "ledger 01234567: movements 6..6 refused: movement 6 does not "
                                   "give the hash it was sent with");
    assert_false(moved(f, 6));
    assert_true(moved(f, 5));
    assert_int_equal(hub_metrics_render(f->metrics, &text, &len), DEPOT_OK);
    assert_non_null(strstr(text, "depot_hub_movements_refused_total{reason=\"forged_chain\"} 1"));
    assert_non_null(strstr(text, "depot_hub_ledger_batches_total{result=\"gap\"} 1"));
    depot_free(text);
}

/* ---- item codes: diversion and double picks (diversion.h) ---- */

static void code_item(struct batch *b, size_t i, const char *kind, const char *code)
{
    struct depot_movement_item *it = &b->items[i];
    snprintf(it->kind, sizeof(it->kind), "%s", kind);
    snprintf(it->code, sizeof(it->code), "%s", code);
    it->delta = !strcmp(kind, "pick") ? -1 : 1;
    it->qty = !strcmp(kind, "pick") ? 0 : 1;
}

struct kinds_seen {
    int diversion, double_pick;
    char text[2][DEPOT_TEXT_MAX + 1];
};

static int on_kind(void *arg, const struct hub_alert_row *r)
{
    struct kinds_seen *k = arg;
    int d = !strcmp(r->kind, "diversion");
    k->diversion += d;
    k->double_pick += !strcmp(r->kind, "double_pick");
    snprintf(k->text[d ? 0 : 1], sizeof(k->text[0]), "%s", r->text);
    return 0;
}

static void test_ingest_DivertedItemAndSecondPickAlerted(void **state)
{
    struct fixture *f = *state;
    struct hub_shipment sh = {"SHP-7", "D2", "", T0, T0, "erp", "00", 1, 1};
    struct hub_shipment_line line = {"S1", 1, 1};
    struct hub_item_code code = {"SN-1", "S1", "D2", "SHP-7", T0};
    struct hub_dealer_profile d1 = {
        .dealer = "D1", .region = "south", .has_location = true, .lat = 10.5, .lon = 10.5};
    struct hub_dealer_profile d2 = {.dealer = "D2", .region = "north"};
    struct hub_alert_filter flt = {.dealer = DEALER};
    struct kinds_seen seen = {0};
    struct batch b1, b2;
    hub_alerts *alerts;
    hub_ingest *ing;

    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_store_shipment_add(f->s, &sh, &line, 1, &code, 1), DEPOT_OK);
    assert_int_equal(hub_store_profile_put(f->s, &d1), DEPOT_OK);
    assert_int_equal(hub_store_profile_put(f->s, &d2), DEPOT_OK);
    assert_int_equal(hub_store_territory_put(f->s, "D2", "0,0;0,5;5,5;5,0"), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    assert_int_equal(hub_alerts_new(&f->cfg, f->metrics, &alerts), DEPOT_OK);
    assert_int_equal(hub_ingest_new(f->s, f->metrics, f->orders, publish_any, NULL, &ing),
                     DEPOT_OK);
    hub_ingest_set_alerts(ing, alerts);
    /* D2's item received and picked at D1, and a code no shipment has */
    make(&b1, 1, 1, 3, DEPOT_CHAIN_GENESIS, NULL, NULL);
    code_item(&b1, 0, "receive", "SN-1");
    code_item(&b1, 1, "pick", "SN-1");
    code_item(&b1, 2, "receive", "SN-9");
    /* the same item picked out again */
    make(&b2, 2, 4, 1, DEPOT_CHAIN_GENESIS, NULL, NULL);
    code_item(&b2, 0, "pick", "SN-1");
    submit(ing, &b1.m);
    submit(ing, &b2.m);
    hub_ingest_sync(ing);
    hub_ingest_free(ing);
    hub_alerts_free(alerts);

    assert_int_equal(hub_store_alerts_list(f->s, &flt, on_kind, &seen), DEPOT_OK);
    assert_int_equal(seen.diversion, 1); /* one alert per item: the picks further triggers */
    assert_int_equal(seen.double_pick, 1);
    assert_string_equal(seen.text[0], "S4 SN-1 shipped to D2 (region north + area) turned up at "
                                      "D1 (region south): pick at scan-1; D1's place is outside "
                                      "D2's area");
    assert_string_equal(seen.text[1], "S4 SN-1 picked out again at D1 (scan-1), after a pick at "
                                      "D1 (scan-1)");
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_CODES_SCANNED), 4);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_CODES_DIVERTED), 3);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_CODES_UNKNOWN), 1);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_CODES_PICKED_TWICE), 1);
    assert_true(hub_territory_contains("0,0;0,5;5,5;5,0", 2.5, 2.5));
    assert_false(hub_territory_contains("0,0;0,5;5,5;5,0", 10.5, 10.5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_check_SignedBatchVerifiesEveryForgeryDoesNot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_apply_ChainStepsAndEveryBreakFlagged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_UnchainedLedgerAppliedAsBefore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_CleanPeriodVerifiesWhole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_NamesTheMovementChangedInTheStore, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify_NamesAHashRewrittenAndABatchRecordChanged,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_NamesABatchWhoseSignatureWasChanged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify_NamesAMovementDeleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_GapAlertedForgedRefusedAndCounted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ingest_DivertedItemAndSecondPickAlerted, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
