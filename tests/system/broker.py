"""Certificates and a real Mosquitto broker for Depot's system tests.

Everything goes through the project's own tools: depotctl makes the CA, the
broker's and the hub's certificates and signs each dealer's CSR; the gateway's
`keygen` subcommand makes each dealer's key and CSR. The broker
is Debian's /usr/sbin/mosquitto with the config `depotctl broker-config`
writes, listening with mutual TLS on a free port of 127.0.0.1. Clients are
mosquitto_pub / mosquitto_sub speaking MQTT v5.

The broker knows a client by its certificate's CN, also as its client id, so
two connections with one certificate take each other's place. The hub process
has the certificate "hub"; hub_identity() hands each caller another
certificate with the hub's rights ("hub-obs-N"), so a test's observers never
knock the hub (or each other) off. A dealer's certificate is one connection
at a time, like the real gateway's.

Every process is started through the test's Env, so leaving the `with` block
stops it; every wait is a bounded poll.

    with Env("acl") as env:
        pki = make_pki(env, ["A", "B"])
        broker, port = start_broker(env, pki)
        sub = mqtt_sub(env, pki, port, ["depot/v1/A/up/#"], *hub_identity(pki))
        r = mqtt_pub(pki, port, "depot/v1/A/up/x", "hi", *dealer_identity(pki, "A"))
        sub.wait_message(lambda t, p: p == "hi")
"""
import os
import time

from harness import BIN, free_port, port_open, run, wait_for

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PUB = "mosquitto_pub"
MOSQUITTO_SUB = "mosquitto_sub"


def depotctl(*args, check=True):
    """Run depotctl with args; CompletedProcess (AssertionError if check and it fails)."""
    return run([os.path.join(BIN, "depotctl")] + list(args), check=check)


def keygen_argv():
    """argv prefix for `depot-gateway keygen`."""
    return [os.path.join(BIN, "depot-gateway"), "keygen"]


def gateway_keygen(dealer, key, csr, check=True):
    """Make a dealer's key and CSR as the gateway does; CompletedProcess."""
    return run(keygen_argv() + ["--dealer", dealer, "--key", key, "--csr", csr], check=check)


def make_ca(env, name="pki"):
    """A CA in env/<name> made with depotctl pki ca; returns its folder."""
    d = env.path(name)
    depotctl("pki", "ca", "--dir", d)
    return d


def enroll_dealer(env, pki_dir, dealer):
    """Keygen on the 'gateway' (env/gw-<dealer>), then depotctl pki sign; dict key/csr/crt."""
    gw = env.path("gw-" + dealer)
    os.makedirs(gw, exist_ok=True)
    d = {"key": os.path.join(gw, "gateway.key"), "csr": os.path.join(gw, "gateway.csr"),
         "crt": os.path.join(gw, "gateway.crt")}
    gateway_keygen(dealer, d["key"], d["csr"])
    depotctl("pki", "sign", "--dir", pki_dir, "--csr", d["csr"], "--dealer", dealer,
             "--out", d["crt"])
    return d


def make_pki(env, dealers=(), name="pki", hub_user="hub", hubs=(), observers=4):
    """The whole PKI of a deployment in env/<name>.

    Returns a dict of paths: dir, ca and ca_key (the server CA), device_ca and
    device_ca_key (the device CA, issuing every client certificate), crl (its
    revocation list), broker_cert, broker_key, hub_cert,
    hub_key, hub_user, hubs (every name with the hub's rights: hub_user, the
    extra hub instances given in hubs, and the observers), and dealers:
    {id: {key, csr, crt}} (each dealer's key and CSR made by the gateway's
    keygen in env/gw-<id>, its certificate signed by depotctl pki sign).
    Each name in hubs (e.g. "hub-2") is another hub instance's certificate:
    (cert, key) = hub_instance(pki, name).
    """
    d = make_ca(env, name)
    depotctl("pki", "server", "--dir", d, "--name", "broker")
    obs = ["%s-obs-%d" % (hub_user, i + 1) for i in range(observers)]
    for h in [hub_user] + list(hubs) + obs:
        depotctl("pki", "client", "--dir", d, "--name", h)
    pki = {
        "dir": d,
        "ca": os.path.join(d, "ca.crt"),
        "ca_key": os.path.join(d, "ca.key"),
        "device_ca": os.path.join(d, "devices-ca.crt"),
        "device_ca_key": os.path.join(d, "devices-ca.key"),
        "crl": os.path.join(d, "devices.crl"),
        "broker_cert": os.path.join(d, "broker.crt"),
        "broker_key": os.path.join(d, "broker.key"),
        "hub_cert": os.path.join(d, hub_user + ".crt"),
        "hub_key": os.path.join(d, hub_user + ".key"),
        "hub_user": hub_user,
        "hubs": [hub_user] + list(hubs) + obs,
        "observers": obs,
        "observers_used": 0,
        "dealers": {},
    }
    for dealer in dealers:
        pki["dealers"][dealer] = enroll_dealer(env, d, dealer)
    return pki


def hub_instance(pki, name):
    """(cert, key) of the hub instance certificate name (hub_user or one of make_pki's hubs)."""
    assert name in pki["hubs"], name
    return os.path.join(pki["dir"], name + ".crt"), os.path.join(pki["dir"], name + ".key")


def hub_identity(pki):
    """(cert, key) of a certificate with the hub's rights that no other client uses: a new
    one at every call (make_pki(observers=N) makes N)."""
    used = pki["observers_used"]
    assert used < len(pki["observers"]), "make_pki(observers=%d) made too few" % used
    pki["observers_used"] = used + 1
    return hub_instance(pki, pki["observers"][used])


def dealer_identity(pki, dealer):
    """(cert, key) of a dealer's gateway certificate."""
    return pki["dealers"][dealer]["crt"], pki["dealers"][dealer]["key"]


def wait_broker(proc, port, timeout=10.0):
    """Bounded poll until the broker's TLS port accepts connections (fails fast if it exited)."""
    def up():
        if not proc.alive():
            raise AssertionError("mosquitto exited:\n" + proc.log()[-3000:])
        return port_open(port)
    wait_for(up, timeout=timeout, what="mosquitto on 127.0.0.1:%d" % port)


def start_broker(env, pki, port=None, name="broker", timeout=10.0):
    """Write the config with depotctl broker-config into env/<name> and start mosquitto.

    Returns (proc, port); proc is the harness Proc (its log is mosquitto's stderr).
    """
    port = port or free_port()
    out = env.path(name)
    hubs = []
    for h in pki["hubs"]:
        hubs += ["--hub", h]
    depotctl("broker-config", "--dir", pki["dir"], "--port", str(port), "--out", out, *hubs)
    proc = env.start(name, [MOSQUITTO, "-c", os.path.join(out, "mosquitto.conf")])
    wait_broker(proc, port, timeout)
    return proc, port


def stop_broker(proc):
    """Stop the broker (SIGTERM, so it saves its persistence file); returns its exit code."""
    return proc.stop()


def restart_broker(proc, port, timeout=10.0):
    """Stop and start the same broker (same config, same persistence folder)."""
    proc.stop()
    wait_for(lambda: not port_open(port), timeout=timeout, what="port %d to close" % port)
    proc.start()
    wait_broker(proc, port, timeout)


def tls_args(pki, port, cert=None, key=None, cafile=None):
    """Common mosquitto_pub/sub arguments: v5, 127.0.0.1, the CA, and an identity if given."""
    a = ["-V", "5", "-h", "127.0.0.1", "-p", str(port), "--cafile", cafile or pki["ca"]]
    if cert:
        a += ["--cert", cert, "--key", key]
    return a


def mqtt_pub(pki, port, topic, message, cert=None, key=None, qos=1, retain=False, extra=(),
             timeout=15):
    """Publish one message with mosquitto_pub -d; CompletedProcess (never raises on failure).

    Use pub_refused(r) to see whether the broker refused it (v5 reason code).
    """
    argv = [MOSQUITTO_PUB] + tls_args(pki, port, cert, key) + [
        "-d", "-q", str(qos), "-t", topic, "-m", message] + list(extra)
    if retain:
        argv.append("-r")
    return run(argv, check=False, timeout=timeout)


def pub_refused(r):
    """True if mosquitto_pub reports that the broker refused the publish as not authorized
    (PUBACK reason code 135 / 0x87)."""
    return "RC:135" in r.stdout or "Not authorized" in r.stderr


def pub_accepted(r):
    """True if mosquitto_pub got a PUBACK with reason code 0 (or 16, no matching subscribers)."""
    return r.returncode == 0 and ("RC:0)" in r.stdout or "RC:16)" in r.stdout)


class Subscriber:
    """A mosquitto_sub process (owned by the Env) and the messages it printed."""

    def __init__(self, proc):
        self.proc = proc

    def ready(self):
        """True once the broker answered the SUBSCRIBE."""
        return "received SUBACK" in self.proc.out()

    def messages(self):
        """[(topic, payload)] received so far, in order."""
        out = []
        for line in self.proc.out().splitlines():
            if line.startswith("MSG "):
                topic, _, payload = line[4:].partition(" ")
                out.append((topic, payload))
        return out

    def wait_message(self, match, timeout=10.0):
        """Bounded poll until a message with match(topic, payload) true arrives; returns it."""
        def found():
            for m in self.messages():
                if match(*m):
                    return m
            if not self.proc.alive():
                raise AssertionError("mosquitto_sub exited:\n%s\n%s" % (self.proc.out()[-2000:],
                                                                      self.proc.log()[-2000:]))
            return None
        return wait_for(found, timeout=timeout, what="an MQTT message")

    def stop(self):
        return self.proc.stop()


def mqtt_sub(env, pki, port, topics, cert=None, key=None, name=None, qos=1, extra=(),
             timeout=10.0, wait_ready=True):
    """Start mosquitto_sub on topics (a list) and, by default, wait for its SUBACK.

    Returns a Subscriber; every message is printed as a line "MSG <topic> <payload>".
    """
    name = name or "sub-%d" % int(time.monotonic() * 1e6)
    # stdbuf: mosquitto_sub's stdout is a file here, so without line buffering its
    # SUBACK line and messages would sit in a stdio buffer.
    argv = ["stdbuf", "-oL", MOSQUITTO_SUB] + tls_args(pki, port, cert, key) + [
        "-d", "-q", str(qos), "-F", "MSG %t %p"]
    for t in topics:
        argv += ["-t", t]
    sub = Subscriber(env.start(name, argv + list(extra)))
    if wait_ready:
        def ready():
            if not sub.proc.alive():
                raise AssertionError("mosquitto_sub exited:\n%s\n%s" % (sub.proc.out(),
                                                                      sub.proc.log()))
            return sub.ready()
        wait_for(ready, timeout=timeout, what="SUBACK for %s" % topics)
    return sub
