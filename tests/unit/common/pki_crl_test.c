/*
 * Unit tests of common/pki_crl.c: every CRL written here is read back with
 * mbedTLS's own parser (mbedtls_x509_crl_parse_file) and checked field by
 * field, its signature verified with the CA's key, and used in
 * mbedtls_x509_crt_verify, where a listed certificate must come out revoked
 * and the others clean. One CA and two dealers are made for the group.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/md.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/pki.h"

static char dir[64];
static pki_ca *ca, *other;

static const char *tmp(const char *name)
{
    static char paths[8][128];
    static int next;
    char *p = paths[next++ % 8];

    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

static int make_dealer(const char *id)
{
    char key[16], csr[16], crt[16];

    snprintf(key, sizeof(key), "%s.key", id);
    snprintf(csr, sizeof(csr), "%s.csr", id);
    snprintf(crt, sizeof(crt), "%s.crt", id);
    return pki_key_generate(tmp(key)) == DEPOT_OK &&
                   pki_csr_create(tmp(key), id, tmp(csr)) == DEPOT_OK &&
                   pki_ca_sign_csr(ca, tmp(csr), id, tmp(crt), 0) == DEPOT_OK
               ? 0
               : -1;
}

static int group_setup(void **state)
{
    (void)state;
    depot_log_init("pki_crl_test", DEPOT_LOG_ERROR + 1);
    strcpy(dir, "/tmp/pki_crl_test-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    if (pki_key_generate(tmp("ca.key")) != DEPOT_OK ||
        pki_ca_create(tmp("ca.key"), tmp("ca.crt"), PKI_DEVICE_CA_CN, 0) != DEPOT_OK ||
        pki_ca_open(&ca, tmp("ca.key"), tmp("ca.crt")) != DEPOT_OK)
        return -1;
    if (pki_key_generate(tmp("o.key")) != DEPOT_OK ||
        pki_ca_create(tmp("o.key"), tmp("o.crt"), PKI_DEVICE_CA_CN, 0) != DEPOT_OK ||
        pki_ca_open(&other, tmp("o.key"), tmp("o.crt")) != DEPOT_OK)
        return -1;
    return make_dealer("A") || make_dealer("B");
}

static int group_teardown(void **state)
{
    char cmd[128];

    (void)state;
    pki_ca_free(ca);
    pki_ca_free(other);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct pki_revoked revoked_of(const char *crt, long long when)
{
    struct pki_revoked r = {.when = when};

    assert_int_equal(pki_cert_serial(tmp(crt), r.serial, sizeof(r.serial), &r.serial_len),
                     DEPOT_OK);
    assert_in_range(r.serial_len, 1, PKI_SERIAL_MAX);
    return r;
}

static long long epoch_of(const mbedtls_x509_time *t)
{
    struct tm tm = {.tm_year = t->year - 1900,
                    .tm_mon = t->mon - 1,
                    .tm_mday = t->day,
                    .tm_hour = t->hour,
                    .tm_min = t->min,
                    .tm_sec = t->sec};
    return (long long)timegm(&tm);
}

/* mbedTLS's own check of the CRL's signature with the CA certificate's key. */
static int crl_signature(mbedtls_x509_crl *crl, const char *ca_crt)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(crl->sig_md);
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    mbedtls_x509_crt c;
    int rc;

    mbedtls_x509_crt_init(&c);
    assert_int_equal(mbedtls_x509_crt_parse_file(&c, ca_crt), 0);
    assert_non_null(md);
    assert_int_equal(mbedtls_md(md, crl->tbs.p, crl->tbs.len, hash), 0);
    rc = mbedtls_pk_verify_ext(crl->sig_pk, crl->sig_opts, &c.pk, crl->sig_md, hash,
                               mbedtls_md_get_size(md), crl->sig.p, crl->sig.len);
    mbedtls_x509_crt_free(&c);
    return rc;
}

static uint32_t verify_flags(const char *crt_name, mbedtls_x509_crl *crl)
{
    mbedtls_x509_crt c, crt;
    uint32_t flags = 0;

    mbedtls_x509_crt_init(&c);
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse_file(&c, tmp("ca.crt")), 0);
    assert_int_equal(mbedtls_x509_crt_parse_file(&crt, tmp(crt_name)), 0);
    (void)mbedtls_x509_crt_verify(&crt, &c, crl, NULL, &flags, NULL, NULL);
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&c);
    return flags;
}

static void test_pki_ca_write_crl_ParsesBackWithItsEntries(void **state)
{
    long long now = (long long)time(NULL), when = now - 3600;
    struct pki_revoked r = revoked_of("A.crt", when);
    mbedtls_x509_crl crl;
    mbedtls_x509_crt c;

    (void)state;
    assert_int_equal(pki_ca_write_crl(ca, &r, 1, 7, 30, tmp("one.crl")), DEPOT_OK);
    mbedtls_x509_crl_init(&crl);
    mbedtls_x509_crt_init(&c);
    assert_int_equal(mbedtls_x509_crl_parse_file(&crl, tmp("one.crl")), 0);
    assert_int_equal(mbedtls_x509_crt_parse_file(&c, tmp("ca.crt")), 0);
    assert_int_equal(crl.version, 2);
    assert_null(crl.next);
    assert_int_equal(crl.issuer_raw.len, c.subject_raw.len);
    assert_memory_equal(crl.issuer_raw.p, c.subject_raw.p, c.subject_raw.len);
    assert_int_equal(crl.sig_md, MBEDTLS_MD_SHA256);
    assert_int_equal(crl.sig_pk, MBEDTLS_PK_ECDSA);
    assert_int_equal(crl_signature(&crl, tmp("ca.crt")), 0);
    assert_in_range(epoch_of(&crl.this_update), now - 5, now + 5);
    assert_in_range(epoch_of(&crl.next_update), now + 30 * 86400 - 5, now + 30 * 86400 + 5);
    /* exactly one entry: A's serial, revoked at when */
    assert_int_equal(crl.entry.serial.len, r.serial_len);
    assert_memory_equal(crl.entry.serial.p, r.serial, r.serial_len);
    assert_int_equal(epoch_of(&crl.entry.revocation_date), when);
    assert_null(crl.entry.next);
    /* mbedTLS's certificate check: A revoked, B clean */
    assert_true(verify_flags("A.crt", &crl) & MBEDTLS_X509_BADCERT_REVOKED);
    assert_int_equal(verify_flags("B.crt", &crl), 0);
    mbedtls_x509_crt_free(&c);
    mbedtls_x509_crl_free(&crl);
}

static void test_pki_ca_write_crl_EmptyListRevokesNothing(void **state)
{
    mbedtls_x509_crl crl;

    (void)state;
    assert_int_equal(pki_ca_write_crl(ca, NULL, 0, 1, PKI_CRL_DAYS, tmp("empty.crl")), DEPOT_OK);
    mbedtls_x509_crl_init(&crl);
    assert_int_equal(mbedtls_x509_crl_parse_file(&crl, tmp("empty.crl")), 0);
    assert_int_equal(crl.entry.serial.len, 0);
    assert_int_equal(crl_signature(&crl, tmp("ca.crt")), 0);
    assert_int_equal(verify_flags("A.crt", &crl), 0);
    assert_int_equal(verify_flags("B.crt", &crl), 0);
    mbedtls_x509_crl_free(&crl);
}

/* 10,000 entries, and a nextUpdate after 2049 (GeneralizedTime). */
static void test_pki_ca_write_crl_ManyEntriesAndFarNextUpdate(void **state)
{
    enum { MANY = 10000 };
    struct pki_revoked *list = depot_calloc(MANY, sizeof(*list));
    mbedtls_x509_crl crl;
    size_t n = 0;

    (void)state;
    assert_non_null(list);
    for (int i = 0; i < MANY - 1; i++) {
        list[i].serial_len = 16;
        list[i].serial[0] = 0x40;
        memcpy(list[i].serial + 1, &i, sizeof(i));
        list[i].when = 1700000000LL + i;
    }
    list[MANY - 1] = revoked_of("B.crt", 1800000000LL);
    assert_int_equal(pki_ca_write_crl(ca, list, MANY, 2, 36500, tmp("many.crl")), DEPOT_OK);
    mbedtls_x509_crl_init(&crl);
    assert_int_equal(mbedtls_x509_crl_parse_file(&crl, tmp("many.crl")), 0);
    for (const mbedtls_x509_crl_entry *e = &crl.entry; e && e->serial.len; e = e->next)
        n++;
    assert_int_equal(n, MANY);
    assert_true(crl.next_update.year > 2050);
    assert_int_equal(crl_signature(&crl, tmp("ca.crt")), 0);
    assert_true(verify_flags("B.crt", &crl) & MBEDTLS_X509_BADCERT_REVOKED);
    assert_int_equal(verify_flags("A.crt", &crl), 0);
    mbedtls_x509_crl_free(&crl);
    depot_free(list);
}

static void test_pki_ca_write_crl_RefusesBadSerialsAndNumbers(void **state)
{
    struct pki_revoked r = {.serial_len = 0};

    (void)state;
    assert_int_equal(pki_ca_write_crl(ca, &r, 1, 1, 1, tmp("bad.crl")), DEPOT_ERR_INVAL);
    r.serial_len = PKI_SERIAL_MAX + 1;
    assert_int_equal(pki_ca_write_crl(ca, &r, 1, 1, 1, tmp("bad.crl")), DEPOT_ERR_INVAL);
    assert_int_equal(pki_ca_write_crl(ca, NULL, 0, 0, 1, tmp("bad.crl")), DEPOT_ERR_INVAL);
    assert_int_equal(pki_ca_write_crl(ca, NULL, 0, 1, 0, tmp("bad.crl")), DEPOT_ERR_INVAL);
}

static char *slurp(const char *path)
{
    char *text = NULL;

    assert_int_equal(pki_read_file(path, 65536, &text, NULL), DEPOT_OK);
    return text;
}

static void test_pki_trust_open_crl_RefusesListedCertificates(void **state)
{
    struct pki_revoked r = revoked_of("A.crt", (long long)time(NULL));
    char *a = slurp(tmp("A.crt")), *b = slurp(tmp("B.crt"));
    pki_trust *t = NULL;
    pki_cert *c = NULL;

    (void)state;
    assert_int_equal(pki_ca_write_crl(ca, &r, 1, 3, 30, tmp("a.crl")), DEPOT_OK);
    assert_int_equal(pki_trust_open_crl(&t, tmp("ca.crt"), tmp("a.crl")), DEPOT_OK);
    assert_int_equal(pki_cert_open_pem(&c, a, t), DEPOT_ERR_SIGNATURE);
    assert_null(c);
    assert_int_equal(pki_cert_open_pem(&c, b, t), DEPOT_OK);
    assert_string_equal(pki_cert_subject_cn(c), "B");
    pki_cert_free(c);
    pki_trust_free(t);
    /* without the list, A is good again: the list is what refused it */
    assert_int_equal(pki_trust_open_crl(&t, tmp("ca.crt"), NULL), DEPOT_OK);
    assert_int_equal(pki_cert_open_pem(&c, a, t), DEPOT_OK);
    pki_cert_free(c);
    pki_trust_free(t);
    depot_free(a);
    depot_free(b);
}

static void test_pki_trust_open_crl_RefusesAnotherCasOrDamagedList(void **state)
{
    pki_trust *t = NULL;
    char pem[4096], *at;
    size_t n;
    FILE *f;

    (void)state;
    assert_int_equal(pki_ca_write_crl(other, NULL, 0, 1, 30, tmp("other.crl")), DEPOT_OK);
    assert_int_equal(pki_trust_open_crl(&t, tmp("ca.crt"), tmp("other.crl")), DEPOT_ERR_SIGNATURE);
    assert_null(t);
    /* one base64 character of the list changed */
    assert_int_equal(pki_ca_write_crl(ca, NULL, 0, 1, 30, tmp("bent.crl")), DEPOT_OK);
    f = fopen(tmp("bent.crl"), "r");
    assert_non_null(f);
    n = fread(pem, 1, sizeof(pem) - 1, f);
    fclose(f);
    pem[n] = '\0';
    /* a character in the middle of the body: all 6 of its bits count (one near the end may
     * sit in the last group, whose low bits the padding throws away) */
    at = strchr(pem, '\n');
    assert_non_null(at);
    at += (size_t)(strstr(pem, "-----END") - at) / 2;
    if (*at == '\n')
        at++;
    *at = *at == 'A' ? 'B' : 'A';
    f = fopen(tmp("bent.crl"), "w");
    assert_non_null(f);
    fputs(pem, f);
    fclose(f);
    assert_int_not_equal(pki_trust_open_crl(&t, tmp("ca.crt"), tmp("bent.crl")), DEPOT_OK);
    assert_null(t);
    assert_int_equal(pki_trust_open_crl(&t, tmp("ca.crt"), tmp("missing.crl")), DEPOT_ERR_IO);
    assert_null(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_ca_write_crl_ParsesBackWithItsEntries),
        cmocka_unit_test(test_pki_ca_write_crl_EmptyListRevokesNothing),
        cmocka_unit_test(test_pki_ca_write_crl_ManyEntriesAndFarNextUpdate),
        cmocka_unit_test(test_pki_ca_write_crl_RefusesBadSerialsAndNumbers),
        cmocka_unit_test(test_pki_trust_open_crl_RefusesListedCertificates),
        cmocka_unit_test(test_pki_trust_open_crl_RefusesAnotherCasOrDamagedList),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
