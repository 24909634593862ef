"""Oracle for the correlation kernel: scipy results on small generated datasets.

Run: python gen_oracle.py   (scipy >= 1.11, numpy) -> special.json, oracle.json
"""
import json, math
import numpy as np
from scipy import stats, special

rng = np.random.default_rng(20261129)
out_dir = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."

# --- special functions -------------------------------------------------------
sp = {"betainc": [], "gammaincc": [], "f_sf": [], "norm2": []}
for a, b, x in [(0.5, 0.5, 0.3), (1, 1, 0.7), (2.5, 0.5, 0.9), (10, 0.5, 0.95), (50, 0.5, 0.99),
                (0.5, 20, 0.01), (100, 100, 0.45), (5000, 0.5, 0.999), (3, 7, 0.2), (24, 0.5, 0.8)]:
    sp["betainc"].append([a, b, x, float(special.betainc(a, b, x))])
for a, x in [(0.5, 0.1), (0.5, 2.0), (1, 3), (3.5, 1.2), (10, 25), (50, 40), (0.5, 12.5), (200, 230)]:
    sp["gammaincc"].append([a, x, float(special.gammaincc(a, x))])
for f, d1, d2 in [(1.5, 2, 10), (4.2, 3, 96), (0.3, 5, 5), (12.0, 1, 40)]:
    sp["f_sf"].append([f, d1, d2, float(stats.f.sf(f, d1, d2))])
for z in [0.0, 0.5, 1.96, 3.3, 6.0]:
    sp["norm2"].append([z, float(2 * stats.norm.sf(abs(z)))])
json.dump(sp, open(f"{out_dir}/special.json", "w"), indent=0)

# --- numeric pairs -----------------------------------------------------------
def numeric_case(name, x, y):
    x = np.asarray(x, float); y = np.asarray(y, float)
    pr = stats.pearsonr(x, y); sr = stats.spearmanr(x, y); kt = stats.kendalltau(x, y)
    return {"name": name, "x": x.tolist(), "y": y.tolist(),
            "pearson": [float(pr.statistic), float(pr.pvalue)],
            "spearman": [float(sr.statistic), float(sr.pvalue)],
            "kendall": [float(kt.statistic), float(kt.pvalue)]}

num = []
x = rng.normal(size=60); num.append(numeric_case("normal60", x, 0.6 * x + rng.normal(size=60)))
x = rng.permutation(20).astype(float); num.append(numeric_case("exact20", x, x + rng.normal(scale=6, size=20)))
x = rng.integers(0, 6, 150); num.append(numeric_case("ties150", x, x + rng.integers(0, 4, 150)))
x = rng.normal(size=300); num.append(numeric_case("weak300", x, -0.1 * x + rng.normal(size=300)))
x = rng.exponential(size=40) * 1e6; num.append(numeric_case("scaled40", x + 1e9, np.sqrt(x) + rng.normal(size=40)))

# --- categorical pairs -------------------------------------------------------
def entropy(counts):
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())

def cat_case(name, a, b):
    a = np.asarray(a); b = np.asarray(b)
    ra, ia = np.unique(a, return_inverse=True); rb, ib = np.unique(b, return_inverse=True)
    t = np.zeros((len(ra), len(rb)))
    np.add.at(t, (ia, ib), 1)
    chi2, p, dof, _ = stats.chi2_contingency(t, correction=False)
    n = t.sum(); r, k = t.shape
    phi2 = chi2 / n
    v_raw = math.sqrt(phi2 / min(r - 1, k - 1))
    phi2c = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    rc = r - (r - 1) ** 2 / (n - 1); kc = k - (k - 1) ** 2 / (n - 1)
    v_corr = math.sqrt(phi2c / min(kc - 1, rc - 1))
    ha, hb, hab = entropy(t.sum(1)), entropy(t.sum(0)), entropy(t.ravel())
    mi = ha + hb - hab
    return {"name": name, "a": a.tolist(), "b": b.tolist(), "chi2": float(chi2), "p": float(p), "dof": float(dof),
            "v_raw": v_raw, "v_corrected": v_corr, "u_b_given_a": mi / hb, "u_a_given_b": mi / ha,
            "nmi": mi / ((ha + hb) / 2)}

cat = []
a = rng.integers(0, 4, 200); cat.append(cat_case("dep200", a, (a + (rng.random(200) < 0.3) * rng.integers(0, 3, 200)) % 3))
a = rng.integers(0, 3, 80); cat.append(cat_case("indep80", a, rng.integers(0, 5, 80)))
a = rng.integers(0, 2, 50); cat.append(cat_case("2x2_50", a, np.where(rng.random(50) < 0.8, a, 1 - a)))

# --- eta (categorical x numeric) --------------------------------------------
def eta_case(name, g, y):
    g = np.asarray(g); y = np.asarray(y, float)
    groups = [y[g == k] for k in np.unique(g)]
    f, p = stats.f_oneway(*groups)
    m = y.mean(); ssb = sum(len(v) * (v.mean() - m) ** 2 for v in groups); sst = ((y - m) ** 2).sum()
    return {"name": name, "g": g.tolist(), "y": y.tolist(), "eta": math.sqrt(ssb / sst), "f": float(f), "p": float(p)}

eta = []
g = rng.integers(0, 4, 120); eta.append(eta_case("eta120", g, g * 0.5 + rng.normal(size=120)))
g = rng.integers(0, 3, 45); eta.append(eta_case("eta45", g, rng.normal(size=45)))

json.dump({"numeric": num, "categorical": cat, "eta": eta}, open(f"{out_dir}/oracle.json", "w"))
