"""Alerts end to end: depot-node scales and a scanner terminal -> depot-gateway
(ledger, up/stock and up/movements) -> Mosquitto over mutual TLS -> depot-hub
(history, velocity, the alert engine) -> GET /api/v1/alerts, depotctl alerts,
and every alert change on depot/v1/<dealer>/down/alert (received here with the
dealer's certificate) and depot/alerts/v1/<dealer>/<kind> (the hub's).

Every kind is raised by a real scenario, deduplicated (a second trigger: one
alert, count 2) and resolved when its condition clears:
  low_stock          weights lowered on a scale to the reorder point, raised again
  shrinkage          the same decrease: units left the scale with no pick; back on it
  stockout_forecast  picks at the scanner terminal -> velocity -> cover < lead time;
                     a receive brings cover back
  sales_spike        picks today against a trailing history; the trailing history
                     (and later a heavier one) is SEEDED: crafted up/movements with
                     past timestamps, published through the real broker with dealer A's
                     certificate on a separate ledger id (the gateway cannot backdate)
  gateway_offline    the gateway stopped (its offline state), started again
  node_fault         a scale node silent until the gateway reports its fault, then healed
  contract_expiring  a contract ending in 10 days, then renewed
A transfer suggestion names the nearest dealer that really holds a surplus: B is
nearest with stock at the reorder point (no surplus), C second nearest with 40.
B's and C's stock is published as crafted up/stock with their own certificates.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, http_json, main, run, wait_for  # noqa: E402
from broker import (dealer_identity, hub_identity, make_pki, mqtt_pub, mqtt_sub,  # noqa: E402
                    pub_accepted, start_broker)
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402
from hubenv import metrics, start_hub, stock_message  # noqa: E402

ADMIN = "admin-token-alerts"
VIEWER = "viewer-token-alerts"
APPROVER = "approver-token-alerts"
TOKENS = {"admin": ("admin", ADMIN), "viewer": ("viewer", VIEWER),
          "ops": ("approver", APPROVER)}
ALERTS = {"alerts": {"eval_period_s": "1", "shrinkage_window_s": "2", "shrinkage_grace_s": "2",
                     "velocity_days": "7",
                     "spike_factor": "3.0", "spike_trailing_days": "14", "spike_min_units": "5",
                     "contract_days": "30"}}

BOLT, NUT, WASHER = "4006381333931", "4006381333948", "4006381333955"
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,%s,2.50,100,1,500,5,7,100000
SKU-NUT,%s,0.40,10,1,1000,2,7,100000
SKU-WASHER,%s,0.10,5,1,2000,0,1,100000
""" % (BOLT, NUT, WASHER)
SEED_LEDGER = "5eed" * 8
DAY_MS = 86400000


class Deployment:
    def __init__(self, env, offline_after_s=30, tcp=(("scale-1", "SKU-BOLT"),), scanners=("scan-1",),
                 alerts=ALERTS, places=True, warehouse=True):
        self.env = env
        self.pki = make_pki(env, ["A", "B", "C"])
        self.broker, self.port = start_broker(env, self.pki)
        self.hub, self.http = start_hub(env, self.pki, self.port, tokens=TOKENS, extra=alerts,
                                        offline_after_s=offline_after_s)
        csv = env.path("catalog.csv")
        with open(csv, "w") as f:
            f.write(CATALOG)
        self.ctl("catalog", "import", csv)
        for d, lon in (("A", 11.0), ("B", 11.1), ("C", 11.3)) if places else ():
            self.api("PATCH", "/api/v1/dealers/" + d,
                     {"region": "south", "lat": 48.0, "lon": lon, "credit_limit": "1000.00"})
        # A's downlink as the broker delivers it, read with the hub's rights: A's own
        # certificate is its gateway's (one connection per certificate).
        self.down = mqtt_sub(env, self.pki, self.port, ["depot/v1/A/down/alert"],
                             *hub_identity(self.pki), name="sub-a-alerts")
        self.wide = mqtt_sub(env, self.pki, self.port, ["depot/alerts/v1/#"],
                             *hub_identity(self.pki), name="sub-hub-alerts")
        self.wh = start_warehouse(env, self.pki, self.port, "A", tcp=list(tcp),
                                  scanners=list(scanners),
                                  extra_gateway="[gateway]\nmovements_period_s = 1\n") \
            if warehouse else None
        self.next_id = {"A": 1, "B": 1, "C": 1}
        self.seed_level = {}

    def ctl(self, *args, token=ADMIN, check=True):
        return run([os.path.join(BIN, "depotctl")] + list(args) +
                   ["--hub", "http://127.0.0.1:%d" % self.http, "--token", token], check=check)

    def api(self, method, path, body=None, token=ADMIN, expect=200):
        status, out = http_json("http://127.0.0.1:%d%s" % (self.http, path), token, method, body)
        if expect is not None:
            assert status == expect, (method, path, status, out)
        return out

    def alerts(self, **filters):
        q = "&".join("%s=%s" % kv for kv in filters.items())
        return self.api("GET", "/api/v1/alerts" + ("?" + q if q else ""), token=VIEWER)

    def wait_alert(self, kind, dealer="A", sku=None, pred=lambda a: True, timeout=20, what=None):
        """The newest alert of (dealer, kind[, sku]) once pred holds for it."""
        def found():
            f = {"kind": kind, "dealer": dealer}
            if sku:
                f["sku"] = sku
            rows = self.alerts(**f)
            return rows[0] if rows and pred(rows[0]) else None
        return wait_for(found, timeout=timeout, interval=0.2,
                        what=what or "%s alert for %s %s" % (kind, dealer, sku or ""))

    def publish_as(self, dealer, leaf, payload):
        r = mqtt_pub(self.pki, self.port, "depot/v1/%s/%s" % (dealer, leaf), payload,
                     *dealer_identity(self.pki, dealer))
        assert pub_accepted(r), (r.stdout, r.stderr)

    def crafted_stock(self, dealer, sku, qty):
        """An up/stock of a dealer without a gateway here, published with its certificate."""
        i = self.next_id[dealer]
        self.next_id[dealer] += 1
        self.publish_as(dealer, "up/stock",
                        stock_message(dealer, "%032x" % (0xbee0 + ord(dealer)), i, sku, qty))

    def seed_picks(self, dealer, sku, per_day, days, msg_id):
        """Crafted up/movements on a separate ledger: per_day picks on each of the past days."""
        now = int(time.time() * 1000)
        level = self.seed_level.get((dealer, sku), 1000)  # the hub refuses broken stock chains
        items = []
        for i, d in enumerate(range(days, 0, -1)):
            level -= per_day
            items.append({"mid": msg_id * 1000 + i, "ts": now - d * DAY_MS, "node": "seed",
                          "sku": sku, "kind": "pick", "delta": -per_day, "qty": level})
        self.seed_level[(dealer, sku)] = level
        msg = {"v": 1, "type": "movements", "dealer": dealer, "ledger": SEED_LEDGER, "id": msg_id,
               "base": 1, "ts": now, "body": {"items": items}}
        self.publish_as(dealer, "up/movements", json.dumps(msg, separators=(",", ":")))


def on_both_channels(dep, alert_id, status):
    """The change (alert id, status) reached A's gateway topic and depot/alerts/v1/A/<kind>."""
    def match(topic, payload):
        try:
            b = json.loads(payload)["body"]
        except ValueError:
            return False
        return b["alert"] == alert_id and b["status"] == status
    _, down = dep.down.wait_message(match, timeout=10)
    topic, wide = dep.wide.wait_message(match, timeout=10)
    assert topic.startswith("depot/alerts/v1/A/"), topic
    return json.loads(down)["body"], json.loads(wide)["body"]


def test_stock_alerts_suggestions_and_channels():
    with Env("e2e-alerts-stock") as env:
        dep = Deployment(env)
        wh = dep.wh
        # the nearest dealer B holds exactly its reorder point (no surplus); C holds 40
        dep.crafted_stock("B", "SKU-BOLT", 5)
        dep.crafted_stock("C", "SKU-BOLT", 40)
        # trailing sales history of WASHER at A: 2 a day for 14 days (seeded, see above)
        dep.seed_picks("A", "SKU-WASHER", 2, 14, 1)

        # -- low_stock and shrinkage: weights lowered on the scale
        wh.weight("scale-1", 20 * UNIT_WEIGHT_G)
        wait_for(lambda: wh.ledger_qty("SKU-BOLT") == 20, timeout=15, what="20 bolts on the scale")
        wh.weight("scale-1", 5 * UNIT_WEIGHT_G)  # at the reorder point
        low = dep.wait_alert("low_stock", sku="SKU-BOLT",
                             pred=lambda a: a["status"] == "open" and "5 in stock" in a["text"])
        assert low["count"] == 1, low
        down, wide = on_both_channels(dep, low["id"], "open")
        wh.weight("scale-1", 3 * UNIT_WEIGHT_G)  # a second trigger
        low = dep.wait_alert("low_stock", sku="SKU-BOLT", pred=lambda a: a["count"] == 2)
        assert low["id"] == dep.alerts(kind="low_stock", dealer="A")[0]["id"]
        assert [a["status"] for a in dep.alerts(kind="low_stock", dealer="A")
                if a["status"] != "resolved"] == ["open"]
        sg = low["suggestion"]
        # velocity 0: replenish = reorder point + 1 - stock = 3; C (not B) has the surplus
        assert sg["replenish_qty"] == 3, sg
        assert [t["dealer"] for t in sg["transfers"]] == ["C"], sg
        assert sg["transfers"][0]["qty"] == 3 and 20 < sg["transfers"][0]["distance_km"] < 25, sg
        assert "transfer 3 from C" in low["action"], low
        # A's own gateway hears how much to replenish, nothing of C's surplus; the
        # manufacturer's channel has the whole suggestion
        assert down["action"].startswith("replenish ") and "transfer" not in down["action"], down
        assert "from C" not in down["text"] and wide["action"].startswith(down["action"]), wide
        assert "; or transfer" in wide["action"] and "from C" in wide["action"], wide
        shrink = dep.wait_alert("shrinkage", sku="SKU-BOLT", timeout=30,
                                pred=lambda a: "(17 in all)" in a["text"])
        print("  shrinkage: %s (count %d)" % (shrink["text"], shrink["count"]))
        m = metrics(dep.http)
        assert m['depot_hub_alerts_open{kind="low_stock"}'] >= 1, m
        wh.weight("scale-1", 20 * UNIT_WEIGHT_G)  # back on the scale: both clear
        dep.wait_alert("low_stock", sku="SKU-BOLT", pred=lambda a: a["status"] == "resolved")
        dep.wait_alert("shrinkage", sku="SKU-BOLT", pred=lambda a: a["status"] == "resolved")
        on_both_channels(dep, low["id"], "resolved")

        # -- stockout_forecast: picks at the terminal make the velocity
        wh.ctl("scan-1", "scan receive %s 20" % NUT)
        wh.ctl("scan-1", "scan pick %s 14" % NUT)  # 14 today / 7 days = 2/day; 6 left: 3 days
        out = dep.wait_alert("stockout_forecast", sku="SKU-NUT", timeout=20)
        assert "3.0 days of cover at 2.00/day" in out["text"], out
        assert out["suggestion"]["replenish_qty"] == 22, out  # ceil(2 * 14) - 6
        wh.ctl("scan-1", "scan pick %s 1" % NUT)
        dep.wait_alert("stockout_forecast", sku="SKU-NUT", pred=lambda a: a["count"] >= 2)
        assert len(dep.alerts(kind="stockout_forecast", dealer="A", sku="SKU-NUT")) == 1
        rows = wait_for(lambda: (lambda r: r if r[0]["velocity"] > 2 else None)(
            dep.api("GET", "/api/v1/stock?dealer=A&sku=SKU-NUT", token=VIEWER)),
            timeout=10, what="the velocity of 15 picks")  # the movements batch follows the stock
        assert abs(rows[0]["days_of_cover"] - 5 / (15 / 7)) < 0.1, rows
        assert rows[0]["region"] == "south" and rows[0]["received_at"] > 0, rows
        wh.ctl("scan-1", "scan receive %s 100" % NUT)
        dep.wait_alert("stockout_forecast", sku="SKU-NUT", pred=lambda a: a["status"] == "resolved")

        # -- sales_spike: today's picks against the seeded trailing average of 2/day
        wh.ctl("scan-1", "scan receive %s 100" % WASHER)
        wh.ctl("scan-1", "scan pick %s 7" % WASHER)  # 7 > 3 x 2
        spike = dep.wait_alert("sales_spike", sku="SKU-WASHER")
        wh.ctl("scan-1", "scan pick %s 2" % WASHER)
        dep.wait_alert("sales_spike", sku="SKU-WASHER", pred=lambda a: a["count"] >= 2)
        assert len(dep.alerts(kind="sales_spike", dealer="A", sku="SKU-WASHER")) == 1
        dep.seed_picks("A", "SKU-WASHER", 20, 14, 2)  # a heavier history: no longer a spike
        dep.wait_alert("sales_spike", sku="SKU-WASHER", pred=lambda a: a["status"] == "resolved")
        on_both_channels(dep, spike["id"], "resolved")

        hist = dep.api("GET", "/api/v1/history?dealer=A&sku=SKU-WASHER&days=20", token=VIEWER)
        assert len(hist["sales"]) == 20 and hist["sales"][-1][1] == 9, hist["sales"][-3:]
        assert hist["sales"][-2][1] == 22, hist["sales"][-3:]  # 2 + 20 seeded yesterday
        assert hist["stock"], hist


def test_lifecycle_by_hand_roles_and_depotctl():
    with Env("e2e-alerts-hand") as env:
        dep = Deployment(env, scanners=())
        wh = dep.wh
        wh.weight("scale-1", 2 * UNIT_WEIGHT_G)
        low = dep.wait_alert("low_stock", sku="SKU-BOLT")
        path = "/api/v1/alerts/%d" % low["id"]
        dep.api("POST", path + "/ack", {}, token=VIEWER, expect=403)
        acked = dep.api("POST", path + "/ack", {}, token=APPROVER)
        assert acked["status"] == "acknowledged" and acked["acked_by"] == "ops", acked
        on_both_channels(dep, low["id"], "acknowledged")
        listed = dep.ctl("alerts", "list", "--status", "acknowledged", "--dealer", "A",
                         token=VIEWER).stdout
        assert "low_stock" in listed and "SKU-BOLT" in listed, listed
        out = dep.ctl("alerts", "resolve", str(low["id"]), token=APPROVER).stdout
        assert json.loads(out)["status"] == "resolved", out
        assert json.loads(out)["resolved_by"] == "ops", out
        dep.api("POST", path + "/resolve", {}, token=APPROVER, expect=409)
        r = dep.ctl("alerts", "ack", str(low["id"]), token=APPROVER, check=False)
        assert r.returncode != 0 and "409" in r.stderr, (r.stdout, r.stderr)
        on_both_channels(dep, low["id"], "resolved")


def test_gateway_node_and_contract_alerts():
    with Env("e2e-alerts-live") as env:
        dep = Deployment(env, offline_after_s=8, scanners=())
        wh = dep.wh
        wh.weight("scale-1", 20 * UNIT_WEIGHT_G)
        wait_for(lambda: wh.ledger_qty("SKU-BOLT") == 20, timeout=15, what="20 bolts")

        # -- contract_expiring: ends in 10 days, then renewed
        soon = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 10 * 86400))
        dep.api("PATCH", "/api/v1/dealers/B", {"contract_end": soon})
        c = dep.wait_alert("contract_expiring", dealer="B")
        assert soon in c["text"] and c["severity"] == "warning", c
        later = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 400 * 86400))
        dep.api("PATCH", "/api/v1/dealers/B", {"contract_end": later})
        dep.wait_alert("contract_expiring", dealer="B", pred=lambda a: a["status"] == "resolved")

        # -- node_fault: the scale goes silent until the gateway reports it, then heals
        wh.fault("scale-1", "silent")
        nf = dep.wait_alert("node_fault", timeout=30)
        assert nf["subject"] == "scale-1" and nf["status"] == "open", nf
        on_both_channels(dep, nf["id"], "open")
        wh.fault("scale-1", "none")
        dep.wait_alert("node_fault", pred=lambda a: a["status"] == "resolved", timeout=30)

        # -- gateway_offline: stopped (offline state), started again
        wh.gateway.stop()
        off = dep.wait_alert("gateway_offline", timeout=30)
        assert off["severity"] == "critical", off
        wh.gateway.start()
        dep.wait_alert("gateway_offline", pred=lambda a: a["status"] == "resolved", timeout=30)
        assert len(dep.alerts(kind="gateway_offline", dealer="A")) == 1  # never duplicated
        on_both_channels(dep, off["id"], "resolved")
        m = metrics(dep.http)
        assert m["depot_hub_alerts_raised_total"] >= 3 and m["depot_hub_alerts_resolved_total"] >= 3


def test_catalog_and_places_take_effect_at_once():
    """With a periodic evaluation once an hour, only the immediate path can pass: a catalog
    import opens the alert its new reorder point calls for, places arriving later fill the
    suggestion's distances and reorder it, and a source dealer losing its surplus drops out,
    each rewriting the same alert (count 1) within seconds."""
    slow = {"alerts": dict(ALERTS["alerts"], eval_period_s="3600")}
    with Env("e2e-alerts-at-once") as env:
        dep = Deployment(env, alerts=slow, places=False, warehouse=False, scanners=())
        dep.crafted_stock("B", "SKU-NUT", 40)
        dep.crafted_stock("C", "SKU-NUT", 40)
        dep.crafted_stock("A", "SKU-NUT", 4)  # reorder point 2: no alert
        wait_for(lambda: len([r for r in dep.api("GET", "/api/v1/stock", token=VIEWER)
                              if r["sku"] == "SKU-NUT"]) == 3, timeout=15, what="stock of A, B, C")
        assert not dep.alerts(kind="low_stock", dealer="A"), dep.alerts()
        csv = env.path("catalog-nut10.csv")
        with open(csv, "w") as f:
            f.write(CATALOG.replace("SKU-NUT,%s,0.40,10,1,1000,2," % NUT,
                                    "SKU-NUT,%s,0.40,10,1,1000,10," % NUT))
        dep.ctl("catalog", "import", csv)
        low = dep.wait_alert("low_stock", sku="SKU-NUT", timeout=10,
                             what="low_stock of A at once after the catalog import")
        sg = low["suggestion"]
        assert sorted(t["dealer"] for t in sg["transfers"]) == ["B", "C"], sg
        assert all(t["distance_km"] is None for t in sg["transfers"]), sg
        for d, lon in (("A", 11.0), ("B", 11.3), ("C", 11.1)):  # C nearer than B
            dep.api("PATCH", "/api/v1/dealers/" + d, {"lat": 48.0, "lon": lon})
        low = dep.wait_alert(
            "low_stock", sku="SKU-NUT", timeout=10, what="distances in the suggestion",
            pred=lambda a: all(t["distance_km"] is not None for t in a["suggestion"]["transfers"]))
        sg = low["suggestion"]
        assert [t["dealer"] for t in sg["transfers"]] == ["C", "B"], sg
        assert 7 < sg["transfers"][0]["distance_km"] < 8, sg
        assert low["count"] == 1, low
        dep.crafted_stock("C", "SKU-NUT", 10)  # at its own reorder point: no surplus any more
        low = dep.wait_alert(
            "low_stock", sku="SKU-NUT", timeout=10, what="C gone from the suggestion",
            pred=lambda a: [t["dealer"] for t in a["suggestion"]["transfers"]] == ["B"])
        assert low["count"] == 1 and low["status"] == "open", low
        print("  at once: %s; %s" % (low["text"], low["action"]))


if __name__ == "__main__":
    main([test_stock_alerts_suggestions_and_channels,
          test_lifecycle_by_hand_roles_and_depotctl,
          test_gateway_node_and_contract_alerts,
          test_catalog_and_places_take_effect_at_once])
