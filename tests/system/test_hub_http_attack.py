"""The hub's HTTP API under attack, end to end over its real socket.

  - every route without a token answers 401, every admin route to a viewer 403;
  - SQL injection strings in every query parameter and path argument of every
    GET route, and in a profile's text fields, are inert: no 5xx, the text
    stored is the text sent, every table the listings read is unchanged;
  - a body over the API's 8 MB limit is refused (413) and the hub goes on;
  - 1,500 idle connections and 200 half-sent requests from one address
    (127.0.0.2) do not stop the service: the hub holds at most
    [http] max_connections_per_ip of them, and /healthz and an authenticated
    listing from another address still answer.

Real programs (Mosquitto, depot-hub on SQLite), free ports, bounded waits;
the Env stops everything.
"""
import json
import os
import resource
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))

from harness import Env, http_json, main, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from hubenv import start_hub  # noqa: E402

VIEWER = "viewer-token-attack"
ADMIN = "admin-token-attack"
TOKENS = {"viewer": ("viewer", VIEWER), "admin": ("admin", ADMIN)}
INJECTIONS = [
    "' OR '1'='1", "'; DROP TABLE stock; --", "\" OR 1=1 --", "A' UNION SELECT * FROM dealers--",
    "1; SELECT pg_sleep(5)--", "A'||(SELECT name FROM sqlite_master)||'", "%", "_", "\\",
    "A\x00B", "') OR ('a'='a", "x" * 5000, "../../etc/passwd", "$1", "?1",
]
GET_ROUTES = {  # path (ARG: a path argument) -> query parameters it reads
    "stock": ["dealer", "sku", "region", "since", "limit", "after"],
    "dealers": ["limit", "after"],
    "dealers/ARG": [], "dealers/ARG/streams": [], "dealers/ARG/kpis": [],
    "catalog": [], "orders": ["status", "dealer", "limit", "after"], "orders/ARG": [],
    "orders-forged": ["dealer"], "ranking": ["period"], "alerts": ["status", "dealer", "kind",
                                                                   "sku", "limit", "after"],
    "alerts/ARG": [], "history": ["dealer", "sku", "days"], "me": [],
}
ADMIN_ROUTES = [("PUT", "catalog", []), ("PATCH", "dealers/A", {}), ("PUT", "dealers/A", {}),
                ("POST", "payments", {}), ("GET", "users", None), ("GET", "users/A", None),
                ("POST", "users", {"name": "x", "role": "admin"}), ("PATCH", "users/A", {}),
                ("GET", "tokens", None), ("POST", "tokens", {"name": "x", "role": "admin"}),
                ("POST", "tokens/A/revoke", {}), ("POST", "policies", {}),
                ("POST", "policies/1/repush", {})]
CATALOG = [{"sku": "SKU-BOLT", "barcode": "4006381333931", "price": "2.50", "unit_weight_g": 100,
            "min_qty": 1, "max_qty": 500, "reorder_point": 20, "lead_time_days": 7,
            "max_stock": 100000}]


class Hub:
    def __init__(self, env):
        self.pki = make_pki(env, ["A"])
        _, port = start_broker(env, self.pki)
        self.proc, self.http = start_hub(env, self.pki, port, tokens=TOKENS)

    def url(self, path, query=None):
        u = "http://127.0.0.1:%d/api/v1/%s" % (self.http, path)
        return u + ("?" + urllib.parse.urlencode(query) if query else "")

    def call(self, method, path, token=VIEWER, body=None, query=None, timeout=10.0):
        return http_json(self.url(path, query), token, method, body, timeout=timeout)

    def snapshot(self):
        """What the listings read: any change an injection made would show here."""
        out = {}
        for path in ("stock", "dealers", "catalog", "orders", "alerts", "dealers/A"):
            status, body = self.call("GET", path)
            assert status == 200, (path, status, body)
            if path == "dealers":
                for d in body:
                    d.pop("age_s", None)
            out[path] = json.dumps(body, sort_keys=True)
        return out


def setup(env):
    hub = Hub(env)
    assert hub.call("PUT", "catalog", ADMIN, CATALOG)[0] == 200
    assert hub.call("PATCH", "dealers/A", ADMIN, {"name": "North", "region": "west",
                                                  "credit_limit": "100.00"})[0] == 200
    return hub


def test_every_route_needs_its_token_and_role():
    with Env("http-auth") as env:
        hub = setup(env)
        for path in GET_ROUTES:
            status, _ = hub.call("GET", path.replace("ARG", "A"), token=None)
            assert status == 401, (path, status)
            status, _ = hub.call("GET", path.replace("ARG", "A"), token="not-a-token")
            assert status == 401, (path, status)
        for method, path, body in ADMIN_ROUTES:
            status, _ = hub.call(method, path, VIEWER, body)
            assert status == 403, (method, path, status)
        print("  %d GET routes: 401 without a token or with a wrong one; %d admin routes: 403 "
              "to a viewer" % (len(GET_ROUTES), len(ADMIN_ROUTES)))


def test_sql_injection_strings_are_inert():
    with Env("http-sqli") as env:
        hub = setup(env)
        before = hub.snapshot()
        requests = 0
        for path, params in GET_ROUTES.items():
            for inj in INJECTIONS:
                tries = [(path.replace("ARG", urllib.parse.quote(inj, safe="")), None)]
                tries += [(path.replace("ARG", "A"), {p: inj}) for p in params]
                for p, q in tries:
                    status, body = hub.call("GET", p, query=q)
                    requests += 1
                    assert status < 500, (p, q, status, body)
        for inj in INJECTIONS[:11]:  # text fields keep exactly what was sent
            status, _ = hub.call("PATCH", "dealers/A", ADMIN, {"name": inj[:100]})
            if status == 200:
                assert hub.call("GET", "dealers/A")[1]["name"] == inj[:100]
            else:
                assert status == 400, (inj, status)
            requests += 1
        assert hub.call("PATCH", "dealers/A", ADMIN, {"name": "North"})[0] == 200
        after = hub.snapshot()
        assert after == before, "an injection changed what the API lists"
        assert hub.proc.alive()
        print("  %d requests with %d injection strings in every parameter and path argument: "
              "no 5xx, nothing changed, names stored as sent" % (requests, len(INJECTIONS)))


def test_oversized_body_refused_and_hub_goes_on():
    with Env("http-big") as env:
        hub = setup(env)
        big = "[" + ",".join(['{"sku":"S%d"}' % i for i in range(700000)]) + "]"
        assert len(big) > 8 * 1024 * 1024
        with socket.create_connection(("127.0.0.1", hub.http), timeout=30) as s:
            head = ("PUT /api/v1/catalog HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % (ADMIN, len(big)))
            s.sendall(head.encode() + big.encode())
            reply = s.recv(200).decode(errors="replace")
        assert reply.startswith("HTTP/1.1 413"), reply
        assert hub.call("GET", "catalog")[1]["items"][0]["sku"] == "SKU-BOLT"
        print("  a %.1f MB body: 413, the catalog as it was" % (len(big) / 1e6))


def test_idle_and_half_sent_connections_do_not_stop_the_service():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 1500 + 200 + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    with Env("http-idle") as env:
        hub = setup(env)
        held = []
        try:
            for i in range(1500 + 200):
                s = socket.create_connection(("127.0.0.1", hub.http), timeout=5,
                                             source_address=("127.0.0.2", 0))
                held.append(s)
                if i >= 1500:  # a request that never ends (the hub may have closed it)
                    try:
                        s.sendall(b"GET /api/v1/stock HTTP/1.1\r\nHost: x\r\nAuthorization: B")
                    except OSError:
                        pass
            t0 = time.monotonic()
            wait_for(lambda: http_json("http://127.0.0.1:%d/healthz" % hub.http,
                                       timeout=2.0)[0] == 200,
                     timeout=10, what="/healthz with 1,700 connections held")
            status, body = hub.call("GET", "stock", timeout=5.0)
            took = time.monotonic() - t0
            assert status == 200, (status, body)
        finally:
            for s in held:
                s.close()
        assert hub.proc.alive()
        print("  1,500 idle and 200 half-sent connections from one address: /healthz and /stock "
              "from another answered in %.2f s" % took)


if __name__ == "__main__":
    main([test_every_route_needs_its_token_and_role, test_sql_injection_strings_are_inert,
          test_oversized_body_refused_and_hub_goes_on,
          test_idle_and_half_sent_connections_do_not_stop_the_service])
