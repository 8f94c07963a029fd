#!/usr/bin/env python3
"""Interop of depot-node (firmware on the host board) with libmodbus and mbpoll.

Starts real depot-node processes on a free TCP port and on an RTU
pseudo-terminal (several units on one line), and talks to them through
modbus_probe (libmodbus) and /usr/bin/mbpoll. Every wait is a bounded poll
for a condition; every process started is stopped in a finally block.
"""
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time
import tty

from harness import free_port_range

BIN = os.environ.get("DEPOT_BIN", "build/bin")
TESTBIN = os.environ.get("DEPOT_TESTBIN", "build/tests")
NODE = os.path.join(BIN, "depot-node")
PROBE = os.path.join(TESTBIN, "modbus_probe")
MBPOLL = "/usr/bin/mbpoll"
HOST = "127.0.0.1"
BAUD = 19200

IR_NET, IR_STATUS, IR_BOOT_EPOCH, IR_FW = 2, 4, 13, 14
HR_COMMAND, HR_UNIT_MG, HR_FILTER = 0, 1, 3
STABLE = 0x0001

procs = []


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def wait_for(cond, timeout=10.0, interval=0.05, what="condition"):
    """Polls cond() until it returns a truthy value; fails after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    fail(f"timed out waiting for {what} (last: {last!r})")


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_node(args, expect):
    """Starts depot-node, returns (proc, banner lines) once it printed 'ready'."""
    proc = subprocess.Popen([NODE] + args, stdout=subprocess.PIPE, stderr=sys.stderr)
    procs.append(proc)
    buf = b""
    deadline = time.monotonic() + 10
    while b"ready\n" not in buf:
        left = deadline - time.monotonic()
        check(left > 0 and proc.poll() is None, f"depot-node {args} did not get ready: {buf!r}")
        r, _, _ = select.select([proc.stdout], [], [], left)
        if r:
            chunk = os.read(proc.stdout.fileno(), 4096)
            check(chunk, f"depot-node exited early: {buf!r}")
            buf += chunk
    lines = buf.decode().splitlines()
    check(any(line.startswith(expect) for line in lines), f"banner {lines}")
    return proc, lines


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def ctl(path, cmd):
    """One control-channel command; returns the reply line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(cmd.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            check(chunk, f"control socket closed after {cmd!r}")
            data += chunk
    return data.decode().strip()


def ctl_ok(path, cmd):
    reply = ctl(path, cmd)
    check(reply == "ok" or reply.startswith("ok "), f"{cmd!r} -> {reply!r}")
    return reply


def probe(where, unit, *cmd, timeout_ms=1000):
    """Runs modbus_probe; where is ('tcp', port) or ('rtu', device)."""
    kind, target = where
    conn = [kind, HOST, str(target)] if kind == "tcp" else [kind, target, str(BAUD)]
    argv = [PROBE, "--timeout", str(timeout_ms)] + conn + [str(unit)] + [str(c) for c in cmd]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def regs(reply):
    check(reply.startswith("ok"), f"expected registers, got {reply!r}")
    return [int(v) for v in reply.split()[1:]]


def s32(hi, lo):
    v = (hi << 16) | lo
    return v - (1 << 32) if v & 0x80000000 else v


def net_and_status(where, unit):
    r = probe(where, unit, "ri", IR_NET, 3)
    if not r.startswith("ok"):
        return None
    v = regs(r)
    return s32(v[0], v[1]), v[2]


def wait_stable_net(where, unit, grams):
    def cond():
        ns = net_and_status(where, unit)
        return ns if ns and ns[0] == grams and ns[1] & STABLE else None

    wait_for(cond, what=f"unit {unit} stable at {grams} g")


def mbpoll(*args):
    out = subprocess.run([MBPOLL] + [str(a) for a in args], capture_output=True, text=True,
                         timeout=30)
    return out.returncode, out.stdout + out.stderr


def mbpoll_values(text):
    vals = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and "]:" in line:
            ref, val = line[1:].split("]:", 1)
            vals[int(ref)] = int(val.split()[0])
    return vals


def check_faults(where, unit, ctl_path, prefix, bad_frame):
    """fault silent/crc/exception/none as libmodbus sees them."""
    ctl_ok(ctl_path, prefix + "fault silent")
    check(probe(where, unit, "ri", 0, 2, timeout_ms=300) == "error timeout", "silent -> timeout")
    ctl_ok(ctl_path, prefix + "fault crc")
    r = probe(where, unit, "ri", 0, 2, timeout_ms=500)
    check(r == "error " + bad_frame, f"crc fault -> {r!r}")
    ctl_ok(ctl_path, prefix + "fault exception")
    check(probe(where, unit, "ri", 0, 2) == "error exception 4", "exception fault -> 04")
    check(probe(where, unit, "wr", HR_FILTER, 4) == "error exception 4", "exception on write")
    ctl_ok(ctl_path, prefix + "fault none")
    check(regs(probe(where, unit, "ri", 0, 2)) == [1, 1], "fault none recovers")


def check_registers(where, unit):
    """FC 03/04/06/16/17 and the exception replies through libmodbus."""
    ir = regs(probe(where, unit, "ri", 0, 15))
    check(ir[0] == 1 and ir[1] == 1 and ir[IR_FW] == 0x0100, f"common block {ir}")
    check(probe(where, unit, "wr", HR_FILTER, 8) == "ok", "FC06")
    check(regs(probe(where, unit, "rh", HR_FILTER, 1)) == [8], "FC03 after FC06")
    check(probe(where, unit, "wm", HR_UNIT_MG, "1,34464,2") == "ok", "FC16")
    check(regs(probe(where, unit, "rh", 0, 4)) == [0, 1, 34464, 2], "FC03 after FC16")
    r = probe(where, unit, "id")
    check(r.startswith("ok id 01 ff") and "DEPOT scale 1.0" in r, f"FC17 {r!r}")
    check(probe(where, unit, "ri", 100, 1) == "error exception 2", "illegal address")
    check(probe(where, unit, "rh", 9, 2) == "error exception 2", "past holding block")
    check(probe(where, unit, "wr", HR_FILTER, 0) == "error exception 3", "illegal value")
    check(probe(where, unit, "wr", HR_FILTER, 4) == "ok", "filter back")


def test_tcp(tmp):
    port = free_port()
    ctl_path = os.path.join(tmp, "tcp.sock")
    state = os.path.join(tmp, "tcp.state")
    args = ["scale", "--tcp", f"{HOST}:{port}", "--unit", "5", "--control", ctl_path,
            "--state", state]
    proc, lines = start_node(args, f"tcp {HOST}:{port}")
    where = ("tcp", port)
    check_registers(where, 5)
    ctl_ok(ctl_path, "weight 1234")
    wait_stable_net(where, 5, 1234)
    check(probe(where, 5, "wr", HR_COMMAND, 1) == "ok", "tare command")
    wait_stable_net(where, 5, 0)
    ctl_ok(ctl_path, "weight 1000")
    wait_stable_net(where, 5, -234)
    status = ctl_ok(ctl_path, "status")
    check("tare=1234" in status and "weight=1000" in status, f"status {status!r}")
    # mbpoll, an independent master: read the common block, write the filter.
    rc, out = mbpoll("-m", "tcp", "-p", port, "-a", 5, "-t", 3, "-r", 1, "-c", 2, "-1", HOST)
    check(rc == 0 and mbpoll_values(out) == {1: 1, 2: 1}, f"mbpoll tcp read: {out}")
    rc, out = mbpoll("-m", "tcp", "-p", port, "-a", 5, "-t", "4", "-r", HR_FILTER + 1, "-1",
                     HOST, 16)
    check(rc == 0 and "Written 1 references" in out, f"mbpoll tcp write: {out}")
    check(regs(probe(where, 5, "rh", HR_FILTER, 1)) == [16], "mbpoll write seen by libmodbus")
    check_faults(where, 5, ctl_path, "", "baddata")
    epoch = regs(probe(where, 5, "ri", IR_BOOT_EPOCH, 1))[0]
    stop(proc)
    check(proc.returncode == 0, f"SIGTERM exit status {proc.returncode}")
    # The state file survives: boot epoch, tare and filter.
    proc, _ = start_node(args, f"tcp {HOST}:{port}")
    check(regs(probe(where, 5, "ri", IR_BOOT_EPOCH, 1)) == [epoch + 1], "boot epoch +1")
    check(regs(probe(where, 5, "rh", HR_FILTER, 1)) == [16], "filter persisted")
    ctl_ok(ctl_path, "quit")
    wait_for(lambda: proc.poll() is not None, what="exit after quit")
    check(proc.returncode == 0, f"quit exit status {proc.returncode}")


def raw_line(device):
    fd = os.open(device, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    termios.tcflush(fd, termios.TCIOFLUSH)
    return fd


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes([crc & 0xFF, crc >> 8])


def read_reply(fd, want, timeout):
    """Reads up to want bytes within timeout; returns what came."""
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < want:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([fd], [], [], left)
        if r:
            data += os.read(fd, want - len(data))
    return data


def check_line_timing(device):
    """Silence frames requests; replies take the line's time at 19200 baud."""
    frame = bytes([2, 4, 0, 0, 0, 30])
    frame += crc16(frame)
    fd = raw_line(device)
    try:
        os.write(fd, frame + frame)  # no silence between: one garbled frame
        check(read_reply(fd, 1, 0.3) == b"", "back-to-back frames must not be answered")
        start = time.monotonic()
        os.write(fd, frame)
        reply = read_reply(fd, 65, 2.0)
        elapsed = time.monotonic() - start
        check(len(reply) == 65 and reply[-2:] == crc16(reply[:-2]), f"reply {reply.hex()}")
        wire = (8 + 65) * 11 / BAUD  # request and reply on the wire
        check(elapsed >= wire * 0.9, f"reply after {elapsed:.4f}s, faster than the line")
    finally:
        os.close(fd)


def test_rtu(tmp):
    link = os.path.join(tmp, "bus0")
    pattern = os.path.join(tmp, "ctl-%u.sock")
    proc, lines = start_node(["scale", "--rtu", "--link", link, "--units", "1,2,3", "--baud",
                              str(BAUD), "--control", pattern], "pty /dev/pts/")
    pty = [line.split()[1] for line in lines if line.startswith("pty ")][0]
    check(os.path.realpath(link) == os.path.realpath(pty), "link points at the pty")
    where = ("rtu", link)
    for unit in (1, 2, 3):
        ctl_ok(pattern.replace("%u", str(unit)), f"weight {unit * 100}")
    for unit in (1, 2, 3):
        wait_stable_net(where, unit, unit * 100)
    check(probe(where, 4, "ri", 0, 1, timeout_ms=300) == "error timeout", "no unit 4")
    check_registers(where, 2)
    rc, out = mbpoll("-m", "rtu", "-b", BAUD, "-P", "none", "-a", 3, "-t", 3, "-r", IR_NET + 1,
                     "-c", 2, "-1", "-o", 1, link)
    check(rc == 0 and mbpoll_values(out) == {3: 0, 4: 300}, f"mbpoll rtu read: {out}")
    rc, out = mbpoll("-m", "rtu", "-b", BAUD, "-P", "none", "-a", 1, "-t", "4", "-r",
                     HR_FILTER + 1, "-1", "-o", 1, link, 2)
    check(rc == 0 and "Written 1 references" in out, f"mbpoll rtu write: {out}")
    check(regs(probe(where, 1, "rh", HR_FILTER, 1)) == [2], "unit 1 filter via mbpoll")
    check(regs(probe(where, 3, "rh", HR_FILTER, 1)) == [4], "unit 3 untouched")
    ctl2 = pattern.replace("%u", "2")
    ctl_ok(ctl2, "fault silent")
    check(regs(probe(where, 1, "ri", 0, 1)) == [1], "unit 1 answers while unit 2 is silent")
    check_faults(where, 2, ctl2, "", "badcrc")
    check_line_timing(link)
    stop(proc)
    check(proc.returncode == 0, f"SIGTERM exit status {proc.returncode}")
    check(not os.path.lexists(link), "link removed at exit")


def test_tcp_range(tmp):
    base = free_port_range(3)
    ctl_path = os.path.join(tmp, "range.sock")
    proc, _ = start_node(["scale", "--tcp-range", f"{HOST}:{base}-{base + 2}", "--control",
                          ctl_path], f"tcp {HOST}:{base}-{base + 2}")
    for i in range(3):
        ctl_ok(ctl_path, f"port {base + i} weight {10 * (i + 1)}")
    check(ctl(ctl_path, "weight 5").startswith("error"), "shared socket needs a node prefix")
    for i in range(3):
        wait_stable_net(("tcp", base + i), 1, 10 * (i + 1))
    stop(proc)
    check(proc.returncode == 0, f"SIGTERM exit status {proc.returncode}")


def main():
    for path in (NODE, PROBE, MBPOLL):
        check(os.access(path, os.X_OK), f"missing {path} (build depot-node and modbus_probe)")
    with tempfile.TemporaryDirectory(prefix="depot-node-") as tmp:
        try:
            for test in (test_tcp, test_rtu, test_tcp_range):
                test(tmp)
                print(f"PASS {test.__name__}", flush=True)
        finally:
            for proc in procs:
                stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
