/*
 * Depot's ids: the one rule for a dealer id (and for the names that share its
 * alphabet: SKUs, node and bus names), used by every program: the gateway's
 * config and keygen, depotctl (pki sign, every --dealer), the hub's codec and
 * API. A dealer id is a certificate CN, an MQTT username (the broker's ACL
 * puts it in topics with %u) and a topic level, so it never holds an MQTT
 * wildcard or separator (+ # /), a space or a control character.
 */
#ifndef DEPOT_ID_H
#define DEPOT_ID_H

#include <stdbool.h>
#include <stddef.h>

#define DEPOT_DEALER_MAX 32 /* characters, without the terminating NUL */
#define DEPOT_SKU_MAX 32
#define DEPOT_NODE_MAX 32

/* The rule in words, for error messages. */
#define DEPOT_ID_RULE "1..32 of A-Z a-z 0-9 _ . -"

/* True if s is 1..max characters of [A-Za-z0-9_.-]. */
bool depot_id_valid(const char *s, size_t max);

/* True if s is a valid dealer id: depot_id_valid(s, DEPOT_DEALER_MAX). */
bool depot_dealer_id_valid(const char *s);

#endif
