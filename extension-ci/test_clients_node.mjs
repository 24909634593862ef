// Node client checks for test_clients.py (run from a temporary cwd without sql/):
//   node test_clients_node.mjs <extension file> <build/node> <expected duckdb version> <table sql> <columns>
// Prints one `RESULT {"name", "status": ok|FAIL|skip, "detail"}` line per check.
import { createRequire } from 'module';
import { existsSync } from 'fs';
import { join } from 'path';
import { pathToFileURL } from 'url';

const [ext, nodeDir, expectVersion, tableSql, columns] = process.argv.slice(2);
const report = (name, status, detail = '') => console.log('RESULT ' + JSON.stringify({ name, status, detail }));
const check = (name, ok, detail) => report(name, ok ? 'ok' : 'FAIL', ok ? '' : detail);

const req = createRequire(join(nodeDir, 'package.json'));
const api = await import(pathToFileURL(req.resolve('@duckdb/node-api')).href);
const inst = await api.DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
const con = await inst.connect();
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();

try {
  await con.run(`LOAD '${ext.replaceAll("'", "''")}'`);
  check('LOAD by path', true);
} catch (e) {
  check('LOAD by path', false, String(e));
  process.exit(0);
}

try {
  const [v] = await rows('SELECT dr_version().duckdb_version AS v, version() AS running');
  check(`dr_version().duckdb_version = ${expectVersion}`, v.v === expectVersion, JSON.stringify(v));
} catch (e) {
  check(`dr_version().duckdb_version = ${expectVersion}`, false, String(e));
}

await con.run(tableSql);
const near = (a, b) => a === b || (a !== null && b !== null && Math.abs(Number(a) - Number(b)) <= 1e-9 * Math.max(1, Math.abs(Number(b))));
try {
  const bad = [];
  for (const col of ['i', 'd']) {
    const [r] = await rows(`SELECT dr_profile(${col}) AS p, count(${col}) AS c, count(*) - count(${col}) AS n,
                                   avg(${col}) AS a, min(${col}) AS mn, max(${col}) AS mx FROM t`);
    const p = r.p;
    const count = 'count' in p ? p.count : Number(p.row_count) - Number(p.null_count);
    const pairs = { count: [count, r.c], null_count: [p.null_count, r.n], mean: [p.mean, r.a],
                    min: [p.min_value ?? p.min, r.mn], max: [p.max_value ?? p.max, r.mx] };
    for (const [f, [got, want]] of Object.entries(pairs)) {
      if (!near(got, want)) bad.push(`${col}.${f}: dr_profile ${JSON.stringify(got)} vs DuckDB ${JSON.stringify(want)}`);
    }
  }
  check('dr_profile count/null_count/mean/min/max = count/count(*)-count/avg/min/max', bad.length === 0, bad.join('; '));
} catch (e) {
  check('dr_profile count/null_count/mean/min/max = count/count(*)-count/avg/min/max', false, String(e));
}

const name = "dr_macros_sql() text creates the table macros (no sql/ in cwd): profile_columns('t')";
try {
  const [{ n }] = await rows("SELECT count(*)::INT AS n FROM duckdb_functions() WHERE function_name = 'dr_macros_sql'");
  if (n === 0) {
    check(name, false, 'dr_macros_sql() is missing');
  } else {
    // the README's one statement
    await con.run((await con.runAndReadAll('SELECT dr_macros_sql()')).getRows()[0][0]);
    const got = await rows("FROM profile_columns('t')");
    check(name, got.length === Number(columns) && !existsSync('sql'),
          `${got.length} rows for ${columns} columns; sql/ in cwd: ${existsSync('sql')}`);
  }
} catch (e) {
  check(name, false, String(e));
}
