/*
 * depot-hub configuration: one INI file read with inih. Every option is
 * declared once in hub_config.c's table (section, name, type, bounds,
 * default); cloud/README.md documents them.
 */
#ifndef HUB_CONFIG_H
#define HUB_CONFIG_H

#include <stddef.h>

#include "depot/error.h"
#include "depot/log.h"

#define HUB_TOKENS_MAX 64
#define HUB_STR_MAX 256

enum hub_role { HUB_ROLE_NONE, HUB_ROLE_VIEWER, HUB_ROLE_APPROVER, HUB_ROLE_ADMIN };

struct hub_token {
    char name[64];
    enum hub_role role;
    char token[HUB_STR_MAX];
};

struct hub_config {
    /* [hub] */
    char db[HUB_STR_MAX];
    enum depot_log_level log_level;
    long offline_after_s;
    char instance[128];
    /* [mqtt] */
    char mqtt_host[HUB_STR_MAX];
    long mqtt_port;
    char mqtt_ca[HUB_STR_MAX];
    char mqtt_cert[HUB_STR_MAX];
    char mqtt_key[HUB_STR_MAX];
    char mqtt_client_id[HUB_STR_MAX];
    long mqtt_keepalive_s;
    /* [http] */
    char http_addr[64]; /* dotted IPv4 */
    long http_port;
    long http_threads;
    /* [tokens] */
    size_t n_tokens;
    struct hub_token tokens[HUB_TOKENS_MAX];
};

/* Fills cfg with every default (instance = hostname-pid). */
void hub_config_defaults(struct hub_config *cfg);

/*
 * Reads path over the defaults. On an error returns DEPOT_ERR_CONFIG (or
 * DEPOT_ERR_IO if the file cannot be opened) and writes "file:line: what is
 * wrong" into err.
 */
depot_err hub_config_load(struct hub_config *cfg, const char *path, char *err, size_t err_len);

/* "viewer" -> HUB_ROLE_VIEWER ...; HUB_ROLE_NONE for anything else. */
enum hub_role hub_role_from_name(const char *name);
const char *hub_role_name(enum hub_role role);

#endif
