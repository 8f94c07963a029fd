/*
 * The API's leaf helpers (api/http.h): response bodies built row by row in
 * one growing buffer and handed to libmicrohttpd without a copy, the error
 * and JSON answers, the role check, the pool of read connections to the
 * store, query arguments and the field checks of request bodies.
 */
#include "api/http.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/id.h"
#include "depot/money.h"

void api_body_printf(struct api_body *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    for (int attempt = 0; attempt < 2 && !b->failed; attempt++) {
        va_start(ap, fmt);
        n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
        } else if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        } else {
            size_t cap = b->cap ? b->cap : 65536;
            while (cap - b->len <= (size_t)n)
                cap *= 2;
            char *p = depot_realloc(b->p, cap);
            if (!p)
                b->failed = true;
            else {
                b->p = p;
                b->cap = cap;
            }
        }
    }
}

/* Ensures room for n more bytes (the list endpoints append row by row). */
bool api_body_reserve(struct api_body *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 65536;
    char *p;
    if (b->failed)
        return false;
    if (b->p && b->cap - b->len > n)
        return true;
    while (cap - b->len <= n)
        cap *= 2;
    p = depot_realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void api_body_str(struct api_body *b, const char *s)
{
    size_t n = strlen(s);
    if (api_body_reserve(b, n)) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

void api_body_int(struct api_body *b, long long v)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    api_body_str(b, p);
}

/* A JSON string literal for free text, escaped by cJSON. */
void api_body_json_string(struct api_body *b, const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *text = str ? cJSON_PrintUnformatted(str) : NULL;
    if (text)
        api_body_printf(b, "%s", text);
    else
        b->failed = true;
    cJSON_free(text);
    cJSON_Delete(str);
}

/* ISO-8601 UTC with milliseconds; the date-time of the last second is cached per thread. */
void api_iso8601(char *out, size_t len, long long ms)
{
    static _Thread_local long long cached_secs = -1;
    static _Thread_local char cached[24];
    long long secs = ms / 1000;
    if (secs != cached_secs) {
        time_t t = (time_t)secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_secs = secs;
    }
    snprintf(out, len, "%s.%03lldZ", cached, ms % 1000);
}

bool api_time_arg(const char *text, bool end, long long *ms)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, sec = 0, milli = 0, n = 0;
    size_t len = text ? strlen(text) : 0;
    time_t t;
    if (!len || len > 24)
        return false;
    if (strspn(text, "0123456789") == len) {
        *ms = strtoll(text, NULL, 10);
        return len <= 15;
    }
    if (len == 10 && sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10) {
        /* a date */
    } else if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
               n == 19 &&
               (!strcmp(text + 19, "Z") ||
                (text[19] == '.' && strlen(text) == 24 && text[23] == 'Z' &&
                 strspn(text + 20, "0123456789") == 3 && sscanf(text + 20, "%3d", &milli) == 1))) {
        end = false;
    } else {
        return false;
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 59)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d) /* normalised: no such day (02-30) */
        return false;
    *ms = ((long long)t + (end ? 86400 : 0)) * 1000 + milli;
    return true;
}

/* A request without a connection (api_dispatch): the answer is kept in its reply. */
static enum MHD_Result keep_reply(struct api_reply *out, unsigned status, const char *type,
                                  struct api_body *b)
{
    out->status = status;
    snprintf(out->type, sizeof(out->type), "%s", type);
    out->body = b->p;
    out->len = b->len;
    return MHD_YES;
}

/* api_send_body with one more header (name NULL: none). */
static enum MHD_Result send_body_header(hub_api *api, const struct api_request *r, unsigned status,
                                        const char *type, struct api_body *b, const char *name,
                                        const char *value)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    if (b->failed || !b->p) {
        depot_free(b->p);
        return MHD_NO;
    }
    if (status >= 400)
        hub_metrics_add(api->metrics, HUB_C_API_ERRORS, 1);
    if (!r->c)
        return keep_reply(r->reply, status, type, b);
    resp = MHD_create_response_from_buffer_with_free_callback(b->len, b->p, depot_free);
    if (!resp) {
        depot_free(b->p);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (name)
        MHD_add_response_header(resp, name, value);
    ret = MHD_queue_response(r->c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result api_send_body(hub_api *api, const struct api_request *r, unsigned status,
                              const char *type, struct api_body *b)
{
    return send_body_header(api, r, status, type, b, NULL, NULL);
}

enum MHD_Result api_send_body_header(hub_api *api, const struct api_request *r, unsigned status,
                                     const char *type, struct api_body *b, const char *name,
                                     const char *value)
{
    return send_body_header(api, r, status, type, b, name, value);
}

enum MHD_Result api_send_limited(hub_api *api, const struct api_request *r, const char *msg,
                                 long retry_s)
{
    struct api_body b = {0};
    char value[24];
    snprintf(value, sizeof(value), "%ld", retry_s);
    api_body_printf(&b, "{\"error\":");
    api_body_json_string(&b, msg);
    api_body_printf(&b, ",\"retry_after_s\":%ld}\n", retry_s);
    return send_body_header(api, r, MHD_HTTP_TOO_MANY_REQUESTS, "application/json", &b,
                            MHD_HTTP_HEADER_RETRY_AFTER, value);
}

enum MHD_Result api_send_error(hub_api *api, const struct api_request *r, unsigned status,
                               const char *msg)
{
    struct api_body b = {0};
    api_body_printf(&b, "{\"error\":");
    api_body_json_string(&b, msg);
    api_body_printf(&b, "}\n");
    return api_send_body(api, r, status, "application/json", &b);
}

hub_store *api_reader_take(hub_api *api)
{
    hub_store *s;
    pthread_mutex_lock(&api->lock);
    while (api->n_free == 0)
        pthread_cond_wait(&api->freed, &api->lock);
    s = api->readers[--api->n_free];
    pthread_mutex_unlock(&api->lock);
    return s;
}

void api_reader_give(hub_api *api, hub_store *s)
{
    pthread_mutex_lock(&api->lock);
    api->readers[api->n_free++] = s;
    pthread_cond_signal(&api->freed);
    pthread_mutex_unlock(&api->lock);
}

enum MHD_Result api_send_json(hub_api *api, const struct api_request *r, unsigned status,
                              cJSON *root)
{
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    struct api_body b = {0};
    cJSON_Delete(root);
    if (!text)
        return MHD_NO;
    api_body_str(&b, text);
    api_body_str(&b, "\n");
    cJSON_free(text);
    return api_send_body(api, r, status, "application/json", &b);
}

cJSON *api_money_json(long long cents)
{
    char text[DEPOT_MONEY_TEXT];
    depot_money_format(cents, text, sizeof(text));
    return cJSON_CreateRaw(text);
}

cJSON *api_time_json(long long ms)
{
    char when[40];
    if (ms <= 0)
        return cJSON_CreateNull();
    api_iso8601(when, sizeof(when), ms);
    return cJSON_CreateString(when);
}

bool api_need_role(hub_api *api, const struct api_request *r, enum hub_role need,
                   enum MHD_Result *ret)
{
    if (r->who && r->who->role >= need)
        return true;
    *ret = api_send_error(api, r, MHD_HTTP_FORBIDDEN, "role too low");
    return false;
}

enum MHD_Result api_send_store_error(hub_api *api, const struct api_request *r, depot_err err,
                                     const char *what)
{
    if (err == DEPOT_ERR_NOTFOUND)
        return api_send_error(api, r, MHD_HTTP_NOT_FOUND, what);
    return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, depot_strerror(err));
}

enum MHD_Result api_send_create_error(hub_api *api, const struct api_request *r, depot_err err,
                                      const char *why)
{
    if (err == DEPOT_ERR_INVAL)
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, why);
    if (err == DEPOT_ERR_NOTFOUND)
        return api_send_error(api, r, MHD_HTTP_UNPROCESSABLE_CONTENT, why);
    return api_send_store_error(api, r, err, "");
}

enum MHD_Result api_send_page(hub_api *api, const struct api_request *r, struct api_body *b,
                              depot_err err, const char *next)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    if (err != DEPOT_OK || b->failed || !b->p || !r->c || !next || !*next) {
        if (!r->c && next && err == DEPOT_OK)
            snprintf(r->reply->next, sizeof(r->reply->next), "%s", next);
        return api_send_list(api, r, b, err);
    }
    resp = MHD_create_response_from_buffer_with_free_callback(b->len, b->p, depot_free);
    if (!resp) {
        depot_free(b->p);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "X-Next-After", next);
    ret = MHD_queue_response(r->c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result api_send_stream(hub_api *api, const struct api_request *r, const char *type,
                                MHD_ContentReaderCallback read, void *cls,
                                MHD_ContentReaderFreeCallback done)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    (void)api;
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, read, cls, done);
    if (!resp) {
        done(cls);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    ret = MHD_queue_response(r->c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result api_send_list(hub_api *api, const struct api_request *r, struct api_body *b,
                              depot_err err)
{
    if (err != DEPOT_OK) {
        depot_free(b->p);
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, depot_strerror(err));
    }
    return api_send_body(api, r, MHD_HTTP_OK, "application/json", b);
}

/* ---- query arguments ---- */

const char *api_query(const struct api_request *r, const char *name)
{
    if (r->scope && !strcmp(name, "dealer"))
        return r->scope;
    return api_query_raw(r, name);
}

bool api_scope_hides(const struct api_request *r, const cJSON *obj)
{
    const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "dealer"));
    return r->scope && (!d || strcmp(d, r->scope) != 0);
}

const char *api_query_raw(const struct api_request *r, const char *name)
{
    const char *v = NULL;
    if (r->c) {
        v = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
    } else {
        for (size_t i = 0; r->query && r->query[i] && !v; i += 2)
            if (!strcmp(r->query[i], name))
                v = r->query[i + 1];
    }
    return v && *v ? v : NULL;
}

const char *api_query_id(const struct api_request *r, const char *name, size_t max, bool *bad)
{
    const char *v = api_query(r, name);
    if (v && !depot_id_valid(v, max))
        *bad = true;
    return v;
}

bool api_parse_ll(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    long long n;
    if (!v)
        return false;
    n = strtoll(v, &end, 10);
    if (end == v || *end || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

/* ---- JSON field checks ---- */

bool api_json_int(const cJSON *v, long long min, long long max, long long *out)
{
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(d >= (double)min && d <= (double)max) || floor(d) != d)
        return false;
    *out = (long long)d;
    return true;
}

bool api_json_money(const cJSON *v, long long *out)
{
    if (cJSON_IsString(v))
        return depot_money_parse(v->valuestring, out);
    return cJSON_IsNumber(v) && depot_money_from_double(v->valuedouble, out);
}

bool api_json_str(const cJSON *v, size_t max, char *out, size_t size)
{
    if (!cJSON_IsString(v) || strlen(v->valuestring) > max || strlen(v->valuestring) >= size)
        return false;
    snprintf(out, size, "%s", v->valuestring);
    return true;
}

bool api_type_is_json(const char *type)
{
    return !type || !*type || !strncasecmp(type, "application/json", 16);
}

bool api_date_valid(const char *s)
{
    return !*s || depot_date_valid(s);
}

bool api_json_only_keys(const cJSON *obj, const char *const *keys, char *bad, size_t len)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, obj)
    {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], f->string))
            i++;
        if (!keys[i]) {
            snprintf(bad, len, "%s", f->string);
            return false;
        }
    }
    return true;
}

/* Reads a decimal of 1..18 digits at *p (moved past it); false if there is none. */
static bool range_number(const char **p, long long *out)
{
    int n = 0;
    *out = 0;
    for (; **p >= '0' && **p <= '9'; ++*p)
        if (++n > 18)
            return false;
        else
            *out = *out * 10 + (**p - '0');
    return n > 0;
}

enum api_range api_byte_range(const char *header, long long size, long long *from, long long *len)
{
    const char *p = header;
    long long a = 0, b = 0;
    bool has_a, has_b;
    *from = 0;
    *len = size;
    if (!p || strncmp(p, "bytes=", 6) != 0 || strchr(p, ','))
        return API_RANGE_WHOLE;
    p += 6;
    has_a = range_number(&p, &a);
    if (*p++ != '-')
        return API_RANGE_WHOLE;
    has_b = range_number(&p, &b);
    if (*p || (!has_a && !has_b) || (has_a && has_b && b < a))
        return API_RANGE_WHOLE;
    if (!has_a) { /* the last b bytes */
        if (b == 0 || size == 0)
            return API_RANGE_UNSATISFIABLE;
        *from = b < size ? size - b : 0;
        *len = size - *from;
        return API_RANGE_PART;
    }
    if (a >= size)
        return API_RANGE_UNSATISFIABLE;
    *from = a;
    *len = (has_b && b < size - 1 ? b : size - 1) - a + 1;
    return API_RANGE_PART;
}
