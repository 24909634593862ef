#!/usr/bin/env python3
"""Benchmark of the LLM annotation path against the local scripted server
(extension-ci/llm_test_server.py, 127.0.0.1 only): 500 columns over 20 tables, 200 ms
latency per request, dataraum_llm_max_concurrency = 8.

    python bench_annotate.py [build/release/dataraum.duckdb_extension]

Prints, per configuration, the requests sent, the wall time of the annotation query and
its ratio to the ideal (requests / concurrency x latency; target <= 1.25), then the rerun
served from the SQLite cache (0 requests) and its time.
"""
import json, os, subprocess, sys, tempfile, time, urllib.request

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/dataraum.duckdb_extension"))
TABLES, COLS, LATENCY_MS, CONCURRENCY = 20, 25, 200, 8
TMP = tempfile.mkdtemp(prefix="dataraum-bench-annotate-")


def main():
    record = os.path.join(TMP, "requests.jsonl")
    srv = subprocess.Popen([sys.executable, os.path.join(ROOT, "extension-ci/llm_test_server.py"), "--record", record,
                            "--latency-ms", str(LATENCY_MS), "--max-seconds", "300"], stdout=subprocess.PIPE, text=True)
    port = int(srv.stdout.readline().split()[1])
    base = f"http://127.0.0.1:{port}"

    def stats():
        return json.loads(urllib.request.urlopen(base + "/_stats", timeout=10).read())

    def reset():
        urllib.request.urlopen(urllib.request.Request(base + "/_reset", data=b"{}", method="POST"), timeout=10).read()
        urllib.request.urlopen(urllib.request.Request(base + "/_control", data=json.dumps({"latency_ms": LATENCY_MS}).encode(),
                                                      method="POST"), timeout=10).read()

    try:
        con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
        con.execute(f"LOAD '{EXT}'")
        for t in range(TABLES):
            cols = [f"(range * {c + 1} + {t}) % {50 + 37 * c} + {c} AS col_{c:02d}" for c in range(COLS)]
            con.execute(f"CREATE TABLE t{t:02d} AS SELECT {', '.join(cols)} FROM range(5000)")
        profiled = " UNION ALL ".join(
            f"SELECT 't{t:02d}' AS tbl, row_number() OVER () AS ordinal, * FROM profile_columns('t{t:02d}')" for t in range(TABLES))
        con.execute(f"CREATE TABLE profiled AS {profiled}")

        def settings(cache, batch):
            con.execute("SET dataraum_llm_provider = 'openai'")
            con.execute(f"SET dataraum_llm_base_url = '{base}/v1'")
            con.execute("SET dataraum_llm_model = 'bench-model'")
            con.execute(f"SET dataraum_llm_max_concurrency = {CONCURRENCY}")
            con.execute(f"SET dataraum_llm_batch_columns = {batch}")
            con.execute("SET dataraum_llm_max_requests = 1000")
            con.execute(f"SET dataraum_cache_path = '{cache}'")

        one_query = """
            SELECT dr_annotate(tbl, column_name, column_type,
                to_json({ordinal: ordinal, row_count: row_count, null_ratio: null_ratio, distinct_count: distinct_count,
                         cardinality_ratio: cardinality_ratio, is_unique: is_unique, min: min, max: max, mean: mean})::VARCHAR,
                json_object('provider', current_setting('dataraum_llm_provider'), 'base_url', current_setting('dataraum_llm_base_url'),
                    'model', current_setting('dataraum_llm_model'), 'max_concurrency', current_setting('dataraum_llm_max_concurrency'),
                    'batch_columns', current_setting('dataraum_llm_batch_columns'), 'max_requests', current_setting('dataraum_llm_max_requests'),
                    'cache_path', current_setting('dataraum_cache_path'))::VARCHAR)
            FROM profiled"""
        print(f"annotate: {TABLES * COLS} columns over {TABLES} tables, server latency {LATENCY_MS} ms, concurrency {CONCURRENCY}")
        for batch in (25, 10):
            cache = os.path.join(TMP, f"cache-{batch}.sqlite")
            settings(cache, batch)
            reset()
            t = time.time()
            res = con.execute(one_query).fetchone()[0]
            wall = time.time() - t
            st = stats()
            ok = sum(a["status"] == "ok" for a in res)
            ideal = st["requests"] / CONCURRENCY * LATENCY_MS / 1000
            print(f"  one query, batch {batch:2d}: {st['requests']:3d} requests, {ok} columns ok, max in flight {st['max_inflight']}, "
                  f"wall {wall:.3f} s, ideal {ideal:.3f} s, ratio {wall / ideal:.2f}")
            reset()
            t = time.time()
            res = con.execute(one_query).fetchone()[0]
            wall = time.time() - t
            print(f"  rerun (cache)       : {stats()['requests']:3d} requests, {sum(a['source'] == 'cache' for a in res)} from cache, wall {wall:.3f} s")
        # The table macro once per table: each query waits for its own batch.
        cache = os.path.join(TMP, "cache-macro.sqlite")
        settings(cache, 25)
        reset()
        t = time.time()
        n = sum(len(con.execute(f"FROM annotate_columns('t{t_:02d}')").fetchall()) for t_ in range(TABLES))
        wall = time.time() - t
        st = stats()
        ideal = st["requests"] / CONCURRENCY * LATENCY_MS / 1000
        print(f"  annotate_columns x {TABLES} (sequential queries): {st['requests']} requests, {n} rows, wall {wall:.3f} s, "
              f"ratio {wall / ideal:.2f} (profiling included)")
        reset()
        t = time.time()
        for t_ in range(TABLES):
            con.execute(f"FROM annotate_columns('t{t_:02d}')").fetchall()
        print(f"  rerun (cache)       : {stats()['requests']} requests, wall {time.time() - t:.3f} s (profiling included)")
    finally:
        srv.terminate()
        srv.wait(timeout=10)


if __name__ == "__main__":
    main()
