/*
 * Fuzz target: depotctl's catalog CSV import (ctl_catalog_read_csv: header,
 * quoting, numbers, money, barcodes, duplicate SKUs). Property: it gives the
 * JSON array the hub takes, or nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *items;
    FILE *f;
    if (size == 0)
        return 0;
    f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    items = ctl_catalog_read_csv("fuzz.csv", f);
    if (items && !cJSON_IsArray(items))
        abort();
    cJSON_Delete(items);
    fclose(f);
    return 0;
}
