-- dataraum table context: one versioned JSON document per table for an AI agent (schema:
-- docs/context.schema.json), and a Markdown rendering sized for an LLM prompt.
-- On DuckDB 2.0.0 and 2.0.1 LOAD dataraum registers these into the system catalog; before 2.0 run the
-- text of `SELECT dr_macros_sql()` (every file, adapted to the running release) once per database.

-- name: dr_quality_flags
-- description: The quality flags of one column, each with the numbers behind it, from its profile (a
--   profile_columns row as a struct) and its inference (an infer_types row as a struct); thresholds come
--   from the dataraum_quality_* settings.
-- example: CREATE OR REPLACE TEMP TABLE msgs AS SELECT CASE WHEN range % 3 = 0 THEN NULL ELSE ' x' || range END AS note FROM range(30); SELECT p.column_name, dr_quality_flags(p, i) FROM profile_columns('msgs') p JOIN infer_types('msgs') i USING (column_name);
CREATE OR REPLACE MACRO dr_quality_flags(p, i) AS list_filter([
    CASE WHEN p.null_ratio >= current_setting('dataraum_quality_null_ratio')::DOUBLE
         THEN {'flag': 'high_null_ratio', 'value': p.null_ratio, 'threshold': current_setting('dataraum_quality_null_ratio')::DOUBLE,
               'detail': p.null_count || ' of ' || p.row_count || ' values are NULL'} END,
    CASE WHEN p.is_constant AND p.row_count > 1
         THEN {'flag': 'constant', 'value': p.distinct_count::DOUBLE, 'threshold': 1.0, 'detail': 'a single distinct value: ' || coalesce(p.min, '?')} END,
    CASE WHEN p.column_type = 'VARCHAR' AND p.cardinality_ratio >= current_setting('dataraum_quality_near_unique')::DOUBLE AND p.row_count - p.null_count >= 20
         THEN {'flag': 'near_unique_text', 'value': p.cardinality_ratio, 'threshold': current_setting('dataraum_quality_near_unique')::DOUBLE,
               'detail': p.distinct_count || ' distinct values in ' || (p.row_count - p.null_count) || ' rows'} END,
    CASE WHEN p.iqr_outlier_count > current_setting('dataraum_quality_outlier_share')::DOUBLE * (p.row_count - p.null_count)
         THEN {'flag': 'iqr_outliers', 'value': p.iqr_outlier_count / greatest(1, p.row_count - p.null_count), 'threshold': current_setting('dataraum_quality_outlier_share')::DOUBLE,
               'detail': p.iqr_outlier_count || ' values outside the 1.5 IQR fences [p25 ' || p.p25 || ', p75 ' || p.p75 || ']'} END,
    CASE WHEN p.modified_z_outlier_count > current_setting('dataraum_quality_outlier_share')::DOUBLE * (p.row_count - p.null_count)
         THEN {'flag': 'modified_z_outliers', 'value': p.modified_z_outlier_count / greatest(1, p.row_count - p.null_count), 'threshold': current_setting('dataraum_quality_outlier_share')::DOUBLE,
               'detail': p.modified_z_outlier_count || ' values with |0.6745 (x - median) / MAD| > 3.5 (MAD ' || p.mad || ')'} END,
    CASE WHEN NOT i.already_typed AND i.inferred_type <> 'VARCHAR' AND i.parse_rate < current_setting('dataraum_quality_parse_rate')::DOUBLE
         THEN {'flag': 'low_parse_rate', 'value': i.parse_rate, 'threshold': current_setting('dataraum_quality_parse_rate')::DOUBLE,
               'detail': i.quarantine_count || ' values do not convert to ' || i.inferred_type || '; e.g. ' || coalesce(array_to_string(i.failed_examples[1:3], ', '), '')} END,
    CASE WHEN NOT i.already_typed AND i.ambiguous
         THEN {'flag': 'mixed_or_ambiguous_format', 'value': i.parse_rate, 'threshold': NULL::DOUBLE,
               'detail': 'format ' || coalesce(i.format, '?') || ' is ambiguous; candidates: ' || array_to_string(list_transform(i.candidates[1:3], lambda c: c.type || coalesce(' ' || c.format, '')), ', ')} END,
    CASE WHEN p.untrimmed_count > 0
         THEN {'flag': 'untrimmed_whitespace', 'value': p.untrimmed_count / greatest(1, p.row_count - p.null_count), 'threshold': 0.0,
               'detail': p.untrimmed_count || ' values with leading or trailing whitespace'} END,
    CASE WHEN NOT i.already_typed AND len(i.null_tokens) > 0
         THEN {'flag': 'null_tokens_as_text', 'value': list_sum(list_transform(i.null_tokens, lambda t: t.count))::DOUBLE, 'threshold': 0.0,
               'detail': 'null-like text: ' || array_to_string(list_transform(i.null_tokens, lambda t: '''' || t.token || ''' x' || t.count), ', ')} END,
    CASE WHEN p.benford.p_value < 0.001 AND (i.semantic_type = 'currency_amount' OR regexp_matches(lower(p.column_name), 'amount|price|total|cost|revenue|sales|value|balance'))
         THEN {'flag': 'benford_deviation', 'value': p.benford.chi2, 'threshold': 0.001,
               'detail': 'first digits deviate from Benford''s law (chi2 ' || round(p.benford.chi2, 1) || ', p ' || p.benford.p_value || ')'} END,
    CASE WHEN NOT i.already_typed AND i.unit IS NOT NULL AND len(list_filter(i.candidates, lambda c: c.parse_rate > 0.05)) > 2
         THEN {'flag': 'possible_unit_mix', 'value': NULL::DOUBLE, 'threshold': NULL::DOUBLE, 'detail': 'unit ' || i.unit || ' with several competing readings'} END
], lambda f: f IS NOT NULL);

-- name: table_context
-- description: One versioned JSON document (context_version 1) describing a table for an AI agent: table
--   facts (rows, columns, fact/dimension guess, grain, time column, description), per column the declared
--   and inferred type, semantic role and description, key statistics and quality flags with their numbers,
--   the strongest correlations, the dependencies (keys, functional dependencies, derived columns), an
--   optional topology summary of the standardized numeric rows (a 5,000-row reservoir sample, then topology_sample furthest points), and generation metadata. Schema:
--   docs/context.schema.json. format := 'markdown' gives the Markdown rendering instead (within
--   max_tokens; still typed JSON, table_context_markdown returns VARCHAR). With the setting
--   dataraum_catalog naming a SQLite file, every document is also stored there for context_history and
--   context_diff.
--   related := ['other', 'tables'] adds the foreign keys between tbl and those tables (their columns become
--   foreign_key / key, and the table's fact or dimension kind comes from the join graph). Columns after the
--   first detail_columns (100) carry no quantiles, top values or descriptions, said so in
--   generated.trimmed: at most 1.5 KB per column up to detail_columns and 0.7 KB after (with few quality
--   flags), plus at most 12 correlations, 40 dependencies and the relationships.
-- example: CREATE OR REPLACE TEMP TABLE sales AS SELECT range AS id, range % 7 AS store, (range % 13) * 2.5 AS amount FROM range(200); SELECT table_context('sales');
CREATE OR REPLACE MACRO table_context(tbl, format := 'json', max_tokens := 2000, topology := true, topology_sample := 300, related := NULL, detail_columns := 100) AS
dr_context_format(dr_catalog_store(tbl::VARCHAR, (
WITH prof AS (SELECT row_number() OVER () AS ordinal,
                     -- quantiles, top values, values and descriptions: every column for format 'dbt'
                     row_number() OVER () <= (CASE WHEN lower(format::VARCHAR) = 'dbt' THEN 2147483647 ELSE dr_check_integer(detail_columns, 'table_context', 'detail_columns', 0, 2147483647) END) AS detailed, * FROM profile_columns(tbl, top_k := 20)),
     inf AS (FROM infer_types(tbl)),
     relx AS (SELECT dr_relationships(table_name, sketch, NULL::DOUBLE, pairs) AS rel
              FROM query(dr_sketch_sql(CASE WHEN related IS NULL THEN [tbl::VARCHAR] ELSE list_prepend(tbl::VARCHAR, related::VARCHAR[]) END, optional := true))),
     rels AS (SELECT unnest(rel.relationships) AS r FROM relx),
     -- the table's role in the join graph of tbl + related (fact, dimension, bridge, isolated)
     joinrole AS (SELECT t.role FROM (SELECT unnest(rel.tables) AS t FROM relx) WHERE t.table_name = tbl::VARCHAR),
     -- the annotator runs as a job awaited from a dr_ticks() scan, so an interrupt stops a slow LLM at once
     ann_job AS (SELECT dr_annotate_job(tbl::VARCHAR, p.column_name, p.column_type, dr_annotation_descriptor(p, i), dr_llm_options()) AS ticket
                 FROM prof p LEFT JOIN inf i USING (column_name)),
     ann0 AS (SELECT unnest(x) AS a
              FROM (SELECT x FROM (SELECT dr_annotate_await(j.ticket, k.scan) AS x FROM ann_job j, dr_ticks() k)
                    WHERE x IS NOT NULL LIMIT 1)),
     -- found relationships override the annotator: referencing columns are foreign keys, referenced ones keys
     ann AS (SELECT a.column_name,
                    CASE WHEN a.column_name IN (SELECT r.to_column FROM rels WHERE r.kind = 'foreign_key' AND r.to_table = tbl::VARCHAR) THEN 'key'
                         WHEN a.semantic_role <> 'key' AND a.column_name IN (SELECT r.from_column FROM rels
                                                                            WHERE r.kind = 'foreign_key' AND r.from_table = tbl::VARCHAR)
                         THEN 'foreign_key'
                         ELSE a.semantic_role END AS semantic_role,
                    a.entity_type, a.business_term, a.description, a.confidence, a.source
             FROM ann0),
     tab AS (SELECT s.* FROM (SELECT dr_table_summary(tbl, list({'column_name': column_name, 'semantic_role': semantic_role,
                                                                 'entity_type': entity_type, 'confidence': confidence} ORDER BY prof.ordinal)) AS s
                              FROM ann JOIN prof USING (column_name))),
     cd AS (SELECT dr_correlations(t, 'pearson,spearman,cramers_v,eta,dependencies', 100000::BIGINT, current_setting('threads')::BIGINT) AS r
            FROM query_table(tbl) t),
     corr AS (SELECT c.column_a, c.column_b, c.method, c.value, c.p_value, c.n, c.strength, c.sampled
              FROM (SELECT unnest(r.correlations) AS c FROM cd)
              WHERE c.value IS NOT NULL AND abs(c.value) >= 0.5 ORDER BY abs(c.value) DESC LIMIT 12),
     fdv AS (SELECT dr_verify_dependencies(t, (SELECT to_json(r.dependencies)::VARCHAR FROM cd),
                                           current_setting('threads')::BIGINT, current_setting('memory_limit')::VARCHAR) AS f
             FROM query_table(tbl) t),
     deps AS (SELECT d.kind, d.determinant, d.dependent, d.confidence, d.violations, d.mu_plus, d.rows, d.expression, d.details
              FROM (SELECT unnest(list_concat(list_concat(list_filter((SELECT r.dependencies FROM cd), lambda x: x.kind = 'candidate_key'),
                                              (SELECT f FROM fdv)),
                                              list_filter((SELECT r.dependencies FROM cd), lambda x: x.kind NOT IN ('candidate_key', 'fd_candidate')))) AS d)
              WHERE d.kind IN ('candidate_key', 'functional_dependency', 'derived_column')
                 OR (d.kind = 'multicollinearity' AND d.confidence >= 0.99) LIMIT 40),
     topo AS (SELECT dr_persistence(t, 1, NULL, 'euclidean', true, dr_check_integer(topology_sample, 'table_context', 'topology_sample', 2, 100000)::BIGINT, 2,
                                    current_setting('threads')::BIGINT, current_setting('memory_limit')::VARCHAR, true) AS d
              FROM (FROM query_table(tbl) USING SAMPLE 5000 ROWS (reservoir, 42)) t WHERE dr_check_boolean(topology, 'table_context', 'topology') AND lower(format::VARCHAR) <> 'dbt'),
     cols AS (
        SELECT prof.ordinal, json_object(
            'name', prof.column_name,
            'declared_type', prof.column_type,
            'inferred', json_object('type', inf.inferred_type, 'format', inf.format, 'semantic_type', inf.semantic_type,
                                    'unit', inf.unit, 'parse_rate', inf.parse_rate, 'confidence', inf.confidence),
            'semantics', json_object('role', ann.semantic_role, 'entity_type', ann.entity_type, 'business_term', ann.business_term,
                                     'description', CASE WHEN prof.detailed THEN ann.description END,
                                     'confidence', ann.confidence, 'source', ann.source),
            'stats', json_object('null_count', prof.null_count, 'null_ratio', prof.null_ratio,
                                 'distinct_count', prof.distinct_count, 'distinct_is_exact', prof.distinct_is_exact,
                                 'min', prof.min, 'max', prof.max, 'mean', prof.mean, 'stddev', prof.stddev,
                                 'quantiles', CASE WHEN prof.p50 IS NOT NULL AND prof.detailed THEN json_object('p05', prof.p05, 'p25', prof.p25, 'p50', prof.p50,
                                                                                 'p75', prof.p75, 'p95', prof.p95) END,
                                 'quantiles_exact', prof.quantiles_exact,
                                 'top_values', CASE WHEN prof.detailed THEN to_json(prof.top_values[1:5]) END,
                                 -- every distinct value, most frequent first, when there are at most 20, counted exactly
                                 -- and short: their counts add up to the non-NULL rows
                                 'values', CASE WHEN prof.detailed AND prof.distinct_is_exact AND prof.distinct_count BETWEEN 1 AND 20
                                                     AND coalesce(prof.max_length, 0) <= 200
                                                     AND list_sum(list_transform(prof.top_values, lambda t: t.count)) = prof.row_count - prof.null_count
                                                THEN to_json(list_transform(prof.top_values, lambda t: t.value)) END),
            'quality_flags', to_json(dr_quality_flags(prof, inf))) AS c
        FROM prof JOIN inf USING (column_name) JOIN ann USING (column_name))
SELECT json_object(
    'context_version', 1,
    'table', (SELECT json_object('name', tbl, 'row_count', (SELECT max(row_count) FROM prof), 'column_count', (SELECT count(*) FROM prof),
                                 'kind', k.kind,
                                 'entity_type', tab.entity_type, 'grain', to_json(coalesce((SELECT d.determinant FROM deps d WHERE d.kind = 'candidate_key' AND d.details LIKE '%all rows%'
                                                                      ORDER BY len(d.determinant), d.confidence DESC LIMIT 1), tab.grain)), 'time_column', tab.time_column,
                                 'description', regexp_replace(tab.description, '^(Fact|Dimension) table', CASE k.kind WHEN 'fact' THEN 'Fact table' ELSE 'Dimension table' END))
                 FROM tab, (SELECT CASE (SELECT role FROM joinrole) WHEN 'fact' THEN 'fact' WHEN 'dimension' THEN 'dimension' WHEN 'bridge' THEN 'dimension'
                                        ELSE CASE WHEN (SELECT is_fact_table FROM tab) THEN 'fact' ELSE 'dimension' END END AS kind) k),
    'columns', (SELECT to_json(list(c ORDER BY ordinal)) FROM cols),
    'correlations', coalesce((SELECT json_group_array(json_object('column_a', column_a, 'column_b', column_b, 'method', method,
                                                                  'value', value, 'p_value', p_value, 'n', n, 'strength', strength, 'sampled', sampled))
                              FROM corr), '[]'::JSON),
    'dependencies', coalesce((SELECT json_group_array(json_object('kind', kind, 'determinant', to_json(determinant), 'dependent', dependent,
                                                                  'confidence', confidence, 'violations', violations, 'mu_plus', mu_plus, 'rows', rows, 'expression', expression,
                                                                  'details', details)) FROM deps), '[]'::JSON),
    'relationships', coalesce((SELECT json_group_array(json_object('kind', r.kind, 'from_table', r.from_table, 'from_column', r.from_column,
                                                                   'to_table', r.to_table, 'to_column', r.to_column, 'cardinality', r.cardinality,
                                                                   'containment', r.containment, 'orphan_rows', r.orphan_rows, 'orphan_rate', r.orphan_rate,
                                                                   'exact', r.exact, 'confidence', r.confidence, 'evidence', r.evidence))
                               FROM rels WHERE r.kind = 'foreign_key' AND (r.from_table = tbl OR r.to_table = tbl)), '[]'::JSON),
    'topology', (SELECT CASE WHEN d IS NULL THEN NULL ELSE json_object(
                     'betti_numbers', to_json(dr_betti_numbers(d, 0.25 * list_max(list_transform(list_filter(d, lambda b: b.death < 'inf'::DOUBLE), lambda b: b.death - b.birth)))),
                     'min_persistence', 0.25 * list_max(list_transform(list_filter(d, lambda b: b.death < 'inf'::DOUBLE), lambda b: b.death - b.birth)),
                     'persistent_entropy', dr_persistent_entropy(d),
                     'summary', to_json(dr_diagram_summary(d)),
                     'sampled_points', dr_check_integer(topology_sample, 'table_context', 'topology_sample', 2, 100000), 'standardized', true) END FROM topo),
    'generated', json_object('extension_version', dr_version().extension_version, 'duckdb_version', dr_version().duckdb_version,
                             'timestamp', strftime(now()::TIMESTAMP, '%Y-%m-%dT%H:%M:%S'),
                             'exact', json_object('distinct_counts', (SELECT bool_and(distinct_is_exact) FROM prof),
                                                  'quantiles', coalesce((SELECT bool_and(quantiles_exact) FROM prof WHERE quantiles_exact IS NOT NULL), true),
                                                  'correlations_sampled', coalesce((SELECT bool_or(sampled) FROM corr), false),
                                                  'topology_sampled', dr_check_boolean(topology, 'table_context', 'topology')),
                             'trimmed', (SELECT CASE WHEN NOT bool_and(detailed) THEN json_object(
                                 'detail_columns', dr_check_integer(detail_columns, 'table_context', 'detail_columns', 0, 2147483647), 'trimmed_columns', count(*) - dr_check_integer(detail_columns, 'table_context', 'detail_columns', 0, 2147483647),
                                 'note', 'columns after the first ' || dr_check_integer(detail_columns, 'table_context', 'detail_columns', 0, 2147483647) || ' carry no quantiles, top values or descriptions (detail_columns := ...)') END
                                         FROM prof))
)), current_setting('dataraum_catalog')), format::VARCHAR, dr_check_integer(max_tokens, 'table_context', 'max_tokens', 0, 9223372036854775807), current_schema(),
   (SELECT string_agg(keyword_name, ',') FROM duckdb_keywords() WHERE keyword_category <> 'unreserved'));

-- name: table_context_markdown
-- description: The table_context document as compact Markdown for an LLM prompt, within max_tokens
--   (about 4 characters per token); detail is dropped in a fixed order when it does not fit: topology,
--   then dependencies beyond the keys, correlations, top values, quantiles, and finally per-column
--   descriptions.
-- example: CREATE OR REPLACE TEMP TABLE sales2 AS SELECT range AS id, range % 7 AS store, (range % 13) * 2.5 AS amount FROM range(200); SELECT table_context_markdown('sales2', max_tokens := 600);
CREATE OR REPLACE MACRO table_context_markdown(tbl, max_tokens := 2000) AS
dr_context_markdown(table_context(tbl), dr_check_integer(max_tokens, 'table_context_markdown', 'max_tokens', 0, 9223372036854775807));

-- name: dbt_sources
-- description: The context of a set of tables as a dbt sources property file (version 2, dbt-core
--   1.10), as VARCHAR: one source (source_name, default the schema) with per table and column the
--   description, data_type and the numbers in meta.dataraum, and the data tests the statistics prove on
--   the data they came from: not_null (no NULL), unique (exact distinct count = non-NULL rows, or a
--   candidate key over all rows; not for FLOAT, DOUBLE or DECIMAL with digits after the point), accepted_values (text columns with at
--   most 20 distinct values, 2+ rows each), relationships (foreign keys of table_relationships between
--   the tables with exact containment and no orphan row; the others are listed in meta with their
--   orphans; a table's kind, fact or dimension, comes from that join graph). Ranges stay in meta (dbt-core has no range test without packages). Odd table names get a
--   dbt-safe name with identifier and quoting; odd column names quote: true.
-- example: CREATE OR REPLACE TEMP TABLE shops AS SELECT range AS shop_id, 'shop ' || range AS name FROM range(1, 21); CREATE OR REPLACE TEMP TABLE sales_dbt AS SELECT range AS sale_id, range % 20 + 1 AS shop_id, ['card', 'cash'][range % 2 + 1] AS paid_by FROM range(500); SELECT dbt_sources(['sales_dbt', 'shops'], source_name := 'shop');
CREATE OR REPLACE MACRO dbt_sources(tables, source_name := NULL, schema := NULL, database := NULL) AS
dr_context_dbt(
    (SELECT to_json(list(doc ORDER BY ord)) FROM query(CASE WHEN TRY_CAST(tables AS VARCHAR[]) IS NULL OR len(TRY_CAST(tables AS VARCHAR[])) = 0 THEN error('dbt_sources: give a list of table names, e.g. [''orders'', ''customers'']')
        WHEN len(list_distinct([lower(t) FOR t IN TRY_CAST(tables AS VARCHAR[])])) < len(TRY_CAST(tables AS VARCHAR[]))
        THEN error('dbt_sources: a table is listed twice; list each table once')
        ELSE array_to_string(list_transform(TRY_CAST(tables AS VARCHAR[]), lambda t, i:
            'SELECT ' || i || ' AS ord, table_context(''' || replace(t, '''', '''''') || ''', topology := false, detail_columns := 2147483647) AS doc'),
            ' UNION ALL ') END)),
    (SELECT to_json(x.rel)
     FROM (SELECT dr_relationships(table_name, sketch, NULL::DOUBLE, pairs) AS rel FROM query(dr_sketch_sql(TRY_CAST(tables AS VARCHAR[]), optional := true))) x),
    source_name::VARCHAR, coalesce(schema::VARCHAR, current_schema()), database::VARCHAR,
    (SELECT string_agg(keyword_name, ',') FROM duckdb_keywords() WHERE keyword_category <> 'unreserved'));

-- name: context_history
-- description: Every table_context document stored for a table in the catalog (setting
--   dataraum_catalog, a SQLite file), oldest first: version, generated_at, context_version, row and
--   column counts, and the document.
-- example: SET dataraum_catalog = '/tmp/dataraum_example_catalog.sqlite'; CREATE OR REPLACE TEMP TABLE hist AS SELECT range AS id FROM range(10); SELECT table_context('hist', topology := false) IS NOT NULL; SELECT count(*) >= 1 FROM context_history('hist');
CREATE OR REPLACE MACRO context_history(tbl) AS TABLE
SELECT version, table_name, generated_at::TIMESTAMP AS generated_at, context_version, row_count, column_count, document
FROM dr_context_history(tbl::VARCHAR);

-- name: context_diff
-- description: What changed between the last two stored table_context documents of a table: schema
--   (columns added or removed, declared or inferred type), row count, and per column the NULL ratio
--   (two-proportion z-test), distinct count, mean (Welch test, drift only at >= 0.1 SD) or top-value
--   shares (total variation distance); each row with its statistic, p-value, drift verdict and rule.
-- example: SET dataraum_catalog = '/tmp/dataraum_example_catalog.sqlite'; CREATE OR REPLACE TEMP TABLE drift AS SELECT range AS id FROM range(10); SELECT table_context('drift', topology := false) IS NOT NULL; INSERT INTO drift SELECT range FROM range(10, 30); SELECT table_context('drift', topology := false) IS NOT NULL; SELECT kind, column_name, metric, drift FROM context_diff('drift');
CREATE OR REPLACE MACRO context_diff(tbl) AS TABLE
SELECT kind, column_name, metric, before, after, statistic, p_value, drift, detail, before_version, after_version
FROM dr_context_diff(tbl::VARCHAR);
