"""The gateway polling 50 nodes for a long time: no leak, no growth.

50 depot-node scales over Modbus TCP, each polled every 20 ms by one
depot-gateway (its metrics file counting the polls), weights moving now and
then so that movements, the outbox and acks keep turning, through Mosquitto
to a hub. After a warm-up of a fifth of the polls the gateway's resident
memory (VmRSS) is sampled every second until DEPOT_GW_POLLS polls (50,000 in
the suite; 1,000,000 in the long run) are done; then the gateway is stopped
and, in the sanitizer build, LeakSanitizer reports at its exit (the Env fails
the test on any report). Figures: polls, polls per second, faults (0),
resident memory at warm-up and at the end. The long run (1,000,000 polls,
normal build) also requires the growth after warm-up to stay under 1 %; the
suite's short run prints it (the ledger and SQLite's page cache still grow
in its first minute), and in the sanitizer build the allocator's quarantine
grows by design, so only the leak check counts there.

    DEPOT_GW_POLLS=1000000 python3 tests/system/test_gw_long_run.py   # about 10 minutes
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, main, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from hubenv import start_hub  # noqa: E402
from test_gw_metrics_e2e import gateway_ini, parse_metrics  # noqa: E402

POLLS = int(os.environ.get("DEPOT_GW_POLLS", "50000"))
NODES = 50


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def sanitized():
    with open(os.path.join(BIN, "depot-gateway"), "rb") as f:
        return b"__asan_init" in f.read()


def test_gateway_polls_50_nodes_without_leak_or_growth():
    with Env("gw-long") as env:
        pki = make_pki(env, ["A"])
        _, port = start_broker(env, pki)
        start_hub(env, pki, port, tokens={"viewer": "viewer-token-long"})
        nodes = [("scale-%02d" % i, "SKU-%02d" % i) for i in range(NODES)]
        wh = start_warehouse(env, pki, port, "A", tcp=nodes, period_ms=20,
                             extra_gateway=gateway_ini(env.path("wh-A")))
        prom = os.path.join(wh.dir, "gateway.prom")
        started = time.monotonic()  # the metrics file is written every 10 s

        def figures():
            if not os.path.exists(prom):
                return 0, 0
            m = parse_metrics(prom)
            return (sum(v for k, v in m.items() if k.startswith("depot_gw_polls_total")),
                    sum(v for k, v in m.items() if k.startswith("depot_gw_faults_total")))

        pid = wh.gateway.p.pid
        limit = 120 + POLLS / 200.0  # a poll rate 10 x below the usual still finishes
        wait_for(lambda: figures()[0] >= POLLS // 5, timeout=limit, what="the warm-up polls")
        rss0 = rss_kib(pid)
        deadline = time.monotonic() + limit
        samples, step = [], 0
        while figures()[0] < POLLS:
            assert time.monotonic() < deadline, "%d polls of %d" % (figures()[0], POLLS)
            assert wh.gateway.alive(), "the gateway exited"
            step += 1
            name = nodes[step % NODES][0]
            wh.weight(name, 100 * (step % 30))  # a movement now and then
            samples.append(rss_kib(pid))
            time.sleep(1.0)  # the sampling period, not a wait for a condition
        polls, faults = figures()
        rate = polls / (time.monotonic() - started)
        rss1 = rss_kib(pid)
        wh.gateway.stop()  # LeakSanitizer reports at exit in the sanitizer build
        growth = (rss1 - rss0) * 100.0 / rss0
        print("  %d nodes, %d polls (%.0f/s), %d faults; gateway resident %d KiB after warm-up, "
              "%d KiB at the end (%+.2f %%), peak %d KiB%s" %
              (NODES, polls, rate, faults, rss0, rss1, growth, max(samples + [rss1]),
               "; sanitizer build: the leak check counts" if sanitized() else ""))
        assert faults == 0, faults
        if not sanitized() and POLLS >= 1000000:  # the target is the long run's
            assert growth < 1.0, "resident memory grew %.2f %% after warm-up" % growth


if __name__ == "__main__":
    main([test_gateway_polls_50_nodes_without_leak_or_growth])
