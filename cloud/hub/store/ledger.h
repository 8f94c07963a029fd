/*
 * The store's ledger domain (store/sqlite/ledger.c, store/pg/ledger.c): the
 * movement chain of every gateway ledger as the hub applied it
 * (include/depot/ledger_chain.h), so that any period can be verified again
 * from the hub's own records. Migration 13.
 *
 *   ledger_hashes  (dealer, ledger, mid PK; ts, hash)   one per applied movement
 *   ledger_batches (dealer, ledger, last PK; first, ts, prev, hash, sig, cert)
 *                  what the gateway signed for each applied batch (cert: the
 *                  SHA-256 of its certificate's PEM, a key of ledger_certs)
 *   ledger_certs   (fpr PK; pem)
 *   ledger_heads   (dealer, ledger PK; mid, hash)       the last chained movement
 *
 * The chain step of an up/movements batch (hub_store_chain_check, called by
 * the backends' apply inside the transaction that applies the batch, once it
 * is known to be new and in stream order):
 *
 *   the caller's verdict (struct hub_chain.in, set by hub_store_apply_chain):
 *     forged     hashes or signature wrong: recorded, refused, chains unmoved
 *     unchained  no chain in the batch: applied as before the chain, unless
 *                the ledger has a chained head (a downgrade: refused)
 *     verified   compared with the ledger's head:
 *                  none                 started (the first chained batch)
 *                  mid = first - 1, the same hash as prev: linked
 *                  mid = first - 1, another hash:         fork
 *                  mid < first - 1:                       gap (movements lost)
 *                  mid >= first:                          fork (ids used again)
 *                a fork or a gap is applied all the same (the gateway signed
 *                it, its stock is real) and flagged (struct hub_chain.out;
 *                the ingest raises a ledger_break alert).
 *
 * After a verified batch is applied its hashes, its signed batch and its
 * certificate are kept and the head moves to its last movement; a batch
 * refused because it did not fit the stock moves the head only (its
 * movements are then missing from the hub's records, which a verification
 * names). Rows are pruned with the movements they belong to (400 days).
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM, or what their
 * comment adds. Row pointers are valid during the callback only; a non-zero
 * return stops the walk.
 */
#ifndef HUB_STORE_LEDGER_H
#define HUB_STORE_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "depot/ledger_chain.h"
#include "store/store.h"

enum hub_chain_in {
    HUB_CHAIN_AS_SENT =
        0,               /* not verified by the caller: the batch's chain taken as it is (tests) */
    HUB_CHAIN_VERIFIED,  /* hashes and signature checked */
    HUB_CHAIN_UNCHAINED, /* the batch has no chain */
    HUB_CHAIN_FORGED,    /* hashes or signature wrong (why says which) */
};

enum hub_chain_out {
    HUB_CHAIN_NONE = 0,  /* no chain step: not a new movements batch in stream order */
    HUB_CHAIN_LINKED,    /* follows the head */
    HUB_CHAIN_STARTED,   /* the ledger's first chained batch */
    HUB_CHAIN_PLAIN,     /* no chain, none before: applied */
    HUB_CHAIN_FORK,      /* applied; its prev is not the hash the hub holds */
    HUB_CHAIN_GAP,       /* applied; movements before it never reached the hub */
    HUB_CHAIN_DOWNGRADE, /* refused: no chain after chained batches */
    HUB_CHAIN_REFUSED,   /* refused: forged */
};

#define HUB_CHAIN_WHY_MAX 160

struct hub_chain {
    enum hub_chain_in in;
    char why[HUB_CHAIN_WHY_MAX]; /* in == HUB_CHAIN_FORGED: what was wrong */
    enum hub_chain_out out;      /* set by the apply */
    bool had_head;               /* what the hub held before the batch */
    uint64_t head_mid;
    char head_hash[DEPOT_CHAIN_HEX + 1];
};

/* "linked", "fork", ...; for logs and the API. */
const char *hub_chain_out_name(enum hub_chain_out o);
/* Whether out is a break of the chain (fork, gap, downgrade, refused): alerted. */
bool hub_chain_out_break(enum hub_chain_out o);

struct hub_ledger_span {
    const char *ledger;
    uint64_t lo, hi; /* the lowest and highest mid with ts in the range */
    long long n;
};

/* One applied movement with its hash ("" when it came without a chain). */
struct hub_ledger_move {
    uint64_t mid;
    long long ts;
    const char *node, *sku, *kind;
    long long delta, qty;
    const char *hash;
    const char *code; /* the item code it carried, "" if none (store/shipments.h) */
};

struct hub_ledger_batch {
    uint64_t first, last;
    long long ts;                         /* the last movement's */
    const char *prev, *hash, *sig, *cert; /* cert: fingerprint (64 hex) */
};

typedef int (*hub_ledger_span_cb)(void *arg, const struct hub_ledger_span *sp);
typedef int (*hub_ledger_move_cb)(void *arg, const struct hub_ledger_move *mv);
typedef int (*hub_ledger_batch_cb)(void *arg, const struct hub_ledger_batch *b);

struct hub_store_ledger_ops {
    depot_err (*head)(hub_store *s, const char *dealer, const char *ledger, uint64_t *mid,
                      char hash[DEPOT_CHAIN_HEX + 1], bool *found);
    depot_err (*head_put)(hub_store *s, const char *dealer, const char *ledger, uint64_t mid,
                          const char *hash);
    depot_err (*hash_add)(hub_store *s, const char *dealer, const char *ledger, uint64_t mid,
                          long long ts, const char *hash);
    depot_err (*batch_add)(hub_store *s, const char *dealer, const char *ledger,
                           const struct hub_ledger_batch *b);
    depot_err (*cert_add)(hub_store *s, const char *fpr, const char *pem);
    depot_err (*cert)(hub_store *s, const char *fpr, char **pem);
    depot_err (*hash_at)(hub_store *s, const char *dealer, const char *ledger, uint64_t mid,
                         char hash[DEPOT_CHAIN_HEX + 1], bool *found);
    depot_err (*spans)(hub_store *s, const char *dealer, long long from, long long to,
                       hub_ledger_span_cb cb, void *arg);
    depot_err (*moves)(hub_store *s, const char *dealer, const char *ledger, uint64_t lo,
                       uint64_t hi, hub_ledger_move_cb cb, void *arg);
    depot_err (*batches)(hub_store *s, const char *dealer, const char *ledger, uint64_t lo,
                         uint64_t hi, hub_ledger_batch_cb cb, void *arg);
    depot_err (*prune)(hub_store *s, long long before);
};

/*
 * hub_store_apply with the caller's verdict on a movements batch's chain
 * (chain->in; chain->out set by the apply, HUB_CHAIN_NONE when there was no
 * chain step). chain NULL: hub_store_apply.
 */
depot_err hub_store_apply_chain(hub_store *s, const depot_msg *m, long long seen_ms,
                                struct hub_chain *chain, enum hub_apply_result *res,
                                uint64_t *upto);

/* For the backends' apply (see the top): before a new batch in stream order is applied.
 * *refuse: record it, apply none of it, move no chain. */
depot_err hub_store_chain_check(hub_store *s, const depot_msg *m, bool *refuse);
/* After it: applied (or refused because it did not fit the stock). */
depot_err hub_store_chain_keep(hub_store *s, const depot_msg *m, bool applied);

/* The spans of dealer's ledgers with a movement of from <= ts < to (ms), by ledger. */
depot_err hub_store_ledger_spans(hub_store *s, const char *dealer, long long from, long long to,
                                 hub_ledger_span_cb cb, void *arg);
/* The applied movements lo <= mid <= hi of a ledger with their hashes, by mid. */
depot_err hub_store_ledger_moves(hub_store *s, const char *dealer, const char *ledger, uint64_t lo,
                                 uint64_t hi, hub_ledger_move_cb cb, void *arg);
/* The kept batches of a ledger with a movement in lo..hi, by first. */
depot_err hub_store_ledger_batches(hub_store *s, const char *dealer, const char *ledger,
                                   uint64_t lo, uint64_t hi, hub_ledger_batch_cb cb, void *arg);
/* The hash kept for movement mid; *found false if none. */
depot_err hub_store_ledger_hash_at(hub_store *s, const char *dealer, const char *ledger,
                                   uint64_t mid, char hash[DEPOT_CHAIN_HEX + 1], bool *found);
/* The PEM of a kept certificate (depot_free it); DEPOT_ERR_NOTFOUND. */
depot_err hub_store_ledger_cert(hub_store *s, const char *fpr, char **pem);
/* The ledger's head; *found false if it has none. */
depot_err hub_store_ledger_head(hub_store *s, const char *dealer, const char *ledger, uint64_t *mid,
                                char hash[DEPOT_CHAIN_HEX + 1], bool *found);

#endif
