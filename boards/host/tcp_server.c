/*
 * Modbus TCP for the host board: one listening socket per node, any number
 * of connections per node, all non-blocking in the one epoll loop. Each
 * connection owns its MBAP reassembly buffer (mb_tcp); a request split over
 * several segments, or several requests in one segment, both work.
 * A connection whose MBAP length is impossible is closed, as the stream can
 * no longer be resynchronised.
 */
#include "host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int host_tcp_listen(const char *addr, uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "depot-node: not an IPv4 address: %s\n", addr);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
        fprintf(stderr, "depot-node: listen %s:%u: %s\n", addr, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void host_tcp_accept(host_app *app, host_node *node)
{
    int fd = accept4(node->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    tcp_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    c->node = node;
    c->slot = (ev_slot){.kind = EV_TCP_CONN, .obj = c};
    if (host_pollset_add(&app->ps, fd, &c->slot) < 0) {
        close(fd);
        free(c);
        return;
    }
    mb_tcp_init(&c->tcp, c->buf, sizeof(c->buf));
    c->next = app->conns;
    app->conns = c;
}

static void conn_drop(host_app *app, tcp_conn *c)
{
    for (tcp_conn **p = &app->conns; *p != NULL; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    host_pollset_del(&app->ps, c->fd, &c->slot);
    close(c->fd);
    free(c);
}

/* Sends the whole reply through the node's HAL; returns -1 when it cannot. */
static int send_reply(host_node *node, int fd, const uint8_t *rsp, size_t len)
{
    node->ctx.stream_fd = fd;
    size_t sent = 0;
    for (int tries = 0; sent < len && tries < 100; tries++) {
        int32_t n = node->hal.send(node->hal.ctx, rsp + sent, len - sent);
        if (n < 0)
            return -1;
        sent += (size_t)n;
    }
    return sent == len ? 0 : -1;
}

/* Feeds bytes and answers every complete request; returns -1 to close. */
static int conn_feed(tcp_conn *c, const uint8_t *data, size_t n)
{
    uint8_t rsp[MB_TCP_ADU_MAX];
    while (n > 0) {
        size_t used = mb_tcp_receive(&c->tcp, data, n);
        data += used;
        n -= used;
        size_t rsp_len;
        int rc;
        while ((rc = mb_tcp_poll(&c->tcp, &c->node->slave, rsp, sizeof(rsp), &rsp_len)) == 1) {
            rsp_len = host_wire_reply(c->node, rsp, rsp_len, 0);
            if (rsp_len > 0 && send_reply(c->node, c->fd, rsp, rsp_len) < 0)
                return -1;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

void host_tcp_readable(host_app *app, tcp_conn *c)
{
    uint8_t data[1024];
    c->node->ctx.stream_fd = c->fd;
    int32_t n = c->node->hal.recv(c->node->hal.ctx, data, sizeof(data));
    if (n == 0)
        return;
    if (n < 0 || conn_feed(c, data, (size_t)n) < 0)
        conn_drop(app, c);
}

int host_tcp_watch(host_app *app)
{
    for (size_t i = 0; i < app->n_nodes; i++) {
        host_node *node = &app->nodes[i];
        node->listen_slot = (ev_slot){.kind = EV_TCP_LISTEN, .obj = node};
        if (node->listen_fd >= 0 &&
            host_pollset_add(&app->ps, node->listen_fd, &node->listen_slot) < 0)
            return -1;
    }
    return 0;
}

void host_tcp_close_all(host_app *app)
{
    while (app->conns != NULL)
        conn_drop(app, app->conns);
}
