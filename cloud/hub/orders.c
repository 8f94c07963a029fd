/*
 * Arrival of an order, inside the ingest transaction that records its
 * (dealer, ledger, id): the same exactly-once key as stock, so a resent
 * message is a duplicate before it gets here.
 *
 * Trust, in order: the certificate (issued by [hub] ca, not on [hub] crl,
 * CN = the topic's dealer, valid now), the signature
 * (ECDSA over exactly the bytes of doc), the document itself (decodes,
 * same dealer), then its identity (id = "<ledger>-<number>" of the message's
 * own ledger, a ledger no other dealer owns, an id no other dealer's order
 * has). Until all four hold, the message is forged:
 * it goes to forged_orders and the audit, never into orders, never near
 * exposure, and nothing is sent back (the sender is not who it claims).
 * After that, every rejection is a real order with status "rejected" and
 * its decision goes back to the gateway.
 *
 * Prices always come from the hub's catalog; the gateway sends barcodes and
 * quantities only.
 *
 * Certificate cache: the CA and its CRL are parsed once (at the first order;
 * retried until they read; again when the CRL file changes, which also empties
 * the cache). A certificate that passed the CA check is kept parsed
 * (pki_cert) in a hash map keyed by the SHA-256 of its PEM, CERT_CACHE_MAX
 * entries with least-recently-used eviction (sized for every dealer: one
 * dealer costs about 2 KiB), so an order from a known gateway costs one
 * SHA-256 of the PEM and one ECDSA verify. Its validity period is checked
 * at every use; an expired entry is dropped and the order refused as
 * before. Certificates that fail are never cached.
 */
#include "orders.h"

#include <mbedtls/md.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/pki.h"
#include "webhooks.h"

#define CERT_CACHE_MAX 8192 /* certificates kept checked and parsed */
#define CERT_BUCKETS 16384  /* a power of two */

struct cert_entry {
    struct cert_entry *chain;         /* next in the bucket */
    struct cert_entry *newer, *older; /* the LRU list */
    unsigned char hash[32];           /* SHA-256 of the PEM */
    pki_cert *cert;
};

struct hub_orders {
    const struct hub_config *cfg;
    hub_metrics *metrics;
    pki_trust *trust;        /* [hub] ca and [hub] crl, parsed once a version of the CRL */
    struct stat crl_st;      /* the CRL file the trust was opened with */
    struct cert_entry *buckets[CERT_BUCKETS];
    struct cert_entry *newest, *oldest;
    size_t n_certs;
    pki_cert *uncached; /* checked without memory for an entry: this order only */
};

/* The verdict on one order message while it is being checked. */
struct verdict {
    enum hub_order_reason reason;
    char text[HUB_ORDER_REASON_MAX + 1];
};

depot_err hub_orders_new(const struct hub_config *cfg, hub_metrics *metrics, hub_orders **out)
{
    hub_orders *o = depot_calloc(1, sizeof(*o));
    if (!o)
        return DEPOT_ERR_NOMEM;
    o->cfg = cfg;
    o->metrics = metrics;
    *out = o;
    return DEPOT_OK;
}

static void cert_drop(hub_orders *o, struct cert_entry *e);

void hub_orders_free(hub_orders *o)
{
    if (!o)
        return;
    while (o->oldest)
        cert_drop(o, o->oldest);
    pki_cert_free(o->uncached);
    pki_trust_free(o->trust);
    depot_free(o);
}

const struct hub_config *hub_orders_config(const hub_orders *o)
{
    return o->cfg;
}

hub_metrics *hub_orders_metrics(const hub_orders *o)
{
    return o->metrics;
}

depot_err hub_audit(hub_store *s, const char *order, const char *dealer, const char *actor,
                    const char *action, const char *stage, const char *reason, long long at)
{
    struct hub_audit_entry e = {0, at, order, dealer, actor, action, stage, reason};
    return hub_store_audit_add(s, &e);
}

/* ---- certificate ---- */

static struct cert_entry **cert_bucket(hub_orders *o, const unsigned char *hash)
{
    unsigned h = (unsigned)hash[0] | (unsigned)hash[1] << 8 | (unsigned)hash[2] << 16;
    return &o->buckets[h & (CERT_BUCKETS - 1)];
}

static void lru_unlink(hub_orders *o, struct cert_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        o->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        o->oldest = e->newer;
}

static void lru_push(hub_orders *o, struct cert_entry *e)
{
    e->newer = NULL;
    e->older = o->newest;
    if (o->newest)
        o->newest->newer = e;
    o->newest = e;
    if (!o->oldest)
        o->oldest = e;
}

static void cert_drop(hub_orders *o, struct cert_entry *e)
{
    struct cert_entry **pp = cert_bucket(o, e->hash);
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    lru_unlink(o, e);
    pki_cert_free(e->cert);
    depot_free(e);
    o->n_certs--;
}

/* The cached entry of hash (now the most recently used), or NULL. */
static struct cert_entry *cert_find(hub_orders *o, const unsigned char *hash)
{
    for (struct cert_entry *e = *cert_bucket(o, hash); e; e = e->chain)
        if (!memcmp(e->hash, hash, 32)) {
            lru_unlink(o, e);
            lru_push(o, e);
            return e;
        }
    return NULL;
}

/* Keeps cert (owned from now on) under hash; without memory, for this order only. */
static pki_cert *cert_remember(hub_orders *o, const unsigned char *hash, pki_cert *cert)
{
    struct cert_entry *e = depot_calloc(1, sizeof(*e));
    struct cert_entry **b = cert_bucket(o, hash);
    if (!e)
        return o->uncached = cert;
    if (o->n_certs >= CERT_CACHE_MAX)
        cert_drop(o, o->oldest);
    memcpy(e->hash, hash, 32);
    e->cert = cert;
    e->chain = *b;
    *b = e;
    lru_push(o, e);
    o->n_certs++;
    return cert;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Keeps o->trust on the CA and the current CRL: the CRL file is looked at
 * (one stat) at every order, and when it changed (depotctl pki revoke renames
 * a new one in place) the trust is opened again and every cached certificate
 * forgotten, so each is checked against the new list, from the next order on. A CRL that cannot be read, is not the CA's or has expired leaves no
 * trust: orders are refused until it is mended (fail closed).
 */
static void trust_current(hub_orders *o)
{
    const char *crl = o->cfg->order_crl;
    struct stat st = {0};

    if (!o->cfg->order_ca[0])
        return;
    if (crl[0] && stat(crl, &st) != 0)
        memset(&st, 0, sizeof(st));
    if (o->trust && (!crl[0] || same_file(&st, &o->crl_st)))
        return;
    while (o->oldest)
        cert_drop(o, o->oldest);
    pki_trust_free(o->trust);
    o->trust = NULL;
    o->crl_st = st;
    if (pki_trust_open_crl(&o->trust, o->cfg->order_ca, crl) != DEPOT_OK)
        LOG_ERROR("orders: cannot trust [hub] ca %s with [hub] crl %s (reason above): every "
                  "order is refused until both read",
                  o->cfg->order_ca, crl[0] ? crl : "(none)");
    else if (crl[0])
        LOG_INFO("orders: revocation list %s read", crl);
}

/* The checked certificate of pem (cached, or checked now), or NULL (v says why). */
static pki_cert *order_cert(hub_orders *o, const char *pem, struct verdict *v)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    unsigned char hash[32];
    struct cert_entry *e = NULL;
    pki_cert *c = NULL;

    pki_cert_free(o->uncached);
    o->uncached = NULL;
    v->reason = HUB_OR_BAD_CERT;
    snprintf(v->text, sizeof(v->text), "certificate not issued by the CA or not valid now");
    if (mbedtls_md(md, (const unsigned char *)pem, strlen(pem), hash) != 0)
        return NULL;
    trust_current(o);
    if ((e = cert_find(o, hash)) && pki_cert_valid_now(e->cert))
        return e->cert;
    if (e) { /* expired since it was checked */
        cert_drop(o, e);
        return NULL;
    }
    if (!o->trust) {
        snprintf(v->text, sizeof(v->text), "%s",
                 o->cfg->order_ca[0] ? "the CA or its revocation list cannot be read"
                                     : "no CA configured for orders ([hub] ca)");
        return NULL;
    }
    if (pki_cert_open_pem(&c, pem, o->trust) != DEPOT_OK)
        return NULL;
    return cert_remember(o, hash, c);
}

depot_err hub_orders_verify_signed(hub_orders *o, const char *dealer, const char *doc,
                                   const char *sig_b64, const char *pem, char *why, size_t len)
{
    unsigned char sig[PKI_SIG_MAX + 8];
    size_t sig_len = 0;
    struct verdict v;
    pki_cert *cert = order_cert(o, pem, &v);
    if (!cert) {
        snprintf(why, len, "%s", v.text);
        return DEPOT_ERR_AUTH;
    }
    if (strcmp(pki_cert_subject_cn(cert), dealer) != 0) {
        snprintf(why, len, "certificate of dealer %s on the topic of %s", pki_cert_subject_cn(cert),
                 dealer);
        return DEPOT_ERR_AUTH;
    }
    if (pki_base64_decode(sig_b64, sig, sizeof(sig), &sig_len) != DEPOT_OK ||
        pki_cert_verify(cert, doc, strlen(doc), sig, sig_len) != DEPOT_OK) {
        snprintf(why, len, "signature does not verify");
        return DEPOT_ERR_AUTH;
    }
    return DEPOT_OK;
}

/* Certificate, signature and document; false with v filled if forged. */
static bool verify(hub_orders *o, const depot_msg *m, depot_order_doc *doc, struct verdict *v)
{
    const struct depot_order_body *b = &m->body.order;
    unsigned char sig[PKI_SIG_MAX + 8];
    char why[96];
    size_t sig_len = 0;
    pki_cert *cert = order_cert(o, b->cert, v);
    const char *cn;

    if (!cert)
        return false;
    cn = pki_cert_subject_cn(cert);
    v->reason = HUB_OR_WRONG_DEALER;
    if (strcmp(cn, m->dealer) != 0) {
        snprintf(v->text, sizeof(v->text), "certificate of dealer %s on the topic of %s", cn,
                 m->dealer);
        return false;
    }
    v->reason = HUB_OR_BAD_SIGNATURE;
    snprintf(v->text, sizeof(v->text), "signature does not verify");
    if (pki_base64_decode(b->sig, sig, sizeof(sig), &sig_len) != DEPOT_OK ||
        pki_cert_verify(cert, b->doc, strlen(b->doc), sig, sig_len) != DEPOT_OK)
        return false;
    v->reason = HUB_OR_BAD_DOCUMENT;
    if (depot_order_doc_decode(b->doc, strlen(b->doc), doc, why, sizeof(why)) != DEPOT_OK) {
        snprintf(v->text, sizeof(v->text), "document: %s", why);
        return false;
    }
    v->reason = HUB_OR_WRONG_DEALER;
    if (strcmp(doc->dealer, m->dealer) != 0) {
        snprintf(v->text, sizeof(v->text), "document of dealer %s sent by %s", doc->dealer,
                 m->dealer);
        return false;
    }
    return true;
}

/*
 * The order's identity, bound to the stream that carries it: its id must be
 * "<ledger>-<number>" of the message's own ledger, that ledger must be no
 * other dealer's (a ledger id is random: the first dealer seen with it owns
 * it), and an order already stored under that id must be this dealer's.
 * Ledger ids are visible to any viewer, so without this a dealer could take
 * another's next order id and have the real order dropped as a replay.
 * *ok false with v filled (forged) if any fails; *existing set if the id is
 * this dealer's order already (a replay).
 */
static depot_err check_identity(hub_store *s, const depot_msg *m, const depot_order_doc *doc,
                                struct verdict *v, bool *ok, bool *existing)
{
    char want[DEPOT_LEDGER_HEX + 32], other[DEPOT_DEALER_MAX + 1] = "";
    struct hub_order o;
    depot_err err;

    *ok = false;
    *existing = false;
    v->reason = HUB_OR_WRONG_ORDER_ID;
    snprintf(want, sizeof(want), "%s-%lld", m->ledger, doc->number);
    if (strcmp(doc->order, want) != 0) {
        snprintf(v->text, sizeof(v->text), "order id %.48s is not %.80s of the stream that sent it",
                 doc->order, want);
        return DEPOT_OK;
    }
    err = hub_store_ledger_owner(s, m->dealer, m->ledger, other, sizeof(other));
    if (err == DEPOT_OK) {
        snprintf(v->text, sizeof(v->text), "ledger %.40s is dealer %s's, not %s's", m->ledger,
                 other, m->dealer);
        return DEPOT_OK;
    }
    if (err != DEPOT_ERR_NOTFOUND)
        return err;
    err = hub_store_order_get(s, doc->order, &o);
    if (err == DEPOT_OK && strcmp(o.dealer, m->dealer) != 0) {
        snprintf(v->text, sizeof(v->text), "order id %.48s is dealer %s's order", doc->order,
                 o.dealer);
        return DEPOT_OK;
    }
    if (err != DEPOT_OK && err != DEPOT_ERR_NOTFOUND)
        return err;
    *existing = err == DEPOT_OK;
    *ok = true;
    return DEPOT_OK;
}

static depot_err record_forged(hub_store *s, const depot_msg *m, const depot_order_doc *doc,
                               const struct verdict *v, long long now)
{
    const char *order = doc->order[0] ? doc->order : "";
    struct hub_forged_entry e = {
        now, m->dealer, m->ledger, order, hub_order_reason_name(v->reason), v->text, m->id};
    depot_err err = hub_store_forged_add(s, &e);
    LOG_WARN("order message %s/%s/%llu refused: %s", m->dealer, m->ledger,
             (unsigned long long)m->id, v->text);
    if (err == DEPOT_OK)
        err = hub_audit(s, order, m->dealer, "hub", "forged", "", v->text, now);
    return err;
}

/* ---- lines, credit, auto-approval ---- */

/* Prices the lines from the catalog; false with v filled at the first bad line. */
static depot_err price_lines(hub_store *s, const depot_order_doc *doc, struct hub_order_line *lines,
                             long long *total, struct verdict *v, bool *ok)
{
    struct hub_catalog_item it;
    *total = 0;
    *ok = true;
    for (size_t i = 0; i < doc->n_lines; i++) {
        depot_err err = hub_store_catalog_find(s, doc->lines[i].barcode, &it);
        struct hub_order_line *l = &lines[i];
        memset(l, 0, sizeof(*l));
        snprintf(l->barcode, sizeof(l->barcode), "%s", doc->lines[i].barcode);
        l->qty = doc->lines[i].qty;
        if (err == DEPOT_ERR_NOTFOUND && *ok) {
            *ok = false;
            v->reason = HUB_OR_UNKNOWN_BARCODE;
            snprintf(v->text, sizeof(v->text), "unknown barcode %.32s", doc->lines[i].barcode);
        } else if (err != DEPOT_OK && err != DEPOT_ERR_NOTFOUND) {
            return err;
        }
        if (err != DEPOT_OK)
            continue;
        snprintf(l->sku, sizeof(l->sku), "%s", it.sku);
        l->unit_price = it.price;
        *total += l->qty * it.price;
        if (*ok && (l->qty < it.min_qty || l->qty > it.max_qty)) {
            *ok = false;
            v->reason = HUB_OR_QTY_RANGE;
            snprintf(v->text, sizeof(v->text), "qty %lld of %s outside %lld..%lld", l->qty, it.sku,
                     it.min_qty, it.max_qty);
        }
    }
    return DEPOT_OK;
}

struct sku_max {
    const char *sku;
    long long max;
};

static int find_sku_max(void *arg, const char *sku, long long max)
{
    struct sku_max *want = arg;
    if (strcmp(sku, want->sku) != 0)
        return 0;
    want->max = max;
    return 1;
}

/* The dealer's maximum stock of a SKU: its override, else the catalog's max_stock. */
static depot_err dealer_max(hub_store *s, const char *dealer, const struct hub_order_line *l,
                            long long *max)
{
    struct hub_catalog_item it;
    struct sku_max want = {l->sku, 0};
    depot_err err = hub_store_catalog_find(s, l->barcode, &it);
    want.max = err == DEPOT_OK ? it.max_stock : 0;
    if (err == DEPOT_OK)
        err = hub_store_sku_max_list(s, dealer, find_sku_max, &want);
    *max = want.max;
    return err;
}

/* Whether measured stock + ordered qty stays within the maximum for every SKU. */
static depot_err stock_fits(hub_store *s, const char *dealer, const struct hub_order_line *lines,
                            size_t n, bool *fits)
{
    depot_err err = DEPOT_OK;
    *fits = true;
    for (size_t i = 0; err == DEPOT_OK && *fits && i < n; i++) {
        long long qty = 0, stock = 0, max = 0;
        for (size_t j = 0; j < n; j++)
            if (!strcmp(lines[j].sku, lines[i].sku))
                qty += lines[j].qty;
        err = hub_store_stock_qty(s, dealer, lines[i].sku, &stock);
        if (err == DEPOT_OK)
            err = dealer_max(s, dealer, &lines[i], &max);
        *fits = stock + qty <= max;
    }
    return err;
}

/* Credit, then auto-approval: sets o->status, o->stage, o->reason. */
static depot_err decide(const struct hub_config *cfg, hub_store *s, struct hub_order *o,
                        const struct hub_order_line *lines, size_t n, struct verdict *v)
{
    struct hub_dealer_profile p = {0};
    struct hub_exposure x = {0};
    depot_err err = hub_store_profile_get(s, o->dealer, &p);
    bool fits = false;

    if (err == DEPOT_OK || err == DEPOT_ERR_NOTFOUND)
        err = hub_store_exposure(s, o->dealer, &x);
    if (err != DEPOT_OK)
        return err;
    if (x.open + o->total > p.credit_limit) {
        v->reason = HUB_OR_OVER_CREDIT;
        snprintf(o->status, sizeof(o->status), "rejected");
        snprintf(o->reason, sizeof(o->reason), "over credit limit");
        return DEPOT_OK;
    }
    if (o->total <= p.auto_approve_limit)
        err = stock_fits(s, o->dealer, lines, n, &fits);
    if (fits) {
        snprintf(o->status, sizeof(o->status), "approved");
        snprintf(o->reason, sizeof(o->reason), "within auto-approval rules");
    } else {
        snprintf(o->status, sizeof(o->status), "pending");
        snprintf(o->stage, sizeof(o->stage), "%s", cfg->n_stages ? cfg->stages[0] : "");
    }
    return err;
}

/* The audit lines of an order's arrival, after it was stored; the last one is the decision. */
static depot_err audit_arrival(hub_store *s, const struct hub_order *o, bool valid,
                               const char *gateway)
{
    long long at = o->received_at;
    depot_err err = hub_audit(s, o->id, o->dealer, gateway, "received", "", "", at);
    if (err == DEPOT_OK && valid)
        err = hub_audit(s, o->id, o->dealer, "hub", "validated", "", "", at);
    if (err != DEPOT_OK)
        return err;
    if (!strcmp(o->status, "pending"))
        return hub_audit(s, o->id, o->dealer, "hub", "stage-pending", o->stage,
                         "over the auto-approval rules", at);
    if (!strcmp(o->status, "approved"))
        return hub_audit(s, o->id, o->dealer, "auto", "auto-approved", "", o->reason, at);
    return hub_audit(s, o->id, o->dealer, "hub", "rejected", "", o->reason, at);
}

static void order_from_doc(struct hub_order *o, const depot_msg *m, const depot_order_doc *doc,
                           long long now)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->id, sizeof(o->id), "%s", doc->order);
    snprintf(o->dealer, sizeof(o->dealer), "%s", m->dealer);
    snprintf(o->ledger, sizeof(o->ledger), "%s", m->ledger);
    o->number = doc->number;
    snprintf(o->terminal, sizeof(o->terminal), "%s", doc->terminal);
    o->created = doc->created;
    o->received_at = o->stage_since = now;
}

static depot_err replay(hub_store *s, const depot_msg *m, const depot_order_doc *doc, long long now,
                        struct hub_order_result *res)
{
    char why[160];
    snprintf(why, sizeof(why), "order id sent again in message %s/%llu: ignored", m->ledger,
             (unsigned long long)m->id);
    LOG_WARN("order %s from %s: replay in message %s/%llu ignored", doc->order, m->dealer,
             m->ledger, (unsigned long long)m->id);
    res->outcome = HUB_ORDER_REPLAY;
    return hub_audit(s, doc->order, m->dealer, "hub", "replay", "", why, now);
}

/* A verified document: price, decide, store, audit. */
static depot_err accept_order(hub_orders *o, hub_store *s, const depot_msg *m,
                              const depot_order_doc *doc, long long now,
                              struct hub_order_result *res)
{
    struct hub_order_line lines[DEPOT_ORDER_LINES_MAX];
    struct verdict v = {0};
    struct hub_order ord;
    char gateway[DEPOT_DEALER_MAX + 16];
    bool valid;
    depot_err err;

    order_from_doc(&ord, m, doc, now);
    err = price_lines(s, doc, lines, &ord.total, &v, &valid);
    if (err == DEPOT_OK && valid)
        err = decide(o->cfg, s, &ord, lines, doc->n_lines, &v);
    if (err != DEPOT_OK)
        return err;
    if (!valid) {
        snprintf(ord.status, sizeof(ord.status), "rejected");
        snprintf(ord.reason, sizeof(ord.reason), "%s", v.text);
    }
    if (strcmp(ord.status, "pending") != 0)
        ord.decided_at = now;
    err =
        hub_store_order_insert(s, &ord, lines, doc->n_lines, m->body.order.doc, m->body.order.sig);
    if (err == DEPOT_ERR_DUPLICATE)
        return replay(s, m, doc, now, res);
    snprintf(gateway, sizeof(gateway), "gateway:%s", m->dealer);
    if (err == DEPOT_OK)
        err = audit_arrival(s, &ord, valid, gateway);
    if (err == DEPOT_OK && !strcmp(ord.status, "approved")) /* in the order's transaction */
        err = hub_webhook_order_approved(s, ord.id, ord.dealer, ord.total, "auto", now);
    res->outcome = ord.status[0] == 'a'   ? HUB_ORDER_APPROVED
                   : ord.status[0] == 'p' ? HUB_ORDER_PENDING
                                          : HUB_ORDER_REJECTED;
    res->reason = v.reason;
    res->latency_ms = now - doc->created;
    res->at = now;
    res->total = ord.total;
    LOG_INFO("order %s from %s: %s%s%s%s%s", ord.id, ord.dealer, ord.status,
             ord.stage[0] ? " at " : "", ord.stage, ord.reason[0] ? ": " : "", ord.reason);
    return err;
}

static depot_err on_order(hub_orders *o, hub_store *s, const depot_msg *m, long long now,
                          struct hub_order_result *res)
{
    depot_order_doc *doc = depot_calloc(1, sizeof(*doc));
    struct verdict v = {0};
    bool ok, existing = false;
    depot_err err = DEPOT_OK;

    if (!doc)
        return DEPOT_ERR_NOMEM;
    ok = verify(o, m, doc, &v);
    if (ok)
        err = check_identity(s, m, doc, &v, &ok, &existing);
    if (err != DEPOT_OK) {
        depot_free(doc); /* a store failure: the caller rolls back */
        return err;
    }
    if (!ok) {
        res->outcome = HUB_ORDER_FORGED;
        res->reason = v.reason;
        res->at = now;
        err = record_forged(s, m, doc, &v, now);
    } else if (existing) {
        err = replay(s, m, doc, now, res);
    } else {
        err = accept_order(o, s, m, doc, now, res);
    }
    depot_free(doc);
    return err;
}

static depot_err on_decided(hub_store *s, const depot_msg *m, long long now,
                            struct hub_order_result *res)
{
    const char *id = m->body.event.reason;
    struct hub_order ord;
    char gateway[DEPOT_DEALER_MAX + 16];
    bool confirmed = false;
    depot_err err = hub_store_decision_confirm(s, m->dealer, id, &confirmed);
    if (err != DEPOT_OK || !confirmed)
        return err;
    err = hub_store_order_get(s, id, &ord);
    snprintf(gateway, sizeof(gateway), "gateway:%s", m->dealer);
    if (err == DEPOT_OK)
        err = hub_audit(s, id, m->dealer, gateway, "delivered", ord.stage, ord.status, now);
    res->outcome = HUB_ORDER_CONFIRMED;
    return err;
}

depot_err hub_orders_on_message(hub_orders *o, hub_store *s, const depot_msg *m, long long now,
                                struct hub_order_result *res)
{
    memset(res, 0, sizeof(*res));
    if (m->type == DEPOT_MSG_ORDER)
        return on_order(o, s, m, now, res);
    if (m->type == DEPOT_MSG_EVENT && !strcmp(m->body.event.event, "decided"))
        return on_decided(s, m, now, res);
    if (m->type == DEPOT_MSG_STATE && m->body.state.online)
        return hub_store_decisions_wake(s, m->dealer);
    return DEPOT_OK;
}

void hub_orders_count(hub_orders *o, const struct hub_order_result *res)
{
    hub_metrics *mx = o->metrics;
    if (res->outcome != HUB_ORDER_NONE && res->outcome != HUB_ORDER_CONFIRMED)
        hub_metrics_add(mx, HUB_C_ORDERS_RECEIVED, 1);
    switch (res->outcome) {
    case HUB_ORDER_APPROVED:
        hub_metrics_add(mx, HUB_C_ORDERS_AUTO_APPROVED, 1);
        hub_metrics_add(mx, HUB_C_ORDERS_APPROVED, 1);
        hub_metrics_approval_latency(mx, true, res->latency_ms);
        break;
    case HUB_ORDER_PENDING:
        hub_metrics_add(mx, HUB_C_ORDERS_PENDING, 1);
        break;
    case HUB_ORDER_REJECTED:
    case HUB_ORDER_FORGED:
        hub_metrics_order_rejected(mx, res->reason);
        break;
    case HUB_ORDER_REPLAY:
        hub_metrics_add(mx, HUB_C_ORDERS_REPLAYS, 1);
        break;
    case HUB_ORDER_CONFIRMED:
        hub_metrics_add(mx, HUB_C_DECISIONS_DELIVERED, 1);
        break;
    case HUB_ORDER_NONE:
        break;
    }
}
