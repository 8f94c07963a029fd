"""The Modbus fault matrix, on a Modbus TCP node and on an RTU line, and the fault proxy
between the gateway and a Modbus TCP node.

Real depot-node scales (the host board: two over Modbus TCP, one behind the tests' own fault
proxy, two units on one RTU pseudo-terminal line at 115200 baud), the real depot-gateway
(debug log: one line per failed poll, with its reason), Mosquitto over TLS and a depot-hub.
Every node is polled every 100 ms. Three runs go on at once, on different nodes of the one
gateway:

  - the matrix on tcp-a and on rtu-1 (rtu-2 shares its line): exceptions 0x01 to 0x0B, a bad
    CRC (TCP: a garbled MBAP header, there is no CRC), a reply from the wrong unit id, replies
    cut in half, silence. For each fault the scale's weight is changed while it lasts; then
    the fault is cleared. The TCP faults hit a scanner terminal too, with a scan made while
    each lasts: every scan in the ledger once, as made. Checked for each: every failed poll
    classified as the fault is (the gateway's log), the node faulted and its stock stale at
    the hub with that reason, nothing counted while it lasted, counted right once it is
    over, back to normal within 2 polls of the node recovering, the other node of the line
    keeping its period;
  - then 1 % of the bytes on the RTU line corrupted either way (seeded), weights changing:
    no wrong weight counted (the CRC catches them), the polls and errors printed;
  - the fault proxy in front of tcp-p: connections cut, hung (read, never answered), 2 s
    +- 0.5 s of latency (timeout 2 s: some polls answer late, some time out and their late
    answers must not be taken for the next poll's) and forced reconnects every second,
    weights changing: no wrong or doubled count, no poll blocked longer than its timeout
    (the poller does not retry within a poll: timeout x (0 + 1)), tcp-b keeping its period.

At the end every stock row is live at the hub at the weight last set, every movement of the
ledger is one the test caused, and the metrics file (written at exit) counts each class.

Long run: DEPOT_MB_FAULT_ROUNDS=N repeats the matrix N times (default 1) and
DEPOT_MB_NOISE_S the seconds of line noise (default 6).
"""
import calendar
import concurrent.futures
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, free_port, main, port_open, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from gwenv import UNIT_WEIGHT_G, control, start_warehouse  # noqa: E402
from hubenv import start_hub, stock_map  # noqa: E402

TOKEN = "viewer-token-mbf"
PERIOD_MS = 100
RTU_TIMEOUT_MS = 80
TCP_TIMEOUT_MS = 150
PROXY_TIMEOUT_MS = 2000
ROUNDS = int(os.environ.get("DEPOT_MB_FAULT_ROUNDS", "1"))
NOISE_S = float(os.environ.get("DEPOT_MB_NOISE_S", "6"))

EXCEPTIONS = [("exception %d" % c, "exception %d" % c) for c in range(1, 12)]
# (control command, reason the gateway must give), per transport
TCP_FAULTS = EXCEPTIONS + [("crc", "bad response"), ("unit", "wrong unit"),
                           ("truncate", "truncated"), ("silent", "timeout")]
RTU_FAULTS = EXCEPTIONS + [("crc", "crc"), ("unit", "wrong unit"),
                           ("truncate", "truncated"), ("silent", "timeout")]

FAIL_RE = r"node %s: (.+?) \((?:retrying with back-off|\d+ in a row)\)$"
FAULT_RE = r"node %s: fault: (.+), \d+ failures in a row"
RECOVERED_RE = r"node %s: recovered after \d+ failures"


def stale_reason(http, sku):
    row = stock_map(http, TOKEN, dealer="A").get(("A", sku))
    return row and row["stale"] and row["stale_reason"]


def hub_live(http, sku, qty):
    row = stock_map(http, TOKEN, dealer="A").get(("A", sku))
    return row is not None and row["qty"] == qty and not row["stale"]


class Log:
    """The gateway's log, read by offset so that each step looks only at its own lines."""

    def __init__(self, proc):
        self.proc = proc

    def size(self):
        return len(self.proc.log())

    def lines(self, start, end=None):
        return self.proc.log()[start:end].splitlines()

    def find(self, start, pattern):
        """(offset just after the first line matching pattern after start, match) or None."""
        text = self.proc.log()
        pos = start
        for line in text[start:].splitlines(keepends=True):
            pos += len(line)
            m = re.search(pattern, line.rstrip("\n"))
            if m:
                return pos, m
        return None


def requests(wh, node):
    return int(wh.status(node)["requests"])


def period_kept(wh, node, t0, r0):
    """The fraction of its polls a node got since (t0, r0)."""
    n = requests(wh, node) - r0
    want = (time.monotonic() - t0) * 1000.0 / PERIOD_MS
    return n / want if want > 0 else 1.0


def run_step(wh, http, log, node, neighbour, command, reason, count, scanner, scans):
    """One fault of the matrix on node (and on scanner, when there is one, with a scan made
    while it lasts); returns its figures (asserting them)."""
    sku = wh.skus[node]
    before = wh.ledger_qty(sku)
    start = log.size()
    nt0, nr0 = time.monotonic(), requests(wh, neighbour)
    wh.fault(node, command)
    wh.weight(node, count * UNIT_WEIGHT_G)  # changed while the fault lasts
    if scanner:
        wh.fault(scanner, command)
        barcode = "FAULT%03d" % count
        seq = int(wh.ctl(scanner, "scan receive %s %d" % (barcode, count)).split()[1])
        scans.append((seq, barcode, count))
    found = wait_for(lambda: log.find(start, FAULT_RE % re.escape(node)), timeout=20,
                     what="%s faulted by %s" % (node, command))
    assert found[1].group(1) == reason, (node, command, found[1].group(0))
    wait_for(lambda: stale_reason(http, sku) == "node fault: " + reason, timeout=20,
             what="%s stale at the hub (%s)" % (sku, reason))
    assert wh.ledger_qty(sku) == before, (node, command, "counted during the fault")
    cleared = log.size()
    t_clear = time.time()
    wh.fault(node, "none")
    if scanner:
        wh.fault(scanner, "none")
    rec = wait_for(lambda: log.find(cleared, RECOVERED_RE % re.escape(node)), timeout=20,
                   what="%s recovered from %s" % (node, command))
    kept = period_kept(wh, neighbour, nt0, nr0)
    wait_for(lambda: wh.ledger_qty(sku) == count, timeout=20,
             what="%s counted %d after %s" % (node, count, command))
    # every failed poll of the node while the fault lasted was classified as it is
    fail = FAIL_RE % re.escape(node)
    during = [m.group(1) for m in (re.search(fail, ln) for ln in log.lines(start, cleared)) if m]
    assert during and all(r == reason for r in during), (node, command, during)
    # failed polls after the node recovered, before the gateway found it again
    after = [m.group(1) for m in (re.search(fail, ln) for ln in log.lines(cleared, rec[0])) if m]
    polls_to_recover = len(after) + 1
    assert polls_to_recover <= 2, (node, command, after)
    stamp = re.match(r"(\S+)Z ", log.lines(cleared, rec[0])[-1]).group(1)
    t_rec = (calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
             + float("0" + stamp[19:]))
    rec_ms = (t_rec - t_clear) * 1000.0
    return {"fault": command, "reason": reason, "failed": len(during), "polls": polls_to_recover,
            "recovered_ms": rec_ms, "neighbour": kept}


def run_matrix(wh, http, log, node, neighbour, faults, first_count, scanner=None, scans=None):
    figures = []
    count = first_count
    t0, r0 = time.monotonic(), requests(wh, neighbour)
    for _ in range(ROUNDS):
        for command, reason in faults:
            count += 1
            figures.append(run_step(wh, http, log, node, neighbour, command, reason, count,
                                    scanner, scans))
    return figures, count, period_kept(wh, neighbour, t0, r0)


def run_noise(wh, log, counts):
    """1 % of the line's bytes corrupted either way while rtu-1's weight changes."""
    start = log.size()
    r0 = {n: requests(wh, n) for n in ("rtu-1", "rtu-2")}
    control(wh.controls["rtu-1"], "noise 10000 42")
    t_end = time.monotonic() + NOISE_S
    while time.monotonic() < t_end:
        counts["rtu-1"] += 1
        wh.weight("rtu-1", counts["rtu-1"] * UNIT_WEIGHT_G)
        deadline = min(t_end, time.monotonic() + 1.5)
        wait_for(lambda: time.monotonic() >= deadline, timeout=3, interval=0.05,
                 what="a noisy interval")
    noise = control(wh.controls["rtu-1"], "noise")
    control(wh.controls["rtu-1"], "noise 0")
    end = log.size()
    polls = {n: requests(wh, n) - r0[n] for n in r0}
    classes = {}
    for n in ("rtu-1", "rtu-2"):
        for ln in log.lines(start, end):
            m = re.search(FAIL_RE % re.escape(n), ln)
            if m:
                classes.setdefault(n, {})
                classes[n][m.group(1)] = classes[n].get(m.group(1), 0) + 1
    fields = dict(kv.split("=") for kv in noise.split()[1:])
    return {"bytes": int(fields["bytes"]), "corrupted": int(fields["corrupted"]),
            "requests": polls, "failed": classes}


def run_proxy(wh, proxy, first_count):
    """The proxy's modes in turn on tcp-p; returns figures."""
    count = first_count
    figures = []
    t0, r0 = time.monotonic(), requests(wh, "tcp-b")
    for mode, seconds in (("cut", 2.0), ("hang", 4.5), ("latency", 6.0), ("reconnect", 3.0)):
        count += 1
        proxy.set_mode(mode)
        wh.weight("tcp-p", count * UNIT_WEIGHT_G)
        end = time.monotonic() + seconds
        wait_for(lambda: time.monotonic() >= end, timeout=seconds + 5, interval=0.05,
                 what="proxy %s for %.1f s" % (mode, seconds))
        proxy.set_mode("pass")
        t_pass = time.monotonic()
        wait_for(lambda: wh.ledger_qty(wh.skus["tcp-p"]) == count, timeout=30,
                 what="tcp-p counted %d after %s" % (count, mode))
        figures.append((mode, time.monotonic() - t_pass))
    return figures, count, period_kept(wh, "tcp-b", t0, r0)


def scans_of(wh, node):
    return [tuple(r) for r in wh.ledger_query(
        "SELECT seq, barcode, qty FROM scans WHERE node = ? ORDER BY id", (node,))]


def movements(wh, sku):
    return [r[0] for r in wh.ledger_query(
        "SELECT qty_after FROM movements WHERE sku = ? ORDER BY id", (sku,))]


def metrics_faults(path):
    out = {}
    with open(path) as f:
        for m in re.finditer(r'^depot_gw_faults_total\{node="([^"]+)",reason="([^"]+)"\} (\d+)',
                             f.read(), re.M):
            if int(m.group(3)):
                out.setdefault(m.group(1), {})[m.group(2)] = int(m.group(3))
    return out


def test_modbus_fault_matrix_tcp_rtu_and_proxy():
    with Env("e2e-mb-faults") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN})
        # tcp-p: a scale behind the fault proxy
        node_port = free_port()
        ctl_p = env.path("tcp-p.sock")
        env.start("A-tcp-p", [os.path.join(BIN, "depot-node"), "scale", "--tcp",
                              "127.0.0.1:%d" % node_port, "--control", ctl_p])
        wait_for(lambda: port_open(node_port) and os.path.exists(ctl_p), what="depot-node tcp-p")
        with FaultProxy(node_port, seed=11) as proxy:
            metrics = env.path("gw-metrics.prom")
            wh = start_warehouse(
                env, pki, port, "A", tcp=[("tcp-a", "SKU-TA"), ("tcp-b", "SKU-TB")],
                rtu=[("rtu-1", 1, "SKU-R1"), ("rtu-2", 2, "SKU-R2")], period_ms=PERIOD_MS,
                scanners=["scan-t"], scanner_period_ms=PERIOD_MS,
                baud=115200, bus_timeout_ms=RTU_TIMEOUT_MS, start_gateway=False,
                node_extra={"tcp-a": "timeout_ms = %d\n" % TCP_TIMEOUT_MS},
                extra_gateway="[gateway]\nmetrics_file = %s\n"
                              "[node:tcp-p]\naddress = 127.0.0.1:%d\nunit = 1\nkind = scale\n"
                              "sku = SKU-TP\nunit_weight_g = %d\nperiod_ms = %d\ntimeout_ms = %d\n"
                              % (metrics, proxy.port, UNIT_WEIGHT_G, PERIOD_MS, PROXY_TIMEOUT_MS))
            with open(wh.config) as f:
                text = f.read()
            with open(wh.config, "w") as f:
                f.write(text.replace("log_level = info", "log_level = debug"))
            wh.controls["tcp-p"] = ctl_p
            wh.skus["tcp-p"] = "SKU-TP"
            wh.gateway = env.start("gw-A", [os.path.join(BIN, "depot-gateway"), "-c", wh.config])
            log = Log(wh.gateway)
            counts = {}
            for node in wh.skus:
                wh.weight(node, 3 * UNIT_WEIGHT_G)
                counts[node] = 3
            scans = []
            for sku in wh.skus.values():
                wait_for(lambda: hub_live(http, sku, 3), timeout=30, what="%s live at 3" % sku)
            set_values = {sku: {3} for sku in wh.skus.values()}

            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                tcp = pool.submit(run_matrix, wh, http, log, "tcp-a", "tcp-b", TCP_FAULTS, 3,
                                  "scan-t", scans)
                rtu = pool.submit(run_matrix, wh, http, log, "rtu-1", "rtu-2", RTU_FAULTS, 3)
                prx = pool.submit(run_proxy, wh, proxy, 3)
                tcp_figs, counts["tcp-a"], tcp_kept = tcp.result()
                rtu_figs, counts["rtu-1"], rtu_kept = rtu.result()
                matrix_end = log.size()
                noise = run_noise(wh, log, counts)
                proxy_figs, counts["tcp-p"], tcpb_kept = prx.result()
            elapsed = time.monotonic() - t0
            for name, first in (("tcp-a", 3), ("rtu-1", 3), ("tcp-p", 3)):
                set_values[wh.skus[name]] |= set(range(first, counts[name] + 1))

            for node, count in counts.items():
                sku = wh.skus[node]
                wait_for(lambda: hub_live(http, sku, count), timeout=30,
                         what="%s live at the hub at %d" % (sku, count))
            wait_for(lambda: scans_of(wh, "scan-t") == scans, timeout=30,
                     what="every scan made during a fault in the ledger once")
            wh.gateway.stop()
            by_class = metrics_faults(metrics)

        # figures
        for label, figs in (("TCP tcp-a", tcp_figs), ("RTU rtu-1", rtu_figs)):
            for f in figs:
                print("  %s %-13s -> %-13s failed polls %2d, polls to recover %d (%4.0f ms), "
                      "neighbour kept %3.0f %% of its polls"
                      % (label, f["fault"], f["reason"], f["failed"], f["polls"],
                         f["recovered_ms"], 100 * f["neighbour"]))
        for label, figs, kept in (("TCP", tcp_figs, tcp_kept), ("RTU", rtu_figs, rtu_kept)):
            print("%s matrix: %d faults, every failed poll classified as the fault (%d polls), "
                  "every fault stale at the hub with its reason; recovery within %d polls "
                  "(at most %.0f ms); the other node kept %.0f %% of its polls (>= %.0f %% "
                  "during each fault)"
                  % (label, len(figs), sum(f["failed"] for f in figs),
                     max(f["polls"] for f in figs), max(f["recovered_ms"] for f in figs),
                     100 * kept, 100 * min(f["neighbour"] for f in figs)))
        print("RTU line noise 1 %%: %d bytes, %d corrupted (%.2f %%); requests heard rtu-1 %d, "
              "rtu-2 %d; failed polls by reason %s; 0 wrong weights"
              % (noise["bytes"], noise["corrupted"],
                 100.0 * noise["corrupted"] / max(1, noise["bytes"]),
                 noise["requests"]["rtu-1"], noise["requests"]["rtu-2"], noise["failed"]))
        print("proxy: %s; recovered after each in %s s; longest hung poll %.2f s (timeout %.1f s), "
              "%d connections, %d closed by the proxy; tcp-b kept %.0f %% of its polls"
              % (", ".join(m for m, _ in proxy_figs),
                 ", ".join("%.1f" % s for _, s in proxy_figs), max(proxy.hangs or [0]),
                 PROXY_TIMEOUT_MS / 1000.0, proxy.counts["accepted"],
                 proxy.counts["closed_by_proxy"], 100 * tcpb_kept))
        print("scanner scan-t under the TCP faults: %d scans made while faulted, each in the "
              "ledger once, as made" % len(scans))
        print("faults by class (metrics file): %s" % by_class)
        print("matrix, noise and proxy: %.1f s" % elapsed)

        # no wrong or doubled count: every movement to a value the test set, none repeated
        for sku, allowed in sorted(set_values.items()):
            seq = movements(wh, sku)
            assert seq and all(q in allowed for q in seq), (sku, seq, sorted(allowed))
            assert all(a != b for a, b in zip(seq, seq[1:])), (sku, seq)
            assert seq == sorted(seq), (sku, seq)  # the test's weights only grow
        print("ledger: %d movements, every one to a weight the test set, none doubled"
              % sum(len(movements(wh, s)) for s in set_values))
        assert movements(wh, "SKU-TB") == [3] and movements(wh, "SKU-R2") == [3]
        # the classes, as the metrics file counts them
        a, r = by_class.get("tcp-a", {}), by_class.get("rtu-1", {})
        assert a.get("exception", 0) >= 33 * ROUNDS, by_class
        assert r.get("exception", 0) >= 33 * ROUNDS, by_class
        for cls in ("bad_response", "wrong_unit", "truncated", "timeout"):
            assert a.get(cls, 0) >= 3 * ROUNDS, (cls, by_class)
        for cls in ("crc", "wrong_unit", "truncated", "timeout"):
            assert r.get(cls, 0) >= 3 * ROUNDS, (cls, by_class)
        assert not set(a) - {"exception", "bad_response", "wrong_unit", "truncated", "timeout"}, a
        assert not by_class.get("tcp-b"), by_class
        assert len(scans) == len(TCP_FAULTS) * ROUNDS
        # neighbours: never faulted during the matrix, kept their period
        for n in ("tcp-b", "rtu-2"):
            assert not log.find(0, FAULT_RE % n) or log.find(0, FAULT_RE % n)[0] > matrix_end, n
        assert tcp_kept >= 0.85 and rtu_kept >= 0.85, (tcp_kept, rtu_kept)
        assert min(f["neighbour"] for f in tcp_figs + rtu_figs) >= 0.5, "neighbour lost its period"
        assert tcpb_kept >= 0.8, tcpb_kept
        # the proxy: no poll held longer than its timeout x (retries + 1), generous bound
        assert proxy.hangs and max(proxy.hangs) <= PROXY_TIMEOUT_MS / 1000.0 + 1.0, proxy.hangs
        assert noise["corrupted"] > 0 and noise["requests"]["rtu-2"] > 0


if __name__ == "__main__":
    main([test_modbus_fault_matrix_tcp_rtu_and_proxy])
