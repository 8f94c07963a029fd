/*
 * Signatures and certificate reading: ECDSA P-256 over SHA-256 with DER
 * signatures (what the order format carries, base64 encoded), verification
 * against a dealer's certificate, a certificate's CN, and whether a
 * certificate was issued by our CA.
 *
 * A pki_signer parses its key and seeds its generator once, because the
 * gateway signs every order with the same key. Verification needs no
 * randomness: pki_verify is a plain function over a certificate PEM, and a
 * pki_cert is the same certificate checked against a pki_trust (the CA,
 * parsed once) and kept parsed, so that the hub pays the chain check once
 * per dealer and one ECDSA verify per order (mbedTLS also keeps the
 * precomputed tables of the key's group between verifies). A trust may hold
 * the CA's CRL (pki_crl.c checks it is the CA's); a certificate it lists is
 * refused like one the CA did not issue.
 */
#include "pki_internal.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/x509_crt.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/pki.h"

struct pki_trust {
    mbedtls_x509_crt ca;
    mbedtls_x509_crl crl;
    bool has_crl;
};

struct pki_cert {
    mbedtls_x509_crt crt;
    char cn[PKI_CN_SIZE];
};

struct pki_signer {
    mbedtls_pk_context key;
    struct pki_rng rng;
};

static depot_err sha256(const void *data, size_t len, unsigned char hash[32])
{
    int rc = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), data, len, hash);

    return rc ? pki_mbed_err(rc, "SHA-256") : DEPOT_OK;
}

static depot_err signer_load(pki_signer *s, const char *key_path)
{
    depot_err err = pki_rng_init(&s->rng);

    if (err == DEPOT_OK)
        err = pki_load_key(&s->key, key_path);
    if (err != DEPOT_OK)
        return err;
    if (mbedtls_pk_get_type(&s->key) != MBEDTLS_PK_ECKEY ||
        mbedtls_pk_ec(s->key)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        LOG_ERROR("%s: not an ECDSA P-256 key", key_path);
        return DEPOT_ERR_INVAL;
    }
    return DEPOT_OK;
}

depot_err pki_signer_open(pki_signer **out, const char *key_path)
{
    pki_signer *s = depot_calloc(1, sizeof(*s));
    depot_err err;

    *out = NULL;
    if (!s)
        return DEPOT_ERR_NOMEM;
    mbedtls_pk_init(&s->key);
    err = signer_load(s, key_path);
    if (err != DEPOT_OK) {
        pki_signer_free(s);
        return err;
    }
    *out = s;
    return DEPOT_OK;
}

void pki_signer_free(pki_signer *s)
{
    if (!s)
        return;
    mbedtls_pk_free(&s->key);
    pki_rng_free(&s->rng);
    depot_free(s);
}

depot_err pki_signer_sign(pki_signer *s, const void *data, size_t len, unsigned char *sig,
                          size_t sig_size, size_t *sig_len)
{
    unsigned char hash[32], der[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t n = 0;
    depot_err err = sha256(data, len, hash);
    int rc;

    if (err != DEPOT_OK)
        return err;
    rc = mbedtls_pk_sign(&s->key, MBEDTLS_MD_SHA256, hash, sizeof(hash), der, &n,
                         mbedtls_ctr_drbg_random, &s->rng.drbg);
    if (rc != 0)
        return pki_mbed_err(rc, "signing");
    if (n > sig_size)
        return DEPOT_ERR_FULL;
    memcpy(sig, der, n);
    *sig_len = n;
    return DEPOT_OK;
}

depot_err pki_signer_sign_b64(pki_signer *s, const void *data, size_t len, char *out, size_t size)
{
    unsigned char sig[PKI_SIG_MAX];
    size_t sig_len, b64_len;
    depot_err err = pki_signer_sign(s, data, len, sig, sizeof(sig), &sig_len);
    return err != DEPOT_OK ? err : pki_base64_encode(sig, sig_len, out, size, &b64_len);
}

depot_err pki_identity_open(const char *key_path, const char *cert_path, size_t cert_max,
                            pki_signer **signer, char **cert_pem)
{
    depot_err err = pki_signer_open(signer, key_path);
    *cert_pem = NULL;
    if (err == DEPOT_OK)
        err = pki_read_file(cert_path, cert_max, cert_pem, NULL);
    if (err != DEPOT_OK) {
        pki_signer_free(*signer);
        *signer = NULL;
    }
    return err;
}

depot_err pki_sign_with_key_file(const char *key_path, const void *data, size_t len,
                                 unsigned char *sig, size_t sig_size, size_t *sig_len)
{
    pki_signer *s;
    depot_err err = pki_signer_open(&s, key_path);

    if (err != DEPOT_OK)
        return err;
    err = pki_signer_sign(s, data, len, sig, sig_size, sig_len);
    pki_signer_free(s);
    return err;
}

static depot_err parse_pem(mbedtls_x509_crt *crt, const char *pem)
{
    int rc;

    if (!pem)
        return DEPOT_ERR_INVAL;
    rc = mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1);
    return rc ? pki_mbed_err(rc, "parsing a certificate") : DEPOT_OK;
}

depot_err pki_verify(const char *cert_pem, const void *data, size_t len, const unsigned char *sig,
                     size_t sig_len)
{
    unsigned char hash[32];
    mbedtls_x509_crt crt;
    depot_err err;

    mbedtls_x509_crt_init(&crt);
    err = parse_pem(&crt, cert_pem);
    if (err == DEPOT_OK)
        err = sha256(data, len, hash);
    if (err == DEPOT_OK &&
        mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, sig_len) != 0) {
        LOG_DEBUG("signature does not verify against the certificate");
        err = DEPOT_ERR_SIGNATURE;
    }
    mbedtls_x509_crt_free(&crt);
    return err;
}

depot_err pki_verify_b64(const char *cert_pem, const void *data, size_t len, const char *sig_b64)
{
    unsigned char sig[PKI_SIG_MAX + 8];
    size_t sig_len;
    if (pki_base64_decode(sig_b64, sig, sizeof(sig), &sig_len) != DEPOT_OK)
        return DEPOT_ERR_SIGNATURE;
    return pki_verify(cert_pem, data, len, sig, sig_len);
}

depot_err pki_cert_pem_cn(const char *pem, char *cn, size_t size)
{
    mbedtls_x509_crt crt;
    depot_err err;

    mbedtls_x509_crt_init(&crt);
    err = parse_pem(&crt, pem);
    if (err == DEPOT_OK)
        err = pki_name_cn(&crt.subject, cn, size);
    mbedtls_x509_crt_free(&crt);
    return err;
}

depot_err pki_cert_cn(const char *path, char *cn, size_t size)
{
    char *pem;
    depot_err err = pki_read_file(path, PKI_PEM_MAX, &pem, NULL);

    if (err != DEPOT_OK)
        return err;
    err = pki_cert_pem_cn(pem, cn, size);
    depot_free(pem);
    return err;
}

depot_err pki_cert_check_issued(const char *ca_path, const char *pem)
{
    mbedtls_x509_crt ca, crt;
    uint32_t flags = 0;
    depot_err err;
    int rc;

    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    rc = mbedtls_x509_crt_parse_file(&ca, ca_path);
    err = rc ? pki_mbed_err(rc, ca_path) : parse_pem(&crt, pem);
    if (err == DEPOT_OK) {
        rc = mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL);
        if (rc != 0) {
            char why[256];
            mbedtls_x509_crt_verify_info(why, sizeof(why), "", flags);
            LOG_WARN("certificate not issued by %s or not valid now: %s", ca_path, why);
            err = DEPOT_ERR_SIGNATURE;
        }
    }
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return err;
}

depot_err pki_cert_check_issued_ever(const char *ca_path, const char *pem)
{
    const uint32_t timely = MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;
    mbedtls_x509_crt ca, crt;
    uint32_t flags = 0;
    depot_err err;
    int rc;

    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    rc = mbedtls_x509_crt_parse_file(&ca, ca_path);
    err = rc ? pki_mbed_err(rc, ca_path) : parse_pem(&crt, pem);
    if (err == DEPOT_OK &&
        mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL) != 0 &&
        (flags & ~timely) != 0) {
        char why[256];
        mbedtls_x509_crt_verify_info(why, sizeof(why), "", flags & ~timely);
        LOG_WARN("certificate not issued by %s: %s", ca_path, why);
        err = DEPOT_ERR_SIGNATURE;
    }
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return err;
}

static depot_err key_check(mbedtls_x509_crt *crt, mbedtls_pk_context *key, const char *cn,
                           const char *issuer_of, char *why, size_t why_len)
{
    char got[PKI_CN_SIZE];
    mbedtls_x509_crt other;
    depot_err err = DEPOT_OK;
    int rc;

    if (mbedtls_pk_check_pair(&crt->pk, key) != 0) {
        snprintf(why, why_len, "it does not certify this key");
        return DEPOT_ERR_INVAL;
    }
    if (mbedtls_x509_time_is_past(&crt->valid_to) || mbedtls_x509_time_is_future(&crt->valid_from)) {
        snprintf(why, why_len, "it is not valid now (%04d-%02d-%02d to %04d-%02d-%02d)",
                 crt->valid_from.year, crt->valid_from.mon, crt->valid_from.day,
                 crt->valid_to.year, crt->valid_to.mon, crt->valid_to.day);
        return DEPOT_ERR_INVAL;
    }
    if (pki_name_cn(&crt->subject, got, sizeof(got)) != DEPOT_OK || strcmp(got, cn) != 0) {
        snprintf(why, why_len, "its CN is not %s", cn);
        return DEPOT_ERR_INVAL;
    }
    if (!issuer_of)
        return DEPOT_OK;
    mbedtls_x509_crt_init(&other);
    rc = mbedtls_x509_crt_parse_file(&other, issuer_of);
    if (rc != 0)
        err = rc < 0 ? pki_mbed_err(rc, issuer_of) : DEPOT_ERR_CRYPTO;
    else if (other.issuer_raw.len != crt->issuer_raw.len ||
             memcmp(other.issuer_raw.p, crt->issuer_raw.p, crt->issuer_raw.len) != 0) {
        snprintf(why, why_len, "it is issued by another CA than %s", issuer_of);
        err = DEPOT_ERR_INVAL;
    }
    mbedtls_x509_crt_free(&other);
    return err;
}

depot_err pki_cert_key_check(const char *crt_path, const char *key_path, const char *cn,
                             const char *issuer_of, char *why, size_t why_len)
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    depot_err err = DEPOT_OK;
    int rc;

    snprintf(why, why_len, "cannot be read");
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&key);
    rc = mbedtls_x509_crt_parse_file(&crt, crt_path);
    if (rc != 0)
        err = rc < 0 ? pki_mbed_err(rc, crt_path) : DEPOT_ERR_CRYPTO;
    if (err == DEPOT_OK)
        err = pki_load_key(&key, key_path);
    if (err == DEPOT_OK)
        err = key_check(&crt, &key, cn, issuer_of, why, why_len);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&crt);
    return err;
}

/* ---- a CA parsed once, certificates checked once ---- */

depot_err pki_trust_open_crl(pki_trust **out, const char *ca_path, const char *crl_path)
{
    pki_trust *t = depot_calloc(1, sizeof(*t));
    depot_err err = DEPOT_OK;
    int rc;

    *out = NULL;
    if (!t)
        return DEPOT_ERR_NOMEM;
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_x509_crl_init(&t->crl);
    rc = mbedtls_x509_crt_parse_file(&t->ca, ca_path);
    if (rc != 0)
        err = rc < 0 ? pki_mbed_err(rc, ca_path) : DEPOT_ERR_CRYPTO;
    if (err == DEPOT_OK && crl_path && crl_path[0]) {
        rc = mbedtls_x509_crl_parse_file(&t->crl, crl_path);
        err = rc ? pki_mbed_err(rc, crl_path) : pki_crl_check(&t->crl, &t->ca, crl_path);
        t->has_crl = err == DEPOT_OK;
    }
    if (err != DEPOT_OK) {
        pki_trust_free(t);
        return err;
    }
    *out = t;
    return DEPOT_OK;
}

depot_err pki_trust_open(pki_trust **out, const char *ca_path)
{
    return pki_trust_open_crl(out, ca_path, NULL);
}

void pki_trust_free(pki_trust *t)
{
    if (!t)
        return;
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_x509_crl_free(&t->crl);
    depot_free(t);
}

/* pki_cert_check_issued's test on a parsed certificate, and the CRL's if there is one. */
static depot_err check_issued(mbedtls_x509_crt *crt, mbedtls_x509_crt *ca, mbedtls_x509_crl *crl)
{
    uint32_t flags = 0;
    char why[256];

    if (mbedtls_x509_crt_verify(crt, ca, crl, NULL, &flags, NULL, NULL) == 0)
        return DEPOT_OK;
    mbedtls_x509_crt_verify_info(why, sizeof(why), "", flags);
    LOG_WARN("certificate not issued by the CA or not valid now: %s", why);
    return DEPOT_ERR_SIGNATURE;
}

depot_err pki_cert_open_pem(pki_cert **out, const char *pem, const pki_trust *trust)
{
    pki_cert *c = depot_calloc(1, sizeof(*c));
    depot_err err;

    *out = NULL;
    if (!c)
        return DEPOT_ERR_NOMEM;
    mbedtls_x509_crt_init(&c->crt);
    err = trust ? parse_pem(&c->crt, pem) : DEPOT_ERR_INVAL;
    if (err == DEPOT_OK) /* verify takes no const CA; it does not change it */
        err = check_issued(&c->crt, (mbedtls_x509_crt *)&trust->ca,
                           trust->has_crl ? (mbedtls_x509_crl *)&trust->crl : NULL);
    if (err == DEPOT_OK)
        err = pki_name_cn(&c->crt.subject, c->cn, sizeof(c->cn));
    if (err != DEPOT_OK) {
        pki_cert_free(c);
        return err;
    }
    *out = c;
    return DEPOT_OK;
}

void pki_cert_free(pki_cert *c)
{
    if (!c)
        return;
    mbedtls_x509_crt_free(&c->crt);
    depot_free(c);
}

const char *pki_cert_subject_cn(const pki_cert *c)
{
    return c->cn;
}

bool pki_cert_valid_now(const pki_cert *c)
{
    return !mbedtls_x509_time_is_past(&c->crt.valid_to) &&
           !mbedtls_x509_time_is_future(&c->crt.valid_from);
}

depot_err pki_cert_verify(pki_cert *c, const void *data, size_t len, const unsigned char *sig,
                          size_t sig_len)
{
    unsigned char hash[32];
    depot_err err = sha256(data, len, hash);

    if (err != DEPOT_OK)
        return err;
    if (!pki_cert_valid_now(c)) {
        LOG_DEBUG("certificate of %s not valid now", c->cn);
        return DEPOT_ERR_SIGNATURE;
    }
    if (mbedtls_pk_verify(&c->crt.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, sig_len) != 0) {
        LOG_DEBUG("signature does not verify against the certificate of %s", c->cn);
        return DEPOT_ERR_SIGNATURE;
    }
    return DEPOT_OK;
}

depot_err pki_base64_encode(const unsigned char *in, size_t len, char *out, size_t size,
                            size_t *out_len)
{
    size_t n = 0;
    int rc = mbedtls_base64_encode((unsigned char *)out, size, &n, in, len);

    if (rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
        return DEPOT_ERR_FULL;
    if (rc != 0)
        return pki_mbed_err(rc, "base64 encoding");
    if (out_len)
        *out_len = n;
    return DEPOT_OK;
}

depot_err pki_base64_decode(const char *in, unsigned char *out, size_t size, size_t *out_len)
{
    size_t n = 0;
    int rc = mbedtls_base64_decode(out, size, &n, (const unsigned char *)in, strlen(in));

    if (rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
        return DEPOT_ERR_FULL;
    if (rc != 0)
        return DEPOT_ERR_PARSE;
    *out_len = n;
    return DEPOT_OK;
}
