/*
 * Orders at the hub (hub_orders, hub_approval, hub_downlink) on a real
 * store (a SQLite file in a temp folder, or a fresh PostgreSQL database in
 * unit.hub_orders_test.pg), with real keys and certificates made by the
 * pki functions: two CAs (the hub's and a stranger's), dealer A and B
 * certified by the hub's CA, and an "A" certified by the stranger.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/pki.h"
#include "orders.h"
#include "hub_test_util.h"

#define NOW 1764230000000LL
#define BARCODE "4006381333931"

struct pki_files {
    char dir[256];
    char ca[300], key_a[300], crt_a[300], key_b[300], crt_b[300], key_x[300], crt_x[300];
};

static struct pki_files P;

struct fixture {
    char dir[256];
    char location[300]; /* the store's SQLite file or PostgreSQL URL */
    hub_store *store;
    hub_metrics *metrics;
    hub_orders *orders;
    struct hub_config cfg;
    uint64_t next_id;
};

static void path(char *out, const char *dir, const char *name)
{
    snprintf(out, 300, "%s/%s", dir, name);
}

static void issue(pki_ca *ca, const char *key, const char *crt, const char *cn)
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
    issue(ca, P.key_a, P.crt_a, "A");
    issue(ca, P.key_b, P.crt_b, "B");
    issue(other, P.key_x, P.crt_x, "A");
    pki_ca_free(ca);
    pki_ca_free(other);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    test_rmdir(P.dir);
    return 0;
}

static void put_catalog(hub_store *s)
{
    struct hub_catalog_item it = {"S1", BARCODE, 1000, 250, 1, 100, 5, 3, 50, ""};
    long long version;
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_store_catalog_replace(s, &it, 1, NOW, &version), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
}

/* A dealer's credit limit and auto-approval limit in cents. */
static void put_dealer_profile(hub_store *s, const char *dealer, long long credit,
                               long long auto_limit)
{
    struct hub_dealer_profile p = {0};
    snprintf(p.dealer, sizeof(p.dealer), "%s", dealer);
    p.credit_limit = credit;
    p.auto_approve_limit = auto_limit;
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_store_profile_put(s, &p), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
}

static void put_profile(hub_store *s, long long credit, long long auto_limit)
{
    put_dealer_profile(s, "A", credit, auto_limit);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    test_store_location(f->location, sizeof(f->location), f->dir, "hub.db");
    hub_config_defaults(&f->cfg);
    snprintf(f->cfg.order_ca, sizeof(f->cfg.order_ca), "%.200s", P.ca);
    test_add_token(&f->cfg, "sales", HUB_ROLE_APPROVER, "sales");
    test_add_token(&f->cfg, "finance", HUB_ROLE_APPROVER, "finance");
    test_add_token(&f->cfg, "boss", HUB_ROLE_ADMIN, NULL);
    assert_int_equal(hub_store_open(f->location, &f->store), DEPOT_OK);
    assert_int_equal(hub_metrics_new(&f->metrics), DEPOT_OK);
    assert_int_equal(hub_orders_new(&f->cfg, f->metrics, &f->orders), DEPOT_OK);
    f->next_id = 1;
    put_catalog(f->store);
    put_profile(f->store, 100000, 50000); /* 1000.00 credit, 500.00 auto */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    hub_orders_free(f->orders);
    hub_store_free(f->store);
    hub_metrics_free(f->metrics);
    test_store_drop(f->location);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

/* The order document text of dealer doc_dealer, order "<ledger>-<n>", one line. */
static char *ledger_doc(const char *ledger, const char *doc_dealer, long long n,
                        const char *barcode, long long qty)
{
    depot_order_doc d = {0};
    char *text;
    size_t len;
    snprintf(d.order, sizeof(d.order), "%s-%lld", ledger, n);
    snprintf(d.dealer, sizeof(d.dealer), "%s", doc_dealer);
    d.number = n;
    snprintf(d.terminal, sizeof(d.terminal), "scan-a");
    d.created = NOW - 1000;
    d.n_lines = 1;
    snprintf(d.lines[0].barcode, sizeof(d.lines[0].barcode), "%s", barcode);
    d.lines[0].qty = qty;
    assert_int_equal(depot_order_doc_encode(&d, &text, &len), DEPOT_OK);
    return text;
}

/* The same in ledger A, the ledger of the messages order_msg makes. */
static char *order_doc(const char *doc_dealer, long long n, const char *barcode, long long qty)
{
    return ledger_doc(LEDGER_A, doc_dealer, n, barcode, qty);
}

static char *dup_str(const char *s)
{
    char *p = depot_malloc(strlen(s) + 1);
    memcpy(p, s, strlen(s) + 1);
    return p;
}

/* An up/order message on topic_dealer's topic: doc signed with key, sent with cert. */
static depot_msg order_msg(struct fixture *f, const char *topic_dealer, char *doc,
                           const char *signed_text, const char *key, const char *cert)
{
    unsigned char sig[PKI_SIG_MAX];
    char b64[PKI_SIG_B64_SIZE], *pem;
    size_t sig_len, b64_len, pem_len;
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_ORDER;
    snprintf(m.dealer, sizeof(m.dealer), "%s", topic_dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", LEDGER_A);
    m.id = f->next_id++;
    m.base = 1;
    m.ts = NOW;
    assert_int_equal(pki_sign_with_key_file(key, signed_text ? signed_text : doc,
                                            strlen(signed_text ? signed_text : doc), sig,
                                            sizeof(sig), &sig_len),
                     DEPOT_OK);
    assert_int_equal(pki_base64_encode(sig, sig_len, b64, sizeof(b64), &b64_len), DEPOT_OK);
    assert_int_equal(pki_read_file(cert, DEPOT_CERT_PEM_MAX, &pem, &pem_len), DEPOT_OK);
    m.body.order.doc = doc;
    m.body.order.sig = dup_str(b64);
    m.body.order.cert = pem;
    return m;
}

/* Applies m like the ingest does: one transaction, exactly-once key, order side. */
static struct hub_order_result apply(struct fixture *f, depot_msg *m)
{
    struct hub_order_result res = {0};
    enum hub_apply_result ar;
    assert_int_equal(hub_store_begin(f->store), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->store, m, NOW, &ar, NULL), DEPOT_OK);
    if (ar == HUB_APPLY_DONE)
        assert_int_equal(hub_orders_on_message(f->orders, f->store, m, NOW, &res), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->store), DEPOT_OK);
    hub_orders_count(f->orders, &res);
    depot_msg_clear(m);
    return res;
}

/* A's signed order n of qty units of the catalog's barcode. */
static struct hub_order_result send_order(struct fixture *f, long long n, long long qty)
{
    depot_msg m = order_msg(f, "A", order_doc("A", n, BARCODE, qty), NULL, P.key_a, P.crt_a);
    return apply(f, &m);
}

static void order_id(char *out, long long n)
{
    snprintf(out, DEPOT_ORDER_ID_MAX + 1, "%s-%lld", LEDGER_A, n);
}

static struct hub_order get_order(struct fixture *f, long long n)
{
    struct hub_order o;
    char id[DEPOT_ORDER_ID_MAX + 1];
    order_id(id, n);
    assert_int_equal(hub_store_order_get(f->store, id, &o), DEPOT_OK);
    return o;
}

static int count_order(void *arg, const struct hub_order *o)
{
    (void)o;
    (*(int *)arg)++;
    return 0;
}

static int n_orders(struct fixture *f)
{
    int n = 0;
    struct hub_order_filter all = {0};
    assert_int_equal(hub_store_orders_list(f->store, &all, count_order, &n), DEPOT_OK);
    return n;
}

static long long open_exposure(struct fixture *f, const char *dealer)
{
    struct hub_exposure x;
    assert_int_equal(hub_store_exposure(f->store, dealer, &x), DEPOT_OK);
    return x.open;
}

/* An approver's act on order n at the stage it names (NULL: its current stage). */
static depot_err act_at(struct fixture *f, long long n, const char *stage, int token,
                        enum hub_act a, const char *reason, struct hub_order *after)
{
    char id[DEPOT_ORDER_ID_MAX + 1];
    order_id(id, n);
    return hub_approval_act(&f->cfg, f->metrics, f->store, NULL, id, stage, &f->cfg.tokens[token],
                            a, reason, NOW + 5000, after);
}

static depot_err act(struct fixture *f, long long n, int token, enum hub_act a, const char *reason)
{
    struct hub_order after;
    return act_at(f, n, NULL, token, a, reason, &after);
}

struct actions {
    char list[32][24];
    int n;
};

static int audit_action(void *arg, const struct hub_audit_entry *e)
{
    struct actions *a = arg;
    if (a->n < 32)
        snprintf(a->list[a->n++], 24, "%s", e->action);
    return 0;
}

static bool audited(struct fixture *f, long long n, const char *action)
{
    struct actions a = {.n = 0};
    char id[DEPOT_ORDER_ID_MAX + 1];
    order_id(id, n);
    assert_int_equal(hub_store_audit_list(f->store, id, audit_action, &a), DEPOT_OK);
    for (int i = 0; i < a.n; i++)
        if (!strcmp(a.list[i], action))
            return true;
    return false;
}

/* ---- arrival ---- */

static void test_hub_orders_on_message_ValidOrderAutoApproved(void **state)
{
    struct fixture *f = *state;
    struct hub_order_result r = send_order(f, 1, 3);
    struct hub_order o = get_order(f, 1);
    assert_int_equal(r.outcome, HUB_ORDER_APPROVED);
    assert_string_equal(o.status, "approved");
    assert_int_equal(o.total, 3000);
    assert_int_equal(open_exposure(f, "A"), 3000);
    assert_true(audited(f, 1, "received"));
    assert_true(audited(f, 1, "validated"));
    assert_true(audited(f, 1, "auto-approved"));
    assert_false(audited(f, 1, "approved"));
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_ORDERS_AUTO_APPROVED), 1);
}

static void test_hub_orders_on_message_OverStockMaximumGoesToStages(void **state)
{
    struct fixture *f = *state;
    depot_msg stock = test_stock("A", LEDGER_B, 1, 1, NOW, "S1", 48);
    enum hub_apply_result ar;
    assert_int_equal(hub_store_begin(f->store), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->store, &stock, NOW, &ar, NULL), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->store), DEPOT_OK);
    assert_int_equal(send_order(f, 1, 3).outcome, HUB_ORDER_PENDING); /* 48 + 3 > 50 */
    assert_string_equal(get_order(f, 1).stage, "sales");
}

static void test_hub_approval_act_StagesInOrderThenApproved(void **state)
{
    struct fixture *f = *state;
    put_profile(f->store, 100000, 1000); /* auto only up to 10.00 */
    assert_int_equal(send_order(f, 1, 3).outcome, HUB_ORDER_PENDING);
    assert_string_equal(get_order(f, 1).stage, "sales");
    assert_int_equal(act(f, 1, 0, HUB_ACT_APPROVE, "ok"), DEPOT_OK);
    assert_string_equal(get_order(f, 1).stage, "finance");
    assert_int_equal(act(f, 1, 1, HUB_ACT_APPROVE, NULL), DEPOT_OK);
    assert_string_equal(get_order(f, 1).stage, "warehouse");
    assert_int_equal(act(f, 1, 2, HUB_ACT_APPROVE, "stock ok"), DEPOT_OK);
    assert_string_equal(get_order(f, 1).status, "approved");
    assert_int_equal(open_exposure(f, "A"), 3000);
    assert_true(audited(f, 1, "stage-approved"));
    assert_true(audited(f, 1, "approved"));
    assert_int_equal(act(f, 1, 2, HUB_ACT_APPROVE, NULL), DEPOT_ERR_STALE);
}

static void test_hub_approval_act_ApproverOfAnotherStageForbidden(void **state)
{
    struct fixture *f = *state;
    put_profile(f->store, 100000, 0);
    send_order(f, 1, 3);
    assert_int_equal(act(f, 1, 1, HUB_ACT_APPROVE, NULL), DEPOT_ERR_FORBIDDEN); /* finance */
    assert_string_equal(get_order(f, 1).stage, "sales");
    assert_int_equal(act(f, 1, 0, HUB_ACT_APPROVE, NULL), DEPOT_OK);
    assert_int_equal(act(f, 1, 0, HUB_ACT_APPROVE, NULL), DEPOT_ERR_FORBIDDEN); /* sales again */
}

static void test_hub_approval_act_RejectNeedsReason(void **state)
{
    struct fixture *f = *state;
    put_profile(f->store, 100000, 0);
    send_order(f, 1, 3);
    assert_int_equal(act(f, 1, 0, HUB_ACT_REJECT, ""), DEPOT_ERR_INVAL);
    assert_int_equal(act(f, 1, 0, HUB_ACT_REJECT, "dealer closes next week"), DEPOT_OK);
    struct hub_order o = get_order(f, 1);
    assert_string_equal(o.status, "rejected");
    assert_string_equal(o.reason, "dealer closes next week");
    assert_true(audited(f, 1, "stage-rejected"));
    assert_int_equal(open_exposure(f, "A"), 0);
}

static void test_hub_approval_act_ApprovingAStageTheOrderLeftIsStale(void **state)
{
    struct fixture *f = *state;
    struct hub_order after;
    put_profile(f->store, 100000, 0);
    send_order(f, 1, 3);
    /* the admin (every stage) clicks Approve twice on the order it saw at "sales" */
    assert_int_equal(act_at(f, 1, "sales", 2, HUB_ACT_APPROVE, NULL, &after), DEPOT_OK);
    assert_string_equal(after.stage, "finance");
    assert_int_equal(act_at(f, 1, "sales", 2, HUB_ACT_APPROVE, NULL, &after), DEPOT_ERR_STALE);
    assert_string_equal(after.stage, "finance");
    assert_string_equal(get_order(f, 1).stage, "finance");
    assert_string_equal(get_order(f, 1).status, "pending");
    assert_int_equal(act_at(f, 1, "warehouse", 2, HUB_ACT_REJECT, "no", &after), DEPOT_ERR_STALE);
    assert_string_equal(get_order(f, 1).status, "pending");
    assert_int_equal(act_at(f, 1, "finance", 2, HUB_ACT_APPROVE, NULL, &after), DEPOT_OK);
    assert_string_equal(after.stage, "warehouse");
}

static void test_hub_orders_on_message_OverCreditThenPaymentPasses(void **state)
{
    struct fixture *f = *state;
    long long id;
    put_profile(f->store, 10000, 10000);                               /* 100.00 both */
    assert_int_equal(send_order(f, 1, 8).outcome, HUB_ORDER_APPROVED); /* 80.00 */
    struct hub_order_result r = send_order(f, 2, 3);                   /* 80 + 30 > 100 */
    assert_int_equal(r.outcome, HUB_ORDER_REJECTED);
    assert_int_equal(r.reason, HUB_OR_OVER_CREDIT);
    assert_string_equal(get_order(f, 2).reason, "over credit limit");
    assert_int_equal(hub_store_payment_add(f->store, "A", 5000, "", "bank 1", "boss", NOW, &id),
                     DEPOT_OK);
    assert_int_equal(open_exposure(f, "A"), 3000);
    assert_int_equal(send_order(f, 3, 3).outcome, HUB_ORDER_APPROVED);
    assert_int_equal(open_exposure(f, "A"), 6000);
    assert_int_equal(hub_metrics_orders_rejected(f->metrics, HUB_OR_OVER_CREDIT), 1);
}

static void test_hub_orders_on_message_BadSignatureChangesNothing(void **state)
{
    struct fixture *f = *state;
    char *other = order_doc("A", 1, BARCODE, 99);
    depot_msg m = order_msg(f, "A", order_doc("A", 1, BARCODE, 3), other, P.key_a, P.crt_a);
    struct hub_order_result r = apply(f, &m);
    depot_free(other);
    assert_int_equal(r.outcome, HUB_ORDER_FORGED);
    assert_int_equal(r.reason, HUB_OR_BAD_SIGNATURE);
    assert_int_equal(n_orders(f), 0);
    assert_int_equal(open_exposure(f, "A"), 0);
}

static void test_hub_orders_on_message_WrongDealerCertificateRefused(void **state)
{
    struct fixture *f = *state;
    /* A's key and certificate, on B's topic, claiming to be B's order */
    depot_msg m = order_msg(f, "B", order_doc("B", 1, BARCODE, 3), NULL, P.key_a, P.crt_a);
    struct hub_order_result r = apply(f, &m);
    assert_int_equal(r.outcome, HUB_ORDER_FORGED);
    assert_int_equal(r.reason, HUB_OR_WRONG_DEALER);
    assert_int_equal(n_orders(f), 0);
    assert_int_equal(open_exposure(f, "B"), 0);
}

static void test_hub_orders_on_message_CertificateOfAnotherCaRefused(void **state)
{
    struct fixture *f = *state;
    depot_msg m = order_msg(f, "A", order_doc("A", 1, BARCODE, 3), NULL, P.key_x, P.crt_x);
    struct hub_order_result r = apply(f, &m);
    assert_int_equal(r.outcome, HUB_ORDER_FORGED);
    assert_int_equal(r.reason, HUB_OR_BAD_CERT);
    assert_int_equal(n_orders(f), 0);
}

static void test_hub_orders_on_message_ReplayIgnored(void **state)
{
    struct fixture *f = *state;
    put_profile(f->store, 100000, 0);
    assert_int_equal(send_order(f, 1, 3).outcome, HUB_ORDER_PENDING);
    assert_int_equal(send_order(f, 1, 3).outcome, HUB_ORDER_REPLAY); /* new message id */
    assert_int_equal(n_orders(f), 1);
    assert_string_equal(get_order(f, 1).stage, "sales");
    assert_true(audited(f, 1, "replay"));
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_ORDERS_REPLAYS), 1);
}

static void test_hub_orders_on_message_UnknownBarcodeAndQtyRejected(void **state)
{
    struct fixture *f = *state;
    depot_msg m = order_msg(f, "A", order_doc("A", 1, "999", 3), NULL, P.key_a, P.crt_a);
    struct hub_order_result r = apply(f, &m);
    assert_int_equal(r.outcome, HUB_ORDER_REJECTED);
    assert_int_equal(r.reason, HUB_OR_UNKNOWN_BARCODE);
    assert_string_equal(get_order(f, 1).reason, "unknown barcode 999");
    r = send_order(f, 2, 101); /* max_qty 100 */
    assert_int_equal(r.reason, HUB_OR_QTY_RANGE);
    assert_string_equal(get_order(f, 2).status, "rejected");
    assert_int_equal(open_exposure(f, "A"), 0);
}

/* Runs sql on the test's database behind the store's back; whether the database took it. */
static bool raw_exec(struct fixture *f, const char *sql)
{
    sqlite3 *raw;
    int rc;
    if (test_store_is_pg())
        return test_pg_exec(f->location, sql, false);
    assert_int_equal(sqlite3_open(f->location, &raw), SQLITE_OK);
    rc = sqlite3_exec(raw, sql, NULL, NULL, NULL);
    sqlite3_close(raw);
    return rc == SQLITE_OK;
}

static void test_hub_store_audit_add_RowsAreAppendOnly(void **state)
{
    struct fixture *f = *state;
    long long id;
    send_order(f, 1, 3);
    assert_int_equal(hub_store_payment_add(f->store, "A", 100, "", "", "boss", NOW, &id), DEPOT_OK);
    assert_false(raw_exec(f, "UPDATE audit SET actor = 'x'"));
    assert_false(raw_exec(f, "DELETE FROM audit"));
    assert_false(raw_exec(f, "DELETE FROM payments"));
    assert_true(raw_exec(f, "SELECT 1 FROM audit")); /* the statements above reached the tables */
    assert_true(audited(f, 1, "received"));
}

/* ---- an order's identity is bound to the dealer and ledger that send it ---- */

static void put_stream(struct fixture *f, const char *dealer, const char *ledger)
{
    depot_msg stock = test_stock(dealer, ledger, 1, 1, NOW, "S1", 1);
    enum hub_apply_result ar;
    assert_int_equal(hub_store_begin(f->store), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->store, &stock, NOW, &ar, NULL), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->store), DEPOT_OK);
}

/* B's real order 1 in B's ledger, from B's gateway. */
static struct hub_order_result send_b_order(struct fixture *f, uint64_t msg_id)
{
    depot_msg m =
        order_msg(f, "B", ledger_doc(LEDGER_B, "B", 1, BARCODE, 3), NULL, P.key_b, P.crt_b);
    snprintf(m.ledger, sizeof(m.ledger), "%s", LEDGER_B);
    m.id = msg_id;
    return apply(f, &m);
}

static struct hub_order b_order(struct fixture *f)
{
    struct hub_order o;
    assert_int_equal(hub_store_order_get(f->store, LEDGER_B "-1", &o), DEPOT_OK);
    return o;
}

static void test_hub_orders_on_message_OrderIdOfAnotherLedgerRefused(void **state)
{
    struct fixture *f = *state;
    struct hub_order_result r;
    put_dealer_profile(f->store, "B", 100000, 50000);
    put_stream(f, "B", LEDGER_B);
    /* A's own key, certificate, topic and ledger; the id is B's next order's */
    depot_msg m =
        order_msg(f, "A", ledger_doc(LEDGER_B, "A", 1, BARCODE, 3), NULL, P.key_a, P.crt_a);
    r = apply(f, &m);
    assert_int_equal(r.outcome, HUB_ORDER_FORGED);
    assert_int_equal(r.reason, HUB_OR_WRONG_ORDER_ID);
    assert_int_equal(n_orders(f), 0);
    assert_int_equal(hub_metrics_orders_rejected(f->metrics, HUB_OR_WRONG_ORDER_ID), 1);
    r = send_b_order(f, 2);
    assert_int_equal(r.outcome, HUB_ORDER_APPROVED);
    assert_string_equal(b_order(f).dealer, "B");
    assert_int_equal(open_exposure(f, "A"), 0);
    assert_int_equal(open_exposure(f, "B"), 3000);
}

static void test_hub_orders_on_message_LedgerOfAnotherDealerRefused(void **state)
{
    struct fixture *f = *state;
    struct actions a = {.n = 0};
    struct hub_order_result r;
    put_dealer_profile(f->store, "B", 100000, 50000);
    put_stream(f, "B", LEDGER_B);
    /* A's credentials on A's topic, claiming B's ledger in the envelope and the id */
    depot_msg m =
        order_msg(f, "A", ledger_doc(LEDGER_B, "A", 1, BARCODE, 3), NULL, P.key_a, P.crt_a);
    snprintf(m.ledger, sizeof(m.ledger), "%s", LEDGER_B);
    r = apply(f, &m);
    assert_int_equal(r.outcome, HUB_ORDER_FORGED);
    assert_int_equal(r.reason, HUB_OR_WRONG_ORDER_ID);
    assert_int_equal(n_orders(f), 0);
    r = send_b_order(f, 2);
    assert_int_equal(r.outcome, HUB_ORDER_APPROVED);
    assert_string_equal(b_order(f).dealer, "B");
    /* B's audit trail holds B's lines only */
    assert_int_equal(hub_store_audit_list(f->store, LEDGER_B "-1", audit_action, &a), DEPOT_OK);
    for (int i = 0; i < a.n; i++)
        assert_string_not_equal(a.list[i], "forged");
    assert_true(a.n >= 2);
}

static void test_hub_store_open_LedgersOfAnOlderDatabaseKeepTheirDealer(void **state)
{
    struct fixture *f = *state;
    sqlite3 *raw;
    /* An older SQLite file (before ledger_owners) upgraded on open: every PostgreSQL
     * database was created with ledger_owners, so there is no older one to upgrade. */
    if (test_store_is_pg())
        skip();
    put_dealer_profile(f->store, "B", 100000, 50000);
    put_stream(f, "B", LEDGER_B);
    hub_store_free(f->store);
    f->store = NULL;
    assert_int_equal(sqlite3_open(f->location, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "DROP TRIGGER ledger_first_owner; DROP TABLE ledger_owners;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(hub_store_open(f->location, &f->store), DEPOT_OK);
    depot_msg m =
        order_msg(f, "A", ledger_doc(LEDGER_B, "A", 1, BARCODE, 3), NULL, P.key_a, P.crt_a);
    snprintf(m.ledger, sizeof(m.ledger), "%s", LEDGER_B);
    assert_int_equal(apply(f, &m).reason, HUB_OR_WRONG_ORDER_ID);
    assert_int_equal(send_b_order(f, 2).outcome, HUB_ORDER_APPROVED);
}

static void test_hub_orders_on_message_DecidedEventOfAnotherDealerConfirmsNothing(void **state)
{
    struct fixture *f = *state;
    put_dealer_profile(f->store, "B", 100000, 50000);
    assert_int_equal(send_b_order(f, 1).outcome, HUB_ORDER_APPROVED);
    assert_int_equal(
        hub_store_decision_sent(f->store, LEDGER_B "-1", b_order(f).decision_seq, NOW + 60000),
        DEPOT_OK);
    depot_msg ev = test_event("A", 50, NOW, "scan-a", "decided", LEDGER_B "-1");
    assert_int_equal(apply(f, &ev).outcome, HUB_ORDER_NONE);
    assert_true(b_order(f).delivered_seq < b_order(f).decision_seq);
}

/* ---- escalation and the downlink ---- */

static void test_hub_orders_escalate_PastDeadline(void **state)
{
    struct fixture *f = *state;
    put_profile(f->store, 100000, 0);
    send_order(f, 1, 3);
    assert_int_equal(hub_orders_escalate(f->orders, f->store, NOW + 1000), DEPOT_OK);
    assert_false(get_order(f, 1).escalated);
    assert_int_equal(
        hub_orders_escalate(f->orders, f->store, NOW + f->cfg.stage_deadline_s * 1000 + 1),
        DEPOT_OK);
    assert_true(get_order(f, 1).escalated);
    assert_true(audited(f, 1, "escalated"));
    assert_int_equal(
        hub_orders_escalate(f->orders, f->store, NOW + f->cfg.stage_deadline_s * 2000 + 1),
        DEPOT_OK);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_ORDERS_ESCALATED), 1);
}

struct sent {
    int decisions, catalogs;
    bool retained;
    char status[DEPOT_STATUS_MAX + 1];
};

static depot_err record(void *ctx, const char *topic, const char *payload, size_t len, bool retain)
{
    struct sent *s = ctx;
    depot_msg m;
    assert_int_equal(depot_msg_decode(payload, len, &m, NULL, 0), DEPOT_OK);
    if (m.type == DEPOT_MSG_DECISION) {
        assert_string_equal(topic, "depot/v1/A/down/decision");
        s->decisions++;
        snprintf(s->status, sizeof(s->status), "%s", m.body.decision.status);
    } else {
        assert_int_equal(m.type, DEPOT_MSG_CATALOG);
        s->catalogs++;
        s->retained = retain;
    }
    depot_msg_clear(&m);
    return DEPOT_OK;
}

static int publish(struct fixture *f, struct sent *s, long long at)
{
    int n = 0;
    assert_int_equal(hub_orders_publish_decisions(f->orders, f->store, record, s, at, &n),
                     DEPOT_OK);
    return n;
}

static void test_hub_orders_publish_decisions_RepeatedUntilConfirmed(void **state)
{
    struct fixture *f = *state;
    struct sent s = {0};
    long long resend = f->cfg.decision_resend_s * 1000;
    char id[DEPOT_ORDER_ID_MAX + 1];
    send_order(f, 1, 3);
    assert_int_equal(publish(f, &s, NOW), 1);
    assert_string_equal(s.status, "approved");
    assert_int_equal(publish(f, &s, NOW + 1000), 0);
    assert_int_equal(publish(f, &s, NOW + resend), 1);
    order_id(id, 1);
    depot_msg ev = test_event("A", 50, NOW, "scan-a", "decided", id);
    assert_int_equal(apply(f, &ev).outcome, HUB_ORDER_CONFIRMED);
    assert_int_equal(publish(f, &s, NOW + 10 * resend), 0);
    assert_true(audited(f, 1, "delivered"));
    assert_true(get_order(f, 1).delivered_seq == get_order(f, 1).decision_seq);
}

static void test_hub_orders_publish_decisions_OnlineStateMakesDueAtOnce(void **state)
{
    struct fixture *f = *state;
    struct sent s = {0};
    send_order(f, 1, 3);
    assert_int_equal(publish(f, &s, NOW), 1);
    depot_msg st = test_state("A", true, NOW + 1, NOW + 1);
    apply(f, &st);
    assert_int_equal(publish(f, &s, NOW + 1000), 1);
}

static void test_hub_orders_publish_catalog_RetainedOncePerVersion(void **state)
{
    struct fixture *f = *state;
    struct sent s = {0};
    int n = 0;
    assert_int_equal(hub_orders_publish_catalog(f->orders, f->store, record, &s, NOW, &n),
                     DEPOT_OK);
    assert_int_equal(n, 1); /* A has a profile */
    assert_true(s.retained);
    assert_int_equal(hub_orders_publish_catalog(f->orders, f->store, record, &s, NOW, &n),
                     DEPOT_OK);
    assert_int_equal(n, 0);
    put_catalog(f->store); /* new version */
    assert_int_equal(hub_orders_publish_catalog(f->orders, f->store, record, &s, NOW, &n),
                     DEPOT_OK);
    assert_int_equal(n, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hub_orders_on_message_ValidOrderAutoApproved),
        T(test_hub_orders_on_message_OverStockMaximumGoesToStages),
        T(test_hub_approval_act_StagesInOrderThenApproved),
        T(test_hub_approval_act_ApproverOfAnotherStageForbidden),
        T(test_hub_approval_act_RejectNeedsReason),
        T(test_hub_approval_act_ApprovingAStageTheOrderLeftIsStale),
        T(test_hub_orders_on_message_OverCreditThenPaymentPasses),
        T(test_hub_orders_on_message_BadSignatureChangesNothing),
        T(test_hub_orders_on_message_WrongDealerCertificateRefused),
        T(test_hub_orders_on_message_CertificateOfAnotherCaRefused),
        T(test_hub_orders_on_message_ReplayIgnored),
        T(test_hub_orders_on_message_UnknownBarcodeAndQtyRejected),
        T(test_hub_store_audit_add_RowsAreAppendOnly),
        T(test_hub_orders_on_message_OrderIdOfAnotherLedgerRefused),
        T(test_hub_orders_on_message_LedgerOfAnotherDealerRefused),
        T(test_hub_orders_on_message_DecidedEventOfAnotherDealerConfirmsNothing),
        T(test_hub_store_open_LedgersOfAnOlderDatabaseKeepTheirDealer),
        T(test_hub_orders_escalate_PastDeadline),
        T(test_hub_orders_publish_decisions_RepeatedUntilConfirmed),
        T(test_hub_orders_publish_decisions_OnlineStateMakesDueAtOnce),
        T(test_hub_orders_publish_catalog_RetainedOncePerVersion),
    };
    depot_log_init("hub_orders_test", DEPOT_LOG_ERROR);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
