"""Policies and promotions end to end: the hub, Mosquitto over TLS, real gateways and terminals.

  - `depotctl policies publish --target region:North` reaches dealer A's gateway (a
    retained down/policy), which reports it delivered (a stream event, counted once at the
    hub) and shows its notice on A's scanner terminal; the keypad's OK at the terminal
    acknowledges it (via terminal, by the terminal);
  - a policy to every dealer: B's dealer user acknowledges it in the portal (via portal),
    A's gateway is told and stops showing it; coverage figures and who is missing;
  - a re-push goes to the targets that have not acknowledged, and only to them;
  - a dealer's user sees only the policies it is a target of (404 for another).

Real programs, free ports, bounded waits; the Env stops everything.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, http_json, main, run, wait_for  # noqa: E402
from broker import make_pki, start_broker  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from hubenv import start_hub  # noqa: E402

ADMIN = "admin-token-policies"


class Site:
    def __init__(self, env):
        self.pki = make_pki(env, ["A", "B"])
        _, self.port = start_broker(env, self.pki)
        self.hub, self.http = start_hub(env, self.pki, self.port,
                                        tokens={"admin": ("admin", ADMIN)})
        self.url = "http://127.0.0.1:%d" % self.http
        for d, region in (("A", "North"), ("B", "South")):
            self.api("PATCH", "dealers/" + d, {"region": region})
        self.a = start_warehouse(env, self.pki, self.port, "A", scanners=["scan-1"],
                                 period_ms=100)
        self.b = start_warehouse(env, self.pki, self.port, "B", period_ms=200)

    def api(self, method, path, body=None, token=ADMIN, expect=200):
        status, out = http_json(self.url + "/api/v1/" + path, token, method, body)
        if expect is not None:
            assert status == expect, (method, path, status, out)
        return out

    def ctl(self, *args):
        r = run([os.path.join(BIN, "depotctl")] + list(args) + ["--hub", self.url,
                                                                "--token", ADMIN], timeout=30)
        return r.stdout

    def reach(self, policy, dealer):
        detail = self.api("GET", "policies/%d" % policy)
        return detail, dealer not in detail["missing"]

    def publish(self, title, notice, target):
        out = self.ctl("policies", "publish", "--title", title, "--notice", notice, "--from",
                       "2026-01-01", "--to", "2099-12-31", "--target", target)
        return int(re.search(r'"policy":\s*(\d+)', out).group(1))


def test_a_policy_reaches_the_terminal_and_is_acknowledged_there():
    with Env("policies") as env:
        site = Site(env)
        pid = site.publish("Spring promotion", "SPRING -10%", "region:North")

        def delivered():
            rows = [r for r in site.api("GET", "policies") if r["policy"] == pid]
            return rows and rows[0]["coverage"]["delivered"] == 1
        wait_for(delivered, timeout=20, what="A's gateway reported the policy delivered")
        wait_for(lambda: "SPRING -10%" in site.a.display("scan-1")[1], timeout=10,
                 what="the notice on A's terminal")
        site.a.ctl("scan-1", "confirm")
        wait_for(lambda: site.api("GET", "policies/%d" % pid)["coverage"]["acknowledged"] == 1,
                 timeout=20, what="the acknowledgement at the hub")
        d = site.api("GET", "policies/%d" % pid)
        assert d["coverage"]["targets"] == 1 and d["missing"] == [], d
        assert d["coverage"]["acknowledged_pct_after_days"][0] == 100.0, d
        assert "ACKNOWLEDGED" in site.a.display("scan-1")[1]
        print("  region:North reached A's gateway and terminal; acknowledged with the keypad")


def test_portal_acknowledgement_coverage_and_repush():
    with Env("policies-portal") as env:
        site = Site(env)
        site.api("POST", "users", {"name": "bea", "role": "dealer", "dealer": "B",
                                   "password": "bea of dealer B"}, expect=201)
        status, login = http_json(site.url + "/api/v1/login", None, "POST",
                                  {"user": "bea", "password": "bea of dealer B"})
        assert status == 200, login
        bea = login["token"]
        pid = site.publish("New pumps", "NEW PUMPS", "all")
        mine = http_json(site.url + "/api/v1/policies", bea)[1]
        assert [p["policy"] for p in mine] == [pid], mine
        assert http_json(site.url + "/api/v1/policies/%d/ack" % pid, bea, "POST", {})[0] == 200
        d = site.api("GET", "policies/%d" % pid)
        assert d["coverage"]["acknowledged"] == 1 and d["missing"] == ["A"], d
        out = site.ctl("policies", "repush", str(pid))
        assert '"repushed":\t1' in out, out
        other = site.publish("North only", "NORTH", "list:A")
        assert http_json(site.url + "/api/v1/policies/%d" % other, bea)[0] == 404
        print("  acknowledged in B's portal; A missing; re-pushed to 1; B refused A's policy")


if __name__ == "__main__":
    main([test_a_policy_reaches_the_terminal_and_is_acknowledged_there,
          test_portal_acknowledgement_coverage_and_repush])
