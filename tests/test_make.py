"""The Makefile's user-facing targets, run for real from the repository root:

  make       (no target) builds build/ps.so and build/libpsnap.a and
             nothing else: no package installation (scripts/deps.sh), no
             rewrite of README.md (scripts/readme.py); ps.so is linked with
             -z nodelete (its detached helper threads may outlive the
             connection that loaded it)

Expected values come from make's own dry run, readelf and /proc, never
from the extension.
"""
import os
import shutil
import subprocess

import lib
from lib import Skip

ROOT = lib.ROOT


def make(*args, timeout=300, **kw):
    return subprocess.run(["make", *args], cwd=ROOT, capture_output=True, text=True, errors="replace",
                          timeout=timeout, **kw)


def test_plain_make_builds_and_does_nothing_else():
    # -n -B: every command make would run for the default goal, from scratch
    dry = make("-n", "-B")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout == make("-n", "-B", "all").stdout, "the default goal is not all"
    for bad in ("deps.sh", "apt-get", "readme.py", "README"):
        assert bad not in dry.stdout, f"plain make would run {bad}:\n{dry.stdout}"
    assert "build/ps.so" in dry.stdout and "build/libpsnap.a" in dry.stdout, dry.stdout
    # and for real (an up-to-date build here): README.md is left alone
    readme = os.path.join(ROOT, "README.md")
    before = os.stat(readme).st_mtime_ns, open(readme, "rb").read()
    r = make()
    assert r.returncode == 0, r.stderr
    assert (os.stat(readme).st_mtime_ns, open(readme, "rb").read()) == before, "make rewrote README.md"


def test_extension_is_linked_nodelete():
    if not shutil.which("readelf"):
        raise Skip("readelf is not installed (binutils)")
    so = os.path.join(ROOT, "build", "ps.so")
    out = subprocess.run(["readelf", "-d", so], capture_output=True, text=True, check=True).stdout
    flags = [ln for ln in out.splitlines() if "FLAGS_1" in ln]
    assert flags and "NODELETE" in flags[0], f"{so} is not linked with -z nodelete: {flags}"
