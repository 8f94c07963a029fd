"""PostgreSQL for system tests: a throwaway server of the test's own.

    with pg_server() as url:              # postgresql://depot@127.0.0.1:PORT/postgres
        db = create_database(url)         # a fresh, empty database's URL (e.g. [hub] db)
        hub, http = start_hub(env, pki, port, db=db)
        ...
    # the server is stopped and its folder removed, even when the test failed

The server is tests/tools/pg_fixture.py's (initdb, superuser depot, trust,
127.0.0.1 on a port picked at run time; as root it runs as the `postgres`
user). Its folder is a temp folder of its own rather than inside an Env's:
an Env's folder is private to the user running the test, and the server
runs as `postgres`. start(d) and stop(d) are there for a test that manages
the folder itself (always in try/finally).
"""
import contextlib
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))

from pg_fixture import PgFixtureError, bindir, create_database, start, stop, url_of  # noqa: E402

__all__ = ["PgFixtureError", "available", "create_database", "pg_server", "start", "stop",
           "url_of"]


def available():
    """Whether a PostgreSQL server is installed under /usr/lib/postgresql."""
    try:
        bindir()
        return True
    except PgFixtureError:
        return False


@contextlib.contextmanager
def pg_server():
    """Starts a server in a fresh temp folder; yields its URL; stops it and removes the folder."""
    top = tempfile.mkdtemp(prefix="depot-pg-")
    try:
        os.chmod(top, 0o755)  # the server's user must reach top/pg
        d = os.path.join(top, "pg")
        url = start(d)
        try:
            yield url
        finally:
            stop(d)
    finally:
        shutil.rmtree(top, ignore_errors=True)
