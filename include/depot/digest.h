/*
 * A 64-bit fingerprint of text (FNV-1a), for telling "has this changed?"
 * without keeping the text: the alert engine remembers what a live alert
 * says this way. Not a hash table (those are uthash, depot/hash.h) and not
 * for anything an attacker may choose to collide.
 */
#ifndef DEPOT_DIGEST_H
#define DEPOT_DIGEST_H

#include <stdint.h>

#define DEPOT_DIGEST_INIT 14695981039346656037ULL /* FNV-1a 64 offset basis */
#define DEPOT_DIGEST_PRIME 1099511628211ULL

/* h extended by s and a separator byte, so that "ab"+"c" and "a"+"bc" differ. */
static inline uint64_t depot_digest_str(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * DEPOT_DIGEST_PRIME;
    return (h ^ 0xff) * DEPOT_DIGEST_PRIME;
}

#endif
