"""depot-hub for system tests: write its config, start it, talk to its API.

    with Env("x") as env:
        pki = make_pki(env, ["A"])                       # broker.py
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": "viewer-token-e2e"})
        rows = stock(http, "viewer-token-e2e", dealer="A")

Orders: put_catalog, set_dealer, pay, orders, order, approve, reject, and
signed_order (a payload made by tests/order_sign, genuine or forged) to
publish with mqtt_pub. start_hub(..., extra={"approval": {"stages": "sales,finance"}})
adds sections to the config; tokens may carry stages: {"sales": "approver:TOKEN:sales"}.

start_hub writes env/<name>/hub.ini (the format is in cloud/README.md), starts
`depot-hub -c` through the Env and returns once /healthz answers and, by
default, the hub's MQTT subscriptions are acknowledged by the broker, so a
message published afterwards reaches it. Every wait is a bounded poll.

Stores: by default a hub's database is a SQLite file in the test folder. When
DEPOT_TEST_PG_URL_FILE names the URL file of a PostgreSQL that the suite
started (tests/tools/pg_fixture.py; ctest runs the .pg variants of the hub's
tests with it), store_location() turns every such path into a database of
its own on that server, the same path always into the same database, so
hubs given one db= share one PostgreSQL database as they would share a file.
"""
import hashlib
import json
import os
import subprocess
import urllib.parse
import urllib.request

from harness import BIN, TESTBIN, free_port, http_json, wait_for

ROLES = ("viewer", "approver", "admin")


def _token_lines(tokens):
    """[tokens] lines from {name: "role:token" | (role, token) | token}.

    A bare token takes the role named by its key when the key is a role
    ("viewer", "approver", "admin"), else viewer.
    """
    lines = []
    for name, v in (tokens or {}).items():
        if isinstance(v, (tuple, list)):
            role, tok = v
        elif ":" in v and v.split(":", 1)[0] in ROLES:
            role, tok = v.split(":", 1)
        else:
            role, tok = (name if name in ROLES else "viewer"), v
        lines.append("%s = %s:%s" % (name, role, tok))
    return lines


def store_is_pg():
    """Whether the hubs of this run store in PostgreSQL (DEPOT_TEST_PG_URL_FILE is set)."""
    return bool(os.environ.get("DEPOT_TEST_PG_URL_FILE"))


def store_location(path):
    """The [hub] database of a hub whose SQLite file would be path: path itself, or on
    PostgreSQL the URL of a database named after path (created on its first use)."""
    url_file = os.environ.get("DEPOT_TEST_PG_URL_FILE")
    if not url_file:
        return path
    from pgenv import create_database  # only runs that have the server need it
    with open(url_file) as f:
        server = f.read().strip()
    name = "t_" + hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:20]
    if name not in _created:
        create_database(server, name)
        _created.add(name)
    u = urllib.parse.urlsplit(server)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


_created = set()


def write_hub_config(env, pki, broker_port, tokens=None, name="hub", http_port=None, db=None,
                     offline_after_s=120, threads=4, log_level="debug", instance=None,
                     extra=None):
    """Write env/<name>/hub.ini; returns (path, http_port). pki None means MQTT without TLS.

    extra: {"section": {"option": "value"}} appended/overriding.
    """
    d = env.path(name)
    os.makedirs(d, exist_ok=True)
    http_port = http_port or free_port()
    sections = {
        "hub": {"db": store_location(db or os.path.join(d, "hub.db")), "log_level": log_level,
                "offline_after_s": str(offline_after_s), "instance": instance or name},
        "mqtt": {"host": "127.0.0.1", "port": str(broker_port)},
        "http": {"listen": "127.0.0.1:%d" % http_port, "threads": str(threads)},
    }
    if pki:
        sections["mqtt"].update({"ca": pki["ca"], "cert": pki.get("hub_cert") or pki["hub_crt"],
                                 "key": pki["hub_key"]})
    for sec, opts in (extra or {}).items():
        sections.setdefault(sec, {}).update(opts)
    lines = []
    for sec, opts in sections.items():
        lines.append("[%s]" % sec)
        lines += ["%s = %s" % kv for kv in opts.items()]
        lines.append("")
    lines.append("[tokens]")
    lines += _token_lines(tokens)
    path = os.path.join(d, "hub.ini")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, http_port


def health(http_port):
    """The /healthz JSON ({"status": "ok", "mqtt": "disconnected|connected|subscribed"})."""
    status, body = http_json("http://127.0.0.1:%d/healthz" % http_port, timeout=2.0)
    return body if status == 200 else None


def wait_hub(proc, http_port, subscribed=True, timeout=20.0):
    """Bounded poll until the API answers (and the MQTT subscriptions are acknowledged)."""
    def up():
        if not proc.alive():
            raise AssertionError("depot-hub exited:\n" + proc.log()[-3000:])
        h = health(http_port)
        return h and (not subscribed or h.get("mqtt") == "subscribed")
    wait_for(up, timeout=timeout, what="depot-hub on 127.0.0.1:%d%s"
             % (http_port, " subscribed" if subscribed else ""))


def start_hub(env, pki, broker_port, tokens=None, name="hub", wait_subscribed=True,
              timeout=20.0, **config):
    """Write the config and start depot-hub; returns (proc, http_port).

    config: keyword arguments of write_hub_config (db, offline_after_s, threads,
    log_level, instance, http_port, extra). Give several hubs the same db= to
    share one SQLite file (and the shared subscription spreads the load).
    """
    path, http_port = write_hub_config(env, pki, broker_port, tokens, name=name, **config)
    proc = env.start(name, [os.path.join(BIN, "depot-hub"), "-c", path])
    wait_hub(proc, http_port, subscribed=wait_subscribed, timeout=timeout)
    return proc, http_port


def api(http_port, path, token, expect=200):
    """GET path ("/api/v1/...") with a bearer token; the parsed JSON (AssertionError on another status)."""
    status, body = http_json("http://127.0.0.1:%d%s" % (http_port, path), token)
    if expect is not None:
        assert status == expect, (path, status, body)
    return body


def stock(http_port, token, dealer=None, sku=None):
    """GET /api/v1/stock as a list of rows (dealer, sku, qty, node, updated_at, age_s, stale, stale_reason)."""
    q = "&".join("%s=%s" % (k, v) for k, v in (("dealer", dealer), ("sku", sku)) if v)
    return api(http_port, "/api/v1/stock" + ("?" + q if q else ""), token)


def stock_map(http_port, token, dealer=None, sku=None):
    """Like stock(), keyed by (dealer, sku)."""
    return {(r["dealer"], r["sku"]): r for r in stock(http_port, token, dealer, sku)}


def dealers(http_port, token):
    """GET /api/v1/dealers keyed by dealer id."""
    return {d["dealer"]: d for d in api(http_port, "/api/v1/dealers", token)}


def streams(http_port, token, dealer):
    """GET /api/v1/dealers/<dealer>/streams keyed by ledger id."""
    return {s["ledger"]: s for s in api(http_port, "/api/v1/dealers/%s/streams" % dealer, token)}


def metrics(http_port):
    """GET /metrics as {'name{labels}': float}."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http_port, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def call(http_port, method, path, token, body=None, expect=200):
    """method path ("/api/v1/...") with a JSON body; the parsed JSON (AssertionError on another
    status unless expect is None, then (status, body))."""
    status, reply = http_json("http://127.0.0.1:%d%s" % (http_port, path), token, method=method,
                              body=body)
    if expect is None:
        return status, reply
    assert status == expect, (method, path, status, reply)
    return reply


def put_catalog(http_port, token, items, expect=200):
    """PUT /api/v1/catalog (admin): items are dicts with sku, barcode, price (e.g. "12.50" or
    12.5), unit_weight_g, min_qty, max_qty, reorder_point, lead_time_days, max_stock."""
    return call(http_port, "PUT", "/api/v1/catalog", token, items, expect)


def catalog(http_port, token):
    """GET /api/v1/catalog: {"version", "items": [...]}."""
    return api(http_port, "/api/v1/catalog", token)


def set_dealer(http_port, token, dealer, patch=True, expect=200, **fields):
    """PATCH (or PUT) /api/v1/dealers/<dealer> (admin) with fields such as credit_limit="1000.00",
    auto_approve_limit="100.00", name, region, sku_max={"S1": 100}; returns the dealer."""
    return call(http_port, "PATCH" if patch else "PUT", "/api/v1/dealers/%s" % dealer, token,
                fields, expect)


def dealer(http_port, token, dealer_id, expect=200):
    """GET /api/v1/dealers/<id>: profile, heard state, sku_max and exposure."""
    return api(http_port, "/api/v1/dealers/%s" % dealer_id, token, expect=expect)


def pay(http_port, token, dealer_id, amount, order=None, ref="", expect=200):
    """POST /api/v1/payments (approver or admin); amount like "100.00"."""
    body = {"dealer": dealer_id, "amount": amount, "ref": ref}
    if order:
        body["order"] = order
    return call(http_port, "POST", "/api/v1/payments", token, body, expect)


def orders(http_port, token, status=None, dealer=None):
    """GET /api/v1/orders[?status=][&dealer=] (newest first)."""
    q = "&".join("%s=%s" % (k, v) for k, v in (("status", status), ("dealer", dealer)) if v)
    return api(http_port, "/api/v1/orders" + ("?" + q if q else ""), token)


def order(http_port, token, order_id, expect=200):
    """GET /api/v1/orders/<id> with lines and audit."""
    return api(http_port, "/api/v1/orders/%s" % order_id, token, expect=expect)


def forged_orders(http_port, token, dealer=None):
    """GET /api/v1/orders-forged[?dealer=]: order messages that never became orders."""
    return api(http_port, "/api/v1/orders-forged" + ("?dealer=%s" % dealer if dealer else ""),
               token)


def approve(http_port, token, order_id, stage, reason=None, expect=200):
    """POST /api/v1/orders/<id>/approve of the stage named (approver of that stage, or admin)."""
    return call(http_port, "POST", "/api/v1/orders/%s/approve" % order_id, token,
                dict({"stage": stage}, **({"reason": reason} if reason else {})), expect)


def reject(http_port, token, order_id, reason, expect=200):
    """POST /api/v1/orders/<id>/reject with a reason."""
    return call(http_port, "POST", "/api/v1/orders/%s/reject" % order_id, token,
                {"reason": reason}, expect)


def signed_order(dealer_id, ledger, msg_id, number, key, cert, lines, base=1, doc_dealer=None,
                 order_id=None, tamper=False):
    """The JSON text of an up/order message signed with key (tests/order_sign); lines are
    (barcode, qty) pairs. doc_dealer/order_id/tamper make forged ones on purpose."""
    argv = [os.path.join(TESTBIN, "order_sign"), "--dealer", dealer_id, "--ledger", ledger,
            "--id", str(msg_id), "--number", str(number), "--key", key, "--cert", cert,
            "--base", str(base)]
    if doc_dealer:
        argv += ["--doc-dealer", doc_dealer]
    if order_id:
        argv += ["--order", order_id]
    if tamper:
        argv.append("--tamper")
    argv += ["%s:%d" % (b, q) for b, q in lines]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def stock_message(dealer, ledger, msg_id, sku, qty, base=1, ts=None, node="scale-a", delta=0):
    """The JSON text of an up/stock message (for publishing by hand with mqtt_pub)."""
    import time
    return json.dumps({"v": 1, "type": "stock", "dealer": dealer, "ledger": ledger, "id": msg_id,
                       "base": base, "ts": ts if ts is not None else int(time.time() * 1000),
                       "body": {"sku": sku, "qty": qty, "delta": delta, "node": node}},
                      separators=(",", ":"))
