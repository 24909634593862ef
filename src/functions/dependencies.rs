//! `dr_verify_dependencies(row STRUCT, candidates VARCHAR [, threads BIGINT, memory_limit VARCHAR])`:
//! the second scan of `column_dependencies` and `table_context`, which counts every
//! functional-dependency candidate of `dr_correlations` again over all rows.
//!
//! Adapts [`crate::kernels::correlation::verify::VerifyState`]. `candidates` is the JSON of
//! `dr_correlations(...).dependencies` (entries of kind `fd_candidate` are verified, others
//! ignored); it is the same on every row (an uncorrelated scalar subquery in the macros) and
//! is checked to stay so. Values are compared through 64-bit words: integers, dates and times
//! by value (a bijective mix), floats by value with -0.0 = 0.0 and every NaN one value, text
//! and blobs through a 64-bit hash, other types through a hash of their rendering.

use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::{Aggregate, AggregateSpec, Args, Column, Data, FnResult, Ty, Value};
use crate::functions::correlations::{dependency_type, dependency_value, field_mask, hash_bytes, read_fields};
use crate::functions::persistence::parse_memory;
use crate::functions::render::render;
use crate::kernels::correlation::verify::{VerifyOptions, VerifyState, Words};
use crate::kernels::correlation::{mix, Dependency};
use crate::registry::{FunctionDoc, Kind};

/// Aggregate state.
#[derive(Default)]
pub struct VerifyAgg {
    state: VerifyState,
    /// The candidates text the state was built from (None before the first row).
    spec: Option<Vec<u8>>,
    /// DuckDB's `threads`: the pool that merges determinants in parallel.
    threads: usize,
}

#[inline]
fn mix128(v: u128) -> u64 {
    mix(v as u64 ^ mix((v >> 64) as u64 ^ 0x5bd1_e995))
}

#[inline]
fn float_word(x: f64) -> u64 {
    if x == 0.0 {
        mix(0)
    } else if x.is_nan() {
        mix(f64::NAN.to_bits())
    } else {
        mix(x.to_bits())
    }
}

/// Words of rows `rows` of field `c` of `row`, with validity (a NULL row is NULL in every field).
fn value_words(row: &Column, c: &Column, rows: Range<usize>, words: &mut Vec<u64>, valid: &mut Vec<bool>) {
    words.clear();
    valid.clear();
    let mask = field_mask(row, c, rows.clone());
    valid.extend((0..rows.len()).map(|k| (mask[k / 64] >> (k % 64)) & 1 == 1));
    macro_rules! each {
        ($f:expr) => {
            words.extend(rows.clone().enumerate().map(|(k, i)| if valid[k] { $f(i) } else { 0 }))
        };
    }
    match &c.data {
        Data::Bool(v) => each!(|i: usize| mix(v[i] as u64)),
        Data::I8(v) => each!(|i: usize| mix(v[i] as i64 as u64)),
        Data::I16(v) => each!(|i: usize| mix(v[i] as i64 as u64)),
        Data::I32(v) => each!(|i: usize| mix(v[i] as i64 as u64)),
        Data::I64(v) => each!(|i: usize| mix(v[i] as u64)),
        Data::U8(v) => each!(|i: usize| mix(v[i] as u64)),
        Data::U16(v) => each!(|i: usize| mix(v[i] as u64)),
        Data::U32(v) => each!(|i: usize| mix(v[i] as u64)),
        Data::U64(v) => each!(|i: usize| mix(v[i])),
        Data::I128(v) | Data::Uuid(v) => each!(|i: usize| mix128(v.get(i) as u128)),
        Data::U128(v) => each!(|i: usize| mix128(v.get_unsigned(i))),
        Data::F32(v) => each!(|i: usize| float_word(v[i] as f64)),
        Data::F64(v) => each!(|i: usize| float_word(v[i])),
        Data::Decimal { data, .. } => each!(|i: usize| mix128(data.get(i) as u128)),
        Data::Date(v) => each!(|i: usize| mix(v[i] as i64 as u64)),
        Data::Time(v) | Data::TimeNs(v) | Data::TimestampTz(v) | Data::TimestampTzNs(v) => {
            each!(|i: usize| mix(v[i] as u64))
        }
        Data::Timestamp(_, v) => each!(|i: usize| mix(v[i] as u64)),
        Data::TimeTz(v) => each!(|i: usize| mix(v[i])),
        Data::Interval(v) => each!(|i: usize| {
            // DuckDB compares intervals normalised (a month is 30 days).
            let x = &v[i];
            let micros = (x.months as i128 * 30 + x.days as i128) * 86_400_000_000 + x.micros as i128;
            mix128(micros as u128)
        }),
        Data::Varchar(s) | Data::Blob(s) | Data::Bit(s) | Data::Bignum(s) => each!(|i: usize| hash_bytes(s.get(i))),
        Data::Enum(codes) => each!(|i: usize| mix(codes.get(i) as u64)),
        _ => each!(|i: usize| hash_bytes(render(c, i).as_bytes())),
    }
}

/// Reads the candidates JSON (an array of dependency objects; NULL or empty = none).
fn parse_candidates(text: &[u8]) -> FnResult<Vec<Dependency>> {
    let bad = |why: String| {
        format!("candidates must be the JSON of dr_correlations(...).dependencies (to_json of that list): {why}")
    };
    let v: serde_json::Value = serde_json::from_slice(text).map_err(|e| bad(e.to_string()))?;
    let items = v.as_array().ok_or_else(|| bad("not a JSON array".into()))?;
    let mut out = Vec::new();
    for it in items {
        let kind = it.get("kind").and_then(|k| k.as_str()).ok_or_else(|| bad("an entry has no \"kind\"".into()))?;
        if kind != "fd_candidate" {
            continue;
        }
        let determinant: Vec<String> = it
            .get("determinant")
            .and_then(|d| d.as_array())
            .ok_or_else(|| bad("a candidate has no \"determinant\" list".into()))?
            .iter()
            .map(|c| c.as_str().map(str::to_string).ok_or_else(|| bad("a determinant column is not a string".into())))
            .collect::<FnResult<_>>()?;
        let dependent = it
            .get("dependent")
            .and_then(|d| d.as_str())
            .ok_or_else(|| bad("a candidate has no \"dependent\"".into()))?
            .to_string();
        let num = |k: &str| it.get(k).and_then(|x| x.as_f64());
        let int = |k: &str| it.get(k).and_then(|x| x.as_u64());
        out.push(Dependency {
            kind: kind.to_string(),
            determinant,
            dependent: Some(dependent),
            confidence: num("confidence").unwrap_or(0.0),
            violations: int("violations").unwrap_or(0),
            mu_plus: None,
            rows: int("rows"),
            determinant_values: int("determinant_values"),
            expression: None,
            details: it.get("details").and_then(|d| d.as_str()).unwrap_or("candidate").to_string(),
        });
    }
    Ok(out)
}

struct DrVerifyDependencies;

impl Aggregate for DrVerifyDependencies {
    type State = VerifyAgg;

    fn update(agg: &mut VerifyAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        let row = args.column(0);
        let fields = read_fields(row).map_err(|e| e.replace("dr_correlations", "dr_verify_dependencies"))?;
        let spec: &[u8] = args.column(1).bytes_at(rows.start).unwrap_or(b"[]");
        match &agg.spec {
            Some(s) if s.as_slice() == spec => {}
            Some(_) => {
                return Err("candidates must be the same on every row (pass one scalar subquery, as the \
                            column_dependencies macro does)"
                    .into())
            }
            None => {
                let mut o = VerifyOptions::default();
                agg.threads = 1;
                if args.len() >= 4 {
                    let threads = args.column(2).f64_at(rows.start).map_or(1.0, |t| t.max(1.0)) as usize;
                    agg.threads = threads;
                    if let Some(m) = args.str_at(3, rows.start) {
                        let limit = parse_memory(&m).ok_or_else(|| {
                            format!("cannot read memory_limit '{m}'; pass current_setting('memory_limit')")
                        })?;
                        // Half the memory limit, at most 8 GiB, shared by one state per thread: half
                        // of a state's share for group maps, half for rows kept until finalize.
                        let share = ((limit / 2).min(8 << 30) / threads.max(1)).max(32 << 20);
                        o.budget_bytes = share / 2;
                        o.buffer_bytes = share / 2;
                    }
                }
                agg.state = VerifyState::new(parse_candidates(spec)?, o);
                let names: Vec<String> = fields.iter().map(|(n, _)| n.clone()).collect();
                agg.state.bind(&names).map_err(|e| e.message)?;
                agg.spec = Some(spec.to_vec());
            }
        }
        let need = agg.state.needed();
        let n = rows.len();
        let mut buf: Vec<(Vec<u64>, Vec<bool>)> = Vec::with_capacity(fields.len());
        for (k, (_, c)) in fields.iter().enumerate() {
            let (mut w, mut v) = (Vec::new(), Vec::new());
            if need.get(k).copied().unwrap_or(false) {
                w.reserve(n);
                v.reserve(n);
                value_words(row, c, rows.clone(), &mut w, &mut v);
            }
            buf.push((w, v));
        }
        let cols: Vec<Option<Words>> = buf
            .iter()
            .zip(need.iter())
            .map(|((w, v), &needed)| needed.then_some(Words { words: w, valid: v }))
            .collect();
        agg.state.update(&cols, n).map_err(|e| e.message)
    }

    fn combine(source: &VerifyAgg, target: &mut VerifyAgg) -> FnResult<()> {
        if source.spec.is_none() {
            return Ok(());
        }
        if target.spec.is_none() {
            target.spec = source.spec.clone();
            target.state = source.state.clone();
            target.threads = source.threads;
            return Ok(());
        }
        if source.spec != target.spec {
            return Err("candidates must be the same on every row".into());
        }
        let pool = crate::functions::pool::shared(target.threads.max(1));
        target.state.combine(&source.state, pool.as_deref()).map_err(|e| e.message)
    }

    fn finalize(agg: &mut VerifyAgg) -> FnResult<Value> {
        let pool = crate::functions::pool::shared(agg.threads.max(1));
        let deps = agg.state.finalize(pool.as_deref()).map_err(|e| e.message)?;
        Ok(Value::List(deps.iter().map(dependency_value).collect()))
    }

    fn state_bytes(agg: &VerifyAgg) -> usize {
        agg.state.state_bytes()
    }
}

/// Documentation.
pub const DOC: FunctionDoc = FunctionDoc {
    name: "dr_verify_dependencies",
    kind: Kind::Aggregate,
    parameters: "row STRUCT, candidates VARCHAR [, threads BIGINT, memory_limit VARCHAR] (candidates: to_json of dr_correlations(...).dependencies over the same table)",
    returns: "LIST(STRUCT(kind, determinant, dependent, confidence, violations, mu_plus, rows, determinant_values, expression, details))",
    description: "Verifies the functional-dependency candidates of dr_correlations over all rows: rows with a NULL in the determinant are left out, NULL in the dependent counts as a value. Reports kind functional_dependency with the confidence (g3) and violations of all rows, mu_plus (Piatetsky-Shapiro's mu baselined at 0) and the rows and determinant values it was judged on, when confidence >= 0.95, the determinant's groups average at least 2 rows and the dependent is not constant; ordered by mu_plus. Candidates beyond the memory budget come back as fd_candidate, saying so.",
    example: "CREATE OR REPLACE TEMP TABLE cities AS SELECT range AS id, range % 40 AS city, range % 40 // 10 AS country FROM range(400); SELECT unnest(dr_verify_dependencies(t, (SELECT to_json((dr_correlations(c, 'dependencies', 100000, 1)).dependencies) FROM cities c)), recursive := true) FROM cities t;",
};

/// Registers `dr_verify_dependencies`.
pub fn register(r: &mut Registrar) {
    r.aggregate::<DrVerifyDependencies>(AggregateSpec {
        name: DOC.name,
        overloads: vec![vec![Ty::Any, Ty::Varchar], vec![Ty::Any, Ty::Varchar, Ty::BigInt, Ty::Varchar]],
        return_type: Ty::list(dependency_type()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_json_is_read_and_bad_json_is_explained() {
        let ok = br#"[{"kind": "candidate_key", "determinant": ["id"], "dependent": null},
                      {"kind": "fd_candidate", "determinant": ["a", "b"], "dependent": "c", "confidence": 0.97,
                       "violations": 3, "rows": 100, "determinant_values": 9, "details": "x"}]"#;
        let c = parse_candidates(ok).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].determinant.clone(), c[0].dependent.clone()),
            (vec!["a".into(), "b".into()], Some("c".into()))
        );
        for bad in [
            &b"{"[..],
            b"{}",
            br#"[{"kind": "fd_candidate"}]"#,
            br#"[{"kind": "fd_candidate", "determinant": [1], "dependent": "c"}]"#,
        ] {
            let e = parse_candidates(bad).unwrap_err();
            assert!(e.contains("dr_correlations(...).dependencies"), "{e}");
        }
        assert!(parse_candidates(b"[]").unwrap().is_empty());
    }

    #[test]
    fn words_separate_what_sql_separates() {
        assert_ne!(float_word(1.0), float_word(2.0));
        assert_eq!(float_word(0.0), float_word(-0.0));
        assert_eq!(float_word(f64::NAN), float_word(-f64::NAN));
        assert_ne!(mix(u64::MAX), mix(u64::MAX - 1));
        assert_ne!(mix128(1u128 << 64), mix128(1));
    }
}
