/*
 * One code per item (an item's own serial): what the manufacturer's shipments
 * register and what a terminal scans, in one normal form so that both meet.
 *
 *   GS1 element strings with AI 01 (GTIN-14) and AI 21 (serial), as printed
 *   "(01)04006381333931(21)SN42" or as scanned "0104006381333931" "21SN42"
 *   (an AI 17 expiry, 6 digits, may sit between them; a GS (0x1D) or
 *   another "(" ends the serial and what follows is dropped)
 *     -> "01" GTIN "21" serial, *gtin the 14 digits
 *   any other code (a serial barcode)
 *     -> itself, *gtin ""
 *
 * A code is 1..DEPOT_ITEM_CODE_MAX printable ASCII characters without spaces
 * (GS only as a GS1 separator); a GS1 serial 1..20 characters. A code that
 * starts with "(" or GS is a GS1 one or none (a misprinted label is refused,
 * never taken for a serial of its own).
 */
#ifndef DEPOT_ITEM_CODE_H
#define DEPOT_ITEM_CODE_H

#include <stdbool.h>

#define DEPOT_ITEM_CODE_MAX 64
#define DEPOT_GTIN_LEN 14

/* The normal form of in into out; false (out "") if in is not a code. gtin may be NULL. */
bool depot_item_code_norm(const char *in, char out[DEPOT_ITEM_CODE_MAX + 1],
                          char gtin[DEPOT_GTIN_LEN + 1]);

/* Whether a GTIN-14 is the one of a catalog barcode (EAN-13, UPC-A 12 or GTIN-14 digits, left
 * padded with zeros). */
bool depot_gtin_matches(const char *gtin, const char *barcode);

#endif
