/*
 * A JSON list answered page by page (pager.h).
 */
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "api/pager.h"

struct pager_box {
    struct api_pager p;
    void (*ctx_free)(void *);
};

int api_pager_row(struct api_pager *p, cJSON *row, const char *key)
{
    char *text;
    p->got++;
    if (p->limit == 0) { /* one row past the limit: more follow */
        p->stopped = true;
        cJSON_Delete(row);
        return 1;
    }
    text = row ? cJSON_PrintUnformatted(row) : NULL;
    cJSON_Delete(row);
    if (!text) {
        p->b.failed = true;
        return 1;
    }
    api_body_str(&p->b, p->n++ ? ",\n" : "");
    api_body_str(&p->b, text);
    cJSON_free(text);
    snprintf(p->cursor, sizeof(p->cursor), "%s", key);
    if (p->limit > 0)
        p->limit--;
    return 0;
}

/* Writes the next page into p->b ("[" before the first, "]\n" after the last). */
static depot_err next_page(struct api_pager *p)
{
    long long want = p->limit >= 0 && p->limit < API_PAGE_ROWS ? p->limit + 1 : API_PAGE_ROWS;
    hub_store *s;
    depot_err err;
    if (!p->begun) {
        api_body_str(&p->b, "[");
        p->begun = true;
    }
    p->got = 0;
    p->stopped = false;
    s = api_reader_take(p->api);
    err = p->page(p, s, want);
    api_reader_give(p->api, s);
    p->more = err == DEPOT_OK && (p->got >= want || p->stopped);
    if (err == DEPOT_OK && (!p->more || p->limit == 0)) {
        api_body_str(&p->b, "]\n");
        p->ended = true;
    }
    if (err == DEPOT_OK && p->b.failed)
        err = DEPOT_ERR_NOMEM;
    return err;
}

static void box_free(void *cls)
{
    struct pager_box *x = cls;
    if (x->ctx_free)
        x->ctx_free(x->p.ctx);
    depot_free(x->p.b.p);
    depot_free(x);
}

/* libmicrohttpd asks for the next bytes of the streamed listing. */
static ssize_t box_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct pager_box *x = cls;
    struct api_pager *p = &x->p;
    size_t n;
    depot_err err;
    (void)pos;
    while (p->sent == p->b.len) {
        if (p->ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        p->b.len = p->sent = 0;
        err = next_page(p);
        if (err != DEPOT_OK) {
            LOG_ERROR("api: %s listing cut after %zu rows: %s", p->what, p->n, depot_strerror(err));
            hub_metrics_add(p->api->metrics, HUB_C_API_ERRORS, 1);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    n = p->b.len - p->sent < max ? p->b.len - p->sent : max;
    memcpy(buf, p->b.p + p->sent, n);
    p->sent += n;
    return (ssize_t)n;
}

enum MHD_Result api_pager_send(hub_api *api, const struct api_request *r, const char *what,
                               api_page_fn page, void *ctx, void (*ctx_free)(void *),
                               const char *cursor)
{
    const char *limit = api_query(r, "limit");
    struct pager_box *x = depot_calloc(1, sizeof(*x));
    struct api_pager *p;
    char next[API_CURSOR_MAX + 1] = "";
    enum MHD_Result ret;
    depot_err err;
    if (!x) {
        if (ctx_free)
            ctx_free(ctx);
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    x->ctx_free = ctx_free;
    p = &x->p;
    *p = (struct api_pager){.api = api, .what = what, .page = page, .ctx = ctx, .limit = -1};
    snprintf(p->cursor, sizeof(p->cursor), "%s", cursor ? cursor : "");
    if (limit && !api_parse_ll(limit, 1, API_PAGE_LIMIT_MAX, &p->limit)) {
        box_free(x);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "limit is not 1..10000");
    }
    err = next_page(p);
    if (err == DEPOT_OK && !p->ended && r->c && p->limit < 0) /* the rest made as it is sent */
        return api_send_stream(api, r, "application/json", box_read, x, box_free);
    while (err == DEPOT_OK && !p->ended)
        err = next_page(p);
    if (err == DEPOT_OK && p->more && p->limit == 0)
        snprintf(next, sizeof(next), "%s", p->cursor);
    ret = api_send_page(api, r, &p->b, err, next);
    p->b.p = NULL; /* the answer took it */
    box_free(x);
    return ret;
}
