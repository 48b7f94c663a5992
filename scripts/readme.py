#!/usr/bin/env python3
"""Splice the generated column table into README.md (make readme), or with
--check exit 1 when README.md's table differs from the registry's."""
import subprocess
import sys
import os

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
table = subprocess.run([os.path.join(root, "scripts", "columns.sh")], capture_output=True,
                       text=True, check=True).stdout
path = os.path.join(root, "README.md")
text = open(path).read()
start, end = "<!-- columns -->\n", "<!-- /columns -->"
a, b = text.index(start) + len(start), text.index(end)
new = text[:a] + table + text[b:]
if "--check" in sys.argv:
    sys.exit(0 if new == text else 1)
open(path, "w").write(new)
