/*
 * Keys and CSRs, plus what every part of the PKI module shares: the random
 * generator, error translation and file handling.
 *
 * Invariants:
 *  1. No key or certificate file is ever replaced: pki_write_new opens with
 *     O_EXCL, and a file it could not finish is unlinked, so a path either
 *     holds a complete object or does not exist. What is replaced by design
 *     (a revocation list, a renewed certificate) goes through
 *     pki_replace_file: a temporary file, synced, renamed over the old one.
 *  2. Private key material lives in buffers that are zeroised before they go
 *     out of scope, and key files are created 0600 (never chmod'ed later, so
 *     there is no window where another user could open them).
 *  3. mbedTLS codes never leave this module: pki_mbed_err logs and maps them.
 */
#include "pki_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_csr.h>

#include "depot/alloc.h"
#include "depot/id.h"
#include "depot/log.h"
#include "depot/pki.h"

bool pki_id_valid(const char *id)
{
    return depot_dealer_id_valid(id);
}

depot_err pki_mbed_err(int rc, const char *what)
{
    char text[160];

    mbedtls_strerror(rc, text, sizeof(text));
    LOG_ERROR("%s: %s (-0x%04x)", what, text, (unsigned)-rc);
    switch (rc) {
    case MBEDTLS_ERR_PK_FILE_IO_ERROR:
    case MBEDTLS_ERR_X509_FILE_IO_ERROR:
        return DEPOT_ERR_IO;
    case MBEDTLS_ERR_PK_ALLOC_FAILED:
    case MBEDTLS_ERR_X509_ALLOC_FAILED:
    case MBEDTLS_ERR_ASN1_ALLOC_FAILED:
    case MBEDTLS_ERR_ECP_ALLOC_FAILED:
        return DEPOT_ERR_NOMEM;
    case MBEDTLS_ERR_ECP_VERIFY_FAILED:
    case MBEDTLS_ERR_PK_SIG_LEN_MISMATCH:
        return DEPOT_ERR_SIGNATURE;
    default:
        return DEPOT_ERR_CRYPTO;
    }
}

depot_err pki_rng_init(struct pki_rng *rng)
{
    static const char pers[] = "depot-pki";
    int rc;

    mbedtls_entropy_init(&rng->entropy);
    mbedtls_ctr_drbg_init(&rng->drbg);
    rc = mbedtls_ctr_drbg_seed(&rng->drbg, mbedtls_entropy_func, &rng->entropy,
                               (const unsigned char *)pers, sizeof(pers) - 1);
    if (rc != 0)
        return pki_mbed_err(rc, "seeding the random generator");
    return DEPOT_OK;
}

void pki_rng_free(struct pki_rng *rng)
{
    mbedtls_ctr_drbg_free(&rng->drbg);
    mbedtls_entropy_free(&rng->entropy);
}

static depot_err write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return DEPOT_ERR_IO;
        p += n;
        len -= (size_t)n;
    }
    return DEPOT_OK;
}

depot_err pki_write_new(const char *path, const void *data, size_t len, mode_t mode)
{
    depot_err err;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

    if (fd < 0) {
        if (errno == EEXIST) {
            LOG_ERROR("%s: already exists, not overwritten", path);
            return DEPOT_ERR_DUPLICATE;
        }
        LOG_ERROR("%s: %s", path, strerror(errno));
        return DEPOT_ERR_IO;
    }
    err = write_all(fd, data, len);
    if (err == DEPOT_OK && fsync(fd) != 0)
        err = DEPOT_ERR_IO;
    if (close(fd) != 0)
        err = DEPOT_ERR_IO;
    if (err != DEPOT_OK) {
        LOG_ERROR("%s: write failed: %s", path, strerror(errno));
        unlink(path);
    }
    return err;
}

depot_err pki_sync_dir_of(const char *path)
{
    char copy[4096];
    int fd;
    bool ok;

    if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
        return DEPOT_ERR_INVAL;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return DEPOT_ERR_IO;
    ok = fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    return ok ? DEPOT_OK : DEPOT_ERR_IO;
}

depot_err pki_replace_file(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[4096 + 8];
    depot_err err;
    int fd;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return DEPOT_ERR_INVAL;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        LOG_ERROR("cannot write %s: %s", tmp, strerror(errno));
        return DEPOT_ERR_IO;
    }
    err = write_all(fd, data, len);
    if (err == DEPOT_OK && fsync(fd) != 0)
        err = DEPOT_ERR_IO;
    if (close(fd) != 0)
        err = DEPOT_ERR_IO;
    if (err == DEPOT_OK && rename(tmp, path) != 0)
        err = DEPOT_ERR_IO;
    if (err != DEPOT_OK) {
        LOG_ERROR("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return err;
    }
    return pki_sync_dir_of(path);
}

depot_err pki_read_file(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (!f) {
        LOG_ERROR("%s: %s", path, strerror(errno));
        return DEPOT_ERR_IO;
    }
    buf = depot_malloc(max + 1);
    if (!buf) {
        fclose(f);
        return DEPOT_ERR_NOMEM;
    }
    n = fread(buf, 1, max + 1, f);
    fclose(f);
    if (n > max) {
        LOG_ERROR("%s: larger than %zu bytes", path, max);
        depot_free(buf);
        return DEPOT_ERR_FULL;
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return DEPOT_OK;
}

void pki_time_string(char out[15], long long offset)
{
    time_t t = time(NULL) + (time_t)offset;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

depot_err pki_name_cn(const mbedtls_x509_name *name, char *cn, size_t size)
{
    const mbedtls_x509_name *found = NULL;

    for (; name; name = name->next) {
        if (name->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) == 0) {
            if (found)
                return DEPOT_ERR_INVAL;
            found = name;
        }
    }
    if (!found)
        return DEPOT_ERR_NOTFOUND;
    if (found->val.len >= size)
        return DEPOT_ERR_FULL;
    if (memchr(found->val.p, '\0', found->val.len))
        return DEPOT_ERR_INVAL;
    memcpy(cn, found->val.p, found->val.len);
    cn[found->val.len] = '\0';
    return DEPOT_OK;
}

depot_err pki_load_key(mbedtls_pk_context *pk, const char *path)
{
    int rc = mbedtls_pk_parse_keyfile(pk, path, NULL);

    if (rc != 0) {
        LOG_ERROR("cannot load the private key %s", path);
        return pki_mbed_err(rc, path);
    }
    return DEPOT_OK;
}

static depot_err make_p256(mbedtls_pk_context *pk, struct pki_rng *rng)
{
    int rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));

    if (rc == 0)
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                                 mbedtls_ctr_drbg_random, &rng->drbg);
    if (rc != 0)
        return pki_mbed_err(rc, "making an ECDSA P-256 key");
    return DEPOT_OK;
}

depot_err pki_key_generate(const char *path)
{
    unsigned char pem[PKI_PEM_MAX];
    mbedtls_pk_context pk;
    struct pki_rng rng;
    depot_err err;
    int rc;

    if (access(path, F_OK) == 0) {
        LOG_ERROR("%s: already exists, not overwritten", path);
        return DEPOT_ERR_DUPLICATE;
    }
    mbedtls_pk_init(&pk);
    err = pki_rng_init(&rng);
    if (err == DEPOT_OK)
        err = make_p256(&pk, &rng);
    if (err == DEPOT_OK) {
        rc = mbedtls_pk_write_key_pem(&pk, pem, sizeof(pem));
        err = rc ? pki_mbed_err(rc, "writing the key PEM") : DEPOT_OK;
    }
    if (err == DEPOT_OK)
        err = pki_write_new(path, pem, strlen((char *)pem), 0600);
    mbedtls_platform_zeroize(pem, sizeof(pem));
    mbedtls_pk_free(&pk);
    pki_rng_free(&rng);
    return err;
}

static depot_err write_csr(mbedtls_pk_context *key, const char *cn, const char *csr_path,
                           struct pki_rng *rng)
{
    unsigned char pem[PKI_PEM_MAX];
    char subject[8 + PKI_ID_MAX];
    mbedtls_x509write_csr csr;
    int rc;

    snprintf(subject, sizeof(subject), "CN=%s", cn);
    mbedtls_x509write_csr_init(&csr);
    mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&csr, key);
    rc = mbedtls_x509write_csr_set_subject_name(&csr, subject);
    if (rc == 0)
        rc = mbedtls_x509write_csr_pem(&csr, pem, sizeof(pem), mbedtls_ctr_drbg_random, &rng->drbg);
    mbedtls_x509write_csr_free(&csr);
    if (rc != 0)
        return pki_mbed_err(rc, "writing the CSR");
    return pki_write_new(csr_path, pem, strlen((char *)pem), 0644);
}

depot_err pki_csr_create(const char *key_path, const char *cn, const char *csr_path)
{
    mbedtls_pk_context key;
    struct pki_rng rng;
    depot_err err;

    if (!pki_id_valid(cn)) {
        LOG_ERROR("'%s' is not a valid name (" DEPOT_ID_RULE ")", cn ? cn : "");
        return DEPOT_ERR_INVAL;
    }
    mbedtls_pk_init(&key);
    err = pki_rng_init(&rng);
    if (err == DEPOT_OK)
        err = pki_load_key(&key, key_path);
    if (err == DEPOT_OK)
        err = write_csr(&key, cn, csr_path, &rng);
    mbedtls_pk_free(&key);
    pki_rng_free(&rng);
    return err;
}
