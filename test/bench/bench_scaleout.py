#!/usr/bin/env python3
"""Scale-out bench (#15): profile_columns in one process vs Ray tasks returning state BLOBs.

usage: bench_scaleout.py <dataraum.duckdb_extension> [--rows N] [--files K] [--runs R]

Generates (once, cached under build/bench-data/) N rows x 20 mixed columns (default 20M) as K
Parquet files (default 16), then times, R times each (default 3, medians printed):
  - one process: FROM profile_columns(<view over all files>) on DuckDB's threads;
  - Ray: ray.init(num_cpus=2), one task per file (its own DuckDB with threads=1, LOAD, profile_states),
    then profile_merged on the driver; the merge alone is timed too.
Prints the state bytes per column (sum over files and the largest single state), checks that the
merged rows equal the one-process rows, and prints the ratio Ray / one process.
Runs under build/venv-ray's Python (re-executes itself there when `ray` is not importable).
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
try:
    import ray
except ImportError:
    py = ROOT / "build/venv-ray/bin/python"
    if not py.exists():
        sys.exit("bench_scaleout: needs build/venv-ray (make build/venv-ray/.ok)")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    sys.exit(subprocess.call([str(py), __file__, *sys.argv[1:]]))
import duckdb

os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def arg(name, default):
    if name in sys.argv:
        return int(sys.argv[sys.argv.index(name) + 1])
    return default


EXT = os.path.abspath(sys.argv[1])
ROWS = arg("--rows", 20_000_000)
FILES = arg("--files", 16)
RUNS = arg("--runs", 3)

COLUMNS = """
    i AS id,
    (hash(i) % 1000)::BIGINT AS small_int,
    (hash(i * 3) % 5000000)::BIGINT AS big_int,
    (i % 17)::INTEGER AS tiny_int,
    (hash(i * 5) % 100000)::BIGINT - 50000 AS signed_int,
    (hash(i * 7) % 50)::SMALLINT AS code,
    (hash(i * 11) % 1000000)::DOUBLE / 1000 AS uniform,
    exp(((hash(i * 13) % 1000000) / 1e6) * 25) AS heavy_tail,
    CASE WHEN i % 53 = 0 THEN NULL ELSE ((hash(i * 17) % 20000)::BIGINT - 10000)::DOUBLE / 7 END AS with_nulls,
    (hash(i * 19) % 100)::DOUBLE / 10 AS few_doubles,
    ln(1 + (hash(i * 23) % 1000000)) AS log_scale,
    CASE WHEN hash(i * 29) % 10 < 4 THEN 'hot' ELSE 'k' || (hash(i * 31) % 200) END AS category,
    'user_' || (hash(i * 37) % 2000000) AS user_id,
    CASE WHEN hash(i * 41) % 3 = 0 THEN 'NY' WHEN hash(i * 41) % 3 = 1 THEN 'CA' ELSE 'TX' END AS state,
    md5((hash(i * 43) % 100000)::VARCHAR)[1:12] AS token,
    TIMESTAMP '2020-01-01' + to_seconds((hash(i * 47) % 150000000)::BIGINT) AS event_ts,
    TIMESTAMP '2024-01-01' + to_seconds((i // 10)::BIGINT) AS ingest_ts,
    DATE '2000-01-01' + (hash(i * 53) % 9000)::INTEGER AS day,
    ((hash(i * 59) % 10000000) / 100)::DECIMAL(12, 2) AS amount,
    hash(i * 61) % 2 = 0 AS flag
"""


def data_files():
    d = ROOT / f"build/bench-data/scaleout_{ROWS}_{FILES}"
    files = [d / f"part_{k:02d}.parquet" for k in range(FILES)]
    if all(f.exists() for f in files):
        return files
    d.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    t0 = time.perf_counter()
    per = ROWS // FILES
    for k, f in enumerate(files):
        lo, hi = k * per, ROWS if k == FILES - 1 else (k + 1) * per
        tmp = f.with_suffix(".tmp")
        con.execute(f"COPY (SELECT {COLUMNS} FROM range({lo}, {hi}) t(i)) TO '{tmp}' (FORMAT parquet)")
        tmp.rename(f)
    print(f"generated {ROWS:,} rows x 20 columns as {FILES} files in {time.perf_counter() - t0:.0f} s", flush=True)
    return files


@ray.remote
def file_states(ext, path):
    con = duckdb.connect(config={"allow_unsigned_extensions": "true", "threads": "1"})
    con.execute(f"LOAD '{ext}'")
    con.execute(f"CREATE VIEW part AS FROM read_parquet('{path}')")
    return con.execute("FROM profile_states('part')").fetchall()


def connect():
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXT}'")
    return con


def rendered(con, sql):
    cols = [r[0] for r in con.execute(f"DESCRIBE {sql}").fetchall()]
    return con.execute(f"SELECT {', '.join(f'{chr(34)}{c}{chr(34)}::VARCHAR' for c in cols)} FROM ({sql})").fetchall()


def main():
    files = data_files()
    paths = [str(f) for f in files]
    con = connect()
    con.execute(f"CREATE VIEW data AS FROM read_parquet({paths!r})")
    one_s, ray_s, merge_s = [], [], []
    one_rows = None
    for r in range(RUNS):
        t0 = time.perf_counter()
        one_rows = rendered(con, "FROM profile_columns('data')")
        one_s.append(time.perf_counter() - t0)
        print(f"run {r + 1}: one process {one_s[-1]:.1f} s", flush=True)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        ray.get([file_states.remote(EXT, paths[0])])  # warm the workers (process start, LOAD)
        merged_rows = None
        for r in range(RUNS):
            t0 = time.perf_counter()
            parts = ray.get([file_states.remote(EXT, p) for p in paths])
            con.execute("CREATE OR REPLACE TEMP TABLE st (column_index BIGINT, column_name VARCHAR, column_type VARCHAR, state BLOB)")
            for rows in parts:
                con.executemany("INSERT INTO st VALUES (?, ?, ?, ?)", rows)
            t1 = time.perf_counter()
            merged_rows = rendered(con, "FROM profile_merged('st')")
            t2 = time.perf_counter()
            ray_s.append(t2 - t0)
            merge_s.append(t2 - t1)
            print(f"run {r + 1}: Ray 2 workers {ray_s[-1]:.1f} s (merge {merge_s[-1]:.2f} s)", flush=True)
    finally:
        ray.shutdown()
    sizes = con.execute(
        """SELECT column_name, any_value(column_type), sum(octet_length(state)), max(octet_length(state)),
                  bool_and(NOT (dr_state_info(state)).empty)
           FROM st GROUP BY column_name ORDER BY min(column_index)"""
    ).fetchall()
    exact = dict(con.execute("SELECT column_name, distinct_is_exact FROM profile_merged('st')").fetchall())
    print(f"\nstate bytes per column ({FILES} files):")
    print(f"  {'column':<12} {'type':<14} {'mode':<7} {'sum over files':>15} {'largest state':>14}")
    for name, ty, total, largest, _ in sizes:
        mode = "exact" if exact.get(name) else "sketch"
        print(f"  {name:<12} {ty:<14} {mode:<7} {total:>15,} {largest:>14,}")
    worst_sketch = max((s[3] for s in sizes if not exact.get(s[0])), default=0)
    m1, mr, mm = statistics.median(one_s), statistics.median(ray_s), statistics.median(merge_s)
    print(f"\nmerged == one process: {merged_rows == one_rows}")
    print(f"largest sketch-mode state: {worst_sketch:,} bytes (bound 1 MiB = 1,048,576)")
    print(f"summary: rows={ROWS:,} files={FILES} one_process={m1:.1f}s ray_2_workers={mr:.1f}s merge={mm:.2f}s "
          f"ratio_ray_over_one={mr / m1:.2f} (medians of {RUNS})")
    return 0 if merged_rows == one_rows else 1


if __name__ == "__main__":
    sys.exit(main())
