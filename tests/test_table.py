"""The registered surface: tables, functions, schema from the registry,
query plans, the README's column table, the extra columns, ps_namespaces,
and make install. Expected values come from /proc, os, procps or the
README, never from the extension itself."""
import os
import re
import subprocess
import sys
import tempfile
import time

import lib
from lib import Skip, connect, q, q1, start

ROOT = lib.ROOT

PSGO = ("user pid ppid pcpu etime tty time args comm group groups rgroup ruser nice pgid uid vsz rss "
        "state stime capamb capbnd capeff capinh capprm seccomp label hpid huser huid hgroup hgroups").split()
EXTRA = ("ns_pid ns_mnt ns_net ns_user ns_uts ns_ipc ns_cgroup cgroup nlwp exe cwd wchan nopriv "
         "seccomp_filters syscall pss uss swap shared pmem nfds oom_score oom_score_adj cpus_allowed psr container pod pcpu_now "
         "rchar wchar read_bytes write_bytes syscr syscw").split()
# ps_threads, from issue 10's list: ids in the view and on the host, then the thread's values
THREADS = ("pid tid hpid htid comm state time pcpu pcpu_now nice priority psr wchan syscall "
           "voluntary_switches involuntary_switches").split()
# the hidden columns: the arguments first (ps(1234), ps(NULL, 0.5) bind them by
# position), then the exact bytes of the text columns a process chooses (issue 16)
HIDDEN = ["pidns", "sample", "comm_raw", "args_raw", "exe_raw", "cwd_raw"]
THREADS_HIDDEN = ["pidns", "sample", "comm_raw"]


def test_registered_modules_and_functions():
    db = connect()
    mods = {r[0] for r in q("SELECT name FROM pragma_module_list", db=db)}
    assert {"ps", "ps_threads", "ps_descriptors", "ps_namespaces"} <= mods, mods
    funcs = {r[0] for r in q("SELECT name FROM pragma_function_list", db=db)}
    assert {"ps_version", "ps_etime", "ps_cputime", "ps_printable"} <= funcs
    version = open(os.path.join(ROOT, "VERSION")).read().strip()
    assert q1("SELECT ps_version()", db=db)[0].startswith(version + " (")


def test_columns_are_the_psgo_descriptors_then_the_extras():
    cols = q("SELECT name, hidden FROM pragma_table_xinfo('ps')")
    visible = [c for c, h in cols if not h]
    hidden = [c for c, h in cols if h]
    assert visible == PSGO + EXTRA, visible
    assert hidden == HIDDEN, hidden
    types = {c: t for c, t in q("SELECT name, type FROM pragma_table_xinfo('ps')")}
    assert all(types[c] == "BLOB" for c in HIDDEN if c.endswith("_raw")), types


def test_descriptors_table_lists_every_column_and_nothing_else():
    db = connect()
    xinfo = q("SELECT name, type, hidden FROM pragma_table_xinfo('ps')", db=db)
    desc = q("SELECT name, type, hidden FROM ps_descriptors", db=db)
    assert [(n, t, 1 if h else 0) for n, t, h in xinfo] == [(n, t, h) for n, t, h in desc]
    # psgo's own descriptors are marked psgo, the extras are not
    psgo = {r[0] for r in q("SELECT name FROM ps_descriptors WHERE psgo", db=db)}
    assert psgo == set(PSGO), psgo ^ set(PSGO)
    codes = dict(q("SELECT name, code FROM ps_descriptors WHERE code IS NOT NULL", db=db))
    assert codes == {"pcpu": "%C", "group": "%G", "ppid": "%P", "user": "%U", "args": "%a", "comm": "%c",
                     "rgroup": "%g", "nice": "%n", "pid": "%p", "pgid": "%r", "etime": "%t",
                     "ruser": "%u", "time": "%x", "tty": "%y", "vsz": "%z"}, codes
    headers = dict(q("SELECT name, header FROM ps_descriptors", db=db))
    assert headers["pcpu"] == "%CPU" and headers["etime"] == "ELAPSED" and headers["args"] == "COMMAND"
    assert headers["capeff"] == "EFFECTIVE CAPS" and headers["tty"] == "TTY"


def test_ps_threads_schema_and_descriptors():
    db = connect()
    cols = q("SELECT name, type, hidden FROM pragma_table_xinfo('ps_threads')", db=db)
    assert [c for c, _, h in cols if not h] == THREADS, cols
    assert [c for c, _, h in cols if h] == THREADS_HIDDEN, cols
    desc = q("SELECT name, type, hidden FROM ps_descriptors('ps_threads')", db=db)
    assert [(n, t, 1 if h else 0) for n, t, h in cols] == [(n, t, h) for n, t, h in desc]
    assert q("SELECT name FROM ps_descriptors WHERE tbl = 'ps_threads'", db=db) == [(c[0],) for c in desc]
    n = q1("SELECT count(*) FROM pragma_table_xinfo('ps')", db=db)
    assert q1("SELECT count(*) FROM ps_descriptors", db=db) == n  # no argument: ps
    assert q1("SELECT count(*) FROM ps_descriptors WHERE tbl = 'ps'", db=db) == n
    assert q1("SELECT count(*) FROM ps_descriptors(NULL)", db=db) == n
    try:
        q("SELECT name FROM ps_descriptors('threads')", db=db)
        raise AssertionError("ps_descriptors('threads') gave no error")
    except lib.sqlite3.OperationalError as e:
        assert "ps_descriptors: tbl must be 'ps' or 'ps_threads', not 'threads'" in str(e), e
    # DIRECTONLY, as ps: no trigger may read it
    db.execute("CREATE TABLE t(x)")
    db.execute("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT count(*) FROM ps_threads; END")
    try:
        db.execute("INSERT INTO t VALUES (1)")
        raise AssertionError("a trigger read ps_threads")
    except lib.sqlite3.OperationalError as e:
        assert "unsafe use of virtual table" in str(e) and "ps_threads" in str(e), e


def test_readme_column_table_matches_the_registry():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "readme.py"), "--check"])
    assert p.returncode == 0, "README.md's column table is stale: run make readme"
    readme = open(os.path.join(ROOT, "README.md")).read()
    for c in PSGO + EXTRA + HIDDEN:
        assert f"| `{c}`" in readme, c
    threads = readme[readme.index("<!-- thread-columns -->"):readme.index("<!-- /thread-columns -->")]
    for c in THREADS + THREADS_HIDDEN:
        assert f"| `{c}`" in threads, c


def test_declared_types():
    db = connect()
    pid = os.getpid()
    types = dict(q("SELECT name, type FROM ps_descriptors", db=db))
    # every column, the hidden ones too
    row = db.execute("SELECT " + ", ".join(f'"{n}"' for n in types) + " FROM ps WHERE pid = ?", (pid,))
    names = [d[0] for d in row.description]
    values = row.fetchone()
    want = {"INTEGER": int, "REAL": float, "TEXT": str, "BLOB": bytes}
    for n, v in zip(names, values):
        if v is None:
            continue
        assert isinstance(v, want[types[n]]), (n, v, types[n])


def test_ps_etime_and_ps_cputime_formats():
    db = connect()
    cases = [(0, "00:00", "00:00:00"), (59.9, "00:59", "00:00:59"), (61, "01:01", "00:01:01"),
             (3600, "01:00:00", "01:00:00"), (86399, "23:59:59", "23:59:59"),
             (86400, "1-00:00:00", "1-00:00:00"), (93784, "1-02:03:04", "1-02:03:04"),
             (-5, "00:00", "00:00:00")]
    for secs, etime, cputime in cases:
        got = q1("SELECT ps_etime(?), ps_cputime(?)", secs, secs, db=db)
        assert got == (etime, cputime), (secs, got)
    assert q1("SELECT ps_etime(NULL)", db=db) == (None,)
    try:
        q("SELECT ps_etime('soon')", db=db)
    except Exception as e:
        assert "ps_etime" in str(e), e
    else:
        raise AssertionError("ps_etime('soon') did not fail")


def test_ps_printable_replaces_control_characters_and_invalid_utf8():
    """Bytes 0x00-0x1f and 0x7f, C1 controls (U+0080-U+009F), U+FFFD and
    each byte that is not valid UTF-8 become '?'; everything else is kept."""
    db = connect()
    db.text_factory = bytes
    cases = [
        (b"plain ASCII, spaces and punctuation: ~!@#", b"plain ASCII, spaces and punctuation: ~!@#"),
        (b"", b""),
        (b"a\nb\tc\rd\x1b[31mred\x1b[0m\x7f\x01\x1f ", b"a?b?c?d?[31mred?[0m??? "),
        # kept: 2-, 3- and 4-byte characters, U+00A0 (the first after C1), U+10FFFF
        ("\u00e9t\u00e9 \u20ac \U0001f600 \u00a0 \U0010ffff".encode(),
         "\u00e9t\u00e9 \u20ac \U0001f600 \u00a0 \U0010ffff".encode()),
        # C1 controls are one character each: one '?'
        (b"x\xc2\x80y\xc2\x9bz\xc2\x85", b"x?y?z?"),
        # invalid UTF-8: one '?' per byte
        (b"\xff\xfe", b"??"),                      # never UTF-8
        (b"a\x80b\xbfc", b"a?b?c"),                 # stray continuation bytes
        (b"\xe2\x82", b"??"),                      # truncated at the end
        (b"\xe2\x82x", b"??x"),                    # truncated before another character
        (b"\xc0\xaf \xe0\x80\xaf", b"?? ???"),      # overlong forms of '/'
        (b"\xed\xa0\x80", b"???"),                 # a surrogate (U+D800)
        (b"\xf4\x90\x80\x80", b"????"),            # above U+10FFFF
        # U+FFFD, which the tables' text has where a process's bytes were not UTF-8
        (b"bad\xef\xbf\xbdbyte", b"bad?byte"),
    ]
    for text, want in cases:
        (got,) = q1("SELECT ps_printable(CAST(? AS TEXT))", text, db=db)
        assert got == want, (text, got, want)
    # NUL inside a value (a blob read as text) is a control character too
    assert q1("SELECT ps_printable(x'610062')", db=db) == (b"a?b",)
    assert q1("SELECT ps_printable(NULL)", db=db) == (None,)
    assert q1("SELECT typeof(ps_printable(12)), ps_printable(12)", db=db) == (b"text", b"12")
    # registered like ps_etime: deterministic and innocuous (usable in views and indexes)
    flags = dict(q("SELECT name, flags FROM pragma_function_list WHERE name IN ('ps_printable', 'ps_etime')",
                   db=db))
    deterministic, innocuous = 0x800, 0x200000
    for name in (b"ps_printable", b"ps_etime"):
        assert flags[name] & deterministic and flags[name] & innocuous, (name, hex(flags[name]))


def test_ps_etime_matches_procps_for_a_real_process():
    """ps reads the process between two reads of the table: its ELAPSED is
    ps_etime() of a second that those two reads allow (lib.procps_range)."""
    p = start(["sleep", "1000"])
    time.sleep(1.2)
    db = connect()
    sql = "SELECT time, etime FROM ps WHERE pid = ?"
    first = q1(sql, p.pid, db=db)
    want = subprocess.run(["ps", "-o", "etime=", "-p", str(p.pid)], capture_output=True, text=True).stdout.strip()
    second = q1(sql, p.pid, db=db)
    lo, hi = lib.procps_range(first, second)["etime"]
    allowed = {q1("SELECT ps_etime(?)", t, db=db)[0] for t in range(lo, hi + 1)}
    assert want in allowed, (want, sorted(allowed))


def plan(sql, db=None):
    return [r[3] for r in q("EXPLAIN QUERY PLAN " + sql, db=db)]


def plan_sources(detail):
    """The PSNAP_SRC_* bits of a plan line "... VIRTUAL TABLE INDEX n:src=X"."""
    m = re.search(r"VIRTUAL TABLE INDEX \d+:src=([0-9a-f]+)", detail)
    assert m, detail
    return int(m.group(1), 16)


def test_plans_use_pid_and_pidns_constraints():
    db = connect()
    full = plan("SELECT * FROM ps", db=db)
    one = plan("SELECT * FROM ps WHERE pid = 1", db=db)
    assert full != one, (full, one)
    m = re.search(r"INDEX (\d+)", one[0])
    assert m and int(m.group(1)) & 0x4, one
    m = re.search(r"INDEX (\d+)", plan("SELECT * FROM ps WHERE pid IN (1, 2)", db=db)[0])
    assert m and int(m.group(1)) & 0x8, "pid IN is not handed over whole"
    m = re.search(r"INDEX (\d+)", plan("SELECT * FROM ps(1)", db=db)[0])
    assert m and int(m.group(1)) & 0x1, "ps(1) does not constrain pidns"


def test_join_plans_the_container_list_outside():
    db = connect()
    db.execute("CREATE TEMP TABLE containers(name TEXT, pid INTEGER)")
    p = plan("SELECT c.name, p.pid FROM containers c JOIN ps p ON p.pidns = c.pid", db=db)
    assert p[0].startswith("SCAN c"), p
    assert p[1].startswith("SCAN p VIRTUAL TABLE INDEX"), p
    p = plan("SELECT c.name, p.pid FROM ps p JOIN containers c ON p.pidns = c.pid", db=db)
    assert p[0].startswith("SCAN c"), p


def test_colused_reaches_the_scan_as_sources():
    """idxStr carries the sources ("INDEX n:src=X", X in hex): narrow
    queries ask for stat only."""
    def src(sql):
        return plan_sources(plan(sql)[0])
    # bits of enum psnap_src: STAT 0x1, STATUS 0x2, CMDLINE 0x4, NAMES 0x10
    assert src("SELECT pid, comm FROM ps") == 0x1
    assert src("SELECT pid, user FROM ps") == 0x1 | 0x2 | 0x10
    assert src("SELECT pid, uid FROM ps") == 0x1 | 0x2
    assert src("SELECT args FROM ps") & 0x4 and not src("SELECT args FROM ps") & 0x2
    assert src("SELECT ns_net FROM ps") & (1 << 14) and not src("SELECT ns_net FROM ps") & (1 << 12)


def test_extra_columns_match_proc():
    p = start([sys.executable, "-c", "import signal, threading, time\n"
               "threading.Thread(target=time.sleep, args=(100,), daemon=True).start()\n"
               "print('ready', flush=True)\n"
               "signal.pause()"], cwd="/tmp", stdout=subprocess.PIPE)
    # after its ready line the child's main thread only calls pause(): once
    # it sleeps, it sleeps there (however long a busy machine took to start it).
    # stat says S as soon as the thread sets its state, before schedule() has
    # taken it off the run queue (a preempted thread can stay so for
    # milliseconds); wchan is "0" until then: wait for both.
    assert p.stdout.readline() == b"ready\n"
    lib.wait_for(lambda: lib.proc_stat(p.pid)[1][0] == "S" and lib.read(f"/proc/{p.pid}/wchan").strip() not in ("", "0"),
                 timeout=lib.HANG, what="the child to pause")
    r = lib.row(p.pid, ", ".join(EXTRA))
    for ns in ("pid", "mnt", "net", "user", "uts", "ipc", "cgroup"):
        assert r["ns_" + ns] == os.stat(f"/proc/{p.pid}/ns/{ns}").st_ino, (ns, r)
    assert r["exe"] == os.readlink(f"/proc/{p.pid}/exe"), r
    assert r["cwd"] == "/tmp", r
    tasks = os.listdir(f"/proc/{p.pid}/task")
    assert r["nlwp"] == 2 == len(tasks), (r, tasks)
    assert r["syscall"] == "pause", r["syscall"]
    assert r["wchan"] == open(f"/proc/{p.pid}/wchan").read().strip(), r
    status = open(f"/proc/{p.pid}/status").read()
    assert r["nopriv"] == int(re.search(r"NoNewPrivs:\s*(\d+)", status).group(1)), r
    assert r["seccomp_filters"] == int(re.search(r"Seccomp_filters:\s*(\d+)", status).group(1)), r
    want = subprocess.run(["ps", "-o", "cgroup=", "-p", str(p.pid)], capture_output=True, text=True).stdout.strip()
    assert (r["cgroup"] or "-") == want, (r["cgroup"], want)


def test_kernel_thread_has_no_exe_and_no_syscall():
    r = lib.row(2, "exe, syscall, nlwp, comm")
    assert r["comm"] == "kthreadd" and r["exe"] is None and r["syscall"] is None and r["nlwp"] == 1, r


def test_ps_namespaces_lists_our_namespace_and_a_new_one():
    lib.require_root()
    own = os.stat("/proc/self/ns/pid").st_ino
    p = start(["unshare", "--fork", "--kill-child", "--pid", "--mount-proc", "sh", "-c", "sleep 1000 & sleep 1001 & wait"])
    inner = lib.wait_for(lambda: [int(x) for x in subprocess.run(["pgrep", "-P", str(p.pid)],
                         capture_output=True, text=True).stdout.split()], timeout=lib.HANG, what="unshare's child")[0]
    lib.wait_for(lambda: len(subprocess.run(["pgrep", "-P", str(inner)], capture_output=True,
                 text=True).stdout.split()) == 2, timeout=lib.HANG, what="two sleeps")
    ino = os.stat(f"/proc/{inner}/ns/pid").st_ino
    rows = {r[0]: r for r in q("SELECT ns_pid, pid, nprocs, ns_user, comm, cgroup FROM ps_namespaces")}
    assert own in rows and rows[own][1] == 1, rows.get(own)
    assert ino in rows, (ino, rows.keys())
    assert rows[ino][1] == inner and rows[ino][2] == 3 and rows[ino][4] == "sh", rows[ino]
    assert rows[ino][3] == os.stat(f"/proc/{inner}/ns/user").st_ino
    # joined with ps: every namespace's processes, as they see themselves
    got = q("SELECT p.pid, p.hpid FROM ps_namespaces n JOIN ps p ON p.pidns = n.pid "
            "WHERE n.ns_pid = ? ORDER BY p.pid", ino)
    assert [g[0] for g in got] == [1, 2, 3] and got[0][1] == inner, got


def test_make_install_with_destdir_and_pkg_config():
    dest = tempfile.mkdtemp()
    subprocess.run(["make", "-s", "-C", ROOT, "install", f"DESTDIR={dest}", "PREFIX=/usr"], check=True,
                   capture_output=True)
    for f in ("usr/lib/sqlite-ps/ps.so", "usr/lib/libpsnap.a", "usr/include/psnap.h", "usr/lib/pkgconfig/psnap.pc"):
        assert os.path.exists(os.path.join(dest, f)), f
    env = dict(os.environ, PKG_CONFIG_PATH=f"{dest}/usr/lib/pkgconfig", PKG_CONFIG_SYSROOT_DIR=dest)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "--static", "psnap"], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    ext = subprocess.run(["pkg-config", "--variable=extension", "psnap"], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert ext in ("/usr/lib/sqlite-ps/ps", dest + "/usr/lib/sqlite-ps/ps"), ext
    prog = os.path.join(dest, "pids.c")
    open(prog, "w").write(
        '#include <psnap.h>\n#include <stdio.h>\n'
        'int main(void) { struct psnap *s; struct psnap_err e; struct psnap_cfg c = {.src = PSNAP_SRC_STAT};\n'
        '  if (psnap_open(&s, &c, &e) < 0) { puts(e.msg); return 1; }\n'
        '  while (psnap_next(s) > 0) { struct psnap_value v;\n'
        '    if (psnap_column(s, PSNAP_COL_PID, &v) < 0) return 1; printf("%lld\\n", v.i); }\n'
        '  psnap_close(s); return 0; }\n')
    exe = os.path.join(dest, "pids")
    subprocess.run(["cc", "-I" + dest + "/usr/include", prog, "-L" + dest + "/usr/lib", "-o", exe] + flags,
                   check=True)
    # the program lists every process that is in /proc before and after it
    # runs, each once (other work starts and ends processes meanwhile)
    before = {int(d) for d in os.listdir("/proc") if d.isdigit()}
    pids = [int(x) for x in subprocess.run([exe], capture_output=True, text=True, check=True).stdout.split()]
    alive = before & {int(d) for d in os.listdir("/proc") if d.isdigit()}
    assert len(pids) == len(set(pids)) and alive <= set(pids), (len(pids), sorted(alive - set(pids))[:20])
    # the installed extension loads in the sqlite3 shell
    out = subprocess.run(["sqlite3", ":memory:", "-cmd", f".load {dest}/usr/lib/sqlite-ps/ps",
                          "SELECT comm FROM ps WHERE pid = 1"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == open("/proc/1/comm").read().strip(), out
