//! Scalar functions: implement [`Scalar`], call [`register_scalar`].
//!
//! The generic callback reads the chunk once, calls [`Scalar::invoke`] per row and
//! writes the returned [`Value`]. Unless the spec asks for special NULL handling, a
//! row with any NULL argument yields NULL without calling the function.

use std::ffi::CString;
use std::marker::PhantomData;

use libduckdb_sys as sys;

use super::guard::{guard, FnResult};
use super::types::Ty;
use super::value::{set_null, write_value, Value};
use super::vector::Args;
use crate::metrics::{self, FunctionMetrics};

/// A row-wise scalar function.
pub trait Scalar: 'static {
    /// Computes the result for `row`.
    fn invoke(args: &Args, row: usize) -> FnResult<Value>;
}

/// Name, overloads and flags of a scalar function.
pub struct ScalarSpec {
    /// SQL name.
    pub name: &'static str,
    /// One parameter list per overload.
    pub overloads: Vec<Vec<Ty>>,
    /// Result type.
    pub return_type: Ty,
    /// Pass NULL arguments to `invoke` instead of returning NULL.
    pub special_nulls: bool,
    /// The result may differ between calls with equal arguments (no constant folding).
    pub volatile: bool,
}

/// What the callback of scalar `S` needs: the function's extra info (v1) or user data (v2).
pub(crate) struct ScalarInfo<S: Scalar> {
    pub(crate) name: &'static str,
    pub(crate) return_type: Ty,
    pub(crate) special_nulls: bool,
    pub(crate) metrics: &'static FunctionMetrics,
    _s: PhantomData<fn() -> S>,
}

impl<S: Scalar> ScalarInfo<S> {
    pub(crate) fn new(spec: &ScalarSpec) -> Self {
        ScalarInfo {
            name: spec.name,
            return_type: spec.return_type.clone(),
            special_nulls: spec.special_nulls,
            metrics: metrics::for_function(spec.name),
            _s: PhantomData,
        }
    }
}

/// Calls `S` on every row of `args` and writes the results into `output`; returns the row count.
///
/// # Safety
/// `output` is a vector of the function's return type with room for every row of `args`.
pub(crate) unsafe fn invoke_rows<S: Scalar>(
    meta: &ScalarInfo<S>,
    args: &Args,
    output: sys::duckdb_vector,
) -> FnResult<usize> {
    for row in 0..args.rows() {
        let has_null = (0..args.len()).any(|c| !args.column(c).is_valid(row));
        if has_null && !meta.special_nulls {
            set_null(output, &meta.return_type, row);
            continue;
        }
        let v = S::invoke(args, row)?;
        write_value(output, &meta.return_type, row, &v)?;
    }
    Ok(args.rows())
}

unsafe extern "C" fn call<S: Scalar>(
    info: sys::duckdb_function_info,
    input: sys::duckdb_data_chunk,
    output: sys::duckdb_vector,
) {
    let meta = &*(sys::duckdb_scalar_function_get_extra_info(info) as *const ScalarInfo<S>);
    let start = crate::metrics::Span::start();
    let result = guard(meta.name, Some(meta.metrics), || {
        // Safety: DuckDB flattens scalar inputs; `output` has room for every row.
        let args = Args::read(input)?;
        invoke_rows(meta, &args, output)
    });
    match result {
        Ok(n) => meta.metrics.record_update(n as u64, start),
        Err(e) => {
            let c = CString::new(e.replace('\0', " ")).unwrap_or_default();
            sys::duckdb_scalar_function_set_error(info, c.as_ptr());
        }
    }
}

unsafe extern "C" fn drop_info<S: Scalar>(p: *mut std::ffi::c_void) {
    let _ = std::panic::catch_unwind(|| drop(Box::from_raw(p as *mut ScalarInfo<S>)));
}

/// Registers scalar `S` on `conn`.
///
/// # Safety
/// `conn` must be an open connection.
pub(crate) unsafe fn register_scalar<S: Scalar>(conn: sys::duckdb_connection, spec: &ScalarSpec) -> Result<(), String> {
    let name = CString::new(spec.name).map_err(|_| "name contains NUL".to_string())?;
    let ret = spec.return_type.logical()?;
    let mut set = sys::duckdb_create_scalar_function_set(name.as_ptr());
    for params in &spec.overloads {
        let mut f = sys::duckdb_create_scalar_function();
        sys::duckdb_scalar_function_set_name(f, name.as_ptr());
        for p in params {
            let t = p.logical()?;
            sys::duckdb_scalar_function_add_parameter(f, t.raw);
        }
        sys::duckdb_scalar_function_set_return_type(f, ret.raw);
        if spec.special_nulls {
            sys::duckdb_scalar_function_set_special_handling(f);
        }
        if spec.volatile {
            sys::duckdb_scalar_function_set_volatile(f);
        }
        let info = Box::new(ScalarInfo::<S>::new(spec));
        sys::duckdb_scalar_function_set_extra_info(f, Box::into_raw(info) as *mut _, Some(drop_info::<S>));
        sys::duckdb_scalar_function_set_function(f, Some(call::<S>));
        let added = sys::duckdb_add_scalar_function_to_set(set, f);
        sys::duckdb_destroy_scalar_function(&mut f);
        if added != sys::DuckDBSuccess {
            sys::duckdb_destroy_scalar_function_set(&mut set);
            return Err(format!("could not add an overload of {}", spec.name));
        }
    }
    let state = sys::duckdb_register_scalar_function_set(conn, set);
    sys::duckdb_destroy_scalar_function_set(&mut set);
    if state != sys::DuckDBSuccess {
        return Err(format!("DuckDB refused to register scalar function {}", spec.name));
    }
    Ok(())
}
