/*
 * depot-hub configuration.
 *
 * Every option of the sections [hub], [mqtt], [http], [approval] and [alerts] is one
 * row of `options` (section, name, type, bounds, default, where it lands in
 * struct hub_config); [tokens] is free-form (NAME = ROLE:TOKEN[:STAGES]). Loading is two
 * steps: defaults, then the file over them, read through depot/ini.h (which
 * refuses a NUL byte, a line too long for the parser, a section or an option
 * given twice, and stops at the first error), so the caller sees
 * "file:line: what is wrong". Checks that span options (TLS files go
 * together) run after parsing and name the file only.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "depot/ini.h"

enum opt_type {
    OPT_STR,
    OPT_LONG,
    OPT_LOGLEVEL,
    OPT_LISTEN,
    OPT_STAGES,
    OPT_DOUBLE,
    OPT_WEIGHTS, /* [ranking] weights (hub_rank_parse_weights) */
    OPT_TIERS,   /* [ranking] tiers (hub_rank_parse_tiers) */
};

struct option {
    const char *section;
    const char *name;
    enum opt_type type;
    size_t offset;
    size_t size; /* OPT_STR: buffer size */
    long min, max;
    const char *def;
};

#define STR(sec, nm, field, d)                                                                     \
    {                                                                                              \
        sec, nm, OPT_STR, offsetof(struct hub_config, field),                                      \
            sizeof(((struct hub_config *)0)->field), 0, 0, d                                       \
    }
#define NUM(sec, nm, field, lo, hi, d)                                                             \
    {                                                                                              \
        sec, nm, OPT_LONG, offsetof(struct hub_config, field), 0, lo, hi, d                        \
    }

#define DBL(sec, nm, field, lo, hi, d)                                                             \
    {                                                                                              \
        sec, nm, OPT_DOUBLE, offsetof(struct hub_config, field), 0, lo, hi, d                      \
    }

static const struct option options[] = {
    STR("hub", "db", db, "depot-hub.db"),
    {"hub", "log_level", OPT_LOGLEVEL, offsetof(struct hub_config, log_level), 0, 0, 0, "info"},
    NUM("hub", "offline_after_s", offline_after_s, 1, 86400 * 30, "120"),
    STR("hub", "instance", instance, ""),
    STR("hub", "ca", order_ca, ""),
    STR("mqtt", "host", mqtt_host, "127.0.0.1"),
    NUM("mqtt", "port", mqtt_port, 1, 65535, "8883"),
    STR("mqtt", "ca", mqtt_ca, ""),
    STR("mqtt", "cert", mqtt_cert, ""),
    STR("mqtt", "key", mqtt_key, ""),
    STR("mqtt", "client_id", mqtt_client_id, ""),
    NUM("mqtt", "keepalive_s", mqtt_keepalive_s, 5, 3600, "30"),
    {"http", "listen", OPT_LISTEN, 0, 0, 0, 0, "127.0.0.1:8080"},
    NUM("http", "threads", http_threads, 1, 256, "4"),
    STR("http", "dashboard", http_dashboard, ""),
    {"approval", "stages", OPT_STAGES, 0, 0, 0, 0, "sales,finance,warehouse"},
    NUM("approval", "stage_deadline_s", stage_deadline_s, 1, 86400 * 90, "3600"),
    NUM("approval", "resend_s", decision_resend_s, 1, 3600, "10"),
    {"ranking", "weights", OPT_WEIGHTS, 0, 0, 0, 0, "0.35,0.25,0.15,0.15,0.10"},
    {"ranking", "tiers", OPT_TIERS, 0, 0, 0, 0, "0.8:3,0.6:2,0.4:1"},
    NUM("ranking", "publish_period_s", rank_publish_period_s, 1, 86400, "60"),
    NUM("alerts", "velocity_days", alert_velocity_days, 1, 90, "7"),
    NUM("alerts", "target_cover_days", alert_target_cover_days, 1, 365, "14"),
    DBL("alerts", "spike_factor", alert_spike_factor, 1, 1000, "3.0"),
    NUM("alerts", "spike_trailing_days", alert_spike_trailing_days, 1, 90, "14"),
    NUM("alerts", "spike_min_units", alert_spike_min_units, 1, 1000000, "5"),
    NUM("alerts", "shrinkage_window_s", alert_shrinkage_window_s, 1, 86400, "900"),
    NUM("alerts", "contract_days", alert_contract_days, 0, 3650, "30"),
    NUM("alerts", "eval_period_s", alert_eval_period_s, 1, 3600, "5"),
    NUM("alerts", "history_days", alert_history_days, 1, 3650, "90"),
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

struct load_ctx {
    struct hub_config *cfg;
    char msg[256];
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

static int parse_long(const char *v, long min, long max, long *out)
{
    char *end;
    long n;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

static int parse_double(const char *v, double min, double max, double *out)
{
    char *end;
    double d;
    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= min && d <= max))
        return -1;
    *out = d;
    return 0;
}

static int parse_loglevel(const char *v, enum depot_log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(v, names[i]) == 0) {
            *out = (enum depot_log_level)i;
            return 0;
        }
    return -1;
}

/* "ADDR:PORT" with a dotted IPv4 address. */
static int parse_listen(const char *v, struct hub_config *cfg)
{
    const char *colon = strrchr(v, ':');
    size_t n = colon ? (size_t)(colon - v) : 0;
    long port;
    if (!colon || n == 0 || n >= sizeof(cfg->http_addr) || parse_long(colon + 1, 1, 65535, &port))
        return -1;
    memcpy(cfg->http_addr, v, n);
    cfg->http_addr[n] = '\0';
    cfg->http_port = port;
    return 0;
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

/* "a,b,c" into names (unique, valid, at most HUB_STAGES_MAX); -1 if not. */
static int parse_stages(const char *v, char names[][HUB_STAGE_NAME_MAX + 1], size_t *n_out)
{
    size_t n = 0;
    while (*v) {
        size_t len = strcspn(v, ",");
        while (len && v[len - 1] == ' ')
            len--;
        if (n >= HUB_STAGES_MAX || !stage_name_valid(v, len))
            return -1;
        memcpy(names[n], v, len);
        names[n][len] = '\0';
        for (size_t i = 0; i < n; i++)
            if (!strcmp(names[i], names[n]))
                return -1;
        n++;
        v += strcspn(v, ",");
        v += *v == ',';
        while (*v == ' ')
            v++;
    }
    *n_out = n;
    return n ? 0 : -1;
}

static int set_option(struct load_ctx *c, const struct option *o, const char *v)
{
    char *field = (char *)c->cfg + o->offset;
    int rc = -1;
    switch (o->type) {
    case OPT_STR:
        rc = strlen(v) < o->size ? 0 : -1;
        if (rc == 0)
            memcpy(field, v, strlen(v) + 1);
        else
            snprintf(c->msg, sizeof(c->msg), "[%s] %s: longer than %zu characters", o->section,
                     o->name, o->size - 1);
        return rc;
    case OPT_LONG:
        rc = parse_long(v, o->min, o->max, (long *)(void *)field);
        if (rc)
            snprintf(c->msg, sizeof(c->msg), "[%s] %s: \"%s\" is not an integer in %ld..%ld",
                     o->section, o->name, v, o->min, o->max);
        return rc;
    case OPT_LOGLEVEL:
        rc = parse_loglevel(v, (enum depot_log_level *)(void *)field);
        if (rc)
            snprintf(c->msg, sizeof(c->msg),
                     "[%s] %s: \"%s\" is not one of debug, info, warn, error", o->section, o->name,
                     v);
        return rc;
    case OPT_STAGES:
        rc = parse_stages(v, c->cfg->stages, &c->cfg->n_stages);
        if (rc)
            snprintf(c->msg, sizeof(c->msg),
                     "[%s] %s: \"%s\" is not 1..%d unique names of [a-z0-9_-] separated by commas",
                     o->section, o->name, v, HUB_STAGES_MAX);
        return rc;
    case OPT_DOUBLE:
        rc = parse_double(v, (double)o->min, (double)o->max, (double *)(void *)field);
        if (rc)
            snprintf(c->msg, sizeof(c->msg), "[%s] %s: \"%s\" is not a number in %ld..%ld",
                     o->section, o->name, v, o->min, o->max);
        return rc;
    case OPT_WEIGHTS:
        rc = hub_rank_parse_weights(v, c->cfg->ranking.weights) ? 0 : -1;
        if (rc)
            snprintf(c->msg, sizeof(c->msg),
                     "[%s] %s: \"%s\" is not 5 numbers >= 0 (sales, collection, penetration, "
                     "accuracy, freshness) with a sum above 0",
                     o->section, o->name, v);
        return rc;
    case OPT_TIERS:
        rc = hub_rank_parse_tiers(v, &c->cfg->ranking) ? 0 : -1;
        if (rc)
            snprintf(c->msg, sizeof(c->msg),
                     "[%s] %s: \"%s\" is not SCORE:PCT,... (score 0..1 distinct, pct 0..100, "
                     "at most %d)",
                     o->section, o->name, v, HUB_RANK_TIERS_MAX);
        return rc;
    case OPT_LISTEN:
        rc = parse_listen(v, c->cfg);
        if (rc)
            snprintf(c->msg, sizeof(c->msg), "[%s] %s: \"%s\" is not IPV4ADDR:PORT", o->section,
                     o->name, v);
        return rc;
    }
    return -1;
}

/* The ":s1,s2" suffix of an approver's token: cut off into t->stages. */
static int token_stages(struct load_ctx *c, const char *name, struct hub_token *t, char *tok)
{
    char *colon = t->role == HUB_ROLE_APPROVER ? strchr(tok, ':') : NULL;
    if (!colon)
        return 0;
    *colon = '\0';
    if (parse_stages(colon + 1, t->stages, &t->n_stages)) {
        snprintf(c->msg, sizeof(c->msg),
                 "[tokens] %s: \"%s\" is not a list of stage names separated by commas", name,
                 colon + 1);
        return -1;
    }
    return 0;
}

/* NAME = ROLE:TOKEN, or approver:TOKEN:STAGE[,STAGE...] */
static int add_token(struct load_ctx *c, const char *name, const char *v)
{
    struct hub_config *cfg = c->cfg;
    const char *colon = strchr(v, ':');
    struct hub_token *t;
    char role[16], tok[HUB_STR_MAX + HUB_STAGES_MAX * (HUB_STAGE_NAME_MAX + 1) + 2];
    size_t n = colon ? (size_t)(colon - v) : 0;

    if (!colon || n >= sizeof(role)) {
        snprintf(c->msg, sizeof(c->msg), "[tokens] %s: expected ROLE:TOKEN", name);
        return -1;
    }
    memcpy(role, v, n);
    role[n] = '\0';
    if (cfg->n_tokens >= HUB_TOKENS_MAX) {
        snprintf(c->msg, sizeof(c->msg), "[tokens] more than %d tokens", HUB_TOKENS_MAX);
        return -1;
    }
    t = &cfg->tokens[cfg->n_tokens];
    t->role = hub_role_from_name(role);
    if (t->role == HUB_ROLE_NONE) {
        snprintf(c->msg, sizeof(c->msg),
                 "[tokens] %s: role \"%s\" is not viewer, approver or admin", name, role);
        return -1;
    }
    memset(t->stages, 0, sizeof(t->stages));
    t->n_stages = 0;
    snprintf(tok, sizeof(tok), "%s", colon + 1);
    if (token_stages(c, name, t, tok))
        return -1;
    if (strlen(tok) < 8 || strlen(tok) >= sizeof(t->token) || strlen(name) >= sizeof(t->name)) {
        snprintf(c->msg, sizeof(c->msg), "[tokens] %s: token must have 8..%zu characters", name,
                 sizeof(t->token) - 1);
        return -1;
    }
    for (size_t i = 0; i < cfg->n_tokens; i++)
        if (strcmp(cfg->tokens[i].token, tok) == 0) {
            snprintf(c->msg, sizeof(c->msg), "[tokens] %s: same token as %s", name,
                     cfg->tokens[i].name);
            return -1;
        }
    /* Both lengths were checked above. */
    memcpy(t->name, name, strlen(name) + 1);
    memcpy(t->token, tok, strlen(tok) + 1);
    cfg->n_tokens++;
    return 0;
}

/* inih callback: 1 = accepted, 0 = error (message kept in ctx if first). */
static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *c = user;
    char saved[sizeof(c->msg)];
    int rc = -1;

    snprintf(saved, sizeof(saved), "%s", c->msg);
    if (strcmp(section, "tokens") == 0) {
        rc = add_token(c, name, value);
    } else {
        size_t i;
        for (i = 0; i < N_OPTIONS; i++)
            if (!strcmp(section, options[i].section) && !strcmp(name, options[i].name))
                break;
        if (i < N_OPTIONS)
            rc = set_option(c, &options[i], value);
        else
            snprintf(c->msg, sizeof(c->msg), "unknown option \"%s\" in [%s]", name, section);
    }
    if (rc && saved[0]) /* keep the first error: inih reports the first line */
        snprintf(c->msg, sizeof(c->msg), "%s", saved);
    return rc == 0;
}

/* depot/ini.h's handler around on_entry: its message becomes the why of file:line. */
static bool on_ini_entry(void *user, const struct depot_ini_entry *e, char *why, size_t why_len)
{
    struct load_ctx *c = user;

    c->msg[0] = '\0';
    if (on_entry(c, e->section, e->name, e->value))
        return true;
    snprintf(why, why_len, "%s", c->msg);
    return false;
}

void hub_config_defaults(struct hub_config *cfg)
{
    struct load_ctx c = {.cfg = cfg};
    char host[64] = "hub";

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < N_OPTIONS; i++)
        set_option(&c, &options[i], options[i].def);
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

depot_err hub_config_load(struct hub_config *cfg, const char *path, char *err, size_t err_len)
{
    struct load_ctx c = {.cfg = cfg};
    depot_err e = depot_ini_parse_file(path, on_ini_entry, &c, err, err_len);

    if (e != DEPOT_OK)
        return e;
    if (!cfg->instance[0]) {
        snprintf(err, err_len, "%s: [hub] instance must not be empty", path);
        return DEPOT_ERR_CONFIG;
    }
    if (!cfg->mqtt_client_id[0])
        snprintf(cfg->mqtt_client_id, sizeof(cfg->mqtt_client_id), "depot-hub-%s", cfg->instance);
    if (!cfg->order_ca[0])
        snprintf(cfg->order_ca, sizeof(cfg->order_ca), "%s", cfg->mqtt_ca);
    cfg->ranking.offline_after_ms = cfg->offline_after_s * 1000LL;
    return check_whole(cfg, path, err, err_len);
}
