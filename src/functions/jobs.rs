//! `dr_ticks()`: the scan that carries an interruptible computation (see [`crate::ffi::job`]),
//! and the body the `dr_*_await` scalars share.

use crate::ffi::entry::Registrar;
use crate::ffi::{Args, Data, FnResult, TableSpec, Value};
use crate::registry::{FunctionDoc, Kind};

/// Documentation.
pub const TICKS_DOC: FunctionDoc = FunctionDoc {
    name: "dr_ticks",
    kind: Kind::Table,
    parameters: "",
    returns: "TABLE(scan BIGINT)",
    description: "One row per call, each with the scan's id, for a dr_*_await poll to run on: it ends once every job a poll linked to it was delivered (or after 1000 rows when none was), cancels the undelivered ones when the query ends early (interrupt, error, LIMIT) and, on DuckDB 2.0.x, reports the job's progress as the query's (enable_progress_bar). persistence_diagram and annotate_columns run their computation this way.",
    example: "SELECT count(*) FROM dr_ticks();",
};

/// Registers `dr_ticks`.
pub fn register(r: &mut Registrar) {
    r.ticks_table(TableSpec { name: TICKS_DOC.name, params: vec![] });
}

/// One poll of the job whose ticket is argument 0, from the `dr_ticks()` scan of argument 1:
/// its result once, NULL while it runs.
pub fn await_value(function: &str, args: &Args, row: usize) -> FnResult<Value> {
    let int_at = |c: usize| -> Option<i64> {
        let col = args.column(c);
        match &col.data {
            Data::I64(v) if col.is_valid(row) => Some(v[row]),
            _ => None,
        }
    };
    let Some(ticket) = int_at(0) else {
        return Err(format!("{function}: the ticket is NULL; pass what the matching dr_*_job aggregate returned"));
    };
    let scan = if args.len() > 1 { int_at(1) } else { None };
    Ok(crate::ffi::job::poll(function, ticket, scan)?.unwrap_or(Value::Null))
}
