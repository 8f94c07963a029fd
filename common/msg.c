/*
 * The MQTT message codec (include/depot/msg.h has the contract).
 *
 * Decoding is strict and table-driven: each object (envelope, each body,
 * snapshot item) is described by a table of keys with their JSON kind and
 * bounds. A key that is missing, unknown, repeated or of the wrong kind, or
 * a value out of bounds, rejects the whole message with a reason naming the
 * key; nothing is written into the caller's message until everything is
 * checked, so a rejected message is never half-decoded.
 *
 * Encoding builds the same shape with cJSON after checking the message with
 * the same bounds, so the encoder never emits what the decoder would refuse.
 * Integers travel as JSON numbers; ids and timestamps stay below 2^53 so
 * they are exact in a double.
 */
#include "depot/msg.h"
#include "depot/item_code.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/clock.h"

#define INT_EXACT_MAX 9007199254740991.0 /* 2^53 - 1 */

static const struct type_info {
    const char *name;
    const char *leaf;
    bool stream;
} types[DEPOT_MSG__COUNT] = {
    [DEPOT_MSG_STOCK] = {"stock", "up/stock", true},
    [DEPOT_MSG_EVENT] = {"event", "up/event", true},
    [DEPOT_MSG_SNAPSHOT] = {"snapshot", "up/snapshot", false},
    [DEPOT_MSG_STATE] = {"state", "state", false},
    [DEPOT_MSG_ACK] = {"ack", "down/ack", false},
    [DEPOT_MSG_ORDER] = {"order", "up/order", true},
    [DEPOT_MSG_DECISION] = {"decision", "down/decision", false},
    [DEPOT_MSG_CATALOG] = {"catalog", "down/catalog", false},
    [DEPOT_MSG_MOVEMENTS] = {"movements", "up/movements", true},
    [DEPOT_MSG_ALERT] = {"alert", "down/alert", false},
    [DEPOT_MSG_RANKING] = {"ranking", "down/ranking", false},
    [DEPOT_MSG_OUTBOX] = {"outbox", "up/outbox", false},
    [DEPOT_MSG_POLICY] = {"policy", "down/policy", false},
    [DEPOT_MSG_SIGNATURE] = {"signature", "up/signature", true},
    [DEPOT_MSG_CONTRACT] = {"contract", "down/contract", false},
};

const char *depot_msg_type_name(depot_msg_type type)
{
    return (unsigned)type < DEPOT_MSG__COUNT ? types[type].name : NULL;
}

const char *depot_msg_topic_leaf(depot_msg_type type)
{
    return (unsigned)type < DEPOT_MSG__COUNT ? types[type].leaf : NULL;
}

bool depot_msg_is_stream(depot_msg_type type)
{
    return (unsigned)type < DEPOT_MSG__COUNT && types[type].stream;
}

bool depot_barcode_valid(const char *s)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++)
        if (s[n] <= ' ' || s[n] > '~' || n >= DEPOT_BARCODE_LEN)
            return false;
    return n > 0;
}

bool depot_serial_prefix_valid(const char *s)
{
    size_t n = 0;
    if (!s || s[0] == '(')
        return false;
    for (; s[n]; n++)
        if (s[n] <= ' ' || s[n] > '~' || n >= DEPOT_SERIAL_PREFIX_MAX)
            return false;
    return n > 0;
}

/* s is exactly len lowercase hex digits. */
static bool ledger_hex(const char *s, size_t len)
{
    size_t n;
    for (n = 0; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return n == len;
}

static bool ledger_valid(const char *s)
{
    return ledger_hex(s, DEPOT_LEDGER_HEX);
}

/* ---- key tables --------------------------------------------------------- */

/* K_STR_OPT: a K_STR that may be missing (its found[] is NULL then); every other kind is
 * required. */
enum kind { K_INT, K_NUM, K_STR, K_ID, K_BARCODE, K_BOOL, K_OBJ, K_ARR, K_STR_OPT };

struct key {
    const char *name;
    enum kind kind;
    double min, max; /* K_INT: value bounds; K_STR/K_ID: length bounds */
};

#define MAX_KEYS 10

struct schema {
    const char *where; /* "", "body.", "body.items[]." */
    struct key keys[MAX_KEYS];
};

static const struct schema envelope_schema = {"",
                                              {
                                                  {"v", K_INT, 0, 1e9},
                                                  {"type", K_STR, 1, 16},
                                                  {"dealer", K_ID, 1, DEPOT_DEALER_MAX},
                                                  {"ledger", K_STR, 0, DEPOT_LEDGER_HEX},
                                                  {"id", K_INT, 0, INT_EXACT_MAX},
                                                  {"base", K_INT, 0, INT_EXACT_MAX},
                                                  {"ts", K_INT, 0, INT_EXACT_MAX},
                                                  {"body", K_OBJ, 0, 0},
                                              }};

static const struct schema body_schemas[DEPOT_MSG__COUNT] = {
    [DEPOT_MSG_STOCK] = {"body.",
                         {
                             {"sku", K_ID, 1, DEPOT_SKU_MAX},
                             {"qty", K_INT, 0, DEPOT_QTY_MAX},
                             {"delta", K_INT, -DEPOT_QTY_MAX, DEPOT_QTY_MAX},
                             {"node", K_ID, 1, DEPOT_NODE_MAX},
                         }},
    [DEPOT_MSG_EVENT] = {"body.",
                         {
                             {"node", K_ID, 1, DEPOT_NODE_MAX},
                             {"event", K_STR, 1, DEPOT_EVENT_MAX},
                             {"reason", K_STR, 0, DEPOT_REASON_MAX},
                             {"count", K_INT, 0, INT_EXACT_MAX},
                         }},
    [DEPOT_MSG_SNAPSHOT] = {"body.",
                            {
                                {"as_of", K_INT, 0, INT_EXACT_MAX},
                                {"items", K_ARR, 0, DEPOT_SNAPSHOT_MAX_ITEMS},
                            }},
    [DEPOT_MSG_STATE] = {"body.",
                         {
                             {"online", K_BOOL, 0, 0},
                             {"session", K_INT, 0, INT_EXACT_MAX},
                         }},
    [DEPOT_MSG_ACK] = {"body.",
                       {
                           {"upto", K_INT, 0, INT_EXACT_MAX},
                       }},
    [DEPOT_MSG_ORDER] = {"body.",
                         {
                             {"doc", K_STR, 2, DEPOT_ORDER_DOC_MAX},
                             {"sig", K_STR, 1, DEPOT_SIG_B64_MAX},
                             {"cert", K_STR, 1, DEPOT_CERT_PEM_MAX},
                         }},
    [DEPOT_MSG_DECISION] = {"body.",
                            {
                                {"order", K_ID, 1, DEPOT_ORDER_ID_MAX},
                                {"number", K_INT, 0, INT_EXACT_MAX},
                                {"status", K_STR, 1, DEPOT_STATUS_MAX},
                                {"stage", K_STR, 0, DEPOT_STAGE_MAX},
                                {"reason", K_STR, 0, DEPOT_REASON_MAX},
                            }},
    [DEPOT_MSG_CATALOG] = {"body.",
                           {
                               {"version", K_INT, 0, INT_EXACT_MAX},
                               {"items", K_ARR, 0, DEPOT_CATALOG_MAX_ITEMS},
                           }},
    [DEPOT_MSG_MOVEMENTS] = {"body.",
                             {
                                 {"items", K_ARR, 1, DEPOT_MOVEMENTS_MAX_ITEMS},
                                 {"prev", K_STR_OPT, DEPOT_CHAIN_HASH_HEX, DEPOT_CHAIN_HASH_HEX},
                                 {"sig", K_STR_OPT, 1, DEPOT_SIG_B64_MAX},
                                 {"cert", K_STR_OPT, 1, DEPOT_CERT_PEM_MAX},
                             }},
    [DEPOT_MSG_ALERT] = {"body.",
                         {
                             {"alert", K_INT, 1, INT_EXACT_MAX},
                             {"kind", K_STR, 1, DEPOT_ALERT_KIND_MAX},
                             {"sku", K_ID, 0, DEPOT_SKU_MAX},
                             {"severity", K_STR, 1, DEPOT_STATUS_MAX},
                             {"status", K_STR, 1, DEPOT_STATUS_MAX},
                             {"text", K_STR, 0, DEPOT_TEXT_MAX},
                             {"action", K_STR, 0, DEPOT_TEXT_MAX},
                         }},
    [DEPOT_MSG_RANKING] = {"body.",
                           {
                               {"period", K_STR, 1, DEPOT_PERIOD_MAX},
                               {"rank", K_INT, 1, INT_EXACT_MAX},
                               {"of", K_INT, 1, INT_EXACT_MAX},
                               {"score", K_NUM, -1e12, 1e12},
                               {"rebate_pct", K_NUM, 0, 100},
                               {"rebate", K_NUM, -1e15, 1e15},
                               {"kpis", K_ARR, 0, DEPOT_KPI_MAX},
                           }},
    [DEPOT_MSG_OUTBOX] = {"body.",
                          {
                              {"queued", K_INT, 0, INT_EXACT_MAX},
                              {"max", K_INT, 1, INT_EXACT_MAX},
                              {"refuse_at", K_INT, 1, INT_EXACT_MAX},
                          }},
    [DEPOT_MSG_POLICY] = {"body.",
                          {
                              {"policies", K_ARR, 0, DEPOT_POLICIES_MAX},
                          }},
    [DEPOT_MSG_SIGNATURE] = {"body.",
                             {
                                 {"doc", K_STR, 2, DEPOT_ORDER_DOC_MAX},
                                 {"sig", K_STR, 1, DEPOT_SIG_B64_MAX},
                                 {"cert", K_STR, 1, DEPOT_CERT_PEM_MAX},
                             }},
    [DEPOT_MSG_CONTRACT] = {"body.",
                            {
                                {"contracts", K_ARR, 0, DEPOT_CONTRACTS_MAX},
                            }},
};

static const struct schema contract_item_schema = {
    "body.contracts[].",
    {
        {"contract", K_INT, 1, INT_EXACT_MAX},
        {"title", K_STR, 1, DEPOT_POLICY_TITLE_MAX},
        {"sha256", K_STR, DEPOT_SHA256_HEX, DEPOT_SHA256_HEX},
        {"signed", K_BOOL, 0, 0},
    }};

static const struct schema contract_doc_schema = {
    "doc.",
    {
        {"contract", K_INT, 1, INT_EXACT_MAX},
        {"dealer", K_ID, 1, DEPOT_DEALER_MAX},
        {"sha256", K_STR, DEPOT_SHA256_HEX, DEPOT_SHA256_HEX},
        {"signed_at", K_INT, 0, INT_EXACT_MAX},
        {"terminal", K_ID, 1, DEPOT_NODE_MAX},
    }};

static const struct schema policy_item_schema = {
    "body.policies[].",
    {
        {"policy", K_INT, 1, INT_EXACT_MAX},
        {"title", K_STR, 1, DEPOT_POLICY_TITLE_MAX},
        {"notice", K_STR, 1, DEPOT_POLICY_NOTICE_MAX},
        {"valid_to", K_STR, DEPOT_DATE_LEN, DEPOT_DATE_LEN},
        {"acked", K_BOOL, 0, 0},
    }};

static const struct schema item_schema = {"body.items[].",
                                          {
                                              {"sku", K_ID, 1, DEPOT_SKU_MAX},
                                              {"qty", K_INT, 0, DEPOT_QTY_MAX},
                                              {"node", K_ID, 1, DEPOT_NODE_MAX},
                                              {"fault", K_BOOL, 0, 0},
                                          }};

static const struct schema catalog_item_schema = {
    "body.items[].",
    {
        {"sku", K_ID, 1, DEPOT_SKU_MAX},
        {"barcode", K_BARCODE, 1, DEPOT_BARCODE_LEN},
        {"min_qty", K_INT, 1, DEPOT_QTY_MAX},
        {"max_qty", K_INT, 1, DEPOT_QTY_MAX},
        {"serial_prefix", K_STR_OPT, 1, DEPOT_SERIAL_PREFIX_MAX},
    }};

static const struct schema movement_item_schema = {
    "body.items[].",
    {
        {"mid", K_INT, 1, INT_EXACT_MAX},
        {"ts", K_INT, 0, INT_EXACT_MAX},
        {"node", K_ID, 1, DEPOT_NODE_MAX},
        {"sku", K_ID, 1, DEPOT_SKU_MAX},
        {"kind", K_STR, 1, DEPOT_KIND_MAX},
        {"delta", K_INT, -DEPOT_QTY_MAX, DEPOT_QTY_MAX},
        {"qty", K_INT, 0, DEPOT_QTY_MAX},
        {"h", K_STR_OPT, DEPOT_CHAIN_HASH_HEX, DEPOT_CHAIN_HASH_HEX},
        {"code", K_STR_OPT, 1, DEPOT_ITEM_CODE_MAX},
    }};

static const struct schema kpi_item_schema = {"body.kpis[].",
                                              {
                                                  {"name", K_ID, 1, DEPOT_KIND_MAX},
                                                  {"value", K_NUM, -1e15, 1e15},
                                                  {"score", K_NUM, -1e12, 1e12},
                                                  {"weight", K_NUM, 0, 1e6},
                                              }};

static const struct schema order_doc_schema = {"doc.",
                                               {
                                                   {"order", K_ID, 1, DEPOT_ORDER_ID_MAX},
                                                   {"dealer", K_ID, 1, DEPOT_DEALER_MAX},
                                                   {"number", K_INT, 1, INT_EXACT_MAX},
                                                   {"terminal", K_ID, 1, DEPOT_NODE_MAX},
                                                   {"created", K_INT, 0, INT_EXACT_MAX},
                                                   {"lines", K_ARR, 1, DEPOT_ORDER_LINES_MAX},
                                               }};

static const struct schema order_line_schema = {"doc.lines[].",
                                                {
                                                    {"barcode", K_BARCODE, 1, DEPOT_BARCODE_LEN},
                                                    {"qty", K_INT, 1, DEPOT_QTY_MAX},
                                                }};

static void set_reason(char *reason, size_t len, const char *where, const char *key,
                       const char *what)
{
    if (reason && len)
        snprintf(reason, len, "%s%s: %s", where, key, what);
}

static bool kind_ok(const cJSON *v, const struct key *k, const char **why)
{
    switch (k->kind) {
    case K_INT:
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
            v->valuedouble != floor(v->valuedouble)) {
            *why = "not an integer";
            return false;
        }
        if (v->valuedouble < k->min || v->valuedouble > k->max) {
            *why = "out of range";
            return false;
        }
        return true;
    case K_NUM:
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            *why = "not a number";
            return false;
        }
        *why = "out of range";
        return v->valuedouble >= k->min && v->valuedouble <= k->max;
    case K_STR:
    case K_STR_OPT:
    case K_ID:
    case K_BARCODE: {
        size_t n;
        if (!cJSON_IsString(v) || !v->valuestring) {
            *why = "not a string";
            return false;
        }
        n = strlen(v->valuestring);
        if (n < (size_t)k->min || n > (size_t)k->max) {
            *why = "bad length";
            return false;
        }
        if (k->kind == K_ID && n > 0 && !depot_id_valid(v->valuestring, (size_t)k->max)) {
            *why = "not a valid id";
            return false;
        }
        if (k->kind == K_BARCODE && !depot_barcode_valid(v->valuestring)) {
            *why = "not a valid barcode";
            return false;
        }
        return true;
    }
    case K_BOOL:
        *why = "not a boolean";
        return cJSON_IsBool(v);
    case K_OBJ:
        *why = "not an object";
        return cJSON_IsObject(v);
    case K_ARR:
        if (!cJSON_IsArray(v)) {
            *why = "not an array";
            return false;
        }
        *why = cJSON_GetArraySize(v) < (int)k->min ? "too few items" : "too many items";
        return cJSON_GetArraySize(v) >= (int)k->min && cJSON_GetArraySize(v) <= (int)k->max;
    }
    return false;
}

/*
 * Check obj against schema; on success found[i] points at the value of
 * keys[i]. Every key required, none unknown or repeated.
 */
static depot_err check_object(const cJSON *obj, const struct schema *s, const cJSON **found,
                              char *reason, size_t reason_len)
{
    const cJSON *child;
    const char *why = "invalid";
    size_t i;

    memset(found, 0, sizeof(*found) * MAX_KEYS);
    cJSON_ArrayForEach(child, obj)
    {
        for (i = 0; i < MAX_KEYS && s->keys[i].name; i++)
            if (child->string && strcmp(child->string, s->keys[i].name) == 0)
                break;
        if (i == MAX_KEYS || !s->keys[i].name) {
            set_reason(reason, reason_len, s->where, child->string ? child->string : "?",
                       "unknown key");
            return DEPOT_ERR_SCHEMA;
        }
        if (found[i]) {
            set_reason(reason, reason_len, s->where, child->string, "repeated key");
            return DEPOT_ERR_SCHEMA;
        }
        if (!kind_ok(child, &s->keys[i], &why)) {
            set_reason(reason, reason_len, s->where, child->string, why);
            return DEPOT_ERR_SCHEMA;
        }
        found[i] = child;
    }
    for (i = 0; i < MAX_KEYS && s->keys[i].name; i++) {
        if (!found[i] && s->keys[i].kind != K_STR_OPT) {
            set_reason(reason, reason_len, s->where, s->keys[i].name, "missing");
            return DEPOT_ERR_SCHEMA;
        }
    }
    return DEPOT_OK;
}

static void copy_str(char *dst, size_t dst_len, const cJSON *v)
{
    snprintf(dst, dst_len, "%s", v->valuestring);
}

/* ---- decode ------------------------------------------------------------- */

/* Fills element i of an array from the values check_object found. */
typedef depot_err (*fill_fn)(void *items, size_t i, const cJSON *const *f, char *reason,
                             size_t reason_len);

/* Check every element of arr against s and hand it to fill; stops at the first defect. */
static depot_err decode_objects(const cJSON *arr, const struct schema *s, void *items, fill_fn fill,
                                char *reason, size_t reason_len)
{
    const cJSON *found[MAX_KEYS];
    const cJSON *item;
    size_t i = 0;
    depot_err err;

    cJSON_ArrayForEach(item, arr)
    {
        if (!cJSON_IsObject(item)) {
            /* s->where ends in "[]."; the reason names the array element. */
            if (reason && reason_len)
                snprintf(reason, reason_len, "%.*s: not an object", (int)strlen(s->where) - 1,
                         s->where);
            return DEPOT_ERR_SCHEMA;
        }
        err = check_object(item, s, found, reason, reason_len);
        if (err == DEPOT_OK)
            err = fill(items, i++, found, reason, reason_len);
        if (err != DEPOT_OK)
            return err;
    }
    return DEPOT_OK;
}

static depot_err fill_snapshot_item(void *items, size_t i, const cJSON *const *f, char *reason,
                                    size_t reason_len)
{
    struct depot_snapshot_item *it = (struct depot_snapshot_item *)items + i;
    (void)reason;
    (void)reason_len;
    copy_str(it->sku, sizeof(it->sku), f[0]);
    it->qty = (long long)f[1]->valuedouble;
    copy_str(it->node, sizeof(it->node), f[2]);
    it->fault = cJSON_IsTrue(f[3]);
    return DEPOT_OK;
}

static depot_err fill_catalog_item(void *items, size_t i, const cJSON *const *f, char *reason,
                                   size_t reason_len)
{
    struct depot_catalog_item *it = (struct depot_catalog_item *)items + i;
    copy_str(it->sku, sizeof(it->sku), f[0]);
    copy_str(it->barcode, sizeof(it->barcode), f[1]);
    it->min_qty = (long long)f[2]->valuedouble;
    it->max_qty = (long long)f[3]->valuedouble;
    if (it->min_qty > it->max_qty) {
        set_reason(reason, reason_len, "body.items[].", "min_qty", "above max_qty");
        return DEPOT_ERR_SCHEMA;
    }
    if (f[4]) {
        copy_str(it->serial_prefix, sizeof(it->serial_prefix), f[4]);
        if (!depot_serial_prefix_valid(it->serial_prefix)) {
            set_reason(reason, reason_len, "body.items[].", "serial_prefix", "not a prefix");
            return DEPOT_ERR_SCHEMA;
        }
    }
    return DEPOT_OK;
}

/* YYYY-MM-DD with digits where they belong (the calendar is the hub's to check). */
static depot_err fill_policy_item(void *items, size_t i, const cJSON *const *f, char *reason,
                                  size_t reason_len)
{
    struct depot_policy_item *it = (struct depot_policy_item *)items + i;
    it->policy = (long long)f[0]->valuedouble;
    copy_str(it->title, sizeof(it->title), f[1]);
    copy_str(it->notice, sizeof(it->notice), f[2]);
    copy_str(it->valid_to, sizeof(it->valid_to), f[3]);
    it->acked = cJSON_IsTrue(f[4]);
    if (!depot_date_valid(it->valid_to)) {
        set_reason(reason, reason_len, "body.policies[].", "valid_to", "not YYYY-MM-DD");
        return DEPOT_ERR_SCHEMA;
    }
    return DEPOT_OK;
}

bool depot_sha256_hex_valid(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return s && n == DEPOT_SHA256_HEX;
}

static depot_err fill_contract_item(void *items, size_t i, const cJSON *const *f, char *reason,
                                    size_t reason_len)
{
    struct depot_contract_item *it = (struct depot_contract_item *)items + i;
    it->contract = (long long)f[0]->valuedouble;
    copy_str(it->title, sizeof(it->title), f[1]);
    copy_str(it->sha256, sizeof(it->sha256), f[2]);
    it->signed_ = cJSON_IsTrue(f[3]);
    if (!depot_sha256_hex_valid(it->sha256)) {
        set_reason(reason, reason_len, "body.contracts[].", "sha256", "not 64 lowercase hex");
        return DEPOT_ERR_SCHEMA;
    }
    return DEPOT_OK;
}

static depot_err fill_order_line(void *items, size_t i, const cJSON *const *f, char *reason,
                                 size_t reason_len)
{
    struct depot_order_line *line = (struct depot_order_line *)items + i;
    (void)reason;
    (void)reason_len;
    copy_str(line->barcode, sizeof(line->barcode), f[0]);
    line->qty = (long long)f[1]->valuedouble;
    return DEPOT_OK;
}

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

static const char *const movement_kinds[] = {"scale", "receive", "pick", "count", NULL};

/* A stock count after a change of delta is plausible only if the count before it was one too. */
static bool count_before_ok(long long qty, long long delta)
{
    long long before = qty - delta; /* both bounded by the schema: no overflow */
    return before >= 0 && before <= DEPOT_QTY_MAX;
}
static const char *const alert_statuses[] = {"open", "acknowledged", "resolved", NULL};

static depot_err fill_movement(void *items, size_t i, const cJSON *const *f, char *reason,
                               size_t reason_len)
{
    struct depot_movement_item *it = (struct depot_movement_item *)items + i;
    it->mid = (uint64_t)f[0]->valuedouble;
    it->ts = (long long)f[1]->valuedouble;
    copy_str(it->node, sizeof(it->node), f[2]);
    copy_str(it->sku, sizeof(it->sku), f[3]);
    copy_str(it->kind, sizeof(it->kind), f[4]);
    it->delta = (long long)f[5]->valuedouble;
    it->qty = (long long)f[6]->valuedouble;
    it->hash[0] = '\0';
    if (f[7] && !ledger_hex(f[7]->valuestring, DEPOT_CHAIN_HASH_HEX)) {
        set_reason(reason, reason_len, "body.items[].", "h", "not 64 lowercase hex digits");
        return DEPOT_ERR_SCHEMA;
    }
    if (f[7])
        copy_str(it->hash, sizeof(it->hash), f[7]);
    it->code[0] = '\0';
    if (f[8] && !depot_item_code_norm(f[8]->valuestring, it->code, NULL)) {
        set_reason(reason, reason_len, "body.items[].", "code", "not an item code");
        return DEPOT_ERR_SCHEMA;
    }
    if (f[8] && strcmp(it->code, f[8]->valuestring) != 0) {
        set_reason(reason, reason_len, "body.items[].", "code", "not in its normal form");
        return DEPOT_ERR_SCHEMA;
    }
    if (!one_of(it->kind, movement_kinds)) {
        set_reason(reason, reason_len, "body.items[].", "kind",
                   "not scale, receive, pick or count");
        return DEPOT_ERR_SCHEMA;
    }
    if (!count_before_ok(it->qty, it->delta)) {
        set_reason(reason, reason_len, "body.items[].", "delta",
                   "the stock before it (qty - delta) is not a count of 0..1e9");
        return DEPOT_ERR_SCHEMA;
    }
    if ((!strcmp(it->kind, "pick") && it->delta >= 0) ||
        (!strcmp(it->kind, "receive") && it->delta <= 0)) {
        set_reason(reason, reason_len, "body.items[].", "delta",
                   "a pick must lower the stock, a receipt raise it");
        return DEPOT_ERR_SCHEMA;
    }
    if (i > 0 && it->mid <= it[-1].mid) {
        set_reason(reason, reason_len, "body.items[].", "mid", "not growing");
        return DEPOT_ERR_SCHEMA;
    }
    return DEPOT_OK;
}

static depot_err fill_kpi(void *items, size_t i, const cJSON *const *f, char *reason,
                          size_t reason_len)
{
    struct depot_kpi_item *k = (struct depot_kpi_item *)items + i;
    (void)reason;
    (void)reason_len;
    copy_str(k->name, sizeof(k->name), f[0]);
    k->value = f[1]->valuedouble;
    k->score = f[2]->valuedouble;
    k->weight = f[3]->valuedouble;
    return DEPOT_OK;
}

static depot_err decode_alert(const cJSON *const *f, struct depot_alert_body *a, char *reason,
                              size_t reason_len)
{
    a->alert = (long long)f[0]->valuedouble;
    copy_str(a->kind, sizeof(a->kind), f[1]);
    copy_str(a->sku, sizeof(a->sku), f[2]);
    copy_str(a->severity, sizeof(a->severity), f[3]);
    copy_str(a->status, sizeof(a->status), f[4]);
    copy_str(a->text, sizeof(a->text), f[5]);
    copy_str(a->action, sizeof(a->action), f[6]);
    if (!one_of(a->status, alert_statuses)) {
        set_reason(reason, reason_len, "body.", "status", "not open, acknowledged or resolved");
        return DEPOT_ERR_SCHEMA;
    }
    return DEPOT_OK;
}

static depot_err decode_ranking(const cJSON *const *f, struct depot_ranking_body *r, char *reason,
                                size_t reason_len)
{
    copy_str(r->period, sizeof(r->period), f[0]);
    r->rank = (long long)f[1]->valuedouble;
    r->of = (long long)f[2]->valuedouble;
    r->score = f[3]->valuedouble;
    r->rebate_pct = f[4]->valuedouble;
    r->rebate = f[5]->valuedouble;
    r->n_kpis = (size_t)cJSON_GetArraySize(f[6]);
    if (r->rank > r->of) {
        set_reason(reason, reason_len, "body.", "rank", "above of");
        return DEPOT_ERR_SCHEMA;
    }
    return decode_objects(f[6], &kpi_item_schema, r->kpis, fill_kpi, reason, reason_len);
}

/* An owned array of n elements of size, decoded from arr; *out NULL when empty. */
static depot_err decode_owned(const cJSON *arr, const struct schema *s, size_t size, fill_fn fill,
                              void **out, size_t *n, char *reason, size_t reason_len)
{
    depot_err err;
    *n = (size_t)cJSON_GetArraySize(arr);
    *out = NULL;
    if (*n == 0)
        return DEPOT_OK;
    *out = depot_calloc(*n, size);
    if (!*out)
        return DEPOT_ERR_NOMEM;
    err = decode_objects(arr, s, *out, fill, reason, reason_len);
    if (err != DEPOT_OK) {
        depot_free(*out);
        *out = NULL;
        *n = 0;
    }
    return err;
}

static depot_err dup_str(char **dst, const cJSON *v)
{
    *dst = depot_strdup(v->valuestring);
    return *dst ? DEPOT_OK : DEPOT_ERR_NOMEM;
}

static depot_err decode_decision(const cJSON *const *f, struct depot_decision_body *d, char *reason,
                                 size_t reason_len)
{
    copy_str(d->order, sizeof(d->order), f[0]);
    d->number = (long long)f[1]->valuedouble;
    copy_str(d->status, sizeof(d->status), f[2]);
    copy_str(d->stage, sizeof(d->stage), f[3]);
    copy_str(d->reason, sizeof(d->reason), f[4]);
    if (strcmp(d->status, "approved") != 0 && strcmp(d->status, "rejected") != 0 &&
        strcmp(d->status, "pending") != 0) {
        set_reason(reason, reason_len, "body.", "status", "not approved, rejected or pending");
        return DEPOT_ERR_SCHEMA;
    }
    return DEPOT_OK;
}

/* Items, and the chain's prev, sig and cert: all three with every item's h, or none of them. */
static depot_err decode_movements(const cJSON *const *f, struct depot_movements_body *b,
                                  char *reason, size_t reason_len)
{
    bool chained = f[1] || f[2] || f[3];
    depot_err err =
        decode_owned(f[0], &movement_item_schema, sizeof(struct depot_movement_item), fill_movement,
                     (void **)&b->items, &b->n_items, reason, reason_len);
    if (err != DEPOT_OK)
        return err;
    for (size_t i = 0; chained && i < b->n_items; i++)
        if (!b->items[i].hash[0])
            chained = false;
    if ((f[1] || f[2] || f[3]) && (!chained || !f[1] || !f[2] || !f[3])) {
        set_reason(reason, reason_len, "body.", "sig",
                   "a signed batch has prev, sig, cert and every item's h");
        return DEPOT_ERR_SCHEMA;
    }
    if (f[1] && !ledger_hex(f[1]->valuestring, DEPOT_CHAIN_HASH_HEX)) {
        set_reason(reason, reason_len, "body.", "prev", "not 64 lowercase hex digits");
        return DEPOT_ERR_SCHEMA;
    }
    if (f[1])
        copy_str(b->prev, sizeof(b->prev), f[1]);
    if (f[2] && (dup_str(&b->sig, f[2]) || dup_str(&b->cert, f[3])))
        return DEPOT_ERR_NOMEM;
    return DEPOT_OK;
}

static depot_err decode_body(const cJSON *obj, depot_msg *m, char *reason, size_t reason_len)
{
    const cJSON *f[MAX_KEYS];
    depot_err err = check_object(obj, &body_schemas[m->type], f, reason, reason_len);

    if (err != DEPOT_OK)
        return err;
    switch (m->type) {
    case DEPOT_MSG_STOCK:
        copy_str(m->body.stock.sku, sizeof(m->body.stock.sku), f[0]);
        m->body.stock.qty = (long long)f[1]->valuedouble;
        m->body.stock.delta = (long long)f[2]->valuedouble;
        copy_str(m->body.stock.node, sizeof(m->body.stock.node), f[3]);
        if (!count_before_ok(m->body.stock.qty, m->body.stock.delta)) {
            set_reason(reason, reason_len, "body.", "delta",
                       "the stock before it (qty - delta) is not a count of 0..1e9");
            return DEPOT_ERR_SCHEMA;
        }
        return DEPOT_OK;
    case DEPOT_MSG_EVENT:
        copy_str(m->body.event.node, sizeof(m->body.event.node), f[0]);
        copy_str(m->body.event.event, sizeof(m->body.event.event), f[1]);
        copy_str(m->body.event.reason, sizeof(m->body.event.reason), f[2]);
        m->body.event.count = (long long)f[3]->valuedouble;
        return DEPOT_OK;
    case DEPOT_MSG_SNAPSHOT:
        m->body.snapshot.as_of = (uint64_t)f[0]->valuedouble;
        return decode_owned(f[1], &item_schema, sizeof(struct depot_snapshot_item),
                            fill_snapshot_item, (void **)&m->body.snapshot.items,
                            &m->body.snapshot.n_items, reason, reason_len);
    case DEPOT_MSG_CATALOG:
        m->body.catalog.version = (long long)f[0]->valuedouble;
        return decode_owned(f[1], &catalog_item_schema, sizeof(struct depot_catalog_item),
                            fill_catalog_item, (void **)&m->body.catalog.items,
                            &m->body.catalog.n_items, reason, reason_len);
    case DEPOT_MSG_POLICY:
        return decode_owned(f[0], &policy_item_schema, sizeof(struct depot_policy_item),
                            fill_policy_item, (void **)&m->body.policy.items,
                            &m->body.policy.n_items, reason, reason_len);
    case DEPOT_MSG_CONTRACT:
        return decode_owned(f[0], &contract_item_schema, sizeof(struct depot_contract_item),
                            fill_contract_item, (void **)&m->body.contract.items,
                            &m->body.contract.n_items, reason, reason_len);
    case DEPOT_MSG_ORDER:
    case DEPOT_MSG_SIGNATURE:
        if (dup_str(&m->body.order.doc, f[0]) || dup_str(&m->body.order.sig, f[1]) ||
            dup_str(&m->body.order.cert, f[2]))
            return DEPOT_ERR_NOMEM;
        return DEPOT_OK;
    case DEPOT_MSG_DECISION:
        return decode_decision(f, &m->body.decision, reason, reason_len);
    case DEPOT_MSG_MOVEMENTS:
        return decode_movements(f, &m->body.movements, reason, reason_len);
    case DEPOT_MSG_ALERT:
        return decode_alert(f, &m->body.alert, reason, reason_len);
    case DEPOT_MSG_RANKING:
        return decode_ranking(f, &m->body.ranking, reason, reason_len);
    case DEPOT_MSG_STATE:
        m->body.state.online = cJSON_IsTrue(f[0]);
        m->body.state.session = (long long)f[1]->valuedouble;
        return DEPOT_OK;
    case DEPOT_MSG_ACK:
        m->body.ack.upto = (uint64_t)f[0]->valuedouble;
        return DEPOT_OK;
    case DEPOT_MSG_OUTBOX:
        m->body.outbox.queued = (long long)f[0]->valuedouble;
        m->body.outbox.max = (long long)f[1]->valuedouble;
        m->body.outbox.refuse_at = (long long)f[2]->valuedouble;
        if (m->body.outbox.refuse_at > m->body.outbox.max) {
            set_reason(reason, reason_len, "body.", "refuse_at", "above max");
            return DEPOT_ERR_SCHEMA;
        }
        return DEPOT_OK;
    default:
        return DEPOT_ERR_SCHEMA;
    }
}

static depot_msg_type type_from_name(const char *name)
{
    int t;
    for (t = 0; t < DEPOT_MSG__COUNT; t++)
        if (strcmp(types[t].name, name) == 0)
            return (depot_msg_type)t;
    return DEPOT_MSG__COUNT;
}

/* Cross-field rules: stream messages have ids, others have none. */
static depot_err check_ids(const depot_msg *m, char *reason, size_t reason_len)
{
    bool stream = depot_msg_is_stream(m->type);
    bool needs_ledger = (m->type != DEPOT_MSG_STATE && m->type != DEPOT_MSG_CATALOG &&
                         m->type != DEPOT_MSG_ALERT && m->type != DEPOT_MSG_RANKING &&
                         m->type != DEPOT_MSG_POLICY && m->type != DEPOT_MSG_CONTRACT) ||
                        m->ledger[0];

    if (needs_ledger && !ledger_valid(m->ledger)) {
        set_reason(reason, reason_len, "", "ledger", "not 32 lowercase hex digits");
        return DEPOT_ERR_SCHEMA;
    }
    if (stream && (m->id == 0 || m->base > m->id)) {
        set_reason(reason, reason_len, "", "id", "stream message needs 0 < base <= id");
        return DEPOT_ERR_SCHEMA;
    }
    if (stream && m->base == 0) {
        set_reason(reason, reason_len, "", "base", "stream message needs base > 0");
        return DEPOT_ERR_SCHEMA;
    }
    if (!stream && (m->id != 0 || m->base != 0)) {
        set_reason(reason, reason_len, "", "id", "must be 0 outside the stream");
        return DEPOT_ERR_SCHEMA;
    }
    return DEPOT_OK;
}

static depot_err decode_envelope(const cJSON *root, depot_msg *m, char *reason, size_t reason_len)
{
    const cJSON *f[MAX_KEYS];
    const cJSON *v = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "v") : NULL;
    depot_err err;

    if (!cJSON_IsObject(root)) {
        set_reason(reason, reason_len, "", "(root)", "not an object");
        return DEPOT_ERR_SCHEMA;
    }
    /* The version is checked first: another version may have another shape. */
    if (!cJSON_IsNumber(v) || v->valuedouble != DEPOT_MSG_VERSION) {
        set_reason(reason, reason_len, "", "v", v ? "unsupported version" : "missing");
        return v ? DEPOT_ERR_VERSION : DEPOT_ERR_SCHEMA;
    }
    err = check_object(root, &envelope_schema, f, reason, reason_len);
    if (err != DEPOT_OK)
        return err;
    m->v = DEPOT_MSG_VERSION;
    m->type = type_from_name(f[1]->valuestring);
    if (m->type == DEPOT_MSG__COUNT) {
        set_reason(reason, reason_len, "", "type", "unknown message type");
        return DEPOT_ERR_SCHEMA;
    }
    copy_str(m->dealer, sizeof(m->dealer), f[2]);
    copy_str(m->ledger, sizeof(m->ledger), f[3]);
    m->id = (uint64_t)f[4]->valuedouble;
    m->base = (uint64_t)f[5]->valuedouble;
    m->ts = (long long)f[6]->valuedouble;
    err = check_ids(m, reason, reason_len);
    if (err != DEPOT_OK)
        return err;
    return decode_body(f[7], m, reason, reason_len);
}

/* Whether a JSON string in buf holds the escape \u0000: a C string would end at it and keep
 * only what came before (a name "A\u0000B" stored as "A"), so such a text is refused whole. */
static bool has_nul_escape(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == '\\') {
            if (buf[i + 1] == 'u' && i + 5 < len && !memcmp(buf + i + 2, "0000", 4))
                return true;
            i++; /* the escaped character: "\\\\u0000" is a backslash and the text u0000 */
        }
    return false;
}

cJSON *depot_json_parse(const char *buf, size_t len)
{
    const char *end = NULL;
    cJSON *root = buf && !has_nul_escape(buf, len) && !memchr(buf, '\0', len)
                      ? cJSON_ParseWithLengthOpts(buf, len, &end, false)
                      : NULL;
    for (; root && end && end < buf + len; end++)
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            cJSON_Delete(root); /* something after the document */
            return NULL;
        }
    return root;
}

depot_err depot_msg_decode(const char *buf, size_t len, depot_msg *out, char *reason,
                           size_t reason_len)
{
    depot_msg m;
    cJSON *root;
    depot_err err;

    if (reason && reason_len)
        reason[0] = '\0';
    if (!buf || !out)
        return DEPOT_ERR_INVAL;
    memset(&m, 0, sizeof(m));
    root = depot_json_parse(buf, len);
    if (!root) {
        set_reason(reason, reason_len, "", "(root)", "not well-formed JSON");
        return DEPOT_ERR_PARSE;
    }
    err = decode_envelope(root, &m, reason, reason_len);
    cJSON_Delete(root);
    if (err != DEPOT_OK) {
        depot_msg_clear(&m);
        return err;
    }
    *out = m;
    return DEPOT_OK;
}

/* One envelope key of a stream message, checked as the decoder checks it; NULL if not. */
static const cJSON *peek_key(const cJSON *root, int k)
{
    const char *why;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, envelope_schema.keys[k].name);
    return v && kind_ok(v, &envelope_schema.keys[k], &why) ? v : NULL;
}

depot_err depot_msg_peek_envelope(const char *buf, size_t len, depot_msg *out)
{
    const cJSON *dealer, *ledger, *id, *base, *v, *type, *ts;
    cJSON *root;
    depot_err err = DEPOT_ERR_SCHEMA;

    if (!buf || !out)
        return DEPOT_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    out->type = DEPOT_MSG__COUNT;
    root = depot_json_parse(buf, len);
    if (!root)
        return DEPOT_ERR_PARSE;
    if (cJSON_IsObject(root) && (dealer = peek_key(root, 2)) && (ledger = peek_key(root, 3)) &&
        (id = peek_key(root, 4)) && (base = peek_key(root, 5)) &&
        ledger_valid(ledger->valuestring) && id->valuedouble >= 1 && base->valuedouble >= 1 &&
        base->valuedouble <= id->valuedouble) {
        copy_str(out->dealer, sizeof(out->dealer), dealer);
        copy_str(out->ledger, sizeof(out->ledger), ledger);
        out->id = (uint64_t)id->valuedouble;
        out->base = (uint64_t)base->valuedouble;
        v = peek_key(root, 0);
        type = peek_key(root, 1);
        ts = peek_key(root, 6);
        out->v = v ? (int)v->valuedouble : 0;
        out->type = type ? type_from_name(type->valuestring) : DEPOT_MSG__COUNT;
        out->ts = ts ? (long long)ts->valuedouble : 0;
        err = DEPOT_OK;
    }
    cJSON_Delete(root);
    return err;
}

void depot_msg_clear(depot_msg *m)
{
    if (!m)
        return;
    switch (m->type) {
    case DEPOT_MSG_SNAPSHOT:
        depot_free(m->body.snapshot.items);
        m->body.snapshot.items = NULL;
        m->body.snapshot.n_items = 0;
        break;
    case DEPOT_MSG_CATALOG:
        depot_free(m->body.catalog.items);
        m->body.catalog.items = NULL;
        m->body.catalog.n_items = 0;
        break;
    case DEPOT_MSG_MOVEMENTS:
        depot_free(m->body.movements.items);
        depot_free(m->body.movements.sig);
        depot_free(m->body.movements.cert);
        m->body.movements.items = NULL;
        m->body.movements.n_items = 0;
        m->body.movements.sig = m->body.movements.cert = NULL;
        break;
    case DEPOT_MSG_POLICY:
        depot_free(m->body.policy.items);
        m->body.policy.items = NULL;
        m->body.policy.n_items = 0;
        break;
    case DEPOT_MSG_CONTRACT:
        depot_free(m->body.contract.items);
        m->body.contract.items = NULL;
        m->body.contract.n_items = 0;
        break;
    case DEPOT_MSG_ORDER:
    case DEPOT_MSG_SIGNATURE:
        depot_free(m->body.order.doc);
        depot_free(m->body.order.sig);
        depot_free(m->body.order.cert);
        memset(&m->body.order, 0, sizeof(m->body.order));
        break;
    default:
        break;
    }
}

/* ---- encode ------------------------------------------------------------- */

/*
 * A whole number below 1e15 in magnitude is written as its digits (what
 * cJSON prints for it too: "%d", or "%1.15g", which keeps every digit of such
 * a number), without cJSON's float formatting and strtod round trip, which
 * cost most of encoding a message (a timestamp does not fit cJSON's int).
 */
static bool add_num(cJSON *obj, const char *key, double v)
{
    char digits[24];
    if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
        snprintf(digits, sizeof(digits), "%lld", (long long)v);
        return cJSON_AddRawToObject(obj, key, digits) != NULL;
    }
    return cJSON_AddNumberToObject(obj, key, v) != NULL;
}

static bool add_str(cJSON *obj, const char *key, const char *v)
{
    return cJSON_AddStringToObject(obj, key, v) != NULL;
}

/* Adds one array element built by add_item from element i of items. */
typedef bool (*item_fn)(cJSON *o, const void *items, size_t i);

static bool build_array(cJSON *parent, const char *key, const void *items, size_t n,
                        item_fn add_item)
{
    cJSON *arr = cJSON_AddArrayToObject(parent, key);
    size_t i;
    if (!arr)
        return false;
    for (i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            return false;
        }
        if (!add_item(o, items, i))
            return false;
    }
    return true;
}

static bool add_snapshot_item(cJSON *o, const void *items, size_t i)
{
    const struct depot_snapshot_item *it = (const struct depot_snapshot_item *)items + i;
    return add_str(o, "sku", it->sku) && add_num(o, "qty", (double)it->qty) &&
           add_str(o, "node", it->node) && cJSON_AddBoolToObject(o, "fault", it->fault);
}

static bool add_catalog_item(cJSON *o, const void *items, size_t i)
{
    const struct depot_catalog_item *it = (const struct depot_catalog_item *)items + i;
    return add_str(o, "sku", it->sku) && add_str(o, "barcode", it->barcode) &&
           add_num(o, "min_qty", (double)it->min_qty) &&
           add_num(o, "max_qty", (double)it->max_qty) &&
           (!it->serial_prefix[0] || add_str(o, "serial_prefix", it->serial_prefix));
}

static bool add_policy_item(cJSON *o, const void *items, size_t i)
{
    const struct depot_policy_item *it = (const struct depot_policy_item *)items + i;
    return add_num(o, "policy", (double)it->policy) && add_str(o, "title", it->title) &&
           add_str(o, "notice", it->notice) && add_str(o, "valid_to", it->valid_to) &&
           cJSON_AddBoolToObject(o, "acked", it->acked);
}

static bool add_contract_item(cJSON *o, const void *items, size_t i)
{
    const struct depot_contract_item *it = (const struct depot_contract_item *)items + i;
    return add_num(o, "contract", (double)it->contract) && add_str(o, "title", it->title) &&
           add_str(o, "sha256", it->sha256) && cJSON_AddBoolToObject(o, "signed", it->signed_);
}

static bool add_order_line(cJSON *o, const void *items, size_t i)
{
    const struct depot_order_line *l = (const struct depot_order_line *)items + i;
    return add_str(o, "barcode", l->barcode) && add_num(o, "qty", (double)l->qty);
}

static bool add_movement(cJSON *o, const void *items, size_t i)
{
    const struct depot_movement_item *it = (const struct depot_movement_item *)items + i;
    return add_num(o, "mid", (double)it->mid) && add_num(o, "ts", (double)it->ts) &&
           add_str(o, "node", it->node) && add_str(o, "sku", it->sku) &&
           add_str(o, "kind", it->kind) && add_num(o, "delta", (double)it->delta) &&
           add_num(o, "qty", (double)it->qty) && (!it->hash[0] || add_str(o, "h", it->hash)) &&
           (!it->code[0] || add_str(o, "code", it->code));
}

static bool add_kpi(cJSON *o, const void *items, size_t i)
{
    const struct depot_kpi_item *k = (const struct depot_kpi_item *)items + i;
    return add_str(o, "name", k->name) && add_num(o, "value", k->value) &&
           add_num(o, "score", k->score) && add_num(o, "weight", k->weight);
}

static bool build_alert(cJSON *body, const struct depot_alert_body *a)
{
    return add_num(body, "alert", (double)a->alert) && add_str(body, "kind", a->kind) &&
           add_str(body, "sku", a->sku) && add_str(body, "severity", a->severity) &&
           add_str(body, "status", a->status) && add_str(body, "text", a->text) &&
           add_str(body, "action", a->action);
}

static bool build_ranking(cJSON *body, const struct depot_ranking_body *r)
{
    return add_str(body, "period", r->period) && add_num(body, "rank", (double)r->rank) &&
           add_num(body, "of", (double)r->of) && add_num(body, "score", r->score) &&
           add_num(body, "rebate_pct", r->rebate_pct) && add_num(body, "rebate", r->rebate) &&
           r->n_kpis <= DEPOT_KPI_MAX && build_array(body, "kpis", r->kpis, r->n_kpis, add_kpi);
}

static bool add_strs(cJSON *o, const char *k1, const char *v1, const char *k2, const char *v2)
{
    return v1 && v2 && add_str(o, k1, v1) && add_str(o, k2, v2);
}

static bool build_body(cJSON *body, const depot_msg *m)
{
    switch (m->type) {
    case DEPOT_MSG_STOCK:
        return add_str(body, "sku", m->body.stock.sku) &&
               add_num(body, "qty", (double)m->body.stock.qty) &&
               add_num(body, "delta", (double)m->body.stock.delta) &&
               add_str(body, "node", m->body.stock.node);
    case DEPOT_MSG_EVENT:
        return add_str(body, "node", m->body.event.node) &&
               add_str(body, "event", m->body.event.event) &&
               add_str(body, "reason", m->body.event.reason) &&
               add_num(body, "count", (double)m->body.event.count);
    case DEPOT_MSG_SNAPSHOT:
        return add_num(body, "as_of", (double)m->body.snapshot.as_of) &&
               build_array(body, "items", m->body.snapshot.items, m->body.snapshot.n_items,
                           add_snapshot_item);
    case DEPOT_MSG_CATALOG:
        return add_num(body, "version", (double)m->body.catalog.version) &&
               build_array(body, "items", m->body.catalog.items, m->body.catalog.n_items,
                           add_catalog_item);
    case DEPOT_MSG_CONTRACT:
        return m->body.contract.n_items <= DEPOT_CONTRACTS_MAX &&
               build_array(body, "contracts", m->body.contract.items, m->body.contract.n_items,
                           add_contract_item);
    case DEPOT_MSG_ORDER:
    case DEPOT_MSG_SIGNATURE:
        return add_strs(body, "doc", m->body.order.doc, "sig", m->body.order.sig) &&
               m->body.order.cert && add_str(body, "cert", m->body.order.cert);
    case DEPOT_MSG_MOVEMENTS:
        return build_array(body, "items", m->body.movements.items, m->body.movements.n_items,
                           add_movement) &&
               (!m->body.movements.sig ||
                (add_strs(body, "prev", m->body.movements.prev, "sig", m->body.movements.sig) &&
                 m->body.movements.cert && add_str(body, "cert", m->body.movements.cert)));
    case DEPOT_MSG_POLICY:
        return m->body.policy.n_items <= DEPOT_POLICIES_MAX &&
               build_array(body, "policies", m->body.policy.items, m->body.policy.n_items,
                           add_policy_item);
    case DEPOT_MSG_ALERT:
        return build_alert(body, &m->body.alert);
    case DEPOT_MSG_RANKING:
        return build_ranking(body, &m->body.ranking);
    case DEPOT_MSG_DECISION:
        return add_str(body, "order", m->body.decision.order) &&
               add_num(body, "number", (double)m->body.decision.number) &&
               add_strs(body, "status", m->body.decision.status, "stage", m->body.decision.stage) &&
               add_str(body, "reason", m->body.decision.reason);
    case DEPOT_MSG_STATE:
        return cJSON_AddBoolToObject(body, "online", m->body.state.online) &&
               add_num(body, "session", (double)m->body.state.session);
    case DEPOT_MSG_ACK:
        return add_num(body, "upto", (double)m->body.ack.upto);
    case DEPOT_MSG_OUTBOX:
        return add_num(body, "queued", (double)m->body.outbox.queued) &&
               add_num(body, "max", (double)m->body.outbox.max) &&
               add_num(body, "refuse_at", (double)m->body.outbox.refuse_at);
    default:
        return false;
    }
}

static cJSON *build(const depot_msg *m)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *body;
    if (!root)
        return NULL;
    if (!add_num(root, "v", DEPOT_MSG_VERSION) || !add_str(root, "type", types[m->type].name) ||
        !add_str(root, "dealer", m->dealer) || !add_str(root, "ledger", m->ledger) ||
        !add_num(root, "id", (double)m->id) || !add_num(root, "base", (double)m->base) ||
        !add_num(root, "ts", (double)m->ts) || !(body = cJSON_AddObjectToObject(root, "body")) ||
        !build_body(body, m)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

typedef depot_err (*check_fn)(const char *text, size_t len);

/* Print root (consumed), check the text decodes, return a depot_malloc copy. */
static depot_err finish_text(cJSON *root, check_fn check, char **out, size_t *len)
{
    char *text, *copy;
    depot_err err;

    if (!root)
        return DEPOT_ERR_NOMEM;
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        return DEPOT_ERR_NOMEM;
    /* The encoder's promise: what it emits, the decoder accepts. */
    err = check(text, strlen(text));
    if (err != DEPOT_OK) {
        cJSON_free(text);
        return err == DEPOT_ERR_NOMEM ? err : DEPOT_ERR_INVAL;
    }
    copy = depot_strdup(text);
    cJSON_free(text);
    if (!copy)
        return DEPOT_ERR_NOMEM;
    *out = copy;
    if (len)
        *len = strlen(copy);
    return DEPOT_OK;
}

static depot_err check_msg(const char *text, size_t len)
{
    depot_msg m;
    depot_err err = depot_msg_decode(text, len, &m, NULL, 0);
    if (err == DEPOT_OK)
        depot_msg_clear(&m);
    return err;
}

depot_err depot_msg_encode(const depot_msg *m, char **out, size_t *len)
{
    if (!m || !out || (unsigned)m->type >= DEPOT_MSG__COUNT)
        return DEPOT_ERR_INVAL;
    if ((m->type == DEPOT_MSG_POLICY && m->body.policy.n_items > DEPOT_POLICIES_MAX) ||
        (m->type == DEPOT_MSG_CONTRACT && m->body.contract.n_items > DEPOT_CONTRACTS_MAX))
        return DEPOT_ERR_INVAL; /* never read past a list the caller sized wrong */
    return finish_text(build(m), check_msg, out, len);
}

/* ---- order documents ---------------------------------------------------- */

static depot_err check_doc(const char *text, size_t len)
{
    /* A document is large (100 lines); only its validity matters here. */
    depot_order_doc *tmp = depot_malloc(sizeof(*tmp));
    depot_err err;
    if (!tmp)
        return DEPOT_ERR_NOMEM;
    err = depot_order_doc_decode(text, len, tmp, NULL, 0);
    depot_free(tmp);
    return err;
}

static cJSON *build_doc(const depot_order_doc *d)
{
    cJSON *root = cJSON_CreateObject();
    if (root && add_str(root, "order", d->order) && add_str(root, "dealer", d->dealer) &&
        add_num(root, "number", (double)d->number) && add_str(root, "terminal", d->terminal) &&
        add_num(root, "created", (double)d->created) && d->n_lines <= DEPOT_ORDER_LINES_MAX &&
        build_array(root, "lines", d->lines, d->n_lines, add_order_line))
        return root;
    cJSON_Delete(root);
    return NULL;
}

depot_err depot_order_doc_encode(const depot_order_doc *d, char **out, size_t *len)
{
    cJSON *root;
    if (!d || !out)
        return DEPOT_ERR_INVAL;
    root = build_doc(d);
    if (!root)
        return d->n_lines > DEPOT_ORDER_LINES_MAX ? DEPOT_ERR_INVAL : DEPOT_ERR_NOMEM;
    return finish_text(root, check_doc, out, len);
}

/* A signed document's JSON (order or contract): one object of schema sc, its fields into f;
 * *root to delete (NULL after DEPOT_ERR_PARSE). */
static depot_err doc_parse(const char *buf, size_t len, const struct schema *sc, const cJSON **f,
                           cJSON **root, char *reason, size_t reason_len)
{
    *root = depot_json_parse(buf, len);
    if (!*root) {
        set_reason(reason, reason_len, "doc.", "(root)", "not well-formed JSON");
        return DEPOT_ERR_PARSE;
    }
    if (!cJSON_IsObject(*root)) {
        set_reason(reason, reason_len, "doc.", "(root)", "not an object");
        return DEPOT_ERR_SCHEMA;
    }
    return check_object(*root, sc, f, reason, reason_len);
}

depot_err depot_order_doc_decode(const char *buf, size_t len, depot_order_doc *out, char *reason,
                                 size_t reason_len)
{
    const cJSON *f[MAX_KEYS];
    cJSON *root = NULL;
    depot_err err;

    if (reason && reason_len)
        reason[0] = '\0';
    if (!buf || !out)
        return DEPOT_ERR_INVAL;
    err = doc_parse(buf, len, &order_doc_schema, f, &root, reason, reason_len);
    if (err == DEPOT_OK) {
        memset(out, 0, sizeof(*out));
        copy_str(out->order, sizeof(out->order), f[0]);
        copy_str(out->dealer, sizeof(out->dealer), f[1]);
        out->number = (long long)f[2]->valuedouble;
        copy_str(out->terminal, sizeof(out->terminal), f[3]);
        out->created = (long long)f[4]->valuedouble;
        out->n_lines = (size_t)cJSON_GetArraySize(f[5]);
        err = decode_objects(f[5], &order_line_schema, out->lines, fill_order_line, reason,
                             reason_len);
    }
    cJSON_Delete(root);
    return err;
}

/* ---- contract documents ------------------------------------------------- */

static depot_err check_contract_doc(const char *text, size_t len)
{
    depot_contract_doc tmp;
    return depot_contract_doc_decode(text, len, &tmp, NULL, 0);
}

depot_err depot_contract_doc_encode(const depot_contract_doc *d, char **out, size_t *len)
{
    cJSON *root;
    if (!d || !out)
        return DEPOT_ERR_INVAL;
    root = cJSON_CreateObject();
    if (!root || !add_num(root, "contract", (double)d->contract) ||
        !add_str(root, "dealer", d->dealer) || !add_str(root, "sha256", d->sha256) ||
        !add_num(root, "signed_at", (double)d->signed_at) ||
        !add_str(root, "terminal", d->terminal)) {
        cJSON_Delete(root);
        return DEPOT_ERR_NOMEM;
    }
    return finish_text(root, check_contract_doc, out, len);
}

depot_err depot_contract_doc_decode(const char *buf, size_t len, depot_contract_doc *out,
                                    char *reason, size_t reason_len)
{
    const cJSON *f[MAX_KEYS];
    cJSON *root = NULL;
    depot_err err;

    if (reason && reason_len)
        reason[0] = '\0';
    if (!buf || !out)
        return DEPOT_ERR_INVAL;
    err = doc_parse(buf, len, &contract_doc_schema, f, &root, reason, reason_len);
    if (err == DEPOT_OK) {
        memset(out, 0, sizeof(*out));
        out->contract = (long long)f[0]->valuedouble;
        copy_str(out->dealer, sizeof(out->dealer), f[1]);
        copy_str(out->sha256, sizeof(out->sha256), f[2]);
        out->signed_at = (long long)f[3]->valuedouble;
        copy_str(out->terminal, sizeof(out->terminal), f[4]);
        if (!depot_sha256_hex_valid(out->sha256)) {
            set_reason(reason, reason_len, "doc.", "sha256", "not 64 lowercase hex");
            err = DEPOT_ERR_SCHEMA;
        }
    }
    cJSON_Delete(root);
    return err;
}

char *depot_contract_counter_bytes(const char *doc, const char *sig_b64, size_t *len)
{
    size_t a = strlen(doc), b = strlen(sig_b64);
    char *out = depot_malloc(a + b + 2);
    if (!out)
        return NULL;
    memcpy(out, doc, a);
    out[a] = '\n';
    memcpy(out + a + 1, sig_b64, b + 1);
    *len = a + 1 + b;
    return out;
}

/* ---- topics ------------------------------------------------------------- */

depot_err depot_topic_build(char *buf, size_t buf_len, const char *dealer, const char *leaf)
{
    int n;
    if (!buf || !leaf || !depot_dealer_id_valid(dealer))
        return DEPOT_ERR_INVAL;
    n = snprintf(buf, buf_len, DEPOT_TOPIC_ROOT "/%s/%s", dealer, leaf);
    return (n < 0 || (size_t)n >= buf_len) ? DEPOT_ERR_INVAL : DEPOT_OK;
}

depot_err depot_topic_parse(const char *topic, char *dealer, const char **leaf)
{
    static const char root[] = DEPOT_TOPIC_ROOT "/";
    const char *p, *slash;
    size_t n;

    if (!topic || strncmp(topic, root, sizeof(root) - 1) != 0)
        return DEPOT_ERR_INVAL;
    p = topic + sizeof(root) - 1;
    slash = strchr(p, '/');
    if (!slash || slash == p || slash[1] == '\0')
        return DEPOT_ERR_INVAL;
    n = (size_t)(slash - p);
    if (n > DEPOT_DEALER_MAX)
        return DEPOT_ERR_INVAL;
    memcpy(dealer, p, n);
    dealer[n] = '\0';
    if (!depot_dealer_id_valid(dealer))
        return DEPOT_ERR_INVAL;
    if (leaf)
        *leaf = slash + 1;
    return DEPOT_OK;
}
