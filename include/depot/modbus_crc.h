/*
 * CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF; sent low byte first):
 * the one checksum of an RTU frame, for the node firmware (mb_slave.c) and
 * the gateway's own reading of RTU answers (poller.c). Header only, no heap.
 */
#ifndef DEPOT_MODBUS_CRC_H
#define DEPOT_MODBUS_CRC_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t depot_modbus_crc16(const uint8_t *data, size_t len)
{
    uint16_t crc = 0xFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 1u) ? (uint16_t)((crc >> 1) ^ 0xA001u) : (uint16_t)(crc >> 1);
    }
    return crc;
}

#endif
