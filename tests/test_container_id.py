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
