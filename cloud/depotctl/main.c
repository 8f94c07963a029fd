/*
 * depotctl: the manufacturer's admin command line. main() only dispatches:
 * the first word picks a subcommand from the table below, which gets the rest
 * of argv (ctl_command_run, ctl.c). Each subcommand declares its options in a
 * ctl_opt table, so --help and the "missing --x" errors come from one parser
 * (ctl_parse) and read the same everywhere. Adding a subcommand is one line
 * in `commands`.
 */
#include "ctl.h"
#include "api.h"
#include "stock.h"
#include "depot/log.h"

static const struct ctl_command commands[] = {
    {"pki", ctl_pki_main, "the certificate authorities: ca, server, client, sign, revoke, crl"},
    {"broker-config", ctl_broker_config_main, "write mosquitto.conf and the ACL for the broker"},
    {"stock", ctl_stock_main, "stock across dealers from the hub (live or stale, and why)"},
    {"catalog", ctl_catalog_main, "import the catalog from CSV, or show it"},
    {"dealers", ctl_dealers_main, "list dealers, show or set a profile (limits, SKU maxima)"},
    {"payments", ctl_payments_main, "record a dealer's payment, or import payments from CSV"},
    {"ranking", ctl_ranking_main, "the dealers' leaderboard: KPIs, score, movement, rebate"},
    {"orders", ctl_orders_main, "list, show, approve or reject orders"},
    {"alerts", ctl_alerts_main, "list, show, acknowledge or resolve alerts"},
    {"users", ctl_users_main, "the hub's users: list, add, disable, enable, reset, set"},
    {"tokens", ctl_tokens_main, "API tokens of integrations: list, create, revoke"},
    {"policies", ctl_policies_main, "policies and promotions pushed to dealers, and their reach"},
    {"tasks", ctl_tasks_main, "tasks given to dealers, and their progress"},
    {"training", ctl_training_main, "training documents and videos for dealers, and coverage"},
    {"contracts", ctl_contracts_main, "e-contracts signed with the dealer's gateway key"},
    {"statements", ctl_statements_main, "rebate statements frozen at a period's close"},
    {"webhooks", ctl_webhooks_main, "outbound webhooks to an ERP: add, list, deliveries, retry"},
    {"shipments", ctl_shipments_main, "shipments from the ERP with their item codes: import, list"},
    {"export", ctl_export_main, "a list of the hub as CSV or JSON Lines for a spreadsheet"},
    {"ledger", ctl_ledger_main, "verify a period of a dealer's movements from the hub's records"},
};

int main(int argc, char **argv)
{
    depot_log_init("depotctl", DEPOT_LOG_INFO);
    return ctl_command_run("depotctl", commands, sizeof(commands) / sizeof(commands[0]), argc,
                           argv);
}
