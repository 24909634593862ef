-- dataraum type inference over the dr_infer_type aggregate: from a messy text file to a typed table in SQL.
-- On DuckDB 2.0.0 and 2.0.1 LOAD dataraum registers these into the system catalog; before 2.0 run the
-- text of `SELECT dr_macros_sql()` (every file, adapted to the running release) once per database.

-- name: dr_cast_expression
-- description: The SQL expression that converts column column_name to the type dr_infer_type inferred
--   (failed values become NULL), given that column's dr_infer_type result.
-- example: SELECT dr_cast_expression('price', dr_infer_type(x)) FROM (VALUES ('1,234.50'), ('99.00')) t(x);
CREATE OR REPLACE MACRO dr_cast_expression(column_name, inference) AS
replace(inference.cast_template, '__DR_COLUMN__', '"' || replace(column_name::VARCHAR, '"', '""') || '"');

-- name: infer_types
-- description: One row per column of a table or view, in table order: column_name, declared_type, then the
--   inferred type, format, semantic type, unit, confidence, parse rate, null tokens, candidates, failed
--   examples, ambiguity, quarantine count and cast_sql, the expression that applies the inference.
--   Numbers keep DuckDB's reading ('.' is the decimal point) unless a value proves a ',' decimal
--   (1,5 / 1.234,5 / 1.234.567) or decimal_separator := ',' declares it. Non-text columns are reported
--   as already typed.
-- example: CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM (VALUES ('2024-01-31', '1,234.50', 'yes'), ('2024-02-29', '17.00', 'no'), ('n/a', '(5.25)', 'yes')) t(day, amount, flag); FROM infer_types('raw');
CREATE OR REPLACE MACRO infer_types(tbl, null_tokens := NULL, min_parse_rate := NULL, decimal_separator := NULL) AS TABLE
WITH inferred AS NOT MATERIALIZED (
    UNPIVOT (
        SELECT dr_infer_type(COLUMNS(*),
                             coalesce(null_tokens, current_setting('dataraum_null_tokens'))::VARCHAR,
                             coalesce(dr_check_double(min_parse_rate, 'infer_types', 'min_parse_rate'), current_setting('dataraum_min_parse_rate')::DOUBLE),
                             decimal_separator::VARCHAR)
        FROM query_table(tbl)
    ) ON COLUMNS(*) INTO NAME column_name VALUE inference
), described AS NOT MATERIALIZED (
    -- typeof over one row (NULLs for an empty input), not DESCRIBE: DESCRIBE in a macro body sees
    -- no macro parameters before DuckDB 2.0
    SELECT column_name, column_type, row_number() OVER () AS ordinal FROM (
        UNPIVOT (SELECT typeof(COLUMNS(q.*)) FROM range(1) one LEFT JOIN (FROM query_table(tbl) LIMIT 1) q ON true)
        ON COLUMNS(*) INTO NAME column_name VALUE column_type)
)
SELECT described.column_name, described.column_type AS declared_type,
       inference.inferred_type, inference.format, inference.semantic_type, inference.unit,
       inference.confidence, inference.parse_rate, inference.non_null_count, inference.null_count,
       inference.null_tokens, inference.candidates, inference.failed_examples, inference.ambiguous,
       inference.quarantine_count, inference.distinct_count, inference.already_typed,
       dr_cast_expression(described.column_name, inference) AS cast_sql
FROM described JOIN inferred USING (column_name)
ORDER BY described.ordinal;

-- name: typed_select
-- description: The complete SELECT statement that converts every column of a table to its inferred type
--   (failed values become NULL), ready for CREATE TABLE typed AS <sql>; with the total number of values
--   the casts would lose (the quarantine).
-- example: CREATE OR REPLACE TEMP TABLE raw2 AS SELECT * FROM (VALUES ('1', '2024-01-05'), ('2', '2024-02-07')) t(id, day); FROM typed_select('raw2');
CREATE OR REPLACE MACRO typed_select(tbl) AS TABLE
SELECT 'SELECT ' || string_agg(cast_sql || ' AS "' || replace(column_name, '"', '""') || '"', ', ' ORDER BY ordinal)
       || ' FROM ' || tbl AS sql,
       sum(quarantine_count) AS quarantine_count
FROM (SELECT row_number() OVER () AS ordinal, * FROM infer_types(tbl));

-- name: stage_csv
-- description: Reads any CSV file as text (every column VARCHAR, normalised column names, DuckDB's dialect
--   sniffing for delimiter, quote and header), the first step from a messy file to a typed table.
-- example: COPY (SELECT 1 AS "Order ID", '2024-01-05' AS "Order Date") TO '/tmp/dataraum_stage_example.csv' (HEADER); FROM stage_csv('/tmp/dataraum_stage_example.csv');
CREATE OR REPLACE MACRO stage_csv(path) AS TABLE
SELECT * FROM read_csv(CASE WHEN trim(coalesce(path::VARCHAR, '')) = '' THEN error('stage_csv: give a CSV file path or glob, e.g. stage_csv(''orders.csv'')') ELSE path END,
                       all_varchar = true, normalize_names = true, sample_size = -1);
