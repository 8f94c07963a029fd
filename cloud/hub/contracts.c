/*
 * E-contracts: issue, the dealer's signature from its gateway, the hub's
 * countersignature, terms applied on the start day (contracts.h).
 */
#include "contracts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "depot/pki.h"
#include "files.h"
#include "store/policies.h"

struct hub_contracts {
    hub_orders *orders; /* the order certificate checks (CA, CRL, cache) */
    hub_metrics *metrics;
    pki_signer *signer; /* [mqtt] key; NULL: nothing is countersigned */
    char *cert_pem;     /* [mqtt] cert */
};

depot_err hub_contracts_new(const struct hub_config *cfg, hub_orders *orders, hub_metrics *metrics,
                            hub_contracts **out)
{
    hub_contracts *k = depot_calloc(1, sizeof(*k));
    if (!k)
        return DEPOT_ERR_NOMEM;
    k->orders = orders;
    k->metrics = metrics;
    if (!cfg->mqtt_key[0] || !cfg->mqtt_cert[0] ||
        pki_identity_open(cfg->mqtt_key, cfg->mqtt_cert, DEPOT_CERT_PEM_MAX, &k->signer,
                          &k->cert_pem) != DEPOT_OK)
        LOG_WARN("contracts: no key and certificate to countersign with ([mqtt] key, cert): "
                 "dealers' signatures are verified and kept, not countersigned");
    *out = k;
    return DEPOT_OK;
}

void hub_contracts_free(hub_contracts *k)
{
    if (!k)
        return;
    pki_signer_free(k->signer);
    depot_free(k->cert_pem);
    depot_free(k);
}

/* ---- issue ---- */

/* Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), no NUL and no
 * control character but tab, LF and CR. */
static bool utf8_text(const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i], n, cp;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                return false;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return false;
        if (i + n >= len)
            return false; /* cut short */
        for (unsigned k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += n + 1;
    }
    return true;
}

const char *hub_contract_type_of(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len >= 5 && !memcmp(p, "%PDF-", 5))
        return "application/pdf";
    if (len > 0 && utf8_text(p, len))
        return "text/plain; charset=utf-8";
    return NULL;
}

static bool title_ok(const char *s)
{
    if (!*s)
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

depot_err hub_contracts_issue(hub_store *s, const char *files_dir, struct hub_contract *c,
                              const void *data, size_t len, long long now, char *why,
                              size_t why_len)
{
    const char *type = hub_contract_type_of(data, len);
    depot_err err;
    if (!depot_dealer_id_valid(c->dealer)) {
        snprintf(why, why_len, "dealer: " DEPOT_ID_RULE);
        return DEPOT_ERR_INVAL;
    }
    if (!title_ok(c->title)) {
        snprintf(why, why_len, "title: 1..%d characters, no control characters",
                 HUB_CONTRACT_TITLE_MAX);
        return DEPOT_ERR_INVAL;
    }
    if (!depot_date_valid(c->start_day) || !depot_date_valid(c->end_day) ||
        strcmp(c->start_day, c->end_day) > 0) {
        snprintf(why, why_len, "start and end: YYYY-MM-DD, start not after end");
        return DEPOT_ERR_INVAL;
    }
    if (c->credit_limit < -1) {
        snprintf(why, why_len, "credit_limit: an amount of 0 or more");
        return DEPOT_ERR_INVAL;
    }
    if (len == 0 || len > HUB_CONTRACT_FILE_MAX) {
        snprintf(why, why_len, "the contract: 1 byte to %u MiB", HUB_CONTRACT_FILE_MAX >> 20);
        return DEPOT_ERR_INVAL;
    }
    if (!type) {
        snprintf(why, why_len, "the contract must be a PDF (%%PDF-) or UTF-8 text");
        return DEPOT_ERR_SCHEMA;
    }
    err = hub_files_put(files_dir, data, len, c->file_sha);
    if (err != DEPOT_OK) {
        snprintf(why, why_len, "the file could not be stored");
        return err;
    }
    snprintf(c->file_type, sizeof(c->file_type), "%s", type);
    c->file_size = (long long)len;
    c->created_at = now;
    c->signed_at = c->applied_at = 0;
    c->sign_doc[0] = c->sign_sig[0] = c->sign_cert[0] = '\0';
    c->counter_sig[0] = c->counter_cert[0] = '\0';
    err = hub_store_contract_add(s, c);
    if (err == DEPOT_OK)
        err = hub_store_policy_due_mark(s, c->dealer, now); /* its down/contract goes out */
    if (err == DEPOT_OK)
        LOG_INFO("contract %lld issued to %s by %s: \"%s\", %s..%s, %lld bytes SHA-256 %s", c->id,
                 c->dealer, c->created_by, c->title, c->start_day, c->end_day, c->file_size,
                 c->file_sha);
    return err;
}

/* ---- the dealer's signature ---- */

static depot_err countersign(hub_contracts *k, const char *doc, const char *sig_b64,
                             char out[HUB_CONTRACT_SIG_MAX + 1])
{
    size_t len;
    char *bytes;
    depot_err err;
    out[0] = '\0';
    if (!k->signer)
        return DEPOT_OK;
    if (!(bytes = depot_contract_counter_bytes(doc, sig_b64, &len)))
        return DEPOT_ERR_NOMEM;
    err = pki_signer_sign_b64(k->signer, bytes, len, out, HUB_CONTRACT_SIG_MAX + 1);
    depot_free(bytes);
    return err;
}

/* Refused: logged and counted, nothing else changes. */
static depot_err refuse(hub_contracts *k, hub_store *s, const depot_msg *m, const char *why)
{
    hub_metrics_add(k->metrics, HUB_C_SIGNATURES_REFUSED, 1);
    LOG_WARN("contract signature from %s (message %llu) refused: %s", m->dealer,
             (unsigned long long)m->id, why);
    return hub_store_count_reject(s, "contract_signature", 1);
}

depot_err hub_contracts_on_message(hub_contracts *k, hub_store *s, const depot_msg *m,
                                   long long now)
{
    static struct hub_contract c; /* ~10 KiB; the ingest worker is the only caller */
    const struct depot_order_body *b = &m->body.order;
    char why[160], counter[HUB_CONTRACT_SIG_MAX + 1];
    depot_contract_doc doc;
    bool changed = false;
    depot_err err;

    if (m->type != DEPOT_MSG_SIGNATURE)
        return DEPOT_OK;
    if (hub_orders_verify_signed(k->orders, m->dealer, b->doc, b->sig, b->cert, why, sizeof(why)) !=
        DEPOT_OK)
        return refuse(k, s, m, why);
    if (depot_contract_doc_decode(b->doc, strlen(b->doc), &doc, why, sizeof(why)) != DEPOT_OK)
        return refuse(k, s, m, why);
    if (strcmp(doc.dealer, m->dealer) != 0)
        return refuse(k, s, m, "the document names another dealer");
    if (strlen(b->doc) > HUB_CONTRACT_DOC_MAX || strlen(b->sig) > HUB_CONTRACT_SIG_MAX ||
        strlen(b->cert) > HUB_CONTRACT_CERT_MAX)
        return refuse(k, s, m, "document, signature or certificate too long to keep");
    err = hub_store_contract_get(s, doc.contract, &c);
    if (err == DEPOT_ERR_NOTFOUND || (err == DEPOT_OK && strcmp(c.dealer, m->dealer) != 0)) {
        snprintf(why, sizeof(why), "contract %lld is not one of %s's", doc.contract, m->dealer);
        return refuse(k, s, m, why);
    }
    if (err != DEPOT_OK)
        return err;
    if (strcmp(doc.sha256, c.file_sha) != 0) {
        snprintf(why, sizeof(why), "SHA-256 %.16s... is not contract %lld's (%.16s...)", doc.sha256,
                 c.id, c.file_sha);
        return refuse(k, s, m, why);
    }
    if (c.signed_at) {
        LOG_INFO("contract %lld: signed again at %s's %s: the first signature stays", c.id,
                 m->dealer, doc.terminal);
        return DEPOT_OK;
    }
    err = countersign(k, b->doc, b->sig, counter);
    if (err == DEPOT_OK)
        err = hub_store_contract_sign(s, c.id, m->dealer, now, b->doc, b->sig, b->cert, counter,
                                      counter[0] ? k->cert_pem : "", &changed);
    if (err == DEPOT_OK && changed) {
        hub_metrics_add(k->metrics, HUB_C_CONTRACTS_SIGNED, 1);
        err = hub_store_policy_due_mark(s, m->dealer, now); /* down/contract says signed */
    }
    if (err == DEPOT_OK && changed)
        LOG_INFO("contract %lld signed by %s at terminal %s%s", c.id, m->dealer, doc.terminal,
                 counter[0] ? ", countersigned by the hub" : " (not countersigned: no hub key)");
    return err;
}

/* ---- down/contract ---- */

struct contract_msg {
    depot_msg m;
    struct depot_contract_item items[DEPOT_CONTRACTS_MAX];
};

static int add_item(void *arg, const struct hub_contract *c)
{
    struct contract_msg *cm = arg;
    struct depot_contract_item *it = &cm->items[cm->m.body.contract.n_items++];
    memset(it, 0, sizeof(*it));
    it->contract = c->id;
    snprintf(it->title, sizeof(it->title), "%.*s", DEPOT_POLICY_TITLE_MAX, c->title);
    snprintf(it->sha256, sizeof(it->sha256), "%s", c->file_sha);
    it->signed_ = c->signed_at != 0;
    return cm->m.body.contract.n_items >= DEPOT_CONTRACTS_MAX; /* the newest only */
}

depot_err hub_contracts_publish_dealer(hub_store *s, const char *dealer, long long now,
                                       hub_publish_fn publish, void *ctx)
{
    struct contract_msg cm;
    char topic[128], *payload = NULL;
    size_t len;
    depot_err err;
    memset(&cm.m, 0, sizeof(cm.m));
    cm.m.v = DEPOT_MSG_VERSION;
    cm.m.type = DEPOT_MSG_CONTRACT;
    cm.m.ts = now;
    cm.m.body.contract.items = cm.items;
    snprintf(cm.m.dealer, sizeof(cm.m.dealer), "%s", dealer);
    err = hub_store_contracts_list(s, dealer, add_item, &cm);
    if (err != DEPOT_OK || cm.m.body.contract.n_items == 0)
        return err; /* a dealer without contracts gets no such message */
    err = depot_topic_build(topic, sizeof(topic), dealer, depot_msg_topic_leaf(DEPOT_MSG_CONTRACT));
    if (err == DEPOT_OK)
        err = depot_msg_encode(&cm.m, &payload, &len);
    if (err == DEPOT_OK)
        err = publish(ctx, topic, payload, len, true);
    depot_free(payload);
    return err;
}

/* ---- terms on the start day ---- */

struct due_list {
    long long ids[64];
    size_t n;
};

static int due_add(void *arg, const struct hub_contract *c)
{
    struct due_list *d = arg;
    d->ids[d->n++] = c->id;
    return d->n >= sizeof(d->ids) / sizeof(d->ids[0]);
}

static depot_err apply_one(hub_store *s, long long id, long long now)
{
    static struct hub_contract c;
    struct hub_dealer_profile p;
    depot_err err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_store_contract_get(s, id, &c);
    memset(&p, 0, sizeof(p));
    if (err == DEPOT_OK) {
        err = hub_store_profile_get(s, c.dealer, &p);
        if (err == DEPOT_ERR_NOTFOUND) {
            err = DEPOT_OK;
            snprintf(p.dealer, sizeof(p.dealer), "%s", c.dealer);
        }
    }
    if (err == DEPOT_OK) {
        if (c.credit_limit >= 0)
            p.credit_limit = c.credit_limit;
        if (c.tier[0])
            snprintf(p.tier, sizeof(p.tier), "%s", c.tier);
        snprintf(p.contract_start, sizeof(p.contract_start), "%s", c.start_day);
        snprintf(p.contract_end, sizeof(p.contract_end), "%s", c.end_day);
        err = hub_store_profile_put(s, &p);
    }
    if (err == DEPOT_OK)
        err = hub_store_contract_applied(s, id, now);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK) {
        hub_store_rollback(s);
        return err;
    }
    LOG_INFO("contract %lld of %s in effect from %s: credit limit %s, tier %s, until %s", id,
             c.dealer, c.start_day, c.credit_limit >= 0 ? "set" : "kept",
             c.tier[0] ? c.tier : "kept", c.end_day);
    return DEPOT_OK;
}

depot_err hub_contracts_apply_due(hub_store *s, long long now, int *n)
{
    char today[DEPOT_DATE_LEN + 1];
    struct due_list d = {.n = 0};
    depot_err err;
    *n = 0;
    depot_date_utc(now, today);
    err = hub_store_contracts_due(s, today, due_add, &d);
    for (size_t i = 0; err == DEPOT_OK && i < d.n; i++) {
        err = apply_one(s, d.ids[i], now);
        if (err == DEPOT_OK)
            (*n)++;
    }
    return err;
}
