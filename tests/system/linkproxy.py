"""A TCP forwarder between a gateway and the broker, to cut the gateway's uplink alone.

    link = LinkProxy(broker_port)      # the gateway's [mqtt] port = link.port
    link.down()                        # connections closed, the port refuses
    link.up()                          # accepting again; link.accepted counts connections

The hub stays connected to the broker directly, as in a warehouse whose line
is down while the cloud is fine. Bytes are forwarded untouched (the TLS
session is between the gateway and the broker). One thread accepts, one
thread per connection forwards both ways with select; stop() ends them all.
"""
import select
import socket
import threading
import time

from harness import free_port


class LinkProxy:
    def __init__(self, target_port, host="127.0.0.1"):
        self.target = (host, target_port)
        self.port = free_port()
        self.accepted = 0
        self.last_accept = None  # monotonic time of the last accepted connection
        self._lock = threading.Lock()
        self._conns = []
        self._listener = None
        self._stop = threading.Event()
        self._threads = []
        self.up()

    def up(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(16)
        s.settimeout(0.1)
        self._listener = s
        self._down = threading.Event()
        t = threading.Thread(target=self._accept, args=(s, self._down), daemon=True)
        t.start()
        self._threads.append(t)

    def down(self):
        """Close the listener and every forwarded connection (the peers see the link drop)."""
        self._down.set()
        with self._lock:
            conns, self._conns = self._conns, []
        for a, b in conns:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = [t for t in self._threads if t.is_alive()]

    def stop(self):
        self._stop.set()
        self.down()

    def _accept(self, listener, down):
        try:
            while not down.is_set() and not self._stop.is_set():
                try:
                    c, _ = listener.accept()
                except socket.timeout:
                    continue
                try:
                    b = socket.create_connection(self.target, timeout=5)
                except OSError:
                    c.close()
                    continue
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                b.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with self._lock:
                    self._conns.append((c, b))
                    self.accepted += 1
                    self.last_accept = time.monotonic()
                t = threading.Thread(target=self._pump, args=(c, b, down), daemon=True)
                t.start()
                self._threads.append(t)
        finally:
            listener.close()

    def _pump(self, a, b, down):
        peer = {a: b, b: a}
        try:
            while not down.is_set():
                r, _, _ = select.select([a, b], [], [], 0.2)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    peer[s].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass
