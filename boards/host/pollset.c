/*
 * The host board's event set (pollset.h) over epoll. A leaf: the loop in
 * main.c and the servers that open and close descriptors call it; it calls
 * none of them.
 */
#include "pollset.h"

#include <unistd.h>

int host_pollset_open(pollset *ps)
{
    ps->n = 0;
    ps->epfd = epoll_create1(EPOLL_CLOEXEC);
    return ps->epfd < 0 ? -1 : 0;
}

int host_pollset_add(pollset *ps, int fd, ev_slot *slot)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = slot};
    return epoll_ctl(ps->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void host_pollset_del(pollset *ps, int fd, const ev_slot *slot)
{
    epoll_ctl(ps->epfd, EPOLL_CTL_DEL, fd, NULL);
    for (int i = 0; i < ps->n; i++)
        if (ps->ready[i].data.ptr == slot)
            ps->ready[i].data.ptr = NULL;
}

int host_pollset_wait(pollset *ps, int timeout_ms)
{
    int n = epoll_wait(ps->epfd, ps->ready, POLLSET_BATCH, timeout_ms);
    ps->n = n > 0 ? n : 0;
    return n;
}

ev_slot *host_pollset_ready(const pollset *ps, int i)
{
    return ps->ready[i].data.ptr;
}

void host_pollset_close(pollset *ps)
{
    if (ps->epfd >= 0)
        close(ps->epfd);
    ps->epfd = -1;
    ps->n = 0;
}
