/*
 * modbus_probe: one Modbus request through libmodbus, for the interop system
 * tests. The result is one line on stdout that a script can match:
 *
 *   ok V1 V2 ...           registers read (decimal), or "ok" for writes
 *   ok id HEX...           FC 17 payload in hex, then "text ..." (printable part)
 *   ok count=N capacity=C flags=F refused=R epoch=E seq=S type=T qty=Q len=L barcode=B
 *                          scanner: the FIFO state and head event (IR 100..129, ONE FC 04)
 *   ok CODE TEXT           scanner: the display registers (HR 110..130, FC 03)
 *   error timeout | badcrc | baddata | exception N | other MESSAGE
 *
 * usage: modbus_probe [--timeout MS] tcp HOST PORT UNIT CMD ARGS...
 *        modbus_probe [--timeout MS] rtu DEVICE BAUD UNIT CMD ARGS...
 * CMD: ri ADDR N | rh ADDR N | wr ADDR V | wm ADDR V1,V2,... | id
 *      | head | ack EPOCH SEQ (ONE FC 16 to HR 100..102)
 *      | display CODE TEXT (ONE FC 16 to HR 110..130) | rdisplay
 * Exit status: 0 ok, 1 Modbus error, 2 usage or connection error.
 */
#include <errno.h>
#include <inttypes.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_error(void)
{
    int e = errno;
    if (e == ETIMEDOUT)
        printf("error timeout\n");
    else if (e == EMBBADCRC)
        printf("error badcrc\n");
    else if (e == EMBBADDATA)
        printf("error baddata\n");
    else if (e > MODBUS_ENOBASE && e <= EMBXGTAR)
        printf("error exception %d\n", e - MODBUS_ENOBASE);
    else
        printf("error other %s\n", modbus_strerror(e));
}

static int do_read(modbus_t *ctx, int input, int addr, int n)
{
    uint16_t regs[MODBUS_MAX_READ_REGISTERS];
    if (n < 1 || n > MODBUS_MAX_READ_REGISTERS)
        return 2;
    int rc = input ? modbus_read_input_registers(ctx, addr, n, regs)
                   : modbus_read_registers(ctx, addr, n, regs);
    if (rc < 0)
        return print_error(), 1;
    printf("ok");
    for (int i = 0; i < rc; i++)
        printf(" %u", regs[i]);
    printf("\n");
    return 0;
}

static int do_write_multiple(modbus_t *ctx, int addr, char *list)
{
    uint16_t regs[MODBUS_MAX_WRITE_REGISTERS];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t && n < MODBUS_MAX_WRITE_REGISTERS;
         t = strtok_r(NULL, ",", &save))
        regs[n++] = (uint16_t)strtoul(t, NULL, 0);
    if (modbus_write_registers(ctx, addr, n, regs) != n)
        return print_error(), 1;
    printf("ok\n");
    return 0;
}

static int do_report_id(modbus_t *ctx)
{
    uint8_t id[MODBUS_MAX_PDU_LENGTH];
    int rc = modbus_report_slave_id(ctx, sizeof(id), id);
    if (rc < 0)
        return print_error(), 1;
    printf("ok id");
    for (int i = 0; i < rc; i++)
        printf(" %02x", id[i]);
    printf(" text ");
    for (int i = 2; i < rc; i++)
        putchar(id[i] >= 32 && id[i] < 127 ? id[i] : '.');
    printf("\n");
    return 0;
}

/* Scanner block: IR 100..129 in one request. */
static int do_head(modbus_t *ctx)
{
    uint16_t r[30];
    if (modbus_read_input_registers(ctx, 100, 30, r) != 30)
        return print_error(), 1;
    char code[33] = "";
    for (int i = 0; i < 32 && i < r[11]; i++)
        code[i] = (char)(i % 2 == 0 ? r[12 + i / 2] >> 8 : r[12 + i / 2] & 0xFF);
    printf("ok count=%u capacity=%u flags=%u refused=%" PRIu32 " epoch=%u seq=%" PRIu32
           " type=%u qty=%" PRId32 " len=%u barcode=%s\n",
           r[0], r[1], r[2], (uint32_t)r[3] << 16 | r[4], r[5], (uint32_t)r[6] << 16 | r[7], r[8],
           (int32_t)((uint32_t)r[9] << 16 | r[10]), r[11], code);
    return 0;
}

static int do_ack(modbus_t *ctx, const char *epoch, const char *seq)
{
    uint32_t s = (uint32_t)strtoul(seq, NULL, 0);
    uint16_t r[3] = {(uint16_t)strtoul(epoch, NULL, 0), (uint16_t)(s >> 16), (uint16_t)s};
    if (modbus_write_registers(ctx, 100, 3, r) != 3)
        return print_error(), 1;
    printf("ok\n");
    return 0;
}

/* Display: HR 110 code, 111..130 text (NUL-padded), in one FC 16. */
static int do_display(modbus_t *ctx, const char *code, const char *text)
{
    uint16_t r[21] = {(uint16_t)strtoul(code, NULL, 0)};
    char buf[40] = {0};
    memcpy(buf, text, strnlen(text, sizeof(buf)));
    for (int i = 0; i < 20; i++)
        r[1 + i] = (uint16_t)((uint8_t)buf[2 * i] << 8 | (uint8_t)buf[2 * i + 1]);
    if (modbus_write_registers(ctx, 110, 21, r) != 21)
        return print_error(), 1;
    printf("ok\n");
    return 0;
}

static int do_read_display(modbus_t *ctx)
{
    uint16_t r[21];
    char text[41] = {0};
    if (modbus_read_registers(ctx, 110, 21, r) != 21)
        return print_error(), 1;
    for (int i = 0; i < 40; i++)
        text[i] = (char)(i % 2 == 0 ? r[1 + i / 2] >> 8 : r[1 + i / 2] & 0xFF);
    printf("ok %u %s\n", r[0], text);
    return 0;
}

static int run(modbus_t *ctx, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "id") == 0)
        return do_report_id(ctx);
    if (strcmp(cmd, "head") == 0)
        return do_head(ctx);
    if (strcmp(cmd, "rdisplay") == 0)
        return do_read_display(ctx);
    if (argc >= 3 && strcmp(cmd, "ack") == 0)
        return do_ack(ctx, argv[1], argv[2]);
    if (argc >= 3 && strcmp(cmd, "display") == 0)
        return do_display(ctx, argv[1], argv[2]);
    if (argc < 3)
        return 2;
    int addr = atoi(argv[1]);
    if (strcmp(cmd, "ri") == 0 || strcmp(cmd, "rh") == 0)
        return do_read(ctx, cmd[1] == 'i', addr, atoi(argv[2]));
    if (strcmp(cmd, "wr") == 0) {
        if (modbus_write_register(ctx, addr, (uint16_t)strtoul(argv[2], NULL, 0)) != 1)
            return print_error(), 1;
        printf("ok\n");
        return 0;
    }
    if (strcmp(cmd, "wm") == 0)
        return do_write_multiple(ctx, addr, argv[2]);
    return 2;
}

static modbus_t *open_ctx(char **argv)
{
    if (strcmp(argv[0], "tcp") == 0)
        return modbus_new_tcp(argv[1], atoi(argv[2]));
    if (strcmp(argv[0], "rtu") == 0)
        return modbus_new_rtu(argv[1], atoi(argv[2]), 'N', 8, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    long timeout_ms = 1000;
    if (argc > 2 && strcmp(argv[1], "--timeout") == 0) {
        timeout_ms = atol(argv[2]);
        argc -= 2;
        argv += 2;
    }
    if (argc < 6) {
        fprintf(stderr, "usage: modbus_probe [--timeout MS] tcp|rtu WHERE PORT|BAUD UNIT CMD...\n");
        return 2;
    }
    modbus_t *ctx = open_ctx(argv + 1);
    if (ctx == NULL || modbus_set_slave(ctx, atoi(argv[4])) < 0) {
        fprintf(stderr, "modbus_probe: %s\n", modbus_strerror(errno));
        return 2;
    }
    modbus_set_response_timeout(ctx, (uint32_t)(timeout_ms / 1000),
                                (uint32_t)(timeout_ms % 1000) * 1000);
    if (modbus_connect(ctx) < 0) {
        printf("error connect %s\n", modbus_strerror(errno));
        modbus_free(ctx);
        return 2;
    }
    int rc = run(ctx, argc - 5, argv + 5);
    fflush(stdout);
    modbus_close(ctx);
    modbus_free(ctx);
    return rc;
}
