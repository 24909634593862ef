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

-- name: dr_check_integer
-- description: A table macro's option as a whole number from lo to hi (NULL stays NULL), or an error that
--   names the macro, the option and the value (instead of a bare conversion error from the cast).
-- example: SELECT dr_check_integer(5, 'profile_columns', 'top_k', 0, 1000000);
CREATE OR REPLACE MACRO dr_check_integer(v, fn, opt, lo, hi) AS
CASE WHEN v IS NULL THEN NULL::BIGINT
     WHEN coalesce(TRY_CAST(v::VARCHAR AS BIGINT), TRY_CAST(TRY_CAST(v::VARCHAR AS DOUBLE) AS BIGINT)) BETWEEN lo AND hi
     THEN coalesce(TRY_CAST(v::VARCHAR AS BIGINT), TRY_CAST(TRY_CAST(v::VARCHAR AS DOUBLE) AS BIGINT))
     ELSE error(fn::VARCHAR || ': ' || opt::VARCHAR || ' must be a whole number '
                || CASE WHEN hi >= 9223372036854775807 THEN '>= ' || lo ELSE 'from ' || lo || ' to ' || hi END
                || ', got ' || left(v::VARCHAR, 80)) END;

-- name: dr_check_double
-- description: A table macro's option as a number (NULL stays NULL), or an error that names the macro,
--   the option and the value.
-- example: SELECT dr_check_double('0.5', 'persistence_diagram', 'threshold');
CREATE OR REPLACE MACRO dr_check_double(v, fn, opt) AS
CASE WHEN v IS NULL THEN NULL::DOUBLE
     WHEN TRY_CAST(v::VARCHAR AS DOUBLE) IS NOT NULL THEN TRY_CAST(v::VARCHAR AS DOUBLE)
     ELSE error(fn::VARCHAR || ': ' || opt::VARCHAR || ' must be a number, got ' || left(v::VARCHAR, 80)) END;

-- name: dr_check_boolean
-- description: A table macro's option as true or false (NULL stays NULL), or an error that names the
--   macro, the option and the value.
-- example: SELECT dr_check_boolean(true, 'persistence_diagram', 'dedup');
CREATE OR REPLACE MACRO dr_check_boolean(v, fn, opt) AS
CASE WHEN v IS NULL THEN NULL::BOOLEAN
     WHEN TRY_CAST(v::VARCHAR AS BOOLEAN) IS NOT NULL THEN TRY_CAST(v::VARCHAR AS BOOLEAN)
     ELSE error(fn::VARCHAR || ': ' || opt::VARCHAR || ' must be true or false, got ' || left(v::VARCHAR, 80)) END;
