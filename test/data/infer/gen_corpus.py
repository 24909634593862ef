#!/usr/bin/env python3
"""Labeled corpus for the `infer` kernel and the DuckDB cross-check of its SQL.

    python gen_corpus.py gen            # writes corpus.txt + corpus.csv (deterministic)
    python gen_corpus.py check CASTS    # CASTS = JSON written by the Rust test
                                        # `corpus_accuracy_per_type` (INFER_CASTS_OUT=...)

`gen` builds messy text columns with known answers (type, format, semantic type).
`check` regenerates the same columns, runs each column's `cast_sql` in DuckDB
(python duckdb 2.0.1) and compares every converted value with

  1. the expected typed value computed here in Python, independently of the
     kernel (datetime/Decimal/uuid parsing of the value as generated), and
  2. DuckDB's own reference conversion for that type and format:
     `TRY_CAST(trim(v) AS type)` or `try_strptime(trim(v), format)`; for numbers
     with separators/currency, `TRY_CAST` of the Python-cleaned digits,

and checks that the number of values the SQL turns into NULL equals the
kernel's `quarantine_count`.
"""
import csv
import datetime as dt
import json
import random
import sys
import uuid
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
N = 40
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
NULL_TOKENS = {"", "na", "n/a", "null", "none", "-", "--", "#n/a", "nan", "?", "nil", "#null!", "(null)"}


def rdate(r, y0=1990, y1=2030):
    d0 = dt.date(y0, 1, 1).toordinal()
    return dt.date.fromordinal(r.randint(d0, dt.date(y1, 12, 31).toordinal()))


def rts(r):
    d = rdate(r)
    return dt.datetime(d.year, d.month, d.day, r.randint(0, 23), r.randint(0, 59), r.randint(0, 59))


def messy(r, s):
    """Random surrounding whitespace, as spreadsheets export it."""
    k = r.random()
    if k < 0.1:
        return " " + s
    if k < 0.15:
        return s + "  "
    return s


def luhn_complete(prefix, length, r):
    digits = [int(c) for c in prefix] + [r.randint(0, 9) for _ in range(length - len(prefix) - 1)]
    for check in range(10):
        ds = digits + [check]
        tot = 0
        for i, d in enumerate(reversed(ds)):
            if i % 2 == 1:
                d *= 2
                if d > 9:
                    d -= 9
            tot += d
        if tot % 10 == 0:
            return "".join(map(str, ds))
    raise AssertionError


def iban(r, country="DE", blen=18):
    bban = "".join(str(r.randint(0, 9)) for _ in range(blen))
    rearranged = bban + country + "00"
    num = int("".join(str(int(ch, 36)) for ch in rearranged))
    check = 98 - num % 97
    return f"{country}{check:02d}{bban}"


def fmt_thousands(x, dec=".", thou=","):
    s = f"{x:,.2f}"
    return s.replace(",", "\0").replace(".", dec).replace("\0", thou)


def columns():
    """Each column: name, values (None = SQL NULL), labels, and expected(v) -> python value."""
    r = random.Random(42)
    cols = []

    def add(name, values, typ, fmt=None, sem=None, expect=None, ref_formats=None):
        cols.append(dict(name=name, values=values, type=typ, format=fmt, semantic=sem, expect=expect,
                         ref_formats=ref_formats))

    def num_expect(dec=".", thou=","):
        def f(v):
            t = v.strip()
            neg = t.startswith("(") or "-" in t
            digits = "".join(ch for ch in t if ch.isdigit() or ch == dec)
            digits = digits.replace(dec, ".")
            d = Decimal(digits)
            return -d if neg else d
        return f

    ints = lambda v: int(v.strip())
    add("int_small", [messy(r, str(r.randint(0, 100))) for _ in range(N)], "TINYINT", expect=ints)
    add("int_flag01", [str(r.randint(0, 1)) for _ in range(N)], "TINYINT", expect=ints)
    add("int_big", [str(r.randint(-10**12, 10**12)) for _ in range(N)], "BIGINT", expect=ints)
    add("int_huge", [str(r.randint(10**19, 10**24)) for _ in range(N)], "HUGEINT", expect=ints)
    v = [str(r.randint(-30000, 30000)) for _ in range(N)]
    for i in range(0, N, 6):
        v[i] = r.choice(["NA", "", "null", " N/A ", None, "-"])
    add("int_null_tokens", v, "SMALLINT", expect=ints)
    add("dec_plain", [f"{r.randint(0, 99999) / 100:.2f}" for _ in range(N)], "DECIMAL(9,2)", expect=lambda v: Decimal(v.strip()))
    v = [str(r.randint(0, 500)) for _ in range(N)]
    for i in range(0, N, 5):
        v[i] = f"{r.randint(0, 500)}.{r.randint(0, 9)}"
    add("int_mixed_decimal", v, "DECIMAL(4,1)", expect=lambda v: Decimal(v.strip()))
    add("dec_us_thousands", [fmt_thousands(r.randint(0, 10**8) / 100) for _ in range(N)], "DECIMAL(9,2)",
        "decimal=. thousands=,", expect=num_expect())
    add("dec_eu", [fmt_thousands(r.randint(0, 10**8) / 100, ",", ".") for _ in range(N)], "DECIMAL(9,2)",
        "decimal=, thousands=.", expect=num_expect(",", "."))
    v = []
    for _ in range(N):
        x = fmt_thousands(r.randint(0, 10**6) / 100)
        v.append(r.choice([f"${x}", f"(${x})", f"$ {x}", f"-${x}"]))
    add("currency_usd", v, "DECIMAL(9,2)", sem="currency_amount", expect=num_expect())
    add("currency_eur_suffix", [fmt_thousands(r.randint(0, 10**6) / 100, ",", ".") + " €" for _ in range(N)],
        "DECIMAL(9,2)", "decimal=, thousands=.", sem="currency_amount", expect=num_expect(",", "."))
    v = [fmt_thousands(r.randint(0, 10**7) / 100) for _ in range(N)]
    v[3], v[11], v[20], v[33] = "12abc", "1,23.4", "n.a.", "$$5"
    good = lambda v: v not in ("12abc", "1,23.4", "n.a.", "$$5")
    add("dec_us_some_bad", v, "DECIMAL(9,2)", "decimal=. thousands=,",
        expect=lambda v: num_expect()(v) if good(v) else None)
    v = [f"{r.randint(1, 999)} {r.choice(['kg', 'KG', 'kg'])}" for _ in range(N)]
    v[5] = "12 parsecs"
    add("weight_kg", v, "SMALLINT", expect=lambda v: int(v.split()[0]) if "parsec" not in v else None)
    v = []
    for _ in range(N):
        x = rts(r)
        v.append(r.choice([x.date().isoformat(), x.isoformat(sep=" "), x.isoformat()]))
    add("iso_mixed_date_ts", v, "TIMESTAMP",
        expect=lambda v: dt.datetime.fromisoformat(v.strip()) if len(v.strip()) > 10
        else dt.datetime.combine(dt.date.fromisoformat(v.strip()), dt.time()))
    add("percent", [f"{r.randint(0, 1000) / 10}%" for _ in range(N)], "DECIMAL(4,1)", sem="percentage",
        expect=lambda v: Decimal(v.strip().rstrip("%")))
    add("scientific", [f"{r.uniform(-1e6, 1e6):.3e}" for _ in range(N)], "DOUBLE", expect=lambda v: float(v))
    bw = {"yes": True, "no": False, "true": True, "false": False, "y": True, "n": False}
    add("bool_yes_no", [r.choice(["yes", "no", "Yes", "NO"]) for _ in range(N)], "BOOLEAN", sem="boolean_word",
        expect=lambda v: bw[v.strip().lower()])
    add("bool_true_false", [r.choice(["true", "false", "TRUE", "False", "1", "0"]) for _ in range(N)], "BOOLEAN",
        expect=lambda v: {"1": True, "0": False}.get(v.strip(), None) if v.strip() in "01" else bw[v.strip().lower()])
    add("year", [str(r.randint(1950, 2024)) for _ in range(N)], "SMALLINT", sem="year", expect=ints)
    v = [f"{r.randint(0, 99999):05d}" for _ in range(N)]
    v[0] = "00501"
    add("zip_leading_zero", v, "VARCHAR", sem="identifier", expect=lambda v: v.strip())
    iso = lambda v: dt.date.fromisoformat(v.strip())
    add("iso_date", [rdate(r).isoformat() for _ in range(N)], "DATE", "%Y-%m-%d", expect=iso)
    v = [rdate(r).isoformat() for _ in range(N)]
    v[7] = "not a date"
    add("iso_date_one_bad", v, "DATE", "%Y-%m-%d", expect=lambda v: iso(v) if v[0].isdigit() else None)

    def strf_col(name, fmt, gen, typ="DATE", expect_fmt=None, label=None, sem=None):
        vals = [gen(r) for _ in range(N)]
        pf = expect_fmt or fmt

        def e(v):
            x = dt.datetime.strptime(v.strip(), pf)
            return x.date() if typ == "DATE" else x
        add(name, [x.strftime(fmt) if not isinstance(x, str) else x for x in vals], typ, label or fmt, sem, e)

    strf_col("dmy_slash", "%d/%m/%Y", rdate)
    strf_col("mdy_slash", "%m/%d/%Y", rdate)
    strf_col("dmy_dot", "%d.%m.%Y", rdate)
    strf_col("dmy_dash_2digit", "%d-%m-%y", lambda r: rdate(r, 1970, 2060))
    strf_col("month_name_long", "%B %d, %Y", rdate)
    strf_col("dd_mon_yyyy", "%d-%b-%Y", rdate)
    strf_col("mon_dd_yyyy", "%b %d %Y", rdate)
    strf_col("year_month", "%Y-%m", rdate)
    add("quarter", [f"{r.randint(1990, 2030)}-Q{r.randint(1, 4)}" for _ in range(N)], "DATE", "%Y-Q%q",
        expect=lambda v: dt.date(int(v[:4]), int(v[6]) * 3 - 2, 1))
    strf_col("iso_ts_t", "%Y-%m-%dT%H:%M:%S", rts, "TIMESTAMP")

    def frac_ts(r):
        return rts(r).replace(microsecond=r.randint(0, 999) * 1000)
    add("iso_ts_frac", [frac_ts(r).isoformat(sep=" ", timespec="milliseconds") for _ in range(N)], "TIMESTAMP",
        "%Y-%m-%d %H:%M:%S.%f", expect=lambda v: dt.datetime.fromisoformat(v.strip()))
    v = []
    for _ in range(N):
        x = rts(r)
        off = r.choice(["Z", "+02:00", "-05:00", "+0530"])
        v.append(x.isoformat() + off)

    def tz_expect(v):
        s = v.strip().replace("Z", "+00:00")
        if s[-5] in "+-" and s[-3] != ":":
            s = s[:-2] + ":" + s[-2:]
        return dt.datetime.fromisoformat(s).astimezone(dt.timezone.utc)
    add("iso_tstz", v, "TIMESTAMP WITH TIME ZONE", expect=tz_expect)
    v = []
    for _ in range(N):
        x = rts(r)
        v.append(f"{x.month}/{x.day}/{x.year} {(x.hour + 11) % 12 + 1}:{x.minute:02d} {'AM' if x.hour < 12 else 'PM'}")
    add("us_ts_ampm", v, "TIMESTAMP", "%m/%d/%Y %I:%M %p",
        expect=lambda v: dt.datetime.strptime(v.strip(), "%m/%d/%Y %I:%M %p"))
    add("time_of_day", [f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}" for _ in range(N)],
        "TIME", expect=lambda v: dt.time.fromisoformat(v.strip()))
    add("interval_days", [f"{r.randint(1, 400)} days" for _ in range(N)], "INTERVAL",
        expect=lambda v: dt.timedelta(days=int(v.split()[0])))
    add("uuid", [str(uuid.UUID(int=r.getrandbits(128), version=4)) for _ in range(N)], "UUID", sem="uuid",
        expect=lambda v: uuid.UUID(v.strip()))
    add("json_obj", [json.dumps({"id": r.randint(0, 99), "tags": ["a", "b"][: r.randint(0, 2)]}) for _ in range(N)],
        "JSON", sem="json", expect=lambda v: v.strip())
    txt = lambda v: v.strip()
    names = ["alice", "bob", "carol", "dave", "erin", "frank"]
    add("email", [f"{r.choice(names)}.{r.randint(1, 999)}@example{r.randint(1, 9)}.com" for _ in range(N)],
        "VARCHAR", sem="email", expect=txt)
    add("url", [f"https://www.site{r.randint(1, 99)}.org/p/{r.randint(1, 9999)}?q=1" for _ in range(N)],
        "VARCHAR", sem="url", expect=txt)
    add("ipv4", [".".join(str(r.randint(0, 255)) for _ in range(4)) for _ in range(N)], "VARCHAR", sem="ipv4",
        expect=txt)
    add("ipv6", [":".join(f"{r.randint(0, 65535):x}" for _ in range(8)) for _ in range(N)], "VARCHAR", sem="ipv6",
        expect=txt)
    add("phone", [f"+1 ({r.randint(200, 999)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}" for _ in range(N)],
        "VARCHAR", sem="phone", expect=txt)
    add("zip4", [f"{r.randint(10000, 99999)}-{r.randint(0, 9999):04d}" for _ in range(N)], "VARCHAR",
        sem="postal_code", expect=txt)
    add("country", [r.choice(["US", "DE", "FR", "GB", "JP", "BR", "IN"]) for _ in range(N)], "VARCHAR",
        sem="country_code", expect=txt)
    add("currency_code", [r.choice(["USD", "EUR", "GBP", "JPY"]) for _ in range(N)], "VARCHAR",
        sem="currency_code", expect=txt)
    add("credit_card", [luhn_complete(r.choice(["4", "51", "37"]), 16, r) for _ in range(N)], "VARCHAR",
        sem="credit_card", expect=txt)
    add("iban", [iban(r) for _ in range(N)], "VARCHAR", sem="iban", expect=txt)
    add("md5", ["%032x" % r.getrandbits(128) for _ in range(N)], "VARCHAR", sem="hash", expect=txt)
    add("epoch_s", [str(r.randint(1_000_000_000, 1_800_000_000)) for _ in range(N)], "BIGINT", sem="epoch_seconds",
        expect=ints)
    add("category", [r.choice(["red", "green", "blue"]) for _ in range(N)], "VARCHAR", sem="categorical",
        expect=txt)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "again"]
    add("free_text", [" ".join(r.choice(words) for _ in range(r.randint(4, 9))) for _ in range(N)], "VARCHAR",
        sem="free_text", expect=txt)
    v = []
    for _ in range(N):
        d = rdate(r)
        v.append(f"{min(d.month, 12):02d}/{min(d.day, 12):02d}/{d.year}")
    add("ambiguous_dates", v, "DATE", "%m/%d/%Y", expect=lambda v: dt.datetime.strptime(v.strip(), "%m/%d/%Y").date())
    v, exp = [], []
    for i in range(N):
        d = rdate(r)
        if i % 5 < 2:
            v.append(f"{max(d.day, 13):02d}/{d.month:02d}/{d.year}")
        elif i % 5 == 2:
            v.append(f"{d.day} {d.strftime('%b')} {d.year}")
        else:
            v.append(d.isoformat())

    def mixed(v):
        for f in ("%d/%m/%Y", "%d %b %Y", "%Y-%m-%d"):
            try:
                return dt.datetime.strptime(v.strip(), f).date()
            except ValueError:
                pass
    add("mixed_date_formats", v, "DATE", "%Y-%m-%d", expect=mixed, ref_formats=["%d/%m/%Y", "%d %b %Y", "%Y-%m-%d"])
    v = [rdate(r).strftime("%d/%m/%Y") for _ in range(N)]
    v[9] = "01/02/123"  # 3-digit year: no format of ours, but strptime's %Y reads it
    v[19] = "01/02/12"  # 2-digit year: joins as %d/%m/%y (same day-first order)
    add("dmy_with_stray_years", v, "DATE", "%d/%m/%Y",
        expect=lambda v: dt.datetime.strptime(v, "%d/%m/%Y" if len(v) == 10 else "%d/%m/%y").date()
        if len(v) in (8, 10) else None, ref_formats=["%d/%m/%y", "%d/%m/%Y"])
    v = [r.choice(["12", "abc", "2012-01-01", "x y z", "3.5", "yes"]) + str(i) for i in range(N)]
    add("mixed_garbage", v, "VARCHAR", expect=txt)
    return cols


def gen():
    cols = columns()
    out = {"columns": [{k: c[k] for k in ("name", "values", "type", "format", "semantic")} for c in cols]}
    # corpus.txt: the Rust test's input, readable without a JSON parser.
    # "#<TAB>name<TAB>type<TAB>format<TAB>semantic" starts a column; then one line per
    # value: "=" + value with \\, \t, \n escaped, or "~" for SQL NULL.
    esc = lambda v: v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    lines = []
    for c in out["columns"]:
        lines.append("\t".join(["#", c["name"], c["type"], c["format"] or "", c["semantic"] or ""]))
        lines.extend("~" if v is None else "=" + esc(v) for v in c["values"])
    (HERE / "corpus.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(HERE / "corpus.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([c["name"] for c in cols])
        for i in range(N):
            w.writerow(["" if c["values"][i] is None else c["values"][i] for c in cols])
    with open(HERE / "corpus_labels.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["column_name", "inferred_type", "format", "semantic_type"])
        for c in cols:
            w.writerow([c["name"], c["type"], c["format"] or "", c["semantic"] or ""])
    print(f"wrote {len(cols)} columns x {N} rows")


def reference_sql(c, typ, fmt):
    """DuckDB's own conversion of trimmed text for this type/format (check 2)."""
    t = "trim(v)"
    if typ == "VARCHAR" or c["name"] in ("quarter",):
        return None
    if c.get("ref_formats"):
        fl = ", ".join(f"'{f}'" for f in c["ref_formats"])
        return f"CAST(try_strptime({t}, [{fl}]) AS {typ})"
    if typ.startswith("DECIMAL") or typ in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE"):
        return f"TRY_CAST(cleaned AS {typ})"
    if typ == "BOOLEAN":
        return f"TRY_CAST({t} AS BOOLEAN)"
    if fmt and fmt != "%Y-%m-%d" and typ in ("DATE", "TIMESTAMP") and not fmt.startswith("%Y-%m-%d"):
        return f"CAST(try_strptime({t}, '{fmt}') AS {typ})"
    return f"TRY_CAST({t} AS {typ})"


def check(casts_path):
    import duckdb
    casts = json.loads(Path(casts_path).read_text())
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    total = bad = 0
    quarantine_ok = 0
    for c in columns():
        cast = casts[c["name"]]
        con.execute("DROP TABLE IF EXISTS t")
        con.execute("CREATE TABLE t(i INTEGER, v VARCHAR, cleaned VARCHAR)")
        rows = []
        for i, v in enumerate(c["values"]):
            cleaned = None
            if v is not None:
                dec = "," if (c["format"] or "").startswith("decimal=,") else "."
                try:
                    cleaned = str(num_clean(v, dec))
                except Exception:
                    cleaned = None
            rows.append((i, v, cleaned))
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        ref = reference_sql(c, cast["type"], c["format"])
        sql = f"SELECT i, v, {cast['sql']} AS got" + (f", {ref} AS ref" if ref else ", NULL AS ref") + " FROM t ORDER BY i"
        res = con.execute(sql).fetchall()
        lost = 0
        col_bad = []
        for i, v, got, refv in res:
            if v is None or v.strip().lower() in NULL_TOKENS:
                if got is not None:
                    col_bad.append((v, got, "null token not NULL"))
                continue
            try:
                exp = c["expect"](v)
            except Exception:
                exp = None
            if got is None:
                lost += 1
            total += 1
            if exp != got:
                col_bad.append((v, got, exp))
            elif ref and got is not None and refv != got:
                col_bad.append((v, got, f"duckdb reference {refv!r}"))
        if lost == cast["quarantine"]:
            quarantine_ok += 1
        else:
            col_bad.append(("<quarantine>", lost, cast["quarantine"]))
        if col_bad:
            bad += len(col_bad)
            print(f"MISMATCH {c['name']} ({cast['type']}): {col_bad[:3]}")
    n = len(columns())
    print(f"values checked: {total}, mismatches: {bad}; quarantine counts equal: {quarantine_ok}/{n}")
    print(f"{total - bad} passed, {bad} failed")
    return 1 if bad else 0


def num_clean(v, dec):
    t = v.strip()
    neg = t.startswith("(") or "-" in t
    s = "".join(ch for ch in t if ch.isdigit() or ch == dec or ch in "eE+-" and False)
    s = s.replace(dec, ".")
    if any(ch in t for ch in "eE") and not any(ch.isalpha() and ch not in "eE" for ch in t):
        return t
    return ("-" if neg else "") + s


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "gen":
        gen()
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    else:
        print(__doc__)
        sys.exit(2)
