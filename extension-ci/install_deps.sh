#!/usr/bin/env bash
# Installs the Debian packages the build needs when they are missing (used by the Makefile
# and .ci/run, so `make demo` / `make test` work on a fresh machine): a C toolchain, python3-venv,
# and clang/libclang for the build-time bindgen of the C API v2 companion (Makefile: DUCKDB_V2).
set -euo pipefail
missing=()
command -v cc >/dev/null || missing+=(build-essential)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v clang >/dev/null || missing+=(clang)
# libclang.so itself: libclang-cpp.so alone, which other packages install, does not do
compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null || compgen -G '/usr/lib/*/libclang-[0-9]*.so*' >/dev/null \
  || missing+=(libclang-dev)
# Node.js and npm for the @duckdb/node-api client test
command -v npm >/dev/null || missing+=(nodejs npm)
((${#missing[@]})) || exit 0
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install_deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
