/*
 * What depotctl's hub commands (catalog, dealers, payments, orders) share:
 * one call to the hub's API with the hub's error printed the same way, and
 * the --hub/--token defaults from $DEPOT_HUB and $DEPOT_TOKEN.
 */
#ifndef CTL_API_H
#define CTL_API_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Fills hub and token from the environment when not given; false (printed) if missing. */
bool ctl_api_target(const char *cmd, const char **hub, const char **token);

/*
 * method path [body] on the hub. CTL_OK with *out the parsed JSON reply (free
 * with cJSON_Delete; NULL if out is NULL), CTL_FAIL after printing
 * "CMD: the hub answered 409: the order is not pending" or why the hub could
 * not be reached.
 */
int ctl_api_call(const char *cmd, const char *hub, const char *token, const char *method,
                 const char *path, const char *body, cJSON **out);

/* POST the file at path `file` to the hub's path as its body, streamed (ctl_http_upload); as
 * ctl_api_call, and CTL_USAGE (printed) if the file cannot be read. */
int ctl_api_upload(const char *cmd, const char *hub, const char *token, const char *path,
                   const char *file, cJSON **out);

/*
 * ctl_api_call with obj (taken, may be NULL) as the body, the reply printed as indented JSON;
 * with secret_key, that member is taken out of it and printed after it on a line of its own,
 * "SECRET_WHAT (shown this once): VALUE". Returns ctl_api_call's status.
 */
int ctl_api_print(const char *cmd, const char *hub, const char *token, const char *method,
                  const char *path, cJSON *obj, const char *secret_key, const char *secret_what);

/* The whole of path ("-": standard input), at most len - 1 bytes, into out; false (printed,
 * naming the option opt) if it cannot be read or is longer. */
bool ctl_read_text(const char *cmd, const char *opt, const char *path, char *out, size_t len);
/* A --target of "all", "region:R", "tier:T" or "list:A,B" as {"kind", "value"}; NULL (printed)
 * for anything else. */
cJSON *ctl_target_json(const char *cmd, const char *spec);

/* A string member or "" ; a number member as text ("" if absent). */
const char *ctl_json_str(const cJSON *o, const char *key);

/* One line of an offline verification: "ok   WHAT[: DETAIL]" or "FAIL WHAT[: DETAIL]"; ok. */
bool ctl_check(bool ok, const char *what, const char *detail);
void ctl_json_num(const cJSON *o, const char *key, char *buf, size_t len);

/* Prints rows of cells as columns as wide as their widest cell (row 0: headings). */
void ctl_print_table(char (*rows)[8][64], int n_rows, int n_cols);

int ctl_catalog_main(int argc, char **argv);
int ctl_dealers_main(int argc, char **argv);
int ctl_payments_main(int argc, char **argv);
int ctl_orders_main(int argc, char **argv);
/* ctl_alerts.c: depotctl alerts list | show | ack | resolve. */
int ctl_alerts_main(int argc, char **argv);
/* ctl_ranking.c: depotctl ranking; depotctl payments import FILE.csv (argv[0] "import"). */
int ctl_ranking_main(int argc, char **argv);
int ctl_payments_import(int argc, char **argv, bool dry_run);
/* users.c: depotctl users ...; depotctl tokens ... */
int ctl_users_main(int argc, char **argv);
int ctl_tokens_main(int argc, char **argv);
/* policies.c: depotctl policies publish | list | show | repush. */
int ctl_policies_main(int argc, char **argv);
/* tasks.c: depotctl tasks issue | list | show. */
int ctl_tasks_main(int argc, char **argv);
/* training.c: depotctl training add | list | show. */
int ctl_training_main(int argc, char **argv);
int ctl_contracts_main(int argc, char **argv);
int ctl_statements_main(int argc, char **argv);
int ctl_webhooks_main(int argc, char **argv);
int ctl_ledger_main(int argc, char **argv);
int ctl_shipments_main(int argc, char **argv);
int ctl_export_main(int argc, char **argv);

#endif
