#!/usr/bin/python3
"""Benchmark: one policy pushed to N dealers' gateways, and the hub's CPU meanwhile.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_policy_push.py --dealers 10000

Set-up, all real programs on 127.0.0.1: Mosquitto with mutual TLS and the
config depotctl writes; depot-hub on SQLite (default) or, with --store
postgresql, on a PostgreSQL server of the benchmark's own; N simulated
gateways (tests/bench/dealer_load in its policy mode, one process per 5,000:
each dealer its own certificate and TLS connection, subscribed to its
down/ack and down/policy as a gateway is). Once every dealer is connected and
known to the hub:

1. baseline, the broker's fan-out alone: tests/bench/policy_fanout publishes
   a retained down/policy of one policy to every dealer's topic over one
   connection (a hub's identity), as fast as the broker takes them;
2. Depot: the admin publishes one policy with target "all" through the
   hub's API (POST /api/v1/policies); the hub fixes its N targets, marks them
   due and its ingest worker publishes each dealer's down/policy.

For each: the time from the publish (the fan-out's start, the POST) until the
first, the median, the 99th percentile and the last dealer had it, measured
on one monotonic clock by the receiving dealers. For Depot also: the hub's
CPU (user + system, seconds and % of one core) from the POST until the last
dealer had it, and the time until the hub knows every target has it (each
simulated gateway reports policy_delivered as the gateway does, an event in
its exactly-once stream; the coverage the API shows reaches N).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import Env, http_json  # noqa: E402
from broker import hub_instance, make_pki, start_broker  # noqa: E402
from hubenv import start_hub  # noqa: E402
from pgenv import create_database, start, stop  # noqa: E402

TOKEN = "bench-policy-token"
PER_PROCESS = 5000  # dealers of one dealer_load (bench_dealer_load.py)
BASELINE_ID = 1000000001  # the fan-out's policy id; the hub's first policy is 1


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dealers", type=int, default=1000, help="default 1000")
    ap.add_argument("--connect-rate", type=int, default=500, help="per second, default 500")
    ap.add_argument("--wait-s", type=int, default=600, help="per push, default 600")
    ap.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    a = ap.parse_args()
    if not 1 <= a.dealers <= 20000:
        ap.error("--dealers 1..20000")
    return a


def arrivals(loads, policy, t0_ms, timeout):
    """{first, p50, p99, last} in ms after t0_ms over every load's report of policy."""
    key = "policy=%d " % policy
    bl.wait_alive(loads, lambda: all(key in p.out() for p in loads), timeout,
                  "every dealer_load's report of policy %d" % policy, interval=0.05)
    got, dealers, firsts, p50s, p99s, lasts = 0, 0, [], [], [], []
    for p in loads:
        r = bl.parse_kv([ln for ln in p.out().splitlines() if ln.startswith(key)][-1])
        got += int(r["received"])
        dealers += int(r["dealers"])
        if int(r["received"]):
            firsts.append(int(r["first_ms"]))
            p50s.append(int(r["p50_ms"]))
            p99s.append(int(r["p99_ms"]))
            lasts.append(int(r["last_ms"]))
    if not lasts:
        return {"received": 0, "dealers": dealers}
    # per process percentiles: the worst process's is quoted (the processes are equal halves)
    return {"received": got, "dealers": dealers, "first": min(firsts) - t0_ms,
            "p50": max(p50s) - t0_ms, "p99": max(p99s) - t0_ms, "last": max(lasts) - t0_ms}


def known(http, n):
    """True when the hub's dealer list (every row, streamed) has n rows."""
    st, rows = http_json("http://127.0.0.1:%s/api/v1/dealers" % http, TOKEN, timeout=60)
    return st == 200 and len(rows) >= n


def main():
    a = parse_args()
    if not bl.raise_open_files(a.dealers, PER_PROCESS):
        return 2
    top = pg_dir = None
    try:
        with Env("bench-policy-push") as env:
            pki = make_pki(env, [], hubs=("fanout",))
            certs = env.path("certs")
            broker, port = start_broker(env, pki)
            db = None
            if a.store == "postgresql":
                top = tempfile.mkdtemp(prefix="depot-pg-")
                os.chmod(top, 0o755)
                pg_dir = os.path.join(top, "pg")
                db = create_database(start(pg_dir))
            hub, http = start_hub(env, pki, port, tokens={"admin": ("admin", TOKEN)}, db=db,
                                  log_level="info")
            parts = -(-a.dealers // PER_PROCESS)
            loads, groups = [], []
            for k in range(parts):
                n = a.dealers // parts + (1 if k < a.dealers % parts else 0)
                groups.append("L%d:%d" % (k, n))
                loads.append(env.start("dealer_load-%d" % k, [
                    bl.testbin_path("dealer_load"), "--port", port, "--ca", pki["ca"],
                    "--pki", pki["dir"], "--certs", certs, "--http", http, "--token", TOKEN,
                    "--prefix", "L%d" % k, "--dealers", n, "--policy-ids",
                    "%d,1" % BASELINE_ID, "--policy-deliver", "1", "--policy-wait-s", a.wait_s,
                    "--connect-rate", max(1, a.connect_rate // parts), "--drain-s", 120]))
            t = time.monotonic()
            bl.wait_alive(loads + [hub, broker], lambda: all("ready=" in p.out() for p in loads),
                          900, "every dealer connected", interval=0.5)
            connect_s = time.monotonic() - t
            bl.wait_alive([hub, broker], lambda: known(http, a.dealers), 300,
                          "the hub knowing all %d dealers" % a.dealers, interval=0.5)

            # 1. the broker's fan-out alone
            cert, key = hub_instance(pki, "fanout")
            t0 = time.monotonic()
            rc, out = bl.run_program("policy_fanout", [
                "--port", str(port), "--ca", pki["ca"], "--cert", cert, "--key", key,
                "--groups", ",".join(groups), "--policy", str(BASELINE_ID)], timeout=a.wait_s)
            assert rc == 0, "policy_fanout failed (%d)" % rc
            base = arrivals(loads, BASELINE_ID, t0 * 1000.0, a.wait_s)
            fan = bl.parse_kv(bl.last_line_with(out, "published"))

            # 2. Depot: one POST, the hub does the rest
            ticks0 = bl.cpu_ticks(hub.p.pid)
            t0 = time.monotonic()
            st, body = http_json("http://127.0.0.1:%s/api/v1/policies" % http, TOKEN, "POST", {
                "title": "Spring promotion: 5 % off pumps", "body": "Until the end of May.",
                "notice": "PROMO PUMPS -5%", "valid_from": "2026-01-01",
                "valid_to": "2099-12-31", "target": {"kind": "all", "value": ""}}, timeout=120)
            post_s = time.monotonic() - t0
            assert st == 201 and body["policy"] == 1, (st, body)
            depot = arrivals(loads, 1, t0 * 1000.0, a.wait_s)
            hub_cpu_s = (bl.cpu_ticks(hub.p.pid) - ticks0) / float(bl.CLK_TCK)
            window_s = depot.get("last", 0) / 1000.0

            def covered():
                st, d = http_json("http://127.0.0.1:%s/api/v1/policies/1" % http, TOKEN)
                return st == 200 and d["coverage"]["delivered"] >= a.dealers
            bl.wait_alive([hub, broker], covered, a.wait_s, "coverage: delivered to all",
                          interval=0.2)
            covered_s = time.monotonic() - t0
            bl.wait_alive([], lambda: not any(p.alive() for p in loads), 300,
                          "dealer_load to finish (its delivered events acknowledged, checked)",
                          interval=0.5)
            end = {}
            for p in loads:
                r = bl.parse_kv(bl.last_line_with(p.out(), "dealers"))
                for k in ("connected", "sent", "lost", "doubled", "policy_missing"):
                    end[k] = end.get(k, 0) + int(r[k])

            def ms(v):
                return "%.0f" % v if v is not None else "-"
            rows = []
            for label, k in (("first dealer has it, ms", "first"), ("median, ms", "p50"),
                             ("99th percentile, ms", "p99"), ("last dealer has it, ms", "last")):
                rows.append([label, ms(depot.get(k)), ms(base.get(k)),
                             bl.ratio(depot.get(k), base.get(k))])
            rows.append(["dealers that have it", "%d of %d" % (depot["received"], a.dealers),
                         "%d of %d" % (base["received"], a.dealers), ""])
            bl.table("One policy to %d dealers (hub on %s): Depot (POST /api/v1/policies, "
                     "target all) beside the broker's fan-out alone (policy_fanout)"
                     % (a.dealers, a.store), ["figure", "Depot", "broker alone", "ratio"], rows)
            bl.table("Around it", ["figure", "value"], [
                ["dealers connected (own certificates, mutual TLS), s", "%.1f" % connect_s],
                ["the POST answered (targets fixed, marked due), ms", "%.0f" % (post_s * 1000)],
                ["hub CPU until the last dealer had it, s", "%.2f" % hub_cpu_s],
                ["hub CPU, % of one core over that window",
                 "%.1f" % (100.0 * hub_cpu_s / window_s if window_s > 0 else 0.0)],
                ["hub knows all delivered (coverage = N), s", "%.2f" % covered_s],
                ["delivered events sent / lost / doubled", "%d / %d / %d" % (
                    end["sent"], end["lost"], end["doubled"])],
                ["broker fan-out: publishes acknowledged, s", fan.get("seconds")]])
            bl.record("policy_push.last_ms.n%d" % a.dealers, "one policy to %d dealers: the "
                      "last gateway has it, ms" % a.dealers, depot.get("last"), "ms",
                      "broker fan-out alone", base.get("last"))
            bl.record("policy_push.hub_cpu_s.n%d" % a.dealers, "hub CPU for one policy to %d "
                      "dealers, s" % a.dealers, hub_cpu_s, "s")
            failed = [p for p in loads if p.p.returncode != 0]
            for p in failed:
                print("%s failed (%d):\n%s" % (p.name, p.p.returncode, p.log()[-2000:]))
            return 1 if failed or depot["received"] < a.dealers else 0
    finally:
        if pg_dir:
            stop(pg_dir)
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
