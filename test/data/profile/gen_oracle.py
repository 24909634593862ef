"""Oracle generator for the `profile` kernel tests.

Builds small fixed datasets (seeded), loads them into python duckdb 2.0.1 and records
what DuckDB's own aggregates say (count, min/max rendering, sum, avg, stddev_samp,
var_samp, skewness, kurtosis, entropy, quantile_cont, mad, top values by
GROUP BY/ORDER BY); histogram bins, outlier counts, text shapes and Benford digits are
computed here independently (exact Fractions / scipy.stats.chi2).

Run: venv/bin/python gen_oracle.py  (writes oracle.json beside this file)
"""
import json, math, os, random, re
from fractions import Fraction
import duckdb
try:
    from scipy.stats import chi2 as scipy_chi2
except ImportError:  # pragma: no cover
    scipy_chi2 = None

rng = random.Random(20261129)
QS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
con = duckdb.connect()


def with_nulls(vals, every=7):
    return [None if i % every == 3 else v for i, v in enumerate(vals)]


def datasets():
    ints = with_nulls([int(rng.lognormvariate(3, 1.2)) * rng.choice([1, 1, 1, -1]) for _ in range(600)])
    dbl = with_nulls([round(rng.gauss(50, 20), 3) if i % 5 else rng.expovariate(0.01) for i in range(500)])
    dbl_small = [rng.uniform(0.0001, 0.9) for _ in range(300)]
    dec = with_nulls([rng.randint(-50000, 250000) for _ in range(400)])  # DECIMAL(12,3) unscaled
    ts = with_nulls([1_600_000_000_000_000 + rng.randint(0, 86_400 * 400) * 1_000_000 + rng.choice([0, 0, 250_000, 120]) for _ in range(300)])
    dates = with_nulls([rng.randint(-800_000, 40_000) for _ in range(200)])
    words = ["alpha", "Beta", "gamma", "  padded", "trail ", "", "   ", "\t", "ÜNICODE straße", "AB-123", "x9y8", "Zürich 8001", "hello world", "e-mail@x.org", "42", "0042"]
    text = with_nulls([rng.choice(words) + (str(rng.randint(0, 30)) if rng.random() < 0.4 else "") for _ in range(400)])
    bools = with_nulls([rng.random() < 0.3 for _ in range(150)])
    return [
        ("ints", "BIGINT", ints), ("doubles", "DOUBLE", dbl), ("small_doubles", "DOUBLE", dbl_small),
        ("decimals", "DECIMAL(12,3)", dec), ("timestamps", "TIMESTAMP", ts), ("dates", "DATE", dates),
        ("text", "VARCHAR", text), ("bools", "BOOLEAN", bools),
    ]


def load(name, typ, vals):
    con.execute(f"CREATE OR REPLACE TABLE t (x {typ})")
    if typ.startswith("DECIMAL"):
        rows = [(None if v is None else f"{v / 1000:.3f}",) for v in vals]
        con.executemany("INSERT INTO t VALUES (?::DECIMAL(12,3))", rows)
    elif typ == "TIMESTAMP":
        con.executemany("INSERT INTO t VALUES (make_timestamp(?::BIGINT))", [(v,) for v in vals])
    elif typ == "DATE":
        con.executemany("INSERT INTO t VALUES (DATE '1970-01-01' + ?::INTEGER)", [(v,) for v in vals])
    else:
        con.executemany("INSERT INTO t VALUES (?)", [(v,) for v in vals])


def q(sql, params=None):
    return con.execute(sql, params or []).fetchall()


def pattern(s):
    out, last = [], None
    for ch in s:
        c = "9" if ch.isdigit() else "A" if ch.isupper() else "a" if ch.isalpha() else ch
        if c in "9Aa" and c == last:
            continue
        out.append(c)
        last = c
    return "".join(out)


def lead_digit(v):
    s = repr(abs(v)) if isinstance(v, float) else str(abs(v))
    for ch in s:
        if ch in "123456789":
            return int(ch)
    return None


def hist_oracle(xs, bins=20):
    lo, hi = min(xs), max(xs)
    if lo == hi:
        return [[lo, hi, len(xs)]]
    counts = [0] * bins
    for x in xs:
        i = math.floor((Fraction(x) - Fraction(lo)) * bins / (Fraction(hi) - Fraction(lo)))
        counts[min(max(i, 0), bins - 1)] += 1
    return counts


out = []
for name, typ, vals in datasets():
    load(name, typ, vals)
    numeric = typ in ("BIGINT", "DOUBLE") or typ.startswith("DECIMAL")
    temporal = typ in ("TIMESTAMP", "DATE")
    exp = {}
    (exp["row_count"], nn, exp["distinct_count"], exp["min"], exp["max"], exp["entropy"]) = q(
        "SELECT count(*), count(x), count(DISTINCT x), min(x)::VARCHAR, max(x)::VARCHAR, entropy(x) FROM t")[0]
    exp["null_count"] = exp["row_count"] - nn
    top = q("SELECT x::VARCHAR v, count(*) c FROM t WHERE x IS NOT NULL GROUP BY ALL ORDER BY c DESC, v ASC LIMIT 10")
    exp["top_values"] = [[v, c, c / exp["row_count"]] for v, c in top]
    if numeric or temporal:
        xd = "x::DOUBLE" if numeric else ("epoch(x)" if typ == "TIMESTAMP" else "epoch(x::TIMESTAMP)")
        r = q(f"SELECT quantile_cont({xd}, {QS}), mad({xd}), min({xd}), max({xd}) FROM t")[0]
        qs, mad, exp["min_value"], exp["max_value"] = r
        for k, v in zip(["p01", "p05", "p25", "p50", "p75", "p95", "p99"], qs):
            exp[k] = v
        exp["mad"] = mad
        xs = [row[0] for row in q(f"SELECT {xd} FROM t WHERE x IS NOT NULL")]
        q1, q3, med = qs[2], qs[4], qs[3]
        iqr = q3 - q1
        exp["iqr_outlier_count"] = sum(1 for x in xs if x < q1 - 1.5 * iqr or x > q3 + 1.5 * iqr)
        if mad > 0:
            exp["modified_z_outlier_count"] = sum(1 for x in xs if abs(0.6745 * (x - med) / mad) > 3.5)
        exp["histogram_counts"] = hist_oracle(xs)
    if numeric:
        r = q("SELECT sum(x)::DOUBLE, avg(x)::DOUBLE, stddev_samp(x), var_samp(x), skewness(x), kurtosis(x), "
              "count(*) FILTER (x = 0), count(*) FILTER (x < 0) FROM t")[0]
        (exp["sum"], exp["mean"], exp["stddev"], exp["variance"], exp["skewness"], exp["kurtosis"],
         exp["zero_count"], exp["negative_count"]) = r
        digits = [0] * 9
        raw = [v for v in vals if v is not None]
        for v in raw:
            d = lead_digit(v)
            if d:
                digits[d - 1] += 1
        n = sum(digits)
        if n >= 100:
            expct = [n * math.log10(1 + 1 / d) for d in range(1, 10)]
            c2 = sum((o - e) ** 2 / e for o, e in zip(digits, expct))
            exp["benford"] = {"digit_freq": [d / n for d in digits], "chi2": c2,
                              "p_value": float(scipy_chi2.sf(c2, 8)) if scipy_chi2 else None}
    if typ == "VARCHAR":
        xs = [v for v in vals if v is not None]
        lens = [len(s) for s in xs]
        exp.update(min_length=min(lens), max_length=max(lens), avg_length=sum(lens) / len(lens),
                   empty_count=sum(1 for s in xs if s == ""),
                   blank_count=sum(1 for s in xs if s != "" and s.strip() == ""),
                   untrimmed_count=sum(1 for s in xs if s != s.strip()),
                   non_ascii_count=sum(1 for s in xs if any(ord(c) > 127 for c in s)))
        pats = {}
        for s in xs:
            pats[pattern(s)] = pats.get(pattern(s), 0) + 1
        exp["top_patterns"] = [[p, c] for p, c in sorted(pats.items(), key=lambda t: (-t[1], t[0].encode()))[:5]]
    # doubles as repr strings: JSON float parsers are not all correctly rounded
    shown = [repr(v) if isinstance(v, float) else v for v in vals] if typ == "DOUBLE" else vals
    out.append({"name": name, "type": typ, "values": shown, "expect": exp})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle.json")
with open(path, "w") as f:
    json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
print("wrote", path, os.path.getsize(path), "bytes")
