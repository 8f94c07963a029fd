"""Accounts end to end: users, logins, sessions and API tokens through the real hub.

  - the bootstrap: an admin of the config's [tokens] adds users with `depotctl users
    add` (a password from standard input, or one the hub makes and shows once);
  - a user logs in over HTTP and acts with its session within its role; a role change,
    `depotctl users disable` and `reset` hold at the session's next request;
  - API tokens: `depotctl tokens create` shows the token once, `list` never shows it,
    `revoke` ends it at once;
  - nothing secret in clear: the hub's database file (SQLite) and log hold no password
    and no token, the users' rows hold Argon2id hashes;
  - failed logins limited per account and per address (connections from 127.0.0.x),
    answered 429 with Retry-After, and counted in /metrics;
  - sessions outlive a restart of the hub, and a second hub on the same database
    refuses a session the first revoked;
  - a dealer's user (role dealer, bound to A) is refused everything about B and the
    manufacturer's work, and served its own dealer.

Real programs (Mosquitto over TLS, depot-hub, depotctl), free ports, bounded waits;
the Env stops everything.
"""
import http.client
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, http_json, main, run  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from hubenv import metrics, start_hub, store_is_pg  # noqa: E402

ADMIN = "admin-token-accounts"
AUTH = {"auth": {"failures_per_account": "4", "failures_per_address": "12",
                 "failure_window_s": "600"}}


class Hub:
    def __init__(self, env, name="hub", db=None, broker=None):
        if broker is None:
            self.pki = make_pki(env, ["A"])
            _, self.broker = start_broker(env, self.pki)
        else:
            self.pki, self.broker = broker
        self.env = env
        self.name = name
        self.db = db or env.path("hub", "hub.db")
        self.start()

    def start(self):
        self.proc, self.http = start_hub(self.env, self.pki, self.broker, name=self.name,
                                         tokens={"admin": ("admin", ADMIN)}, db=self.db,
                                         extra=AUTH)
        self.hub_url = "http://127.0.0.1:%d" % self.http

    def call(self, method, path, token=None, body=None):
        return http_json(self.hub_url + "/api/v1/" + path, token, method, body)

    def login(self, user, password, source="127.0.0.1"):
        """(status, body, headers) of POST /api/v1/login from the address source."""
        conn = http.client.HTTPConnection("127.0.0.1", self.http, timeout=10,
                                          source_address=(source, 0))
        try:
            conn.request("POST", "/api/v1/login",
                         json.dumps({"user": user, "password": password}),
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None), dict(r.getheaders())
        finally:
            conn.close()

    def session(self, user, password):
        status, body, _ = self.login(user, password)
        assert status == 200, (user, status, body)
        assert body["token"].startswith("dps_"), body
        return body["token"]

    def ctl(self, *args, token=ADMIN, stdin=None, expect=0):
        r = run([os.path.join(BIN, "depotctl")] + list(args) + ["--hub", self.hub_url,
                                                                "--token", token],
                input=stdin, timeout=30, check=False)
        assert r.returncode == expect, (args, r.returncode, r.stdout, r.stderr)
        return r.stdout + r.stderr


def shown_once(out, what):
    m = re.search(r"^%s \(shown this once\): (\S+)$" % what, out, re.M)
    assert m, out
    return m.group(1)


def no_secret_stored(hub, secrets):
    """The hub's log, and its SQLite files, hold none of secrets in clear."""
    texts = [hub.proc.log().encode()]
    if not store_is_pg():
        for suffix in ("", "-wal"):
            if os.path.exists(hub.db + suffix):
                with open(hub.db + suffix, "rb") as f:
                    texts.append(f.read())
    for s in secrets:
        for t in texts:
            assert s.encode() not in t, "a secret is stored or logged in clear"
    return len(texts)


def test_users_sessions_tokens_through_depotctl_and_http():
    with Env("accounts") as env:
        hub = Hub(env)
        # the bootstrap admin adds users; alice's password from stdin, bob's made by the hub
        hub.ctl("users", "add", "alice", "--role", "approver", "--stages", "finance",
                "--password-file", "-", stdin="alice's long password\n")
        bob_pw = shown_once(hub.ctl("users", "add", "bob", "--role", "viewer"), "password")
        assert len(bob_pw) >= 20
        out = hub.ctl("users", "list")
        assert "alice" in out and "bob" in out and "argon2" not in out, out
        hub.ctl("users", "add", "alice", "--role", "admin", expect=1)  # taken

        alice = hub.session("alice", "alice's long password")
        status, me = hub.call("GET", "me", alice)
        assert status == 200 and me["name"] == "alice" and me["role"] == "approver", me
        assert me["stages"] == ["finance"], me
        assert hub.call("GET", "users", alice)[0] == 403
        hub.ctl("users", "list", token=alice, expect=1)  # an approver is not an admin

        # a role change holds at the session's next request; disable ends every session
        bob = hub.session("bob", bob_pw)
        assert hub.call("GET", "tokens", bob)[0] == 403
        hub.ctl("users", "set", "bob", "--role", "admin")
        assert hub.call("GET", "tokens", bob)[0] == 200
        bob2 = hub.session("bob", bob_pw)
        out = hub.ctl("users", "disable", "bob")
        assert '"sessions_revoked":\t2' in out, out
        for s in (bob, bob2):
            assert hub.call("GET", "me", s)[0] == 401
        assert hub.login("bob", bob_pw)[0] == 401
        hub.ctl("users", "enable", "bob")
        new_pw = shown_once(hub.ctl("users", "reset", "bob"), "password")
        assert hub.login("bob", bob_pw)[0] == 401
        bob = hub.session("bob", new_pw)

        # an integration's token: shown once, listed by name, revoked at once
        erp = shown_once(hub.ctl("tokens", "create", "erp", "--role", "viewer",
                                 "--expires-days", "90"), "token")
        assert erp.startswith("dpt_")
        assert hub.call("GET", "stock", erp)[0] == 200
        out = hub.ctl("tokens", "list")
        assert "erp" in out and erp not in out, out
        # an admin user's session manages tokens too
        hub.ctl("tokens", "revoke", "erp", token=bob)
        assert hub.call("GET", "stock", erp)[0] == 401
        hub.ctl("tokens", "revoke", "erp", expect=1)  # nothing live by that name

        # logout ends that session only
        alice2 = hub.session("alice", "alice's long password")
        assert hub.call("POST", "logout", alice, {})[0] == 200
        assert hub.call("GET", "me", alice)[0] == 401
        assert hub.call("GET", "me", alice2)[0] == 200

        n = no_secret_stored(hub, ["alice's long password", bob_pw, new_pw, erp, alice, alice2,
                                   bob])
        if not store_is_pg():
            r = run(["sqlite3", hub.db, "SELECT pwhash FROM users"], timeout=10)
            hashes = r.stdout.split()
            assert len(hashes) == 2 and all(h.startswith("$argon2id$") for h in hashes), hashes
        print("  2 users, 5 sessions, 1 API token; no password or token in clear in %d "
              "files (log%s)" % (n, "" if store_is_pg() else ", database, WAL"))


def test_failed_logins_limited_per_account_and_address():
    with Env("accounts-limit") as env:
        hub = Hub(env)
        hub.ctl("users", "add", "carol", "--role", "viewer", "--password-file", "-",
                stdin="carol's password\n")
        hub.ctl("users", "add", "dan", "--role", "viewer", "--password-file", "-",
                stdin="dan's password\n")
        # per account: 4 failures, then even the right password is refused, from anywhere
        for _ in range(4):
            assert hub.login("carol", "guess", "127.0.0.2")[0] == 401
        status, body, headers = hub.login("carol", "carol's password", "127.0.0.3")
        assert status == 429, (status, body)
        assert 0 < int(headers["Retry-After"]) <= 600 and body["retry_after_s"] > 0, headers
        assert hub.login("dan", "dan's password", "127.0.0.2")[0] == 200

        # per address: 12 failures from 127.0.0.4 on as many names
        for i in range(12):
            assert hub.login("nobody%d" % i, "guess", "127.0.0.4")[0] == 401
        assert hub.login("dan", "dan's password", "127.0.0.4")[0] == 429
        assert hub.login("dan", "dan's password", "127.0.0.5")[0] == 200
        m = metrics(hub.http)
        assert m["depot_hub_logins_failed_total"] == 16, m["depot_hub_logins_failed_total"]
        assert m["depot_hub_logins_limited_total"] == 2, m["depot_hub_logins_limited_total"]
        print("  4 failures lock an account (429, Retry-After %s s), 12 an address; "
              "others log in" % headers["Retry-After"])


def test_sessions_outlive_a_restart_and_a_second_hub_sees_a_revocation():
    with Env("accounts-hubs") as env:
        hub = Hub(env)
        hub.ctl("users", "add", "erin", "--role", "viewer", "--password-file", "-",
                stdin="erin's password\n")
        erin = hub.session("erin", "erin's password")
        hub.proc.stop()
        hub.start()
        assert hub.call("GET", "me", erin)[0] == 200
        other = Hub(env, name="hub2", db=hub.db, broker=(hub.pki, hub.broker))
        assert other.call("GET", "me", erin)[0] == 200
        hub.ctl("users", "disable", "erin")
        assert other.call("GET", "me", erin)[0] == 401
        print("  a session kept over a restart; disabled at one hub, refused by the other")


def test_a_dealers_user_sees_only_its_own_dealer():
    with Env("accounts-dealer") as env:
        hub = Hub(env)
        for d, region in (("A", "North"), ("B", "South")):
            assert hub.call("PATCH", "dealers/" + d, ADMIN, {"region": region})[0] == 200
        hub.ctl("users", "add", "anna", "--role", "dealer", "--dealer", "A", "--password-file",
                "-", stdin="anna of dealer A\n")
        hub.ctl("users", "add", "x", "--role", "dealer", expect=1)  # which dealer?
        anna = hub.session("anna", "anna of dealer A")
        status, me = hub.call("GET", "me", anna)
        assert status == 200 and me["role"] == "dealer" and me["dealer"] == "A", me
        refused = 0
        for path in ("dealers/B", "dealers/B/streams", "dealers/B/kpis", "stock?dealer=B",
                     "orders?dealer=B", "alerts?dealer=B", "orders-forged?dealer=B",
                     "history?dealer=B&sku=S", "dealers", "ranking", "users", "tokens",
                     "orders/nope", "alerts/1", "training?dealer=B", "training/1",
                     "training/1/file"):
            status, body = hub.call("GET", path, anna)
            assert status in (403, 404), (path, status, body)
            assert "South" not in json.dumps(body), (path, body)
            refused += 1
        for method, path in (("PATCH", "dealers/A"), ("PUT", "catalog"), ("POST", "payments"),
                             ("POST", "users"), ("POST", "tokens"), ("POST", "training"),
                             ("POST", "training/files")):
            assert hub.call(method, path, anna, {})[0] == 403, (method, path)
            refused += 1
        status, own = hub.call("GET", "dealers/A", anna)
        assert status == 200 and own["region"] == "North", own
        assert hub.call("GET", "stock", anna) == (200, [])
        print("  dealer A's user: %d requests about B or the manufacturer's work refused, "
              "its own dealer served" % refused)


if __name__ == "__main__":
    main([test_users_sessions_tokens_through_depotctl_and_http,
          test_failed_logins_limited_per_account_and_address,
          test_sessions_outlive_a_restart_and_a_second_hub_sees_a_revocation,
          test_a_dealers_user_sees_only_its_own_dealer])
