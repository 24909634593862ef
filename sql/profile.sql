-- dataraum column profiles over the dr_profile aggregate.
-- On DuckDB 2.0.0 and 2.0.1 LOAD dataraum registers these into the system catalog; before 2.0 run the
-- text of `SELECT dr_macros_sql()` (every file, adapted to the running release) once per database.

-- name: profile_columns
-- description: One row per column of a table or view (TEMP tables, attached databases and the caller's
--   uncommitted rows included), in table order: column_name, column_type, then every dr_profile statistic,
--   computed in one parallel scan. exact_limit overrides the setting dataraum_exact_limit; top_k is the
--   number of top_values (10).
-- example: CREATE OR REPLACE TEMP TABLE trips AS SELECT range AS id, range % 7 AS day, 'c' || (range % 3) AS city FROM range(1000); FROM profile_columns('trips');
CREATE OR REPLACE MACRO profile_columns(tbl, exact_limit := NULL, top_k := 10) AS TABLE
WITH profiles AS NOT MATERIALIZED (
    UNPIVOT (
        SELECT dr_profile(COLUMNS(*), coalesce(dr_check_integer(exact_limit, 'profile_columns', 'exact_limit', 0, 9223372036854775807),
                                            current_setting('dataraum_exact_limit')::BIGINT),
                          dr_check_integer(top_k, 'profile_columns', 'top_k', 0, 9223372036854775807),
                          current_setting('threads')::BIGINT)
        FROM query_table(tbl)
    ) ON COLUMNS(*) INTO NAME column_name VALUE profile
), described AS NOT MATERIALIZED (
    -- typeof over one row (NULLs for an empty input), not DESCRIBE: DESCRIBE in a macro body sees
    -- no macro parameters before DuckDB 2.0
    SELECT column_name, column_type, row_number() OVER () AS ordinal FROM (
        UNPIVOT (SELECT typeof(COLUMNS(q.*)) FROM range(1) one LEFT JOIN (FROM query_table(tbl) LIMIT 1) q ON true)
        ON COLUMNS(*) INTO NAME column_name VALUE column_type)
)
SELECT described.column_name, described.column_type, unnest(profiles.profile)
FROM described JOIN profiles USING (column_name)
ORDER BY described.ordinal;

-- name: profile_query
-- description: Like profile_columns, for the result of any SQL query given as text (files, joins, filters):
--   one row per result column with every dr_profile statistic.
-- example: FROM profile_query('SELECT range % 10 AS digit, range::VARCHAR AS label FROM range(500)');
CREATE OR REPLACE MACRO profile_query(sql, exact_limit := NULL) AS TABLE
WITH profiles AS NOT MATERIALIZED (
    UNPIVOT (
        SELECT dr_profile(COLUMNS(*), coalesce(dr_check_integer(exact_limit, 'profile_query', 'exact_limit', 0, 9223372036854775807),
                                            current_setting('dataraum_exact_limit')::BIGINT),
                          NULL::BIGINT, current_setting('threads')::BIGINT)
        FROM query(sql)
    ) ON COLUMNS(*) INTO NAME column_name VALUE profile
), described AS NOT MATERIALIZED (
    -- typeof over one row (NULLs for an empty input), not DESCRIBE: DESCRIBE in a macro body sees
    -- no macro parameters before DuckDB 2.0
    SELECT column_name, column_type, row_number() OVER () AS ordinal FROM (
        UNPIVOT (SELECT typeof(COLUMNS(q.*)) FROM range(1) one LEFT JOIN (FROM query(sql) LIMIT 1) q ON true)
        ON COLUMNS(*) INTO NAME column_name VALUE column_type)
)
SELECT described.column_name, described.column_type, unnest(profiles.profile)
FROM described JOIN profiles USING (column_name)
ORDER BY described.ordinal;
