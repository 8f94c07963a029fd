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

from harness import BIN, TESTBIN, Env, main, run, wait_for  # noqa: E402
from broker import (depotctl, dealer_identity, gateway_keygen,  # noqa: E402
                    hub_identity, hub_instance, make_ca, make_pki, mqtt_pub, mqtt_sub,
                    pub_accepted, pub_refused, restart_broker, start_broker)
from hubenv import health, start_hub  # noqa: E402


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
        r = mqtt_pub(pki, port, "depot/v1/A/up/stock", "stock-of-A", *dealer_identity(pki, "A"))
        assert pub_accepted(r), r.stdout + r.stderr
        hub.wait_message(lambda t, p: t == "depot/v1/A/up/stock" and p == "stock-of-A")
        r = mqtt_pub(pki, port, "depot/v1/A/state", "online", *dealer_identity(pki, "A"),
                     retain=True)
        assert pub_accepted(r), r.stdout + r.stderr
        hub.wait_message(lambda t, p: t == "depot/v1/A/state" and p == "online")
        # A's certificate is one connection at a time: A's downlink reader comes after A's
        # publishes (each its own connection with A's certificate).
        gw = mqtt_sub(env, pki, port, ["depot/v1/A/down/#"], *dealer_identity(pki, "A"),
                      name="gw-down")
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
        for p in (pki["ca_key"], pki["device_ca_key"], pki["broker_key"], pki["hub_key"],
                  pki["dealers"]["A"]["key"]):
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


def connacks(sub):
    """How many times a mosquitto_sub -d connected (a reconnect after a takeover adds one)."""
    return sub.proc.out().count("received CONNACK")


def test_a_dealer_certificate_never_disconnects_another_dealers_gateway():
    with Env("acl-clientid") as env:
        pki = make_pki(env, ["A", "B"])
        broker, port = start_broker(env, pki)
        # B's gateway, connected with the client id gateways used to send (gw-B).
        b = mqtt_sub(env, pki, port, ["depot/v1/B/down/#"], *dealer_identity(pki, "B"),
                     name="gw-b", extra=["-i", "gw-B"])
        # A's certificate, asking for B's client id in every spelling, again and again.
        for client_id in ("gw-B", "B", "gw-B", "B"):
            r = mqtt_pub(pki, port, "depot/v1/A/up/stock", "from-A", *dealer_identity(pki, "A"),
                         extra=["-i", client_id])
            assert pub_accepted(r), "A's own publish failed:\n%s\n%s" % (r.stdout, r.stderr)
        log = broker.log()
        assert "already connected" not in log, log[-3000:]
        # The broker knew every one of them as A, whatever id it asked for.
        assert " as A (" in log and " as gw-B (" not in log, log[-3000:]
        # B's one connection is still the one it made, and still delivers.
        control(b, pki, port, "depot/v1/B/down/ack", hub_identity(pki))
        assert b.proc.alive() and connacks(b) == 1, b.proc.out()[-2000:]
        assert "already connected" not in broker.log(), broker.log()[-3000:]


def test_each_hub_instance_has_its_own_certificate_and_both_stay_connected():
    with Env("acl-hubs") as env:
        pki = make_pki(env, ["A"], hubs=["hub-2"])
        broker, port = start_broker(env, pki)
        _, http1 = start_hub(env, pki, port, name="hub", tokens={"viewer": "viewer-token-1"})
        cert2, key2 = hub_instance(pki, "hub-2")
        _, http2 = start_hub(env, pki, port, name="hub2", tokens={"viewer": "viewer-token-1"},
                             db=env.path("hub", "hub.db"),
                             extra={"mqtt": {"cert": cert2, "key": key2}})
        # Traffic through the shared subscription, then both are still subscribed and the
        # broker never closed one for the other.
        for i in range(5):
            r = mqtt_pub(pki, port, "depot/v1/A/state", "x%d" % i, *dealer_identity(pki, "A"))
            assert pub_accepted(r), r.stdout + r.stderr
        probe = mqtt_sub(env, pki, port, ["depot/v1/A/state"], *hub_identity(pki), name="probe")
        control(probe, pki, port, "depot/v1/A/state", dealer_identity(pki, "A"))
        for http in (http1, http2):
            h = health(http)
            assert h and h.get("mqtt") == "subscribed", (http, h)
        log = broker.log()
        assert "already connected" not in log, log[-3000:]
        assert " as hub (" in log and " as hub-2 (" in log, log[-3000:]


def test_hub_rights_go_only_to_the_manufacturers_own_certificates():
    with Env("acl-hub-names") as env:
        pki = make_pki(env, ["A"], hubs=["hub-2"])
        out = env.path("broker-x")
        base = ["broker-config", "--dir", pki["dir"], "--port", "1883", "--out", out]
        # A dealer, a name without a certificate, a name given twice: no broker config.
        for hubs, why in ((["A"], "is a dealer"), (["hub-3"], "no "),
                          (["hub", "hub"], "given twice"), (["hub/x"], "not a valid name")):
            argv = base + [w for h in hubs for w in ("--hub", h)]
            r = depotctl(*argv, check=False)
            assert r.returncode != 0 and why in r.stderr, (hubs, r.returncode, r.stderr)
            assert not os.path.exists(os.path.join(out, "acl")), hubs
        r = depotctl(*(base + ["--hub", "hub", "--hub", "hub-2"]))
        with open(os.path.join(out, "acl")) as f:
            acl = f.read()
        assert "\nuser hub\n" in acl and "\nuser hub-2\n" in acl, acl
        with open(os.path.join(out, "mosquitto.conf")) as f:
            assert "\nuse_username_as_clientid true\n" in f.read()
        # A service may not take a dealer's id, nor a dealer a service's name.
        r = depotctl("pki", "client", "--dir", pki["dir"], "--name", "A", check=False)
        assert r.returncode != 0 and "is a dealer's id" in r.stderr, r.stderr
        assert not os.path.exists(os.path.join(pki["dir"], "A.key"))
        os.makedirs(env.path("rogue"))
        key, csr = env.path("rogue", "k"), env.path("rogue", "csr")
        gateway_keygen("hub-2", key, csr)
        r = depotctl("pki", "sign", "--dir", pki["dir"], "--csr", csr, "--dealer", "hub-2",
                     "--out", env.path("rogue", "crt"), check=False)
        assert r.returncode != 0 and "own services" in r.stderr, r.stderr
        assert os.path.exists(os.path.join(pki["dir"], "dealers", "A.crt"))


def test_a_dealer_id_with_a_dot_is_enrolled_and_confined_to_its_topics():
    with Env("acl-dot") as env:
        pki = make_pki(env, ["D.042", "A"])  # keygen and pki sign accept it
        _, port = start_broker(env, pki)
        hub = mqtt_sub(env, pki, port, ["depot/v1/#"], *hub_identity(pki), name="hub-dot")
        me = dealer_identity(pki, "D.042")
        r = mqtt_pub(pki, port, "depot/v1/A/up/stock", "forged-by-dot", *me)
        assert pub_refused(r), r.stdout + r.stderr
        control(hub, pki, port, "depot/v1/D.042/up/stock", me)
        assert_not_received(hub, "forged-by-dot")


GATEWAY_INI = """[gateway]
dealer = %s
ledger = %s
[mqtt]
host = 127.0.0.1
port = 1
ca = %s
cert = %s
key = %s
"""


def test_gateway_refuses_a_certificate_of_another_dealer():
    with Env("gw-identity") as env:
        pki = make_pki(env, ["A", "B"], observers=0)
        a_crt, a_key = dealer_identity(pki, "A")
        ledger = env.path("ledger.db")
        ini = env.path("gateway.ini")
        with open(ini, "w") as f:
            f.write(GATEWAY_INI % ("B", ledger, pki["ca"], a_crt, a_key))
        gw = os.path.join(BIN, "depot-gateway")
        for argv in ([gw, "check", "-c", ini], [gw, "-c", ini]):
            r = run(argv, check=False, timeout=30)
            assert r.returncode == 2, (argv, r.returncode, r.stdout, r.stderr)
            assert "dealer is B" in r.stderr and "certificate of dealer A" in r.stderr, r.stderr
            assert "OK" not in r.stdout, r.stdout
        assert not os.path.exists(ledger), "the refused gateway made a ledger"
        with open(ini, "w") as f:
            f.write(GATEWAY_INI % ("A", ledger, pki["ca"], a_crt, a_key))
        r = run([gw, "check", "-c", ini], check=False, timeout=30)
        assert r.returncode == 0 and "OK: dealer A" in r.stdout, (r.returncode, r.stdout, r.stderr)


def test_ten_thousand_attempts_on_another_dealers_topics_none_taken():
    """Dealer A's certificate, DEPOT_ACL_ATTEMPTS (10,000) times: QoS 1 publishes under B's
    uplink, state and downlink, subscriptions to B's and everyone's topics (+, #, $share),
    from connections asking for forged client ids (B's, +, #, B/#, the hub's). The broker takes
    none: no publish acknowledged below 0x80 and nothing arrives at B's topics; nothing is
    delivered to A, though B's uplink, state and downlink each hold a retained message that
    every plain filter tried matches. (Mosquitto answers a SUBACK granting the QoS and
    checks read access when it delivers: delivery is what counts.)"""
    with Env("acl-probe") as env:
        pki = make_pki(env, ["A", "B"])
        _, port = start_broker(env, pki)
        hub = hub_identity(pki)
        for topic, who in (("depot/v1/B/down/catalog", hub),
                           ("depot/v1/B/up/stock", dealer_identity(pki, "B")),
                           ("depot/v1/B/state", dealer_identity(pki, "B"))):
            r = mqtt_pub(pki, port, topic, "retained-for-B", *who, retain=True)
            assert pub_accepted(r), r.stdout + r.stderr
        watch = mqtt_sub(env, pki, port, ["depot/v1/B/#", "depot/v2/#"], *hub_identity(pki))
        n = int(os.environ.get("DEPOT_ACL_ATTEMPTS", "10000"))
        cert, key = dealer_identity(pki, "A")
        out = run([os.path.join(TESTBIN, "acl_probe"), "--port", str(port), "--ca", pki["ca"],
                   "--cert", cert, "--key", key, "--victim", "B", "--attempts", str(n)],
                  timeout=600).stdout.split()
        got = dict(zip(out[0::2], (int(x) for x in out[1::2])))
        assert got["attempts"] == n and got["publishes"] + got["subscribes"] == n, got
        assert got["accepted"] == 0 and got["received"] == 0, got
        control(watch, pki, port, "depot/v1/B/up/stock", dealer_identity(pki, "B"))
        assert_not_received(watch, "forged")
        print("  %d attempts by A's certificate on B's topics (%d publishes, %d subscriptions, "
              "%d connections with forged client ids): 0 taken" %
              (n, got["publishes"], got["subscribes"], got["reconnects"]))


if __name__ == "__main__":
    main([
        test_dealer_cannot_publish_under_another_dealer,
        test_dealer_cannot_read_another_dealer,
        test_dealer_publishes_own_uplink_to_hub_shared_subscription,
        test_client_without_certificate_or_from_another_ca_is_refused,
        test_depotctl_pki_refuses_what_it_must,
        test_a_dealer_certificate_never_disconnects_another_dealers_gateway,
        test_each_hub_instance_has_its_own_certificate_and_both_stay_connected,
        test_hub_rights_go_only_to_the_manufacturers_own_certificates,
        test_a_dealer_id_with_a_dot_is_enrolled_and_confined_to_its_topics,
        test_gateway_refuses_a_certificate_of_another_dealer,
        test_ten_thousand_attempts_on_another_dealers_topics_none_taken,
    ])
