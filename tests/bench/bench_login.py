#!/usr/bin/python3
"""Runs tests/bench/bench_login.c (built into $DEPOT_TESTBIN) with the given
arguments and prints its figures; bench.smoke runs it tiny. Full size:

    python3 tests/bench/bench_login.py --logins 40 --threads 2

With DEPOT_BENCH_RESULTS set, keeps for bench_all.py login.ms: the milliseconds
of one hub login with the default Argon2id cost, beside a bare
crypto_pwhash_argon2id_str_verify (target: 50 to 250 ms).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402


def main():
    rc, out = bl.run_program("bench_login", sys.argv[1:])
    login = bl.figure_after(out, "login: hub_accounts_login:")
    bare = bl.figure_after(out, "baseline: bare crypto_pwhash_argon2id_str_verify:")
    if rc == 0 and login is not None and bare is not None:
        bl.record("login.ms", "one hub login, default Argon2id cost (target 50 to 250 ms)",
                  login, "ms", "bare crypto_pwhash_argon2id_str_verify", bare, "value<=250")
    return rc


if __name__ == "__main__":
    sys.exit(main())
