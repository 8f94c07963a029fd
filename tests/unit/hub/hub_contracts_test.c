/*
 * unit.hub_contracts_test (+ unit.hub_contracts_test.pg): contracts.h with real
 * keys and certificates made by the project's own CA code: a contract issued
 * (fields and the file's bytes checked), a dealer's signature verified and
 * countersigned once, every forgery refused and counted with nothing changed,
 * the dealer's down/contract, the terms applied on the start day.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/pki.h"
#include "contracts.h"
#include "files.h"
#include "hub_test_util.h"

#define NOW 1764230000000LL /* 2025-11-27 */
#define PDF "%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

static struct {
    char dir[256];
    char ca[300], key_a[300], crt_a[300], key_b[300], crt_b[300], key_x[300], crt_x[300];
    char key_hub[300], crt_hub[300];
} P;

struct fixture {
    char dir[256], files[300];
    char location[300];
    hub_store *store;
    hub_metrics *metrics;
    hub_orders *orders;
    hub_contracts *contracts;
    struct hub_config cfg;
    uint64_t next_id;
};

static void path(char *out, const char *dir, const char *name)
{
    snprintf(out, 300, "%s/%s", dir, name);
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
    path(P.key_hub, P.dir, "hub.key");
    path(P.crt_hub, P.dir, "hub.crt");
    assert_int_equal(pki_key_generate(ca_key), DEPOT_OK);
    assert_int_equal(pki_ca_create(ca_key, P.ca, NULL, 0), DEPOT_OK);
    assert_int_equal(pki_key_generate(other_key), DEPOT_OK);
    assert_int_equal(pki_ca_create(other_key, other_crt, NULL, 0), DEPOT_OK);
    assert_int_equal(pki_ca_open(&ca, ca_key, P.ca), DEPOT_OK);
    assert_int_equal(pki_ca_open(&other, other_key, other_crt), DEPOT_OK);
    issue_cert(ca, P.key_a, P.crt_a, "A");
    issue_cert(ca, P.key_b, P.crt_b, "B");
    issue_cert(ca, P.key_hub, P.crt_hub, "hub");
    issue_cert(other, P.key_x, P.crt_x, "A"); /* the right name from the wrong CA */
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

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    test_store_location(f->location, sizeof(f->location), f->dir, "hub.db");
    path(f->files, f->dir, "files");
    hub_config_defaults(&f->cfg);
    snprintf(f->cfg.order_ca, sizeof(f->cfg.order_ca), "%.200s", P.ca);
    snprintf(f->cfg.mqtt_key, sizeof(f->cfg.mqtt_key), "%.200s", P.key_hub);
    snprintf(f->cfg.mqtt_cert, sizeof(f->cfg.mqtt_cert), "%.200s", P.crt_hub);
    assert_int_equal(hub_store_open(f->location, &f->store), DEPOT_OK);
    assert_int_equal(hub_metrics_new(&f->metrics), DEPOT_OK);
    assert_int_equal(hub_orders_new(&f->cfg, f->metrics, &f->orders), DEPOT_OK);
    assert_int_equal(hub_contracts_new(&f->cfg, f->orders, f->metrics, &f->contracts), DEPOT_OK);
    f->next_id = 1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    hub_contracts_free(f->contracts);
    hub_orders_free(f->orders);
    hub_store_free(f->store);
    hub_metrics_free(f->metrics);
    test_store_drop(f->location);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

/* A contract for dealer from start to end; the issue's result. */
static depot_err issue(struct fixture *f, struct hub_contract *c, const char *dealer,
                       const char *start, const char *end, const void *data, size_t len, char *why)
{
    depot_err err, e2;
    memset(c, 0, sizeof(*c));
    snprintf(c->dealer, sizeof(c->dealer), "%s", dealer);
    snprintf(c->title, sizeof(c->title), "Dealer agreement");
    snprintf(c->start_day, sizeof(c->start_day), "%s", start);
    snprintf(c->end_day, sizeof(c->end_day), "%s", end);
    snprintf(c->tier, sizeof(c->tier), "gold");
    snprintf(c->created_by, sizeof(c->created_by), "admin");
    c->credit_limit = 750000;
    assert_int_equal(hub_store_begin(f->store), DEPOT_OK);
    err = hub_contracts_issue(f->store, f->files, c, data, len, NOW, why, 160);
    e2 = err == DEPOT_OK ? hub_store_commit(f->store) : (hub_store_rollback(f->store), DEPOT_OK);
    assert_int_equal(e2, DEPOT_OK);
    return err;
}

static char *dup_str(const char *s)
{
    char *p = depot_malloc(strlen(s) + 1);
    memcpy(p, s, strlen(s) + 1);
    return p;
}

/* A signature message on topic_dealer's topic: the document of (contract, doc_dealer, sha)
 * signed with key (or signed_text instead), sent with cert. */
static depot_msg sign_msg(struct fixture *f, const char *topic_dealer, long long contract,
                          const char *doc_dealer, const char *sha, const char *signed_text,
                          const char *key, const char *cert)
{
    depot_contract_doc d = {.contract = contract, .signed_at = NOW};
    unsigned char sig[PKI_SIG_MAX];
    char b64[PKI_SIG_B64_SIZE], *pem, *doc;
    size_t sig_len, b64_len, len;
    depot_msg m;
    snprintf(d.dealer, sizeof(d.dealer), "%s", doc_dealer);
    snprintf(d.sha256, sizeof(d.sha256), "%s", sha);
    snprintf(d.terminal, sizeof(d.terminal), "scan-1");
    assert_int_equal(depot_contract_doc_encode(&d, &doc, &len), DEPOT_OK);
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_SIGNATURE;
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
    assert_int_equal(pki_read_file(cert, DEPOT_CERT_PEM_MAX, &pem, NULL), DEPOT_OK);
    m.body.order.doc = doc;
    m.body.order.sig = dup_str(b64);
    m.body.order.cert = pem;
    return m;
}

/* Applies m as the ingest does: one transaction, the exactly-once key, then contracts. */
static void apply(struct fixture *f, depot_msg *m)
{
    enum hub_apply_result res;
    uint64_t upto;
    assert_int_equal(hub_store_begin(f->store), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->store, m, NOW, &res, &upto), DEPOT_OK);
    assert_int_equal(res, HUB_APPLY_DONE);
    assert_int_equal(hub_contracts_on_message(f->contracts, f->store, m, NOW + 5), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->store), DEPOT_OK);
    depot_msg_clear(m);
}

static void test_contracts_IssueChecksFieldsAndBytes(void **state)
{
    struct fixture *f = *state;
    static struct hub_contract c, got;
    static const unsigned char gif[] = "GIF89a\x01\x00";
    static const char bad_utf8[] = "caf\xc3";
    char why[160], *bytes;
    size_t len;
    assert_int_equal(issue(f, &c, "A b", "2026-01-01", "2026-12-31", PDF, strlen(PDF), why),
                     DEPOT_ERR_INVAL);
    assert_int_equal(issue(f, &c, "A", "2026-12-31", "2026-01-01", PDF, strlen(PDF), why),
                     DEPOT_ERR_INVAL);
    assert_int_equal(issue(f, &c, "A", "2026-02-30", "2026-12-31", PDF, strlen(PDF), why),
                     DEPOT_ERR_INVAL);
    assert_int_equal(issue(f, &c, "A", "2026-01-01", "2026-12-31", gif, sizeof(gif) - 1, why),
                     DEPOT_ERR_SCHEMA);
    assert_int_equal(issue(f, &c, "A", "2026-01-01", "2026-12-31", bad_utf8, strlen(bad_utf8), why),
                     DEPOT_ERR_SCHEMA);
    assert_int_equal(issue(f, &c, "A", "2026-01-01", "2026-12-31", "a\0b", 3, why),
                     DEPOT_ERR_SCHEMA);
    assert_null(hub_contract_type_of("", 0));
    assert_string_equal(hub_contract_type_of("Terms \xe2\x82\xac 1\n", 11),
                        "text/plain; charset=utf-8");
    assert_int_equal(issue(f, &c, "A", "2026-01-01", "2026-12-31", PDF, strlen(PDF), why),
                     DEPOT_OK);
    assert_true(c.id > 0);
    assert_string_equal(c.file_type, "application/pdf");
    assert_int_equal(c.file_size, (long long)strlen(PDF));
    assert_int_equal(hub_store_contract_get(f->store, c.id, &got), DEPOT_OK);
    assert_string_equal(got.file_sha, c.file_sha);
    assert_int_equal(got.signed_at, 0);
    assert_int_equal(hub_files_read(f->files, c.file_sha, 1 << 20, &bytes, &len), DEPOT_OK);
    assert_int_equal(len, strlen(PDF));
    assert_memory_equal(bytes, PDF, len);
    depot_free(bytes);
}

/* The hub's publish, captured. */
struct sent {
    int n;
    depot_msg msg;
};

static depot_err capture(void *ctx, const char *topic, const char *payload, size_t len, bool retain)
{
    struct sent *c = ctx;
    assert_true(retain);
    assert_string_equal(topic, "depot/v1/A/down/contract");
    if (c->n++)
        depot_msg_clear(&c->msg);
    assert_int_equal(depot_msg_decode(payload, len, &c->msg, NULL, 0), DEPOT_OK);
    return DEPOT_OK;
}

static void test_contracts_SignedOnceCountersignedForgeriesRefused(void **state)
{
    struct fixture *f = *state;
    static struct hub_contract c, other, got;
    char why[160], sha_b[65], *bytes, *hub_pem;
    unsigned char sig[PKI_SIG_MAX];
    struct sent sent = {0};
    size_t len, sig_len;
    depot_msg m;
    assert_int_equal(issue(f, &c, "A", "2026-01-01", "2026-12-31", PDF, strlen(PDF), why),
                     DEPOT_OK);
    assert_int_equal(issue(f, &other, "B", "2026-01-01", "2026-12-31", "B's terms\n", 10, why),
                     DEPOT_OK);
    snprintf(sha_b, sizeof(sha_b), "%s", other.file_sha);

    /* forgeries: each refused, counted, nothing changed */
    m = sign_msg(f, "A", c.id, "A", c.file_sha, NULL, P.key_x, P.crt_x); /* another CA */
    apply(f, &m);
    m = sign_msg(f, "A", c.id, "A", c.file_sha, NULL, P.key_b, P.crt_b); /* B's cert, A's topic */
    apply(f, &m);
    m = sign_msg(f, "A", c.id, "A", c.file_sha, "something else", P.key_a, P.crt_a);
    apply(f, &m);
    m = sign_msg(f, "A", c.id, "B", c.file_sha, NULL, P.key_a, P.crt_a); /* names B */
    apply(f, &m);
    m = sign_msg(f, "A", c.id, "A", sha_b, NULL, P.key_a, P.crt_a); /* other bytes */
    apply(f, &m);
    m = sign_msg(f, "A", other.id, "A", sha_b, NULL, P.key_a, P.crt_a); /* B's contract */
    apply(f, &m);
    m = sign_msg(f, "A", 999, "A", c.file_sha, NULL, P.key_a, P.crt_a); /* none */
    apply(f, &m);
    assert_int_equal(hub_store_contract_get(f->store, c.id, &got), DEPOT_OK);
    assert_int_equal(got.signed_at, 0);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_SIGNATURES_REFUSED), 7);

    /* the dealer's own: verified, kept, countersigned by the hub */
    m = sign_msg(f, "A", c.id, "A", c.file_sha, NULL, P.key_a, P.crt_a);
    apply(f, &m);
    assert_int_equal(hub_store_contract_get(f->store, c.id, &got), DEPOT_OK);
    assert_int_equal(got.signed_at, NOW + 5);
    assert_non_null(strstr(got.sign_doc, c.file_sha));
    assert_int_equal(pki_read_file(P.crt_hub, DEPOT_CERT_PEM_MAX, &hub_pem, NULL), DEPOT_OK);
    assert_string_equal(got.counter_cert, hub_pem);
    bytes = depot_contract_counter_bytes(got.sign_doc, got.sign_sig, &len);
    assert_int_equal(pki_base64_decode(got.counter_sig, sig, sizeof(sig), &sig_len), DEPOT_OK);
    assert_int_equal(pki_verify(hub_pem, bytes, len, sig, sig_len), DEPOT_OK);
    assert_int_equal(pki_verify(hub_pem, got.sign_doc, strlen(got.sign_doc), sig, sig_len),
                     DEPOT_ERR_SIGNATURE);
    depot_free(bytes);
    depot_free(hub_pem);

    /* signed again (another terminal, later): the first signature stays */
    m = sign_msg(f, "A", c.id, "A", c.file_sha, NULL, P.key_a, P.crt_a);
    apply(f, &m);
    assert_int_equal(hub_store_contract_get(f->store, c.id, &other), DEPOT_OK);
    assert_string_equal(other.sign_sig, got.sign_sig);
    assert_int_equal(other.signed_at, got.signed_at);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_CONTRACTS_SIGNED), 1);

    /* the dealer's down/contract: its own contract, signed */
    assert_int_equal(hub_contracts_publish_dealer(f->store, "A", NOW, capture, &sent), DEPOT_OK);
    assert_int_equal(sent.n, 1);
    assert_int_equal(sent.msg.body.contract.n_items, 1);
    assert_int_equal(sent.msg.body.contract.items[0].contract, c.id);
    assert_true(sent.msg.body.contract.items[0].signed_);
    depot_msg_clear(&sent.msg);
    sent.n = 0;
    assert_int_equal(hub_contracts_publish_dealer(f->store, "Z", NOW, capture, &sent), DEPOT_OK);
    assert_int_equal(sent.n, 0); /* no contracts: no message */
}

static void test_contracts_TermsAppliedOnTheStartDay(void **state)
{
    struct fixture *f = *state;
    static struct hub_contract c, later;
    struct hub_dealer_profile p;
    char why[160], today[11], tomorrow[11];
    depot_msg m;
    int n = 0;
    depot_date_utc(depot_now_ms(), today);
    depot_date_utc(depot_now_ms() + 86400000LL, tomorrow);
    assert_int_equal(issue(f, &c, "A", today, "2099-12-31", PDF, strlen(PDF), why), DEPOT_OK);
    assert_int_equal(issue(f, &later, "A", tomorrow, "2099-12-31", "Next year\n", 10, why),
                     DEPOT_OK);
    assert_int_equal(hub_contracts_apply_due(f->store, depot_now_ms(), &n), DEPOT_OK);
    assert_int_equal(n, 0); /* not signed: nothing applies */
    m = sign_msg(f, "A", c.id, "A", c.file_sha, NULL, P.key_a, P.crt_a);
    apply(f, &m);
    m = sign_msg(f, "A", later.id, "A", later.file_sha, NULL, P.key_a, P.crt_a);
    apply(f, &m);
    assert_int_equal(hub_contracts_apply_due(f->store, depot_now_ms(), &n), DEPOT_OK);
    assert_int_equal(n, 1); /* tomorrow's waits */
    assert_int_equal(hub_store_profile_get(f->store, "A", &p), DEPOT_OK);
    assert_int_equal(p.credit_limit, 750000);
    assert_string_equal(p.tier, "gold");
    assert_string_equal(p.contract_start, today);
    assert_string_equal(p.contract_end, "2099-12-31");
    assert_int_equal(hub_contracts_apply_due(f->store, depot_now_ms(), &n), DEPOT_OK);
    assert_int_equal(n, 0); /* once */
    assert_int_equal(hub_contracts_apply_due(f->store, depot_now_ms() + 86400000LL, &n), DEPOT_OK);
    assert_int_equal(n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_contracts_IssueChecksFieldsAndBytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contracts_SignedOnceCountersignedForgeriesRefused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_contracts_TermsAppliedOnTheStartDay, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
