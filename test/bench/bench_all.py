#!/usr/bin/env python3
"""Run every test/bench/bench_*.py (except this file) with the same interpreter.

usage: bench_all.py <path/to/dataraum.duckdb_extension> [extra args passed to every bench]

Each bench is called as `<python> bench_X.py <extension> [extra args]`; its output is streamed
as it runs.  The rows the benches report through summary.emit (lines starting with `SUMMARY `)
are printed at the end as one table, and written to build/bench-summary.md.  Exit status is
non-zero if any bench failed.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import summary


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ext, extra = sys.argv[1], sys.argv[2:]
    here = Path(__file__).resolve().parent
    benches = sorted(p for p in here.glob("bench_*.py") if p.resolve() != Path(__file__).resolve())
    if not benches:
        print("no benches found")
        return 0
    only = [b for b in extra if b.startswith("--only=")]
    if only:
        extra = [b for b in extra if b not in only]
        names = only[0].split("=", 1)[1].split(",")
        benches = [b for b in benches if any(n in b.name for n in names)]
    failed, rows = [], []
    for bench in benches:
        print(f"\n######## {bench.name}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-u", str(bench), ext, *extra], stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            if line.startswith(summary.PREFIX):
                rows.append(json.loads(line[len(summary.PREFIX):]))
            else:
                print(line, end="", flush=True)
        rc = proc.wait()
        print(f"######## {bench.name}: exit {rc} after {time.perf_counter() - t0:.1f}s", flush=True)
        if rc != 0:
            failed.append(bench.name)
    if rows:
        text = summary.table(rows)
        met = sum(r["met"] for r in rows)
        print(f"\n######## summary: {met} of {len(rows)} targets met (medians; ratio = ours / fastest peer)\n{text}",
              flush=True)
        out = here.parents[1] / "build" / "bench-summary.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
        print(f"(written to {out})", flush=True)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", flush=True)
        return 1
    print(f"\nall {len(benches)} bench(es) finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
