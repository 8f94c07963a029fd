/*
 * Depot's own Modbus slave core: RTU and TCP framing, function codes 03, 04,
 * 06, 16, 17 and exception replies. It knows nothing of scales: registers
 * are reached through mb_slave_ops callbacks into the application.
 *
 * No heap: the caller owns every buffer and every struct, and they must live
 * as long as the object that was handed them. Times are in microseconds of a
 * free-running uint32 clock (wrap-safe).
 */
#ifndef DEPOT_FW_MB_SLAVE_H
#define DEPOT_FW_MB_SLAVE_H

#include <stddef.h>
#include <stdint.h>

#define MB_RTU_ADU_MAX 256 /* unit + PDU (253) + CRC */
#define MB_TCP_ADU_MAX 260 /* MBAP (7) + PDU (253) */
#define MB_PDU_MAX 253

#define MB_FC_READ_HOLDING 0x03
#define MB_FC_READ_INPUT 0x04
#define MB_FC_WRITE_SINGLE 0x06
#define MB_FC_WRITE_MULTIPLE 0x10
#define MB_FC_REPORT_SERVER_ID 0x11

#define MB_EX_NONE 0x00
#define MB_EX_ILLEGAL_FUNCTION 0x01
#define MB_EX_ILLEGAL_ADDRESS 0x02
#define MB_EX_ILLEGAL_VALUE 0x03
#define MB_EX_DEVICE_FAILURE 0x04

#define MB_READ_QTY_MAX 125
#define MB_WRITE_QTY_MAX 123
#define MB_BROADCAST 0

/* Fault injection, for the host board's tests of the gateway. */
typedef enum mb_fault {
    MB_FAULT_NONE = 0,
    MB_FAULT_SILENT,    /* never reply, apply nothing */
    MB_FAULT_CRC,       /* RTU: wrong CRC; TCP: wrong protocol id and length */
    MB_FAULT_EXCEPTION, /* exception fault_code (0: 04) to every request, apply nothing */
} mb_fault;

/*
 * Register access. Each returns MB_EX_NONE or an exception code. The core
 * has already checked quantities; the application checks addresses and
 * values. write_holding must check everything before applying anything.
 * report_id fills the FC 17 payload after the byte count and returns its
 * length (at most cap).
 */
typedef struct mb_slave_ops {
    uint8_t (*read_input)(void *app, uint16_t addr, uint16_t count, uint16_t *out);
    uint8_t (*read_holding)(void *app, uint16_t addr, uint16_t count, uint16_t *out);
    uint8_t (*write_holding)(void *app, uint16_t addr, uint16_t count, const uint16_t *values);
    size_t (*report_id)(void *app, uint8_t *out, size_t cap);
} mb_slave_ops;

typedef struct mb_counters {
    uint32_t requests;   /* frames addressed to us (or broadcast) */
    uint32_t replies;    /* replies built, exceptions included */
    uint32_t exceptions; /* exception replies built */
    uint32_t bad_frames; /* RTU CRC errors, short frames, TCP protocol errors */
    uint32_t other_unit; /* RTU frames for another unit id */
} mb_counters;

typedef struct mb_slave {
    const mb_slave_ops *ops;
    void *app;
    uint8_t unit;
    mb_fault fault;
    uint8_t fault_code; /* MB_FAULT_EXCEPTION's code; 0 is MB_EX_DEVICE_FAILURE */
    mb_counters counters;
} mb_slave;

void mb_slave_init(mb_slave *s, uint8_t unit, const mb_slave_ops *ops, void *app);

/*
 * Handles one request PDU (function code first) and writes the reply PDU to
 * rsp (cap >= MB_PDU_MAX). Returns the reply length. Ignores fault injection.
 */
size_t mb_slave_pdu(mb_slave *s, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap);

/* CRC-16/MODBUS (depot_modbus_crc16 of include/depot/modbus_crc.h); sent low byte first. */
uint16_t mb_crc16(const uint8_t *data, size_t len);

/*
 * The usual FC 17 payload for a report_id callback: server id, run indicator
 * 0xFF (running), then the ASCII ident. Returns its length, or 0 if it does
 * not fit in cap.
 */
size_t mb_report_id_fill(uint8_t server_id, const char *ident, uint8_t *out, size_t cap);

/*
 * RTU framing. A frame ends when the line has been silent for 3.5 character
 * times. Bytes are given arrival times as if they crossed a line at the baud
 * rate: a byte ends no earlier than one character time after the previous
 * one. A master that does not keep the silence between two frames thus
 * delivers one long frame, which fails its CRC and is ignored.
 */
typedef struct mb_rtu {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int overflow;
    uint32_t char_us;     /* one character: 11 bits */
    uint32_t silence_us;  /* 3.5 characters, 1750 us above 19200 baud */
    uint32_t last_end_us; /* when the last received byte finished */
} mb_rtu;

/* Character time (11 bits) and inter-frame silence for a baud rate. */
uint32_t mb_rtu_char_us(uint32_t baud);
uint32_t mb_rtu_silence_us(uint32_t baud);

/* buf must hold MB_RTU_ADU_MAX bytes; longer frames are dropped. */
void mb_rtu_init(mb_rtu *r, uint8_t *buf, size_t cap, uint32_t baud);

/*
 * Adds bytes received at now_us. Returns the number consumed: fewer than n
 * when a frame ended before them (call mb_rtu_poll first, then feed the rest).
 */
size_t mb_rtu_receive(mb_rtu *r, const uint8_t *data, size_t n, uint32_t now_us);

/* Microseconds until the pending frame ends (0: ended now; UINT32_MAX: no frame). */
uint32_t mb_rtu_wait_us(const mb_rtu *r, uint32_t now_us);

/*
 * When a frame has ended: checks length, CRC and unit, handles it, empties
 * the buffer and returns the reply ADU length in rsp (0: no reply). rsp must
 * hold MB_RTU_ADU_MAX bytes. Returns 0 while no frame has ended.
 */
size_t mb_rtu_poll(mb_rtu *r, mb_slave *s, uint32_t now_us, uint8_t *rsp, size_t cap);

/*
 * TCP framing (MBAP). One mb_tcp per connection; the unit id is echoed and
 * not filtered (the node is the TCP endpoint).
 */
typedef struct mb_tcp {
    uint8_t *buf;
    size_t cap;
    size_t len;
} mb_tcp;

/* buf must hold MB_TCP_ADU_MAX bytes. */
void mb_tcp_init(mb_tcp *t, uint8_t *buf, size_t cap);

/* Appends stream bytes; returns the number consumed (stops when full). */
size_t mb_tcp_receive(mb_tcp *t, const uint8_t *data, size_t n);

/*
 * Handles the first complete ADU, if any. Returns 1 when one was consumed
 * (*rsp_len is the reply length, maybe 0), 0 when more bytes are needed,
 * -1 when the stream is broken (bad MBAP length): close the connection.
 * rsp must hold MB_TCP_ADU_MAX bytes.
 */
int mb_tcp_poll(mb_tcp *t, mb_slave *s, uint8_t *rsp, size_t cap, size_t *rsp_len);

#endif
