/*
 * Idempotency keys of the API's writes from an ERP or another system
 * (POST /api/v1/payments, /payments/import): the same request sent twice
 * with the same `Idempotency-Key` header changes nothing the second time.
 *
 * A write with a key runs as before, inside its own store transaction, and
 * keeps its answer (status and JSON body) under (the caller's name, the key)
 * in that same transaction (store.h, migration 11): either the write and its
 * answer are both there or neither is. A later request with the key, looked
 * up inside its write transaction (writers take turns), gets the kept answer
 * again, byte for byte, with `Idempotent-Replayed: true`, and writes nothing;
 * the same key with another method, path or body is 422. A refused request
 * keeps nothing (it changed nothing), so it may be corrected and sent again
 * with the same key. Answers are kept API_IDEM_KEEP_DAYS days.
 */
#ifndef HUB_API_IDEMPOTENCY_H
#define HUB_API_IDEMPOTENCY_H

#include <stdbool.h>

#include "api/http.h"

#define API_IDEM_KEY_MAX 128
#define API_IDEM_KEEP_DAYS 30

struct api_idem {
    bool on; /* the request named a key */
    char key[API_IDEM_KEY_MAX + 1];
    char request[65]; /* SHA-256 hex of method, path and body */
    bool found;       /* api_idem_find: the key was used before */
    bool same;        /* ... with this very request */
    unsigned status;  /* ... its kept answer */
    char *body;       /* depot_malloc'ed (api_idem_clear frees it) */
};

/* Reads the request's Idempotency-Key (none: k->on false). False (why set) when it is not
 * 1..128 printable ASCII characters without spaces. */
bool api_idem_read(const struct api_request *r, struct api_idem *k, const char **why);
/* In the open write transaction: whether the key was used before (k->found, k->same, the kept
 * answer). Nothing to do without a key. */
depot_err api_idem_find(hub_store *s, const struct api_request *r, struct api_idem *k);
/* In the open write transaction, with the write: keeps the answer (status, body). */
depot_err api_idem_keep(hub_store *s, const struct api_request *r, const struct api_idem *k,
                        unsigned status, const char *body);
/* The answer to a request whose key was found: the kept one again, or 422 for another request. */
enum MHD_Result api_idem_answer(hub_api *api, const struct api_request *r, struct api_idem *k);
/* Sends body (a JSON text, copied) with status: the first answer of a write with a key. */
enum MHD_Result api_idem_send(hub_api *api, const struct api_request *r, unsigned status,
                              const char *body);
void api_idem_clear(struct api_idem *k);

#endif
