"""Shared helpers for the SQL tests: a connection with the extension loaded,
real child processes with known properties (spawn, start), /proc read
without the extension (read, proc_stat, proc_status, btime, children,
descendants, cmdline), what procps
may print for a process the table read just before and just after it
(procps_range), and clean-up after each test.

Every process a test starts through spawn()/start() is killed and reaped by
cleanup(), which the runner calls after each test.
"""
import math
import os
import re
import select
import signal
import sqlite3
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# PSNAP_EXT: another build of the extension (e.g. build/asan/ps for make asan)
EXT = os.environ.get("PSNAP_EXT") or os.path.join(ROOT, "build", "ps")
HELPERS = os.path.join(ROOT, "build", "helpers")
HZ = os.sysconf("SC_CLK_TCK")
# Seconds after which a wait for something that takes milliseconds on an idle
# machine (a helper's ready line, a process to exec or to sleep) counts as a
# hang. Only a guard: a busy machine must not fail a test by being slow.
HANG = 120


class Skip(Exception):
    """Raised by a test that cannot run here; the message says why."""


_procs = []


def connect():
    """A new in-memory connection with build/ps.so loaded."""
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(EXT)
    db.enable_load_extension(False)
    return db


def sql_error(sql, *args, db=None):
    """The message of the sqlite3 error the query raises (fails if none)."""
    try:
        rows = (db or connect()).execute(sql, args).fetchall()
    except sqlite3.Error as e:
        return str(e)
    raise AssertionError(f"{sql} {args} gave no error but {len(rows)} rows")


def q(sql, *args, db=None):
    """All rows of one query, as a list of tuples."""
    db = db or connect()
    return db.execute(sql, args).fetchall()


def q1(sql, *args, db=None):
    """The single row of a query (asserts there is exactly one)."""
    rows = q(sql, *args, db=db)
    assert len(rows) == 1, f"expected one row from {sql!r} {args}, got {rows}"
    return rows[0]


def dicts(sql, *args, db=None):
    """All rows of one query, as a list of {column: value} dicts."""
    cur = (db or connect()).execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def keyed(sql, *args, key, db=None):
    """{row[KEY]: row dict} of one query; a key that comes twice fails."""
    out = {}
    for d in dicts(sql, *args, db=db):
        assert d[key] not in out, f"{key} {d[key]} appears twice in {sql!r} {args}"
        out[d[key]] = d
    return out


def row(pid, cols="*", db=None, pidns=None):
    """The ps row of one process as a dict, or None if not present."""
    rows = dicts(f"SELECT {cols} FROM ps WHERE pid = ?" + (" AND pidns = ?" if pidns is not None else ""),
                 *((pid,) if pidns is None else (pid, pidns)), db=db)
    assert len(rows) <= 1, f"pid {pid} gave {len(rows)} rows"
    return rows[0] if rows else None


def helper(name):
    """Path of a compiled test helper, build/helpers/NAME."""
    path = os.path.join(HELPERS, name)
    if not os.path.exists(path):
        raise AssertionError(f"{path} is missing: run make helpers")
    return path


def start(argv, **kw):
    """Start a process, remember it for cleanup(), return the Popen."""
    p = subprocess.Popen(argv, **kw)
    _procs.append(p)
    return p


def spawn(*opts, argv=None, timeout=HANG):
    """Start build/helpers/spawn with OPTS (and ARGV after "--"; str or bytes
    items), wait for its ready line, then until it sleeps. Returns the ready
    line as a dict: pid, proc (the Popen), and zombie (a pid), tty (a path)
    and tids (a list of ints) when the options asked for them. A helper that
    exits fails at once; TIMEOUT only guards against a hang (--burn-ms N
    needs N ms of CPU time, which a busy machine may take long to give)."""
    cmd = [helper("spawn"), *opts] + (["--", *argv] if argv is not None else [])
    p = start(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line, end = "", time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([p.stdout], [], [], 0.5)
        if ready:
            line = p.stdout.readline().decode()
            break
        if p.poll() is not None:
            break
    if not line.startswith("ready "):
        p.kill()
        p.wait()
        raise AssertionError(f"spawn {opts} failed: {line!r} {p.stderr.read().decode().strip()}")
    p.stdout.close()
    info = {"proc": p}
    for kv in line.split()[1:]:
        k, v = kv.split("=", 1)
        info[k] = v if k == "tty" else [int(x) for x in v.split(",")] if k == "tids" else int(v)
    assert info["pid"] == p.pid, (info, p.pid)
    # the ready line comes just before pause()/read(): wait until it sleeps
    wait_for(lambda: proc_stat(p.pid)[1][0] == "S", timeout=timeout, what=f"spawn {p.pid} to sleep")
    return info


def read(path, mode="r"):
    """The whole file; text mode decodes bytes that are not UTF-8 as
    surrogates (a command line or a comm may hold any byte)."""
    if "b" in mode:
        with open(path, mode) as f:
            return f.read()
    with open(path, mode, encoding="utf-8", errors="surrogateescape") as f:
        return f.read()


def proc_stat(pid):
    """/proc/PID/stat as (comm, [fields from field 3 on]): field N of proc(5)
    is f[N-3]. comm lies between the first '(' and the last ')'."""
    s = read(f"/proc/{pid}/stat")
    return s[s.index("(") + 1:s.rindex(")")], s[s.rindex(")") + 2:].split()


def proc_status(pid):
    """/proc/PID/status as {key: value}, values stripped."""
    d = {}
    for ln in read(f"/proc/{pid}/status").splitlines():
        k, _, v = ln.partition(":")
        d[k] = v.strip()
    return d


def children(pid):
    """Pids of the children of PID (its main thread's), or [] when gone."""
    try:
        return [int(x) for x in read(f"/proc/{pid}/task/{pid}/children").split()]
    except OSError:
        return []


def descendants(pid):
    """Pids of every descendant of PID, parents before their children."""
    out, todo = [], [pid]
    while todo:
        for c in children(todo.pop()):
            out.append(c)
            todo.append(c)
    return out


def cmdline(pid):
    """/proc/PID/cmdline with its NULs as spaces (None when gone)."""
    try:
        raw = read(f"/proc/{pid}/cmdline", "rb")
    except OSError:
        return None
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "surrogateescape")


def btime():
    """Boot time, Unix epoch seconds (/proc/stat btime)."""
    return int(re.search(r"^btime (\d+)", read("/proc/stat"), re.M).group(1))


def boottime():
    """CLOCK_BOOTTIME in seconds: the clock of /proc/uptime and of the
    table's etime (the scan's instant less the start)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def procps_range(first, second):
    """What procps 4.0.2 ps may print for a process that the table read
    just before ps did and just after: FIRST and SECOND are the table's
    (time, etime) of the process in those two reads. Returns {field: (lo,
    hi)}, both inclusive, for ps's times, etimes, %cpu (a float) and C.

    Between the two reads, derived rather than guessed:
    - CPU time: the kernel keeps utime and stime from going backwards, so
      the ticks ps read lie between those of the two table reads.
    - Elapsed time: ps read /proc/uptime between the two table reads, kept
      its 2 decimals, then truncated uptime * HZ to whole ticks: its elapsed
      time lies between the first read's etime less 0.01 s and one tick, and
      the second's (the table's etime is exact: CLOCK_BOOTTIME less the
      start).
    - %cpu is 100 * CPU ticks / elapsed ticks truncated to 0.1 (to whole
      percent from 100 on, where ps drops the decimal); C truncates it to a
      whole percent and caps it at 99; times and etimes truncate to seconds.
    """
    c_lo, c_hi = round(first[0] * HZ), round(second[0] * HZ)
    e_lo, e_hi = first[1] - 0.01 - 1 / HZ, second[1]
    eps = 1e-9  # ps's float arithmetic: keep exact boundaries on both sides

    def shown(p):  # permille, truncated; printed without the decimal from 100.0 on
        pm = math.floor(p * 10)
        return pm / 10 if pm <= 999 else float(pm // 10)

    # ps prints 0 when its elapsed time is not positive
    p_lo = 100 * c_lo / HZ / e_hi * (1 - eps) if e_lo > 0 else 0.0
    p_hi = 100 * c_hi / HZ / e_lo * (1 + eps) if e_lo > 0 else math.inf
    return {
        "time": (c_lo // HZ, c_hi // HZ),
        "etime": (math.floor(max(e_lo, 0)), math.floor(e_hi)),
        "pcpu": (shown(p_lo), shown(p_hi) if p_hi != math.inf else math.inf),
        "c": (min(99, math.floor(p_lo)), min(99, math.floor(p_hi)) if p_hi != math.inf else 99),
    }


def require_root():
    if os.geteuid() != 0:
        raise Skip("not root")


def wait_for(pred, timeout=5.0, what="condition"):
    """Poll pred() until true; fail the test after timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def cleanup():
    """Kill and reap every process started by the test that just ran."""
    while _procs:
        p = _procs.pop()
        try:
            os.killpg(p.pid, signal.SIGKILL) if getattr(p, "_own_pgrp", False) else p.kill()
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=5)
        except Exception:
            pass
