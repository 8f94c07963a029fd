"""E-contracts end to end: the hub, Mosquitto over TLS, real gateways and terminals.

  - the manufacturer issues a contract (a PDF's exact bytes, with terms: dates, credit limit,
    tier) to dealer A with `depotctl contracts issue`; the hub keeps the file under its
    SHA-256; A's gateway gets it (down/contract) and its terminal says to scan C<id>; B's
    gateway gets nothing of A's;
  - A's dealer user reads it in the portal's API (the file byte for byte); B's user sees
    nothing of it (404);
  - at A's terminal, an unknown sign code is refused, C<id> signs: the gateway's key over
    the contract id, dealer, SHA-256 and time; the hub verifies and countersigns; the terms
    take effect on the start day (today): A's credit limit and tier change;
  - `depotctl contracts verify FILE SIG --ca` holds; one byte changed in the file, or the
    signed document changed, and it fails, naming the check;
  - forged: B's own gateway certificate signing A's contract on B's topic, and a document
    that names A sent on B's topic, are refused and counted, A's contract unchanged;
  - a contract ending in 45 days opens contract_expiring (reminders at 60, 30, 7 days).

Real programs, free ports, bounded waits; the Env stops everything.
"""
import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))

from harness import BIN, Env, http_json, main, run, wait_for  # noqa: E402
from broker import dealer_identity, make_pki, mqtt_pub, start_broker  # noqa: E402
from gwenv import start_warehouse  # noqa: E402
from hubenv import metrics, start_hub  # noqa: E402

ADMIN = "admin-token-contracts"
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
       b"% Dealer agreement 2027: credit 7500.00, tier gold\ntrailer << >>\n%%EOF\n")


def day(offset=0):
    return (datetime.datetime.now(datetime.timezone.utc).date()
            + datetime.timedelta(days=offset)).isoformat()


class Site:
    def __init__(self, env):
        self.env = env
        self.pki = make_pki(env, ["A", "B"])
        _, self.port = start_broker(env, self.pki)
        self.hub, self.http = start_hub(env, self.pki, self.port,
                                        tokens={"admin": ("admin", ADMIN)})
        self.url = "http://127.0.0.1:%d" % self.http
        self.a = start_warehouse(env, self.pki, self.port, "A", scanners=["scan-1"])
        self.b = start_warehouse(env, self.pki, self.port, "B", scanners=["scan-1"])

    def api(self, method, path, body=None, token=ADMIN, expect=200):
        status, out = http_json(self.url + "/api/v1/" + path, token, method, body)
        if expect is not None:
            assert status == expect, (method, path, status, out)
        return out

    def ctl(self, *args, check=True):
        r = run([os.path.join(BIN, "depotctl")] + list(args) + ["--hub", self.url,
                                                                "--token", ADMIN],
                timeout=30, check=False)
        if check:
            assert r.returncode == 0, (r.stdout, r.stderr)
        return r

    def user(self, name, dealer):
        self.api("POST", "users", {"name": name, "role": "dealer", "dealer": dealer,
                                   "password": "the password of " + name}, expect=201)
        status, login = http_json(self.url + "/api/v1/login", None, "POST",
                                  {"user": name, "password": "the password of " + name})
        assert status == 200, login
        return login["token"]

    def metric(self, name):
        return metrics(self.http).get(name, 0)

    def raw(self, path, token):
        req = urllib.request.Request(self.url + "/api/v1/" + path,
                                     headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


def verify(*args):
    return run([os.path.join(BIN, "depotctl"), "contracts", "verify"] + list(args),
               timeout=30, check=False)


def forged(site, dealer, doc, msg_id):
    """A signature message msg_id on dealer's topic: doc signed with dealer's own gateway key."""
    cert, key = dealer_identity(site.pki, dealer)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=doc.encode(),
                         capture_output=True, check=True, timeout=10).stdout
    with open(cert) as f:
        pem = f.read()
    msg = {"v": 1, "type": "signature", "dealer": dealer, "ledger": "f" * 32, "id": msg_id,
           "base": 1, "ts": 1, "body": {"doc": doc, "sig": base64.b64encode(sig).decode(),
                                        "cert": pem}}
    r = mqtt_pub(site.pki, site.port, "depot/v1/%s/up/signature" % dealer, json.dumps(msg),
                 cert, key)
    assert r.returncode == 0, r.stderr


def test_contract_issued_signed_at_the_terminal_verified_and_in_effect():
    with Env("contracts") as env:
        site = Site(env)
        a, b = site.a, site.b
        contract_file = env.path("agreement.pdf")
        with open(contract_file, "wb") as f:
            f.write(PDF)
        sha = hashlib.sha256(PDF).hexdigest()
        out = site.ctl("contracts", "issue", contract_file, "--dealer", "A", "--title",
                       "Dealer agreement 2027", "--start", day(), "--end", day(45),
                       "--credit-limit", "7500.00", "--tier", "gold").stdout
        c = json.loads(out)
        assert c["sha256"] == sha and c["state"] == "to sign" and c["sign_code"] == "C%d" % c[
            "id"], c
        with open(os.path.join(env.path("hub"), "depot-hub-files", sha), "rb") as f:
            assert f.read() == PDF

        # A's gateway has it and its terminal says what to scan; B's has nothing of A's
        wait_for(lambda: a.ledger_query("SELECT sha256 FROM contracts WHERE contract = ?",
                                        (c["id"],)) == [(sha,)], timeout=20,
                 what="the contract in A's ledger")
        wait_for(lambda: a.display("scan-1")[1] == "CONTRACT %d: SCAN C%d TO SIGN" % (
            c["id"], c["id"]), timeout=10, what="the sign notice on A's terminal")
        assert b.ledger_query("SELECT count(*) FROM contracts") == [(0,)]

        # the portal: A's user reads it; B's user sees nothing of it
        ann, bob = site.user("ann", "A"), site.user("bob", "B")
        mine = site.api("GET", "contracts", token=ann)
        assert [x["id"] for x in mine] == [c["id"]], mine
        status, body = site.raw("contracts/%d/file" % c["id"], ann)
        assert status == 200 and body == PDF, status
        for path in ("contracts/%d" % c["id"], "contracts/%d/file" % c["id"]):
            site.api("GET", path, token=bob, expect=404)
        assert site.api("GET", "contracts", token=bob) == []
        site.api("GET", "contracts/%d/signature" % c["id"], expect=404)  # not signed yet

        # forged before the real one: B's key over A's contract on B's topic, and a document
        # naming A on B's topic; both refused and counted, nothing changes
        doc = {"contract": c["id"], "dealer": "B", "sha256": sha, "signed_at": 1,
               "terminal": "scan-1"}
        forged(site, "B", json.dumps(doc, separators=(",", ":")), 1)
        doc["dealer"] = "A"
        forged(site, "B", json.dumps(doc, separators=(",", ":")), 2)
        wait_for(lambda: site.metric("depot_hub_contract_signatures_refused_total") == 2,
                 timeout=20, what="both forged signatures refused")
        assert site.api("GET", "contracts/%d" % c["id"])["state"] == "to sign"

        # at A's terminal: an unknown code refused; C<id> signs
        a.ctl("scan-1", "confirm C%d" % (c["id"] + 100))
        wait_for(lambda: a.display("scan-1")[1] == "NO CONTRACT %d HERE" % (c["id"] + 100),
                 timeout=10, what="the unknown sign code refused")
        a.ctl("scan-1", "confirm C%d" % c["id"])
        wait_for(lambda: a.display("scan-1")[1] == "CONTRACT %d SIGNED" % c["id"], timeout=10,
                 what="the contract signed at A's terminal")
        got = wait_for(lambda: (lambda x: x if x["state"] == "in effect" else None)(
            site.api("GET", "contracts/%d" % c["id"])), timeout=20,
            what="the contract signed and in effect at the hub")
        assert got["countersigned"] and got["signed_at"], got
        profile = site.api("GET", "dealers/A")
        assert profile["credit_limit"] == 7500 and profile["tier"] == "gold", profile
        assert profile["contract_start"] == day() and profile["contract_end"] == day(45), profile
        assert site.metric("depot_hub_contracts_signed_total") == 1

        # the signed pair, verified offline; any change is caught
        sig_file = env.path("agreement.sig")
        with open(sig_file, "w") as f:
            f.write(site.ctl("contracts", "signature", str(c["id"])).stdout)
        r = verify(contract_file, sig_file, "--ca", site.pki["device_ca"])
        assert r.returncode == 0 and r.stdout.strip().endswith("verified"), r.stdout
        assert r.stdout.count("ok  ") == 6, r.stdout
        bad_file = env.path("agreement-changed.pdf")
        with open(bad_file, "wb") as f:
            f.write(PDF.replace(b"7500.00", b"9500.00"))
        r = verify(bad_file, sig_file)
        assert r.returncode == 1 and "FAIL the signed SHA-256 is the file's" in r.stdout, r.stdout
        pair = json.loads(open(sig_file).read())
        pair["doc"] = pair["doc"].replace('"terminal":"scan-1"', '"terminal":"scan-2"')
        bad_sig = env.path("agreement-changed.sig")
        with open(bad_sig, "w") as f:
            json.dump(pair, f)
        r = verify(contract_file, bad_sig)
        assert r.returncode == 1 and "FAIL the dealer's signature verifies" in r.stdout, r.stdout
        assert "FAIL the hub's countersignature verifies" in r.stdout, r.stdout
        r = verify(contract_file, sig_file, "--ca", site.pki["ca"])  # not the device CA
        assert r.returncode == 1 and "FAIL the dealer's certificate was issued" in r.stdout

        # signed once: a second scan is refused at the terminal
        a.ctl("scan-1", "confirm C%d" % c["id"])
        wait_for(lambda: a.display("scan-1")[1] == "CONTRACT %d ALREADY SIGNED" % c["id"],
                 timeout=10, what="the second signature refused at the terminal")
        wait_for(lambda: a.ledger_query("SELECT signed FROM contracts") == [(1,)], timeout=10,
                 what="A's ledger: signed")

        # the end is 45 days away: the first reminder (60 days) is open, for both sides
        alerts = wait_for(lambda: [x for x in site.api("GET", "alerts?dealer=A&status=open")
                                   if x["kind"] == "contract_expiring"] or None, timeout=20,
                          what="contract_expiring for A")
        mine = [x for x in site.api("GET", "alerts", token=ann)
                if x["kind"] == "contract_expiring"]
        assert len(alerts) == 1 and len(mine) == 1, (alerts, mine)
        assert alerts[0]["severity"] == "info" and "reminder: 60 days" in alerts[0]["text"], alerts
        print("  contract %d (%d bytes, SHA-256 %s...) issued, signed at A's terminal, "
              "countersigned, in effect (credit 7500.00, gold); verify: 6 checks hold, a "
              "changed byte and a changed document caught; 2 forgeries refused" %
              (c["id"], len(PDF), sha[:12]))


if __name__ == "__main__":
    main([test_contract_issued_signed_at_the_terminal_verified_and_in_effect])
