/*
 * Unit tests of the depotctl commands that work without a hub: pki (ca,
 * server, client, sign) and broker-config, run as a shell would run them
 * (argv in, exit code and printed text out) in one temporary folder, each
 * test with its own PKI folder under it. The files they write are read
 * back: certificates checked against the CA with mbedTLS, the broker's
 * configuration and ACL by their lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include "ctl.h"
#include "ctl_test_util.h"
#include "depot/log.h"
#include "depot/pki.h"

static struct ctl_capture cap;
static char root[64];

/* root/a/b into a rotating buffer. */
static const char *in(const char *a, const char *b)
{
    static char paths[8][PATH_MAX];
    static int next;
    char *p = paths[next++ % 8];

    snprintf(p, PATH_MAX, "%s/%s%s%s", root, a, b ? "/" : "", b ? b : "");
    return p;
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static int group_setup(void **state)
{
    (void)state;
    depot_log_init("depotctl_cmd_test", DEPOT_LOG_ERROR + 1);
    return ctl_tmpdir(root, "depotctl_cmd_test");
}

static int group_teardown(void **state)
{
    (void)state;
    return ctl_rmtree(root);
}

/* The CN of the certificate at path; fails the test if it has none. */
static const char *cn_of(const char *path)
{
    static char cn[PKI_ID_MAX + 16];
    assert_int_equal(pki_cert_cn(path, cn, sizeof(cn)), DEPOT_OK);
    return cn;
}

/* mbedtls_x509_crt_verify's flags for the certificate at file against ca_file (folder pki),
 * for cn, with the folder's CRL (devices.crl) if crl. */
static uint32_t verify_flags(const char *pki, const char *ca_file, const char *file,
                             const char *cn, bool crl)
{
    mbedtls_x509_crt ca, crt;
    mbedtls_x509_crl list;
    uint32_t flags = 0;

    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    mbedtls_x509_crl_init(&list);
    assert_int_equal(mbedtls_x509_crt_parse_file(&ca, in(pki, ca_file)), 0);
    assert_int_equal(mbedtls_x509_crt_parse_file(&crt, in(pki, file)), 0);
    if (crl)
        assert_int_equal(mbedtls_x509_crl_parse_file(&list, in(pki, "devices.crl")), 0);
    if (mbedtls_x509_crt_verify(&crt, &ca, crl ? &list : NULL, cn, &flags, NULL, NULL) != 0 &&
        flags == 0)
        flags = UINT32_MAX;
    mbedtls_x509_crl_free(&list);
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return flags;
}

/* Verifies the certificate at path against the CA ca_file of folder pki, for cn. */
static void assert_issued_by(const char *pki, const char *ca_file, const char *file,
                             const char *cn)
{
    assert_int_equal(verify_flags(pki, ca_file, file, cn, false), 0);
}

/* Issued by the server CA (ca.crt) and not by the device CA, or the other way round. */
static void assert_issued(const char *pki, const char *file, const char *cn)
{
    assert_issued_by(pki, "ca.crt", file, cn);
    assert_int_not_equal(verify_flags(pki, "devices-ca.crt", file, cn, false), 0);
}

static void assert_issued_device(const char *pki, const char *file, const char *cn)
{
    assert_issued_by(pki, "devices-ca.crt", file, cn);
    assert_int_not_equal(verify_flags(pki, "ca.crt", file, cn, false), 0);
}

/* Days from now to the end of the certificate at path, rounded. */
static long days_left(const char *path)
{
    mbedtls_x509_crt crt;
    struct tm tm = {0};
    long days;

    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse_file(&crt, path), 0);
    tm.tm_year = crt.valid_to.year - 1900;
    tm.tm_mon = crt.valid_to.mon - 1;
    tm.tm_mday = crt.valid_to.day;
    tm.tm_hour = crt.valid_to.hour;
    days = (long)((timegm(&tm) - time(NULL) + 43200) / 86400);
    mbedtls_x509_crt_free(&crt);
    return days;
}

/* pki ca, pki server and pki client --name hub in root/pki; the test fails if one does. */
static void make_pki(const char *pki)
{
    const char *dir = in(pki, NULL);
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "ca", "--dir", dir, NULL), CTL_OK);
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "server", "--dir", dir, NULL), CTL_OK);
    assert_int_equal(
        ctl_run(&cap, ctl_pki_main, "pki", "client", "--dir", dir, "--name", "hub", NULL), CTL_OK);
}

static void test_pki_ca_writes_key_and_certificate(void **state)
{
    struct stat st;
    char want[PATH_MAX * 2];
    (void)state;
    assert_int_equal(
        ctl_run(&cap, ctl_pki_main, "pki", "ca", "--dir", in("ca", NULL), "--days", "10", NULL),
        CTL_OK);
    snprintf(want, sizeof(want),
             "revocation list: %s (number 1, 0 revoked, valid 3653 days)\n"
             "server CA key:         %s (keep it offline; mode 0600)\n"
             "server CA certificate: %s (every client trusts the broker by it)\n"
             "device CA key:         %s (keep it offline; mode 0600)\n"
             "device CA certificate: %s (the broker and the hubs trust clients by it)\n",
             in("ca", "devices.crl"), in("ca", "ca.key"), in("ca", "ca.crt"),
             in("ca", "devices-ca.key"), in("ca", "devices-ca.crt"));
    assert_string_equal(cap.out, want);
    assert_int_equal(stat(in("ca", "ca.key"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(in("ca", "devices-ca.key"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_string_equal(cn_of(in("ca", "devices-ca.crt")), PKI_DEVICE_CA_CN);
    assert_int_equal(days_left(in("ca", "devices-ca.crt")), 10);
    assert_issued_by("ca", "devices-ca.crt", "devices-ca.crt", PKI_DEVICE_CA_CN);
    /* the two CAs are two keys: neither certifies the other */
    assert_int_not_equal(verify_flags("ca", "ca.crt", "devices-ca.crt", NULL, false), 0);
    /* the empty list parses and is the device CA's */
    assert_int_equal(verify_flags("ca", "devices-ca.crt", "devices-ca.crt", NULL, true), 0);
    assert_int_equal(stat(in("ca", NULL), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_string_equal(cn_of(in("ca", "ca.crt")), PKI_CA_CN);
    assert_int_equal(days_left(in("ca", "ca.crt")), 10);
    assert_issued("ca", "ca.crt", PKI_CA_CN);
}

static void test_pki_ca_refuses_to_replace(void **state)
{
    char want[PATH_MAX + 80];
    const char *before;
    char copy[4096];
    (void)state;
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "ca", "--dir", in("again", NULL), NULL),
                     CTL_OK);
    before = ctl_slurp(in("again", "ca.crt"));
    assert_non_null(before);
    snprintf(copy, sizeof(copy), "%s", before);
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "ca", "--dir", in("again", NULL), NULL),
                     CTL_FAIL);
    snprintf(want, sizeof(want), "depotctl pki ca: %s already exists; refusing to replace it\n",
             in("again", "ca.key"));
    assert_string_equal(cap.err, want);
    assert_string_equal(ctl_slurp(in("again", "ca.crt")), copy);
}

static void test_pki_bad_options(void **state)
{
    (void)state;
    assert_int_equal(
        ctl_run(&cap, ctl_pki_main, "pki", "ca", "--dir", in("bad", NULL), "--days", "0", NULL),
        CTL_USAGE);
    assert_string_equal(cap.err,
                        "depotctl pki ca: --days must be a number from 1 to 36500, not '0'\n");
    assert_false(exists(in("bad", NULL)));
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "ca", NULL), CTL_USAGE);
    assert_true(strncmp(cap.err, "depotctl pki ca: missing --dir\n", 31) == 0);
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "renew", NULL), CTL_USAGE);
    assert_true(strncmp(cap.err, "depotctl pki: unknown verb 'renew'\n", 35) == 0);
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "--help", NULL), CTL_OK);
    assert_non_null(strstr(cap.out, "\n  sign               issue a gateway's certificate"));
}

static void test_pki_server_and_client(void **state)
{
    (void)state;
    make_pki("svc");
    assert_string_equal(cn_of(in("svc", "broker.crt")), "broker");
    assert_string_equal(cn_of(in("svc", "hub.crt")), "hub");
    assert_issued("svc", "broker.crt", "localhost");
    assert_issued_device("svc", "hub.crt", "hub");
    assert_true(exists(in("svc", "broker.key")) && exists(in("svc", "hub.key")));
    assert_int_equal(days_left(in("svc", "hub.crt")), PKI_LEAF_DAYS);
    /* a second hub of that name: refused, the first one kept */
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "client", "--dir", in("svc", NULL),
                             "--name", "hub", NULL),
                     CTL_FAIL);
    assert_non_null(strstr(cap.err, "hub.key already exists; refusing to replace it\n"));
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "client", "--dir", in("svc", NULL),
                             "--name", "a/b", NULL),
                     CTL_USAGE);
    assert_false(exists(in("svc", "a")));
    /* no CA in the folder */
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "server", "--dir", in("empty", NULL), NULL),
                     CTL_FAIL);
    assert_non_null(strstr(cap.err, "cannot open the server CA in"));
}

/* A gateway's key and CSR for cn in root/gw. */
static const char *gateway_csr(const char *cn)
{
    char key[PATH_MAX];
    const char *csr = in("gw", cn);

    mkdir(in("gw", NULL), 0700);
    snprintf(key, sizeof(key), "%s.key", csr);
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(pki_csr_create(key, cn, csr), DEPOT_OK);
    return csr;
}

static int sign(const char *pki, const char *csr, const char *dealer, const char *out)
{
    return ctl_run(&cap, ctl_pki_main, "pki", "sign", "--dir", in(pki, NULL), "--csr", csr,
                   "--dealer", dealer, "--out", out, NULL);
}

static void test_pki_sign_issues_and_records(void **state)
{
    char copy[4096];
    (void)state;
    make_pki("sign");
    assert_int_equal(sign("sign", gateway_csr("D001"), "D001", in("sign", "D001-out.crt")), CTL_OK);
    assert_true(strncmp(cap.out, "certificate for dealer D001: ", 29) == 0);
    assert_string_equal(cn_of(in("sign", "D001-out.crt")), "D001");
    assert_issued_device("sign", "D001-out.crt", "D001");
    snprintf(copy, sizeof(copy), "%s", ctl_slurp(in("sign", "D001-out.crt")));
    assert_string_equal(ctl_slurp(in("sign", "dealers/D001.crt")), copy);
    /* the dealer's name is now taken for a service */
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "client", "--dir", in("sign", NULL),
                             "--name", "D001", NULL),
                     CTL_FAIL);
    assert_non_null(strstr(cap.err, "'D001' is a dealer's id"));
    assert_false(exists(in("sign", "D001.key")));
}

static void test_pki_sign_refusals(void **state)
{
    const char *csr;
    (void)state;
    make_pki("refuse");
    csr = gateway_csr("D002");
    /* the CN is not the dealer given */
    assert_int_equal(sign("refuse", csr, "D003", in("refuse", "x.crt")), CTL_FAIL);
    assert_non_null(
        strstr(cap.err, "depotctl pki sign: refused: the CSR does not fit dealer 'D003'"));
    assert_false(exists(in("refuse", "x.crt")));
    assert_false(exists(in("refuse", "dealers/D003.crt")));
    /* a service's name */
    assert_int_equal(sign("refuse", csr, "hub", in("refuse", "x.crt")), CTL_FAIL);
    assert_non_null(strstr(cap.err, "'hub' is the name of one of the manufacturer's own"));
    /* not a dealer id */
    assert_int_equal(sign("refuse", csr, "D 2", in("refuse", "x.crt")), CTL_USAGE);
    assert_non_null(strstr(cap.err, "--dealer 'D 2' is not a dealer id"));
    /* an output that exists */
    assert_int_equal(sign("refuse", csr, "D002", in("refuse", "ca.crt")), CTL_FAIL);
    assert_non_null(strstr(cap.err, "ca.crt already exists; refusing to replace it"));
    assert_string_equal(cn_of(in("refuse", "ca.crt")), PKI_CA_CN);
}

/* broker-config --dir root/pki --port 8883 --out out, with --hub for each hub given. */
static int broker_config(const char *pki, const char *out, const char *hub1, const char *hub2)
{
    const char *hubs[2] = {hub1, hub2};
    char *argv[12] = {"broker-config", "--dir",    (char *)in(pki, NULL), "--port", "8883",
                      "--out",         (char *)out};
    int argc = 7, rc;

    for (int i = 0; i < 2; i++) {
        if (hubs[i]) {
            argv[argc++] = "--hub";
            argv[argc++] = (char *)hubs[i];
        }
    }
    argv[argc] = NULL;
    ctl_capture_begin(&cap);
    rc = ctl_broker_config_main(argc, argv);
    ctl_capture_end(&cap);
    return rc;
}

/* True if text has line as one whole line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static int revoke_dealer(const char *pki, const char *dealer)
{
    return ctl_run(&cap, ctl_pki_main, "pki", "revoke", "--dir", in(pki, NULL), "--dealer",
                   dealer, NULL);
}

/* Two certificates of D001 (a renewal), one of D002; revoke D001: both of its are on the
 * device CA's list as mbedTLS reads it, D002's is not; a second revoke adds nothing. */
static void test_pki_revoke_lists_every_certificate_of_the_dealer(void **state)
{
    char key[PATH_MAX], csr[PATH_MAX];
    (void)state;
    make_pki("rev");
    assert_int_equal(sign("rev", gateway_csr("R001"), "R001", in("rev", "R001-a.crt")), CTL_OK);
    snprintf(csr, sizeof(csr), "%s", in("gw", "R001-renew.csr"));
    snprintf(key, sizeof(key), "%s", in("gw", "R001-renew.key"));
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(pki_csr_create(key, "R001", csr), DEPOT_OK);
    assert_int_equal(sign("rev", csr, "R001", in("rev", "R001-b.crt")), CTL_OK);
    assert_int_equal(sign("rev", gateway_csr("R002"), "R002", in("rev", "R002.crt")), CTL_OK);
    assert_int_equal(verify_flags("rev", "devices-ca.crt", "R001-a.crt", "R001", true), 0);

    assert_int_equal(revoke_dealer("rev", "R001"), CTL_OK);
    assert_non_null(strstr(cap.out, "revoked 2 certificate(s) of dealer R001 (0 already revoked)"));
    assert_non_null(strstr(cap.out, "(number 2, 2 revoked, valid 3653 days)"));
    assert_non_null(strstr(cap.out, "kill -HUP"));
    assert_true(verify_flags("rev", "devices-ca.crt", "R001-a.crt", "R001", true) &
                MBEDTLS_X509_BADCERT_REVOKED);
    assert_true(verify_flags("rev", "devices-ca.crt", "R001-b.crt", "R001", true) &
                MBEDTLS_X509_BADCERT_REVOKED);
    assert_int_equal(verify_flags("rev", "devices-ca.crt", "R002.crt", "R002", true), 0);
    assert_string_equal(ctl_slurp(in("rev", "crlnumber")), "2\n");

    assert_int_equal(revoke_dealer("rev", "R001"), CTL_OK);
    assert_non_null(strstr(cap.out, "revoked 0 certificate(s) of dealer R001 (2 already revoked)"));
    assert_non_null(strstr(cap.out, "(number 3, 2 revoked,"));
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "crl", "--dir", in("rev", NULL), "--days",
                             "5", NULL),
                     CTL_OK);
    assert_non_null(strstr(cap.out, "(number 4, 2 revoked, valid 5 days)"));
    assert_true(verify_flags("rev", "devices-ca.crt", "R001-b.crt", "R001", true) &
                MBEDTLS_X509_BADCERT_REVOKED);

    /* a dealer the CA never issued to, and a bad id */
    assert_int_equal(revoke_dealer("rev", "R404"), CTL_FAIL);
    assert_non_null(strstr(cap.err, "no certificate was issued to dealer R404"));
    assert_int_equal(revoke_dealer("rev", "a/b"), CTL_USAGE);
}

/* A damaged revoked file stops revoke before anything is written. */
static void test_pki_revoke_refuses_damaged_state(void **state)
{
    const char *before;
    char copy[8192];
    FILE *f;
    (void)state;
    make_pki("revbad");
    assert_int_equal(sign("revbad", gateway_csr("S001"), "S001", in("revbad", "S001.crt")),
                     CTL_OK);
    f = fopen(in("revbad", "revoked"), "w");
    assert_non_null(f);
    fputs("zz 12 S001\n", f);
    fclose(f);
    before = ctl_slurp(in("revbad", "devices.crl"));
    snprintf(copy, sizeof(copy), "%s", before);
    assert_int_equal(revoke_dealer("revbad", "S001"), CTL_FAIL);
    assert_non_null(strstr(cap.err, "line 1: not 'SERIAL-HEX UNIX-TIME DEALER'"));
    assert_string_equal(ctl_slurp(in("revbad", "devices.crl")), copy);
}

static void test_broker_config_writes_files(void **state)
{
    char pki[PATH_MAX], line[PATH_MAX + 32];
    struct stat st;
    const char *conf;
    (void)state;
    make_pki("broker");
    assert_non_null(realpath(in("broker", NULL), pki));
    assert_int_equal(broker_config("broker", in("broker", "out"), NULL, NULL), CTL_OK);
    assert_true(strncmp(cap.out, "broker config: ", 15) == 0);
    conf = ctl_slurp(in("broker", "out/mosquitto.conf"));
    assert_non_null(conf);
    assert_true(has_line(conf, "listener 8883 127.0.0.1"));
    assert_true(has_line(conf, "require_certificate true"));
    assert_true(has_line(conf, "allow_anonymous false"));
    snprintf(line, sizeof(line), "cafile %s/devices-ca.crt", pki);
    assert_true(has_line(conf, line));
    snprintf(line, sizeof(line), "crlfile %s/devices.crl", pki);
    assert_true(has_line(conf, line));
    snprintf(line, sizeof(line), "certfile %s/broker.crt", pki);
    assert_true(has_line(conf, line));
    snprintf(line, sizeof(line), "keyfile %s/broker.key", pki);
    assert_true(has_line(conf, line));
    snprintf(line, sizeof(line), "acl_file %s/out/acl", pki);
    assert_true(has_line(conf, line));
    snprintf(line, sizeof(line), "persistence_location %s/out/data/", pki);
    assert_true(has_line(conf, line));
    conf = ctl_slurp(in("broker", "out/acl"));
    assert_true(has_line(conf, "pattern write depot/v1/%u/up/#"));
    assert_non_null(strstr(conf, "\nuser hub\ntopic readwrite depot/v1/#\n"
                                 "topic readwrite depot/alerts/#\n"));
    assert_int_equal(stat(in("broker", "out/data"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_false(exists(in("broker", "out/acl.tmp")));
    assert_false(exists(in("broker", "out/mosquitto.conf.tmp")));
}

static void test_broker_config_hubs(void **state)
{
    const char *acl;
    (void)state;
    make_pki("hubs");
    assert_int_equal(ctl_run(&cap, ctl_pki_main, "pki", "client", "--dir", in("hubs", NULL),
                             "--name", "hub2", NULL),
                     CTL_OK);
    assert_int_equal(broker_config("hubs", in("hubs", "out"), "hub", "hub2"), CTL_OK);
    acl = ctl_slurp(in("hubs", "out/acl"));
    assert_true(has_line(acl, "user hub") && has_line(acl, "user hub2"));
    assert_true(strstr(acl, "user hub\n") < strstr(acl, "user hub2\n"));
    /* twice, unknown, a dealer */
    assert_int_equal(broker_config("hubs", in("hubs", "o2"), "hub", "hub"), CTL_FAIL);
    assert_string_equal(cap.err, "depotctl broker-config: --hub hub given twice\n");
    assert_int_equal(broker_config("hubs", in("hubs", "o2"), NULL, "hub3"), CTL_FAIL);
    assert_non_null(strstr(cap.err, "--hub hub3: no "));
    assert_int_equal(sign("hubs", gateway_csr("D009"), "D009", in("hubs", "D009-gw.crt")), CTL_OK);
    assert_int_equal(broker_config("hubs", in("hubs", "o2"), NULL, "D009"), CTL_FAIL);
    assert_non_null(strstr(cap.err, "--hub D009 is a dealer"));
    assert_false(exists(in("hubs", "o2")));
}

static void test_broker_config_refusals(void **state)
{
    (void)state;
    assert_int_equal(ctl_run(&cap, ctl_broker_config_main, "broker-config", "--dir", root, "--port",
                             "0", "--out", in("nope", NULL), NULL),
                     CTL_USAGE);
    assert_string_equal(cap.err, "depotctl broker-config: --port must be a number from 1 to "
                                 "65535, not '0'\n");
    assert_int_equal(ctl_run(&cap, ctl_broker_config_main, "broker-config", "--dir", root, "--out",
                             in("nope", NULL), NULL),
                     CTL_USAGE);
    assert_true(strncmp(cap.err, "depotctl broker-config: missing --port\n", 39) == 0);
    /* no PKI in the folder */
    assert_int_equal(broker_config("no-pki", in("nope", NULL), NULL, "hub"), CTL_FAIL);
    assert_false(exists(in("nope", NULL)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_ca_writes_key_and_certificate),
        cmocka_unit_test(test_pki_ca_refuses_to_replace),
        cmocka_unit_test(test_pki_bad_options),
        cmocka_unit_test(test_pki_server_and_client),
        cmocka_unit_test(test_pki_sign_issues_and_records),
        cmocka_unit_test(test_pki_sign_refusals),
        cmocka_unit_test(test_pki_revoke_lists_every_certificate_of_the_dealer),
        cmocka_unit_test(test_pki_revoke_refuses_damaged_state),
        cmocka_unit_test(test_broker_config_writes_files),
        cmocka_unit_test(test_broker_config_hubs),
        cmocka_unit_test(test_broker_config_refusals),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
