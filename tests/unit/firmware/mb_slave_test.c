/*
 * Unit tests of firmware/mb_slave.c: CRC, RTU framing and silence, TCP MBAP
 * framing, every function code and exception path, broadcast and fault
 * injection. The application behind the slave is a fake with ten input
 * registers (100 + address) and ten holding registers; holding value 0xFFFF
 * is "out of range" (exception 03).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mb_slave.h"

#define BAUD 19200
#define FAKE_REGS 10

typedef struct fake_app {
    uint16_t holding[FAKE_REGS];
    int writes;
} fake_app;

static uint8_t fake_read_input(void *app, uint16_t addr, uint16_t count, uint16_t *out)
{
    (void)app;
    if ((uint32_t)addr + count > FAKE_REGS)
        return MB_EX_ILLEGAL_ADDRESS;
    for (uint16_t i = 0; i < count; i++)
        out[i] = (uint16_t)(100 + addr + i);
    return MB_EX_NONE;
}

static uint8_t fake_read_holding(void *app, uint16_t addr, uint16_t count, uint16_t *out)
{
    fake_app *f = app;
    if ((uint32_t)addr + count > FAKE_REGS)
        return MB_EX_ILLEGAL_ADDRESS;
    memcpy(out, f->holding + addr, count * sizeof(*out));
    return MB_EX_NONE;
}

static uint8_t fake_write_holding(void *app, uint16_t addr, uint16_t count, const uint16_t *v)
{
    fake_app *f = app;
    if ((uint32_t)addr + count > FAKE_REGS)
        return MB_EX_ILLEGAL_ADDRESS;
    for (uint16_t i = 0; i < count; i++)
        if (v[i] == 0xFFFF)
            return MB_EX_ILLEGAL_VALUE;
    memcpy(f->holding + addr, v, count * sizeof(*v));
    f->writes++;
    return MB_EX_NONE;
}

static size_t fake_report_id(void *app, uint8_t *out, size_t cap)
{
    (void)app;
    assert_true(cap >= 6);
    memcpy(out, "\x01\xFFTEST", 6);
    return 6;
}

static const mb_slave_ops fake_ops = {fake_read_input, fake_read_holding, fake_write_holding,
                                      fake_report_id};

typedef struct fixture {
    fake_app app;
    mb_slave slave;
    mb_rtu rtu;
    uint8_t rtu_buf[MB_RTU_ADU_MAX];
    mb_tcp tcp;
    uint8_t tcp_buf[MB_TCP_ADU_MAX];
    uint8_t rsp[MB_TCP_ADU_MAX];
    uint32_t now;
} fixture;

static fixture fx;

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof(fx));
    mb_slave_init(&fx.slave, 7, &fake_ops, &fx.app);
    mb_rtu_init(&fx.rtu, fx.rtu_buf, sizeof(fx.rtu_buf), BAUD);
    mb_tcp_init(&fx.tcp, fx.tcp_buf, sizeof(fx.tcp_buf));
    fx.now = 1000000;
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static size_t rtu_frame(uint8_t unit, const uint8_t *pdu, size_t len, uint8_t *out)
{
    out[0] = unit;
    memcpy(out + 1, pdu, len);
    uint16_t crc = mb_crc16(out, len + 1);
    out[len + 1] = (uint8_t)(crc & 0xFF);
    out[len + 2] = (uint8_t)(crc >> 8);
    return len + 3;
}

static void rtu_feed(const uint8_t *data, size_t n)
{
    assert_int_equal(mb_rtu_receive(&fx.rtu, data, n, fx.now), n);
}

/* Lets the line go silent, then polls; returns the reply length. */
static size_t rtu_settle(void)
{
    uint32_t wait = mb_rtu_wait_us(&fx.rtu, fx.now);
    fx.now += wait == UINT32_MAX ? 0 : wait;
    return mb_rtu_poll(&fx.rtu, &fx.slave, fx.now, fx.rsp, sizeof(fx.rsp));
}

static size_t rtu_request(uint8_t unit, const uint8_t *pdu, size_t len)
{
    uint8_t frame[MB_RTU_ADU_MAX];
    rtu_feed(frame, rtu_frame(unit, pdu, len, frame));
    return rtu_settle();
}

static void assert_crc_ok(const uint8_t *adu, size_t len)
{
    uint16_t crc = mb_crc16(adu, len - 2);
    assert_int_equal(adu[len - 2], crc & 0xFF);
    assert_int_equal(adu[len - 1], crc >> 8);
}

static size_t pdu(const uint8_t *req, size_t len)
{
    return mb_slave_pdu(&fx.slave, req, len, fx.rsp, sizeof(fx.rsp));
}

static void assert_exception(size_t n, uint8_t fc, uint8_t code)
{
    assert_int_equal(n, 2);
    assert_int_equal(fx.rsp[0], fc | 0x80);
    assert_int_equal(fx.rsp[1], code);
}

static size_t tcp_adu(uint16_t tid, uint16_t proto, uint8_t unit, const uint8_t *p, size_t len,
                      uint8_t *out)
{
    out[0] = (uint8_t)(tid >> 8);
    out[1] = (uint8_t)tid;
    out[2] = (uint8_t)(proto >> 8);
    out[3] = (uint8_t)proto;
    out[4] = (uint8_t)((len + 1) >> 8);
    out[5] = (uint8_t)(len + 1);
    out[6] = unit;
    memcpy(out + 7, p, len);
    return len + 7;
}

static const uint8_t read_hr_0_2[] = {0x03, 0x00, 0x00, 0x00, 0x02};

/* ---- CRC --------------------------------------------------------------- */

static void test_mb_crc16_KnownVectors(void **state)
{
    (void)state;
    assert_int_equal(mb_crc16((const uint8_t *)"123456789", 9), 0x4B37);
    static const uint8_t req[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x0A};
    assert_int_equal(mb_crc16(req, sizeof(req)), 0xCDC5); /* on the wire: C5 CD */
    static const uint8_t rsp[] = {0x11, 0x03, 0x06, 0xAE, 0x41, 0x56, 0x52, 0x43, 0x40};
    assert_int_equal(mb_crc16(rsp, sizeof(rsp)), 0xAD49); /* spec example: 49 AD */
    assert_int_equal(mb_crc16(NULL, 0), 0xFFFF);
}

/* ---- RTU --------------------------------------------------------------- */

static void test_mb_rtu_silence_us_FromBaud(void **state)
{
    (void)state;
    assert_int_equal(mb_rtu_silence_us(9600), 4011);
    assert_int_equal(mb_rtu_silence_us(19200), 2006);
    assert_int_equal(mb_rtu_silence_us(38400), 1750);
    assert_int_equal(mb_rtu_silence_us(115200), 1750);
    assert_int_equal(mb_rtu_char_us(19200), 573);
}

static void test_mb_rtu_poll_CompleteFrame(void **state)
{
    (void)state;
    fx.app.holding[0] = 0x1234;
    fx.app.holding[1] = 0xABCD;
    size_t n = rtu_request(7, read_hr_0_2, sizeof(read_hr_0_2));
    static const uint8_t want[] = {7, 0x03, 4, 0x12, 0x34, 0xAB, 0xCD};
    assert_int_equal(n, sizeof(want) + 2);
    assert_memory_equal(fx.rsp, want, sizeof(want));
    assert_crc_ok(fx.rsp, n);
}

static void test_mb_rtu_poll_SplitFrame(void **state)
{
    (void)state;
    uint8_t frame[16];
    size_t len = rtu_frame(7, read_hr_0_2, sizeof(read_hr_0_2), frame);
    rtu_feed(frame, 3);
    fx.now += mb_rtu_silence_us(BAUD) / 2; /* a pause shorter than the silence */
    rtu_feed(frame + 3, len - 3);
    assert_int_equal(rtu_settle(), 9);
}

static void test_mb_rtu_poll_WaitsForSilence(void **state)
{
    (void)state;
    uint8_t frame[16];
    size_t len = rtu_frame(7, read_hr_0_2, sizeof(read_hr_0_2), frame);
    rtu_feed(frame, len);
    /* The 8 bytes are still "on the wire" plus 3.5 characters of silence. */
    uint32_t wait = mb_rtu_wait_us(&fx.rtu, fx.now);
    assert_int_equal(wait, len * mb_rtu_char_us(BAUD) + mb_rtu_silence_us(BAUD));
    assert_int_equal(mb_rtu_poll(&fx.rtu, &fx.slave, fx.now + wait - 1, fx.rsp, sizeof(fx.rsp)), 0);
    assert_int_equal(mb_rtu_poll(&fx.rtu, &fx.slave, fx.now + wait, fx.rsp, sizeof(fx.rsp)), 9);
    assert_int_equal(mb_rtu_wait_us(&fx.rtu, fx.now + wait), UINT32_MAX);
}

static void test_mb_rtu_receive_GapSplitsFrame(void **state)
{
    (void)state;
    uint8_t frame[16];
    size_t len = rtu_frame(7, read_hr_0_2, sizeof(read_hr_0_2), frame);
    rtu_feed(frame, 4);
    fx.now += 4 * mb_rtu_char_us(BAUD) + mb_rtu_silence_us(BAUD); /* the master paused */
    assert_int_equal(mb_rtu_receive(&fx.rtu, frame + 4, len - 4, fx.now), 0);
    assert_int_equal(mb_rtu_poll(&fx.rtu, &fx.slave, fx.now, fx.rsp, sizeof(fx.rsp)), 0);
    rtu_feed(frame + 4, len - 4);
    assert_int_equal(rtu_settle(), 0);
    assert_int_equal(fx.slave.counters.bad_frames, 2);
    assert_int_equal(fx.slave.counters.requests, 0);
}

static void test_mb_rtu_receive_BackToBackFramesGarbled(void **state)
{
    (void)state;
    uint8_t frames[32];
    size_t len = rtu_frame(7, read_hr_0_2, sizeof(read_hr_0_2), frames);
    rtu_frame(7, read_hr_0_2, sizeof(read_hr_0_2), frames + len);
    rtu_feed(frames, 2 * len); /* no silence between them: one 16-byte frame */
    assert_int_equal(rtu_settle(), 0);
    assert_int_equal(fx.slave.counters.bad_frames, 1);
}

static void test_mb_rtu_poll_WrongUnitIgnored(void **state)
{
    (void)state;
    assert_int_equal(rtu_request(8, read_hr_0_2, sizeof(read_hr_0_2)), 0);
    assert_int_equal(fx.slave.counters.other_unit, 1);
    assert_int_equal(rtu_request(7, read_hr_0_2, sizeof(read_hr_0_2)), 9);
}

static void test_mb_rtu_poll_BadCrcIgnored(void **state)
{
    (void)state;
    uint8_t frame[16];
    size_t len = rtu_frame(7, read_hr_0_2, sizeof(read_hr_0_2), frame);
    frame[len - 1] ^= 0x01;
    rtu_feed(frame, len);
    assert_int_equal(rtu_settle(), 0);
    assert_int_equal(fx.slave.counters.bad_frames, 1);
}

static void test_mb_rtu_poll_ShortFrameIgnored(void **state)
{
    (void)state;
    static const uint8_t junk[] = {7, 3, 0};
    rtu_feed(junk, sizeof(junk));
    assert_int_equal(rtu_settle(), 0);
    assert_int_equal(fx.slave.counters.bad_frames, 1);
}

static void test_mb_rtu_receive_OverflowDropped(void **state)
{
    (void)state;
    uint8_t junk[MB_RTU_ADU_MAX + 10];
    memset(junk, 7, sizeof(junk));
    rtu_feed(junk, sizeof(junk));
    assert_int_equal(rtu_settle(), 0);
    assert_int_equal(fx.slave.counters.bad_frames, 1);
    assert_int_equal(rtu_request(7, read_hr_0_2, sizeof(read_hr_0_2)), 9);
}

static void test_mb_rtu_poll_BroadcastWriteAppliedNoReply(void **state)
{
    (void)state;
    static const uint8_t write[] = {0x06, 0x00, 0x02, 0x00, 0x2A};
    assert_int_equal(rtu_request(MB_BROADCAST, write, sizeof(write)), 0);
    assert_int_equal(fx.app.holding[2], 42);
    static const uint8_t write16[] = {0x10, 0x00, 0x03, 0x00, 0x01, 0x02, 0x00, 0x07};
    assert_int_equal(rtu_request(MB_BROADCAST, write16, sizeof(write16)), 0);
    assert_int_equal(fx.app.holding[3], 7);
    assert_int_equal(rtu_request(MB_BROADCAST, read_hr_0_2, sizeof(read_hr_0_2)), 0);
}

static void test_mb_rtu_poll_FaultSilentNoReply(void **state)
{
    (void)state;
    fx.slave.fault = MB_FAULT_SILENT;
    static const uint8_t write[] = {0x06, 0x00, 0x02, 0x00, 0x2A};
    assert_int_equal(rtu_request(7, write, sizeof(write)), 0);
    assert_int_equal(fx.app.writes, 0);
    fx.slave.fault = MB_FAULT_NONE;
    assert_int_equal(rtu_request(7, write, sizeof(write)), 8);
}

static void test_mb_rtu_poll_FaultCrcCorruptsCrc(void **state)
{
    (void)state;
    fx.slave.fault = MB_FAULT_CRC;
    size_t n = rtu_request(7, read_hr_0_2, sizeof(read_hr_0_2));
    assert_int_equal(n, 9);
    uint16_t crc = mb_crc16(fx.rsp, n - 2);
    assert_int_equal(fx.rsp[n - 2] | (fx.rsp[n - 1] << 8), crc ^ 0xFFFF);
}

static void test_mb_rtu_poll_FaultExceptionDeviceFailure(void **state)
{
    (void)state;
    fx.slave.fault = MB_FAULT_EXCEPTION;
    size_t n = rtu_request(7, read_hr_0_2, sizeof(read_hr_0_2));
    assert_int_equal(n, 5);
    assert_int_equal(fx.rsp[1], 0x83);
    assert_int_equal(fx.rsp[2], MB_EX_DEVICE_FAILURE);
    assert_crc_ok(fx.rsp, n);
    assert_int_equal(fx.slave.counters.exceptions, 1);
}

static void test_mb_rtu_poll_FaultExceptionCodeAppliesNothing(void **state)
{
    (void)state;
    static const uint8_t write[] = {0x06, 0x00, 0x02, 0x00, 0x2A};
    fx.slave.fault = MB_FAULT_EXCEPTION;
    for (uint8_t code = 0x01; code <= 0x0B; code++) {
        fx.slave.fault_code = code;
        size_t n = rtu_request(7, write, sizeof(write));
        assert_int_equal(n, 5);
        assert_int_equal(fx.rsp[1], 0x86);
        assert_int_equal(fx.rsp[2], code);
        assert_crc_ok(fx.rsp, n);
    }
    assert_int_equal(fx.app.writes, 0);
    fx.slave.fault_code = 0;
}

/* ---- TCP --------------------------------------------------------------- */

static int tcp_feed_poll(const uint8_t *data, size_t n, size_t *rsp_len)
{
    assert_int_equal(mb_tcp_receive(&fx.tcp, data, n), n);
    return mb_tcp_poll(&fx.tcp, &fx.slave, fx.rsp, sizeof(fx.rsp), rsp_len);
}

static void test_mb_tcp_poll_EchoesTransactionId(void **state)
{
    (void)state;
    uint8_t adu[32];
    size_t len = tcp_adu(0xBEEF, 0, 0xFF, read_hr_0_2, sizeof(read_hr_0_2), adu);
    size_t rsp_len;
    fx.app.holding[1] = 5;
    assert_int_equal(tcp_feed_poll(adu, len, &rsp_len), 1);
    static const uint8_t want[] = {0xBE, 0xEF, 0, 0, 0, 7, 0xFF, 0x03, 4, 0, 0, 0, 5};
    assert_int_equal(rsp_len, sizeof(want));
    assert_memory_equal(fx.rsp, want, sizeof(want));
}

static void test_mb_tcp_poll_SplitAndPipelined(void **state)
{
    (void)state;
    uint8_t adus[64];
    size_t len = tcp_adu(1, 0, 1, read_hr_0_2, sizeof(read_hr_0_2), adus);
    tcp_adu(2, 0, 1, read_hr_0_2, sizeof(read_hr_0_2), adus + len);
    size_t rsp_len;
    assert_int_equal(tcp_feed_poll(adus, 5, &rsp_len), 0);
    assert_int_equal(tcp_feed_poll(adus + 5, 2 * len - 5, &rsp_len), 1);
    assert_int_equal(fx.rsp[1], 1);
    assert_int_equal(mb_tcp_poll(&fx.tcp, &fx.slave, fx.rsp, sizeof(fx.rsp), &rsp_len), 1);
    assert_int_equal(fx.rsp[1], 2);
    assert_int_equal(mb_tcp_poll(&fx.tcp, &fx.slave, fx.rsp, sizeof(fx.rsp), &rsp_len), 0);
}

static void test_mb_tcp_poll_ProtocolIdNonZeroDropped(void **state)
{
    (void)state;
    uint8_t adu[32];
    size_t len = tcp_adu(1, 1, 1, read_hr_0_2, sizeof(read_hr_0_2), adu);
    size_t rsp_len = 99;
    assert_int_equal(tcp_feed_poll(adu, len, &rsp_len), 1);
    assert_int_equal(rsp_len, 0);
    assert_int_equal(fx.tcp.len, 0);
    assert_int_equal(fx.slave.counters.bad_frames, 1);
}

static void test_mb_tcp_poll_BadLengthCloses(void **state)
{
    (void)state;
    uint8_t adu[32];
    size_t len = tcp_adu(1, 0, 1, read_hr_0_2, sizeof(read_hr_0_2), adu);
    adu[4] = 0x01; /* length 0x0106: longer than any ADU */
    size_t rsp_len;
    assert_int_equal(tcp_feed_poll(adu, len, &rsp_len), -1);
    setup(NULL);
    adu[4] = 0;
    adu[5] = 1; /* length 1: no function code */
    assert_int_equal(tcp_feed_poll(adu, len, &rsp_len), -1);
}

static void test_mb_tcp_poll_FaultCrcGarblesMbap(void **state)
{
    (void)state;
    fx.slave.fault = MB_FAULT_CRC;
    uint8_t adu[32];
    size_t len = tcp_adu(9, 0, 1, read_hr_0_2, sizeof(read_hr_0_2), adu);
    size_t rsp_len;
    assert_int_equal(tcp_feed_poll(adu, len, &rsp_len), 1);
    assert_int_equal(rsp_len, 13);
    assert_int_equal(fx.rsp[1], 9);
    assert_true(fx.rsp[2] != 0 || fx.rsp[3] != 0);
    assert_int_not_equal(fx.rsp[5], rsp_len - 6);
}

static void test_mb_tcp_poll_FaultSilentAndException(void **state)
{
    (void)state;
    uint8_t adu[32];
    size_t len = tcp_adu(9, 0, 1, read_hr_0_2, sizeof(read_hr_0_2), adu);
    size_t rsp_len;
    fx.slave.fault = MB_FAULT_SILENT;
    assert_int_equal(tcp_feed_poll(adu, len, &rsp_len), 1);
    assert_int_equal(rsp_len, 0);
    fx.slave.fault = MB_FAULT_EXCEPTION;
    assert_int_equal(tcp_feed_poll(adu, len, &rsp_len), 1);
    assert_int_equal(rsp_len, 9);
    assert_int_equal(fx.rsp[7], 0x83);
    assert_int_equal(fx.rsp[8], MB_EX_DEVICE_FAILURE);
}

/* ---- function codes ---------------------------------------------------- */

static void test_mb_slave_pdu_ReadInput(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x04, 0x00, 0x03, 0x00, 0x03};
    static const uint8_t want[] = {0x04, 6, 0, 103, 0, 104, 0, 105};
    assert_int_equal(pdu(req, sizeof(req)), sizeof(want));
    assert_memory_equal(fx.rsp, want, sizeof(want));
}

static void test_mb_slave_pdu_ReadHolding(void **state)
{
    (void)state;
    fx.app.holding[9] = 0x0102;
    static const uint8_t req[] = {0x03, 0x00, 0x09, 0x00, 0x01};
    static const uint8_t want[] = {0x03, 2, 0x01, 0x02};
    assert_int_equal(pdu(req, sizeof(req)), sizeof(want));
    assert_memory_equal(fx.rsp, want, sizeof(want));
}

static void test_mb_slave_pdu_WriteSingle(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x06, 0x00, 0x04, 0x12, 0x34};
    assert_int_equal(pdu(req, sizeof(req)), 5);
    assert_memory_equal(fx.rsp, req, 5);
    assert_int_equal(fx.app.holding[4], 0x1234);
}

static void test_mb_slave_pdu_WriteMultiple(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02};
    assert_int_equal(pdu(req, sizeof(req)), 5);
    assert_memory_equal(fx.rsp, req, 5);
    assert_int_equal(fx.app.holding[1], 10);
    assert_int_equal(fx.app.holding[2], 0x0102);
}

static void test_mb_slave_pdu_ReportServerId(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x11};
    assert_int_equal(pdu(req, sizeof(req)), 8);
    assert_int_equal(fx.rsp[0], 0x11);
    assert_int_equal(fx.rsp[1], 6);
    assert_memory_equal(fx.rsp + 2, "\x01\xFFTEST", 6);
    static const uint8_t bad[] = {0x11, 0x00};
    assert_exception(pdu(bad, sizeof(bad)), 0x11, MB_EX_ILLEGAL_VALUE);
}

static void test_mb_slave_pdu_IllegalFunction(void **state)
{
    (void)state;
    static const uint8_t coils[] = {0x01, 0x00, 0x00, 0x00, 0x01};
    assert_exception(pdu(coils, sizeof(coils)), 0x01, MB_EX_ILLEGAL_FUNCTION);
    static const uint8_t diag[] = {0x08, 0x00, 0x00, 0x00, 0x00};
    assert_exception(pdu(diag, sizeof(diag)), 0x08, MB_EX_ILLEGAL_FUNCTION);
}

static void test_mb_slave_pdu_ReadQuantityBounds(void **state)
{
    (void)state;
    uint8_t req[] = {0x03, 0x00, 0x00, 0x00, 0x00};
    assert_exception(pdu(req, sizeof(req)), 0x03, MB_EX_ILLEGAL_VALUE);
    req[4] = 126;
    assert_exception(pdu(req, sizeof(req)), 0x03, MB_EX_ILLEGAL_VALUE);
    req[0] = 0x04;
    assert_exception(pdu(req, sizeof(req)), 0x04, MB_EX_ILLEGAL_VALUE);
    req[4] = 125; /* a legal quantity: now the fake's address check answers */
    assert_exception(pdu(req, sizeof(req)), 0x04, MB_EX_ILLEGAL_ADDRESS);
}

static void test_mb_slave_pdu_ReadBadLength(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x03, 0x00, 0x00, 0x00};
    assert_exception(pdu(req, sizeof(req)), 0x03, MB_EX_ILLEGAL_VALUE);
}

static void test_mb_slave_pdu_ReadAddressOverflow(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x04, 0xFF, 0xFF, 0x00, 0x02};
    assert_exception(pdu(req, sizeof(req)), 0x04, MB_EX_ILLEGAL_ADDRESS);
}

static void test_mb_slave_pdu_ReadIllegalAddress(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x03, 0x00, 0x08, 0x00, 0x03};
    assert_exception(pdu(req, sizeof(req)), 0x03, MB_EX_ILLEGAL_ADDRESS);
}

static void test_mb_slave_pdu_WriteSingleIllegalValue(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x06, 0x00, 0x00, 0xFF, 0xFF};
    assert_exception(pdu(req, sizeof(req)), 0x06, MB_EX_ILLEGAL_VALUE);
    static const uint8_t addr[] = {0x06, 0x00, 0x0A, 0x00, 0x01};
    assert_exception(pdu(addr, sizeof(addr)), 0x06, MB_EX_ILLEGAL_ADDRESS);
    static const uint8_t len[] = {0x06, 0x00, 0x00, 0x00};
    assert_exception(pdu(len, sizeof(len)), 0x06, MB_EX_ILLEGAL_VALUE);
}

static void test_mb_slave_pdu_WriteMultipleQuantityBounds(void **state)
{
    (void)state;
    uint8_t req[6 + 2 * 124] = {0x10, 0x00, 0x00, 0x00, 124, 248};
    assert_exception(pdu(req, sizeof(req)), 0x10, MB_EX_ILLEGAL_VALUE);
    static const uint8_t zero[] = {0x10, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_exception(pdu(zero, sizeof(zero)), 0x10, MB_EX_ILLEGAL_VALUE);
    req[4] = 123;
    req[5] = 246; /* legal quantity: the fake answers 02 for its 10 registers */
    assert_exception(pdu(req, 6 + 246), 0x10, MB_EX_ILLEGAL_ADDRESS);
}

static void test_mb_slave_pdu_WriteMultipleByteCountMismatch(void **state)
{
    (void)state;
    static const uint8_t count[] = {0x10, 0x00, 0x00, 0x00, 0x02, 0x03, 0, 1, 0};
    assert_exception(pdu(count, sizeof(count)), 0x10, MB_EX_ILLEGAL_VALUE);
    static const uint8_t shortdata[] = {0x10, 0x00, 0x00, 0x00, 0x02, 0x04, 0, 1, 0};
    assert_exception(pdu(shortdata, sizeof(shortdata)), 0x10, MB_EX_ILLEGAL_VALUE);
    assert_int_equal(fx.app.writes, 0);
}

static void test_mb_slave_pdu_WriteMultipleIllegalValueAppliesNothing(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x10, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00, 0x01, 0xFF, 0xFF};
    assert_exception(pdu(req, sizeof(req)), 0x10, MB_EX_ILLEGAL_VALUE);
    assert_int_equal(fx.app.holding[0], 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(test_mb_crc16_KnownVectors),
        T(test_mb_rtu_silence_us_FromBaud),
        T(test_mb_rtu_poll_CompleteFrame),
        T(test_mb_rtu_poll_SplitFrame),
        T(test_mb_rtu_poll_WaitsForSilence),
        T(test_mb_rtu_receive_GapSplitsFrame),
        T(test_mb_rtu_receive_BackToBackFramesGarbled),
        T(test_mb_rtu_poll_WrongUnitIgnored),
        T(test_mb_rtu_poll_BadCrcIgnored),
        T(test_mb_rtu_poll_ShortFrameIgnored),
        T(test_mb_rtu_receive_OverflowDropped),
        T(test_mb_rtu_poll_BroadcastWriteAppliedNoReply),
        T(test_mb_rtu_poll_FaultSilentNoReply),
        T(test_mb_rtu_poll_FaultCrcCorruptsCrc),
        T(test_mb_rtu_poll_FaultExceptionDeviceFailure),
        T(test_mb_rtu_poll_FaultExceptionCodeAppliesNothing),
        T(test_mb_tcp_poll_EchoesTransactionId),
        T(test_mb_tcp_poll_SplitAndPipelined),
        T(test_mb_tcp_poll_ProtocolIdNonZeroDropped),
        T(test_mb_tcp_poll_BadLengthCloses),
        T(test_mb_tcp_poll_FaultCrcGarblesMbap),
        T(test_mb_tcp_poll_FaultSilentAndException),
        T(test_mb_slave_pdu_ReadInput),
        T(test_mb_slave_pdu_ReadHolding),
        T(test_mb_slave_pdu_WriteSingle),
        T(test_mb_slave_pdu_WriteMultiple),
        T(test_mb_slave_pdu_ReportServerId),
        T(test_mb_slave_pdu_IllegalFunction),
        T(test_mb_slave_pdu_ReadQuantityBounds),
        T(test_mb_slave_pdu_ReadBadLength),
        T(test_mb_slave_pdu_ReadAddressOverflow),
        T(test_mb_slave_pdu_ReadIllegalAddress),
        T(test_mb_slave_pdu_WriteSingleIllegalValue),
        T(test_mb_slave_pdu_WriteMultipleQuantityBounds),
        T(test_mb_slave_pdu_WriteMultipleByteCountMismatch),
        T(test_mb_slave_pdu_WriteMultipleIllegalValueAppliesNothing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
