/*
 * Depot's certificates, keys and signatures, all on mbedTLS 2.28.
 *
 * Keys are ECDSA P-256, written PEM (SEC1) with mode 0600. Certificates and
 * CSRs are PEM, SHA-256 signed, with random 128-bit serials. Nothing here
 * overwrites a file: every output is created with O_EXCL, so a second run that
 * would replace a key or a certificate fails with DEPOT_ERR_DUPLICATE.
 *
 * The CA is an opaque object opened from its key and certificate files; it
 * issues the broker's server certificate, the manufacturer's own client
 * certificates, and dealer (gateway) certificates from a CSR made on the
 * gateway. The signer is an opaque object holding a private key for repeated
 * signing (the gateway signs every order with it).
 *
 * Every function returns a depot_err; mbedTLS codes are logged with
 * mbedtls_strerror and translated: a file that cannot be read or written is
 * DEPOT_ERR_IO, a signature (CSR, order) that does not verify is
 * DEPOT_ERR_SIGNATURE, a name that is not a valid id DEPOT_ERR_INVAL, any
 * other mbedTLS failure DEPOT_ERR_CRYPTO.
 */
#ifndef DEPOT_PKI_H
#define DEPOT_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "depot/error.h"

/* A dealer id (and any certificate CN we issue): the rule of depot/id.h. */
#define PKI_ID_MAX 32 /* = DEPOT_DEALER_MAX */
/* Room for a CN read back from a certificate (any length we accept). */
#define PKI_CN_SIZE 65
/* Largest DER ECDSA P-256 signature, and its base64 text with the NUL. */
#define PKI_SIG_MAX 72
#define PKI_SIG_B64_SIZE 97
/* Validity in days: the CA (10 years) and the default of a leaf (2 years). */
#define PKI_CA_DAYS 3653
#define PKI_LEAF_DAYS 730
/* The subject CNs of Depot's two CAs: the server CA issues the broker's
 * certificate (what every client trusts), the device CA every client
 * certificate (gateways and the manufacturer's services: what the broker
 * trusts), so neither key can stand in for the other. */
#define PKI_CA_CN "Depot CA"
#define PKI_DEVICE_CA_CN "Depot device CA"
/* A certificate serial, at most 20 bytes (RFC 5280 4.1.2.2). */
#define PKI_SERIAL_MAX 20
/* Validity of a CRL in days (10 years: an expired CRL would lock every
 * gateway out of the broker, so it is renewed by hand, never by a timer). */
#define PKI_CRL_DAYS 3653

/* True if id is a valid dealer id (depot_dealer_id_valid), the rule for every CN we issue. */
bool pki_id_valid(const char *id);

/*
 * Makes an ECDSA P-256 key and writes it PEM to path with mode 0600.
 * DEPOT_ERR_DUPLICATE if path exists (never overwritten), DEPOT_ERR_IO,
 * DEPOT_ERR_CRYPTO.
 */
depot_err pki_key_generate(const char *path);

/*
 * Writes to csr_path a PEM CSR for the key in key_path with subject CN=cn.
 * cn must be a valid id. DEPOT_ERR_INVAL, DEPOT_ERR_DUPLICATE, DEPOT_ERR_IO,
 * DEPOT_ERR_CRYPTO.
 */
depot_err pki_csr_create(const char *key_path, const char *cn, const char *csr_path);

/*
 * Writes to crt_path a self-signed CA certificate for the key in key_path:
 * CN cn (PKI_CA_CN or PKI_DEVICE_CA_CN; NULL is PKI_CA_CN), basicConstraints
 * CA:true, keyUsage keyCertSign|cRLSign, valid for days days (0:
 * PKI_CA_DAYS). DEPOT_ERR_DUPLICATE, DEPOT_ERR_IO, DEPOT_ERR_CRYPTO.
 */
depot_err pki_ca_create(const char *key_path, const char *crt_path, const char *cn, int days);

typedef struct pki_ca pki_ca;

/* Opens the CA from its key and certificate. DEPOT_ERR_IO, DEPOT_ERR_CRYPTO,
 * DEPOT_ERR_NOMEM; DEPOT_ERR_INVAL if the key does not match the certificate. */
depot_err pki_ca_open(pki_ca **out, const char *key_path, const char *crt_path);
void pki_ca_free(pki_ca *ca);

/*
 * Issues to crt_path a server certificate for the key in key_path: CN cn (a
 * valid id), SAN IP 127.0.0.1 and DNS localhost, extendedKeyUsage
 * serverAuth, valid days days (0: PKI_LEAF_DAYS).
 */
depot_err pki_ca_issue_server(pki_ca *ca, const char *key_path, const char *cn,
                              const char *crt_path, int days);

/* Issues to crt_path a client certificate (CN cn, a valid id, extendedKeyUsage
 * clientAuth) for the key in key_path. */
depot_err pki_ca_issue_client(pki_ca *ca, const char *key_path, const char *cn,
                              const char *crt_path, int days);

/*
 * Issues to crt_path a dealer's client certificate (CN = dealer) from the CSR
 * in csr_path, after checking the CSR's own signature (DEPOT_ERR_SIGNATURE),
 * that its key is P-256 and that its CN is a valid id equal to dealer
 * (DEPOT_ERR_FORBIDDEN). The reason is logged.
 */
depot_err pki_ca_sign_csr(pki_ca *ca, const char *csr_path, const char *dealer,
                          const char *crt_path, int days);

/* One revoked certificate: its serial (the INTEGER's content bytes, as
 * pki_cert_serial reads them) and when it was revoked (seconds since 1970). */
struct pki_revoked {
    unsigned char serial[PKI_SERIAL_MAX];
    size_t serial_len;
    long long when;
};

/*
 * Writes the CA's CRL (v2, signed with its key, cRLNumber number >= 1, valid
 * days days >= 1) listing the n certificates of list to crl_path, replacing
 * the file at once (temporary file, fsync, rename). DEPOT_ERR_INVAL (a serial
 * of 0 or more than PKI_SERIAL_MAX bytes), DEPOT_ERR_IO, DEPOT_ERR_CRYPTO.
 */
depot_err pki_ca_write_crl(pki_ca *ca, const struct pki_revoked *list, size_t n, int number,
                           int days, const char *crl_path);

/* The serial of the PEM certificate in path into serial (size bytes), its length in *len. */
depot_err pki_cert_serial(const char *path, unsigned char *serial, size_t size, size_t *len);

/* Copies the subject CN of the PEM certificate in path (or in the NUL-terminated
 * string pem) into cn. DEPOT_ERR_NOTFOUND if it has none, DEPOT_ERR_FULL if it
 * does not fit in size. */
depot_err pki_cert_cn(const char *path, char *cn, size_t size);
depot_err pki_cert_pem_cn(const char *pem, char *cn, size_t size);

/*
 * Checks a certificate about to replace another (a gateway's renewal): the PEM
 * certificate in crt_path certifies the key in key_path, is valid now, its CN
 * is cn, and (if issuer_of is given) it has the issuer of the certificate in
 * issuer_of. DEPOT_OK, else DEPOT_ERR_INVAL with the reason in why;
 * DEPOT_ERR_IO or DEPOT_ERR_CRYPTO if a file cannot be read or parsed.
 */
depot_err pki_cert_key_check(const char *crt_path, const char *key_path, const char *cn,
                             const char *issuer_of, char *why, size_t why_len);

/* DEPOT_OK if the PEM certificate string pem was issued by the CA certificate in
 * ca_path and is valid now, else DEPOT_ERR_SIGNATURE (reason logged). */
depot_err pki_cert_check_issued(const char *ca_path, const char *pem);
/* The same whether or not the certificate is valid now (a record signed while it was:
 * expired or renewed since). */
depot_err pki_cert_check_issued_ever(const char *ca_path, const char *pem);

/*
 * A trust anchor: the CA certificate that issues dealer certificates, parsed
 * once (the hub checks every order's certificate against it).
 * DEPOT_ERR_IO (cannot be read), DEPOT_ERR_CRYPTO (does not parse),
 * DEPOT_ERR_NOMEM.
 */
typedef struct pki_trust pki_trust;
depot_err pki_trust_open(pki_trust **out, const char *ca_path);
/*
 * The same with the CA's CRL at crl_path (NULL or "": none). The CRL must be
 * the CA's own (issuer, signature) and current (nextUpdate not passed), else
 * DEPOT_ERR_SIGNATURE (reason logged); a certificate it lists is refused by
 * pki_cert_open_pem as if not issued.
 */
depot_err pki_trust_open_crl(pki_trust **out, const char *ca_path, const char *crl_path);
void pki_trust_free(pki_trust *t);

/*
 * A dealer certificate checked once and kept parsed, so that each signature
 * it verifies afterwards costs one ECDSA verify and no parsing.
 *
 * pki_cert_open_pem parses the NUL-terminated pem and checks, like
 * pki_cert_check_issued, that trust issued it and that it is valid now.
 * DEPOT_ERR_SIGNATURE (not issued by trust or not valid now; reason logged),
 * DEPOT_ERR_CRYPTO (does not parse), DEPOT_ERR_NOTFOUND / DEPOT_ERR_INVAL
 * (no single subject CN), DEPOT_ERR_NOMEM.
 */
typedef struct pki_cert pki_cert;
/* One thread at a time per pki_cert (mbedTLS caches tables in the key). */
depot_err pki_cert_open_pem(pki_cert **out, const char *pem, const pki_trust *trust);
void pki_cert_free(pki_cert *c);
/* The subject CN, read at open. */
const char *pki_cert_subject_cn(const pki_cert *c);
/* True while now lies within the certificate's notBefore..notAfter. */
bool pki_cert_valid_now(const pki_cert *c);
/* DEPOT_OK if sig (DER) is a valid signature of data by the certificate's key
 * and the certificate is valid now (pki_cert_valid_now); DEPOT_ERR_SIGNATURE
 * if not. */
depot_err pki_cert_verify(pki_cert *c, const void *data, size_t len, const unsigned char *sig,
                          size_t sig_len);

typedef struct pki_signer pki_signer;

/* Loads the P-256 private key in key_path for signing. DEPOT_ERR_IO,
 * DEPOT_ERR_CRYPTO, DEPOT_ERR_INVAL (not a P-256 key), DEPOT_ERR_NOMEM. */
depot_err pki_signer_open(pki_signer **out, const char *key_path);
void pki_signer_free(pki_signer *s);

/* ECDSA P-256 over SHA-256 of data; sig receives the DER signature (at most
 * PKI_SIG_MAX bytes). DEPOT_ERR_FULL if sig_size is too small. */
depot_err pki_signer_sign(pki_signer *s, const void *data, size_t len, unsigned char *sig,
                          size_t sig_size, size_t *sig_len);

/* pki_signer_sign, the signature base64-encoded into out (NUL-terminated; PKI_SIG_B64_SIZE
 * is enough). DEPOT_ERR_FULL if out is too small. */
depot_err pki_signer_sign_b64(pki_signer *s, const void *data, size_t len, char *out, size_t size);

/* A key and its certificate (at most cert_max bytes) together, e.g. the hub's [mqtt] key and
 * cert: *signer and *cert_pem (depot_malloc'ed) both set, or on any error both NULL. */
depot_err pki_identity_open(const char *key_path, const char *cert_path, size_t cert_max,
                            pki_signer **signer, char **cert_pem);

/* pki_signer_open + pki_signer_sign + pki_signer_free, for one signature. */
depot_err pki_sign_with_key_file(const char *key_path, const void *data, size_t len,
                                 unsigned char *sig, size_t sig_size, size_t *sig_len);

/* DEPOT_OK if sig (DER) is a valid signature of data by the key of the PEM
 * certificate string cert_pem; DEPOT_ERR_SIGNATURE if not; DEPOT_ERR_CRYPTO
 * if the certificate does not parse. */
depot_err pki_verify(const char *cert_pem, const void *data, size_t len, const unsigned char *sig,
                     size_t sig_len);

/* pki_verify of a base64 signature sig_b64; DEPOT_ERR_SIGNATURE also when it is not base64
 * or too long to be one. */
depot_err pki_verify_b64(const char *cert_pem, const void *data, size_t len, const char *sig_b64);

/* Standard base64 (with padding) of in into out, NUL-terminated; *out_len
 * excludes the NUL. DEPOT_ERR_FULL if out is too small. */
depot_err pki_base64_encode(const unsigned char *in, size_t len, char *out, size_t size,
                            size_t *out_len);
/* Decodes the NUL-terminated base64 text in into out. DEPOT_ERR_PARSE if it
 * is not base64, DEPOT_ERR_FULL if out is too small. */
depot_err pki_base64_decode(const char *in, unsigned char *out, size_t size, size_t *out_len);

/* Replaces the file at path with len bytes of data at once: written to path.tmp (mode),
 * synced, renamed over path, its folder synced. A reader sees the old file or the new one,
 * whole. DEPOT_ERR_IO (logged), DEPOT_ERR_INVAL (path too long). */
depot_err pki_replace_file(const char *path, const void *data, size_t len, mode_t mode);
/* fsync of the folder that holds path, so that a rename in it is on the disk. */
depot_err pki_sync_dir_of(const char *path);

/* Reads the whole file at path into a NUL-terminated buffer from depot_malloc
 * (caller frees with depot_free); at most max bytes. DEPOT_ERR_IO,
 * DEPOT_ERR_FULL, DEPOT_ERR_NOMEM. */
depot_err pki_read_file(const char *path, size_t max, char **out, size_t *len);

#endif
