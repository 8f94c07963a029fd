/* hub_auth: bearer tokens and role order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth.h"

static struct hub_config cfg;

static int setup(void **state)
{
    (void)state;
    hub_config_defaults(&cfg);
    cfg.n_tokens = 2;
    cfg.tokens[0] =
        (struct hub_token){.name = "view", .role = HUB_ROLE_VIEWER, .token = "viewer-token-0000"};
    cfg.tokens[1] =
        (struct hub_token){.name = "boss", .role = HUB_ROLE_ADMIN, .token = "admin-token-00000"};
    return 0;
}

static void test_hub_auth_check_MissingHeaderIsAuth(void **state)
{
    (void)state;
    assert_int_equal(hub_auth_check(&cfg, NULL, HUB_ROLE_VIEWER, NULL), DEPOT_ERR_AUTH);
    assert_int_equal(hub_auth_check(&cfg, "Basic abc", HUB_ROLE_VIEWER, NULL), DEPOT_ERR_AUTH);
    assert_int_equal(hub_auth_check(&cfg, "Bearer ", HUB_ROLE_VIEWER, NULL), DEPOT_ERR_AUTH);
}

static void test_hub_auth_check_UnknownOrPrefixTokenIsAuth(void **state)
{
    (void)state;
    assert_int_equal(hub_auth_check(&cfg, "Bearer nope", HUB_ROLE_VIEWER, NULL), DEPOT_ERR_AUTH);
    assert_int_equal(hub_auth_check(&cfg, "Bearer viewer-token-000", HUB_ROLE_VIEWER, NULL),
                     DEPOT_ERR_AUTH);
    assert_int_equal(hub_auth_check(&cfg, "Bearer viewer-token-00000", HUB_ROLE_VIEWER, NULL),
                     DEPOT_ERR_AUTH);
}

static void test_hub_auth_check_RoleTooLowIsForbidden(void **state)
{
    (void)state;
    assert_int_equal(hub_auth_check(&cfg, "Bearer viewer-token-0000", HUB_ROLE_APPROVER, NULL),
                     DEPOT_ERR_FORBIDDEN);
}

static void test_hub_auth_check_HigherRoleAllowed(void **state)
{
    const char *who = NULL;
    (void)state;
    assert_int_equal(hub_auth_check(&cfg, "bearer admin-token-00000", HUB_ROLE_VIEWER, &who),
                     DEPOT_OK);
    assert_string_equal(who, "boss");
    assert_int_equal(hub_auth_check(&cfg, "Bearer viewer-token-0000", HUB_ROLE_VIEWER, NULL),
                     DEPOT_OK);
}

static void test_hub_role_from_name_Names(void **state)
{
    (void)state;
    assert_int_equal(hub_role_from_name("approver"), HUB_ROLE_APPROVER);
    assert_int_equal(hub_role_from_name("Admin"), HUB_ROLE_NONE);
    assert_string_equal(hub_role_name(HUB_ROLE_VIEWER), "viewer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_auth_check_MissingHeaderIsAuth),
        cmocka_unit_test(test_hub_auth_check_UnknownOrPrefixTokenIsAuth),
        cmocka_unit_test(test_hub_auth_check_RoleTooLowIsForbidden),
        cmocka_unit_test(test_hub_auth_check_HigherRoleAllowed),
        cmocka_unit_test(test_hub_role_from_name_Names),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
