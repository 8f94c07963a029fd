/*
 * Control channel: UNIX-domain stream sockets, one command per line, one
 * reply line per command: "ok", "ok <value>" or "error <reason>".
 *
 *   weight <grams>                  scale: gross weight on the load cell
 *   scan, submit, reboot, display   scanner: see control_scanner.c
 *   fault none|silent|crc|exception [CODE]|unit|truncate|cell
 *   noise [PPM [SEED]]              RTU: corrupt bytes on the line (wire.c)
 *   status                          ok unit=.. weight=.. gross=.. net=.. ...
 *                                   (scanner: ok unit=.. kind=scanner count=.. ...)
 *   quit                            ok, then the whole process exits
 *
 * A node's own socket (path pattern with %u) addresses that node. On a
 * shared socket, "unit N <cmd>" or "port P <cmd>" picks the node; without a
 * prefix the command goes to the only node, or is refused when there are
 * several.
 */
#include "host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int host_control_listen(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "depot-node: control path too long: %s\n", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
        fprintf(stderr, "depot-node: control socket %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void host_control_accept(host_app *app, int listen_fd, host_node *node)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    ctl_client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->node = node;
    c->slot = (ev_slot){.kind = EV_CTL_CLIENT, .obj = c};
    if (host_pollset_add(&app->ps, fd, &c->slot) < 0) {
        close(fd);
        free(c);
        return;
    }
    c->next = app->ctls;
    app->ctls = c;
}

static host_node *find_node(host_app *app, const char *kind, unsigned long id)
{
    /* --tcp-range: the ports are consecutive, the node is found at once */
    if (strcmp(kind, "port") == 0 && app->n_nodes > 0 && id >= app->nodes[0].port &&
        id - app->nodes[0].port < app->n_nodes && app->nodes[id - app->nodes[0].port].port == id)
        return &app->nodes[id - app->nodes[0].port];
    for (size_t i = 0; i < app->n_nodes; i++) {
        host_node *n = &app->nodes[i];
        if ((strcmp(kind, "unit") == 0 && n->slave.unit == id) ||
            (strcmp(kind, "port") == 0 && n->port == id))
            return n;
    }
    return NULL;
}

/* fault none|silent|crc|exception [CODE]|unit|truncate|cell */
static int set_fault(host_node *node, const char *arg)
{
    static const char *const names[] = {"none", "silent", "crc", "exception"};
    unsigned long code = 0;
    host_node_catch_up(node); /* the samples due so far read the cell as it was */
    node->ctx.cell_fault = strcmp(arg, "cell") == 0;
    node->wire_fault = HOST_WIRE_NONE;
    node->slave.fault = MB_FAULT_NONE;
    node->slave.fault_code = 0;
    if (node->ctx.cell_fault)
        return 0;
    if (strcmp(arg, "unit") == 0 || strcmp(arg, "truncate") == 0) {
        node->wire_fault = arg[0] == 'u' ? HOST_WIRE_UNIT : HOST_WIRE_TRUNCATE;
        return 0;
    }
    if (strncmp(arg, "exception ", 10) == 0) {
        char *end;
        errno = 0;
        code = strtoul(arg + 10, &end, 0);
        if (errno != 0 || end == arg + 10 || *end != '\0' || code < 1 || code > 0x7F)
            return -1;
        node->slave.fault = MB_FAULT_EXCEPTION;
        node->slave.fault_code = (uint8_t)code;
        return 0;
    }
    for (int f = 0; f < 4; f++) {
        if (strcmp(arg, names[f]) == 0) {
            node->slave.fault = (mb_fault)f;
            return 0;
        }
    }
    return -1;
}

/* noise [PPM [SEED]]: sets the line's noise (RTU only); replies with its counters. */
static void set_noise(host_app *app, char *arg, char *reply, size_t cap)
{
    unsigned long ppm, seed = 1;
    char *end;
    if (app->line == NULL) {
        snprintf(reply, cap, "error noise is for an RTU line");
        return;
    }
    if (arg != NULL) {
        errno = 0;
        ppm = strtoul(arg, &end, 10);
        if (errno == 0 && *end == ' ')
            seed = strtoul(end + 1, &end, 10);
        if (errno != 0 || *end != '\0' || ppm > 1000000 || seed > UINT32_MAX) {
            snprintf(reply, cap, "error bad noise: %s", arg);
            return;
        }
        host_wire_noise_set(app->line, (uint32_t)ppm, (uint32_t)seed);
    }
    snprintf(reply, cap, "ok ppm=%lu bytes=%llu corrupted=%llu",
             (unsigned long)app->line->noise_ppm, (unsigned long long)app->line->noise_bytes,
             (unsigned long long)app->line->noise_corrupted);
}

static void set_weight(host_node *node, const char *arg, char *reply, size_t cap)
{
    char *end;
    errno = 0;
    long long g = strtoll(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || g < INT32_MIN || g > INT32_MAX) {
        snprintf(reply, cap, "error bad weight: %s", arg);
        return;
    }
    host_node_catch_up(node); /* the samples due so far read the old weight */
    node->ctx.weight_g = (int32_t)g;
    snprintf(reply, cap, "ok");
}

/* Runs one command (prefix already resolved) for node. */
static void run_command(host_app *app, host_node *node, char *cmd, char *reply, size_t cap)
{
    char *arg = strchr(cmd, ' ');
    if (arg != NULL)
        *arg++ = '\0';
    if (strcmp(cmd, "quit") == 0) {
        app->quit = 1;
        snprintf(reply, cap, "ok");
    } else if (strcmp(cmd, "noise") == 0) {
        set_noise(app, arg, reply, cap);
    } else if (node == NULL) {
        snprintf(reply, cap, "error several nodes: prefix the command with unit N or port P");
    } else if (strcmp(cmd, "status") == 0) {
        memcpy(reply, "ok ", 3);
        host_node_catch_up(node);
        host_node_status(node, reply + 3, cap - 3);
    } else if (node->kind == DEPOT_KIND_SCANNER && host_control_scanner(node, cmd, arg, reply, cap)) {
        return;
    } else if (strcmp(cmd, "weight") == 0 && arg != NULL && node->kind == DEPOT_KIND_SCALE) {
        set_weight(node, arg, reply, cap);
    } else if (strcmp(cmd, "fault") == 0 && arg != NULL) {
        snprintf(reply, cap, set_fault(node, arg) == 0 ? "ok" : "error unknown fault");
    } else {
        snprintf(reply, cap, "error unknown command: %s", cmd);
    }
}

static void handle_line(host_app *app, ctl_client *c, char *line, char *reply, size_t cap)
{
    host_node *node = c->node;
    char kind[8];
    unsigned long id;
    int used = 0;
    if (node == NULL && sscanf(line, "%7[a-z] %lu %n", kind, &id, &used) == 2 && used > 0 &&
        (strcmp(kind, "unit") == 0 || strcmp(kind, "port") == 0)) {
        node = find_node(app, kind, id);
        if (node == NULL) {
            snprintf(reply, cap, "error no node with %s %lu", kind, id);
            return;
        }
        line += used;
    } else if (node == NULL && app->n_nodes == 1) {
        node = &app->nodes[0];
    }
    run_command(app, node, line, reply, cap);
}

static void client_drop(host_app *app, ctl_client *c)
{
    for (ctl_client **p = &app->ctls; *p != NULL; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    host_pollset_del(&app->ps, c->fd, &c->slot);
    close(c->fd);
    free(c);
}

/* Handles every complete line in the client's buffer; returns -1 to drop it. */
static int drain_lines(host_app *app, ctl_client *c)
{
    char *nl;
    while ((nl = memchr(c->line, '\n', c->len)) != NULL) {
        *nl = '\0';
        if (nl > c->line && nl[-1] == '\r')
            nl[-1] = '\0';
        char reply[512];
        handle_line(app, c, c->line, reply, sizeof(reply) - 1);
        strcat(reply, "\n");
        if (write(c->fd, reply, strlen(reply)) < 0)
            return -1;
        size_t used = (size_t)(nl - c->line) + 1;
        memmove(c->line, nl + 1, c->len - used);
        c->len -= used;
    }
    return c->len == sizeof(c->line) ? -1 : 0;
}

void host_control_readable(host_app *app, ctl_client *c)
{
    ssize_t n = read(c->fd, c->line + c->len, sizeof(c->line) - c->len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        client_drop(app, c);
        return;
    }
    c->len += (size_t)n;
    if (drain_lines(app, c) < 0)
        client_drop(app, c);
}

int host_control_watch(host_app *app)
{
    app->shared_ctl_slot = (ev_slot){.kind = EV_CTL_LISTEN, .obj = NULL};
    if (app->shared_ctl_fd >= 0 &&
        host_pollset_add(&app->ps, app->shared_ctl_fd, &app->shared_ctl_slot) < 0)
        return -1;
    for (size_t i = 0; i < app->n_nodes; i++) {
        host_node *node = &app->nodes[i];
        node->ctl_slot = (ev_slot){.kind = EV_CTL_LISTEN, .obj = node};
        if (node->ctl_fd >= 0 && host_pollset_add(&app->ps, node->ctl_fd, &node->ctl_slot) < 0)
            return -1;
    }
    return 0;
}

void host_control_close_all(host_app *app)
{
    while (app->ctls != NULL)
        client_drop(app, app->ctls);
    if (app->shared_ctl_fd >= 0) {
        close(app->shared_ctl_fd);
        unlink(app->shared_ctl_path);
        app->shared_ctl_fd = -1;
    }
}
