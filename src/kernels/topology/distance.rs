//! Point clouds to distance matrices: validation, z-score standardisation, the four
//! metrics, greedy furthest-point subsampling, the enclosing radius, and the dense
//! matrix built from sparse `(i, j, d)` rows.
//!
//! The matrix is stored full (n x n, row-major, `f64`) so that the coboundary walk in
//! `rips.rs` reads one row per vertex of a simplex sequentially. Missing entries of a
//! sparse input are `+inf` (no edge).
//!
//! Furthest-point sampling is the greedy 2-approximation to the k-centre problem
//! (Gonzalez 1985, "Clustering to minimize the maximum intercluster distance"); the
//! enclosing radius `min_i max_j d(i, j)` is the radius beyond which the Rips complex
//! is a cone and hence contractible (Bauer 2021, §4 "Threshold"), so it is a safe
//! default threshold that leaves every diagram unchanged.

use super::Metric;
use crate::kernels::{Error, Result};
use rayon::prelude::*;
use rayon::ThreadPool;

/// Dense symmetric distance matrix, full storage, zero diagonal, `+inf` = no edge.
pub(crate) struct DistanceMatrix {
    pub n: usize,
    pub d: Vec<f64>,
}

impl DistanceMatrix {
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.d[i * self.n + j]
    }
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.d[i * self.n..(i + 1) * self.n]
    }

    /// `min_i max_j d(i, j)`; `+inf` when every row has a missing entry.
    pub fn enclosing_radius(&self) -> f64 {
        (0..self.n).map(|i| self.row(i).iter().fold(0.0f64, |m, &x| m.max(x))).fold(f64::INFINITY, f64::min)
    }

    /// Largest finite entry (0 when there is none).
    pub fn max_finite(&self) -> f64 {
        self.d.iter().filter(|x| x.is_finite()).fold(0.0f64, |m, &x| m.max(x))
    }
}

/// Checks shape and finiteness; returns the common dimension.
pub(crate) fn validate_points(points: &[Vec<f64>]) -> Result<usize> {
    if points.len() < 2 {
        return Err(Error::invalid(format!("need at least 2 points, got {}", points.len())));
    }
    let dim = points[0].len();
    if dim == 0 {
        return Err(Error::invalid("point 0 has no coordinates"));
    }
    for (i, p) in points.iter().enumerate() {
        if p.len() != dim {
            return Err(Error::invalid(format!(
                "mixed dimensions: point 0 has {} coordinates, point {} has {}",
                dim,
                i,
                p.len()
            )));
        }
        if let Some(c) = p.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid(format!(
                "point {i} has a non-finite coordinate (NaN or infinity) at position {c}"
            )));
        }
    }
    Ok(dim)
}

fn point_key(p: &[f64]) -> Vec<u64> {
    // -0.0 and 0.0 are the same point.
    p.iter().map(|x| if *x == 0.0 { 0 } else { x.to_bits() }).collect()
}

/// The first pair of identical points `(earlier, later)`, if any.
pub(crate) fn duplicate_points(points: &[Vec<f64>]) -> Option<(usize, usize)> {
    let mut seen: std::collections::HashMap<Vec<u64>, usize> = std::collections::HashMap::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        if let Some(&first) = seen.get(&point_key(p)) {
            return Some((first, i));
        }
        seen.insert(point_key(p), i);
    }
    None
}

/// The points without repeats, first occurrences in input order.
pub(crate) fn unique_points(points: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut seen = std::collections::HashSet::with_capacity(points.len());
    points.iter().filter(|p| seen.insert(point_key(p))).cloned().collect()
}

/// Z-score every coordinate (population standard deviation, as sklearn's
/// `StandardScaler`); a constant coordinate becomes 0.
pub(crate) fn standardize(points: &[Vec<f64>], dim: usize) -> Vec<Vec<f64>> {
    let n = points.len() as f64;
    let mut mean = vec![0.0; dim];
    for p in points {
        for (m, x) in mean.iter_mut().zip(p) {
            *m += x;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0; dim];
    for p in points {
        for ((v, x), m) in var.iter_mut().zip(p).zip(&mean) {
            *v += (x - m) * (x - m);
        }
    }
    let sd: Vec<f64> = var.iter().map(|v| (v / n).sqrt()).collect();
    points
        .iter()
        .map(|p| p.iter().zip(&mean).zip(&sd).map(|((x, m), s)| if *s > 0.0 { (x - m) / s } else { 0.0 }).collect())
        .collect()
}

/// Precomputed per-point data a metric needs (norms for cosine).
pub(crate) struct MetricCtx<'a> {
    metric: Metric,
    points: &'a [Vec<f64>],
    norms: Vec<f64>,
}

impl<'a> MetricCtx<'a> {
    pub fn try_new(metric: Metric, points: &'a [Vec<f64>]) -> Result<Self> {
        let mut norms = Vec::new();
        if metric == Metric::Cosine {
            norms = points.iter().map(|p| p.iter().map(|x| x * x).sum::<f64>().sqrt()).collect();
            if let Some(i) = norms.iter().position(|&x| x == 0.0) {
                return Err(Error::invalid(format!(
                    "point {i} is the zero vector: cosine distance is undefined for it; \
                     use another metric"
                )));
            }
        }
        Ok(MetricCtx { metric, points, norms })
    }

    #[inline]
    pub fn dist(&self, i: usize, j: usize) -> f64 {
        let (a, b) = (&self.points[i], &self.points[j]);
        match self.metric {
            Metric::Euclidean => a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt(),
            Metric::Manhattan => a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum(),
            Metric::Chebyshev => a.iter().zip(b).fold(0.0, |m, (x, y)| f64::max(m, (x - y).abs())),
            Metric::Cosine => {
                let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
                (1.0 - dot / (self.norms[i] * self.norms[j])).max(0.0)
            }
        }
    }
}

/// Greedy furthest-point sample of `k` indices, starting from point 0.
pub(crate) fn furthest_point_sample(ctx: &MetricCtx, n: usize, k: usize) -> Vec<usize> {
    fps(n, k, |a, b| ctx.dist(a, b))
}

/// Greedy furthest-point sample over a distance matrix (missing edges are infinitely far).
pub(crate) fn furthest_point_sample_matrix(dm: &DistanceMatrix, k: usize) -> Vec<usize> {
    fps(dm.n, k, |a, b| dm.get(a, b))
}

fn fps(n: usize, k: usize, dist: impl Fn(usize, usize) -> f64) -> Vec<usize> {
    if k >= n {
        return (0..n).collect();
    }
    let mut chosen = Vec::with_capacity(k);
    let mut mind = vec![f64::INFINITY; n];
    let mut cur = 0usize;
    for _ in 0..k {
        chosen.push(cur);
        let mut best = (f64::NEG_INFINITY, 0usize);
        for (i, m) in mind.iter_mut().enumerate() {
            let d = dist(cur, i);
            if d < *m {
                *m = d;
            }
            if *m > best.0 {
                best = (*m, i);
            }
        }
        cur = best.1;
    }
    chosen
}

/// Full distance matrix of `points` (already validated), rows computed on `pool`.
pub(crate) fn matrix_from_points(ctx: &MetricCtx, n: usize, pool: Option<&ThreadPool>) -> DistanceMatrix {
    let mut d = vec![0.0f64; n * n];
    let fill = |(i, row): (usize, &mut [f64])| {
        for (j, x) in row.iter_mut().enumerate() {
            // Compute each pair once from the lower index so d(i,j) == d(j,i) bitwise.
            *x = if i == j {
                0.0
            } else if i < j {
                ctx.dist(i, j)
            } else {
                ctx.dist(j, i)
            };
        }
    };
    match pool {
        Some(p) => p.install(|| d.par_chunks_mut(n).enumerate().for_each(fill)),
        None => d.chunks_mut(n).enumerate().for_each(fill),
    }
    DistanceMatrix { n, d }
}

/// Dense matrix from `(i, j, d)` rows; validates range, sign and symmetry.
pub(crate) fn matrix_from_edges(n: usize, edges: &[(usize, usize, f64)]) -> Result<DistanceMatrix> {
    if n < 2 {
        return Err(Error::invalid(format!("need at least 2 points, got {n}")));
    }
    let mut d = vec![f64::INFINITY; n * n];
    for i in 0..n {
        d[i * n + i] = 0.0;
    }
    let mut set = vec![false; n * n];
    for (r, &(i, j, x)) in edges.iter().enumerate() {
        if i >= n || j >= n {
            return Err(Error::invalid(format!("distance row {r}: index ({i}, {j}) out of range for {n} points")));
        }
        if x.is_nan() || x < 0.0 {
            return Err(Error::invalid(format!(
                "distance row {r}: distance {x} between {i} and {j} is not a non-negative number; \
                 the input must be a metric"
            )));
        }
        if i == j {
            if x != 0.0 {
                return Err(Error::invalid(format!(
                    "distance row {r}: d({i}, {i}) = {x}, but a point's distance to itself must be 0"
                )));
            }
            continue;
        }
        if x.is_infinite() {
            // An infinite distance is the same as a missing edge.
            continue;
        }
        for (a, b) in [(i, j), (j, i)] {
            let k = a * n + b;
            if set[k] && d[k] != x {
                return Err(Error::invalid(format!(
                    "distance table is not symmetric: d({i}, {j}) given as both {} and {x}",
                    d[k]
                )));
            }
        }
        d[i * n + j] = x;
        d[j * n + i] = x;
        set[i * n + j] = true;
        set[j * n + i] = true;
    }
    Ok(DistanceMatrix { n, d })
}
