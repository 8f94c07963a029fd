/* Item codes in their normal form (depot/item_code.h). */
#include "depot/item_code.h"

#include <stdio.h>
#include <string.h>

#define GS 0x1d
#define SERIAL_MAX 20

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Reads an AI at *p, "(AI)" or "AI"; true and *p after it if it is ai. */
static bool take_ai(const char **p, const char *ai)
{
    size_t n = strlen(ai);
    if ((*p)[0] == '(' && !strncmp(*p + 1, ai, n) && (*p)[n + 1] == ')') {
        *p += n + 2;
        return true;
    }
    if (!strncmp(*p, ai, n)) {
        *p += n;
        return true;
    }
    return false;
}

/* A GS1 string with 01 and 21 into out; false if in is not one. */
static bool gs1(const char *in, char *out, char *gtin)
{
    const char *p = in, *serial;
    size_t n = 0;
    if (*p == GS)
        p++; /* a leading FNC1 */
    if (!take_ai(&p, "01") || strlen(p) < DEPOT_GTIN_LEN || !digits(p, DEPOT_GTIN_LEN))
        return false;
    memcpy(gtin, p, DEPOT_GTIN_LEN);
    gtin[DEPOT_GTIN_LEN] = '\0';
    p += DEPOT_GTIN_LEN;
    if (*p == GS)
        p++;
    if (take_ai(&p, "17")) { /* expiry YYMMDD */
        if (strlen(p) < 6 || !digits(p, 6))
            return false;
        p += 6;
        if (*p == GS)
            p++;
    }
    if (!take_ai(&p, "21"))
        return false;
    serial = p;
    while (serial[n] && serial[n] != GS && serial[n] != '(')
        n++;
    if (n == 0 || n > SERIAL_MAX)
        return false;
    snprintf(out, DEPOT_ITEM_CODE_MAX + 1, "01%s21%.*s", gtin, (int)n, serial);
    return true;
}

bool depot_item_code_norm(const char *in, char out[DEPOT_ITEM_CODE_MAX + 1],
                          char gtin[DEPOT_GTIN_LEN + 1])
{
    char g[DEPOT_GTIN_LEN + 1] = "";
    size_t n = in ? strlen(in) : 0;
    bool has_gs = false;
    out[0] = '\0';
    if (gtin)
        gtin[0] = '\0';
    if (n == 0 || n > 2 * DEPOT_ITEM_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == GS)
            has_gs = true;
        else if (c <= ' ' || c >= 0x7f)
            return false;
    }
    if (gs1(in, out, g)) {
        if (gtin)
            memcpy(gtin, g, sizeof(g));
        return true;
    }
    if (has_gs || in[0] == '(' || n > DEPOT_ITEM_CODE_MAX)
        return false; /* a GS1 form that is not a whole one */
    memcpy(out, in, n + 1);
    return true;
}

bool depot_gtin_matches(const char *gtin, const char *barcode)
{
    size_t n = barcode ? strlen(barcode) : 0;
    if (!gtin || strlen(gtin) != DEPOT_GTIN_LEN || n < 8 || n > DEPOT_GTIN_LEN ||
        !digits(barcode, n))
        return false;
    for (size_t i = 0; i < DEPOT_GTIN_LEN - n; i++)
        if (gtin[i] != '0')
            return false;
    return !memcmp(gtin + DEPOT_GTIN_LEN - n, barcode, n);
}
