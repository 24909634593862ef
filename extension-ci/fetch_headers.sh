#!/usr/bin/env bash
# Fetches the C API headers of one exact DuckDB release for build-time bindgen.
#
#   fetch_headers.sh <duckdb version, e.g. 2.0.1> <destination dir> [python]
#
# The headers come from the source distribution of the `duckdb` Python package of that
# version (pip, ~30 s; `--no-binary duckdb` only, so pip downloads the sdist without
# building it). They land in <dest>/duckdb/src/include/{duckdb.h, duckdb_extension.h,
# duckdb_v2.h, duckdb_extension_v2.h, duckdb/...}: the layout libduckdb-sys' wrapper
# headers include (`#include "duckdb/src/include/duckdb_extension_v2.h"`), so the build
# passes BINDGEN_EXTRA_CLANG_ARGS=-I<dest>. Idempotent: an existing, complete <dest> is
# kept; <dest>/.version records the release it holds.
set -euo pipefail
VERSION=${1:?usage: fetch_headers.sh <duckdb version> <dest dir> [python]}
DEST=${2:?usage: fetch_headers.sh <duckdb version> <dest dir> [python]}
PY=${3:-python3}
INC="$DEST/duckdb/src/include"
HEADERS=(duckdb.h duckdb_extension.h duckdb_v2.h duckdb_extension_v2.h)

complete() {
  [[ -f "$DEST/.version" && "$(cat "$DEST/.version")" == "$VERSION" ]] || return 1
  local h
  for h in "${HEADERS[@]}"; do [[ -s "$INC/$h" ]] || return 1; done
}

if complete; then
  echo "fetch_headers: DuckDB $VERSION headers already in $DEST"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch_headers: downloading the duckdb==$VERSION source distribution with pip"
"$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary duckdb \
  "duckdb==$VERSION" -d "$tmp" >&2
sdist=$(ls "$tmp"/duckdb-"$VERSION".tar.gz 2>/dev/null | head -1)
if [[ -z "$sdist" ]]; then
  echo "fetch_headers: pip gave no duckdb-$VERSION.tar.gz (got: $(ls "$tmp"))" >&2
  exit 1
fi
# Only the include tree: the full source is ~100 MB unpacked.
tar -xzf "$sdist" -C "$tmp" "duckdb-$VERSION/external/duckdb/src/include"
src="$tmp/duckdb-$VERSION/external/duckdb/src/include"
for h in "${HEADERS[@]}"; do
  [[ -s "$src/$h" ]] || { echo "fetch_headers: $h missing from the duckdb $VERSION sdist" >&2; exit 1; }
done
rm -rf "$DEST"
mkdir -p "$(dirname "$INC")"
mv "$src" "$INC"
echo "$VERSION" >"$DEST/.version"
echo "fetch_headers: DuckDB $VERSION headers in $DEST"
