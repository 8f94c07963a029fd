/*
 * renew.h - certificate renewal on the gateway, without downtime (renew.c).
 */
#ifndef DEPOT_GW_RENEW_H
#define DEPOT_GW_RENEW_H

#include "config.h"
#include "depot/error.h"

/* depot-gateway renew -c FILE --csr PATH: a new key beside the old one, and its CSR. */
int gw_renew_main(int argc, char **argv);
/* depot-gateway install-cert -c FILE --cert PATH: checks and installs the new pair. */
int gw_install_cert_main(int argc, char **argv);

/*
 * Finishes an installation that stopped between its two renames (the new
 * certificate in place, its key still at KEY.new): at start and at every
 * reload. DEPOT_OK if the key and certificate files are a pair afterwards
 * (or none is configured), else DEPOT_ERR_INVAL (logged).
 */
depot_err gw_identity_settle(const gw_config *cfg);

#endif
