#!/usr/bin/python3
"""Runs tests/bench/bench_alerts.c (built into $DEPOT_TESTBIN) with the given
arguments and prints its figures; bench.smoke runs it tiny. Full size:

    python3 tests/bench/bench_alerts.py --dealers 1000 --skus 100 --updates 200000

With DEPOT_BENCH_RESULTS set, keeps for bench_all.py alerts.updates_per_s: the
stock updates per second the alert engine alone evaluates, beside the store's
own stock row update, target 50,000 per second.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402


def main():
    rc, out = bl.run_program("bench_alerts", sys.argv[1:])
    engine = bl.figure_after(out, "alert engine alone (hub_alerts_on_message)")
    base = bl.figure_after(out, "baseline: stock row update alone (hub_store_apply)")
    if rc == 0 and engine is not None and base is not None:
        bl.record("alerts.updates_per_s", "stock updates evaluated per second by the alert engine",
                  round(engine), "updates/s", "stock row update alone (hub_store_apply)",
                  round(base), "value>=50000")
    return rc


if __name__ == "__main__":
    sys.exit(main())
