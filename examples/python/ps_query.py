#!/usr/bin/python3
"""Query the sqlite-ps extension from Python and print the result as JSON.

    /usr/bin/python3 examples/python/ps_query.py [--ext PATH] [PID]

Prints one JSON object:
  "version"    ps_version() of the loaded extension
  "host"       every process of the host: pid, ppid, user, state, rss, comm, args
  "container"  with PID: {"pid": PID, "processes": [...]}, the PID namespace of
               host process PID as seen from inside (pid, ppid, user), with the
               host's view beside it (hpid, huser) and pidns (reads back PID);
               joining the namespace needs root

The extension is build/ps.so of this repository unless --ext names another
(SQLite adds the .so). Python's sqlite3 module must allow loading extensions:
Debian's /usr/bin/python3 does; some builds (pyenv's default, python.org's
macOS installer) do not, and this script says so.
"""
import argparse
import json
import os
import signal
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_EXT = os.path.join(HERE, "..", "..", "build", "ps")

HOST_SQL = """
SELECT pid, ppid, user, state, rss, comm, args
FROM ps
ORDER BY pid
"""

# ps(?) is the table-valued form of WHERE pidns = ?
CONTAINER_SQL = """
SELECT pid, ppid, user, hpid, huser, pidns, args
FROM ps(?)
ORDER BY pid
"""


def connect(ext):
    db = sqlite3.connect(":memory:")
    if not hasattr(db, "enable_load_extension"):
        sys.exit(f"ps_query: the sqlite3 module of {sys.executable} cannot load extensions "
                 "(built without it); use /usr/bin/python3 on Debian")
    db.enable_load_extension(True)
    db.load_extension(ext)
    db.enable_load_extension(False)
    db.row_factory = sqlite3.Row
    # a command line need not be UTF-8: show undecodable bytes as U+FFFD
    db.text_factory = lambda b: b.decode("utf-8", "replace")
    return db


def main():
    ap = argparse.ArgumentParser(description="sqlite-ps from Python: host and container queries as JSON")
    ap.add_argument("--ext", default=os.environ.get("PSNAP_EXT") or DEFAULT_EXT,
                    help="path of the extension, without .so (default: build/ps of this repository)")
    ap.add_argument("pid", nargs="?", type=int, help="host pid of a process in a container")
    args = ap.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head

    try:
        db = connect(args.ext)
        out = {"version": db.execute("SELECT ps_version()").fetchone()[0],
               "host": [dict(r) for r in db.execute(HOST_SQL)]}
        if args.pid is not None:
            out["container"] = {"pid": args.pid,
                                "processes": [dict(r) for r in db.execute(CONTAINER_SQL, (args.pid,))]}
    except sqlite3.Error as e:
        sys.exit(f"ps_query: {e}")
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
