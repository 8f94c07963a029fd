"""Outbound webhooks end to end: Mosquitto over mutual TLS -> depot-hub -> a receiver.

A small HTTP receiver on 127.0.0.1 (a free port) stands in for an ERP. It verifies every
request's Depot-Signature (HMAC-SHA-256 of "<t>.<body>" with the subscription's secret, t
within 5 minutes), records event ids per subscription, de-duplicates by id, and on purpose:
answers 500 twice, hangs past the hub's timeout once (after it has processed the event: the
hub's retry is then a duplicate by id), answers slowly once, and is down (connection refused)
while the hub is stopped and started again with events pending.

  - POST /api/v1/webhooks: hostile input is a 400 with a reason; a secret is generated when
    none is given and shown once; GET never shows a secret;
  - 30 payments (payment.recorded) reach both subscriptions, 0 lost, each id accepted once
    after de-duplication, in the order the payments were recorded (per subscription);
  - every request's signature holds; the deliveries API lists them delivered, none pending;
  - /metrics counts the deliveries and the failed attempts;
  - a disabled subscription gets nothing more;
  - an order signed by A's gateway and approved at its last stage is an order.approved event;
  - depotctl webhooks adds (the secret printed once), lists (no secret), shows deliveries,
    and refuses to retry a delivery that is not dead;
  - stock.changed comes coalesced per period, each SKU once at its last level;
  - an alert's life (opened, acknowledged, resolved) comes as alert.* events, in order.

Every wait is a bounded poll; the Env stops the hub and broker, the receiver is stopped in a
finally.
"""
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, free_port_range, main, run, wait_for  # noqa: E402
from broker import dealer_identity, make_pki, mqtt_pub, pub_accepted, start_broker  # noqa: E402
from hubenv import (approve, call, metrics, orders, pay, put_catalog, set_dealer,  # noqa: E402
                    signed_order, start_hub, stock_message, wait_hub)

ADMIN = "admin-token-webhooks"
HOOKS = {"webhooks": {"poll_ms": "100", "connect_timeout_s": "1", "timeout_s": "2",
                      "backoff_base_ms": "100", "backoff_cap_s": "1", "stock_period_s": "1"}}
SECRET_A = "a-secret-of-the-erp-0123456789"
BOLT = "4006381333931"


class Receiver:
    """The ERP's endpoint: /a and /b, one per subscription; plan[path] lists what to do with
    the next requests ("fail", "hang", "slow"); then "ok"."""

    def __init__(self, port):
        self.port = port
        self.secrets = {}
        self.plan = {"/a": ["fail", "fail", "hang", "slow"], "/b": ["slow", "fail"]}
        paths = ("/a", "/b", "/c", "/d", "/e")
        self.seen = {p: [] for p in paths}        # event ids, first acceptance order
        self.data = {p: [] for p in paths}        # the events, same order
        self.duplicates = {p: 0 for p in paths}
        self.bad = []                      # requests whose signature or headers fail
        self.requests = 0
        self.lock = threading.Lock()
        self.release = threading.Event()   # ends a hang early when the test stops
        self.server = None

    def start(self):
        rcv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                action = rcv.handle(self.path, self.headers, body)
                if action == "hang":
                    rcv.release.wait(4.0)  # longer than [webhooks] timeout_s
                elif action == "slow":
                    time.sleep(1.0)        # slower than usual, within the timeout
                self.send_response(500 if action == "fail" else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def verify(self, path, headers, body):
        secret = self.secrets.get(path)
        sig = headers.get("Depot-Signature", "")
        parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
        t = parts.get("t", "")
        want = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
        event = json.loads(body)
        ok = (secret and hmac.compare_digest(want, parts.get("v1", ""))
              and headers.get("Depot-Timestamp") == t and abs(time.time() - int(t)) < 300
              and headers.get("Depot-Event-Id") == event["id"]
              and headers.get("Content-Type") == "application/json")
        return ok, event

    def handle(self, path, headers, body):
        """What to do with one request; records the event when it is processed."""
        with self.lock:
            self.requests += 1
            if path not in self.secrets:
                return "fail"  # before the test knows the subscription's secret: sent again
            ok, event = self.verify(path, headers, body)
            if not ok:
                self.bad.append((path, dict(headers), body))
                return "fail"
            plan = self.plan.get(path, [])
            action = plan.pop(0) if plan else "ok"
            if action == "fail":
                return action
            if event["id"] in self.seen[path]:
                self.duplicates[path] += 1  # de-duplicated by id: not processed again
            else:
                self.seen[path].append(event["id"])
                self.data[path].append(event)
            return action


def refused(http, body, why):
    status, reply = call(http, "POST", "/api/v1/webhooks", ADMIN, body, expect=None)
    assert status == 400 and why in reply["error"], (body, status, reply)


def test_webhooks_every_event_once_in_order_through_failures_and_a_restart():
    with Env("depot-webhooks") as env:
        # below the ephemeral range: no outgoing connection (nor the broker, which is given a
        # free port from that range) can take it, also while the receiver is down on purpose
        rcv = Receiver(free_port_range(1))
        try:
            run_scenario(env, rcv)
        finally:
            rcv.release.set()
            rcv.stop()


def wait_delivered(rcv, n, timeout):
    wait_for(lambda: all(len(rcv.seen[p]) >= n for p in ("/a", "/b")), timeout=timeout,
             what="%d events at each subscription (have %s)"
             % (n, {p: len(v) for p, v in rcv.seen.items()}))


def run_scenario(env, rcv):
    rcv.start()  # its port is taken before anything else starts
    pki = make_pki(env, ["A"])
    _, mqtt_port = start_broker(env, pki)
    hub, http = start_hub(env, pki, mqtt_port, tokens={"admin": ("admin", ADMIN)}, extra=HOOKS)
    set_dealer(http, ADMIN, "A", patch=False, name="Dealer A", credit_limit="100000.00")
    base = "http://127.0.0.1:%d" % rcv.port

    refused(http, {"url": "ftp://127.0.0.1/x", "types": ["*"]}, "http")
    refused(http, {"url": base + "/a", "types": ["no.such.event"]}, "types")
    refused(http, {"url": base + "/a", "types": []}, "types")
    refused(http, {"url": base + "/" + "x" * 600, "types": ["*"]}, "url")
    refused(http, {"url": base + "/a", "types": ["*"], "secret": "short"}, "secret")
    refused(http, {"url": "http:// x", "types": ["*"]}, "url")
    refused(http, ["not", "an", "object"], "JSON object")

    a = call(http, "POST", "/api/v1/webhooks", ADMIN,
             {"url": base + "/a", "types": ["payment.recorded"], "secret": SECRET_A}, expect=201)
    b = call(http, "POST", "/api/v1/webhooks", ADMIN, {"url": base + "/b", "types": ["*"]},
             expect=201)
    assert a["secret"] == SECRET_A and len(b["secret"]) == 64, (a, b)
    rcv.secrets = {"/a": SECRET_A, "/b": b["secret"]}
    listed = call(http, "GET", "/api/v1/webhooks", ADMIN)
    assert [w["id"] for w in listed] == [a["id"], b["id"]] and all(
        "secret" not in w for w in listed), listed

    # 10 payments while the receiver fails, hangs and answers slowly
    for i in range(1, 11):
        pay(http, ADMIN, "A", "%d.00" % i, ref="p%d" % i)
    wait_delivered(rcv, 10, 30)

    # down: refused connections, and the hub stopped and started again meanwhile
    rcv.stop()
    m = metrics(http)
    failed = m.get("depot_hub_webhooks_failed_attempts_total", 0)
    assert failed >= 4 and m.get("depot_hub_webhooks_delivered_total", 0) == 20, (
        failed, m.get("depot_hub_webhooks_delivered_total"))  # /a: 500, 500, hang; /b: 500
    for i in range(11, 21):
        pay(http, ADMIN, "A", "%d.00" % i, ref="p%d" % i)
    wait_for(lambda: metrics(http).get("depot_hub_webhooks_failed_attempts_total", 0)
             >= failed + 2, timeout=10, what="the hub tries the receiver while it is down")
    hub.restart()
    wait_hub(hub, http)
    for i in range(21, 31):
        pay(http, ADMIN, "A", "%d.00" % i, ref="p%d" % i)
    rcv.start()
    wait_delivered(rcv, 30, 30)

    assert not rcv.bad, "signature or headers failed: %r" % rcv.bad[:2]
    want = ["p%d" % i for i in range(1, 31)]
    for path in ("/a", "/b"):
        refs = [e["data"]["ref"] for e in rcv.data[path]]
        assert refs == want, (path, refs)  # every event once, in order
        assert all(e["type"] == "payment.recorded" and e["time"].endswith("Z")
                   for e in rcv.data[path]), rcv.data[path][:1]
    assert rcv.duplicates["/a"] >= 1, rcv.duplicates  # the hang: processed, then retried
    ids_a, ids_b = set(rcv.seen["/a"]), set(rcv.seen["/b"])
    assert len(ids_a) == len(ids_b) == 30 and ids_a == ids_b  # one event, one id, both subs

    for sub in (a, b):
        done = call(http, "GET", "/api/v1/webhooks/%d/deliveries?status=delivered&limit=1000"
                    % sub["id"], ADMIN)
        assert [d["event_id"] for d in done] == rcv.seen["/a" if sub is a else "/b"], done[:2]
        assert call(http, "GET", "/api/v1/webhooks/%d/deliveries?status=pending" % sub["id"],
                    ADMIN) == []
    assert call(http, "GET", "/api/v1/webhooks/%d/deliveries?status=bogus" % a["id"], ADMIN,
                expect=None)[0] == 400
    assert call(http, "GET", "/api/v1/webhooks/999/deliveries", ADMIN, expect=None)[0] == 404
    # counters are the process's: since the restart, the 20 events of each subscription
    assert metrics(http).get("depot_hub_webhooks_delivered_total", 0) == 40

    # a disabled subscription gets nothing more; the other one does
    call(http, "POST", "/api/v1/webhooks/%d/disable" % b["id"], ADMIN)
    pay(http, ADMIN, "A", "31.00", ref="p31")
    wait_for(lambda: len(rcv.seen["/a"]) == 31, timeout=10, what="p31 at /a")
    assert len(call(http, "GET", "/api/v1/webhooks/%d/deliveries" % b["id"] + "?limit=1000",
                    ADMIN)) == 30
    assert len(rcv.seen["/b"]) == 30

    # depotctl webhooks: add (the secret shown once), list (never it), deliveries, retry
    ctl = [os.path.join(BIN, "depotctl"), "webhooks"]
    target = ["--hub", "http://127.0.0.1:%d" % http, "--token", ADMIN]
    out = run(ctl + ["add", base + "/c", "--types", "order.approved,payment.recorded"]
              + target).stdout
    secret = [ln.split(": ", 1)[1] for ln in out.splitlines() if "shown this once" in ln]
    assert len(secret) == 1 and len(secret[0]) == 64, out
    out = run(ctl + ["list"] + target).stdout
    assert base + "/c" in out and secret[0] not in out and SECRET_A not in out, out
    out = run(ctl + ["deliveries", str(a["id"]), "--status", "delivered"] + target).stdout
    assert all(i in out for i in rcv.seen["/a"]), out[:500]
    r = run(ctl + ["retry", str(a["id"]), "--seq", "1"] + target, check=False)
    assert r.returncode != 0 and "not dead" in r.stdout + r.stderr, (r.stdout, r.stderr)
    assert run(ctl + ["deliveries", "x"] + target, check=False).returncode != 0
    rcv.secrets["/c"] = secret[0]

    # an order signed by A's gateway, pending, approved at every stage: order.approved at /c
    put_catalog(http, ADMIN, [dict(sku="SKU-BOLT", barcode=BOLT, price="2.50", unit_weight_g=10,
                                   min_qty=1, max_qty=500, reorder_point=1, lead_time_days=7,
                                   max_stock=100000)])
    set_dealer(http, ADMIN, "A", auto_approve_limit="0.00")
    cert, key = dealer_identity(pki, "A")
    r = mqtt_pub(pki, mqtt_port, "depot/v1/A/up/order",
                 signed_order("A", "a" * 32, 1, 1, key, cert, [(BOLT, 4)]), cert=cert, key=key)
    assert pub_accepted(r), (r.stdout, r.stderr)
    wait_for(lambda: [o["status"] for o in orders(http, ADMIN)] == ["pending"], timeout=10,
             what="A's order pending")
    order = orders(http, ADMIN)[0]
    for stage in ("sales", "finance", "warehouse"):
        approve(http, ADMIN, order["order"], stage)
    wait_for(lambda: len(rcv.seen["/c"]) == 1, timeout=10, what="order.approved at /c")
    ev = rcv.data["/c"][0]
    assert ev["type"] == "order.approved" and ev["data"]["order"] == order["order"] and \
        ev["data"]["total"] == "10.00" and ev["data"]["approved_by"] == "admin", ev
    assert len(rcv.seen["/a"]) == 31  # /a takes payments only

    # stock.changed, coalesced per period ([webhooks] stock_period_s, 1 s here): three level
    # reports of two SKUs come as events of A listing each SKU once, at its last level
    d = call(http, "POST", "/api/v1/webhooks", ADMIN,
             {"url": base + "/d", "types": ["stock.changed"]}, expect=201)
    rcv.secrets["/d"] = d["secret"]
    for i, (sku, qty) in enumerate((("SKU-BOLT", 5), ("SKU-NUT", 3), ("SKU-BOLT", 7)), 1):
        r = mqtt_pub(pki, mqtt_port, "depot/v1/A/up/stock",
                     stock_message("A", "b" * 32, i, sku, qty), cert=cert, key=key)
        assert pub_accepted(r), (r.stdout, r.stderr)

    def levels():
        got = {}
        for ev in rcv.data["/d"]:
            assert ev["type"] == "stock.changed" and ev["data"]["dealer"] == "A", ev
            skus = [row["sku"] for row in ev["data"]["stock"]]
            assert len(skus) == len(set(skus)), ev  # each SKU once per event
            got.update((row["sku"], row["qty"]) for row in ev["data"]["stock"])
        return got
    wait_for(lambda: levels() == {"SKU-BOLT": 7, "SKU-NUT": 3}, timeout=60, interval=0.2,
             what="stock.changed events at /d")

    # an alert's life: opened by the engine, acknowledged and resolved through the API, each
    # an event with the alert as it stands
    e = call(http, "POST", "/api/v1/webhooks", ADMIN,
             {"url": base + "/e", "types": ["alert.opened", "alert.updated",
                                            "alert.acknowledged", "alert.resolved"]}, expect=201)
    rcv.secrets["/e"] = e["secret"]
    r = mqtt_pub(pki, mqtt_port, "depot/v1/A/up/stock",
                 stock_message("A", "b" * 32, 4, "SKU-BOLT", 0), cert=cert, key=key)
    assert pub_accepted(r), (r.stdout, r.stderr)
    wait_for(lambda: any(ev["data"]["kind"] == "low_stock" for ev in rcv.data["/e"]),
             timeout=30, interval=0.2, what="alert.opened of A's low stock at /e")
    opened = [ev for ev in rcv.data["/e"] if ev["data"]["kind"] == "low_stock"][0]
    assert opened["type"] == "alert.opened" and opened["data"]["dealer"] == "A" and \
        opened["data"]["sku"] == "SKU-BOLT" and opened["data"]["status"] == "open", opened
    alert = opened["data"]["alert"]
    call(http, "POST", "/api/v1/alerts/%d/ack" % alert, ADMIN)
    call(http, "POST", "/api/v1/alerts/%d/resolve" % alert, ADMIN)

    def life():
        return [(ev["type"], ev["data"]["status"]) for ev in rcv.data["/e"]
                if ev["data"]["alert"] == alert]
    wait_for(lambda: life()[-1:] == [("alert.resolved", "resolved")], timeout=30, interval=0.2,
             what="alert.resolved at /e")
    assert life() == [("alert.opened", "open"), ("alert.acknowledged", "acknowledged"),
                      ("alert.resolved", "resolved")], life()
    last = rcv.data["/e"][-1]["data"]
    assert last["acked_by"] == "admin" and last["resolved_by"] == "admin", last
    print("requests %d, duplicates de-duplicated by id %s" % (rcv.requests, rcv.duplicates))


if __name__ == "__main__":
    main([test_webhooks_every_event_once_in_order_through_failures_and_a_restart])
