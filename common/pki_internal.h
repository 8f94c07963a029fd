/*
 * What pki.c, pki_ca.c, pki_sig.c and pki_crl.c share and nobody else sees:
 * the random generator, the open CA, the translation of mbedTLS codes into
 * depot_err, and exclusive file writes.
 */
#ifndef DEPOT_PKI_INTERNAL_H
#define DEPOT_PKI_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include "depot/error.h"

/* Largest PEM object we write or read (a certificate is about 800 bytes). */
#define PKI_PEM_MAX 8192

/* mbedtls_entropy seeding a CTR_DRBG; one per operation or per object. */
struct pki_rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

depot_err pki_rng_init(struct pki_rng *rng);

/* An open CA (pki_ca.c), whose key also signs its CRL (pki_crl.c). */
struct pki_ca {
    mbedtls_pk_context key;
    mbedtls_x509_crt crt;
    struct pki_rng rng;
    char issuer[256];
};

/* DEPOT_OK if crl (parsed from path) is ca's own: one list, issued by ca's subject, its
 * signature verifying with ca's key, nextUpdate not passed; else DEPOT_ERR_SIGNATURE or
 * DEPOT_ERR_CRYPTO, the reason logged. */
depot_err pki_crl_check(mbedtls_x509_crl *crl, const mbedtls_x509_crt *ca, const char *path);
void pki_rng_free(struct pki_rng *rng);

/* Logs "what: <mbedtls_strerror> (-0xNNNN)" and returns the depot_err for rc. */
depot_err pki_mbed_err(int rc, const char *what);

/* Parses the private key file at path into pk (initialised by the caller). */
depot_err pki_load_key(mbedtls_pk_context *pk, const char *path);

/* Writes len bytes to a new file at path with mode; DEPOT_ERR_DUPLICATE if it
 * exists. A partly written file is removed. */
depot_err pki_write_new(const char *path, const void *data, size_t len, mode_t mode);

/* Copies the single CN of name into cn. DEPOT_ERR_NOTFOUND if there is none,
 * DEPOT_ERR_INVAL if there are several or it holds a NUL, DEPOT_ERR_FULL if it
 * does not fit in size. */
depot_err pki_name_cn(const mbedtls_x509_name *name, char *cn, size_t size);

/* "YYYYMMDDHHMMSS" (UTC) for now + offset seconds, as mbedTLS wants it. */
void pki_time_string(char out[15], long long offset);

#endif
