depot_system_test(stock_e2e test_stock_e2e.py TIMEOUT 600 PG)
depot_system_test(stock_pages test_stock_pages.py TIMEOUT 300 PG)
depot_system_test(orders_e2e test_orders_e2e.py TIMEOUT 900 PG)
depot_system_test(dashboard test_dashboard.py TIMEOUT 600 PG)
depot_system_test(gw_metrics_e2e test_gw_metrics_e2e.py TIMEOUT 300)
depot_system_test(gw_ledger_e2e test_gw_ledger_e2e.py TIMEOUT 300)
# The gateway SIGKILLed 100 times while scans and weights stream in: each once, gateway and hub.
depot_system_test(gw_sigkill test_gw_sigkill.py TIMEOUT 900)
depot_system_test(ranking_e2e test_ranking_e2e.py TIMEOUT 300 PG)
depot_system_test(alerts_e2e test_alerts_e2e.py TIMEOUT 400 PG)
depot_system_test(hub_input_e2e test_hub_input_e2e.py TIMEOUT 400 PG)
# The gateway polling 50 nodes for 50,000 polls: no fault, no leak (LeakSanitizer at exit).
depot_system_test(gw_long_run test_gw_long_run.py TIMEOUT 900)
# The HTTP API attacked: tokens and roles, SQL injection, an oversized body, idle connections.
depot_system_test(hub_http_attack test_hub_http_attack.py TIMEOUT 300)
# Users, logins, sessions and API tokens: depotctl and HTTP, limits, nothing secret in clear.
depot_system_test(hub_accounts test_hub_accounts.py TIMEOUT 300 PG)
# Policies pushed to dealers: gateway, terminal notice and keypad, portal, coverage, re-push.
depot_system_test(policies_e2e test_policies_e2e.py TIMEOUT 300)
# Tasks: count and stock rules met by the terminal and the scale, confirmations with a photo.
depot_system_test(tasks_e2e test_tasks_e2e.py TIMEOUT 300)
# Training material: streamed uploads, byte ranges, per-user viewing and completion, coverage.
depot_system_test(training_e2e test_training_e2e.py TIMEOUT 300 PG)
depot_system_test(contracts_e2e test_contracts_e2e.py TIMEOUT 300)
# Rebate statements: a closed month frozen, signed, downloaded, verified, disputed.
depot_system_test(statements_e2e test_statements_e2e.py TIMEOUT 300 PG)
# Webhooks: every event once and in order to a receiver that fails, hangs, is slow and is down.
depot_system_test(webhooks_e2e test_webhooks_e2e.py TIMEOUT 180 PG)
# Anti-diversion: shipments with item codes, two dealers' terminals, diversion and double picks.
depot_system_test(diversion_e2e test_diversion_e2e.py TIMEOUT 300 PG)
# Every program's --help and usage errors, and depotctl's CSV line checks.
depot_system_test(cli test_cli.py TIMEOUT 120)
# Expired, revoked and wrong-CA client certificates refused by the broker; a revoked
# dealer's signed order refused by the hub.
depot_system_test(pki_identity test_pki_identity.py TIMEOUT 180)
# A running gateway renews its key and certificate (renew, install-cert, SIGHUP) and loses
# nothing; the old certificate revoked, the new one carries on.
depot_system_test(gw_renew test_gw_renew.py TIMEOUT 180)
# A quiet gateway stays online (heartbeat inside the hub offline window).
depot_system_test(gw_presence test_gw_presence.py TIMEOUT 120)
# A hub refused by the broker backs off (1 s doubling to 30 s), never a tight loop.
depot_system_test(hub_reconnect test_hub_reconnect.py TIMEOUT 120)
# An 8E1 RTU line survives a gateway SIGKILL and a node restarted on the same link.
depot_system_test(gw_rtu_line test_gw_rtu_line.py TIMEOUT 180)
# Three hubs on one PostgreSQL database, one killed mid-flood: everything applied once.
depot_system_test(hub_scaleout test_hub_scaleout.py TIMEOUT 600 PG_ONLY)
depot_system_test(hub_same_decisions test_hub_same_decisions.py TIMEOUT 400 PG_ONLY)
# The Modbus fault matrix (exceptions 01-0B, CRC, wrong unit, truncated, silence) on TCP and
# on an RTU line, 1 % line noise, and the fault proxy before a Modbus TCP node.
depot_system_test(modbus_faults test_modbus_faults.py TIMEOUT 300)
# Mosquitto SIGKILLed every 5 s under 1,000 QoS 1 messages/s (20 dealers and a gateway): each once.
depot_system_test(broker_kills test_broker_kills.py TIMEOUT 300)
# A fault proxy between gateway and broker: cut, hung (found within 1.5 x keepalive), 2 s latency,
# forced reconnects; each scan, weight and order once at the hub, the poller on its period.
depot_system_test(broker_proxy test_broker_proxy.py TIMEOUT 300)
# The gateway's uplink cut for a backlog of 10,000 messages: delivered once, in order; polling kept.
depot_system_test(gw_outage_backlog test_gw_outage_backlog.py TIMEOUT 600)
# The outbox filling: outbox_filling alert before the order limit, orders refused, coalescing.
depot_system_test(gw_outbox_full test_gw_outbox_full.py TIMEOUT 300)
