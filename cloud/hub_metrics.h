/*
 * The hub's counters for /metrics (Prometheus text format). Counters are
 * atomic: the ingest thread and the HTTP threads bump them without a lock.
 */
#ifndef HUB_METRICS_H
#define HUB_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "depot/error.h"
#include "hub_accept.h"

enum hub_counter {
    HUB_C_RECEIVED,   /* messages received from the broker */
    HUB_C_APPLIED,    /* stream messages applied for the first time */
    HUB_C_DUPLICATES, /* stream messages seen before */
    HUB_C_STALE,      /* stream messages recorded but older than the stored value */
    HUB_C_SNAPSHOTS,  /* snapshots applied */
    HUB_C_STATES,     /* state messages applied */
    HUB_C_ACKS_SENT,  /* down/ack published */
    HUB_C_DROPPED,    /* accepted but dropped (queue full or database failure); resent later */
    HUB_C_BATCHES,    /* ingest transactions committed */
    HUB_C_DB_ERRORS,  /* failed ingest transactions */
    HUB_C_MQTT_CONNECTS,
    HUB_C_API_REQUESTS,
    HUB_C_API_ERRORS, /* responses with status >= 400 */
    HUB_C__COUNT
};

typedef struct hub_metrics hub_metrics;

hub_metrics *hub_metrics_new(void);
void hub_metrics_free(hub_metrics *m);
void hub_metrics_add(hub_metrics *m, enum hub_counter c, unsigned long long n);
void hub_metrics_reject(hub_metrics *m, enum hub_reject r);
unsigned long long hub_metrics_get(const hub_metrics *m, enum hub_counter c);
unsigned long long hub_metrics_rejected(const hub_metrics *m, enum hub_reject r);

/*
 * Renders every counter as Prometheus text. On DEPOT_OK *out is allocated
 * with depot_malloc, NUL-terminated, *len its length. DEPOT_ERR_NOMEM.
 */
depot_err hub_metrics_render(const hub_metrics *m, char **out, size_t *len);

#endif
