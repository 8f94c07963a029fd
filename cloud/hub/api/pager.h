/*
 * A JSON list answered page by page (GET /api/v1/alerts, /orders): rows are
 * read from the store PAGE at a time after a cursor (the key of the last row
 * listed), so a listing of any length holds one page in memory.
 *
 *   ?limit=N   N rows (1..10000) and, when more follow, the header
 *              X-Next-After: KEY to pass as after= for the next page
 *   ?after=KEY the rows after the one whose key is KEY, in the list's order
 *   neither    every row, the body streamed (chunked) page by page
 *
 * The domain gives page(): read up to want rows after p->cursor ("" at the
 * start) with its filters (p->ctx), calling api_pager_row() for each. An
 * error after the first bytes of a stream cuts the connection (logged and
 * counted): a client never takes a cut listing for a whole one.
 *
 * An export (GET /api/v1/export/<list>) is the same pager writing text: CSV
 * (RFC 4180: a header row of the columns, fields holding , " CR or LF quoted
 * with their quotes doubled; a text starting with = + - or @ is prefixed with
 * a single quote so a spreadsheet never runs it as a formula) or JSON Lines
 * (one compact object a line). It is always the whole list, streamed.
 */
#ifndef HUB_API_PAGER_H
#define HUB_API_PAGER_H

#include <cjson/cJSON.h>

#include "api/http.h"

#define API_PAGE_ROWS 500
#define API_PAGE_LIMIT_MAX 10000
#define API_CURSOR_MAX 95 /* fits struct api_reply.next */

enum api_pager_format { API_FMT_JSON, API_FMT_CSV, API_FMT_JSONL };

struct api_pager;
typedef depot_err (*api_page_fn)(struct api_pager *p, hub_store *s, long long want);

struct api_pager {
    hub_api *api;
    const char *what; /* for the log: "alerts", "orders" */
    api_page_fn page;
    void *ctx;
    char cursor[API_CURSOR_MAX + 1];
    long long limit; /* rows still to write; -1: no limit */
    long long got;   /* rows the last page read */
    bool stopped;    /* the limit stopped the last page with rows left */
    bool more, begun, ended;
    enum api_pager_format fmt;
    const char *const *cols; /* CSV: the columns (keys of the row's JSON), NULL-ended */
    size_t n, sent;
    struct api_body b;
};

/* One row of a page: its JSON (deleted here) and its key. Non-zero: stop reading. */
int api_pager_row(struct api_pager *p, cJSON *row, const char *key);

/* A row read but left out of the listing (a filter the store does not apply). */
void api_pager_skip(struct api_pager *p, const char *key);

/*
 * Reads limit= into p (after= is the domain's to check and copy into p->cursor)
 * and answers: a page, or the whole list streamed. Frees ctx with ctx_free
 * (may be NULL) when done, whichever way.
 */
enum MHD_Result api_pager_send(hub_api *api, const struct api_request *r, const char *what,
                               api_page_fn page, void *ctx, void (*ctx_free)(void *),
                               const char *cursor);

/*
 * An export's from= and to= (api_time_arg; either may be left out: no bound)
 * into [*from, *to) (*to 0: no end) and its file name "<what>-<from>-<to>"
 * ("all" for a bound left out). False: not times, or to not after from.
 */
bool api_export_range(const struct api_request *r, const char *what, long long *from, long long *to,
                      char *name, size_t len);

/* Whether ms is in an export's range [from, to) (to 0: no end). */
bool api_export_holds(long long from, long long to, long long ms);

/*
 * An export of the list: format= csv or jsonl (else a 400), the whole list
 * with Content-Disposition: attachment; filename="<name>.csv|jsonl". cols: the CSV
 * columns. Frees ctx as api_pager_send.
 */
enum MHD_Result api_pager_export(hub_api *api, const struct api_request *r, const char *what,
                                 api_page_fn page, void *ctx, void (*ctx_free)(void *),
                                 const char *const *cols, const char *name);

/* An export of rows made whole beforehand (a JSON array, taken and freed here): lists of one
 * row per dealer or per dealer and period, short by nature. */
enum MHD_Result api_pager_export_rows(hub_api *api, const struct api_request *r, const char *what,
                                      cJSON *rows, const char *const *cols, const char *name);

#endif
