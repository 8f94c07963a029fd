#!/usr/bin/python3
"""Benchmark: the node simulator (depot-node --tcp-range) under a flat-out poller.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_node_sim.py --nodes 1000 --seconds 10
    ... --older-node /path/to/older/depot-node   (another build beside it, same run)

Every gateway benchmark polls simulated scales, so the simulator must cost
less than the pollers it serves, or a flat-out run measures it instead of
them. Set-up, on 127.0.0.1: one `depot-node scale --tcp-range` process
serving --nodes scales on consecutive ports; tests/bench/modbus_bare_loop
over all of them with --period-ms 0 (no sleep: each thread reads its nodes in
turn as fast as they answer) and --threads T. After every node has answered,
a window of --seconds measures both processes' CPU (/proc/PID/task/*/schedstat,
ns) and the requests the nodes answered (their reply counters, read over the
control socket at both ends).

Printed per run: the simulator's CPU (% of a core, us per reply) beside the
bare loop's (us per poll) and the polls per second; with --older-node, the
same for that binary, the two alternating --runs times; medians and spread.

With DEPOT_BENCH_RESULTS set, keeps per thread count T for bench_all.py:
node_sim.cpu_per_reply.tT (the simulator's us of CPU per reply beside the bare
loop's per poll, target ratio <= 1: the simulator is no more of the cost than
the poller) and
node_sim.flat_out.tT (polls per second, beside the older binary's when given).
Figures only: the exit status is non-zero only when a run could not be made.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from bench_gateway import cpu_ns  # noqa: E402
from harness import Env  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000, help="scale nodes (1..4000), default 1000")
    ap.add_argument("--seconds", type=float, default=10.0, help="measuring window, default 10")
    ap.add_argument("--threads", default="2",
                    help="bare loop threads, a list (one measurement each), default 2")
    ap.add_argument("--runs", type=int, default=1, help="runs per binary, default 1")
    ap.add_argument("--older-node", default=None, metavar="PATH",
                    help="another depot-node binary measured beside this build's")
    a = ap.parse_args()
    try:
        a.thread_list = [int(t) for t in a.threads.split(",")]
    except ValueError:
        ap.error("--threads: a comma-separated list of numbers")
    if not 1 <= a.nodes <= 4000 or not 1 <= a.seconds <= 600 or \
            not all(1 <= t <= 64 for t in a.thread_list) \
            or not 1 <= a.runs <= 20:
        ap.error("--nodes 1..4000, --seconds 1..600, --threads 1..64, --runs 1..20")
    return a


def one_run(env, a, threads, binary, name):
    first = bl.free_port_range(a.nodes)
    ports = list(range(first, first + a.nodes))
    ctl = env.path("%s.sock" % name)
    node = env.start(name, [binary, "scale", "--tcp-range",
                            "127.0.0.1:%d-%d" % (ports[0], ports[-1]), "--control", ctl])
    bare = None
    try:
        bl.wait_alive([node], lambda: "ready" in node.out(), 60,
                      "depot-node ready on %d ports" % a.nodes)
        c = bl.NodeControl(ctl)
        try:  # every scale holds something, as in the gateway benchmarks
            for i, p in enumerate(ports):
                c.command("port %d weight %d" % (p, (i % 50 + 1) * 100))
        finally:
            c.close()
        bare = env.start("bare-" + name,
                         [bl.testbin_path("modbus_bare_loop"), "--ports",
                          "%d-%d" % (ports[0], ports[-1]), "--period-ms", "0",
                          "--threads", str(threads), "--seconds", str(int(a.seconds + 120))])
        procs = [node, bare]
        bl.wait_alive(procs, lambda: "ready" in bare.out(), 60, "modbus_bare_loop connected")
        bl.wait_alive(procs, lambda: bl.min_replies(ctl, ports) >= 1, 60,
                      "every node answered the bare loop")
        r0 = bl.sum_replies(ctl, ports)
        t0 = time.monotonic()
        n0, b0 = cpu_ns(node.p.pid), cpu_ns(bare.p.pid)
        bl.sleep_watching(procs, a.seconds)
        n1, b1 = cpu_ns(node.p.pid), cpu_ns(bare.p.pid)
        wall = time.monotonic() - t0
        replies = bl.sum_replies(ctl, ports) - r0
        if n0 is None or b0 is None or n1 is None or b1 is None:
            raise AssertionError("no /proc/PID/task/*/schedstat on this kernel")
        mem = bl.memory(node.p.pid)
    finally:
        if bare:
            bare.stop()
        node.stop()
    replies = max(replies, 1)
    return {"node_pct": 100.0 * (n1 - n0) / 1e9 / wall, "node_us": (n1 - n0) / 1e3 / replies,
            "bare_pct": 100.0 * (b1 - b0) / 1e9 / wall, "bare_us": (b1 - b0) / 1e3 / replies,
            "rate": replies / wall, "rss": mem["VmRSS"]}


def med(runs, key):
    v = [r[key] for r in runs]
    return statistics.median(v), min(v), max(v)


def fmt(runs, key, f):
    m, lo, hi = med(runs, key)
    return (f % m) + ("" if len(runs) == 1 else " (%s-%s)" % (f % lo, f % hi))


def report(a, threads, results):
    rows = []
    for label, r in results.items():
        rows.append([label, fmt(r, "node_pct", "%.1f"), fmt(r, "node_us", "%.2f"),
                     fmt(r, "bare_us", "%.2f"), fmt(r, "rate", "%.0f"),
                     bl.mib(statistics.median(x["rss"] for x in r))])
    bl.table("Node simulator, %d scales, bare loop flat out with %d thread(s), %g s windows, "
             "%d run(s) each (median, spread)" % (a.nodes, threads, a.seconds, a.runs),
             ["simulator", "sim CPU % core", "sim us/reply", "bare us/poll", "polls/s", "VmRSS"],
             rows)
    cur = results["depot-node"]
    sim_us, bare_us, rate = med(cur, "node_us")[0], med(cur, "bare_us")[0], med(cur, "rate")[0]
    print("\n  simulator CPU per reply / bare loop CPU per poll: %s" % bl.ratio(sim_us, bare_us))
    what = "%d nodes flat out, %d poller thread(s)" % (a.nodes, threads)
    bl.record("node_sim.cpu_per_reply.t%d" % threads, "node simulator CPU per reply, " + what,
              round(sim_us, 2), "us", "bare libmodbus loop (CPU per poll)", round(bare_us, 2),
              "ratio<=1")
    older = results.get("older depot-node")
    o_rate = med(older, "rate")[0] if older else None
    if older:
        print("  polls/s with this build / with the older binary: %s" % bl.ratio(rate, o_rate))
    bl.record("node_sim.flat_out.t%d" % threads, "bare loop polls/s over the simulator, " + what,
              round(rate), "polls/s", "older depot-node" if older else None,
              round(o_rate) if older else None, None)


def main():
    a = parse_args()
    binaries = [("depot-node", bl.bin_path("depot-node"))]
    if a.older_node:
        binaries.append(("older depot-node", a.older_node))
    with Env("bench-node-sim") as env:
        for k, threads in enumerate(a.thread_list):
            if k:
                print()
            results = {label: [] for label, _ in binaries}
            for i in range(a.runs):
                for j, (label, path) in enumerate(binaries):
                    results[label].append(one_run(env, a, threads, path,
                                                  "node%d-%d-%d" % (threads, i, j)))
            report(a, threads, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
