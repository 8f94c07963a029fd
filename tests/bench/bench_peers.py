#!/usr/bin/python3
"""Benchmark: depot-gateway beside two peers doing the same polling job over the
same scale nodes in the same run: Node-RED with node-red-contrib-modbus (its
mqtt out node publishing every reading), and a plain Node.js poller
(modbus-serial + mqtt).

    sh tests/bench/peers/install        # once: npm ci into $DEPOT_PEERS_DIR
    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_peers.py --nodes 50,500 --seconds 30

For each N of --nodes, all real programs on 127.0.0.1 (a fresh set per N):
one `depot-node scale --tcp-range` process serving N scale nodes on N
consecutive ports; Mosquitto with mutual TLS (the config and ACL of
`depotctl broker-config`); then, one after the other over the same nodes and
broker, each polling every node's 30 input registers every --period-ms:

1. depot-gateway, set up and measured as bench_gateway.py does (its helpers),
   with depot-hub behind it so its outbox drains; the hub is stopped after.
2. Node-RED (`node-red --userDir DIR --settings DIR/settings.js flows.json`,
   headless), the flow of peers/nodered.py: per node a modbus-client, a
   modbus-read (FC 4, registers 0..29) and an mqtt out (QoS 1, topic
   depot/v1/NODERED/up/reading/scale-NNNN), one shared mqtt-broker over TLS
   with dealer NODERED's certificate (the ACL lets a dealer's certificate
   write depot/v1/<dealer>/up/#; with the hub stopped nobody else reads it).
3. The plain Node.js poller (peers/poller.js), dealer NODEPOLL, the same way.

Each settles (every node answered two polls of it), then a window of
--seconds (whole periods, starting between two rounds, as bench_gateway.py):
CPU from /proc/PID/task/*/schedstat, VmRSS, VmHWM, threads, and the polls the
nodes answered (depot-node's per-port counters). For a peer, mqtt_sink
(subscribed with a hub observer's certificate to the peer's topics) counts
the messages that arrived from just before the window to just after it,
beside the polls the nodes answered meanwhile: fewer messages than polls
answered minus those still in flight makes the peer's figures VOID (the margin:
the polls answered between the sink's end and the counters' reading, and in
the LATENCY_S before it; at most one per node).

Prints the versions, one table per N and the targets; with
DEPOT_BENCH_RESULTS set, keeps gateway.vs_nodered.polls_per_cpu_s.n{N}
(target ratio >= 5), gateway.vs_nodered.rss.n{N} (VmRSS, ratio <= 0.1) and
the same against the plain poller (gateway.vs_node_poller.*, no target).
Exits non-zero only when a run could not be made (peers not installed, a
program did not start or settle).
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "peers"))

import benchlib as bl  # noqa: E402
import bench_gateway as bg  # noqa: E402
import nodered  # noqa: E402
from harness import Env, free_port  # noqa: E402
from broker import hub_identity, make_pki, start_broker  # noqa: E402
from hubenv import start_hub  # noqa: E402

NODERED_DEALER = "NODERED"
POLLER_DEALER = "NODEPOLL"
TOPIC = "depot/v1/%s/up/reading"
PEERS = ["node-red", "node-red-contrib-modbus", "modbus-serial", "mqtt"]
DEFAULT_PEERS_DIR = "/var/tmp/depot-peers"
LATENCY_S = 0.25  # allowed from a node's answer to the peer's message reaching mqtt_sink
INSTALL = "sh tests/bench/peers/install"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", default="50,500", help="scale node counts, a list; default 50,500")
    ap.add_argument("--seconds", type=float, default=30.0, help="measuring window, default 30")
    ap.add_argument("--period-ms", type=int, default=1000, help="poll period, default 1000")
    ap.add_argument("--settle-timeout", type=float, default=180.0,
                    help="bound on each program's start and settling, default 180 s")
    ap.add_argument("--peers-dir", default=None,
                    help="where tests/bench/peers/install put node_modules (default "
                         "$DEPOT_PEERS_DIR, else %s, else build-peers/)" % DEFAULT_PEERS_DIR)
    a = ap.parse_args()
    a.poll_threads = None  # bench_gateway.run_gateway: the gateway's default
    try:
        a.counts = [int(n) for n in a.nodes.split(",") if n.strip()]
    except ValueError:
        ap.error("--nodes: a list of whole numbers, e.g. 50,500")
    if not a.counts or min(a.counts) < 1 or max(a.counts) > 2000 or \
            not 1 <= a.seconds <= 600 or not 50 <= a.period_ms <= 60000:
        ap.error("--nodes 1..2000, --seconds 1..600, --period-ms 50..60000")
    return a


def peers_dir(given):
    """The folder holding node_modules with every peer package, or None."""
    for d in (given, os.environ.get("DEPOT_PEERS_DIR"), DEFAULT_PEERS_DIR,
              os.path.join(HERE, "..", "..", "build-peers")):
        if d and all(os.path.isfile(os.path.join(d, "node_modules", p, "package.json"))
                     for p in PEERS):
            return os.path.abspath(d)
    return None


def versions(d):
    """[(name, version)]: Node.js and every peer package as installed."""
    out = [("Node.js", subprocess.run(["node", "--version"], capture_output=True, text=True,
                                      timeout=30).stdout.strip())]
    for p in PEERS:
        with open(os.path.join(d, "node_modules", p, "package.json")) as f:
            out.append((p, json.load(f)["version"]))
    return out


def measure(procs, seconds, ctl, ports, period_ms):
    """bench_gateway.measure's window (at periods of 200 ms and more it starts between two rounds
    and lasts whole periods; CPU from schedstat), with utime + stime in clock ticks over the
    same window kept beside it as cpu_s_ticks: a thread that ended within the window is missing
    from schedstat's sum of the live threads, never from the ticks."""
    if period_ms >= 200:
        bg.quiet_phase(list(procs.values()), ctl, ports[0], period_ms)
        seconds = max(1, round(seconds * 1000.0 / period_ms)) * period_ms / 1000.0
    t0 = time.monotonic()
    ns0 = {k: bg.cpu_ns(p.p.pid) for k, p in procs.items()}
    w = bl.Window(procs)
    c0 = bl.sum_replies(ctl, ports)
    bl.sleep_watching(list(procs.values()), t0 + seconds - time.monotonic())
    c1 = bl.sum_replies(ctl, ports)
    ns1 = {k: bg.cpu_ns(p.p.pid) for k, p in procs.items()}
    out = w.close()
    t1 = time.monotonic()
    for k in procs:
        m = out[k]
        m["cpu_s_ticks"] = m["cpu_s"]
        if ns0[k] is not None and ns1[k] is not None:
            m["cpu_s"] = (ns1[k] - ns0[k]) / 1e9
            m["cpu_pct"] = 100.0 * m["cpu_s"] / m["wall_s"]
            m["cpu_source"] = "schedstat"
        else:
            m["cpu_source"] = "clock ticks"
    out["counted"] = c1 - c0
    out["rate"] = (c1 - c0) / (t1 - t0)
    return out


def start_sink(env, pki, port, dealer, timeout_s):
    """mqtt_sink on the peer's topics with a hub observer's certificate; returns the Proc once
    subscribed. It counts until timeout_s after its start, then prints received=N and exits."""
    cert, key = hub_identity(pki)
    sink = env.start("sink-%s" % dealer.lower(),
                     [bl.testbin_path("mqtt_sink"), "--port", port, "--ca", pki["ca"],
                      "--cert", cert, "--key", key, "--count", 100000000,
                      "--topic", TOPIC % dealer + "/#", "--timeout-s", int(timeout_s)])
    bl.wait_alive([sink], lambda: "ready" in sink.out(), 30, "mqtt_sink subscribed",
                  interval=0.02)
    return sink


def run_peer(env, a, pki, broker_port, nodes, ctl, ports, name, dealer, argv):
    """Start a peer, let it settle, measure it while mqtt_sink counts its messages; stop it."""
    floor = bl.min_replies(ctl, ports)
    t0 = time.monotonic()
    peer = env.start("%s-%d" % (name, len(ports)), argv)
    procs = [peer, nodes]
    bl.wait_alive(procs, lambda: bl.min_replies(ctl, ports) >= floor + 2, a.settle_timeout,
                  "every node polled twice by %s" % name)
    settle_s = time.monotonic() - t0
    bl.sleep_watching(procs, 2.0)
    # the sink counts from before the window (quiet phase: up to 3.5 periods) to after it
    whole = max(1, round(a.seconds * 1000.0 / a.period_ms)) * a.period_ms / 1000.0
    sink_s = int(whole + 3.5 * a.period_ms / 1000.0 + 3)
    sink = start_sink(env, pki, broker_port, dealer, sink_s)
    c0 = bl.sum_replies(ctl, ports)
    log0, out0 = len(peer.log()), len(peer.out())
    m = measure({"peer": peer, "nodes": nodes}, a.seconds, ctl, ports, a.period_ms)
    bl.wait_alive(procs, lambda: not sink.alive(), sink_s + 30, "mqtt_sink to end its count",
                  interval=0.02)
    t_end = time.monotonic() - 0.02  # the sink stopped counting at most one interval before
    c1 = bl.sum_replies(ctl, ports)
    lag = time.monotonic() - t_end + LATENCY_S
    line = bl.last_line_with(sink.out(), "received")
    m["received"] = int(bl.parse_kv(line)["received"])
    m["answered"] = c1 - c0
    # polls answered after the sink stopped counting, or so shortly before that their message
    # was still on its way: the nodes' rate over that lag, at most one per node
    n = len(ports)
    m["margin"] = min(n, int(math.ceil(n * 1000.0 / a.period_ms * lag)))
    m["void"] = m["received"] < m["answered"] - m["margin"]
    m["settle_s"] = settle_s
    m["log"] = peer.log()[log0:]  # from the window on
    peer.stop()
    m["out"] = peer.out()[out0:]
    return m


def run_nodered(env, a, pki, broker_port, nodes, ctl, ports, pdir):
    d = pki["dealers"][NODERED_DEALER]
    userdir = env.path("nodered-%d" % len(ports))
    settings, flows = nodered.write_userdir(userdir, ports, a.period_ms, broker_port, pki["ca"],
                                            d["crt"], d["key"], TOPIC % NODERED_DEALER,
                                            free_port())
    argv = [os.path.join(pdir, "node_modules", ".bin", "node-red"), "--userDir", userdir,
            "--settings", settings, os.path.basename(flows)]
    m = run_peer(env, a, pki, broker_port, nodes, ctl, ports, "nodered", NODERED_DEALER, argv)
    m["problems"] = [ln for ln in (m["out"] + m["log"]).splitlines()
                     if re.search(r"\[(warn|error)\]", ln)]
    return m


def run_poller(env, a, pki, broker_port, nodes, ctl, ports, pdir):
    d = pki["dealers"][POLLER_DEALER]
    # env(1) execs node: the process measured is node itself
    argv = ["env", "NODE_PATH=" + os.path.join(pdir, "node_modules"), "node",
            os.path.join(HERE, "peers", "poller.js"), "--ports",
            "%d-%d" % (ports[0], ports[-1]), "--period-ms", a.period_ms, "--mqtt-port",
            broker_port, "--ca", pki["ca"], "--cert", d["crt"], "--key", d["key"],
            "--topic-prefix", TOPIC % POLLER_DEALER,
            "--seconds", int(a.seconds + 2 * a.settle_timeout + 60)]
    m = run_peer(env, a, pki, broker_port, nodes, ctl, ports, "poller", POLLER_DEALER, argv)
    m["problems"] = [ln for ln in m["log"].splitlines() if ln.strip()]
    try:
        m["summary"] = bl.last_line_with(m["out"], "polls").strip()
    except AssertionError:
        m["summary"] = "(no summary line)"
    return m


def per_cpu_s(m, key):
    return m["counted"] / m[key]["cpu_s"] if m[key]["cpu_s"] > 0 else float("inf")


def report(a, n, g, r, p, labels):
    gw, nr, pl = g["gateway"], r["peer"], p["peer"]
    gps, rps, pps = per_cpu_s(g, "gateway"), per_cpu_s(r, "peer"), per_cpu_s(p, "peer")

    def us(m, k):
        return 1e6 * m[k]["cpu_s"] / max(m["counted"], 1)

    def arrived(m):
        return "%d / %d (-%d)%s" % (m["received"], m["answered"], m["margin"],
                                    " VOID" if m["void"] else " ok")

    def row(label, fmt, gv, rv, pv, ratios=True):
        return [label, fmt(gv), fmt(rv), fmt(pv),
                bl.ratio(gv, rv) if ratios else "", bl.ratio(gv, pv) if ratios else ""]

    pct = "{:.2f} %".format
    num = "{:.0f}".format
    rows = [
        row("CPU, % of one core", pct, gw["cpu_pct"], nr["cpu_pct"], pl["cpu_pct"]),
        row("CPU seconds in window", "{:.3f}".format, gw["cpu_s"], nr["cpu_s"], pl["cpu_s"]),
        row("polls answered in window", str, g["counted"], r["counted"], p["counted"]),
        row("polls answered per second", num, g["rate"], r["rate"], p["rate"]),
        ["  of expected (nodes x window / period)"] +
        ["%.1f %%" % (100.0 * m["counted"] / max(1.0, n * m["gateway" if m is g else "peer"]
                                                 ["wall_s"] * 1000.0 / a.period_ms))
         for m in (g, r, p)] + ["", ""],
        row("polls per CPU-second", num, gps, rps, pps),
        row("CPU per poll (us)", "{:.1f}".format, us(g, "gateway"), us(r, "peer"),
            us(p, "peer")),
        row("VmRSS (resident now)", bl.mib, gw["VmRSS"], nr["VmRSS"], pl["VmRSS"]),
        row("VmHWM (resident peak)", bl.mib, gw["VmHWM"], nr["VmHWM"], pl["VmHWM"]),
        row("  RssAnon (own heap, stacks)", bl.mib, gw["RssAnon"], nr["RssAnon"],
            pl["RssAnon"]),
        row("  RssFile (mapped files, libs)", bl.mib, gw["RssFile"], nr["RssFile"],
            pl["RssFile"]),
        row("threads", str, gw["Threads"], nr["Threads"], pl["Threads"], ratios=False),
        ["MQTT messages arrived / polls answered (margin)", "(stock changes only)", arrived(r),
         arrived(p), "", ""],
        row("depot-node CPU meanwhile (simulator)", pct, g["nodes"]["cpu_pct"],
            r["nodes"]["cpu_pct"], p["nodes"]["cpu_pct"], ratios=False),
    ]
    bl.table("%d scale nodes over Modbus TCP on 127.0.0.1, 30 input registers each, every %d ms; "
             "window %.0f s" % (n, a.period_ms, a.seconds),
             ["figure", "depot-gateway", "Node-RED", "Node poller", "gateway/Node-RED",
              "gateway/poller"], rows)
    print("\n  Node-RED: %s; Node poller: %s" % (labels["nodered"], labels["poller"]))
    print("  CPU from %s; in clock ticks (utime + stime) over the same window: Node-RED %.3f s, "
          "poller %.3f s" % (nr["cpu_source"], nr["cpu_s_ticks"], pl["cpu_s_ticks"]))
    print("  settled in: gateway %.1f s, Node-RED %.1f s, poller %.1f s (every node polled twice)"
          % (g["settle_s"], r["settle_s"], p["settle_s"]))
    print("  messages counted by mqtt_sink from just before the window to just after it, beside "
          "the polls the nodes answered meanwhile; VOID: fewer messages than polls minus the "
          "margin (the polls answered while the sink's end was being noticed and the counters "
          "read, and %.2f s before: on their way; at most one per node)" % LATENCY_S)
    print("  gateway warnings/errors in the window: %d; Node-RED [warn]/[error] lines: %d; "
          "poller stderr lines: %d" % (len(g["log_problems"]), len(r["problems"]),
                                       len(p["problems"])))
    for line in (r["problems"][:3] + p["problems"][:3]):
        print("    " + line[:200])
    print("  poller: %s" % p["summary"])
    ok_cpu = not r["void"] and gps >= 5 * rps
    ok_rss = not r["void"] and gw["VmRSS"] <= 0.1 * nr["VmRSS"]
    print("  targets against Node-RED: polls per CPU-second at least 5 x -> %.2f (%s); VmRSS at "
          "most 1/10 -> 1/%.1f (%s)"
          % (gps / rps if rps else float("nan"),
             "VOID" if r["void"] else ("met" if ok_cpu else "missed"),
             nr["VmRSS"] / max(gw["VmRSS"], 1),
             "VOID" if r["void"] else ("met" if ok_rss else "missed")))
    return gps, rps, pps


def record(a, n, g, r, p, gps, rps, pps, labels):
    gw = g["gateway"]
    for key, short, m, pv, label, target in (
            ("nodered", "Node-RED", r, rps, labels["nodered"], "ratio>=5"),
            ("node_poller", "the Node.js poller", p, pps, labels["poller"], None)):
        void = m["void"]
        peer = label + (" (VOID: readings lost)" if void else "")
        bl.record("gateway.vs_%s.polls_per_cpu_s.n%d" % (key, n),
                  "gateway polls per CPU-second, %d nodes every %d ms, beside %s"
                  % (n, a.period_ms, short),
                  round(gps, 1), "polls/CPU-s", peer, None if void else round(pv, 1), target)
        bl.record("gateway.vs_%s.rss.n%d" % (key, n),
                  "gateway VmRSS, %d nodes, beside %s" % (n, short),
                  round(gw["VmRSS"] / bl.MIB, 1), "MiB", peer,
                  None if void else round(m["peer"]["VmRSS"] / bl.MIB, 1),
                  "ratio<=0.1" if target else None)


def run_n(a, n, pdir, labels):
    with Env("bench-peers") as env:
        pki = make_pki(env, [bg.DEALER, NODERED_DEALER, POLLER_DEALER], observers=4)
        broker, broker_port = start_broker(env, pki)
        nodes, ctl, ports = bg.start_nodes(env, n)
        hub, http = start_hub(env, pki, broker_port, tokens={"viewer": bg.TOKEN},
                              log_level="info")
        g = bg.run_gateway(env, a, pki, broker_port, http, nodes, ctl, ports, a.period_ms, True)
        hub.stop()  # clean session: nothing is kept for it; the peers' topics are read by the sink
        r = run_nodered(env, a, pki, broker_port, nodes, ctl, ports, pdir)
        p = run_poller(env, a, pki, broker_port, nodes, ctl, ports, pdir)
        gps, rps, pps = report(a, n, g, r, p, labels)
        record(a, n, g, r, p, gps, rps, pps, labels)
        return gps, rps, pps, g, r, p


def main():
    a = parse_args()
    pdir = peers_dir(a.peers_dir)
    if not pdir:
        print("peers not installed: run `%s` (npm ci into $DEPOT_PEERS_DIR, default %s)"
              % (INSTALL, DEFAULT_PEERS_DIR))
        return 2
    vs = versions(pdir)
    v = dict(vs)
    print("Versions: " + ", ".join("%s %s" % kv for kv in vs) + " (from %s)" % pdir)
    labels = {"nodered": "Node-RED %s + node-red-contrib-modbus %s"
                         % (v["node-red"], v["node-red-contrib-modbus"]),
              "poller": "Node.js poller (modbus-serial %s + mqtt %s)"
                        % (v["modbus-serial"], v["mqtt"])}
    summary = []
    for i, n in enumerate(a.counts):
        if i:
            print()
        gps, rps, pps, g, r, p = run_n(a, n, pdir, labels)
        summary.append([n, "%.0f" % gps, "%.0f%s" % (rps, " VOID" if r["void"] else ""),
                        "%.0f%s" % (pps, " VOID" if p["void"] else ""),
                        bl.ratio(gps, rps), bl.mib(g["gateway"]["VmRSS"]),
                        bl.mib(r["peer"]["VmRSS"]), bl.mib(p["peer"]["VmRSS"]),
                        "1/%.1f" % (r["peer"]["VmRSS"] / max(g["gateway"]["VmRSS"], 1))])
    bl.table("Summary: polls per CPU-second (target: the gateway >= 5 x Node-RED) and VmRSS "
             "(target: the gateway <= 1/10 of Node-RED)",
             ["nodes", "gateway polls/CPU-s", "Node-RED", "Node poller", "gateway/Node-RED",
              "gateway VmRSS", "Node-RED", "Node poller", "gateway/Node-RED"], summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
