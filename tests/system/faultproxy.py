"""A TCP fault proxy of the tests' own, between a client (the gateway) and a server (a
Modbus TCP node).

    proxy = FaultProxy(upstream_port, seed=11)   # listens on proxy.port (127.0.0.1)
    proxy.set_mode("hang")                        # pass | cut | hang | latency | reconnect
    ...
    proxy.close()

Modes, each applying to every connection from the moment it is set:
  pass       bytes go through as they come;
  cut        every open connection is closed (both sides) and new ones are closed at once;
  hang       connections are accepted and read, and nothing is forwarded either way:
             the client waits for an answer that never comes;
  latency    each chunk, either way, is delivered LATENCY_S +- JITTER_S later (seeded,
             uniform; order kept within a connection);
  reconnect  as pass, but every open connection is closed every RECONNECT_S, so the
             client must connect again.

What it measured (read at any time):
  hangs      for each request the client sent while hung: how long the client waited
             before it gave up and closed the connection (s);
  closed_by_proxy, connections   counts.

Every socket and thread is closed by close(), also when a test fails (use it as a
context manager or call close in a finally).
"""
import random
import select
import socket
import threading
import time

LATENCY_S = 2.0
JITTER_S = 0.5
RECONNECT_S = 1.0


class _Conn:
    def __init__(self, proxy, client):
        self.proxy = proxy
        self.client = client
        self.server = None
        self.closed = False
        self.lock = threading.Lock()
        self.queue = []          # (due, socket to write to, bytes) while in latency mode
        self.hung_since = None   # when the client's first unanswered request came in hang mode
        self.born = time.monotonic()

    def close(self, by_proxy):
        with self.lock:
            if self.closed:
                return
            self.closed = True
        if by_proxy:
            self.proxy._count("closed_by_proxy")
        elif self.hung_since is not None:
            self.proxy._hang_done(time.monotonic() - self.hung_since)
        for s in (self.client, self.server):
            if s is not None:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def run(self):
        try:
            self.server = socket.create_connection(("127.0.0.1", self.proxy.upstream), timeout=2)
            self.server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            self.close(by_proxy=True)
            return
        peer = {self.client: self.server, self.server: self.client}
        while not self.closed and not self.proxy.stopping:
            mode = self.proxy.mode
            if mode == "cut":
                self.close(by_proxy=True)
                return
            if mode == "reconnect" and time.monotonic() - self.born >= RECONNECT_S:
                self.close(by_proxy=True)
                return
            now = time.monotonic()
            wait = 0.02
            if self.queue:
                wait = max(0.0, min(wait, self.queue[0][0] - now))
            try:
                ready, _, _ = select.select([self.client, self.server], [], [], wait)
            except (OSError, ValueError):
                self.close(by_proxy=False)
                return
            for s in ready:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self.close(by_proxy=False)
                    return
                self._forward(mode, peer[s], data, from_client=s is self.client)
            self._deliver_due()

    def _forward(self, mode, to, data, from_client):
        if mode == "hang":
            if from_client and self.hung_since is None:
                self.hung_since = time.monotonic()
            return
        self.hung_since = None
        if mode == "latency" or self.queue:
            delay = self.proxy._latency() if mode == "latency" else 0.0
            due = time.monotonic() + delay
            if self.queue and self.queue[-1][0] > due:
                due = self.queue[-1][0]  # order kept
            self.queue.append((due, to, data))
            return
        self._send(to, data)

    def _deliver_due(self):
        now = time.monotonic()
        while self.queue and self.queue[0][0] <= now:
            _, to, data = self.queue.pop(0)
            self._send(to, data)

    def _send(self, to, data):
        try:
            to.sendall(data)
        except OSError:
            self.close(by_proxy=False)


class FaultProxy:
    def __init__(self, upstream_port, seed=1):
        self.upstream = upstream_port
        self.mode = "pass"
        self.stopping = False
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts = {"connections": 0, "closed_by_proxy": 0}
        self.hangs = []
        self.conns = []
        self.threads = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def set_mode(self, mode):
        assert mode in ("pass", "cut", "hang", "latency", "reconnect"), mode
        self.mode = mode

    def _count(self, key):
        with self.lock:
            self.counts[key] += 1

    def _hang_done(self, seconds):
        with self.lock:
            self.hangs.append(seconds)

    def _latency(self):
        with self.lock:
            return self.rng.uniform(LATENCY_S - JITTER_S, LATENCY_S + JITTER_S)

    def _accept(self):
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._count("connections")
            if self.mode == "cut":
                self._count("closed_by_proxy")
                client.close()
                continue
            conn = _Conn(self, client)
            t = threading.Thread(target=conn.run, daemon=True)
            with self.lock:
                self.conns.append(conn)
                self.threads = [x for x in self.threads if x.is_alive()] + [t]
            t.start()

    def close(self):
        self.stopping = True
        try:
            self.listener.close()
        except OSError:
            pass
        self.acceptor.join(timeout=5)
        with self.lock:
            conns, threads = list(self.conns), list(self.threads)
        for c in conns:
            c.close(by_proxy=True)
        for t in threads:
            t.join(timeout=5)
