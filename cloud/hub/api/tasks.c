/*
 * API: tasks given to dealers and their completion (tasks.h).
 *
 *   POST /api/v1/tasks                  admin     {"title", "body", "due", "rule", "skus",
 *                                                  "level", "photo", "target": {"kind", "value"}}
 *                                                  -> 201 the task, its targets, done already
 *   GET  /api/v1/tasks[?dealer=D]       viewer    newest first, each with its progress (targets,
 *                                                  done, done on time, overdue); a dealer's
 *                                                  user: its own, each with its state
 *   GET  /api/v1/tasks/<id>             viewer    the task, its progress and every target's
 *                                                  state; a dealer's user: its own state
 *   POST /api/v1/tasks/<id>/done        dealer    confirmed by a dealer's user: a JSON body
 *                                                  ({} or none), or the photo itself as the
 *                                                  body (Content-Type image/jpeg or image/png,
 *                                                  at most [tasks] photo_max_kib)
 *   GET  /api/v1/tasks/<id>/photo?dealer=D  viewer  the photo a dealer confirmed with
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/routes.h"
#include "files.h"
#include "policies.h"
#include "tasks.h"

#define WHY_MAX 160

/* The UTC day after `due` begins: a task not done by then is overdue. */
static long long due_end_ms(const char *due)
{
    return hub_task_due_ms(due) + 86400000LL;
}

static const char *state_of(const struct hub_task *t, const struct hub_task_reach *r, long long now)
{
    long long end = due_end_ms(t->due);
    if (r->done_at)
        return r->done_at < end ? "done" : "done late";
    return now >= end ? "overdue" : "open";
}

static cJSON *task_json(const struct hub_task *t)
{
    cJSON *j = cJSON_CreateObject(), *g;
    cJSON_AddNumberToObject(j, "task", (double)t->id);
    cJSON_AddStringToObject(j, "title", t->title);
    cJSON_AddStringToObject(j, "body", t->body);
    cJSON_AddStringToObject(j, "due", t->due);
    cJSON_AddStringToObject(j, "rule", t->rule);
    cJSON_AddStringToObject(j, "skus", t->skus);
    cJSON_AddNumberToObject(j, "level", (double)t->level);
    cJSON_AddBoolToObject(j, "photo", t->photo);
    g = cJSON_AddObjectToObject(j, "target");
    cJSON_AddStringToObject(g, "kind", t->target_kind);
    cJSON_AddStringToObject(g, "value", t->target);
    cJSON_AddStringToObject(j, "created_by", t->created_by);
    cJSON_AddItemToObject(j, "created_at", api_time_json(t->created_at));
    return j;
}

static cJSON *reach_json(const struct hub_task *t, const struct hub_task_reach *r, long long now)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "dealer", r->dealer);
    cJSON_AddStringToObject(j, "state", state_of(t, r, now));
    cJSON_AddItemToObject(j, "done_at", api_time_json(r->done_at));
    cJSON_AddStringToObject(j, "done_by", r->done_by);
    cJSON_AddStringToObject(j, "done_via", r->done_via);
    cJSON_AddStringToObject(j, "counted", r->counted);
    cJSON_AddBoolToObject(j, "photo", r->photo_sha[0] != '\0');
    if (r->photo_sha[0]) {
        cJSON_AddStringToObject(j, "photo_sha256", r->photo_sha);
        cJSON_AddStringToObject(j, "photo_type", r->photo_type);
    }
    return j;
}

/* ---- progress ---- */

struct progress {
    const struct hub_task *t;
    long long now, targets, done, on_time, overdue;
    cJSON *rows; /* every target's state (NULL: not listed) */
};

static int progress_row(void *arg, const struct hub_task_reach *r)
{
    struct progress *p = arg;
    const char *st = state_of(p->t, r, p->now);
    p->targets++;
    p->done += r->done_at != 0;
    p->on_time += !strcmp(st, "done");
    p->overdue += !strcmp(st, "overdue");
    if (p->rows)
        cJSON_AddItemToArray(p->rows, reach_json(p->t, r, p->now));
    return 0;
}

static void add_progress(cJSON *j, const struct progress *p)
{
    cJSON *g = cJSON_AddObjectToObject(j, "progress");
    cJSON_AddNumberToObject(g, "targets", (double)p->targets);
    cJSON_AddNumberToObject(g, "done", (double)p->done);
    cJSON_AddNumberToObject(g, "done_on_time", (double)p->on_time);
    cJSON_AddNumberToObject(g, "overdue", (double)p->overdue);
    cJSON_AddNumberToObject(g, "done_pct",
                            p->targets ? (double)(p->done * 1000 / p->targets) / 10.0 : 0.0);
}

/* ---- POST /tasks ---- */

static const char *const task_keys[] = {"title", "body",  "due",    "rule", "skus",
                                        "level", "photo", "target", NULL};

/* "skus": a string "A,B" or an array of strings. */
static bool parse_skus(const cJSON *v, char *out, size_t size)
{
    const cJSON *e;
    size_t used = 0;
    out[0] = '\0';
    if (!v)
        return true;
    if (cJSON_IsString(v))
        return api_json_str(v, HUB_TASK_SKUS_MAX, out, size);
    if (!cJSON_IsArray(v))
        return false;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e) || !e->valuestring[0] || used + strlen(e->valuestring) + 2 > size)
            return false;
        used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "," : "", e->valuestring);
    }
    return true;
}

static bool parse_task(const cJSON *b, struct hub_task *t, char *why, size_t len)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(b, "target"), *v;
    char bad[64];
    if (!cJSON_IsObject(b) || !api_json_only_keys(b, task_keys, bad, sizeof(bad))) {
        snprintf(why, len, "the body must be a task object (unknown field \"%s\")",
                 cJSON_IsObject(b) ? bad : "");
        return false;
    }
    v = cJSON_GetObjectItemCaseSensitive(b, "body");
    if (!api_json_str(cJSON_GetObjectItemCaseSensitive(b, "title"), HUB_TASK_TITLE_MAX, t->title,
                      sizeof(t->title)) ||
        (v && !api_json_str(v, HUB_TASK_BODY_MAX, t->body, sizeof(t->body))) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(b, "due"), DEPOT_DATE_LEN, t->due,
                      sizeof(t->due)) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(b, "rule"), HUB_TASK_RULE_MAX, t->rule,
                      sizeof(t->rule))) {
        snprintf(why, len,
                 "title (1..80), due (YYYY-MM-DD) and rule (confirm|count|stock) are strings; "
                 "body (..4000) too when given");
        return false;
    }
    if (!parse_skus(cJSON_GetObjectItemCaseSensitive(b, "skus"), t->skus, sizeof(t->skus))) {
        snprintf(why, len, "skus: SKU ids, a string \"A,B\" or an array of strings");
        return false;
    }
    v = cJSON_GetObjectItemCaseSensitive(b, "level");
    if (v && !api_json_int(v, 0, 1000000000, &t->level)) {
        snprintf(why, len, "level: a whole number 0..1000000000");
        return false;
    }
    v = cJSON_GetObjectItemCaseSensitive(b, "photo");
    if (v && !cJSON_IsBool(v)) {
        snprintf(why, len, "photo: true or false");
        return false;
    }
    t->photo = cJSON_IsTrue(v);
    return api_target_parse(g, t->target_kind, t->target, why, len);
}

enum MHD_Result api_task_post(hub_api *api, const struct api_request *r)
{
    cJSON *body = cJSON_Parse(r->body), *out;
    struct hub_task *t = depot_calloc(1, sizeof(*t));
    char why[WHY_MAX] = "";
    size_t n = 0, done = 0;
    hub_store *s;
    depot_err err;

    if (!t) {
        cJSON_Delete(body);
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    err = parse_task(body, t, why, sizeof(why)) ? DEPOT_OK : DEPOT_ERR_INVAL;
    cJSON_Delete(body);
    snprintf(t->created_by, sizeof(t->created_by), "%s", r->who->name);
    if (err == DEPOT_OK) {
        s = api_reader_take(api);
        err = hub_tasks_issue(s, hub_api_ranking(api), t, depot_now_ms(), &n, &done, why,
                              sizeof(why));
        api_reader_give(api, s);
    }
    if (err != DEPOT_OK) {
        depot_free(t);
        return api_send_create_error(api, r, err, why);
    }
    LOG_INFO("task %lld \"%s\" (%s, due %s) issued by %s to %zu dealers, %zu done already", t->id,
             t->title, t->rule, t->due, r->who->name, n, done);
    out = task_json(t);
    cJSON_AddNumberToObject(out, "targets", (double)n);
    cJSON_AddNumberToObject(out, "done", (double)done);
    depot_free(t);
    return api_send_json(api, r, MHD_HTTP_CREATED, out);
}

/* ---- GET /tasks, /tasks/<id> ---- */

struct list_ctx {
    hub_store *s;
    cJSON *list;
    long long now;
    depot_err err;
};

static int list_row(void *arg, const struct hub_task *t)
{
    struct list_ctx *x = arg;
    struct progress p = {.t = t, .now = x->now};
    cJSON *j = task_json(t);
    x->err = hub_store_task_reach_list(x->s, t->id, progress_row, &p);
    add_progress(j, &p);
    cJSON_AddItemToArray(x->list, j);
    return x->err != DEPOT_OK;
}

static int dealer_row(void *arg, const struct hub_task *t, const struct hub_task_reach *r)
{
    struct list_ctx *x = arg;
    cJSON *j = task_json(t);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "target"); /* the other targets are not its */
    cJSON_AddItemToObject(j, "reach", reach_json(t, r, x->now));
    cJSON_AddItemToArray(x->list, j);
    return 0;
}

enum MHD_Result api_tasks_list(hub_api *api, const struct api_request *r)
{
    struct list_ctx x = {.list = cJSON_CreateArray(), .now = depot_now_ms()};
    const char *dealer = api_query(r, "dealer");
    depot_err err;
    if (dealer && !depot_dealer_id_valid(dealer)) {
        cJSON_Delete(x.list);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer is not a dealer id");
    }
    x.s = api_reader_take(api);
    err = dealer ? hub_store_dealer_tasks(x.s, dealer, dealer_row, &x)
                 : hub_store_tasks_list(x.s, list_row, &x);
    api_reader_give(api, x.s);
    if (err == DEPOT_OK)
        err = x.err;
    if (err != DEPOT_OK) {
        cJSON_Delete(x.list);
        return api_send_store_error(api, r, err, "");
    }
    return api_send_json(api, r, MHD_HTTP_OK, x.list);
}

enum MHD_Result api_task_get(hub_api *api, const struct api_request *r)
{
    long long id = atoll(r->arg), now = depot_now_ms();
    struct hub_task *t = depot_malloc(sizeof(*t));
    struct hub_task_reach reach;
    struct progress p = {.now = now};
    cJSON *out = NULL;
    hub_store *s = api_reader_take(api);
    depot_err err = t ? hub_store_task_get(s, id, t) : DEPOT_ERR_NOMEM;

    if (err == DEPOT_OK && r->scope) { /* a dealer's user: a task it is a target of */
        err = hub_store_task_reach_get(s, id, r->scope, &reach);
        if (err == DEPOT_OK) {
            out = task_json(t);
            cJSON_DeleteItemFromObjectCaseSensitive(out, "target");
            cJSON_AddItemToObject(out, "reach", reach_json(t, &reach, now));
        }
    } else if (err == DEPOT_OK) {
        p.t = t;
        out = task_json(t);
        p.rows = cJSON_AddArrayToObject(out, "dealers");
        err = hub_store_task_reach_list(s, id, progress_row, &p);
        add_progress(out, &p);
    }
    api_reader_give(api, s);
    depot_free(t);
    if (err != DEPOT_OK) {
        cJSON_Delete(out);
        return api_send_store_error(api, r, err, "no such task");
    }
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

/* ---- POST /tasks/<id>/done ---- */

enum MHD_Result api_task_done(hub_api *api, const struct api_request *r)
{
    const char *type = r->content_type, *photo_type = "";
    long long id = atoll(r->arg), now = depot_now_ms();
    size_t max = (size_t)api->cfg->task_photo_max_kib * 1024;
    char why[WHY_MAX] = "", sha[HUB_FILE_SHA_HEX + 1] = "";
    struct hub_task t;
    struct hub_task_reach reach;
    bool changed = false;
    hub_store *s;
    depot_err err;

    if (!*r->who->dealer)
        return api_send_error(api, r, MHD_HTTP_FORBIDDEN, "only a dealer's user confirms a task");
    if (!api_type_is_json(type)) {
        if (r->len > max) {
            snprintf(why, sizeof(why), "the photo is larger than %ld KiB",
                     api->cfg->task_photo_max_kib);
            return api_send_error(api, r, MHD_HTTP_CONTENT_TOO_LARGE, why);
        }
        photo_type = hub_task_photo_type(r->body, r->len);
        if (!photo_type || strncmp(type, photo_type, strlen(photo_type)) != 0)
            return api_send_error(api, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                  "a photo is a JPEG or PNG image sent with its own type "
                                  "(Content-Type image/jpeg or image/png)");
    }
    s = api_reader_take(api);
    err = hub_store_task_reach_get(s, id, r->who->dealer, &reach); /* a target: else 404 */
    if (err == DEPOT_OK && *photo_type &&
        hub_files_put(api->cfg->files_dir, r->body, r->len, sha) != DEPOT_OK)
        err = DEPOT_ERR_IO;
    if (err == DEPOT_OK)
        err = hub_tasks_confirm(s, hub_api_ranking(api), id, r->who->dealer, r->who->name, sha,
                                photo_type, now, &changed, why, sizeof(why));
    if (err == DEPOT_OK)
        err = hub_store_task_get(s, id, &t);
    if (err == DEPOT_OK)
        err = hub_store_task_reach_get(s, id, r->who->dealer, &reach);
    api_reader_give(api, s);
    if (err == DEPOT_ERR_INVAL)
        return api_send_error(api, r, MHD_HTTP_UNPROCESSABLE_CONTENT, why);
    if (err == DEPOT_ERR_IO)
        return api_send_error(api, r, MHD_HTTP_INSUFFICIENT_STORAGE,
                              "the photo could not be stored; try again");
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such task");
    if (changed)
        LOG_INFO("task %lld done at dealer %s by %s in the portal%s", id, r->who->dealer,
                 r->who->name, *sha ? " with a photo" : "");
    return api_send_json(api, r, MHD_HTTP_OK, reach_json(&t, &reach, now));
}

/* ---- GET /tasks/<id>/photo ---- */

enum MHD_Result api_task_photo(hub_api *api, const struct api_request *r)
{
    const char *dealer = api_query(r, "dealer");
    struct hub_task_reach reach;
    struct api_body b;
    char *bytes = NULL;
    size_t len = 0;
    hub_store *s;
    depot_err err;

    if (!dealer || !depot_dealer_id_valid(dealer))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer=D: whose photo");
    s = api_reader_take(api);
    err = hub_store_task_reach_get(s, atoll(r->arg), dealer, &reach);
    api_reader_give(api, s);
    if (err == DEPOT_OK && !reach.photo_sha[0])
        err = DEPOT_ERR_NOTFOUND;
    if (err == DEPOT_OK)
        err = hub_files_read(api->cfg->files_dir, reach.photo_sha,
                             (size_t)api->cfg->task_photo_max_kib * 1024, &bytes, &len);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such photo");
    b = (struct api_body){bytes, len, len + 1, false}; /* the body takes the file's buffer */
    return api_send_body(api, r, MHD_HTTP_OK, reach.photo_type, &b);
}
