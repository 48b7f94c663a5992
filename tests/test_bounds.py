"""Bounds tests: what a container's choice of sizes costs the host program,
tried with real hostile containers (build/helpers/container, changed from
inside their mount namespace as test_trust.py does).

A container chooses the names its /etc/passwd and /etc/group lend (each
file is read up to PSNAP_ETC_MAX bytes) and how many supplementary groups
its processes hold (setgroups(2) takes up to NGROUPS_MAX, 65536, and keeps
repeats). What one query allocates because of one container must be a
small multiple of the files it reads from it, never the number of rows
times a file:

  names     a name longer than PSNAP_NAME_MAX bytes is no entry: its id
            reads as the number; PSNAP_NAME_MAX bytes still lend (passwd
            and group alike)
  memory    a 16 MiB name for uid 0 over ~40 processes, SELECT *: the peak
            RSS (VmHWM) of a fresh python running the query stays within the same
            query's over the same container with its own small files, plus
            the lent file twice, plus PSNAP_NAME_MAX per name and row
  groups    one gid held NGROUPS_MAX times is one entry of groups and of
            hgroups; gids with 1 MiB names, each held thousands of times by
            several processes: one number each, memory bounded as above;
            65536 distinct groups: groups and hgroups cut at
            PSNAP_GROUPS_MAX bytes of whole entries, then ",+N"

Every query runs in a child /usr/bin/python3 that reports its own peak
RSS (VmHWM), under an address-space limit (GUARD) so that a build that
regresses fails with "out of memory" instead of taking the machine. Under
a preloaded sanitizer (make asan) the memory bounds are not checked (its
quarantine and shadow dwarf them); the values still are. Every test needs
root (it skips otherwise).
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

import lib
from test_container import container
from test_trust import PY, child_env, etc_bound, in_ns, start_ready

GUARD = 2 << 30  # bytes of address space a query child may map: a guard, not a bound under test
SLEEPERS = 35  # with the container's own 5 processes: 40 rows

MEASURE = r'''
import json, resource, sqlite3, sys, time
def hwm():  # VmHWM, this process's peak RSS since its exec (bytes)
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
ext, sql, args, guard, keep = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if guard:
    resource.setrlimit(resource.RLIMIT_AS, (guard, guard))
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(ext)
db.enable_load_extension(False)
before = hwm()
t0 = time.monotonic()
rows, cols, err = [], [], None
try:
    cur = db.execute(sql, args)
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
except (sqlite3.Error, MemoryError) as e:
    err = f"{type(e).__name__}: {e}"
secs = time.monotonic() - t0
peak = hwm()
def small(v):  # a text longer than keep as its length and its head: the report stays small
    return {"len": len(v), "head": v[:40]} if isinstance(v, str) and len(v) > keep else v
out = {"before": before, "peak": peak, "secs": secs, "err": err,
       "rows": [dict(zip(cols, map(small, r))) for r in rows]}
print(json.dumps(out))
'''


def sanitized():
    return "asan" in os.environ.get("LD_PRELOAD", "")


def measure(sql, *args, keep=600):
    """Run SQL in a fresh child python: {"before", "peak" (its VmHWM in
    bytes before and after the query), "secs", "err", "rows" (dicts; texts
    over KEEP characters as {"len", "head"})}. VmHWM, not ru_maxrss: the
    kernel carries ru_maxrss across execve, so a child forked from this
    test process starts with this process's peak."""
    argv = [PY, "-c", MEASURE, lib.EXT, sql, json.dumps(list(args)), str(0 if sanitized() else GUARD), str(keep)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=lib.HANG, env=child_env(), cwd="/")
    assert p.returncode == 0, f"the query child exited {p.returncode}: {p.stderr.strip()[-800:]}"
    return json.loads(p.stdout)


def define(name):
    """The value of #define NAME in src/psnap.h (an integer expression)."""
    with open(os.path.join(lib.ROOT, "src", "psnap.h")) as f:
        m = re.search(r"^#define\s+" + name + r"\s+(.+?)\s*(?:/\*.*)?$", f.read(), re.M)
    assert m, f"no #define {name} in src/psnap.h"
    return int(eval(re.sub(r"(\d+)u\b", r"\1", m.group(1)), {"__builtins__": {}}))


def host_gid(c, gid):
    """The host gid of container gid GID (its gid_map's first extent)."""
    inside, outside, _ = (int(x) for x in c.info["gid_map"].split()[:3])
    return outside + gid - inside


def lend(c, path, what):
    """Bind-mount host file PATH over the container's /etc/WHAT."""
    in_ns(c, f'''
fd = tree({path!r})
enter()
attach(fd, "/etc/{what}")
''')
    got = os.stat(f"/proc/{c.init}/root/etc/{what}").st_size
    assert got == os.stat(path).st_size, f"the container's /etc/{what} is {got} bytes, not the file mounted"


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    return path


# A process of the container (its user and PID namespaces, the host's files)
# that holds TOTAL supplementary groups: SPEC's gids ("a-b,c"), repeated in
# turn, and forks until NPROCS processes hold them; all named COMM.
GROUPER = r'''
import ctypes, os, signal, sys
total, spec, nprocs, comm = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
base = []
for part in spec.split(","):
    a, _, b = part.partition("-")
    base += range(int(a), int(b or a) + 1)
os.setgroups([base[i % len(base)] for i in range(total)])
ctypes.CDLL(None).prctl(15, comm.encode())  # PR_SET_NAME
for _ in range(nprocs - 1):
    if os.fork() == 0:
        while True:
            signal.pause()
print(f"ready hpid={os.readlink('/proc/self')}", flush=True)  # the host's /proc: the host pid
while True:
    signal.pause()
'''


def grouper(c, total, spec, nprocs=1, comm="hx-groups"):
    """Start GROUPER in container C as its root: the host pids of its NPROCS processes."""
    _, info = start_ready(["nsenter", "-t", str(c.init), "-U", "-p", "-S", "0", "-G", "0", "--",
                           PY, "-c", GROUPER, str(total), spec, str(nprocs), comm], timeout=lib.HANG)
    pids = [info["hpid"]]
    if nprocs > 1:  # its children, forked before it said ready
        pids += lib.children(info["hpid"])
    assert len(pids) == nprocs, f"the grouper is {pids}, not {nprocs} processes"
    for h in pids:
        got = lib.proc_status(h)["Groups"].split()
        assert len(got) == total, f"process {h} holds {len(got)} groups, not {total}"
    return pids


def by_hpid(result):
    assert result["err"] is None, f"the query failed: {result['err']}"
    return {r["hpid"]: r for r in result["rows"]}


def peak_bound(control, lent_bytes, rows, names):
    """What a query may peak at: the control query's peak (the same query
    over the same container lending its own small files), plus the lent
    files twice (the helper's pages that hold them, and their names as a
    table keeps them at most), plus, for every row, NAMES values that the
    files can lengthen, PSNAP_NAME_MAX bytes each, counted three times
    (SQLite's copy, the python str, the allocator's rounding)."""
    return control["peak"] + 2 * lent_bytes + rows * names * 3 * define("PSNAP_NAME_MAX")


def check_peak(what, control, hostile, lent_bytes, names):
    """Print both peaks; a problem (text) when the hostile one passes peak_bound(), else None."""
    mib = 1 << 20
    rows = len(hostile["rows"])
    print(f"  {what}: {rows} rows; control peak {control['peak'] / mib:.1f} MiB in {control['secs']:.2f} s, "
          f"hostile peak {hostile['peak'] / mib:.1f} MiB in {hostile['secs']:.2f} s "
          f"(lent files {lent_bytes / mib:.1f} MiB)")
    if hostile["err"]:
        return f"{what}: the query failed: {hostile['err']}"
    if sanitized():
        print("  (peak not checked: a sanitizer is preloaded)")
        return None
    bound = peak_bound(control, lent_bytes, rows, names)
    if hostile["peak"] <= bound:
        return None
    return (f"{what}: the query peaked at {hostile['peak'] / mib:.1f} MiB, over the bound of {bound / mib:.1f} MiB "
            f"(control {control['peak'] / mib:.1f} MiB + 2 x {lent_bytes / mib:.1f} MiB of lent files "
            f"+ {rows} rows x {names} names x 3 x PSNAP_NAME_MAX)")


# ---------------------------------------------------------------------------


def test_16_mib_user_name_over_40_processes_reads_as_the_number_in_bounded_memory():
    bound, where = etc_bound()
    tmp = tempfile.mkdtemp(prefix="hx-bounds-user-")
    try:
        rest = b":x:0:0:root:/root:/bin/sh\nsomeone:x:1000:1000::/home/someone:/bin/sh\n"
        data = b"r" * (bound - len(rest)) + rest  # the most the container can lend: it is read whole
        assert len(data) == bound
        path = write(tmp, "passwd", data)
        with container("--sleepers", str(SLEEPERS)) as c:
            sql = "SELECT * FROM ps(?)"
            control = measure(sql, c.init)
            want = {h: r["user"] for h, r in by_hpid(control).items()}
            assert want.get(c.init) == "root", f"positive control: init is {want.get(c.init)!r}, not 'root'"
            lend(c, path, "passwd")
            hostile = measure(sql, c.init)
            problems = [check_peak("16 MiB user name", control, hostile, len(data), 2)]  # user, ruser
            got = {r["hpid"]: r for r in hostile["rows"]}
            if len(got) != len(want) or len(got) < 40:
                problems.append(f"{len(got)} rows, want {len(want)} (at least 40)")
            bad = {h: (r["uid"], r["user"], r["ruser"]) for h, r in got.items()
                   if r["uid"] == 0 and (r["user"], r["ruser"]) != ("0", "0")}
            if bad:
                problems.append(f"uid 0 named by a {len(data) - len(rest)}-byte name (the file is {where}): "
                                f"want '0', got {len(bad)} rows such as {list(bad.items())[0]}")
            if got.get(c.hpid("someone"), {}).get("user") != "someone":
                problems.append(f"the next line of the file does not lend: {got.get(c.hpid('someone'))}")
            problems = [x for x in problems if x]
            assert not problems, "\n  ".join(problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_names_of_psnap_name_max_bytes_lend_and_one_more_byte_does_not():
    nmax = define("PSNAP_NAME_MAX")
    u, u1, g, g1, x1 = b"u" * nmax, b"v" * (nmax + 1), b"g" * nmax, b"h" * (nmax + 1), b"x" * (nmax + 1)
    tmp = tempfile.mkdtemp(prefix="hx-bounds-edge-")
    try:
        passwd = write(tmp, "passwd", u + b":x:0:0::/:/bin/sh\n" + u1 + b":x:1000:1000::/:/bin/sh\n")
        group = write(tmp, "group", g + b":x:0:\n" + g1 + b":x:1000:\n" + x1 + b":x:2000:someone\n")
        with container() as c:
            lend(c, passwd, "passwd")
            lend(c, group, "group")
            got = by_hpid(measure('SELECT hpid, user, ruser, "group", rgroup, groups FROM ps(?)', c.init))
            want = {c.init: {"hpid": c.init, "user": u.decode(), "ruser": u.decode(), "group": g.decode(),
                             "rgroup": g.decode(), "groups": ""},
                    c.hpid("someone"): {"hpid": c.hpid("someone"), "user": "1000", "ruser": "1000", "group": "1000",
                                        "rgroup": "1000", "groups": "2000"}}

            def short(d):
                return {k: (f"{len(v)} bytes" if isinstance(v, str) and len(v) > 20 else v) for k, v in d.items()}

            for h, w in want.items():
                assert got.get(h) == w, \
                    f"names of {nmax} and {nmax + 1} bytes: process {h} has {short(got.get(h) or {})}, want {short(w)}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_one_gid_held_ngroups_max_times_is_one_entry():
    ngroups = os.sysconf("SC_NGROUPS_MAX")
    with container() as c:
        one = grouper(c, ngroups, "2000", comm="hx-one")[0]
        three = grouper(c, ngroups, "0,1000,2000", comm="hx-three")[0]
        print(f"  {ngroups} supplementary groups each: {lib.proc_status(one)['Groups'][:30]}...")
        got = by_hpid(measure("SELECT hpid, groups, hgroups FROM ps(?)", c.init))
        want = {one: {"hpid": one, "groups": "extra", "hgroups": str(host_gid(c, 2000))},
                three: {"hpid": three, "groups": "root,somegroup,extra",
                        "hgroups": ",".join(str(host_gid(c, x)) for x in (0, 1000, 2000))}}
        for h, w in want.items():
            assert got.get(h) == w, f"process {h} holding {ngroups} groups: got {got.get(h)}, want {w}"


def test_1_mib_group_names_held_many_times_by_many_processes_read_as_numbers():
    bound, _ = etc_bound()
    ngroups = os.sysconf("SC_NGROUPS_MAX")
    names = (bound - 4096) // ((1 << 20) + 16)  # as many 1 MiB names as the file can hold
    gids = list(range(3000, 3000 + names))
    tmp = tempfile.mkdtemp(prefix="hx-bounds-group-")
    try:
        with container("--sleepers", str(SLEEPERS - 8)) as c:
            with open(f"/proc/{c.init}/root/etc/group", "rb") as f:
                own = f.read()
            data = own + b"".join(bytes([ord("a") + i]) * (1 << 20) + b":x:%d:\n" % g for i, g in enumerate(gids))
            assert len(data) <= bound
            path = write(tmp, "group", data)
            holders = grouper(c, ngroups, f"{gids[0]}-{gids[-1]}", nprocs=8, comm="hx-big")
            sql = "SELECT * FROM ps(?)"
            control = measure(sql, c.init)
            lend(c, path, "group")
            hostile = measure(sql, c.init)
            problems = [check_peak(f"{names} gids of 1 MiB names held by {len(holders)} processes", control,
                                   hostile, len(data), 3)]  # group, rgroup, groups
            got = {r["hpid"]: r for r in hostile["rows"]}
            want = {"groups": ",".join(map(str, gids)), "hgroups": ",".join(str(host_gid(c, g)) for g in gids)}
            for h in holders:
                r = {k: got.get(h, {}).get(k) for k in want}
                if r != want:
                    problems.append(f"process {h} holding {ngroups} groups of {names} gids with 1 MiB names: "
                                    f"got {r}, want {want}")
            if got.get(c.hpid("someone"), {}).get("groups") != "extra":
                problems.append(f"the file's other names do not lend: {got.get(c.hpid('someone'))}")
            problems = [x for x in problems if x]
            assert not problems, "\n  ".join(problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def expected_cut(entries, limit):
    """The documented cut of a groups value: the whole entries that fit in
    LIMIT bytes with their commas, then ",+N" for the N left out."""
    out, n = "", 0
    for e in entries:
        if len(out) + (1 if out else 0) + len(e) > limit:
            break
        out += ("," if out else "") + e
        n += 1
    return out + (f",+{len(entries) - n}" if n < len(entries) else "")


def test_65536_distinct_groups_are_cut_at_psnap_groups_max():
    nmax, gmax = define("PSNAP_NAME_MAX"), define("PSNAP_GROUPS_MAX")
    ngroups = os.sysconf("SC_NGROUPS_MAX")
    tmp = tempfile.mkdtemp(prefix="hx-bounds-cut-")
    try:
        with container() as c:
            with open(f"/proc/{c.init}/root/etc/group", "rb") as f:
                own = f.read()
            # 400 groups named with PSNAP_NAME_MAX bytes: more than the cut holds
            named = {g: (b"%c" % (ord("a") + g % 26)) * (nmax - 5) + b"%05d" % g for g in range(100, 500)}
            path = write(tmp, "group", own + b"".join(n + b":x:%d:\n" % g for g, n in named.items()))
            lend(c, path, "group")
            h = grouper(c, ngroups, f"0-{ngroups - 1}", comm="hx-all")[0]
            got = by_hpid(measure("SELECT hpid, groups, hgroups FROM ps(?)", c.init, keep=1 << 30))[h]
            lent = {0: "root", 1000: "somegroup", 2000: "extra", 65534: "nogroup"}
            lent.update((g, n.decode()) for g, n in named.items())
            want = {"hpid": h,
                    "groups": expected_cut([lent.get(g, str(g)) for g in range(ngroups)], gmax),
                    "hgroups": expected_cut([str(host_gid(c, g)) for g in range(ngroups)], gmax)}
            for k in ("groups", "hgroups"):
                v = got[k]
                assert v == want[k], \
                    (f"{k} of {ngroups} distinct groups: got {len(v or '')} bytes ending {(v or '')[-40:]!r}, "
                     f"want {len(want[k])} bytes ending {want[k][-40:]!r}")
                print(f"  {k}: {len(v)} bytes, ends {v[-24:]!r}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
