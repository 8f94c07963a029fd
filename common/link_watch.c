/*
 * The hung-link watchdog's timing (see include/depot/link_watch.h).
 */
#include "depot/link_watch.h"

void depot_link_watch_heard(struct depot_link_watch *w, long long now_ms)
{
    w->heard_ms = now_ms;
    w->probe_ms = 0;
}

enum depot_link_step depot_link_watch_step(struct depot_link_watch *w, long long now_ms,
                                           long long keepalive_ms)
{
    if (w->probe_ms)
        return now_ms - w->probe_ms >= keepalive_ms ? DEPOT_LINK_HUNG : DEPOT_LINK_QUIET;
    if (now_ms - w->heard_ms >= keepalive_ms / 4) {
        w->probe_ms = now_ms ? now_ms : 1; /* 0 means none waits */
        return DEPOT_LINK_PROBE;
    }
    return DEPOT_LINK_QUIET;
}

long long depot_link_watch_due(const struct depot_link_watch *w, long long keepalive_ms)
{
    return w->probe_ms ? w->probe_ms + keepalive_ms : w->heard_ms + keepalive_ms / 4;
}
