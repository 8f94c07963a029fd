#!/usr/bin/python3
"""Benchmark: order approvals per second that depot-hub sustains for signed
orders arriving from D gateways at once, beside mbedTLS's bare ECDSA P-256
verify rate measured in the same run.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_order_approvals.py --dealers 100 --per-dealer 60

Set-up, all real programs on 127.0.0.1: Mosquitto with mutual TLS, depot-hub
(SQLite, log level info) with the catalog imported (depotctl catalog import)
and every dealer's profile PUT with credit and auto-approval limits so high
that every order is approved by `auto`. D dealer certificates, each made the
real way (the gateway's keygen, then depotctl pki sign).

1. Baseline: tests/bench/ecdsa_verify_rate on dealer D000's key and
   certificate: raw mbedtls_pk_verify (key parsed once), pki_verify (PEM
   parse + verify, what the hub calls per order), pki_cert_check_issued (what
   a certificate-cache miss costs) and both together; raw also on 2 threads.
2. Load: tests/bench/order_flood, D connections (one per dealer, its own
   certificate, as D gateways), every order signed before the clock starts,
   published as fast as a window of --window unacknowledged messages allows,
   each decision confirmed with the "decided" event as a gateway does.
3. Measure: /metrics depot_hub_orders_approved_total and the CPU of the hub,
   the broker and the load generator (/proc) sampled every 0.25 s; the steady
   window runs from the sample where 10 % of the orders were approved to the
   last sample below 90 %. Optionally `perf record` of the hub for a few
   seconds inside it (--perf-seconds, 0 to skip) for where the CPU goes.

Printed: approvals/s, the hub's CPU (% of one core) and threads, CPU ms per
approval, the bare rates, and the ratio approvals/s / (bare raw rate x hub
cores used), beside the target 70 %. Never pass/fail.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import Env, run  # noqa: E402
from broker import depotctl, enroll_dealer, make_pki, start_broker  # noqa: E402
from hubenv import call, metrics, start_hub  # noqa: E402

ADMIN = "bench-admin-token"
TARGET = 0.70
BARCODES = ["4006381333931", "4006381333948", "4006381333955", "4006381333962"]
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,%s,2.50,100,1,500,20,7,100000000
SKU-NUT,%s,0.40,10,1,1000,50,7,100000000
SKU-WASHER,%s,0.10,5,1,2000,100,7,100000000
SKU-PUMP,%s,100.00,5000,1,20,2,14,100000000
""" % tuple(BARCODES)
APPROVED = "depot_hub_orders_approved_total"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dealers", type=int, default=100, help="gateways at once, default 100")
    ap.add_argument("--per-dealer", type=int, default=60, help="orders per dealer, default 60")
    ap.add_argument("--lines", type=int, default=3, help="lines per order, default 3")
    ap.add_argument("--window", type=int, default=1000,
                    help="order_flood: messages in flight, default 1000")
    ap.add_argument("--verify-seconds", type=float, default=3.0,
                    help="ecdsa_verify_rate: seconds per mode, default 3")
    ap.add_argument("--perf-seconds", type=float, default=4.0,
                    help="perf record of the hub inside the window, default 4 (0: none)")
    ap.add_argument("--timeout", type=int, default=600, help="bound on the flood, default 600 s")
    a = ap.parse_args()
    if not 1 <= a.dealers <= 1000 or not 1 <= a.per_dealer <= 100000 or not 1 <= a.lines <= 100:
        ap.error("--dealers 1..1000, --per-dealer 1..100000, --lines 1..100")
    return a


def setup(env, a):
    t0 = time.monotonic()
    pki = make_pki(env, [])
    dealers = ["D%03d" % k for k in range(a.dealers)]
    for d in dealers:
        pki["dealers"][d] = enroll_dealer(env, pki["dir"], d)
    enroll_s = time.monotonic() - t0
    broker, port = start_broker(env, pki)
    hub, http = start_hub(env, pki, port, tokens={"admin": ADMIN}, log_level="info",
                          offline_after_s=3600)
    csv = env.path("catalog.csv")
    with open(csv, "w") as f:
        f.write(CATALOG)
    depotctl("catalog", "import", csv, "--hub", "http://127.0.0.1:%d" % http, "--token", ADMIN)
    for d in dealers:
        call(http, "PUT", "/api/v1/dealers/" + d, ADMIN,
             {"name": "bench " + d, "credit_limit": "999999999.00",
              "auto_approve_limit": "999999.00"})
    return pki, broker, port, hub, http, enroll_s


def verify_baseline(a, pki):
    d = pki["dealers"]["D000"]
    r = run([bl.testbin_path("ecdsa_verify_rate"), "--key", d["key"], "--cert", d["crt"],
             "--ca", pki["device_ca"], "--seconds", a.verify_seconds, "--threads", 2],
            timeout=10 * a.verify_seconds + 30)
    out = {}
    for line in r.stdout.splitlines():
        kv = bl.parse_kv(line)
        if "mode" in kv:
            out["%s/%s" % (kv["mode"], kv["threads"])] = float(kv["rate"].rstrip("/s"))
    return out


class Sampler:
    """(t, approved, ticks per process) every call; the hub's threads at the end."""

    def __init__(self, http, procs):
        self.http, self.procs, self.samples = http, procs, []

    def sample(self):
        m = metrics(self.http)
        ticks = {k: bl.cpu_ticks(p.p.pid) for k, p in self.procs.items() if p.alive()}
        self.samples.append((time.monotonic(), m.get(APPROVED, 0), ticks))
        return m


def perf_available():
    if not shutil.which("perf"):
        return False
    r = subprocess.run(["perf", "stat", "-e", "cpu-clock", "true"], capture_output=True,
                       text=True, timeout=10)
    return r.returncode == 0


def perf_start(env, hub, seconds):
    data = env.path("hub.perf.data")
    # System-wide (-a), the hub picked out at report time: attaching with -p
    # records no samples in some VMs.
    p = subprocess.Popen(["perf", "record", "-a", "-e", "cpu-clock", "-F", "999", "-o",
                          data, "--", "sleep", str(seconds)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, data


def perf_report(data, pid, sort, limit):
    r = subprocess.run(["perf", "report", "-i", data, "--pid", str(pid), "--stdio",
                        "--no-children", "--percentage", "relative", "--sort", sort,
                        "--percent-limit", "0.5"],
                       capture_output=True, text=True, timeout=120)
    rows = []
    for line in r.stdout.splitlines():
        s = line.strip()
        if s and not s.startswith("#") and "%" in s.split()[0]:
            rows.append(s)
    return rows[:limit]


def flood(env, a, pki, port, hub, http, broker):
    m0 = metrics(http)
    fl = env.start("order_flood", [bl.testbin_path("order_flood"), "--port", port, "--ca",
                                   pki["ca"], "--dir", env.dir, "--dealers", a.dealers,
                                   "--per-dealer", a.per_dealer, "--lines", a.lines,
                                   "--barcodes", ",".join(BARCODES), "--window", a.window,
                                   "--timeout-s", a.timeout])
    bl.wait_alive([hub, broker], lambda: "ready" in fl.out() or (not fl.alive() and "x"),
                  a.timeout, "order_flood connected", interval=0.1)
    if not fl.alive() and "ready" not in fl.out():
        raise AssertionError("order_flood failed:\n" + fl.log()[-3000:])
    total = a.dealers * a.per_dealer
    s = Sampler(http, {"hub": hub, "broker": broker, "flood": fl})
    threads = 0
    perf = None
    use_perf = a.perf_seconds > 0 and perf_available()
    deadline = time.monotonic() + a.timeout + 30
    while time.monotonic() < deadline:
        m = s.sample()
        threads = max(threads, bl.memory(hub.p.pid)["Threads"])
        done = m.get(APPROVED, 0) - m0.get(APPROVED, 0)
        if use_perf and perf is None and done >= 0.2 * total:
            perf = perf_start(env, hub, a.perf_seconds)
        if not fl.alive() and done >= total:
            break
        if not fl.alive() and time.monotonic() > deadline - 25:
            break
        for p in (hub, broker):
            if not p.alive():
                raise AssertionError("%s exited:\n%s" % (p.name, p.log()[-3000:]))
        time.sleep(0.25)
    bl.wait_alive([hub], lambda: not fl.alive(), 30, "order_flood to finish")
    if perf:
        perf[0].wait(timeout=a.perf_seconds + 30)
    line = bl.last_line_with(fl.out(), "orders")
    return (bl.parse_kv(line), line, bl.parse_kv(fl.out().splitlines()[0]), s, m0,
            metrics(http), threads, perf[1] if perf else None, use_perf)


def steady(samples, base, total):
    lo, hi = base + 0.1 * total, base + 0.9 * total
    first = next((x for x in samples if x[1] >= lo), None)
    last = None
    for x in samples:
        if x[1] <= hi:
            last = x
    if not first or not last or last[0] - first[0] < 0.5:
        first, last = samples[0], samples[-1]
    dt = last[0] - first[0]
    cpu = {k: 100.0 * (last[2][k] - first[2][k]) / bl.CLK_TCK / dt
           for k in first[2] if k in last[2]}
    return (last[1] - first[1]) / dt, dt, last[1] - first[1], cpu


def report(a, enroll_s, base, res, line, signed, s, m0, m1, threads, perf_data, use_perf,
           hub_pid):
    total = a.dealers * a.per_dealer
    rate, dt, n, cpu = steady(s.samples, m0.get(APPROVED, 0), total)
    hub_cores = cpu.get("hub", 0) / 100.0
    raw1 = base.get("raw/1", 0)
    d = lambda k: m1.get(k, 0) - m0.get(k, 0)  # noqa: E731
    rejected = sum(v - m0.get(k, 0) for k, v in m1.items()
                   if k.startswith("depot_hub_orders_rejected_total"))
    lat_n = d('depot_hub_order_approval_seconds_count{path="auto"}')
    lat_s = d('depot_hub_order_approval_seconds_sum{path="auto"}')
    cpu_ms = 1000.0 * hub_cores / rate if rate else 0
    bl.table("Baseline: mbedTLS ECDSA P-256 verify of one order document, same run "
             "(ecdsa_verify_rate, %.0f s per mode)" % a.verify_seconds,
             ["mode", "verifies/s", "ms each"],
             [[k, "%.0f" % v, "%.3f" % (1000.0 / v if v else 0)] for k, v in sorted(base.items())])
    print("  raw: mbedtls_pk_verify, key parsed once; pki: pki_verify from the PEM (the hub's "
          "call);"
          "\n  chain: pki_cert_check_issued (a certificate-cache miss); order: chain + pki")
    rows = [
        ["approvals/s (steady window)", "%.1f" % rate],
        ["steady window", "%.1f s, %d approvals" % (dt, n)],
        ["approvals/s over the whole flood (order_flood)", res.get("rate", "?")],
        ["hub CPU, % of one core", "%.1f %%" % cpu.get("hub", 0)],
        ["hub threads (peak)", threads],
        ["hub CPU ms per approval", "%.3f" % cpu_ms],
        ["broker CPU, % of one core", "%.1f %%" % cpu.get("broker", 0)],
        ["order_flood CPU, % of one core", "%.1f %%" % cpu.get("flood", 0)],
        ["bare verify rate, 1 core (raw)", "%.0f/s" % raw1],
        ["bare x hub cores used", "%.0f/s" % (raw1 * hub_cores)],
        ["ratio approvals/s / (bare x hub cores)", "%.0f %% (target >= %.0f %%)"
         % (100.0 * rate / (raw1 * hub_cores) if raw1 and hub_cores else 0, 100 * TARGET)],
        ["ratio approvals/s / bare (1 core)", "%.0f %%" % (100.0 * rate / raw1 if raw1 else 0)],
        ["approved / rejected at the hub", "%d / %d" % (d(APPROVED), rejected)],
        ["orders received, decisions sent (with repeats)",
         "%d, %d" % (d("depot_hub_orders_received_total"), d("depot_hub_decisions_sent_total"))],
        ["messages applied, ingest batches",
         "%d, %d" % (d("depot_hub_messages_applied_total"), d("depot_hub_ingest_batches_total"))],
        ["hub approval latency, mean (created -> approved)",
         "%.1f ms" % (1000.0 * lat_s / lat_n if lat_n else 0)],
        ["publish -> decision at the gateway p50/p90/p99/max",
         "%s / %s / %s / %s ms" % (res.get("p50_ms"), res.get("p90_ms"), res.get("p99_ms"),
                                   res.get("max_ms"))],
    ]
    bl.table("depot-hub approvals, %d dealers x %d orders = %d signed orders of %d lines, "
             "one mutual-TLS connection per dealer, window %d"
             % (a.dealers, a.per_dealer, total, a.lines, a.window), ["figure", "value"], rows)
    bl.record("orders.approvals_per_s", "hub approvals/s, %d gateways at once" % a.dealers,
              rate, "approvals/s", "bare ECDSA P-256 verify rate (mbedTLS) x hub cores used",
              raw1 * hub_cores, "ratio>=%.1f" % TARGET)
    if raw1:
        bl.record("orders.hub_cpu_per_approval", "hub CPU per approval", cpu_ms, "ms",
                  "one bare ECDSA P-256 verify (mbedTLS)", 1000.0 / raw1)
    if cpu_ms:
        share = [[k, "%.3f" % (1000.0 / base[k]), "%.0f %%" % (100.0 * 1000.0 / base[k] / cpu_ms)]
                 for k in ("raw/1", "pki/1", "order/1") if base.get(k)]
        bl.table("Hub CPU per approval against the verify costs (share = cost / hub CPU ms per "
                 "approval)", ["cost of", "ms", "share"], share)
    print("\n  order_flood: %s" % line.strip())
    print("  signing before the run: %s" % " ".join("%s=%s" % kv for kv in signed.items()))
    print("  %d dealer certificates made (keygen + depotctl pki sign) in %.1f s" % (a.dealers,
                                                                                    enroll_s))
    print("  the hub verifies in its one ingest thread; %d cores on this machine, shared by hub, "
          "broker and load generator" % os.cpu_count())
    if perf_data:
        print("\n  perf record -a -e cpu-clock, the hub's samples, for %.0f s in the window:"
              % a.perf_seconds)
        print("  (% of the hub's samples: perf report --pid HUB --percentage relative)")
        print("  by library:")
        for r in perf_report(perf_data, hub_pid, "dso", 12):
            print("    " + r)
        print("  by function (self):")
        for r in perf_report(perf_data, hub_pid, "dso,sym", 25):
            print("    " + r)
    elif not use_perf and a.perf_seconds > 0:
        print("  (perf not usable here: no CPU breakdown)")


def main():
    a = parse_args()
    with Env("bench-orders") as env:
        pki, broker, port, hub, http, enroll_s = setup(env, a)
        base = verify_baseline(a, pki)
        res, line, signed, s, m0, m1, threads, perf_data, use_perf = flood(env, a, pki, port,
                                                                           hub, http, broker)
        report(a, enroll_s, base, res, line, signed, s, m0, m1, threads, perf_data, use_perf,
               hub.p.pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
