/*
 * API: what the hub says about itself and about the caller.
 *
 *   GET /metrics       open    Prometheus text (metrics.c)
 *   GET /healthz       open    {"status": "ok", "mqtt": "subscribed"|"connected"|"disconnected"}
 *   GET /api/v1/me     viewer  the token's name, role and the approval stages it may act at
 */
#include <stdio.h>

#include "api/http.h"
#include "api/routes.h"

enum MHD_Result api_metrics_get(hub_api *api, const struct api_request *r)
{
    struct api_body b = {0};
    if (hub_metrics_render(api->metrics, &b.p, &b.len) != DEPOT_OK)
        return MHD_NO;
    b.cap = b.len + 1;
    return api_send_body(api, r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &b);
}

enum MHD_Result api_healthz_get(hub_api *api, const struct api_request *r)
{
    struct api_body b = {0};
    static const char *const names[] = {"disconnected", "connected", "subscribed"};
    const char *mqtt = api->health ? names[api->health(api->health_ctx)] : "unknown";
    api_body_printf(&b, "{\"status\":\"ok\",\"mqtt\":\"%s\"}\n", mqtt);
    return api_send_body(api, r, MHD_HTTP_OK, "application/json", &b);
}

/* ---- GET /api/v1/me ---- */

/*
 * {"name", "role", "dealer", "stages", "approval_stages"}: dealer is the one
 * dealer of a dealer's user (role "dealer"), else null; stages are the ones the
 * token may act at (hub_token_may_act: an admin and an approver listing
 * none act at every stage; a viewer at none); approval_stages is the
 * configured order of stages.
 */
enum MHD_Result api_me_get(hub_api *api, const struct api_request *r)
{
    const struct hub_config *cfg = api->cfg;
    cJSON *j = cJSON_CreateObject(), *stages, *all;

    cJSON_AddStringToObject(j, "name", r->who->name);
    cJSON_AddStringToObject(j, "role", *r->who->dealer ? "dealer" : hub_role_name(r->who->role));
    cJSON_AddItemToObject(
        j, "dealer", *r->who->dealer ? cJSON_CreateString(r->who->dealer) : cJSON_CreateNull());
    stages = cJSON_AddArrayToObject(j, "stages");
    all = cJSON_AddArrayToObject(j, "approval_stages");
    for (size_t i = 0; i < cfg->n_stages; i++) {
        cJSON_AddItemToArray(all, cJSON_CreateString(cfg->stages[i]));
        if (hub_token_may_act(r->who, cfg->stages[i]))
            cJSON_AddItemToArray(stages, cJSON_CreateString(cfg->stages[i]));
    }
    return api_send_json(api, r, MHD_HTTP_OK, j);
}
