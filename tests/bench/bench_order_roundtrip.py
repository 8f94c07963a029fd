#!/usr/bin/python3
"""Benchmark: an order's round trip on loopback, from the submit at the scanner
terminal to "ORDER <n> APPROVED" on its display, for auto-approved orders.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_order_roundtrip.py --orders 1000 --period-ms 200,50

Set-up, all real programs on 127.0.0.1, one deployment per terminal poll
period: Mosquitto with mutual TLS, depot-hub (log level info) with the
catalog imported and dealer A's credit and auto-approval limits so high that
every order is approved by `auto` (as tests/system/test_orders_e2e.py's
Deployment does), and one warehouse: a depot-node scanner terminal polled by
depot-gateway every P ms (tests/system/gwenv.py start_warehouse).

For each order, over one connection to the terminal's control socket: wait
a random 0..P ms (so the submit falls at a random phase of the poll, as a
person's would, not always just after the poll that showed the previous
decision), scan 1..3 order lines (`scan line BARCODE QTY`), then `submit` at once (as staff
press submit right after the last scan) and, from the moment the submit is
sent, read `display` every --interval-ms (1 ms) until it reads "ORDER <n>
APPROVED" (bounded: --order-timeout per order). The next order starts after
that.

Printed per period: p50, p90, p99, max and mean of the round trip, beside the
target (100 ms + one poll period), and where the time goes, from the
gateway's log timestamps (ms, wall clock, same machine): submit -> order
signed and queued (the gateway's poll of the terminal), signed -> decision
back at the gateway (outbox, broker, hub, broker), decision -> seen on the
display (the next poll writes it); and the hub's own mean from creation to
approval (/metrics depot_hub_order_approval_seconds, path auto). Never
pass/fail.
"""
import argparse
import calendar
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import Env, wait_for  # noqa: E402
from broker import depotctl, make_pki, start_broker  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from hubenv import call, metrics, start_hub  # noqa: E402

ADMIN = "bench-admin-token"
TARGET_MS = 100.0
BARCODES = ["4006381333931", "4006381333948", "4006381333955"]
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,%s,2.50,100,1,500,20,7,100000000
SKU-NUT,%s,0.40,10,1,1000,50,7,100000000
SKU-WASHER,%s,0.10,5,1,2000,100,7,100000000
""" % tuple(BARCODES)
SIGNED = re.compile(r"^(\S+Z) .*order (\d+) \((\S+)\) from ")
DECIDED = re.compile(r"^(\S+Z) .*order (\d+) \((\S+)\): approved")
LAT = "depot_hub_order_approval_seconds_%s{path=\"auto\"}"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=1000, help="orders per period, default 1000")
    ap.add_argument("--period-ms", default="200,50",
                    help="terminal poll periods, comma separated; default 200,50")
    ap.add_argument("--interval-ms", type=float, default=1.0,
                    help="display read interval, default 1 ms")
    ap.add_argument("--order-timeout", type=float, default=10.0, help="per order, default 10 s")
    ap.add_argument("--seconds", type=float, default=900.0,
                    help="bound on each period's run, default 900 s")
    a = ap.parse_args()
    a.periods = [int(p) for p in a.period_ms.split(",") if p]
    if not 1 <= a.orders <= 100000 or not a.periods or min(a.periods) < 10:
        ap.error("--orders 1..100000, --period-ms >= 10")
    return a


def wall_ms(stamp):
    """ms since the epoch of a log stamp 2026-11-27T08:40:01.123Z."""
    sec, _, ms = stamp.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(sec, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(ms or 0)


def deploy(env, period):
    pki = make_pki(env, ["A"])
    broker, port = start_broker(env, pki)
    hub, http = start_hub(env, pki, port, tokens={"admin": ADMIN}, log_level="info")
    csv = env.path("catalog.csv")
    with open(csv, "w") as f:
        f.write(CATALOG)
    depotctl("catalog", "import", csv, "--hub", "http://127.0.0.1:%d" % http, "--token", ADMIN)
    call(http, "PATCH", "/api/v1/dealers/A", ADMIN,
         {"credit_limit": "999999999.00", "auto_approve_limit": "999999.00"}, expect=None)
    wh = start_warehouse(env, pki, port, "A", scanners=["scan-1"], scanner_period_ms=period,
                         snapshot_period_s=300)
    wait_for(lambda: wh.ledger_query("SELECT count(*) FROM catalog")[0][0] == len(BARCODES),
             timeout=30, what="the catalog in the gateway's ledger")
    return hub, http, broker, wh


def one_order(ctl, i, a, last, rng, period):
    """Random phase, scan lines, submit; (round trip ms, submit wall ms, seen wall ms, number)."""
    time.sleep(rng.uniform(0, period / 1000.0))
    for k in range(1 + i % 3):
        ctl.command("scan line %s %d" % (BARCODES[(i + k) % len(BARCODES)], 1 + k))
    t_wall = time.time() * 1000.0
    t0 = time.monotonic()
    ctl.command("submit")
    deadline = t0 + a.order_timeout
    pause = a.interval_ms / 1000.0
    while True:
        text = ctl.command("display").split(" ", 2)[2:]
        text = text[0] if text else ""
        parts = text.split()
        if (len(parts) >= 3 and parts[0] == "ORDER" and parts[1].isdigit()
                and int(parts[1]) > last):
            if parts[2] == "APPROVED":
                now = time.monotonic()
                return (now - t0) * 1000.0, t_wall, time.time() * 1000.0, int(parts[1])
            if parts[2] in ("REJECTED", "WAITING"):
                raise AssertionError("order %s was not auto-approved: %r" % (parts[1], text))
        if time.monotonic() >= deadline:
            raise AssertionError("order %d: no APPROVED within %.0f s (display %r)"
                                 % (i + 1, a.order_timeout, text))
        time.sleep(pause)


def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round((len(s) - 1) * p / 100.0)))]


def split(wh, runs):
    """{number: (signed wall ms, decided wall ms)} from the gateway's log."""
    signed, decided = {}, {}
    for line in wh.gateway.log().splitlines():
        m = SIGNED.match(line)
        if m:
            signed[int(m.group(2))] = wall_ms(m.group(1))
            continue
        m = DECIDED.match(line)
        if m:
            decided.setdefault(int(m.group(2)), wall_ms(m.group(1)))
    parts = {"submit -> signed (gateway poll)": [], "signed -> decision at gateway": [],
             "decision -> on display (poll)": []}
    for rt, t_sub, t_seen, n in runs:
        if n in signed and n in decided:
            parts["submit -> signed (gateway poll)"].append(signed[n] - t_sub)
            parts["signed -> decision at gateway"].append(decided[n] - signed[n])
            parts["decision -> on display (poll)"].append(t_seen - decided[n])
    return parts


def run_period(a, period):
    with Env("bench-roundtrip") as env:
        hub, http, broker, wh = deploy(env, period)
        procs = [hub, broker, wh.gateway] + wh.nodes
        ctl = bl.NodeControl(wh.controls["scan-1"])
        try:
            rng = random.Random(period)
            one_order(ctl, 0, a, 0, rng, period)  # warm-up: TLS, caches, the certificate
            last = 1
            m0 = metrics(http)
            w = bl.Window({"gateway": wh.gateway, "hub": hub, "broker": broker})
            runs = []
            end = time.monotonic() + a.seconds
            for i in range(a.orders):
                if time.monotonic() >= end:
                    break
                if i % 50 == 0:
                    for p in procs:
                        if not p.alive():
                            raise AssertionError("%s exited:\n%s" % (p.name, p.log()[-3000:]))
                r = one_order(ctl, i + 1, a, last, rng, period)
                last = r[3]
                runs.append(r)
            cpu = w.close()
            m1 = metrics(http)
        finally:
            ctl.close()
        parts = split(wh, runs)
    n = m1.get(LAT % "count", 0) - m0.get(LAT % "count", 0)
    s = m1.get(LAT % "sum", 0) - m0.get(LAT % "sum", 0)
    return runs, parts, (1000.0 * s / n if n else float("nan")), cpu


def report(a, results):
    rows = []
    for period, (runs, parts, hub_ms, cpu) in results:
        rt = [r[0] for r in runs]
        target = TARGET_MS + period
        rows.append(["%d ms" % period, len(rt), "%.1f" % pct(rt, 50), "%.1f" % pct(rt, 90),
                     "%.1f" % pct(rt, 99), "%.1f" % max(rt), "%.1f" % (sum(rt) / len(rt)),
                     "%.0f" % target, "%.2f" % (pct(rt, 99) / target)])
        bl.record("orders.roundtrip_p99.p%d" % period,
                  "order round trip p99, submit to APPROVED on the display, poll every %d ms"
                  % period, round(pct(rt, 99), 1), "ms", "target: 100 ms + the poll period",
                  target, "ratio<=1")
    bl.table("Order round trip, submit at the terminal -> \"ORDER n APPROVED\" on its display "
             "(auto-approved, 1-3 lines, display read every %g ms)" % a.interval_ms,
             ["poll period", "orders", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms",
              "target p99 ms (100 + period)", "p99 / target"], rows)
    for period, (runs, parts, hub_ms, cpu) in results:
        srows = [[k, len(v), "%.1f" % pct(v, 50), "%.1f" % pct(v, 90), "%.1f" % pct(v, 99),
                  "%.1f" % (max(v) if v else float("nan"))] for k, v in parts.items()]
        srows.append(["hub: created -> approved (mean, /metrics)", len(runs), "", "", "",
                      "%.1f mean" % hub_ms])
        bl.table("Where the time goes at %d ms (gateway log stamps, 1 ms resolution)" % period,
                 ["segment", "orders", "p50 ms", "p90 ms", "p99 ms", "max ms"], srows)
        print("  CPU over the run, %% of one core: gateway %.1f %%, hub %.1f %%, broker %.1f %%"
              % (cpu["gateway"]["cpu_pct"], cpu["hub"]["cpu_pct"], cpu["broker"]["cpu_pct"]))
    print("\n  Each submit falls at a random phase of the terminal's poll (the order is read at "
          "the next poll);\n  the decision is written to the display as soon as it reaches "
          "the gateway, out of the poll cycle.")


def main():
    a = parse_args()
    results = [(p, run_period(a, p)) for p in a.periods]
    report(a, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
