#!/usr/bin/python3
"""Benchmark: N simulated dealers' gateways at once against the broker and the hub.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_dealer_load.py --dealers 10000 --seconds 300

Set-up, all real programs on 127.0.0.1: Mosquitto with mutual TLS and the
config depotctl writes; depot-hub on SQLite (default) or, with --store
postgresql, on a PostgreSQL server of the benchmark's own
(tests/tools/pg_fixture.py); tests/bench/dealer_load playing N dealers, each
its own certificate (issued for the run from a CSR by Depot's CA code, the
time it takes printed), its own TLS connection, its own ledger and growing message ids, in
one epoll loop: a stock message every --stock-every-ms per dealer, a
movements batch (a pick, chained) every --move-every-ms and a signed order
every --order-every-ms, resent until the hub acknowledges them. At the end dealer_load asks the hub's API per
dealer what was applied: lost and doubled messages are counted, and the run
fails with any.

Printed: the time to connect every dealer, messages sent, resent, lost,
doubled, and the hub's and the broker's CPU (% of one core over the traffic)
and peak resident memory. The broker needs a descriptor per dealer and
dealer_load three (a socket and libmosquitto's wake-up pair), so the dealers
are split over one dealer_load per PER_PROCESS of them (ids L0....,
L1....); the limits of open files are raised to the hard one.
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import Env  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from hubenv import start_hub  # noqa: E402
from pgenv import create_database, start, stop  # noqa: E402

TOKEN = "bench-load-token"
PER_PROCESS = 5000  # dealers of one dealer_load: 3 descriptors each, under a 20,000 limit


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dealers", type=int, default=100, help="default 100")
    ap.add_argument("--seconds", type=int, default=60, help="traffic, default 60")
    ap.add_argument("--stock-every-ms", type=int, default=10000, help="per dealer, default 10000")
    ap.add_argument("--order-every-ms", type=int, default=0,
                    help="a signed order per dealer this often, 0 (default): none")
    ap.add_argument("--move-every-ms", type=int, default=0,
                    help="a movements batch per dealer this often, 0 (default): none")
    ap.add_argument("--connect-rate", type=int, default=500, help="per second, default 500")
    ap.add_argument("--drain-s", type=int, default=120, help="default 120")
    ap.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    a = ap.parse_args()
    if not 1 <= a.dealers <= 20000:
        ap.error("--dealers 1..20000")
    return a


def main():
    a = parse_args()
    if not bl.raise_open_files(a.dealers, PER_PROCESS):
        return 2
    top = pg_dir = None
    try:
        with Env("bench-dealer-load") as env:
            pki = make_pki(env, [])
            certs = env.path("certs")  # issued anew each run by dealer_load (timed)
            broker, port = start_broker(env, pki)
            db = None
            if a.store == "postgresql":
                top = tempfile.mkdtemp(prefix="depot-pg-")
                os.chmod(top, 0o755)
                pg_dir = os.path.join(top, "pg")
                db = create_database(start(pg_dir))
            hub, http = start_hub(env, pki, port, tokens={"admin": ("admin", TOKEN)}, db=db,
                                  log_level="info")
            w = bl.Window({"hub": hub, "broker": broker})
            loads = []
            parts = -(-a.dealers // PER_PROCESS)
            for k in range(parts):  # a process per PER_PROCESS dealers, ids L<k>00000..
                n = a.dealers // parts + (1 if k < a.dealers % parts else 0)
                loads.append(env.start("dealer_load-%d" % k, [
                    bl.testbin_path("dealer_load"), "--port", port, "--ca", pki["ca"],
                    "--pki", pki["dir"], "--certs", certs, "--http", http, "--token", TOKEN,
                    "--prefix", "L%d" % k, "--dealers", n, "--seconds", a.seconds,
                    "--stock-every-ms", a.stock_every_ms, "--order-every-ms", a.order_every_ms,
                    "--move-every-ms", a.move_every_ms,
                    "--connect-rate", max(1, a.connect_rate // parts), "--drain-s", a.drain_s]))
            bl.wait_alive([], lambda: not any(p.alive() for p in loads),
                          900 + a.seconds + a.drain_s, "dealer_load to finish", interval=1.0)
            usage = w.close()
            issued = {"issued": 0, "issue_seconds": 0.0}
            res = {}
            for p in loads:
                i = bl.parse_kv(bl.last_line_with(p.out(), "issued"))
                issued["issued"] += int(i["issued"])
                issued["issue_seconds"] = max(issued["issue_seconds"], float(i["issue_seconds"]))
                r = bl.parse_kv(bl.last_line_with(p.out(), "dealers"))
                for key in ("dealers", "connected", "sent", "resent", "acked", "lost", "doubled",
                            "orders", "orders_missing", "orders_doubled", "movements",
                            "movements_wrong"):
                    res[key] = res.get(key, 0) + int(r[key])
                for key in ("connect_seconds", "seconds"):
                    res[key] = max(res.get(key, 0.0), float(r[key]))
            res["rate"] = "%.1f/s" % (res["sent"] / res["seconds"])
            bl.table("%d dealers, a stock message every %d ms each, %d s, hub on %s" % (
                a.dealers, a.stock_every_ms, a.seconds, a.store),
                ["figure", "value"],
                [["certificates issued", "%s in %.1f s" % (
                    issued["issued"], issued["issue_seconds"])],
                 ["dealers connected", "%s of %s" % (res.get("connected"), res.get("dealers"))],
                 ["time to connect all, s", res.get("connect_seconds")],
                 ["messages sent / resent / acked", "%s / %s / %s" % (
                     res.get("sent"), res.get("resent"), res.get("acked"))],
                 ["lost / doubled", "%s / %s" % (res.get("lost"), res.get("doubled"))],
                 ["orders sent / missing / doubled", "%s / %s / %s" % (
                     res.get("orders"), res.get("orders_missing"), res.get("orders_doubled"))],
                 ["movements batches sent / dealers whose chain is wrong", "%s / %s" % (
                     res.get("movements"), res.get("movements_wrong"))],
                 ["rate, msg/s", res.get("rate")],
                 ["hub CPU, % of a core", "%.1f" % usage["hub"]["cpu_pct"]],
                 ["hub VmHWM", bl.mib(usage["hub"]["VmHWM"])],
                 ["broker CPU, % of a core", "%.1f" % usage["broker"]["cpu_pct"]],
                 ["broker VmHWM", bl.mib(usage["broker"]["VmHWM"])]])
            bl.record("load.connect_s.n%d" % a.dealers, "time to connect %d dealers (own "
                      "certificates, mutual TLS)" % a.dealers, res["connect_seconds"], "s")
            bl.record("load.lost.n%d" % a.dealers, "messages lost of %s, %d dealers, hub on %s" % (
                res.get("sent"), a.dealers, a.store), float(res["lost"]), "messages", None, None,
                "value<1")
            bl.record("load.doubled.n%d" % a.dealers, "messages applied twice, %d dealers" %
                      a.dealers, float(res["doubled"]), "messages", None, None, "value<1")
            bl.record("load.hub_cpu.n%d" % a.dealers, "hub CPU with %d dealers, %% of a core" %
                      a.dealers, usage["hub"]["cpu_pct"], "% core")
            bl.record("load.broker_cpu.n%d" % a.dealers, "broker CPU with %d dealers, %% of a "
                      "core" % a.dealers, usage["broker"]["cpu_pct"], "% core")
            failed = [p for p in loads if p.p.returncode != 0]
            for p in failed:
                print("%s failed (%d):\n%s" % (p.name, p.p.returncode, p.log()[-2000:]))
            if failed:
                return 1
    finally:
        if pg_dir:
            stop(pg_dir)
            shutil.rmtree(top, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
