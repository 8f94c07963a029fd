"""The fault proxy of the tests' own: a TCP proxy between a client and a server (a
gateway and Mosquitto's TLS port, a hub and the broker, a gateway and a Modbus TCP
node). It passes the bytes through untouched (TLS stays end to end) and, on the
test's command, breaks the link as networks do:

    proxy = FaultProxy(server_port)      # listens on proxy.port, 127.0.0.1
    proxy.cut()                          # close both sides of every open connection
    proxy.hang()                         # the open connections forward nothing from now on,
                                         # and no close either: a dead path, both sockets
                                         # left open (new connections pass)
    proxy.set_latency(2.0, 0.5)          # each chunk delayed 2 s +- 0.5 s, order kept
    proxy.set_latency(0)                 # back to no delay
    proxy.close()

or by mode, each applying to every connection, open or new, from the moment it is set:

    proxy.set_mode("pass")       # bytes go through (hung connections carry again)
    proxy.set_mode("cut")        # every connection closed, new ones closed at once
    proxy.set_mode("hang")       # every connection, new ones too, forwards nothing
    proxy.set_mode("latency")    # LATENCY_S +- JITTER_S per chunk, order kept
    proxy.set_mode("reconnect")  # as pass, but a connection is closed RECONNECT_S after
                                 # it was made, so the client must connect again
    proxy.down() / proxy.up()    # the link cut for as long as it is down (cut / pass)

It runs an asyncio loop in a thread of the test process; every command is applied in
that loop before it returns. Counters (stats(), counts): connections accepted, closed
by the proxy, cut, hung, the bytes forwarded each way; hangs: for each hung connection
the client gave up on, how long the client waited after its first unanswered bytes (s).
"""
import asyncio
import random
import threading
import time

CHUNK = 65536
LATENCY_S = 2.0
JITTER_S = 0.5
RECONNECT_S = 1.0


class _Conn:
    def __init__(self, proxy, down_w, up_w):
        self.proxy = proxy
        self.writers = {"up": up_w, "down": down_w}  # "up": toward the server
        self.queues = {"up": asyncio.Queue(), "down": asyncio.Queue()}
        self.release = {"up": 0.0, "down": 0.0}  # when the last queued chunk goes out
        self.hung = False
        self.hung_since = None  # the client's first unanswered bytes while hung
        self.born = time.monotonic()
        self.closed = False
        self.tasks = []

    def close(self, by_proxy=False):
        if self.closed:
            return
        self.closed = True
        if by_proxy:
            self.proxy.counts["closed_by_proxy"] += 1
        for w in self.writers.values():
            w.close()
        for t in self.tasks:
            t.cancel()
        self.proxy.conns.discard(self)

    async def pump(self, reader, direction):
        """Read one side; queue each chunk for the other side with its release time."""
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                if self.hung:
                    if direction == "up" and self.hung_since is None:
                        self.hung_since = time.monotonic()
                    continue  # read and dropped: nothing goes through, no close either
                now = time.monotonic()
                at = now
                if self.proxy.latency > 0:
                    at = now + self.proxy.latency + self.proxy.rng.uniform(-self.proxy.jitter,
                                                                           self.proxy.jitter)
                at = max(at, self.release[direction])  # order kept
                self.release[direction] = at
                self.queues[direction].put_nowait((at, data))
        except (ConnectionError, OSError):
            pass
        # An end seen by a hung connection is not passed on (a dead path carries no FIN),
        # except the client's own: then the server side is dropped with it.
        if direction == "up" and self.hung and self.hung_since is not None:
            self.proxy.hangs.append(time.monotonic() - self.hung_since)
        if not self.hung or direction == "up":
            self.close()

    async def send(self, direction):
        w = self.writers[direction]
        q = self.queues[direction]
        try:
            while True:
                at, data = await q.get()
                delay = at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if self.hung:
                    continue
                w.write(data)
                await w.drain()
                self.proxy.bytes[direction] += len(data)
        except (ConnectionError, OSError):
            self.close()


class FaultProxy:
    def __init__(self, target_port, target_host="127.0.0.1", seed=7):
        self.target = (target_host, target_port)
        self.mode = "pass"
        self.latency = 0.0
        self.jitter = 0.0
        self.rng = random.Random(seed)
        self.conns = set()
        self.counts = {"accepted": 0, "closed_by_proxy": 0, "cut": 0, "hung": 0}
        self.bytes = {"up": 0, "down": 0}
        self.hangs = []
        self.last_accept = None  # monotonic time of the last connection passed on
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="faultproxy",
                                       daemon=True)
        self.thread.start()
        self.server = self._call(self._listen())
        self.port = self.server.sockets[0].getsockname()[1]
        self._reconnects = self._call(self._start_reconnects())

    def _call(self, coro, timeout=10.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _listen(self):
        return await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def _start_reconnects(self):
        return asyncio.ensure_future(self._reconnect_loop())

    async def _reconnect_loop(self):
        """In reconnect mode, closes each connection RECONNECT_S after it was made."""
        while True:
            await asyncio.sleep(0.02)
            if self.mode != "reconnect":
                continue
            now = time.monotonic()
            for c in list(self.conns):
                if now - c.born >= RECONNECT_S:
                    c.close(by_proxy=True)

    async def _accept(self, down_r, down_w):
        if self.mode == "cut":
            self.counts["closed_by_proxy"] += 1
            down_w.close()
            return
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            down_w.close()
            return
        self.counts["accepted"] += 1
        self.last_accept = time.monotonic()
        c = _Conn(self, down_w, up_w)
        c.hung = self.mode == "hang"
        self.conns.add(c)
        c.tasks = [asyncio.ensure_future(c.pump(down_r, "up")),
                   asyncio.ensure_future(c.pump(up_r, "down")),
                   asyncio.ensure_future(c.send("up")),
                   asyncio.ensure_future(c.send("down"))]

    async def _cut(self):
        n = 0
        for c in list(self.conns):
            if not c.hung:
                c.close(by_proxy=True)
                n += 1
        self.counts["cut"] += n
        return n

    async def _hang(self):
        n = 0
        for c in self.conns:
            if not c.hung:
                c.hung = True
                n += 1
        self.counts["hung"] += n
        return n

    async def _set(self, latency, jitter):
        self.latency, self.jitter = latency, jitter

    async def _set_mode(self, mode):
        self.mode = mode
        self.latency, self.jitter = (LATENCY_S, JITTER_S) if mode == "latency" else (0.0, 0.0)
        if mode == "cut":
            for c in list(self.conns):
                c.close(by_proxy=True)
        elif mode == "hang":
            await self._hang()
        else:
            for c in self.conns:  # carrying again
                c.hung, c.hung_since = False, None

    def cut(self):
        """Closes both sides of every open (not hung) connection; returns how many."""
        return self._call(self._cut())

    def hang(self):
        """From now on the open connections forward nothing and close nothing; returns how
        many. Connections made afterwards pass."""
        return self._call(self._hang())

    def set_latency(self, seconds, jitter=0.0):
        """Each chunk from now on waits seconds +- jitter (uniform) before it goes on; a chunk
        never overtakes the one before it."""
        self._call(self._set(float(seconds), float(jitter)))

    def set_mode(self, mode):
        assert mode in ("pass", "cut", "hang", "latency", "reconnect"), mode
        self._call(self._set_mode(mode))

    def down(self):
        """The link down: every connection closed, and each new one at once."""
        self.set_mode("cut")

    def up(self):
        self.set_mode("pass")

    @property
    def accepted(self):
        return self.counts["accepted"]

    def open_connections(self):
        return self._call(self._count())

    async def _count(self):
        return sum(1 for c in self.conns if not c.hung)

    def stats(self):
        return dict(self.counts, up=self.bytes["up"], down=self.bytes["down"])

    def close(self):
        async def shut():
            self._reconnects.cancel()
            self.server.close()
            for c in list(self.conns):
                c.close()
            await self.server.wait_closed()
            await asyncio.sleep(0.05)  # the cancelled tasks end
        try:
            self._call(shut())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
            self.loop.close()

    stop = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
