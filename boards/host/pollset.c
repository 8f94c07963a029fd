/*
 * The host board's poll() set (pollset.h): two arrays grown together, the
 * pollfds handed to poll() and the slot saying whose each one is. A leaf:
 * the loop in main.c and the servers that add their descriptors call it; it
 * calls none of them.
 */
#include "pollset.h"

#include <stdlib.h>

int host_pollset_add(pollset *ps, int fd, ev_kind kind, void *obj)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 64;
        struct pollfd *fds = realloc(ps->fds, cap * sizeof(*fds));
        if (fds == NULL)
            return -1;
        ps->fds = fds;
        ev_slot *slots = realloc(ps->slots, cap * sizeof(*slots));
        if (slots == NULL)
            return -1;
        ps->slots = slots;
        ps->cap = cap;
    }
    ps->fds[ps->n] = (struct pollfd){.fd = fd, .events = POLLIN};
    ps->slots[ps->n++] = (ev_slot){.kind = kind, .obj = obj};
    return 0;
}

void host_pollset_clear(pollset *ps)
{
    ps->n = 0;
}

int host_pollset_wait(pollset *ps, int timeout_ms)
{
    return poll(ps->fds, ps->n, timeout_ms);
}

void host_pollset_free(pollset *ps)
{
    free(ps->fds);
    free(ps->slots);
    *ps = (pollset){0};
}
