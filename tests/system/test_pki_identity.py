"""Identity at the broker and at the hub: expired, revoked and wrong-CA client
certificates refused, with counts.

The real Mosquitto with the config depotctl broker-config writes (cafile: the
device CA, crlfile: its revocation list) and the real hub. Each identity makes
DEPOT_PKI_ATTEMPTS (default 100) attempts: a TLS connection from Python's ssl
module with that certificate, then an MQTT CONNECT; an attempt counts as
accepted only if the broker answers CONNACK with code 0. A valid dealer's
certificate is accepted every time in the same run, so a refusal is the
certificate's and not the test's.

  - expired: dealer A's own key, certified by the device CA for a period that
    ended yesterday (tests/tools/cert_issue);
  - wrong CA: a dealer A of another Depot PKI (its own device CA);
  - server CA: a client certificate for A issued by the server CA, which only
    ever certifies the broker;
  - revoked: dealer C, accepted before `depotctl pki revoke --dealer C`, refused
    after the broker was told (SIGHUP). In the window between the two (the list
    written, the broker not yet told), C's signed order still reaches the hub,
    which refuses it (bad_certificate: it reads the new list by itself).
"""
import os
import random
import signal
import socket
import ssl
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))

from harness import TESTBIN, Env, main, run, wait_for  # noqa: E402
from broker import (depotctl, dealer_identity, gateway_keygen, make_ca, make_pki,  # noqa: E402
                    mqtt_pub, start_broker)
from hubenv import forged_orders, metrics, orders, signed_order, start_hub  # noqa: E402

ATTEMPTS = int(os.environ.get("DEPOT_PKI_ATTEMPTS", "100"))
ADMIN = "admin-token-pki-identity"


def connect_packet(client_id):
    """MQTT 3.1.1 CONNECT, clean session, keepalive 30 s."""
    cid = client_id.encode()
    body = (struct.pack("!H", 4) + b"MQTT" + bytes([4, 0x02]) + struct.pack("!H", 30)
            + struct.pack("!H", len(cid)) + cid)
    return bytes([0x10, len(body)]) + body


def attempt(port, cafile, cert, key):
    """One TLS connection and MQTT CONNECT with this identity; True if CONNACK 0 came back."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    ctx.load_cert_chain(cert, key)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                t.sendall(connect_packet("probe-%d" % random.getrandbits(32)))
                data = b""
                while len(data) < 4:
                    chunk = t.recv(4 - len(data))
                    if not chunk:
                        return False
                    data += chunk
                return data[0] == 0x20 and data[3] == 0
    except (ssl.SSLError, OSError):
        return False


def accepted(port, pki, cert, key, n=ATTEMPTS):
    return sum(attempt(port, pki["ca"], cert, key) for _ in range(n))


def cert_issue(ca_key, ca_crt, key, cn, out, start, end):
    run([os.path.join(TESTBIN, "cert_issue"), "--ca-key", ca_key, "--ca-crt", ca_crt, "--key", key,
         "--cn", cn, "--from", str(start), "--to", str(end), "--out", out])
    return out


def test_expired_revoked_and_wrong_ca_certificates_refused():
    with Env("pki-identity") as env:
        pki = make_pki(env, ["A", "B", "C"])
        other = make_ca(env, "other-pki")  # another Depot's CAs, and a dealer A of its own
        os.makedirs(env.path("other-A"))
        o_key, o_csr, o_crt = (env.path("other-A", f) for f in ("gw.key", "gw.csr", "gw.crt"))
        gateway_keygen("A", o_key, o_csr)
        depotctl("pki", "sign", "--dir", other, "--csr", o_csr, "--dealer", "A", "--out", o_crt)
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"admin": ADMIN})
        a_crt, a_key = dealer_identity(pki, "A")
        b_crt, b_key = dealer_identity(pki, "B")
        c_crt, c_key = dealer_identity(pki, "C")
        bad = {
            "expired": (cert_issue(pki["device_ca_key"], pki["device_ca"], a_key, "A",
                                   env.path("a-expired.crt"), -2 * 86400, -86400), a_key),
            "not yet valid": (cert_issue(pki["device_ca_key"], pki["device_ca"], a_key, "A",
                                         env.path("a-future.crt"), 86400, 2 * 86400), a_key),
            "wrong CA": (o_crt, o_key),
            "server CA": (cert_issue(pki["ca_key"], pki["ca"], a_key, "A",
                                     env.path("a-server-ca.crt"), -300, 86400), a_key),
        }
        figures = {}
        assert accepted(port, pki, a_crt, a_key, 1) == 1, "A's real certificate was refused"
        for name, (crt, key) in bad.items():
            figures[name] = accepted(port, pki, crt, key)
        figures["valid (B)"] = accepted(port, pki, b_crt, b_key)
        assert accepted(port, pki, c_crt, c_key, 1) == 1, "C refused before its revocation"

        # C's order before the revocation is an order of C's (not forged) ...
        ledger = "%032x" % random.getrandbits(128)
        r = mqtt_pub(pki, port, "depot/v1/C/up/order",
                     signed_order("C", ledger, 1, 1, c_key, c_crt, [("4006381333931", 1)]),
                     c_crt, c_key)
        assert r.returncode == 0, r.stderr
        wait_for(lambda: len(orders(http, ADMIN, dealer="C")) == 1, timeout=15,
                 what="C's order before the revocation")

        r = depotctl("pki", "revoke", "--dir", pki["dir"], "--dealer", "C")
        assert "revoked 1 certificate(s) of dealer C" in r.stdout, r.stdout
        # ... and after it, with the broker not told yet, refused by the hub itself.
        m0 = metrics(http).get('depot_hub_orders_rejected_total{reason="bad_certificate"}', 0)
        r = mqtt_pub(pki, port, "depot/v1/C/up/order",
                     signed_order("C", ledger, 2, 2, c_key, c_crt, [("4006381333931", 1)],
                                  base=2),
                     c_crt, c_key)
        assert r.returncode == 0, "the broker was not told yet, so it still lets C in: " + r.stderr
        wait_for(lambda: metrics(http).get(
            'depot_hub_orders_rejected_total{reason="bad_certificate"}', 0) >= m0 + 1,
            timeout=15, what="C's order refused by the hub as bad_certificate")
        forged = forged_orders(http, ADMIN, dealer="C")
        assert [f["reason"] for f in forged] == ["bad_certificate"], forged
        assert len(orders(http, ADMIN, dealer="C")) == 1
        assert "revocation list" in hub.log(), hub.log()[-2000:]

        broker.p.send_signal(signal.SIGHUP)
        wait_for(lambda: not attempt(port, pki["ca"], c_crt, c_key), timeout=10,
                 what="the broker refusing C after SIGHUP")
        figures["revoked"] = accepted(port, pki, c_crt, c_key)
        figures["valid (B) after"] = accepted(port, pki, b_crt, b_key)
        assert broker.alive(), broker.log()[-2000:]

        for name, n in figures.items():
            print("identity %-16s %d of %d attempts accepted" % (name + ":", n, ATTEMPTS),
                  flush=True)
        refused = {k: v for k, v in figures.items() if not k.startswith("valid")}
        assert all(v == 0 for v in refused.values()), figures
        assert figures["valid (B)"] == ATTEMPTS and figures["valid (B) after"] == ATTEMPTS, figures
        print("refused: %d of %d attempts with bad certificates (100%%)"
              % (len(refused) * ATTEMPTS, len(refused) * ATTEMPTS))


if __name__ == "__main__":
    main([test_expired_revoked_and_wrong_ca_certificates_refused])
