/*
 * Unit tests of gateway/movements.c: ledger movements batched into
 * up/movements exactly once. Real SQLite files in a temporary folder; a crash
 * is a forked child that dies (_exit) before or after its COMMIT, and the
 * parent reopens the ledger like a restarted gateway.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "depot/alloc.h"
#include "depot/ledger_chain.h"
#include "depot/msg.h"
#include "depot/pki.h"
#include "gw_test_util.h"
#include "ledger.h"
#include "ledger_tx.h"
#include "movements.h"

static int setup(void **state)
{
    return gw_test_fixture_setup(state, "gw_movements_test");
}

static int teardown(void **state)
{
    return gw_test_fixture_teardown(state);
}

/* n movements of SKU-<i % 3>, written directly (one transaction: fast). */
static void add_movements(struct gw_test_fixture *f, int n)
{
    sqlite3 *db;
    char sql[256];
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (int i = 0; i < n; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO movements (ts, node, sku, delta, qty_after, kind) VALUES"
                 " (%d, 'scan-a', 'SKU-%d', %d, %d, '%s')", /* plausible: the codec checks */
                 1000 + i, i % 3, (i % 2) ? -1 : 1, 1000 + i, (i % 2) ? "pick" : "receive");
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Every up/movements message in the outbox, decoded, in id order; returns how many. */
static size_t movement_msgs(gw_ledger *l, depot_msg *out, size_t max)
{
    struct gw_outbox_entry e[64];
    size_t n, k = 0;
    char reason[128];
    assert_int_equal(gw_ledger_outbox_read(l, 0, 64, e, &n), DEPOT_OK);
    for (size_t i = 0; i < n; i++) {
        if (e[i].type != DEPOT_MSG_MOVEMENTS)
            continue;
        assert_true(k < max);
        assert_int_equal(depot_msg_decode(e[i].payload, e[i].len, &out[k], reason, sizeof(reason)),
                         DEPOT_OK);
        k++;
    }
    gw_ledger_entries_clear(e, n);
    return k;
}

static void clear_msgs(depot_msg *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        depot_msg_clear(&m[i]);
}

/* The ledger's hash of movement id (its chain). */
static void hash_of(const char *path, long long id, char out[DEPOT_CHAIN_HEX + 1])
{
    char sql[80];
    snprintf(sql, sizeof(sql), "SELECT hash FROM movements WHERE id = %lld", id);
    gw_test_sql_text(path, sql, out, DEPOT_CHAIN_HEX + 1);
}

/* The batch's signature checked against the certificate over what the chain says is signed. */
static void assert_signed(const depot_msg *m, const char *pem)
{
    const struct depot_movements_body *b = &m->body.movements;
    unsigned char sig[PKI_SIG_MAX];
    size_t sig_len;
    char text[512];
    assert_int_equal(depot_movements_signed(m->dealer, m->ledger, b->items[0].mid,
                                            b->items[b->n_items - 1].mid, b->prev,
                                            b->items[b->n_items - 1].hash, text, sizeof(text)),
                     DEPOT_OK);
    assert_int_equal(pki_base64_decode(b->sig, sig, sizeof(sig), &sig_len), DEPOT_OK);
    assert_int_equal(pki_verify(pem, text, strlen(text), sig, sig_len), DEPOT_OK);
    assert_int_equal(pki_verify(pem, "x", 1, sig, sig_len), DEPOT_ERR_SIGNATURE);
    assert_string_equal(b->cert, pem);
}

/* With the gateway's key a batch carries the chain: each item's hash as the ledger has it, the
 * hash before the first (the genesis, then the last of the batch before), signed. */
static void test_gw_movements_batch_WithTheKeyCarriesTheChainSigned(void **state)
{
    struct gw_test_fixture *f = *state;
    char key[160], crt[160], *pem = NULL, h[DEPOT_CHAIN_HEX + 1];
    struct gw_order_signer os = {NULL, NULL};
    depot_msg m[2];
    uint64_t id;
    size_t n;
    snprintf(key, sizeof(key), "%s/gateway.key", f->dir);
    snprintf(crt, sizeof(crt), "%s/gateway.crt", f->dir);
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(pki_ca_create(key, crt, NULL, 30), DEPOT_OK);
    assert_int_equal(pki_signer_open(&os.signer, key), DEPOT_OK);
    assert_int_equal(pki_read_file(crt, DEPOT_CERT_PEM_MAX, &pem, NULL), DEPOT_OK);
    os.cert_pem = pem;
    for (int i = 0; i < 3; i++)
        assert_int_equal(gw_ledger_record_count(f->ledger, "scale-a", "S1", 5 + i, 100 + i, &id),
                         DEPOT_OK);
    assert_int_equal(gw_movements_batch(f->ledger, &os, &n, &id), DEPOT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(gw_ledger_record_count(f->ledger, "scale-a", "S1", 1, 200, &id), DEPOT_OK);
    assert_int_equal(gw_movements_batch(f->ledger, &os, &n, &id), DEPOT_OK);
    assert_int_equal(movement_msgs(f->ledger, m, 2), 2);
    for (size_t i = 0; i < 3; i++) {
        hash_of(f->db, (long long)i + 1, h);
        assert_string_equal(m[0].body.movements.items[i].hash, h);
    }
    assert_string_equal(m[0].body.movements.prev, DEPOT_CHAIN_GENESIS);
    assert_signed(&m[0], pem);
    hash_of(f->db, 3, h);
    assert_string_equal(m[1].body.movements.prev, h);
    assert_signed(&m[1], pem);
    clear_msgs(m, 2);
    pki_signer_free(os.signer);
    depot_free(pem);
}

static void test_gw_movements_batch_QueuesMovementsAndMovesCursorTogether(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = f->ledger;
    depot_msg m[4];
    uint64_t id = 0;
    size_t n;

    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 5, 100, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 3, 200, &id), DEPOT_OK);
    assert_int_equal(gw_movements_batch(l, NULL, &n, &id), DEPOT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(id, 3); /* after the two stock messages */
    assert_int_equal(movement_msgs(l, m, 4), 1);
    assert_int_equal(m[0].id, 3);
    assert_int_equal(m[0].body.movements.n_items, 2);
    assert_int_equal(m[0].body.movements.items[0].mid, 1);
    assert_int_equal(m[0].body.movements.items[0].delta, 5);
    assert_int_equal(m[0].body.movements.items[1].mid, 2);
    assert_int_equal(m[0].body.movements.items[1].delta, -2);
    assert_int_equal(m[0].body.movements.items[1].qty, 3);
    assert_string_equal(m[0].body.movements.items[1].kind, "scale");
    assert_string_equal(m[0].body.movements.items[1].node, "scale-a");
    clear_msgs(m, 1);
    gw_test_fixture_close(f);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT movements_sent FROM meta"), 2);

    l = gw_test_fixture_open(f, 1000, 80); /* a restart: nothing waits, nothing is sent again */
    assert_int_equal(gw_movements_batch(l, NULL, &n, &id), DEPOT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(movement_msgs(l, m, 4), 1);
    clear_msgs(m, 1);
}

static void test_gw_movements_batch_BoundariesOf500InMidOrder(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l;
    depot_msg m[8];
    uint64_t expect = 1;
    size_t n, sizes[3] = {500, 500, 201};

    gw_test_fixture_close(f); /* the setup made the schema */
    add_movements(f, 1201);
    l = gw_test_fixture_open(f, 1000, 80);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gw_movements_batch(l, NULL, &n, NULL), DEPOT_OK);
        assert_int_equal(n, sizes[i]);
    }
    assert_int_equal(gw_movements_batch(l, NULL, &n, NULL), DEPOT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(movement_msgs(l, m, 8), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(m[i].body.movements.n_items, sizes[i]);
        for (size_t k = 0; k < m[i].body.movements.n_items; k++)
            assert_int_equal(m[i].body.movements.items[k].mid, expect++); /* no gap, no overlap */
    }
    assert_int_equal(expect, 1202);
    clear_msgs(m, 3);
    gw_test_fixture_close(f);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT movements_sent FROM meta"), 1201);
}

/* Runs inside COMMIT, before anything is durable: the process dies there. */
static int commit_hook(void *arg)
{
    (void)arg;
    _exit(3);
}

/* In a child: open, batch (dying inside the COMMIT if die_in_commit), exit without closing. */
static int child_batch(struct gw_test_fixture *f, bool die_in_commit)
{
    int status;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct gw_ledger_opts o = {f->db, "D001", 1000, 80};
        gw_ledger *l = NULL;
        size_t n;
        if (gw_ledger_open(&o, &l) != DEPOT_OK)
            _exit(1);
        if (die_in_commit)
            sqlite3_commit_hook(gw_ledger_sqlite(l), commit_hook, NULL);
        _exit(gw_movements_batch(l, NULL, &n, NULL) == DEPOT_OK && n > 0 ? 0 : 2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_gw_movements_batch_CrashInCommitLeavesNeitherThenSendsOnce(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l;
    depot_msg m[4];
    size_t n;

    gw_test_fixture_close(f); /* the setup made the schema */
    add_movements(f, 7);
    assert_int_equal(child_batch(f, true), 3); /* died inside its COMMIT */
    assert_int_equal(gw_test_sql_int(f->db, "SELECT movements_sent FROM meta"), 0);
    assert_int_equal(
        gw_test_sql_int(f->db, "SELECT count(*) FROM outbox WHERE topic = 'up/movements'"), 0);

    assert_int_equal(child_batch(f, false), 0); /* died right after its COMMIT */
    assert_int_equal(gw_test_sql_int(f->db, "SELECT movements_sent FROM meta"), 7);
    assert_int_equal(
        gw_test_sql_int(f->db, "SELECT count(*) FROM outbox WHERE topic = 'up/movements'"), 1);

    l = gw_test_fixture_open(f, 1000, 80); /* the restarted gateway sends nothing twice */
    assert_int_equal(gw_movements_batch(l, NULL, &n, NULL), DEPOT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(movement_msgs(l, m, 4), 1);
    assert_int_equal(m[0].body.movements.n_items, 7);
    assert_int_equal(m[0].body.movements.items[6].mid, 7);
    clear_msgs(m, 1);
}

static void test_gw_movements_batch_FailedCursorMoveRollsBackTheMessage(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l;
    sqlite3 *db;
    size_t n;

    gw_test_fixture_close(f); /* the setup made the schema */
    add_movements(f, 4);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER no_cursor BEFORE UPDATE OF movements_sent ON meta"
                                  " BEGIN SELECT RAISE(ABORT, 'injected'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    l = gw_test_fixture_open(f, 1000, 80);
    assert_int_equal(gw_movements_batch(l, NULL, &n, NULL), DEPOT_ERR_DB);
    assert_int_equal(n, 0);
    assert_int_equal(gw_ledger_outbox_count(l), 0);
    assert_int_equal(gw_ledger_last_id(l), 0); /* the message id was not spent either */
    gw_test_fixture_close(f);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER no_cursor", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    l = gw_test_fixture_open(f, 1000, 80);
    assert_int_equal(gw_movements_batch(l, NULL, &n, NULL), DEPOT_OK);
    assert_int_equal(n, 4);
}

static void test_gw_movements_batch_OutboxAtWarnLevelWaitsCursorStays(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = gw_test_fixture_open(f, 100, 50);
    uint64_t id;
    size_t n;
    long long waiting, cursor;

    for (int i = 1; i <= 50; i++) /* 50 stock messages: the warning level */
        assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", i, i, &id), DEPOT_OK);
    assert_int_equal(gw_movements_batch(l, NULL, &n, NULL), DEPOT_ERR_FULL);
    assert_int_equal(gw_movements_waiting(l, &waiting, &cursor), DEPOT_OK);
    assert_int_equal(waiting, 50);
    assert_int_equal(cursor, 0);
    assert_int_equal(gw_ledger_ack(l, gw_ledger_last_id(l), NULL), DEPOT_OK);
    assert_int_equal(gw_movements_batch(l, NULL, &n, NULL), DEPOT_OK);
    assert_int_equal(n, 50);
    assert_int_equal(gw_movements_waiting(l, &waiting, &cursor), DEPOT_OK);
    assert_int_equal(waiting, 0);
    assert_int_equal(cursor, 50);
}

static void test_gw_movements_tick_CutsByCountOrAgeAndOnlyFullOnesWhileDown(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l;
    gw_movements mv;
    struct gw_movements_opts o = {5, 3, NULL};
    int queued;

    gw_test_fixture_close(f); /* the setup made the schema */
    add_movements(f, 2);
    l = gw_test_fixture_open(f, 1000, 80);
    gw_movements_init(&mv, &o);
    assert_int_equal(gw_movements_tick(&mv, l, 10000, true, 8, &queued), DEPOT_OK);
    assert_int_equal(queued, 0); /* 2 < 3, and they just started waiting */
    assert_int_equal(gw_movements_tick(&mv, l, 14999, true, 8, &queued), DEPOT_OK);
    assert_int_equal(queued, 0);
    assert_int_equal(gw_movements_tick(&mv, l, 15000, true, 8, &queued), DEPOT_OK);
    assert_int_equal(queued, 1); /* the oldest waited period_s */
    gw_test_fixture_close(f);

    add_movements(f, 3);
    l = gw_test_fixture_open(f, 1000, 80);
    assert_int_equal(gw_movements_tick(&mv, l, 20000, false, 8, &queued), DEPOT_OK);
    assert_int_equal(queued, 0); /* link down: only full batches */
    assert_int_equal(gw_movements_tick(&mv, l, 20001, true, 8, &queued), DEPOT_OK);
    assert_int_equal(queued, 1); /* 3 waiting = batch_min */
    gw_test_fixture_close(f);

    add_movements(f, 1001);
    l = gw_test_fixture_open(f, 5000, 80);
    assert_int_equal(gw_movements_tick(&mv, l, 30000, false, 8, &queued), DEPOT_OK);
    assert_int_equal(queued, 2); /* two full batches; 1 movement waits for the link */
    gw_test_fixture_close(f);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT movements_sent FROM meta"), 1005);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_gw_movements_batch_QueuesMovementsAndMovesCursorTogether, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_movements_batch_BoundariesOf500InMidOrder, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_gw_movements_batch_CrashInCommitLeavesNeitherThenSendsOnce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_movements_batch_FailedCursorMoveRollsBackTheMessage,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_movements_batch_WithTheKeyCarriesTheChainSigned,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_movements_batch_OutboxAtWarnLevelWaitsCursorStays,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_gw_movements_tick_CutsByCountOrAgeAndOnlyFullOnesWhileDown, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
