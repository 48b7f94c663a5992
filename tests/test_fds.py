"""ps_fds and ps_sockets against real processes, checked with lsof and ss.

A holder (HOLDER below, a python child) opens what the tables must show and
reports its descriptors on one JSON line: a file at a known offset, a file
then deleted, a directory (O_DIRECTORY), a pipe, an eventfd, TCP and UDP
listeners on 127.0.0.1 and ::1, an established TCP pair, a unix listener with
a path and a connection to it. Then it waits for its stdin to close.

  host       the holder's rows against what it opened, `lsof -p`, `ss -tanpu`
             and `ss -xap` run here
  container  the same holder as pid 1 of `unshare --pid --net` (loopback up):
             container pids, in-container addresses, against lsof and ss run
             in its network namespace (nsenter -n)
  trust      an unprivileged caller (uid 65534) sees its own descriptors, no
             rows and no error for others'; a file on a container's FUSE
             mount whose daemon stopped answering (helpers/fusefile.c), held
             open by a container process, never blocks SELECT * FROM
             ps_fds(X), while a stat of the same fd (lsof) blocks; the owner
             (uid 65534) of a rootless unshare --user --net container lists
             its sockets
  forged     unix names with a newline and a record's line in them (AGENT
             below), in a container's network namespace (its unix table
             read as text) and in the caller's (sock_diag), claiming a UDP
             socket of another namespace, victims' unix sockets, an inode
             nobody has: every victim's row stays what it opened and what ss
             shows, or is hidden, never changed; no row reads the forged
             path; the forger's own paths are exact (sock_diag) or NULL,
             never cut at the newline; short names followed by other sockets,
             and a name with a newline, read whole in both namespaces
  scale      each network namespace's tables are read once per scan, counted
             with strace; WHERE pid = X opens one fd/ directory
  sql        listening.sql; errors, DIRECTONLY, plans

The container, FUSE and strace tests need root and skip otherwise.
"""
import json
import os
import re
import select
import shutil
import socket
import sqlite3
import subprocess
import tempfile

import lib
from lib import Skip, connect, q, require_root, sql_error

PY = "/usr/bin/python3"

HOLDER = r'''
import json, os, socket, sys
d = sys.argv[1]
out = {"pid": os.getpid(), "netns": os.stat("/proc/self/ns/net").st_ino}
f = os.open(os.path.join(d, "known.txt"), os.O_RDWR | os.O_CREAT, 0o644)
os.write(f, b"hello world")
os.lseek(f, 3, os.SEEK_SET)
g = os.open(os.path.join(d, "gone.txt"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
os.write(g, b"12345")
os.unlink(os.path.join(d, "gone.txt"))
dd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
r, w = os.pipe()
e = os.eventfd(0)
t4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t4.bind(("127.0.0.1", 0)); t4.listen()
t6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); t6.bind(("::1", 0)); t6.listen()
u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u4.bind(("127.0.0.1", 0))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.bind(("::1", 0))
cl = socket.create_connection(t4.getsockname()); sv, _ = t4.accept()
up = os.path.join(d, "hold.sock")
ul = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); ul.bind(up); ul.listen()
uc = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); uc.connect(up); us, _ = ul.accept()
out.update(file=[f, os.path.join(d, "known.txt")], deleted=[g, os.path.join(d, "gone.txt")], dir=[dd, d],
           pipe=[r, w, os.fstat(r).st_ino], eventfd=e,
           tcp4=[t4.fileno(), t4.getsockname()[1]], tcp6=[t6.fileno(), t6.getsockname()[1]],
           udp4=[u4.fileno(), u4.getsockname()[1]], udp6=[u6.fileno(), u6.getsockname()[1]],
           pair=[cl.fileno(), sv.fileno(), cl.getsockname()[1], t4.getsockname()[1]],
           unix=[ul.fileno(), uc.fileno(), us.fileno(), up])
out["inodes"] = {str(x): os.fstat(x).st_ino for x in (t4.fileno(), t6.fileno(), u4.fileno(), u6.fileno(),
                                                    cl.fileno(), sv.fileno(), ul.fileno(), uc.fileno(), us.fileno())}
print(json.dumps(out), flush=True)
sys.stdin.read()
'''


class Holder:
    """HOLDER running on the host, or as pid 1 of a new PID and network
    namespace (container=True). .info is its JSON line, .hpid its host pid."""

    def __init__(self, container=False):
        self.dir = tempfile.mkdtemp(prefix="fds-holder-")
        argv = [PY, "-c", HOLDER, self.dir]
        if container:
            require_root()
            for cmd in ("unshare", "ip"):
                if not shutil.which(cmd):
                    raise Skip(f"{cmd} is not installed")
            script = 'ip link set lo up && exec "$@"'
            argv = ["unshare", "--pid", "--fork", "--mount-proc", "--net", "--kill-child",
                    "sh", "-c", script, "sh", *argv]
        self.p = lib.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ready, _, _ = select.select([self.p.stdout], [], [], lib.HANG)
        line = self.p.stdout.readline() if ready else b""
        if not line:
            self.p.kill()
            raise AssertionError(f"holder did not start: {self.p.stderr.read().decode(errors='replace')}")
        self.info = json.loads(line)
        if container:
            kids = [k for k in lib.descendants(self.p.pid) if lib.proc_stat(k)[0].startswith("python")]
            assert len(kids) == 1, f"the holder's host pid among {lib.descendants(self.p.pid)}: {kids}"
            self.hpid = kids[0]
            assert self.info["pid"] == 1, self.info
        else:
            self.hpid = self.p.pid

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(10)
        except Exception:
            self.p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


rows = lib.dicts  # the rows of a query as dicts


def by_fd(rs):
    out = {}
    for r in rs:
        assert r["fd"] not in out, f"fd {r['fd']} listed twice: {rs}"
        out[r["fd"]] = r
    return out


# ---------------------------------------------------------------------------
# lsof and ss, run by the test


def need(cmd):
    if not shutil.which(cmd):
        raise Skip(f"{cmd} is not installed (scripts/deps.sh test installs it)")


def lsof(hpid):
    """{fd: {"t": type, "i": inode or None, "n": name}} of lsof -p HPID (numbered fds only)."""
    need("lsof")
    r = subprocess.run(["lsof", "-n", "-P", "-w", "-p", str(hpid), "-F", "ftin"], capture_output=True,
                       text=True, timeout=lib.HANG)
    out, cur = {}, None
    for ln in r.stdout.splitlines():
        k, v = ln[:1], ln[1:]
        if k == "f":
            cur = {"i": None} if v.isdigit() else None
            if cur is not None:
                out[int(v)] = cur
        elif cur is not None and k in "tin":
            cur[k] = int(v) if k == "i" else v
    assert out, f"lsof -p {hpid} listed no descriptors: {r.stderr}"
    return out


LSOF_TYPES = {"REG": {"file", "memfd"}, "DIR": {"dir"}, "CHR": {"device"}, "FIFO": {"pipe"},
              "IPv4": {"socket"}, "IPv6": {"socket"}, "unix": {"socket"}, "sock": {"socket"},
              "netlink": {"socket"}, "a_inode": {"anon"}}


def check_against_lsof(hpid, got):
    """ps_fds rows GOT ({fd: row}) against lsof -p HPID: the same descriptors,
    the types, the names of paths, the inodes lsof knows."""
    want = lsof(hpid)
    problems = []
    if set(got) != set(want):
        problems.append(f"fds: ps_fds {sorted(got)}, lsof {sorted(want)}")
    for fd in sorted(set(got) & set(want)):
        g, w = got[fd], want[fd]
        if g["type"] not in LSOF_TYPES.get(w.get("t"), {g["type"]}):
            problems.append(f"fd {fd}: type {g['type']!r}, lsof {w.get('t')!r}")
        if w.get("t") in ("REG", "DIR", "CHR") and g["target"] != w.get("n"):
            problems.append(f"fd {fd}: target {g['target']!r}, lsof name {w.get('n')!r}")
        if w["i"] is not None and g["inode"] != w["i"]:
            problems.append(f"fd {fd}: inode {g['inode']}, lsof {w['i']}")
    assert not problems, f"ps_fds of {hpid} against lsof:\n  " + "\n  ".join(problems)
    return want


SS_STATE = {"ESTAB": "ESTABLISHED", "UNCONN": "CLOSE", "LISTEN": "LISTEN"}


def ss_lines(args, hpid, netns_of=None):
    """ss ARGS -H (in the network namespace of NETNS_OF when given): the
    lines of sockets HPID holds, as (fields, fd)."""
    need("ss")
    cmd = ["ss", *args, "-H"]
    if netns_of:
        need("nsenter")
        cmd = ["nsenter", "-t", str(netns_of), "-n", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=lib.HANG)
    assert r.returncode == 0, f"{cmd}: {r.stderr}"
    out = []
    for ln in r.stdout.splitlines():
        for m in re.finditer(rf"pid={hpid},fd=(\d+)", ln):
            out.append((ln.split(), int(m.group(1))))
    return out


def endpoint(addr, port, family):
    if addr is None:
        return "[::]:*" if family == "inet6" else "0.0.0.0:*"
    return f"[{addr}]:{port}" if family == "inet6" else f"{addr}:{port}"


def check_against_ss(hpid, socks, netns_of=None):
    """ps_sockets rows SOCKS ({fd: row}) of HPID against ss -tanpu and ss -xap."""
    want = {}
    for f, fd in ss_lines(["-tanpu"], hpid, netns_of):
        want[fd] = (f[0], SS_STATE.get(f[1], f[1]), f[4], f[5])
    for f, fd in ss_lines(["-xap"], hpid, netns_of):
        want[fd] = ({"u_str": "stream", "u_dgr": "dgram", "u_seq": "seqpacket"}.get(f[0], f[0]),
                    SS_STATE.get(f[1], f[1]), f[4], int(f[5]))
    got = {}
    for fd, r in socks.items():
        if r["family"] in ("inet", "inet6") and r["proto"] in ("tcp", "udp"):
            got[fd] = (r["proto"], r["state"], endpoint(r["local_addr"], r["local_port"], r["family"]),
                       endpoint(r["remote_addr"], r["remote_port"], r["family"]))
        elif r["family"] == "unix":
            got[fd] = (r["proto"], r["state"], r["path"] or "*", r["inode"])
    problems = [f"fd {fd}: ps_sockets {got.get(fd)}, ss {want.get(fd)}"
                for fd in sorted(set(got) | set(want)) if got.get(fd) != want.get(fd)]
    assert not problems, f"ps_sockets of {hpid} against ss:\n  " + "\n  ".join(problems)
    return want


# ---------------------------------------------------------------------------
# What the holder opened


def check_holder_fds(h, fds):
    """ps_fds rows (by fd) of the holder against what it reported."""
    i = h.info
    want = {
        i["file"][0]: ("file", i["file"][1], 0, 3, "O_RDWR|O_CLOEXEC"),
        i["deleted"][0]: ("file", i["deleted"][1] + " (deleted)", 1, 5, "O_WRONLY|O_APPEND|O_CLOEXEC"),
        i["dir"][0]: ("dir", i["dir"][1], 0, 0, "O_RDONLY|O_DIRECTORY|O_CLOEXEC"),
        i["pipe"][0]: ("pipe", f"pipe:[{i['pipe'][2]}]", 0, 0, "O_RDONLY|O_CLOEXEC"),
        i["pipe"][1]: ("pipe", f"pipe:[{i['pipe'][2]}]", 0, 0, "O_WRONLY|O_CLOEXEC"),
        i["eventfd"]: ("anon", "anon_inode:[eventfd]", 0, 0, "O_RDWR|O_CLOEXEC"),
    }
    for k, ino in i["inodes"].items():
        want[int(k)] = ("socket", f"socket:[{ino}]", 0, 0, "O_RDWR|O_CLOEXEC")
    problems = []
    for fd, (ty, target, deleted, pos, flags) in want.items():
        r = fds.get(fd)
        got = r and (r["type"], r["target"], r["deleted"], r["pos"], r["flags"])
        if got != (ty, target, deleted, pos, flags):
            problems.append(f"fd {fd}: got {got}, want {(ty, target, deleted, pos, flags)}")
    assert fds[i["pipe"][0]]["inode"] == i["pipe"][2], fds[i["pipe"][0]]
    st = os.stat(i["file"][1])
    if fds[i["file"][0]]["inode"] != st.st_ino:
        problems.append(f"file inode {fds[i['file'][0]]['inode']}, stat {st.st_ino}")
    assert not problems, "ps_fds against what the holder opened:\n  " + "\n  ".join(problems)


def check_holder_sockets(h, socks, in_ctr=False):
    i = h.info
    want = {
        i["tcp4"][0]: ("inet", "tcp", "LISTEN", "127.0.0.1", i["tcp4"][1], None, None, None),
        i["tcp6"][0]: ("inet6", "tcp", "LISTEN", "::1", i["tcp6"][1], None, None, None),
        i["udp4"][0]: ("inet", "udp", "CLOSE", "127.0.0.1", i["udp4"][1], None, None, None),
        i["udp6"][0]: ("inet6", "udp", "CLOSE", "::1", i["udp6"][1], None, None, None),
        i["pair"][0]: ("inet", "tcp", "ESTABLISHED", "127.0.0.1", i["pair"][2], "127.0.0.1", i["pair"][3], None),
        i["pair"][1]: ("inet", "tcp", "ESTABLISHED", "127.0.0.1", i["pair"][3], "127.0.0.1", i["pair"][2], None),
        i["unix"][0]: ("unix", "stream", "LISTEN", None, None, None, None, i["unix"][3]),
        i["unix"][1]: ("unix", "stream", "ESTABLISHED", None, None, None, None, None),
        i["unix"][2]: ("unix", "stream", "ESTABLISHED", None, None, None, None, i["unix"][3]),
    }
    cols = ("family", "proto", "state", "local_addr", "local_port", "remote_addr", "remote_port", "path")
    problems = []
    for fd, w in want.items():
        r = socks.get(fd)
        got = r and tuple(r[c] for c in cols)
        if got != w:
            problems.append(f"fd {fd}: got {got}, want {w}")
        elif r["ns_net"] != i["netns"] or r["inode"] != i["inodes"][str(fd)]:
            problems.append(f"fd {fd}: ns_net {r['ns_net']} inode {r['inode']}, want {i['netns']} "
                            f"{i['inodes'][str(fd)]}")
    assert not problems, "ps_sockets against what the holder opened:\n  " + "\n  ".join(problems)


FD_COLS = "pid, hpid, fd, type, target, inode, pos, flags, mnt_id, deleted"
SOCK_COLS = ("pid, hpid, fd, inode, family, proto, state, local_addr, local_port, remote_addr, remote_port, "
             "path, ns_net")


def test_a_childs_descriptors_are_what_it_opened_and_what_lsof_sees():
    with Holder() as h:
        fds = by_fd(rows(f"SELECT {FD_COLS} FROM ps_fds WHERE pid = ?", h.hpid))
        assert {(r["pid"], r["hpid"]) for r in fds.values()} == {(h.hpid, h.hpid)}, fds
        check_holder_fds(h, fds)
        check_against_lsof(h.hpid, fds)
        # mnt_id names the mount in the holder's mountinfo
        mounts = {int(ln.split()[0]) for ln in lib.read(f"/proc/{h.hpid}/mountinfo").splitlines()}
        f = fds[h.info["file"][0]]
        assert f["mnt_id"] in mounts, (f, sorted(mounts)[:20])


def test_a_childs_sockets_are_what_it_opened_and_what_ss_sees():
    with Holder() as h:
        socks = by_fd(rows(f"SELECT {SOCK_COLS} FROM ps_sockets WHERE pid = ?", h.hpid))
        check_holder_sockets(h, socks)
        want = check_against_ss(h.hpid, socks)
        assert len(want) >= 9, want
        # only sockets: every socket descriptor of ps_fds, nothing else
        sock_fds = {r[0] for r in q("SELECT fd FROM ps_fds WHERE pid = ? AND type = 'socket'", h.hpid)}
        assert set(socks) == sock_fds, (sorted(socks), sorted(sock_fds))


def test_the_same_in_a_container_with_its_own_network_namespace():
    with Holder(container=True) as h, Holder() as host:
        x = h.hpid
        db = connect()
        fds = by_fd(rows(f"SELECT {FD_COLS}, pidns FROM ps_fds(?) WHERE pid = 1", x, db=db))
        assert {(r["pid"], r["hpid"], r["pidns"]) for r in fds.values()} == {(1, x, x)}, fds
        check_holder_fds(h, fds)
        check_against_lsof(x, fds)
        socks = by_fd(rows(f"SELECT {SOCK_COLS} FROM ps_sockets(?)", x, db=db))
        assert {(r["pid"], r["hpid"]) for r in socks.values()} == {(1, x)}, socks
        check_holder_sockets(h, socks, in_ctr=True)
        assert h.info["netns"] != host.info["netns"], "the container shares the host's network namespace"
        check_against_ss(x, socks, netns_of=x)
        # the host's ss does not know the container's listeners; ours shows them with the host pid
        assert not ss_lines(["-tanpu"], x), "ss on the host lists the container's sockets"
        host_view = by_fd(rows(f"SELECT {SOCK_COLS} FROM ps_sockets WHERE pid = ?", x, db=db))
        assert {fd: (r["local_addr"], r["local_port"], r["ns_net"]) for fd, r in host_view.items()} == \
            {fd: (r["local_addr"], r["local_port"], r["ns_net"]) for fd, r in socks.items()}
        # both holders in one statement: each with its own namespace's tables
        both = rows("SELECT hpid, ns_net, count(*) AS n FROM ps_sockets WHERE pidns IN (NULL, ?) "
                    "AND hpid IN (?, ?) GROUP BY hpid, ns_net ORDER BY hpid", x, x, host.hpid, db=db)
        assert {(r["hpid"], r["ns_net"]) for r in both} == {(x, h.info["netns"]), (host.hpid, host.info["netns"])}, \
            both


# ---------------------------------------------------------------------------
# Privileges and hostile containers


def nobody_ext(tmp):
    """A copy of the extension that uid 65534 can load: its path without .so."""
    os.chmod(tmp, 0o755)
    src = lib.EXT if lib.EXT.endswith(".so") else lib.EXT + ".so"
    dst = os.path.join(tmp, "ps.so")
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o755)
    return os.path.join(tmp, "ps")


NOBODY_QUERY = r'''
import json, os, sqlite3, sys
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(sys.argv[1])
me, other = os.getpid(), int(sys.argv[2])
r = os.open("/dev/null", os.O_RDONLY)
out = {"me": me}
out["mine"] = db.execute("SELECT fd, target FROM ps_fds WHERE pid = ?", (me,)).fetchall()
out["other"] = db.execute("SELECT count(*) FROM ps_fds WHERE pid = ?", (other,)).fetchall()
out["other_sockets"] = db.execute("SELECT count(*) FROM ps_sockets WHERE pid = ?", (other,)).fetchall()
out["all"] = db.execute("SELECT DISTINCT hpid FROM ps_fds").fetchall()
out["all_sockets"] = db.execute("SELECT DISTINCT hpid FROM ps_sockets").fetchall()
print(json.dumps(out))
'''


def test_unprivileged_caller_sees_its_own_descriptors_and_no_error_for_others():
    require_root()
    try:
        import pwd
        pwd.getpwuid(65534)
    except KeyError:
        raise Skip("no user 65534 on this host")
    tmp = tempfile.mkdtemp(prefix="fds-nobody-")
    try:
        ext = nobody_ext(tmp)
        with Holder() as h:
            r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                "--inh-caps=-all", "--bounding-set=-all", PY, "-c", NOBODY_QUERY, ext, str(h.hpid)],
                               capture_output=True, text=True, timeout=lib.HANG, cwd="/")
            assert r.returncode == 0, f"as uid 65534: {r.stderr.strip()[-800:]}"
            out = json.loads(r.stdout)
            mine = dict(out["mine"])
            assert mine.get(3) == "/dev/null" and 0 in mine, f"its own descriptors: {mine}"
            assert out["other"] == [[0]] and out["other_sockets"] == [[0]], out
            for key in ("all", "all_sockets"):
                for (hp,) in out[key]:
                    try:
                        uid = lib.proc_status(hp)["Uid"].split()
                    except OSError:
                        continue  # gone since
                    assert "65534" in uid, f"{key}: uid 65534 read the descriptors of {hp} (uids {uid})"
            assert [out["me"]] in out["all"], out["all"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


ROOTLESS_QUERY = r'''
import json, os, sqlite3, subprocess, sys
ext, holder, d = sys.argv[1], sys.argv[2], sys.argv[3]
p = subprocess.Popen(["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc", "--net",
                      "--kill-child", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", sys.executable, "-c",
                      holder, d], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
info = json.loads(p.stdout.readline())
todo, hp = [p.pid], None
while todo and hp is None:
    k = todo.pop()
    with open(f"/proc/{k}/task/{k}/children") as f:
        kids = [int(x) for x in f.read().split()]
    for c in kids:
        with open(f"/proc/{c}/comm") as f:
            if f.read().startswith("python"):
                hp = c
    todo += kids
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(ext)
rows = db.execute("SELECT pid, hpid, fd, family, proto, state, local_addr, local_port FROM ps_sockets(?)",
                  (hp,)).fetchall()
print(json.dumps({"info": info, "hpid": hp, "rows": rows}))
p.stdin.close()
p.wait()
'''


def test_rootless_owner_lists_its_containers_sockets():
    """uid 65534 without capabilities, its own unshare --user --pid --net:
    no setns, no sock_diag, so the owner of a rootless container lists it."""
    require_root()
    need("unshare")
    need("ip")
    tmp = tempfile.mkdtemp(prefix="fds-rootless-")
    try:
        ext = nobody_ext(tmp)
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        os.chown(work, 65534, 65534)
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                            "--bounding-set=-all", PY, "-c", ROOTLESS_QUERY, ext, HOLDER, work],
                           capture_output=True, text=True, timeout=lib.HANG, cwd="/")
        if r.returncode != 0 and "unshare" in r.stderr and ("Operation not permitted" in r.stderr
                                                          or "Permission denied" in r.stderr):
            raise Skip(f"unprivileged user namespaces refused here: {r.stderr.strip()[-200:]}")
        assert r.returncode == 0, f"as uid 65534: {r.stderr.strip()[-800:]}"
        out = json.loads(r.stdout)
        i, hp = out["info"], out["hpid"]
        got = {tuple(x[2:]) for x in out["rows"] if x[3] in ("inet", "inet6")}
        want = {(i["tcp4"][0], "inet", "tcp", "LISTEN", "127.0.0.1", i["tcp4"][1]),
                (i["tcp6"][0], "inet6", "tcp", "LISTEN", "::1", i["tcp6"][1]),
                (i["udp4"][0], "inet", "udp", "CLOSE", "127.0.0.1", i["udp4"][1]),
                (i["udp6"][0], "inet6", "udp", "CLOSE", "::1", i["udp6"][1])}
        assert want <= got, f"ps_sockets({hp}) as its rootless owner: {sorted(got)}, want {sorted(want)}"
        assert {(x[0], x[1]) for x in out["rows"]} == {(1, hp)}, out["rows"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def helper(name):
    """A test helper of the build under test (beside PSNAP_EXT), else build/helpers."""
    mine = os.path.join(os.path.dirname(lib.EXT), "helpers", name)
    return mine if os.path.exists(mine) else lib.helper(name)


FUSE_HOLDER = r'''
import ctypes, os, sys, time
x = int(sys.argv[1])
fd = os.open(f"/proc/{x}/root/etc/file", os.O_RDONLY)  # answered: the daemon still serves
libc = ctypes.CDLL(None, use_errno=True)
ns = os.open(f"/proc/{x}/ns/pid", os.O_RDONLY)
if libc.setns(ns, 0x20000000) != 0:  # CLONE_NEWPID: our next child is the container's
    sys.exit("setns: " + os.strerror(ctypes.get_errno()))
pid = os.fork()
if pid == 0:
    print(f"ready pid={os.getpid()} fd={fd}", flush=True)
    time.sleep(1000)
os.waitpid(pid, 0)
'''


def prove_stat_hangs(path, what):
    """Positive control: stat -L PATH (what lsof does with /proc/PID/fd/N) from a fresh process must block."""
    p = subprocess.Popen(["stat", "-L", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        p.wait(1.0)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(10)
        return
    raise AssertionError(f"{what}: stat -L {path} did not block (exit {p.returncode}: "
                         f"{p.stderr.read().decode().strip()})")


def test_a_hung_fuse_file_held_open_in_a_container_never_blocks():
    require_root()
    from test_container import container
    from test_trust import Driver, kill
    with container() as c:
        fuse = lib.start([helper("fusefile"), str(c.init), "/etc"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
        holder = None
        try:
            line = fuse.stdout.readline().decode()
            assert line.startswith("ready"), f"fusefile: {line!r} {fuse.stderr.read().decode()}"
            holder = lib.start([PY, "-c", FUSE_HOLDER, str(c.init)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            ready, _, _ = select.select([holder.stdout], [], [], lib.HANG)
            line = holder.stdout.readline().decode() if ready else ""
            assert line.startswith("ready"), f"the holder did not start: {line!r} {holder.stderr.read()}"
            kv = dict(x.split("=") for x in line.split()[1:])
            cpid, fd = int(kv["pid"]), int(kv["fd"])
            hp = lib.descendants(holder.pid)[0]
            # from now on the daemon answers nothing: stat of the fd (what lsof does) hangs
            fuse.stdin.write(b"hang\n")
            fuse.stdin.flush()
            assert fuse.stdout.readline() == b"hung\n"
            prove_stat_hangs(f"/proc/{hp}/fd/{fd}", "a FUSE file that no longer answers")
            d = Driver()
            for sql, args in ((f"SELECT {FD_COLS} FROM ps_fds(?)", (c.init,)),
                              (f"SELECT {FD_COLS} FROM ps_fds WHERE pid = ?", (hp,)),
                              (f"SELECT {SOCK_COLS} FROM ps_sockets(?)", (c.init,)),
                              ("SELECT count(*) FROM ps_fds", ())):
                r = d.sql(sql, *args, timeout=30)
                assert r["res"][0] == "ok", f"{sql}: {r['res'][1]}"
                assert r["secs"] < 10, f"{sql} took {r['secs']:.1f} s"
            got = d.rows("SELECT pid, hpid, type, target, flags FROM ps_fds(?) WHERE fd = ? AND hpid = ?",
                         c.init, fd, hp)
            assert got == [(cpid, hp, "file", "/etc/file", "O_RDONLY|O_CLOEXEC")], got
            assert d.exit() == 0
        finally:
            # the daemon first: a holder that exits sends FUSE_FLUSH, which waits for an answer
            kill(fuse)
            if holder:
                kill(holder)


FORGER = r'''
import os, socket, sys
victims = [int(x) for x in sys.argv[1:]]
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen()
victims.append(os.fstat(t.fileno()).st_ino)
us = []
for v in victims:
    # an abstract unix name with a newline: /proc/net/unix shows the rest as a row claiming inode v
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.bind(b"\0f\n0000000000000000: 00000002 00000000 00010000 0001 01 %d /forged" % v)
    u.listen()
    us.append(u)
print(t.fileno(), os.fstat(t.fileno()).st_ino, flush=True)
sys.stdin.read()
'''


def test_a_forged_unix_row_changes_no_socket():
    """A process binds unix names holding a newline and a fake row that
    claims the inode of its own TCP listener, and of a host listener (from a
    container's network namespace). Its own listener stays what the tcp
    table says, never a unix socket named /forged; the host's is untouched."""
    require_root()
    need("unshare")
    with Holder() as host:
        victim = host.info["inodes"][str(host.info["tcp4"][0])]
        f = lib.start(["unshare", "--net", "--", PY, "-c", FORGER, str(victim)], stdin=subprocess.PIPE,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ready, _, _ = select.select([f.stdout], [], [], lib.HANG)
        line = f.stdout.readline().decode() if ready else ""
        assert line, f"the forger did not start: {f.stderr.read()}"
        fd, ino = (int(x) for x in line.split())
        forged = [ln for ln in lib.read(f"/proc/{f.pid}/net/unix").splitlines() if ln.endswith("/forged")]
        assert len(forged) == 2, f"the forged rows are not in the unix table: {forged}"
        db = connect()
        got = rows("SELECT fd, inode, family, proto, state, path FROM ps_sockets WHERE pid = ? AND fd = ?",
                   f.pid, fd, db=db)
        assert got == [{"fd": fd, "inode": ino, "family": "inet", "proto": "tcp", "state": "LISTEN", "path": None}], got
        got = rows("SELECT family, proto, state, local_addr, local_port, path FROM ps_sockets "
                   "WHERE pid IN (?, ?) AND inode = ?", f.pid, host.hpid, victim, db=db)
        assert got == [{"family": "inet", "proto": "tcp", "state": "LISTEN", "local_addr": "127.0.0.1",
                        "local_port": host.info["tcp4"][1], "path": None}], got
        paths = {r[0] for r in q("SELECT path FROM ps_sockets WHERE pid = ? AND family = 'unix'", f.pid, db=db)}
        assert paths == {None}, paths  # each name runs on into the forged line: not delimited
        f.stdin.close()
        f.wait(10)


AGENT = r"""
import ctypes, json, os, socket, sys
keep = []
ino = lambda s: os.fstat(s.fileno()).st_ino
HEADER = b"0000000000000000: 00000002 00000000 00010000 0001 01 %d /forged"
for line in sys.stdin:
    cmd = json.loads(line)
    out = {"pid": os.getpid()}
    if cmd["do"] == "victim":  # a UDP socket, a unix listener with a path, a connection to it
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
        path = os.path.join(cmd["dir"], "v.sock")
        l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); l.bind(path); l.listen()
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(path); a, _ = l.accept()
        keep += [u, l, c, a]
        out.update(udp=ino(u), udp_fd=u.fileno(), listener=ino(l), client=ino(c), accepted=ino(a), path=path)
    elif cmd["do"] == "forge":  # names that print a line claiming each inode
        out["forgers"] = []
        for v in cmd["inodes"]:
            f = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            name = b"\0f%d\n" % v + HEADER % v
            f.bind(name); f.listen(); keep.append(f)
            out["forgers"].append([f.fileno(), ino(f), "@" + name[1:].decode()])
    elif cmd["do"] == "names":  # short names with sockets after them; a name with a newline
        d = cmd["dir"]
        out["names"] = []
        for i in range(cmd.get("n", 3)):
            p = os.path.join(d, "s%d" % i)
            l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); l.bind(p); l.listen()
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(p); a, _ = l.accept()
            g = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); g.bind(b"\0g%d" % i)
            keep += [l, c, a, g]
            out["names"] += [[l.fileno(), p], [a.fileno(), p], [c.fileno(), None], [g.fileno(), "@g%d" % i]]
        n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); n.bind(os.path.join(d, "nl\nsock")); keep.append(n)
        out["newline"] = [n.fileno(), os.path.join(d, "nl\nsock")]
    elif cmd["do"] == "setns":  # into the network namespace of a path
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(cmd["path"], os.O_RDONLY)
        if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            out["error"] = os.strerror(ctypes.get_errno())
        os.close(fd)
    out["netns"] = os.stat("/proc/self/ns/net").st_ino
    print(json.dumps(out), flush=True)
"""


class Agent:
    """AGENT in a process of its own: on the host, or (own_netns) in a new
    network namespace with its loopback up. .do(cmd, **args) sends one
    command and returns its JSON answer."""

    def __init__(self, own_netns=False):
        argv = [PY, "-c", AGENT]
        if own_netns:
            require_root()
            need("unshare")
            need("ip")
            argv = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv]
        self.p = lib.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.do("info")["pid"]
        assert self.pid == self.p.pid, (self.pid, self.p.pid)

    def do(self, what, **args):
        self.p.stdin.write((json.dumps(dict(args, do=what)) + "\n").encode())
        self.p.stdin.flush()
        ready, _, _ = select.select([self.p.stdout], [], [], lib.HANG)
        line = self.p.stdout.readline() if ready else b""
        if not line:
            self.p.kill()
            raise AssertionError(f"agent {what}: no answer: {self.p.stderr.read().decode(errors='replace')[-800:]}")
        out = json.loads(line)
        assert "error" not in out, out
        return out


SOCK_ROW = "fd, inode, family, proto, state, local_addr, local_port, remote_addr, remote_port, path, ns_net"


def check_victim(v, info, db, netns_of=None):
    """The victim V's rows: what it opened (ns_net its sockets' namespace,
    info["netns"]) and what ss shows in that namespace."""
    socks = by_fd(rows(f"SELECT {SOCK_ROW} FROM ps_sockets WHERE pid = ?", v.pid, db=db))
    by_ino = {r["inode"]: r for r in socks.values()}
    want = {info["udp"]: ("inet", "udp", "CLOSE", None), info["listener"]: ("unix", "stream", "LISTEN", info["path"]),
            info["client"]: ("unix", "stream", "ESTABLISHED", None),
            info["accepted"]: ("unix", "stream", "ESTABLISHED", info["path"])}
    got = {i: by_ino.get(i) and (by_ino[i]["family"], by_ino[i]["proto"], by_ino[i]["state"], by_ino[i]["path"])
           for i in want}
    assert got == want, f"the victim {v.pid}'s rows: {got}, want {want}"
    assert {by_ino[i]["ns_net"] for i in want} == {info["netns"]}, socks
    check_against_ss(v.pid, socks, netns_of=netns_of)


def check_forgers(f, forgers, exact, db):
    """The forger F's own forged sockets: unix stream LISTEN, their path the
    whole name (exact: from sock_diag) or NULL, never cut at the newline."""
    socks = by_fd(rows(f"SELECT {SOCK_ROW} FROM ps_sockets WHERE pid = ?", f.pid, db=db))
    for fd, ino, name in forgers:
        r = socks.get(fd)
        got = r and (r["inode"], r["family"], r["proto"], r["state"])
        assert got == (ino, "unix", "stream", "LISTEN"), f"forger fd {fd}: {r}"
        assert r["path"] == (name if exact else None), f"forger fd {fd}: path {r['path']!r}, name {name!r}"


def no_forged_rows(forgers, db, host):
    """No socket anywhere reads as a forged line: no path ends in /forged
    but a forger's own exact name (host: sock_diag), and no row of a forged
    inode reads unix LISTEN with that path."""
    names = {name for _, _, name in forgers}
    got = rows("SELECT pid, fd, inode, family, path FROM ps_sockets WHERE path LIKE '%/forged'", db=db)
    bad = [r for r in got if not (host and r["path"] in names)]
    assert not bad, f"rows that read as forged lines: {bad}"


def test_forged_unix_lines_in_a_containers_namespace_change_no_row():
    """A forger in a container's network namespace (its unix table read as
    text) binds names that print a line claiming: (a) the UDP socket of a
    victim in another namespace, and of a victim whose sockets were made on
    the host before it moved into the forger's namespace (setns); (b) their
    unix sockets, and one of a victim in the forger's own namespace; (c) an
    inode no socket has. Every victim's rows stay what it opened and what ss
    shows (or read NULL: hidden, never changed); the forger's own paths are
    NULL, never the cut '@fN'; no row anywhere reads /forged."""
    require_root()
    tmp = tempfile.mkdtemp(prefix="fds-forge-")
    try:
        other = Agent(own_netns=True)       # a victim in a namespace of its own
        moved = Agent()                     # a victim whose sockets are the host's
        for d in ("m", "s"):
            os.mkdir(os.path.join(tmp, d))
        vo = other.do("victim", dir=tmp)
        vm = moved.do("victim", dir=tmp + "/m")
        forger = Agent(own_netns=True)
        moved.do("setns", path=f"/proc/{forger.pid}/ns/net")
        same = Agent()                      # a victim in the forger's namespace
        same.do("setns", path=f"/proc/{forger.pid}/ns/net")
        vs = same.do("victim", dir=tmp + "/s")
        fresh = 4000000000
        targets = [vo["udp"], vm["udp"], vo["listener"], vm["listener"], vs["listener"], vs["client"], fresh]
        forgers = forger.do("forge", inodes=targets)["forgers"]
        text = lib.read(f"/proc/{forger.pid}/net/unix")
        assert sum(ln.endswith("/forged") for ln in text.splitlines()) == len(targets), text
        db = connect()
        check_victim(other, vo, db, netns_of=other.pid)
        check_victim(moved, vm, db)  # its sockets are the host's: ss on the host lists them
        # the victim in the forger's namespace: each row what it opened, or hidden (its line and a forged one)
        socks = {r["inode"]: r for r in rows(f"SELECT {SOCK_ROW} FROM ps_sockets WHERE pid = ?", same.pid, db=db)}
        hidden = 0
        for i, w in ((vs["udp"], ("inet", "udp", "CLOSE", None)), (vs["listener"], ("unix", "stream", "LISTEN")),
                     (vs["client"], ("unix", "stream", "ESTABLISHED")),
                     (vs["accepted"], ("unix", "stream", "ESTABLISHED"))):
            r = socks[i]
            got = (r["family"], r["proto"], r["state"], r["path"])[:len(w)]
            hidden += r["family"] is None
            assert got == w or (r["family"], r["proto"], r["state"], r["path"]) == (None, None, None, None), \
                f"victim in the forger's namespace, inode {i}: {r}"
            assert r["path"] in (None, vs["path"]), r
        print(f"  the victim in the forger's namespace: {4 - hidden} rows as opened, {hidden} hidden")
        check_forgers(forger, forgers, exact=False, db=db)
        no_forged_rows(forgers, db, host=False)
        # all of it in one statement too: the victims' namespaces read alongside
        both = rows(f"SELECT pid, inode, family, proto, state, path FROM ps_sockets WHERE pid IN (?, ?, ?, ?)",
                    other.pid, moved.pid, same.pid, forger.pid, db=db)
        assert not [r for r in both if r["path"] and r["path"].endswith("/forged")], both
        assert {r["family"] for r in both if r["inode"] in (vo["udp"], vm["udp"])} == {"inet"}, both
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_forged_unix_lines_in_the_callers_namespace_change_no_row():
    """The same forger in the caller's own network namespace, whose unix
    sockets come from sock_diag: its names read whole (newline and forged
    line included), the victims (a namespace of their own; the host) stay
    what they opened and what ss shows, and nothing else reads /forged."""
    require_root()
    tmp = tempfile.mkdtemp(prefix="fds-forge-")
    try:
        other = Agent(own_netns=True)
        host = Agent()
        vo = other.do("victim", dir=tmp)
        os.mkdir(tmp + "/h")
        vh = host.do("victim", dir=tmp + "/h")
        forger = Agent()
        targets = [vo["udp"], vo["listener"], vh["udp"], vh["listener"], vh["client"], 4000000000]
        forgers = forger.do("forge", inodes=targets)["forgers"]
        db = connect()
        check_victim(other, vo, db, netns_of=other.pid)
        check_victim(host, vh, db)
        check_forgers(forger, forgers, exact=True, db=db)
        no_forged_rows(forgers, db, host=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_names(a, out, db, text):
    """An agent's "names" sockets: each path the name it bound; in a
    namespace read as text (text) NULL is allowed too, never another
    value. Returns how many read exactly."""
    socks = by_fd(rows(f"SELECT {SOCK_ROW} FROM ps_sockets WHERE pid = ?", a.pid, db=db))
    fd, name = out["newline"]
    got = socks[fd]["path"]
    assert got == name or (text and got is None), f"a name with a newline: {got!r}, bound {name!r}"
    exact = got == name
    for fd, name in out["names"]:
        got = socks[fd]["path"]
        assert got == name or (text and got is None and name is not None), f"fd {fd}: path {got!r}, bound {name!r}"
        exact += got == name and name is not None
    return exact


def test_unix_names_read_whole_in_the_callers_namespace_and_in_a_containers():
    """Short names with sockets after them, and a name with a newline: on
    the host (sock_diag) every path is exact; in a container's namespace
    (text, no forger) every path is exact too, since each next line's socket
    is held in the namespace (the census), and ss agrees; never a prefix."""
    require_root()
    tmp = tempfile.mkdtemp(prefix="fds-names-")
    try:
        db = connect()
        host = Agent()
        out = host.do("names", dir=tmp)
        named = sum(1 for _, n in out["names"] if n) + 1
        assert check_names(host, out, db, text=False) == named
        os.mkdir(tmp + "/c")
        ctr = Agent(own_netns=True)
        out = ctr.do("names", dir=tmp + "/c")
        n = check_names(ctr, out, db, text=True)
        print(f"  container namespace: {n} of {named} names exact (the rest NULL)")
        assert n == named, f"names in a container's namespace without a forger: {n} of {named} exact"
        # ss in the container's namespace: every socket but the newline one (ss prints it raw)
        socks = by_fd(rows(f"SELECT {SOCK_ROW} FROM ps_sockets WHERE pid = ? AND fd != ?", ctr.pid,
                           out["newline"][0], db=db))
        want = {}
        for f, fd in ss_lines(["-xap"], ctr.pid, netns_of=ctr.pid):
            if fd != out["newline"][0] and fd in socks:
                want[fd] = f[4] if f[4] != "*" else None
        got = {fd: r["path"] for fd, r in socks.items() if r["family"] == "unix" and fd in want}
        assert got == want and len(got) == len(out["names"]), (got, want)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# Scale: each namespace's tables once per scan


def strace_query(sql, args):
    """Run SQL in a fresh python under strace: ({path: opens} of every
    openat below a directory fd, and "sock_diag": the NETLINK_SOCK_DIAG
    sockets made; the rows)."""
    require_root()
    need("strace")
    tmp = tempfile.mkdtemp(prefix="fds-strace-")
    try:
        out = os.path.join(tmp, "trace")
        script = ("import json, sqlite3, sys\n"
                  "db = sqlite3.connect(':memory:'); db.enable_load_extension(True)\n"
                  f"db.load_extension({lib.EXT!r})\n"
                  "print(json.dumps(db.execute(sys.argv[1], json.loads(sys.argv[2])).fetchall()))\n")
        r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat,socket", "-o", out, PY, "-c", script, sql,
                            json.dumps(list(args))], capture_output=True, text=True, timeout=lib.HANG)
        assert r.returncode == 0, r.stderr[-800:]
        opens = {}
        for ln in lib.read(out).splitlines():
            m = re.search(r'openat\((\d+|AT_FDCWD), "([^"]*)"', ln)
            if m and m.group(1) != "AT_FDCWD":
                opens[m.group(2)] = opens.get(m.group(2), 0) + 1
            if re.search(r"socket\(AF_NETLINK, [^)]*NETLINK_SOCK_DIAG\)", ln):
                opens["sock_diag"] = opens.get("sock_diag", 0) + 1
        return opens, json.loads(r.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def holds_socket(pid):
    """Does PID (a python3) hold a socket yet?"""
    try:
        return lib.proc_stat(pid)[0] == "python3" and any(
            os.readlink(f"/proc/{pid}/fd/{f}").startswith("socket:") for f in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


NETNS_PAIR = r'''
ip link set lo up
for i in 1 2 3; do python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); time.sleep(1000)' & done
wait
'''


def test_each_network_namespace_is_read_once_per_scan():
    require_root()
    need("unshare")
    need("ip")
    hosts = [lib.start([PY, "-c", "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); "
                                  "s.listen(); print(1, flush=True); time.sleep(1000)"],
                       stdout=subprocess.PIPE) for _ in range(4)]
    for p in hosts:
        p.stdout.readline()
    # a PID namespace too: its processes die with its init when the test ends
    u = lib.start(["unshare", "--net", "--pid", "--kill-child", "--fork", "sh", "-c", NETNS_PAIR],
                  stdin=subprocess.DEVNULL)
    inner = lib.wait_for(lambda: (lambda v: v if len(v) == 3 else None)(
        [k for k in lib.descendants(u.pid) if holds_socket(k)]),
        timeout=lib.HANG, what="three listeners in a new network namespace")
    pids = [p.pid for p in hosts] + inner
    marks = ",".join("?" * len(pids))
    opens, got = strace_query(f"SELECT hpid, state, ns_net FROM ps_sockets WHERE pid IN ({marks})", pids)
    assert len(got) == 7 and {r[1] for r in got} == {"LISTEN"}, got
    assert len({r[2] for r in got}) == 2, f"two network namespaces expected: {got}"
    tables = ("tcp", "tcp6", "udp", "udp6", "unix", "netlink", "packet", "raw", "raw6")
    reads = {t: opens.get(f"net/{t}", 0) for t in tables}
    print(f"  7 processes in 2 network namespaces: table opens {reads}, sock_diag sockets {opens.get('sock_diag')}")
    # the caller's namespace's unix sockets come from sock_diag, the other's from its text
    assert reads.pop("unix") == 1 and opens.get("sock_diag") == 1, (reads, opens.get("sock_diag"))
    assert set(reads.values()) == {2}, f"each table read once per namespace (2): {reads}"
    assert opens.get("fd", 0) == 7, f"fd/ directories opened: {opens.get('fd')}, want 7"
    # one process: one fd/ directory, one set of tables
    opens, got = strace_query("SELECT count(*) FROM ps_sockets WHERE pid = ?", [inner[0]])
    assert got == [[1]] and opens.get("fd") == 1 and opens.get("net/tcp") == 1, (got, opens)
    # every process: at most one read per namespace that holds sockets
    opens, got = strace_query("SELECT count(*) FROM ps_sockets", [])
    seen = set()
    for n in os.listdir("/proc"):
        try:
            seen.add(os.stat(f"/proc/{n}/ns/net").st_ino)
        except (OSError, ValueError):
            pass
    assert 2 <= opens.get("net/tcp", 0) <= len(seen), (opens.get("net/tcp"), len(seen))


# ---------------------------------------------------------------------------
# SQL: errors, DIRECTONLY, plans, listening.sql


def test_errors_name_the_table_and_the_value():
    for t in ("ps_fds", "ps_sockets"):
        assert sql_error(f"SELECT * FROM {t}('abc')") == f"{t}: pidns must be a positive integer (a pid), not 'abc'"
        assert sql_error(f"SELECT * FROM {t}(-3)") == f"{t}: pidns must be a positive integer (a pid), not '-3'"
        assert sql_error(f"SELECT * FROM {t}(2147483647)").startswith(f"{t}: no process 2147483647")
        db = connect()
        db.execute(f"CREATE VIEW v AS SELECT * FROM {t}")
        assert "unsafe use of virtual table" in sql_error("SELECT * FROM v", db=db)
        db.execute(f"CREATE TEMP VIEW tv AS SELECT fd FROM {t} WHERE pid = {os.getpid()}")
        assert db.execute("SELECT count(*) FROM tv").fetchone()[0] >= 1 or t == "ps_sockets"


def plan(sql, *args, db=None):
    db = db or connect()
    return [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, args)]


def test_plans_use_pid_and_pidns():
    me = os.getpid()
    p = plan("SELECT * FROM ps_fds WHERE pid = ?", me)
    assert any("INDEX 260:" in x for x in p), p  # pid = ? (0x4), and fdinfo (0x100)
    p = plan("SELECT fd FROM ps_fds WHERE pid = ?", me)
    assert any("INDEX 4:" in x for x in p) and not any("INDEX 260" in x for x in p), p  # no fdinfo for fd
    p = plan("SELECT * FROM ps_sockets WHERE pid IN (1, 2) AND pidns = ?", me)
    assert any(re.search(r"INDEX (13|15)\b", x) for x in p), p
    db = connect()
    db.execute("CREATE TEMP TABLE containers(pid INTEGER)")
    db.execute("INSERT INTO containers VALUES (?)", (me,))
    p = plan("SELECT * FROM containers c JOIN ps_fds f ON f.pidns = c.pid", db=db)
    m = re.search(r"INDEX (\d+)", p[1])
    assert p[0].startswith("SCAN c") and m and int(m.group(1)) & 0x1, p  # pidns = ? (0x1)
    got = q("SELECT count(*) FROM containers c JOIN ps_fds f ON f.pidns = c.pid WHERE f.pid = ?", me, db=db)
    assert got[0][0] >= 3, got
    # pid = 'x' matches nothing, not everything
    assert q("SELECT count(*) FROM ps_fds WHERE pid = 'x'") == [(0,)]
    # a process that has exited gives no rows, no error
    p2 = subprocess.Popen(["true"])
    p2.wait()
    assert q("SELECT count(*) FROM ps_fds WHERE pid = ?", p2.pid) == [(0,)]


def test_processes_that_exit_during_scans_are_skipped():
    churn = lib.start(["sh", "-c", "while :; do sleep 0.01 & sleep 0.01 </dev/null & wait; done"],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    db = connect()
    for _ in range(20):
        n = q("SELECT count(*), count(DISTINCT hpid) FROM ps_fds", db=db)[0]
        assert n[0] > 0 and n[1] > 0, n
        q("SELECT count(*) FROM ps_sockets", db=db)
    churn.kill()


def test_listening_view_lists_host_and_container_listeners():
    with Holder(container=True) as h, Holder() as host:
        db = connect()
        with open(os.path.join(lib.ROOT, "sql", "listening.sql")) as f:
            db.executescript(f.read())
        want = {("tcp", "127.0.0.1", host.info["tcp4"][1]), ("tcp6", "::1", host.info["tcp6"][1]),
                ("udp", "127.0.0.1", host.info["udp4"][1]), ("udp6", "::1", host.info["udp6"][1]),
                ("unix", host.info["unix"][3], None)}
        got = rows("SELECT * FROM listening WHERE pid = ?", host.hpid, db=db)
        assert {(r["proto"], r["address"], r["port"]) for r in got} == want, got
        assert {(r["user"], r["comm"], r["ns_init"]) for r in got} == {("root", "python3", 1)}, got
        got = rows("SELECT * FROM listening WHERE pidns = ?", h.hpid, db=db)
        want = {("tcp", "127.0.0.1", h.info["tcp4"][1]), ("tcp6", "::1", h.info["tcp6"][1]),
                ("udp", "127.0.0.1", h.info["udp4"][1]), ("udp6", "::1", h.info["udp6"][1]),
                ("unix", h.info["unix"][3], None)}
        assert {(r["proto"], r["address"], r["port"]) for r in got} == want, got
        assert {(r["pid"], r["ns_init"], r["pidns"]) for r in got} == {(1, h.hpid, h.hpid)}, got
        # on the host scan the container's listeners show their host pid and namespace's init
        got = rows("SELECT pid, ns_init FROM listening WHERE pid = ?", h.hpid, db=db)
        assert got and {(r["pid"], r["ns_init"]) for r in got} == {(h.hpid, h.hpid)}, got
        # container is ps's (an engine's id from the cgroup path): neither holder has one
        cg = {open(f"/proc/{p}/cgroup").read() for p in (h.hpid, host.hpid)}
        assert not any(re.search(r"[0-9a-f]{64}", c) for c in cg), cg  # else the oracle below is wrong
        got = rows("SELECT DISTINCT container FROM listening WHERE pid IN (?, ?)", h.hpid, host.hpid, db=db)
        assert [r["container"] for r in got] == [None], got
