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

# 6. The C API v2 companion: written by LOAD from the library for the running 2.0.x release,
#    into a private cache; never loaded from anywhere else or on another release.
VENV20 = os.path.join(os.path.dirname(VENV2), "venv-2.0.0")
FOOTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "append_footer.py")


def package(tmp, abi, version, with_companion=True, companion_lib=None):
    """dataraum.duckdb_extension plus, optionally, a companion with the given footer (over the
    real library, or over `companion_lib` bytes), in a fresh dir."""
    d = tempfile.mkdtemp(dir=tmp)
    with open(EXT, "rb") as f:
        lib = f.read()[:-534]
    so = os.path.join(d, "lib.so")
    with open(so, "wb") as f:
        f.write(lib)
    with open(os.path.join(d, "dataraum.duckdb_extension"), "wb") as f:
        f.write(open(EXT, "rb").read())
    if companion_lib is not None:
        so = os.path.join(d, "broken.so")
        with open(so, "wb") as f:
            f.write(companion_lib)
    if with_companion:
        subprocess.run([f"{VENV2}/bin/python", FOOTER, so, os.path.join(d, "dataraum_v2.duckdb_extension"),
                        "--version", "v0", "--abi", abi, "--min-capi", version, "--python", f"{VENV2}/bin/python"],
                       check=True, capture_output=True, text=True)
    return d


LOAD_AND_REPORT = """
import duckdb, sys
con = duckdb.connect(config=dict(allow_unsigned_extensions='true', **CONFIG))
con.execute("LOAD 'EXTPATH'")
print('macros:', con.execute("SELECT dr_version().macros").fetchone()[0])
print('basic_stats in catalog:', con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'basic_stats'").fetchone()[0])
print('v1 works:', con.execute("SELECT (dr_basic_stats(x)).sum FROM range(4) t(x)").fetchone()[0])
native = "FROM dr_functions() f WHERE f.function_type IN ('scalar', 'aggregate', 'table')"
print('native missing:', con.execute(f"SELECT count(*) {native} AND f.function_name NOT IN "
                                     "(SELECT function_name FROM duckdb_functions())").fetchone()[0])
print('native documented:', con.execute(f"SELECT count(*) {native} AND f.description = "
                                        "(SELECT any_value(d.description) FROM duckdb_functions() d "
                                        "WHERE d.function_name = f.function_name)").fetchone()[0])
print('works after LOAD:', con.execute("SELECT (dr_profile(x)).row_count FROM range(7) t(x)").fetchone()[0])
"""
# every native function registered, none documented in the catalog: the C API v1 path
V1_PATH = ("native missing: 0", "native documented: 0", "v1 works: 6.0", "works after LOAD: 7")

def load_directly(venv, path):
    """LOADs one file on its own in a fresh process; prints 'refused: <error>' or 'loaded', then
    proves the process lives on ('next: 42')."""
    return py(venv, f"""
import duckdb
con = duckdb.connect(config={{'allow_unsigned_extensions': 'true'}})
try:
    con.execute("LOAD '{path}'")
    print('loaded')
except duckdb.Error as e:
    print('refused:', e)
print('next:', con.execute("SELECT 41 + 1").fetchone()[0])
""")


def py_env(venv, code, env):
    return subprocess.run([f"{venv}/bin/python", "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def cache_env(base):
    """Environment that puts every companion cache candidate under `base`."""
    return {"XDG_CACHE_HOME": os.path.join(base, "xdg"), "HOME": os.path.join(base, "home"), "TMPDIR": os.path.join(base, "tmp")}


with tempfile.TemporaryDirectory() as tmp:
    # One file is the whole extension: dataraum.duckdb_extension alone in a directory, and the
    # C API v2 companion written by LOAD from the library itself into the user's cache.
    d = package(tmp, "", "", with_companion=False)
    base = tempfile.mkdtemp(dir=tmp)
    env = cache_env(base)
    os.makedirs(env["TMPDIR"])
    r = py_env(VENV2, LOAD_AND_REPORT.replace("CONFIG", "{}").replace("EXTPATH", os.path.join(d, "dataraum.duckdb_extension")), env)
    written = [os.path.join(p, f) for p, _, fs in os.walk(base) for f in fs]
    check("[2.0.1] dataraum.duckdb_extension alone: LOAD writes the companion into $XDG_CACHE_HOME/dataraum and registers the macros",
          r.returncode == 0 and "macros: registered" in r.stdout and len(written) == 1
          and written[0].startswith(os.path.join(base, "xdg", "dataraum")) and written[0].endswith("-v2.0.1/dataraum_v2.duckdb_extension"),
          r.stdout + r.stderr + repr(written))
    cached = written[0] if written else ""
    if cached:
        mode = os.stat(os.path.dirname(cached)).st_mode & 0o777
        check("[2.0.1] the companion's cache directory is private (mode 700)", mode == 0o700, oct(mode))
        # A damaged cached companion is replaced, never loaded.
        with open(cached, "wb") as f:
            f.write(b"not a shared library\n" * 200)
        r = py_env(VENV2, LOAD_AND_REPORT.replace("CONFIG", "{}").replace("EXTPATH", os.path.join(d, "dataraum.duckdb_extension")), env)
        check("[2.0.1] a damaged cached companion is rewritten from the library and LOAD registers the macros",
              r.returncode == 0 and "macros: registered" in r.stdout and open(cached, "rb").read(4) == b"\x7fELF",
              r.stdout + r.stderr)
    # 2.0.0 gets its own companion from the same library (the v2 table remapped at LOAD).
    r = py_env(VENV20, LOAD_AND_REPORT.replace("CONFIG", "{}").replace("EXTPATH", os.path.join(d, "dataraum.duckdb_extension")), env)
    check("[2.0.0] the same file: companion for v2.0.0, macros registered, every native function documented",
          r.returncode == 0 and "macros: registered" in r.stdout and "native missing: 0" in r.stdout
          and "native documented: 0" not in r.stdout and os.path.isdir(os.path.dirname(cached).replace("-v2.0.1", "-v2.0.0")),
          r.stdout + r.stderr)
    # No cache directory can be written (every candidate is under a plain file): LOAD still
    # succeeds, every function through the C API v1, and dr_version().macros says why.
    blocker = os.path.join(tmp, "a-file")
    open(blocker, "w").close()
    r = py_env(VENV2, LOAD_AND_REPORT.replace("CONFIG", "{}").replace("EXTPATH", os.path.join(d, "dataraum.duckdb_extension")),
               cache_env(blocker))
    check("[2.0.1] no writable cache: LOAD dataraum registers every dr_* function through v1 and says why",
          r.returncode == 0 and "no writable cache directory" in r.stdout and "basic_stats in catalog: 0" in r.stdout
          and all(w in r.stdout for w in V1_PATH), r.stdout + r.stderr)
    # A cache base writable by others is not used (a planted companion would be loaded).
    shared = tempfile.mkdtemp(dir=tmp)
    os.makedirs(os.path.join(shared, "xdg", "dataraum"))
    os.chmod(os.path.join(shared, "xdg", "dataraum"), 0o777)
    env = cache_env(shared)
    os.makedirs(env["TMPDIR"])
    r = py_env(VENV2, LOAD_AND_REPORT.replace("CONFIG", "{}").replace("EXTPATH", os.path.join(d, "dataraum.duckdb_extension")), env)
    used = [p for p, _, fs in os.walk(shared) for f in fs]
    check("[2.0.1] a cache directory others can write is skipped for the next candidate (~/.cache/dataraum)",
          r.returncode == 0 and "macros: registered" in r.stdout and used and all(p.startswith(os.path.join(shared, "home")) for p in used),
          r.stdout + r.stderr + repr(used))
    # A companion file loaded on its own (without LOAD dataraum): refused with a clear message.
    d2 = package(tmp, "C_STRUCT_UNSTABLE", "v2.0.1")
    r = load_directly(VENV2, os.path.join(d2, "dataraum_v2.duckdb_extension"))
    check("[2.0.1] the companion loaded without dataraum is refused (it is loaded by LOAD dataraum)",
          r.returncode == 0 and "refused:" in r.stdout and "LOAD dataraum" in r.stdout and "next: 42" in r.stdout,
          r.stdout + r.stderr)
    # Loading a wrongly versioned companion directly: DuckDB refuses it, the process lives on.
    d3 = package(tmp, "C_STRUCT_UNSTABLE", "v2.0.0")
    r = load_directly(VENV2, os.path.join(d3, 'dataraum_v2.duckdb_extension'))
    check("[2.0.1] DuckDB refuses a companion built for v2.0.0 when loaded directly (no crash)",
          r.returncode == 0 and "refused:" in r.stdout and "v2.0.0" in r.stdout and "next: 42" in r.stdout, r.stdout + r.stderr)
    r = load_directly(VENV1, os.path.join(d2, "dataraum_v2.duckdb_extension"))
    check("[1.5.6] DuckDB refuses the v2.0.1 companion when loaded directly (no crash)",
          r.returncode == 0 and "refused:" in r.stdout and "next: 42" in r.stdout, r.stdout + r.stderr)
    # The real companion next to the real file: macros registered and every native function
    # documented (and, on 1.5.6, not even tried: every function through v1).
    r = py(VENV2, LOAD_AND_REPORT.replace("CONFIG", "{}").replace("EXTPATH", EXT))
    count = py(VENV2, f"""
import duckdb
con = duckdb.connect(config={{'allow_unsigned_extensions': 'true'}})
con.execute("LOAD '{EXT}'")
print('native:', con.execute("SELECT count(*) FROM dr_functions() WHERE function_type IN ('scalar', 'aggregate', 'table')").fetchone()[0])
""").stdout.strip()
    want = ("macros: registered", "native missing: 0", f"native documented: {count.split(': ')[-1]}", "works after LOAD: 7")
    check(f"[2.0.1] LOAD dataraum: macros registered, every native function documented ({count})",
          r.returncode == 0 and count.startswith("native: ") and all(w in r.stdout for w in want), r.stdout + r.stderr)
    r = py(VENV1, LOAD_AND_REPORT.replace("CONFIG", "{}").replace("EXTPATH", EXT))
    check("[1.5.6] LOAD dataraum: macros only with LOAD on 2.0.x (dr_macros_sql() named), every function through v1",
          r.returncode == 0 and "only on DuckDB 2.0.0 and 2.0.1" in r.stdout and "dr_macros_sql()" in r.stdout and all(w in r.stdout for w in V1_PATH),
          r.stdout + r.stderr)

# 7. A long persistence finalize reports its stage in dr_metrics().progress, readable from another
#    cursor while it runs, and clears it when done (both DuckDB versions). The run has the edge
#    collapse off so it lasts long enough to be polled (~1 s); which stages it went through is
#    read from dr_metrics().stages afterwards, not from what the polling happened to catch.
for venv in (VENV2, VENV1):
    pr = py(venv, f'''
import duckdb, threading, time
con = duckdb.connect(config={{'allow_unsigned_extensions': 'true'}})
con.execute("LOAD '{EXT}'").fetchall()
con.execute("CREATE TABLE pts AS SELECT (i * 7919 % 1000) / 1000.0 AS x, (i * 104729 % 997) / 997.0 AS y, (i * 1299709 % 991) / 991.0 AS z FROM range(450) t(i)").fetchall()
def run():
    con.cursor().execute("SELECT len(dr_persistence([x, y, z], 2, NULL, 'euclidean', false, NULL, NULL, NULL, NULL, NULL, false)) FROM pts").fetchall()
t = threading.Thread(target=run); t.start()
c2 = con.cursor(); seen = []
while t.is_alive():
    p = c2.execute("SELECT progress FROM dr_metrics() WHERE function_name = 'dr_persistence'").fetchall()
    if p and p[0][0]: seen.append(p[0][0])
    time.sleep(0.05)
t.join()
print('seen:', len(seen), seen[-1] if seen else None)
print('after:', c2.execute("SELECT progress FROM dr_metrics() WHERE function_name = 'dr_persistence'").fetchall()[0][0])
print('stages:', c2.execute("SELECT stages FROM dr_metrics() WHERE function_name = 'dr_persistence'").fetchall()[0][0])
''')
    check(f"[{venv.split('-')[-1]}] a running dr_persistence reports its stage in dr_metrics().progress, cleared after",
          "after: None" in pr.stdout and "seen: 0" not in pr.stdout and "> H2 " in pr.stdout, pr.stdout + pr.stderr)

# 8. dr_metrics() CPU time against the OS: the process's own CPU clock (getrusage, every thread)
#    and the per-thread clocks in /proc/self/task are the oracle. A query dominated by our
#    callbacks (a profile over 3M rows on DuckDB's threads; a persistence finalize on the
#    worker pool) is charged at most the process CPU it used, and at least 80 % of what the
#    threads other than the client's used (1.5.6's client thread spins while it waits, which
#    is DuckDB's CPU, not ours).
for venv in (VENV2, VENV1):
    pr = py(venv, f'''
import duckdb, os, resource, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1000
def others():
    tick, main, ms = os.sysconf("SC_CLK_TCK"), str(os.getpid()), 0.0
    for t in os.listdir("/proc/self/task"):
        if t == main:
            continue
        try:
            st = open(f"/proc/self/task/{{t}}/stat").read()
        except OSError:
            continue
        f = st[st.rindex(")") + 2:].split()
        ms += (int(f[11]) + int(f[12])) * 1000 / tick
    return ms
con = duckdb.connect(config={{'allow_unsigned_extensions': 'true'}})
con.execute("LOAD '{EXT}'").fetchall()
con.execute("SET threads = 2")
con.execute("CREATE TABLE t AS SELECT range AS a, (range * 0.37) % 101 AS b, (range % 5000)::VARCHAR AS c FROM range(3000000)")
con.execute("CREATE TABLE pts AS SELECT (i * 7919 % 1000) / 1000.0 AS x, (i * 104729 % 997) / 997.0 AS y, (i * 1299709 % 991) / 991.0 AS z FROM range(900) t(i)")
for name, q in [("dr_profile", "SELECT dr_profile(a), dr_profile(b), dr_profile(c) FROM t"),
                ("dr_persistence", "SELECT len(dr_persistence([x, y, z], 1)) FROM pts")]:
    con.execute("SELECT dr_metrics_reset()").fetchall()
    c0, o0, w0 = cpu(), others(), time.perf_counter()
    con.execute(q).fetchall()
    c1, o1, w1 = cpu(), others(), time.perf_counter()
    ours, wall, util = con.execute(f"SELECT cpu_ms, wall_ms, coalesce(utilisation, 0) FROM dr_metrics() WHERE function_name = '{{name}}'").fetchone()
    print(name, f"process_cpu_ms={{c1 - c0:.1f}} other_threads_ms={{o1 - o0:.1f}} ours_cpu_ms={{ours:.1f}} query_ms={{(w1 - w0) * 1000:.1f}} wall_ms={{wall:.1f}} util={{util:.3f}}")
    ok = 0.8 * (o1 - o0) - 30 <= ours <= (c1 - c0) + 5 and ours > 50 and 0 < wall <= (w1 - w0) * 1000 + 1 and util <= 1.05
    print(name, "OK" if ok else "BAD")
''')
    check(f"[{venv.split('-')[-1]}] dr_metrics().cpu_ms: at most the process CPU (getrusage), at least 80 % of the non-client threads' (/proc) for a callback-bound query; wall_ms within the query",
          pr.stdout.count(" OK") == 2, pr.stdout + pr.stderr)

passed = sum(results)
print(f"{passed} passed, {len(results) - passed} failed")
sys.exit(0 if all(results) else 1)
