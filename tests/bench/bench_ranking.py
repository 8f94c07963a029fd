#!/usr/bin/python3
"""Runs tests/bench/bench_ranking.c (built into $DEPOT_TESTBIN) with the given
arguments and prints its figures; bench.smoke runs it tiny. Full size:

    python3 tests/bench/bench_ranking.py --dealers 10000 --days 90 --skus 50

With DEPOT_BENCH_RESULTS set, keeps for bench_all.py ranking.update_ms: the
milliseconds to bring the leaderboard up to date after one day's figures, beside a
full recompute from the raw figures (no target: the ratio shows the gain).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402


def main():
    rc, out = bl.run_program("bench_ranking", sys.argv[1:])
    update = bl.figure_after(out, "update total: leaderboard up to date after one day")
    full = bl.figure_after(out, "baseline: full recompute from the raw figures")
    if rc == 0 and update is not None and full is not None:
        bl.record("ranking.update_ms", "leaderboard up to date after one day's figures",
                  round(update * 1000.0, 1), "ms", "full recompute from the raw figures",
                  round(full * 1000.0, 1), None)
    return rc


if __name__ == "__main__":
    sys.exit(main())
