/*
 * Stand-in for depot-gateway while the gateway's main is not there: runs
 * `gw_keygen_driver keygen ARGS...` through gw_keygen_main exactly as the
 * gateway's dispatcher will, so the system tests exercise the real code.
 */
#include <stdio.h>
#include <string.h>

#include "depot/log.h"
#include "keygen.h"

int main(int argc, char **argv)
{
    depot_log_init("gateway", DEPOT_LOG_INFO);
    if (argc < 2 || strcmp(argv[1], "keygen") != 0) {
        fprintf(stderr, "usage: %s keygen --dealer ID --key PATH --csr PATH\n", argv[0]);
        return 2;
    }
    return gw_keygen_main(argc - 1, argv + 1);
}
