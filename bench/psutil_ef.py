"""psutil on the `ps -ef` columns: username, pid, ppid, create_time,
terminal, cpu_times, cmdline (process_iter with attrs=).

  /usr/bin/python3 bench/psutil_ef.py            one pass, prints the count
  /usr/bin/python3 bench/psutil_ef.py RUNS [W]   RUNS timed passes after W
                                                 (default 2) untimed ones;
                                                 prints "median_ms min_ms rows"
"""
import signal
import statistics
import sys
import time

# Die of SIGINT (no KeyboardInterrupt traceback), so that the shell running
# bench/run.sh sees the Ctrl-C and stops too.
signal.signal(signal.SIGINT, signal.SIG_DFL)

import psutil  # noqa: E402

ATTRS = ["username", "pid", "ppid", "create_time", "terminal", "cpu_times", "cmdline"]


def scan():
    n = 0
    for p in psutil.process_iter(attrs=ATTRS, ad_value=None):
        info = p.info
        info["cmdline"] and " ".join(info["cmdline"])
        n += 1
    return n


def main():
    if len(sys.argv) < 2:
        print(scan())
        return
    runs = int(sys.argv[1])
    warm = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    times = []
    rows = 0
    for i in range(warm + runs):
        t0 = time.perf_counter()
        rows = scan()
        dt = (time.perf_counter() - t0) * 1e3
        if i >= warm:
            times.append(dt)
    print(f"{statistics.median(times):.4f}\t{min(times):.4f}\t{rows}")


if __name__ == "__main__":
    main()
