/*
 * depot-hub -c FILE
 *
 * Wires the modules: config -> writer store -> ingest (worker thread) ->
 * broker link (network thread) -> HTTP API (thread pool). The main thread
 * then only waits for SIGTERM/SIGINT and tears down in the reverse order:
 * stop the broker link (no new messages), stop the API, drain the ingest
 * (applies what was received; its acks can no longer go out, which is safe:
 * the gateway resends and the hub dedupes), then free everything.
 *
 * Exit codes: 0 stopped by a signal, 1 runtime failure at start, 2 usage or
 * configuration error.
 */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "depot/log.h"
#include "alerts/alerts.h"
#include "api/api.h"
#include "config.h"
#include "contracts.h"
#include "statements.h"
#include "ingest.h"
#include "metrics.h"
#include "mqtt.h"
#include "orders.h"
#include "ranking/service.h"
#include "store/store.h"
#include "webhooks.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int usage(FILE *out)
{
    fprintf(out, "usage: depot-hub -c FILE\n"
                 "       depot-hub --help\n"
                 "The central Depot service: MQTT ingest, HTTP API on [http] listen.\n"
                 "  -c, --config FILE   the INI configuration (see README.md, \"Hub "
                 "configuration\")\n"
                 "  -h, --help          this text\n");
    return out == stdout ? 0 : 2;
}

static void wait_for_signal(void)
{
    struct sigaction sa;
    sigset_t block, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    while (!stop_requested)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

struct hub {
    hub_metrics *metrics;
    hub_store *writer;
    hub_orders *orders;
    hub_contracts *contracts;
    hub_statements *statements; /* the ingest worker's: last month's close */
    hub_ranking *ranking;
    hub_alerts *alerts;
    hub_ingest *ingest;
    hub_mqtt *mqtt;
    hub_api *api;
    hub_webhooks *webhooks; /* the delivery worker, with a store of its own */
};

static enum hub_link mqtt_link(const void *ctx)
{
    if (hub_mqtt_subscribed(ctx))
        return HUB_LINK_SUBSCRIBED;
    return hub_mqtt_connected(ctx) ? HUB_LINK_CONNECTED : HUB_LINK_DOWN;
}

static depot_err hub_start(struct hub *h, const struct hub_config *cfg)
{
    depot_err err = hub_metrics_new(&h->metrics);
    if (err == DEPOT_OK)
        err = hub_store_open(cfg->db, &h->writer);
    if (err == DEPOT_OK)
        err = hub_mqtt_new(cfg, h->metrics, &h->mqtt);
    if (err == DEPOT_OK)
        err = hub_orders_new(cfg, h->metrics, &h->orders);
    if (err == DEPOT_OK)
        err = hub_ranking_new(cfg, &h->ranking);
    if (err == DEPOT_OK) /* before the ingest worker owns the writer store */
        err = hub_ranking_load(h->ranking, h->writer, depot_now_ms());
    if (err == DEPOT_OK)
        err = hub_ingest_new(h->writer, h->metrics, h->orders, hub_mqtt_publish,
                                         h->mqtt, &h->ingest);
    if (err == DEPOT_OK)
        hub_ingest_set_ranking(h->ingest, h->ranking);
    if (err == DEPOT_OK)
        err = hub_contracts_new(cfg, h->orders, h->metrics, &h->contracts);
    if (err == DEPOT_OK)
        hub_ingest_set_contracts(h->ingest, h->contracts);
    if (err == DEPOT_OK)
        err = hub_statements_new(cfg, &h->statements);
    if (err == DEPOT_OK)
        hub_ingest_set_statements(h->ingest, h->statements, cfg->statements_close_after_days);
    if (err == DEPOT_OK)
        err = hub_alerts_new(cfg, h->metrics, &h->alerts);
    if (err == DEPOT_OK)
        hub_ingest_set_alerts(h->ingest, h->alerts);
    if (err == DEPOT_OK)
        err = hub_webhooks_new(cfg, h->metrics, &h->webhooks);
    if (err == DEPOT_OK)
        err = hub_api_new(cfg, h->metrics, mqtt_link, h->mqtt, &h->api);
    if (err == DEPOT_OK)
        hub_api_set_ranking(h->api, h->ranking);
    if (err == DEPOT_OK)
        err = hub_api_listen(h->api);
    if (err == DEPOT_OK)
        err = hub_mqtt_start(h->mqtt, h->ingest);
    return err;
}

static void hub_stop(struct hub *h)
{
    if (h->mqtt)
        hub_mqtt_stop(h->mqtt);
    hub_api_free(h->api);
    hub_webhooks_free(h->webhooks);
    hub_ingest_free(h->ingest);
    hub_orders_free(h->orders);
    hub_contracts_free(h->contracts);
    hub_statements_free(h->statements);
    hub_ranking_free(h->ranking);
    hub_alerts_free(h->alerts);
    hub_mqtt_free(h->mqtt);
    hub_store_free(h->writer);
    hub_metrics_free(h->metrics);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct hub_config cfg;
    struct hub h = {0};
    char err_text[512];
    const char *path = NULL;
    depot_err err;
    int opt;

    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (opt == 'c')
            path = optarg;
        else
            return usage(opt == 'h' ? stdout : stderr);
    }
    if (!path || optind != argc)
        return usage(stderr);
    /* Buffers of 256 KiB and more (a whole stock listing is tens of MB, built
     * in one growing buffer) get their own mapping, unmapped when freed: a
     * fixed threshold, so glibc does not raise it and keep them in the heap. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    depot_log_init("hub", DEPOT_LOG_INFO);
    hub_config_defaults(&cfg);
    if (hub_config_load(&cfg, path, err_text, sizeof(err_text)) != DEPOT_OK) {
        fprintf(stderr, "depot-hub: %s\n", err_text);
        return 2;
    }
    depot_log_init("hub", cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    err = hub_start(&h, &cfg);
    if (err == DEPOT_OK) {
        LOG_INFO("instance %s started (db %s)", cfg.instance, cfg.db);
        wait_for_signal();
        LOG_INFO("stopping");
    } else {
        LOG_ERROR("cannot start: %s", depot_strerror(err));
    }
    hub_stop(&h);
    return err == DEPOT_OK ? 0 : 1;
}
