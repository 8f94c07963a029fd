/*
 * The field node on a Cortex-M board: the firmware's scale (or, built with
 * DEPOT_NODE_SCANNER, its scanner terminal) and its Modbus RTU slave, run
 * from one loop over what the board gives (mcu.h). No heap, no OS: every
 * object below is static, and the loop sleeps until the next interrupt when
 * nothing is pending.
 *
 *   bus (RS-485) ──▶ mb_rtu framing ──▶ mb_slave ──▶ scale / scanner registers
 *                                         reply ──▶ bus (driver enabled)
 *   tick (1 ms) ──▶ scale_sample() every SCALE_SAMPLE_PERIOD_MS
 *   aux line ──▶ service commands (below): the barcode reader's input, and
 *                on the emulated board the load cell's readings
 *
 * Service commands, one per line, each answered with one line, the same
 * words as the host board's control channel (boards/host/control*.c):
 *
 *   weight GRAMS          scale, boards without an ADC: the load cell reads GRAMS
 *                         (refused on a board with one)
 *   unit N                the node's Modbus unit id, 1..247, kept in the config
 *   fault cell|none       scale: the load cell fails / works again
 *   scan receive|pick|count|line BARCODE QTY     scanner: ok SEQ | error ...
 *   submit                scanner: ok SEQ (an order submit)
 *   confirm [CODE]        scanner: ok SEQ (the keypad's OK)
 *   display               scanner: ok CODE TEXT, as the gateway last wrote it
 *   mode receive|pick|count|line   scanner: what a bare code is (the keypad's mode keys;
 *                         pick after reset)
 *   BARCODE               scanner: a line of one word that is no command is what a
 *                         barcode reader sends: a scan of the mode, qty 1: ok SEQ
 *   status                ok kind=.. unit=.. requests=.. replies=.. bad_frames=..
 *                         stack_used=.. stack_size=.. (and the scale's or FIFO's state)
 *
 * A line longer than the buffer is dropped whole ("error line too long").
 * Replies are queued and sent as the UART takes them, between the bus's work:
 * a command that comes while a reply is still going out waits in the receive
 * ring.
 */
#include <string.h>

#include "mb_slave.h"
#include "mcu.h"
#ifdef DEPOT_NODE_SCANNER
#include "scanner.h"
#else
#include "scale.h"
#endif

#ifndef DEPOT_MCU_FIFO
#define DEPOT_MCU_FIFO 32 /* scan events a terminal holds: 44 bytes each */
#endif
#define AUX_LINE_MAX 96
#define AUX_REPLY_MAX 200
#define AUX_OUT_MAX (AUX_REPLY_MAX + 32)

struct depot_hal_ctx {
    int32_t weight_g; /* the fed reading (boards without an ADC) */
    uint8_t cell_fault;
    uint16_t display_code;
    char display_text[DEPOT_DISPLAY_TEXT_MAX + 1];
};

static depot_hal_ctx ctx;
static depot_hal hal;
static mb_slave slave;
static mb_rtu rtu;
static uint8_t rtu_buf[MB_RTU_ADU_MAX];
static uint8_t rsp[MB_RTU_ADU_MAX];
static char aux_line[AUX_LINE_MAX];
static size_t aux_len;
static uint8_t aux_overflow;
static char aux_out[AUX_OUT_MAX]; /* the reply going out on the service line */
static size_t aux_out_len, aux_out_sent;
#ifdef DEPOT_NODE_SCANNER
static uint8_t scan_mode = DEPOT_SCAN_PICK; /* what a bare code is */
static scanner app;
static depot_scan_event slots[DEPOT_MCU_FIFO];
#else
static scale app;
#endif

/* ---- the HAL the firmware sees ---- */

static int32_t hal_send(depot_hal_ctx *c, const uint8_t *buf, size_t len)
{
    (void)c;
    board_bus_send(buf, len);
    return (int32_t)len;
}

static int32_t hal_recv(depot_hal_ctx *c, uint8_t *buf, size_t len)
{
    (void)c;
    return board_bus_recv(buf, len);
}

static uint32_t hal_millis(depot_hal_ctx *c)
{
    (void)c;
    return mcu_millis();
}

static uint32_t hal_micros(depot_hal_ctx *c)
{
    (void)c;
    return mcu_micros();
}

static int32_t hal_load_cell(depot_hal_ctx *c, int32_t *grams)
{
    if (c->cell_fault)
        return -1;
    return board_load_cell_read(grams);
}

static int32_t hal_config_load(depot_hal_ctx *c, depot_config *cfg)
{
    (void)c;
    return mcu_cfg_load(cfg);
}

static int32_t hal_config_save(depot_hal_ctx *c, const depot_config *cfg)
{
    (void)c;
    return mcu_cfg_save(cfg);
}

static int32_t hal_display(depot_hal_ctx *c, uint16_t status, const char *text)
{
    c->display_code = status;
    size_t n = strlen(text);
    if (n > DEPOT_DISPLAY_TEXT_MAX)
        n = DEPOT_DISPLAY_TEXT_MAX;
    memcpy(c->display_text, text, n);
    c->display_text[n] = '\0';
    return 0;
}

/* ---- replies without printf (newlib's would want a heap) ---- */

typedef struct out {
    char *p;
    size_t cap, len;
} out;

static void put(out *o, const char *s)
{
    while (*s != '\0' && o->len + 1 < o->cap)
        o->p[o->len++] = *s++;
    o->p[o->len] = '\0';
}

static void put_u(out *o, uint32_t v)
{
    char d[11];
    size_t i = sizeof(d);
    d[--i] = '\0';
    do {
        d[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    put(o, d + i);
}

#ifndef DEPOT_NODE_SCANNER
static void put_i(out *o, int32_t v)
{
    if (v < 0) {
        put(o, "-");
        put_u(o, 0u - (uint32_t)v);
    } else {
        put_u(o, (uint32_t)v);
    }
}
#endif

static void put_kv(out *o, const char *key, uint32_t v)
{
    put(o, " ");
    put(o, key);
    put(o, "=");
    put_u(o, v);
}

/* A decimal int32 (optional sign); 0 when s is not one. */
static int parse_i32(const char *s, int32_t *v)
{
    int neg = *s == '-';
    s += neg || *s == '+';
    if (*s == '\0')
        return 0;
    uint32_t limit = neg ? 0x80000000u : 0x7FFFFFFFu, acc = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        uint32_t d = (uint32_t)(*s - '0');
        if (acc > (limit - d) / 10u)
            return 0;
        acc = acc * 10u + d;
    }
    *v = neg ? (int32_t)(0u - acc) : (int32_t)acc;
    return 1;
}

/* Splits off the next space-separated word (NULL when none). */
static char *word(char **s)
{
    while (**s == ' ')
        (*s)++;
    if (**s == '\0')
        return NULL;
    char *w = *s;
    while (**s != '\0' && **s != ' ')
        (*s)++;
    if (**s == ' ')
        *(*s)++ = '\0';
    return w;
}

/* `unit N`: a node's own unit id on a shared line, saved with its config. */
static void set_unit(depot_config *cfg, char *rest, out *o)
{
    char *arg = word(&rest);
    int32_t u = 0;
    if (arg == NULL || !parse_i32(arg, &u) || u < 1 || u > 247 || word(&rest) != NULL) {
        put(o, "error usage: unit 1..247");
        return;
    }
    cfg->unit_id = (uint8_t)u;
    slave.unit = (uint8_t)u;
    put(o, mcu_cfg_save(cfg) < 0 ? "error the config could not be saved" : "ok");
}

static void status_common(out *o)
{
    const mb_counters *c = &slave.counters;
    put_kv(o, "unit", slave.unit);
    put_kv(o, "requests", c->requests);
    put_kv(o, "replies", c->replies);
    put_kv(o, "exceptions", c->exceptions);
    put_kv(o, "bad_frames", c->bad_frames);
    put_kv(o, "other_unit", c->other_unit);
    put_kv(o, "stack_used", mcu_stack_used());
    put_kv(o, "stack_size", mcu_stack_size());
}

#ifdef DEPOT_NODE_SCANNER
static const char *const type_names[] = {"receive", "pick", "count", "line"};

static void scan_reply(out *o, int rc, uint32_t seq)
{
    static const char *const errors[] = {"fifo full", "bad barcode", "bad type", "bad quantity"};
    if (rc == SCANNER_OK) {
        put(o, "ok ");
        put_u(o, seq);
    } else {
        put(o, "error ");
        put(o, rc <= SCANNER_E_FULL && rc >= SCANNER_E_QTY ? errors[-rc - 1] : "scan refused");
    }
}

static void app_command(const char *cmd, char *rest, out *o)
{
    uint32_t seq = 0;
    if (strcmp(cmd, "scan") == 0) {
        char *type = word(&rest), *code = word(&rest), *qty = word(&rest);
        int32_t q = 0;
        int t = -1;
        for (int i = 0; type != NULL && i < 4; i++)
            if (strcmp(type, type_names[i]) == 0)
                t = DEPOT_SCAN_RECEIVE + i;
        if (qty == NULL || word(&rest) != NULL)
            put(o, "error usage: scan receive|pick|count|line BARCODE QTY");
        else if (t < 0)
            put(o, "error bad type");
        else if (!parse_i32(qty, &q))
            put(o, "error bad quantity");
        else
            scan_reply(o, scanner_scan(&app, (uint8_t)t, code, q, &seq), seq);
    } else if (strcmp(cmd, "submit") == 0 && word(&rest) == NULL) {
        scan_reply(o, scanner_scan(&app, DEPOT_SCAN_SUBMIT, "", 0, &seq), seq);
    } else if (strcmp(cmd, "confirm") == 0) {
        char *code = word(&rest);
        if (word(&rest) != NULL)
            put(o, "error usage: confirm [CODE]");
        else
            scan_reply(o, scanner_scan(&app, DEPOT_SCAN_CONFIRM, code ? code : "", 0, &seq), seq);
    } else if (strcmp(cmd, "unit") == 0) {
        set_unit(&app.cfg, rest, o);
    } else if (strcmp(cmd, "mode") == 0) {
        char *type = word(&rest);
        int t = -1;
        for (int i = 0; type != NULL && i < 4; i++)
            if (strcmp(type, type_names[i]) == 0)
                t = DEPOT_SCAN_RECEIVE + i;
        if (t < 0 || word(&rest) != NULL) {
            put(o, "error usage: mode receive|pick|count|line");
        } else {
            scan_mode = (uint8_t)t;
            put(o, "ok");
        }
    } else if (strcmp(cmd, "display") == 0) {
        put(o, "ok ");
        put_u(o, ctx.display_code);
        put(o, " ");
        put(o, ctx.display_text);
    } else if (strcmp(cmd, "status") == 0) {
        put(o, "ok kind=scanner");
        status_common(o);
        put_kv(o, "count", app.fifo.count);
        put_kv(o, "capacity", app.fifo.capacity);
        put_kv(o, "refused", app.fifo.refused);
        put_kv(o, "epoch", app.cfg.boot_epoch);
        put(o, " mode=");
        put(o, type_names[scan_mode - DEPOT_SCAN_RECEIVE]);
    } else if (word(&rest) == NULL) { /* a barcode reader's line: one code */
        scan_reply(o, scanner_scan(&app, scan_mode, cmd, 1, &seq), seq);
    } else {
        put(o, "error unknown command");
    }
}
#else
static void app_command(const char *cmd, char *rest, out *o)
{
    if (strcmp(cmd, "unit") == 0) {
        set_unit(&app.cfg, rest, o);
        return;
    }
    char *arg = word(&rest);
    int32_t g = 0;
    if (strcmp(cmd, "weight") == 0) {
        if (!board_load_cell_fed) {
            put(o, "error this board reads its load cell");
        } else if (arg == NULL || !parse_i32(arg, &g) || word(&rest) != NULL) {
            put(o, "error usage: weight GRAMS");
        } else {
            ctx.weight_g = g;
            put(o, "ok");
        }
    } else if (strcmp(cmd, "fault") == 0 && arg != NULL &&
               (strcmp(arg, "cell") == 0 || strcmp(arg, "none") == 0)) {
        ctx.cell_fault = arg[0] == 'c';
        put(o, "ok");
    } else if (strcmp(cmd, "status") == 0) {
        put(o, "ok kind=scale");
        status_common(o);
        put(o, " weight=");
        put_i(o, ctx.weight_g);
        put(o, " gross=");
        put_i(o, app.gross_g);
        put_kv(o, "status", app.status);
        put_kv(o, "samples", app.samples);
        put_kv(o, "boot_epoch", app.cfg.boot_epoch);
    } else {
        put(o, "error unknown command");
    }
}
#endif

int32_t mcu_fed_weight(int32_t *grams)
{
    *grams = ctx.weight_g;
    return 0;
}

/* Queues text (truncated to the room left) behind what is still going out. */
static void aux_queue(const char *text)
{
    if (aux_out_sent == aux_out_len)
        aux_out_len = aux_out_sent = 0;
    while (*text != '\0' && aux_out_len < sizeof(aux_out))
        aux_out[aux_out_len++] = *text++;
}

static void aux_flush(void)
{
    while (aux_out_sent < aux_out_len) {
        int32_t n =
            board_aux_write((const uint8_t *)aux_out + aux_out_sent, aux_out_len - aux_out_sent);
        if (n <= 0)
            return;
        aux_out_sent += (size_t)n;
    }
}

static void aux_command(char *line)
{
    static char reply[AUX_REPLY_MAX + 2];
    out o = {reply, AUX_REPLY_MAX, 0};
    char *rest = line;
    char *cmd = word(&rest);
    if (cmd == NULL)
        return; /* an empty line: nothing asked */
    app_command(cmd, rest, &o);
    reply[o.len++] = '\n';
    reply[o.len] = '\0';
    aux_queue(reply);
}

/* Handles the lines received so far; not while a reply is still going out. */
static void aux_poll(void)
{
    uint8_t c;
    while (aux_out_sent == aux_out_len && board_aux_recv(&c, 1) == 1) {
        if (c == '\n' || c == '\r') {
            aux_line[aux_len] = '\0';
            if (aux_overflow)
                aux_queue("error line too long\n");
            else
                aux_command(aux_line);
            aux_len = 0;
            aux_overflow = 0;
        } else if (aux_len + 1 < sizeof(aux_line)) {
            aux_line[aux_len++] = (char)c;
        } else {
            aux_overflow = 1;
        }
    }
    aux_flush();
}

/* ---- the bus ---- */

static void bus_answer(uint32_t now)
{
    size_t n = mb_rtu_poll(&rtu, &slave, now, rsp, sizeof(rsp));
    if (n > 0)
        board_bus_send(rsp, n);
}

/* Feeds what the bus received to the framer; answers a frame whose silence has passed. */
static void bus_poll(void)
{
    uint8_t in[64];
    int32_t n = board_bus_recv(in, sizeof(in));
    uint32_t now = mcu_micros();
    const uint8_t *p = in;
    while (n > 0) {
        bus_answer(now);
        size_t used = mb_rtu_receive(&rtu, p, (size_t)n, now);
        p += used;
        n -= (int32_t)used;
    }
    bus_answer(mcu_micros());
}

int main(void)
{
    board_init();
    hal = (depot_hal){
        .ctx = &ctx,
        .send = hal_send,
        .recv = hal_recv,
        .millis = hal_millis,
        .micros = hal_micros,
        .load_cell_read = hal_load_cell,
        .config_load = hal_config_load,
        .config_save = hal_config_save,
        .display_write = hal_display,
    };
#ifdef DEPOT_NODE_SCANNER
    if (scanner_init(&app, &hal, 0, slots, DEPOT_MCU_FIFO) != SCANNER_OK)
        aux_queue("error scanner init\n");
    mb_slave_init(&slave, app.cfg.unit_id, &scanner_modbus_ops, &app);
    aux_queue("ready scanner\n");
#else
    scale_init(&app, &hal, 0);
    mb_slave_init(&slave, app.cfg.unit_id, &scale_modbus_ops, &app);
    aux_queue("ready scale\n");
    uint32_t next_sample = mcu_millis();
#endif
    mb_rtu_init(&rtu, rtu_buf, sizeof(rtu_buf), board_bus_baud());
    for (;;) {
        bus_poll();
        aux_poll();
#ifndef DEPOT_NODE_SCANNER
        if ((int32_t)(mcu_millis() - next_sample) >= 0) {
            scale_sample(&app);
            next_sample += SCALE_SAMPLE_PERIOD_MS;
        }
#endif
        mcu_idle(); /* a byte or the 1 ms tick wakes it: a frame's end is seen on the tick */
    }
}
