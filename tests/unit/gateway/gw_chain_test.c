/*
 * The movement chain of the gateway's ledger (gateway/chain.h,
 * depot/ledger_chain.h) on real ledger files: every movement is written with
 * the hash of its canonical text after the one before it (the first after
 * the genesis), and gw_chain_verify names a movement changed in the file, a
 * movement removed and the one after it, and nothing else; a ledger made
 * before version 7 gets its chain when the gateway opens it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "chain.h"
#include "depot/ledger_chain.h"
#include "gw_test_util.h"
#include "ledger.h"

static int setup(void **state)
{
    return gw_test_fixture_setup(state, "gw_chain_test");
}

static int teardown(void **state)
{
    return gw_test_fixture_teardown(state);
}

/* Records n counts of S1 at node a (qty 10, 11, ...): n movements. */
static void counts(gw_ledger *l, int n)
{
    uint64_t id;
    for (int i = 0; i < n; i++)
        assert_int_equal(gw_ledger_record_count(l, "a", "S1", 10 + i, 1000 + i, &id), DEPOT_OK);
}

static void exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_chain_EachMovementHashedAfterTheOneBefore(void **state)
{
    struct gw_test_fixture *f = *state;
    struct gw_chain_report r;
    char why[200], ledger[40], first[80], second[80], want[DEPOT_CHAIN_HEX + 1];
    struct depot_chain_link link = {"D001", NULL, 1, 1000, "a", "S1", "scale", 10, 10, NULL};
    counts(f->ledger, 3);
    gw_test_fixture_close(f);
    gw_test_sql_text(f->db, "SELECT ledger_id FROM meta", ledger, sizeof(ledger));
    gw_test_sql_text(f->db, "SELECT hash FROM movements WHERE id = 1", first, sizeof(first));
    gw_test_sql_text(f->db, "SELECT hash FROM movements WHERE id = 2", second, sizeof(second));
    /* the first after the genesis, over the canonical text of its fields */
    link.ledger = ledger;
    assert_int_equal(depot_chain_hash(&link, DEPOT_CHAIN_GENESIS, want), DEPOT_OK);
    assert_string_equal(first, want);
    /* the second after the first */
    link.mid = 2;
    link.ts = 1001;
    link.delta = 1;
    link.qty = 11;
    assert_int_equal(depot_chain_hash(&link, first, want), DEPOT_OK);
    assert_string_equal(second, want);
    assert_int_equal(gw_chain_verify(f->db, &r, why, sizeof(why)), DEPOT_OK);
    assert_int_equal(r.movements, 3);
    assert_int_equal(r.breaks, 0);
    assert_string_equal(r.ledger, ledger);
    assert_string_equal(r.dealer, "D001");
    /* a reopened ledger goes on from its last movement */
    gw_test_fixture_open(f, 1000, 80);
    counts(f->ledger, 1);
    gw_test_fixture_close(f);
    assert_int_equal(gw_chain_verify(f->db, &r, why, sizeof(why)), DEPOT_OK);
    assert_int_equal(r.movements, 4);
    /* a field that is not one line cannot be hashed */
    link.node = "a\nb";
    assert_int_equal(depot_chain_hash(&link, first, want), DEPOT_ERR_INVAL);
    link.node = "a";
    assert_int_equal(depot_chain_hash(&link, "0123", want), DEPOT_ERR_INVAL);
}

static void test_chain_verify_NamesTheChangedAndTheRemovedMovement(void **state)
{
    struct gw_test_fixture *f = *state;
    struct gw_chain_report r;
    char why[200];
    counts(f->ledger, 6);
    gw_test_fixture_close(f);
    /* someone with the file: the append-only triggers dropped, movement 2 made bigger */
    exec(f->db, "DROP TRIGGER movements_append_only_u; DROP TRIGGER movements_append_only_d;"
                "UPDATE movements SET delta = delta + 5, qty_after = qty_after + 5 WHERE id = 2;");
    assert_int_equal(gw_chain_verify(f->db, &r, why, sizeof(why)), DEPOT_ERR_SIGNATURE);
    assert_int_equal(r.movements, 6);
    assert_int_equal(r.breaks, 1);
    assert_int_equal(r.bad_id[0], 2);
    assert_non_null(strstr(r.bad_why[0], "changed after it was written"));
    /* movement 4 removed: it is missing, and 5 no longer follows what is before it */
    exec(f->db, "DELETE FROM movements WHERE id = 4;");
    assert_int_equal(gw_chain_verify(f->db, &r, why, sizeof(why)), DEPOT_ERR_SIGNATURE);
    assert_int_equal(r.breaks, 3);
    assert_int_equal(r.bad_id[0], 2);
    assert_int_equal(r.bad_id[1], 4);
    assert_non_null(strstr(r.bad_why[1], "missing"));
    assert_int_equal(r.bad_id[2], 5);
    /* a hash rewritten to fit the changed fields breaks the next one instead */
    exec(f->db, "UPDATE movements SET hash = 'x' WHERE id = 6;");
    assert_int_equal(gw_chain_verify(f->db, &r, why, sizeof(why)), DEPOT_ERR_SIGNATURE);
    assert_int_equal(r.breaks, 4);
    assert_int_equal(r.bad_id[3], 6);
}

static void test_chain_OlderLedgerGetsItsChainWhenOpened(void **state)
{
    struct gw_test_fixture *f = *state;
    struct gw_chain_report r;
    char why[200];
    counts(f->ledger, 3);
    gw_test_fixture_close(f);
    /* as a version-6 gateway left it: no hashes */
    exec(f->db, "ALTER TABLE movements DROP COLUMN hash; ALTER TABLE movements DROP COLUMN code; "
                "PRAGMA user_version = 6;");
    assert_int_equal(gw_chain_verify(f->db, &r, why, sizeof(why)), DEPOT_ERR_DB);
    assert_non_null(strstr(why, "no movement chain yet"));
    gw_test_fixture_open(f, 1000, 80);
    counts(f->ledger, 2);
    gw_test_fixture_close(f);
    assert_int_equal(gw_chain_verify(f->db, &r, why, sizeof(why)), DEPOT_OK);
    assert_int_equal(r.movements, 5);
    assert_int_equal(r.breaks, 0);
    /* and its movements are still append-only */
    {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
        assert_int_not_equal(
            sqlite3_exec(db, "UPDATE movements SET delta = 0 WHERE id = 1", NULL, NULL, NULL),
            SQLITE_OK);
        sqlite3_close(db);
    }
}

static void test_chain_Version7LedgerKeepsItsChainAtVersion8(void **state)
{
    struct gw_test_fixture *f = *state;
    struct gw_chain_report r;
    char why[200], before[80], after[80];
    counts(f->ledger, 3);
    gw_test_fixture_close(f);
    /* as a version-7 gateway left it: hashes, no item codes */
    exec(f->db, "ALTER TABLE movements DROP COLUMN code; PRAGMA user_version = 7;");
    assert_int_equal(gw_chain_verify(f->db, &r, why, sizeof(why)), DEPOT_OK); /* read as it is */
    assert_int_equal(r.movements, 3);
    gw_test_sql_text(f->db, "SELECT hash FROM movements WHERE id = 3", before, sizeof(before));
    gw_test_fixture_open(f, 1000, 80);
    counts(f->ledger, 1);
    gw_test_fixture_close(f);
    assert_int_equal(gw_test_sql_int(f->db, "PRAGMA user_version"), 9);
    gw_test_sql_text(f->db, "SELECT hash FROM movements WHERE id = 3", after, sizeof(after));
    assert_string_equal(before, after); /* the chain is not redone */
    assert_int_equal(gw_chain_verify(f->db, &r, why, sizeof(why)), DEPOT_OK);
    assert_int_equal(r.movements, 4);
    assert_int_equal(r.breaks, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_EachMovementHashedAfterTheOneBefore, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_chain_verify_NamesTheChangedAndTheRemovedMovement,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_OlderLedgerGetsItsChainWhenOpened, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_chain_Version7LedgerKeepsItsChainAtVersion8, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
