#!/usr/bin/env python3
"""Self-test for sqllogictest.py and append_footer.py (plain script, no pytest).

    <python with duckdb> extension-ci/test_sqllogictest.py

Runs the runner on the fixtures in extension-ci/fixtures/ (built-in extensions only)
and checks the per-record counts, the final summary line and the exit code.
"""
import os, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "sqllogictest.py")
FOOTER = os.path.join(HERE, "append_footer.py")
FIX = os.path.join(HERE, "fixtures")
failures = []

# Test-only hook: a sitecustomize that makes the child process die with SIGSEGV when a
# statement contains CRASH_NOW (the runner itself is unchanged).
CRASH_HOOK = '''
import os, signal
if os.environ.get("SLT_TEST_CRASH"):
    import duckdb
    _connect = duckdb.connect
    class _Con:
        def __init__(self, c): self._c = c
        def __getattr__(self, k): return getattr(self._c, k)
        def cursor(self): return _Con(self._c.cursor())
        def execute(self, sql, *a):
            if "CRASH_NOW" in sql:
                os.kill(os.getpid(), signal.SIGSEGV)
            return self._c.execute(sql, *a)
    duckdb.connect = lambda *a, **k: _Con(_connect(*a, **k))
'''


def run(files, *extra, env=None):
    cmd = [sys.executable, RUNNER, *extra] + [os.path.join(FIX, f) for f in files]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    return p.returncode, p.stdout, p.stderr


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        failures.append(name)
        print("     " + detail.replace("\n", "\n     "))


def expect(name, files, summary, file_counts, rc, *extra, env=None):
    code, out, err = run(files, *extra, env=env)
    last = out.rstrip("\n").split("\n")[-1]
    detail = f"stdout:\n{out}\nstderr:\n{err}"
    check(f"{name}: summary line {summary!r}", last == summary, detail)
    check(f"{name}: exit code {rc}", code == rc, f"got {code}\n" + detail)
    for f, counts in file_counts.items():
        line = f"fixtures/{f}: {counts}"
        check(f"{name}: {line}", any(l.startswith(os.path.join(FIX, f) + ": " + counts)
                                     for l in out.split("\n")), detail)
    return out


expect("pass", ["pass.test"], "23 passed, 0 failed, 2 skipped",
       {"pass.test": "23 passed, 0 failed, 2 skipped"}, 0)
out = expect("fail", ["fail.test"], "2 passed, 1 failed",
             {"fail.test": "2 passed, 1 failed, 0 skipped"}, 1)
check("fail: reports file:line and expected/actual",
      re.search(r"FAIL .*fail\.test:6\n  sql: SELECT sum\(i\) FROM t\n  wrong result\n"
                r"  expected:\n    4\n  actual:\n    3", out) is not None, out)
expect("skip", ["skip.test"], "0 passed, 0 failed, 2 skipped",
       {"skip.test": "0 passed, 0 failed, 2 skipped"}, 0)
out = expect("loopfail", ["loopfail.test"], "1 passed, 1 failed",
             {"loopfail.test": "1 passed, 1 failed"}, 1)
check("loopfail: failing iteration shown substituted", "SELECT 3 < 3" in out, out)
expect("several files", ["pass.test", "fail.test", "skip.test"],
       "25 passed, 1 failed, 4 skipped", {}, 1)
expect("filter", ["pass.test", "fail.test"], "2 passed, 1 failed", {}, 1, "--filter", "fail")

with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "sitecustomize.py"), "w") as f:
        f.write(CRASH_HOOK)
    env = dict(os.environ, SLT_TEST_CRASH="1",
               PYTHONPATH=d + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = expect("crash", ["crash.test", "fail.test"], "3 passed, 4 failed",
                 {"crash.test": "1 passed, 3 failed"}, 1, env=env)
    check("crash: reported as signal 11", "process crashed (signal 11)" in out, out)

out = expect("timeout", ["slow.test"], "1 passed, 2 failed",
             {"slow.test": "1 passed, 2 failed"}, 1, "--timeout", "5")
check("timeout: reported", "timeout after 5.0 s" in out, out)

# append_footer.py: build a footer on a dummy library and parse it back.
with tempfile.TemporaryDirectory() as d:
    lib, ext = os.path.join(d, "lib.so"), os.path.join(d, "dataraum.duckdb_extension")
    with open(lib, "wb") as f:
        f.write(b"\x7fELF" + bytes(1000))
    p = subprocess.run([sys.executable, FOOTER, lib, ext, "--version", "v0.1.0",
                        "--python", sys.executable], capture_output=True, text=True)
    check("footer: written", p.returncode == 0, p.stdout + p.stderr)
    data = open(ext, "rb").read()
    tail = data[1004:]
    check("footer: 534 bytes appended", len(tail) == 534, str(len(tail)))
    check("footer: header", tail[:22] == b"\x00\x93\x04\x10duckdb_signature\x80\x04", tail[:22].hex())
    fields = [tail[22 + 32 * k:54 + 32 * k].rstrip(b"\0") for k in range(8)]
    check("footer: fields 8..1", fields == [b"", b"", b"", b"C_STRUCT", b"v0.1.0", b"v1.2.0",
                                            b"linux_amd64", b"4"], str(fields))
    check("footer: unsigned", tail[-256:] == bytes(256))
    p = subprocess.run([sys.executable, FOOTER, "--check", ext], capture_output=True, text=True)
    check("footer: --check", p.returncode == 0 and "field 5 (abi type): 'C_STRUCT'" in p.stdout
          and "field 3 (duckdb/capi version): 'v1.2.0'" in p.stdout, p.stdout + p.stderr)

print(f"{'FAILED' if failures else 'OK'}: {len(failures)} check(s) failed")
sys.exit(1 if failures else 0)
