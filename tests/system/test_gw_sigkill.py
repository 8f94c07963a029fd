"""The gateway SIGKILLed at random moments while scans and weights stream in:
nothing lost, nothing doubled, at the gateway and at the hub.

depot-node scanner and scale -> depot-gateway -> Mosquitto over mutual TLS ->
depot-hub, every part the real program. A feeder puts scans on the terminal
(goods in, and goods out once there is stock) and moves the scale's weight
while the gateway is killed with SIGKILL every 0.05 to 0.6 s (seeded:
DEPOT_SEED) and started again, DEPOT_GW_KILLS times (100). Then, once the
terminal's FIFO is empty and the hub has applied everything the gateway sent:

  gateway: every scan the terminal accepted is in the ledger once, the
           scanned SKU's stock and movements add up to receives - picks,
           the scale SKU's movements add up to its last count;
  hub:     the stream's every id applied once (applied_upto and applied
           both equal the gateway's last id), the same stock for both SKUs,
           and the picks counted once in the day's sales.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import Env, main, wait_for  # noqa: E402
from hubenv import api, stock_map, streams  # noqa: E402
from test_orders_e2e import BOLT, VIEWER, Deployment  # noqa: E402

KILLS = int(os.environ.get("DEPOT_GW_KILLS", "100"))
SCALE_SKU = "SKU-PUMP"


def test_gateway_killed_at_random_moments_loses_and_doubles_nothing():
    rng = random.Random(int(os.environ.get("DEPOT_SEED", "4242")))
    with Env("gw-sigkill") as env:
        dep = Deployment(env, tcp=[("scale-1", SCALE_SKU)], period_ms=100)
        wh = dep.wh["A"]
        receives = picks = kills = 0
        count = 0
        next_kill = time.monotonic() + rng.uniform(0.05, 0.6)
        next_weight = time.monotonic()
        deadline = time.monotonic() + 60 + KILLS * 2.0
        while kills < KILLS:
            assert time.monotonic() < deadline, "%d kills took too long" % kills
            pick = receives - picks > 2 and rng.random() < 0.3
            reply = wh.try_ctl("scan-1", "scan %s %s 1" % ("pick" if pick else "receive", BOLT))
            if reply.startswith("ok"):
                picks += pick
                receives += not pick
            else:
                assert reply == "error fifo full", reply
                wait_for(lambda: int(wh.status("scan-1")["count"]) < 32, timeout=30,
                         what="the terminal's FIFO draining")
            if time.monotonic() >= next_weight:  # a new load on the shelf, left to settle
                count = rng.randrange(0, 50)
                wh.weight("scale-1", count * 100)
                next_weight = time.monotonic() + rng.uniform(0.2, 0.8)
            if time.monotonic() >= next_kill:
                wh.gateway.kill()
                kills += 1
                wh.gateway.start()
                next_kill = time.monotonic() + rng.uniform(0.05, 0.6)
        scans = receives + picks
        wait_for(lambda: int(wh.status("scan-1")["count"]) == 0, timeout=60,
                 what="every scan acknowledged")
        wait_for(lambda: wh.ledger_qty(SCALE_SKU) == count, timeout=30,
                 what="the scale's last count (%d) in the ledger" % count)
        rows = wh.ledger_query("SELECT count(*), count(DISTINCT node || '/' || epoch || '/' || seq) "
                               "FROM scans")
        assert rows[0] == (scans, scans), (rows, scans)
        bolts = receives - picks
        assert wh.ledger_qty("SKU-BOLT") == bolts, (wh.ledger_qty("SKU-BOLT"), bolts)
        moves = wh.ledger_query("SELECT count(*), sum(delta) FROM movements WHERE sku = 'SKU-BOLT'")
        assert moves[0] == (scans, bolts), (moves, scans, bolts)
        weighed = wh.ledger_query("SELECT coalesce(sum(delta), 0) FROM movements WHERE sku = ?",
                                  (SCALE_SKU,))[0][0]
        assert weighed == count, (weighed, count)

        # The hub: every id of the stream once, and what the ledger holds.
        wait_for(lambda: wh.outbox_depth() == 0, timeout=60, what="the outbox acknowledged")
        last = wh.last_message_id()
        ledger = wh.ledger_id()
        s = streams(dep.http, VIEWER, "A")[ledger]
        assert s["applied_upto"] == last and s["applied"] == last, (s, last)
        hub = stock_map(dep.http, VIEWER, dealer="A")
        assert hub[("A", "SKU-BOLT")]["qty"] == bolts, (hub, bolts)
        assert hub[("A", SCALE_SKU)]["qty"] == count, (hub, count)

        def sold():
            h = api(dep.http, "/api/v1/history?dealer=A&sku=SKU-BOLT&days=2", VIEWER)
            return sum(units for _, units in h["sales"])
        wait_for(lambda: sold() == picks, timeout=60,
                 what="the hub's sales at the %d picks (%d)" % (picks, sold()))
        print("  %d scans (%d picks) and %d weights streamed, gateway SIGKILLed %d times: each "
              "scan in the ledger once, the stream's %d ids applied once at the hub "
              "(%d duplicates resent), stock and sales equal" %
              (scans, picks, len(wh.ledger_query("SELECT id FROM movements WHERE sku = ?",
                                                 (SCALE_SKU,))), kills, last,
               s["duplicates"]))


if __name__ == "__main__":
    main([test_gateway_killed_at_random_moments_loses_and_doubles_nothing])
