"""Text that is not UTF-8 (issue 16): real processes that chose invalid
UTF-8 for their comm (prctl), a thread's name, argv, cwd (a directory named
with \\xff), exe (a copy of sleep at such a path), an open file and a bound
unix socket. Read back through SQL: every TEXT value is exactly Python's
raw.decode('utf-8', 'replace') of the bytes read from /proc here, every
_raw BLOB is those bytes; Python's sqlite3 (default text_factory), Node.js
(better-sqlite3) and Go (mattn/go-sqlite3) read every row of every table
while those processes exist, and each checks every TEXT value
(tests/clients/). Expected values come from /proc, never from the
extension."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import lib
from lib import Skip, connect, q, q1

ROOT = lib.ROOT
PY = "/usr/bin/python3"
NODE_CHECK = os.path.join(ROOT, "tests", "clients", "utf8_check.js")
GO_CHECK = os.path.join(ROOT, "tests", "clients", "utf8_check.go")
GO_BIN = os.path.join(ROOT, "build", "utf8_check")
GOPATH = "/usr/share/gocode"

# The bytes the processes choose: each holds sequences that are not UTF-8
# (the comments say which rule they break), beside valid multi-byte text.
COMM = b"u8\xff\xfe\xc0\xaf\xed\xa0\x80\xe2\x82"           # FF FE, overlong '/', surrogate, truncated
TCOMM = b"t\xf4\x90\x80\x80\xf0\x9f\x98x\xc3\xa9"          # above U+10FFFF, truncated 4-byte, then valid
ARGV = [b"u8-holder\xff", b"\xe2\x82", b"\xac\xc3\xa9", b"ok \xf0\x9f\x98\x80", b"\xed\xbf\xbf", b"end"]
DIR = b"d\xff\xfe\xe0\x80"                                 # E0 80: overlong
FILE = b"f\xed\xa0\x80\xff.txt"
SOCK = b"s\xff\xc0.sock"
EXE = b"sl\xff\xfeep\xe2\x82"
SLEEP_ARGV = [b"sl\xffeep", b"1000"]

HOLDER = r"""
import ctypes, os, socket, threading, time
env = {k: bytes.fromhex(os.environ[k]) for k in ("U8_DIR", "U8_COMM", "U8_TCOMM", "U8_FILE", "U8_SOCK")}
libc = ctypes.CDLL(None, use_errno=True)
os.chdir(env["U8_DIR"])
f = open(env["U8_FILE"], "wb")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(env["U8_SOCK"])
s.listen(1)
ready, tid = threading.Event(), []
def named():
    assert libc.prctl(15, env["U8_TCOMM"], 0, 0, 0) == 0  # PR_SET_NAME
    tid.append(threading.get_native_id())
    ready.set()
    time.sleep(10**6)
threading.Thread(target=named, daemon=True).start()
ready.wait()
assert libc.prctl(15, env["U8_COMM"], 0, 0, 0) == 0
print("ready", f.fileno(), s.fileno(), tid[0], flush=True)
while True:
    time.sleep(1000)
"""


def fix(raw):
    """What the table's text must be: Python's decode of the bytes."""
    return raw.decode("utf-8", "replace")


def args_text(cmdline):
    """args as the table makes it of cmdline: NULs as spaces, trailing ones dropped."""
    return fix(cmdline.rstrip(b"\0").replace(b"\0", b" "))


def unix_path(pid, inode):
    """The path /proc/PID/net/unix lists for a socket inode, as bytes."""
    for ln in lib.read(f"/proc/{pid}/net/unix", "rb").split(b"\n")[1:]:
        f = ln.split(b" ", 7)
        if len(f) == 8 and f[6] == str(inode).encode():
            return f[7]
    return None


def processes():
    """Start the holder (comm, a named thread, argv, cwd, a file, a unix
    socket) and a copy of sleep at a path that is not UTF-8 (exe, its comm,
    argv, cwd). Returns what /proc says of them, read here."""
    d = tempfile.mkdtemp(prefix="u8")
    lib._procs.append(_Remove(d))
    top = os.path.join(os.fsencode(d), DIR)
    os.mkdir(top)
    exe = os.path.join(top, EXE)
    shutil.copy(shutil.which("sleep"), exe)
    env = dict(os.environ, U8_DIR=top.hex(), U8_COMM=COMM.hex(), U8_TCOMM=TCOMM.hex(),
               U8_FILE=os.path.join(top, FILE).hex(), U8_SOCK=os.path.join(top, SOCK).hex())
    argv = [ARGV[0], b"-c", HOLDER.encode(), *ARGV[1:]]
    h = lib.start(argv, executable=PY, env=env,
                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    line = h.stdout.readline().decode().split()
    assert line and line[0] == "ready", f"holder: {line}"
    fd, sfd, tid = (int(x) for x in line[1:])
    s = lib.start(SLEEP_ARGV, executable=exe, cwd=top, stdin=subprocess.DEVNULL)
    # exe changes early in execve, cmdline once the new stack is set up
    lib.wait_for(lambda: os.readlink(f"/proc/{s.pid}/exe".encode()) == exe and lib.read(f"/proc/{s.pid}/cmdline", "rb"),
                 timeout=lib.HANG, what="the copy of sleep to exec")
    out = {"holder": h.pid, "sleeper": s.pid, "tid": tid, "fd": fd, "sfd": sfd, "top": top, "exe": exe}
    for name, pid in (("holder", h.pid), ("sleeper", s.pid)):
        out[name + "_proc"] = {
            "comm": lib.read(f"/proc/{pid}/comm", "rb")[:-1],  # the kernel's newline
            "args": lib.read(f"/proc/{pid}/cmdline", "rb"),
            "exe": os.readlink(f"/proc/{pid}/exe".encode()),
            "cwd": os.readlink(f"/proc/{pid}/cwd".encode()),
        }
    out["tcomm"] = lib.read(f"/proc/{h.pid}/task/{tid}/comm", "rb")[:-1]
    out["target"] = os.readlink(f"/proc/{h.pid}/fd/{fd}".encode())
    ino = int(re.fullmatch(rb"socket:\[(\d+)\]", os.readlink(f"/proc/{h.pid}/fd/{sfd}".encode())).group(1))
    out["path"] = unix_path(h.pid, ino)
    # what was set up is what /proc shows, and none of it is UTF-8
    hp, sp = out["holder_proc"], out["sleeper_proc"]
    assert hp["comm"] == COMM and out["tcomm"] == TCOMM, (hp["comm"], out["tcomm"])
    assert hp["args"] == b"".join(a + b"\0" for a in argv), hp["args"]
    assert hp["cwd"] == top and sp["cwd"] == top and sp["exe"] == exe, (hp, sp)
    assert out["target"] == os.path.join(top, FILE) and out["path"] == os.path.join(top, SOCK), out
    assert sp["comm"] == EXE[:15] and sp["args"] == b"".join(a + b"\0" for a in SLEEP_ARGV), sp
    for v in (hp["comm"], hp["args"], hp["cwd"], sp["exe"], sp["comm"], out["tcomm"], out["target"], out["path"]):
        try:
            v.decode("utf-8")
        except UnicodeDecodeError:
            continue
        raise AssertionError(f"{v!r} is UTF-8: the test would test nothing")
    return out


class _Remove:
    """Removes a directory in cleanup(), which kills what lib.start() started."""
    pid = -1

    def __init__(self, path):
        self.path = path

    def kill(self):
        pass

    def wait(self, timeout=None):
        shutil.rmtree(self.path, ignore_errors=True)


# ---------------------------------------------------------------- the values


def test_ps_text_is_pythons_decode_and_raw_is_the_bytes():
    p = processes()
    db = connect()
    for name in ("holder", "sleeper"):
        want = p[name + "_proc"]
        for where in ("pid = ?", "pid > 0"):  # one process; a whole scan (the _raw files on first use)
            rows = [r for r in q("SELECT pid, comm, comm_raw, args, args_raw, exe, exe_raw, cwd, cwd_raw "
                                 f"FROM ps WHERE {where}", *((p[name],) if "?" in where else ()), db=db)
                    if r[0] == p[name]]
            assert len(rows) == 1, (name, where, rows)
            got = rows[0][1:]
            exp = (fix(want["comm"]), want["comm"], args_text(want["args"]), want["args"], fix(want["exe"]),
                   want["exe"], fix(want["cwd"]), want["cwd"])
            assert got == exp, f"{name} ({where}): got {got}, want {exp}"
            assert "\ufffd" in got[0] and "\ufffd" in got[2] and "\ufffd" in got[6], got
    print(f"  comm {fix(COMM)!r}, args ...{args_text(p['holder_proc']['args'])[-30:]!r}, "
          f"exe {fix(p['sleeper_proc']['exe'])!r}")
    # each _raw column alone reads back the same bytes (their files read on first use)
    for col, key in (("comm_raw", "comm"), ("args_raw", "args"), ("exe_raw", "exe"), ("cwd_raw", "cwd")):
        got = dict(q(f"SELECT pid, {col} FROM ps", db=db))
        for name in ("holder", "sleeper"):
            assert got.get(p[name]) == p[name + "_proc"][key], (col, name, got.get(p[name]))


def test_ps_threads_comm_and_comm_raw():
    p = processes()
    rows = {r[0]: r[1:] for r in q("SELECT tid, comm, comm_raw FROM ps_threads WHERE pid = ?", p["holder"])}
    assert rows[p["tid"]] == (fix(p["tcomm"]), p["tcomm"]), rows[p["tid"]]
    main = lib.read(f"/proc/{p['holder']}/task/{p['holder']}/comm", "rb")[:-1]
    assert rows[p["holder"]] == (fix(main), main), rows[p["holder"]]
    # a whole scan, and ps_threads(NULL, NULL, x) binds comm_raw, the third hidden column
    assert q1("SELECT tid, comm FROM ps_threads(NULL, NULL, ?)", p["tcomm"]) == (p["tid"], fix(p["tcomm"]))


def test_ps_fds_target_and_ps_sockets_path():
    p = processes()
    db = connect()
    got = q1("SELECT target, target_raw FROM ps_fds WHERE pid = ? AND fd = ?", p["holder"], p["fd"], db=db)
    assert got == (fix(p["target"]), p["target"]), got
    # found by its bytes, in a scan of every process
    got = q("SELECT pid, fd, target FROM ps_fds WHERE target_raw = ?", p["target"], db=db)
    assert got == [(p["holder"], p["fd"], fix(p["target"]))], got
    got = q1("SELECT family, path, path_raw FROM ps_sockets WHERE pid = ? AND fd = ?", p["holder"], p["sfd"], db=db)
    assert got == ("unix", fix(p["path"]), p["path"]), got
    assert "\ufffd" in got[1], got


def test_ps_namespaces_comm_of_an_init_with_invalid_bytes():
    """ps_namespaces has no _raw twin (ps.comm_raw of its pid is one): its
    comm is the init's, decoded as Python does."""
    lib.require_root()
    if not shutil.which("unshare"):
        raise Skip("unshare (util-linux) is not installed")
    p = processes()
    u = lib.start(["unshare", "--pid", "--fork", "--kill-child", p["exe"], b"1001"], stdin=subprocess.DEVNULL)
    def execed():
        for c in lib.children(u.pid):
            try:
                if os.readlink(f"/proc/{c}/exe".encode()) == p["exe"] and lib.read(f"/proc/{c}/cmdline", "rb"):
                    return [c]
            except OSError:
                pass
        return None
    init = lib.wait_for(execed, timeout=lib.HANG, what="unshare's child to exec")[0]
    raw = lib.read(f"/proc/{init}/comm", "rb")[:-1]
    assert raw == EXE[:15], raw
    db = connect()
    got = q1("SELECT n.comm, p.comm_raw FROM ps_namespaces n JOIN ps p ON p.pid = n.pid WHERE n.pid = ?", init,
             db=db)
    assert got == (fix(raw), raw), got


# ---------------------------------------------------------------- clients


def hidden(db, table):
    return [r[0] for r in q(f"SELECT name FROM pragma_table_xinfo('{table}') WHERE hidden", db=db)]


SCANS = [("ps", "ps"), ("ps_threads", "ps_threads"), ("ps_fds", "ps_fds"), ("ps_sockets", "ps_sockets"),
         ("ps_namespaces", "ps_namespaces"), ("ps_descriptors", "ps_descriptors('ps')"),
         ("ps_descriptors", "ps_descriptors('ps_threads')")]


def test_python_default_text_factory_reads_every_table():
    p = processes()
    db = connect()
    assert db.text_factory is str
    # the control: raw bytes in a TEXT are what Python's sqlite3 refuses
    try:
        db.execute("SELECT CAST(x'ff' AS TEXT)").fetchall()
        raise AssertionError("Python's sqlite3 read a TEXT that is not UTF-8: the test below tests nothing")
    except sqlite3_error() as e:
        assert "decode" in str(e).lower(), e
    seen = {}
    for table, source in SCANS:
        cols = ", ".join(["*"] + [f'"{c}"' for c in hidden(db, table)])
        rows = db.execute(f"SELECT {cols} FROM {source}").fetchall()
        seen[source] = len(rows)
    for fn in ("ps_version()", "ps_etime(1.5)", "ps_cputime(4)", "ps_printable(CAST(x'ff0a61' AS TEXT))"):
        assert isinstance(q1(f"SELECT {fn}", db=db)[0], str), fn
    print(f"  rows: {seen}")
    # the processes with invalid bytes were among the rows read
    comm = dict(q("SELECT pid, comm FROM ps", db=db))
    assert comm.get(p["holder"]) == fix(COMM), comm.get(p["holder"])
    assert q1("SELECT count(*) FROM ps_sockets WHERE pid = ?", p["holder"], db=db)[0] >= 1


def sqlite3_error():
    import sqlite3
    return (sqlite3.OperationalError, sqlite3.DataError, UnicodeDecodeError)


def expected_report(p):
    """The TEXT of the processes' rows as the clients must have read it (hex of UTF-8)."""
    h, s = p["holder_proc"], p["sleeper_proc"]

    def hx(raw):
        return fix(raw).encode().hex()
    return {
        str(p["holder"]): {"ps.comm": hx(h["comm"]), "ps.args": args_text(h["args"]).encode().hex(),
                           "ps.cwd": hx(h["cwd"]), "ps.comm_raw": h["comm"].hex(), "ps.args_raw": h["args"].hex(),
                           f"ps_threads.{p['tid']}.comm": hx(p["tcomm"])},
        str(p["sleeper"]): {"ps.comm": hx(s["comm"]), "ps.exe": hx(s["exe"]), "ps.exe_raw": s["exe"].hex(),
                            "ps.cwd_raw": s["cwd"].hex()},
    }


def check_client(out, p, extra=None):
    assert out["failures"] == [], out["failures"][:10]
    for source in ("ps", "ps_threads", "ps_fds", "ps_sockets", "ps_namespaces"):
        assert out["tables"][source]["rows"] > 0, (source, out["tables"])
    for pid, want in expected_report(p).items():
        got = out["report"].get(pid, {})
        for k, v in want.items():
            assert got.get(k) == v, f"pid {pid} {k}: the client read {got.get(k)}, want {v}"
    if extra:
        extra(out)


def test_node_reads_every_table_as_well_formed_text():
    sys.path.insert(0, lib.HERE)
    from test_apps import NODE_DIR, node_ready
    node_ready()
    p = processes()
    env = dict(os.environ, NODE_PATH=os.path.join(NODE_DIR, "node_modules"))
    pids = [str(p["holder"]), str(p["sleeper"])]
    r = subprocess.run(["node", NODE_CHECK, lib.EXT, *pids], capture_output=True, text=True, env=env,
                       timeout=lib.HANG)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)

    def fds(out):
        mine = out["report"][str(p["holder"])]
        assert mine["ps_fds"][str(p["fd"])]["target"] == fix(p["target"]).encode().hex(), mine["ps_fds"]
        assert mine["ps_sockets"][str(p["sfd"])]["path"] == fix(p["path"]).encode().hex(), mine["ps_sockets"]
        # U+FFFD in a column without a _raw twin: none in these processes' rows
        assert not [f for f in out["fffd_untwinned"] if str(f["pid"]) in pids], out["fffd_untwinned"]
        assert out["tables"]["ps"]["twins"] > 0 and out["tables"]["ps_sockets"]["twins"] > 0, out["tables"]
    check_client(out, p, fds)
    print(f"  node: {sum(t['texts'] for t in out['tables'].values())} TEXT values, "
          f"{len(out['fffd_untwinned'])} U+FFFD without a twin elsewhere")
    # the control: a TEXT that is not UTF-8 fails the check
    r = subprocess.run(["node", NODE_CHECK, lib.EXT], capture_output=True, text=True, timeout=lib.HANG,
                       env=dict(env, UTF8_CHECK_CONTROL="1"))
    fails = json.loads(r.stdout)["failures"]
    assert len(fails) == 1 and "c0af" in fails[0], fails


def go_binary():
    """build/utf8_check, built from tests/clients/utf8_check.go with Debian's
    Go and mattn/go-sqlite3 (scripts/deps.sh test installs them)."""
    if not shutil.which("go"):
        raise Skip("go is not installed (Debian: golang-go)")
    if not os.path.isdir(os.path.join(GOPATH, "src", "github.com", "mattn", "go-sqlite3")):
        raise Skip("mattn/go-sqlite3 is not installed (Debian: golang-github-mattn-go-sqlite3-dev)")
    if os.path.exists(GO_BIN) and os.path.getmtime(GO_BIN) >= os.path.getmtime(GO_CHECK):
        return GO_BIN
    env = dict(os.environ, GOPATH=GOPATH, GO111MODULE="off", GOFLAGS="",
               GOCACHE=os.path.join(ROOT, "build", "gocache"))
    try:
        r = subprocess.run(["go", "build", "-o", GO_BIN, GO_CHECK], capture_output=True, text=True, env=env,
                           timeout=180)
    except subprocess.TimeoutExpired:
        raise Skip("go build of tests/clients/utf8_check.go took more than 3 minutes")
    assert r.returncode == 0, f"go build failed: {r.stderr[-2000:]}"
    return GO_BIN


def test_go_reads_every_table_as_valid_utf8():
    exe = go_binary()
    p = processes()
    r = subprocess.run([exe, lib.EXT, str(p["holder"]), str(p["sleeper"])], capture_output=True, text=True,
                       timeout=lib.HANG)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)

    def fds(out):
        mine = out["report"][str(p["holder"])]
        assert mine[f"ps_fds.{p['fd']}.target"] == fix(p["target"]).encode().hex(), mine
        assert mine[f"ps_fds.{p['fd']}.target_raw"] == p["target"].hex(), mine
        assert mine[f"ps_sockets.{p['sfd']}.path"] == fix(p["path"]).encode().hex(), mine
        assert mine[f"ps_sockets.{p['sfd']}.path_raw"] == p["path"].hex(), mine
    check_client(out, p, fds)
    print(f"  go: {sum(t['texts'] for t in out['tables'].values())} TEXT values checked with utf8.ValidString")
    r = subprocess.run([exe, lib.EXT], capture_output=True, text=True, timeout=lib.HANG,
                       env=dict(os.environ, UTF8_CHECK_CONTROL="1"))
    fails = json.loads(r.stdout)["failures"]
    assert len(fails) == 1 and "c0af" in fails[0], fails
