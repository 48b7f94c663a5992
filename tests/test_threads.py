"""ps_threads: one row per thread, checked against procps `ps -eL` / `ps -L`,
against what the threads of a helper process say about themselves, against
real PID namespaces, strace and an unprivileged caller.

The helper (build/helpers/threads, tests/helpers/threads.c) starts threads
that read (blocked in read() on a pipe), spin, sleep (nanosleep or
clock_nanosleep for ever) or churn (create and join threads in a loop), named
by pthread_setname_np; it prints its pid and the threads' gettid() values,
then answers on a pipe with a thread's own CPU clock (pthread_getcpuclockid:
the clock the thread reads as CLOCK_THREAD_CPUTIME_ID) or, from the thread
itself, that clock and getrusage(RUSAGE_THREAD)'s context switches.

Values that move are bounded by the helper's reads just before and just
after the query, never by a band picked by hand:
- time: each read of task/TID/stat truncates utime and stime to clock ticks
  separately (up to two ticks less than their sum), and the runtime they
  split lags the thread's clock by less than a scheduler tick (at most one
  clock tick: CONFIG_HZ >= USER_HZ). So with c0 and c1 the thread's clock
  before and after, and G = 3 ticks:  c0 - G < time <= c1.
- pcpu_now: as tests/test_cpunow.py, with k = 1 (a thread runs on one CPU at
  a time), A = c1 - c0 over a window of W seconds measured here that holds
  the query's interval of at least S seconds:
      pcpu_now/100 * S <= A + G,   pcpu_now/100 * W >= A - (W - S) - G.
- context switches only grow: the thread's own counts before and after.
- psr: a value one of our two reads saw, or any online CPU when they differ.
"""
import math
import os
import select
import shutil
import sqlite3
import subprocess
import tempfile
import time

import lib
from lib import Skip, connect, q, sql_error, start

HZ = lib.HZ
G = 3.0 / HZ
EPS = 1e-9
FIFTEEN = "fifteen-bytes-x"  # the longest name the kernel keeps (16 with the NUL)
SPACES = "with spaces in"
PARENS = "x) R 1 2 (y"  # a stat parser that stops at the first ')' misreads it
COLS = ("pid, tid, hpid, htid, comm, state, time, pcpu, pcpu_now, nice, priority, psr, wchan, syscall, "
        "voluntary_switches, involuntary_switches")


# ---------------------------------------------------------------- helpers

class Threads:
    """A running build/helpers/threads. SPECS are MODE:NAME; PREFIX runs it
    under another command (unshare). pid, main, ctl, tids are its ids as its
    PID namespace sees them; hpid is its host pid."""

    def __init__(self, *specs, leader_exit=False, prefix=()):
        argv = [*prefix, lib.helper("threads"), *(["--leader-exit"] if leader_exit else []), *specs]
        self.p = start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        self.buf = b""
        line = self._line()
        if not line.startswith("ready "):
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"threads {specs}: {line!r} {self.p.stderr.read().decode().strip()}")
        info = dict(kv.split("=", 1) for kv in line.split()[1:])
        self.pid, self.main = int(info["pid"]), int(info["main"])
        self.ctl = int(info.get("ctl", self.main))
        self.tids = [int(x) for x in info["tids"].split(",")] if info["tids"] else []
        self.names = [s.split(":", 1)[1] for s in specs]
        self.modes = [s.split(":", 1)[0] for s in specs]
        if prefix:
            self.hpid = lib.wait_for(lambda: next(iter(lib.children(self.p.pid)), None), timeout=lib.HANG,
                                     what="the helper under " + prefix[0])
        else:
            self.hpid = self.p.pid
        assert self.hpid == self.pid or prefix, (self.hpid, self.pid)

    def _line(self):
        end = time.monotonic() + lib.HANG
        while b"\n" not in self.buf:
            ready, _, _ = select.select([self.p.stdout], [], [], max(0.0, end - time.monotonic()))
            chunk = os.read(self.p.stdout.fileno(), 4096) if ready else b""
            if not chunk:
                return self.buf.decode()
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()

    def _ask(self, i, cmd):
        self.p.stdin.write(f"{i} {cmd}\n".encode())
        line = self._line()
        assert line.startswith(cmd + " "), f"threads: {i} {cmd} answered {line!r}"
        return line.split()[1:]

    def clock(self, i):
        """CPU seconds of thread I (0: main; i: argument i) from its own clock."""
        return float(self._ask(i, "t")[0])

    def usage(self, i):
        """Thread I's own (tid, CPU seconds, nvcsw, nivcsw), read by itself."""
        tid, cpu, nv, niv = self._ask(i, "u")
        return int(tid), float(cpu), int(nv), int(niv)

    def host_tids(self):
        return sorted(int(t) for t in os.listdir(f"/proc/{self.hpid}/task"))

    def settle(self):
        """Wait until every thread that blocks (all but spin and churn) is
        asleep in /proc: the control thread answers, then blocks again."""
        busy = {self.tids[i] for i, m in enumerate(self.modes) if m in ("spin", "churn")}
        if self.hpid != self.pid:  # in a namespace: busy threads by host tid
            busy = {h for h in self.host_tids() if ns_tid(self.hpid, h) in busy}
        # stat says S once the thread sets its state, before schedule() takes
        # it off the run queue (a preempted thread can stay so for
        # milliseconds, wchan "0" meanwhile): a sleeper has a wchan too
        for h in self.host_tids():
            if h not in busy:
                lib.wait_for(lambda: task_stat(self.hpid, h)[1][0] == "Z" or (
                    task_stat(self.hpid, h)[1][0] == "S"
                    and lib.read(f"/proc/{self.hpid}/task/{h}/wchan").strip() not in ("", "0")),
                    timeout=lib.HANG, what=f"thread {h} of {self.hpid} to block")


def task_stat(pid, tid):
    """/proc/PID/task/TID/stat as (comm, [fields from field 3 on])."""
    s = lib.read(f"/proc/{pid}/task/{tid}/stat")
    return s[s.index("(") + 1:s.rindex(")")], s[s.rindex(")") + 2:].split()


def ns_tid(hpid, htid):
    """The innermost id of host thread HTID (the last NSpid of its status)."""
    for ln in lib.read(f"/proc/{hpid}/task/{htid}/status").splitlines():
        if ln.startswith("NSpid:"):
            return int(ln.split()[-1])
    raise AssertionError(f"no NSpid in /proc/{hpid}/task/{htid}/status")


def rows(pid, cols=COLS, db=None):
    """{tid: row dict} of ps_threads WHERE pid = PID."""
    return lib.keyed(f"SELECT {cols} FROM ps_threads WHERE pid = ?", pid, key="tid", db=db)


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip(f"{t} is not installed")


def ps_seconds(text):
    """ps's TIME, [DD-]HH:MM:SS, in seconds."""
    days, _, hms = text.rpartition("-")
    h, m, s = (int(x) for x in hms.split(":"))
    return (int(days) if days else 0) * 86400 + h * 3600 + m * 60 + s


def ps_eL(fields, pid=None):
    """procps `ps -eL -o pid,lwp,FIELDS,comm` (or `ps -L -p PID`) as
    {(pid, lwp): {field: text}}; comm last, so it may hold spaces."""
    sel = ["-L", "-p", str(pid)] if pid else ["-eL"]
    spec = ",".join(f + "=" for f in ["pid", "lwp", *fields, "comm"])
    fields = [f.split(":")[0] for f in fields]  # wchan:64 is a width
    r = subprocess.run(["ps", *sel, "-o", spec], capture_output=True, text=True)
    assert r.returncode == 0 or (pid and not r.stdout), r.stderr
    out = {}
    for ln in r.stdout.splitlines():
        parts = ln.split(None, len(fields) + 2)
        if len(parts) == len(fields) + 2:  # an empty comm
            parts.append("")
        d = dict(zip(["pid", "lwp", *fields, "comm"], parts))
        out[(int(d["pid"]), int(d["lwp"]))] = d
    return out


def all_tasks():
    """Every (pid, tid) of /proc/PID/task/TID, listed now."""
    out = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                out.update((int(d), int(t)) for t in os.listdir(f"/proc/{d}/task"))
            except OSError:
                pass
    return out


def online_cpus():
    cpus = set()
    for part in lib.read("/sys/devices/system/cpu/online").strip().split(","):
        a, _, b = part.partition("-")
        cpus.update(range(int(a), int(b or a) + 1))
    return cpus


def check_now(pct, a, w, s, what):
    """The two pcpu_now bounds of the module docstring (k = 1)."""
    assert pct is not None, f"{what}: pcpu_now is NULL"
    assert pct / 100 * s <= a + G, f"{what}: pcpu_now {pct:.2f} over >= {s} s is more than the thread's {a:.4f} s"
    assert pct / 100 * w >= a - (w - s) - G, \
        f"{what}: pcpu_now {pct:.2f} over <= {w:.3f} s is less than the thread's {a:.4f} s allows"


def check_time(t, c0, c1, what):
    assert t is not None and c0 - G < t <= c1 + EPS, f"{what}: time {t} outside ({c0 - G:.4f}, {c1:.4f}]"


# ---------------------------------------------------------------- procps ps -eL

def test_rows_match_ps_eL_for_named_threads():
    """tid set, comm, state letter, time, %CPU and psr of a helper's threads
    against ps -eL, which reads them between two reads of the table."""
    need("ps")
    t = Threads("spin:spinner", "read:reader", "sleep:napper", f"csleep:{SPACES}", f"read:{PARENS}")
    lib.wait_for(lambda: t.clock(1) >= 1.05, timeout=lib.HANG, what="the spinner to use 1.05 s of CPU")
    t.settle()
    db = connect()
    b0 = lib.boottime()
    before = rows(t.pid, db=db)
    ps = {lwp: d for (pid, lwp), d in ps_eL(["stat", "time", "psr", "pcpu"]).items() if pid == t.pid}
    after = rows(t.pid, db=db)
    b1 = lib.boottime()
    want = {t.main, *t.tids}
    assert set(before) == set(after) == set(ps) == want, (sorted(before), sorted(after), sorted(ps), sorted(want))
    cpus = online_cpus()
    for tid in sorted(want):
        o, o2, p = before[tid], after[tid], ps[tid]
        assert o["comm"] == o2["comm"] == p["comm"], (tid, o["comm"], p["comm"])
        assert o["state"] == o2["state"] == p["stat"][0], (tid, o["state"], o2["state"], p["stat"])
        seen = {o["psr"], o2["psr"]}
        assert int(p["psr"]) in (seen if len(seen) == 1 else cpus), (tid, p["psr"], seen)
        assert o["pid"] == o["hpid"] == t.pid and o["htid"] == tid, o
        if tid == t.main:
            # ps -L prints the whole process's time on the leader's row: at
            # least the leader's own, which the table shows
            assert ps_seconds(p["time"]) >= math.floor(o["time"] + EPS), (o["time"], p["time"])
            continue
        st = int(task_stat(t.pid, tid)[1][19]) / HZ
        rng = lib.procps_range((o["time"], b0 - st), (o2["time"], b1 - st))
        lo, hi = rng["time"]
        assert lo <= ps_seconds(p["time"]) <= hi, (tid, p["time"], o["time"], o2["time"])
        lo, hi = rng["pcpu"]
        assert lo <= float(p["pcpu"]) <= hi, (tid, p["pcpu"], lo, hi)
    assert before[t.tids[0]]["state"] == "R" and before[t.tids[1]]["state"] == "S", before
    print(f"  {len(want)} threads; spinner time {before[t.tids[0]]['time']:.2f} s, ps {ps[t.tids[0]]['time']}")


def test_every_thread_ps_eL_lists_is_in_a_full_scan():
    """Whole host: a thread in /proc before and after both ps -eL and the
    scan is in both, as the same (pid, tid); the host sees its own ids."""
    need("ps")
    t = Threads("read:a", "sleep:b")
    l0 = all_tasks()
    ps = set(ps_eL([]))
    got = q("SELECT pid, tid, hpid, htid FROM ps_threads")
    l1 = all_tasks()
    ours = {(r[0], r[1]) for r in got}
    assert len(ours) == len(got), "a (pid, tid) listed twice in one scan"
    assert all(r[0] == r[2] and r[1] == r[3] for r in got), [r for r in got if r[0] != r[2] or r[1] != r[3]][:10]
    stable = l0 & l1
    assert {(t.pid, x) for x in (t.main, *t.tids)} <= stable
    missing = sorted((ps & stable) - ours)
    assert not missing, f"ps -eL lists threads that were in /proc all along, ps_threads does not: {missing[:20]}"
    extra = sorted((ours & stable) - ps)
    assert not extra, f"ps_threads lists threads in /proc all along that ps -eL did not: {extra[:20]}"
    print(f"  {len(ours)} threads; {len(stable)} in /proc before and after")


# ---------------------------------------------------------------- ids and names

def test_tids_and_names_are_what_the_threads_set():
    t = Threads(f"read:{FIFTEEN}", f"read:{SPACES}", f"sleep:{PARENS}", "csleep:a", "spin:b")
    assert len(FIFTEEN.encode()) == 15
    got = rows(t.pid, "pid, tid, hpid, htid, comm, state")
    want = {t.main: "threads", **dict(zip(t.tids, t.names))}
    assert {k: v["comm"] for k, v in got.items()} == want, (got, want)
    assert all(r["pid"] == r["hpid"] == t.pid and r["htid"] == tid for tid, r in got.items()), got
    # the kernel's own record of the names
    for tid, name in want.items():
        assert lib.read(f"/proc/{t.pid}/task/{tid}/comm") == name + "\n", (tid, name)
    # WHERE pid IN (...) and a pid without threads of its own
    other = Threads("read:other")
    got = q("SELECT pid, tid FROM ps_threads WHERE pid IN (?, ?) ORDER BY tid", t.pid, other.pid)
    assert sorted(got) == sorted([(t.pid, x) for x in want] + [(other.pid, other.main), (other.pid, other.tids[0])])
    print(f"  {len(want)} threads: {sorted(want.values())}")


def test_where_pid_of_a_non_leader_thread_lists_nothing():
    """/proc/TID opens for any thread, but a thread that is not its group's
    leader is no process: ps -p TID lists nothing, and neither does
    WHERE pid = TID (its threads are listed under pid = the group's id)."""
    need("ps")
    t = Threads("read:a", "read:b")
    tid = t.tids[0]
    r = subprocess.run(["ps", "-L", "-o", "pid=,lwp=", "-p", str(tid)], capture_output=True, text=True)
    assert r.stdout.strip() == "", r.stdout
    got = q("SELECT pid, tid, hpid, htid FROM ps_threads WHERE pid = ?", tid)
    assert got == [], f"WHERE pid = {tid} (a thread of {t.pid}): {got}; ps -L -p {tid} lists nothing"
    got = q("SELECT pid, tid FROM ps_threads WHERE pid IN (?, ?)", tid, t.pid)
    assert sorted(got) == sorted((t.pid, x) for x in (t.main, *t.tids)), got


# ---------------------------------------------------------------- CPU time and pcpu_now

def clocks(t, idx):
    return {i: t.clock(i) for i in idx}


def test_time_and_one_shot_pcpu_now_per_thread():
    """A spinning and a sleeping thread, against their own clocks, with
    WHERE sample = 0.5 and with ps_threads(NULL, 0.5)."""
    t = Threads("spin:spinner", "read:idle")
    lib.wait_for(lambda: t.clock(1) >= 0.3, timeout=lib.HANG, what="the spinner to use 0.3 s of CPU")
    spin, idle = t.tids
    sqls = ("SELECT tid, time, pcpu, pcpu_now, sample FROM ps_threads WHERE pid = ? AND sample = 0.5",
            "SELECT tid, time, pcpu, pcpu_now, sample FROM ps_threads(NULL, 0.5) WHERE pid = ?")
    for sql in sqls:
        db = connect()
        w0, b0 = time.monotonic(), lib.boottime()
        c0 = clocks(t, (1, 2, 0))
        r = {x[0]: x[1:] for x in q(sql, t.pid, db=db)}
        c1 = clocks(t, (1, 2, 0))
        w, b1 = time.monotonic() - w0, lib.boottime()
        assert w >= 0.5 and set(r) == {t.main, spin, idle}, (w, r)
        for i, tid in ((1, spin), (2, idle), (0, t.main)):
            tm, pcpu, now, sample = r[tid]
            what = f"{sql.split(' FROM ')[1][:30]}: thread {tid}"
            assert sample == 0.5, (what, sample)
            check_time(tm, c0[i], c1[i], what)
            check_now(now, c1[i] - c0[i], w, 0.5, what)
            # lifetime: time over the thread's own elapsed time (its start,
            # task stat 22, to the scan's instant, between b0 and b1; 0.01 s
            # less if read from /proc/uptime)
            st = int(task_stat(t.pid, tid)[1][19]) / HZ
            lo = 100 * max(c0[i] - G, 0) / (b1 - st)
            hi = 100 * c1[i] / (b0 - 0.01 - st)
            assert lo * (1 - EPS) <= pcpu <= hi * (1 + EPS), (what, pcpu, lo, hi)
        # the leader's own time, not the process's (which holds the spinner's)
        assert r[t.main][0] < c0[1] - G, ("the leader's time is the process's", r[t.main][0], c0[1])
        print(f"  spinner pcpu_now {r[spin][2]:.1f} ({c1[1] - c0[1]:.3f} s CPU in {w:.3f} s), "
              f"idle {r[idle][2]:.1f}")


def test_polling_pcpu_now_per_thread():
    """Two scans on one connection: NULL first, then since the first."""
    t = Threads("spin:spinner", "read:idle")
    db = connect()
    sql = "SELECT tid, pcpu_now FROM ps_threads WHERE pid = ?"
    w0 = time.monotonic()
    c0 = clocks(t, (1, 2))
    first = dict(q(sql, t.pid, db=db))
    assert first == {t.main: None, t.tids[0]: None, t.tids[1]: None}, first
    time.sleep(0.4)
    second = dict(q(sql, t.pid, db=db))
    c1 = clocks(t, (1, 2))
    w = time.monotonic() - w0
    for i in (1, 2):
        check_now(second[t.tids[i - 1]], c1[i] - c0[i], w, 0.4, f"polling: thread {t.tids[i - 1]}")
    # a scan that does not select pcpu_now does not move the baseline
    w0 = time.monotonic()
    c0 = clocks(t, (1, 2))
    q(sql, t.pid, db=db)
    time.sleep(0.2)
    q("SELECT tid, time, state FROM ps_threads WHERE pid = ?", t.pid, db=db)
    time.sleep(0.2)
    third = dict(q(sql, t.pid, db=db))
    c1 = clocks(t, (1, 2))
    w = time.monotonic() - w0
    for i in (1, 2):
        check_now(third[t.tids[i - 1]], c1[i] - c0[i], w, 0.4, "polling over a scan without pcpu_now")
    print(f"  spinner pcpu_now {second[t.tids[0]]:.1f} then {third[t.tids[0]]:.1f}")


def test_polling_baseline_is_apart_from_ps():
    """ps's scans leave ps_threads' baseline alone, and the other way round."""
    t = Threads("read:a")
    db = connect()
    ps_now = "SELECT pcpu_now FROM ps WHERE pid = ?"
    th_now = "SELECT tid, pcpu_now FROM ps_threads WHERE pid = ?"
    assert q(ps_now, t.pid, db=db) == [(None,)]
    assert q(ps_now, t.pid, db=db)[0][0] is not None
    assert all(v is None for _, v in q(th_now, t.pid, db=db)), "ps_threads used ps's baseline"
    assert all(v is not None for _, v in q(th_now, t.pid, db=db))
    db2 = connect()
    q(th_now, t.pid, db=db2)
    assert q(ps_now, t.pid, db=db2) == [(None,)], "ps used ps_threads' baseline"
    assert q(th_now, t.pid, db=connect())[0][1] is None, "another connection shares the baseline"


# ---------------------------------------------------------------- nice and priority

def test_nice_and_priority_per_thread_match_ps_L():
    """setpriority(PRIO_PROCESS, tid, 7) on one thread only: its nice and
    priority (stat 18: 20 + nice under SCHED_OTHER) differ from the others',
    as ps -L shows; a real-time thread's priority is -1 - its rt priority."""
    need("ps")
    t = Threads("read:a", "read:niced", "read:rt")
    target, rt = t.tids[1], t.tids[2]
    os.setpriority(os.PRIO_PROCESS, target, 7)
    try:
        os.sched_setscheduler(rt, os.SCHED_FIFO, os.sched_param(10))
        rtprio = 10
    except PermissionError:
        rt, rtprio = None, None
    want = {tid: os.getpriority(os.PRIO_PROCESS, tid) for tid in (t.main, *t.tids)}
    assert want[target] == 7, want
    ps = {lwp: d for (_, lwp), d in ps_eL(["ni", "priority"], pid=t.pid).items()}
    got = rows(t.pid, "tid, nice, priority")
    for tid in want:
        pol = os.sched_getscheduler(tid)
        prio = -1 - rtprio if tid == rt else 20 + want[tid]
        assert pol == (os.SCHED_FIFO if tid == rt else os.SCHED_OTHER), (tid, pol)
        assert (got[tid]["nice"], got[tid]["priority"]) == (want[tid], prio), (tid, got[tid], want[tid], prio)
        assert (str(got[tid]["nice"]) if tid != rt else "-", str(got[tid]["priority"])) == \
            (ps[tid]["ni"], ps[tid]["priority"]), (tid, got[tid], ps[tid])
    assert got[target] == {"tid": target, "nice": 7, "priority": 27}, got[target]
    print(f"  nice/priority: {[(k, v['nice'], v['priority']) for k, v in sorted(got.items())]}")


# ---------------------------------------------------------------- context switches

def test_context_switches_match_the_threads_getrusage():
    """voluntary_switches and involuntary_switches lie between the thread's
    own getrusage(RUSAGE_THREAD) counts before and after the query."""
    t = Threads("read:reader", "spin:spinner")
    for _ in range(20):  # the reader blocks and wakes: a switch each time
        t.usage(1)
    u0 = {i: t.usage(i) for i in (1, 2)}
    got = rows(t.pid, "tid, voluntary_switches AS v, involuntary_switches AS iv")
    u1 = {i: t.usage(i) for i in (1, 2)}
    # (voluntary, or involuntary when preempted on its way to sleep)
    assert u0[1][2] + u0[1][3] >= 20, u0
    for i in (1, 2):
        tid = t.tids[i - 1]
        assert u0[i][0] == u1[i][0] == tid, (u0, u1, tid)
        r = got[tid]
        assert u0[i][2] <= r["v"] <= u1[i][2], (tid, "voluntary", r["v"], u0[i][2], u1[i][2])
        assert u0[i][3] <= r["iv"] <= u1[i][3], (tid, "involuntary", r["iv"], u0[i][3], u1[i][3])
    print(f"  reader {got[t.tids[0]]}, spinner {got[t.tids[1]]}")


# ---------------------------------------------------------------- wchan and syscall

def test_wchan_and_syscall_of_blocked_and_running_threads():
    """A thread blocked in read() on a pipe, in nanosleep, in clock_nanosleep,
    and one spinning: syscall names the call it is blocked in ('running' for
    the spinner, even when preempted); wchan is ps -L's WCHAN, NULL where ps
    prints '-' (running)."""
    need("ps")
    t = Threads("read:reader", "sleep:napper", "csleep:cnapper", "spin:spinner")
    t.settle()
    ps0 = {lwp: d["wchan"] for (_, lwp), d in ps_eL(["wchan:64"], pid=t.pid).items()}
    got = rows(t.pid, "tid, state, wchan, syscall")
    ps1 = {lwp: d["wchan"] for (_, lwp), d in ps_eL(["wchan:64"], pid=t.pid).items()}
    want = {t.main: "read", t.tids[0]: "read", t.tids[1]: "nanosleep", t.tids[2]: "clock_nanosleep",
            t.tids[3]: "running"}
    assert {k: v["syscall"] for k, v in got.items()} == want, got
    for tid, r in got.items():
        assert ps0[tid] == ps1[tid], f"ps's wchan of {tid} moved: {ps0[tid]} {ps1[tid]}"
        assert (r["wchan"] or "-") == ps0[tid], (tid, r["wchan"], ps0[tid])
    assert got[t.tids[3]]["wchan"] is None and got[t.tids[3]]["state"] == "R", got[t.tids[3]]
    assert all(got[x]["wchan"] for x in want if x != t.tids[3]), got
    print(f"  {sorted((v['syscall'], v['wchan']) for v in got.values())}")


# ---------------------------------------------------------------- PID namespaces

def test_threads_in_a_pid_namespace():
    """ps_threads(X) and WHERE pidns = X: tid and pid as the namespace sees
    them (what the threads' gettid() printed inside), hpid and htid the
    host's; nothing from outside the namespace."""
    lib.require_root()
    need("unshare")
    t = Threads("read:in-a", f"csleep:{SPACES}", "spin:in-spin",
                prefix=("unshare", "--pid", "--fork", "--kill-child", "--mount-proc"))
    assert t.pid == t.main == 1, (t.pid, t.main)
    db = connect()
    a = q(f"SELECT {COLS} FROM ps_threads(?)", t.hpid, db=db)
    b = q(f"SELECT {COLS} FROM ps_threads WHERE pidns = ?", t.hpid, db=db)
    c = q(f"SELECT {COLS} FROM ps_threads(?) WHERE pid = 1", t.hpid, db=db)
    for got in (a, b, c):
        r = {x[1]: dict(zip([n.strip() for n in COLS.split(",")], x)) for x in got}
        assert len(r) == len(got) and set(r) == {1, *t.tids}, (sorted(r), t.tids)
        assert {x["pid"] for x in r.values()} == {1}, r
        assert {x["hpid"] for x in r.values()} == {t.hpid}, f"rows from outside the namespace: {r}"
        assert sorted(x["htid"] for x in r.values()) == t.host_tids(), (r, t.host_tids())
        for tid, x in r.items():
            assert os.path.isdir(f"/proc/{t.hpid}/task/{x['htid']}"), x
            assert ns_tid(t.hpid, x["htid"]) == tid, (x, ns_tid(t.hpid, x["htid"]))
        assert {tid: x["comm"] for tid, x in r.items()} == {1: "threads", **dict(zip(t.tids, t.names))}, r
    # a thread's id in the namespace is no process there either
    assert q("SELECT tid FROM ps_threads(?) WHERE pid = ?", t.hpid, t.tids[0], db=db) == []
    own = {int(x) for x in os.listdir("/proc/self/task")}
    assert not own & {x[3] for x in a}, "the caller's threads are in the namespace's rows"
    print(f"  tids {sorted(x[1] for x in a)} = host {sorted(x[3] for x in a)}")


# ---------------------------------------------------------------- lazy reading

def test_where_pid_opens_only_that_process_and_only_what_the_columns_need():
    import test_host
    t = Threads("read:a", "sleep:b")
    other = Threads("read:c")
    sql = f"SELECT tid FROM ps_threads WHERE pid = {t.pid}"
    opened, listed, _ = test_host.strace_run(sql)
    files, dirs = test_host.per_pid_files(opened)
    assert dirs == {t.pid}, f"{sql} opened pid dirs {sorted(dirs)[:20]}"
    names = [n for ns in files.values() for n in ns]
    for bad in ("wchan", "syscall", "status"):
        assert not [n for n in names if n.endswith(bad)], f"{sql} opened {bad}: {sorted(set(names))}"
    assert "/proc" not in listed, f"{sql} listed /proc"
    test_host.assert_each_file_once(files)
    sql = f"SELECT syscall FROM ps_threads WHERE pid = {t.pid}"
    opened, _, _ = test_host.strace_run(sql)
    files, dirs = test_host.per_pid_files(opened)
    assert dirs == {t.pid}, f"{sql} opened pid dirs {sorted(dirs)[:20]}"
    want = {f"task/{x}/syscall" for x in (t.main, *t.tids)}
    assert want <= set(files.get(t.pid, [])), (sorted(want), files)
    test_host.assert_each_file_once(files)
    sql = f"SELECT tid, comm FROM ps_threads WHERE pid IN ({t.pid}, {other.pid})"
    opened, _, _ = test_host.strace_run(sql)
    files, dirs = test_host.per_pid_files(opened)
    assert dirs == {t.pid, other.pid}, f"{sql} opened pid dirs {sorted(dirs)[:20]}"
    print(f"  WHERE pid opened {sorted(set(files[t.pid]))}")


# ---------------------------------------------------------------- unprivileged caller

def test_another_users_threads_for_an_unprivileged_caller():
    """uid 65534 lists root's helper's threads, with wchan and syscall NULL
    (they need ptrace access) and the rest readable; a full scan is no error."""
    lib.require_root()
    need("setpriv", "sqlite3")
    t = Threads("read:a", "sleep:b")
    t.settle()
    tmp = tempfile.mkdtemp(prefix="threads-nobody-")
    try:
        os.chmod(tmp, 0o755)
        ext = os.path.join(tmp, "ps.so")
        shutil.copyfile(lib.EXT if lib.EXT.endswith(".so") else lib.EXT + ".so", ext)
        os.chmod(ext, 0o755)
        sql = (f"SELECT tid, comm, state, quote(wchan), quote(syscall), typeof(time), typeof(nice), "
               f"typeof(voluntary_switches) FROM ps_threads WHERE pid = {t.pid};"
               f"SELECT count(*), count(DISTINCT htid) FROM ps_threads;")
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sqlite3", ":memory:",
                            "-cmd", f".load {ext}", sql], capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert r.returncode == 0 and not r.stderr, r.stderr
    lines = r.stdout.strip().split("\n")
    got = {int(ln.split("|")[0]): ln.split("|")[1:] for ln in lines[:-1]}
    want = {t.main: "threads", t.tids[0]: "a", t.tids[1]: "b"}
    assert set(got) == set(want), (got, want)
    for tid, v in got.items():
        assert v == [want[tid], "S", "NULL", "NULL", "real", "integer", "integer"], (tid, v)
    n, distinct = (int(x) for x in lines[-1].split("|"))
    assert n == distinct > len(want), lines[-1]
    # root reads them
    assert all(v["syscall"] and v["wchan"] for v in rows(t.pid, "tid, wchan, syscall").values())
    print(f"  uid 65534: {len(got)} threads of root's helper, {n} on the host")


# ---------------------------------------------------------------- churn

def test_scans_while_threads_come_and_go():
    """A process that creates and joins threads in a loop: 50 scans of it
    and 5 of the host, every column; no error, each thread once per scan,
    the threads that live throughout always there."""
    t = Threads("churn:churner", "read:steady")
    db = connect()
    lasting = {t.main: "threads", t.tids[0]: "churner", t.tids[1]: "steady"}
    seen = set()
    for i in range(50):
        got = q(f"SELECT {COLS} FROM ps_threads WHERE pid = ?" + (" AND sample = 0.02" if i % 10 == 0 else ""),
                t.pid, db=db)
        htids = [r[3] for r in got]
        assert len(htids) == len(set(htids)), f"scan {i}: a thread listed twice: {sorted(htids)}"
        assert all(r[0] == r[2] == t.pid for r in got), got
        comms = {r[1]: r[4] for r in got}
        assert {k: comms.get(k) for k in lasting} == lasting, (i, comms)
        seen.update(htids)
    print(f"  {len(seen)} distinct threads seen in 50 scans")


def test_full_scans_while_processes_and_threads_churn():
    """Processes that exit mid-scan (build/helpers/churn: up to 1000 a
    second, some left as zombies) and a thread churner: 10 scans of the
    host, every column, no error, each thread once; every thread in /proc
    before and after a scan is in it."""
    Threads("churn:churner", "read:steady")
    tmp = tempfile.mkdtemp(prefix="threads-churn-")
    try:
        p = start([lib.helper("churn"), "--seconds", "60", "--log", os.path.join(tmp, "log"), "S=00000000"],
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        p._own_pgrp = True
        ready, _, _ = select.select([p.stdout], [], [], lib.HANG)
        assert ready and p.stdout.readline().startswith(b"ready"), p.stderr.read().decode()
        db = connect()
        for i in range(10):
            l0 = all_tasks()
            got = q(f"SELECT {COLS} FROM ps_threads" + (" WHERE sample = 0.02" if i % 5 == 0 else ""), db=db)
            l1 = all_tasks()
            ours = {(r[2], r[3]) for r in got}
            assert len(ours) == len(got), f"scan {i}: a thread listed twice"
            missing = sorted((l0 & l1) - ours)
            assert not missing, f"scan {i}: threads in /proc before and after are missing: {missing[:20]}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- bad input

def test_bad_input_is_an_error_worded_as_ps():
    """The same inputs that ps refuses, refused with ps's words and the
    table's name."""
    db = connect()
    cases = [("SELECT * FROM {t}(?)", ("x",)), ("SELECT * FROM {t}(?)", (0,)), ("SELECT * FROM {t}(?)", (1.5,)),
             ("SELECT * FROM {t}(?)", (4194304,)), ("SELECT pid FROM {t} WHERE pidns = ?", (-1,)),
             ("SELECT pid FROM {t} WHERE pidns = ?", (4194304,))]
    cases += [("SELECT pcpu_now FROM {t} WHERE sample = ?", (v,)) for v in (0, 100, -1, 0.001, 61, "soon")]
    cases += [("SELECT pcpu_now FROM {t}(NULL, ?)", (v,)) for v in (0, 100)]
    for sql, args in cases:
        theirs = sql_error(sql.format(t="ps"), *args, db=db)
        ours = sql_error(sql.format(t="ps_threads"), *args, db=db)
        assert theirs.startswith("ps: "), theirs
        assert ours == "ps_threads: " + theirs[len("ps: "):], f"{sql} {args}: {ours!r}, ps says {theirs!r}"
    print(f"  {len(cases)} inputs, e.g. {ours!r}")


# ---------------------------------------------------------------- zombie leader

def test_zombie_leader_keeps_its_threads():
    """The main thread calls pthread_exit while the others run: the process
    still lists them; the leader, if listed, is Z; the same as ps -eL."""
    need("ps")
    t = Threads("read:a", "csleep:b", "spin:c", leader_exit=True)
    lib.wait_for(lambda: task_stat(t.pid, t.main)[1][0] == "Z", timeout=lib.HANG, what="the leader to exit")
    t.settle()
    before = rows(t.pid)
    ps = {lwp: d for (pid, lwp), d in ps_eL(["stat"]).items() if pid == t.pid}
    after = rows(t.pid)
    assert {t.ctl, *t.tids} <= set(before), (sorted(before), t.ctl, t.tids)
    assert set(before) == set(after) == set(ps), (sorted(before), sorted(after), sorted(ps))
    for tid in before:
        assert before[tid]["state"] == after[tid]["state"] == ps[tid]["stat"][0], (tid, before[tid], ps[tid])
        assert before[tid]["comm"] == ps[tid]["comm"], (tid, before[tid]["comm"], ps[tid]["comm"])
    if t.main in before:
        assert before[t.main]["state"] == "Z", before[t.main]
    assert [before[x]["state"] for x in t.tids] == ["S", "S", "R"], before
    # the control thread answers: the process works without its leader
    assert t.clock(3) > 0
    print(f"  leader {'listed as Z' if t.main in before else 'not listed'}; {len(before)} rows")
