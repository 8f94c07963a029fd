"""Ranking and rebates end to end: Mosquitto over mutual TLS -> depot-hub.

Three dealers A, B, C. Their sales arrive as crafted up/movements batches
(pick movements, as a gateway's outbox sends them) and their orders as signed
up/order messages (tests/order_sign), each published with THAT dealer's
gateway certificate through the real broker, so the broker's ACL and the
hub's ingest are the real ones; no gateway process is needed for figures
that must be exact. Payments go in through POST /api/v1/payments and
`depotctl payments import FILE.csv`. The leaderboard the hub serves must
equal the one worked out by hand below, and dealer A's gateway certificate
must receive A's own retained ranking and nothing of B's or C's.

Every wait is a bounded poll; ports are free ones on 127.0.0.1; the Env
stops every process.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, http_json, main, run, wait_for  # noqa: E402
from broker import dealer_identity, make_pki, mqtt_pub, mqtt_sub, pub_accepted, start_broker  # noqa: E402
from hubenv import signed_order, start_hub  # noqa: E402

ADMIN = "admin-token-ranking"
VIEWER = "viewer-token-ranking"
TOKENS = {"admin": ("admin", ADMIN), "viewer": ("viewer", VIEWER)}
# Freshness weighs 0 here: online time in a test run depends on the machine's timing;
# it is reported, and exercised by the unit tests.
RANKING = {"ranking": {"weights": "0.35,0.25,0.15,0.15,0", "tiers": "0.8:3,0.35:1",
                       "publish_period_s": "1"}}

BOLT, NUT, WASHER, PUMP = "4006381333931", "4006381333948", "4006381333955", "4006381333962"
CATALOG = [dict(sku=sku, barcode=bc, price=price, unit_weight_g=10, min_qty=1, max_qty=mx,
                reorder_point=1, lead_time_days=7, max_stock=100000)
           for sku, bc, price, mx in (("SKU-BOLT", BOLT, "2.50", 500), ("SKU-NUT", NUT, "0.40", 1000),
                                      ("SKU-WASHER", WASHER, "0.10", 2000),
                                      ("SKU-PUMP", PUMP, "100.00", 20))]
LEDGER = {"A": "a" * 32, "B": "b" * 32, "C": "c" * 32}

# Picks per dealer (sku, units) in this month:
#   A: 2 PUMP (200.00) + 4 BOLT (10.00)               = 210.00, 2 of 4 SKUs -> 0.50
#   B: 10 BOLT (25.00) + 10 NUT (4.00) + 10 WASHER (1.00) = 30.00, 3 of 4 -> 0.75
#   C: 5 NUT (2.00)                                    =   2.00, 1 of 4 -> 0.25
PICKS = {"A": [("SKU-PUMP", 2), ("SKU-BOLT", 4)],
         "B": [("SKU-BOLT", 10), ("SKU-NUT", 10), ("SKU-WASHER", 10)],
         "C": [("SKU-NUT", 5)]}
# Orders: A 4 BOLT = 10.00 and B 8 BOLT = 20.00, both under the auto-approval
# limit (approved = invoiced); C one order with an unknown barcode (rejected: a defect).
ORDERS = {"A": [(BOLT, 4)], "B": [(BOLT, 8)], "C": [("9999999999999", 1)]}
# Payments: A 10.00 (CSV import), B 5.00 (API). C nothing (and nothing invoiced).
#
# KPIs          sales    collection          penetration  accuracy
#   A          210.00    10/10 = 1.00        0.50         1/1 = 1
#   B           30.00     5/20 = 0.25        0.75         1/1 = 1
#   C            2.00    nothing due: 1.00   0.25         0/1 = 0
# Normalised (min-max):
#   sales: (v - 2) / 208 -> A 1, B 28/208 = 0.134615, C 0
#   collection: A 1, B 0, C 1;  penetration (v - .25)/.5: A .5, B 1, C 0;  accuracy: A 1, B 1, C 0
#   freshness: weight 0
# Scores = sum(w x norm) / 0.90:
#   A = (.35 + .25 + .075 + .15) / .9          = .825 / .9     = 0.916667
#   B = (.35 x 28/208 + 0 + .15 + .15) / .9    = .347115 / .9  = 0.385684
#   C = (0 + .25 + 0 + 0) / .9                                  = 0.277778
# Rebates (tiers 0.8:3, 0.35:1): A 3 % of 210.00 = 6.30; B 1 % of 30.00 = 0.30; C none.
EXPECTED = [("A", 0.825 / 0.9, 3, "6.30"),
            ("B", (0.35 * 28 / 208 + 0.30) / 0.9, 1, "0.30"),
            ("C", 0.25 / 0.9, 0, "0.00")]


def movements_message(dealer, msg_id, picks, now_ms):
    items = []
    for i, (sku, units) in enumerate(picks):
        items.append({"mid": i + 1, "ts": now_ms, "node": "scan-1", "sku": sku, "kind": "pick",
                      "delta": -units, "qty": 1000 - units})
    return json.dumps({"v": 1, "type": "movements", "dealer": dealer, "ledger": LEDGER[dealer],
                       "id": msg_id, "base": 1, "ts": now_ms, "body": {"items": items}},
                      separators=(",", ":"))


class Hub:
    def __init__(self, env):
        self.env = env
        self.pki = make_pki(env, ["A", "B", "C"])
        self.broker, self.port = start_broker(env, self.pki)
        self.proc, self.http = start_hub(env, self.pki, self.port, tokens=TOKENS, extra=RANKING)

    def api(self, method, path, body=None, token=ADMIN, expect=200):
        status, out = http_json("http://127.0.0.1:%d%s" % (self.http, path), token, method, body)
        if expect is not None:
            assert status == expect, (method, path, status, out)
        return out

    def ctl(self, *args, check=True):
        return run([os.path.join(BIN, "depotctl")] + list(args) +
                   ["--hub", "http://127.0.0.1:%d" % self.http, "--token", ADMIN], check=check)

    def publish_as(self, dealer, leaf, payload):
        cert, key = dealer_identity(self.pki, dealer)
        r = mqtt_pub(self.pki, self.port, "depot/v1/%s/%s" % (dealer, leaf), payload,
                     cert=cert, key=key)
        assert pub_accepted(r), (r.stdout, r.stderr)


def post_with_key(hub, path, body, key):
    """POST body with an Idempotency-Key: (status, the Idempotent-Replayed header, raw body)."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (hub.http, path),
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + ADMIN,
                                          "Content-Type": "application/json",
                                          "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Idempotent-Replayed"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Idempotent-Replayed"), e.read()


def setup_figures(hub):
    """Catalog, profiles, picks, orders (hand figures above); payments are the tests' own."""
    hub.api("PUT", "/api/v1/catalog", CATALOG)
    for d in ("A", "B", "C"):
        hub.api("PATCH", "/api/v1/dealers/" + d, {"name": "Dealer " + d, "region": "north",
                                                  "credit_limit": 100000.00,
                                                  "auto_approve_limit": 500.00})
    now = int(time.time() * 1000)
    for d, picks in PICKS.items():
        hub.publish_as(d, "up/movements", movements_message(d, 1, picks, now))
    for d, lines in ORDERS.items():
        cert, key = dealer_identity(hub.pki, d)
        hub.publish_as(d, "up/order", signed_order(d, LEDGER[d], 2, 1, key, cert, lines))
    want = {"A": "approved", "B": "approved", "C": "rejected"}
    wait_for(lambda: {o["dealer"]: o["status"] for o in hub.api("GET", "/api/v1/orders",
                                                                   token=VIEWER)} == want,
             timeout=15, what="orders A, B approved and C rejected")


def board_matches(hub):
    b = hub.api("GET", "/api/v1/ranking", token=VIEWER)
    got = [(e["dealer"], e["score"], e["rebate_pct"], "%.2f" % e["rebate"]) for e in b["dealers"]]
    if len(got) != 3:
        return None
    for (d, s, p, r), (wd, ws, wp, wr) in zip(got, EXPECTED):
        if d != wd or abs(s - ws) > 1e-6 or p != wp or r != wr:
            return None
    return b


def test_leaderboard_matches_hand_figures_and_csv_import_is_all_or_nothing():
    with Env("ranking-board") as env:
        hub = Hub(env)
        setup_figures(hub)
        # B's wire as an ERP sends it, twice with one Idempotency-Key (a retry after an answer
        # lost on the way): recorded once (the hand-worked board counts 5.00), answered the same
        wire = {"dealer": "B", "amount": "5.00", "ref": "wire-1"}
        first = post_with_key(hub, "/api/v1/payments", wire, "erp-wire-1")
        again = post_with_key(hub, "/api/v1/payments", wire, "erp-wire-1")
        assert first[0] == 200 and first[1] is None, first
        assert again == (200, "true", first[2]), (first, again)
        other = post_with_key(hub, "/api/v1/payments", dict(wire, amount="6.00"), "erp-wire-1")
        assert other[0] == 422 and b"used for another request" in other[2], other
        bad = env.path("bad.csv")
        with open(bad, "w") as f:
            f.write("dealer,amount,order,ref,date\nA,10.00,,r1,\nB,abc,,r2,\n"
                    "Q!,1.00,,r3,\nA,1.00,,r4,2026-13-01\nA,1.00,,r5,2026-02-30\n")
        r = hub.ctl("payments", "import", bad, check=False)
        assert r.returncode == 1, (r.stdout, r.stderr)
        for line in ("bad.csv:3: amount", "bad.csv:4: dealer", "bad.csv:5: date",
                     "bad.csv:6: date: not a calendar day"):
            assert line in r.stderr, r.stderr
        unknown = env.path("unknown.csv")
        with open(unknown, "w") as f:
            f.write("dealer,amount,order,ref,date\nA,10.00,,r1,\nNOBODY,1.00,,r2,\n")
        r = hub.ctl("payments", "import", unknown, check=False)
        assert r.returncode == 1 and "unknown.csv:3: no such dealer" in r.stderr, r.stderr
        # the dry run names the same line and writes nothing either
        r = hub.ctl("payments", "check", unknown, check=False)
        assert r.returncode == 1 and "unknown.csv:3: no such dealer" in r.stderr, r.stderr
        good = env.path("good.csv")
        with open(good, "w") as f:
            f.write("dealer,amount,order,ref,date\nA,10.00,,\"bank, 7\",%s\n"
                    % time.strftime("%Y-%m-%d", time.gmtime()))
        out = hub.ctl("payments", "check", good).stdout
        assert "checked: 1 payments of" in out and "nothing written" in out, out
        time.sleep(1.5)
        b = hub.api("GET", "/api/v1/dealers/A/kpis", token=VIEWER)
        assert b["figures"]["paid"] == 0, b  # nothing of the bad files or the dry run recorded
        out = hub.ctl("payments", "import", good).stdout
        assert "imported 1 payments" in out, out
        board = wait_for(lambda: board_matches(hub), timeout=15,
                         what="the leaderboard worked out by hand")
        for e in board["dealers"]:
            assert e["movement"] is None, e  # nobody was ranked last month
            assert e["name"] == "Dealer " + e["dealer"], e
        a = board["dealers"][0]
        assert a["kpis"]["sales"]["value"] == 210.00 and a["kpis"]["penetration"]["value"] == 0.5
        assert board["weights"]["freshness"] == 0 and board["tiers"][0] == {"min_score": 0.8,
                                                                           "rebate_pct": 3}
        k = hub.api("GET", "/api/v1/dealers/B/kpis", token=VIEWER)
        assert k["rank"] == 2 and k["of"] == 3, k
        assert "paid 5.00 / invoiced 20.00 = 0.2500" in k["how"], k["how"]
        assert "rebate 1 % of sales 30.00 = 0.30" in k["how"], k["how"]
        hub.api("GET", "/api/v1/dealers/NOBODY/kpis", token=VIEWER, expect=404)
        hub.api("GET", "/api/v1/ranking?period=2026-13", token=VIEWER, expect=400)
        table = hub.ctl("ranking").stdout
        assert table.splitlines()[2].split()[:2] == ["1", "A"], table
        print(table)
        # The three orders exported as the hub streams them: CSV on stdout, JSON Lines to a file
        csv = hub.ctl("export", "orders", "--format", "csv").stdout
        lines = csv.splitlines()
        assert lines[0].startswith("order,dealer,ledger,number,"), csv
        assert sorted(l.split(",")[1] for l in lines[1:] if l) == ["A", "B", "C"], csv
        out = env.path("orders.jsonl")
        hub.ctl("export", "orders", "--format", "jsonl", "--dealer", "C", "--out", out)
        with open(out) as f:
            rows = [json.loads(l) for l in f]
        assert [(o["dealer"], o["status"]) for o in rows] == [("C", "rejected")], rows
        r = hub.ctl("export", "orders", "--format", "xml", check=False)
        assert r.returncode == 2, (r.stdout, r.stderr)
        # Payments, the movements behind the sales, stock and the board itself
        pays = hub.ctl("export", "payments", "--format", "csv").stdout.splitlines()
        assert pays[0] == "id,dealer,amount,order,ref,at", pays
        assert len(pays) > 1 and all(l.split(",")[1] in ("A", "B", "C") for l in pays[1:]), pays
        moves = hub.ctl("export", "movements", "--format", "jsonl", "--dealer", "A").stdout
        rows = [json.loads(l) for l in moves.splitlines()]
        assert rows and all(m["dealer"] == "A" for m in rows), moves
        period = hub.api("GET", "/api/v1/ranking", token=VIEWER)["period"]
        ranked = hub.ctl("export", "ranking", "--format", "csv", "--period",
                         period).stdout.splitlines()
        assert ranked[0].startswith("period,rank,dealer,") and \
            [l.split(",")[2] for l in ranked[1:]] == ["A", "B", "C"], ranked
        # Restart: the aggregates are rebuilt from the store, the board is the same.
        hub.proc.stop()
        hub.proc, hub.http = start_hub(env, hub.pki, hub.port, tokens=TOKENS, extra=RANKING)
        assert board_matches(hub), hub.api("GET", "/api/v1/ranking", token=VIEWER)
        assert "aggregates rebuilt from the store" in hub.proc.log()


def test_dealer_gateway_receives_its_own_ranking_and_nothing_of_others():
    with Env("ranking-down") as env:
        hub = Hub(env)
        setup_figures(hub)
        hub.api("POST", "/api/v1/payments", {"dealer": "B", "amount": "5.00"})
        hub.api("POST", "/api/v1/payments", {"dealer": "A", "amount": "10.00"})
        wait_for(lambda: board_matches(hub), timeout=15, what="the hand-worked leaderboard")
        cert, key = dealer_identity(hub.pki, "A")
        own = mqtt_sub(env, hub.pki, hub.port, ["depot/v1/A/down/ranking"], cert=cert, key=key,
                       name="sub-a-own")

        def final(topic, payload):
            body = json.loads(payload)["body"]
            return body["rank"] == 1 and body["of"] == 3 and abs(body["score"] - 0.917) < 1e-9

        topic, payload = own.wait_message(final, timeout=15)
        msg = json.loads(payload)
        assert msg["dealer"] == "A" and msg["type"] == "ranking", msg
        assert msg["body"]["rebate_pct"] == 3 and msg["body"]["rebate"] == 6.3, msg
        kpis = {k["name"]: k for k in msg["body"]["kpis"]}
        assert kpis["sales"]["value"] == 210.0 and kpis["sales"]["weight"] == 0.35, kpis
        # A's payload names no other dealer.
        for other in ("B", "C", "Dealer B"):
            assert '"%s"' % other not in payload, payload
        # Retained: a new subscriber with A's certificate gets it at once.
        again = mqtt_sub(env, hub.pki, hub.port, ["depot/v1/A/down/ranking"], cert=cert, key=key,
                         name="sub-a-again")
        again.wait_message(lambda t, p: json.loads(p)["dealer"] == "A", timeout=5)
        # With A's certificate, B's topic and the wildcard yield nothing of B's or C's, even
        # while the hub publishes (B's ranking changes on a payment).
        spy = mqtt_sub(env, hub.pki, hub.port, ["depot/v1/B/down/ranking",
                                                 "depot/v1/+/down/ranking"], cert=cert, key=key,
                       name="sub-a-spy")
        hub.api("POST", "/api/v1/payments", {"dealer": "B", "amount": "1.00"})
        # B's own certificate sees B's update (so the hub did publish during the window).
        bcert, bkey = dealer_identity(hub.pki, "B")
        bsub = mqtt_sub(env, hub.pki, hub.port, ["depot/v1/B/down/ranking"], cert=bcert,
                        key=bkey, name="sub-b-own")
        bsub.wait_message(lambda t, p: json.loads(p)["dealer"] == "B", timeout=10)
        time.sleep(2.5)
        for t, p in spy.messages():
            assert t == "depot/v1/A/down/ranking" and json.loads(p)["dealer"] == "A", (t, p)


if __name__ == "__main__":
    main([test_leaderboard_matches_hand_figures_and_csv_import_is_all_or_nothing,
          test_dealer_gateway_receives_its_own_ranking_and_nothing_of_others])
