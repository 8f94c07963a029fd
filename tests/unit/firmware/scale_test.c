/*
 * Unit tests of firmware/scale.c against a fake HAL: a settable load cell, a
 * settable clock and a config "flash" in memory. Covers the arithmetic
 * (net, tare, filter), the status bits (stable, overload, fault), the boot
 * epoch, and the register map through the mb_slave PDU handler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_hal.h"
#include "scale.h"

static struct depot_hal_ctx board;
static depot_hal hal;
static scale sc;
static mb_slave slave;
static uint8_t rsp[MB_PDU_MAX];

static int setup(void **state)
{
    (void)state;
    fake_board(&board, &hal);
    scale_init(&sc, &hal, 0);
    mb_slave_init(&slave, sc.cfg.unit_id, &scale_modbus_ops, &sc);
    return 0;
}

static void samples(int n)
{
    for (int i = 0; i < n; i++) {
        board.ms += SCALE_SAMPLE_PERIOD_MS;
        scale_sample(&sc);
    }
}

static size_t pdu(const uint8_t *req, size_t len)
{
    return mb_slave_pdu(&slave, req, len, rsp, sizeof(rsp));
}

static uint16_t reg(size_t i)
{
    return (uint16_t)((rsp[2 + 2 * i] << 8) | rsp[3 + 2 * i]);
}

static void test_scale_init_DefaultsAndBootEpoch(void **state)
{
    (void)state;
    assert_int_equal(sc.cfg.unit_id, SCALE_DEFAULT_UNIT);
    assert_int_equal(sc.cfg.filter, SCALE_DEFAULT_FILTER);
    assert_int_equal(sc.cfg.boot_epoch, 1);
    assert_int_equal(board.flash.boot_epoch, 1);
    scale_init(&sc, &hal, 0);
    assert_int_equal(sc.cfg.boot_epoch, 2);
}

static void test_scale_init_UnitOverridesConfig(void **state)
{
    (void)state;
    board.flash.unit_id = 9;
    scale_init(&sc, &hal, 0);
    assert_int_equal(sc.cfg.unit_id, 9);
    scale_init(&sc, &hal, 12);
    assert_int_equal(sc.cfg.unit_id, 12);
    assert_int_equal(board.flash.unit_id, 12);
}

static void test_scale_init_BadConfigSanitized(void **state)
{
    (void)state;
    board.flash.unit_id = 0;
    board.flash.filter = 200;
    scale_init(&sc, &hal, 0);
    assert_int_equal(sc.cfg.unit_id, SCALE_DEFAULT_UNIT);
    assert_int_equal(sc.cfg.filter, SCALE_DEFAULT_FILTER);
}

static void test_scale_sample_NetIsGrossMinusTare(void **state)
{
    (void)state;
    board.grams = 1500;
    samples(10);
    assert_int_equal(sc.gross_g, 1500);
    assert_int_equal(scale_net_g(&sc), 1500);
    sc.cfg.tare_g = 200;
    assert_int_equal(scale_net_g(&sc), 1300);
    board.grams = 100;
    samples(10);
    assert_int_equal(scale_net_g(&sc), -100);
}

static void test_scale_command_TareAndClear(void **state)
{
    (void)state;
    board.grams = 350;
    samples(10);
    int saves = board.saves;
    assert_int_equal(scale_command(&sc, DEPOT_CMD_TARE), MB_EX_NONE);
    assert_int_equal(sc.cfg.tare_g, 350);
    assert_int_equal(scale_net_g(&sc), 0);
    assert_int_equal(board.flash.tare_g, 350);
    assert_true(board.saves > saves);
    board.grams = 1350;
    samples(10);
    assert_int_equal(scale_net_g(&sc), 1000);
    assert_int_equal(scale_command(&sc, DEPOT_CMD_CLEAR_TARE), MB_EX_NONE);
    assert_int_equal(scale_net_g(&sc), 1350);
    assert_int_equal(scale_command(&sc, 7), MB_EX_ILLEGAL_VALUE);
}

static void test_scale_sample_FilterAverages(void **state)
{
    (void)state;
    board.grams = 1000;
    scale_sample(&sc); /* ring: 1000 */
    board.grams = 0;
    scale_sample(&sc); /* ring: 1000 0 -> 500 */
    assert_int_equal(sc.gross_g, 500);
    samples(SCALE_DEFAULT_FILTER);
    assert_int_equal(sc.gross_g, 0);
}

static void test_scale_sample_StableAfterSettling(void **state)
{
    (void)state;
    board.grams = 2000;
    samples(1);
    assert_false(sc.status & DEPOT_STATUS_STABLE);
    samples(SCALE_DEFAULT_FILTER + SCALE_STABLE_SAMPLES);
    assert_true(sc.status & DEPOT_STATUS_STABLE);
    assert_int_equal(sc.samples, 1 + SCALE_DEFAULT_FILTER + SCALE_STABLE_SAMPLES);
}

static void test_scale_sample_UnstableWhileChanging(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        board.grams = i * 10; /* goods being loaded */
        samples(1);
        assert_false(sc.status & DEPOT_STATUS_STABLE);
    }
}

static void test_scale_sample_StableWithinBand(void **state)
{
    (void)state;
    sc.cfg.filter = 1;
    for (int i = 0; i < 10; i++) {
        board.grams = 500 + (i % 2) * SCALE_STABLE_BAND_G;
        samples(1);
    }
    assert_true(sc.status & DEPOT_STATUS_STABLE);
}

static void test_scale_sample_Overload(void **state)
{
    (void)state;
    board.grams = DEPOT_SCALE_CAPACITY_G + 1;
    samples(20);
    assert_int_equal(sc.status, DEPOT_STATUS_OVERLOAD);
    board.grams = DEPOT_SCALE_CAPACITY_G;
    samples(20);
    assert_int_equal(sc.status, DEPOT_STATUS_STABLE);
}

static void test_scale_sample_CellFault(void **state)
{
    (void)state;
    board.grams = 10;
    samples(20);
    uint32_t count = sc.samples;
    board.cell_fault = 1;
    samples(3);
    assert_int_equal(sc.status, DEPOT_STATUS_FAULT);
    assert_int_equal(sc.samples, count);
    board.cell_fault = 0;
    samples(1);
    assert_int_equal(sc.status & DEPOT_STATUS_FAULT, 0);
}

static void assert_same_scale(const scale *a, const scale *b)
{
    assert_memory_equal(a->readings, b->readings, sizeof(a->readings));
    assert_int_equal(a->readings_head, b->readings_head);
    assert_int_equal(a->readings_count, b->readings_count);
    assert_memory_equal(a->history, b->history, sizeof(a->history));
    assert_int_equal(a->history_head, b->history_head);
    assert_int_equal(a->history_count, b->history_count);
    assert_int_equal(a->gross_g, b->gross_g);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->samples, b->samples);
}

/* scale_sample_steady(n) against n scale_sample() calls, from a scale that was
 * settling on another weight, for every filter length, several counts, a good
 * and a failing cell, and a reading over capacity. */
static void test_scale_sample_steady_SameAsEverySample(void **state)
{
    (void)state;
    enum { SETTLE = DEPOT_FILTER_MAX + SCALE_STABLE_SAMPLES };
    static const uint32_t counts[] = {
        0,      1,          2,   5,     DEPOT_FILTER_MAX - 1, DEPOT_FILTER_MAX, SETTLE - 1,
        SETTLE, SETTLE + 1, 257, 12345,
    };
    static const int32_t grams[] = {1500, DEPOT_SCALE_CAPACITY_G + 7};
    for (uint8_t filter = DEPOT_FILTER_MIN; filter <= DEPOT_FILTER_MAX; filter++) {
        for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
            for (int variant = 0; variant < 3; variant++) {
                board.cell_fault = 0;
                scale_init(&sc, &hal, 0);
                sc.cfg.filter = filter;
                board.grams = 100;
                for (int i = 0; i < 3; i++) /* rings part full, on another weight */
                    scale_sample(&sc);
                board.grams = variant == 2 ? 0 : grams[variant];
                board.cell_fault = variant == 2;
                scale every = sc;
                for (uint32_t i = 0; i < counts[c]; i++)
                    scale_sample(&every);
                scale_sample_steady(&sc, counts[c]);
                assert_same_scale(&sc, &every);
                board.cell_fault = 0; /* and both go on alike */
                board.grams = 40;
                scale_sample(&sc);
                scale_sample(&every);
                assert_same_scale(&sc, &every);
            }
        }
    }
}

static void test_scale_read_input_Block(void **state)
{
    (void)state;
    board.grams = 100;
    samples(10);
    sc.cfg.tare_g = 300; /* net -200 */
    board.ms += 61000;
    static const uint8_t req[] = {0x04, 0x00, 0x00, 0x00, DEPOT_IR_SCALE_COUNT};
    assert_int_equal(pdu(req, sizeof(req)), 2 + 2 * DEPOT_IR_SCALE_COUNT);
    assert_int_equal(reg(DEPOT_IR_KIND), DEPOT_KIND_SCALE);
    assert_int_equal(reg(DEPOT_IR_MAP_VERSION), DEPOT_MAP_VERSION);
    assert_int_equal((int32_t)DEPOT_U32_JOIN(reg(DEPOT_IR_NET_G), reg(DEPOT_IR_NET_G + 1)), -200);
    assert_int_equal(reg(DEPOT_IR_STATUS), DEPOT_STATUS_STABLE);
    assert_int_equal(DEPOT_U32_JOIN(reg(DEPOT_IR_SAMPLES), reg(DEPOT_IR_SAMPLES + 1)), 10);
    assert_int_equal(DEPOT_U32_JOIN(reg(DEPOT_IR_GROSS_G), reg(DEPOT_IR_GROSS_G + 1)), 100);
    assert_int_equal(DEPOT_U32_JOIN(reg(DEPOT_IR_TARE_G), reg(DEPOT_IR_TARE_G + 1)), 300);
    assert_int_equal(DEPOT_U32_JOIN(reg(DEPOT_IR_UPTIME_S), reg(DEPOT_IR_UPTIME_S + 1)), 61);
    assert_int_equal(reg(DEPOT_IR_BOOT_EPOCH), 1);
    assert_int_equal(reg(DEPOT_IR_FW_VERSION), SCALE_FW_VERSION);
    assert_int_equal(reg(29), 0);
}

static void test_scale_read_input_OutsideBlock(void **state)
{
    (void)state;
    static const uint8_t past[] = {0x04, 0x00, 29, 0x00, 2};
    assert_int_equal(pdu(past, sizeof(past)), 2);
    assert_int_equal(rsp[1], MB_EX_ILLEGAL_ADDRESS);
    static const uint8_t scanner[] = {0x04, 0x00, DEPOT_IR_SCANNER_BASE, 0x00, 1};
    assert_int_equal(pdu(scanner, sizeof(scanner)), 2);
    assert_int_equal(rsp[1], MB_EX_ILLEGAL_ADDRESS);
}

static void test_scale_write_holding_UnitWeightAndFilter(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x10, 0x00, 0x01, 0x00, 0x03, 0x06,
                                  0x00, 0x01, 0x86, 0xA0, 0x00, 0x08};
    assert_int_equal(pdu(req, sizeof(req)), 5);
    assert_int_equal(sc.cfg.unit_mg, 100000);
    assert_int_equal(sc.cfg.filter, 8);
    assert_int_equal(board.flash.unit_mg, 100000);
    static const uint8_t read[] = {0x03, 0x00, 0x00, 0x00, DEPOT_HR_SCALE_COUNT};
    assert_int_equal(pdu(read, sizeof(read)), 2 + 2 * DEPOT_HR_SCALE_COUNT);
    assert_int_equal(reg(DEPOT_HR_COMMAND), 0);
    assert_int_equal(DEPOT_U32_JOIN(reg(DEPOT_HR_UNIT_MG), reg(DEPOT_HR_UNIT_MG + 1)), 100000);
    assert_int_equal(reg(DEPOT_HR_FILTER), 8);
}

static void test_scale_write_holding_IllegalValues(void **state)
{
    (void)state;
    uint8_t filter[] = {0x06, 0x00, DEPOT_HR_FILTER, 0x00, 0x00};
    assert_int_equal(pdu(filter, sizeof(filter)), 2);
    assert_int_equal(rsp[1], MB_EX_ILLEGAL_VALUE);
    filter[4] = DEPOT_FILTER_MAX + 1;
    assert_int_equal(pdu(filter, sizeof(filter)), 2);
    assert_int_equal(rsp[1], MB_EX_ILLEGAL_VALUE);
    static const uint8_t cmd[] = {0x06, 0x00, DEPOT_HR_COMMAND, 0x00, 0x09};
    assert_int_equal(pdu(cmd, sizeof(cmd)), 2);
    assert_int_equal(rsp[1], MB_EX_ILLEGAL_VALUE);
    static const uint8_t addr[] = {0x06, 0x00, DEPOT_HR_SCALE_COUNT, 0x00, 0x01};
    assert_int_equal(pdu(addr, sizeof(addr)), 2);
    assert_int_equal(rsp[1], MB_EX_ILLEGAL_ADDRESS);
    /* A bad filter in a multiple write applies nothing, not even the unit weight. */
    static const uint8_t multi[] = {0x10, 0x00, 0x01, 0x00, 0x03, 0x06, 0, 0, 0, 5, 0, 0};
    assert_int_equal(pdu(multi, sizeof(multi)), 2);
    assert_int_equal(sc.cfg.unit_mg, 0);
}

static void test_scale_write_holding_TareCommand(void **state)
{
    (void)state;
    board.grams = 777;
    samples(10);
    static const uint8_t tare[] = {0x06, 0x00, DEPOT_HR_COMMAND, 0x00, DEPOT_CMD_TARE};
    assert_int_equal(pdu(tare, sizeof(tare)), 5);
    assert_int_equal(sc.cfg.tare_g, 777);
    assert_int_equal(scale_net_g(&sc), 0);
}

static void test_scale_report_id_Identification(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x11};
    size_t n = pdu(req, sizeof(req));
    static const char ident[] = "DEPOT scale 1.0";
    assert_int_equal(n, 2 + 2 + strlen(ident));
    assert_int_equal(rsp[2], DEPOT_KIND_SCALE);
    assert_int_equal(rsp[3], 0xFF);
    assert_memory_equal(rsp + 4, ident, strlen(ident));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(test_scale_init_DefaultsAndBootEpoch),
        T(test_scale_init_UnitOverridesConfig),
        T(test_scale_init_BadConfigSanitized),
        T(test_scale_sample_NetIsGrossMinusTare),
        T(test_scale_command_TareAndClear),
        T(test_scale_sample_FilterAverages),
        T(test_scale_sample_StableAfterSettling),
        T(test_scale_sample_UnstableWhileChanging),
        T(test_scale_sample_StableWithinBand),
        T(test_scale_sample_Overload),
        T(test_scale_sample_CellFault),
        T(test_scale_sample_steady_SameAsEverySample),
        T(test_scale_read_input_Block),
        T(test_scale_read_input_OutsideBlock),
        T(test_scale_write_holding_UnitWeightAndFilter),
        T(test_scale_write_holding_IllegalValues),
        T(test_scale_write_holding_TareCommand),
        T(test_scale_report_id_Identification),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
