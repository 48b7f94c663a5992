-- ps_tree.sql: the process tree, drawn as `ps -e --forest` and `ps -ejH` draw
-- it. TEMP VIEW ps_tree is the host's tree; TEMP VIEW ps_tree_ns is the tree
-- of each container whose pid is listed in TEMP TABLE ps_tree_targets.
--
--   .load build/ps
--   .read sql/ps_tree.sql
--   SELECT pid, tree FROM ps_tree;
--   INSERT INTO ps_tree_targets VALUES (1234);   -- a container's host pid
--   SELECT pidns, pid, tree FROM ps_tree_ns;
--
-- Columns:
--   pid, ppid  as in ps
--   depth      0 for a root, parent's depth + 1 otherwise
--   tree       ps -e --forest's COMMAND column: the arguments (escaped as ps
--              does: newline -> ' ', then ps_printable(): other control
--              characters and invalid UTF-8 -> '?'; zombies as
--              "[comm] <defunct>") after 4 characters per level:
--              " \_ " before the process, " |  " below an ancestor that has
--              more siblings to come, "    " below one that does not. As
--              procps 4.0.2 does, the children of pid 1 are drawn at the
--              level of pid 1 (not indented), their children below them
--   indented   ps -ejH's CMD column: 2 spaces per level (depth), then comm
--   user, comm, args  as in ps
--   path       the sort key: rows in path order are the tree, depth first
--   pidns      NULL in ps_tree; the listed pid in ps_tree_ns
-- Rows come out in path order; write ORDER BY path when another clause could
-- reorder them.
--
-- Order, as procps 4.0.2 orders a forest: the children of a process by start
-- time, then pid; the roots (ppid 0, or a parent that is not listed) in the
-- reverse order of (ppid, start time, pid), which puts kthreadd (2) above
-- init (1), as ps does.
--
-- Containers: a recursive CTE is evaluated on its own, so a WHERE on the
-- view's pidns cannot reach the ps table inside it: SELECT * FROM ps_tree
-- WHERE pidns = 1234 is empty (ps_tree reads the host). List the containers
-- in ps_tree_targets and read ps_tree_ns instead; each listed pid gives its
-- own tree (two pids of one container give the tree twice). The same CTE
-- over ps(1234) works as a one-off query: replace "FROM ps" in ps_tree below
-- by "FROM ps(1234)".
CREATE TEMP TABLE IF NOT EXISTS ps_tree_targets(pidns INTEGER PRIMARY KEY);

CREATE TEMP VIEW IF NOT EXISTS ps_tree AS
WITH RECURSIVE
  nodes AS MATERIALIZED (
    SELECT pid, ppid, user, comm, args, coalesce(stime, 0) AS st,
           CASE WHEN state = 'Z' AND args = '[' || comm || ']' THEN args || ' <defunct>'
                ELSE args END AS cmd
    FROM ps
  ),
  ranked AS MATERIALIZED (
    SELECT n.*, p.pid IS NULL AS root
    FROM nodes n LEFT JOIN nodes p ON p.pid = n.ppid AND n.ppid <> 0
  ),
  ordered AS MATERIALIZED (
    SELECT *,
           row_number() OVER w AS ord,
           row_number() OVER w = count(*) OVER w AS last
    FROM ranked
    WINDOW w AS (PARTITION BY CASE WHEN root THEN -1 ELSE ppid END
                 ORDER BY CASE WHEN root THEN -ppid ELSE 0 END,
                          CASE WHEN root THEN -st ELSE st END,
                          CASE WHEN root THEN -pid ELSE pid END
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
  ),
  tree(pid, ppid, depth, line, below, path, user, comm, args) AS (
    SELECT pid, ppid, 0, cmd, '', printf('%07d', ord), user, comm, args
    FROM ordered WHERE root
    UNION ALL
    SELECT c.pid, c.ppid, t.depth + 1,
           CASE WHEN t.pid = 1 THEN c.cmd ELSE t.below || ' \_ ' || c.cmd END,
           CASE WHEN t.pid = 1 THEN ''
                ELSE t.below || CASE WHEN c.last THEN '    ' ELSE ' |  ' END END,
           t.path || '.' || printf('%07d', c.ord), c.user, c.comm, c.args
    FROM tree t JOIN ordered c ON c.ppid = t.pid AND NOT c.root
  )
SELECT pid, ppid, depth,
       ps_printable(replace(line, char(10), ' ')) AS tree,
       printf('%*s', 2 * depth, '') || comm AS indented,
       user, comm, args, path, NULL AS pidns
FROM tree
ORDER BY path;

-- The same, for each pid listed in ps_tree_targets, inside its container.
CREATE TEMP VIEW IF NOT EXISTS ps_tree_ns AS
WITH RECURSIVE
  nodes AS MATERIALIZED (
    SELECT p.pidns, p.pid, p.ppid, p.user, p.comm, p.args, coalesce(p.stime, 0) AS st,
           CASE WHEN p.state = 'Z' AND p.args = '[' || p.comm || ']' THEN p.args || ' <defunct>'
                ELSE p.args END AS cmd
    FROM ps_tree_targets t JOIN ps p ON p.pidns = t.pidns
  ),
  ranked AS MATERIALIZED (
    SELECT n.*, p.pid IS NULL AS root
    FROM nodes n LEFT JOIN nodes p ON p.pidns = n.pidns AND p.pid = n.ppid AND n.ppid <> 0
  ),
  ordered AS MATERIALIZED (
    SELECT *,
           row_number() OVER w AS ord,
           row_number() OVER w = count(*) OVER w AS last
    FROM ranked
    WINDOW w AS (PARTITION BY pidns, CASE WHEN root THEN -1 ELSE ppid END
                 ORDER BY CASE WHEN root THEN -ppid ELSE 0 END,
                          CASE WHEN root THEN -st ELSE st END,
                          CASE WHEN root THEN -pid ELSE pid END
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
  ),
  tree(pidns, pid, ppid, depth, line, below, path, user, comm, args) AS (
    SELECT pidns, pid, ppid, 0, cmd, '', printf('%07d', ord), user, comm, args
    FROM ordered WHERE root
    UNION ALL
    SELECT c.pidns, c.pid, c.ppid, t.depth + 1,
           CASE WHEN t.pid = 1 THEN c.cmd ELSE t.below || ' \_ ' || c.cmd END,
           CASE WHEN t.pid = 1 THEN ''
                ELSE t.below || CASE WHEN c.last THEN '    ' ELSE ' |  ' END END,
           t.path || '.' || printf('%07d', c.ord), c.user, c.comm, c.args
    FROM tree t JOIN ordered c ON c.pidns = t.pidns AND c.ppid = t.pid AND NOT c.root
  )
SELECT pid, ppid, depth,
       ps_printable(replace(line, char(10), ' ')) AS tree,
       printf('%*s', 2 * depth, '') || comm AS indented,
       user, comm, args, path, pidns
FROM tree
ORDER BY pidns, path;
