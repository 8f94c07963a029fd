/*
 * The hung-link watchdog of the gateway's and the hub's broker links
 * (common/link_watch.c): a dead path with the socket still open sends no
 * reply and no close, and libmosquitto notices only after 1.5 to 2 x
 * keepalive. Every packet from the broker counts as heard; after a quarter
 * keepalive of silence the client sends a probe (an UNSUBSCRIBE of a filter it
 * never subscribed, which the broker answers and which changes nothing); no
 * answer within a keepalive after it and the link is hung: found within
 * 1.25 x keepalive. Time only, no I/O: the caller sends the probe.
 */
#ifndef DEPOT_LINK_WATCH_H
#define DEPOT_LINK_WATCH_H

struct depot_link_watch {
    long long heard_ms; /* the last packet from the broker (monotonic ms) */
    long long probe_ms; /* when the probe went out; 0: none waits */
};

enum depot_link_step {
    DEPOT_LINK_QUIET, /* nothing to do */
    DEPOT_LINK_PROBE, /* send the probe now (recorded as sent) */
    DEPOT_LINK_HUNG,  /* no answer to the probe: drop the link */
};

/* A packet from the broker (or a new connection) at now_ms. */
void depot_link_watch_heard(struct depot_link_watch *w, long long now_ms);
/* What the link needs at now_ms, keepalive_ms being its MQTT keep-alive. */
enum depot_link_step depot_link_watch_step(struct depot_link_watch *w, long long now_ms,
                                           long long keepalive_ms);
/* When the watch next has something to do (a probe or a verdict), monotonic ms. */
long long depot_link_watch_due(const struct depot_link_watch *w, long long keepalive_ms);

#endif
