#!/usr/bin/python3
"""Benchmark: depot-hub's HTTP API answering GET /api/v1/stock over D dealers x
S SKUs, beside a trivial endpoint of the same hub (/healthz) in the same run.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_hub_api.py --dealers 1000 --skus 100

Set-up, all real programs on 127.0.0.1: Mosquitto with mutual TLS and
depot-hub ([http] threads 4) on SQLite or, with --store postgresql, on a
PostgreSQL server of the benchmark's own (tests/tools/pg_fixture.py). The stock is loaded the real way:
tests/bench/mqtt_flood publishes one stock message per (dealer, SKU) through
the broker, encoded by the codec the gateways use and paced by the hub's own
acknowledgements, after each dealer's "online" state. Then a bounded poll
until /metrics counts every message applied and the API lists every row.

Then tests/bench/http_load (HTTP/1.1 keep-alive, --connections closed-loop
clients, bounded by --requests and --seconds), after a short warm-up, on:
  /healthz                          the fixed cost of a request (baseline)
  /api/v1/stock?dealer=D0123        one dealer's S rows: the common query
  /api/v1/stock                     every row, D x S
printing requests per second, latency percentiles and bytes per response,
and each figure's ratio to the baseline. The hub's CPU during each run and
its memory afterwards come from /proc.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import Env, run  # noqa: E402
from broker import hub_identity, make_pki, start_broker  # noqa: E402
from hubenv import api, metrics, start_hub  # noqa: E402
from pgenv import create_database, start, stop  # noqa: E402

TOKEN = "bench-viewer-token"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dealers", type=int, default=1000, help="default 1000")
    ap.add_argument("--skus", type=int, default=100, help="SKUs per dealer, default 100")
    ap.add_argument("--connections", type=int, default=4, help="http_load clients, default 4")
    ap.add_argument("--requests", type=int, default=None,
                    help="requests of every run (overrides the three below)")
    ap.add_argument("--requests-health", type=int, default=50000, help="default 50000")
    ap.add_argument("--requests-dealer", type=int, default=20000, help="default 20000")
    ap.add_argument("--requests-all", type=int, default=100, help="default 100")
    ap.add_argument("--seconds", type=int, default=30, help="bound on each run, default 30")
    ap.add_argument("--window", type=int, default=2000,
                    help="mqtt_flood: messages in flight, default 2000")
    ap.add_argument("--load-timeout", type=int, default=600,
                    help="bound on loading the stock, default 600 s")
    ap.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    a = ap.parse_args()
    if not 1 <= a.dealers <= 10000 or not 1 <= a.skus <= 1000:
        ap.error("--dealers 1..10000, --skus 1..1000")
    if a.requests:
        a.requests_health = a.requests_dealer = a.requests_all = a.requests
    return a


def load_stock(env, a, pki, broker_port, hub, http):
    cert, key = hub_identity(pki)
    total = a.dealers * a.skus
    applied0 = metrics(http).get("depot_hub_messages_applied_total", 0)
    t0 = time.monotonic()
    r = run([bl.testbin_path("mqtt_flood"), "--port", broker_port, "--ca", pki["ca"], "--cert",
             cert, "--key", key, "--dealers", a.dealers, "--skus", a.skus, "--window", a.window,
             "--timeout-s", a.load_timeout], timeout=a.load_timeout + 30)
    flood = bl.last_line_with(r.stdout, "published")
    bl.wait_alive([hub], lambda: metrics(http).get("depot_hub_messages_applied_total", 0)
                  - applied0 >= total, 60, "%d messages applied" % total)
    rows = bl.wait_alive([hub], lambda: len(api(http, "/api/v1/stock", TOKEN)) == total and total,
                         60, "%d stock rows in the API" % total, interval=1.0)
    return flood, time.monotonic() - t0, rows


def http_load(http, path, requests, a, token=None):
    argv = [bl.testbin_path("http_load"), "--port", http, "--path", path,
            "--connections", a.connections, "--requests", requests, "--seconds", a.seconds]
    if token:
        argv += ["--header", "Authorization: Bearer " + token]
    r = run(argv, timeout=a.seconds + 60)
    return bl.parse_kv(bl.last_line_with(r.stdout, "rps"))


def reset_peak(pid):
    """Sets the process's VmHWM back to its VmRSS (proc(5), clear_refs "5"), so the next
    VmHWM is the peak of what follows; False where the kernel does not allow it."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def run_endpoint(hub, http, path, requests, a, token):
    http_load(http, path, max(2, min(requests // 20, 500)), a, token)  # warm-up, not reported
    peak = reset_peak(hub.p.pid)
    w = bl.Window({"hub": hub})
    res = http_load(http, path, requests, a, token)
    res["hub"] = w.close()["hub"]
    res["peak"] = res["hub"]["VmHWM"] if peak else None
    return res


def report(a, flood, load_s, results, loaded, mem):
    base = results[0][1]
    rows = []
    for label, r in results:
        rps, p99 = float(r["rps"]), float(r["p99_ms"])
        cpu_ms = 1000.0 * r["hub"]["cpu_s"] / max(int(r["requests"]), 1)
        rows.append([label, "%s/%s" % (r["ok"], r["requests"]), r["errors"], "%.0f" % rps,
                     r["p50_ms"], r["p90_ms"], r["p99_ms"], r["max_ms"],
                     "%.0f" % float(r["bytes_per_response"]), "%.1f %%" % r["hub"]["cpu_pct"],
                     "%.3f" % cpu_ms, bl.mib(r["hub"]["VmRSS"]),
                     bl.mib(r["peak"]) if r["peak"] is not None else "n/a",
                     bl.ratio(float(base["rps"]), rps),
                     bl.ratio(p99, float(base["p99_ms"]))])
    bl.table("depot-hub HTTP API on %s, %d dealers x %d SKUs = %d stock rows; http_load: %d "
             "keep-alive connections, closed loop" % (a.store, a.dealers, a.skus,
                                                      a.dealers * a.skus, a.connections),
             ["endpoint", "ok/requests", "errors", "rps", "p50 ms", "p90 ms", "p99 ms", "max ms",
              "bytes/resp", "hub CPU", "hub CPU ms/req", "hub RSS after", "hub peak in run",
              "healthz rps / rps",
              "p99 / healthz p99"], rows)
    print("\n  stock loaded through the broker: %s (%.1f s to all rows listed)"
          % (flood.strip(), load_s))
    for when, m in (("after loading (one full listing served), VmHWM since start", loaded),
                    ("after the runs, VmHWM of the last run", mem)):
        print("  hub memory %s: VmRSS %s, VmHWM %s (RssAnon %s), %d threads"
              % (when, bl.mib(m["VmRSS"]), bl.mib(m["VmHWM"]), bl.mib(m["RssAnon"]), m["Threads"]))
    print("  hub peak in run: VmHWM over the run alone (reset before it through "
          "/proc/PID/clear_refs), with %d requests at once" % a.connections)
    print("  hub CPU is %% of one core over each run (the machine has %d cores; http_load runs on "
          "the same machine)" % os.cpu_count())


def record(a, results):
    """The figures of the comparison table (benchlib.record), /healthz as the baseline."""
    base, one, every = results[0][1], results[1][1], results[2][1]
    sfx = "" if a.store == "sqlite" else ".pg"
    rows = a.dealers * a.skus
    peer = "/healthz, same hub and connections"
    bl.record("hub_api.stock_dealer.rps" + sfx, "GET /api/v1/stock?dealer=, %d rows: requests/s"
              % a.skus, float(one["rps"]), "req/s", peer, float(base["rps"]))
    bl.record("hub_api.stock_dealer.p99" + sfx, "GET /api/v1/stock?dealer=, %d rows: p99" % a.skus,
              float(one["p99_ms"]), "ms", peer, float(base["p99_ms"]))
    bl.record("hub_api.stock_all.rps" + sfx, "GET /api/v1/stock, all %d rows: requests/s" % rows,
              float(every["rps"]), "req/s", peer, float(base["rps"]))
    bl.record("hub_api.stock_all.p99" + sfx, "GET /api/v1/stock, all %d rows: p99" % rows,
              float(every["p99_ms"]), "ms", peer, float(base["p99_ms"]))
    bl.record("hub_api.stock_all.body" + sfx, "GET /api/v1/stock, all %d rows: body" % rows,
              float(every["bytes_per_response"]) / 1e6, "MB")
    if every["peak"] is not None and base["peak"] is not None:
        bl.record("hub_api.stock_all.peak_rss" + sfx,
                  "hub peak resident (VmHWM), %d full listings at once" % a.connections,
                  every["peak"] / bl.MIB, "MiB", peer, base["peak"] / bl.MIB)


def main():
    a = parse_args()
    try:
        return bench(a, lambda: None if a.store == "sqlite" else pg_url())
    finally:
        if pg_dir:
            stop(pg_dir)
        if top:
            shutil.rmtree(top, ignore_errors=True)


def pg_url():
    """A database on a PostgreSQL server of the benchmark's own (stopped by main)."""
    global top, pg_dir
    top = tempfile.mkdtemp(prefix="depot-pg-")
    os.chmod(top, 0o755)
    pg_dir = os.path.join(top, "pg")
    return create_database(start(pg_dir))


top = pg_dir = None


def bench(a, database):
    with Env("bench-hub") as env:
        pki = make_pki(env, [])
        broker, broker_port = start_broker(env, pki)
        hub, http = start_hub(env, pki, broker_port, tokens={"viewer": TOKEN}, log_level="info",
                              offline_after_s=3600, db=database())
        flood, load_s, _ = load_stock(env, a, pki, broker_port, hub, http)
        loaded = bl.memory(hub.p.pid)
        dealer = "D%04d" % min(123, a.dealers - 1)
        results = []
        for label, path, n, token in (
                ("/healthz (baseline)", "/healthz", a.requests_health, None),
                ("/api/v1/stock?dealer=%s" % dealer, "/api/v1/stock?dealer=" + dealer,
                 a.requests_dealer, TOKEN),
                ("/api/v1/stock (all rows)", "/api/v1/stock", a.requests_all, TOKEN)):
            results.append((label, run_endpoint(hub, http, path, n, a, token)))
        report(a, flood, load_s, results, loaded, bl.memory(hub.p.pid))
        record(a, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
