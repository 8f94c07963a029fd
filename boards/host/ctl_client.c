/*
 * `depot-node ctl SOCKET COMMAND...`: the shell's way to the control channel
 * of a running depot-node (the stand-in for the load cell and the fault
 * switches). Joins the words into one line, sends it, prints the reply line,
 * and exits 0 on "ok ...", 1 on "error ..." or when the node cannot be reached.
 */
#include "host.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_control(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

int host_ctl_main(int argc, char **argv)
{
    char line[512] = "", reply[1024];
    size_t used = 0, n = 0;
    int fd;

    if (argc < 4) {
        fputs("usage: depot-node ctl SOCKET COMMAND [ARGS...]\n"
              "  e.g. depot-node ctl run/demo/A/scale-tcp.sock weight 2500\n",
              stderr);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        int w = snprintf(line + used, sizeof(line) - used, "%s%s", i > 3 ? " " : "", argv[i]);
        if (w < 0 || (size_t)w >= sizeof(line) - used - 1)
            return fputs("depot-node ctl: command too long\n", stderr), 2;
        used += (size_t)w;
    }
    line[used++] = '\n';
    fd = connect_control(argv[2]);
    if (fd < 0)
        return fprintf(stderr, "depot-node ctl: cannot reach %s\n", argv[2]), 1;
    if (send_all(fd, line, used) < 0)
        return close(fd), fprintf(stderr, "depot-node ctl: write failed\n"), 1;
    while (n < sizeof(reply) - 1) {
        ssize_t r = read(fd, reply + n, sizeof(reply) - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(reply, '\n', n))
            break;
    }
    close(fd);
    reply[n] = '\0';
    fputs(reply, stdout);
    if (n == 0 || reply[n - 1] != '\n')
        fputc('\n', stdout);
    return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}
