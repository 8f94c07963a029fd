"""The dashboard's browser for system tests and benchmarks: Debian's chromium
driven by playwright-core (npm, pinned in tests/dashboard/package.json and
its package-lock.json).

    ensure_playwright()            # npm ci in tests/dashboard once (node_modules is git-ignored)
    result = run_node("drive.mjs", {"url": ..., ...}, env)

Nothing is downloaded but the npm package: the browser is Debian's
(/usr/bin/chromium, from .ci/install-deps); `npx playwright install` is never
used. npm runs once per checkout, under a lock so parallel tests do not race.
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from harness import SRC

DASH = os.path.abspath(os.path.join(SRC, "tests", "dashboard"))
CHROMIUM = os.environ.get("DEPOT_CHROMIUM", "/usr/bin/chromium")


def ensure_playwright(timeout=600):
    """npm ci in tests/dashboard unless playwright-core is there; raises with the reason."""
    for tool, pkg in (("node", "nodejs"), ("npm", "npm")):
        if not shutil.which(tool):
            raise AssertionError("%s is not installed (Debian package %s: run .ci/install-deps)"
                                 % (tool, pkg))
    if not os.access(CHROMIUM, os.X_OK):
        raise AssertionError("%s is not installed (Debian package chromium: run .ci/install-deps)"
                             % CHROMIUM)
    marker = os.path.join(DASH, "node_modules", "playwright-core", "package.json")
    lock_path = os.path.join(tempfile.gettempdir(), "depot-npm-%s.lock"
                             % hashlib.sha256(DASH.encode()).hexdigest()[:16])
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(marker):
            r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", DASH],
                               capture_output=True, text=True, timeout=timeout)
            if r.returncode != 0:
                raise AssertionError("npm ci in %s failed:\n%s\n%s" % (DASH, r.stdout, r.stderr))


def run_node(script, config, env, timeout=180, name="drive"):
    """Run tests/dashboard/<script> with config (a dict written to a JSON file in the Env).

    Returns (the last JSON line it printed as a dict, its whole stdout). The
    script's stdout and stderr are also kept in the Env folder as <name>.out.
    """
    path = env.path(name + ".json")
    with open(path, "w") as f:
        json.dump(config, f)
    r = subprocess.run(["node", os.path.join(DASH, script), path], capture_output=True, text=True,
                       timeout=timeout, cwd=DASH)
    with open(env.path(name + ".out"), "w") as f:
        f.write(r.stdout + "\n--- stderr\n" + r.stderr)
    last = None
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            try:
                last = json.loads(line)
            except ValueError:
                pass
    if last is None:
        raise AssertionError("%s printed no result (exit %d):\n%s\n%s"
                             % (script, r.returncode, r.stdout[-4000:], r.stderr[-4000:]))
    return last, r.stdout
