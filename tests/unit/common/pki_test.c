/*
 * Unit tests of common/pki*.c against real mbedTLS: every certificate made
 * here is checked with mbedtls_x509_crt_verify against the CA that issued
 * it, not just re-read by the code that wrote it. One CA is made for the
 * whole group in a temporary folder; each test uses its own file names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/pki.h"

static char dir[64];
static char ca_key[128], ca_crt[128];

static const char *tmp(const char *name)
{
    static char paths[8][128];
    static int next;
    char *p = paths[next++ % 8];

    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

static int group_setup(void **state)
{
    (void)state;
    depot_log_init("pki_test", DEPOT_LOG_ERROR + 1);
    strcpy(dir, "/tmp/pki_test-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(ca_key, sizeof(ca_key), "%s/ca.key", dir);
    snprintf(ca_crt, sizeof(ca_crt), "%s/ca.crt", dir);
    if (pki_key_generate(ca_key) != DEPOT_OK || pki_ca_create(ca_key, ca_crt, NULL, 0) != DEPOT_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Parses crt_path and verifies it against ca_path; returns the flags. */
static uint32_t verify_against(const char *ca_path, const char *crt_path, const char *cn)
{
    mbedtls_x509_crt ca, crt;
    uint32_t flags = 0;

    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse_file(&ca, ca_path), 0);
    assert_int_equal(mbedtls_x509_crt_parse_file(&crt, crt_path), 0);
    if (mbedtls_x509_crt_verify(&crt, &ca, NULL, cn, &flags, NULL, NULL) != 0 && flags == 0)
        flags = UINT32_MAX;
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return flags;
}

static char *slurp(const char *path)
{
    char *text = NULL;

    assert_int_equal(pki_read_file(path, 16384, &text, NULL), DEPOT_OK);
    return text;
}

/* A dealer certificate through the whole path: key, CSR, CA signs. */
static void make_dealer(pki_ca *ca, const char *id, const char *key, const char *csr,
                        const char *crt)
{
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(pki_csr_create(key, id, csr), DEPOT_OK);
    assert_int_equal(pki_ca_sign_csr(ca, csr, id, crt, 0), DEPOT_OK);
}

static void test_pki_id_valid_AcceptsOnlyTheDealerAlphabet(void **state)
{
    (void)state;
    assert_true(pki_id_valid("dealer-01_A"));
    assert_true(pki_id_valid("abcdefghijklmnopqrstuvwxyz012345"));
    assert_false(pki_id_valid("abcdefghijklmnopqrstuvwxyz0123456"));
    assert_false(pki_id_valid(""));
    assert_false(pki_id_valid(NULL));
    assert_false(pki_id_valid("a/b"));
    assert_false(pki_id_valid("a+"));
    assert_false(pki_id_valid("a#"));
    assert_false(pki_id_valid("a b"));
    assert_false(pki_id_valid("CN=x,O=y"));
}

static void test_pki_key_generate_WritesP256KeyMode0600(void **state)
{
    const char *key = tmp("k1.key");
    struct stat st;
    char *pem;

    (void)state;
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    pem = slurp(key);
    assert_non_null(strstr(pem, "-----BEGIN EC PRIVATE KEY-----"));
    depot_free(pem);
}

static void test_pki_key_generate_RefusesToOverwrite(void **state)
{
    const char *key = tmp("k2.key");
    char *before, *after;

    (void)state;
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    before = slurp(key);
    assert_int_equal(pki_key_generate(key), DEPOT_ERR_DUPLICATE);
    after = slurp(key);
    assert_string_equal(before, after);
    depot_free(before);
    depot_free(after);
}

static void test_pki_ca_create_IsSelfSignedCa(void **state)
{
    mbedtls_x509_crt ca;
    char cn[PKI_CN_SIZE];

    (void)state;
    assert_int_equal(verify_against(ca_crt, ca_crt, NULL), 0);
    assert_int_equal(pki_cert_cn(ca_crt, cn, sizeof(cn)), DEPOT_OK);
    assert_string_equal(cn, "Depot CA");
    mbedtls_x509_crt_init(&ca);
    assert_int_equal(mbedtls_x509_crt_parse_file(&ca, ca_crt), 0);
    assert_int_equal(ca.ca_istrue, 1);
    assert_int_equal(mbedtls_x509_crt_check_key_usage(&ca, MBEDTLS_X509_KU_KEY_CERT_SIGN), 0);
    assert_int_equal(mbedtls_x509_crt_check_key_usage(&ca, MBEDTLS_X509_KU_CRL_SIGN), 0);
    assert_int_equal(ca.valid_to.year - ca.valid_from.year, 10);
    mbedtls_x509_crt_free(&ca);
}

static void test_pki_ca_sign_csr_IssuesClientCertVerifiedByCa(void **state)
{
    const char *key = tmp("d1.key"), *csr = tmp("d1.csr"), *crt = tmp("d1.crt");
    mbedtls_x509_crt c;
    char cn[PKI_CN_SIZE];
    pki_ca *ca;

    (void)state;
    assert_int_equal(pki_ca_open(&ca, ca_key, ca_crt), DEPOT_OK);
    make_dealer(ca, "dealer-7", key, csr, crt);
    pki_ca_free(ca);
    assert_int_equal(verify_against(ca_crt, crt, "dealer-7"), 0);
    assert_int_equal(pki_cert_cn(crt, cn, sizeof(cn)), DEPOT_OK);
    assert_string_equal(cn, "dealer-7");
    mbedtls_x509_crt_init(&c);
    assert_int_equal(mbedtls_x509_crt_parse_file(&c, crt), 0);
    assert_int_equal(c.ca_istrue, 0);
    assert_int_equal(c.serial.len, 16);
    assert_int_equal(c.sig_md, MBEDTLS_MD_SHA256);
    assert_int_equal(c.valid_to.year - c.valid_from.year, 2);
    assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(
                         &c, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)),
                     0);
    assert_int_not_equal(
        mbedtls_x509_crt_check_extended_key_usage(&c, MBEDTLS_OID_SERVER_AUTH,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
        0);
    mbedtls_x509_crt_free(&c);
}

static void test_pki_ca_sign_csr_SerialsDiffer(void **state)
{
    mbedtls_x509_crt a, b;
    pki_ca *ca;

    (void)state;
    assert_int_equal(pki_ca_open(&ca, ca_key, ca_crt), DEPOT_OK);
    assert_int_equal(pki_ca_sign_csr(ca, tmp("d1.csr"), "dealer-7", tmp("d1b.crt"), 30), DEPOT_OK);
    pki_ca_free(ca);
    mbedtls_x509_crt_init(&a);
    mbedtls_x509_crt_init(&b);
    assert_int_equal(mbedtls_x509_crt_parse_file(&a, tmp("d1.crt")), 0);
    assert_int_equal(mbedtls_x509_crt_parse_file(&b, tmp("d1b.crt")), 0);
    assert_memory_not_equal(a.serial.p, b.serial.p, 16);
    mbedtls_x509_crt_free(&a);
    mbedtls_x509_crt_free(&b);
}

static bool has_san(const mbedtls_x509_crt *c, int tag, const void *val, size_t len)
{
    for (const mbedtls_x509_sequence *s = &c->subject_alt_names; s && s->buf.p; s = s->next)
        if ((s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK) == tag && s->buf.len == len &&
            memcmp(s->buf.p, val, len) == 0)
            return true;
    return false;
}

static bool der_contains(const mbedtls_x509_crt *c, const void *needle, size_t len)
{
    for (size_t i = 0; i + len <= c->raw.len; i++)
        if (memcmp(c->raw.p + i, needle, len) == 0)
            return true;
    return false;
}

static void test_pki_ca_issue_server_HasSanAndServerAuth(void **state)
{
    static const unsigned char ip_san[] = {0x87, 0x04, 127, 0, 0, 1};
    const char *key = tmp("srv.key"), *crt = tmp("srv.crt");
    mbedtls_x509_crt c;
    pki_ca *ca;

    (void)state;
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(pki_ca_open(&ca, ca_key, ca_crt), DEPOT_OK);
    assert_int_equal(pki_ca_issue_server(ca, key, "broker", crt, 0), DEPOT_OK);
    pki_ca_free(ca);
    /* mbedTLS checks the expected name against the SAN dNSNames. */
    assert_int_equal(verify_against(ca_crt, crt, "localhost"), 0);
    assert_int_not_equal(verify_against(ca_crt, crt, "example.com"), 0);
    mbedtls_x509_crt_init(&c);
    assert_int_equal(mbedtls_x509_crt_parse_file(&c, crt), 0);
    assert_true(c.ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME);
    assert_true(has_san(&c, MBEDTLS_X509_SAN_DNS_NAME, "localhost", 9));
    assert_true(der_contains(&c, ip_san, sizeof(ip_san)));
    assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(
                         &c, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
                     0);
    mbedtls_x509_crt_free(&c);
}

static void test_pki_ca_issue_client_SetsCnAndClientAuth(void **state)
{
    const char *key = tmp("hub.key"), *crt = tmp("hub.crt");
    char cn[PKI_CN_SIZE];
    pki_ca *ca;

    (void)state;
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(pki_ca_open(&ca, ca_key, ca_crt), DEPOT_OK);
    assert_int_equal(pki_ca_issue_client(ca, key, "bad/name", tmp("bad.crt"), 0), DEPOT_ERR_INVAL);
    assert_int_equal(pki_ca_issue_client(ca, key, "hub", crt, 0), DEPOT_OK);
    assert_int_equal(pki_ca_issue_client(ca, key, "hub", crt, 0), DEPOT_ERR_DUPLICATE);
    pki_ca_free(ca);
    assert_int_equal(verify_against(ca_crt, crt, NULL), 0);
    assert_int_equal(pki_cert_cn(crt, cn, sizeof(cn)), DEPOT_OK);
    assert_string_equal(cn, "hub");
}

/* Rewrites the PEM CSR at in to out with the last byte of its DER flipped
 * (inside the signature's s value). */
static void tamper_csr(const char *in, const char *out)
{
    unsigned char pem[4096];
    size_t olen = 0;
    mbedtls_x509_csr csr;
    FILE *f;

    mbedtls_x509_csr_init(&csr);
    assert_int_equal(mbedtls_x509_csr_parse_file(&csr, in), 0);
    csr.raw.p[csr.raw.len - 1] ^= 0x01;
    assert_int_equal(mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE REQUEST-----\n",
                                              "-----END CERTIFICATE REQUEST-----\n", csr.raw.p,
                                              csr.raw.len, pem, sizeof(pem), &olen),
                     0);
    mbedtls_x509_csr_free(&csr);
    f = fopen(out, "w");
    assert_non_null(f);
    fputs((char *)pem, f);
    fclose(f);
}

static void test_pki_ca_sign_csr_RefusesTamperedSignature(void **state)
{
    const char *key = tmp("t.key"), *csr = tmp("t.csr"), *bad = tmp("t-bad.csr");
    pki_ca *ca;

    (void)state;
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(pki_csr_create(key, "dealer-t", csr), DEPOT_OK);
    tamper_csr(csr, bad);
    assert_int_equal(pki_ca_open(&ca, ca_key, ca_crt), DEPOT_OK);
    assert_int_equal(pki_ca_sign_csr(ca, bad, "dealer-t", tmp("t.crt"), 0), DEPOT_ERR_SIGNATURE);
    assert_int_equal(access(tmp("t.crt"), F_OK), -1);
    assert_int_equal(pki_ca_sign_csr(ca, csr, "dealer-t", tmp("t.crt"), 0), DEPOT_OK);
    pki_ca_free(ca);
}

static void test_pki_ca_sign_csr_RefusesCnMismatch(void **state)
{
    const char *key = tmp("m.key"), *csr = tmp("m.csr");
    pki_ca *ca;

    (void)state;
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(pki_csr_create(key, "dealer-a", csr), DEPOT_OK);
    assert_int_equal(pki_ca_open(&ca, ca_key, ca_crt), DEPOT_OK);
    assert_int_equal(pki_ca_sign_csr(ca, csr, "dealer-b", tmp("m.crt"), 0), DEPOT_ERR_FORBIDDEN);
    assert_int_equal(pki_ca_sign_csr(ca, csr, "bad id", tmp("m.crt"), 0), DEPOT_ERR_INVAL);
    assert_int_equal(access(tmp("m.crt"), F_OK), -1);
    pki_ca_free(ca);
}

static void test_pki_csr_create_RefusesInvalidCn(void **state)
{
    (void)state;
    assert_int_equal(pki_csr_create(tmp("k1.key"), "a,CN=b", tmp("x.csr")), DEPOT_ERR_INVAL);
    assert_int_equal(pki_csr_create(tmp("k1.key"), "", tmp("x.csr")), DEPOT_ERR_INVAL);
    assert_int_equal(pki_csr_create(tmp("missing.key"), "ok", tmp("x.csr")), DEPOT_ERR_IO);
}

static void test_pki_ca_open_RefusesKeyOfAnotherCert(void **state)
{
    pki_ca *ca = (pki_ca *)1;

    (void)state;
    assert_int_equal(pki_ca_open(&ca, tmp("k1.key"), ca_crt), DEPOT_ERR_INVAL);
    assert_null(ca);
    assert_int_equal(pki_ca_open(&ca, ca_key, tmp("missing.crt")), DEPOT_ERR_IO);
    pki_ca_free(NULL);
}

static void test_pki_signer_sign_VerifiesAgainstCertificate(void **state)
{
    static const char order[] = "{\"v\":1,\"order\":\"o-17\",\"lines\":[[\"SKU1\",4]]}";
    unsigned char sig[PKI_SIG_MAX], back[PKI_SIG_MAX];
    char b64[PKI_SIG_B64_SIZE], *pem = slurp(tmp("d1.crt"));
    size_t n = 0, m = 0, blen = 0;

    (void)state;
    assert_int_equal(
        pki_sign_with_key_file(tmp("d1.key"), order, strlen(order), sig, sizeof(sig), &n),
        DEPOT_OK);
    assert_in_range(n, 8, PKI_SIG_MAX);
    assert_int_equal(pki_verify(pem, order, strlen(order), sig, n), DEPOT_OK);
    assert_int_equal(pki_base64_encode(sig, n, b64, sizeof(b64), &blen), DEPOT_OK);
    assert_int_equal(strlen(b64), blen);
    assert_int_equal(pki_base64_decode(b64, back, sizeof(back), &m), DEPOT_OK);
    assert_int_equal(m, n);
    assert_memory_equal(back, sig, n);
    assert_int_equal(pki_base64_decode("not base64!", back, sizeof(back), &m), DEPOT_ERR_PARSE);
    assert_int_equal(pki_base64_encode(sig, n, b64, 10, &blen), DEPOT_ERR_FULL);
    depot_free(pem);
}

static void test_pki_verify_FailsForFlippedByte(void **state)
{
    char data[] = "order o-18: SKU2 x 9";
    unsigned char sig[PKI_SIG_MAX];
    char *pem = slurp(tmp("d1.crt"));
    size_t n = 0;
    pki_signer *s;

    (void)state;
    assert_int_equal(pki_signer_open(&s, tmp("d1.key")), DEPOT_OK);
    assert_int_equal(pki_signer_sign(s, data, strlen(data), sig, sizeof(sig), &n), DEPOT_OK);
    assert_int_equal(pki_signer_sign(s, data, strlen(data), sig, 4, &n), DEPOT_ERR_FULL);
    assert_int_equal(pki_signer_sign(s, data, strlen(data), sig, sizeof(sig), &n), DEPOT_OK);
    pki_signer_free(s);
    data[6] ^= 0x01;
    assert_int_equal(pki_verify(pem, data, strlen(data), sig, n), DEPOT_ERR_SIGNATURE);
    data[6] ^= 0x01;
    assert_int_equal(pki_verify(pem, data, strlen(data), sig, n), DEPOT_OK);
    sig[n - 1] ^= 0x01;
    assert_int_equal(pki_verify(pem, data, strlen(data), sig, n), DEPOT_ERR_SIGNATURE);
    assert_int_equal(pki_verify(pem, data, strlen(data), sig, n - 3), DEPOT_ERR_SIGNATURE);
    depot_free(pem);
}

static void test_pki_verify_FailsForAnotherKeysCertificate(void **state)
{
    const char data[] = "order o-19";
    unsigned char sig[PKI_SIG_MAX];
    char *other = slurp(tmp("hub.crt"));
    size_t n = 0;

    (void)state;
    assert_int_equal(
        pki_sign_with_key_file(tmp("d1.key"), data, strlen(data), sig, sizeof(sig), &n), DEPOT_OK);
    assert_int_equal(pki_verify(other, data, strlen(data), sig, n), DEPOT_ERR_SIGNATURE);
    assert_int_equal(pki_verify("not a certificate", data, strlen(data), sig, n), DEPOT_ERR_CRYPTO);
    depot_free(other);
}

/* The base64 pair (pki_signer_sign_b64, pki_verify_b64) and a key opened with its certificate. */
static void test_pki_identity_SignsAndVerifiesInBase64(void **state)
{
    const char data[] = "contract 7 of D1";
    char b64[PKI_SIG_B64_SIZE], *pem = slurp(tmp("d1.crt")), *cert = NULL;
    pki_signer *s = NULL;

    (void)state;
    assert_int_equal(pki_identity_open(tmp("d1.key"), tmp("d1.crt"), 4096, &s, &cert), DEPOT_OK);
    assert_non_null(s);
    assert_string_equal(cert, pem);
    assert_int_equal(pki_signer_sign_b64(s, data, strlen(data), b64, sizeof(b64)), DEPOT_OK);
    assert_int_equal(pki_signer_sign_b64(s, data, strlen(data), b64, 10), DEPOT_ERR_FULL);
    assert_int_equal(pki_signer_sign_b64(s, data, strlen(data), b64, sizeof(b64)), DEPOT_OK);
    assert_int_equal(pki_verify_b64(pem, data, strlen(data), b64), DEPOT_OK);
    assert_int_equal(pki_verify_b64(pem, data, strlen(data) - 1, b64), DEPOT_ERR_SIGNATURE);
    assert_int_equal(pki_verify_b64(pem, data, strlen(data), "not base64!"), DEPOT_ERR_SIGNATURE);
    pki_signer_free(s);
    depot_free(cert);
    /* a certificate past the bound, or a key that is not there: neither half is kept */
    assert_int_equal(pki_identity_open(tmp("d1.key"), tmp("d1.crt"), 16, &s, &cert),
                     DEPOT_ERR_FULL);
    assert_null(s);
    assert_null(cert);
    assert_int_not_equal(pki_identity_open(tmp("none.key"), tmp("d1.crt"), 4096, &s, &cert),
                         DEPOT_OK);
    assert_null(s);
    assert_null(cert);
    depot_free(pem);
}

static void test_pki_cert_check_issued_RefusesAnotherCa(void **state)
{
    const char *key2 = tmp("ca2.key"), *crt2 = tmp("ca2.crt");
    char *pem = slurp(tmp("d1.crt"));

    (void)state;
    assert_int_equal(pki_key_generate(key2), DEPOT_OK);
    assert_int_equal(pki_ca_create(key2, crt2, NULL, 0), DEPOT_OK);
    assert_int_equal(pki_cert_check_issued(ca_crt, pem), DEPOT_OK);
    assert_int_equal(pki_cert_check_issued(crt2, pem), DEPOT_ERR_SIGNATURE);
    assert_int_not_equal(verify_against(crt2, tmp("d1.crt"), NULL), 0);
    depot_free(pem);
}

static void test_pki_cert_verify_OneParseManyVerifies(void **state)
{
    char data[] = "order o-20: SKU3 x 2";
    unsigned char sig[PKI_SIG_MAX];
    char *pem = slurp(tmp("d1.crt")), cn[PKI_CN_SIZE];
    size_t n = 0;
    pki_trust *t;
    pki_cert *c;

    (void)state;
    assert_int_equal(
        pki_sign_with_key_file(tmp("d1.key"), data, strlen(data), sig, sizeof(sig), &n), DEPOT_OK);
    assert_int_equal(pki_trust_open(&t, ca_crt), DEPOT_OK);
    assert_int_equal(pki_cert_open_pem(&c, pem, t), DEPOT_OK);
    assert_int_equal(pki_cert_pem_cn(pem, cn, sizeof(cn)), DEPOT_OK);
    assert_string_equal(pki_cert_subject_cn(c), cn);
    assert_true(pki_cert_valid_now(c));
    for (int i = 0; i < 3; i++)
        assert_int_equal(pki_cert_verify(c, data, strlen(data), sig, n), DEPOT_OK);
    data[3] ^= 0x01;
    assert_int_equal(pki_cert_verify(c, data, strlen(data), sig, n), DEPOT_ERR_SIGNATURE);
    data[3] ^= 0x01;
    assert_int_equal(pki_cert_verify(c, data, strlen(data), sig, n - 3), DEPOT_ERR_SIGNATURE);
    sig[n - 1] ^= 0x01;
    assert_int_equal(pki_cert_verify(c, data, strlen(data), sig, n), DEPOT_ERR_SIGNATURE);
    pki_cert_free(c);
    pki_trust_free(t);
    depot_free(pem);
}

static void test_pki_cert_open_pem_RefusesAnotherCaAndGarbage(void **state)
{
    const char *key3 = tmp("ca3.key"), *crt3 = tmp("ca3.crt");
    char *pem = slurp(tmp("d1.crt"));
    pki_trust *t = (pki_trust *)1, *other;
    pki_cert *c = (pki_cert *)1;

    (void)state;
    assert_int_equal(pki_trust_open(&t, tmp("missing.crt")), DEPOT_ERR_IO);
    assert_null(t);
    assert_int_equal(pki_key_generate(key3), DEPOT_OK);
    assert_int_equal(pki_ca_create(key3, crt3, NULL, 0), DEPOT_OK);
    assert_int_equal(pki_trust_open(&other, crt3), DEPOT_OK);
    assert_int_equal(pki_cert_open_pem(&c, pem, other), DEPOT_ERR_SIGNATURE);
    assert_null(c);
    assert_int_equal(pki_cert_open_pem(&c, "not a certificate", other), DEPOT_ERR_CRYPTO);
    assert_int_equal(pki_cert_open_pem(&c, pem, NULL), DEPOT_ERR_INVAL);
    pki_trust_free(other);
    pki_trust_free(NULL);
    pki_cert_free(NULL);
    depot_free(pem);
}

static void test_pki_cert_pem_cn_ReportsSmallBuffer(void **state)
{
    char *pem = slurp(tmp("d1.crt")), cn[4];

    (void)state;
    assert_int_equal(pki_cert_pem_cn(pem, cn, sizeof(cn)), DEPOT_ERR_FULL);
    depot_free(pem);
}

static void test_pki_MemoryIsReturned(void **state)
{
    (void)state;
    assert_int_equal(depot_mem_in_use(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_id_valid_AcceptsOnlyTheDealerAlphabet),
        cmocka_unit_test(test_pki_key_generate_WritesP256KeyMode0600),
        cmocka_unit_test(test_pki_key_generate_RefusesToOverwrite),
        cmocka_unit_test(test_pki_ca_create_IsSelfSignedCa),
        cmocka_unit_test(test_pki_ca_sign_csr_IssuesClientCertVerifiedByCa),
        cmocka_unit_test(test_pki_ca_sign_csr_SerialsDiffer),
        cmocka_unit_test(test_pki_ca_issue_server_HasSanAndServerAuth),
        cmocka_unit_test(test_pki_ca_issue_client_SetsCnAndClientAuth),
        cmocka_unit_test(test_pki_ca_sign_csr_RefusesTamperedSignature),
        cmocka_unit_test(test_pki_ca_sign_csr_RefusesCnMismatch),
        cmocka_unit_test(test_pki_csr_create_RefusesInvalidCn),
        cmocka_unit_test(test_pki_ca_open_RefusesKeyOfAnotherCert),
        cmocka_unit_test(test_pki_signer_sign_VerifiesAgainstCertificate),
        cmocka_unit_test(test_pki_verify_FailsForFlippedByte),
        cmocka_unit_test(test_pki_verify_FailsForAnotherKeysCertificate),
        cmocka_unit_test(test_pki_identity_SignsAndVerifiesInBase64),
        cmocka_unit_test(test_pki_cert_check_issued_RefusesAnotherCa),
        cmocka_unit_test(test_pki_cert_verify_OneParseManyVerifies),
        cmocka_unit_test(test_pki_cert_open_pem_RefusesAnotherCaAndGarbage),
        cmocka_unit_test(test_pki_cert_pem_cn_ReportsSmallBuffer),
        cmocka_unit_test(test_pki_MemoryIsReturned),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
