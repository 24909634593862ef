"""Process-level tests the sqllogictest runner cannot express.

  test_process.py <extension> <venv duckdb 2.0.1> <venv duckdb 1.5.6>

* the real DuckDB CLI (PyPI duckdb-cli 1.5.6, `duckdb -unsigned`) loads the extension and runs it;
* after LOAD into a file database and close(), a second process can open the file (no lock kept);
* LOAD works on a database opened read-only, and the functions run there;
* a panic inside a callback leaves the process alive (the next query in the same process works).
Prints `N passed, N failed`.
"""
import os
import subprocess
import sys
import tempfile

EXT, VENV2, VENV1 = (os.path.abspath(a) for a in sys.argv[1:4])
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f"\n     {detail[-1500:]}"))


def py(venv, code):
    return subprocess.run([f"{venv}/bin/python", "-c", code], capture_output=True, text=True, timeout=300)


def cli(args, sql):
    return subprocess.run([f"{VENV1}/bin/duckdb", "-unsigned", *args], input=sql, capture_output=True, text=True, timeout=300)


# 1. The real CLI.
r = cli(["-csv", "-noheader"], f"LOAD '{EXT}';\nSELECT dr_version().duckdb_version;\n"
        "SELECT (dr_basic_stats(x)).sum FROM range(101) t(x);\nSELECT dr_selftest_panic('scalar');\nSELECT 'alive';\n")
check("CLI 1.5.6 loads the extension and reports its version", "v1.5.6" in r.stdout, r.stdout + r.stderr)
check("CLI 1.5.6 runs an aggregate", "5050.0" in r.stdout, r.stdout + r.stderr)
check("CLI 1.5.6 survives a panic and keeps going", "dr_selftest_panic: internal error" in r.stderr + r.stdout and "alive" in r.stdout,
      r.stdout + r.stderr)
r = cli([], f"LOAD '{EXT}';\nSELECT function_name FROM dr_functions() WHERE function_name = 'dr_basic_stats';\n")
check("CLI lists functions", "dr_basic_stats" in r.stdout, r.stdout + r.stderr)
r = subprocess.run([f"{VENV1}/bin/duckdb", "-c", f"LOAD '{EXT}';"], capture_output=True, text=True, timeout=60)
check("CLI without -unsigned refuses the unsigned extension (clear message)", r.returncode != 0 and "signature" in (r.stderr + r.stdout).lower(),
      r.stdout + r.stderr)

with tempfile.TemporaryDirectory() as tmp:
    for venv in (VENV2, VENV1):
        db = os.path.join(tmp, f"lock-{os.path.basename(venv)}.duckdb")
        # 2. Lock released after close.
        first = py(venv, f"""
import duckdb
con = duckdb.connect({db!r}, config={{'allow_unsigned_extensions': 'true'}})
con.execute("LOAD '{EXT}'")
con.execute("CREATE OR REPLACE TABLE t AS SELECT range AS x FROM range(10)")
print(con.execute("SELECT (dr_basic_stats(x)).sum FROM t").fetchone()[0])
con.close()
import subprocess, sys
r = subprocess.run([sys.executable, '-c', "import duckdb; c = duckdb.connect({db!r}); print(c.execute('SELECT count(*) FROM t').fetchone()[0])"],
                   capture_output=True, text=True)
print('second:', r.stdout.strip(), r.stderr.strip())
""")
        check(f"[{venv.split('-')[-1]}] closing a file database after LOAD releases its lock",
              "45.0" in first.stdout and "second: 10" in first.stdout, first.stdout + first.stderr)
        # 3. Read-only database.
        ro = py(venv, f"""
import duckdb
con = duckdb.connect({db!r}, read_only=True, config={{'allow_unsigned_extensions': 'true'}})
con.execute("LOAD '{EXT}'")
print(con.execute("SELECT (dr_basic_stats(x)).row_count FROM t").fetchone()[0])
""")
        check(f"[{venv.split('-')[-1]}] LOAD into a read-only database works", ro.stdout.strip() == "10", ro.stdout + ro.stderr)

    # 4. A panic does not kill the Python process (exit code 0, next query runs).
    p = py(VENV2, f"""
import duckdb
con = duckdb.connect(config={{'allow_unsigned_extensions': 'true'}})
con.execute("LOAD '{EXT}'")
for where in ['update', 'finalize']:
    try:
        con.execute(f"SELECT dr_selftest_panic_agg(x, '{{where}}') FROM range(100) t(x)").fetchall()
    except duckdb.Error as e:
        print('error:', type(e).__name__)
print('next:', con.execute("SELECT 41 + 1").fetchone()[0])
""")
    check("a panic in a callback becomes a Python exception; the process lives on",
          p.returncode == 0 and p.stdout.count("error:") == 2 and "next: 42" in p.stdout, p.stdout + p.stderr)

# 5. Every documented example runs, on both DuckDB versions.
for venv in (VENV2, VENV1):
    ex = py(venv, f"""
import duckdb
con = duckdb.connect(config={{'allow_unsigned_extensions': 'true'}})
con.execute("LOAD '{EXT}'").fetchall()
rows = con.execute("SELECT function_name, function_type, example FROM dr_functions()").fetchall()
bad = []
for name, kind, example in rows:
    if kind in ('table_macro', 'macro') and not con.execute(
            "SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [name]).fetchall()[0][0]:
        continue  # macros exist only where the v2 companion registered them
    try:
        con.execute(example).fetchall()
    except Exception as e:
        bad.append(f"{{name}}: {{e}}")
print(len(rows), 'examples;', 'bad:', bad)
""")
    check(f"[{venv.split('-')[-1]}] every example in dr_functions() runs", "bad: []" in ex.stdout, ex.stdout + ex.stderr)

passed = sum(results)
print(f"{passed} passed, {len(results) - passed} failed")
sys.exit(0 if all(results) else 1)
