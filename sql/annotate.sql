-- dataraum semantic annotation over the dr_annotate aggregate (offline rules or an LLM).
-- On DuckDB 2.0.1 LOAD dataraum registers these into the system catalog; elsewhere run this
-- file yourself (`.read sql/annotate.sql` in the CLI, after profile.sql and infer.sql).

-- name: annotate_columns
-- description: One row per column of a table or view, in table order: column_name, semantic_role (key,
--   foreign_key, measure, dimension, timestamp, attribute, identifier, free_text), entity_type, business_term,
--   description, unit, confidence, source (heuristic, cache or llm:<model>) and status (ok or the error).
--   Grounded in profile_columns and infer_types statistics. With dataraum_llm_provider = 'none' (default) a
--   deterministic offline annotator answers; otherwise the LLM gets dataraum_llm_batch_columns columns per
--   request, with cache, bounded concurrency and retries (settings dataraum_llm_*, dataraum_cache_path).
-- example: CREATE OR REPLACE TEMP TABLE orders AS SELECT range AS order_id, range % 50 AS customer_id, (range * 7 % 1000) / 10.0 AS amount_usd, DATE '2024-01-01' + (range % 365)::INT AS order_date FROM range(2000); FROM annotate_columns('orders');
CREATE OR REPLACE MACRO annotate_columns(tbl) AS TABLE
WITH profiled AS (
    SELECT row_number() OVER () AS ordinal, * FROM profile_columns(tbl)
), inferred AS (
    SELECT column_name, inferred_type, semantic_type, unit, format FROM infer_types(tbl)
), annotated AS (
    SELECT dr_annotate(
        tbl::VARCHAR, p.column_name, p.column_type,
        to_json({
            ordinal: p.ordinal, row_count: p.row_count, null_ratio: p.null_ratio,
            distinct_count: p.distinct_count, cardinality_ratio: p.cardinality_ratio, is_unique: p.is_unique,
            min: p.min, max: p.max, mean: p.mean, stddev: p.stddev, p50: p.p50, avg_length: p.avg_length,
            top_values: p.top_values[1:5], top_patterns: p.top_patterns[1:3],
            inferred_type: i.inferred_type, semantic_type: i.semantic_type, unit: i.unit, format: i.format
        })::VARCHAR,
        json_object(
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
        )::VARCHAR) AS annotations
    FROM profiled p LEFT JOIN inferred i USING (column_name)
)
SELECT a.column_name, a.semantic_role, a.entity_type, a.business_term, a.description, a.unit,
       a.confidence, a.source, a.status
FROM (SELECT unnest(annotations) AS a FROM annotated);

-- name: annotate_table
-- description: One row describing a table from its column annotations: table_name, entity_type (one row per
--   what), description, is_fact_table (measures beside keys or time), grain (the columns that identify a row:
--   the key, else the foreign keys and the time column) and time_column (the most confident timestamp).
-- example: CREATE OR REPLACE TEMP TABLE sales AS SELECT range AS sale_id, range % 20 AS store_id, (range % 97) * 1.5 AS amount, TIMESTAMP '2024-01-01' + INTERVAL (range) HOUR AS sold_at FROM range(500); FROM annotate_table('sales');
CREATE OR REPLACE MACRO annotate_table(tbl) AS TABLE
WITH cols AS (
    SELECT row_number() OVER () AS ordinal, * FROM annotate_columns(tbl)
), summary AS (
    SELECT
        coalesce(arg_min(entity_type, ordinal) FILTER (WHERE semantic_role = 'key'), mode(entity_type)) AS entity_type,
        count(*) AS n_columns,
        count(*) FILTER (WHERE semantic_role = 'measure') AS n_measures,
        count(*) FILTER (WHERE semantic_role = 'dimension') AS n_dimensions,
        count(*) FILTER (WHERE semantic_role IN ('key', 'foreign_key')) AS n_keys,
        list(column_name ORDER BY ordinal) FILTER (WHERE semantic_role = 'key') AS keys,
        list(column_name ORDER BY ordinal) FILTER (WHERE semantic_role = 'foreign_key') AS foreign_keys,
        arg_max(column_name, coalesce(confidence, 0) * 10000 - ordinal) FILTER (WHERE semantic_role = 'timestamp') AS time_column
    FROM cols
)
SELECT tbl::VARCHAR AS table_name,
       entity_type,
       format('{} table: one row per {}; {} columns ({} measures, {} dimensions, {} keys){}.',
              CASE WHEN n_measures > 0 AND (n_keys > 0 OR time_column IS NOT NULL) THEN 'Fact' ELSE 'Dimension' END,
              coalesce(entity_type, 'row'), n_columns, n_measures, n_dimensions, n_keys,
              CASE WHEN time_column IS NULL THEN '' ELSE ', time in ' || time_column END) AS description,
       n_measures > 0 AND (n_keys > 0 OR time_column IS NOT NULL) AS is_fact_table,
       CASE WHEN len(coalesce(keys, [])) > 0 THEN keys
            WHEN len(coalesce(foreign_keys, [])) > 0 OR time_column IS NOT NULL
                THEN list_concat(coalesce(foreign_keys, []), CASE WHEN time_column IS NULL THEN [] ELSE [time_column] END)
       END AS grain,
       time_column
FROM summary;
