#!/usr/bin/env python3
"""Numbers never change value: a property test of infer_types' cast_sql against DuckDB.

    python test_infer_values.py <extension>

For every column generated here (seeded random mixes of integers, 1-4 decimals, thousands
separators in both conventions, exponents, signs, padding, junk and null tokens) and every
column of the labeled corpus (test/data/infer/gen_corpus.py), infer_types chooses a type and
cast_sql. The property, checked value by value in DuckDB 2.0.1:

  * where the chosen reading is DuckDB's own ('.' is the decimal point), every value that
    `TRY_CAST(x AS DOUBLE)` reads converts to the same number, within the chosen type's
    rounding (DECIMAL(p,s): half a unit of the last digit; integers: 0.5; DOUBLE: 1e-12
    relative); a value it cannot convert becomes NULL and is counted in quarantine_count;
  * a ',' decimal reading is chosen only when the column holds a value that proves it: one
    that DuckDB cannot read but the ',' convention can (1,5 / 1.234,5 / 1.234.567).

One test per column; the last line is "N passed, N failed".
"""
import math
import random
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "test" / "data" / "infer"))
import gen_corpus  # noqa: E402

NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


def thousands(n, thou):
    s = f"{n:,}"
    return s.replace(",", thou)


def gen_value(r, kind):
    """One value of a kind; returns text."""
    sign = "-" if r.random() < 0.15 else ""
    if kind == "int":
        return sign + str(r.randint(0, 10 ** r.randint(1, 7) - 1))
    if kind.startswith("dec"):
        k = int(kind[3])
        return f"{sign}{r.randint(0, 10 ** r.choice([1, 2, 3, 3, 3, 4]) - 1)}.{r.randint(0, 10 ** k - 1):0{k}d}"
    if kind == "thou_dot":  # 1,234.5 (DuckDB cannot read it; '.' convention)
        return f"{sign}{thousands(r.randint(1000, 10 ** 7), ',')}.{r.randint(0, 99):02d}"
    if kind == "thou_only":  # 12,345 (ambiguous: thousands or three decimals)
        return sign + thousands(r.randint(1000, 10 ** 6), ",")
    if kind == "comma_dec":  # 3,5 (proves ',')
        return f"{sign}{r.randint(0, 999)},{r.randint(1, 99)}"
    if kind == "euro":  # 1.234,56 (proves ',')
        return f"{sign}{thousands(r.randint(1000, 10 ** 7), '.')},{r.randint(0, 99):02d}"
    if kind == "euro_groups":  # 1.234.567 (proves ',')
        return sign + thousands(r.randint(10 ** 6, 10 ** 9), ".")
    if kind == "exp":
        return f"{sign}{r.randint(1, 9)}.{r.randint(0, 99)}e{r.randint(-20, 20)}"
    if kind == "plus":
        return "+" + str(r.randint(0, 5000))
    if kind == "pad":
        return "  " + str(r.randint(0, 5000)) + " "
    if kind == "junk":
        return r.choice(["abc", "n.a.", "12a", "--5", "1..2", "., ", "x1"])
    if kind == "null":
        return r.choice(["NA", "", "null", "-"])
    if kind == "big":
        return sign + str(r.randint(10 ** 19, 10 ** 30))
    raise ValueError(kind)


KINDS_MAIN = ["int", "dec1", "dec2", "dec3", "dec4", "thou_dot", "thou_only", "exp", "big"]
KINDS_RARE = ["comma_dec", "euro", "euro_groups", "plus", "pad", "junk", "null"]


def random_columns(seed, n_cols):
    r = random.Random(seed)
    cols = []
    # the case first: 70 % integers, 30 % exactly three decimals
    cols.append(("issue_70_30", [str(r.randint(0, 999)) if i % 10 < 7 else f"{r.randint(0, 99)}.{r.randint(0, 999):03d}"
                                 for i in range(500)]))
    for k in range(n_cols):
        kinds = r.sample(KINDS_MAIN, r.randint(1, 3))
        if r.random() < 0.4:
            kinds.append(r.choice(KINDS_RARE))
        weights = [r.random() + (0.05 if kd in KINDS_RARE else 0.3) for kd in kinds]
        rows = r.randint(20, 400)
        vals = [gen_value(r, r.choices(kinds, weights)[0]) for _ in range(rows)]
        cols.append((f"rand{k}_" + "_".join(kinds), vals))
    return cols


def tolerance(ty, ref):
    ty = ty.upper()
    if ty.startswith("DECIMAL"):
        scale = int(ty.split(",")[1].rstrip(")"))
        return 0.5 * 10 ** -scale + 1e-12 * abs(ref)
    if ty in NUMERIC:
        return 0.5
    if ty == "FLOAT":
        return 1e-6 * abs(ref)
    return 1e-12 * abs(ref)


def main():
    ext = sys.argv[1]
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{ext}'")
    cols = random_columns(20261206, 400)
    cols += [("corpus_" + c["name"], c["values"]) for c in gen_corpus.columns()]
    passed = failed = 0
    counts = {"dot": 0, "comma": 0, "not numeric": 0, "values compared": 0}
    for name, vals in cols:
        con.execute("DROP TABLE IF EXISTS t")
        con.execute("CREATE TABLE t(i INTEGER, x VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(vals)))
        ty, fmt, cast_sql, quarantine = con.execute(
            "SELECT inferred_type, format, cast_sql, quarantine_count FROM infer_types('t') WHERE column_name = 'x'"
        ).fetchone()
        problems = []
        if fmt and fmt.startswith("decimal=,"):
            counts["comma"] += 1
            # the number part of the value (currency, units, % and spaces removed)
            num = "regexp_replace(x, '[^0-9.,+-]', '', 'g')"
            proof = con.execute(
                f"SELECT count(*) FROM t WHERE TRY_CAST(trim(x) AS DOUBLE) IS NULL AND "
                f"(regexp_full_match({num}, '[-+]?[0-9]{{1,3}}(\\.[0-9]{{3}})+,[0-9]+') OR "
                f"regexp_full_match({num}, '[-+]?[0-9]+,[0-9]+') OR "
                f"regexp_full_match({num}, '[-+]?[0-9]{{1,3}}(\\.[0-9]{{3}}){{2,}}'))"
            ).fetchone()[0]
            if proof == 0:
                problems.append(f"',' decimal chosen ({ty}, {fmt}) but no value proves it")
        elif ty.upper() in NUMERIC or ty.upper().startswith("DECIMAL") or ty.upper() in ("DOUBLE", "FLOAT"):
            counts["dot"] += 1
            rows = con.execute(
                f"SELECT x, TRY_CAST(x AS DOUBLE) AS ref, TRY_CAST({cast_sql} AS DOUBLE) AS got FROM t "
                "WHERE TRY_CAST(x AS DOUBLE) IS NOT NULL"
            ).fetchall()
            counts["values compared"] += len(rows)
            lost = 0
            for x, ref, got in rows:
                if got is None:
                    lost += 1
                    continue
                if math.isnan(ref) and math.isnan(got):
                    continue
                if math.isinf(ref) or math.isinf(got):
                    if ref != got:
                        problems.append(f"{x!r}: DuckDB {ref!r}, cast_sql {got!r}")
                    continue
                if abs(got - ref) > tolerance(ty, ref):
                    problems.append(f"{x!r}: DuckDB {ref!r}, cast_sql {got!r} ({ty})")
            if lost > quarantine:
                problems.append(f"{lost} values DuckDB reads became NULL, quarantine_count says {quarantine}")
        else:
            counts["not numeric"] += 1
        if problems:
            failed += 1
            print(f"FAIL {name}: {ty} {fmt}: {problems[:3]}")
        else:
            passed += 1
    print(
        f"columns: {len(cols)} ({counts['dot']} read with '.', {counts['comma']} with ',' (each proven), "
        f"{counts['not numeric']} not numeric); values compared with TRY_CAST(x AS DOUBLE): {counts['values compared']}"
    )
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
