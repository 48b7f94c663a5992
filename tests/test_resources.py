"""The resource columns of issue 10: memory (pss, uss, swap, shared, pmem),
I/O (/proc/PID/io), nfds, oom_score, oom_score_adj, cpus_allowed and psr,
each compared with an independent oracle on real processes: procps ps,
smem-style sums of /proc/PID/smaps, psutil, the entries of /proc/PID/fd and
the /proc files themselves. Values that move between reads are compared
with oracle reads taken just before and just after ours. Also: what each
column makes a scan read (the plan's sources, strace), NULL where the
caller may not read, and the same values through pidns for a container."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import lib
from lib import Skip, connect, q, q1, start

SRC = {"stat": 0x1, "status": 0x2, "smaps": 1 << 20, "io": 1 << 21, "fd": 1 << 22, "oom_score": 1 << 23,
       "oom_adj": 1 << 24, "meminfo": 1 << 25}
IO = ["rchar", "wchar", "read_bytes", "write_bytes", "syscr", "syscw"]
NEW = ["pss", "uss", "swap", "shared", "pmem", "nfds", "oom_score", "oom_score_adj", "cpus_allowed", "psr"] + IO


def idle_child(nfiles=0, io_bytes=0):
    """A python child that writes IO_BYTES to a file, reads them back, opens
    NFILES extra descriptors, prints 'ready' and pauses: afterwards its
    counters, descriptors and memory stay put."""
    code = ("import os, signal, tempfile\n"
            f"fs = [open('/dev/null') for _ in range({nfiles})]\n"
            f"with tempfile.TemporaryFile() as f:\n"
            f"    f.write(b'x' * {io_bytes}); f.flush(); f.seek(0); f.read()\n"
            "print('ready', flush=True)\n"
            "signal.pause()\n")
    p = start([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    lib.wait_for(lambda: lib.proc_stat(p.pid)[1][0] == "S", timeout=lib.HANG, what="the child to pause")
    return p


def plan_sources(sql, db=None):
    detail = q("EXPLAIN QUERY PLAN " + sql, db=db)[0][3]
    m = re.search(r"VIRTUAL TABLE INDEX \d+:src=([0-9a-f]+)", detail)
    assert m, detail
    return int(m.group(1), 16)


def smaps_sums(pid):
    """smem's way: Pss, and Private_Clean + Private_Dirty, summed over every
    mapping of /proc/PID/smaps (KiB)."""
    pss = uss = 0
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            k, _, rest = line.partition(":")
            if k == "Pss":
                pss += int(rest.split()[0])
            elif k in ("Private_Clean", "Private_Dirty"):
                uss += int(rest.split()[0])
    return pss, uss


def ps_fields(pid, fields):
    out = subprocess.run(["ps", "-o", ",".join(f + "=" for f in fields), "-p", str(pid)], capture_output=True,
                         text=True).stdout.split()
    assert len(out) == len(fields), (fields, out)
    return out


def is_static(path):
    """An ELF executable without a PT_INTERP program header (64-bit, LE)."""
    import struct
    e = lib.read(path, "rb")
    if e[:6] != b"\x7fELF\x02\x01":
        return False
    phoff, = struct.unpack_from("<Q", e, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", e, 0x36)
    return all(struct.unpack_from("<I", e, phoff + i * phentsize)[0] != 3 for i in range(phnum))


def between(v, a, b):
    return min(a, b) <= v <= max(a, b)


def test_new_columns_are_typed_documented_and_in_the_readme():
    db = connect()
    desc = {r[0]: r[1:] for r in q("SELECT name, type, source, doc FROM ps_descriptors", db=db)}
    readme = open(os.path.join(lib.ROOT, "README.md")).read()
    for c in NEW:
        assert c in desc and desc[c][1] and desc[c][2], c
        assert f"| `{c}`" in readme, c
    row = dict(zip(NEW, q1(f"SELECT {', '.join(NEW)} FROM ps WHERE pid = ?", os.getpid(), db=db)))
    want = {"INTEGER": int, "REAL": float, "TEXT": str}
    for c in NEW:
        assert isinstance(row[c], want[desc[c][0]]), (c, row[c], desc[c][0])


def test_each_new_column_reads_only_its_own_source():
    """The plan's sources: stat (always) plus the one file a column needs."""
    want = {"pss": "smaps", "uss": "smaps", "swap": "status", "shared": "status", "cpus_allowed": "status",
            "nfds": "fd", "oom_score": "oom_score", "oom_score_adj": "oom_adj", "psr": "stat"}
    want.update({c: "io" for c in IO})
    for col, src in want.items():
        got = plan_sources(f"SELECT {col} FROM ps")
        assert got == SRC["stat"] | SRC[src], (col, hex(got))
    assert plan_sources("SELECT pmem FROM ps") == SRC["stat"] | SRC["status"] | SRC["meminfo"]


def test_last_column_reads_only_io():
    """syscw is the last visible column: colUsed's bit 63 stands for every
    column from 63 on, the visible ones all from /proc/PID/io (after them
    only the hidden _raw columns, which read their files on first use). A
    scan of it opens stat and io per process, and nothing else (strace)."""
    db = connect()
    last = q("SELECT name FROM pragma_table_xinfo('ps') WHERE NOT hidden", db=db)[-1][0]
    assert last == "syscw" and len(q("SELECT 1 FROM pragma_table_xinfo('ps')", db=db)) > 63, last
    assert plan_sources("SELECT syscw FROM ps", db=db) == SRC["stat"] | SRC["io"]
    assert plan_sources("SELECT pid, rchar, syscw FROM ps", db=db) == SRC["stat"] | SRC["io"]
    assert plan_sources("SELECT pid, args_raw, cwd_raw FROM ps", db=db) == SRC["stat"] | SRC["io"]
    import test_host
    opened, _, alive = test_host.strace_run("SELECT pid, syscw FROM ps")
    files, _ = test_host.per_pid_files(opened)
    test_host.assert_read_for_all(files, alive, "io")
    other = {n for names in files.values() for n in names if n not in ("stat", "io")}
    assert not other, f"SELECT syscw opened more than stat and io: {sorted(other)}"
    test_host.assert_each_file_once(files)
    # a process that exits after the listing fails its open: " (failed)"
    others = {p for p in opened if p.startswith("/proc/")
              and not re.fullmatch(r"/proc/\d+(/(stat|io))?( \(failed\))?", p)
              and not p.startswith("/proc/self") and p != "/proc"}
    assert not others, sorted(others)[:20]


def test_pss_and_uss_match_procps_and_smaps_sums():
    """pss and uss of an idle process, read just before and just after ours
    by the oracles: ours lies between. Who reads matters: a page another
    process maps too is shared, so a reader that maps the child's libraries
    (ps maps libc) lowers the child's pss while it runs, and its exit turns
    shared pages private (uss grows). So ps is compared on a statically
    linked child (busybox: no page shared with ps or with us), and the
    smem-style sums over smaps, read by this process itself (no new
    mappings), on a python child that shares python's pages with a twin."""
    if not shutil.which("ps"):
        raise Skip("procps ps is not installed")
    db = connect()
    busybox = shutil.which("busybox")
    if busybox and is_static(busybox):
        p = start([busybox, "sleep", "1000"])
        lib.wait_for(lambda: lib.proc_stat(p.pid)[1][0] == "S", timeout=lib.HANG, what="busybox sleep")
        ps0 = [int(x) for x in ps_fields(p.pid, ["pss", "uss"])]
        pss, uss = q1("SELECT pss, uss FROM ps WHERE pid = ?", p.pid, db=db)
        ps1 = [int(x) for x in ps_fields(p.pid, ["pss", "uss"])]
        assert between(pss, ps0[0], ps1[0]) and between(uss, ps0[1], ps1[1]), (pss, uss, ps0, ps1)
        assert 0 < uss <= pss, (pss, uss)
    a, b = idle_child(), idle_child()  # python's pages shared between the two
    for pid in (a.pid, b.pid):
        sm0 = smaps_sums(pid)
        pss, uss = q1("SELECT pss, uss FROM ps WHERE pid = ?", pid, db=db)
        sm1 = smaps_sums(pid)
        # smaps_rollup sums exact Pss (in bytes << 12) before it shifts to
        # KiB; smaps rounds each mapping down: up to 1 KiB per mapping less
        nmaps = sum(1 for ln in open(f"/proc/{pid}/smaps") if ln.startswith("Pss:"))
        assert min(sm0[0], sm1[0]) <= pss <= max(sm0[0], sm1[0]) + nmaps, (pid, pss, sm0, sm1, nmaps)
        assert between(uss, sm0[1], sm1[1]), (pid, uss, sm0, sm1)
        assert 0 < uss <= pss, (pss, uss)


def test_swap_shared_pmem_match_status_and_procps():
    p = idle_child()

    def status():
        text = open(f"/proc/{p.pid}/status").read()
        return {k: int(v) for k, v in re.findall(r"^(VmSwap|RssFile|RssShmem|VmRSS):\s*(\d+)", text, re.M)}
    memtotal = int(re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read()).group(1))
    s0 = status()
    pmem_ps0 = float(ps_fields(p.pid, ["pmem"])[0])
    swap, shared, pmem, rss = q1("SELECT swap, shared, pmem, rss FROM ps WHERE pid = ?", p.pid)
    pmem_ps1 = float(ps_fields(p.pid, ["pmem"])[0])
    s1 = status()
    assert between(swap, s0["VmSwap"], s1["VmSwap"]), (swap, s0, s1)
    assert between(shared, s0["RssFile"] + s0["RssShmem"], s1["RssFile"] + s1["RssShmem"]), (shared, s0, s1)
    assert between(pmem, 100 * s0["VmRSS"] / memtotal, 100 * s1["VmRSS"] / memtotal), (pmem, s0, s1)
    assert abs(pmem - 100 * rss / memtotal) < 1e-9, (pmem, rss, memtotal)
    # ps truncates to one decimal
    lo, hi = min(pmem_ps0, pmem_ps1), max(pmem_ps0, pmem_ps1) + 0.1
    assert lo - 1e-9 <= pmem < hi + 1e-9, (pmem, pmem_ps0, pmem_ps1)
    # a kernel thread has no memory: 0, as ps prints
    assert q1("SELECT pss, uss, swap, shared, pmem FROM ps WHERE pid = 2") == (0, 0, 0, 0, 0.0)


def test_io_counters_match_psutil():
    try:
        import psutil
    except ImportError:
        raise Skip("python3-psutil is not installed (scripts/deps.sh test)")
    p = idle_child(io_bytes=300000)
    c = psutil.Process(p.pid).io_counters()
    got = dict(zip(IO, q1(f"SELECT {', '.join(IO)} FROM ps WHERE pid = ?", p.pid)))
    want = {"rchar": c.read_chars, "wchar": c.write_chars, "read_bytes": c.read_bytes,
            "write_bytes": c.write_bytes, "syscr": c.read_count, "syscw": c.write_count}
    assert got == want, (got, want)
    assert got["wchar"] >= 300000 and got["rchar"] >= 300000, got


def test_nfds_oom_cpus_allowed_psr_match_proc():
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[-1]
    p = idle_child(nfiles=7)
    os.sched_setaffinity(p.pid, {cpu})
    with open(f"/proc/{p.pid}/oom_score_adj", "w") as f:
        f.write("321")
    r = lib.row(p.pid, "nfds, oom_score, oom_score_adj, cpus_allowed, psr")
    assert r["nfds"] == len(os.listdir(f"/proc/{p.pid}/fd")), r
    assert r["nfds"] >= 10, r
    assert r["oom_score_adj"] == 321 == int(open(f"/proc/{p.pid}/oom_score_adj").read()), r
    assert r["oom_score"] == int(open(f"/proc/{p.pid}/oom_score").read()), r
    assert r["cpus_allowed"] == re.search(r"Cpus_allowed_list:\s*(\S+)", open(f"/proc/{p.pid}/status").read()).group(1)
    assert r["cpus_allowed"] == str(cpu), r
    # a sleeping child keeps the CPU it last ran on (field 39), as ps shows it
    field39 = int(open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()[36])
    assert r["psr"] == field39 == int(ps_fields(p.pid, ["psr"])[0]), (r, field39)


def test_psr_of_a_process_pinned_to_each_cpu():
    """A child pinned with taskset before it starts has run only there."""
    if not shutil.which("taskset"):
        raise Skip("taskset is not installed")
    for cpu in sorted(os.sched_getaffinity(0))[:4]:
        p = start(["taskset", "-c", str(cpu), "sleep", "1000"])
        lib.wait_for(lambda: lib.cmdline(p.pid) == "sleep 1000" and lib.proc_stat(p.pid)[1][0] == "S",
                     timeout=lib.HANG, what="sleep")
        assert lib.row(p.pid, "psr, cpus_allowed") == {"psr": cpu, "cpus_allowed": str(cpu)}, cpu


def test_unreadable_sources_are_null_for_an_unprivileged_caller():
    """io, smaps_rollup and fd/ need ptrace access: a caller without it gets
    NULL there, and the values anyone may read (oom_score, swap) still."""
    lib.require_root()
    if not shutil.which("setpriv") or not shutil.which("sqlite3"):
        raise Skip("setpriv or the sqlite3 shell is not installed")
    p = idle_child()
    sql = f"SELECT quote(pss), quote(uss), quote(nfds), quote(rchar), quote(syscw), quote(oom_score), " \
          f"quote(swap), quote(psr) FROM ps WHERE pid = {p.pid}"
    # a copy nobody can read: the clone may live in a directory of mode 0700
    tmp = tempfile.mkdtemp(prefix="res-nobody-")
    try:
        os.chmod(tmp, 0o755)
        ext = os.path.join(tmp, "ps.so")
        shutil.copyfile(lib.EXT if lib.EXT.endswith(".so") else lib.EXT + ".so", ext)
        os.chmod(ext, 0o755)
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sqlite3", ":memory:",
                            "-cmd", f".load {ext}", sql], capture_output=True, text=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert r.returncode == 0, r.stderr
    vals = r.stdout.strip().split("|")
    assert vals[:5] == ["NULL"] * 5, vals
    assert all(v != "NULL" for v in vals[5:]), vals


def test_new_columns_through_pidns_are_the_hosts():
    """In a container (ps(X)) every value comes from the caller's own /proc:
    the same as the host's row of that process."""
    lib.require_root()
    p = start(["unshare", "--fork", "--kill-child", "--pid", "--mount-proc", "sh", "-c", "exec sleep 1000"])
    inner = lib.wait_for(lambda: next(iter(lib.children(p.pid)), None), timeout=lib.HANG, what="unshare's child")
    lib.wait_for(lambda: lib.cmdline(inner) == "sleep 1000" and lib.proc_stat(inner)[1][0] == "S",
                 timeout=lib.HANG, what="sleep in the container")
    cols = "nfds, oom_score, oom_score_adj, cpus_allowed, psr, swap, shared, pmem, uss, " + ", ".join(IO)
    db = connect()
    inside = q(f"SELECT pid, hpid, {cols} FROM ps(?)", inner, db=db)
    host = q(f"SELECT 1, pid, {cols} FROM ps WHERE pid = ?", inner, db=db)
    assert inside == host and len(inside) == 1, (inside, host)
    assert inside[0][0] == 1 and inside[0][2] is not None


def test_a_scan_of_every_new_column_lists_the_same_processes():
    """Reading the new files never skips a live process (kernel threads,
    zombies: smaps_rollup answers ESRCH there)."""
    before = {int(d) for d in os.listdir("/proc") if d.isdigit()}
    got = {r[0] for r in q(f"SELECT pid, {', '.join(NEW)} FROM ps")}
    alive = before & {int(d) for d in os.listdir("/proc") if d.isdigit()}
    assert alive <= got, sorted(alive - got)[:20]
    zombie = start(["sh", "-c", "sleep 0 & exec sleep 1000"])
    lib.wait_for(lambda: any(lib.proc_stat(k)[1][0] == "Z" for k in lib.children(zombie.pid)), timeout=lib.HANG,
                 what="a zombie")
    z = [k for k in lib.children(zombie.pid) if lib.proc_stat(k)[1][0] == "Z"][0]
    r = lib.row(z, "state, pss, uss, nfds")
    assert r == {"state": "Z", "pss": 0, "uss": 0, "nfds": 0}, r
