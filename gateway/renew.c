/*
 * depot-gateway renew and install-cert: a new key and certificate before the
 * old certificate expires, with no moment where the gateway cannot reach the
 * broker or sign an order.
 *
 *   1. `depot-gateway renew -c FILE --csr PATH` makes a new key at KEY.new
 *      (KEY being [mqtt] key; mode 0600) and a CSR for it with CN = the dealer.
 *      Nothing the running gateway uses changes: it keeps its old key and
 *      certificate.
 *   2. The manufacturer signs the CSR (depotctl pki sign) as at enrolment.
 *   3. `depot-gateway install-cert -c FILE --cert NEW.crt` checks the new
 *      certificate (it certifies KEY.new, is valid now, its CN is the dealer,
 *      its issuer is the old certificate's) and only then installs it:
 *        a. the certificate is written to CERT.tmp and synced,
 *        b. renamed over CERT ([mqtt] cert),
 *        c. KEY.new renamed over KEY, the folder synced after each rename.
 *      A crash between b and c leaves the new certificate with the old key;
 *      gw_identity_settle (at start and at every reload) sees that KEY.new is
 *      the certificate's key and does c. A crash before b changes nothing.
 *   4. SIGHUP (systemctl reload depot-gateway) makes the running gateway take
 *      the new pair: its order signer and certificate, then a new MQTT
 *      connection with the same client id (the broker keeps the session).
 *      Polling never stops. Until then the old certificate keeps working.
 */
#include "renew.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/pki.h"

#define EXIT_USAGE 2

struct renew_args {
    const char *config, *csr, *cert;
};

static void renew_usage(FILE *f, bool install)
{
    if (install)
        fprintf(f, "usage: depot-gateway install-cert -c FILE --cert NEW.crt\n"
                   "Check the certificate the manufacturer issued for the key made by\n"
                   "`depot-gateway renew` and install it as [mqtt] cert, with that key as\n"
                   "[mqtt] key; then `systemctl reload depot-gateway` (SIGHUP) makes the\n"
                   "running gateway use them, without stopping.\n");
    else
        fprintf(f, "usage: depot-gateway renew -c FILE --csr PATH\n"
                   "Make a new key beside [mqtt] key (KEY.new, mode 0600) and a CSR for it\n"
                   "(CN = the dealer id), before the certificate expires. The running\n"
                   "gateway keeps its key and certificate until `depot-gateway install-cert`.\n");
}

/* 0 parsed, 1 --help shown, 2 usage error. */
static int renew_parse(int argc, char **argv, struct renew_args *a, bool install)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"csr", required_argument, NULL, 's'},
        {"cert", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'c')
            a->config = optarg;
        else if (c == 's' && !install)
            a->csr = optarg;
        else if (c == 't' && install)
            a->cert = optarg;
        else if (c == 'h')
            return 1;
        else
            return 2;
    }
    if (optind < argc || !a->config || (install ? !a->cert : !a->csr))
        return 2;
    return 0;
}

/* Parses the command line and loads its config, which must name [mqtt] cert and key; NULL
 * with *rc the exit code (0 after --help) otherwise. */
static gw_config *start(int argc, char **argv, struct renew_args *a, bool install, int *rc)
{
    const char *cmd = install ? "install-cert" : "renew";
    gw_config *cfg;
    char err[320];
    int r = renew_parse(argc, argv, a, install);

    if (r != 0) {
        renew_usage(r == 1 ? stdout : stderr, install);
        *rc = r == 1 ? 0 : EXIT_USAGE;
        return NULL;
    }
    *rc = EXIT_USAGE;
    depot_log_init("gateway", DEPOT_LOG_WARN);
    if (gw_config_load(a->config, &cfg, err, sizeof(err)) != DEPOT_OK) {
        fprintf(stderr, "depot-gateway %s: %s\n", cmd, err);
        return NULL;
    }
    if (!cfg->cert || !cfg->key) {
        fprintf(stderr, "depot-gateway %s: %s names no [mqtt] cert and key to renew\n", cmd,
                a->config);
        gw_config_free(cfg);
        return NULL;
    }
    *rc = 1;
    return cfg;
}

static bool with_suffix(char *out, size_t size, const char *path, const char *suffix)
{
    return snprintf(out, size, "%s%s", path, suffix) < (int)size;
}

int gw_renew_main(int argc, char **argv)
{
    struct renew_args a = {0};
    char next_key[PATH_MAX];
    int rc;
    gw_config *cfg = start(argc, argv, &a, false, &rc);

    if (!cfg)
        return rc;
    if (!with_suffix(next_key, sizeof(next_key), cfg->key, ".new")) {
        fprintf(stderr, "depot-gateway renew: %s: path too long\n", cfg->key);
    } else if (access(next_key, F_OK) == 0 || access(a.csr, F_OK) == 0) {
        fprintf(stderr,
                "depot-gateway renew: %s already exists: a renewal is under way (install its "
                "certificate with depot-gateway install-cert, or remove %s to start again)\n",
                access(next_key, F_OK) == 0 ? next_key : a.csr, next_key);
    } else if (pki_key_generate(next_key) == DEPOT_OK) {
        if (pki_csr_create(next_key, cfg->dealer, a.csr) != DEPOT_OK) {
            unlink(next_key);
        } else {
            printf("new key: %s (mode 0600; the gateway keeps using %s until install-cert)\n"
                   "CSR:     %s (CN %s)\n\n"
                   "Next: the manufacturer signs it with\n"
                   "  depotctl pki sign --dir PKI --csr %s --dealer %s --out %s.crt\n"
                   "then, on this gateway:\n"
                   "  depot-gateway install-cert -c %s --cert %s.crt\n"
                   "  systemctl reload depot-gateway\n",
                   next_key, cfg->key, a.csr, cfg->dealer, a.csr, cfg->dealer, cfg->dealer,
                   a.config, cfg->dealer);
            rc = 0;
        }
    }
    gw_config_free(cfg);
    return rc;
}

/* Copies the certificate at from over path (pki_replace_file: path.tmp, synced, renamed). */
static bool put_cert(const char *from, const char *path)
{
    char *pem = NULL;
    size_t len = 0;
    bool ok = pki_read_file(from, 64 * 1024, &pem, &len) == DEPOT_OK &&
              pki_replace_file(path, pem, len, 0644) == DEPOT_OK;

    depot_free(pem);
    return ok;
}

int gw_install_cert_main(int argc, char **argv)
{
    struct renew_args a = {0};
    char next_key[PATH_MAX], why[160];
    depot_err e;
    int rc;
    gw_config *cfg = start(argc, argv, &a, true, &rc);

    if (!cfg)
        return rc;
    if (!with_suffix(next_key, sizeof(next_key), cfg->key, ".new") || access(next_key, F_OK) != 0) {
        fprintf(stderr,
                "depot-gateway install-cert: no new key at %s.new (make one with depot-gateway "
                "renew first)\n",
                cfg->key);
        goto out;
    }
    e = pki_cert_key_check(a.cert, next_key, cfg->dealer, cfg->cert, why, sizeof(why));
    if (e != DEPOT_OK) {
        fprintf(stderr,
                "depot-gateway install-cert: %s refused: %s; nothing changed, the gateway keeps "
                "its certificate\n",
                a.cert, e == DEPOT_ERR_INVAL ? why : depot_strerror(e));
        goto out;
    }
    if (!put_cert(a.cert, cfg->cert)) {
        fprintf(stderr, "depot-gateway install-cert: cannot write %s: %s; nothing changed\n",
                cfg->cert, strerror(errno));
        goto out;
    }
    if (rename(next_key, cfg->key) != 0 || pki_sync_dir_of(cfg->key) != DEPOT_OK) {
        fprintf(stderr,
                "depot-gateway install-cert: cannot rename %s to %s: %s (the gateway finishes "
                "this itself at its next start or reload)\n",
                next_key, cfg->key, strerror(errno));
        goto out;
    }
    printf("installed: %s and %s\n"
           "Next: systemctl reload depot-gateway (or kill -HUP its pid): the running gateway\n"
           "takes them without stopping; the old certificate may then be revoked.\n",
           cfg->cert, cfg->key);
    rc = 0;
out:
    gw_config_free(cfg);
    return rc;
}

depot_err gw_identity_settle(const gw_config *cfg)
{
    char next_key[PATH_MAX], why[160];

    if (!cfg->cert || !cfg->key)
        return DEPOT_OK;
    if (pki_cert_key_check(cfg->cert, cfg->key, cfg->dealer, NULL, why, sizeof(why)) == DEPOT_OK)
        return DEPOT_OK;
    if (with_suffix(next_key, sizeof(next_key), cfg->key, ".new") && access(next_key, F_OK) == 0 &&
        pki_cert_key_check(cfg->cert, next_key, cfg->dealer, NULL, why, sizeof(why)) == DEPOT_OK) {
        if (rename(next_key, cfg->key) == 0 && pki_sync_dir_of(cfg->key) == DEPOT_OK) {
            LOG_WARN("identity: finished installing the new certificate (%s was still at %s)",
                     cfg->key, next_key);
            return DEPOT_OK;
        }
        LOG_ERROR("identity: cannot rename %s to %s: %s", next_key, cfg->key, strerror(errno));
        return DEPOT_ERR_INVAL;
    }
    LOG_ERROR("identity: [mqtt] cert %s and key %s: %s", cfg->cert, cfg->key, why);
    return DEPOT_ERR_INVAL;
}
