#!/usr/bin/python3
"""Runs tests/bench/bench_ranking.c (built into $DEPOT_TESTBIN) with the given
arguments and prints its figures; bench.smoke runs it tiny. Full size:

    python3 tests/bench/bench_ranking.py --dealers 10000 --days 90 --skus 50
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402


def main():
    return bl.run_passthrough("bench_ranking", sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
