"""Stock reporting end to end: depot-node scales -> depot-gateway (SQLite ledger,
outbox) -> Mosquitto over mutual TLS -> depot-hub -> HTTP API.

Every part is the real program; the broker is Debian's mosquitto with the
config depotctl writes. Ports are picked free at run time on 127.0.0.1, every
wait is a bounded poll, and the Env stops every process, even on failure.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, main, run, wait_for  # noqa: E402
from broker import dealer_identity, make_pki, mqtt_pub, start_broker  # noqa: E402
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402
from hubenv import metrics, start_hub, stock_map  # noqa: E402
from hubenv import streams as hub_streams  # noqa: E402

TOKEN = "viewer-token-e2e"


def stock(http_port, dealer=None):
    return stock_map(http_port, TOKEN, dealer=dealer)


def qty_is(http_port, dealer, sku, qty, live=True):
    row = stock(http_port, dealer=dealer).get((dealer, sku))
    return row is not None and row["qty"] == qty and (not live or not row["stale"])


def streams(http_port, dealer):
    return hub_streams(http_port, TOKEN, dealer)


def test_weight_change_reaches_only_its_dealer():
    with Env("e2e-weight") as env:
        pki = make_pki(env, ["A", "B"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN})
        whs = {}
        for d in ("A", "B"):
            whs[d] = start_warehouse(env, pki, port, d, tcp=[("scale-t", "SKU-T")],
                                     rtu=[("scale-r", 1, "SKU-R")])
            for node in ("scale-t", "scale-r"):
                whs[d].weight(node, 10 * UNIT_WEIGHT_G)
        for d in ("A", "B"):
            for sku in ("SKU-T", "SKU-R"):
                wait_for(lambda: qty_is(http, d, sku, 10), timeout=20,
                         what="%s %s at 10 in the hub" % (d, sku))
        before_a = stock(http, dealer="A")
        for node, sku in (("scale-t", "SKU-T"), ("scale-r", "SKU-R")):
            whs["B"].weight(node, 15 * UNIT_WEIGHT_G + 20)  # 15.2 units: rounds to 15
            t0 = time.monotonic()
            wait_for(lambda: qty_is(http, "B", sku, 15), timeout=5,
                     what="B %s at 15 within 5 s" % sku)
            print("  B %s: 10 -> 15 seen by the hub in %.2f s" % (sku, time.monotonic() - t0))
        after_a = stock(http, dealer="A")
        assert {k: v["qty"] for k, v in after_a.items()} == {k: v["qty"] for k, v in before_a.items()}
        assert all(k[0] == "A" for k in after_a), after_a
        for k in after_a:
            assert after_a[k]["updated_at"] == before_a[k]["updated_at"], (k, after_a[k], before_a[k])
        # depotctl prints the same stock as a table.
        table = run([os.path.join(BIN, "depotctl"), "stock", "--dealer", "B", "--hub",
                     "http://127.0.0.1:%d" % http, "--token", TOKEN]).stdout
        rows = [line.split() for line in table.splitlines()[1:]]
        assert sorted((r[0], r[1], r[2], r[-1]) for r in rows) == [
            ("B", "SKU-R", "15", "live"), ("B", "SKU-T", "15", "live")], table
        # A gateway that goes away (its last will or its clean offline state):
        # its stock is marked stale with its age and never looks live.
        whs["A"].gateway.stop()
        wait_for(lambda: all(r["stale"] and r["stale_reason"] == "gateway offline"
                             for r in stock(http, dealer="A").values()), timeout=10,
                 what="A's stock stale after its gateway stopped")
        assert all(not r["stale"] for r in stock(http, dealer="B").values())
        table = run([os.path.join(BIN, "depotctl"), "stock", "--dealer", "A", "--hub",
                     "http://127.0.0.1:%d" % http, "--token", TOKEN]).stdout
        assert "gateway offline" in table and "live" not in table, table


def test_broker_outage_and_gateway_restart_lose_and_double_nothing():
    with Env("e2e-outage") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN})
        wh = start_warehouse(env, pki, port, "A", tcp=[("scale-t", "SKU-T")], period_ms=100)
        wh.weight("scale-t", 0)
        wait_for(lambda: qty_is(http, "A", "SKU-T", 0), timeout=20, what="A SKU-T at 0")
        broker.stop()
        # 20 weight changes, each one a new count the gateway must see and record.
        for i in range(1, 21):
            if i == 11:
                wh.gateway.stop()
                wh.gateway.start()
            count = i if i % 2 else i + 100
            wh.weight("scale-t", count * UNIT_WEIGHT_G)
            wait_for(lambda: wh.ledger_qty("SKU-T") == count, timeout=10,
                     what="ledger at %d (change %d)" % (count, i))
        final = 20 + 100
        assert wh.outbox_depth() >= 20, wh.outbox_depth()
        broker.start()
        wait_for(lambda: qty_is(http, "A", "SKU-T", final), timeout=60, what="hub at the final count")
        last = wh.last_message_id()
        ledger = wh.ledger_id()
        # The hub applied every message of the stream exactly once and acknowledged it all.
        wait_for(lambda: streams(http, "A")[ledger]["applied_upto"] == last, timeout=30,
                 what="applied_upto == %d" % last)
        s = streams(http, "A")[ledger]
        assert s["applied"] == last, s
        wait_for(lambda: wh.outbox_depth() == 0, timeout=30, what="the outbox drained by acks")
        moves = wh.ledger_query("SELECT count(*) FROM movements WHERE sku = 'SKU-T'")[0][0]
        assert moves >= 20, moves  # one movement per change (the first reading of 0 moves nothing)
        print("  %d messages, each applied once; %d duplicates ignored" % (last, s["duplicates"]))


def test_malformed_payloads_are_rejected_with_counted_reasons():
    with Env("e2e-reject") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN})
        wh = start_warehouse(env, pki, port, "A", tcp=[("scale-t", "SKU-T")])
        wh.weight("scale-t", 7 * UNIT_WEIGHT_G)
        wait_for(lambda: qty_is(http, "A", "SKU-T", 7), timeout=20, what="A SKU-T at 7")
        before = metrics(http)
        cert, key = dealer_identity(pki, "A")
        ledger = wh.ledger_id()
        bad = [
            ("json", '{"v":1,"type":"stock",'),
            ("version", '{"v":2,"type":"stock","dealer":"A","ledger":"%s","id":999999,"base":1,'
                        '"ts":1,"body":{"sku":"SKU-T","qty":0,"delta":0,"node":"scale-t"}}' % ledger),
            ("schema", '{"v":1,"type":"stock","dealer":"A","ledger":"%s","id":999999,"base":1,'
                       '"ts":1,"body":{"sku":"SKU-T","qty":"zero","delta":0,"node":"scale-t"}}'
                       % ledger),
            ("schema", '{"v":1,"type":"teleport","dealer":"A","ledger":"%s","id":999999,"base":1,'
                       '"ts":1,"body":{}}' % ledger),
        ]
        for _, payload in bad:
            r = mqtt_pub(pki, port, "depot/v1/A/up/stock", payload, cert, key)
            assert r.returncode == 0, r.stderr

        def rejected(reason):
            m = metrics(http)
            key_ = 'depot_hub_messages_rejected_total{reason="%s"}' % reason
            return m.get(key_, 0) - before.get(key_, 0)

        wait_for(lambda: rejected("json") >= 1 and rejected("version") >= 1
                 and rejected("schema") >= 2, timeout=10, what="4 rejections counted by reason")
        assert hub.alive()
        log = hub.log()
        assert "version" in log and "body.qty" in log and "type" in log, log[-2000:]
        # Stock is untouched and the hub still applies real changes. (Each forged publish
        # above used A's certificate, so the broker took A's connection over: A's gateway
        # was briefly offline, and reconnects.)
        assert qty_is(http, "A", "SKU-T", 7, live=False)
        wh.weight("scale-t", 9 * UNIT_WEIGHT_G)
        wait_for(lambda: qty_is(http, "A", "SKU-T", 9), timeout=10, what="A SKU-T at 9 after rejects")


def requests_in(wh, node, seconds):
    """How many Modbus requests a node answered over a window of `seconds`."""
    r0 = int(wh.status(node)["requests"])
    t0 = time.monotonic()
    wait_for(lambda: time.monotonic() - t0 >= seconds, timeout=seconds + 5, interval=0.1,
             what="a %.0f s measuring window" % seconds)
    return int(wh.status(node)["requests"]) - r0


def stale_reason(http, dealer, sku):
    row = stock(http, dealer=dealer).get((dealer, sku))
    return row and row["stale"] and row["stale_reason"]


def test_faulted_node_is_reported_others_keep_their_period_and_it_recovers():
    with Env("e2e-fault") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN})
        wh = start_warehouse(env, pki, port, "A", tcp=[("scale-t", "SKU-T"), ("scale-u", "SKU-U")],
                             rtu=[("scale-r1", 1, "SKU-R1"), ("scale-r2", 2, "SKU-R2")],
                             period_ms=500)
        for node in wh.controls:
            wh.weight(node, 3 * UNIT_WEIGHT_G)
        for sku in wh.skus.values():
            wait_for(lambda: qty_is(http, "A", sku, 3), timeout=20, what="A %s at 3" % sku)
        for faulty, mode, other in (("scale-t", "silent", "scale-u"),
                                    ("scale-r1", "crc", "scale-r2")):
            sku = wh.skus[faulty]
            wh.fault(faulty, mode)
            wait_for(lambda: (stale_reason(http, "A", sku) or "").startswith("node fault"),
                     timeout=15, what="%s reported faulted (%s)" % (faulty, mode))
            # The healthy neighbour keeps its 500 ms period: ~8 polls in 4 s.
            n = requests_in(wh, other, 4.0)
            print("  %s %s: %s answered %d polls in 4 s (period 500 ms)" % (faulty, mode, other, n))
            assert n >= 6, n
            assert not stale_reason(http, "A", wh.skus[other])
            wh.fault(faulty, "none")
            wh.weight(faulty, 4 * UNIT_WEIGHT_G)
            wait_for(lambda: qty_is(http, "A", sku, 4), timeout=30,
                     what="%s recovered and live at 4" % faulty)
        log = wh.gateway.log()
        assert "timeout" in log.lower() or "timed out" in log.lower(), log[-2000:]
        assert "crc" in log.lower(), log[-2000:]


if __name__ == "__main__":
    main([test_weight_change_reaches_only_its_dealer,
          test_broker_outage_and_gateway_restart_lose_and_double_nothing,
          test_malformed_payloads_are_rejected_with_counted_reasons,
          test_faulted_node_is_reported_others_keep_their_period_and_it_recovers])
