/*
 * http_load: a small HTTP/1.1 keep-alive load generator for the hub's API
 * benchmark (bench_hub_api.py).
 *
 * One thread, one epoll loop, N connections opened before the clock starts.
 * Each connection is closed-loop: it sends GET PATH, reads the whole response
 * (status line, headers, a Content-Length or chunked body that is counted,
 * not kept),
 * records the latency from the first byte sent to the last byte received, and
 * sends the next request at once. The run ends when --requests responses came
 * back or --seconds passed, whichever is first; requests in flight at the
 * deadline are abandoned and not counted.
 *
 * A closed loop measures service time under N concurrent clients, not the
 * latency an open stream of arrivals would see past saturation (no
 * coordinated-omission correction); that is what a dashboard or a script
 * polling the API looks like.
 *
 * usage: http_load --port P --path PATH [--host 127.0.0.1] [--header "K: V"]...
 *                  [--connections 4] [--requests 1000] [--seconds 10]
 * stdout, one line of key=value:
 *   requests=N ok=N errors=E seconds=S rps=R p50_ms= p90_ms= p99_ms= max_ms=
 *   mean_ms= bytes_per_response=B connections=C
 * ok counts 2xx responses; errors: other statuses, broken connections and
 * unparsable responses. Exit status: 0 if at least one 2xx response came
 * back, 1 if none, 2 usage or setup error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_CONNECTIONS 1024
#define MAX_HEADERS 8
#define HEAD_CAP 16384
#define READ_CAP 65536

typedef struct conn {
    int fd;
    size_t sent; /* bytes of the request written */
    char head[HEAD_CAP];
    size_t head_len;
    int in_body;
    long long body_left; /* bytes of body still to come */
    long long body_len;
    int status;
    int close_after; /* "Connection: close" seen */
    int chunked;     /* Transfer-Encoding: chunked */
    int cstate;      /* where in a chunked body (enum chunk_state) */
    char cline[64];  /* the chunk-size or trailer line read so far */
    size_t cline_len;
    long long t0;    /* ns when the request started */
    int busy;
} conn;

typedef struct load_opts {
    const char *host, *path, *headers[MAX_HEADERS];
    int n_headers;
    long port, connections, requests, seconds;
} load_opts;

typedef struct load_run {
    const load_opts *o;
    char *request;
    size_t request_len;
    int epfd;
    conn *conns;
    long long issued, done, ok, errors, body_bytes, deadline, start;
    double *lat_ms; /* one per completed request, o->requests slots */
    int active;
} load_run;

static void usage(FILE *out)
{
    fputs("usage: http_load --port P --path PATH [--host 127.0.0.1] [--header 'K: V']...\n"
          "                 [--connections 4] [--requests 1000] [--seconds 10]\n"
          "Closed-loop HTTP/1.1 keep-alive GETs on N connections; prints one line:\n"
          "requests= ok= errors= seconds= rps= p50_ms= p90_ms= p99_ms= max_ms= mean_ms=\n"
          "bytes_per_response= connections=\n",
          out);
}

static int parse_option(load_opts *o, const char *a, const char *v)
{
    long *num = NULL, lo = 0, hi = 0;
    if (strcmp(a, "--host") == 0)
        o->host = v;
    else if (strcmp(a, "--path") == 0)
        o->path = v;
    else if (strcmp(a, "--header") == 0 && o->n_headers < MAX_HEADERS)
        o->headers[o->n_headers++] = v;
    else if (strcmp(a, "--port") == 0)
        num = &o->port, lo = 1, hi = 65535;
    else if (strcmp(a, "--connections") == 0)
        num = &o->connections, lo = 1, hi = MAX_CONNECTIONS;
    else if (strcmp(a, "--requests") == 0)
        num = &o->requests, lo = 1, hi = 10000000;
    else if (strcmp(a, "--seconds") == 0)
        num = &o->seconds, lo = 1, hi = 3600;
    else
        return fprintf(stderr, "http_load: unknown option %s\n", a), -1;
    if (num != NULL && bench_parse_long(v, lo, hi, num) < 0)
        return fprintf(stderr, "http_load: %s: %ld..%ld, not %s\n", a, lo, hi, v), -1;
    return 0;
}

static int parse_args(int argc, char **argv, load_opts *o)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc)
            return fprintf(stderr, "http_load: %s needs a value\n", argv[i]), -1;
        if (parse_option(o, argv[i], argv[i + 1]) < 0)
            return -1;
        i++;
    }
    if (o->port == 0 || o->path == NULL || o->path[0] != '/')
        return usage(stderr), -1;
    if (strncmp(o->host, "127.", 4) != 0)
        return fprintf(stderr, "http_load: only 127.0.0.0/8 may be loaded, not %s\n", o->host), -1;
    return 0;
}

static int build_request(load_run *r)
{
    const load_opts *o = r->o;
    size_t cap = 512 + strlen(o->path);
    for (int i = 0; i < o->n_headers; i++)
        cap += strlen(o->headers[i]) + 2;
    r->request = malloc(cap);
    if (r->request == NULL)
        return -1;
    int n =
        snprintf(r->request, cap, "GET %s HTTP/1.1\r\nHost: %s:%ld\r\n", o->path, o->host, o->port);
    for (int i = 0; i < o->n_headers; i++)
        n += snprintf(r->request + n, cap - (size_t)n, "%s\r\n", o->headers[i]);
    n += snprintf(r->request + n, cap - (size_t)n, "Connection: keep-alive\r\n\r\n");
    r->request_len = (size_t)n;
    return 0;
}

/* A connected, non-blocking socket registered with epoll, or -1. */
static int open_conn(load_run *r, conn *c)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->o->port)};
    int one = 1;
    if (inet_pton(AF_INET, r->o->host, &sa.sin_addr) != 1)
        return -1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static void close_conn(load_run *r, conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

static void want_write(load_run *r, conn *c, int on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(r->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is left of the request; -1 if the connection broke. */
static int flush_request(load_run *r, conn *c)
{
    while (c->sent < r->request_len) {
        ssize_t n = send(c->fd, r->request + c->sent, r->request_len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) {
            want_write(r, c, 1);
            return 0;
        }
        if (n <= 0)
            return -1;
        c->sent += (size_t)n;
    }
    want_write(r, c, 0);
    return 0;
}

static void start_request(load_run *r, conn *c);

/* A broken exchange: count it, open a fresh connection, go on. */
static void conn_failed(load_run *r, conn *c)
{
    r->errors++;
    c->busy = 0;
    r->active--;
    close_conn(r, c);
    if (open_conn(r, c) == 0)
        start_request(r, c);
}

static void start_request(load_run *r, conn *c)
{
    if (r->issued >= r->o->requests || bench_mono_ns() >= r->deadline || c->fd < 0)
        return;
    r->issued++;
    r->active++;
    c->busy = 1;
    c->sent = 0;
    c->head_len = 0;
    c->in_body = 0;
    c->body_len = 0;
    c->status = 0;
    c->close_after = 0;
    c->t0 = bench_mono_ns();
    if (flush_request(r, c) < 0)
        conn_failed(r, c);
}

/* Parses the head in c->head (NUL-terminated); -1 if it is not a response we can read. */
enum chunk_state { CS_SIZE, CS_DATA, CS_DATA_END, CS_TRAILER };

static int parse_head(conn *c)
{
    long long length = -1;
    c->chunked = 0;
    if (sscanf(c->head, "HTTP/1.%*d %d", &c->status) != 1)
        return -1;
    for (char *line = strstr(c->head, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            length = strtoll(line + 15, NULL, 10);
        else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0)
            c->chunked = strstr(line, "chunked") != NULL &&
                         strstr(line, "chunked") < strstr(line, "\r\n");
        else if (strncasecmp(line, "Connection:", 11) == 0 && strstr(line, "close") != NULL &&
                 strstr(line, "close") < strstr(line, "\r\n"))
            c->close_after = 1;
    }
    if (c->chunked) {
        c->cstate = CS_SIZE;
        c->cline_len = 0;
        c->body_left = 0;
        return 0;
    }
    if (length < 0)
        return -1;
    c->body_left = length;
    return 0;
}

/* One line of a chunked body (a size or a trailer) into c->cline; 1 when it is whole. */
static int chunk_line(conn *c, const char **buf, size_t *n)
{
    while (*n > 0) {
        char ch = *(*buf)++;
        (*n)--;
        if (ch == '\n') {
            c->cline[c->cline_len] = '\0';
            c->cline_len = 0;
            return 1;
        }
        if (c->cline_len < sizeof(c->cline) - 1 && ch != '\r')
            c->cline[c->cline_len++] = ch;
    }
    return 0;
}

/* Feeds bytes of a chunked body; 1 when the body ended, 0 for more, -1 on an error. */
static int feed_chunked(conn *c, const char **buf, size_t *n)
{
    while (*n > 0) {
        switch (c->cstate) {
        case CS_SIZE:
            if (!chunk_line(c, buf, n))
                return 0;
            {
                char *end;
                long long size = strtoll(c->cline, &end, 16);
                if (end == c->cline || size < 0)
                    return -1;
                c->body_left = size;
                c->cstate = size ? CS_DATA : CS_TRAILER;
            }
            break;
        case CS_DATA: {
            size_t take = (long long)*n < c->body_left ? *n : (size_t)c->body_left;
            c->body_left -= (long long)take;
            c->body_len += (long long)take;
            *buf += take;
            *n -= take;
            if (c->body_left == 0)
                c->cstate = CS_DATA_END;
            break;
        }
        case CS_DATA_END: /* the CRLF after a chunk's data */
            if (!chunk_line(c, buf, n))
                return 0;
            if (c->cline[0])
                return -1;
            c->cstate = CS_SIZE;
            break;
        case CS_TRAILER:
            if (!chunk_line(c, buf, n))
                return 0;
            if (!c->cline[0])
                return 1; /* the empty line after the last chunk */
            break;
        }
    }
    return 0;
}

static void finish_response(load_run *r, conn *c)
{
    long long now = bench_mono_ns();
    if (r->done < r->o->requests)
        r->lat_ms[r->done] = (double)(now - c->t0) / 1e6;
    r->done++;
    r->body_bytes += c->body_len;
    if (c->status >= 200 && c->status < 300)
        r->ok++;
    else
        r->errors++;
    c->busy = 0;
    r->active--;
    if (c->close_after) {
        close_conn(r, c);
        if (open_conn(r, c) < 0)
            return;
    }
    start_request(r, c);
}

/* Feeds n received bytes; -1 on a protocol error. */
static int feed(load_run *r, conn *c, const char *buf, size_t n)
{
    while (n > 0) {
        if (!c->in_body) {
            size_t take = n < HEAD_CAP - 1 - c->head_len ? n : HEAD_CAP - 1 - c->head_len;
            memcpy(c->head + c->head_len, buf, take);
            c->head_len += take;
            c->head[c->head_len] = '\0';
            char *end = strstr(c->head, "\r\n\r\n");
            if (end == NULL) {
                if (c->head_len == HEAD_CAP - 1)
                    return -1;
                return 0;
            }
            size_t head = (size_t)(end + 4 - c->head), used = take - (c->head_len - head);
            end[2] = '\0';
            if (parse_head(c) < 0)
                return -1;
            c->in_body = 1;
            buf += used;
            n -= used;
        }
        if (c->chunked) {
            int end = feed_chunked(c, &buf, &n);
            if (end < 0)
                return -1;
            if (end == 0)
                return 0;
            if (n > 0)
                return -1; /* bytes after the response: nothing was pipelined */
            finish_response(r, c);
            continue;
        }
        size_t body = (long long)n < c->body_left ? n : (size_t)c->body_left;
        c->body_left -= (long long)body;
        c->body_len += (long long)body;
        buf += body;
        n -= body;
        if (c->body_left == 0) {
            if (n > 0)
                return -1; /* bytes after the response: nothing was pipelined */
            finish_response(r, c);
        }
    }
    return 0;
}

static void on_event(load_run *r, conn *c, unsigned events)
{
    static char buf[READ_CAP];
    if ((events & EPOLLOUT) && c->busy && flush_request(r, c) < 0) {
        conn_failed(r, c);
        return;
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0 || !c->busy || feed(r, c, buf, (size_t)n) < 0) {
            if (c->busy)
                conn_failed(r, c);
            else
                close_conn(r, c);
            return;
        }
        if (!c->busy || c->fd < 0)
            return; /* finished and nothing more to send */
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile (p in 1..100) of sorted v[0..n-1], n > 0. */
static double percentile(const double *v, long long n, int p)
{
    long long rank = (p * n + 99) / 100;
    return v[rank > 0 ? rank - 1 : 0];
}

static void report(load_run *r)
{
    long long n = r->done < r->o->requests ? r->done : r->o->requests;
    double secs = (double)(bench_mono_ns() - r->start) / 1e9, sum = 0;
    qsort(r->lat_ms, (size_t)n, sizeof(double), cmp_double);
    for (long long i = 0; i < n; i++)
        sum += r->lat_ms[i];
    printf("requests=%lld ok=%lld errors=%lld seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f "
           "p99_ms=%.3f max_ms=%.3f mean_ms=%.3f bytes_per_response=%.0f connections=%ld\n",
           r->done, r->ok, r->errors, secs, (double)r->done / secs,
           n ? percentile(r->lat_ms, n, 50) : 0, n ? percentile(r->lat_ms, n, 90) : 0,
           n ? percentile(r->lat_ms, n, 99) : 0, n ? r->lat_ms[n - 1] : 0, n ? sum / (double)n : 0,
           r->done ? (double)r->body_bytes / (double)r->done : 0, r->o->connections);
}

static int run_load(load_run *r)
{
    struct epoll_event evs[64];
    for (long i = 0; i < r->o->connections; i++) {
        r->conns[i].fd = -1;
        if (open_conn(r, &r->conns[i]) < 0) {
            fprintf(stderr, "http_load: connect %s:%ld: %s\n", r->o->host, r->o->port,
                    strerror(errno));
            return 2;
        }
    }
    r->start = bench_mono_ns();
    r->deadline = r->start + r->o->seconds * 1000000000LL;
    for (long i = 0; i < r->o->connections; i++)
        start_request(r, &r->conns[i]);
    while (r->active > 0) {
        long long left = (r->deadline - bench_mono_ns()) / 1000000;
        if (left <= 0)
            break;
        int n = epoll_wait(r->epfd, evs, 64, left > 1000 ? 1000 : (int)left + 1);
        if (n < 0 && errno != EINTR)
            return 2;
        for (int i = 0; i < n; i++)
            on_event(r, evs[i].data.ptr, evs[i].events);
    }
    report(r);
    return r->ok > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    load_opts o = {.host = "127.0.0.1", .connections = 4, .requests = 1000, .seconds = 10};
    load_run r = {.o = &o};
    int rc;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    r.conns = calloc((size_t)o.connections, sizeof(conn));
    r.lat_ms = calloc((size_t)o.requests, sizeof(double));
    r.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r.conns == NULL || r.lat_ms == NULL || r.epfd < 0 || build_request(&r) < 0) {
        fprintf(stderr, "http_load: out of memory\n");
        return 2;
    }
    rc = run_load(&r);
    for (long i = 0; i < o.connections; i++)
        close_conn(&r, &r.conns[i]);
    close(r.epfd);
    free(r.request);
    free(r.lat_ms);
    free(r.conns);
    return rc;
}
