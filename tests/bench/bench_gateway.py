#!/usr/bin/python3
"""Benchmark: depot-gateway polling N scale nodes over Modbus TCP, beside a bare
libmodbus loop doing the same reads, in the same run.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_gateway.py --nodes 500 --seconds 30

Set-up, all real programs on 127.0.0.1: one `depot-node scale --tcp-range`
process serving N scale nodes on N consecutive ports; Mosquitto with mutual
TLS; depot-hub (so the gateway's messages are applied and acknowledged); the
gateway with one [node:NAME] section per port (30 input registers, the scale
block, every --period-ms).

1. Start the gateway and let it settle: every node answered at least two
   polls and the hub shows one stock row per node (bounded waits).
2. Measure the gateway over --seconds: CPU (utime + stime growth / wall, % of
   one core) and memory (VmRSS, VmHWM) from /proc, and the polls the nodes
   answered in the window (depot-node's per-port reply counters).
3. Stop the gateway; run tests/bench/modbus_bare_loop over the same nodes,
   let it make one full round, measure it the same way over the same window.

Prints a table of both and their ratio. Figures only: the exit status is
non-zero only when a run could not be made.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import Env  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from hubenv import start_hub, stock  # noqa: E402

DEALER = "BENCH"
TOKEN = "bench-viewer-token"
UNIT_WEIGHT_G = 100
TARGET_CPU_PCT = 5.0
TARGET_RSS = 16 * bl.MIB


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=500, help="scale nodes (1..4000), default 500")
    ap.add_argument("--seconds", type=float, default=30.0, help="measuring window, default 30")
    ap.add_argument("--period-ms", type=int, default=1000, help="poll period of every node")
    ap.add_argument("--settle-timeout", type=float, default=180.0,
                    help="bound on the wait for the gateway to settle, default 180 s")
    ap.add_argument("--poll-threads", type=int, default=None,
                    help="[gateway] poll_threads (default: the gateway's own default)")
    a = ap.parse_args()
    if not 1 <= a.nodes <= 4000 or not 1 <= a.seconds <= 600 or a.period_ms < 50:
        ap.error("--nodes 1..4000, --seconds 1..600, --period-ms >= 50")
    return a


def start_nodes(env, n):
    """One depot-node serving n scales; returns (proc, control path, ports)."""
    first = bl.free_port_range(n)
    ports = list(range(first, first + n))
    ctl = env.path("nodes.sock")
    proc = env.start("nodes", [bl.bin_path("depot-node"), "scale", "--tcp-range",
                               "127.0.0.1:%d-%d" % (ports[0], ports[-1]), "--control", ctl])
    bl.wait_alive([proc], lambda: "ready" in proc.out(), 60, "depot-node ready on %d ports" % n)
    c = bl.NodeControl(ctl)
    try:
        for i, p in enumerate(ports):  # 1..50 items on each shelf, so every count differs from 0
            c.command("port %d weight %d" % (p, (i % 50 + 1) * UNIT_WEIGHT_G))
    finally:
        c.close()
    return proc, ctl, ports


def write_gateway_config(env, pki, broker_port, ports, period_ms, poll_threads):
    d = pki["dealers"][DEALER]
    path = env.path("gateway.ini")
    with open(path, "w") as f:
        f.write("[gateway]\ndealer = %s\nledger = %s\nlog_level = info\n"
                % (DEALER, env.path("ledger.db")))
        if poll_threads:
            f.write("poll_threads = %d\n" % poll_threads)
        f.write("\n[mqtt]\nhost = 127.0.0.1\nport = %d\nca = %s\ncert = %s\nkey = %s\n\n"
                % (broker_port, pki["ca"], d["crt"], d["key"]))
        for i, p in enumerate(ports):
            f.write("[node:scale-%04d]\naddress = 127.0.0.1:%d\nkind = scale\nsku = SKU-%04d\n"
                    "unit_weight_g = %d\nperiod_ms = %d\n\n"
                    % (i, p, i, UNIT_WEIGHT_G, period_ms))
    return path


def log_problems(text):
    """Lines of a Depot log at warn or error level."""
    return [ln for ln in text.splitlines() if " warn " in ln or " error " in ln]


def run_gateway(env, a, pki, broker_port, http, nodes, ctl, ports):
    cfg = write_gateway_config(env, pki, broker_port, ports, a.period_ms, a.poll_threads)
    t0 = time.monotonic()
    gw = env.start("gateway", [bl.bin_path("depot-gateway"), "-c", cfg])
    procs = [gw, nodes]
    bl.wait_alive(procs, lambda: bl.min_replies(ctl, ports) >= 2, a.settle_timeout,
                  "every node polled twice by the gateway")
    bl.wait_alive(procs, lambda: len(stock(http, TOKEN, dealer=DEALER)) == len(ports),
                  a.settle_timeout, "the hub to show %d stock rows" % len(ports), interval=1.0)
    settle_s = time.monotonic() - t0
    bl.sleep_watching(procs, 2.0)
    problems0 = len(log_problems(gw.log()))
    m = bl.measure({"gateway": gw, "nodes": nodes}, a.seconds,
                   counter=lambda: bl.sum_replies(ctl, ports))
    m["settle_s"] = settle_s
    m["log_problems"] = log_problems(gw.log())[problems0:]
    gw.stop()
    return m


def run_bare(env, a, nodes, ctl, ports):
    bare = env.start("bare", [bl.testbin_path("modbus_bare_loop"), "--ports",
                              "%d-%d" % (ports[0], ports[-1]), "--period-ms", str(a.period_ms),
                              "--seconds", str(int(a.seconds + a.settle_timeout + 10))])
    procs = [bare, nodes]
    bl.wait_alive(procs, lambda: "ready" in bare.out(), 60, "modbus_bare_loop connected")
    floor = bl.min_replies(ctl, ports)
    bl.wait_alive(procs, lambda: bl.min_replies(ctl, ports) >= floor + 1, a.settle_timeout,
                  "one full round of the bare loop")
    bl.sleep_watching(procs, 2.0)
    m = bl.measure({"bare": bare, "nodes": nodes}, a.seconds,
                   counter=lambda: bl.sum_replies(ctl, ports))
    bare.stop()
    m["summary"] = bl.last_line_with(bare.out(), "polls")
    m["ready"] = bl.last_line_with(bare.out(), "nodes")
    return m


def report(a, g, b, n):
    gw, bare = g["gateway"], b["bare"]
    expected = n * a.seconds * 1000.0 / a.period_ms
    rows = [
        ["CPU, % of one core", "%.2f %%" % gw["cpu_pct"], "%.2f %%" % bare["cpu_pct"],
         bl.ratio(gw["cpu_pct"], bare["cpu_pct"])],
        ["CPU seconds in window", "%.2f" % gw["cpu_s"], "%.2f" % bare["cpu_s"],
         bl.ratio(gw["cpu_s"], bare["cpu_s"])],
        ["VmRSS (resident now)", bl.mib(gw["VmRSS"]), bl.mib(bare["VmRSS"]),
         bl.ratio(gw["VmRSS"], bare["VmRSS"])],
        ["VmHWM (resident peak)", bl.mib(gw["VmHWM"]), bl.mib(bare["VmHWM"]),
         bl.ratio(gw["VmHWM"], bare["VmHWM"])],
        ["  RssAnon (own heap, stacks)", bl.mib(gw["RssAnon"]), bl.mib(bare["RssAnon"]),
         bl.ratio(gw["RssAnon"], bare["RssAnon"])],
        ["  RssFile (mapped files, libs)", bl.mib(gw["RssFile"]), bl.mib(bare["RssFile"]),
         bl.ratio(gw["RssFile"], bare["RssFile"])],
        ["threads", gw["Threads"], bare["Threads"], ""],
        ["polls answered in window", g["counted"], b["counted"],
         bl.ratio(g["counted"], b["counted"])],
        ["  of expected (nodes x window / period)", "%.1f %%" % (100.0 * g["counted"] / expected),
         "%.1f %%" % (100.0 * b["counted"] / expected), ""],
        ["CPU per 1000 polls (ms)", "%.2f" % (1e6 * gw["cpu_s"] / max(g["counted"], 1)),
         "%.2f" % (1e6 * bare["cpu_s"] / max(b["counted"], 1)), ""],
        ["depot-node CPU meanwhile (simulator)", "%.2f %%" % g["nodes"]["cpu_pct"],
         "%.2f %%" % b["nodes"]["cpu_pct"], ""],
    ]
    bl.table("Gateway polling %d scale nodes over Modbus TCP on 127.0.0.1, 30 input registers "
             "each, every %d ms; window %.0f s" % (n, a.period_ms, a.seconds),
             ["figure", "depot-gateway", "bare libmodbus loop", "gateway/bare"], rows)
    print("\n  gateway settled in %.1f s (every node polled twice, %d rows at the hub); "
          "warnings/errors logged in the window: %d"
          % (g["settle_s"], n, len(g["log_problems"])))
    for line in g["log_problems"][:5]:
        print("    " + line)
    print("  bare loop: %s; %s" % (b["ready"].strip(), b["summary"].strip()))
    print("  targets: CPU < %.0f %% of one core -> %.2f %% (%s); resident < 16 MiB -> "
          "VmRSS %s, VmHWM %s (%s)"
          % (TARGET_CPU_PCT, gw["cpu_pct"], "within" if gw["cpu_pct"] < TARGET_CPU_PCT else "above",
             bl.mib(gw["VmRSS"]), bl.mib(gw["VmHWM"]),
             "within" if gw["VmHWM"] < TARGET_RSS else "above"))
    print("  external reference, not measured here: Neuron (a published gateway) used about "
          "124 % of one core and about 100 MB for this load")


def main():
    a = parse_args()
    with Env("bench-gw") as env:
        pki = make_pki(env, [DEALER])
        broker, broker_port = start_broker(env, pki)
        hub, http = start_hub(env, pki, broker_port, tokens={"viewer": TOKEN}, log_level="info")
        nodes, ctl, ports = start_nodes(env, a.nodes)
        g = run_gateway(env, a, pki, broker_port, http, nodes, ctl, ports)
        b = run_bare(env, a, nodes, ctl, ports)
        report(a, g, b, a.nodes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
