/*
 * order_sign: prints the JSON of one signed up/order message, as a gateway
 * would send it, for system tests that publish orders by hand (mosquitto_pub)
 * and for forging them on purpose.
 *
 *   order_sign --dealer A --ledger HEX32 --id N --number N --key K --cert C
 *              [--base B] [--doc-dealer D] [--order ID] [--tamper] BARCODE:QTY...
 *
 * The document is depot_order_doc_encode of the given lines, its id
 * "<ledger>-<number>" unless --order says otherwise; the signature is
 * pki_sign_with_key_file over exactly those bytes. --doc-dealer puts another
 * dealer into the document; --tamper signs a document with one more unit on
 * the first line than the one sent (so the signature does not verify).
 * Exit 0 with the payload on stdout, 2 for a bad command line, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/msg.h"
#include "depot/pki.h"

struct args {
    const char *dealer, *ledger, *key, *cert, *doc_dealer, *order;
    long long id, base, number;
    int tamper;
};

static int usage(void)
{
    fprintf(stderr, "usage: order_sign --dealer A --ledger HEX32 --id N --number N --key K "
                    "--cert C [--base B] [--doc-dealer D] [--order ID] [--tamper] "
                    "BARCODE:QTY...\n");
    return 2;
}

static int parse(int argc, char **argv, struct args *a, depot_order_doc *d)
{
    int i;
    for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
        const char *k = argv[i] + 2, *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "tamper")) {
            a->tamper = 1;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (!strcmp(k, "dealer"))
            a->dealer = v;
        else if (!strcmp(k, "ledger"))
            a->ledger = v;
        else if (!strcmp(k, "key"))
            a->key = v;
        else if (!strcmp(k, "cert"))
            a->cert = v;
        else if (!strcmp(k, "doc-dealer"))
            a->doc_dealer = v;
        else if (!strcmp(k, "order"))
            a->order = v;
        else if (!strcmp(k, "id"))
            a->id = atoll(v);
        else if (!strcmp(k, "base"))
            a->base = atoll(v);
        else if (!strcmp(k, "number"))
            a->number = atoll(v);
        else
            return -1;
    }
    for (; i < argc && d->n_lines < DEPOT_ORDER_LINES_MAX; i++) {
        char *colon = strrchr(argv[i], ':');
        if (!colon)
            return -1;
        snprintf(d->lines[d->n_lines].barcode, sizeof(d->lines[0].barcode), "%.*s",
                 (int)(colon - argv[i]), argv[i]);
        d->lines[d->n_lines++].qty = atoll(colon + 1);
    }
    return a->dealer && a->ledger && a->key && a->cert && a->id > 0 && a->number > 0 && d->n_lines
               ? 0
               : -1;
}

/* base64 signature of text (or of the tampered document). */
static int sign(const struct args *a, depot_order_doc *d, const char *text, char *b64)
{
    unsigned char sig[PKI_SIG_MAX];
    size_t sig_len, n;
    char *other = NULL;
    if (a->tamper) {
        d->lines[0].qty++;
        if (depot_order_doc_encode(d, &other, &n) != DEPOT_OK)
            return -1;
        text = other;
    }
    int rc = pki_sign_with_key_file(a->key, text, strlen(text), sig, sizeof(sig), &sig_len) ||
             pki_base64_encode(sig, sig_len, b64, PKI_SIG_B64_SIZE, &n);
    depot_free(other);
    return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct args a = {.base = 1};
    depot_order_doc d = {0};
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_ORDER};
    char b64[PKI_SIG_B64_SIZE], *doc, *pem, *out;
    size_t len;
    struct timespec ts;

    if (parse(argc, argv, &a, &d))
        return usage();
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(d.order, sizeof(d.order), "%s", a.order ? a.order : "");
    if (!a.order) {
        char id[80];
        snprintf(id, sizeof(id), "%.32s-%lld", a.ledger, a.number);
        snprintf(d.order, sizeof(d.order), "%.48s", id);
    }
    snprintf(d.dealer, sizeof(d.dealer), "%s", a.doc_dealer ? a.doc_dealer : a.dealer);
    snprintf(d.terminal, sizeof(d.terminal), "scan-a");
    d.number = a.number;
    d.created = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (depot_order_doc_encode(&d, &doc, &len) != DEPOT_OK || sign(&a, &d, doc, b64) ||
        pki_read_file(a.cert, DEPOT_CERT_PEM_MAX, &pem, &len) != DEPOT_OK) {
        fprintf(stderr, "order_sign: cannot build or sign the order\n");
        return 1;
    }
    snprintf(m.dealer, sizeof(m.dealer), "%s", a.dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", a.ledger);
    m.id = (uint64_t)a.id;
    m.base = (uint64_t)a.base;
    m.ts = d.created;
    m.body.order.doc = doc;
    m.body.order.sig = b64;
    m.body.order.cert = pem;
    if (depot_msg_encode(&m, &out, &len) != DEPOT_OK) {
        fprintf(stderr, "order_sign: the message does not fit the schema\n");
        return 1;
    }
    printf("%s\n", out);
    depot_free(out);
    depot_free(doc);
    depot_free(pem);
    return 0;
}
