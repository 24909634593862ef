-- dataraum analysis states: one BLOB per column (per table for correlations), computed anywhere
-- (another process, another machine, yesterday), merged later into exactly the one-pass result.
-- On DuckDB 2.0.0 and 2.0.1 LOAD dataraum registers these into the system catalog; before 2.0 run the
-- text of `SELECT dr_macros_sql()` (every file, adapted to the running release) once per database.

-- name: profile_states
-- description: One row per column of a table or view: column_index, column_name, column_type and state,
--   the column's dr_profile_state BLOB, from one parallel scan. Store the rows (a table, a Parquet file)
--   and turn any number of them back into profile_columns rows with profile_merged.
-- example: CREATE OR REPLACE TEMP TABLE trips AS SELECT range AS id, 'c' || (range % 3) AS city FROM range(1000); SELECT column_name, octet_length(state) > 0 AS ok FROM profile_states('trips');
CREATE OR REPLACE MACRO profile_states(tbl, exact_limit := NULL, top_k := 10) AS TABLE
WITH states AS NOT MATERIALIZED (
    UNPIVOT (
        SELECT dr_profile_state(COLUMNS(*), coalesce(dr_check_integer(exact_limit, 'profile_states', 'exact_limit', 0, 9223372036854775807),
                                                  current_setting('dataraum_exact_limit')::BIGINT),
                                dr_check_integer(top_k, 'profile_states', 'top_k', 0, 9223372036854775807),
                                current_setting('threads')::BIGINT)
        FROM query_table(tbl)
    ) ON COLUMNS(*) INTO NAME column_name VALUE state
), described AS NOT MATERIALIZED (
    SELECT column_name, column_type, row_number() OVER () AS ordinal FROM (
        UNPIVOT (SELECT typeof(COLUMNS(q.*)) FROM range(1) one LEFT JOIN (FROM query_table(tbl) LIMIT 1) q ON true)
        ON COLUMNS(*) INTO NAME column_name VALUE column_type)
)
SELECT described.ordinal AS column_index, described.column_name, described.column_type, states.state
FROM described JOIN states USING (column_name)
ORDER BY described.ordinal;

-- name: profile_merged
-- description: The profile_columns rows of the states in a table or view with the columns of
--   profile_states (column_index, column_name, column_type, state), any number of rows per column (one
--   per file, per machine, per day): dr_profile_merge per column_name, in column_index order.
-- example: CREATE OR REPLACE TEMP TABLE day1 AS SELECT range AS id FROM range(100); CREATE OR REPLACE TEMP TABLE st AS FROM profile_states('day1'); FROM profile_merged('st');
CREATE OR REPLACE MACRO profile_merged(states) AS TABLE
WITH merged AS NOT MATERIALIZED (
    -- BY NAME against an empty typed row: a table without these columns gets NULLs, refused below
    SELECT column_name, min(column_index) AS ordinal, min(column_type) AS column_type,
           dr_profile_merge(CASE WHEN column_name IS NULL OR column_index IS NULL
                     THEN error('profile_merged: every row of ' || states || ' needs column_index, column_name and state (the columns profile_states returns)')
                     ELSE state END) AS profile
    FROM (SELECT NULL::BIGINT AS column_index, NULL::VARCHAR AS column_name, NULL::VARCHAR AS column_type, NULL::BLOB AS state WHERE false
          UNION ALL BY NAME FROM query_table(states))
    GROUP BY column_name
)
SELECT column_name, column_type, unnest(profile)
FROM merged
ORDER BY ordinal;

-- name: infer_states
-- description: One row per column of a table or view: column_index, column_name, column_type and state,
--   the column's dr_infer_state BLOB (options as infer_types). infer_merged turns any number of such rows
--   back into infer_types rows.
-- example: CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM (VALUES ('2024-01-31', '1,234.50'), ('2024-02-29', '17.00')) t(day, amount); SELECT column_name, octet_length(state) > 0 AS ok FROM infer_states('raw');
CREATE OR REPLACE MACRO infer_states(tbl, null_tokens := NULL, min_parse_rate := NULL, decimal_separator := NULL) AS TABLE
WITH states AS NOT MATERIALIZED (
    UNPIVOT (
        SELECT dr_infer_state(COLUMNS(*),
                              coalesce(null_tokens, current_setting('dataraum_null_tokens'))::VARCHAR,
                              coalesce(dr_check_double(min_parse_rate, 'infer_states', 'min_parse_rate'), current_setting('dataraum_min_parse_rate')::DOUBLE),
                              decimal_separator::VARCHAR)
        FROM query_table(tbl)
    ) ON COLUMNS(*) INTO NAME column_name VALUE state
), described AS NOT MATERIALIZED (
    SELECT column_name, column_type, row_number() OVER () AS ordinal FROM (
        UNPIVOT (SELECT typeof(COLUMNS(q.*)) FROM range(1) one LEFT JOIN (FROM query_table(tbl) LIMIT 1) q ON true)
        ON COLUMNS(*) INTO NAME column_name VALUE column_type)
)
SELECT described.ordinal AS column_index, described.column_name, described.column_type, states.state
FROM described JOIN states USING (column_name)
ORDER BY described.ordinal;

-- name: infer_merged
-- description: The infer_types rows of the states in a table or view with the columns of infer_states,
--   any number of rows per column: dr_infer_merge per column_name, in column_index order.
-- example: CREATE OR REPLACE TEMP TABLE raw3 AS SELECT * FROM (VALUES ('1'), ('2.5')) t(x); CREATE OR REPLACE TEMP TABLE ist AS FROM infer_states('raw3'); SELECT column_name, inferred_type FROM infer_merged('ist');
CREATE OR REPLACE MACRO infer_merged(states) AS TABLE
WITH merged AS NOT MATERIALIZED (
    -- BY NAME against an empty typed row: a table without these columns gets NULLs, refused below
    SELECT column_name, min(column_index) AS ordinal, min(column_type) AS column_type,
           dr_infer_merge(CASE WHEN column_name IS NULL OR column_index IS NULL
                     THEN error('infer_merged: every row of ' || states || ' needs column_index, column_name and state (the columns infer_states returns)')
                     ELSE state END) AS inference
    FROM (SELECT NULL::BIGINT AS column_index, NULL::VARCHAR AS column_name, NULL::VARCHAR AS column_type, NULL::BLOB AS state WHERE false
          UNION ALL BY NAME FROM query_table(states))
    GROUP BY column_name
)
SELECT column_name, column_type AS declared_type,
       inference.inferred_type, inference.format, inference.semantic_type, inference.unit,
       inference.confidence, inference.parse_rate, inference.non_null_count, inference.null_count,
       inference.null_tokens, inference.candidates, inference.failed_examples, inference.ambiguous,
       inference.quarantine_count, inference.distinct_count, inference.already_typed,
       dr_cast_expression(column_name, inference) AS cast_sql
FROM merged
ORDER BY ordinal;

-- name: correlation_states
-- description: One row with the dr_correlations_state BLOB of a table or view (every column, whole rows;
--   methods and sample_size as column_correlations). correlations_merged turns any number of such rows
--   back into column_correlations rows.
-- example: CREATE OR REPLACE TEMP TABLE pts AS SELECT range AS x, range * 2 + 1 AS y FROM range(100); SELECT octet_length(state) > 0 FROM correlation_states('pts');
CREATE OR REPLACE MACRO correlation_states(tbl, methods := NULL, sample_size := NULL) AS TABLE
SELECT dr_correlations_state(t, coalesce(methods, 'pearson,spearman,kendall,cramers_v,theils_u,eta,mutual_info')::VARCHAR,
                             coalesce(dr_check_integer(sample_size, 'correlation_states', 'sample_size', 0, 9223372036854775807), 100000)) AS state
FROM query_table(tbl) t;

-- name: correlations_merged
-- description: The column_correlations rows of the states in a table or view with a column state
--   (from correlation_states), merged with dr_correlations_merge on DuckDB's threads.
-- example: CREATE OR REPLACE TEMP TABLE pts2 AS SELECT range AS x, range * 2 + 1 AS y FROM range(100); CREATE OR REPLACE TEMP TABLE cst AS FROM correlation_states('pts2'); SELECT method, value FROM correlations_merged('cst') WHERE method = 'pearson';
CREATE OR REPLACE MACRO correlations_merged(states) AS TABLE
SELECT c.column_a, c.column_b, c.method, c.value, c.p_value, c.n, c.strength, c.significant, c.sampled,
       c.skipped_reason, c.statistic, c.dof
FROM (
    SELECT unnest(r.correlations) AS c
    FROM (
        SELECT dr_correlations_merge(CASE WHEN state IS NULL
                                          THEN error('correlations_merged: every row of ' || states || ' needs a state BLOB (the column correlation_states returns)')
                                          ELSE state END, current_setting('threads')::BIGINT) AS r
        FROM (SELECT NULL::BLOB AS state WHERE false UNION ALL BY NAME FROM query_table(states))
    )
);
