"""Generic harness for Depot's system tests: free ports, processes, bounded waits.

Every test builds one Env (a context manager). The Env owns a temporary
folder and every process started through it; leaving the `with` block stops
them all (SIGTERM, then SIGKILL after a bounded wait), even when the test
failed. Waits are bounded polls for a condition, never bare sleeps. Servers
listen on 127.0.0.1 only, on ports picked free at run time.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.environ.get("DEPOT_BIN", os.path.join(os.path.dirname(__file__), "../../build/bin"))
TESTBIN = os.environ.get("DEPOT_TESTBIN", os.path.join(BIN, "../tests"))
SRC = os.environ.get("DEPOT_SRC", os.path.join(os.path.dirname(__file__), "../.."))


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ephemeral_floor():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError):
        return 32768


def free_port_range(n, attempts=30):
    """First port of n consecutive TCP ports of 127.0.0.1 that nobody listens on.

    Picked below the ephemeral range, so outgoing connections of this very
    benchmark cannot take them between the check and the listen.
    """
    hi = ephemeral_floor() - n - 1
    for _ in range(attempts):
        base = random.randint(10000, max(10001, hi))
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no %d consecutive free ports on 127.0.0.1" % n)


def wait_for(cond, timeout=10.0, interval=0.05, what="condition"):
    """Poll cond() until it returns a true value (returned) or timeout seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except Exception as e:  # the condition may fail while a server starts
            last_exc = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last error: %r)"
                                 % (timeout, what, last_exc))
        time.sleep(interval)


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class Proc:
    """A process started by an Env; stdout/stderr go to files in the Env folder."""

    def __init__(self, env, name, argv, **kw):
        self.env = env
        self.name = name
        self.argv = argv
        self.log_path = os.path.join(env.dir, name + ".log")
        self.out_path = os.path.join(env.dir, name + ".out")
        self._kw = kw
        self.p = None
        self.start()

    def start(self):
        self._log = open(self.log_path, "ab")
        self._out = open(self.out_path, "ab")
        self.p = subprocess.Popen(self.argv, stdout=self._out, stderr=self._log,
                                  stdin=subprocess.DEVNULL, start_new_session=True, **self._kw)

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Stop the process (SIGTERM, then SIGKILL); returns its exit code."""
        if self.p is None:
            return None
        if self.p.poll() is None:
            try:
                self.p.send_signal(sig)
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=timeout)
        rc = self.p.returncode
        self._log.close()
        self._out.close()
        return rc

    def kill(self):
        return self.stop(sig=signal.SIGKILL)

    def restart(self):
        self.stop()
        self.start()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def out(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")


class Env:
    """Temporary folder plus every process a test starts; all stopped on exit."""

    def __init__(self, name="depot", dir=None):
        if dir:
            os.makedirs(dir, exist_ok=True)
            self.dir = dir
        else:
            self.dir = tempfile.mkdtemp(prefix=name + "-")
        self.procs = []
        self.keep = os.environ.get("DEPOT_KEEP_TMP") == "1"

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start(self, name, argv, **kw):
        p = Proc(self, name, [str(a) for a in argv], **kw)
        self.procs.append(p)
        return p

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception:
                pass
        if exc_type is not None:
            # Show the logs of every process to explain the failure.
            for p in self.procs:
                try:
                    sys.stderr.write("\n===== %s (%s) =====\n%s" % (p.name, " ".join(p.argv), p.log()[-6000:]))
                except Exception:
                    pass
            sys.stderr.write("\n(test folder %s)\n" % self.dir)
            return False
        reports = sanitizer_reports(self.procs)
        if reports:
            sys.stderr.write("\n(test folder %s)\n" % self.dir)
            raise AssertionError("sanitizer report:\n" + "\n".join(reports))
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False


def run(argv, check=True, timeout=60, **kw):
    """Run a command to completion (bounded); returns CompletedProcess with text output."""
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(map(str, argv)), r.returncode,
                                                          r.stdout, r.stderr))
    return r


def http_json(url, token=None, method="GET", body=None, timeout=5.0):
    """(status, parsed JSON or None) for an HTTP request to the hub."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, None


def sanitizer_reports(procs):
    """Texts of sanitizer reports found in the logs of procs."""
    found = []
    for p in procs:
        text = p.log()
        if "ERROR: AddressSanitizer" in text or "runtime error:" in text or "ERROR: LeakSanitizer" in text:
            found.append("%s: %s" % (p.name, text[-3000:]))
    return found


def main(tests):
    """Run test functions in order; print a summary line; exit non-zero on any failure."""
    failed = 0
    for t in tests:
        t0 = time.monotonic()
        try:
            t()
            print("PASS %s (%.1fs)" % (t.__name__, time.monotonic() - t0), flush=True)
        except Exception as e:
            failed += 1
            print("FAIL %s: %s" % (t.__name__, e), flush=True)
            import traceback
            traceback.print_exc()
    print("%d passed, %d failed" % (len(tests) - failed, failed))
    sys.exit(1 if failed else 0)
