/*
 * Decimal money <-> cents. Text is parsed digit by digit (bounded by
 * DEPOT_MONEY_MAX, so no overflow); a double is rounded to cents and accepted
 * only when it was that many cents to within a millionth of a cent.
 */
#include "depot/money.h"

#include <math.h>
#include <stdio.h>

bool depot_money_parse(const char *text, long long *cents)
{
    long long v = 0;
    int digits = 0, decimals = -1;
    const char *p;

    if (!text || !*text)
        return false;
    for (p = text; *p; p++) {
        if (*p == '.' && decimals < 0 && digits > 0) {
            decimals = 0;
            continue;
        }
        if (*p < '0' || *p > '9' || decimals >= 2)
            return false;
        v = v * 10 + (*p - '0');
        if (v > DEPOT_MONEY_MAX)
            return false;
        digits++;
        if (decimals >= 0)
            decimals++;
    }
    if (decimals == 0)
        return false; /* "12." */
    for (int i = decimals < 0 ? 0 : decimals; i < 2; i++)
        v *= 10;
    if (v > DEPOT_MONEY_MAX)
        return false;
    *cents = v;
    return true;
}

bool depot_money_from_double(double v, long long *cents)
{
    double c = v * 100.0, r;
    if (!isfinite(v) || v < 0 || c > (double)DEPOT_MONEY_MAX)
        return false;
    r = round(c);
    if (fabs(c - r) > 1e-6 * (r > 1 ? r : 1))
        return false;
    *cents = (long long)r;
    return true;
}

void depot_money_format(long long cents, char *buf, size_t len)
{
    unsigned long long u = cents < 0 ? 0ULL - (unsigned long long)cents : (unsigned long long)cents;
    snprintf(buf, len, "%s%llu.%02llu", cents < 0 ? "-" : "", u / 100, u % 100);
}
