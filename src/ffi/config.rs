//! Settings (`SET dataraum_x = ...`): registration and reading.
//!
//! Settings are registered with `duckdb_register_config_option` at `LOAD` and are read
//! through the caller's client context where DuckDB provides one (table function bind,
//! scalar bind). The C API v1 gives aggregates no context, so the SQL macros pass
//! `current_setting('dataraum_x')` to aggregates as ordinary arguments.

use std::ffi::CString;

use libduckdb_sys as sys;

use super::types::{take_c_string, Ty};

/// Default value of a setting.
#[derive(Debug, Clone)]
pub enum SettingDefault {
    /// BIGINT
    Int(i64),
    /// DOUBLE
    Double(f64),
    /// BOOLEAN
    Bool(bool),
    /// VARCHAR
    Text(&'static str),
}

impl SettingDefault {
    /// The setting's SQL type.
    pub fn ty(&self) -> Ty {
        match self {
            SettingDefault::Int(_) => Ty::BigInt,
            SettingDefault::Double(_) => Ty::Double,
            SettingDefault::Bool(_) => Ty::Boolean,
            SettingDefault::Text(_) => Ty::Varchar,
        }
    }
    /// The default rendered as text (for docs).
    pub fn render(&self) -> String {
        match self {
            SettingDefault::Int(v) => v.to_string(),
            SettingDefault::Double(v) => v.to_string(),
            SettingDefault::Bool(v) => v.to_string(),
            SettingDefault::Text(v) => format!("'{v}'"),
        }
    }
}

/// One `dataraum_*` setting.
pub struct Setting {
    /// Name, starting with `dataraum_`.
    pub name: &'static str,
    /// Default value (also fixes the type).
    pub default: SettingDefault,
    /// What it controls.
    pub description: &'static str,
}

/// Registers `s` on `conn`.
///
/// # Safety
/// `conn` must be an open connection.
pub(crate) unsafe fn register_setting(conn: sys::duckdb_connection, s: &Setting) -> Result<(), String> {
    let name = CString::new(s.name).map_err(|_| "setting name contains NUL".to_string())?;
    let desc = CString::new(s.description).map_err(|_| "description contains NUL".to_string())?;
    let mut opt = sys::duckdb_create_config_option();
    sys::duckdb_config_option_set_name(opt, name.as_ptr());
    let ty = s.default.ty().logical()?;
    sys::duckdb_config_option_set_type(opt, ty.raw);
    let mut v = match &s.default {
        SettingDefault::Int(i) => sys::duckdb_create_int64(*i),
        SettingDefault::Double(d) => sys::duckdb_create_double(*d),
        SettingDefault::Bool(b) => sys::duckdb_create_bool(*b),
        SettingDefault::Text(t) => {
            let c = CString::new(*t).map_err(|_| "default contains NUL".to_string())?;
            sys::duckdb_create_varchar(c.as_ptr())
        }
    };
    sys::duckdb_config_option_set_default_value(opt, v);
    sys::duckdb_config_option_set_description(opt, desc.as_ptr());
    let state = sys::duckdb_register_config_option(conn, opt);
    sys::duckdb_destroy_value(&mut v);
    sys::duckdb_destroy_config_option(&mut opt);
    if state != sys::DuckDBSuccess {
        return Err(format!("could not register setting {}", s.name));
    }
    Ok(())
}

/// Reads a setting by name as text.
type SettingReader = Box<dyn Fn(&str) -> Option<String>>;

/// The caller's client context, for reading settings; empty when unavailable.
pub struct Context {
    raw: sys::duckdb_client_context,
    /// Reads a setting where the caller's context is not a v1 client context (the C API v2
    /// callbacks of the companion).
    reader: Option<SettingReader>,
}

impl Context {
    /// The context of a table function's bind.
    ///
    /// # Safety
    /// `info` must be a valid bind info of a table function.
    pub(crate) unsafe fn from_bind(info: sys::duckdb_bind_info) -> Context {
        let mut raw: sys::duckdb_client_context = std::ptr::null_mut();
        if !super::capi::has_client_context() {
            // Before 1.5.2 there is no context to read settings from: callers use defaults.
            return Context { raw, reader: None };
        }
        sys::duckdb_table_function_get_client_context(info, &mut raw);
        Context { raw, reader: None }
    }

    /// A context whose settings are read by `reader` (valid while the context lives).
    #[cfg_attr(not(feature = "v2"), allow(dead_code))]
    pub(crate) fn from_reader(reader: SettingReader) -> Context {
        Context { raw: std::ptr::null_mut(), reader: Some(reader) }
    }

    /// A context-less placeholder (settings read as their defaults by callers).
    pub fn none() -> Context {
        Context { raw: std::ptr::null_mut(), reader: None }
    }

    /// The current value of setting `name` as text (`None` if unset or unavailable).
    pub fn setting(&self, name: &str) -> Option<String> {
        if let Some(read) = &self.reader {
            return read(name);
        }
        if self.raw.is_null() {
            return None;
        }
        let c = CString::new(name).ok()?;
        // Safety: `raw` is a live client context; the returned value is owned by us.
        unsafe {
            let mut scope: sys::duckdb_config_option_scope = 0;
            let mut v = sys::duckdb_client_context_get_config_option(self.raw, c.as_ptr(), &mut scope);
            if v.is_null() {
                return None;
            }
            let out = if sys::duckdb_is_null_value(v) { None } else { Some(take_c_string(sys::duckdb_get_varchar(v))) };
            sys::duckdb_destroy_value(&mut v);
            out
        }
    }

    /// Connection id of the caller, if known.
    pub fn connection_id(&self) -> Option<u64> {
        if self.raw.is_null() {
            return None;
        }
        // Safety: `raw` is a live client context.
        Some(unsafe { sys::duckdb_client_context_get_connection_id(self.raw) })
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            // Safety: the context was handed to us by DuckDB and is destroyed once.
            unsafe { sys::duckdb_destroy_client_context(&mut self.raw) }
        }
    }
}
