/*
 * depot-hub configuration.
 *
 * Every option of the sections [hub], [mqtt], [http], [approval], [ranking],
 * [alerts] and [auth] is one row of its section's table (name, type, bounds,
 * default, where it lands in struct hub_config), run by the option-table
 * engine of depot/ini.h. Options that are more than one typed value (listen,
 * approval stages, ranking weights and tiers) are DEPOT_INI_CUSTOM rows with
 * a parser here; [tokens] is free-form (NAME = ROLE:TOKEN[:STAGES]) and has a
 * handler of its own. Loading is two steps: defaults, then the file over
 * them, read through depot/ini.h (which refuses a NUL byte, a line too long
 * for the parser, a section or an option given twice, and stops at the first
 * error), so the caller sees "file:line: what is wrong". Checks that span
 * options (TLS files go together) run after parsing and name the file only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "depot/ini.h"

/* DEPOT_INI_ENUM writes an int. */
_Static_assert(sizeof(enum depot_log_level) == sizeof(int), "log_level is set as an int");

static depot_err parse_listen(void *base, const char *text, char *why, size_t why_len);
static depot_err parse_approval_stages(void *base, const char *text, char *why, size_t why_len);
static depot_err parse_weights(void *base, const char *text, char *why, size_t why_len);
static depot_err parse_tiers(void *base, const char *text, char *why, size_t why_len);

#define F(field) offsetof(struct hub_config, field)
#define STR(nm, field, d)                                                                          \
    {                                                                                              \
        .name = (nm), .type = DEPOT_INI_CHARS, .offset = F(field),                                 \
        .size = sizeof(((struct hub_config *)0)->field), .def = (d)                                \
    }
#define NUM(nm, field, lo, hi, d)                                                                  \
    {                                                                                              \
        .name = (nm), .type = DEPOT_INI_LONG, .offset = F(field), .min = (lo), .max = (hi),        \
        .def = (d)                                                                                 \
    }
#define DBL(nm, field, lo, hi, d)                                                                  \
    {                                                                                              \
        .name = (nm), .type = DEPOT_INI_DOUBLE, .offset = F(field), .min = (lo), .max = (hi),      \
        .def = (d)                                                                                 \
    }
#define CUSTOM(nm, fn, d)                                                                          \
    {                                                                                              \
        .name = (nm), .type = DEPOT_INI_CUSTOM, .parse = (fn), .def = (d)                          \
    }
#define END                                                                                        \
    {                                                                                              \
        .name = NULL                                                                               \
    }

static const struct depot_ini_enum log_levels[] = {{"debug", DEPOT_LOG_DEBUG},
                                                   {"info", DEPOT_LOG_INFO},
                                                   {"warn", DEPOT_LOG_WARN},
                                                   {"error", DEPOT_LOG_ERROR},
                                                   {NULL, 0}};

static const struct depot_ini_opt hub_opts[] = {
    STR("db", db, "depot-hub.db"),
    STR("database", db, NULL), /* the same: a file path (SQLite) or a postgresql:// URL */
    {.name = "log_level",
     .type = DEPOT_INI_ENUM,
     .offset = F(log_level),
     .def = "info",
     .flags = DEPOT_INI_NOCASE,
     .map = log_levels},
    NUM("offline_after_s", offline_after_s, 1, 86400 * 30, "120"),
    STR("instance", instance, ""),
    STR("ca", order_ca, ""),
    STR("crl", order_crl, ""),
    STR("files", files_dir, ""),
    END,
};

static const struct depot_ini_opt mqtt_opts[] = {
    STR("host", mqtt_host, "127.0.0.1"),
    NUM("port", mqtt_port, 1, 65535, "8883"),
    STR("ca", mqtt_ca, ""),
    STR("cert", mqtt_cert, ""),
    STR("key", mqtt_key, ""),
    STR("client_id", mqtt_client_id, ""),
    NUM("keepalive_s", mqtt_keepalive_s, 5, 3600, "30"),
    END,
};

static const struct depot_ini_opt http_opts[] = {
    CUSTOM("listen", parse_listen, "127.0.0.1:8080"),
    NUM("threads", http_threads, 1, 256, "4"),
    STR("dashboard", http_dashboard, ""),
    NUM("max_connections", http_max_connections, 16, 65536, "4096"),
    NUM("max_connections_per_ip", http_max_per_ip, 1, 65536, "256"),
    NUM("idle_timeout_s", http_idle_timeout_s, 1, 3600, "30"),
    END,
};

static const struct depot_ini_opt approval_opts[] = {
    CUSTOM("stages", parse_approval_stages, "sales,finance,warehouse"),
    NUM("stage_deadline_s", stage_deadline_s, 1, 86400 * 90, "3600"),
    NUM("resend_s", decision_resend_s, 1, 3600, "10"),
    END,
};

static const struct depot_ini_opt ranking_opts[] = {
    CUSTOM("weights", parse_weights, "0.35,0.25,0.15,0.15,0.10"),
    CUSTOM("tiers", parse_tiers, "0.8:3,0.6:2,0.4:1"),
    NUM("publish_period_s", rank_publish_period_s, 1, 86400, "60"),
    END,
};

static const struct depot_ini_opt alerts_opts[] = {
    NUM("velocity_days", alert_velocity_days, 1, 90, "7"),
    NUM("target_cover_days", alert_target_cover_days, 1, 365, "14"),
    DBL("spike_factor", alert_spike_factor, 1, 1000, "3.0"),
    NUM("spike_trailing_days", alert_spike_trailing_days, 1, 90, "14"),
    NUM("spike_min_units", alert_spike_min_units, 1, 1000000, "5"),
    NUM("shrinkage_window_s", alert_shrinkage_window_s, 1, 86400, "900"),
    NUM("shrinkage_grace_s", alert_shrinkage_grace_s, 0, 3600, "10"),
    NUM("contract_days", alert_contract_days, 0, 3650, "60"),
    NUM("outbox_percent", alert_outbox_percent, 1, 100, "50"),
    NUM("eval_period_s", alert_eval_period_s, 1, 3600, "5"),
    NUM("history_days", alert_history_days, 1, 3650, "90"),
    NUM("resolved_days", alert_resolved_days, 1, 3650, "365"),
    END,
};

static const struct depot_ini_opt auth_opts[] = {
    NUM("session_ttl_s", auth_session_ttl_s, 60, 86400 * 90, "43200"),
    NUM("pwhash_ops", auth_pwhash_ops, 1, 20, "2"),
    NUM("pwhash_mem_kib", auth_pwhash_mem_kib, 8192, 4194304, "65536"),
    NUM("parallel_logins", auth_parallel_logins, 1, 64, "2"),
    NUM("failures_per_account", auth_fail_per_account, 1, 1000, "5"),
    NUM("failures_per_address", auth_fail_per_address, 1, 100000, "30"),
    NUM("failure_window_s", auth_fail_window_s, 10, 86400, "900"),
    END,
};

static const struct depot_ini_opt tasks_opts[] = {
    NUM("photo_max_kib", task_photo_max_kib, 16, 7168, "2048"),
    END,
};

static const struct depot_ini_opt training_opts[] = {
    NUM("file_max_mib", training_file_max_mib, 1, 65536, "512"),
    STR("link_key", training_link_key, ""),
    END,
};

static const struct depot_ini_opt statements_opts[] = {
    NUM("close_after_days", statements_close_after_days, -1, 28, "3"),
    END,
};

static const struct depot_ini_opt webhooks_opts[] = {
    NUM("poll_ms", webhooks_poll_ms, 50, 60000, "1000"),
    NUM("connect_timeout_s", webhooks_connect_timeout_s, 1, 60, "5"),
    NUM("timeout_s", webhooks_timeout_s, 1, 300, "10"),
    NUM("backoff_base_ms", webhooks_backoff_base_ms, 10, 3600000, "1000"),
    NUM("backoff_cap_s", webhooks_backoff_cap_s, 1, 86400, "3600"),
    DBL("dead_after_h", webhooks_dead_after_h, 0.001, 8760, "72"),
    NUM("stock_period_s", webhooks_stock_period_s, 0, 86400, "300"),
    NUM("keep_days", webhooks_keep_days, 1, 3650, "30"),
    END,
};

static const struct hub_section {
    const char *name;
    const struct depot_ini_opt *table;
} sections[] = {
    {"hub", hub_opts},           {"mqtt", mqtt_opts},
    {"http", http_opts},         {"approval", approval_opts},
    {"ranking", ranking_opts},   {"alerts", alerts_opts},
    {"auth", auth_opts},         {"tasks", tasks_opts},
    {"training", training_opts}, {"statements", statements_opts},
    {"webhooks", webhooks_opts},
};

#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

struct load_ctx {
    struct hub_config *cfg;
    unsigned given[N_SECTIONS]; /* per section: the rows given in the file */
};

static const char *const role_names[] = {"none", "viewer", "approver", "admin"};

enum hub_role hub_role_from_name(const char *name)
{
    for (int r = HUB_ROLE_VIEWER; r <= HUB_ROLE_ADMIN; r++)
        if (strcmp(name, role_names[r]) == 0)
            return (enum hub_role)r;
    return HUB_ROLE_NONE;
}

const char *hub_role_name(enum hub_role role)
{
    return (unsigned)role <= HUB_ROLE_ADMIN ? role_names[role] : "none";
}

/* ---- the options that are more than one typed value ---- */

/* "ADDR:PORT" with a dotted IPv4 address. */
static depot_err parse_listen(void *base, const char *text, char *why, size_t why_len)
{
    struct hub_config *cfg = base;
    const char *colon = strrchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : 0;
    const struct depot_ini_opt port = {
        .name = "port", .type = DEPOT_INI_LONG, .min = 1, .max = 65535};
    long value;
    char unused[8];

    if (!colon || n == 0 || n >= sizeof(cfg->http_addr) ||
        depot_ini_opt_set(&port, &value, colon + 1, unused, sizeof(unused)) != DEPOT_OK) {
        snprintf(why, why_len, "is not IPV4ADDR:PORT");
        return DEPOT_ERR_CONFIG;
    }
    memcpy(cfg->http_addr, text, n);
    cfg->http_addr[n] = '\0';
    cfg->http_port = value;
    return DEPOT_OK;
}

static bool stage_name_valid(const char *s, size_t n)
{
    if (n == 0 || n > HUB_STAGE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

/* "a,b,c" into names (unique, valid, at most HUB_STAGES_MAX); false if not. */
static bool parse_stages(const char *v, char names[][HUB_STAGE_NAME_MAX + 1], size_t *n_out)
{
    size_t n = 0;
    while (*v) {
        size_t len = strcspn(v, ",");
        while (len && v[len - 1] == ' ')
            len--;
        if (n >= HUB_STAGES_MAX || !stage_name_valid(v, len))
            return false;
        memcpy(names[n], v, len);
        names[n][len] = '\0';
        for (size_t i = 0; i < n; i++)
            if (!strcmp(names[i], names[n]))
                return false;
        n++;
        v += strcspn(v, ",");
        v += *v == ',';
        while (*v == ' ')
            v++;
    }
    *n_out = n;
    return n > 0;
}

static depot_err parse_approval_stages(void *base, const char *text, char *why, size_t why_len)
{
    struct hub_config *cfg = base;

    if (parse_stages(text, cfg->stages, &cfg->n_stages))
        return DEPOT_OK;
    snprintf(why, why_len, "is not 1..%d unique names of [a-z0-9_-] separated by commas",
             HUB_STAGES_MAX);
    return DEPOT_ERR_CONFIG;
}

static depot_err parse_weights(void *base, const char *text, char *why, size_t why_len)
{
    struct hub_config *cfg = base;

    if (hub_rank_parse_weights(text, cfg->ranking.weights))
        return DEPOT_OK;
    snprintf(why, why_len,
             "is not 5 numbers >= 0 (sales, collection, penetration, accuracy, freshness) "
             "with a sum above 0");
    return DEPOT_ERR_CONFIG;
}

static depot_err parse_tiers(void *base, const char *text, char *why, size_t why_len)
{
    struct hub_config *cfg = base;

    if (hub_rank_parse_tiers(text, &cfg->ranking))
        return DEPOT_OK;
    snprintf(why, why_len, "is not SCORE:PCT,... (score 0..1 distinct, pct 0..100, at most %d)",
             HUB_RANK_TIERS_MAX);
    return DEPOT_ERR_CONFIG;
}

/* ---- [tokens] ---- */

/* The ":s1,s2" suffix of an approver's token: cut off into t->stages. */
static depot_err token_stages(const char *name, struct hub_token *t, char *tok, char *why,
                              size_t why_len)
{
    char *colon = t->role == HUB_ROLE_APPROVER ? strchr(tok, ':') : NULL;
    if (!colon)
        return DEPOT_OK;
    *colon = '\0';
    if (!parse_stages(colon + 1, t->stages, &t->n_stages)) {
        snprintf(why, why_len,
                 "[tokens] %s: \"%s\" is not a list of stage names separated by commas", name,
                 colon + 1);
        return DEPOT_ERR_CONFIG;
    }
    return DEPOT_OK;
}

/* The token text: 8..255 characters, unlike every token before it. */
static depot_err token_text(const struct hub_config *cfg, const char *name, const char *tok,
                            char *why, size_t why_len)
{
    const struct hub_token *t = &cfg->tokens[cfg->n_tokens];

    if (strlen(tok) < 8 || strlen(tok) >= sizeof(t->token) || strlen(name) >= sizeof(t->name)) {
        snprintf(why, why_len, "[tokens] %s: token must have 8..%zu characters", name,
                 sizeof(t->token) - 1);
        return DEPOT_ERR_CONFIG;
    }
    for (size_t i = 0; i < cfg->n_tokens; i++)
        if (strcmp(cfg->tokens[i].token, tok) == 0) {
            snprintf(why, why_len, "[tokens] %s: same token as %s", name, cfg->tokens[i].name);
            return DEPOT_ERR_CONFIG;
        }
    return DEPOT_OK;
}

/* NAME = ROLE:TOKEN, or approver:TOKEN:STAGE[,STAGE...] */
static depot_err add_token(struct hub_config *cfg, const char *name, const char *v, char *why,
                           size_t why_len)
{
    const char *colon = strchr(v, ':');
    struct hub_token *t;
    char role[16], tok[HUB_STR_MAX + HUB_STAGES_MAX * (HUB_STAGE_NAME_MAX + 1) + 2];
    size_t n = colon ? (size_t)(colon - v) : 0;
    depot_err e;

    if (!colon || n >= sizeof(role)) {
        snprintf(why, why_len, "[tokens] %s: expected ROLE:TOKEN", name);
        return DEPOT_ERR_CONFIG;
    }
    memcpy(role, v, n);
    role[n] = '\0';
    if (cfg->n_tokens >= HUB_TOKENS_MAX) {
        snprintf(why, why_len, "[tokens] more than %d tokens", HUB_TOKENS_MAX);
        return DEPOT_ERR_CONFIG;
    }
    t = &cfg->tokens[cfg->n_tokens];
    t->role = hub_role_from_name(role);
    if (t->role == HUB_ROLE_NONE) {
        snprintf(why, why_len, "[tokens] %s: role \"%s\" is not viewer, approver or admin", name,
                 role);
        return DEPOT_ERR_CONFIG;
    }
    memset(t->stages, 0, sizeof(t->stages));
    t->n_stages = 0;
    snprintf(tok, sizeof(tok), "%s", colon + 1);
    e = token_stages(name, t, tok, why, why_len);
    if (e == DEPOT_OK)
        e = token_text(cfg, name, tok, why, why_len);
    if (e != DEPOT_OK)
        return e;
    /* Both lengths were checked by token_text. */
    memcpy(t->name, name, strlen(name) + 1);
    memcpy(t->token, tok, strlen(tok) + 1);
    cfg->n_tokens++;
    return DEPOT_OK;
}

/* ---- loading ---- */

/* One entry of the file (depot/ini.h puts "file:line: " before why). */
static depot_err on_entry(void *user, const struct depot_ini_entry *e, char *why, size_t why_len)
{
    struct load_ctx *c = user;
    depot_err code = DEPOT_ERR_NOTFOUND;

    if (strcmp(e->section, "tokens") == 0)
        return add_token(c->cfg, e->name, e->value, why, why_len);
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (!strcmp(e->section, sections[i].name))
            code = depot_ini_opts_apply(sections[i].table, c->cfg, &c->given[i], e, why, why_len);
    if (code == DEPOT_ERR_NOTFOUND) {
        snprintf(why, why_len, "unknown option \"%s\" in [%s]", e->name, e->section);
        return DEPOT_ERR_CONFIG;
    }
    return code;
}

void hub_config_defaults(struct hub_config *cfg)
{
    char host[64] = "hub", why[256];

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (depot_ini_opts_defaults(sections[i].table, cfg, why, sizeof(why)) != DEPOT_OK)
            abort(); /* fixed-size fields allocate nothing: a default out of bounds is a bug */
    cfg->ranking.offline_after_ms = cfg->offline_after_s * 1000LL;
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "hub");
    host[sizeof(host) - 1] = '\0';
    snprintf(cfg->instance, sizeof(cfg->instance), "%s-%ld", host, (long)getpid());
}

int hub_config_stage_index(const struct hub_config *cfg, const char *stage)
{
    for (size_t i = 0; stage && i < cfg->n_stages; i++)
        if (!strcmp(cfg->stages[i], stage))
            return (int)i;
    return -1;
}

bool hub_token_may_act(const struct hub_token *t, const char *stage)
{
    if (t->role == HUB_ROLE_ADMIN)
        return true;
    if (t->role != HUB_ROLE_APPROVER)
        return false;
    for (size_t i = 0; i < t->n_stages; i++)
        if (!strcmp(t->stages[i], stage))
            return true;
    return t->n_stages == 0;
}

/* Every stage a token names must be an [approval] stage. */
static depot_err check_token_stages(const struct hub_config *cfg, const char *path, char *err,
                                    size_t err_len)
{
    for (size_t i = 0; i < cfg->n_tokens; i++)
        for (size_t j = 0; j < cfg->tokens[i].n_stages; j++)
            if (hub_config_stage_index(cfg, cfg->tokens[i].stages[j]) < 0) {
                snprintf(err, err_len, "%s: [tokens] %s: stage \"%s\" is not in [approval] stages",
                         path, cfg->tokens[i].name, cfg->tokens[i].stages[j]);
                return DEPOT_ERR_CONFIG;
            }
    return DEPOT_OK;
}

static depot_err check_whole(const struct hub_config *cfg, const char *path, char *err,
                             size_t err_len)
{
    int tls = !!cfg->mqtt_ca[0] + !!cfg->mqtt_cert[0] + !!cfg->mqtt_key[0];
    if (tls != 0 && tls != 3) {
        snprintf(err, err_len, "%s: [mqtt] ca, cert and key go together (all or none)", path);
        return DEPOT_ERR_CONFIG;
    }
    return check_token_stages(cfg, path, err, err_len);
}

/* out = the folder of file (or "." if it has none), then "/" and name; false if too long. */
static bool beside(char *out, size_t size, const char *file, const char *name)
{
    const char *slash = strrchr(file, '/');
    int n = slash ? snprintf(out, size, "%.*s/%s", (int)(slash - file), file, name)
                  : snprintf(out, size, "%s", name);

    return n >= 0 && (size_t)n < size;
}

static depot_err too_long(const char *path, const char *what, char *err, size_t err_len)
{
    snprintf(err, err_len, "%s: %s: the default path is too long; set it", path, what);
    return DEPOT_ERR_CONFIG;
}

depot_err hub_config_load(struct hub_config *cfg, const char *path, char *err, size_t err_len)
{
    struct load_ctx c = {.cfg = cfg};
    depot_err e = depot_ini_parse_file(path, on_entry, &c, err, err_len);

    if (e != DEPOT_OK)
        return e;
    if (!cfg->instance[0]) {
        snprintf(err, err_len, "%s: [hub] instance must not be empty", path);
        return DEPOT_ERR_CONFIG;
    }
    if (!cfg->mqtt_client_id[0])
        snprintf(cfg->mqtt_client_id, sizeof(cfg->mqtt_client_id), "depot-hub-%s", cfg->instance);
    if (!cfg->order_ca[0] && cfg->mqtt_ca[0] &&
        !beside(cfg->order_ca, sizeof(cfg->order_ca), cfg->mqtt_ca, "devices-ca.crt"))
        return too_long(path, "[hub] ca", err, err_len);
    if (!cfg->order_crl[0] && cfg->order_ca[0] &&
        !beside(cfg->order_crl, sizeof(cfg->order_crl), cfg->order_ca, "devices.crl"))
        return too_long(path, "[hub] crl", err, err_len);
    if (!strcmp(cfg->order_crl, "none"))
        cfg->order_crl[0] = '\0';
    if (!cfg->files_dir[0] &&
        !beside(cfg->files_dir, sizeof(cfg->files_dir),
                strncmp(cfg->db, "postgresql://", 13) ? cfg->db : "", "depot-hub-files"))
        return too_long(path, "[hub] files", err, err_len);
    cfg->ranking.offline_after_ms = cfg->offline_after_s * 1000LL;
    return check_whole(cfg, path, err, err_len);
}
