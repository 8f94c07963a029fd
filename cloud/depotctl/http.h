/*
 * A tiny HTTP/1.1 client for depotctl's commands that talk to the hub's API
 * (http:// only, one request per connection). No libcurl: the hub
 * serves plain HTTP on a loopback or private address.
 */
#ifndef CTL_HTTP_H
#define CTL_HTTP_H

#include <stddef.h>

#include "depot/error.h"

struct ctl_http_reply {
    int status; /* e.g. 200 */
    char *body; /* NUL-terminated, depot_malloc'd; free with ctl_http_reply_clear */
    size_t len;
};

/*
 * GET base + path, where base is "http://HOST:PORT" (an optional trailing
 * "/" is ignored) and path starts with "/". token, if not NULL, goes into
 * "Authorization: Bearer". Waits at most timeout_ms for each step.
 * DEPOT_OK with any HTTP status; DEPOT_ERR_INVAL (bad URL), DEPOT_ERR_IO
 * (resolve, connect, send or receive failed; err says which),
 * DEPOT_ERR_PARSE (not an HTTP reply), DEPOT_ERR_NOMEM.
 */
depot_err ctl_http_get(const char *base, const char *path, const char *token, int timeout_ms,
                       struct ctl_http_reply *reply, char *err, size_t err_len);

/* Like ctl_http_get with any method and an optional JSON body (NULL: none). */
depot_err ctl_http_request(const char *base, const char *method, const char *path,
                           const char *token, const char *body, int timeout_ms,
                           struct ctl_http_reply *reply, char *err, size_t err_len);

/*
 * POST the file open on fd (size bytes, read from its current offset) to base + path as the
 * body (Content-Type application/octet-stream), a piece at a time: never read whole into
 * memory. A hub that answers before the body's end (a refusal) is heard: its reply is read
 * even when it closed the connection under the upload. As ctl_http_request.
 */
depot_err ctl_http_upload(const char *base, const char *path, const char *token, int fd,
                          long long size, int timeout_ms, struct ctl_http_reply *reply, char *err,
                          size_t err_len);

void ctl_http_reply_clear(struct ctl_http_reply *reply);

#endif
