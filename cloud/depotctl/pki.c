/*
 * depotctl pki: the manufacturer's certificate authority on disk.
 *
 * A PKI folder holds two CAs: the server CA (ca.key 0600, ca.crt), which
 * issues only the broker's server certificate and which every client trusts,
 * and the device CA (devices-ca.key 0600, devices-ca.crt, its CRL
 * devices.crl), which issues every client certificate and which the broker
 * and the hubs trust; then one NAME.key/NAME.crt pair per service of the
 * manufacturer (the broker's server certificate, each hub's client
 * certificate). Dealer certificates come only from `pki sign`, from a CSR
 * made on the gateway, so a dealer's key never exists here; revocation is
 * pki_revoke.c.
 *
 * Nothing is replaced: every subcommand refuses when one of its outputs
 * exists, and removes the key it made if the certificate for it then failed,
 * so a retry starts clean. A dealer id may not be the name of one of the
 * manufacturer's own services in the folder: the CN is the MQTT username the
 * broker's ACL sees, and a dealer called "hub" would get the hub's rights.
 * The other way round too: sign keeps a copy of every dealer certificate it
 * issues in PKI/dealers/ID.crt, and server/client refuse a name found there
 * (as does depotctl broker-config --hub).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "depot/alloc.h"
#include "depot/id.h"
#include "depot/pki.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static bool refuse_existing(const char *cmd, const char *a, const char *b)
{
    const char *p = exists(a) ? a : (b && exists(b)) ? b : NULL;

    if (p)
        fprintf(stderr, "%s: %s already exists; refusing to replace it\n", cmd, p);
    return p != NULL;
}

static bool days_opt(const char *cmd, const char *text, int *days)
{
    *days = 0;
    return !text || ctl_int(cmd, "days", text, 1, 36500, days);
}

/* Makes dir/key_name (0600) and the self-signed dir/crt_name (CN cn) for it. */
static bool make_ca(const char *cmd, const char *dir, const char *key_name, const char *crt_name,
                    const char *cn, int days, char *key, char *crt)
{
    if (!ctl_path(key, PATH_MAX, dir, key_name) || !ctl_path(crt, PATH_MAX, dir, crt_name))
        return false;
    if (pki_key_generate(key) != DEPOT_OK)
        return false;
    if (pki_ca_create(key, crt, cn, days) != DEPOT_OK) {
        unlink(key);
        return false;
    }
    (void)cmd;
    return true;
}

static int cmd_ca(int argc, char **argv)
{
    static const char cmd[] = "depotctl pki ca";
    const char *dir = NULL, *days_s = NULL;
    const struct ctl_opt opts[] = {
        {"dir", &dir, true,
         "PKI folder (made if missing); writes the server CA (ca.key, ca.crt), the device CA "
         "(devices-ca.key, devices-ca.crt) and its empty revocation list (devices.crl)"},
        {"days", &days_s, false, "validity in days (default 3653, 10 years)"},
    };
    static const char *const outputs[] = {"ca.key", "ca.crt", PKI_DEVICE_CA_KEY,
                                          PKI_DEVICE_CA_CRT, PKI_DEVICE_CRL};
    char key[PATH_MAX], crt[PATH_MAX], dkey[PATH_MAX], dcrt[PATH_MAX], path[PATH_MAX];
    int rc = ctl_parse(cmd, "Make Depot's two CAs: the server CA and the device CA.", argc, argv,
                       opts, N(opts)),
        days;

    if (rc)
        return rc < 0 ? CTL_OK : rc;
    if (!days_opt(cmd, days_s, &days))
        return CTL_USAGE;
    for (size_t i = 0; i < N(outputs); i++) {
        if (!ctl_path(path, sizeof(path), dir, outputs[i]))
            return CTL_USAGE;
        if (refuse_existing(cmd, path, NULL))
            return CTL_FAIL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot make %s: %s\n", cmd, dir, strerror(errno));
        return CTL_FAIL;
    }
    if (!make_ca(cmd, dir, "ca.key", "ca.crt", PKI_CA_CN, days, key, crt))
        return CTL_FAIL;
    if (!make_ca(cmd, dir, PKI_DEVICE_CA_KEY, PKI_DEVICE_CA_CRT, PKI_DEVICE_CA_CN, days, dkey,
                 dcrt) ||
        ctl_pki_write_crl(cmd, dir, NULL, NULL, 0, 0) != CTL_OK) {
        unlink(dkey);
        unlink(dcrt);
        unlink(key);
        unlink(crt);
        return CTL_FAIL;
    }
    printf("server CA key:         %s (keep it offline; mode 0600)\n"
           "server CA certificate: %s (every client trusts the broker by it)\n"
           "device CA key:         %s (keep it offline; mode 0600)\n"
           "device CA certificate: %s (the broker and the hubs trust clients by it)\n",
           key, crt, dkey, dcrt);
    return CTL_OK;
}

/* Makes dir/name.key and has the CA at dir issue dir/name.crt for it. */
static int make_service(const char *cmd, const char *dir, const char *name, bool server, int days)
{
    char key[PATH_MAX], crt[PATH_MAX], file[PKI_ID_MAX + 8];
    pki_ca *ca;
    depot_err err;

    if (!pki_id_valid(name)) {
        fprintf(stderr, "%s: --name must be " DEPOT_ID_RULE "\n", cmd);
        return CTL_USAGE;
    }
    snprintf(file, sizeof(file), "dealers/%s.crt", name);
    if (ctl_path(key, sizeof(key), dir, file) && exists(key)) {
        fprintf(stderr,
                "%s: '%s' is a dealer's id (%s); a service of the manufacturer may not take "
                "it (the dealer's certificate would get its broker rights)\n",
                cmd, name, key);
        return CTL_FAIL;
    }
    snprintf(file, sizeof(file), "%s.key", name);
    if (!ctl_path(key, sizeof(key), dir, file))
        return CTL_USAGE;
    snprintf(file, sizeof(file), "%s.crt", name);
    if (!ctl_path(crt, sizeof(crt), dir, file))
        return CTL_USAGE;
    if (refuse_existing(cmd, key, crt))
        return CTL_FAIL;
    ca = ctl_pki_open_ca(cmd, dir, !server);
    if (!ca)
        return CTL_FAIL;
    err = pki_key_generate(key);
    if (err == DEPOT_OK) {
        err = server ? pki_ca_issue_server(ca, key, name, crt, days)
                     : pki_ca_issue_client(ca, key, name, crt, days);
        if (err != DEPOT_OK)
            unlink(key);
    }
    pki_ca_free(ca);
    if (err != DEPOT_OK)
        return CTL_FAIL;
    printf("key:         %s\ncertificate: %s (CN %s%s)\n", key, crt, name,
           server ? ", SAN IP 127.0.0.1, DNS localhost" : "");
    return CTL_OK;
}

/* pki server and pki client: the same options, the server's name defaulting to broker. */
static int service_cmd(int argc, char **argv, bool server)
{
    const char *cmd = server ? "depotctl pki server" : "depotctl pki client";
    const char *dir = NULL, *name = server ? "broker" : NULL, *days_s = NULL;
    const struct ctl_opt opts[] = {
        {"dir", &dir, true, "PKI folder holding the CA"},
        {"name", &name, !server,
         server ? "file name and CN (default broker): writes NAME.key, NAME.crt"
                : "CN of the service (e.g. hub): writes NAME.key, NAME.crt"},
        {"days", &days_s, false, "validity in days (default 730)"},
    };
    int rc = ctl_parse(cmd,
                       server ? "Make the broker's key and server certificate (SAN 127.0.0.1, "
                                "localhost)."
                              : "Make a client key and certificate for one of the manufacturer's "
                                "own services.",
                       argc, argv, opts, N(opts)),
        days;

    if (rc)
        return rc < 0 ? CTL_OK : rc;
    if (!days_opt(cmd, days_s, &days))
        return CTL_USAGE;
    return make_service(cmd, dir, name, server, days);
}

static int cmd_server(int argc, char **argv)
{
    return service_cmd(argc, argv, true);
}

static int cmd_client(int argc, char **argv)
{
    return service_cmd(argc, argv, false);
}

/* A dealer id that names a service of ours (or the CA) in the folder is refused. */
static bool dealer_name_taken(const char *cmd, const char *dir, const char *dealer)
{
    char path[PATH_MAX], file[PKI_ID_MAX + 8];
    bool taken = !strcmp(dealer, "ca");

    for (int i = 0; i < 2 && !taken; i++) {
        snprintf(file, sizeof(file), "%s.%s", dealer, i ? "crt" : "key");
        taken = ctl_path(path, sizeof(path), dir, file) && exists(path);
    }
    if (taken)
        fprintf(stderr,
                "%s: '%s' is the name of one of the manufacturer's own services in %s; a "
                "dealer may not take it (its CN would get that service's broker rights)\n",
                cmd, dealer, dir);
    return taken;
}

/* Keeps a copy of the certificate just issued at out in dir/dealers/dealer.crt (replacing
 * an older one), so no service can take the dealer's name later. */
static bool record_dealer(const char *cmd, const char *dir, const char *dealer, const char *out)
{
    char folder[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 8], file[PKI_ID_MAX + 8], *pem = NULL;
    size_t len = 0;
    FILE *f = NULL;
    bool ok;

    snprintf(file, sizeof(file), "%s.crt", dealer);
    ok = ctl_path(folder, sizeof(folder), dir, "dealers") &&
         ctl_path(path, sizeof(path), folder, file) &&
         (mkdir(folder, 0700) == 0 || errno == EEXIST) &&
         pki_read_file(out, 64 * 1024, &pem, &len) == DEPOT_OK;
    if (ok) {
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        ok = (f = fopen(tmp, "w")) != NULL;
        ok = ok && fwrite(pem, 1, len, f) == len;
        ok = (f && fclose(f) == 0) && ok;
        ok = ok && rename(tmp, path) == 0;
        if (!ok)
            unlink(tmp);
    }
    depot_free(pem);
    ok = ok && ctl_pki_record_serial(dir, dealer, out);
    if (!ok)
        fprintf(stderr, "%s: cannot record dealer %s in %s/dealers/: %s\n", cmd, dealer, dir,
                strerror(errno));
    return ok;
}

static int sign_csr(const char *cmd, const char *dir, const char *csr, const char *dealer,
                    const char *out, int days)
{
    pki_ca *ca = ctl_pki_open_ca(cmd, dir, true);
    depot_err err;

    if (!ca)
        return CTL_FAIL;
    err = pki_ca_sign_csr(ca, csr, dealer, out, days);
    pki_ca_free(ca);
    if (err == DEPOT_ERR_SIGNATURE)
        fprintf(stderr,
                "%s: refused: the CSR's signature does not verify (damaged or "
                "tampered); ask the gateway for a new one\n",
                cmd);
    else if (err == DEPOT_ERR_FORBIDDEN)
        fprintf(stderr, "%s: refused: the CSR does not fit dealer '%s' (reason above)\n", cmd,
                dealer);
    else if (err != DEPOT_OK)
        fprintf(stderr, "%s: failed: %s\n", cmd, depot_strerror(err));
    if (err != DEPOT_OK)
        return CTL_FAIL;
    if (!record_dealer(cmd, dir, dealer, out)) {
        unlink(out);
        return CTL_FAIL;
    }
    printf("certificate for dealer %s: %s\nsend it back to the gateway (with the server CA "
           "certificate %s/ca.crt if it has none yet)\n",
           dealer, out, dir);
    return CTL_OK;
}

static int cmd_sign(int argc, char **argv)
{
    static const char cmd[] = "depotctl pki sign";
    const char *dir = NULL, *csr = NULL, *dealer = NULL, *out = NULL, *days_s = NULL;
    const struct ctl_opt opts[] = {
        {"dir", &dir, true, "PKI folder holding the CA"},
        {"csr", &csr, true, "the CSR made on the gateway (depot-gateway keygen)"},
        {"dealer", &dealer, true, "the dealer id; must equal the CSR's CN"},
        {"out", &out, true, "where to write the dealer's certificate (must not exist)"},
        {"days", &days_s, false, "validity in days (default 730)"},
    };
    int rc = ctl_parse(cmd, "Issue a gateway's certificate (CN = dealer id) from its CSR.", argc,
                       argv, opts, N(opts)),
        days;

    if (rc)
        return rc < 0 ? CTL_OK : rc;
    if (!days_opt(cmd, days_s, &days))
        return CTL_USAGE;
    if (!depot_dealer_id_valid(dealer)) {
        fprintf(stderr, "%s: --dealer '%s' is not a dealer id (" DEPOT_ID_RULE ")\n", cmd, dealer);
        return CTL_USAGE;
    }
    if (dealer_name_taken(cmd, dir, dealer) || refuse_existing(cmd, out, NULL))
        return CTL_FAIL;
    return sign_csr(cmd, dir, csr, dealer, out, days);
}

int ctl_pki_main(int argc, char **argv)
{
    static const struct ctl_verb verbs[] = {
        {"ca", NULL, "make the CA key and certificate"},
        {"server", NULL, "make the broker's key and server certificate"},
        {"client", NULL, "make a key and client certificate for a service (e.g. a hub)"},
        {"sign", NULL, "issue a gateway's certificate from its CSR"},
        {"revoke", NULL, "revoke every certificate of a dealer and write the CRL"},
        {"crl", NULL, "write the CRL again (new number and validity)"},
    };
    static int (*const run[])(int argc, char **argv) = {
        cmd_ca, cmd_server, cmd_client, cmd_sign, ctl_pki_revoke_main, ctl_pki_crl_main};
    int v = ctl_verb_pick("depotctl pki", "The certificate authority (every verb takes --dir PKI).",
                          argc, argv, verbs, N(verbs));

    if (v < 0)
        return v == -1 ? CTL_OK : CTL_USAGE;
    return run[v](argc - 1, argv + 1);
}
