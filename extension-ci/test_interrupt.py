#!/usr/bin/env python3
"""Ctrl-C works (#18): long dataraum queries stop within a second of an interrupt, leave
nothing running, and move DuckDB's progress bar while they run.

    python test_interrupt.py <extension> [--full]

Run with the Python of the DuckDB release under test (make test: 2.0.1 and 2.0.0; before 2.0
DuckDB checks an interrupt only when a task returns to the client, which a dataraum job's task
does at its end, so 1.x is not claimed).
--full also runs the cloud to the end once and checks it takes at least 20 s (slow; not in
make test, whose cloud is calibrated by that run).
Last line: `interrupt-<release with _>: N passed, N failed`.
"""
import json, os, re, signal, sqlite3, subprocess, sys, tempfile, threading, time, traceback, urllib.request

import duckdb

EXT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/release/dataraum.duckdb_extension")
FULL = "--full" in sys.argv
HERE = os.path.dirname(os.path.abspath(__file__))
RELEASE = duckdb.__version__
V2 = RELEASE.startswith("2.")
TMP = tempfile.mkdtemp(prefix="dataraum-interrupt-")
# A deterministic 4-D cloud whose H1 takes about 18 s on 2 threads here (`--full` measures it):
# longer than the 12 s the interrupt may wait for the progress to rise. (4500 points took 33 s
# until the #16 H1 work made them 6 s; 6600 stays under the work estimate's refusal.)
CLOUD_POINTS = 6600
CLOUD_SQL = ("CREATE OR REPLACE TABLE cloud AS SELECT "
             + ", ".join(f"sin(i * {k + 1}.37 + {k}) * cos(i * 0.0{k + 3}1) AS x{k}" for k in range(4))
             + f" FROM range({CLOUD_POINTS}) t(i)")
PERSISTENCE = "SELECT dim, count(*) FROM persistence_diagram('cloud', max_dim := 1) GROUP BY dim ORDER BY dim"
LIMIT_S = 1.0  # the bound: the interrupt error within a second

results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)


def connect():
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXT}'")
    con.execute("SET threads = 2")
    if con.execute("SELECT dr_version().macros").fetchone()[0] != "registered":
        for stmt in con.execute("SELECT dr_macros_sql()").fetchone()[0].split(";\n"):
            if stmt.strip() and not stmt.strip().startswith("--"):
                con.execute(stmt)
    if V2:
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
    return con


def job_threads():
    """Threads of this process that run a dataraum job (named 'dataraum job')."""
    n = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                n += f.read().strip() == "dataraum job"
        except OSError:
            pass
    return n


def cpu_seconds():
    t = os.times()
    return t.user + t.system


def settle(limit=3.0):
    """Waits until no job thread is left; returns the seconds it took (or None)."""
    t0 = time.time()
    while time.time() - t0 < limit:
        if job_threads() == 0:
            return time.time() - t0
        time.sleep(0.02)
    return None


def run_interrupted(con, sql, after, until=None, deadline=20.0):
    """Runs `sql`, calls con.interrupt() `after` seconds in (or, with `until`, once
    `until(samples)` holds too, at most `deadline` seconds in), samples query_progress() on
    the way; returns (outcome, seconds from interrupt() to the error, progress samples).

    `until` makes a check on the progress independent of timing: DuckDB refreshes
    query_progress() only between the tasks the client's thread runs, and a task of the
    dr_ticks() scan runs up to 50 chunks of at most SLICE each, so the first refresh after
    the scan starts can come about 2 s late on a loaded machine."""
    samples, fired, stop = [], [], threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append(con.query_progress())
            except Exception:
                pass
            time.sleep(0.05)

    def fire():
        t0 = time.time()
        stop.wait(after)
        while until is not None and not until(list(samples)) and time.time() - t0 < deadline and not stop.is_set():
            time.sleep(0.05)
        if stop.is_set():  # the query ended first: an interrupt now could hit the next query
            return
        fired.append(time.time())
        con.interrupt()

    threading.Thread(target=sample, daemon=True).start()
    threading.Thread(target=fire, daemon=True).start()
    outcome = "finished"
    try:
        con.execute(sql).fetchall()
    except duckdb.InterruptException:
        outcome = "interrupted"
    except Exception as e:
        outcome = f"error: {e}"
    end = time.time()
    stop.set()
    latency = end - fired[0] if fired else None
    return outcome, latency, samples


def rising(samples):
    """Whether the progress samples rise (samples left from the previous query are skipped:
    the series starts at the first value below 5 %)."""
    start = next((i for i, p in enumerate(samples) if p is not None and 0 <= p < 5), len(samples))
    samples = samples[start:]
    pos = [p for p in samples if p is not None and p >= 0]
    return len(set(pos)) >= 2 and pos == sorted(pos) and max(pos) > min(pos), pos


def test_persistence():
    con = connect()
    con.execute(CLOUD_SQL)
    if FULL:
        t = time.time()
        con.execute(PERSISTENCE).fetchall()
        check(f"the cloud runs for at least 14 s to the end ({time.time() - t:.1f} s)", time.time() - t >= 14)
    # the answer is the aggregate's (same diagram through the job path)
    con.execute("CREATE OR REPLACE TABLE ring AS SELECT cos(2 * pi() * i / 60) + i % 3 * 0.01 AS x, sin(2 * pi() * i / 60) AS y FROM range(60) t(i)")
    a = con.execute("SELECT list(struct_pack(dim, birth, death) ORDER BY dim, birth, death) FROM persistence_diagram('ring', max_dim := 2)").fetchone()[0]
    b = con.execute("SELECT list(b ORDER BY b.dim, b.birth, b.death) FROM (SELECT unnest(dr_persistence(t, 2, NULL, 'euclidean', true)) AS b FROM ring t)").fetchone()[0]
    check("persistence_diagram gives the aggregate's diagram", a == b and len(a) > 60, f"{len(a or [])} vs {len(b or [])} bars")
    before = cpu_seconds()
    t0 = time.time()
    outcome, latency, samples = run_interrupted(con, PERSISTENCE, 4.0, until=lambda s: rising(s)[0] if V2 else True, deadline=12.0)
    busy = (cpu_seconds() - before) / (time.time() - t0)
    check(f"persistence_diagram is interrupted (not finished) after 4 s of work (CPU {busy:.1f} cores busy)",
          outcome == "interrupted" and busy > 0.8, outcome)
    check(f"the interrupt error comes within {LIMIT_S} s ({latency if latency is None else round(latency, 3)} s)",
          latency is not None and latency < LIMIT_S, latency)
    check("the connection runs SELECT 42 afterwards", con.execute("SELECT 42").fetchone()[0] == 42)
    took = settle()
    check(f"no job thread is left ({took if took is None else round(took, 3)} s after the error)", took is not None, job_threads())
    c0, t1 = cpu_seconds(), time.time()
    time.sleep(1.0)
    idle = (cpu_seconds() - c0) / (time.time() - t1)
    check(f"the process is back to idle ({idle:.3f} cores busy over 1 s)", idle < 0.1, idle)
    if V2:
        ok, pos = rising(samples)
        check(f"DuckDB's query_progress() rises while it runs ({len(pos)} samples, {pos[:1]} .. {pos[-1:]})", ok, pos[:20])
    # the same connection and job machinery still compute a diagram
    n = con.execute("SELECT count(*) FROM persistence_diagram('ring')").fetchone()[0]
    check("a diagram after the interrupt", n > 60, n)
    # an interrupt while the points are still being collected (before the job exists)
    con.execute("CREATE OR REPLACE TABLE wide AS SELECT i::DOUBLE AS x, (i * 7 % 1000)::DOUBLE AS y FROM range(20000000) t(i)")
    outcome, latency, _ = run_interrupted(con, "SELECT count(*) FROM persistence_diagram('wide', sample := 50)", 0.5)
    check(f"interrupted while collecting ({outcome}, {latency:.3f} s)", outcome == "interrupted" and latency < LIMIT_S)
    check("no job thread after an interrupt during collection", settle() is not None, job_threads())
    con.execute("DROP TABLE wide")


class Server:
    """extension-ci/llm_test_server.py on 127.0.0.1 (scripted answers, 'hang' = never answers
    until the client leaves; counts requests in flight and those the client abandoned)."""

    def __init__(self):
        self.record = os.path.join(TMP, "requests.jsonl")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "llm_test_server.py"), "--record", self.record,
                                      "--max-seconds", "600"], stdout=subprocess.PIPE, text=True,
                                     env=dict(os.environ, LLM_TEST_EXPECTED_KEY="sk-interrupt-test"))
        self.base = f"http://127.0.0.1:{int(self.proc.stdout.readline().split()[1])}"

    def post(self, path, obj):
        req = urllib.request.Request(self.base + path, data=json.dumps(obj).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req, timeout=10).read())

    def reset(self, **control):
        self.post("/_reset", {})
        if control:
            self.post("/_control", control)

    def stats(self):
        return json.loads(urllib.request.urlopen(self.base + "/_stats", timeout=10).read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def test_annotate():
    srv = Server()
    os.environ["DATARAUM_TEST_KEY"] = "sk-interrupt-test"
    cache = os.path.join(TMP, "cache.sqlite")
    try:
        con = connect()
        for k, v in {"provider": "openai", "base_url": f"{srv.base}/v1", "model": "test-model",
                     "api_key_env": "DATARAUM_TEST_KEY", "timeout_ms": 60000, "batch_columns": 10,
                     "max_concurrency": 1, "max_retries": 0}.items():
            con.execute(f"SET dataraum_llm_{k} = {v!r}" if isinstance(v, str) else f"SET dataraum_llm_{k} = {v}")
        con.execute(f"SET dataraum_cache_path = '{cache}'")
        cols = ", ".join(f"range * {i} + {i} AS c{i:02d}" for i in range(23))
        con.execute(f"CREATE TABLE t AS SELECT {cols} FROM range(200)")
        # one request at a time: the first (10 columns) is answered, the second never is
        srv.reset(script=["ok"], default="hang")
        outcome, latency, samples = run_interrupted(con, "FROM annotate_columns('t')", 2.0,
                                                   until=lambda s: rising(s)[0] if V2 else True)
        check(f"annotate_columns waiting on a server that never answers is interrupted ({outcome})", outcome == "interrupted", outcome)
        check(f"the interrupt error comes within {LIMIT_S} s ({latency:.3f} s; dataraum_llm_timeout_ms = 60000)",
              latency is not None and latency < LIMIT_S, latency)
        check("the connection runs SELECT 42 afterwards", con.execute("SELECT 42").fetchone()[0] == 42)
        t0 = time.time()
        while srv.stats()["inflight"] and time.time() - t0 < 3:
            time.sleep(0.02)
        st = srv.stats()
        check(f"no request is left open ({time.time() - t0:.2f} s after the error: {st})",
              st["inflight"] == 0 and st["cancelled"] == 1 and st["requests"] == 2, st)
        check("no job thread is left", settle() is not None, job_threads())
        if V2:
            ok, pos = rising(samples)
            check(f"DuckDB's query_progress() rises while it waits ({pos[:1]} .. {pos[-1:]})", ok, pos[:20])
        db = sqlite3.connect(cache)
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = sum(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)
        db.close()
        # one request at a time, so exactly one batch was answered (which one is the client's order)
        answered = rows
        check(f"the LLM cache is intact (integrity_check {integrity}; {rows} rows: the answered batch)",
              integrity == "ok" and answered in (3, 10), (integrity, tables, rows))
        # table_context awaits the same annotator (its LLM wait) as a job
        srv.reset(default="hang")
        con.execute("SET dataraum_cache_path = 'none'")
        outcome, latency, _ = run_interrupted(con, "SELECT table_context('t', topology := false)", 1.5)
        t0 = time.time()
        while srv.stats()["inflight"] and time.time() - t0 < 3:
            time.sleep(0.02)
        check(f"table_context waiting on the LLM is interrupted within {LIMIT_S} s ({outcome}, "
              f"{latency if latency is None else round(latency, 3)} s), no request left open",
              outcome == "interrupted" and latency < LIMIT_S and srv.stats()["inflight"] == 0, (outcome, srv.stats()))
        con.execute(f"SET dataraum_cache_path = '{cache}'")
        # a rerun asks only for the columns that were not answered, and gets the rest from the cache
        srv.reset(default="ok")
        out = con.execute("SELECT source, count(*) FROM annotate_columns('t') GROUP BY source ORDER BY source").fetchall()
        st = srv.stats()
        want = -(-(23 - answered) // 10)
        check(f"the rerun takes the answered batch from the cache ({out}, {st['requests']} requests)",
              dict(out).get("cache") == answered and sum(n for _, n in out) == 23 and st["requests"] == want, (out, st))
    finally:
        srv.stop()


SIGINT_CHILD = r"""
import duckdb, sys, time
con = duckdb.connect(config={'allow_unsigned_extensions': 'true'})
con.execute("LOAD '%(ext)s'")
con.execute("SET threads = 2")
if duckdb.__version__.startswith("2."):
    con.execute("SET enable_progress_bar = true")
if con.execute("SELECT dr_version().macros").fetchone()[0] != "registered":
    for s in con.execute("SELECT dr_macros_sql()").fetchone()[0].split(";\n"):
        if s.strip() and not s.strip().startswith("--"):
            con.execute(s)
con.execute(%(cloud)r)
print("running", flush=True)
try:
    con.execute(%(query)r).fetchall()
    print("finished", flush=True)
except (KeyboardInterrupt, duckdb.InterruptException, RuntimeError) as e:
    # the Python package turns SIGINT during a query into an interrupt ("Query interrupted")
    if isinstance(e, RuntimeError) and "interrupt" not in str(e).lower():
        raise
    print("interrupted", type(e).__name__, time.time(), flush=True)
print("after", con.execute("SELECT 42").fetchone()[0], flush=True)
"""


def test_sigint():
    """Ctrl-C in a terminal: SIGINT to a Python process running persistence_diagram."""
    code = SIGINT_CHILD % {"ext": EXT, "cloud": CLOUD_SQL, "query": PERSISTENCE}
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    time.sleep(4.0)
    sent = time.time()
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    text = line + out
    got = re.search(r"interrupted (\w+) ([0-9.]+)", text)
    latency = float(got.group(2)) - sent if got else None
    # Measured, not asserted: the Python package acts on SIGINT only when its own loop regains
    # control; with a dataraum job on the client's thread that is when the query ends (see README).
    # What is asserted: the process survives, gets DuckDB's interrupt and runs SELECT 42 after it.
    print(f"     SIGINT: the Python process raised the interrupt {latency if latency is None else round(latency, 3)} s after the signal")
    check("SIGINT to a Python process running persistence_diagram: interrupt error, then SELECT 42 works",
          got and "after 42" in text and p.returncode == 0, (text[-500:], err[-500:]))
    if V2:
        # the child's stdout is not a terminal, but DuckDB draws its bar there too
        bars = [int(m) for m in re.findall(r"(\d+)% ▕", text)]
        check(f"DuckDB's progress bar was drawn with the job's progress before the SIGINT ({bars[:1]} .. {bars[-1:]}%)",
              len(bars) >= 1 and max(bars) > 0, text[-300:])


def main():
    for t in (test_persistence, test_annotate, test_sigint):
        try:
            t()
        except Exception:
            check(t.__name__, False, traceback.format_exc())
    passed = sum(results)
    # the label only uses [A-Za-z0-9_-] (run_tests.sh's tally reads "label: N passed, N failed")
    print(f"interrupt-{RELEASE.replace('.', '_')}: {passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
