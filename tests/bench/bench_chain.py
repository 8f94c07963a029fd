#!/usr/bin/python3
"""Movements whose chain the hub verifies per second (cloud/hub/ledger.h), beside
mbedTLS's bare SHA-256 and ECDSA P-256 verify rates measured in the same run
(tests/bench/bench_chain.c, built into $DEPOT_TESTBIN). Full size:

    python3 tests/bench/bench_chain.py --batches 2000 --batch 8 --seconds 3

Prints the program's lines and its table: the floors (one hash, one verify),
the bound they give for a batch (batch x SHA-256 + one verify), the hub's check
(hub_ledger_check) as a ratio of that bound, the apply into a SQLite store with
and without the chain, and a period re-verified from the store.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, default=2000, help="signed batches")
    ap.add_argument("--batch", type=int, default=8, help="movements per batch (the gateway's)")
    ap.add_argument("--seconds", type=int, default=3, help="each floor and the check run this long")
    ap.add_argument("--dir", default="/var/tmp", help="parent folder of the SQLite stores")
    ap.add_argument("--timeout", type=float, default=900, help="bound of the whole run, s")
    a = ap.parse_args()
    argv = [bl.testbin_path("bench_chain"), "--batches", str(a.batches), "--batch",
            str(a.batch), "--seconds", str(a.seconds), "--dir", a.dir]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=a.timeout)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        return r.returncode
    f = {}
    for line in r.stdout.splitlines():
        kv = bl.parse_kv(line)
        if "mode" in kv and "rate" in kv:
            f[kv["mode"]] = float(kv["rate"].rstrip("/s"))
    b = a.batch
    bl.record("chain.check_per_s.b%d" % b,
              "movements whose chain the hub checks per second, batches of %d" % b,
              f["check"], "movements/s", "bound: %d bare SHA-256 + 1 bare ECDSA verify per batch"
              % b, f["bound"], "ratio>=0.8")
    bl.record("chain.apply_per_s.b%d" % b,
              "movements checked and applied with the chain per second, batches of %d" % b,
              f["apply_chained"], "movements/s", "the same batches applied without the chain",
              f["apply_unchained"])
    bl.record("chain.verify_per_s.b%d" % b,
              "movements re-verified from the hub's store per second (ledger verify)",
              f["verify"], "movements/s", "bound (as above)", f["bound"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
