-- dataraum topology over the dr_persistence aggregate.
-- On DuckDB 2.0.0 and 2.0.1 LOAD dataraum registers these into the system catalog; before 2.0 run the
-- text of `SELECT dr_macros_sql()` (every file, adapted to the running release) once per database.

-- name: persistence_diagram
-- description: The persistence diagram of a table's rows as a point cloud of its numeric (and temporal)
--   columns, z-scored by default: one row per bar with dim, birth, death (inf for essential classes) and
--   persistence. Rows with a NULL coordinate are skipped. Options as dr_persistence; the memory estimate
--   is checked against DuckDB's memory_limit before anything large is allocated. Repeated rows are refused
--   (naming them) unless dedup := true. Edge collapse shrinks the filtration without changing the diagram;
--   by default it runs when max_dim >= 2 (collapse := true or false forces it).
-- example: CREATE OR REPLACE TEMP TABLE ring AS SELECT cos(2 * pi() * i / 40) AS x, sin(2 * pi() * i / 40) AS y FROM range(40) t(i); FROM persistence_diagram('ring', max_dim := 1) WHERE persistence > 0.5;
CREATE OR REPLACE MACRO persistence_diagram(tbl, max_dim := 1, threshold := NULL, metric := 'euclidean',
                                            standardize := true, sample := NULL, modulus := 2, dedup := false,
                                            collapse := NULL) AS TABLE
SELECT bar.dim, bar.birth, bar.death, bar.death - bar.birth AS persistence
FROM (
    SELECT unnest(dr_persistence(t, dr_check_integer(max_dim, 'persistence_diagram', 'max_dim', 0, 8)::INTEGER,
                                 dr_check_double(threshold, 'persistence_diagram', 'threshold'), metric::VARCHAR,
                                 dr_check_boolean(standardize, 'persistence_diagram', 'standardize'),
                                 dr_check_integer(sample, 'persistence_diagram', 'sample', 2, 9223372036854775807),
                                 dr_check_integer(modulus, 'persistence_diagram', 'modulus', 2, 65521)::INTEGER,
                                 current_setting('threads')::BIGINT, current_setting('memory_limit')::VARCHAR,
                                 dr_check_boolean(dedup, 'persistence_diagram', 'dedup'),
                                 dr_check_boolean(collapse, 'persistence_diagram', 'collapse'))) AS bar
    FROM query_table(tbl) t
)
ORDER BY bar.dim, bar.birth, bar.death;
