"""Warehouses for Depot's system tests: depot-node scales and a depot-gateway.

    wh = start_warehouse(env, pki, broker_port, "A",
                         tcp=[("scale-t", "SKU-T")], rtu=[("scale-r1", 1, "SKU-R1")])
    wh.weight("scale-t", 1500)
    wh.gateway.stop(); wh.gateway.start()

Every node and the gateway are processes of the Env (stopped by it). The
gateway's ledger is a real SQLite file the test may read (read-only) to learn
what the gateway holds.
"""
import os
import socket
import sqlite3

from harness import BIN, free_port, port_open, wait_for

UNIT_WEIGHT_G = 100


def control_raw(path, command, timeout=5.0):
    """Send one line to a depot-node control socket; returns the reply line ('ok ...' or 'error ...')."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall((command + "\n").encode())
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.decode().strip()


def control(path, command, timeout=5.0):
    """Send one line to a depot-node control socket; returns the reply (raises on 'error')."""
    text = control_raw(path, command, timeout)
    if not text.startswith("ok"):
        raise AssertionError("control %s %r: %s" % (path, command, text))
    return text


def node_status(path):
    """The depot-node `status` reply as a dict of its key=value fields."""
    fields = {}
    for tok in control(path, "status").split()[1:]:
        k, _, v = tok.partition("=")
        fields[k] = v
    return fields


class Warehouse:
    def __init__(self, env, dealer):
        self.env = env
        self.dealer = dealer
        self.dir = env.path("wh-" + dealer)
        os.makedirs(self.dir, exist_ok=True)
        self.controls = {}   # node name -> control socket path
        self.skus = {}       # node name -> sku
        self.nodes = []      # depot-node processes
        self.gateway = None
        self.ledger = os.path.join(self.dir, "ledger.db")
        self.config = os.path.join(self.dir, "gateway.ini")

    def weight(self, node, grams):
        control(self.controls[node], "weight %d" % grams)

    def fault(self, node, mode):
        control(self.controls[node], "fault " + mode)

    def status(self, node):
        return node_status(self.controls[node])

    def ctl(self, node, command):
        """A raw control command to a node; the reply text (raises on 'error')."""
        return control(self.controls[node], command)

    def try_ctl(self, node, command):
        """Like ctl, but returns the 'error ...' reply instead of raising."""
        return control_raw(self.controls[node], command)

    def display(self, node):
        """What a scanner terminal's display shows: (code, text)."""
        reply = control(self.controls[node], "display")
        parts = reply.split(" ", 2)
        return int(parts[1]), (parts[2] if len(parts) > 2 else "")

    def ledger_query(self, sql, args=()):
        """Run a read-only query on the gateway's ledger (WAL allows it while the gateway writes)."""
        db = sqlite3.connect("file:%s?mode=ro" % self.ledger, uri=True, timeout=5)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def ledger_id(self):
        return self.ledger_query("SELECT ledger_id FROM meta")[0][0]

    def last_message_id(self):
        """The highest message id the gateway has handed out."""
        return self.ledger_query("SELECT next_id FROM meta")[0][0] - 1

    def outbox_depth(self):
        return self.ledger_query("SELECT count(*) FROM outbox")[0][0]

    def ledger_qty(self, sku):
        rows = self.ledger_query("SELECT qty FROM stock WHERE sku = ?", (sku,))
        return rows[0][0] if rows else None


def start_scanner(env, wh, name, fifo=None, period_ms=100):
    """A depot-node scanner terminal over Modbus TCP; returns its [node:] section."""
    port = free_port()
    ctl = os.path.join(wh.dir, name + ".sock")
    argv = [os.path.join(BIN, "depot-node"), "scanner", "--tcp", "127.0.0.1:%d" % port,
            "--control", ctl, "--state", os.path.join(wh.dir, name + ".state")]
    if fifo:
        argv += ["--fifo", str(fifo)]
    wh.nodes.append(env.start("%s-%s" % (wh.dealer, name), argv))
    wait_for(lambda: port_open(port) and os.path.exists(ctl), what="depot-node scanner %s" % name)
    wh.controls[name] = ctl
    return ("[node:%s]\naddress = 127.0.0.1:%d\nunit = 1\nkind = scanner\nperiod_ms = %d\n"
            % (name, port, period_ms))


def merge_ini(base, extra):
    """base ({section: [lines]}, in order) with the INI text extra merged in: lines before any
    [section] header go to [mqtt], a header already in base adds to that section (a
    gateway refuses a section given twice), a new one is appended. Returns the text."""
    sections = {k: list(v) for k, v in base.items()}
    current = "mqtt"
    for line in extra.splitlines():
        if line.strip().startswith("[") and line.strip().endswith("]"):
            current = line.strip()[1:-1]
            sections.setdefault(current, [])
        elif line.strip():
            sections[current].append(line)
    return "\n".join("[%s]\n%s\n" % (k, "\n".join(v)) for k, v in sections.items())


def start_warehouse(env, pki, broker_port, dealer, tcp=(), rtu=(), period_ms=500,
                    snapshot_period_s=5, extra_gateway="", start_gateway=True, rate=200,
                    resend_s=3, scanners=(), scanner_fifo=None, scanner_period_ms=100,
                    parity="N", baud=19200, bus_timeout_ms=200, node_extra=None,
                    keepalive_s=5):
    """Nodes and a gateway for one dealer.

    tcp: [(node name, sku)] one depot-node per entry over Modbus TCP.
    rtu: [(node name, unit id, sku)] all on ONE pseudo-terminal line (one depot-node process).
    scanners: [node name] one depot-node scanner terminal per entry over Modbus TCP.
    node_extra: {node name: INI lines} added to that node's section (e.g. "timeout_ms = 100").
    """
    node_extra = node_extra or {}
    wh = Warehouse(env, dealer)
    sections = [start_scanner(env, wh, name, scanner_fifo, scanner_period_ms)
                for name in scanners]
    for name, sku in tcp:
        port = free_port()
        ctl = os.path.join(wh.dir, name + ".sock")
        p = env.start("%s-%s" % (dealer, name),
                      [os.path.join(BIN, "depot-node"), "scale", "--tcp", "127.0.0.1:%d" % port,
                       "--control", ctl, "--state", os.path.join(wh.dir, name + ".state")])
        wh.nodes.append(p)
        wait_for(lambda: port_open(port) and os.path.exists(ctl), what="depot-node %s" % name)
        wh.controls[name] = ctl
        wh.skus[name] = sku
        sections.append("[node:%s]\naddress = 127.0.0.1:%d\nunit = 1\nkind = scale\nsku = %s\n"
                        "unit_weight_g = %d\nperiod_ms = %d\n%s" % (name, port, sku, UNIT_WEIGHT_G,
                                                                     period_ms, node_extra.get(name, "")))
    if rtu:
        link = os.path.join(wh.dir, "rs485-0")
        units = ",".join(str(u) for _, u, _ in rtu)
        ctl_pattern = os.path.join(wh.dir, "rtu-%u.sock")
        p = env.start("%s-rtu" % dealer,
                      [os.path.join(BIN, "depot-node"), "scale", "--rtu", "--link", link,
                       "--baud", str(baud), "--units", units, "--control", ctl_pattern,
                       "--state", os.path.join(wh.dir, "rtu-%u.state")])
        wh.nodes.append(p)
        wait_for(lambda: "ready" in p.out(), what="depot-node RTU line")
        sections.append("[bus:rs485-0]\ntype = rtu\ndevice = %s\nbaud = %d\nparity = %s\n"
                        "timeout_ms = %d\n" % (link, baud, parity, bus_timeout_ms))
        for name, unit, sku in rtu:
            wh.controls[name] = ctl_pattern.replace("%u", str(unit))
            wh.skus[name] = sku
            sections.append("[node:%s]\nbus = rs485-0\nunit = %d\nkind = scale\nsku = %s\n"
                            "unit_weight_g = %d\nperiod_ms = %d\n%s"
                            % (name, unit, sku, UNIT_WEIGHT_G, period_ms, node_extra.get(name, "")))
    d = pki["dealers"][dealer]
    base = {
        "gateway": ["dealer = %s" % dealer, "ledger = %s" % wh.ledger,
                    "snapshot_period_s = %d" % snapshot_period_s, "log_level = info"],
        "mqtt": ["host = 127.0.0.1", "port = %d" % broker_port, "ca = %s" % pki["ca"],
                 "cert = %s" % d["crt"], "key = %s" % d["key"], "keepalive_s = %d" % keepalive_s,
                 "rate = %d" % rate, "resend_s = %d" % resend_s],
    }
    with open(wh.config, "w") as f:
        f.write(merge_ini(base, extra_gateway) + "\n")
        f.write("\n".join(sections))
    if start_gateway:
        wh.gateway = env.start("gw-" + dealer, [os.path.join(BIN, "depot-gateway"), "-c", wh.config])
    return wh
