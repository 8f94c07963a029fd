#!/usr/bin/python3
"""Runs tests/bench/bench_ranking.c (built into $DEPOT_TESTBIN) with the given
arguments and prints its figures; bench.smoke runs it tiny. Full size:

    python3 tests/bench/bench_ranking.py --dealers 10000 --days 90 --skus 50
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTBIN = os.environ.get("DEPOT_TESTBIN", os.path.join(HERE, "../../build/tests"))


def main():
    r = subprocess.run([os.path.join(TESTBIN, "bench_ranking")] + sys.argv[1:],
                       capture_output=True, text=True, timeout=1800)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
