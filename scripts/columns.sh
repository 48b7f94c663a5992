#!/bin/sh
# Print the README's column table (Markdown), generated from the column
# registry through the ps_descriptors table. `make readme` splices it into
# README.md between the <!-- columns --> markers; a test checks they match.
set -eu
cd "$(dirname "$0")/.."
sqlite3 -cmd ".load ${PSNAP_EXT:-build/ps}" :memory: <<'SQL'
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
