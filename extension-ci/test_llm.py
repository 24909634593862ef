#!/usr/bin/env python3
"""Tests of the LLM annotation path against a real HTTP server on 127.0.0.1
(extension-ci/llm_test_server.py, scripted answers). Nothing but loopback is contacted.

    python test_llm.py [build/release/dataraum.duckdb_extension]

Needs DuckDB 2.0.1 (the annotate_columns macro comes from the C API v2 companion).
Last line: `N passed, N failed`.
"""
import json, os, secrets, subprocess, sys, tempfile, threading, time, traceback, urllib.request

import duckdb

EXT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/release/dataraum.duckdb_extension")
HERE = os.path.dirname(os.path.abspath(__file__))
KEY_ENV = "DATARAUM_TEST_LLM_KEY"
SECRET = "sk-dr-test-" + secrets.token_hex(16)
os.environ[KEY_ENV] = SECRET
TMP = tempfile.mkdtemp(prefix="dataraum-llm-test-")
SEEN = []  # every result and error text, grepped for the key at the end


class Server:
    def __init__(self):
        self.record = os.path.join(TMP, "requests.jsonl")
        open(self.record, "w").close()
        env = dict(os.environ, LLM_TEST_EXPECTED_KEY=SECRET)
        env.pop(KEY_ENV, None)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "llm_test_server.py"), "--record", self.record,
                                      "--max-seconds", "600"], stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        self.port = int(line.split()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.mark = 0

    def post(self, path, obj):
        req = urllib.request.Request(self.base + path, data=json.dumps(obj).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req, timeout=10).read())

    def reset(self, **control):
        self.post("/_reset", {})
        if control:
            self.post("/_control", control)
        self.mark = os.path.getsize(self.record)

    def stats(self):
        return json.loads(urllib.request.urlopen(self.base + "/_stats", timeout=10).read())

    def requests(self):
        """Requests recorded since the last reset."""
        with open(self.record) as f:
            f.seek(self.mark)
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


SRV = None


def connect(provider="openai", **settings):
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXT}'")
    base = {"dataraum_llm_provider": provider, "dataraum_llm_base_url": f"{SRV.base}/v1",
            "dataraum_llm_model": "test-model", "dataraum_llm_api_key_env": KEY_ENV,
            "dataraum_cache_path": "none", "dataraum_llm_max_retries": 2, "dataraum_llm_timeout_ms": 20000}
    base.update({f"dataraum_{k}" if k == "cache_path" else f"dataraum_llm_{k}": v for k, v in settings.items()})
    for k, v in base.items():
        con.execute(f"SET {k} = {v!r}" if isinstance(v, str) else f"SET {k} = {v}")
    return con


def make_table(con, name="t", extra=20, rows=200):
    cols = ["range + 1 AS id", "range * 1.5 + 10 AS amount", "CASE WHEN range = 7 THEN 'Zanzibar' ELSE 'city_' || (range % 7) END AS city"]
    cols += [f"range * {i} + {i} AS c{i:02d}" for i in range(extra)]
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {', '.join(cols)} FROM range({rows})")
    return 3 + extra


def annotate(con, sql="FROM annotate_columns('t')"):
    try:
        rows = con.execute(sql).fetchall()
        SEEN.append(repr(rows))
        return rows
    except Exception as e:
        SEEN.append(str(e))
        raise


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


@test
def offline_default_is_heuristic():
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXT}'")
    SRV.reset()
    make_table(con)
    rows = annotate(con, "SELECT column_name, semantic_role, source, status, confidence FROM annotate_columns('t')")
    assert len(rows) == 23, rows
    assert all(r[2] == "heuristic" and r[3] == "ok" and r[4] <= 0.7 for r in rows), rows
    assert SRV.requests() == [], "the offline path sent requests"


@test
def request_bodies_carry_real_statistics_and_schema():
    SRV.reset()
    con = connect(batch_columns=25)
    make_table(con)
    rows = annotate(con, "SELECT column_name, semantic_role, description, source, status FROM annotate_columns('t')")
    reqs = SRV.requests()
    assert len(reqs) == 1, len(reqs)
    body = reqs[0]["body"]
    assert body["model"] == "test-model"
    assert body["response_format"]["type"] == "json_schema", body.get("response_format")
    assert body["response_format"]["json_schema"]["schema"]["properties"]["columns"]["items"]["properties"]["semantic_role"]["enum"]
    user = [m["content"] for m in body["messages"] if m["role"] == "user"][0]
    desc = {json.loads(l)["name"]: json.loads(l) for l in user.split("COLUMNS:", 1)[1].splitlines() if l.startswith("{")}
    amount = desc["amount"]
    assert float(amount["min"]) == 10.0 and float(amount["max"]) == 10 + 199 * 1.5, amount
    assert abs(amount["mean"] - (10 + 1.5 * 99.5)) < 1e-9, amount
    assert amount["distinct_count"] == 200 and amount["null_ratio"] == 0 and amount["is_unique"] is True, amount
    assert float(desc["c05"]["min"]) == 5 and float(desc["c05"]["max"]) == 199 * 5 + 5, desc["c05"]
    assert reqs[0]["auth"] == "ok", reqs[0]["auth"]
    assert all(r[3] == "llm:test-model" and r[4] == "ok" for r in rows), rows
    assert dict((r[0], r[1]) for r in rows)["amount"] == "measure"
    assert dict((r[0], r[2]) for r in rows)["city"] == "scripted description of city"


@test
def batches_have_the_configured_size():
    SRV.reset()
    con = connect(batch_columns=10)
    n = make_table(con)
    rows = annotate(con)
    sizes = sorted((len(r["columns"]) for r in SRV.requests()), reverse=True)
    assert sizes == [10, 10, 3], sizes
    assert len(rows) == n and all(r[8] == "ok" for r in rows)


@test
def concurrency_never_exceeds_the_setting():
    SRV.reset(latency_ms=150)
    con = connect(batch_columns=1, max_concurrency=3, max_requests=100)
    n = make_table(con)
    t = time.time()
    rows = annotate(con)
    wall = time.time() - t
    st = SRV.stats()
    assert st["requests"] == n, st
    assert st["max_inflight"] == 3, st
    assert all(r[8] == "ok" for r in rows)
    ideal = n / 3 * 0.15
    assert wall < ideal * 2 + 1.5, (wall, ideal)


@test
def retries_honour_retry_after_and_succeed():
    SRV.reset(script=["429", "500", "truncated", "badenvelope"], retry_after="0.4")
    con = connect(max_retries=4)
    make_table(con, extra=0)
    rows = annotate(con)
    reqs = SRV.requests()
    assert [r["action"] for r in reqs] == ["429", "500", "truncated", "badenvelope", "ok"], [r["action"] for r in reqs]
    assert reqs[1]["t"] - reqs[0]["t"] >= 0.38, reqs[1]["t"] - reqs[0]["t"]
    assert all(r[8] == "ok" for r in rows), rows


@test
def retries_stop_after_max_retries():
    SRV.reset(default="500")
    con = connect(max_retries=2, batch_columns=2)
    make_table(con, extra=0)
    rows = annotate(con)
    assert len(SRV.requests()) == 2 * 3, len(SRV.requests())
    assert all("HTTP 500" in r[8] and "gave up after 2 retries" in r[8] and r[1] is None for r in rows), rows


@test
def invalid_answer_gets_one_repair():
    SRV.reset(script=["malformed"])
    con = connect()
    make_table(con, extra=0)
    rows = annotate(con)
    reqs = SRV.requests()
    assert len(reqs) == 2, len(reqs)
    assert "invalid" in reqs[1]["body"]["messages"][-1]["content"]
    assert all(r[8] == "ok" for r in rows), rows
    SRV.reset(default="malformed")
    rows = annotate(con)
    assert len(SRV.requests()) == 2
    assert all("after one repair attempt" in r[8] for r in rows), rows


@test
def anthropic_messages_api_with_tool_schema():
    SRV.reset()
    con = connect(provider="anthropic", batch_columns=2)
    make_table(con, extra=0)
    rows = annotate(con)
    reqs = SRV.requests()
    assert [r["path"] for r in reqs] == ["/v1/messages"] * 2, reqs
    assert all(r["auth"] == "ok" and r["anthropic_version"] for r in reqs)
    assert reqs[0]["body"]["tool_choice"]["name"] == "annotate_columns"
    assert "input_schema" in reqs[0]["body"]["tools"][0]
    assert all(r[7] == "llm:test-model" and r[8] == "ok" for r in rows), rows


@test
def cache_hit_on_rerun_makes_zero_requests():
    path = os.path.join(TMP, "cache", "llm.sqlite")
    SRV.reset()
    con = connect(cache_path=path, batch_columns=10)
    n = make_table(con)
    first = annotate(con)
    assert len(SRV.requests()) == 3
    SRV.reset()
    con2 = connect(cache_path=path, batch_columns=10)
    make_table(con2)
    second = annotate(con2)
    assert SRV.requests() == [], len(SRV.requests())
    assert all(r[7] == "cache" and r[8] == "ok" for r in second), second
    assert [r[:7] for r in first] == [r[:7] for r in second]
    # another process shares the file
    code = f"""
import duckdb
con = duckdb.connect(config={{'allow_unsigned_extensions': 'true'}})
con.execute("LOAD '{EXT}'")
for k, v in {{'dataraum_llm_provider': 'openai', 'dataraum_llm_base_url': '{SRV.base}/v1', 'dataraum_llm_model': 'test-model',
             'dataraum_llm_api_key_env': '{KEY_ENV}', 'dataraum_cache_path': '{path}', 'dataraum_llm_batch_columns': 10}}.items():
    con.execute(f"SET {{k}} = {{v!r}}")
con.execute("CREATE TABLE t AS SELECT range + 1 AS id, range * 1.5 + 10 AS amount, CASE WHEN range = 7 THEN 'Zanzibar' ELSE 'city_' || (range % 7) END AS city, {', '.join(f'range * {i} + {i} AS c{i:02d}' for i in range(20))} FROM range(200)")
print(sorted(set(r[0] for r in con.execute("SELECT source FROM annotate_columns('t')").fetchall())))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    SEEN.append(out.stdout + out.stderr)
    assert out.stdout.strip() == "['cache']", out.stdout + out.stderr
    assert SRV.requests() == []
    with open(path, "rb") as f:
        SEEN.append(f.read().decode("latin-1"))


@test
def identical_descriptors_are_sent_once():
    SRV.reset()
    con = connect()
    opts = con.execute("""SELECT json_object('provider', 'openai', 'base_url', current_setting('dataraum_llm_base_url'),
        'model', 'test-model', 'api_key_env', current_setting('dataraum_llm_api_key_env'), 'cache_path', 'none')""").fetchone()[0]
    rows = annotate(con, f"""SELECT dr_annotate(t, c, 'BIGINT', '{{"min": "1", "max": "9"}}', '{opts}')
        FROM (VALUES ('a', 'x'), ('b', 'x'), ('c', 'x')) v(t, c)""")
    reqs = SRV.requests()
    assert len(reqs) == 1 and reqs[0]["columns"] == ["x"], reqs
    out = rows[0][0]
    assert [(a["table_name"], a["status"]) for a in out] == [("a", "ok"), ("b", "ok"), ("c", "ok")], out


@test
def max_requests_caps_the_cost():
    SRV.reset()
    con = connect(batch_columns=1, max_requests=4, max_concurrency=1)
    n = make_table(con, extra=7)
    rows = annotate(con)
    assert len(SRV.requests()) == 4, len(SRV.requests())
    assert sum(r[8] == "ok" for r in rows) == 4
    assert sum("dataraum_llm_max_requests = 4" in r[8] for r in rows) == n - 4, rows


@test
def share_values_false_sends_no_sample_values():
    SRV.reset()
    con = connect(share_values=False)
    make_table(con)
    annotate(con)
    text = json.dumps(SRV.requests()[0]["body"])
    assert "Zanzibar" not in text and "city_" not in text, "sample values were sent"
    assert '\\"min\\": \\"10.0\\"' in text or '"min":"10.0"' in text.replace("\\", "").replace(" ", ""), "numeric min missing"


@test
def deadline_cancels_hanging_requests():
    SRV.reset(default="hang")
    con = connect(timeout_ms=1500, batch_columns=10)
    make_table(con)
    t = time.time()
    rows = annotate(con)
    wall = time.time() - t
    assert 1.4 < wall < 3.0, wall
    assert all("timed out" in r[8] for r in rows), rows
    deadline = time.time() + 2
    while SRV.stats()["inflight"] and time.time() < deadline:
        time.sleep(0.05)
    st = SRV.stats()
    assert st["inflight"] == 0 and st["cancelled"] >= 3, st


@test
def interrupt_stops_the_query_at_once():
    """annotate_columns awaits the LLM from a dr_ticks() scan (dr_annotate_job / dr_annotate_await):
    an interrupt stops it within a second, long before dataraum_llm_timeout_ms. Measured and printed."""
    SRV.reset(default="hang")
    con = connect(timeout_ms=60000, batch_columns=10)
    make_table(con)
    fired = []

    def fire():
        time.sleep(0.3)
        fired.append(time.time())
        con.interrupt()

    threading.Thread(target=fire).start()
    t = time.time()
    outcome = "returned"
    try:
        annotate(con)
    except duckdb.InterruptException:
        outcome = "interrupted"
    end = time.time()
    latency = end - fired[0]
    print(f"   interrupt: query {outcome} {latency:.2f} s after interrupt() (timeout_ms = 60000, total {end - t:.2f} s)")
    assert outcome == "interrupted", outcome
    assert latency < 1.0, latency
    deadline = time.time() + 2
    while SRV.stats()["inflight"] and time.time() < deadline:
        time.sleep(0.05)
    assert SRV.stats()["inflight"] == 0, SRV.stats()


@test
def api_key_never_leaks():
    SRV.reset(default="echo_key")
    con = connect(max_retries=0)
    make_table(con, extra=0)
    rows = annotate(con)
    assert all("HTTP 401" in r[8] and KEY_ENV in r[8] for r in rows), rows
    settings = con.execute("SELECT name, value FROM duckdb_settings() WHERE name LIKE 'dataraum%'").fetchall()
    SEEN.append(repr(settings))
    assert (("dataraum_llm_api_key_env", KEY_ENV)) in settings
    SEEN.append(repr(con.execute("FROM dr_metrics()").fetchall()))
    with open(SRV.record) as f:
        SEEN.append(f.read())
    leaks = [s[:200] for s in SEEN if SECRET in s]
    assert not leaks, f"the key leaked into: {leaks}"
    assert SECRET[-12:] not in "".join(SEEN)


def main():
    global SRV
    SRV = Server()
    passed = failed = 0
    try:
        for fn in TESTS:
            t = time.time()
            try:
                fn()
                passed += 1
                print(f"ok   {fn.__name__} ({time.time() - t:.2f} s)")
            except Exception as e:
                failed += 1
                msg = str(e).replace(SECRET, "<KEY>")
                print(f"FAIL {fn.__name__}: {type(e).__name__}: {msg[:800]}")
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
    finally:
        SRV.stop()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
