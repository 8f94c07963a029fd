/*
 * Tasks given to dealers with completion tracking (tasks.h).
 *
 * A task's targets are fixed when it is issued, as a policy's. Data rules
 * are met in the ingest worker's transaction that applies the message
 * reporting the count or the stock level, so a completion is recorded once
 * with the message that made it (a message applied twice is refused by the
 * stream's dedupe before it gets here).
 */
#include "tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "policies.h"

#define DAY_MS 86400000LL

long long hub_task_due_ms(const char *due)
{
    struct tm tm = {0};
    if (!depot_date_valid(due) ||
        sscanf(due, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm) * 1000;
}

/* ---- photos ---- */

const char *hub_task_photo_type(const void *bytes, size_t len)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    const unsigned char *b = bytes;
    if (len < HUB_TASK_PHOTO_MIN)
        return NULL;
    if (b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff && b[len - 2] == 0xff && b[len - 1] == 0xd9)
        return "image/jpeg";
    if (!memcmp(b, png, sizeof(png)) && !memcmp(b + 12, "IHDR", 4))
        return "image/png";
    return NULL;
}

/* ---- checks ---- */

static bool text_ok(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if ((*c < 0x20 && *c != '\n' && *c != '\t') || *c == 0x7f)
            return false;
    return true;
}

/* A SKU id (checked) into a slot of DEPOT_SKU_MAX + 1. */
static void sku_copy(char *out, const char *sku)
{
    size_t n = strnlen(sku, DEPOT_SKU_MAX);
    memcpy(out, sku, n);
    out[n] = '\0';
}

/* The SKUs of a rule, each an id, at most max, none twice; their count (0 for none), or -1. */
static int skus_parse(const char *list, char out[][DEPOT_SKU_MAX + 1], int max)
{
    char buf[HUB_TASK_SKUS_MAX + 1], *save = NULL;
    int n = 0;
    if (strlen(list) > HUB_TASK_SKUS_MAX)
        return -1;
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *id = strtok_r(buf, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        if (n == max || !depot_id_valid(id, DEPOT_SKU_MAX))
            return -1;
        for (int i = 0; i < n; i++)
            if (!strcmp(out[i], id))
                return -1;
        sku_copy(out[n++], id);
    }
    return n;
}

static bool task_ok(const struct hub_task *t, char *why, size_t len)
{
    char skus[HUB_TASK_SKUS_N][DEPOT_SKU_MAX + 1];
    int n = skus_parse(t->skus, skus, HUB_TASK_SKUS_N);
    if (!*t->title || !text_ok(t->title) || strchr(t->title, '\n')) {
        snprintf(why, len, "title: 1 to %d characters, no control characters", HUB_TASK_TITLE_MAX);
        return false;
    }
    if (!text_ok(t->body)) {
        snprintf(why, len, "body: text without control characters (but newlines and tabs)");
        return false;
    }
    if (!depot_date_valid(t->due)) {
        snprintf(why, len, "due: a date, YYYY-MM-DD");
        return false;
    }
    if (!strcmp(t->rule, "confirm")) {
        if (n != 0 || t->level != 0) {
            snprintf(why, len, "rule confirm: no skus, no level");
            return false;
        }
    } else if (!strcmp(t->rule, "count")) {
        if (n < 1 || t->level != 0 || t->photo) {
            snprintf(why, len, "rule count: 1 to %d SKUs, each once; no level, no photo",
                     HUB_TASK_SKUS_N);
            return false;
        }
    } else if (!strcmp(t->rule, "stock")) {
        if (n != 1 || t->level < 1 || t->photo) {
            snprintf(why, len, "rule stock: one SKU and a level of 1 or more; no photo");
            return false;
        }
    } else {
        snprintf(why, len, "rule: confirm, count or stock");
        return false;
    }
    return hub_target_ok(t->target_kind, t->target, why, len);
}

/* ---- issue, confirm ---- */

struct stock_at {
    long long qty;
    bool found;
};

static int stock_row(void *arg, const struct hub_stock_row *r)
{
    struct stock_at *q = arg;
    q->qty = r->qty;
    q->found = true;
    return 1;
}

/* Done in time (before its due day ended): the tasks KPI counts it. */
static depot_err note_done(hub_store *s, hub_ranking *rk, const struct hub_task *t,
                           const char *dealer, long long at)
{
    long long due = hub_task_due_ms(t->due);
    return at < due + DAY_MS ? hub_ranking_note_task(rk, s, dealer, due, 0, 1) : DEPOT_OK;
}

depot_err hub_tasks_issue(hub_store *s, hub_ranking *rk, struct hub_task *t, long long now,
                          size_t *n_targets, size_t *n_done, char *why, size_t why_len)
{
    struct hub_targets tg = {0};
    bool stock = !strcmp(t->rule, "stock");
    depot_err err;

    *n_targets = *n_done = 0;
    if (!task_ok(t, why, why_len))
        return DEPOT_ERR_INVAL;
    err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_targets_resolve(s, t->target_kind, t->target, &tg, why, why_len);
    if (err == DEPOT_OK && tg.n == 0) {
        snprintf(why, why_len, "no dealer is a target of it");
        err = DEPOT_ERR_NOTFOUND;
    }
    t->created_at = now;
    if (err == DEPOT_OK)
        err = hub_store_task_add(s, t);
    for (size_t i = 0; err == DEPOT_OK && i < tg.n; i++) {
        struct stock_at q = {0};
        err = hub_store_task_reach_add(s, t->id, tg.ids[i], now);
        if (err == DEPOT_OK)
            err = hub_ranking_note_task(rk, s, tg.ids[i], hub_task_due_ms(t->due), 1, 0);
        if (err == DEPOT_OK && stock)
            err = hub_store_stock(s, tg.ids[i], t->skus, stock_row, &q);
        if (err == DEPOT_OK && stock && q.found && q.qty >= t->level) {
            err = hub_store_task_reach_done(s, t->id, tg.ids[i], now, "hub", "data", "", "", NULL);
            if (err == DEPOT_OK)
                err = note_done(s, rk, t, tg.ids[i], now);
            ++*n_done;
        }
    }
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK) {
        hub_store_rollback(s);
        *n_done = 0;
    } else {
        *n_targets = tg.n;
    }
    hub_targets_free(&tg);
    return err;
}

depot_err hub_tasks_confirm(hub_store *s, hub_ranking *rk, long long task, const char *dealer,
                            const char *by, const char *photo_sha, const char *photo_type,
                            long long now, bool *changed, char *why, size_t why_len)
{
    struct hub_task t;
    struct hub_task_reach r;
    depot_err err = hub_store_begin(s);
    *changed = false;
    if (err == DEPOT_OK)
        err = hub_store_task_get(s, task, &t);
    if (err == DEPOT_OK)
        err = hub_store_task_reach_get(s, task, dealer, &r);
    if (err == DEPOT_OK && strcmp(t.rule, "confirm") != 0) {
        snprintf(why, why_len, "task %lld is met by data (rule %s), not confirmed", task, t.rule);
        err = DEPOT_ERR_INVAL;
    }
    if (err == DEPOT_OK && t.photo && !*photo_sha && !r.done_at) {
        snprintf(why, why_len, "task %lld asks for a photo (image/jpeg or image/png)", task);
        err = DEPOT_ERR_INVAL;
    }
    if (err == DEPOT_OK)
        err = hub_store_task_reach_done(s, task, dealer, now, by, "portal", photo_sha, photo_type,
                                        changed);
    if (err == DEPOT_OK && *changed)
        err = note_done(s, rk, &t, dealer, now);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK) {
        hub_store_rollback(s);
        *changed = false;
    }
    return err;
}

/* ---- data rules ---- */

struct hub_tasks {
    long long last_id; /* the newest task when the SKUs were loaded (-1: never) */
    char (*skus)[DEPOT_SKU_MAX + 1];
    size_t n, cap;
    bool nomem;
};

depot_err hub_tasks_new(hub_tasks **out)
{
    hub_tasks *t = depot_calloc(1, sizeof(*t));
    if (!t)
        return DEPOT_ERR_NOMEM;
    t->last_id = -1;
    *out = t;
    return DEPOT_OK;
}

void hub_tasks_free(hub_tasks *t)
{
    if (!t)
        return;
    depot_free(t->skus);
    depot_free(t);
}

static bool named(const hub_tasks *t, const char *sku)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->skus[i], sku))
            return true;
    return false;
}

static void sku_add(hub_tasks *t, const char *sku)
{
    if (named(t, sku))
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        void *p = depot_realloc(t->skus, cap * sizeof(*t->skus));
        if (!p) {
            t->nomem = true;
            return;
        }
        t->skus = p;
        t->cap = cap;
    }
    sku_copy(t->skus[t->n++], sku);
}

static int load_task(void *arg, const struct hub_task *task)
{
    hub_tasks *t = arg;
    char skus[HUB_TASK_SKUS_N][DEPOT_SKU_MAX + 1];
    int n;
    if (!strcmp(task->rule, "confirm"))
        return 0;
    n = skus_parse(task->skus, skus, HUB_TASK_SKUS_N);
    for (int i = 0; i < n; i++)
        sku_add(t, skus[i]);
    return t->nomem;
}

depot_err hub_tasks_refresh(hub_tasks *t, hub_store *s)
{
    long long last = 0;
    depot_err err = hub_store_task_last_id(s, &last);
    if (err != DEPOT_OK || last == t->last_id)
        return err;
    /* Every data-rule task's SKUs, done or not: a superset is only a store read too many. */
    t->n = 0;
    t->nomem = false;
    err = hub_store_tasks_list(s, load_task, t);
    if (err == DEPOT_OK && t->nomem)
        err = DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK)
        t->last_id = last;
    return err;
}

struct fact {
    hub_store *s;
    hub_ranking *rk;
    const char *dealer, *sku, *by;
    bool counted; /* a count of sku at time at */
    long long at, qty, now;
    int done;
    depot_err err;
};

/* Adds sku to a comma-separated list (it is not in it yet). */
static void list_add(char *list, size_t len, const char *sku)
{
    size_t used = strlen(list);
    snprintf(list + used, len - used, "%s%s", used ? "," : "", sku);
}

static bool listed(const char *list, const char *sku)
{
    char skus[HUB_TASK_SKUS_N][DEPOT_SKU_MAX + 1];
    int n = skus_parse(list, skus, HUB_TASK_SKUS_N);
    for (int i = 0; i < n; i++)
        if (!strcmp(skus[i], sku))
            return true;
    return false;
}

static depot_err done(struct fact *f, const struct hub_task *t)
{
    bool changed = false;
    depot_err err =
        hub_store_task_reach_done(f->s, t->id, f->dealer, f->now, f->by, "data", "", "", &changed);
    if (err == DEPOT_OK && changed)
        err = note_done(f->s, f->rk, t, f->dealer, f->now);
    if (err == DEPOT_OK && changed) {
        f->done++;
        LOG_INFO("task %lld done at dealer %s (%s rule, by %s)", t->id, f->dealer, t->rule, f->by);
    }
    return err;
}

static int open_task(void *arg, const struct hub_task *t, const struct hub_task_reach *r)
{
    struct fact *f = arg;
    char counted[HUB_TASK_SKUS_MAX + 1], skus[HUB_TASK_SKUS_N][DEPOT_SKU_MAX + 1];
    int n, have = 0;
    if (!strcmp(t->rule, "stock")) {
        if (f->qty >= t->level)
            f->err = done(f, t);
        return f->err != DEPOT_OK;
    }
    if (!f->counted || f->at < r->issued_at || listed(r->counted, f->sku))
        return 0; /* a count from before the task does not do it */
    snprintf(counted, sizeof(counted), "%s", r->counted);
    list_add(counted, sizeof(counted), f->sku);
    n = skus_parse(t->skus, skus, HUB_TASK_SKUS_N);
    for (int i = 0; i < n; i++)
        have += listed(counted, skus[i]);
    f->err = hub_store_task_reach_counted(f->s, t->id, f->dealer, counted);
    if (f->err == DEPOT_OK && have == n)
        f->err = done(f, t);
    return f->err != DEPOT_OK;
}

static depot_err fact(hub_tasks *t, struct fact *f)
{
    depot_err err;
    if (!named(t, f->sku))
        return DEPOT_OK;
    err = hub_store_task_open_data(f->s, f->dealer, f->sku, open_task, f);
    return err != DEPOT_OK ? err : f->err;
}

depot_err hub_tasks_on_message(hub_tasks *t, hub_store *s, hub_ranking *rk, const depot_msg *m,
                               long long now, int *n_done)
{
    struct fact f = {.s = s, .rk = rk, .dealer = m->dealer, .now = now, .by = "gateway"};
    char by[DEPOT_NODE_MAX + 16];
    depot_err err = DEPOT_OK;

    if (m->type == DEPOT_MSG_STOCK) {
        f.sku = m->body.stock.sku;
        f.qty = m->body.stock.qty;
        err = fact(t, &f);
    } else if (m->type == DEPOT_MSG_SNAPSHOT) {
        for (size_t i = 0; err == DEPOT_OK && i < m->body.snapshot.n_items; i++) {
            f.sku = m->body.snapshot.items[i].sku;
            f.qty = m->body.snapshot.items[i].qty;
            err = fact(t, &f);
        }
    } else if (m->type == DEPOT_MSG_MOVEMENTS) {
        for (size_t i = 0; err == DEPOT_OK && i < m->body.movements.n_items; i++) {
            const struct depot_movement_item *it = &m->body.movements.items[i];
            f.counted = !strcmp(it->kind, "count");
            if (f.counted) /* rare: a task issued a moment ago must be known */
                err = hub_tasks_refresh(t, s);
            snprintf(by, sizeof(by), "terminal:%s", it->node);
            f.by = f.counted ? by : "gateway";
            f.sku = it->sku;
            f.qty = it->qty;
            f.at = it->ts;
            if (err == DEPOT_OK)
                err = fact(t, &f);
        }
    }
    if (n_done)
        *n_done = f.done;
    return err;
}
