//! Tests: known answers, oracle diagrams from ripser and GUDHI, properties, errors.

use super::*;

fn never(_stage: &str, _done: usize, _total: usize) -> bool {
    false
}

fn circle(n: usize, r: f64) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            let t = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
            vec![r * t.cos(), r * t.sin()]
        })
        .collect()
}

#[test]
fn circle_has_one_long_h1_bar() {
    let pts = circle(24, 1.0);
    let d = persistence_from_points(&pts, &RipsOptions::default(), None, &never).unwrap();
    let h1: Vec<_> = d.iter().filter(|p| p.dim == 1).collect();
    assert_eq!(h1.len(), 1, "{d:?}");
    let side = 2.0 * (std::f64::consts::PI / 24.0).sin();
    assert!((h1[0].birth - side).abs() < 1e-12);
    assert!(h1[0].death > 1.7 && h1[0].death <= 2.0);
}

fn opts(max_dim: usize) -> RipsOptions {
    RipsOptions { max_dim, ..RipsOptions::default() }
}

fn bars(d: &[PersistencePair], dim: usize) -> Vec<(f64, f64)> {
    d.iter().filter(|p| p.dim == dim).map(|p| (p.birth, p.death)).collect()
}

fn same(a: &[PersistencePair], b: &[PersistencePair], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.dim == y.dim
                && (x.birth - y.birth).abs() <= tol
                && ((x.death.is_infinite() && y.death.is_infinite()) || (x.death - y.death).abs() <= tol)
        })
}

fn lcg(seed: &mut u64) -> f64 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (*seed >> 11) as f64 / (1u64 << 53) as f64
}

fn random_points(n: usize, dim: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut s = seed;
    (0..n).map(|_| (0..dim).map(|_| lcg(&mut s)).collect()).collect()
}

#[test]
fn two_clusters_have_one_long_h0_bar() {
    let mut pts = Vec::new();
    let mut s = 7u64;
    for c in [0.0, 10.0] {
        for _ in 0..15 {
            pts.push(vec![c + 0.2 * lcg(&mut s), 0.2 * lcg(&mut s)]);
        }
    }
    let d = persistence_from_points(&pts, &opts(0), None, &never).unwrap();
    let h0 = bars(&d, 0);
    assert_eq!(h0.len(), 30);
    let long: Vec<_> = h0.iter().filter(|b| b.1 - b.0 > 5.0).collect();
    // one essential class and one bar dying when the clusters join (~9.8..10.3)
    assert_eq!(long.len(), 2);
    assert!(long[0].1 > 9.7 && long[0].1 < 10.3, "{long:?}");
    assert!(long[1].1.is_infinite());
}

#[test]
fn unit_square_bars() {
    let pts = vec![vec![0.0, 0.0], vec![1.0, 0.0], vec![1.0, 1.0], vec![0.0, 1.0]];
    let d = persistence_from_points(&pts, &opts(2), None, &never).unwrap();
    assert_eq!(bars(&d, 0), vec![(0.0, 1.0), (0.0, 1.0), (0.0, 1.0), (0.0, f64::INFINITY)]);
    assert_eq!(bars(&d, 1), vec![(1.0, 2f64.sqrt())]);
    assert!(bars(&d, 2).is_empty());
    // Same from a full distance table, both orientations given.
    let mut e = Vec::new();
    for i in 0..4 {
        for j in 0..4 {
            let dx: f64 = pts[i][0] - pts[j][0];
            let dy: f64 = pts[i][1] - pts[j][1];
            e.push((i, j, (dx * dx + dy * dy).sqrt()));
        }
    }
    let d2 = persistence_from_distances(4, &e, &opts(2), None, &never).unwrap();
    assert_eq!(d, d2);
}

#[test]
fn octahedron_has_an_h2_class_and_z3_agrees() {
    // The boundary of the cross-polytope: H2 born at sqrt(2), killed at 2.
    let mut pts = Vec::new();
    for k in 0..3 {
        for s in [-1.0, 1.0] {
            let mut p = vec![0.0; 3];
            p[k] = s;
            pts.push(p);
        }
    }
    for p in [2u16, 3] {
        let o = RipsOptions { max_dim: 2, modulus: p, ..RipsOptions::default() };
        let d = persistence_from_points(&pts, &o, None, &never).unwrap();
        assert_eq!(bars(&d, 2), vec![(2f64.sqrt(), 2.0)], "p={p}");
        assert!(bars(&d, 1).is_empty());
    }
}

#[derive(Debug)]
struct Case {
    name: String,
    points: Option<Vec<Vec<f64>>>,
    n: usize,
    edges: Vec<(usize, usize, f64)>,
    opts: RipsOptions,
    ripser: Vec<PersistencePair>,
    gudhi: Option<Vec<PersistencePair>>,
}

fn parse_bars(v: &serde_json::Value) -> Vec<PersistencePair> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let t = t.as_array().unwrap();
            let death = t[2].as_f64().unwrap();
            PersistencePair {
                dim: t[0].as_u64().unwrap() as usize,
                birth: t[1].as_f64().unwrap(),
                death: if death < 0.0 { f64::INFINITY } else { death },
            }
        })
        .collect()
}

fn oracle() -> (Vec<Case>, serde_json::Value) {
    let v: serde_json::Value = serde_json::from_str(include_str!("../../../test/data/topology/oracle.json")).unwrap();
    let cases = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let metric = Metric::parse(c["metric"].as_str().unwrap_or("euclidean")).unwrap();
            let opts = RipsOptions {
                max_dim: c["max_dim"].as_u64().unwrap() as usize,
                threshold: c["threshold"].as_f64(),
                modulus: c["modulus"].as_u64().unwrap() as u16,
                metric,
                // the duplicates cloud is compared with dedup on: ripser keeps repeats silently
                dedup: c["name"] == "duplicates",
                ..RipsOptions::default()
            };
            let points: Option<Vec<Vec<f64>>> = c["points"].as_array().map(|a| {
                a.iter().map(|p| p.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()).collect()
            });
            let edges = c["edges"].as_array().map_or(Vec::new(), |a| {
                a.iter()
                    .map(|e| {
                        let e = e.as_array().unwrap();
                        (e[0].as_u64().unwrap() as usize, e[1].as_u64().unwrap() as usize, e[2].as_f64().unwrap())
                    })
                    .collect()
            });
            Case {
                name: c["name"].as_str().unwrap().to_string(),
                n: points.as_ref().map_or(c["n"].as_u64().unwrap_or(0) as usize, |p| p.len()),
                points,
                edges,
                opts,
                ripser: parse_bars(&c["ripser"]),
                gudhi: if c["gudhi"].is_null() { None } else { Some(parse_bars(&c["gudhi"])) },
            }
        })
        .collect();
    (cases, v["distances"].clone())
}

fn run_case(c: &Case, pool: Option<&rayon::ThreadPool>) -> Vec<PersistencePair> {
    run_case_with(c, &c.opts, pool)
}

fn run_case_with(c: &Case, opts: &RipsOptions, pool: Option<&rayon::ThreadPool>) -> Vec<PersistencePair> {
    match &c.points {
        Some(p) => persistence_from_points(p, opts, pool, &never).unwrap(),
        None => persistence_from_distances(c.n, &c.edges, opts, pool, &never).unwrap(),
    }
}

#[test]
fn oracle_ripser_and_gudhi() {
    let (cases, _) = oracle();
    assert!(cases.len() >= 10);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for c in &cases {
        let d = run_case(c, None);
        assert!(same(&d, &c.ripser, 1e-6), "{} vs ripser:\n{d:?}\n{:?}", c.name, c.ripser);
        if let Some(g) = &c.gudhi {
            assert!(same(&d, g, 1e-6), "{} vs gudhi", c.name);
        }
        let dp = run_case(c, Some(&pool));
        assert_eq!(d, dp, "{}: pool changes the result", c.name);
    }
}

#[test]
fn z2_and_z3_differ_only_on_torsion() {
    let (cases, _) = oracle();
    let z2 = cases.iter().find(|c| c.name == "rp2_z2").unwrap();
    let z3 = cases.iter().find(|c| c.name == "rp2_z3").unwrap();
    let d2 = run_case(z2, None);
    let d3 = run_case(z3, None);
    // RP^2: with Z/2 a long H1 bar and an H2 bar live to ~1.23-1.28; with Z/3 they don't.
    let long = |d: &[PersistencePair], dim| d.iter().filter(|p| p.dim == dim && p.death - p.birth > 0.4).count();
    assert_eq!((long(&d2, 1), long(&d2, 2)), (1, 1));
    assert_eq!((long(&d3, 1), long(&d3, 2)), (0, 0));
    assert_eq!(bars(&d2, 0), bars(&d3, 0));
    // No torsion in a random cloud: Z/2 and Z/3 agree.
    let pts = random_points(40, 3, 11);
    let a = persistence_from_points(&pts, &opts(2), None, &never).unwrap();
    let b = persistence_from_points(&pts, &RipsOptions { modulus: 3, ..opts(2) }, None, &never).unwrap();
    assert!(same(&a, &b, 0.0));
}

#[test]
fn permuting_points_changes_nothing() {
    let pts = random_points(50, 3, 3);
    let a = persistence_from_points(&pts, &opts(2), None, &never).unwrap();
    let mut perm = pts.clone();
    let mut s = 99u64;
    for i in (1..perm.len()).rev() {
        let j = (lcg(&mut s) * (i + 1) as f64) as usize;
        perm.swap(i, j);
    }
    let b = persistence_from_points(&perm, &opts(2), None, &never).unwrap();
    assert!(same(&a, &b, 0.0));
    assert!(!bars(&a, 1).is_empty());
}

#[test]
fn raising_the_threshold_only_extends() {
    let pts = random_points(45, 2, 5);
    let full = persistence_from_points(&pts, &opts(1), None, &never).unwrap();
    for t in [0.1, 0.2, 0.3] {
        let low = persistence_from_points(&pts, &RipsOptions { threshold: Some(t), ..opts(1) }, None, &never).unwrap();
        for dim in 0..2 {
            let l = bars(&low, dim);
            let f = bars(&full, dim);
            let fin_low: Vec<_> = l.iter().filter(|b| b.1.is_finite()).copied().collect();
            let fin_full: Vec<_> = f.iter().filter(|b| b.1 <= t).copied().collect();
            assert_eq!(fin_low, fin_full, "t={t} dim={dim}");
            let mut ess_low: Vec<f64> = l.iter().filter(|b| b.1.is_infinite()).map(|b| b.0).collect();
            let mut ess_full: Vec<f64> = f.iter().filter(|b| b.0 <= t && b.1 > t).map(|b| b.0).collect();
            ess_low.sort_by(f64::total_cmp);
            ess_full.sort_by(f64::total_cmp);
            assert_eq!(ess_low, ess_full, "t={t} dim={dim}");
        }
    }
}

#[test]
fn sample_and_standardize() {
    let pts = circle(300, 1.0);
    let o = RipsOptions { sample: Some(30), ..opts(1) };
    let d = persistence_from_points(&pts, &o, None, &never).unwrap();
    assert_eq!(bars(&d, 0).len(), 30);
    let h1 = bars(&d, 1);
    assert_eq!(h1.len(), 1);
    assert!(h1[0].1 - h1[0].0 > 1.0);
    // Standardising removes a per-coordinate scale.
    let pts = random_points(30, 3, 8);
    let scaled: Vec<Vec<f64>> = pts.iter().map(|p| vec![p[0] * 1000.0 + 5.0, p[1], p[2] * 0.001]).collect();
    let o = RipsOptions { standardize: true, ..opts(1) };
    let a = persistence_from_points(&pts, &o, None, &never).unwrap();
    let b = persistence_from_points(&scaled, &o, None, &never).unwrap();
    assert!(same(&a, &b, 1e-9));
}

#[test]
fn errors_are_reported() {
    use crate::kernels::ErrorKind;
    let e = persistence_from_points(&[vec![0.0]], &opts(1), None, &never).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    let e = persistence_from_points(&[vec![0.0, 1.0], vec![1.0, f64::NAN]], &opts(1), None, &never).unwrap_err();
    assert!(e.message.contains("point 1"), "{e}");
    let e = persistence_from_points(&[vec![0.0, 1.0], vec![1.0]], &opts(1), None, &never).unwrap_err();
    assert!(e.message.contains("mixed dimensions"), "{e}");
    let pts = random_points(10, 2, 1);
    let e = persistence_from_points(&pts, &opts(9), None, &never).unwrap_err();
    assert!(e.message.contains("max_dim"), "{e}");
    let e = persistence_from_points(&pts, &RipsOptions { threshold: Some(0.0), ..opts(1) }, None, &never).unwrap_err();
    assert!(e.message.contains("threshold"), "{e}");
    let e = persistence_from_points(&pts, &RipsOptions { modulus: 4, ..opts(1) }, None, &never).unwrap_err();
    assert!(e.message.contains("prime"), "{e}");
    let e = persistence_from_points(&pts, &RipsOptions { memory_budget: 1000, ..opts(1) }, None, &never).unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutOfBudget);
    assert!(e.message.contains("threshold :=") && e.message.contains("sample :=") && e.message.contains("max_dim"));
    let e = persistence_from_points(&pts, &opts(1), None, &|_: &str, _: usize, _: usize| true).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Interrupted);
    // Index overflow: C(200000, 10) does not fit in the 48-bit simplex index.
    let e = precheck(200_000, &RipsOptions { max_dim: 8, memory_budget: usize::MAX, ..opts(1) }).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Overflow);
    // Distance tables: asymmetric, negative, out of range.
    let e = persistence_from_distances(3, &[(0, 1, 1.0), (1, 0, 2.0)], &opts(1), None, &never).unwrap_err();
    assert!(e.message.contains("symmetric"), "{e}");
    let e = persistence_from_distances(3, &[(0, 1, -1.0)], &opts(1), None, &never).unwrap_err();
    assert!(e.message.contains("non-negative"), "{e}");
    let e = persistence_from_distances(3, &[(0, 3, 1.0)], &opts(1), None, &never).unwrap_err();
    assert!(e.message.contains("out of range"), "{e}");
    // Interrupt during the reduction (after the first few checks).
    let calls = std::cell::Cell::new(0);
    let pts = random_points(200, 3, 2);
    let stages = std::cell::RefCell::new(Vec::new());
    let stop = |stage: &str, done: usize, total: usize| {
        stages.borrow_mut().push((stage.to_string(), done, total));
        calls.set(calls.get() + 1);
        calls.get() > 3
    };
    let e = persistence_from_points(&pts, &opts(2), None, &stop).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Interrupted);
    // The monitor saw the stages in order, with work counts that never exceed the total.
    let seen = stages.borrow();
    assert_eq!(seen[0].0, "start");
    // max_dim 2 collapses edges first
    assert_eq!(seen[1].0, "edge collapse");
    assert_eq!(seen[2].0, "edges");
    assert!(seen.iter().all(|(_, d, t)| d <= t), "{seen:?}");
    let all = std::cell::RefCell::new(Vec::new());
    let log = |stage: &str, done: usize, total: usize| {
        all.borrow_mut().push((stage.to_string(), done, total));
        false
    };
    persistence_from_points(&random_points(300, 3, 5), &opts(2), None, &log).unwrap();
    let names: Vec<String> = all.borrow().iter().map(|s| s.0.clone()).collect();
    for want in ["edge collapse", "H0 union-find", "H1 apparent pairs", "H1 reduction", "H2 simplices", "H2 reduction"]
    {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
}

#[test]
fn memory_estimate_grows_with_n_and_dim() {
    let a = estimate_memory(1000, &opts(1));
    // 8 MB matrix + 499500 edges * 88 B
    assert!(a > 40_000_000 && a < 60_000_000, "{a}");
    assert!(estimate_memory(1000, &opts(2)) > 10 * a);
    assert!(estimate_memory(1000, &RipsOptions { sample: Some(100), ..opts(1) }) < a / 50);
}

#[test]
fn diagram_metrics_by_hand() {
    let p = |dim, birth, death| PersistencePair { dim, birth, death };
    let d = vec![p(0, 0.0, 1.0), p(0, 0.0, f64::INFINITY), p(1, 0.5, 1.5), p(1, 0.2, 0.3)];
    assert_eq!(betti_numbers(&d, 0.5), vec![2, 1]);
    assert_eq!(betti_numbers(&d, 0.0), vec![2, 2]);
    assert!(betti_numbers(&[], 0.0).is_empty());
    // lengths 1, 1, 0.1: L = 2.1
    let q: [f64; 3] = [1.0 / 2.1, 1.0 / 2.1, 0.1 / 2.1];
    let want: f64 = -q.iter().map(|x| x * x.ln()).sum::<f64>();
    assert!((persistent_entropy(&d) - want).abs() < 1e-12);
    assert!((persistent_entropy(&[p(0, 0.0, 1.0), p(0, 0.0, 1.0)]) - 2f64.ln()).abs() < 1e-12);
    let s = diagram_summary(&d);
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].count, s[0].finite, s[0].max_persistence, s[0].total_persistence), (2, 1, 1.0, 1.0));
    assert!((s[1].mean_persistence - 0.55).abs() < 1e-12);
    // Bottleneck / Wasserstein by hand.
    let a = vec![p(1, 0.0, 2.0)];
    let b = vec![p(1, 0.0, 3.0)];
    assert_eq!(bottleneck_distance(&a, &[], Some(1)).unwrap(), 1.0);
    assert_eq!(bottleneck_distance(&a, &b, Some(1)).unwrap(), 1.0);
    assert_eq!(wasserstein_distance(&a, &b, 1.0, Some(1)).unwrap(), 1.0);
    // Two far-apart points: both go to the diagonal.
    let a = vec![p(1, 0.0, 2.0)];
    let b = vec![p(1, 10.0, 12.0)];
    assert_eq!(bottleneck_distance(&a, &b, None).unwrap(), 1.0);
    assert!((wasserstein_distance(&a, &b, 1.0, None).unwrap() - 2.0).abs() < 1e-12);
    assert!((wasserstein_distance(&a, &b, 2.0, None).unwrap() - 2f64.sqrt()).abs() < 1e-12);
    // Essential classes: count mismatch is infinite, else sorted births.
    let e1 = vec![p(0, 0.0, f64::INFINITY)];
    assert_eq!(bottleneck_distance(&e1, &[], None).unwrap(), f64::INFINITY);
    assert_eq!(bottleneck_distance(&e1, &[p(0, 0.25, f64::INFINITY)], None).unwrap(), 0.25);
    assert!(wasserstein_distance(&a, &b, 0.5, None).is_err());
    let svg = diagram_svg(&d, false);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert_eq!(svg.matches("<circle").count(), 4);
    let svg = diagram_svg(&d, true);
    assert_eq!(svg.matches("stroke-width").count(), 4);
}

#[test]
fn diagram_distances_match_gudhi() {
    let (cases, dist) = oracle();
    let a = cases.iter().find(|c| c.name == "circle_noisy").unwrap().gudhi.clone().unwrap();
    let b = cases.iter().find(|c| c.name == "random2d").unwrap().gudhi.clone().unwrap();
    let fin = |d: &[PersistencePair]| d.iter().filter(|p| p.death.is_finite()).copied().collect::<Vec<_>>();
    let (a, b) = (fin(&a), fin(&b));
    for e in dist["per_dim"].as_array().unwrap() {
        let dim = e["dim"].as_u64().unwrap() as usize;
        let bn = bottleneck_distance(&a, &b, Some(dim)).unwrap();
        assert!(
            (bn - e["bottleneck_finite"].as_f64().unwrap()).abs() < 1e-9,
            "dim {dim}: {bn} vs {}",
            e["bottleneck_finite"]
        );
        if let Some(w1) = e["wasserstein1_finite"].as_f64() {
            let w = wasserstein_distance(&a, &b, 1.0, Some(dim)).unwrap();
            assert!((w - w1).abs() < 1e-6, "dim {dim}: W1 {w} vs {w1}");
            let w2 = e["wasserstein2_finite"].as_f64().unwrap();
            let w = wasserstein_distance(&a, &b, 2.0, Some(dim)).unwrap();
            assert!((w - w2).abs() < 1e-6, "dim {dim}: W2 {w} vs {w2}");
        }
    }
}

#[test]
fn apparent_pairs_remove_most_columns() {
    // 24 points on a circle: 276 edges, 23 in the spanning tree, 253 candidate
    // H1 columns; all but the few that matter are in apparent pairs.
    let pts = circle(24, 1.0);
    let ctx = distance::MetricCtx::try_new(Metric::Euclidean, &pts).unwrap();
    let dm = distance::matrix_from_points(&ctx, pts.len(), None);
    let mut r = rips::Rips::try_new(&dm, dm.enclosing_radius(), 2, 1).unwrap();
    let mut out = Vec::new();
    let mut stats = rips::Stats::default();
    r.compute(1, None, &never, &mut out, &mut stats).unwrap();
    assert!(stats.columns[0] >= 1 && stats.columns[0] <= 24, "{stats:?}");
    assert_eq!(out.iter().filter(|p| p.dim == 1).count(), 1);
}

/// Duplicate points are refused by name unless dedup is on; with it the diagram equals the
/// diagram of the distinct points.
#[test]
fn duplicate_points_are_refused_or_dropped() {
    let base: Vec<Vec<f64>> = (0..12).map(|i| vec![(i as f64 * 0.5).cos(), (i as f64 * 0.5).sin()]).collect();
    let mut pts = base.clone();
    pts.push(base[3].clone());
    pts.push(vec![-0.0 + base[5][0], base[5][1]]);
    let e = persistence_from_points(&pts, &opts(1), None, &never).unwrap_err();
    assert!(e.to_string().contains("points 3 and 12") && e.to_string().contains("dedup := true"), "{e}");
    assert!(e.to_string().contains(&format!("{:?}", base[3])), "{e}");
    let with = persistence_from_points(&pts, &RipsOptions { dedup: true, ..opts(1) }, None, &never).unwrap();
    let without = persistence_from_points(&base, &opts(1), None, &never).unwrap();
    assert_eq!(with, without);
    let same = vec![vec![1.0, 2.0]; 3];
    let e = persistence_from_points(&same, &RipsOptions { dedup: true, ..opts(1) }, None, &never).unwrap_err();
    assert!(e.to_string().contains("distinct"), "{e}");
    let e = persistence_from_distances(3, &[(0, 1, 0.0), (1, 2, 1.0)], &opts(1), None, &never).unwrap_err();
    assert!(e.to_string().contains("points 0 and 1"), "{e}");
    assert!(persistence_from_distances(
        3,
        &[(0, 1, 0.0), (1, 2, 1.0)],
        &RipsOptions { dedup: true, ..opts(1) },
        None,
        &never
    )
    .is_ok());
}

#[test]
fn edge_collapse_keeps_every_oracle_diagram() {
    let (cases, _) = oracle();
    for c in &cases {
        for collapse in [Some(true), Some(false)] {
            let o = RipsOptions { collapse, ..c.opts.clone() };
            let d = run_case_with(c, &o, None);
            assert!(same(&d, &c.ripser, 1e-6), "{} collapse {collapse:?} vs ripser:\n{d:?}\n{:?}", c.name, c.ripser);
        }
    }
}

#[test]
fn edge_collapse_trims_the_dominated_diagonal() {
    // A 4-cycle at 1 with both diagonals at 2: the first diagonal processed is dominated
    // (by a vertex of the cycle) for good and goes; the other then has two non-adjacent
    // common neighbours and stays, so the H1 bar [1, 2) survives.
    let e = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0), (0, 2, 2.0), (1, 3, 2.0)];
    let mut dm = distance::matrix_from_edges(4, &e).unwrap();
    let st = collapse::collapse(&mut dm, 2.0, 0.0, &never).unwrap();
    assert_eq!(st, collapse::CollapseStats { edges: 6, kept: 5, shifted: 0, trimmed: 1, undone: false });
    assert_eq!(dm.get(1, 3), f64::INFINITY);
    assert_eq!(dm.get(3, 1), f64::INFINITY);
    assert_eq!(dm.get(0, 2), 2.0);
    // Asking for more than a sixth of the edges removed restores the input.
    let mut again = distance::matrix_from_edges(4, &e).unwrap();
    let st = collapse::collapse(&mut again, 2.0, 0.2, &never).unwrap();
    assert!(st.undone && st.trimmed == 1);
    assert_eq!(again.d, distance::matrix_from_edges(4, &e).unwrap().d);
    let d =
        run(dm, &RipsOptions { max_dim: 2, collapse: Some(false), ..RipsOptions::default() }, None, &never).unwrap();
    assert_eq!(bars(&d, 1), vec![(1.0, 2.0)]);
}

/// Random flag filtrations, with ties: points on a coarse grid (many equal distances)
/// and random graphs whose weights are not a metric (two decimals, so values repeat).
fn random_filtration(trial: usize, s: &mut u64) -> DistanceMatrix {
    let n = 12 + (lcg(s) * 40.0) as usize;
    if trial % 2 == 0 {
        let dim = 2 + trial % 3;
        let pts: Vec<Vec<f64>> = (0..n).map(|_| (0..dim).map(|_| (lcg(s) * 6.0).floor()).collect()).collect();
        let pts = distance::unique_points(&pts);
        let ctx = MetricCtx::try_new(Metric::Euclidean, &pts).unwrap();
        distance::matrix_from_points(&ctx, pts.len(), None)
    } else {
        let mut e = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                if lcg(s) < 0.7 {
                    e.push((i, j, 0.01 + (lcg(s) * 100.0).round() / 100.0));
                }
            }
        }
        distance::matrix_from_edges(n, &e).unwrap()
    }
}

#[test]
fn edge_collapse_changes_no_diagram_of_random_filtrations() {
    let mut s = 11u64;
    let mut total = collapse::CollapseStats::default();
    for trial in 0..60 {
        let dm = random_filtration(trial, &mut s);
        let max_dim = 1 + trial % 3;
        let modulus = if trial % 5 == 4 { 3 } else { 2 };
        let threshold = if trial % 3 == 0 { Some(0.5 + lcg(&mut s) * 3.0) } else { None };
        let o = RipsOptions { max_dim, modulus, threshold, collapse: Some(false), ..RipsOptions::default() };
        let plain = run(DistanceMatrix { n: dm.n, d: dm.d.clone() }, &o, None, &never).unwrap();
        let thr = threshold.unwrap_or_else(|| dm.enclosing_radius()).min(dm.max_finite());
        let mut collapsed = DistanceMatrix { n: dm.n, d: dm.d.clone() };
        let st = collapse::collapse(&mut collapsed, thr, 0.0, &never).unwrap();
        assert_eq!(st.kept + st.shifted + st.trimmed, st.edges);
        if trial % 2 == 0 {
            // grid clouds (the random graphs collapse far less)
            total.edges += st.edges;
            total.kept += st.kept;
            total.shifted += st.shifted;
            total.trimmed += st.trimmed;
        }
        // Values only move up, and only to values already in the filtration.
        for (a, b) in dm.d.iter().zip(&collapsed.d) {
            assert!(b >= a || (a.is_infinite() && b.is_infinite()));
            assert!(b.is_infinite() || *b > thr || dm.d.contains(b));
        }
        // The collapsed matrix is run at the original threshold (its own enclosing radius differs).
        let at = RipsOptions { threshold: Some(thr), ..o.clone() };
        let after = run(collapsed, &at, None, &never).unwrap();
        assert_eq!(plain, after, "trial {trial} (n {}, max_dim {max_dim}, Z/{modulus}, {st:?})", dm.n);
        // The public switch gives the same diagram as well.
        let forced = run(dm, &RipsOptions { collapse: Some(true), ..o.clone() }, None, &never).unwrap();
        assert_eq!(plain, forced, "trial {trial}");
    }
    // On the point clouds the collapse removes most edges and moves others.
    assert!(total.trimmed * 2 > total.edges, "{total:?}");
    assert!(total.shifted > 0, "{total:?}");
}

#[test]
fn over_budget_runs_the_collapse_first_or_refuses() {
    let pts = random_points(400, 3, 21);
    let full = persistence_from_points(&pts, &opts(1), None, &never).unwrap();
    let worst = estimate_memory(400, &opts(1));
    let need = collapse_memory(400);
    assert!(need < worst / 2, "{need} vs {worst}");
    // Between the two: the collapse runs first (the monitor sees it), the diagram is the same.
    let stages = std::cell::RefCell::new(Vec::new());
    let log = |stage: &str, _: usize, _: usize| {
        stages.borrow_mut().push(stage.to_string());
        false
    };
    let mid = RipsOptions { memory_budget: (need + worst) / 2, ..opts(1) };
    let d = persistence_from_points(&pts, &mid, None, &log).unwrap();
    assert_eq!(d, full);
    assert!(stages.borrow().iter().any(|s| s == "edge collapse"));
    // With the collapse switched off, or a budget below what the collapse needs: refused.
    let off = RipsOptions { collapse: Some(false), ..mid.clone() };
    assert_eq!(persistence_from_points(&pts, &off, None, &never).unwrap_err().kind, ErrorKind::OutOfBudget);
    let low = RipsOptions { memory_budget: need - 1, ..opts(1) };
    let e = persistence_from_points(&pts, &low, None, &never).unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutOfBudget);
    assert!(e.message.contains("threshold :="), "{}", e.message);
    // Without an over-budget estimate, H1 runs no collapse by default.
    stages.borrow_mut().clear();
    persistence_from_points(&pts, &opts(1), None, &log).unwrap();
    assert!(!stages.borrow().iter().any(|s| s == "edge collapse"));
}

/// `cargo test --release --lib collapse_timing -- --ignored --nocapture`: times the collapse
/// and the reduction with and without it on a torus in R^4 (`DR_SPHERE`: a sphere;
/// `DR_POINTS=file.csv`: the points of a CSV file, e.g. a benchmark cloud), `DR_N` points,
/// `DR_MAXDIM`, `DR_THR`; `DR_PLAIN` also runs the reduction without it and compares.
#[test]
#[ignore]
fn collapse_timing() {
    let mut s = 404u64;
    let n: usize = std::env::var("DR_N").ok().and_then(|x| x.parse().ok()).unwrap_or(1000);
    let sphere = std::env::var("DR_SPHERE").is_ok();
    let max_dim: usize = std::env::var("DR_MAXDIM").ok().and_then(|x| x.parse().ok()).unwrap_or(1);
    let pts: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            let (a, b) = (lcg(&mut s) * std::f64::consts::TAU, lcg(&mut s) * std::f64::consts::TAU);
            if sphere {
                let z = 2.0 * lcg(&mut s) - 1.0;
                let r = (1.0 - z * z).sqrt();
                vec![r * a.cos(), r * a.sin(), z]
            } else {
                vec![a.cos(), a.sin(), b.cos(), b.sin()]
            }
        })
        .collect();
    let pts = match std::env::var("DR_POINTS") {
        Ok(path) => std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| l.split(',').map(|x| x.trim().parse().unwrap()).collect())
            .collect(),
        Err(_) => pts,
    };
    let n = pts.len();
    let ctx = MetricCtx::try_new(Metric::Euclidean, &pts).unwrap();
    let dm = distance::matrix_from_points(&ctx, n, None);
    let thr = std::env::var("DR_THR").ok().and_then(|x| x.parse().ok()).unwrap_or_else(|| dm.enclosing_radius());
    let mut c = DistanceMatrix { n, d: dm.d.clone() };
    let t = std::time::Instant::now();
    let st = collapse::collapse(&mut c, thr, 0.0, &never).unwrap();
    eprintln!("collapse {st:?} in {:.3} s", t.elapsed().as_secs_f64());
    let o = RipsOptions { max_dim, threshold: Some(thr), collapse: Some(false), ..RipsOptions::default() };
    let t = std::time::Instant::now();
    let a = run(c, &o, None, &never).unwrap();
    eprintln!("reduction after collapse {:.3} s", t.elapsed().as_secs_f64());
    if std::env::var("DR_PLAIN").is_ok() {
        let t = std::time::Instant::now();
        let b = run(dm, &o, None, &never).unwrap();
        eprintln!("plain {:.3} s", t.elapsed().as_secs_f64());
        assert_eq!(a, b);
    }
}

// Runs past MAX_H1_WORK are refused before they start, with a sample that fits; the runs
// measured under it (4,000 points, every pair an edge) still start.
#[test]
fn h1_work_over_the_bound_is_refused_with_a_sample_that_fits() {
    let e = check_work(10_000, 37_500_000, 0.87).unwrap_err();
    assert!(e.message.contains("10000 points with 37500000 edges"), "{}", e.message);
    assert!(e.message.contains("sample := 6694"), "{}", e.message);
    assert!(check_work(4_000, 4_000 * 3_999 / 2, 1.0).is_ok());
    let fit = 6694usize;
    assert!(check_work(fit, fit * (fit - 1) / 2, 1.0).is_ok());
    assert!(check_work(6800, 6800 * 6799 / 2, 1.0).is_err());
}

/// `DR_POINTS=cloud.csv cargo test --release --lib h1_stage_timing -- --ignored --nocapture`:
/// times each stage of `persistence_from_points` (distance matrix included) on the points
/// of a CSV file, `DR_THREADS` threads (default 2), `DR_REPS` runs (default 3).
#[test]
#[ignore]
fn h1_stage_timing() {
    let Ok(path) = std::env::var("DR_POINTS") else { return };
    let pts: Vec<Vec<f64>> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(|x| x.trim().parse().unwrap()).collect())
        .collect();
    let threads: usize = std::env::var("DR_THREADS").ok().and_then(|x| x.parse().ok()).unwrap_or(2);
    let reps: usize = std::env::var("DR_REPS").ok().and_then(|x| x.parse().ok()).unwrap_or(3);
    let max_dim: usize = std::env::var("DR_MAXDIM").ok().and_then(|x| x.parse().ok()).unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let pool = (threads > 1).then_some(&pool);
    for _ in 0..reps {
        let t = std::time::Instant::now();
        let log = std::cell::RefCell::new(Vec::<(String, f64)>::new());
        let mon = |s: &str, _: usize, _: usize| {
            let mut l = log.borrow_mut();
            if l.last().is_none_or(|x: &(String, f64)| x.0 != s) {
                l.push((s.to_string(), t.elapsed().as_secs_f64()));
            }
            false
        };
        let d = persistence_from_points(&pts, &opts(max_dim), pool, &mon).unwrap();
        let total = t.elapsed().as_secs_f64();
        let l = log.borrow();
        let mut line = String::new();
        for (k, (s, at)) in l.iter().enumerate() {
            let next = l.get(k + 1).map_or(total, |x| x.1);
            line += &format!("{s} {:.1} ms | ", (next - at) * 1e3);
        }
        eprintln!(
            "total {:.1} ms: before start {:.1} ms | {line} H1 bars {}",
            total * 1e3,
            l.first().map_or(0.0, |x| x.1) * 1e3,
            d.iter().filter(|p| p.dim == 1).count()
        );
    }
    let ctx = MetricCtx::try_new(Metric::Euclidean, &pts).unwrap();
    let dm = distance::matrix_from_points(&ctx, pts.len(), None);
    let mut r = rips::Rips::try_new(&dm, dm.enclosing_radius(), 2, max_dim).unwrap();
    let (mut out, mut stats) = (Vec::new(), rips::Stats::default());
    r.compute(max_dim, pool, &never, &mut out, &mut stats).unwrap();
    eprintln!("{stats:?}, edges within {}", edges_within(&dm, dm.enclosing_radius()));
}

/// The lazy Z/2 H1 reduction (merged neighbour lists) against the heap of every cofacet:
/// the same pairs and the same number of columns on random filtrations with ties, random
/// clouds and thresholds, with and without a pool.
#[test]
fn lazy_z2_h1_matches_the_heap_reduction() {
    let mut s = 23u64;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for trial in 0..80 {
        let dm = if trial % 4 == 3 {
            let pts = random_points(30 + trial * 3, 2 + trial % 3, trial as u64);
            let ctx = MetricCtx::try_new(Metric::Euclidean, &pts).unwrap();
            distance::matrix_from_points(&ctx, pts.len(), None)
        } else {
            random_filtration(trial, &mut s)
        };
        let thr = if trial % 3 == 0 { 0.3 + lcg(&mut s) * 3.0 } else { dm.enclosing_radius() }.min(dm.max_finite());
        // H2 on top too (the H1 reduction then runs before the H2 one), on the small filtrations
        let max_dim = if trial % 4 != 3 && trial % 2 == 0 { 2 } else { 1 };
        let run_with = |lazy: bool, pool: Option<&rayon::ThreadPool>| {
            let mut r = rips::Rips::try_new(&dm, thr, 2, max_dim).unwrap();
            r.lazy_h1 = lazy;
            let (mut out, mut stats) = (Vec::new(), rips::Stats::default());
            r.compute(max_dim, pool, &never, &mut out, &mut stats).unwrap();
            out.sort_by(|a, b| a.dim.cmp(&b.dim).then(a.birth.total_cmp(&b.birth)).then(a.death.total_cmp(&b.death)));
            (out, stats)
        };
        let (want, ws) = run_with(false, None);
        for pool in [None, Some(&pool)] {
            let (got, gs) = run_with(true, pool);
            assert_eq!(got, want, "trial {trial} (n {}, threshold {thr}, max_dim {max_dim})", dm.n);
            assert_eq!(gs.columns, ws.columns, "trial {trial}");
            if pool.is_none() {
                assert_eq!((gs.additions, gs.emergent), (ws.additions, ws.emergent), "trial {trial}");
            }
        }
    }
}

/// A budget that holds the estimate but not the neighbour lists of the lazy Z/2 H1
/// reduction runs the heap path: the same diagram.
#[test]
fn lazy_h1_lists_only_within_the_budget() {
    let pts = random_points(150, 3, 5);
    let full = persistence_from_points(&pts, &opts(1), None, &never).unwrap();
    let tight = RipsOptions { memory_budget: estimate_memory(150, &opts(1)), ..opts(1) };
    assert_eq!(persistence_from_points(&pts, &tight, None, &never).unwrap(), full);
}
