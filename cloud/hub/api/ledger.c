/*
 * GET /api/v1/ledger/verify?dealer=D&from=T1&to=T2 (viewer; a dealer's user
 * its own dealer): re-verifies the period's movements from the hub's
 * records (ledger.h: hub_ledger_verify) and names every break. from and to
 * take a date (to: through that day), an ISO time or ms (api_time_arg);
 * without them, everything the hub holds. 200 with the report whether or
 * not it is ok; its "ok" says (`depotctl ledger verify` exits 1 if not).
 */
#include <string.h>

#include "api/routes.h"
#include "depot/clock.h"
#include "depot/id.h"
#include "ledger.h"

enum MHD_Result api_ledger_verify(hub_api *api, const struct api_request *r)
{
    const char *dealer = api_query(r, "dealer"), *from_s = api_query_raw(r, "from"),
               *to_s = api_query_raw(r, "to");
    long long from = 0, to = depot_now_ms() + 1;
    hub_store *s;
    cJSON *out = NULL;
    depot_err err;
    if (!dealer || !depot_dealer_id_valid(dealer))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer: a dealer id is needed");
    if (from_s && !api_time_arg(from_s, false, &from))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "from: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or ms");
    if (to_s && !api_time_arg(to_s, true, &to))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "to: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or ms");
    if (to <= from)
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "to must come after from");
    s = api_reader_take(api);
    err = hub_ledger_verify(s, api->cfg->order_ca, dealer, from, to, &out);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "");
    return api_send_json(api, r, MHD_HTTP_OK, out);
}
