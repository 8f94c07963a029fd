/*
 * downlink.c - the hub's alerts, this dealer's ranking and its policies, kept in the ledger.
 *
 * Owns: the ledger tables `alerts` (alert id PRIMARY KEY -> its latest
 * kind, sku, severity, status, text, action, ts) and `ranking` (one row),
 * and the view `open_alerts` (status not resolved, most severe first).
 *
 * down/alert (QoS 1) arrives at every change of an alert; QoS 1 may repeat
 * or, across a reconnect, reorder, so a row is replaced only by a message
 * with the same or a later ts (the hub's send time). down/ranking is retained
 * and handed again at every connect: it replaces the row unless the stored
 * period is later. Both are checked beyond the codec's schema (severity one
 * of info|warning|critical, kind an id, period YYYY-MM) and refused with a
 * reason otherwise; the caller logs it.
 */
#include "downlink.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "ledger_tx.h"

static const char sql_alert_put[] =
    "INSERT INTO alerts (alert, kind, sku, severity, status, text, action, ts, received_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (alert) DO UPDATE SET"
    " kind = ?2, sku = ?3, severity = ?4, status = ?5, text = ?6, action = ?7, ts = ?8,"
    " received_at = ?9 WHERE ?8 >= alerts.ts";
static const char sql_ranking_put[] =
    "INSERT INTO ranking (one, period, rank, of_n, score, rebate_pct, rebate, kpis, ts,"
    " received_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (one) DO UPDATE"
    " SET period = ?1, rank = ?2, of_n = ?3, score = ?4, rebate_pct = ?5, rebate = ?6,"
    " kpis = ?7, ts = ?8, received_at = ?9 WHERE ?1 >= ranking.period";

static const char *const severities[] = {"info", "warning", "critical", NULL};

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return true;
    return false;
}

/* Run st (bound) in its own transaction; *changed: a row was written. Lock held. */
static depot_err write_one(gw_ledger *l, sqlite3_stmt *st, const char *what, bool *changed)
{
    struct ledger_tx tx;
    depot_err e = gw_ledger_tx_begin(l, &tx);
    if (e == DEPOT_OK) {
        e = gw_ledger_step_done(l, st, what);
        *changed = e == DEPOT_OK && sqlite3_changes(gw_ledger_sqlite(l)) > 0;
        e = gw_ledger_tx_finish(l, &tx, e);
    }
    return e;
}

static bool alert_valid(const struct depot_alert_body *a, char *reason, size_t len)
{
    if (!one_of(a->severity, severities))
        snprintf(reason, len, "severity \"%s\" is not info, warning or critical", a->severity);
    else if (!depot_id_valid(a->kind, DEPOT_ALERT_KIND_MAX))
        snprintf(reason, len, "kind \"%s\" is not an id", a->kind);
    else
        return true;
    return false;
}

static void log_alert(const struct depot_alert_body *a)
{
    const char *sku = a->sku[0] ? a->sku : "-";
    if (!strcmp(a->severity, "info") || !strcmp(a->status, "resolved"))
        LOG_INFO("alert %lld %s (%s, %s) sku %s: %s%s%s", a->alert, a->kind, a->severity, a->status,
                 sku, a->text, a->action[0] ? "; action: " : "", a->action);
    else
        LOG_WARN("alert %lld %s (%s, %s) sku %s: %s%s%s", a->alert, a->kind, a->severity, a->status,
                 sku, a->text, a->action[0] ? "; action: " : "", a->action);
}

depot_err gw_alert_store(gw_ledger *l, const struct depot_alert_body *a, long long ts, bool *stored,
                         char *reason, size_t reason_len)
{
    sqlite3_stmt *st;
    depot_err e;
    *stored = false;
    if (!alert_valid(a, reason, reason_len))
        return DEPOT_ERR_INVAL;
    gw_ledger_lock(l);
    st = gw_ledger_prepare(l, sql_alert_put);
    e = st ? DEPOT_OK : DEPOT_ERR_DB;
    if (st) {
        sqlite3_bind_int64(st, 1, a->alert);
        sqlite3_bind_text(st, 2, a->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, a->sku, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, a->severity, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, a->status, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, a->text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, a->action, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, ts);
        sqlite3_bind_int64(st, 9, depot_now_ms());
        e = write_one(l, st, "storing an alert", stored);
        sqlite3_finalize(st);
    }
    gw_ledger_unlock(l);
    if (e == DEPOT_OK && *stored)
        log_alert(a);
    return e;
}

/* "YYYY-MM" with month 01..12. */
static bool period_valid(const char *p)
{
    if (strlen(p) != 7 || p[4] != '-')
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && !isdigit((unsigned char)p[i]))
            return false;
    int month = (p[5] - '0') * 10 + (p[6] - '0');
    return month >= 1 && month <= 12;
}

/* The kpis as a JSON array text (depot_malloc'd), as the hub sent them. */
static char *kpis_json(const struct depot_ranking_body *r)
{
    cJSON *arr = cJSON_CreateArray();
    char *text, *out = NULL;
    for (size_t i = 0; arr && i < r->n_kpis; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "name", r->kpis[i].name);
        cJSON_AddNumberToObject(o, "value", r->kpis[i].value);
        cJSON_AddNumberToObject(o, "score", r->kpis[i].score);
        cJSON_AddNumberToObject(o, "weight", r->kpis[i].weight);
        cJSON_AddItemToArray(arr, o);
    }
    text = arr ? cJSON_PrintUnformatted(arr) : NULL;
    if (text)
        out = depot_strdup(text);
    cJSON_free(text);
    cJSON_Delete(arr);
    return out;
}

static void bind_ranking(sqlite3_stmt *st, const struct depot_ranking_body *r, const char *kpis,
                         long long ts)
{
    sqlite3_bind_text(st, 1, r->period, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->rank);
    sqlite3_bind_int64(st, 3, r->of);
    sqlite3_bind_double(st, 4, r->score);
    sqlite3_bind_double(st, 5, r->rebate_pct);
    sqlite3_bind_double(st, 6, r->rebate);
    sqlite3_bind_text(st, 7, kpis, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, ts);
    sqlite3_bind_int64(st, 9, depot_now_ms());
}

depot_err gw_ranking_store(gw_ledger *l, const struct depot_ranking_body *r, long long ts,
                           bool *stored, char *reason, size_t reason_len)
{
    sqlite3_stmt *st;
    char *kpis;
    depot_err e;
    *stored = false;
    if (!period_valid(r->period)) {
        snprintf(reason, reason_len, "period \"%s\" is not YYYY-MM", r->period);
        return DEPOT_ERR_INVAL;
    }
    if (!(kpis = kpis_json(r)))
        return DEPOT_ERR_NOMEM;
    gw_ledger_lock(l);
    st = gw_ledger_prepare(l, sql_ranking_put);
    e = st ? DEPOT_OK : DEPOT_ERR_DB;
    if (st) {
        bind_ranking(st, r, kpis, ts);
        e = write_one(l, st, "storing the ranking", stored);
        sqlite3_finalize(st);
    }
    gw_ledger_unlock(l);
    depot_free(kpis);
    if (e == DEPOT_OK && *stored)
        LOG_INFO("ranking %s: rank %lld of %lld, score %.3f, rebate %.2f %% = %.2f", r->period,
                 r->rank, r->of, r->score, r->rebate_pct, r->rebate);
    return e;
}

long long gw_alerts_open(gw_ledger *l)
{
    sqlite3_stmt *st;
    long long n = 0;
    gw_ledger_lock(l);
    st = gw_ledger_prepare(l, "SELECT count(*) FROM open_alerts");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    gw_ledger_unlock(l);
    return n;
}

/* ---- policies (down/policy) ---- */

static const char sql_policy_known[] =
    "SELECT acked, delivered_reported FROM policies WHERE policy = ?1";
static const char sql_policy_put[] =
    "INSERT INTO policies (policy, title, notice, valid_to, acked, delivered_reported,"
    " received_at, acked_at, acked_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, '')"
    " ON CONFLICT (policy) DO UPDATE SET title = ?2, notice = ?3, valid_to = ?4,"
    " acked = max(acked, ?5), delivered_reported = max(delivered_reported, ?6)";
static const char sql_policy_drop[] = "DELETE FROM policies WHERE policy NOT IN (SELECT value FROM"
                                      " json_each(?1))";
static const char sql_policy_pending[] =
    "SELECT policy, notice FROM policies WHERE acked = 0 ORDER BY policy LIMIT 1";

/* Queues policy_delivered for id; false (nothing queued) when the outbox is full. */
static depot_err report_delivered(gw_ledger *l, struct ledger_tx *tx, long long id, long long now,
                                  bool *queued)
{
    depot_msg m;
    *queued = gw_ledger_tx_outbox_room(l, tx);
    if (!*queued)
        return DEPOT_OK;
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_EVENT;
    m.ts = now;
    snprintf(m.body.event.node, sizeof(m.body.event.node), "gateway");
    snprintf(m.body.event.event, sizeof(m.body.event.event), "policy_delivered");
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "%lld", id);
    return gw_ledger_tx_queue(l, tx, &m, NULL);
}

static depot_err put_policy(gw_ledger *l, struct ledger_tx *tx, const struct depot_policy_item *it,
                            long long now, int *fresh)
{
    sqlite3_stmt *st = gw_ledger_prepare(l, sql_policy_known);
    bool known = false, reported = false, queued = false;
    depot_err e;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_int64(st, 1, it->policy);
    if (sqlite3_step(st) == SQLITE_ROW) {
        known = true;
        reported = sqlite3_column_int(st, 1) != 0;
    }
    sqlite3_finalize(st);
    e = reported ? DEPOT_OK : report_delivered(l, tx, it->policy, now, &queued);
    if (e != DEPOT_OK || !(st = gw_ledger_prepare(l, sql_policy_put)))
        return e != DEPOT_OK ? e : DEPOT_ERR_DB;
    sqlite3_bind_int64(st, 1, it->policy);
    sqlite3_bind_text(st, 2, it->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, it->notice, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, it->valid_to, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, it->acked);
    sqlite3_bind_int(st, 6, reported || queued);
    sqlite3_bind_int64(st, 7, now);
    e = gw_ledger_step_done(l, st, "storing a policy");
    sqlite3_finalize(st);
    if (e == DEPOT_OK && !known && !it->acked) {
        (*fresh)++;
        LOG_INFO("policy %lld from the hub: %s (\"%s\" until %s)", it->policy, it->title,
                 it->notice, it->valid_to);
    }
    return e;
}

/* n ids as a JSON array text, for json_each; id(items, i) reads the i-th. */
static char *id_list(const void *items, size_t n, long long (*id)(const void *items, size_t i))
{
    cJSON *a = cJSON_CreateArray();
    char *text;
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)id(items, i)));
    text = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return text;
}

static long long policy_id(const void *items, size_t i)
{
    return ((const struct depot_policy_item *)items)[i].policy;
}

static long long contract_id(const void *items, size_t i)
{
    return ((const struct depot_contract_item *)items)[i].contract;
}

/* Deletes the rows of sql_drop (its ?1: the ids kept, a JSON array text). */
static depot_err drop_others(gw_ledger *l, const char *sql_drop, const char *ids, const char *what)
{
    sqlite3_stmt *st = gw_ledger_prepare(l, sql_drop);
    depot_err e;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
    e = gw_ledger_step_done(l, st, what);
    sqlite3_finalize(st);
    return e;
}

depot_err gw_policies_store(gw_ledger *l, const struct depot_policy_body *b, long long now,
                            int *fresh)
{
    struct ledger_tx tx;
    char *ids = id_list(b->items, b->n_items, policy_id);
    depot_err e;
    *fresh = 0;
    if (!ids)
        return DEPOT_ERR_NOMEM;
    gw_ledger_lock(l);
    e = gw_ledger_tx_begin(l, &tx);
    for (size_t i = 0; e == DEPOT_OK && i < b->n_items; i++)
        e = put_policy(l, &tx, &b->items[i], now, fresh);
    if (e == DEPOT_OK) /* withdrawn or expired at the hub: not shown any more */
        e = drop_others(l, sql_policy_drop, ids, "dropping old policies");
    e = gw_ledger_tx_finish(l, &tx, e);
    gw_ledger_unlock(l);
    cJSON_free(ids);
    return e;
}

/* The first row of sql (id, text), text cut to size; false when there is none. */
static bool first_pending(gw_ledger *l, const char *sql, long long *id, char *text, size_t size)
{
    sqlite3_stmt *st;
    bool found = false;
    gw_ledger_lock(l);
    st = gw_ledger_prepare(l, sql);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        snprintf(text, size, "%s", (const char *)sqlite3_column_text(st, 1));
        found = true;
    }
    sqlite3_finalize(st);
    gw_ledger_unlock(l);
    return found;
}

bool gw_policy_pending(gw_ledger *l, long long *id, char notice[DEPOT_POLICY_NOTICE_MAX + 1])
{
    return first_pending(l, sql_policy_pending, id, notice, DEPOT_POLICY_NOTICE_MAX + 1);
}

/* ---- contracts (down/contract) ---- */

static const char sql_contract_known[] = "SELECT signed FROM contracts WHERE contract = ?1";
static const char sql_contract_put[] =
    "INSERT INTO contracts (contract, title, sha256, signed, received_at, signed_at, signed_by)"
    " VALUES (?1, ?2, ?3, ?4, ?5, 0, '') ON CONFLICT (contract) DO UPDATE SET title = ?2,"
    " signed = max(signed, ?4) WHERE sha256 = ?3";
static const char sql_contract_drop[] = "DELETE FROM contracts WHERE contract NOT IN (SELECT value"
                                        " FROM json_each(?1))";
static const char sql_contract_pending[] =
    "SELECT contract, title FROM contracts WHERE signed = 0 ORDER BY contract LIMIT 1";

/* The hub's item kept; a known contract keeps its hash (a hub never changes a contract's
 * bytes: a changed hash is logged and not taken). */
static depot_err put_contract(gw_ledger *l, const struct depot_contract_item *it, long long now,
                              int *fresh)
{
    sqlite3_stmt *st = gw_ledger_prepare(l, sql_contract_known);
    bool known = false;
    depot_err e;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_int64(st, 1, it->contract);
    known = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!(st = gw_ledger_prepare(l, sql_contract_put)))
        return DEPOT_ERR_DB;
    sqlite3_bind_int64(st, 1, it->contract);
    sqlite3_bind_text(st, 2, it->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, it->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, it->signed_);
    sqlite3_bind_int64(st, 5, now);
    e = gw_ledger_step_done(l, st, "storing a contract");
    sqlite3_finalize(st);
    if (e == DEPOT_OK && known && sqlite3_changes(gw_ledger_sqlite(l)) == 0)
        LOG_WARN("contract %lld from the hub: its SHA-256 is not the one stored here: the stored "
                 "one is kept",
                 it->contract);
    if (e == DEPOT_OK && !known && !it->signed_) {
        (*fresh)++;
        LOG_INFO("contract %lld from the hub to sign: %s (SHA-256 %s)", it->contract, it->title,
                 it->sha256);
    }
    return e;
}

depot_err gw_contracts_store(gw_ledger *l, const struct depot_contract_body *b, long long now,
                             int *fresh)
{
    struct ledger_tx tx;
    char *ids = id_list(b->items, b->n_items, contract_id);
    depot_err e;
    *fresh = 0;
    if (!ids)
        return DEPOT_ERR_NOMEM;
    gw_ledger_lock(l);
    e = gw_ledger_tx_begin(l, &tx);
    for (size_t i = 0; e == DEPOT_OK && i < b->n_items; i++)
        e = put_contract(l, &b->items[i], now, fresh);
    if (e == DEPOT_OK) /* withdrawn at the hub, or older than the newest it sends */
        e = drop_others(l, sql_contract_drop, ids, "dropping old contracts");
    e = gw_ledger_tx_finish(l, &tx, e);
    gw_ledger_unlock(l);
    cJSON_free(ids);
    return e;
}

bool gw_contract_pending(gw_ledger *l, long long *id, char title[DEPOT_POLICY_TITLE_MAX + 1])
{
    return first_pending(l, sql_contract_pending, id, title, DEPOT_POLICY_TITLE_MAX + 1);
}
