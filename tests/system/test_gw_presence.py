"""Presence: a live gateway never looks offline, however quiet its shelves.

A gateway whose stock does not change sends nothing in the stream, and its
snapshot comes only every snapshot_period_s (here an hour). It publishes its
retained online state again every heartbeat_s, which the hub takes as heard
from: over several of the hub's offline_after_s windows the dealer stays
online at every look, with no gateway_offline alert; SIGKILLed, the gateway's
last will (or its silence) makes it offline within a bounded wait.
Real depot-node, depot-gateway, Mosquitto over mutual TLS and depot-hub.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import Env, main, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from hubenv import api, dealers, start_hub  # noqa: E402

VIEWER = "viewer-token-presence"
TOKENS = {"viewer": ("viewer", VIEWER)}
OFFLINE_AFTER_S = 4
WINDOWS = 3


def test_quiet_gateway_stays_online_and_goes_offline_when_killed():
    with Env("e2e-presence") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens=TOKENS, offline_after_s=OFFLINE_AFTER_S)
        wh = start_warehouse(env, pki, port, "A", tcp=[("scale-1", "SKU-BOLT")],
                             snapshot_period_s=3600,
                             extra_gateway="[gateway]\nheartbeat_s = 1\n")
        wait_for(lambda: dealers(http, VIEWER).get("A", {}).get("online"), timeout=20,
                 what="A online")
        # Look every 0.5 s for WINDOWS x offline_after_s: online every time. Bounded by count.
        looks = int(WINDOWS * OFFLINE_AFTER_S / 0.5)
        for i in range(looks):
            a = dealers(http, VIEWER)["A"]
            assert a["online"] is True, (i, a)
            assert a["age_s"] <= OFFLINE_AFTER_S, (i, a)
            time.sleep(0.5)  # the pace of the looks, not a wait for a condition
        offline = [x for x in api(http, "/api/v1/alerts?kind=gateway_offline", VIEWER)
                   if x["dealer"] == "A"]
        assert offline == [], offline
        wh.gateway.kill()
        wait_for(lambda: dealers(http, VIEWER)["A"]["online"] is False,
                 timeout=OFFLINE_AFTER_S + 20, what="A offline after its gateway was killed")


if __name__ == "__main__":
    main([test_quiet_gateway_stays_online_and_goes_offline_when_killed])
