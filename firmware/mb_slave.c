/*
 * Modbus slave core: the PDU handler and the two framings around it.
 *
 *   bytes ─▶ mb_rtu (silence-delimited, CRC, unit filter) ─┐
 *                                                          ├─▶ mb_slave_pdu ─▶ ops callbacks
 *   bytes ─▶ mb_tcp (MBAP length-delimited, protocol 0)  ──┘
 *
 * Order of checks in a request, as the spec's state diagrams say: function
 * code (01), PDU length and quantity (03), address range (02), then the
 * application (02/03 on its registers, 04 on failure).
 *
 * Invariants:
 *  1. r->len <= r->cap and t->len <= t->cap; overflowed RTU frames are
 *     dropped whole, never truncated and processed.
 *  2. A reply is built only for a frame that passed CRC (RTU) and unit
 *     (RTU: own unit; broadcast never replies).
 *  3. No heap, no static mutable state: every byte lives in caller memory,
 *     the only large local is one register array of MB_READ_QTY_MAX words.
 */
#include "mb_slave.h"

#include <string.h>

#include "depot/modbus_crc.h"

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xFFu);
}

static size_t exception_pdu(uint8_t fc, uint8_t code, uint8_t *rsp)
{
    rsp[0] = (uint8_t)(fc | 0x80u);
    rsp[1] = code;
    return 2;
}

void mb_slave_init(mb_slave *s, uint8_t unit, const mb_slave_ops *ops, void *app)
{
    memset(s, 0, sizeof(*s));
    s->unit = unit;
    s->ops = ops;
    s->app = app;
}

uint16_t mb_crc16(const uint8_t *data, size_t len)
{
    return depot_modbus_crc16(data, len);
}

/* ---- PDU handlers ------------------------------------------------------ */

static size_t handle_read(mb_slave *s, const uint8_t *req, size_t len, uint8_t *rsp)
{
    uint8_t fc = req[0];
    if (len != 5)
        return exception_pdu(fc, MB_EX_ILLEGAL_VALUE, rsp);
    uint16_t addr = get16(req + 1), qty = get16(req + 3);
    if (qty < 1 || qty > MB_READ_QTY_MAX)
        return exception_pdu(fc, MB_EX_ILLEGAL_VALUE, rsp);
    if ((uint32_t)addr + qty > 0x10000u)
        return exception_pdu(fc, MB_EX_ILLEGAL_ADDRESS, rsp);
    uint8_t (*read)(void *, uint16_t, uint16_t, uint16_t *) =
        fc == MB_FC_READ_INPUT ? s->ops->read_input : s->ops->read_holding;
    if (read == NULL)
        return exception_pdu(fc, MB_EX_ILLEGAL_FUNCTION, rsp);
    uint16_t regs[MB_READ_QTY_MAX];
    uint8_t ex = read(s->app, addr, qty, regs);
    if (ex != MB_EX_NONE)
        return exception_pdu(fc, ex, rsp);
    rsp[0] = fc;
    rsp[1] = (uint8_t)(qty * 2u);
    for (uint16_t i = 0; i < qty; i++)
        put16(rsp + 2 + 2 * i, regs[i]);
    return 2u + 2u * qty;
}

static size_t handle_write_single(mb_slave *s, const uint8_t *req, size_t len, uint8_t *rsp)
{
    if (len != 5)
        return exception_pdu(req[0], MB_EX_ILLEGAL_VALUE, rsp);
    if (s->ops->write_holding == NULL)
        return exception_pdu(req[0], MB_EX_ILLEGAL_FUNCTION, rsp);
    uint16_t value = get16(req + 3);
    uint8_t ex = s->ops->write_holding(s->app, get16(req + 1), 1, &value);
    if (ex != MB_EX_NONE)
        return exception_pdu(req[0], ex, rsp);
    memcpy(rsp, req, 5);
    return 5;
}

static size_t handle_write_multiple(mb_slave *s, const uint8_t *req, size_t len, uint8_t *rsp)
{
    uint8_t fc = req[0];
    if (len < 6)
        return exception_pdu(fc, MB_EX_ILLEGAL_VALUE, rsp);
    uint16_t addr = get16(req + 1), qty = get16(req + 3);
    uint8_t count = req[5];
    if (qty < 1 || qty > MB_WRITE_QTY_MAX || count != qty * 2u || len != 6u + count)
        return exception_pdu(fc, MB_EX_ILLEGAL_VALUE, rsp);
    if ((uint32_t)addr + qty > 0x10000u)
        return exception_pdu(fc, MB_EX_ILLEGAL_ADDRESS, rsp);
    if (s->ops->write_holding == NULL)
        return exception_pdu(fc, MB_EX_ILLEGAL_FUNCTION, rsp);
    uint16_t regs[MB_WRITE_QTY_MAX];
    for (uint16_t i = 0; i < qty; i++)
        regs[i] = get16(req + 6 + 2 * i);
    uint8_t ex = s->ops->write_holding(s->app, addr, qty, regs);
    if (ex != MB_EX_NONE)
        return exception_pdu(fc, ex, rsp);
    memcpy(rsp, req, 5);
    return 5;
}

size_t mb_report_id_fill(uint8_t server_id, const char *ident, uint8_t *out, size_t cap)
{
    size_t n = strlen(ident);
    if (cap < n + 2)
        return 0;
    out[0] = server_id;
    out[1] = 0xFF; /* run indicator: running */
    memcpy(out + 2, ident, n);
    return n + 2;
}

static size_t handle_report_id(mb_slave *s, const uint8_t *req, size_t len, uint8_t *rsp,
                               size_t cap)
{
    if (len != 1)
        return exception_pdu(req[0], MB_EX_ILLEGAL_VALUE, rsp);
    if (s->ops->report_id == NULL)
        return exception_pdu(req[0], MB_EX_ILLEGAL_FUNCTION, rsp);
    size_t room = cap - 2 < 251 ? cap - 2 : 251;
    size_t n = s->ops->report_id(s->app, rsp + 2, room);
    rsp[0] = req[0];
    rsp[1] = (uint8_t)n;
    return 2 + n;
}

size_t mb_slave_pdu(mb_slave *s, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap)
{
    if (len < 1 || cap < MB_PDU_MAX)
        return 0;
    switch (req[0]) {
    case MB_FC_READ_HOLDING:
    case MB_FC_READ_INPUT:
        return handle_read(s, req, len, rsp);
    case MB_FC_WRITE_SINGLE:
        return handle_write_single(s, req, len, rsp);
    case MB_FC_WRITE_MULTIPLE:
        return handle_write_multiple(s, req, len, rsp);
    case MB_FC_REPORT_SERVER_ID:
        return handle_report_id(s, req, len, rsp, cap);
    default:
        return exception_pdu(req[0], MB_EX_ILLEGAL_FUNCTION, rsp);
    }
}

/* Applies fault injection and counters around mb_slave_pdu. */
static size_t slave_reply(mb_slave *s, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap)
{
    s->counters.requests++;
    uint8_t code = s->fault_code ? s->fault_code : MB_EX_DEVICE_FAILURE;
    size_t n = s->fault == MB_FAULT_EXCEPTION ? exception_pdu(req[0], code, rsp)
                                              : mb_slave_pdu(s, req, len, rsp, cap);
    if (n >= 2 && (rsp[0] & 0x80u))
        s->counters.exceptions++;
    return n;
}

/* ---- RTU --------------------------------------------------------------- */

uint32_t mb_rtu_char_us(uint32_t baud)
{
    return baud == 0 ? 0 : (11000000u + baud - 1) / baud;
}

uint32_t mb_rtu_silence_us(uint32_t baud)
{
    if (baud == 0 || baud > 19200)
        return 1750;
    return (38500000u + baud - 1) / baud;
}

void mb_rtu_init(mb_rtu *r, uint8_t *buf, size_t cap, uint32_t baud)
{
    memset(r, 0, sizeof(*r));
    r->buf = buf;
    r->cap = cap;
    r->char_us = mb_rtu_char_us(baud);
    r->silence_us = mb_rtu_silence_us(baud);
}

uint32_t mb_rtu_wait_us(const mb_rtu *r, uint32_t now_us)
{
    if (r->len == 0 && !r->overflow)
        return UINT32_MAX;
    int32_t since_end = (int32_t)(now_us - r->last_end_us);
    if (since_end < 0)
        return r->silence_us + (uint32_t)(-since_end);
    if ((uint32_t)since_end >= r->silence_us)
        return 0;
    return r->silence_us - (uint32_t)since_end;
}

size_t mb_rtu_receive(mb_rtu *r, const uint8_t *data, size_t n, uint32_t now_us)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int pending = r->len > 0 || r->overflow;
        if (pending && mb_rtu_wait_us(r, now_us) == 0)
            break;
        uint32_t start =
            pending && (int32_t)(r->last_end_us - now_us) > 0 ? r->last_end_us : now_us;
        r->last_end_us = start + r->char_us;
        if (r->len < r->cap)
            r->buf[r->len++] = data[i];
        else
            r->overflow = 1;
    }
    return i;
}

/* Checks an ended frame; returns 1 when this slave must handle it. */
static int rtu_frame_accepted(mb_rtu *r, mb_slave *s, size_t len, int overflow)
{
    if (overflow || len < 4) {
        s->counters.bad_frames++;
        return 0;
    }
    uint16_t crc = mb_crc16(r->buf, len - 2);
    if (r->buf[len - 2] != (crc & 0xFFu) || r->buf[len - 1] != (crc >> 8)) {
        s->counters.bad_frames++;
        return 0;
    }
    if (r->buf[0] != s->unit && r->buf[0] != MB_BROADCAST) {
        s->counters.other_unit++;
        return 0;
    }
    return s->fault != MB_FAULT_SILENT;
}

size_t mb_rtu_poll(mb_rtu *r, mb_slave *s, uint32_t now_us, uint8_t *rsp, size_t cap)
{
    if (mb_rtu_wait_us(r, now_us) != 0 || cap < MB_RTU_ADU_MAX)
        return 0;
    size_t len = r->len;
    int overflow = r->overflow;
    r->len = 0;
    r->overflow = 0;
    if (!rtu_frame_accepted(r, s, len, overflow))
        return 0;
    size_t n = slave_reply(s, r->buf + 1, len - 3, rsp + 1, cap - 3);
    if (r->buf[0] == MB_BROADCAST || n == 0)
        return 0;
    rsp[0] = s->unit;
    uint16_t crc = mb_crc16(rsp, n + 1);
    if (s->fault == MB_FAULT_CRC)
        crc ^= 0xFFFFu;
    rsp[n + 1] = (uint8_t)(crc & 0xFFu);
    rsp[n + 2] = (uint8_t)(crc >> 8);
    s->counters.replies++;
    return n + 3;
}

/* ---- TCP --------------------------------------------------------------- */

void mb_tcp_init(mb_tcp *t, uint8_t *buf, size_t cap)
{
    memset(t, 0, sizeof(*t));
    t->buf = buf;
    t->cap = cap;
}

size_t mb_tcp_receive(mb_tcp *t, const uint8_t *data, size_t n)
{
    size_t room = t->cap - t->len;
    if (n > room)
        n = room;
    memcpy(t->buf + t->len, data, n);
    t->len += n;
    return n;
}

/* Builds the reply ADU for the request ADU at t->buf (length total). */
static size_t tcp_reply(mb_tcp *t, mb_slave *s, size_t total, uint8_t *rsp, size_t cap)
{
    size_t n = slave_reply(s, t->buf + 7, total - 7, rsp + 7, cap - 7);
    if (n == 0)
        return 0;
    memcpy(rsp, t->buf, 2); /* transaction id echoed */
    put16(rsp + 2, 0);
    put16(rsp + 4, (uint16_t)(n + 1));
    rsp[6] = t->buf[6];
    if (s->fault == MB_FAULT_CRC) {
        put16(rsp + 2, 0xDEADu); /* no CRC on TCP: garble the MBAP instead */
        put16(rsp + 4, (uint16_t)(n + 3));
    }
    s->counters.replies++;
    return n + 7;
}

int mb_tcp_poll(mb_tcp *t, mb_slave *s, uint8_t *rsp, size_t cap, size_t *rsp_len)
{
    *rsp_len = 0;
    if (t->len < 7 || cap < MB_TCP_ADU_MAX)
        return 0;
    uint16_t length = get16(t->buf + 4);
    if (length < 2 || length > MB_PDU_MAX + 1) {
        s->counters.bad_frames++;
        return -1;
    }
    size_t total = 6u + length;
    if (t->len < total)
        return 0;
    if (get16(t->buf + 2) != 0)
        s->counters.bad_frames++;
    else if (s->fault != MB_FAULT_SILENT)
        *rsp_len = tcp_reply(t, s, total, rsp, cap);
    memmove(t->buf, t->buf + total, t->len - total);
    t->len -= total;
    return 1;
}
