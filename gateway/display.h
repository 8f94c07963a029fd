/*
 * What a scanner terminal's display shows: a status code and up to 40 ASCII
 * characters (DEPOT_HR_DISPLAY_CODE / DEPOT_HR_DISPLAY_TEXT).
 */
#ifndef GW_DISPLAY_H
#define GW_DISPLAY_H

#include <stdint.h>

#include "depot/modbus_map.h"

struct gw_display {
    int code; /* enum depot_display_code */
    char text[DEPOT_DISPLAY_TEXT_MAX + 1];
};

/* Format the text (printf), truncated to 40 characters; bytes outside printable ASCII become '?'.
 */
void gw_display_set(struct gw_display *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The 21 holding registers 110..130 of d (code, then two characters per register, first high). */
void gw_display_registers(const struct gw_display *d,
                          uint16_t regs[1 + DEPOT_DISPLAY_TEXT_MAX / 2]);

#endif
