#!/usr/bin/python3
"""Benchmark: depot-gateway polling N scale nodes over Modbus TCP, beside a bare
libmodbus loop doing the same reads, in the same run.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_gateway.py --nodes 500 --period-ms 1000,50 --seconds 15
    ... bench_gateway.py --nodes 100 --flat-out --seconds 10

Set-up, all real programs on 127.0.0.1: one `depot-node scale --tcp-range`
process serving N scale nodes on N consecutive ports; Mosquitto with mutual
TLS; depot-hub (so the gateway's messages are applied and acknowledged); the
gateway with one [node:NAME] section per port (30 input registers, the scale
block).

For each period of --period-ms (default 1000):

1. Start the gateway with every node at that period and let it settle: every
   node answered at least two polls of this gateway, the hub shows one stock
   row per node and the first movements batch has gone (bounded waits).
2. Measure the gateway over --seconds: CPU from /proc (the sum over its
   threads of /proc/PID/task/TID/schedstat, nanoseconds; utime + stime in
   clock ticks beside it), memory (VmRSS, VmHWM), and the polls the nodes
   answered in the window (depot-node's per-port reply counters).
3. Stop the gateway; run tests/bench/modbus_bare_loop (one thread) over the
   same nodes at the same period, let it make one full round, measure it the
   same way over the same window.

At periods of 200 ms and more a window starts between two rounds and lasts
whole periods (both programs poll a period's nodes as one round), so the
polls counted and the CPU measured belong to the same rounds.

--flat-out: the gateway with every node at its shortest period (5 ms) beside
`modbus_bare_loop --period-ms 0 --threads T` (no sleep at all) with T the
gateway's own TCP worker count (poll_threads, or fewer if there are fewer
nodes; read from its log), so both poll with the same concurrency; the figure
is polls answered per second. The gateway never polls a node more often than
every 5 ms, so the bare loop's rate counts at most N x 200/s: with few nodes
(100 and less here) that ceiling, not the machine, is the gateway's limit.

Prints a table per run and the ratios; with DEPOT_BENCH_RESULTS set, keeps the
figures for bench_all.py (benchlib.record): gateway.cpu_per_poll.n{N}.p{P}
(us per poll beside the bare loop's, target ratio <= 1.3), gateway.flat_out.n{N}
(polls/s beside the bare loop's at the same concurrency, ratio >= 0.8) and, at
500 nodes, gateway.rss.n500 (the gateway's resident peak, MiB, under 16).
Figures only: the exit status is non-zero only when a run could not be made.
"""
import argparse
import glob
import os
import re
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
PERIOD_MIN_MS = 5  # the gateway's GW_PERIOD_MIN_MS
MOVEMENTS_PERIOD_S = 5  # the gateway's default movements_period_s
PEER = "bare libmodbus loop"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=500, help="scale nodes (1..4000), default 500")
    ap.add_argument("--seconds", type=float, default=30.0, help="measuring window, default 30")
    ap.add_argument("--period-ms", default="1000",
                    help="poll period of every node; a list (1000,50) makes one run per period")
    ap.add_argument("--flat-out", action="store_true",
                    help="the gateway at its shortest period (5 ms) beside the bare loop flat out "
                         "with as many threads as the gateway's TCP workers")
    ap.add_argument("--settle-timeout", type=float, default=180.0,
                    help="bound on the wait for the gateway to settle, default 180 s")
    ap.add_argument("--poll-threads", type=int, default=None,
                    help="[gateway] poll_threads (default: the gateway's own default)")
    ap.add_argument("--older-gateway", default=None, metavar="PATH",
                    help="another depot-gateway binary (an older build) measured the same way "
                         "in the same run, after this one; printed, not kept")
    a = ap.parse_args()
    try:
        a.periods = [int(p) for p in a.period_ms.split(",") if p.strip()]
    except ValueError:
        ap.error("--period-ms: a list of whole milliseconds, e.g. 1000,50")
    if a.flat_out:
        a.periods = [PERIOD_MIN_MS]
    if not 1 <= a.nodes <= 4000 or not 1 <= a.seconds <= 600 or not a.periods or \
            min(a.periods) < PERIOD_MIN_MS:
        ap.error("--nodes 1..4000, --seconds 1..600, --period-ms >= %d" % PERIOD_MIN_MS)
    return a


def cpu_ns(pid):
    """CPU time of every live thread of pid, in ns (/proc/PID/task/*/schedstat); None if the
    kernel has no schedstat. Threads that ended are not counted: both programs measured here
    keep theirs for the whole window."""
    total, seen = 0, False
    for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
            seen = True
        except (OSError, ValueError, IndexError):
            pass
    return total if seen else None


def quiet_phase(procs, ctl, port, period_ms):
    """Wait until one node has just been polled, then half a period: a moment between two
    rounds. Both the gateway (whose nodes of one period are polled as one batch) and the bare
    loop poll in rounds, so a window from there of whole periods holds whole rounds only: the
    polls counted and the CPU measured are the same rounds (at 1 s and 15 s, one round more or
    less would be 7 %)."""
    c = bl.NodeControl(ctl)
    try:
        first = c.status("port %d " % port)["replies"]
        end = time.monotonic() + 3 * period_ms / 1000.0
        while c.status("port %d " % port)["replies"] == first and time.monotonic() < end:
            bl.sleep_watching(procs, period_ms / 50000.0)
    finally:
        c.close()
    bl.sleep_watching(procs, period_ms / 2000.0)


def measure(procs, seconds, counter, ctl, port, period_ms):
    """Like benchlib.measure, with CPU in ns per process (cpu_ns, else clock ticks) bracketing
    the counter's two readings. At periods of 200 ms and more the window starts between two
    rounds and lasts whole periods (quiet_phase)."""
    if period_ms >= 200:
        quiet_phase(list(procs.values()), ctl, port, period_ms)
        seconds = max(1, round(seconds * 1000.0 / period_ms)) * period_ms / 1000.0
    t0 = time.monotonic()
    ns0 = {k: cpu_ns(p.p.pid) for k, p in procs.items()}
    w = bl.Window(procs)
    c0 = counter()
    bl.sleep_watching(list(procs.values()), t0 + seconds - time.monotonic())
    c1 = counter()
    ns1 = {k: cpu_ns(p.p.pid) for k, p in procs.items()}
    out = w.close()
    t1 = time.monotonic()
    for k in procs:
        m = out[k]
        if ns0[k] is not None and ns1[k] is not None:
            m["cpu_s"] = (ns1[k] - ns0[k]) / 1e9
            m["cpu_pct"] = 100.0 * m["cpu_s"] / m["wall_s"]
            m["cpu_source"] = "schedstat"
        else:
            m["cpu_source"] = "clock ticks"
    out["counted"] = c1 - c0
    out["rate"] = (c1 - c0) / (t1 - t0)
    return out


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
    path = env.path("gateway-%d.ini" % period_ms)
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


def tcp_workers(log):
    """The gateway's TCP worker count from its start-up line "poller: ... N TCP workers"."""
    m = re.search(r"poller: .* (\d+) TCP workers", log)
    return int(m.group(1)) if m else None


def run_gateway(env, a, pki, broker_port, http, nodes, ctl, ports, period_ms, first,
                binary=None, name="gateway"):
    cfg = write_gateway_config(env, pki, broker_port, ports, period_ms, a.poll_threads)
    floor = bl.min_replies(ctl, ports)
    t0 = time.monotonic()
    gw = env.start("%s-%d" % (name, period_ms),
                   [binary or bl.bin_path("depot-gateway"), "-c", cfg])
    procs = [gw, nodes]
    bl.wait_alive(procs, lambda: bl.min_replies(ctl, ports) >= floor + 2, a.settle_timeout,
                  "every node polled twice by the gateway")
    bl.wait_alive(procs, lambda: len(stock(http, TOKEN, dealer=DEALER)) == len(ports),
                  a.settle_timeout, "the hub to show %d stock rows" % len(ports), interval=1.0)
    settle_s = time.monotonic() - t0
    # the first run's counts are movements: their first batch goes MOVEMENTS_PERIOD_S after them,
    # and its acknowledgement before the window
    bl.sleep_watching(procs, max(2.0, MOVEMENTS_PERIOD_S + 3.0 - settle_s) if first else 2.0)
    problems0 = len(log_problems(gw.log()))
    m = measure({"gateway": gw, "nodes": nodes}, a.seconds, lambda: bl.sum_replies(ctl, ports),
                ctl, ports[0], period_ms)
    m["settle_s"] = settle_s
    m["log_problems"] = log_problems(gw.log())[problems0:]
    m["workers"] = tcp_workers(gw.log())
    gw.stop()
    return m


def run_bare(env, a, nodes, ctl, ports, period_ms, threads):
    bare = env.start("bare-%d" % period_ms,
                     [bl.testbin_path("modbus_bare_loop"), "--ports",
                      "%d-%d" % (ports[0], ports[-1]), "--period-ms", str(period_ms),
                      "--threads", str(threads),
                      "--seconds", str(int(a.seconds + a.settle_timeout + 10))])
    procs = [bare, nodes]
    bl.wait_alive(procs, lambda: "ready" in bare.out(), 60, "modbus_bare_loop connected")
    floor = bl.min_replies(ctl, ports)
    bl.wait_alive(procs, lambda: bl.min_replies(ctl, ports) >= floor + 1, a.settle_timeout,
                  "one full round of the bare loop")
    bl.sleep_watching(procs, 2.0)
    m = measure({"bare": bare, "nodes": nodes}, a.seconds, lambda: bl.sum_replies(ctl, ports),
                ctl, ports[0], period_ms)
    bare.stop()
    m["summary"] = bl.last_line_with(bare.out(), "polls")
    m["ready"] = bl.last_line_with(bare.out(), "nodes")
    m["threads"] = threads
    return m


def us_per_poll(m, key):
    return 1e6 * m[key]["cpu_s"] / max(m["counted"], 1)


def report(a, g, b, n, period_ms):
    gw, bare = g["gateway"], b["bare"]
    expected = n * a.seconds * 1000.0 / period_ms
    g_us, b_us = us_per_poll(g, "gateway"), us_per_poll(b, "bare")
    rows = [
        ["CPU, % of one core", "%.2f %%" % gw["cpu_pct"], "%.2f %%" % bare["cpu_pct"],
         bl.ratio(gw["cpu_pct"], bare["cpu_pct"])],
        ["CPU seconds in window", "%.3f" % gw["cpu_s"], "%.3f" % bare["cpu_s"],
         bl.ratio(gw["cpu_s"], bare["cpu_s"])],
        ["VmRSS (resident now)", bl.mib(gw["VmRSS"]), bl.mib(bare["VmRSS"]),
         bl.ratio(gw["VmRSS"], bare["VmRSS"])],
        ["VmHWM (resident peak)", bl.mib(gw["VmHWM"]), bl.mib(bare["VmHWM"]),
         bl.ratio(gw["VmHWM"], bare["VmHWM"])],
        ["  RssAnon (own heap, stacks)", bl.mib(gw["RssAnon"]), bl.mib(bare["RssAnon"]),
         bl.ratio(gw["RssAnon"], bare["RssAnon"])],
        ["  RssFile (mapped files, libs)", bl.mib(gw["RssFile"]), bl.mib(bare["RssFile"]),
         bl.ratio(gw["RssFile"], bare["RssFile"])],
        ["threads (polling threads)", "%d (%s)" % (gw["Threads"], g["workers"]),
         "%d (%d)" % (bare["Threads"], b["threads"]), ""],
        ["polls answered in window", g["counted"], b["counted"],
         bl.ratio(g["counted"], b["counted"])],
        ["polls answered per second", "%.0f" % g["rate"], "%.0f" % b["rate"],
         bl.ratio(g["rate"], b["rate"])],
    ]
    if not a.flat_out:
        rows.append(["  of expected (nodes x window / period)",
                     "%.1f %%" % (100.0 * g["counted"] / expected),
                     "%.1f %%" % (100.0 * b["counted"] / expected), ""])
    rows += [
        ["CPU per poll (us)", "%.1f" % g_us, "%.1f" % b_us, bl.ratio(g_us, b_us)],
        ["depot-node CPU meanwhile (simulator)", "%.2f %%" % g["nodes"]["cpu_pct"],
         "%.2f %%" % b["nodes"]["cpu_pct"], ""],
    ]
    if a.flat_out:
        title = ("Gateway flat out: %d scale nodes over Modbus TCP on 127.0.0.1, every node at "
                 "period_ms = %d, %s TCP workers; bare loop --period-ms 0 --threads %d; window "
                 "%.0f s" % (n, period_ms, g["workers"], b["threads"], a.seconds))
    else:
        title = ("Gateway polling %d scale nodes over Modbus TCP on 127.0.0.1, 30 input "
                 "registers each, every %d ms (bare loop: one thread); window %.0f s"
                 % (n, period_ms, a.seconds))
    bl.table(title, ["figure", "depot-gateway", PEER, "gateway/bare"], rows)
    print("\n  CPU from %s (gateway), %s (bare loop)" % (gw["cpu_source"], bare["cpu_source"]))
    print("  gateway settled in %.1f s (every node polled twice, %d rows at the hub); "
          "warnings/errors logged in the window: %d"
          % (g["settle_s"], n, len(g["log_problems"])))
    for line in g["log_problems"][:5]:
        print("    " + line)
    print("  bare loop: %s; %s" % (b["ready"].strip(), b["summary"].strip()))
    if a.flat_out:
        peer = flat_out_peer(b, n)
        print("  the gateway polls a node at most every %d ms: %d nodes ask at most %.0f polls/s, "
              "so the bare loop's %.0f polls/s count as %.0f" % (PERIOD_MIN_MS, n,
                                                                 ceiling(n), b["rate"], peer))
        print("  target: polls/s at least 0.8 x the bare loop's at the same concurrency -> "
              "%.2f (%s)" % (g["rate"] / max(peer, 1e-9),
                             "met" if g["rate"] >= 0.8 * peer else "missed"))
    else:
        print("  targets: CPU per poll at most 1.3 x the bare loop's -> %.2f (%s); CPU < %.0f %% "
              "of one core -> %.2f %% (%s); resident < 16 MiB -> VmRSS %s, VmHWM %s (%s)"
              % (g_us / max(b_us, 1e-9), "met" if g_us <= 1.3 * b_us else "missed",
                 TARGET_CPU_PCT, gw["cpu_pct"],
                 "within" if gw["cpu_pct"] < TARGET_CPU_PCT else "above",
                 bl.mib(gw["VmRSS"]), bl.mib(gw["VmHWM"]),
                 "within" if gw["VmHWM"] < TARGET_RSS else "above"))
    return g_us, b_us


def report_older(a, o, b, period_ms):
    """The older gateway binary of --older-gateway beside the bare loop of the same run."""
    gw, bare = o["gateway"], b["bare"]
    o_us, b_us = us_per_poll(o, "gateway"), us_per_poll(b, "bare")
    rows = [
        ["CPU, % of one core", "%.2f %%" % gw["cpu_pct"], "%.2f %%" % bare["cpu_pct"],
         bl.ratio(gw["cpu_pct"], bare["cpu_pct"])],
        ["polls answered per second", "%.0f" % o["rate"], "%.0f" % b["rate"],
         bl.ratio(o["rate"], b["rate"])],
        ["CPU per poll (us)", "%.1f" % o_us, "%.1f" % b_us, bl.ratio(o_us, b_us)],
        ["VmHWM (resident peak)", bl.mib(gw["VmHWM"]), bl.mib(bare["VmHWM"]),
         bl.ratio(gw["VmHWM"], bare["VmHWM"])],
    ]
    bl.table("Older gateway (%s), same nodes and period (%d ms), same run"
             % (a.older_gateway, period_ms),
             ["figure", "older depot-gateway", PEER, "older/bare"], rows)


def ceiling(n):
    """The most polls per second the gateway may make: every node every PERIOD_MIN_MS."""
    return n * 1000.0 / PERIOD_MIN_MS


def flat_out_peer(b, n):
    """The bare loop's flat-out rate, at most what the gateway may ask of n nodes: with few
    nodes the bare loop polls each more often than any gateway configuration would."""
    return min(b["rate"], ceiling(n))


def record(a, g, b, n, period_ms, g_us, b_us):
    if a.flat_out:
        bl.record("gateway.flat_out.n%d" % n,
                  "gateway polls/s flat out (period 5 ms), %d nodes, %s workers" % (n, g["workers"]),
                  round(g["rate"], 1), "polls/s",
                  "%s flat out, %d threads (at most %d nodes x 200/s)" % (PEER, b["threads"], n),
                  round(flat_out_peer(b, n), 1), "ratio>=0.8")
        return
    bl.record("gateway.cpu_per_poll.n%d.p%d" % (n, period_ms),
              "gateway CPU per poll, %d nodes, every %d ms" % (n, period_ms),
              round(g_us, 2), "us", PEER, round(b_us, 2), "ratio<=1.3")


def main():
    a = parse_args()
    with Env("bench-gw") as env:
        pki = make_pki(env, [DEALER])
        broker, broker_port = start_broker(env, pki)
        hub, http = start_hub(env, pki, broker_port, tokens={"viewer": TOKEN}, log_level="info")
        nodes, ctl, ports = start_nodes(env, a.nodes)
        peak = 0
        for i, period in enumerate(a.periods):
            if i:
                print()
            g = run_gateway(env, a, pki, broker_port, http, nodes, ctl, ports, period, i == 0)
            o = None
            if a.older_gateway:
                o = run_gateway(env, a, pki, broker_port, http, nodes, ctl, ports, period, False,
                                binary=a.older_gateway, name="older")
            threads = 1
            if a.flat_out:
                if not g["workers"]:
                    raise AssertionError("no 'poller: ... N TCP workers' line in the gateway log")
                threads = g["workers"]
            b = run_bare(env, a, nodes, ctl, ports, 0 if a.flat_out else period, threads)
            g_us, b_us = report(a, g, b, a.nodes, period)
            if o:
                print()
                report_older(a, o, b, period)
            record(a, g, b, a.nodes, period, g_us, b_us)
            peak = max(peak, g["gateway"]["VmHWM"])
        if a.nodes == 500 and not a.flat_out:  # kept once, from the runs at each period
            bl.record("gateway.rss.n500", "gateway resident peak (VmHWM), 500 nodes",
                      round(peak / bl.MIB, 1), "MiB", None, None, "value<16")
        print("\n  external reference, not measured here: Neuron (a published gateway) used about "
              "124 % of one core and about 100 MB for 500 nodes once a second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
