#!/usr/bin/env python3
"""Benchmark dr_persistence() (H1 Vietoris-Rips persistence) against ripser.py, giotto-ph and GUDHI.

usage: bench_topology.py <path/to/dataraum.duckdb_extension> [--quick] [--timeout S]
                         [--gudhi-timeout S] [--reps N] [--slow S] [--venv DIR] [--no-peers]
                         [--simplex-tree] [--clouds NAME[,NAME...]] [--no-self]

Point clouds (numpy, fixed seeds):
  sphere-1000    1000 points uniform on the unit sphere S^2 in R^3
  torus3-1000    1000 points on the torus in R^3 (R = 2, r = 1, angles uniform)
  torus3-2000    2000 points, same torus
  torus4-1000    1000 points on the flat (Clifford) torus (cos a, sin a, cos b, sin b) in R^4
  torus4-2000    2000 points, same torus
  --quick runs only sphere-1000, torus3-1000 and sphere-1000-h2; --clouds runs the clouds named.
  H2 clouds (max_dim 2, the threshold given; gudhi's SimplexTree is left out, it times out on them):
  sphere-1000-h2 the sphere above up to H2, threshold 1.0
  torus4-1000-h2 the R^4 torus above up to H2, threshold 1.2
  cube-400-h2    400 points uniform in the unit cube, up to H2, threshold = enclosing radius

Each cloud is written once to a temp dir (.npy for the peers, CSV with 17 significant digits for
DuckDB, so both see bit-identical doubles). Every tool then runs in its own subprocess, one after
the other, doing 1 warm-up and `--reps` (default 3) timed runs (only 1 if the warm-up took more
than `--slow`, default 30 s, to keep the full run short); the median is reported, and the
child's peak RSS (ru_maxrss from wait4) is the peak memory of that tool (including its interpreter
and, for ours, DuckDB). "base" is the child's RSS just before the first run.

  ours      SELECT dr_persistence([x, y, z], 1, NULL, 'euclidean', false, NULL, 2, 2, '20GB')
            FROM pts     (in build/venv-2.0.1's duckdb, SET threads = 2; only the query is timed;
            max_dim and threshold as the cloud says; default edge collapse: on for H2 only)
  ours+col  the same with collapse := true (H1 clouds: edge collapse forced on)
  ours-col  the same with collapse := false (H2 clouds: edge collapse forced off)
  ripser    ripser(X, maxdim=1)                       (ripser.py, single thread, float32 values)
  giotto    ripser_parallel(X, maxdim=1, n_threads=2) (giotto-ph, float32 values)
  giotto+col the same with collapse_edges=True (H2 clouds only)
  gudhi-rp  gudhi.sklearn.rips_persistence.RipsPersistence(homology_dimensions=[0..max_dim],
            threshold=inf (H1 clouds) or the cloud's threshold (H2), homology_coeff_field=2,
            n_jobs=1).fit_transform([X]): gudhi's fastest path (gudhi >= 3.10, its Ripser fork).
            With threshold inf it takes the dense matrix (scipy pdist) and stops at the enclosing
            radius itself; with a finite threshold it builds a sparse matrix with a k-d tree and,
            for max_dim >= 2, edge-collapses it first. n_jobs only parallelises over clouds, and
            there is one, so 1 is what a user gets. Z/2 as every other tool (gudhi's default is
            Z/11, slower and not the same field).
  gudhi-rp-thr the same with threshold = the enclosing radius (H1 clouds): the sparse k-d tree
            path, which a user passing the threshold gets. The target row compares with the
            faster of gudhi-rp and gudhi-rp-thr.
  (--simplex-tree adds gudhi's SimplexTree path, which only times out on most of these clouds:)
  gudhi     RipsComplex(points=X, max_edge_length=r).create_simplex_tree(max_dimension=2)
            + persistence(), with r = the enclosing radius (min over points of the max distance),
            which is the default threshold of ours and of ripser: the Rips complex at r is a cone,
            so the diagrams are identical to the untruncated ones and the comparison is fair.
  gudhi+col the same with max_dimension=1, collapse_edges() repeated while an iteration removes
            at least 10% of the edges, then expansion(2) + persistence()

The peers run in a separate venv (default build/venv-bench-topo, created on first use with
pip install numpy ripser giotto-ph gudhi; a peer that fails to install is skipped with the reason).
A run that exceeds the per-run timeout (gudhi: --gudhi-timeout, default 120 s; others: --timeout,
default 900 s) is killed and reported as "timeout"; a child whose RSS passes half of the memory
available at start is killed and reported as "oom". After gudhi times out on a cloud, it is not
tried on the larger cloud of the same shape ("skip"); the same for gudhi+col.

Diagrams: the sorted finite (birth, death) pairs of H0 and H1 of ours are matched against ripser
and giotto-ph with a 1e-5 relative tolerance (both compute in float32), and against gudhi with a
1e-6 absolute tolerance (float64); the count of essential classes per dimension must agree too.

Summary rows (test/bench/summary.py, collected by bench_all.py): one per cloud. H1 clouds: target
ours <= 0.8x the faster gudhi RipsPersistence variant; H2 clouds: ours faster than the fastest peer.

Run with the interpreter of a venv that has duckdb and numpy (build/venv-2.0.1).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_VENV = REPO / "build" / "venv-bench-topo"
DUCKDB_VENV_PY = REPO / "build" / "venv-2.0.1" / "bin" / "python"

# (pip name, import name, the tools it serves)
PEER_PKGS = [("numpy", "numpy", ()), ("ripser", "ripser", ("ripser",)),
             ("giotto-ph", "gph", ("giotto", "giotto+col")),
             ("gudhi", "gudhi", ("gudhi-rp", "gudhi-rp-thr", "gudhi", "gudhi+col")),
             # gudhi.sklearn needs scikit-learn and scipy
             ("scikit-learn", "sklearn", ("gudhi-rp", "gudhi-rp-thr")), ("scipy", "scipy", ("gudhi-rp", "gudhi-rp-thr"))]
PEERS = ["ripser", "giotto", "giotto+col", "gudhi-rp", "gudhi-rp-thr", "gudhi", "gudhi+col"]
SIMPLEX_TREE = {"gudhi", "gudhi+col"}
GUDHI_RP = ("gudhi-rp", "gudhi-rp-thr")
H1_PEERS = {"ripser", "giotto", "gudhi-rp", "gudhi-rp-thr", "gudhi", "gudhi+col"}
H2_PEERS = {"ripser", "giotto", "giotto+col", "gudhi-rp"}
FLOAT32_PEERS = {"ripser", "giotto", "giotto+col"}
OURS = {"ours": "NULL", "ours+col": "true", "ours-col": "false"}

QUERY = ("SELECT dr_persistence([{cols}], {maxdim}, {thr}, 'euclidean', false, NULL, 2, 2, '20GB', "
         "false, {collapse}) FROM pts")


# --------------------------------------------------------------------------------------------
# point clouds

def make_clouds(quick):
    import numpy as np

    def sphere(n, seed):
        x = np.random.default_rng(seed).normal(size=(n, 3))
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def torus3(n, seed, big=2.0, small=1.0):
        rng = np.random.default_rng(seed)
        a, b = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2 * np.pi, n)
        return np.column_stack([(big + small * np.cos(b)) * np.cos(a),
                                (big + small * np.cos(b)) * np.sin(a), small * np.sin(b)])

    def torus4(n, seed):
        rng = np.random.default_rng(seed)
        a, b = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2 * np.pi, n)
        return np.column_stack([np.cos(a), np.sin(a), np.cos(b), np.sin(b)])

    # (name, points, max_dim, threshold or None for the enclosing radius)
    clouds = [("sphere-1000", sphere(1000, 101), 1, None), ("torus3-1000", torus3(1000, 202), 1, None)]
    if not quick:
        clouds += [("torus3-2000", torus3(2000, 303), 1, None), ("torus4-1000", torus4(1000, 404), 1, None),
                   ("torus4-2000", torus4(2000, 505), 1, None)]
    clouds += [("sphere-1000-h2", sphere(1000, 101), 2, 1.0)]
    if not quick:
        clouds += [("torus4-1000-h2", torus4(1000, 404), 2, 1.2),
                   ("cube-400-h2", np.random.default_rng(606).uniform(size=(400, 3)), 2, None)]
    return clouds


# --------------------------------------------------------------------------------------------
# child side: run one tool on one cloud, report events as JSON lines to a file

def _rss_kb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _bars_numpy(dgms):
    out = []
    for dim, dg in enumerate(dgms):
        for b, d in dg:
            out.append([dim, float(b), float(d)])
    return out


def child_main(tool, data, out_path, reps, ext, slow):
    out = open(out_path, "a", buffering=1)

    def emit(**kw):
        out.write(json.dumps(kw) + "\n")

    try:
        cfg = json.loads(Path(data + ".cfg").read_text())
        maxdim, thr = cfg["maxdim"], cfg["thr"]
        if tool in OURS:
            import duckdb
            con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
            con.execute(f"LOAD '{ext}'").fetchall()
            con.execute("SET threads = 2").fetchall()
            ncols = int(open(data + ".dim").read())
            cols = [f"c{i}" for i in range(ncols)]
            coldefs = ", ".join(f"{c}: 'DOUBLE'" for c in cols)
            con.execute(f"CREATE TABLE pts AS SELECT * FROM read_csv('{data}.csv', header=false, "
                        f"columns={{{coldefs}}})").fetchall()
            q = QUERY.format(cols=", ".join(cols), maxdim=maxdim, thr="NULL" if thr is None else thr,
                             collapse=OURS[tool])

            def run():
                rows = con.execute(q).fetchall()
                return [[int(s["dim"]), float(s["birth"]), float(s["death"])] for s in rows[0][0]]
        else:
            import numpy as np
            X = np.load(data + ".npy")
            if tool == "ripser":
                from ripser import ripser

                def run():
                    return _bars_numpy(ripser(X, maxdim=maxdim, thresh=thr or np.inf)["dgms"])
            elif tool in ("giotto", "giotto+col"):
                from gph import ripser_parallel

                def run():
                    return _bars_numpy(ripser_parallel(X, maxdim=maxdim, thresh=thr or np.inf, n_threads=2,
                                                       collapse_edges=tool == "giotto+col")["dgms"])
            elif tool in GUDHI_RP:
                from gudhi.sklearn.rips_persistence import RipsPersistence
                if tool == "gudhi-rp":
                    t = float("inf") if thr is None else thr
                else:
                    t = min(float(np.sqrt(((X[i:i + 256, None, :] - X[None, :, :]) ** 2)
                                          .sum(-1)).max(axis=1).min())
                            for i in range(0, len(X), 256))
                rp = RipsPersistence(homology_dimensions=list(range(maxdim + 1)), threshold=t,
                                     homology_coeff_field=2, n_jobs=1)

                def run():
                    return _bars_numpy(rp.fit_transform([X])[0])
            elif tool in ("gudhi", "gudhi+col"):
                import gudhi
                radius = min(float(np.sqrt(((X[i:i + 256, None, :] - X[None, :, :]) ** 2)
                                           .sum(-1)).max(axis=1).min())
                             for i in range(0, len(X), 256))

                def run():
                    if tool == "gudhi":
                        st = gudhi.RipsComplex(points=X, max_edge_length=radius) \
                            .create_simplex_tree(max_dimension=2)
                    else:
                        st = gudhi.RipsComplex(points=X, max_edge_length=radius) \
                            .create_simplex_tree(max_dimension=1)
                        edges = st.num_simplices()
                        while True:  # iterate while an iteration removes >= 10% of the edges
                            st.collapse_edges()
                            now = st.num_simplices()
                            if now > 0.9 * edges:
                                break
                            edges = now
                        st.expansion(2)
                    st.persistence(homology_coeff_field=2)
                    bars = []
                    for dim in (0, 1):
                        for b, d in st.persistence_intervals_in_dimension(dim):
                            bars.append([dim, float(b), float(d)])
                    return bars
            else:
                raise ValueError(tool)

        emit(ev="ready", rss_kb=_rss_kb())
        times, bars, i = [], None, 0
        while i <= reps:
            emit(ev="start", i=i)
            t0 = time.perf_counter()
            bars = run()
            dt = time.perf_counter() - t0
            emit(ev="done", i=i, t=dt)
            if i > 0:
                times.append(dt)
            elif dt > slow:
                reps = 1  # a slow tool: one timed run after the warm-up
            i += 1
        emit(ev="result", times=times, bars=[[d, b, (None if e == float("inf") else e)]
                                             for d, b, e in bars])
    except BaseException as e:  # noqa: BLE001 - report anything to the parent
        emit(ev="error", msg=f"{type(e).__name__}: {e}"[:500])
        raise


# --------------------------------------------------------------------------------------------
# parent side

def mem_available_kb():
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 8 * 1024 * 1024


def vm_rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_child(python, tool, data, reps, ext, timeout, rss_cap_kb, slow):
    """Returns dict(status, times, bars, peak_kb, base_kb, msg)."""
    fd, out_path = tempfile.mkstemp(prefix=f"topo-{tool.replace('+', '')}-", suffix=".jsonl")
    os.close(fd)
    cmd = [str(python), str(Path(__file__).resolve()), "--child", tool, data, out_path,
           "--reps", str(reps), "--slow", str(slow)]
    if ext:
        cmd += ["--ext", ext]
    errf = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf,
                            start_new_session=True)
    status, run_start, seen = None, None, 0
    while True:
        pid, wstatus, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        with open(out_path) as f:
            lines = f.read().splitlines()
        for line in lines[seen:]:
            ev = json.loads(line)
            if ev["ev"] == "start":
                run_start = time.monotonic()
            elif ev["ev"] == "done":
                run_start = None
        seen = len(lines)
        kill = None
        if run_start is not None and time.monotonic() - run_start > timeout:
            kill = "timeout"
        elif vm_rss_kb(proc.pid) > rss_cap_kb:
            kill = "oom"
        if kill and status is None:
            status = kill
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(wstatus)
    events = [json.loads(line) for line in open(out_path).read().splitlines()]
    os.unlink(out_path)
    res = {"status": status, "times": None, "bars": None, "peak_kb": ru.ru_maxrss,
           "base_kb": None, "msg": ""}
    for ev in events:
        if ev["ev"] == "ready":
            res["base_kb"] = ev["rss_kb"]
        elif ev["ev"] == "result":
            res["times"] = ev["times"]
            res["bars"] = [(d, b, float("inf") if e is None else e) for d, b, e in ev["bars"]]
        elif ev["ev"] == "error":
            res["msg"] = ev["msg"]
    if res["status"] is None:
        if res["times"] is not None:
            res["status"] = "ok"
        else:
            errf.seek(0)
            tail = errf.read().decode(errors="replace").strip().splitlines()[-3:]
            res["status"] = "error"
            res["msg"] = res["msg"] or " | ".join(tail) or f"exit {proc.returncode}"
    errf.close()
    return res


def ensure_peer_venv(venv):
    """Create the peers' venv if missing and install what is missing. Returns available tools."""
    py = venv / "bin" / "python"
    if not py.exists():
        print(f"creating {venv} ...", flush=True)
        r = subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            base = shutil.which("python3") or "python3"
            r = subprocess.run([base, "-m", "venv", "--clear", str(venv)],
                               capture_output=True, text=True)
        if r.returncode != 0:
            print(f"cannot create {venv}: {r.stderr.strip()[-500:]}; no peers", flush=True)
            return set(), None
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"],
                       capture_output=True)
    available = set(PEERS)
    for pip_name, mod, tools in PEER_PKGS:
        ok = subprocess.run([str(py), "-c", f"import {mod}"], capture_output=True).returncode == 0
        if not ok:
            print(f"installing {pip_name} into {venv} ...", flush=True)
            r = subprocess.run([str(py), "-m", "pip", "install", "-q", pip_name],
                               capture_output=True, text=True)
            ok = r.returncode == 0 and subprocess.run(
                [str(py), "-c", f"import {mod}"], capture_output=True).returncode == 0
            if not ok:
                why = (r.stderr or r.stdout).strip().splitlines()[-3:]
                print(f"  {pip_name} unavailable, skipping {', '.join(tools) or 'all peers'}: "
                      f"{' | '.join(why)}", flush=True)
                if pip_name == "numpy":
                    return set(), py
                available -= set(tools)
    return available, py


def compare(ours, theirs, rel=None, abs_tol=None):
    """Match finite bars per dim within tolerance; essential counts must agree.
    Returns (ok, detail)."""
    import numpy as np
    details, ok = [], True
    for dim in sorted({k for k, _, _ in ours} | {k for k, _, _ in theirs}):
        a = np.array(sorted((b, d) for k, b, d in ours if k == dim and d != float("inf")
                            and d > b)).reshape(-1, 2)
        t = np.array(sorted((b, d) for k, b, d in theirs if k == dim and d != float("inf")
                            and d > b)).reshape(-1, 2)
        ea = sum(1 for k, b, d in ours if k == dim and d == float("inf"))
        et = sum(1 for k, b, d in theirs if k == dim and d == float("inf"))
        if ea != et:
            ok = False
            details.append(f"H{dim} essential {ea} vs {et}")
        if len(a) != len(t):
            ok = False
            details.append(f"H{dim} {len(a)} vs {len(t)} finite bars")
            continue

        def tol(x, y):
            if rel is not None:
                return rel * np.maximum(np.abs(x), np.abs(y)) + 1e-12
            return abs_tol

        dev = np.abs(a - t)
        if np.all(dev <= tol(a, t)):
            details.append(f"H{dim} {len(a)} bars, max dev {dev.max(initial=0):.1e}")
            continue
        # the sorted orders may differ where values are within tolerance: greedy matching
        used = np.zeros(len(t), bool)
        worst, unmatched = 0.0, 0
        for b, d in a:
            okb = np.abs(t[:, 0] - b) <= tol(b, t[:, 0])
            okd = np.abs(t[:, 1] - d) <= tol(d, t[:, 1])
            cand = np.flatnonzero(okb & okd & ~used)
            if len(cand) == 0:
                unmatched += 1
                continue
            j = cand[np.argmin(np.abs(t[cand, 0] - b) + np.abs(t[cand, 1] - d))]
            used[j] = True
            worst = max(worst, abs(t[j, 0] - b), abs(t[j, 1] - d))
        if unmatched:
            ok = False
            details.append(f"H{dim} {unmatched}/{len(a)} bars unmatched")
        else:
            details.append(f"H{dim} {len(a)} bars, max dev {worst:.1e} (reordered)")
    return ok, "; ".join(details)


def median_of(r):
    return statistics.median(r["times"]) if r and r["status"] == "ok" and r["times"] else None


def emit_summary(name, maxdim, n, res, match):
    """One summary row per cloud: H1 against gudhi RipsPersistence (target 0.8x of its faster
    variant), H2 against the fastest peer."""
    import summary
    ours = median_of(res["ours"])
    peers = {t: median_of(res.get(t)) for t in PEERS if res.get(t) is not None}
    detail = f"{n} points, Z/2, medians; diagrams " + (" ".join(match) or "not compared")
    if "DIFF" in detail or ours is None:
        met = False
    elif maxdim == 1:
        rp = [v for t, v in peers.items() if t in GUDHI_RP and v is not None]
        met = bool(rp) and ours <= 0.8 * min(rp)
    else:
        ran = [v for v in peers.values() if v is not None]
        met = bool(ran) and ours < min(ran)
    target = "<= 0.8x gudhi RipsPersistence" if maxdim == 1 else "faster than the fastest peer"
    summary.emit(f"dr_persistence H{maxdim} {name}", ours, peers, target, met, detail)


def fmt_time(r):
    if r is None:
        return "n/a"
    if r["status"] == "ok":
        return f"{statistics.median(r['times']):.3f}"
    return r["status"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("extension")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900.0,
                    help="per-run timeout for ours, ripser and giotto-ph (s)")
    ap.add_argument("--gudhi-timeout", type=float, default=120.0, help="per-run timeout (s)")
    ap.add_argument("--slow", type=float, default=30.0,
                    help="a tool whose warm-up takes longer gets 1 timed run instead of --reps")
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="venv for the peers")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--clouds", help="comma-separated cloud names to run (default: all, or --quick's)")
    ap.add_argument("--no-self", action="store_true",
                    help="skip ours with the other collapse setting (ours+col / ours-col)")
    ap.add_argument("--simplex-tree", action="store_true",
                    help="also run gudhi's SimplexTree path (times out on most clouds)")
    args = ap.parse_args()

    import numpy as np

    ext_src = Path(args.extension).resolve()
    if not ext_src.exists():
        sys.exit(f"no such extension: {ext_src}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-topo-"))
    try:
        # private copy (same file name: DuckDB derives the init symbol from it)
        ext = tmp / ext_src.name
        shutil.copy2(ext_src, ext)

        duck_py = sys.executable
        if subprocess.run([duck_py, "-c", "import duckdb"], capture_output=True).returncode:
            duck_py = str(DUCKDB_VENV_PY)
        ver = subprocess.run([duck_py, "-c", "import duckdb; print(duckdb.__version__)"],
                             capture_output=True, text=True).stdout.strip()

        if args.no_peers:
            peers, peer_py = set(), None
        else:
            peers, peer_py = ensure_peer_venv(args.venv)
            if not args.simplex_tree:
                peers -= SIMPLEX_TREE
        vers = {}
        if peer_py:
            code = ("import importlib.metadata as m\n"
                    "for p in ['numpy','ripser','giotto-ph','gudhi','scikit-learn','scipy']:\n"
                    "    try: print(p, m.version(p))\n"
                    "    except Exception: pass\n")
            vers = dict(line.split() for line in subprocess.run(
                [str(peer_py), "-c", code], capture_output=True, text=True).stdout.splitlines())

        cap_kb = mem_available_kb() // 2
        print("dataraum dr_persistence vs peers, Z/2; H1 clouds at the enclosing radius, "
              "H2 clouds at the threshold named")
        print(f"extension {ext_src} (copied), duckdb {ver}, SET threads = 2, "
              f"dr_persistence threads 2")
        print("peers: " + ", ".join(f"{k} {v}" for k, v in vers.items()) +
              f" in {args.venv}" if vers else "peers: none")
        print(f"cpus {os.cpu_count()}, load average at start {os.getloadavg()}, "
              f"child RSS cap {cap_kb // 1024} MB, 1 warm-up + median of {args.reps}", flush=True)

        clouds = make_clouds(args.quick and not args.clouds)
        if args.clouds:
            want = set(args.clouds.split(","))
            clouds = [c for c in clouds if c[0] in want]
        rows, notes = [], []
        gudhi_dead = {}  # (tool, shape) -> (n, why) where a gudhi variant timed out / ran out
        for name, X, maxdim, thr in clouds:
            shape, n = name.split("-")[0], len(X)
            base = str(tmp / name)
            np.save(base + ".npy", X)
            np.savetxt(base + ".csv", X, delimiter=",", fmt="%.17g")
            Path(base + ".dim").write_text(str(X.shape[1]))
            Path(base + ".cfg").write_text(json.dumps({"maxdim": maxdim, "thr": thr}))
            res = {}
            print(f"\n== {name}: {n} points in R^{X.shape[1]}, max_dim {maxdim}, threshold "
                  f"{'enclosing radius' if thr is None else thr}", flush=True)
            mine = ["ours", "ours+col"] if maxdim == 1 else ["ours", "ours-col"]
            for tool in mine[:1] if args.no_self else mine:
                res[tool] = run_child(duck_py, tool, base, args.reps, str(ext), args.timeout,
                                      cap_kb, args.slow)
            for tool in PEERS:
                if tool not in peers or tool not in (H1_PEERS if maxdim == 1 else H2_PEERS):
                    res[tool] = None
                    continue
                dead = gudhi_dead.get((tool, shape))
                if dead and dead[0] <= n:
                    res[tool] = {"status": "skip", "msg": f"{dead[1]} at n={dead[0]}",
                                 "peak_kb": None}
                    continue
                to = args.gudhi_timeout if tool in SIMPLEX_TREE else args.timeout
                res[tool] = run_child(peer_py, tool, base, args.reps, None, to, cap_kb, args.slow)
                if tool in SIMPLEX_TREE and res[tool]["status"] in ("timeout", "oom"):
                    gudhi_dead[(tool, shape)] = (n, res[tool]["status"])
            for tool in mine + PEERS:
                r = res.get(tool)
                if r is None:
                    continue
                peak = f"{r['peak_kb'] / 1024:.0f} MB" if r.get("peak_kb") else "-"
                basem = f"{r['base_kb'] / 1024:.0f} MB" if r.get("base_kb") else "-"
                times = ", ".join(f"{t:.3f}" for t in r["times"]) if r.get("times") else ""
                print(f"  {tool:10s} {fmt_time(r):>9s}  runs [{times}]  peak RSS {peak} "
                      f"(base {basem}) {r.get('msg', '')}", flush=True)

            # diagram checks
            ours = res["ours"]
            match = []
            if ours["status"] == "ok":
                for tool, tag in [(mine[1], "self"), ("ripser", "rip"), ("giotto", "gph"),
                                  ("giotto+col", "gcol"), ("gudhi-rp", "grp"), ("gudhi-rp-thr", "grpt"),
                                  ("gudhi", "gud"), ("gudhi+col", "col")]:
                    r = res.get(tool)
                    if not r or r["status"] != "ok":
                        continue
                    if tag == "self":
                        ok, det = compare(ours["bars"], r["bars"], abs_tol=0.0)
                    elif tool in FLOAT32_PEERS:
                        ok, det = compare(ours["bars"], r["bars"], rel=1e-5)
                    else:
                        ok, det = compare(ours["bars"], r["bars"], abs_tol=1e-6)
                    match.append(f"{tag}:{'ok' if ok else 'DIFF'}")
                    print(f"  diagram vs {tool:9s} {'identical' if ok else 'DIFFERENT'} "
                          f"({det})", flush=True)
            peer_medians = [statistics.median(res[t]["times"]) for t in PEERS
                            if res.get(t) and res[t]["status"] == "ok"]
            fastest = min(peer_medians) if peer_medians else None
            ratio = (f"{statistics.median(ours['times']) / fastest:.2f}x"
                     if fastest and ours["status"] == "ok" else "n/a")
            rip = res.get("ripser")
            emit_summary(name, maxdim, n, res, match)
            rows.append([name, fmt_time(ours), fmt_time(res.get(mine[1])), fmt_time(rip),
                         fmt_time(res.get("giotto")), fmt_time(res.get("giotto+col")),
                         fmt_time(res.get("gudhi-rp")), fmt_time(res.get("gudhi-rp-thr")),
                         fmt_time(res.get("gudhi")), fmt_time(res.get("gudhi+col")), ratio,
                         f"{ours['peak_kb'] / 1024:.0f}" if ours.get("peak_kb") else "-",
                         f"{rip['peak_kb'] / 1024:.0f}" if rip and rip.get("peak_kb") else "-",
                         " ".join(match) or "-"])

        hdr = ["cloud", "ours s", "ours+/-col s", "ripser s", "giotto s", "giotto+col s", "gudhi-rp s",
               "gudhi-rp-thr s", "gudhi s", "gudhi+col s",
               "ours/fastest", "peak MB ours", "peak MB ripser", "diagram match"]
        widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
        print("\n" + "  ".join(h.ljust(w) for h, w in zip(hdr, widths)))
        print("  ".join("-" * w for w in widths))
        for row in rows:
            print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
        print(f"(a tool whose warm-up took > {args.slow:.0f} s was timed once, see 'runs' above)")
        print("median of %d runs after 1 warm-up; ours/fastest = ours / fastest peer median; "
              "peak MB = child ru_maxrss (interpreter + libraries included)." % args.reps)
        print("ours+/-col = ours with edge collapse forced on (H1 clouds) or off (H2 clouds).")
        print("match: self = ours with the other collapse setting, rip = ripser.py, gph/gcol = "
              "giotto-ph without/with edge collapse (float32: 1e-5 relative), grp/grpt = gudhi "
              "RipsPersistence with threshold inf / the enclosing radius, gud = gudhi SimplexTree, "
              "col = gudhi SimplexTree with edge collapse (float64: 1e-6 absolute); finite pairs of "
              "every dimension, essential counts too.")
        print(f"gudhi SimplexTree per-run timeout {args.gudhi_timeout:.0f} s; 'skip' = timed out "
              "on a smaller cloud of the same shape.")
        print(f"load average at end {os.getloadavg()}", flush=True)
        bad = [r[0] for r in rows if "DIFF" in r[-1] or r[1] in ("error", "timeout", "oom")]
        return 1 if bad else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        cp = argparse.ArgumentParser()
        cp.add_argument("--child", nargs=3, metavar=("TOOL", "DATA", "OUT"))
        cp.add_argument("--reps", type=int, default=3)
        cp.add_argument("--ext")
        cp.add_argument("--slow", type=float, default=float("inf"))
        a = cp.parse_args()
        child_main(a.child[0], a.child[1], a.child[2], a.reps, a.ext, a.slow)
        sys.exit(0)
    sys.exit(main())
