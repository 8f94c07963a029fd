#!/usr/bin/python3
"""Benchmark: depot-gateway's footprint in a small warehouse, two scale nodes
(one over Modbus TCP, one over Modbus RTU on a pseudo-terminal line), and the
size of its binary; beside a bare libmodbus loop over the same two nodes.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_gateway_small.py --seconds 20

Set-up, all real programs on 127.0.0.1: Mosquitto with mutual TLS, depot-hub,
two depot-node processes (tests/system/gwenv.py start_warehouse: one TCP
node, one RTU line at 19200 baud with unit 1) and the gateway polling both
every --period-ms. After settling (both nodes polled three times, both stock
rows at the hub, the first movements batch gone and acknowledged) nothing
changes: the gateway's CPU (the sum of /proc/PID/task/*/schedstat over its
threads, in ns; a clock tick would be 0.05 % of a 20 s window) and memory are
measured over --seconds; then the gateway stops and
tests/bench/modbus_bare_loop polls the same two nodes and is measured the same
way. With DEPOT_BENCH_RESULTS set, the gateway's CPU is kept for bench_all.py
as gateway.idle_cpu (% of one core, beside the bare loop's; target under 0.1).

Binary size: build/bin/depot-gateway as built (RelWithDebInfo carries debug
information) and a copy stripped with `strip --strip-all`, beside the same
for modbus_bare_loop; `size` gives the loaded text, data and bss.
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from bench_gateway import MOVEMENTS_PERIOD_S, measure  # noqa: E402
from harness import Env  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402
from hubenv import start_hub, stock  # noqa: E402

DEALER = "SMALL"
TOKEN = "bench-viewer-token"
TARGET_RSS = 16 * bl.MIB


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="measuring window, default 20")
    ap.add_argument("--period-ms", type=int, default=1000, help="poll period, default 1000")
    ap.add_argument("--settle-timeout", type=float, default=60.0, help="default 60 s")
    a = ap.parse_args()
    if not 1 <= a.seconds <= 600 or a.period_ms < 50:
        ap.error("--seconds 1..600, --period-ms >= 50")
    return a


def replies(wh):
    return sum(int(wh.status(n)["replies"]) for n in wh.controls)


def fewest_replies(wh):
    return min(int(wh.status(n)["replies"]) for n in wh.controls)


def run_gateway(env, a, pki, broker_port, http):
    wh = start_warehouse(env, pki, broker_port, DEALER, tcp=[("scale-t", "SKU-T")],
                         rtu=[("scale-r", 1, "SKU-R")], period_ms=a.period_ms,
                         snapshot_period_s=300)
    for i, node in enumerate(wh.controls):
        wh.weight(node, (7 + i) * UNIT_WEIGHT_G)
    procs = [wh.gateway] + wh.nodes
    bl.wait_alive(procs, lambda: fewest_replies(wh) >= 3, a.settle_timeout,
                  "both nodes polled three times")
    bl.wait_alive(procs, lambda: len(stock(http, TOKEN, dealer=DEALER)) == 2, a.settle_timeout,
                  "both stock rows at the hub", interval=0.5)
    # the counts were movements: their batch goes MOVEMENTS_PERIOD_S later, then its ack
    bl.sleep_watching(procs, MOVEMENTS_PERIOD_S + 3.0)
    m = measure({"gateway": wh.gateway}, a.seconds, lambda: replies(wh), None, None, 0)
    wh.gateway.stop()
    return wh, m


def run_bare(env, a, wh):
    tcp = wh.nodes[0].argv[wh.nodes[0].argv.index("--tcp") + 1]
    port = tcp.rpartition(":")[2]
    link = os.path.join(wh.dir, "rs485-0")
    bare = env.start("bare", [bl.testbin_path("modbus_bare_loop"), "--ports", "%s-%s" % (port, port),
                              "--rtu", link, "--baud", "19200", "--units", "1",
                              "--period-ms", str(a.period_ms),
                              "--seconds", str(int(a.seconds + a.settle_timeout + 10))])
    procs = [bare] + wh.nodes
    bl.wait_alive(procs, lambda: "ready" in bare.out(), 30, "modbus_bare_loop connected")
    floor = fewest_replies(wh)
    bl.wait_alive(procs, lambda: fewest_replies(wh) >= floor + 1, a.settle_timeout,
                  "one round of the bare loop")
    bl.sleep_watching(procs, 2.0)
    m = measure({"bare": bare}, a.seconds, lambda: replies(wh), None, None, 0)
    bare.stop()
    m["summary"] = bl.last_line_with(bare.out(), "polls")
    return m


def sizes(env, path):
    """(bytes as built, bytes stripped, text+data+bss of the stripped copy, shared libs loaded)."""
    copy = env.path(os.path.basename(path) + ".stripped")
    shutil.copyfile(path, copy)
    subprocess.run(["strip", "--strip-all", copy], check=True, timeout=60)
    out = subprocess.run(["size", copy], check=True, timeout=60, capture_output=True,
                         text=True).stdout.splitlines()[1].split()
    libs = subprocess.run(["ldd", path], check=True, timeout=60, capture_output=True,
                          text=True).stdout
    n_libs = sum(1 for ln in libs.splitlines() if "=>" in ln)
    return os.stat(path).st_size, os.stat(copy).st_size, int(out[3]), n_libs


def report(a, g, b, gsz, bsz):
    gw, bare = g["gateway"], b["bare"]
    kib = lambda n: "%.1f KiB" % (n / 1024.0)  # noqa: E731
    rows = [
        ["VmRSS (resident now)", bl.mib(gw["VmRSS"]), bl.mib(bare["VmRSS"]),
         bl.ratio(gw["VmRSS"], bare["VmRSS"])],
        ["VmHWM (resident peak)", bl.mib(gw["VmHWM"]), bl.mib(bare["VmHWM"]),
         bl.ratio(gw["VmHWM"], bare["VmHWM"])],
        ["  RssAnon (own heap, stacks)", bl.mib(gw["RssAnon"]), bl.mib(bare["RssAnon"]),
         bl.ratio(gw["RssAnon"], bare["RssAnon"])],
        ["  RssFile (mapped files, libs)", bl.mib(gw["RssFile"]), bl.mib(bare["RssFile"]),
         bl.ratio(gw["RssFile"], bare["RssFile"])],
        ["threads", gw["Threads"], bare["Threads"], ""],
        ["CPU, % of one core", "%.3f %%" % gw["cpu_pct"], "%.3f %%" % bare["cpu_pct"],
         bl.ratio(gw["cpu_pct"], bare["cpu_pct"])],
        ["polls answered in window", g["counted"], b["counted"],
         bl.ratio(g["counted"], b["counted"])],
        ["binary as built", kib(gsz[0]), kib(bsz[0]), bl.ratio(gsz[0], bsz[0])],
        ["binary, strip --strip-all", kib(gsz[1]), kib(bsz[1]), bl.ratio(gsz[1], bsz[1])],
        ["  text+data+bss (size)", kib(gsz[2]), kib(bsz[2]), bl.ratio(gsz[2], bsz[2])],
        ["shared libraries loaded (ldd)", gsz[3], bsz[3], ""],
    ]
    bl.table("Gateway with two scale nodes (one Modbus TCP, one Modbus RTU on a pty at 19200 "
             "baud), every %d ms; window %.0f s" % (a.period_ms, a.seconds),
             ["figure", "depot-gateway", "bare libmodbus loop", "gateway/bare"], rows)
    print("\n  CPU from %s (gateway), %s (bare loop)" % (gw["cpu_source"], bare["cpu_source"]))
    print("  bare loop: %s" % b["summary"].strip())
    print("  target: idle CPU < 0.1 %% of one core -> %.3f %% (%s)"
          % (gw["cpu_pct"], "met" if gw["cpu_pct"] < 0.1 else "missed"))
    print("  target: resident < 16 MiB -> VmRSS %s, VmHWM %s (%s)"
          % (bl.mib(gw["VmRSS"]), bl.mib(gw["VmHWM"]),
             "within" if gw["VmHWM"] < TARGET_RSS else "above"))


def main():
    a = parse_args()
    with Env("bench-gw-small") as env:
        pki = make_pki(env, [DEALER])
        broker, broker_port = start_broker(env, pki)
        hub, http = start_hub(env, pki, broker_port, tokens={"viewer": TOKEN}, log_level="info")
        wh, g = run_gateway(env, a, pki, broker_port, http)
        b = run_bare(env, a, wh)
        gsz = sizes(env, bl.bin_path("depot-gateway"))
        bsz = sizes(env, bl.testbin_path("modbus_bare_loop"))
        report(a, g, b, gsz, bsz)
        bl.record("gateway.idle_cpu", "gateway CPU idle, two nodes (TCP + RTU), nothing changing",
                  round(g["gateway"]["cpu_pct"], 4), "% core", "bare libmodbus loop",
                  round(b["bare"]["cpu_pct"], 4), "value<0.1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
