"""Hardening tests: the ps table under process churn, concurrent use, an
unprivileged caller, and hostile input from containers and from the caller.

  churn        build/helpers/churn starts ~1000 short-lived processes a second
               on the host and inside a container (forcing pid reuse there);
               every row must be one process: comm and args name the same
               child, pid and hpid are the ones that child logged.
  pid reuse    build/helpers/takepid takes a pid that a scan in progress has
               listed but whose process just exited (clone3 set_tid): the
               rest of the scan must not pin the old process's hpid on the
               new one, nor list a host process as a container's.
  threads      several connections on several threads scan the host and two
               containers at once; no Python thread may ever be seen in a
               foreign mount namespace, and no thread or fd is left behind.
  privilege    a uid-65534 caller (setpriv): NULL where /proc refuses it,
               clean "ps: " errors for containers it may not enter.
  hostile      a container's /etc/passwd with a 1 MiB line, NULs, binary
               names and ids that overflow, FIFOs at /etc/passwd and
               /etc/group, or symlinks through /proc/PID/root to host files;
               a 2 MiB command line; comm "a)\\n(b"; odd pid and pidns
               values; a container /proc that is a tmpfs of fakes, and mounts
               and symlinks over the files of a real one.

Queries that feed the extension hostile input run in a child python
(child_queries), so a crash or a hang is reported as such instead of taking
the runner down. Every test needs root (it skips otherwise); the whole file
takes about 15 seconds.
"""
import ast
import os
import pwd
import random
import re
import resource
import select
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

import lib
from lib import Skip, require_root
from test_container import container

PY = "/usr/bin/python3"
CHURN_SECONDS = 5  # at least; on a busy machine, until the scans saw enough (CHURN_MAX_SECONDS)
CHURN_MAX_SECONDS = 60
FORK_EVERY = 10  # every 10th churn child has memory of its own (see churn.c)
# comm prefixes of the two churners' children: random per run, so that two
# runs of the suite at once (a developer's and CI's) cannot read each other's
_TAG = random.choice("abdefgijklmnopqrstuvwxyz")
TAGS = {"host": _TAG + "h", "ctr": _TAG + "c"}
KID = re.compile(r"([a-z][hc])([0-9a-f]{8})$")  # comm of a churn child


# ---------------------------------------------------------------------------
# A child python that runs queries (crashes and hangs become failures)

CHILD = r'''
import ast, os, sqlite3, sys
spec = ast.literal_eval(sys.stdin.read())
me = os.getpid()

def fix(v):
    return me if v == "$SELF" else v

def probe(kind, path):
    path = path.replace("$SELF", str(me))
    try:
        if kind == "readlink":
            return ("ok", os.readlink(path))
        with open(path, "rb") as f:
            return ("ok", f.read(65536))
    except OSError as e:
        return ("err", e.errno)

db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(spec["ext"])
db.enable_load_extension(False)
db.text_factory = bytes
out = []
for sql, params in spec["queries"]:
    try:
        out.append(("ok", db.execute(sql, [fix(p) for p in params]).fetchall()))
    except sqlite3.Error as e:
        out.append(("err", type(e).__name__, str(e)))
    except Exception as e:  # e.g. an error message that is not UTF-8
        out.append(("exc", type(e).__name__, repr(e)))
res = {"pid": me, "results": out, "probes": [probe(k, p) for k, p in spec.get("probes", [])]}
sys.stdout.write(repr(res))
'''


def child_queries(queries, probes=(), ext=None, user=None, timeout=30):
    """Run [(sql, params)] in a new /usr/bin/python3 (as uid USER when given)
    with text_factory=bytes. A param "$SELF" is the child's pid. Returns
    {"pid", "results": [("ok", rows) | ("err"|"exc", type, message)],
    "probes": [("ok", value) | ("err", errno)]}."""
    argv = [PY, "-c", CHILD]
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    spec = {"ext": ext or lib.EXT, "queries": list(queries), "probes": list(probes)}
    # the caller's environment (LD_PRELOAD for a sanitizer build), not its python's
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["HOME"] = "/"
    try:
        p = subprocess.run(argv, input=repr(spec).encode(), capture_output=True, timeout=timeout,
                           cwd="/", env=env)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"queries hung (no answer in {timeout} s): {[q[0] for q in queries]}")
    if p.returncode != 0:
        how = f"signal {-p.returncode}" if p.returncode < 0 else f"exit {p.returncode}"
        raise AssertionError(f"the query process died ({how}) running {[q[0] for q in queries]}: "
                             f"{p.stderr.decode(errors='replace').strip()[-800:]}")
    return ast.literal_eval(p.stdout.decode())


def ok_rows(res, what):
    """The rows of a child result that must have succeeded."""
    assert res[0] == "ok", f"{what}: {res[1]} {res[2]!r}" if res[0] != "ok" else ""
    return res[1]


def ps_error(res, what):
    """The message of a child result that must be a clean 'ps: ' error."""
    assert res[0] == "err", (f"{what}: want a 'ps: ...' sqlite3 error, got " +
                             (f"{len(res[1])} rows" if res[0] == "ok" else f"{res[1]}: {res[2]}"))
    assert res[2].startswith("ps: "), f"{what}: error {res[2]!r} does not start with 'ps: '"
    return res[2]


# ---------------------------------------------------------------------------
# Processes

def start_ready(argv, timeout=10, **kw):
    """lib.start(ARGV) and wait for its 'ready k=v ...' line: (Popen, {k: int})."""
    p = lib.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    line = p.stdout.readline().decode(errors="replace") if ready else ""
    if not line.startswith("ready"):
        p.kill()
        err = p.communicate(timeout=5)[1].decode(errors="replace").strip()
        raise AssertionError(f"{argv[:6]} did not start: {line!r} {err}")
    return p, {k: int(v) for k, v in (kv.split("=", 1) for kv in line.split()[1:])}


def finish(p, timeout=10):
    """Close P's stdin and wait for it; its stdout's remaining text."""
    try:
        p.stdin.close()
    except OSError:
        pass
    try:
        out = p.stdout.read()
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError(f"{p.args[:4]} did not stop")
    return out.decode(errors="replace")


def take_pid(pid, comm, x=None):
    """A process with pid PID (0: any) named COMM, in X's PID namespace when
    X is given: (Popen of the helper, its pid there, its host pid)."""
    argv = [lib.helper("takepid"), str(pid), comm]
    if x is not None:
        argv = ["nsenter", "-t", str(x), "-p", "--", *argv]
    p, info = start_ready(argv)
    return p, info["pid"], info["hpid"]


def proc_comm(pid):
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            return f.read().rstrip(b"\n")
    except OSError:
        return None


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def enter(c, uid, *argv):
    """Run ARGV in container C's user and PID namespaces as container uid
    UID (the host's files: no mount namespace); its host pid once it runs."""
    p = lib.start(["nsenter", "-t", str(c.init), "-U", "-p", "-S", str(uid), "-G", str(uid),
                   "--", *argv], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    want = os.path.basename(argv[0]).encode()[:15]
    kid = lib.wait_for(lambda: [k for k in children(p.pid) if proc_comm(k) == want],
                       what=f"{argv[0]} as uid {uid} in the container")
    return kid[0]


def nspid_levels(pid):
    """How many PID namespaces pid is in, from its status (readable by all)."""
    with open(f"/proc/{pid}/status") as f:
        return len(next(ln for ln in f if ln.startswith("NSpid:")).split()) - 1


def in_my_pidns(pid):
    return nspid_levels(pid) == nspid_levels("self")


def ns_pid_inode(pid):
    return os.stat(f"/proc/{pid}/ns/pid").st_ino


# A python run inside a container's mount namespace (setns on a
# single-threaded process), with helpers to mount and to create files
# owned by the container's root.
IN_MNTNS = r'''
import ctypes, os, sys
X, ROOT_UID = int(sys.argv[1]), int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def check(r, what):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")
    return r

fd = os.open(f"/proc/{X}/ns/mnt", os.O_RDONLY)
check(libc.setns(fd, 0x00020000), "setns(CLONE_NEWNS)")
os.close(fd)
os.chdir("/")

class as_container_root:
    """Create files as the container's root (host root is not mapped there)."""
    def __enter__(self):
        libc.setfsgid(ROOT_UID)
        libc.setfsuid(ROOT_UID)
    def __exit__(self, *a):
        libc.setfsuid(0)
        libc.setfsgid(0)

def mount(src, target, fstype=None, flags=0, data=None):
    enc = lambda s: s.encode() if s is not None else None
    check(libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
          f"mount {src} on {target}")

def bind_symlink(link, target):
    """Mount the symlink LINK itself (not what it names) over TARGET."""
    fd = check(libc.syscall(428, -100, link.encode(), 1 | 0o2000000 | 0x100), f"open_tree {link}")
    check(libc.syscall(429, fd, b"", -100, target.encode(), 4), f"move_mount {link} over {target}")

def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
'''


def in_container(c, script):
    """Run SCRIPT (python, after IN_MNTNS) in container C's mount namespace."""
    root_uid = int(c.info["uid_map"].split()[1]) if c.info.get("userns") else 0
    p = subprocess.run([PY, "-c", IN_MNTNS + script, str(c.init), str(root_uid)],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, f"setting up the container failed: {p.stderr.strip()[-1500:]}"


def shadow_line():
    """The first line of the host's /etc/shadow (what must never leak)."""
    try:
        with open("/etc/shadow", "rb") as f:
            line = f.readline().rstrip(b"\n")
    except OSError as e:
        raise Skip(f"cannot read /etc/shadow: {e}")
    if len(line) < 8:
        raise Skip("/etc/shadow's first line is too short to look for")
    return line


def texts(rows):
    """Every text value of rows (bytes)."""
    return [v for r in rows for v in r if isinstance(v, (bytes, str))]


# ---------------------------------------------------------------------------
# 1. Churn


def read_churn_log(path):
    """{serial: (pid, hostpid)} of a churn log, and the churner's own pid."""
    kids, parent = {}, None
    with open(path) as f:
        for ln in f:
            kind, serial, pid, hpid = ln.split()
            if kind == "P":
                parent = (int(pid), int(hpid))
            else:
                kids[serial] = (int(pid), int(hpid))
    return kids, parent


def test_churn_rows_are_one_process_each():
    require_root()
    churn = lib.helper("churn")
    tmp = tempfile.mkdtemp(prefix="hx-churn-")
    try:
        with container() as c:
            want = {pid: (comm, hpid) for pid, (_, _, comm, hpid) in c.expected().items()}
            hlog, clog = os.path.join(tmp, "host.log"), os.path.join(tmp, "ctr.log")
            # The churners run until the test closes their stdin: once the scans
            # have seen enough rows (a busy machine scans less often), or at
            # CHURN_MAX_SECONDS.
            # Children with their own memory live up to 100 ms (churn's default
            # 20 ms), so that scans slowed down by a busy machine still see some alive.
            common = [churn, "--seconds", str(CHURN_MAX_SECONDS), "--fork-every", str(FORK_EVERY),
                      "--fork-ms", "100"]
            hargv = [*common, "--tag", TAGS["host"], "--log", hlog, "S=00000000"]
            # Inside the container the children keep taking pid 100 and up.
            cargv = [*common, "--reuse", "100", "--tag", TAGS["ctr"], "--log", clog, "S=00000000"]
            # The churners are not under test: under make asan they must not
            # carry the sanitizer runtime into a thousand children a second.
            env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
            # each in a process group of its own: if the test fails, cleanup
            # kills the group (nsenter's churner child too), not just nsenter
            hp, hready = start_ready(hargv, env=env, start_new_session=True)
            cp, cready = start_ready(["nsenter", "-t", str(c.init), "-p", "--", *cargv], env=env,
                                     start_new_session=True)
            hp._own_pgrp = cp._own_pgrp = True
            churners = {"host": hready["pid"], "ctr": cready["pid"]}  # in each view's pids

            db = lib.connect()
            # another process's command line need not be UTF-8: not this test's business
            db.text_factory = lambda b: b.decode("utf-8", "replace")
            me = os.getpid()
            problems, seen = [], {"host": [], "ctr": []}
            scans = {"host": 0, "ctr": 0}
            start = time.monotonic()

            def enough():
                # rows of children with their own memory (their args are exact),
                # as the checks below count them, in both views
                for view in ("host", "ctr"):
                    own = sum(1 for r in seen[view] if r[0] != churners[view] and r[3] != f"[{r[2]}]"
                              and int(KID.match(r[2]).group(2), 16) % FORK_EVERY == 0)
                    if len(seen[view]) < 100 or own < 20:
                        return False
                return time.monotonic() - start >= CHURN_SECONDS

            while (hp.poll() is None or cp.poll() is None) and not enough() \
                    and time.monotonic() < start + CHURN_MAX_SECONDS:
                for view in ("host", "ctr"):
                    try:
                        if view == "host":
                            rows = db.execute("SELECT pid, ppid, comm, args, user, stime, rss, NULL "
                                              "FROM ps").fetchall()
                        else:
                            rows = db.execute("SELECT pid, ppid, comm, args, user, stime, rss, hpid "
                                              "FROM ps(?)", (c.init,)).fetchall()
                    except sqlite3.Error as e:
                        problems.append(f"{view} scan {scans[view]}: {type(e).__name__}: {e}")
                        continue
                    scans[view] += 1
                    pids = [r[0] for r in rows]
                    if len(pids) != len(set(pids)):
                        dup = sorted({p for p in pids if pids.count(p) > 1})
                        problems.append(f"{view} scan {scans[view]}: pids {dup} appear twice")
                    byp = {r[0]: r for r in rows}
                    if view == "host":
                        for p in (me, c.init):
                            if p not in byp:
                                problems.append(f"host scan {scans[view]}: pid {p} is missing")
                    else:
                        for p, (comm, hpid) in want.items():
                            r = byp.get(p)
                            if not r or (r[2], r[7]) != (comm, hpid):
                                problems.append(f"container scan {scans[view]}: pid {p} is {r}, "
                                                f"want comm {comm} hpid {hpid}")
                    for r in rows:
                        m = KID.match(r[2] or "")
                        if m and m.group(1) == TAGS[view]:
                            seen[view].append(r)
                        elif m and view == "ctr":
                            problems.append(f"container scan {scans[view]}: a host process {r}")
                if len(problems) > 20:
                    break
            hout, cout = finish(hp), finish(cp)
            assert not problems, "during the churn:\n  " + "\n  ".join(problems[:20])

            for view, out, log, argv in (("host", hout, hlog, hargv), ("ctr", cout, clog, cargv)):
                m = re.search(r"done (\d+)", out)
                assert m and int(m.group(1)) >= 500, f"{view} churner started too few children: {out!r}"
                kids, parent = read_churn_log(log)
                prefix = " ".join(argv[:-1]) + " S="
                ppid = parent[0]
                user = "root" if view == "host" else "nobody"  # host root is unmapped inside
                alive = 0
                rows = [r for r in seen[view] if r[0] != ppid]  # the churner itself changes
                for pid, rppid, comm, args, ruser, stime, rss, hpid in rows:
                    serial = KID.match(comm).group(2)
                    why = []
                    if args != f"[{comm}]":
                        m = re.fullmatch(re.escape(prefix) + "([0-9a-f]{8})", args)
                        if not m:
                            why.append(f"args {args[-60:]!r} are not the churner's command line")
                        elif int(serial, 16) % FORK_EVERY == 0:  # a memory of its own: exact
                            alive += 1
                            if m.group(1) != serial:
                                why.append(f"args end in S={m.group(1)}, not S={serial}")
                        elif int(m.group(1), 16) < int(serial, 16):  # memory shared with the churner
                            why.append(f"args end in S={m.group(1)}, an earlier child than {serial}")
                    if serial not in kids:
                        why.append("no churn child logged this serial")
                    else:
                        lpid, lhpid = kids[serial]
                        if pid != (lpid if view == "ctr" else lhpid):
                            why.append(f"child {serial} had pid {lpid if view == 'ctr' else lhpid}")
                        if view == "ctr" and hpid is not None and hpid != lhpid:
                            why.append(f"hpid {hpid}, but child {serial} had host pid {lhpid}")
                    if rppid != ppid:
                        why.append(f"ppid {rppid}, want the churner {ppid}")
                    if ruser != user:
                        why.append(f"user {ruser!r}, want {user!r}")
                    if not isinstance(stime, float) or not isinstance(rss, int) or rss < 0:
                        why.append(f"stime {stime!r} rss {rss!r}")
                    if why:
                        problems.append(f"{view} row pid={pid} comm={comm}: " + "; ".join(why))
                assert len(rows) >= 50 and alive >= 10, \
                    f"{view}: only {len(rows)} rows of churn children ({alive} alive) in {scans[view]} scans"
                if view == "ctr":
                    nohpid = sum(1 for r in rows if r[7] is None)
                    assert nohpid < len(rows), "container: no churn child ever had an hpid"
            assert not problems, (f"{len(problems)} rows mix two processes, e.g.:\n  " +
                                  "\n  ".join(problems[:8]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_pid_reused_inside_a_container_during_a_scan():
    # A scan lists the container's pids and their host pids up front, then
    # reads the rows. A process that exits after that and whose container
    # pid is taken by a new process must not give a row that pairs the new
    # process with the old one's host pid.
    require_root()
    with container() as c:
        vp, victim, vh = take_pid(0, "hx-victim", c.init)
        db = lib.connect()
        cur = db.execute("SELECT pid, hpid, comm FROM ps(?)", (c.init,))
        first = cur.fetchone()
        assert first and first[0] == 1, f"first row {first}"
        finish(vp)
        lib.wait_for(lambda: not os.path.exists(f"/proc/{vh}"), what=f"pid {vh} to go")
        rp, reused, rh = take_pid(victim, "hx-reuser", c.init)
        assert reused == victim and rh != vh, (victim, vh, reused, rh)
        rows = [first] + cur.fetchall()
        finish(rp)
        got = {r[0]: r for r in rows}
        r = got.get(victim)
        assert r is None or r == (victim, rh, "hx-reuser") or r == (victim, None, "hx-reuser"), \
            (f"container pid {victim}: row {r}; the process there is hx-reuser (host pid {rh}); "
             f"{vh} was the host pid of hx-victim, which had exited")


def test_host_pid_reused_during_a_fallback_scan():
    # A container without its own /proc is listed from the host's /proc by
    # host pid. A member that exits mid-scan and whose host pid is taken by
    # a host process must not bring that host process into the container.
    require_root()
    with container("--no-proc") as c:
        vp, victim, vh = take_pid(0, "hx-victim", c.init)
        db = lib.connect()
        cur = db.execute("SELECT pid, hpid, comm FROM ps(?)", (c.init,))
        first = cur.fetchone()
        finish(vp)
        lib.wait_for(lambda: not os.path.exists(f"/proc/{vh}"), what=f"pid {vh} to go")
        try:
            rp, hostpid, _ = take_pid(vh, "hx-hostproc")
        except AssertionError as e:
            raise Skip(f"host pid {vh} was taken before we could reuse it: {e}")
        rows = [first] + cur.fetchall()
        finish(rp)
        strangers = [r for r in rows if r[2] == "hx-hostproc"]
        assert not strangers, (f"a host process (pid {hostpid}, not in the container) is listed as "
                               f"container pid {strangers[0][0]}: {strangers}")
        want = {pid: (pid, hpid, comm) for pid, (_, _, comm, hpid) in c.expected().items()}
        got = {r[0]: r for r in rows}
        assert got == want, f"rows {sorted(got.values())}, want {sorted(want.values())}"


# ---------------------------------------------------------------------------
# 2. Concurrency


def mntns(path="/proc/thread-self/ns/mnt"):
    """readlink(PATH) (by default: this thread's mount namespace), or why not."""
    try:
        return os.readlink(path)
    except OSError as e:
        return f"unreadable: {e}"


def test_concurrent_scans_leave_every_python_thread_in_its_mount_namespace():
    require_root()
    with container() as a, container("--no-proc") as b:
        before = mntns()
        tasks_before = set(os.listdir("/proc/self/task"))
        fds_before = sorted(os.listdir("/proc/self/fd"))
        me = os.getpid()
        want = {x.init: {pid: (comm, hpid) for pid, (_, _, comm, hpid) in x.expected().items()}
                for x in (a, b)}
        python_tids = {threading.get_native_id()}
        lock = threading.Lock()
        errors, counts = [], {}
        stop = threading.Event()
        go = threading.Barrier(6)
        seconds = 4

        def fail(msg):
            with lock:
                errors.append(msg)

        def check_ctr(x, rows, what):
            got = {r[0]: (r[1], r[2]) for r in rows}
            if got != want[x]:
                fail(f"{what}: {sorted(got.items())}, want {sorted(want[x].items())}")

        def worker(k):
            with lock:
                python_tids.add(threading.get_native_id())
            mine = mntns()
            db = lib.connect()
            go.wait()
            n = 0
            try:
                while not stop.is_set():
                    view = (k + n) % 4
                    n += 1
                    try:
                        if view == 0:
                            rows = db.execute("SELECT pid, comm, hpid FROM ps").fetchall()
                            pids = {r[0] for r in rows}
                            if not {me, a.init, b.init} <= pids:
                                fail(f"thread {k}: host scan lacks {({me, a.init, b.init} - pids)}")
                        elif view in (1, 2):
                            x = (a, b)[view - 1].init
                            check_ctr(x, db.execute("SELECT pid, comm, hpid FROM ps(?)", (x,)).fetchall(),
                                      f"thread {k}: ps({x})")
                        else:
                            rows = db.execute("SELECT pidns, pid, comm, hpid FROM ps WHERE pidns IN (?, ?)",
                                              (a.init, b.init)).fetchall()
                            for x in (a.init, b.init):
                                check_ctr(x, [r[1:] for r in rows if r[0] == x], f"thread {k}: IN, pidns {x}")
                    except sqlite3.Error as e:
                        fail(f"thread {k}: {type(e).__name__}: {e}")
                    if mntns() != mine:
                        fail(f"thread {k} is in mount namespace {mntns()}, was {mine}")
                        break
                    with lock:
                        counts[view] = counts.get(view, 0) + 1
            finally:
                db.close()

        observed = {"checks": 0, "helpers": 0}

        def watcher():
            with lock:
                python_tids.add(threading.get_native_id())
            main = threading.main_thread().native_id
            go.wait()
            while not stop.is_set():
                with lock:
                    tids = set(python_tids)
                for t in tids:
                    try:
                        ns = os.readlink(f"/proc/self/task/{t}/ns/mnt")
                    except FileNotFoundError:
                        if t == main:
                            fail(f"watcher: cannot see the main thread ({t}): not in our /proc?")
                            return
                        continue  # a worker that has ended
                    observed["checks"] += 1
                    if ns != before:
                        fail(f"python thread {t} seen in mount namespace {ns}, not {before}")
                        return
                try:
                    observed["helpers"] += len(set(map(int, os.listdir("/proc/self/task"))) - tids)
                except OSError as e:
                    fail(f"watcher: /proc/self/task: {e}")
                    return

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        threads.append(threading.Thread(target=watcher))
        for t in threads:
            t.start()
        go.wait()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads), "a thread did not finish (a scan hangs?)"
        assert not errors, f"{len(errors)} problems, e.g.:\n  " + "\n  ".join(errors[:8])
        assert all(counts.get(v, 0) >= 5 for v in range(4)), f"too few scans per kind: {counts}"
        assert observed["checks"] >= 100, f"the watcher checked only {observed['checks']} times"
        assert mntns() == before, f"main thread: {mntns()} != {before}"

        def leftover():  # a joined thread can linger in /proc for a moment
            return {t: (proc_comm(f"self/task/{t}"), mntns(f"/proc/self/task/{t}/ns/mnt"))
                    for t in set(os.listdir("/proc/self/task")) - tasks_before
                    if int(t) not in python_tids}
        left = leftover()
        if left:
            time.sleep(0.5)
            left = leftover()
        assert not left, f"threads left behind (tid: comm, mount namespace): {left}"
        fds = sorted(os.listdir("/proc/self/fd"))
        assert len(fds) <= len(fds_before), \
            f"file descriptors leaked: {len(fds_before)} before, {len(fds)} after: " \
            f"{[mntns(f'/proc/self/fd/{fd}') for fd in sorted(set(fds) - set(fds_before))]}"


# ---------------------------------------------------------------------------
# 3. An unprivileged caller


def test_unprivileged_caller_gets_nulls_and_clean_errors():
    require_root()
    try:
        pwd.getpwuid(65534)
    except KeyError:
        raise Skip("no user 65534 on this host")
    tmp = tempfile.mkdtemp(prefix="hx-nobody-")
    try:
        os.chmod(tmp, 0o755)
        ext = os.path.join(tmp, "ps.so")
        shutil.copyfile(lib.EXT if lib.EXT.endswith(".so") else lib.EXT + ".so", ext)
        os.chmod(ext, 0o755)
        runner = os.getpid()
        same_ns_as_1 = in_my_pidns(1)
        with container() as c, container(user=65534) as r:
            cols = "pid, uid, user, exe, cwd, label, ns_mnt, ns_pid, args, comm"
            queries = [
                (f"SELECT {cols} FROM ps", []),
                ("SELECT pid FROM ps(?)", [c.init]),
                ("SELECT pid, hpid, pidns FROM ps(?)", ["$SELF"]),
                ("SELECT pid FROM ps(?)", [r.init]),
                ("SELECT pid, hpid FROM ps(1)", []),
                ("SELECT pid FROM ps WHERE pidns = ?", [c.hpid("worker")]),
            ]
            cases = {"exe": "readlink exe", "cwd": "readlink cwd", "ns_mnt": "readlink ns/mnt",
                     "ns_pid": "readlink ns/pid", "label": "read attr/current"}
            who = {1: "1", runner: str(runner), "self": "$SELF"}
            probes = [(kind.split()[0], f"/proc/{p}/{kind.split()[1]}")
                      for p in who.values() for kind in cases.values()]
            out = child_queries(queries, probes, ext=ext, user=65534, timeout=30)
        mine = out["pid"]
        res = out["results"]

        # the host scan: every process, NULL where the kernel says no
        names = [n.strip() for n in cols.split(",")]
        rows = {r[0]: dict(zip(names, r)) for r in ok_rows(res[0], "host scan as uid 65534")}
        assert len(rows) == len(res[0][1]), "host scan: a pid appears twice"
        pi = 0
        for p in (1, runner, mine):
            assert p in rows, f"host scan as uid 65534 lacks pid {p} ({len(rows)} rows)"
            row = rows[p]
            assert row["args"] and row["comm"], f"pid {p}: args/comm must be readable: {row}"
            for col in cases:
                pr = out["probes"][pi]
                pi += 1
                readable = pr[0] == "ok" and pr[1] not in (b"", b"\n")
                if col in ("ns_mnt", "ns_pid") and readable:
                    want = int(re.search(r"\[(\d+)\]", pr[1]).group(1))
                elif col in ("exe", "cwd") and readable:
                    want = pr[1].encode()
                elif col == "label" and readable:
                    want = pr[1].rstrip(b"\n\0")
                else:
                    want = None
                assert row[col] == want, (f"pid {p} as uid 65534: {col} = {row[col]!r}, want {want!r} "
                                          f"(reading it directly: {pr!r})")
        assert rows[1]["exe"] is None and rows[runner]["cwd"] is None, "root's exe/cwd must be NULL"
        assert rows[mine]["exe"] is not None, "the caller's own exe must be readable"

        # a root-owned container: a clean error, naming the cause
        for i, x in ((1, c.init), (5, c.hpid("worker"))):
            msg = ps_error(res[i], f"ps({x}) as uid 65534")
            assert str(x) in msg and re.search(r"permission|not permitted|CAP_", msg, re.I), \
                f"ps({x}) as uid 65534: {msg!r} names no permission problem"
        # its own rootless container: ptrace access is all it takes (no setns)
        rows = ok_rows(res[3], f"ps({r.init}) (uid 65534's own container) as uid 65534")
        want = sorted(p["pid"] for p in r.procs.values())
        assert sorted(x[0] for x in rows) == want, f"ps(own rootless container): {rows}, want pids {want}"
        msg = ps_error(res[1], f"ps({c.init}) as uid 65534")
        assert "CAP_SYS_PTRACE" in msg and "CAP_SYS_ADMIN" not in msg, f"ps(root's container): {msg!r}"
        # its own pid: the host snapshot
        rows = ok_rows(res[2], "ps(own pid) as uid 65534")
        assert mine in {r[0] for r in rows} and all(r[0] == r[1] and r[2] == mine for r in rows), \
            f"ps({mine}) as its own uid: not the host snapshot: {rows[:5]}"
        if same_ns_as_1:
            rows = ok_rows(res[4], "ps(1) as uid 65534")
            assert {1, mine} <= {r[0] for r in rows} and all(r[0] == r[1] for r in rows), \
                f"ps(1) (same PID namespace) as uid 65534: not the host snapshot: {rows[:5]}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# 4. Hostile input


def hold_fifo(path, data):
    """Open the FIFO at PATH read-write, so that it always has a writer (a
    blocking reader would wait for ever), and fill it with DATA (which must
    never be read as the file's contents). Returns the fd."""
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    os.write(fd, data[:60000])
    return fd


def test_hostile_etc_passwd_and_group_in_a_container():
    require_root()
    big = b"L" * (1 << 20)
    passwd = (b"root:x:0:0:root:/root:/bin/sh\n" +
              big + b":x:5:5::/:/bin/sh\n" +                 # a 1 MiB line
              b"bin\x00ary:x:6:6::/:/bin/sh\n" +              # a NUL inside
              b"wrap:x:18446744073709551623:7::/:/bin/sh\n" + # 2^64 + 7
              b"big:x:4294967303:7::/:/bin/sh\n" +           # 2^32 + 7
              b"\xff\xfe\x80:x:7:7::/:/bin/sh\n" +            # not UTF-8
              b"\x00\x00\x00\n\n:::\n:x:8:8\n" +
              b"someone:x:1000:1000::/home/someone:/bin/sh")  # no final newline
    fds = []
    with container() as c:
        try:
            with open(f"/proc/{c.init}/root/etc/passwd", "wb") as f:
                f.write(passwd)
            in_container(c, 'with as_container_root():\n'
                            '    os.unlink("/etc/group"); os.mkfifo("/etc/group", 0o644)\n')
            fds.append(hold_fifo(f"/proc/{c.init}/root/etc/group",
                                 b"root:x:0:\nFIFOGROUP:x:1000:\nFIFOGROUP:x:2000:\n" * 1000))
            for uid in (5, 6, 7):
                enter(c, uid, "sleep", "60")
            sql = 'SELECT pid, uid, user, ruser, "group", groups, comm FROM ps(?)'
            out = child_queries([(sql, [c.init])], timeout=20)["results"]
            rows = ok_rows(out[0], "ps(X) with a hostile /etc/passwd and a FIFO at /etc/group")
            by_uid = {}
            for r in rows:
                by_uid.setdefault(r[1], []).append(r)
            want = {0: [b"root"], 1000: [b"someone"], 5: [big, b"5"], 6: [b"6", b"bin\x00ary"],
                    # a name that is not UTF-8 reads as UTF-8, each invalid byte U+FFFD (issue 16)
                    7: [b"\xff\xfe\x80".decode("utf-8", "replace").encode(), b"7"]}
            problems = []
            for uid, ok in want.items():
                assert uid in by_uid, f"no process with uid {uid}: {[(r[0], r[1], r[6]) for r in rows]}"
                for r in by_uid[uid]:
                    if r[2] not in ok or r[3] != r[2]:
                        problems.append(f"uid {uid}: user {r[2][:60]!r} ({len(r[2])} bytes), "
                                        f"want one of {[o[:20] for o in ok]}")
            for r in rows:
                if r[4] != str(r[1]).encode():
                    problems.append(f"pid {r[0]}: group {r[4]!r}; /etc/group is a FIFO and must not be read")
            if any(b"FIFOGROUP" in v for v in texts(rows)):
                problems.append("the FIFO at /etc/group was read")

            # Now /etc/passwd is a FIFO too, and /etc/group a directory.
            in_container(c, 'with as_container_root():\n'
                            '    os.unlink("/etc/passwd"); os.mkfifo("/etc/passwd", 0o644)\n'
                            '    os.unlink("/etc/group"); os.mkdir("/etc/group")\n')
            fds.append(hold_fifo(f"/proc/{c.init}/root/etc/passwd",
                                 b"root:x:0:0::/:/bin/sh\nFIFOUSER:x:1000:0::/:\n" * 1000))
            out = child_queries([(sql, [c.init])], timeout=20)["results"]
            rows = ok_rows(out[0], "ps(X) with FIFOs at /etc/passwd")
            for r in rows:
                if r[2] != str(r[1]).encode():
                    problems.append(f"pid {r[0]}: user {r[2]!r}; /etc/passwd is a FIFO and must not be read")
            if any(b"FIFO" in v for v in texts(rows)):
                problems.append("a FIFO at /etc/passwd was read")
            assert not problems, "hostile /etc files:\n  " + "\n  ".join(problems)
        finally:
            for fd in fds:
                os.close(fd)


def test_container_etc_files_never_lead_to_host_files():
    # A process that joined only the container's PID namespace (nsenter -p,
    # no -m) keeps the host's root, and /proc/PID/root of it, seen from
    # inside the container, is a door to the host's filesystem. The
    # container's /etc/passwd and /etc/group, symlinked through that door
    # to host files, must not be read: they are not the container's.
    require_root()
    tmp = tempfile.mkdtemp(prefix="hx-host-")
    try:
        with open(os.path.join(tmp, "passwd"), "w") as f:
            f.write("hostsecret:x:0:0::/:/bin/sh\nhostsecret:x:1000:0::/:/bin/sh\n")
        with open(os.path.join(tmp, "group"), "w") as f:
            f.write("hostgroup:x:0:\nhostgroup:x:1000:\n")
        with container() as c:
            _, door, _ = take_pid(0, "hx-door", c.init)
            in_container(c, f'''
with as_container_root():
    for f in ("passwd", "group"):
        os.unlink("/etc/" + f)
        os.symlink("/proc/{door}/root{tmp}/" + f, "/etc/" + f)
''')
            out = child_queries([('SELECT pid, user, "group", groups, comm FROM ps(?)', [c.init])],
                                timeout=20)["results"]
            rows = ok_rows(out[0], "ps(X) whose /etc files are symlinks into the host")
            leaked = [r for r in rows if any(v in (b"hostsecret", b"hostgroup") for v in r)]
            assert not leaked, (f"names from host files reached through /proc/{door}/root: "
                                f"{leaked[:3]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def spawn_argv(argv, *opts, stack=64 << 20):
    """build/helpers/spawn with exactly ARGV as its command line (RLIMIT_STACK
    raised so that a large one fits): its pid once it sleeps."""
    def more_stack():
        resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))

    p, info = start_ready([lib.helper("spawn"), *opts, "--", *argv], preexec_fn=more_stack)
    lib.wait_for(lambda: open(f"/proc/{p.pid}/stat", "rb").read().rsplit(b")", 1)[1].split()[0] == b"S",
                 what="spawn to sleep")
    return info["pid"]


def test_two_mib_command_line_comes_back_exactly():
    require_root()
    # Linux caps one argument at 128 KiB, so 17 of them (with every byte but NUL).
    pattern = bytes(range(1, 256))
    argv = [b"hx-argv"] + [(pattern[i:] + pattern * 600)[:131071] for i in range(17)]
    raw = b" ".join(argv)
    assert len(raw) > 2 << 20
    # TEXT is UTF-8: args is the bytes decoded with U+FFFD for each invalid
    # sequence; args_raw is the command line exactly, NULs and all
    want = raw.decode("utf-8", "replace").encode()
    pid = spawn_argv(argv)
    out = child_queries([("SELECT args, length(CAST(args AS BLOB)), args_raw FROM ps WHERE pid = ?", [pid]),
                         ("SELECT pid, args FROM ps", []),
                         ("SELECT args FROM ps(?) WHERE pid = ?", ["$SELF", pid])], timeout=30)["results"]
    exact = ok_rows(out[0], "args_raw")[0][2]
    assert exact == b"\0".join(argv) + b"\0", \
        f"args_raw: {len(exact)} bytes, want the {len(raw) + 1} of the command line exactly"
    for i, what in ((0, "WHERE pid = X"), (1, "a full scan"), (2, "ps(self) WHERE pid = X")):
        rows = ok_rows(out[i], what)
        got = [r[1] for r in rows if r[0] == pid] if i == 1 else [r[0] for r in rows]
        assert len(got) == 1, f"{what}: {len(got)} rows for pid {pid}"
        if got[0] != want:
            diff = next((k for k, (x, y) in enumerate(zip(got[0], want)) if x != y),
                        min(len(got[0]), len(want)))
            raise AssertionError(f"{what}: args of {len(got[0])} bytes, want {len(want)}; "
                                 f"they differ from byte {diff} on: {got[0][diff:diff + 20]!r}")
        if i == 0:
            assert rows[0][1] == len(want), f"length(args) {rows[0][1]}, want {len(want)}"


def test_comm_with_newline_and_parentheses():
    require_root()
    names = [b"a)\n(b", b"x) Z 9 9 9 (y", b"\xff) (\xfe\n)", b")"]
    pids = {spawn_argv([b"hx-comm", n], "--comm", n): n for n in names}
    me = os.getpid()
    ph = ", ".join("?" * len(pids))
    cols = "pid, comm, ppid, state, args, pgid"
    out = child_queries([(f"SELECT {cols} FROM ps WHERE pid IN ({ph})", list(pids)),
                         (f"SELECT {cols} FROM ps", [])])["results"]
    for i in (0, 1):
        rows = {r[0]: r for r in ok_rows(out[i], "comm query") if r[0] in pids}
        for pid, name in pids.items():
            r = rows.get(pid)
            assert r, f"no row for the process named {name!r}"
            # text is UTF-8: the name's invalid bytes read U+FFFD (issue 16)
            text = name.decode("utf-8", "replace").encode()
            want = (pid, text, me, b"S", b"hx-comm " + text, os.getpgrp())
            assert r == want, f"comm {name!r}: row {r}, want {want}"


def test_odd_pid_and_pidns_values():
    require_root()
    me = os.getpid()
    bad = [0, -1, 2**63 - 1, -2**63, "abc", b"\x01", b"\xff\xfe", b"", "", 1.5, 1e300, -0.0,
           2**31, 2**32 + 1, "1e999", "0x10"]
    queries, what = [], []
    for v in bad:
        queries += [("SELECT pid FROM ps(?)", [v]), ("SELECT pid FROM ps WHERE pidns = ?", [v]),
                    ("SELECT pid FROM ps WHERE pidns IN (?, NULL)", [v])]
        what += [f"ps({v!r})", f"WHERE pidns = {v!r}", f"WHERE pidns IN ({v!r}, NULL)"]
    nerr = len(queries)
    # pid = V: the rows a table with an INTEGER pid column would give
    pidvals = [0, -1, 2**63 - 1, -2**63, "abc", b"\x01", b"", 1.5, 1.0, "1", "1.0", " 1 ", float(me),
               str(me), f"{me}.0", None, 2**32 + 1, -(2**32) + 1, 1e300, "1e0"]
    queries += [("CREATE TEMP TABLE t(pid INTEGER)", []), ("INSERT INTO t VALUES (1), (?)", [me])]
    for v in pidvals:
        for form in ("pid = ?", "pid IN (?, -5)", "pid = ? AND pidns = 1"):
            if form.endswith("pidns = 1") and not in_my_pidns(1):
                continue
            queries += [(f"SELECT pid FROM ps WHERE {form} ORDER BY pid", [v]),
                        (f"SELECT pid FROM t WHERE {form.replace(' AND pidns = 1', '')} ORDER BY pid", [v])]
            what += [f"WHERE {form} with {v!r}"]
    res = child_queries(queries, timeout=30)["results"]
    problems = []
    for i in range(nerr):
        try:
            msg = ps_error(res[i], what[i])
            assert re.search(r"pidns|no process", msg), f"{what[i]}: {msg!r} does not name the problem"
        except AssertionError as e:
            problems.append(str(e))
    for j, w in enumerate(what[nerr:]):
        got, oracle = res[nerr + 2 + 2 * j], res[nerr + 3 + 2 * j]
        assert oracle[0] == "ok", f"oracle {w}: {oracle}"
        if got != oracle:
            problems.append(f"{w}: got {got[1] if got[0] == 'ok' else got}, want {oracle[1]} "
                            f"(as from a table with an INTEGER pid column)")
    assert not problems, f"{len(problems)} wrong answers:\n  " + "\n  ".join(problems)


def test_container_proc_that_is_a_tmpfs_of_fakes():
    require_root()
    secret = shadow_line()
    with container() as c:
        ino = ns_pid_inode(c.init)
        in_container(c, f'''
mount("hx-fakeproc", "/proc", "tmpfs", 0, "mode=0755,size=1m")
for p in ("1", "2", "{c.init}"):
    os.makedirs(f"/proc/{{p}}/attr"); os.makedirs(f"/proc/{{p}}/ns")
    write(f"/proc/{{p}}/stat", f"{{p}} (hx-fake) R 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 1000 10 ")
    for f in ("status", "cmdline", "cgroup", "wchan", "attr/current", "environ", "syscall"):
        os.symlink("/etc/shadow", f"/proc/{{p}}/{{f}}")
    os.symlink("pid:[{ino}]", f"/proc/{{p}}/ns/pid")
    os.symlink("/etc", f"/proc/{{p}}/cwd")
    os.symlink("/etc/shadow", f"/proc/{{p}}/exe")
os.symlink("1", "/proc/self")
os.symlink("1", "/proc/thread-self")
''')
        out = child_queries([("SELECT * FROM ps(?)", [c.init]),
                             ("SELECT pid, comm, hpid, args FROM ps(?)", [c.init])], timeout=20)["results"]
        for res in out:
            if res[0] != "ok":
                ps_error(res, "ps(X) with a fake /proc")
                continue
            vals = texts(res[1])
            assert not any(secret in v for v in vals), "host /etc/shadow content in the rows"
            assert not any(b"hx-fake" in v for v in vals), "rows from the fake /proc"
        rows = ok_rows(out[1], "ps(X) whose /proc is a tmpfs (the host's /proc is the fallback)")
        want = sorted((pid, comm.encode(), hpid) for pid, (_, _, comm, hpid) in c.expected().items())
        got = sorted(r[:3] for r in rows)
        assert got == want, f"ps(X) with a fake /proc: {got}, want {want}"


def test_mounts_and_symlinks_over_files_of_the_container_proc():
    require_root()
    secret = shadow_line()
    with container() as c:
        in_container(c, '''
with as_container_root():
    write("/etc/hx-marker", "HX-MARKER\\0HX-MARKER\\n")
    os.symlink("/etc/shadow", "/etc/hx-evil")
# a file mounted over a file; the symlink itself mounted over others
mount("/etc/hx-marker", "/proc/1/cmdline", None, 4096)   # MS_BIND
for f in ("status", "cgroup", "attr/current", "wchan", "syscall"):
    bind_symlink("/etc/hx-evil", "/proc/1/" + f)
bind_symlink("/etc/hx-evil", "/proc/2/cmdline")
mount("/etc/hx-marker", "/proc/3/status", None, 4096)
''')
        out = child_queries([("SELECT * FROM ps(?)", [c.init]),
                             ("SELECT pid, comm, hpid, args, user, label, cgroup FROM ps(?)", [c.init])],
                            timeout=20)["results"]
        for res in out:
            vals = texts(ok_rows(res, "ps(X) with mounts over its /proc files"))
            assert not any(secret in v for v in vals), \
                "host /etc/shadow content in the rows (a symlink under the container's /proc was followed)"
            assert not any(b"HX-MARKER" in v for v in vals), \
                "a file mounted over the container's /proc/1/cmdline was read"
        rows = {r[0]: r for r in out[1][1]}
        want = c.expected()
        for pid in (1, 2, 3):
            assert pid in rows and rows[pid][1] == want[pid][2].encode(), \
                f"pid {pid}: row {rows.get(pid)}, want comm {want[pid][2]} (its stat is untouched)"
