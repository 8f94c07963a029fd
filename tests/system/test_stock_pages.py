"""GET /api/v1/stock page by page and streamed, over real HTTP from a real hub.

mqtt_flood publishes one stock message per (dealer, SKU) through Mosquitto
over mutual TLS as gateways do; the hub applies them; then:
  - the whole listing (no limit) comes chunked, as valid JSON, every row once
    in (dealer, SKU) order;
  - limit=N pages, each after= the X-Next-After of the page before, give
    exactly the same rows, none twice, and the last page has no header;
  - the dealer and SKU filters page the same way;
  - a malformed limit or after is a 400 that says why.
Ports are free ones picked at run time; every wait is a bounded poll; the Env
stops every process, even on failure.
"""
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))

from harness import TESTBIN, Env, main, run, wait_for  # noqa: E402
from broker import hub_identity, make_pki, start_broker  # noqa: E402
from hubenv import api, metrics, start_hub  # noqa: E402

TOKEN = "viewer-token-pages"
DEALERS, SKUS = 7, 400


def get(http, path, expect=200):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (http, path),
                                 headers={"Authorization": "Bearer " + TOKEN})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        assert e.code == expect, "%s: %d %s" % (path, e.code, e.read())
        return e.code, dict(e.headers), e.read()


def keys(rows):
    return [(r["dealer"], r["sku"]) for r in rows]


def values(rows):
    """What a row says that does not move with the clock (age_s does)."""
    return [(r["dealer"], r["sku"], r["qty"], r["node"], r["updated_at"], r["received_at"])
            for r in rows]


def pages(http, query, limit):
    """Every page of the listing with query, limit rows each: (rows, number of pages)."""
    rows, n, after = [], 0, None
    while True:
        path = "/api/v1/stock?limit=%d%s%s" % (limit, query, "&after=" + after if after else "")
        status, headers, body = get(http, path)
        assert status == 200
        page = json.loads(body)
        assert len(page) <= limit, (path, len(page))
        rows += page
        n += 1
        after = headers.get("X-Next-After")
        if not after:
            return rows, n
        assert n < 1000, "pages that never end"


def load(env, pki, broker_port, http):
    cert, key = hub_identity(pki)
    total = DEALERS * SKUS
    run([os.path.join(TESTBIN, "mqtt_flood"), "--port", str(broker_port), "--ca", pki["ca"],
         "--cert", cert, "--key", key, "--dealers", str(DEALERS), "--skus", str(SKUS),
         "--timeout-s", "120"], timeout=180)
    wait_for(lambda: metrics(http).get("depot_hub_messages_applied_total", 0) >= total,
             timeout=60, what="%d stock messages applied" % total)


def test_stock_listing_streams_and_pages():
    with Env("stock-pages") as env:
        pki = make_pki(env, [])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN})
        load(env, pki, port, http)
        total = DEALERS * SKUS

        status, headers, body = get(http, "/api/v1/stock")
        full = json.loads(body)
        assert headers.get("Transfer-Encoding") == "chunked", headers
        assert len(full) == total and len(set(keys(full))) == total
        assert keys(full) == sorted(keys(full))
        assert values(full) == values(api(http, "/api/v1/stock", TOKEN))

        for limit in (1000, 999, total, 7):
            rows, n = pages(http, "", limit)
            assert values(rows) == values(full), \
                "limit %d: the pages differ from the whole listing" % limit
            assert n == -(-total // limit) or n == total // limit + 1, (limit, n)
            print("  limit %d: %d rows in %d pages" % (limit, len(rows), n))

        one = [r for r in full if r["dealer"] == "D0003"]
        rows, _ = pages(http, "&dealer=D0003", 150)
        assert values(rows) == values(one) and len(one) == SKUS
        by_sku = [r for r in full if r["sku"] == "SKU-123"]
        rows, _ = pages(http, "&sku=SKU-123", 2)
        assert values(rows) == values(by_sku) and len(by_sku) == DEALERS
        status, headers, body = get(http, "/api/v1/stock?limit=5&after=D0006/SKU-399")
        assert json.loads(body) == [] and "X-Next-After" not in headers

        for bad in ("limit=0", "limit=10001", "limit=x", "after=D0001", "after=D0001/",
                    "after=/SKU-1", "after=D%20/SKU-1"):
            status, _, body = get(http, "/api/v1/stock?" + bad, expect=400)
            assert status == 400 and b"error" in body, (bad, body)


if __name__ == "__main__":
    main([test_stock_listing_streams_and_pages])
