/*
 * The hub's HTTP API (libmicrohttpd, internal thread pool), JSON bodies.
 * Endpoints, auth and fields are listed in cloud/README.md.
 */
#ifndef HUB_API_H
#define HUB_API_H

#include <stdbool.h>

#include "config.h"
#include "metrics.h"

typedef struct hub_api hub_api;

enum hub_link { HUB_LINK_DOWN, HUB_LINK_CONNECTED, HUB_LINK_SUBSCRIBED };

/* The state of the broker link, for /healthz (may be NULL: reported as unknown). */
typedef enum hub_link (*hub_health_fn)(const void *ctx);

/*
 * Opens [http] threads reader connections to cfg->db and finds the
 * dashboard's files; nothing listens yet. cfg and metrics must outlive the
 * API. DEPOT_ERR_DB, DEPOT_ERR_NOMEM, DEPOT_ERR_CONFIG.
 */
depot_err hub_api_new(const struct hub_config *cfg, hub_metrics *metrics, hub_health_fn health,
                      const void *health_ctx, hub_api **out);

/* Starts serving on [http] listen. DEPOT_ERR_CONFIG (not an IPv4 address), DEPOT_ERR_IO. */
depot_err hub_api_listen(hub_api *api);

typedef struct hub_ranking hub_ranking;

/* Serves the ranking endpoints from ranking (api/ranking.c) and feeds it the payments and
 * approvals the API records; ranking must outlive the API. */
void hub_api_set_ranking(hub_api *api, hub_ranking *ranking);

/* Stops serving (waits for requests in progress) and frees. NULL is a no-op. */
void hub_api_free(hub_api *api);

#endif
