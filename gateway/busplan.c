/*
 * busplan.c - arithmetic of a Modbus RTU line, kept apart from the poller so
 * the numbers can be tested and printed by `depot-gateway check`.
 *
 * A character is 1 start bit + data bits + parity bit (if any) + stop bits:
 * 11 bits in the standard 8E1 or 8N2 framing. Frames are separated by 3.5
 * characters of silence; above 19200 baud the specification fixes it at
 * 1.75 ms instead (the timers would be too short to honour). One poll is
 *
 *   request (8 bytes) + silence + turnaround + response (5 + 2n bytes) + silence
 *
 * and the line's capacity is 1000 / poll_ms polls per second. The poller uses
 * the same silence figure between frames.
 */
#include "busplan.h"

double gw_line_silence_us(const struct gw_line *line)
{
    double bits = 1.0 + line->data_bits + (line->parity != 'N') + line->stop_bits;
    if (line->baud > 19200)
        return 1750.0;
    return 3.5 * bits * 1e6 / line->baud;
}

void gw_busplan_compute(const struct gw_line *line, int n_regs, const int *periods_ms, int n,
                        struct gw_bus_plan *plan)
{
    plan->bits_per_char = 1.0 + line->data_bits + (line->parity != 'N') + line->stop_bits;
    plan->char_us = plan->bits_per_char * 1e6 / line->baud;
    plan->silence_us = gw_line_silence_us(line);
    plan->request_bytes = 8;               /* unit, fc, addr(2), count(2), crc(2) */
    plan->response_bytes = 5 + 2 * n_regs; /* unit, fc, byte count, data, crc(2) */
    plan->poll_ms =
        ((plan->request_bytes + plan->response_bytes) * plan->char_us + 2 * plan->silence_us) /
            1000.0 +
        line->turnaround_ms;
    plan->capacity_per_s = 1000.0 / plan->poll_ms;
    plan->demand_per_s = 0;
    for (int i = 0; i < n; i++)
        plan->demand_per_s += 1000.0 / periods_ms[i];
    plan->load = plan->demand_per_s / plan->capacity_per_s;
}
