//! `dr_correlations(row STRUCT [, methods VARCHAR, sample_size BIGINT, threads BIGINT])`:
//! every pairwise measure and every dependency of a table's columns, from one scan.
//!
//! Adapts [`crate::kernels::correlation::CorrState`]. The argument is a whole row (a
//! table alias is its row as a STRUCT: `SELECT dr_correlations(t) FROM t`). Numeric
//! fields feed the numeric measures as DOUBLE, temporal fields as epoch seconds, every
//! other type is categorical through a 64-bit hash of its rendering. Finalize (ranks,
//! pair loops, dependency search) runs on a rayon pool of `threads` workers — the
//! macros pass DuckDB's own `threads` setting.

use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::{Aggregate, AggregateSpec, Args, Column, Data, FnResult, Ty, Value};
use crate::functions::render::render;
use crate::kernels::correlation::{ColumnData, ColumnMeta, ColumnRole, CorrOptions, CorrState, Dependency, METHODS};
use crate::registry::{FunctionDoc, Kind};

/// Aggregate state.
#[derive(Default)]
pub struct CorrAgg {
    pub(crate) state: CorrState,
    pub(crate) configured: bool,
    pub(crate) threads: usize,
    /// The row's SQL type (its column names and types), from the first update.
    pub(crate) input_type: Option<String>,
}

/// FNV-1a then a 64-bit finaliser: stable across runs and threads (states merge).
pub(crate) fn hash_bytes(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h = (h ^ x as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

fn role_of(col: &Column) -> ColumnRole {
    if col.ty.is_numeric() {
        ColumnRole::Numeric
    } else if col.ty.is_temporal() {
        ColumnRole::Temporal
    } else {
        ColumnRole::Categorical
    }
}

enum Buffer {
    Num(Vec<f64>),
    Cat(Vec<u64>),
}

/// Appends column `c` over `rows` as numbers, with one type dispatch per batch for the plain
/// numeric types. Values at NULL rows are unspecified (the validity mask excludes them).
fn push_numbers(c: &Column, rows: Range<usize>, out: &mut Vec<f64>) {
    macro_rules! cast {
        ($v:expr) => {
            match $v.get(rows.clone()) {
                Some(s) => out.extend(s.iter().map(|&x| x as f64)),
                None => out.extend(rows.clone().map(|i| c.f64_at(i).unwrap_or(f64::NAN))),
            }
        };
    }
    match &c.data {
        Data::I8(v) => cast!(v),
        Data::I16(v) => cast!(v),
        Data::I32(v) => cast!(v),
        Data::I64(v) => cast!(v),
        Data::U8(v) => cast!(v),
        Data::U16(v) => cast!(v),
        Data::U32(v) => cast!(v),
        Data::U64(v) => cast!(v),
        Data::F32(v) => cast!(v),
        Data::F64(v) => cast!(v),
        _ => out.extend(rows.map(|i| c.f64_at(i).unwrap_or(f64::NAN))),
    }
}

/// Validity of rows `rows` of a field (bit k = row rows.start + k): the field's mask and the
/// row's (a NULL row counts as NULL in every field), word by word when the range is aligned.
pub(crate) fn field_mask(row: &Column, c: &Column, rows: Range<usize>) -> Vec<u64> {
    let words = rows.len().div_ceil(64);
    let (rm, cm) = (row.validity.mask(), c.validity.mask());
    if rows.start.is_multiple_of(64) {
        let w0 = rows.start / 64;
        let word = |m: Option<&[u64]>, k: usize| m.map_or(u64::MAX, |m| m.get(w0 + k).copied().unwrap_or(0));
        return (0..words).map(|k| word(rm, k) & word(cm, k)).collect();
    }
    let mut mask = vec![0u64; words];
    for (k, i) in rows.enumerate() {
        if row.is_valid(i) && c.is_valid(i) {
            mask[k / 64] |= 1 << (k % 64);
        }
    }
    mask
}

pub(crate) fn read_fields<'a>(row: &'a Column<'a>) -> FnResult<&'a [(String, Column<'a>)]> {
    match &row.data {
        Data::Struct(fields) => Ok(fields),
        _ => {
            Err(format!("expects a whole row, e.g. SELECT dr_correlations(t) FROM tbl t; got a {} value", row.ty.sql()))
        }
    }
}

pub(crate) struct DrCorrelations;

impl Aggregate for DrCorrelations {
    type State = CorrAgg;

    fn update(agg: &mut CorrAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        let row = args.column(0);
        let fields = read_fields(row)?;
        let metas: Vec<ColumnMeta> =
            fields.iter().map(|(name, c)| ColumnMeta { name: name.clone(), role: role_of(c) }).collect();
        if !agg.configured {
            let mut o = CorrOptions::default();
            if args.len() >= 3 {
                if let Some(m) = args.str_at(1, rows.start) {
                    let tokens: Vec<String> =
                        m.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect();
                    // 'dependencies' is not a pair measure: it switches the dependency search on.
                    if !tokens.is_empty() {
                        o.dependencies = tokens.iter().any(|t| t == "dependencies");
                        o.methods = tokens.into_iter().filter(|t| t != "dependencies").collect();
                        if o.methods.is_empty() {
                            o.methods = vec!["none".to_string()];
                        }
                    }
                    for m in &o.methods {
                        if m != "none" && !METHODS.contains(&m.as_str()) {
                            return Err(format!(
                                "unknown method '{m}'; use a comma-separated subset of {}, dependencies",
                                METHODS.join(", ")
                            ));
                        }
                    }
                }
                if let Some(n) = args.column(2).f64_at(rows.start) {
                    if n < 2.0 {
                        return Err(format!("sample_size must be at least 2, got {n}"));
                    }
                    o.sample_size = n as usize;
                }
                if args.len() >= 4 {
                    agg.threads = args.column(3).f64_at(rows.start).map_or(1, |t| t.max(1.0) as usize);
                }
            }
            agg.state = CorrState::new(metas.clone(), o);
            agg.configured = true;
            agg.input_type = Some(row.ty.sql());
        }
        let n = rows.len();
        let mut masks: Vec<Vec<u64>> = Vec::with_capacity(fields.len());
        let mut buffers: Vec<Buffer> = Vec::with_capacity(fields.len());
        for (_, c) in fields {
            let mask = field_mask(row, c, rows.clone());
            let buffer = if role_of(c) != ColumnRole::Categorical {
                let mut nums = Vec::with_capacity(n);
                push_numbers(c, rows.clone(), &mut nums);
                Buffer::Num(nums)
            } else {
                let valid = |k: usize| (mask[k / 64] >> (k % 64)) & 1 == 1;
                Buffer::Cat(
                    rows.clone()
                        .enumerate()
                        .map(|(k, i)| match &c.data {
                            _ if !valid(k) => 0,
                            Data::Varchar(s) | Data::Blob(s) => hash_bytes(s.get(i)),
                            Data::Bool(b) => b[i] as u64 + 1,
                            Data::Enum(codes) => codes.get(i) as u64 + 1,
                            _ => hash_bytes(render(c, i).as_bytes()),
                        })
                        .collect(),
                )
            };
            masks.push(mask);
            buffers.push(buffer);
        }
        let data: Vec<ColumnData> = buffers
            .iter()
            .zip(&masks)
            .map(|(b, m)| match b {
                Buffer::Num(v) => ColumnData::Numeric(v, Some(m)),
                Buffer::Cat(v) => ColumnData::Categorical(v, Some(m)),
            })
            .collect();
        agg.state.update_rows(&metas, &data, n).map_err(|e| e.message)
    }

    fn combine(source: &CorrAgg, target: &mut CorrAgg) -> FnResult<()> {
        if !source.configured {
            return Ok(());
        }
        if !target.configured {
            target.state = source.state.clone();
            target.configured = true;
            target.threads = source.threads;
            target.input_type.clone_from(&source.input_type);
            return Ok(());
        }
        target.state.combine(&source.state).map_err(|e| e.message)
    }

    fn finalize(agg: &mut CorrAgg) -> FnResult<Value> {
        let pool = crate::functions::pool::shared(agg.threads);
        let r = agg.state.finalize(pool.as_deref()).map_err(|e| e.message)?;
        let correlations = r
            .correlations
            .iter()
            .map(|c| {
                Value::Struct(vec![
                    Value::from(c.column_a.as_str()),
                    Value::from(c.column_b.as_str()),
                    Value::from(c.method.as_str()),
                    Value::from(c.value),
                    Value::from(c.p_value),
                    Value::UInt(c.n),
                    Value::from(c.strength.as_str()),
                    Value::from(c.significant),
                    Value::Bool(c.sampled),
                    Value::from(c.skipped_reason.clone()),
                    Value::from(c.statistic),
                    Value::from(c.dof),
                ])
            })
            .collect();
        let dependencies = r.dependencies.iter().map(dependency_value).collect();
        Ok(Value::Struct(vec![Value::List(correlations), Value::List(dependencies)]))
    }

    fn state_bytes(agg: &CorrAgg) -> usize {
        agg.state.state_bytes()
    }
}

pub(crate) fn return_type() -> Ty {
    use Ty::*;
    let corr = Ty::structure(&[
        ("column_a", Varchar),
        ("column_b", Varchar),
        ("method", Varchar),
        ("value", Double),
        ("p_value", Double),
        ("n", UBigInt),
        ("strength", Varchar),
        ("significant", Boolean),
        ("sampled", Boolean),
        ("skipped_reason", Varchar),
        ("statistic", Double),
        ("dof", Double),
    ]);
    Ty::structure(&[("correlations", Ty::list(corr)), ("dependencies", Ty::list(dependency_type()))])
}

/// The STRUCT of one dependency (shared with `dr_verify_dependencies`).
pub(crate) fn dependency_type() -> Ty {
    use Ty::*;
    Ty::structure(&[
        ("kind", Varchar),
        ("determinant", Ty::list(Varchar)),
        ("dependent", Varchar),
        ("confidence", Double),
        ("violations", UBigInt),
        ("mu_plus", Double),
        ("rows", UBigInt),
        ("determinant_values", UBigInt),
        ("expression", Varchar),
        ("details", Varchar),
    ])
}

/// One dependency as a value of [`dependency_type`].
pub(crate) fn dependency_value(d: &Dependency) -> Value {
    Value::Struct(vec![
        Value::from(d.kind.as_str()),
        Value::List(d.determinant.iter().map(|s| Value::from(s.as_str())).collect()),
        Value::from(d.dependent.clone()),
        Value::Double(d.confidence),
        Value::UInt(d.violations),
        Value::from(d.mu_plus),
        d.rows.map_or(Value::Null, Value::UInt),
        d.determinant_values.map_or(Value::Null, Value::UInt),
        Value::from(d.expression.clone()),
        Value::from(d.details.as_str()),
    ])
}

/// Documentation.
pub const DOC: FunctionDoc = FunctionDoc {
    name: "dr_correlations",
    kind: Kind::Aggregate,
    parameters: "row STRUCT [, methods VARCHAR, sample_size BIGINT, threads BIGINT] (methods: comma-separated pearson, spearman, kendall, cramers_v, theils_u, eta, mutual_info, dependencies; empty = all)",
    returns: "STRUCT(correlations LIST(STRUCT(column_a, column_b, method, value, p_value, n, strength, significant, sampled, skipped_reason, statistic, dof)), dependencies LIST(STRUCT(kind, determinant, dependent, confidence, violations, mu_plus, rows, determinant_values, expression, details)))",
    description: "Every pairwise measure (Pearson, Spearman, Kendall tau-b, Cramer's V with bias correction, Theil's U, correlation ratio, normalised mutual information, with p-values) and every dependency (functional-dependency candidates, candidate keys, derived columns, multicollinearity) of a table's columns, from one parallel scan of whole rows. Functional dependencies come out as kind fd_candidate, counted over exact tables or the row sample; dr_verify_dependencies (used by column_dependencies and table_context) verifies them over all rows.",
    example: "SELECT len((dr_correlations(t)).correlations) FROM (SELECT range AS x, range * 2 + 1 AS y, range % 3 AS g FROM range(100)) t;",
};

/// Registers `dr_correlations`.
pub fn register(r: &mut Registrar) {
    r.aggregate::<DrCorrelations>(AggregateSpec {
        name: DOC.name,
        overloads: vec![vec![Ty::Any], vec![Ty::Any, Ty::Varchar, Ty::BigInt, Ty::BigInt]],
        return_type: return_type(),
    });
}
