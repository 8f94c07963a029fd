/*
 * Money: integer cents inside the hub, decimal text ("12.50") at the edges
 * (the API's JSON numbers, depotctl's CSV and options). Parsing is exact: no
 * floating point touches a text amount; a JSON number (a double from cJSON)
 * is accepted only when it has at most two decimals.
 */
#ifndef DEPOT_MONEY_H
#define DEPOT_MONEY_H

#include <stdbool.h>
#include <stddef.h>

#define DEPOT_MONEY_MAX 100000000000000LL /* 1e12 units, in cents */
#define DEPOT_MONEY_TEXT 32

/* "12", "12.5", "12.50" (no sign, no exponent) into cents; false if not such a text. */
bool depot_money_parse(const char *text, long long *cents);

/* A JSON number with at most two decimals, 0..DEPOT_MONEY_MAX cents; false if not. */
bool depot_money_from_double(double v, long long *cents);

/* cents as "12.50" ("-3.00" for negatives) into buf (DEPOT_MONEY_TEXT bytes suffice). */
void depot_money_format(long long cents, char *buf, size_t len);

#endif
