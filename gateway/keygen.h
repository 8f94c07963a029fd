/*
 * depot-gateway keygen: makes the gateway's private key and a CSR for the
 * manufacturer's CA. The key is made here and never leaves the gateway.
 */
#ifndef DEPOT_GW_KEYGEN_H
#define DEPOT_GW_KEYGEN_H

/*
 * Runs `depot-gateway keygen --dealer ID --key PATH --csr PATH`; argv[0] is
 * "keygen". Returns the exit code: 0 done, 1 failed (reason printed), 2 bad
 * command line.
 */
int gw_keygen_main(int argc, char **argv);

#endif
