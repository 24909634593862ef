-- dataraum correlations and dependencies over the dr_correlations aggregate (one scan of whole rows).
-- On DuckDB 2.0.0 and 2.0.1 LOAD dataraum registers these into the system catalog; before 2.0 run the
-- text of `SELECT dr_macros_sql()` (every file, adapted to the running release) once per database.

-- name: column_correlations
-- description: One row per column pair and measure: Pearson, Spearman, Kendall tau-b (numeric pairs),
--   Cramer's V and Theil's U (categorical pairs), correlation ratio eta (mixed), normalised mutual
--   information (any), with p-value, n, strength, significance (p < 0.05) and whether it came from the
--   row sample. methods is a comma-separated subset; sample_size the row budget of rank measures and MI.
-- example: CREATE OR REPLACE TEMP TABLE pts AS SELECT range AS x, range * 2 + (range % 7) AS y, range % 3 AS g FROM range(500); FROM column_correlations('pts', methods := 'pearson,spearman');
CREATE OR REPLACE MACRO column_correlations(tbl, methods := NULL, sample_size := NULL) AS TABLE
SELECT c.column_a, c.column_b, c.method, c.value, c.p_value, c.n, c.strength, c.significant, c.sampled,
       c.skipped_reason, c.statistic, c.dof
FROM (
    SELECT unnest(r.correlations) AS c
    FROM (
        SELECT dr_correlations(t, coalesce(methods, 'pearson,spearman,kendall,cramers_v,theils_u,eta,mutual_info')::VARCHAR, coalesce(dr_check_integer(sample_size, 'column_correlations', 'sample_size', 0, 9223372036854775807), 100000),
                               current_setting('threads')::BIGINT) AS r
        FROM query_table(tbl) t
    )
);

-- name: column_dependencies
-- description: Dependencies between a table's columns: functional dependencies (one- and two-column
--   determinants) with the confidence and violations of all rows (a second scan verifies every
--   candidate; rows with a NULL determinant are left out, NULL in the dependent counts as a value),
--   mu_plus (confidence corrected for chance, the ranking), the rows and determinant values judged;
--   reported at confidence >= 0.95 when the determinant's groups average at least 2 rows. Also
--   candidate keys, derived columns (C = A + B, A - B, A * B, A / B with the expression) and
--   multicollinearity (VIF, condition indices).
-- example: CREATE OR REPLACE TEMP TABLE orders AS SELECT range AS id, range % 5 AS qty, 2.5 AS price, (range % 5) * 2.5 AS total FROM range(300); FROM column_dependencies('orders');
CREATE OR REPLACE MACRO column_dependencies(tbl) AS TABLE
WITH c AS MATERIALIZED (
         SELECT dr_correlations(t, 'dependencies', 100000::BIGINT, current_setting('threads')::BIGINT) AS r
         FROM query_table(tbl) t),
     v AS MATERIALIZED (
         SELECT dr_verify_dependencies(t, (SELECT to_json(r.dependencies)::VARCHAR FROM c),
                                       current_setting('threads')::BIGINT, current_setting('memory_limit')::VARCHAR) AS f
         FROM query_table(tbl) t)
SELECT d.kind, d.determinant, d.dependent, d.confidence, d.violations, d.mu_plus, d.rows, d.determinant_values,
       d.expression, d.details
FROM (
    SELECT unnest(list_concat((SELECT f FROM v),
                              list_filter((SELECT r.dependencies FROM c), lambda x: x.kind <> 'fd_candidate'))) AS d
);
