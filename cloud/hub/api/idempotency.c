/*
 * Idempotency keys of the API's writes (idempotency.h).
 */
#include "api/idempotency.h"

#include <mbedtls/sha256.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"

#define DAY_MS 86400000LL

static void request_hash(const struct api_request *r, char out[65])
{
    mbedtls_sha256_context c;
    unsigned char h[32];
    mbedtls_sha256_init(&c);
    mbedtls_sha256_starts_ret(&c, 0);
    mbedtls_sha256_update_ret(&c, (const unsigned char *)r->method, strlen(r->method) + 1);
    mbedtls_sha256_update_ret(&c, (const unsigned char *)r->url, strlen(r->url) + 1);
    mbedtls_sha256_update_ret(&c, (const unsigned char *)r->body, r->len);
    mbedtls_sha256_finish_ret(&c, h);
    mbedtls_sha256_free(&c);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

bool api_idem_read(const struct api_request *r, struct api_idem *k, const char **why)
{
    const char *v = r->idem_key;
    size_t n = v ? strlen(v) : 0;
    memset(k, 0, sizeof(*k));
    if (!v)
        return true;
    for (size_t i = 0; i < n; i++)
        if (v[i] <= ' ' || v[i] > '~')
            n = 0;
    if (n == 0 || n > API_IDEM_KEY_MAX) {
        *why = "Idempotency-Key: 1 to 128 printable ASCII characters without spaces";
        return false;
    }
    k->on = true;
    memcpy(k->key, v, n + 1);
    request_hash(r, k->request);
    return true;
}

static int on_kept(void *arg, const struct hub_idem_row *row)
{
    struct api_idem *k = arg;
    k->found = true;
    k->same = !strcmp(row->request, k->request);
    k->status = (unsigned)row->status;
    k->body = depot_strdup(row->body);
    return 0;
}

depot_err api_idem_find(hub_store *s, const struct api_request *r, struct api_idem *k)
{
    depot_err err;
    if (!k->on)
        return DEPOT_OK;
    err = hub_store_idem_get(s, r->who->name, k->key, on_kept, k);
    if (err == DEPOT_ERR_NOTFOUND)
        return DEPOT_OK;
    return err == DEPOT_OK && !k->body ? DEPOT_ERR_NOMEM : err;
}

depot_err api_idem_keep(hub_store *s, const struct api_request *r, const struct api_idem *k,
                        unsigned status, const char *body)
{
    long long now = depot_now_ms();
    struct hub_idem_row row = {r->who->name, k->key, k->request, status, body, now};
    if (!k->on)
        return DEPOT_OK;
    return hub_store_idem_put(s, &row, now - API_IDEM_KEEP_DAYS * DAY_MS);
}

static enum MHD_Result send_text(hub_api *api, const struct api_request *r, unsigned status,
                                 const char *text, bool replayed)
{
    struct api_body b = {0};
    api_body_str(&b, text);
    api_body_str(&b, "\n");
    return replayed ? api_send_body_header(api, r, status, "application/json", &b,
                                           "Idempotent-Replayed", "true")
                    : api_send_body(api, r, status, "application/json", &b);
}

enum MHD_Result api_idem_answer(hub_api *api, const struct api_request *r, struct api_idem *k)
{
    if (!k->same) {
        LOG_WARN("api: %s %s by %s refused: Idempotency-Key %s was used for another request",
                 r->method, r->url, r->who->name, k->key);
        return api_send_error(api, r, MHD_HTTP_UNPROCESSABLE_CONTENT,
                              "this Idempotency-Key was used for another request");
    }
    LOG_INFO("api: %s %s by %s: Idempotency-Key %s seen before, its answer sent again", r->method,
             r->url, r->who->name, k->key);
    return send_text(api, r, k->status, k->body, true);
}

enum MHD_Result api_idem_send(hub_api *api, const struct api_request *r, unsigned status,
                              const char *body)
{
    return send_text(api, r, status, body, false);
}

void api_idem_clear(struct api_idem *k)
{
    depot_free(k->body);
    k->body = NULL;
}
