-- inventory.sql: every process of every container you list, in one query.
--
--   .load build/ps
--   .read sql/inventory.sql
--   INSERT INTO containers VALUES ('web', 1234), ('db', 5678);
--   SELECT name, pid, user, args FROM inventory;
--
-- TEMP TABLE containers(name, pid): one row per container, pid being the
-- host pid of any process of the container (its init, usually). Fill it by
-- hand, or from the container engine, e.g. with podman or docker:
--
--   podman inspect --format '{{.Name}},{{.State.Pid}}' $(podman ps -q) > /tmp/ctrs.csv
--   sqlite> .import --csv /tmp/ctrs.csv containers
--
-- TEMP VIEW inventory joins it with ps on the hidden column pidns:
--
--   SELECT c.name, p.pid, p.user, p.args FROM containers c JOIN ps p ON p.pidns = c.pid
--
-- SQLite plans the join with containers as the outer loop, and ps reads each
-- container once, from inside (pids, users and ttys as the container sees
-- them; hpid and huser are the host's view). pidns reads back c.pid. Joining
-- the namespaces needs root (see README.md, Permissions). A pid that does not
-- exist (a container that stopped) is an error: "ps: no process 1234".
--
-- TEMP VIEW inventory_summary: per container, the number of processes, their
-- resident memory in KiB and CPU time in seconds.
CREATE TEMP TABLE IF NOT EXISTS containers(
  name TEXT PRIMARY KEY,
  pid  INTEGER NOT NULL     -- host pid of a process in the container
);

CREATE TEMP VIEW IF NOT EXISTS inventory AS
SELECT c.name, p.pid, p.ppid, p.user, p.huser, p.hpid, p.state, p.rss,
       p.time, p.args, p.pidns
FROM containers c JOIN ps p ON p.pidns = c.pid;

CREATE TEMP VIEW IF NOT EXISTS inventory_summary AS
SELECT c.name, c.pid AS pidns, count(*) AS processes, sum(p.rss) AS rss_kib,
       round(sum(p.time), 2) AS cpu_seconds
FROM containers c JOIN ps p ON p.pidns = c.pid
GROUP BY c.name, c.pid;
