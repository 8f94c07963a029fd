/*
 * Scan events of the scanner terminals: each applied to the ledger exactly
 * once, with the display text that answers it.
 */
#ifndef GW_TERMINAL_H
#define GW_TERMINAL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "depot/error.h"
#include "depot/modbus_map.h"
#include "display.h"
#include "ledger.h"

/* One event of a terminal's FIFO (DEPOT_IR_SCAN_HEAD). */
struct gw_scan {
    unsigned epoch; /* 1..65535 */
    uint32_t seq;   /* >= 1 */
    int type;       /* enum depot_scan_type */
    long long qty;
    char barcode[DEPOT_BARCODE_MAX + 1];
};

/*
 * Decode the 25 head registers (105..129). False when the FIFO is empty
 * (epoch 0). A barcode with bytes outside printable ASCII is kept as read and
 * refused later by gw_terminal_scan.
 */
bool gw_scan_parse(const uint16_t head[DEPOT_IR_SCAN_HEAD_COUNT], struct gw_scan *s);

/* Why a scan was refused: scans.reason, the metrics file's reason label, the scan_refused event. */
enum gw_scan_refusal {
    GW_REFUSED_BAD_BARCODE,        /* not printable ASCII */
    GW_REFUSED_UNKNOWN_BARCODE,    /* not in the catalog */
    GW_REFUSED_BAD_QTY,            /* receive/pick < 1, count < 0, or above DEPOT_QTY_MAX */
    GW_REFUSED_PICK_EXCEEDS_STOCK, /* a pick of more than the ledger holds */
    GW_REFUSED_STOCK_OVER_MAX,     /* a receive that would take the stock above DEPOT_QTY_MAX */
    GW_REFUSED_BAD_SCAN_TYPE,
    GW_REFUSED_ORDER,              /* a line or submit refused by orders.c (limits, full, key) */
    GW_REFUSED_OTHER,              /* recorded before reasons were kept (schema < 4) */
    GW_REFUSED_NOTHING_TO_CONFIRM, /* a confirmation with no notice (or sign code) pending */
    GW_REFUSED_CONTRACT,  /* a contract's sign code: unknown, signed, no key, outbox full */
    GW_REFUSED_ITEM_CODE, /* an item's own code scanned for a count, or with a qty other than 1 */
    GW_REFUSED__COUNT
};

/* "bad_barcode", "unknown_barcode", "bad_qty", "pick_exceeds_stock", ...; "other" if out of range.
 */
const char *gw_scan_refusal_name(int r);

typedef struct gw_terminal gw_terminal;

/*
 * What applies scans: the ledger, and the key and certificate that sign
 * orders. key_path and cert_path may both be NULL (no TLS configured): orders
 * are then refused at the terminal. The key is opened and the certificate
 * read once, here. DEPOT_ERR_IO, DEPOT_ERR_CRYPTO, DEPOT_ERR_NOMEM.
 */
depot_err gw_terminal_new(gw_ledger *l, const char *key_path, const char *cert_path,
                          gw_terminal **out);
void gw_terminal_free(gw_terminal *t);
/* Takes the key and certificate at these paths for the orders signed from now on (a renewal);
 * on failure keeps the ones in use. Takes the ledger's lock for the swap. */
depot_err gw_terminal_reload(gw_terminal *t, const char *key_path, const char *cert_path);
/* The key and certificate t signs with (kept up to date by gw_terminal_reload under the ledger
 * lock): what up/movements batches are signed with too. */
const struct gw_order_signer *gw_terminal_signer(const gw_terminal *t);

/*
 * Apply scan s of terminal node, exactly once: in one transaction the scans
 * row (UNIQUE node, epoch, seq) and its effect. When the row exists already
 * (the gateway stopped between its commit and the node's ack) nothing is
 * applied and *duplicate is set. d gets what the terminal should show (for a
 * duplicate, what it was shown the first time). DEPOT_OK means the scan is
 * recorded and may be acknowledged; DEPOT_ERR_FULL (outbox full),
 * DEPOT_ERR_DB, DEPOT_ERR_CRYPTO, DEPOT_ERR_NOMEM mean nothing was written:
 * leave it in the node's FIFO and try again later.
 */
depot_err gw_terminal_scan(gw_terminal *t, const char *node, const struct gw_scan *s,
                           long long now_ms, struct gw_display *d, bool *duplicate);

#endif
