#!/usr/bin/python3
"""Runs tests/bench/bench_alerts.c (built into $DEPOT_TESTBIN) with the given
arguments and prints its figures; bench.smoke runs it tiny. Full size:

    python3 tests/bench/bench_alerts.py --dealers 1000 --skus 100 --updates 200000
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402


def main():
    return bl.run_passthrough("bench_alerts", sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
