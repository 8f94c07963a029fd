#!/usr/bin/python3
"""Every Depot benchmark, run several times, and one comparison table.

    python3 tests/bench/bench_all.py --build build            # full size, 3 runs each
    python3 tests/bench/bench_all.py --quick --runs 1         # tiny sizes: proves it works
    python3 tests/bench/bench_all.py --only gateway --runs 5 --out table.md

`sh tests/bench/run` installs the packages, builds build-bench/ and runs this.

Each orchestrator of tests/bench in RUNS is started with DEPOT_BENCH_RESULTS
naming a fresh file; the figures it keeps with benchlib.record (one JSON line
each: key, label, value, unit, peer, peer_value, target) are read back and
grouped by key over every run. Its own output goes to a log file in the
output folder; the terminal gets one progress line per run. The runs go
round-robin (every benchmark once, then every benchmark again, ...), so a
slow drift of the machine spreads over all of them.

The table shows, per figure: Depot's median over the runs with the spread
(min–max), the unit, the limit or peer measured in the same run and its
median, the ratio value / peer value (the median of the per-run ratios, with
their spread), the target and whether the median meets it. A run that fails
(non-zero exit, timeout) is a row "failed" with its log; an orchestrator
that is not in the tree is a row "not run (missing)"; one that ran but kept
no figure is listed as such and not repeated. The command never stops on a
failed run; it exits 1 at the end if any run failed.

The table starts with the machine (CPU, cores, memory, kernel, Debian), the
date, the git commit, the build and the versions of the libraries and peers.
Figures are printed, never judged as pass/fail of a test: this is not part
of the test suite (bench.smoke runs it once in --quick mode on one cheap
orchestrator to prove the aggregator itself works).
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
README = os.path.join(SRC, "README.md")
README_BEGIN = "<!-- bench_all: begin -->"
README_END = "<!-- bench_all: end -->"

# (name, orchestrator, full-size arguments, --quick arguments, timeout of one
# full-size run in seconds). Sizes from tests/bench/README.md, chosen so that
# three full runs of everything take about 45 minutes on 2 cores. Flat out
# uses 500 nodes: at the 5 ms period 100 nodes would cap the gateway at
# 20,000 polls/s, below the bare loop's flat-out rate, and measure the period.
RUNS = [
    ("gateway-n10", "bench_gateway.py",
     ["--nodes", "10", "--period-ms", "1000,50", "--seconds", "15"],
     ["--nodes", "10", "--period-ms", "1000,50", "--seconds", "3", "--settle-timeout", "40"], 600),
    ("gateway-n100", "bench_gateway.py",
     ["--nodes", "100", "--period-ms", "1000,50", "--seconds", "15"],
     ["--nodes", "20", "--period-ms", "1000", "--seconds", "3", "--settle-timeout", "40"], 600),
    ("gateway-n500", "bench_gateway.py",
     ["--nodes", "500", "--period-ms", "1000,50", "--seconds", "15"],
     ["--nodes", "20", "--period-ms", "1000", "--seconds", "3", "--settle-timeout", "40"], 900),
    ("gateway-flat-out", "bench_gateway.py",
     ["--nodes", "500", "--flat-out", "--seconds", "10"],
     ["--nodes", "10", "--flat-out", "--seconds", "2", "--settle-timeout", "40"], 600),
    ("gateway_small", "bench_gateway_small.py",
     ["--seconds", "20"],
     ["--seconds", "3", "--settle-timeout", "30"], 300),
    ("node_sim", "bench_node_sim.py",
     ["--nodes", "1000", "--seconds", "10", "--threads", "1,4"],
     ["--nodes", "20", "--seconds", "2"], 300),
    ("peers", "bench_peers.py",
     ["--nodes", "50,500", "--seconds", "20"],
     ["--nodes", "5", "--seconds", "3"], 1200),
    ("login", "bench_login.py",
     ["--logins", "40", "--threads", "2"],
     ["--logins", "3", "--threads", "2", "--mem-kib", "8192", "--ops", "1"], 300),
    ("ledger", "bench_ledger.py",
     ["--events", "10000", "--batch", "8", "--runs", "1"],
     ["--events", "200", "--batch", "4", "--runs", "1"], 600),
    ("mcu_rtu", "bench_mcu_rtu.py",
     ["--seconds", "10", "--registers", "10"],
     ["--seconds", "1", "--registers", "10"], 300),
    ("chain", "bench_chain.py",
     ["--batches", "2000", "--batch", "8", "--seconds", "3"],
     ["--batches", "50", "--seconds", "0", "--dir", "/tmp"], 600),
    ("webhooks", "bench_webhooks.py",
     ["--events", "5000", "--rate", "200", "--seconds", "10", "--outage-events", "36000"],
     ["--events", "200", "--rate", "20", "--seconds", "1", "--outage-events", "300",
      "--backoff-cap-s", "1", "--baseline", "200"], 900),
    ("hub_ingest", "bench_hub_ingest.py",
     ["--dealers", "200", "--skus", "100", "--runs", "1"],
     ["--dealers", "10", "--skus", "20", "--runs", "1"], 600),
    ("hub_scale", "bench_hub_scale.py",
     ["--dealers", "200", "--skus", "100", "--hubs", "1,2,4", "--runs", "1"],
     ["--dealers", "10", "--skus", "20", "--hubs", "1,2", "--runs", "1"], 900),
    ("dealer_load", "bench_dealer_load.py",
     ["--dealers", "10000", "--seconds", "300", "--stock-every-ms", "10000",
      "--order-every-ms", "600000", "--move-every-ms", "60000"],
     ["--dealers", "20", "--seconds", "3", "--stock-every-ms", "200", "--move-every-ms", "500",
      "--order-every-ms", "1500", "--drain-s", "30"], 1500),
    ("policy_push", "bench_policy_push.py",
     ["--dealers", "10000"],
     ["--dealers", "20", "--wait-s", "60"], 1500),
    ("hub_api", "bench_hub_api.py",
     ["--dealers", "1000", "--skus", "100"],
     ["--dealers", "10", "--skus", "10", "--requests", "200", "--seconds", "10",
      "--load-timeout", "60"], 900),
    ("order_approvals", "bench_order_approvals.py",
     ["--dealers", "100", "--per-dealer", "60", "--perf-seconds", "0"],
     ["--dealers", "3", "--per-dealer", "2", "--verify-seconds", "0.3", "--perf-seconds", "0",
      "--timeout", "60"], 900),
    ("order_roundtrip", "bench_order_roundtrip.py",
     ["--orders", "200", "--period-ms", "200,50"],
     ["--orders", "5", "--period-ms", "50"], 900),
    ("dashboard", "bench_dashboard.py",
     ["--dealers", "1000", "--skus", "100", "--runs", "1"],
     ["--dealers", "10", "--skus", "10", "--runs", "1", "--load-timeout", "60"], 900),
    ("ranking", "bench_ranking.py",
     ["--dealers", "10000", "--days", "90", "--skus", "50"],
     ["--dealers", "50", "--days", "40", "--skus", "5"], 600),
    ("alerts", "bench_alerts.py",
     ["--dealers", "1000", "--skus", "100", "--updates", "200000"],
     ["--dealers", "20", "--skus", "10", "--updates", "5000"], 600),
]
QUICK_TIMEOUT = 180


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, a smoke check of the runs")
    ap.add_argument("--runs", type=int, default=3,
                    help="runs of every benchmark; a figure is their median, default 3")
    ap.add_argument("--only", action="append", default=[],
                    help="only runs whose name or file contains this (repeatable)")
    ap.add_argument("--out", help="also write the table as Markdown to this file")
    ap.add_argument("--readme", action="store_true",
                    help="put the Markdown table into README.md between its bench_all markers")
    ap.add_argument("--build", help="build folder with bin/ and tests/ (default: $DEPOT_BIN/.. "
                    "or build)")
    ap.add_argument("--log-dir", help="folder for the logs and results (default: "
                    "BUILD/bench-results/DATE-TIME; with --quick a temporary folder, removed "
                    "when every run went well)")
    ap.add_argument("--list", action="store_true", help="list the runs and exit")
    a = ap.parse_args()
    if not 1 <= a.runs <= 20:
        ap.error("--runs 1..20")
    return a


# ---------------------------------------------------------------- the machine

def sh(argv, timeout=10):
    """stdout of a command, stripped; '' if it is missing or fails."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return r.stdout.strip() if r.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def cpu_model():
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def memory_gib():
    m = re.search(r"MemTotal:\s+(\d+) kB", read("/proc/meminfo"))
    return int(m.group(1)) / 1024.0 / 1024.0 if m else 0.0


def os_release():
    m = re.search(r'^PRETTY_NAME="?([^"\n]*)', read("/etc/os-release"), re.M)
    name = m.group(1) if m else platform.system()
    deb = read("/etc/debian_version").strip()
    return "%s (debian_version %s)" % (name, deb) if deb else name


def dpkg_version(pkg):
    return sh(["dpkg-query", "-W", "-f", "${Version}", pkg])


def pkgconfig_version(mod):
    return sh(["pkg-config", "--modversion", mod])


def mbedtls_version():
    m = re.search(r'MBEDTLS_VERSION_STRING\s+"([^"]+)"', read("/usr/include/mbedtls/version.h"))
    return m.group(1) if m else ""


def library_versions():
    """[(name, version text)] of what Depot links and runs beside."""
    def both(upstream, pkg):
        deb = dpkg_version(pkg)
        if upstream and deb:
            return "%s (Debian %s %s)" % (upstream, pkg, deb)
        return upstream or (deb and "Debian %s %s" % (pkg, deb)) or "not found"

    try:  # mosquitto -h prints its version and usage, and exits 3
        r = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True, timeout=10)
        mv = re.search(r"mosquitto version (\S+)", r.stdout + r.stderr)
    except (OSError, subprocess.SubprocessError):
        mv = None
    return [
        ("libmodbus", both(pkgconfig_version("libmodbus"), "libmodbus5")),
        ("Mosquitto broker", both(mv.group(1) if mv else "", "mosquitto")),
        ("libmosquitto", both(pkgconfig_version("libmosquitto"), "libmosquitto1")),
        ("mbedTLS", both(mbedtls_version(), "libmbedcrypto7")),
        ("SQLite", both(pkgconfig_version("sqlite3"), "libsqlite3-0")),
        ("libmicrohttpd", both(pkgconfig_version("libmicrohttpd"), "libmicrohttpd12")),
        ("gcc", sh(["gcc", "-dumpfullversion"]) or "not found"),
        ("Python", platform.python_version()),
    ]


def peers_dir():
    """Where tests/bench/peers/install put node_modules (DEPOT_PEERS_DIR or its default)."""
    for d in (os.environ.get("DEPOT_PEERS_DIR"), "/var/tmp/depot-peers",
              os.path.join(SRC, "build-peers")):
        if d and os.path.isdir(os.path.join(d, "node_modules")):
            return d
    return None


def node_versions():
    """[(name, version)] of Node.js and of the npm peers pinned in tests/bench/peers."""
    out = []
    node = sh(["node", "--version"])
    out.append(("Node.js", node or "not installed"))
    try:
        with open(os.path.join(HERE, "peers", "package.json")) as f:
            wanted = sorted(json.load(f).get("dependencies", {}))
    except (OSError, ValueError):
        return out
    d = peers_dir()
    for name in wanted:
        v = "not installed (sh tests/bench/peers/install)"
        if d:
            try:
                with open(os.path.join(d, "node_modules", name, "package.json")) as f:
                    v = json.load(f).get("version", "?")
            except (OSError, ValueError):
                pass
        out.append((name, v))
    return out


def git_commit():
    head = sh(["git", "-C", SRC, "log", "-1", "--format=%h %cd", "--date=short"])
    if not head:
        return "unknown (not a git checkout)"
    dirty = [ln for ln in sh(["git", "-C", SRC, "status", "--porcelain",
                              "--untracked-files=no"]).splitlines() if ln.strip()]
    return head + (", %d file(s) changed and not committed" % len(dirty) if dirty else "")


def build_type(build):
    m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", read(os.path.join(build, "CMakeCache.txt")),
                  re.M)
    return m.group(1) if m else "unknown"


def header_lines(a, build):
    """The lines printed above the table: machine, date, commit, build, versions."""
    un = os.uname()
    return [
        ("Machine", "%s, %d cores, %.1f GiB memory, kernel %s (%s), %s"
         % (cpu_model(), os.cpu_count() or 0, memory_gib(), un.release, un.machine,
            os_release())),
        ("Date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("Commit", git_commit()),
        ("Build", "%s (%s)" % (os.path.relpath(build, SRC) if build.startswith(SRC) else build,
                               build_type(build))),
        ("Runs", "%d of every benchmark, %s; each figure the median (min–max)"
         % (a.runs, "--quick sizes (not figures to quote)" if a.quick else "full size")),
        ("Versions", ", ".join("%s %s" % kv for kv in library_versions())),
        ("Node.js and peers", ", ".join("%s %s" % kv for kv in node_versions())),
    ]


# ------------------------------------------------------------------ the runs

class Outcome:
    """One run of one orchestrator."""

    def __init__(self, run, rep, status, seconds, log, rows):
        self.run, self.rep, self.status, self.seconds = run, rep, status, seconds
        self.log, self.rows = log, rows


def number(x):
    """x if it is a finite number (not a bool), else None."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return float(x)


def read_rows(path):
    """The records of one run: JSON lines with a key and a finite value."""
    rows = []
    for line in read(path).splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and r.get("key") and number(r.get("value")) is not None:
            r["peer_value"] = number(r.get("peer_value"))
            rows.append(r)
    return rows


def stop_group(p, grace):
    """SIGINT to the orchestrator (its harness Env then stops what it started), SIGKILL to
    its process group after `grace` seconds."""
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGKILL, 10)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_one(run, rep, a, env, logdir):
    name, script, full, quick, timeout = run
    argv = [sys.executable, os.path.join(HERE, script)] + (quick if a.quick else full)
    log = os.path.join(logdir, "%s.%d.log" % (name, rep))
    fd, results = tempfile.mkstemp(prefix="depot-bench-", suffix=".jsonl")
    os.close(fd)
    env = dict(env, DEPOT_BENCH_RESULTS=results, PYTHONUNBUFFERED="1")
    limit = QUICK_TIMEOUT if a.quick else timeout
    t0 = time.monotonic()
    status = "ok"
    try:
        with open(log, "w") as f:
            f.write("$ %s\n\n" % " ".join(argv))
            f.flush()
            p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=env, cwd=SRC, start_new_session=True)
            try:
                rc = p.wait(timeout=limit)
                if rc != 0:
                    status = "failed (exit %d)" % rc
            except subprocess.TimeoutExpired:
                stop_group(p, 60)
                status = "failed (no end after %d s)" % limit
            except KeyboardInterrupt:
                stop_group(p, 60)
                raise
        rows = read_rows(results)
    finally:
        os.unlink(results)
    for r in rows:
        r["run"], r["rep"] = name, rep
    with open(os.path.join(logdir, "results.jsonl"), "a") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return Outcome(name, rep, status, time.monotonic() - t0, log, rows)


# ----------------------------------------------------------------- the table

def fmt(v):
    """A figure with sensible digits: 12,345 / 123 / 12.3 / 1.23 / 0.0123."""
    if v is None:
        return ""
    a = abs(v)
    if a >= 10000:
        return "{:,.0f}".format(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1 or a == 0:
        return "%.2f" % v
    return "%.3g" % v


def spread(values):
    """'median (min–max)', or the one value."""
    m = statistics.median(values)
    if len(values) < 2:
        return fmt(m)
    return "%s (%s–%s)" % (fmt(m), fmt(min(values)), fmt(max(values)))


TARGET_RE = re.compile(r"^\s*(ratio|value)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")


def judge(target, value, ratio):
    """'met', 'missed' or 'n/a' for a target text ("ratio<=1.3", "value<0.1") and medians."""
    if not target:
        return "n/a"
    m = TARGET_RE.match(target)
    if not m:
        return "n/a (target %r not understood)" % target
    x = value if m.group(1) == "value" else ratio
    if x is None:
        return "n/a (no ratio)"
    limit = float(m.group(3))
    ok = {"<=": x <= limit, ">=": x >= limit, "<": x < limit, ">": x > limit}[m.group(2)]
    return "met" if ok else "missed"


HEADER = ["figure", "Depot (median, min–max)", "unit", "peer or limit", "peer (median)",
          "ratio (median, min–max)", "target", "verdict", "n"]


def figure_rows(outcomes):
    """Table rows: the figures of every key in order of first appearance, grouped by run,
    then a row for each run that failed, kept nothing or is missing."""
    order, by_key = [], {}
    for o in outcomes:
        for r in o.rows:
            if r["key"] not in by_key:
                order.append(r["key"])
                by_key[r["key"]] = []
            by_key[r["key"]].append(r)
    rows = []
    for key in order:
        recs = by_key[key]
        last = recs[-1]
        values = [float(r["value"]) for r in recs]
        peers = [r["peer_value"] for r in recs if r["peer_value"] is not None]
        ratios = [float(r["value"]) / r["peer_value"] for r in recs if r["peer_value"]]
        med_ratio = statistics.median(ratios) if ratios else None
        target = last.get("target") or ""
        rows.append([last.get("label") or key, spread(values), last.get("unit") or "",
                     last.get("peer") or "", fmt(statistics.median(peers)) if peers else "",
                     spread(ratios) if ratios else "", target,
                     judge(target, statistics.median(values), med_ratio), str(len(values))])
    return rows


def status_rows(outcomes, missing):
    rows = []
    by_run = {}
    for o in outcomes:
        by_run.setdefault(o.run, []).append(o)
    for name, outs in by_run.items():
        bad = [o for o in outs if o.status != "ok"]
        for o in bad:
            rows.append("%s: run %d %s after %.0f s, log %s" % (name, o.rep, o.status, o.seconds,
                                                               o.log))
        if not bad and not any(o.rows for o in outs):
            rows.append("%s: ran (%.0f s) but kept no figure with benchlib.record; its own "
                        "tables are in %s" % (name, outs[0].seconds, outs[0].log))
    for name, script in missing:
        rows.append("%s: not run (missing: tests/bench/%s is not in the tree)" % (name, script))
    return rows


def text_table(header, rows):
    cells = [header] + rows
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.ljust(widths[i]) if i in (0, 2, 3, 6, 7) else c.rjust(widths[i])
                             for i, c in enumerate(r)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def md_cell(c):
    return c.replace("|", "\\|")


def markdown(head, rows, notes, total_s):
    out = ["| | |", "| --- | --- |"]
    out += ["| %s | %s |" % (k, md_cell(v)) for k, v in head]
    out.append("")
    out.append("| " + " | ".join(HEADER) + " |")
    out.append("| " + " | ".join("---" for _ in HEADER) + " |")
    out += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]
    out.append("")
    for n in notes:
        out.append("- " + md_cell(n))
    out.append("")
    out.append("All runs took %.1f min." % (total_s / 60.0))
    return "\n".join(out) + "\n"


def update_readme(md):
    text = read(README)
    b, e = text.find(README_BEGIN), text.find(README_END)
    if b < 0 or e < b:
        print("bench_all: README.md has no %s ... %s markers; not updated"
              % (README_BEGIN, README_END))
        return
    with open(README, "w") as f:
        f.write(text[:b + len(README_BEGIN)] + "\n\n" + md + "\n" + text[e:])
    print("bench_all: README.md's table replaced")


# ------------------------------------------------------------------ the rest

def selected(a):
    runs = [r for r in RUNS
            if not a.only or any(s in r[0] or s in r[1] for s in a.only)]
    present = [r for r in runs if os.path.exists(os.path.join(HERE, r[1]))]
    missing = [(r[0], r[1]) for r in runs if r not in present]
    return present, missing


def main():
    a = parse_args()
    present, missing = selected(a)
    if a.list:
        for name, script, full, quick, timeout in RUNS:
            print("%-18s %s %s%s" % (name, script, " ".join(quick if a.quick else full),
                                     "" if os.path.exists(os.path.join(HERE, script))
                                     else "   (missing)"))
        return 0
    if not present and not missing:
        print("bench_all: no run matches --only %s" % " ".join(a.only))
        return 2

    build = os.path.abspath(a.build) if a.build else os.path.abspath(
        os.path.join(os.environ["DEPOT_BIN"], "..") if os.environ.get("DEPOT_BIN")
        else os.path.join(SRC, "build"))
    env = dict(os.environ, DEPOT_BIN=os.path.join(build, "bin"),
               DEPOT_TESTBIN=os.path.join(build, "tests"), DEPOT_SRC=SRC)
    if not os.path.exists(os.path.join(build, "bin", "depot-gateway")):
        print("bench_all: no build in %s (cmake -S . -B %s -DCMAKE_BUILD_TYPE=RelWithDebInfo "
              "&& cmake --build %s)" % (build, build, build))
        return 2
    temp_logs = a.quick and not a.log_dir
    if a.log_dir:
        logdir = os.path.abspath(a.log_dir)
    elif a.quick:
        logdir = tempfile.mkdtemp(prefix="depot-bench-quick-")
    else:
        logdir = os.path.join(build, "bench-results",
                              datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    os.makedirs(logdir, exist_ok=True)

    head = header_lines(a, build)
    for k, v in head:
        print("%s: %s" % (k, v))
    print("Logs: %s" % logdir)
    sys.stdout.flush()

    outcomes, t0 = [], time.monotonic()
    no_figures = set()
    total = len(present) * a.runs
    n = 0
    interrupted = False
    try:
        for rep in range(1, a.runs + 1):
            for run in present:
                n += 1
                if run[0] in no_figures:
                    print("[%2d/%d] %-18s run %d/%d: skipped (kept no figure in run 1)"
                          % (n, total, run[0], rep, a.runs), flush=True)
                    continue
                print("[%2d/%d] %-18s run %d/%d ..." % (n, total, run[0], rep, a.runs), end="",
                      flush=True)
                o = run_one(run, rep, a, env, logdir)
                outcomes.append(o)
                print(" %s, %.0f s, %d figures" % (o.status, o.seconds, len(o.rows)), flush=True)
                if o.status == "ok" and not o.rows:
                    no_figures.add(run[0])
    except KeyboardInterrupt:
        interrupted = True
        print("\nbench_all: interrupted; the table of the runs so far follows", flush=True)

    total_s = time.monotonic() - t0
    rows = figure_rows(outcomes)
    notes = status_rows(outcomes, missing)
    print("\n" + text_table(HEADER, rows) if rows else "\n(no figures)")
    if notes:
        print()
        for line in notes:
            print("  " + line)
    failed = [o for o in outcomes if o.status != "ok"]
    print("\n%d run(s) ok, %d failed, %d missing; %.1f min in all"
          % (len(outcomes) - len(failed), len(failed), len(missing), total_s / 60.0))

    md = markdown(head, rows, notes, total_s)
    with open(os.path.join(logdir, "table.md"), "w") as f:
        f.write(md)
    if a.out:
        with open(a.out, "w") as f:
            f.write(md)
    if a.readme:
        update_readme(md)
    silent = any(o.status == "ok" and not o.rows for o in outcomes)
    if temp_logs and not failed and not silent and not interrupted:
        shutil.rmtree(logdir, ignore_errors=True)
    return 1 if failed or interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
