/*
 * ecdsa_verify_rate: the baseline of the order-approval benchmark, mbedTLS's
 * bare ECDSA P-256 verify rate on this machine, measured the ways the hub
 * could pay for it.
 *
 * A typical order document (depot_order_doc_encode, three lines) is signed
 * once with the dealer's key (pki_sign_with_key_file, the gateway's code
 * path); then, for --seconds each (bounded also by --max):
 *
 *   raw      mbedtls_pk_verify over SHA-256 on a certificate parsed once (the
 *            floor: what a verify costs with the public key kept parsed);
 *   pki      pki_verify(cert PEM, doc, sig): PEM parse + SHA-256 + verify,
 *            exactly what the hub calls for every order;
 *   chain    pki_cert_check_issued(ca file, cert PEM): what the hub pays for
 *            a certificate not in its cache (reads and parses the CA file,
 *            parses the certificate, verifies its ECDSA signature);
 *   order    chain + pki_verify: an order whose certificate missed the cache.
 *
 * raw runs with 1 thread and, with --threads 2, with 2 threads (each its own
 * parsed copy: mbedTLS caches the base point's table in the group).
 *
 * usage: ecdsa_verify_rate --key KEY --cert CRT --ca CA [--seconds 3]
 *                          [--max 1000000] [--threads 1|2]
 * stdout, one line per measurement:
 *   "mode=raw threads=1 verifies=N seconds=S rate=R/s"
 * Exit status: 0, 1 if a verify failed, 2 usage or setup error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/md.h>
#include <mbedtls/x509_crt.h>

#include "bench_util.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/msg.h"
#include "depot/pki.h"

typedef struct bench {
    const char *key, *cert_path, *ca;
    double seconds;
    long max, threads;
    char *cert_pem, *doc;
    size_t doc_len;
    unsigned char sig[PKI_SIG_MAX];
    size_t sig_len;
} bench;

typedef struct worker {
    const bench *b;
    const char *mode;
    long count;
    int failed;
} worker;

static int usage(FILE *out, int rc)
{
    fputs("usage: ecdsa_verify_rate --key KEY --cert CRT --ca CA [--seconds 3] [--max 1000000]\n"
          "                         [--threads 1|2]\n"
          "Signs a typical order document once, then verifies it in a loop: raw\n"
          "(mbedtls_pk_verify on a parsed key), pki (pki_verify from PEM), chain\n"
          "(pki_cert_check_issued), order (chain + pki); prints per mode\n"
          "'mode=M threads=T verifies=N seconds=S rate=R/s'.\n",
          out);
    return rc;
}

static int parse_args(int argc, char **argv, bench *b)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(a, "--help") == 0)
            exit(usage(stdout, 0));
        if (v == NULL)
            return fprintf(stderr, "ecdsa_verify_rate: %s needs a value\n", a), -1;
        i++;
        errno = 0;
        if (strcmp(a, "--key") == 0)
            b->key = v;
        else if (strcmp(a, "--cert") == 0)
            b->cert_path = v;
        else if (strcmp(a, "--ca") == 0)
            b->ca = v;
        else if (strcmp(a, "--seconds") == 0)
            b->seconds = strtod(v, &end);
        else if (strcmp(a, "--max") == 0)
            b->max = strtol(v, &end, 10);
        else if (strcmp(a, "--threads") == 0)
            b->threads = strtol(v, &end, 10);
        else
            return fprintf(stderr, "ecdsa_verify_rate: unknown option %s\n", a), -1;
        if (end != NULL && (errno != 0 || end == v || *end != '\0'))
            return fprintf(stderr, "ecdsa_verify_rate: %s: not a number: %s\n", a, v), -1;
    }
    if (!b->key || !b->cert_path || !b->ca || b->seconds <= 0 || b->seconds > 600 || b->max < 1 ||
        b->threads < 1 || b->threads > 2)
        return usage(stderr, -1);
    return 0;
}

/* A typical order: three lines, the way a gateway encodes it; signed once. */
static int make_order(bench *b)
{
    static const char *const barcodes[] = {"4006381333931", "4006381333948", "4006381333955"};
    depot_order_doc d = {.number = 17, .created = depot_now_ms(), .n_lines = 3};
    char cn[PKI_CN_SIZE];
    if (pki_read_file(b->cert_path, DEPOT_CERT_PEM_MAX, &b->cert_pem, NULL) != DEPOT_OK ||
        pki_cert_pem_cn(b->cert_pem, cn, sizeof(cn)) != DEPOT_OK)
        return -1;
    snprintf(d.order, sizeof(d.order), "0123456789abcdef0123456789abcdef-17");
    snprintf(d.dealer, sizeof(d.dealer), "%.*s", (int)sizeof(d.dealer) - 1, cn);
    snprintf(d.terminal, sizeof(d.terminal), "scan-1");
    for (size_t i = 0; i < d.n_lines; i++) {
        snprintf(d.lines[i].barcode, sizeof(d.lines[i].barcode), "%s", barcodes[i]);
        d.lines[i].qty = (long long)(4 + 6 * i);
    }
    if (depot_order_doc_encode(&d, &b->doc, &b->doc_len) != DEPOT_OK)
        return -1;
    return pki_sign_with_key_file(b->key, b->doc, b->doc_len, b->sig, sizeof(b->sig),
                                  &b->sig_len) == DEPOT_OK
               ? 0
               : -1;
}

static int verify_raw(const bench *b, mbedtls_x509_crt *crt)
{
    unsigned char hash[32];
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (mbedtls_md(md, (const unsigned char *)b->doc, b->doc_len, hash) != 0)
        return -1;
    return mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), b->sig, b->sig_len) ==
                   0
               ? 0
               : -1;
}

static int verify_once(const bench *b, const char *mode, mbedtls_x509_crt *crt)
{
    if (strcmp(mode, "raw") == 0)
        return verify_raw(b, crt);
    if (strcmp(mode, "chain") == 0 || strcmp(mode, "order") == 0)
        if (pki_cert_check_issued(b->ca, b->cert_pem) != DEPOT_OK)
            return -1;
    if (strcmp(mode, "chain") == 0)
        return 0;
    return pki_verify(b->cert_pem, b->doc, b->doc_len, b->sig, b->sig_len) == DEPOT_OK ? 0 : -1;
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    const bench *b = w->b;
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)b->cert_pem, strlen(b->cert_pem) + 1) !=
        0) {
        w->failed = 1;
        return NULL;
    }
    double end = bench_mono_s() + b->seconds;
    while (w->count < b->max && !w->failed) {
        for (int i = 0; i < 16 && w->count < b->max; i++, w->count++)
            if (verify_once(b, w->mode, &crt) != 0) {
                w->failed = 1;
                break;
            }
        if (bench_mono_s() >= end)
            break;
    }
    mbedtls_x509_crt_free(&crt);
    return NULL;
}

static int measure(const bench *b, const char *mode, int threads)
{
    worker w[2] = {{b, mode, 0, 0}, {b, mode, 0, 0}};
    pthread_t t[2];
    double t0 = bench_mono_s();
    int started = 0;
    for (; started < threads; started++)
        if (pthread_create(&t[started], NULL, run_worker, &w[started]) != 0)
            break;
    long total = 0;
    int failed = started < threads;
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        total += w[i].count;
        failed |= w[i].failed;
    }
    double secs = bench_mono_s() - t0;
    if (failed) {
        fprintf(stderr, "ecdsa_verify_rate: mode %s: a verify failed\n", mode);
        return -1;
    }
    printf("mode=%s threads=%d verifies=%ld seconds=%.2f rate=%.1f/s\n", mode, threads, total, secs,
           (double)total / secs);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    bench b = {.seconds = 3, .max = 1000000, .threads = 1};
    int rc = 0;
    if (parse_args(argc, argv, &b) < 0)
        return 2;
    depot_log_init("ecdsa_verify_rate", DEPOT_LOG_WARN);
    if (make_order(&b) < 0) {
        fprintf(stderr, "ecdsa_verify_rate: cannot read the certificate or sign the order\n");
        return 2;
    }
    printf("doc_bytes=%zu sig_bytes=%zu cert_bytes=%zu\n", b.doc_len, b.sig_len,
           strlen(b.cert_pem));
    static const char *const modes[] = {"raw", "pki", "chain", "order"};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]) && rc == 0; i++)
        rc = measure(&b, modes[i], 1);
    if (rc == 0 && b.threads == 2)
        rc = measure(&b, "raw", 2);
    depot_free(b.cert_pem);
    depot_free(b.doc);
    return rc == 0 ? 0 : 1;
}
