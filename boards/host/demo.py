"""The Depot demo: Mosquitto, the hub and two dealer warehouses on this machine.

Everything is the real program: Debian's mosquitto with the config depotctl
writes (mutual TLS on 127.0.0.1), depot-hub with a SQLite file, and per dealer
a depot-gateway with two depot-node scales, one over Modbus TCP and one over
Modbus RTU on a pseudo-terminal, and a scanner terminal for goods in and out
and orders. Dealer A has one more scale: the firmware built for a Cortex-M3
board (boards/lm3s6965evb) running under qemu-system-arm, on a line of its
own at 115200 baud. Certificates are made the way a deployment makes them: depotctl
is the CA, each gateway makes its own key and CSR. The catalog is imported
with depotctl, and each dealer gets a credit limit and an auto-approval
limit, so a small order is approved at once and a big one waits for the
approval stages (sales, finance, warehouse).
Files and logs go to run/demo/ (made anew at each start). Ctrl-C stops it all.
"""
import os
import secrets
import shutil
import signal
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
os.environ.setdefault("DEPOT_BIN", os.path.join(ROOT, "build", "bin"))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

from harness import Env, run, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402
from hubenv import call, start_hub, stock_map  # noqa: E402
from qemunode import QEMU, image, start_qemu_node  # noqa: E402

RUN = os.path.join(ROOT, "run", "demo")
DEALERS = ("A", "B")
START = {"scale-tcp": 12, "scale-rtu": 30}
ARM_PUMPS = 4  # on dealer A's ARM scale (a pump weighs 5,000 g)
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,4006381333931,2.50,100,1,500,20,7,1000
SKU-NUT,4006381333948,0.40,100,1,1000,50,7,5000
SKU-PUMP,4006381333962,100.00,5000,1,20,2,14,50
"""
STAGES = "sales,finance,warehouse"
DEALER_USER = "dealer-a"
AGREEMENT = """Dealer agreement 2027 between the manufacturer and dealer A

1. Term: from the day of signature to the end of next year.
2. Credit limit: 7500.00. Tier: gold.
3. Rebates as the ranking shows them, month by month.
"""


def rel(path):
    return os.path.relpath(path, os.getcwd())


def arm_lines(arm, node):
    """What the demo prints about dealer A's ARM scale (none when its image was not built)."""
    if arm is None:
        return ""
    return ("""         and dealer A also
             scale-arm  SKU-PUMP  the Cortex-M3 firmware (boards/lm3s6965evb) under QEMU,
                                  Modbus RTU at 115200 8E1 on %s; it starts with %d pumps
           put a fifth pump on it (its UART1 is the socket below):
             %s ctl %s weight %d
""" % (arm.pty, ARM_PUMPS, node, rel(arm.aux), (ARM_PUMPS + 1) * 5000))


def main():
    shutil.rmtree(RUN, ignore_errors=True)
    token = "demo-" + secrets.token_hex(8)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with Env("demo", dir=RUN) as env:
        env.keep = True
        print("depot demo: making the CA, the broker's and the hub's certificates, "
              "and each gateway's key and certificate ...", flush=True)
        pki = make_pki(env, DEALERS)
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"admin": token}, log_level="info",
                              extra={"approval": {"stages": STAGES}})
        ctl = rel(os.path.join(os.environ["DEPOT_BIN"], "depotctl"))
        hubargs = ["--hub", "http://127.0.0.1:%d" % http, "--token", token]
        catalog = os.path.join(RUN, "catalog.csv")
        with open(catalog, "w") as f:
            f.write(CATALOG)
        run([ctl, "catalog", "import", catalog] + hubargs)
        for d in DEALERS:
            run([ctl, "dealers", "set", d, "--name", "Dealer " + d, "--credit-limit", "5000",
                 "--auto-approve-limit", "500"] + hubargs)
        whs = {}
        arm = None
        if os.path.exists(image("scale")) and os.path.exists(QEMU):
            arm = start_qemu_node(env, "scale", name="A-scale-arm")
        for d in DEALERS:
            extra = ""
            if d == "A" and arm is not None:
                extra = ("[bus:arm]\ntype = rtu\ndevice = %s\nbaud = 115200\nparity = E\n"
                         "[node:scale-arm]\nbus = arm\nunit = 1\nkind = scale\nsku = SKU-PUMP\n"
                         "unit_weight_g = 5000\nperiod_ms = 500\n" % arm.pty)
            whs[d] = start_warehouse(env, pki, port, d, tcp=[("scale-tcp", "SKU-BOLT")],
                                     rtu=[("scale-rtu", 1, "SKU-NUT")], period_ms=500,
                                     snapshot_period_s=30, scanners=["scanner"],
                                     extra_gateway=extra)
            for node, count in START.items():
                whs[d].weight(node, count * UNIT_WEIGHT_G)
        if arm is not None:
            whs["A"].controls["scale-arm"] = arm.aux
            whs["A"].weight("scale-arm", ARM_PUMPS * 5000)
        rows = 2 * len(DEALERS) + (arm is not None)
        wait_for(lambda: len(stock_map(http, token)) == rows, timeout=30,
                 what="the hub to show every dealer's stock")
        # The dealer's side: a user of dealer A, a promotion and a contract for A.
        password = secrets.token_urlsafe(12)
        call(http, "POST", "/api/v1/users", token, {"name": DEALER_USER, "role": "dealer",
                                                    "dealer": "A", "password": password},
             expect=201)
        today = time.strftime("%Y-%m-%d", time.gmtime())
        end = "%d-12-31" % (time.gmtime().tm_year + 1)
        call(http, "POST", "/api/v1/policies", token, {
            "title": "Spring promotion", "body": "10 % off pumps until the end of March.",
            "notice": "SPRING -10% PUMPS", "valid_from": today, "valid_to": end,
            "target": {"kind": "list", "value": "A"}}, expect=201)
        agreement = os.path.join(RUN, "agreement-A.txt")
        with open(agreement, "w") as f:
            f.write(AGREEMENT)
        run([ctl, "contracts", "issue", agreement, "--dealer", "A", "--title",
             "Dealer agreement 2027", "--start", today, "--end", end, "--credit-limit", "7500.00",
             "--tier", "gold"] + hubargs)
        node = rel(os.path.join(os.environ["DEPOT_BIN"], "depot-node"))
        print("""
Depot demo is running.

  broker   mosquitto, mutual TLS on 127.0.0.1:%(port)d   (config %(conf)s)
  hub API  http://127.0.0.1:%(http)d/api/v1/   token: %(token)s
  dashboard  http://127.0.0.1:%(http)d/   (open it in a browser; sign in with the token above)
  dealers  A and B, each a gateway with
             scale-tcp  SKU-BOLT  Modbus TCP
             scale-rtu  SKU-NUT   Modbus RTU on a pseudo-terminal line
             scanner    a barcode-scanner terminal with a display (Modbus TCP)
           every item weighs %(uw)d g; each scale starts with %(start)s
%(arm)s
See the stock of every dealer:
  %(ctl)s stock --hub http://127.0.0.1:%(http)d --token %(token)s

Put 17 bolts on dealer B's shelf (17 x %(uw)d g), then look again:
  %(node)s ctl %(bsock)s weight %(w17)d

Make dealer A's RTU scale stop answering (its stock turns stale), then heal it:
  %(node)s ctl %(asock)s fault silent
  %(node)s ctl %(asock)s fault none

Scan an order at dealer A's terminal (4 bolts, 10 nuts) and watch its display:
  %(node)s ctl %(scan)s scan line 4006381333931 4
  %(node)s ctl %(scan)s scan line 4006381333948 10
  %(node)s ctl %(scan)s submit
  %(node)s ctl %(scan)s display          -> ORDER 1 APPROVED (14.00, within the limits)

A big order (6 pumps, 600.00 > the 500.00 auto-approval limit) waits for
sales, finance and warehouse; approve it stage by stage, then look again:
  %(node)s ctl %(scan)s scan line 4006381333962 6
  %(node)s ctl %(scan)s submit
  %(ctl)s orders list --status pending %(hubargs)s
  %(ctl)s orders approve ID --stage sales %(hubargs)s
  %(ctl)s orders approve ID --stage finance %(hubargs)s
  %(ctl)s orders approve ID --stage warehouse %(hubargs)s
  %(ctl)s orders show ID %(hubargs)s        (lines, prices and the audit trail)

Goods in and out at the terminal:
  %(node)s ctl %(scan)s scan receive 4006381333962 3
  %(node)s ctl %(scan)s scan pick 4006381333962 1

The dealer's side (dealer A): open the dashboard and sign in as user
%(duser)s with password %(dpw)s: the phone-first portal shows A's stock,
orders, alerts, rank, a promotion, and a contract to sign.
Acknowledge the promotion at A's terminal (its display shows the notice):
  %(node)s ctl %(scan)s confirm          -> POLICY 1 ACKNOWLEDGED
Sign the contract at A's terminal with its sign code (the gateway's own key signs it):
  %(node)s ctl %(scan)s confirm C1       -> CONTRACT 1 SIGNED
  %(ctl)s contracts list %(hubargs)s
  %(ctl)s contracts signature 1 %(hubargs)s > %(run)s/agreement-A.sig
  %(ctl)s contracts verify %(run)s/agreement-A.txt %(run)s/agreement-A.sig --ca %(ca)s

The same over HTTP:
  curl -H 'Authorization: Bearer %(token)s' http://127.0.0.1:%(http)d/api/v1/stock?dealer=B

Logs and files: %(run)s/   Ctrl-C stops everything.
""" % {"port": port, "conf": rel(os.path.join(RUN, "broker", "mosquitto.conf")), "http": http,
       "token": token, "uw": UNIT_WEIGHT_G, "start": ", ".join("%s %d" % kv for kv in START.items()),
       "ctl": ctl, "node": node, "bsock": rel(whs["B"].controls["scale-tcp"]),
       "asock": rel(whs["A"].controls["scale-rtu"]), "w17": 17 * UNIT_WEIGHT_G, "run": rel(RUN),
       "scan": rel(whs["A"].controls["scanner"]), "hubargs": " ".join(hubargs),
       "duser": DEALER_USER, "dpw": password, "ca": rel(pki["device_ca"]),
       "arm": arm_lines(arm, node)},
              flush=True)
        try:
            while all(p.alive() for p in env.procs if p.name.startswith(("hub", "broker", "gw-"))):
                time.sleep(1)
            print("depot demo: a process stopped; see the logs in %s" % rel(RUN))
        except KeyboardInterrupt:
            print("\ndepot demo: stopping everything ...", flush=True)
    print("depot demo: stopped.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
