#!/usr/bin/env python3
"""The scanner terminal (depot-node scanner) against libmodbus and mbpoll.

Starts real depot-node scanner processes on a free TCP port and on an RTU
pseudo-terminal (two terminals on one line). Scans go in through the control
channel (also through `depot-node ctl` from a shell); modbus_probe (libmodbus)
reads the head event in one request and acknowledges it with one FC 16, as
the gateway does. Checks order, wrong acknowledgements (exception 03), a full
FIFO (refused, FIFO FULL on the display, nothing accepted lost), reboots
(control `reboot` and a real process restart with --state), the display
registers, and mbpoll reading the same block. Every wait is a bounded poll;
every process started is stopped in a finally block.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_node_interop as ni  # noqa: E402  (shared helpers: processes, probe, ctl)
from test_node_interop import check, ctl, ctl_ok, mbpoll, mbpoll_values, probe, regs  # noqa: E402

HOST = ni.HOST
BAUD = ni.BAUD
KIND_SCANNER = 2
IR_BOOT_EPOCH = 13
SCAN_RECEIVE, SCAN_PICK, SCAN_COUNT, SCAN_LINE, SCAN_SUBMIT = 1, 2, 3, 4, 5
DISPLAY_ERROR = 3


def head(where, unit):
    """The scanner block (IR 100..129, one FC 04) as a dict."""
    r = probe(where, unit, "head")
    check(r.startswith("ok "), f"head read: {r!r}")
    out = {}
    for field in r[3:].split(" "):
        key, _, val = field.partition("=")
        out[key] = val if key == "barcode" else int(val)
    return out


def ack(where, unit, epoch, seq):
    return probe(where, unit, "ack", epoch, seq)


def scan(path, prefix, what):
    return ctl(path, prefix + "scan " + what)


def drain(where, unit, expected):
    """Reads and acknowledges every event; checks (epoch, seq, type, qty, barcode) in order."""
    for want in expected:
        h = head(where, unit)
        got = (h["epoch"], h["seq"], h["type"], h["qty"], h["barcode"])
        check(got == want, f"unit {unit} head {got}, expected {want}")
        check(ack(where, unit, h["epoch"], h["seq"]) == "ok", f"ack {got}")
        check(regs(probe(where, unit, "rh", 100, 3)) == [h["epoch"], h["seq"] >> 16,
                                                         h["seq"] & 0xFFFF], "last ack pair")
    h = head(where, unit)
    check(h["count"] == 0 and h["epoch"] == 0, f"unit {unit} empty after drain: {h}")


def check_common(where, unit):
    ir = regs(probe(where, unit, "ri", 0, 15))
    check(ir[0] == KIND_SCANNER and ir[1] == 1 and ir[14] == 0x0100, f"common block {ir}")
    r = probe(where, unit, "id")
    check(r.startswith("ok id 02 ff") and "DEPOT scanner 1.0" in r, f"FC17 {r!r}")
    check(probe(where, unit, "ri", 30, 1) == "error exception 2", "IR 30 is no register")
    check(probe(where, unit, "rh", 0, 1) == "error exception 2", "no scale holding block")


def check_order_and_acks(where, unit, path, prefix, epoch):
    """Scans come out in order; a wrong ack is refused and drops nothing; reads are idempotent."""
    check(scan(path, prefix, "line 4006381333931 3") == "ok 1", "first scan seq 1")
    check(scan(path, prefix, "receive ABC-1 5") == "ok 2", "second scan")
    check(ctl(path, prefix + "submit") == "ok 3", "submit")
    check(scan(path, prefix, "pick X 0") == "error bad quantity", "pick 0 refused")
    check(scan(path, prefix, "pick " + "Z" * 33 + " 1") == "error bad barcode", "33 chars")
    check(scan(path, prefix, "weigh X 1").startswith("error bad type"), "bad type")
    first = head(where, unit)
    check(first == head(where, unit), "head read twice gives the same event")
    check(first["count"] == 3 and first["barcode"] == "4006381333931", f"head {first}")
    check(ack(where, unit, epoch, 2) == "error exception 3", "ack of a non-head seq")
    check(ack(where, unit, epoch + 1, 1) == "error exception 3", "ack of a wrong epoch")
    check(probe(where, unit, "wr", 100, epoch) == "error exception 3", "half an ack (FC 06)")
    check(head(where, unit) == first, "a wrong ack drops nothing")
    drain(where, unit, [(epoch, 1, SCAN_LINE, 3, "4006381333931"),
                        (epoch, 2, SCAN_RECEIVE, 5, "ABC-1"),
                        (epoch, 3, SCAN_SUBMIT, 0, "")])
    check(ack(where, unit, epoch, 3) == "error exception 3", "ack on an empty FIFO")


def check_full(where, unit, path, prefix, capacity, seq0):
    """A full FIFO refuses visibly and keeps every accepted scan."""
    for i in range(capacity):
        check(scan(path, prefix, f"count SKU{i} {i}") == f"ok {seq0 + i}", f"scan {i}")
    check(scan(path, prefix, "count LOST 1") == "error fifo full", "full FIFO refuses")
    check(ctl(path, prefix + "submit") == "error fifo full", "full FIFO refuses a submit")
    check(ctl(path, prefix + "display") == f"ok {DISPLAY_ERROR} FIFO FULL", "display FIFO FULL")
    check(probe(where, unit, "rdisplay") == f"ok {DISPLAY_ERROR} FIFO FULL", "display registers")
    h = head(where, unit)
    check(h["count"] == capacity and h["capacity"] == capacity and h["flags"] == 1, f"full {h}")
    check(h["refused"] >= 2, f"refused counter {h}")
    status = ctl_ok(path, prefix + "status")
    check(f"count={capacity}" in status and "flags=0x0001" in status, f"status {status!r}")
    check(ack(where, unit, h["epoch"], h["seq"]) == "ok", "ack one")
    check(head(where, unit)["flags"] == 0, "FULL clears when there is room")
    check(scan(path, prefix, f"count SKU{capacity} {capacity}") == f"ok {seq0 + capacity}",
          "room again")
    return [(h["epoch"], seq0 + i, SCAN_COUNT, i, f"SKU{i}") for i in range(1, capacity + 1)]


def check_display(where, unit, path, prefix):
    check(probe(where, unit, "display", 2, "ORDER 17 APPROVED") == "ok", "FC16 display")
    check(ctl(path, prefix + "display") == "ok 2 ORDER 17 APPROVED", "display as written")
    check(probe(where, unit, "rdisplay") == "ok 2 ORDER 17 APPROVED", "FC03 display")
    check(probe(where, unit, "wr", 110, 99) == "error exception 3", "bad display code")
    check(probe(where, unit, "wm", 105, "1") == "error exception 2", "reserved HR 105")


def check_mbpoll(args, where, unit):
    """mbpoll reads IR 100..129 (its references are 1-based) and sees the same block."""
    h = head(where, unit)
    rc, out = mbpoll(*args, "-a", unit, "-t", 3, "-r", 101, "-c", 30, "-1")
    vals = mbpoll_values(out)
    check(rc == 0 and len(vals) == 30, f"mbpoll read: {out}")
    check(vals[101] == h["count"] and vals[102] == h["capacity"] and vals[106] == h["epoch"] and
          vals[109] == h["type"] and vals[112] == h["len"], f"mbpoll {vals} vs {h}")


def ack_head(where, unit, pending):
    """Acknowledges the head, which must be pending[0]; returns the rest."""
    drain_one = head(where, unit)
    check((drain_one["epoch"], drain_one["seq"]) == pending[0][:2], f"head {drain_one}")
    check(ack(where, unit, *pending[0][:2]) == "ok", "ack head")
    return pending[1:]


def check_reboot(where, unit, path, prefix, pending):
    """Control reboot: FIFO kept, epoch +1, seq restarts. Returns the new epoch."""
    epoch = regs(probe(where, unit, "ri", IR_BOOT_EPOCH, 1))[0]
    check(ctl(path, prefix + "reboot") == f"ok {epoch + 1}", "reboot replies the new epoch")
    check(regs(probe(where, unit, "ri", IR_BOOT_EPOCH, 1)) == [epoch + 1], "epoch register")
    h = head(where, unit)
    check(h["count"] == len(pending) and (h["epoch"], h["seq"]) == pending[0][:2],
          f"FIFO kept across reboot: {h}")
    check(scan(path, prefix, "receive AFTER 1") == "ok 1", "seq restarts after reboot")
    return epoch + 1


def test_tcp(tmp):
    port = ni.free_port()
    path = os.path.join(tmp, "scan.sock")
    state = os.path.join(tmp, "scan.state")
    args = ["scanner", "--tcp", f"{HOST}:{port}", "--control", path, "--state", state,
            "--fifo", "4"]
    proc, _ = ni.start_node(args, f"tcp {HOST}:{port}")
    where = ("tcp", port)
    check_common(where, 1)
    check(head(where, 1)["count"] == 0, "empty at first start")
    check_order_and_acks(where, 1, path, "", 1)
    r = subprocess.run([ni.NODE, "ctl", path, "scan", "line", "4006381333931", "3"],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 0 and r.stdout == "ok 4\n", f"depot-node ctl scan: {r}")
    drain(where, 1, [(1, 4, SCAN_LINE, 3, "4006381333931")])
    pending = check_full(where, 1, path, "", 4, 5)
    check_display(where, 1, path, "")
    check_mbpoll(["-m", "tcp", "-p", port, HOST], where, 1)
    pending = ack_head(where, 1, pending)  # room for one scan after the reboot
    epoch = check_reboot(where, 1, path, "", pending)
    pending.append((epoch, 1, SCAN_RECEIVE, 1, "AFTER"))
    ni.stop(proc)
    check(proc.returncode == 0, f"SIGTERM exit status {proc.returncode}")
    proc, _ = ni.start_node(args, f"tcp {HOST}:{port}")  # a real restart: state file
    check(regs(probe(where, 1, "ri", IR_BOOT_EPOCH, 1)) == [epoch + 1], "epoch +1 at restart")
    drain(where, 1, pending)  # every accepted event survived, in order, with its epoch
    check(scan(path, "", "pick NEW 2") == "ok 1", "seq from 1 after restart")
    drain(where, 1, [(epoch + 1, 1, SCAN_PICK, 2, "NEW")])
    ctl_ok(path, "quit")
    ni.wait_for(lambda: proc.poll() is not None, what="exit after quit")


def test_rtu(tmp):
    link = os.path.join(tmp, "bus1")
    pattern = os.path.join(tmp, "scan-%u.sock")
    state = os.path.join(tmp, "scan-%u.state")
    args = ["scanner", "--rtu", "--link", link, "--units", "1,2", "--baud", str(BAUD),
            "--control", pattern, "--state", state, "--fifo", "3"]
    proc, _ = ni.start_node(args, "pty /dev/pts/")
    where = ("rtu", link)
    path2 = pattern.replace("%u", "2")
    check_common(where, 2)
    check_order_and_acks(where, 2, path2, "", 1)
    check(head(where, 1)["count"] == 0, "unit 1 untouched by unit 2's scans")
    pending = check_full(where, 2, path2, "", 3, 4)
    check_display(where, 2, path2, "")
    check(probe(where, 1, "rdisplay") == "ok 0", "unit 1 display untouched")
    check_mbpoll(["-m", "rtu", "-b", BAUD, "-P", "none", "-o", 1, link], where, 2)
    pending = ack_head(where, 2, pending)
    epoch = check_reboot(where, 2, path2, "", pending)
    ni.stop(proc)
    check(proc.returncode == 0, f"SIGTERM exit status {proc.returncode}")
    proc, _ = ni.start_node(args, "pty /dev/pts/")
    check(regs(probe(where, 2, "ri", IR_BOOT_EPOCH, 1)) == [epoch + 1], "unit 2 epoch +1")
    drain(where, 2, pending + [(epoch, 1, SCAN_RECEIVE, 1, "AFTER")])
    ni.stop(proc)
    check(proc.returncode == 0, f"SIGTERM exit status {proc.returncode}")


def main():
    for p in (ni.NODE, ni.PROBE, ni.MBPOLL):
        check(os.access(p, os.X_OK), f"missing {p} (build depot-node and modbus_probe)")
    with tempfile.TemporaryDirectory(prefix="depot-scanner-") as tmp:
        try:
            for test in (test_tcp, test_rtu):
                test(tmp)
                print(f"PASS {test.__name__}", flush=True)
        finally:
            for proc in ni.procs:
                ni.stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
