/*
 * The scanner terminal's control commands: the stand-in for its barcode
 * reader, its keypad, its power switch and a look at its display.
 *
 *   scan receive|pick|count|line BARCODE QTY   ok SEQ | error fifo full | error bad ...
 *   submit                                     ok SEQ (an order submit: no barcode, qty 0)
 *   confirm [CODE]                             ok SEQ (the keypad's OK, or a scanned sign
 *                                              code: confirms a notice; qty 0)
 *   reboot                                     ok EPOCH (the FIFO stays, seq restarts)
 *   display                                    ok CODE TEXT (as the display_write HAL
 *                                              hook last got it, trailing NULs removed)
 *
 * BARCODE is one word here (printable ASCII without spaces); the firmware
 * itself accepts any printable ASCII.
 */
#include "host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {NULL, "receive", "pick", "count", "line"};

static int parse_type(const char *word)
{
    for (int t = DEPOT_SCAN_RECEIVE; t <= DEPOT_SCAN_LINE; t++)
        if (strcmp(word, type_names[t]) == 0)
            return t;
    return -1;
}

static const char *scan_error(int rc)
{
    switch (rc) {
    case SCANNER_E_FULL:
        return "fifo full";
    case SCANNER_E_BARCODE:
        return "bad barcode";
    case SCANNER_E_TYPE:
        return "bad type";
    case SCANNER_E_QTY:
        return "bad quantity";
    default:
        return "scan refused";
    }
}

static void scan_reply(int rc, uint32_t seq, char *reply, size_t cap)
{
    if (rc == SCANNER_OK)
        snprintf(reply, cap, "ok %lu", (unsigned long)seq);
    else
        snprintf(reply, cap, "error %s", scan_error(rc));
}

/* "TYPE BARCODE QTY" */
static void cmd_scan(host_node *node, char *arg, char *reply, size_t cap)
{
    char *save = NULL;
    char *type = arg ? strtok_r(arg, " ", &save) : NULL;
    char *code = type ? strtok_r(NULL, " ", &save) : NULL;
    char *qty = code ? strtok_r(NULL, " ", &save) : NULL;
    if (qty == NULL || strtok_r(NULL, " ", &save) != NULL) {
        snprintf(reply, cap, "error usage: scan receive|pick|count|line BARCODE QTY");
        return;
    }
    int t = parse_type(type);
    char *end;
    errno = 0;
    long long q = strtoll(qty, &end, 10);
    if (t < 0) {
        snprintf(reply, cap, "error bad type: %s", type);
    } else if (errno != 0 || end == qty || *end != '\0' || q < INT32_MIN || q > INT32_MAX) {
        snprintf(reply, cap, "error bad quantity: %s", qty);
    } else {
        uint32_t seq = 0;
        int rc = scanner_scan(&node->scanner, (uint8_t)t, code, (int32_t)q, &seq);
        scan_reply(rc, seq, reply, cap);
    }
}

int host_control_scanner(host_node *node, const char *cmd, char *arg, char *reply, size_t cap)
{
    uint32_t seq = 0;
    if (strcmp(cmd, "scan") == 0) {
        cmd_scan(node, arg, reply, cap);
    } else if (strcmp(cmd, "submit") == 0 && arg == NULL) {
        int rc = scanner_scan(&node->scanner, DEPOT_SCAN_SUBMIT, "", 0, &seq);
        scan_reply(rc, seq, reply, cap);
    } else if (strcmp(cmd, "confirm") == 0 && (arg == NULL || !strchr(arg, ' '))) {
        int rc = scanner_scan(&node->scanner, DEPOT_SCAN_CONFIRM, arg ? arg : "", 0, &seq);
        scan_reply(rc, seq, reply, cap);
    } else if (strcmp(cmd, "reboot") == 0 && arg == NULL) {
        scanner_reboot(&node->scanner);
        snprintf(reply, cap, "ok %u", node->scanner.cfg.boot_epoch);
    } else if (strcmp(cmd, "display") == 0 && arg == NULL) {
        snprintf(reply, cap, "ok %u %s", node->ctx.display_code, node->ctx.display_text);
    } else {
        return 0;
    }
    return 1;
}
