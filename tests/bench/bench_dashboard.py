#!/usr/bin/python3
"""Benchmark: the dashboard's first paint and the time until its stock matrix
is rendered, measured in the browser, for D dealers x S SKUs of stock, beside
a baseline page of the same size served by the same hub in the same run.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_dashboard.py --dealers 1000 --skus 100

Set-up, all real programs on 127.0.0.1: Mosquitto with mutual TLS and
depot-hub, its [http] dashboard a copy of the build's dashboard folder plus
the baseline page. The catalog (S SKUs with lead times) is put through the
API; the stock is loaded the real way, like bench_hub_api.py: tests/bench/
mqtt_flood publishes one stock message per (dealer, SKU) through the broker
as the dealers' gateways would, paced by the hub's acknowledgements; then a
bounded poll until the API lists every row.

Measured by tests/dashboard/bench.mjs (playwright-core driving Debian's
headless Chromium), --runs times, each in a fresh browser context (empty
cache), after one warm-up run:
  dashboard  GET / signed in (the token in sessionStorage, as after signing
             in): first paint and first contentful paint (PerformanceObserver
             'paint'), matrix ready (the app's performance mark, set when the
             first page of the matrix is in the DOM: GET /api/v1/stock of every
             row, parsed, and --page-size dealers x S cells rendered), the
             stock request's duration and size, and the render time after it.
  baseline   /static/baseline.html: a static page with the same stylesheet and
             the same matrix (the first page, the same cells) written into the
             HTML, no script: the cost of painting that much HTML at all.
Figures: median, min and max over the runs. Target: first paint under 1 s.
"""
import argparse
import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import BIN, Env, http_json, run  # noqa: E402
from broker import hub_identity, make_pki, start_broker  # noqa: E402
from dashenv import CHROMIUM, ensure_playwright, run_node  # noqa: E402
from hubenv import api, metrics, start_hub  # noqa: E402

VIEWER = "bench-viewer-token"
ADMIN = "bench-admin-token"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dealers", type=int, default=1000, help="default 1000")
    ap.add_argument("--skus", type=int, default=100, help="SKUs per dealer, default 100")
    ap.add_argument("--runs", type=int, default=5, help="measured page loads, default 5")
    ap.add_argument("--page-size", type=int, default=100,
                    help="dealers per matrix page (the dashboard's default), default 100")
    ap.add_argument("--window", type=int, default=2000, help="mqtt_flood in flight, default 2000")
    ap.add_argument("--load-timeout", type=int, default=600, help="bound on loading, default 600 s")
    a = ap.parse_args()
    if not 1 <= a.dealers <= 10000 or not 1 <= a.skus <= 1000 or not 1 <= a.runs <= 50:
        ap.error("--dealers 1..10000, --skus 1..1000, --runs 1..50")
    return a


def dashboard_folder(env, a):
    """A copy of the build's dashboard plus baseline.html; returns its path."""
    src = os.path.join(BIN, "..", "share", "depot", "dashboard")
    dst = env.path("dashboard")
    shutil.copytree(src, dst)
    dealers = ["D%04d" % d for d in range(min(a.dealers, a.page_size))]
    skus = ["SKU-%03d" % s for s in range(a.skus)]
    parts = ['<!doctype html><html lang="en"><head><meta charset="utf-8">'
             '<meta name="viewport" content="width=device-width, initial-scale=1">'
             '<title>baseline</title><link rel="stylesheet" href="/static/style.css"></head><body>'
             '<header class="topbar"><div class="brand"><span class="brand-name">Depot</span></div>'
             '</header><main class="app-view"><section class="card"><div class="matrix-wrap">'
             '<table class="matrix"><thead><tr><th class="corner">Dealer</th>']
    parts += ['<th scope="col">%s</th>' % s for s in skus]
    parts.append("</tr></thead><tbody>")
    for d in dealers:
        parts.append('<tr><th scope="row">%s<small></small></th>' % d)
        parts += ['<td class="c-u" data-k="%s|%s">%d</td>' % (d, s, i) for i, s in enumerate(skus)]
        parts.append("</tr>")
    parts.append("</tbody></table></div></section></main></body></html>\n")
    with open(os.path.join(dst, "baseline.html"), "w") as f:
        f.write("".join(parts))
    return dst


def load(env, a, pki, broker_port, hub, http):
    items = [{"sku": "SKU-%03d" % s, "barcode": "%013d" % (4000000000000 + s), "price": "1.00",
              "unit_weight_g": 100, "min_qty": 1, "max_qty": 1000, "reorder_point": 5,
              "lead_time_days": 7, "max_stock": 1000} for s in range(a.skus)]
    status, body = http_json("http://127.0.0.1:%d/api/v1/catalog" % http, ADMIN, "PUT", items,
                             timeout=30)
    assert status == 200, (status, body)
    cert, key = hub_identity(pki)
    total = a.dealers * a.skus
    t0 = time.monotonic()
    r = run([bl.testbin_path("mqtt_flood"), "--port", broker_port, "--ca", pki["ca"], "--cert",
             cert, "--key", key, "--dealers", a.dealers, "--skus", a.skus, "--window", a.window,
             "--timeout-s", a.load_timeout], timeout=a.load_timeout + 30)
    bl.wait_alive([hub], lambda: metrics(http).get("depot_hub_messages_applied_total", 0) >= total,
                  60, "%d messages applied" % total)
    bl.wait_alive([hub], lambda: len(api(http, "/api/v1/stock", VIEWER)) == total, 60,
                  "%d stock rows in the API" % total, interval=1.0)
    return bl.last_line_with(r.stdout, "published").strip(), time.monotonic() - t0


def stats(runs, name):
    v = [r[name] for r in runs if r.get(name) is not None]
    if not v:
        return ["–", "–", "–", "0"]
    return ["%.0f" % statistics.median(v), "%.0f" % min(v), "%.0f" % max(v), str(len(v))]


def report(a, flood, load_s, res):
    d, b = res["dashboard"], res["baseline"]
    rows = [
        ["dashboard: first paint", "ms"] + stats(d, "first_paint_ms"),
        ["dashboard: first contentful paint", "ms"] + stats(d, "first_contentful_paint_ms"),
        ["dashboard: DOMContentLoaded", "ms"] + stats(d, "dom_content_loaded_ms"),
        ["dashboard: GET /api/v1/stock (all rows)", "ms"] + stats(d, "stock_request_ms"),
        ["dashboard: parse + render after it", "ms"] + stats(d, "render_after_stock_ms"),
        ["dashboard: matrix ready", "ms"] + stats(d, "matrix_ready_ms"),
        ["baseline: first paint", "ms"] + stats(b, "first_paint_ms"),
        ["baseline: first contentful paint", "ms"] + stats(b, "first_contentful_paint_ms"),
        ["baseline: load (matrix in the HTML)", "ms"] + stats(b, "load_ms"),
    ]
    bl.table("dashboard in headless Chromium, %d dealers x %d SKUs = %d stock rows, matrix page "
             "of %d dealers; %d runs, each a fresh context (empty cache), after a warm-up"
             % (a.dealers, a.skus, a.dealers * a.skus, min(a.dealers, a.page_size), a.runs),
             ["figure", "unit", "median", "min", "max", "runs"], rows)
    fp = statistics.median([r["first_paint_ms"] for r in d if r.get("first_paint_ms") is not None]
                           or [float("nan")])
    base_fp = statistics.median([r["first_paint_ms"] for r in b
                                 if r.get("first_paint_ms") is not None] or [float("nan")])
    print("\n  first paint %.0f ms (target under 1000 ms), baseline page %.0f ms: ratio %s"
          % (fp, base_fp, bl.ratio(fp, base_fp)))
    if fp == fp and base_fp == base_fp:  # not NaN: both pages painted
        bl.record("dashboard.first_paint", "dashboard first paint, %d stock rows"
                  % (a.dealers * a.skus), round(fp), "ms",
                  "baseline page (the matrix in static HTML)", round(base_fp), "value<1000")
    print("  stock response %s bytes; matrix cells rendered %s; baseline page %s bytes, %s cells"
          % (d[0].get("stock_bytes"), d[0].get("cells"), b[0].get("page_bytes"), b[0].get("cells")))
    print("  stock loaded through the broker: %s (%.1f s to all rows listed)" % (flood, load_s))
    print("  Chromium: %s; the hub, the browser and this script share %d cores"
          % (CHROMIUM, os.cpu_count()))


def main():
    a = parse_args()
    ensure_playwright()
    with Env("bench-dashboard") as env:
        folder = dashboard_folder(env, a)
        pki = make_pki(env, [])
        broker, broker_port = start_broker(env, pki)
        hub, http = start_hub(env, pki, broker_port, tokens={"viewer": VIEWER, "admin": ADMIN},
                              log_level="info", offline_after_s=3600,
                              extra={"http": {"dashboard": folder}})
        flood, load_s = load(env, a, pki, broker_port, hub, http)
        url = "http://127.0.0.1:%d/" % http
        res, _ = run_node("bench.mjs", {"url": url, "baseline": url + "static/baseline.html",
                                        "token": VIEWER, "runs": a.runs, "chromium": CHROMIUM,
                                        "timeout_ms": 180000}, env,
                          timeout=120 + a.runs * 240, name="bench")
        if not res.get("ok"):
            raise AssertionError("bench.mjs: %s" % res.get("error"))
        report(a, flood, load_s, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
