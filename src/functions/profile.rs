//! `dr_profile(x ANY [, exact_limit BIGINT, top_k BIGINT])`: the column profile aggregate.
//!
//! Adapts [`crate::kernels::profile::ProfileState`] to DuckDB: every physical type is
//! widened into one of the kernel's batch entry points (BIGINT, DOUBLE, TIMESTAMP and
//! BOOLEAN vectors are passed without copying); types the kernel knows only as text
//! (nested, UUID, INTERVAL, TIME WITH TIME ZONE, ...) are rendered like DuckDB's
//! `CAST(x AS VARCHAR)`. One STRUCT type for every input type, so per-column results
//! UNPIVOT together; fields that do not apply are NULL.

use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::{Aggregate, AggregateSpec, Args, Column, Data, FnResult, Ty, Value};
use crate::functions::render::{render, timestamp_unit};
use crate::kernels::profile::{Profile, ProfileOptions, ProfileState, TemporalUnit};
use crate::registry::{FunctionDoc, Kind};

/// Aggregate state: the kernel state plus whether options were applied.
#[derive(Default)]
pub struct ProfileAgg {
    pub(crate) state: ProfileState,
    /// The options applied to `state`, once the first update has read them.
    pub(crate) options: Option<ProfileOptions>,
    /// The input's SQL type (for state BLOBs), from the first update.
    pub(crate) input_type: Option<String>,
}

/// Valid values of `rows`, copied out through `get` (for unaligned row runs and
/// widening conversions), plus the number of NULL rows.
fn gather<T>(col: &Column, rows: &Range<usize>, get: impl Fn(usize) -> T) -> (Vec<T>, u64) {
    let mut out = Vec::with_capacity(rows.len());
    let mut nulls = 0;
    for i in rows.clone() {
        if col.is_valid(i) {
            out.push(get(i));
        } else {
            nulls += 1;
        }
    }
    (out, nulls)
}

/// The validity words of `rows` when the run starts on a word boundary.
fn aligned_mask<'a>(col: &Column<'a>, rows: &Range<usize>) -> Option<Option<&'a [u64]>> {
    if !rows.start.is_multiple_of(64) {
        return None;
    }
    Some(col.validity.mask().map(|m| &m[rows.start / 64..]))
}

fn feed(s: &mut ProfileState, col: &Column, rows: Range<usize>) -> FnResult<()> {
    macro_rules! direct_or_gather {
        ($slice:expr, $method:ident $(, $extra:expr)*) => {{
            let v = $slice;
            match aligned_mask(col, &rows) {
                Some(mask) => s.$method(&v[rows.clone()] $(, $extra)*, mask),
                None => {
                    let (vals, nulls) = gather(col, &rows, |i| v[i]);
                    s.$method(&vals $(, $extra)*, None);
                    s.add_nulls(nulls);
                }
            }
        }};
    }
    macro_rules! widen {
        ($method:ident, $conv:expr $(, $extra:expr)*) => {{
            let (vals, nulls) = gather(col, &rows, $conv);
            s.$method(&vals $(, $extra)*, None);
            s.add_nulls(nulls);
        }};
    }
    match &col.data {
        Data::I64(v) => direct_or_gather!(*v, update_i64),
        Data::F64(v) => direct_or_gather!(*v, update_f64),
        Data::Bool(v) => direct_or_gather!(*v, update_bool),
        Data::Time(v) => direct_or_gather!(*v, update_temporal, TemporalUnit::Time),
        Data::Timestamp(u, v) => direct_or_gather!(*v, update_temporal, timestamp_unit(*u)),
        Data::TimestampTz(v) => direct_or_gather!(*v, update_temporal, TemporalUnit::TimestampTzUs),
        Data::I8(v) => widen!(update_i64, |i| v[i] as i64),
        Data::I16(v) => widen!(update_i64, |i| v[i] as i64),
        Data::I32(v) => widen!(update_i64, |i| v[i] as i64),
        Data::U8(v) => widen!(update_i64, |i| v[i] as i64),
        Data::U16(v) => widen!(update_i64, |i| v[i] as i64),
        Data::U32(v) => widen!(update_i64, |i| v[i] as i64),
        Data::U64(v) => widen!(update_i128, |i| v[i] as i128),
        Data::I128(v) => widen!(update_i128, |i| v.get(i)),
        Data::U128(v) => {
            if let Some(i) = rows.clone().find(|&i| col.is_valid(i) && v.get_unsigned(i) > i128::MAX as u128) {
                return Err(format!(
                    "UHUGEINT value {} is above 2^127-1, the largest value profiled exactly; cast the column to DOUBLE",
                    v.get_unsigned(i)
                ));
            }
            widen!(update_i128, |i| v.get_unsigned(i) as i128)
        }
        Data::F32(v) => direct_or_gather!(*v, update_f32),
        Data::Decimal { scale, data, .. } => widen!(update_decimal, |i| data.get(i), *scale),
        Data::Date(v) => widen!(update_temporal, |i| v[i] as i64, TemporalUnit::Date),
        Data::Varchar(strings) => {
            for i in rows {
                if col.is_valid(i) {
                    s.add_text(strings.get(i));
                } else {
                    s.add_nulls(1);
                }
            }
        }
        Data::Enum(codes) => {
            let dict = col.enum_dictionary();
            for i in rows {
                match (col.is_valid(i), dict.get(codes.get(i))) {
                    (true, Some(label)) => s.add_text(label.as_bytes()),
                    _ => s.add_nulls(1),
                }
            }
        }
        Data::Blob(b) => {
            for i in rows {
                if col.is_valid(i) {
                    s.add_blob(b.get(i));
                } else {
                    s.add_nulls(1);
                }
            }
        }
        Data::Unsupported(name) => {
            return Err(format!("unsupported type {name}; cast the column to VARCHAR to profile it"));
        }
        other => {
            for i in rows {
                if !col.is_valid(i) {
                    s.add_nulls(1);
                    continue;
                }
                let length = match other {
                    Data::List(entries, _) | Data::Map(entries, _, _) => Some(entries[i].length),
                    Data::Array(size, _) => Some(*size as u64),
                    _ => None,
                };
                s.add_other(&render(col, i), length);
            }
        }
    }
    Ok(())
}

pub(crate) struct DrProfile;

impl Aggregate for DrProfile {
    type State = ProfileAgg;

    fn update(agg: &mut ProfileAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        if agg.options.is_none() {
            let mut o = ProfileOptions::default();
            if args.len() > 1 {
                if let Some(limit) = args.column(1).f64_at(rows.start) {
                    if !(1.0..=1e9).contains(&limit) {
                        return Err(format!("exact_limit must be between 1 and 1000000000, got {limit}"));
                    }
                    o.exact_limit = limit as usize;
                }
            }
            if args.len() > 2 {
                if let Some(k) = args.column(2).f64_at(rows.start) {
                    if !(1.0..=1000.0).contains(&k) {
                        return Err(format!("top_k must be between 1 and 1000, got {k}"));
                    }
                    o.top_k = k as usize;
                }
            }
            agg.state = ProfileState::with_options(o);
            // DuckDB's `threads`, passed by the macros: with more than one, full sketch
            // batches are folded on the shared pool while this thread scans on (a table of
            // one row group is scanned by one thread). Not an option: the state is the same.
            if args.len() > 3 {
                if let Some(t) = args.column(3).f64_at(rows.start) {
                    if t >= 2.0 {
                        agg.state.set_pool(crate::functions::pool::shared(t.min(64.0) as usize));
                    }
                }
            }
            agg.options = Some(o);
            agg.input_type = Some(args.column(0).ty.sql());
        }
        feed(&mut agg.state, args.column(0), rows)
    }

    fn combine(source: &ProfileAgg, target: &mut ProfileAgg) -> FnResult<()> {
        // A fresh target takes the source's options before merging (its budget decides
        // when the merged state switches to sketches).
        if target.options.is_none() {
            if let Some(o) = source.options {
                target.state = ProfileState::with_options(o);
                target.options = Some(o);
            }
        }
        if target.input_type.is_none() {
            target.input_type.clone_from(&source.input_type);
        }
        target.state.combine(&source.state);
        Ok(())
    }

    fn finalize(agg: &mut ProfileAgg) -> FnResult<Value> {
        agg.state.settle();
        agg.state.check().map_err(|e| e.message)?;
        Ok(profile_value(&agg.state.finalize()))
    }

    fn state_bytes(agg: &ProfileAgg) -> usize {
        agg.state.state_bytes()
    }
}

/// The STRUCT every `dr_profile` call returns (field order = [`profile_value`]).
pub fn profile_type() -> Ty {
    use Ty::*;
    let bin = Ty::structure(&[("lower", Double), ("upper", Double), ("count", UBigInt)]);
    let top = Ty::structure(&[("value", Varchar), ("count", UBigInt), ("share", Double)]);
    let pattern = Ty::structure(&[("pattern", Varchar), ("count", UBigInt)]);
    let benford = Ty::structure(&[("digit_freq", Ty::list(Double)), ("chi2", Double), ("p_value", Double)]);
    Ty::structure(&[
        ("row_count", UBigInt),
        ("null_count", UBigInt),
        ("null_ratio", Double),
        ("distinct_count", UBigInt),
        ("distinct_is_exact", Boolean),
        ("cardinality_ratio", Double),
        ("is_unique", Boolean),
        ("is_constant", Boolean),
        ("min", Varchar),
        ("max", Varchar),
        ("min_value", Double),
        ("max_value", Double),
        ("sum", Double),
        ("mean", Double),
        ("stddev", Double),
        ("variance", Double),
        ("skewness", Double),
        ("kurtosis", Double),
        ("cv", Double),
        ("mad", Double),
        ("zero_count", UBigInt),
        ("negative_count", UBigInt),
        ("nan_count", UBigInt),
        ("inf_count", UBigInt),
        ("p01", Double),
        ("p05", Double),
        ("p25", Double),
        ("p50", Double),
        ("p75", Double),
        ("p95", Double),
        ("p99", Double),
        ("quantiles_exact", Boolean),
        ("iqr_outlier_count", UBigInt),
        ("modified_z_outlier_count", UBigInt),
        ("histogram", Ty::list(bin)),
        ("top_values", Ty::list(top)),
        ("entropy", Double),
        ("min_length", UBigInt),
        ("avg_length", Double),
        ("max_length", UBigInt),
        ("empty_count", UBigInt),
        ("blank_count", UBigInt),
        ("untrimmed_count", UBigInt),
        ("non_ascii_count", UBigInt),
        ("top_patterns", Ty::list(pattern)),
        ("benford", benford),
        ("sparkline", Varchar),
    ])
}

/// Converts a kernel profile into the STRUCT value of [`profile_type`].
pub fn profile_value(p: &Profile) -> Value {
    let d = |x: Option<f64>| x.map_or(Value::Null, Value::Double);
    let u = |x: Option<u64>| x.map_or(Value::Null, Value::UInt);
    let b = |x: Option<bool>| x.map_or(Value::Null, Value::Bool);
    Value::Struct(vec![
        Value::UInt(p.row_count),
        Value::UInt(p.null_count),
        d(p.null_ratio),
        Value::UInt(p.distinct_count),
        Value::Bool(p.distinct_is_exact),
        d(p.cardinality_ratio),
        b(p.is_unique),
        b(p.is_constant),
        Value::from(p.min.clone()),
        Value::from(p.max.clone()),
        d(p.min_value),
        d(p.max_value),
        d(p.sum),
        d(p.mean),
        d(p.stddev),
        d(p.variance),
        d(p.skewness),
        d(p.kurtosis),
        d(p.cv),
        d(p.mad),
        u(p.zero_count),
        u(p.negative_count),
        u(p.nan_count),
        u(p.inf_count),
        d(p.p01),
        d(p.p05),
        d(p.p25),
        d(p.p50),
        d(p.p75),
        d(p.p95),
        d(p.p99),
        b(p.quantiles_exact),
        u(p.iqr_outlier_count),
        u(p.modified_z_outlier_count),
        p.histogram.as_ref().map_or(Value::Null, |h| {
            Value::List(
                h.iter()
                    .map(|(lo, hi, c)| Value::Struct(vec![Value::Double(*lo), Value::Double(*hi), Value::UInt(*c)]))
                    .collect(),
            )
        }),
        Value::List(
            p.top_values
                .iter()
                .map(|(v, c, s)| Value::Struct(vec![Value::from(v.as_str()), Value::UInt(*c), Value::Double(*s)]))
                .collect(),
        ),
        d(p.entropy),
        u(p.min_length),
        d(p.avg_length),
        u(p.max_length),
        u(p.empty_count),
        u(p.blank_count),
        u(p.untrimmed_count),
        u(p.non_ascii_count),
        p.top_patterns.as_ref().map_or(Value::Null, |t| {
            Value::List(
                t.iter().map(|(pat, c)| Value::Struct(vec![Value::from(pat.as_str()), Value::UInt(*c)])).collect(),
            )
        }),
        p.benford.as_ref().map_or(Value::Null, |bf| {
            Value::Struct(vec![
                Value::List(bf.digit_freq.iter().map(|f| Value::Double(*f)).collect()),
                Value::Double(bf.chi2),
                Value::Double(bf.p_value),
            ])
        }),
        Value::from(p.sparkline.clone()),
    ])
}

/// Documentation.
pub const DOC: FunctionDoc = FunctionDoc {
    name: "dr_profile",
    kind: Kind::Aggregate,
    parameters: "x ANY [, exact_limit BIGINT, top_k BIGINT, threads BIGINT]",
    returns: "STRUCT(row_count, null_count, ..., histogram, top_values, entropy, ..., benford, sparkline)",
    description: "Profiles a column of any type in one parallel, mergeable pass: counts, distinct values, range, moments, quantiles, outliers, histogram, top values (the top_k most frequent, default 10), entropy, text lengths and patterns, Benford test. Exact up to exact_limit distinct values per column (default: setting dataraum_exact_limit), then mergeable sketches, flagged by distinct_is_exact / quantiles_exact. threads (the macros pass DuckDB's threads setting) lets a scanning thread fold its sketches on that many pool threads; the result does not depend on it.",
    example: "SELECT dr_profile(COLUMNS(*)) FROM range(1000) t(x);",
};

/// Registers `dr_profile`.
pub fn register(r: &mut Registrar) {
    r.aggregate::<DrProfile>(AggregateSpec {
        name: DOC.name,
        overloads: vec![
            vec![Ty::Any],
            vec![Ty::Any, Ty::BigInt],
            vec![Ty::Any, Ty::BigInt, Ty::BigInt],
            vec![Ty::Any, Ty::BigInt, Ty::BigInt, Ty::BigInt],
        ],
        return_type: profile_type(),
    });
}
