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

/* One CSV field: quoted when it holds , " CR or LF; a formula's first character made text. */
static void csv_field(struct api_body *b, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        api_body_str(b, "\"");
    if (s[0] && strchr("=+-@", s[0]))
        api_body_str(b, "'");
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        api_body_printf(b, "%.*s\"\"", (int)(q - s), s);
    }
    api_body_str(b, s);
    if (quote)
        api_body_str(b, "\"");
}

/* A CSV line of row's columns: strings as they are, null empty, others as compact JSON. */
static bool csv_line(struct api_body *b, const cJSON *row, const char *const *cols)
{
    for (int i = 0; cols[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, cols[i]);
        char *text;
        if (i)
            api_body_str(b, ",");
        if (cJSON_IsString(v)) {
            csv_field(b, v->valuestring);
        } else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble) {
            api_body_int(b, (long long)v->valuedouble);
        } else if (v && !cJSON_IsNull(v)) {
            if (!(text = cJSON_PrintUnformatted(v)))
                return false;
            csv_field(b, text);
            cJSON_free(text);
        }
    }
    api_body_str(b, "\r\n");
    return true;
}

void api_pager_skip(struct api_pager *p, const char *key)
{
    p->got++;
    snprintf(p->cursor, sizeof(p->cursor), "%s", key);
}

int api_pager_row(struct api_pager *p, cJSON *row, const char *key)
{
    char *text;
    p->got++;
    if (p->limit == 0) { /* one row past the limit: more follow */
        p->stopped = true;
        cJSON_Delete(row);
        return 1;
    }
    if (p->fmt == API_FMT_CSV) {
        if (!row || !csv_line(&p->b, row, p->cols))
            p->b.failed = true;
        cJSON_Delete(row);
        if (p->b.failed)
            return 1;
        p->n++;
        snprintf(p->cursor, sizeof(p->cursor), "%s", key);
        return 0;
    }
    text = row ? cJSON_PrintUnformatted(row) : NULL;
    cJSON_Delete(row);
    if (!text) {
        p->b.failed = true;
        return 1;
    }
    if (p->fmt == API_FMT_JSONL)
        p->n++;
    else
        api_body_str(&p->b, p->n++ ? ",\n" : "");
    api_body_str(&p->b, text);
    if (p->fmt == API_FMT_JSONL)
        api_body_str(&p->b, "\n");
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
        api_body_reserve(&p->b, 1); /* an empty export is still a body */
        if (p->fmt == API_FMT_JSON)
            api_body_str(&p->b, "[");
        for (int i = 0; p->fmt == API_FMT_CSV && p->cols[i]; i++)
            api_body_printf(&p->b, "%s%s", i ? "," : "", p->cols[i]);
        if (p->fmt == API_FMT_CSV)
            api_body_str(&p->b, "\r\n");
        p->begun = true;
    }
    p->got = 0;
    p->stopped = false;
    s = api_reader_take(p->api);
    err = p->page(p, s, want);
    api_reader_give(p->api, s);
    p->more = err == DEPOT_OK && (p->got >= want || p->stopped);
    if (err == DEPOT_OK && (!p->more || p->limit == 0)) {
        if (p->fmt == API_FMT_JSON)
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

/* The streamed export with its type and file name. */
static enum MHD_Result send_export(const struct api_request *r, struct pager_box *x,
                                   const char *type, const char *disposition)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, box_read, x, box_free);
    enum MHD_Result ret;
    if (!resp) {
        box_free(x);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
    ret = MHD_queue_response(r->c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result api_pager_export(hub_api *api, const struct api_request *r, const char *what,
                                 api_page_fn page, void *ctx, void (*ctx_free)(void *),
                                 const char *const *cols, const char *name)
{
    const char *format = api_query(r, "format");
    bool csv = format && !strcmp(format, "csv");
    const char *type = csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
    struct pager_box *x;
    struct api_pager *p;
    char disposition[192];
    enum MHD_Result ret;
    depot_err err;
    if (!csv && (!format || strcmp(format, "jsonl"))) {
        if (ctx_free)
            ctx_free(ctx);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "format is not csv or jsonl");
    }
    if (!(x = depot_calloc(1, sizeof(*x)))) {
        if (ctx_free)
            ctx_free(ctx);
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    x->ctx_free = ctx_free;
    p = &x->p;
    *p = (struct api_pager){.api = api,
                            .what = what,
                            .page = page,
                            .ctx = ctx,
                            .limit = -1,
                            .fmt = csv ? API_FMT_CSV : API_FMT_JSONL,
                            .cols = cols};
    snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s.%s\"", name,
             csv ? "csv" : "jsonl");
    err = next_page(p);
    if (err == DEPOT_OK && !p->ended && r->c) /* the rest made as it is sent */
        return send_export(r, x, type, disposition);
    while (err == DEPOT_OK && !p->ended)
        err = next_page(p);
    if (err != DEPOT_OK) {
        box_free(x);
        return api_send_store_error(api, r, err, "");
    }
    if (api_body_reserve(&p->b, 1))
        p->b.p[p->b.len] = '\0'; /* text, not counted in the body */
    ret =
        api_send_body_header(api, r, MHD_HTTP_OK, type, &p->b, "Content-Disposition", disposition);
    p->b.p = NULL; /* the answer took it */
    box_free(x);
    return ret;
}

bool api_export_range(const struct api_request *r, const char *what, long long *from, long long *to,
                      char *name, size_t len)
{
    const char *f = api_query(r, "from"), *t = api_query(r, "to");
    *from = *to = 0;
    if ((f && !api_time_arg(f, false, from)) || (t && !api_time_arg(t, true, to)) ||
        (t && *to <= *from))
        return false;
    snprintf(name, len, "%s-%.40s-%.40s", what, f ? f : "all", t ? t : "all");
    return true;
}

bool api_export_holds(long long from, long long to, long long ms)
{
    return ms >= from && (!to || ms < to);
}

/* ---- an export of rows made whole (short lists: one row per dealer) ---- */

static depot_err rows_page(struct api_pager *p, hub_store *s, long long want)
{
    cJSON *rows = p->ctx;
    (void)s;
    for (long long n = 0; n < want && rows->child; n++) {
        cJSON *row = cJSON_DetachItemViaPointer(rows, rows->child);
        if (api_pager_row(p, row, "r"))
            break;
    }
    return DEPOT_OK;
}

static void rows_free(void *ctx)
{
    cJSON_Delete(ctx);
}

enum MHD_Result api_pager_export_rows(hub_api *api, const struct api_request *r, const char *what,
                                      cJSON *rows, const char *const *cols, const char *name)
{
    return api_pager_export(api, r, what, rows_page, rows, rows_free, cols, name);
}
