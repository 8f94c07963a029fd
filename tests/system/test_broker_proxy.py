"""Fault proxies between the gateway and the broker and between the hub and
the broker: cut, hung, slow and forcibly reconnected links, and still each
scan, weight and order counted once.

depot-node scanner and scale -> depot-gateway -> the tests' own TCP proxy
(faultproxy.py, passing the TLS bytes through untouched) -> Mosquitto over
mutual TLS -> another such proxy -> depot-hub; every part is the real
program. A feeder puts goods-in and goods-out scans on the terminal, moves
the scale's weight and submits a signed order from the terminal every
second, all along, while both proxies in turn:

  1. cut the connection (both sides closed);
  2. hang it: nothing forwarded either way and nothing closed, both sockets
     left open (the broker drops its side after 1.5 x keepalive; the gateway
     and the hub see nothing of that). Each must find out by itself, within
     1.5 x its keepalive_s (6 s here): measured from the moment of the hang to
     its log line of the lost link;
  3. add 2 s +- 0.5 s of latency to every chunk each way, order kept, for
     DEPOT_PROXY_LATENCY_S seconds (6) and until the stream moved through
     them, so the hub's acks come later than the gateway's resend_s (2 s) and
     it resends: duplicates really happen;
  4. force a reconnect every 2 s, DEPOT_PROXY_RECONNECTS times (3).

Meanwhile the gateway's poller keeps its nodes' period (the scale, polled
every 100 ms, is sampled all along: the longest gap between two of its polls
must stay under its period plus its timeout, 500 ms), and the hub's HTTP API
answers (its slowest answer printed, under its 5 s client timeout). At the
end: every scan once in the ledger, the stream's every id applied once at the
hub with duplicates dropped (more than 0), the same stock and sales at the
hub as in the ledger, every order once at the hub, and the outbox emptied by
the hub's acks.

DEPOT_PROXY_ROUNDS (1) runs the four faults that many times in turn:

    DEPOT_PROXY_ROUNDS=10 python3 tests/system/test_broker_proxy.py   # the long run, ~4 min
"""
import datetime
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, http_json, main, run, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from hubenv import api, health, set_dealer, start_hub, stock_map, streams  # noqa: E402
from test_gw_metrics_e2e import parse_metrics  # noqa: E402

KEEPALIVE_S = 6
RESEND_S = 2
PERIOD_MS = 100
NODE_TIMEOUT_MS = 500  # a Modbus TCP node's default timeout_ms
LATENCY_S = float(os.environ.get("DEPOT_PROXY_LATENCY_S", "6"))
RECONNECTS = int(os.environ.get("DEPOT_PROXY_RECONNECTS", "3"))
ROUNDS = int(os.environ.get("DEPOT_PROXY_ROUNDS", "1"))  # of the four faults, in turn
ADMIN = "admin-token-proxy"
BOLT = "4006381333931"
SCALE_SKU = "SKU-PUMP"
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,%s,2.50,100,1,500,20,7,100000
""" % BOLT


def log_time(line):
    """The UTC time (epoch seconds) of a Depot log line ("2026-01-02T03:04:05.678Z ...")."""
    stamp = line.split(" ", 1)[0]
    t = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


class Traffic:
    """The feeder, and what is measured while it runs: the scale's longest gap between two
    polls and the hub API's slowest answer."""

    def __init__(self, wh, http, rng):
        self.wh, self.http, self.rng = wh, http, rng
        self.receives = self.picks = self.events = self.submitted = self.count = 0
        self.weights = 0
        self.next_weight = self.next_order = self.next_api = time.monotonic()
        self.polls = None  # (requests counter, when it last moved)
        self.max_gap = 0.0
        self.max_api = 0.0
        self.api_calls = 0

    def step(self):
        wh, now = self.wh, time.monotonic()
        pick = self.receives - self.picks > 2 and self.rng.random() < 0.3
        reply = wh.try_ctl("scan-1", "scan %s %s 1" % ("pick" if pick else "receive", BOLT))
        if reply.startswith("ok"):
            self.picks += pick
            self.receives += not pick
            self.events += 1
        else:
            assert reply == "error fifo full", reply
        if now >= self.next_weight:
            self.count = self.rng.randrange(0, 50)
            wh.weight("scale-1", self.count * 100)
            self.weights += 1
            self.next_weight = now + self.rng.uniform(0.3, 1.0)
        if now >= self.next_order and wh.try_ctl("scan-1", "scan line %s 1" % BOLT) \
                .startswith("ok"):
            self.events += 1
            if wh.try_ctl("scan-1", "submit").startswith("ok"):
                self.submitted += 1
                self.events += 1
            self.next_order = now + 1.0
        self.sample()

    def sample(self):
        now = time.monotonic()
        n = int(self.wh.status("scale-1")["requests"])
        if self.polls is None or n != self.polls[0]:
            if self.polls is not None:
                self.max_gap = max(self.max_gap, now - self.polls[1])
            self.polls = (n, now)
        if now >= self.next_api:
            for path in ("/healthz", "/api/v1/stock?dealer=A"):
                t0 = time.monotonic()
                status, _ = http_json("http://127.0.0.1:%d%s" % (self.http, path), ADMIN)
                assert status == 200, (path, status)
                self.max_api = max(self.max_api, time.monotonic() - t0)
                self.api_calls += 1
            self.next_api = now + 0.25

    def run(self, seconds=None, until=None, timeout=60.0, what="a condition", feed=True):
        """Feed (unless not feed) and measure for `seconds`, or until until() is true (bounded
        by timeout)."""
        t0 = time.monotonic()
        while True:
            if feed:
                self.step()
            else:
                self.sample()
            if until is not None and until():
                return time.monotonic() - t0
            if seconds is not None and time.monotonic() - t0 >= seconds:
                return seconds
            assert time.monotonic() - t0 < timeout, "timed out after %.0f s waiting for %s" % (
                timeout, what)
            time.sleep(0.03)  # the feeder's pace, not a wait for a condition


def connects(wh):
    return wh.gateway.log().count("mqtt: connected to")


def lost_lines(wh, port):
    """The gateway's log lines of a lost broker link (uplink.c link_down)."""
    tag = "mqtt: 127.0.0.1:%d: " % port
    return [ln for ln in wh.gateway.log().splitlines() if tag in ln and "retrying" in ln]


def hub_connects(hub):
    return hub.log().count("mqtt: connected to")


def hub_lost_lines(hub):
    """The hub's log lines of a lost broker link (cloud/hub/mqtt.c back_off)."""
    return [ln for ln in hub.log().splitlines() if "mqtt: connection to" in ln]


def hub_subscribed(http):
    h = health(http)
    return h and h.get("mqtt") == "subscribed"


def test_cut_hung_slow_and_reconnected_links_count_everything_once():
    rng = random.Random(int(os.environ.get("DEPOT_SEED", "2222")))
    with Env("broker-proxy") as env, _Closing() as closing:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub_proxy = closing.add(FaultProxy(port, seed=8))
        hub, http = start_hub(env, pki, hub_proxy.port, tokens={"admin": ("admin", ADMIN)},
                              log_level="info", extra={"mqtt": {"keepalive_s": KEEPALIVE_S}})
        csv = env.path("catalog.csv")
        with open(csv, "w") as f:
            f.write(CATALOG)
        run([os.path.join(BIN, "depotctl"), "catalog", "import", csv,
             "--hub", "http://127.0.0.1:%d" % http, "--token", ADMIN])
        set_dealer(http, ADMIN, "A", credit_limit="100000.00", auto_approve_limit="500.00")
        proxy = closing.add(FaultProxy(port))
        both = (proxy, hub_proxy)
        prom = env.path("wh-A", "gateway.prom")
        wh = start_warehouse(env, pki, proxy.port, "A", tcp=[("scale-1", SCALE_SKU)],
                             period_ms=PERIOD_MS, scanners=["scan-1"], resend_s=RESEND_S,
                             keepalive_s=KEEPALIVE_S,
                             extra_gateway="[gateway]\nmetrics_file = %s\n" % prom)
        wait_for(lambda: wh.ledger_query("SELECT count(*) FROM catalog")[0][0] == 1, timeout=20,
                 what="the catalog in A's ledger")
        t = Traffic(wh, http, rng)
        t.run(seconds=1.0)

        def back(c0, h0):
            return connects(wh) > c0 and hub_connects(hub) > h0 and hub_subscribed(http)

        ledger = wh.ledger_id()
        f = {k: [] for k in ("cut_back", "detected", "hub_detected", "hang_back", "slow")}
        for _round in range(ROUNDS):
            # 1. Cut: the gateway and the hub connect again (after 1 s).
            c0, h0 = connects(wh), hub_connects(hub)
            assert [p.cut() for p in both] == [1, 1]
            f["cut_back"].append(t.run(until=lambda: back(c0, h0), timeout=20,
                                       what="both back after the cut"))

            # 2. Hung: nothing through, nothing closed. Each finds out by itself.
            t.run(seconds=0.5)
            lost0, hub_lost0 = len(lost_lines(wh, proxy.port)), len(hub_lost_lines(hub))
            c0, h0 = connects(wh), hub_connects(hub)
            hung_at = time.time()
            assert [p.hang() for p in both] == [1, 1]
            t.run(until=lambda: (len(lost_lines(wh, proxy.port)) > lost0 and
                                 len(hub_lost_lines(hub)) > hub_lost0),
                  timeout=3 * KEEPALIVE_S + 10, what="the gateway and the hub to notice the hang")
            f["detected"].append(log_time(lost_lines(wh, proxy.port)[lost0]) - hung_at)
            f["hub_detected"].append(log_time(hub_lost_lines(hub)[hub_lost0]) - hung_at)
            f["hang_back"].append(t.run(until=lambda: back(c0, h0), timeout=20,
                                        what="both back after the hang"))

            # 3. Latency, 2 s +- 0.5 s per chunk each way on both links: the acks come after
            # resend_s.
            upto0 = streams(http, ADMIN, "A")[ledger]["applied_upto"]
            for p in both:
                p.set_latency(2.0, 0.5)
            t0 = time.monotonic()

            def moved():  # at least LATENCY_S, and until the stream moved through the links
                return (time.monotonic() - t0 >= LATENCY_S and
                        streams(http, ADMIN, "A")[ledger]["applied_upto"] > upto0)
            # A message and its ack cross both: 8 s and more, on top of the resubscriptions.
            f["slow"].append(t.run(until=moved, timeout=LATENCY_S + 30,
                                   what="the stream moving through the slow links"))
            for p in both:
                p.set_latency(0)

            # 4. A forced reconnect of both every 2 s.
            for _ in range(RECONNECTS):
                c0, h0 = connects(wh), hub_connects(hub)
                t0 = time.monotonic()
                assert [p.cut() for p in both] == [1, 1]
                t.run(until=lambda: back(c0, h0) and time.monotonic() - t0 >= 2.0, timeout=20,
                      what="both back after a forced reconnect")

        # The end: everything once, at the gateway and at the hub.
        t.run(until=lambda: int(wh.status("scan-1")["count"]) == 0 and wh.outbox_depth() == 0,
              timeout=60, what="the terminal's FIFO empty and the outbox acknowledged", feed=False)
        wait_for(lambda: wh.ledger_qty(SCALE_SKU) == t.count, timeout=30,
                 what="the scale's last count (%d) in the ledger" % t.count)
        wait_for(lambda: wh.outbox_depth() == 0, timeout=60, what="the outbox acknowledged")
        rows = wh.ledger_query("SELECT count(*), count(DISTINCT node || '/' || epoch || '/' || "
                               "seq) FROM scans")
        assert rows[0] == (t.events, t.events), (rows, t.events)
        last = wh.last_message_id()
        s = streams(http, ADMIN, "A")[ledger]
        assert s["applied_upto"] == last and s["applied"] == last, (s, last)
        assert s["duplicates"] > 0, s  # the resends did happen
        bolts = t.receives - t.picks
        hub_stock = stock_map(http, ADMIN, dealer="A")
        assert hub_stock[("A", "SKU-BOLT")]["qty"] == bolts == wh.ledger_qty("SKU-BOLT"), (
            hub_stock, bolts, wh.ledger_qty("SKU-BOLT"))
        assert hub_stock[("A", SCALE_SKU)]["qty"] == t.count, (hub_stock, t.count)

        def sold():
            h = api(http, "/api/v1/history?dealer=A&sku=SKU-BOLT&days=2", ADMIN)
            return sum(units for _, units in h["sales"])
        wait_for(lambda: sold() == t.picks, timeout=60,
                 what="the hub's sales at the %d picks (%d)" % (t.picks, sold()))
        numbers = sorted(n for (n,) in wh.ledger_query("SELECT number FROM orders"))
        assert len(numbers) == t.submitted, (numbers, t.submitted)
        hub_numbers = sorted(o["number"] for o in api(http, "/api/v1/orders?dealer=A", ADMIN))
        assert hub_numbers == numbers, (hub_numbers, numbers)
        wh.gateway.stop()  # writes the metrics file at exit
        m = parse_metrics(prom)
        sent, resent = m["depot_gw_messages_sent_total"], m["depot_gw_messages_resent_total"]
        ps = proxy.stats()

        detected, hub_detected = max(f["detected"]), max(f["hub_detected"])
        print("  %d round(s) of the four faults; cut: both back in %.2f s at most; hung (keepalive "
              "%d s both): detected by the gateway in %.2f s at most (%.2f x keepalive), by the "
              "hub in %.2f s (%.2f x), both back %.2f s later at most" %
              (ROUNDS, max(f["cut_back"]), KEEPALIVE_S, detected, detected / KEEPALIVE_S,
               hub_detected, hub_detected / KEEPALIVE_S, max(f["hang_back"])))
        print("  latency 2 s +- 0.5 s for %.1f s in all (the stream moved through it after "
              "%.1f s at most), %d forced reconnects 2 s apart; %d gateway and %d hub connections "
              "through the proxies in all" %
              (sum(f["slow"]), max(f["slow"]), RECONNECTS * ROUNDS, ps["accepted"],
               hub_proxy.stats()["accepted"]))
        print("  %d scans (%d picks), %d weights, %d signed orders: %d stream ids applied once at "
              "the hub; %d sent, %d of them resent, %d duplicates dropped by the hub; stock, "
              "sales and orders equal" % (t.receives + t.picks, t.picks, t.weights, t.submitted,
                                          last, sent, resent, s["duplicates"]))
        print("  the scale (period %d ms) never waited more than %.0f ms between polls; the "
              "hub's API answered %d requests, the slowest in %.0f ms" %
              (PERIOD_MS, t.max_gap * 1000, t.api_calls, t.max_api * 1000))
        assert detected <= 1.5 * KEEPALIVE_S, "hung link detected after %.2f s" % detected
        assert hub_detected <= 1.5 * KEEPALIVE_S, "hub: hung link detected after %.2f s" % (
            hub_detected)
        assert t.max_gap * 1000 < PERIOD_MS + NODE_TIMEOUT_MS, t.max_gap
        assert t.max_api < 5.0, t.max_api
        assert resent > 0, m


class _Closing:
    """Closes what was added to it (the proxy's thread) when the with block ends."""

    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)
        return item

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for item in reversed(self.items):
            item.close()
        return False


if __name__ == "__main__":
    main([test_cut_hung_slow_and_reconnected_links_count_everything_once])
