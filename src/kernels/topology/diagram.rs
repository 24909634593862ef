//! Metrics on persistence diagrams: Betti numbers above a persistence cut, persistent
//! entropy, bottleneck and Wasserstein distances, per-dimension summaries, SVG.
//!
//! - Persistent entropy: Rucco, Castiglione, Merelli, Pettini, "Characterisation of the
//!   idiotypic immune network through persistent entropy" (2016), `E = -Σ p_i ln p_i`
//!   with `p_i = l_i / Σ l`, over finite bars.
//! - Bottleneck and q-Wasserstein distances with the L∞ ground metric and the diagonal
//!   (Cohen-Steiner, Edelsbrunner, Harer 2007; Kerber, Morozov, Nigmetov, "Geometry
//!   helps to compare persistence diagrams", 2017, §2): each diagram is augmented with
//!   the diagonal projections of the other, giving a square assignment problem.
//!   Bottleneck: binary search over candidate values with Hopcroft–Karp matching
//!   (1973). Wasserstein: Hungarian algorithm with potentials (Kuhn 1955, Jonker–
//!   Volgenant's shortest augmenting path form), O(N³). Essential bars (infinite death)
//!   are matched per dimension by sorted birth (optimal in one dimension); unequal
//!   counts give an infinite distance, as in GUDHI.

use super::PersistencePair;
use crate::kernels::{Error, Result};
use std::fmt::Write;

/// Per-dimension statistics of a diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct DimSummary {
    /// Homology dimension.
    pub dim: usize,
    /// Number of bars (finite and essential).
    pub count: u64,
    /// Number of finite bars.
    pub finite: u64,
    /// Largest finite persistence (0 when none).
    pub max_persistence: f64,
    /// Mean finite persistence (0 when none).
    pub mean_persistence: f64,
    /// Sum of finite persistences.
    pub total_persistence: f64,
}

fn max_dim_of(d: &[PersistencePair]) -> Option<usize> {
    d.iter().map(|p| p.dim).max()
}

/// Number of bars per dimension `0..=max dim in d` whose persistence is at least
/// `min_persistence` (essential bars always count). Empty diagram: empty vector.
pub fn betti_numbers(d: &[PersistencePair], min_persistence: f64) -> Vec<u64> {
    let Some(m) = max_dim_of(d) else {
        return Vec::new();
    };
    let mut b = vec![0u64; m + 1];
    for p in d {
        if p.death - p.birth >= min_persistence {
            b[p.dim] += 1;
        }
    }
    b
}

/// Persistent entropy `-Σ (l_i/L) ln(l_i/L)` over the finite bars of all dimensions
/// (natural logarithm, `L` = total finite persistence); 0 when there is no finite bar
/// of positive length. Filter by dimension first for a per-dimension entropy.
pub fn persistent_entropy(d: &[PersistencePair]) -> f64 {
    let ls: Vec<f64> = d.iter().map(|p| p.death - p.birth).filter(|l| l.is_finite() && *l > 0.0).collect();
    let total: f64 = ls.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    -ls.iter().map(|l| l / total).map(|q| q * q.ln()).sum::<f64>()
}

/// Per-dimension summary for every dimension present, ascending.
pub fn diagram_summary(d: &[PersistencePair]) -> Vec<DimSummary> {
    let Some(m) = max_dim_of(d) else {
        return Vec::new();
    };
    (0..=m)
        .filter_map(|dim| {
            let bars: Vec<&PersistencePair> = d.iter().filter(|p| p.dim == dim).collect();
            if bars.is_empty() {
                return None;
            }
            let fin: Vec<f64> = bars.iter().filter(|p| p.death.is_finite()).map(|p| p.death - p.birth).collect();
            let total: f64 = fin.iter().sum();
            Some(DimSummary {
                dim,
                count: bars.len() as u64,
                finite: fin.len() as u64,
                max_persistence: fin.iter().fold(0.0, |a: f64, &b| a.max(b)),
                mean_persistence: if fin.is_empty() { 0.0 } else { total / fin.len() as f64 },
                total_persistence: total,
            })
        })
        .collect()
}

fn validate(a: &[PersistencePair], name: &str) -> Result<()> {
    for (i, p) in a.iter().enumerate() {
        if !p.birth.is_finite() || p.death.is_nan() || p.death < p.birth {
            return Err(Error::invalid(format!(
                "{name} bar {i} ({}, {}) is not a valid (birth, death) pair",
                p.birth, p.death
            )));
        }
    }
    Ok(())
}

/// Splits per dimension: (finite points, sorted essential births).
fn split(a: &[PersistencePair], dim: usize) -> (Vec<(f64, f64)>, Vec<f64>) {
    let fin = a.iter().filter(|p| p.dim == dim && p.death.is_finite()).map(|p| (p.birth, p.death)).collect();
    let mut ess: Vec<f64> = a.iter().filter(|p| p.dim == dim && !p.death.is_finite()).map(|p| p.birth).collect();
    ess.sort_by(f64::total_cmp);
    (fin, ess)
}

fn dims(a: &[PersistencePair], b: &[PersistencePair], dim: Option<usize>) -> Vec<usize> {
    match dim {
        Some(d) => vec![d],
        None => {
            let m = max_dim_of(a).max(max_dim_of(b));
            m.map_or(Vec::new(), |m| (0..=m).collect())
        }
    }
}

#[inline]
fn linf(x: (f64, f64), y: (f64, f64)) -> f64 {
    (x.0 - y.0).abs().max((x.1 - y.1).abs())
}

#[inline]
fn to_diag(x: (f64, f64)) -> f64 {
    (x.1 - x.0) / 2.0
}

/// Bottleneck distance (L∞ ground metric) in dimension `dim`, or the maximum over all
/// dimensions when `None`.
pub fn bottleneck_distance(a: &[PersistencePair], b: &[PersistencePair], dim: Option<usize>) -> Result<f64> {
    validate(a, "first diagram")?;
    validate(b, "second diagram")?;
    let mut best = 0.0f64;
    for d in dims(a, b, dim) {
        let (fa, ea) = split(a, d);
        let (fb, eb) = split(b, d);
        if ea.len() != eb.len() {
            return Ok(f64::INFINITY);
        }
        for (x, y) in ea.iter().zip(&eb) {
            best = best.max((x - y).abs());
        }
        best = best.max(bottleneck_finite(&fa, &fb));
    }
    Ok(best)
}

/// Cost between augmented nodes: left = A ∪ diag(B), right = B ∪ diag(A).
#[inline]
fn aug_cost(fa: &[(f64, f64)], fb: &[(f64, f64)], i: usize, j: usize) -> f64 {
    let (na, nb) = (fa.len(), fb.len());
    match (i < na, j < nb) {
        (true, true) => linf(fa[i], fb[j]),
        (true, false) => {
            if j - nb == i {
                to_diag(fa[i])
            } else {
                f64::INFINITY
            }
        }
        (false, true) => {
            if i - na == j {
                to_diag(fb[j])
            } else {
                f64::INFINITY
            }
        }
        (false, false) => 0.0,
    }
}

fn bottleneck_finite(fa: &[(f64, f64)], fb: &[(f64, f64)]) -> f64 {
    let n = fa.len() + fb.len();
    if n == 0 {
        return 0.0;
    }
    let mut cand: Vec<f64> = Vec::with_capacity(fa.len() * fb.len() + n);
    for &x in fa {
        cand.push(to_diag(x));
        for &y in fb {
            cand.push(linf(x, y));
        }
    }
    cand.extend(fb.iter().map(|&y| to_diag(y)));
    cand.push(0.0);
    cand.sort_by(f64::total_cmp);
    cand.dedup();
    let (mut lo, mut hi) = (0usize, cand.len() - 1);
    // The largest candidate always admits a perfect matching.
    while lo < hi {
        let mid = (lo + hi) / 2;
        if perfect_matching(fa, fb, cand[mid]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    cand[lo]
}

/// Hopcroft–Karp on the augmented graph with edges of cost <= eps.
#[allow(clippy::needless_range_loop)]
fn perfect_matching(fa: &[(f64, f64)], fb: &[(f64, f64)], eps: f64) -> bool {
    let n = fa.len() + fb.len();
    const NONE: usize = usize::MAX;
    let mut ml = vec![NONE; n];
    let mut mr = vec![NONE; n];
    let mut dist = vec![0usize; n];
    let adj = |i: usize, j: usize| aug_cost(fa, fb, i, j) <= eps;
    let mut matched = 0;
    loop {
        // BFS layers from free left vertices
        let mut q = Vec::with_capacity(n);
        for i in 0..n {
            if ml[i] == NONE {
                dist[i] = 0;
                q.push(i);
            } else {
                dist[i] = NONE;
            }
        }
        let mut found = false;
        let mut h = 0;
        while h < q.len() {
            let i = q[h];
            h += 1;
            for j in 0..n {
                if adj(i, j) {
                    let k = mr[j];
                    if k == NONE {
                        found = true;
                    } else if dist[k] == NONE {
                        dist[k] = dist[i] + 1;
                        q.push(k);
                    }
                }
            }
        }
        if !found {
            break;
        }
        // DFS (iterative) along layers
        for s in 0..n {
            if ml[s] != NONE {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(s, 0)];
            let mut path_found = false;
            while let Some(&mut (i, ref mut next)) = stack.last_mut() {
                let mut advanced = false;
                while *next < n {
                    let j = *next;
                    *next += 1;
                    if !adj(i, j) {
                        continue;
                    }
                    let k = mr[j];
                    if k == NONE {
                        // augment along the stack
                        let mut jj = j;
                        for &(u, _) in stack.iter().rev() {
                            let prev = ml[u];
                            ml[u] = jj;
                            mr[jj] = u;
                            jj = prev;
                        }
                        path_found = true;
                        break;
                    }
                    if dist[k] == dist[i] + 1 {
                        stack.push((k, 0));
                        advanced = true;
                        break;
                    }
                }
                if path_found {
                    break;
                }
                if !advanced {
                    dist[i] = NONE;
                    stack.pop();
                }
            }
            if path_found {
                matched += 1;
            }
        }
    }
    matched == n || ml.iter().all(|&m| m != NONE)
}

/// q-Wasserstein distance (L∞ ground metric, `q >= 1`; `q = inf` is the bottleneck
/// distance) in dimension `dim`, or over all dimensions together when `None`.
pub fn wasserstein_distance(a: &[PersistencePair], b: &[PersistencePair], p: f64, dim: Option<usize>) -> Result<f64> {
    validate(a, "first diagram")?;
    validate(b, "second diagram")?;
    if p.is_nan() || p < 1.0 {
        return Err(Error::invalid(format!("Wasserstein order p must be >= 1, got {p}")));
    }
    if p.is_infinite() {
        return bottleneck_distance(a, b, dim);
    }
    let mut total = 0.0f64;
    for d in dims(a, b, dim) {
        let (fa, fb_) = split(a, d);
        let (fb, eb) = split(b, d);
        if fb_.len() != eb.len() {
            return Ok(f64::INFINITY);
        }
        // The assignment is O(n^3) time and O(n) rows of n costs: bound it before it runs
        // (it cannot be interrupted).
        if fa.len() + fb.len() > MAX_ASSIGNMENT {
            return Err(Error::invalid(format!(
                "the Wasserstein distance in dimension {d} needs an assignment of {} finite bars (at most {MAX_ASSIGNMENT}, O(n^3) time); \
                 drop short bars first (list_filter(d, lambda b: b.death - b.birth > x)) or use dr_bottleneck_distance",
                fa.len() + fb.len()
            )));
        }
        for (x, y) in fb_.iter().zip(&eb) {
            total += (x - y).abs().powf(p);
        }
        total += assignment_cost(&fa, &fb, p);
    }
    Ok(total.powf(1.0 / p))
}

/// Most finite bars (both diagrams, one dimension) the Wasserstein assignment takes:
/// 4,000 bars are about 6.4e10 steps of the O(n^3) assignment.
pub const MAX_ASSIGNMENT: usize = 4000;

/// Minimum-cost perfect assignment on the augmented cost matrix (costs^p).
fn assignment_cost(fa: &[(f64, f64)], fb: &[(f64, f64)], p: f64) -> f64 {
    let n = fa.len() + fb.len();
    if n == 0 {
        return 0.0;
    }
    let big = {
        let mut m = 0.0f64;
        for &x in fa.iter().chain(fb) {
            m = m.max(to_diag(x).powf(p));
        }
        for &x in fa {
            for &y in fb {
                m = m.max(linf(x, y).powf(p));
            }
        }
        m * 4.0 * (n as f64) + 1.0
    };
    let cost = |i: usize, j: usize| {
        let c = aug_cost(fa, fb, i, j);
        if c.is_infinite() {
            big
        } else {
            c.powf(p)
        }
    };
    // Shortest augmenting path Hungarian algorithm, 1-based with a virtual column 0.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; n + 1];
    let mut pm = vec![0usize; n + 1]; // pm[j] = row matched to column j
    let mut way = vec![0usize; n + 1];
    for i in 1..=n {
        pm[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = pm[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=n {
                if !used[j] {
                    let cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[pm[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if pm[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            pm[j0] = pm[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    (1..=n).map(|j| cost(pm[j] - 1, j - 1)).sum()
}

const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// SVG text of the diagram: a persistence diagram (birth vs death, diagonal, essential
/// classes on a dashed "∞" line) or, with `style_barcode`, a barcode grouped by
/// dimension. Colours per dimension, with a legend.
pub fn diagram_svg(d: &[PersistencePair], style_barcode: bool) -> String {
    let (w, h, m) = (420.0f64, 420.0f64, 40.0f64);
    let maxv = d.iter().flat_map(|p| [p.birth, p.death]).filter(|x| x.is_finite()).fold(0.0f64, f64::max);
    let maxv = if maxv > 0.0 { maxv * 1.05 } else { 1.0 };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let color = |dim: usize| COLORS[dim % COLORS.len()];
    let maxd = max_dim_of(d).unwrap_or(0);
    if style_barcode {
        let n = d.len().max(1) as f64;
        let step = ((h - 2.0 * m) / n).min(12.0);
        let sx = |x: f64| m + (x.min(maxv) / maxv) * (w - 2.0 * m);
        let _ = write!(s, r#"<line x1="{m}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#, h - m, w - m, h - m);
        let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="end">{:.3}</text>"#, w - m, h - m + 14.0, maxv);
        let _ = write!(s, r#"<text x="{m}" y="{}">0</text>"#, h - m + 14.0);
        for (k, p) in d.iter().enumerate() {
            let y = m + k as f64 * step + step / 2.0;
            let x2 = if p.death.is_finite() { sx(p.death) } else { w - m };
            let _ = write!(
                s,
                r#"<line x1="{:.2}" y1="{y:.2}" x2="{x2:.2}" y2="{y:.2}" stroke="{}" stroke-width="{:.2}"{}/>"#,
                sx(p.birth),
                color(p.dim),
                (step * 0.6).max(1.0),
                if p.death.is_finite() { "" } else { r#" stroke-dasharray="4 2""# }
            );
        }
    } else {
        let span = w - 2.0 * m;
        let sx = |x: f64| m + (x / maxv) * span;
        let sy = |y: f64| h - m - (y / maxv) * span;
        let inf_y = m - 12.0;
        let _ = write!(s, r#"<line x1="{m}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#, h - m, w - m, h - m);
        let _ = write!(s, r#"<line x1="{m}" y1="{}" x2="{m}" y2="{}" stroke="black"/>"#, h - m, m);
        let _ = write!(
            s,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="gray" stroke-dasharray="3 3"/>"#,
            sx(0.0),
            sy(0.0),
            sx(maxv),
            sy(maxv)
        );
        let _ = write!(
            s,
            r#"<line x1="{m}" y1="{inf_y}" x2="{}" y2="{inf_y}" stroke="gray" stroke-dasharray="6 3"/>"#,
            w - m
        );
        let _ = write!(s, r#"<text x="{}" y="{}">∞</text>"#, m - 14.0, inf_y + 4.0);
        let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="middle">birth</text>"#, w / 2.0, h - 8.0);
        let _ = write!(
            s,
            r#"<text x="12" y="{}" transform="rotate(-90 12 {})" text-anchor="middle">death</text>"#,
            h / 2.0,
            h / 2.0
        );
        let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="end">{:.3}</text>"#, w - m, h - m + 14.0, maxv);
        for p in d {
            let y = if p.death.is_finite() { sy(p.death) } else { inf_y };
            let _ = write!(
                s,
                r#"<circle cx="{:.2}" cy="{y:.2}" r="3" fill="{}" fill-opacity="0.75"/>"#,
                sx(p.birth),
                color(p.dim)
            );
        }
    }
    for dim in 0..=maxd {
        let _ = write!(
            s,
            r#"<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">H{dim}</text>"#,
            w - 70.0,
            m + 4.0 + 16.0 * dim as f64,
            color(dim),
            w - 55.0,
            m + 13.0 + 16.0 * dim as f64
        );
    }
    s.push_str("</svg>");
    s
}
