//! The native `dr_*` functions registered through the C API v2 (companion only), so that
//! each carries its documentation (description, parameter names, example, category
//! `dataraum`) into `duckdb_functions()`.
//!
//! The callbacks are generic over the same traits as the v1 ones ([`Aggregate`], [`Scalar`],
//! [`TableRows`]) and share their bodies (`aggregate::update_states`, `scalar::invoke_rows`,
//! `table::emit_rows`, ...). Every callback runs under the panic guard and reports through
//! its v2 error slot.
//!
//! Vectors and data chunks: on the release the companion is pinned to (2.0.1), a v2 vector
//! handle is `reinterpret_cast<duckdb::Vector *>` and a v2 data chunk handle is a
//! `duckdb::DataChunk *` (`capi_v2_internal.hpp`), exactly like a v1 `duckdb_vector` /
//! `duckdb_data_chunk`, so the v1 readers and writers of `vector.rs` and `value.rs` work on
//! them. They need the v1 function pointers, which the companion borrows from the v1
//! instance (`entry::init_v1_from_sibling`). v2 callbacks get their inputs unflattened:
//! each argument is flattened (`duckdb_v2_vector_flatten`) before it is read.
//!
//! Overloads: scalar and table functions are registered one overload at a time (the
//! catalog adds each to the function's set). An aggregate cannot be: DuckDB 2.0.1 has no
//! `ALTER` for aggregate catalog entries, so a second registration under the same name
//! fails. An aggregate is registered once, with the parameters of its longest overload;
//! the parameters beyond its shortest overload get a typed NULL default. The callbacks then
//! always see every argument, NULL where the caller gave none, which the aggregates read
//! as "not given" (as they do for an explicit NULL), and the options can also be passed by
//! name (`dr_persistence(p, max_dim := 2)`).

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::AtomicUsize;

use libduckdb_sys as v1;
use libduckdb_sys::v2 as sys;
use sys::DUCKDB_V2_ERROR as Code;

use super::aggregate::{self, AggInfo, Aggregate, AggregateSpec};
use super::config::Context;
use super::guard::{guard, FnResult};
use super::job;
use super::scalar::{self, Scalar, ScalarInfo, ScalarSpec};
use super::signature::{merged_overloads, parameter_names, type_text};
use super::table::{self, BindData, TableInfo, TableRows, TableSpec};
use super::types::{take_c_string, Ty};
use super::v2::{call, v2_str, CATEGORY};
use super::vector::Args;
use crate::registry::FunctionDoc;

use sys::DUCKDB_V2_FUNCTION_PROPERTY_KEY as Key;
use sys::DUCKDB_V2_FUNCTION_PROPERTY_VALUE as Prop;

/// A configured function handle waiting for registration.
enum Built {
    Scalar(sys::duckdb_v2_scalar_function_handle),
    Aggregate(sys::duckdb_v2_aggregate_function_handle),
    Table(sys::duckdb_v2_table_function_handle),
}

impl Built {
    unsafe fn destroy(&mut self) {
        match self {
            Built::Scalar(h) => sys::duckdb_v2_scalar_function_destroy(h),
            Built::Aggregate(h) => sys::duckdb_v2_aggregate_function_destroy(h),
            Built::Table(h) => sys::duckdb_v2_table_function_destroy(h),
        };
    }
}

/// Builds every native function as a v2 handle, then registers them all at once: a
/// function that cannot be built fails the companion before anything is in the catalog,
/// so the v1 fallback finds no half-registered names.
pub(crate) struct V2Target {
    extension: sys::duckdb_v2_extension_handle,
    factory: sys::duckdb_v2_factory_handle,
    docs: Vec<FunctionDoc>,
    built: Vec<(&'static str, Built)>,
}

impl Drop for V2Target {
    fn drop(&mut self) {
        for (_, b) in &mut self.built {
            // Safety: each handle was created by this target and is destroyed once; a
            // registered function keeps its own copy of everything the handle owned.
            unsafe { b.destroy() }
        }
    }
}

impl V2Target {
    /// A target registering on `extension` through `factory` (both from the companion's LOAD).
    pub(crate) fn new(extension: sys::duckdb_v2_extension_handle, factory: sys::duckdb_v2_factory_handle) -> Self {
        V2Target { extension, factory, docs: crate::registry::functions(), built: Vec::new() }
    }

    fn doc(&self, name: &str) -> Option<&FunctionDoc> {
        self.docs.iter().find(|d| d.name == name)
    }

    /// Builds scalar `S`, one handle per overload.
    ///
    /// # Safety
    /// The factory must be live (during the companion's LOAD).
    pub(crate) unsafe fn scalar<S: Scalar>(&mut self, spec: &ScalarSpec) -> Result<(), String> {
        for params in &spec.overloads {
            let mut h: sys::duckdb_v2_scalar_function_handle = ptr::null_mut();
            call("create", |e| sys::duckdb_v2_scalar_function_create(self.factory, &mut h, e))?;
            let mut built = Built::Scalar(h);
            match self.configure_scalar::<S>(h, spec, params) {
                Ok(()) => self.built.push((spec.name, built)),
                Err(e) => {
                    built.destroy();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    unsafe fn configure_scalar<S: Scalar>(
        &self,
        h: sys::duckdb_v2_scalar_function_handle,
        spec: &ScalarSpec,
        params: &[Ty],
    ) -> Result<(), String> {
        let name = v2_str(spec.name);
        call("set the name", |e| sys::duckdb_v2_scalar_function_set_name(h, &name, e))?;
        let mut sig: sys::duckdb_v2_function_signature_handle = ptr::null_mut();
        call("get the signature", |e| sys::duckdb_v2_scalar_function_get_signature(h, &mut sig, e))?;
        self.add_parameters(sig, spec.name, params, params.len())?;
        let ret = OwnedType::new(self.factory, &spec.return_type)?;
        call("set the return type", |e| sys::duckdb_v2_function_signature_set_return_type(sig, ret.0, e))?;
        if spec.special_nulls {
            call("set NULL handling", |e| {
                sys::duckdb_v2_scalar_function_set_property(
                    h,
                    Key::DUCKDB_V2_FUNCTION_PROPERTY_NULL_HANDLING,
                    Prop::DUCKDB_V2_FUNCTION_PROPERTY_NULL_HANDLING_SPECIAL,
                    e,
                )
            })?;
        }
        if spec.volatile {
            call("set volatile", |e| {
                sys::duckdb_v2_scalar_function_set_property(
                    h,
                    Key::DUCKDB_V2_FUNCTION_PROPERTY_STABILITY,
                    Prop::DUCKDB_V2_FUNCTION_PROPERTY_STABILITY_VOLATILE,
                    e,
                )
            })?;
        }
        let mut data = opaque(Box::new(ScalarInfo::<S>::new(spec)), drop_box::<ScalarInfo<S>>);
        call("set the user data", |e| sys::duckdb_v2_scalar_function_set_user_data(h, &mut data, e))
            .inspect_err(|_| drop_box::<ScalarInfo<S>>(data.ptr))?;
        call("set the callback", |e| sys::duckdb_v2_scalar_function_set_exec_callback(h, Some(scalar_exec::<S>), e))?;
        let mut docs: sys::duckdb_v2_function_docs_handle = ptr::null_mut();
        call("get the docs", |e| sys::duckdb_v2_scalar_function_get_docs(h, &mut docs, e))?;
        self.set_docs(docs, spec.name)
    }

    /// Builds aggregate `A` as one handle: its longest overload, with typed NULL defaults
    /// for the parameters its shortest overload lacks.
    ///
    /// # Safety
    /// As for [`V2Target::scalar`].
    pub(crate) unsafe fn aggregate<A: Aggregate>(&mut self, spec: &AggregateSpec) -> Result<(), String> {
        let (params, required) = merged_overloads(&spec.overloads)?;
        let mut h: sys::duckdb_v2_aggregate_function_handle = ptr::null_mut();
        call("create", |e| sys::duckdb_v2_aggregate_function_create(self.factory, &mut h, e))?;
        let mut built = Built::Aggregate(h);
        match self.configure_aggregate::<A>(h, spec, &params, required) {
            Ok(()) => {
                self.built.push((spec.name, built));
                Ok(())
            }
            Err(e) => {
                built.destroy();
                Err(e)
            }
        }
    }

    unsafe fn configure_aggregate<A: Aggregate>(
        &self,
        h: sys::duckdb_v2_aggregate_function_handle,
        spec: &AggregateSpec,
        params: &[Ty],
        required: usize,
    ) -> Result<(), String> {
        let name = v2_str(spec.name);
        call("set the name", |e| sys::duckdb_v2_aggregate_function_set_name(h, &name, e))?;
        let mut sig: sys::duckdb_v2_function_signature_handle = ptr::null_mut();
        call("get the signature", |e| sys::duckdb_v2_aggregate_function_get_signature(h, &mut sig, e))?;
        self.add_parameters(sig, spec.name, params, required)?;
        let ret = OwnedType::new(self.factory, &spec.return_type)?;
        call("set the return type", |e| sys::duckdb_v2_function_signature_set_return_type(sig, ret.0, e))?;
        // As in v1: NULLs reach update (the profile counts them).
        call("set NULL handling", |e| {
            sys::duckdb_v2_aggregate_function_set_property(
                h,
                Key::DUCKDB_V2_FUNCTION_PROPERTY_NULL_HANDLING,
                Prop::DUCKDB_V2_FUNCTION_PROPERTY_NULL_HANDLING_SPECIAL,
                e,
            )
        })?;
        let mut data = opaque(Box::new(AggInfo::<A>::new(spec)), drop_box::<AggInfo<A>>);
        call("set the user data", |e| sys::duckdb_v2_aggregate_function_set_user_data(h, &mut data, e))
            .inspect_err(|_| drop_box::<AggInfo<A>>(data.ptr))?;
        call("set size", |e| sys::duckdb_v2_aggregate_function_set_size_callback(h, Some(agg_size::<A>), e))?;
        call("set init", |e| sys::duckdb_v2_aggregate_function_set_init_callback(h, Some(agg_init::<A>), e))?;
        call("set update", |e| sys::duckdb_v2_aggregate_function_set_update_callback(h, Some(agg_update::<A>), e))?;
        call("set combine", |e| sys::duckdb_v2_aggregate_function_set_combine_callback(h, Some(agg_combine::<A>), e))?;
        call("set finalize", |e| {
            sys::duckdb_v2_aggregate_function_set_finalize_callback(h, Some(agg_finalize::<A>), e)
        })?;
        call("set destroy", |e| sys::duckdb_v2_aggregate_function_set_destroy_callback(h, Some(agg_destroy::<A>), e))?;
        let mut docs: sys::duckdb_v2_function_docs_handle = ptr::null_mut();
        call("get the docs", |e| sys::duckdb_v2_aggregate_function_get_docs(h, &mut docs, e))?;
        self.set_docs(docs, spec.name)
    }

    /// Builds table function `T`.
    ///
    /// # Safety
    /// As for [`V2Target::scalar`].
    pub(crate) unsafe fn table<T: TableRows>(&mut self, spec: &TableSpec) -> Result<(), String> {
        self.build_table(spec, |me, h| me.configure_table::<T>(h, spec))
    }

    /// Creates a table function handle, lets `configure` set it up, and keeps it for
    /// registration (or destroys it when `configure` fails).
    unsafe fn build_table(
        &mut self,
        spec: &TableSpec,
        configure: impl FnOnce(&Self, sys::duckdb_v2_table_function_handle) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut h: sys::duckdb_v2_table_function_handle = ptr::null_mut();
        call("create", |e| sys::duckdb_v2_table_function_create(self.factory, &mut h, e))?;
        let mut built = Built::Table(h);
        match configure(self, h) {
            Ok(()) => {
                self.built.push((spec.name, built));
                Ok(())
            }
            Err(e) => {
                built.destroy();
                Err(e)
            }
        }
    }

    unsafe fn configure_table<T: TableRows>(
        &self,
        h: sys::duckdb_v2_table_function_handle,
        spec: &TableSpec,
    ) -> Result<(), String> {
        let name = v2_str(spec.name);
        call("set the name", |e| sys::duckdb_v2_table_function_set_name(h, &name, e))?;
        let mut sig: sys::duckdb_v2_function_signature_handle = ptr::null_mut();
        call("get the signature", |e| sys::duckdb_v2_table_function_get_signature(h, &mut sig, e))?;
        self.add_parameters(sig, spec.name, &spec.params, spec.params.len())?;
        let mut data = opaque(Box::new(TableInfo::<T>::new(spec)), drop_box::<TableInfo<T>>);
        call("set the user data", |e| sys::duckdb_v2_table_function_set_user_data(h, &mut data, e))
            .inspect_err(|_| drop_box::<TableInfo<T>>(data.ptr))?;
        call("set bind", |e| sys::duckdb_v2_table_function_set_bind_callback(h, Some(table_bind::<T>), e))?;
        call("set init", |e| sys::duckdb_v2_table_function_set_init_global_callback(h, Some(table_init), e))?;
        call("set exec", |e| sys::duckdb_v2_table_function_set_exec_callback(h, Some(table_exec::<T>), e))?;
        let mut docs: sys::duckdb_v2_function_docs_handle = ptr::null_mut();
        call("get the docs", |e| sys::duckdb_v2_table_function_get_docs(h, &mut docs, e))?;
        self.set_docs(docs, spec.name)
    }

    /// Adds `params` named after the registry's parameter list; from index `required` on,
    /// each gets a NULL default of its type.
    unsafe fn add_parameters(
        &self,
        sig: sys::duckdb_v2_function_signature_handle,
        function: &str,
        params: &[Ty],
        required: usize,
    ) -> Result<(), String> {
        let names = self.doc(function).map(|d| parameter_names(d.parameters)).unwrap_or_default();
        for (i, ty) in params.iter().enumerate() {
            let name = names.get(i).cloned().unwrap_or_else(|| format!("arg{}", i + 1));
            let t = OwnedType::new(self.factory, ty)?;
            let mut default: sys::duckdb_v2_value_handle = ptr::null_mut();
            if i >= required {
                call(&format!("create the NULL default of {name}"), |e| {
                    sys::duckdb_v2_value_create_null(self.factory, t.0, &mut default, e)
                })?;
            }
            let id = v2_str(&name);
            let added = call(&format!("add parameter {name} {}", ty.sql()), |e| {
                sys::duckdb_v2_function_signature_add_parameter(
                    sig,
                    &id,
                    t.0,
                    default,
                    sys::DUCKDB_V2_FUNCTION_PARAMETER_KIND::DUCKDB_V2_FUNCTION_PARAMETER_KIND_STANDARD,
                    e,
                )
            });
            if !default.is_null() {
                sys::duckdb_v2_value_destroy(&mut default);
            }
            added?;
        }
        Ok(())
    }

    /// Description, example and category from the registry (nothing when it has no entry).
    unsafe fn set_docs(&self, docs: sys::duckdb_v2_function_docs_handle, function: &str) -> Result<(), String> {
        let Some(doc) = self.doc(function) else { return Ok(()) };
        let description = v2_str(doc.description);
        call("set the description", |e| sys::duckdb_v2_function_docs_set_description(docs, &description, e))?;
        let example = v2_str(doc.example);
        call("add the example", |e| sys::duckdb_v2_function_docs_add_example(docs, ptr::null(), &example, e))?;
        let category = v2_str(CATEGORY);
        call("add the category", |e| sys::duckdb_v2_function_docs_add_category(docs, &category, e))
    }

    /// Registers every built function; returns `name: reason` for each that DuckDB refused.
    ///
    /// # Safety
    /// The extension handle must be live (during the companion's LOAD).
    pub(crate) unsafe fn register_built(&mut self) -> Vec<String> {
        let mut failures = Vec::new();
        for (name, b) in &mut self.built {
            let ext = self.extension;
            let r = match b {
                Built::Scalar(h) => {
                    let h = *h;
                    call("register", |e| sys::duckdb_v2_extension_register_scalar_function(ext, h, e))
                }
                Built::Aggregate(h) => {
                    let h = *h;
                    call("register", |e| sys::duckdb_v2_extension_register_aggregate_function(ext, h, e))
                }
                Built::Table(h) => {
                    let h = *h;
                    call("register", |e| sys::duckdb_v2_extension_register_table_function(ext, h, e))
                }
            };
            if let Err(e) = r {
                failures.push(format!("{name}: {e}"));
            }
        }
        failures
    }
}

/// An owned v2 logical type.
struct OwnedType(sys::duckdb_v2_logical_type_handle);

impl Drop for OwnedType {
    fn drop(&mut self) {
        // Safety: created by the factory for us, destroyed once.
        unsafe { sys::duckdb_v2_logical_type_destroy(&mut self.0) };
    }
}

impl OwnedType {
    /// `ty` as a v2 type: ANY by id, JSON as VARCHAR with the JSON alias (as v1 builds it),
    /// everything else parsed from its SQL spelling.
    unsafe fn new(factory: sys::duckdb_v2_factory_handle, ty: &Ty) -> Result<OwnedType, String> {
        let by_id = |id| -> Result<OwnedType, String> {
            let mut t: sys::duckdb_v2_logical_type_handle = ptr::null_mut();
            call(&format!("create type {}", ty.sql()), |e| {
                sys::duckdb_v2_factory_create_type_from_id(factory, id, ptr::null(), ptr::null(), 0, &mut t, e)
            })?;
            Ok(OwnedType(t))
        };
        match ty {
            Ty::Any => by_id(sys::DUCKDB_V2_LOGICAL_TYPE_ID::DUCKDB_V2_LOGICAL_TYPE_ID_ANY),
            Ty::Json => {
                let base = by_id(sys::DUCKDB_V2_LOGICAL_TYPE_ID::DUCKDB_V2_LOGICAL_TYPE_ID_VARCHAR)?;
                let alias = v2_str("JSON");
                let mut t: sys::duckdb_v2_logical_type_handle = ptr::null_mut();
                call("create type JSON", |e| {
                    sys::duckdb_v2_factory_create_type_with_alias(factory, base.0, &alias, &mut t, e)
                })?;
                Ok(OwnedType(t))
            }
            _ => {
                let text = type_text(ty);
                let s = v2_str(&text);
                let mut t: sys::duckdb_v2_logical_type_handle = ptr::null_mut();
                call(&format!("create type {text}"), |e| {
                    sys::duckdb_v2_factory_create_type_from_text(factory, &s, &mut t, e)
                })?;
                Ok(OwnedType(t))
            }
        }
    }
}

fn opaque<T>(data: Box<T>, destroy: unsafe extern "C" fn(*mut c_void)) -> sys::duckdb_v2_opaque {
    sys::duckdb_v2_opaque { ptr: Box::into_raw(data) as *mut c_void, destroy: Some(destroy), equals: None }
}

unsafe extern "C" fn drop_box<T>(p: *mut c_void) {
    if !p.is_null() {
        // Safety: `p` came from `opaque::<T>` and DuckDB destroys it once; a panic in Drop is contained.
        let _ = std::panic::catch_unwind(|| drop(unsafe { Box::from_raw(p as *mut T) }));
    }
}

/// Hands `message` to a callback's error slot (DuckDB raises it as an Invalid Input Error).
unsafe fn report(err: *mut sys::duckdb_v2_error_info_handle, message: &str) {
    if err.is_null() || (*err).is_null() {
        return;
    }
    let text = v2_str(message);
    sys::duckdb_v2_error_info_set_code(*err, Code::DUCKDB_V2_ERROR_INPUT_INVALID);
    sys::duckdb_v2_error_info_set_text(*err, &text);
}

/// Runs one v2 getter inside a callback; a failure is an internal error.
unsafe fn get(what: &str, f: impl FnOnce(*mut sys::duckdb_v2_error_info_handle) -> Code) -> FnResult<()> {
    call(what, f).map_err(|e| format!("internal: {e}"))
}

/// The callback's user data, or `None` (reported) when DuckDB gave none.
unsafe fn user_data<'a, T>(
    err: *mut sys::duckdb_v2_error_info_handle,
    f: impl FnOnce(*mut *mut c_void) -> Code,
) -> Option<&'a T> {
    let mut p: *mut c_void = ptr::null_mut();
    if f(&mut p) != Code::DUCKDB_V2_ERROR_NONE || p.is_null() {
        report(err, "dataraum: internal error: a C API v2 callback received no function data");
        return None;
    }
    Some(&*(p as *const T))
}

/// Flattens argument vectors and views them as v1 vectors (the same `duckdb::Vector *`).
unsafe fn flat_vectors(
    count: usize,
    mut arg: impl FnMut(usize, &mut sys::duckdb_v2_vector_handle) -> FnResult<()>,
) -> FnResult<Vec<v1::duckdb_vector>> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let mut v: sys::duckdb_v2_vector_handle = ptr::null_mut();
        arg(i, &mut v)?;
        get("flatten an argument", |e| sys::duckdb_v2_vector_flatten(v, e))?;
        out.push(v as v1::duckdb_vector);
    }
    Ok(out)
}

fn total(counts: [sys::idx_t; 4]) -> usize {
    counts.iter().map(|&c| c as usize).sum()
}

/// A state array handed out by DuckDB as slots.
unsafe fn slots<'a>(states: *mut *mut c_void, count: usize) -> &'a [*mut c_void] {
    if states.is_null() || count == 0 {
        return &[];
    }
    std::slice::from_raw_parts(states, count)
}

// ---------------------------------------------------------------- scalar callback

unsafe extern "C" fn scalar_exec<S: Scalar>(
    info: sys::duckdb_v2_scalar_function_exec_info_handle,
    _ctx: sys::duckdb_v2_context_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    let Some(meta) = user_data::<ScalarInfo<S>>(err, |p| {
        sys::duckdb_v2_scalar_function_exec_get_user_data(info, p, ptr::null_mut())
    }) else {
        return;
    };
    let start = crate::metrics::Span::start();
    let result = guard(meta.name, Some(meta.metrics), || {
        let mut rows: sys::idx_t = 0;
        get("row count", |e| sys::duckdb_v2_scalar_function_exec_get_row_count(info, &mut rows, e))?;
        let mut c = [0 as sys::idx_t; 4];
        let [a, b, d, f] = &mut c;
        get("argument count", |e| sys::duckdb_v2_scalar_function_exec_get_arg_count(info, a, b, d, f, e))?;
        let vectors = flat_vectors(total(c), |i, v| {
            get("argument", |e| sys::duckdb_v2_scalar_function_exec_get_arg(info, i as sys::idx_t, v, e))
        })?;
        let mut out: sys::duckdb_v2_vector_handle = ptr::null_mut();
        get("result vector", |e| sys::duckdb_v2_scalar_function_exec_get_result(info, &mut out, e))?;
        let args = Args::from_vectors(&vectors, rows as usize);
        scalar::invoke_rows(meta, &args, out as v1::duckdb_vector)
    });
    match result {
        Ok(n) => meta.metrics.record_update(n as u64, start),
        Err(e) => report(err, &e),
    }
}

// ---------------------------------------------------------------- aggregate callbacks

unsafe extern "C" fn agg_size<A: Aggregate>(
    info: sys::duckdb_v2_aggregate_function_size_info_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    let size = aggregate::state_size_bytes::<A>() as sys::idx_t;
    if call("state size", |e| sys::duckdb_v2_aggregate_function_size_set_state_size(info, size, e)).is_err() {
        report(err, "dataraum: internal error: could not set the aggregate state size");
    }
}

unsafe extern "C" fn agg_init<A: Aggregate>(
    info: sys::duckdb_v2_aggregate_function_init_info_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    let Some(meta) = user_data::<AggInfo<A>>(err, |p| {
        sys::duckdb_v2_aggregate_function_init_get_user_data(info, p, ptr::null_mut())
    }) else {
        return;
    };
    let result = guard(meta.name, Some(meta.metrics), || {
        let (mut count, mut states): (sys::idx_t, *mut *mut c_void) = (0, ptr::null_mut());
        get("state count", |e| sys::duckdb_v2_aggregate_function_init_get_state_count(info, &mut count, e))?;
        get("states", |e| sys::duckdb_v2_aggregate_function_init_get_states(info, &mut states, e))?;
        for &s in slots(states, count as usize) {
            aggregate::init_state(meta, s)?;
        }
        Ok(())
    });
    if let Err(e) = result {
        report(err, &e);
    }
}

unsafe extern "C" fn agg_update<A: Aggregate>(
    info: sys::duckdb_v2_aggregate_function_update_info_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    let Some(meta) = user_data::<AggInfo<A>>(err, |p| {
        sys::duckdb_v2_aggregate_function_update_get_user_data(info, p, ptr::null_mut())
    }) else {
        return;
    };
    let start = crate::metrics::Span::start();
    let result = guard(meta.name, Some(meta.metrics), || {
        let mut rows: sys::idx_t = 0;
        get("row count", |e| sys::duckdb_v2_aggregate_function_update_get_row_count(info, &mut rows, e))?;
        let mut c = [0 as sys::idx_t; 4];
        let [a, b, d, f] = &mut c;
        get("argument count", |e| sys::duckdb_v2_aggregate_function_update_get_arg_count(info, a, b, d, f, e))?;
        let vectors = flat_vectors(total(c), |i, v| {
            get("argument", |e| sys::duckdb_v2_aggregate_function_update_get_arg(info, i as sys::idx_t, v, e))
        })?;
        let mut states: *mut *mut c_void = ptr::null_mut();
        get("states", |e| sys::duckdb_v2_aggregate_function_update_get_states(info, &mut states, e))?;
        let args = Args::from_vectors(&vectors, rows as usize);
        aggregate::update_states::<A>(&args, slots(states, rows as usize))
    });
    match result {
        Ok(n) => meta.metrics.record_update(n as u64, start),
        Err(e) => report(err, &e),
    }
}

unsafe extern "C" fn agg_combine<A: Aggregate>(
    info: sys::duckdb_v2_aggregate_function_combine_info_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    let Some(meta) = user_data::<AggInfo<A>>(err, |p| {
        sys::duckdb_v2_aggregate_function_combine_get_user_data(info, p, ptr::null_mut())
    }) else {
        return;
    };
    let start = crate::metrics::Span::start();
    let mut count: sys::idx_t = 0;
    let result = guard(meta.name, Some(meta.metrics), || {
        let (mut sources, mut targets): (*mut *mut c_void, *mut *mut c_void) = (ptr::null_mut(), ptr::null_mut());
        get("state count", |e| sys::duckdb_v2_aggregate_function_combine_get_state_count(info, &mut count, e))?;
        get("sources", |e| sys::duckdb_v2_aggregate_function_combine_get_sources(info, &mut sources, e))?;
        get("targets", |e| sys::duckdb_v2_aggregate_function_combine_get_targets(info, &mut targets, e))?;
        aggregate::combine_states::<A>(slots(sources, count as usize), slots(targets, count as usize))
    });
    match result {
        Ok(()) => meta.metrics.record_combine(count, start),
        Err(e) => report(err, &e),
    }
}

unsafe extern "C" fn agg_finalize<A: Aggregate>(
    info: sys::duckdb_v2_aggregate_function_finalize_info_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    let Some(meta) = user_data::<AggInfo<A>>(err, |p| {
        sys::duckdb_v2_aggregate_function_finalize_get_user_data(info, p, ptr::null_mut())
    }) else {
        return;
    };
    let start = crate::metrics::Span::start();
    let mut count: sys::idx_t = 0;
    let result = guard(meta.name, Some(meta.metrics), || {
        let mut states: *mut *mut c_void = ptr::null_mut();
        let mut out: sys::duckdb_v2_vector_handle = ptr::null_mut();
        let mut offset: sys::idx_t = 0;
        get("state count", |e| sys::duckdb_v2_aggregate_function_finalize_get_state_count(info, &mut count, e))?;
        get("states", |e| sys::duckdb_v2_aggregate_function_finalize_get_states(info, &mut states, e))?;
        get("result vector", |e| sys::duckdb_v2_aggregate_function_finalize_get_result(info, &mut out, e))?;
        get("result offset", |e| sys::duckdb_v2_aggregate_function_finalize_get_result_offset(info, &mut offset, e))?;
        aggregate::finalize_states(meta, slots(states, count as usize), out as v1::duckdb_vector, offset as usize)
    });
    match result {
        Ok(()) => meta.metrics.record_finalize(count, start),
        Err(e) => report(err, &e),
    }
}

unsafe extern "C" fn agg_destroy<A: Aggregate>(
    info: sys::duckdb_v2_aggregate_function_destroy_info_handle,
    _err: *mut sys::duckdb_v2_error_info_handle,
) {
    // No error channel (DuckDB drops what the slot reports): contain and drop.
    let (mut count, mut states): (sys::idx_t, *mut *mut c_void) = (0, ptr::null_mut());
    if sys::duckdb_v2_aggregate_function_destroy_get_state_count(info, &mut count, ptr::null_mut())
        == Code::DUCKDB_V2_ERROR_NONE
        && sys::duckdb_v2_aggregate_function_destroy_get_states(info, &mut states, ptr::null_mut())
            == Code::DUCKDB_V2_ERROR_NONE
    {
        aggregate::destroy_states::<A>(slots(states, count as usize));
    }
}

// ---------------------------------------------------------------- table callbacks

/// Reads setting `name` from a v2 config as text.
unsafe fn read_setting(config: sys::duckdb_v2_config_handle, name: &str) -> Option<String> {
    let id = v2_str(name);
    let mut value: sys::duckdb_v2_value_handle = ptr::null_mut();
    let mut scope = sys::DUCKDB_V2_SETTING_SCOPE::DUCKDB_V2_SETTING_SCOPE_DEFAULT;
    if call("read setting", |e| sys::duckdb_v2_config_get_option_value(config, &id, &mut value, &mut scope, e)).is_err()
        || value.is_null()
    {
        return None;
    }
    let out = value_text(value);
    sys::duckdb_v2_value_destroy(&mut value);
    out
}

/// A v2 value as text (a v2 value handle is the same `duckdb::Value *` as a v1 `duckdb_value`).
unsafe fn value_text(value: sys::duckdb_v2_value_handle) -> Option<String> {
    let v = value as v1::duckdb_value;
    if v1::duckdb_is_null_value(v) {
        None
    } else {
        Some(take_c_string(v1::duckdb_get_varchar(v)))
    }
}

unsafe extern "C" fn table_bind<T: TableRows>(
    info: sys::duckdb_v2_function_bind_info_handle,
    result: sys::duckdb_v2_table_function_bind_info_handle,
    ctx: sys::duckdb_v2_context_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    let Some(meta) =
        user_data::<TableInfo<T>>(err, |p| sys::duckdb_v2_function_bind_get_user_data(info, p, ptr::null_mut()))
    else {
        return;
    };
    let outcome = guard(meta.name, Some(meta.metrics), || {
        let mut c = [0 as sys::idx_t; 4];
        let [a, b, d, f] = &mut c;
        get("argument count", |e| sys::duckdb_v2_function_bind_get_arg_count(info, a, b, d, f, e))?;
        let mut params = Vec::with_capacity(total(c));
        for i in 0..total(c) {
            let mut v: sys::duckdb_v2_value_handle = ptr::null_mut();
            get("argument", |e| sys::duckdb_v2_function_bind_get_arg_value(info, i as sys::idx_t, &mut v, e))?;
            params.push(if v.is_null() { None } else { value_text(v) });
            if !v.is_null() {
                sys::duckdb_v2_value_destroy(&mut v);
            }
        }
        let mut config: sys::duckdb_v2_config_handle = ptr::null_mut();
        let context = if call("config", |e| sys::duckdb_v2_context_get_config(ctx, &mut config, e)).is_ok()
            && !config.is_null()
        {
            // Safety: the borrowed config lives as long as the callback's context; `context` is
            // dropped before this callback returns.
            Context::from_reader(Box::new(move |name| unsafe { read_setting(config, name) }))
        } else {
            Context::none()
        };
        let cols = T::columns();
        for (name, ty) in &cols {
            let t = OwnedType::new_in_callback(ctx, ty)?;
            let n = v2_str(name);
            get("result column", |e| sys::duckdb_v2_table_function_bind_add_result_column(result, &n, t.0, e))?;
        }
        let rows = T::rows(&params, &context)?;
        drop(context);
        Ok(BindData::new(cols.into_iter().map(|(_, t)| t).collect(), rows))
    });
    let data = match outcome {
        Ok(d) => d,
        Err(e) => return report(err, &e),
    };
    let n = data.rows.len() as sys::idx_t;
    let _ = call("cardinality", |e| sys::duckdb_v2_table_function_bind_set_cardinality(result, n, true, e));
    let mut bind = opaque(Box::new(data), drop_box::<BindData>);
    if let Err(e) = call("bind data", |e| sys::duckdb_v2_function_bind_set_bind_data(info, &mut bind, e)) {
        drop_box::<BindData>(bind.ptr);
        report(err, &format!("{}: internal: {e}", meta.name));
    }
}

unsafe extern "C" fn table_init(
    info: sys::duckdb_v2_table_function_init_global_info_handle,
    _ctx: sys::duckdb_v2_context_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    // The rows are handed out by one thread, from a cursor per scan.
    let _ = call("max threads", |e| sys::duckdb_v2_table_function_init_global_set_max_threads(info, 1, e));
    let mut state = opaque(Box::new(AtomicUsize::new(0)), drop_box::<AtomicUsize>);
    if let Err(e) =
        call("global state", |e| sys::duckdb_v2_table_function_init_global_set_global_state(info, &mut state, e))
    {
        drop_box::<AtomicUsize>(state.ptr);
        report(err, &format!("dataraum: internal: {e}"));
    }
}

unsafe extern "C" fn table_exec<T: TableRows>(
    info: sys::duckdb_v2_table_function_exec_info_handle,
    _ctx: sys::duckdb_v2_context_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    let Some(meta) =
        user_data::<TableInfo<T>>(err, |p| sys::duckdb_v2_table_function_exec_get_user_data(info, p, ptr::null_mut()))
    else {
        return;
    };
    let result = guard(meta.name, Some(meta.metrics), || {
        let (mut data, mut cursor): (*mut c_void, *mut c_void) = (ptr::null_mut(), ptr::null_mut());
        get("bind data", |e| sys::duckdb_v2_table_function_exec_get_bind_data(info, &mut data, e))?;
        get("global state", |e| sys::duckdb_v2_table_function_exec_get_global_state(info, &mut cursor, e))?;
        let mut chunk: sys::duckdb_v2_data_chunk_handle = ptr::null_mut();
        get("output chunk", |e| sys::duckdb_v2_table_function_exec_get_output_chunk(info, &mut chunk, e))?;
        if data.is_null() || cursor.is_null() || chunk.is_null() {
            return Err("internal: the scan has no bind data, state or output".into());
        }
        table::emit_rows(&*(data as *const BindData), &*(cursor as *const AtomicUsize), chunk as v1::duckdb_data_chunk)
    });
    if let Err(e) = result {
        report(err, &e);
    }
}

impl OwnedType {
    /// `ty` as a v2 type, built through the factory of a callback's context.
    unsafe fn new_in_callback(ctx: sys::duckdb_v2_context_handle, ty: &Ty) -> FnResult<OwnedType> {
        let mut factory: sys::duckdb_v2_factory_handle = ptr::null_mut();
        get("factory", |e| sys::duckdb_v2_context_get_factory(ctx, &mut factory, e))?;
        OwnedType::new(factory, ty).map_err(|e| format!("internal: {e}"))
    }
}

// ---------------------------------------------------------------- dr_ticks: interruptible jobs

/// Name and metrics of `dr_ticks` (its user data).
struct TicksInfo {
    name: &'static str,
    metrics: &'static crate::metrics::FunctionMetrics,
}

impl V2Target {
    /// Builds `dr_ticks()` (see `job.rs`): a scan of one-row chunks whose progress is the
    /// progress of the job an await call linked to it.
    ///
    /// # Safety
    /// As for [`V2Target::scalar`].
    pub(crate) unsafe fn ticks_table(&mut self, spec: &TableSpec) -> Result<(), String> {
        self.build_table(spec, |me, h| me.configure_ticks(h, spec))
    }

    unsafe fn configure_ticks(&self, h: sys::duckdb_v2_table_function_handle, spec: &TableSpec) -> Result<(), String> {
        let name = v2_str(spec.name);
        call("set the name", |e| sys::duckdb_v2_table_function_set_name(h, &name, e))?;
        let info = TicksInfo { name: spec.name, metrics: crate::metrics::for_function(spec.name) };
        let mut data = opaque(Box::new(info), drop_box::<TicksInfo>);
        call("set the user data", |e| sys::duckdb_v2_table_function_set_user_data(h, &mut data, e))
            .inspect_err(|_| drop_box::<TicksInfo>(data.ptr))?;
        call("set bind", |e| sys::duckdb_v2_table_function_set_bind_callback(h, Some(ticks_bind), e))?;
        call("set init", |e| sys::duckdb_v2_table_function_set_init_global_callback(h, Some(ticks_init), e))?;
        call("set exec", |e| sys::duckdb_v2_table_function_set_exec_callback(h, Some(ticks_exec), e))?;
        call("set progress", |e| sys::duckdb_v2_table_function_set_progress_callback(h, Some(ticks_progress), e))?;
        let mut docs: sys::duckdb_v2_function_docs_handle = ptr::null_mut();
        call("get the docs", |e| sys::duckdb_v2_table_function_get_docs(h, &mut docs, e))?;
        self.set_docs(docs, spec.name)
    }
}

unsafe extern "C" fn ticks_bind(
    info: sys::duckdb_v2_function_bind_info_handle,
    result: sys::duckdb_v2_table_function_bind_info_handle,
    ctx: sys::duckdb_v2_context_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    let Some(meta) =
        user_data::<TicksInfo>(err, |p| sys::duckdb_v2_function_bind_get_user_data(info, p, ptr::null_mut()))
    else {
        return;
    };
    let outcome = guard(meta.name, Some(meta.metrics), || {
        let t = OwnedType::new_in_callback(ctx, &Ty::BigInt)?;
        let n = v2_str(job::TICK_COLUMN);
        get("result column", |e| sys::duckdb_v2_table_function_bind_add_result_column(result, &n, t.0, e))?;
        // Many rows, so that a join puts the one-row job on its build side.
        get("cardinality", |e| {
            sys::duckdb_v2_table_function_bind_set_cardinality(result, job::TICKS_ESTIMATE, false, e)
        })
    });
    if let Err(e) = outcome {
        report(err, &e);
    }
}

unsafe extern "C" fn ticks_init(
    info: sys::duckdb_v2_table_function_init_global_info_handle,
    _ctx: sys::duckdb_v2_context_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    // Two scan tasks: a worker thread runs its task to the end, so a single task taken by a
    // worker would leave the client's thread waiting without refreshing the query's progress.
    let _ =
        call("max threads", |e| sys::duckdb_v2_table_function_init_global_set_max_threads(info, job::TICK_THREADS, e));
    let scan = match std::panic::catch_unwind(job::ScanHandle::new) {
        Ok(s) => s,
        Err(_) => return report(err, "dr_ticks: internal error (Rust panic)"),
    };
    let mut state = opaque(Box::new(scan), drop_box::<job::ScanHandle>);
    if let Err(e) =
        call("global state", |e| sys::duckdb_v2_table_function_init_global_set_global_state(info, &mut state, e))
    {
        drop_box::<job::ScanHandle>(state.ptr);
        report(err, &format!("dr_ticks: internal: {e}"));
    }
}

unsafe extern "C" fn ticks_exec(
    info: sys::duckdb_v2_table_function_exec_info_handle,
    _ctx: sys::duckdb_v2_context_handle,
    err: *mut sys::duckdb_v2_error_info_handle,
) {
    let Some(meta) =
        user_data::<TicksInfo>(err, |p| sys::duckdb_v2_table_function_exec_get_user_data(info, p, ptr::null_mut()))
    else {
        return;
    };
    let start = crate::metrics::Span::start();
    let result = guard(meta.name, Some(meta.metrics), || {
        let mut state: *mut c_void = ptr::null_mut();
        get("global state", |e| sys::duckdb_v2_table_function_exec_get_global_state(info, &mut state, e))?;
        let mut chunk: sys::duckdb_v2_data_chunk_handle = ptr::null_mut();
        get("output chunk", |e| sys::duckdb_v2_table_function_exec_get_output_chunk(info, &mut chunk, e))?;
        if state.is_null() || chunk.is_null() {
            return Err("internal: the scan has no state or output".into());
        }
        table::emit_tick(&*(state as *const job::ScanHandle), chunk as v1::duckdb_data_chunk)
    });
    meta.metrics.record_update(1, start);
    if let Err(e) = result {
        report(err, &e);
    }
}

unsafe extern "C" fn ticks_progress(
    info: sys::duckdb_v2_table_function_progress_info_handle,
    _ctx: sys::duckdb_v2_context_handle,
    _err: *mut sys::duckdb_v2_error_info_handle,
) {
    let _ = std::panic::catch_unwind(|| {
        let mut state: *mut c_void = ptr::null_mut();
        if sys::duckdb_v2_table_function_progress_get_global_state(info, &mut state, ptr::null_mut())
            == Code::DUCKDB_V2_ERROR_NONE
            && !state.is_null()
        {
            let p = (*(state as *const job::ScanHandle)).progress();
            sys::duckdb_v2_table_function_progress_set_progress(info, p, ptr::null_mut());
        }
    });
}
