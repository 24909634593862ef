//! Tests of the profile state: oracle comparisons against python duckdb 2.0.1
//! (`test/data/profile/oracle.json`, made by `gen_oracle.py` beside it), corner cases,
//! split/combine-order invariance (DataFusion style) and sketch-mode accuracy.

use super::*;
use serde_json::Value;

const ORACLE: &str = include_str!("../../../test/data/profile/oracle.json");

/// A test column in DuckDB's physical shapes.
#[derive(Clone)]
enum Col {
    I64(Vec<Option<i64>>),
    F64(Vec<Option<f64>>),
    Dec(Vec<Option<i128>>, u8),
    Tmp(Vec<Option<i64>>, TemporalUnit),
    Bool(Vec<Option<bool>>),
    Text(Vec<Option<String>>),
}

impl Col {
    fn len(&self) -> usize {
        match self {
            Col::I64(v) | Col::Tmp(v, _) => v.len(),
            Col::F64(v) => v.len(),
            Col::Dec(v, _) => v.len(),
            Col::Bool(v) => v.len(),
            Col::Text(v) => v.len(),
        }
    }
}

/// DuckDB validity mask of a slice of options (None when all valid).
fn mask<T>(v: &[Option<T>]) -> Option<Vec<u64>> {
    if v.iter().all(Option::is_some) {
        return None;
    }
    let mut m = vec![0u64; v.len().div_ceil(64)];
    for (i, x) in v.iter().enumerate() {
        if x.is_some() {
            m[i / 64] |= 1 << (i % 64);
        }
    }
    Some(m)
}

fn vals<T: Copy + Default>(v: &[Option<T>]) -> Vec<T> {
    v.iter().map(|x| x.unwrap_or_default()).collect()
}

/// Feeds rows `r` of `col` into `s` as one batch.
fn feed(s: &mut ProfileState, col: &Col, r: std::ops::Range<usize>) {
    match col {
        Col::I64(v) => s.update_i64(&vals(&v[r.clone()]), mask(&v[r]).as_deref()),
        Col::F64(v) => s.update_f64(&vals(&v[r.clone()]), mask(&v[r]).as_deref()),
        Col::Dec(v, sc) => s.update_decimal(&vals(&v[r.clone()]), *sc, mask(&v[r]).as_deref()),
        Col::Tmp(v, u) => s.update_temporal(&vals(&v[r.clone()]), *u, mask(&v[r]).as_deref()),
        Col::Bool(v) => s.update_bool(&vals(&v[r.clone()]), mask(&v[r]).as_deref()),
        Col::Text(v) => {
            for x in &v[r] {
                match x {
                    Some(t) => s.add_text(t.as_bytes()),
                    None => s.add_nulls(1),
                }
            }
        }
    }
}

fn profile_of(col: &Col, opts: ProfileOptions) -> Profile {
    let mut s = ProfileState::with_options(opts);
    feed(&mut s, col, 0..col.len());
    s.finalize()
}

fn col_of(d: &Value) -> Col {
    let v = d["values"].as_array().expect("values");
    let ty = d["type"].as_str().expect("type");
    let i = |x: &Value| x.as_i64();
    match ty {
        "BIGINT" => Col::I64(v.iter().map(i).collect()),
        "DOUBLE" => Col::F64(v.iter().map(|x| x.as_str().and_then(|s| s.parse().ok())).collect()),
        "DECIMAL(12,3)" => Col::Dec(v.iter().map(|x| x.as_i64().map(i128::from)).collect(), 3),
        "TIMESTAMP" => Col::Tmp(v.iter().map(i).collect(), TemporalUnit::TimestampUs),
        "DATE" => Col::Tmp(v.iter().map(i).collect(), TemporalUnit::Date),
        "BOOLEAN" => Col::Bool(v.iter().map(Value::as_bool).collect()),
        "VARCHAR" => Col::Text(v.iter().map(|x| x.as_str().map(str::to_owned)).collect()),
        _ => panic!("unknown type {ty}"),
    }
}

fn close(name: &str, got: Option<f64>, want: &Value) {
    let w = want.as_f64().unwrap_or_else(|| panic!("{name}: oracle {want}"));
    let g = got.unwrap_or_else(|| panic!("{name}: got None, want {w}"));
    let tol = 1e-9 * w.abs().max(1e-3);
    assert!((g - w).abs() <= tol, "{name}: got {g}, want {w}");
}

fn check_against_oracle(p: &Profile, d: &Value) {
    let name = d["name"].as_str().unwrap_or("?");
    let e = &d["expect"];
    let f = |k: &str| format!("{name}.{k}");
    assert_eq!(p.row_count, e["row_count"].as_u64().unwrap(), "{}", f("row_count"));
    assert_eq!(p.null_count, e["null_count"].as_u64().unwrap(), "{}", f("null_count"));
    assert_eq!(p.distinct_count, e["distinct_count"].as_u64().unwrap(), "{}", f("distinct"));
    assert!(p.distinct_is_exact);
    assert_eq!(p.min.as_deref(), e["min"].as_str(), "{}", f("min"));
    assert_eq!(p.max.as_deref(), e["max"].as_str(), "{}", f("max"));
    close(&f("entropy"), p.entropy, &e["entropy"]);
    let top = e["top_values"].as_array().unwrap();
    assert_eq!(p.top_values.len(), top.len(), "{}", f("top_values"));
    for (g, w) in p.top_values.iter().zip(top) {
        assert_eq!(g.0, w[0].as_str().unwrap(), "{}", f("top_values"));
        assert_eq!(g.1, w[1].as_u64().unwrap(), "{}", f("top_values"));
        close(&f("top share"), Some(g.2), &w[2]);
    }
    let floats: [(&str, Option<f64>); 18] = [
        ("min_value", p.min_value),
        ("max_value", p.max_value),
        ("p01", p.p01),
        ("p05", p.p05),
        ("p25", p.p25),
        ("p50", p.p50),
        ("p75", p.p75),
        ("p95", p.p95),
        ("p99", p.p99),
        ("mad", p.mad),
        ("sum", p.sum),
        ("mean", p.mean),
        ("stddev", p.stddev),
        ("variance", p.variance),
        ("skewness", p.skewness),
        ("kurtosis", p.kurtosis),
        ("avg_length", p.avg_length),
        ("entropy", p.entropy),
    ];
    for (k, g) in floats {
        if e.get(k).is_some() {
            close(&f(k), g, &e[k]);
        } else {
            assert!(g.is_none() || k == "entropy", "{}: expected None, got {g:?}", f(k));
        }
    }
    let counts: [(&str, Option<u64>); 11] = [
        ("iqr_outlier_count", p.iqr_outlier_count),
        ("modified_z_outlier_count", p.modified_z_outlier_count),
        ("zero_count", p.zero_count),
        ("negative_count", p.negative_count),
        ("min_length", p.min_length),
        ("max_length", p.max_length),
        ("empty_count", p.empty_count),
        ("blank_count", p.blank_count),
        ("untrimmed_count", p.untrimmed_count),
        ("non_ascii_count", p.non_ascii_count),
        ("row_count", Some(p.row_count)),
    ];
    for (k, g) in counts {
        if let Some(w) = e.get(k) {
            assert_eq!(g, w.as_u64(), "{}", f(k));
        } else {
            assert_eq!(g, None, "{}", f(k));
        }
    }
    if let Some(h) = e.get("histogram_counts") {
        let got: Vec<u64> = p.histogram.as_ref().expect("histogram").iter().map(|b| b.2).collect();
        let want: Vec<u64> = h.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
        assert_eq!(got, want, "{}", f("histogram"));
        assert_eq!(p.sparkline.as_ref().map(|s| s.chars().count()), Some(20));
    } else {
        assert!(p.histogram.is_none());
    }
    if let Some(tp) = e.get("top_patterns") {
        let want: Vec<(String, u64)> = tp
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x[0].as_str().unwrap().to_owned(), x[1].as_u64().unwrap()))
            .collect();
        assert_eq!(p.top_patterns.as_ref(), Some(&want), "{}", f("top_patterns"));
    }
    match (e.get("benford"), &p.benford) {
        (Some(b), Some(g)) => {
            for d in 0..9 {
                close(&f("benford.freq"), Some(g.digit_freq[d]), &b["digit_freq"][d]);
            }
            close(&f("benford.chi2"), Some(g.chi2), &b["chi2"]);
            let pw = b["p_value"].as_f64().unwrap();
            assert!((g.p_value - pw).abs() <= 1e-9 * pw.max(1e-300) + 1e-300, "{}", f("benford.p"));
        }
        (None, None) => {}
        (w, g) => panic!("{}: want {w:?}, got {g:?}", f("benford")),
    }
    assert_eq!(p.quantiles_exact, e.get("p50").map(|_| true), "{}", f("quantiles_exact"));
}

#[test]
fn exact_mode_matches_duckdb_oracle() {
    let data: Value = serde_json::from_str(ORACLE).expect("oracle json");
    let sets = data.as_array().expect("array");
    assert_eq!(sets.len(), 8);
    for d in sets {
        let col = col_of(d);
        let p = profile_of(&col, ProfileOptions::default());
        check_against_oracle(&p, d);
    }
}

/// Batch boundaries for `parts` pieces of `n` rows, uneven on purpose.
fn cuts(n: usize, parts: usize, seed: usize) -> Vec<std::ops::Range<usize>> {
    let mut pts: Vec<usize> = (1..parts).map(|i| (i * n / parts + (seed * 37 + i * 11) % 13).min(n)).collect();
    pts.push(0);
    pts.push(n);
    pts.sort_unstable();
    pts.windows(2).map(|w| w[0]..w[1]).collect()
}

/// Profiles `col` split into `parts` states (batches of 0, 1, 5, 300… rows inside each),
/// combined in `order` (0 = left fold, 1 = right fold, 2 = pairwise tree, 3 = into fresh).
fn split_profile(col: &Col, parts: usize, order: usize, seed: usize, opts: ProfileOptions) -> Profile {
    let mut states = Vec::new();
    for r in cuts(col.len(), parts, seed) {
        let mut s = ProfileState::with_options(opts);
        // sub-batches of varied size, as DataFusion's harness does
        let mut i = r.start;
        let sizes = [0usize, 1, 5, 300, 3000];
        let mut k = seed;
        while i < r.end {
            let len = sizes[k % sizes.len()].min(r.end - i);
            feed(&mut s, col, i..i + len);
            i += len;
            k += 1;
        }
        states.push(s);
    }
    if seed % 2 == 1 {
        states.reverse();
    }
    let fresh = || ProfileState::with_options(opts);
    let merged = match order {
        0 => {
            let mut acc = states[0].clone();
            for s in &states[1..] {
                acc.combine(s);
            }
            acc
        }
        1 => {
            let mut acc = states[states.len() - 1].clone();
            for s in states[..states.len() - 1].iter().rev() {
                acc.combine(s);
            }
            acc
        }
        2 => {
            let mut layer = states;
            while layer.len() > 1 {
                let mut next = Vec::new();
                for pair in layer.chunks(2) {
                    let mut a = pair[0].clone();
                    if let Some(b) = pair.get(1) {
                        a.combine(b);
                    }
                    next.push(a);
                }
                layer = next;
            }
            layer.remove(0)
        }
        _ => {
            let mut acc = fresh();
            for s in &states {
                let mut t = fresh();
                t.combine(s);
                acc.combine(&t);
            }
            acc
        }
    };
    merged.finalize()
}

#[test]
fn exact_mode_is_split_and_order_invariant_bit_for_bit() {
    let data: Value = serde_json::from_str(ORACLE).expect("oracle json");
    for d in data.as_array().unwrap() {
        let col = col_of(d);
        let whole = format!("{:?}", profile_of(&col, ProfileOptions::default()));
        for parts in 1..=6 {
            for order in 0..4 {
                for seed in 0..2 {
                    let p = split_profile(&col, parts, order, seed, ProfileOptions::default());
                    assert_eq!(format!("{p:?}"), whole, "{} parts={parts} order={order}", d["name"]);
                }
            }
        }
    }
}

#[test]
fn corner_values_are_split_invariant_too() {
    let mut rng = Rng(11);
    let specials = [f64::NAN, -0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, 1e308, -1e308, 5e-324];
    let dbl = Col::F64(
        (0..2000)
            .map(|i| match i % 9 {
                0 => None,
                1 | 2 => Some(specials[(rng.next() % 8) as usize]),
                _ => Some((rng.unit() - 0.3) * 1e3),
            })
            .collect(),
    );
    let big = "q".repeat(5000);
    let txt = Col::Text(
        (0..1500)
            .map(|i| match i % 6 {
                0 => None,
                1 => Some(String::new()),
                2 => Some(format!("{big}{}", i % 4)),
                _ => Some(format!(" Ab{} ", i % 50)),
            })
            .collect(),
    );
    let ints = Col::Dec((0..1000).map(|i| Some(i128::MAX - (i % 40) as i128)).collect(), 4);
    for col in [dbl, txt, ints] {
        let whole = format!("{:?}", profile_of(&col, ProfileOptions::default()));
        for parts in 1..=6 {
            for order in 0..4 {
                let p = split_profile(&col, parts, order, parts + order, ProfileOptions::default());
                assert_eq!(format!("{p:?}"), whole, "parts={parts} order={order}");
            }
        }
    }
}

#[test]
fn combine_never_mutates_its_source_and_finalize_is_repeatable() {
    let col = Col::I64((0..1000).map(|i| Some(i % 37)).collect());
    let mut a = ProfileState::default();
    feed(&mut a, &col, 0..500);
    let mut b = ProfileState::default();
    feed(&mut b, &col, 500..1000);
    let before = format!("{:?}", b.finalize());
    a.combine(&b);
    assert_eq!(format!("{:?}", b.finalize()), before);
    assert_eq!(format!("{:?}", a.finalize()), format!("{:?}", a.finalize()));
    assert_eq!(a.finalize().row_count, 1000);
}

#[test]
fn empty_and_all_null() {
    let p = ProfileState::default().finalize();
    assert_eq!(p.row_count, 0);
    assert_eq!(p.null_ratio, None);
    assert_eq!(p.distinct_count, 0);
    assert_eq!(p.min, None);
    assert!(p.top_values.is_empty());
    assert_eq!(p.entropy, None);
    assert_eq!(p.p50, None);

    let mut s = ProfileState::default();
    s.update_i64(&[0, 0, 0], Some(&[0]));
    s.add_nulls(2);
    let p = s.finalize();
    assert_eq!((p.row_count, p.null_count, p.null_ratio), (5, 5, Some(1.0)));
    assert_eq!(s.kind(), ValueKind::Unknown);
    assert_eq!((p.distinct_count, p.is_unique, p.cardinality_ratio), (0, None, None));
    assert_eq!((p.mean, p.histogram.clone(), p.sparkline.clone()), (None, None, None));
}

#[test]
fn one_row() {
    let mut s = ProfileState::default();
    s.update_f64(&[2.5], None);
    let p = s.finalize();
    assert_eq!(p.min.as_deref(), Some("2.5"));
    assert_eq!((p.mean, p.sum, p.p01, p.p99, p.mad), (Some(2.5), Some(2.5), Some(2.5), Some(2.5), Some(0.0)));
    // duckdb: stddev_samp/skewness/kurtosis of one row are NULL
    assert_eq!((p.stddev, p.variance, p.skewness, p.kurtosis, p.cv), (None, None, None, None, None));
    assert_eq!((p.is_unique, p.is_constant, p.entropy), (Some(true), Some(true), Some(0.0)));
    assert_eq!(p.histogram, Some(vec![(2.5, 2.5, 1)]));
    assert_eq!(p.modified_z_outlier_count, None);
    assert_eq!(p.top_values, vec![("2.5".to_string(), 1, 1.0)]);
}

#[test]
fn nan_inf_and_double_extremes() {
    let mut s = ProfileState::default();
    let v = [1.0, f64::NAN, -0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, 1e308, -1e308, 1e308, f64::NAN];
    s.update_f64(&v, None);
    let p = s.finalize();
    // duckdb: count(DISTINCT) treats -0.0 = 0.0 and NaN = NaN; max is NaN (NaN sorts last)
    assert_eq!(p.distinct_count, 7);
    assert_eq!((p.min.as_deref(), p.max.as_deref()), (Some("-inf"), Some("nan")));
    assert_eq!((p.nan_count, p.inf_count, p.zero_count, p.negative_count), (Some(2), Some(2), Some(2), Some(2)));
    // moments over the finite values 1, 0, 0, 1e308, -1e308, 1e308: no overflow in the mean
    assert_eq!(p.mean, Some(1e308 / 6.0 + 1.0 / 6.0));
    assert_eq!(p.sum, None, "1e308 + 1e308 overflows: reported as NULL");
    // quantiles over the 8 non-NaN values, sorted: -inf, -1e308, 0, 0, 1, 1e308, 1e308, inf
    // duckdb 2.0.1 quantile_cont over the same 8 values: p01 = -inf, p99 = inf
    assert_eq!(p.p50, Some(0.5));
    assert_eq!((p.p01, p.p99), (Some(f64::NEG_INFINITY), Some(f64::INFINITY)));
    let h = p.histogram.expect("histogram");
    assert_eq!((h[0].0, h[19].1), (-1e308, 1e308));
    assert_eq!(h.iter().map(|b| b.2).sum::<u64>(), 6);
    assert_eq!(
        p.entropy.map(|e| (e * 1e12).round()),
        Some((stats::entropy([1u64, 2, 2, 1, 1, 2, 1].into_iter(), 10) * 1e12).round())
    );
}

#[test]
fn i128_extremes_are_exact() {
    let mut s = ProfileState::default();
    s.update_i128(&[i128::MIN, i128::MAX, i128::MAX, 0], None);
    let p = s.finalize();
    assert_eq!(p.min.as_deref(), Some("-170141183460469231731687303715884105728"));
    assert_eq!(p.max.as_deref(), Some("170141183460469231731687303715884105727"));
    assert_eq!(p.distinct_count, 3);
    assert_eq!(p.top_values[0], ("170141183460469231731687303715884105727".to_string(), 2, 0.5));
    assert_eq!(p.sum, Some(i128::MAX as f64), "the i128 sum overflows (2·MAX): falls back to a compensated double sum");
    // two values i64::MAX and i64::MAX - 1 stay distinct although equal as f64
    let mut s = ProfileState::default();
    s.update_i64(&[i64::MAX, i64::MAX - 1], None);
    let p = s.finalize();
    assert_eq!(p.distinct_count, 2);
    assert_eq!(p.max.as_deref(), Some("9223372036854775807"));
    assert_eq!(p.is_unique, Some(true));
}

#[test]
fn strings_empty_blank_long_and_invalid_utf8() {
    let mut s = ProfileState::default();
    let big = "x".repeat(1 << 20);
    let big2 = format!("{}y", "x".repeat((1 << 20) - 1));
    for t in ["", "", "  ", " a", "b", "Ünï"] {
        s.add_text(t.as_bytes());
    }
    s.add_text(big.as_bytes());
    s.add_text(big2.as_bytes());
    s.add_text(big.as_bytes());
    s.add_text(&[0xff, 0xfe, b'a']);
    s.add_nulls(1);
    let p = s.finalize();
    assert_eq!((p.row_count, p.null_count), (11, 1));
    assert_eq!(p.distinct_count, 8, "long strings keyed by prefix + 128-bit hash stay distinct");
    assert_eq!(
        (p.empty_count, p.blank_count, p.untrimmed_count, p.non_ascii_count),
        (Some(2), Some(1), Some(2), Some(2))
    );
    assert_eq!((p.min_length, p.max_length), (Some(0), Some(1 << 20)));
    assert_eq!(p.min.as_deref(), Some(""));
    assert_eq!(p.max.as_deref(), Some("\u{fffd}\u{fffd}a"));
    assert_eq!(p.top_values[0].1, 2);
    assert!(p.top_values.iter().any(|t| t.0.ends_with('…') && t.0.chars().count() == 241 && t.1 == 2));
    assert!(s.state_bytes() < 4 << 20, "keys are capped: {}", s.state_bytes());
    assert_eq!((p.mean, p.histogram.clone()), (None, None));
}

#[test]
fn blobs_other_and_booleans() {
    let mut s = ProfileState::default();
    s.add_blob(&[0, 0x61, 0xff]);
    s.add_blob(b"");
    let p = s.finalize();
    assert_eq!((p.min.as_deref(), p.max.as_deref()), (Some(""), Some("\\x00a\\xFF")));
    assert_eq!((p.min_length, p.max_length, p.empty_count), (Some(0), Some(3), None));

    let mut s = ProfileState::default();
    s.add_other("[1, 2]", Some(2));
    s.add_other("[1, 2]", Some(2));
    s.add_other("[]", Some(0));
    let p = s.finalize();
    assert_eq!((p.distinct_count, p.min_length, p.max_length), (2, Some(0), Some(2)));
    assert_eq!(p.top_values[0], ("[1, 2]".to_string(), 2, 2.0 / 3.0));
    assert_eq!((p.min, p.p50), (None, None));

    let mut s = ProfileState::default();
    s.update_bool(&[true, false, true, true], Some(&[0b0111]));
    let p = s.finalize();
    assert_eq!((p.min.as_deref(), p.max.as_deref()), (Some("false"), Some("true")));
    assert_eq!(p.top_values[0], ("true".to_string(), 2, 0.5));
    assert_eq!((p.null_count, p.mean, p.p50), (1, None, None));
}

#[test]
fn mixed_kinds_are_reported_not_crashed() {
    let mut s = ProfileState::default();
    s.update_i64(&[1, 2], None);
    s.add_text(b"x");
    assert!(s.check().is_err());
    assert_eq!(s.finalize().distinct_count, 2);
    let mut t = ProfileState::default();
    t.update_f64(&[1.0], None);
    let mut u = ProfileState::default();
    u.update_i64(&[1], None);
    u.combine(&t);
    assert!(u.check().is_err());
    assert_eq!(u.finalize().row_count, 2);
}

#[test]
fn float32_renders_in_single_precision() {
    let mut s = ProfileState::default();
    s.update_f32(&[0.1, 0.1, 123456.7, f32::NAN], Some(&[0b0111]));
    let p = s.finalize();
    // python duckdb: CAST(0.1::FLOAT AS VARCHAR) = '0.1', 123456.7::FLOAT → '123456.7'
    assert_eq!((p.min.as_deref(), p.max.as_deref()), (Some("0.1"), Some("123456.7")));
    assert_eq!(p.top_values[0].0, "0.1");
    assert_eq!(s.kind(), ValueKind::Float32);
    assert_eq!((p.nan_count, p.null_count), (Some(0), 1));
    assert_eq!(p.p50, Some(f64::from(0.1f32)));
}

#[test]
fn ties_in_top_values_break_by_rendering() {
    let mut s = ProfileState::with_options(ProfileOptions { top_k: 3, ..Default::default() });
    s.update_i64(&[9, 10, 100, 2, 9, 10, 100, 2], None);
    let p = s.finalize();
    let names: Vec<&str> = p.top_values.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(names, ["10", "100", "2"], "string order, not numeric");
}

/// xorshift64* for reproducible test data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "1M-row accuracy test: run with --release")]
fn sketch_mode_rank_error_on_a_million_values() {
    let n = 1_000_000usize;
    let mut rng = Rng(42);
    // log-normal-ish with heavy duplicates in a corner: exercises weighted compaction
    let data: Vec<f64> =
        (0..n).map(|i| if i % 10 == 0 { 3.0 } else { (rng.unit() * 6.0 - 1.0).exp() * 100.0 }).collect();
    let opts = ProfileOptions { exact_limit: 10_000, ..Default::default() };
    // 4 states as 4 threads, batches of 2048, combined as DuckDB would.
    let mut states: Vec<ProfileState> = (0..4).map(|_| ProfileState::with_options(opts)).collect();
    for (b, chunk) in data.chunks(2048).enumerate() {
        states[b % 4].update_f64(chunk, None);
    }
    let mut acc = ProfileState::with_options(opts);
    for s in &states {
        acc.combine(s);
    }
    let p = acc.finalize();
    assert_eq!((p.quantiles_exact, p.distinct_is_exact), (Some(false), false));
    let mut sorted = data.clone();
    sorted.sort_unstable_by(f64::total_cmp);
    let mut worst = 0.0f64;
    for (q, got) in
        [(0.01, p.p01), (0.05, p.p05), (0.25, p.p25), (0.5, p.p50), (0.75, p.p75), (0.95, p.p95), (0.99, p.p99)]
    {
        let g = got.expect("quantile");
        // rank interval of g in the true data vs target rank q·n
        let lo = sorted.partition_point(|&x| x < g) as f64;
        let hi = sorted.partition_point(|&x| x <= g) as f64;
        let target = q * (n - 1) as f64;
        let err = if target < lo {
            lo - target
        } else if target > hi {
            target - hi
        } else {
            0.0
        } / n as f64;
        worst = worst.max(err);
    }
    assert!(worst <= 0.005, "rank error {worst}");
    eprintln!("sketch-mode worst normalised rank error over 7 quantiles (log-linear buckets): {worst:.5}");
    // exact parts stay exact in sketch mode
    assert_eq!(p.row_count, n as u64);
    assert_eq!(p.min.as_deref().map(str::parse::<f64>).and_then(|r| r.ok()), Some(sorted[0]));
    assert_eq!(p.zero_count, Some(0));
    let true_distinct = {
        let mut d: Vec<u64> = data.iter().map(|x| x.to_bits()).collect();
        d.sort_unstable();
        d.dedup();
        d.len() as f64
    };
    let est = p.distinct_count as f64;
    assert!((est - true_distinct).abs() / true_distinct < 0.03, "distinct {est} vs {true_distinct}");
    assert_eq!(p.top_values[0].0, "3.0");
    // a Count-Min upper bound, over by at most 2n/4096 with probability ≥ 1 − 2^-8
    assert!(p.top_values[0].1 >= 100_000 && p.top_values[0].1 <= 100_000 + 2 * n as u64 / 4096);
    let mean = data.iter().sum::<f64>() / n as f64;
    assert!((p.mean.unwrap() - mean).abs() < 1e-9 * mean);
    eprintln!("sketch-mode f64 state: {} KiB", acc.state_bytes() >> 10);
    assert!(acc.state_bytes() < 1 << 20, "sketch state {} bytes", acc.state_bytes());
    // MAD and outliers estimated from the sketch: close to exact
    let exact = profile_of(
        &Col::F64(data.iter().map(|&x| Some(x)).collect()),
        ProfileOptions { exact_limit: 2_000_000, ..Default::default() },
    );
    assert_eq!(exact.quantiles_exact, Some(true));
    let rel = |a: Option<f64>, b: Option<f64>| (a.unwrap() - b.unwrap()).abs() / b.unwrap().abs();
    assert!(rel(p.mad, exact.mad) < 0.02, "mad {:?} vs {:?}", p.mad, exact.mad);
    assert!(rel(p.stddev, exact.stddev) < 1e-9);
    assert!(rel(p.kurtosis, exact.kurtosis) < 1e-6);
    let io = |x: Option<u64>| x.unwrap() as f64;
    assert!((io(p.iqr_outlier_count) - io(exact.iqr_outlier_count)).abs() <= 0.005 * n as f64);
    assert!((p.entropy.unwrap() - exact.entropy.unwrap()).abs() < 0.1);
}

#[test]
fn sketch_switch_is_mergeable_and_keeps_exact_fields() {
    // 30 000 distinct ints, budget 10 000: every split ends in sketch mode with the same
    // exact counters; approximate fields stay within their bounds.
    let col =
        Col::I64((0..60_000i64).map(|i| if i % 9 == 0 { None } else { Some((i * 7919) % 30_000 - 5000) }).collect());
    let opts = ProfileOptions { exact_limit: 10_000, ..Default::default() };
    let base = profile_of(&col, opts);
    assert!(!base.distinct_is_exact);
    for parts in 1..=6 {
        for order in 0..4 {
            let p = split_profile(&col, parts, order, parts, opts);
            assert_eq!((p.row_count, p.null_count, p.distinct_is_exact), (base.row_count, base.null_count, false));
            assert_eq!(
                (p.min.clone(), p.max.clone(), p.sum, p.zero_count, p.negative_count),
                (base.min.clone(), base.max.clone(), base.sum, base.zero_count, base.negative_count)
            );
            assert_eq!(p.benford.as_ref().map(|b| b.digit_freq), base.benford.as_ref().map(|b| b.digit_freq));
            let d = p.distinct_count as f64;
            assert!((d - 30_000.0).abs() < 900.0, "distinct {d}");
            assert!((p.p50.unwrap() - base.p50.unwrap()).abs() < 0.01 * 30_000.0);
            assert!((p.stddev.unwrap() - base.stddev.unwrap()).abs() < 1e-9 * base.stddev.unwrap());
        }
    }
}

#[test]
fn text_sketch_mode_keeps_patterns_and_lengths() {
    let opts = ProfileOptions { exact_limit: 1000, ..Default::default() };
    let mut s = ProfileState::with_options(opts);
    for i in 0..20_000 {
        let t = if i % 4 == 0 { "N/A".to_string() } else { format!("ID-{i:05}") };
        s.add_text(t.as_bytes());
    }
    let p = s.finalize();
    assert!(!p.distinct_is_exact);
    assert_eq!(p.top_values[0].0, "N/A");
    assert_eq!((p.min_length, p.max_length), (Some(3), Some(8)));
    let pats = p.top_patterns.expect("patterns");
    assert_eq!(pats[0].0, "A-9");
    assert_eq!(pats[0].1, 15_000, "fewer than 256 patterns: counted exactly");
    assert_eq!(pats[1], ("A/A".to_string(), pats[1].1));
    assert_eq!((p.min.as_deref(), p.max.as_deref()), (Some("ID-00001"), Some("N/A")));
}

/// Throughput of the batch paths (not a timed test: run with
/// `cargo test --release -- --ignored --nocapture throughput`).
#[test]
#[ignore]
fn throughput() {
    let n = 10_000_000usize;
    let mut rng = Rng(7);
    let low: Vec<i64> = (0..n).map(|_| (rng.next() % 1000) as i64).collect();
    let high: Vec<i64> = (0..n).map(|_| (rng.next() >> 20) as i64).collect();
    let dbl: Vec<f64> = (0..n).map(|_| rng.unit() * 1e6).collect();
    let mask: Vec<u64> =
        (0..n.div_ceil(64)).map(|i| if i % 7 == 0 { 0xfff0_ffff_ffff_ffff } else { u64::MAX }).collect();
    let run = |name: &str, f: &dyn Fn(&mut ProfileState)| {
        let t = std::time::Instant::now();
        let mut s = ProfileState::default();
        f(&mut s);
        let upd = t.elapsed();
        let p = s.finalize();
        let all = t.elapsed();
        eprintln!(
            "{name:<28} update {:>6.1} ns/row, total {:>7.1} ms, distinct {} exact {} state {} KiB",
            upd.as_nanos() as f64 / n as f64,
            all.as_secs_f64() * 1e3,
            p.distinct_count,
            p.distinct_is_exact,
            s.state_bytes() >> 10
        );
    };
    run("i64 1000 distinct", &|s| low.chunks(2048).for_each(|c| s.update_i64(c, None)));
    run("i64 1000 distinct, nulls", &|s| {
        low.chunks(2048)
            .enumerate()
            .for_each(|(i, c)| s.update_i64(c, Some(&mask[i * 32..(i * 32 + 32).min(mask.len())])))
    });
    run("i64 ~10M distinct (sketch)", &|s| high.chunks(2048).for_each(|c| s.update_i64(c, None)));
    run("f64 ~10M distinct (sketch)", &|s| dbl.chunks(2048).for_each(|c| s.update_f64(c, None)));
    for (name, st) in [
        ("exact i64, 100k distinct", {
            let mut s = ProfileState::default();
            s.update_i64(&(0..100_000).collect::<Vec<i64>>(), None);
            s
        }),
        ("exact text, 100k distinct", {
            let mut s = ProfileState::default();
            (0..100_000).for_each(|i| s.add_text(format!("customer-{i:08}").as_bytes()));
            s
        }),
    ] {
        eprintln!("{name:<28} state {} KiB", st.state_bytes() >> 10);
    }
    let words: Vec<String> = (0..n / 10).map(|i| format!("w{}", i % 5000)).collect();
    let t = std::time::Instant::now();
    let mut s = ProfileState::default();
    for w in &words {
        s.add_text(w.as_bytes());
    }
    let p = s.finalize();
    eprintln!(
        "text 1M rows, 5000 distinct  {:>6.1} ns/row ({} distinct)",
        t.elapsed().as_nanos() as f64 / words.len() as f64,
        p.distinct_count
    );
}

// ---------------------------------------------------------------------------------------
// Split invariance of sketch mode, serialisation, accuracy bounds

/// Every field of a profile, floats as their bits (so equal strings = bit-identical).
fn fingerprint(p: &Profile) -> Vec<String> {
    let b = |x: Option<f64>| x.map(|v| format!("{:016x}", v.to_bits()));
    vec![
        format!("{} {} {:?} {} {}", p.row_count, p.null_count, b(p.null_ratio), p.distinct_count, p.distinct_is_exact),
        format!("{:?} {:?} {:?} {:?} {:?}", b(p.cardinality_ratio), p.is_unique, p.is_constant, p.min, p.max),
        format!("{:?} {:?}", b(p.min_value), b(p.max_value)),
        format!("{:?} {:?} {:?} {:?}", b(p.sum), b(p.mean), b(p.stddev), b(p.variance)),
        format!("{:?} {:?} {:?} {:?}", b(p.skewness), b(p.kurtosis), b(p.cv), b(p.mad)),
        format!("{:?} {:?} {:?} {:?}", p.zero_count, p.negative_count, p.nan_count, p.inf_count),
        format!("{:?}", [p.p01, p.p05, p.p25, p.p50, p.p75, p.p95, p.p99].map(b)),
        format!("{:?} {:?} {:?}", p.quantiles_exact, p.iqr_outlier_count, p.modified_z_outlier_count),
        format!(
            "{:?}",
            p.histogram.as_ref().map(|h| h.iter().map(|x| (b(Some(x.0)), b(Some(x.1)), x.2)).collect::<Vec<_>>())
        ),
        format!("{:?}", p.top_values.iter().map(|t| (&t.0, t.1, b(Some(t.2)))).collect::<Vec<_>>()),
        format!("{:?} {:?} {:?} {:?}", b(p.entropy), p.min_length, b(p.avg_length), p.max_length),
        format!("{:?} {:?} {:?} {:?}", p.empty_count, p.blank_count, p.untrimmed_count, p.non_ascii_count),
        format!("{:?} {:?}", p.top_patterns, p.sparkline),
        format!(
            "{:?}",
            p.benford.as_ref().map(|x| (x.digit_freq.map(|f| f.to_bits()), x.chi2.to_bits(), x.p_value.to_bits()))
        ),
    ]
}

/// Standard normal by Box–Muller.
fn normal(rng: &mut Rng) -> f64 {
    let u1 = rng.unit().max(1e-300);
    let u2 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Zipf(s) ranks 1..=m by inverse CDF.
fn zipf(rng: &mut Rng, n: usize, m: usize, s: f64) -> Vec<i64> {
    let mut cum = Vec::with_capacity(m);
    let mut acc = 0.0;
    for k in 1..=m {
        acc += (k as f64).powf(-s);
        cum.push(acc);
    }
    (0..n).map(|_| cum.partition_point(|&c| c < rng.unit() * acc) as i64 + 1).collect()
}

/// The columns of the invariance and accuracy tests (200 000 rows each).
fn invariance_columns() -> Vec<(&'static str, Col)> {
    let n = 200_000;
    let mut rng = Rng(2024);
    let uniform = Col::I64((0..n).map(|_| Some((rng.next() % 1_000_000) as i64 + 1)).collect());
    let lognormal = Col::F64((0..n).map(|_| Some((2.0 * normal(&mut rng)).exp())).collect());
    let pareto = Col::F64((0..n).map(|_| Some(rng.unit().max(1e-300).powf(-1.0 / 1.2))).collect());
    let specials = [f64::NAN, -0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, 1e308, -1e308, 5e-324, -2.5];
    let mixed = Col::F64(
        (0..n)
            .map(|i| match i % 11 {
                0 => None,
                1 | 2 => Some(specials[(rng.next() % 9) as usize]),
                3 => Some(-(rng.unit() * 1e6)),
                _ => Some(normal(&mut rng) * 1e3),
            })
            .collect(),
    );
    let zipf_col = Col::I64(zipf(&mut rng, n, 100_000, 1.2).into_iter().map(Some).collect());
    let shapes = ["ID-", "ab", "Z9", "x_y", "Q ", "é1", "-", "7"];
    let text = Col::Text(
        (0..n)
            .map(|i| match rng.next() % 20 {
                0 | 1 => Some("N/A".to_string()),
                2 => Some("unknown".to_string()),
                3 => None,
                4 => Some(String::new()),
                5..=10 => Some(format!("ID-{:06}", rng.next() % 500_000)),
                _ => {
                    let parts = 1 + rng.next() % 6;
                    let mut s = String::new();
                    for _ in 0..parts {
                        s.push_str(shapes[(rng.next() % 8) as usize]);
                        s.push_str(&(i % 97).to_string());
                    }
                    Some(s)
                }
            })
            .collect(),
    );
    let base = 1_700_000_000_000_000i64;
    let ts = Col::Tmp(
        (0..n)
            .map(|i| match i % 13 {
                0 => None,
                1 => Some(base),
                _ => Some(base + (rng.next() % 86_400_000) as i64 * 1000),
            })
            .collect(),
        TemporalUnit::TimestampUs,
    );
    vec![
        ("uniform", uniform),
        ("lognormal", lognormal),
        ("pareto", pareto),
        ("mixed doubles", mixed),
        ("zipf", zipf_col),
        ("text", text),
        ("timestamps", ts),
    ]
}

/// Rows of `col` at `idx`, as a new column.
fn pick(col: &Col, idx: &[usize]) -> Col {
    fn g<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
        idx.iter().map(|&i| v[i].clone()).collect()
    }
    match col {
        Col::I64(v) => Col::I64(g(v, idx)),
        Col::F64(v) => Col::F64(g(v, idx)),
        Col::Dec(v, s) => Col::Dec(g(v, idx), *s),
        Col::Tmp(v, u) => Col::Tmp(g(v, idx), *u),
        Col::Bool(v) => Col::Bool(g(v, idx)),
        Col::Text(v) => Col::Text(g(v, idx)),
    }
}

/// Serialises and reads back.
fn round_trip(s: &ProfileState) -> ProfileState {
    let mut body = Vec::new();
    s.write_body(&mut body);
    let t = ProfileState::read_body(&body).expect("round trip");
    let mut again = Vec::new();
    t.write_body(&mut again);
    assert_eq!(body, again, "the body of a read state is the same bytes");
    t
}

/// Profiles `col` through `parts` random partitions fed in `chunk`-row updates, each
/// serialised and read back, merged in a random tree order.
fn partitioned(col: &Col, parts: usize, chunk: usize, seed: u64, opts: ProfileOptions) -> ProfileState {
    let mut rng = Rng(seed);
    let mut idx: Vec<Vec<usize>> = vec![Vec::new(); parts];
    for i in 0..col.len() {
        idx[(rng.next() % parts as u64) as usize].push(i);
    }
    let mut pool: Vec<ProfileState> = idx
        .iter()
        .map(|rows| {
            let c = pick(col, rows);
            let mut s = ProfileState::with_options(opts);
            let mut i = 0;
            while i < c.len() {
                let e = (i + chunk).min(c.len());
                feed(&mut s, &c, i..e);
                i = e;
            }
            round_trip(&s)
        })
        .collect();
    while pool.len() > 1 {
        let i = (rng.next() % pool.len() as u64) as usize;
        let a = pool.swap_remove(i);
        let j = (rng.next() % pool.len() as u64) as usize;
        let b = pool.swap_remove(j);
        let merged = match rng.next() % 3 {
            0 => {
                let mut t = ProfileState::with_options(opts);
                t.combine(&b);
                t.combine(&a);
                t
            }
            _ => {
                let mut a = a;
                a.combine(&b);
                a
            }
        };
        pool.push(if rng.next() % 2 == 0 { round_trip(&merged) } else { merged });
    }
    pool.remove(0)
}

#[test]
#[cfg_attr(debug_assertions, ignore = "200k-row columns: run with --release")]
fn profiles_are_split_invariant_bit_for_bit_in_sketch_and_exact_mode() {
    let cols = invariance_columns();
    for (mode, opts) in [
        ("sketch", ProfileOptions { exact_limit: 100, ..Default::default() }),
        ("exact", ProfileOptions { exact_limit: 1_000_000, ..Default::default() }),
    ] {
        for (name, col) in &cols {
            let mut whole = ProfileState::with_options(opts);
            feed(&mut whole, col, 0..col.len());
            let want = fingerprint(&whole.finalize());
            assert_eq!(whole.finalize().distinct_is_exact, mode == "exact", "{name}");
            for (k, (parts, chunk)) in [(1, 1), (3, 7), (17, 2048), (3, 2048), (17, 7)].into_iter().enumerate() {
                let s = partitioned(col, parts, chunk, 100 + k as u64, opts);
                let got = fingerprint(&s.finalize());
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g, w, "{mode} {name}: {parts} parts, {chunk}-row updates");
                }
            }
        }
    }
}

/// `quantile_cont` of sorted values.
fn exact_quantile(sorted: &[f64], q: f64) -> (f64, f64, f64) {
    let rn = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (sorted[rn.floor() as usize], sorted[rn.ceil() as usize]);
    let d = rn - rn.floor();
    let v = if lo == hi || d == 0.0 { lo } else { lo * (1.0 - d) + hi * d };
    (v, lo, hi)
}

#[test]
#[cfg_attr(debug_assertions, ignore = "200k-row columns: run with --release")]
fn sketch_mode_stays_within_its_documented_bounds() {
    let opts = ProfileOptions { exact_limit: 100, ..Default::default() };
    for (name, col) in invariance_columns() {
        let mut s = ProfileState::with_options(opts);
        feed(&mut s, &col, 0..col.len());
        let p = s.finalize();
        assert!(!p.distinct_is_exact, "{name}");
        // numeric values as doubles, NaN and NULL dropped
        let nums: Option<Vec<f64>> = match &col {
            Col::I64(v) => Some(v.iter().flatten().map(|&x| x as f64).collect()),
            Col::F64(v) => Some(v.iter().flatten().copied().filter(|x| !x.is_nan()).collect()),
            Col::Tmp(v, _) => Some(v.iter().flatten().map(|&x| x as f64 / 1e6).collect()),
            _ => None,
        };
        let keys: Vec<String> = match &col {
            Col::Text(v) => v.iter().flatten().cloned().collect(),
            Col::I64(v) => v.iter().flatten().map(|x| x.to_string()).collect(),
            Col::F64(v) => v.iter().flatten().map(|&x| render::f64_str(if x == 0.0 { 0.0 } else { x })).collect(),
            Col::Tmp(v, u) => v.iter().flatten().map(|&x| render::temporal_str(x, *u)).collect(),
            _ => unreachable!(),
        };
        let mut true_counts: std::collections::HashMap<&str, u64> = Default::default();
        keys.iter().for_each(|k| *true_counts.entry(k).or_insert(0) += 1);
        let distinct = true_counts.len() as f64;
        assert!((p.distinct_count as f64 - distinct).abs() <= 0.03 * distinct, "{name}: distinct {}", p.distinct_count);
        // top values: Count-Min upper bounds, over by at most 2n/W (W = 4096) here
        let n = keys.len() as u64;
        for (v, c, _) in &p.top_values {
            let t = true_counts[v.as_str()];
            assert!(*c >= t && *c <= t + 2 * n / 4096, "{name}: {v} reported {c}, true {t}");
            assert!(t * 1025 > n, "{name}: {v} is above n/(cap+1)");
        }
        let mut by_count: Vec<(&str, u64)> = true_counts.iter().map(|(k, &c)| (*k, c)).collect();
        by_count.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let heavy: Vec<&str> = by_count.iter().filter(|x| x.1 * 1025 >= 4 * n).take(10).map(|x| x.0).collect();
        for h in &heavy {
            assert!(p.top_values.iter().any(|t| t.0 == *h), "{name}: heavy value {h} missing");
        }
        if name == "zipf" {
            assert_eq!(heavy.len(), 10);
            let got: Vec<&str> = p.top_values.iter().map(|t| t.0.as_str()).collect();
            assert_eq!(got, heavy, "zipf top 10 in order");
        }
        let Some(mut sorted) = nums else { continue };
        sorted.sort_unstable_by(f64::total_cmp);
        let res = s.quantile_resolution().expect("buckets within one binade");
        assert!(res <= 1.0 / 64.0, "{name}: resolution {res}");
        eprintln!("{name}: relative quantile resolution {res:e}");
        for (q, got) in
            [(0.01, p.p01), (0.05, p.p05), (0.25, p.p25), (0.5, p.p50), (0.75, p.p75), (0.95, p.p95), (0.99, p.p99)]
        {
            let (want, lo, hi) = exact_quantile(&sorted, q);
            let g = got.expect("quantile");
            if g == want {
                continue;
            }
            let bound = res * lo.abs().max(hi.abs()) + 1e-300;
            assert!((g - want).abs() <= bound, "{name} q{q}: {g} vs exact {want} (bound {bound})");
        }
    }
}

#[test]
fn sketch_states_stay_under_one_mebibyte() {
    let opts = ProfileOptions { exact_limit: 100, ..Default::default() };
    let mut rng = Rng(9);
    let mut ints = ProfileState::with_options(opts);
    let mut dbl = ProfileState::with_options(opts);
    for _ in 0..100 {
        let v: Vec<i64> = (0..2048).map(|_| rng.next() as i64).collect();
        ints.update_i64(&v, None);
        let d: Vec<f64> = v.iter().map(|&x| f64::from_bits(x as u64 >> 1) * if x < 0 { -1.0 } else { 1.0 }).collect();
        dbl.update_f64(&d, None);
    }
    // worst case for text: every key 257 bytes, every value its own pattern
    let mut txt = ProfileState::with_options(opts);
    let classes = ["a", "A", "9", "-", " ", "_", "é", "."];
    for i in 0..40_000u64 {
        let mut t = String::new();
        let mut x = hash::fmix64(i);
        while t.len() < 300 {
            t.push_str(classes[(x % 8) as usize]);
            x = hash::fmix64(x);
        }
        txt.add_text(t.as_bytes());
    }
    let mut merged = txt.clone();
    merged.combine(&round_trip(&txt));
    for (name, s) in [("ints", &ints), ("doubles", &dbl), ("text", &txt), ("text merged", &merged)] {
        let mut body = Vec::new();
        s.write_body(&mut body);
        eprintln!("{name}: state_bytes {} KiB, body {} KiB", s.state_bytes() >> 10, body.len() >> 10);
        assert!(!s.finalize().distinct_is_exact);
        assert!(s.state_bytes() <= 1 << 20, "{name}: {}", s.state_bytes());
        assert!(body.len() <= 1 << 20, "{name}: body {}", body.len());
    }
}

/// States of every kind, exact and sketch mode.
fn sample_states() -> Vec<ProfileState> {
    let small = ProfileOptions { exact_limit: 50, ..Default::default() };
    let mut out = Vec::new();
    let mut rng = Rng(77);
    for opts in [ProfileOptions::default(), small] {
        let mut s = ProfileState::with_options(opts);
        s.update_i64(&(0..300).map(|i| i % 120 - 7).collect::<Vec<_>>(), None);
        s.add_nulls(3);
        out.push(s);
        let mut s = ProfileState::with_options(opts);
        s.update_f64(
            &(0..300).map(|_| normal(&mut rng)).chain([f64::NAN, f64::INFINITY, -0.0]).collect::<Vec<_>>(),
            None,
        );
        out.push(s);
        let mut s = ProfileState::with_options(opts);
        (0..200).for_each(|i| s.add_text(format!("k{}-{}", i % 70, "x".repeat(i % 5)).as_bytes()));
        s.add_text("y".repeat(400).as_bytes());
        out.push(s);
        let mut s = ProfileState::with_options(opts);
        s.update_decimal(&(0..100).map(|i| i128::from(i) * 12_345).collect::<Vec<_>>(), 3, None);
        out.push(s);
        let mut s = ProfileState::with_options(opts);
        s.update_temporal(&(0..100).map(|i| i * 86_400).collect::<Vec<_>>(), TemporalUnit::TimestampSec, None);
        out.push(s);
        let mut s = ProfileState::with_options(opts);
        s.add_blob(b"\x00\x01");
        s.add_other("[1]", Some(1));
        s.update_bool(&[true], None);
        out.push(s);
    }
    out.push(ProfileState::default());
    out
}

#[test]
fn bodies_round_trip_to_the_same_profile() {
    for s in sample_states() {
        let t = round_trip(&s);
        assert_eq!(fingerprint(&t.finalize()), fingerprint(&s.finalize()));
        assert_eq!(t.options(), s.options());
        assert_eq!(t.check().is_err(), s.check().is_err());
        let (mut a, mut b) = (s.clone(), t.clone());
        a.combine(&s);
        b.combine(&t);
        assert_eq!(fingerprint(&a.finalize()), fingerprint(&b.finalize()));
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "thousands of reads of sketch bodies: run with --release")]
fn corrupt_bodies_are_errors_never_panics() {
    let mut rng = Rng(5);
    let mut oks = 0;
    for s in sample_states() {
        let mut body = Vec::new();
        s.write_body(&mut body);
        let sketch = !s.finalize().distinct_is_exact && s.kind() != ValueKind::Unknown;
        for cut in 0..body.len() {
            // every truncation of exact bodies; of the 300 KiB sketch bodies, every cut
            // near the start and the end and every 61st in between
            if sketch && cut > 4096 && cut + 70_000 < body.len() && cut % 61 != 0 {
                continue;
            }
            assert!(ProfileState::read_body(&body[..cut]).is_err(), "cut at {cut} of {}", body.len());
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(ProfileState::read_body(&longer).is_err());
        for _ in 0..1500 {
            let mut b = body.clone();
            let flips = 1 + rng.next() % 3;
            for _ in 0..flips {
                // half the flips in the first 512 bytes (options, counters, tags)
                let i = if rng.next() % 2 == 0 {
                    rng.next() as usize % body.len().min(512)
                } else {
                    rng.next() as usize % body.len()
                };
                b[i] ^= 1 << (rng.next() % 8);
            }
            if let Ok(t) = ProfileState::read_body(&b) {
                oks += 1;
                let _ = t.finalize();
                let mut fresh = ProfileState::default();
                fresh.combine(&t);
                let _ = fresh.finalize();
            }
        }
    }
    eprintln!("{oks} flipped bodies were valid states");
}

/// State bytes of `col` cut into `parts` contiguous states fed `chunk` rows at a time,
/// folding on `pool` when given: each part's bytes (written while folds may be in
/// flight), then the left fold of the parts.
fn pooled_bytes(
    col: &Col,
    parts: usize,
    chunk: usize,
    opts: ProfileOptions,
    pool: Option<&std::sync::Arc<rayon::ThreadPool>>,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut states = Vec::new();
    for r in cuts(col.len(), parts, chunk) {
        let mut s = ProfileState::with_options(opts);
        s.set_pool(pool.cloned());
        let mut i = r.start;
        while i < r.end {
            let e = (i + chunk).min(r.end);
            feed(&mut s, col, i..e);
            i = e;
        }
        let mut body = Vec::new();
        s.write_body(&mut body);
        out.push(body);
        states.push(s);
    }
    let mut acc = ProfileState::with_options(opts);
    for s in &states {
        acc.combine(s);
    }
    let mut body = Vec::new();
    acc.write_body(&mut body);
    acc.settle();
    let mut again = Vec::new();
    acc.write_body(&mut again);
    assert_eq!(again, body);
    out.push(body);
    out
}

#[test]
#[cfg_attr(debug_assertions, ignore = "200k-row columns: run with --release")]
fn folding_on_a_pool_gives_the_same_state_bytes() {
    let pool = std::sync::Arc::new(rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool"));
    let cols = invariance_columns();
    for opts in [ProfileOptions { exact_limit: 100, ..Default::default() }, ProfileOptions::default()] {
        for (name, col) in &cols {
            for (parts, chunk) in [(1, 2048), (3, 7), (4, 2048), (2, 50_000)] {
                let here = pooled_bytes(col, parts, chunk, opts, None);
                let pooled = pooled_bytes(col, parts, chunk, opts, Some(&pool));
                assert_eq!(here, pooled, "{name}: {parts} parts, {chunk}-row updates, {opts:?}");
            }
            // a state dropped with a fold in flight neither crashes nor leaks into others
            let mut s = ProfileState::with_options(opts);
            s.set_pool(Some(pool.clone()));
            feed(&mut s, col, 0..col.len());
            drop(s);
        }
    }
}

#[test]
fn key_sorts_agree_with_comparison_sorts() {
    let mut rng = Rng(5);
    for len in [0usize, 1, 63, 64, 65, 1000, 8192, 16_384] {
        for shape in 0..5 {
            let ints: Vec<i128> = (0..len)
                .map(|i| match shape {
                    0 => (rng.next() % 1000) as i128,
                    1 => rng.next() as i64 as i128,
                    2 => i128::from(i as i64 - 500),
                    3 => {
                        if i % 7 == 0 {
                            i128::MAX - i as i128
                        } else {
                            -(rng.next() as i128)
                        }
                    }
                    _ => i128::from(i64::MIN) + (rng.next() % 3) as i128,
                })
                .collect();
            let mut a = ints.clone();
            <i128 as Key>::sort_keys(&mut a);
            let mut b = ints;
            b.sort_unstable();
            assert_eq!(a, b, "i128 len {len} shape {shape}");
            let floats: Vec<u64> = (0..len)
                .map(|i| match shape {
                    0 => float_key((rng.next() % 1000) as f64 - 500.0),
                    1 => float_key(f64::from_bits(rng.next())),
                    2 => float_key(i as f64 * 0.1),
                    3 => float_key([f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 0.0, -1e-300, 1e300][i % 6]),
                    _ => float_key(-(rng.next() as f64)),
                })
                .collect();
            let mut a = floats.clone();
            <u64 as Key>::sort_keys(&mut a);
            let mut b = floats;
            b.sort_unstable_by(|x, y| x.key_cmp(y));
            assert_eq!(a, b, "f64 len {len} shape {shape}");
        }
    }
}

/// `WideSum` as an exact big number: `hi·2^128 + lo`.
fn wide_big(s: WideSum) -> crate::kernels::exact::BigFixed {
    use crate::kernels::exact::BigFixed;
    let two128 = BigFixed::from_u128(1 << 127).mul_u128(2);
    BigFixed::from_i128(s.hi).mul(&two128).add(&BigFixed::from_u128(s.lo))
}

#[test]
fn wide_sum_equals_big_integer_sum() {
    use crate::kernels::exact::BigFixed;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // i64 values (the one-multiply path) and wider i128 ones, small and huge weights
    let mut s = WideSum::default();
    let mut oracle = BigFixed::from_u128(0);
    for i in 0..20_000u64 {
        let v: i128 = match i % 5 {
            0 => i128::from(rng.next() as i64),
            1 => i128::from([i64::MIN, i64::MAX, -1, 0, 1][(i / 5 % 5) as usize]),
            2 => (rng.next() as i128) << 60 | rng.next() as i128,
            3 => [i128::MIN, i128::MAX, i128::from(i64::MIN) - 1, i128::from(i64::MAX) + 1][(i / 5 % 4) as usize],
            _ => i128::from((rng.next() % 2001) as i64 - 1000),
        };
        let w = match i % 3 {
            0 => 1,
            1 => rng.next(),
            _ => u64::MAX,
        };
        s.add_mul(v, w);
        oracle = oracle.add(&BigFixed::from_i128(v).mul_u128(u128::from(w)));
        if i % 997 == 0 {
            assert_eq!(wide_big(s).cmp_value(&oracle), Ordering::Equal, "after {i} terms");
        }
    }
    assert_eq!(wide_big(s).cmp_value(&oracle), Ordering::Equal);
}

#[test]
fn decimal_scale_and_lead_digit_tables_match_their_definitions() {
    for scale in 0..=38u8 {
        // the parsed literal is the correctly rounded power; powi is the old definition
        let lit: f64 = format!("1e{scale}").parse().expect("literal");
        if scale <= 22 {
            assert_eq!(render::pow10(scale), lit, "scale {scale}");
        }
        assert_eq!(render::pow10(scale).to_bits(), 10f64.powi(i32::from(scale)).to_bits(), "scale {scale}");
    }
    let mut rng = Rng(7);
    let mut vals: Vec<u128> = (0..20_000).map(|_| u128::from(rng.next() >> (rng.next() % 64))).collect();
    for k in 0..38u32 {
        let p = 10u128.pow(k);
        vals.extend([p - 1, p, p + 1, 2 * p - 1, 9 * p, p * 10 - 1]);
    }
    vals.push(u128::MAX);
    for v in vals {
        let first = v.to_string().bytes().next().map(|b| b - b'0').filter(|_| v != 0);
        assert_eq!(stats::lead_digit_u128(v), first, "{v}");
    }
}

#[test]
fn text_min_max_and_counts_with_repeats_match_a_direct_computation() {
    // repeated values (a value seen before skips the min/max comparison in exact mode),
    // the smallest and largest values arriving early and repeating late, a switch to
    // sketches midway (exact_limit 50), 3 states merged
    let vals: Vec<String> = (0..6000u64)
        .map(|i| {
            let r = crate::kernels::profile::hash::fmix64(i);
            match r % 7 {
                0 => " pad ".into(),
                1 => "\t".into(),
                2 => format!("k{}", r % 40),
                3 => format!("Ü{}", r % 30),
                _ => format!("v{:05}", r % if i < 3000 { 20 } else { 5000 }),
            }
        })
        .collect();
    // a smallest and a largest value that occur once each
    let mut vals = vals;
    vals.insert(17, String::new());
    vals.push("\u{fff0}once".into());
    for limit in [50usize, 100_000] {
        let opts = ProfileOptions { exact_limit: limit, ..ProfileOptions::default() };
        let mut parts: Vec<ProfileState> = (0..3).map(|_| ProfileState::with_options(opts)).collect();
        for (i, v) in vals.iter().enumerate() {
            parts[i % 3].add_text(v.as_bytes());
        }
        let mut s = ProfileState::with_options(opts);
        for p in &parts {
            s.combine(p);
        }
        let p = s.finalize();
        let min = vals.iter().min().cloned();
        let max = vals.iter().max().cloned();
        assert_eq!((p.min.clone(), p.max.clone()), (min, max), "limit {limit}");
        let lens: Vec<usize> = vals.iter().map(|v| v.chars().count()).collect();
        assert_eq!(
            (p.min_length, p.max_length),
            (lens.iter().min().map(|&l| l as u64), lens.iter().max().map(|&l| l as u64))
        );
        let count = |f: &dyn Fn(&String) -> bool| Some(vals.iter().filter(|v| f(v)).count() as u64);
        assert_eq!(p.empty_count, count(&|v| v.is_empty()));
        assert_eq!(p.untrimmed_count, count(&|v| v.trim() != v.as_str()));
        assert_eq!(p.non_ascii_count, count(&|v| !v.is_ascii()));
        assert_eq!(p.distinct_is_exact, limit > 5200);
    }
}
