/*
 * The store's account domain (store/accounts.h) on a real database (a SQLite
 * file, or a fresh PostgreSQL database in unit.hub_accounts_test.pg): users,
 * sessions whose role is their user's at every lookup, API tokens unique by
 * name among the live ones, revocation by hash and by name, listing and the
 * purge of expired sessions, and a revocation seen at once by a second hub on
 * the same database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/accounts.h"
#include "store/store.h"
#include "hub_test_util.h"

struct fixture {
    char dir[256];
    char location[300]; /* the SQLite file or the PostgreSQL URL every store of the test opens */
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

static struct hub_user user(const char *name, const char *role, const char *dealer,
                            const char *stages, long long at)
{
    struct hub_user u;
    memset(&u, 0, sizeof(u));
    snprintf(u.name, sizeof(u.name), "%s", name);
    snprintf(u.role, sizeof(u.role), "%s", role);
    snprintf(u.dealer, sizeof(u.dealer), "%s", dealer);
    snprintf(u.stages, sizeof(u.stages), "%s", stages);
    snprintf(u.pwhash, sizeof(u.pwhash), "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$%s", name);
    u.created_at = at;
    u.updated_at = at;
    return u;
}

/* A hash of 64 hex digits made from n. */
static void hash_of(int n, char out[HUB_CRED_HASH_HEX + 1])
{
    snprintf(out, HUB_CRED_HASH_HEX + 1, "%064x", n);
}

static struct hub_cred session(int n, const char *user_name, long long at, long long expires_at)
{
    struct hub_cred c;
    memset(&c, 0, sizeof(c));
    hash_of(n, c.hash);
    c.kind = HUB_CRED_SESSION;
    snprintf(c.name, sizeof(c.name), "%s", user_name);
    snprintf(c.created_by, sizeof(c.created_by), "%s", user_name);
    c.created_at = at;
    c.expires_at = expires_at;
    return c;
}

static struct hub_cred api_token(int n, const char *name, const char *role, const char *dealer,
                                 const char *stages, long long at)
{
    struct hub_cred c;
    memset(&c, 0, sizeof(c));
    hash_of(n, c.hash);
    c.kind = HUB_CRED_API;
    snprintf(c.name, sizeof(c.name), "%s", name);
    snprintf(c.role, sizeof(c.role), "%s", role);
    snprintf(c.dealer, sizeof(c.dealer), "%s", dealer);
    snprintf(c.stages, sizeof(c.stages), "%s", stages);
    snprintf(c.created_by, sizeof(c.created_by), "admin");
    c.created_at = at;
    return c;
}

static struct hub_cred find(hub_store *s, int n)
{
    char hash[HUB_CRED_HASH_HEX + 1];
    struct hub_cred c;
    hash_of(n, hash);
    assert_int_equal(hub_store_cred_find(s, hash, &c), DEPOT_OK);
    assert_string_equal(c.hash, hash);
    return c;
}

#define LIST_MAX 8

struct user_list {
    int n;
    struct hub_user u[LIST_MAX];
};

static int on_user(void *arg, const struct hub_user *u)
{
    struct user_list *l = arg;
    assert_true(l->n < LIST_MAX);
    l->u[l->n++] = *u;
    return 0;
}

struct cred_list {
    int n, stop_after; /* stop_after 0: every one */
    struct hub_cred c[LIST_MAX];
};

static int on_cred(void *arg, const struct hub_cred *c)
{
    struct cred_list *l = arg;
    assert_true(l->n < LIST_MAX);
    l->c[l->n++] = *c;
    return l->stop_after && l->n >= l->stop_after;
}

static struct cred_list creds(hub_store *s, enum hub_cred_kind kind)
{
    struct cred_list l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_creds_list(s, kind, on_cred, &l), DEPOT_OK);
    return l;
}

/* ---- users ---- */

static void test_users_AddGetPutList(void **state)
{
    struct fixture *f = *state;
    struct hub_user u = user("carol", "approver", "", "sales,finance", 1000), got;
    struct user_list l = {0};

    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    assert_int_equal(hub_store_user_get(f->s, "carol", &got), DEPOT_OK);
    assert_string_equal(got.name, "carol");
    assert_string_equal(got.role, "approver");
    assert_string_equal(got.dealer, "");
    assert_string_equal(got.stages, "sales,finance");
    assert_string_equal(got.pwhash, u.pwhash);
    assert_false(got.disabled);
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.updated_at, 1000);

    /* put sets everything but the creation time */
    u = user("carol", "dealer", "D7", "", 5000);
    snprintf(u.pwhash, sizeof(u.pwhash), "%s", "$argon2id$new");
    u.disabled = true;
    u.created_at = 4444;
    assert_int_equal(hub_store_user_put(f->s, &u), DEPOT_OK);
    assert_int_equal(hub_store_user_get(f->s, "carol", &got), DEPOT_OK);
    assert_string_equal(got.role, "dealer");
    assert_string_equal(got.dealer, "D7");
    assert_string_equal(got.stages, "");
    assert_string_equal(got.pwhash, "$argon2id$new");
    assert_true(got.disabled);
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.updated_at, 5000);

    /* listed by name, byte-wise (upper case first) on both stores */
    u = user("alice", "admin", "", "", 2000);
    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    u = user("Bob", "viewer", "", "", 3000);
    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    assert_int_equal(hub_store_users_list(f->s, on_user, &l), DEPOT_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.u[0].name, "Bob");
    assert_string_equal(l.u[1].name, "alice");
    assert_string_equal(l.u[2].name, "carol");
    assert_string_equal(l.u[1].role, "admin");
    assert_true(l.u[2].disabled);
    assert_false(l.u[0].disabled);
}

static void test_users_DuplicateAndUnknown(void **state)
{
    struct fixture *f = *state;
    struct hub_user u = user("dora", "viewer", "", "", 1000), got;
    struct user_list l = {0};

    assert_int_equal(hub_store_users_list(f->s, on_user, &l), DEPOT_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    u = user("dora", "admin", "", "", 2000);
    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_ERR_DUPLICATE);
    assert_int_equal(hub_store_user_get(f->s, "dora", &got), DEPOT_OK);
    assert_string_equal(got.role, "viewer"); /* the first one kept */

    assert_int_equal(hub_store_user_get(f->s, "nobody", &got), DEPOT_ERR_NOTFOUND);
    u = user("nobody", "admin", "", "", 3000);
    assert_int_equal(hub_store_user_put(f->s, &u), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_user_get(f->s, "nobody", &got), DEPOT_ERR_NOTFOUND);
}

/* ---- sessions ---- */

static void test_session_RoleIsItsUsersAtEveryFind(void **state)
{
    struct fixture *f = *state;
    struct hub_user u = user("erin", "approver", "", "sales", 1000);
    struct hub_cred c = session(1, "erin", 1100, 90000), got;
    char unknown[HUB_CRED_HASH_HEX + 1];

    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    got = find(f->s, 1);
    assert_int_equal(got.kind, HUB_CRED_SESSION);
    assert_string_equal(got.name, "erin");
    assert_string_equal(got.role, "approver");
    assert_string_equal(got.dealer, "");
    assert_string_equal(got.stages, "sales");
    assert_string_equal(got.created_by, "erin");
    assert_int_equal(got.created_at, 1100);
    assert_int_equal(got.expires_at, 90000);
    assert_int_equal(got.revoked_at, 0);
    assert_false(got.disabled);

    /* the user changes: the session follows at once */
    u = user("erin", "dealer", "D3", "", 2000);
    assert_int_equal(hub_store_user_put(f->s, &u), DEPOT_OK);
    got = find(f->s, 1);
    assert_string_equal(got.role, "dealer");
    assert_string_equal(got.dealer, "D3");
    assert_string_equal(got.stages, "");
    assert_false(got.disabled);

    u.disabled = true;
    assert_int_equal(hub_store_user_put(f->s, &u), DEPOT_OK);
    got = find(f->s, 1);
    assert_true(got.disabled);
    assert_int_equal(got.revoked_at, 0); /* disabled, not revoked */

    u.disabled = false;
    assert_int_equal(hub_store_user_put(f->s, &u), DEPOT_OK);
    assert_false(find(f->s, 1).disabled);

    hash_of(99, unknown);
    assert_int_equal(hub_store_cred_find(f->s, unknown, &got), DEPOT_ERR_NOTFOUND);
}

static void test_session_OfAnUnknownUserIsDisabled(void **state)
{
    struct fixture *f = *state;
    struct hub_cred c = session(2, "ghost", 1000, 0), got;

    snprintf(c.role, sizeof(c.role), "admin"); /* what the row says does not count */
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    got = find(f->s, 2);
    assert_true(got.disabled);
    assert_string_equal(got.role, "");
    assert_string_equal(got.dealer, "");
    assert_string_equal(got.stages, "");
}

static void test_cred_add_KnownHashIsDuplicate(void **state)
{
    struct fixture *f = *state;
    struct hub_user u = user("fay", "viewer", "", "", 1000);
    struct hub_cred c = session(3, "fay", 1000, 50000);

    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_ERR_DUPLICATE);
    c = api_token(3, "ci", "viewer", "", "", 2000); /* another kind, the same hash */
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_ERR_DUPLICATE);
    assert_int_equal(find(f->s, 3).kind, HUB_CRED_SESSION);
}

/* ---- API tokens ---- */

static void test_api_OwnRoleOneLivePerName(void **state)
{
    struct fixture *f = *state;
    struct hub_user u = user("erp", "admin", "", "", 1000);
    struct hub_cred c = api_token(10, "erp", "approver", "", "finance", 2000), got;
    long long n = -1;

    /* a user of the same name, disabled, has nothing to do with the token */
    u.disabled = true;
    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    got = find(f->s, 10);
    assert_int_equal(got.kind, HUB_CRED_API);
    assert_string_equal(got.name, "erp");
    assert_string_equal(got.role, "approver");
    assert_string_equal(got.stages, "finance");
    assert_string_equal(got.created_by, "admin");
    assert_int_equal(got.expires_at, 0);
    assert_false(got.disabled);

    c = api_token(11, "dealer-feed", "dealer", "D9", "", 2100);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    got = find(f->s, 11);
    assert_string_equal(got.role, "dealer");
    assert_string_equal(got.dealer, "D9");

    /* a second live token of the name: refused; after its revocation: accepted */
    c = api_token(12, "erp", "viewer", "", "", 3000);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_ERR_DUPLICATE);
    assert_int_equal(hub_store_cred_find(f->s, c.hash, &got), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_API, "erp", NULL, 3500, &n), DEPOT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(find(f->s, 10).revoked_at, 3500);
    assert_int_equal(find(f->s, 11).revoked_at, 0);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    got = find(f->s, 12);
    assert_string_equal(got.role, "viewer");
    assert_int_equal(got.revoked_at, 0);
    /* and a third is refused again, however many revoked ones share the name */
    c = api_token(13, "erp", "viewer", "", "", 4000);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_ERR_DUPLICATE);

    /* revoking by name touches only the live one of that kind */
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_SESSION, "erp", NULL, 4500, &n),
                     DEPOT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_API, "erp", NULL, 5000, &n), DEPOT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(find(f->s, 10).revoked_at, 3500); /* its first revocation kept */
    assert_int_equal(find(f->s, 12).revoked_at, 5000);
}

/* ---- revocation ---- */

static void test_revoke_ByHashOnce(void **state)
{
    struct fixture *f = *state;
    struct hub_user u = user("gus", "viewer", "", "", 1000);
    struct hub_cred a = session(20, "gus", 1000, 100000), b = session(21, "gus", 1001, 100000);
    long long n = -1;

    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    assert_int_equal(hub_store_cred_add(f->s, &a), DEPOT_OK);
    assert_int_equal(hub_store_cred_add(f->s, &b), DEPOT_OK);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_SESSION, NULL, a.hash, 2000, &n),
                     DEPOT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(find(f->s, 20).revoked_at, 2000);
    assert_int_equal(find(f->s, 21).revoked_at, 0);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_SESSION, NULL, a.hash, 3000, &n),
                     DEPOT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(find(f->s, 20).revoked_at, 2000); /* not moved by the second */
    /* an unknown hash: nothing; n may be left out */
    hash_of(77, a.hash);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_SESSION, NULL, a.hash, 3000, &n),
                     DEPOT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_SESSION, NULL, b.hash, 3000, NULL),
                     DEPOT_OK);
    assert_int_equal(find(f->s, 21).revoked_at, 3000);
}

static void test_revoke_EverySessionOfAUser(void **state)
{
    struct fixture *f = *state;
    struct hub_user u = user("hal", "admin", "", "", 1000);
    struct hub_cred c;
    long long n = -1;

    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    u = user("ida", "viewer", "", "", 1000);
    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    for (int i = 0; i < 3; i++) {
        c = session(30 + i, "hal", 1000 + i, 100000);
        assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    }
    c = session(40, "ida", 1000, 100000);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    c = api_token(41, "hal", "viewer", "", "", 1000); /* an API token named like the user */
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    hash_of(30, c.hash);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_SESSION, NULL, c.hash, 1500, &n),
                     DEPOT_OK);
    assert_int_equal(n, 1);

    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_SESSION, "hal", NULL, 2000, &n),
                     DEPOT_OK);
    assert_int_equal(n, 2); /* the live ones */
    assert_int_equal(find(f->s, 30).revoked_at, 1500);
    assert_int_equal(find(f->s, 31).revoked_at, 2000);
    assert_int_equal(find(f->s, 32).revoked_at, 2000);
    assert_int_equal(find(f->s, 40).revoked_at, 0);
    assert_int_equal(find(f->s, 41).revoked_at, 0);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_SESSION, "hal", NULL, 3000, &n),
                     DEPOT_OK);
    assert_int_equal(n, 0);
}

/* ---- listing and purge ---- */

static void test_creds_list_ByKindRevokedToo(void **state)
{
    struct fixture *f = *state;
    struct hub_user u = user("jay", "viewer", "", "", 1000);
    struct hub_cred c;
    struct cred_list l;
    char hash[HUB_CRED_HASH_HEX + 1];
    long long n;

    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    c = session(50, "jay", 1000, 100000);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    c = api_token(51, "zeta", "viewer", "", "", 1000);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    c = api_token(52, "alpha", "admin", "", "", 3000);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_API, "alpha", NULL, 3500, &n), DEPOT_OK);
    c = api_token(53, "alpha", "approver", "", "sales", 4000);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);

    l = creds(f->s, HUB_CRED_API); /* by name, then creation */
    assert_int_equal(l.n, 3);
    hash_of(52, hash);
    assert_string_equal(l.c[0].hash, hash);
    assert_int_equal(l.c[0].revoked_at, 3500);
    assert_string_equal(l.c[0].role, "admin");
    assert_int_equal(l.c[0].kind, HUB_CRED_API);
    hash_of(53, hash);
    assert_string_equal(l.c[1].hash, hash);
    assert_int_equal(l.c[1].revoked_at, 0);
    assert_string_equal(l.c[1].stages, "sales");
    assert_int_equal(l.c[1].created_at, 4000);
    assert_string_equal(l.c[2].name, "zeta");

    l = creds(f->s, HUB_CRED_SESSION);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.c[0].name, "jay");
    assert_int_equal(l.c[0].kind, HUB_CRED_SESSION);
    assert_int_equal(l.c[0].expires_at, 100000);

    /* the callback stops the walk */
    memset(&l, 0, sizeof(l));
    l.stop_after = 1;
    assert_int_equal(hub_store_creds_list(f->s, HUB_CRED_API, on_cred, &l), DEPOT_OK);
    assert_int_equal(l.n, 1);
}

static void test_creds_purge_OnlyExpiredSessions(void **state)
{
    struct fixture *f = *state;
    struct hub_user u = user("kim", "viewer", "", "", 1000);
    struct hub_cred c;
    struct cred_list l;
    char hash[HUB_CRED_HASH_HEX + 1];
    long long n;

    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    c = session(60, "kim", 1000, 5000); /* expired before 10000: purged */
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    c = session(61, "kim", 1000, 6000); /* expired and revoked: purged */
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_SESSION, NULL, c.hash, 2000, &n),
                     DEPOT_OK);
    c = session(62, "kim", 1000, 10000); /* expires at the limit: kept */
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    c = session(63, "kim", 1000, 20000); /* not expired: kept */
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    c = session(64, "kim", 1000, 0); /* never expires: kept */
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    c = api_token(65, "old-api", "viewer", "", "", 1000); /* an API token: never purged */
    c.expires_at = 2000;
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    c = api_token(66, "gone-api", "viewer", "", "", 1000);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_API, "gone-api", NULL, 1500, &n),
                     DEPOT_OK);

    assert_int_equal(hub_store_creds_purge(f->s, 10000), DEPOT_OK);
    hash_of(60, hash);
    assert_int_equal(hub_store_cred_find(f->s, hash, &c), DEPOT_ERR_NOTFOUND);
    hash_of(61, hash);
    assert_int_equal(hub_store_cred_find(f->s, hash, &c), DEPOT_ERR_NOTFOUND);
    find(f->s, 62);
    find(f->s, 63);
    find(f->s, 64);
    find(f->s, 65);
    find(f->s, 66);
    l = creds(f->s, HUB_CRED_SESSION);
    assert_int_equal(l.n, 3);
    l = creds(f->s, HUB_CRED_API);
    assert_int_equal(l.n, 2);

    assert_int_equal(hub_store_creds_purge(f->s, 10000), DEPOT_OK); /* again: nothing */
    assert_int_equal(creds(f->s, HUB_CRED_SESSION).n, 3);
}

/* ---- two hubs on one database ---- */

static void test_two_stores_RevocationSeenAtOnce(void **state)
{
    struct fixture *f = *state;
    struct hub_user u = user("lee", "approver", "", "sales", 1000), got_u;
    struct hub_cred c = session(70, "lee", 1000, 100000), got;
    hub_store *other;
    long long n = -1;

    assert_int_equal(hub_store_open(f->location, &other), DEPOT_OK);
    assert_int_equal(hub_store_user_add(f->s, &u), DEPOT_OK);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    /* the other hub has its statements prepared before the change */
    got = find(other, 70);
    assert_int_equal(got.revoked_at, 0);
    assert_string_equal(got.role, "approver");
    assert_int_equal(hub_store_user_get(other, "lee", &got_u), DEPOT_OK);

    assert_int_equal(hub_store_cred_revoke(f->s, HUB_CRED_SESSION, NULL, c.hash, 2000, &n),
                     DEPOT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(find(other, 70).revoked_at, 2000);

    /* and the other way round: a user disabled on the other hub */
    c = session(71, "lee", 2500, 100000);
    assert_int_equal(hub_store_cred_add(f->s, &c), DEPOT_OK);
    assert_false(find(other, 71).disabled);
    u.disabled = true;
    u.updated_at = 3000;
    assert_int_equal(hub_store_user_put(other, &u), DEPOT_OK);
    assert_true(find(f->s, 71).disabled);
    hub_store_free(other);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_users_AddGetPutList),
        T(test_users_DuplicateAndUnknown),
        T(test_session_RoleIsItsUsersAtEveryFind),
        T(test_session_OfAnUnknownUserIsDisabled),
        T(test_cred_add_KnownHashIsDuplicate),
        T(test_api_OwnRoleOneLivePerName),
        T(test_revoke_ByHashOnce),
        T(test_revoke_EverySessionOfAUser),
        T(test_creds_list_ByKindRevokedToo),
        T(test_creds_purge_OnlyExpiredSessions),
        T(test_two_stores_RevocationSeenAtOnce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
