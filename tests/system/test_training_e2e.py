"""Training material end to end through the real hub (and on PostgreSQL in .pg).

  - an MP4 video and a PDF uploaded with depotctl (streamed), stored under [hub] files by
    their SHA-256, byte for byte; a file that is none of PDF, MP4, WebM refused 415, one
    past [training] file_max_mib refused 413, with no file left behind either way;
  - a signed link (for a <video>, which sends no token) serves the file with ranges
    without a token; a forged, widened or other dealer's link is refused 403;
  - the file served with byte ranges: a-b, a- and -n answered 206 with their bytes and
    Content-Range, past the end 416 with "bytes */size", a malformed or multi-range header
    the whole file 200; ETag the SHA-256; the type by the bytes;
  - dealer B's user cannot see, fetch or report on an item assigned only to A (404), and
    sees its own; the manufacturer cannot report viewing;
  - dealer A's two users: progress and done recorded per user with its times; the dealer
    counted viewed and completed once; coverage (completed %, days to 90 %);
  - everything is there after a restart of the hub.

Real programs, free ports, bounded waits; the Env stops everything.
"""
import hashlib
import http.client
import json
import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, http_json, main, run  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from hubenv import metrics, start_hub  # noqa: E402

ADMIN = "admin-token-training"


def mp4(n):
    """An MP4-like file: an ISO "ftyp" box, then n bytes of a pattern."""
    return (b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom"
            + bytes((i * 7 + 3) % 256 for i in range(n)))


def pdf(n):
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes((i * 13) % 256 for i in range(n)) + b"\n%%EOF\n"


class Site:
    def __init__(self, env):
        self.env = env
        self.pki = make_pki(env, ["A", "B"])
        _, self.broker = start_broker(env, self.pki)
        self.files = env.path("files")
        self.db = env.path("hub", "hub.db")
        self.http = None
        self.start()

    def start(self):
        self.proc, self.http = start_hub(
            self.env, self.pki, self.broker, tokens={"admin": ("admin", ADMIN)}, db=self.db,
            http_port=self.http, wait_subscribed=False,
            extra={"hub": {"files": self.files}, "training": {"file_max_mib": "1"}})
        self.url = "http://127.0.0.1:%d" % self.http

    def api(self, method, path, token=ADMIN, body=None, expect=200):
        status, out = http_json(self.url + "/api/v1/" + path, token, method, body)
        if expect is not None:
            assert status == expect, (method, path, status, out)
        return out

    def ctl(self, *args, expect=0):
        r = run([os.path.join(BIN, "depotctl")] + list(args) + ["--hub", self.url,
                                                                "--token", ADMIN],
                timeout=60, check=False)
        assert r.returncode == expect, (args, r.returncode, r.stdout, r.stderr)
        return r.stdout, r.stderr

    def user(self, name, dealer):
        self.api("POST", "users", body={"name": name, "role": "dealer", "dealer": dealer,
                                        "password": "the password of " + name}, expect=201)
        status, login = http_json(self.url + "/api/v1/login", None, "POST",
                                  {"user": name, "password": "the password of " + name})
        assert status == 200, login
        return login["token"]

    def raw(self, method, path, token, body=None, headers=None):
        """(status, body bytes, headers) of one request, the body sent as is."""
        conn = http.client.HTTPConnection("127.0.0.1", self.http, timeout=30)
        try:
            h = {"Authorization": "Bearer " + token}
            h.update(headers or {})
            conn.request(method, "/api/v1/" + path, body, h)
            r = conn.getresponse()
            return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()

    def upload_expecting(self, token, data):
        """(status, reply) of POST training/files sent with "Expect: 100-continue": the body
        goes only after the hub's 100, so a refusal is heard before it."""
        s = socket.create_connection(("127.0.0.1", self.http), timeout=30)
        try:
            s.sendall(("POST /api/v1/training/files HTTP/1.1\r\nHost: hub\r\n"
                       "Authorization: Bearer %s\r\nContent-Length: %d\r\n"
                       "Expect: 100-continue\r\nConnection: close\r\n\r\n"
                       % (token, len(data))).encode())
            first = s.recv(65536)
            if first.startswith(b"HTTP/1.1 100"):
                s.sendall(data)
                first = first.split(b"\r\n\r\n", 1)[1]
            while True:
                more = s.recv(65536)
                if not more:
                    break
                first += more
        finally:
            s.close()
        head, _, body = first.partition(b"\r\n\r\n")
        return int(head.split()[1]), body

    def stored(self):
        return sorted(os.listdir(self.files)) if os.path.isdir(self.files) else []


def add(site, data, name, title, kind, target):
    path = site.env.path(name)
    with open(path, "wb") as f:
        f.write(data)
    out, err = site.ctl("training", "add", path, "--title", title, "--kind", kind,
                        "--target", target)
    item = json.loads(out)
    assert item["sha256"] == hashlib.sha256(data).hexdigest(), item
    assert "uploaded" in err, err
    return item


def check_uploads_and_refusals(site, video, doc):
    stored = site.stored()
    assert stored == sorted([hashlib.sha256(video).hexdigest(),
                             hashlib.sha256(doc).hexdigest()]), stored
    for data in (video, doc):
        with open(os.path.join(site.files, hashlib.sha256(data).hexdigest()), "rb") as f:
            assert f.read() == data
    st, body, _ = site.raw("POST", "training/files", ADMIN, b"GIF89a" + b"\0" * 5000,
                           {"Content-Type": "video/mp4"})  # the type is read from the bytes
    assert st == 415, (st, body)
    st, body = site.upload_expecting(ADMIN, mp4(1024 * 1024 + 10))
    assert st == 413 and b"file_max_mib" in body, (st, body)
    st, body = site.upload_expecting(ADMIN, mp4(1000))  # within the limit: the 100, then 201
    assert st == 201 and hashlib.sha256(mp4(1000)).hexdigest().encode() in body, (st, body)
    os.remove(os.path.join(site.files, hashlib.sha256(mp4(1000)).hexdigest()))
    exe = site.env.path("setup.exe")
    with open(exe, "wb") as f:
        f.write(b"MZ\x90\0" + b"\0" * 100)
    _, err = site.ctl("training", "add", exe, "--title", "Not a video", "--kind", "video",
                      expect=1)
    assert "415" in err, err
    big = site.env.path("big.mp4")
    with open(big, "wb") as f:
        f.write(mp4(3 * 1024 * 1024))
    _, err = site.ctl("training", "add", big, "--title", "Too long", "--kind", "video",
                      expect=1)
    assert "413" in err and "file_max_mib" in err, err
    assert site.stored() == stored  # nothing left of the refused ones
    m = metrics(site.http)
    assert m["depot_hub_training_files_stored_total"] == 3, m  # two by depotctl, one above
    assert m["depot_hub_training_files_refused_total"] == 4, m  # 415, 413 here; 415, 413 by ctl
    # a PDF named as a video is refused when the item is created
    out = site.api("POST", "training", body={"title": "Wrong kind", "kind": "video",
                                             "file": hashlib.sha256(doc).hexdigest(),
                                             "target": {"kind": "all"}}, expect=400)
    assert "application/pdf" in out["error"], out
    site.api("POST", "training", body={"title": "No file", "kind": "video", "file": "0" * 64,
                                       "target": {"kind": "all"}}, expect=422)
    st, body = site.upload_expecting(site.ann, mp4(10))
    assert st == 403, (st, body)
    st, body = site.upload_expecting("not-a-token", mp4(10))
    assert st == 401, (st, body)


def check_ranges(site, item, data, token):
    path = "training/%d/file" % item["item"]
    n = len(data)
    st, body, h = site.raw("GET", path, token)
    assert st == 200 and body == data, (st, len(body))
    assert h["content-type"] == item["type"] and h["accept-ranges"] == "bytes", h
    assert h["etag"] == '"%s"' % hashlib.sha256(data).hexdigest(), h
    for spec, lo, hi in (("bytes=0-99", 0, 99), ("bytes=100-", 100, n - 1),
                         ("bytes=-50", n - 50, n - 1), ("bytes=%d-%d" % (n - 10, n + 500),
                                                        n - 10, n - 1)):
        st, body, h = site.raw("GET", path, token, headers={"Range": spec})
        assert st == 206, (spec, st)
        assert body == data[lo:hi + 1], spec
        assert h["content-range"] == "bytes %d-%d/%d" % (lo, hi, n), (spec, h)
    st, body, h = site.raw("GET", path, token, headers={"Range": "bytes=%d-" % n})
    assert st == 416 and h["content-range"] == "bytes */%d" % n, (st, h)
    for bad in ("bytes=5-2", "bytes=0-1,5-9", "pages=1-2", "bytes=x-"):
        st, body, _ = site.raw("GET", path, token, headers={"Range": bad})
        assert st == 200 and body == data, (bad, st)


def media(site, url, headers=None):
    """(status, body, headers) of a GET of url without any token."""
    conn = http.client.HTTPConnection("127.0.0.1", site.http, timeout=30)
    try:
        conn.request("GET", url, None, headers or {})
        r = conn.getresponse()
        return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def check_links(site, item, data):
    """A signed link plays in a <video> without a token, ranges included; forged: 403."""
    link = site.api("GET", "training/%d/link" % item["item"], site.ann)
    assert link["url"].startswith("/media/training/%d?d=A&" % item["item"]), link
    st, body, h = media(site, link["url"], {"Range": "bytes=10-19"})
    assert st == 206 and body == data[10:20], (st, h)
    assert h["content-range"] == "bytes 10-19/%d" % len(data), h
    st, body, _ = media(site, link["url"])
    assert st == 200 and body == data, st
    forged = re.sub(r"m=([0-9a-f])", lambda m: "m=" + ("0" if m.group(1) != "0" else "1"),
                    link["url"])
    assert media(site, forged)[0] == 403
    assert media(site, link["url"].replace("d=A", "d=B"))[0] == 403
    longer = re.sub(r"e=(\d+)", lambda m: "e=%d" % (int(m.group(1)) + 1), link["url"])
    assert media(site, longer)[0] == 403
    assert media(site, "/media/training/%d" % item["item"])[0] == 403
    st, _, _ = site.raw("GET", "training/%d/link" % item["item"], site.bob)
    assert st == 404, st  # not B's
    mine = site.api("GET", "training/%d/link" % item["item"])  # the manufacturer's: any item
    assert "?d=&" in mine["url"] and media(site, mine["url"])[0] == 200, mine


def test_training_upload_serve_view_complete_and_coverage():
    with Env("training") as env:
        site = Site(env)
        site.ann, site.amy, site.bob = (site.user("ann", "A"), site.user("amy", "A"),
                                        site.user("bob", "B"))
        video_data, doc_data = mp4(300 * 1024), pdf(20 * 1024)
        video = add(site, video_data, "pump.mp4", "Installing the pump", "video", "list:A")
        doc = add(site, doc_data, "safety.pdf", "Safety sheet", "document", "list:A,B")
        assert video["type"] == "video/mp4" and video["targets"] == 1, video
        assert doc["type"] == "application/pdf" and doc["targets"] == 2, doc
        check_uploads_and_refusals(site, video_data, doc_data)
        check_ranges(site, video, video_data, site.ann)
        check_ranges(site, doc, doc_data, ADMIN)
        check_links(site, video, video_data)

        v = "training/%d" % video["item"]
        for method, path in (("GET", v), ("GET", v + "/file"), ("POST", v + "/progress"),
                             ("POST", v + "/done")):
            st, _, _ = site.raw(method, path, site.bob, b"{}" if method == "POST" else None)
            assert st == 404, (method, path, st)  # not B's: as if none
        assert site.api("GET", "training?dealer=B", site.bob, expect=200)[0]["item"] == doc["item"]
        assert [i["item"] for i in site.api("GET", "training", site.bob)] == [doc["item"]]
        site.api("GET", "training?dealer=A", site.bob, expect=403)
        site.api("POST", v + "/progress", ADMIN, {"position": 5}, expect=403)
        site.api("POST", v + "/progress", site.ann, {"position": -1}, expect=400)
        site.api("POST", v + "/progress", site.ann, {"seconds": 1}, expect=400)

        rec = site.api("POST", v + "/progress", site.ann, {"position": 30})
        assert rec["user"] == "ann" and rec["position"] == 30 and not rec["completed"], rec
        site.api("POST", v + "/progress", site.ann, {"position": 95})
        rec = site.api("POST", v + "/progress", site.ann, {"position": 40})  # rewound
        assert rec["position"] == 95 and rec["first_viewed"] <= rec["last_viewed"], rec
        mine = site.api("GET", "training", site.ann)[1]
        assert mine["item"] == video["item"] and mine["state"]["viewed"], mine
        assert not mine["state"]["completed"] and mine["mine"]["position"] == 95, mine
        assert "target" not in mine, mine
        done = site.api("POST", v + "/done", site.amy)
        assert done["user"] == "amy" and done["completed"] and done["completed_at"], done
        again = site.api("POST", v + "/done", site.amy)
        assert again["completed_at"] == done["completed_at"], again  # the first time only
        site.api("POST", v + "/done", site.ann)
        site.api("POST", "training/%d/progress" % doc["item"], site.bob, {"position": 2})

        def check(shown):
            assert shown["progress"] == {"targets": 1, "viewed": 1, "completed": 1,
                                         "completed_pct": 100.0}, shown["progress"]
            cov = shown["coverage"]
            assert cov["days_to_90_pct"] == 1, cov  # within the first day
            assert cov["completed_pct_after_days"] == {"1": None, "3": None, "7": None,
                                                       "14": None, "30": None}, cov
            [a] = shown["dealers"]
            assert a["dealer"] == "A" and a["completed"] and a["viewed"], a
            assert a["completed_at"] == done["completed_at"], a  # the earliest of its users
            users = {u["user"]: u for u in a["users"]}
            assert sorted(users) == ["amy", "ann"], users
            assert users["ann"]["position"] == 95 and users["ann"]["completed"], users
            assert users["amy"]["completed_at"] == done["completed_at"], users
            d = site.api("GET", "training/%d" % doc["item"])
            assert d["progress"] == {"targets": 2, "viewed": 1, "completed": 0,
                                     "completed_pct": 0.0}, d["progress"]
            assert d["coverage"]["days_to_90_pct"] is None, d
            assert [x["viewed"] for x in d["dealers"]] == [False, True], d["dealers"]

        shown = json.loads(site.ctl("training", "show", str(video["item"]))[0])
        check(shown)
        mine = site.api("GET", v, site.ann)
        assert mine["state"]["completed"] and "dealers" not in mine, mine
        assert sorted(u["user"] for u in mine["users"]) == ["amy", "ann"], mine
        table = site.ctl("training", "list")[0]
        assert re.search(r"Installing the pump\s+video\s+1\s+1\s+1\s+100\s+1", table), table
        assert re.search(r"Safety sheet\s+document\s+2\s+1\s+0\s+0\s+-", table), table

        site.proc.stop()
        site.start()
        check(site.api("GET", v))
        check_ranges(site, video, video_data, site.amy)
        print("  MP4 and PDF streamed in and served in ranges; 415, 413; B kept out; "
              "A's two users recorded, A counted once; all kept over a restart")


if __name__ == "__main__":
    main([test_training_upload_serve_view_complete_and_coverage])
