-- listening.sql: who listens where: one row per listening socket, with the
-- process that holds it, on the host or inside a container.
--
--   .load build/ps
--   .read sql/listening.sql
--   SELECT pid, user, comm, ns_init, proto, address, port FROM listening ORDER BY port;
--   SELECT pid, user, comm, proto, address, port FROM listening WHERE pidns = 1234;  -- one container
--
-- TEMP VIEW listening(pid, user, comm, ns_init, container, proto, address, port, pidns):
--   pid, user, comm  the process as ps shows it: with pidns = X, its pid and
--                    user name in the container of host process X
--   ns_init          the host pid of the init of the process's PID namespace:
--                    1 for the host's own processes, else the pid to give
--                    ps(...) to list that container. Kept simple: it
--                    comes from ps_namespaces through ps.ns_pid, so it is NULL
--                    when the caller may not read the process's ns/pid
--                    (another user's process, without CAP_SYS_PTRACE)
--   container        ps.container: the id an engine (podman, docker,
--                    containerd, CRI-O) wrote into the cgroup path, else NULL
--   proto            tcp, tcp6, udp, udp6, udplite, udplite6 (netstat -l's
--                    names: 6 for an inet6 socket), unix
--   address          the local address (0.0.0.0, ::, 127.0.0.1, ::1); for
--                    unix, the path ('@' starts an abstract name)
--   port             the local port; NULL for unix
--   pidns            the hidden pidns of ps_sockets and ps, carried through
--
-- A socket listens when it is TCP (or unix stream/seqpacket) in state
-- LISTEN, or UDP (udplite) bound to a port and not connected (state CLOSE,
-- as ss -l counts it). Addresses come from the tables of the process's own
-- network namespace: a container's listeners show their in-container
-- addresses. The view joins ps_sockets with ps on pidns and pid, so
-- WHERE pidns = X reads one container, and each socket's process is read
-- alone (WHERE pid = ...).
CREATE TEMP VIEW IF NOT EXISTS listening AS
WITH ns AS MATERIALIZED (SELECT ns_pid, pid FROM ps_namespaces)
SELECT
  s.pid AS pid,
  p.user AS user,
  p.comm AS comm,
  (SELECT ns.pid FROM ns WHERE ns.ns_pid = p.ns_pid) AS ns_init,
  p.container AS container,
  CASE
    WHEN s.family = 'unix' THEN 'unix'
    WHEN s.family = 'inet6' THEN s.proto || '6'
    ELSE s.proto
  END AS proto,
  CASE WHEN s.family = 'unix' THEN s.path ELSE s.local_addr END AS address,
  CASE WHEN s.family = 'unix' THEN NULL ELSE s.local_port END AS port,
  s.pidns AS pidns
FROM ps_sockets s
JOIN ps p ON p.pidns = s.pidns AND p.pid = s.pid
WHERE s.state = 'LISTEN'
   OR (s.proto IN ('udp', 'udplite') AND s.state = 'CLOSE' AND s.local_port > 0);
