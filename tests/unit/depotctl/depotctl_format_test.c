/*
 * Unit tests of what depotctl makes of text and JSON without a hub: the
 * stock query and table, the catalog CSV reader (the JSON it would upload,
 * and every bad line named as FILE:LINE), the dealers set body, and the
 * shared JSON cells and column table of api.c. Files are read from memory
 * (fmemopen); printed text is caught and compared whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "ctl.h"
#include "ctl_test_util.h"
#include "dealers.h"
#include "stock.h"

static struct ctl_capture cap;

/* The JSON o unformatted, into a static buffer; o is deleted. */
static const char *json_text(cJSON *o)
{
    static char buf[4096];
    char *t = cJSON_PrintUnformatted(o);

    assert_non_null(t);
    snprintf(buf, sizeof(buf), "%s", t);
    cJSON_free(t);
    cJSON_Delete(o);
    return buf;
}

static void test_stock_path(void **state)
{
    char path[160];
    (void)state;
    ctl_stock_path(path, sizeof(path), NULL, NULL);
    assert_string_equal(path, "/api/v1/stock");
    ctl_stock_path(path, sizeof(path), "D001", NULL);
    assert_string_equal(path, "/api/v1/stock?dealer=D001");
    ctl_stock_path(path, sizeof(path), NULL, "S1");
    assert_string_equal(path, "/api/v1/stock?sku=S1");
    ctl_stock_path(path, sizeof(path), "D001", "S-1.a");
    assert_string_equal(path, "/api/v1/stock?dealer=D001&sku=S-1.a");
    ctl_stock_path(path, 20, "D001", "S1");
    assert_string_equal(path, "/api/v1/stock?deale");
}

static int print_stock(const char *json)
{
    cJSON *list = cJSON_Parse(json);
    int rc;

    assert_non_null(list);
    ctl_capture_begin(&cap);
    rc = ctl_stock_print(list);
    ctl_capture_end(&cap);
    cJSON_Delete(list);
    return rc;
}

static void test_stock_table(void **state)
{
    (void)state;
    assert_int_equal(print_stock("[{\"dealer\":\"D001\",\"sku\":\"S1\",\"qty\":12,\"node\":"
                                 "\"scale-a\",\"updated_at\":\"2026-11-27T08:40:01.123Z\","
                                 "\"age_s\":3,\"stale\":false},"
                                 "{\"dealer\":\"D002\",\"sku\":\"SKU-22\",\"qty\":140,\"node\":"
                                 "\"b\",\"updated_at\":\"2026-11-27T08:31:10.000Z\",\"age_s\":42,"
                                 "\"stale\":true,\"stale_reason\":\"gateway offline\"},"
                                 "{\"dealer\":\"D3\",\"sku\":\"S1\",\"qty\":0,\"node\":\"\","
                                 "\"updated_at\":\"\",\"age_s\":9.6,\"stale\":true}]"),
                     CTL_OK);
    assert_string_equal(cap.out,
                        "DEALER  SKU     QTY  NODE     UPDATED                   STATUS\n"
                        "D001    S1       12  scale-a  2026-11-27T08:40:01.123Z  live\n"
                        "D002    SKU-22  140  b        2026-11-27T08:31:10.000Z  stale 42s "
                        "(gateway offline)\n"
                        "D3      S1        0                                     stale 10s "
                        "(unknown)\n");
    assert_string_equal(cap.err, "");
    assert_int_equal(print_stock("[]"), CTL_OK);
    assert_string_equal(cap.out, "DEALER  SKU  QTY  NODE  UPDATED  STATUS\n");
}

static void test_stock_table_refuses_other_shapes(void **state)
{
    static const char *const bad[] = {
        "[{\"dealer\":\"D1\",\"sku\":\"S1\",\"qty\":\"12\",\"node\":\"n\",\"updated_at\":\"t\","
        "\"age_s\":1,\"stale\":false}]",
        "[{\"dealer\":\"D1\",\"sku\":\"S1\",\"qty\":12,\"updated_at\":\"t\",\"age_s\":1,"
        "\"stale\":false}]",
        "[{\"dealer\":\"D1\",\"sku\":\"S1\",\"qty\":12,\"node\":\"n\",\"updated_at\":\"t\","
        "\"age_s\":1,\"stale\":0}]",
        "[7]",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(print_stock(bad[i]), CTL_FAIL);
        assert_string_equal(cap.out, "");
        assert_string_equal(cap.err, "depotctl stock: the hub's reply has an unexpected shape\n");
    }
}

#define HEADER                                                                                     \
    "sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock"

/* ctl_catalog_read_csv of text as file f.csv: the JSON text, or NULL. */
static const char *read_catalog(const char *text)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    cJSON *list;

    assert_non_null(f);
    ctl_capture_begin(&cap);
    list = ctl_catalog_read_csv("f.csv", f);
    ctl_capture_end(&cap);
    fclose(f);
    return list ? json_text(list) : NULL;
}

static void test_catalog_csv_to_json(void **state)
{
    const char *json;
    (void)state;
    json =
        read_catalog(HEADER "\r\nS1,4006381333931,12.5,250,1,10,3,7,40\r\n\nS2,B-2,3,0,1,1,0,0,0");
    assert_non_null(json);
    assert_string_equal(json, "[{\"sku\":\"S1\",\"barcode\":\"4006381333931\",\"price\":12.50,"
                              "\"unit_weight_g\":250,\"min_qty\":1,\"max_qty\":10,"
                              "\"reorder_point\":3,\"lead_time_days\":7,\"max_stock\":40},"
                              "{\"sku\":\"S2\",\"barcode\":\"B-2\",\"price\":3.00,"
                              "\"unit_weight_g\":0,\"min_qty\":1,\"max_qty\":1,"
                              "\"reorder_point\":0,\"lead_time_days\":0,\"max_stock\":0}]");
    assert_string_equal(cap.err, "");
    assert_string_equal(read_catalog(HEADER "\n"), "[]");
}

static void test_catalog_csv_names_every_bad_line(void **state)
{
    (void)state;
    assert_null(read_catalog(HEADER "\n"
                                    "S1,B1,12.50,0,1,5,0,0,0\n"
                                    "S 1,B3,1,0,1,1,0,0,0\n"
                                    "S4,B4,1.999,0,1,1,0,0,0\n"
                                    "S5,B5,1,0,1,1,0,0\n"
                                    "S6,B6,1,0,5,2,0,0,0\n"
                                    "S7,B1,1,0,1,1,0,0,0\n"
                                    "S8,B8,1,0,0,1,0,0,0\n"
                                    "S9,B9,1,-1,1,1,0,0,0\n"));
    assert_string_equal(cap.err, "f.csv:3: sku \"S 1\" is not an id of [A-Za-z0-9_.-]\n"
                                 "f.csv:4: price \"1.999\" is not a decimal like 12.50\n"
                                 "f.csv:5: expected 9 comma-separated fields\n"
                                 "f.csv:6: max_qty 2 is below min_qty 5\n"
                                 "f.csv:7: sku or barcode already on line 2\n"
                                 "f.csv:8: min_qty \"0\" is not a whole number >= 1\n"
                                 "f.csv:9: unit_weight_g \"-1\" is not a whole number >= 0\n");
    assert_null(read_catalog("sku,price\nS1,B1,12.50,0,1,5,0,0,0\n"));
    assert_string_equal(cap.err, "f.csv:1: the header must be " HEADER "[,serial_prefix]\n");
    assert_null(read_catalog(""));
    assert_string_equal(cap.err, "f.csv: empty file (expected the header " HEADER ")\n");
}

/* ctl_dealers_set_body of a: the JSON text, or NULL. */
static const char *set_body(const struct ctl_dealer_set *a)
{
    cJSON *body;

    ctl_capture_begin(&cap);
    body = ctl_dealers_set_body(a);
    ctl_capture_end(&cap);
    return body ? json_text(body) : NULL;
}

static void test_dealers_set_body(void **state)
{
    struct ctl_dealer_set a = {.name = "North",
                               .end = "2027-01-31",
                               .lat = "1.5",
                               .credit = "5000",
                               .auto_limit = "250.5",
                               .sku_max = "S1=100,S2=0"};
    const struct ctl_dealer_set none = {0};
    (void)state;
    assert_string_equal(set_body(&a), "{\"name\":\"North\",\"contract_end\":\"2027-01-31\","
                                      "\"lat\":1.5,\"lon\":0,\"credit_limit\":5000.00,"
                                      "\"auto_approve_limit\":250.50,"
                                      "\"sku_max\":{\"S1\":100,\"S2\":0}}");
    assert_string_equal(cap.err, "");
    assert_string_equal(set_body(&none), "{}");
}

static void test_dealers_set_body_refusals(void **state)
{
    static const char *const bad_sku_max[] = {"S1=x", "S1=-1", "=5", "S1", "S 1=2", "S1=2,S2"};
    struct ctl_dealer_set a = {.credit = "5,000"};
    (void)state;
    assert_null(set_body(&a));
    assert_string_equal(cap.err, "depotctl dealers: --credit_limit must be a decimal such as "
                                 "5000.00, not '5,000'\n");
    a = (struct ctl_dealer_set){.auto_limit = "-1"};
    assert_null(set_body(&a));
    assert_string_equal(cap.err, "depotctl dealers: --auto_approve_limit must be a decimal such "
                                 "as 5000.00, not '-1'\n");
    for (size_t i = 0; i < sizeof(bad_sku_max) / sizeof(bad_sku_max[0]); i++) {
        a = (struct ctl_dealer_set){.name = "N", .sku_max = bad_sku_max[i]};
        assert_null(set_body(&a));
        assert_string_equal(cap.err, "depotctl dealers: --sku-max takes SKU=N[,SKU=N...]\n");
    }
}

static void test_json_cells(void **state)
{
    cJSON *o = cJSON_Parse("{\"s\":\"text\",\"n\":12,\"f\":1.5,\"b\":true,\"z\":null}");
    char buf[16];
    (void)state;
    assert_non_null(o);
    cJSON_AddItemToObject(o, "raw", cJSON_CreateRaw("12.50"));
    assert_string_equal(ctl_json_str(o, "s"), "text");
    assert_string_equal(ctl_json_str(o, "n"), "");
    assert_string_equal(ctl_json_str(o, "missing"), "");
    ctl_json_num(o, "n", buf, sizeof(buf));
    assert_string_equal(buf, "12");
    ctl_json_num(o, "f", buf, sizeof(buf));
    assert_string_equal(buf, "1.5");
    ctl_json_num(o, "b", buf, sizeof(buf));
    assert_string_equal(buf, "true");
    ctl_json_num(o, "raw", buf, sizeof(buf));
    assert_string_equal(buf, "12.50");
    ctl_json_num(o, "s", buf, sizeof(buf));
    assert_string_equal(buf, "");
    ctl_json_num(o, "z", buf, sizeof(buf));
    assert_string_equal(buf, "");
    cJSON_Delete(o);
}

static void test_print_table(void **state)
{
    char rows[3][8][64] = {{"id", "name", "x"}, {"1", "alpha", "last"}, {"22", "b", ""}};
    (void)state;
    ctl_capture_begin(&cap);
    ctl_print_table(rows, 3, 3);
    ctl_capture_end(&cap);
    assert_string_equal(cap.out, "id  name   x\n"
                                 "1   alpha  last\n"
                                 "22  b      \n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stock_path),
        cmocka_unit_test(test_stock_table),
        cmocka_unit_test(test_stock_table_refuses_other_shapes),
        cmocka_unit_test(test_catalog_csv_to_json),
        cmocka_unit_test(test_catalog_csv_names_every_bad_line),
        cmocka_unit_test(test_dealers_set_body),
        cmocka_unit_test(test_dealers_set_body_refusals),
        cmocka_unit_test(test_json_cells),
        cmocka_unit_test(test_print_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
