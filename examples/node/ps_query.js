#!/usr/bin/env node
// Query the sqlite-ps extension from Node.js (better-sqlite3) and print the
// result as JSON.
//
//   cd examples/node && npm install      # better-sqlite3 12.x
//   node examples/node/ps_query.js [--ext PATH] [PID]
//
// Prints one JSON object:
//   "version"    ps_version() of the loaded extension
//   "host"       every process of the host: pid, ppid, user, state, rss, comm, args
//   "container"  with PID: {"pid": PID, "processes": [...]}, the PID namespace
//                of host process PID as seen from inside (pid, ppid, user), with
//                the host's view beside it (hpid, huser) and pidns (reads back
//                PID); joining the namespace needs root
//
// The extension is build/ps.so of this repository unless --ext names another.
'use strict';

const path = require('path');
const Database = require('better-sqlite3');

const HOST_SQL = `
SELECT pid, ppid, user, state, rss, comm, args
FROM ps
ORDER BY pid`;

// ps(?) is the table-valued form of WHERE pidns = ?
const CONTAINER_SQL = `
SELECT pid, ppid, user, hpid, huser, pidns, args
FROM ps(?)
ORDER BY pid`;

function usage(msg) {
  if (msg) process.stderr.write(`ps_query: ${msg}\n`);
  process.stderr.write('usage: node ps_query.js [--ext PATH] [PID]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    ext: process.env.PSNAP_EXT || path.join(__dirname, '..', '..', 'build', 'ps'),
    pid: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--ext') {
      if (i + 1 >= argv.length) usage('--ext needs a path');
      opts.ext = argv[++i];
    } else if (a === '-h' || a === '--help') {
      usage();
    } else if (/^[0-9]+$/.test(a) && opts.pid === null) {
      opts.pid = a;
    } else {
      usage(`unexpected argument ${JSON.stringify(a)}`);
    }
  }
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  let out;
  try {
    const db = new Database(':memory:');
    db.loadExtension(opts.ext);
    out = {
      version: db.prepare('SELECT ps_version() AS v').get().v,
      host: db.prepare(HOST_SQL).all(),
    };
    if (opts.pid !== null) {
      // A JS number is bound as a REAL; a BigInt is bound as an INTEGER.
      const pid = BigInt(opts.pid);
      out.container = { pid: Number(pid), processes: db.prepare(CONTAINER_SQL).all(pid) };
    }
    db.close();
  } catch (e) {
    process.stderr.write(`ps_query: ${e.message}\n`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main();
