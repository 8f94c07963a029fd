/*
 * depotctl stock: stock across dealers, read from the hub's API; the query
 * and the table are apart from the request so they can be checked alone.
 */
#ifndef CTL_STOCK_H
#define CTL_STOCK_H

#include <cjson/cJSON.h>
#include <stddef.h>

int ctl_stock_main(int argc, char **argv);

/* The API path for the filters given (NULL: none), e.g. /api/v1/stock?dealer=D&sku=S. */
void ctl_stock_path(char *out, size_t len, const char *dealer, const char *sku);

/* Prints the hub's stock list as the table on stdout: CTL_OK, or CTL_FAIL
 * (printed) for an item without the API's shape, in which case nothing is printed. */
int ctl_stock_print(const cJSON *list);

#endif
