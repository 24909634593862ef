"""Fuzz matrix: every function dr_functions() lists x every DuckDB type x edge data, names that need
quoting, missing tables, views and bad option values. Each probe must end in a result or in a SQL
error that names a dataraum function (or setting) -- never a crash, a hang, an internal error or a
connection that stops answering `SELECT 42`.

  test_fuzz.py <extension> [--budget SECONDS] [--workers N] [--seed N] [--only NAME[,NAME]]
  FUZZ_BUDGET=<seconds> overrides the default time budget (150 s of probing).

Probes run in child Pythons (batches of up to BATCH probes, results streamed as JSON lines), so a
crash is counted rather than fatal: when a child dies, the probe it was running is run again alone
in a fresh process to pin the crasher, and the batch's unstarted probes go back to the queue. A probe
that runs longer than PROBE_TIMEOUT seconds counts as a hang.

The probe list is derived from dr_functions(): a function without an entry in SPECS below is a
failure, so a new function is fuzzed (or the test says it is not). Tier 1, taken round-robin over the
functions so that a budget cut still probes every one: every function x every type on ordinary data
(functions that read whole tables: one table per edge shape with every type as a column), every edge
shape for INTEGER, DOUBLE and VARCHAR, every name, option, JSON, diagram and blob probe. Tier 2 (the
rest of the type x edge-data matrix, shuffled with --seed) follows. Probing stops when the time
budget is spent; the summary says how many probes were left out.

DuckDB's own errors at the argument boundary (a typed parameter or setting cast before the extension
runs, a table name query_table cannot take, a building-block macro given something that is not a
row: ENGINE_ARG) pass as "engine argument error" and are counted and listed by message shape apart
from the errors the extension raises, which must name the function.

Prints per-category counts, every failure with its SQL and message, and `N passed, N failed` (one
test per probe, plus one failed test per function without probes).
"""
import json
from itertools import zip_longest
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

PROBE_TIMEOUT = 60.0
HANGS_BEFORE_SKIP = 2  # after this many hangs of a function, its probes on big fixtures are left out
BATCH = 120
CHILD_MEMORY = 16 << 30  # RLIMIT_AS of a child: an unbounded allocation fails instead of swapping
MARK = "@@FUZZ "

# --------------------------------------------------------------------------------------------
# Types and edge data. Every fixture table f_<type>_<shape> has columns id BIGINT, x <type>.
# --------------------------------------------------------------------------------------------

# (key, SQL type, ordinary value as an expression of i BIGINT, extremes: test_all_types() column or
# a list of literals)
FLOAT_SPECIALS = ["'nan'", "'inf'", "'-inf'", "1.7e308", "-1.7e308", "5e-324", "-5e-324", "-0.0", "0.0",
                  "2.2250738585072014e-308", "1e-300", "NULL"]
TYPES = [
    ("boolean", "BOOLEAN", "i % 2 = 0", "bool"),
    ("tinyint", "TINYINT", "(i % 100)::TINYINT", "tinyint"),
    ("smallint", "SMALLINT", "(i * 7 % 1000)::SMALLINT", "smallint"),
    ("integer", "INTEGER", "(i * 13 % 5000)::INTEGER", "int"),
    ("bigint", "BIGINT", "i * 1000003", "bigint"),
    ("hugeint", "HUGEINT", "(i * 1000003)::HUGEINT * 1000000000000", "hugeint"),
    ("utinyint", "UTINYINT", "(i % 200)::UTINYINT", "utinyint"),
    ("usmallint", "USMALLINT", "(i % 60000)::USMALLINT", "usmallint"),
    ("uinteger", "UINTEGER", "(i * 17)::UINTEGER", "uint"),
    ("ubigint", "UBIGINT", "(i * 1000003)::UBIGINT", "ubigint"),
    ("uhugeint", "UHUGEINT", "(i * 1000003)::UHUGEINT", "uhugeint"),
    ("float", "FLOAT", "(i * 0.37)::FLOAT", FLOAT_SPECIALS[:1] + ["'inf'", "'-inf'", "3.4e38", "-3.4e38", "1e-45", "-0.0", "NULL"]),
    ("double", "DOUBLE", "i * 0.37 - 20", FLOAT_SPECIALS),
    ("decimal18", "DECIMAL(18,3)", "(i * 1.25)::DECIMAL(18,3)",
     ["999999999999999.999", "-999999999999999.999", "0.001", "0", "NULL"]),
    ("decimal38", "DECIMAL(38,10)", "(i * 1.25)::DECIMAL(38,10)", "dec38_10"),
    ("decimal4", "DECIMAL(4,1)", "((i % 999) / 10)::DECIMAL(4,1)", "dec_4_1"),
    ("varchar", "VARCHAR", "'v' || (i % 13)",
     ["''", "' '", "'NULL'", "'NaN'", "'inf'", "'1e999'", "'-0'", "'١٢٣'", "'🦆🦆'", "'goo' || chr(0) || 'se'",
      "'1,234.5'", "'1.234.567'", "'2024-02-30'", "'99999999999999999999999999999999999999999'", "chr(9)", "NULL"]),
    ("blob", "BLOB", "('b' || (i % 11))::BLOB", "blob"),
    ("date", "DATE", "DATE '2024-01-01' + (i % 300)::INTEGER", ["'infinity'", "'-infinity'", "'5877642-06-25 (BC)'", "'5881580-07-10'", "NULL"]),
    ("time", "TIME", "TIME '00:00:00' + INTERVAL (i) SECOND", "time"),
    ("time_ns", "TIME_NS", "(TIME '00:00:00' + INTERVAL (i) SECOND)::TIME_NS", "time_ns"),
    ("timetz", "TIMETZ", "(TIME '01:00:00' + INTERVAL (i) SECOND)::TIMETZ", "time_tz"),
    ("timestamp", "TIMESTAMP", "TIMESTAMP '2024-01-01' + INTERVAL (i) HOUR", "timestamp"),
    ("timestamptz", "TIMESTAMPTZ", "(TIMESTAMP '2024-01-01' + INTERVAL (i) HOUR)::TIMESTAMPTZ", "timestamp_tz"),
    ("timestamp_ns", "TIMESTAMP_NS", "(TIMESTAMP '2024-01-01' + INTERVAL (i) HOUR)::TIMESTAMP_NS", "timestamp_ns"),
    ("timestamp_ms", "TIMESTAMP_MS", "(TIMESTAMP '2024-01-01' + INTERVAL (i) HOUR)::TIMESTAMP_MS", "timestamp_ms"),
    ("timestamp_s", "TIMESTAMP_S", "(TIMESTAMP '2024-01-01' + INTERVAL (i) HOUR)::TIMESTAMP_S", "timestamp_s"),
    ("timestamptz_ns", "TIMESTAMPTZ_NS", "(TIMESTAMP '2024-01-01' + INTERVAL (i) HOUR)::TIMESTAMPTZ_NS", "timestamp_tz_ns"),
    ("interval", "INTERVAL", "INTERVAL (i) MINUTE", "interval"),
    ("uuid", "UUID", "('00000000-0000-0000-0000-' || lpad(i::VARCHAR, 12, '0'))::UUID", "uuid"),
    ("bit", "BIT", "(i % 256)::BIT", "bit"),
    ("enum", "fuzz_mood", "(['calm', 'glad', 'sad'][i % 3 + 1])::fuzz_mood", "medium_enum"),
    ("json", "JSON", "json_object('k', i, 's', 'v' || (i % 5))",
     ["'{}'", "'[]'", "'null'", "'1e308'", "'\"a\\u0000b\"'", "repeat('[', 3000) || repeat(']', 3000)", "'{\"a\": {\"b\": [1, 2.5, null]}}'", "NULL"]),
    ("list", "INTEGER[]", "[i::INTEGER, (i + 1)::INTEGER]", "int_array"),
    ("list_varchar", "VARCHAR[]", "['a' || (i % 4), NULL]", "varchar_array"),
    ("nested_list", "INTEGER[][]", "[[i::INTEGER], []]", "nested_int_array"),
    ("struct", "STRUCT(a INTEGER, b VARCHAR)", "{'a': i::INTEGER, 'b': 'x' || (i % 3)}", "struct"),
    ("struct_nested", "STRUCT(a INTEGER[], b VARCHAR[])", "{'a': [i::INTEGER], 'b': ['q']}", "struct_of_arrays"),
    ("map", "MAP(VARCHAR, INTEGER)", "MAP {'k' || (i % 3): i::INTEGER}", "map"),
    ("union", "UNION(i INTEGER, s VARCHAR)", "union_value(i := i::INTEGER)::UNION(i INTEGER, s VARCHAR)", "union"),
    ("array", "DOUBLE[3]", "[i, i * 2, i * 3]::DOUBLE[3]", "fixed_int_array"),
    ("array_nested", "VARCHAR[3][3]", "[['a', 'b', 'c'], ['d', 'e', 'f'], ['g', 'h', i::VARCHAR]]::VARCHAR[3][3]",
     "fixed_nested_varchar_array"),
    ("bignum", "BIGNUM", "(i * 1000)::BIGNUM", "bignum"),
    ("geometry", "GEOMETRY", "('POINT(' || i || ' ' || (i % 7) || ')')::GEOMETRY", "geometry"),
    ("variant", "VARIANT", "(i % 9)::VARIANT", ["1::VARIANT", "'text'::VARIANT", "[1, 2]::VARIANT", "NULL"]),
]
TYPE_BY_KEY = {t[0]: t for t in TYPES}
STRINGY = {"varchar", "blob", "json", "bit"}
SHAPES = ["typical", "empty", "nulls", "one", "extremes", "same10k", "big", "nul"]
TIER1_SHAPE_TYPES = {"integer", "double", "varchar"}


def qi(name):
    return '"' + name.replace('"', '""') + '"'


def ql(s):
    return "'" + s.replace("'", "''") + "'"


def tname(typ, shape):
    return f"f_{typ}_{shape}"


def shapes_of(typ):
    return [s for s in SHAPES if s not in ("big", "nul") or typ in STRINGY or (s == "big" and typ in ("list_varchar",))]


def type_fixture_sql(typ, shape):
    key, sqltype, expr, extremes = TYPE_BY_KEY[typ]
    t = tname(typ, shape)
    out = []
    if typ == "enum":
        out.append("CREATE TYPE IF NOT EXISTS fuzz_mood AS ENUM ('calm', 'glad', 'sad')")
    if shape == "typical":
        body = f"SELECT i AS id, CASE WHEN i % 7 = 3 THEN NULL ELSE {expr} END::{sqltype} AS x FROM range(200) r(i)"
    elif shape == "empty":
        body = f"SELECT i AS id, ({expr})::{sqltype} AS x FROM range(0) r(i)"
    elif shape == "nulls":
        body = f"SELECT i AS id, NULL::{sqltype} AS x FROM range(5) r(i)"
    elif shape == "one":
        body = f"SELECT i AS id, ({expr})::{sqltype} AS x FROM range(3, 4) r(i)"
    elif shape == "same10k":
        body = f"SELECT r.i AS id, v.x FROM range(10000) r(i), (SELECT ({expr})::{sqltype} AS x FROM (SELECT 7::BIGINT AS i)) v"
    elif shape == "extremes":
        if isinstance(extremes, str):
            body = f"SELECT row_number() OVER () - 1 AS id, {qi(extremes)} AS x FROM test_all_types()"
        else:
            rows = ", ".join(f"(({v})::{sqltype})" for v in extremes)
            body = f"SELECT row_number() OVER () - 1 AS id, v AS x FROM (VALUES {rows}) t(v)"
    elif shape == "big":
        if typ == "varchar":
            vals = ["repeat('x', 1048576)", "repeat('é', 524288)", "repeat('1', 1048576)", "'1' || repeat('0', 400)",
                    "repeat('ab,', 349525)", "'short'"]
        elif typ == "blob":
            vals = ["repeat('\\xFF\\x00'::BLOB, 524288)", "repeat('a'::BLOB, 1048576)", "'z'::BLOB"]
        elif typ == "json":
            vals = ["('[' || repeat('1,', 500000) || '1]')::JSON", "json_object('k', repeat('v', 1048576))", "'{}'::JSON"]
        elif typ == "bit":
            vals = ["repeat('1', 1048576)::BIT", "repeat('01', 524288)::BIT", "'1'::BIT"]
        else:  # list_varchar
            vals = ["[repeat('y', 1048576), 'a']", "list_transform(range(100000), lambda k: k::VARCHAR)", "[]::VARCHAR[]"]
        rows = ", ".join(f"({v})" for v in vals)
        body = f"SELECT row_number() OVER () - 1 AS id, v::{sqltype} AS x FROM (VALUES {rows}) t(v)"
    elif shape == "nul":
        if typ == "blob":
            vals = ["'\\x00'::BLOB", "'\\x00\\x00a'::BLOB", "'a\\x00'::BLOB", "''::BLOB"]
        elif typ == "json":
            vals = ["'\"\\u0000\"'::JSON", "json_object('k' || chr(0), 'v' || chr(0))", "json_array(chr(0))"]
        elif typ == "bit":
            vals = ["'0'::BIT", "'00000000'::BIT", "repeat('0', 1000)::BIT"]
        else:
            vals = ["chr(0)", "'a' || chr(0) || 'b'", "chr(0) || chr(0)", "'12' || chr(0)", "'2024-01-01' || chr(0)", "''"]
        rows = ", ".join(f"({v})" for v in vals)
        body = f"SELECT row_number() OVER () - 1 AS id, v::{sqltype} AS x FROM (VALUES {rows}) t(v)"
    else:
        raise ValueError(shape)
    out.append(f"CREATE OR REPLACE TEMP TABLE {t} AS {body}")
    return out


ODD_NAMES = ["my table", 'we"ird', "it's", "select", "Order", "ünïcödé 表", "  lead", "tab\tname", "a.b", "1starts",
             "semi;colon", "dr_profile", "x" * 300, "newline\nname", "percent%_", "back\\slash", "{curly}", "$1"]
ODD_COLUMNS = [("col with space", "INTEGER", "i % 10"), ("select", "VARCHAR", "'s' || (i % 4)"), ('quo"te', "DOUBLE", "i * 0.5"),
               ("ü列", "DATE", "DATE '2024-01-01' + i::INTEGER"), ("it's", "BOOLEAN", "i % 2 = 0"), ("UPPER", "BIGINT", "i"),
               ("upper", "BIGINT", "i * 2"), ("", "INTEGER", "1")]


def odd_fixture_sql(name):
    cols = ", ".join(f"{expr} AS {qi(c if c else 'empty_' )}" for c, _, expr in ODD_COLUMNS)
    return [f"CREATE OR REPLACE TEMP TABLE {qi(name)} AS SELECT {cols} FROM range(50) r(i)"]


WIDE_TYPES = ["i", "i * 0.5", "'w' || (i % 7)", "DATE '2024-01-01' + (i % 30)::INTEGER", "i % 2 = 0"]


def fixture_sql(key):
    kind, _, rest = key.partition(":")
    if kind == "T":
        typ, shape = rest.split(":")
        return type_fixture_sql(typ, shape)
    if kind == "A":  # every type as a column x<type>, rows of one edge shape
        out = ["CREATE TYPE IF NOT EXISTS fuzz_mood AS ENUM ('calm', 'glad', 'sad')"]
        cols = []
        for typ, *_ in TYPES:
            if rest in shapes_of(typ):
                out += [q for q in type_fixture_sql(typ, rest) if not q.startswith("CREATE TYPE")]
                cols.append(typ)
        first = tname(cols[0], rest)
        sel = ", ".join(f"{tname(c, rest)}.x AS x_{c}" for c in cols)
        joins = " ".join(f"FULL JOIN {tname(c, rest)} USING (id)" for c in cols[1:])
        out.append(f"CREATE OR REPLACE TEMP TABLE all_types_{rest} AS SELECT id, {sel} FROM {first} {joins}")
        return out
    if kind == "odd":
        return odd_fixture_sql(rest)
    if kind == "wide":
        cols = ", ".join(f"{WIDE_TYPES[k % len(WIDE_TYPES)]} AS c{k}" for k in range(1000))
        return [f"CREATE OR REPLACE TEMP TABLE wide1000 AS SELECT {cols} FROM range(50) r(i)"]
    if kind == "views":
        return type_fixture_sql("integer", "typical") + [
            "CREATE OR REPLACE TEMP VIEW fuzz_view AS SELECT * FROM f_integer_typical",
            "CREATE OR REPLACE TEMP VIEW fuzz_view2 AS SELECT id, x * 2 AS x2, 'k' || x AS k FROM fuzz_view WHERE id > 5",
            "CREATE OR REPLACE TABLE fuzz_gone AS SELECT 1 AS a",
            "CREATE OR REPLACE VIEW fuzz_stale AS SELECT * FROM fuzz_gone",
            "DROP TABLE fuzz_gone",
            "CREATE SCHEMA IF NOT EXISTS \"odd schema\"",
            "CREATE OR REPLACE TABLE \"odd schema\".\"t x\" AS SELECT range AS id, range % 3 AS g FROM range(30)",
            "CREATE OR REPLACE TABLE main.persisted AS SELECT range AS id, 'p' || range AS v FROM range(30)",
            "ATTACH IF NOT EXISTS ':memory:' AS fuzz_other",
            "CREATE OR REPLACE TABLE fuzz_other.main.elsewhere AS SELECT range AS id FROM range(10)",
        ]
    if kind == "csv":
        # {TMP} is the child's own directory
        return [
            "COPY (SELECT * FROM (VALUES (1, 'a', '2024-01-05'), (2, 'b,c', 'n/a')) t(\"Order ID\", \"Na me\", \"Order Date\")) "
            "TO '{TMP}/typical.csv' (HEADER)",
            "COPY (SELECT 1 AS a WHERE false) TO '{TMP}/empty.csv' (HEADER)",
            "COPY (SELECT repeat('x', 1048576) AS big, chr(0) AS nul) TO '{TMP}/big.csv' (HEADER)",
            "COPY (SELECT '\\xFF\\xFE\\x00'::BLOB AS b) TO '{TMP}/binary.parquet' (FORMAT parquet)",
        ] + [f"COPY (SELECT {k} AS c{k}) TO '{{TMP}}/wide{k}.csv' (HEADER)" for k in range(1)]
    raise ValueError(key)


# --------------------------------------------------------------------------------------------
# Per-function probe shapes.
#   data(T, S): SQL probes over a fixture (T its quoted name, S its name as a string literal,
#               columns id and x)
#   base: (template, args, named) -- one valid call; {CALL} is replaced by the call. Every
#         argument and named parameter is replaced in turn by each value of BAD.
#   tables: the function takes a table name (string) or a list of them: probed with odd names,
#           missing tables and views
#   pre/post: statements around each probe (settings), post always runs
# --------------------------------------------------------------------------------------------

NUM = "TRY_CAST(TRY_CAST(x AS VARCHAR) AS DOUBLE)"
DOC = "'{\"context_version\": 1, \"table\": {\"name\": \"t\", \"row_count\": 3, \"column_count\": 0, \"kind\": \"dimension\"}, \"columns\": []}'"
DOC_DBT = ("'{\"context_version\": 1, \"table\": {\"name\": \"t\", \"row_count\": 3}, \"columns\": [{\"name\": \"id\", "
           "\"declared_type\": \"INTEGER\", \"stats\": {\"null_count\": 0, \"distinct_count\": 3, \"distinct_is_exact\": true}}]}'")
DIAG = "[{'dim': 0, 'birth': 0.0, 'death': 1.0}, {'dim': 1, 'birth': 0.5, 'death': 0.75}]"
DIAG2 = "[{'dim': 1, 'birth': 0.0, 'death': 2.0}]"
CAT = ["SET dataraum_catalog = '{TMP}/catalog.sqlite'"]
UNCAT = ["RESET dataraum_catalog"]
SKETCHES = ("(SELECT 'a' AS n, dr_table_sketch(t) AS k FROM f_integer_typical t UNION ALL "
            "SELECT 'b', dr_table_sketch(u) FROM f_bigint_typical u) s")


def diag_of(col):
    return f"list({{'dim': (id % 3)::INTEGER, 'birth': 0.0, 'death': {col}}})"


def gen_agg(fn):
    return lambda T, S: [f"SELECT {fn}(x) FROM {T}", f"SELECT {fn}(COLUMNS(*)) FROM {T}"]


def gen_table(fn):
    return lambda T, S: [f"FROM {fn}({S})"]


def gen_diag(fn, extra=""):
    return lambda T, S: [f"SELECT {fn}(x{extra}) FROM {T}", f"SELECT {fn}({diag_of(NUM)}{extra}) FROM {T}"]


def gen_diag2(fn, extra=""):
    return lambda T, S: [f"SELECT {fn}(x, x{extra}) FROM {T}",
                         f"SELECT {fn}({diag_of(NUM)}, {diag_of(NUM + ' * 2')}{extra}) FROM {T}"]


SPECS = {
    "dr_version": dict(data=lambda T, S: [f"SELECT dr_version(x) FROM {T}"], base=("SELECT {CALL}", [], {})),
    "dr_macros_sql": dict(data=lambda T, S: [f"SELECT dr_macros_sql(x) FROM {T}"], base=("SELECT {CALL}", [], {})),
    "dr_functions": dict(data=lambda T, S: [f"FROM dr_functions({S})"], base=("FROM {CALL}", [], {})),
    "dr_settings": dict(data=lambda T, S: [f"FROM dr_settings({S})"], base=("FROM {CALL}", [], {})),
    "dr_metrics": dict(data=lambda T, S: [f"FROM dr_metrics({S})"], base=("FROM {CALL}", [], {})),
    "dr_metrics_reset": dict(data=lambda T, S: [f"SELECT dr_metrics_reset(x) FROM {T}"], base=("SELECT {CALL}", [], {})),
    "dr_basic_stats": dict(data=gen_agg("dr_basic_stats"), base=("SELECT {CALL} FROM f_integer_typical", ["x"], {})),
    "dr_profile": dict(data=lambda T, S: [f"SELECT dr_profile(x) FROM {T}", f"SELECT dr_profile(COLUMNS(*), 5, 3) FROM {T}",
                                          f"SELECT id % 3 AS g, dr_profile(x) FROM {T} GROUP BY g"],
                       base=("SELECT {CALL} FROM f_integer_typical", ["x", "10000", "10"], {})),
    "dr_infer_type": dict(data=lambda T, S: [f"SELECT dr_infer_type(x) FROM {T}", f"SELECT dr_infer_type(x::VARCHAR) FROM {T}"],
                          base=("SELECT {CALL} FROM f_varchar_typical", ["x", "'NA,-'", "0.9", "'.'"], {})),
    "dr_annotate": dict(data=lambda T, S: [f"SELECT dr_annotate({S}, 'x', 'VARCHAR', x::VARCHAR) FROM (FROM {T} LIMIT 30)",
                                           f"SELECT dr_annotate({S}, 'x', typeof(x), to_json({{'v': x}})::VARCHAR) FROM (FROM {T} LIMIT 30)"],
                        base=("SELECT {CALL} FROM (VALUES (1)) v(z)", ["'orders'", "'order_id'", "'BIGINT'", "'{}'", "'{}'"], {})),
    "dr_correlations": dict(data=lambda T, S: [f"SELECT dr_correlations(t) FROM {T} t",
                                               f"SELECT dr_correlations({{'a': x, 'b': x, 'id': id}}, '', 1000, 1) FROM {T}"],
                            base=("SELECT {CALL} FROM f_double_typical t", ["t", "''", "1000", "1"], {})),
    "dr_verify_dependencies": dict(
        data=lambda T, S: [f"SELECT dr_verify_dependencies(t, (SELECT to_json((dr_correlations(c, 'dependencies', 100000, 1)).dependencies) "
                           f"FROM {T} c)) FROM {T} t"],
        base=("SELECT {CALL} FROM f_integer_typical t",
              ["t", "(SELECT to_json((dr_correlations(c, 'dependencies', 100000, 1)).dependencies) FROM f_integer_typical c)", "1", "'1GB'"], {})),
    "dr_context_markdown": dict(data=lambda T, S: [f"SELECT dr_context_markdown(x) FROM {T}", f"SELECT dr_context_markdown(x::VARCHAR, 100) FROM {T}"],
                                base=("SELECT {CALL}", [DOC, "200"], {})),
    "dr_context_format": dict(data=lambda T, S: [f"SELECT dr_context_format(x::VARCHAR, 'markdown', 200) FROM {T}",
                                                 f"SELECT dr_context_format({DOC}, x::VARCHAR, 200) FROM {T}"],
                              base=("SELECT {CALL}", [DOC, "'markdown'", "200", "'main'", "'select,from'"], {})),
    "dr_context_dbt": dict(data=lambda T, S: [f"SELECT dr_context_dbt(x::VARCHAR, NULL, 'raw', 'main', NULL, 'select') FROM {T}",
                                              f"SELECT dr_context_dbt({DOC_DBT}, x::VARCHAR, x::VARCHAR, 'main', NULL, 'select') FROM {T}"],
                           base=("SELECT {CALL}", [DOC_DBT, "NULL", "'raw'", "'main'", "NULL", "'select,from'"], {})),
    "dr_table_sketch": dict(data=lambda T, S: [f"SELECT octet_length(dr_table_sketch(t)) FROM {T} t", f"SELECT dr_table_sketch({{'x': x}}, 3) FROM {T}"],
                            base=("SELECT {CALL} FROM f_integer_typical t", ["t", "10000"], {})),
    "dr_relationships": dict(
        data=lambda T, S: [f"SELECT dr_relationships(n, k) FROM (SELECT 'a' AS n, dr_table_sketch(t) AS k FROM {T} t UNION ALL "
                           f"SELECT 'b', dr_table_sketch({{'x': u.x, 'other': u.id}}) FROM {T} u)",
                           f"SELECT dr_relationships('t', x) FROM {T}"],
        base=("SELECT {CALL} FROM " + SKETCHES, ["n", "k", "0.9"], {})),
    "dr_pair_candidates": dict(
        data=lambda T, S: [f"SELECT dr_pair_candidates(n, k) FROM (SELECT 'a' AS n, dr_table_sketch(t) AS k FROM {T} t UNION ALL "
                           f"SELECT 'b', dr_table_sketch({{'x': u.x, 'other': u.id}}) FROM {T} u)",
                           f"SELECT dr_pair_candidates('t', x) FROM {T}"],
        base=("SELECT {CALL} FROM " + SKETCHES, ["n", "k"], {})),
    # state BLOBs (#15): the _state aggregates take their parent's arguments, the merges take BLOBs
    "dr_profile_state": dict(data=lambda T, S: [f"SELECT octet_length(dr_profile_state(x)) FROM {T}", f"SELECT dr_profile_state(COLUMNS(*), 5, 3) FROM {T}"],
                             base=("SELECT {CALL} FROM f_integer_typical", ["x", "10000", "10"], {})),
    "dr_profile_merge": dict(data=lambda T, S: [f"SELECT dr_profile_merge(s) FROM (SELECT dr_profile_state(x, 5) s FROM {T} GROUP BY id % 3)",
                                                f"SELECT dr_profile_merge(x) FROM {T}"],
                             base=("SELECT {CALL} FROM (SELECT dr_profile_state(x) AS s FROM f_integer_typical GROUP BY id % 3)", ["s"], {})),
    "dr_infer_state": dict(data=lambda T, S: [f"SELECT octet_length(dr_infer_state(x)) FROM {T}", f"SELECT dr_infer_state(x::VARCHAR) FROM {T}"],
                           base=("SELECT {CALL} FROM f_varchar_typical", ["x", "'NA,-'", "0.9", "'.'"], {})),
    "dr_infer_merge": dict(data=lambda T, S: [f"SELECT dr_infer_merge(s) FROM (SELECT dr_infer_state(x::VARCHAR) s FROM {T} GROUP BY id % 3)",
                                              f"SELECT dr_infer_merge(x) FROM {T}"],
                           base=("SELECT {CALL} FROM (SELECT dr_infer_state(x) AS s FROM f_varchar_typical GROUP BY id % 3)", ["s"], {})),
    "dr_correlations_state": dict(data=lambda T, S: [f"SELECT octet_length(dr_correlations_state(t)) FROM {T} t",
                                                     f"SELECT dr_correlations_state({{'a': x, 'b': x, 'id': id}}, '', 1000) FROM {T}"],
                                  base=("SELECT {CALL} FROM f_double_typical t", ["t", "''", "1000"], {})),
    "dr_correlations_merge": dict(data=lambda T, S: [f"SELECT dr_correlations_merge(s) FROM (SELECT dr_correlations_state(t) s FROM {T} t GROUP BY id % 3)",
                                                     f"SELECT dr_correlations_merge(x, 2) FROM {T}"],
                                  base=("SELECT {CALL} FROM (SELECT dr_correlations_state(t) AS s FROM f_double_typical t GROUP BY id % 3)", ["s", "2"], {})),
    "dr_state_combine": dict(data=lambda T, S: [f"SELECT dr_state_info(dr_state_combine(s)) FROM (SELECT dr_profile_state(x) s FROM {T} GROUP BY id % 3)",
                                                f"SELECT dr_state_combine(x) FROM {T}"],
                             base=("SELECT {CALL} FROM (SELECT dr_infer_state(x) AS s FROM f_varchar_typical GROUP BY id % 3)", ["s"], {})),
    "dr_state_info": dict(data=lambda T, S: [f"SELECT dr_state_info(s) FROM (SELECT dr_correlations_state(t) s FROM {T} t)",
                                             f"SELECT dr_state_info(x) FROM {T}"],
                          base=("SELECT {CALL} FROM (SELECT dr_profile_state(x) AS s FROM f_integer_typical)", ["s"], {})),
    # option checks of the table macros: their message names whatever macro and option they are given
    "dr_check_integer": dict(data=lambda T, S: [f"SELECT dr_check_integer(x, 'dr_check_integer', 'x', 0, 100) FROM {T}"],
                             base=("SELECT {CALL}", ["5", "'dr_check_integer'", "'o'", "0", "10"], {}), accept=["must be a whole number"],
                             mutate=[0, 1, 2]),  # lo and hi are constants of the calling macro
    "dr_check_double": dict(data=lambda T, S: [f"SELECT dr_check_double(x, 'dr_check_double', 'x') FROM {T}"],
                            base=("SELECT {CALL}", ["'0.5'", "'dr_check_double'", "'o'"], {}), accept=["must be a number"]),
    "dr_check_boolean": dict(data=lambda T, S: [f"SELECT dr_check_boolean(x, 'dr_check_boolean', 'x') FROM {T}"],
                             base=("SELECT {CALL}", ["true", "'dr_check_boolean'", "'o'"], {}), accept=["must be true or false"]),
    "dr_catalog_store": dict(data=lambda T, S: [f"SELECT dr_catalog_store({S}, x::VARCHAR, '{{TMP}}/catalog.sqlite') FROM (FROM {T} LIMIT 20)"],
                             base=("SELECT {CALL}", ["'t'", "'{\"context_version\": 1}'", "'{TMP}/catalog.sqlite'"], {})),
    "dr_context_history": dict(data=lambda T, S: [f"FROM dr_context_history({S})"], tables=True, pre=CAT, post=UNCAT,
                               base=("FROM {CALL}", ["'t'"], {})),
    "dr_context_diff": dict(data=lambda T, S: [f"FROM dr_context_diff({S})"], tables=True, pre=CAT, post=UNCAT,
                            base=("FROM {CALL}", ["'t'"], {})),
    "dr_persistence": dict(
        data=lambda T, S: [f"SELECT dr_persistence(x) FROM {T}", f"SELECT dr_persistence([{NUM}, id::DOUBLE]) FROM {T}",
                           f"SELECT dr_persistence({{'a': x, 'b': id}}) FROM {T}"],
        base=("SELECT {CALL} FROM f_double_typical",
              ["[x, id::DOUBLE]", "1", "NULL", "'euclidean'", "true", "NULL", "2", "1", "'1GB'", "false", "NULL"], {})),
    # the interruptible path: a job aggregate's ticket, awaited from a dr_ticks() scan
    "dr_persistence_job": dict(
        data=lambda T, S: [f"SELECT dr_persistence_job(x) FROM {T}", f"SELECT dr_persistence_job([{NUM}, id::DOUBLE]) FROM {T}",
                           f"SELECT len(d) FROM (SELECT dr_persistence_await(j.ticket, k.scan) AS d FROM "
                           f"(SELECT dr_persistence_job({{'a': x, 'b': id}}) AS ticket FROM {T}) j, dr_ticks() k) WHERE d IS NOT NULL LIMIT 1"],
        base=("SELECT {CALL} FROM f_double_typical",
              ["[x, id::DOUBLE]", "1", "NULL", "'euclidean'", "true", "NULL", "2", "1", "'1GB'", "false", "NULL"], {})),
    "dr_persistence_await": dict(
        data=lambda T, S: [f"SELECT dr_persistence_await(x, x) FROM {T}",
                           f"SELECT len(d) FROM (SELECT dr_persistence_await(j.ticket, k.scan) AS d FROM "
                           f"(SELECT dr_persistence_job([{NUM}, id::DOUBLE]) AS ticket FROM {T}) j, dr_ticks() k) WHERE d IS NOT NULL LIMIT 1"],
        base=("SELECT len({CALL}) FROM (SELECT dr_persistence_job([x, id::DOUBLE]) AS ticket FROM f_double_typical) j, dr_ticks() k",
              ["j.ticket", "k.scan"], {})),
    "dr_annotate_job": dict(data=lambda T, S: [f"SELECT dr_annotate_job({S}, 'x', 'VARCHAR', x::VARCHAR) FROM (FROM {T} LIMIT 30)"],
                            base=("SELECT {CALL} FROM (VALUES (1)) v(z)", ["'orders'", "'order_id'", "'BIGINT'", "'{}'", "'{}'"], {})),
    "dr_annotate_await": dict(
        data=lambda T, S: [f"SELECT dr_annotate_await(x, x) FROM {T}",
                           f"SELECT len(a) FROM (SELECT dr_annotate_await(j.ticket, k.scan) AS a FROM (SELECT dr_annotate_job({S}, 'x', "
                           f"typeof(x), to_json({{'v': x}})::VARCHAR) AS ticket FROM (FROM {T} LIMIT 30)) j, dr_ticks() k) WHERE a IS NOT NULL LIMIT 1"],
        base=("SELECT len({CALL}) FROM (SELECT dr_annotate_job('orders', 'order_id', 'BIGINT', '{}') AS ticket) j, dr_ticks() k",
              ["j.ticket", "k.scan"], {})),
    "dr_ticks": dict(data=lambda T, S: [f"SELECT count(*) FROM dr_ticks()", f"SELECT count(*) FROM {T}, dr_ticks()"],
                     base=("SELECT count(*) FROM {CALL}", [], {})),
    "dr_persistence_distances": dict(
        data=lambda T, S: [f"SELECT dr_persistence_distances(id, id + 1, {NUM}) FROM {T}",
                           f"SELECT dr_persistence_distances(id % 5, (id + 1) % 5, x) FROM {T}"],
        base=("SELECT {CALL} FROM (VALUES (0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0), (0, 2, 1.5), (1, 3, 1.5)) t(i, j, d)",
              ["i", "j", "d", "1", "NULL", "'euclidean'", "true", "NULL", "2", "1", "'1GB'", "false", "NULL"], {})),
    "dr_betti_numbers": dict(data=gen_diag("dr_betti_numbers", ", 0.1"), base=("SELECT {CALL}", [DIAG, "0.5"], {})),
    "dr_persistent_entropy": dict(data=gen_diag("dr_persistent_entropy"), base=("SELECT {CALL}", [DIAG], {})),
    "dr_bottleneck_distance": dict(data=gen_diag2("dr_bottleneck_distance"), base=("SELECT {CALL}", [DIAG, DIAG2, "1"], {})),
    "dr_wasserstein_distance": dict(data=gen_diag2("dr_wasserstein_distance", ", 2"), base=("SELECT {CALL}", [DIAG, DIAG2, "2", "1"], {})),
    "dr_diagram_summary": dict(data=gen_diag("dr_diagram_summary"), base=("SELECT {CALL}", [DIAG], {})),
    "dr_diagram_svg": dict(data=gen_diag("dr_diagram_svg", ", true"), base=("SELECT {CALL}", [DIAG, "true"], {})),
    "dr_selftest_panic": dict(selftest=["SELECT dr_selftest_panic('scalar')", "SELECT dr_selftest_panic('error')"]),
    "dr_selftest_panic_agg": dict(selftest=["SELECT dr_selftest_panic_agg(x, 'update') FROM range(10) t(x)",
                                            "SELECT dr_selftest_panic_agg(x, 'finalize') FROM range(10) t(x)",
                                            "SELECT dr_selftest_panic_agg(x, 'combine') FROM range(3000000) t(x)"]),
    "dr_selftest_panic_table": dict(selftest=["FROM dr_selftest_panic_table('bind')"]),
    "basic_stats": dict(data=gen_table("basic_stats"), tables=True, base=("FROM {CALL}", ["'f_integer_typical'"], {})),
    "profile_columns": dict(data=lambda T, S: [f"FROM profile_columns({S})", f"FROM profile_columns({S}, exact_limit := 2, top_k := 1)"],
                            tables=True, base=("FROM {CALL}", ["'f_integer_typical'"], {"exact_limit": "NULL", "top_k": "10"})),
    "profile_query": dict(data=lambda T, S: [f"FROM profile_query({ql('SELECT * FROM ' + T)})", f"FROM profile_query({ql('SELECT x FROM ' + T)}, exact_limit := 1)"],
                          base=("FROM {CALL}", ["'SELECT * FROM f_integer_typical'"], {"exact_limit": "NULL"})),
    "dr_cast_expression": dict(data=lambda T, S: [f"SELECT dr_cast_expression('x', dr_infer_type(x::VARCHAR)) FROM {T}",
                                                  f"SELECT dr_cast_expression(x::VARCHAR, dr_infer_type(x::VARCHAR)) FROM {T} GROUP BY x LIMIT 5"],
                               base=("SELECT {CALL}", ["'price'", "(SELECT dr_infer_type(x) FROM (VALUES ('1,234.50'), ('99.00')) t(x))"], {})),
    "infer_types": dict(data=gen_table("infer_types"), tables=True,
                        base=("FROM {CALL}", ["'f_varchar_typical'"], {"null_tokens": "NULL", "min_parse_rate": "NULL", "decimal_separator": "NULL"})),
    "typed_select": dict(data=gen_table("typed_select"), tables=True, base=("FROM {CALL}", ["'f_varchar_typical'"], {})),
    "stage_csv": dict(data=lambda T, S: [f"COPY (FROM {T}) TO '{{TMP}}/{T.strip(chr(34))}.csv' (HEADER)",
                                         f"FROM stage_csv('{{TMP}}/{T.strip(chr(34))}.csv')"],
                      base=("FROM {CALL}", ["'{TMP}/typical.csv'"], {}), needs=["csv:"]),
    "dr_annotation_descriptor": dict(
        data=lambda T, S: [f"SELECT dr_annotation_descriptor(p, i) FROM (SELECT 1 AS ordinal, * FROM profile_columns({S})) p "
                           f"JOIN infer_types({S}) i USING (column_name)"],
        base=("SELECT {CALL} FROM (SELECT 1 AS ordinal, * FROM profile_columns('f_integer_typical')) p "
              "JOIN infer_types('f_integer_typical') i USING (column_name)", ["p", "i"], {})),
    "dr_llm_options": dict(data=lambda T, S: [f"SELECT dr_llm_options(x) FROM {T}"], base=("SELECT {CALL}", [], {})),
    "annotate_columns": dict(data=gen_table("annotate_columns"), tables=True, base=("FROM {CALL}", ["'f_integer_typical'"], {})),
    "dr_plural": dict(data=lambda T, S: [f"SELECT dr_plural(x, 'key') FROM {T}", f"SELECT dr_plural(id, x::VARCHAR) FROM {T}"],
                      base=("SELECT {CALL}", ["3", "'column'"], {})),
    "dr_table_summary": dict(
        data=lambda T, S: [f"SELECT dr_table_summary({S}, list({{'column_name': x::VARCHAR, 'semantic_role': x::VARCHAR, "
                           f"'entity_type': x::VARCHAR, 'confidence': {NUM}}})) FROM {T}",
                           f"SELECT dr_table_summary(x::VARCHAR, NULL) FROM {T}"],
        base=("SELECT {CALL}", ["'t'", "[{'column_name': 'id', 'semantic_role': 'key', 'entity_type': 'order', 'confidence': 0.9}]"], {})),
    "annotate_table": dict(data=gen_table("annotate_table"), tables=True, base=("FROM {CALL}", ["'f_integer_typical'"], {})),
    "column_correlations": dict(data=lambda T, S: [f"FROM column_correlations({S})", f"FROM column_correlations({S}, methods := 'kendall,theils_u', sample_size := 7)"],
                                tables=True, base=("FROM {CALL}", ["'f_double_typical'"], {"methods": "'pearson,spearman'", "sample_size": "1000"})),
    "profile_states": dict(data=lambda T, S: [f"SELECT column_name, octet_length(state) FROM profile_states({S})",
                                              f"FROM profile_states({S}, exact_limit := 2, top_k := 1)"],
                           tables=True, base=("FROM {CALL}", ["'f_integer_typical'"], {"exact_limit": "NULL", "top_k": "10"})),
    "profile_merged": dict(data=lambda T, S: [[f"CREATE OR REPLACE TEMP TABLE fz_st AS FROM profile_states({S}, exact_limit := 3)",
                                               "FROM profile_merged('fz_st')"], f"FROM profile_merged({S})"],
                           tables=True, pre=["CREATE OR REPLACE TEMP TABLE fz_states AS FROM profile_states('f_integer_typical')"],
                           base=("FROM {CALL}", ["'fz_states'"], {})),
    "infer_states": dict(data=gen_table("infer_states"), tables=True,
                         base=("FROM {CALL}", ["'f_varchar_typical'"], {"null_tokens": "NULL", "min_parse_rate": "NULL", "decimal_separator": "NULL"})),
    "infer_merged": dict(data=lambda T, S: [[f"CREATE OR REPLACE TEMP TABLE fz_st AS FROM infer_states({S})",
                                             "FROM infer_merged('fz_st')"], f"FROM infer_merged({S})"],
                         tables=True, pre=["CREATE OR REPLACE TEMP TABLE fz_states AS FROM infer_states('f_varchar_typical')"],
                         base=("FROM {CALL}", ["'fz_states'"], {})),
    "correlation_states": dict(data=lambda T, S: [f"SELECT octet_length(state) FROM correlation_states({S})",
                                                  f"FROM correlation_states({S}, methods := 'kendall,theils_u', sample_size := 7)"],
                               tables=True, base=("FROM {CALL}", ["'f_double_typical'"], {"methods": "'pearson,spearman'", "sample_size": "1000"})),
    "correlations_merged": dict(data=lambda T, S: [[f"CREATE OR REPLACE TEMP TABLE fz_st AS FROM correlation_states({S})",
                                                    "FROM correlations_merged('fz_st')"], f"FROM correlations_merged({S})"],
                                tables=True, pre=["CREATE OR REPLACE TEMP TABLE fz_states AS FROM correlation_states('f_double_typical')"],
                                base=("FROM {CALL}", ["'fz_states'"], {})),
    "column_dependencies": dict(data=gen_table("column_dependencies"), tables=True, base=("FROM {CALL}", ["'f_integer_typical'"], {})),
    "persistence_diagram": dict(
        data=lambda T, S: [f"FROM persistence_diagram({S})", f"FROM persistence_diagram({S}, max_dim := 2, metric := 'manhattan', standardize := false)"],
        tables=True, base=("FROM {CALL}", ["'f_double_typical'"], {"max_dim": "1", "threshold": "NULL", "metric": "'euclidean'", "standardize": "true",
                                                                   "sample": "NULL", "modulus": "2", "dedup": "false", "collapse": "NULL"})),
    "dr_sketch_sql": dict(data=lambda T, S: [f"SELECT dr_sketch_sql([{S}, {S}])", f"SELECT dr_sketch_sql([x::VARCHAR]) FROM {T}"], tables="list",
                          base=("SELECT {CALL}", ["['a', 'b']"], {"optional": "false"})),
    "table_relationships": dict(data=lambda T, S: [f"FROM table_relationships([{S}, 'f_integer_typical'])", f"FROM table_relationships([{S}, {S}])"],
                                tables="list", base=("FROM {CALL}", ["['f_integer_typical', 'f_bigint_typical']"], {"min_containment": "0.9"})),
    "join_paths": dict(data=lambda T, S: [f"FROM join_paths([{S}, 'f_integer_typical'])"], tables="list",
                       base=("FROM {CALL}", ["['f_integer_typical', 'f_bigint_typical']"], {"min_containment": "0.9"})),
    "dr_quality_flags": dict(
        data=lambda T, S: [f"SELECT p.column_name, dr_quality_flags(p, i) FROM profile_columns({S}) p JOIN infer_types({S}) i USING (column_name)"],
        base=("SELECT {CALL} FROM profile_columns('f_varchar_typical') p JOIN infer_types('f_varchar_typical') i USING (column_name)", ["p", "i"], {})),
    "table_context": dict(data=lambda T, S: [f"SELECT table_context({S})", f"SELECT table_context({S}, format := 'markdown', topology := false, max_tokens := 50)"],
                          tables=True, base=("SELECT {CALL}", ["'f_integer_typical'"],
                                             {"format": "'json'", "max_tokens": "2000", "topology": "true", "topology_sample": "300",
                                              "related": "NULL", "detail_columns": "100"})),
    "table_context_markdown": dict(data=lambda T, S: [f"SELECT table_context_markdown({S}, max_tokens := 300)"],
                                   tables=True, base=("SELECT {CALL}", ["'f_integer_typical'"], {"max_tokens": "2000"})),
    "dbt_sources": dict(data=lambda T, S: [f"SELECT dbt_sources([{S}])", f"SELECT dbt_sources([{S}, 'f_integer_typical'], source_name := 'raw')"],
                        tables="list", base=("SELECT {CALL}", ["['f_integer_typical']"], {"source_name": "'raw'", "schema": "'main'", "database": "NULL"})),
    "context_history": dict(data=lambda T, S: [[f"SELECT table_context({S}, topology := false) IS NOT NULL", f"FROM context_history({S})"]],
                            tables=True, pre=CAT, post=UNCAT, base=("FROM {CALL}", ["'f_integer_typical'"], {})),
    "context_diff": dict(data=lambda T, S: [[f"SELECT table_context({S}, topology := false) IS NOT NULL", f"FROM context_diff({S})"]],
                         tables=True, pre=CAT, post=UNCAT, base=("FROM {CALL}", ["'f_integer_typical'"], {})),
}

# Option values that are negative, zero, huge, of the wrong type, unknown words, malformed JSON,
# blobs and lists.
BAD = ["NULL", "-1", "0", "1", "-9223372036854775808", "9223372036854775807", "1000000000000000000", "1e18", "'nan'::DOUBLE",
       "'inf'::DOUBLE", "-1.5", "0.5", "''", "'bogus'", "'-1'", "'{'", "'{\"a\":'", "'[]'", "'null'", "'{}'", "'1e999'",
       "'\\x00\\xFF'::BLOB", "true", "[1, 2, 3]", "{'a': 1}", "DATE '2024-01-01'", "'pearson,bogus'", "repeat('x', 100000)",
       "chr(0)", "[]::INTEGER[]", "'1 GB'", "'99999999999 TB'", "'{\"context_version\": \"x\", \"columns\": 5}'"]

# The table macros run whole pipelines per probe: they get the shorter list.
CORE_BAD = ["NULL", "-1", "0", "1000000000000000000", "'nan'::DOUBLE", "0.5", "''", "'bogus'", "'{'", "'\\x00\\xFF'::BLOB", "true",
            "[1, 2, 3]", "{'a': 1}", "repeat('x', 100000)", "chr(0)"]


def call_sql(template, fn, args, named):
    parts = list(args) + [f"{k} := {v}" for k, v in named.items()]
    return template.replace("{CALL}", f"{fn}({', '.join(parts)})")


def required_arity(params):
    head = params.split("[")[0]
    return len([p for p in head.split(",") if p.strip() and ":=" not in p])


def random_blobs(rng, n):
    out = []
    for _ in range(n):
        k = rng.choice([0, 1, 2, 3, 4, 7, 8, 9, 16, 33, 64, 257, 4096])
        out.append("'" + "".join(f"\\x{rng.randrange(256):02X}" for _ in range(k)) + "'::BLOB")
    return out


def sketch_mutants(rng):
    """Valid sketches cut short or with bytes overwritten (SQL over a real dr_table_sketch)."""
    src = "(SELECT dr_table_sketch(t) FROM f_integer_typical t)"
    out = []
    for n in [0, 1, 4, 8, 12, 16, 24, 32, 64, 100, 200, 500]:
        out.append(f"{src}[1:{n}]")
    for _ in range(24):
        pos = rng.randrange(1, 600)
        byte = rng.choice(["\\xFF", "\\x00", "\\x7F", "\\x80", "\\xFE"])
        width = rng.choice([1, 2, 4, 8])
        out.append(f"{src}[1:{pos - 1}] || '{byte * width}'::BLOB || {src}[{pos + width}:]")
    out.append(f"{src} || {src}")
    out.append(f"{src} || '\\x00'::BLOB")
    return out


def make_probes(functions, settings, seed):
    """Returns (tier1, tier2, missing): probe dicts and functions without probes."""
    rng = random.Random(seed)
    tier1, tier2, missing = [], [], []
    names = {f[0] for f in functions}
    pid = [0]

    def add(tier, cat, fn, sql, needs=(), pre=(), post=(), expect_error=False, accept=()):
        pid[0] += 1
        accept = list(accept) + SPECS.get(fn, {}).get("accept", [])
        tier.append(dict(id=pid[0], cat=cat, fn=fn, sql=sql if isinstance(sql, list) else [sql], needs=list(needs),
                         pre=list(pre), post=list(post), expect_error=expect_error, accept=list(accept)))

    base_needs = ["T:integer:typical", "T:bigint:typical", "T:double:typical", "T:varchar:typical"]
    for fn, ftype, params, _ in functions:
        spec = SPECS.get(fn)
        if spec is None:
            missing.append(fn)
            continue
        pre, post = spec.get("pre", []), spec.get("post", [])
        extra = spec.get("needs", [])
        if "selftest" in spec:
            for sql in spec["selftest"]:
                add(tier1, "selftest", fn, sql, expect_error=True)
            continue
        # generic: every argument NULL, no arguments, too many arguments
        template, args, named = spec["base"]
        nreq = required_arity(params) if ftype != "table_macro" and ftype != "macro" else len(args)
        add(tier1, "generic", fn, call_sql(template, fn, args, named), base_needs + extra, pre, post)
        add(tier1, "generic", fn, call_sql(template, fn, ["NULL"] * len(args), {}), base_needs + extra, pre, post)
        add(tier1, "generic", fn, call_sql(template, fn, ["NULL"] * max(nreq, 1), {}), base_needs + extra, pre, post)
        add(tier1, "generic", fn, call_sql(template, fn, [], {}), base_needs + extra, pre, post)
        add(tier1, "generic", fn, call_sql(template, fn, list(args) + ["1", "2", "3"], named), base_needs + extra, pre, post)
        # bad option values in every position
        bad = CORE_BAD if ftype in ("macro", "table_macro") else BAD
        for pos in spec.get("mutate", range(len(args))):
            for v in bad:
                a = list(args)
                a[pos] = v
                add(tier1, "options", fn, call_sql(template, fn, a, named), base_needs + extra, pre, post)
        for k in named:
            for v in bad:
                n = dict(named)
                n[k] = v
                add(tier1, "options", fn, call_sql(template, fn, args, n), base_needs + extra, pre, post)
        # names: odd, missing, views, other schemas, other databases
        tables = spec.get("tables")
        if tables:
            targets = [(n, [f"odd:{n}"], ()) for n in ODD_NAMES]
            targets += [(n, ["views:"], accept) for n, accept in [
                ("fuzz_view", ()), ("fuzz_view2", ()), ("fuzz_stale", ("fuzz_gone",)), ("odd schema.t x", ("odd schema", "t x")),
                ('"odd schema"."t x"', ()), ("main.persisted", ()), ("temp.main.fuzz_view", ()), ("fuzz_other.main.elsewhere", ()),
                ("fuzz_other.elsewhere", ()), ("no_such_table", ("no_such_table",)), ("main.no_such", ("no_such",)),
                ("nosuchschema.t", ("nosuchschema",)), ("nodb.main.t", ("nodb",)), ("", ()), (" ", ()), ("dr_functions()", ()),
                ("range(10)", ()), ("f_integer_typical; DROP TABLE f_integer_typical", ()), ("information_schema.tables", ()),
                ("duckdb_settings()", ())]]
            for name, needs, accept in targets:
                lit = ql(name)
                if tables == "list":
                    for arg in (f"[{lit}, 'f_integer_typical']", f"[{lit}]"):
                        add(tier1, "names", fn, call_sql(template, fn, [arg] + list(args[1:]), {}),
                            list(needs) + base_needs + extra, pre, post, accept=accept)
                else:
                    add(tier1, "names", fn, call_sql(template, fn, [lit] + list(args[1:]), {}), list(needs) + base_needs + extra,
                        pre, post, accept=accept)
            if tables == "list":
                for arg in ["[]::VARCHAR[]", "[NULL]::VARCHAR[]", "['f_integer_typical', 'f_integer_typical']",
                            "['f_integer_typical', NULL]", "'f_integer_typical'", "[1, 2]", "list_transform(range(40), lambda k: 'f_integer_typical')",
                            "['f_integer_typical', 'wide1000']", "['fuzz_view', 'f_integer_typical', 'main.persisted']"]:
                    add(tier1, "names", fn, call_sql(template, fn, [arg] + list(args[1:]), {}), base_needs + extra + ["views:", "wide:"], pre, post)
            # the 1,000-column table
            first = "['wide1000', 'f_integer_typical']" if tables == "list" else "'wide1000'"
            add(tier1, "wide", fn, call_sql(template, fn, [first] + list(args[1:]), {}), ["wide:"] + base_needs + extra, pre, post)
        # every type x edge data. A function that reads whole tables first gets one table per edge
        # shape holding every type as a column (tier 1); its one-type tables go to tier 2.
        if tables:
            for shape in SHAPES:
                t = f"all_types_{shape}"
                for sql in spec["data"](qi(t), ql(t))[:1]:
                    add(tier1, "alltypes", fn, sql, [f"A:{shape}"] + base_needs + extra, pre, post)
        for typ, *_ in TYPES:
            for shape in shapes_of(typ):
                t = tname(typ, shape)
                for sql in spec["data"](qi(t), ql(t)):
                    tier = tier1 if typ in TIER1_SHAPE_TYPES or (shape == "typical" and not tables) else tier2
                    add(tier, "types" if shape == "typical" else "edge:" + shape, fn, sql, [f"T:{typ}:{shape}"] + base_needs + extra, pre, post)

    # the wide table through the row aggregates
    for fn, sql in [("dr_profile", "SELECT dr_profile(COLUMNS(*)) FROM wide1000"), ("dr_correlations", "SELECT len((dr_correlations(t)).correlations) FROM wide1000 t"),
                    ("dr_table_sketch", "SELECT octet_length(dr_table_sketch(t)) FROM wide1000 t"),
                    ("dr_persistence", "SELECT dr_persistence(t) FROM wide1000 t"), ("dr_infer_type", "SELECT dr_infer_type(COLUMNS(*)::VARCHAR) FROM wide1000")]:
        if fn in names:
            add(tier1, "wide", fn, sql, ["wide:"])
    # random blobs and damaged sketches where sketches, JSON documents and diagrams are expected
    blobs = random_blobs(rng, 40)
    mutants = sketch_mutants(rng)
    for b in blobs + mutants:
        add(tier1, "blobs", "dr_relationships", f"SELECT dr_relationships(n, k) FROM (SELECT 'a' AS n, {b} AS k UNION ALL "
            f"SELECT 'b', dr_table_sketch(t) FROM f_integer_typical t)", base_needs)
        add(tier1, "blobs", "dr_relationships", f"SELECT dr_relationships('only', {b})", base_needs)
        if "dr_pair_candidates" in names:
            add(tier1, "blobs", "dr_pair_candidates", f"SELECT dr_pair_candidates(n, k) FROM (SELECT 'a' AS n, {b} AS k UNION ALL "
                f"SELECT 'b', dr_table_sketch(t) FROM f_integer_typical t)", base_needs)
    # random blobs and damaged states where state BLOBs are expected
    state_src = "(SELECT dr_profile_state(x, 5) FROM f_integer_typical)"
    state_mutants = [f"{state_src}[1:{n}]" for n in [0, 4, 6, 7, 8, 16, 20, 40, 100]]
    for _ in range(16):
        pos = rng.randrange(1, 300)
        byte = rng.choice(["\\xFF", "\\x00", "\\x7F", "\\x80", "\\xFE"])
        state_mutants.append(f"{state_src}[1:{pos - 1}] || '{byte}'::BLOB || {state_src}[{pos + 1}:]")
    state_mutants += [f"{state_src} || {state_src}", f"'DRST'::BLOB || {state_src}"]
    for b in blobs[:20] + state_mutants:
        for fn in ("dr_profile_merge", "dr_infer_merge", "dr_correlations_merge", "dr_state_combine", "dr_state_info"):
            if fn in names:
                add(tier1, "blobs", fn, f"SELECT {fn}({b})")
    for b in blobs[:15]:
        for fn, sql in [("dr_context_markdown", f"SELECT dr_context_markdown({b}::VARCHAR)"),
                        ("dr_context_format", f"SELECT dr_context_format(TRY_CAST({b} AS VARCHAR), 'json', 100)"),
                        ("dr_context_dbt", f"SELECT dr_context_dbt({DOC_DBT}, TRY_CAST({b} AS VARCHAR), 'raw', 'main', NULL, NULL)"),
                        ("dr_catalog_store", f"SELECT dr_catalog_store('t', TRY_CAST({b} AS VARCHAR), '{{TMP}}/catalog.sqlite')"),
                        ("dr_bottleneck_distance", f"SELECT dr_bottleneck_distance({b}, {DIAG})"),
                        ("dr_annotate", f"SELECT dr_annotate('t', 'c', 'BIGINT', TRY_CAST({b} AS VARCHAR))")]:
            add(tier1, "blobs", fn, sql)
    # malformed and hostile JSON documents
    docs = ["'{'", "'[]'", "'null'", "'1'", "'\"x\"'", "'{\"context_version\": 99}'", "'{\"context_version\": 1}'",
            "'{\"context_version\": 1, \"columns\": {}}'", "'{\"context_version\": 1, \"columns\": [1, \"a\", null]}'",
            "'{\"context_version\": 1, \"table\": {\"row_count\": -5, \"name\": 7}, \"columns\": [{\"name\": null}]}'",
            "'{\"context_version\": 1, \"table\": {\"row_count\": 1e308}, \"columns\": [{\"name\": \"c\", \"stats\": {\"null_count\": -1, \"distinct_count\": 1e400}}]}'",
            "repeat('[', 100000) || repeat(']', 100000)", "'{\"a\": ' || repeat('{\"a\": ', 5000) || '1' || repeat('}', 5001)",
            "'{\"context_version\": 1, \"columns\": [' || repeat('{\"name\": \"c\"},', 20000) || '{\"name\": \"d\"}]}'",
            "'{\"context_version\": 1, \"table\": {\"name\": \"' || repeat('n', 1000000) || '\"}, \"columns\": []}'",
            "'{\"context_version\": 1, \"table\": {\"name\": \"t\"}, \"columns\": [{\"name\": \"\\u0000\", \"declared_type\": \"\\ud800\"}]}'"]
    for d in docs:
        for fn, sql in [("dr_context_markdown", f"SELECT dr_context_markdown({d}, 100)"),
                        ("dr_context_format", f"SELECT dr_context_format({d}, 'yaml', 100)"),
                        ("dr_context_format", f"SELECT dr_context_format({d}, 'markdown', 5, 'main', 'select')"),
                        ("dr_context_dbt", f"SELECT dr_context_dbt({d}, NULL, 'raw', 'main', NULL, 'select')"),
                        ("dr_context_dbt", f"SELECT dr_context_dbt({DOC_DBT}, {d}, 'raw', 'main', NULL, 'select')"),
                        ("dr_catalog_store", f"SELECT dr_catalog_store('t', {d}, '{{TMP}}/catalog.sqlite')"),
                        ("dr_annotate", f"SELECT dr_annotate('t', 'c', 'BIGINT', {d}, {d})"),
                        ("dr_verify_dependencies", f"SELECT dr_verify_dependencies(t, {d}) FROM f_integer_typical t")]:
            if fn in names:
                add(tier1, "json", fn, sql, base_needs)
    # hostile persistence diagrams
    diags = ["[]", "[{'dim': -1, 'birth': 0.0, 'death': 1.0}]", "[{'dim': 2147483647, 'birth': 0.0, 'death': 1.0}]",
             "[{'dim': 0, 'birth': 'nan'::DOUBLE, 'death': 'nan'::DOUBLE}]", "[{'dim': 0, 'birth': '-inf'::DOUBLE, 'death': 'inf'::DOUBLE}]",
             "[{'dim': 0, 'birth': 2.0, 'death': 1.0}]", "[{'dim': 0, 'birth': 1.7e308, 'death': -1.7e308}]",
             "[{'dim': 0, 'birth': 5e-324, 'death': 1e-323}]", "[NULL, {'dim': NULL, 'birth': NULL, 'death': NULL}]",
             "list_transform(range(20000), lambda k: {'dim': (k % 3)::INTEGER, 'birth': k::DOUBLE, 'death': (k + 1 + k % 17)::DOUBLE})",
             "list_transform(range(3000), lambda k: {'dim': 1, 'birth': 0.0, 'death': 'inf'::DOUBLE})",
             "[{'dim': 0, 'birth': 0, 'death': 1}]", "[{'birth': 0.0, 'death': 1.0}]", "[{'dim': 0, 'birth': 0.0, 'death': 1.0, 'extra': 'x'}]",
             "[{'dim': '0', 'birth': 'a', 'death': 'b'}]", "[[0, 0, 1]]", "[{'dim': 0, 'birth': 0.0, 'death': 1.0}]::STRUCT(dim HUGEINT, birth FLOAT, death DECIMAL(38,10))[]"]
    for d in diags:
        for fn, sql in [("dr_betti_numbers", f"SELECT dr_betti_numbers({d}, 0.1)"), ("dr_persistent_entropy", f"SELECT dr_persistent_entropy({d})"),
                        ("dr_diagram_summary", f"SELECT dr_diagram_summary({d})"), ("dr_diagram_svg", f"SELECT dr_diagram_svg({d}, false)"),
                        ("dr_bottleneck_distance", f"SELECT dr_bottleneck_distance({d}, {d}, 0)"),
                        ("dr_bottleneck_distance", f"SELECT dr_bottleneck_distance({d}, {DIAG})"),
                        ("dr_wasserstein_distance", f"SELECT dr_wasserstein_distance({d}, {DIAG2}, 1)"),
                        ("dr_wasserstein_distance", f"SELECT dr_wasserstein_distance({DIAG}, {d}, 0.5, 1)")]:
            add(tier1, "diagrams", fn, sql)
    # point clouds that stress persistence: duplicates, NaN, huge dims, single points
    clouds = ["SELECT [1.0, 1.0] AS p FROM range(500)", "SELECT ['nan'::DOUBLE, 1.0] AS p FROM range(50)",
              "SELECT [1.7e308, -1.7e308] AS p FROM range(30)", "SELECT list_transform(range(2000), lambda k: k::DOUBLE) AS p FROM range(5)",
              "SELECT [range::DOUBLE] AS p FROM range(1)", "SELECT []::DOUBLE[] AS p FROM range(10)",
              "SELECT CASE WHEN range % 2 = 0 THEN [1.0] ELSE [1.0, 2.0] END AS p FROM range(10)",
              # deterministic (a random cloud made a probe's run time vary from run to run)
              "SELECT [(hash(range) % 10007) / 10007.0, (hash(range * 7 + 1) % 10007) / 10007.0, (hash(range * 13 + 5) % 10007) / 10007.0] AS p FROM range(800)"]
    for c in clouds:
        # max_dim 3 samples 200 points: H3 of all 800 is a legitimate 35 s job, longer than PROBE_TIMEOUT on a busy machine
        for opts in ["", ", 2", ", 3, NULL, 'euclidean', true, 200", ", 1, NULL, 'euclidean', true, 1000000", ", 1, 0.0", ", 1, -1.0", ", 1, NULL, 'cosine'", ", 1, NULL, 'bogus'",
                     ", 1, NULL, 'euclidean', true, 0", ", 1, NULL, 'euclidean', true, NULL, 4", ", 1, NULL, 'euclidean', true, NULL, 2, 1, '1KB'",
                     ", 30", ", 2, NULL, 'euclidean', false, NULL, 2, 1, '1GB', true, true"]:
            add(tier1, "clouds", "dr_persistence", f"SELECT dr_persistence(p{opts}) FROM ({c})")
    # settings: bad values, then a function that reads them
    consumers = {"dataraum_exact_limit": "FROM profile_columns('f_integer_typical')", "dataraum_null_tokens": "FROM infer_types('f_varchar_typical')",
                 "dataraum_min_parse_rate": "FROM infer_types('f_varchar_typical')", "dataraum_catalog": "SELECT table_context('f_integer_typical')"}
    for name, *_ in settings:
        consumer = consumers.get(name, "SELECT table_context('f_integer_typical', topology := false)" if "quality" in name
                                 else "FROM annotate_columns('f_integer_typical')")
        llm = name.startswith("dataraum_llm") and name != "dataraum_llm_provider"
        for v in ["-1", "0", "1000000000000000000", "'abc'", "''", "'nan'", "1.5", "'none'", "'/nonexistent/dir/x.sqlite'", "'{TMP}'",
                  "repeat('x', 100000)", "'a,,b,' || chr(0)", "'openai'", "'http://127.0.0.1:9/v1'"]:
            pre = [f"SET {name} = {v}"]
            if name == "dataraum_llm_provider" or llm:
                # never leave the machine: a closed local port, short timeouts, no retries
                pre = ["SET dataraum_llm_base_url = 'http://127.0.0.1:9/v1'", "SET dataraum_llm_timeout_ms = 3000",
                       "SET dataraum_llm_max_retries = 0", "SET dataraum_cache_path = 'none'"] + pre
                if llm and name != "dataraum_llm_base_url":
                    pre.append("SET dataraum_llm_provider = 'openai'")
                elif name == "dataraum_llm_base_url":
                    pre += ["SET dataraum_llm_provider = 'openai'"] if v.startswith("'http") or v in ("''",) else []
            if name == "dataraum_llm_base_url" and not v.startswith("'http"):
                pre = [p for p in pre if "provider" not in p]
            post = [f"RESET {s}" for s in ("dataraum_llm_base_url", "dataraum_llm_timeout_ms", "dataraum_llm_max_retries",
                                           "dataraum_cache_path", "dataraum_llm_provider", name)]
            add(tier1, "settings", name, [consumer], base_needs, pre, post, accept=(name,))
    # round-robin over functions, so a budget cut leaves every function probed
    by_fn = {}
    for p in tier1:
        by_fn.setdefault(p["fn"], []).append(p)
    tier1 = [p for group in zip_longest(*by_fn.values()) for p in group if p is not None]
    rng.shuffle(tier2)
    return tier1, tier2, missing


# --------------------------------------------------------------------------------------------
# Child: runs one batch of probes in one connection and streams JSON lines.
# --------------------------------------------------------------------------------------------

def child_main(ext):
    import resource
    try:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    except (ValueError, OSError):
        pass
    import duckdb
    job = json.load(sys.stdin)
    probes, deadline = job["probes"], job["deadline"]
    tmp = tempfile.mkdtemp(prefix="dr-fuzz-")
    out = sys.stdout

    def emit(obj):
        out.write(MARK + json.dumps(obj) + "\n")
        out.flush()

    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{ext}'").fetchall()
    con.execute("SET memory_limit = '3GB'").fetchall()
    built = set()
    try:
        for p in probes:
            if time.time() > deadline:  # the budget is spent: the parent counts the rest as left out
                break
            emit({"start": p["id"]})
            t0 = time.time()
            res = {"id": p["id"]}
            try:
                for key in p["needs"]:
                    if key not in built:
                        for s in fixture_sql(key):
                            con.execute(s.replace("{TMP}", tmp)).fetchall()
                        built.add(key)
            except Exception as e:  # a fixture that does not build is the test's fault
                res.update(status="fixture", msg=f"{type(e).__name__}: {e}"[:2000])
                emit(res)
                continue
            try:
                for s in p["pre"] + p["sql"]:
                    con.execute(s.replace("{TMP}", tmp)).fetchall()
                res["status"] = "ok"
            except duckdb.Error as e:  # head and tail: "does not exist" follows a 100,000-character name
                m = f"{e}"
                res.update(status="error", msg=m if len(m) <= 6000 else m[:3000] + " ... " + m[-2000:])
            except Exception as e:  # Python-side conversion of a result
                res.update(status="pyerror", msg=f"{type(e).__name__}: {e}"[:4000])
            for s in p["post"]:
                try:
                    con.execute(s).fetchall()
                except Exception:
                    pass
            try:
                res["alive"] = con.execute("SELECT 42").fetchall() == [(42,)]
            except Exception as e:
                res["alive"] = False
                res["alive_msg"] = str(e)[:1000]
            res["secs"] = round(time.time() - t0, 3)
            emit(res)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Parent.
# --------------------------------------------------------------------------------------------

# DuckDB's own errors at the argument boundary, raised before the extension's code runs: a typed
# parameter or setting cast by DuckDB (C API functions and settings have no hook to word it), a table
# name query_table() cannot take, a macro building block given something that is not a row. They
# point at the value and, with DuckDB's "LINE 1:" echo, at the call; counted and listed apart, not
# as failures. Everything the extension raises itself must name the function.
ENGINE_ARG = re.compile(
    r"^(Conversion Error: (Could not convert string|Unimplemented type for cast|Type \w+(\(\d+(,\d+)?\))? with value .* can't be cast)"
    r"|Invalid Input Error: Failed to cast value"
    r"|Binder Error: (No function matches the given name and argument types '(query_table|query|read_csv|array_length)\("
    r"|Cannot use NULL as function argument|Cannot extract field|Invalid LIST argument during lambda"
    r"|UNNEST\(\) can only be applied|Cannot mix values of type|Could not find key|Cannot concatenate types)"
    r"|Conversion Error: (Failed to cast value to numerical|Can't convert VARIANT)"
    r"|Parser Error: (Zero-length identifier|Unexpected quote in the middle of a qualified name|\"read_csv\" cannot take NULL"
    r"|\"read_csv\" reader can only take a list|syntax error at or near|Expected a single SELECT statement)"
    # the missing file is named
    r"|IO Error: No files found that match the pattern)",
    re.S)
CATALOG_MISSING = re.compile(r"^Catalog Error: (Table|Table Function|Schema|Catalog|View) with name .* does not exist", re.S)
INTERNAL = ("INTERNAL Error", "FATAL", "database has been invalidated", "Rust panic")


class Runner:
    def __init__(self, ext, probes, budget, workers, names):
        self.ext = os.path.abspath(ext)
        # children run in a scratch directory: probes of relative paths (SET dataraum_catalog = 'bogus')
        # create files there, not in the repository
        self.workdir = tempfile.mkdtemp(prefix="dr-fuzz-cwd-")
        self.todo = list(probes)
        self.by_id = {p["id"]: p for p in probes}
        self.lock = threading.Lock()
        self.results = {}
        self.deadline = time.time() + budget
        self.workers = workers
        self.names = names
        self.name_re = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?![A-Za-z0-9_])",
                                  re.IGNORECASE)
        self.budget_skipped = 0
        self.hangs = {}
        self.hang_skipped = {}

    def next_batch(self):
        with self.lock:
            while True:
                if not self.todo or time.time() > self.deadline:
                    return None
                batch, self.todo = self.todo[:BATCH], self.todo[BATCH:]
                keep = []
                for p in batch:
                    heavy = any(":same10k" in k or ":big" in k or k == "wide:" for k in p["needs"])
                    if heavy and self.hangs.get(p["fn"], 0) >= HANGS_BEFORE_SKIP:
                        self.hang_skipped[p["fn"]] = self.hang_skipped.get(p["fn"], 0) + 1
                    else:
                        keep.append(p)
                if keep:
                    return keep

    def requeue(self, probes):
        with self.lock:
            self.todo = list(probes) + self.todo

    def record(self, pid, res):
        with self.lock:
            self.results[pid] = res
            if res.get("status") == "hang":
                fn = self.by_id[pid]["fn"]
                self.hangs[fn] = self.hangs.get(fn, 0) + 1

    def run_child(self, batch):
        """Runs a batch in one child; returns (results by id, id running at death or None, how it ended, stderr tail)."""
        errf = tempfile.TemporaryFile(mode="w+b")
        env = dict(os.environ)
        env["HOME"] = tempfile.gettempdir()
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", self.ext], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=errf, env=env, start_new_session=True, cwd=self.workdir)
        lines = queue.Queue()

        def reader():
            for raw in proc.stdout:
                lines.put(raw)
            lines.put(None)

        threading.Thread(target=reader, daemon=True).start()
        try:
            proc.stdin.write(json.dumps({"probes": batch, "deadline": self.deadline}).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        got, current, started, ended = {}, None, time.time(), "exit"
        while True:
            try:
                raw = lines.get(timeout=max(0.1, started + PROBE_TIMEOUT - time.time()))
            except queue.Empty:
                ended = "hang"
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                break
            if raw is None:
                break
            line = raw.decode("utf-8", "replace")
            if not line.startswith(MARK):
                continue
            obj = json.loads(line[len(MARK):])
            if "start" in obj:
                current, started = obj["start"], time.time()
            else:
                got[obj["id"]] = obj
                current, started = None, time.time()
        rc = proc.wait()
        errf.seek(0)
        tail = errf.read().decode("utf-8", "replace")[-1500:]
        errf.close()
        return got, current, ended, rc, tail

    def worker(self):
        while True:
            batch = self.next_batch()
            if batch is None:
                return
            self.run_batch(batch)

    def run_batch(self, batch, alone=False):
        got, current, ended, rc, tail = self.run_child(batch)
        for pid, res in got.items():
            self.record(pid, res)
        unfinished = [p for p in batch if p["id"] not in got]
        how = f"signal {-rc} ({signal.Signals(-rc).name})" if rc < 0 and -rc in signal.Signals._value2member_map_ else f"exit code {rc}"
        if ended == "hang":
            self.record(current, {"id": current, "status": "hang", "msg": f"no answer after {PROBE_TIMEOUT:.0f} s; child killed. stderr: {tail}"})
            self.requeue([p for p in unfinished if p["id"] != current])
            return
        if not unfinished:
            if rc != 0:  # died at exit (destructors, destroy callbacks)
                last = batch[-1]["id"]
                r = dict(self.results[last])
                r.update(status="crash", msg=f"the child ended with {how} after its last probe (at exit). stderr: {tail}")
                self.record(last, r)
            return
        if current is None and rc == 0:  # stopped at the deadline
            self.requeue(unfinished)
            return
        if current is None:
            # died before the first probe started or between probes
            if alone or len(batch) == 1:
                for p in unfinished:
                    self.record(p["id"], {"id": p["id"], "status": "crash", "msg": f"child ended with {how} outside a probe. stderr: {tail}"})
            else:
                self.requeue(unfinished)
            return
        if alone:
            self.record(current, {"id": current, "status": "crash", "msg": f"child ended with {how}. stderr: {tail}"})
            return
        # pin the crasher: run it alone in a fresh process
        crashed = self.by_id[current]
        got2, cur2, ended2, rc2, tail2 = self.run_child([crashed])
        if current in got2:
            res = dict(got2[current])
            res.update(status="crash", msg=f"child ended with {how} in this probe after earlier probes of its batch; alone it gave "
                                           f"{got2[current].get('status')}. stderr: {tail}")
            self.record(current, res)
        elif ended2 == "hang":
            self.record(current, {"id": current, "status": "hang", "msg": f"no answer after {PROBE_TIMEOUT:.0f} s when run alone"})
        else:
            how2 = f"signal {-rc2} ({signal.Signals(-rc2).name})" if rc2 < 0 and -rc2 in signal.Signals._value2member_map_ else f"exit code {rc2}"
            self.record(current, {"id": current, "status": "crash", "msg": f"child ended with {how2} (reproduced alone). stderr: {tail2}"})
        self.requeue([p for p in unfinished if p["id"] != current])

    def run(self):
        threads = [threading.Thread(target=self.worker) for _ in range(self.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.budget_skipped = len(self.by_id) - len(self.results) - sum(self.hang_skipped.values())

    def verdict(self, p, res):
        """('pass'|'fail', kind)."""
        st = res.get("status")
        msg = res.get("msg", "") or ""
        if st in ("crash", "hang", "fixture"):
            return "fail", st
        if not res.get("alive", False):
            return "fail", "dead connection"
        if st == "ok":
            return ("fail", "no error") if p["expect_error"] else ("pass", "result")
        if st == "pyerror":
            return "fail", "python conversion"
        if any(s in msg for s in INTERNAL) and not (p["fn"].startswith("dr_selftest_panic") and "Rust panic" in msg
                                                   and not any(s in msg for s in INTERNAL[:3])):
            return "fail", "internal"
        # DuckDB appends the query text ("LINE 1: FROM profile_columns(...)"): it names the function
        # without the message doing so, so it does not count
        msg = re.split(r"\n\s*LINE \d+:", msg)[0]
        if self.name_re.search(msg) or any(a.lower() in msg.lower() for a in p["accept"]):
            return "pass", "clear error"
        if CATALOG_MISSING.search(msg):  # DuckDB names the missing table, schema or database
            return "pass", "clear error"
        if ENGINE_ARG.search(msg):
            return "pass", "engine argument error"
        return "fail", "unclear"


def short(s, n=400):
    """Long SQL and messages (1 MB literals) shortened in the middle."""
    s = s.replace("\n", " ")
    s = re.sub(r"(.)\1{40,}", lambda m: m.group(1) * 8 + f"...({len(m.group(0))} x {m.group(1)!r})", s)
    return s if len(s) <= n else s[: n - 120] + " ... " + s[-100:]


def list_functions(ext):
    import duckdb
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{ext}'").fetchall()
    fns = con.execute("SELECT function_name, function_type, parameters, example FROM dr_functions()").fetchall()
    settings = con.execute("SELECT name FROM dr_settings()").fetchall()
    return fns, settings


def main():
    args = sys.argv[1:]
    if args and args[0] == "--child":
        child_main(args[1])
        return
    if not args:
        print(__doc__)
        sys.exit(2)
    ext = os.path.abspath(args[0])
    budget = float(os.environ.get("FUZZ_BUDGET", "150"))
    workers = max(1, min(2, os.cpu_count() or 1))
    seed = 17
    only = None
    i = 1
    while i < len(args):
        if args[i] == "--budget":
            budget = float(args[i + 1])
        elif args[i] == "--workers":
            workers = int(args[i + 1])
        elif args[i] == "--seed":
            seed = int(args[i + 1])
        elif args[i] == "--only":
            only = set(args[i + 1].split(","))
        i += 2
    t0 = time.time()
    functions, settings = list_functions(ext)
    names = {f[0] for f in functions} | {s[0] for s in settings}
    tier1, tier2, missing = make_probes(functions, settings, seed)
    if only:
        tier1 = [p for p in tier1 if p["fn"] in only]
        tier2 = [p for p in tier2 if p["fn"] in only]
    print(f"fuzz: {len(functions)} functions, {len(TYPES)} types, {len(tier1)} tier-1 and {len(tier2)} tier-2 probes, "
          f"budget {budget:.0f} s, {workers} workers, seed {seed}", flush=True)
    runner = Runner(ext, tier1 + tier2, budget, workers, names)
    runner.run()
    probes = tier1 + tier2
    ran = [p for p in probes if p["id"] in runner.results]
    cats, kinds, failures, engine = {}, {}, [], []
    for p in ran:
        res = runner.results[p["id"]]
        v, kind = runner.verdict(p, res)
        cat = p["cat"].split(":")[0]
        c = cats.setdefault(cat, {"probes": 0, "result": 0, "clear error": 0, "engine argument error": 0, "failed": 0})
        c["probes"] += 1
        if v == "pass":
            c[kind] += 1
            if kind == "engine argument error":
                engine.append((p, res))
        else:
            c["failed"] += 1
            kinds[kind] = kinds.get(kind, 0) + 1
            failures.append((kind, p, res))
    print(f"\nprobes run: {len(ran)} of {len(probes)} ({runner.budget_skipped} left out by the time budget) in {time.time() - t0:.0f} s")
    for fn, n in sorted(runner.hang_skipped.items()):
        print(f"left out: {n} probes of {fn} on 10,000-row, 1 MB or 1,000-column fixtures after {HANGS_BEFORE_SKIP} hangs")
    print(f"{'category':<10} {'probes':>7} {'result':>7} {'clear error':>12} {'engine arg':>11} {'failed':>7}")
    for cat in sorted(cats):
        c = cats[cat]
        print(f"{cat:<10} {c['probes']:>7} {c['result']:>7} {c['clear error']:>12} {c['engine argument error']:>11} {c['failed']:>7}")
    if engine:
        # DuckDB's wording at the argument boundary, by message shape, with one example each
        shapes = {}
        for p, res in engine:
            m = (res.get("msg") or "").split("\n")[0]
            key = re.sub(r"'[^']*'", "'…'", re.sub(r"\d+", "N", m))[:90]
            shapes.setdefault(key, [0, p])[0] += 1
        print(f"engine argument errors (DuckDB's own, before the extension runs): {len(engine)}")
        for key, (n, p) in sorted(shapes.items(), key=lambda e: -e[1][0])[:12]:
            print(f"  {n:5d}  {key}   e.g. {short(' ; '.join(p['sql']), 120)}")
    if kinds:
        print("failures by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    for fn in missing:
        print(f"FAIL no probe shape for {fn}: add it to SPECS in extension-ci/test_fuzz.py")
    for kind, p, res in sorted(failures, key=lambda f: (f[0], f[1]["fn"], f[1]["id"])):
        sql = " ; ".join(p["pre"] + p["sql"])
        msg = (res.get("msg") or res.get("alive_msg") or "").split("\n\nLINE")[0]
        print(f"FAIL [{kind}] {p['fn']} ({p['cat']}): {short(sql)}\n     -> {short(msg, 500)}")
    if os.environ.get("FUZZ_DUMP"):
        with open(os.environ["FUZZ_DUMP"], "w") as f:
            for p in ran:
                f.write(json.dumps(dict(p, result=runner.results[p["id"]])) + "\n")
    passed = len(ran) - len(failures)
    print(f"{passed} passed, {len(failures) + len(missing)} failed")


if __name__ == "__main__":
    main()
