/*
 * The hub's half of the tamper-evident ledger (ledger.h).
 *
 * hub_ledger_verify walks each ledger of the period in mid order, from the
 * first movement of the first batch that holds a movement of the period to
 * the last of the last one (a batch is verified whole), keeping the hash
 * before the current movement ("" when unknown: after a gap, or at the start
 * when the hub holds no hash before it). The batches are read first (a
 * PostgreSQL walk of the movements must not use the store meanwhile), the
 * signatures checked after the walk, each certificate parsed once.
 */
#include "ledger.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/pki.h"

#define SIGNED_MAX 512

void hub_ledger_check(hub_orders *o, const depot_msg *m, struct hub_chain *c)
{
    const struct depot_movements_body *b = &m->body.movements;
    const char *prev = b->prev;
    char h[DEPOT_CHAIN_HEX + 1], doc[SIGNED_MAX], why[96];

    memset(c, 0, sizeof(*c));
    if (!b->sig || b->n_items == 0) {
        c->in = HUB_CHAIN_UNCHAINED;
        return;
    }
    c->in = HUB_CHAIN_FORGED;
    for (size_t i = 0; i < b->n_items; i++) {
        const struct depot_movement_item *it = &b->items[i];
        struct depot_chain_link l = {m->dealer, m->ledger, it->mid,   it->ts,  it->node,
                                     it->sku,   it->kind,  it->delta, it->qty, it->code};
        if (i > 0 && it->mid != b->items[i - 1].mid + 1) {
            snprintf(c->why, sizeof(c->why), "movement %" PRIu64 " follows movement %" PRIu64,
                     it->mid, b->items[i - 1].mid);
            return;
        }
        if (depot_chain_hash(&l, prev, h) != DEPOT_OK || strcmp(h, it->hash) != 0) {
            snprintf(c->why, sizeof(c->why),
                     "movement %" PRIu64 " does not give the hash it was sent with", it->mid);
            return;
        }
        prev = it->hash;
    }
    if (depot_movements_signed(m->dealer, m->ledger, b->items[0].mid, b->items[b->n_items - 1].mid,
                               b->prev, prev, doc, sizeof(doc)) != DEPOT_OK) {
        snprintf(c->why, sizeof(c->why), "the signed text cannot be made");
        return;
    }
    if (!o) {
        snprintf(c->why, sizeof(c->why), "no CA to check the signature with");
        return;
    }
    if (hub_orders_verify_signed(o, m->dealer, doc, b->sig, b->cert, why, sizeof(why)) !=
        DEPOT_OK) {
        snprintf(c->why, sizeof(c->why), "signature: %s", why);
        return;
    }
    c->in = HUB_CHAIN_VERIFIED;
}

/* ---- re-verification of a period ---- */

struct kept_batch {
    uint64_t first, last;
    char prev[DEPOT_CHAIN_HEX + 1], hash[DEPOT_CHAIN_HEX + 1], cert[DEPOT_CHAIN_HEX + 1];
    char *sig;
    bool end_ok; /* its last movement's stored hash is the one signed */
};

struct walk {
    const char *dealer, *ledger;
    struct kept_batch *b;
    size_t nb, cap, bi;
    bool nomem;
    /* the walk */
    bool started;
    uint64_t next;
    char prev[DEPOT_CHAIN_HEX + 1];
    long long verified, unchained, n_problems;
    cJSON *problems;
};

static int batch_row(void *arg, const struct hub_ledger_batch *r)
{
    struct walk *w = arg;
    struct kept_batch *b;
    if (w->nb == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        struct kept_batch *n = depot_realloc(w->b, cap * sizeof(*n));
        if (!n)
            return w->nomem = true;
        w->b = n;
        w->cap = cap;
    }
    b = &w->b[w->nb];
    memset(b, 0, sizeof(*b));
    b->first = r->first;
    b->last = r->last;
    snprintf(b->prev, sizeof(b->prev), "%s", r->prev);
    snprintf(b->hash, sizeof(b->hash), "%s", r->hash);
    snprintf(b->cert, sizeof(b->cert), "%s", r->cert);
    b->sig = depot_strdup(r->sig);
    if (!b->sig)
        return w->nomem = true;
    w->nb++;
    return 0;
}

static void problem(struct walk *w, uint64_t mid, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(struct walk *w, uint64_t mid, const char *kind, const char *fmt, ...)
{
    char text[320];
    va_list ap;
    cJSON *p;
    if (w->n_problems++ >= HUB_LEDGER_PROBLEMS_MAX)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    p = cJSON_CreateObject();
    if (!p || !cJSON_AddItemToArray(w->problems, p)) {
        cJSON_Delete(p);
        w->nomem = true;
        return;
    }
    cJSON_AddNumberToObject(p, "mid", (double)mid);
    cJSON_AddStringToObject(p, "kind", kind);
    cJSON_AddStringToObject(p, "text", text);
}

/* The batch holding mid (the batches are in first order, walked forward), or NULL. */
static struct kept_batch *cover(struct walk *w, uint64_t mid)
{
    while (w->bi < w->nb && w->b[w->bi].last < mid)
        w->bi++;
    return w->bi < w->nb && w->b[w->bi].first <= mid ? &w->b[w->bi] : NULL;
}

static int move_row(void *arg, const struct hub_ledger_move *mv)
{
    struct walk *w = arg;
    struct depot_chain_link l = {w->dealer, w->ledger, mv->mid,   mv->ts,  mv->node,
                                 mv->sku,   mv->kind,  mv->delta, mv->qty, mv->code};
    struct kept_batch *b = cover(w, mv->mid);
    char h[DEPOT_CHAIN_HEX + 1];

    if (w->started && mv->mid > w->next) {
        problem(w, w->next, "gap",
                "movements %" PRIu64 "..%" PRIu64 " are not in the hub's records", w->next,
                mv->mid - 1);
        w->prev[0] = '\0';
    }
    w->started = true;
    w->next = mv->mid + 1;
    if (b && b->first == mv->mid) { /* a batch starts: it was signed after b->prev */
        if (w->prev[0] && strcmp(w->prev, b->prev) != 0)
            problem(w, mv->mid, "link",
                    "movement %" PRIu64 " was signed after hash %.16s..., but movement %" PRIu64
                    " has hash %.16s... at the hub",
                    mv->mid, b->prev, mv->mid - 1, w->prev);
        snprintf(w->prev, sizeof(w->prev), "%s", b->prev);
    }
    if (!mv->hash[0]) {
        w->unchained++;
        if (b)
            problem(w, mv->mid, "changed",
                    "movement %" PRIu64 " has lost its hash at the hub (its batch was signed)",
                    mv->mid);
        w->prev[0] = '\0';
        return 0;
    }
    if (!b)
        problem(w, mv->mid, "unsigned",
                "movement %" PRIu64 " has a hash but no signed batch at the hub holds it", mv->mid);
    if (w->prev[0]) {
        if (depot_chain_hash(&l, w->prev, h) != DEPOT_OK || strcmp(h, mv->hash) != 0)
            problem(w, mv->mid, "changed",
                    "movement %" PRIu64 " (%s %s %+lld -> %lld at %s) does not give the hash it "
                    "was applied with: changed at the hub since",
                    mv->mid, mv->kind, mv->sku, mv->delta, mv->qty, mv->node);
        else
            w->verified++;
    }
    snprintf(w->prev, sizeof(w->prev), "%s", mv->hash);
    if (b && b->last == mv->mid) {
        b->end_ok = strcmp(mv->hash, b->hash) == 0;
        if (!b->end_ok)
            problem(w, mv->mid, "signed_hash",
                    "movements %" PRIu64 "..%" PRIu64 " end in hash %.16s... at the hub, the "
                    "gateway signed %.16s...",
                    b->first, b->last, mv->hash, b->hash);
    }
    return 0;
}

/* Certificates checked once per verification: fingerprint -> usable (issued, CN = dealer). */
struct cert_memo {
    char fpr[DEPOT_CHAIN_HEX + 1];
    char *pem; /* NULL: not usable */
    char why[96];
};

struct certs {
    struct cert_memo m[8];
    size_t n;
};

static struct cert_memo *cert_get(struct certs *cs, hub_store *s, const char *ca_path,
                                  const char *dealer, const char *fpr, depot_err *err)
{
    struct cert_memo *c;
    char cn[PKI_CN_SIZE];
    depot_err e;
    for (size_t i = 0; i < cs->n; i++)
        if (!strcmp(cs->m[i].fpr, fpr))
            return &cs->m[i];
    if (cs->n == sizeof(cs->m) / sizeof(cs->m[0])) { /* forget the oldest */
        depot_free(cs->m[0].pem);
        memmove(&cs->m[0], &cs->m[1], (cs->n - 1) * sizeof(cs->m[0]));
        cs->n--;
    }
    c = &cs->m[cs->n++];
    memset(c, 0, sizeof(*c));
    snprintf(c->fpr, sizeof(c->fpr), "%s", fpr);
    e = hub_store_ledger_cert(s, fpr, &c->pem);
    if (e == DEPOT_ERR_NOTFOUND) {
        snprintf(c->why, sizeof(c->why), "its certificate is not in the hub's records");
        return c;
    }
    if (e != DEPOT_OK) {
        *err = e;
        return c;
    }
    if (!ca_path || !ca_path[0] || pki_cert_check_issued_ever(ca_path, c->pem) != DEPOT_OK)
        snprintf(c->why, sizeof(c->why), "its certificate was not issued by the CA");
    else if (pki_cert_pem_cn(c->pem, cn, sizeof(cn)) != DEPOT_OK || strcmp(cn, dealer) != 0)
        snprintf(c->why, sizeof(c->why), "its certificate is not dealer %s's", dealer);
    if (c->why[0]) {
        depot_free(c->pem);
        c->pem = NULL;
    }
    return c;
}

static void certs_free(struct certs *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        depot_free(cs->m[i].pem);
    cs->n = 0;
}

static depot_err check_signatures(struct walk *w, hub_store *s, const char *ca_path,
                                  struct certs *cs, long long *ok)
{
    char doc[SIGNED_MAX];
    depot_err err = DEPOT_OK;
    for (size_t i = 0; err == DEPOT_OK && i < w->nb; i++) {
        struct kept_batch *b = &w->b[i];
        struct cert_memo *c = cert_get(cs, s, ca_path, w->dealer, b->cert, &err);
        if (err != DEPOT_OK)
            break;
        if (!c->pem) {
            problem(w, b->first, "signature", "movements %" PRIu64 "..%" PRIu64 ": %s", b->first,
                    b->last, c->why);
            continue;
        }
        if (depot_movements_signed(w->dealer, w->ledger, b->first, b->last, b->prev, b->hash, doc,
                                   sizeof(doc)) != DEPOT_OK ||
            pki_verify_b64(c->pem, doc, strlen(doc), b->sig) != DEPOT_OK)
            problem(w, b->first, "signature",
                    "movements %" PRIu64 "..%" PRIu64 ": the gateway's signature does not verify "
                    "over the batch the hub holds",
                    b->first, b->last);
        else
            ++*ok;
    }
    return err;
}

struct spans {
    char (*ledger)[DEPOT_LEDGER_HEX + 1];
    uint64_t *lo, *hi;
    long long *n;
    size_t count, cap;
    bool nomem;
};

static int span_row(void *arg, const struct hub_ledger_span *sp)
{
    struct spans *x = arg;
    if (x->count == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 4;
        void *a = depot_realloc(x->ledger, cap * sizeof(*x->ledger));
        if (a)
            x->ledger = a;
        void *b = a ? depot_realloc(x->lo, cap * sizeof(*x->lo)) : NULL;
        if (b)
            x->lo = b;
        void *c = b ? depot_realloc(x->hi, cap * sizeof(*x->hi)) : NULL;
        if (c)
            x->hi = c;
        void *d = c ? depot_realloc(x->n, cap * sizeof(*x->n)) : NULL;
        if (!d)
            return x->nomem = true;
        x->n = d;
        x->cap = cap;
    }
    snprintf(x->ledger[x->count], sizeof(x->ledger[0]), "%s", sp->ledger);
    x->lo[x->count] = sp->lo;
    x->hi[x->count] = sp->hi;
    x->n[x->count] = sp->n;
    x->count++;
    return 0;
}

static depot_err verify_ledger(hub_store *s, const char *ca_path, const char *dealer,
                               const char *ledger, uint64_t lo, uint64_t hi, long long n,
                               struct certs *cs, cJSON *out)
{
    struct walk w = {.dealer = dealer, .ledger = ledger};
    long long sig_ok = 0;
    uint64_t wlo = lo, whi = hi;
    bool found = false;
    depot_err err;
    cJSON *o = cJSON_CreateObject();

    w.problems = cJSON_CreateArray();
    if (!o || !w.problems || !cJSON_AddItemToArray(out, o)) {
        cJSON_Delete(o);
        cJSON_Delete(w.problems);
        return DEPOT_ERR_NOMEM;
    }
    err = hub_store_ledger_batches(s, dealer, ledger, lo, hi, batch_row, &w);
    if (err == DEPOT_OK && w.nomem)
        err = DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK && w.nb) {
        wlo = w.b[0].first < lo ? w.b[0].first : lo;
        whi = w.b[w.nb - 1].last > hi ? w.b[w.nb - 1].last : hi;
    }
    if (err == DEPOT_OK && wlo > 1)
        err = hub_store_ledger_hash_at(s, dealer, ledger, wlo - 1, w.prev, &found);
    if (!found)
        w.prev[0] = '\0';
    w.next = wlo;
    w.started = true;
    if (err == DEPOT_OK)
        err = hub_store_ledger_moves(s, dealer, ledger, wlo, whi, move_row, &w);
    if (err == DEPOT_OK && w.next <= whi)
        problem(&w, w.next, "gap",
                "movements %" PRIu64 "..%" PRIu64 " are not in the hub's records", w.next, whi);
    if (err == DEPOT_OK)
        err = check_signatures(&w, s, ca_path, cs, &sig_ok);
    if (err == DEPOT_OK && w.nomem)
        err = DEPOT_ERR_NOMEM;
    cJSON_AddStringToObject(o, "ledger", ledger);
    cJSON_AddNumberToObject(o, "first", (double)wlo);
    cJSON_AddNumberToObject(o, "last", (double)whi);
    cJSON_AddNumberToObject(o, "movements", (double)n);
    cJSON_AddNumberToObject(o, "verified", (double)w.verified);
    cJSON_AddNumberToObject(o, "batches", (double)w.nb);
    cJSON_AddNumberToObject(o, "signatures_ok", (double)sig_ok);
    cJSON_AddNumberToObject(o, "unchained", (double)w.unchained);
    cJSON_AddBoolToObject(o, "ok", w.n_problems == 0);
    cJSON_AddItemToObject(o, "problems", w.problems);
    cJSON_AddNumberToObject(o, "more_problems",
                            (double)(w.n_problems > HUB_LEDGER_PROBLEMS_MAX
                                         ? w.n_problems - HUB_LEDGER_PROBLEMS_MAX
                                         : 0));
    for (size_t i = 0; i < w.nb; i++)
        depot_free(w.b[i].sig);
    depot_free(w.b);
    return err;
}

depot_err hub_ledger_verify(hub_store *s, const char *ca_path, const char *dealer, long long from,
                            long long to, cJSON **out)
{
    struct spans x = {0};
    struct certs cs = {.n = 0};
    cJSON *o = cJSON_CreateObject(), *list = cJSON_CreateArray(), *l;
    bool ok = true;
    depot_err err = o && list ? DEPOT_OK : DEPOT_ERR_NOMEM;

    if (err == DEPOT_OK)
        err = hub_store_ledger_spans(s, dealer, from, to, span_row, &x);
    if (err == DEPOT_OK && x.nomem)
        err = DEPOT_ERR_NOMEM;
    for (size_t i = 0; err == DEPOT_OK && i < x.count; i++)
        err = verify_ledger(s, ca_path, dealer, x.ledger[i], x.lo[i], x.hi[i], x.n[i], &cs, list);
    certs_free(&cs);
    depot_free(x.ledger);
    depot_free(x.lo);
    depot_free(x.hi);
    depot_free(x.n);
    if (err != DEPOT_OK) {
        cJSON_Delete(o);
        cJSON_Delete(list);
        return err;
    }
    cJSON_ArrayForEach(l, list) ok = ok && cJSON_IsTrue(cJSON_GetObjectItem(l, "ok"));
    cJSON_AddStringToObject(o, "dealer", dealer);
    cJSON_AddNumberToObject(o, "from_ms", (double)from);
    cJSON_AddNumberToObject(o, "to_ms", (double)to);
    cJSON_AddBoolToObject(o, "ok", ok);
    cJSON_AddItemToObject(o, "ledgers", list);
    *out = o;
    return DEPOT_OK;
}
