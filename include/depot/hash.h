/*
 * Hash tables: uthash (Debian's uthash-dev, header only), as Mosquitto and
 * Neuron use it, never a table written by hand. Include this header instead
 * of <uthash.h>: its memory goes through depot_malloc/depot_free (counted in
 * depot_mem_in_use), and running out of memory is not fatal. After a
 * HASH_ADD*, DEPOT_HASH_ADDED(item) is false when the item could not be
 * added (no memory); the table is unchanged then and the caller returns
 * DEPOT_ERR_NOMEM. A table whose buckets could not grow keeps working, with
 * longer chains.
 */
#ifndef DEPOT_HASH_H
#define DEPOT_HASH_H

#include <stddef.h>

#include "depot/alloc.h"

/* Keys are short ids (a dealer, a SKU): compared inline, not through a call to memcmp. */
static inline int depot_hash_keycmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--)
        if (*x++ != *y++)
            return 1;
    return 0;
}

#define HASH_KEYCMP(a, b, n) depot_hash_keycmp(a, b, n)
/* FNV-1a: cheaper than uthash's default (Jenkins) on keys of a few bytes (bench_ranking). */
#define HASH_FUNCTION(keyptr, keylen, hashv) HASH_FNV(keyptr, keylen, hashv)
#define HASH_NONFATAL_OOM 1
#define uthash_malloc(sz) depot_malloc(sz)
#define uthash_free(ptr, sz) depot_free(ptr)

#include <uthash.h>

/* True when item (whose handle is named hh) is in its table. */
#define DEPOT_HASH_ADDED(item) ((item)->hh.tbl != NULL)

#endif
