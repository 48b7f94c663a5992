#!/usr/bin/env python3
"""Splice the generated column tables (ps, ps_threads) into README.md (make
readme), or with --check exit 1 when a table in README.md differs from the
registry's."""
import subprocess
import sys
import os

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
path = os.path.join(root, "README.md")
text = open(path).read()
new = text
for table, marker in (("ps", "columns"), ("ps_threads", "thread-columns")):
    rows = subprocess.run([os.path.join(root, "scripts", "columns.sh"), table], capture_output=True,
                          text=True, check=True).stdout
    start, end = f"<!-- {marker} -->\n", f"<!-- /{marker} -->"
    a, b = new.index(start) + len(start), new.index(end)
    new = new[:a] + rows + new[b:]
if "--check" in sys.argv:
    sys.exit(0 if new == text else 1)
open(path, "w").write(new)
