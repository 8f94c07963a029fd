/*
 * depot-gateway keygen: the gateway's half of enrolment.
 *
 * Makes an ECDSA P-256 key (mode 0600) and a CSR with CN = the dealer id. The
 * key never leaves the gateway: only the CSR goes to the manufacturer, whose
 * CA (depotctl pki sign) returns the certificate. Neither file is ever
 * replaced, so running keygen twice cannot destroy a key that already has a
 * certificate; if the CSR cannot be written, the new key is removed so a
 * retry starts clean.
 */
#include "keygen.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "depot/id.h"
#include "depot/pki.h"

struct keygen_args {
    const char *dealer;
    const char *key;
    const char *csr;
};

static void keygen_usage(FILE *out)
{
    fprintf(out, "usage: depot-gateway keygen --dealer ID --key PATH --csr PATH\n"
                 "Make this gateway's private key (mode 0600; it never leaves the gateway)\n"
                 "and a certificate signing request with CN = the dealer id.\n");
}

/* 0 parsed, 1 --help shown, 2 usage error (printed). */
static int keygen_parse(int argc, char **argv, struct keygen_args *a)
{
    static const struct option longopts[] = {
        {"dealer", required_argument, NULL, 'd'},
        {"key", required_argument, NULL, 'k'},
        {"csr", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 0; /* glibc: a full re-initialisation, whatever ran getopt before */
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'd')
            a->dealer = optarg;
        else if (c == 'k')
            a->key = optarg;
        else if (c == 'c')
            a->csr = optarg;
        else if (c == 'h')
            return 1;
        else
            return 2;
    }
    if (optind < argc || !a->dealer || !a->key || !a->csr)
        return 2;
    return 0;
}

int gw_keygen_main(int argc, char **argv)
{
    struct keygen_args a = {0};
    int rc = keygen_parse(argc, argv, &a);

    if (rc != 0) {
        keygen_usage(rc == 1 ? stdout : stderr);
        return rc == 1 ? 0 : 2;
    }
    if (!depot_dealer_id_valid(a.dealer)) {
        fprintf(stderr, "keygen: --dealer '%s' is not a dealer id (" DEPOT_ID_RULE ")\n", a.dealer);
        keygen_usage(stderr);
        return 2;
    }
    if (access(a.key, F_OK) == 0 || access(a.csr, F_OK) == 0) {
        fprintf(stderr, "keygen: %s already exists; refusing to replace it\n",
                access(a.key, F_OK) == 0 ? a.key : a.csr);
        return 1;
    }
    if (pki_key_generate(a.key) != DEPOT_OK)
        return 1;
    if (pki_csr_create(a.key, a.dealer, a.csr) != DEPOT_OK) {
        unlink(a.key);
        return 1;
    }
    printf("key: %s (mode 0600; keep it on this gateway)\n"
           "CSR: %s (CN %s)\n\n"
           "Next: send the CSR (only the CSR) to the manufacturer, who signs it with\n"
           "  depotctl pki sign --dir PKI --csr %s --dealer %s --out %s.crt\n"
           "then install the returned certificate and the CA certificate on this gateway\n"
           "and name them in its config file.\n",
           a.key, a.csr, a.dealer, a.csr, a.dealer, a.dealer);
    return 0;
}
