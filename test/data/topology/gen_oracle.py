#!/usr/bin/env python3
"""Oracle diagrams for the topology kernel (src/kernels/topology/tests.rs).

Runs ripser (ripser.py) and GUDHI on small point clouds and distance tables and writes
oracle.json next to this script. Both libraries receive the same exact distance matrix
(computed here by direct differences, so duplicates are at distance exactly 0);
zero-length bars are dropped, as the kernel does. Essential deaths are written as -1.

    python3 -m venv venv && venv/bin/pip install ripser gudhi numpy
    venv/bin/python test/data/topology/gen_oracle.py
"""
import json
import os

import numpy as np
import gudhi
from ripser import ripser
from scipy import sparse

rng = np.random.default_rng(20261129)


def dist(points, metric="euclidean"):
    x = np.asarray(points, dtype=float)
    diff = x[:, None, :] - x[None, :, :]
    if metric == "euclidean":
        return np.sqrt((diff ** 2).sum(-1))
    if metric == "manhattan":
        return np.abs(diff).sum(-1)
    if metric == "chebyshev":
        return np.abs(diff).max(-1)
    if metric == "cosine":
        nrm = np.linalg.norm(x, axis=1)
        d = 1.0 - (x @ x.T) / np.outer(nrm, nrm)
        d = np.maximum(d, 0.0)
        np.fill_diagonal(d, 0.0)
        return d
    raise ValueError(metric)


def bars_from(dgms_by_dim):
    out = []
    for dim, dg in enumerate(dgms_by_dim):
        for b, d in dg:
            b, d = float(b), float(d)
            if np.isfinite(d) and d <= b:
                continue
            out.append([dim, b, d if np.isfinite(d) else -1.0])
    out.sort(key=lambda t: (t[0], t[1], t[2] if t[2] >= 0 else float("inf")))
    return out


def run_ripser(D, max_dim, thresh, p, is_sparse=False):
    kw = {"maxdim": max_dim, "coeff": p, "distance_matrix": True}
    if thresh is not None:
        kw["thresh"] = thresh
    return bars_from(ripser(D, **kw)["dgms"])


def run_gudhi(D, max_dim, thresh, p):
    rc = gudhi.RipsComplex(distance_matrix=D, max_edge_length=thresh if thresh is not None else float("inf"))
    st = rc.create_simplex_tree(max_dimension=max_dim + 1)
    st.compute_persistence(homology_coeff_field=p, min_persistence=-1)
    return bars_from([st.persistence_intervals_in_dimension(d) for d in range(max_dim + 1)])


def r8(a):
    return [[round(float(v), 8) for v in row] for row in a]


cases = []


def point_case(name, pts, max_dim=1, thresh=None, p=2, metric="euclidean"):
    pts = r8(pts)
    D = dist(pts, metric)
    cases.append({
        "name": name, "points": pts, "metric": metric, "max_dim": max_dim,
        "threshold": thresh, "modulus": p,
        "ripser": run_ripser(D, max_dim, thresh, p),
        "gudhi": run_gudhi(D, max_dim, thresh, p),
    })


def sphere(n, dim=3):
    x = rng.normal(size=(n, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def torus(n, R=2.0, r=0.8):
    u, v = rng.uniform(0, 2 * np.pi, (2, n))
    return np.c_[(R + r * np.cos(v)) * np.cos(u), (R + r * np.cos(v)) * np.sin(u), r * np.sin(v)]


t = rng.uniform(0, 2 * np.pi, 40)
circle = np.c_[np.cos(t), np.sin(t)] + rng.normal(scale=0.05, size=(40, 2))

point_case("random2d", rng.uniform(size=(40, 2)))
point_case("random3d_h2", rng.uniform(size=(35, 3)), max_dim=2)
point_case("circle_noisy", circle)
point_case("circle_threshold", circle, thresh=0.9)
point_case("torus", torus(60), max_dim=2)
point_case("sphere_h2", sphere(45), max_dim=2)
point_case("sphere_h2_threshold", sphere(45), max_dim=2, thresh=0.8)
cl = np.r_[rng.normal(size=(15, 2)) * 0.1, rng.normal(size=(15, 2)) * 0.1 + [3, 0], rng.normal(size=(15, 2)) * 0.1 + [0, 3]]
point_case("clusters", cl)
base = rng.uniform(size=(20, 3))
point_case("duplicates", np.r_[base, base[:15], base[:5]], max_dim=2)
point_case("manhattan4d", rng.uniform(size=(40, 4)), metric="manhattan")
point_case("chebyshev3d", rng.uniform(size=(40, 3)), metric="chebyshev")
point_case("cosine5d", rng.uniform(size=(40, 5)) + 0.1, metric="cosine")
point_case("random3d_z5", rng.uniform(size=(40, 3)), p=5)


def rp2(n):
    # Veronese-type embedding of RP^2 = S^2/±1 into R^6 via x -> (x_i x_j).
    s = sphere(400)
    f = np.c_[s[:, 0] ** 2, s[:, 1] ** 2, s[:, 2] ** 2, np.sqrt(2) * s[:, 0] * s[:, 1],
              np.sqrt(2) * s[:, 1] * s[:, 2], np.sqrt(2) * s[:, 0] * s[:, 2]]
    # furthest point sample for an even cover
    idx = [0]
    md = np.linalg.norm(f - f[0], axis=1)
    for _ in range(n - 1):
        i = int(np.argmax(md))
        idx.append(i)
        md = np.minimum(md, np.linalg.norm(f - f[i], axis=1))
    return f[idx]


rp = rp2(50)
point_case("rp2_z2", rp, max_dim=2, p=2)
point_case("rp2_z3", rp, max_dim=2, p=3)

# Sparse distance table: a weighted cycle graph with a few chords (missing = no edge).
n = 30
edges = []
for i in range(n):
    edges.append([i, (i + 1) % n, round(float(rng.uniform(0.5, 1.0)), 6)])
for _ in range(6):
    i, j = rng.choice(n, 2, replace=False)
    edges.append([int(i), int(j), round(float(rng.uniform(1.5, 3.0)), 6)])
rows = [e[0] for e in edges]
cols = [e[1] for e in edges]
vals = [e[2] for e in edges]
S = sparse.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
S = S.maximum(S.T).tocoo()
cases.append({
    "name": "sparse_graph", "n": n, "edges": edges, "max_dim": 1, "threshold": None, "modulus": 2,
    "ripser": run_ripser(S, 1, None, 2, is_sparse=True),
    "gudhi": None,
})

# Diagram distances from GUDHI (bottleneck) on two of the diagrams above.
def to_pairs(bars, dim):
    return [[b, d if d >= 0 else float("inf")] for (k, b, d) in bars if k == dim]


a = cases[2]["gudhi"]  # circle_noisy
b = cases[0]["gudhi"]  # random2d
dist_cases = []
for dim in (0, 1):
    pa = np.array(to_pairs(a, dim)).reshape(-1, 2)
    pb = np.array(to_pairs(b, dim)).reshape(-1, 2)
    fa = pa[np.isfinite(pa[:, 1])]
    fb = pb[np.isfinite(pb[:, 1])]
    entry = {"dim": dim, "bottleneck_finite": float(gudhi.bottleneck_distance(fa, fb, 0.0))}
    try:
        from gudhi.hera import wasserstein_distance as hera_w
        entry["wasserstein1_finite"] = float(hera_w(fa, fb, order=1.0, internal_p=float("inf"), delta=1e-9))
        entry["wasserstein2_finite"] = float(hera_w(fa, fb, order=2.0, internal_p=float("inf"), delta=1e-9))
    except Exception as e:  # hera missing: skip Wasserstein oracle
        print("no hera:", e)
    dist_cases.append(entry)

out = {"cases": cases, "distances": {"a": "circle_noisy", "b": "random2d", "per_dim": dist_cases}}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(path, os.path.getsize(path), "bytes")
for c in cases:
    diff = "" if c["gudhi"] is None or len(c["gudhi"]) == len(c["ripser"]) else "  (ripser/gudhi count differ)"
    print(c["name"], len(c["ripser"]), "bars", diff)
