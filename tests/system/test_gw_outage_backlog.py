"""The uplink down for a backlog of messages: all delivered in order once it
returns, none applied twice, polling never slowed during the outage.

depot-node scanner terminals and scales -> depot-gateway -> Mosquitto over
mutual TLS -> depot-hub, every part the real program; the gateway reaches the
broker through the fault proxy of the tests' own (faultproxy.py), so its uplink
alone can be cut while the hub stays connected, as when a warehouse's line is
down. With the hub's catalog in the gateway's ledger, the link is cut and
goods-in scans are fed to 16 terminals (FIFOs of 1024, polled every 5 ms, 16
poll threads) until the gateway's outbox holds DEPOT_GW_BACKLOG stream
messages (10,000 in the suite, 4,000 in the sanitizer build; 200,000, days of
a busy warehouse, in the long run) while two scales keep being polled every
20 ms. Then the link returns and the backlog drains.

Figures and checks:
  polling  the scales' Modbus requests per second (counted at the node): idle
           (2 s), under the same scan load with the link up (3 s), and with
           it down (the whole outage): down is at least 60 % of up (a generous
           bound for 2 shared cores; the figures are printed); the
           gateway's metrics file (depot_gw_polls_total, written every 10 s)
           gives the same rate over the outage when it spans two writes;
  drain    time to build the backlog, time to drain it, messages per second;
  once     the hub's stream applied_upto and applied both equal the
           gateway's last id, and the outbox is empty (the hub's acks freed
           it); duplicates (QoS 1 resends) are counted and only acknowledged;
  order    every movements batch applied in stream order (none refused for a
           broken stock chain at the hub), the hub's stock history of the
           scanned SKUs never goes down (goods in only), and each SKU's stock
           at the hub equals the scans accepted by the terminals.

    DEPOT_GW_BACKLOG=200000 DEPOT_BIN=build/bin python3 tests/system/test_gw_outage_backlog.py
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, main, run, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from hubenv import metrics, start_hub, stock_map, streams  # noqa: E402
from test_gw_metrics_e2e import parse_metrics  # noqa: E402
from test_orders_e2e import BOLT, CATALOG, NUT, TOKENS, VIEWER, WASHER, ADMIN  # noqa: E402

def sanitized():
    with open(os.path.join(BIN, "depot-gateway"), "rb") as f:
        return b"__asan_init" in f.read()


BACKLOG = int(os.environ.get("DEPOT_GW_BACKLOG", "4000" if sanitized() else "10000"))
TERMINALS = 16
FIFO = 1024
SCALES = [("scale-1", "SKU-PUMP"), ("scale-2", "SKU-PUMP2")]
BARCODES = {BOLT: "SKU-BOLT", NUT: "SKU-NUT", WASHER: "SKU-WASHER"}


class Feeder:
    """One control connection per terminal; scans sent in runs of lines, replies read back."""

    def __init__(self, wh, names):
        self.socks = {}
        for n in names:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(wh.controls[n])
            self.socks[n] = (s, s.makefile("r"))
        self.accepted = {b: 0 for b in BARCODES}
        self.step = 0

    def top_up(self, wh, want):
        """Scans onto every terminal, up to its FIFO's room (and about want in all)."""
        codes = list(BARCODES)
        for name in self.socks:
            room = min(FIFO - int(wh.status(name)["count"]), max(1, want // TERMINALS + 1), 512)
            if room > 0:
                self.run(name, [codes[(self.step + i) % len(codes)] for i in range(room)])
                self.step += room

    def run(self, name, barcodes):
        """Send one scan per barcode; returns how many the terminal took (stops at FIFO full)."""
        s, f = self.socks[name]
        s.sendall("".join("scan receive %s 1\n" % b for b in barcodes).encode())
        took = 0
        for b in barcodes:
            reply = f.readline().strip()
            if reply.startswith("ok"):
                self.accepted[b] += 1
                took += 1
            else:
                assert reply == "error fifo full", reply
        return took

    def close(self):
        for s, f in self.socks.values():
            f.close()
            s.close()


def node_requests(wh):
    return sum(int(wh.status(n)["requests"]) for n, _ in SCALES)


def metrics_polls(prom):
    """(mtime, polls of the scales) from the gateway's metrics file, or None."""
    try:
        t = os.path.getmtime(prom)
        m = parse_metrics(prom)
    except (OSError, ValueError, AssertionError):
        return None
    return t, sum(m.get('depot_gw_polls_total{node="%s"}' % n, 0) for n, _ in SCALES)


def file_rate(samples):
    """Polls per second between the first and last distinct metrics-file writes, or None."""
    writes = sorted(set(samples))
    if len(writes) < 2 or writes[-1][0] <= writes[0][0]:
        return None
    return (writes[-1][1] - writes[0][1]) / (writes[-1][0] - writes[0][0])


def test_backlog_delivered_once_in_order_polling_unslowed():
    with Env("gw-backlog") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        link = FaultProxy(port)
        try:
            run_backlog(env, pki, port, link)
        finally:
            link.stop()


def run_backlog(env, pki, port, link):
    hub, http = start_hub(env, pki, port, tokens=TOKENS)
    csv = env.path("catalog.csv")
    with open(csv, "w") as f:
        f.write(CATALOG)
    run([os.path.join(BIN, "depotctl"), "catalog", "import", csv, "--hub",
         "http://127.0.0.1:%d" % http, "--token", ADMIN])
    prom = env.path("wh-A", "gateway.prom")
    terminals = ["scan-%d" % i for i in range(1, TERMINALS + 1)]
    extra = ("window = 5000\n[outbox]\nmax_entries = %d\n[gateway]\npoll_threads = %d\n"
             "metrics_file = %s\n" % (max(100000, 2 * BACKLOG), TERMINALS, prom))
    wh = start_warehouse(env, pki, link.port, "A", tcp=SCALES, period_ms=20, rate=100000,
                         resend_s=30, scanners=terminals, scanner_fifo=FIFO, scanner_period_ms=5,
                         extra_gateway=extra)
    wait_for(lambda: wh.ledger_query("SELECT count(*) FROM catalog")[0][0] == 4,
             timeout=20, what="the catalog in the gateway's ledger")
    ledger = wh.ledger_id()
    wait_for(lambda: wh.outbox_depth() == 0, timeout=20, what="the outbox empty at start")

    # Polling idle, then under the scan load with the link up, then with it down.
    r0, t0 = node_requests(wh), time.monotonic()
    wait_for(lambda: time.monotonic() - t0 >= 2.0, timeout=10, interval=0.1,
             what="a 2 s measuring window")
    idle = (node_requests(wh) - r0) / (time.monotonic() - t0)
    feeder = Feeder(wh, terminals)
    try:
        r0, t0 = node_requests(wh), time.monotonic()
        while time.monotonic() - t0 < 3.0:  # the load's measuring window, link up
            feeder.top_up(wh, 1 << 30)
            time.sleep(0.05)  # the terminals drain at 200 scans/s each; no busy loop
        before = (node_requests(wh) - r0) / (time.monotonic() - t0)

        link.down()
        started = time.monotonic()
        r1 = node_requests(wh)
        file_during = []
        deadline = started + 120 + BACKLOG / 100.0
        while wh.outbox_depth() < BACKLOG:
            assert time.monotonic() < deadline, \
                "backlog of %d after %.0f s" % (wh.outbox_depth(), time.monotonic() - started)
            assert wh.gateway.alive(), "the gateway exited"
            feeder.top_up(wh, BACKLOG - wh.outbox_depth())
            s = metrics_polls(prom)
            if s:
                file_during.append(s)
            time.sleep(0.05)
        wait_for(lambda: all(int(wh.status(n)["count"]) == 0 for n in terminals),
                 timeout=60, what="every scan taken from the terminals")
    finally:
        feeder.close()
    scans = sum(feeder.accepted.values())
    built = time.monotonic() - started
    during = (node_requests(wh) - r1) / built
    queued = wh.outbox_depth()
    last = wh.last_message_id()
    print("  backlog: %d stream messages (%d scans on %d terminals) queued in %.1f s "
          "(%.0f/s) with the link down" % (queued, scans, TERMINALS, built, queued / built))
    sys.stdout.flush()
    assert queued >= BACKLOG, (queued, BACKLOG)

    accepted = link.accepted
    link.up()
    t_up = time.monotonic()
    wait_for(lambda: link.accepted > accepted, timeout=60, what="the gateway reconnected")
    t_back = link.last_accept
    wait_for(lambda: streams(http, VIEWER, "A").get(ledger, {}).get("applied_upto", 0) >= last,
             timeout=60 + BACKLOG / 100.0, interval=0.2,
             what="the hub's applied_upto at %d" % last)
    drained = time.monotonic() - t_back
    wait_for(lambda: wh.outbox_depth() == 0, timeout=60, what="the outbox freed by acks")
    last = wh.last_message_id()  # what the gateway queued since (its own events) is in too
    wait_for(lambda: streams(http, VIEWER, "A")[ledger]["applied_upto"] == last, timeout=30,
             what="the hub's applied_upto at %d" % last)
    st = streams(http, VIEWER, "A")[ledger]
    assert st["applied_upto"] == last and st["applied"] == last, (st, last)

    # Each SKU's stock at the hub is what the terminals took; in order, never down.
    hub = stock_map(http, VIEWER, dealer="A")
    for code, sku in BARCODES.items():
        assert wh.ledger_qty(sku) == feeder.accepted[code], (sku, wh.ledger_qty(sku))
        assert hub[("A", sku)]["qty"] == feeder.accepted[code], (sku, hub[("A", sku)])
    m = metrics(http)
    refused = sum(v for k, v in m.items()
                  if k.startswith("depot_hub_movements_refused_total"))
    deferred = sum(v for k, v in m.items()
                   if k.startswith("depot_hub_movements_deferred_total"))
    assert refused == 0, refused

    rate_file_during = file_rate(file_during)
    print("  drain: applied at the hub in %.1f s after the gateway reconnected (%.0f msgs/s); "
          "applied_upto %d, applied %d, %d duplicates only acknowledged, 0 applied twice"
          % (drained, queued / drained, st["applied_upto"], st["applied"], st["duplicates"]))
    print("  order: every movements batch applied in stream order with its stock chain "
          "intact (0 refused, %d deferred until an earlier id came), stock = scans for %d SKUs"
          % (deferred, len(BARCODES)))
    print("  link back: the gateway reconnected %.1f s after the link returned (its back-off)"
          % (t_back - t_up))
    print("  polling of %d scales at 20 ms: %.1f polls/s idle, %.1f under the scan load with the "
          "link up, %.1f with it down (%.0f %%)%s" % (len(SCALES), idle, before, during,
                                                      100.0 * during / before,
                          "; metrics file during: %.1f polls/s" % rate_file_during
                          if rate_file_during else ""))
    assert during >= 0.6 * before, (before, during)  # generous: 2 shared cores


if __name__ == "__main__":
    main([test_backlog_delivered_once_in_order_polling_unslowed])
