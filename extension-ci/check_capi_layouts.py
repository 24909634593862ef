"""Checks the C API layouts src/ffi/capi.rs relies on against DuckDB's own headers.

  check_capi_layouts.py <headers dir of 2.0.1> <headers dir of 2.0.0> <capi-v1-slots.csv>

* v1: the first 546 slots of the 2.0.1 `duckdb_ext_api_v1` (our bindings) are the functions
  docs/capi-v1-slots.csv gives for 1.5.6, and for every release column the slots capi.rs copies
  (`usable_slots`: 408 for 1.2-1.3, 410 for 1.4, 493 for 1.5.0-1.5.1, 546 after) hold the same
  functions as ours (a renamed function counts as the same: duckdb_create_varint = _bignum);
* v2: the 2.0.1 table is 2.0.0's with `capi::V2_LAYOUTS`' missing slots (0..21) inserted, and
  the only function declared differently is the one listed as changed (duckdb_v2_parse_sql).
Prints `N passed, N failed`.
"""
import csv
import re
import sys

H201, H200, CSV = sys.argv[1:4]
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f"\n     {detail[:1500]}"))


def table(header, struct):
    """(name, declaration) of every function pointer in `typedef struct {...} struct;`."""
    text = open(f"{header}/duckdb/src/include/{'duckdb_extension.h' if struct.endswith('v1') else 'duckdb_extension_v2.h'}").read()
    body = re.search(r"typedef struct \{(.*?)\}\s*" + struct + ";", text, re.S).group(1)
    body = re.sub(r"//[^\n]*", "", body)
    out = []
    for decl in body.split(";"):
        m = re.search(r"\(\*\s*(\w+)\)", decl)
        if m:
            out.append((m.group(1), " ".join(decl.split())))
    return out


RENAMED = {"duckdb_create_varint": "duckdb_create_bignum", "duckdb_get_varint": "duckdb_get_bignum"}
USABLE = {"v1.2.0": 408, "v1.2.2": 408, "v1.3.0": 408, "v1.3.2": 408, "v1.4.0": 410, "v1.4.5": 410,
          "v1.5.0": 493, "v1.5.1": 493, "v1.5.2": 546, "v1.5.5": 546, "v1.5-branch(=1.5.6)": 546, "main@2026-08-20": 546}

ours_v1 = [n for n, _ in table(H201, "duckdb_ext_api_v1")]
rows = list(csv.reader(open(CSV)))
header, slots = rows[0], rows[1:]
for col, release in enumerate(header[1:], start=1):
    n = USABLE.get(release)
    if n is None:
        check(f"v1 {release}: has a usable-slot count", False, "add it to USABLE and capi::usable_slots")
        continue
    theirs = [RENAMED.get(r[col], r[col]) for r in slots]
    bad = [f"slot {i}: ours {ours_v1[i]}, {release} {theirs[i] or '(none)'}" for i in range(n)
           if RENAMED.get(ours_v1[i], ours_v1[i]) != theirs[i]]
    beyond = n < len(theirs) and theirs[n] and RENAMED.get(ours_v1[n], ours_v1[n]) == theirs[n] and n < 546
    check(f"v1 {release}: the {n} slots LOAD copies hold our functions", not bad, "; ".join(bad[:10]))
    if beyond:
        print(f"note v1 {release}: slot {n} also matches; the usable count could grow")

v200 = table(H200, "duckdb_ext_api_v2")
v201 = table(H201, "duckdb_ext_api_v2")
check("v2: 2.0.0's table is 2.0.1's without slots 0..21",
      [n for n, _ in v201[21:]] == [n for n, _ in v200], f"{len(v200)} vs {len(v201)} entries")
changed = sorted(n for (n, d0), (_, d1) in zip(v200, v201[21:]) if d0 != d1)
check("v2: the only declaration that differs is duckdb_v2_parse_sql", changed == ["duckdb_v2_parse_sql"], repr(changed))
v1_same = table(H200, "duckdb_ext_api_v1") == table(H201, "duckdb_ext_api_v1")
check("v1: 2.0.0 and 2.0.1 declare the same v1 table", v1_same)

passed = sum(results)
print(f"{passed} passed, {len(results) - passed} failed")
sys.exit(0 if all(results) else 1)
