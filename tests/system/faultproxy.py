"""A TCP fault proxy of the tests' own, between a client and a server (e.g. a
gateway and Mosquitto's TLS port). It passes the bytes through untouched (TLS
stays end to end) and, on the test's command, breaks the link as networks do:

    proxy = FaultProxy(broker_port)      # listens on proxy.port, 127.0.0.1
    proxy.cut()                          # close both sides of every connection
    proxy.hang()                         # the open connections forward nothing from now on,
                                         # and no close either: a dead path, both sockets
                                         # left open (new connections pass)
    proxy.set_latency(2.0, 0.5)          # each chunk delayed 2 s +- 0.5 s, order kept
    proxy.set_latency(0)                 # back to no delay
    proxy.close()

It runs an asyncio loop in a thread of the test process; every command is
applied in that loop before it returns. Counters (stats()): connections
accepted, cut, hung, and the bytes forwarded each way.
"""
import asyncio
import random
import threading
import time

CHUNK = 65536


class _Conn:
    def __init__(self, proxy, down_w, up_w):
        self.proxy = proxy
        self.writers = {"up": up_w, "down": down_w}  # "up": toward the server
        self.queues = {"up": asyncio.Queue(), "down": asyncio.Queue()}
        self.release = {"up": 0.0, "down": 0.0}  # when the last queued chunk goes out
        self.hung = False
        self.closed = False
        self.tasks = []

    def close(self):
        if self.closed:
            return
        self.closed = True
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
        self.latency = 0.0
        self.jitter = 0.0
        self.rng = random.Random(seed)
        self.conns = set()
        self.counts = {"accepted": 0, "cut": 0, "hung": 0}
        self.bytes = {"up": 0, "down": 0}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="faultproxy",
                                       daemon=True)
        self.thread.start()
        self.server = self._call(self._listen())
        self.port = self.server.sockets[0].getsockname()[1]

    def _call(self, coro, timeout=10.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _listen(self):
        return await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def _accept(self, down_r, down_w):
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            down_w.close()
            return
        self.counts["accepted"] += 1
        c = _Conn(self, down_w, up_w)
        self.conns.add(c)
        c.tasks = [asyncio.ensure_future(c.pump(down_r, "up")),
                   asyncio.ensure_future(c.pump(up_r, "down")),
                   asyncio.ensure_future(c.send("up")),
                   asyncio.ensure_future(c.send("down"))]

    async def _cut(self):
        n = 0
        for c in list(self.conns):
            if not c.hung:
                c.close()
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

    def open_connections(self):
        return self._call(self._count())

    async def _count(self):
        return sum(1 for c in self.conns if not c.hung)

    def stats(self):
        return dict(self.counts, up=self.bytes["up"], down=self.bytes["down"])

    def close(self):
        async def shut():
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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
