#!/usr/bin/env python3
"""Test runner for sqlite-ps.

Runs the C unit tests (build/test_unit, TAP output) and every function named
test_* in tests/test_*.py, in file order. Each test prints one line:
  ok - name | FAIL - name: reason | skip - name: reason
and the run ends with the line  'N passed, N failed, N skipped'.
Exit status is 1 when anything failed.

  python3 tests/run.py                 every test
  python3 tests/run.py host caps       only tests whose file or name contains
                                       one of the words
"""
import importlib.util
import os
import re
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import lib  # noqa: E402

counts = {"passed": 0, "failed": 0, "skipped": 0}


def report(status, name, why=""):
    key = {"ok": "passed", "FAIL": "failed", "skip": "skipped"}[status]
    counts[key] += 1
    print(f"{status} - {name}" + (f": {why}" if why else ""), flush=True)


def run_unit(words):
    exe = os.path.join(ROOT, "build", "test_unit")
    if words and not any(w in "unit" for w in words):
        return
    if not os.path.exists(exe):
        report("FAIL", "unit", "build/test_unit is missing (run make test)")
        return
    p = subprocess.run([exe], capture_output=True, text=True)
    seen = 0
    for line in p.stdout.splitlines():
        m = re.match(r"(ok|not ok) \d+ - (.*?)(?: # SKIP (.*))?$", line)
        if not m:
            if line.strip():
                print("  " + line)
            continue
        seen += 1
        name = "unit: " + m.group(2)
        if m.group(3) is not None:
            report("skip", name, m.group(3))
        elif m.group(1) == "ok":
            report("ok", name)
        else:
            report("FAIL", name)
    if p.returncode != 0 and not counts["failed"]:
        report("FAIL", "unit", f"test_unit exited {p.returncode}: {p.stderr.strip()[-500:]}")
    elif seen == 0:
        report("FAIL", "unit", "test_unit printed no results")


def run_file(path, words):
    modname = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except Exception:
        report("FAIL", modname, "import failed\n" + traceback.format_exc())
        return
    tests = [(n, f) for n, f in vars(mod).items() if n.startswith("test_") and callable(f)]
    tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
    for n, f in tests:
        full = f"{modname[5:]}: {n[5:]}"
        if words and not any(w in full for w in words):
            continue
        try:
            f()
        except lib.Skip as e:
            report("skip", full, str(e))
        except AssertionError as e:
            report("FAIL", full, str(e) or traceback.format_exc().strip().splitlines()[-2])
        except Exception:
            report("FAIL", full, traceback.format_exc())
        else:
            report("ok", full)
        finally:
            lib.cleanup()


def main():
    words = sys.argv[1:]
    run_unit(words)
    files = sorted(f for f in os.listdir(HERE) if re.match(r"test_.*\.py$", f))
    for f in files:
        run_file(os.path.join(HERE, f), words)
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    sys.exit(1 if counts["failed"] or not counts["passed"] else 0)


if __name__ == "__main__":
    main()
