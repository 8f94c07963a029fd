/*
 * Faults of the wire, for the gateway's fault tests: what the firmware's
 * slave core does not do itself (it has silence, a bad CRC and exceptions,
 * mb_slave.h), done to a reply after the node built it, or to every byte
 * of an RTU line.
 *
 *   unit      the reply carries another unit id (the next one, 247 -> 1),
 *             with a valid CRC: a reply from the wrong node
 *   truncate  only the first half of the reply is sent (RTU: no CRC; TCP:
 *             the MBAP header as built, half the PDU), then nothing
 *   noise     (the line) each byte crossing it, either way, is replaced with
 *             probability ppm / 10^6 by another byte, from a seeded xorshift32
 *
 * The request was handled as usual: a write is applied even when its reply
 * is cut or misaddressed, as on a real line.
 */
#include "host.h"

static uint8_t other_unit(uint8_t unit)
{
    return unit >= 247 ? 1 : (uint8_t)(unit + 1);
}

size_t host_wire_reply(const host_node *node, uint8_t *adu, size_t len, int rtu)
{
    if (len == 0)
        return 0;
    switch (node->wire_fault) {
    case HOST_WIRE_UNIT:
        if (rtu && len >= 3) {
            adu[0] = other_unit(adu[0]);
            uint16_t crc = mb_crc16(adu, len - 2);
            adu[len - 2] = (uint8_t)(crc & 0xFFu);
            adu[len - 1] = (uint8_t)(crc >> 8);
        } else if (!rtu && len >= 7) {
            adu[6] = other_unit(adu[6]);
        }
        return len;
    case HOST_WIRE_TRUNCATE:
        if (rtu)
            return len / 2 > 0 ? len / 2 : 1;
        return len > 8 ? 7 + (len - 7) / 2 : len - 1;
    default:
        return len;
    }
}

void host_wire_noise(rtu_line *line, uint8_t *data, size_t n)
{
    line->noise_bytes += n;
    if (line->noise_ppm == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (host_xorshift32(&line->noise_rng) % 1000000u >= line->noise_ppm)
            continue;
        uint8_t flip = (uint8_t)(host_xorshift32(&line->noise_rng) % 255u + 1u); /* never 0 */
        data[i] ^= flip;
        line->noise_corrupted++;
    }
}

void host_wire_noise_set(rtu_line *line, uint32_t ppm, uint32_t seed)
{
    line->noise_ppm = ppm;
    line->noise_rng = seed ? seed : 1u;
    line->noise_bytes = 0;
    line->noise_corrupted = 0;
}
