/*
 * The hub's counters for /metrics (Prometheus text format). Counters are
 * atomic: the ingest thread and the HTTP threads bump them without a lock.
 */
#ifndef HUB_METRICS_H
#define HUB_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "depot/error.h"
#include "accept.h"

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
    HUB_C_MQTT_CONNECT_FAILURES, /* attempts that never got an accepting CONNACK */
    HUB_C_API_REQUESTS,
    HUB_C_API_ERRORS,             /* responses with status >= 400 */
    HUB_C_API_LOGIN_FAILED,       /* logins refused: unknown user, wrong password, disabled */
    HUB_C_API_LOGIN_LIMITED,      /* logins refused before hashing: too many failures */
    HUB_C_ORDERS_RECEIVED,        /* up/order messages applied (first time) */
    HUB_C_ORDERS_AUTO_APPROVED,   /* approved at once by the auto-approval rules */
    HUB_C_ORDERS_APPROVED,        /* approved, by "auto" or at the last stage */
    HUB_C_ORDERS_PENDING,         /* routed to the approval stages */
    HUB_C_ORDERS_REPLAYS,         /* an order id seen before, in a new message: ignored */
    HUB_C_ORDERS_ESCALATED,       /* pending past the stage deadline */
    HUB_C_DECISIONS_SENT,         /* down/decision published (first sends and repeats) */
    HUB_C_DECISIONS_DELIVERED,    /* decisions the gateway confirmed */
    HUB_C_CATALOGS_SENT,          /* down/catalog published */
    HUB_C_ALERTS_RAISED,          /* alerts opened (alerts/) */
    HUB_C_ALERTS_RESOLVED,        /* alerts resolved, automatically or by hand */
    HUB_C_ALERTS_PUBLISHED,       /* alert changes published (to the dealer and depot/alerts/v1) */
    HUB_C_MOVEMENTS_DEFERRED,     /* movements batches left for the gateway to resend in order */
    HUB_C_CONTRACTS_SIGNED,       /* contracts signed by their dealer's gateway (contracts.h) */
    HUB_C_SIGNATURES_REFUSED,     /* contract signatures refused (forged, or not the contract's) */
    HUB_C_TRAINING_FILES_STORED,  /* training files uploaded and stored */
    HUB_C_TRAINING_FILES_REFUSED, /* training uploads refused: too large, unknown type, disk */
    HUB_C_STATEMENTS_FROZEN,      /* rebate statements frozen at a period's close (statements.h) */
    HUB_C_STATEMENTS_REFUSED,     /* closes, disputes and answers of statements refused */
    HUB_C_WEBHOOKS_DELIVERED,     /* webhook deliveries answered 2xx (webhooks.h) */
    HUB_C_WEBHOOKS_FAILED,        /* webhook attempts that failed (retried later or dead) */
    HUB_C_WEBHOOKS_DEAD,          /* webhook deliveries given up: the dead-letter list */
    HUB_C_CODES_SCANNED,          /* item codes received or picked at a terminal (diversion.h) */
    HUB_C_CODES_DIVERTED,         /* ... that had been shipped to another dealer */
    HUB_C_CODES_UNKNOWN,          /* ... that no shipment registered */
    HUB_C_CODES_PICKED_TWICE,     /* ... picked out again after a pick (anywhere) */
    HUB_C__COUNT
};

/* Why an order, or an order message, was rejected (a label of /metrics). */
enum hub_order_reason {
    HUB_OR_BAD_CERT,        /* certificate not issued by the CA, or not valid now */
    HUB_OR_WRONG_DEALER,    /* certificate CN or document dealer is not the topic's dealer */
    HUB_OR_BAD_SIGNATURE,   /* signature does not verify over doc */
    HUB_OR_BAD_DOCUMENT,    /* doc does not decode */
    HUB_OR_UNKNOWN_BARCODE, /* a line's barcode is not in the catalog */
    HUB_OR_QTY_RANGE,       /* a line's qty outside the SKU's min_qty..max_qty */
    HUB_OR_OVER_CREDIT,     /* exposure + value over the credit limit */
    HUB_OR_APPROVER,        /* rejected by an approver */
    HUB_OR_WRONG_ORDER_ID,  /* order id not "<ledger>-<number>" of the sender's own stream */
    HUB_OR__COUNT
};

/* "bad_certificate", "wrong_dealer", ... */
const char *hub_order_reason_name(enum hub_order_reason r);

typedef struct hub_metrics hub_metrics;

/* Every counter at 0. DEPOT_ERR_NOMEM. */
depot_err hub_metrics_new(hub_metrics **out);
void hub_metrics_free(hub_metrics *m);
void hub_metrics_add(hub_metrics *m, enum hub_counter c, unsigned long long n);
void hub_metrics_reject(hub_metrics *m, enum hub_reject r);
unsigned long long hub_metrics_get(const hub_metrics *m, enum hub_counter c);
unsigned long long hub_metrics_rejected(const hub_metrics *m, enum hub_reject r);
/* A rejected stream message recorded as applied-but-skipped (ingest.c), by reject reason. */
void hub_metrics_skip(hub_metrics *m, enum hub_reject r);
unsigned long long hub_metrics_skipped(const hub_metrics *m, enum hub_reject r);
void hub_metrics_order_rejected(hub_metrics *m, enum hub_order_reason r);

/* Why a movements batch was recorded but not applied (a label of /metrics). */
enum hub_movement_refusal {
    HUB_MR_STOCK_MISMATCH, /* a movement does not start from the stock its SKU stood at */
    HUB_MR_FORGED,         /* its chain's hashes or its signature are wrong (store/ledger.h) */
    HUB_MR_UNCHAINED,      /* no chain after chained batches of its ledger */
    HUB_MR__COUNT
};
void hub_metrics_movements_refused(hub_metrics *m, enum hub_movement_refusal r);
unsigned long long hub_metrics_movements_refused_get(const hub_metrics *m,
                                                     enum hub_movement_refusal r);
/* The chain step of an applied movements batch (enum hub_chain_out of store/ledger.h, 1..7),
 * a label of /metrics. */
#define HUB_CHAIN_OUTCOMES 8
void hub_metrics_chain(hub_metrics *m, int out);
unsigned long long hub_metrics_chain_get(const hub_metrics *m, int out);
unsigned long long hub_metrics_orders_rejected(const hub_metrics *m, enum hub_order_reason r);
/* One approval's latency (order created at the terminal -> approved), auto or by the stages. */
void hub_metrics_approval_latency(hub_metrics *m, bool automatic, long long ms);

/* Endpoint classes of the API latency histogram (each route of api/routes.c names one). */
enum hub_api_class {
    HUB_API_STOCK,
    HUB_API_HISTORY,
    HUB_API_DEALERS,
    HUB_API_STREAMS,
    HUB_API_ORDERS,
    HUB_API_PAYMENTS,
    HUB_API_CATALOG,
    HUB_API_ALERTS,
    HUB_API_RANKING,
    HUB_API_OTHER,     /* any other /api/v1/ path */
    HUB_API_METRICS,   /* /metrics */
    HUB_API_HEALTHZ,   /* /healthz */
    HUB_API_DASHBOARD, /* everything else: the dashboard's files, 404s */
    HUB_API__COUNT
};

/* One request of class c took us microseconds (handler start to response queued). */
void hub_metrics_api_latency(hub_metrics *m, enum hub_api_class c, long long us);
/* A message of type t (enum depot_msg_type) was applied for the first time. */
void hub_metrics_applied_type(hub_metrics *m, int type);
unsigned long long hub_metrics_applied_of_type(const hub_metrics *m, int type);

/* Live (open or acknowledged) alerts of one kind (enum hub_alert_kind), a gauge shown with
 * label (a string that outlives m) once it was set. */
#define HUB_METRICS_ALERT_KINDS 12
void hub_metrics_alerts_open(hub_metrics *m, int kind, const char *label, long long n);

/*
 * Renders every counter as Prometheus text. On DEPOT_OK *out is allocated
 * with depot_malloc, NUL-terminated, *len its length. DEPOT_ERR_NOMEM.
 */
depot_err hub_metrics_render(const hub_metrics *m, char **out, size_t *len);

#endif
