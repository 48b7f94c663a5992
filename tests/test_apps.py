"""The example programs in examples/, run as a user would run them:

  examples/python/ps_query.py   Debian's /usr/bin/python3 and its sqlite3 module
  examples/node/ps_query.js     Node.js with better-sqlite3 12 (installed here
                                with npm into examples/node/node_modules, which
                                is kept between runs and ignored by git)

Each prints JSON; the host part is checked against the example's own process
(its pid and command line, known here), the container part against a real
container made with unshare(1) (root only): its init is the child of unshare,
its pids inside are 1..n, hpid gives the host pids found here through /proc,
and pidns reads back the pid given on the command line.
"""
import json
import os
import shutil
import subprocess

import lib
from lib import Skip, children, cmdline, require_root

ROOT = lib.ROOT
PY = "/usr/bin/python3"
PY_EXAMPLE = os.path.join(ROOT, "examples", "python", "ps_query.py")
NODE_DIR = os.path.join(ROOT, "examples", "node")
NODE_EXAMPLE = os.path.join(NODE_DIR, "ps_query.js")

SCRIPT = "sleep 1001 & sleep 1002 & exec sleep 1000"
INSIDE = [(1, 0, "sleep 1000"), (2, 1, "sleep 1001"), (3, 1, "sleep 1002")]


def container():
    """unshare(1) a container running SCRIPT; return (init host pid, {pid inside: host pid})."""
    require_root()
    if not shutil.which("unshare"):
        raise Skip("unshare (util-linux) is not installed")
    p = lib.start(["unshare", "--fork", "--pid", "--mount", "--mount-proc", "--user", "--map-root-user",
                   "--kill-child", "sh", "-c", SCRIPT],
                  start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                  stderr=subprocess.PIPE)
    p._own_pgrp = True  # cleanup() kills unshare, its child and the container at once

    def ready():
        if p.poll() is not None:
            raise AssertionError(f"unshare exited {p.returncode}: {p.stderr.read()}")
        kids = children(p.pid)  # the container's init is unshare's only child
        if len(kids) != 1 or cmdline(kids[0]) != "sleep 1000":
            return None
        inner = children(kids[0])
        if sorted(cmdline(k) or "" for k in inner) != ["sleep 1001", "sleep 1002"]:
            return None
        return kids[0], inner
    init, inner = lib.wait_for(ready, timeout=lib.HANG, what="the unshare container")
    hosts = {1: init}
    for h in inner:  # which is 2 and which is 3: NSpid's last field
        with open(f"/proc/{h}/status") as f:
            nspid = [ln.split()[1:] for ln in f if ln.startswith("NSpid:")][0]
        hosts[int(nspid[-1])] = h
    assert sorted(hosts) == [1, 2, 3], hosts
    return init, hosts


def run(argv, cwd=ROOT, timeout=120):
    """Run an example; return (pid, argv's command line, exit status, stdout, stderr)."""
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=timeout)
    return p.pid, out.decode(), err.decode(), p.returncode


def check_host(out, pid, argv):
    version = open(os.path.join(ROOT, "VERSION")).read().strip()
    assert out["version"].startswith(version + " ("), out["version"]
    host = out["host"]
    assert host and all(set(r) == {"pid", "ppid", "user", "state", "rss", "comm", "args"} for r in host), host[:2]
    pids = [r["pid"] for r in host]
    assert pids == sorted(pids) and len(pids) == len(set(pids)), "host rows not one per pid, by pid"
    me = [r for r in host if r["pid"] == pid]
    assert me, f"the example's own process {pid} is not in its host list"
    assert me[0]["args"] == " ".join(argv) and me[0]["ppid"] == os.getpid(), (me[0], argv)
    assert me[0]["state"] == "R" and isinstance(me[0]["rss"], int) and me[0]["rss"] > 0, me[0]


def check_container(out, init, hosts):
    c = out["container"]
    assert c["pid"] == init, c
    procs = c["processes"]
    assert [(r["pid"], r["ppid"], r["args"]) for r in procs] == INSIDE, procs
    assert [r["hpid"] for r in procs] == [hosts[1], hosts[2], hosts[3]], (procs, hosts)
    assert all(r["pidns"] == init for r in procs), procs
    # --map-root-user: root inside is root (uid 0) outside
    assert all(r["user"] == "root" and r["huser"] == "root" for r in procs), procs


# ---------------------------------------------------------------- Python


def python_argv(*args):
    if not os.path.exists(PY):
        raise Skip(f"{PY} is missing (Debian's python3 package)")
    return [PY, PY_EXAMPLE, "--ext", lib.EXT, *args]


def test_python_example_host_query():
    argv = python_argv()
    pid, out, err, rc = run(argv)
    assert rc == 0, f"exit {rc}: {err}"
    out = json.loads(out)
    assert "container" not in out, out.keys()
    check_host(out, pid, argv)


def test_python_example_container_query():
    init, hosts = container()
    argv = python_argv(str(init))
    pid, out, err, rc = run(argv)
    assert rc == 0, f"exit {rc}: {err}"
    out = json.loads(out)
    check_host(out, pid, argv)
    check_container(out, init, hosts)


def test_python_example_reports_errors():
    bad = lib.start(["true"])
    bad.wait()  # a pid that just ended
    pid, out, err, rc = run(python_argv(str(bad.pid)))
    assert rc == 1 and not out and err.startswith("ps_query: ") and str(bad.pid) in err, (rc, out, err)


# ---------------------------------------------------------------- Node.js

_node_ready = None


def node_ready():
    """Install better-sqlite3 into examples/node once (kept in node_modules)."""
    global _node_ready
    if _node_ready is not None:
        if isinstance(_node_ready, Skip):
            raise _node_ready
        return
    try:
        for tool in ("node", "npm"):
            if not shutil.which(tool):
                raise Skip(f"{tool} is not installed")
        probe = ["node", "-e", "require('better-sqlite3')(':memory:').close()"]
        if subprocess.run(probe, cwd=NODE_DIR, capture_output=True, timeout=60).returncode != 0:
            try:
                r = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                                   capture_output=True, text=True, timeout=900)
            except subprocess.TimeoutExpired:
                raise Skip("npm install took more than 15 minutes (network?)")
            if r.returncode != 0:
                tail = " ".join((r.stderr or r.stdout).strip().splitlines()[-3:])
                raise Skip(f"npm install failed (no network or no compiler?): {tail}")
            p = subprocess.run(probe, cwd=NODE_DIR, capture_output=True, text=True, timeout=60)
            if p.returncode != 0:
                raise Skip(f"better-sqlite3 installed but does not load: {p.stderr.strip()[-300:]}")
        _node_ready = True
    except Skip as e:
        _node_ready = e
        raise


def node_argv(*args):
    node_ready()
    return ["node", NODE_EXAMPLE, "--ext", lib.EXT, *args]


def test_node_example_host_query():
    argv = node_argv()
    pid, out, err, rc = run(argv)
    assert rc == 0, f"exit {rc}: {err}"
    out = json.loads(out)
    assert "container" not in out, out.keys()
    check_host(out, pid, argv)


def test_node_example_container_query():
    init, hosts = container()
    argv = node_argv(str(init))
    pid, out, err, rc = run(argv)
    assert rc == 0, f"exit {rc}: {err}"
    out = json.loads(out)
    check_host(out, pid, argv)
    check_container(out, init, hosts)


def test_node_example_reports_errors():
    argv = node_argv()
    bad = lib.start(["true"])
    bad.wait()
    pid, out, err, rc = run(argv + [str(bad.pid)])
    assert rc == 1 and not out and err.startswith("ps_query: ") and str(bad.pid) in err, (rc, out, err)
