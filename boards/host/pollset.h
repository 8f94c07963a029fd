/*
 * The poll() set of the host board's loop: the pollfds of one round, each
 * with the object it belongs to (a listener, a connection, a control client,
 * the pty). Built afresh every round by whoever owns the descriptors; knows
 * nothing of them beyond their kind.
 */
#ifndef DEPOT_HOST_POLLSET_H
#define DEPOT_HOST_POLLSET_H

#include <poll.h>
#include <stddef.h>

/* One poll() round: which object each pollfd belongs to. */
typedef enum ev_kind { EV_TCP_LISTEN, EV_TCP_CONN, EV_CTL_LISTEN, EV_CTL_CLIENT, EV_PTY } ev_kind;
typedef struct ev_slot {
    ev_kind kind;
    void *obj;
} ev_slot;
typedef struct pollset {
    struct pollfd *fds;
    ev_slot *slots;
    size_t n, cap;
} pollset;

/* Adds fd (POLLIN) for obj of kind; 0, or -1 when out of memory (fd left out). */
int host_pollset_add(pollset *ps, int fd, ev_kind kind, void *obj);

/* Empties the set for the next round, keeping its memory. */
void host_pollset_clear(pollset *ps);

/* poll() on the set for at most timeout_ms: the number of ready fds, 0, or -1 (errno). */
int host_pollset_wait(pollset *ps, int timeout_ms);

/* Frees the set's memory; it is then empty. */
void host_pollset_free(pollset *ps);

#endif
