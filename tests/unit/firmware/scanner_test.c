/*
 * Unit tests of firmware/scanner.c against a fake HAL: a settable clock, a
 * config "flash" and a FIFO "flash" in memory, and a display that records
 * what it was told. Covers the FIFO (order, acknowledgements, refusals),
 * barcode checks, the display registers, reboots and persistence, all
 * through the mb_slave PDU handler as the gateway would see them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_hal.h"
#include "scanner.h"

#define CAP 4

static struct depot_hal_ctx board;
static depot_hal hal;
static scanner sc;
static depot_scan_event slots[CAP];
static mb_slave slave;
static uint8_t rsp[MB_PDU_MAX];

static void boot_scanner(void)
{
    assert_int_equal(scanner_init(&sc, &hal, 0, slots, CAP), SCANNER_OK);
    mb_slave_init(&slave, sc.cfg.unit_id, &scanner_modbus_ops, &sc);
}

static int setup(void **state)
{
    (void)state;
    fake_board(&board, &hal);
    boot_scanner();
    return 0;
}

/* ---- Modbus helpers ------------------------------------------------------ */

static size_t read_regs(uint8_t fc, uint16_t addr, uint16_t n, uint16_t *out)
{
    uint8_t req[5] = {fc, (uint8_t)(addr >> 8), (uint8_t)addr, (uint8_t)(n >> 8), (uint8_t)n};
    size_t len = mb_slave_pdu(&slave, req, sizeof(req), rsp, sizeof(rsp));
    if (len >= 2 && rsp[0] == fc)
        for (uint16_t i = 0; i < n; i++)
            out[i] = (uint16_t)(rsp[2 + 2 * i] << 8 | rsp[3 + 2 * i]);
    return len;
}

/* FC 16; returns 0 or the exception code. */
static uint8_t write_regs(uint16_t addr, uint16_t n, const uint16_t *values)
{
    uint8_t req[6 + 2 * MB_WRITE_QTY_MAX] = {
        MB_FC_WRITE_MULTIPLE, (uint8_t)(addr >> 8), (uint8_t)addr, 0, (uint8_t)n, (uint8_t)(2 * n)};
    for (uint16_t i = 0; i < n; i++) {
        req[6 + 2 * i] = (uint8_t)(values[i] >> 8);
        req[7 + 2 * i] = (uint8_t)values[i];
    }
    size_t len = mb_slave_pdu(&slave, req, 6u + 2u * n, rsp, sizeof(rsp));
    assert_true(len >= 2);
    return rsp[0] & 0x80u ? rsp[1] : 0;
}

typedef struct head_view {
    uint16_t count, capacity, flags, epoch, type, len;
    uint32_t refused, seq;
    int32_t qty;
    char barcode[DEPOT_BARCODE_MAX + 1];
} head_view;

/* The scanner block in ONE FC 04, as the gateway reads it. */
static head_view read_head(void)
{
    uint16_t r[30];
    head_view h = {0};
    assert_int_equal(read_regs(MB_FC_READ_INPUT, DEPOT_IR_SCAN_COUNT, 30, r), 2 + 60);
    h.count = r[0];
    h.capacity = r[1];
    h.flags = r[2];
    h.refused = (uint32_t)DEPOT_U32_JOIN(r[3], r[4]);
    const uint16_t *e = r + (DEPOT_IR_SCAN_HEAD - DEPOT_IR_SCAN_COUNT);
    h.epoch = e[DEPOT_SCAN_OFF_EPOCH];
    h.seq = (uint32_t)DEPOT_U32_JOIN(e[DEPOT_SCAN_OFF_SEQ], e[DEPOT_SCAN_OFF_SEQ + 1]);
    h.type = e[DEPOT_SCAN_OFF_TYPE];
    h.qty = (int32_t)DEPOT_U32_JOIN(e[DEPOT_SCAN_OFF_QTY], e[DEPOT_SCAN_OFF_QTY + 1]);
    h.len = e[DEPOT_SCAN_OFF_LEN];
    for (int i = 0; i < DEPOT_BARCODE_MAX; i++)
        h.barcode[i] = (char)(i % 2 ? e[DEPOT_SCAN_OFF_BARCODE + i / 2] & 0xFF
                                    : e[DEPOT_SCAN_OFF_BARCODE + i / 2] >> 8);
    return h;
}

static uint8_t ack(uint16_t epoch, uint32_t seq)
{
    uint16_t v[3] = {epoch, DEPOT_U32_HI(seq), DEPOT_U32_LO(seq)};
    return write_regs(DEPOT_HR_SCAN_ACK, 3, v);
}

static uint32_t scan_ok(uint8_t type, const char *code, int32_t qty)
{
    uint32_t seq = 0;
    assert_int_equal(scanner_scan(&sc, type, code, qty, &seq), SCANNER_OK);
    return seq;
}

/* ---- FIFO ------------------------------------------------------------------ */

static void test_scanner_scan_PushAckOrder(void **state)
{
    (void)state;
    assert_int_equal(scan_ok(DEPOT_SCAN_RECEIVE, "4006381333931", 3), 1);
    assert_int_equal(scan_ok(DEPOT_SCAN_PICK, "A-1", 2), 2);
    assert_int_equal(scan_ok(DEPOT_SCAN_SUBMIT, "", 0), 3);
    head_view h = read_head();
    assert_int_equal(h.count, 3);
    assert_int_equal(h.capacity, CAP);
    assert_int_equal(h.epoch, 1);
    assert_int_equal(h.seq, 1);
    assert_int_equal(h.type, DEPOT_SCAN_RECEIVE);
    assert_int_equal(h.qty, 3);
    assert_int_equal(h.len, 13);
    assert_string_equal(h.barcode, "4006381333931");
    assert_int_equal(ack(1, 1), 0);
    h = read_head();
    assert_int_equal(h.seq, 2);
    assert_string_equal(h.barcode, "A-1");
    assert_int_equal(ack(1, 2), 0);
    h = read_head();
    assert_int_equal(h.type, DEPOT_SCAN_SUBMIT);
    assert_int_equal(h.len, 0);
    assert_int_equal(ack(1, 3), 0);
    h = read_head();
    assert_int_equal(h.count, 0);
    assert_int_equal(h.epoch, 0); /* empty */
    uint16_t r[3];
    read_regs(MB_FC_READ_HOLDING, DEPOT_HR_SCAN_ACK, 3, r);
    assert_int_equal(r[0], 1);
    assert_int_equal(DEPOT_U32_JOIN(r[1], r[2]), 3);
}

static void test_scanner_ack_WrongPairRefused(void **state)
{
    (void)state;
    scan_ok(DEPOT_SCAN_LINE, "X", 1);
    scan_ok(DEPOT_SCAN_LINE, "Y", 1);
    int saves = board.fifo_saves;
    assert_int_equal(ack(1, 2), MB_EX_ILLEGAL_VALUE); /* not the head */
    assert_int_equal(ack(2, 1), MB_EX_ILLEGAL_VALUE); /* wrong epoch */
    assert_int_equal(ack(0, 0), MB_EX_ILLEGAL_VALUE);
    uint16_t half[2] = {1, 0};
    assert_int_equal(write_regs(DEPOT_HR_SCAN_ACK, 2, half), MB_EX_ILLEGAL_VALUE);
    assert_int_equal(board.fifo_saves, saves);
    head_view h = read_head();
    assert_int_equal(h.count, 2);
    assert_int_equal(h.seq, 1);
    scanner_ack(&sc, 1, 1);
    scanner_ack(&sc, 1, 2);
    assert_int_equal(ack(1, 2), MB_EX_ILLEGAL_VALUE); /* empty: nothing to acknowledge */
}

static void test_scanner_scan_ConfirmHasNoQtyAndAnOptionalCode(void **state)
{
    (void)state;
    assert_int_equal(scan_ok(DEPOT_SCAN_CONFIRM, "", 0), 1);    /* the keypad's OK */
    assert_int_equal(scan_ok(DEPOT_SCAN_CONFIRM, "P17", 0), 2); /* a scanned sign code */
    uint32_t seq;
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_CONFIRM, "", 1, &seq), SCANNER_E_QTY);
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_CONFIRM + 1, "", 0, &seq), SCANNER_E_TYPE);
    head_view h = read_head();
    assert_int_equal(h.type, DEPOT_SCAN_CONFIRM);
    assert_int_equal(h.count, 2);
}

static void test_scanner_head_ReadIsIdempotent(void **state)
{
    (void)state;
    scan_ok(DEPOT_SCAN_COUNT, "SKU9", 0);
    scan_ok(DEPOT_SCAN_COUNT, "SKU8", 7);
    head_view a = read_head(), b = read_head();
    assert_memory_equal(&a, &b, sizeof(a));
    assert_string_equal(a.barcode, "SKU9");
    assert_int_equal(a.count, 2);
}

static void test_scanner_scan_FullRefusesAndKeepsAll(void **state)
{
    (void)state;
    for (int i = 0; i < CAP; i++)
        assert_int_equal(scan_ok(DEPOT_SCAN_RECEIVE, "B", i + 1), (uint32_t)i + 1);
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_RECEIVE, "C", 1, NULL), SCANNER_E_FULL);
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_SUBMIT, "", 0, NULL), SCANNER_E_FULL);
    head_view h = read_head();
    assert_int_equal(h.count, CAP);
    assert_int_equal(h.flags, DEPOT_SCAN_FLAG_FULL);
    assert_int_equal(h.refused, 2);
    assert_int_equal(board.shown_code, DEPOT_DISPLAY_ERROR);
    assert_string_equal(board.shown_text, "FIFO FULL");
    for (int i = 0; i < CAP; i++) { /* all accepted ones still there, in order */
        h = read_head();
        assert_int_equal(h.seq, i + 1);
        assert_int_equal(h.qty, i + 1);
        assert_int_equal(ack(1, (uint32_t)i + 1), 0);
        assert_int_equal(read_head().flags, 0);
    }
    assert_int_equal(scan_ok(DEPOT_SCAN_RECEIVE, "C", 1), CAP + 1); /* ring wrapped */
    assert_string_equal(read_head().barcode, "C");
}

static void test_scanner_scan_BarcodeValidation(void **state)
{
    (void)state;
    char longest[DEPOT_BARCODE_MAX + 2];
    memset(longest, 'Z', sizeof(longest));
    longest[DEPOT_BARCODE_MAX] = '\0';
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_LINE, longest, 1, NULL), SCANNER_OK);
    assert_int_equal(read_head().len, DEPOT_BARCODE_MAX);
    longest[DEPOT_BARCODE_MAX] = 'Z';
    longest[DEPOT_BARCODE_MAX + 1] = '\0';
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_LINE, longest, 1, NULL), SCANNER_E_BARCODE);
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_LINE, "", 1, NULL), SCANNER_E_BARCODE);
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_LINE, "AB\tC", 1, NULL), SCANNER_E_BARCODE);
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_LINE, "\xc3\xa9", 1, NULL), SCANNER_E_BARCODE);
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_SUBMIT, "X", 0, NULL), SCANNER_E_BARCODE);
    assert_int_equal(scanner_scan(&sc, 9, "X", 1, NULL), SCANNER_E_TYPE);
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_PICK, "X", 0, NULL), SCANNER_E_QTY);
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_COUNT, "X", -1, NULL), SCANNER_E_QTY);
    assert_int_equal(scanner_scan(&sc, DEPOT_SCAN_LINE, "with space ~", 1, NULL), SCANNER_OK);
    assert_int_equal(read_head().count, 2);
    assert_int_equal(read_head().refused, 0);
}

/* ---- Display ------------------------------------------------------------- */

static void display_regs(uint16_t code, const char *text, uint16_t *v)
{
    char buf[DEPOT_DISPLAY_TEXT_MAX] = {0};
    memcpy(buf, text, strlen(text));
    v[0] = code;
    for (int i = 0; i < DEPOT_DISPLAY_TEXT_MAX / 2; i++)
        v[1 + i] = (uint16_t)((uint8_t)buf[2 * i] << 8 | (uint8_t)buf[2 * i + 1]);
}

static void test_scanner_display_RoundTrip(void **state)
{
    (void)state;
    uint16_t v[21], back[21];
    display_regs(DEPOT_DISPLAY_OK, "ORDER 17 APPROVED", v);
    assert_int_equal(write_regs(DEPOT_HR_DISPLAY_CODE, 21, v), 0);
    assert_int_equal(read_regs(MB_FC_READ_HOLDING, DEPOT_HR_DISPLAY_CODE, 21, back), 2 + 42);
    assert_memory_equal(v, back, sizeof(v));
    assert_int_equal(board.shown_code, DEPOT_DISPLAY_OK);
    assert_string_equal(board.shown_text, "ORDER 17 APPROVED");
    display_regs(DEPOT_DISPLAY_INFO, "0123456789012345678901234567890123456789", v);
    assert_int_equal(write_regs(DEPOT_HR_DISPLAY_CODE, 21, v), 0);
    assert_int_equal(strlen(board.shown_text), DEPOT_DISPLAY_TEXT_MAX);
}

static void test_scanner_display_BadWritesRefused(void **state)
{
    (void)state;
    uint16_t v[21];
    display_regs(DEPOT_DISPLAY_OK, "OK", v);
    assert_int_equal(write_regs(DEPOT_HR_DISPLAY_CODE, 21, v), 0);
    int writes = board.display_writes;
    display_regs(99, "X", v);
    assert_int_equal(write_regs(DEPOT_HR_DISPLAY_CODE, 21, v), MB_EX_ILLEGAL_VALUE);
    display_regs(DEPOT_DISPLAY_OK, "A\x01", v);
    assert_int_equal(write_regs(DEPOT_HR_DISPLAY_CODE, 21, v), MB_EX_ILLEGAL_VALUE);
    display_regs(DEPOT_DISPLAY_OK, "AB", v);
    v[3] = 'C' << 8; /* text after the NUL padding */
    assert_int_equal(write_regs(DEPOT_HR_DISPLAY_CODE, 21, v), MB_EX_ILLEGAL_VALUE);
    assert_int_equal(write_regs(105, 1, v), MB_EX_ILLEGAL_ADDRESS); /* reserved 103..109 */
    assert_int_equal(write_regs(DEPOT_HR_SCAN_ACK, 11, v), MB_EX_ILLEGAL_ADDRESS);
    assert_int_equal(write_regs(0, 1, v), MB_EX_ILLEGAL_ADDRESS);
    assert_int_equal(board.display_writes, writes);
    assert_string_equal(board.shown_text, "OK");
}

/* ---- Common block, reboot, persistence ------------------------------------ */

static void test_scanner_registers_CommonBlockAndId(void **state)
{
    (void)state;
    uint16_t r[15];
    board.ms += 3000;
    assert_int_equal(read_regs(MB_FC_READ_INPUT, 0, 15, r), 2 + 30);
    assert_int_equal(r[DEPOT_IR_KIND], DEPOT_KIND_SCANNER);
    assert_int_equal(r[DEPOT_IR_MAP_VERSION], DEPOT_MAP_VERSION);
    assert_int_equal(r[DEPOT_IR_UPTIME_S + 1], 3);
    assert_int_equal(r[DEPOT_IR_BOOT_EPOCH], 1);
    assert_int_equal(r[DEPOT_IR_FW_VERSION], SCANNER_FW_VERSION);
    uint8_t req[1] = {MB_FC_REPORT_SERVER_ID};
    size_t n = mb_slave_pdu(&slave, req, 1, rsp, sizeof(rsp));
    assert_int_equal(rsp[2], DEPOT_KIND_SCANNER);
    assert_memory_equal(rsp + 4, "DEPOT scanner 1.0", n - 4);
    assert_int_equal(read_regs(MB_FC_READ_INPUT, 29, 2, r), 2); /* 30..99: no block */
    assert_int_equal(rsp[1], MB_EX_ILLEGAL_ADDRESS);
    assert_int_equal(read_regs(MB_FC_READ_INPUT, 129, 2, r), 2);
}

static void test_scanner_reboot_NewEpochKeepsFifo(void **state)
{
    (void)state;
    scan_ok(DEPOT_SCAN_LINE, "L1", 2);
    scan_ok(DEPOT_SCAN_LINE, "L2", 2);
    scanner_reboot(&sc);
    assert_int_equal(sc.cfg.boot_epoch, 2);
    assert_int_equal(board.flash.boot_epoch, 2);
    assert_int_equal(scan_ok(DEPOT_SCAN_SUBMIT, "", 0), 1); /* seq restarts */
    head_view h = read_head();
    assert_int_equal(h.count, 3);
    assert_int_equal(h.epoch, 1); /* events keep their own epochs */
    assert_int_equal(ack(1, 1), 0);
    assert_int_equal(ack(1, 2), 0);
    h = read_head();
    assert_int_equal(h.epoch, 2);
    assert_int_equal(h.seq, 1);
}

static void test_scanner_init_PersistenceRoundTrip(void **state)
{
    (void)state;
    scan_ok(DEPOT_SCAN_RECEIVE, "R1", 5);
    scan_ok(DEPOT_SCAN_PICK, "P1", 1);
    scan_ok(DEPOT_SCAN_COUNT, "C1", 9);
    assert_int_equal(ack(1, 1), 0);
    for (int i = 0; i < 3; i++) /* fill, wrap the ring, refuse one */
        scanner_scan(&sc, DEPOT_SCAN_LINE, "W", 1, NULL);
    assert_int_equal(sc.fifo.head, 1);
    memset(&sc, 0xA5, sizeof(sc)); /* power cut: RAM is gone */
    memset(slots, 0xA5, sizeof(slots));
    boot_scanner();
    head_view h = read_head();
    assert_int_equal(h.count, CAP);
    assert_int_equal(h.refused, 1);
    assert_int_equal(h.epoch, 1);
    assert_int_equal(h.seq, 2);
    assert_string_equal(h.barcode, "P1");
    assert_int_equal(sc.cfg.boot_epoch, 2);
    assert_int_equal(sc.fifo.ack_epoch, 1);
    assert_int_equal(sc.fifo.ack_seq, 1);
    const char *want[] = {"P1", "C1", "W", "W"};
    for (uint32_t i = 0; i < CAP; i++) {
        assert_string_equal(read_head().barcode, want[i]);
        assert_int_equal(ack(1, i + 2), 0);
    }
}

static void test_scanner_init_StoredFifoLargerThanCapacity(void **state)
{
    (void)state;
    for (int i = 0; i < CAP; i++)
        scan_ok(DEPOT_SCAN_LINE, "K", 1);
    depot_scan_event small[CAP - 1];
    scanner other;
    assert_int_equal(scanner_init(&other, &hal, 0, small, CAP - 1), SCANNER_E_CAPACITY);
    assert_int_equal(board.fifo_meta.count, CAP); /* nothing stored was changed */
    board.fifo_flash[0].barcode[0] = '\n';
    assert_int_equal(scanner_init(&other, &hal, 0, slots, CAP), SCANNER_E_STORE);
    assert_int_equal(scanner_init(&other, &hal, 0, slots, 0), SCANNER_E_CAPACITY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_scanner_scan_PushAckOrder, setup),
        cmocka_unit_test_setup(test_scanner_ack_WrongPairRefused, setup),
        cmocka_unit_test_setup(test_scanner_head_ReadIsIdempotent, setup),
        cmocka_unit_test_setup(test_scanner_scan_ConfirmHasNoQtyAndAnOptionalCode, setup),
        cmocka_unit_test_setup(test_scanner_scan_FullRefusesAndKeepsAll, setup),
        cmocka_unit_test_setup(test_scanner_scan_BarcodeValidation, setup),
        cmocka_unit_test_setup(test_scanner_display_RoundTrip, setup),
        cmocka_unit_test_setup(test_scanner_display_BadWritesRefused, setup),
        cmocka_unit_test_setup(test_scanner_registers_CommonBlockAndId, setup),
        cmocka_unit_test_setup(test_scanner_reboot_NewEpochKeepsFifo, setup),
        cmocka_unit_test_setup(test_scanner_init_PersistenceRoundTrip, setup),
        cmocka_unit_test_setup(test_scanner_init_StoredFifoLargerThanCapacity, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
