/*
 * Fuzz target: the gateway's INI configuration (gw_config_load_stream: every
 * section, option, number, address and cross-check). Property: it loads or
 * says "file:line: what", never anything else.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    gw_config *cfg = NULL;
    FILE *f;
    if (size == 0)
        return 0;
    f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    if (gw_config_load_stream(f, "fuzz.ini", &cfg, err, sizeof(err)) == DEPOT_OK)
        gw_config_free(cfg);
    else if (err[0] == '\0')
        abort(); /* a refusal always says why */
    fclose(f);
    return 0;
}
