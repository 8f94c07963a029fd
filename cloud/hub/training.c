/*
 * Training material (training.h).
 *
 * An item names a file already stored (POST /training/files streamed it
 * under its digest); creating the item checks that the file is there and
 * takes its size and type from it, never from the client, so an item's kind
 * and the bytes served for it cannot disagree. Viewing and completion are
 * written only for a dealer that is a target of the item, each in a
 * transaction of its own that reads the target row first.
 */
#include "training.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/md.h>

#include "depot/alloc.h"
#include "files.h"
#include "policies.h"

#define DAY_MS 86400000LL

const int hub_training_coverage_days[HUB_TRAINING_COVERAGE_N] = {1, 3, 7, 14, 30};

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* The time the k-th earliest (1-based) completion happened, 0 if fewer than k completed. */
static long long kth_done(const long long *done, size_t n, size_t k)
{
    long long *t = depot_malloc(n * sizeof(*t)), at = 0;
    size_t m = 0;
    if (!t)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (done[i])
            t[m++] = done[i];
    qsort(t, m, sizeof(*t), cmp_ll);
    if (k >= 1 && k <= m)
        at = t[k - 1];
    depot_free(t);
    return at;
}

void hub_training_coverage(long long created_at, long long now, const long long *done,
                           const long long *viewed, size_t n, struct hub_training_coverage *out)
{
    long long t90;
    memset(out, 0, sizeof(*out));
    out->targets = n;
    for (size_t i = 0; i < n; i++) {
        out->completed += done[i] != 0;
        out->viewed += (viewed && viewed[i]) || done[i];
    }
    for (int d = 0; d < HUB_TRAINING_COVERAGE_N; d++) {
        long long end = created_at + hub_training_coverage_days[d] * DAY_MS;
        size_t k = 0;
        out->pct_after[d] = -1;
        if (!n || now < end)
            continue;
        for (size_t i = 0; i < n; i++)
            k += done[i] && done[i] <= end;
        out->pct_after[d] = (double)(k * 1000 / n) / 10.0;
    }
    /* 90 %: the ceil(0.9 n)-th completion */
    t90 = n ? kth_done(done, n, (9 * n + 9) / 10) : 0;
    out->days_to_90 = !t90 ? -1 : t90 <= created_at ? 0 : (t90 - created_at + DAY_MS - 1) / DAY_MS;
}

/* ---- create ---- */

static bool item_ok(const struct hub_training *t, char *why, size_t len)
{
    if (!t->title[0]) {
        snprintf(why, len, "title: 1..%d characters", HUB_TRAINING_TITLE_MAX);
        return false;
    }
    if (strcmp(t->kind, "video") && strcmp(t->kind, "document")) {
        snprintf(why, len, "kind: video or document");
        return false;
    }
    if (!hub_file_sha_valid(t->sha)) {
        snprintf(why, len, "file: the SHA-256 (64 lowercase hex digits) an upload gave");
        return false;
    }
    return hub_target_ok(t->target_kind, t->target, why, len);
}

/* The size and type of the file t names, checked against t's kind. */
static depot_err read_file_facts(const char *dir, struct hub_training *t, char *why, size_t len)
{
    unsigned char head[HUB_FILE_HEAD];
    const char *type;
    ssize_t got;
    int fd;
    depot_err err = hub_files_open(dir, t->sha, &fd, &t->size);
    if (err == DEPOT_ERR_NOTFOUND)
        snprintf(why, len, "no file %s was uploaded (POST /api/v1/training/files first)", t->sha);
    if (err != DEPOT_OK)
        return err;
    got = read(fd, head, sizeof(head));
    close(fd);
    type = got > 0 ? hub_file_type(head, (size_t)got) : NULL;
    if (!type || !strncmp(type, "video/", 6) != !strcmp(t->kind, "video")) {
        snprintf(why, len, "file %s is %s, not a %s (video: MP4 or WebM; document: PDF)", t->sha,
                 type ? type : "of no known type", t->kind);
        return DEPOT_ERR_INVAL;
    }
    snprintf(t->type, sizeof(t->type), "%s", type);
    return DEPOT_OK;
}

depot_err hub_training_create(hub_store *s, const char *files_dir, struct hub_training *t,
                              long long now, size_t *n_targets, char *why, size_t why_len)
{
    struct hub_targets tg = {0};
    depot_err err;

    *n_targets = 0;
    if (!item_ok(t, why, why_len))
        return DEPOT_ERR_INVAL;
    err = read_file_facts(files_dir, t, why, why_len);
    if (err == DEPOT_ERR_IO)
        snprintf(why, why_len, "file %s cannot be read", t->sha);
    if (err != DEPOT_OK)
        return err;
    err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_targets_resolve(s, t->target_kind, t->target, &tg, why, why_len);
    if (err == DEPOT_OK && tg.n == 0) {
        snprintf(why, why_len, "no dealer is a target of it");
        err = DEPOT_ERR_NOTFOUND;
    }
    t->created_at = now;
    if (err == DEPOT_OK)
        err = hub_store_training_add(s, t);
    for (size_t i = 0; err == DEPOT_OK && i < tg.n; i++)
        err = hub_store_training_target_add(s, t->id, tg.ids[i], now);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    else
        *n_targets = tg.n;
    hub_targets_free(&tg);
    return err;
}

/* ---- viewing ---- */

/* Runs the report of user in its own transaction after checking dealer is a target. */
static depot_err report(hub_store *s, long long item, const char *dealer, const char *user,
                        long long progress, long long now, bool done, bool *changed)
{
    struct hub_training_target g;
    depot_err err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_store_training_target_get(s, item, dealer, &g);
    if (err == DEPOT_OK && done)
        err = hub_store_training_complete(s, item, dealer, user, now, changed);
    else if (err == DEPOT_OK)
        err = hub_store_training_view(s, item, dealer, user, now, progress);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    return err;
}

depot_err hub_training_progress(hub_store *s, long long item, const char *dealer, const char *user,
                                long long progress, long long now)
{
    return report(s, item, dealer, user, progress, now, false, NULL);
}

depot_err hub_training_done(hub_store *s, long long item, const char *dealer, const char *user,
                            long long now, bool *changed)
{
    bool ch = false;
    depot_err err = report(s, item, dealer, user, 0, now, true, &ch);
    if (changed)
        *changed = ch;
    return err;
}

/* ---- media links ---- */

void hub_training_link_sign(const unsigned char key[HUB_TRAINING_LINK_KEY], long long item,
                            const char *dealer, long long expires,
                            char mac[HUB_TRAINING_LINK_MAC_HEX + 1])
{
    unsigned char h[32] = {0};
    char msg[160];
    int n = snprintf(msg, sizeof(msg), "depot-training-link:%lld:%s:%lld", item, dealer, expires);
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (n < 0 || (size_t)n >= sizeof(msg) ||
        mbedtls_md_hmac(md, key, HUB_TRAINING_LINK_KEY, (const unsigned char *)msg, (size_t)n, h))
        memset(h, 0, sizeof(h)); /* no valid MAC is all zero bytes: nothing verifies */
    for (int i = 0; i < 32; i++)
        snprintf(mac + 2 * i, 3, "%02x", h[i]);
}

bool hub_training_link_ok(const unsigned char key[HUB_TRAINING_LINK_KEY], long long item,
                          const char *dealer, long long expires, const char *mac, long long now)
{
    char want[HUB_TRAINING_LINK_MAC_HEX + 1];
    unsigned char diff = 0;
    if (strlen(mac) != HUB_TRAINING_LINK_MAC_HEX || now >= expires)
        return false;
    hub_training_link_sign(key, item, dealer, expires, want);
    for (int i = 0; i < HUB_TRAINING_LINK_MAC_HEX; i++)
        diff |= (unsigned char)(want[i] ^ mac[i]);
    return diff == 0;
}
