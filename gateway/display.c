/*
 * display.c - the text of a terminal's display, ready for its registers.
 *
 * The node shows ASCII only, 40 characters: longer texts are cut (a long
 * rejection reason loses its tail, never the order number in front), and
 * anything a hub might put in a reason outside 0x20..0x7E becomes '?'.
 */
#include "display.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void gw_display_set(struct gw_display *d, int code, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    size_t n;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    n = strlen(buf);
    while (n && buf[n - 1] == ' ')
        buf[--n] = '\0';
    if (n > DEPOT_DISPLAY_TEXT_MAX)
        n = DEPOT_DISPLAY_TEXT_MAX;
    for (size_t i = 0; i < n; i++)
        d->text[i] = (buf[i] >= 0x20 && buf[i] <= 0x7E) ? buf[i] : '?';
    d->text[n] = '\0';
    d->code = code;
}

void gw_display_registers(const struct gw_display *d, uint16_t regs[1 + DEPOT_DISPLAY_TEXT_MAX / 2])
{
    unsigned char t[DEPOT_DISPLAY_TEXT_MAX] = {0};
    memcpy(t, d->text, strnlen(d->text, DEPOT_DISPLAY_TEXT_MAX));
    regs[0] = (uint16_t)d->code;
    for (int i = 0; i < DEPOT_DISPLAY_TEXT_MAX / 2; i++)
        regs[1 + i] = (uint16_t)(t[2 * i] << 8 | t[2 * i + 1]);
}
