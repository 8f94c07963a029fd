/*
 * Tasks on a real database (a SQLite file, or a fresh PostgreSQL database in
 * unit.hub_tasks_test.pg): the store's task domain (store/tasks.h) and the
 * service over it (tasks.h): issuing (checks, targets, a stock rule met at
 * once), a confirmation (a photo when asked, once), the data rules met by
 * messages (a count after the task, each named SKU; a stock level), the
 * open and overdue walks, and the photo type check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/tasks.h"
#include "tasks.h"
#include "hub_test_util.h"

#define NOW 1790000000000LL

struct fixture {
    char dir[256];
    char location[300];
    hub_store *s;
    hub_tasks *t;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    test_store_location(f->location, sizeof(f->location), f->dir, "hub.db");
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    assert_int_equal(hub_tasks_new(&f->t), DEPOT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    hub_tasks_free(f->t);
    hub_store_free(f->s);
    test_store_drop(f->location);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

static struct hub_task *task(const char *rule, const char *skus, long long level, const char *due)
{
    static struct hub_task t; /* some kilobytes: off the stack */
    memset(&t, 0, sizeof(t));
    snprintf(t.title, sizeof(t.title), "A %s task", rule);
    snprintf(t.body, sizeof(t.body), "What to do.\nAnd how.");
    snprintf(t.due, sizeof(t.due), "%s", due);
    snprintf(t.rule, sizeof(t.rule), "%s", rule);
    snprintf(t.skus, sizeof(t.skus), "%s", skus);
    t.level = level;
    snprintf(t.target_kind, sizeof(t.target_kind), "list");
    snprintf(t.target, sizeof(t.target), "D1,D2");
    snprintf(t.created_by, sizeof(t.created_by), "admin");
    return &t;
}

static struct hub_task_reach reach(hub_store *s, long long id, const char *dealer)
{
    struct hub_task_reach r;
    assert_int_equal(hub_store_task_reach_get(s, id, dealer, &r), DEPOT_OK);
    return r;
}

static long long issue(struct fixture *f, struct hub_task *t, size_t want_done)
{
    size_t n = 0, done = 9;
    char why[160] = "";
    assert_int_equal(hub_tasks_issue(f->s, NULL, t, NOW, &n, &done, why, sizeof(why)), DEPOT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(done, want_done);
    return t->id;
}

/* One message applied as ingest applies it, then the tasks' hook, in one transaction. */
static int apply(struct fixture *f, depot_msg *m)
{
    enum hub_apply_result res;
    uint64_t upto;
    int done = -1;
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->s, m, NOW, &res, &upto), DEPOT_OK);
    assert_int_equal(hub_tasks_on_message(f->t, f->s, NULL, m, NOW + 5, &done), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    return done;
}

static depot_msg counts(const char *dealer, uint64_t id, long long ts, const char *sku,
                        const char *kind)
{
    static struct depot_movement_item it;
    depot_msg m;
    memset(&m, 0, sizeof(m));
    memset(&it, 0, sizeof(it));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_MOVEMENTS;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    snprintf(m.ledger, sizeof(m.ledger), LEDGER_A);
    m.id = id;
    m.base = 1;
    m.ts = ts;
    it.mid = id;
    it.ts = ts;
    snprintf(it.node, sizeof(it.node), "scan-1");
    snprintf(it.sku, sizeof(it.sku), "%s", sku);
    snprintf(it.kind, sizeof(it.kind), "%s", kind);
    it.delta = 0;
    it.qty = 4;
    m.body.movements.items = &it;
    m.body.movements.n_items = 1;
    return m;
}

static void test_tasks_IssueChecksEveryField(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *rule, *skus, *due;
        long long level;
        bool photo;
    } bad[] = {
        {"confirm", "SKU-A", "2099-01-01", 0, false}, {"count", "", "2099-01-01", 0, false},
        {"count", "A,A", "2099-01-01", 0, false},     {"count", "A,B", "2099-01-01", 0, true},
        {"stock", "A,B", "2099-01-01", 5, false},     {"stock", "A", "2099-01-01", 0, false},
        {"burn", "", "2099-01-01", 0, false},         {"confirm", "", "2099-13-01", 0, false},
        {"confirm", "", "tomorrow", 0, false},        {"count", "bad sku", "2099-01-01", 0, false},
    };
    size_t n, done;
    char why[160];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hub_task *t = task(bad[i].rule, bad[i].skus, bad[i].level, bad[i].due);
        t->photo = bad[i].photo;
        why[0] = '\0';
        assert_int_equal(hub_tasks_issue(f->s, NULL, t, NOW, &n, &done, why, sizeof(why)),
                         DEPOT_ERR_INVAL);
        assert_true(why[0] != '\0');
    }
    struct hub_task *t = task("confirm", "", 0, "2099-01-01");
    snprintf(t->title, sizeof(t->title), "two\nlines");
    assert_int_equal(hub_tasks_issue(f->s, NULL, t, NOW, &n, &done, why, sizeof(why)),
                     DEPOT_ERR_INVAL);
    t = task("confirm", "", 0, "2099-01-01");
    snprintf(t->target_kind, sizeof(t->target_kind), "region");
    snprintf(t->target, sizeof(t->target), "Nowhere");
    assert_int_equal(hub_tasks_issue(f->s, NULL, t, NOW, &n, &done, why, sizeof(why)),
                     DEPOT_ERR_NOTFOUND);
    long long last = -1;
    assert_int_equal(hub_store_task_last_id(f->s, &last), DEPOT_OK);
    assert_int_equal(last, 0); /* nothing written */
}

static void test_tasks_CountNeedsEachSkuAfterTheTask(void **state)
{
    struct fixture *f = *state;
    long long id = issue(f, task("count", "SKU-A,SKU_B", 0, "2099-01-01"), 0);
    assert_int_equal(hub_tasks_refresh(f->t, f->s), DEPOT_OK);
    depot_msg early = counts("D1", 1, NOW - 1000, "SKU-A", "count");
    assert_int_equal(apply(f, &early), 0);
    assert_string_equal(reach(f->s, id, "D1").counted, "");
    depot_msg pick = counts("D1", 2, NOW + 1000, "SKU-A", "pick");
    pick.body.movements.items[0].delta = -1;
    assert_int_equal(apply(f, &pick), 0); /* a pick is no count */
    depot_msg a = counts("D1", 3, NOW + 2000, "SKU-A", "count");
    assert_int_equal(apply(f, &a), 0);
    assert_string_equal(reach(f->s, id, "D1").counted, "SKU-A");
    depot_msg wild = counts("D1", 4, NOW + 3000, "SKUXB", "count"); /* not SKU_B by wildcard */
    assert_int_equal(apply(f, &wild), 0);
    depot_msg b = counts("D1", 5, NOW + 4000, "SKU_B", "count");
    assert_int_equal(apply(f, &b), 1);
    struct hub_task_reach r = reach(f->s, id, "D1");
    assert_true(r.done_at > 0);
    assert_string_equal(r.done_via, "data");
    assert_string_equal(r.done_by, "terminal:scan-1");
    assert_string_equal(r.counted, "SKU-A,SKU_B");
    assert_int_equal(reach(f->s, id, "D2").done_at, 0); /* another dealer's counts are its own */
    depot_msg again = counts("D1", 6, NOW + 5000, "SKU_B", "count");
    assert_int_equal(apply(f, &again), 0); /* done once */
}

static void test_tasks_StockLevelAtIssueAndLater(void **state)
{
    struct fixture *f = *state;
    depot_msg d2 = test_stock("D2", LEDGER_B, 1, 1, NOW - 10, "SKU-W", 9);
    depot_msg d1 = test_stock("D1", LEDGER_A, 1, 1, NOW - 10, "SKU-W", 2);
    assert_int_equal(apply(f, &d2), 0);
    assert_int_equal(apply(f, &d1), 0);
    long long id = issue(f, task("stock", "SKU-W", 5, "2099-01-01"), 1);
    assert_true(reach(f->s, id, "D2").done_at > 0);
    assert_string_equal(reach(f->s, id, "D2").done_by, "hub");
    depot_msg low = test_stock("D1", LEDGER_A, 2, 1, NOW + 10, "SKU-W", 4);
    assert_int_equal(apply(f, &low), 0); /* the SKUs are not known before a refresh anyway */
    assert_int_equal(hub_tasks_refresh(f->t, f->s), DEPOT_OK);
    depot_msg still = test_stock("D1", LEDGER_A, 3, 1, NOW + 20, "SKU-W", 4);
    assert_int_equal(apply(f, &still), 0);
    assert_int_equal(reach(f->s, id, "D1").done_at, 0);
    depot_msg other = test_stock("D1", LEDGER_A, 4, 1, NOW + 30, "SKU-X", 50);
    assert_int_equal(apply(f, &other), 0);
    depot_msg up = test_stock("D1", LEDGER_A, 5, 1, NOW + 40, "SKU-W", 5);
    assert_int_equal(apply(f, &up), 1);
    assert_string_equal(reach(f->s, id, "D1").done_via, "data");
}

static void test_tasks_ConfirmOncePhotoWhenAsked(void **state)
{
    struct fixture *f = *state;
    struct hub_task *t = task("confirm", "", 0, "2099-01-01");
    char why[160] = "", sha[65];
    bool changed;
    t->photo = true;
    long long id = issue(f, t, 0);
    long long count = issue(f, task("count", "SKU-A", 0, "2099-01-01"), 0);
    assert_int_equal(
        hub_tasks_confirm(f->s, NULL, id, "D1", "ann", "", "", NOW, &changed, why, sizeof(why)),
        DEPOT_ERR_INVAL);
    assert_non_null(strstr(why, "photo"));
    assert_int_equal(
        hub_tasks_confirm(f->s, NULL, count, "D1", "ann", "", "", NOW, &changed, why, sizeof(why)),
        DEPOT_ERR_INVAL);
    assert_int_equal(
        hub_tasks_confirm(f->s, NULL, id, "D9", "ann", "", "", NOW, &changed, why, sizeof(why)),
        DEPOT_ERR_NOTFOUND);
    assert_int_equal(
        hub_tasks_confirm(f->s, NULL, 999, "D1", "ann", "", "", NOW, &changed, why, sizeof(why)),
        DEPOT_ERR_NOTFOUND);
    memset(sha, 'a', 64);
    sha[64] = '\0';
    assert_int_equal(hub_tasks_confirm(f->s, NULL, id, "D1", "ann", sha, "image/png", NOW + 1,
                                       &changed, why, sizeof(why)),
                     DEPOT_OK);
    assert_true(changed);
    assert_int_equal(
        hub_tasks_confirm(f->s, NULL, id, "D1", "bob", "", "", NOW + 2, &changed, why, sizeof(why)),
        DEPOT_OK);
    assert_false(changed); /* the first confirmation stays */
    struct hub_task_reach r = reach(f->s, id, "D1");
    assert_int_equal(r.done_at, NOW + 1);
    assert_string_equal(r.done_by, "ann");
    assert_string_equal(r.done_via, "portal");
    assert_string_equal(r.photo_sha, sha);
    assert_string_equal(r.photo_type, "image/png");
}

struct walk {
    int n;
    char seen[8][64];
};

static int seen_row(void *arg, const struct hub_task *t, const struct hub_task_reach *r)
{
    struct walk *w = arg;
    snprintf(w->seen[w->n++], sizeof(w->seen[0]), "%lld:%s", t->id, r->dealer);
    return w->n == 8;
}

static int count_task(void *arg, const struct hub_task *t)
{
    (void)t;
    ++*(int *)arg;
    return 0;
}

static void test_tasks_OverdueAndListsAndStoreEdges(void **state)
{
    struct fixture *f = *state;
    long long past = issue(f, task("confirm", "", 0, "2026-01-31"), 0);
    long long future = issue(f, task("confirm", "", 0, "2099-01-31"), 0);
    char why[160];
    bool changed;
    struct walk w = {0};
    int n = 0;
    assert_int_equal(
        hub_tasks_confirm(f->s, NULL, past, "D2", "bob", "", "", NOW, &changed, why, sizeof(why)),
        DEPOT_OK);
    assert_int_equal(hub_store_tasks_overdue(f->s, "2026-02-01", seen_row, &w), DEPOT_OK);
    assert_int_equal(w.n, 1);
    char want[64];
    snprintf(want, sizeof(want), "%lld:D1", past);
    assert_string_equal(w.seen[0], want);
    w.n = 0;
    assert_int_equal(hub_store_tasks_overdue(f->s, "2026-01-31", seen_row, &w), DEPOT_OK);
    assert_int_equal(w.n, 0); /* due that day: not yet */
    w.n = 0;
    assert_int_equal(hub_store_dealer_tasks(f->s, "D1", seen_row, &w), DEPOT_OK);
    assert_int_equal(w.n, 2);
    snprintf(want, sizeof(want), "%lld:D1", future);
    assert_string_equal(w.seen[0], want); /* newest first */
    assert_int_equal(hub_store_tasks_list(f->s, count_task, &n), DEPOT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(hub_store_task_reach_add(f->s, past, "D1", NOW), DEPOT_ERR_DUPLICATE);
    assert_int_equal(hub_store_task_reach_counted(f->s, past, "D9", "X"), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_task_reach_counted(f->s, past, "D2", "X"), DEPOT_OK);
    assert_string_equal(reach(f->s, past, "D2").counted, ""); /* not after done */
    struct hub_task got;
    assert_int_equal(hub_store_task_get(f->s, 12345, &got), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_task_get(f->s, past, &got), DEPOT_OK);
    assert_string_equal(got.body, "What to do.\nAnd how.");
    assert_string_equal(got.due, "2026-01-31");
}

static void test_tasks_PhotoTypeBySignature(void **state)
{
    unsigned char img[128] = {0};
    (void)state;
    memcpy(img, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    assert_string_equal(hub_task_photo_type(img, sizeof(img)), "image/png");
    assert_null(hub_task_photo_type(img, 40)); /* too short to be an image */
    img[12] = 'X';
    assert_null(hub_task_photo_type(img, sizeof(img)));
    memset(img, 0, sizeof(img));
    img[0] = 0xff, img[1] = 0xd8, img[2] = 0xff;
    assert_null(hub_task_photo_type(img, sizeof(img))); /* no end marker: cut short */
    img[126] = 0xff, img[127] = 0xd9;
    assert_string_equal(hub_task_photo_type(img, sizeof(img)), "image/jpeg");
    assert_null(hub_task_photo_type("GIF89a and more bytes than the sixty-four that are needed "
                                    "to be an image at all",
                                    90));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tasks_IssueChecksEveryField, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tasks_CountNeedsEachSkuAfterTheTask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tasks_StockLevelAtIssueAndLater, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tasks_ConfirmOncePhotoWhenAsked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tasks_OverdueAndListsAndStoreEdges, setup, teardown),
        cmocka_unit_test(test_tasks_PhotoTypeBySignature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
