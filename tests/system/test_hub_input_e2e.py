"""What the hub takes in, end to end: the time a shown value was measured,
implausible counts and movements forged with a dealer's real certificate,
request bodies with something after their JSON document, and dealers that
have a profile but whose gateway never connected.

Real programs throughout: depot-node scales, depot-gateway, Mosquitto over
mutual TLS, depot-hub on SQLite, depotctl. Ports are picked free at run time,
every wait is a bounded poll for a condition, and the Env stops every process
it started, even on failure.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, main, run, wait_for  # noqa: E402
from broker import dealer_identity, make_pki, mqtt_pub, start_broker  # noqa: E402
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402
from hubenv import (api, dealers, metrics, put_catalog, set_dealer, start_hub,  # noqa: E402
                    stock_map, stock_message)

VIEWER = "viewer-token-input"
ADMIN = "admin-token-input"
TOKENS = {"viewer": ("viewer", VIEWER), "admin": ("admin", ADMIN)}
LEDGER = "7e57" * 8
BOLT = "4006381333931"


def ms_of(iso):
    """ms since the epoch of the hub's ISO-8601 UTC text (2026-11-27T08:40:01.123Z)."""
    import calendar
    base, frac = iso.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(frac)


def row(http, dealer, sku):
    return stock_map(http, VIEWER, dealer=dealer).get((dealer, sku))


def ctl(http, *args):
    return run([os.path.join(BIN, "depotctl")] + list(args) +
               ["--hub", "http://127.0.0.1:%d" % http, "--token", ADMIN])


def test_faulted_node_value_keeps_the_time_it_was_measured():
    with Env("e2e-measured") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens=TOKENS)
        wh = start_warehouse(env, pki, port, "A", tcp=[("scale-t", "SKU-T")], snapshot_period_s=5)
        wh.weight("scale-t", 3 * UNIT_WEIGHT_G)
        wait_for(lambda: (row(http, "A", "SKU-T") or {}).get("qty") == 3, timeout=20,
                 what="A SKU-T at 3")
        wh.fault("scale-t", "silent")
        wait_for(lambda: ((row(http, "A", "SKU-T") or {}).get("stale_reason") or "")
                 .startswith("node fault"), timeout=15, what="SKU-T reported faulted")
        measured = row(http, "A", "SKU-T")["updated_at"]
        snapshots = metrics(http).get("depot_hub_snapshots_applied_total", 0)
        # The gateway's next snapshots carry the faulted value: none may make it look measured.
        wait_for(lambda: metrics(http).get("depot_hub_snapshots_applied_total", 0) >= snapshots + 2,
                 timeout=20, what="two snapshots applied after the fault")
        r = row(http, "A", "SKU-T")
        assert r["stale"] and r["stale_reason"].startswith("node fault"), r
        assert r["updated_at"] == measured, (r, measured)
        assert r["age_s"] >= 5, r  # two snapshot periods (5 s) after the fault was reported
        first_age = r["age_s"]
        wait_for(lambda: row(http, "A", "SKU-T")["age_s"] >= first_age + 2, timeout=10,
                 what="the faulted value's age growing")
        # depotctl prints the same time and says how old the value is.
        table = ctl(http, "stock", "--dealer", "A").stdout
        line = [ln for ln in table.splitlines() if ln.startswith("A ")][0].split()
        assert line[4] == measured, table
        assert line[5] == "stale" and int(line[6].rstrip("s")) >= first_age, table
        # The first good reading measures it again.
        wh.fault("scale-t", "none")
        wait_for(lambda: not row(http, "A", "SKU-T")["stale"], timeout=20, what="SKU-T recovered")
        wait_for(lambda: ms_of(row(http, "A", "SKU-T")["updated_at"]) > ms_of(measured),
                 timeout=10, what="SKU-T measured again after recovery")


def movements(dealer, msg_id, items, base=1):
    return json.dumps({"v": 1, "type": "movements", "dealer": dealer, "ledger": LEDGER,
                       "id": msg_id, "base": base, "ts": int(time.time() * 1000),
                       "body": {"items": items}}, separators=(",", ":"))


def move(mid, kind, delta, qty, sku="SKU-BOLT"):
    return {"mid": mid, "ts": int(time.time() * 1000), "node": "scan-1", "sku": sku,
            "kind": kind, "delta": delta, "qty": qty}


def test_forged_implausible_counts_never_reach_stock_or_sales():
    with Env("e2e-implausible") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens=TOKENS)
        put_catalog(http, ADMIN, [dict(sku="SKU-BOLT", barcode=BOLT, price="2.50",
                                       unit_weight_g=10, min_qty=1, max_qty=500, reorder_point=1,
                                       lead_time_days=7, max_stock=100000)])
        cert, key = dealer_identity(pki, "A")

        def pub(leaf, payload):
            r = mqtt_pub(pki, port, "depot/v1/A/" + leaf, payload, cert, key)
            assert r.returncode == 0, r.stderr

        def sales():
            h = api(http, "/api/v1/history?dealer=A&sku=SKU-BOLT&days=2", VIEWER)
            return sum(units for _, units in h["sales"])

        def counted(name):
            return metrics(http).get(name, 0)

        # A's stock of 110 arrives, then a real pick of 10.
        pub("up/stock", stock_message("A", LEDGER, 1, "SKU-BOLT", 110, delta=110, node="scan-1"))
        pub("up/movements", movements("A", 2, [move(1, "receive", 110, 110)]))
        pub("up/movements", movements("A", 3, [move(2, "pick", -10, 100)]))
        wait_for(lambda: sales() == 10, timeout=15, what="the real pick of 10 in sales")
        before = metrics(http)
        # Forged with A's certificate, in A's stream order: a pick of 10^9 against a stock of
        # 100 (a stock before it of 10^9), after a plausible one in the same batch.
        pub("up/movements", movements("A", 4, [move(3, "pick", -5, 95),
                                                move(4, "pick", -1000000000, 0)]))
        # Negative and out-of-bound counts, a receipt that lowers the stock, trailing data.
        pub("up/stock", stock_message("A", LEDGER, 5, "SKU-BOLT", -7, delta=-102, node="scan-1"))
        pub("up/movements", movements("A", 6, [move(5, "pick", -1000000000, -999999900)]))
        pub("up/movements", movements("A", 7, [move(6, "receive", -3, 97)]))
        pub("up/stock", stock_message("A", LEDGER, 8, "SKU-BOLT", 1, delta=1, node="scan-1")
            + " trailing")
        wait_for(lambda: counted('depot_hub_movements_refused_total{reason="stock_mismatch"}')
                 >= 1, timeout=15, what="the forged pick refused as stock_mismatch")
        key_schema = 'depot_hub_messages_rejected_total{reason="schema"}'
        key_json = 'depot_hub_messages_rejected_total{reason="json"}'
        wait_for(lambda: counted(key_schema) - before.get(key_schema, 0) >= 3
                 and counted(key_json) - before.get(key_json, 0) >= 1, timeout=15,
                 what="3 schema and 1 json rejections counted")
        # The stream goes on: the forged ids are acknowledged (8, not JSON, cannot be named:
        # the sender moves its base past it), and a receipt from where the chain stands applies.
        pub("up/movements", movements("A", 9, [move(7, "receive", 5, 5)], base=9))
        wait_for(lambda: api(http, "/api/v1/dealers/A/streams", VIEWER)[0]["applied_upto"] >= 9,
                 timeout=15, what="A's stream applied up to 9")
        assert sales() == 10, api(http, "/api/v1/history?dealer=A&sku=SKU-BOLT&days=2", VIEWER)
        r = row(http, "A", "SKU-BOLT")
        assert r["qty"] == 110, r
        assert all(q >= 0 for _, q in
                   api(http, "/api/v1/history?dealer=A&sku=SKU-BOLT&days=2", VIEWER)["stock"])
        # The ranking's sales come from the same applied movements (sales_daily and the
        # batches applied whole): A's month holds the real 10 units only.
        sums = api(http, "/api/v1/history?dealer=A&sku=SKU-BOLT&days=400", VIEWER)["sales"]
        assert sum(u for _, u in sums) == 10, sums
        log = hub.log()
        assert "refused" in log and "stood at 95" in log, log[-3000:]
        assert "body.qty: out of range" in log, log[-3000:]


def raw(http, method, path, body, token=ADMIN):
    """(status, parsed JSON or None) for a request whose body is sent byte for byte."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (http, path), data=body, method=method)
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, None


CATALOG_ITEM = {"sku": "SKU-BOLT", "barcode": BOLT, "price": "2.50", "unit_weight_g": 10,
                "min_qty": 1, "max_qty": 500, "reorder_point": 1, "lead_time_days": 7,
                "max_stock": 1000}
# Every route that takes a body: (method, path, a valid body).
BODY_ROUTES = [
    ("PUT", "/api/v1/catalog", [CATALOG_ITEM]),
    ("PUT", "/api/v1/dealers/A", {"name": "Alpha"}),
    ("PATCH", "/api/v1/dealers/A", {"region": "North"}),
    ("POST", "/api/v1/payments", {"dealer": "A", "amount": "1.00"}),
    ("POST", "/api/v1/payments/import",
     {"payments": [{"line": 1, "dealer": "A", "amount": "1.00", "order": "", "ref": "",
                    "date": ""}]}),
    ("POST", "/api/v1/orders/%s-1/approve" % LEDGER, {"stage": "sales", "reason": "ok"}),
    ("POST", "/api/v1/orders/%s-1/reject" % LEDGER, {"reason": "no"}),
    ("POST", "/api/v1/alerts/1/ack", {}),
    ("POST", "/api/v1/alerts/1/resolve", {}),
]


def test_request_bodies_with_anything_after_the_document_are_refused():
    with Env("e2e-bodies") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens=TOKENS)
        set_dealer(http, ADMIN, "A", patch=False, name="A")
        for method, path, body in BODY_ROUTES:
            doc = json.dumps(body).encode()
            for bad in (doc + b" trailing", doc + doc, doc + b"\n{}", doc + b"\x00",
                        doc + b" ]"):
                status, out = raw(http, method, path, bad)
                assert status == 400, (method, path, bad, status, out)
                assert "one JSON document" in out["error"], (method, path, out)
            # Whitespace after the document is fine: the route answers as it always does.
            status, out = raw(http, method, path, doc + b" \r\n\t")
            assert status != 400, (method, path, status, out)
        # Not one refused payment was recorded: only the two well-formed ones.
        paid = api(http, "/api/v1/dealers/A", VIEWER)["exposure"]["paid"]
        assert paid == 2.0, paid
        assert api(http, "/api/v1/dealers/A", VIEWER)["region"] == "North"


def test_dealer_with_a_profile_is_listed_before_its_gateway_connects():
    with Env("e2e-dealers") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens=TOKENS)
        cert, key = dealer_identity(pki, "A")
        r = mqtt_pub(pki, port, "depot/v1/A/up/stock",
                     stock_message("A", LEDGER, 1, "SKU-BOLT", 3, delta=3), cert, key)
        assert r.returncode == 0, r.stderr
        wait_for(lambda: "A" in dealers(http, VIEWER), timeout=15, what="A heard")
        set_dealer(http, ADMIN, "NEW-1", patch=False, name="Just set up", region="North")
        listed = dealers(http, VIEWER)
        assert sorted(listed) == ["A", "NEW-1"], listed
        new = listed["NEW-1"]
        assert new["online"] is False and new["last_seen"] is None, new
        assert new["first_seen"] is None and new["age_s"] is None, new
        assert listed["A"]["last_seen"] is not None, listed["A"]
        table = ctl(http, "dealers", "list").stdout
        rows = {ln.split()[0]: ln.split() for ln in table.splitlines()[1:]}
        assert rows["NEW-1"][1:] == ["false", "never"], table
        assert rows["A"][2] != "never", table


if __name__ == "__main__":
    main([test_faulted_node_value_keeps_the_time_it_was_measured,
          test_forged_implausible_counts_never_reach_stock_or_sales,
          test_request_bodies_with_anything_after_the_document_are_refused,
          test_dealer_with_a_profile_is_listed_before_its_gateway_connects])
