"""A hub whose certificate the broker refuses backs off instead of reconnecting in a loop.

The real Mosquitto over mutual TLS; the hub presents a certificate of another CA,
so every attempt fails in the TLS handshake, inside the network loop. Over a
window of about six seconds the broker may see only a handful of connections
(1 s doubling: about four), not hundreds, and the hub counts each refused attempt
in depot_hub_mqtt_connect_failures_total and logs one line per attempt.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import Env, main, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from hubenv import metrics, start_hub  # noqa: E402

WINDOW_S = 6.0
MOST = 8


def broker_connections(broker):
    return len(re.findall(r"New connection from", broker.log()))


def test_refused_hub_backs_off():
    with Env("e2e-hub-refused") as env:
        pki = make_pki(env, [])
        other = make_pki(env, [], name="pki-other")
        broker, port = start_broker(env, pki)
        refused = dict(pki, hub_cert=other["hub_cert"], hub_key=other["hub_key"])
        before = broker_connections(broker)
        t0 = time.monotonic()
        hub, http = start_hub(env, refused, port, wait_subscribed=False)
        wait_for(lambda: broker_connections(broker) > before, timeout=10,
                 what="the hub's first attempt at the broker")
        while time.monotonic() - t0 < WINDOW_S:  # an observation window, bounded
            time.sleep(0.2)
        n = broker_connections(broker) - before
        lines = len(re.findall(r"retry in", hub.log()))
        print("  %d connections in %.0f s, %d log lines" % (n, WINDOW_S, lines))
        assert 1 <= n <= MOST, n
        assert lines <= MOST + 1, lines
        failures = metrics(http).get("depot_hub_mqtt_connect_failures_total")
        assert failures is not None and 1 <= failures <= MOST, failures


if __name__ == "__main__":
    main([test_refused_hub_backs_off])
