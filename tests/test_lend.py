"""The name-lending helper (src/lend.c, src/helper/lender.c): what it costs
the program that loads the extension, and what a container can make that
program pay, tried as a hostile container and as odd host programs would.

  core       a program whose seccomp filter kills on openat2, with core
             dumps on: the helper dies of it, and no core file is written
             (the helper's address space is its own, not dumpable, and it
             has RLIMIT_CORE 0); a control process does dump a core there
  dumpable   a thread that makes the program not dumpable while another
             thread lends names: the program stays not dumpable
  together   two threads querying one container at once: every answer has
             the names (the second query waits for the first one's helper)
  interrupt  sqlite3_interrupt() during a wait for a FUSE that never
             answers ends the query within 100 ms (plus the machine's own
             scheduling, measured), with SQLITE_INTERRUPT
  pile-up    separate programs querying a container whose FUSE /etc never
             answers leave one stuck helper, not one each (a FUSE
             connection with requests waiting is not read); one program
             querying more such containers than PSNAP_LEND_STUCK has at
             most that many stuck, and its descriptors stay bounded
  overlay    a sysfs file seen through an overlay as /etc/passwd is not
             lent (its content would name uid 0); an overlay over a tmpfs
             still lends
  kept       the helper kept for the next query serves it and leaves after
             LEND_IDLE_S idle; a program that closes its descriptors (and
             reuses their numbers) gets a new one, and nothing is written to
             its own
  mlockall   a program with all its memory locked: a lending maps (and
             locks) nothing big
  cancel     a thread cancelled while it waits for names (helpers/cancel,
             linked with libpsnap.a): the namespace lends again later

Each needs root (it skips otherwise), FUSE tests the fusehang helper.
"""
import contextlib
import os
import re
import subprocess
import tempfile
import time

import lib
from lib import require_root
from test_container import container
from test_trust import (DEADLINE, Driver, Q, check_numeric_rows, deadline, fuse_waiters, hang_fuse, helpers, in_ns,
                        kill, slack_for, state)

PSNAP_LEND_STUCK = 4  # src/psnap.h


def psnap_h_value(name):
    with open(os.path.join(lib.ROOT, "src", "psnap.h")) as f:
        m = re.search(rf"#define {name} (\d+)", f.read())
    return int(m.group(1))


def named(rows):
    """The user names of ps(X) rows (Q's fourth column)."""
    return {r[3] for r in rows}


# ---------------------------------------------------------------------------


def test_a_helper_killed_by_the_program_s_seccomp_filter_dumps_no_core():
    require_root()
    pattern_file = "/proc/sys/kernel/core_pattern"
    with open(pattern_file) as f:
        old = f.read().rstrip("\n")
    with container() as c, tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o1777)
        try:
            with open(pattern_file, "w") as f:
                f.write(f"{tmp}/core.%p.%e")
            # Control: a process killed by a core-dumping signal here leaves a core
            subprocess.run(["/usr/bin/python3", "-c",
                            "import os, resource, signal\n"
                            "resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2)\n"
                            "os.kill(os.getpid(), signal.SIGSYS)"], check=False)
            cores = lib.wait_for(lambda: os.listdir(tmp), timeout=5, what="the control's core file")
            for k in cores:
                os.unlink(os.path.join(tmp, k))
            control = Driver()
            assert named(control.rows(Q, c.init)) >= {"root", "someone"}, "names not lent without the filter"
            assert control.exit() == 0
            # (a program that lent before its filter keeps a helper made before it)
            d = Driver()
            r = d.call("py", code="import resource\n"
                                  "resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2)\n"
                                  "secret = b'hunter2-' * 4096\n")
            assert r["res"][0] == "ok", r
            r = d.call("py", code="import ctypes\n"
                                  "sc = ctypes.CDLL('libseccomp.so.2', use_errno=True)\n"
                                  "sc.seccomp_init.restype = ctypes.c_void_p\n"
                                  "ctx = sc.seccomp_init(0x7fff0000)\n"  # SCMP_ACT_ALLOW
                                  "nr = sc.seccomp_syscall_resolve_name(b'openat2')\n"
                                  "assert sc.seccomp_rule_add(ctypes.c_void_p(ctx), 0x80000000, nr, 0) == 0\n"  # KILL_PROCESS
                                  "assert sc.seccomp_load(ctypes.c_void_p(ctx)) == 0\n")
            assert r["res"][0] == "ok", f"seccomp filter: {r['res']}"
            rows = d.rows(Q, c.init)
            problems = check_numeric_rows(c, rows, "with the helper killed by the program's filter")
            time.sleep(1.0)  # a core is written as the helper dies, before the query returns
            left = os.listdir(tmp)
            if left:
                sizes = {k: os.path.getsize(os.path.join(tmp, k)) for k in left}
                problems.append(f"core files written: {sizes}")
            assert d.p.poll() is None, "the program died"
            assert not problems, "\n  ".join(problems)
            assert d.exit() == 0
        finally:
            with open(pattern_file, "w") as f:
                f.write(old)


def test_a_thread_that_makes_the_program_not_dumpable_while_another_lends_keeps_it_so():
    require_root()
    with container() as c:
        d = Driver()
        code = f'''
import ctypes, random, sqlite3, threading, time
libc = ctypes.CDLL(None)
stop = False
errors = []
def lend():
    db2 = sqlite3.connect(":memory:")
    db2.enable_load_extension(True)
    db2.load_extension(ext)
    while not stop:
        try:
            db2.execute("SELECT count(user) FROM ps(?)", ({c.init},)).fetchall()
        except sqlite3.Error as e:
            errors.append(str(e))
t = threading.Thread(target=lend)
t.start()
undone = 0
for i in range(200):
    libc.prctl(4, 1, 0, 0, 0)
    time.sleep(random.random() * 0.002)
    libc.prctl(4, 0, 0, 0, 0)
    time.sleep(0.003)
    undone += libc.prctl(3, 0, 0, 0, 0) != 0
stop = True
t.join()
libc.prctl(4, 1, 0, 0, 0)
out = [undone, errors[:3]]
'''
        r = d.call("py", code=code, timeout=120)
        assert r["res"][0] == "ok", r
        undone, errors = r["res"][1]
        assert not errors, f"queries failed: {errors}"
        assert undone == 0, f"the program became dumpable again in {undone} of 200 trials"
        assert d.exit() == 0


def test_two_threads_querying_one_container_at_once_both_get_names():
    require_root()
    with container() as c:
        d = Driver()
        code = f'''
import sqlite3, threading
res = []
def run():
    db2 = sqlite3.connect(":memory:")
    db2.enable_load_extension(True)
    db2.load_extension(ext)
    for _ in range(150):
        res.append(tuple(sorted({{r[0] for r in db2.execute("SELECT user FROM ps(?)", ({c.init},))}})))
ts = [threading.Thread(target=run) for _ in range(2)]
[t.start() for t in ts]
[t.join() for t in ts]
out = res
'''
        r = d.call("py", code=code, timeout=300)
        assert r["res"][0] == "ok", r
        res = r["res"][1]
        numeric = [u for u in res if any(n.isdigit() for n in u)]
        print(f"  {len(res)} answers, {len(numeric)} with numbers")
        assert len(res) == 300, f"{len(res)} answers"
        assert not numeric, f"{len(numeric)} of {len(res)} answers show numbers: {numeric[:3]}"
        assert d.exit() == 0


def test_sqlite3_interrupt_ends_a_wait_for_names_within_100_ms():
    require_root()
    with container() as c:
        d = Driver()
        base = d.sql(Q, c.init)["secs"]
        fuse = hang_fuse(c.init, "/etc")
        try:
            ok, v = deadline(d, 20)
            assert ok, v
            code = f'''
import sqlite3, threading, time
t_int = []
def stop():
    time.sleep(0.5)
    t_int.append(time.monotonic())
    db.interrupt()
threading.Thread(target=stop).start()
err = None
try:
    db.execute("SELECT user FROM ps(?)", ({c.init},)).fetchall()
except sqlite3.Error as e:
    err = str(e)
t_end = time.monotonic()
time.sleep(0.01)
out = [err, (t_end - t_int[0]) if t_int else None]
'''
            r = d.call("py", code=code, timeout=30)
            assert r["res"][0] == "ok", r
            err, after = r["res"][1]
            bound = 0.1 + slack_for(base)
            print(f"  ended {after if after is None else round(after, 3)} s after sqlite3_interrupt "
                  f"(bound {bound:.3f} s: 0.1 s + scheduling slack): {err}")
            assert after is not None, f"the query ended before it was interrupted: {err}"
            assert err and "interrupt" in err, f"the query did not fail as interrupted: {err!r}"
            assert after <= bound, f"it took {after:.3f} s after sqlite3_interrupt, bound {bound:.3f} s"
        finally:
            kill(fuse)
        assert d.exit() == 0


@contextlib.contextmanager
def fusectl():
    """/sys/fs/fuse/connections mounted (mounted here if it was not)."""
    path = "/sys/fs/fuse/connections"
    mounted = False
    if not os.path.ismount(path):
        subprocess.run(["mount", "-t", "fusectl", "none", path], check=True)
        mounted = True
    try:
        yield path
    finally:
        if mounted:
            subprocess.run(["umount", path], check=False)


def lend_helpers_in_fuse(c_init=None):
    """Every ps-lend process waiting on a FUSE request (state D)."""
    out = set()
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/cmdline", "rb") as f:
                if not f.read().startswith(b"ps-lend\0"):
                    continue
        except OSError:
            continue
        if state(int(e)) == "D":
            out.add(int(e))
    return out


def test_programs_querying_a_container_whose_fuse_etc_never_answers_leave_one_stuck_helper():
    require_root()
    with fusectl(), container() as c:
        before = lend_helpers_in_fuse()
        fuse = hang_fuse(c.init, "/etc", read=True)
        try:
            secs = []
            for i in range(5):
                d = Driver()
                deadline(d, DEADLINE)
                r = d.sql(Q, c.init, timeout=DEADLINE + 10)
                assert r["res"][0] == "ok", r
                problems = check_numeric_rows(c, r["res"][1], f"program {i}")
                assert not problems, problems
                secs.append(round(r["secs"], 3))
                assert d.exit() == 0
            stuck = lib.wait_for(lambda: lend_helpers_in_fuse() - before, timeout=5,
                                 what="the first program's helper stuck in FUSE")
            time.sleep(0.5)
            stuck = lend_helpers_in_fuse() - before
            print(f"  query times {secs}; stuck helpers {sorted(stuck)}")
            assert len(stuck) == 1, f"{len(stuck)} helpers stuck in FUSE after 5 programs, want 1"
            assert max(secs[1:]) < DEADLINE, f"programs after the first waited for the deadline: {secs}"
        finally:
            kill(fuse)


def test_one_program_holds_at_most_psnap_lend_stuck_stuck_helpers():
    require_root()
    limit = psnap_h_value("PSNAP_LEND_STUCK")
    n = limit + 2
    with contextlib.ExitStack() as stack:
        cs = [stack.enter_context(container()) for _ in range(n)]
        d = Driver()
        deadline(d, DEADLINE)
        fuses = []
        try:
            for c in cs:
                fuses.append(hang_fuse(c.init, "/etc", read=True))
            fds_before = len(os.listdir(f"/proc/{d.pid}/fd"))
            r = d.call("py", code="import resource\nresource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))\n")
            assert r["res"][0] == "ok", r
            for c in cs:
                r = d.sql(Q, c.init, timeout=DEADLINE + 10)
                assert r["res"][0] == "ok", f"ps({c.init}): {r['res']}"
            time.sleep(0.5)
            stuck = {k for k, s in fuse_waiters(d.pid).items() if s == "D"}
            fds_after = len(os.listdir(f"/proc/{d.pid}/fd"))
            print(f"  {n} containers: {len(stuck)} helpers stuck; the program's descriptors {fds_before} -> "
                  f"{fds_after}")
            assert 1 <= len(stuck) <= limit, f"{len(stuck)} stuck helpers, want 1 to {limit}"
            assert fds_after - fds_before <= limit, f"descriptors grew by {fds_after - fds_before}"
            assert d.p.poll() is None
        finally:
            for f in fuses:
                kill(f)
        assert d.exit() == 0


def overlay_file_over_etc_passwd(c, lower_dir, name, tmp):
    """Mount a read-only overlay of LOWER_DIR (and an empty dir) under TMP on
    the host, and bind its file NAME over container C's /etc/passwd."""
    empty, merged = os.path.join(tmp, "empty"), os.path.join(tmp, "merged")
    os.makedirs(empty, exist_ok=True)
    os.makedirs(merged, exist_ok=True)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower_dir}:{empty}", merged], check=True)
    path = os.path.join(merged, name)
    in_ns(c, f'''
fd = tree({path!r})
enter()
attach(fd, "/etc/passwd")
''')
    return merged


def test_a_sysfs_file_seen_through_an_overlay_is_not_lent():
    require_root()
    alias = "/sys/devices/virtual/net/lo/ifalias"
    with open(alias) as f:
        old = f.read().rstrip("\n")
    tmp = tempfile.mkdtemp(prefix="hx-lend-ovl-")
    merged = None
    try:
        # a tmpfs layer: lent, as engines' overlays are
        with container() as c:
            lower = os.path.join(tmp, "lower")
            os.makedirs(lower)
            subprocess.run(["mount", "-t", "tmpfs", "tmpfs", lower], check=True)
            try:
                with open(os.path.join(lower, "passwd"), "w") as f:
                    f.write("hx-ovl-root:x:0:0::/:/bin/sh\n")
                merged = overlay_file_over_etc_passwd(c, lower, "passwd", os.path.join(tmp, "t"))
                d = Driver()
                got = {r[0]: r[2] for r in d.rows("SELECT hpid, uid, user FROM ps(?)", c.init)}
                assert got.get(c.init) == "hx-ovl-root", f"an overlay over tmpfs lends nothing: {got}"
                assert d.exit() == 0
            finally:
                subprocess.run(["umount", "-l", merged or lower], check=False)
                subprocess.run(["umount", "-l", lower], check=False)
        # a sysfs layer whose file reads as a passwd line
        with container() as c:
            with open(alias, "w") as f:
                f.write("hx-sysfs-root:x:0:0::/:/bin/sh")
            with open(alias) as f:
                assert f.read().startswith("hx-sysfs-root:"), "ifalias did not take the line"
            merged = overlay_file_over_etc_passwd(c, os.path.dirname(alias), "ifalias", os.path.join(tmp, "s"))
            with open(f"/proc/{c.init}/root/etc/passwd") as f:
                assert f.read().startswith("hx-sysfs-root:"), "the overlay's sysfs file is not the container's passwd"
            d = Driver()
            got = {r[0]: r[2] for r in d.rows("SELECT hpid, uid, user FROM ps(?)", c.init)}
            assert got.get(c.init) != "hx-sysfs-root", f"a sysfs file was lent as /etc/passwd: {got}"
            assert got.get(c.init) == "0", f"uid 0: {got.get(c.init)!r}, want the number (nothing lent)"
            assert d.exit() == 0
    finally:
        if merged:
            subprocess.run(["umount", "-l", merged], check=False)
        with open(alias, "w") as f:
            f.write(old)
        subprocess.run(["rm", "-rf", tmp], check=False)


def test_a_kept_helper_serves_the_next_query_and_leaves_when_idle():
    require_root()
    idle_s = int(re.search(r"#define LEND_IDLE_S (\d+)", open(os.path.join(lib.ROOT, "src", "lendproto.h")).read())[1])
    with container() as c:
        d = Driver()
        assert named(d.rows(Q, c.init)) >= {"root", "someone"}
        first = helpers(d.pid)
        assert len(first) == 1, f"helpers after one query: {first}, want the one kept"
        assert named(d.rows(Q, c.init)) >= {"root", "someone"}
        assert helpers(d.pid) == first, f"the next query started another helper: {helpers(d.pid)}, was {first}"
        (k,) = first
        lib.wait_for(lambda: state(k) in (None, "Z"), timeout=idle_s + 5,
                     what=f"the kept helper {k} to leave after {idle_s} s idle")
        assert named(d.rows(Q, c.init)) >= {"root", "someone"}, "no names after the kept helper left"
        assert len(helpers(d.pid) - {k}) == 1, f"helpers: {helpers(d.pid)}"
        assert d.exit() == 0


def test_a_program_that_closes_the_kept_helper_s_descriptors_gets_a_new_one():
    require_root()
    with container() as c:
        d = Driver()
        assert named(d.rows(Q, c.init)) >= {"root", "someone"}
        (k,) = helpers(d.pid)
        # close everything but stdio (a daemon's close_range), then take the
        # numbers again with pipes: a stale descriptor must never be written to
        r = d.call("py", code="import os\n"
                              "os.closerange(3, 4096)\n"
                              "pipes = [os.pipe() for _ in range(8)]\n"
                              "for r_, w in pipes: os.set_blocking(r_, False)\n"
                              "st['pipes'] = pipes\n"
                              "out = sorted(x for p in pipes for x in p)\n")
        assert r["res"][0] == "ok", r
        lib.wait_for(lambda: state(k) in (None, "Z"), timeout=5, what=f"the helper {k} to die with its pipe")
        rows = d.rows(Q, c.init)
        assert named(rows) >= {"root", "someone"}, f"no names after the program closed the helper's descriptors: {rows}"
        r = d.call("py", code="import os\n"
                              "got = []\n"
                              "for r_, w in st['pipes']:\n"
                              "    try:\n"
                              "        got.append(len(os.read(r_, 65536)))\n"
                              "    except BlockingIOError:\n"
                              "        pass\n"
                              "out = got\n")
        assert r["res"] == ["ok", []], f"bytes written into the program's own pipes: {r['res']}"
        assert d.exit() == 0


def test_a_thread_cancelled_while_it_waits_for_names_leaves_the_namespace_lending():
    require_root()
    deadline_ms = 400
    with container() as c:
        fuse = hang_fuse(c.init, "/etc")
        p = lib.start([lib.helper("cancel"), str(c.init), str(deadline_ms)], stdin=subprocess.PIPE,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = p.stdout.readline().strip()
            assert line == "cancelled", f"the cancelled thread: {line!r} {p.stderr.read()[-500:] if not line else ''}"
        finally:
            kill(fuse)
        in_ns(c, 'enter()\numount("/etc")\n')  # the dead FUSE mount off the container's own /etc
        p.stdin.write("go\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=30)
        print(f"  after the cancel and {deadline_ms / 1000 * psnap_h_value('PSNAP_LEND_RETRY'):.1f} s: {out.strip()}")
        assert p.returncode == 0, f"exit {p.returncode}: {err[-500:]}"
        assert out.startswith("user root "), f"the namespace lends no names after a cancelled wait: {out.strip()}"


def test_a_program_with_all_its_memory_locked_lends_without_mapping_more():
    require_root()
    with container() as c:
        d = Driver()
        # MCL_CURRENT | MCL_FUTURE: whatever the program maps from now on is locked and present
        r = d.call("py", code="import ctypes\n"
                              "assert ctypes.CDLL(None, use_errno=True).mlockall(3) == 0\n"
                              "out = open('/proc/self/status').read()\n")
        assert r["res"][0] == "ok", f"mlockall: {r['res']}"
        before = int(lib.proc_status(d.pid)["VmPeak"].split()[0])
        for _ in range(3):
            assert named(d.rows(Q, c.init)) >= {"root", "someone"}, "no names with mlockall"
        after = int(lib.proc_status(d.pid)["VmPeak"].split()[0])
        print(f"  VmPeak {before} -> {after} kB over 3 lending queries")
        # the container's files are a few KiB: a lending maps its buffers and
        # the helper's children's stacks, on the program's own stack
        assert after - before <= 8192, f"VmPeak grew by {after - before} kB: a lending mapped (and locked) that much"
        assert d.exit() == 0
