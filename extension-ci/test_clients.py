"""Client matrix: the extension in every DuckDB release and client the README names (issue #14).

  test_clients.py <extension file> <build dir>

For each Python `duckdb` release in <build dir>/venv-<version> (1.1.3 must refuse the load with a
clear error; 1.2.2 loads <ext dir>/linux_amd64_gcc4/dataraum.duckdb_extension; the rest load
<extension file>), every check runs in its own subprocess from a temporary working directory
without a sql/ folder, so a crash shows up as a negative return code (FAIL with the signal) and
never takes this runner down:

  1. LOAD by path (1.1.3: refused with a message naming v1.2.0, the process lives on);
  2. dr_version().duckdb_version is v<release>;
  3. dr_profile(x) agrees with count(x), count(*) - count(x), avg(x), min(x), max(x);
  4. every native function's dr_functions() example runs (settings-dependent ones skipped on
     1.2-1.4, which have no extension settings);
  5. table macros: registered by LOAD on 2.0.x; created from dr_macros_sql()'s text elsewhere;
  6. INSTALL dataraum FROM <build dir>/repo; LOAD dataraum (fresh extension_directory).

Then the duckdb-cli 1.5.6 binary and the Node client (@duckdb/node-api in <build dir>/node, driven
by test_clients_node.mjs). A check whose prerequisite is not built yet prints `skip <reason>` and
counts neither way. Last line: `N passed, N failed`; exit 1 on any failure.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

EXT = os.path.abspath(sys.argv[1])
BUILD = os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
GCC4 = os.path.join(os.path.dirname(EXT), "linux_amd64_gcc4", "dataraum.duckdb_extension")
REPO = os.path.join(BUILD, "repo")
RELEASES = ["1.1.3", "1.2.2", "1.3.2", "1.4.5", "1.5.6", "2.0.0", "2.0.1"]
CLI_RELEASE = "1.5.6"
NODE_RELEASE = "1.5.6"  # the DuckDB bundled by the pinned @duckdb/node-api
TIMEOUT = 120
EXAMPLES_LOCK = threading.Lock()
TMP = tempfile.mkdtemp(prefix="dataraum-clients-")  # cwd of every client process: no sql/ here


def vkey(v):
    return tuple(int(p) for p in v.split("."))


def has_settings(release):
    """Extension settings (SET dataraum_x) exist on 1.5.x and 2.0.x only."""
    return vkey(release) >= (1, 5, 0)


class Report:
    """Lines of one release, printed together (releases run in parallel)."""

    def __init__(self):
        self.lines, self.passed, self.failed = [], 0, 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            self.lines.append("ok   " + name)
        else:
            self.failed += 1
            self.lines.append("FAIL " + name + ("\n     " + detail.strip()[-2000:].replace("\n", "\n     ") if detail else ""))

    def skip(self, name, why):
        self.lines.append(f"skip {name}: {why}")


def run(argv, cwd=None, stdin=None, timeout=TIMEOUT):
    """Runs a client process; returns (returncode or None on timeout, stdout, stderr)."""
    try:
        r = subprocess.run(argv, cwd=cwd or TMP, input=stdin, capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""), \
            f"timed out after {timeout} s"


def died(rc, out, err):
    """A FAIL detail when the process did not exit normally, else None."""
    if rc is None:
        return f"timeout: {err}\n{out}"
    if rc < 0:
        try:
            sig = signal.Signals(-rc).name
        except ValueError:
            sig = f"signal {-rc}"
        return f"process killed by {sig} (return code {rc})\n{out}\n{err}"
    return None


def results(out):
    """The RESULT {json} lines a probe printed, merged into one dict."""
    merged = {}
    for line in out.splitlines():
        if line.startswith("RESULT "):
            merged.update(json.loads(line[7:]))
    return merged


PRELUDE = r"""
import duckdb, json, sys, tempfile
def out(**kw):
    print('RESULT ' + json.dumps(kw, default=str)); sys.stdout.flush()
con = duckdb.connect(config={'allow_unsigned_extensions': 'true', 'extension_directory': tempfile.mkdtemp(dir='.')})  # cwd: the runner's temp dir
"""

LOAD = PRELUDE + "con.execute(\"LOAD '%s'\")\n"

TABLE_SQL = ("CREATE OR REPLACE TABLE t AS SELECT * FROM (VALUES (1, 1.5, 'a'), (NULL, 2.25, 'b'), (3, NULL, NULL), "
             "(-7, -0.5, 'c'), (NULL, NULL, 'd'), (10, 1000.0, 'e'), (3, 0.125, 'a')) v(i, d, s)")
TABLE_COLUMNS = 3


def py(release, code, cwd=None):
    return run([os.path.join(BUILD, f"venv-{release}", "bin", "python"), "-c", code], cwd=cwd)


def probe(rep, name, release, code, judge):
    """Runs `code` in the release's python; `judge(results) -> (ok, detail)` unless it crashed."""
    rc, out, err = py(release, code)
    bad = died(rc, out, err)
    if bad:
        last = results(out).get("running")
        rep.check(name, False, (f"died while running the example of {last}\n" if last else "") + bad)
        return None
    res = results(out)
    if rc != 0 and not res.get("_allow_error"):
        rep.check(name, False, f"exit code {rc}\n{out}\n{err}")
        return None
    ok, detail = judge(res)
    rep.check(name, ok, detail if not ok else "")
    return res


# --- per-release probes ------------------------------------------------------------------------

REFUSE = PRELUDE + r"""
try:
    con.execute("LOAD '%s'")
    out(loaded=True)
except Exception as e:
    out(loaded=False, error=str(e))
out(alive=con.execute("SELECT 41 + 1").fetchone()[0])
"""

VERSION = LOAD + r"""
out(duckdb_version=con.execute("SELECT dr_version().duckdb_version").fetchone()[0],
    running=con.execute("SELECT version()").fetchone()[0])
"""

PROFILE = LOAD + "con.execute(%r)\n" % TABLE_SQL + r"""
p = con.execute("SELECT dr_profile(i) FROM t").fetchone()[0]
out(fields=list(p.keys()))
cmp = {}
for col in ('i', 'd'):
    prof, cnt, nulls, avg, mn, mx = con.execute(
        f"SELECT dr_profile({col}), count({col}), count(*) - count({col}), avg({col}), min({col}), max({col}) FROM t").fetchone()
    if 'count' in prof:
        got_count = prof['count']
    else:
        got_count = prof['row_count'] - prof['null_count']
    cmp[col] = {'count': [got_count, cnt], 'null_count': [prof['null_count'], nulls], 'mean': [prof['mean'], avg],
                'min': [prof.get('min_value', prof.get('min')), mn], 'max': [prof.get('max_value', prof.get('max')), mx]}
out(cmp=cmp)
"""


def judge_profile(res):
    bad = []
    for col, fields in (res.get("cmp") or {}).items():
        for field, (got, want) in fields.items():
            try:
                same = abs(float(got) - float(want)) <= 1e-9 * max(1.0, abs(float(want)))
            except (TypeError, ValueError):
                same = got == want
            if not same:
                bad.append(f"{col}.{field}: dr_profile {got!r} vs DuckDB {want!r}")
    if not res.get("cmp"):
        bad.append("no comparison made")
    return not bad, "; ".join(bad) + f"\n     dr_profile fields: {res.get('fields')}"


EXAMPLES = LOAD + r"""
rows = con.execute("SELECT function_name, function_type, example FROM dr_functions() "
                   "WHERE function_type IN ('scalar', 'aggregate', 'table') ORDER BY function_name").fetchall()
settings, structs = %r, %r
ran, bad, skipped, refused = 0, [], [], []
for name, kind, example in rows:
    if not settings and ('SET dataraum_' in example or "current_setting('dataraum_" in example):
        skipped.append(name)
        continue
    out(running=name)  # names the example if the process dies in it
    try:
        con.execute(example).fetchall()
        ran += 1
    except Exception as e:
        # DuckDB 1.2 cannot hand STRUCT fields to an extension safely: those functions refuse
        if not structs and 'use DuckDB 1.3 or later' in str(e):
            refused.append(name)
        else:
            bad.append(f"{name}: {e}")
out(ran=ran, bad=bad, skipped=skipped, refused=refused, total=len(rows))
"""

MACROS_V2 = LOAD + "con.execute(%r)\n" % TABLE_SQL + r"""
m = con.execute("SELECT dr_version().macros").fetchone()[0]
out(macros=m)
if m == 'registered':
    out(rows=len(con.execute("FROM profile_columns('t')").fetchall()))
"""

MACROS_SQL = LOAD + "con.execute(%r)\n" % TABLE_SQL + r"""
import os
out(sql_dir_here=os.path.isdir('sql'))
if not con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'dr_macros_sql'").fetchone()[0]:
    out(missing=True)
else:
    text = con.execute("SELECT dr_macros_sql()").fetchone()[0]
    out(chars=len(text))
    con.execute(text)
    out(rows=len(con.execute("FROM profile_columns('t')").fetchall()))
"""

INSTALL = PRELUDE + "con.execute(%r)\n" % TABLE_SQL + r"""
con.execute("INSTALL dataraum FROM '%s'")
con.execute("LOAD dataraum")
v = con.execute("SELECT dr_version()").fetchone()[0]
out(duckdb_version=v['duckdb_version'], macros=v['macros'])
if v['macros'] == 'registered':
    out(rows=len(con.execute("FROM profile_columns('t')").fetchall()))
"""


def test_release(release):
    rep = Report()
    tag = f"[{release}]"
    python = os.path.join(BUILD, f"venv-{release}", "bin", "python")
    if not os.path.exists(python):
        rep.check(f"{tag} venv {os.path.dirname(os.path.dirname(python))} exists", False, "missing: run make client-venvs")
        return rep
    if vkey(release) < (1, 2, 0):
        for path in (EXT, GCC4):
            if not os.path.exists(path):
                continue
            rel = os.path.relpath(path, BUILD)
            probe(rep, f"{tag} refuses LOAD of {rel} with a clear error, the process lives on", release, REFUSE % path,
                  lambda r: (r.get("loaded") is False and ("v1.2.0" in r.get("error", "") or
                                                        ("1.2" in r.get("error", "") and "2.0" in r.get("error", "")))
                             and r.get("alive") == 42, json.dumps(r)))
        return rep

    ext = GCC4 if vkey(release) < (1, 3, 0) else EXT
    if not os.path.exists(ext):
        rep.check(f"{tag} LOAD by path, dr_version, dr_profile, examples, table macros", False,
                 f"{os.path.relpath(ext, BUILD)} not built yet")
    else:
        rel = os.path.relpath(ext, BUILD)
        loaded = probe(rep, f"{tag} LOAD '{rel}'", release, LOAD % ext + "out(loaded=True)\n",
                       lambda r: (r.get("loaded") is True, json.dumps(r)))
        if loaded is not None:
            probe(rep, f"{tag} dr_version().duckdb_version = v{release}", release, VERSION % ext,
                  lambda r: (r.get("duckdb_version") == f"v{release}", json.dumps(r)))
            probe(rep, f"{tag} dr_profile count/null_count/mean/min/max = count/count(*)-count/avg/min/max", release,
                  PROFILE % ext, judge_profile)
            with EXAMPLES_LOCK:
                ex = probe(rep, f"{tag} every native dr_functions() example runs", release,
                           EXAMPLES % (ext, has_settings(release), vkey(release) >= (1, 3, 0)),
                           lambda r: (r.get("total", 0) > 0 and not r.get("bad"),
                                      f"{len(r.get('bad', []))} of {r.get('total')} failed:\n" + "\n".join(r.get("bad", []))))
            if ex and ex.get("refused"):
                rep.skip(f"{tag} examples refused with 'use DuckDB 1.3 or later' ({', '.join(ex['refused'])})",
                         "DuckDB 1.2 hands STRUCT fields unflattened")
            if ex and ex.get("skipped"):
                rep.skip(f"{tag} examples that need dataraum_ settings ({', '.join(ex['skipped'])})",
                         f"DuckDB {release} has no extension settings (1.5+ only)")
            if vkey(release) >= (2, 0, 0):
                name = f"{tag} LOAD registers the table macros: FROM profile_columns('t') gives one row per column"
                rc, out, err = py(release, MACROS_V2 % ext)
                res = results(out)
                bad = died(rc, out, err)
                if bad:
                    rep.check(name, False, bad)
                elif res.get("macros") != "registered" and release == "2.0.0":
                    rep.check(name, False, f"macros not registered on 2.0.0: {res.get('macros')}")
                else:
                    rep.check(name, rc == 0 and res.get("macros") == "registered" and res.get("rows") == TABLE_COLUMNS,
                              f"exit code {rc}; {json.dumps(res)}\n{err}")
            else:
                name = f"{tag} dr_macros_sql() text creates the table macros (no sql/ in cwd): profile_columns('t')"
                rc, out, err = py(release, MACROS_SQL % ext)
                res = results(out)
                bad = died(rc, out, err)
                if bad:
                    rep.check(name, False, bad)
                elif res.get("missing"):
                    rep.check(name, False, "dr_macros_sql() is missing")
                else:
                    rep.check(name, rc == 0 and res.get("rows") == TABLE_COLUMNS and not res.get("sql_dir_here"),
                              f"exit code {rc}; {json.dumps(res)}\n{err}")

    name = f"{tag} INSTALL dataraum FROM build/repo; LOAD dataraum" + \
        ("; macros registered, profile_columns works" if vkey(release) >= (2, 0, 0) else "")
    if not os.path.isdir(REPO):
        rep.check(name, False, f"{os.path.relpath(REPO, BUILD)} not built yet")
    else:
        def judge_install(r):
            ok = r.get("duckdb_version") == f"v{release}"
            if vkey(release) >= (2, 0, 0):
                ok = ok and r.get("macros") == "registered" and r.get("rows") == TABLE_COLUMNS
            return ok, json.dumps(r)
        rc, out, err = py(release, INSTALL % REPO)
        bad = died(rc, out, err)
        if bad:
            rep.check(name, False, bad)
        else:
            ok, detail = judge_install(results(out))
            have = [os.path.relpath(os.path.join(d, f), REPO) for d, _, fs in os.walk(REPO) for f in fs]
            rep.check(name, rc == 0 and ok, f"exit code {rc}; {detail}\n{err}\n     repo holds: {have}")
    return rep


# --- the CLI -----------------------------------------------------------------------------------

def test_cli():
    rep = Report()
    tag = f"[cli {CLI_RELEASE}]"
    cli = os.path.join(BUILD, f"venv-{CLI_RELEASE}", "bin", "duckdb")
    if not os.path.exists(cli):
        rep.check(f"{tag} {cli} exists", False, "missing: make venvs")
        return rep

    def duck(sql):
        return run([cli, "-unsigned"], stdin=sql)

    rc, out, err = duck(f".mode list\n.headers off\nLOAD '{EXT}';\nSELECT 'version=' || dr_version().duckdb_version;\n")
    rep.check(f"{tag} LOAD by path; dr_version().duckdb_version = v{CLI_RELEASE}",
              rc == 0 and f"version=v{CLI_RELEASE}" in out, died(rc, out, err) or f"exit code {rc}\n{out}\n{err}")
    rc, out, err = duck(f".mode list\n.headers off\nLOAD '{EXT}';\n{TABLE_SQL};\n"
                        "SELECT 'cmp=' || ((p.row_count - p.null_count) = c)::INT || (p.null_count = n)::INT "
                        "|| (abs(p.mean - a) < 1e-9)::INT || (p.min_value = mn)::INT || (p.max_value = mx)::INT "
                        "FROM (SELECT dr_profile(d) AS p, count(d) AS c, count(*) - count(d) AS n, avg(d) AS a, "
                        "min(d) AS mn, max(d) AS mx FROM t);\n")
    rep.check(f"{tag} dr_profile agrees with count/avg/min/max", rc == 0 and "cmp=11111" in out,
              died(rc, out, err) or f"exit code {rc}\n{out}\n{err}")

    name = f"{tag} dr_macros_sql() text creates the table macros (no sql/ in cwd): profile_columns('t')"
    rc, out, err = duck(f".mode list\n.headers off\nLOAD '{EXT}';\n"
                        "SELECT 'has=' || count(*) FROM duckdb_functions() WHERE function_name = 'dr_macros_sql';\n")
    if died(rc, out, err) or rc != 0:
        rep.check(name, False, died(rc, out, err) or f"exit code {rc}\n{out}\n{err}")
    elif "has=0" in out:
        rep.check(name, False, "dr_macros_sql() is missing")
    else:
        # The CLI cannot execute a query's text directly: write the text to a file, then .read it.
        routes = [(".once + .read", ".once {f}\nSELECT dr_macros_sql();\n"),
                  (".output + .read", ".output {f}\nSELECT dr_macros_sql();\n.output\n")]
        tried = []
        for route, write in routes:
            f = os.path.join(TMP, f"macros-{len(tried)}.sql")
            rc, out, err = duck(f".mode list\n.headers off\nLOAD '{EXT}';\n{TABLE_SQL};\n" + write.format(f=f) +
                                f".read {f}\nSELECT 'rows=' || count(*) FROM profile_columns('t');\n")
            if died(rc, out, err):
                tried.append(f"{route}: {died(rc, out, err)}")
                break
            if rc == 0 and f"rows={TABLE_COLUMNS}" in out:
                earlier = f" (did not work: {'; '.join(t.splitlines()[0] for t in tried)})" if tried else ""
                rep.check(f"{name} via {route}{earlier}", True)
                break
            tried.append(f"{route}: exit code {rc}\n{out[-500:]}\n{err[-800:]}")
        else:
            rep.check(name, False, "\n".join(tried))
        if tried and died(rc, out, err):
            rep.check(name, False, "\n".join(tried))
    return rep


# --- Node --------------------------------------------------------------------------------------

def test_node():
    rep = Report()
    tag = f"[node @duckdb/node-api, DuckDB {NODE_RELEASE}]"
    node_dir = os.path.join(BUILD, "node")
    if not os.path.isdir(os.path.join(node_dir, "node_modules", "@duckdb", "node-api")):
        rep.check(f"{tag} client checks", False, f"{os.path.relpath(node_dir, BUILD)} not installed (make client-venvs)")
        return rep
    rc, out, err = run(["node", os.path.join(HERE, "test_clients_node.mjs"), EXT, node_dir, f"v{NODE_RELEASE}",
                        TABLE_SQL, str(TABLE_COLUMNS)])
    seen = 0
    for line in out.splitlines():
        if not line.startswith("RESULT "):
            continue
        r = json.loads(line[7:])
        seen += 1
        if r["status"] == "skip":
            rep.skip(f"{tag} {r['name']}", r.get("detail", ""))
        else:
            rep.check(f"{tag} {r['name']}", r["status"] == "ok", r.get("detail", ""))
    bad = died(rc, out, err)
    if bad or rc != 0 or seen == 0:
        rep.check(f"{tag} node process exits normally", False, bad or f"exit code {rc}\n{out[-1000:]}\n{err}")
    return rep


def main():
    jobs = [lambda r=r: test_release(r) for r in RELEASES] + [test_cli, test_node]
    # Releases in parallel, each one's checks in sequence (the examples one release at a time:
    # they share files under /tmp such as the example SQLite catalog).
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(lambda job: job(), jobs))
    passed = failed = 0
    for rep in reports:
        for line in rep.lines:
            print(line)
        passed += rep.passed
        failed += rep.failed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(code)
