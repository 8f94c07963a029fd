"""Mosquitto SIGKILLed again and again under 1,000 QoS 1 messages per second:
nothing lost, nothing doubled, per dealer.

Every part is the real program: Mosquitto with the config `depotctl
broker-config` writes (persistence on, autosave every 60 s: a SIGKILL loses
what the broker held in memory, its queues and in-flight messages), depot-hub
on SQLite, and two kinds of senders over mutual TLS:

  - tests/bench/dealer_load playing 20 dealers, each its own certificate,
    connection and ledger, together 1,000 stock messages per second plus a
    movements batch (a pick, chained) every 500 ms and a signed order every
    2 s per dealer; each forgets a message only when the hub's down/ack
    covers it, and after a reconnect resends at once what is unacknowledged;
  - one real depot-gateway (dealer G) with a scanner terminal and a scale, its
    feeder putting goods-in and goods-out scans on the terminal, moving the
    scale's weight and submitting signed orders from the terminal all along.

The broker is SIGKILLed every DEPOT_BROKER_KILL_EVERY_S seconds (5) during
DEPOT_BROKER_KILL_S seconds of traffic (20), each time started again at once
on the same port with the same config and persistence folder. The hub is
paused (SIGSTOP) 0.4 s before each kill and resumed once the broker is back,
as a hub busy catching up would be: so at every kill the broker holds a queue
of messages it has acknowledged to their senders (PUBACK) and not delivered,
and loses it; only the senders' resends of what the hub has not acknowledged
bring them back (the test requires such lost copies, resent - duplicates > 0). Then, per
dealer at the hub: every id of its stream applied once (applied_upto and
applied equal to what was sent, dealer_load's check; the gateway's last id
for G), its orders there once each, its picks counted once in the day's
sales; for G also the same stock as its ledger and its outbox empty, freed
by the hub's acks alone. Figures: messages sent, resent, reconnects, kills,
the duplicates the hub dropped, and how long the broker was away.

    DEPOT_BROKER_KILL_S=300 DEPOT_BROKER_KILL_EVERY_S=30 \\
        python3 tests/system/test_broker_kills.py            # the long run, 5 minutes
"""
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, TESTBIN, Env, main, port_open, run, wait_for  # noqa: E402
from broker import make_pki, start_broker, wait_broker  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from hubenv import api, health, set_dealer, start_hub, stock_map, streams  # noqa: E402
from test_gw_metrics_e2e import parse_metrics  # noqa: E402

SECONDS = int(os.environ.get("DEPOT_BROKER_KILL_S", "20"))
EVERY = float(os.environ.get("DEPOT_BROKER_KILL_EVERY_S", "5"))
DEALERS = 20
STOCK_EVERY_MS = 20  # 20 dealers x 50/s = 1,000 stock messages per second
ADMIN = "admin-token-kills"
BOLT = "4006381333931"
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,%s,2.50,100,1,500,20,7,100000
""" % BOLT
SCALE_SKU = "SKU-PUMP"
PAUSE_S = 0.4  # the hub stopped before each kill, so that the broker holds a queue for it


def kv(line):
    return dict(tok.split("=", 1) for tok in line.split() if "=" in tok)


def loader_result(proc):
    lines = [ln for ln in proc.out().splitlines() if ln.startswith("dealers=")]
    assert lines, "dealer_load printed no result:\n%s\n%s" % (proc.out()[-2000:],
                                                                proc.log()[-3000:])
    return kv(lines[-1])


def test_broker_sigkilled_under_load_loses_and_doubles_nothing():
    rng = random.Random(int(os.environ.get("DEPOT_SEED", "1111")))
    with Env("broker-kills") as env:
        pki = make_pki(env, ["G"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"admin": ("admin", ADMIN)},
                              log_level="info")
        csv = env.path("catalog.csv")
        with open(csv, "w") as f:
            f.write(CATALOG)
        run([os.path.join(BIN, "depotctl"), "catalog", "import", csv,
             "--hub", "http://127.0.0.1:%d" % http, "--token", ADMIN])
        set_dealer(http, ADMIN, "G", credit_limit="100000.00", auto_approve_limit="500.00")
        prom = env.path("wh-G", "gateway.prom")
        wh = start_warehouse(env, pki, port, "G", tcp=[("scale-1", SCALE_SKU)], period_ms=100,
                             scanners=["scan-1"], resend_s=2,
                             extra_gateway="[gateway]\nmetrics_file = %s\n" % prom)
        wait_for(lambda: wh.ledger_query("SELECT count(*) FROM catalog")[0][0] == 1, timeout=20,
                 what="the catalog in G's ledger")
        loader = env.start("dealer_load", [
            os.path.join(TESTBIN, "dealer_load"), "--port", port, "--ca", pki["ca"],
            "--pki", pki["dir"], "--certs", env.path("certs"), "--http", http, "--token", ADMIN,
            "--dealers", DEALERS, "--seconds", SECONDS, "--stock-every-ms", STOCK_EVERY_MS,
            "--move-every-ms", 500, "--order-every-ms", 2000, "--window", 500, "--resend-s", 2,
            "--drain-s", 120, "--connect-rate", 100])
        # The traffic has begun once the hub knows the first dealer's stream.
        wait_for(lambda: api(http, "/api/v1/dealers/L00000/streams", ADMIN), timeout=60,
                 what="dealer_load's first messages at the hub")
        t0 = time.monotonic()
        kills, away, receives, picks, count, submitted, events = 0, [], 0, 0, 0, 0, 0
        next_kill = t0 + EVERY / 2
        next_weight = next_order = t0
        paused = False
        while time.monotonic() < t0 + SECONDS - 1:
            assert loader.alive(), "dealer_load exited:\n" + loader.log()[-3000:]
            now = time.monotonic()
            if not paused and now >= next_kill - PAUSE_S:
                hub.p.send_signal(signal.SIGSTOP)  # the broker queues what the hub cannot take
                paused = True
            if now >= next_kill:
                broker.kill()
                k0 = time.monotonic()
                broker.start()  # same port, config and persistence folder
                wait_broker(broker, port)
                away.append(time.monotonic() - k0)
                hub.p.send_signal(signal.SIGCONT)
                paused = False
                kills += 1
                next_kill += EVERY
            # G's terminal and scale, a scan about every 30 ms (the terminal's FIFO holds 32).
            pick = receives - picks > 2 and rng.random() < 0.3
            reply = wh.try_ctl("scan-1", "scan %s %s 1" % ("pick" if pick else "receive", BOLT))
            if reply.startswith("ok"):
                picks += pick
                receives += not pick
                events += 1
            else:
                assert reply == "error fifo full", reply
            if now >= next_weight:
                count = rng.randrange(0, 50)
                wh.weight("scale-1", count * 100)
                next_weight = now + rng.uniform(0.3, 1.0)
            if now >= next_order and wh.try_ctl("scan-1", "scan line %s 2" % BOLT).startswith("ok"):
                events += 1
                if wh.try_ctl("scan-1", "submit").startswith("ok"):
                    submitted += 1
                    events += 1
                next_order = now + 1.0
            time.sleep(0.03)  # the feeder's pace, not a wait for a condition
        traffic = time.monotonic() - t0
        wait_for(lambda: not loader.alive(), timeout=240, interval=0.5,
                 what="dealer_load's drain and check")
        res = loader_result(loader)
        assert loader.p.returncode == 0, (res, loader.log()[-3000:])

        # dealer_load's own check, per dealer through the hub's API.
        for key in ("lost", "doubled", "orders_missing", "orders_doubled", "movements_wrong"):
            assert res[key] == "0", (key, res)
        assert int(res["connected"]) == DEALERS, res
        assert int(res["reconnects"]) >= DEALERS * kills, res  # every kill broke every link
        loader_dups = sum(s["duplicates"] for d in range(DEALERS)
                          for s in streams(http, ADMIN, "L%05d" % d).values())
        # Copies sent (sent + resent) = copies applied (sent, each once) + duplicates + copies
        # the broker lost: acknowledged to the dealer or in flight when it was killed.
        lost_copies = int(res["resent"]) - loader_dups
        assert lost_copies > 0, (res, loader_dups)  # the kills did cost messages

        # G: every scan once in the ledger, the stream applied once at the hub, the outbox
        # emptied by the hub's acks, the same stock, sales and orders.
        scans = receives + picks
        wait_for(lambda: int(wh.status("scan-1")["count"]) == 0, timeout=60,
                 what="every scan taken by the gateway")
        wait_for(lambda: wh.ledger_qty(SCALE_SKU) == count, timeout=30,
                 what="the scale's last count (%d) in the ledger" % count)
        rows = wh.ledger_query("SELECT count(*), count(DISTINCT node || '/' || epoch || '/' || "
                               "seq) FROM scans")
        assert rows[0] == (events, events), (rows, events)
        wait_for(lambda: wh.outbox_depth() == 0, timeout=60, what="G's outbox acknowledged")
        last, ledger = wh.last_message_id(), wh.ledger_id()
        s = streams(http, ADMIN, "G")[ledger]
        assert s["applied_upto"] == last and s["applied"] == last, (s, last)
        bolts = receives - picks  # orders do not move stock
        hub_stock = stock_map(http, ADMIN, dealer="G")
        assert hub_stock[("G", "SKU-BOLT")]["qty"] == bolts == wh.ledger_qty("SKU-BOLT"), (
            hub_stock, bolts, wh.ledger_qty("SKU-BOLT"))
        assert hub_stock[("G", SCALE_SKU)]["qty"] == count, (hub_stock, count)

        def sold():
            h = api(http, "/api/v1/history?dealer=G&sku=SKU-BOLT&days=2", ADMIN)
            return sum(units for _, units in h["sales"])
        wait_for(lambda: sold() == picks, timeout=60,
                 what="the hub's sales at the %d picks (%d)" % (picks, sold()))
        numbers = sorted(n for (n,) in wh.ledger_query("SELECT number FROM orders"))
        assert len(numbers) == submitted, (numbers, submitted)
        hub_numbers = sorted(o["number"] for o in api(http, "/api/v1/orders?dealer=G", ADMIN))
        assert hub_numbers == numbers, (hub_numbers, numbers)
        assert health(http)["mqtt"] == "subscribed"
        assert port_open(port)
        wh.gateway.stop()  # writes the metrics file at exit
        gw_resent = parse_metrics(prom)["depot_gw_messages_resent_total"]

        print("  broker SIGKILLed %d times in %.0f s of traffic (every %.0f s), away %.2f s at "
              "most (%.2f s on average)" % (kills, traffic, EVERY, max(away),
                                            sum(away) / len(away)))
        print("  dealer_load, %d dealers: %s messages sent at %s (%s stock, %s movements "
              "batches, %s signed orders), %s resent, %s reconnects: 0 lost, 0 doubled, "
              "orders 0 missing, 0 doubled, picks counted once; %d copies lost with the broker "
              "came again, %d duplicates dropped by the hub"
              % (DEALERS, res["sent"], res["rate"],
                 int(res["sent"]) - int(res["movements"]) - int(res["orders"]),
                 res["movements"], res["orders"], res["resent"], res["reconnects"], lost_copies,
                 loader_dups))
        print("  gateway G: %d scans (%d picks), %d weights, %d signed orders; its %d stream ids "
              "applied once at the hub (%d resent: %d copies lost with the broker came again, "
              "%d duplicates dropped), outbox emptied by the hub's acks, stock, sales and orders "
              "equal" % (scans, picks, len(wh.ledger_query("SELECT id FROM movements WHERE sku = ?",
                                                           (SCALE_SKU,))), submitted, last,
                         gw_resent, gw_resent - s["duplicates"], s["duplicates"]))


if __name__ == "__main__":
    main([test_broker_sigkilled_under_load_loses_and_doubles_nothing])
