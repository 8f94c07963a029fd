/*
 * /api/v1/shipments: what the manufacturer shipped to which dealer, from its
 * ERP, with the item codes (one per item, depot/item_code.h) each line
 * carried (store/shipments.h). Approver to write, viewer to read; a dealer's
 * user reads its own.
 *
 *   POST /shipments          {"shipment","dealer","order"?,"shipped_at"?,
 *                             "lines":[{"sku","qty","codes"?:["..."]}]}
 *   POST /shipments/import   {"shipments":[...]}: all or nothing;
 *                            ?dry_run=1 checks every one and writes nothing
 *   GET  /shipments?dealer=&from=&to=&after=&limit=
 *   GET  /shipments/<id>     with its lines and codes
 *   GET  /codes/<code>       the shipment one item code went out in
 *
 * Exactly once, twice over: the shipment id is the ERP's, and a shipment
 * sent again with the same contents (its digest: the SHA-256 of its
 * canonical text, lines by SKU, codes sorted) is recognised and changes
 * nothing ("already": counted, not recorded), while other contents under
 * a known id are refused; an Idempotency-Key header works as on payments
 * (api/idempotency.h). Checked before anything is written, each refusal
 * named by its shipment: ids and SKUs well formed, the dealer known, the
 * order the dealer's, every SKU in the catalog, at most qty codes on a
 * line, each code a code (its GS1 GTIN, if any, the SKU's barcode; a plain code, its start
 * the SKU's serial_prefix if it has one), no code
 * twice and none already shipped. A recorded shipment is written whole
 * with its audit line and its webhook event (shipment.recorded) in one
 * transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/idempotency.h"
#include "api/routes.h"
#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/id.h"
#include "depot/item_code.h"
#include "depot/ledger_chain.h"
#include "depot/log.h"
#include "orders.h"
#include "store/shipments.h"
#include "webhooks.h"

#define SHIPMENTS_MAX 1000 /* per import */
#define LINES_MAX 1000     /* per shipment */
#define CODES_MAX 100000   /* per request */
#define LIST_MAX 10000

typedef char code_t[DEPOT_ITEM_CODE_MAX + 1];

struct ship_line {
    char sku[DEPOT_SKU_MAX + 1];
    long long qty;
    size_t first, n; /* its codes: codes[first .. first + n) of its shipment */
};

struct ship_in {
    long long line; /* the caller's line number (CSV), else its place in the list */
    char id[HUB_SHIPMENT_ID_MAX + 1], dealer[DEPOT_DEALER_MAX + 1];
    char order[DEPOT_ORDER_ID_MAX + 1];
    long long shipped_at, units;
    struct ship_line *lines;
    size_t n_lines;
    code_t *codes;
    size_t n_codes;
    char digest[DEPOT_CHAIN_HEX + 1];
    bool bad, already;
};

struct batch {
    struct ship_in *sh;
    size_t n;
    size_t codes_total;
};

static void ship_free(struct ship_in *s)
{
    depot_free(s->lines);
    depot_free(s->codes);
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        ship_free(&b->sh[i]);
    depot_free(b->sh);
    b->sh = NULL;
    b->n = 0;
}

/* A shipment id: 1..64 printable ASCII characters, no space or '/' (it is a URL segment). */
static bool ship_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > HUB_SHIPMENT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '/' || s[i] == '?' || s[i] == '#' || s[i] == '%')
            return false;
    return true;
}

static int by_sku(const void *a, const void *b)
{
    return strcmp(((const struct ship_line *)a)->sku, ((const struct ship_line *)b)->sku);
}

static int by_code(const void *a, const void *b)
{
    return strcmp(*(const code_t *)a, *(const code_t *)b);
}

static const char *str_of(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* The canonical text's SHA-256 (lines sorted by SKU, each line's codes sorted). */
static bool digest(struct ship_in *s)
{
    size_t cap = 256 + s->n_lines * 64 + s->n_codes * (DEPOT_ITEM_CODE_MAX + 2), at = 0;
    char *text = depot_malloc(cap);
    bool ok;
    if (!text)
        return false;
    at += (size_t)snprintf(text + at, cap - at, "depot shipment v1\n%s\n%s\n%s\n%lld\n", s->id,
                           s->dealer, s->order, s->shipped_at);
    for (size_t i = 0; i < s->n_lines; i++) {
        at += (size_t)snprintf(text + at, cap - at, "%s %lld\n", s->lines[i].sku, s->lines[i].qty);
        for (size_t j = 0; j < s->lines[i].n; j++)
            at += (size_t)snprintf(text + at, cap - at, " %s\n", s->codes[s->lines[i].first + j]);
    }
    ok = at < cap && depot_sha256_text(text, at, s->digest) == DEPOT_OK;
    depot_free(text);
    return ok;
}

/* One line of a shipment; NULL or why it is refused. */
static const char *parse_line(const cJSON *l, struct ship_in *s, struct ship_line *out,
                              size_t *codes_total)
{
    const char *sku = str_of(l, "sku");
    const cJSON *qty = cJSON_GetObjectItemCaseSensitive(l, "qty");
    const cJSON *codes = cJSON_GetObjectItemCaseSensitive(l, "codes"), *c;
    static _Thread_local char why[160];
    if (!sku || !depot_id_valid(sku, DEPOT_SKU_MAX))
        return "a line's sku is missing or not a SKU";
    snprintf(out->sku, sizeof(out->sku), "%s", sku);
    if (!cJSON_IsNumber(qty) || qty->valuedouble < 1 || qty->valuedouble > 1e9 ||
        qty->valuedouble != (double)(long long)qty->valuedouble) {
        snprintf(why, sizeof(why), "line %s: qty is a whole number 1..1000000000", sku);
        return why;
    }
    out->qty = (long long)qty->valuedouble;
    out->first = s->n_codes;
    if (!codes)
        return NULL;
    if (!cJSON_IsArray(codes) || cJSON_GetArraySize(codes) > out->qty) {
        snprintf(why, sizeof(why), "line %s: codes is a list of at most qty (%lld) codes", sku,
                 out->qty);
        return why;
    }
    if (*codes_total + (size_t)cJSON_GetArraySize(codes) > CODES_MAX)
        return "more than 100000 codes in one request";
    cJSON_ArrayForEach(c, codes)
    {
        code_t norm;
        if (!cJSON_IsString(c) || !depot_item_code_norm(c->valuestring, norm, NULL)) {
            snprintf(why, sizeof(why), "line %s: %.64s is not an item code", sku,
                     cJSON_IsString(c) ? c->valuestring : "a value");
            return why;
        }
        memcpy(s->codes[s->n_codes++], norm, sizeof(norm));
        out->n++;
        (*codes_total)++;
    }
    return NULL;
}

/* Parses one shipment (no store); NULL or why it is refused. */
static const char *parse_ship(const cJSON *o, long long place, long long now, struct ship_in *s,
                              size_t *codes_total)
{
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(o, "lines"), *l, *line;
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "shipped_at");
    const char *id = str_of(o, "shipment"), *dealer = str_of(o, "dealer"),
               *order = str_of(o, "order"), *why;
    size_t n_codes = 0;
    static _Thread_local char buf[160];
    memset(s, 0, sizeof(*s));
    line = cJSON_GetObjectItemCaseSensitive(o, "line");
    s->line = cJSON_IsNumber(line) && line->valuedouble >= 1 ? (long long)line->valuedouble : place;
    if (!cJSON_IsObject(o))
        return "a shipment is an object";
    if (!id || !ship_id_valid(id))
        return "shipment: an id of 1..64 printable characters (no space, /, ?, #, %)";
    snprintf(s->id, sizeof(s->id), "%s", id);
    if (!dealer || !depot_dealer_id_valid(dealer))
        return "dealer: a dealer id";
    snprintf(s->dealer, sizeof(s->dealer), "%s", dealer);
    if (order && (strlen(order) > DEPOT_ORDER_ID_MAX))
        return "order: at most 64 characters";
    snprintf(s->order, sizeof(s->order), "%s", order ? order : "");
    s->shipped_at = now;
    if (at && !(cJSON_IsString(at) && api_time_arg(at->valuestring, false, &s->shipped_at)))
        return "shipped_at: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or ms";
    if (!cJSON_IsArray(lines) || cJSON_GetArraySize(lines) < 1 ||
        cJSON_GetArraySize(lines) > LINES_MAX)
        return "lines: a list of 1..1000 {sku, qty, codes?}";
    cJSON_ArrayForEach(l, lines)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(l, "codes");
        n_codes += cJSON_IsArray(c) ? (size_t)cJSON_GetArraySize(c) : 0;
    }
    if (n_codes > CODES_MAX)
        return "more than 100000 codes in one request";
    s->lines = depot_calloc((size_t)cJSON_GetArraySize(lines), sizeof(*s->lines));
    s->codes = n_codes ? depot_calloc(n_codes, sizeof(*s->codes)) : NULL;
    if (!s->lines || (n_codes && !s->codes))
        return "out of memory";
    cJSON_ArrayForEach(l, lines)
    {
        if ((why = parse_line(l, s, &s->lines[s->n_lines], codes_total)))
            return why;
        s->units += s->lines[s->n_lines].qty;
        s->n_lines++;
    }
    for (size_t i = 0; i < s->n_lines; i++) /* codes sorted within their line */
        if (s->lines[i].n > 1)
            qsort(s->codes + s->lines[i].first, s->lines[i].n, sizeof(code_t), by_code);
    if (s->n_lines > 1)
        qsort(s->lines, s->n_lines, sizeof(*s->lines), by_sku);
    for (size_t i = 1; i < s->n_lines; i++)
        if (!strcmp(s->lines[i].sku, s->lines[i - 1].sku)) {
            snprintf(buf, sizeof(buf), "SKU %s on two lines", s->lines[i].sku);
            return buf;
        }
    return digest(s) ? NULL : "out of memory";
}

static void refuse(cJSON *errors, const struct ship_in *s, const char *why)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "line", (double)s->line);
    cJSON_AddStringToObject(e, "shipment", s->id);
    cJSON_AddStringToObject(e, "error", why);
    cJSON_AddItemToArray(errors, e);
}

/* ---- checks against the store, in the write transaction ---- */

struct catalog_map {
    struct hub_catalog_item *items;
    size_t n, cap;
    bool nomem;
};

static int catalog_row(void *arg, const struct hub_catalog_item *it)
{
    struct catalog_map *m = arg;
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        struct hub_catalog_item *n = depot_realloc(m->items, cap * sizeof(*n));
        if (!n)
            return m->nomem = true;
        m->items = n;
        m->cap = cap;
    }
    m->items[m->n++] = *it;
    return 0;
}

static int item_by_sku(const void *a, const void *b)
{
    return strcmp(((const struct hub_catalog_item *)a)->sku,
                  ((const struct hub_catalog_item *)b)->sku);
}

static const struct hub_catalog_item *catalog_sku(const struct catalog_map *m, const char *sku)
{
    size_t lo = 0, hi = m->n; /* sorted by sku (catalog_sort) */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(m->items[mid].sku, sku);
        if (!c)
            return &m->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int heard(void *arg, const struct hub_dealer_row *row)
{
    (void)row;
    *(bool *)arg = true;
    return 0;
}

static int copy_digest(void *arg, const struct hub_shipment *sh)
{
    snprintf(arg, DEPOT_CHAIN_HEX + 1, "%s", sh->digest);
    return 0;
}

struct code_owner {
    char shipment[HUB_SHIPMENT_ID_MAX + 1], dealer[DEPOT_DEALER_MAX + 1];
};

static int code_owner(void *arg, const struct hub_item_code *c)
{
    struct code_owner *o = arg;
    snprintf(o->shipment, sizeof(o->shipment), "%s", c->shipment);
    snprintf(o->dealer, sizeof(o->dealer), "%s", c->dealer);
    return 0;
}

/* s against the store and the shipments before it in the request (earlier[0..k)); NULL or
 * why it is refused. *already: the same shipment is recorded (nothing more to check). */
static const char *check_refs(hub_store *s, const struct catalog_map *cat, struct ship_in *sh,
                              const struct ship_in *earlier, size_t k, depot_err *err)
{
    static _Thread_local char why[240];
    char stored[DEPOT_CHAIN_HEX + 1] = "", gtin[DEPOT_GTIN_LEN + 1], norm[DEPOT_ITEM_CODE_MAX + 1];
    struct hub_dealer_profile prof;
    struct code_owner owner;
    struct hub_order o;
    bool known = false;

    for (size_t i = 0; i < k; i++)
        if (!strcmp(earlier[i].id, sh->id))
            return "the same shipment id twice in the request";
    *err = hub_store_shipment_get(s, sh->id, copy_digest, stored);
    if (*err == DEPOT_OK) {
        sh->already = !strcmp(stored, sh->digest);
        return sh->already ? NULL : "a shipment with this id is recorded with other contents";
    }
    if (*err != DEPOT_ERR_NOTFOUND)
        return NULL;
    *err = hub_store_profile_get(s, sh->dealer, &prof);
    if (*err == DEPOT_ERR_NOTFOUND)
        *err = hub_store_dealer_get(s, sh->dealer, heard, &known);
    if (*err == DEPOT_ERR_NOTFOUND) {
        *err = DEPOT_OK;
        return "no such dealer";
    }
    if (*err != DEPOT_OK)
        return NULL;
    if (sh->order[0]) {
        *err = hub_store_order_get(s, sh->order, &o);
        if (*err == DEPOT_ERR_NOTFOUND) {
            *err = DEPOT_OK;
            return "no such order";
        }
        if (*err != DEPOT_OK)
            return NULL;
        if (strcmp(o.dealer, sh->dealer) != 0)
            return "the order is another dealer's";
    }
    for (size_t i = 0; i < sh->n_lines; i++) {
        const struct ship_line *l = &sh->lines[i];
        const struct hub_catalog_item *it = catalog_sku(cat, l->sku);
        if (!it) {
            snprintf(why, sizeof(why), "SKU %s is not in the catalog", l->sku);
            return why;
        }
        for (size_t j = 0; j < l->n; j++) {
            const char *code = sh->codes[l->first + j];
            if (depot_item_code_norm(code, norm, gtin) && gtin[0] &&
                !depot_gtin_matches(gtin, it->barcode)) {
                snprintf(why, sizeof(why), "code %.64s: its GTIN %s is not SKU %s's barcode %s",
                         code, gtin, l->sku, it->barcode);
                return why;
            }
            if (it->serial_prefix[0] && !gtin[0] &&
                (strncmp(code, it->serial_prefix, strlen(it->serial_prefix)) != 0 ||
                 strlen(code) <= strlen(it->serial_prefix))) {
                snprintf(why, sizeof(why),
                         "code %.64s: not a serial of SKU %s (its serials start with %s)", code,
                         l->sku, it->serial_prefix);
                return why;
            }
            if (j > 0 && !strcmp(code, sh->codes[l->first + j - 1])) {
                snprintf(why, sizeof(why), "code %.64s twice", code);
                return why;
            }
            *err = hub_store_item_code(s, code, code_owner, &owner);
            if (*err == DEPOT_OK) {
                snprintf(why, sizeof(why), "code %.64s was shipped already (shipment %s to %s)",
                         code, owner.shipment, owner.dealer);
                return why;
            }
            if (*err != DEPOT_ERR_NOTFOUND)
                return NULL;
            *err = DEPOT_OK;
        }
    }
    for (size_t a = 0; a < sh->n_codes; a++) { /* across lines and earlier shipments */
        for (size_t b = a + 1; b < sh->n_codes; b++)
            if (!strcmp(sh->codes[a], sh->codes[b])) {
                snprintf(why, sizeof(why), "code %.64s twice", sh->codes[a]);
                return why;
            }
        for (size_t i = 0; i < k; i++)
            for (size_t c = 0; c < earlier[i].n_codes; c++)
                if (!strcmp(sh->codes[a], earlier[i].codes[c])) {
                    snprintf(why, sizeof(why), "code %.64s is in shipment %s of the request too",
                             sh->codes[a], earlier[i].id);
                    return why;
                }
    }
    return NULL;
}

static depot_err record(hub_store *s, const struct ship_in *sh, const char *actor, long long now)
{
    struct hub_shipment h = {sh->id, sh->dealer, sh->order, sh->shipped_at,        now,
                             actor,  sh->digest, sh->units, (long long)sh->n_codes};
    struct hub_shipment_line *lines = depot_calloc(sh->n_lines, sizeof(*lines));
    struct hub_item_code *codes = sh->n_codes ? depot_calloc(sh->n_codes, sizeof(*codes)) : NULL;
    char text[200];
    depot_err err = lines && (codes || !sh->n_codes) ? DEPOT_OK : DEPOT_ERR_NOMEM;
    for (size_t i = 0; err == DEPOT_OK && i < sh->n_lines; i++) {
        lines[i] = (struct hub_shipment_line){sh->lines[i].sku, sh->lines[i].qty,
                                              (long long)sh->lines[i].n};
        for (size_t j = 0; j < sh->lines[i].n; j++)
            codes[sh->lines[i].first + j] =
                (struct hub_item_code){sh->codes[sh->lines[i].first + j], sh->lines[i].sku,
                                       sh->dealer, sh->id, sh->shipped_at};
    }
    if (err == DEPOT_OK)
        err = hub_store_shipment_add(s, &h, lines, sh->n_lines, codes, sh->n_codes);
    snprintf(text, sizeof(text), "shipment %s: %lld units, %zu codes", sh->id, sh->units,
             sh->n_codes);
    if (err == DEPOT_OK)
        err = hub_audit(s, sh->order, sh->dealer, actor, "shipment", "", text, now);
    if (err == DEPOT_OK)
        err = hub_webhook_shipment(s, &h, lines, sh->n_lines);
    depot_free(lines);
    depot_free(codes);
    return err;
}

/*
 * Checks every shipment against the store and records the new ones in one transaction; any
 * refusal rolls all back, and so does a dry run. With an Idempotency-Key the answer is kept
 * in the transaction; a key used before records nothing (k->found).
 */
static depot_err import_all(hub_store *s, struct batch *b, const struct api_request *r,
                            struct api_idem *k, bool dry_run, bool one, cJSON *errors,
                            char **answer, unsigned *status)
{
    struct catalog_map cat = {0};
    long long version, now = depot_now_ms();
    size_t fresh = 0, already = 0;
    depot_err err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = api_idem_find(s, r, k);
    if (err == DEPOT_OK && !k->found)
        err = hub_store_catalog_list(s, &version, catalog_row, &cat);
    if (err == DEPOT_OK && cat.nomem)
        err = DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK && cat.n) /* the store's order is its collation's: strcmp's here */
        qsort(cat.items, cat.n, sizeof(*cat.items), item_by_sku);
    for (size_t i = 0; err == DEPOT_OK && !k->found && i < b->n; i++) {
        const char *why = b->sh[i].bad ? NULL : check_refs(s, &cat, &b->sh[i], b->sh, i, &err);
        if (why)
            refuse(errors, &b->sh[i], why);
        else if (err == DEPOT_OK && !b->sh[i].bad)
            b->sh[i].already ? already++ : fresh++;
    }
    for (size_t i = 0;
         err == DEPOT_OK && !k->found && !dry_run && cJSON_GetArraySize(errors) == 0 && i < b->n;
         i++)
        if (!b->sh[i].already)
            err = record(s, &b->sh[i], r->who->name, now);
    depot_free(cat.items);
    if (err == DEPOT_OK && !k->found && cJSON_GetArraySize(errors) == 0) {
        char text[200];
        if (one)
            snprintf(text, sizeof(text),
                     "{\"shipment\":\"%s\",\"recorded\":%s,\"already\":%s,\"units\":%lld,"
                     "\"codes\":%zu}",
                     b->sh[0].id, fresh && !dry_run ? "true" : "false", already ? "true" : "false",
                     b->sh[0].units, b->sh[0].n_codes);
        else
            snprintf(text, sizeof(text),
                     dry_run ? "{\"dry_run\":true,\"would_import\":%zu,\"already\":%zu}"
                             : "{\"imported\":%zu,\"already\":%zu}",
                     fresh, already);
        *status = one && fresh && !dry_run ? MHD_HTTP_CREATED : MHD_HTTP_OK;
        if (!(*answer = depot_strdup(text)))
            err = DEPOT_ERR_NOMEM;
    }
    if (err == DEPOT_OK && *answer && !dry_run)
        err = api_idem_keep(s, r, k, *status, *answer);
    if (err == DEPOT_OK && *answer && !dry_run)
        err = hub_store_commit(s);
    else
        hub_store_rollback(s);
    return err;
}

/* The body's shipments into b (each bad one named in errors); false if the body is not one. */
static bool parse_body(const char *body, bool one, cJSON *errors, struct batch *b)
{
    cJSON *root = cJSON_Parse(body), *items, *it;
    long long now = depot_now_ms();
    size_t codes_total = 0;
    int count;
    items = one ? NULL : cJSON_GetObjectItemCaseSensitive(root, "shipments");
    count = one                    ? (cJSON_IsObject(root) ? 1 : -1)
            : cJSON_IsArray(items) ? cJSON_GetArraySize(items)
                                   : -1;
    if (count < 1 || count > SHIPMENTS_MAX ||
        !(b->sh = depot_calloc((size_t)count, sizeof(*b->sh)))) {
        cJSON_Delete(root);
        return false;
    }
    for (it = one ? root : items->child; it && b->n < (size_t)count; it = it->next) {
        struct ship_in *s = &b->sh[b->n];
        const char *why = parse_ship(it, (long long)b->n + 1, now, s, &codes_total);
        s->bad = why != NULL;
        if (why)
            refuse(errors, s, why);
        b->n++;
    }
    cJSON_Delete(root);
    return true;
}

static enum MHD_Result post(hub_api *api, const struct api_request *r, bool one)
{
    cJSON *errors = cJSON_CreateArray();
    struct batch b = {0};
    const char *dry = api_query(r, "dry_run"), *why = NULL;
    bool dry_run = dry && (!strcmp(dry, "1") || !strcmp(dry, "true"));
    struct api_idem k;
    unsigned status = MHD_HTTP_OK;
    char *answer = NULL, msg[80];
    enum MHD_Result ret;
    hub_store *s;
    depot_err err;

    if ((dry && !dry_run && strcmp(dry, "0") && strcmp(dry, "false")) ||
        !api_idem_read(r, &k, &why)) {
        cJSON_Delete(errors);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              why ? why : "dry_run: 1 or true, 0 or false");
    }
    if (dry_run)
        k.on = false; /* a dry run writes nothing: no answer to keep or give again */
    if (!parse_body(r->body, one, errors, &b)) {
        cJSON_Delete(errors);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              one ? "the body must be one shipment {\"shipment\", \"dealer\", "
                                    "\"lines\"}"
                                  : "the body must be {\"shipments\":[...]} with 1..1000 items");
    }
    s = api_reader_take(api);
    err = import_all(s, &b, r, &k, dry_run, one, errors, &answer, &status);
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        ret = api_send_store_error(api, r, err, "shipments not recorded");
    } else if (k.found) {
        ret = api_idem_answer(api, r, &k);
    } else if (cJSON_GetArraySize(errors) > 0) {
        cJSON *root = cJSON_CreateObject();
        bool conflict = one && strstr(cJSON_GetStringValue(cJSON_GetObjectItem(
                                          cJSON_GetArrayItem(errors, 0), "error")),
                                      "other contents");
        snprintf(msg, sizeof(msg), "%d shipment%s refused: nothing recorded",
                 cJSON_GetArraySize(errors), cJSON_GetArraySize(errors) == 1 ? "" : "s");
        cJSON_AddStringToObject(root, "error", msg);
        cJSON_AddItemToObject(root, "errors", errors);
        errors = NULL;
        ret = api_send_json(api, r, conflict ? MHD_HTTP_CONFLICT : MHD_HTTP_BAD_REQUEST, root);
    } else {
        LOG_INFO("shipments: %zu %s by %s", b.n,
                 dry_run ? "checked (dry run, nothing written)" : "recorded or known",
                 r->who->name);
        ret = api_idem_send(api, r, status, answer);
    }
    cJSON_Delete(errors);
    depot_free(answer);
    api_idem_clear(&k);
    batch_free(&b);
    return ret;
}

enum MHD_Result api_shipment_post(hub_api *api, const struct api_request *r)
{
    return post(api, r, true);
}

enum MHD_Result api_shipments_import(hub_api *api, const struct api_request *r)
{
    return post(api, r, false);
}

/* ---- reads ---- */

static cJSON *shipment_json(const struct hub_shipment *sh)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "shipment", sh->id);
    cJSON_AddStringToObject(o, "dealer", sh->dealer);
    cJSON_AddStringToObject(o, "order", sh->order);
    cJSON_AddItemToObject(o, "shipped_at", api_time_json(sh->shipped_at));
    cJSON_AddItemToObject(o, "recorded_at", api_time_json(sh->recorded_at));
    cJSON_AddStringToObject(o, "recorded_by", sh->recorded_by);
    cJSON_AddNumberToObject(o, "units", (double)sh->units);
    cJSON_AddNumberToObject(o, "codes", (double)sh->n_codes);
    cJSON_AddStringToObject(o, "digest", sh->digest);
    return o;
}

static int list_row(void *arg, const struct hub_shipment *sh)
{
    cJSON_AddItemToArray(arg, shipment_json(sh));
    return 0;
}

enum MHD_Result api_shipments_list(hub_api *api, const struct api_request *r)
{
    const char *dealer = api_query(r, "dealer"), *from_s = api_query_raw(r, "from"),
               *to_s = api_query_raw(r, "to"), *after = api_query_raw(r, "after"),
               *lim = api_query_raw(r, "limit");
    long long from = 0, to = 1LL << 62, limit = 1000;
    cJSON *list;
    hub_store *s;
    depot_err err;
    if ((dealer && !depot_dealer_id_valid(dealer)) || (after && !ship_id_valid(after)) ||
        (from_s && !api_time_arg(from_s, false, &from)) ||
        (to_s && !api_time_arg(to_s, true, &to)) ||
        (lim && !api_parse_ll(lim, 1, LIST_MAX, &limit)))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "dealer, from, to (dates or times), after (a shipment id) or limit "
                              "(1..10000) is not valid");
    list = cJSON_CreateArray();
    s = api_reader_take(api);
    err = hub_store_shipments_list(s, dealer, from, to, after, limit, list_row, list);
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(list);
        return api_send_store_error(api, r, err, "");
    }
    return api_send_json(api, r, MHD_HTTP_OK, list);
}

static int one_row(void *arg, const struct hub_shipment *sh)
{
    *(cJSON **)arg = shipment_json(sh);
    return 0;
}

static int line_row(void *arg, const struct hub_shipment_line *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sku", l->sku);
    cJSON_AddNumberToObject(o, "qty", (double)l->qty);
    cJSON_AddNumberToObject(o, "codes", (double)l->codes);
    cJSON_AddItemToArray(arg, o);
    return 0;
}

static int code_row(void *arg, const struct hub_item_code *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", c->code);
    cJSON_AddStringToObject(o, "sku", c->sku);
    cJSON_AddItemToArray(arg, o);
    return 0;
}

enum MHD_Result api_shipment_get(hub_api *api, const struct api_request *r)
{
    cJSON *o = NULL, *lines = cJSON_CreateArray(), *codes = cJSON_CreateArray();
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_shipment_get(s, r->arg, one_row, &o);
    if (err == DEPOT_OK)
        err = hub_store_shipment_lines(s, r->arg, line_row, lines);
    if (err == DEPOT_OK)
        err = hub_store_shipment_codes(s, r->arg, code_row, codes);
    api_reader_give(api, s);
    if (err == DEPOT_OK && api_scope_hides(r, o))
        err = DEPOT_ERR_NOTFOUND; /* another dealer's: as if none */
    if (err != DEPOT_OK) {
        cJSON_Delete(o);
        cJSON_Delete(lines);
        cJSON_Delete(codes);
        return api_send_store_error(api, r, err, "no such shipment");
    }
    cJSON_AddItemToObject(o, "lines", lines);
    cJSON_AddItemToObject(o, "item_codes", codes);
    return api_send_json(api, r, MHD_HTTP_OK, o);
}

static int code_one(void *arg, const struct hub_item_code *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", c->code);
    cJSON_AddStringToObject(o, "sku", c->sku);
    cJSON_AddStringToObject(o, "dealer", c->dealer);
    cJSON_AddStringToObject(o, "shipment", c->shipment);
    cJSON_AddItemToObject(o, "shipped_at", api_time_json(c->shipped_at));
    *(cJSON **)arg = o;
    return 0;
}

#define CODE_SCANS_MAX 1000 /* the newest scans of a code listed (an item moves a few times) */

struct code_scans {
    cJSON *list;
    const char *scope; /* a dealer's user: its own scans only */
    char sku[DEPOT_SKU_MAX + 1];
    long long n, dropped;
    bool nomem;
};

static int code_scan(void *arg, const struct hub_code_scan *sc)
{
    struct code_scans *c = arg;
    cJSON *o;
    if (c->scope && strcmp(c->scope, sc->dealer) != 0)
        return 0;
    if (!c->sku[0])
        snprintf(c->sku, sizeof(c->sku), "%s", sc->sku);
    if (c->n == CODE_SCANS_MAX) { /* oldest first: keep the newest */
        cJSON_DeleteItemFromArray(c->list, 0);
        c->n--;
        c->dropped++;
    }
    if (!(o = cJSON_CreateObject()) || !cJSON_AddItemToArray(c->list, o)) {
        cJSON_Delete(o);
        c->nomem = true;
        return 1;
    }
    c->n++;
    cJSON_AddStringToObject(o, "dealer", sc->dealer);
    cJSON_AddStringToObject(o, "kind", sc->kind);
    cJSON_AddStringToObject(o, "sku", sc->sku);
    cJSON_AddStringToObject(o, "node", sc->node);
    cJSON_AddItemToObject(o, "at", api_time_json(sc->ts));
    cJSON_AddStringToObject(o, "ledger", sc->ledger);
    cJSON_AddNumberToObject(o, "movement", (double)sc->mid);
    return 0;
}

/*
 * GET /codes/<code>: where the item was shipped (dealer null when no shipment registered it)
 * and every movement that carried its code, oldest first (the newest 1000). A dealer's user
 * sees a code shipped to its dealer, and its own scans of it only.
 */
enum MHD_Result api_code_get(hub_api *api, const struct api_request *r)
{
    code_t norm;
    cJSON *o = NULL;
    struct code_scans c = {.scope = r->scope};
    hub_store *s;
    depot_err err;
    if (!depot_item_code_norm(r->arg, norm, NULL))
        return api_send_error(api, r, MHD_HTTP_NOT_FOUND, "no such item code");
    if (!(c.list = cJSON_CreateArray()))
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    s = api_reader_take(api);
    err = hub_store_item_code(s, norm, code_one, &o);
    if (err == DEPOT_OK && api_scope_hides(r, o))
        err = DEPOT_ERR_NOTFOUND;
    if (err == DEPOT_OK || (err == DEPOT_ERR_NOTFOUND && !r->scope)) {
        depot_err e = hub_store_code_scans(s, norm, code_scan, &c);
        if (e == DEPOT_OK && c.nomem)
            e = DEPOT_ERR_NOMEM;
        if (e != DEPOT_OK)
            err = e;
        else if (err == DEPOT_ERR_NOTFOUND && c.n > 0)
            err = DEPOT_OK; /* scanned, never shipped */
    }
    api_reader_give(api, s);
    if (err == DEPOT_OK && !o && (o = cJSON_CreateObject())) { /* scanned, never shipped */
        cJSON_AddStringToObject(o, "code", norm);
        cJSON_AddStringToObject(o, "sku", c.sku);
        cJSON_AddNullToObject(o, "dealer");
        cJSON_AddNullToObject(o, "shipment");
        cJSON_AddNullToObject(o, "shipped_at");
    }
    if (err == DEPOT_OK && o && cJSON_AddItemToObject(o, "scans", c.list)) {
        c.list = NULL;
        if (c.dropped)
            cJSON_AddNumberToObject(o, "scans_left_out", (double)c.dropped);
    } else if (err == DEPOT_OK) {
        err = DEPOT_ERR_NOMEM;
    }
    cJSON_Delete(c.list);
    if (err != DEPOT_OK) {
        cJSON_Delete(o);
        return api_send_store_error(api, r, err, "no such item code");
    }
    return api_send_json(api, r, MHD_HTTP_OK, o);
}
