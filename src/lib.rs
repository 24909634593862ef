//! dataraum: a DuckDB extension that turns any table into the context an AI agent
//! needs to use it. This file is the entry point only: it registers everything
//! (see [`registry::register_all`]) and contains panics (see [`ffi::entry`]).

#![deny(missing_docs)]

pub mod catalog;
pub mod ffi;
pub mod functions;
pub mod kernels;
pub mod llm;
pub mod macros;
pub mod metrics;
pub mod registry;
pub mod sqlite;

use std::sync::Mutex;

/// What happened to the SQL macros on the last `LOAD` (see [`macros_status`]). Each loaded
/// copy of the library keeps its own: the companion sets it when it registers the functions
/// (then `dr_version` runs in the companion), the v1 entry otherwise.
static MACROS: Mutex<Option<String>> = Mutex::new(None);

/// Whether the SQL macros of `sql/` were registered into the catalog by the C API v2
/// companion on the last `LOAD`, and if not, why (shown by `dr_version().macros`).
pub fn macros_status() -> String {
    let status = MACROS.lock().map(|g| g.clone()).unwrap_or_else(|p| p.into_inner().clone());
    status.unwrap_or_else(|| {
        "not registered: dataraum was not loaded through its C API v1 entry point; run the files in sql/ to get the table macros".to_string()
    })
}

/// Records the macros' status (called once per `LOAD` by [`ffi::entry`]).
pub(crate) fn set_macros_status(status: String) {
    match MACROS.lock() {
        Ok(mut g) => *g = Some(status),
        Err(p) => *p.into_inner() = Some(status),
    }
}

/// Every function's documentation: native functions, then the macros of `sql/`.
pub fn all_function_docs() -> Vec<registry::FunctionDoc> {
    static MACRO_DOCS: std::sync::OnceLock<Vec<registry::FunctionDoc>> = std::sync::OnceLock::new();
    let mut docs = registry::functions();
    docs.extend(MACRO_DOCS.get_or_init(macro_docs).iter().cloned());
    docs
}

fn macro_docs() -> Vec<registry::FunctionDoc> {
    let mut docs = Vec::new();
    // Macro texts are compiled in; a parse error is caught by the macros unit tests.
    for m in macros::all().unwrap_or_default() {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        docs.push(registry::FunctionDoc {
            name: leak(m.name.clone()),
            kind: match m.kind {
                macros::MacroKind::Table => registry::Kind::TableMacro,
                macros::MacroKind::Scalar => registry::Kind::ScalarMacro,
            },
            parameters: leak(m.signature()),
            returns: if m.kind == macros::MacroKind::Table { "TABLE" } else { "expression" },
            description: leak(m.description),
            example: leak(m.example),
        });
    }
    docs
}

/// The C API v1 entry point DuckDB calls on `LOAD dataraum`.
///
/// # Safety
/// Called by DuckDB with valid `info` and `access` pointers.
#[no_mangle]
pub unsafe extern "C" fn dataraum_init_c_api(
    info: libduckdb_sys::duckdb_extension_info,
    access: *const libduckdb_sys::duckdb_extension_access,
) -> bool {
    ffi::entry::init_extension(info, access, registry::register_all)
}

/// The v1 function table this instance received on `LOAD dataraum` (NULL unless DuckDB is
/// the companion's release). The companion, loaded from another file and so holding its own
/// copy of every static, looks this symbol up in the loaded `dataraum.duckdb_extension` and
/// initialises its v1 bindings from it.
#[cfg(feature = "v2")]
#[no_mangle]
pub extern "C" fn dataraum_v1_api() -> *const std::ffi::c_void {
    ffi::entry::kept_v1_api()
}

/// The C API v2 entry point of the companion file `dataraum_v2.duckdb_extension` (DuckDB
/// calls `<file base name>_init_c_api_v2` for a `C_STRUCT_UNSTABLE` footer). It registers
/// every native function with its documentation and the macros of `sql/` into the system
/// catalog; `LOAD dataraum` loads it when the running DuckDB is exactly the release it was
/// built for.
///
/// # Safety
/// Called by DuckDB with a valid `input` pointer.
#[cfg(feature = "v2")]
#[no_mangle]
pub unsafe extern "C" fn dataraum_v2_init_c_api_v2(input: *mut libduckdb_sys::v2::duckdb_v2_extension_input) {
    ffi::v2::init_companion(input)
}
