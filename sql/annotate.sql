-- dataraum semantic annotation over the dr_annotate aggregate (offline rules or an LLM).
-- On DuckDB 2.0.0 and 2.0.1 LOAD dataraum registers these into the system catalog; before 2.0 run the
-- text of `SELECT dr_macros_sql()` (every file, adapted to the running release) once per database.

-- name: dr_annotation_descriptor
-- description: The JSON descriptor dr_annotate receives for one column, from its profile (a profile_columns
--   row with an ordinal, as a struct) and its inference (an infer_types row as a struct): counts, ratios,
--   real min/max/mean, top values and patterns, inferred type, semantic type, unit and format.
-- example: CREATE OR REPLACE TEMP TABLE d AS SELECT range AS id FROM range(10); SELECT dr_annotation_descriptor(p, i) FROM (SELECT 1 AS ordinal, * FROM profile_columns('d')) p JOIN infer_types('d') i USING (column_name);
CREATE OR REPLACE MACRO dr_annotation_descriptor(p, i) AS to_json({
    ordinal: p.ordinal, row_count: p.row_count, null_ratio: p.null_ratio,
    distinct_count: p.distinct_count, cardinality_ratio: p.cardinality_ratio, is_unique: p.is_unique,
    min: p.min, max: p.max, mean: p.mean, stddev: p.stddev, p50: p.p50, avg_length: p.avg_length,
    top_values: p.top_values[1:5], top_patterns: p.top_patterns[1:3],
    inferred_type: i.inferred_type, semantic_type: i.semantic_type, unit: i.unit, format: i.format
})::VARCHAR;

-- name: dr_llm_options
-- description: The session's dataraum_llm_* settings and dataraum_cache_path as the JSON options object
--   dr_annotate takes.
-- example: SELECT dr_llm_options();
CREATE OR REPLACE MACRO dr_llm_options() AS json_object(
    'provider', current_setting('dataraum_llm_provider'),
    'base_url', current_setting('dataraum_llm_base_url'),
    'model', current_setting('dataraum_llm_model'),
    'api_key_env', current_setting('dataraum_llm_api_key_env'),
    'max_concurrency', current_setting('dataraum_llm_max_concurrency'),
    'timeout_ms', current_setting('dataraum_llm_timeout_ms'),
    'max_retries', current_setting('dataraum_llm_max_retries'),
    'max_requests', current_setting('dataraum_llm_max_requests'),
    'batch_columns', current_setting('dataraum_llm_batch_columns'),
    'share_values', current_setting('dataraum_llm_share_values'),
    'cache_path', current_setting('dataraum_cache_path')
)::VARCHAR;

-- name: annotate_columns
-- description: One row per column of a table or view, in table order: column_name, semantic_role (key,
--   foreign_key, measure, dimension, timestamp, attribute, identifier, free_text), entity_type, business_term,
--   description, unit, confidence, source (heuristic, cache or llm:<model>) and status (ok or the error).
--   Grounded in profile_columns and infer_types statistics. With dataraum_llm_provider = 'none' (default) a
--   deterministic offline annotator answers; otherwise the LLM gets dataraum_llm_batch_columns columns per
--   request, with cache, bounded concurrency and retries (settings dataraum_llm_*, dataraum_cache_path).
--   The LLM is awaited through dr_annotate_job / dr_annotate_await / dr_ticks(), so Ctrl-C or interrupt()
--   stops the query within a fraction of a second and cancels the open requests.
-- example: CREATE OR REPLACE TEMP TABLE orders AS SELECT range AS order_id, range % 50 AS customer_id, (range * 7 % 1000) / 10.0 AS amount_usd, DATE '2024-01-01' + (range % 365)::INT AS order_date FROM range(2000); FROM annotate_columns('orders');
CREATE OR REPLACE MACRO annotate_columns(tbl) AS TABLE
WITH profiled AS NOT MATERIALIZED (
    SELECT row_number() OVER () AS ordinal, * FROM profile_columns(tbl)
), inferred AS NOT MATERIALIZED (
    FROM infer_types(tbl)
), dr_job AS NOT MATERIALIZED (
    SELECT dr_annotate_job(tbl::VARCHAR, p.column_name, p.column_type, dr_annotation_descriptor(p, i), dr_llm_options()) AS ticket
    FROM profiled p LEFT JOIN inferred i USING (column_name)
), annotated AS NOT MATERIALIZED (
    -- NOT MATERIALIZED: a materialized CTE hides the dr_ticks() scan's progress from DuckDB
    SELECT annotations
    FROM (SELECT dr_annotate_await(j.ticket, k.scan) AS annotations FROM dr_job j, dr_ticks() k)
    WHERE annotations IS NOT NULL LIMIT 1
)
SELECT a.column_name, a.semantic_role, a.entity_type, a.business_term, a.description, a.unit,
       a.confidence, a.source, a.status
FROM (SELECT unnest(annotations) AS a FROM annotated);

-- name: dr_plural
-- description: A count with its noun, singular for 1 and plural otherwise (adds 's'), for generated text.
-- example: SELECT dr_plural(1, 'key'), dr_plural(3, 'column');
CREATE OR REPLACE MACRO dr_plural(n, word) AS n || ' ' || word || CASE WHEN n = 1 THEN '' ELSE 's' END;

-- name: dr_table_summary
-- description: The annotate_table row of a table (as a struct) from the list of its column annotations in
--   table order (annotate_columns rows or dr_annotate results): entity type, description, fact or
--   dimension, grain and time column.
-- example: SELECT dr_table_summary('t', [{'column_name': 'id', 'semantic_role': 'key', 'entity_type': 'order', 'confidence': 0.9}, {'column_name': 'amount', 'semantic_role': 'measure', 'entity_type': 'order', 'confidence': 0.8}]);
CREATE OR REPLACE MACRO dr_table_summary(tbl, cols) AS (
WITH c AS (
    SELECT unnest(cols) AS a, generate_subscripts(cols, 1) AS ordinal
), summary AS (
    SELECT
        coalesce(arg_min(a.entity_type, ordinal) FILTER (WHERE a.semantic_role = 'key'), mode(a.entity_type)) AS entity_type,
        count(*) AS n_columns,
        count(*) FILTER (WHERE a.semantic_role = 'measure') AS n_measures,
        count(*) FILTER (WHERE a.semantic_role = 'dimension') AS n_dimensions,
        count(*) FILTER (WHERE a.semantic_role IN ('key', 'foreign_key')) AS n_keys,
        list(a.column_name ORDER BY ordinal) FILTER (WHERE a.semantic_role = 'key') AS keys,
        list(a.column_name ORDER BY ordinal) FILTER (WHERE a.semantic_role = 'foreign_key') AS foreign_keys,
        arg_max(a.column_name, coalesce(a.confidence, 0) * 10000 - ordinal) FILTER (WHERE a.semantic_role = 'timestamp') AS time_column
    FROM c
)
SELECT {
    'table_name': tbl::VARCHAR,
    'entity_type': entity_type,
    'description': format('{} table: one row per {}; {} ({}, {}, {}){}.',
              CASE WHEN n_measures > 0 AND (n_keys > 0 OR time_column IS NOT NULL) THEN 'Fact' ELSE 'Dimension' END,
              coalesce(entity_type, 'row'), dr_plural(n_columns, 'column'), dr_plural(n_measures, 'measure'),
              dr_plural(n_dimensions, 'dimension'), dr_plural(n_keys, 'key'),
              CASE WHEN time_column IS NULL THEN '' ELSE ', time in ' || time_column END),
    'is_fact_table': n_measures > 0 AND (n_keys > 0 OR time_column IS NOT NULL),
    'grain': CASE WHEN len(coalesce(keys, [])) > 0 THEN keys
                  WHEN len(coalesce(foreign_keys, [])) > 0 OR time_column IS NOT NULL
                      THEN list_concat(coalesce(foreign_keys, []), CASE WHEN time_column IS NULL THEN [] ELSE [time_column] END)
             END,
    'time_column': time_column
} FROM summary);

-- name: annotate_table
-- description: One row describing a table from its column annotations: table_name, entity_type (one row per
--   what), description, is_fact_table (measures beside keys or time), grain (the columns that identify a row:
--   the key, else the foreign keys and the time column) and time_column (the most confident timestamp).
-- example: CREATE OR REPLACE TEMP TABLE sales AS SELECT range AS sale_id, range % 20 AS store_id, (range % 97) * 1.5 AS amount, TIMESTAMP '2024-01-01' + INTERVAL (range) HOUR AS sold_at FROM range(500); FROM annotate_table('sales');
CREATE OR REPLACE MACRO annotate_table(tbl) AS TABLE
SELECT s.table_name, s.entity_type, s.description, s.is_fact_table, s.grain, s.time_column
FROM (SELECT dr_table_summary(tbl, list({'column_name': column_name, 'semantic_role': semantic_role, 'entity_type': entity_type,
                                          'confidence': confidence} ORDER BY ordinal)) AS s
      FROM (SELECT row_number() OVER () AS ordinal, * FROM annotate_columns(tbl)));
