/*
 * The dashboard's static files: GET /, /index.html and /static/<name>.
 *
 * Owns: the folder the files come from, resolved once at start ([http]
 * dashboard, else <exe dir>/../share/depot/dashboard: build/bin/depot-hub
 * finds build/share/depot/dashboard, an installed /usr/local/bin/depot-hub
 * finds /usr/local/share/depot/dashboard).
 *
 * Invariants:
 *  1. Only a name that cannot leave the folder is opened: characters
 *     [A-Za-z0-9._-] and '/', no empty segment, no segment starting with '.'
 *     (so no "..", no hidden file); only regular files are served.
 *  2. Files are read per request (they are small, and an edited file shows at
 *     once); the response streams from the descriptor (MHD owns it).
 *  3. Every answer carries an ETag (size and modification time) and
 *     "Cache-Control: no-cache": the browser keeps the file and revalidates,
 *     a match costs a 304 without a body. The page's Content-Security-Policy
 *     allows scripts, styles and requests to this origin only.
 *
 * The files are public (the page itself holds no data); every piece of
 * data comes from /api/v1/ with the user's bearer token.
 */
#include "api/static.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/routes.h"
#include "auth.h"

#define NAME_MAX_LEN 128

struct hub_static {
    char dir[PATH_MAX];
};

static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'";

/* <dir of /proc/self/exe>/../share/depot/dashboard */
static depot_err default_dir(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;
    if (n <= 0) {
        snprintf(out, len, "share/depot/dashboard");
        return DEPOT_OK;
    }
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    if ((size_t)snprintf(out, len, "%s/../share/depot/dashboard", exe) >= len)
        return DEPOT_ERR_CONFIG;
    return DEPOT_OK;
}

depot_err hub_static_new(const char *dir, hub_static **out)
{
    hub_static *st = depot_calloc(1, sizeof(*st));
    struct stat sb;
    depot_err err = DEPOT_OK;
    char index[PATH_MAX + 16];

    if (!st)
        return DEPOT_ERR_NOMEM;
    if (dir && *dir) {
        if ((size_t)snprintf(st->dir, sizeof(st->dir), "%s", dir) >= sizeof(st->dir))
            err = DEPOT_ERR_CONFIG;
    } else {
        err = default_dir(st->dir, sizeof(st->dir));
    }
    if (err != DEPOT_OK) {
        depot_free(st);
        return err;
    }
    snprintf(index, sizeof(index), "%s/index.html", st->dir);
    if (stat(index, &sb) != 0)
        LOG_WARN("http: no dashboard at %s (GET / answers 404)", st->dir);
    else
        LOG_INFO("http: dashboard served from %s", st->dir);
    *out = st;
    return DEPOT_OK;
}

void hub_static_free(hub_static *st)
{
    depot_free(st);
}

const char *hub_static_dir(const hub_static *st)
{
    return st->dir;
}

static bool name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-' || ch == '/';
}

bool hub_static_file_name(const char *url, char *out, size_t len)
{
    const char *name = !strcmp(url, "/") ? "index.html" : url + 1;
    size_t n;
    if (!strncmp(url, "/static/", 8))
        name = url + 8;
    else if (strcmp(url, "/") && strcmp(url, "/index.html"))
        return false;
    n = strlen(name);
    if (n == 0 || n >= len || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool seg_start = i == 0 || name[i - 1] == '/';
        if (!name_char(name[i]) || (seg_start && (name[i] == '.' || name[i] == '/')))
            return false;
    }
    if (name[n - 1] == '/')
        return false;
    memcpy(out, name, n + 1);
    return true;
}

const char *hub_static_content_type(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(dot, types[i][0]))
            return types[i][1];
    return "application/octet-stream";
}

static void common_headers(struct MHD_Response *r, const char *etag, bool page)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (page) {
        MHD_add_response_header(r, "Content-Security-Policy", CSP);
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
    }
}

/* 304 when the browser's copy is current. */
static enum MHD_Result not_modified(struct MHD_Connection *c, const char *etag, bool page)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    common_headers(r, etag, page);
    ret = MHD_queue_response(c, MHD_HTTP_NOT_MODIFIED, r);
    MHD_destroy_response(r);
    return ret;
}

/* Opens dir/name as a regular file; -1 if it is not one. */
static int open_file(const hub_static *st, const char *name, struct stat *sb)
{
    char path[PATH_MAX + NAME_MAX_LEN + 2];
    int fd;
    snprintf(path, sizeof(path), "%s/%s", st->dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Without a connection (api_dispatch): the file's bytes as the reply's body. */
static enum MHD_Result send_copy(hub_api *api, const struct api_request *req, int fd,
                                 const struct stat *sb, const char *name)
{
    struct api_body b = {0};
    ssize_t n = -1;
    if (api_body_reserve(&b, (size_t)sb->st_size + 1))
        n = read(fd, b.p, (size_t)sb->st_size);
    close(fd);
    if (n != (ssize_t)sb->st_size) {
        depot_free(b.p);
        return api_send_error(api, req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the file");
    }
    b.len = (size_t)n;
    return api_send_body(api, req, MHD_HTTP_OK, hub_static_content_type(name), &b);
}

enum MHD_Result api_static_get(hub_api *api, const struct api_request *req)
{
    struct MHD_Connection *c = req->c;
    const char *url = req->url;
    char name[NAME_MAX_LEN + 1], etag[64];
    const char *inm =
        c ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH) : NULL;
    struct MHD_Response *r;
    struct stat sb;
    enum MHD_Result ret;
    bool page;
    int fd;

    if (!hub_static_file_name(url, name, sizeof(name)) ||
        (fd = open_file(api->dashboard, name, &sb)) < 0)
        return api_send_error(api, req, MHD_HTTP_NOT_FOUND, "no such file");
    if (!c)
        return send_copy(api, req, fd, &sb, name);
    page = !strcmp(name, "index.html");
    snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)sb.st_size,
             (unsigned long long)sb.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)sb.st_mtim.tv_nsec);
    if (inm && !strcmp(inm, etag)) {
        close(fd);
        return not_modified(c, etag, page);
    }
    r = MHD_create_response_from_fd((size_t)sb.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, hub_static_content_type(name));
    common_headers(r, etag, page);
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
