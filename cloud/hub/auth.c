/*
 * Token check for the HTTP API. Roles are ordered viewer < approver < admin;
 * a request names the lowest role it needs. Tokens are compared in constant
 * time over the configured token's length so that the time taken does not
 * tell how much of a guess was right.
 */
#include "auth.h"

#include <string.h>
#include <strings.h>

static int token_equal(const char *configured, const char *given)
{
    size_t n = strlen(configured), m = strlen(given);
    unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(configured[i] ^ (i < m ? given[i] : 0));
    return diff == 0;
}

depot_err hub_auth_check(const struct hub_config *cfg, const char *header, enum hub_role need,
                         const char **name)
{
    const struct hub_token *t = NULL;
    depot_err err = hub_auth_token(cfg, header, need, &t);
    if (name && t)
        *name = t->name;
    return err;
}

depot_err hub_auth_token(const struct hub_config *cfg, const char *header, enum hub_role need,
                         const struct hub_token **tok)
{
    const char *token;
    const struct hub_token *found = NULL;

    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return DEPOT_ERR_AUTH;
    token = header + 7;
    while (*token == ' ')
        token++;
    if (!*token)
        return DEPOT_ERR_AUTH;
    for (size_t i = 0; i < cfg->n_tokens; i++)
        if (token_equal(cfg->tokens[i].token, token))
            found = &cfg->tokens[i];
    if (!found)
        return DEPOT_ERR_AUTH;
    *tok = found;
    return found->role >= need ? DEPOT_OK : DEPOT_ERR_FORBIDDEN;
}
