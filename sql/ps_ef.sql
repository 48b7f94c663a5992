-- ps_ef.sql: TEMP VIEW ps_ef, the columns of `ps -ef`, printed the way procps
-- 4.0.2 prints them.
--
--   .load build/ps
--   .read sql/ps_ef.sql
--   SELECT * FROM ps_ef WHERE PID IN (1, 2);
--
-- Columns (all but PID, PPID and C are TEXT):
--   UID    effective user name (else the uid); longer than 8 characters:
--          the first 7 and '+', as ps -ef shows `systemd+`
--   PID    pid (INTEGER)
--   PPID   parent pid (INTEGER)
--   C      CPU use over the lifetime in whole percent, truncated, at most 99
--          (INTEGER): procps 4.0.2 prints its utilization, CPU ticks * 100 /
--          (uptime ticks - start ticks), which is the table's pcpu
--   STIME  start time in local time: HH:MM when started today, MonDD (Nov29)
--          earlier this year, YYYY in an earlier year
--   TTY    controlling terminal (pts/0), '?' when none
--   TIME   CPU time, [dd-]hh:mm:ss
--   CMD    the arguments; [comm] when there are none (kernel threads), with
--          ' <defunct>' for zombies; a newline prints as a space, then
--          ps_printable() prints the other control characters, the C1
--          controls and invalid UTF-8 bytes as '?', as ps prints them in a
--          UTF-8 locale
--   pidns  the hidden column of ps, carried through:
--          SELECT * FROM ps_ef WHERE pidns = 1234 lists the container of
--          host pid 1234 (NULL: the host)
--
-- WHERE PID = ... and WHERE pidns = ... reach the ps table as constraints (the
-- view is flattened into the query), so they read one process or one
-- container only. The table is DIRECTONLY, hence TEMP.
--
-- Limits: ps also prints '?' for the other characters its C library calls
-- non-printable (iswprint), and in the C locale '.' for control characters
-- and '?' for every non-ASCII byte. UID counts characters where ps counts
-- screen cells. The view never truncates CMD (ps -ef into a pipe does not
-- either).
CREATE TEMP VIEW IF NOT EXISTS ps_ef AS
SELECT
  CASE WHEN length(user) > 8 THEN substr(user, 1, 7) || '+' ELSE user END AS UID,
  pid AS PID,
  ppid AS PPID,
  min(99, CAST(pcpu AS INTEGER)) AS C,
  CASE
    WHEN strftime('%Y', st, 'unixepoch', 'localtime') <> strftime('%Y', 'now', 'localtime')
      THEN strftime('%Y', st, 'unixepoch', 'localtime')
    WHEN strftime('%j', st, 'unixepoch', 'localtime') <> strftime('%j', 'now', 'localtime')
      THEN substr('JanFebMarAprMayJunJulAugSepOctNovDec',
                  3 * strftime('%m', st, 'unixepoch', 'localtime') - 2, 3)
           || strftime('%d', st, 'unixepoch', 'localtime')
    ELSE strftime('%H:%M', st, 'unixepoch', 'localtime')
  END AS STIME,
  coalesce(tty, '?') AS TTY,
  ps_cputime(time) AS TIME,
  -- as ps: a newline prints as a space, the other control characters as '?'
  ps_printable(replace(cmd, char(10), ' ')) AS CMD,
  pidns
FROM (
  SELECT user, pid, ppid, pcpu, tty, time, pidns,
         -- a zombie's command line is empty: ps prints [comm] <defunct>
         CASE WHEN state = 'Z' AND args = '[' || comm || ']' THEN args || ' <defunct>'
              ELSE args END AS cmd,
         -- start time in whole seconds, as ps (btime + start ticks / Hz)
         CAST(stime AS INTEGER) AS st
  FROM ps
);
