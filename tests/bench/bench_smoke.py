#!/usr/bin/python3
"""bench.smoke: every benchmark orchestrator in a tiny mode, to prove the
programs work (they run to the end and print their figures). It asserts
nothing about any figure: timings on a shared test machine mean nothing.
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

RUNS = [
    (["bench_alerts.py", "--dealers", "20", "--skus", "10", "--updates", "5000"],
     ["baseline: stock row update alone", "alert engine alone", "engine / baseline ratio"]),
    (["bench_ledger.py", "--events", "200", "--batch", "4", "--runs", "1"],
     ["depot ledger (gw_terminal_scan)", "raw batched insert", "depot / raw events/s"]),
    (["bench_chain.py", "--batches", "50", "--seconds", "0", "--dir", "/tmp"],
     ["baseline: mbedTLS SHA-256", "baseline: mbedTLS ECDSA", "x the bound", "x without",
      "re-verified from the store"]),
    (["bench_webhooks.py", "--events", "200", "--rate", "20", "--seconds", "1",
      "--outage-events", "300", "--backoff-cap-s", "1", "--baseline", "200"],
     ["baseline: bare keep-alive POST loop", "flood: events delivered per second",
      "delay fact -> delivery p99", "backlog drained per second"]),
    (["bench_login.py", "--logins", "3", "--threads", "2", "--mem-kib", "8192", "--ops", "1"],
     ["baseline: bare crypto_pwhash", "login: hub_accounts_login", "parallel: 2 threads"]),
    (["bench_ranking.py", "--dealers", "50", "--days", "40", "--skus", "5"],
     ["update total: leaderboard up to date", "baseline: full recompute", "boards identical: yes"]),
    (["bench_dashboard.py", "--dealers", "10", "--skus", "10", "--runs", "1",
      "--load-timeout", "60"],
     ["dashboard: first paint", "dashboard: matrix ready", "baseline: first paint"]),
    (["bench_gateway.py", "--nodes", "20", "--seconds", "3", "--settle-timeout", "40"],
     ["CPU, % of one core", "polls answered in window", "VmHWM"]),
    (["bench_node_sim.py", "--nodes", "20", "--seconds", "2"],
     ["Node simulator, 20 scales", "sim us/reply", "simulator CPU per reply / bare loop CPU per poll"]),
    (["bench_gateway_small.py", "--seconds", "3", "--settle-timeout", "30"],
     ["VmRSS", "strip --strip-all", "polls answered in window"]),
    (["bench_hub_api.py", "--dealers", "10", "--skus", "10", "--requests", "200",
      "--seconds", "10", "--load-timeout", "60"],
     ["/healthz (baseline)", "/api/v1/stock?dealer=D0009", "/api/v1/stock (all rows)", "p99 ms"]),
    (["bench_hub_ingest.py", "--dealers", "10", "--skus", "20", "--runs", "1"],
     ["hub ingest, live", "bare subscriber", "draining a backlog", "acks published per message"]),
    (["bench_hub_scale.py", "--dealers", "10", "--skus", "20", "--hubs", "1,2", "--runs", "1"],
     ["stock messages applied per second", "pg x2", "database CPU us/msg"]),
    (["bench_dealer_load.py", "--dealers", "20", "--seconds", "3", "--stock-every-ms", "200",
      "--order-every-ms", "1000", "--drain-s", "30"],
     ["dealers connected", "20 of 20", "lost / doubled", "0 / 0"]),
    (["bench_policy_push.py", "--dealers", "20", "--wait-s", "60"],
     ["first dealer has it", "broker alone", "hub CPU until the last dealer had it",
      "20 / 0 / 0"]),
    (["bench_order_roundtrip.py", "--orders", "5", "--period-ms", "50"],
     ["Order round trip", "target p99 ms", "submit -> signed"]),
    (["bench_order_approvals.py", "--dealers", "3", "--per-dealer", "2", "--verify-seconds", "0.3",
      "--perf-seconds", "0", "--timeout", "60"],
     ["raw/1", "approvals/s (steady window)", "approved / rejected"]),
    (["bench_all.py", "--quick", "--runs", "1", "--only", "login"],
     ["Machine:", "Versions:", "login", "1 run(s) ok, 0 failed"]),
]

# The microcontroller boards' run, when the build made their images (DEPOT_MCU_BOARDS).
BIN = os.environ.get("DEPOT_BIN", os.path.join(HERE, "..", "..", "build", "bin"))
if os.path.isdir(os.path.join(os.path.dirname(BIN), "boards", "lm3s6965evb", "bin")):
    RUNS.append((["bench_mcu_rtu.py", "--seconds", "1", "--registers", "10"],
                 ["Node images against the budget", "lm3s6965evb depot-scale",
                  "stm32f103 depot-scanner", "ARM firmware under QEMU",
                  "the line's limit at 115200 baud"]))


def main():
    failed = 0
    for argv, expect in RUNS:
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, os.path.join(HERE, argv[0])] + argv[1:],
                           capture_output=True, text=True, timeout=100)
        missing = [e for e in expect if e not in r.stdout]
        ok = r.returncode == 0 and not missing
        print("%s %s (%.1fs)" % ("PASS" if ok else "FAIL", " ".join(argv), time.monotonic() - t0))
        if not ok:
            failed += 1
            print("exit %d, missing %s\n--- stdout\n%s\n--- stderr\n%s"
                  % (r.returncode, missing, r.stdout[-4000:], r.stderr[-6000:]))
        else:
            print(r.stdout)
    print("%d passed, %d failed" % (len(RUNS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
