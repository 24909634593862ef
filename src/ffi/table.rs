//! Table functions that produce a small, fully computed result (listings such as
//! `dr_functions()` and `dr_metrics()`): implement [`TableRows`], call [`register_table`].
//!
//! Bind computes every row; exec hands them out a vector at a time. Bind and exec run
//! under the panic guard and report through `duckdb_bind_set_error` /
//! `duckdb_function_set_error`.

use std::ffi::CString;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

use libduckdb_sys as sys;

use super::config::Context;
use super::guard::{guard, FnResult};
use super::types::Ty;
use super::value::{write_value, Value};
use crate::metrics::{self, FunctionMetrics};

/// A table function whose rows are computed at bind time.
pub trait TableRows: 'static {
    /// Output columns.
    fn columns() -> Vec<(&'static str, Ty)>;
    /// All rows, given the positional VARCHAR parameters and the caller's context.
    fn rows(params: &[Option<String>], ctx: &Context) -> FnResult<Vec<Vec<Value>>>;
}

/// Name and parameters of a table function.
pub struct TableSpec {
    /// SQL name.
    pub name: &'static str,
    /// Positional parameters (read as VARCHAR).
    pub params: Vec<Ty>,
}

/// What the callbacks of table function `T` need: extra info (v1) or user data (v2).
pub(crate) struct TableInfo<T: TableRows> {
    pub(crate) name: &'static str,
    pub(crate) metrics: &'static FunctionMetrics,
    _t: PhantomData<fn() -> T>,
}

impl<T: TableRows> TableInfo<T> {
    pub(crate) fn new(spec: &TableSpec) -> Self {
        TableInfo { name: spec.name, metrics: metrics::for_function(spec.name), _t: PhantomData }
    }
}

/// Every row of one call, computed at bind.
pub(crate) struct BindData {
    pub(crate) columns: Vec<Ty>,
    pub(crate) rows: Vec<Vec<Value>>,
    cursor: AtomicUsize,
}

impl BindData {
    pub(crate) fn new(columns: Vec<Ty>, rows: Vec<Vec<Value>>) -> Self {
        BindData { columns, rows, cursor: AtomicUsize::new(0) }
    }
}

/// Writes the next vector's worth of rows after `cursor` into `output` (size 0 = done).
///
/// # Safety
/// `output` is a data chunk with one vector per column of `data`.
pub(crate) unsafe fn emit_rows(data: &BindData, cursor: &AtomicUsize, output: sys::duckdb_data_chunk) -> FnResult<()> {
    let capacity = sys::duckdb_vector_size() as usize;
    let begin = cursor.load(Ordering::Relaxed).min(data.rows.len());
    let end = (begin + capacity).min(data.rows.len());
    for (c, ty) in data.columns.iter().enumerate() {
        let v = sys::duckdb_data_chunk_get_vector(output, c as u64);
        if v.is_null() {
            return Err(format!("internal: output column {c} missing"));
        }
        for (r, row) in data.rows[begin..end].iter().enumerate() {
            write_value(v, ty, r, row.get(c).unwrap_or(&Value::Null))?;
        }
    }
    sys::duckdb_data_chunk_set_size(output, (end - begin) as u64);
    cursor.store(end, Ordering::Relaxed);
    Ok(())
}

unsafe extern "C" fn bind<T: TableRows>(info: sys::duckdb_bind_info) {
    let meta = &*(sys::duckdb_bind_get_extra_info(info) as *const TableInfo<T>);
    let result = guard(meta.name, Some(meta.metrics), || {
        let n = sys::duckdb_bind_get_parameter_count(info);
        let mut params = Vec::with_capacity(n as usize);
        for i in 0..n {
            let mut v = sys::duckdb_bind_get_parameter(info, i);
            let s = if v.is_null() || sys::duckdb_is_null_value(v) {
                None
            } else {
                Some(super::types::take_c_string(sys::duckdb_get_varchar(v)))
            };
            sys::duckdb_destroy_value(&mut v);
            params.push(s);
        }
        let ctx = Context::from_bind(info);
        let cols = T::columns();
        for (name, ty) in &cols {
            let c = CString::new(*name).map_err(|_| "column name contains NUL".to_string())?;
            let t = ty.logical()?;
            sys::duckdb_bind_add_result_column(info, c.as_ptr(), t.raw);
        }
        let rows = T::rows(&params, &ctx)?;
        Ok(BindData::new(cols.into_iter().map(|(_, t)| t).collect(), rows))
    });
    match result {
        Ok(data) => {
            sys::duckdb_bind_set_cardinality(info, data.rows.len() as u64, true);
            sys::duckdb_bind_set_bind_data(info, Box::into_raw(Box::new(data)) as *mut _, Some(drop_bind));
        }
        Err(e) => {
            let c = CString::new(e.replace('\0', " ")).unwrap_or_default();
            sys::duckdb_bind_set_error(info, c.as_ptr());
        }
    }
}

unsafe extern "C" fn drop_bind(p: *mut std::ffi::c_void) {
    let _ = std::panic::catch_unwind(|| drop(Box::from_raw(p as *mut BindData)));
}

unsafe extern "C" fn init(info: sys::duckdb_init_info) {
    sys::duckdb_init_set_max_threads(info, 1);
}

unsafe extern "C" fn exec<T: TableRows>(info: sys::duckdb_function_info, output: sys::duckdb_data_chunk) {
    let meta = &*(sys::duckdb_function_get_extra_info(info) as *const TableInfo<T>);
    let result = guard(meta.name, Some(meta.metrics), || {
        let data = &*(sys::duckdb_function_get_bind_data(info) as *const BindData);
        emit_rows(data, &data.cursor, output)
    });
    if let Err(e) = result {
        let c = CString::new(e.replace('\0', " ")).unwrap_or_default();
        sys::duckdb_function_set_error(info, c.as_ptr());
    }
}

unsafe extern "C" fn drop_info<T: TableRows>(p: *mut std::ffi::c_void) {
    let _ = std::panic::catch_unwind(|| drop(Box::from_raw(p as *mut TableInfo<T>)));
}

/// Registers table function `T` on `conn`.
///
/// # Safety
/// `conn` must be an open connection.
pub(crate) unsafe fn register_table<T: TableRows>(
    conn: sys::duckdb_connection,
    spec: &TableSpec,
) -> Result<(), String> {
    let name = CString::new(spec.name).map_err(|_| "name contains NUL".to_string())?;
    let mut f = sys::duckdb_create_table_function();
    sys::duckdb_table_function_set_name(f, name.as_ptr());
    for p in &spec.params {
        let t = p.logical()?;
        sys::duckdb_table_function_add_parameter(f, t.raw);
    }
    let info = Box::new(TableInfo::<T>::new(spec));
    sys::duckdb_table_function_set_extra_info(f, Box::into_raw(info) as *mut _, Some(drop_info::<T>));
    sys::duckdb_table_function_set_bind(f, Some(bind::<T>));
    sys::duckdb_table_function_set_init(f, Some(init));
    sys::duckdb_table_function_set_function(f, Some(exec::<T>));
    let state = sys::duckdb_register_table_function(conn, f);
    sys::duckdb_destroy_table_function(&mut f);
    if state != sys::DuckDBSuccess {
        return Err(format!("DuckDB refused to register table function {}", spec.name));
    }
    Ok(())
}

// ---------------------------------------------------------------- dr_ticks (see job.rs)

/// Writes one tick (the scan's id) into `output`, or nothing once the scan is over.
///
/// # Safety
/// `output` is a data chunk with one BIGINT vector.
pub(crate) unsafe fn emit_tick(scan: &super::job::ScanHandle, output: sys::duckdb_data_chunk) -> FnResult<()> {
    if !scan.next_tick() {
        sys::duckdb_data_chunk_set_size(output, 0);
        return Ok(());
    }
    let v = sys::duckdb_data_chunk_get_vector(output, 0);
    if v.is_null() {
        return Err("internal: output column 0 missing".into());
    }
    write_value(v, &Ty::BigInt, 0, &Value::Int(scan.id()))?;
    sys::duckdb_data_chunk_set_size(output, 1);
    Ok(())
}

struct TicksMeta {
    name: &'static str,
    metrics: &'static FunctionMetrics,
}

unsafe extern "C" fn ticks_bind(info: sys::duckdb_bind_info) {
    let c = CString::new(super::job::TICK_COLUMN).unwrap_or_default();
    let t = match Ty::BigInt.logical() {
        Ok(t) => t,
        Err(e) => {
            let c = CString::new(e.replace('\0', " ")).unwrap_or_default();
            return sys::duckdb_bind_set_error(info, c.as_ptr());
        }
    };
    sys::duckdb_bind_add_result_column(info, c.as_ptr(), t.raw);
    sys::duckdb_bind_set_cardinality(info, super::job::TICKS_ESTIMATE, false);
}

unsafe extern "C" fn ticks_init(info: sys::duckdb_init_info) {
    sys::duckdb_init_set_max_threads(info, 1);
    match std::panic::catch_unwind(super::job::ScanHandle::new) {
        Ok(scan) => sys::duckdb_init_set_init_data(info, Box::into_raw(Box::new(scan)) as *mut _, Some(drop_scan)),
        Err(_) => {
            let c = CString::new("dr_ticks: internal error (Rust panic)").unwrap_or_default();
            sys::duckdb_init_set_error(info, c.as_ptr());
        }
    }
}

unsafe extern "C" fn drop_scan(p: *mut std::ffi::c_void) {
    let _ = std::panic::catch_unwind(|| drop(Box::from_raw(p as *mut super::job::ScanHandle)));
}

unsafe extern "C" fn ticks_exec(info: sys::duckdb_function_info, output: sys::duckdb_data_chunk) {
    let meta = &*(sys::duckdb_function_get_extra_info(info) as *const TicksMeta);
    let start = crate::metrics::Span::start();
    let result = guard(meta.name, Some(meta.metrics), || {
        let scan = sys::duckdb_function_get_init_data(info) as *const super::job::ScanHandle;
        if scan.is_null() {
            return Err("internal: the scan has no state".into());
        }
        emit_tick(&*scan, output)
    });
    meta.metrics.record_update(1, start);
    if let Err(e) = result {
        let c = CString::new(e.replace('\0', " ")).unwrap_or_default();
        sys::duckdb_function_set_error(info, c.as_ptr());
    }
}

unsafe extern "C" fn drop_ticks_meta(p: *mut std::ffi::c_void) {
    let _ = std::panic::catch_unwind(|| drop(Box::from_raw(p as *mut TicksMeta)));
}

/// Registers `dr_ticks()` on `conn` (C API v1: no progress callback).
///
/// # Safety
/// `conn` must be an open connection.
pub(crate) unsafe fn register_ticks(conn: sys::duckdb_connection, spec: &TableSpec) -> Result<(), String> {
    let name = CString::new(spec.name).map_err(|_| "name contains NUL".to_string())?;
    let mut f = sys::duckdb_create_table_function();
    sys::duckdb_table_function_set_name(f, name.as_ptr());
    let meta = Box::new(TicksMeta { name: spec.name, metrics: metrics::for_function(spec.name) });
    sys::duckdb_table_function_set_extra_info(f, Box::into_raw(meta) as *mut _, Some(drop_ticks_meta));
    sys::duckdb_table_function_set_bind(f, Some(ticks_bind));
    sys::duckdb_table_function_set_init(f, Some(ticks_init));
    sys::duckdb_table_function_set_function(f, Some(ticks_exec));
    let state = sys::duckdb_register_table_function(conn, f);
    sys::duckdb_destroy_table_function(&mut f);
    if state != sys::DuckDBSuccess {
        return Err(format!("DuckDB refused to register table function {}", spec.name));
    }
    Ok(())
}
