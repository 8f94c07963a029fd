/*
 * The Modbus register map of Depot's field nodes: the one contract between
 * the node firmware (firmware/, a Modbus slave) and the gateway (gateway/, a
 * libmodbus master). Addresses are zero-based protocol addresses.
 *
 * Every node answers the common block, so the gateway can check what it talks
 * to before it trusts a reading:
 *
 *   input registers (FC 04, read-only)
 *   0       DEPOT_IR_KIND        node kind (DEPOT_KIND_*)
 *   1       DEPOT_IR_MAP_VERSION DEPOT_MAP_VERSION
 *   2..3    DEPOT_IR_NET_G       scale: net weight in grams, int32, high word first
 *   4       DEPOT_IR_STATUS      scale: DEPOT_STATUS_* bits
 *   5..6    DEPOT_IR_SAMPLES     scale: sample counter, uint32, high word first
 *   7..8    DEPOT_IR_GROSS_G     scale: gross weight in grams, int32
 *   9..10   DEPOT_IR_TARE_G      scale: tare in grams, int32
 *   11..12  DEPOT_IR_UPTIME_S    seconds since boot, uint32
 *   13      DEPOT_IR_BOOT_EPOCH  incremented at every boot (persistent)
 *   14      DEPOT_IR_FW_VERSION  firmware version, major << 8 | minor
 *   15..29  reserved, read as 0 (the scale block is 30 registers long)
 *
 *   holding registers (FC 03 read, FC 06/16 write)
 *   0       DEPOT_HR_COMMAND     write DEPOT_CMD_* to act; reads 0
 *   1..2    DEPOT_HR_UNIT_MG     unit weight of the item on this scale, mg, uint32
 *   3       DEPOT_HR_FILTER      scale: readings averaged per sample (1..64)
 *   4..9    reserved
 *
 *   Scanner terminal block (kind DEPOT_KIND_SCANNER; the common registers
 *   0, 1, 11..14 as above, 2..10 and 15..29 read 0; a scanner has no
 *   holding registers 0..9, they answer exception 02):
 *
 *   input registers
 *   100     DEPOT_IR_SCAN_COUNT    events waiting in the FIFO
 *   101     DEPOT_IR_SCAN_CAPACITY FIFO capacity
 *   102     DEPOT_IR_SCAN_FLAGS    DEPOT_SCAN_FLAG_* bits
 *   103..104 DEPOT_IR_SCAN_REFUSED scans refused because the FIFO was full, uint32
 *   105..129 the head event, read in ONE request (DEPOT_IR_SCAN_HEAD, 25 registers):
 *     105      epoch     boot epoch the event was made in (0: FIFO empty)
 *     106..107 seq       sequence number within that epoch, uint32, from 1
 *     108      type      DEPOT_SCAN_* event type
 *     109..110 qty       int32
 *     111      len       barcode length, 0..32
 *     112..127 barcode   32 ASCII bytes, two per register, first byte high,
 *                        unused bytes 0
 *     128..129 reserved, 0
 *   One FC 04 of 100..129 gives the FIFO state and the head event together.
 *
 *   holding registers
 *   100..102 DEPOT_HR_SCAN_ACK     write (epoch, seq hi, seq lo) with ONE FC 16
 *                                  to drop the head event; a pair that is not
 *                                  the head's answers exception 03 and drops
 *                                  nothing (so does a write of part of the
 *                                  pair); reads the last acknowledged pair
 *   103..109 reserved: read 0, a write answers exception 02
 *   110      DEPOT_HR_DISPLAY_CODE DEPOT_DISPLAY_* status code
 *   111..130 DEPOT_HR_DISPLAY_TEXT 40 ASCII bytes, two per register, first byte
 *                                  high, NUL-padded. Write text and code in
 *                                  one FC 16 (110..130) so the display never
 *                                  shows a code with another message's text.
 *                                  A code above DEPOT_DISPLAY_BUSY, a byte
 *                                  that is not printable ASCII (0x20..0x7E)
 *                                  or NUL, or text after the NUL padding
 *                                  answers exception 03 and changes nothing.
 *
 *   Events survive a reboot (the FIFO lives in the node's persistent memory),
 *   each keeping the epoch it was made in; (node, epoch, seq) is unique for
 *   the life of the node. A full FIFO refuses new scans (display says so:
 *   code DEPOT_DISPLAY_ERROR, text "FIFO FULL"; the refused counter counts
 *   them) and never drops an accepted one. DEPOT_SCAN_FLAG_FULL is set while
 *   count == capacity and clears as soon as an acknowledgement makes room.
 *   Barcodes are 1..32 printable ASCII characters (0x20..0x7E); a submit has
 *   none. Quantities: receive, pick, line >= 1; count >= 0; submit 0.
 *
 * Everything outside a defined block answers exception 02 (illegal data
 * address); a write of a value out of range answers exception 03.
 * FC 17 (report server id) answers the kind as server id, 0xFF (running) and
 * the ASCII identification "DEPOT <kind> <fw major>.<fw minor>".
 */
#ifndef DEPOT_MODBUS_MAP_H
#define DEPOT_MODBUS_MAP_H

#define DEPOT_MAP_VERSION 1

enum depot_node_kind { DEPOT_KIND_SCALE = 1, DEPOT_KIND_SCANNER = 2 };

/* Input registers, common and scale block. */
#define DEPOT_IR_KIND 0
#define DEPOT_IR_MAP_VERSION 1
#define DEPOT_IR_NET_G 2
#define DEPOT_IR_STATUS 4
#define DEPOT_IR_SAMPLES 5
#define DEPOT_IR_GROSS_G 7
#define DEPOT_IR_TARE_G 9
#define DEPOT_IR_UPTIME_S 11
#define DEPOT_IR_BOOT_EPOCH 13
#define DEPOT_IR_FW_VERSION 14
#define DEPOT_IR_SCALE_COUNT 30 /* registers 0..29 */

/* Scale status bits (DEPOT_IR_STATUS). */
#define DEPOT_STATUS_STABLE 0x0001u
#define DEPOT_STATUS_OVERLOAD 0x0002u
#define DEPOT_STATUS_FAULT 0x0004u

/* Holding registers. */
#define DEPOT_HR_COMMAND 0
#define DEPOT_HR_UNIT_MG 1
#define DEPOT_HR_FILTER 3
#define DEPOT_HR_SCALE_COUNT 10 /* registers 0..9 */

enum depot_command {
    DEPOT_CMD_NONE = 0,
    DEPOT_CMD_TARE = 1,       /* take the current gross weight as tare */
    DEPOT_CMD_CLEAR_TARE = 2, /* tare back to 0 */
};

#define DEPOT_FILTER_MIN 1
#define DEPOT_FILTER_MAX 64

/* Scanner terminal block. */
#define DEPOT_IR_SCANNER_BASE 100
#define DEPOT_HR_SCANNER_BASE 100
#define DEPOT_SCANNER_BLOCK 100

#define DEPOT_IR_SCAN_COUNT 100
#define DEPOT_IR_SCAN_CAPACITY 101
#define DEPOT_IR_SCAN_FLAGS 102
#define DEPOT_IR_SCAN_REFUSED 103
#define DEPOT_IR_SCAN_HEAD 105
#define DEPOT_IR_SCAN_HEAD_COUNT 25 /* 105..129 */
/* Offsets inside the head block. */
#define DEPOT_SCAN_OFF_EPOCH 0
#define DEPOT_SCAN_OFF_SEQ 1
#define DEPOT_SCAN_OFF_TYPE 3
#define DEPOT_SCAN_OFF_QTY 4
#define DEPOT_SCAN_OFF_LEN 6
#define DEPOT_SCAN_OFF_BARCODE 7
#define DEPOT_BARCODE_MAX 32

#define DEPOT_SCAN_FLAG_FULL 0x0001u /* the FIFO is full: scans are refused */

enum depot_scan_type {
    DEPOT_SCAN_RECEIVE = 1, /* goods in */
    DEPOT_SCAN_PICK = 2,    /* goods out */
    DEPOT_SCAN_COUNT = 3,   /* physical count of a SKU */
    DEPOT_SCAN_LINE = 4,    /* an order line */
    DEPOT_SCAN_SUBMIT = 5,  /* submit the order lines so far (no barcode, qty 0) */
    DEPOT_SCAN_CONFIRM = 6, /* the keypad's OK, or a scanned sign code (qty 0): confirms the
                               notice shown (barcode "") or the one its code names */
};

#define DEPOT_HR_SCAN_ACK 100 /* 100..102 */
#define DEPOT_HR_DISPLAY_CODE 110
#define DEPOT_HR_DISPLAY_TEXT 111 /* 111..130 */
#define DEPOT_DISPLAY_TEXT_MAX 40
#define DEPOT_HR_SCANNER_END 131 /* first holding register after the block */

enum depot_display_code {
    DEPOT_DISPLAY_IDLE = 0,
    DEPOT_DISPLAY_INFO = 1,  /* e.g. "ORDER 17 SENT" */
    DEPOT_DISPLAY_OK = 2,    /* e.g. "ORDER 17 APPROVED" */
    DEPOT_DISPLAY_ERROR = 3, /* e.g. "UNKNOWN 4006381333931", "ORDER 17 REJECTED credit" */
    DEPOT_DISPLAY_BUSY = 4,
};

/* Capacity of a scale in grams: above it the status says overload. */
#define DEPOT_SCALE_CAPACITY_G 2000000

/* Helpers to split and join 32-bit values, high word first. */
#define DEPOT_U32_HI(v) ((unsigned short)(((unsigned long)(v) >> 16) & 0xFFFFu))
#define DEPOT_U32_LO(v) ((unsigned short)((unsigned long)(v)&0xFFFFu))
#define DEPOT_U32_JOIN(hi, lo) ((((unsigned long)(hi)&0xFFFFu) << 16) | ((unsigned long)(lo)&0xFFFFu))

#endif
