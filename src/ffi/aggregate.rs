//! The safe aggregate abstraction: implement [`Aggregate`], call [`register_aggregate`].
//!
//! How DuckDB runs an aggregate (multi-phase, one state per thread and group):
//!
//! ```text
//!   thread 1: init -> update(chunk) -> update(chunk) ...  \
//!   thread 2: init -> update(chunk) ...                    +-> combine(src, dst) ... -> finalize -> destroy
//!   thread N: init -> update(chunk) ...                   /
//! ```
//!
//! Contract for implementors:
//! * `State::default()` is the identity: combining it into anything changes nothing.
//!   A combine *target* may be a freshly initialised state.
//! * `update` sees rows `rows` of the chunk, all belonging to one state (the generic
//!   callback splits a chunk into runs of rows that share a state, so GROUP BY works).
//! * `combine` never mutates its source; the result must not depend on how rows were
//!   split between states or on the combine order.
//! * `finalize` may be called once per state; it may be heavy (it runs on a DuckDB
//!   thread; use a rayon pool sized from DuckDB's `threads` setting, never more).
//!
//! The Rust state is boxed and its pointer kept in DuckDB's state memory (8 bytes):
//! DuckDB aligns states to 8 bytes, Rust states may need 16 (u128 fields).
//! NULLs reach `update` (special null handling is set), so the profile can count them.

use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::ops::Range;

use libduckdb_sys as sys;

use super::guard::{guard, FnResult};
use super::types::Ty;
use super::value::{write_value, Value};
use super::vector::Args;
use crate::metrics::{self, FunctionMetrics};

/// An aggregate function over a Rust state.
pub trait Aggregate: 'static {
    /// The per-group, per-thread state. `Default` must be the identity element.
    type State: Default + Send + 'static;
    /// Adds rows `rows` of `args` (all for this state).
    fn update(state: &mut Self::State, args: &Args, rows: Range<usize>) -> FnResult<()>;
    /// Merges `source` into `target` without modifying `source`.
    fn combine(source: &Self::State, target: &mut Self::State) -> FnResult<()>;
    /// Produces the result value of type `return_type`.
    fn finalize(state: &mut Self::State) -> FnResult<Value>;
    /// Approximate heap bytes of a state, for `dr_metrics()`.
    fn state_bytes(_state: &Self::State) -> usize {
        0
    }
}

/// Name, overloads and result type of an aggregate.
pub struct AggregateSpec {
    /// SQL name.
    pub name: &'static str,
    /// One parameter list per overload (`Ty::Any` accepts every type).
    pub overloads: Vec<Vec<Ty>>,
    /// Result type (the same for every overload).
    pub return_type: Ty,
}

/// What every callback of aggregate `A` needs: kept as the function's extra info (v1) or
/// user data (v2).
pub(crate) struct AggInfo<A: Aggregate> {
    pub(crate) name: &'static str,
    pub(crate) return_type: Ty,
    pub(crate) metrics: &'static FunctionMetrics,
    _a: PhantomData<fn() -> A>,
}

impl<A: Aggregate> AggInfo<A> {
    pub(crate) fn new(spec: &AggregateSpec) -> Self {
        AggInfo {
            name: spec.name,
            return_type: spec.return_type.clone(),
            metrics: metrics::for_function(spec.name),
            _a: PhantomData,
        }
    }
}

type StatePtr<S> = *mut S;

/// Size of the state DuckDB allocates per group: one pointer to the boxed Rust state.
pub(crate) fn state_size_bytes<A: Aggregate>() -> usize {
    std::mem::size_of::<StatePtr<A::State>>()
}

/// The Rust state behind a DuckDB state slot.
///
/// # Safety
/// `slot` must be a state slot initialised by [`init_state`]`::<A>`.
unsafe fn state_of<A: Aggregate>(slot: *mut c_void) -> FnResult<*mut A::State> {
    let state = *(slot as *mut StatePtr<A::State>);
    if state.is_null() {
        return Err("internal: aggregate state was not initialised".to_string());
    }
    Ok(state)
}

/// Writes a fresh boxed state into `slot` (a null pointer first, so destroy is safe even
/// if `Default` panics).
///
/// # Safety
/// `slot` must point at [`state_size_bytes`] writable bytes of DuckDB state memory.
pub(crate) unsafe fn init_state<A: Aggregate>(meta: &AggInfo<A>, slot: *mut c_void) -> FnResult<()> {
    let slot = slot as *mut StatePtr<A::State>;
    std::ptr::write(slot, std::ptr::null_mut());
    let p = guard(meta.name, Some(meta.metrics), || Ok(Box::into_raw(Box::<A::State>::default())))?;
    std::ptr::write(slot, p);
    Ok(())
}

/// Feeds every row of `args` to its state (`states[row]`), in runs of rows sharing a state.
///
/// # Safety
/// `states` holds one initialised state slot per row of `args`.
pub(crate) unsafe fn update_states<A: Aggregate>(args: &Args, states: &[*mut c_void]) -> FnResult<usize> {
    let n = args.rows().min(states.len());
    let mut begin = 0;
    while begin < n {
        let s = states[begin];
        let mut end = begin + 1;
        while end < n && states[end] == s {
            end += 1;
        }
        A::update(&mut *state_of::<A>(s)?, args, begin..end)?;
        begin = end;
    }
    Ok(n)
}

/// Merges `sources[i]` into `targets[i]`.
///
/// # Safety
/// Both slices hold initialised state slots and have the same length.
pub(crate) unsafe fn combine_states<A: Aggregate>(sources: &[*mut c_void], targets: &[*mut c_void]) -> FnResult<()> {
    for (&s, &t) in sources.iter().zip(targets) {
        let (src, dst) = (state_of::<A>(s)?, state_of::<A>(t)?);
        if src != dst {
            A::combine(&*src, &mut *dst)?;
        }
    }
    Ok(())
}

/// Finalizes `states[i]` into row `offset + i` of `result`.
///
/// # Safety
/// `states` holds initialised state slots; `result` is a vector of the aggregate's return
/// type with room for `offset + states.len()` rows.
pub(crate) unsafe fn finalize_states<A: Aggregate>(
    meta: &AggInfo<A>,
    states: &[*mut c_void],
    result: sys::duckdb_vector,
    offset: usize,
) -> FnResult<()> {
    for (i, &s) in states.iter().enumerate() {
        let state = state_of::<A>(s)?;
        meta.metrics.record_state_bytes(A::state_bytes(&*state));
        let value = A::finalize(&mut *state)?;
        write_value(result, &meta.return_type, offset + i, &value)?;
    }
    Ok(())
}

/// Drops the Rust states behind `states` (each slot is nulled, so a second call is harmless).
/// No error channel here: a panic from a Drop impl is contained.
///
/// # Safety
/// `states` holds state slots written by [`init_state`].
pub(crate) unsafe fn destroy_states<A: Aggregate>(states: &[*mut c_void]) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for &s in states {
            let slot = s as *mut StatePtr<A::State>;
            let p = *slot;
            if !p.is_null() {
                *slot = std::ptr::null_mut();
                drop(Box::from_raw(p));
            }
        }
    }));
}

/// # Safety
/// `info` must be the function info of an aggregate registered by [`register_aggregate`]`::<A>`.
unsafe fn info_of<'a, A: Aggregate>(info: sys::duckdb_function_info) -> &'a AggInfo<A> {
    &*(sys::duckdb_aggregate_function_get_extra_info(info) as *const AggInfo<A>)
}

unsafe fn set_error(info: sys::duckdb_function_info, message: &str) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    sys::duckdb_aggregate_function_set_error(info, c.as_ptr());
}

/// A v1 state array as slots.
///
/// # Safety
/// `states` points at `count` state pointers.
unsafe fn slots<'a>(states: *mut sys::duckdb_aggregate_state, count: usize) -> &'a [*mut c_void] {
    if states.is_null() || count == 0 {
        return &[];
    }
    std::slice::from_raw_parts(states as *const *mut c_void, count)
}

unsafe extern "C" fn state_size<A: Aggregate>(_info: sys::duckdb_function_info) -> sys::idx_t {
    state_size_bytes::<A>() as sys::idx_t
}

unsafe extern "C" fn state_init<A: Aggregate>(info: sys::duckdb_function_info, state: sys::duckdb_aggregate_state) {
    let meta = info_of::<A>(info);
    if let Err(e) = init_state(meta, state as *mut c_void) {
        set_error(info, &e);
    }
}

unsafe extern "C" fn update<A: Aggregate>(
    info: sys::duckdb_function_info,
    input: sys::duckdb_data_chunk,
    states: *mut sys::duckdb_aggregate_state,
) {
    let meta = info_of::<A>(info);
    let start = crate::metrics::Span::start();
    let result = guard(meta.name, Some(meta.metrics), || {
        // Safety: DuckDB passes a chunk of flat vectors and one state pointer per row.
        let args = Args::read(input)?;
        update_states::<A>(&args, slots(states, args.rows()))
    });
    match result {
        Ok(n) => meta.metrics.record_update(n as u64, start),
        Err(e) => set_error(info, &e),
    }
}

unsafe extern "C" fn combine<A: Aggregate>(
    info: sys::duckdb_function_info,
    source: *mut sys::duckdb_aggregate_state,
    target: *mut sys::duckdb_aggregate_state,
    count: sys::idx_t,
) {
    let meta = info_of::<A>(info);
    let start = crate::metrics::Span::start();
    let result = guard(meta.name, Some(meta.metrics), || {
        combine_states::<A>(slots(source, count as usize), slots(target, count as usize))
    });
    match result {
        Ok(()) => meta.metrics.record_combine(count, start),
        Err(e) => set_error(info, &e),
    }
}

unsafe extern "C" fn finalize<A: Aggregate>(
    info: sys::duckdb_function_info,
    source: *mut sys::duckdb_aggregate_state,
    result: sys::duckdb_vector,
    count: sys::idx_t,
    offset: sys::idx_t,
) {
    let meta = info_of::<A>(info);
    let start = crate::metrics::Span::start();
    let outcome = guard(meta.name, Some(meta.metrics), || {
        finalize_states(meta, slots(source, count as usize), result, offset as usize)
    });
    match outcome {
        Ok(()) => meta.metrics.record_finalize(count, start),
        Err(e) => set_error(info, &e),
    }
}

unsafe extern "C" fn destroy<A: Aggregate>(states: *mut sys::duckdb_aggregate_state, count: sys::idx_t) {
    destroy_states::<A>(slots(states, count as usize));
}

unsafe extern "C" fn drop_info<A: Aggregate>(p: *mut std::ffi::c_void) {
    let _ = std::panic::catch_unwind(|| drop(Box::from_raw(p as *mut AggInfo<A>)));
}

/// Registers aggregate `A` on `conn` under `spec.name` (a function set when it has
/// several overloads).
///
/// # Safety
/// `conn` must be an open connection.
pub(crate) unsafe fn register_aggregate<A: Aggregate>(
    conn: sys::duckdb_connection,
    spec: &AggregateSpec,
) -> Result<(), String> {
    let name = CString::new(spec.name).map_err(|_| "name contains NUL".to_string())?;
    let ret = spec.return_type.logical()?;
    let mut set = sys::duckdb_create_aggregate_function_set(name.as_ptr());
    for params in &spec.overloads {
        let mut f = sys::duckdb_create_aggregate_function();
        sys::duckdb_aggregate_function_set_name(f, name.as_ptr());
        for p in params {
            let t = p.logical()?;
            sys::duckdb_aggregate_function_add_parameter(f, t.raw);
        }
        sys::duckdb_aggregate_function_set_return_type(f, ret.raw);
        sys::duckdb_aggregate_function_set_functions(
            f,
            Some(state_size::<A>),
            Some(state_init::<A>),
            Some(update::<A>),
            Some(combine::<A>),
            Some(finalize::<A>),
        );
        sys::duckdb_aggregate_function_set_destructor(f, Some(destroy::<A>));
        sys::duckdb_aggregate_function_set_special_handling(f);
        let info = Box::new(AggInfo::<A>::new(spec));
        sys::duckdb_aggregate_function_set_extra_info(f, Box::into_raw(info) as *mut _, Some(drop_info::<A>));
        let added = sys::duckdb_add_aggregate_function_to_set(set, f);
        sys::duckdb_destroy_aggregate_function(&mut f);
        if added != sys::DuckDBSuccess {
            sys::duckdb_destroy_aggregate_function_set(&mut set);
            return Err(format!("could not add overload ({}) of {}", sig(params), spec.name));
        }
    }
    let state = sys::duckdb_register_aggregate_function_set(conn, set);
    sys::duckdb_destroy_aggregate_function_set(&mut set);
    if state != sys::DuckDBSuccess {
        return Err(format!("DuckDB refused to register aggregate {}", spec.name));
    }
    Ok(())
}

fn sig(params: &[Ty]) -> String {
    params.iter().map(Ty::sql).collect::<Vec<_>>().join(", ")
}
