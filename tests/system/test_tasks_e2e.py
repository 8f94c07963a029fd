"""Tasks with completion tracking end to end: the hub, Mosquitto over TLS, real gateways,
terminals and scales.

  - a count task ("count SKU-BOLT and SKU-NUT"): a count scanned at A's terminal before the
    task does not do it; after it, one SKU is progress (counted), both is done via data, by
    the terminal; B, which counts nothing, stays open;
  - a stock task ("SKU-WASHER at 5 or more"): done at once for a dealer already there when
    it is issued; done for A when its scale reports 6;
  - a confirm task with a photo: A's dealer user cannot confirm without one, a file that is
    not an image (or claims another type, or is too large) is refused with 415/413, a PNG
    is taken, stored under its SHA-256 and served back byte for byte; B's user cannot see
    A's photo; progress counts done, on time, overdue;
  - a task already past its due date and not done shows as overdue and raises a task_overdue
    alert per dealer, resolved when that dealer does it (late).

Real programs, free ports, bounded waits; the Env stops everything.
"""
import hashlib
import json
import os
import re
import struct
import sys
import time
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, http_json, main, run, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402
from hubenv import start_hub, wait_hub  # noqa: E402

ADMIN = "admin-token-tasks"
BOLT, NUT, WASHER = "4006381333931", "4006381333948", "4006381333955"
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,%s,2.50,%d,1,500,2,7,100000
SKU-NUT,%s,0.40,%d,1,500,2,7,100000
SKU-WASHER,%s,0.10,%d,1,500,2,7,100000
""" % (BOLT, UNIT_WEIGHT_G, NUT, UNIT_WEIGHT_G, WASHER, UNIT_WEIGHT_G)


def png(width=4, height=4):
    """A real PNG image (RGB, one filter byte per row)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    raw = b"".join(b"\0" + b"\x80\x40\x20" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                                0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Site:
    def __init__(self, env):
        self.env = env
        self.pki = make_pki(env, ["A", "B"])
        _, self.port = start_broker(env, self.pki)
        self.hub, self.http = start_hub(env, self.pki, self.port,
                                        tokens={"admin": ("admin", ADMIN)},
                                        extra={"tasks": {"photo_max_kib": "16"}})
        self.url = "http://127.0.0.1:%d" % self.http
        csv = env.path("catalog.csv")
        with open(csv, "w") as f:
            f.write(CATALOG)
        run([os.path.join(BIN, "depotctl"), "catalog", "import", csv, "--hub", self.url,
             "--token", ADMIN], timeout=30)
        self.a = start_warehouse(env, self.pki, self.port, "A", scanners=["scan-1"],
                                 tcp=[("scale-w", "SKU-WASHER")], period_ms=100,
                                 extra_gateway="[gateway]\nmovements_period_s = 1\n")
        self.b = start_warehouse(env, self.pki, self.port, "B", tcp=[("scale-w", "SKU-WASHER")],
                                 period_ms=100)
        for wh in (self.a, self.b):
            wait_for(lambda: wh.ledger_query("SELECT count(*) FROM catalog")[0][0] == 3,
                     timeout=20, what="the catalog in %s's ledger" % wh.dealer)
        self.a.weight("scale-w", 2 * UNIT_WEIGHT_G)
        self.b.weight("scale-w", 9 * UNIT_WEIGHT_G)
        for d, q in (("A", 2), ("B", 9)):
            wait_for(lambda: self.qty(d, "SKU-WASHER") == q, timeout=20,
                     what="%s SKU-WASHER at %d at the hub" % (d, q))

    def api(self, method, path, body=None, token=ADMIN, expect=200):
        status, out = http_json(self.url + "/api/v1/" + path, token, method, body)
        if expect is not None:
            assert status == expect, (method, path, status, out)
        return out

    def ctl(self, *args):
        r = run([os.path.join(BIN, "depotctl")] + list(args) + ["--hub", self.url,
                                                                "--token", ADMIN], timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def qty(self, dealer, sku):
        rows = self.api("GET", "stock?dealer=%s&sku=%s" % (dealer, sku))
        return rows[0]["qty"] if rows else None

    def issue(self, **task):
        task.setdefault("target", {"kind": "all"})
        return self.api("POST", "tasks", task, expect=201)

    def reach(self, task, dealer):
        rows = [r for r in self.api("GET", "tasks/%d" % task)["dealers"] if r["dealer"] == dealer]
        return rows[0]

    def user(self, name, dealer):
        self.api("POST", "users", {"name": name, "role": "dealer", "dealer": dealer,
                                   "password": "the password of " + name}, expect=201)
        status, login = http_json(self.url + "/api/v1/login", None, "POST",
                                  {"user": name, "password": "the password of " + name})
        assert status == 200, login
        return login["token"]

    def raw(self, method, path, token, data, ctype):
        req = urllib.request.Request(self.url + "/api/v1/" + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + token,
                                              "Content-Type": ctype})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read(), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Content-Type")


def test_count_and_stock_rules_are_met_by_the_terminal_and_the_scale():
    with Env("tasks-data") as env:
        site = Site(env)
        a = site.a
        a.ctl("scan-1", "scan count %s 7" % BOLT)  # before the task: does not count
        wait_for(lambda: a.ledger_query("SELECT count(*) FROM movements WHERE kind = 'count'")
                 [0][0] == 1, timeout=10, what="the early count in A's ledger")
        wait_for(lambda: a.outbox_depth() == 0, timeout=20, what="the early count at the hub")
        out = site.ctl("tasks", "issue", "--title", "Count bolts and nuts", "--due", "2099-12-31",
                       "--rule", "count", "--skus", "SKU-BOLT,SKU-NUT", "--target", "all")
        count = json.loads(out)
        assert count["targets"] == 2 and count["done"] == 0, count
        stock = site.issue(title="Washers: keep 5 or more", due="2099-12-31", rule="stock",
                           skus="SKU-WASHER", level=5)
        assert stock["targets"] == 2 and stock["done"] == 1, stock  # B has 9 already
        assert site.reach(stock["task"], "B")["state"] == "done"
        assert site.reach(stock["task"], "B")["done_via"] == "data"

        a.ctl("scan-1", "scan count %s 7" % BOLT)
        wait_for(lambda: site.reach(count["task"], "A")["counted"] == "SKU-BOLT", timeout=20,
                 what="SKU-BOLT counted for the task at A")
        assert site.reach(count["task"], "A")["state"] == "open"
        a.ctl("scan-1", "scan count %s 3" % NUT)
        r = wait_for(lambda: (lambda r: r if r["state"] == "done" else None)(
            site.reach(count["task"], "A")), timeout=20, what="the count task done at A")
        assert r["done_via"] == "data" and r["done_by"] == "terminal:scan-1", r
        assert site.reach(count["task"], "B")["state"] == "open"

        a.weight("scale-w", 6 * UNIT_WEIGHT_G)
        r = wait_for(lambda: (lambda r: r if r["state"] == "done" else None)(
            site.reach(stock["task"], "A")), timeout=20, what="the stock task done at A")
        assert r["done_via"] == "data", r
        table = site.ctl("tasks", "list")
        assert re.search(r"Count bolts and nuts\s+2099-12-31\s+count\s+1\s+2\s+0\s+50", table), table
        shown = json.loads(site.ctl("tasks", "show", str(count["task"])))
        assert [d["state"] for d in shown["dealers"]] == ["done", "open"], shown
        progress = site.api("GET", "tasks/%d" % stock["task"])["progress"]
        assert progress == {"targets": 2, "done": 2, "done_on_time": 2, "overdue": 0,
                            "done_pct": 100.0}, progress
        print("  count: early count ignored, BOLT then NUT at A's terminal: done; stock: B at "
              "issue, A when its scale said 6")


def test_confirm_with_photo_and_overdue():
    with Env("tasks-confirm") as env:
        site = Site(env)
        ann, bob = site.user("ann", "A"), site.user("bob", "B")
        task = site.issue(title="Set up the spring display", body="Front of the shop.",
                          due="2099-03-31", rule="confirm", photo=True)
        late = site.issue(title="Send last year's inventory", due="2020-01-31", rule="confirm")
        st, out = http_json(site.url + "/api/v1/tasks/%d/done" % task["task"], ann, "POST", {})
        assert st == 422 and "photo" in out["error"], (st, out)
        st, _, _ = site.raw("POST", "tasks/%d/done" % task["task"], ann, b"GIF89a" + b"x" * 100,
                            "image/png")
        assert st == 415, st
        image = png()
        st, _, _ = site.raw("POST", "tasks/%d/done" % task["task"], ann, image, "image/jpeg")
        assert st == 415, st  # a PNG sent as a JPEG
        st, _, _ = site.raw("POST", "tasks/%d/done" % task["task"], ann,
                            image + b"\0" * (17 * 1024), "image/png")
        assert st == 413, st
        st, body, _ = site.raw("POST", "tasks/%d/done" % task["task"], ann, image, "image/png")
        assert st == 200, (st, body)
        r = site.reach(task["task"], "A")
        assert r["state"] == "done" and r["done_by"] == "ann" and r["done_via"] == "portal", r
        assert r["photo_sha256"] == hashlib.sha256(image).hexdigest(), r
        stored = os.path.join(env.path("hub"), "depot-hub-files", r["photo_sha256"])
        with open(stored, "rb") as f:
            assert f.read() == image
        st, got, ctype = site.raw("GET", "tasks/%d/photo?dealer=A" % task["task"], ADMIN, None,
                                  "application/json")
        assert st == 200 and got == image and ctype == "image/png", (st, ctype)
        st, _, _ = site.raw("GET", "tasks/%d/photo?dealer=A" % task["task"], bob, None,
                            "application/json")
        assert st == 403, st
        st, out = http_json(site.url + "/api/v1/tasks/%d/done" % task["task"], ADMIN, "POST", {})
        assert st == 403, (st, out)
        mine = http_json(site.url + "/api/v1/tasks", bob)[1]
        assert sorted(t["task"] for t in mine) == sorted([task["task"], late["task"]]), mine
        assert all("target" not in t and t["reach"]["dealer"] == "B" for t in mine), mine
        progress = site.api("GET", "tasks/%d" % late["task"])["progress"]
        assert progress["overdue"] == 2 and progress["done"] == 0, progress
        def overdue(dealer, status):
            rows = [a for a in site.api("GET", "alerts?kind=task_overdue&dealer=" + dealer)
                    if a["status"] == status]
            return rows and rows[0]
        for d in ("A", "B"):
            a = wait_for(lambda: overdue(d, "open"), timeout=20,
                         what="a task_overdue alert for %s" % d)
            assert ("task %d " % late["task"]) in a["text"] and "2020-01-31" in a["text"], a
        st, out = http_json(site.url + "/api/v1/tasks/%d/done" % late["task"], bob, "POST", {})
        assert st == 200 and out["state"] == "done late", (st, out)
        wait_for(lambda: overdue("B", "resolved"), timeout=20,
                 what="B's task_overdue alert resolved once done")
        assert overdue("A", "open"), "A's stays open: not done"
        assert len(site.api("GET", "alerts?kind=task_overdue&dealer=A")) == 1  # one per task

        # The tasks KPI of this month: A did today's task, B did not; both had it due.
        today = site.issue(title="Send the stock list", due=time.strftime("%Y-%m-%d", time.gmtime()),
                           rule="confirm")
        st, out = http_json(site.url + "/api/v1/tasks/%d/done" % today["task"], ann, "POST", {})
        assert st == 200 and out["state"] == "done", (st, out)

        def kpi(dealer):
            k = site.api("GET", "dealers/%s/kpis" % dealer)
            return k["kpis"]["tasks"]["value"], k["how"]
        wait_for(lambda: kpi("A")[0] == 1.0 and kpi("B")[0] == 0.0, timeout=20,
                 what="the tasks KPI: A 1 (1 of 1 done), B 0 (0 of 1)")
        assert "tasks: 1 of 1 due this month done by their due day" in " ".join(
            kpi("A")[1] if isinstance(kpi("A")[1], list) else [kpi("A")[1]]), kpi("A")
        site.hub.stop()  # rebuilt from the store at start: the same figures
        site.hub.start()
        wait_hub(site.hub, site.http)
        assert kpi("A")[0] == 1.0 and kpi("B")[0] == 0.0, (kpi("A"), kpi("B"))
        print("  photo checked (type, size) and stored as %s...; overdue and done late"
              % r["photo_sha256"][:12])


if __name__ == "__main__":
    main([test_count_and_stock_rules_are_met_by_the_terminal_and_the_scale,
          test_confirm_with_photo_and_overdue])
