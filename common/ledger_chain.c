/*
 * The movement chain's hash (depot/ledger_chain.h), on mbedTLS's SHA-256.
 */
#include "depot/ledger_chain.h"

#include <inttypes.h>
#include <mbedtls/sha256.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == DEPOT_CHAIN_HEX;
}

static bool one_line(const char *s)
{
    return s && !strchr(s, '\n');
}

static void hex_out(const unsigned char h[32], char out[DEPOT_CHAIN_HEX + 1])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

depot_err depot_sha256_text(const void *data, size_t len, char out[DEPOT_CHAIN_HEX + 1])
{
    unsigned char h[32];
    if (mbedtls_sha256_ret(data, len, h, 0) != 0)
        return DEPOT_ERR_IO;
    hex_out(h, out);
    return DEPOT_OK;
}

depot_err depot_chain_hash(const struct depot_chain_link *l, const char *prev,
                           char out[DEPOT_CHAIN_HEX + 1])
{
    char text[512];
    unsigned char h[32];
    int n;
    if (!prev || !hex64(prev) || !one_line(l->dealer) || !one_line(l->ledger) ||
        !one_line(l->node) || !one_line(l->sku) || !one_line(l->kind) ||
        (l->code && !one_line(l->code)))
        return DEPOT_ERR_INVAL;
    if (l->code && l->code[0])
        n = snprintf(text, sizeof(text),
                     "depot movement v2\n%s\n%s\n%" PRIu64
                     "\n%lld\n%s\n%s\n%s\n%lld\n%lld\n%s\n%s\n",
                     l->dealer, l->ledger, l->mid, l->ts, l->node, l->sku, l->kind, l->delta,
                     l->qty, l->code, prev);
    else
        n = snprintf(text, sizeof(text),
                     "depot movement v1\n%s\n%s\n%" PRIu64 "\n%lld\n%s\n%s\n%s\n%lld\n%lld\n%s\n",
                     l->dealer, l->ledger, l->mid, l->ts, l->node, l->sku, l->kind, l->delta,
                     l->qty, prev);
    if (n < 0 || (size_t)n >= sizeof(text))
        return DEPOT_ERR_INVAL;
    if (mbedtls_sha256_ret((const unsigned char *)text, (size_t)n, h, 0) != 0)
        return DEPOT_ERR_IO;
    hex_out(h, out);
    return DEPOT_OK;
}

depot_err depot_movements_signed(const char *dealer, const char *ledger, uint64_t first,
                                 uint64_t last, const char *prev, const char *last_hash, char *out,
                                 size_t len)
{
    int n;
    if (!prev || !last_hash || !hex64(prev) || !hex64(last_hash) || !one_line(dealer) ||
        !one_line(ledger))
        return DEPOT_ERR_INVAL;
    n = snprintf(out, len, "depot movements v1\n%s\n%s\n%" PRIu64 "\n%" PRIu64 "\n%s\n%s\n", dealer,
                 ledger, first, last, prev, last_hash);
    return n < 0 || (size_t)n >= len ? DEPOT_ERR_INVAL : DEPOT_OK;
}
