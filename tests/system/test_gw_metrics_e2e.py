"""The gateway's issue-4 side end to end: its metrics file, up/movements
batches through the outbox, and the stock stream never stalled behind them.

depot-node scales -> depot-gateway (metrics_file, movements_period_s = 1) ->
Mosquitto over mutual TLS -> depot-hub. Real programs, free ports, bounded
polls; the Env stops everything.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from harness import Env, main, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402
from hubenv import start_hub, stock_map  # noqa: E402

TOKEN = "viewer-token-gwm"


def parse_metrics(path):
    """{series: value} of a Prometheus text file; asserts every sample has its TYPE line."""
    samples, typed = {}, set()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# TYPE "):
                typed.add(line.split()[2])
            elif line and not line.startswith("#"):
                series, value = line.rsplit(" ", 1)
                assert series.split("{")[0] in typed, line
                samples[series] = float(value)
    return samples


def gateway_ini(wh_dir, window=500):
    # extra_gateway lands in [mqtt]; a second [gateway] section adds the rest.
    return ("window = %d\n[gateway]\nmetrics_file = %s\nmovements_period_s = 1\n"
            % (window, os.path.join(wh_dir, "gateway.prom")))


def test_metrics_file_and_movements_batches():
    with Env("gw-metrics") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN})
        wh = start_warehouse(env, pki, port, "A", tcp=[("scale-t", "SKU-T")],
                             extra_gateway=gateway_ini(env.path("wh-A")))
        prom = os.path.join(wh.dir, "gateway.prom")
        for units in (10, 12, 9):
            wh.weight("scale-t", units * UNIT_WEIGHT_G)
            wait_for(lambda: wh.ledger_qty("SKU-T") == units, timeout=10,
                     what="SKU-T at %d in the ledger" % units)
        moves = wh.ledger_query("SELECT count(*) FROM movements")[0][0]
        assert moves == 3, moves
        # Every movement batched once: cursor at the last movement, mids 1..3 in the outbox
        # or already acknowledged by the hub.
        wait_for(lambda: wh.ledger_query("SELECT movements_sent FROM meta")[0][0] == moves,
                 timeout=10, what="the movements cursor at the last movement")
        wait_for(lambda: os.path.exists(prom), timeout=15, what="the metrics file")
        # rewritten every 10 s: wait for a file written after the movements were batched
        wait_for(lambda: parse_metrics(prom).get("depot_gw_movements_cursor") == moves,
                 timeout=25, what="the movements cursor in the metrics file")
        m = parse_metrics(prom)
        assert m['depot_gw_polls_total{node="scale-t"}'] > 0, m
        assert m['depot_gw_node_faulted{node="scale-t",kind="scale"}'] == 0, m
        assert m["depot_gw_mqtt_connected"] == 1, m
        assert m["depot_gw_ledger_bytes"] > 0, m
        assert m["depot_gw_movements_waiting"] == 0, m
        assert m["depot_gw_messages_sent_total"] >= 1, m
        # Stock reaches the hub whatever happens to the movements.
        wait_for(lambda: stock_map(http, TOKEN, dealer="A").get(("A", "SKU-T"), {}).get("qty") == 9,
                 timeout=10, what="SKU-T at 9 in the hub")
        wh.gateway.stop()
        m = parse_metrics(prom)  # rewritten at exit
        assert m["depot_gw_mqtt_connected"] == 0, m


def test_stock_stream_not_stalled_by_movements():
    """The outbox drains in id order and the hub's ack is contiguous (applied_upto):
    if the hub never applied a movements batch, no later entry would ever be deleted,
    the window would fill with unacknowledged entries and newer stock would stop.
    Here: many changes with a small window; the newest stock reaches the hub and the
    outbox drains to empty (the hub applies and acknowledges the movements)."""
    with Env("gw-movements-stall") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN})
        wh = start_warehouse(env, pki, port, "A", tcp=[("scale-t", "SKU-T")], period_ms=100,
                             extra_gateway=gateway_ini(env.path("wh-A"), window=8))
        last = 0
        for i in range(30):
            last = 20 + (i % 2) * 5 + i
            wh.weight("scale-t", last * UNIT_WEIGHT_G)
            wait_for(lambda: wh.ledger_qty("SKU-T") == last, timeout=10,
                     what="SKU-T at %d in the ledger" % last)
        wait_for(lambda: stock_map(http, TOKEN, dealer="A").get(("A", "SKU-T"), {}).get("qty")
                 == last, timeout=30, what="the newest SKU-T (%d) in the hub" % last)
        wait_for(lambda: wh.outbox_depth() == 0, timeout=30,
                 what="the outbox drained (movements acknowledged too)")


if __name__ == "__main__":
    main([test_metrics_file_and_movements_batches, test_stock_stream_not_stalled_by_movements])
