-- podman.sql: podman's containers (`podman ps --format json`) as a TEMP
-- table, joined with ps by container id.
--
--   .load build/ps
--   .read sql/podman.sql
--   INSERT INTO podman_json VALUES (readfile('ps.json'));  -- podman ps --format json > ps.json
--   SELECT name, pid, hpid, comm, pcpu, rss, pss FROM podman_ps ORDER BY name, pid;
--
-- From a program, bind the JSON text instead of readfile() (a sqlite3 shell
-- function): INSERT INTO podman_json VALUES (?).
--
--   podman_json  one row per `podman ps --format json` document (TEMP TABLE)
--   podman       one row per container: id (64 hex), name, image, state, pid
--                (its init's host pid, 0 when stopped), and that pid again
--                as pidns, the argument of ps(pidns) that lists the container
--                as it sees itself (every view here carries pidns)
--   podman_ps    every process whose cgroup path names one of those
--                containers (ps's `container` column), with the container's
--                name and image, and the pids as the host sees them: pid,
--                hpid, comm, args, user, pcpu, rss, pss, uss, container,
--                pidns (NULL: host pids)
-- The join reads each process's cgroup file once (one scan of ps); for a
-- container's own view of its pids and users, use ps(podman.pid).
CREATE TEMP TABLE IF NOT EXISTS podman_json(doc TEXT);

CREATE TEMP VIEW IF NOT EXISTS podman AS
SELECT json_extract(j.value, '$.Id') AS id,
       json_extract(j.value, '$.Names[0]') AS name,
       json_extract(j.value, '$.Image') AS image,
       json_extract(j.value, '$.State') AS state,
       json_extract(j.value, '$.Pid') AS pid,
       json_extract(j.value, '$.Pid') AS pidns
FROM podman_json AS d, json_each(d.doc) AS j;

CREATE TEMP VIEW IF NOT EXISTS podman_ps AS
SELECT c.name, c.image, p.pid, p.hpid, p.comm, p.args, p.user, p.pcpu, p.rss, p.pss, p.uss, p.container, p.pidns
FROM podman AS c JOIN ps AS p ON p.container = c.id;
