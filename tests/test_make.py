"""The Makefile's user-facing targets, run for real from the repository root:

  make       (no target) builds build/ps.so and build/libpsnap.a and
             nothing else: no package installation (scripts/deps.sh), no
             rewrite of README.md (scripts/readme.py); ps.so is linked with
             -z nodelete (a helper process stuck past its deadline may
             outlive the connection that loaded it: the list that reaps
             it must stay, and the code it runs in the program's address
             space when it wakes)
  make run   a header line and exactly one line per process, whatever the
             command lines hold: a process whose argv has a newline, a tab,
             an escape sequence, a C1 control and an invalid UTF-8 byte
             shows once, with '?' in their place, and no byte of the output
             is a control character but the newlines; on a terminal (a pty
             here) every line is cut to the terminal's width

Expected values come from make's own dry run, readelf and /proc, never
from the extension.
"""
import fcntl
import os
import pty
import select
import shutil
import struct
import subprocess
import termios
import time

import lib
from lib import Skip, spawn

ROOT = lib.ROOT


# make as a user types it: not as a sub-make of the make test that runs
# this (a sub-make prints "Entering directory" lines on stdout)
ENV = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}


def make(*args, timeout=300, **kw):
    return subprocess.run(["make", *args], cwd=ROOT, env=ENV, capture_output=True, text=True, errors="replace",
                          timeout=timeout, **kw)


def test_plain_make_builds_and_does_nothing_else():
    # -n -B: every command make would run for the default goal, from scratch
    dry = make("-n", "-B")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout == make("-n", "-B", "all").stdout, "the default goal is not all"
    for bad in ("deps.sh", "apt-get", "readme.py", "README"):
        assert bad not in dry.stdout, f"plain make would run {bad}:\n{dry.stdout}"
    assert "build/ps.so" in dry.stdout and "build/libpsnap.a" in dry.stdout, dry.stdout
    # and for real (an up-to-date build here): README.md is left alone
    readme = os.path.join(ROOT, "README.md")
    before = os.stat(readme).st_mtime_ns, open(readme, "rb").read()
    r = make()
    assert r.returncode == 0, r.stderr
    assert (os.stat(readme).st_mtime_ns, open(readme, "rb").read()) == before, "make rewrote README.md"


def test_extension_is_linked_nodelete():
    if not shutil.which("readelf"):
        raise Skip("readelf is not installed (binutils)")
    so = os.path.join(ROOT, "build", "ps.so")
    out = subprocess.run(["readelf", "-d", so], capture_output=True, text=True, check=True).stdout
    flags = [ln for ln in out.splitlines() if "FLAGS_1" in ln]
    assert flags and "NODELETE" in flags[0], f"{so} is not linked with -z nodelete: {flags}"


# argv of the hostile process, and its line's COMMAND as make run must show it
HOSTILE = ["mr-hostile", "new\nline", "tab\there", "\x1b[31mred\x1b[0m", "c1\u0085", b"bad\xffbyte", "end"]
HOSTILE_SHOWN = "mr-hostile new?line tab?here ?[31mred?[0m c1? bad?byte end"
HEADER = ["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"]


def numeric_pids():
    return {int(n) for n in os.listdir("/proc") if n.isdigit()}


def check_table(out, newline):
    """Check make run's output (bytes): nothing but printable text and line
    ends; the header, then one line per process. Returns {pid: line}."""
    ctl = sorted({b for b in out.replace(newline, b"") if b < 0x20 or b == 0x7f})
    assert not ctl, f"control bytes in the output: {[hex(b) for b in ctl]}"
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError(f"the output is not UTF-8: {e}: {out[max(0, e.start - 60):e.end + 20]!r}")
    c1 = sorted({c for c in text if 0x80 <= ord(c) <= 0x9f})
    assert not c1, f"C1 controls in the output: {c1}"
    nl = newline.decode()
    assert text.endswith(nl), text[-200:]
    lines = text[:-len(nl)].split(nl)
    words = lines[0].split()  # on a narrow terminal, cut like every line
    assert words[:-1] == HEADER[:len(words) - 1] and HEADER[len(words) - 1].startswith(words[-1]), lines[0]
    # PID is right-aligned under its header: the digits that end where it ends
    pid_end = lines[0].index(" PID") + len(" PID")
    rows = {}
    for ln in lines[1:]:
        f = ln[:pid_end].split()
        assert len(f) == 2 and f[1].isdigit(), f"not one process per line: {ln!r}"
        assert int(f[1]) not in rows, f"pid {f[1]} listed twice"
        rows[int(f[1])] = ln
    assert len(lines) == 1 + len(rows)
    return rows


def test_make_run_prints_one_line_per_process():
    h = spawn(argv=HOSTILE)["pid"]
    before = numeric_pids()
    r = subprocess.run(["make", "run"], cwd=ROOT, env=ENV, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=300)
    after = numeric_pids()
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    rows = check_table(r.stdout, b"\n")
    # every process that lived through the whole run is listed (the others
    # come and go: make, its shells, sqlite3)
    missing = (before & after) - set(rows)
    assert not missing, f"processes alive for the whole run are missing: {sorted(missing)[:20]}"
    assert rows[h].endswith("  " + HOSTILE_SHOWN), rows[h]
    assert sum(HOSTILE_SHOWN in ln for ln in rows.values()) == 1
    # not a terminal: command lines are whole
    longest = max(len(lib.read(f"/proc/{p}/cmdline", "rb")) for p in (1, h))
    assert max(len(ln) for ln in rows.values()) >= longest - 1


def run_on_a_pty(argv, cols, timeout=300):
    """Run ARGV with stdout and stderr on a new pty COLS wide, stdin
    /dev/null; return (exit status, bytes written to the pty)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    try:
        p = lib.start(argv, cwd=ROOT, env=ENV, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE)
    finally:
        os.close(slave)
    out, end = b"", time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 1)
        if not ready:
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the pty
            break
        if not data:
            break
        out += data
    os.close(master)
    return p.wait(timeout=10), out


def test_make_run_on_a_terminal_cuts_lines_to_its_width():
    h = spawn(argv=HOSTILE)["pid"]
    cols = 50
    rc, out = run_on_a_pty(["make", "run"], cols)
    assert rc == 0, rc
    rows = check_table(out, b"\r\n")  # the tty turns each newline into CR LF
    assert h in rows, h
    longest = max(len(ln) for ln in rows.values())
    assert longest == cols, f"lines are cut at {longest} characters on a {cols}-column terminal"
