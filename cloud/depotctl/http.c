/*
 * HTTP/1.1 requests over a TCP socket. The request asks for "Connection: close",
 * so the reply ends at EOF; the body is framed by Content-Length when given,
 * else by chunked transfer coding, else by EOF. The whole reply is read into
 * memory (hub API replies are bounded lists).
 */
#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "depot/alloc.h"

#define REPLY_MAX (256u * 1024 * 1024)

struct url {
    char host[256];
    char port[8];
};

static depot_err parse_base(const char *base, struct url *u)
{
    const char *h = base, *colon, *end;
    size_t n;
    if (strncmp(h, "http://", 7) != 0)
        return DEPOT_ERR_INVAL;
    h += 7;
    end = h + strcspn(h, "/");
    colon = memchr(h, ':', (size_t)(end - h));
    n = (size_t)((colon ? colon : end) - h);
    if (n == 0 || n >= sizeof(u->host))
        return DEPOT_ERR_INVAL;
    memcpy(u->host, h, n);
    u->host[n] = '\0';
    n = colon ? (size_t)(end - colon - 1) : 0;
    if (colon && (n == 0 || n >= sizeof(u->port)))
        return DEPOT_ERR_INVAL;
    snprintf(u->port, sizeof(u->port), "%.*s", colon ? (int)n : 2, colon ? colon + 1 : "80");
    return *end == '\0' || strcmp(end, "/") == 0 ? DEPOT_OK : DEPOT_ERR_INVAL;
}

static int dial(const struct url *u, int timeout_ms, char *err, size_t err_len)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int fd = -1, rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_len, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            snprintf(err, err_len, "cannot connect to %s:%s: %s", u->host, u->port,
                     strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static depot_err send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return DEPOT_ERR_IO;
        buf += n;
        len -= (size_t)n;
    }
    return DEPOT_OK;
}

/* Reads to EOF into a NUL-terminated depot_malloc'd buffer. */
static depot_err recv_all(int fd, char **out, size_t *out_len)
{
    size_t cap = 16384, len = 0;
    char *buf = depot_malloc(cap), *p;
    ssize_t n;
    while (buf) {
        if (cap - len < 4096) {
            p = cap * 2 <= REPLY_MAX ? depot_realloc(buf, cap * 2) : NULL;
            if (!p)
                break;
            buf = p;
            cap *= 2;
        }
        n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            depot_free(buf);
            return DEPOT_ERR_IO;
        }
        if (n == 0) {
            buf[len] = '\0';
            *out = buf;
            *out_len = len;
            return DEPOT_OK;
        }
        len += (size_t)n;
    }
    depot_free(buf);
    return DEPOT_ERR_NOMEM;
}

/* Value of header name in the header block [hdr, end) (after the status line), or NULL. */
static const char *header(const char *hdr, const char *end, const char *name)
{
    size_t n = strlen(name);
    const char *line = strstr(hdr, "\r\n");
    while (line && line < end) {
        line += 2;
        if (!strncasecmp(line, name, n) && line[n] == ':')
            return line + n + 1 + strspn(line + n + 1, " \t");
        line = strstr(line, "\r\n");
    }
    return NULL;
}

/* Decodes a chunked body in place; returns its length. */
static size_t dechunk(char *body, size_t len)
{
    char *in = body, *out = body, *end = body + len;
    while (in < end) {
        unsigned long size = strtoul(in, NULL, 16);
        char *nl = strstr(in, "\r\n");
        if (!nl || size == 0 || (size_t)(end - nl - 2) < size)
            break;
        memmove(out, nl + 2, size);
        out += size;
        in = nl + 2 + size + 2;
    }
    *out = '\0';
    return (size_t)(out - body);
}

static depot_err parse_reply(char *raw, size_t len, struct ctl_http_reply *reply)
{
    char *hdr_end = strstr(raw, "\r\n\r\n");
    const char *v;
    size_t body_len;
    if (sscanf(raw, "HTTP/1.%*d %d", &reply->status) != 1 || !hdr_end)
        return DEPOT_ERR_PARSE;
    body_len = len - (size_t)(hdr_end + 4 - raw);
    v = header(raw, hdr_end, "Transfer-Encoding");
    if (v && !strncasecmp(v, "chunked", 7))
        body_len = dechunk(hdr_end + 4, body_len);
    else if ((v = header(raw, hdr_end, "Content-Length")) && strtoul(v, NULL, 10) < body_len)
        body_len = strtoul(v, NULL, 10);
    memmove(raw, hdr_end + 4, body_len);
    raw[body_len] = '\0';
    reply->body = raw;
    reply->len = body_len;
    return DEPOT_OK;
}

depot_err ctl_http_get(const char *base, const char *path, const char *token, int timeout_ms,
                       struct ctl_http_reply *reply, char *err, size_t err_len)
{
    return ctl_http_request(base, "GET", path, token, NULL, timeout_ms, reply, err, err_len);
}

depot_err ctl_http_request(const char *base, const char *method, const char *path,
                           const char *token, const char *body, int timeout_ms,
                           struct ctl_http_reply *reply, char *err, size_t err_len)
{
    struct url u;
    char req[2048], *raw = NULL;
    size_t body_len = body ? strlen(body) : 0;
    size_t raw_len;
    depot_err rc;
    int fd, n;

    memset(reply, 0, sizeof(*reply));
    if (!base || parse_base(base, &u) != DEPOT_OK) {
        snprintf(err, err_len, "hub URL must be http://HOST:PORT, not \"%s\"", base ? base : "");
        return DEPOT_ERR_INVAL;
    }
    n = snprintf(req, sizeof(req),
                 "%s %s HTTP/1.1\r\nHost: %s:%s\r\n%s%s%sAccept: application/json\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n",
                 method, path, u.host, u.port, token ? "Authorization: Bearer " : "",
                 token ? token : "", token ? "\r\n" : "", body_len);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        snprintf(err, err_len, "request too long");
        return DEPOT_ERR_INVAL;
    }
    fd = dial(&u, timeout_ms, err, err_len);
    if (fd < 0)
        return DEPOT_ERR_IO;
    rc = send_all(fd, req, (size_t)n);
    if (rc == DEPOT_OK && body_len)
        rc = send_all(fd, body, body_len);
    if (rc == DEPOT_OK)
        rc = recv_all(fd, &raw, &raw_len);
    close(fd);
    if (rc == DEPOT_OK && (rc = parse_reply(raw, raw_len, reply)) != DEPOT_OK)
        depot_free(raw);
    if (rc != DEPOT_OK)
        snprintf(err, err_len, "%s:%s: %s", u.host, u.port,
                 rc == DEPOT_ERR_PARSE ? "not an HTTP reply" : "no complete reply");
    return rc;
}

/* Sends size bytes of the file fd to the socket s. */
static depot_err send_file(int s, int fd, long long size)
{
    char buf[65536];
    while (size > 0) {
        ssize_t n = read(fd, buf, size < (long long)sizeof(buf) ? (size_t)size : sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || send_all(s, buf, (size_t)n) != DEPOT_OK)
            return DEPOT_ERR_IO;
        size -= n;
    }
    return DEPOT_OK;
}

#define CONTINUE_WAIT_MS 2000 /* for the hub's word before the body of an upload */

/*
 * An upload asks "Expect: 100-continue": the hub answers a refusal (401, 403, 413) before the
 * body is sent, or "100 Continue" (consumed here). True to send the body: the 100 came, or
 * nothing within CONTINUE_WAIT_MS (RFC 9110 says to go on then); false when a final answer
 * came, to be read as the reply.
 */
static bool may_send_body(int s)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    char head[256], *end;
    ssize_t got;
    if (poll(&p, 1, CONTINUE_WAIT_MS) <= 0)
        return true;
    got = recv(s, head, sizeof(head) - 1, MSG_PEEK);
    if (got <= 0)
        return false;
    head[got] = '\0';
    if (strncmp(head, "HTTP/1.1 100", 12) != 0 || !(end = strstr(head, "\r\n\r\n")))
        return false;
    return recv(s, head, (size_t)(end + 4 - head), 0) == end + 4 - head;
}

depot_err ctl_http_upload(const char *base, const char *path, const char *token, int fd,
                          long long size, int timeout_ms, struct ctl_http_reply *reply, char *err,
                          size_t err_len)
{
    struct url u;
    char req[2048], *raw = NULL;
    size_t raw_len;
    depot_err rc;
    int s, n;

    memset(reply, 0, sizeof(*reply));
    if (!base || parse_base(base, &u) != DEPOT_OK) {
        snprintf(err, err_len, "hub URL must be http://HOST:PORT, not \"%s\"", base ? base : "");
        return DEPOT_ERR_INVAL;
    }
    n = snprintf(req, sizeof(req),
                 "POST %s HTTP/1.1\r\nHost: %s:%s\r\n%s%s%sAccept: application/json\r\n"
                 "Content-Type: application/octet-stream\r\nContent-Length: %lld\r\n"
                 "Expect: 100-continue\r\nConnection: close\r\n\r\n",
                 path, u.host, u.port, token ? "Authorization: Bearer " : "", token ? token : "",
                 token ? "\r\n" : "", size);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        snprintf(err, err_len, "request too long");
        return DEPOT_ERR_INVAL;
    }
    s = dial(&u, timeout_ms, err, err_len);
    if (s < 0)
        return DEPOT_ERR_IO;
    if (send_all(s, req, (size_t)n) == DEPOT_OK && may_send_body(s))
        (void)send_file(s, fd, size); /* cut short by a refusal: its reply follows */
    rc = recv_all(s, &raw, &raw_len);
    close(s);
    if (rc == DEPOT_OK && (rc = parse_reply(raw, raw_len, reply)) != DEPOT_OK)
        depot_free(raw);
    if (rc != DEPOT_OK)
        snprintf(err, err_len, "%s:%s: %s", u.host, u.port,
                 rc == DEPOT_ERR_PARSE ? "not an HTTP reply" : "no complete reply");
    return rc;
}

void ctl_http_reply_clear(struct ctl_http_reply *reply)
{
    depot_free(reply->body);
    reply->body = NULL;
    reply->len = 0;
}
