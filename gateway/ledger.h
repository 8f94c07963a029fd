/*
 * The gateway's inventory ledger: movements, stock per SKU and the outbox of
 * messages for the hub, in one SQLite file (WAL, synchronous=FULL).
 *
 * Thread-safe: every function takes the ledger's one lock, so the poller
 * threads and the MQTT thread can share one gw_ledger. Transactions that
 * arrive together (several poller threads at once) share one COMMIT (group
 * commit, ledger.c); a function still returns DEPOT_OK only once its work is
 * durable.
 */
#ifndef GW_LEDGER_H
#define GW_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "depot/error.h"
#include "depot/msg.h"

typedef struct gw_ledger gw_ledger;

struct gw_ledger_opts {
    const char *path;
    const char *dealer;
    long long max_entries; /* outbox bound (>= 1) */
    int warn_percent;      /* 1..100 */
};

struct gw_outbox_entry {
    uint64_t id;
    depot_msg_type type; /* from the row's topic; DEPOT_MSG__COUNT if it names no type */
    char *payload;       /* the stored envelope, NUL-terminated, depot_malloc'd */
    size_t len;
};

/* What gw_ledger_verify found in a sound ledger file. */
struct gw_ledger_info {
    char id[DEPOT_LEDGER_HEX + 1];
    char dealer[DEPOT_DEALER_MAX + 1];
    long long version; /* schema version (PRAGMA user_version) */
    long long last_id; /* highest message id handed out */
    long long outbox;  /* entries in the outbox */
};

/*
 * Is the file at path a sound Depot ledger? Read-only, changes nothing: a
 * regular file with the SQLite header, PRAGMA quick_check "ok", a schema
 * version this program knows (1..current) and one meta row. DEPOT_OK and
 * *info; DEPOT_ERR_NOTFOUND (no such file); DEPOT_ERR_DB (empty, truncated,
 * damaged, not SQLite, not a ledger, newer schema) or DEPOT_ERR_IO (cannot be
 * read), with why (e.g. "the file is empty (0 bytes)") in why[why_len].
 */
depot_err gw_ledger_verify(const char *path, struct gw_ledger_info *info, char *why,
                           size_t why_len);

/*
 * Open the ledger. A missing file is created (built under "<path>.new" and
 * linked into place) with a random id from the kernel's random source; a
 * file that exists must pass gw_ledger_verify and is never replaced (it is
 * left untouched when refused). Returns DEPOT_ERR_DB (refused: damaged, not a
 * ledger, schema newer than this program; or cannot be opened), DEPOT_ERR_CONFIG
 * (the ledger belongs to another dealer), DEPOT_ERR_IO (no random source, cannot
 * create), DEPOT_ERR_NOMEM. The reason is logged.
 */
depot_err gw_ledger_open(const struct gw_ledger_opts *o, gw_ledger **out);
void gw_ledger_free(gw_ledger *l);

/* The 32 lowercase hex digits of this ledger's id. */
const char *gw_ledger_id(const gw_ledger *l);
/* Highest message id assigned so far (0 if none). */
uint64_t gw_ledger_last_id(gw_ledger *l);
/* Entries in the outbox now. */
long long gw_ledger_outbox_count(gw_ledger *l);
/* The outbox level from which orders are refused and the high-water event is queued
 * ([outbox] warn_percent of max_entries, rounded up); fixed at open. */
long long gw_ledger_outbox_refuse_at(const gw_ledger *l);

/*
 * fn(ctx) is called after every COMMIT that queued outbox messages, from the
 * committing thread with the ledger's lock held: it must only signal (the
 * uplink wakes its drain with it). NULL clears it.
 */
void gw_ledger_set_queued_hook(gw_ledger *l, void (*fn)(void *ctx), void *ctx);

/* The stock of sku: DEPOT_OK and *qty, or DEPOT_ERR_NOTFOUND. */
depot_err gw_ledger_stock_get(gw_ledger *l, const char *sku, long long *qty);

/*
 * The scale of node now counts qty items of sku. In one transaction: append a
 * movement (delta = qty - previous stock), set the stock row, and queue the
 * up/stock message that reports it. *msg_id gets the message id, or 0 when
 * nothing changed. When the outbox is full, older queued stock messages of the
 * same SKU are dropped (coalesced) to make room. Returns DEPOT_ERR_FULL when
 * neither the outbox nor the disk has room (nothing is written),
 * DEPOT_ERR_DB, DEPOT_ERR_INVAL.
 */
depot_err gw_ledger_record_count(gw_ledger *l, const char *node, const char *sku, long long qty,
                                 long long ts_ms, uint64_t *msg_id);

/* Queue an up/event message. DEPOT_ERR_FULL, DEPOT_ERR_DB, DEPOT_ERR_INVAL. */
depot_err gw_ledger_append_event(gw_ledger *l, const char *node, const char *event,
                                 const char *reason, long long count, long long ts_ms,
                                 uint64_t *msg_id);

/*
 * Up to max outbox entries with id >= from_id, in id order, into out[];
 * *n gets how many. Free the payloads with gw_ledger_entries_clear.
 */
depot_err gw_ledger_outbox_read(gw_ledger *l, uint64_t from_id, size_t max,
                                struct gw_outbox_entry *out, size_t *n);
void gw_ledger_entries_clear(struct gw_outbox_entry *e, size_t n);

/* The lowest id in the outbox, or last_id + 1 when it is empty. */
depot_err gw_ledger_outbox_base(gw_ledger *l, uint64_t *base);

/*
 * Entry id can never be sent (why: e.g. its payload does not decode): in one
 * transaction move it to the table outbox_aside (kept for inspection with why
 * and the time), delete it from the outbox and queue the up/event
 * {"node":"gateway","event":"outbox_aside","reason":<why, cut>,"count":<id>},
 * so the stream's base passes it. *event_id (may be NULL) gets the event's
 * id. DEPOT_ERR_NOTFOUND (no such entry), DEPOT_ERR_DB.
 */
depot_err gw_ledger_outbox_set_aside(gw_ledger *l, uint64_t id, const char *why,
                                     uint64_t *event_id);
/* Entries moved aside so far (all time: rows of outbox_aside), -1 on a database error. */
long long gw_ledger_outbox_aside_count(gw_ledger *l);

/* Note that ids[0..n) were just published (sent_at, attempts). */
depot_err gw_ledger_mark_sent(gw_ledger *l, const uint64_t *ids, size_t n, long long now_ms);

/*
 * The hub applied every id <= upto: delete those entries. *deleted (may be
 * NULL) gets how many. DEPOT_ERR_INVAL if upto is beyond the last id assigned.
 */
depot_err gw_ledger_ack(gw_ledger *l, uint64_t upto, long long *deleted);

/* All stock rows (at most DEPOT_SNAPSHOT_MAX_ITEMS), depot_malloc'd array. fault is false. */
depot_err gw_ledger_stock_list(gw_ledger *l, struct depot_snapshot_item **items, size_t *n);

#endif
