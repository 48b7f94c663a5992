"""Host-process tests: real processes with known properties (started through
build/helpers/spawn), read back through the ps table and compared with what
was set up, with /proc, or with procps ps(1). Expected values never come from
the extension itself.

Needs root for the uid/caps/nice<0 tests, procps `ps` for the oracle, and
strace for the lazy-reading tests.
"""
import grp
import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time

import lib
from lib import Skip, btime, connect, proc_stat, proc_status, q, q1, read, row, spawn

# The psgo descriptor columns, in table order. Later versions may append
# more visible columns after these, never before or between them.
COLUMNS = ("user pid ppid pcpu etime tty time args comm group groups rgroup ruser nice pgid uid "
           "vsz rss state stime capamb capbnd capeff capinh capprm seccomp label hpid huser huid "
           "hgroup hgroups").split()
INTEGER = "pid ppid pgid nice uid huid hpid vsz rss".split()
REAL = "pcpu etime time stime".split()
TEXT = ("user ruser group rgroup groups tty args comm state capamb capbnd capeff capinh capprm "
        "seccomp label huser hgroup hgroups").split()

HZ = os.sysconf("SC_CLK_TCK")

# Capability numbers -> names, from linux/capability.h (independent of libcap).
CAPS = ("CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP "
        "LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER "
        "SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE "
        "SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP "
        "MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF "
        "CHECKPOINT_RESTORE").split()
CAP_FIELDS = {"capinh": "CapInh", "capprm": "CapPrm", "capeff": "CapEff", "capbnd": "CapBnd",
              "capamb": "CapAmb"}


# ---------------------------------------------------------------- helpers

def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def last_cap():
    return int(read("/proc/sys/kernel/cap_last_cap"))


def cap_text(mask):
    """The expected text of a capability mask (None if it has unknown bits)."""
    lc = last_cap()
    if mask == 0:
        return "none"
    if mask == (1 << (lc + 1)) - 1:
        return "full"
    if mask >> len(CAPS):
        return None
    names = sorted(CAPS[i] for i in range(len(CAPS)) if mask >> i & 1)
    return ",".join(names)


def numeric_pids():
    return {int(n) for n in os.listdir("/proc") if n.isdigit()}


def free_pid():
    """A pid that no process has right now (below pid_max)."""
    used = numeric_pids()
    pid_max = int(read("/proc/sys/kernel/pid_max"))
    for pid in range(pid_max - 1, 300, -1):
        if pid not in used and not os.path.exists(f"/proc/{pid}"):
            return pid
    raise Skip("no free pid")


def ps1(field, pid):
    """One procps field of one process (None if ps printed nothing)."""
    r = subprocess.run(["ps", "-ww", "-o", f"{field}=", "-p", str(pid)],
                       capture_output=True, text=True, errors="surrogateescape")
    out = r.stdout.rstrip("\n").strip()
    return out or None


def need_ps():
    if not shutil.which("ps"):
        raise Skip("procps ps is not installed")


def kthread_child():
    """A kernel thread other than kthreadd (ppid 2), or None."""
    for pid in sorted(numeric_pids()):
        try:
            comm, f = proc_stat(pid)
        except OSError:
            continue
        if f[1] == "2":
            return pid, comm
    return None


def have_kthreadd():
    try:
        return proc_stat(2)[0] == "kthreadd"
    except OSError:
        return False


# ---------------------------------------------------------------- schema

def check_scan(sql, db=None):
    """Run SQL (pid and stime first) between two listings of /proc: every
    process alive for the whole scan is in it, and every other pid it lists
    is one that started after the first listing (it came and went, or came).
    Returns the rows."""
    boot0, before = lib.boottime(), numeric_pids()
    rows = q(sql, db=db)
    after = numeric_pids()
    pids = [r[0] for r in rows]
    assert len(pids) == len(set(pids)), "duplicate pids in one scan"
    missing = (before & after) - set(pids)
    assert not missing, f"processes alive for the whole scan are missing: {sorted(missing)[:20]}"
    # stime - btime is the start in seconds since boot, truncated to a tick
    bt = btime()
    old = [(r[0], r[1] - bt) for r in rows if r[0] not in before and r[1] - bt < boot0 - 1 / HZ - 1e-6]
    assert not old, f"listed, not in /proc before the scan, but started before it: {old[:10]}"
    return rows


def test_select_star_works_and_counts_every_process():
    check_scan("SELECT pid, stime FROM ps")
    # and SELECT * returns every column for every row
    db = connect()
    cur = db.execute("SELECT pid, stime, * FROM ps")
    width = len(cur.description)
    rows = check_scan("SELECT pid, stime, * FROM ps", db=db)
    assert all(len(r) == width for r in rows)


def test_column_list_starts_with_the_spec_columns():
    cols = q("SELECT name, hidden FROM pragma_table_xinfo('ps')")
    visible = [c for c, h in cols if not h]
    assert visible[:len(COLUMNS)] == COLUMNS, visible
    cur = connect().execute("SELECT * FROM ps WHERE pid = ?", (os.getpid(),))
    assert [d[0] for d in cur.description] == visible


def test_pidns_is_the_first_hidden_column():
    cols = q("SELECT name, hidden FROM pragma_table_xinfo('ps')")
    hidden = [c for c, h in cols if h]
    assert hidden and hidden[0] == "pidns", cols
    assert "pidns" not in [c for c, h in cols if not h]
    assert "pidns" not in [r[1] for r in q("PRAGMA table_info(ps)")]
    cur = connect().execute("SELECT * FROM ps WHERE pid = 1")
    assert "pidns" not in [d[0] for d in cur.description]
    # on a host scan pidns reads NULL
    assert q1("SELECT pidns FROM ps WHERE pid = ?", os.getpid()) == (None,)


def test_declared_types():
    types = {c: t for c, t, h in q("SELECT name, type, hidden FROM pragma_table_xinfo('ps')")}
    for c in INTEGER:
        assert types[c].upper() == "INTEGER", (c, types[c])
    for c in REAL:
        assert types[c].upper() == "REAL", (c, types[c])
    for c in TEXT:
        assert types[c].upper() == "TEXT", (c, types[c])


def test_value_types_via_typeof():
    s = spawn("--setsid-pty", "--alloc-mb", "4", "--groups", "27,44", argv=["typeof", "x"])
    cols = INTEGER + REAL + TEXT
    r = q1("SELECT " + ", ".join(f'typeof("{c}")' for c in cols) + " FROM ps WHERE pid = ?", s["pid"])
    got = dict(zip(cols, r))
    for c in INTEGER:
        assert got[c] == "integer", (c, got[c])
    for c in REAL:
        assert got[c] == "real", (c, got[c])
    label = read_label(s["pid"])
    for c in TEXT:
        want = "null" if c == "label" and label is None else "text"
        assert got[c] == want, (c, got[c])
    # every row of a full scan: the always-known columns are never NULL
    bad = q("SELECT pid, typeof(pid), typeof(ppid), typeof(comm), typeof(state), typeof(pgid) FROM ps "
            "WHERE typeof(pid) != 'integer' OR typeof(ppid) != 'integer' OR typeof(comm) != 'text' "
            "OR typeof(state) != 'text' OR typeof(pgid) != 'integer'")
    assert not bad, bad[:5]


def test_ps_version_is_text():
    v = q1("SELECT ps_version(), typeof(ps_version())")
    assert v[1] == "text" and v[0].strip(), v
    version = read(os.path.join(lib.ROOT, "VERSION")).strip()
    assert v[0].startswith(version), (v[0], version)


def test_table_is_directonly():
    db = connect()
    try:
        db.execute("CREATE VIEW v AS SELECT pid FROM ps")
        db.execute("SELECT * FROM v").fetchall()
    except sqlite3.Error as e:
        assert "unsafe" in str(e) or "ps" in str(e), e
    else:
        raise AssertionError("a non-TEMP view over ps could be used")
    db.execute("CREATE TEMP VIEW tv AS SELECT pid FROM ps WHERE pid = 1")
    assert db.execute("SELECT pid FROM tv").fetchall() == [(1,)]
    # triggers in the main schema may not use it either
    db.execute("CREATE TABLE t(x)")
    try:
        db.execute("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT count(*) FROM ps; END")
        db.execute("INSERT INTO t VALUES (1)")
    except sqlite3.Error:
        pass
    else:
        raise AssertionError("a non-TEMP trigger could use ps")


def test_table_is_eponymous_only():
    db = connect()
    try:
        db.execute("CREATE VIRTUAL TABLE p2 USING ps")
    except sqlite3.Error:
        pass
    else:
        raise AssertionError("CREATE VIRTUAL TABLE ... USING ps worked")


# ---------------------------------------------------------------- lookups

def test_where_pid_returns_exactly_that_process():
    s = spawn(argv=["where-pid"])
    rows = q("SELECT pid, comm, args FROM ps WHERE pid = ?", s["pid"])
    assert rows == [(s["pid"], "spawn", "where-pid")], rows
    assert q("SELECT pid FROM ps WHERE pid = 1") == [(1,)]
    assert q("SELECT pid FROM ps WHERE ? = pid", os.getpid()) == [(os.getpid(),)]


def test_pid_in_list_returns_those_processes():
    a, b, c = (spawn(argv=[f"in-{i}"])["pid"] for i in range(3))
    rows = q("SELECT pid, args FROM ps WHERE pid IN (?, ?, ?) ORDER BY pid", a, b, c)
    assert rows == sorted([(a, "in-0"), (b, "in-1"), (c, "in-2")]), rows
    # duplicates and a missing pid in the list
    rows = q("SELECT pid FROM ps WHERE pid IN (?, ?, ?)", a, a, free_pid())
    assert rows == [(a,)], rows


def test_pid_or_pid_returns_both():
    """SQLite runs one scan per OR term and merges them by rowid, so rowids
    must identify the process, not count rows within one scan."""
    a, b = (spawn(argv=[f"or-{i}"])["pid"] for i in range(2))
    rows = q("SELECT pid FROM ps WHERE pid = ? OR pid = ? ORDER BY pid", a, b)
    assert rows == sorted([(a,), (b,)]), (a, b, rows)
    rows = q("SELECT pid FROM ps WHERE pid = 1 OR pid = ?", os.getpid())
    assert sorted(rows) == sorted([(1,), (os.getpid(),)]), rows


def test_rowid_is_the_same_for_a_process_in_any_scan():
    a = spawn(argv=["rowid"])["pid"]
    full = dict(q("SELECT pid, rowid FROM ps"))
    one = q1("SELECT rowid FROM ps WHERE pid = ?", a)[0]
    assert full[a] == one, (full[a], one)


def test_nonexistent_pid_gives_no_rows():
    for pid in (free_pid(), 0, -1, 2**31 - 1, 2**40):
        assert q("SELECT * FROM ps WHERE pid = ?", pid) == [], pid
    assert q("SELECT pid FROM ps WHERE pid = 'abc'") == []
    assert q("SELECT pid FROM ps WHERE pid = NULL") == []


def test_one_row_per_process_not_per_thread():
    s = spawn("--threads", "3", argv=["threads"])
    rows = q("SELECT pid FROM ps")
    pids = [r[0] for r in rows]
    assert pids.count(s["pid"]) == 1
    for tid in s["tids"]:
        assert tid not in pids, f"thread {tid} listed as a process"


def test_where_pid_of_a_thread_lists_no_process():
    """/proc/TID opens for a thread's id too (readdir lists only processes):
    WHERE pid = TID must not make a process of it, as ps -p TID does not."""
    s = spawn("--threads", "2", argv=["threads"])
    others = [t for t in s["tids"] if t != s["pid"]]
    assert others and all(os.path.isdir(f"/proc/{t}") for t in others), s
    for tid in others:
        out = subprocess.run(["ps", "-o", "pid=", "-p", str(tid)], capture_output=True, text=True).stdout
        assert out.strip() == "", f"the oracle lists thread {tid}: {out!r}"
        for table in ("ps", "ps_threads", "ps_fds", "ps_sockets"):
            assert q(f"SELECT * FROM {table} WHERE pid = ?", tid) == [], (table, tid)
            assert q(f"SELECT count(*) FROM {table} WHERE pid IN (?, ?)", tid, s["pid"])[0][0] > 0 or \
                table == "ps_sockets", table
    assert q("SELECT pid, comm FROM ps WHERE pid = ?", s["pid"]) == [(s["pid"], "spawn")]


# ---------------------------------------------------------------- identity

def test_pid_ppid_pgid():
    s = spawn(argv=["ids"])
    r = row(s["pid"], "pid, ppid, pgid, hpid")
    assert r == {"pid": s["pid"], "ppid": os.getpid(), "pgid": os.getpgrp(), "hpid": s["pid"]}, r
    t = spawn("--setsid", argv=["leader"])
    r = row(t["pid"], "pid, ppid, pgid, tty")
    assert r == {"pid": t["pid"], "ppid": os.getpid(), "pgid": t["pid"], "tty": None}, r
    me = row(os.getpid(), "pid, ppid, pgid")
    assert me == {"pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgrp()}, me


def test_nice():
    for n in (7, 19, 0):
        s = spawn("--nice", str(n), argv=["nice"])
        assert row(s["pid"], "nice")["nice"] == n, n
    lib.require_root()
    s = spawn("--nice", "-5", argv=["nice"])
    assert row(s["pid"], "nice")["nice"] == -5


def test_tty_of_a_process_on_a_pty():
    s = spawn("--setsid-pty", argv=["on-a-pty"])
    want = s["tty"].removeprefix("/dev/")
    assert re.fullmatch(r"pts/\d+", want), s
    r = row(s["pid"], "tty, pgid")
    assert r["tty"] == want, (r, want)
    assert r["pgid"] == s["pid"]
    if shutil.which("ps"):
        assert ps1("tty", s["pid"]).strip() == want


def test_no_tty_is_null():
    s = spawn("--setsid", argv=["no-tty"])
    assert proc_stat(s["pid"])[1][4] == "0"  # tty_nr
    assert row(s["pid"], "tty")["tty"] is None
    if have_kthreadd():
        assert row(2, "tty")["tty"] is None


def test_other_uid_gid_and_supplementary_groups():
    lib.require_root()
    s = spawn("--groups", "100,44,27", "--gid", "65534", "--uid", "65534", argv=["nobody"])
    st = proc_status(s["pid"])
    assert st["Uid"].split() == ["65534"] * 4 and st["Gid"].split() == ["65534"] * 4, st
    order = [int(g) for g in st["Groups"].split()]
    assert sorted(order) == [27, 44, 100], order
    r = row(s["pid"], "uid, user, ruser, \"group\", rgroup, groups, huid, huser, hgroup, hgroups")
    want = {
        "uid": 65534, "user": user_name(65534), "ruser": user_name(65534),
        "group": group_name(65534), "rgroup": group_name(65534),
        "groups": ",".join(group_name(g) for g in order),
        "huid": 65534, "huser": user_name(65534), "hgroup": group_name(65534),
        "hgroups": ",".join(str(g) for g in order),
    }
    assert r == want, (r, want)
    assert r["user"] == "nobody"


def test_real_and_effective_ids_differ():
    lib.require_root()
    s = spawn("--groups", "", "--gid", "1", "--egid", "2", "--uid", "1", "--euid", "2", argv=["ids"])
    st = proc_status(s["pid"])
    assert st["Uid"].split()[:2] == ["1", "2"] and st["Gid"].split()[:2] == ["1", "2"], st
    r = row(s["pid"], "uid, user, ruser, \"group\", rgroup, groups, hgroups")
    want = {"uid": 2, "user": user_name(2), "ruser": user_name(1), "group": group_name(2),
            "rgroup": group_name(1), "groups": "", "hgroups": ""}
    assert r == want, (r, want)


def test_ids_without_names_show_as_numbers():
    lib.require_root()
    for i in (54321, 54322, 54323):
        if user_name(i) != str(i) or group_name(i) != str(i):
            raise Skip(f"id {i} has a name here")
    s = spawn("--groups", "54323,100", "--gid", "54322", "--uid", "54321", argv=["anon"])
    order = [int(g) for g in proc_status(s["pid"])["Groups"].split()]
    r = row(s["pid"], "uid, user, ruser, \"group\", rgroup, groups, hgroups")
    want = {"uid": 54321, "user": "54321", "ruser": "54321", "group": "54322", "rgroup": "54322",
            "groups": ",".join(group_name(g) for g in order),
            "hgroups": ",".join(str(g) for g in order)}
    assert r == want, (r, want)


# ---------------------------------------------------------------- security

def test_reduced_capability_sets():
    lib.require_root()
    s = spawn("--bounding-keep", "cap_chown,cap_kill,cap_setuid", "--uid", "65534", "--gid", "65534",
              "--caps", "cap_chown,cap_kill=eip", "--ambient", "cap_kill", argv=["caps"])
    st = proc_status(s["pid"])
    masks = {c: int(st[f], 16) for c, f in CAP_FIELDS.items()}
    assert masks == {"capinh": 0x21, "capprm": 0x21, "capeff": 0x21, "capbnd": 0xa1, "capamb": 0x20}, st
    r = row(s["pid"], ", ".join(CAP_FIELDS))
    want = {"capinh": "CHOWN,KILL", "capprm": "CHOWN,KILL", "capeff": "CHOWN,KILL",
            "capbnd": "CHOWN,KILL,SETUID", "capamb": "KILL"}
    assert r == want, (r, want)


def test_dropped_capabilities_are_none():
    lib.require_root()
    s = spawn("--drop-all-caps", argv=["nocaps"])
    st = proc_status(s["pid"])
    r = row(s["pid"], ", ".join(CAP_FIELDS))
    assert r["capeff"] == r["capprm"] == r["capinh"] == r["capamb"] == "none", r
    assert r["capbnd"] == cap_text(int(st["CapBnd"], 16)), (r, st["CapBnd"])


def test_capability_names_sorted_and_full():
    """Every process's five sets agree with the masks in its status file."""
    masks = {}
    for pid in numeric_pids():
        try:
            st = proc_status(pid)
            masks[pid] = {c: int(st[f], 16) for c, f in CAP_FIELDS.items()}
        except (OSError, KeyError):
            pass
    rows = q("SELECT pid, " + ", ".join(CAP_FIELDS) + " FROM ps")
    checked = 0
    for r in rows:
        m = masks.get(r[0])
        if m is None:
            continue
        for (c, mask), got in zip(m.items(), r[1:]):
            want = cap_text(mask)
            if want is None:
                continue
            # a live process may change its sets between the two reads: re-read
            if got != want:
                try:
                    want = cap_text(int(proc_status(r[0])[CAP_FIELDS[c]], 16))
                except OSError:
                    continue
            assert got == want, (r[0], c, hex(mask), got, want)
            checked += 1
    assert checked > 10, checked


def test_seccomp_modes():
    plain = spawn(argv=["plain"])
    filt = spawn("--seccomp-filter", argv=["filter"])
    strict = spawn("--seccomp-strict", argv=["strict"])
    for s, want, n in ((plain, "disabled", "0"), (filt, "filter", "2"), (strict, "strict", "1")):
        assert proc_status(s["pid"])["Seccomp"] == n, (want, proc_status(s["pid"])["Seccomp"])
        r = row(s["pid"], "seccomp, state")
        assert r == {"seccomp": want, "state": "S"}, (r, want)


def read_label(pid):
    try:
        v = read(f"/proc/{pid}/attr/current", "rb")
    except OSError:
        return None
    v = v.rstrip(b"\n\0").decode()
    return v or None


def test_label_follows_attr_current():
    s = spawn(argv=["label"])
    assert row(s["pid"], "label")["label"] == read_label(s["pid"])


# ---------------------------------------------------------------- states

def test_zombie():
    s = spawn("--comm", "zed", "--zombie", argv=["parent of a zombie"])
    z = s["zombie"]
    assert proc_stat(z)[1][0] == "Z"
    r = row(z, "pid, ppid, state, comm, args, rss, vsz, user")
    want = {"pid": z, "ppid": s["pid"], "state": "Z", "comm": "zed", "args": "[zed]", "rss": 0,
            "vsz": 0, "user": "root" if os.geteuid() == 0 else user_name(os.geteuid())}
    assert r == want, (r, want)
    # the parent keeps its own argv
    assert row(s["pid"], "args, comm") == {"args": "parent of a zombie", "comm": "zed"}


def test_kernel_threads():
    if not have_kthreadd():
        raise Skip("no kthreadd in this pid namespace")
    r = row(2, "pid, ppid, args, comm, rss, vsz")
    assert r == {"pid": 2, "ppid": 0, "args": "[kthreadd]", "comm": "kthreadd", "rss": 0, "vsz": 0}, r
    k = kthread_child()
    assert k, "no kernel thread with ppid 2"
    r = row(k[0], "ppid, args, comm, rss, vsz")
    assert r == {"ppid": 2, "args": f"[{k[1]}]", "comm": k[1], "rss": 0, "vsz": 0}, (r, k)


def test_state_of_a_sleeper_and_of_ourselves():
    s = spawn(argv=["sleeper"])
    assert row(s["pid"], "state")["state"] == "S"
    # the scanning process itself is running
    assert row(os.getpid(), "state")["state"] == "R"


# ---------------------------------------------------------------- text

def test_args_keep_spaces_tabs_newlines_exactly():
    argv = ["/bin/with space", "a\tb", "line1\nline2", "", "  two  spaces  ", "\u00e9t\u00e9", "end"]
    s = spawn(argv=argv)
    assert read(f"/proc/{s['pid']}/cmdline", "rb") == b"".join(a.encode() + b"\0" for a in argv)
    assert row(s["pid"], "args")["args"] == " ".join(argv)


def test_args_of_a_single_argument():
    s = spawn(argv=["solo"])
    assert row(s["pid"], "args")["args"] == "solo"


def test_comm_with_parens_and_spaces():
    for comm in ("a) (b c", "x) S 1 2 (y)", ")", "(", "sp ace"):
        s = spawn("--comm", comm, argv=["comm-test"])
        assert read(f"/proc/{s['pid']}/comm") == comm + "\n"
        r = row(s["pid"], "comm, state, ppid, pgid, nice, args")
        want = {"comm": comm, "state": "S", "ppid": os.getpid(), "pgid": os.getpgrp(), "nice": 0,
                "args": "comm-test"}
        assert r == want, (r, want)


def test_comm_is_truncated_by_the_kernel_not_by_us():
    s = spawn("--comm", "fifteen-chars-x", argv=["x"])
    assert row(s["pid"], "comm")["comm"] == "fifteen-chars-x"


# ---------------------------------------------------------------- numbers

def test_memory_sizes():
    s = spawn("--alloc-mb", "64", argv=["mem"])
    pid = s["pid"]

    def proc():
        return int(proc_stat(pid)[1][20]), int(proc_status(pid)["VmRSS"].split()[0])
    first = proc()
    r = row(pid, "vsz, rss")
    vsize, vmrss = proc()
    assert first == (vsize, vmrss), f"the memory of an idle process moved: {first} {(vsize, vmrss)}"
    assert r["vsz"] == vsize // 1024, (r, vsize)
    assert r["rss"] == vmrss, (r, vmrss)
    assert r["rss"] >= 64 * 1024 and r["vsz"] >= 64 * 1024, r


def test_times_of_a_process_that_burned_cpu():
    s = spawn("--burn-ms", "300", argv=["burn"])
    pid = s["pid"]
    t0 = lib.boottime()
    r = row(pid, "time, etime, pcpu, stime")
    t1 = lib.boottime()
    f = proc_stat(pid)[1]  # it sleeps now: its CPU time holds still
    cpu = (int(f[11]) + int(f[12])) / HZ       # utime + stime (fields 14, 15)
    start = int(f[19]) / HZ                     # starttime (field 22)
    assert abs(r["time"] - cpu) < 1e-9, (r, cpu)
    # 300 ms of CPU time is 30 ticks, less at most one for the two truncations
    assert 0.3 - 1 / HZ - 1e-9 <= r["time"] < 0.6, r
    # etime: the clock read once per scan, between t0 and t1, less the start
    assert t0 - start - 1e-6 <= r["etime"] <= t1 - start + 1e-6, (r, t0 - start, t1 - start)
    assert abs(r["stime"] - (btime() + start)) < 1e-6, (r, btime() + start)
    assert abs(r["pcpu"] - 100 * r["time"] / r["etime"]) < 1e-9 * r["pcpu"], r
    # datetime() understands stime
    d = q1("SELECT datetime(stime, 'unixepoch') FROM ps WHERE pid = ?", pid)[0]
    assert d == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(r["stime"]))), d


def test_idle_process_times():
    t0 = lib.boottime()
    s = spawn(argv=["idle"])
    time.sleep(0.3)
    r = row(s["pid"], "time, etime, pcpu")
    t1 = lib.boottime()
    # started after t0 (its start is truncated to a tick), read before t1
    assert r["time"] < 0.1 and 0.3 <= r["etime"] <= t1 - t0 + 1 / HZ, (r, t1 - t0)
    assert abs(r["pcpu"] - 100 * r["time"] / r["etime"]) <= 1e-9 * r["pcpu"], r


# ---------------------------------------------------------------- churn

def test_process_exiting_during_a_scan_is_skipped():
    victims = [spawn(argv=[f"victim-{i}"]) for i in range(6)]
    keep = spawn(argv=["survivor"])
    db = connect()
    cur = db.execute("SELECT pid, comm, args, user, state FROM ps")
    first = cur.fetchone()
    assert first is not None
    gone = {}
    for i, v in enumerate(victims):
        if v["pid"] <= first[0]:
            continue
        v["proc"].kill()
        if i % 2 == 0:
            v["proc"].wait()          # gone for good
            gone[v["pid"]] = "gone"
        else:
            lib.wait_for(lambda: proc_stat(v["pid"])[1][0] == "Z", timeout=lib.HANG, what="zombie")
            gone[v["pid"]] = "zombie"
    rest = cur.fetchall()
    rows = {r[0]: r for r in [first] + rest}
    assert keep["pid"] in rows, "a process alive for the whole scan is missing"
    assert rows[keep["pid"]][2] == "survivor"
    for pid, how in gone.items():
        if pid in rows:
            r = rows[pid]
            # either read before it died (complete) or as a zombie
            assert r[1] == "spawn" and (r[2].startswith("victim-") and r[4] in "SR" or
                                        r[2] == "[spawn]" and r[4] == "Z"), (how, r)


def test_scans_while_processes_churn():
    churn = [lib.start(["sh", "-c", "while :; do /bin/true; done"]) for _ in range(2)]
    db = connect()
    try:
        end = time.monotonic() + 1.5
        n = 0
        while time.monotonic() < end or n < 1:
            rows = db.execute("SELECT * FROM ps").fetchall()
            pids = [r[1] for r in rows]
            assert len(pids) == len(set(pids))
            assert 1 in pids and os.getpid() in pids
            n += 1
    finally:
        for p in churn:
            p.kill()


# ---------------------------------------------------------------- oracle

def printable(s):
    return "".join(c if c.isprintable() or c == " " else "?" for c in s)


def same_text(ours, theirs):
    """ps replaces unprintable characters (with '?', newlines with ' ')."""
    if ours == theirs:
        return True
    if len(ours) != len(theirs):
        return False
    return all(a == b or (not a.isprintable() and b in "? ") for a, b in zip(ours, theirs))


# Fields without blanks in their values: one ps call gives them all, split on
# whitespace. comm and args (which may hold blanks) get a call each, as the
# only column after pid. ps reads every process even with -p, so the number
# of calls matters when the machine runs thousands of processes.
PS_WORDS = {"ppid": "ppid", "pgid": "pgid", "nice": "ni", "uid": "uid", "user": "user:64",
            "group": "group:64", "tty": "tt", "state": "s",
            "etime": "etimes", "time": "times", "pcpu": "%cpu", "vsz": "vsz", "rss": "rss"}
TIMED = ("etime", "time", "pcpu", "vsz", "rss")


def ps_words(pids):
    """{pid: {column: ps text}} for the PS_WORDS fields."""
    fmt = "pid=," + ",".join(f + "=" for f in PS_WORDS.values())
    r = subprocess.run(["ps", "-ww", "-o", fmt, "-p", ",".join(map(str, pids))],
                       capture_output=True, text=True, errors="surrogateescape")
    out = {}
    for ln in r.stdout.splitlines():
        w = ln.split()
        assert len(w) == len(PS_WORDS) + 1, f"cannot parse ps line {ln!r}"
        out[int(w[0])] = dict(zip(PS_WORDS, w[1:]))
    return out


def ps_text(field, pids):
    """{pid: text} for one field that may contain blanks (comm, args)."""
    r = subprocess.run(["ps", "-ww", "-o", f"pid=,{field}=", "-p", ",".join(map(str, pids))],
                       capture_output=True, text=True, errors="surrogateescape")
    out = {}
    for ln in r.stdout.split("\n"):
        if ln.strip():
            pid, _, text = ln.lstrip(" ").partition(" ")
            out[int(pid)] = text
    return out


def oracle_compare(pids, db):
    """Compare processes field by field with procps, which reads them
    between two reads of the table. Returns (mismatches, unsettled):
    unsettled are the pids whose memory changed between the table's two
    reads, to compare again. Fields that do not move must equal ps's; ps's
    CPU and elapsed times must lie within lib.procps_range() of the two
    reads; vsz and rss must equal ps's when the two reads agree, except for
    this process, whose memory changes as it reads the table
    (test_oracle_procps_memory_only checks the memory of idle ones)."""
    cols = ["pid"] + list(PS_WORDS) + ["comm", "args"]
    sql = ("SELECT " + ", ".join(f'"{c}"' for c in cols) + " FROM ps WHERE pid IN (" +
           ",".join("?" * len(pids)) + ")")
    first = {r[0]: dict(zip(cols, r)) for r in db.execute(sql, pids).fetchall()}
    theirs = ps_words(pids)
    second = {r[0]: dict(zip(cols, r)) for r in db.execute(sql, pids).fetchall()}
    comms, args = ps_text("comm", pids), ps_text("args", pids)
    problems, unsettled = {}, set()
    for pid in pids:
        o, o2, t = first.get(pid), second.get(pid), theirs.get(pid)
        if o is None or o2 is None or t is None:
            problems[pid] = "missing" + (" in our table" if t else " in ps")
            continue
        bad = []
        zombie = o["state"] == "Z"
        for c in PS_WORDS:
            if c in TIMED:
                continue
            if c == "state" and pid == os.getpid():
                continue  # running while we scan, sleeping while ps runs
            v = o[c]
            if c == "tty":
                ok = (v is None and t[c] == "?") or v == t[c]
            elif c in ("user", "group"):
                ok = v == t[c]
            else:
                ok = str(v) == t[c]
            if not ok:
                bad.append((c, v, t[c]))
        for c, text in (("comm", comms.get(pid)), ("args", args.get(pid))):
            if zombie and text is not None:
                text = text.removesuffix(" <defunct>")
            if not (isinstance(o[c], str) and text is not None and same_text(o[c], text)):
                bad.append((c, o[c], text))
        for r in (o, o2):
            want = 100 * r["time"] / r["etime"] if r["etime"] > 0 else 0.0
            if abs(r["pcpu"] - want) > 1e-9 * max(1.0, want):
                bad.append(("pcpu is not 100 * time / etime", r["pcpu"], want))
        rng = lib.procps_range((o["time"], o["etime"]), (o2["time"], o2["etime"]))
        for c in ("time", "etime", "pcpu"):
            lo, hi = rng[c]
            # procps underflows etimes for a process started after it read
            # /proc/uptime (a huge number, longer than the machine has been up):
            # only for a process younger than a second can that happen
            if c == "etime" and lo == 0 and float(t[c]) > float(lib.read("/proc/uptime").split()[0]):
                continue
            if not lo <= float(t[c]) <= hi:
                bad.append((c, t[c], f"allowed {lo}..{hi} from {o[c]}, {o2[c]}"))
        for c in ("vsz", "rss"):
            if pid == os.getpid():
                continue
            if o[c] != o2[c]:
                unsettled.add(pid)
            elif str(o[c]) != t[c]:
                bad.append((c, o[c], t[c]))
        if bad:
            problems[pid] = bad
    return problems, unsettled


def test_oracle_procps():
    need_ps()
    lib.require_root()
    plain = spawn(argv=["oracle plain", "tab\there", "nl\nhere", "", "end"])
    pty = spawn("--setsid-pty", "--nice", "5", argv=["oracle-pty"])
    other = spawn("--groups", "100,44", "--gid", "65534", "--uid", "65534", argv=["oracle-nobody"])
    burn = spawn("--burn-ms", "200", "--comm", "a) (b c", argv=["oracle-burn"])
    zomb = spawn("--zombie", argv=["oracle-zombie"])
    pids = [1, os.getpid(), plain["pid"], pty["pid"], other["pid"], burn["pid"], zomb["zombie"]]
    if have_kthreadd():
        pids.append(2)
        k = kthread_child()
        if k:
            pids.append(k[0])
    # memory that moves between the table's two reads (pid 1's) cannot be
    # compared: read again until it holds still
    for attempt in range(10):
        problems, unsettled = oracle_compare(pids, connect())
        assert not problems, problems
        if not unsettled:
            break
    assert not unsettled, f"the memory of {sorted(unsettled)} changed between the table's reads 10 times in a row"


def test_oracle_procps_memory_only():
    """vsz and rss of idle processes, read by ps before and after the table:
    the two ps reads agree (the memory held still), and so does the table."""
    need_ps()
    procs = [spawn("--alloc-mb", str(n), argv=[f"mem-{n}"]) for n in (0, 8, 64)]
    pids = [p["pid"] for p in procs]
    db = connect()
    before = ps_words(pids)
    ours = {pid: row(pid, "vsz, rss", db=db) for pid in pids}
    after = ps_words(pids)
    for pid in pids:
        want = [{"vsz": int(x[pid]["vsz"]), "rss": int(x[pid]["rss"])} for x in (before, after)]
        assert want[0] == want[1], f"the memory of idle process {pid} moved: {want}"
        assert ours[pid] == want[0], (pid, ours[pid], want[0])


# ---------------------------------------------------------------- lazy reading

def strace_run(sql):
    """Run the sqlite3 shell under strace; return a list of opened paths
    (resolved to absolute), the set of directories listed, and the pids
    that were in /proc before and after the run (alive for the whole
    scan)."""
    if not shutil.which("strace"):
        raise Skip("strace is not installed (apt-get install strace)")
    if not shutil.which("sqlite3"):
        raise Skip("the sqlite3 shell is not installed")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "trace")
        before = numeric_pids()
        r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat,openat2,open,getdents64,dup,dup2,dup3,fcntl",
                            "-o", out, "sqlite3", ":memory:", "-cmd", f".load {lib.EXT}", sql],
                           capture_output=True, text=True, timeout=60)
        alive = before & numeric_pids()
        assert r.returncode == 0, (r.returncode, r.stderr)
        assert "Error" not in r.stderr, r.stderr
        lines = read(out, "rb").decode("utf-8", "surrogateescape").splitlines()
    # join "<unfinished ...>" with its "<... resumed>" line
    pending, calls = {}, []
    for ln in lines:
        m = re.match(r"(\d+)\s+(.*)$", ln)
        if not m:
            continue
        tid, rest = m.groups()
        if rest.endswith("<unfinished ...>"):
            pending[tid] = rest[:-len("<unfinished ...>")]
            continue
        m2 = re.match(r"<\.\.\. \w+ resumed>(.*)$", rest)
        if m2:
            rest = pending.pop(tid, "") + m2.group(1)
        calls.append(rest)
    fds = {}
    opened = []
    listed = []
    for c in calls:
        m = re.match(r'(open|openat|openat2)\((?:(AT_FDCWD|\d+), )?"((?:[^"\\]|\\.)*)".*\)\s+= (-?\d+)', c)
        if m:
            call, dirfd, path, ret = m.groups()
            if not path.startswith("/"):
                base = os.getcwd() if dirfd in (None, "AT_FDCWD") else fds.get(dirfd, "?")
                path = base.rstrip("/") + "/" + path
            path = os.path.normpath(path)
            if int(ret) >= 0:
                fds[ret] = path
                opened.append(path)
            else:
                opened.append(path + " (failed)")
            continue
        m = re.match(r"(?:dup\((\d+)\)|dup[23]\((\d+),.*|fcntl\((\d+), F_DUPFD.*)\s+= (\d+)", c)
        if m:
            old = next(x for x in m.groups()[:3] if x is not None)
            fds[m.group(4)] = fds.get(old, "?")
            continue
        m = re.match(r"getdents64\((\d+),", c)
        if m:
            listed.append(fds.get(m.group(1), "?"))
    return opened, listed, alive


def per_pid_files(opened):
    """{pid: [file, ...]} for /proc/PID/FILE opens, and the set of pid dirs opened."""
    files, dirs = {}, set()
    for p in opened:
        p = p.removesuffix(" (failed)")
        m = re.fullmatch(r"/proc/(\d+)(?:/(.+))?", p)
        if not m:
            continue
        pid = int(m.group(1))
        if m.group(2) is None:
            dirs.add(pid)
        else:
            files.setdefault(pid, []).append(m.group(2))
            dirs.add(pid)
    return files, dirs


def assert_each_file_once(files):
    for pid, names in files.items():
        dup = {n for n in names if names.count(n) > 1}
        assert not dup, f"/proc/{pid}: opened more than once in one scan: {sorted(dup)}"


def assert_read_for_all(files, alive, name):
    """Every process alive for the whole scan had its file NAME opened."""
    missing = sorted(p for p in alive if name not in files.get(p, []))
    assert not missing, f"{name} not opened for processes alive for the whole scan: {missing[:20]}"


def test_lazy_reading_stat_only_for_pid_and_comm():
    opened, _, alive = strace_run("SELECT pid, comm FROM ps")
    files, _ = per_pid_files(opened)
    assert_read_for_all(files, alive, "stat")
    other = {n for names in files.values() for n in names if n != "stat"}
    assert not other, f"SELECT pid, comm opened more than stat: {sorted(other)}"
    assert_each_file_once(files)


def test_lazy_reading_status_for_user_but_no_cmdline():
    opened, _, alive = strace_run("SELECT pid, user FROM ps")
    files, _ = per_pid_files(opened)
    names = [n for ns in files.values() for n in ns]
    assert_read_for_all(files, alive, "status")
    for bad in ("cmdline", "attr/current", "environ"):
        assert bad not in names, f"SELECT pid, user opened {bad}"
    assert_each_file_once(files)


def test_lazy_reading_cmdline_only_for_args():
    opened, _, alive = strace_run("SELECT pid, args FROM ps")
    files, _ = per_pid_files(opened)
    names = [n for ns in files.values() for n in ns]
    assert_read_for_all(files, alive, "cmdline")
    assert "status" not in names and "attr/current" not in names, sorted(set(names))
    assert_each_file_once(files)


def test_lazy_reading_of_the_raw_columns():
    """The _raw columns sit past colUsed's bit 62 (src/columns.h): bit 63
    reads io, and each _raw column reads its own file on first use, once,
    through the row's directory. comm_raw needs stat alone; args_raw
    cmdline and not status; cwd_raw the cwd link and not cmdline."""
    for sql, need, never in (("SELECT pid, comm_raw FROM ps", [], ["cmdline", "status"]),
                             ("SELECT pid, args_raw FROM ps", ["cmdline"], ["status", "attr/current"]),
                             ("SELECT pid, cwd_raw FROM ps", [], ["cmdline", "status"]),
                             ("SELECT pid, args, args_raw, exe_raw FROM ps", ["cmdline"], ["status"])):
        opened, _, alive = strace_run(sql)
        files, _ = per_pid_files(opened)
        names = {n for ns in files.values() for n in ns}
        for n in ["stat"] + need:
            assert_read_for_all(files, alive, n)
        assert not names & set(never), f"{sql} opened {sorted(names & set(never))}"
        # what else: io (bit 63's group) and nothing the query does not name
        assert names <= {"stat", "io", "cmdline"}, f"{sql} opened {sorted(names)}"
        assert_each_file_once(files)


def test_every_file_opened_at_most_once_per_scan():
    opened, _, _ = strace_run("SELECT * FROM ps")
    files, dirs = per_pid_files(opened)
    names = {n for ns in files.values() for n in ns}
    assert {"stat", "status", "cmdline"} <= names, names
    assert_each_file_once(files)


def test_where_pid_opens_only_that_pid():
    a = spawn(argv=["lazy-a"])["pid"]
    b = spawn(argv=["lazy-b"])["pid"]
    opened, _, _ = strace_run(f"SELECT * FROM ps WHERE pid = {a}")
    files, dirs = per_pid_files(opened)
    assert dirs == {a}, f"WHERE pid = {a} opened pid dirs {sorted(dirs)[:20]}"
    assert_each_file_once(files)
    opened, _, _ = strace_run(f"SELECT pid, comm, user, args FROM ps WHERE pid IN ({a}, {b})")
    files, dirs = per_pid_files(opened)
    assert dirs == {a, b}, f"pid IN ({a}, {b}) opened pid dirs {sorted(dirs)[:20]}"
    assert_each_file_once(files)


def test_where_pid_does_not_list_proc():
    a = spawn(argv=["lazy-a"])["pid"]
    opened, listed, _ = strace_run(f"SELECT pid, comm FROM ps WHERE pid = {a}")
    assert "/proc" not in listed, "WHERE pid = X read the whole /proc directory"
    # control: a full scan does list it
    opened, listed, _ = strace_run("SELECT pid FROM ps")
    assert "/proc" in listed, listed
