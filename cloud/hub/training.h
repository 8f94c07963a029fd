/*
 * Training material for dealers (store/training.h keeps it): documents and
 * videos stored under [hub] files by their SHA-256 (files.h), assigned like
 * policies (targets resolved when an item is created, a targets row each),
 * each dealer user's viewing and completion, and the coverage of an item
 * over time: the share of its target dealers that completed it 1, 3, 7, 14
 * and 30 days after it was created, and the days it took to reach 90 %.
 */
#ifndef HUB_TRAINING_H
#define HUB_TRAINING_H

#include <stdbool.h>
#include <stddef.h>

#include "store/training.h"

/* The days after its creation at which an item's coverage is given. */
#define HUB_TRAINING_COVERAGE_N 5
extern const int hub_training_coverage_days[HUB_TRAINING_COVERAGE_N]; /* 1, 3, 7, 14, 30 */

struct hub_training_coverage {
    size_t targets, viewed, completed;
    /* completed % of targets (tenths rounded down) after each of hub_training_coverage_days;
     * -1 while that day has not come (or without targets) */
    double pct_after[HUB_TRAINING_COVERAGE_N];
    long long days_to_90; /* whole days (rounded up) until 90 % completed; -1: not yet */
};

/*
 * The coverage of an item created at created_at whose n targets completed it at done[0..n)
 * (0: not completed) and viewed it (viewed[i] != 0; viewed may be NULL), as seen at now. A pure
 * function of its arguments.
 */
void hub_training_coverage(long long created_at, long long now, const long long *done,
                           const long long *viewed, size_t n, struct hub_training_coverage *out);

/*
 * Checks t (title, description, kind, sha, target), reads its file's size and type from
 * files_dir (the type by its bytes: a video is video/mp4 or video/webm, a document
 * application/pdf) and writes it and a targets row for every target dealer, in one
 * transaction of its own. DEPOT_ERR_INVAL with why (nothing written), DEPOT_ERR_NOTFOUND with
 * why (no such file, or no dealer is a target); *n_targets.
 */
depot_err hub_training_create(hub_store *s, const char *files_dir, struct hub_training *t,
                              long long now, size_t *n_targets, char *why, size_t why_len);

/* user of dealer reports its viewing of item up to progress (seconds or pages), in its own
 * transaction. DEPOT_ERR_NOTFOUND (no such item, or dealer is not a target). */
depot_err hub_training_progress(hub_store *s, long long item, const char *dealer, const char *user,
                                long long progress, long long now);

/* user of dealer completed item: as hub_training_progress; *changed false when it had. */
depot_err hub_training_done(hub_store *s, long long item, const char *dealer, const char *user,
                            long long now, bool *changed);

/*
 * Media links: a <video> or a link in a browser cannot send a bearer token, so a caller allowed
 * to fetch an item's file gets a link that carries its own proof: the item, the dealer it was
 * given to ("" for the manufacturer's people), an expiry, and an HMAC-SHA-256 of the three
 * under the hub's link key (32 bytes). The link then works without a token until it expires,
 * for that item only, with byte ranges.
 */
#define HUB_TRAINING_LINK_KEY 32
#define HUB_TRAINING_LINK_MAC_HEX 64
#define HUB_TRAINING_LINK_TTL_MS (4LL * 3600 * 1000) /* a long video watched with pauses */

/* The MAC (hex) of a link to item for dealer, valid until expires (ms). */
void hub_training_link_sign(const unsigned char key[HUB_TRAINING_LINK_KEY], long long item,
                            const char *dealer, long long expires,
                            char mac[HUB_TRAINING_LINK_MAC_HEX + 1]);
/* True if mac is the link's MAC (compared in constant time) and now is before expires. */
bool hub_training_link_ok(const unsigned char key[HUB_TRAINING_LINK_KEY], long long item,
                          const char *dealer, long long expires, const char *mac, long long now);

#endif
