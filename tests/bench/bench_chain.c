/*
 * bench_chain: the hub's verification of the movement chain (cloud/hub/ledger.h), in
 * movements per second, beside mbedTLS's bare SHA-256 and ECDSA verify rates measured in the
 * same run on this machine.
 *
 * A CA and a dealer certificate are made with the project's own CA code; --batches batches of
 * --batch movements are hashed and signed as a gateway does (not timed). Then, each for
 * --seconds (or the whole work once, whichever is longer):
 *
 *   sha256       mbedtls_sha256_ret over one movement's canonical text (the floor of a hash)
 *   ecdsa        pki_cert_verify on a certificate parsed once (SHA-256 of the signed text +
 *                ECDSA P-256 verify: the floor of a batch's signature)
 *   bound        what a batch can cost at best: batch x sha256 + one ecdsa, as movements/s
 *   check        hub_ledger_check on every batch (what the ingest does before an apply:
 *                each hash recomputed, the signature verified, the certificate cached)
 *   apply        hub_store_apply into a SQLite store, 16 batches per transaction, batches
 *                without their chain (the hub before the chain), then the same batches
 *                checked and applied with their chain (hashes, batch, head kept)
 *   verify       hub_ledger_verify of the whole period from the store (re-verification)
 *
 * usage: bench_chain [--batches 2000] [--batch 8] [--seconds 2] [--dir /var/tmp]
 * stdout: one "key=value ..." line per measurement, then a table. Exit 0, 1 if anything did
 * not verify, 2 usage or setup error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "bench_util.h"
#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/ledger_chain.h"
#include "depot/log.h"
#include "depot/pki.h"
#include "ledger.h"
#include "orders.h"
#include "store/ledger.h"

#define DEALER "D0001"
#define LEDGER "0123456789abcdef0123456789abcdef"
#define T0 1764230000000LL
#define PER_TX 16

static long n_batches = 2000, per_batch = 8, seconds = 2;
static const char *parent = "/var/tmp";

struct batch {
    depot_msg m;
    struct depot_movement_item *items;
    char sig[PKI_SIG_B64_SIZE];
};

/* Removes the files this program made in dir, then dir. */
static void clean(const char *dir)
{
    static const char *const names[] = {"ca.key",       "ca.crt",      "d.key",
                                        "d.crt",        "plain.db",    "plain.db-wal",
                                        "plain.db-shm", "chained.db",  "chained.db-wal",
                                        "chained.db-shm"};
    char path[700];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        (void)unlink(path);
    }
    (void)rmdir(dir);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: bench_chain [--batches N] [--batch N] [--seconds S] [--dir DIR]\n");
}

static void die(const char *what)
{
    fprintf(stderr, "bench_chain: %s\n", what);
    exit(2);
}

static void link_of(const struct depot_movement_item *it, struct depot_chain_link *l)
{
    *l = (struct depot_chain_link){DEALER,  LEDGER,   it->mid,   it->ts,  it->node,
                                   it->sku, it->kind, it->delta, it->qty, it->code};
}

/* n_batches batches of per_batch picks, chained from genesis and signed with key. */
static struct batch *make_batches(const char *key, const char *pem)
{
    struct batch *bs = depot_calloc((size_t)n_batches, sizeof(*bs));
    char prev[DEPOT_CHAIN_HEX + 1] = DEPOT_CHAIN_GENESIS, first_prev[DEPOT_CHAIN_HEX + 1];
    char doc[512];
    pki_signer *signer;
    uint64_t mid = 1;
    if (!bs || pki_signer_open(&signer, key) != DEPOT_OK)
        die("setup: batches");
    for (long b = 0; b < n_batches; b++) {
        struct batch *x = &bs[b];
        x->items = depot_calloc((size_t)per_batch, sizeof(*x->items));
        if (!x->items)
            die("out of memory");
        memcpy(first_prev, prev, sizeof(prev));
        for (long i = 0; i < per_batch; i++, mid++) {
            struct depot_movement_item *it = &x->items[i];
            struct depot_chain_link l;
            it->mid = mid;
            it->ts = T0 + (long long)mid * 1000;
            snprintf(it->node, sizeof(it->node), "scan-1");
            snprintf(it->sku, sizeof(it->sku), "SKU-%03d", (int)(mid % 200));
            snprintf(it->kind, sizeof(it->kind), "pick");
            it->delta = -1;
            it->qty = 1000000 - (long long)(mid / 200) - 1; /* one less at each pick of its SKU */
            link_of(it, &l);
            if (depot_chain_hash(&l, prev, it->hash) != DEPOT_OK)
                die("hash");
            memcpy(prev, it->hash, sizeof(prev));
        }
        x->m.v = DEPOT_MSG_VERSION;
        x->m.type = DEPOT_MSG_MOVEMENTS;
        snprintf(x->m.dealer, sizeof(x->m.dealer), DEALER);
        snprintf(x->m.ledger, sizeof(x->m.ledger), LEDGER);
        x->m.id = (uint64_t)b + 1;
        x->m.base = 1;
        x->m.ts = x->items[per_batch - 1].ts;
        x->m.body.movements.items = x->items;
        x->m.body.movements.n_items = (size_t)per_batch;
        memcpy(x->m.body.movements.prev, first_prev, sizeof(first_prev));
        if (depot_movements_signed(DEALER, LEDGER, x->items[0].mid, x->items[per_batch - 1].mid,
                                   first_prev, prev, doc, sizeof(doc)) != DEPOT_OK ||
            pki_signer_sign_b64(signer, doc, strlen(doc), x->sig, sizeof(x->sig)) != DEPOT_OK)
            die("sign");
        x->m.body.movements.sig = x->sig;
        x->m.body.movements.cert = (char *)pem;
    }
    pki_signer_free(signer);
    return bs;
}

/* The rate of fn over at least `seconds` (and at least one round). */
static double rate(long long (*fn)(void *), void *arg, double *secs)
{
    double t0 = bench_mono_s(), t;
    long long n = 0;
    do
        n += fn(arg);
    while ((t = bench_mono_s() - t0) < (double)seconds);
    *secs = t;
    return (double)n / t;
}

struct sha_arg {
    char text[512];
    size_t len;
};

static long long sha_round(void *arg)
{
    struct sha_arg *a = arg;
    unsigned char h[32];
    for (int i = 0; i < 1000; i++) {
        a->text[0] = (char)('a' + i % 26);
        if (mbedtls_sha256_ret((const unsigned char *)a->text, a->len, h, 0) != 0)
            die("sha256");
    }
    return 1000;
}

struct ecdsa_arg {
    pki_cert *cert;
    char doc[512];
    unsigned char sig[PKI_SIG_MAX + 8];
    size_t sig_len;
};

static long long ecdsa_round(void *arg)
{
    struct ecdsa_arg *a = arg;
    for (int i = 0; i < 20; i++)
        if (pki_cert_verify(a->cert, a->doc, strlen(a->doc), a->sig, a->sig_len) != DEPOT_OK)
            die("ecdsa verify failed");
    return 20;
}

struct check_arg {
    hub_orders *orders;
    struct batch *bs;
};

static long long check_round(void *arg)
{
    struct check_arg *a = arg;
    struct hub_chain c;
    for (long b = 0; b < n_batches; b++) {
        hub_ledger_check(a->orders, &a->bs[b].m, &c);
        if (c.in != HUB_CHAIN_VERIFIED) {
            fprintf(stderr, "bench_chain: batch %ld: %s\n", b, c.why);
            exit(1);
        }
    }
    return n_batches * per_batch;
}

/* Applies every batch into a new store at path (chained: checked first); movements/s. */
static double apply_all(hub_orders *orders, struct batch *bs, const char *path, bool chained)
{
    hub_store *s;
    double t0;
    if (hub_store_open(path, &s) != DEPOT_OK)
        die("store");
    t0 = bench_mono_s();
    for (long b = 0; b < n_batches; b += PER_TX) {
        if (hub_store_begin(s) != DEPOT_OK)
            die("begin");
        for (long i = b; i < b + PER_TX && i < n_batches; i++) {
            struct hub_chain c = {.in = HUB_CHAIN_UNCHAINED};
            enum hub_apply_result res;
            depot_msg m = bs[i].m;
            if (chained) {
                hub_ledger_check(orders, &m, &c);
            } else {
                m.body.movements.sig = NULL;
                m.body.movements.cert = NULL;
                m.body.movements.prev[0] = '\0';
            }
            if (hub_store_apply_chain(s, &m, m.ts, &c, &res, NULL) != DEPOT_OK ||
                res != HUB_APPLY_DONE || (chained && c.out != HUB_CHAIN_STARTED &&
                                          c.out != HUB_CHAIN_LINKED)) {
                fprintf(stderr, "bench_chain: batch %ld not applied (%d, %s)\n", i, (int)res,
                        hub_chain_out_name(c.out));
                exit(1);
            }
        }
        if (hub_store_commit(s) != DEPOT_OK)
            die("commit");
    }
    t0 = bench_mono_s() - t0;
    hub_store_free(s);
    return (double)(n_batches * per_batch) / t0;
}

int main(int argc, char **argv)
{
    const struct bench_opt opts[] = {
        {"--batches", NULL, &n_batches, 1, 1000000},
        {"--batch", NULL, &per_batch, 1, 256},
        {"--seconds", NULL, &seconds, 0, 600},
        {"--dir", &parent, NULL, 0, 0},
        {NULL, NULL, NULL, 0, 0},
    };
    char dir[512], ca_key[600], ca[600], key[600], crt[600], db1[600], db2[600];
    struct hub_config cfg;
    hub_metrics *metrics;
    hub_orders *orders;
    struct sha_arg sa;
    struct ecdsa_arg ea;
    struct check_arg ca_arg;
    struct batch *bs;
    char *pem = NULL;
    size_t pem_len;
    pki_ca *authority;
    pki_trust *trust;
    hub_store *s;
    cJSON *report = NULL;
    double sha, ecdsa, check, plain, chained, verify, secs, bound, t0;
    struct depot_chain_link l;

    if (bench_parse_opts("bench_chain", argc, argv, opts, usage) < 0)
        return 2;
    depot_log_init("bench_chain", DEPOT_LOG_WARN);
    snprintf(dir, sizeof(dir), "%s/bench-chain-XXXXXX", parent);
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(ca_key, sizeof(ca_key), "%s/ca.key", dir);
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    snprintf(key, sizeof(key), "%s/d.key", dir);
    snprintf(crt, sizeof(crt), "%s/d.crt", dir);
    snprintf(db1, sizeof(db1), "%s/plain.db", dir);
    snprintf(db2, sizeof(db2), "%s/chained.db", dir);
    if (pki_key_generate(ca_key) != DEPOT_OK || pki_ca_create(ca_key, ca, NULL, 0) != DEPOT_OK ||
        pki_ca_open(&authority, ca_key, ca) != DEPOT_OK || pki_key_generate(key) != DEPOT_OK ||
        pki_ca_issue_client(authority, key, DEALER, crt, 0) != DEPOT_OK ||
        pki_read_file(crt, 16384, &pem, &pem_len) != DEPOT_OK)
        die("setup: pki");
    pki_ca_free(authority);
    hub_config_defaults(&cfg);
    if (strlen(ca) >= sizeof(cfg.order_ca))
        die("--dir is too long");
    memcpy(cfg.order_ca, ca, strlen(ca) + 1);
    if (hub_metrics_new(&metrics) != DEPOT_OK || hub_orders_new(&cfg, metrics, &orders) != DEPOT_OK)
        die("setup: hub");
    bs = make_batches(key, pem);

    /* the floors */
    link_of(&bs[0].items[0], &l);
    sa.len = (size_t)snprintf(sa.text, sizeof(sa.text),
                              "depot movement v1\n%s\n%s\n%" PRIu64 "\n%lld\n%s\n%s\n%s\n%lld\n%lld\n%s\n",
                              l.dealer, l.ledger, l.mid, l.ts, l.node, l.sku, l.kind, l.delta,
                              l.qty, DEPOT_CHAIN_GENESIS);
    sha = rate(sha_round, &sa, &secs);
    printf("mode=sha256 bytes=%zu seconds=%.2f rate=%.0f/s\n", sa.len, secs, sha);
    if (pki_trust_open(&trust, ca) != DEPOT_OK || pki_cert_open_pem(&ea.cert, pem, trust) != DEPOT_OK)
        die("setup: certificate");
    depot_movements_signed(DEALER, LEDGER, 1, (uint64_t)per_batch, DEPOT_CHAIN_GENESIS,
                           bs[0].items[per_batch - 1].hash, ea.doc, sizeof(ea.doc));
    if (pki_base64_decode(bs[0].sig, ea.sig, sizeof(ea.sig), &ea.sig_len) != DEPOT_OK)
        die("base64");
    ecdsa = rate(ecdsa_round, &ea, &secs);
    printf("mode=ecdsa seconds=%.2f rate=%.0f/s\n", secs, ecdsa);
    pki_cert_free(ea.cert);
    pki_trust_free(trust);
    bound = 1.0 / ((double)per_batch / sha + 1.0 / ecdsa) * (double)per_batch;
    printf("mode=bound batch=%ld rate=%.0f/s\n", per_batch, bound);

    ca_arg = (struct check_arg){orders, bs};
    check = rate(check_round, &ca_arg, &secs);
    printf("mode=check batches=%ld batch=%ld seconds=%.2f rate=%.0f/s\n", n_batches, per_batch,
           secs, check);

    plain = apply_all(orders, bs, db1, false);
    printf("mode=apply_unchained movements=%ld rate=%.0f/s\n", n_batches * per_batch, plain);
    chained = apply_all(orders, bs, db2, true);
    printf("mode=apply_chained movements=%ld rate=%.0f/s\n", n_batches * per_batch, chained);

    if (hub_store_open(db2, &s) != DEPOT_OK)
        die("store");
    t0 = bench_mono_s();
    if (hub_ledger_verify(s, ca, DEALER, 0, T0 * 2, &report) != DEPOT_OK ||
        !cJSON_IsTrue(cJSON_GetObjectItem(report, "ok"))) {
        fprintf(stderr, "bench_chain: the period does not verify\n");
        return 1;
    }
    verify = (double)(n_batches * per_batch) / (bench_mono_s() - t0);
    printf("mode=verify movements=%ld rate=%.0f/s\n", n_batches * per_batch, verify);
    cJSON_Delete(report);
    hub_store_free(s);

    printf("\nChain verification at the hub (%ld batches of %ld movements, this machine, one "
           "run)\n",
           n_batches, per_batch);
    printf("  %-52s %12.0f /s\n", "baseline: mbedTLS SHA-256 of one movement's text", sha);
    printf("  %-52s %12.0f /s\n", "baseline: mbedTLS ECDSA P-256 verify (parsed cert)", ecdsa);
    printf("  %-52s %12.0f /s\n", "bound: batch x SHA-256 + 1 verify, movements", bound);
    printf("  %-52s %12.0f /s   %.2fx the bound\n", "check (hashes + signature), movements", check,
           check / bound);
    printf("  %-52s %12.0f /s\n", "applied at the hub without the chain, movements", plain);
    printf("  %-52s %12.0f /s   %.2fx without\n", "checked and applied with the chain, movements",
           chained, chained / plain);
    printf("  %-52s %12.0f /s\n", "re-verified from the store (ledger verify), movements",
           verify);

    for (long b = 0; b < n_batches; b++)
        depot_free(bs[b].items);
    depot_free(bs);
    depot_free(pem);
    hub_orders_free(orders);
    hub_metrics_free(metrics);
    clean(dir);
    return 0;
}
