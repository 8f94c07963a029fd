/*
 * Counting allocation wrappers. Each block carries a header with its size so
 * depot_mem_in_use() can report what Depot's own code holds. The header is 16
 * bytes to keep max_align_t alignment for the caller's pointer.
 */
#include "depot/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HDR 16

static atomic_size_t in_use;

void *depot_malloc(size_t size)
{
    unsigned char *p;
    if (size > SIZE_MAX - HDR)
        return NULL;
    p = malloc(size + HDR);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof(size));
    atomic_fetch_add(&in_use, size);
    return p + HDR;
}

void *depot_calloc(size_t n, size_t size)
{
    void *p;
    if (size && n > SIZE_MAX / size)
        return NULL;
    p = depot_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void depot_free(void *ptr)
{
    unsigned char *p = ptr;
    size_t size;
    if (!p)
        return;
    p -= HDR;
    memcpy(&size, p, sizeof(size));
    atomic_fetch_sub(&in_use, size);
    free(p);
}

void *depot_realloc(void *ptr, size_t size)
{
    unsigned char *p = ptr, *q;
    size_t old;
    if (!p)
        return depot_malloc(size);
    if (size > SIZE_MAX - HDR)
        return NULL;
    p -= HDR;
    memcpy(&old, p, sizeof(old));
    q = realloc(p, size + HDR);
    if (!q)
        return NULL;
    memcpy(q, &size, sizeof(size));
    atomic_fetch_sub(&in_use, old);
    atomic_fetch_add(&in_use, size);
    return q + HDR;
}

char *depot_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = depot_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

size_t depot_mem_in_use(void)
{
    return atomic_load(&in_use);
}
