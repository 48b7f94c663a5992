// utf8_check.js: read every row of every table of the extension through
// better-sqlite3 (Node.js) and check its TEXT (tests/test_utf8.py runs it).
//
//   NODE_PATH=examples/node/node_modules node tests/clients/utf8_check.js EXT PID...
//   UTF8_CHECK_CONTROL=1 ...   also reads CAST(x'c0af' AS TEXT): one failure
//
// For every TEXT value s of every table (SELECT * and the hidden columns):
//   - s is well-formed: Buffer.from(s, 'utf8').toString('utf8') === s, and
//     the bytes SQLite holds (CAST(col AS BLOB)) decode with a fatal UTF-8
//     decoder to s itself (V8 would otherwise turn invalid bytes into
//     U+FFFD silently, and the check would see nothing);
//   - where the column has a _raw twin, s is exactly what WHATWG's decoder
//     (TextDecoder, U+FFFD per maximal subpart) makes of the twin's bytes
//     (args: NULs as spaces, trailing ones dropped, "[comm]" when empty), so
//     s holds U+FFFD only where the bytes were not UTF-8.
// Prints one JSON object: counts per table, the failures, the U+FFFD seen
// in columns without a twin, and the values of the rows of each PID as hex.
"use strict";
const Database = require("better-sqlite3");

const [ext, ...pidArgs] = process.argv.slice(2);
const pids = new Set(pidArgs.map(Number));
const db = new Database(":memory:");
db.loadExtension(ext);
const fatal = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");

const twins = {
  ps: { comm: "comm_raw", args: "args_raw", exe: "exe_raw", cwd: "cwd_raw" },
  ps_threads: { comm: "comm_raw" },
  ps_fds: { target: "target_raw" },
  ps_sockets: { path: "path_raw" },
};

// What the text of a twin is made of its bytes.
function expected(table, col, raw, row) {
  if (table === "ps" && col === "args") {
    let n = raw.length;
    while (n > 0 && raw[n - 1] === 0) n--;
    if (n === 0) return "[" + lenient.decode(row.comm_raw) + "]";
    const b = Buffer.from(raw.subarray(0, n));
    for (let i = 0; i < n; i++) if (b[i] === 0) b[i] = 0x20;
    return lenient.decode(b);
  }
  return lenient.decode(raw);
}

const out = { tables: {}, failures: [], fffd_untwinned: [], report: {} };
const scans = [
  ["ps", "ps"],
  ["ps_threads", "ps_threads"],
  ["ps_fds", "ps_fds"],
  ["ps_sockets", "ps_sockets"],
  ["ps_namespaces", "ps_namespaces"],
  ["ps_descriptors", "ps_descriptors('ps')"],
  ["ps_descriptors", "ps_descriptors('ps_threads')"],
];
for (const [table, from] of scans) {
  const cols = db.prepare(`SELECT name, type, hidden FROM pragma_table_xinfo('${table}')`).all();
  const names = cols.map((c) => c.name);
  // every column, hidden ones too, and each TEXT-declared one as its bytes
  const sel = names.map((n) => `"${n}"`).concat(names.map((n) => `CAST("${n}" AS BLOB) AS "${n}__bytes"`));
  const rows = db.prepare(`SELECT ${sel.join(", ")} FROM ${from}`).all();
  const t = (out.tables[from] = { rows: rows.length, texts: 0, twins: 0 });
  for (const row of rows) {
    const mine = pids.has(row.pid) && table !== "ps_descriptors";
    for (const n of names) {
      const s = row[n];
      if (mine && s !== null) {
        const r = (out.report[row.pid] ??= {});
        const key = table === "ps_threads" ? `${table}.${row.tid}.${n}` : table === "ps" ? `${table}.${n}` : null;
        if (key) r[key] = Buffer.isBuffer(s) ? s.toString("hex") : typeof s === "string" ? Buffer.from(s, "utf8").toString("hex") : s;
        if (table === "ps_fds" || table === "ps_sockets")
          ((r[table] ??= {})[row.fd] ??= {})[n] = Buffer.isBuffer(s) ? s.toString("hex") : typeof s === "string" ? Buffer.from(s, "utf8").toString("hex") : s;
      }
      if (typeof s !== "string") continue;
      t.texts++;
      const where = `${from}.${n} of ${JSON.stringify(row.pid ?? row.name ?? null)}`;
      if (Buffer.from(s, "utf8").toString("utf8") !== s) out.failures.push(`${where}: not well-formed: ${JSON.stringify(s)}`);
      let decoded = null;
      try {
        decoded = fatal.decode(row[n + "__bytes"]);
      } catch (e) {
        out.failures.push(`${where}: invalid UTF-8 bytes ${row[n + "__bytes"].toString("hex")}`);
      }
      if (decoded !== null && decoded !== s) out.failures.push(`${where}: Node's string differs from SQLite's bytes`);
      const twin = (twins[table] || {})[n];
      if (twin) {
        t.twins++;
        const raw = row[twin];
        if (!Buffer.isBuffer(raw)) out.failures.push(`${where}: ${twin} is not a BLOB: ${JSON.stringify(raw)}`);
        else if (expected(table, n, raw, row) !== s)
          out.failures.push(`${where}: ${JSON.stringify(s)} is not TextDecoder's text of ${twin} ${raw.toString("hex")}`);
      } else if (s.includes("\ufffd")) {
        // no twin to explain it: the test fails on this only for its own processes
        out.fffd_untwinned.push({ table: from, column: n, pid: row.pid ?? null, value: s });
      }
    }
  }
}
// the functions that return text; with UTF8_CHECK_CONTROL=1 a TEXT that is
// not UTF-8 too, which must fail (the check can fail)
const fns = ["SELECT ps_version()", "SELECT ps_etime(93784)", "SELECT ps_cputime(4)",
             "SELECT ps_printable(CAST(x'ff0a61e282' AS TEXT))"];
if (process.env.UTF8_CHECK_CONTROL === "1") fns.push("SELECT CAST(x'c0af' AS TEXT)");
for (const sql of fns) {
  const s = db.prepare(sql).pluck().get();
  const b = db.prepare(sql.replace("SELECT ", "SELECT CAST(") + " AS BLOB)").pluck().get();
  try {
    if (fatal.decode(b) !== s) out.failures.push(`${sql}: Node's string differs from SQLite's bytes`);
  } catch (e) {
    out.failures.push(`${sql}: invalid UTF-8 bytes ${b.toString("hex")}`);
  }
}
process.stdout.write(JSON.stringify(out) + "\n");
