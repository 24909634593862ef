//! dataraum: a DuckDB extension that turns any table into the context an AI agent
//! needs to use it. This file is the entry point only: it registers everything
//! (see [`registry::register_all`]) and contains panics (see [`ffi::entry`]).

#![deny(missing_docs)]

pub mod ffi;
pub mod functions;
pub mod kernels;
pub mod macros;
pub mod metrics;
pub mod registry;

use std::sync::atomic::{AtomicU8, Ordering};

static MACROS: AtomicU8 = AtomicU8::new(0);

/// Whether the SQL macros were registered into the catalog on this LOAD.
pub fn macros_status() -> &'static str {
    match MACROS.load(Ordering::Relaxed) {
        1 => "registered",
        _ => "not registered: this DuckDB has no C API v2 companion; run the files in sql/ to get the table macros",
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
