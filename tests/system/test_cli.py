"""Every program's command line, as a user meets it, and the files depotctl reads.

Every program and every subcommand (depot-hub; depot-gateway and its
subcommands; depotctl, each command and each verb; depot-node and its modes
and ctl) answers --help and -h with its usage on stdout and exit 0, and a
bogus option with its usage on stderr and exit 2.

depotctl's CSV imports check every line before anything is sent: a line too
long or with a NUL byte is an error naming FILE:LINE, never cut into two lines
or read up to the NUL.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import BIN, Env, main, run  # noqa: E402

# Every command line that has a usage of its own (the program and its words).
COMMANDS = [
    ["depot-hub"],
    ["depot-gateway"],
    ["depot-gateway", "check"],
    ["depot-gateway", "keygen"],
    ["depot-gateway", "renew"],
    ["depot-gateway", "install-cert"],
    ["depotctl"],
    ["depotctl", "pki"],
    ["depotctl", "pki", "ca"],
    ["depotctl", "pki", "server"],
    ["depotctl", "pki", "client"],
    ["depotctl", "pki", "sign"],
    ["depotctl", "pki", "revoke"],
    ["depotctl", "pki", "crl"],
    ["depotctl", "broker-config"],
    ["depotctl", "stock"],
    ["depotctl", "catalog"],
    ["depotctl", "catalog", "import"],
    ["depotctl", "catalog", "show"],
    ["depotctl", "dealers"],
    ["depotctl", "dealers", "list"],
    ["depotctl", "dealers", "show"],
    ["depotctl", "dealers", "set"],
    ["depotctl", "payments"],
    ["depotctl", "payments", "add"],
    ["depotctl", "payments", "import"],
    ["depotctl", "ranking"],
    ["depotctl", "orders"],
    ["depotctl", "orders", "list"],
    ["depotctl", "orders", "show"],
    ["depotctl", "orders", "approve"],
    ["depotctl", "orders", "reject"],
    ["depotctl", "alerts"],
    ["depotctl", "alerts", "list"],
    ["depotctl", "alerts", "show"],
    ["depotctl", "alerts", "ack"],
    ["depotctl", "alerts", "resolve"],
    ["depotctl", "users"],
    ["depotctl", "users", "list"],
    ["depotctl", "users", "show"],
    ["depotctl", "users", "add"],
    ["depotctl", "users", "disable"],
    ["depotctl", "users", "enable"],
    ["depotctl", "users", "reset"],
    ["depotctl", "users", "set"],
    ["depotctl", "tokens"],
    ["depotctl", "tokens", "list"],
    ["depotctl", "tokens", "create"],
    ["depotctl", "tokens", "revoke"],
    ["depotctl", "policies"],
    ["depotctl", "policies", "publish"],
    ["depotctl", "policies", "list"],
    ["depotctl", "policies", "show"],
    ["depotctl", "policies", "repush"],
    ["depot-node"],
    ["depot-node", "scale"],
    ["depot-node", "scanner"],
    ["depot-node", "ctl"],
]


def cli(words, *extra, check=False):
    return run([os.path.join(BIN, words[0])] + list(words[1:]) + list(extra), check=check,
               timeout=30)


def no_sanitizer_report(r):
    assert "AddressSanitizer" not in r.stderr and "runtime error:" not in r.stderr, r.stderr


def test_every_program_and_subcommand_answers_help_on_stdout_with_exit_0():
    for words in COMMANDS:
        for flag in ("--help", "-h"):
            r = cli(words, flag)
            no_sanitizer_report(r)
            what = "%s %s" % (" ".join(words), flag)
            assert r.returncode == 0, "%s: exit %d\n%s%s" % (what, r.returncode, r.stdout,
                                                             r.stderr)
            assert r.stdout.startswith("usage: "), "%s: no usage on stdout:\n%r" % (what,
                                                                                    r.stdout)
            assert r.stderr == "", "%s: wrote to stderr:\n%s" % (what, r.stderr)
    # A verb's help names the verb and what it takes.
    r = cli(["depotctl", "orders", "approve"], "--help")
    assert r.stdout.startswith("usage: depotctl orders approve ID"), r.stdout
    assert "--stage" in r.stdout, r.stdout


def test_every_program_and_subcommand_refuses_a_bogus_option_with_usage_on_stderr_exit_2():
    for words in COMMANDS:
        r = cli(words, "--no-such-option")
        no_sanitizer_report(r)
        what = "%s --no-such-option" % " ".join(words)
        assert r.returncode == 2, "%s: exit %d\n%s%s" % (what, r.returncode, r.stdout, r.stderr)
        assert "usage: " in r.stderr, "%s: no usage on stderr:\n%s" % (what, r.stderr)
        assert r.stdout == "", "%s: wrote to stdout:\n%s" % (what, r.stdout)


def test_a_missing_or_unknown_verb_is_a_usage_error():
    for words in (["depotctl", "orders"], ["depotctl", "orders", "promote"],
                  ["depotctl", "orders", "approve"], ["depotctl", "dealers", "show", "A", "B"],
                  ["depotctl", "pki", "revoke"], ["depotctl", "no-such-command"],
                  ["depot-hub"], ["depot-gateway", "check"], ["depot-node", "ctl"]):
        r = cli(words)
        no_sanitizer_report(r)
        assert r.returncode == 2, "%s: exit %d\n%s" % (words, r.returncode, r.stderr)
        assert "usage: " in r.stderr, "%s:\n%s" % (words, r.stderr)


CATALOG_HEADER = ("sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,"
                  "lead_time_days,max_stock\n")


def import_refused(env, words, name, data, want):
    path = env.path(name)
    with open(path, "wb") as f:
        f.write(data)
    # Nothing listens on port 1: a file that passed its checks would fail to connect instead.
    r = cli(words, path, "--hub", "http://127.0.0.1:1", "--token", "t0123456789")
    no_sanitizer_report(r)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert want % path in r.stderr, r.stderr
    assert "nothing imported" in r.stderr, r.stderr
    assert "cannot reach" not in r.stderr and "connect" not in r.stderr.lower(), r.stderr


def test_depotctl_imports_refuse_long_lines_and_nul_bytes_with_file_and_line():
    with Env("cli-csv") as env:
        good = b"S1,4006381333931,1.00,10,1,10,5,3,100\n"
        # A line over 1024 characters whose tail alone would be a good line.
        long_line = b"S2,4006381333932,1.00,10,1,10,5,3,100" + b" " * 1100 + b"," + good
        import_refused(env, ["depotctl", "catalog", "import"], "long.csv",
                       CATALOG_HEADER.encode() + good + long_line,
                       "%s:3: line longer than 1024 characters")
        import_refused(env, ["depotctl", "catalog", "import"], "nul.csv",
                       CATALOG_HEADER.encode() + b"S1,4006381333931,1.00,10,1,10,5,3,100\0,x\n",
                       "%s:2: a NUL byte in the line")
        pay_header = b"dealer,amount,order,ref,date\n"
        import_refused(env, ["depotctl", "payments", "import"], "pay-nul.csv",
                       pay_header + b"A,10.00,,r1\0junk,2026-01-02\n",
                       "%s:2: a NUL byte in the line")
        import_refused(env, ["depotctl", "payments", "import"], "pay-long.csv",
                       pay_header + b"A,10.00,,r1," + b"x" * 1100 + b"\nA,1.00,,r2,2026-01-02\n",
                       "%s:2: line longer than 1024 characters")


if __name__ == "__main__":
    main([
        test_every_program_and_subcommand_answers_help_on_stdout_with_exit_0,
        test_every_program_and_subcommand_refuses_a_bogus_option_with_usage_on_stderr_exit_2,
        test_a_missing_or_unknown_verb_is_a_usage_error,
        test_depotctl_imports_refuse_long_lines_and_nul_bytes_with_file_and_line,
    ])
