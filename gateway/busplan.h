/*
 * Capacity planning of a Modbus RTU line: how long one poll of a scale block
 * takes on the wire, how many polls per second the line carries, and how many
 * the configuration asks for.
 */
#ifndef GW_BUSPLAN_H
#define GW_BUSPLAN_H

struct gw_line {
    int baud;
    int data_bits;
    int parity; /* 'N', 'E', 'O' */
    int stop_bits;
    int turnaround_ms; /* the slave's think time between request and response */
};

struct gw_bus_plan {
    double bits_per_char;  /* start + data + parity + stop */
    double char_us;        /* one character on the wire */
    double silence_us;     /* the 3.5-character inter-frame gap (1750 us above 19200 baud) */
    int request_bytes;     /* FC 04 request */
    int response_bytes;    /* FC 04 response with n registers */
    double poll_ms;        /* request + silence + turnaround + response + silence */
    double capacity_per_s; /* polls the line can carry per second */
    double demand_per_s;   /* polls the configuration asks for */
    double load;           /* demand / capacity */
};

/* Silence between two frames, in microseconds, per the Modbus serial line spec. */
double gw_line_silence_us(const struct gw_line *line);

/*
 * Plan polls of n_regs input registers on line, for nodes polled every
 * periods_ms[i] (n of them).
 */
void gw_busplan_compute(const struct gw_line *line, int n_regs, const int *periods_ms, int n,
                        struct gw_bus_plan *plan);

#endif
