/*
 * depot-hub configuration: one INI file read through depot/ini.h. Every
 * option is declared once in config.c, a row of its section's table (name,
 * type, bounds, default) run by depot/ini.h's option-table engine;
 * cloud/README.md documents them.
 */
#ifndef HUB_CONFIG_H
#define HUB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "depot/error.h"
#include "depot/id.h"
#include "depot/log.h"
#include "ranking/engine.h"

#define HUB_TOKENS_MAX 64
#define HUB_STR_MAX 256
#define HUB_STAGES_MAX 8      /* approval stages */
#define HUB_STAGE_NAME_MAX 32 /* = DEPOT_STAGE_MAX: [a-z0-9_-] */

enum hub_role { HUB_ROLE_NONE, HUB_ROLE_VIEWER, HUB_ROLE_APPROVER, HUB_ROLE_ADMIN };

struct hub_token {
    char name[64];
    enum hub_role role;
    char token[HUB_STR_MAX];
    /* approver: the stages it may act for (none listed: every stage); admin: any */
    size_t n_stages;
    char stages[HUB_STAGES_MAX][HUB_STAGE_NAME_MAX + 1];
    /* a dealer's user or token: the one dealer it sees and acts for (role viewer), checked on
     * every route (api/routes.c); "" for the manufacturer's people */
    char dealer[DEPOT_DEALER_MAX + 1];
};

struct hub_config {
    /* [hub] */
    char db[HUB_STR_MAX];
    enum depot_log_level log_level;
    long offline_after_s;
    char instance[128];
    char order_ca[HUB_STR_MAX];  /* [hub] ca: CA of order certificates (the device CA); default
                                    devices-ca.crt beside [mqtt] ca */
    char order_crl[HUB_STR_MAX]; /* [hub] crl: its revocation list; default devices.crl beside
                                    [hub] ca; "" (none) when set to none */
    char files_dir[HUB_STR_MAX]; /* [hub] files: photos and documents, named by SHA-256;
                                    default depot-hub-files beside a SQLite database */
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
    char http_dashboard[HUB_STR_MAX]; /* "": <exe dir>/../share/depot/dashboard */
    long http_max_connections;        /* open at once, all addresses */
    long http_max_per_ip;             /* open at once from one address */
    long http_idle_timeout_s;         /* a connection that sends nothing this long is closed */
    /* [approval] */
    size_t n_stages;
    char stages[HUB_STAGES_MAX][HUB_STAGE_NAME_MAX + 1];
    long stage_deadline_s;  /* a pending order waiting longer at one stage is escalated */
    long decision_resend_s; /* an unconfirmed decision is published again after this */
    /* [alerts] (hub_alerts.c) */
    long alert_velocity_days;       /* sales velocity = units picked per day over this many days */
    long alert_target_cover_days;   /* replenishment brings days of cover back to this */
    double alert_spike_factor;      /* today's picks above factor x the trailing daily average */
    long alert_spike_trailing_days; /* days before today that make the trailing average */
    long alert_spike_min_units;     /* ... and at least this many picks today */
    long alert_shrinkage_window_s;  /* a scale decrease matches a pick within +- this */
    long alert_shrinkage_grace_s;   /* ... judged this long after the window (late batches) */
    long alert_contract_days;       /* contract ending within this many days */
    long alert_outbox_percent;      /* outbox_filling from this % of a gateway's outbox bound */
    long alert_eval_period_s;       /* periodic evaluation (offline, contracts, shrinkage) */
    long alert_history_days;        /* stock points kept this many days */
    long alert_resolved_days;       /* resolved alerts kept this many days */
    /* [ranking] weights, tiers (offline_after_ms from [hub] offline_after_s) */
    struct hub_rank_params ranking;
    long rank_publish_period_s; /* a dealer's down/ranking at most this often */
    /* [auth] accounts, sessions and logins (accounts.c) */
    long auth_session_ttl_s;    /* a login's session lasts this long */
    long auth_pwhash_ops;       /* Argon2id passes (crypto_pwhash opslimit) */
    long auth_pwhash_mem_kib;   /* Argon2id memory per hash, KiB */
    long auth_parallel_logins;  /* password hashes computed at once (each takes the memory) */
    long auth_fail_per_account; /* failed logins of one account per window before refusing */
    long auth_fail_per_address; /* failed logins from one address per window */
    long auth_fail_window_s;    /* the window of both */
    /* [tasks] */
    long task_photo_max_kib; /* a confirmation's photo at most this large */
    /* [training] */
    long training_file_max_mib;          /* a training document or video at most this large */
    char training_link_key[HUB_STR_MAX]; /* signs media links; "": a random key per process */
    /* [statements] */
    long statements_close_after_days; /* the last month closed this many days into the next;
                                         -1: only by hand (POST /api/v1/statements/close) */
    /* [webhooks] (webhooks.c) */
    long webhooks_poll_ms;           /* the worker looks for due deliveries this often */
    long webhooks_connect_timeout_s; /* a receiver's connection is given up after this */
    long webhooks_timeout_s;         /* a whole attempt is given up after this */
    long webhooks_backoff_base_ms;   /* the wait after a delivery's first failed attempt */
    long webhooks_backoff_cap_s;     /* the longest wait between two attempts */
    double webhooks_dead_after_h;    /* a delivery still failing this long after it was made:
                                        dead */
    long webhooks_stock_period_s;    /* stock.changed: one event per dealer per period (0: none) */
    long webhooks_keep_days;         /* delivered deliveries are deleted this long after */
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

/* Index of stage in cfg->stages, or -1. */
int hub_config_stage_index(const struct hub_config *cfg, const char *stage);

/* True if token t may approve or reject at stage: admin always, an approver
 * when it lists the stage or lists none. */
bool hub_token_may_act(const struct hub_token *t, const char *stage);

#endif
