"""The container and pod columns (issue 10, item 5): the container id that
podman wrote into the cgroup path, compared with the id podman itself
prints, for the container's init and for a process exec'd into it; NULL on
the host. The cgroup path forms of docker, containerd, CRI-O and systemd
are unit tests (tests/unit/test_parsers.c), recorded paths."""
import os

import lib
from lib import q, q1
from test_podman import Podman


def test_podman_container_id_is_the_one_podman_prints():
    with Podman() as pm:
        init = pm.start("psnap-cid")
        want = pm.run("inspect", "-f", "{{.Id}}", "psnap-cid").stdout.strip()
        listed = pm.run("ps", "--no-trunc", "--format", "{{.ID}} {{.Names}}").stdout.split()
        assert want in listed and len(want) == 64, (want, listed)
        got = q1("SELECT container, pod FROM ps WHERE pid = ?", init)
        assert got == (want, None), (got, want, lib.read(f"/proc/{init}/cgroup"))
        # the same through pidns: the container's own view of its init
        assert q1("SELECT container FROM ps(?) WHERE pid = 1", init) == (want,)
        # every process of the container carries it; conmon, outside, does not
        conmon = int(pm.run("inspect", "-f", "{{.State.ConmonPid}}", "psnap-cid").stdout)
        assert q1("SELECT container FROM ps WHERE pid = ?", conmon)[0] != want
        ids = {r[0] for r in q("SELECT container FROM ps(?)", init)}
        assert ids == {want}, ids


def test_host_processes_have_no_container():
    me = os.getpid()
    cg = lib.read(f"/proc/{me}/cgroup")
    if any(k in cg for k in ("libpod", "docker", "containerd", "crio", "kubepods")):
        raise lib.Skip(f"the tests run inside a container: {cg.strip()}")
    assert q1("SELECT container, pod FROM ps WHERE pid = ?", me) == (None, None)


def test_sql_podman_joins_podman_ps_json_with_ps():
    """sql/podman.sql: `podman ps --format json` in a TEMP table, joined
    with ps by container id: the container's processes, named."""
    with Podman() as pm:
        init = pm.start("psnap-sqlpm", argv=("sh", "-c", "sleep 1000 & exec sleep 1001"))
        lib.wait_for(lambda: len(lib.children(init)) == 1, timeout=lib.HANG, what="the container's sleep")
        doc = pm.run("ps", "--format", "json").stdout
        db = lib.connect()
        db.executescript(open(os.path.join(lib.ROOT, "sql", "podman.sql")).read())
        db.execute("INSERT INTO podman_json VALUES (?)", (doc,))
        rows = db.execute("SELECT name, pid, hpid, comm, args FROM podman_ps ORDER BY hpid").fetchall()
        for r in rows:
            print("  ", r)
        kid = lib.children(init)[0]
        assert sorted(r[2] for r in rows) == sorted([init, kid]), (rows, init, kid)
        assert all(r[0] == "psnap-sqlpm" for r in rows), rows
        assert {r[4] for r in rows} == {"sleep 1000", "sleep 1001"}, rows
