/*
 * cert_issue: issues one client certificate with a validity period of the
 * test's choosing, for identity tests that need what depotctl never makes:
 * a certificate that has already expired or is not valid yet, or a client
 * certificate issued by the wrong CA (the server CA).
 *
 *   cert_issue --ca-key K --ca-crt C --key KEY --cn CN --from S --to S --out CRT
 *
 * --from and --to are offsets in seconds from now (negative: in the past).
 * The certificate is otherwise like a dealer's (mbedTLS, ECDSA P-256 with
 * SHA-256, CN only, extendedKeyUsage clientAuth, random serial). Exit 0,
 * 2 for a bad command line, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

struct args {
    const char *ca_key, *ca_crt, *key, *cn, *out;
    long long from, to;
    int have_from, have_to;
};

static int usage(void)
{
    fprintf(stderr, "usage: cert_issue --ca-key K --ca-crt C --key KEY --cn CN --from S --to S "
                    "--out CRT\n");
    return 2;
}

static int parse(int argc, char **argv, struct args *a)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--ca-key"))
            a->ca_key = v;
        else if (!strcmp(k, "--ca-crt"))
            a->ca_crt = v;
        else if (!strcmp(k, "--key"))
            a->key = v;
        else if (!strcmp(k, "--cn"))
            a->cn = v;
        else if (!strcmp(k, "--out"))
            a->out = v;
        else if (!strcmp(k, "--from"))
            a->from = atoll(v), a->have_from = 1;
        else if (!strcmp(k, "--to"))
            a->to = atoll(v), a->have_to = 1;
        else
            return -1;
    }
    if (argc % 2 == 0 || !a->ca_key || !a->ca_crt || !a->key || !a->cn || !a->out ||
        !a->have_from || !a->have_to || a->from >= a->to)
        return -1;
    return 0;
}

static void when(char out[15], long long offset)
{
    time_t t = time(NULL) + (time_t)offset;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

static int issue(const struct args *a, mbedtls_ctr_drbg_context *drbg)
{
    mbedtls_pk_context ca_key, key;
    mbedtls_x509_crt ca;
    mbedtls_x509write_cert w;
    mbedtls_mpi serial;
    unsigned char raw[16], eku[64], *p = eku + sizeof(eku), pem[4096];
    char issuer[256], subject[128], from[15], to[15];
    size_t len = 0;
    int rc, ret;
    FILE *f;

    mbedtls_pk_init(&ca_key);
    mbedtls_pk_init(&key);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&serial);
    rc = mbedtls_pk_parse_keyfile(&ca_key, a->ca_key, NULL);
    if (!rc)
        rc = mbedtls_pk_parse_keyfile(&key, a->key, NULL);
    if (!rc)
        rc = mbedtls_x509_crt_parse_file(&ca, a->ca_crt);
    if (!rc)
        rc = mbedtls_x509_dn_gets(issuer, sizeof(issuer), &ca.subject) < 0 ? -1 : 0;
    if (!rc)
        rc = mbedtls_ctr_drbg_random(drbg, raw, sizeof(raw));
    raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x40);
    if (!rc)
        rc = mbedtls_mpi_read_binary(&serial, raw, sizeof(raw));
    snprintf(subject, sizeof(subject), "CN=%s", a->cn);
    when(from, a->from);
    when(to, a->to);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &key);
    mbedtls_x509write_crt_set_issuer_key(&w, &ca_key);
    if (!rc)
        rc = mbedtls_x509write_crt_set_serial(&w, &serial);
    if (!rc)
        rc = mbedtls_x509write_crt_set_validity(&w, from, to);
    if (!rc)
        rc = mbedtls_x509write_crt_set_subject_name(&w, subject);
    if (!rc)
        rc = mbedtls_x509write_crt_set_issuer_name(&w, issuer);
    if (!rc)
        rc = mbedtls_x509write_crt_set_basic_constraints(&w, 0, 0);
    if (!rc)
        rc = mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    if (!rc)
        rc = mbedtls_x509write_crt_set_authority_key_identifier(&w);
    if (!rc) { /* extendedKeyUsage: SEQUENCE { clientAuth } */
        MBEDTLS_ASN1_CHK_ADD(len,
                             mbedtls_asn1_write_oid(&p, eku, MBEDTLS_OID_CLIENT_AUTH,
                                                    MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)));
        MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, eku, len));
        MBEDTLS_ASN1_CHK_ADD(
            len, mbedtls_asn1_write_tag(&p, eku, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
        rc = mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                                 MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
                                                 0, p, len);
    }
    if (!rc)
        rc = mbedtls_x509write_crt_pem(&w, pem, sizeof(pem), mbedtls_ctr_drbg_random, drbg);
    if (!rc) {
        f = fopen(a->out, "w");
        rc = !f || fputs((char *)pem, f) < 0;
        rc = (f && fclose(f) != 0) || rc;
    }
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&w);
    mbedtls_x509_crt_free(&ca);
    mbedtls_pk_free(&key);
    mbedtls_pk_free(&ca_key);
    return rc;
}

int main(int argc, char **argv)
{
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    struct args a = {0};
    int rc;

    if (parse(argc, argv, &a) != 0)
        return usage();
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0);
    if (!rc)
        rc = issue(&a, &drbg);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    if (rc) {
        fprintf(stderr, "cert_issue: failed (%d)\n", rc);
        return 1;
    }
    return 0;
}
