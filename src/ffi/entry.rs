//! The extension entry point's machinery: API initialisation, one connection for
//! registration, a [`Registrar`] that collects failures by name, and the error channel
//! of `LOAD` (`access.set_error`).

use std::ffi::{CStr, CString};
use std::sync::OnceLock;

use libduckdb_sys as sys;

use super::aggregate::{register_aggregate, Aggregate, AggregateSpec};
use super::config::{register_setting, Setting};
use super::guard::install_quiet_hook;
use super::scalar::{register_scalar, Scalar, ScalarSpec};
use super::table::{register_table, TableRows, TableSpec};

/// Minimum C API version the extension asks for (matches the footer).
pub const MIN_CAPI_VERSION: &str = "v1.2.0";

static DUCKDB_VERSION: OnceLock<String> = OnceLock::new();

/// The version of the DuckDB library we were loaded into, e.g. `v2.0.1`.
pub fn duckdb_version() -> &'static str {
    DUCKDB_VERSION.get().map(String::as_str).unwrap_or("unknown")
}

/// Registers functions and settings on the loading connection, remembering what failed.
pub struct Registrar {
    conn: sys::duckdb_connection,
    /// `name: reason` for every registration that failed.
    pub failures: Vec<String>,
}

impl Registrar {
    /// Registers an aggregate.
    pub fn aggregate<A: Aggregate>(&mut self, spec: AggregateSpec) {
        // Safety: `conn` is the open registration connection.
        let r = unsafe { register_aggregate::<A>(self.conn, &spec) };
        self.note(spec.name, r);
    }
    /// Registers a scalar function.
    pub fn scalar<S: Scalar>(&mut self, spec: ScalarSpec) {
        // Safety: as above.
        let r = unsafe { register_scalar::<S>(self.conn, &spec) };
        self.note(spec.name, r);
    }
    /// Registers a table function.
    pub fn table<T: TableRows>(&mut self, spec: TableSpec) {
        // Safety: as above.
        let r = unsafe { register_table::<T>(self.conn, &spec) };
        self.note(spec.name, r);
    }
    /// Registers a setting.
    pub fn setting(&mut self, s: &Setting) {
        // Safety: as above.
        let r = unsafe { register_setting(self.conn, s) };
        self.note(s.name, r);
    }
    fn note(&mut self, name: &str, r: Result<(), String>) {
        if let Err(e) = r {
            self.failures.push(format!("{name}: {e}"));
        }
    }
}

/// Runs the whole `LOAD`: initialises the API, opens a connection, calls `register`,
/// and reports failures through `access.set_error`. Never unwinds into DuckDB.
///
/// # Safety
/// `info` and `access` must be the pointers DuckDB passed to the entry point.
pub unsafe fn init_extension(
    info: sys::duckdb_extension_info,
    access: *const sys::duckdb_extension_access,
    register: fn(&mut Registrar),
) -> bool {
    install_quiet_hook();
    let outcome = std::panic::catch_unwind(|| -> Result<(), String> {
        match sys::duckdb_rs_extension_api_init(info, access, MIN_CAPI_VERSION) {
            Ok(true) => {}
            Ok(false) => {
                return Err(format!(
                    "dataraum: this DuckDB does not offer the C API {MIN_CAPI_VERSION} the extension needs"
                ))
            }
            Err(e) => return Err(format!("dataraum: C API initialisation failed: {e}")),
        }
        let v = sys::duckdb_library_version();
        if !v.is_null() {
            let _ = DUCKDB_VERSION.set(CStr::from_ptr(v).to_string_lossy().into_owned());
        }
        let get_database = (*access).get_database.ok_or("dataraum: DuckDB gave no get_database")?;
        let db = get_database(info);
        if db.is_null() {
            return Err("dataraum: DuckDB gave no database handle".into());
        }
        let mut conn: sys::duckdb_connection = std::ptr::null_mut();
        if sys::duckdb_connect(*db, &mut conn) != sys::DuckDBSuccess {
            return Err("dataraum: could not open a connection to register functions".into());
        }
        let mut r = Registrar { conn, failures: Vec::new() };
        register(&mut r);
        sys::duckdb_disconnect(&mut conn);
        if r.failures.is_empty() {
            Ok(())
        } else {
            Err(format!("dataraum: registration failed for {}", r.failures.join("; ")))
        }
    });
    let error = match outcome {
        Ok(Ok(())) => return true,
        Ok(Err(e)) => e,
        Err(_) => "dataraum: internal error (Rust panic) during LOAD".to_string(),
    };
    if let Some(set_error) = (*access).set_error {
        let c = CString::new(error.replace('\0', " ")).unwrap_or_default();
        set_error(info, c.as_ptr());
    }
    false
}
