"""Certificate renewal on a running gateway, without downtime.

A real gateway (a scale and a scanner terminal), the broker, the hub. While
the scale's weight keeps changing:
  1. `depot-gateway renew` makes KEY.new and a CSR; the gateway goes on with
     its old pair (a weight still arrives);
  2. the manufacturer signs the CSR (`depotctl pki sign`); `depot-gateway
     install-cert` checks and installs it (a certificate for another key is
     refused first, nothing changed);
  3. SIGHUP: the gateway signs orders with the new key and reconnects with the
     new certificate; polling never stopped (every weight set during the
     renewal is in the ledger once, the node's poll count kept growing);
  4. the old certificate alone is revoked (`depotctl pki revoke --serial`), the
     broker told and restarted (dropping every open connection): the gateway
     is back at once with the new one, an order signed after the reload is
     approved, and an order signed with the old key and certificate is refused
     by the hub.
"""
import os
import random
import re
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, main, run, wait_for  # noqa: E402
from broker import depotctl, mqtt_pub, restart_broker  # noqa: E402
from gwenv import UNIT_WEIGHT_G  # noqa: E402
from hubenv import metrics, signed_order, stock_map  # noqa: E402
from test_orders_e2e import BOLT, VIEWER, Deployment  # noqa: E402


def test_renewal_while_running_loses_nothing():
    with Env("gw-renew") as env:
        dep = Deployment(env, dealers=("A",), tcp=[("scale-1", "SKU-BOLT")], period_ms=100)
        wh = dep.wh["A"]
        gw_bin = os.path.join(BIN, "depot-gateway")
        key, crt = dep.pki["dealers"]["A"]["key"], dep.pki["dealers"]["A"]["crt"]
        serials = os.path.join(dep.pki["dir"], "dealers", "A.serials")
        old_serial = open(serials).read().split()[0]
        old_key, old_crt = env.path("old.key"), env.path("old.crt")
        shutil.copy(key, old_key)
        shutil.copy(crt, old_crt)
        qty = [0]

        def weigh(n):
            qty[0] = n
            wh.weight("scale-1", n * UNIT_WEIGHT_G)
            wait_for(lambda: wh.ledger_qty("SKU-BOLT") == n and
                     stock_map(dep.http, VIEWER).get(("A", "SKU-BOLT"), {}).get("qty") == n,
                     timeout=20, what="%d at the gateway and the hub" % n)

        weigh(3)
        r = run([gw_bin, "renew", "-c", wh.config, "--csr", env.path("renew.csr")])
        assert os.path.exists(key + ".new") and "install-cert" in r.stdout, r.stdout
        weigh(4)  # the old pair still works
        r = run([gw_bin, "renew", "-c", wh.config, "--csr", env.path("again.csr")], check=False)
        assert r.returncode == 1 and "under way" in r.stderr, r.stderr

        new_crt = env.path("A-renewed.crt")
        depotctl("pki", "sign", "--dir", dep.pki["dir"], "--csr", env.path("renew.csr"),
                 "--dealer", "A", "--out", new_crt)
        # a certificate for another key is refused, and nothing changes
        before = open(crt).read()
        r = run([gw_bin, "install-cert", "-c", wh.config, "--cert", crt], check=False)
        assert r.returncode == 1 and "does not certify this key" in r.stderr, r.stderr
        assert open(crt).read() == before and os.path.exists(key + ".new")
        r = run([gw_bin, "install-cert", "-c", wh.config, "--cert", new_crt])
        assert "installed" in r.stdout, r.stdout
        assert open(crt).read() == open(new_crt).read() and not os.path.exists(key + ".new")
        weigh(5)  # installed, not yet taken: the running gateway still uses the old pair

        polls0 = scale_polls(wh)
        t0 = time.monotonic()
        wh.gateway.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "connecting again with it" in wh.gateway.log(), timeout=10,
                 what="the gateway taking the new certificate")
        weigh(6)
        print("renewal: reconnected with the new certificate, weight through the hub %.2f s "
              "after SIGHUP" % (time.monotonic() - t0), flush=True)
        wait_for(lambda: scale_polls(wh) > polls0, timeout=10, what="polling going on")

        # the old certificate alone revoked; the broker restarted drops every connection
        depotctl("pki", "revoke", "--dir", dep.pki["dir"], "--dealer", "A", "--serial",
                 old_serial)
        restart_broker(dep.broker, dep.port)
        weigh(7)
        t = dep.scan_order("A", [(BOLT, 2)])
        text = dep.wait_display("A", lambda s: "APPROVED" in s, timeout=15,
                                what="an order signed after the renewal approved")[1]
        print("renewal: order after revoking the old certificate: %s (%.2f s)"
              % (text, time.monotonic() - t), flush=True)
        # an order signed with the old key and carrying the old certificate: refused by the hub
        m0 = metrics(dep.http).get('depot_hub_orders_rejected_total{reason="bad_certificate"}', 0)
        payload = signed_order("A", "%032x" % random.getrandbits(128), 1, 1, old_key, old_crt,
                               [(BOLT, 1)])
        r = mqtt_pub(dep.pki, dep.port, "depot/v1/A/up/order", payload, crt, key)
        assert r.returncode == 0, r.stderr
        wait_for(lambda: metrics(dep.http).get(
            'depot_hub_orders_rejected_total{reason="bad_certificate"}', 0) >= m0 + 1,
            timeout=15, what="the old certificate's order refused")
        moves = wh.ledger_query("SELECT qty_after FROM movements WHERE sku = 'SKU-BOLT' "
                                "ORDER BY id")
        assert [m[0] for m in moves] == [3, 4, 5, 6, 7], "every weight change once: %r" % moves
        assert wh.gateway.alive(), wh.gateway.log()[-2000:]
        assert "refused" not in re.sub(r"scan.*refused", "", wh.gateway.log()), \
            wh.gateway.log()[-2000:]


def scale_polls(wh):
    """The requests the scale node has answered so far (its own count)."""
    return int(wh.status("scale-1")["replies"])


if __name__ == "__main__":
    main([test_renewal_while_running_loses_nothing])
