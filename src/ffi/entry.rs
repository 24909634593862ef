//! The extension entry point's machinery: API initialisation, one connection for
//! registration, a [`Registrar`] that collects failures by name, and the error channel
//! of `LOAD` (`access.set_error`).
//!
//! What `LOAD dataraum` registers where: the settings always through the C API v1. On the
//! DuckDB release the companion (`dataraum_v2.duckdb_extension`) is built for, when its
//! footer checks out, the functions come from the companion (through the C API v2, with
//! docs; see `v2.rs`); if it does not load, through v1 after all. Elsewhere everything
//! through v1. The companion borrows this instance's v1 function table ([`kept_v1_api`],
//! [`init_v1_from_sibling`]).

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

/// The DuckDB releases `make test` loads the extension into (named in refusals).
pub const TESTED_RELEASES: &str = "1.2.2, 1.3.2, 1.4.5, 1.5.6, 2.0.0 and 2.0.1";

static DUCKDB_VERSION: OnceLock<String> = OnceLock::new();

/// The version of the DuckDB library we were loaded into, e.g. `v2.0.1`.
pub fn duckdb_version() -> &'static str {
    DUCKDB_VERSION.get().map(String::as_str).unwrap_or("unknown")
}

/// The running release as numbers, once known.
pub fn duckdb_version_tuple() -> Option<(u32, u32, u32)> {
    super::capi::parse_version(duckdb_version())
}

/// Where a [`Registrar`] sends each registration.
enum Target {
    /// The C API v1, on the loading connection: settings and/or functions.
    V1 { conn: sys::duckdb_connection, settings: bool, functions: bool },
    /// The C API v2 companion: functions only, with their docs (settings stay v1).
    #[cfg(feature = "v2")]
    V2(super::v2_functions::V2Target),
}

/// Registers functions and settings, remembering what failed. [`crate::registry::register_all`]
/// runs the same list against every target; each target takes the part it owns.
pub struct Registrar {
    target: Target,
    /// `name: reason` for every registration that failed.
    pub failures: Vec<String>,
}

impl Registrar {
    fn v1(conn: sys::duckdb_connection, settings: bool, functions: bool) -> Self {
        Registrar { target: Target::V1 { conn, settings, functions }, failures: Vec::new() }
    }

    /// A registrar that builds every function through the C API v2 (the companion).
    #[cfg(feature = "v2")]
    pub(crate) fn v2(target: super::v2_functions::V2Target) -> Self {
        Registrar { target: Target::V2(target), failures: Vec::new() }
    }

    /// The v2 target, to register what was built once nothing failed.
    #[cfg(feature = "v2")]
    pub(crate) fn v2_target(&mut self) -> Option<&mut super::v2_functions::V2Target> {
        match &mut self.target {
            Target::V2(t) => Some(t),
            Target::V1 { .. } => None,
        }
    }

    /// Registers an aggregate.
    pub fn aggregate<A: Aggregate>(&mut self, spec: AggregateSpec) {
        let r = match &mut self.target {
            // Safety: `conn` is the open registration connection.
            Target::V1 { conn, functions: true, .. } => unsafe { register_aggregate::<A>(*conn, &spec) },
            Target::V1 { .. } => Ok(()),
            // Safety: the v2 target lives only during the companion's LOAD.
            #[cfg(feature = "v2")]
            Target::V2(t) => unsafe { t.aggregate::<A>(&spec) },
        };
        self.note(spec.name, r);
    }
    /// Registers a scalar function.
    pub fn scalar<S: Scalar>(&mut self, spec: ScalarSpec) {
        let r = match &mut self.target {
            // Safety: as above.
            Target::V1 { conn, functions: true, .. } => unsafe { register_scalar::<S>(*conn, &spec) },
            Target::V1 { .. } => Ok(()),
            // Safety: as above.
            #[cfg(feature = "v2")]
            Target::V2(t) => unsafe { t.scalar::<S>(&spec) },
        };
        self.note(spec.name, r);
    }
    /// Registers a table function.
    pub fn table<T: TableRows>(&mut self, spec: TableSpec) {
        let r = match &mut self.target {
            // Safety: as above.
            Target::V1 { conn, functions: true, .. } => unsafe { register_table::<T>(*conn, &spec) },
            Target::V1 { .. } => Ok(()),
            // Safety: as above.
            #[cfg(feature = "v2")]
            Target::V2(t) => unsafe { t.table::<T>(&spec) },
        };
        self.note(spec.name, r);
    }
    /// Registers `dr_ticks()` (see `job.rs`; its progress callback exists only through v2).
    pub fn ticks_table(&mut self, spec: TableSpec) {
        let r = match &mut self.target {
            // Safety: as above.
            Target::V1 { conn, functions: true, .. } => unsafe { super::table::register_ticks(*conn, &spec) },
            Target::V1 { .. } => Ok(()),
            // Safety: as above.
            #[cfg(feature = "v2")]
            Target::V2(t) => unsafe { t.ticks_table(&spec) },
        };
        self.note(spec.name, r);
    }
    /// Registers a setting (always through v1: DuckDB keeps settings per database, and the
    /// v1 entry registers them before the companion is loaded).
    pub fn setting(&mut self, s: &Setting) {
        let r = match &self.target {
            // Safety: as above.
            // Releases before 1.5.0 have no config options: the settings' defaults apply and
            // the macros read `getvariable('dataraum_x')` instead (see `functions::macros_sql`).
            Target::V1 { settings: true, .. } if !super::capi::has_config_options() => Ok(()),
            Target::V1 { conn, settings: true, .. } => unsafe { register_setting(*conn, s) },
            _ => Ok(()),
        };
        self.note(s.name, r);
    }
    fn note(&mut self, name: &str, r: Result<(), String>) {
        if let Err(e) = r {
            self.failures.push(format!("{name}: {e}"));
        }
    }
}

/// Remembers the version of the DuckDB library (needs the v1 API initialised).
pub(crate) unsafe fn note_duckdb_version() {
    let v = sys::duckdb_library_version();
    if !v.is_null() {
        let _ = DUCKDB_VERSION.set(CStr::from_ptr(v).to_string_lossy().into_owned());
    }
}

/// Registers settings, then functions: through the C API v2 companion when it loads (with
/// their docs), otherwise through v1 (as on every DuckDB but the companion's release).
/// Returns the registrations that failed; sets the status `dr_version().macros` reports.
unsafe fn register_through_v1_or_companion(conn: sys::duckdb_connection, register: fn(&mut Registrar)) -> Vec<String> {
    let companion = companion_file();
    let mut settings = Registrar::v1(conn, true, companion.is_err());
    register(&mut settings);
    if !settings.failures.is_empty() {
        return settings.failures;
    }
    let reason = match companion {
        Ok(path) => {
            // Whatever happens with the companion, LOAD of dataraum succeeds.
            match std::panic::catch_unwind(|| load_companion(conn, &path)) {
                // The companion registered every function and the macros, and reports its own status.
                Ok(Ok(())) => return Vec::new(),
                Ok(Err(e)) => e,
                Err(_) => "internal error (Rust panic) while loading the C API v2 companion".to_string(),
            }
        }
        Err(reason) => {
            crate::set_macros_status(reason);
            return Vec::new();
        }
    };
    crate::set_macros_status(format!("not registered: {reason}; {RUN_SQL}"));
    // Fallback: every function through v1, as if there were no companion.
    let mut functions = Registrar::v1(conn, false, true);
    register(&mut functions);
    functions.failures
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
        let get_api = (*access).get_api.ok_or("dataraum: DuckDB gave no get_api")?;
        let version = CString::new(MIN_CAPI_VERSION).map_err(|_| "dataraum: bad C API version")?;
        let table = get_api(info, version.as_ptr()) as *const *const std::ffi::c_void;
        if table.is_null() {
            return Err(format!(
                "dataraum: this DuckDB does not offer the C API {MIN_CAPI_VERSION} the extension needs (DuckDB 1.2.0 or later)"
            ));
        }
        let running = super::capi::host_version(table).unwrap_or_else(|| "unknown".into());
        let Some(slots) =
            super::capi::usable_slots(&running, super::capi::bindings_version(), super::capi::BINDINGS_SLOTS)
        else {
            return Err(format!(
                "dataraum: DuckDB {running} is not supported; use DuckDB 1.2.0 or later (tested: {TESTED_RELEASES})"
            ));
        };
        super::capi::init_bindings(table, slots).map_err(|e| format!("dataraum: {e}"))?;
        note_duckdb_version();
        let get_database = (*access).get_database.ok_or("dataraum: DuckDB gave no get_database")?;
        let db = get_database(info);
        if db.is_null() {
            return Err("dataraum: DuckDB gave no database handle".into());
        }
        let mut conn: sys::duckdb_connection = std::ptr::null_mut();
        if sys::duckdb_connect(*db, &mut conn) != sys::DuckDBSuccess {
            return Err("dataraum: could not open a connection to register functions".into());
        }
        let failures = register_through_v1_or_companion(conn, register);
        sys::duckdb_disconnect(&mut conn);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(format!("dataraum: registration failed for {}", failures.join("; ")))
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

const RUN_SQL: &str = "create them once per database by running the text of `SELECT dr_macros_sql()` (Python: \
con.execute(con.sql('SELECT dr_macros_sql()').fetchone()[0]))";

/// The companion file to load on a DuckDB release whose C API v2 layout this build knows
/// ([`super::capi::v2_layout_known`]): this library's own bytes with a footer for exactly the
/// running release, written once into a private cache directory (see
/// [`materialise_companion`]); otherwise the status `dr_version().macros` reports.
unsafe fn companion_file() -> Result<std::path::PathBuf, String> {
    let running = duckdb_version();
    if !cfg!(feature = "v2") {
        return Err(format!("not registered: this build has no C API v2 companion; {RUN_SQL}"));
    }
    if !super::capi::v2_layout_known(running) {
        return Err(format!(
            "not registered: the table macros come with LOAD only on DuckDB {V2_RELEASES} (the C API v2), and this is \
             DuckDB {running}; {RUN_SQL}"
        ));
    }
    let Some(own) = own_path() else {
        return Err(format!("not registered: could not find the file dataraum was loaded from; {RUN_SQL}"));
    };
    materialise_companion(&own, running).map_err(|e| format!("not registered: companion: {e}; {RUN_SQL}"))
}

/// The releases whose C API v2 layout this build knows (the companion runs there).
pub const V2_RELEASES: &str = "2.0.0 and 2.0.1";

/// Writes `dataraum_v2.duckdb_extension` for release `running`: the library of `own` (its
/// footer cut off) with a footer saying ABI `C_STRUCT_UNSTABLE`, DuckDB `running`, the same
/// platform and extension version. It goes into `<cache>/<content hash>-<running>/`, where
/// `<cache>` is `$XDG_CACHE_HOME/dataraum`, `~/.cache/dataraum` or `<temp dir>/dataraum-<uid>`,
/// the first one that is (or can be made) a directory of ours that only we can write. An
/// existing file is reused only when its bytes are exactly the ones we would write; a new one
/// is written under a temporary name and renamed, so concurrent LOADs never see half a file.
fn materialise_companion(own: &std::path::Path, running: &str) -> Result<std::path::PathBuf, String> {
    let bytes = std::fs::read(own).map_err(|e| format!("reading {}: {e}", own.display()))?;
    if bytes.len() <= FOOTER_SIZE {
        return Err(format!("{} is too short to be a DuckDB extension", own.display()));
    }
    let (lib, footer) = bytes.split_at(bytes.len() - FOOTER_SIZE);
    let mut new_footer = footer.to_vec();
    let mut set_field = |n: usize, value: &str| {
        let at = FOOTER_HEADER + (8 - n) * FIELD;
        let slot = &mut new_footer[at..at + FIELD];
        slot.fill(0);
        let v = value.as_bytes();
        slot[..v.len().min(FIELD)].copy_from_slice(&v[..v.len().min(FIELD)]);
    };
    set_field(5, "C_STRUCT_UNSTABLE");
    set_field(3, running);
    let hash = lib.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    let mut tried = Vec::new();
    for base in cache_bases() {
        let dir = base.join(format!("{hash:016x}-{running}"));
        match write_companion(&dir, lib, &new_footer) {
            Ok(path) => return Ok(path),
            Err(e) => tried.push(format!("{}: {e}", dir.display())),
        }
    }
    Err(format!("no writable cache directory ({})", tried.join("; ")))
}

/// Candidate cache directories, most preferred first.
fn cache_bases() -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        v.push(std::path::PathBuf::from(x).join("dataraum"));
    }
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        v.push(std::path::PathBuf::from(h).join(".cache").join("dataraum"));
    }
    v.push(std::env::temp_dir().join(format!("dataraum-{}", user_id())));
    v
}

#[cfg(unix)]
fn user_id() -> u32 {
    extern "C" {
        fn geteuid() -> u32;
    }
    // Safety: geteuid has no preconditions.
    unsafe { geteuid() }
}
#[cfg(not(unix))]
fn user_id() -> u32 {
    0
}

/// Makes `dir` (and its parent, the cache base) a directory of ours, writable by us only.
fn private_dir(dir: &std::path::Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        for d in [dir.parent(), Some(dir)].into_iter().flatten() {
            match std::fs::DirBuilder::new().recursive(true).mode(0o700).create(d) {
                Ok(()) => {}
                Err(e) => return Err(format!("cannot create {}: {e}", d.display())),
            }
            let m = std::fs::symlink_metadata(d).map_err(|e| e.to_string())?;
            if !m.is_dir() || m.uid() != user_id() || m.mode() & 0o022 != 0 {
                return Err(format!("{} is not a directory that only this user can write", d.display()));
            }
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())
}

fn write_companion(dir: &std::path::Path, lib: &[u8], footer: &[u8]) -> Result<std::path::PathBuf, String> {
    use std::io::Write;
    private_dir(dir)?;
    let path = dir.join(COMPANION_FILE);
    if let Ok(existing) = std::fs::read(&path) {
        if existing.len() == lib.len() + footer.len()
            && existing[..lib.len()] == *lib
            && existing[lib.len()..] == *footer
        {
            return Ok(path);
        }
    }
    let tmp = dir.join(format!("{COMPANION_FILE}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(lib)?;
        f.write_all(footer)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, &path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    Ok(path)
}

/// Loads the companion, which registers every function (with docs) and the macros.
unsafe fn load_companion(conn: sys::duckdb_connection, path: &std::path::Path) -> Result<(), String> {
    let sql = format!("LOAD '{}'", path.to_string_lossy().replace('\'', "''"));
    query(conn, &sql).map_err(|e| format!("loading the companion {} failed: {e}", path.display()))
}

/// Field 5 (ABI type) and field 3 (C API or exact DuckDB version) of this library's own file.
#[cfg(feature = "v2")]
pub(crate) fn own_footer() -> Result<(String, String), String> {
    let own = own_path().ok_or("could not find the file this library was loaded from")?;
    footer_fields(&own)
}

/// Field 5 (ABI type) and field 3 (exact DuckDB version) of a `.duckdb_extension` footer.
#[cfg(feature = "v2")]
fn footer_fields(path: &std::path::Path) -> Result<(String, String), String> {
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

// ------------------------------------------------- the v1 API, handed to the companion

/// The v1 function table this instance initialised its bindings from (our layout, slots the
/// running release lacks left empty; see [`super::capi`]), or NULL before `LOAD` (exported to
/// the companion as `dataraum_v1_api`).
#[cfg(feature = "v2")]
pub fn kept_v1_api() -> *const std::ffi::c_void {
    super::capi::handed_table()
}

#[cfg(all(feature = "v2", unix))]
extern "C" {
    fn dlopen(filename: *const std::ffi::c_char, flags: std::ffi::c_int) -> *mut std::ffi::c_void;
    fn dlsym(handle: *mut std::ffi::c_void, symbol: *const std::ffi::c_char) -> *mut std::ffi::c_void;
    fn dlclose(handle: *mut std::ffi::c_void) -> std::ffi::c_int;
}

#[cfg(all(feature = "v2", target_os = "linux"))]
const RTLD_NOW_NOLOAD: std::ffi::c_int = 0x2 | 0x4;
#[cfg(all(feature = "v2", target_os = "macos"))]
const RTLD_NOW_NOLOAD: std::ffi::c_int = 0x2 | 0x10;

/// The first two fields of glibc's `struct dl_phdr_info` (the rest is not read).
#[cfg(all(feature = "v2", target_os = "linux"))]
#[repr(C)]
struct DlPhdrInfo {
    dlpi_addr: usize,
    dlpi_name: *const std::ffi::c_char,
}

#[cfg(all(feature = "v2", target_os = "linux"))]
extern "C" {
    fn dl_iterate_phdr(
        callback: unsafe extern "C" fn(
            info: *mut DlPhdrInfo,
            size: usize,
            data: *mut std::ffi::c_void,
        ) -> std::ffi::c_int,
        data: *mut std::ffi::c_void,
    ) -> std::ffi::c_int;
}

/// Paths of every loaded `*.duckdb_extension` file.
#[cfg(all(feature = "v2", target_os = "linux"))]
fn loaded_extension_files() -> Vec<CString> {
    unsafe extern "C" fn each(info: *mut DlPhdrInfo, _size: usize, data: *mut std::ffi::c_void) -> std::ffi::c_int {
        // Safety: glibc passes a valid info for the duration of the call; data is our Vec.
        let (info, out) = (&*info, &mut *(data as *mut Vec<CString>));
        if !info.dlpi_name.is_null() {
            let name = CStr::from_ptr(info.dlpi_name);
            if name.to_bytes().ends_with(b".duckdb_extension") {
                out.push(name.to_owned());
            }
        }
        0
    }
    let mut out: Vec<CString> = Vec::new();
    // Safety: the callback only reads the info and appends to `out`, which outlives the call.
    unsafe { dl_iterate_phdr(each, &mut out as *mut Vec<CString> as *mut std::ffi::c_void) };
    out
}

/// Paths of every loaded `*.duckdb_extension` file (macOS: not looked up).
#[cfg(all(feature = "v2", target_os = "macos"))]
fn loaded_extension_files() -> Vec<CString> {
    Vec::new()
}

/// In the companion: initialises this instance's v1 bindings from the v1 instance of
/// dataraum that is loading it: among the loaded `*.duckdb_extension` files (the v1 file may
/// have any path: installed, loaded by path), the one whose `dataraum_v1_api` returns a table.
///
/// # Safety
/// Call once per companion `LOAD`, before any v1 call.
#[cfg(all(feature = "v2", any(target_os = "linux", target_os = "macos")))]
pub(crate) unsafe fn init_v1_from_sibling() -> Result<(), String> {
    let mut table: *const std::ffi::c_void = std::ptr::null();
    for file in loaded_extension_files() {
        let handle = dlopen(file.as_ptr(), RTLD_NOW_NOLOAD);
        if handle.is_null() {
            continue;
        }
        let symbol = dlsym(handle, c"dataraum_v1_api".as_ptr());
        if !symbol.is_null() {
            let get: unsafe extern "C" fn() -> *const std::ffi::c_void = std::mem::transmute(symbol);
            table = get();
        }
        // The file stays loaded by DuckDB; this only drops the reference dlopen added.
        dlclose(handle);
        if !table.is_null() {
            break;
        }
    }
    if table.is_null() {
        return Err("no loaded dataraum.duckdb_extension handed over its C API v1 table; the companion is loaded by \
                    `LOAD dataraum`, not on its own"
            .into());
    }
    super::capi::init_bindings(table as *const *const std::ffi::c_void, super::capi::BINDINGS_SLOTS)?;
    note_duckdb_version();
    Ok(())
}

/// No `dlopen` here: the companion cannot borrow the v1 table.
#[cfg(all(feature = "v2", not(any(target_os = "linux", target_os = "macos"))))]
pub(crate) unsafe fn init_v1_from_sibling() -> Result<(), String> {
    Err("the C API v2 companion is supported on Linux and macOS only".into())
}
