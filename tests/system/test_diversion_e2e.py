"""Anti-diversion with one code per item, end to end: the ERP's shipments (with
the item codes they carried) recorded through `depotctl shipments`, each
dealer's territory in its profile, and items scanned by their own GS1 code at
real scanner terminals of two dealers:

  - dealer A receives and sells its own items: nothing is flagged;
  - an item shipped to A is received and then sold at B's terminal: a
    diversion alert at B names the item, A and its territory, B and its
    territory, and that B's place lies outside A's area;
  - an item of A's picked out a second time: a double_pick alert;
  - the hub's records verify (`depotctl ledger verify`): the codes are in
    each movement's hash;
  - a plain serial code, named by its item's catalog serial_prefix, is
    received at a terminal, and one shipped to A turning up at B is flagged.

depot-node scanner -> depot-gateway -> Mosquitto over mutual TLS -> depot-hub,
for both dealers; depotctl against the hub's API. Free ports, bounded polls.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, main, run, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from hubenv import api, call, metrics, put_catalog, set_dealer, start_hub, stock_map  # noqa: E402

VIEWER = "viewer-token-div"
APPROVER = "approver-token-div"
ADMIN = "admin-token-div"
TOKENS = {"viewer": VIEWER, "approver": APPROVER, "admin": ADMIN}
BOLT = "4006381333931"
GTIN = "0" + BOLT


def code(serial):
    """The GS1 item code of one bolt as a scanner reads it (AI 01 GTIN, AI 21 serial)."""
    return "01" + GTIN + "21" + serial


def alerts_of(http, dealer, kind):
    return api(http, "/api/v1/alerts?dealer=%s&kind=%s" % (dealer, kind), VIEWER)


def test_diverted_item_flagged_with_both_territories():
    with Env("diversion") as env:
        pki = make_pki(env, ["A", "B"])
        _, port = start_broker(env, pki)
        _, http = start_hub(env, pki, port, tokens=TOKENS)
        hub = "http://127.0.0.1:%d" % http
        put_catalog(http, ADMIN, [{"sku": "SKU-BOLT", "barcode": BOLT, "price": "2.50",
                                   "unit_weight_g": 100, "min_qty": 1, "max_qty": 500,
                                   "reorder_point": 0, "lead_time_days": 7,
                                   "max_stock": 100000}])
        set_dealer(http, ADMIN, "A", region="north",
                   territory=[[0, 0], [0, 5], [5, 5], [5, 0]])
        b = set_dealer(http, ADMIN, "B", region="south", lat=10.5, lon=10.5)
        assert b["territory"] is None, b
        assert api(http, "/api/v1/dealers/A", VIEWER)["territory"] == \
            [[0, 0], [0, 5], [5, 5], [5, 0]]

        # the ERP's shipment to A: a dry run first, then for real, then again (nothing more)
        csv = env.path("shipments.csv")
        with open(csv, "w") as f:
            f.write("shipment,dealer,order,shipped_at,sku,qty,codes\n"
                    "SHP-100,A,,2026-12-01,SKU-BOLT,4,"
                    "(01)%s(21)S1 (01)%s(21)S2 (01)%s(21)S3\n" % (GTIN, GTIN, GTIN))
        ctl = [os.path.join(BIN, "depotctl"), "shipments"]
        target = ["--hub", hub, "--token", APPROVER]
        r = run(ctl + ["check", csv] + target)
        assert "1 shipments of %s would be recorded, 0 already are" % csv in r.stdout, r.stdout
        assert api(http, "/api/v1/codes/" + code("S1"), VIEWER, expect=404)
        r = run(ctl + ["import", csv] + target)
        assert "recorded 1 shipments" in r.stdout, r.stdout
        r = run(ctl + ["import", csv] + target)
        assert "recorded 0 shipments from %s, 1 already were" % csv in r.stdout, r.stdout
        r = run(ctl + ["code", code("S2")] + target)
        assert '"shipment":\t"SHP-100"' in r.stdout and '"dealer":\t"A"' in r.stdout, r.stdout
        # a bad line is named and nothing is written
        with open(csv, "w") as f:
            f.write("shipment,dealer,order,shipped_at,sku,qty,codes\n"
                    "SHP-101,A,,,SKU-BOLT,1,(01)%s(21)S1\n" % GTIN)
        r = run(ctl + ["import", csv] + target, check=False)
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert "%s:2: shipment SHP-101: code 0104006381333931" % csv in r.stderr, r.stderr
        assert "was shipped already (shipment SHP-100 to A)" in r.stderr, r.stderr

        wa = start_warehouse(env, pki, port, "A", scanners=["scan-1"])
        wb = start_warehouse(env, pki, port, "B", scanners=["scan-1"])
        for wh in (wa, wb):
            wait_for(lambda: wh.ledger_query("SELECT count(*) FROM catalog")[0][0] == 1,
                     timeout=20, what="the catalog at %s" % wh.dealer)

        # A: its own items in, one sold; nothing flagged
        for serial in ("S1", "S3"):
            wa.ctl("scan-1", "scan receive %s 1" % code(serial))
        wa.ctl("scan-1", "scan pick %s 1" % code("S1"))
        wait_for(lambda: wa.display("scan-1")[1] == "OUT SKU-BOLT -1", timeout=10,
                 what="A's pick on its display")
        assert wa.ledger_query("SELECT kind, code FROM movements ORDER BY id") == [
            ("receive", code("S1")), ("receive", code("S3")), ("pick", code("S1"))]

        # B: A's item S2 received and sold at B
        wb.ctl("scan-1", "scan receive %s 1" % code("S2"))
        wb.ctl("scan-1", "scan pick %s 1" % code("S2"))
        wait_for(lambda: wb.display("scan-1")[1] == "OUT SKU-BOLT -1", timeout=10,
                 what="B's pick on its display")
        alert = wait_for(lambda: (lambda a: a[0] if a and a[0]["count"] >= 2 else None)(
            alerts_of(http, "B", "diversion")), timeout=30, what="the diversion alert at B")
        assert alert["severity"] == "critical" and alert["status"] == "open", alert
        assert alert["text"] == ("SKU-BOLT %s shipped to A (region north + area) turned up at B "
                                 "(region south): pick at scan-1; B's place is outside A's area"
                                 % code("S2")), alert
        assert alerts_of(http, "A", "diversion") == []
        # the code's history: shipped to A, received and picked at B's terminal
        item = api(http, "/api/v1/codes/" + code("S2"), VIEWER)
        assert item["dealer"] == "A" and [(sc["dealer"], sc["kind"], sc["node"])
                                          for sc in item["scans"]] == [
            ("B", "receive", "scan-1"), ("B", "pick", "scan-1")], item

        # A picks S1 out again: the same item cannot leave twice
        wa.ctl("scan-1", "scan pick %s 1" % code("S1"))
        double = wait_for(lambda: (lambda a: a[0] if a else None)(
            alerts_of(http, "A", "double_pick")), timeout=30, what="the double_pick alert at A")
        assert double["text"] == ("SKU-BOLT %s picked out again at A (scan-1), after a pick at A "
                                  "(scan-1)" % code("S1")), double
        wait_for(lambda: stock_map(http, VIEWER).get(("A", "SKU-BOLT"), {}).get("qty") == 0,
                 timeout=20, what="A's stock at the hub")

        # the ranking: one item of A's found at B is one incident of A's (its receive and its
        # pick at B are one item); its weight is 0 unless [ranking] weights gives a seventh
        def kpi(dealer):
            return api(http, "/api/v1/dealers/%s/kpis" % dealer, VIEWER)
        wait_for(lambda: kpi("A")["kpis"]["diversion"]["value"] == 0.5, timeout=20,
                 what="A's diversion KPI at 0.5")
        assert kpi("B")["kpis"]["diversion"]["value"] == 1.0, kpi("B")
        how = kpi("A")["how"]
        how = " ".join(how) if isinstance(how, list) else how
        assert "diversion: 1 / (1 + 1 of its items found at other dealers) = 0.5000" in how and \
            "weight 0" in how, how

        m = metrics(http)
        assert m["depot_hub_item_codes_scanned_total"] == 6, m
        assert m["depot_hub_item_codes_diverted_total"] == 2, m
        assert m["depot_hub_item_codes_picked_twice_total"] == 1, m
        assert m["depot_hub_item_codes_unknown_total"] == 0, m
        # each code is in its movement's hash, and the hub's records verify
        for d in ("A", "B"):
            r = run([os.path.join(BIN, "depotctl"), "ledger", "verify", "--dealer", d,
                     "--hub", hub, "--token", VIEWER], check=False)
            assert r.returncode == 0, (d, r.stdout, r.stderr)
        # a scan by a code of another GTIN, or two items by one code, is refused at the terminal
        wb.ctl("scan-1", "scan pick %s 2" % code("S9"))
        wait_for(lambda: wb.display("scan-1")[1] == "ITEM CODE: ONE ITEM IN OR OUT (QTY 2)",
                 timeout=10, what="the refusal on B's display")
        status, _ = call(http, "POST", "/api/v1/shipments", VIEWER,
                         {"shipment": "X", "dealer": "A",
                          "lines": [{"sku": "SKU-BOLT", "qty": 1}]}, expect=None)
        assert status == 403, status

        # plain serial codes: the catalog (depotctl catalog import, its serial_prefix column)
        # gives nuts the prefix NUT-SN-; a nut shipped to A is received at B's terminal by its
        # serial alone
        cat = env.path("catalog.csv")
        with open(cat, "w") as f:
            f.write("sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,"
                    "lead_time_days,max_stock,serial_prefix\n"
                    "SKU-BOLT,%s,2.50,100,1,500,0,7,100000,\n"
                    "SKU-NUT,4006381333948,0.50,10,1,500,0,7,100000,NUT-SN-\n" % BOLT)
        run([os.path.join(BIN, "depotctl"), "catalog", "import", cat, "--hub", hub,
             "--token", ADMIN])
        for wh in (wa, wb):
            wait_for(lambda: wh.ledger_query(
                "SELECT serial_prefix FROM catalog WHERE sku = 'SKU-NUT'") == [("NUT-SN-",)],
                timeout=20, what="the serial prefix at %s" % wh.dealer)
        call(http, "POST", "/api/v1/shipments", APPROVER,
             {"shipment": "SHP-NUT", "dealer": "A",
              "lines": [{"sku": "SKU-NUT", "qty": 2, "codes": ["NUT-SN-0001", "NUT-SN-0002"]}]},
             expect=201)
        wa.ctl("scan-1", "scan receive NUT-SN-0002 1")
        wait_for(lambda: wa.display("scan-1")[1] == "IN SKU-NUT +1", timeout=10,
                 what="A's serial scan on its display")
        wb.ctl("scan-1", "scan receive NUT-SN-0001 1")
        wait_for(lambda: wb.display("scan-1")[1] == "IN SKU-NUT +1", timeout=10,
                 what="B's serial scan on its display")
        assert wb.ledger_query("SELECT kind, sku, code FROM movements WHERE code LIKE 'NUT%'") \
            == [("receive", "SKU-NUT", "NUT-SN-0001")]
        nut = wait_for(lambda: (lambda a: a[0] if a else None)(
            [a for a in alerts_of(http, "B", "diversion") if "NUT-SN-0001" in a["text"]]),
            timeout=30, what="the diversion alert of the nut at B")
        assert nut["text"].startswith("SKU-NUT NUT-SN-0001 shipped to A"), nut
        assert not [a for a in alerts_of(http, "A", "diversion") if "NUT-SN" in a["text"]]
        item = api(http, "/api/v1/codes/NUT-SN-0001", VIEWER)
        assert item["dealer"] == "A" and [sc["dealer"] for sc in item["scans"]] == ["B"], item


if __name__ == "__main__":
    main([test_diverted_item_flagged_with_both_territories])
