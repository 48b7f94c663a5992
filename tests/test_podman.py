"""ps_top (sql/ps_top.sql) against real `podman top`, descriptor by descriptor.

Each test starts one podman container, reads its processes with
`podman top CTR <every descriptor podman lists>` and with
`SELECT ... FROM ps_top WHERE pidns = <host pid of the container's init>`,
and compares the two texts. Containers (the kinds the issue lists):

  kind          podman run options                 processes
  default       (none)                             sleep 1000 (init); an exec'd sh
                                                   as tester (uid 1000) that
                                                   renices itself to 5, burns
                                                   ~1 s of CPU, then execs
                                                   sleep 1001
  uidmap        --user 1000:1000, --uidmap and     sleep 1000 as tester; an exec'd
                --gidmap 0:100000:65536            sleep 1002 as root (host 100000)
  userns_auto   --userns=auto --user 1000:1000     sleep 1000 (needs subordinate ids
                                                   for user `containers`)
  privileged    --privileged                       sleep 1000
  tty           -t                                 sleep 1000 on pts/0
  cap_drop_all  --cap-drop ALL                     sleep 1000

No image can be pulled here, so each container runs from an exploded root
filesystem (`--rootfs DIR`): busybox-static and an /etc/passwd and /etc/group
with root and tester/testers (1000). podman keeps its store, run and temporary
directories in a private temporary directory. Whatever happens, every
container is removed (`podman rm -f -t 0`, on leaving a `with` block), its init
and conmon are waited for, and the directory is deleted once nothing is left
mounted under it.

What this machine needs, found by trying (podman 4.3.1 on Debian 12):
  --runtime runc   crun 1.8.1 refuses a cgroup v1 hybrid hierarchy whose cgroup2
                   mount holds a controller ("cgroups in hybrid mode not
                   supported, drop all controllers from cgroupv2"; here
                   /sys/fs/cgroup/unified has hugetlb); runc accepts it. Used
                   whenever runc is installed.
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
                   podman asks the runtime for nofile 1048576 and nproc 32768
                   by default, and lowers its own nproc to 32768 first; without
                   CAP_SYS_RESOURCE (this VM's root lacks it) setrlimit() fails
                   with EPERM. Lowering a limit never needs a privilege.
  --network none, --cgroup-manager cgroupfs, --events-backend file,
  --storage-driver vfs: no network, no systemd, no kernel overlay needed.

Reading podman top's text: a Go tabwriter aligns it in columns (cells padded
with spaces), and some headers (EFFECTIVE CAPS) and values (stime, args) hold
spaces. The headers are known (ps_descriptors.header, itself checked against
podman's header line), so the column starts are found in the header line and
every row is cut at those offsets. args is put last: the last cell is printed
unpadded, so its text is exact (psgo's args ends with a space).

Values that move between two reads are compared within what the time between
the reads allows, from timestamps taken around each read (never a hand-picked
band); the reads are ps_top (A), podman top (P), ps_top again (B):
  time    psgo's whole CPU seconds lie between A's and B's (the kernel never
          lets CPU time go back)
  etime   psgo's now - start; ps_top's is SQLite's now (milliseconds, rounded)
          - the same start, so P - A lies in [t(P start) - t(A end),
          t(P end) - t(A start)] widened by that rounding, and likewise B - P
  pcpu    100 * cpu / elapsed with its own elapsed read during P: within the
          bounds that cpu in [A, B] and that elapsed give, each printed with 3
          decimals; and ps_top's own is that rule on its own time and etime
Everything else must be equal as text, once ps_top's reads before and after
podman agree (otherwise the round is retried), except for one psgo 1.7 defect
that ps_top does not copy (reference/psgo-descriptors.md): psgo names only
capabilities 0-37, prints `unknown` for every higher one that is set, and so
never says `full` on a current kernel. For the five capability sets, both
texts are checked against the mask in /proc/PID/status: podman's must be
psgo's text of it, ps_top's the same with each capability above 37 named, and
`full` when every capability the kernel knows (cap_last_cap) is set. Where no
capability above 37 is set the two rules give the same text.

podman's `stime` is printed in the local time zone and ps_top's in UTC (as
its header says): podman runs with TZ=UTC. ps_top's uid and huid (psgo >= 1.8)
are not among podman 4.3.1's descriptors and are not compared here.
"""
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time

import lib
from lib import Skip, cmdline, proc_status, read, require_root

ROOT = lib.ROOT
PS_TOP = os.path.join(ROOT, "sql", "ps_top.sql")
BUSYBOX_APPLETS = ["sh", "sleep", "renice"]
VOLATILE = {"pcpu", "etime", "time"}
CAPS = {"capamb", "capbnd", "capeff", "capinh", "capprm"}
# status key of each capability descriptor
CAP_KEY = {"capamb": "CapAmb", "capbnd": "CapBnd", "capeff": "CapEff", "capinh": "CapInh", "capprm": "CapPrm"}
# psgo 1.7's capability names stop at CAP_AUDIT_READ (37); the kernel's next ones
PSGO_LAST_CAP = 37
NEWER_CAPS = {38: "PERFMON", 39: "BPF", 40: "CHECKPOINT_RESTORE"}
# SQLite's 'now' has millisecond resolution and ps_top rounds to it
SQL_CLOCK = 0.001
# burn this many clock ticks of CPU before exec'ing sleep (time shows 1s)
BURN_TICKS = 105

# ---------------------------------------------------------------- podman


def need_podman():
    require_root()
    for cmd in ("podman", "busybox"):
        if not shutil.which(cmd):
            raise Skip(f"no {cmd} (scripts/deps.sh test installs podman, runc, busybox-static)")
    if elf_interpreter(shutil.which("busybox")):
        raise Skip("busybox is linked dynamically: the root filesystem needs busybox-static")


def gone(pid):
    """PID has exited (or is a zombie nobody has reaped yet)."""
    try:
        return proc_status(pid)["State"][0] == "Z"
    except OSError:
        return True


def elf_interpreter(path):
    """True when the 64-bit little-endian ELF file PATH names a program
    interpreter (PT_INTERP): it is not statically linked."""
    with open(path, "rb") as f:
        h = f.read(64)
        assert h[:4] == b"\x7fELF" and h[4] == 2 and h[5] == 1, f"{path}: not a 64-bit little-endian ELF file"
        phoff, = struct.unpack_from("<Q", h, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", h, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    return any(struct.unpack_from("<I", ph, i * phentsize)[0] == 3 for i in range(phnum))


class Podman:
    """podman with a private store, run and temporary directory, and a root
    filesystem of busybox to run containers from. Use as a context manager:
    on exit every container started here is removed (podman rm -f -t 0),
    their conmon processes waited for, and the directory deleted."""

    def __enter__(self):
        need_podman()
        self.dir = tempfile.mkdtemp(prefix="psnap-pm-")
        os.chmod(self.dir, 0o755)  # a user-namespaced root must reach the root filesystem
        self.names = []
        self.pids = []  # the inits and conmons of the containers started here
        self.rootfs = os.path.join(self.dir, "rootfs")
        for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "run"):
            os.makedirs(os.path.join(self.rootfs, d))
        shutil.copy(shutil.which("busybox"), os.path.join(self.rootfs, "bin", "busybox"))
        for a in BUSYBOX_APPLETS:
            os.symlink("busybox", os.path.join(self.rootfs, "bin", a))
        # mount points podman binds files onto: a user-namespaced root could not create them
        for f in ("etc/hostname", "etc/hosts", "etc/resolv.conf", "run/.containerenv"):
            open(os.path.join(self.rootfs, f), "w").close()
        with open(os.path.join(self.rootfs, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:tester:/tmp:/bin/sh\n")
        with open(os.path.join(self.rootfs, "etc", "group"), "w") as f:
            f.write("root:x:0:\ntesters:x:1000:\n")
        self.base = ["podman", "--root", os.path.join(self.dir, "store"),
                     "--runroot", os.path.join(self.dir, "run"), "--tmpdir", os.path.join(self.dir, "tmp"),
                     "--storage-driver", "vfs", "--events-backend", "file", "--cgroup-manager", "cgroupfs"]
        if shutil.which("runc"):
            self.base += ["--runtime", "runc"]
        return self

    def __exit__(self, *exc):
        try:
            if self.names:
                self.run("rm", "-f", "-t", "0", *self.names, check=False)
            for pid in self.pids:
                lib.wait_for(lambda: gone(pid), timeout=10,
                             what=f"process {pid} (a container's init or conmon) to exit after podman rm")
            mounts = [ln.split()[4] for ln in read("/proc/self/mountinfo").splitlines()
                      if ln.split()[4].startswith(self.dir + "/")]
            assert not mounts, f"still mounted after podman rm: {mounts}"
        finally:
            if not any(ln.split()[4].startswith(self.dir + "/")
                       for ln in read("/proc/self/mountinfo").splitlines()):
                shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def run(self, *args, check=True, timeout=60):
        """Run podman ARGS; returns its CompletedProcess (stdout as text).
        TZ=UTC: psgo prints stime in the local zone, ps_top in UTC."""
        p = subprocess.run(self.base + list(args), capture_output=True, timeout=timeout,
                           env=dict(os.environ, TZ="UTC"))
        p.stdout = p.stdout.decode("utf-8", "surrogateescape")
        p.stderr = p.stderr.decode("utf-8", "surrogateescape").strip()
        if check:
            assert p.returncode == 0, f"podman {' '.join(args)}: exit {p.returncode}: {p.stderr}"
        return p

    def start(self, name, *opts, argv=("sleep", "1000")):
        """podman run -d a container from the busybox root filesystem; returns
        the host pid of its init. A container that cannot start at all makes
        the test skip with podman's own error."""
        self.names.append(name)
        p = self.run("run", "-d", "--name", name, "--network", "none",
                     "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                     *opts, "--rootfs", self.rootfs, *argv, check=False)
        if p.returncode != 0:
            raise Skip(f"podman cannot run a container here ({' '.join(opts) or 'default'}): {p.stderr}")
        pid, conmon = self.run("inspect", "-f", "{{.State.Pid}} {{.State.ConmonPid}}", name).stdout.split()
        self.pids += [int(pid), int(conmon)]
        return int(pid)

    def descriptors(self):
        """The descriptors podman top knows, in its order."""
        return self.run("top", "--list-descriptors").stdout.split()

    def top(self, name, descs, headers):
        """podman top NAME DESCS as {pid: {descriptor: text}}; DESCS holds
        pid and ends with args."""
        return parse_top(self.run("top", name, *descs).stdout, descs, headers)


def parse_top(text, descs, headers):
    """Cut podman top's tabwriter output at the column starts its header line
    gives (HEADERS in the order of DESCS). Every cell but the last is padded
    with at least one space; the last is printed as it is."""
    lines = text.split("\n")
    assert lines and lines[-1] == "", f"podman top output does not end with a newline: {text!r}"
    head, rows = lines[0], lines[1:-1]
    starts, pos = [], 0
    for d in descs:
        while pos < len(head) and head[pos] == " ":
            pos += 1
        assert head.startswith(headers[d], pos), \
            f"podman top header: expected {headers[d]!r} ({d}) at offset {pos}: {head!r}"
        starts.append(pos)
        pos += len(headers[d])
    assert pos == len(head), f"podman top header has more than {descs}: {head!r}"
    out = {}
    for ln in rows:
        cells = {}
        for i, d in enumerate(descs):
            if i + 1 < len(descs):
                cell = ln[starts[i]:starts[i + 1]]
                assert cell.endswith(" ") and len(cell) == starts[i + 1] - starts[i], \
                    f"podman top row not aligned at {d}: {ln!r}"
                cells[d] = cell.rstrip(" ")
            else:
                cells[d] = ln[starts[i]:]
        out[int(cells["pid"])] = cells
    return out


# ---------------------------------------------------------------- ps_top


def view_connect():
    """A connection with the extension and sql/ps_top.sql read (as
    tests/test_views.py loads sql/ files)."""
    db = lib.connect()
    db.text_factory = lambda b: b.decode("utf-8", "surrogateescape")  # command lines need not be UTF-8
    with open(PS_TOP) as f:
        db.executescript(f.read())
    return db


def ps_top(db, descs, init):
    """ps_top's rows of the container of host pid INIT as {pid: {descriptor:
    text}} (None stays None), with the instants just before and after."""
    t0 = time.time()
    cur = db.execute(f"SELECT {', '.join(chr(34) + d + chr(34) for d in descs)} FROM ps_top "
                     "WHERE pidns = ?", (init,))
    rows = cur.fetchall()
    t1 = time.time()
    out = {}
    for r in rows:
        out[int(r[descs.index("pid")])] = {d: (None if v is None else str(v)) for d, v in zip(descs, r)}
    return out, t0, t1


# ---------------------------------------------------------------- Go texts


def parse_go_duration(s):
    """Seconds of a Go time.Duration.String() text, or None if it is not one."""
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m(?!s))?(\d+)(?:\.(\d{1,9}))?(s|ms|\u00b5s|ns)", s or "")
    if not m:
        return None
    h, mi, whole, fr, unit = m.groups()
    scale = {"s": 10**9, "ms": 10**6, "\u00b5s": 10**3, "ns": 1}[unit]
    ns = int(whole) * scale + (int(fr.ljust(9, "0")) * scale // 10**9 if fr else 0)
    return (ns + (int(h or 0) * 3600 + int(mi or 0) * 60) * 10**9) / 1e9


def pcpu_text(x):
    """psgo's strconv.FormatFloat(x, 'f', 3, 64): Python's %.3f rounds the
    same binary value the same way, an exact half to even (SQLite's printf
    rounds it away from zero: 0.0625 gives 0.063 there, 0.062 in Go)."""
    return "%.3f" % x


# ---------------------------------------------------------------- capabilities


def cap_names(mask, last_cap, psgo):
    """The names of the bits of MASK: as psgo 1.7 prints them (PSGO=True:
    its names for 0..37, 'unknown' for any higher bit), or as the kernel
    names them (None for a bit above NEWER_CAPS)."""
    names = []
    for bit in range(64 if psgo else last_cap + 1):
        if mask >> bit & 1:
            if bit <= PSGO_LAST_CAP:
                names.append(PSGO_CAPS[bit])
            else:
                names.append("unknown" if psgo else NEWER_CAPS.get(bit))
    return names


# Linux capability numbers 0..37, as psgo 1.7 names them (capability(7))
PSGO_CAPS = ("CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP "
             "LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER "
             "SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE "
             "SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP "
             "MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ").split()
assert len(PSGO_CAPS) == PSGO_LAST_CAP + 1


def caps_expected(hpid, desc):
    """(what psgo 1.7 prints, what ps_top must print) for capability set DESC
    of host pid HPID, from /proc. They differ only where psgo lacks names:
    psgo says "full" only for bits 0..37 exactly, ps_top for every bit up to
    the kernel's cap_last_cap."""
    mask = int(proc_status(hpid)[CAP_KEY[desc]], 16)
    last = int(read("/proc/sys/kernel/cap_last_cap"))
    allbits = (1 << (last + 1)) - 1
    ours = cap_names(mask, last, psgo=False)
    assert None not in ours, f"capability above {max(NEWER_CAPS)} set in {desc} of {hpid}: name it in NEWER_CAPS"
    psgo_text = ("full" if mask == (1 << (PSGO_LAST_CAP + 1)) - 1 else
                 ",".join(sorted(cap_names(mask, last, psgo=True))) or "none")
    ours_text = "full" if mask & allbits == allbits else ",".join(sorted(ours)) or "none"
    return psgo_text, ours_text


# ---------------------------------------------------------------- comparison


def ns_members(init):
    """{host pid: command line} of every process in the PID namespace of INIT."""
    ino = os.stat(f"/proc/{init}/ns/pid").st_ino
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.stat(f"/proc/{d}/ns/pid").st_ino == ino:
                out[int(d)] = cmdline(int(d))
        except OSError:
            pass
    return out


def wait_settled(init, expect, timeout=20):
    """Wait until the container of INIT holds exactly the command lines EXPECT,
    each process asleep (S); returns {pid in the container (the last NSpid
    entry): host pid}."""
    def ok():
        m = ns_members(init)
        if sorted(c or "" for c in m.values()) != sorted(expect):
            return None
        try:
            sts = {p: proc_status(p) for p in m}
        except OSError:
            return None
        if not all(st["State"][0] == "S" for st in sts.values()):
            return None
        return {int(st["NSpid"].split()[-1]): p for p, st in sts.items()}
    return lib.wait_for(ok, timeout=timeout, what=f"container {init} to hold {expect}, asleep")


def compare(pm, name, init, kind, expect):
    """Compare podman top and ps_top on every descriptor podman knows for
    container NAME (host pid INIT), whose processes are EXPECT ({pid in the
    container: host pid}); returns the number of processes compared. Collects
    every mismatch before failing, naming descriptor, kind, pid and both texts."""
    db = view_connect()
    descs = pm.descriptors()
    cols = [r[1] for r in db.execute("PRAGMA table_info(ps_top)")]
    missing = [d for d in descs if d not in cols]
    assert not missing, f"podman top descriptors that ps_top lacks: {missing}"
    headers = dict(db.execute("SELECT name, header FROM ps_descriptors WHERE psgo"))
    assert set(descs) <= set(headers), f"no ps_descriptors header for {sorted(set(descs) - set(headers))}"
    order = [d for d in descs if d != "args"] + ["args"]
    stable = [d for d in order if d not in VOLATILE]
    for _ in range(3):
        a, t0, t1 = ps_top(db, order, init)
        t2 = time.time()
        p = pm.top(name, order, headers)
        t3 = time.time()
        b, t4, t5 = ps_top(db, order, init)
        if sorted(a) == sorted(b) and all(a[x][d] == b[x][d] for x in a for d in stable):
            break
    else:
        raise AssertionError(f"{kind}: ps_top kept changing around podman top: {a} {b}")
    assert sorted(p) == sorted(a) == sorted(expect), \
        f"{kind}: pids: podman top {sorted(p)}, ps_top {sorted(a)}, expected {sorted(expect)}"
    bad = []

    def mismatch(d, pid, pv, tv, why=""):
        bad.append(f"{d} [{kind}, pid {pid}]: podman {pv!r} ps_top {tv!r}" + (f" ({why})" if why else ""))

    for pid in sorted(p):
        P, A, B = p[pid], a[pid], b[pid]
        for d in stable:
            if d in CAPS:
                psgo, ours = caps_expected(expect[pid], d)
                if P[d] != psgo or A[d] != ours:
                    mismatch(d, pid, P[d], A[d], f"from /proc: psgo 1.7 prints {psgo!r}, ps_top must print {ours!r}")
            elif P[d] != A[d]:
                mismatch(d, pid, P[d], A[d])
        # time: whole seconds of CPU, between ps_top's two reads
        tp, ta, tb = (parse_go_duration(x["time"]) for x in (P, A, B))
        if None in (tp, ta, tb) or not ta <= tp <= tb:
            mismatch("time", pid, P["time"], A["time"], f"then {B['time']!r}")
        # etime: the same start, read at other instants
        ep, ea, eb = (parse_go_duration(x["etime"]) for x in (P, A, B))
        if None in (ep, ea, eb) or not (t2 - t1 - SQL_CLOCK <= ep - ea <= t3 - t0 + SQL_CLOCK and
                                        t4 - t3 - SQL_CLOCK <= eb - ep <= t5 - t2 + SQL_CLOCK):
            mismatch("etime", pid, P["etime"], A["etime"],
                     f"then {B['etime']!r}; reads at {t0:.6f}-{t1:.6f}, {t2:.6f}-{t3:.6f}, {t4:.6f}-{t5:.6f}")
            continue
        # pcpu: ps_top's own is psgo's rule at its instant ...
        if A["pcpu"] != pcpu_text(100 * ta / ea):
            mismatch("pcpu", pid, P["pcpu"], A["pcpu"], f"ps_top's own time/etime give {pcpu_text(100 * ta / ea)}")
        # ... and podman's lies within what CPU time in [A, B] and its elapsed time allow
        lo = float(pcpu_text(100 * ta / (ea + t3 - t0 + SQL_CLOCK)))
        hi = float(pcpu_text(100 * tb / (ea + t2 - t1 - SQL_CLOCK)))
        try:
            ok = lo <= float(P["pcpu"]) <= hi and P["pcpu"] == pcpu_text(float(P["pcpu"]))
        except ValueError:
            ok = False
        if not ok:
            mismatch("pcpu", pid, P["pcpu"], A["pcpu"], f"allowed {lo:.3f}..{hi:.3f}")
    assert not bad, f"{len(bad)} mismatches between podman top and ps_top:\n  " + "\n  ".join(bad)
    return len(p)


# ---------------------------------------------------------------- tests

BURN = ("renice -n 5 -p $$ >/dev/null; while :; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
        "read -r _ _ _ _ _ _ _ _ _ _ _ _ _ ut st _ < /proc/$$/stat; "
        f"[ $((ut + st)) -ge {BURN_TICKS} ] && exec sleep 1001; done")


def test_default_container_with_an_exec_d_cpu_burner():
    with Podman() as pm:
        init = pm.start("psnap-default")
        pm.run("exec", "-d", "--user", "1000:1000", "psnap-default", "sh", "-c", BURN)
        pids = wait_settled(init, ["sleep 1000", "sleep 1001"])
        assert compare(pm, "psnap-default", init, "default", pids) == len(pids)


def test_uid_mapped_container():
    with Podman() as pm:
        init = pm.start("psnap-uidmap", "--user", "1000:1000",
                        "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536")
        pm.run("exec", "-d", "--user", "0:0", "psnap-uidmap", "sleep", "1002")
        pids = wait_settled(init, ["sleep 1000", "sleep 1002"])
        st = proc_status(init)
        assert st["Uid"].split()[1] == "101000", f"uid map not applied: {st['Uid']}"
        assert compare(pm, "psnap-uidmap", init, "uidmap", pids) == len(pids)


def test_userns_auto_container():
    need_podman()
    have = [any(ln.startswith("containers:") for ln in (read(f) if os.path.exists(f) else "").splitlines())
            for f in ("/etc/subuid", "/etc/subgid")]
    if not all(have):
        raise Skip("--userns=auto: no subordinate ids for user 'containers' (podman's root-auto-userns-user) "
                   "in /etc/subuid and /etc/subgid; runc then fails: User namespaces enabled, but no uid "
                   "mappings found")
    with Podman() as pm:
        init = pm.start("psnap-auto", "--userns=auto", "--user", "1000:1000")
        pids = wait_settled(init, ["sleep 1000"])
        assert compare(pm, "psnap-auto", init, "userns_auto", pids) == len(pids)


def test_privileged_container():
    with Podman() as pm:
        init = pm.start("psnap-priv", "--privileged")
        pids = wait_settled(init, ["sleep 1000"])
        assert compare(pm, "psnap-priv", init, "privileged", pids) == len(pids)


def test_tty_container():
    with Podman() as pm:
        init = pm.start("psnap-tty", "-t")
        pids = wait_settled(init, ["sleep 1000"])
        assert int(lib.proc_stat(init)[1][4]) != 0, "the init has no controlling terminal"
        assert compare(pm, "psnap-tty", init, "tty", pids) == len(pids)


def test_cap_drop_all_container():
    with Podman() as pm:
        init = pm.start("psnap-nocaps", "--cap-drop", "ALL")
        pids = wait_settled(init, ["sleep 1000"])
        assert int(proc_status(init)["CapBnd"], 16) == 0, "bounding set not empty"
        assert compare(pm, "psnap-nocaps", init, "cap_drop_all", pids) == len(pids)
