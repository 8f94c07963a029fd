"""What Depot's benchmark orchestrators share: /proc sampling, port ranges,
the depot-node control socket in bulk, and the printed tables.

A process is measured from the outside, the same way for the program under
test and for its baseline: CPU is the growth of utime + stime
(/proc/PID/stat, every thread of the process, also the ones that exited)
over a wall-clock window, as a percentage of one core; memory is read from
/proc/PID/status at the end of the window: VmRSS (resident now), VmHWM (the
resident peak since start), RssAnon (the process's own heap and stacks) and
RssFile (mapped files, mostly shared libraries, that other processes share).

Figures are printed, never judged: a benchmark exits non-zero only when a
run could not be made (a program failed to start or to settle).
"""
import os
import resource
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))

from harness import BIN, TESTBIN, free_port_range  # noqa: E402, F401

CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024.0 * 1024.0


def bin_path(name):
    """A Depot program in DEPOT_BIN (build/bin)."""
    return os.path.join(BIN, name)


def testbin_path(name):
    """A test or benchmark program in DEPOT_TESTBIN (build/tests)."""
    return os.path.join(TESTBIN, name)


def run_passthrough(name, args, timeout=1800):
    """Runs the program name from DEPOT_TESTBIN with args, passes its stdout and
    stderr through unchanged, and returns its exit status."""
    return run_program(name, args, timeout)[0]


def run_program(name, args, timeout=1800):
    """As run_passthrough; returns (exit status, stdout) so the caller can keep figures."""
    r = subprocess.run([testbin_path(name)] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    return r.returncode, r.stdout


def figure_after(text, label):
    """The first number after `label` on the line of text that holds it, else None."""
    import re
    for line in text.splitlines():
        i = line.find(label)
        if i >= 0:
            m = re.search(r"[-+]?[0-9][0-9.]*", line[i + len(label):])
            return float(m.group(0)) if m else None
    return None


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def memory(pid):
    """{VmRSS, VmHWM, RssAnon, RssFile, Threads} of a process; sizes in bytes."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) * 1024
            elif key == "Threads":
                out[key] = int(value)
    return out


class Window:
    """CPU of several processes over one wall-clock window; memory at its end."""

    def __init__(self, procs):
        self.procs = dict(procs)  # label -> Proc of the harness
        self.t0 = time.monotonic()
        self.ticks0 = {k: cpu_ticks(p.p.pid) for k, p in self.procs.items()}

    def close(self):
        """{label: {cpu_pct, cpu_s, wall_s, VmRSS, ...}} since the window opened."""
        wall = time.monotonic() - self.t0
        out = {}
        for k, p in self.procs.items():
            if not p.alive():
                raise AssertionError("%s exited during the measuring window:\n%s"
                                     % (p.name, p.log()[-3000:]))
            cpu_s = (cpu_ticks(p.p.pid) - self.ticks0[k]) / float(CLK_TCK)
            out[k] = dict(memory(p.p.pid), cpu_s=cpu_s, wall_s=wall, cpu_pct=100.0 * cpu_s / wall)
        return out


def sleep_watching(procs, seconds):
    """Sleep `seconds` in short slices, failing at once if one of procs exits."""
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        for p in procs:
            if not p.alive():
                raise AssertionError("%s exited:\n%s" % (p.name, p.log()[-3000:]))
        time.sleep(min(0.25, left))


def measure(procs, seconds, counter=None):
    """Open a Window on procs ({label: Proc}), wait `seconds`, close it.

    counter: a function returning a number (e.g. polls answered so far), read
    at both ends; its growth is returned as result["counted"].
    """
    c0 = counter() if counter else None
    w = Window(procs)
    sleep_watching(list(procs.values()), seconds)
    result = w.close()
    if counter:
        result["counted"] = counter() - c0
    return result


class NodeControl:
    """One connection to a depot-node control socket, many commands over it."""

    def __init__(self, path, timeout=10.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")

    def command(self, line):
        self.f.write((line + "\n").encode())
        self.f.flush()
        reply = self.f.readline().decode().strip()
        if not reply.startswith("ok"):
            raise AssertionError("depot-node %r: %s" % (line, reply))
        return reply

    def status(self, prefix=""):
        fields = {}
        for tok in self.command(prefix + "status").split()[1:]:
            k, _, v = tok.partition("=")
            fields[k] = v
        return fields

    def close(self):
        self.f.close()
        self.s.close()


def sum_replies(path, ports):
    """Modbus requests answered so far by the nodes on `ports` of one --tcp-range depot-node."""
    c = NodeControl(path)
    try:
        return sum(int(c.status("port %d " % p)["replies"]) for p in ports)
    finally:
        c.close()


def min_replies(path, ports):
    """The fewest requests any one node on `ports` has answered."""
    c = NodeControl(path)
    try:
        return min(int(c.status("port %d " % p)["replies"]) for p in ports)
    finally:
        c.close()


def parse_kv(line):
    """{'key': 'value'} of a 'key=value key=value' line."""
    return dict(tok.partition("=")[::2] for tok in line.split() if "=" in tok)


def last_line_with(text, key):
    """The last line of text that contains key= (a program's figures line)."""
    for line in reversed(text.splitlines()):
        if key + "=" in line:
            return line
    raise AssertionError("no line with %s= in:\n%s" % (key, text[-2000:]))


def mib(n):
    return "%.1f MiB" % (n / MIB)


def ratio(a, b):
    return "%.2fx" % (a / b) if b else "n/a"


def table(title, header, rows):
    """Print rows (lists of cells) under a header, columns aligned; first column left."""
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print("\n" + title)
    for n, r in enumerate(cells):
        print("  " + "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                               for i, c in enumerate(r)))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))
    sys.stdout.flush()


def raise_open_files(dealers, per_process):
    """The open-files limit raised for `dealers` simulated gateways (the broker needs one
    descriptor per client, each dealer_load of per_process dealers three each); False, said,
    when the hard limit is too low and cannot be raised (not root)."""
    need = max(dealers, per_process * 3) + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))  # as root
            soft = hard = need
        except (ValueError, OSError):
            pass
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < need:
        print("open files limited to %d: %d dealers need %d" % (hard, dealers, need))
        return False
    return True


def wait_alive(procs, cond, timeout, what, interval=0.2):
    """Bounded poll until cond() is true (returned); fails at once, with the log,
    if one of procs exits, and after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        exited = [p for p in procs if not p.alive()]
        v = cond()  # after the look at procs: one that ended having done what was waited for is fine
        if v:
            return v
        for p in exited:
            raise AssertionError("%s exited while waiting for %s:\n%s"
                                 % (p.name, what, p.log()[-3000:]))
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def record(key, label, value, unit, peer=None, peer_value=None, target=None):
    """Keep one figure for the comparison table of bench_all.py.

    When DEPOT_BENCH_RESULTS names a file, one JSON line is appended to it;
    otherwise nothing happens (a benchmark run by hand prints its own tables).

    key:        stable identifier, e.g. "gateway.cpu_per_poll.n500.p1000"
    label:      what the row says, e.g. "gateway CPU per poll, 500 nodes, 1 s"
    value:      Depot's figure (a number)
    unit:       e.g. "us", "msg/s", "MiB", "% core"
    peer:       the limit or peer measured in the same run ("bare libmodbus loop",
                "Node-RED 4.1.0 + node-red-contrib-modbus 5.23.3", ...), or None
    peer_value: its figure in the same unit, or None
    target:     the target as text bench_all.py evaluates: "ratio<=1.3",
                "ratio>=0.8", "value<0.1" (ratio = value / peer_value), or None
    """
    path = os.environ.get("DEPOT_BENCH_RESULTS")
    if not path:
        return
    import json
    row = {"key": key, "label": label, "value": value, "unit": unit, "peer": peer,
           "peer_value": peer_value, "target": target,
           "bench": os.path.basename(sys.argv[0])}
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
