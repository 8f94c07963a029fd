/*
 * Fuzz target: the firmware's Modbus RTU framing and PDU handling, against
 * the real scale application (register map, commands, calibration) on the
 * test board. The input is a line: chunks of [gap byte][length byte][bytes];
 * the gap byte is the silence before the chunk in character times (a gap of
 * 4 or more ends the frame before it). Properties: a reply fits an RTU ADU,
 * carries the node's unit id and a valid CRC.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hal.h"
#include "mb_slave.h"
#include "scale.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const uint8_t *rsp, size_t n, uint8_t unit)
{
    uint16_t crc;
    if (n == 0)
        return;
    if (n < 4 || n > MB_RTU_ADU_MAX || rsp[0] != unit)
        abort();
    crc = mb_crc16(rsp, n - 2);
    if (rsp[n - 2] != (crc & 0xFF) || rsp[n - 1] != (crc >> 8))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct depot_hal_ctx board;
    static depot_hal hal;
    static scale sc;
    static mb_slave slave;
    uint8_t buf[MB_RTU_ADU_MAX], rsp[MB_RTU_ADU_MAX];
    mb_rtu r;
    uint32_t now = 1000;
    size_t i = 0;

    memset(&board, 0, sizeof(board));
    fake_board(&board, &hal);
    board.grams = 1234;
    scale_init(&sc, &hal, 0);
    mb_slave_init(&slave, sc.cfg.unit_id, &scale_modbus_ops, &sc);
    mb_rtu_init(&r, buf, sizeof(buf), 19200);
    while (i + 2 <= size) {
        uint8_t gap = data[i], len = data[i + 1];
        size_t n, used = 0;
        i += 2;
        n = len < size - i ? len : size - i;
        now += (uint32_t)gap * r.char_us;
        check_reply(rsp, mb_rtu_poll(&r, &slave, now, rsp, sizeof(rsp)), sc.cfg.unit_id);
        while (used < n) {
            size_t k = mb_rtu_receive(&r, data + i + used, n - used, now);
            used += k;
            now += (uint32_t)k * r.char_us;
            if (k == 0 || used < n) {
                now += r.silence_us;
                check_reply(rsp, mb_rtu_poll(&r, &slave, now, rsp, sizeof(rsp)), sc.cfg.unit_id);
            }
        }
        i += n;
        board.ms += 100;
        scale_sample(&sc);
    }
    now += r.silence_us + r.char_us;
    check_reply(rsp, mb_rtu_poll(&r, &slave, now, rsp, sizeof(rsp)), sc.cfg.unit_id);
    return 0;
}
