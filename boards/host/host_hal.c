/*
 * Host HAL: what a real board does with a UART, a load-cell ADC and a flash
 * page, done with a file descriptor, a number and a file.
 *
 * The state file is "key=value" lines (unit, unit_mg, tare_g, filter,
 * boot_epoch); it is written to PATH.tmp and renamed, so a crash never leaves
 * half a file. Without a state path the config lives in the ctx and boot
 * epochs restart at 1 with the process.
 */
#include "host_hal.h"

#include <errno.h>
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

static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static int32_t hal_load_cell_read(depot_hal_ctx *ctx, int32_t *grams)
{
    if (ctx->cell_fault)
        return -1;
    int64_t g = ctx->weight_g;
    if (ctx->noise_g > 0)
        g += (int64_t)(xorshift32(&ctx->rng) % (2u * (uint32_t)ctx->noise_g + 1u)) - ctx->noise_g;
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

static int32_t hal_config_save(depot_hal_ctx *ctx, const depot_config *cfg)
{
    ctx->memory_cfg = *cfg;
    ctx->memory_cfg_valid = 1;
    if (ctx->state_path[0] == '\0')
        return 0;
    char tmp[sizeof(ctx->state_path) + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", ctx->state_path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "unit=%u\nunit_mg=%lu\ntare_g=%ld\nfilter=%u\nboot_epoch=%u\n", cfg->unit_id,
            (unsigned long)cfg->unit_mg, (long)cfg->tare_g, cfg->filter, cfg->boot_epoch);
    if (fclose(f) != 0 || rename(tmp, ctx->state_path) != 0)
        return -1;
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
}
