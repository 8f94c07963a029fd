"""The same input gives the same decisions on one hub with SQLite and on three
hubs sharing one PostgreSQL database.

Two worlds, each with its own Mosquitto (mutual TLS) and its own hubs: one
depot-hub on a SQLite file; three depot-hub instances on one PostgreSQL
database sharing the uplink subscription. Each message of one script (five
dealers' states, stock levels, picks, a node fault, a last will, signed
orders) is published to both brokers with the dealer's certificate, and the
next one only once both worlds applied it (as a gateway with a window of one
would send them); approvals and payments go through the API, in the
three-hub world to each hub in turn. Then every hub of both worlds must
show:
  - the same alerts: kind, dealer, SKU, subject, severity, status, text,
    action, the suggested transfers, and how many triggers each counted;
  - the same orders with the same decisions and stages;
  - the same leaderboard: ranks, scores, every KPI's value, rebates.
A message of a dealer lands on whichever of the three hubs the broker
picks, so an alert raised by one hub is updated or resolved by another, and
the ranking of each hub holds what the other two applied.

Runs only with DEPOT_TEST_PG_URL_FILE (ctest's .pg fixture starts the
PostgreSQL); ports are picked at run time, every wait is a bounded poll, the
Env stops every process, even on failure.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import Env, http_json, main, wait_for  # noqa: E402
from broker import dealer_identity, hub_instance, make_pki, mqtt_pub, pub_accepted, start_broker  # noqa: E402
from hubenv import metrics, signed_order, start_hub, stock_message, store_is_pg  # noqa: E402

ADMIN = "admin-token-same"
TOKENS = {"admin": ("admin", ADMIN)}
DEALERS = ["D0", "D1", "D2", "D3", "D4"]
LEDGER = {d: "%032x" % (0xd0 + i) for i, d in enumerate(DEALERS)}
BOLT, NUT = "4006381333931", "4006381333948"
CATALOG = [dict(sku=sku, barcode=bc, price=price, unit_weight_g=10, min_qty=1, max_qty=500,
                reorder_point=rp, lead_time_days=7, max_stock=100000)
           for sku, bc, price, rp in (("SKU-BOLT", BOLT, "2.50", 10), ("SKU-NUT", NUT, "0.40", 5))]
PLACES = {"D0": (48.14, 11.58), "D1": (48.37, 10.90), "D2": (49.45, 11.08), "D3": (48.78, 9.18),
          "D4": (50.11, 8.68)}
# Freshness weighs 0: online time depends on when each world heard a message.
HUB_EXTRA = {"ranking": {"weights": "0.35,0.25,0.15,0.15,0", "tiers": "0.8:3,0.35:1",
                         "publish_period_s": "1"},
             "approval": {"stages": "sales,finance"}}
T0 = int(time.time() * 1000) - 60000  # gateway times: the same in both worlds


class World:
    def __init__(self, env, pki, name, hubs, pg):
        self.name, self.pki = name, pki
        self.broker, self.port = start_broker(env, pki, name="broker-" + name)
        self.hubs = []
        for i in range(hubs):
            hub = "hub" if i == 0 else "hub-%d" % (i + 1)
            cert, key = hub_instance(pki, hub)
            extra = dict(HUB_EXTRA)
            if not pg:  # a SQLite file even in a run that has the PostgreSQL fixture
                extra["hub"] = {"db": env.path(name + ".db")}
            self.hubs.append(start_hub(env, dict(pki, hub_cert=cert, hub_key=key), self.port,
                                       tokens=TOKENS, name="%s-%s" % (name, hub),
                                       db=env.path(name + "-shared.db"), instance=hub,
                                       offline_after_s=3600,
                                       extra=extra))
        self.turn = 0

    def api(self, method, path, body=None, hub=None):
        if hub is None:  # each hub in turn
            hub, self.turn = self.turn, (self.turn + 1) % len(self.hubs)
        status, out = http_json("http://127.0.0.1:%d%s" % (self.hubs[hub][1], path), ADMIN,
                                method, body)
        assert status == 200, (self.name, method, path, status, out)
        return out

    def publish(self, dealer, leaf, payload):
        cert, key = dealer_identity(self.pki, dealer)
        r = mqtt_pub(self.pki, self.port, "depot/v1/%s/%s" % (dealer, leaf), payload,
                     cert=cert, key=key)
        assert pub_accepted(r), (self.name, r.stdout, r.stderr)

    def applied_upto(self, dealer):
        got = self.api("GET", "/api/v1/dealers/%s/streams" % dealer)
        return max([s["applied_upto"] for s in got if s["ledger"] == LEDGER[dealer]] or [0])

    def online(self, dealer):
        d = {x["dealer"]: x for x in self.api("GET", "/api/v1/dealers")}.get(dealer)
        return d and d.get("online")


class Script:
    """Publishes each message to every world and waits until every world applied it."""

    def __init__(self, worlds):
        self.worlds = worlds
        self.ids = {d: 0 for d in DEALERS}

    def stream(self, dealer, leaf, make):
        self.ids[dealer] += 1
        n = self.ids[dealer]
        payload = make(n)
        for w in self.worlds:
            w.publish(dealer, leaf, payload)
        for w in self.worlds:
            wait_for(lambda: w.applied_upto(dealer) >= n, timeout=20,
                     what="%s: %s's id %d applied" % (w.name, dealer, n))

    def state(self, dealer, online):
        payload = json.dumps({"v": 1, "type": "state", "dealer": dealer, "ledger": "",
                              "id": 0, "base": 0, "ts": T0,
                              "body": {"online": online, "session": 1}}, separators=(",", ":"))
        for w in self.worlds:
            w.publish(dealer, "state", payload)
        for w in self.worlds:
            wait_for(lambda: bool(w.online(dealer)) == online, timeout=20,
                     what="%s: %s %s" % (w.name, dealer, "online" if online else "offline"))

    def stock(self, dealer, sku, qty):
        self.stream(dealer, "up/stock",
                    lambda n: stock_message(dealer, LEDGER[dealer], n, sku, qty, ts=T0 + n))

    def picks(self, dealer, sku, units, before):
        def make(n):
            item = {"mid": n, "ts": T0 + n, "node": "scan-1", "sku": sku, "kind": "pick",
                    "delta": -units, "qty": before - units}
            return json.dumps({"v": 1, "type": "movements", "dealer": dealer,
                               "ledger": LEDGER[dealer], "id": n, "base": 1, "ts": T0 + n,
                               "body": {"items": [item]}}, separators=(",", ":"))
        self.stream(dealer, "up/movements", make)

    def event(self, dealer, node, event, reason):
        self.stream(dealer, "up/event", lambda n: json.dumps(
            {"v": 1, "type": "event", "dealer": dealer, "ledger": LEDGER[dealer], "id": n,
             "base": 1, "ts": T0 + n,
             "body": {"node": node, "event": event, "reason": reason, "count": 1}},
            separators=(",", ":")))

    def order(self, pki, dealer, lines):
        cert, key = dealer_identity(pki, dealer)
        self.stream(dealer, "up/order", lambda n: signed_order(dealer, LEDGER[dealer], n, n, key,
                                                               cert, lines))


def alerts_view(w, hub):
    out = []
    for a in w.api("GET", "/api/v1/alerts?limit=1000", hub=hub):
        text = a["text"]
        if a["kind"] == "gateway_offline":  # "last heard <when this world heard it>"
            text = text.split(", last heard")[0]
        sg = a["suggestion"] or {}
        transfers = [(t["dealer"], t["qty"], t["distance_km"]) for t in sg.get("transfers", [])]
        out.append((a["dealer"], a["sku"] or "", a["kind"], a["subject"] or "", a["severity"],
                    a["status"], text, a["action"], sg.get("replenish_qty"), transfers,
                    a["count"]))
    return sorted(out, key=repr)


def orders_view(w, hub):
    return sorted((o["order"], o["dealer"], o["status"], o["stage"], o["total"])
                  for o in w.api("GET", "/api/v1/orders", hub=hub))


def board_view(w, hub):
    b = w.api("GET", "/api/v1/ranking", hub=hub)
    return [(e["dealer"], e["rank"], round(e["score"], 9), e["rebate_pct"], e["rebate"],
             sorted((k, v["value"]) for k, v in e["kpis"].items() if k != "freshness"))
            for e in b["dealers"]]


def test_one_sqlite_hub_and_three_postgresql_hubs_decide_the_same():
    assert store_is_pg(), "runs with the PostgreSQL fixture (DEPOT_TEST_PG_URL_FILE)"
    with Env("hub-same") as env:
        pki = make_pki(env, DEALERS, hubs=("hub-2", "hub-3"))
        one = World(env, pki, "one", 1, pg=False)
        three = World(env, pki, "three", 3, pg=True)
        worlds = [one, three]
        for w in worlds:
            w.api("PUT", "/api/v1/catalog", CATALOG)
            for d in DEALERS:
                lat, lon = PLACES[d]
                w.api("PATCH", "/api/v1/dealers/" + d,
                      {"name": "Dealer " + d, "region": "south", "lat": lat, "lon": lon,
                       "credit_limit": 1000.00, "auto_approve_limit": 50.00})
        s = Script(worlds)
        for d in DEALERS:
            s.state(d, True)
        # stock: D0 and D2 have a surplus of bolts, D1 and D3 run low, D4 is out
        for d, qty in (("D0", 120), ("D1", 6), ("D2", 60), ("D3", 9), ("D4", 0)):
            s.stock(d, "SKU-BOLT", qty)
        for d, qty in (("D0", 3), ("D1", 40), ("D2", 2)):
            s.stock(d, "SKU-NUT", qty)
        s.picks("D1", "SKU-BOLT", 4, 6)    # D1 down to 2: a new trigger of its low stock
        s.picks("D3", "SKU-BOLT", 2, 9)
        s.picks("D0", "SKU-NUT", 1, 3)
        s.stock("D0", "SKU-BOLT", 8)       # D0 no longer a source: suggestions move
        s.stock("D3", "SKU-BOLT", 30)      # D3 recovers: its low stock resolves
        s.event("D2", "scale-b", "fault", "timeout")
        s.state("D4", False)               # D4's last will
        s.order(pki, "D0", [(BOLT, 4)])    # 10.00: auto-approved
        s.order(pki, "D1", [(BOLT, 40)])   # 100.00: over the limit, to the stages
        s.order(pki, "D2", [("9999999999999", 1)])  # unknown barcode: rejected
        s.picks("D2", "SKU-BOLT", 10, 60)
        s.stock("D2", "SKU-BOLT", 50)
        for w in worlds:
            pending = [o for o in w.api("GET", "/api/v1/orders") if o["status"] == "pending"]
            assert len(pending) == 1, (w.name, pending)
            for stage in ("sales", "finance"):
                w.api("POST", "/api/v1/orders/%s/approve" % pending[0]["order"],
                      {"stage": stage, "reason": "ok"})
            w.api("POST", "/api/v1/payments", {"dealer": "D0", "amount": "10.00"})
            w.api("POST", "/api/v1/payments", {"dealer": "D1", "amount": "40.00"})

        # the same alerts in both worlds once each has evaluated what came in: a time-based
        # trigger (D4 not heard for offline_after_s) lands in each world at its own tick
        def same_alerts():
            want = alerts_view(one, 0)
            return want if all(alerts_view(three, h) == want for h in range(3)) else None
        want_alerts = wait_for(same_alerts, timeout=20, what="the same alerts in both worlds")
        kinds = {a[2] for a in want_alerts}
        assert {"low_stock", "node_fault", "gateway_offline"} <= kinds, want_alerts
        assert any(a[5] == "resolved" for a in want_alerts), want_alerts
        assert any(a[9] for a in want_alerts), want_alerts  # a transfer was suggested
        want_orders = orders_view(one, 0)
        assert sorted(o[2] for o in want_orders) == ["approved", "approved", "rejected"], \
            want_orders
        def settled():  # catalog prices read (within 5 s), the API's payments and approval in
            b = board_view(one, 0)
            kpis = {e[0]: dict(e[5]) for e in b}
            return (len(b) == 5 and kpis["D2"]["sales"] == 25.0
                    and kpis["D1"]["collection"] == 0.4 and b)
        want_board = wait_for(settled, timeout=20, what="the SQLite hub's leaderboard")
        for hub in range(3):
            assert alerts_view(three, hub) == want_alerts, (hub, alerts_view(three, hub))
            assert orders_view(three, hub) == want_orders, (hub, orders_view(three, hub))
            # the ranking of each hub catches up with what the others applied within a tick
            try:
                wait_for(lambda: board_view(three, hub) == want_board, timeout=15,
                         what="hub %d's leaderboard equal to the SQLite hub's" % hub)
            except AssertionError:
                assert board_view(three, hub) == want_board, (hub, board_view(three, hub),
                                                              want_board)
        print("  %d alerts, %d orders, a board of %d dealers: the same on 1 SQLite hub and "
              "on 3 PostgreSQL hubs" % (len(want_alerts), len(want_orders), len(want_board)))
        spread = [metrics(http).get("depot_hub_messages_applied_total", 0)
                  for _, http in three.hubs]
        assert all(n > 0 for n in spread), spread  # the broker spread the dealers' messages
        print("  messages applied by each of the three hubs: %s" % spread)


if __name__ == "__main__":
    main([test_one_sqlite_hub_and_three_postgresql_hubs_decide_the_same])
