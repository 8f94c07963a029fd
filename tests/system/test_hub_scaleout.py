"""Several depot-hub instances on one PostgreSQL database and one broker.

Three hubs share the uplink subscription ($share/hub/...) and one database;
mqtt_flood plays 100 dealers' gateways (10,000 stock messages, each dealer's
stream in id order, resent when the acknowledgement does not come) while
signed orders of five dealers arrive by hand, and one hub is killed with
SIGKILL in the middle. Then, through the surviving hubs' API:
  - every stream's applied_upto is its last id and its applied count is
    exactly its number of messages: 10,000 applied, none twice, none lost;
  - 10,000 stock rows;
  - every order stored once and decided once (one decision in its audit);
  - a hub started while the others run finds the schema migrated and
    applies no migration.
Runs only with DEPOT_TEST_PG_URL_FILE (ctest's .pg fixture starts the
PostgreSQL); ports are free ones picked at run time, every wait is a bounded
poll, the Env stops every process, even on failure.
"""
import json
import os
import random
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, TESTBIN, Env, http_json, main, run, wait_for  # noqa: E402
from broker import (dealer_identity, hub_identity, hub_instance, make_pki, mqtt_pub,  # noqa: E402
                    start_broker)  # noqa: E402
from hubenv import metrics, start_hub, store_is_pg, streams  # noqa: E402

ADMIN = "admin-token-scaleout"
TOKENS = {"admin": ("admin", ADMIN)}
DEALERS, SKUS = 100, 100
ORDER_DEALERS = ["D%04d" % i for i in range(5)]
ORDERS_EACH = 4
BOLT = "4006381333931"
CATALOG = ("sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,"
           "max_stock\nSKU-BOLT,%s,2.50,100,1,500,20,7,100000\n" % BOLT)


def api(http, method, path, body=None):
    status, out = http_json("http://127.0.0.1:%d%s" % (http, path), ADMIN, method, body)
    assert status == 200, (method, path, status, out)
    return out


def applied_total(hubs):
    total = 0
    for proc, http in hubs:
        if proc.alive():
            total += metrics(http).get("depot_hub_messages_applied_total", 0)
    return total


def order_payloads(env, pki):
    """Signed up/order messages: ORDERS_EACH per dealer, ids 1.. of a ledger of its own."""
    out = []
    for d in ORDER_DEALERS:
        ledger = "%032x" % random.getrandbits(128)
        for n in range(1, ORDERS_EACH + 1):
            payload = run([os.path.join(TESTBIN, "order_sign"), "--dealer", d, "--ledger",
                           ledger, "--id", n, "--number", n, "--key", pki["dealers"][d]["key"],
                           "--cert", pki["dealers"][d]["crt"], "%s:%d" % (BOLT, n)]).stdout.strip()
            out.append((d, payload))
    return out


def test_three_hubs_one_killed_apply_everything_once():
    assert store_is_pg(), "runs with the PostgreSQL fixture (DEPOT_TEST_PG_URL_FILE)"
    with Env("hub-scaleout") as env:
        pki = make_pki(env, ORDER_DEALERS, hubs=("hub-2", "hub-3", "hub-4"))
        broker, port = start_broker(env, pki)
        db = env.path("shared.db")  # one PostgreSQL database for every hub (hubenv)
        hubs = []
        for name in ("hub", "hub-2", "hub-3"):
            hubs.append(start_hub(env, dict(pki, **hub_pki(pki, name)), port, tokens=TOKENS,
                                  name=name, db=db, instance=name))
        http = hubs[0][1]
        csv = env.path("catalog.csv")
        with open(csv, "w") as f:
            f.write(CATALOG)
        run([os.path.join(BIN, "depotctl"), "catalog", "import", csv, "--hub",
             "http://127.0.0.1:%d" % http, "--token", ADMIN])
        for d in ORDER_DEALERS:
            api(http, "PATCH", "/api/v1/dealers/" + d,
                {"credit_limit": 100000.00, "auto_approve_limit": 500.00})

        cert, key = hub_identity(pki)
        flood = env.start("flood", [os.path.join(TESTBIN, "mqtt_flood"), "--port", port,
                                    "--ca", pki["ca"], "--cert", cert, "--key", key,
                                    "--dealers", DEALERS, "--skus", SKUS, "--window", 500,
                                    "--resend-s", 3, "--timeout-s", 240])
        orders = order_payloads(env, pki)
        wait_for(lambda: applied_total(hubs) >= 3000, timeout=120, what="3,000 applied")
        for d, payload in orders[:len(orders) // 2]:
            crt, k = dealer_identity(pki, d)
            assert mqtt_pub(pki, port, "depot/v1/%s/up/order" % d, payload, crt, k).returncode == 0
        hubs[1][0].stop(sig=signal.SIGKILL)
        print("  hub-2 killed at %d applied" % applied_total(hubs))
        # the rest, and (as a gateway resends what no acknowledgement covered) the first half
        # again: what the killed hub had taken and not committed is applied by another
        for d, payload in orders[len(orders) // 2:] + orders[:len(orders) // 2]:
            crt, k = dealer_identity(pki, d)
            assert mqtt_pub(pki, port, "depot/v1/%s/up/order" % d, payload, crt, k).returncode == 0
        late = start_hub(env, dict(pki, **hub_pki(pki, "hub-4")), port, tokens=TOKENS,
                         name="hub-4", db=db, instance="hub-4")
        hubs.append(late)
        wait_for(lambda: not flood.alive(), timeout=300, what="mqtt_flood to finish")
        assert flood.p.returncode == 0, flood.log()[-2000:]

        live = [h for h in hubs if h[0].alive()]
        assert len(live) == 3
        assert "migration" not in late[0].log().replace("migrations", ""), late[0].log()[-2000:]
        total = DEALERS * SKUS

        def all_applied():
            n = 0
            for i in range(DEALERS):
                for s in streams(http, ADMIN, "D%04d" % i).values():
                    if s["applied_upto"] == SKUS:
                        n += s["applied"]
            return n >= total
        wait_for(all_applied, timeout=60, interval=0.5, what="every stream applied up to its end")
        applied = dup = 0
        for i in range(DEALERS):
            for s in streams(http, ADMIN, "D%04d" % i).values():
                if s["applied_upto"] == SKUS:
                    assert s["applied"] == SKUS, ("D%04d" % i, s)
                    applied += s["applied"]
                    dup += s["duplicates"]
        assert applied == total, applied
        rows = api(http, "GET", "/api/v1/stock")
        assert len(rows) == total and len({(r["dealer"], r["sku"]) for r in rows}) == total
        print("  %d applied exactly once across %d hubs, %d duplicates counted" % (
            applied, len(hubs), dup))

        def orders_decided():
            got = api(http, "GET", "/api/v1/orders")
            return len(got) == len(orders) and all(o["status"] != "pending" for o in got) and got
        got = wait_for(orders_decided, timeout=30, what="every order decided")
        assert len({o["order"] for o in got}) == len(orders)
        for o in got:
            audit = [a["action"] for a in api(http, "GET", "/api/v1/orders/" + o["order"])["audit"]]
            decisions = [a for a in audit if a in ("approved", "rejected", "auto-approved")]
            assert audit.count("received") == 1 and len(decisions) == 1, (o["order"], audit)
        print("  %d orders, each received once and decided once: %s" % (
            len(got), json.dumps(sorted({o["status"] for o in got}))))


def hub_pki(pki, name):
    """The hub_cert/hub_key of a hub instance's certificate (make_pki(hubs=...))."""
    cert, key = hub_instance(pki, name)
    return {"hub_cert": cert, "hub_key": key}


if __name__ == "__main__":
    main([test_three_hubs_one_killed_apply_everything_once])
