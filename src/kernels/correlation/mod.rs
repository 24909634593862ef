//! The mergeable state behind `dr_correlations(row)`: every pairwise measure and every
//! dependency of a table in one scan.
//!
//! One `update_rows` pass feeds everything:
//! - **Pearson co-moments** per numeric pair over pairwise-complete rows: each batch is
//!   reduced exactly by two passes, then merged with Chan, Golub & LeVeque's pairwise update
//!   (1979, eq. 2.1) — exact over all rows and mergeable.
//! - **Pair count tables** `(value_a, value_b) → rows` for every column pair, exact while a
//!   pair holds at most `pair_cap` distinct value pairs (the cap depends only on the schema and
//!   the options, so whether a table survived does not depend on how rows were split). They
//!   give χ²/Cramér's V/Theil's U and functional dependencies exactly over all rows.
//! - **Per-column value counts** (exact while at most `column_cap` distinct values): NULL and
//!   constant detection, the cardinality rule for categorical columns, candidate keys.
//! - **Grouped moments** per (categorical, numeric) pair for η, exact over all rows.
//! - **A bottom-k row sample**: each row gets the priority `hash(seed, row content)` and the
//!   state keeps the k rows with the smallest (priority, content). The k smallest of a union are
//!   the k smallest of the k smallest of each part, so merged samples equal a single-pass sample
//!   whatever the split (Cohen & Kaplan, "Summarizing data using bottom-k sketches", PODC 2007).
//!   Identical rows share a priority: they enter or leave the sample together, which keeps the
//!   result split-independent. Spearman, Kendall, mutual information, derived columns, two-column
//!   FDs, and any pair whose count table overflowed use this sample (`sampled = true` when it
//!   holds fewer rows than the input).
//!
//! Non-finite numeric values (NaN, ±Inf) are treated as NULL. Pairwise measures use the rows
//! where both columns are non-NULL (`n`).

mod contingency;
mod deps;
mod rank;
pub mod special;

use crate::kernels::{Error, Result};
use contingency::{Moments, Table};
use std::collections::HashMap;

/// How a column takes part in the measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    /// Numbers (integers, decimals, floats).
    Numeric,
    /// Dates and timestamps, as numbers (e.g. epoch microseconds); counts as numeric.
    Temporal,
    /// Text, booleans, enums and other discrete values, as 64-bit hashes.
    Categorical,
}

impl ColumnRole {
    fn is_numeric(self) -> bool {
        !matches!(self, ColumnRole::Categorical)
    }
}

/// Name and role of one input column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMeta {
    /// Column name as reported in the results.
    pub name: String,
    /// Numeric, temporal or categorical.
    pub role: ColumnRole,
}

/// One batch of one column. The validity mask has bit `i % 64` of word `i / 64` set when
/// row `i` is valid; `None` means all rows are valid.
#[derive(Debug, Clone, Copy)]
pub enum ColumnData<'a> {
    /// Values of a numeric or temporal column.
    Numeric(&'a [f64], Option<&'a [u64]>),
    /// 64-bit hashes of the values of a categorical column.
    Categorical(&'a [u64], Option<&'a [u64]>),
}

/// Options of the correlation kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrOptions {
    /// Subset of pearson, spearman, kendall, cramers_v, theils_u, eta, mutual_info;
    /// empty = all.
    pub methods: Vec<String>,
    /// Row budget of the sample for rank methods, MI, derived columns (default 100 000).
    pub sample_size: usize,
    /// Minimum row-weighted confidence of a reported functional dependency (0.95).
    pub fd_min_confidence: f64,
    /// Relative tolerance of derived-column matches (1e-6).
    pub derived_tolerance: f64,
    /// Minimum match rate of a derived column (0.95).
    pub derived_min_rate: f64,
    /// A categorical column with more distinct values is skipped for categorical measures
    /// (default 1 000).
    pub max_categories: usize,
    /// Seed of the sampling priorities.
    pub seed: u64,
    /// Total distinct value pairs kept exactly across all pair tables (default 16 Mi); the
    /// per-pair cap is this divided by the number of pairs, clamped to [256, 1 Mi].
    pub pair_budget_entries: usize,
    /// Total distinct values kept exactly across all columns (default 8 Mi); per column at
    /// least `max_categories + 1`, at most 4 Mi.
    pub column_budget_entries: usize,
    /// Memory budget of the row sample in bytes (default 256 MiB); the sample keeps
    /// `min(sample_size, budget / (16 · columns + 32))` rows.
    pub sample_budget_bytes: usize,
    /// Two-column determinants (A, B) → C are searched when the table has at most this many
    /// columns (default 24), over at most `fd2_rows` sample rows (default 20 000).
    pub fd2_max_columns: usize,
    /// Sample rows used by the two-column FD search.
    pub fd2_rows: usize,
    /// Derived columns are searched among the first this many usable numeric columns (64).
    pub derived_max_columns: usize,
}

impl Default for CorrOptions {
    fn default() -> Self {
        CorrOptions {
            methods: Vec::new(),
            sample_size: 100_000,
            fd_min_confidence: 0.95,
            derived_tolerance: 1e-6,
            derived_min_rate: 0.95,
            max_categories: 1_000,
            seed: 0x5eed_da7a_ba5e,
            pair_budget_entries: 16 << 20,
            column_budget_entries: 8 << 20,
            sample_budget_bytes: 256 << 20,
            fd2_max_columns: 24,
            fd2_rows: 20_000,
            derived_max_columns: 64,
        }
    }
}

/// All method names, in output order.
pub const METHODS: [&str; 7] = ["pearson", "spearman", "kendall", "cramers_v", "theils_u", "eta", "mutual_info"];

/// One pairwise measure (or the reason it was skipped).
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// First column. For `theils_u`: the predicting column.
    pub column_a: String,
    /// Second column. For `theils_u`: the predicted column (value = U(b | a)).
    /// For `eta`: the numeric column (column_a is categorical).
    pub column_b: String,
    /// Method name.
    pub method: String,
    /// The measure; None when skipped.
    pub value: Option<f64>,
    /// Two-sided p-value where the method has a test.
    pub p_value: Option<f64>,
    /// Rows (pairs) the value was computed from.
    pub n: u64,
    /// none / weak / moderate / strong / very_strong by |value| (see [`strength`]).
    pub strength: String,
    /// p < 0.05, where there is a p-value.
    pub significant: Option<bool>,
    /// True when computed over the row sample rather than all rows.
    pub sampled: bool,
    /// Why the value is missing.
    pub skipped_reason: Option<String>,
    /// Test statistic where there is one (t for pearson/spearman, z or none for kendall,
    /// χ² for cramers_v, F for eta).
    pub statistic: Option<f64>,
    /// Degrees of freedom of the test (χ² dof; n − 2 for t tests; between-groups dof for F).
    pub dof: Option<f64>,
}

/// A dependency between columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// functional_dependency | candidate_key | derived_column | multicollinearity.
    pub kind: String,
    /// Determinant columns (key columns; columns involved in a collinearity).
    pub determinant: Vec<String>,
    /// Dependent column, where there is one.
    pub dependent: Option<String>,
    /// Row-weighted confidence (FD), match rate (derived), 1 (key), R² = 1 − 1/VIF or the
    /// largest variance-decomposition proportion (multicollinearity).
    pub confidence: f64,
    /// Rows that violate the dependency.
    pub violations: u64,
    /// For derived columns, e.g. `total = price * quantity`.
    pub expression: Option<String>,
    /// Human-readable details (exact/sampled, rows, VIF, condition index, ...).
    pub details: String,
}

/// Everything `finalize` returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CorrResult {
    /// Pairwise measures, ordered by (column_a index, column_b index, method).
    pub correlations: Vec<Correlation>,
    /// Dependencies, ordered by kind then columns.
    pub dependencies: Vec<Dependency>,
}

/// Strength label of |v|: < 0.1 none, < 0.3 weak, < 0.5 moderate, < 0.7 strong, else
/// very_strong.
pub fn strength(v: Option<f64>) -> &'static str {
    match v.map(f64::abs) {
        Some(a) if a >= 0.7 => "very_strong",
        Some(a) if a >= 0.5 => "strong",
        Some(a) if a >= 0.3 => "moderate",
        Some(a) if a >= 0.1 => "weak",
        _ => "none",
    }
}

/// Pearson co-moments of one pair over pairwise-complete rows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct CoMoments {
    n: f64,
    mx: f64,
    my: f64,
    m2x: f64,
    m2y: f64,
    cxy: f64,
}

impl CoMoments {
    /// Chan, Golub & LeVeque 1979 eq. 2.1 extended to the cross moment.
    fn merge(&mut self, o: &CoMoments) {
        if o.n == 0.0 {
            return;
        }
        if self.n == 0.0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let dx = o.mx - self.mx;
        let dy = o.my - self.my;
        let w = self.n * o.n / n;
        self.m2x += o.m2x + dx * dx * w;
        self.m2y += o.m2y + dy * dy * w;
        self.cxy += o.cxy + dx * dy * w;
        self.mx += dx * o.n / n;
        self.my += dy * o.n / n;
        self.n = n;
    }
}

/// Exact counts, or a marker that the cap was exceeded.
#[derive(Debug, Clone, PartialEq)]
enum Counts<K: std::hash::Hash + Eq> {
    Exact(HashMap<K, u64>),
    Overflow,
}

impl<K: std::hash::Hash + Eq + Copy> Counts<K> {
    fn new() -> Self {
        Counts::Exact(HashMap::new())
    }
    fn add(&mut self, k: K, c: u64, cap: usize) {
        if let Counts::Exact(m) = self {
            *m.entry(k).or_insert(0) += c;
            if m.len() > cap {
                *self = Counts::Overflow;
            }
        }
    }
    fn merge(&mut self, o: &Counts<K>, cap: usize) {
        match o {
            Counts::Overflow => *self = Counts::Overflow,
            Counts::Exact(om) => {
                for (k, c) in om {
                    self.add(*k, *c, cap);
                }
            }
        }
    }
    fn len(&self) -> usize {
        match self {
            Counts::Exact(m) => m.len(),
            Counts::Overflow => 0,
        }
    }
}

/// One sampled row: priority, encoded values, validity bits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SampleRow {
    prio: u64,
    vals: Box<[u64]>,
    valid: Box<[u64]>,
}

/// The mergeable state of `dr_correlations`. `Default` is the identity of `combine`.
#[derive(Debug, Clone, Default)]
pub struct CorrState {
    columns: Vec<ColumnMeta>,
    options: CorrOptions,
    ready: bool,
    rows: u64,
    nonnull: Vec<u64>,
    col_counts: Vec<Counts<u64>>,
    /// Upper-triangular pair index over all columns.
    pearson: Vec<CoMoments>,
    pairs: Vec<Counts<(u64, u64)>>,
    /// For (categorical, numeric) pairs: moments of the numeric side per category.
    groups: Vec<Option<Counts2>>,
    sample: Vec<SampleRow>,
}

/// Per-category moments with the cardinality cap.
#[derive(Debug, Clone, PartialEq)]
enum Counts2 {
    Exact(HashMap<u64, Moments>),
    Overflow,
}

fn pair_index(i: usize, j: usize, p: usize) -> usize {
    // i < j
    i * p - i * (i + 1) / 2 + (j - i - 1)
}

fn mix(mut z: u64) -> u64 {
    // splitmix64 finaliser (Steele, Lea, Flood 2014)
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn encode_num(x: f64) -> Option<u64> {
    if x.is_finite() { Some((x + 0.0).to_bits()) } else { None }
}

fn bit(mask: Option<&[u64]>, i: usize) -> bool {
    match mask {
        None => true,
        Some(m) => m.get(i / 64).is_some_and(|w| (w >> (i % 64)) & 1 == 1),
    }
}

impl CorrState {
    /// A state for a known schema.
    pub fn new(columns: Vec<ColumnMeta>, options: CorrOptions) -> Self {
        let mut s = CorrState { options, ..Default::default() };
        s.init(columns);
        s
    }

    /// A state with options whose schema is taken on the first `update_rows`.
    pub fn with_options(options: CorrOptions) -> Self {
        CorrState { options, ..Default::default() }
    }

    /// The options in use.
    pub fn options(&self) -> &CorrOptions {
        &self.options
    }

    fn init(&mut self, columns: Vec<ColumnMeta>) {
        let p = columns.len();
        let np = p * p.saturating_sub(1) / 2;
        self.nonnull = vec![0; p];
        self.col_counts = (0..p).map(|_| Counts::new()).collect();
        self.pearson = vec![CoMoments::default(); np];
        self.pairs = (0..np).map(|_| Counts::new()).collect();
        self.groups = vec![None; np];
        for i in 0..p {
            for j in i + 1..p {
                if columns[i].role.is_numeric() != columns[j].role.is_numeric() {
                    self.groups[pair_index(i, j, p)] = Some(Counts2::Exact(HashMap::new()));
                }
            }
        }
        self.columns = columns;
        self.ready = true;
    }

    fn pair_cap(&self) -> usize {
        let np = self.pairs.len().max(1);
        (self.options.pair_budget_entries / np).clamp(256, 1 << 20)
    }

    fn column_cap(&self) -> usize {
        let p = self.columns.len().max(1);
        (self.options.column_budget_entries / p).clamp(self.options.max_categories + 1, (4 << 20).max(self.options.max_categories + 1))
    }

    fn sample_cap(&self) -> usize {
        let per_row = 16 * self.columns.len() + 32;
        self.options.sample_size.min(self.options.sample_budget_bytes / per_row).max(1)
    }

    /// Adds `rows` rows. `columns` must be the state's schema (or becomes it on a fresh
    /// state); `data[c]` holds column c.
    pub fn update_rows(&mut self, columns: &[ColumnMeta], data: &[ColumnData], rows: usize) -> Result<()> {
        if !self.ready {
            self.init(columns.to_vec());
        } else if columns != self.columns.as_slice() {
            return Err(Error::invalid("dr_correlations: the row schema changed between updates"));
        }
        let p = self.columns.len();
        if data.len() != p {
            return Err(Error::invalid(format!("dr_correlations: {} columns declared but {} given", p, data.len())));
        }
        // Encode the batch: value words and validity per column.
        let mut enc: Vec<Vec<u64>> = Vec::with_capacity(p);
        let mut val: Vec<Vec<bool>> = Vec::with_capacity(p);
        for (c, d) in data.iter().enumerate() {
            let numeric = self.columns[c].role.is_numeric();
            let mut e = vec![0u64; rows];
            let mut v = vec![false; rows];
            match (d, numeric) {
                (ColumnData::Numeric(x, m), true) => {
                    if x.len() < rows {
                        return Err(Error::invalid("dr_correlations: a column batch is shorter than the row count"));
                    }
                    for r in 0..rows {
                        if bit(*m, r) {
                            if let Some(b) = encode_num(x[r]) {
                                e[r] = b;
                                v[r] = true;
                            }
                        }
                    }
                }
                (ColumnData::Categorical(h, m), false) => {
                    if h.len() < rows {
                        return Err(Error::invalid("dr_correlations: a column batch is shorter than the row count"));
                    }
                    for r in 0..rows {
                        if bit(*m, r) {
                            e[r] = h[r];
                            v[r] = true;
                        }
                    }
                }
                _ => {
                    return Err(Error::invalid(format!(
                        "dr_correlations: column '{}' data does not match its role",
                        self.columns[c].name
                    )))
                }
            }
            enc.push(e);
            val.push(v);
        }
        self.rows += rows as u64;
        let ccap = self.column_cap();
        let pcap = self.pair_cap();
        let maxcat = self.options.max_categories;
        for c in 0..p {
            for r in 0..rows {
                if val[c][r] {
                    self.nonnull[c] += 1;
                    self.col_counts[c].add(enc[c][r], 1, ccap);
                }
            }
        }
        for i in 0..p {
            for j in i + 1..p {
                let k = pair_index(i, j, p);
                let (vi, vj) = (&val[i], &val[j]);
                if self.columns[i].role.is_numeric() && self.columns[j].role.is_numeric() {
                    self.pearson[k].merge(&batch_comoments(&enc[i], vi, &enc[j], vj));
                }
                if let Counts::Exact(_) = self.pairs[k] {
                    let t = &mut self.pairs[k];
                    for r in 0..rows {
                        if vi[r] && vj[r] {
                            t.add((enc[i][r], enc[j][r]), 1, pcap);
                            if matches!(t, Counts::Overflow) {
                                break;
                            }
                        }
                    }
                }
                if let Some(Counts2::Exact(g)) = &mut self.groups[k] {
                    let (ci, ni) = if self.columns[i].role.is_numeric() { (j, i) } else { (i, j) };
                    let mut over = false;
                    for r in 0..rows {
                        if vi[r] && vj[r] {
                            g.entry(enc[ci][r]).or_default().push(f64::from_bits(enc[ni][r]));
                            if g.len() > maxcat {
                                over = true;
                                break;
                            }
                        }
                    }
                    if over {
                        self.groups[k] = Some(Counts2::Overflow);
                    }
                }
            }
        }
        // Bottom-k sample.
        let cap = self.sample_cap();
        let words = p.div_ceil(64).max(1);
        for r in 0..rows {
            let mut h = mix(self.options.seed ^ 0x9e37_79b9_7f4a_7c15);
            let mut vals = Vec::with_capacity(p);
            let mut valid = vec![0u64; words];
            for c in 0..p {
                let w = if val[c][r] { enc[c][r] } else { 0 };
                if val[c][r] {
                    valid[c / 64] |= 1 << (c % 64);
                }
                vals.push(w);
                h = mix(h ^ w.wrapping_add(c as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (val[c][r] as u64));
            }
            self.sample.push(SampleRow { prio: h, vals: vals.into_boxed_slice(), valid: valid.into_boxed_slice() });
            if self.sample.len() >= 2 * cap {
                prune(&mut self.sample, cap);
            }
        }
        Ok(())
    }

    /// Merges `other` into `self`; `other` is not modified.
    pub fn combine(&mut self, other: &CorrState) -> Result<()> {
        if !other.ready {
            return Ok(());
        }
        if !self.ready {
            let options = self.options.clone();
            *self = other.clone();
            if options != CorrOptions::default() && options != other.options {
                self.options = options;
            }
            return Ok(());
        }
        if self.columns != other.columns {
            return Err(Error::invalid("dr_correlations: cannot combine states of different row schemas"));
        }
        self.rows += other.rows;
        let ccap = self.column_cap();
        let pcap = self.pair_cap();
        let maxcat = self.options.max_categories;
        for c in 0..self.columns.len() {
            self.nonnull[c] += other.nonnull[c];
            self.col_counts[c].merge(&other.col_counts[c], ccap);
        }
        for k in 0..self.pairs.len() {
            self.pearson[k].merge(&other.pearson[k]);
            self.pairs[k].merge(&other.pairs[k], pcap);
            let merged = match (&mut self.groups[k], &other.groups[k]) {
                (Some(Counts2::Exact(a)), Some(Counts2::Exact(b))) => {
                    for (key, m) in b {
                        a.entry(*key).or_default().merge(m);
                    }
                    a.len() <= maxcat
                }
                (Some(_), Some(Counts2::Overflow)) => false,
                _ => true,
            };
            if !merged {
                self.groups[k] = Some(Counts2::Overflow);
            }
        }
        let cap = self.sample_cap();
        self.sample.extend(other.sample.iter().cloned());
        if self.sample.len() >= 2 * cap {
            prune(&mut self.sample, cap);
        }
        Ok(())
    }

    /// Approximate heap bytes held by the state.
    pub fn state_bytes(&self) -> usize {
        let p = self.columns.len();
        let counts: usize = self.pairs.iter().map(|c| c.len() * 32).sum::<usize>()
            + self.col_counts.iter().map(|c| c.len() * 24).sum::<usize>();
        let groups: usize = self
            .groups
            .iter()
            .map(|g| match g {
                Some(Counts2::Exact(m)) => m.len() * 40,
                _ => 0,
            })
            .sum();
        counts + groups + self.pearson.len() * 48 + self.sample.len() * (8 * p + 8 * p.div_ceil(64) + 40)
    }

    /// Computes every measure and dependency. Pair loops run on `pool` when given.
    pub fn finalize(&self, pool: Option<&rayon::ThreadPool>) -> Result<CorrResult> {
        if !self.ready {
            return Ok(CorrResult::default());
        }
        let ctx = finalize_ctx(self);
        let p = self.columns.len();
        let pair_list: Vec<(usize, usize)> = (0..p).flat_map(|i| (i + 1..p).map(move |j| (i, j))).collect();
        let per_pair: Vec<Vec<Correlation>> = par_map(pool, &pair_list, |&(i, j)| ctx.pair_measures(i, j));
        let correlations = per_pair.into_iter().flatten().collect();
        let dependencies = deps::find(&ctx, pool)?;
        Ok(CorrResult { correlations, dependencies })
    }
}

fn prune(sample: &mut Vec<SampleRow>, cap: usize) {
    if sample.len() > cap {
        sample.select_nth_unstable(cap);
        sample.truncate(cap);
    }
}

/// Exact co-moments of one batch (two passes), for merging.
fn batch_comoments(ex: &[u64], vx: &[bool], ey: &[u64], vy: &[bool]) -> CoMoments {
    let (mut n, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for r in 0..ex.len() {
        if vx[r] && vy[r] {
            n += 1.0;
            sx += f64::from_bits(ex[r]);
            sy += f64::from_bits(ey[r]);
        }
    }
    if n == 0.0 {
        return CoMoments::default();
    }
    let (mx, my) = (sx / n, sy / n);
    let (mut m2x, mut m2y, mut cxy) = (0.0, 0.0, 0.0);
    for r in 0..ex.len() {
        if vx[r] && vy[r] {
            let dx = f64::from_bits(ex[r]) - mx;
            let dy = f64::from_bits(ey[r]) - my;
            m2x += dx * dx;
            m2y += dy * dy;
            cxy += dx * dy;
        }
    }
    CoMoments { n, mx, my, m2x, m2y, cxy }
}

/// Maps `f` over `items` on `pool` (in order), or sequentially without a pool.
pub(crate) fn par_map<T: Sync, R: Send>(
    pool: Option<&rayon::ThreadPool>,
    items: &[T],
    f: impl Fn(&T) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    match pool {
        Some(pool) => pool.install(|| items.par_iter().map(&f).collect()),
        None => items.iter().map(f).collect(),
    }
}

/// Why a column is unusable for pairwise measures, if it is.
fn column_skip(s: &CorrState, c: usize) -> Option<String> {
    let name = &s.columns[c].name;
    if s.nonnull[c] == 0 {
        return Some(format!("column '{name}' is all NULL"));
    }
    if s.nonnull[c] == 1 {
        return Some(format!("column '{name}' has a single non-NULL row"));
    }
    if s.col_counts[c].len() == 1 {
        return Some(format!("column '{name}' is constant"));
    }
    None
}

/// The finalised view of a state: sample decoded per column, skips, flags.
pub(crate) struct Ctx<'a> {
    pub(crate) s: &'a CorrState,
    /// Sample rows, sorted by priority.
    pub(crate) sample: Vec<&'a SampleRow>,
    /// True when the sample holds every input row.
    pub(crate) sample_exact: bool,
    pub(crate) skip: Vec<Option<String>>,
    /// Categorical column with more than max_categories values.
    pub(crate) high_card: Vec<bool>,
    /// Per-column MI codes over the sample (bins for numeric), None when NULL.
    pub(crate) codes: Vec<Vec<Option<u64>>>,
    methods: Vec<bool>,
}

fn finalize_ctx(s: &CorrState) -> Ctx<'_> {
    let p = s.columns.len();
    let cap = s.sample_cap();
    let mut sample: Vec<&SampleRow> = s.sample.iter().collect();
    sample.sort_unstable();
    sample.truncate(cap);
    let sample_exact = sample.len() as u64 == s.rows;
    let skip: Vec<Option<String>> = (0..p).map(|c| column_skip(s, c)).collect();
    let high_card: Vec<bool> = (0..p)
        .map(|c| {
            !s.columns[c].role.is_numeric()
                && match &s.col_counts[c] {
                    Counts::Overflow => true,
                    Counts::Exact(m) => m.len() > s.options.max_categories,
                }
        })
        .collect();
    let methods = METHODS
        .iter()
        .map(|m| s.options.methods.is_empty() || s.options.methods.iter().any(|x| x.eq_ignore_ascii_case(m)))
        .collect();
    let mut ctx = Ctx { s, sample, sample_exact, skip, high_card, codes: Vec::new(), methods };
    ctx.codes = (0..p).map(|c| ctx.mi_codes(c)).collect();
    ctx
}

impl<'a> Ctx<'a> {
    pub(crate) fn p(&self) -> usize {
        self.s.columns.len()
    }
    pub(crate) fn name(&self, c: usize) -> &str {
        &self.s.columns[c].name
    }
    pub(crate) fn numeric(&self, c: usize) -> bool {
        self.s.columns[c].role.is_numeric()
    }
    /// Sample value of column c in row r, None when NULL.
    pub(crate) fn word(&self, r: &SampleRow, c: usize) -> Option<u64> {
        if (r.valid[c / 64] >> (c % 64)) & 1 == 1 { Some(r.vals[c]) } else { None }
    }
    /// Complete sample pairs of two numeric columns.
    fn sample_xy(&self, i: usize, j: usize) -> (Vec<f64>, Vec<f64>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for r in &self.sample {
            if let (Some(a), Some(b)) = (self.word(r, i), self.word(r, j)) {
                x.push(f64::from_bits(a));
                y.push(f64::from_bits(b));
            }
        }
        (x, y)
    }

    /// MI codes: categorical hashes, or quantile bins for numeric columns. Bin count by the
    /// Rice rule k = ⌈2 n^{1/3}⌉ clamped to [2, 64]; cut points at the j/k sample quantiles
    /// (equal-frequency bins, robust to outliers); a value's bin is the number of cut
    /// points <= it, so ties share a bin. Columns with at most k distinct values use the
    /// values themselves.
    fn mi_codes(&self, c: usize) -> Vec<Option<u64>> {
        let raw: Vec<Option<u64>> = self.sample.iter().map(|r| self.word(r, c)).collect();
        if !self.numeric(c) {
            return raw;
        }
        let mut v: Vec<f64> = raw.iter().flatten().map(|&b| f64::from_bits(b)).collect();
        v.sort_unstable_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            return raw;
        }
        let k = ((2.0 * (n as f64).cbrt()).ceil() as usize).clamp(2, 64);
        let mut distinct = v.clone();
        distinct.dedup();
        if distinct.len() <= k {
            return raw;
        }
        let mut cuts: Vec<f64> = (1..k).map(|j| v[(j * n / k).min(n - 1)]).collect();
        cuts.dedup();
        raw.iter()
            .map(|o| {
                o.map(|b| {
                    let x = f64::from_bits(b);
                    cuts.partition_point(|&t| t <= x) as u64
                })
            })
            .collect()
    }

    fn base(&self, a: usize, b: usize, method: &str) -> Correlation {
        Correlation {
            column_a: self.name(a).to_string(),
            column_b: self.name(b).to_string(),
            method: method.to_string(),
            value: None,
            p_value: None,
            n: 0,
            strength: "none".into(),
            significant: None,
            sampled: false,
            skipped_reason: None,
            statistic: None,
            dof: None,
        }
    }

    fn method_on(&self, m: &str) -> bool {
        METHODS.iter().position(|x| *x == m).is_some_and(|i| self.methods[i])
    }

    /// Every applicable measure of one pair (i < j).
    fn pair_measures(&self, i: usize, j: usize) -> Vec<Correlation> {
        let mut out = Vec::new();
        let s = self.s;
        let p = self.p();
        let k = pair_index(i, j, p);
        let (ni, nj) = (self.numeric(i), self.numeric(j));
        let col_skip = self.skip[i].clone().or_else(|| self.skip[j].clone());
        let sampled = !self.sample_exact;
        let finish = |mut c: Correlation, v: Option<f64>, pv: Option<f64>, n: u64, reason: Option<String>| {
            let reason = col_skip.clone().or(reason);
            if reason.is_some() {
                c.skipped_reason = reason;
                c.n = n;
                return c;
            }
            c.value = v;
            c.p_value = pv;
            c.n = n;
            c.strength = strength(v).into();
            c.significant = pv.map(|p| p < 0.05);
            c
        };
        let usable = col_skip.is_none();
        if ni && nj {
            if self.method_on("pearson") {
                let m = &s.pearson[k];
                let n = m.n as u64;
                let mut c = self.base(i, j, "pearson");
                let (v, pv, why) = if n < 3 {
                    (None, None, Some("fewer than 3 complete rows".to_string()))
                } else if m.m2x <= 0.0 || m.m2y <= 0.0 {
                    (None, None, Some("a column is constant over the complete rows".to_string()))
                } else {
                    let r = (m.cxy / (m.m2x.sqrt() * m.m2y.sqrt())).clamp(-1.0, 1.0);
                    let df = m.n - 2.0;
                    c.dof = Some(df);
                    c.statistic = Some(if r.abs() < 1.0 { r * (df / (1.0 - r * r)).sqrt() } else { r.signum() * f64::INFINITY });
                    (Some(r), Some(special::r_two_sided(r, m.n)), None)
                };
                out.push(finish(c, v, pv, n, why));
            }
            let want_rank = self.method_on("spearman") || self.method_on("kendall");
            let (x, y) = if want_rank && usable { self.sample_xy(i, j) } else { (Vec::new(), Vec::new()) };
            if self.method_on("spearman") {
                let mut c = self.base(i, j, "spearman");
                c.sampled = sampled;
                let r = if usable { rank::spearman(&x, &y) } else { None };
                let why = if r.is_none() { Some("fewer than 3 complete rows or a constant side in the sample".to_string()) } else { None };
                if let Some((rho, _)) = r {
                    let df = x.len() as f64 - 2.0;
                    c.dof = Some(df);
                    c.statistic = Some(if rho.abs() < 1.0 { rho * (df / ((1.0 + rho) * (1.0 - rho))).sqrt() } else { rho.signum() * f64::INFINITY });
                }
                out.push(finish(c, r.map(|t| t.0), r.map(|t| t.1), x.len() as u64, why));
            }
            if self.method_on("kendall") {
                let mut c = self.base(i, j, "kendall");
                c.sampled = sampled;
                let r = if usable { rank::kendall_tau_b(&x, &y) } else { None };
                let why = if r.is_none() { Some("fewer than 2 complete rows or a constant side in the sample".to_string()) } else { None };
                out.push(finish(c, r.map(|t| t.0), r.map(|t| t.1), x.len() as u64, why));
            }
        } else if !ni && !nj {
            let hc = if self.high_card[i] || self.high_card[j] {
                let c = if self.high_card[i] { i } else { j };
                Some(format!("column '{}' has more than {} distinct values", self.name(c), s.options.max_categories))
            } else {
                None
            };
            let want = self.method_on("cramers_v") || self.method_on("theils_u");
            let (table, tsampled) = if want && usable && hc.is_none() { self.table(i, j, k) } else { (None, false) };
            let n = table.as_ref().map(|t| t.cells.iter().sum::<u64>()).unwrap_or(0);
            if self.method_on("cramers_v") {
                let mut c = self.base(i, j, "cramers_v");
                c.sampled = tsampled;
                let cs = table.as_ref().and_then(contingency::chi_square);
                let why = hc.clone().or_else(|| match &cs {
                    None => Some("fewer than 2 values on a side over the complete rows".into()),
                    Some(x) if x.v_corrected.is_none() => Some("too few rows for the bias correction".into()),
                    _ => None,
                });
                if let Some(x) = cs {
                    c.statistic = Some(x.chi2);
                    c.dof = Some(x.dof);
                }
                out.push(finish(c, cs.and_then(|x| x.v_corrected), cs.map(|x| x.p_value), n, why));
            }
            if self.method_on("theils_u") {
                let (u_ji, u_ij) = table.as_ref().map(contingency::theils_u).unwrap_or((None, None));
                for (a, b, u) in [(i, j, u_ji), (j, i, u_ij)] {
                    let mut c = self.base(a, b, "theils_u");
                    c.sampled = tsampled;
                    let why = hc.clone().or_else(|| if u.is_none() { Some("the predicted column is constant over the complete rows".into()) } else { None });
                    out.push(finish(c, u, None, n, why));
                }
            }
        } else if self.method_on("eta") {
            let (cat, num) = if ni { (j, i) } else { (i, j) };
            let mut c = self.base(cat, num, "eta");
            let hc = if self.high_card[cat] {
                Some(format!("column '{}' has more than {} distinct values", self.name(cat), s.options.max_categories))
            } else {
                None
            };
            let res = match (&s.groups[k], &hc) {
                (Some(Counts2::Exact(g)), None) => {
                    let mut keys: Vec<&u64> = g.keys().collect();
                    keys.sort_unstable();
                    let gs: Vec<Moments> = keys.iter().filter_map(|k| g.get(*k).copied()).collect();
                    let n = gs.iter().map(|m| m.n).sum::<f64>() as u64;
                    (contingency::correlation_ratio(&gs), n, gs.len())
                }
                _ => (None, 0, 0),
            };
            let why = hc.or_else(|| if res.0.is_none() { Some("fewer than 2 groups or a constant numeric column".into()) } else { None });
            if let Some((eta, _, n)) = res.0 {
                let kf = res.2 as f64;
                c.dof = Some(kf - 1.0);
                let r2 = eta * eta;
                if n > kf && r2 < 1.0 {
                    c.statistic = Some((r2 / (kf - 1.0)) / ((1.0 - r2) / (n - kf)));
                }
            }
            out.push(finish(c, res.0.map(|t| t.0), res.0.and_then(|t| t.1), res.1, why));
        }
        if self.method_on("mutual_info") {
            let mut c = self.base(i, j, "mutual_info");
            c.sampled = sampled;
            let hc = [i, j].iter().find(|&&c| self.high_card[c]).map(|&c| {
                format!("column '{}' has more than {} distinct values", self.name(c), s.options.max_categories)
            });
            let (v, n) = if usable && hc.is_none() {
                let mut m: HashMap<(u64, u64), u64> = HashMap::new();
                for (a, b) in self.codes[i].iter().zip(&self.codes[j]) {
                    if let (Some(a), Some(b)) = (a, b) {
                        *m.entry((*a, *b)).or_insert(0) += 1;
                    }
                }
                let t = Table::from_pairs(m.iter());
                let n = t.cells.iter().sum::<u64>();
                (contingency::normalized_mi(&t), n)
            } else {
                (None, 0)
            };
            let why = hc.or_else(|| if v.is_none() { Some("a column is constant over the complete sample rows".into()) } else { None });
            out.push(finish(c, v, None, n, why));
        }
        out
    }

    /// The count table of pair k (i < j): exact, or rebuilt from the sample (flag true).
    pub(crate) fn table(&self, i: usize, j: usize, k: usize) -> (Option<Table>, bool) {
        match &self.s.pairs[k] {
            Counts::Exact(m) => (Some(Table::from_pairs(m.iter())), false),
            Counts::Overflow => {
                let m = self.sample_pairs(i, j);
                (Some(Table::from_pairs(m.iter())), !self.sample_exact)
            }
        }
    }

    /// Value-pair counts of (i, j) over the sample.
    pub(crate) fn sample_pairs(&self, i: usize, j: usize) -> HashMap<(u64, u64), u64> {
        let mut m = HashMap::new();
        for r in &self.sample {
            if let (Some(a), Some(b)) = (self.word(r, i), self.word(r, j)) {
                *m.entry((a, b)).or_insert(0) += 1;
            }
        }
        m
    }

    /// Exact pair counts (i < j) if kept.
    pub(crate) fn exact_pairs(&self, i: usize, j: usize) -> Option<&HashMap<(u64, u64), u64>> {
        match &self.s.pairs[pair_index(i, j, self.p())] {
            Counts::Exact(m) => Some(m),
            Counts::Overflow => None,
        }
    }

    /// Exact distinct count of column c, None beyond the cap.
    pub(crate) fn distinct(&self, c: usize) -> Option<usize> {
        match &self.s.col_counts[c] {
            Counts::Exact(m) => Some(m.len()),
            Counts::Overflow => None,
        }
    }

    /// Pearson r of numeric pair (i, j), when defined.
    pub(crate) fn pearson_r(&self, i: usize, j: usize) -> Option<f64> {
        let (a, b) = if i < j { (i, j) } else { (j, i) };
        let m = &self.s.pearson[pair_index(a, b, self.p())];
        if m.n >= 3.0 && m.m2x > 0.0 && m.m2y > 0.0 {
            Some((m.cxy / (m.m2x.sqrt() * m.m2y.sqrt())).clamp(-1.0, 1.0))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests;
