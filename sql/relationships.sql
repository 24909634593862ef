-- dataraum relationships between tables: candidate foreign keys from value containment (exact value
-- counts for small columns, mergeable KMV sketches for large ones), cardinality, orphans, and the
-- join-path summary. One scan per table (dr_table_sketch), then dr_relationships over the sketches.
-- On DuckDB 2.0.0 and 2.0.1 LOAD dataraum registers these into the system catalog; before 2.0 run the
-- text of `SELECT dr_macros_sql()` (every file, adapted to the running release) once per database.

-- name: dr_sketch_sql
-- description: The SQL that computes dr_table_sketch for every table of a list (names as DuckDB
--   resolves them: TEMP tables, views, attached databases, quoted names), one row per table with its
--   sketch and its pair sketch: a second scan, only of the column pairs dr_pair_candidates names, for
--   composite keys. Used by table_relationships and join_paths (optional := true gives an empty query
--   for fewer than two).
-- example: SELECT dr_sketch_sql(['orders', 'customers']);
CREATE OR REPLACE MACRO dr_sketch_sql(tables, optional := false) AS
CASE WHEN TRY_CAST(tables AS VARCHAR[]) IS NULL
     THEN error('table_relationships: give a list of table names, e.g. [''orders'', ''customers'']')
     WHEN len(TRY_CAST(tables AS VARCHAR[])) < 2 AND optional
     THEN 'SELECT NULL::VARCHAR AS table_name, NULL::BLOB AS sketch, NULL::BLOB AS pairs WHERE false'
     WHEN len(TRY_CAST(tables AS VARCHAR[])) < 2
     THEN error('table_relationships: give a list of at least two table names, e.g. [''orders'', ''customers'']')
     ELSE 'WITH dr_s AS MATERIALIZED (' || array_to_string(list_transform(TRY_CAST(tables AS VARCHAR[]), lambda t:
              'SELECT ''' || replace(t, '''', '''''') || ''' AS table_name, dr_table_sketch(dr_row, '
              || current_setting('dataraum_exact_limit') || '::BIGINT) AS sketch FROM query_table('''
              || replace(t, '''', '''''') || ''') dr_row'), ' UNION ALL ')
          || '), dr_c AS MATERIALIZED (SELECT dr_pair_candidates(table_name, sketch) AS c FROM dr_s), dr_p AS ('
          || array_to_string(list_transform(TRY_CAST(tables AS VARCHAR[]), lambda t:
              'SELECT ''' || replace(t, '''', '''''') || ''' AS table_name, dr_table_sketch(dr_row, '
              || current_setting('dataraum_exact_limit') || '::BIGINT, (SELECT [e.pairs FOR e IN c IF e.table_name = '''
              || replace(t, '''', '''''') || '''][1] FROM dr_c)) AS pairs FROM query_table('''
              || replace(t, '''', '''''') || ''') dr_row WHERE (SELECT len([e FOR e IN c IF e.table_name = '''
              || replace(t, '''', '''''') || ''']) > 0 FROM dr_c)'), ' UNION ALL ')
          || ') SELECT table_name, sketch, pairs FROM dr_s LEFT JOIN dr_p USING (table_name)'
END;

-- name: table_relationships
-- description: Candidate foreign keys between the tables of a list: one row per relationship with
--   from_table.from_column -> to_table.to_column, cardinality (1:1, 1:N, or N:M for same-named id
--   columns unique on neither side), containment and Jaccard of the distinct values, orphan rows, rate
--   and values (referential integrity), whether it is exact or from KMV sketches, name affinity,
--   confidence and the evidence. Integer columns need matching names (small ids overlap by chance):
--   the same name, <table>_id -> id, camelCase and plural forms, or table-prefixed names
--   (orders.o_custkey -> customer.c_custkey); text columns need min_containment without it. Composite
--   keys (two columns, e.g. flights (origin, time_hour) -> weather) are reported with the column names
--   joined by ', '.
-- example: CREATE OR REPLACE TEMP TABLE customers AS SELECT range AS customer_id, 'c' || range AS name FROM range(1, 101); CREATE OR REPLACE TEMP TABLE orders AS SELECT range AS order_id, range % 110 + 1 AS customer_id FROM range(1000); FROM table_relationships(['orders', 'customers']);
CREATE OR REPLACE MACRO table_relationships(tables, min_containment := 0.9) AS TABLE
SELECT r.kind, r.from_table, r.from_column, r.to_table, r.to_column, r.cardinality, r.containment, r.jaccard,
       r.from_distinct, r.to_distinct, r.orphan_rows, r.orphan_rate, r.orphan_values, r.null_rows, r.exact,
       r.name_match, r.confidence, r.evidence
FROM (
    SELECT unnest(x.rel.relationships) AS r
    FROM (SELECT dr_relationships(table_name, sketch, dr_check_double(min_containment, 'table_relationships', 'min_containment'), pairs) AS rel FROM query(dr_sketch_sql(tables))) x
);

-- name: join_paths
-- description: The join-path summary of a list of tables from their relationships: each table's role
--   (fact: references others; dimension: referenced; bridge: both and referenced by a bigger table;
--   isolated), row count, the tables it references and is referenced by, and for fact tables a SELECT
--   that joins it to its dimensions (LEFT JOIN where orphans or NULLs exist).
-- example: CREATE OR REPLACE TEMP TABLE stores AS SELECT range AS store_id FROM range(1, 21); CREATE OR REPLACE TEMP TABLE visits AS SELECT range AS visit_id, range % 20 + 1 AS store_id FROM range(500); FROM join_paths(['visits', 'stores']);
CREATE OR REPLACE MACRO join_paths(tables, min_containment := 0.9) AS TABLE
SELECT t.table_name, t.role, t.row_count, t."references", t.referenced_by, t.join_sql
FROM (
    SELECT unnest(x.rel.tables) AS t
    FROM (SELECT dr_relationships(table_name, sketch, dr_check_double(min_containment, 'table_relationships', 'min_containment'), pairs) AS rel FROM query(dr_sketch_sql(tables))) x
);
