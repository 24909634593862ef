//! Which part of DuckDB's C API v1 function table this extension may call, per release.
//!
//! `get_api(info, "v1.2.0")` hands out the running DuckDB's *whole* v1 table, laid out as
//! that release laid it out. Slots 0–407 are the same in every release from 1.2.0 on; past
//! 407 the entries moved until 1.5.2 (groups inserted at 408 in 1.4.0, 410 in 1.5.0 and
//! 493 in 1.5.2), then 1.5.6 froze the 1.5.5 layout of 546 slots as a stable band that 2.0
//! only appends to (`docs/capi-v1-slots.csv`: each slot's function per release, read from
//! DuckDB's sources at each tag). Our bindings have the layout of one release, so copying
//! the whole table calls other functions than the names say on older releases (measured:
//! 1.3.2 threw a C++ exception through `LOAD`, 1.4.5 crashed in an unrelated function).
//!
//! So the table is copied only as far as the running release agrees with the bindings
//! ([`usable_slots`]); every slot past that stays empty, and the bindings' wrapper panics
//! (caught by the guard, a SQL error) instead of calling the wrong function. Code that
//! needs a slot past 407 asks first ([`has_config_options`], [`has_client_context`]).

use std::sync::atomic::{AtomicUsize, Ordering};

use libduckdb_sys as sys;

/// Slots every release from 1.2.0 on has at the same positions.
pub const STABLE_SLOTS: usize = 408;
/// Slots of the stable "v1.5.6 band" (the 1.5.5 layout, kept by 1.5.6 and every 2.0.x).
pub const BAND_SLOTS: usize = 546;

/// `duckdb_library_version` (the same slot in every release).
const SLOT_LIBRARY_VERSION: usize = 7;
/// Last slot of the config-option group (`duckdb_client_context_get_config_option`).
const SLOT_LAST_CONFIG_OPTION: usize = 431;
/// Last slot the client-context reads use (`duckdb_table_function_get_client_context`).
const SLOT_LAST_CLIENT_CONTEXT: usize = 531;

/// How many leading slots were copied on `LOAD` (0 before).
static USABLE: AtomicUsize = AtomicUsize::new(0);

/// A release number `vMAJOR.MINOR.PATCH` (anything after the patch, e.g. `-dev12`, ignored).
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let v = v.trim().trim_start_matches('v');
    let mut parts = v.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let rest = parts.next()?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some((major, minor, digits.parse().ok()?))
}

/// The number of leading v1 slots of `running` (a DuckDB release, e.g. `v1.4.5`) whose
/// functions sit where bindings generated for `bindings` (a release too) expect them, capped
/// at `bindings_len`. `None`: a release older than 1.2.0 or not a release number.
pub fn usable_slots(running: &str, bindings: &str, bindings_len: usize) -> Option<usize> {
    let r = parse_version(running)?;
    let n = if running.trim() == bindings.trim() {
        bindings_len
    } else {
        match r {
            (0, _, _) | (1, 0..=1, _) => return None,
            (1, 2..=3, _) => STABLE_SLOTS,
            // 1.4 inserted a group at 408; its 408 and 409 still match the band.
            (1, 4, _) => 410,
            // 1.5.2 inserted a group at 493.
            (1, 5, 0..=1) => 493,
            _ => BAND_SLOTS,
        }
    };
    Some(n.min(bindings_len))
}

/// The release our v1 bindings were generated from: with the `v2` feature, the headers of
/// the companion's release; otherwise the crate's pregenerated bindings (DuckDB 2.0.0).
pub fn bindings_version() -> &'static str {
    if cfg!(feature = "v2") {
        super::entry::COMPANION_DUCKDB_VERSION
    } else {
        "v2.0.0"
    }
}

/// Slots in our bindings' v1 table.
pub const BINDINGS_SLOTS: usize = std::mem::size_of::<sys::duckdb_ext_api_v1>() / std::mem::size_of::<usize>();

/// The running release's version string, read from slot 7 of the table `get_api` returned.
///
/// # Safety
/// `table` must be the non-NULL pointer `get_api` returned.
pub unsafe fn host_version(table: *const *const std::ffi::c_void) -> Option<String> {
    let f = *table.add(SLOT_LIBRARY_VERSION);
    if f.is_null() {
        return None;
    }
    // Safety: slot 7 is duckdb_library_version in every release from 1.2.0 on.
    let f: unsafe extern "C" fn() -> *const std::ffi::c_char = std::mem::transmute(f);
    let v = f();
    (!v.is_null()).then(|| std::ffi::CStr::from_ptr(v).to_string_lossy().into_owned())
}

/// Copies the first `n` slots of the host's table into a table of our layout, the rest
/// empty, and initialises the bindings from it.
///
/// # Safety
/// `table` must be the pointer `get_api` returned and have at least `n` slots.
pub unsafe fn init_bindings(table: *const *const std::ffi::c_void, n: usize) -> Result<(), String> {
    let n = n.min(BINDINGS_SLOTS);
    let mut ours: sys::duckdb_ext_api_v1 = std::mem::zeroed();
    // Safety: both are arrays of pointer-sized function pointers (`Option<fn>` is one
    // pointer, NULL = None); `n` is within both.
    std::ptr::copy_nonoverlapping(table, &mut ours as *mut sys::duckdb_ext_api_v1 as *mut *const std::ffi::c_void, n);
    let boxed: &'static sys::duckdb_ext_api_v1 = Box::leak(Box::new(ours));
    HANDED.store(boxed as *const sys::duckdb_ext_api_v1 as *mut std::ffi::c_void, Ordering::Release);
    let access = sys::duckdb_extension_access { set_error: None, get_database: None, get_api: Some(hand_out) };
    match sys::duckdb_rs_extension_api_init(std::ptr::null_mut(), &access, super::entry::MIN_CAPI_VERSION) {
        Ok(true) => {
            USABLE.store(n, Ordering::Release);
            Ok(())
        }
        Ok(false) => Err("the C API v1 table was empty".into()),
        Err(e) => Err(format!("C API v1 initialisation failed: {e}")),
    }
}

static HANDED: std::sync::atomic::AtomicPtr<std::ffi::c_void> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

unsafe extern "C" fn hand_out(
    _info: sys::duckdb_extension_info,
    _version: *const std::ffi::c_char,
) -> *const std::ffi::c_void {
    HANDED.load(Ordering::Acquire)
}

/// The table [`init_bindings`] built (NULL before), handed to the companion.
pub fn handed_table() -> *const std::ffi::c_void {
    HANDED.load(Ordering::Acquire)
}

/// C API v2 tables of releases other than the one our v2 bindings come from, described as
/// the difference to ours: the running table is ours without the slots `missing` (in order),
/// and `changed` names slots whose signature differs there (left empty, never called). Read
/// from the two releases' `duckdb_extension_v2.h` (`extension-ci/check_capi_layouts.py`
/// checks it against the headers on every `make test`).
pub struct V2Layout {
    /// The release, e.g. `v2.0.0`.
    pub release: &'static str,
    /// The release our v2 bindings were generated from.
    pub bindings: &'static str,
    /// Ranges of our slots the release does not have.
    pub missing: &'static [std::ops::Range<usize>],
    /// Functions whose signature differs in the release.
    pub changed: &'static [&'static str],
}

/// Every other v2 layout this build can run on.
#[allow(clippy::single_range_in_vec_init)] // a list of ranges that happens to hold one
pub const V2_LAYOUTS: &[V2Layout] = &[V2Layout {
    release: "v2.0.0",
    bindings: "v2.0.1",
    // 2.0.1 inserted the 21 stats entries at the front of the table.
    missing: &[0..21],
    // 2.0.1 added `apply_invalidation_policy` to duckdb_v2_parse_sql.
    changed: &["duckdb_v2_parse_sql"],
}];

/// Whether the companion (C API v2) can run on `running`.
pub fn v2_layout_known(running: &str) -> bool {
    if !cfg!(feature = "v2") {
        return false;
    }
    let ours = super::entry::COMPANION_DUCKDB_VERSION;
    running == ours || V2_LAYOUTS.iter().any(|l| l.release == running && l.bindings == ours)
}

/// Slots copied on `LOAD`.
pub fn usable() -> usize {
    USABLE.load(Ordering::Acquire)
}

/// Whether `SET dataraum_x` settings can be registered and read (config options, 1.5.0+).
pub fn has_config_options() -> bool {
    usable() > SLOT_LAST_CONFIG_OPTION
}

/// Whether the fields of a STRUCT argument are flat when DuckDB hands a chunk to an aggregate
/// or scalar. DuckDB 1.2 flattens only the top-level vector: a field that is a sequence,
/// constant or dictionary vector (`range`, compressed columns) makes `duckdb_vector_get_validity`
/// throw a C++ exception, which would abort the process through our frames (measured on 1.2.2;
/// 1.3.2 and later flatten the fields).
pub fn nested_children_are_flat() -> bool {
    super::entry::duckdb_version_tuple().is_none_or(|v| v >= (1, 3, 0))
}

/// Whether a table function's bind can read the caller's client context (1.5.2+).
pub fn has_client_context() -> bool {
    usable() > SLOT_LAST_CLIENT_CONTEXT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_per_release() {
        let b = "v2.0.1";
        assert_eq!(usable_slots("v1.1.3", b, 600), None);
        assert_eq!(usable_slots("v1.2.2", b, 600), Some(408));
        assert_eq!(usable_slots("v1.3.2", b, 600), Some(408));
        assert_eq!(usable_slots("v1.4.5", b, 600), Some(410));
        assert_eq!(usable_slots("v1.5.1", b, 600), Some(493));
        assert_eq!(usable_slots("v1.5.6", b, 600), Some(546));
        assert_eq!(usable_slots("v2.0.0", b, 600), Some(546));
        assert_eq!(usable_slots("v2.0.1", b, 600), Some(600));
        assert_eq!(usable_slots("v2.0.1", b, 500), Some(500));
        assert_eq!(usable_slots("v2.1.0-dev3", b, 600), Some(546));
        assert_eq!(usable_slots("nonsense", b, 600), None);
    }

    /// Config options and the client context sit inside the band; slot 7 is the version.
    #[test]
    fn gates_inside_band() {
        const { assert!(SLOT_LAST_CONFIG_OPTION < BAND_SLOTS && SLOT_LAST_CLIENT_CONTEXT < BAND_SLOTS) };
        assert!(410 <= SLOT_LAST_CONFIG_OPTION && 493 > SLOT_LAST_CONFIG_OPTION);
        assert!(BINDINGS_SLOTS >= BAND_SLOTS);
    }

    /// Our bindings put the functions we call where DuckDB's sources put them (slots from
    /// docs/capi-v1-slots.csv, the 1.5.6 column).
    #[test]
    fn bindings_layout_matches_duckdb() {
        macro_rules! slot {
            ($f:ident) => {
                std::mem::offset_of!(sys::duckdb_ext_api_v1, $f) / std::mem::size_of::<usize>()
            };
        }
        assert_eq!(slot!(duckdb_connect), 3);
        assert_eq!(slot!(duckdb_disconnect), 6);
        assert_eq!(slot!(duckdb_library_version), SLOT_LIBRARY_VERSION);
        assert_eq!(slot!(duckdb_query), 13);
        assert_eq!(slot!(duckdb_create_config_option), 423);
        assert_eq!(slot!(duckdb_register_config_option), 430);
        assert_eq!(slot!(duckdb_client_context_get_config_option), SLOT_LAST_CONFIG_OPTION);
        assert_eq!(slot!(duckdb_client_context_get_connection_id), 500);
        assert_eq!(slot!(duckdb_destroy_client_context), 501);
        assert_eq!(slot!(duckdb_table_function_get_client_context), SLOT_LAST_CLIENT_CONTEXT);
    }
}
