-- What `make run` shows: the ps -ef columns, one row per process.
-- The table holds numbers (etime and time in seconds, pcpu in percent);
-- ps_etime() and ps_cputime() print them the way ps does.
SELECT user, pid, ppid, round(pcpu, 1) AS "%CPU", ps_etime(etime) AS elapsed,
       coalesce(tty, '?') AS tty, ps_cputime(time) AS time, substr(args, 1, 100) AS command
FROM ps;
