/*
 * What the hub accepts from the broker: a Depot topic, a payload the codec
 * decodes, the payload's dealer equal to the topic's, the type matching the
 * topic leaf, and a type a gateway sends. Anything else is rejected with a
 * category (counted in /metrics and the rejects table) and a detail (logged).
 */
#ifndef HUB_ACCEPT_H
#define HUB_ACCEPT_H

#include <stdbool.h>
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

/*
 * After hub_accept refused a message with r: true if it is a stream message
 * refused for good (schema, type mismatch, an up/ leaf this hub does not
 * know; never a transient or an identity failure) whose envelope still
 * identifies it (depot_msg_peek_envelope, its dealer equal to the topic's).
 * Then *m is that envelope as an event "skipped" without effect (it owns
 * nothing), for the store to record its id as applied: the stream's
 * cumulative ack moves past it instead of stopping there for good.
 */
bool hub_accept_skippable(const char *topic, const void *payload, size_t len, enum hub_reject r,
                          depot_msg *m);

#endif
