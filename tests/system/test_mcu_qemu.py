"""The field-node firmware built for a Cortex-M3 (boards/lm3s6965evb), run
under qemu-system-arm -M lm3s6965evb and polled by the real depot-gateway
over Modbus RTU on the emulated UART0, joined to a pseudo-terminal.

  UART1 (a Unix socket) --weight/scan--> ARM firmware (QEMU) <--RTU 115200 8E1-- depot-gateway
      --> SQLite ledger --> Mosquitto over mutual TLS --> depot-hub --> HTTP API

The same images the README's size table describes (built by the host build
from the same tree with arm-none-eabi-gcc). Free ports, bounded polls; the
Env stops QEMU, the gateway, the hub and the broker, even on failure.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, main, run, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import UNIT_WEIGHT_G, start_warehouse  # noqa: E402
from hubenv import start_hub, stock_map  # noqa: E402
from qemunode import start_qemu_node  # noqa: E402

TOKEN = "viewer-token-mcu"
ADMIN = "admin-token-mcu"
BOLT = "4006381333931"
CATALOG = """sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
SKU-BOLT,%s,2.50,100,1,500,20,7,100000
""" % BOLT


def rtu_sections(node, name, kind, extra=""):
    bus = "rs485-" + name
    return ("[bus:%s]\ntype = rtu\ndevice = %s\nbaud = 115200\nparity = E\ntimeout_ms = 200\n"
            "[node:%s]\nbus = %s\nunit = 1\nkind = %s\n%s"
            % (bus, node.pty, name, bus, kind, extra))


def hub_qty(http, sku):
    return stock_map(http, TOKEN, dealer="A").get(("A", sku), {}).get("qty")


def check_node_health(node):
    """Every request the gateway sent was answered, none was garbled, and the stack's
    high-water mark (painted at reset) stays well inside the stack the linker script set."""
    st = node.status()
    used, size = int(st["stack_used"]), int(st["stack_size"])
    got = {k: node.counted(k) for k in ("requests", "replies", "bad_frames", "exceptions")}
    print("  %s: %s from the gateway, stack %d of %d bytes used" % (node.proc.name, got, used, size))
    assert got["requests"] > 0 and got["replies"] == got["requests"], got
    assert got["bad_frames"] == 0 and got["exceptions"] == 0, got
    assert 0 < used < size * 3 // 4, "stack high-water %d of %d" % (used, size)


def test_arm_scale_weight_reaches_ledger_and_hub():
    with Env("mcu-qemu-scale") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN})
        node = start_qemu_node(env, "scale")
        extra = rtu_sections(node, "arm-scale", "scale",
                             "sku = SKU-ARM\nunit_weight_g = %d\nperiod_ms = 200\n" % UNIT_WEIGHT_G)
        wh = start_warehouse(env, pki, port, "A", extra_gateway=extra)
        wh.controls["arm-scale"] = node.aux
        for units in (12, 7):
            wh.weight("arm-scale", units * UNIT_WEIGHT_G + 30)  # x.3 units: rounds to x
            wait_for(lambda: wh.ledger_qty("SKU-ARM") == units, timeout=20,
                     what="%d counted in the gateway's ledger" % units)
            wait_for(lambda: hub_qty(http, "SKU-ARM") == units, timeout=20,
                     what="%d at the hub" % units)
        # noise on the line: counted as a bad frame, nothing else happens, polling goes on
        os.write(node.hold, bytes(range(0x80, 0xA8)))
        wait_for(lambda: node.counted("bad_frames") >= 1, timeout=10,
                 what="the noise counted as a bad frame")
        answered = node.counted("replies")
        wait_for(lambda: node.counted("replies") >= answered + 2, timeout=10,
                 what="the gateway's polls answered again after the noise")
        node.baseline["bad_frames"] = node.status()["bad_frames"]
        # hostile service-line input: refused with a reason, the node unchanged
        assert wh.try_ctl("arm-scale", "weight " + "9" * 200) == "error line too long"
        assert wh.try_ctl("arm-scale", "weight 99999999999") == "error usage: weight GRAMS"
        assert wh.try_ctl("arm-scale", "tare") == "error unknown command"
        assert node.status()["weight"] == str(7 * UNIT_WEIGHT_G + 30)
        # a failed load cell is a fault at the gateway, and the node comes back from it
        wh.ctl("arm-scale", "fault cell")
        wait_for(lambda: "arm-scale" in wh.gateway.log() and "fault" in wh.gateway.log(),
                 timeout=20, what="the gateway logging the cell fault")
        wh.ctl("arm-scale", "fault none")
        wh.weight("arm-scale", 4 * UNIT_WEIGHT_G)
        wait_for(lambda: hub_qty(http, "SKU-ARM") == 4, timeout=30, what="4 at the hub")
        check_node_health(node)
        # a new unit id from the service line: the gateway's requests for unit 1 are now
        # another node's (counted, not answered)
        assert wh.try_ctl("arm-scale", "unit 248") == "error usage: unit 1..247"
        assert wh.ctl("arm-scale", "unit 2") == "ok"
        wait_for(lambda: node.counted("other_unit") >= 2, timeout=10,
                 what="unit 1's requests ignored by the node now at unit 2")
        assert node.status()["unit"] == "2"


def test_arm_scanner_scan_becomes_movement_and_display_reads_back():
    with Env("mcu-qemu-scanner") as env:
        pki = make_pki(env, ["A"])
        broker, port = start_broker(env, pki)
        hub, http = start_hub(env, pki, port, tokens={"viewer": TOKEN, "admin": ADMIN})
        csv = env.path("catalog.csv")
        with open(csv, "w") as f:
            f.write(CATALOG)
        run([os.path.join(BIN, "depotctl"), "catalog", "import", csv,
             "--hub", "http://127.0.0.1:%d" % http, "--token", ADMIN])
        node = start_qemu_node(env, "scanner")
        wh = start_warehouse(env, pki, port, "A",
                             extra_gateway=rtu_sections(node, "arm-scan", "scanner",
                                                        "period_ms = 100\n"))
        wh.controls["arm-scan"] = node.aux
        wait_for(lambda: wh.ledger_query("SELECT count(*) FROM catalog")[0][0] == 1,
                 timeout=20, what="the catalog in the ledger")
        assert wh.ctl("arm-scan", "scan receive %s 110" % BOLT) == "ok 1"
        wait_for(lambda: wh.display("arm-scan") == (2, "IN SKU-BOLT +110"), timeout=10,
                 what="IN SKU-BOLT +110 on the ARM terminal's display")
        assert wh.ctl("arm-scan", "scan pick %s 3" % BOLT) == "ok 2"
        wait_for(lambda: wh.display("arm-scan")[1] == "OUT SKU-BOLT -3", timeout=10,
                 what="OUT SKU-BOLT -3 on the display")
        assert wh.ledger_query("SELECT kind, delta FROM movements ORDER BY id") == [
            ("receive", 110), ("pick", -3)]
        wait_for(lambda: hub_qty(http, "SKU-BOLT") == 107, timeout=20, what="107 at the hub")
        # an unknown code is refused on the display, and nothing moves
        assert wh.ctl("arm-scan", "scan pick 999999 1") == "ok 3"
        wait_for(lambda: "UNKNOWN" in wh.display("arm-scan")[1], timeout=10,
                 what="the unknown code refused on the display")
        assert wh.ledger_qty("SKU-BOLT") == 107
        # a barcode reader sends the bare code: one item of the terminal's mode
        assert wh.ctl("arm-scan", "mode receive") == "ok"
        assert wh.ctl("arm-scan", BOLT) == "ok 4"
        wait_for(lambda: wh.display("arm-scan") == (2, "IN SKU-BOLT +1"), timeout=10,
                 what="IN SKU-BOLT +1 on the display")
        assert wh.ledger_qty("SKU-BOLT") == 108
        assert wh.try_ctl("arm-scan", "mode sell") == "error usage: mode receive|pick|count|line"
        st = node.status()
        assert st["count"] == "0" and st["refused"] == "0" and st["mode"] == "receive", st
        check_node_health(node)


if __name__ == "__main__":
    main([test_arm_scale_weight_reaches_ledger_and_hub,
          test_arm_scanner_scan_becomes_movement_and_display_reads_back])
