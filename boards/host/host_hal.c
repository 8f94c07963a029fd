/*
 * Host HAL: what a real board does with a UART, a load-cell ADC and a flash
 * page, done with a file descriptor, a number and a file.
 *
 * The state file is "key=value" lines (unit, unit_mg, tare_g, filter,
 * boot_epoch), and on a scanner its FIFO:
 *
 *   scan_ack=EPOCH,SEQ             the last acknowledged pair
 *   scan_refused=N
 *   scan=EPOCH,SEQ,TYPE,QTY,CODE   one line per event, oldest first; CODE is
 *                                  the rest of the line (printable ASCII)
 *
 * Every save rewrites the whole file from the config and the FIFO (the
 * firmware's store, remembered by pointer) to PATH.tmp, fsyncs it and
 * renames it over PATH, so a crash or a power cut leaves the old file or the
 * new one, never half of one. Without a state path the config lives in the
 * ctx, the FIFO in the firmware's RAM, and boot epochs restart at 1 with the
 * process.
 */
#include "host_hal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t host_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t hal_millis(depot_hal_ctx *ctx)
{
    (void)ctx;
    return (uint32_t)(host_now_us() / 1000u);
}

static uint32_t hal_micros(depot_hal_ctx *ctx)
{
    (void)ctx;
    return (uint32_t)host_now_us();
}

static int32_t hal_send(depot_hal_ctx *ctx, const uint8_t *buf, size_t len)
{
    ssize_t n = write(ctx->stream_fd, buf, len);
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    return (int32_t)n;
}

static int32_t hal_recv(depot_hal_ctx *ctx, uint8_t *buf, size_t len)
{
    ssize_t n = read(ctx->stream_fd, buf, len);
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    return n == 0 ? -1 : (int32_t)n;
}

static int32_t hal_load_cell_read(depot_hal_ctx *ctx, int32_t *grams)
{
    if (ctx->cell_fault)
        return -1;
    int64_t g = ctx->weight_g;
    if (ctx->noise_g > 0)
        g += (int64_t)(host_xorshift32(&ctx->rng) % (2u * (uint32_t)ctx->noise_g + 1u)) -
             ctx->noise_g;
    *grams = g > INT32_MAX ? INT32_MAX : g < INT32_MIN ? INT32_MIN : (int32_t)g;
    return 0;
}

static int parse_state_line(depot_config *cfg, const char *line)
{
    char key[32];
    long long v;
    if (sscanf(line, "%31[a-z_]=%lld", key, &v) != 2)
        return -1;
    if (strcmp(key, "unit") == 0)
        cfg->unit_id = (uint8_t)v;
    else if (strcmp(key, "unit_mg") == 0)
        cfg->unit_mg = (uint32_t)v;
    else if (strcmp(key, "tare_g") == 0)
        cfg->tare_g = (int32_t)v;
    else if (strcmp(key, "filter") == 0)
        cfg->filter = (uint8_t)v;
    else if (strcmp(key, "boot_epoch") == 0)
        cfg->boot_epoch = (uint16_t)v;
    return 0;
}

static int32_t hal_config_load(depot_hal_ctx *ctx, depot_config *cfg)
{
    if (ctx->state_path[0] == '\0') {
        if (!ctx->memory_cfg_valid)
            return -1;
        *cfg = ctx->memory_cfg;
        return 0;
    }
    FILE *f = fopen(ctx->state_path, "r");
    if (f == NULL)
        return -1;
    char line[128];
    while (fgets(line, sizeof(line), f) != NULL)
        (void)parse_state_line(cfg, line);
    fclose(f);
    return 0;
}

static void write_fifo(FILE *f, const depot_scan_store *st)
{
    fprintf(f, "scan_ack=%u,%" PRIu32 "\nscan_refused=%" PRIu32 "\n", st->ack_epoch, st->ack_seq,
            st->refused);
    for (uint16_t i = 0; i < st->count; i++) {
        const depot_scan_event *ev = &st->events[(st->head + i) % st->capacity];
        fprintf(f, "scan=%u,%" PRIu32 ",%u,%" PRId32 ",%.*s\n", ev->epoch, ev->seq, ev->type,
                ev->qty, (int)ev->len, ev->barcode);
    }
}

/* Rewrites the state file from the ctx: temp file, fsync, rename. */
static int32_t write_state(depot_hal_ctx *ctx)
{
    if (ctx->state_path[0] == '\0')
        return 0;
    char tmp[sizeof(ctx->state_path) + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", ctx->state_path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    const depot_config *cfg = &ctx->memory_cfg;
    if (ctx->memory_cfg_valid)
        fprintf(f, "unit=%u\nunit_mg=%lu\ntare_g=%ld\nfilter=%u\nboot_epoch=%u\n", cfg->unit_id,
                (unsigned long)cfg->unit_mg, (long)cfg->tare_g, cfg->filter, cfg->boot_epoch);
    if (ctx->fifo != NULL)
        write_fifo(f, ctx->fifo);
    int ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0 || !ok || rename(tmp, ctx->state_path) != 0)
        return -1;
    return 0;
}

static int32_t hal_config_save(depot_hal_ctx *ctx, const depot_config *cfg)
{
    ctx->memory_cfg = *cfg;
    ctx->memory_cfg_valid = 1;
    return write_state(ctx);
}

static int32_t hal_fifo_save(depot_hal_ctx *ctx, const depot_scan_store *store)
{
    ctx->fifo = store;
    return write_state(ctx);
}

/* Parses "EPOCH,SEQ,TYPE,QTY,CODE" into ev; returns 0 or -1. */
static int parse_event(const char *s, depot_scan_event *ev)
{
    unsigned epoch, type;
    uint32_t seq;
    int32_t qty;
    int used = 0;
    if (sscanf(s, "%u,%" SCNu32 ",%u,%" SCNd32 ",%n", &epoch, &seq, &type, &qty, &used) != 4 ||
        used == 0 || epoch > UINT16_MAX || type > UINT8_MAX)
        return -1;
    size_t len = strcspn(s + used, "\r\n");
    if (len > DEPOT_BARCODE_MAX)
        return -1;
    memset(ev, 0, sizeof(*ev));
    ev->epoch = (uint16_t)epoch;
    ev->seq = seq;
    ev->type = (uint8_t)type;
    ev->qty = qty;
    ev->len = (uint8_t)len;
    memcpy(ev->barcode, s + used, len);
    return 0;
}

/* One line of the FIFO part; returns -1 when it is malformed. */
static int parse_fifo_line(depot_scan_store *st, const char *line, int32_t *stored)
{
    unsigned epoch;
    if (strncmp(line, "scan=", 5) == 0) {
        depot_scan_event ev;
        if (parse_event(line + 5, &ev) < 0)
            return -1;
        if (st->count < st->capacity)
            st->events[st->count++] = ev;
        (*stored)++;
    } else if (strncmp(line, "scan_ack=", 9) == 0) {
        if (sscanf(line + 9, "%u,%" SCNu32, &epoch, &st->ack_seq) != 2 || epoch > UINT16_MAX)
            return -1;
        st->ack_epoch = (uint16_t)epoch;
    } else if (strncmp(line, "scan_refused=", 13) == 0) {
        if (sscanf(line + 13, "%" SCNu32, &st->refused) != 1)
            return -1;
    }
    return 0;
}

static int32_t hal_fifo_load(depot_hal_ctx *ctx, depot_scan_store *store)
{
    ctx->fifo = store;
    if (ctx->state_path[0] == '\0')
        return -1;
    FILE *f = fopen(ctx->state_path, "r");
    if (f == NULL)
        return -1;
    char line[160];
    int32_t stored = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL)
        rc = parse_fifo_line(store, line, &stored);
    fclose(f);
    return rc < 0 ? -2 : stored;
}

static int32_t hal_display_write(depot_hal_ctx *ctx, uint16_t status, const char *text)
{
    ctx->display_code = status;
    snprintf(ctx->display_text, sizeof(ctx->display_text), "%s", text);
    ctx->display_writes++;
    return 0;
}

void host_hal_init(depot_hal *hal, depot_hal_ctx *ctx, const char *state_path, int32_t noise_g,
                   uint32_t seed)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->stream_fd = -1;
    ctx->noise_g = noise_g;
    ctx->rng = seed != 0 ? seed : 0x9E3779B9u;
    if (state_path != NULL)
        snprintf(ctx->state_path, sizeof(ctx->state_path), "%s", state_path);
    memset(hal, 0, sizeof(*hal));
    hal->ctx = ctx;
    hal->send = hal_send;
    hal->recv = hal_recv;
    hal->millis = hal_millis;
    hal->micros = hal_micros;
    hal->load_cell_read = hal_load_cell_read;
    hal->config_load = hal_config_load;
    hal->config_save = hal_config_save;
    hal->fifo_load = hal_fifo_load;
    hal->fifo_save = hal_fifo_save;
    hal->display_write = hal_display_write;
}
