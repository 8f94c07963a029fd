"""The dashboard in a real browser: Debian's headless Chromium driven by
playwright-core (tests/dashboard/drive.mjs) against the real hub, broker,
gateways and nodes.

Set-up: Mosquitto with mutual TLS, depot-hub (stages sales, finance; tokens
admin, an approver of the sales stage, a viewer) serving the dashboard from
the build's share/depot/dashboard, the catalog imported, two dealers with a
region each: A (a scale of bolts and a scanner terminal) and B (a scale of
bolts with plenty). A's bolts go below the reorder point, so the hub's alert
engine opens a low_stock alert; two orders of 6 pumps (600.00 > the 500.00
auto-approval limit) wait at the sales stage.

In the browser: sign in with the approver's token, see A's bolts in the
matrix, change the scale's weight through the node's control socket and see
the new count in the cell without a reload (bounded wait), open the cell's
chart, acknowledge the alert, approve one order, take a full-page screenshot
(printed path, under the build folder), sign in as a viewer user with its
password (a wrong one first): no approve button, and a direct POST with a
viewer's token gets 403; sign out, and the session is refused by the hub.
Then the dealer portal on the phone-sized screen: dealer A's user sees A's
stock with days of cover, A's orders with their stage, A's alerts and rank,
nothing of B, and the page does not scroll sideways. The manufacturer's training
card shows an item's completed % and coverage; in the portal A's user opens the
video (a signed link in the player, answered 206 to a range without a token, the
view reported) and marks it as done.
"""
import base64
import datetime
import hashlib
import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, TESTBIN, Env, http_json, main, run, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from dashenv import CHROMIUM, ensure_playwright, run_node  # noqa: E402
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402
from hubenv import start_hub, stock_map  # noqa: E402
from test_tasks_e2e import png  # noqa: E402

ADMIN = "admin-token-dashboard"
APPROVER = "sales-token-dashboard"
VIEWER = "viewer-token-dashboard"
VIEWER_PASSWORD = "vera's dashboard password"
DEALER_PASSWORD = "anna of dealer A"
TOKENS = {"admin": ("admin", ADMIN), "sales-lead": ("approver", APPROVER + ":sales"),
          "viewer": ("viewer", VIEWER)}
PUMP = "4006381333962"
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,4006381333931,2.50,100,1,500,20,7,100000
SKU-NUT,4006381333948,0.40,10,1,1000,50,7,100000
SKU-WASHER,4006381333955,0.10,5,1,2000,100,7,100000
SKU-PUMP,%s,100.00,5000,1,20,2,14,1000
""" % PUMP
PNG = png(32, 24)  # a photo of the display, as a phone would send one
CONTRACT = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% Dealer agreement 2027\n"
            b"trailer << >>\n%%EOF\n")
SHOTS = os.path.abspath(os.environ.get("DEPOT_SCREENSHOTS", TESTBIN))


class Site:
    def __init__(self, env):
        self.env = env
        self.pki = make_pki(env, ["A", "B"])
        self.broker, self.port = start_broker(env, self.pki)
        self.hub, self.http = start_hub(env, self.pki, self.port, tokens=TOKENS,
                                        extra={"approval": {"stages": "sales,finance"}})
        self.url = "http://127.0.0.1:%d" % self.http
        csv = env.path("catalog.csv")
        with open(csv, "w") as f:
            f.write(CATALOG)
        run([os.path.join(BIN, "depotctl"), "catalog", "import", csv, "--hub", self.url,
             "--token", ADMIN])
        for d, region, lat, lon in (("A", "North", 52.52, 13.40), ("B", "South", 52.40, 13.06)):
            self.api("PATCH", "/api/v1/dealers/" + d,
                     {"name": "Dealer " + d, "region": region, "lat": lat, "lon": lon,
                      "credit_limit": 100000.00, "auto_approve_limit": 500.00})
        self.a = start_warehouse(env, self.pki, self.port, "A", tcp=[("scale-a", "SKU-BOLT")],
                                 scanners=["scan-1"], period_ms=200)
        self.b = start_warehouse(env, self.pki, self.port, "B", tcp=[("scale-b", "SKU-BOLT")],
                                 period_ms=200)

    def api(self, method, path, body=None, token=ADMIN, expect=200):
        status, out = http_json(self.url + path, token, method, body)
        if expect is not None:
            assert status == expect, (method, path, status, out)
        return out

    def training_item(self):
        """A short video uploaded (as depotctl does: the bytes as the body) and given to A."""
        video = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + bytes(range(256)) * 64
        req = urllib.request.Request(self.url + "/api/v1/training/files", data=video,
                                     method="POST", headers={"Authorization": "Bearer " + ADMIN})
        with urllib.request.urlopen(req, timeout=10) as r:
            sha = json.loads(r.read())["sha256"]
        return self.api("POST", "/api/v1/training", {
            "title": "Installing the pump", "kind": "video", "file": sha,
            "description": "Ten minutes, step by step.",
            "target": {"kind": "list", "value": "A"}}, expect=201)["item"]

    def qty(self, dealer, sku):
        return (stock_map(self.http, VIEWER).get((dealer, sku)) or {}).get("qty")

    def set_units(self, wh, node, dealer, units):
        wh.weight(node, units * UNIT_WEIGHT_G)
        wait_for(lambda: self.qty(dealer, "SKU-BOLT") == units, timeout=20,
                 what="%s's bolts at %d in the hub" % (dealer, units))

    def pending_orders(self, n):
        """Scans n orders of 6 pumps at A's terminal; returns their ids once pending at sales."""
        for _ in range(n):
            self.a.ctl("scan-1", "scan line %s 6" % PUMP)
            self.a.ctl("scan-1", "submit")
            wait_for(lambda: "SENT" in self.a.display("scan-1")[1]
                     or "WAITING" in self.a.display("scan-1")[1], timeout=10, what="order sent")
        pend = wait_for(lambda: (lambda o: o if len(o) == n else None)(
            [o for o in self.api("GET", "/api/v1/orders?status=pending&dealer=A", token=VIEWER)
             if o["stage"] == "sales"]), timeout=20, what="%d orders pending at sales" % n)
        return sorted((o["order"] for o in pend), key=lambda i: i)

    def low_stock_alert(self):
        """The id of the open low_stock alert of A's bolts, or None if the hub has no alerts API."""
        status, _ = http_json(self.url + "/api/v1/alerts", VIEWER)
        if status == 404:
            return None

        def found():
            s, alerts = http_json(self.url + "/api/v1/alerts?status=open&dealer=A&kind=low_stock",
                                  VIEWER)
            hits = [a for a in alerts or [] if a.get("sku") == "SKU-BOLT"] if s == 200 else []
            return hits[0]["id"] if hits else None
        return wait_for(found, timeout=30, what="an open low_stock alert of A's bolts")


def test_dashboard_live_stock_alert_ack_order_approval_and_viewer_rights():
    ensure_playwright()
    with Env("dashboard") as env:
        site = Site(env)
        status, page = 0, b""
        import urllib.request
        with urllib.request.urlopen(site.url + "/", timeout=5) as r:
            status, page = r.status, r.read()
        assert status == 200 and b"Depot" in page, status
        site.set_units(site.b, "scale-b", "B", 400)
        site.set_units(site.a, "scale-a", "A", 60)
        site.set_units(site.a, "scale-a", "A", 12)  # at or below the reorder point (20)
        alert = site.low_stock_alert()
        if alert is None:
            print("  NOTE: the hub has no /api/v1/alerts yet (alert engine not built): the "
                  "acknowledge step is SKIPPED")
        else:
            print("  alert %s: low_stock of A's bolts is open" % alert)
        orders = site.pending_orders(2)
        site.api("POST", "/api/v1/users", {"name": "vera", "role": "viewer",
                                           "password": VIEWER_PASSWORD}, expect=201)
        site.api("POST", "/api/v1/users", {"name": "anna", "role": "dealer", "dealer": "A",
                                           "password": DEALER_PASSWORD}, expect=201)
        policy = site.api("POST", "/api/v1/policies", {
            "title": "Spring promotion", "body": "10 % off pumps in March.",
            "notice": "SPRING -10% PUMPS", "valid_from": "2026-01-01", "valid_to": "2099-12-31",
            "target": {"kind": "list", "value": "A"}}, expect=201)["policy"]
        task = site.api("POST", "/api/v1/tasks", {
            "title": "Set up the spring display", "due": "2099-03-31", "rule": "confirm",
            "photo": True, "target": {"kind": "list", "value": "A"}}, expect=201)["task"]
        contract = site.api("POST", "/api/v1/contracts", {
            "dealer": "A", "title": "Dealer agreement 2027", "start": "2027-01-01",
            "end": "2027-12-31", "credit_limit": "7500.00",
            "content_base64": base64.b64encode(CONTRACT).decode()}, expect=201)["id"]
        training = site.training_item()
        # last month's statement of A: a payment dated then puts A on that month's board
        first = datetime.datetime.now(datetime.timezone.utc).date().replace(day=1)
        last_day = first - datetime.timedelta(days=1)
        site.api("POST", "/api/v1/payments/import", {"payments": [
            {"line": 1, "dealer": "A", "amount": "12.00", "order": "", "ref": "wire",
             "date": last_day.isoformat()}]})
        period = last_day.strftime("%Y-%m")
        site.api("POST", "/api/v1/statements/close", {"period": period})
        statement = [s["id"] for s in site.api("GET", "/api/v1/statements?dealer=A&period=" +
                                                period)][0]
        os.makedirs(SHOTS, exist_ok=True)
        photo = os.path.join(SHOTS, "display.png")
        with open(photo, "wb") as f:
            f.write(PNG)
        result, out = run_node("drive.mjs", {
            "url": site.url + "/", "chromium": CHROMIUM, "approver": APPROVER, "viewer": VIEWER,
            "viewer_user": "vera", "viewer_password": VIEWER_PASSWORD,
            "dealer_user": "anna", "dealer_password": DEALER_PASSWORD, "other_region": "South",
            "policy": policy, "task": task, "task_photo": photo, "contract": contract,
            "training": training,
            "statement": statement, "statement_line": "collection.total",
            "statement_dispute": "a wire of the last day is missing",
            "dealer": "A", "sku": "SKU-BOLT", "qty_before": 12,
            "control": site.a.controls["scale-a"], "weight_g": 15 * UNIT_WEIGHT_G, "qty_after": 15,
            "alert": alert, "order": orders[0], "order_other": orders[1], "screenshots": SHOTS,
            "timeout_ms": 20000}, env)
        sys.stdout.write("".join("  " + line + "\n" for line in out.splitlines()
                                 if line.startswith("step: ")))
        assert result.get("ok"), result
        assert result["session_after_signout"] == 401, result
        tr = site.api("GET", "/api/v1/training/%d" % training)
        [a] = tr["dealers"]
        assert a["completed"] and [u["user"] for u in a["users"]] == ["anna"], tr
        assert tr["progress"]["completed_pct"] == 100.0, tr
        reach = site.api("GET", "/api/v1/policies/%d" % policy)
        assert reach["coverage"]["acknowledged"] == 1 and reach["missing"] == [], reach
        done = site.api("GET", "/api/v1/tasks/%d" % task)["dealers"][0]
        disputes = site.api("GET", "/api/v1/statements/%d" % statement)["disputes"]
        assert [(d["line"], d["opened_by"], d["state"]) for d in disputes] == \
            [("collection.total", "anna", "open")], disputes
        assert done["state"] == "done" and done["done_by"] == "anna" and \
            done["photo_sha256"] == hashlib.sha256(PNG).hexdigest(), done
        print("  screenshot: %s; the portal on a phone: %s" % (result["screenshot"],
                                                             result["portal_screenshot"]))
        print("  the new count showed %d ms after the weight changed; phone layout overflow %d px"
              % (result["live_update_ms"], result["phone_page_overflow_px"]))
        # What the browser did, as the API sees it.
        o = site.api("GET", "/api/v1/orders/" + orders[0], token=VIEWER)
        assert o["status"] == "pending" and o["stage"] == "finance", o
        assert any(a["action"] == "stage-approved" and a["actor"] == "sales-lead"
                   and a["stage"] == "sales" for a in o["audit"]), o["audit"]
        assert site.api("GET", "/api/v1/orders/" + orders[1], token=VIEWER)["stage"] == "sales"
        # The browser named the stage it showed: approving "sales" again cannot approve finance.
        site.api("POST", "/api/v1/orders/%s/approve" % orders[0], {"stage": "sales"}, token=ADMIN,
                 expect=409)
        if alert is not None:
            s, alerts = http_json(site.url + "/api/v1/alerts?dealer=A&kind=low_stock", VIEWER)
            mine = [a for a in alerts if a["id"] == alert]
            assert mine and mine[0]["status"] == "acknowledged" \
                and mine[0]["acked_by"] == "sales-lead", mine
        site.api("POST", "/api/v1/orders/%s/approve" % orders[1], {}, token=VIEWER, expect=403)
        me = site.api("GET", "/api/v1/me", token=APPROVER)
        assert me == {"name": "sales-lead", "role": "approver", "dealer": None, "stages": ["sales"],
                      "approval_stages": ["sales", "finance"]}, me


def test_static_files_content_types_caching_and_no_traversal():
    with Env("dashboard-static") as env:
        pki = make_pki(env, [])
        _, port = start_broker(env, pki)
        _, http = start_hub(env, pki, port, tokens={"viewer": VIEWER})
        import urllib.error
        import urllib.request

        def get(path, headers=None):
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (http, path),
                                         headers=headers or {})
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    return r.status, dict(r.headers), r.read()
            except urllib.error.HTTPError as e:
                return e.code, dict(e.headers), e.read()
        for path, ctype in (("/", "text/html"), ("/index.html", "text/html"),
                            ("/static/app.js", "text/javascript"), ("/static/style.css", "text/css"),
                            ("/static/favicon.svg", "image/svg+xml")):
            status, h, body = get(path)
            assert status == 200 and h["Content-Type"].startswith(ctype) and body, (path, status, h)
            assert h["Cache-Control"] == "no-cache" and h["ETag"], h
            status, h2, body = get(path, {"If-None-Match": h["ETag"]})
            assert status == 304 and not body, (path, status)
        assert "script-src 'self'" in get("/")[1]["Content-Security-Policy"]
        for bad in ("/static/../hub/hub.ini", "/static/%2e%2e/hub/hub.ini", "/static/.x",
                    "/static/", "/static//app.js", "/static/a/../app.js", "/hub/hub.ini",
                    "/static/nope.js"):
            status, _, _ = get(bad)
            assert status == 404, (bad, status)
        assert http_json("http://127.0.0.1:%d/api/v1/me" % http)[0] == 401
        assert http_json("http://127.0.0.1:%d/api/v1/me" % http, VIEWER)[1] == {
            "name": "viewer", "role": "viewer", "dealer": None, "stages": [],
            "approval_stages": ["sales", "finance", "warehouse"]}


if __name__ == "__main__":
    main([test_static_files_content_types_caching_and_no_traversal,
          test_dashboard_live_stock_alert_ack_order_approval_and_viewer_rights])
