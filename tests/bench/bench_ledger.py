#!/usr/bin/python3
"""Durable scan events per second through the gateway's ledger, beside
SQLite's raw batched insert of the same rows (tests/bench/bench_ledger.c,
built into $DEPOT_TESTBIN). Full size:

    python3 tests/bench/bench_ledger.py --events 10000 --batch 8 --runs 3

Prints the program's lines, then one table (medians and spread of the runs)
and keeps two figures for bench_all.py: ledger.events_per_s (beside the raw
insert's events/s, target ratio >= 0.7) and ledger.commit_p99_ms (an event's
latency to its durable commit, beside the raw batch commit's p99). The
ledger's log goes to a file that is shown only when the run fails.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=10000, help="scan events per run")
    ap.add_argument("--batch", type=int, default=8,
                    help="events arriving at once (one per terminal thread); the raw batch size")
    ap.add_argument("--runs", type=int, default=3, help="alternating Depot/raw runs")
    ap.add_argument("--skus", type=int, default=100)
    ap.add_argument("--dir", default="/var/tmp",
                    help="parent folder of the ledger files (a real disk, not tmpfs)")
    ap.add_argument("--timeout", type=float, default=1200, help="bound of the whole run, s")
    return ap.parse_args()


def summary(out):
    """{key: (median, min, max)} of the program's summary lines."""
    s = {}
    for line in out.splitlines():
        kv = bl.parse_kv(line)
        if "key" in kv and "median" in kv:
            s[kv["key"]] = (float(kv["median"]), float(kv["min"]), float(kv["max"]))
    return s


def cell(t, fmt):
    return (fmt + " (" + fmt + "-" + fmt + ")") % t


def main():
    a = parse_args()
    argv = [bl.testbin_path("bench_ledger"), "--events", str(a.events), "--batch", str(a.batch),
            "--runs", str(a.runs), "--skus", str(a.skus), "--dir", a.dir]
    with tempfile.TemporaryFile(mode="w+") as log:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, text=True,
                           timeout=a.timeout)
        sys.stdout.write(r.stdout)
        if r.returncode != 0:
            log.seek(0)
            sys.stdout.write("--- bench_ledger failed (exit %d), its log:\n%s\n"
                             % (r.returncode, log.read()[-4000:]))
            return 1
    s = summary(r.stdout)
    bl.table("Ledger: %d scan events in bursts of %d, median (min-max) of %d run(s)"
             % (a.events, a.batch, a.runs),
             ["", "events/s", "p50 ms", "p99 ms", "max ms", "events/commit", "CPU us/event"],
             [["depot ledger (gw_terminal_scan)", cell(s["depot_events_per_s"], "%.0f"),
               cell(s["depot_p50_ms"], "%.2f"), cell(s["depot_p99_ms"], "%.2f"),
               cell(s["depot_max_ms"], "%.2f"), cell(s["depot_events_per_commit"], "%.2f"),
               cell(s["depot_cpu_us"], "%.0f")],
              ["raw batched insert (per batch)", cell(s["raw_events_per_s"], "%.0f"),
               cell(s["raw_p50_ms"], "%.2f"), cell(s["raw_p99_ms"], "%.2f"), "",
               "%d" % a.batch, cell(s["raw_cpu_us"], "%.0f")]])
    print("\ndepot / raw events/s: %s (target >= 0.70)" % cell(s["ratio"], "%.2f"))
    bl.record("ledger.events_per_s", "ledger durable scan events/s (bursts of %d)" % a.batch,
              s["depot_events_per_s"][0], "events/s", "SQLite raw batched insert (same pragmas)",
              s["raw_events_per_s"][0], "ratio>=0.7")
    bl.record("ledger.commit_p99_ms", "ledger scan event to durable commit, p99 (bursts of %d)"
              % a.batch, s["depot_p99_ms"][0], "ms", "SQLite raw batch commit p99",
              s["raw_p99_ms"][0], None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
