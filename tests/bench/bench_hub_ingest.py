#!/usr/bin/python3
"""Benchmark: depot-hub ingesting stock messages live, beside a bare libmosquitto
subscriber taking the same messages from the same broker in the same run.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_hub_ingest.py --dealers 200 --skus 100 --runs 3

Set-up, all real programs on 127.0.0.1: Mosquitto with mutual TLS, and the
publisher tests/bench/mqtt_flood with --window 0: D dealers' streams of S
stock messages each, encoded by the codec the gateways use, paced by the
broker alone (QoS 1), as fast as it takes them. Each run, twice:

  depot-hub   (SQLite, the shared subscription) applies every message exactly
              once; the figure is messages applied per second, from the first
              applied to the last (a bounded poll of its /metrics every 20 ms),
              and its CPU per message (/proc)
  mqtt_sink   the bare subscriber: the same shared subscription at QoS 1,
              counting messages and nothing else; messages per second from
              its first to its last

The table shows the median of --runs runs with the spread, and the ratio.
Messages stay under the hub's ingest queue (50,000), so none is dropped and
resent. Figures only: the run fails only when a program does not finish.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import Env  # noqa: E402
from broker import hub_identity, make_pki, start_broker  # noqa: E402
from hubenv import metrics, start_hub  # noqa: E402

TARGET = 0.80  # of the bare subscriber's rate


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dealers", type=int, default=200, help="default 200")
    ap.add_argument("--skus", type=int, default=100, help="messages per dealer, default 100")
    ap.add_argument("--runs", type=int, default=3, help="runs of each side, default 3")
    ap.add_argument("--timeout", type=float, default=300.0, help="bound on one run, default 300 s")
    a = ap.parse_args()
    if not 1 <= a.dealers <= 10000 or not 1 <= a.skus <= 1000 or a.dealers * a.skus > 40000:
        ap.error("--dealers 1..10000, --skus 1..1000, dealers x skus <= 40000")
    if not 1 <= a.runs <= 20:
        ap.error("--runs 1..20")
    return a


def flood(env, pki, port, a, name):
    cert, key = hub_identity(pki)
    return env.start(name, [bl.testbin_path("mqtt_flood"), "--port", str(port), "--ca", pki["ca"],
                            "--cert", cert, "--key", key, "--dealers", str(a.dealers),
                            "--skus", str(a.skus), "--window", "0",
                            "--timeout-s", str(int(a.timeout))])


def applied(http):
    return metrics(http).get("depot_hub_messages_applied_total", 0.0)


def run_hub(env, pki, port, a, i):
    """One run of the hub: (messages per second, hub CPU microseconds per message)."""
    n = a.dealers * a.skus
    hub, http = start_hub(env, pki, port, name="hub-%d" % i, db=env.path("hub-%d.db" % i))
    base, ticks0 = applied(http), bl.cpu_ticks(hub.p.pid)
    pub = flood(env, pki, port, a, "flood-hub-%d" % i)
    first = last = None
    deadline = time.monotonic() + a.timeout
    while True:
        got = applied(http) - base
        now = time.monotonic()
        if got > 0 and first is None:
            first = (now, got)
        if got >= n:
            last = (now, got)
            break
        if now >= deadline or not hub.alive():
            raise AssertionError("the hub applied %d of %d:\n%s" % (got, n, hub.log()[-2000:]))
        time.sleep(0.02)
    ticks = bl.cpu_ticks(hub.p.pid) - ticks0
    bl.wait_alive([], lambda: not pub.alive(), a.timeout, "mqtt_flood done")
    hub.stop()
    secs = last[0] - first[0]
    rate = (last[1] - first[1]) / secs if secs > 0 else float("nan")
    return rate, ticks * 1e6 / os.sysconf("SC_CLK_TCK") / n


def run_sink(env, pki, port, a, i):
    """One run of the bare subscriber: messages per second."""
    n = a.dealers * a.skus
    cert, key = hub_identity(pki)
    sink = env.start("sink-%d" % i, [bl.testbin_path("mqtt_sink"), "--port", str(port), "--ca",
                                     pki["ca"], "--cert", cert, "--key", key, "--count", str(n),
                                     "--timeout-s", str(int(a.timeout))])
    bl.wait_alive([sink], lambda: "ready" in sink.out(), 30, "mqtt_sink subscribed")
    flood(env, pki, port, a, "flood-sink-%d" % i)
    bl.wait_alive([], lambda: not sink.alive(), a.timeout, "mqtt_sink done")
    kv = bl.parse_kv(bl.last_line_with(sink.out(), "received"))
    if "complete" not in sink.out():
        raise AssertionError("mqtt_sink: %s" % sink.out()[-500:])
    return float(kv["rate"].rstrip("/s"))


def spread(xs):
    return "%.0f (%.0f..%.0f)" % (statistics.median(xs), min(xs), max(xs))


def main():
    a = parse_args()
    n = a.dealers * a.skus
    with Env("bench-hub-ingest") as env:
        pki = make_pki(env, [], observers=4 * a.runs + 2)
        broker, port = start_broker(env, pki)
        hub_rates, hub_us, bare = [], [], []
        for i in range(a.runs):  # alternating, so drift on a shared machine hits both sides
            r, us = run_hub(env, pki, port, a, i)
            hub_rates.append(r)
            hub_us.append(us)
            bare.append(run_sink(env, pki, port, a, i))
        ratio = statistics.median(hub_rates) / statistics.median(bare)
        bl.table("hub ingest, live: %d dealers x %d messages = %d per run, %d runs (median, "
                 "min..max)" % (a.dealers, a.skus, n, a.runs),
                 ["figure", "depot-hub", "bare subscriber", "ratio", "target"],
                 [["messages/s", spread(hub_rates), spread(bare), "%.2f" % ratio,
                   ">= %.2f" % TARGET],
                  ["hub CPU per message, us", spread(hub_us), "", "", ""]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
