"""Depot's Cortex-M node firmware under qemu-system-arm, for the system tests.

    node = start_qemu_node(env, "scale")          # boards/lm3s6965evb/bin/depot-scale.elf
    node.pty                                      # UART0: the RS-485 line (Modbus RTU)
    control(node.aux, "weight 500")               # UART1: the service line

UART0 is joined to a pseudo-terminal the gateway opens as its RTU bus.
QEMU reads a pseudo-terminal only once it has noticed that something opened
its other side (it looks once a second), and drops what UART0 sends until
then: a gateway's first requests would sit unread and arrive as one long
frame. So the test holds the line open itself (raw, never reading it: the
gateway reads every reply), as a UART is always there, and checks with one
libmodbus request (modbus_probe) that the line answers before it returns.
UART1 is a Unix socket in the Env folder that speaks the service commands of
boards/cortex-m/node_main.c (one line, one reply), the same words as the host
board's control socket, so gwenv's control() and Warehouse helpers drive it.
QEMU is a process of the Env (stopped by it, even when the test fails).
"""
import os
import re
import shutil
import subprocess
import termios
import tty

from harness import BIN, wait_for
from gwenv import control_raw

QEMU = shutil.which("qemu-system-arm") or "/usr/bin/qemu-system-arm"
BOARD = "lm3s6965evb"


def image(kind, board=BOARD):
    """The ELF of a node kind (scale, scanner) for a board, from the host build's boards/."""
    return os.path.join(os.path.dirname(BIN), "boards", board, "bin", "depot-%s.elf" % kind)


class QemuNode:
    def __init__(self, proc, pty, aux, hold):
        self.proc = proc
        self.pty = pty
        self.aux = aux
        self.hold = hold  # our fd on the line, kept open for the test's life
        self.baseline = {}

    def counted(self, key):
        """A counter of `status` since the node was ready (start_qemu_node's probes left out)."""
        return int(self.status()[key]) - int(self.baseline.get(key, 0))

    def status(self):
        """The `status` reply as a dict of its key=value fields."""
        reply = control_raw(self.aux, "status")
        assert reply.startswith("ok "), reply
        return dict(tok.partition("=")[::2] for tok in reply.split()[1:])


def start_qemu_node(env, kind, name=None, board=BOARD):
    name = name or "qemu-" + kind
    elf = image(kind, board)
    assert os.path.exists(elf), "%s not built (the host build builds it: DEPOT_MCU_BOARDS)" % elf
    aux = env.path(name + ".aux")
    proc = env.start(name, [QEMU, "-M", board, "-nographic", "-monitor", "none",
                            "-kernel", elf, "-serial", "pty",
                            "-serial", "unix:%s,server=on,wait=off" % aux])

    def pty():
        m = re.search(r"char device redirected to (/dev/pts/\d+) \(label serial0\)", proc.out())
        assert proc.alive(), "qemu exited:\n" + proc.log()[-2000:]
        return m.group(1) if m else None
    path = wait_for(pty, timeout=20, what="qemu's pseudo-terminal for UART0")

    def ready():
        if not os.path.exists(aux):
            return False
        try:
            return control_raw(aux, "status", timeout=2).startswith("ok kind=" + kind)
        except OSError:
            return False
    wait_for(ready, timeout=20, what="the %s firmware answering on UART1" % kind)
    hold = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(hold, termios.TCSANOW)
    probe = os.path.join(os.environ.get("DEPOT_TESTBIN", ""), "modbus_probe")
    kinds = {"scale": 1, "scanner": 2}

    def answers():
        r = subprocess.run([probe, "--timeout", "300", "rtu", path, "115200", "1", "ri", "0", "1"],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip() == "ok %d" % kinds[kind]
    wait_for(answers, timeout=20, what="the %s firmware answering Modbus RTU on UART0" % kind)
    node = QemuNode(proc, path, aux, hold)
    node.baseline = node.status()  # the probes' counts (a first one may have met a closed line)
    return node
