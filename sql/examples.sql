-- examples.sql: useful queries over ps, one per [name] comment.
--
--   sqlite3 -cmd '.load build/ps' -cmd '.mode box' :memory: '.read sql/examples.sql'
--
--   SELECT pid, user, rss, comm FROM ps ORDER BY rss DESC LIMIT 10;
--
-- Each query reads only the /proc files its columns need. Add
-- "WHERE pidns = 1234" (or read ps(1234)) to ask the same inside a container.

-- [top-memory] The ten processes with the most resident memory (KiB).
SELECT pid, user, rss, vsz, comm
FROM ps
ORDER BY rss DESC, pid
LIMIT 10;

-- [cpu-hogs] The ten processes with the highest CPU use over their lifetime.
SELECT pid, user, round(pcpu, 1) AS pcpu, ps_cputime(time) AS time, comm
FROM ps
ORDER BY pcpu DESC, pid
LIMIT 10;

-- [caps-nonroot] Processes that do not run as root but hold capabilities.
SELECT pid, user, uid, capeff, capprm, capamb, comm
FROM ps
WHERE uid <> 0 AND capeff <> 'none'
ORDER BY pid;

-- [caps-ambient] Processes with ambient capabilities: they keep them across
-- execve of programs that have no file capabilities.
SELECT pid, user, capamb, capinh, comm
FROM ps
WHERE capamb <> 'none'
ORDER BY pid;

-- [seccomp] Processes under seccomp (filter or strict), with their number of
-- filters and whether no_new_privs is set.
SELECT pid, user, seccomp, seccomp_filters, nopriv, comm
FROM ps
WHERE seccomp <> 'disabled'
ORDER BY pid;

-- [zombies] Zombies, with the parent that has not reaped them (the parent
-- is looked up by pid, one /proc directory per zombie).
SELECT z.pid, z.ppid, z.comm, ps_etime(z.etime) AS elapsed, p.args AS parent
FROM ps z LEFT JOIN ps p ON p.pid = z.ppid
WHERE z.state = 'Z'
ORDER BY z.ppid, z.pid;

-- [per-user] Processes, resident memory and CPU time per user.
SELECT user, count(*) AS processes, sum(rss) AS rss_kib, round(sum(time), 1) AS cpu_seconds
FROM ps
GROUP BY user
ORDER BY processes DESC, user;

-- [recent] Processes started in the last 10 minutes, newest first.
SELECT pid, user, ps_etime(etime) AS elapsed, args
FROM ps
WHERE etime < 600
ORDER BY etime, pid;

-- [pid-namespaces] Every PID namespace the scan sees, with its number of
-- processes and its lowest host pid: pass that to ps(PID) to list the
-- namespace from inside. The host's is the one that holds pid 1 or 2
-- (ns_pid is NULL where the caller may not read ns/pid).
SELECT ns_pid, min(pid) AS a_pid, count(*) AS processes
FROM ps
WHERE ns_pid IS NOT NULL
GROUP BY ns_pid
ORDER BY a_pid;

-- [threads] The processes with the most threads, with how many of them run
-- now and how many are blocked (D: uninterruptible), from ps_threads.
SELECT t.pid, p.comm, count(*) AS threads, sum(t.state = 'R') AS running,
       sum(t.state = 'D') AS blocked
FROM ps_threads t JOIN ps p ON p.pid = t.pid
GROUP BY t.pid
ORDER BY threads DESC, t.pid
LIMIT 10;
