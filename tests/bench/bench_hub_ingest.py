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

Mode "backlog" (the default runs both): the subscriber is stopped (SIGSTOP;
still connected, so the broker keeps its QoS 1 messages: max_queued_messages
is 1,000,000 in depotctl's broker config) while mqtt_flood publishes all its
messages and the broker acknowledges them; then it is continued (SIGCONT) and
the figure is the rate at which it drains that backlog, first to last.

The table shows the median of --runs runs with the spread, and the ratio.
Messages stay under the hub's ingest queue (50,000), so none is dropped and
resent. Figures only: the run fails only when a program does not finish.
Besides: the hub's CPU per message and acks published per message (its
/metrics), and the subscriber's CPU per message.
"""
import argparse
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import Env  # noqa: E402
from broker import hub_identity, make_pki, start_broker  # noqa: E402
from hubenv import metrics, start_hub  # noqa: E402

TARGET = 0.80  # of the bare subscriber's rate
THINGSBOARD = 5000  # msg/s, ThingsBoard's published figure on 2 vCPU with Kafka and PostgreSQL
BARE = "bare libmosquitto subscriber (same broker, flood, shared subscription)"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dealers", type=int, default=200, help="default 200")
    ap.add_argument("--skus", type=int, default=100, help="messages per dealer, default 100")
    ap.add_argument("--runs", type=int, default=3, help="runs of each side, default 3")
    ap.add_argument("--timeout", type=float, default=300.0, help="bound on one run, default 300 s")
    ap.add_argument("--modes", default="live,backlog", help="live, backlog or both (default)")
    a = ap.parse_args()
    a.modes = [m for m in a.modes.split(",") if m]
    if not a.modes or any(m not in ("live", "backlog") for m in a.modes):
        ap.error("--modes: live, backlog or live,backlog")
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


def queue_backlog(env, pki, port, a, proc, name):
    """Stops proc, floods the broker (which keeps the messages for proc's session) until the
    broker has acknowledged every message, then continues proc."""
    os.kill(proc.p.pid, signal.SIGSTOP)
    try:
        pub = flood(env, pki, port, a, name)
        bl.wait_alive([], lambda: not pub.alive(), a.timeout, "mqtt_flood published")
        if "published=%d " % (a.dealers * a.skus) not in pub.out():
            raise AssertionError("mqtt_flood: %s" % pub.out()[-500:])
    finally:
        os.kill(proc.p.pid, signal.SIGCONT)
    return pub


def run_hub(env, pki, port, a, i, backlog=False):
    """One run of the hub: (messages per second, hub CPU us per message, acks per message)."""
    n = a.dealers * a.skus
    hub, http = start_hub(env, pki, port, name="hub-%d" % i, db=env.path("hub-%d.db" % i))
    m0 = metrics(http)
    base, acks0 = m0.get("depot_hub_messages_applied_total", 0.0), m0.get("depot_hub_acks_sent_total", 0.0)
    ticks0 = bl.cpu_ticks(hub.p.pid)
    if backlog:
        pub = queue_backlog(env, pki, port, a, hub, "flood-hub-%d" % i)
    else:
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
    acks = metrics(http).get("depot_hub_acks_sent_total", 0.0) - acks0
    hub.stop()
    secs = last[0] - first[0]
    rate = (last[1] - first[1]) / secs if secs > 0 else float("nan")
    return rate, ticks * 1e6 / os.sysconf("SC_CLK_TCK") / n, acks / n


def run_sink(env, pki, port, a, i, backlog=False):
    """One run of the bare subscriber: (messages per second, CPU us per message)."""
    n = a.dealers * a.skus
    cert, key = hub_identity(pki)
    sink = env.start("sink-%d" % i, [bl.testbin_path("mqtt_sink"), "--port", str(port), "--ca",
                                     pki["ca"], "--cert", cert, "--key", key, "--count", str(n),
                                     "--timeout-s", str(int(a.timeout))])
    bl.wait_alive([sink], lambda: "ready" in sink.out(), 30, "mqtt_sink subscribed")
    ticks0 = bl.cpu_ticks(sink.p.pid)
    if backlog:
        queue_backlog(env, pki, port, a, sink, "flood-sink-%d" % i)
    else:
        flood(env, pki, port, a, "flood-sink-%d" % i)
    ticks = [0]

    def done():
        if sink.alive():
            ticks[0] = bl.cpu_ticks(sink.p.pid) - ticks0  # the last reading before it exits
            return "received=" in sink.out()
        return True
    bl.wait_alive([], done, a.timeout, "mqtt_sink done", interval=0.01)
    bl.wait_alive([], lambda: not sink.alive(), a.timeout, "mqtt_sink exit")
    kv = bl.parse_kv(bl.last_line_with(sink.out(), "received"))
    if "complete" not in sink.out():
        raise AssertionError("mqtt_sink: %s" % sink.out()[-500:])
    return float(kv["rate"].rstrip("/s")), ticks[0] * 1e6 / os.sysconf("SC_CLK_TCK") / n


def spread(xs):
    return "%.0f (%.0f..%.0f)" % (statistics.median(xs), min(xs), max(xs))


def spread1(xs):
    return "%.2f (%.2f..%.2f)" % (statistics.median(xs), min(xs), max(xs))


def measure_mode(env, pki, port, a, mode, i0):
    """Alternating runs of hub and subscriber (drift on a shared machine hits both sides)."""
    hub, bare = [], []
    for i in range(a.runs):
        hub.append(run_hub(env, pki, port, a, i0 + i, backlog=mode == "backlog"))
        bare.append(run_sink(env, pki, port, a, i0 + i, backlog=mode == "backlog"))
    rates = [h[0] for h in hub]
    bare_rates = [b[0] for b in bare]
    ratio = statistics.median(rates) / statistics.median(bare_rates)
    what = "live" if mode == "live" else "draining a backlog"
    bl.table("hub ingest, %s: %d dealers x %d messages = %d per run, %d runs (median, "
             "min..max)" % (what, a.dealers, a.skus, a.dealers * a.skus, a.runs),
             ["figure", "depot-hub", "bare subscriber", "ratio", "target"],
             [["messages/s", spread(rates), spread(bare_rates), "%.2f" % ratio, ">= %.2f" % TARGET],
              ["CPU per message, us", spread([h[1] for h in hub]), spread([b[1] for b in bare]),
               "", ""],
              ["acks published per message", spread1([h[2] for h in hub]), "", "", ""]])
    bl.record("hub.ingest.%s" % mode, "hub ingest, %s, msg/s" % what, statistics.median(rates),
              "msg/s", BARE, statistics.median(bare_rates), "ratio>=%.1f" % TARGET)
    bl.record("hub.ingest.%s.cpu_per_msg" % mode, "hub ingest, %s, CPU per message" % what,
              statistics.median([h[1] for h in hub]), "us", BARE,
              statistics.median([b[1] for b in bare]), None)
    if mode == "live":
        bl.record("hub.ingest.acks_per_msg", "hub acks published per message, live",
                  statistics.median([h[2] for h in hub]), "acks/msg")
        bl.record("hub.ingest.vs_thingsboard", "hub ingest, live, beside ThingsBoard's published "
                  "figure", statistics.median(rates), "msg/s",
                  "ThingsBoard, published: 2 vCPU, Kafka + PostgreSQL (not measured here)",
                  THINGSBOARD, None)
    return ratio


def main():
    a = parse_args()
    with Env("bench-hub-ingest") as env:
        pki = make_pki(env, [], observers=4 * a.runs * len(a.modes) + 2)
        broker, port = start_broker(env, pki)
        for k, mode in enumerate(a.modes):
            measure_mode(env, pki, port, a, mode, k * a.runs)
    print("\nThingsBoard's published figure: %d msg/s on 2 vCPU with Kafka and PostgreSQL "
          "(not measured here)." % THINGSBOARD)
    return 0


if __name__ == "__main__":
    sys.exit(main())
