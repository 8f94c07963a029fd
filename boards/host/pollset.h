/*
 * The event set of the host board's loop: one epoll instance on which every
 * descriptor (listener, connection, control client, pty) is registered once,
 * when it is opened, and removed when it is closed, each with the slot that
 * says whose it is. A wait costs what is ready, not what is open: a process
 * serving 1,000 ports does not hand 2,000 descriptors to the kernel on every
 * request. Knows nothing of the descriptors beyond their kind.
 */
#ifndef DEPOT_HOST_POLLSET_H
#define DEPOT_HOST_POLLSET_H

#include <stddef.h>
#include <sys/epoll.h>

#define POLLSET_BATCH 64 /* events taken per wait */

/* Whose a descriptor is: a slot lives in the object that owns the descriptor. */
typedef enum ev_kind { EV_TCP_LISTEN, EV_TCP_CONN, EV_CTL_LISTEN, EV_CTL_CLIENT, EV_PTY } ev_kind;
typedef struct ev_slot {
    ev_kind kind;
    void *obj;
} ev_slot;
typedef struct pollset {
    int epfd;
    int n; /* events of the last wait */
    struct epoll_event ready[POLLSET_BATCH];
} pollset;

/* Opens the set: 0, or -1 (errno). */
int host_pollset_open(pollset *ps);

/* Watches fd for input (level-triggered) on behalf of slot, which must stay put until
 * host_pollset_del: 0, or -1 (errno; fd not watched). */
int host_pollset_add(pollset *ps, int fd, ev_slot *slot);

/* Stops watching fd (call before closing it) and forgets its pending events of the
 * last wait, so a slot freed now is never dispatched. */
void host_pollset_del(pollset *ps, int fd, const ev_slot *slot);

/* Waits at most timeout_ms (-1: no bound): the number of ready descriptors, 0, or -1 (errno). */
int host_pollset_wait(pollset *ps, int timeout_ms);

/* The slot of the i-th ready descriptor of the last wait, NULL when it was removed since. */
ev_slot *host_pollset_ready(const pollset *ps, int i);

/* Closes the set. */
void host_pollset_close(pollset *ps);

#endif
