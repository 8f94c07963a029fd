/*
 * The ranking engine: per-dealer, per-month aggregates updated by deltas,
 * and the leaderboard computed over them. No store, no threads, no clock:
 * the caller feeds facts and says what "now" is (ranking/service.c does that
 * for the hub; the unit tests and tests/bench/bench_ranking.c directly).
 *
 * Period: a calendar month in UTC, numbered as months since 1970-01
 * (hub_period_of), written "YYYY-MM".
 *
 * KPIs of a dealer in a period (cloud/README.md has the formulas):
 *   sales        sum over SKUs of units picked x catalog price (cents)
 *   collection   min(1, paid / invoiced); 1 when nothing was invoiced
 *   penetration  catalog SKUs picked at least once / catalog size
 *   accuracy     (orders - defective) / orders; 1 without orders
 *   freshness    time online and reporting / elapsed time of the period
 *   tasks        tasks due in the period done by their due day / tasks due in it; 1 without
 *   diversion    1 / (1 + items shipped to the dealer that turned up at another dealer in
 *                the period): 1 without (diversion.h), weight 0 unless configured
 * Each is normalised min-max across the dealers of the period's board
 * (all equal: 1 for everyone); score = sum(w * norm) / sum(w).
 */
#ifndef HUB_RANK_H
#define HUB_RANK_H

#include <stdbool.h>
#include <stddef.h>

#include "depot/error.h"
#include "depot/msg.h"

enum hub_kpi {
    HUB_KPI_SALES,
    HUB_KPI_COLLECTION,
    HUB_KPI_PENETRATION,
    HUB_KPI_ACCURACY,
    HUB_KPI_FRESHNESS,
    HUB_KPI_TASKS,
    HUB_KPI_DIVERSION,
    HUB_KPI__COUNT
};

#define HUB_RANK_TIERS_MAX 8
#define HUB_PERIOD_TEXT 8 /* "YYYY-MM" + NUL */

/* score >= min_score earns pct % of the period's sales. */
struct hub_rank_tier {
    double min_score, pct;
};

struct hub_rank_params {
    double weights[HUB_KPI__COUNT]; /* >= 0, sum > 0 */
    size_t n_tiers;                 /* sorted by min_score, highest first */
    struct hub_rank_tier tiers[HUB_RANK_TIERS_MAX];
    long long offline_after_ms; /* a gap without messages longer than this is offline */
};

/* [ranking] weights: numbers >= 0 in KPI order, sum > 0: seven, or six (diversion then weighs
 * 0), or five (tasks and diversion then weigh 0, as before those KPIs)
 * ("0.35,0.25,0.15,0.15,0.10"). */
bool hub_rank_parse_weights(const char *text, double weights[HUB_KPI__COUNT]);
/* [ranking] tiers: "MIN_SCORE:PCT,..." (score 0..1, pct 0..100, distinct scores; "" = none);
 * stored highest score first. */
bool hub_rank_parse_tiers(const char *text, struct hub_rank_params *p);

/* "sales", "collection", "penetration", "accuracy", "freshness", "tasks". */
const char *hub_kpi_name(enum hub_kpi k);

/* Months since 1970-01 of a time in ms (UTC); the first ms of a period. */
int hub_period_of(long long ms);
long long hub_period_start(int period);
void hub_period_text(int period, char out[HUB_PERIOD_TEXT]);
/* "YYYY-MM" (1970..9999); false if not such a text. */
bool hub_period_parse(const char *text, int *period);

typedef struct hub_rank hub_rank;

/* An empty engine; params is copied. DEPOT_ERR_NOMEM. */
depot_err hub_rank_new(const struct hub_rank_params *params, hub_rank **out);
void hub_rank_free(hub_rank *r);

/* Bytes held by the engine (aggregates, SKU tables, dealer index). */
size_t hub_rank_memory(const hub_rank *r);

/* ---- facts (each is a delta on one dealer's month; DEPOT_ERR_NOMEM, DEPOT_ERR_INVAL) ---- */

/* The catalog's prices (cents); replaces the previous catalog. */
depot_err hub_rank_catalog_begin(hub_rank *r);
depot_err hub_rank_catalog_item(hub_rank *r, const char *sku, long long price);

/* units picked (may be negative to correct) of sku at time at. */
depot_err hub_rank_sale(hub_rank *r, const char *dealer, const char *sku, long long at,
                        long long units);
depot_err hub_rank_payment(hub_rank *r, const char *dealer, long long at, long long cents);
/* An order approved at time at for cents (it is invoiced). */
depot_err hub_rank_invoice(hub_rank *r, const char *dealer, long long at, long long cents);
/* An order (or a forged order message) that arrived at time at; defective or not. */
depot_err hub_rank_order(hub_rank *r, const char *dealer, long long at, bool defective);
/* A task due at `due` (any time of its due day): due tasks and tasks done by their due day of
 * that month change by the deltas (a task given: +1, 0 or +1 when met at once; done in time
 * later: 0, +1). */
depot_err hub_rank_task(hub_rank *r, const char *dealer, long long due, int due_delta,
                        int done_delta);
/* An item shipped to dealer that turned up at another dealer at time at (a diversion). */
depot_err hub_rank_diversion(hub_rank *r, const char *dealer, long long at);

/*
 * Presence. A dealer is online and reporting from a message (or an online
 * state) until an offline state, or until offline_after_ms after its last
 * message when nothing follows. hub_rank_seen / hub_rank_state apply that
 * rule and return the transitions it made (0..2, into out) so that the
 * caller can persist them; hub_rank_mark replays a persisted transition.
 */
struct hub_rank_transition {
    long long at;
    bool online;
};
int hub_rank_seen(hub_rank *r, const char *dealer, long long at, struct hub_rank_transition out[2]);
int hub_rank_state(hub_rank *r, const char *dealer, long long at, bool online,
                   struct hub_rank_transition out[2]);
depot_err hub_rank_mark(hub_rank *r, const char *dealer, long long at, bool online);
/* After replaying marks: the last message heard (restores the open interval's end). */
depot_err hub_rank_last_seen(hub_rank *r, const char *dealer, long long at);

/* ---- the leaderboard ---- */

struct hub_rank_entry {
    char dealer[DEPOT_DEALER_MAX + 1];
    long long rank;
    bool has_movement;  /* false: not on the previous period's board */
    long long movement; /* previous rank - rank: > 0 climbed */
    double score;
    double value[HUB_KPI__COUNT]; /* sales in cents, the others 0..1 */
    double norm[HUB_KPI__COUNT];  /* 0..1 */
    long long sales, invoiced, paid, orders, defective, online_ms, elapsed_ms;
    long long skus_sold, catalog_size;
    long long tasks_due, tasks_done; /* done by their due day */
    long long diversions;            /* its items that turned up at other dealers */
    double rebate_pct;
    long long rebate; /* cents */
};

struct hub_rank_board {
    int period;
    long long now;
    size_t n;
    struct hub_rank_entry *e; /* sorted by rank */
    double min[HUB_KPI__COUNT], max[HUB_KPI__COUNT];
    struct hub_rank_params params;
};

/*
 * The board of period as of now (ms): every dealer with a fact in the period
 * or online during it, with movement against the previous period's board
 * (as of that period's end). DEPOT_ERR_NOMEM. Free with hub_rank_board_clear.
 */
depot_err hub_rank_compute(const hub_rank *r, int period, long long now,
                           struct hub_rank_board *out);
void hub_rank_board_clear(struct hub_rank_board *b);
/* The entry of dealer, or NULL. */
const struct hub_rank_entry *hub_rank_board_find(const struct hub_rank_board *b,
                                                 const char *dealer);
/* The rebate percentage for a score (0 below every tier). */
double hub_rank_tier_pct(const struct hub_rank_params *p, double score);

/* "how": the computation of e's score and rebate in words, into buf. */
void hub_rank_how(const struct hub_rank_board *b, const struct hub_rank_entry *e, char *buf,
                  size_t len);

#endif
