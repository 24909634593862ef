//! `dr_selftest_panic*`: diagnostics that raise a Rust panic inside a chosen callback,
//! so users and tests can see that the guard turns it into a SQL error and the
//! connection keeps working.

use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::{
    Aggregate, AggregateSpec, Args, Context, FnResult, Scalar, ScalarSpec, TableRows, TableSpec, Ty, Value,
};
use crate::registry::{FunctionDoc, Kind};

fn boom(place: &str) -> ! {
    panic!("deliberate panic in {place} (dr_selftest)")
}

struct PanicScalar;

impl Scalar for PanicScalar {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        match args.str_at(0, row).as_deref() {
            Some("scalar") => boom("scalar"),
            Some("error") => Err("deliberate error (dr_selftest)".into()),
            other => Ok(Value::from(format!("ok: {}", other.unwrap_or("NULL")))),
        }
    }
}

/// State of the panicking aggregate: where to panic and how many rows it saw.
#[derive(Default)]
pub struct PanicState {
    place: Option<String>,
    rows: u64,
}

struct PanicAggregate;

impl Aggregate for PanicAggregate {
    type State = PanicState;
    fn update(state: &mut PanicState, args: &Args, rows: Range<usize>) -> FnResult<()> {
        for row in rows {
            let place = args.str_at(1, row);
            if place.as_deref() == Some("update") {
                boom("update");
            }
            state.place = place.or(state.place.take());
            state.rows += 1;
        }
        Ok(())
    }
    fn combine(source: &PanicState, target: &mut PanicState) -> FnResult<()> {
        if source.place.as_deref() == Some("combine") || target.place.as_deref() == Some("combine") {
            boom("combine");
        }
        target.rows += source.rows;
        if target.place.is_none() {
            target.place = source.place.clone();
        }
        Ok(())
    }
    fn finalize(state: &mut PanicState) -> FnResult<Value> {
        match state.place.as_deref() {
            Some("finalize") => boom("finalize"),
            Some("combine") => Err("combine was never called for this query; use GROUP BY over many rows".into()),
            _ => Ok(Value::UInt(state.rows)),
        }
    }
}

struct PanicTable;

impl TableRows for PanicTable {
    fn columns() -> Vec<(&'static str, Ty)> {
        vec![("result", Ty::Varchar)]
    }
    fn rows(params: &[Option<String>], _ctx: &Context) -> FnResult<Vec<Vec<Value>>> {
        match params.first().cloned().flatten().as_deref() {
            Some("bind") => boom("table bind"),
            other => Ok(vec![vec![Value::from(format!("ok: {}", other.unwrap_or("NULL")))]]),
        }
    }
}

/// Documentation of the scalar.
pub const SCALAR_DOC: FunctionDoc = FunctionDoc {
    name: "dr_selftest_panic",
    kind: Kind::Scalar,
    parameters: "place VARCHAR",
    returns: "VARCHAR",
    description: "Diagnostic: panics inside the scalar callback when place = 'scalar', returns an error for 'error', else 'ok: <place>'. Shows that a Rust panic becomes a SQL error.",
    example: "SELECT dr_selftest_panic('nothing');",
};

/// Documentation of the aggregate.
pub const AGGREGATE_DOC: FunctionDoc = FunctionDoc {
    name: "dr_selftest_panic_agg",
    kind: Kind::Aggregate,
    parameters: "x ANY, place VARCHAR",
    returns: "UBIGINT",
    description:
        "Diagnostic: an aggregate counting rows that panics in 'update', 'combine' or 'finalize' when told to.",
    example: "SELECT dr_selftest_panic_agg(x, 'none') FROM range(10) t(x);",
};

/// Documentation of the table function.
pub const TABLE_DOC: FunctionDoc = FunctionDoc {
    name: "dr_selftest_panic_table",
    kind: Kind::Table,
    parameters: "place VARCHAR",
    returns: "TABLE(result VARCHAR)",
    description: "Diagnostic: a table function that panics in bind when place = 'bind'.",
    example: "FROM dr_selftest_panic_table('none');",
};

/// Registers the three diagnostics.
pub fn register(r: &mut Registrar) {
    r.scalar::<PanicScalar>(ScalarSpec {
        name: SCALAR_DOC.name,
        overloads: vec![vec![Ty::Varchar]],
        return_type: Ty::Varchar,
        special_nulls: false,
        volatile: true,
    });
    r.aggregate::<PanicAggregate>(AggregateSpec {
        name: AGGREGATE_DOC.name,
        overloads: vec![vec![Ty::Any, Ty::Varchar]],
        return_type: Ty::UBigInt,
    });
    r.table::<PanicTable>(TableSpec { name: TABLE_DOC.name, params: vec![Ty::Varchar] });
}
