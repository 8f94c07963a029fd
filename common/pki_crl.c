/*
 * Certificate revocation: the device CA's CRL, written and read.
 *
 * mbedTLS 2.28 parses CRLs but cannot write one, so pki_ca_write_crl builds
 * the DER of RFC 5280's CertificateList with asn1write, backwards from the
 * end of a buffer as asn1write wants, and signs the TBSCertList with the
 * CA's key (ECDSA P-256 over SHA-256):
 *
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signature BIT STRING }
 *   TBSCertList ::= SEQUENCE { version v2, signature, issuer (the CA's subject, raw),
 *       thisUpdate, nextUpdate, revokedCertificates SEQUENCE OF
 *       SEQUENCE { serial INTEGER, revocationDate } (left out when empty),
 *       crlExtensions [0] { cRLNumber } }
 *
 * Times before 2050 are UTCTime, later ones GeneralizedTime (RFC 5280
 * 4.1.2.5). The algorithm identifier of ecdsa-with-SHA256 has no parameters
 * (RFC 5758). The CRL replaces the previous one at once: written to a
 * temporary name, synced and renamed, so a broker or hub reading it at any
 * moment reads a whole file.
 *
 * A pki_trust may carry the CA's CRL (pki_trust_open_crl): it is accepted
 * only if its issuer is the CA's subject, its signature verifies with the
 * CA's key and its nextUpdate has not passed; every certificate checked
 * against the trust afterwards is refused if its serial is listed.
 */
#include "pki_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/pki.h"

#define OID_CRL_NUMBER MBEDTLS_OID_ID_CE "\x14" /* id-ce-cRLNumber { id-ce 20 } */
#define CRL_HEAD "-----BEGIN X509 CRL-----\n"
#define CRL_TAIL "-----END X509 CRL-----\n"
#define CRL_ENTRY_MAX 48 /* DER of one revoked entry, at most (20-byte serial) */
#define CRL_FIXED_MAX 1024

/* Time at t: UTCTime for 1950..2049, GeneralizedTime otherwise. */
static int write_time(unsigned char **p, unsigned char *start, long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char text[64];
    int year;

    if (!gmtime_r(&tt, &tm))
        return MBEDTLS_ERR_ASN1_INVALID_DATA;
    year = tm.tm_year + 1900;
    if (year >= 1950 && year < 2050) {
        snprintf(text, sizeof(text), "%02d%02d%02d%02d%02d%02dZ", year % 100, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        return mbedtls_asn1_write_tagged_string(p, start, MBEDTLS_ASN1_UTC_TIME, text,
                                                strlen(text));
    }
    snprintf(text, sizeof(text), "%04d%02d%02d%02d%02d%02dZ", year, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
    return mbedtls_asn1_write_tagged_string(p, start, MBEDTLS_ASN1_GENERALIZED_TIME, text,
                                            strlen(text));
}

/* SEQUENCE { OID ecdsa-with-SHA256 } (no parameters). */
static int write_sig_alg(unsigned char **p, unsigned char *start)
{
    size_t len = 0;
    int ret;

    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_ECDSA_SHA256,
                                                     MBEDTLS_OID_SIZE(MBEDTLS_OID_ECDSA_SHA256)));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)len;
}

/* The serial's INTEGER: its content bytes as read from the certificate. */
static int write_serial(unsigned char **p, unsigned char *start, const struct pki_revoked *r)
{
    size_t len = 0;
    int ret;

    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, r->serial, r->serial_len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_INTEGER));
    return (int)len;
}

/* crlExtensions [0] EXPLICIT Extensions { Extension { cRLNumber, OCTET STRING { INTEGER } } } */
static int write_extensions(unsigned char **p, unsigned char *start, int number)
{
    size_t len = 0, inner;
    int ret;

    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_int(p, start, number));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_OCTET_STRING));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_oid(p, start, OID_CRL_NUMBER, MBEDTLS_OID_SIZE(OID_CRL_NUMBER)));
    inner = len;
    for (int i = 0; i < 2; i++) { /* Extension, then Extensions */
        MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, inner));
        MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(
                                      p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
        inner = len;
    }
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(p, start,
                                    MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
    return (int)len;
}

static int write_revoked(unsigned char **p, unsigned char *start, const struct pki_revoked *list,
                         size_t n)
{
    size_t len = 0;
    int ret;

    for (size_t i = n; i-- > 0;) {
        size_t entry = 0;
        MBEDTLS_ASN1_CHK_ADD(entry, write_time(p, start, list[i].when));
        MBEDTLS_ASN1_CHK_ADD(entry, write_serial(p, start, &list[i]));
        MBEDTLS_ASN1_CHK_ADD(entry, mbedtls_asn1_write_len(p, start, entry));
        MBEDTLS_ASN1_CHK_ADD(
            entry,
            mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
        len += entry;
    }
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)len;
}

static int write_tbs(unsigned char **p, unsigned char *start, const mbedtls_x509_buf *issuer,
                     const struct pki_revoked *list, size_t n, int number, long long now, int days)
{
    size_t len = 0;
    int ret;

    MBEDTLS_ASN1_CHK_ADD(len, write_extensions(p, start, number));
    if (n > 0)
        MBEDTLS_ASN1_CHK_ADD(len, write_revoked(p, start, list, n));
    MBEDTLS_ASN1_CHK_ADD(len, write_time(p, start, now + (long long)days * 86400));
    MBEDTLS_ASN1_CHK_ADD(len, write_time(p, start, now));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, issuer->p, issuer->len));
    MBEDTLS_ASN1_CHK_ADD(len, write_sig_alg(p, start));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_int(p, start, 1)); /* v2 */
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)len;
}

/* The whole CertificateList around the TBS at tbs (tbs_len bytes) and its signature. */
static int write_list(unsigned char **p, unsigned char *start, const unsigned char *tbs,
                      size_t tbs_len, const unsigned char *sig, size_t sig_len)
{
    size_t len = 0;
    int ret;

    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_bitstring(p, start, sig, sig_len * 8));
    MBEDTLS_ASN1_CHK_ADD(len, write_sig_alg(p, start));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, tbs, tbs_len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)len;
}

/* The PEM of the CRL (from depot_malloc) in *pem, its length in *pem_len. */
static depot_err build_crl(pki_ca *ca, const struct pki_revoked *list, size_t n, int number,
                           int days, char **pem, size_t *pem_len)
{
    unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE], *p, *q;
    size_t size = CRL_FIXED_MAX + n * CRL_ENTRY_MAX, pem_size = size * 2, sig_len = 0;
    unsigned char *tbs_buf = depot_malloc(size), *der_buf = depot_malloc(size + CRL_FIXED_MAX);
    depot_err err = DEPOT_ERR_NOMEM;
    int tbs_len = 0, der_len = 0, rc = 0;

    *pem = depot_malloc(pem_size);
    if (!tbs_buf || !der_buf || !*pem)
        goto out;
    p = tbs_buf + size;
    tbs_len =
        write_tbs(&p, tbs_buf, &ca->crt.subject_raw, list, n, number, (long long)time(NULL), days);
    rc = tbs_len < 0 ? tbs_len : 0;
    if (rc == 0)
        rc = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), p, (size_t)tbs_len, hash);
    if (rc == 0)
        rc = mbedtls_pk_sign(&ca->key, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, &sig_len,
                             mbedtls_ctr_drbg_random, &ca->rng.drbg);
    if (rc == 0) {
        q = der_buf + size + CRL_FIXED_MAX;
        der_len = write_list(&q, der_buf, p, (size_t)tbs_len, sig, sig_len);
        rc = der_len < 0 ? der_len : 0;
    }
    if (rc == 0)
        rc = mbedtls_pem_write_buffer(CRL_HEAD, CRL_TAIL, q, (size_t)der_len, (unsigned char *)*pem,
                                      pem_size, pem_len);
    err = rc == 0 ? DEPOT_OK : pki_mbed_err(rc, "writing the revocation list");
    if (err == DEPOT_OK && *pem_len > 0)
        (*pem_len)--; /* mbedtls_pem_write_buffer counts the NUL */
out:
    depot_free(tbs_buf);
    depot_free(der_buf);
    if (err != DEPOT_OK) {
        depot_free(*pem);
        *pem = NULL;
    }
    return err;
}

depot_err pki_ca_write_crl(pki_ca *ca, const struct pki_revoked *list, size_t n, int number,
                           int days, const char *crl_path)
{
    char *pem = NULL;
    size_t len = 0;
    depot_err err;

    for (size_t i = 0; i < n; i++)
        if (list[i].serial_len == 0 || list[i].serial_len > PKI_SERIAL_MAX)
            return DEPOT_ERR_INVAL;
    if (number < 1 || days < 1)
        return DEPOT_ERR_INVAL;
    err = build_crl(ca, list, n, number, days, &pem, &len);
    if (err == DEPOT_OK)
        err = pki_replace_file(crl_path, pem, len, 0644);
    depot_free(pem);
    return err;
}

depot_err pki_cert_serial(const char *path, unsigned char *serial, size_t size, size_t *len)
{
    mbedtls_x509_crt crt;
    depot_err err = DEPOT_OK;
    int rc;

    mbedtls_x509_crt_init(&crt);
    rc = mbedtls_x509_crt_parse_file(&crt, path);
    if (rc != 0)
        err = rc < 0 ? pki_mbed_err(rc, path) : DEPOT_ERR_CRYPTO;
    else if (crt.serial.len == 0 || crt.serial.len > size)
        err = DEPOT_ERR_FULL;
    if (err == DEPOT_OK) {
        memcpy(serial, crt.serial.p, crt.serial.len);
        *len = crt.serial.len;
    }
    mbedtls_x509_crt_free(&crt);
    return err;
}

depot_err pki_crl_check(mbedtls_x509_crl *crl, const mbedtls_x509_crt *ca, const char *path)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(crl->sig_md);
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];

    if (crl->next) {
        LOG_ERROR("%s: holds more than one revocation list", path);
        return DEPOT_ERR_CRYPTO;
    }
    if (crl->issuer_raw.len != ca->subject_raw.len ||
        memcmp(crl->issuer_raw.p, ca->subject_raw.p, ca->subject_raw.len) != 0) {
        LOG_ERROR("%s: not the revocation list of this CA (another issuer)", path);
        return DEPOT_ERR_SIGNATURE;
    }
    if (!md || mbedtls_md(md, crl->tbs.p, crl->tbs.len, hash) != 0 ||
        mbedtls_pk_verify_ext(crl->sig_pk, crl->sig_opts, (mbedtls_pk_context *)&ca->pk,
                              crl->sig_md, hash, mbedtls_md_get_size(md), crl->sig.p,
                              crl->sig.len) != 0) {
        LOG_ERROR("%s: its signature does not verify with the CA's key", path);
        return DEPOT_ERR_SIGNATURE;
    }
    if (mbedtls_x509_time_is_past(&crl->next_update)) {
        LOG_ERROR("%s: expired (nextUpdate passed); renew it with depotctl pki crl", path);
        return DEPOT_ERR_SIGNATURE;
    }
    return DEPOT_OK;
}
