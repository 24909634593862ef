"""Benchmark: infer_types on a rows x 10 text table of mixed formats, in values/second, against the
TRY_CAST ladder over the same candidate types run in DuckDB (what the Python system did: one
TRY_CAST count per column and candidate type). Same process, same data; prints medians and the ratio.

    bench_infer.py <extension> [--rows N] [--reps N]
"""
import argparse
import os
import statistics
import time

import duckdb

ap = argparse.ArgumentParser()
ap.add_argument("extension")
ap.add_argument("--rows", type=int, default=10_000_000)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--quick", action="store_true")
args, _ = ap.parse_known_args()
rows = 1_000_000 if args.quick else args.rows

con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{args.extension}'").fetchall()
if con.execute("SELECT dr_version().macros").fetchall()[0][0] != "registered":
    here = os.path.dirname(os.path.abspath(__file__))
    con.execute(open(os.path.join(here, "..", "..", "sql", "infer.sql")).read()).fetchall()
con.execute(f"""CREATE TABLE raw AS SELECT
    (i % 100000)::VARCHAR AS int_col,
    printf('%.2f', (i % 99991) / 7) AS dec_col,
    strftime(DATE '2000-01-01' + (i % 9000)::INT, '%Y-%m-%d') AS iso_date,
    strftime(DATE '2000-01-01' + (i % 9000)::INT, '%d/%m/%Y') AS dmy_date,
    strftime(TIMESTAMP '2020-01-01' + to_seconds(i % 86400000), '%Y-%m-%dT%H:%M:%SZ') AS ts_col,
    CASE WHEN i % 2 = 0 THEN 'yes' ELSE 'no' END AS bool_col,
    'cat' || (i % 37) AS cat_col,
    CASE WHEN i % 1000 = 0 THEN 'N/A' ELSE printf('%d,%03d.%02d', i % 97, i % 1000, i % 100) END AS money,
    'user' || (i % 5000) || '@example.com' AS email,
    CASE WHEN i % 3 = 0 THEN 'free text ' || i ELSE (i % 1000)::VARCHAR END AS mixed
FROM range({rows}) t(i)""").fetchall()
values = rows * 10
threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]

ladder_types = ["BOOLEAN", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP"]
cols = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE raw)").fetchall()]
ladder_sql = "SELECT " + ", ".join(f"count(TRY_CAST({c} AS {t}))" for c in cols for t in ladder_types) + " FROM raw"


def median_time(sql):
    con.execute(sql).fetchall()
    ts = []
    for _ in range(args.reps):
        t = time.perf_counter()
        con.execute(sql).fetchall()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


ours = median_time("FROM infer_types('raw')")
ladder = median_time(ladder_sql)
print(f"threads={threads}, load average {os.getloadavg()[0]:.2f}; {rows:,} rows x 10 text columns = {values:,} values")
print(f"infer_types: {ours:.2f} s = {values / ours / 1e6:.1f} M values/s (target >= 10)")
print(f"TRY_CAST ladder ({len(ladder_types)} types x 10 columns, one scan): {ladder:.2f} s = {values / ladder / 1e6:.1f} M values/s")
print(f"infer_types / ladder time: {ours / ladder:.2f}x (lower is better; the ladder only counts casts, infer_types also "
      "finds formats, semantic types, units, null tokens and examples)")
for r in con.execute("SELECT column_name, inferred_type, format, semantic_type, parse_rate FROM infer_types('raw')").fetchall():
    print("  ", r)
