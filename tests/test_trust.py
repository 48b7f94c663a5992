"""Trust tests: what a hostile container cannot do to ps(X), tried the way
an attacker would, with real namespaces, mounts and processes.

The rule under test (reference/threat-model.md, STYLE.md): every row and
every value of ps(X) comes from the caller's own /proc (rows chosen by the
target's ns/pid inode, container pids from NSpid); the container only lends
names (/etc/passwd, /etc/group, tty names other than pts/N), read beneath
/proc/X/root by a helper program (not a thread of the caller: a process
of its own, in an address space of its own, nobody's child of the
caller's) that blocks every signal, has no
handler, holds none of the caller's descriptors, opens
files O_PATH first and reads only regular files not on procfs/sysfs, under
a per-connection deadline (ps_deadline(), default 2 s): past it the query
answers with numeric names and the helper is killed; one that no signal
can reach (a FUSE request in flight) is reaped later, and its namespace
gets numbers at once meanwhile. Listing a container needs ptrace read
access only.

  overmounts   tmpfs over the container's /proc/N, symlinks over /proc/N/ns,
               files over /proc/N/cmdline and status: no value changes
  nested       a member that unshare -p'd without a new mount namespace
  churn        hpid exact while children keep taking one container pid
  fuse         a FUSE daemon that never answers, over /etc, /dev/pts, /dev
               (and one that reads requests and never answers, which no
               signal can end): answers within the deadline, no thread
               added to the caller, one stuck helper at most, holding none
               of the caller's descriptors or privileges (in an address
               space of its own), invisible to its wait() and
               setuid(), reaped once it wakes; SIGKILL still ends the
               caller and a helper that can die; lending leaves the
               program dumpable, without children, SIGCHLD or threads
  opens        /etc/passwd as a link to /proc/kmsg or /proc/version, a
               device, a FIFO: never opened for reading (inotify sees
               every open; an O_PATH open makes no event); a root-only
               host file behind /etc/passwd is not lent (unprivileged fsuid)
  signals      a SIGUSR1 storm, to the process, to each of its threads and
               to each of its child processes (the extension's helpers): no
               handler of the program runs in a helper or on a thread the
               extension started, and the names are still lent
               (build/helpers/sigstorm)
  privilege    a rootless owner without capabilities lists its container;
               root without CAP_SYS_ADMIN/CAP_SYS_CHROOT lists one; errors
               name ptrace access when that is what is missing
  misc         pidns IN (NULL, 1) gives each process once; zombie targets;
               a chroot'ed member is named from its own root; a passwd cut
               at the read bound does not name its cut entry

Hostile queries run in a child python (Driver) with timeouts, so a hang or a
crash is reported as one. Everything a test mounts lives in a container's
mount namespace and dies with it; FUSE daemons and processes are killed in
finally blocks and by lib.cleanup(). Every test but the pidns IN one needs
root (it skips otherwise). The file takes about 15 s; against a build whose
queries hang, about a minute (each hang is cut after 10 s).

To run the churn test many times:

  for i in $(seq 20); do /usr/bin/python3 tests/run.py 'trust: hpid_stays_exact' || break; done

(run.py selects tests whose "file: name" contains any of its words, so pass
that one quoted word.)
"""
import json
import os
import pwd
import re
import select
import shutil
import signal
import sqlite3
import stat
import struct
import subprocess
import tempfile
import time

import lib
from lib import Skip, require_root
from test_container import container

PY = "/usr/bin/python3"
DEADLINE = 0.5  # the deadline the FUSE tests set with ps_deadline()
DEFAULT_DEADLINE = 2.0

# ---------------------------------------------------------------------------
# A child python that runs commands one at a time (a query that hangs or
# crashes becomes a test failure, and the test can look at the child's
# threads between two queries)

DRIVER = r'''
import json, os, signal, sqlite3, sys, time
db = None
st = {}
sigchld = 0
def on_sigchld(*_):
    global sigchld
    sigchld += 1
signal.signal(signal.SIGCHLD, on_sigchld)
for line in sys.stdin:
    cmd = json.loads(line)
    op, t0 = cmd["op"], time.monotonic()
    try:
        if op == "load":
            ext_path = cmd["ext"]
            db = sqlite3.connect(":memory:", check_same_thread=False)
            db.text_factory = lambda b: b.decode("utf-8", "backslashreplace")
            db.enable_load_extension(True)
            db.load_extension(cmd["ext"])
            db.enable_load_extension(False)
            res = ["ok", None]
        elif op == "sql":
            res = ["ok", [list(r) for r in db.execute(cmd["sql"], cmd["args"]).fetchall()]]
        elif op == "close":
            db.close()
            db = None
            res = ["ok", None]
        elif op == "status":
            with open("/proc/self/status") as f:
                res = ["ok", f.read()]
        elif op == "setxid":  # glibc's setuid() waits for every thread of the program
            os.setresgid(*os.getresgid())
            os.setresuid(*os.getresuid())
            res = ["ok", None]
        elif op == "wait":  # what the program's own wait() sees
            try:
                res = ["ok", list(os.waitpid(-1, os.WNOHANG))]
            except ChildProcessError:
                res = ["ok", "ECHILD"]
        elif op == "sigchld":
            res = ["ok", sigchld]
        elif op == "dumpable":  # prctl(PR_SET_DUMPABLE) with "set", then prctl(PR_GET_DUMPABLE)
            import ctypes
            if "set" in cmd and ctypes.CDLL(None).prctl(4, cmd["set"], 0, 0, 0) != 0:
                raise OSError("prctl(PR_SET_DUMPABLE)")
            res = ["ok", ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)]
        elif op == "enosys":  # a seccomp filter: these system calls fail with ENOSYS
            import ctypes
            sc = ctypes.CDLL("libseccomp.so.2", use_errno=True)
            sc.seccomp_init.restype = ctypes.c_void_p
            ctx = sc.seccomp_init(0x7fff0000)  # SCMP_ACT_ALLOW
            for name in cmd["names"]:
                nr = sc.seccomp_syscall_resolve_name(name.encode())
                if sc.seccomp_rule_add(ctypes.c_void_p(ctx), 0x00050000 | 38, nr, 0) < 0:  # SCMP_ACT_ERRNO(ENOSYS)
                    raise OSError("seccomp_rule_add " + name)
            if sc.seccomp_load(ctypes.c_void_p(ctx)) < 0:
                raise OSError("seccomp_load")
            res = ["ok", None]
        elif op == "py":  # run CODE with db, the extension's path and st (kept between calls); it sets out
            g = {"db": db, "ext": ext_path, "out": None, "st": st}
            exec(cmd["code"], g)
            res = ["ok", g["out"]]
        elif op == "exit":
            print(json.dumps({"res": ["ok", None], "secs": 0.0}), flush=True)
            sys.exit(0)
        else:
            res = ["err", "unknown op " + op]
    except sqlite3.Error as e:
        res = ["err", str(e)]
    print(json.dumps({"res": res, "secs": time.monotonic() - t0}), flush=True)
'''


def child_env():
    """The caller's environment (LD_PRELOAD of a sanitizer build), not its python's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["HOME"] = "/"
    return env


class Driver:
    """A child /usr/bin/python3 that runs DRIVER, optionally under PREFIX
    (setpriv ...); loads EXT (default lib.EXT) unless load=False."""

    def __init__(self, prefix=(), ext=None, load=True):
        self.p = lib.start([*prefix, PY, "-c", DRIVER], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd="/", env=child_env())
        self.pid = self.p.pid
        self.ext = ext or lib.EXT
        if load:
            r = self.call("load", ext=self.ext)
            assert r["res"][0] == "ok", f"loading {self.ext}: {r['res'][1]}"

    def send(self, op, **kw):
        self.p.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.p.stdin.flush()

    def recv(self, timeout):
        """The next answer, or None when there is none within TIMEOUT s."""
        ready, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.p.stdout.readline()
        if not line:
            rc = self.p.wait(5)
            how = f"signal {-rc}" if rc < 0 else f"exit {rc}"
            raise AssertionError(f"the query process died ({how}): "
                                 f"{self.p.stderr.read().strip()[-800:]}")
        return json.loads(line)

    def call(self, op, timeout=20, **kw):
        self.send(op, **kw)
        r = self.recv(timeout)
        if r is None:
            raise AssertionError(f"{op} {kw.get('sql', '')} {kw.get('args', '')}: no answer in "
                                 f"{timeout} s (it hangs)")
        return r

    def sql(self, sql, *args, timeout=20):
        """{"res": ["ok", rows] | ["err", message], "secs": time in the child}."""
        return self.call("sql", sql=sql, args=list(args), timeout=timeout)

    def rows(self, sql, *args, timeout=20):
        r = self.sql(sql, *args, timeout=timeout)
        assert r["res"][0] == "ok", f"{sql} {args}: {r['res'][1]}"
        return [tuple(x) for x in r["res"][1]]

    def tids(self):
        return set(tasks(self.pid))

    def exit(self, timeout=10):
        """Ask the child to exit; its exit status."""
        self.call("exit", timeout=timeout)
        return self.p.wait(timeout)


def deadline(d, secs=None):
    """SELECT ps_deadline() / ps_deadline(SECS) in driver D: (ok, value or message)."""
    r = d.sql("SELECT ps_deadline()") if secs is None else d.sql("SELECT ps_deadline(?)", secs)
    return (True, r["res"][1][0][0]) if r["res"][0] == "ok" else (False, r["res"][1])


# ---------------------------------------------------------------------------
# Processes, threads and /proc as the host sees them


def tasks(pid):
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []






def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().rstrip("\n")
    except OSError:
        return None




def nspid(pid):
    return [int(x) for x in lib.proc_status(pid)["NSpid"].split()]


def ns_ino(pid, ns="pid"):
    return os.stat(f"/proc/{pid}/ns/{ns}").st_ino




def pidns_members(ino):
    """{host pid: NSpid list} of every process whose ns/pid inode is INO."""
    out = {}
    for n in os.listdir("/proc"):
        if n.isdigit():
            try:
                if os.stat(f"/proc/{n}/ns/pid").st_ino == ino:
                    out[int(n)] = nspid(n)
            except (OSError, KeyError):
                pass
    return out


def thread_waits(pid):
    """{tid: (state, wchan)} of PID's threads."""
    out = {}
    for t in tasks(pid):
        try:
            with open(f"/proc/{pid}/task/{t}/stat", "rb") as f:
                st = f.read().rsplit(b")", 1)[1].split()[0].decode()
            with open(f"/proc/{pid}/task/{t}/wchan") as f:
                wchan = f.read()
        except OSError:
            continue
        out[t] = (st, wchan)
    return out


def helpers(pid):
    """The extension's helper processes working for program PID (a Driver),
    and its children: the helper is nobody's child of the program's (an
    orphan, adopted by init: src/lend.c), and names its program in its
    argv ("ps-lend PID")."""
    out = set()
    for t in tasks(pid):
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out |= {int(k) for k in f.read().split()}
        except OSError:
            pass
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv[:2] == [b"ps-lend", str(pid).encode()]:
            out.add(int(e))
    return out


def state(pid):
    try:
        return lib.proc_stat(pid)[1][0]
    except (OSError, IndexError):
        return None


def fuse_waiters(pid):
    """The helpers of PID waiting on a FUSE request (in request_wait_answer,
    or state D), with their states."""
    out = {}
    for k in helpers(pid):
        for t, (st, wchan) in thread_waits(k).items():
            if "fuse" in wchan or "request_wait_answer" in wchan or st == "D":
                out[k] = st
    return out


def query_watching(d, sql, *args, timeout):
    """Run SQL in driver D and, until it answers, look for its helpers
    waiting on FUSE: (answer, {helper pid: state} seen)."""
    d.send("sql", sql=sql, args=list(args))
    seen, t0 = {}, time.monotonic()
    while True:
        r = d.recv(0.01)
        if r is not None:
            return r, seen
        seen.update(fuse_waiters(d.pid))
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{sql} {args}: no answer in {timeout} s (it hangs)")


def wait_child(argv_pid, pred, what, timeout=10):
    """The first descendant of ARGV_PID for which pred(pid) holds."""
    return lib.wait_for(lambda: next((k for k in lib.descendants(argv_pid) if pred(k)), None),
                        timeout=timeout, what=what)


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


def kill(p):
    """SIGKILL a Popen and reap it (bounded)."""
    if p.poll() is None:
        try:
            p.kill()
        except ProcessLookupError:
            pass
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{p.args[:3]} (pid {p.pid}) did not die of SIGKILL in 10 s")


def host_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def ext_so():
    return lib.EXT if lib.EXT.endswith(".so") else lib.EXT + ".so"


def public_ext(tmp):
    """A copy of the extension that any user can load, in TMP: its path without .so."""
    os.chmod(tmp, 0o755)
    dst = os.path.join(tmp, "ps.so")
    shutil.copyfile(ext_so(), dst)
    os.chmod(dst, 0o755)
    return os.path.join(tmp, "ps")


# setpriv prefixes: an unprivileged user without any capability
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
          "--inh-caps=-all", "--bounding-set=-all"]


def need_nobody():
    require_root()
    try:
        pwd.getpwuid(65534)
    except KeyError:
        raise Skip("no user 65534 on this host")


# ---------------------------------------------------------------------------
# Changing a container from inside its mount namespace: a python that
# setns()es (single-threaded) after opening what it needs from the host.

NSPY = r'''
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
X, ROOT_UID = int(sys.argv[1]), int(sys.argv[2])
MS_BIND = 4096

def check(r, what):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")
    return r

def tree(path):
    """A detached copy of the host's PATH (open_tree OPEN_TREE_CLONE|AT_RECURSIVE):
    take it before enter(), attach() it inside after."""
    return check(libc.syscall(428, -100, path.encode(), 1 | 0o2000000 | 0x8000), f"open_tree {path}")

def attach(fd, target, rdonly=False):
    if rdonly:  # mount_setattr MOUNT_ATTR_RDONLY, AT_EMPTY_PATH|AT_RECURSIVE
        attr = (ctypes.c_uint64 * 4)(1, 0, 0, 0)
        check(libc.syscall(442, fd, b"", 0x1000 | 0x8000, attr, 32), "mount_setattr rdonly")
    check(libc.syscall(429, fd, b"", -100, target.encode(), 4), f"move_mount onto {target}")

def enter():
    fd = os.open(f"/proc/{X}/ns/mnt", os.O_RDONLY)
    check(libc.setns(fd, 0x00020000), "setns(CLONE_NEWNS)")
    os.close(fd)
    os.chdir("/")

class as_root:
    """Create files as the container's root (host root is not mapped there)."""
    def __enter__(self):
        libc.setfsgid(ROOT_UID)
        libc.setfsuid(ROOT_UID)
    def __exit__(self, *a):
        libc.setfsuid(0)
        libc.setfsgid(0)

def mknod_as_root(path, mode, dev):
    """mknod as the container's root: setfsuid drops CAP_MKNOD from the
    effective set, so raise it again (capset) for the call."""
    with as_root():
        hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        check(libc.capget(hdr, data), "capget")
        data[0] |= 1 << 27  # CAP_MKNOD, effective
        check(libc.capset(hdr, data), "capset")
        os.mknod(path, mode, dev)

def mount(src, target, fstype=None, flags=0, data=None):
    enc = lambda s: s.encode() if s is not None else None
    check(libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
          f"mount {src} on {target}")

def umount(target):
    check(libc.umount2(target.encode(), 2), f"umount {target}")  # MNT_DETACH

def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
'''


def root_uid(c):
    return int(c.info["uid_map"].split()[1]) if c.info.get("userns") else 0


def in_ns(c, script):
    """Run SCRIPT (python after NSPY; it calls enter() itself) for container C."""
    p = subprocess.run([PY, "-c", NSPY + script, str(c.init), str(root_uid(c))],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, f"changing the container failed: {p.stderr.strip()[-1500:]}"


def give_binaries(c):
    """Bind the host's /usr read-only into container C, with the merged-/usr
    links, so that sh, unshare and sleep run inside it."""
    in_ns(c, '''
fd = tree("/usr")
enter()
with as_root():
    os.mkdir("/usr")
    for d in ("bin", "sbin", "lib", "lib64"):
        os.symlink("usr/" + d, "/" + d)
attach(fd, "/usr", rdonly=True)
''')


def enter_ctr(c, uid, *argv):
    """Run ARGV in container C's user and PID namespaces as container uid
    UID (the host's files: no mount namespace); its host pid once it runs."""
    p = lib.start(["nsenter", "-t", str(c.init), "-U", "-p", "-S", str(uid), "-G", str(uid),
                   "--", *argv], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    want = os.path.basename(argv[0])[:15]
    return wait_child(p.pid, lambda k: comm(k) == want, f"{argv[0]} as uid {uid} in the container")


def ctr_uid(c, hpid):
    """The effective uid of host process HPID as container C sees it."""
    base = int(c.info["uid_map"].split()[1]) if c.info.get("userns") else 0
    return int(lib.proc_status(hpid)["Uid"].split()[1]) - base


# ---------------------------------------------------------------------------
# FUSE that never answers


def hang_fuse(x, path, read=False):
    """build/helpers/fusehang on PATH in the mount namespace of pid X: its
    Popen. read: the daemon reads requests (and answers none), so that no
    signal ends a wait on one."""
    p, _ = start_ready([lib.helper("fusehang"), *(["--read"] if read else []), str(x), path])
    return p


def prove_hangs(path, what):
    """Positive control: stat(PATH) from a fresh process must block."""
    p = subprocess.Popen(["stat", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        p.wait(1.0)
    except subprocess.TimeoutExpired:
        kill(p)
        return
    raise AssertionError(f"{what}: stat {path} did not block (exit {p.returncode}: "
                         f"{p.stderr.read().decode().strip()}): the FUSE mount is not in place")


def slack_for(base):
    """How far past the deadline a query may end: the scan itself (3 x the
    same query's time without FUSE, to absorb a busy 2-core machine) plus
    0.25 s for starting and killing a helper process and for scheduling."""
    return 0.25 + 3 * base


# ---------------------------------------------------------------------------
# 1. Overmounts in the container's own /proc


def test_overmounts_under_the_container_proc_change_no_value():
    with container() as c:
        cw, cs, cn = c.cpid("worker"), c.cpid("someone"), c.cpid("nocaps")
        in_ns(c, f'''
enter()
with as_root():
    os.makedirs("/hx/ns")
    for n in ("pid", "mnt", "net", "user", "uts", "ipc", "cgroup"):
        os.symlink(n + ":[1]", "/hx/ns/" + n)
    write("/hx/status", "Name:\\thx-fake\\nUid:\\t4242\\t4242\\t4242\\t4242\\n"
                        "Gid:\\t4242\\t4242\\t4242\\t4242\\nNSpid:\\t77\\n")
    write("/hx/cmdline", "hx-fake\\0args\\0")
# the worker's whole /proc directory: a tmpfs of fakes
mount("hx-fake", "/proc/{cw}", "tmpfs", 0, "mode=0755,size=64k")
os.mkdir("/proc/{cw}/ns")
write("/proc/{cw}/stat", "{cw} (hx-fake) R 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 1000 10 ")
write("/proc/{cw}/status", open("/hx/status").read())
write("/proc/{cw}/cmdline", "hx-fake\\0args\\0")
for n in ("pid", "mnt", "net"):
    os.symlink(n + ":[1]", "/proc/{cw}/ns/" + n)
# someone's ns directory: symlinks; nocaps' cmdline and status: files
mount("/hx/ns", "/proc/{cs}/ns", None, MS_BIND)
mount("/hx/cmdline", "/proc/{cn}/cmdline", None, MS_BIND)
mount("/hx/status", "/proc/{cn}/status", None, MS_BIND)
''')
        # The attack is in place: the container's /proc shows the fakes.
        croot = f"/proc/{c.init}/root/proc"
        with open(f"{croot}/{cw}/stat") as f:
            assert "hx-fake" in f.read(), "the tmpfs over the container's /proc/N is not there"
        assert os.readlink(f"{croot}/{cs}/ns/net") == "net:[1]", "the ns overmount is not there"
        with open(f"{croot}/{cn}/cmdline", "rb") as f:
            assert f.read().startswith(b"hx-fake"), "the cmdline overmount is not there"

        d = Driver()
        cols = ["pid", "comm", "hpid", "args", "user", "uid", "ns_pid", "ns_mnt", "ns_net"]
        got = {r[0]: dict(zip(cols, r)) for r in d.rows(f"SELECT {', '.join(cols)} FROM ps(?)", c.init)}
        names = {0: "root", 1000: "someone", 65534: "nobody"}
        problems = []
        for role, p in c.procs.items():
            h = p["hpid"]
            uid = ctr_uid(c, h)
            want = {"pid": p["pid"], "comm": comm(h), "hpid": h, "args": lib.cmdline(h),
                    "user": names.get(uid, str(uid)), "uid": uid, "ns_pid": ns_ino(h, "pid"),
                    "ns_mnt": ns_ino(h, "mnt"), "ns_net": ns_ino(h, "net")}
            r = got.get(p["pid"])
            if r is None:
                problems.append(f"{role} (container pid {p['pid']}, host pid {h}) is missing")
                continue
            diff = {k: (r[k], v) for k, v in want.items() if r[k] != v}
            if diff:
                problems.append(f"{role} (container pid {p['pid']}): got/want {diff}")
        extra = set(got) - {p["pid"] for p in c.procs.values()}
        if extra:
            problems.append(f"rows that are no container process: {[got[p] for p in extra]}")
        assert not problems, "with mounts over the container's /proc entries:\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------------------
# 2. A nested PID namespace without a mount namespace of its own


def test_every_member_of_a_nested_pid_namespace_lists_it():
    with container() as c:
        give_binaries(c)
        script = "for i in $(seq 30); do sleep 1000 & done; wait"
        # as the container's root (-U): a PID namespace below the container's
        # must belong to the container's user namespace
        u = lib.start(["nsenter", "-t", str(c.init), "-U", "-p", "-m", "--",
                       "unshare", "-p", "-f", "sh", "-c", script],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # nsenter -> unshare (the container's namespace) -> sh (pid 1 inside) -> 30 sleeps
        try:
            inner_init = wait_child(u.pid, lambda k: comm(k) == "sh", "the inner sh")
        except AssertionError:
            kill(u)
            raise AssertionError(f"the inner namespace did not start: {u.stderr.read().decode().strip()}")
        ino = ns_ino(inner_init)
        assert ino != ns_ino(c.init), "sh is not in a namespace of its own"
        members = lib.wait_for(lambda: (lambda m: m if len(m) == 31 else None)(pidns_members(ino)),
                               what="31 processes in the inner PID namespace")
        level = len(nspid(inner_init)) - 1
        assert level == 2 and all(len(v) == level + 1 for v in members.values()), members
        want = {v[level]: h for h, v in members.items()}
        assert want[1] == inner_init

        # Another member, chosen so that the container's /proc/<its inner pid>
        # is also an inner member: a /proc that is "the namespace's own" by
        # the look of one pid, but is not.
        outer = {v[level - 1] for v in members.values()}
        other = max((h for h, v in members.items() if v[level] in outer and v[level] != 1),
                    default=max(h for h in members if h != inner_init))
        d = Driver()
        problems = []
        for x, what in ((inner_init, "the inner init"), (other, f"inner pid {members[other][level]}")):
            rows = d.rows("SELECT pid, hpid, comm FROM ps(?)", x)
            now = pidns_members(ino)
            assert now == members, f"the inner namespace changed: {members} -> {now}"
            got = {r[0]: r[1] for r in rows}
            if len(got) != len(rows) or got != want:
                missing = {p: h for p, h in want.items() if got.get(p) != h}
                extra = {p: h for p, h in got.items() if want.get(p) != h}
                problems.append(f"ps({x}) ({what}): {len(rows)} rows; wrong or missing "
                                f"{sorted(missing.items())[:6]}, not members {sorted(extra.items())[:6]}")
            comms = {r[2] for r in rows}
            if comms - {"sh", "sleep"}:
                problems.append(f"ps({x}): processes from outside: {comms - {'sh', 'sleep'}}")
        assert not problems, "the inner namespace (31 members, host view):\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------------------
# 3. Churn through one container pid

CHURN_SECONDS = 2
KID = re.compile(r"cc([0-9a-f]{8})$")


def test_hpid_stays_exact_while_children_reuse_one_container_pid():
    require_root()
    tmp = tempfile.mkdtemp(prefix="hx-trust-churn-")
    try:
        with container() as c:
            log = os.path.join(tmp, "ctr.log")
            env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}  # the churner is not under test
            cp, _ = start_ready(["nsenter", "-t", str(c.init), "-p", "--", lib.helper("churn"),
                                 "--seconds", str(CHURN_SECONDS), "--reuse", "100", "--tag", "cc",
                                 "--log", log, "S=00000000"], env=env)
            db = lib.connect()
            scans, rows, errors = 0, [], []
            end = time.monotonic() + CHURN_SECONDS + 2
            while cp.poll() is None and time.monotonic() < end:
                try:
                    rows += [(scans, *r) for r in
                             db.execute("SELECT pid, hpid, comm FROM ps(?)", (c.init,)).fetchall()]
                except sqlite3.Error as e:
                    errors.append(f"scan {scans}: {e}")
                scans += 1
            try:
                cp.stdin.close()
                cp.wait(10)
            except subprocess.TimeoutExpired:
                raise AssertionError("the churner did not stop")
        assert not errors, f"scans failed: {errors[:5]}"
        kids, parent = {}, None
        with open(log) as f:
            for ln in f:
                kind, serial, pid, hpid = ln.split()
                if kind == "P":
                    parent = (int(pid), int(hpid))
                else:
                    kids[serial] = (int(pid), int(hpid))
        want = {pid: (comm_, hpid) for pid, (_, _, comm_, hpid) in c.expected().items()}
        problems, kid_rows, serials_at = [], 0, {}
        for scan, pid, hpid, cm in rows:
            if hpid is None:
                problems.append(f"scan {scan}: pid {pid} ({cm}) has no hpid")
                continue
            if pid == parent[0]:
                if hpid != parent[1]:
                    problems.append(f"scan {scan}: the churner (pid {pid}) has hpid {hpid}, not {parent[1]}")
                continue
            m = KID.match(cm or "")
            if pid in want and not m:
                if (cm, hpid) != want[pid]:
                    problems.append(f"scan {scan}: pid {pid} is {cm}/{hpid}, want {want[pid]}")
                continue
            if not m or m.group(1) not in kids:
                problems.append(f"scan {scan}: pid {pid} hpid {hpid} comm {cm!r} is no known process")
                continue
            kid_rows += 1
            lpid, lhpid = kids[m.group(1)]
            serials_at.setdefault(pid, set()).add(m.group(1))
            if (pid, hpid) != (lpid, lhpid):
                problems.append(f"scan {scan}: child {m.group(1)} as pid {pid} hpid {hpid}; "
                                f"it was pid {lpid}, host pid {lhpid}")
        assert not problems, f"{len(problems)} wrong rows in {scans} scans:\n  " + "\n  ".join(problems[:10])
        reused = max((len(s) for s in serials_at.values()), default=0)
        assert kid_rows >= 30 and reused >= 2, \
            (f"too little churn to check anything: {kid_rows} child rows in {scans} scans, "
             f"at most {reused} children seen at one container pid ({len(kids)} children started)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# 4. FUSE that never answers

Q = 'SELECT pid, hpid, uid, user, "group" FROM ps(?)'


def check_numeric_rows(c, rows, what):
    """Rows of ps(X) for container C must be complete, with numeric names."""
    want = {p["pid"]: p["hpid"] for p in c.procs.values()}
    got = {r[0]: r[1] for r in rows}
    problems = []
    if got != want:
        problems.append(f"{what}: rows {sorted(got.items())}, want {sorted(want.items())}")
    for pid, hpid, uid, user, group in rows:
        if user != str(uid) or group != str(uid):  # container gid = uid for each of them
            problems.append(f"{what}: pid {pid} uid {uid}: user {user!r} group {group!r}, want {str(uid)!r}")
    return problems


def test_lending_leaves_the_program_as_it_was():
    # no FUSE: names lent in time, and nothing of the program changed
    with container() as c:
        d = Driver()
        before = d.tids()
        assert d.call("dumpable")["res"] == ["ok", 1], "the program is not dumpable to start with"
        for _ in range(3):
            rows = d.rows(Q, c.init)
        problems = []
        named = {row[3] for row in rows}
        if not {"root", "someone"} <= named:
            problems.append(f"names {named}, want root and someone (nothing lent, nothing tested)")
        r = d.call("dumpable")
        if r["res"] != ["ok", 1]:
            # a helper thread's setfsuid() made the whole program non-dumpable
            problems.append(f"the program is no longer dumpable after lending: {r['res']}")
        if d.tids() != before:
            problems.append(f"threads added to the program: {d.tids() - before}")
        # One helper may stay for the next query: a process of its own, not
        # the program's child, in no address space of the program's
        left = helpers(d.pid)
        if len(left) > 1:
            problems.append(f"helpers left: { {k: state(k) for k in left} }, want one kept at most")
        for k in left:
            try:
                ppid = int(lib.proc_stat(k)[1][1])
            except (OSError, IndexError):
                continue
            if ppid == d.pid or shares_vm(d.pid, k):
                problems.append(f"the kept helper {k} is the program's child ({ppid}) or shares its memory")
        for op, want in (("sigchld", 0), ("wait", "ECHILD")):
            r = d.call(op)
            if r["res"] != ["ok", want]:
                problems.append(f"{op}: {r['res']}, want {want!r}")
        assert not problems, "\n  ".join(problems)
        assert d.exit() == 0
        # the kept helper dies with the program
        lib.wait_for(lambda: all(state(k) in (None, "Z") for k in left), timeout=5,
                     what=f"the kept helpers {left} to die with the program")


def test_lending_leaves_a_program_that_is_not_dumpable_so():
    # The helper's setfsuid() resets the dumpable flag of the address space
    # it shares with the program to fs.suid_dumpable: with that at 1, a
    # program that made itself not dumpable (as programs holding secrets
    # do) would become dumpable unless the helper sets the flag back
    path = "/proc/sys/fs/suid_dumpable"
    with open(path) as f:
        old = f.read().strip()
    with container() as c:
        try:
            with open(path, "w") as f:
                f.write("1")
            d = Driver()
            assert d.call("dumpable", set=0)["res"] == ["ok", 0], "the program cannot make itself not dumpable"
            rows = d.rows(Q, c.init)
            named = {row[3] for row in rows}
            assert {"root", "someone"} <= named, f"names {named}, want root and someone (nothing lent, nothing tested)"
            r = d.call("dumpable")
            assert r["res"] == ["ok", 0], f"the program is dumpable after lending (fs.suid_dumpable 1): {r['res']}"
            assert d.exit() == 0
        finally:
            with open(path, "w") as f:
                f.write(old)


def test_hung_fuse_over_etc_gives_numeric_names_within_the_deadline():
    with container() as c:
        d = Driver()
        problems = []
        ok, v = deadline(d)
        if not ok or v != DEFAULT_DEADLINE:
            problems.append(f"SELECT ps_deadline(): {v!r}, want {DEFAULT_DEADLINE}")
        ok, v = deadline(d, DEADLINE)
        if not ok or v != DEFAULT_DEADLINE:
            problems.append(f"SELECT ps_deadline({DEADLINE}): {v!r}, want the previous value {DEFAULT_DEADLINE}")
        ok, v = deadline(d)
        if not ok or v != DEADLINE:
            problems.append(f"SELECT ps_deadline() after setting it: {v!r}, want {DEADLINE}")

        base = 0.0
        for _ in range(3):
            r = d.sql(Q, c.init)
            assert r["res"][0] == "ok", f"ps({c.init}) without FUSE: {r['res'][1]}"
            base = max(base, r["secs"])
        named = {row[3] for row in r["res"][1]}
        assert {"root", "someone"} <= named, f"without FUSE the names are {named} (positive control)"
        slack = slack_for(base)
        before = d.tids()

        fuse = hang_fuse(c.init, "/etc")
        try:
            prove_hangs(f"/proc/{c.init}/root/etc/passwd", "FUSE over the container's /etc")
            r, seen = query_watching(d, Q, c.init, timeout=DEADLINE + slack + 10)
            t_first = time.monotonic()
            secs = r["secs"]
            print(f"  with FUSE over /etc: {secs:.3f} s (deadline {DEADLINE}, slack {slack:.3f})")
            if r["res"][0] != "ok":
                problems.append(f"ps({c.init}) with FUSE over /etc: error {r['res'][1]!r}")
            else:
                if secs > DEADLINE + slack:
                    problems.append(f"ps({c.init}) took {secs:.3f} s, more than the deadline {DEADLINE} "
                                    f"+ slack {slack:.3f} (3 x {base:.3f} s without FUSE + 0.25)")
                problems += check_numeric_rows(c, r["res"][1], "first query")
            if not seen:
                problems.append("no helper of the query process was seen waiting on FUSE, so /etc was "
                                "never touched and nothing was tested")
            if d.tids() != before:
                problems.append(f"the query left threads in the program: {d.tids() - before}")
            r = d.call("setxid", timeout=5)
            if r["res"][0] != "ok":
                problems.append(f"setresuid() in the program after the query: {r['res']}")

            # Again, on the same namespace, within ten deadlines: with a
            # deadline of 2 s, it must not wait for a new helper again.
            ok, v = deadline(d, 2.0)
            for x, who in ((c.init, "init"), (c.hpid("worker"), "worker")):
                r = d.sql(Q, x, timeout=20)
                if r["res"][0] != "ok":
                    problems.append(f"ps({x}) ({who}) again: error {r['res'][1]!r}")
                    continue
                if r["secs"] >= 1.0:
                    problems.append(f"ps({x}) ({who}) again within ten deadlines took {r['secs']:.3f} s "
                                    f"with a deadline of 2 s: it waited for a new helper")
                problems += check_numeric_rows(c, r["res"][1], f"ps({x}) ({who}) again")
            # The killed helper could die: the last call reaped it
            left = {k: state(k) for k in helpers(d.pid)}
            if left:
                problems.append(f"helpers left after three queries on one namespace: {left}")
            if d.tids() != before:
                problems.append(f"three queries left threads in the program: {d.tids() - before}")

            # Ten deadlines (0.5 s) after the first: the namespace is asked again
            deadline(d, DEADLINE)
            time.sleep(max(0.0, t_first + 10 * DEADLINE + 0.2 - time.monotonic()))
            r, seen = query_watching(d, Q, c.init, timeout=DEADLINE + slack + 10)
            if r["res"][0] != "ok" or not seen or r["secs"] < DEADLINE * 0.9:
                problems.append(f"ten deadlines later, ps({c.init}) did not ask the container again: "
                                f"{r['res'][0]}, {r['secs']:.3f} s, helpers waiting on FUSE: {seen}")
            r = d.call("sigchld")
            if r["res"] != ["ok", 0]:
                problems.append(f"the program got SIGCHLD from the extension's helpers: {r['res']}")
            # the helper's credentials are its own: a thread's setfsuid()
            # made the whole program non-dumpable (no core dumps, /proc/PID
            # owned by root)
            r = d.call("dumpable")
            if r["res"] != ["ok", 1]:
                problems.append(f"the program is no longer dumpable after lending: {r['res']}")
        finally:
            kill(fuse)
        assert not problems, "FUSE over /etc:\n  " + "\n  ".join(problems)
        assert d.exit() == 0


def status_of(pid):
    try:
        return lib.proc_status(pid)
    except (OSError, KeyError):
        return {}


def fd_files(pid):
    """{(st_dev, st_ino)} of the files PID's descriptors hold."""
    out = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for n in names:
        try:
            s = os.stat(f"/proc/{pid}/fd/{n}")
            out.add((s.st_dev, s.st_ino))
        except OSError:
            pass
    return out


KCMP_NR = {"x86_64": 312, "aarch64": 272}.get(os.uname().machine)


def shares_vm(a, b):
    """kcmp(2) KCMP_VM: do processes a and b share one address space?
    None where this architecture has no inline clone3 in src/rawsys.h (the
    helper is then a copy of the caller)."""
    if KCMP_NR is None:
        return None
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    kcmp_vm = 1
    r = libc.syscall(ctypes.c_long(KCMP_NR), ctypes.c_long(a), ctypes.c_long(b), ctypes.c_long(kcmp_vm),
                     ctypes.c_long(0), ctypes.c_long(0))
    assert r >= 0, f"kcmp({a}, {b}, KCMP_VM): {os.strerror(ctypes.get_errno())}"
    return r == 0


def test_helper_stuck_where_no_signal_reaches_holds_no_thread_file_or_privilege():
    with container() as c:
        d = Driver()
        deadline(d, DEADLINE)
        held = fd_files(d.pid)  # the program's own, before the extension started any helper
        r = d.sql(Q, c.init)
        assert r["res"][0] == "ok", f"ps({c.init}) without FUSE: {r['res'][1]}"
        before = d.tids()
        fuse = hang_fuse(c.init, "/etc", read=True)
        problems = []
        try:
            # (the control is the helper found in state D below: a stat(1)
            # here would hang as unkillably)
            r = d.sql(Q, c.init, timeout=DEADLINE + 10)
            assert r["res"][0] == "ok", f"ps({c.init}) with FUSE over /etc: {r['res'][1]}"
            problems += check_numeric_rows(c, r["res"][1], "with a helper stuck for good")
            # SIGKILLed at the deadline, it cannot die: a request in flight
            stuck = lib.wait_for(lambda: {k for k, s in fuse_waiters(d.pid).items() if s == "D"}, timeout=5,
                                 what=f"a helper of the query process stuck in FUSE (state D): "
                                      f"{ {k: thread_waits(k) for k in helpers(d.pid)} }")
            (h,) = stuck
            st = status_of(h)
            print(f"  stuck helper {h}: SigBlk {st.get('SigBlk')} SigCgt {st.get('SigCgt')} "
                  f"Uid {st.get('Uid')} CapPrm {st.get('CapPrm')}")
            if h in tasks(d.pid) or d.tids() != before:
                problems.append(f"the helper is a thread of the program: {h}, threads {d.tids() - before}")
            if st.get("SigPnd", "").strip("0") == "" and st.get("ShdPnd", "").strip("0") == "":
                problems.append(f"the stuck helper has no SIGKILL pending: it was never killed ({st})")
            if int(st.get("SigBlk", "0"), 16) | (1 << 8) | (1 << 18) != (1 << 64) - 1:
                problems.append(f"the helper leaves signals unblocked: SigBlk {st.get('SigBlk')}")
            if int(st.get("SigCgt", "1"), 16):
                problems.append(f"the helper has the program's signal handlers: SigCgt {st.get('SigCgt')}")
            if st.get("Uid", "").split()[3:] != ["65534"] or st.get("Gid", "").split()[3:] != ["65534"] \
                    or st.get("Groups", "x").strip():
                problems.append(f"the helper reads as uid {st.get('Uid')} gid {st.get('Gid')} "
                                f"groups {st.get('Groups')!r}, want fsuid and fsgid 65534 and no groups")
            caps = {k: st.get(k) for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")}
            if any(int(v or "1", 16) for v in caps.values()):
                problems.append(f"the helper keeps capabilities: {caps}")
            # An address space of its own: nothing of the program's memory is
            # in it, and a stuck helper pins none of it
            if shares_vm(d.pid, h):
                problems.append(f"the helper {h} shares the program's address space")
            vmrss = int((st.get("VmRSS") or "0 kB").split()[0])
            if vmrss > 4096:
                problems.append(f"the stuck helper holds {vmrss} kB resident: more than its own small program")
            common = fd_files(h) & held
            if common:
                problems.append(f"the helper holds {len(common)} of the program's open files "
                                f"(its stdin/stdout pipes among them?): {common}")

            # The program: setuid() returns, wait() sees no child, no SIGCHLD
            r = d.call("setxid", timeout=5)
            if r["res"] != ["ok", None]:
                problems.append(f"setresuid() with a helper stuck: {r['res']}")
            r = d.call("wait", timeout=5)
            if r["res"] != ["ok", "ECHILD"]:
                problems.append(f"the program's wait() saw {r['res']}, want no child (ECHILD)")
            # The same namespace gets numbers at once while it is stuck
            deadline(d, 2.0)
            r = d.sql(Q, c.init, timeout=20)
            if r["res"][0] != "ok" or r["secs"] >= 1.0:
                problems.append(f"ps({c.init}) again while its helper is stuck: {r['res'][0]}, {r['secs']:.3f} s")
            if helpers(d.pid) != {h}:
                problems.append(f"helpers after a second query: {helpers(d.pid)}, want only {h}")
            r = d.call("close")
            assert r["res"][0] == "ok", f"closing the connection: {r['res']}"
        finally:
            kill(fuse)  # the kernel aborts the connection: the helper wakes, and dies
        lib.wait_for(lambda: state(h) in ("Z", None), timeout=5, what=f"the helper {h} to die once FUSE is gone")
        if d.call("sigchld")["res"] != ["ok", 0]:
            problems.append("the helper's death sent the program SIGCHLD")
        if d.call("wait")["res"] != ["ok", "ECHILD"]:
            problems.append("the program's wait() reaped the helper")
        # Dead, it is init's to reap (an orphan: never the program's child),
        # and the next container query lends again, with no helper left over
        try:
            ppid = int(lib.proc_stat(h)[1][1])
        except (OSError, IndexError):
            ppid = None
        if ppid == d.pid:
            problems.append(f"the dead helper {h} is a child of the program")
        r = d.call("load", ext=d.ext)
        assert r["res"][0] == "ok", r
        deadline(d, DEADLINE)
        r = d.sql(Q, c.init)
        if r["res"][0] != "ok":
            problems.append(f"ps({c.init}) after FUSE died: {r['res']}")
        left = {k for k in helpers(d.pid) - {h} if state(k) not in (None, "Z")}
        if state(h) not in (None, "Z") or left:
            problems.append(f"the dead helper {h} ({state(h)}) or others are still alive: {left}")
        rc = d.p.poll()
        assert rc is None, f"the program died (exit {rc}) when the helper woke"
        assert not problems, "a helper stuck in FUSE:\n  " + "\n  ".join(problems)
        assert d.exit() == 0, "the program did not exit 0"


def free_vt():
    """A virtual console no process has as its terminal, or None."""
    used = set()
    for n in os.listdir("/proc"):
        if n.isdigit():
            try:
                used.add(int(lib.proc_stat(n)[1][4]))
            except (OSError, IndexError):
                pass
    for k in range(23, 40):
        if os.path.exists(f"/dev/tty{k}") and os.makedev(4, k) not in used:
            return k
    return None


def test_hung_fuse_over_dev_pts_and_dev_never_blocks_tty():
    with container() as c:
        vt = free_vt()
        if vt is None:
            raise Skip("no free virtual console for a non-pts terminal")
        master, slave = os.openpty()
        vtfd = os.open(f"/dev/tty{vt}", os.O_RDWR | os.O_NOCTTY)
        try:
            ptsn = int(os.ttyname(slave).rsplit("/", 1)[1])
            hp = {}
            for name, fd in (("pts", slave), ("vt", vtfd)):
                p = lib.start(["nsenter", "-t", str(c.init), "-p", "--", "setsid", "-c", "sleep", "1000"],
                              stdin=fd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                rdev = os.fstat(fd).st_rdev
                hp[name] = wait_child(p.pid, lambda k: comm(k) == "sleep" and
                                      int(lib.proc_stat(k)[1][4]) == rdev, f"sleep on the {name} terminal")
            # the container's own node for the console (what a runtime that
            # creates /dev with mknod has), and an empty /dev/pts
            in_ns(c, f'''
enter()
mknod_as_root("/dev/tty{vt}", 0o20620, os.makedev(4, {vt}))
with as_root():
    os.mkdir("/dev/pts")
''')
            want = {"pts": f"pts/{ptsn}", "vt": f"tty{vt}"}
            sql = "SELECT hpid, tty FROM ps(?)"
            d = Driver()
            deadline(d, DEADLINE)
            base, tty = 0.0, {}
            for _ in range(3):
                r = d.sql(sql, c.init)
                assert r["res"][0] == "ok", f"ps({c.init}) without FUSE: {r['res'][1]}"
                base = max(base, r["secs"])
                tty = {h: t for h, t in r["res"][1]}
            got = {k: tty.get(h) for k, h in hp.items()}
            assert got == want, f"terminal names without FUSE (positive control): {got}, want {want}"
            slack = slack_for(base)

            problems, daemons = [], []
            try:
                for path, allowed_vt in (("/dev/pts", (f"tty{vt}", "?")), ("/dev", ("?",))):
                    daemons.append(hang_fuse(c.init, path))
                    prove_hangs(f"/proc/{c.init}/root{path}/hx-x", f"FUSE over the container's {path}")
                    r = d.sql(sql, c.init, timeout=DEADLINE + slack + 10)
                    if r["res"][0] != "ok":
                        problems.append(f"FUSE over {path}: error {r['res'][1]!r}")
                        continue
                    if r["secs"] > DEADLINE + slack:
                        problems.append(f"FUSE over {path}: the query took {r['secs']:.3f} s "
                                        f"(deadline {DEADLINE} + slack {slack:.3f})")
                    tty = {h: t for h, t in r["res"][1]}
                    if tty.get(hp["pts"]) != want["pts"]:
                        problems.append(f"FUSE over {path}: pts terminal {tty.get(hp['pts'])!r}, want {want['pts']!r}")
                    if tty.get(hp["vt"]) not in allowed_vt:
                        problems.append(f"FUSE over {path}: tty{vt} shown as {tty.get(hp['vt'])!r}, "
                                        f"want one of {allowed_vt}")
                    if len(r["res"][1]) != len(c.procs) + 2:
                        problems.append(f"FUSE over {path}: {len(r['res'][1])} rows, want {len(c.procs) + 2}")
            finally:
                for f in daemons:
                    kill(f)
            assert not problems, "terminal names with FUSE over /dev/pts, then /dev:\n  " + "\n  ".join(problems)
            assert d.exit() == 0
        finally:
            for fd in (master, slave, vtfd):
                os.close(fd)


def test_sigkill_with_a_stuck_helper_leaves_no_process():
    with container() as c:
        fuse = hang_fuse(c.init, "/etc")
        problems = []
        try:
            prove_hangs(f"/proc/{c.init}/root/etc/passwd", "FUSE over the container's /etc")
            # (a) killed during a query (deadline 30 s): its helper dies with
            # it (PR_SET_PDEATHSIG); (b) killed after one (deadline 0.5 s)
            for what, secs, wait in (("during a query", 30, 0.5), ("after a query", DEADLINE, 5)):
                d = Driver()
                deadline(d, secs)  # an old build has none: it simply hangs
                r, seen = None, {}
                d.send("sql", sql=Q, args=[c.init])
                t0 = time.monotonic()
                while r is None and time.monotonic() - t0 < wait:
                    seen.update(fuse_waiters(d.pid))
                    r = d.recv(0.01)
                kids = helpers(d.pid) | set(seen)
                if not seen:
                    problems.append(f"{what}: no helper was seen waiting on FUSE (nothing tested)")
                os.kill(d.pid, signal.SIGKILL)
                t0 = time.monotonic()
                try:
                    rc = d.p.wait(5)
                except subprocess.TimeoutExpired:
                    problems.append(f"{what}: the query process did not die within 5 s of SIGKILL "
                                    f"(threads {thread_waits(d.pid)})")
                    continue
                if rc != -signal.SIGKILL or os.path.exists(f"/proc/{d.pid}"):
                    problems.append(f"{what}: exit {rc}, /proc/{d.pid} exists: {os.path.exists(f'/proc/{d.pid}')}")
                try:  # dead or a zombie (pid 1 here may not reap): not running
                    lib.wait_for(lambda: all(state(k) in ("Z", None) for k in kids), timeout=5, what="")
                except AssertionError:
                    problems.append(f"{what}: helpers still alive 5 s after the program died: "
                                    f"{ {k: state(k) for k in kids} }")
                print(f"  {what}: answered={r is not None}, helpers {sorted(kids)} in FUSE, "
                      f"gone {time.monotonic() - t0:.3f} s after SIGKILL")
        finally:
            kill(fuse)
        assert not problems, "\n  ".join(problems)


def test_names_are_lent_where_clone3_is_filtered():
    # Container runtimes' default seccomp profiles long answered clone3 with
    # ENOSYS (glibc falls back to clone then): so does the extension, with a
    # helper that is a copy of the program. Without close_range (Linux 5.9)
    # the helper closes descriptors one by one.
    with container() as c:
        results = {}
        for names in ((), ("clone3",), ("close_range",), ("clone3", "clone")):
            d = Driver()
            if names:
                r = d.call("enosys", names=list(names))
                assert r["res"] == ["ok", None], f"seccomp filter {names}: {r['res']}"
            r = d.sql(Q, c.init)
            assert r["res"][0] == "ok", f"ps({c.init}) with {names} filtered: {r['res'][1]}"
            results[names] = {row[3] for row in r["res"][1]}
            assert d.exit() == 0
        print(f"  user names: {results}")
        assert {"root", "someone"} <= results[()], f"names without a filter: {results[()]} (positive control)"
        assert results[("clone3",)] == results[()], f"with clone3 filtered, names {results[('clone3',)]}"
        # before Linux 5.9 the helper closes the program's descriptors one by one
        assert results[("close_range",)] == results[()], f"with close_range filtered, names {results[('close_range',)]}"
        # no helper at all: numbers, and the query still answers (control:
        # the filter does reach the extension)
        assert not results[("clone3", "clone")] & {"root", "someone"}, results


# ---------------------------------------------------------------------------
# 5. Links, devices and FIFOs at /etc/passwd

IN_ACCESS, IN_OPEN = 0x1, 0x20


class Watch:
    """inotify IN_OPEN|IN_ACCESS on the inode at PATH (from the host)."""

    def __init__(self, path):
        import ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.path = path
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, "inotify_init1 failed"
        wd = self.libc.inotify_add_watch(self.fd, path.encode(), IN_OPEN | IN_ACCESS)
        if wd < 0:
            os.close(self.fd)
            raise AssertionError(f"inotify_add_watch {path}: {os.strerror(ctypes.get_errno())}")

    def events(self):
        out = []
        while select.select([self.fd], [], [], 0.05)[0]:
            b = os.read(self.fd, 4096)
            i = 0
            while i < len(b):
                _, mask, _, ln = struct.unpack_from("iIII", b, i)
                out.append({IN_OPEN: "IN_OPEN", IN_ACCESS: "IN_ACCESS"}.get(mask & 0x21, hex(mask)))
                i += 16 + ln
        return out

    def control(self, path):
        """Positive control: an O_PATH open of PATH makes no event, a plain
        (non-blocking) open makes IN_OPEN."""
        fd = os.open(path, os.O_PATH)
        os.close(fd)
        ev = self.events()
        assert ev == [], f"O_PATH open of {path} gave {ev}: inotify cannot tell the opens apart here"
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        os.close(fd)
        ev = self.events()
        assert "IN_OPEN" in ev, f"a plain open of {path} gave {ev}, not IN_OPEN: the watch sees nothing"

    def close(self):
        os.close(self.fd)


def test_kmsg_procfs_device_and_fifo_at_etc_passwd_are_never_opened():
    require_root()
    tmp = tempfile.mkdtemp(prefix="hx-trust-dev-")
    try:
        node = os.path.join(tmp, "hx-null")
        os.mknod(node, stat.S_IFCHR | 0o644, os.makedev(1, 3))
        with container() as c:
            croot = f"/proc/{c.init}/root"
            traps = [
                ("a symlink to /proc/kmsg", f"{croot}/proc/kmsg", f"{croot}/proc/kmsg", '''
enter()
with as_root():
    os.unlink("/etc/passwd"); os.symlink("/proc/kmsg", "/etc/passwd")
'''),
                ("a bind mount of a host device node (1:3)", node, f"{croot}/etc/passwd", f'''
fd = tree({node!r})
enter()
with as_root():
    os.unlink("/etc/passwd"); write("/etc/passwd", "")
attach(fd, "/etc/passwd")
'''),
                ("a FIFO", f"{croot}/etc/passwd", f"{croot}/etc/passwd", '''
enter()
umount("/etc/passwd")
with as_root():
    os.unlink("/etc/passwd"); os.mkfifo("/etc/passwd", 0o644)
'''),
                # readable by anyone: only the file system type can refuse it
                ("a symlink to /proc/version", f"{croot}/proc/version", f"{croot}/proc/version", '''
enter()
with as_root():
    os.unlink("/etc/passwd"); os.symlink("/proc/version", "/etc/passwd")
'''),
            ]
            problems = []
            for what, watched, via, script in traps:
                in_ns(c, script)
                w = Watch(watched)
                try:
                    w.control(via)
                    d = Driver()
                    r = d.sql('SELECT pid, uid, user, "group" FROM ps(?)', c.init, timeout=20)
                    ev = w.events()
                    d.exit()
                finally:
                    w.close()
                if ev:
                    problems.append(f"/etc/passwd as {what}: the query caused {ev} on {watched}")
                if r["res"][0] != "ok":
                    problems.append(f"/etc/passwd as {what}: error {r['res'][1]!r} (want numeric names)")
                    continue
                rows = r["res"][1]
                if len(rows) != len(c.procs):
                    problems.append(f"/etc/passwd as {what}: {len(rows)} rows, want {len(c.procs)}")
                bad = [row for row in rows if row[2] != str(row[1])]
                if bad:
                    problems.append(f"/etc/passwd as {what}: users not numeric: {bad}")
                # /etc/group is untouched: its names still come through
                if not any(row[1] == 0 and row[3] == "root" for row in rows):
                    problems.append(f"/etc/passwd as {what}: /etc/group gave no names either: {rows}")
            assert not problems, "\n  ".join(problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_host_file_the_container_cannot_read_is_not_lent():
    # A host file bind-mounted into the container, readable by host root
    # only, with /etc/passwd a symlink to it: the helper reads as an
    # unprivileged fsuid, so it lends nothing; made readable by all, the
    # same file is lent (the positive control).
    require_root()
    tmp = tempfile.mkdtemp(prefix="hx-trust-secret-")
    try:
        secret = os.path.join(tmp, "secret")
        with open(secret, "w") as f:
            f.write("hx-secret:x:0:0::/:/bin/sh\nhx-secret:x:1000:1000::/:/bin/sh\n")
        with container() as c:
            in_ns(c, f'''
fd = tree({secret!r})
enter()
with as_root():
    write("/hx-secret", "")
    os.unlink("/etc/passwd"); os.symlink("/hx-secret", "/etc/passwd")
attach(fd, "/hx-secret")
''')
            got = {}
            for mode in (0o600, 0o644):
                os.chmod(secret, mode)
                d = Driver()
                got[mode] = {r[0]: r[1] for r in d.rows("SELECT uid, user FROM ps(?)", c.init)}
                d.exit()
            assert got[0o644].get(0) == "hx-secret", \
                f"positive control: the same file readable by all lends {got[0o644]}, want uid 0 'hx-secret'"
            assert got[0o600] == {0: "0", 1000: "1000"}, \
                f"a root-only host file behind /etc/passwd lent names: {got[0o600]}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# 6. A bind-mounted /etc/passwd


def test_bind_mounted_etc_passwd_still_names_users():
    require_root()
    tmp = tempfile.mkdtemp(prefix="hx-trust-bind-")
    try:
        path = os.path.join(tmp, "passwd")
        text = ("root:x:0:0:root:/root:/bin/sh\n"
                "someone-b:x:1000:1000::/home/someone:/bin/sh\n"
                "hx-extra:x:4242:4242::/:/bin/sh\n")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        with container() as c:
            in_ns(c, f'''
fd = tree({path!r})
enter()
attach(fd, "/etc/passwd")
''')
            with open(f"/proc/{c.init}/root/etc/passwd") as f:
                assert f.read() == text, "the bind mount is not in place"
            extra = enter_ctr(c, 4242, "sleep", "60")
            d = Driver()
            got = {r[0]: (r[1], r[2]) for r in d.rows("SELECT hpid, uid, user FROM ps(?)", c.init)}
            want = {c.init: (0, "root"), c.hpid("someone"): (1000, "someone-b"), extra: (4242, "hx-extra")}
            assert {h: got.get(h) for h in want} == want, \
                f"names from a bind-mounted /etc/passwd: {got}, want {want}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# 7. Signals


SIGSTORM_COUNTS = ("handlers", "foreign", "foreign_tkill", "mntns_other", "in_helper", "targeted", "targeted_procs",
                   "queries", "errors", "unnamed", "rows_min", "rows_max")


def sigstorm(x, seconds, *opts):
    p = subprocess.run([lib.helper("sigstorm"), lib.EXT, str(x), str(seconds), *opts],
                       capture_output=True, text=True, timeout=seconds + 30, env=child_env())
    assert p.returncode == 0, f"sigstorm {opts} exited {p.returncode}: {p.stderr.strip()[-800:]}"
    line = p.stdout.strip()
    head, _, err = line.partition(" first_error=")
    out = {k: v for k, v in (kv.split("=", 1) for kv in head.split())}
    out["first_error"] = err
    for k in SIGSTORM_COUNTS:
        out[k] = int(out[k])
    return out


def test_no_signal_handler_runs_in_an_extension_helper():
    # The extension reads a container's names in a helper process, a copy of
    # the caller that must start with every signal blocked and its handlers
    # reset: a handler of the host program must never run in it, and a
    # signal must not end it (SIGUSR1's default action) and so cost the names.
    with container() as c:
        ctl = sigstorm(c.init, 1, "--control")
        assert ctl["foreign"] > 0, f"--control: a thread of our own was not seen as foreign: {ctl}"
        ctl = sigstorm(c.init, 1, "--control-proc")
        assert ctl["in_helper"] > 0, \
            f"--control-proc: a handler run in a child process of our own was not seen: {ctl}"
        # Storms of 3 s until enough signals reached helper processes and
        # enough queries ran under them: a helper lives a fraction of a
        # millisecond per query, and a busy machine runs few queries (each
        # walks the host's /proc; CI once ran 3 in a storm).
        rounds = []
        while len(rounds) < 10 and (sum(x["targeted_procs"] for x in rounds) < 10
                                    or sum(x["queries"] for x in rounds) < 5):
            rounds.append(sigstorm(c.init, 3))
        r = {k: (min if k == "rows_min" else max if k == "rows_max" else sum)(x[k] for x in rounds)
             for k in SIGSTORM_COUNTS}
        firsts = [x for x in rounds if x["foreign"] or x["in_helper"] or x["mntns_other"] or x["errors"]] or rounds
        r.update({k: firsts[0][k] for k in ("first_foreign", "first_helper", "first_mntns", "first_error")})
        print(f"  {r['handlers']} handlers, {r['targeted_procs']} signals sent to helper processes, "
              f"{r['queries']} queries, {len(rounds)} storm(s) of 3 s")
        problems = []
        if r["handlers"] < 100 or r["targeted_procs"] < 10:
            problems.append(f"only {r['handlers']} handlers ran and {r['targeted_procs']} signals reached a "
                            f"helper process of the extension: too few to tell")
        if r["in_helper"]:
            problems.append(f"{r['in_helper']} handlers ran in a helper process of the extension "
                            f"(first: pid {r['first_helper']})")
        if r["foreign"]:
            problems.append(f"{r['foreign']} handlers ran on a thread that is not the program's "
                            f"({r['foreign_tkill']} of them sent to that thread; first: tid {r['first_foreign']})")
        if r["mntns_other"]:
            problems.append(f"{r['mntns_other']} handlers ran in another mount namespace "
                            f"({r['first_mntns']}) or could not read their own")
        if r["queries"] < 5 or r["errors"]:  # each query scans the whole host /proc: few on a big host
            problems.append(f"{r['queries']} queries, {r['errors']} errors ({r['first_error']})")
        if r["unnamed"]:
            problems.append(f"in {r['unnamed']} of {r['queries']} queries a user was not named: the container "
                            f"lent no names (a helper failed, or a signal ended it)")
        if (r["rows_min"], r["rows_max"]) != (len(c.procs), len(c.procs)):
            problems.append(f"count(*) from {r['rows_min']} to {r['rows_max']}, want {len(c.procs)}")
        assert not problems, f"SIGUSR1 storm ({r}):\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------------------
# 8. A rootless owner without capabilities


def test_rootless_owner_without_caps_lists_its_unshare_container():
    need_nobody()
    tmp = tempfile.mkdtemp(prefix="hx-trust-rootless-")
    try:
        ext = public_ext(tmp)
        u = lib.start([*NOBODY, "unshare", "-Urpf", "--mount-proc", "--kill-child", "sleep", "100"],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/")
        sl = wait_child(u.pid, lambda k: comm(k) == "sleep" and len(nspid(k)) == 2,
                        "sleep in the rootless namespace")
        d = Driver(NOBODY, ext=ext)
        st = d.call("status")["res"][1]
        caps = re.search(r"CapEff:\s*(\w+)", st).group(1)
        uids = re.search(r"Uid:\s*(.*)", st).group(1).split()
        assert int(caps, 16) == 0 and set(uids) == {"65534"}, f"the caller has uids {uids}, CapEff {caps}"
        want = [(1, "root", sl, host_name(65534))]
        r = d.sql("SELECT pid, user, hpid, huser FROM ps(?)", sl)
        got = [tuple(x) for x in r["res"][1]] if r["res"][0] == "ok" else r["res"][1]
        assert got == want, f"ps({sl}) as uid 65534 without capabilities: {got!r}, want {want}"
        assert d.exit() == 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# 9. pidns IN (NULL, 1)


def nprocs():
    return sum(1 for n in os.listdir("/proc") if n.isdigit())


def test_pidns_in_null_and_own_namespace_gives_each_process_once():
    db = lib.connect()
    me = os.getpid()
    lists = [("NULL", me)]
    try:
        if os.readlink("/proc/1/ns/pid") == os.readlink("/proc/self/ns/pid"):
            lists = [("NULL", 1), (1, "NULL"), ("NULL", me), (1, me)]
    except OSError:
        pass
    print(f"  lists: {lists}" + ("" if len(lists) > 1 else " (pid 1 is not ours to look at here)"))
    problems = []
    for a, b in lists:
        lo = nprocs()
        n, distinct = db.execute(f"SELECT count(*), count(DISTINCT pid) FROM ps WHERE pidns IN ({a}, {b})"
                                 ).fetchone()
        hi = nprocs()
        if n != distinct:
            problems.append(f"IN ({a}, {b}): {n} rows for {distinct} pids")
        slack = max(5, min(lo, hi) // 10)  # other processes come and go between the reads
        if not min(lo, hi) - slack <= distinct <= max(lo, hi) + slack:
            problems.append(f"IN ({a}, {b}): {distinct} pids, /proc has {lo} then {hi}")
    assert not problems, "\n  ".join(problems)


# ---------------------------------------------------------------------------
# 10. A zombie target


def zombie_of(p, what):
    """The zombie child of the 'true & exec sleep' shell under Popen P."""
    sl = lib.wait_for(lambda: next((k for k in [p.pid, *lib.descendants(p.pid)] if comm(k) == "sleep"), None),
                      what=f"sleep ({what})")
    return lib.wait_for(lambda: next((k for k in lib.children(sl) if lib.proc_stat(k)[1][0] == "Z"), None),
                        what=f"a zombie ({what})")


def test_zombie_target_lists_its_namespace_or_says_zombie():
    with container() as c:
        sh = ["sh", "-c", "true & exec sleep 1000"]
        # a member of the container in every sense that matters here: its
        # user namespace (ids as the container sees them) and PID namespace
        a = lib.start(["nsenter", "-t", str(c.init), "-U", "-p", "--", *sh], stdin=subprocess.DEVNULL)
        b = lib.start(["unshare", "-p", *sh], stdin=subprocess.DEVNULL)
        cases = [("a zombie in a live container", zombie_of(a, "container"), True),
                 ("the zombie init of an empty namespace", zombie_of(b, "unshare -p"), False)]
        d = Driver()
        problems = []
        for what, z, live in cases:
            ino = ns_ino(z)
            members = pidns_members(ino)
            assert z in members and (len(members) > 1) == live, f"{what}: members {members}"
            level = len(nspid(z)) - 1
            r = d.sql("SELECT pid, hpid, state, user FROM ps(?)", z)
            if r["res"][0] == "err":
                msg = r["res"][1]
                if not (msg.startswith("ps: ") and "zombie" in msg.lower() and str(z) in msg):
                    problems.append(f"ps({z}), {what}: error {msg!r}, want one naming the zombie {z}")
                continue
            rows = r["res"][1]
            got = {row[1]: row[0] for row in rows}
            want = {h: v[level] for h, v in members.items()}
            if got != want:
                problems.append(f"ps({z}), {what}: (hpid: pid) {got}, want {want}")
            zr = [row for row in rows if row[1] == z]
            if zr and zr[0][2] != "Z":
                problems.append(f"ps({z}), {what}: the zombie's state is {zr[0][2]!r}")
            if live:
                s = [row for row in rows if row[1] == c.hpid("someone")]
                if not s or s[0][3] != "someone":
                    problems.append(f"ps({z}), {what}: ctr-someone {s}, want user 'someone' "
                                    f"(names lent by the namespace's init)")
        assert not problems, "\n  ".join(problems)


# ---------------------------------------------------------------------------
# 11. Which capability is missing


def test_errors_name_the_capability_actually_missing():
    need_nobody()
    tmp = tempfile.mkdtemp(prefix="hx-trust-caps-")
    try:
        ext = public_ext(tmp)
        with container() as c:
            problems = []
            # root without CAP_SYS_ADMIN and CAP_SYS_CHROOT: ptrace access is enough
            d = Driver(["setpriv", "--inh-caps=-sys_admin,-sys_chroot",
                        "--bounding-set=-sys_admin,-sys_chroot"], ext=ext)
            caps = int(re.search(r"CapEff:\s*(\w+)", d.call("status")["res"][1]).group(1), 16)
            assert not caps & (1 << 21 | 1 << 18) and caps & (1 << 19), \
                f"the caller's CapEff {caps:x}: want no SYS_ADMIN (21), SYS_CHROOT (18), but SYS_PTRACE (19)"
            r = d.sql("SELECT pid, hpid, user FROM ps(?)", c.init)
            if r["res"][0] != "ok":
                problems.append(f"root without CAP_SYS_ADMIN/CAP_SYS_CHROOT: ps({c.init}): {r['res'][1]!r}")
            else:
                got = {row[0]: (row[1], row[2]) for row in r["res"][1]}
                want = {p["pid"]: (p["hpid"], "someone" if role == "someone" else "root")
                        for role, p in c.procs.items()}
                if got != want:
                    problems.append(f"root without CAP_SYS_ADMIN/CAP_SYS_CHROOT: ps({c.init}): {got}, want {want}")
            d.exit()

            # uid 65534 without capabilities, on root's container
            d = Driver(NOBODY, ext=ext)
            for x in (c.init, c.hpid("worker")):
                r = d.sql("SELECT pid FROM ps(?)", x)
                if r["res"][0] == "ok":
                    problems.append(f"uid 65534: ps({x}) of root's container gave {len(r['res'][1])} rows, "
                                    f"want an error (no ptrace access)")
                    continue
                msg = r["res"][1]
                if not (msg.startswith("ps: ") and str(x) in msg and re.search(r"ptrace", msg, re.I)):
                    problems.append(f"uid 65534: ps({x}): {msg!r} does not name ptrace access / CAP_SYS_PTRACE")
                if "CAP_SYS_ADMIN" in msg or "CAP_SYS_CHROOT" in msg:
                    problems.append(f"uid 65534: ps({x}): {msg!r} names a capability that is not needed")
            d.exit()
            assert not problems, "\n  ".join(problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# 12. A chroot'ed member

CHROOTER = r'''
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
X, NEWROOT, COMM = int(sys.argv[1]), sys.argv[2], sys.argv[3]
PASSWD = sys.argv[4]

def check(r, what):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")

fds = [(os.open(f"/proc/{X}/ns/{n}", os.O_RDONLY), f) for n, f in
       (("user", 0x10000000), ("mnt", 0x00020000), ("pid", 0x20000000))]
for fd, flag in fds:
    check(libc.setns(fd, flag), f"setns {flag:#x}")
    os.close(fd)
os.setgroups([])
os.setresgid(0, 0, 0)
os.setresuid(0, 0, 0)  # the container's root
os.chdir("/")
os.makedirs(NEWROOT + "/etc")
with open(NEWROOT + "/etc/passwd", "w") as f:
    f.write(PASSWD)
r, w = os.pipe()
kid = os.fork()
if kid == 0:
    os.close(r)
    libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    os.chroot(NEWROOT)
    os.chdir("/")
    libc.prctl(15, COMM.encode())  # PR_SET_NAME
    os.write(w, b"x")
    while True:
        signal.pause()
os.close(w)
os.read(r, 1)
print(f"ready hpid={kid}", flush=True)
sys.stdin.read()
os.kill(kid, 9)
os.waitpid(kid, 0)
'''


def test_chrooted_process_is_named_from_its_own_root():
    with container() as c:
        passwd = "chrooted:x:0:0::/:/bin/sh\nsomeone-chrooted:x:1000:1000::/:/bin/sh\n"
        p, info = start_ready([PY, "-c", CHROOTER, str(c.init), "/hx-chroot", "hx-chrooted", passwd])
        try:
            check_chrooted(c, info["hpid"])
        finally:
            # its parent is outside the container: reap it before the
            # container's init may finish dying
            p.stdin.close()
            p.wait(10)


def check_chrooted(c, h):
    assert comm(h) == "hx-chrooted" and os.readlink(f"/proc/{h}/root") == "/hx-chroot" \
        and ns_ino(h) == ns_ino(c.init), f"the chroot'ed process {h} is not set up"
    d = Driver()
    rows = d.rows("SELECT hpid, uid, user FROM ps(?)", h)
    got = {r[0]: (r[1], r[2]) for r in rows}
    assert got.get(h) == (0, "chrooted"), \
        f"ps({h}): the chroot'ed process is {got.get(h)}, want (0, 'chrooted') from its root's /etc/passwd"
    rows = d.rows("SELECT hpid, uid, user FROM ps(?)", c.init)
    got = {r[0]: (r[1], r[2]) for r in rows}
    assert got.get(c.init) == (0, "root"), \
        f"ps({c.init}) (positive control, the container's root): init is {got.get(c.init)}, want (0, 'root')"
    assert d.exit() == 0


# ---------------------------------------------------------------------------
# 13. A passwd cut at the read bound


def etc_bound():
    """The most bytes of a container's /etc/passwd that are read: $PSNAP_ETC_MAX,
    else the PSNAP_ETC_MAX (or older ETC_MAX) define in src/, else 16 MiB."""
    if os.environ.get("PSNAP_ETC_MAX"):
        return int(os.environ["PSNAP_ETC_MAX"], 0), "PSNAP_ETC_MAX"
    src = os.path.join(lib.ROOT, "src")
    for f in sorted(os.listdir(src)):
        if f.endswith(".c") or f.endswith(".h"):
            with open(os.path.join(src, f)) as fh:
                m = re.search(r"#define\s+((?:PSNAP_)?ETC_MAX)\s+\(?\s*(\d+)u?\s*(?:<<\s*(\d+))?\s*\)?",
                              fh.read())
            if m:
                return int(m.group(2)) << int(m.group(3) or 0), f"{m.group(1)} in src/{f}"
    return 16 << 20, "the default, 16 MiB"


def test_passwd_cut_at_the_read_bound_does_not_name_the_cut_entry():
    require_root()
    bound, where = etc_bound()
    print(f"  read bound {bound} bytes ({where})")
    tmp = tempfile.mkdtemp(prefix="hx-trust-big-")
    try:
        head = b"root:x:0:0:root:/root:/bin/sh\nsomeone:x:1000:1000::/home/someone:/bin/sh\n"
        line = b"#" + b"x" * ((1 << 20) - 2) + b"\n"

        def fill(n):  # filler of exactly n bytes, whole lines
            body = line * (n // len(line))
            rest = n - len(body)
            if rest:
                body += b"#" * (rest - 1) + b"\n" if rest > 1 else b"\n"
            return body

        whole = b"hx-whole:x:100:100::/:/bin/sh\n"
        cut_at = b"hx-cut:x:100"  # what is left of "hx-cut:x:1000:..." at the bound
        files = {
            # a file just inside the bound whose last entry is whole: named
            "whole": head + fill(bound - 4096 - len(head) - len(whole)) + whole,
            # the bound falls inside the last entry, after "hx-cut:x:100"
            "cut": head + fill(bound - len(head) - len(cut_at)) + cut_at + b"0:1000::/:/bin/sh\n",
        }
        assert files["cut"][:bound].endswith(cut_at) and len(files["cut"]) > bound
        assert len(files["whole"]) == bound - 4096
        paths = {}
        for k, data in files.items():
            paths[k] = os.path.join(tmp, k)
            with open(paths[k], "wb") as f:
                f.write(data)
            os.chmod(paths[k], 0o644)
        with container() as c:
            victim = enter_ctr(c, 100, "sleep", "60")
            got = {}
            for k in ("whole", "cut"):
                in_ns(c, f'''
fd = tree({paths[k]!r})
enter()
try:
    umount("/etc/passwd")
except OSError:
    pass
attach(fd, "/etc/passwd")
''')
                assert os.stat(f"/proc/{c.init}/root/etc/passwd").st_size == len(files[k])
                d = Driver()
                rows = d.rows("SELECT hpid, uid, user FROM ps(?)", c.init, timeout=30)
                got[k] = {r[0]: (r[1], r[2]) for r in rows}
                d.exit()
            assert got["whole"].get(victim) == (100, "hx-whole"), \
                (f"positive control: with a {len(files['whole'])}-byte passwd whose last entry is whole, "
                 f"uid 100 is {got['whole'].get(victim)}, want 'hx-whole' (is the bound {bound} right? {where})")
            assert got["cut"].get(victim) == (100, "100"), \
                (f"a passwd cut at {bound} bytes inside 'hx-cut:x:1000:...': uid 100 is "
                 f"{got['cut'].get(victim)}, want (100, '100'): the cut entry 'hx-cut:x:100' was used")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
