//! `dr_ticks()`: the scan that carries an interruptible computation (see [`crate::ffi::job`]).

use crate::ffi::entry::Registrar;
use crate::ffi::TableSpec;
use crate::registry::{FunctionDoc, Kind};

/// Documentation.
pub const TICKS_DOC: FunctionDoc = FunctionDoc {
    name: "dr_ticks",
    kind: Kind::Table,
    parameters: "",
    returns: "TABLE(scan BIGINT)",
    description: "One row per call, each with the scan's id, for a dr_*_await poll to run on: it ends once the job a poll linked to it was delivered (or after 1000 rows when none was), cancels that job when the query ends early (interrupt, error, LIMIT) and, on DuckDB 2.0.x, reports the job's progress as the query's (enable_progress_bar). persistence_diagram and annotate_columns run their computation this way.",
    example: "SELECT count(*) FROM dr_ticks();",
};

/// Registers `dr_ticks`.
pub fn register(r: &mut Registrar) {
    r.ticks_table(TableSpec { name: TICKS_DOC.name, params: vec![] });
}
