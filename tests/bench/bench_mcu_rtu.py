#!/usr/bin/python3
"""Benchmark: the Cortex-M firmware's Modbus RTU round trip under QEMU, beside
the RS-485 line's own limit, and the images' sizes against the node budget.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_mcu_rtu.py --seconds 10 --registers 10

Set-up: the scale image of boards/lm3s6965evb (the host build's
build/boards/lm3s6965evb/bin/depot-scale.elf) under qemu-system-arm -M
lm3s6965evb, its UART0 on a pseudo-terminal (tests/system/qemunode.py);
tests/bench/modbus_bare_loop reads --registers input registers flat out
(--period-ms 0: the next request as soon as the reply is in, after the
3.5-character silence) for --seconds. Beside it in the same run, the same
loop against the host board's node (depot-node --rtu), whose line paces every
byte at the baud rate as a real UART does.

The line's limit: one transaction is the request (8 bytes) and the reply
(5 + 2 x registers bytes) at 11 bits a character, plus two silences of 3.5
characters (1.75 ms above 19,200 baud): the node's before it answers, the
master's before its next request. 10 registers at 115,200 baud: 6.65 ms,
150 transactions a second. QEMU's UART does not pace bytes at the baud rate,
so the emulated node can beat the line: its figure is the firmware's own
turnaround (the 1.75 ms silence, on a 1 ms tick) plus libmodbus's.

Printed: the size of every board's images (from the build's size reports),
transactions per second and the mean round trip for the ARM node under QEMU,
the host board's node, and the line's limit, with the ratios. With
DEPOT_BENCH_RESULTS set, keeps mcu.rtu_per_s.rN (beside the line's limit)
and mcu.flash.BOARD.KIND / mcu.ram.BOARD.KIND (beside the budget).
Figures only: the exit status is non-zero only when a run could not be made.
"""
import argparse
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "system"))

import benchlib as bl  # noqa: E402
from harness import BIN, Env, wait_for  # noqa: E402
from qemunode import start_qemu_node  # noqa: E402

BAUD = 115200


def line_limit(registers, baud=BAUD):
    chars = 8 + 5 + 2 * registers
    silence = 0.00175 if baud > 19200 else 3.5 * 11.0 / baud
    return 1.0 / (chars * 11.0 / baud + 2 * silence)


def flat_out(device, seconds, registers):
    r = subprocess.run([bl.testbin_path("modbus_bare_loop"), "--rtu", device, "--baud", str(BAUD),
                        "--units", "1", "--seconds", str(seconds), "--period-ms", "0",
                        "--timeout-ms", "500", "--registers", str(registers)],
                       capture_output=True, text=True, timeout=seconds + 60)
    if r.returncode != 0:
        raise AssertionError("modbus_bare_loop failed:\n" + r.stderr)
    kv = bl.parse_kv(bl.last_line_with(r.stdout, "polls"))
    return int(kv["polls"]), int(kv["errors"]), float(kv["rate"])


def sizes():
    rows = []
    for path in sorted(glob.glob(os.path.join(os.path.dirname(BIN), "boards", "*",
                                              "size-depot-*.txt"))):
        with open(path) as f:
            kv = bl.parse_kv(f.read().splitlines()[1])
        rows.append(kv)
        kind = kv["image"].replace("depot-", "")
        bl.record("mcu.flash.%s.%s" % (kv["board"], kind), "flash of the %s image, %s"
                  % (kind, kv["board"]), int(kv["flash"]), "B", "budget", int(kv["flash_budget"]),
                  "value<=%s" % kv["flash_budget"])
        bl.record("mcu.ram.%s.%s" % (kv["board"], kind), "RAM (with the stack) of the %s image, %s"
                  % (kind, kv["board"]), int(kv["ram"]), "B", "budget", int(kv["ram_budget"]),
                  "value<=%s" % kv["ram_budget"])
    bl.table("Node images against the budget (24 KiB flash, 6 KiB RAM with the stack)",
             ["board / image", "text", "data", "bss", "stack", "flash", "RAM"],
             [["%s %s" % (r["board"], r["image"]), r["text"], r["data"], r["bss"], r["stack"],
               "%s (%.0f%%)" % (r["flash"], 100.0 * int(r["flash"]) / int(r["flash_budget"])),
               "%s (%.0f%%)" % (r["ram"], 100.0 * int(r["ram"]) / int(r["ram_budget"]))]
              for r in rows])
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=10, help="each flat-out loop runs this long")
    ap.add_argument("--registers", type=int, default=10, help="input registers per read (1..30)")
    a = ap.parse_args()
    sizes()
    limit = line_limit(a.registers)
    with Env("bench-mcu-rtu") as env:
        node = start_qemu_node(env, "scale")
        arm = flat_out(node.pty, a.seconds, a.registers)
        link = env.path("rs485-host")
        host = env.start("host-node", [os.path.join(BIN, "depot-node"), "scale", "--rtu",
                                       "--link", link, "--baud", str(BAUD), "--units", "1"])
        wait_for(lambda: "ready" in host.out(), timeout=20, what="depot-node on its line")
        hostr = flat_out(link, a.seconds, a.registers)
    rows = []
    for name, (polls, errors, rate) in (("ARM firmware under QEMU (lm3s6965evb)", arm),
                                        ("host board node (line paced at the baud rate)", hostr)):
        rows.append([name, polls, errors, "%.1f" % rate, "%.2f" % (1000.0 / rate if rate else 0),
                     bl.ratio(rate, limit)])
    rows.append(["the line's limit at %d baud" % BAUD, "", "", "%.1f" % limit,
                 "%.2f" % (1000.0 / limit), "1.00x"])
    bl.table("Modbus RTU, %d input registers per read, flat out for %d s"
             % (a.registers, a.seconds),
             ["", "polls", "errors", "per s", "ms each", "/ line"], rows)
    bl.record("mcu.rtu_per_s.r%d" % a.registers,
              "ARM node under QEMU: %d-register reads per second at %d baud" % (a.registers, BAUD),
              arm[2], "reads/s", "the line's limit", round(limit, 1))
    bl.record("mcu.rtu_host_per_s.r%d" % a.registers,
              "host board node: %d-register reads per second at %d baud" % (a.registers, BAUD),
              hostr[2], "reads/s", "the line's limit", round(limit, 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
