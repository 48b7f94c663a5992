-- ps_top.sql: TEMP VIEW ps_top, one column per psgo descriptor, named after
-- it, printed the way `podman top` (psgo 1.7) prints it.
--
--   .load build/ps
--   .read sql/ps_top.sql
--   SELECT pid, user, etime, time, stime, args FROM ps_top WHERE pidns = 1234;
--
-- The columns are those of ps whose ps_descriptors.psgo is 1, in the same
-- order, then the hidden column pidns carried through. Differences from the
-- table:
--   pcpu    psgo's 100 * cpu / elapsed with cpu in whole seconds and elapsed
--           as below, printed with 3 decimals as Go's FormatFloat does
--           (exact, halves to even: "0.064", "39.062"; "NaN" when both are 0)
--   etime   Go duration (time.Duration.String) of now - start, the start
--           truncated to whole seconds as psgo does: "5.997s", "6h3m27.6s",
--           "1m40s", "999ms", "0s"; "now" is SQLite's clock, which has
--           millisecond resolution, so at most 3 decimals where psgo prints 9
--   time    Go duration of the CPU time truncated to whole seconds: "13s",
--           "1h2m3s", "0s"
--   tty     '?' when none
--   stime   Go time.Time.String of the start in whole seconds, in UTC:
--           "2026-11-29 04:32:23 +0000 UTC" (psgo prints the local zone)
--   label, hpid, huser, huid, hgroup, hgroups: '?' when NULL
-- The rest are the table's values: integers stay INTEGER (their text is
-- psgo's decimal), so WHERE pid = ... still reaches the table; so does
-- WHERE pidns = ... (a container). Capability sets, seccomp and state are
-- already psgo's text in the table; args gets psgo's trailing space (one per
-- trailing NUL: exact for command lines that end in one NUL, as exec makes
-- them, not for a process that rewrote its own without one).
--
-- Go's Duration.String: 0 is "0s"; under 1s the unit is ns, µs (U+00B5) or
-- ms with up to 0/3/6 decimals; from 1s on "[Hh][Mm]S[.fraction]s" with hours
-- only from 1h, minutes from 1m ("1h0m0s"), and up to 9 decimals, trailing
-- zeros dropped. The expression is written out twice below (etime, time) for
-- an integer number of nanoseconds.
CREATE TEMP VIEW IF NOT EXISTS ps_top AS
SELECT
  user,
  pid,
  ppid,
  CASE
    -- exactly halfway between two thousandths (n/16 with n odd, and only
    -- those): Go keeps the even one where SQLite's printf rounds up; moving
    -- a quarter of a thousandth toward it leaves printf no tie
    WHEN e_ms > 0 AND pcpu_f * 16 = CAST(pcpu_f * 16 AS INTEGER)
                  AND CAST(pcpu_f * 16 AS INTEGER) % 2 = 1
      THEN printf('%.3f', pcpu_f + CASE CAST(pcpu_f * 1000 AS INTEGER) % 2
                                     WHEN 0 THEN -0.00025 ELSE 0.00025 END)
    WHEN e_ms > 0 THEN printf('%.3f', pcpu_f)
    WHEN cpu_s > 0 THEN '+Inf'
    WHEN e_ms = 0 THEN 'NaN'
  END AS pcpu,
  CASE
    WHEN e_ns IS NULL THEN NULL
    WHEN e_ns = 0 THEN '0s'
    WHEN e_ns < 1000 THEN e_ns || 'ns'
    WHEN e_ns < 1000000
      THEN (e_ns / 1000) || rtrim(rtrim('.' || printf('%03d', e_ns % 1000), '0'), '.') || 'µs'
    WHEN e_ns < 1000000000
      THEN (e_ns / 1000000) || rtrim(rtrim('.' || printf('%06d', e_ns % 1000000), '0'), '.') || 'ms'
    ELSE CASE WHEN e_ns >= 3600000000000 THEN (e_ns / 3600000000000) || 'h' ELSE '' END
      || CASE WHEN e_ns >= 60000000000 THEN (e_ns / 60000000000 % 60) || 'm' ELSE '' END
      || (e_ns / 1000000000 % 60)
      || rtrim(rtrim('.' || printf('%09d', e_ns % 1000000000), '0'), '.') || 's'
  END AS etime,
  coalesce(tty, '?') AS tty,
  CASE
    WHEN t_ns IS NULL THEN NULL
    WHEN t_ns = 0 THEN '0s'
    WHEN t_ns < 1000 THEN t_ns || 'ns'
    WHEN t_ns < 1000000
      THEN (t_ns / 1000) || rtrim(rtrim('.' || printf('%03d', t_ns % 1000), '0'), '.') || 'µs'
    WHEN t_ns < 1000000000
      THEN (t_ns / 1000000) || rtrim(rtrim('.' || printf('%06d', t_ns % 1000000), '0'), '.') || 'ms'
    ELSE CASE WHEN t_ns >= 3600000000000 THEN (t_ns / 3600000000000) || 'h' ELSE '' END
      || CASE WHEN t_ns >= 60000000000 THEN (t_ns / 60000000000 % 60) || 'm' ELSE '' END
      || (t_ns / 1000000000 % 60)
      || rtrim(rtrim('.' || printf('%09d', t_ns % 1000000000), '0'), '.') || 's'
  END AS time,
  -- psgo joins cmdline's NUL-ended arguments with spaces: a trailing space;
  -- "[comm]" (empty cmdline: kernel threads, zombies) has none
  CASE WHEN args = '[' || comm || ']' THEN args ELSE args || ' ' END AS args,
  comm,
  "group",
  groups,
  rgroup,
  ruser,
  nice,
  pgid,
  uid,
  vsz,
  rss,
  state,
  strftime('%Y-%m-%d %H:%M:%S', start_s, 'unixepoch') || ' +0000 UTC' AS stime,
  capamb,
  capbnd,
  capeff,
  capinh,
  capprm,
  seccomp,
  coalesce(label, '?') AS label,
  coalesce(hpid, '?') AS hpid,
  coalesce(huser, '?') AS huser,
  coalesce(huid, '?') AS huid,
  coalesce(hgroup, '?') AS hgroup,
  coalesce(hgroups, '?') AS hgroups,
  pidns
FROM (
  SELECT *,
         e_ms * 1000000 AS e_ns,
         -- psgo: 100 * cpu.Seconds() / elapsed.Seconds(), where Go's
         -- Duration.Seconds() is whole seconds + float(rest) / 1e9
         100.0 * cpu_s / (e_ms / 1000 + (e_ms % 1000) / 1000.0) AS pcpu_f,
         cpu_s * 1000000000 AS t_ns
  FROM (
    SELECT *, pidns AS pidns,
           -- psgo: StartTime = time.Unix(btime + start ticks / Hz, 0)
           CAST(stime AS INTEGER) AS start_s,
           -- psgo: CPUTime = (utime + stime) / Hz, integer division
           CAST(time + 1e-9 AS INTEGER) AS cpu_s,
           -- psgo: ElapsedTime = time.Since(StartTime), here in milliseconds
           CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)
             - CAST(stime AS INTEGER) * 1000 AS e_ms
    FROM ps
  )
);
