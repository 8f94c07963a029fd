"""The gateway's ledger file end to end: a damaged ledger is refused and left
as it is (only a missing one is created), an outbox row that can never be
sent is set aside so the stream goes on, and an implausible pick at a scanner
terminal is refused on its display and never written; the ledger's movement
chain verifies, and a movement changed by hand in a copy is named; the hub
checked and kept every batch's chain and signature, `depotctl ledger verify`
holds on its records, and names the one movement changed in its database.

depot-node scale -> depot-gateway -> Mosquitto over mutual TLS -> depot-hub.
Real programs, a real SQLite ledger damaged the way a disk, a copy or a hand
does it; free ports, bounded polls; the Env stops everything.
"""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, main, run, wait_for  # noqa: E402
from broker import (hub_identity, make_pki, mqtt_sub, start_broker, stop_broker,  # noqa: E402
                    wait_broker)
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402
from hubenv import start_hub, stock_map, streams  # noqa: E402
from test_gw_metrics_e2e import parse_metrics  # noqa: E402

TOKEN = "viewer-token-gwl"
ADMIN = "admin-token-gwl"
BOLT = "4006381333931"
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,%s,2.50,100,1,500,20,7,100000
""" % BOLT
GATEWAY = os.path.join(BIN, "depot-gateway")


def fingerprint(path):
    """(sha256, size, mtime_ns) of a file, and which SQLite side files exist beside it."""
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    st = os.stat(path)
    sides = tuple(s for s in ("-wal", "-shm", "-journal", ".new") if os.path.exists(path + s))
    return digest, st.st_size, st.st_mtime_ns, sides


def run_gateway(wh, *args):
    """depot-gateway [check] -c <config> to completion (bounded): (exit code, stderr + stdout)."""
    try:
        r = run([GATEWAY] + list(args) + ["-c", wh.config], check=False, timeout=30)
    except Exception as e:  # a gateway that took the file as its ledger runs on
        raise AssertionError("depot-gateway %s did not refuse the ledger: %r" % (args, e))
    return r.returncode, r.stderr + r.stdout


def make_damaged(ledger, kind, good):
    """Write one kind of damaged ledger file at the path `ledger`."""
    if kind == "empty":
        open(ledger, "wb").close()
    elif kind == "truncated":
        with open(good, "rb") as f:
            data = f.read()
        with open(ledger, "wb") as f:
            f.write(data[:len(data) // 2])
    elif kind == "garbage":
        with open(ledger, "wb") as f:
            f.write(b"this is not a ledger\n" * 500)
    elif kind == "not_a_ledger":
        db = sqlite3.connect(ledger)
        db.execute("CREATE TABLE notes (line TEXT)")
        db.execute("INSERT INTO notes VALUES ('a valid SQLite file, but not a Depot ledger')")
        db.commit()
        db.close()


def test_damaged_ledger_refused_and_left_untouched():
    """A missing ledger is created; an empty, truncated, garbage or foreign SQLite file at the
    ledger's path is refused (exit 1, a clear reason, by the daemon and by `check`) and left
    byte for byte as it was: never replaced by a new ledger with a new id."""
    with Env("gw-ledger-refuse") as env:
        pki = make_pki(env, ["A"])
        wh = start_warehouse(env, pki, 1, "A", tcp=[("scale-t", "SKU-T")], start_gateway=False)
        # missing: `check` says it will be created, the daemon creates it
        rc, out = run_gateway(wh, "check")
        assert rc == 0, out
        assert "no ledger yet" in out, out
        assert not os.path.exists(wh.ledger)
        gw = env.start("gw-A", [GATEWAY, "-c", wh.config])
        wh.weight("scale-t", 7 * UNIT_WEIGHT_G)
        wait_for(lambda: wh.ledger_qty("SKU-T") == 7, timeout=15, what="SKU-T at 7 in a new ledger")
        ledger_id = wh.ledger_id()
        assert gw.stop() == 0
        rc, out = run_gateway(wh, "check")
        assert rc == 0 and ("ledger %s: OK, id %s, dealer A" % (wh.ledger, ledger_id)) in out, out
        good = env.path("good-ledger.db")
        shutil.copy(wh.ledger, good)

        expected = {"empty": "the file is empty (0 bytes)",
                    "truncated": "damaged",
                    "garbage": "not an SQLite database",
                    "not_a_ledger": "not a Depot ledger"}
        for kind, reason in expected.items():
            os.remove(wh.ledger)
            make_damaged(wh.ledger, kind, good)
            before = fingerprint(wh.ledger)
            for args in ((), ("check",)):
                rc, out = run_gateway(wh, *args)
                assert rc == 1, (kind, args, rc, out)
                assert ("ledger %s: " % wh.ledger) in out and reason in out, (kind, args, out)
                assert "refused" in out, (kind, args, out)
                assert fingerprint(wh.ledger) == before, (kind, args, "the file was changed")
        # the sound copy put back is the same ledger again
        os.remove(wh.ledger)
        shutil.copy(good, wh.ledger)
        rc, out = run_gateway(wh, "check")
        assert rc == 0 and ("OK, id %s" % ledger_id) in out, out


def corrupt_outbox(wh):
    """With the gateway stopped: damage the two lowest outbox rows the way a hand or a bad
    sector does (a payload that is not JSON, a topic that names no message). Their ids."""
    db = sqlite3.connect(wh.ledger)
    try:
        ids = [r[0] for r in db.execute("SELECT id FROM outbox ORDER BY id LIMIT 2")]
        assert len(ids) == 2, ids
        db.execute("UPDATE outbox SET payload = '{\"v\":1,\"type\":\"stock\",' WHERE id = ?",
                   (ids[0],))
        db.execute("UPDATE outbox SET topic = 'up/bogus' WHERE id = ?", (ids[1],))
        db.commit()
    finally:
        db.close()
    return ids


def test_corrupt_outbox_row_set_aside_and_stream_goes_on():
    """Outbox rows that can never be sent are moved to outbox_aside (kept, counted in the
    metrics file, reported as an up/event) once each; the base passes them, so the hub's
    applied_upto reaches the last id, later messages are applied and the outbox drains."""
    with Env("gw-outbox-aside") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN})
        wh = start_warehouse(env, pki, port, "A", tcp=[("scale-t", "SKU-T")],
                             start_gateway=False)
        prom = os.path.join(wh.dir, "gateway.prom")
        with open(wh.config) as f:
            text = f.read()
        with open(wh.config, "w") as f:
            f.write(text.replace("[gateway]\n", "[gateway]\nmetrics_file = %s\n" % prom, 1))
        wh.gateway = env.start("gw-A", [GATEWAY, "-c", wh.config])
        wh.weight("scale-t", 10 * UNIT_WEIGHT_G)
        wait_for(lambda: stock_map(http, TOKEN, dealer="A").get(("A", "SKU-T"), {}).get("qty")
                 == 10, timeout=20, what="SKU-T at 10 in the hub")
        wait_for(lambda: wh.outbox_depth() == 0, timeout=20, what="the outbox drained")
        stop_broker(broker)
        for units in (11, 12, 13):
            wh.weight("scale-t", units * UNIT_WEIGHT_G)
            wait_for(lambda: wh.ledger_qty("SKU-T") == units, timeout=10,
                     what="SKU-T at %d in the ledger" % units)
        assert wh.gateway.stop() == 0
        bad = corrupt_outbox(wh)

        broker.start()
        wait_broker(broker, port)
        wh.gateway.start()
        wh.weight("scale-t", 14 * UNIT_WEIGHT_G)
        wait_for(lambda: stock_map(http, TOKEN, dealer="A").get(("A", "SKU-T"), {}).get("qty")
                 == 14, timeout=30, what="SKU-T at 14 in the hub")
        wait_for(lambda: wh.outbox_depth() == 0, timeout=30,
                 what="the outbox drained past the damaged rows")
        ledger = wh.ledger_id()
        wait_for(lambda: streams(http, TOKEN, "A")[ledger]["applied_upto"]
                 == wh.last_message_id(), timeout=20,
                 what="the hub's applied_upto at the last id")
        aside = wh.ledger_query("SELECT id, reason, event_id FROM outbox_aside ORDER BY id")
        assert [r[0] for r in aside] == bad, aside
        assert "does not decode" in aside[0][1], aside
        assert "topic" in aside[1][1], aside
        assert all(r[2] > bad[1] for r in aside), aside  # the events that reported them
        wait_for(lambda: parse_metrics(prom).get("depot_gw_outbox_aside_total") == 2,
                 timeout=25, what="depot_gw_outbox_aside_total 2 in the metrics file")
        log = wh.gateway.log()
        for i in bad:
            assert log.count("outbox: entry %d can never be sent" % i) == 1, log[-4000:]


def test_pick_above_stock_refused_on_the_display_never_written():
    """A pick of 10^9 against a stock of 110 at a real terminal: refused on its display with
    the reason, never written (no movement: no sale at the hub), recorded with its reason and
    reported to the hub as a scan_refused event. Then the movement chain: `depot-gateway ledger
    verify` holds on the running gateway's ledger and names the one movement changed by hand in
    a copy of it."""
    with Env("gw-pick-bound") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN, "admin": ADMIN})
        csv = env.path("catalog.csv")
        with open(csv, "w") as f:
            f.write(CATALOG)
        run([os.path.join(BIN, "depotctl"), "catalog", "import", csv,
             "--hub", "http://127.0.0.1:%d" % http, "--token", ADMIN])
        sub = mqtt_sub(env, pki, port, ["depot/v1/A/up/event"], *hub_identity(pki))
        wh = start_warehouse(env, pki, port, "A", scanners=["scan-1"])
        wait_for(lambda: wh.ledger_query("SELECT count(*) FROM catalog")[0][0] == 1,
                 timeout=20, what="the catalog in the ledger")
        wh.ctl("scan-1", "scan receive %s 110" % BOLT)
        wait_for(lambda: wh.display("scan-1")[1] == "IN SKU-BOLT +110", timeout=10,
                 what="IN SKU-BOLT +110 on the display")
        wait_for(lambda: stock_map(http, TOKEN, dealer="A").get(("A", "SKU-BOLT"), {}).get("qty")
                 == 110, timeout=20, what="SKU-BOLT at 110 in the hub")
        wh.ctl("scan-1", "scan pick %s 1000000000" % BOLT)
        code, text = wait_for(lambda: (lambda d: d if "EXCEEDS" in d[1] else None)(
            wh.display("scan-1")), timeout=10, what="the refusal on the display")
        assert (code, text) == (3, "PICK 1000000000 EXCEEDS STOCK 110"), (code, text)
        sub.wait_message(lambda t, p: json.loads(p)["body"]["event"] == "scan_refused"
                         and json.loads(p)["body"]["reason"] == "pick_exceeds_stock"
                         and json.loads(p)["body"]["count"] == 1000000000)
        assert wh.ledger_qty("SKU-BOLT") == 110
        assert wh.ledger_query("SELECT kind, delta FROM movements") == [("receive", 110)]
        assert wh.ledger_query("SELECT outcome, reason FROM scans ORDER BY id") == [
            ("applied", ""), ("refused", "pick_exceeds_stock")]
        assert stock_map(http, TOKEN, dealer="A")[("A", "SKU-BOLT")]["qty"] == 110

        # the movement chain: the running gateway's ledger verifies; a copy with one movement
        # changed by hand (its triggers dropped) names that movement and no other
        wh.ctl("scan-1", "scan pick %s 3" % BOLT)
        wh.ctl("scan-1", "scan receive %s 5" % BOLT)
        wait_for(lambda: wh.ledger_qty("SKU-BOLT") == 112, timeout=10, what="112 in the ledger")
        r = run([GATEWAY, "ledger", "verify", "-c", wh.config], check=False, timeout=30)
        assert r.returncode == 0 and "3 movements" in r.stdout and "the chain holds" in r.stdout, \
            (r.stdout, r.stderr)
        copy = env.path("ledger-copy.db")
        live = sqlite3.connect("file:%s?mode=ro" % wh.ledger, uri=True, timeout=5)
        out = sqlite3.connect(copy)
        live.backup(out)
        live.close()
        out.executescript("DROP TRIGGER movements_append_only_u;"
                          "UPDATE movements SET delta = -1, qty_after = 109 WHERE id = 2;")
        out.close()
        r = run([GATEWAY, "ledger", "verify", copy], check=False, timeout=30)
        assert r.returncode == 1, (r.stdout, r.stderr)
        broken = [line for line in r.stdout.splitlines() if line.startswith("BROKEN")]
        assert len(broken) == 1 and broken[0].startswith("BROKEN movement 2:"), r.stdout
        assert "pick SKU-BOLT -1 -> 109" in broken[0], broken
        r = run([GATEWAY, "ledger", "verify", env.path("no-such.db")], check=False, timeout=30)
        assert r.returncode == 2 and "no such file" in r.stderr, (r.stdout, r.stderr)

        # the hub's half: each batch's chain and signature checked as it applied, and kept; the
        # period verifies from the hub's records; one movement changed in the hub's database is
        # named, and no other
        ledger = wh.ledger_id()

        def hub_sql(sql):
            db = sqlite3.connect("file:%s?mode=ro" % env.path("hub", "hub.db"), uri=True,
                                 timeout=10)
            try:
                return db.execute(sql).fetchall()
            finally:
                db.close()
        wait_for(lambda: hub_sql("SELECT count(*) FROM movements")[0][0] == 3, timeout=30,
                 what="the 3 movements at the hub (batched by the gateway)")
        assert hub_sql("SELECT mid, hash FROM ledger_hashes ORDER BY mid") == wh.ledger_query(
            "SELECT id, hash FROM movements ORDER BY id")
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http, timeout=10) as resp:
            chained = dict((line.rsplit(" ", 1)[0], float(line.rsplit(" ", 1)[1]))
                           for line in resp.read().decode().splitlines()
                           if line.startswith("depot_hub_ledger_batches_total{"))
        assert chained['depot_hub_ledger_batches_total{result="started"}'] == 1, chained
        assert all(chained['depot_hub_ledger_batches_total{result="%s"}' % k] == 0
                   for k in ("unchained", "fork", "gap", "downgrade", "forged")), chained
        ctl = [os.path.join(BIN, "depotctl"), "ledger", "verify", "--dealer", "A",
               "--hub", "http://127.0.0.1:%d" % http, "--token", TOKEN]
        r = run(ctl, check=False, timeout=30)
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert re.search(r"^ok +ledger %s: movements 1\.\.3 \(3 in the period\): 3 hashes "
                         r"verified, (\d+) of \1 signed batches verify, 0 without a chain$" % ledger,
                         r.stdout, re.M), r.stdout
        today = time.strftime("%Y-%m-%d", time.gmtime())
        r = run(ctl + ["--from", "2020-01-01", "--to", "2020-01-31"], check=False, timeout=30)
        assert r.returncode == 0 and "no movements of A in the period" in r.stdout, r.stdout
        hub_db = sqlite3.connect(env.path("hub", "hub.db"), timeout=10)
        hub_db.execute("UPDATE movements SET delta = -1, qty = 109 WHERE dealer = 'A' AND mid = 2")
        hub_db.commit()
        hub_db.close()
        r = run(ctl + ["--from", today, "--to", today], check=False, timeout=30)
        assert r.returncode == 1, (r.stdout, r.stderr)
        named = [line.strip() for line in r.stdout.splitlines()
                 if line.strip().startswith("movement ")]
        assert len(named) == 1, r.stdout
        assert named[0].startswith("movement 2: changed: movement 2 (pick SKU-BOLT -1 -> 109 at "
                                   "scan-1) does not give the hash it was applied with"), named
        assert r.stdout.rstrip().endswith("NOT VERIFIED: see the lines above"), r.stdout
        r = run(ctl[:-2] + ["--token", "nope"], check=False, timeout=30)
        assert r.returncode == 1 and "401" in r.stderr, (r.stdout, r.stderr)


if __name__ == "__main__":
    main([test_damaged_ledger_refused_and_left_untouched,
          test_corrupt_outbox_row_set_aside_and_stream_goes_on,
          test_pick_above_stock_refused_on_the_display_never_written])
