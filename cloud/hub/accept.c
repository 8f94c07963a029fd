/*
 * Acceptance of one received MQTT message. Pure: no I/O, no state, so the
 * ingest thread and the unit tests call the same thing. The order of the
 * checks is the order of trust: the topic (the broker's ACL vouches for the
 * dealer in it), then the payload's shape, then the payload against the topic.
 */
#include "accept.h"

#include <stdio.h>
#include <string.h>

static const char *const reject_names[HUB_REJECT__COUNT] = {
    [HUB_REJECT_NONE] = "none",
    [HUB_REJECT_TOPIC] = "topic",
    [HUB_REJECT_JSON] = "json",
    [HUB_REJECT_VERSION] = "version",
    [HUB_REJECT_SCHEMA] = "schema",
    [HUB_REJECT_DEALER_MISMATCH] = "dealer_mismatch",
    [HUB_REJECT_TYPE_MISMATCH] = "type_mismatch",
    [HUB_REJECT_INTERNAL] = "internal",
};

const char *hub_reject_name(enum hub_reject r)
{
    return (unsigned)r < HUB_REJECT__COUNT ? reject_names[r] : "unknown";
}

/* The type a gateway sends on this leaf, or DEPOT_MSG__COUNT. */
static depot_msg_type type_of_leaf(const char *leaf)
{
    static const depot_msg_type uplink[] = {
        DEPOT_MSG_STOCK, DEPOT_MSG_EVENT,     DEPOT_MSG_SNAPSHOT, DEPOT_MSG_STATE,
        DEPOT_MSG_ORDER, DEPOT_MSG_MOVEMENTS, DEPOT_MSG_OUTBOX,   DEPOT_MSG_SIGNATURE};
    for (size_t i = 0; i < sizeof(uplink) / sizeof(uplink[0]); i++)
        if (strcmp(leaf, depot_msg_topic_leaf(uplink[i])) == 0)
            return uplink[i];
    return DEPOT_MSG__COUNT;
}

static enum hub_reject reject_of(depot_err err)
{
    switch (err) {
    case DEPOT_ERR_PARSE:
        return HUB_REJECT_JSON;
    case DEPOT_ERR_VERSION:
        return HUB_REJECT_VERSION;
    case DEPOT_ERR_SCHEMA:
        return HUB_REJECT_SCHEMA;
    default:
        return HUB_REJECT_INTERNAL;
    }
}

enum hub_reject hub_accept(const char *topic, const void *payload, size_t len, depot_msg *m,
                           char *detail, size_t detail_len)
{
    char dealer[DEPOT_DEALER_MAX + 1];
    const char *leaf;
    depot_msg_type want;
    depot_err err;

    if (!topic || depot_topic_parse(topic, dealer, &leaf) != DEPOT_OK ||
        (want = type_of_leaf(leaf)) == DEPOT_MSG__COUNT) {
        snprintf(detail, detail_len, "not an uplink topic");
        return HUB_REJECT_TOPIC;
    }
    err = depot_msg_decode(payload ? payload : "", payload ? len : 0, m, detail, detail_len);
    if (err != DEPOT_OK)
        return reject_of(err);
    if (strcmp(m->dealer, dealer) != 0) {
        snprintf(detail, detail_len, "payload dealer \"%s\" on the topic of \"%s\"", m->dealer,
                 dealer);
        depot_msg_clear(m);
        return HUB_REJECT_DEALER_MISMATCH;
    }
    if (m->type != want) {
        snprintf(detail, detail_len, "type \"%s\" on %s", depot_msg_type_name(m->type), leaf);
        depot_msg_clear(m);
        return HUB_REJECT_TYPE_MISMATCH;
    }
    return HUB_REJECT_NONE;
}

/* A stream leaf, or an up/ leaf this hub does not know (a newer gateway's stream). */
static bool stream_leaf(const char *leaf)
{
    depot_msg_type t = type_of_leaf(leaf);
    if (t != DEPOT_MSG__COUNT)
        return depot_msg_is_stream(t);
    return strncmp(leaf, "up/", 3) == 0;
}

bool hub_accept_skippable(const char *topic, const void *payload, size_t len, enum hub_reject r,
                          depot_msg *m)
{
    char dealer[DEPOT_DEALER_MAX + 1];
    const char *leaf;

    if (r != HUB_REJECT_SCHEMA && r != HUB_REJECT_TYPE_MISMATCH && r != HUB_REJECT_TOPIC)
        return false;
    if (!topic || !payload || depot_topic_parse(topic, dealer, &leaf) != DEPOT_OK ||
        !stream_leaf(leaf))
        return false;
    if (depot_msg_peek_envelope(payload, len, m) != DEPOT_OK || strcmp(m->dealer, dealer) != 0)
        return false;
    m->v = DEPOT_MSG_VERSION;
    m->type = DEPOT_MSG_EVENT; /* an event without effect: only its id is recorded */
    snprintf(m->body.event.node, sizeof(m->body.event.node), "hub");
    snprintf(m->body.event.event, sizeof(m->body.event.event), "skipped");
    snprintf(m->body.event.reason, sizeof(m->body.event.reason), "%s", hub_reject_name(r));
    return true;
}
