/*
 * The certificate authority: a self-signed CA and the certificates it issues.
 *
 * Every certificate goes through one path, issue(): a cert_spec says who the
 * subject is, which key it certifies, who signs, and which extensions it
 * carries. The extensions mbedTLS 2.28 cannot write itself (subjectAltName,
 * extendedKeyUsage) are built here with asn1write, backwards from the end of
 * a buffer as asn1write wants.
 *
 * A dealer's certificate comes only from a CSR whose own signature verifies
 * (mbedtls_x509_csr_parse does not check it in 2.28, so csr_check does), whose
 * key is P-256 and whose CN is exactly the dealer id asked for. The issued
 * subject is built from the dealer id, never copied from the CSR, so nothing
 * else a CSR says ends up in a certificate.
 */
#include "pki_internal.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "depot/alloc.h"
#include "depot/id.h"
#include "depot/log.h"
#include "depot/pki.h"

#define SERIAL_BYTES 16
#define NOT_BEFORE_SLACK_S 300 /* tolerate clocks a few minutes behind ours */

enum cert_role { ROLE_CA, ROLE_SERVER, ROLE_CLIENT };

struct cert_spec {
    enum cert_role role;
    const char *cn;
    mbedtls_pk_context *subject_key;
    const char *issuer_name;
    mbedtls_pk_context *issuer_key;
    int days;
};

/* GeneralNames { iPAddress 127.0.0.1, dNSName "localhost" }. */
static int san_localhost(unsigned char *buf, size_t size, unsigned char **start)
{
    static const unsigned char ip[4] = {127, 0, 0, 1};
    static const char dns[] = "localhost";
    unsigned char *p = buf + size;
    size_t len = 0;
    int ret;

    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(&p, buf, ip, sizeof(ip)));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, sizeof(ip)));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_raw_buffer(&p, buf, (const unsigned char *)dns, sizeof(dns) - 1));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, sizeof(dns) - 1));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    *start = p;
    return (int)len;
}

/* ExtKeyUsageSyntax: SEQUENCE of the one key purpose. */
static int eku_one(unsigned char *buf, size_t size, const char *oid, size_t oid_len,
                   unsigned char **start)
{
    unsigned char *p = buf + size;
    size_t len = 0;
    int ret;

    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_oid(&p, buf, oid, oid_len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    *start = p;
    return (int)len;
}

static int set_serial(mbedtls_x509write_cert *crt, struct pki_rng *rng)
{
    unsigned char raw[SERIAL_BYTES];
    mbedtls_mpi serial;
    int rc;

    rc = mbedtls_ctr_drbg_random(&rng->drbg, raw, sizeof(raw));
    if (rc != 0)
        return rc;
    raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x40); /* positive, full 128-bit length */
    mbedtls_mpi_init(&serial);
    rc = mbedtls_mpi_read_binary(&serial, raw, sizeof(raw));
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_serial(crt, &serial);
    mbedtls_mpi_free(&serial);
    return rc;
}

static int set_validity(mbedtls_x509write_cert *crt, int days)
{
    char from[15], until[15];

    pki_time_string(from, -NOT_BEFORE_SLACK_S);
    pki_time_string(until, (long long)days * 86400);
    return mbedtls_x509write_crt_set_validity(crt, from, until);
}

static int set_role_extensions(mbedtls_x509write_cert *crt, enum cert_role role)
{
    unsigned char buf[128], *der;
    int len, rc;

    if (role == ROLE_CA) {
        rc = mbedtls_x509write_crt_set_basic_constraints(crt, 1, -1);
        if (rc == 0)
            rc = mbedtls_x509write_crt_set_key_usage(crt, MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                              MBEDTLS_X509_KU_CRL_SIGN);
        return rc;
    }
    rc = mbedtls_x509write_crt_set_basic_constraints(crt, 0, 0);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_key_usage(crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    if (rc != 0)
        return rc;
    if (role == ROLE_SERVER)
        len = eku_one(buf, sizeof(buf), MBEDTLS_OID_SERVER_AUTH,
                      MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH), &der);
    else
        len = eku_one(buf, sizeof(buf), MBEDTLS_OID_CLIENT_AUTH,
                      MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH), &der);
    if (len < 0)
        return len;
    rc = mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                             MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
                                             der, (size_t)len);
    if (rc != 0 || role != ROLE_SERVER)
        return rc;
    len = san_localhost(buf, sizeof(buf), &der);
    if (len < 0)
        return len;
    return mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                               der, (size_t)len);
}

static int fill_cert(mbedtls_x509write_cert *crt, const struct cert_spec *spec, struct pki_rng *rng)
{
    char subject[16 + PKI_ID_MAX];
    int rc;

    snprintf(subject, sizeof(subject), "CN=%s", spec->cn);
    mbedtls_x509write_crt_set_version(crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(crt, spec->subject_key);
    mbedtls_x509write_crt_set_issuer_key(crt, spec->issuer_key);
    rc = set_serial(crt, rng);
    if (rc == 0)
        rc = set_validity(crt, spec->days);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_subject_name(crt, subject);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_issuer_name(crt, spec->issuer_name);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_subject_key_identifier(crt);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_authority_key_identifier(crt);
    if (rc == 0)
        rc = set_role_extensions(crt, spec->role);
    return rc;
}

static depot_err issue(const struct cert_spec *spec, struct pki_rng *rng, const char *crt_path)
{
    unsigned char pem[PKI_PEM_MAX];
    mbedtls_x509write_cert crt;
    int rc;

    mbedtls_x509write_crt_init(&crt);
    rc = fill_cert(&crt, spec, rng);
    if (rc == 0)
        rc = mbedtls_x509write_crt_pem(&crt, pem, sizeof(pem), mbedtls_ctr_drbg_random, &rng->drbg);
    mbedtls_x509write_crt_free(&crt);
    if (rc != 0)
        return pki_mbed_err(rc, "writing the certificate");
    return pki_write_new(crt_path, pem, strlen((char *)pem), 0644);
}

depot_err pki_ca_create(const char *key_path, const char *crt_path, const char *cn, int days)
{
    struct cert_spec spec = {.role = ROLE_CA};
    char name[64];
    mbedtls_pk_context key;
    struct pki_rng rng;
    depot_err err;

    spec.cn = cn ? cn : PKI_CA_CN;
    if (snprintf(name, sizeof(name), "CN=%s", spec.cn) >= (int)sizeof(name))
        return DEPOT_ERR_INVAL;
    spec.issuer_name = name;
    spec.days = days > 0 ? days : PKI_CA_DAYS;
    spec.subject_key = spec.issuer_key = &key;
    mbedtls_pk_init(&key);
    err = pki_rng_init(&rng);
    if (err == DEPOT_OK)
        err = pki_load_key(&key, key_path);
    if (err == DEPOT_OK)
        err = issue(&spec, &rng, crt_path);
    mbedtls_pk_free(&key);
    pki_rng_free(&rng);
    return err;
}

static depot_err ca_load(pki_ca *ca, const char *key_path, const char *crt_path)
{
    depot_err err = pki_rng_init(&ca->rng);
    int rc;

    if (err == DEPOT_OK)
        err = pki_load_key(&ca->key, key_path);
    if (err != DEPOT_OK)
        return err;
    rc = mbedtls_x509_crt_parse_file(&ca->crt, crt_path);
    if (rc != 0) {
        LOG_ERROR("cannot load the CA certificate %s", crt_path);
        return pki_mbed_err(rc, crt_path);
    }
    if (mbedtls_pk_check_pair(&ca->crt.pk, &ca->key) != 0) {
        LOG_ERROR("%s does not belong to the key %s", crt_path, key_path);
        return DEPOT_ERR_INVAL;
    }
    if (mbedtls_x509_dn_gets(ca->issuer, sizeof(ca->issuer), &ca->crt.subject) < 0)
        return DEPOT_ERR_CRYPTO;
    return DEPOT_OK;
}

depot_err pki_ca_open(pki_ca **out, const char *key_path, const char *crt_path)
{
    pki_ca *ca = depot_calloc(1, sizeof(*ca));
    depot_err err;

    *out = NULL;
    if (!ca)
        return DEPOT_ERR_NOMEM;
    mbedtls_pk_init(&ca->key);
    mbedtls_x509_crt_init(&ca->crt);
    err = ca_load(ca, key_path, crt_path);
    if (err != DEPOT_OK) {
        pki_ca_free(ca);
        return err;
    }
    *out = ca;
    return DEPOT_OK;
}

void pki_ca_free(pki_ca *ca)
{
    if (!ca)
        return;
    mbedtls_pk_free(&ca->key);
    mbedtls_x509_crt_free(&ca->crt);
    pki_rng_free(&ca->rng);
    depot_free(ca);
}

static depot_err ca_issue_for(pki_ca *ca, enum cert_role role, mbedtls_pk_context *subject_key,
                              const char *cn, const char *crt_path, int days)
{
    struct cert_spec spec = {.role = role, .cn = cn, .subject_key = subject_key};

    if (!pki_id_valid(cn)) {
        LOG_ERROR("'%s' is not a valid name (" DEPOT_ID_RULE ")", cn ? cn : "");
        return DEPOT_ERR_INVAL;
    }
    spec.issuer_name = ca->issuer;
    spec.issuer_key = &ca->key;
    spec.days = days > 0 ? days : PKI_LEAF_DAYS;
    return issue(&spec, &ca->rng, crt_path);
}

static depot_err ca_issue_for_key_file(pki_ca *ca, enum cert_role role, const char *key_path,
                                       const char *cn, const char *crt_path, int days)
{
    mbedtls_pk_context key;
    depot_err err;

    mbedtls_pk_init(&key);
    err = pki_load_key(&key, key_path);
    if (err == DEPOT_OK)
        err = ca_issue_for(ca, role, &key, cn, crt_path, days);
    mbedtls_pk_free(&key);
    return err;
}

depot_err pki_ca_issue_server(pki_ca *ca, const char *key_path, const char *cn,
                              const char *crt_path, int days)
{
    return ca_issue_for_key_file(ca, ROLE_SERVER, key_path, cn, crt_path, days);
}

depot_err pki_ca_issue_client(pki_ca *ca, const char *key_path, const char *cn,
                              const char *crt_path, int days)
{
    return ca_issue_for_key_file(ca, ROLE_CLIENT, key_path, cn, crt_path, days);
}

/* The CSR's own signature over its CertificationRequestInfo. */
static depot_err csr_signature_ok(mbedtls_x509_csr *csr, const char *csr_path)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(csr->sig_md);
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    int rc;

    if (!md || mbedtls_md(md, csr->cri.p, csr->cri.len, hash) != 0) {
        LOG_ERROR("CSR %s: unsupported signature algorithm", csr_path);
        return DEPOT_ERR_SIGNATURE;
    }
    rc = mbedtls_pk_verify_ext(csr->sig_pk, csr->sig_opts, &csr->pk, csr->sig_md, hash,
                               mbedtls_md_get_size(md), csr->sig.p, csr->sig.len);
    if (rc != 0) {
        LOG_ERROR("CSR %s: its signature does not verify (tampered or corrupt), refused", csr_path);
        return DEPOT_ERR_SIGNATURE;
    }
    return DEPOT_OK;
}

static depot_err csr_check(mbedtls_x509_csr *csr, const char *csr_path, const char *dealer)
{
    char cn[PKI_CN_SIZE];
    depot_err err = csr_signature_ok(csr, csr_path);

    if (err != DEPOT_OK)
        return err;
    if (mbedtls_pk_get_type(&csr->pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_pk_ec(csr->pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        LOG_ERROR("CSR %s: the key is not ECDSA P-256, refused", csr_path);
        return DEPOT_ERR_FORBIDDEN;
    }
    err = pki_name_cn(&csr->subject, cn, sizeof(cn));
    if (err != DEPOT_OK || !pki_id_valid(cn)) {
        LOG_ERROR("CSR %s: its subject has no single valid CN (a dealer id), refused", csr_path);
        return DEPOT_ERR_FORBIDDEN;
    }
    if (strcmp(cn, dealer) != 0) {
        LOG_ERROR("CSR %s: its CN '%s' is not the dealer '%s', refused", csr_path, cn, dealer);
        return DEPOT_ERR_FORBIDDEN;
    }
    return DEPOT_OK;
}

depot_err pki_ca_sign_csr(pki_ca *ca, const char *csr_path, const char *dealer,
                          const char *crt_path, int days)
{
    mbedtls_x509_csr csr;
    depot_err err;
    int rc;

    if (!pki_id_valid(dealer)) {
        LOG_ERROR("'%s' is not a valid dealer id (" DEPOT_ID_RULE ")", dealer ? dealer : "");
        return DEPOT_ERR_INVAL;
    }
    mbedtls_x509_csr_init(&csr);
    rc = mbedtls_x509_csr_parse_file(&csr, csr_path);
    if (rc != 0) {
        LOG_ERROR("CSR %s: cannot be read or parsed, refused", csr_path);
        err = pki_mbed_err(rc, csr_path);
    } else {
        err = csr_check(&csr, csr_path, dealer);
    }
    if (err == DEPOT_OK)
        err = ca_issue_for(ca, ROLE_CLIENT, &csr.pk, dealer, crt_path, days);
    mbedtls_x509_csr_free(&csr);
    return err;
}
