//! `dr_basic_stats(x ANY)`: counts, numeric sum and range, and value lengths for a
//! column of any type — the aggregate that proves the FFI readers on every type.
//!
//! Numbers (and booleans as 0/1) are summed as DOUBLE; temporal values count as epoch
//! seconds (TIME as seconds since midnight); length is bytes for VARCHAR/BLOB
//! (`strlen`/`octet_length`), bits for BIT (`bit_length`), elements for
//! LIST/ARRAY/MAP (`len`), label bytes for ENUM. UNION, VARIANT and GEOMETRY are refused.

use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::{Aggregate, AggregateSpec, Args, Column, Data, FnResult, Ty, Value};
use crate::registry::{FunctionDoc, Kind};

/// Mergeable state: every field is a sum, a min or a max.
#[derive(Default, Clone)]
pub struct BasicStats {
    column_type: Option<String>,
    rows: u64,
    nulls: u64,
    numeric: u64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
    lengths: u64,
    total_length: u64,
    min_length: Option<u64>,
    max_length: Option<u64>,
}

impl BasicStats {
    fn number(&mut self, v: f64) {
        self.numeric += 1;
        self.sum += v;
        self.min = Some(self.min.map_or(v, |m| m.min(v)));
        self.max = Some(self.max.map_or(v, |m| m.max(v)));
    }
    fn length(&mut self, n: u64) {
        self.lengths += 1;
        self.total_length += n;
        self.min_length = Some(self.min_length.map_or(n, |m| m.min(n)));
        self.max_length = Some(self.max_length.map_or(n, |m| m.max(n)));
    }
}

fn bit_length(payload: &[u8]) -> u64 {
    // DuckDB's BIT payload: one byte of padding-bit count, then the bits.
    match payload.split_first() {
        Some((pad, rest)) => (rest.len() as u64 * 8).saturating_sub(*pad as u64),
        None => 0,
    }
}

struct BasicStatsFn;

impl Aggregate for BasicStatsFn {
    type State = BasicStats;

    fn update(state: &mut BasicStats, args: &Args, rows: Range<usize>) -> FnResult<()> {
        let col: &Column = args.column(0);
        if let Data::Unsupported(name) = &col.data {
            return Err(format!("unsupported type {name}; cast the column to VARCHAR first"));
        }
        if state.column_type.is_none() {
            state.column_type = Some(col.ty.sql());
        }
        for i in rows {
            state.rows += 1;
            if !col.is_valid(i) {
                state.nulls += 1;
                continue;
            }
            if let Some(v) = col.f64_at(i) {
                state.number(v);
                continue;
            }
            match &col.data {
                Data::Varchar(s) | Data::Blob(s) => state.length(s.get(i).len() as u64),
                Data::Bit(s) => state.length(bit_length(s.get(i))),
                Data::Enum(codes) => {
                    let label = col.enum_dictionary().get(codes.get(i)).map_or(0, |l| l.len());
                    state.length(label as u64);
                }
                Data::List(entries, _) | Data::Map(entries, _, _) => state.length(entries[i].length),
                Data::Array(size, _) => state.length(*size as u64),
                _ => {}
            }
        }
        Ok(())
    }

    fn combine(source: &BasicStats, target: &mut BasicStats) -> FnResult<()> {
        if target.column_type.is_none() {
            target.column_type = source.column_type.clone();
        }
        target.rows += source.rows;
        target.nulls += source.nulls;
        target.numeric += source.numeric;
        target.sum += source.sum;
        for (t, s, f) in
            [(&mut target.min, source.min, f64::min as fn(f64, f64) -> f64), (&mut target.max, source.max, f64::max)]
        {
            if let Some(s) = s {
                *t = Some(t.map_or(s, |t| f(t, s)));
            }
        }
        target.lengths += source.lengths;
        target.total_length += source.total_length;
        if let Some(s) = source.min_length {
            target.min_length = Some(target.min_length.map_or(s, |t| t.min(s)));
        }
        if let Some(s) = source.max_length {
            target.max_length = Some(target.max_length.map_or(s, |t| t.max(s)));
        }
        Ok(())
    }

    fn finalize(s: &mut BasicStats) -> FnResult<Value> {
        let has_num = s.numeric > 0;
        let has_len = s.lengths > 0;
        Ok(Value::Struct(vec![
            Value::from(s.column_type.clone()),
            Value::UInt(s.rows),
            Value::UInt(s.nulls),
            if has_num { Value::Double(s.sum) } else { Value::Null },
            Value::from(s.min),
            Value::from(s.max),
            Value::from(s.min_length),
            Value::from(s.max_length),
            if has_len { Value::UInt(s.total_length) } else { Value::Null },
        ]))
    }

    fn state_bytes(_s: &BasicStats) -> usize {
        std::mem::size_of::<BasicStats>()
    }
}

fn return_type() -> Ty {
    Ty::structure(&[
        ("column_type", Ty::Varchar),
        ("row_count", Ty::UBigInt),
        ("null_count", Ty::UBigInt),
        ("sum", Ty::Double),
        ("min_value", Ty::Double),
        ("max_value", Ty::Double),
        ("min_length", Ty::UBigInt),
        ("max_length", Ty::UBigInt),
        ("total_length", Ty::UBigInt),
    ])
}

/// Documentation.
pub const DOC: FunctionDoc = FunctionDoc {
    name: "dr_basic_stats",
    kind: Kind::Aggregate,
    parameters: "x ANY",
    returns: "STRUCT(column_type VARCHAR, row_count UBIGINT, null_count UBIGINT, sum DOUBLE, min_value DOUBLE, max_value DOUBLE, min_length UBIGINT, max_length UBIGINT, total_length UBIGINT)",
    description: "Row and NULL counts, numeric sum/min/max (temporal values as epoch seconds) and value lengths (bytes, bits or list elements) of a column of any type. Works with COLUMNS(*), GROUP BY and FILTER.",
    example: "SELECT dr_basic_stats(COLUMNS(*)) FROM range(5) t(x);",
};

/// Registers `dr_basic_stats`.
pub fn register(r: &mut Registrar) {
    r.aggregate::<BasicStatsFn>(AggregateSpec {
        name: DOC.name,
        overloads: vec![vec![Ty::Any]],
        return_type: return_type(),
    });
}
