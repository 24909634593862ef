-- dataraum table macros over dr_basic_stats.
-- On DuckDB 2.0.0 and 2.0.1 LOAD dataraum registers these into the system catalog; before 2.0 run the
-- text of `SELECT dr_macros_sql()` (every file, adapted to the running release) once per database.

-- name: basic_stats
-- description: One row per column of a table, view or file (any name DuckDB can resolve, TEMP tables and
--   attached databases included) with the dr_basic_stats of that column, in table order.
-- example: CREATE OR REPLACE TEMP TABLE readings AS SELECT range AS id, 'r' || range AS label FROM range(5); FROM basic_stats('readings');
CREATE OR REPLACE MACRO basic_stats(tbl) AS TABLE
SELECT column_name, s.column_type, s.row_count, s.null_count, s.sum, s.min_value, s.max_value,
       s.min_length, s.max_length, s.total_length
FROM (UNPIVOT (SELECT dr_basic_stats(COLUMNS(*)) FROM query_table(tbl))
      ON COLUMNS(*) INTO NAME column_name VALUE s);
