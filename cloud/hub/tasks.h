/*
 * Tasks given to dealers with completion tracking (store/tasks.h keeps them):
 * issuing one (checked, its targets resolved as a policy's, a reach row
 * each; a stock rule already met is done at once), a dealer user's
 * confirmation (with its photo when the task asks for one), and the data
 * rules met by what the gateways send: a stock count of each named SKU
 * recorded at a terminal after the task was issued (`count` movements), or
 * the dealer's stock of a SKU at a level or above (stock, snapshot and
 * movements messages).
 *
 * The ingest worker holds a hub_tasks: the SKUs that open data-rule tasks
 * name, so that a message about any other SKU costs nothing. It reloads
 * them when the newest task id moved (another hub may have issued one):
 * at each tick, and before a message carrying a count.
 */
#ifndef HUB_TASKS_H
#define HUB_TASKS_H

#include <stdbool.h>
#include <stddef.h>

#include "depot/msg.h"
#include "ranking/service.h"
#include "store/tasks.h"

/* Photos a dealer user may attach to a confirmation. */
#define HUB_TASK_PHOTO_MIN 64 /* bytes: anything shorter is no image */

/* The first ms (UTC) of a task's due day YYYY-MM-DD; a task not done before the next day's
 * (start + HUB_DAY_MS) is overdue. 0 for a text that is not a date. */
long long hub_task_due_ms(const char *due);

/* "image/jpeg" or "image/png" when the bytes are one (their signature and, for a JPEG, its
 * end marker; for a PNG, its IHDR), else NULL. */
const char *hub_task_photo_type(const void *bytes, size_t len);

/*
 * Checks t (title, body, due date, rule with its SKUs and level, target) and
 * writes it and a reach row for every target dealer, in one transaction of
 * its own; a stock rule a target already meets is done at once (via
 * "data", by "hub"). DEPOT_ERR_INVAL with why (nothing written),
 * DEPOT_ERR_NOTFOUND when no dealer is a target; *n_targets and *n_done.
 * rk (may be NULL) learns each target's task for the tasks KPI, in the same transaction, here
 * and wherever a task is done.
 */
depot_err hub_tasks_issue(hub_store *s, hub_ranking *rk, struct hub_task *t, long long now,
                          size_t *n_targets, size_t *n_done, char *why, size_t why_len);

/*
 * A dealer user's confirmation of task for dealer, with its photo (photo_sha "" for none), in
 * its own transaction: DEPOT_ERR_NOTFOUND (no such task, or dealer is not a target),
 * DEPOT_ERR_INVAL with why (not a confirm task; a photo required and none given),
 * *changed false when it was done already.
 */
depot_err hub_tasks_confirm(hub_store *s, hub_ranking *rk, long long task, const char *dealer,
                            const char *by, const char *photo_sha, const char *photo_type,
                            long long now, bool *changed, char *why, size_t why_len);

typedef struct hub_tasks hub_tasks;

depot_err hub_tasks_new(hub_tasks **out);
void hub_tasks_free(hub_tasks *t);

/* Reloads the SKUs of open data-rule tasks if a task was issued since the last load. */
depot_err hub_tasks_refresh(hub_tasks *t, hub_store *s);

/* A message applied by ingest, in its transaction: counts and stock levels it reports may
 * complete data-rule tasks of its dealer (done via "data"). *n_done how many (may be NULL). */
depot_err hub_tasks_on_message(hub_tasks *t, hub_store *s, hub_ranking *rk, const depot_msg *m,
                               long long now, int *n_done);

#endif
