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
        if r.failures.is_empty() {
            // Whatever happens with the companion, LOAD of dataraum succeeds.
            let status = std::panic::catch_unwind(|| load_companion(conn)).unwrap_or_else(|_| {
                "not registered: internal error (Rust panic) while loading the C API v2 companion".to_string()
            });
            crate::set_macros_status(status);
        }
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

// ---------------------------------------------------------------- the C API v2 companion

/// The exact DuckDB release the companion `dataraum_v2.duckdb_extension` is built for: the
/// Makefile's `DUCKDB_V2`, passed in as `DATARAUM_DUCKDB_V2` (e.g. `v2.0.1`).
pub const COMPANION_DUCKDB_VERSION: &str = match option_env!("DATARAUM_DUCKDB_V2") {
    Some(v) => v,
    None => "v2.0.1",
};

/// File name of the companion, looked for next to the loaded `dataraum.duckdb_extension`.
pub const COMPANION_FILE: &str = "dataraum_v2.duckdb_extension";

const FOOTER_SIZE: usize = 534;
const FOOTER_HEADER: usize = 22;
const FIELD: usize = 32;

/// Loads the companion when, and only when, this DuckDB is exactly the release it was built
/// for; returns the status `dr_version().macros` reports. A failure here never fails the
/// `LOAD` of dataraum.
unsafe fn load_companion(conn: sys::duckdb_connection) -> String {
    let running = duckdb_version();
    let run_sql = "run the files in sql/ yourself (in the CLI `.read sql/basic.sql` and so on) to create the table macros in this database";
    if running != COMPANION_DUCKDB_VERSION {
        return format!(
            "not registered: the table macros come from the C API v2 companion, built for DuckDB \
             {COMPANION_DUCKDB_VERSION} only, and this is DuckDB {running}; {run_sql}"
        );
    }
    let Some(path) = own_path().and_then(|p| p.parent().map(|d| d.join(COMPANION_FILE))) else {
        return format!("not registered: could not find the directory of the loaded dataraum file; {run_sql}");
    };
    let shown = path.display();
    match companion_footer(&path) {
        Err(e) => return format!("not registered: companion {shown}: {e}; {run_sql}"),
        Ok((abi, version)) if abi != "C_STRUCT_UNSTABLE" || version != running => {
            return format!(
                "not registered: companion {shown} is built for DuckDB {version} (ABI {abi}), this is DuckDB \
                 {running} (needs ABI C_STRUCT_UNSTABLE); not loaded; {run_sql}"
            )
        }
        Ok(_) => {}
    }
    let sql = format!("LOAD '{}'", path.to_string_lossy().replace('\'', "''"));
    match query(conn, &sql) {
        Ok(()) => "registered".to_string(),
        Err(e) => format!("not registered: loading the companion {shown} failed: {e}; {run_sql}"),
    }
}

/// Field 5 (ABI type) and field 3 (exact DuckDB version) of a `.duckdb_extension` footer.
fn companion_footer(path: &std::path::Path) -> Result<(String, String), String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| format!("not found ({e})"))?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    if len < FOOTER_SIZE as u64 {
        return Err("too short to be a DuckDB extension".into());
    }
    let mut footer = [0u8; FOOTER_SIZE];
    f.seek(SeekFrom::Start(len - FOOTER_SIZE as u64))
        .and_then(|_| f.read_exact(&mut footer))
        .map_err(|e| e.to_string())?;
    // Fields are stored in reverse order: field 8 first, field 1 last.
    let field = |n: usize| {
        let at = FOOTER_HEADER + (8 - n) * FIELD;
        let raw = &footer[at..at + FIELD];
        let end = raw.iter().position(|&b| b == 0).unwrap_or(FIELD);
        String::from_utf8_lossy(&raw[..end]).into_owned()
    };
    if field(1) != "4" {
        return Err("no DuckDB extension footer".into());
    }
    Ok((field(5), field(3)))
}

/// Runs one statement on `conn`, returning DuckDB's error message on failure.
unsafe fn query(conn: sys::duckdb_connection, sql: &str) -> Result<(), String> {
    let c = CString::new(sql).map_err(|_| "statement contains a NUL byte".to_string())?;
    let mut result: sys::duckdb_result = std::mem::zeroed();
    let state = sys::duckdb_query(conn, c.as_ptr(), &mut result);
    let outcome = if state == sys::DuckDBSuccess {
        Ok(())
    } else {
        let e = sys::duckdb_result_error(&mut result);
        Err(if e.is_null() { "unknown error".to_string() } else { CStr::from_ptr(e).to_string_lossy().into_owned() })
    };
    sys::duckdb_destroy_result(&mut result);
    outcome
}

#[cfg(unix)]
#[repr(C)]
struct DlInfo {
    dli_fname: *const std::ffi::c_char,
    dli_fbase: *mut std::ffi::c_void,
    dli_sname: *const std::ffi::c_char,
    dli_saddr: *mut std::ffi::c_void,
}

#[cfg(unix)]
extern "C" {
    fn dladdr(addr: *const std::ffi::c_void, info: *mut DlInfo) -> std::ffi::c_int;
}

/// The file this library was loaded from (the `dataraum.duckdb_extension` DuckDB opened).
#[cfg(unix)]
fn own_path() -> Option<std::path::PathBuf> {
    let mut info = DlInfo {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    // Safety: any address inside this library works; dladdr only fills `info`.
    let found = unsafe { dladdr(own_path as *const std::ffi::c_void, &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return None;
    }
    // Safety: dladdr returns a NUL-terminated path owned by the dynamic loader.
    let name = unsafe { CStr::from_ptr(info.dli_fname) };
    use std::os::unix::ffi::OsStrExt;
    Some(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes())))
}

/// No `dladdr` here: the companion is not looked for.
#[cfg(not(unix))]
fn own_path() -> Option<std::path::PathBuf> {
    None
}
