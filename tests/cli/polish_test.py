#!/usr/bin/env python3
"""polish_test.py - what a person meets first at the agora command line.

- Tables line up by display width: a name with ø, å, – or CJK characters
  takes as many columns as it shows, so the next column starts at the same
  place on every line (`agora query`'s table, `agora alliance list`).
- An empty result says "no records match" on stderr and exits 0, while
  stdout stays what scripts expect ("" for a table, "[]" for --json, a
  CSV header), in `agora query` and `agora export`; an empty `agora peer
  list` says "no peers" the same way.
- `agora help` lists the commands; `agora help COMMAND [SUB]` prints exactly
  `agora COMMAND [SUB] --help`; an unknown one is a usage error (2).
- On a terminal (a pty here), `agora init` asks for the new key's passphrase
  twice with echo off (Enter alone keeps it unencrypted; two different
  answers create nothing), and a command that signs asks for it again.

Usage: polish_test.py AGORA_BINARY
"""
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata

AGORA = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="agora-polish.")
FAILS = []
ENV = {k: v for k, v in os.environ.items() if k != "AGORA_PASSPHRASE"}
ENV["COLUMNS"] = "400"


def run(home, *args, check=True, env=ENV):
    p = subprocess.run([AGORA, "--home", home] + list(args), capture_output=True, text=True,
                       env=env, stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        sys.exit("FAIL: agora %s -> %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def width(s):
    """Display columns of s, as a terminal shows it."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def column_at(line, needle):
    i = line.find(needle)
    return None if i < 0 else width(line[:i])


# ------------------------------------------------------------ tables
home = os.path.join(TMP, "h")
name = "Sønderborg Å – 気候変動"
run(home, "init", "--name", name, "--country", "DK", "--alliance", "Ærø–Åbenrå 気候同盟")
run(home, "alliance", "create", "--name", "Assens")
for t, y in (("Vådområder ved Haarby Å", "2021"), ("気候変動 対策", "2022")):
    run(home, "publish", "measure", "--title", t, "--language", "da", "--mitigation",
        "--sector", "waste", "--status", "ongoing", "--start-year", y)
out = run(home, "query", "--kind", "measure").stdout.splitlines()
check(len(out) == 3, "query table: header and two rows: %s" % out)
# The YEARS column starts at the same display column on every line.
cols = [column_at(out[0], "YEARS")] + [column_at(l, y) for l, y in zip(out[1:], ("202", "202"))]
check(len(set(cols)) == 1 and cols[0] is not None, "query table aligned by display width: %s" % cols)
out = run(home, "alliance", "list").stdout.splitlines()
ids = [l.split()[-3] for l in out[1:]]
cols = [column_at(out[0], "ID")] + [column_at(l, i) for l, i in zip(out[1:], ids)]
check(len(set(cols)) == 1 and len(out) == 3, "alliance list aligned by display width: %s" % cols)

# ------------------------------------------------------------ empty results
p = run(home, "query", "--text", "nothing-like-this-anywhere")
check(p.stdout == "" and p.stderr.strip() == "no records match", "empty table: %r %r" % (p.stdout, p.stderr))
p = run(home, "query", "--text", "nothing-like-this-anywhere", "--json")
check(p.stdout.strip() == "[]" and "no records match" in p.stderr, "empty json: %r" % p.stdout)
p = run(home, "query", "--kind", "measure")
check("no records match" not in p.stderr, "a result is not called empty")
# export and peer list say so the same way, each format still valid.
p = run(home, "export", "--kind", "lesson")
check(p.stdout == "" and p.stderr.strip() == "no records match", "empty export: %r %r" % (p.stdout, p.stderr))
p = run(home, "export", "--kind", "lesson", "--format", "csv")
check(p.stdout.startswith("id,") and p.stdout.count("\n") == 1 and p.stderr.strip() == "no records match",
      "empty csv export: a header only: %r %r" % (p.stdout, p.stderr))
out_dir = os.path.join(TMP, "empty-tables")
p = run(home, "export", "--kind", "lesson", "--format", "csv", "--output-dir", out_dir)
check(os.listdir(out_dir) == [] and p.stderr.strip() == "no records match",
      "empty export to a directory: %r %r" % (os.listdir(out_dir), p.stderr))
p = run(home, "export", "--kind", "measure")
check(p.stdout.count("\n") == 2 and "no records match" not in p.stderr, "an export is not called empty")
p = run(home, "export", "--help")
check("no records match" not in p.stderr, "export --help is not an empty result: %r" % p.stderr)
p = run(home, "peer", "list")
check(p.stdout == "" and p.stderr.startswith("no peers"), "empty peer list: %r %r" % (p.stdout, p.stderr))

# ------------------------------------------------------------ help
p = run(home, "help")
check("report" in p.stdout and "help" in p.stdout and p.returncode == 0, "agora help lists commands")
for cmd in (["report"], ["query"], ["alliance", "admit"]):
    a = run(home, "help", *cmd)
    b = run(home, *cmd, "--help")
    check(a.stdout == b.stdout and a.stdout, "agora help %s == %s --help" % (" ".join(cmd), " ".join(cmd)))
p = run(home, "help", "nope", check=False)
check(p.returncode == 2 and "not an agora command" in p.stderr, "help nope -> 2")

# ------------------------------------------------------------ passphrase prompt


def on_pty(args, answers, timeout=30):
    """Run agora on a pty, answering each prompt in turn; (output, exit code)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(AGORA, ["agora"] + args, ENV)
    out, left, end = b"", list(answers), time.time() + timeout
    asked = 0
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            if not d:
                break
            out += d
        # Answer each prompt once it shows (a prompt ends in ": ").
        prompts = out.count(b"passphrase for ") + out.count(b"passphrase again")
        if left and prompts > asked and out.rstrip(b" ").endswith(b":"):
            asked += 1
            os.write(fd, left.pop(0) + b"\n")
    _, status = os.waitpid(pid, 0)
    return out.decode(errors="replace"), os.waitstatus_to_exitcode(status)


secret = b"kodeord-\xc3\xa6\xc3\xb8\xc3\xa5-42"
h1 = os.path.join(TMP, "p1")
out, rc = on_pty(["--home", h1, "init", "--name", "A", "--country", "DK", "--alliance", "X"],
                 [secret, secret])
check(rc == 0 and "key encrypted" in out, "init on a terminal encrypts the key: %d %r" % (rc, out))
check(secret.decode() not in out, "the passphrase is not echoed")
# Signing later asks for it on the terminal, and takes it.
out, rc = on_pty(["--home", h1, "alliance", "create", "--name", "Y"], [secret])
check(rc == 0 and "founded alliance Y" in out, "signing asks and takes the passphrase: %d %r" % (rc, out))
out, rc = on_pty(["--home", h1, "alliance", "create", "--name", "Z"], [b"wrong"])
check(rc == 5, "a wrong passphrase is refused (5): %d %r" % (rc, out))

h2 = os.path.join(TMP, "p2")
out, rc = on_pty(["--home", h2, "init", "--name", "B", "--country", "DK"], [b"one", b"two"])
check(rc == 5 and "differ" in out and not os.path.exists(os.path.join(h2, "identity.key")),
      "two different passphrases create no key: %d %r" % (rc, out))

h3 = os.path.join(TMP, "p3")
out, rc = on_pty(["--home", h3, "init", "--name", "C", "--country", "DK"], [b""])
check(rc == 0 and "unencrypted" in out, "Enter alone keeps the key unencrypted: %d %r" % (rc, out))
p = run(h3, "whoami")
check(p.returncode == 0, "the unencrypted key works without a passphrase")

# Without a terminal nothing is asked: scripts keep working as before.
h4 = os.path.join(TMP, "p4")
p = run(h4, "init", "--name", "D", "--country", "DK")
check("passphrase" not in p.stderr, "no prompt without a terminal")

shutil.rmtree(TMP)
if FAILS:
    print("%d check(s) failed" % len(FAILS))
    sys.exit(1)
print("polish_test: all checks passed")
