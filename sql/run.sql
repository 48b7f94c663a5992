-- What `make run` shows: the ps -ef columns, one row per process.
-- etime and time are seconds (REAL); ps_etime()/ps_cputime() format them.
SELECT user, pid, ppid, round(pcpu, 1) AS pcpu, round(etime) AS etime,
       tty, round(time, 2) AS time, substr(args, 1, 80) AS args
FROM ps;
