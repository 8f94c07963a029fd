#!/usr/bin/python3
"""Benchmark: a training video uploaded to the hub and served back, and the hub's memory.

    DEPOT_BIN=build/bin DEPOT_TESTBIN=build/tests \\
        python3 tests/bench/bench_training_file.py --mib 300

Set-up, real programs on 127.0.0.1: Mosquitto and depot-hub (SQLite) with
[training] file_max_mib above the file. A file of --mib MiB of random bytes
behind an MP4 "ftyp" box is:

1. baseline: read, hashed (SHA-256) and written to a new file in the same
   folder, synced: the least any store of the file must do, in one process;
2. Depot: uploaded with `depotctl training add` (streamed to
   POST /api/v1/training/files, written to [hub] files as it arrives, hashed,
   synced, renamed to its digest, then the item created), and then fetched
   whole from GET /api/v1/training/<id>/file (sent from the file, never read
   into the hub's memory) and hashed by the client.

Printed: each time, and the hub's resident memory (VmRSS) and peak (VmHWM)
before and after: the file must not pass through the hub's memory.
"""
import argparse
import hashlib
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib as bl  # noqa: E402
from harness import BIN, Env, run  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from hubenv import start_hub  # noqa: E402

TOKEN = "bench-training-token"


def baseline(path, folder):
    t = time.monotonic()
    h = hashlib.sha256()
    out = os.path.join(folder, "copy")
    with open(path, "rb") as f, open(out, "wb") as o:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
            o.write(b)
        o.flush()
        os.fsync(o.fileno())
    os.remove(out)
    return time.monotonic() - t, h.hexdigest()


def fetch(port, item):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", "/api/v1/training/%d/file" % item, None,
                 {"Authorization": "Bearer " + TOKEN})
    r = conn.getresponse()
    h, n = hashlib.sha256(), 0
    while True:
        b = r.read(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    conn.close()
    return r.status, n, h.hexdigest()


def show(label, pid):
    m = bl.memory(pid)
    print("  hub memory %s: VmRSS %s, VmHWM %s" % (label, bl.mib(m["VmRSS"]),
                                                              bl.mib(m["VmHWM"])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=300, help="size of the video (MiB)")
    a = ap.parse_args()
    with Env("bench-training") as env:
        pki = make_pki(env, ["A"])
        _, broker = start_broker(env, pki)
        hub, port = start_hub(env, pki, broker, tokens={"admin": ("admin", TOKEN)},
                              wait_subscribed=False, log_level="info",
                              extra={"hub": {"files": env.path("files")},
                                     "training": {"file_max_mib": str(a.mib + 1)}})
        path = env.path("video.mp4")
        with open(path, "wb") as f:
            f.write(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom")
            for _ in range(a.mib):
                f.write(os.urandom(1 << 20))
        base_s, digest = baseline(path, env.path("files") if os.path.isdir(env.path("files"))
                                  else env.dir)
        print("baseline: read, SHA-256, write and sync %d MiB: %.2f s" % (a.mib, base_s))
        show("before", hub.p.pid)
        t = time.monotonic()
        r = run([os.path.join(BIN, "depotctl"), "training", "add", path, "--title", "Bench",
                 "--kind", "video", "--target", "list:A", "--hub", "http://127.0.0.1:%d" % port,
                 "--token", TOKEN], timeout=600)
        up_s = time.monotonic() - t
        item = json.loads(r.stdout)
        assert item["sha256"] == digest, item
        print("depot: upload %d MiB (depotctl training add): %.2f s (%.2f x the baseline)"
              % (a.mib, up_s, up_s / base_s))
        show("after the upload", hub.p.pid)
        t = time.monotonic()
        status, n, got = fetch(port, item["item"])
        assert status == 200 and got == digest, (status, n)
        print("depot: served back whole (GET .../file, hashed by the client): %.2f s"
              % (time.monotonic() - t))
        show("after serving", hub.p.pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
