#!/bin/sh
# Print a README column table (Markdown), generated from the column registry
# through the ps_descriptors table: `scripts/columns.sh` for ps,
# `scripts/columns.sh ps_threads` for ps_threads. `make readme` splices them
# into README.md between the <!-- columns --> and <!-- thread-columns -->
# markers; a test checks they match.
set -eu
cd "$(dirname "$0")/.."
case "${1:-ps}" in
ps) sqlite3 -cmd ".load ${PSNAP_EXT:-build/ps}" :memory: <<'SQL'
.mode list
.separator ''
SELECT '| column | type | header | from | psgo | procps | meaning |';
SELECT '|---|---|---|---|---|---|---|';
SELECT '| `' || name || '`' || CASE WHEN hidden THEN ' (hidden)' ELSE '' END ||
       ' | ' || type || ' | ' || header || coalesce(' (`' || code || '`)', '') ||
       ' | ' || source || ' | ' || CASE WHEN psgo THEN 'yes' ELSE '' END ||
       ' | ' || CASE WHEN procps THEN 'yes' ELSE '' END || ' | ' || doc || ' |'
FROM ps_descriptors;
SQL
;;
ps_threads) sqlite3 -cmd ".load ${PSNAP_EXT:-build/ps}" :memory: <<'SQL'
.mode list
.separator ''
SELECT '| column | type | header | from | meaning |';
SELECT '|---|---|---|---|---|';
SELECT '| `' || name || '`' || CASE WHEN hidden THEN ' (hidden)' ELSE '' END ||
       ' | ' || type || ' | ' || header || ' | ' || source || ' | ' || doc || ' |'
FROM ps_descriptors('ps_threads');
SQL
;;
*) echo "usage: scripts/columns.sh [ps|ps_threads]" >&2; exit 2 ;;
esac
