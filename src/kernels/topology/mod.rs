//! Vietoris–Rips persistent homology (the kernel behind `dr_persistence` and
//! `persistence_diagram`) and the metrics that make diagrams usable.
//!
//! - [`persistence_from_points`] / [`persistence_from_distances`]: validation, the
//!   memory guard, metrics and subsampling (`distance.rs`), then the Ripser-class
//!   reduction (`rips.rs`: cohomology with clearing, implicit coboundary in the
//!   combinatorial number system, apparent and emergent pairs, H0 by union–find).
//!   References: Bauer 2021 (Ripser), de Silva–Morozov–Vejdemo-Johansson 2011
//!   (dualities), Chen–Kerber 2011 (twist/clearing); see `rips.rs`.
//! - Diagram metrics (`diagram.rs`): Betti numbers above a persistence cut, persistent
//!   entropy, bottleneck and Wasserstein distances, per-dimension summaries, SVG.
//! - Filtered edge collapse (`collapse.rs`, Boissonnat–Pritam 2020, Glisse–Pritam
//!   2022) before the reduction when `max_dim >= 2`: the same diagram from far fewer
//!   edges and simplices.
//!
//! Not done yet: a neighbour-list coboundary for sparse input (a distance table is
//! stored as a dense matrix with `+inf` for missing pairs, so memory is n² · 8 bytes
//! whatever the number of rows).
//!
//! Output convention: pairs sorted by `(dim, birth, death)`, zero-length bars dropped
//! (as Ripser does), essential classes have `death == f64::INFINITY`.

mod collapse;
mod diagram;
mod distance;
mod rips;

pub use diagram::{
    betti_numbers, bottleneck_distance, diagram_summary, diagram_svg, persistent_entropy, wasserstein_distance,
    DimSummary,
};

use crate::kernels::{Error, ErrorKind, Result};
use distance::{DistanceMatrix, MetricCtx};
use rayon::ThreadPool;

/// Largest homology dimension accepted.
pub const MAX_DIM_LIMIT: usize = 8;

/// Distance between two points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    /// L2 distance.
    #[default]
    Euclidean,
    /// L1 distance.
    Manhattan,
    /// L∞ distance.
    Chebyshev,
    /// `1 - cos(angle)`, as scipy's `cosine` (a dissimilarity, not a metric).
    Cosine,
}

impl Metric {
    /// Parses `euclidean`, `manhattan` (`l1`, `cityblock`), `chebyshev` (`linf`),
    /// `cosine`, case-insensitively.
    pub fn parse(s: &str) -> Result<Metric> {
        match s.trim().to_ascii_lowercase().as_str() {
            "euclidean" | "l2" => Ok(Metric::Euclidean),
            "manhattan" | "l1" | "cityblock" => Ok(Metric::Manhattan),
            "chebyshev" | "linf" | "maximum" => Ok(Metric::Chebyshev),
            "cosine" => Ok(Metric::Cosine),
            other => {
                Err(Error::invalid(format!("unknown metric '{other}'; use euclidean, manhattan, chebyshev or cosine")))
            }
        }
    }
}

/// Observer of a long computation: called between chunks of work with the stage (e.g.
/// `H1 reduction`), the work done and the total; returning true stops the run with an
/// `Interrupted` error.
pub type Monitor<'a> = &'a dyn Fn(&str, usize, usize) -> bool;

/// Options of a Vietoris–Rips persistence computation.
#[derive(Debug, Clone, PartialEq)]
pub struct RipsOptions {
    /// Highest homology dimension computed (default 1).
    pub max_dim: usize,
    /// Largest edge length in the filtration; `None` = the enclosing radius, which
    /// leaves the diagram unchanged (Ripser's default).
    pub threshold: Option<f64>,
    /// Prime p of the coefficient field Z/p (default 2).
    pub modulus: u16,
    /// Point metric (ignored for distance input).
    pub metric: Metric,
    /// Z-score every coordinate first (ignored for distance input).
    pub standardize: bool,
    /// Greedy furthest-point subsample of this many points (starting at point 0).
    pub sample: Option<usize>,
    /// Refuse work whose estimated memory exceeds this many bytes.
    pub memory_budget: usize,
    /// Drop repeated points (or, for distance input, accept zero distances between
    /// distinct points) instead of refusing them. A duplicate adds nothing but a
    /// zero-length H0 bar, which diagrams omit, so the diagram is the same either way.
    pub dedup: bool,
    /// Shrink the filtration by filtered edge collapse before the reduction (the
    /// diagram is the same; see `collapse.rs`). `None`: only when `max_dim >= 2`, where
    /// the simplices it removes dominate the cost, and only kept when it removed at
    /// least 10 % of the edges; for H1 alone the implicit reduction is cheaper than the
    /// collapse on the clouds measured. Never for `max_dim = 0`.
    pub collapse: Option<bool>,
}

impl Default for RipsOptions {
    fn default() -> Self {
        RipsOptions {
            max_dim: 1,
            threshold: None,
            modulus: 2,
            metric: Metric::Euclidean,
            standardize: false,
            sample: None,
            memory_budget: 4 << 30,
            dedup: false,
            collapse: None,
        }
    }
}

/// One bar: a class of dimension `dim` born at `birth`, dying at `death`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PersistencePair {
    /// Homology dimension.
    pub dim: usize,
    /// Filtration value at which the class appears.
    pub birth: f64,
    /// Filtration value at which it dies; `f64::INFINITY` for essential classes.
    pub death: f64,
}

impl PersistencePair {
    /// `death - birth` (infinite for essential classes).
    pub fn persistence(&self) -> f64 {
        self.death - self.birth
    }
}

fn binom_f(n: usize, k: usize) -> f64 {
    if k > n {
        return 0.0;
    }
    let mut r = 1.0f64;
    for i in 0..k {
        r = r * (n - i) as f64 / (i + 1) as f64;
    }
    r
}

/// Worst-case memory estimate in bytes (every pair of points within the threshold):
/// the n x n distance matrix, the edges, and the simplices of dimensions 2..=max_dim.
/// The kernel refuses before allocating when the part up to dimension 1 of this bound
/// exceeds `opts.memory_budget` (unless the edge collapse fits the budget: then it runs
/// the collapse first), then again, after the distances are known (and collapsed), when
/// [`estimate_memory_with_density`] at the measured edge density does.
pub fn estimate_memory(n_points: usize, opts: &RipsOptions) -> usize {
    estimate_memory_with_density(n_points, opts, 1.0)
}

/// Memory estimate when a fraction `density` of all point pairs lies within the
/// threshold; k-simplices are estimated as `C(n, k+1) * density^k` (cliques of a
/// geometric graph), an upper bound at `density = 1`.
pub fn estimate_memory_with_density(n_points: usize, opts: &RipsOptions, density: f64) -> usize {
    let n = opts.sample.map_or(n_points, |s| s.min(n_points));
    let density = density.clamp(0.0, 1.0);
    // distance matrix, 8 B per entry
    let mut b = (n as f64) * (n as f64) * 8.0;
    // binomial table
    b += (n as f64 + 1.0) * (opts.max_dim as f64 + 3.0) * 8.0;
    // the apparent-cofacet table, one entry per pair of points whatever the density
    b += binom_f(n, 2) * 8.0;
    // edges: sorted list, columns, pivot map, reduction matrix (~80 B per edge)
    b += binom_f(n, 2) * density * 80.0;
    for k in 2..=opts.max_dim {
        // columns during assembly + pivots + V, and the kept list below max_dim
        let per = if k < opts.max_dim { 56.0 } else { 40.0 };
        b += binom_f(n, k + 1) * density.powi(k as i32) * per;
    }
    // `as` saturates: an estimate past usize::MAX becomes usize::MAX.
    b as usize
}

fn human(bytes: usize) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} KB", b / 1e3)
    }
}

fn check_budget(n: usize, opts: &RipsOptions, est: usize) -> Result<()> {
    if est > opts.memory_budget {
        return Err(Error::budget(format!(
            "{n} points need ~{} for max_dim {} (memory budget {}); pass threshold :=, \
             sample := or lower max_dim",
            human(est),
            opts.max_dim,
            human(opts.memory_budget)
        )));
    }
    Ok(())
}

/// Most `edges x points` (the size of the H1 coboundary enumeration, a lower bound of the
/// work for any max_dim >= 1) a run starts. Measured ~2.2e-9 s per unit on 2 threads: 2,000
/// points in the plane with every pair an edge are 4e9 units and took 8.5 s, 4,000 points
/// 3.2e10 and 71 s; so the bound is about five minutes. Nothing interrupts a finalize, so a
/// larger run is refused before it starts; `threshold`, `sample` and `max_dim` bound it.
pub const MAX_H1_WORK: f64 = 1.5e11;

/// Refuses `n` points with `within` edges inside `thr` when H1 would run past `MAX_H1_WORK`.
fn check_work(n: usize, within: usize, thr: f64) -> Result<()> {
    let work = within as f64 * n as f64;
    if work > MAX_H1_WORK {
        // the largest sample whose every pair is an edge stays under the bound: n^3 / 2
        let fit = (2.0 * MAX_H1_WORK).cbrt() as usize;
        return Err(Error::budget(format!(
            "{n} points with {within} edges within the threshold {thr:.4} need ~{work:.1e} steps for H1 \
             (over {MAX_H1_WORK:.1e}: minutes that cannot be interrupted); pass sample := {fit} or less, \
             a smaller threshold := or max_dim := 0"
        )));
    }
    Ok(())
}

fn is_prime(p: u16) -> bool {
    p >= 2 && (2..p).take_while(|d| d * d <= p).all(|d| !p.is_multiple_of(d))
}

fn validate_options(opts: &RipsOptions) -> Result<()> {
    if opts.max_dim > MAX_DIM_LIMIT {
        return Err(Error::invalid(format!("max_dim {} is too large; use 0..={MAX_DIM_LIMIT}", opts.max_dim)));
    }
    if let Some(t) = opts.threshold {
        if t.is_nan() || t <= 0.0 {
            return Err(Error::invalid(format!("threshold must be > 0, got {t}")));
        }
    }
    if !is_prime(opts.modulus) {
        return Err(Error::invalid(format!("coefficient modulus {} is not a prime; use 2, 3, 5, ...", opts.modulus)));
    }
    if let Some(s) = opts.sample {
        if s < 2 {
            return Err(Error::invalid(format!("sample must be at least 2, got {s}")));
        }
    }
    Ok(())
}

/// Memory the edge collapse needs: the matrix, its edge list (16 B per pair within the
/// threshold, counted for all pairs) and two adjacency bitsets.
fn collapse_memory(n: usize) -> usize {
    ((n as f64) * (n as f64) * (8.0 + 0.25) + binom_f(n, 2) * 16.0) as usize
}

/// Checks options, index overflow and the dimension-0/1 part of the worst-case budget
/// for `n` points, before anything of size n² is allocated. Returns the options to run
/// with: when the worst case is over the budget but the edge collapse fits, the collapse
/// is switched on, and `run` checks the budget again on the edges it leaves.
fn precheck(n: usize, opts: &RipsOptions) -> Result<RipsOptions> {
    validate_options(opts)?;
    let n_eff = opts.sample.map_or(n, |s| s.min(n));
    if n_eff < 2 {
        return Err(Error::invalid(format!("need at least 2 points, got {n_eff}")));
    }
    rips::Binomial::try_new(n_eff, opts.max_dim + 2)?;
    let low = RipsOptions { max_dim: opts.max_dim.min(1), ..opts.clone() };
    let worst = estimate_memory(n_eff, &low);
    if worst > opts.memory_budget
        && opts.max_dim >= 1
        && opts.collapse != Some(false)
        && collapse_memory(n_eff) <= opts.memory_budget
    {
        return Ok(RipsOptions { collapse: Some(true), ..opts.clone() });
    }
    check_budget(n_eff, opts, worst)?;
    Ok(opts.clone())
}

/// Pairs of distinct points within `thr` (the edges of the filtration).
fn edges_within(dm: &DistanceMatrix, thr: f64) -> usize {
    dm.d.iter().filter(|&&x| x <= thr).count().saturating_sub(dm.n) / 2
}

fn run(
    mut dm: DistanceMatrix,
    opts: &RipsOptions,
    pool: Option<&ThreadPool>,
    monitor: Monitor<'_>,
) -> Result<Vec<PersistencePair>> {
    if monitor("start", 0, 1) {
        return Err(Error::new(ErrorKind::Interrupted, "interrupted"));
    }
    let n = dm.n;
    let max_finite = dm.max_finite();
    let thr = match opts.threshold {
        Some(t) => t,
        None => dm.enclosing_radius(),
    }
    .min(max_finite);
    if opts.max_dim >= 1 && opts.collapse.unwrap_or(opts.max_dim >= 2) {
        // The collapse scans a neighbourhood per edge: as much work as the H1 bound counts,
        // and as uninterruptible, so the bound holds before it too (10,000 points on a line
        // under a 3 GB memory limit collapsed for minutes before being refused).
        check_work(n, edges_within(&dm, thr), thr)?;
        // Asked for: keep whatever it did. By default: keep it when it removed at least
        // a tenth of the edges (see `collapse.rs`).
        let min_trimmed = if opts.collapse == Some(true) { 0.0 } else { 0.1 };
        collapse::collapse(&mut dm, thr, min_trimmed, monitor)?;
    }
    // The dimension-0/1 bound assumed every pair is an edge; with a collapse or higher
    // dimensions, check again at the density measured.
    // One count of the edges left serves both checks.
    let within = if opts.max_dim >= 1 || opts.collapse == Some(true) { edges_within(&dm, thr) } else { 0 };
    if opts.max_dim >= 2 || opts.collapse == Some(true) {
        let pairs = n * (n - 1) / 2;
        let density = if pairs == 0 { 0.0 } else { within as f64 / pairs as f64 };
        check_budget(n, opts, estimate_memory_with_density(n, opts, density))?;
    }
    if opts.max_dim >= 1 {
        check_work(n, within, thr)?;
    }
    let mut r = rips::Rips::try_new(&dm, thr, u32::from(opts.modulus), opts.max_dim)?;
    // The lazy Z/2 H1 reduction needs neighbour lists (12 B per pair within the threshold
    // and end): only when they fit the budget beside the estimate, else the heap path.
    let pairs = n * (n - 1) / 2;
    let density = if pairs == 0 { 0.0 } else { within as f64 / pairs as f64 };
    let lists = (within as f64) * 24.0;
    r.lazy_h1 = estimate_memory_with_density(n, opts, density) as f64 + lists <= opts.memory_budget as f64;
    let mut out = Vec::new();
    let mut stats = rips::Stats::default();
    r.compute(opts.max_dim, pool, monitor, &mut out, &mut stats)?;
    out.sort_by(|a, b| a.dim.cmp(&b.dim).then(a.birth.total_cmp(&b.birth)).then(a.death.total_cmp(&b.death)));
    Ok(out)
}

/// Vietoris–Rips persistence of a point cloud (one `Vec` per point).
///
/// Errors: fewer than 2 points, a NaN/infinite coordinate (names the point), mixed
/// dimensions, `max_dim > 8` or an index overflow, `threshold <= 0`, a non-prime
/// modulus, the memory estimate above `memory_budget`, `monitor` returning true
/// (checked between phases and every 2048 columns).
pub fn persistence_from_points(
    points: &[Vec<f64>],
    opts: &RipsOptions,
    pool: Option<&ThreadPool>,
    monitor: Monitor<'_>,
) -> Result<Vec<PersistencePair>> {
    let dim = distance::validate_points(points)?;
    let unique;
    let points: &[Vec<f64>] = match distance::duplicate_points(points) {
        None => points,
        Some((a, b)) if !opts.dedup => {
            return Err(Error::invalid(format!(
                "the point {:?} occurs more than once (points {a} and {b} as received); a repeated point only adds a \
                 zero-length H0 bar: remove duplicates (SELECT DISTINCT ...) or pass dedup := true",
                points[a]
            )))
        }
        Some(_) => {
            unique = distance::unique_points(points);
            if unique.len() < 2 {
                return Err(Error::invalid("need at least 2 distinct points, all points are identical"));
            }
            &unique
        }
    };
    let opts = &precheck(points.len(), opts)?;
    let owned;
    let pts: &[Vec<f64>] = if opts.standardize {
        owned = distance::standardize(points, dim);
        &owned
    } else {
        points
    };
    let ctx = MetricCtx::try_new(opts.metric, pts)?;
    let dm = match opts.sample {
        Some(k) if k < pts.len() => {
            let idx = distance::furthest_point_sample(&ctx, pts.len(), k);
            let sub: Vec<Vec<f64>> = idx.iter().map(|&i| pts[i].clone()).collect();
            let sctx = MetricCtx::try_new(opts.metric, &sub)?;
            distance::matrix_from_points(&sctx, sub.len(), pool)
        }
        _ => distance::matrix_from_points(&ctx, pts.len(), pool),
    };
    run(dm, opts, pool, monitor)
}

/// Vietoris–Rips persistence of `n` points given by `(i, j, distance)` rows, sparse
/// (missing pairs are not edges) or full. Distances must be non-negative, `d(i, i)`
/// zero, and a pair given twice (as `(i, j)` and `(j, i)`) must agree. `metric` and
/// `standardize` are ignored; `sample` picks furthest points by these distances.
pub fn persistence_from_distances(
    n: usize,
    edges: &[(usize, usize, f64)],
    opts: &RipsOptions,
    pool: Option<&ThreadPool>,
    monitor: Monitor<'_>,
) -> Result<Vec<PersistencePair>> {
    if n < 2 {
        return Err(Error::invalid(format!("need at least 2 points, got {n}")));
    }
    let opts = &precheck(n, opts)?;
    if !opts.dedup {
        if let Some((i, j, _)) = edges.iter().find(|e| e.0 != e.1 && e.2 == 0.0) {
            return Err(Error::invalid(format!(
                "distance between points {i} and {j} is 0: they coincide; merge them or pass dedup := true"
            )));
        }
    }
    let dm = distance::matrix_from_edges(n, edges)?;
    let dm = match opts.sample {
        Some(k) if k < n => {
            let idx = distance::furthest_point_sample_matrix(&dm, k);
            let mut d = Vec::with_capacity(k * k);
            for &i in &idx {
                d.extend(idx.iter().map(|&j| dm.get(i, j)));
            }
            DistanceMatrix { n: k, d }
        }
        _ => dm,
    };
    run(dm, opts, pool, monitor)
}

#[cfg(test)]
mod tests;
