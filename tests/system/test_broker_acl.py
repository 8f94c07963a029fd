"""The broker's access control, end to end over mutual TLS.

A real Mosquitto configured by `depotctl broker-config`, certificates from
`depotctl pki` and the gateway's keygen, clients mosquitto_pub/mosquitto_sub.
Every "nothing arrives" is proved against a control message sent afterwards
that does arrive at the same subscriber: the broker handles one connection's
PUBLISH completely before the next client's, so once the control is in,
anything forged earlier would have been delivered before it.
"""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Env, main  # noqa: E402
from broker import (depotctl, dealer_identity, gateway_keygen,  # noqa: E402
                    hub_identity, make_ca, make_pki, mqtt_pub, mqtt_sub, pub_accepted,
                    pub_refused, restart_broker, start_broker)


def control(sub, pki, port, topic, identity):
    """Publish a control message that sub must receive; proves sub is live and caught up."""
    payload = "control-%s" % topic.replace("/", "-")
    r = mqtt_pub(pki, port, topic, payload, *identity)
    assert pub_accepted(r), "control publish failed:\n%s\n%s" % (r.stdout, r.stderr)
    sub.wait_message(lambda t, p: t == topic and p == payload)


def assert_not_received(sub, text):
    got = [m for m in sub.messages() if text in m[1]]
    assert not got, "the broker delivered what it must refuse: %r" % got


def test_dealer_cannot_publish_under_another_dealer():
    with Env("acl-pub") as env:
        pki = make_pki(env, ["A", "B"])
        _, port = start_broker(env, pki)
        hub = mqtt_sub(env, pki, port, ["depot/v1/B/#", "depot/v1/A/down/#"], *hub_identity(pki),
                       name="hub-sub")
        # B's uplink, state and downlink; and A's own downlink, which only the hub writes.
        for topic in ("depot/v1/B/up/stock", "depot/v1/B/state", "depot/v1/B/down/ack",
                      "depot/v1/A/down/ack"):
            r = mqtt_pub(pki, port, topic, "forged-by-A", *dealer_identity(pki, "A"))
            assert pub_refused(r), "broker did not refuse A on %s:\n%s\n%s" % (
                topic, r.stdout, r.stderr)
        control(hub, pki, port, "depot/v1/B/up/stock", dealer_identity(pki, "B"))
        assert_not_received(hub, "forged-by-A")


def test_dealer_cannot_read_another_dealer():
    with Env("acl-read") as env:
        pki = make_pki(env, ["A", "B"])
        _, port = start_broker(env, pki)
        spy = mqtt_sub(env, pki, port, ["depot/v1/B/#", "depot/v1/#", "depot/v1/A/down/#"],
                       *dealer_identity(pki, "A"), name="a-spy")
        r = mqtt_pub(pki, port, "depot/v1/B/up/stock", "secret-of-B", *dealer_identity(pki, "B"))
        assert pub_accepted(r), r.stdout + r.stderr
        r = mqtt_pub(pki, port, "depot/v1/B/down/decision", "secret-for-B", *hub_identity(pki))
        assert pub_accepted(r), r.stdout + r.stderr
        control(spy, pki, port, "depot/v1/A/down/decision", hub_identity(pki))
        assert_not_received(spy, "secret-")


def test_dealer_publishes_own_uplink_to_hub_shared_subscription():
    with Env("acl-share") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub = mqtt_sub(env, pki, port, ["$share/hub/depot/v1/+/up/#", "depot/v1/+/state"],
                       *hub_identity(pki), name="hub-share")
        gw = mqtt_sub(env, pki, port, ["depot/v1/A/down/#"], *dealer_identity(pki, "A"),
                      name="gw-down")
        r = mqtt_pub(pki, port, "depot/v1/A/up/stock", "stock-of-A", *dealer_identity(pki, "A"))
        assert pub_accepted(r), r.stdout + r.stderr
        hub.wait_message(lambda t, p: t == "depot/v1/A/up/stock" and p == "stock-of-A")
        r = mqtt_pub(pki, port, "depot/v1/A/state", "online", *dealer_identity(pki, "A"),
                     retain=True)
        assert pub_accepted(r), r.stdout + r.stderr
        hub.wait_message(lambda t, p: t == "depot/v1/A/state" and p == "online")
        r = mqtt_pub(pki, port, "depot/v1/A/down/ack", "ack-for-A", *hub_identity(pki))
        assert pub_accepted(r), r.stdout + r.stderr
        gw.wait_message(lambda t, p: p == "ack-for-A")
        # The broker comes back from a restart with the same config.
        restart_broker(broker, port)
        hub2 = mqtt_sub(env, pki, port, ["$share/hub/depot/v1/+/up/#"], *hub_identity(pki),
                        name="hub-share-2")
        r = mqtt_pub(pki, port, "depot/v1/A/up/stock", "after-restart", *dealer_identity(pki, "A"))
        assert pub_accepted(r), r.stdout + r.stderr
        hub2.wait_message(lambda t, p: p == "after-restart")


def test_client_without_certificate_or_from_another_ca_is_refused():
    with Env("acl-tls") as env:
        pki = make_pki(env, ["A"])
        _, port = start_broker(env, pki)
        hub = mqtt_sub(env, pki, port, ["depot/v1/#"], *hub_identity(pki), name="hub-all")
        r = mqtt_pub(pki, port, "depot/v1/A/up/stock", "no-cert")
        assert r.returncode != 0 and "RC:0)" not in r.stdout, r.stdout + r.stderr
        # Another CA (same name "Depot CA", other key) issuing a certificate for "A".
        other = make_ca(env, "other-pki")
        os.makedirs(env.path("rogue"))
        key, csr, crt = (env.path("rogue", n) for n in ("gw.key", "gw.csr", "gw.crt"))
        gateway_keygen("A", key, csr)
        depotctl("pki", "sign", "--dir", other, "--csr", csr, "--dealer", "A", "--out", crt)
        r = mqtt_pub(pki, port, "depot/v1/A/up/stock", "other-ca", crt, key)
        assert r.returncode != 0 and "RC:0)" not in r.stdout, r.stdout + r.stderr
        # The broker's own server certificate is not a client certificate (serverAuth only).
        r = mqtt_pub(pki, port, "depot/v1/A/up/stock", "server-cert", pki["broker_cert"],
                     pki["broker_key"])
        assert r.returncode != 0 and "RC:0)" not in r.stdout, r.stdout + r.stderr
        control(hub, pki, port, "depot/v1/A/up/stock", dealer_identity(pki, "A"))
        assert_not_received(hub, "no-cert")
        assert_not_received(hub, "other-ca")
        assert_not_received(hub, "server-cert")


def tamper(csr_in, csr_out):
    """Copy a PEM CSR with the last byte of its DER (inside the signature) flipped."""
    import base64
    with open(csr_in) as f:
        lines = f.read().strip().splitlines()
    der = bytearray(base64.b64decode("".join(lines[1:-1])))
    der[-1] ^= 1
    b64 = base64.b64encode(bytes(der)).decode()
    body = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    with open(csr_out, "w") as f:
        f.write("%s\n%s\n%s\n" % (lines[0], body, lines[-1]))


def test_depotctl_pki_refuses_what_it_must():
    with Env("pki-cli") as env:
        pki = make_pki(env, ["A"])
        for p in (pki["ca_key"], pki["broker_key"], pki["hub_key"], pki["dealers"]["A"]["key"]):
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
        r = depotctl("pki", "ca", "--dir", pki["dir"], check=False)
        assert r.returncode != 0 and "already exists" in r.stderr, r.stderr
        gw = pki["dealers"]["A"]
        r = gateway_keygen("A", gw["key"], env.path("again.csr"), check=False)
        assert r.returncode != 0 and "already exists" in r.stderr, r.stderr
        r = depotctl("pki", "sign", "--dir", pki["dir"], "--csr", gw["csr"], "--dealer", "B",
                     "--out", env.path("b.crt"), check=False)
        assert r.returncode != 0 and "is not the dealer 'B'" in r.stderr, r.stderr
        bad = env.path("tampered.csr")
        tamper(gw["csr"], bad)
        r = depotctl("pki", "sign", "--dir", pki["dir"], "--csr", bad, "--dealer", "A",
                     "--out", env.path("t.crt"), check=False)
        assert r.returncode != 0 and "signature does not verify" in r.stderr, r.stderr
        r = depotctl("pki", "sign", "--dir", pki["dir"], "--csr", gw["csr"], "--dealer", "hub",
                     "--out", env.path("h.crt"), check=False)
        assert r.returncode != 0 and "own services" in r.stderr, r.stderr
        for f in ("b.crt", "t.crt", "h.crt"):
            assert not os.path.exists(env.path(f)), f
        r = depotctl("pki", "sign", "--dir", pki["dir"], "--csr", gw["csr"], "--dealer", "A",
                     "--out", gw["crt"], check=False)
        assert r.returncode != 0 and "already exists" in r.stderr, r.stderr


if __name__ == "__main__":
    main([
        test_dealer_cannot_publish_under_another_dealer,
        test_dealer_cannot_read_another_dealer,
        test_dealer_publishes_own_uplink_to_hub_shared_subscription,
        test_client_without_certificate_or_from_another_ca_is_refused,
        test_depotctl_pki_refuses_what_it_must,
    ])
