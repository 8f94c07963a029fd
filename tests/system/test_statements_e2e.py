"""Rebate statements end to end: Mosquitto over mutual TLS -> depot-hub, a real gateway.

A statement is of a month that has ended, so the figures of last month arrive the way
test_ranking_e2e sends them: up/movements batches of picks dated last month (as a
gateway's outbox sends them after days offline), published with THAT dealer's gateway
certificate through the real broker, and payments imported with last month's dates. A's
real gateway and terminal pick this month: the ranking of this month has it, last month's
statement does not.

  - `depotctl statements close LAST-MONTH` freezes A's and B's statements; closing the
    current month is refused (409); closing again keeps them (created 0, existing 2);
  - each statement's rank, score, rebate and sales equal the ranking's of that month; the
    sales lines (one per pick movement, keyed by its ledger and movement id) sum to the
    sales KPI and its total; the payment lines to what was paid;
  - CSV (one row per line) and PDF (its xref offsets point at its objects, every line's
    text in its content streams) download; `depotctl statements verify FILE --ca` holds,
    and a figure changed in the file fails it;
  - B's dealer user gets 404 for A's statement, its CSV and PDF, and lists only B's;
  - A's user opens a dispute on a line (an unknown line: 400), the admin answers it once
    (again: 409), and the statement shows it answered;
  - a payment dated last month recorded after the close, and a restart of the hub, change
    nothing in the closed statement;
  - with [statements] close_after_days = 0 the hub closes last month by itself.

Every wait is a bounded poll; ports are free ones on 127.0.0.1; the Env stops every process.
"""
import datetime
import json
import os
import re
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, http_json, main, run, wait_for  # noqa: E402
from broker import dealer_identity, make_pki, mqtt_pub, pub_accepted, start_broker  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from hubenv import metrics, start_hub, wait_hub, write_hub_config  # noqa: E402

ADMIN = "admin-token-statements"
RANKING = {"ranking": {"weights": "0.35,0.25,0.15,0.15,0", "tiers": "0.8:3,0.35:1"},
           "statements": {"close_after_days": "-1"}}  # closed by hand here
BOLT, NUT, PUMP = "4006381333931", "4006381333948", "4006381333962"
CATALOG = [dict(sku=sku, barcode=bc, price=price, unit_weight_g=10, min_qty=1, max_qty=500,
                reorder_point=1, lead_time_days=7, max_stock=100000)
           for sku, bc, price in (("SKU-BOLT", BOLT, "2.50"), ("SKU-NUT", NUT, "0.40"),
                                  ("SKU-PUMP", PUMP, "100.00"))]
LEDGER = {"A": "a" * 32, "B": "b" * 32}
# Last month: A picks 2 PUMP on day 3 and 4 BOLT on day 10 (210.00), B 10 BOLT on day 3 (25.00).
PICKS = {"A": [(3, "SKU-PUMP", 2), (10, "SKU-BOLT", 4)], "B": [(3, "SKU-BOLT", 10)]}
# Payments of last month: A 60.00 (day 5) + 15.50 (day 20), B 5.00 (day 7).
PAYMENTS = [("A", "60.00", 5, "wire 1"), ("A", "15.50", 20, "wire 2"), ("B", "5.00", 7, "cash")]


def months():
    """(last month as YYYY-MM, its first day as a date, this month as YYYY-MM)."""
    first = datetime.datetime.now(datetime.timezone.utc).date().replace(day=1)
    last = (first - datetime.timedelta(days=1)).replace(day=1)
    return last.strftime("%Y-%m"), last, first.strftime("%Y-%m")


def ms_of(day, hour=12):
    return int(datetime.datetime(day.year, day.month, day.day, hour,
                                 tzinfo=datetime.timezone.utc).timestamp() * 1000)


def cents(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2]) * (1 if not whole.startswith("-") else -1)


class Site:
    def __init__(self, env, extra=RANKING, warehouse=True):
        self.env = env
        self.pki = make_pki(env, ["A", "B"])
        _, self.port = start_broker(env, self.pki)
        self.hub, self.http = start_hub(env, self.pki, self.port,
                                        tokens={"admin": ("admin", ADMIN)}, extra=extra)
        self.url = "http://127.0.0.1:%d" % self.http
        self.api("PUT", "catalog", CATALOG)
        if not warehouse:
            return
        self.a = start_warehouse(env, self.pki, self.port, "A", scanners=["scan-1"],
                                 period_ms=100,
                                 extra_gateway="[gateway]\nmovements_period_s = 1\n")
        wait_for(lambda: self.a.ledger_query("SELECT count(*) FROM catalog")[0][0] == 3,
                 timeout=20, what="the catalog in A's ledger")

    def api(self, method, path, body=None, token=ADMIN, expect=200):
        status, out = http_json(self.url + "/api/v1/" + path, token, method, body)
        if expect is not None:
            assert status == expect, (method, path, status, out)
        return out

    def raw(self, path, token, expect=200):
        req = urllib.request.Request(self.url + "/api/v1/" + path,
                                     headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, body, ctype = r.status, r.read(), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            status, body, ctype = e.code, e.read(), e.headers.get("Content-Type")
        assert status == expect, (path, status, body[:300])
        return body, ctype

    def ctl(self, *args, check=True):
        r = run([os.path.join(BIN, "depotctl")] + list(args) + ["--hub", self.url,
                                                                "--token", ADMIN],
                timeout=30, check=False)
        if check:
            assert r.returncode == 0, (r.stdout, r.stderr)
        return r

    def user(self, name, dealer):
        self.api("POST", "users", {"name": name, "role": "dealer", "dealer": dealer,
                                   "password": "the password of " + name}, expect=201)
        status, login = http_json(self.url + "/api/v1/login", None, "POST",
                                  {"user": name, "password": "the password of " + name})
        assert status == 200, login
        return login["token"]

    def publish_as(self, dealer, leaf, payload):
        cert, key = dealer_identity(self.pki, dealer)
        r = mqtt_pub(self.pki, self.port, "depot/v1/%s/%s" % (dealer, leaf), payload,
                     cert=cert, key=key)
        assert pub_accepted(r), (r.stdout, r.stderr)

    def board(self, period):
        b = self.api("GET", "ranking?period=" + period)
        return {e["dealer"]: e for e in b["dealers"]}


def movements_message(dealer, first_day, picks):
    items, level = [], 1000
    for i, (d, sku, units) in enumerate(picks):
        level -= units
        ts = ms_of(first_day + datetime.timedelta(days=d - 1))
        items.append({"mid": i + 1, "ts": ts, "node": "scan-1", "sku": sku, "kind": "pick",
                      "delta": -units, "qty": level})
    return json.dumps({"v": 1, "type": "movements", "dealer": dealer, "ledger": LEDGER[dealer],
                       "id": 1, "base": 1, "ts": items[-1]["ts"], "body": {"items": items}},
                      separators=(",", ":"))


def last_month_figures(site, first_day):
    last = first_day.strftime("%Y-%m")
    for d, picks in PICKS.items():
        site.publish_as(d, "up/movements", movements_message(d, first_day, picks))
    # the hub knows both dealers (a payment's dealer must be known) once their picks count
    wait_for(lambda: {d: e["kpis"]["sales"]["value"] for d, e in site.board(last).items()}
             == {"A": 210, "B": 25}, timeout=20, what="last month's picks ranked")
    lines = [{"line": i + 1, "dealer": d, "amount": amount, "order": "", "ref": ref,
              "date": (first_day + datetime.timedelta(days=day - 1)).isoformat()}
             for i, (d, amount, day, ref) in enumerate(PAYMENTS)]
    site.api("POST", "payments/import", {"payments": lines})


def check_pdf(pdf, lines):
    """The PDF's structure by hand: header, xref offsets at 'n 0 obj', trailer, EOF, texts."""
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.rstrip().endswith(b"%%EOF"), pdf[:20]
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF", pdf).group(1))
    assert pdf[start:start + 5] == b"xref\n"
    count = int(re.match(rb"xref\n0 (\d+)\n", pdf[start:]).group(1))
    table = pdf[start:].split(b"\n")[2:2 + count]
    assert table[0].startswith(b"0000000000 65535 f")
    for n, entry in enumerate(table[1:], start=1):
        off = int(entry[:10])
        assert pdf[off:].startswith(b"%d 0 obj" % n), (n, pdf[off:off + 20])
    assert b"trailer\n<< /Size %d /Root 1 0 R >>" % count in pdf
    text = pdf.decode("latin-1")
    for line in lines:
        item = line["item"].replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        assert item in text, item


def test_a_closed_month_is_frozen_signed_readable_and_disputable():
    last, first_day, this = months()
    with Env("statements") as env:
        site = Site(env)
        # this month, at A's real terminal: 10 NUT received, 3 picked (not in last month's
        # statement)
        site.a.ctl("scan-1", "scan receive %s 10" % NUT)
        wait_for(lambda: site.a.ledger_qty("SKU-NUT") == 10, timeout=20, what="10 NUT at A")
        site.a.ctl("scan-1", "scan pick %s 3" % NUT)
        wait_for(lambda: site.board(this).get("A", {}).get("kpis", {}).get("sales", {})
                 .get("value") == 1.2, timeout=30, what="A's pick of this month ranked")
        last_month_figures(site, first_day)
        wait_for(lambda: len(site.board(last)) == 2 and
                 site.board(last)["A"]["kpis"]["sales"]["value"] == 210 and
                 site.board(last)["B"]["kpis"]["sales"]["value"] == 25, timeout=20,
                 what="last month's board with A's and B's figures")
        board = site.board(last)

        # closing: not this month (it has not ended), then last month; again keeps them
        site.api("POST", "statements/close", {"period": this}, expect=409)
        site.api("POST", "statements/close", {"period": "2026-13"}, expect=400)
        out = site.ctl("statements", "close", last).stdout
        closed = json.loads(out)
        assert closed["created"] == 2 and closed["existing"] == 0, closed
        assert metrics(site.http).get("depot_hub_statements_frozen_total") == 2
        assert metrics(site.http).get("depot_hub_statement_requests_refused_total") == 2
        again = site.api("POST", "statements/close", {"period": last})
        assert again["created"] == 0 and again["existing"] == 2, again
        rows = {r["dealer"]: r for r in site.api("GET", "statements?period=" + last)}
        assert set(rows) == {"A", "B"}, rows
        # exported for a spreadsheet: the period's start in the range, the headline figures
        out = site.ctl("export", "statements", "--format", "csv", "--from", last + "-01").stdout
        lines = out.splitlines()
        assert lines[0] == "id,dealer,period,created_at,rank,of,score,rebate_pct,rebate,sales", out
        assert sorted(l.split(",")[1:3] for l in lines[1:]) == [["A", last], ["B", last]], out
        out = site.ctl("export", "statements", "--format", "jsonl", "--to",
                       last + "-01T00:00:00Z").stdout
        assert out == "", out  # [from, to): the period starts at that very time, outside
        out = site.ctl("export", "statements", "--format", "jsonl", "--to", last + "-01").stdout
        assert len(out.splitlines()) == 2, out  # a date: through that day

        # the figures are the ranking's, the totals the sums of their lines
        full = {}
        for d in ("A", "B"):
            full[d] = site.api("GET", "statements/%d" % rows[d]["id"])
            s, e = full[d]["statement"], board[d]
            assert json.loads(full[d]["content"]) == s
            assert (s["dealer"], s["period"], s["rank"], s["of"]) == (d, last, e["rank"], 2), s
            assert abs(s["score"] - e["score"]) < 1e-6, (s["score"], e["score"])
            assert cents(s["rebate"]) == round(e["rebate"] * 100), (s["rebate"], e["rebate"])
            assert s["rebate_pct"] == e["rebate_pct"]
            assert cents(s["sales"]) == round(e["kpis"]["sales"]["value"] * 100)
            lines = {l["key"]: l for l in s["lines"]}
            sales = [l for l in s["lines"] if l["section"] == "sales" and l["key"] != "sales.total"]
            paid = [l for l in s["lines"] if l["key"].startswith("collection.payment.")]
            assert sum(cents(l["amount"]) for l in sales) == cents(lines["sales.total"]["amount"])
            assert cents(lines["sales.total"]["amount"]) == cents(s["sales"])
            assert sum(cents(l["amount"]) for l in paid) == cents(lines["collection.total"]["amount"])
            assert cents(lines["collection.total"]["amount"]) == cents(s["figures"]["paid"]), \
                (lines["collection.total"], s["figures"], paid)
            assert s["lines_cut"] == 0
        a = full["A"]["statement"]
        # one sales line per pick movement, keyed by the gateway ledger and movement id
        assert [(l["key"], l["item"], l["units"]) for l in a["lines"]
                if l["section"] == "sales" and l["key"] != "sales.total"] == [
            ("sales.%s.2" % LEDGER["A"], (first_day + datetime.timedelta(days=9)).isoformat()
             + " 12:00:00 SKU-BOLT picked at scan-1 (movement 2)", 4),
            ("sales.%s.1" % LEDGER["A"], (first_day + datetime.timedelta(days=2)).isoformat()
             + " 12:00:00 SKU-PUMP picked at scan-1 (movement 1)", 2)]
        assert a["sales"] == "210.00" and a["figures"]["paid"] == "75.50", a
        assert not any("SKU-NUT" in l["item"] for l in a["lines"])  # this month's pick

        # downloads
        a_id = rows["A"]["id"]
        csv, ctype = site.raw("statements/%d/csv" % a_id, ADMIN)
        assert ctype.startswith("text/csv"), ctype
        csv_lines = csv.decode().split("\r\n")
        assert csv_lines[0] == "key,section,item,units,price,amount,value"
        assert len([x for x in csv_lines if x]) == len(a["lines"]) + 1
        assert any(x.startswith("sales.total,sales,") and ",210.00," in x for x in csv_lines)
        pdf, ctype = site.raw("statements/%d/pdf" % a_id, ADMIN)
        assert ctype == "application/pdf", ctype
        check_pdf(pdf, a["lines"])

        # signature: verified offline; a figure changed: not
        saved = env.path("statement-a.json")
        with open(saved, "w") as f:
            f.write(site.ctl("statements", "show", str(a_id)).stdout)
        r = run([os.path.join(BIN, "depotctl"), "statements", "verify", saved, "--ca",
                 site.pki["device_ca"]], check=False)
        assert r.returncode == 0 and "verified" in r.stdout, (r.stdout, r.stderr)
        forged = json.loads(open(saved).read())
        forged["content"] = forged["content"].replace('"rebate":"%s"' % a["rebate"],
                                                      '"rebate":"999.00"')
        forged["statement"] = json.loads(forged["content"])
        with open(env.path("forged.json"), "w") as f:
            json.dump(forged, f)
        r = run([os.path.join(BIN, "depotctl"), "statements", "verify", env.path("forged.json")],
                check=False)
        assert r.returncode != 0 and "FAIL the hub's signature verifies" in r.stdout, r.stdout

        # dealers' users: their own only
        ua, ub = site.user("anna@a", "A"), site.user("bert@b", "B")
        for path in ("statements/%d" % a_id, "statements/%d/csv" % a_id,
                     "statements/%d/pdf" % a_id):
            site.raw(path, ub, expect=404)
        site.raw("statements/%d/pdf" % a_id, ua)
        assert [r["dealer"] for r in site.api("GET", "statements", token=ub)] == ["B"]
        site.api("GET", "statements?dealer=A", token=ub, expect=403)

        # a dispute on a line, answered once
        site.api("POST", "statements/%d/disputes" % a_id, {"line": "no.such", "text": "x"},
                 token=ua, expect=400)
        site.api("POST", "statements/%d/disputes" % a_id,
                 {"line": "collection.total", "text": "x"}, token=ub, expect=404)
        site.api("POST", "statements/%d/disputes" % a_id,
                 {"line": "collection.total", "text": "x"}, expect=403)
        d = site.api("POST", "statements/%d/disputes" % a_id,
                     {"line": "collection.total", "text": "our wire of the 28th is missing"},
                     token=ua, expect=201)
        shown = site.api("GET", "statements/%d" % a_id, token=ua)["disputes"]
        assert [(x["id"], x["state"], x["line"]) for x in shown] == \
            [(d["id"], "open", "collection.total")], shown
        site.api("POST", "statements/%d/answer" % a_id, {"dispute": d["id"], "text": "x"},
                 token=ua, expect=403)
        site.api("POST", "statements/%d/answer" % a_id,
                 {"dispute": d["id"], "text": "received on the 2nd: next month's statement"})
        site.api("POST", "statements/%d/answer" % a_id, {"dispute": d["id"], "text": "again"},
                 expect=409)
        shown = site.api("GET", "statements/%d" % a_id, token=ua)["disputes"]
        assert shown[0]["state"] == "answered" and shown[0]["answered_by"] == "admin", shown
        assert shown[0]["answer"].startswith("received on the 2nd"), shown
        assert metrics(site.http).get("depot_hub_statement_requests_refused_total") == 5

        # frozen: a late payment dated last month and a restart change nothing in it
        site.api("POST", "payments/import", {"payments": [
            {"line": 1, "dealer": "A", "amount": "100.00", "order": "", "ref": "late",
             "date": (first_day + datetime.timedelta(days=27)).isoformat()}]})
        site.hub.restart()
        wait_for(lambda: http_json(site.url + "/healthz")[0] == 200, timeout=20,
                 what="the hub back")
        again = site.api("POST", "statements/close", {"period": last})
        assert again["created"] == 0 and again["existing"] == 2, again
        after = site.api("GET", "statements/%d" % a_id)
        assert after["content"] == full["A"]["content"] and after["sig"] == full["A"]["sig"]
        assert len(after["disputes"]) == 1
        # since the restart nothing was frozen again; the refusals are in the log with why
        assert metrics(site.http).get("depot_hub_statements_frozen_total") == 0
        log = site.hub.log()
        assert log.count("statements: close refused") == 2, log[-2000:]
        assert log.count("statements: dispute refused") == 3, log[-2000:]


def test_last_month_is_closed_by_the_hub_itself():
    """[statements] close_after_days = 0: the worker closes last month at its tick. The hub
    runs with closing by hand until last month's figures are in the store, then restarts
    with close_after_days = 0 and freezes both dealers' statements without being asked."""
    last, first_day, _ = months()
    with Env("statements-auto") as env:
        site = Site(env, warehouse=False)
        last_month_figures(site, first_day)
        assert site.api("GET", "statements?period=" + last) == []
        site.hub.stop()
        write_hub_config(env, site.pki, site.port, {"admin": ("admin", ADMIN)},
                         http_port=site.http,
                         extra=dict(RANKING, statements={"close_after_days": "0"}))
        site.hub.start()
        wait_hub(site.hub, site.http)
        wait_for(lambda: len(site.api("GET", "statements?period=" + last)) == 2, timeout=20,
                 what="last month closed by the hub")
        wait_for(lambda: "statements: last month closed: 2 statements made" in site.hub.log(),
                 timeout=5, what="the close in the hub's log")


if __name__ == "__main__":
    main([test_a_closed_month_is_frozen_signed_readable_and_disputable,
          test_last_month_is_closed_by_the_hub_itself])
