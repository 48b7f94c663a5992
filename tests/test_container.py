"""Container tests: ps(X) / WHERE pidns = X against real containers.

Each test starts one or more containers with build/helpers/container (see the
comment at the top of tests/helpers/container.c): new user, PID, mount, UTS
and IPC namespaces, uid_map/gid_map "0 300000 70000" by default, its own
/etc/passwd and /etc/group, its own /proc, and these processes:

  role     comm         container pid  ppid  pgid  ids inside
  init     ctr-init     1              0     1     root
  worker   ctr-worker   2              1     2     root
  someone  ctr-someone  3              1     1     someone/somegroup, groups extra
  nocaps   ctr-nocaps   4              1     1     root, caps CHOWN,KILL,NET_BIND_SERVICE
  seccomp  ctr-seccomp  5              1     1     root, seccomp filter
  nested   ctr-nested   6 (1 nested)   1     6     root (--nested: own PID namespace)
  nestkid  ctr-nestkid  7 (2 nested)   6     6     root (--nested)

The helper reports every process's host pid and container pid on one JSON
line; the tests compare the extension's rows with that.

The tests that start containers or join mount namespaces need root and skip
otherwise; the error and query-plan tests run as any user.
"""
import json
import os
import grp
import pwd
import re
import select
import sqlite3
import subprocess
import threading

import lib
from lib import Skip, connect, q, q1, require_root, sql_error

# Columns whose values change between two reads of the same process.
# (pcpu_now: its polling baseline moves with every scan of one connection; pss
# and uss with other processes' sharing; psr with scheduling; the io
# counters and nfds with the process's own work)
VOLATILE = {"pcpu", "etime", "time", "pcpu_now", "pss", "uss", "shared", "psr", "oom_score", "nfds",
            "rchar", "wchar", "read_bytes", "write_bytes", "syscr", "syscw"}


# ---------------------------------------------------------------------------
# Containers


class Container:
    """A running container from build/helpers/container."""

    def __init__(self, *opts, user=None):
        argv = [lib.helper("container"), *opts]
        if user is not None:
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
        self.p = lib.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.p.stdout], [], [], 20)
        line = self.p.stdout.readline() if ready else ""
        if not line:
            self.p.kill()
            _, err = self.p.communicate(timeout=5)
            raise AssertionError(f"container {' '.join(opts)} did not start "
                                 f"(exit {self.p.returncode}): {err.strip()}")
        self.info = json.loads(line)
        self.init = self.info["init"]
        self.procs = {p["role"]: p for p in self.info["procs"]}

    def hpid(self, role):
        return self.procs[role]["hpid"]

    def cpid(self, role):
        return self.procs[role]["pid"]

    def hpids(self):
        return {p["hpid"] for p in self.procs.values()}

    def expected(self):
        """{container pid: (ppid, pgid, comm, hpid)} as the container sees them."""
        nested = self.procs.get("nested", {}).get("pid")
        out = {}
        for role, p in self.procs.items():
            pid = p["pid"]
            if role == "init":
                ppid, pgid = 0, 1
            elif role == "worker":
                ppid, pgid = 1, pid
            elif role == "nested":
                ppid, pgid = 1, pid
            elif role == "nestkid":
                ppid, pgid = nested, nested
            else:
                ppid, pgid = 1, 1
            out[pid] = (ppid, pgid, p["comm"], p["hpid"])
        return out

    def stop(self):
        """End the container the gentle way (the helper cleans up)."""
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        err = self.p.stderr.read()
        self.p.stderr.close()
        self.p.stdout.close()
        assert self.p.returncode == 0, f"container helper exited {self.p.returncode}: {err.strip()}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            try:
                self.stop()
            except Exception:
                pass  # the test's own failure is the interesting one
        return False


def container(*opts, **kw):
    require_root()
    return Container(*opts, **kw)


def rows_by_pid(x, cols, db=None, where="ps(?)"):
    """{pid: {col: value}} of SELECT pid, COLS FROM ps(X)."""
    return lib.keyed(f"SELECT pid, {cols} FROM {where}", x, key="pid", db=db)


def by_role(c, rows, role):
    pid = c.cpid(role)
    assert pid in rows, f"no row for {role} (container pid {pid}) in {sorted(rows)}"
    return rows[pid]


def host_name(fn, i):
    try:
        return fn(i)[0]
    except KeyError:
        return str(i)


def mntns():
    """The calling thread's mount namespace (a thread left in a container's
    mount namespace sees the container's /proc, where this path is missing)."""
    try:
        return os.readlink("/proc/thread-self/ns/mnt")
    except OSError as e:
        return f"unreadable: {e}"


def all_task_mntns():
    """{tid: mount namespace} of every thread of this process."""
    out = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError as e:  # the caller is not in our mount namespace any more
        return {0: f"unreadable: {e}"}
    for t in tids:
        try:
            out[int(t)] = os.readlink(f"/proc/self/task/{t}/ns/mnt")
        except FileNotFoundError:
            pass  # the thread ended
    return out


# ---------------------------------------------------------------------------
# What a container's rows say


def test_pids_ppids_pgids_as_the_container_sees_them():
    with container() as c:
        got = rows_by_pid(c.init, "ppid, pgid, comm, hpid, state, args")
        want = c.expected()
        assert set(got) == set(want), f"container pids: got {sorted(got)}, want {sorted(want)}"
        for pid, (ppid, pgid, comm, hpid) in want.items():
            r = got[pid]
            assert (r["ppid"], r["pgid"], r["comm"], r["hpid"]) == (ppid, pgid, comm, hpid), \
                f"pid {pid}: got ppid/pgid/comm/hpid {r}, want {(ppid, pgid, comm, hpid)}"
            # they sleep; on a busy machine one may be caught running
            assert r["state"] in ("S", "R"), f"{comm}: state {r['state']!r}, want 'S' (or 'R')"
            assert r["args"] and "container" in r["args"], f"{comm}: args {r['args']!r}"
        assert got[1]["comm"] == "ctr-init" and got[1]["ppid"] == 0


def test_hpid_is_the_host_pid_the_helper_reported():
    with container() as c:
        got = {r[0]: r[1] for r in q("SELECT comm, hpid FROM ps(?)", c.init)}
        want = {p["comm"]: p["hpid"] for p in c.procs.values()}
        assert got == want, f"comm -> hpid: got {got}, want {want}"


def test_user_and_group_names_come_from_the_container_files():
    with container() as c:
        rows = rows_by_pid(c.init, 'user, ruser, uid, "group", rgroup, groups, '
                                   'huser, huid, hgroup, hgroups')
        s = by_role(c, rows, "someone")
        want = {"user": "someone", "ruser": "someone", "uid": 1000, "group": "somegroup",
                "rgroup": "somegroup", "groups": "extra", "huid": 301000,
                "huser": host_name(pwd.getpwuid, 301000),
                "hgroup": host_name(grp.getgrgid, 301000), "hgroups": "302000"}
        got = {k: s[k] for k in want}
        assert got == want, f"ctr-someone: got {got}, want {want}"
        i = by_role(c, rows, "init")
        want = {"user": "root", "ruser": "root", "uid": 0, "group": "root", "rgroup": "root",
                "huid": 300000, "huser": host_name(pwd.getpwuid, 300000),
                "hgroup": host_name(grp.getgrgid, 300000)}
        got = {k: i[k] for k in want}
        assert got == want, f"ctr-init: got {got}, want {want}"


def test_ids_follow_the_containers_own_maps():
    with container("--uid-map", "0 400000 65536", "--gid-map", "0 500000 65536") as c:
        s = by_role(c, rows_by_pid(c.init, 'user, uid, "group", groups, huid, hgroup, hgroups'),
                    "someone")
        want = {"user": "someone", "uid": 1000, "group": "somegroup", "groups": "extra",
                "huid": 401000, "hgroup": host_name(grp.getgrgid, 501000), "hgroups": "502000"}
        got = {k: s[k] for k in want}
        assert got == want, f"ctr-someone with maps 0 400000 / 0 500000: got {got}, want {want}"


def test_names_from_container_files_without_a_user_namespace():
    # No user namespace: ids are the host's, but the names are still the
    # container's (the host calls uid 1000 something else, or nothing).
    with container("--no-userns") as c:
        s = by_role(c, rows_by_pid(c.init, 'user, uid, "group", groups, huser, huid, hgroups'),
                    "someone")
        want = {"user": "someone", "uid": 1000, "group": "somegroup", "groups": "extra",
                "huser": host_name(pwd.getpwuid, 1000), "huid": 1000, "hgroups": "2000"}
        got = {k: s[k] for k in want}
        assert got == want, f"ctr-someone without userns: got {got}, want {want}"


def test_unmapped_host_ids_show_as_overflow_id():
    # A host root process entered into the container's PID namespace (not its
    # user namespace): uid 0 is not in the map, so the container sees 65534.
    with container() as c:
        ns = lib.start(["nsenter", f"--target={c.init}", "--pid", "--", "sleep", "30"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        kids = lambda: open(f"/proc/{ns.pid}/task/{ns.pid}/children").read().split()  # noqa: E731
        hpid = int(lib.wait_for(kids, what="nsenter's child")[0])
        status = open(f"/proc/{hpid}/status").read()
        nspid = [ln for ln in status.splitlines() if ln.startswith("NSpid:")][0].split()[1:]
        assert len(nspid) == 2, f"nsenter's child is not in the container: NSpid {nspid}"
        cpid = int(nspid[1])
        r = rows_by_pid(c.init, 'user, uid, "group", hpid, huid, huser, ppid').get(cpid)
        assert r, f"the entered process (container pid {cpid}) is missing"
        want = {"user": "nobody", "uid": 65534, "group": "nogroup", "hpid": hpid, "huid": 0,
                "huser": "root", "ppid": 0}
        got = {k: r[k] for k in want}
        assert got == want, f"entered host-root process: got {got}, want {want}"


def test_capability_sets_of_a_process_with_dropped_caps():
    with container() as c:
        rows = rows_by_pid(c.init, "capeff, capprm, capbnd, capinh, capamb")
        n = by_role(c, rows, "nocaps")
        keep = "CHOWN,KILL,NET_BIND_SERVICE"
        want = {"capeff": keep, "capprm": keep, "capbnd": keep, "capinh": "KILL", "capamb": "KILL"}
        got = {k: n[k] for k in want}
        assert got == want, f"ctr-nocaps: got {got}, want {want}"
        i = by_role(c, rows, "init")
        want = {"capeff": "full", "capprm": "full", "capbnd": "full", "capinh": "none", "capamb": "none"}
        got = {k: i[k] for k in want}
        assert got == want, f"ctr-init (root of its user namespace): got {got}, want {want}"
        s = by_role(c, rows, "someone")
        assert (s["capeff"], s["capprm"]) == ("none", "none"), f"ctr-someone caps: {s}"


def test_seccomp_filter():
    with container() as c:
        got = {r[0]: r[1] for r in q("SELECT comm, seccomp FROM ps(?)", c.init)}
        assert got.get("ctr-seccomp") == "filter", f"seccomp: {got}"
        assert got.get("ctr-init") == "disabled", f"seccomp: {got}"


# ---------------------------------------------------------------------------
# ps(X), WHERE pidns = X, IN, joins


def stable(rows, names):
    keep = [i for i, n in enumerate(names) if n not in VOLATILE]
    return sorted(tuple(r[i] for i in keep) for r in rows)


def test_function_form_and_where_form_are_identical():
    with container() as c:
        db = connect()
        c1 = db.execute("SELECT * FROM ps(?)", (c.init,))
        a = c1.fetchall()
        names = [d[0] for d in c1.description]
        assert "pidns" not in names, f"SELECT * shows the hidden column: {names}"
        b = db.execute("SELECT * FROM ps WHERE pidns = ?", (c.init,)).fetchall()
        assert len(a) == len(c.procs), f"ps(X) gave {len(a)} rows, want {len(c.procs)}"
        assert stable(a, names) == stable(b, names), \
            f"ps(X) and WHERE pidns = X differ:\n{stable(a, names)}\n{stable(b, names)}"


def test_pidns_reads_back_the_argument():
    with container() as c:
        got = q("SELECT pidns, count(*) FROM ps(?) GROUP BY pidns", c.init)
        assert got == [(c.init, len(c.procs))], f"pidns of ps({c.init}): {got}"
        got = q("SELECT DISTINCT pidns FROM ps WHERE pidns = ?", c.init)
        assert got == [(c.init,)], f"pidns of WHERE pidns = {c.init}: {got}"


def test_pidns_in_two_containers_gives_the_union():
    with container() as a, container() as b:
        rows = q("SELECT pidns, pid, hpid, comm FROM ps WHERE pidns IN (?, ?)", a.init, b.init)
        hp = [r[2] for r in rows]
        assert len(hp) == len(set(hp)), f"duplicate rows: {sorted(hp)}"
        assert set(hp) == a.hpids() | b.hpids(), \
            f"hpids {sorted(hp)}, want {sorted(a.hpids() | b.hpids())}"
        for x, c in ((a.init, a), (b.init, b)):
            mine = {(r[1], r[3], r[2]) for r in rows if r[0] == x}
            want = {(p, v[2], v[3]) for p, v in c.expected().items()}
            assert mine == want, f"rows with pidns = {x}: {sorted(mine)}, want {sorted(want)}"


def test_two_pids_of_one_container_give_no_duplicates():
    with container() as c:
        for args in ((c.init, c.hpid("worker")), (c.init, c.init)):
            rows = q("SELECT pidns, pid, hpid FROM ps WHERE pidns IN (?, ?)", *args)
            hp = sorted(r[2] for r in rows)
            assert hp == sorted(c.hpids()), f"IN {args}: hpids {hp}, want {sorted(c.hpids())}"
            assert {r[0] for r in rows} <= set(args), f"IN {args}: pidns values {rows}"


def test_join_with_a_table_of_containers():
    with container() as a, container("--nested") as b:
        db = connect()
        db.execute("CREATE TEMP TABLE containers(name, pid)")
        db.executemany("INSERT INTO containers VALUES (?, ?)", [("a", a.init), ("b", b.init)])
        rows = db.execute("SELECT c.name, p.pid, p.comm FROM containers c "
                          "JOIN ps p ON p.pidns = c.pid").fetchall()
        for name, c in (("a", a), ("b", b)):
            got = sorted((r[1], r[2]) for r in rows if r[0] == name)
            want = sorted((p, v[2]) for p, v in c.expected().items())
            assert got == want, f"container {name}: got {got}, want {want}"
        assert len(rows) == len(a.procs) + len(b.procs), f"{len(rows)} rows: {rows}"


def test_join_plan_scans_containers_then_ps_with_a_constraint():
    db = connect()
    db.execute("CREATE TEMP TABLE containers(name, pid)")

    def plan(sql):
        return [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql)]

    def index(detail):  # "SCAN p VIRTUAL TABLE INDEX 257:..." -> "INDEX 257:..."
        return detail[detail.index("INDEX"):] if "INDEX" in detail else detail

    # The same columns of ps, with and without the constraint on pidns.
    plain = index(plan("SELECT p.pid, p.comm, p.pidns FROM ps p")[0])
    constrained = index(plan("SELECT p.pid, p.comm FROM ps p WHERE p.pidns = 1")[0])
    assert plain != constrained, f"WHERE pidns = ? plans like a plain scan: {plain}"
    for sql in ("SELECT c.name, p.pid, p.comm FROM containers c JOIN ps p ON p.pidns = c.pid",
                "SELECT c.name, p.pid, p.comm FROM ps p JOIN containers c ON p.pidns = c.pid"):
        got = plan(sql)
        ic = [i for i, d in enumerate(got) if re.match(r"SCAN (TABLE containers AS )?c\b", d)]
        ip = [i for i, d in enumerate(got) if re.match(r"SCAN (TABLE ps AS )?p VIRTUAL TABLE", d)]
        assert ic and ip and ic[0] < ip[0], f"want containers as the outer loop: {got} ({sql})"
        assert index(got[ip[0]]) == constrained, \
            f"ps in the join: {got[ip[0]]}, want the pidns constraint ({constrained}, not {plain})"


# ---------------------------------------------------------------------------
# Host snapshots through ps(X)


def test_own_pid_gives_the_host_snapshot():
    require_root()
    db = connect()
    me = os.getpid()
    targets = [me]
    try:  # pid 1 too, when it is in our PID namespace and we may look at it
        if os.readlink("/proc/1/ns/pid") == os.readlink("/proc/self/ns/pid"):
            os.readlink("/proc/1/ns/mnt")
            targets.append(1)
    except OSError:
        pass
    n = q1("SELECT count(*) FROM ps", db=db)[0]
    for x in targets:
        rows = q("SELECT pid, hpid, pidns FROM ps(?)", x, db=db)
        assert all(r[0] == r[1] for r in rows), f"ps({x}): pid != hpid in {[r for r in rows if r[0] != r[1]][:5]}"
        assert all(r[2] == x for r in rows), f"ps({x}): pidns values {set(r[2] for r in rows)}"
        assert me in {r[0] for r in rows}, f"ps({x}) lacks our own pid {me}"
        assert abs(len(rows) - n) <= max(5, n // 10), f"ps({x}) gave {len(rows)} rows, a plain scan {n}"


def test_null_gives_the_host_scan():
    require_root()
    db = connect()
    n = q1("SELECT count(*) FROM ps", db=db)[0]
    rows = q("SELECT pid, hpid FROM ps(NULL)", db=db)
    assert abs(len(rows) - n) <= max(5, n // 10), f"ps(NULL) gave {len(rows)} rows, a plain scan {n}"
    me = [r for r in rows if r[0] == os.getpid()]
    assert me and me[0][1] == os.getpid(), f"ps(NULL): our row {me}"


# ---------------------------------------------------------------------------
# Containers whose /proc does not show their PID namespace


def check_snapshot(c, what):
    rows = rows_by_pid(c.init, 'ppid, pgid, comm, hpid, user, "group", uid, huid')
    got = {p: (r["ppid"], r["pgid"], r["comm"], r["hpid"]) for p, r in rows.items()}
    want = c.expected()
    assert got == want, f"{what}: got {got}, want {want}"
    if "someone" in c.procs:
        s = by_role(c, rows, "someone")
        got = (s["user"], s["group"], s["uid"], s["huid"])
        assert got == ("someone", "somegroup", 1000, 301000), f"{what}: ctr-someone {got}"


def test_container_without_proc_falls_back_to_the_host_proc():
    with container("--no-proc") as c:
        check_snapshot(c, "container without /proc")


def test_container_with_the_host_proc_bound_falls_back():
    # Its /proc shows the host's PID namespace, not the container's.
    with container("--host-proc") as c:
        check_snapshot(c, "container with the host's /proc")


def test_nested_pid_namespace_as_seen_from_the_container():
    with container("--nested") as c:
        check_snapshot(c, "container with a nested PID namespace")
        rows = rows_by_pid(c.init, "ppid, comm, hpid")
        assert by_role(c, rows, "nestkid")["ppid"] == c.cpid("nested")


def test_target_in_a_nested_pid_namespace():
    # ps(X) for a process of the nested namespace: its mount namespace's /proc
    # is the container's, so only the nested processes, with nested pids.
    with container("--nested") as c:
        got = sorted(q("SELECT pid, ppid, comm, hpid FROM ps(?)", c.hpid("nestkid")))
        want = [(1, 0, "ctr-nested", c.hpid("nested")), (2, 1, "ctr-nestkid", c.hpid("nestkid"))]
        assert got == want, f"ps(nestkid): got {got}, want {want}"


def test_rootless_container():
    # A container made by an unprivileged user (uid_map "0 65534 1").
    require_root()
    try:
        pwd.getpwuid(65534)
    except KeyError:
        raise Skip("no user 65534 on this host")
    with container(user=65534) as c:
        rows = rows_by_pid(c.init, "ppid, comm, hpid, user, uid, huid, huser")
        got = {p: (r["ppid"], r["comm"], r["hpid"]) for p, r in rows.items()}
        want = {p: (v[0], v[2], v[3]) for p, v in c.expected().items()}
        assert got == want, f"rootless container: got {got}, want {want}"
        i = by_role(c, rows, "init")
        want = ("root", 0, 65534, pwd.getpwuid(65534)[0])
        got = (i["user"], i["uid"], i["huid"], i["huser"])
        assert got == want, f"rootless ctr-init user/uid/huid/huser: got {got}, want {want}"


# ---------------------------------------------------------------------------
# Errors


def test_bad_pidns_values_are_errors():
    db = connect()
    for arg, word in ((0, "pidns"), (-1, "pidns"), ("abc", "pidns"), (1.5, "pidns"),
                      (4194304, "no process"), (2**31 - 1, "no process")):
        msg = sql_error("SELECT * FROM ps(?)", arg, db=db)
        assert msg.startswith("ps: ") and word in msg, f"ps({arg!r}): message {msg!r}, want 'ps: ...{word}...'"


def test_bad_pidns_in_where_form_is_an_error():
    for arg, word in ((-1, "pidns"), (4194304, "no process")):
        msg = sql_error("SELECT pid FROM ps WHERE pidns = ?", arg)
        assert msg.startswith("ps: ") and word in msg, f"WHERE pidns = {arg!r}: message {msg!r}"


def test_pidns_and_sample_take_equality_only_and_say_so():
    # pidns = X and IN are arguments; any other operator would compare rows
    # that never carry the value (a host row's pidns is NULL): no rows, no
    # error, were it not refused
    db = connect()
    for table in ("ps", "ps_threads", "ps_fds", "ps_sockets"):
        for op in (">", "<", ">=", "<=", "<>", "IS NOT", "LIKE"):
            msg = sql_error(f"SELECT count(*) FROM {table} WHERE pidns {op} 1", db=db)
            want = f"{table}: pidns takes = and IN only (a pid, or a list of pids), not {op}"
            assert msg == want, f"{table} WHERE pidns {op} 1: {msg!r}, want {want!r}"
        msg = sql_error(f"SELECT count(*) FROM {table} WHERE pidns IS NULL", db=db)
        assert msg.endswith("not IS NULL"), f"{table} WHERE pidns IS NULL: {msg!r}"
    for table in ("ps", "ps_threads"):
        msg = sql_error(f"SELECT count(*) FROM {table} WHERE sample > 0.1", db=db)
        assert msg == f"{table}: sample takes = only (seconds), not >", msg
    # = and IN, and joins on =, still plan
    me = os.getpid()
    assert db.execute("SELECT count(*) FROM ps WHERE pidns = ? AND pid = ?", (me, me)).fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM ps WHERE pidns IN (NULL, ?) AND pid = ?", (me, me)).fetchone()[0] == 1


def test_pid_that_exited_is_an_error():
    # A process that existed a moment ago: no process X.
    p = subprocess.Popen(["true"])
    p.wait()
    msg = sql_error("SELECT * FROM ps(?)", p.pid)
    assert msg.startswith("ps: ") and "no process" in msg and str(p.pid) in msg, msg


# ---------------------------------------------------------------------------
# The caller's mount namespace stays as it was


def test_mount_namespace_unchanged_on_the_main_thread():
    with container() as c, container("--no-proc") as d:
        before, tasks = mntns(), all_task_mntns()
        db = connect()
        for x in (c.init, d.init):
            assert q("SELECT * FROM ps(?)", x, db=db)
            assert mntns() == before, f"after ps({x}): {mntns()} != {before}"
        cur = db.execute("SELECT pid, comm FROM ps(?)", (c.init,))
        cur.fetchone()  # a scan left half done
        assert mntns() == before, f"during a scan of ps({c.init}): {mntns()} != {before}"
        cur.close()
        sql_error("SELECT * FROM ps(?)", 4194304, db=db)
        assert mntns() == before, f"after a failed ps(): {mntns()} != {before}"
        after = all_task_mntns()
        changed = {t: v for t, v in after.items() if v != before}
        assert not changed, f"threads in another mount namespace: {changed} (was {tasks})"


def test_mount_namespace_unchanged_on_another_thread():
    with container() as c:
        before = mntns()
        out = {}
        started, done = threading.Event(), threading.Event()

        def worker():
            try:
                mine = mntns()
                db = connect()
                out["n"] = len(q("SELECT * FROM ps(?)", c.init, db=db))
                out["n2"] = len(q("SELECT pid FROM ps WHERE pidns = ?", c.init, db=db))
                cur = db.execute("SELECT pid, comm FROM ps(?)", (c.init,))
                cur.fetchone()
                out["during"] = (mine, mntns())
                out["tid"] = threading.get_native_id()
                started.set()
                done.wait(10)  # keep the thread (and the open scan) alive
                cur.close()
                out["after"] = (mine, mntns())
                db.close()
            except Exception as e:  # reported by the main thread
                out["error"] = repr(e)
                started.set()

        t = threading.Thread(target=worker)
        t.start()
        try:
            assert started.wait(15), "the query thread did not finish its queries"
            assert "error" not in out, f"query thread: {out['error']}"
            assert out["n"] == len(c.procs) and out["n2"] == len(c.procs), f"row counts {out}"
            mine, now = out["during"]
            assert mine == now, f"query thread's mount namespace: {now}, was {mine}"
            assert mntns() == before, f"main thread: {mntns()} != {before}"
            tasks = all_task_mntns()
            changed = {tid: v for tid, v in tasks.items() if v != before}
            assert not changed, f"threads in another mount namespace: {changed}"
            assert out["tid"] in tasks, "the query thread is gone"
        finally:
            done.set()
            t.join(10)
        assert "error" not in out, f"query thread: {out['error']}"
        mine, now = out["after"]
        assert mine == now, f"query thread's mount namespace after close: {now}, was {mine}"
        assert mntns() == before


def test_ps_deadline_is_per_connection_and_checked():
    a, b = connect(), connect()
    assert q1("SELECT ps_deadline()", db=a) == (2.0,), "the default deadline is 2 s"
    assert q1("SELECT ps_deadline(0.25)", db=a) == (2.0,), "setting returns the previous value"
    assert q1("SELECT ps_deadline()", db=a) == (0.25,)
    assert q1("SELECT ps_deadline()", db=b) == (2.0,), "another connection keeps its own"
    for bad in ("'soon'", "0", "-1", "NULL", "1e9"):
        try:
            q(f"SELECT ps_deadline({bad})", db=a)
        except sqlite3.OperationalError as e:
            assert "ps_deadline: seconds must be a number" in str(e), (bad, str(e))
        else:
            raise AssertionError(f"ps_deadline({bad}) was accepted")
    assert q1("SELECT ps_deadline()", db=a) == (0.25,), "a refused value changes nothing"
