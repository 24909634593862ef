-- dataraum topology over the dr_persistence aggregate.
-- On DuckDB 2.0.0 and 2.0.1 LOAD dataraum registers these into the system catalog; before 2.0 run the
-- text of `SELECT dr_macros_sql()` (every file, adapted to the running release) once per database.

-- name: persistence_diagram
-- description: The persistence diagram of a table's rows as a point cloud of its numeric (and temporal)
--   columns, z-scored by default: one row per bar with dim, birth, death (inf for essential classes) and
--   persistence. Rows with a NULL coordinate are skipped. Options as dr_persistence; the memory estimate
--   is checked against DuckDB's memory_limit before anything large is allocated. Repeated rows are refused
--   (naming them) unless dedup := true. Edge collapse shrinks the filtration without changing the diagram;
--   by default it runs when max_dim >= 2 (collapse := true or false forces it). The computation runs
--   through dr_persistence_job / dr_persistence_await / dr_ticks(), so Ctrl-C or interrupt() stops it
--   within a fraction of a second, and on DuckDB 2.0.x the progress bar follows it.
-- example: CREATE OR REPLACE TEMP TABLE ring AS SELECT cos(2 * pi() * i / 40) AS x, sin(2 * pi() * i / 40) AS y FROM range(40) t(i); FROM persistence_diagram('ring', max_dim := 1) WHERE persistence > 0.5;
CREATE OR REPLACE MACRO persistence_diagram(tbl, max_dim := 1, threshold := NULL, metric := 'euclidean',
                                            standardize := true, sample := NULL, modulus := 2, dedup := false,
                                            collapse := NULL) AS TABLE
WITH dr_job AS NOT MATERIALIZED (
    SELECT dr_persistence_job(t, dr_check_integer(max_dim, 'persistence_diagram', 'max_dim', 0, 8)::INTEGER,
                              dr_check_double(threshold, 'persistence_diagram', 'threshold'), metric::VARCHAR,
                              dr_check_boolean(standardize, 'persistence_diagram', 'standardize'),
                              dr_check_integer(sample, 'persistence_diagram', 'sample', 2, 9223372036854775807),
                              dr_check_integer(modulus, 'persistence_diagram', 'modulus', 2, 65521)::INTEGER,
                              current_setting('threads')::BIGINT, current_setting('memory_limit')::VARCHAR,
                              dr_check_boolean(dedup, 'persistence_diagram', 'dedup'),
                              dr_check_boolean(collapse, 'persistence_diagram', 'collapse')) AS ticket
    FROM query_table(tbl) t
)
SELECT bar.dim, bar.birth, bar.death, bar.death - bar.birth AS persistence
FROM (
    SELECT unnest(d) AS bar
    FROM (SELECT d FROM (SELECT dr_persistence_await(j.ticket, k.scan) AS d FROM dr_job j, dr_ticks() k)
          WHERE d IS NOT NULL LIMIT 1)
)
ORDER BY bar.dim, bar.birth, bar.death;
