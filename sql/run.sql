-- run.sql: what `make run` shows, a header and one line per process, with
-- the columns of `ps -ef`.
--
--   sqlite3 -cmd '.load build/ps' -cmd '.mode list' -cmd '.headers off' :memory: '.read sql/run.sql'
--   sqlite3 -cmd '.load build/ps' -cmd '.mode list' -cmd '.headers off' \
--     -cmd '.parameter set @cols 80' :memory: '.read sql/run.sql'     -- cut at 80 characters
--
-- The query returns one TEXT column, `line`, the columns laid out as ps
-- lays them out: USER, TTY and COMMAND left-aligned, the numbers right-
-- aligned, each column as wide as its widest value, two spaces between.
-- Every value goes through ps_printable(), so a control character (a
-- newline, a tab, an escape sequence) or invalid UTF-8 in a command line
-- or a name prints as '?' and a row is always one line. @cols, when set
-- (make run sets it to the terminal's width when stdout is a terminal),
-- cuts each line to that many characters; unset (NULL), lines are whole.
-- The table holds numbers (etime and time in seconds, pcpu in percent);
-- ps_etime() and ps_cputime() print them the way ps does. Widths count
-- characters, not screen cells: a double-width character takes two cells.
WITH
  p AS (
    SELECT pid AS k, ps_printable(user) AS user, pid, ppid, printf('%.1f', pcpu) AS cpu,
           ps_etime(etime) AS elapsed, ps_printable(coalesce(tty, '?')) AS tty,
           ps_cputime(time) AS time, ps_printable(args) AS command
    FROM ps
    UNION ALL
    SELECT -1, 'USER', 'PID', 'PPID', '%CPU', 'ELAPSED', 'TTY', 'TIME', 'COMMAND'
  ),
  w AS (
    SELECT *,
           max(length(user)) OVER () AS wu, max(length(pid)) OVER () AS wp,
           max(length(ppid)) OVER () AS wpp, max(length(cpu)) OVER () AS wc,
           max(length(elapsed)) OVER () AS we, max(length(tty)) OVER () AS wt,
           max(length(time)) OVER () AS wtm
    FROM p
  ),
  l AS (
    SELECT k, printf('%!-*s  %!*s  %!*s  %!*s  %!*s  %!-*s  %!*s  %s', wu, user, wp, pid, wpp, ppid,
                     wc, cpu, we, elapsed, wt, tty, wtm, time, command) AS line
    FROM w
  )
SELECT CASE WHEN @cols > 0 THEN substr(line, 1, @cols) ELSE line END AS line
FROM l
ORDER BY k;
