//! The C API v2 companion (`dataraum_v2.duckdb_extension`): registers every native `dr_*`
//! function (scalar, aggregate, table) with its documentation, and the macros of
//! `sql/*.sql` with theirs, into DuckDB's system catalog, so they appear documented in
//! `duckdb_functions()` (description, parameter names, example, category `dataraum`) and
//! the macros work in every connection, schema and attached database.
//!
//! The v2 API is pinned to one exact DuckDB release (footer ABI `C_STRUCT_UNSTABLE`), so
//! this module is compiled only with the `v2` feature, against bindings generated at build
//! time from that release's headers (see the Makefile's `DUCKDB_V2`). The v1 extension
//! registers the settings, then loads the companion file only when it runs inside exactly
//! that release (`entry::companion_file`); if the companion fails to load, the v1 entry
//! registers every function through v1 instead, so `LOAD dataraum` never loses one.
//!
//! Why the functions move here: docs (`duckdb_v2_function_docs_*`) exist only on a function
//! handle that is being built and go into the catalog with that function's `CREATE`; there
//! is no call that alters the description of an existing entry, and `COMMENT ON` refuses
//! system-catalog entries. So a function registered through v1 can never be documented.
//!
//! The companion is the same library loaded from a second file, so it has its own copy of
//! every static, including the v1 bindings the shared readers and writers use. It borrows
//! the v1 function table from the v1 instance (`entry::init_v1_from_sibling`); the function
//! callbacks are in [`super::v2_functions`].

use std::ptr;

use libduckdb_sys::v2 as sys;
use sys::DUCKDB_V2_ERROR as Code;

use crate::macros::{MacroDef, MacroKind};

/// The version string passed to `get_api`. A `C_STRUCT_UNSTABLE` extension always receives
/// the whole table of the release it was built for, so DuckDB ignores it.
const API_VERSION: &str = "v2.0.0";

/// Category added to every function's and macro's docs.
pub(crate) const CATEGORY: &str = "dataraum";

/// Runs the whole companion `LOAD`: initialises the v2 API table, registers every macro and
/// reports failures through the entry point's error slot. Never unwinds into DuckDB.
///
/// # Safety
/// `input` must be the pointer DuckDB passed to the v2 entry point.
pub unsafe fn init_companion(input: *mut sys::duckdb_v2_extension_input) {
    super::guard::install_quiet_hook();
    if input.is_null() {
        return;
    }
    let outcome = std::panic::catch_unwind(|| -> Result<(), String> {
        // Safety: DuckDB passes a valid input for the duration of the call.
        let input = unsafe { &*input };
        // Safety: as above; get_api is DuckDB's own callback.
        // Safety: as above.
        let table = unsafe { remapped_table(input)? };
        REMAPPED.store(table as *mut std::ffi::c_void, std::sync::atomic::Ordering::Release);
        let ours = sys::duckdb_v2_extension_input {
            get_api: Some(hand_out_remapped),
            extension: input.extension,
            context: input.context,
            err: input.err,
        };
        // Safety: `ours` hands out a table of our layout that lives for the process.
        match unsafe { sys::duckdb_rs_extension_api_v2_init(&ours, API_VERSION) } {
            Ok(true) => {}
            // DuckDB refused (e.g. a version mismatch) and has recorded why: leave the slot alone.
            Ok(false) => return Ok(()),
            Err(e) => return Err(format!("dataraum_v2: C API v2 initialisation failed: {e}")),
        }
        let mut factory: sys::duckdb_v2_factory_handle = ptr::null_mut();
        // Safety: the context is valid until the entry point returns; the factory is borrowed.
        unsafe { call("get the factory", |e| sys::duckdb_v2_context_get_factory(input.context, &mut factory, e))? };
        // Safety: once per LOAD, before any v1 call.
        unsafe { super::entry::init_v1_from_sibling() }.map_err(|e| format!("dataraum_v2: {e}"))?;

        // Every native function, all built before any is registered: a failure here leaves
        // the catalog untouched, and the v1 entry registers everything through v1 instead.
        let mut r = super::entry::Registrar::v2(super::v2_functions::V2Target::new(input.extension, factory));
        crate::registry::register_all(&mut r);
        if !r.failures.is_empty() {
            return Err(format!("dataraum_v2: could not build {}", r.failures.join("; ")));
        }
        // Safety: the extension handle is live during LOAD.
        let refused = r.v2_target().map(|t| unsafe { t.register_built() }).unwrap_or_default();
        if !refused.is_empty() {
            return Err(format!("dataraum_v2: DuckDB refused {}", refused.join("; ")));
        }

        // The macros: a failure is reported by dr_version().macros, never by failing the LOAD
        // (the functions are registered by now; a v1 fallback would collide with them).
        let mut failures = Vec::new();
        match crate::macros::all() {
            Ok(defs) => {
                for def in &defs {
                    // Safety: extension and factory come from this load.
                    if let Err(e) = unsafe { register_macro(input.extension, factory, def) } {
                        failures.push(format!("{}: {e}", def.name));
                    }
                }
            }
            Err(e) => failures.push(e),
        }
        crate::set_macros_status(if failures.is_empty() {
            "registered".to_string()
        } else {
            format!("not registered: {}", failures.join("; "))
        });
        Ok(())
    });
    let message = match outcome {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e,
        Err(_) => "dataraum_v2: internal error (Rust panic) during LOAD".to_string(),
    };
    // Safety: `err` is DuckDB's live error slot, never NULL and never pointing at NULL. If
    // the API table was never initialised these calls would panic: contain that too.
    let _ = std::panic::catch_unwind(|| unsafe {
        let slot = *(*input).err;
        if !slot.is_null() {
            let text = v2_str(&message);
            sys::duckdb_v2_error_info_set_code(slot, Code::DUCKDB_V2_ERROR_INPUT_INVALID);
            sys::duckdb_v2_error_info_set_text(slot, &text);
        }
    });
}

static REMAPPED: std::sync::atomic::AtomicPtr<std::ffi::c_void> = std::sync::atomic::AtomicPtr::new(ptr::null_mut());

unsafe extern "C" fn hand_out_remapped(
    _extension: sys::duckdb_v2_extension_handle,
    _version: *const std::ffi::c_char,
) -> *const std::ffi::c_void {
    REMAPPED.load(std::sync::atomic::Ordering::Acquire)
}

/// Slots of our v2 table in pointers.
const V2_SLOTS: usize = std::mem::size_of::<sys::duckdb_ext_api_v2>() / std::mem::size_of::<usize>();

/// Our slot of a function whose signature differs in another release (see `capi::V2_LAYOUTS`).
fn changed_slot(name: &str) -> Option<usize> {
    let offset = match name {
        "duckdb_v2_parse_sql" => std::mem::offset_of!(sys::duckdb_ext_api_v2, duckdb_v2_parse_sql),
        _ => return None,
    };
    Some(offset / std::mem::size_of::<usize>())
}

/// DuckDB's v2 table in our layout: as handed out when the running release (the one in this
/// companion file's footer, written by the v1 instance) is the one our bindings come from;
/// otherwise rebuilt slot by slot from the release's layout (`capi::V2_LAYOUTS`), with the
/// slots that release lacks or declares differently left empty (calling one is a caught panic,
/// never a call into the wrong function).
unsafe fn remapped_table(input: &sys::duckdb_v2_extension_input) -> Result<*const sys::duckdb_ext_api_v2, String> {
    let ours = super::entry::COMPANION_DUCKDB_VERSION;
    let running = super::entry::own_footer()
        .map(|(_, version)| version)
        .map_err(|e| format!("dataraum_v2: cannot read this companion's footer: {e}"))?;
    let layout = if running == ours {
        None
    } else {
        Some(super::capi::V2_LAYOUTS.iter().find(|l| l.release == running && l.bindings == ours).ok_or_else(|| {
            format!("dataraum_v2: built for DuckDB {ours} and {}, not {running}", super::entry::V2_RELEASES)
        })?)
    };
    let get_api = input.get_api.ok_or("dataraum_v2: DuckDB gave no get_api")?;
    let version = std::ffi::CString::new(API_VERSION).map_err(|_| "bad version")?;
    let raw = get_api(input.extension, version.as_ptr()) as *const *const std::ffi::c_void;
    if raw.is_null() {
        return Err("dataraum_v2: DuckDB handed out no C API v2 table".into());
    }
    let mut table: sys::duckdb_ext_api_v2 = std::mem::zeroed();
    let slots = &mut table as *mut sys::duckdb_ext_api_v2 as *mut *const std::ffi::c_void;
    match layout {
        // Safety: the running release is the one our struct was generated from.
        None => std::ptr::copy_nonoverlapping(raw, slots, V2_SLOTS),
        Some(l) => {
            let mut theirs = 0;
            for i in 0..V2_SLOTS {
                if l.missing.iter().any(|r| r.contains(&i)) {
                    continue;
                }
                // Safety: the release's table has V2_SLOTS minus the missing slots, read in order.
                *slots.add(i) = *raw.add(theirs);
                theirs += 1;
            }
            for name in l.changed {
                let i = changed_slot(name).ok_or_else(|| format!("dataraum_v2: unknown changed slot {name}"))?;
                *slots.add(i) = ptr::null();
            }
        }
    }
    Ok(Box::leak(Box::new(table)))
}

/// Builds and registers one macro with its parameters, defaults and docs.
unsafe fn register_macro(
    extension: sys::duckdb_v2_extension_handle,
    factory: sys::duckdb_v2_factory_handle,
    def: &MacroDef,
) -> Result<(), String> {
    let kind = match def.kind {
        MacroKind::Scalar => sys::DUCKDB_V2_MACRO_FUNCTION_TYPE::DUCKDB_V2_MACRO_FUNCTION_TYPE_SCALAR,
        MacroKind::Table => sys::DUCKDB_V2_MACRO_FUNCTION_TYPE::DUCKDB_V2_MACRO_FUNCTION_TYPE_TABLE,
    };
    let mut handle: sys::duckdb_v2_macro_function_handle = ptr::null_mut();
    call("create the macro", |e| sys::duckdb_v2_macro_function_create(factory, kind, &mut handle, e))?;
    let result = configure_and_register(extension, factory, handle, def);
    sys::duckdb_v2_macro_function_destroy(&mut handle);
    result
}

unsafe fn configure_and_register(
    extension: sys::duckdb_v2_extension_handle,
    factory: sys::duckdb_v2_factory_handle,
    handle: sys::duckdb_v2_macro_function_handle,
    def: &MacroDef,
) -> Result<(), String> {
    let name = v2_str(&def.name);
    call("set the name", |e| sys::duckdb_v2_macro_function_set_name(handle, &name, e))?;
    let body = v2_str(&def.body);
    call("set the body", |e| sys::duckdb_v2_macro_function_set_body(handle, &body, e))?;

    let mut sig: sys::duckdb_v2_function_signature_handle = ptr::null_mut();
    call("get the signature", |e| sys::duckdb_v2_macro_function_get_signature(handle, &mut sig, e))?;
    let mut any: sys::duckdb_v2_logical_type_handle = ptr::null_mut();
    call("create type ANY", |e| {
        sys::duckdb_v2_factory_create_type_from_id(
            factory,
            sys::DUCKDB_V2_LOGICAL_TYPE_ID::DUCKDB_V2_LOGICAL_TYPE_ID_ANY,
            ptr::null(),
            ptr::null(),
            0,
            &mut any,
            e,
        )
    })?;
    let params = add_parameters(factory, sig, any, def);
    sys::duckdb_v2_logical_type_destroy(&mut any);
    params?;

    let mut docs: sys::duckdb_v2_function_docs_handle = ptr::null_mut();
    call("get the docs", |e| sys::duckdb_v2_macro_function_get_docs(handle, &mut docs, e))?;
    let description = v2_str(&def.description);
    call("set the description", |e| sys::duckdb_v2_function_docs_set_description(docs, &description, e))?;
    let example = v2_str(&def.example);
    call("add the example", |e| sys::duckdb_v2_function_docs_add_example(docs, ptr::null(), &example, e))?;
    let category = v2_str(CATEGORY);
    call("add the category", |e| sys::duckdb_v2_function_docs_add_category(docs, &category, e))?;

    call("register", |e| sys::duckdb_v2_extension_register_macro_function(extension, handle, e))
}

/// Adds every parameter as an untyped (ANY) standard parameter; `name := default` ones
/// carry their default value.
unsafe fn add_parameters(
    factory: sys::duckdb_v2_factory_handle,
    sig: sys::duckdb_v2_function_signature_handle,
    any: sys::duckdb_v2_logical_type_handle,
    def: &MacroDef,
) -> Result<(), String> {
    for p in &def.params {
        let mut value: sys::duckdb_v2_value_handle = ptr::null_mut();
        if let Some(text) = &p.default {
            let literal = Literal::parse(text).ok_or_else(|| {
                format!(
                    "parameter {} := {text}: only NULL, TRUE/FALSE, numbers and 'strings' can be macro defaults",
                    p.name
                )
            })?;
            value = literal.to_value(factory)?;
        }
        let name = v2_str(&p.name);
        let added = call(&format!("add parameter {}", p.name), |e| {
            sys::duckdb_v2_function_signature_add_parameter(
                sig,
                &name,
                any,
                value,
                sys::DUCKDB_V2_FUNCTION_PARAMETER_KIND::DUCKDB_V2_FUNCTION_PARAMETER_KIND_STANDARD,
                e,
            )
        });
        if !value.is_null() {
            sys::duckdb_v2_value_destroy(&mut value);
        }
        added?;
    }
    Ok(())
}

/// A macro default written in SQL, limited to the constants a signature can hold.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Null,
    Bool(bool),
    Int(i32),
    BigInt(i64),
    Double(f64),
    Text(String),
}

impl Literal {
    /// Parses the SQL text of a default; `None` for anything but a plain constant.
    fn parse(text: &str) -> Option<Literal> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("NULL") {
            return Some(Literal::Null);
        }
        if t.eq_ignore_ascii_case("TRUE") || t.eq_ignore_ascii_case("FALSE") {
            return Some(Literal::Bool(t.eq_ignore_ascii_case("TRUE")));
        }
        if let Some(inner) = t.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            // A quote inside must be doubled; a lone one means the text is not one literal.
            if inner.replace("''", "").contains('\'') {
                return None;
            }
            return Some(Literal::Text(inner.replace("''", "'")));
        }
        let digits = t.strip_prefix('-').unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return match t.parse::<i64>() {
                Ok(v) => Some(i32::try_from(v).map(Literal::Int).unwrap_or(Literal::BigInt(v))),
                Err(_) => None,
            };
        }
        let numeric = digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
        if numeric && digits.bytes().any(|b| b.is_ascii_digit()) {
            return t.parse::<f64>().ok().filter(|v| v.is_finite()).map(Literal::Double);
        }
        None
    }

    unsafe fn to_value(&self, factory: sys::duckdb_v2_factory_handle) -> Result<sys::duckdb_v2_value_handle, String> {
        let mut v: sys::duckdb_v2_value_handle = ptr::null_mut();
        let out = &mut v;
        match self {
            Literal::Null => {
                // A NULL default has type "NULL", as in SQL `CREATE MACRO f(x := NULL)`.
                let mut null_type: sys::duckdb_v2_logical_type_handle = ptr::null_mut();
                // The type id API refuses SQLNULL; the type parser takes it by its SQL name.
                let null_name = v2_str("\"NULL\"");
                call("create type NULL", |e| {
                    sys::duckdb_v2_factory_create_type_from_text(factory, &null_name, &mut null_type, e)
                })?;
                let made = call("create NULL", |e| sys::duckdb_v2_value_create_null(factory, null_type, out, e));
                sys::duckdb_v2_logical_type_destroy(&mut null_type);
                made
            }
            Literal::Bool(b) => call("create a BOOLEAN", |e| sys::duckdb_v2_value_create_bool(factory, *b, out, e)),
            Literal::Int(i) => call("create an INTEGER", |e| sys::duckdb_v2_value_create_int(factory, *i, out, e)),
            Literal::BigInt(i) => call("create a BIGINT", |e| sys::duckdb_v2_value_create_bigint(factory, *i, out, e)),
            Literal::Double(d) => call("create a DOUBLE", |e| sys::duckdb_v2_value_create_double(factory, *d, out, e)),
            Literal::Text(s) => {
                let text = v2_str(s);
                call("create a VARCHAR", |e| sys::duckdb_v2_value_create_varchar(factory, &text, out, e))
            }
        }?;
        Ok(v)
    }
}

/// A borrowed view of `s` (valid while `s` lives).
pub(crate) fn v2_str(s: &str) -> sys::duckdb_v2_str {
    sys::duckdb_v2_str { ptr: s.as_ptr().cast(), len: s.len() as sys::idx_t }
}

/// Runs one v2 call with its own error slot and turns a failure into `what: message`.
pub(crate) unsafe fn call(
    what: &str,
    f: impl FnOnce(*mut sys::duckdb_v2_error_info_handle) -> Code,
) -> Result<(), String> {
    let mut err: sys::duckdb_v2_error_info_handle = ptr::null_mut();
    let code = f(&mut err);
    let mut message = None;
    if !err.is_null() {
        let mut text = sys::duckdb_v2_str { ptr: ptr::null(), len: 0 };
        if sys::duckdb_v2_error_info_get_text(err, &mut text) == Code::DUCKDB_V2_ERROR_NONE && !text.ptr.is_null() {
            // Safety: DuckDB hands back `len` bytes owned by `err`, copied before it is destroyed.
            let bytes = std::slice::from_raw_parts(text.ptr.cast::<u8>(), text.len as usize);
            message = Some(String::from_utf8_lossy(bytes).into_owned());
        }
        sys::duckdb_v2_error_info_destroy(&mut err);
    }
    if code == Code::DUCKDB_V2_ERROR_NONE {
        return Ok(());
    }
    Err(format!("{what}: {}", message.unwrap_or_else(|| format!("{code:?}"))))
}

#[cfg(test)]
mod tests {
    use super::Literal;

    #[test]
    fn macro_defaults_parse_as_sql_constants() {
        assert_eq!(Literal::parse("NULL"), Some(Literal::Null));
        assert_eq!(Literal::parse("true"), Some(Literal::Bool(true)));
        assert_eq!(Literal::parse("1"), Some(Literal::Int(1)));
        assert_eq!(Literal::parse("-7"), Some(Literal::Int(-7)));
        assert_eq!(Literal::parse("5000000000"), Some(Literal::BigInt(5_000_000_000)));
        assert_eq!(Literal::parse("0.25"), Some(Literal::Double(0.25)));
        assert_eq!(Literal::parse("1e-3"), Some(Literal::Double(0.001)));
        assert_eq!(Literal::parse("'a,b'"), Some(Literal::Text("a,b".into())));
        assert_eq!(Literal::parse("'it''s'"), Some(Literal::Text("it's".into())));
        assert_eq!(Literal::parse("'a' || 'b'"), None);
        assert_eq!(Literal::parse("[1, 2]"), None);
        assert_eq!(Literal::parse("now()"), None);
    }
}
