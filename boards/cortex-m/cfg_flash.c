/*
 * The node's configuration in one flash page of the board, as a journal:
 * each save appends a 16-byte record (the 12-byte depot_config, a magic and
 * a CRC) after the last one, and only a full page is erased (then the record
 * is written at its start). The last record whose CRC holds is the config.
 * A page of 1 KiB takes 64 saves per erase: a save happens at every boot (the
 * boot epoch) and when the gateway changes the config, so the flash's
 * endurance (10,000 erases) lasts 640,000 boots.
 *
 * A power loss during a save leaves the record before it in force (its CRC
 * holds, the torn one's does not); during the erase of a full page, the
 * config is lost and the node starts from defaults (boot epoch 1).
 */
#include <string.h>

#include "depot/modbus_crc.h"
#include "mcu.h"

#define REC_WORDS 4u
#define REC_MAGIC 0xD3u

typedef union rec {
    uint32_t w[REC_WORDS];
    struct {
        depot_config cfg; /* 12 bytes */
        uint8_t magic;
        uint8_t pad;
        uint16_t crc; /* CRC-16/MODBUS of the 14 bytes before it */
    } r;
} rec;

_Static_assert(sizeof(depot_config) == 12, "a record is 16 bytes");
_Static_assert(sizeof(rec) == REC_WORDS * 4u, "a record is 16 bytes");

static uint32_t records(void)
{
    return board_cfg_page_size / (REC_WORDS * 4u);
}

static int erased(const uint32_t *w)
{
    for (uint32_t i = 0; i < REC_WORDS; i++)
        if (w[i] != 0xFFFFFFFFu)
            return 0;
    return 1;
}

static int valid(const rec *r)
{
    return r->r.magic == REC_MAGIC &&
           r->r.crc == depot_modbus_crc16((const uint8_t *)r, offsetof(rec, r.crc));
}

int32_t mcu_cfg_load(depot_config *cfg)
{
    const uint32_t *page = board_cfg_page();
    int found = 0;
    for (uint32_t i = 0; i < records(); i++) {
        const uint32_t *at = page + i * REC_WORDS;
        if (erased(at))
            break;
        rec r;
        memcpy(&r, at, sizeof(r));
        if (valid(&r)) {
            *cfg = r.r.cfg;
            found = 1;
        }
    }
    return found ? 0 : -1;
}

int32_t mcu_cfg_save(const depot_config *cfg)
{
    const uint32_t *page = board_cfg_page();
    uint32_t slot = 0;
    while (slot < records() && !erased(page + slot * REC_WORDS))
        slot++;
    if (slot == records()) {
        if (board_flash_erase(page) < 0)
            return -1;
        slot = 0;
    }
    rec r;
    memset(&r, 0, sizeof(r));
    r.r.cfg = *cfg;
    r.r.magic = REC_MAGIC;
    r.r.crc = depot_modbus_crc16((const uint8_t *)&r, offsetof(rec, r.crc));
    for (uint32_t i = 0; i < REC_WORDS; i++)
        if (board_flash_write(page + slot * REC_WORDS + i, r.w[i]) < 0)
            return -1;
    return 0;
}
