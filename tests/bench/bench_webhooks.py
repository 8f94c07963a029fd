#!/usr/bin/python3
"""Webhook delivery: events per second delivered to a local receiver, the delay from a fact
to its delivery (p50, p99), and the drain rate of the backlog an outage of the receiver left,
beside the same receiver's rate for a bare keep-alive POST loop in the same run. Full size:

    python3 tests/bench/bench_webhooks.py --events 5000 --rate 200 --outage-events 36000

Set-up, all real programs on 127.0.0.1: Mosquitto with mutual TLS and depot-hub on SQLite
([webhooks] poll_ms --poll-ms, 1000 as by default: a fact's commit wakes the worker; backoff
from 100 ms capped at --backoff-cap-s), one subscription of
payment.recorded to a receiver of this script's own (HTTP/1.1 keep-alive, answers 200 at
once, checks nothing: its own cost stays out of the figure's way; it records each event's
id and arrival time). Facts are payments imported through the API (POST
/api/v1/payments/import), whose events are written in the import's transaction; an event's
"time" is its fact's time, so delay = arrival - time. Runs:

  baseline   a bare keep-alive POST loop of the same bodies to the same receiver, serial
             (the hub's worker sends one delivery at a time): the receiver's limit
  flood      --events payments in imports of 1000 at once: events delivered per second
             from the first delivery to the last
  live       payments at --rate per second for --seconds (imports of rate/10 every 100 ms):
             the delay from each fact to its delivery, p50 and p99
  outage     the receiver down (connections refused); --outage-events payments (an hour of
             traffic at 10 per second by default) queued while every attempt fails; the
             receiver back: the wait to the first delivery (the back-off, at most the cap:
             [webhooks] backoff_cap_s, 3600 s by default, --backoff-cap-s here) and the drain
             rate from the first delivery to the last

Every event is checked delivered once (by id), in order. Prints one table and keeps its
figures for bench_all.py.
"""
import argparse
import calendar
import http.client
import http.server
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import Env, free_port_range, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from hubenv import call, metrics, set_dealer, start_hub  # noqa: E402

ADMIN = "bench-admin-token"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=5000, help="flood: events, default 5000")
    ap.add_argument("--rate", type=int, default=200, help="live: facts per second, default 200")
    ap.add_argument("--seconds", type=int, default=10, help="live: how long, default 10")
    ap.add_argument("--outage-events", type=int, default=36000,
                    help="outage: events queued while the receiver is down, default 36000 "
                         "(an hour at 10/s)")
    ap.add_argument("--poll-ms", type=int, default=1000,
                    help="[webhooks] poll_ms, default 1000 (the hub's default)")
    ap.add_argument("--backoff-cap-s", type=int, default=5,
                    help="[webhooks] backoff_cap_s of the hub, default 5")
    ap.add_argument("--baseline", type=int, default=3000, help="bare POSTs, default 3000")
    ap.add_argument("--timeout", type=float, default=1200, help="bound on each wait, s")
    a = ap.parse_args()
    if a.events < 1 or a.rate < 10 or a.seconds < 1 or a.outage_events < 1:
        ap.error("--events >= 1, --rate >= 10, --seconds >= 1, --outage-events >= 1")
    return a


class Receiver:
    """Records (event id, event time, arrival) of each POST; 200 at once."""

    def __init__(self, port):
        self.port, self.server, self.lock = port, None, threading.Lock()
        self.arrivals = []  # (id, fact ms, arrival ms)
        self.ids = set()
        self.duplicates = 0
        self.conns = set()  # open keep-alive connections: cut when the receiver goes down

    def start(self):
        rcv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                with rcv.lock:
                    rcv.conns.add(self.request)

            def finish(self):
                with rcv.lock:
                    rcv.conns.discard(self.request)
                super().finish()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.time() * 1000.0
                try:
                    ev = json.loads(body)
                    fact = ev["time"]
                    ms = calendar.timegm(time.strptime(fact[:19], "%Y-%m-%dT%H:%M:%S")) \
                        * 1000.0 + int(fact[20:23])
                    with rcv.lock:
                        if ev["id"] in rcv.ids:
                            rcv.duplicates += 1
                        else:
                            rcv.ids.add(ev["id"])
                            rcv.arrivals.append((ev["id"], ms, now, ev["data"].get("ref", "")))
                except (ValueError, KeyError):
                    pass
                self.send_response(200)
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
        with self.lock:
            for c in list(self.conns):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def count(self):
        with self.lock:
            return len(self.arrivals)

    def reset(self):
        with self.lock:
            self.arrivals = []


def baseline(port, n):
    """A bare keep-alive POST loop to the receiver: POSTs per second."""
    body = json.dumps({"id": "0" * 32, "type": "payment.recorded",
                       "time": "2026-12-05T00:00:00.000Z",
                       "data": {"payment": 1, "dealer": "A", "amount": "1.00", "order": "",
                                "ref": "x"}}).encode()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    t0 = time.monotonic()
    for _ in range(n):
        c.request("POST", "/base", body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
    s = time.monotonic() - t0
    c.close()
    return n / s


def pay(http_port, refs):
    """One import of payments with these refs (their events written in its transaction)."""
    call(http_port, "POST", "/api/v1/payments/import", ADMIN,
         {"payments": [{"line": i + 2, "dealer": "A", "amount": "1.00", "ref": r}
                       for i, r in enumerate(refs)]})


def wait_count(rcv, n, timeout, what):
    wait_for(lambda: rcv.count() >= n, timeout=timeout, interval=0.05, what=what)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")


def check_order(rcv, refs, what):
    got = [a[3] for a in rcv.arrivals]
    assert got == refs, "%s: not every event once and in order (%d of %d)" % (
        what, len(got), len(refs))


def main():
    a = parse_args()
    with Env("bench-webhooks") as env:
        port = free_port_range(1)
        rcv = Receiver(port)
        rcv.start()
        pki = make_pki(env, ["A"])
        _, broker_port = start_broker(env, pki)
        hooks = {"webhooks": {"poll_ms": str(a.poll_ms), "backoff_base_ms": "100",
                              "backoff_cap_s": str(a.backoff_cap_s), "timeout_s": "5",
                              "connect_timeout_s": "1", "stock_period_s": "0"}}
        _, http_port = start_hub(env, pki, broker_port, tokens={"admin": ADMIN},
                                 log_level="info", extra=hooks)
        set_dealer(http_port, ADMIN, "A", patch=False, name="Dealer A")
        call(http_port, "POST", "/api/v1/webhooks", ADMIN,
             {"url": "http://127.0.0.1:%d/erp" % port, "types": ["payment.recorded"]},
             expect=201)

        base = baseline(port, a.baseline)
        rcv.reset()

        # flood
        refs = ["f%d" % i for i in range(a.events)]
        for i in range(0, a.events, 1000):
            pay(http_port, refs[i:i + 1000])
        wait_count(rcv, a.events, a.timeout, "the flood delivered")
        check_order(rcv, refs, "flood")
        first, last = rcv.arrivals[0][2], rcv.arrivals[-1][2]
        flood = (a.events - 1) / max(1e-3, (last - first) / 1000.0)
        rcv.reset()

        # live: a steady rate of facts
        refs, per_tick = [], max(1, a.rate // 10)
        t0 = time.monotonic()
        for tick in range(a.seconds * 10):
            batch = ["l%d" % (tick * per_tick + j) for j in range(per_tick)]
            pay(http_port, batch)
            refs += batch
            delay = t0 + (tick + 1) * 0.1 - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the pace of the facts, not a wait for a condition
        wait_count(rcv, len(refs), a.timeout, "the live events delivered")
        check_order(rcv, refs, "live")
        delays = [arr - fact for _, fact, arr, _ in rcv.arrivals]
        rcv.reset()

        # outage: the receiver down while an hour of events is queued
        rcv.stop()
        refs = ["o%d" % i for i in range(a.outage_events)]
        t_down = time.time()
        for i in range(0, a.outage_events, 1000):
            pay(http_port, refs[i:i + 1000])
        queue_s = time.time() - t_down
        wait_for(lambda: metrics(http_port).get("depot_hub_webhooks_failed_attempts_total", 0) > 0,
                 timeout=30, what="the hub's attempts failing")
        time.sleep(2 * a.backoff_cap_s)  # the outage lasts: the back-off reaches its cap
        rcv = Receiver(port)
        t_back = time.time() * 1000.0
        rcv.start()
        wait_count(rcv, a.outage_events, a.timeout, "the backlog drained")
        check_order(rcv, refs, "outage")
        first, last = rcv.arrivals[0][2], rcv.arrivals[-1][2]
        drain = (a.outage_events - 1) / max(1e-3, (last - first) / 1000.0)
        wait_first = (first - t_back) / 1000.0
        dupes = rcv.duplicates
        rcv.stop()

    p50, p99 = pct(delays, 50), pct(delays, 99)
    print("mode=baseline posts=%d rate=%.0f/s" % (a.baseline, base))
    print("mode=flood events=%d rate=%.0f/s" % (a.events, flood))
    print("mode=live rate_in=%d/s events=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f"
          % (a.rate, len(delays), p50, p99, max(delays)))
    print("mode=outage events=%d queued_in_s=%.1f first_after_s=%.2f drain_rate=%.0f/s "
          "duplicates=%d" % (a.outage_events, queue_s, wait_first, drain, dupes))
    rows = [
        ["baseline: bare keep-alive POST loop, same receiver", "%.0f /s" % base, ""],
        ["flood: events delivered per second", "%.0f /s" % flood, "%.2fx" % (flood / base)],
        ["live at %d facts/s: delay fact -> delivery p50" % a.rate, "%.1f ms" % p50, ""],
        ["live at %d facts/s: delay fact -> delivery p99" % a.rate, "%.1f ms" % p99, ""],
        ["outage of %d events: first delivery after the receiver is back" % a.outage_events,
         "%.2f s" % wait_first, "cap %d s" % a.backoff_cap_s],
        ["outage: backlog drained per second", "%.0f /s" % drain, "%.2fx" % (drain / base)],
    ]
    bl.table("Webhook delivery (one subscription, this machine, one run)",
             ["figure", "Depot", "vs baseline"], rows)
    bl.record("webhooks.events_per_s", "webhook events delivered per second (flood)", flood,
              "events/s", "bare keep-alive POST loop to the same receiver", base)
    bl.record("webhooks.delay_p99_ms", "webhook delay fact -> delivery p99 at %d/s" % a.rate, p99,
              "ms")
    bl.record("webhooks.drain_per_s", "webhook backlog drained per second after an outage",
              drain, "events/s", "bare keep-alive POST loop to the same receiver", base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
