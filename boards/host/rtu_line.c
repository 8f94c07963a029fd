/*
 * An RS-485 line on a pseudo-terminal. The master (libmodbus, mbpoll, the
 * gateway) opens the slave side, /dev/pts/N; this process holds the master
 * side and every node on the line listens to it, each with its own RTU
 * framer, exactly as several boards on one pair of wires would.
 *
 * A pty moves bytes instantly, so the line's timing is emulated:
 *  - receive: mb_rtu gives each byte the arrival time it would have at the
 *    baud rate, and a frame ends after 3.5 silent characters;
 *  - transmit: a reply is written to the pty one character time per byte,
 *    starting once the request's silence has passed (tx queue below).
 * Faults of the wire (a reply cut or from the wrong unit, noise on the line)
 * are wire.c's, applied here to the bytes either way.
 * The slave side is kept open by us too (raw, no echo), so a master that
 * closes and reopens the port finds the line as it left it.
 *
 * A pty is not a UART in one way that matters here: the kernel clears
 * PARENB on every tcsetattr of a pty. A master that dies without restoring
 * the port (SIGKILL) leaves the rest of its settings (e.g. INPCK) on the
 * line; the next master's 8E1 then changes nothing the kernel keeps, and
 * libmodbus's connect fails with EINVAL. A UART forgets nothing and refuses
 * nothing, so the line is put back to raw every RAW_PERIOD_US (an ioctl,
 * only when it differs): a setting a live master relies on is not among
 * those raw resets, as libmodbus asks for raw itself.
 */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define RAW_PERIOD_US 200000

static int open_pty(rtu_line *line)
{
    line->master_fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (line->master_fd < 0 || grantpt(line->master_fd) < 0 || unlockpt(line->master_fd) < 0)
        return -1;
    const char *name = ptsname(line->master_fd);
    if (name == NULL || strlen(name) >= sizeof(line->pty_path))
        return -1;
    strcpy(line->pty_path, name);
    fcntl(line->master_fd, F_SETFL, fcntl(line->master_fd, F_GETFL) | O_NONBLOCK);
    fcntl(line->master_fd, F_SETFD, FD_CLOEXEC);
    line->slave_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (line->slave_fd < 0)
        return -1;
    struct termios tio;
    if (tcgetattr(line->slave_fd, &tio) < 0)
        return -1;
    cfmakeraw(&tio);
    return tcsetattr(line->slave_fd, TCSANOW, &tio);
}

rtu_line *host_rtu_line_open(uint32_t baud, const char *link_path)
{
    rtu_line *line = calloc(1, sizeof(*line));
    if (line == NULL)
        return NULL;
    line->master_fd = line->slave_fd = -1;
    line->char_us = mb_rtu_char_us(baud);
    if (open_pty(line) < 0) {
        fprintf(stderr, "depot-node: pseudo-terminal: %s\n", strerror(errno));
        host_rtu_line_close(line);
        return NULL;
    }
    if (link_path != NULL) {
        snprintf(line->link_path, sizeof(line->link_path), "%s", link_path);
        unlink(link_path);
        if (symlink(line->pty_path, link_path) < 0) {
            fprintf(stderr, "depot-node: symlink %s: %s\n", link_path, strerror(errno));
            line->link_path[0] = '\0';
            host_rtu_line_close(line);
            return NULL;
        }
    }
    return line;
}

static void queue_reply(rtu_line *line, const uint8_t *rsp, size_t len)
{
    if (line->tx_sent == line->tx_len) {
        line->tx_len = line->tx_sent = 0;
        tcflush(line->slave_fd, TCIFLUSH); /* an unread old reply is stale now */
        line->tx_start_us = host_now_us();
    }
    if (len > sizeof(line->tx) - line->tx_len)
        return; /* the line is jammed: a real bus would garble this too */
    memcpy(line->tx + line->tx_len, rsp, len);
    line->tx_len += len;
}

static void node_poll(rtu_line *line, host_node *node, uint32_t now)
{
    uint8_t rsp[MB_RTU_ADU_MAX];
    size_t n = mb_rtu_poll(&node->rtu, &node->slave, now, rsp, sizeof(rsp));
    if (n > 0)
        n = host_wire_reply(node, rsp, n, 1);
    if (n > 0) {
        host_wire_noise(line, rsp, n);
        queue_reply(line, rsp, n);
    }
}

static void node_feed(rtu_line *line, host_node *node, const uint8_t *data, size_t n, uint32_t now)
{
    while (n > 0) {
        node_poll(line, node, now);
        size_t used = mb_rtu_receive(&node->rtu, data, n, now);
        data += used;
        n -= used;
    }
}

void host_rtu_line_readable(host_app *app)
{
    uint8_t data[512];
    ssize_t n = read(app->line->master_fd, data, sizeof(data));
    if (n <= 0)
        return;
    host_wire_noise(app->line, data, (size_t)n); /* every node hears the same bytes */
    uint32_t now = (uint32_t)host_now_us();
    for (size_t i = 0; i < app->n_nodes; i++)
        node_feed(app->line, &app->nodes[i], data, (size_t)n, now);
}

/* Writes the reply bytes whose transmission time has come. */
static void transmit_due(rtu_line *line, uint64_t now)
{
    if (line->tx_sent == line->tx_len || now < line->tx_start_us)
        return;
    uint64_t due = (now - line->tx_start_us) / line->char_us;
    if (due > line->tx_len)
        due = line->tx_len;
    if (due <= line->tx_sent)
        return;
    ssize_t n = write(line->master_fd, line->tx + line->tx_sent, (size_t)due - line->tx_sent);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
        line->tx_sent = line->tx_len;
    else if (n > 0)
        line->tx_sent += (size_t)n;
}

/* Puts the slave side back to raw when a master left other settings on it (see above). */
static void raw_again(rtu_line *line, uint64_t now)
{
    struct termios cur, raw;
    if (now < line->next_raw_us)
        return;
    line->next_raw_us = now + RAW_PERIOD_US;
    if (tcgetattr(line->slave_fd, &cur) < 0)
        return;
    raw = cur;
    cfmakeraw(&raw);
    raw.c_iflag &= ~(tcflag_t)INPCK;
    if (memcmp(&raw, &cur, sizeof(raw)) != 0)
        tcsetattr(line->slave_fd, TCSANOW, &raw);
}

void host_rtu_line_tick(host_app *app)
{
    if (app->line == NULL)
        return;
    uint64_t now = host_now_us();
    for (size_t i = 0; i < app->n_nodes; i++)
        node_poll(app->line, &app->nodes[i], (uint32_t)now);
    transmit_due(app->line, now);
    raw_again(app->line, now);
}

int host_rtu_line_timeout_ms(const host_app *app)
{
    const rtu_line *line = app->line;
    if (line == NULL)
        return -1;
    uint64_t now = host_now_us();
    /* the next raw reset is due even on an idle line (nothing else wakes the loop) */
    uint64_t wait = line->next_raw_us > now ? line->next_raw_us - now : 0;
    for (size_t i = 0; i < app->n_nodes; i++) {
        uint32_t w = mb_rtu_wait_us(&app->nodes[i].rtu, (uint32_t)now);
        wait = w < wait ? w : wait;
    }
    if (line->tx_sent < line->tx_len) {
        uint64_t next = line->tx_start_us + (uint64_t)(line->tx_sent + 1) * line->char_us;
        uint64_t w = next > now ? next - now : 0;
        wait = w < wait ? w : wait;
    }
    return (int)((wait + 999) / 1000);
}

void host_rtu_line_close(rtu_line *line)
{
    if (line == NULL)
        return;
    if (line->link_path[0] != '\0')
        unlink(line->link_path);
    if (line->slave_fd >= 0)
        close(line->slave_fd);
    if (line->master_fd >= 0)
        close(line->master_fd);
    free(line);
}
