/* Bearer-token authentication of the hub's HTTP API against [tokens]. */
#ifndef HUB_AUTH_H
#define HUB_AUTH_H

#include "config.h"

/*
 * Checks an Authorization header value ("Bearer <token>", may be NULL)
 * against the configured tokens. Returns DEPOT_OK if the token's role is at
 * least `need` (and sets *name to the token's name if name is not NULL),
 * DEPOT_ERR_AUTH if the header is missing, malformed or the token unknown,
 * DEPOT_ERR_FORBIDDEN if the role is too low.
 */
depot_err hub_auth_check(const struct hub_config *cfg, const char *header, enum hub_role need,
                         const char **name);

/* Like hub_auth_check, giving the matched token (its role and stages) in *tok. */
depot_err hub_auth_token(const struct hub_config *cfg, const char *header, enum hub_role need,
                         const struct hub_token **tok);

#endif
