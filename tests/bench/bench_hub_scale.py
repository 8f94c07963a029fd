#!/usr/bin/python3
"""Benchmark: stock messages applied per second by 1, 2 and 4 depot-hub instances
sharing one PostgreSQL database, beside one hub on SQLite and beside the bare
libmosquitto subscriber, in the same run, on the same broker and flood.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_hub_scale.py --dealers 200 --skus 100 --hubs 1,2,4 --runs 3

Set-up, all real programs on 127.0.0.1: Mosquitto with mutual TLS; a
PostgreSQL server of the benchmark's own (tests/tools/pg_fixture.py: initdb in
a temp folder, a free port, fsync and synchronous_commit on, stopped at the
end); mqtt_flood --window 0 publishing D dealers' streams of S stock messages
as fast as the broker takes them (bench_hub_ingest.py's live mode). Each run:

  sqlite        one hub on a SQLite file
  pg xN         N hubs (N from --hubs) on one fresh PostgreSQL database, the
                broker spreading the shared subscription over them
  bare          mqtt_sink, the shared subscription at QoS 1, counting only

The figure is messages applied per second, from the first applied to the
last (a bounded poll of every hub's /metrics every 20 ms), with the CPU per
message of the hubs (summed) and of the PostgreSQL server (every process of
the postmaster). With --sample-waits, where the ingest workers' connections
spend the run (pg_stat_activity every 50 ms): waiting for the write lock,
running a statement, on I/O, or in a transaction while the hub works. The
ratio of N hubs to one names whether a second hub
helps; the database CPU and the write lock (one writer at a time, see the
README's Scale-out) say where the limit is. Figures only.
"""
import argparse
import os
import shutil
import tempfile
import threading
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
import bench_hub_ingest as ingest  # noqa: E402
from harness import Env  # noqa: E402
from broker import hub_instance, make_pki, start_broker  # noqa: E402
from hubenv import metrics, start_hub  # noqa: E402
from pgenv import create_database, start, stop  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dealers", type=int, default=200, help="default 200")
    ap.add_argument("--skus", type=int, default=100, help="messages per dealer, default 100")
    ap.add_argument("--hubs", default="1,2,4", help="hub counts on PostgreSQL, default 1,2,4")
    ap.add_argument("--runs", type=int, default=3, help="runs of each side, default 3")
    ap.add_argument("--timeout", type=float, default=300.0, help="bound on one run, default 300 s")
    ap.add_argument("--sample-waits", action="store_true",
                    help="print where the ingest workers' database connections spend the run")
    ap.add_argument("--statements", action="store_true",
                    help="print the statements of each PostgreSQL run per message "
                         "(pg_stat_statements): calls, time, share")
    a = ap.parse_args()
    a.hubs = [int(x) for x in a.hubs.split(",") if x]
    if not a.hubs or any(not 1 <= n <= 8 for n in a.hubs):
        ap.error("--hubs: counts 1..8")
    if not 1 <= a.dealers <= 10000 or not 1 <= a.skus <= 1000 or a.dealers * a.skus > 40000:
        ap.error("--dealers 1..10000, --skus 1..1000, dealers x skus <= 40000")
    if not 1 <= a.runs <= 20:
        ap.error("--runs 1..20")
    return a


def server_pids(pg_dir):
    """The postmaster of the server in pg_dir and its children (backends, writers)."""
    with open(os.path.join(pg_dir, "data", "postmaster.pid")) as f:
        master = int(f.readline())
    pids = [master]
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    if int(f.read().rpartition(")")[2].split()[1]) == master:
                        pids.append(int(p))
            except (OSError, ValueError, IndexError):
                pass
    return pids


def ticks_of(pids):
    total = 0
    for pid in pids:
        try:
            total += bl.cpu_ticks(pid)
        except OSError:
            pass  # a backend that ended: its CPU is no longer counted anywhere
    return total


class WaitSampler:
    """Where the hubs' database connections are, sampled every 50 ms through psql from
    pg_stat_activity while a run lasts: waiting for the write lock (an advisory lock),
    running a statement, waiting on the server's I/O or WAL, or idle in a transaction (the
    hub working between two statements) or idle (between transactions)."""

    def __init__(self, url):
        self.url, self.counts, self.stop = url, {}, threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        sql = ("SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, '') "
               "FROM pg_stat_activity WHERE datname = current_database() "
               "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        while not self.stop.wait(0.05):
            for line in psql(self.url, sql, check=False).splitlines():
                state, wtype, wev = (line.split("\t") + ["", "", ""])[:3]
                if wtype == "Lock" and wev == "advisory":
                    key = "write lock"
                elif state == "active" and wtype in ("IO", "LWLock") :
                    key = "I/O, WAL"
                elif state == "active":
                    key = "statement"
                elif state == "idle in transaction":
                    key = "hub, in a transaction"
                else:
                    key = "idle"
                self.counts[key] = self.counts.get(key, 0) + 1

    def close(self):
        """Shares of the busy samples: the ingest workers' connections (the API's sit idle)."""
        self.stop.set()
        self.t.join()
        busy = {k: v for k, v in self.counts.items() if k != "idle"}
        total = sum(busy.values()) or 1
        return {k: v / total for k, v in busy.items()}


def psql(url, sql, check=True):
    """psql's rows, tab-separated (check=False: whatever it printed, even if it failed)."""
    return subprocess.run(["psql", url, "-AtXq", "-F", "\t", "-c", sql], capture_output=True,
                          text=True, check=check).stdout


def statements_reset(url):
    psql(url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; "
              "SELECT pg_stat_statements_reset()")


def statements_print(url, tag, n):
    """The run's statements in this database, by total time: calls and time per message."""
    rows = psql(url, "SELECT calls, total_exec_time, regexp_replace(query, '\\s+', ' ', 'g') "
                     "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE "
                     "datname = current_database()) ORDER BY total_exec_time DESC")
    rows = [r.split("\t", 2) for r in rows.splitlines() if r.count("\t") >= 2]
    total = sum(float(r[1]) for r in rows) or 1.0
    calls = sum(int(r[0]) for r in rows)
    print("  %s: %.1f statements per message, %.0f us of statement time per message; the top:"
          % (tag, calls / n, total * 1000 / n))
    for c, t, q in rows[:12]:
        print("    %5.2f/msg %6.1f us/msg %3.0f %%  %s" % (int(c) / n, float(t) * 1000 / n,
                                                         100 * float(t) / total, q[:90]))


def run_hubs(env, pki, port, a, tag, n_hubs, db, pg_dir):
    """One run of n hubs on db: (messages/s, hub CPU us/msg, database CPU us/msg). Every run
    of a side uses the side's hub identities (tag "pg2-1", run 1 of two hubs, runs pg2-0 and
    pg2-1, as run 0 did): a broker config names at most 32."""
    n = a.dealers * a.skus
    hubs = []
    for k in range(n_hubs):
        name, ident = "%s-%d" % (tag, k), "%s-%d" % (tag.rsplit("-", 1)[0], k)
        cert, key = hub_instance(pki, ident)
        hubs.append(start_hub(env, dict(pki, hub_cert=cert, hub_key=key), port, name=name, db=db,
                              instance=ident))
    base = sum(ingest.applied(http) for _, http in hubs)
    ticks0 = ticks_of([p.p.pid for p, _ in hubs])
    db0 = ticks_of(server_pids(pg_dir)) if pg_dir else 0
    sampler = WaitSampler(db) if pg_dir and a.sample_waits else None
    if pg_dir and a.statements:
        statements_reset(db)
    pub = ingest.flood(env, pki, port, a, "flood-" + tag)
    first = last = None
    deadline = time.monotonic() + a.timeout
    while True:
        got = sum(ingest.applied(http) for _, http in hubs) - base
        now = time.monotonic()
        if got > 0 and first is None:
            first = (now, got)
        if got >= n:
            last = (now, got)
            break
        if now >= deadline or not all(p.alive() for p, _ in hubs):
            raise AssertionError("%s applied %d of %d" % (tag, got, n))
        time.sleep(0.02)
    ticks = ticks_of([p.p.pid for p, _ in hubs]) - ticks0
    if sampler:
        waits = sampler.close()
        print("  %s: the ingest workers' database connections, share of their samples: %s" % (
            tag, ", ".join("%s %.0f %%" % (k, 100 * v) for k, v in
                           sorted(waits.items(), key=lambda kv: -kv[1]))))
    db_ticks = ticks_of(server_pids(pg_dir)) - db0 if pg_dir else 0
    if pg_dir and a.statements:
        statements_print(db, tag, n)
    bl.wait_alive([], lambda: not pub.alive(), a.timeout, "mqtt_flood done")
    for p, _ in hubs:
        p.stop()
    secs = last[0] - first[0]
    hz = os.sysconf("SC_CLK_TCK")
    return ((last[1] - first[1]) / secs if secs > 0 else float("nan"), ticks * 1e6 / hz / n,
            db_ticks * 1e6 / hz / n)


def spread(xs):
    return "%.0f (%.0f..%.0f)" % (statistics.median(xs), min(xs), max(xs))


def main():
    a = parse_args()
    names = ["sqlite-0"] + ["pg%d-%d" % (h, k) for h in a.hubs for k in range(h)]
    sides = ["sqlite"] + ["pg x%d" % h for h in a.hubs] + ["bare"]
    res = {s: [] for s in sides}
    top = tempfile.mkdtemp(prefix="depot-pg-")
    os.chmod(top, 0o755)  # the server's user must reach it
    pg_dir = os.path.join(top, "pg")
    try:
        server = start(pg_dir, settings={"shared_preload_libraries": "pg_stat_statements"}
                       if a.statements else None)
        with Env("bench-hub-scale") as env:
            measure(env, a, names, sides, res, server, pg_dir)
    finally:
        stop(pg_dir)
        shutil.rmtree(top, ignore_errors=True)
    report(a, sides, res)
    return 0


def measure(env, a, names, sides, res, server, pg_dir):
    pki = make_pki(env, [], hubs=names, observers=a.runs * (len(sides) + 1) + 2)
    broker, port = start_broker(env, pki)
    for i in range(a.runs):  # the sides in turn, so drift on a shared machine hits them all
        res["sqlite"].append(run_hubs(env, pki, port, a, "sqlite-%d" % i, 1,
                                      env.path("sqlite-%d.db" % i), None))
        for h in a.hubs:
            db = create_database(server)
            res["pg x%d" % h].append(run_hubs(env, pki, port, a, "pg%d-%d" % (h, i), h, db,
                                              pg_dir))
        rate, cpu = ingest.run_sink(env, pki, port, a, i)
        res["bare"].append((rate, cpu, 0.0))


def report(a, sides, res):
    bare = statistics.median(r[0] for r in res["bare"])
    one = statistics.median(r[0] for r in res["pg x%d" % a.hubs[0]])
    rows = []
    for s in sides:
        rates = [r[0] for r in res[s]]
        rows.append([s, spread(rates), "%.2f" % (statistics.median(rates) / bare),
                     "%.2f" % (statistics.median(rates) / one) if s.startswith("pg") else "",
                     spread([r[1] for r in res[s]]),
                     spread([r[2] for r in res[s]]) if s.startswith("pg") else ""])
    bl.table("stock messages applied per second: %d dealers x %d messages = %d per run, %d runs "
             "(median, min..max)" % (a.dealers, a.skus, a.dealers * a.skus, a.runs),
             ["side", "messages/s", "/ bare", "/ pg x%d" % a.hubs[0], "hub CPU us/msg",
              "database CPU us/msg"], rows)
    for h in a.hubs:
        bl.record("hub.scale.pg.x%d" % h, "hub ingest on PostgreSQL, %d hub(s), msg/s" % h,
                  statistics.median(r[0] for r in res["pg x%d" % h]), "msg/s",
                  "the same on PostgreSQL with %d hub" % a.hubs[0], one,
                  "ratio>=1.6" if h == 2 else None)
    bl.record("hub.scale.sqlite", "hub ingest on SQLite, 1 hub, msg/s",
              statistics.median(r[0] for r in res["sqlite"]), "msg/s", ingest.BARE, bare,
              "ratio>=0.8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
