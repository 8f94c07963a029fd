#!/usr/bin/env python3
"""A throwaway PostgreSQL server for Depot's tests, started by the tests themselves.

    pg_fixture.py start DIR           initdb into DIR/data, start the server on a free
                                      port of 127.0.0.1, write DIR/url
    pg_fixture.py stop DIR            stop it (fast, then immediate) and remove DIR
    pg_fixture.py createdb DIR [NAME] create a fresh database, print its URL

DIR/url holds postgresql://depot@127.0.0.1:PORT/postgres: superuser `depot`,
trust authentication, TCP on 127.0.0.1 only, the Unix socket in DIR. The
binaries are the newest under /usr/lib/postgresql/*/bin (never PATH). As root,
initdb and pg_ctl run as the `postgres` user through runuser, DIR owned by it.

A `start` that fails leaves no server running; a `start` on the DIR of an
earlier run that never stopped (an interrupted ctest) stops that server and
starts afresh. Every wait is bounded.

The same as functions, for Python tests (tests/system/pgenv.py):

    url = start(d)
    try:
        db = create_database(url)      # postgresql://depot@127.0.0.1:PORT/<fresh name>
        ...
    finally:
        stop(d)

Python 3.11 standard library only.
"""
import glob
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

SUPERUSER = "depot"
RUN_AS = "postgres"  # the unprivileged user of Debian's postgresql package, when we are root
START_TIMEOUT = 60.0  # seconds for the server to accept connections
STOP_TIMEOUT = 30  # seconds per pg_ctl stop attempt
START_ATTEMPTS = 3  # a port taken between picking it and the server binding it: pick again

_counter = itertools.count(1)


class PgFixtureError(Exception):
    pass


def bindir():
    """The bin folder of the newest PostgreSQL under /usr/lib/postgresql."""
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        ver = os.path.basename(os.path.dirname(d))
        if os.access(os.path.join(d, "initdb"), os.X_OK) and \
                os.access(os.path.join(d, "pg_ctl"), os.X_OK):
            key = tuple(int(p) if p.isdigit() else 0 for p in ver.split("."))
            found.append((key, d))
    if not found:
        raise PgFixtureError("no PostgreSQL server under /usr/lib/postgresql/*/bin "
                             "(Debian: apt-get install postgresql)")
    return max(found)[1]


def _tool(name):
    path = os.path.join(bindir(), name)
    if not os.access(path, os.X_OK):
        raise PgFixtureError("%s not found" % path)
    return path


def _as_root():
    return os.geteuid() == 0


def _env():
    """The environment of every child: no PG* variable of the caller, messages in English."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _run(argv, timeout, cwd=None, as_server_user=True, check=True):
    """Runs argv (as the `postgres` user when root and as_server_user); CompletedProcess."""
    if as_server_user and _as_root():
        argv = ["runuser", "-u", RUN_AS, "--"] + argv
    try:
        p = subprocess.run(argv, cwd=cwd, env=_env(), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise PgFixtureError("%s: no answer within %s s" % (" ".join(argv), timeout)) from e
    if check and p.returncode != 0:
        raise PgFixtureError("%s failed (%d): %s%s" % (" ".join(argv), p.returncode,
                                                       p.stdout, p.stderr))
    return p


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _data(d):
    return os.path.join(d, "data")


def _postmaster_pid(d):
    """The pid in DIR/data/postmaster.pid, or None."""
    try:
        with open(os.path.join(_data(d), "postmaster.pid")) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def _alive(pid):
    """Whether pid runs (a zombie waiting for its parent to reap it does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _log_tail(d, lines=30):
    try:
        with open(os.path.join(d, "log"), errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def _halt(d):
    """Stops the server of DIR if one runs: pg_ctl stop fast, then immediate, then SIGKILL."""
    if _postmaster_pid(d) is None:
        return
    pg_ctl = _tool("pg_ctl")
    for mode in ("fast", "immediate"):
        try:
            p = _run([pg_ctl, "stop", "-D", _data(d), "-m", mode, "-w", "-t", str(STOP_TIMEOUT)],
                     timeout=STOP_TIMEOUT + 10, cwd=d, check=False)
        except PgFixtureError:
            continue
        if p.returncode == 0 or _postmaster_pid(d) is None:
            return
        if "Is server running?" in p.stderr:  # a stale postmaster.pid: nobody to stop
            return
    pid = _postmaster_pid(d)
    if pid and _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)  # the postmaster leads its own process group
        except OSError:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)


def _is_fixture_dir(d):
    """Whether d is empty or was made by start() (safe to remove)."""
    names = set(os.listdir(d))
    return not names or "data" in names or "url" in names or "log" in names


def _read_url(d):
    with open(os.path.join(d, "url")) as f:
        return f.read().strip()


def _wait_ready(port, deadline):
    """Polls pg_isready until the server accepts connections or the deadline passes."""
    pg_isready = _tool("pg_isready")
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        p = _run([pg_isready, "-q", "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER,
                  "-d", "postgres", "-t", str(max(1, min(5, int(left))))],
                 timeout=10, as_server_user=False, check=False)
        if p.returncode == 0:
            return True
        time.sleep(0.1)


def start(d, timeout=START_TIMEOUT, settings=None):
    """Initialises and starts a server in folder d; returns its URL (also in d/url).
    settings: more postgresql.conf lines (name: value), e.g. for a benchmark's profile."""
    d = os.path.abspath(d)
    if os.path.isdir(d):
        if not _is_fixture_dir(d):
            raise PgFixtureError("%s exists and is not a PostgreSQL fixture folder" % d)
        _halt(d)
        shutil.rmtree(d)
    os.makedirs(d, mode=0o755)
    try:
        return _start(d, timeout, settings or {})
    except BaseException:
        log = _log_tail(d)
        if log:
            sys.stderr.write("---- %s/log (last lines) ----\n%s" % (d, log))
        _halt(d)
        shutil.rmtree(d, ignore_errors=True)
        raise


def _start(d, timeout, settings):
    deadline = time.monotonic() + timeout
    if _as_root():
        pw = pwd.getpwnam(RUN_AS)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        if _run(["test", "-w", d], timeout=10, check=False).returncode != 0:
            raise PgFixtureError("the %s user cannot write %s: every folder above it must be "
                                 "searchable by others (chmod o+x)" % (RUN_AS, d))
    _run([_tool("initdb"), "-D", _data(d), "--locale=C", "-E", "UTF8", "-A", "trust",
          "-U", SUPERUSER, "--no-sync"], timeout=120, cwd=d)
    conf = os.path.join(_data(d), "postgresql.conf")
    with open(conf, "a") as f:
        f.write("\n# pg_fixture.py\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = '%s'\n"
                "max_connections = 200\n" % d.replace("'", "''"))
        for k, v in sorted(settings.items()):
            f.write("%s = '%s'\n" % (k, str(v).replace("'", "''")))
    log = os.path.join(d, "log")
    for attempt in range(START_ATTEMPTS):
        port = _free_port()
        with open(conf, "a") as f:
            f.write("port = %d\n" % port)  # the last one wins
        left = max(1, int(deadline - time.monotonic()))
        p = _run([_tool("pg_ctl"), "start", "-D", _data(d), "-l", log, "-w", "-t", str(left)],
                 timeout=left + 10, cwd=d, check=False)
        if p.returncode == 0:
            break
        _halt(d)
        in_use = "already in use" in _log_tail(d, 200)
        if not in_use or attempt == START_ATTEMPTS - 1 or time.monotonic() >= deadline:
            raise PgFixtureError("pg_ctl start failed (%d): %s%s" % (p.returncode, p.stdout,
                                                                   p.stderr))
    if not _wait_ready(port, deadline):
        raise PgFixtureError("the server on port %d did not accept connections within %s s"
                             % (port, timeout))
    url = "postgresql://%s@127.0.0.1:%d/postgres" % (SUPERUSER, port)
    tmp = os.path.join(d, "url.tmp")
    with open(tmp, "w") as f:
        f.write(url + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, os.path.join(d, "url"))
    return url


def stop(d):
    """Stops the server of folder d (if any) and removes d."""
    d = os.path.abspath(d)
    if not os.path.isdir(d):
        return
    if not _is_fixture_dir(d):
        raise PgFixtureError("%s is not a PostgreSQL fixture folder" % d)
    _halt(d)
    pid = _postmaster_pid(d)
    if pid and _alive(pid):
        raise PgFixtureError("the server of %s (pid %d) did not stop" % (d, pid))
    shutil.rmtree(d)


def url_of(d):
    """The URL start() wrote for folder d."""
    return _read_url(os.path.abspath(d))


def _with_database(url, name):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


def create_database(url, name=None):
    """Creates a fresh database on the server of url; returns the URL of that database.

    name defaults to a unique one (pid, a counter, the time); it must be a plain
    lower-case identifier.
    """
    if name is None:
        name = "t_%d_%d_%d" % (os.getpid(), next(_counter), time.time_ns() // 1000)
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise PgFixtureError("not a plain database name: %r" % name)
    u = urllib.parse.urlsplit(url)
    _run([_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", u.hostname or "127.0.0.1",
          "-p", str(u.port or 5432), "-U", u.username or SUPERUSER, "-d", "postgres",
          "-c", "CREATE DATABASE %s" % name], timeout=60, as_server_user=False)
    return _with_database(url, name)


def main(argv):
    usage = "usage: pg_fixture.py start DIR | stop DIR | createdb DIR [NAME]\n"
    if len(argv) < 3 or argv[1] not in ("start", "stop", "createdb") or \
            len(argv) > (4 if argv[1] == "createdb" else 3):
        sys.stderr.write(usage)
        return 2
    try:
        if argv[1] == "start":
            print(start(argv[2]))
        elif argv[1] == "stop":
            stop(argv[2])
        else:
            print(create_database(url_of(argv[2]), argv[3] if len(argv) > 3 else None))
    except (PgFixtureError, OSError, KeyError) as e:
        sys.stderr.write("pg_fixture.py %s: %s\n" % (argv[1], e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
