"""An RTU line survives what happens to real lines: a gateway crash and a device that
goes away and comes back.

Real depot-node scales on a pseudo-terminal line (the host board), 8E1 as in
gateway.ini.example and the demo, the real depot-gateway, Mosquitto over TLS:
  - the gateway SIGKILLed and started again polls the even-parity line again
    (a pty keeps what a killed master set, and the kernel drops PARENB: the
    next 8E1 connect failed with EINVAL until the host board's line put itself
    back to raw);
  - the node process restarted on the same --link (a new pseudo-terminal, as a
    replugged USB adapter is a new device): the gateway closes the dead line
    after failed exchanges, opens it again, counts resume, and the reopen is
    counted in the metrics file.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))

from harness import Env, main, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402


def reopens(path):
    try:
        with open(path) as f:
            m = re.search(r'^depot_gw_line_reopens_total\{node="rtu-1"\} (\d+)', f.read(), re.M)
    except OSError:
        return 0
    return int(m.group(1)) if m else 0


def test_even_parity_line_survives_gateway_kill_and_node_restart():
    with Env("e2e-rtu-line") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        metrics = env.path("gw-metrics.prom")
        wh = start_warehouse(env, pki, port, "A", rtu=[("rtu-1", 1, "SKU-R")], parity="E",
                             period_ms=200, extra_gateway="[gateway]\nmetrics_file = %s\n" % metrics)
        wh.weight("rtu-1", 3 * UNIT_WEIGHT_G)
        wait_for(lambda: wh.ledger_qty("SKU-R") == 3, timeout=20, what="3 counted over 8E1")

        wh.gateway.kill()
        wh.gateway.start()
        wh.weight("rtu-1", 5 * UNIT_WEIGHT_G)
        wait_for(lambda: wh.ledger_qty("SKU-R") == 5, timeout=30,
                 what="5 counted after the gateway was SIGKILLed and started again")

        node = wh.nodes[0]
        node.stop()
        node.start()
        wait_for(lambda: node.out().count("ready") >= 2, timeout=10, what="the node back")
        wh.weight("rtu-1", 7 * UNIT_WEIGHT_G)
        wait_for(lambda: wh.ledger_qty("SKU-R") == 7, timeout=40,
                 what="7 counted after the node came back on a new pseudo-terminal")
        wait_for(lambda: reopens(metrics) >= 1, timeout=20, what="the reopen counted")
        assert "closing" in wh.gateway.log(), wh.gateway.log()[-2000:]


if __name__ == "__main__":
    main([test_even_parity_line_survives_gateway_kill_and_node_restart])
