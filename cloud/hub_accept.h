/*
 * What the hub accepts from the broker: a Depot topic, a payload the codec
 * decodes, the payload's dealer equal to the topic's, the type matching the
 * topic leaf, and a type a gateway sends. Anything else is rejected with a
 * category (counted in /metrics and the rejects table) and a detail (logged).
 */
#ifndef HUB_ACCEPT_H
#define HUB_ACCEPT_H

#include <stddef.h>

#include "depot/msg.h"

enum hub_reject {
    HUB_REJECT_NONE,
    HUB_REJECT_TOPIC,           /* not depot/v1/<dealer>/<uplink leaf> */
    HUB_REJECT_JSON,            /* not well-formed JSON */
    HUB_REJECT_VERSION,         /* another schema version */
    HUB_REJECT_SCHEMA,          /* missing, unknown, mistyped or out-of-range key */
    HUB_REJECT_DEALER_MISMATCH, /* payload dealer != topic dealer */
    HUB_REJECT_TYPE_MISMATCH,   /* payload type does not belong on this topic */
    HUB_REJECT_INTERNAL,        /* out of memory while decoding */
    HUB_REJECT__COUNT
};

/* "topic", "json", "version", "schema", "dealer_mismatch", "type_mismatch", "internal". */
const char *hub_reject_name(enum hub_reject r);

/*
 * Checks and decodes one received message. HUB_REJECT_NONE: *m is filled
 * (the caller calls depot_msg_clear). Otherwise *m holds nothing and detail
 * says what was wrong.
 */
enum hub_reject hub_accept(const char *topic, const void *payload, size_t len, depot_msg *m,
                           char *detail, size_t detail_len);

#endif
