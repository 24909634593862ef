#!/usr/bin/env python3
"""Minimal DuckDB sqllogictest runner over the python `duckdb` package.

    python sqllogictest.py [--extension dataraum.duckdb_extension] [--filter SUBSTR]
                           [--timeout 600] [--verbose] test/sql/*.test

Each file runs in its own subprocess (internal `--one-file` mode, JSON events on
stdout), so a segfault or timeout fails that file's remaining records instead of
hiding the results. Each statement/query record counts as one test (a record inside
a loop fails if any iteration fails). Last output line: `N passed, N failed[, N skipped]`.
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile

MARK = "@@SLT "
RECORDS = ("statement", "query")
FOREACH_GROUPS = {
    "<integral>": "tinyint smallint integer bigint hugeint utinyint usmallint uinteger ubigint uhugeint",
    "<signed>": "tinyint smallint integer bigint hugeint",
    "<unsigned>": "utinyint usmallint uinteger ubigint uhugeint",
    "<numeric>": "tinyint smallint integer bigint hugeint utinyint usmallint uinteger ubigint uhugeint float double",
    "<float>": "float double",
}


# ---------------------------------------------------------------- parsing
def parse(path):
    """Return a tree of nodes: dicts with 'kind', 'line', 'args' and, for records,
    'sql' and 'expected' (lines after ----); loops have 'body'."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    root, stack, i = [], [], 0
    cur = root
    while i < len(lines):
        text = lines[i].rstrip("\r")
        if not text.strip() or text.lstrip().startswith("#"):
            i += 1
            continue
        toks, lineno = text.split(), i + 1
        node = {"kind": toks[0], "line": lineno, "args": toks[1:]}
        i += 1
        if toks[0] in RECORDS:
            sql, expected, after = [], None, False
            while i < len(lines) and lines[i].rstrip("\r").strip():
                l = lines[i].rstrip("\r")
                if l.strip() == "----" and not after:
                    after, expected = True, []
                elif after:
                    expected.append(l)
                else:
                    sql.append(l)
                i += 1
            node["sql"], node["expected"] = "\n".join(sql), expected
            cur.append(node)
        elif toks[0] in ("loop", "foreach", "concurrentloop", "concurrentforeach"):
            node["body"] = []
            cur.append(node)
            stack.append(cur)
            cur = node["body"]
        elif toks[0] == "endloop":
            if not stack:
                raise SyntaxError(f"{path}:{lineno}: endloop without loop")
            cur = stack.pop()
        else:
            cur.append(node)
    if stack:
        raise SyntaxError(f"{path}: loop not closed")
    return root


def static_records(nodes):
    for n in nodes:
        if n["kind"] in RECORDS:
            yield n["line"]
        yield from static_records(n.get("body", []))


# ---------------------------------------------------------------- one file (child)
class SkipFile(Exception):
    pass


class Halt(Exception):
    pass


def emit(**ev):
    sys.stdout.write(MARK + json.dumps(ev) + "\n")
    sys.stdout.flush()


def render(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    s = str(v)
    return "(empty)" if s == "" else s


def approx_equal(a, b):
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return x == y or abs(x - y) <= 1e-6 * max(1.0, abs(x), abs(y))


class Runner:
    def __init__(self, path, extension):
        self.path, self.extension = path, extension
        self.tmp = tempfile.mkdtemp(prefix="slt_")
        self.vars = {"__TEST_DIR__": self.tmp, "__EXTENSION__": extension or "",
                     "__WORKING_DIRECTORY__": os.getcwd()}
        self.loaded, self.skip_mode, self.labels = [], False, {}
        self.dbpath, self.readonly, self.conns = ":memory:", False, {}
        self.connect()

    def subst(self, s, env):
        for k, v in self.vars.items():
            s = s.replace(k, v)
        for k, v in env.items():
            s = s.replace("${%s}" % k, str(v))
        return s

    def connect(self):
        import duckdb
        for c in self.conns.values():
            try:
                c.close()
            except Exception:
                pass
        self.conns = {None: duckdb.connect(self.dbpath, read_only=self.readonly,
                                           config={"allow_unsigned_extensions": "true"})}
        for ext in self.loaded:
            self.load_ext(ext)

    def con(self, name):
        if name not in self.conns:
            self.conns[name] = self.conns[None].cursor()
        return self.conns[name]

    def load_ext(self, name):
        if name == "dataraum":
            if not self.extension:
                raise SkipFile("require dataraum: no --extension given")
            self.conns[None].execute(f"LOAD '{self.extension}'")
        else:
            try:
                self.conns[None].execute(f"LOAD {name}")
            except Exception as e:
                raise SkipFile(f"require {name}: {str(e).splitlines()[0]}")

    def run(self, nodes, env):
        skip_next = False
        for n in nodes:
            k, args = n["kind"], [self.subst(a, env) for a in n["args"]]
            if k in RECORDS:
                if self.skip_mode or skip_next:
                    emit(ev="result", line=n["line"], status="skip")
                else:
                    emit(ev="start", line=n["line"])
                    err = self.record(n, args, env)
                    emit(ev="result", line=n["line"], status="fail" if err else "pass", msg=err,
                         sql=self.subst(n["sql"], env) if err else None)
                skip_next = False
            elif k in ("loop", "concurrentloop"):
                var, lo, hi = args[0], int(args[1]), int(args[2])
                for v in range(lo, hi):
                    self.run(n["body"], {**env, var: v})
            elif k in ("foreach", "concurrentforeach"):
                values = " ".join(FOREACH_GROUPS.get(a, a) for a in args[1:]).split()
                for v in values:
                    self.run(n["body"], {**env, args[0]: v})
            elif k == "require":
                if args[0] not in self.loaded:
                    self.load_ext(args[0])
                    self.loaded.append(args[0])
            elif k == "require-env":
                if os.environ.get(args[0]) is None or (len(args) > 1 and os.environ[args[0]] != args[1]):
                    raise SkipFile(f"require-env {' '.join(args)} not satisfied")
                self.vars[args[0]] = os.environ[args[0]]
            elif k == "mode":
                self.skip_mode = {"skip": True, "unskip": False}.get(args[0], self.skip_mode)
            elif k == "halt":
                raise Halt()
            elif k == "load":
                self.dbpath = args[0] if args else ":memory:"
                self.readonly = len(args) > 1 and args[1] == "readonly"
                if self.dbpath != ":memory:" and not self.readonly:
                    for suffix in ("", ".wal"):
                        if os.path.exists(self.dbpath + suffix):
                            os.remove(self.dbpath + suffix)
                self.connect()
            elif k == "restart":
                self.connect()
            elif k == "skipif":
                skip_next = args[0] == "duckdb"
            elif k == "onlyif":
                skip_next = args[0] != "duckdb"
            else:
                print(f"{self.path}:{n['line']}: ignoring unsupported directive {k!r}", file=sys.stderr)

    def record(self, n, args, env):
        sql = self.subst(n["sql"], env)
        exp = [self.subst(l, env) for l in (n["expected"] or [])]
        if n["kind"] == "statement":
            mode = args[0] if args else "ok"
            con = self.con(args[1] if len(args) > 1 else None)
            try:
                con.execute(sql)
                return "statement failed to error" if mode == "error" else None
            except Exception as e:
                msg = str(e)
                if mode == "ok":
                    return f"statement failed: {msg}"
                want = "\n".join(exp).strip()
                if not want or matches_error(want, msg):
                    return None
                return f"error message mismatch\nexpected: {want}\nactual:   {msg}"
        types, sort = (args[0] if args else ""), (args[1] if len(args) > 1 else "nosort")
        label = args[2] if len(args) > 2 else (sort if sort not in ("nosort", "rowsort", "valuesort") else None)
        try:
            rows = self.query(self.con(None), sql)
        except Exception as e:
            return f"query failed: {e}"
        ncols = len(rows[0]) if rows else len(types)
        if types and rows and ncols != len(types):
            return f"wrong column count: header says {len(types)}, query returned {ncols}"
        if sort == "rowsort":
            rows.sort()
        actual_lines = ["\t".join(r) for r in rows]
        values = [v for r in rows for v in r]
        if sort == "valuesort":
            values.sort()
        if n["expected"] is None and label:
            want = self.labels.setdefault(label, values)
            return None if want == values else f"result differs from label {label}: {want[:20]}"
        expected = [l.split("\t") if ncols > 1 else [l] for l in exp]
        if all(len(r) == ncols for r in expected) and sort != "valuesort":
            if sort == "rowsort":
                expected.sort()
            exp_values = [v for r in expected for v in r]
        else:  # one value per line
            exp_values = [v for l in exp for v in (l.split("\t") if sort == "valuesort" else [l])]
            exp_values = sorted(exp_values) if sort == "valuesort" else exp_values
        real_cols = [i for i, t in enumerate(types) if t == "R"]
        if len(exp_values) == len(values) and all(
                a == b or ((i % max(ncols, 1)) in real_cols and approx_equal(a, b))
                for i, (a, b) in enumerate(zip(exp_values, values))):
            if label:
                self.labels.setdefault(label, values)
            return None
        return "wrong result\n" + side_by_side(exp, actual_lines)

    @staticmethod
    def query(con, sql):
        body = sql.strip().rstrip(";")
        try:  # let DuckDB render each value as VARCHAR
            raw = con.execute(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (\n{body}\n)").fetchall()
            return [[("NULL" if v is None else "(empty)" if v == "" else v) for v in r] for r in raw]
        except Exception:
            raw = con.execute(sql).fetchall()
            return [[render(v) for v in r] for r in raw]


def matches_error(want, msg):
    if want.startswith("<REGEX>:"):
        return re.search(want[8:], msg, re.S) is not None
    if want.startswith("<!REGEX>:"):
        return re.search(want[9:], msg, re.S) is None
    return want in msg


def side_by_side(exp, act):
    out = ["expected:"] + ["  " + l for l in exp[:20]] + (["  ..."] if len(exp) > 20 else [])
    out += ["actual:"] + ["  " + l for l in act[:20]] + (["  ..."] if len(act) > 20 else [])
    return "\n".join(out)


def run_one_file(path, extension):
    runner = None
    try:
        runner = Runner(path, extension)
        runner.run(parse(path), {})
    except SkipFile as e:
        emit(ev="skipfile", reason=str(e))
    except Halt:
        pass
    except Exception as e:  # e.g. `require dataraum` failed to LOAD: fail what is left
        emit(ev="abort", reason=f"{type(e).__name__}: {e}")
    finally:
        if runner:
            shutil.rmtree(runner.tmp, ignore_errors=True)
    emit(ev="done")


# ---------------------------------------------------------------- driver (parent)
def run_file(path, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--one-file", path]
    if args.extension:
        cmd += ["--extension", os.path.abspath(args.extension)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, errors="replace")
    try:
        out, _ = proc.communicate(timeout=args.timeout)
        problem = None
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        problem = f"timeout after {args.timeout} s"
    status, msgs, started, done, skip_reason = {}, {}, None, False, None
    for l in out.splitlines():
        if not l.startswith(MARK):
            print(l)  # stray output of the test itself
            continue
        ev = json.loads(l[len(MARK):])
        if ev["ev"] == "start":
            started = ev["line"]
        elif ev["ev"] == "result":
            started, ln, st = None, ev["line"], ev["status"]
            old = status.get(ln)
            if old != "fail" and not (old == "pass" and st == "skip"):
                status[ln] = st
            if st == "fail" and ln not in msgs:
                msgs[ln] = (ev["sql"], ev["msg"])
        elif ev["ev"] == "abort":
            problem = ev["reason"]
        elif ev["ev"] == "skipfile":
            skip_reason = ev["reason"]
        elif ev["ev"] == "done":
            done = True
    if not done and problem is None:
        rc = proc.returncode
        problem = f"process crashed (signal {-rc})" if rc < 0 else f"process exited with code {rc}"
    if problem or skip_reason:
        try:
            remaining = [ln for ln in static_records(parse(path)) if ln not in status]
        except Exception:
            remaining = []
        if started is not None and started not in remaining:
            remaining.insert(0, started)
        for ln in remaining:
            status[ln] = "fail" if problem else "skip"
            if problem:
                msgs.setdefault(ln, (None, problem))
    return status, msgs, problem or skip_reason


def read_sql(path, line):
    try:
        for n in _walk(parse(path)):
            if n["line"] == line:
                return n["sql"]
    except Exception:
        pass
    return ""


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.get("body", []))


def main():
    ap = argparse.ArgumentParser(description="DuckDB sqllogictest runner")
    ap.add_argument("files", nargs="*")
    ap.add_argument("--extension", help="path to dataraum.duckdb_extension (for `require dataraum`)")
    ap.add_argument("--filter", help="only files whose path contains this substring")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per file")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--one-file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one_file:
        run_one_file(args.one_file, args.extension)
        return
    files = [f for f in args.files if not args.filter or args.filter in f]
    if not files:
        ap.error("no test files")
    totals = {"pass": 0, "fail": 0, "skip": 0}
    for path in files:
        status, msgs, note = run_file(path, args)
        counts = {k: sum(1 for s in status.values() if s == k) for k in totals}
        for ln in sorted(status):
            if status[ln] == "fail":
                print(f"FAIL {path}:{ln}")
                sql, msg = msgs.get(ln, (None, "?"))
                sql = read_sql(path, ln) if sql is None else sql
                if sql:
                    print("  sql: " + sql.replace("\n", "\n       "))
                print("  " + str(msg).replace("\n", "\n  "))
            elif args.verbose:
                print(f"{status[ln].upper():4} {path}:{ln}")
        print(f"{path}: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"
              + (f" ({note})" if note else ""))
        for k in totals:
            totals[k] += counts[k]
    print(f"{totals['pass']} passed, {totals['fail']} failed"
          + (f", {totals['skip']} skipped" if totals["skip"] else ""))
    sys.exit(1 if totals["fail"] else 0)


if __name__ == "__main__":
    main()
