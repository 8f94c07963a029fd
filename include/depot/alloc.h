/*
 * Allocation wrappers for the Linux side. Every heap allocation of Depot's own
 * code goes through these so that memory can be counted (depot_mem_in_use)
 * and a failure is handled in one place: they return NULL on failure and the
 * caller turns that into DEPOT_ERR_NOMEM. The firmware has no heap at all.
 */
#ifndef DEPOT_ALLOC_H
#define DEPOT_ALLOC_H

#include <stddef.h>

void *depot_malloc(size_t size);
void *depot_calloc(size_t n, size_t size);
void *depot_realloc(void *ptr, size_t size);
void depot_free(void *ptr);
char *depot_strdup(const char *s);
/* Bytes currently allocated through these wrappers. */
size_t depot_mem_in_use(void);

#endif
