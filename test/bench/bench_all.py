#!/usr/bin/env python3
"""Run every test/bench/bench_*.py (except this file) with the same interpreter.

usage: bench_all.py <path/to/dataraum.duckdb_extension> [extra args passed to every bench]

Each bench is called as `<python> bench_X.py <extension> [extra args]`; its output is streamed
as it runs.  Exit status is non-zero if any bench failed.
"""
import subprocess
import sys
import time
from pathlib import Path


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ext, extra = sys.argv[1], sys.argv[2:]
    here = Path(__file__).resolve().parent
    benches = sorted(p for p in here.glob("bench_*.py") if p.resolve() != Path(__file__).resolve())
    if not benches:
        print("no benches found")
        return 0
    failed = []
    for bench in benches:
        print(f"\n######## {bench.name}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(bench), ext, *extra])
        print(f"######## {bench.name}: exit {rc} after {time.perf_counter() - t0:.1f}s", flush=True)
        if rc != 0:
            failed.append(bench.name)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", flush=True)
        return 1
    print(f"\nall {len(benches)} bench(es) finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
