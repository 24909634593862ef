//! dataraum: a DuckDB extension that turns any table into the context an AI agent
//! needs to use it. This file is the entry point only: it registers everything
//! (see [`registry::register_all`]) and contains panics (see [`ffi::entry`]).

#![deny(missing_docs)]

pub mod ffi;
pub mod functions;
pub mod kernels;
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

/// Every function's documentation, native and macro.
pub fn all_function_docs() -> Vec<registry::FunctionDoc> {
    registry::functions()
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
