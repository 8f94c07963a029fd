"""Orders end to end: a scanner terminal (depot-node scanner) -> depot-gateway
(scan events exactly once, catalog, signed orders) -> Mosquitto over mutual TLS
-> depot-hub (validation, credit, auto-approval, approval stages, audit) ->
the decision back on the terminal's display.

Every part is the real program. Ports are picked free at run time on
127.0.0.1, every wait is a bounded poll, and the Env stops every process.
"""
import json
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, TESTBIN, Env, http_json, main, run, wait_for  # noqa: E402
from broker import dealer_identity, hub_identity, make_pki, mqtt_pub, mqtt_sub, start_broker  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from hubenv import metrics, start_hub, stock_map  # noqa: E402

ADMIN = "admin-token-orders"
VIEWER = "viewer-token-orders"
SALES = "sales-token-orders"
FINANCE = "finance-token-orders"
WAREHOUSE = "warehouse-token-orders"
TOKENS = {"admin": ("admin", ADMIN), "viewer": ("viewer", VIEWER),
          "sales": ("approver", SALES + ":sales"), "finance": ("approver", FINANCE + ":finance"),
          "warehouse": ("approver", WAREHOUSE + ":warehouse")}
APPROVAL = {"approval": {"stages": "sales,finance,warehouse", "stage_deadline_s": "3600"}}

BOLT, NUT, WASHER, PUMP = "4006381333931", "4006381333948", "4006381333955", "4006381333962"
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,%s,2.50,100,1,500,20,7,100000
SKU-NUT,%s,0.40,10,1,1000,50,7,100000
SKU-WASHER,%s,0.10,5,1,2000,100,7,100000
SKU-PUMP,%s,100.00,5000,1,20,2,14,1000
""" % (BOLT, NUT, WASHER, PUMP)


class Deployment:
    """Broker, hub with the catalog, and one warehouse per dealer with a scanner terminal."""

    def __init__(self, env, dealers=("A",), limits=None, scanner_fifo=None, **wh):
        self.env = env
        self.pki = make_pki(env, list(dealers))
        self.broker, self.port = start_broker(env, self.pki)
        self.hub, self.http = start_hub(env, self.pki, self.port, tokens=TOKENS, extra=APPROVAL)
        csv = env.path("catalog.csv")
        with open(csv, "w") as f:
            f.write(CATALOG)
        self.ctl("catalog", "import", csv)
        for d in dealers:
            body = {"credit_limit": 100000.00, "auto_approve_limit": 500.00}
            body.update((limits or {}).get(d, {}))
            self.api("PATCH", "/api/v1/dealers/" + d, body)
        self.wh = {d: start_warehouse(env, self.pki, self.port, d, scanners=["scan-1"],
                                      scanner_fifo=scanner_fifo, **wh) for d in dealers}
        for d in dealers:
            wait_for(lambda: self.wh[d].ledger_query("SELECT count(*) FROM catalog")[0][0] == 4,
                     timeout=20, what="the catalog in %s's ledger" % d)

    def ctl(self, *args):
        return run([os.path.join(BIN, "depotctl")] + list(args) +
                   ["--hub", "http://127.0.0.1:%d" % self.http, "--token", ADMIN]).stdout

    def api(self, method, path, body=None, token=ADMIN, expect=200):
        status, out = http_json("http://127.0.0.1:%d%s" % (self.http, path), token, method, body)
        if expect is not None:
            assert status == expect, (method, path, status, out)
        return out

    def orders(self, dealer):
        return self.api("GET", "/api/v1/orders?dealer=" + dealer, token=VIEWER)

    def order(self, order_id):
        return self.api("GET", "/api/v1/orders/" + order_id, token=VIEWER)

    def scan_order(self, dealer, lines, node="scan-1"):
        """Scan order lines and submit; returns the submit's time (monotonic)."""
        wh = self.wh[dealer]
        for barcode, qty in lines:
            wh.ctl(node, "scan line %s %d" % (barcode, qty))
        t0 = time.monotonic()
        wh.ctl(node, "submit")
        return t0

    def wait_display(self, dealer, predicate, timeout=10.0, node="scan-1", what="display"):
        wh = self.wh[dealer]
        return wait_for(lambda: (lambda d: d if predicate(d[1]) else None)(wh.display(node)),
                        timeout=timeout, interval=0.01, what=what)


def order_number(text):
    """17 from 'ORDER 17 APPROVED'."""
    parts = text.split()
    return int(parts[1]) if len(parts) > 1 and parts[0] == "ORDER" and parts[1].isdigit() else None


def order_by_number(dep, dealer, number):
    for o in dep.orders(dealer):
        if o["number"] == number:
            return o
    return None


def test_three_lines_auto_approved_on_the_display_within_3s():
    with Env("orders-auto") as env:
        dep = Deployment(env)
        t0 = dep.scan_order("A", [(BOLT, 4), (NUT, 10), (WASHER, 20)])
        code, text = dep.wait_display("A", lambda t: "APPROVED" in t, timeout=3.0,
                                      what="APPROVED within 3 s of the submit")
        print("  display %r %.0f ms after submit" % (text, (time.monotonic() - t0) * 1000))
        o = order_by_number(dep, "A", order_number(text))
        assert o and o["status"] == "approved", o
        full = dep.order(o["order"] if "order" in o else o["id"])
        assert len(full["lines"]) == 3
        assert abs(full["total"] - (4 * 2.50 + 10 * 0.40 + 20 * 0.10)) < 1e-6, full
        actions = [a["action"] for a in full["audit"]]
        assert "auto-approved" in " ".join(actions) or "approved" in " ".join(actions), actions


def test_over_auto_limit_goes_through_every_stage_and_reject_shows_reason():
    with Env("orders-stages") as env:
        dep = Deployment(env)
        dep.scan_order("A", [(PUMP, 6)])  # 600.00 > auto-approval limit 500.00
        code, text = dep.wait_display("A", lambda t: "SENT" in t or "WAITING" in t, timeout=10,
                                      what="the order sent")
        n = order_number(text)
        wait_for(lambda: (order_by_number(dep, "A", n) or {}).get("status") == "pending",
                 timeout=10, what="order %d pending" % n)
        oid = order_by_number(dep, "A", n)["order"]
        assert dep.order(oid)["stage"] == "sales"
        # An approver of another stage may not act; a viewer may not either.
        dep.api("POST", "/api/v1/orders/%s/approve" % oid, {"stage": "sales", "reason": "ok"},
                token=FINANCE, expect=403)
        dep.api("POST", "/api/v1/orders/%s/approve" % oid, {"stage": "sales", "reason": "ok"},
                token=VIEWER, expect=403)
        for token, stage in ((SALES, "sales"), (FINANCE, "finance"), (WAREHOUSE, "warehouse")):
            assert dep.order(oid)["stage"] == stage
            dep.api("POST", "/api/v1/orders/%s/approve" % oid,
                    {"stage": stage, "reason": "fine by " + stage}, token=token)
        dep.wait_display("A", lambda t: t == "ORDER %d APPROVED" % n, timeout=10,
                         what="ORDER %d APPROVED" % n)
        audit = dep.order(oid)["audit"]
        assert sum(1 for a in audit if a.get("stage") in ("sales", "finance", "warehouse")
                   and "approve" in a["action"]) == 3, audit
        # A second big order, rejected at the first stage with a reason.
        dep.scan_order("A", [(PUMP, 7)])
        code, text = dep.wait_display("A", lambda t: ("SENT" in t or "WAITING" in t)
                                      and order_number(t) == n + 1, timeout=10,
                                      what="the second order sent")
        wait_for(lambda: (order_by_number(dep, "A", n + 1) or {}).get("status") == "pending",
                 timeout=10, what="second order pending")
        oid2 = order_by_number(dep, "A", n + 1)["order"]
        dep.api("POST", "/api/v1/orders/%s/reject" % oid2, {}, token=SALES, expect=400)
        dep.api("POST", "/api/v1/orders/%s/reject" % oid2, {"reason": "too many pumps"}, token=SALES)
        code, text = dep.wait_display("A", lambda t: "REJECTED" in t, timeout=10,
                                      what="REJECTED on the display")
        assert text.startswith("ORDER %d REJECTED too many" % (n + 1)), text
        dep.api("POST", "/api/v1/orders/%s/approve" % oid2, {"stage": "finance", "reason": "x"},
                token=FINANCE, expect=409)


def test_over_credit_rejected_then_passes_after_a_payment():
    with Env("orders-credit") as env:
        dep = Deployment(env, limits={"A": {"credit_limit": 1000.00, "auto_approve_limit": 5000.00}})
        dep.scan_order("A", [(PUMP, 8)])  # 800.00: within credit
        dep.wait_display("A", lambda t: "APPROVED" in t, timeout=10, what="first order approved")
        dep.scan_order("A", [(PUMP, 3)])  # 300.00: 1100 > 1000
        code, text = dep.wait_display("A", lambda t: "REJECTED" in t, timeout=10,
                                      what="over credit rejected")
        assert "credit" in text.lower(), text
        o = order_by_number(dep, "A", order_number(text))
        assert o["status"] == "rejected" and "credit" in dep.order(o["order"])["reason"].lower()
        dep.api("POST", "/api/v1/payments", {"dealer": "A", "amount": 500.00, "ref": "bank-1"})
        dep.scan_order("A", [(PUMP, 3)])  # the same lines again: exposure 300 + 300 <= 1000
        code, text = dep.wait_display("A", lambda t: "APPROVED" in t
                                      and order_number(t) == order_number(text) + 1,
                                      timeout=10, what="the same order approved after the payment")


def test_unknown_barcode_refused_and_full_fifo_loses_nothing():
    with Env("orders-fifo") as env:
        dep = Deployment(env, scanner_fifo=8)
        wh = dep.wh["A"]
        sub = mqtt_sub(env, dep.pki, dep.port, ["depot/v1/A/up/event"], *hub_identity(dep.pki))
        wh.ctl("scan-1", "scan receive 9999999999999 2")
        code, text = dep.wait_display("A", lambda t: t.startswith("UNKNOWN"), timeout=10,
                                      what="UNKNOWN on the display")
        assert code == 3 and "9999999999999" in text, (code, text)
        sub.wait_message(lambda t, p: json.loads(p)["body"]["event"] == "unknown_barcode"
                         and json.loads(p)["body"]["reason"] == "9999999999999")
        assert wh.ledger_query("SELECT count(*) FROM movements")[0][0] == 0
        # The gateway away: the terminal fills up, refuses visibly, keeps what it took.
        wh.gateway.stop()
        accepted = 0
        for i in range(12):
            reply = wh.try_ctl("scan-1", "scan receive %s %d" % (NUT, i + 1))
            if reply.startswith("ok"):
                accepted += 1
            else:
                assert reply == "error fifo full", reply
        assert accepted == 8, accepted
        assert wh.display("scan-1") == (3, "FIFO FULL")
        wh.gateway.start()
        want = sum(range(1, 9))
        wait_for(lambda: wh.ledger_qty("SKU-NUT") == want, timeout=20,
                 what="every accepted scan in the ledger (%d nuts)" % want)
        assert wh.ledger_query("SELECT count(*) FROM movements WHERE sku = 'SKU-NUT'")[0][0] == 8
        wait_for(lambda: (stock_map(dep.http, VIEWER, dealer="A").get(("A", "SKU-NUT")) or {})
                 .get("qty") == want, timeout=20, what="the hub's stock of nuts")


def test_broker_away_orders_queue_and_are_decided_once():
    with Env("orders-outage") as env:
        dep = Deployment(env)
        dep.broker.stop()
        numbers = []
        for lines in ([(BOLT, 2)], [(NUT, 5), (WASHER, 5)]):
            dep.scan_order("A", lines)
            code, text = dep.wait_display("A", lambda t: t.endswith("SENT")
                                          and order_number(t) not in numbers, timeout=10,
                                          what="ORDER n SENT while the broker is away")
            numbers.append(order_number(text))
        dep.broker.start()
        dep.wait_display("A", lambda t: t == "ORDER %d APPROVED" % numbers[-1], timeout=30,
                         what="the last order approved after the broker returned")
        wait_for(lambda: len([o for o in dep.orders("A") if o["status"] == "approved"]) == 2,
                 timeout=20, what="both orders approved at the hub")
        orders = dep.orders("A")
        assert sorted(o["number"] for o in orders) == sorted(numbers), orders
        for o in orders:
            audit = dep.order(o["order"])["audit"]
            decided = [a for a in audit if a["action"] in ("auto-approved", "approved", "rejected")]
            assert len(decided) == 1, audit
        rows = wh_orders = dep.wh["A"].ledger_query("SELECT number, status FROM orders ORDER BY number")
        assert [r[1] for r in rows] == ["approved", "approved"], wh_orders


def test_approval_names_its_stage_so_a_double_click_approves_once():
    with Env("orders-double-click") as env:
        dep = Deployment(env)
        dep.scan_order("A", [(PUMP, 6)])  # over the auto-approval limit: pending at "sales"
        code, text = dep.wait_display("A", lambda t: "WAITING" in t, timeout=10,
                                      what="the order waiting for a stage")
        n = order_number(text)
        oid = order_by_number(dep, "A", n)["order"]
        url = "/api/v1/orders/%s/approve" % oid
        # An approval must say which stage it approves.
        err = dep.api("POST", url, {"reason": "ok"}, expect=400)
        assert "stage" in err["error"], err
        assert dep.order(oid)["stage"] == "sales"
        # The admin (every stage) clicks Approve twice on the order it saw at "sales".
        assert dep.api("POST", url, {"stage": "sales"})["stage"] == "finance"
        err = dep.api("POST", url, {"stage": "sales"}, expect=409)
        assert err["error"] == "the order is no longer at stage sales: it is at stage finance", err
        o = dep.order(oid)
        assert (o["status"], o["stage"]) == ("pending", "finance"), o
        assert [a["stage"] for a in o["audit"] if a["action"] == "stage-approved"] == ["sales"]
        # depotctl: approve needs --stage; a stage the order left is refused with the reason.
        ctl = [os.path.join(BIN, "depotctl"), "orders", "approve", oid,
               "--hub", "http://127.0.0.1:%d" % dep.http, "--token", ADMIN]
        r = run(ctl, check=False)
        assert r.returncode == 2 and "--stage" in r.stderr, (r.returncode, r.stderr)
        r = run(ctl + ["--stage", "sales"], check=False)
        assert r.returncode != 0 and "no longer at stage sales" in r.stderr, (r.returncode, r.stderr)
        assert json.loads(run(ctl + ["--stage", "finance"]).stdout)["stage"] == "warehouse"
        # A rejection may name the stage too; a stale one changes nothing.
        dep.api("POST", "/api/v1/orders/%s/reject" % oid, {"stage": "finance", "reason": "late"},
                expect=409)
        dep.api("POST", url, {"stage": "warehouse"})
        dep.wait_display("A", lambda t: t == "ORDER %d APPROVED" % n, timeout=10,
                         what="ORDER %d APPROVED" % n)
        err = dep.api("POST", url, {"stage": "warehouse"}, expect=409)
        assert err["error"] == "the order is not pending: it is approved", err


def order_sign(pki, dealer, ledger, msg_id, number, lines, signer=None, tamper=False,
               doc_dealer=None, order=None):
    """An up/order payload made by tests' order_sign (the gateway's signing code path)."""
    signer = signer or dealer
    argv = [os.path.join(TESTBIN, "order_sign"), "--dealer", dealer, "--ledger", ledger,
            "--id", msg_id, "--number", number, "--key", pki["dealers"][signer]["key"],
            "--cert", pki["dealers"][signer]["crt"]]
    if tamper:
        argv.append("--tamper")
    if doc_dealer:
        argv += ["--doc-dealer", doc_dealer]
    if order:
        argv += ["--order", order]
    return run(argv + ["%s:%d" % line for line in lines]).stdout.strip()


def order_state(dep, dealer):
    """What a forged order must not change: the dealer's orders and exposure."""
    return (sorted((o["order"], o["status"]) for o in dep.orders(dealer)),
            dep.api("GET", "/api/v1/dealers/" + dealer, token=VIEWER)["exposure"])


def test_forged_and_replayed_orders_are_rejected_reported_and_change_nothing():
    with Env("orders-forged") as env:
        dep = Deployment(env, dealers=("A", "B"))
        sub = mqtt_sub(env, dep.pki, dep.port, ["depot/v1/A/up/order"], *hub_identity(dep.pki))
        dep.scan_order("A", [(BOLT, 2)])
        dep.wait_display("A", lambda t: "APPROVED" in t, timeout=10, what="A's real order approved")
        real = json.loads(sub.wait_message(lambda t, p: True)[1])
        before = {d: order_state(dep, d) for d in ("A", "B")}
        displays = {d: dep.wh[d].display("scan-1") for d in ("A", "B")}
        m0 = metrics(dep.http)
        fake_ledger = "%032x" % random.getrandbits(128)
        a_crt, a_key = dealer_identity(dep.pki, "A")
        b_crt, b_key = dealer_identity(dep.pki, "B")
        cases = [
            # a signature that does not verify, on A's own topic with A's credentials
            ("bad_signature", "A", a_crt, a_key,
             order_sign(dep.pki, "A", fake_ledger, 1, 77, [(BOLT, 1)], tamper=True)),
            # signed with A's key (and A's certificate) but sent on B's topic
            ("wrong_dealer", "B", b_crt, b_key,
             order_sign(dep.pki, "B", fake_ledger, 1, 78, [(BOLT, 1)], signer="A",
                        doc_dealer="B")),
        ]
        for reason, topic_dealer, crt, key, payload in cases:
            r = mqtt_pub(dep.pki, dep.port, "depot/v1/%s/up/order" % topic_dealer, payload, crt, key)
            assert r.returncode == 0, r.stderr
        # A replay: A's real order, captured on the wire, sent again in a new message of its
        # stream (an id far above the gateway's own); in another stream it is no replay but
        # an order id that is not that stream's.
        replay = dict(real, id=10 ** 9)
        moved = dict(real, ledger=fake_ledger, id=2, base=1)
        for payload in (replay, moved):
            r = mqtt_pub(dep.pki, dep.port, "depot/v1/A/up/order", json.dumps(payload), a_crt, a_key)
            assert r.returncode == 0, r.stderr

        def counted():
            m = metrics(dep.http)
            d = lambda k: m.get(k, 0) - m0.get(k, 0)  # noqa: E731
            return (d('depot_hub_orders_rejected_total{reason="bad_signature"}') >= 1
                    and d('depot_hub_orders_rejected_total{reason="wrong_dealer"}') >= 1
                    and d('depot_hub_orders_rejected_total{reason="wrong_order_id"}') >= 1
                    and d("depot_hub_orders_replays_total") >= 1)
        wait_for(counted, timeout=10,
                 what="bad signature, wrong dealer, wrong order id and replay counted")
        forged = dep.api("GET", "/api/v1/orders-forged", token=VIEWER)
        reasons = sorted(f["reason"] for f in forged)
        assert reasons == ["bad_signature", "wrong_dealer", "wrong_order_id"], forged
        assert {d: order_state(dep, d) for d in ("A", "B")} == before
        assert {d: dep.wh[d].display("scan-1") for d in ("A", "B")} == displays
        audit = dep.order(json.loads(real["body"]["doc"])["order"])["audit"]
        assert any(a["action"] == "replay" for a in audit), audit
        assert "bad_signature" in dep.hub.log() or "signature" in dep.hub.log()


def test_one_dealer_cannot_take_another_dealers_next_order_id():
    with Env("orders-taken-id") as env:
        dep = Deployment(env, dealers=("A", "B"))
        dep.scan_order("B", [(BOLT, 2)])
        code, text = dep.wait_display("B", lambda t: "APPROVED" in t, timeout=10,
                                      what="B's first order approved")
        n = order_number(text)
        ledger_b = order_by_number(dep, "B", n)["order"].rsplit("-", 1)[0]
        # B's ledger id is visible to a viewer, so A knows B's next order id.
        assert any(s["ledger"] == ledger_b for s in
                   dep.api("GET", "/api/v1/dealers/B/streams", token=VIEWER))
        taken = "%s-%d" % (ledger_b, n + 1)
        a_crt, a_key = dealer_identity(dep.pki, "A")
        m0 = metrics(dep.http)
        applied = 'depot_hub_messages_applied_by_type_total{type="order"}'
        forgeries = [
            # A's key, certificate and topic, a stream of A's own, B's next order id
            order_sign(dep.pki, "A", "%032x" % random.getrandbits(128), 1, n + 1, [(BOLT, 1)],
                       order=taken),
            # the same in a stream that claims B's ledger id too
            order_sign(dep.pki, "A", ledger_b, 1, n + 1, [(BOLT, 1)]),
        ]
        for payload in forgeries:
            r = mqtt_pub(dep.pki, dep.port, "depot/v1/A/up/order", payload, a_crt, a_key)
            assert r.returncode == 0, r.stderr
        wait_for(lambda: metrics(dep.http).get(applied, 0) - m0.get(applied, 0) >= 2,
                 timeout=10, what="both of A's order messages handled by the hub")
        # B's real order with that number goes through and shows on B's terminal.
        dep.scan_order("B", [(BOLT, 3)])
        dep.wait_display("B", lambda t: t == "ORDER %d APPROVED" % (n + 1), timeout=10,
                         what="B's order %d APPROVED on B's terminal" % (n + 1))
        o = dep.order(taken)
        assert (o["dealer"], o["status"], o["number"]) == ("B", "approved", n + 1), o
        assert [ln["qty"] for ln in o["lines"]] == [3], o
        assert all(a["action"] not in ("replay", "forged") for a in o["audit"]), o["audit"]
        assert dep.orders("A") == []
        # A's forgeries: refused, recorded and counted with their reason.
        m1 = metrics(dep.http)
        key = 'depot_hub_orders_rejected_total{reason="wrong_order_id"}'
        assert m1.get(key, 0) - m0.get(key, 0) == 2, m1
        assert m1.get("depot_hub_orders_replays_total", 0) == m0.get("depot_hub_orders_replays_total", 0)
        forged = dep.api("GET", "/api/v1/orders-forged?dealer=A", token=VIEWER)
        assert sorted((f["reason"], f["order"]) for f in forged) == [("wrong_order_id", taken)] * 2, forged
        assert "wrong_order_id" in dep.hub.log() or "is dealer B's" in dep.hub.log() or \
            "not %s" % taken in dep.hub.log(), dep.hub.log()


if __name__ == "__main__":
    main([test_three_lines_auto_approved_on_the_display_within_3s,
          test_over_auto_limit_goes_through_every_stage_and_reject_shows_reason,
          test_approval_names_its_stage_so_a_double_click_approves_once,
          test_over_credit_rejected_then_passes_after_a_payment,
          test_unknown_barcode_refused_and_full_fifo_loses_nothing,
          test_broker_away_orders_queue_and_are_decided_once,
          test_forged_and_replayed_orders_are_rejected_reported_and_change_nothing,
          test_one_dealer_cannot_take_another_dealers_next_order_id])
