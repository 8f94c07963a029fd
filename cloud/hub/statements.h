/*
 * Rebate statements (store/statements.h): at a period's close the hub
 * freezes each ranked dealer's KPIs, score, tier and rebate, with the
 * figures they came from, into one canonical JSON text signed with the
 * hub's key ([mqtt] key; its certificate [mqtt] cert goes with it).
 *
 * The statement's JSON (one line of text, keys in this order):
 *   {"v":1, "statement":"depot rebate statement", "dealer", "period",
 *    "closed_at", "rank", "of", "score", "tier":{"min_score","rebate_pct"}|null,
 *    "rebate_pct", "rebate", "sales", "weights":{...},
 *    "kpis":{"<kpi>":{"value","score","weight","contribution"}, ...},
 *    "figures":{"invoiced","paid","orders","defective","skus_sold","catalog_size",
 *               "online_ms","elapsed_ms","tasks_due","tasks_done","diversions"},
 *    "lines":[{"key","section","item","units","price","amount","value"}, ...],
 *    "lines_cut": n}
 * Money is text with two decimals ("210.00"). A line's key is unique in its
 * statement and is what a dispute names. Sales lines are the period's pick
 * movements, one line each ("sales.<ledger>.<mid>": the gateway ledger and
 * movement id, as the gateway's own ledger lists it), at the catalog price
 * the ranking uses; a day whose stored movements do not make its daily
 * figure (days applied before the hub kept movements, store migration 10)
 * is one line of that day and SKU ("sales.<YYYY-MM-DD>.<sku>").
 * Collection lines are the period's payments. At
 * most HUB_STATEMENT_LINES_MAX source lines are listed, the earliest; the
 * totals are always over every one, and lines_cut says how many were left
 * out.
 */
#ifndef HUB_STATEMENTS_H
#define HUB_STATEMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "ranking/service.h"
#include "store/statements.h"

#define HUB_STATEMENT_LINES_MAX 10000

typedef struct hub_statements hub_statements;

/* Opens the hub's key and certificate ([mqtt] key, cert); without them, closing is refused
 * (DEPOT_ERR_CONFIG from hub_statements_close) and everything else works. DEPOT_ERR_NOMEM. */
depot_err hub_statements_new(const struct hub_config *cfg, hub_statements **out);
void hub_statements_free(hub_statements *st);

/* What a close did. */
struct hub_close_result {
    size_t created, existing; /* statements made now, and already there */
};

/*
 * Freezes, in one transaction of s, a statement of period for every dealer
 * on the ranking's board of period as of now, unless the dealer has one
 * (kept as it is). DEPOT_ERR_INVAL: the period has not ended at now;
 * DEPOT_ERR_CONFIG: no key to sign with; DEPOT_ERR_DB, DEPOT_ERR_NOMEM:
 * nothing was added. Thread-safe: closes of one st run one at a time.
 */
depot_err hub_statements_close(hub_statements *st, hub_ranking *rk, hub_store *s, int period,
                               long long now, struct hub_close_result *out);

/* Whether the statement content (its JSON text) has a line keyed key. */
bool hub_statement_has_line(const char *content, const char *key);

/* The statement as CSV (key,section,item,units,price,amount,value; a header line first) or as
 * a PDF 1.4 document of text pages, depot_malloc'ed into *out. DEPOT_ERR_PARSE: content is not
 * a statement; DEPOT_ERR_NOMEM. */
depot_err hub_statement_csv(const char *content, char **out, size_t *len);
depot_err hub_statement_pdf(const char *content, char **out, size_t *len);

#endif
