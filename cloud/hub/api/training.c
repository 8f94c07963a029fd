/*
 * API: training material for dealers (training.h).
 *
 *   POST /api/v1/training/files          admin   the file itself as the body (streamed to
 *                                                 [hub] files, at most [training] file_max_mib;
 *                                                 a PDF, MP4 or WebM by its bytes)
 *                                                 -> 201 {"sha256", "size", "type"}
 *   POST /api/v1/training                admin   {"title", "description", "kind", "file",
 *                                                 "target": {"kind", "value"}} -> 201 the item
 *   GET  /api/v1/training[?dealer=D]     viewer  newest first, each with its progress and
 *                                                 coverage; a dealer's user: its own, each with
 *                                                 its dealer's state and its own record
 *   GET  /api/v1/training/<id>           viewer  the item, its progress, coverage and every
 *                                                 target's state with its users' records; a
 *                                                 dealer's user: its own dealer's
 *   GET  /api/v1/training/<id>/file      viewer  the file, with byte ranges (Range: bytes=a-b,
 *                                                 a-, -n), ETag its SHA-256
 *   GET  /api/v1/training/<id>/link      viewer  {"url", "expires_at"}: a signed link to the
 *                                                 file for a <video> or a link, which cannot
 *                                                 send a token (training.h)
 *   GET  /media/training/<id>?d=&e=&m=   (link)  the file as above, the link its proof
 *   POST /api/v1/training/<id>/progress  dealer  {"position": seconds or page} viewed so far
 *   POST /api/v1/training/<id>/done      dealer  completed by this user
 *
 * A dealer's user reaches only the items its dealer is a target of (404 for
 * any other, as if none).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/routes.h"
#include "files.h"
#include "training.h"

#define WHY_MAX 200

static cJSON *item_json(const struct hub_training *t, bool with_target)
{
    cJSON *j = cJSON_CreateObject(), *g;
    char url[64];
    cJSON_AddNumberToObject(j, "item", (double)t->id);
    cJSON_AddStringToObject(j, "title", t->title);
    cJSON_AddStringToObject(j, "description", t->description);
    cJSON_AddStringToObject(j, "kind", t->kind);
    cJSON_AddStringToObject(j, "sha256", t->sha);
    cJSON_AddNumberToObject(j, "size", (double)t->size);
    cJSON_AddStringToObject(j, "type", t->type);
    snprintf(url, sizeof(url), "/api/v1/training/%lld/file", t->id);
    cJSON_AddStringToObject(j, "url", url);
    if (with_target) {
        g = cJSON_AddObjectToObject(j, "target");
        cJSON_AddStringToObject(g, "kind", t->target_kind);
        cJSON_AddStringToObject(g, "value", t->target);
    }
    cJSON_AddStringToObject(j, "created_by", t->created_by);
    cJSON_AddItemToObject(j, "created_at", api_time_json(t->created_at));
    return j;
}

static cJSON *target_json(const struct hub_training_target *g)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "dealer", g->dealer);
    cJSON_AddItemToObject(j, "assigned_at", api_time_json(g->assigned_at));
    cJSON_AddBoolToObject(j, "viewed", g->viewed_at != 0);
    cJSON_AddBoolToObject(j, "completed", g->completed_at != 0);
    cJSON_AddItemToObject(j, "viewed_at", api_time_json(g->viewed_at));
    cJSON_AddItemToObject(j, "completed_at", api_time_json(g->completed_at));
    return j;
}

static cJSON *view_json(const struct hub_training_view *v)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "user", v->user);
    cJSON_AddItemToObject(j, "first_viewed", api_time_json(v->first_viewed));
    cJSON_AddItemToObject(j, "last_viewed", api_time_json(v->last_viewed));
    cJSON_AddNumberToObject(j, "position", (double)v->progress);
    cJSON_AddBoolToObject(j, "completed", v->completed_at != 0);
    cJSON_AddItemToObject(j, "completed_at", api_time_json(v->completed_at));
    return j;
}

/* ---- progress and coverage of an item ---- */

/* Every target's viewed and completed times, gathered for hub_training_coverage. */
struct gather {
    long long *done, *viewed;
    size_t n, cap;
    bool nomem;
    cJSON *rows; /* every target's state (NULL: not listed) */
};

static int gather_row(void *arg, const struct hub_training_target *g)
{
    struct gather *x = arg;
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        long long *d = depot_realloc(x->done, cap * sizeof(*d));
        long long *v = d ? depot_realloc(x->viewed, cap * sizeof(*v)) : NULL;
        if (d)
            x->done = d;
        if (!v) {
            x->nomem = true;
            return 1;
        }
        x->viewed = v;
        x->cap = cap;
    }
    x->done[x->n] = g->completed_at;
    x->viewed[x->n++] = g->viewed_at;
    if (x->rows) {
        cJSON *j = target_json(g);
        cJSON_AddArrayToObject(j, "users");
        cJSON_AddItemToArray(x->rows, j);
    }
    return 0;
}

static void gather_free(struct gather *x)
{
    depot_free(x->done);
    depot_free(x->viewed);
}

static void add_coverage(cJSON *j, const struct hub_training *t, const struct gather *x,
                         long long now)
{
    struct hub_training_coverage c;
    cJSON *p = cJSON_AddObjectToObject(j, "progress"), *cov, *after;
    char day[8];
    hub_training_coverage(t->created_at, now, x->done, x->viewed, x->n, &c);
    cJSON_AddNumberToObject(p, "targets", (double)c.targets);
    cJSON_AddNumberToObject(p, "viewed", (double)c.viewed);
    cJSON_AddNumberToObject(p, "completed", (double)c.completed);
    cJSON_AddNumberToObject(p, "completed_pct",
                            c.targets ? (double)(c.completed * 1000 / c.targets) / 10.0 : 0.0);
    cov = cJSON_AddObjectToObject(j, "coverage");
    after = cJSON_AddObjectToObject(cov, "completed_pct_after_days");
    for (int i = 0; i < HUB_TRAINING_COVERAGE_N; i++) {
        snprintf(day, sizeof(day), "%d", hub_training_coverage_days[i]);
        if (c.pct_after[i] < 0)
            cJSON_AddNullToObject(after, day);
        else
            cJSON_AddNumberToObject(after, day, c.pct_after[i]);
    }
    if (c.days_to_90 < 0)
        cJSON_AddNullToObject(cov, "days_to_90_pct");
    else
        cJSON_AddNumberToObject(cov, "days_to_90_pct", (double)c.days_to_90);
}

/* ---- POST /training/files ---- */

enum MHD_Result api_training_file_post(hub_api *api, const struct api_request *r)
{
    char sha[HUB_FILE_SHA_HEX + 1], why[WHY_MAX];
    const char *type = NULL;
    long long size = 0;
    cJSON *out;
    depot_err err;

    if (!r->sink)
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "send the file's bytes as the body");
    err = hub_file_sink_finish(r->sink, sha, &size, &type);
    hub_metrics_add(api->metrics,
                    err == DEPOT_OK ? HUB_C_TRAINING_FILES_STORED : HUB_C_TRAINING_FILES_REFUSED,
                    1);
    switch (err == DEPOT_ERR_INVAL ? hub_file_sink_refused(r->sink) : HUB_FILE_ACCEPTED) {
    case HUB_FILE_TOO_LARGE:
        snprintf(why, sizeof(why), "the file is larger than [training] file_max_mib (%ld MiB)",
                 api->cfg->training_file_max_mib);
        LOG_WARN("training: an upload by %s refused: %s", r->who->name, why);
        return api_send_error(api, r, MHD_HTTP_CONTENT_TOO_LARGE, why);
    case HUB_FILE_UNKNOWN:
        LOG_WARN("training: an upload by %s refused: not a PDF, MP4 or WebM", r->who->name);
        return api_send_error(api, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                              "a training file is a PDF document or an MP4 or WebM video "
                              "(known by its first bytes, not by its name)");
    case HUB_FILE_FAILED:
    case HUB_FILE_ACCEPTED:
        break;
    }
    if (err != DEPOT_OK)
        return api_send_error(api, r, MHD_HTTP_INSUFFICIENT_STORAGE,
                              "the file could not be stored; try again");
    LOG_INFO("training: file %s (%s, %lld bytes) uploaded by %s", sha, type, size, r->who->name);
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "sha256", sha);
    cJSON_AddNumberToObject(out, "size", (double)size);
    cJSON_AddStringToObject(out, "type", type);
    return api_send_json(api, r, MHD_HTTP_CREATED, out);
}

/* ---- POST /training ---- */

static const char *const item_keys[] = {"title", "description", "kind", "file", "target", NULL};

static bool parse_item(const cJSON *b, struct hub_training *t, char *why, size_t len)
{
    const cJSON *v;
    char bad[64];
    if (!cJSON_IsObject(b) || !api_json_only_keys(b, item_keys, bad, sizeof(bad))) {
        snprintf(why, len, "the body must be a training item object (unknown field \"%s\")",
                 cJSON_IsObject(b) ? bad : "");
        return false;
    }
    v = cJSON_GetObjectItemCaseSensitive(b, "description");
    if (!api_json_str(cJSON_GetObjectItemCaseSensitive(b, "title"), HUB_TRAINING_TITLE_MAX,
                      t->title, sizeof(t->title)) ||
        (v && !api_json_str(v, HUB_TRAINING_DESC_MAX, t->description, sizeof(t->description))) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(b, "kind"), HUB_TRAINING_KIND_MAX, t->kind,
                      sizeof(t->kind)) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(b, "file"), HUB_TRAINING_SHA_HEX, t->sha,
                      sizeof(t->sha))) {
        snprintf(why, len,
                 "title (1..120), kind (video|document) and file (the SHA-256 an upload gave) "
                 "are strings; description (..4000) too when given");
        return false;
    }
    return api_target_parse(cJSON_GetObjectItemCaseSensitive(b, "target"), t->target_kind,
                            t->target, why, len);
}

enum MHD_Result api_training_post(hub_api *api, const struct api_request *r)
{
    cJSON *body = cJSON_Parse(r->body), *out;
    struct hub_training *t = depot_calloc(1, sizeof(*t));
    char why[WHY_MAX] = "";
    size_t n = 0;
    hub_store *s;
    depot_err err;

    if (!t) {
        cJSON_Delete(body);
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    err = parse_item(body, t, why, sizeof(why)) ? DEPOT_OK : DEPOT_ERR_INVAL;
    cJSON_Delete(body);
    snprintf(t->created_by, sizeof(t->created_by), "%s", r->who->name);
    if (err == DEPOT_OK) {
        s = api_reader_take(api);
        err = hub_training_create(s, api->cfg->files_dir, t, depot_now_ms(), &n, why, sizeof(why));
        api_reader_give(api, s);
    }
    if (err != DEPOT_OK) {
        depot_free(t);
        return err == DEPOT_ERR_IO ? api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, why)
                                   : api_send_create_error(api, r, err, why);
    }
    LOG_INFO("training %lld \"%s\" (%s, file %s) assigned by %s to %zu dealers", t->id, t->title,
             t->kind, t->sha, r->who->name, n);
    out = item_json(t, true);
    cJSON_AddNumberToObject(out, "targets", (double)n);
    depot_free(t);
    return api_send_json(api, r, MHD_HTTP_CREATED, out);
}

/* ---- GET /training, /training/<id> ---- */

struct list_ctx {
    hub_store *s;
    cJSON *list;
    const char *user; /* a dealer's user: its own record beside each item */
    long long now;
    depot_err err;
};

static int list_row(void *arg, const struct hub_training *t)
{
    struct list_ctx *x = arg;
    struct gather g = {0};
    cJSON *j = item_json(t, true);
    x->err = hub_store_training_targets(x->s, t->id, gather_row, &g);
    if (x->err == DEPOT_OK && g.nomem)
        x->err = DEPOT_ERR_NOMEM;
    add_coverage(j, t, &g, x->now);
    gather_free(&g);
    cJSON_AddItemToArray(x->list, j);
    return x->err != DEPOT_OK;
}

/* The record of user (of g's dealer) as "mine", null without one. */
static depot_err add_mine(hub_store *s, cJSON *j, const struct hub_training_target *g,
                          const char *user)
{
    struct hub_training_view v;
    depot_err err =
        user ? hub_store_training_view_get(s, g->item, g->dealer, user, &v) : DEPOT_ERR_NOTFOUND;
    cJSON_AddItemToObject(j, "mine", err == DEPOT_OK ? view_json(&v) : cJSON_CreateNull());
    return err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
}

static int dealer_row(void *arg, const struct hub_training *t, const struct hub_training_target *g)
{
    struct list_ctx *x = arg;
    cJSON *j = item_json(t, false); /* the other targets are not its */
    cJSON_AddItemToObject(j, "state", target_json(g));
    x->err = add_mine(x->s, j, g, x->user);
    cJSON_AddItemToArray(x->list, j);
    return x->err != DEPOT_OK;
}

enum MHD_Result api_training_list(hub_api *api, const struct api_request *r)
{
    struct list_ctx x = {.list = cJSON_CreateArray(), .now = depot_now_ms()};
    const char *dealer = api_query(r, "dealer");
    depot_err err;
    if (dealer && !depot_dealer_id_valid(dealer)) {
        cJSON_Delete(x.list);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer is not a dealer id");
    }
    x.user = r->scope ? r->who->name : NULL;
    x.s = api_reader_take(api);
    err = dealer ? hub_store_training_dealer_items(x.s, dealer, dealer_row, &x)
                 : hub_store_training_list(x.s, list_row, &x);
    api_reader_give(api, x.s);
    if (err == DEPOT_OK)
        err = x.err;
    if (err != DEPOT_OK) {
        cJSON_Delete(x.list);
        return api_send_store_error(api, r, err, "");
    }
    return api_send_json(api, r, MHD_HTTP_OK, x.list);
}

/* Puts every user's record of an item under its dealer's row ("users"); both walks are in
 * dealer order (byte order on both stores), so one pass merges them. */
struct merge {
    cJSON *row;        /* the dealer row reached so far */
    const char *scope; /* a dealer's user: only its dealer's rows */
    cJSON *users;      /* the scope's records */
};

static int merge_view(void *arg, const struct hub_training_view *v)
{
    struct merge *m = arg;
    const cJSON *d;
    if (m->users) {
        if (!strcmp(v->dealer, m->scope))
            cJSON_AddItemToArray(m->users, view_json(v));
        return 0;
    }
    while (m->row && (d = cJSON_GetObjectItemCaseSensitive(m->row, "dealer")) &&
           strcmp(d->valuestring, v->dealer) < 0)
        m->row = m->row->next;
    if (m->row &&
        !strcmp(cJSON_GetObjectItemCaseSensitive(m->row, "dealer")->valuestring, v->dealer))
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(m->row, "users"), view_json(v));
    return 0;
}

/* A dealer's user: the item, its dealer's state, its dealer's users' records. */
static depot_err dealer_item(hub_store *s, const struct hub_training *t, const char *dealer,
                             cJSON **out)
{
    struct hub_training_target g;
    struct merge m = {.scope = dealer};
    depot_err err = hub_store_training_target_get(s, t->id, dealer, &g);
    if (err != DEPOT_OK)
        return err;
    *out = item_json(t, false);
    cJSON_AddItemToObject(*out, "state", target_json(&g));
    m.users = cJSON_AddArrayToObject(*out, "users");
    return hub_store_training_views(s, t->id, merge_view, &m);
}

/* The manufacturer: the item, its progress and coverage, every target with its users. */
static depot_err whole_item(hub_store *s, const struct hub_training *t, long long now, cJSON **out)
{
    struct gather g = {0};
    struct merge m = {0};
    depot_err err;
    *out = item_json(t, true);
    g.rows = cJSON_AddArrayToObject(*out, "dealers");
    err = hub_store_training_targets(s, t->id, gather_row, &g);
    if (err == DEPOT_OK && g.nomem)
        err = DEPOT_ERR_NOMEM;
    add_coverage(*out, t, &g, now);
    m.row = g.rows->child;
    if (err == DEPOT_OK)
        err = hub_store_training_views(s, t->id, merge_view, &m);
    gather_free(&g);
    return err;
}

enum MHD_Result api_training_get(hub_api *api, const struct api_request *r)
{
    struct hub_training *t = depot_malloc(sizeof(*t));
    cJSON *out = NULL;
    hub_store *s = api_reader_take(api);
    depot_err err = t ? hub_store_training_get(s, atoll(r->arg), t) : DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK)
        err = r->scope ? dealer_item(s, t, r->scope, &out) : whole_item(s, t, depot_now_ms(), &out);
    api_reader_give(api, s);
    depot_free(t);
    if (err != DEPOT_OK) {
        cJSON_Delete(out);
        return api_send_store_error(api, r, err, "no such training item");
    }
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

/* ---- GET /training/<id>/file ---- */

/* A 416 for a file of size bytes: no body, Content-Range: bytes * / size (no spaces). */
static enum MHD_Result send_unsatisfiable(hub_api *api, const struct api_request *r, long long size)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    char range[48];
    enum MHD_Result ret;
    if (!resp)
        return MHD_NO;
    hub_metrics_add(api->metrics, HUB_C_API_ERRORS, 1);
    snprintf(range, sizeof(range), "bytes */%lld", size);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, range);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    ret = MHD_queue_response(r->c, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The file (fd, given to MHD, which closes it) from `from` for len bytes of size: 206 with its
 * Content-Range when partial, else 200; never read into memory here. */
static enum MHD_Result send_file(const struct api_request *r, const struct hub_training *t, int fd,
                                 long long size, long long from, long long len, bool partial)
{
    struct MHD_Response *resp =
        MHD_create_response_from_fd_at_offset64((uint64_t)len, fd, (uint64_t)from);
    char range[80], etag[HUB_FILE_SHA_HEX + 3];
    enum MHD_Result ret;
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    snprintf(etag, sizeof(etag), "\"%s\"", t->sha);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, t->type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, max-age=3600");
    if (partial) {
        snprintf(range, sizeof(range), "bytes %lld-%lld/%lld", from, from + len - 1, size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, range);
    }
    ret = MHD_queue_response(r->c, partial ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Serves the file of item t (the caller was allowed it), with its range. */
static enum MHD_Result serve_item_file(hub_api *api, const struct api_request *r,
                                       const struct hub_training *t)
{
    long long size = 0, from = 0, len = 0;
    enum api_range range;
    int fd = -1;
    depot_err err = hub_files_open(api->cfg->files_dir, t->sha, &fd, &size);
    if (err != DEPOT_OK) { /* the item names a file that is not there */
        LOG_ERROR("training: the file %s of item %lld cannot be opened", t->sha, t->id);
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                              "the item's file cannot be read");
    }
    range = api_byte_range(MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Range"), size, &from,
                           &len);
    if (range == API_RANGE_UNSATISFIABLE) {
        close(fd);
        return send_unsatisfiable(api, r, size);
    }
    return send_file(r, t, fd, size, from, len, range == API_RANGE_PART);
}

/* The item r->arg into *t, for a dealer's user (dealer not "") only if assigned to it. */
static depot_err item_for(hub_api *api, const struct api_request *r, const char *dealer,
                          struct hub_training *t)
{
    struct hub_training_target g;
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_training_get(s, atoll(r->arg), t);
    if (err == DEPOT_OK && dealer && *dealer)
        err = hub_store_training_target_get(s, t->id, dealer, &g);
    api_reader_give(api, s);
    return err;
}

enum MHD_Result api_training_file_get(hub_api *api, const struct api_request *r)
{
    struct hub_training *t = depot_malloc(sizeof(*t));
    enum MHD_Result ret;
    depot_err err;
    if (!r->c || !t) {
        depot_free(t);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "a file is served over HTTP only");
    }
    err = item_for(api, r, r->scope, t);
    ret = err == DEPOT_OK ? serve_item_file(api, r, t)
                          : api_send_store_error(api, r, err, "no such training item");
    depot_free(t);
    return ret;
}

/* ---- media links ---- */

enum MHD_Result api_training_link(hub_api *api, const struct api_request *r)
{
    struct hub_training *t = depot_malloc(sizeof(*t));
    const char *dealer = r->scope ? r->scope : "";
    long long expires = depot_now_ms() + HUB_TRAINING_LINK_TTL_MS;
    char mac[HUB_TRAINING_LINK_MAC_HEX + 1], url[64 + DEPOT_DEALER_MAX + HUB_TRAINING_LINK_MAC_HEX];
    cJSON *out;
    depot_err err = t ? item_for(api, r, dealer, t) : DEPOT_ERR_NOMEM;
    depot_free(t);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such training item");
    hub_training_link_sign(api->link_key, atoll(r->arg), dealer, expires, mac);
    snprintf(url, sizeof(url), "/media/training/%lld?d=%s&e=%lld&m=%s", atoll(r->arg), dealer,
             expires, mac);
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "url", url);
    cJSON_AddItemToObject(out, "expires_at", api_time_json(expires));
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

enum MHD_Result api_training_media_get(hub_api *api, const struct api_request *r)
{
    const char *dealer = api_query_raw(r, "d"), *mac = api_query_raw(r, "m");
    struct hub_training *t;
    long long expires = 0;
    enum MHD_Result ret;
    depot_err err;
    if (!dealer)
        dealer = ""; /* a link of the manufacturer's people */
    if (!r->c || !mac || !api_parse_ll(api_query_raw(r, "e"), 1, INT64_MAX, &expires) ||
        (*dealer && !depot_dealer_id_valid(dealer)) ||
        !hub_training_link_ok(api->link_key, atoll(r->arg), dealer, expires, mac, depot_now_ms())) {
        LOG_WARN("training: a media link for item %s refused (forged or expired)", r->arg);
        return api_send_error(api, r, MHD_HTTP_FORBIDDEN,
                              "the link is not valid (expired, or not made by this hub)");
    }
    t = depot_malloc(sizeof(*t));
    err = t ? item_for(api, r, dealer, t) : DEPOT_ERR_NOMEM;
    ret = err == DEPOT_OK ? serve_item_file(api, r, t)
                          : api_send_store_error(api, r, err, "no such training item");
    depot_free(t);
    return ret;
}

/* ---- POST /training/<id>/progress, /done ---- */

/* The position of a progress report: {"position": n} (seconds or page), {} for 0. */
static bool parse_position(const struct api_request *r, long long *pos)
{
    static const char *const keys[] = {"position", NULL};
    cJSON *b = r->len ? cJSON_Parse(r->body) : cJSON_CreateObject();
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "position");
    char bad[64];
    bool ok = cJSON_IsObject(b) && api_json_only_keys(b, keys, bad, sizeof(bad)) &&
              (!v || api_json_int(v, 0, 100000000, pos));
    cJSON_Delete(b);
    return ok;
}

/* The answer to a report: the user's record now. */
static enum MHD_Result send_record(hub_api *api, const struct api_request *r, hub_store *s,
                                   depot_err err)
{
    struct hub_training_view v;
    if (err == DEPOT_OK)
        err = hub_store_training_view_get(s, atoll(r->arg), r->who->dealer, r->who->name, &v);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such training item");
    return api_send_json(api, r, MHD_HTTP_OK, view_json(&v));
}

enum MHD_Result api_training_progress(hub_api *api, const struct api_request *r)
{
    long long pos = 0;
    hub_store *s;
    if (!*r->who->dealer)
        return api_send_error(api, r, MHD_HTTP_FORBIDDEN,
                              "only a dealer's user records its viewing");
    if (!parse_position(r, &pos))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "{\"position\": seconds or page reached, 0..100000000}");
    s = api_reader_take(api);
    return send_record(
        api, r, s,
        hub_training_progress(s, atoll(r->arg), r->who->dealer, r->who->name, pos, depot_now_ms()));
}

enum MHD_Result api_training_done(hub_api *api, const struct api_request *r)
{
    bool changed = false;
    hub_store *s;
    depot_err err;
    if (!*r->who->dealer)
        return api_send_error(api, r, MHD_HTTP_FORBIDDEN,
                              "only a dealer's user completes a training item");
    s = api_reader_take(api);
    err =
        hub_training_done(s, atoll(r->arg), r->who->dealer, r->who->name, depot_now_ms(), &changed);
    if (changed)
        LOG_INFO("training %s completed at dealer %s by %s", r->arg, r->who->dealer, r->who->name);
    return send_record(api, r, s, err);
}
